/*
 * capture.c: see capture.h.
 *
 * Non-immediate mode on purpose: immediate mode makes libpcap fall back to
 * TPACKET_V2 and wake us once per packet; a meter wants TPACKET_V3 blocks
 * with a short timeout (STYLE.md §14.5).  The tick, not packet arrival,
 * moves time on a quiet link, so the timeout only bounds latency.
 *
 * Non-blocking: pcap_dispatch() returns what the ring holds and never
 * sleeps; the event loop polls the selectable fd.  A handle whose interface
 * went down or away fails its next read (libpcap sees POLLERR with ENETDOWN
 * or ENODEV on the packet socket) and is closed by the caller; the struct
 * keeps the counters for the next handle.
 *
 * This file never logs: errors are left in c->err for the loop, which logs
 * once per change of state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "util.h"

void
capture_init(struct capture *c, const char *ifname, uint8_t idx)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->idx = idx;
	util_strlcpy(c->name, ifname, sizeof(c->name));
}

int
capture_open(struct capture *c, const struct capture_config *cfg)
{
	char	ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int	rc;

	ebuf[0] = '\0';
	c->err[0] = '\0';
	if (c->p != NULL)
		capture_close(c);
	if ((p = pcap_create(c->name, ebuf)) == NULL) {
		snprintf(c->err, sizeof(c->err), "%s: %s", c->name, ebuf);
		return -1;
	}
	/* Nanoseconds when the kernel has them (it does for AF_PACKET). */
	if (pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) != 0)
		(void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
	if (pcap_set_snaplen(p, cfg->snaplen) != 0 ||
	    pcap_set_promisc(p, cfg->promisc) != 0 ||
	    pcap_set_timeout(p, cfg->timeout_ms) != 0 ||
	    pcap_set_buffer_size(p, cfg->buffer_bytes) != 0) {
		snprintf(c->err, sizeof(c->err), "%s: cannot configure: %s",
		    c->name, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	rc = pcap_activate(p);
	if (rc < 0) {
		/* The generic errors carry their detail in pcap_geterr(). */
		int detail = rc == PCAP_ERROR || rc == PCAP_ERROR_PERM_DENIED ||
		    rc == PCAP_ERROR_NO_SUCH_DEVICE;

		snprintf(c->err, sizeof(c->err), "%s: %s%s%s", c->name,
		    pcap_statustostr(rc), detail ? ": " : "",
		    detail ? pcap_geterr(p) : "");
		pcap_close(p);
		return -1;
	}
	if (rc > 0)
		snprintf(c->err, sizeof(c->err), "%s: warning: %s: %s", c->name,
		    pcap_statustostr(rc), pcap_geterr(p));
	if (pcap_setnonblock(p, 1, ebuf) != 0 ||
	    (c->fd = pcap_get_selectable_fd(p)) < 0) {
		snprintf(c->err, sizeof(c->err), "%s: cannot poll: %s", c->name,
		    ebuf[0] != '\0' ? ebuf : "no selectable fd");
		pcap_close(p);
		c->fd = -1;
		return -1;
	}
	c->p = p;
	c->dlt = pcap_datalink(p);
	c->ts_nsec = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
	c->last_drop = c->last_ifdrop = 0;
	c->n_opens++;
	return 0;
}

/* Fold the handle's counters into the running totals before it goes. */
static void
capture_fold_stats(struct capture *c)
{
	struct pcap_stat st;

	if (c->p != NULL && pcap_stats(c->p, &st) == 0) {
		c->last_drop = st.ps_drop;
		c->last_ifdrop = st.ps_ifdrop;
	}
	c->n_drop_base += c->last_drop;
	c->n_ifdrop_base += c->last_ifdrop;
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
	if (n == PCAP_ERROR || n == PCAP_ERROR_BREAK) {
		snprintf(c->err, sizeof(c->err), "%s: %s", c->name,
		    n == PCAP_ERROR ? pcap_geterr(c->p) : "read interrupted");
		c->n_read_errors++;
		return -1;
	}
	if (n > 0)
		c->n_recv += (uint64_t)n;
	return n;
}

void
capture_drops(struct capture *c, uint64_t *drop, uint64_t *ifdrop)
{
	struct pcap_stat st;

	/*
	 * libpcap's TPACKET_V3 counters are cumulative for the handle (it
	 * adds the kernel's read-and-reset PACKET_STATISTICS each time).
	 */
	if (c->p != NULL && pcap_stats(c->p, &st) == 0) {
		c->last_drop = st.ps_drop;
		c->last_ifdrop = st.ps_ifdrop;
	}
	*drop = c->n_drop_base + c->last_drop;
	*ifdrop = c->n_ifdrop_base + c->last_ifdrop;
}
