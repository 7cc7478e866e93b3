/*
 * capwire.c: the capture side of the daemon.
 *
 * Escalation events become writer commands (open a host's capture with its
 * policy's limits and the trigger that caused it, close it); packets of
 * escalated hosts go to the writer's queue, optionally narrowed by the
 * host's BPF filter; hosts whose policy asks for a pre-trigger buffer keep
 * their last packets in a bounded ring that is written at the head of the
 * first capture file; writer events (file closed, suspended, resumed) go
 * to events.jsonl.
 *
 * Cost on the packet path when nothing is escalated and no policy asks
 * for a pre-trigger buffer: one branch.  Otherwise a scan of the escalated
 * slots (max_escalated, small) and, for pre-trigger hosts, one probe of a
 * small open-addressing table of watched addresses.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hll.h"
#include "log.h"
#include "sensord.h"
#include "util.h"

#define WATCH_EMPTY UINT32_MAX

/* Does any host policy (or the default) want a pre-trigger buffer? */
static int
any_pretrigger(const struct policy *pol, uint32_t *max_hosts)
{
	const struct pol_host *d = pol_default(pol);
	size_t		       i;
	int	 any = d->capture.pretrigger && d->capture.enabled;
	uint64_t smallest = d->capture.pretrigger_size_bytes;

	for (i = 0; i < pol_n_hosts(pol); i++) {
		const struct pol_host *h = pol_host_at(pol, i);

		if (h->capture.pretrigger && h->capture.enabled) {
			any = 1;
			if (h->capture.pretrigger_size_bytes < smallest)
				smallest = h->capture.pretrigger_size_bytes;
		}
	}
	if (smallest == 0)
		smallest = 1;
	*max_hosts =
	    (uint32_t)(pol_global(pol)->capture.pretrigger_memory_bytes /
		smallest);
	if (*max_hosts < 16)
		*max_hosts = 16;
	if (*max_hosts > 65536)
		*max_hosts = 65536;
	return any;
}

void
sd_capture_setup(struct sensord *sd)
{
	const struct pol_capture_global *cg = &sd->g->capture;
	struct writer_config		 wc;
	uint32_t			 max_hosts;

	writer_config_defaults(&wc);
	wc.spool.statedir = sd->opt.state_dir;
	wc.spool.max_slots = cg->max_escalated;
	wc.spool.global_cap = cg->global_cap_bytes;
	wc.spool.min_free = cg->min_free_bytes;
	wc.spool.zthreads = 2;
	wc.queue_bytes = (size_t)cg->queue_memory_bytes;
	/* Replay must be deterministic and lossless: no thread, no drops. */
	wc.is_inline = !sd->is_live;
	if ((sd->wr = writer_new(&wc)) == NULL)
		fatal("%s/captures: capture writer", sd->opt.state_dir);
	sd->filters = calloc(cg->max_escalated, sizeof(*sd->filters));
	sd->has_filter = calloc(cg->max_escalated, 1);
	if (sd->filters == NULL || sd->has_filter == NULL)
		fatal("capture filters");
	if (any_pretrigger(sd->pol, &max_hosts)) {
		sd->pt =
		    pretrig_new(max_hosts, (size_t)cg->pretrigger_memory_bytes);
		sd->watch_cap = 1;
		while (sd->watch_cap < max_hosts * 2)
			sd->watch_cap <<= 1;
		sd->watch = calloc(sd->watch_cap, sizeof(*sd->watch));
		if (sd->pt == NULL || sd->watch == NULL)
			fatal("pre-trigger buffer");
		sd->watch_max = max_hosts;
	}
	sd_capture_drain_events(sd); /* start-up recovery events */
}

void
sd_capture_teardown(struct sensord *sd)
{
	uint32_t i;

	if (sd->wr == NULL)
		return;
	writer_shutdown(sd->wr);
	sd_capture_drain_events(sd);
	writer_free(sd->wr);
	sd->wr = NULL;
	for (i = 0; i < sd->g->capture.max_escalated; i++)
		if (sd->has_filter[i])
			pcap_freecode(&sd->filters[i]);
	free(sd->filters);
	free(sd->has_filter);
	pretrig_free(sd->pt);
	free(sd->watch);
}

