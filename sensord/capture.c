/*
 * capture.c: see capture.h.
 *
 * Non-immediate mode on purpose: immediate mode makes libpcap fall back to
 * TPACKET_V2 and wake us once per packet; a meter wants TPACKET_V3 blocks
 * with a short timeout (STYLE.md §14.5).  The tick, not packet arrival,
 * moves time on a quiet link, so the timeout only bounds latency.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "util.h"

int
capture_open(struct capture *c, const char *ifname, uint8_t idx,
    const struct capture_config *cfg, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int rc;

	ebuf[0] = '\0';
	c->p = NULL;
	c->fd = -1;
	c->idx = idx;
	util_strlcpy(c->name, ifname, sizeof(c->name));
	if ((p = pcap_create(ifname, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", ifname, ebuf);
		return -1;
	}
	if (pcap_set_snaplen(p, cfg->snaplen) != 0 ||
	    pcap_set_promisc(p, cfg->promisc) != 0 ||
	    pcap_set_timeout(p, cfg->timeout_ms) != 0 ||
	    pcap_set_buffer_size(p, cfg->buffer_bytes) != 0 ||
	    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) != 0) {
		snprintf(err, errlen, "%s: cannot configure: %s", ifname,
		    pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	rc = pcap_activate(p);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s%s%s", ifname,
		    pcap_statustostr(rc),
		    rc == PCAP_ERROR || rc == PCAP_ERROR_PERM_DENIED ? ": " : "",
		    rc == PCAP_ERROR || rc == PCAP_ERROR_PERM_DENIED ?
		    pcap_geterr(p) : "");
		pcap_close(p);
		return -1;
	}
	if (pcap_setnonblock(p, 1, ebuf) != 0 ||
	    (c->fd = pcap_get_selectable_fd(p)) < 0) {
		snprintf(err, errlen, "%s: cannot poll: %s", ifname, ebuf);
		pcap_close(p);
		c->fd = -1;
		return -1;
	}
	c->p = p;
	c->dlt = pcap_datalink(p);
	c->last_drop = c->last_ifdrop = 0;
	return 0;
}

/* Fold the handle's counters into the running totals before it goes. */
static void
capture_fold_stats(struct capture *c)
{
	struct pcap_stat st;

	if (c->p != NULL && pcap_stats(c->p, &st) == 0) {
		c->n_drop_base += st.ps_drop;
		c->n_ifdrop_base += st.ps_ifdrop;
	}
	c->last_drop = c->last_ifdrop = 0;
}

void
capture_close(struct capture *c)
{
	if (c->p == NULL)
		return;
	capture_fold_stats(c);
	pcap_close(c->p);
	c->p = NULL;
	c->fd = -1;
}

int
capture_dispatch(struct capture *c, int budget, pcap_handler cb, u_char *user)
{
	int n;

	if (c->p == NULL)
		return 0;
	n = pcap_dispatch(c->p, budget, cb, user);
	if (n == PCAP_ERROR || n == PCAP_ERROR_BREAK)
		return -1;
	if (n > 0)
		c->n_recv += (uint64_t)n;
	return n;
}

void
capture_drops(struct capture *c, uint64_t *drop, uint64_t *ifdrop)
{
	struct pcap_stat st;

	if (c->p != NULL && pcap_stats(c->p, &st) == 0) {
		c->last_drop = st.ps_drop;
		c->last_ifdrop = st.ps_ifdrop;
	}
	*drop = c->n_drop_base + c->last_drop;
	*ifdrop = c->n_ifdrop_base + c->last_ifdrop;
}
