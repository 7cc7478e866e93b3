/*
 * pipeline.c: the packet path and the tick, shared by live capture and
 * offline replay.
 *
 * One packet: count it, decode it, meter it into the conversation table.
 * No allocation, no logging, no system calls: everything that can be slow
 * (compression, disk) sits behind a queue owned by another thread.
 *
 * Batching: decoded packets are metered SD_BATCH at a time
 * (ft_packet_batch), which lets the flow table overlap the cache misses of
 * their lookups instead of paying them one after the other: with a million
 * live conversations that is the difference between ~700 and ~200 ns a
 * packet.  The batch is
 * flushed before every tick and at the end of every capture read, so no
 * packet waits for metering longer than one pcap_dispatch() call.
 *
 * Time: flow time is packet time.  Whenever a packet's time crosses a 1 s
 * boundary the tick runs first (expiry, detectors, rotation), so replaying
 * a trace gives the results of living through it.  A jump forward (a trace
 * made of two captures years apart) runs one tick at the new time, not one
 * per second skipped.  Older packets (out of order) do not move the clock.
 */
#include <string.h>

#include "log.h"
#include "sensord.h"

/* Ticks replayed through a gap: covers the default flow timeouts. */
#define SD_CATCHUP_TICKS 120

static enum sd_proto
proto_bucket(uint8_t proto)
{
	switch (proto) {
	case 6:
		return SD_P_TCP;
	case 17:
		return SD_P_UDP;
	case 1:
		return SD_P_ICMP;
	case 58:
		return SD_P_ICMP6;
	case 132:
		return SD_P_SCTP;
	default:
		return SD_P_OTHER;
	}
}

/*
 * 1-in-N packet sampling for metering (sFlow's idea, NetFlow's
 * "deterministic" mode): systematic count-based, every Nth IP packet, which
 * is exactly what the exporters announce (v9 SAMPLING_ALGORITHM 1, PSAMP
 * samplingPacketInterval 1 / samplingPacketSpace N-1), so a collector
 * scales by the right model.  Counts are scaled by N once, for the flow
 * log and the detectors; exporters send the metered counts.
 */
static int
sample_skip(struct sensord *sd)
{
	if (sd->opt.sample_n <= 1)
		return 0;
	if (++sd->sample_ctr >= sd->opt.sample_n)
		sd->sample_ctr = 0;
	return sd->sample_ctr != 0;
}

/* Our own export datagrams are never metered (no feedback loop). */
static int
is_own_export(const struct sensord *sd, const struct pktinfo *pi)
{
	size_t i;

	for (i = 0; i < sd->n_xp; i++)
		if (xp_is_own_packet(sd->xp[i], pi))
			return 1;
	return 0;
}

void
sd_packet(struct sensord *sd, const uint8_t *pkt, uint32_t caplen,
    uint32_t wirelen, uint64_t ts_ns)
{
	struct pktinfo *pi;
	uint64_t	ts_us = ts_ns / 1000;
	enum dec_result r;

	sd->c.n_pkts++;
	sd->c.n_wire_bytes += wirelen;
	if (!sd->xp_started)
		sd_clock_start(sd, ts_us);
	if (ts_us >= sd->next_tick_us) {
		int n;

		/*
		 * After a quiet spell, first the ticks the spell skipped (up to
		 * SD_CATCHUP_TICKS): timeouts fire and detectors decide at the
		 * flow time they would have live, not once the windows moved
		 * on.  A longer gap (a trace made of two captures years apart)
		 * costs at most that many ticks.
		 */
		for (n = 0; n < SD_CATCHUP_TICKS &&
		     sd->next_tick_us + 1000000 <= ts_us;
		     n++)
			sd_tick(sd, sd->next_tick_us);
		sd_tick(sd, ts_us);
	}
	if (ts_us > sd->now_us)
		sd->now_us = ts_us;

	if (sd->iface != sd->batch_iface)
		sd_batch_flush(sd);
	pi = &sd->batch[sd->n_batch];
	r = dec_packet(sd->dlt, pkt, caplen, wirelen, ts_us, pi);
	sd->c.n_dec[r]++;
	if (!(pi->flags & PI_HAS_L3))
		return;
	sd->c.n_ip_pkts++;
	sd->c.n_ip_bytes += pi->ip_len;
	sd->c.n_proto[proto_bucket(pi->proto)]++;
	if (pi->family == 4)
		sd->c.n_v4++;
	else
		sd->c.n_v6++;

	/* Capture sees every packet of an escalated host, sampled or not. */
	if (sd->pt != NULL || esc_any(sd->esc))
		sd_capture_packet(sd, pi, pkt, caplen, wirelen, ts_ns);
	if (sd->n_xp != 0 && pi->proto == 17 && is_own_export(sd, pi))
		return;
	host_packet(sd->ht, pi, ts_us);
	if (sample_skip(sd)) {
		sd->c.n_sampled_out++;
		return;
	}
	sd->batch_iface = sd->iface;
	if (++sd->n_batch == SD_BATCH)
		sd_batch_flush(sd);
}