/* The pre-trigger slot of a watched address, creating it when allowed. */
static uint32_t
watch_slot(struct sensord *sd, const uint8_t addr[16])
{
	uint64_t h = hll_hash(sd->seed64, addr, 16);
	size_t	 mask = sd->watch_cap - 1, i = (size_t)h & mask, n;

	for (n = 0; n < sd->watch_cap; n++, i = (i + 1) & mask) {
		struct sd_watch	      *w = &sd->watch[i];
		const struct pol_host *ph;

		if (w->used && memcmp(w->addr, addr, 16) == 0)
			return w->slot;
		if (w->used)
			continue;
		/* A new local address: decide once whether it is watched. */
		if (sd->watch_used >= sd->watch_max)
			return WATCH_EMPTY;
		w->used = 1;
		memcpy(w->addr, addr, 16);
		w->slot = WATCH_EMPTY;
		ph = pol_lookup(sd->pol, addr);
		if (ph->capture.pretrigger && ph->capture.enabled &&
		    pretrig_enable(sd->pt, sd->watch_used,
			(size_t)ph->capture.pretrigger_size_bytes,
			ph->capture.pretrigger_time_ms * 1000000u,
			ph->capture.snaplen) == 0)
			w->slot = sd->watch_used;
		sd->watch_used++;
		return w->slot;
	}
	return WATCH_EMPTY;
}

static void
pretrig_one(struct sensord *sd, const uint8_t addr[16], uint64_t ts_ns,
    const uint8_t *pkt, uint32_t caplen, uint32_t wirelen)
{
	uint32_t slot;

	if (!host_is_local(sd->ht, addr))
		return;
	if ((slot = watch_slot(sd, addr)) != WATCH_EMPTY)
		(void)pretrig_push(sd->pt, slot, ts_ns, pkt, caplen, wirelen);
}

static void
submit(struct sensord *sd, int slot, uint64_t ts_ns, const uint8_t *pkt,
    uint32_t caplen, uint32_t wirelen)
{
	if (sd->has_filter[slot]) {
		struct pcap_pkthdr h;

		memset(&h, 0, sizeof(h));
		h.caplen = caplen;
		h.len = wirelen;
		if (pcap_offline_filter(&sd->filters[slot], &h, pkt) == 0)
			return;
	}
	(void)writer_submit_pkt(
	    sd->wr, (uint32_t)slot, ts_ns, pkt, caplen, wirelen);
}

/*
 * An escalated address is not buffered: its packets are in its capture
 * already, and a later escalation (after a cooldown shorter than
 * pretrigger_time) must not write them a second time.  The buffer was
 * emptied when the capture began, so it refills from the deescalation on.
 */
void
sd_capture_packet(struct sensord *sd, const struct pktinfo *pi,
    const uint8_t *pkt, uint32_t caplen, uint32_t wirelen, uint64_t ts_ns)
{
	int s = -1, d = -1;

	if (esc_any(sd->esc)) {
		s = esc_slot(sd->esc, pi->src);
		d = esc_slot(sd->esc, pi->dst);
		if (s >= 0)
			submit(sd, s, ts_ns, pkt, caplen, wirelen);
		if (d >= 0 && d != s)
			submit(sd, d, ts_ns, pkt, caplen, wirelen);
	}
	if (sd->pt != NULL) {
		if (s < 0)
			pretrig_one(sd, pi->src, ts_ns, pkt, caplen, wirelen);
		if (d < 0)
			pretrig_one(sd, pi->dst, ts_ns, pkt, caplen, wirelen);
	}
}

/* Compile the host's BPF filter for its capture slot. */
static void
slot_filter(
    struct sensord *sd, int slot, const struct pol_host *ph, const char *host)
{
	pcap_t *dead;

	if (sd->has_filter[slot]) {
		pcap_freecode(&sd->filters[slot]);
		sd->has_filter[slot] = 0;
	}
	if (ph->capture.filter[0] == '\0')
		return;
	if ((dead = pcap_open_dead(sd->dlt, (int)ph->capture.snaplen)) == NULL)
		return;
	if (pcap_compile(dead, &sd->filters[slot], ph->capture.filter, 1,
		PCAP_NETMASK_UNKNOWN) == 0)
		sd->has_filter[slot] = 1;
	else
		log_warnx("%s: capture filter \"%s\" (%s): %s; capturing "
			  "unfiltered",
		    host, ph->capture.filter, ph->file, pcap_geterr(dead));
	pcap_close(dead);
}

/*
 * Keep the snapshot's packets that pass the slot's filter, in place (the
 * records only move towards the start): the pre-trigger buffer holds every
 * packet of the host, the capture only those its policy asks for.  NULL
 * when none is left.
 */
static struct pretrig_snap *
snap_filter(struct bpf_program *prog, struct pretrig_snap *s)
{
	struct pretrig_pkt p;
	struct pcap_pkthdr h;
	size_t		   off = 0, at = 0, out = 0;
	uint32_t	   n = 0;

	for (;;) {
		at = off;
		if (!pretrig_snap_next(s, &off, &p))
			break;
		memset(&h, 0, sizeof(h));
		h.caplen = p.caplen;
		h.len = p.wirelen;
		if (pcap_offline_filter(prog, &h, p.data) == 0)
			continue;
		if (out != at)
			memmove(s->data + out, s->data + at, off - at);
		out += off - at;
		n++;
	}
	if (n == 0) {
		pretrig_snap_free(s);
		return NULL;
	}
	s->len = out;
	s->n_pkts = n;
	return s;
}

void
sd_capture_event(
    struct sensord *sd, const struct esc_event *ev, uint64_t event_id)
{
	const struct pol_host *ph;
	struct spool_limits    lim;
	struct spool_trigger   trig;
	struct pretrig_snap   *pre = NULL;
	char		       host[ADDR_STRLEN];
	uint32_t	       ws;

	if (sd->wr == NULL || ev->slot < 0)
		return;
	addr_fmt(ev->addr, host);
	if (ev->type == ESC_EV_DEESCALATE) {
		if (writer_close_host(sd->wr, (uint32_t)ev->slot) != 0)
			log_warn("%s: closing capture", host);
		return;
	}
	if (ev->type != ESC_EV_ESCALATE)
		return;
	ph = pol_lookup(sd->pol, ev->addr);
	memset(&lim, 0, sizeof(lim));
	lim.file_size = ph->capture.file_size_bytes;
	lim.host_cap = ph->capture.host_cap_bytes;
	lim.rotate_ns = ph->capture.rotate_interval_ms * 1000000u;
	lim.snaplen = ph->capture.snaplen;
	lim.linktype = (uint32_t)sd->dlt;
	lim.level = (int)ph->capture.compression;
	lim.is_nsec = ph->capture.timestamps == POL_TS_NSEC;
	memset(&trig, 0, sizeof(trig));
	trig.event_id = ev->trigger_id != 0 ? ev->trigger_id : event_id;
	util_strlcpy(trig.reason, ev->reason, sizeof(trig.reason));
	util_strlcpy(trig.metric, ev->metric, sizeof(trig.metric));
	trig.value = ev->value;
	trig.threshold = ev->threshold;
	slot_filter(sd, ev->slot, ph, host);
	if (sd->pt != NULL && (ws = watch_slot(sd, ev->addr)) != WATCH_EMPTY)
		pre = pretrig_take(sd->pt, ws, sd->now_us * 1000u);
	if (pre != NULL && sd->has_filter[ev->slot])
		pre = snap_filter(&sd->filters[ev->slot], pre);
	if (writer_open_host(
		sd->wr, (uint32_t)ev->slot, ev->addr, &lim, &trig, pre) != 0)
		log_warn("%s: starting capture", host);
}