void
sd_batch_flush(struct sensord *sd)
{
	if (sd->n_batch == 0)
		return;
	ft_packet_batch(sd->ft, sd->batch, sd->n_batch, sd->batch_iface);
	sd->n_batch = 0;
}

/* The first host refused by a full host table: one line per run. */
static void
sd_hosts_full_check(struct sensord *sd)
{
	struct host_stats hs;
	char		  budget[32];

	if (sd->hosts_full_logged)
		return;
	host_get_stats(sd->ht, &hs);
	if (hs.n_refusals == 0)
		return;
	sd->hosts_full_logged = 1;
	pol_fmt_size(sd->g->host_table_memory_bytes, budget, sizeof(budget));
	log_warnx("host table full: all %llu hosts were seen in the last "
		  "%d minutes; new home hosts are not tracked (counted in "
		  "hosts_refused; host_table_memory = %s holds %llu)",
	    (unsigned long long)hs.n_hosts, HOST_EVICT_IDLE_S / 60, budget,
	    (unsigned long long)hs.capacity);
}

void
sd_tick(struct sensord *sd, uint64_t now_us)
{
	size_t i;

	sd_batch_flush(sd);
	if (now_us > sd->now_us)
		sd->now_us = now_us;
	sd->next_tick_us = (sd->now_us / 1000000 + 1) * 1000000;
	sd->c.n_ticks++;
	sd->pps = sd->c.n_pkts - sd->pps_last_pkts;
	sd->pps_last_pkts = sd->c.n_pkts;
	ft_expire(sd->ft, sd->now_us);
	host_tick(sd->ht, sd->now_us, sd_host_event, sd);
	sd_hosts_full_check(sd);
	sd_esc_tick(sd);
	sd_capture_tick(sd);
	flowlog_tick(sd->fl, sd->now_us);
	for (i = 0; i < sd->n_xp; i++)
		xp_tick(sd->xp[i], sd->now_us);
}

void
sd_flush(struct sensord *sd, enum end_reason why)
{
	size_t i;

	sd_batch_flush(sd);
	/* The final records must all reach the disk, live or not. */
	flowlog_set_lossless(sd->fl, 1);
	ft_flush(sd->ft, why);
	/* The last records may complete a breach; then every capture ends. */
	host_tick(sd->ht, sd->now_us, sd_host_event, sd);
	sd_hosts_full_check(sd);
	sd_esc_stop_all(sd);
	for (i = 0; i < sd->n_xp; i++)
		xp_flush(sd->xp[i], sd->now_us);
	flowlog_sync(sd->fl);
}

void
sd_clock_start(struct sensord *sd, uint64_t first_us)
{
	size_t i;
	char   t[128];

	sd->xp_started = 1;
	sd->first_us = first_us;
	for (i = 0; i < sd->n_xp; i++) {
		sd->xpcfg[i].enc.start_us = first_us;
		if ((sd->xp[i] = xp_new(&sd->xpcfg[i])) == NULL) {
			xp_format_target(&sd->xpcfg[i], t, sizeof(t));
			fatal("export to %s", t);
		}
	}
}

/*
 * Record sinks of the flow table.  With 1-in-N sampling the counts are
 * scaled here, once, so the flow log and the detectors see the same
 * estimate of the real traffic.  The exporters get the counts as metered:
 * they announce the interval (v5 header, v9/IPFIX sampling options) and a
 * collector scales by it (nfdump does), so scaled counts would be counted
 * N times over.
 */
static void
sd_conv_start(void *arg, const struct convrec *cr)
{
	struct sensord *sd = arg;

	host_conv_start(sd->ht, cr, sd->now_us);
}

static void
sd_conv_record(void *arg, const struct convrec *cr)
{
	struct sensord	     *sd = arg;
	const struct convrec *metered = cr;
	struct convrec	      scaled;
	size_t		      i;

	if (sd->opt.sample_n > 1) {
		scaled = *cr;
		scaled.fwd.pkts *= sd->opt.sample_n;
		scaled.fwd.bytes *= sd->opt.sample_n;
		scaled.rev.pkts *= sd->opt.sample_n;
		scaled.rev.bytes *= sd->opt.sample_n;
		cr = &scaled;
	}
	flowlog_write(sd->fl, cr);
	for (i = 0; i < sd->n_xp; i++)
		xp_record(sd->xp[i], metered, sd->now_us);
	host_conv_record(sd->ht, cr, sd->now_us);
}

void
sd_ft_sink(struct sensord *sd, struct ft_sink *sink)
{
	sink->conv_start = sd_conv_start;
	sink->conv_record = sd_conv_record;
	sink->arg = sd;
}