static const char *
why_name(enum spool_why w)
{
	switch (w) {
	case SPOOL_WHY_ROTATE_SIZE:
		return "file_size";
	case SPOOL_WHY_ROTATE_TIME:
		return "rotate_interval";
	case SPOOL_WHY_CLOSE:
		return "capture ended";
	case SPOOL_WHY_HOST_CAP:
		return "host_cap";
	case SPOOL_WHY_GLOBAL_CAP:
		return "global_cap";
	case SPOOL_WHY_MIN_FREE:
		return "min_free";
	case SPOOL_WHY_WRITE_ERROR:
		return "write error";
	case SPOOL_WHY_NONE:
	default:
		return "none";
	}
}

/* Writer events into events.jsonl (and the log, once per state change). */
void
sd_capture_drain_events(struct sensord *sd)
{
	struct spool_event se;
	struct events_rec  r;
	char		   host[ADDR_STRLEN], hex[2 * SHA256_LEN + 1];
	unsigned	   i;
	int		   n = 0;

	/* Bounded: at most a few hundred per call, the rest next tick. */
	while (n++ < 512 && writer_next_event(sd->wr, &se) == 1) {
		const char *type;

		addr_fmt(se.addr, host);
		switch (se.type) {
		case SPOOL_EV_FILE_CLOSED:
			type = "capture_file";
			break;
		case SPOOL_EV_FILE_DELETED:
			type = "capture_deleted";
			break;
		case SPOOL_EV_SUSPENDED:
			type = "suspend";
			log_warnx("%s: capture suspended (%s%s%s)", host,
			    why_name(se.why), se.err ? ": " : "",
			    se.err ? strerror(se.err) : "");
			break;
		case SPOOL_EV_RESUMED:
			type = "resume";
			log_info("%s: capture resumed; %llu packets dropped "
				 "meanwhile",
			    host, (unsigned long long)se.dropped);
			break;
		case SPOOL_EV_WRITE_ERROR:
			type = "capture_error";
			break;
		case SPOOL_EV_RECOVERED:
			type = "capture_recovered";
			log_info("%s: recovered after a crash", se.name);
			break;
		case SPOOL_EV_QUARANTINED:
		default:
			type = "capture_quarantined";
			log_warnx("%s: set aside at start-up", se.name);
			break;
		}
		events_begin(&r, sd->now_us, type);
		if (se.slot != SPOOL_NO_SLOT || se.type == SPOOL_EV_FILE_CLOSED)
			events_addr(&r, "host", se.addr);
		if (se.name[0] != '\0')
			events_str(&r, "file", se.name);
		if (se.why != SPOOL_WHY_NONE)
			events_str(&r, "why", why_name(se.why));
		if (se.err != 0)
			events_str(&r, "error", strerror(se.err));
		if (se.type == SPOOL_EV_FILE_CLOSED) {
			for (i = 0; i < SHA256_LEN; i++)
				snprintf(hex + 2 * i, 3, "%02x", se.sha256[i]);
			events_str(&r, "sha256", hex);
			events_uint(&r, "packets", se.packets);
			events_uint(&r, "bytes", se.bytes_raw);
			events_uint(&r, "bytes_disk", se.bytes_disk);
		}
		if (se.type == SPOOL_EV_RESUMED)
			events_uint(&r, "dropped", se.dropped);
		events_str(&r, "action",
		    se.type == SPOOL_EV_SUSPENDED
			? "capture suspended; metering goes on"
			: "none");
		if (events_end(sd->ev, &r, NULL) != 0)
			log_state(&sd->ev_err_state, 1,
			    "%s: events.jsonl write failed", sd->opt.state_dir);
	}
}

void
sd_capture_tick(struct sensord *sd)
{
	if (sd->wr == NULL)
		return;
	(void)writer_tick(sd->wr, sd->now_us * 1000u);
	sd_capture_drain_events(sd);
}
