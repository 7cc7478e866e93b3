/*
 * ctlsrv.c: what the daemon answers on its control socket.
 *
 * Each handler reads the daemon's state (it runs on the loop thread, so no
 * locking) and replies with records through control.c.  Requests that
 * change something (escalate, release, reload) are logged with the
 * caller's uid and pid; the escalation itself is an event in events.jsonl
 * with the uid, like a breach-triggered one.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "log.h"
#include "sensord.h"
#include "util.h"

static uint64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
kernel_drops(struct sensord *sd, uint64_t *drop, uint64_t *ifdrop)
{
	uint64_t d, i;
	size_t	 k;

	*drop = *ifdrop = 0;
	for (k = 0; k < sd->n_caps; k++) {
		capture_drops(&sd->caps[k], &d, &i);
		*drop += d;
		*ifdrop += i;
	}
}

static void
do_status(struct sensord *sd, struct ctl_reply *rep)
{
	struct ctlp_out	    *o;
	struct ft_stats	     fs;
	struct host_stats    hs;
	struct writer_stats  ws;
	struct flowlog_stats fls;
	uint64_t	     drop, ifdrop;
	size_t		     i;

	ft_get_stats(sd->ft, &fs);
	host_get_stats(sd->ht, &hs);
	writer_get_stats(sd->wr, &ws);
	flowlog_get_stats(sd->fl, &fls);
	kernel_drops(sd, &drop, &ifdrop);
	o = ctl_reply_record(rep);
	ctlp_str(o, "version", SENSORD_VERSION);
	ctlp_u64(o, "uptime_s", (wall_us() - sd->started_us) / 1000000u);
	ctlp_u64(o, "packets", sd->c.n_pkts);
	ctlp_u64(o, "ip_bytes", sd->c.n_ip_bytes);
	ctlp_u64(o, "packets_per_s", sd->pps);
	ctlp_u64(o, "kernel_drops", drop);
	ctlp_u64(o, "interface_drops", ifdrop);
	ctlp_u64(o, "flows_active", fs.n_active);
	ctlp_u64(o, "flows_capacity", fs.capacity);
	ctlp_u64(o, "flows_fill_pct",
	    fs.capacity ? fs.n_active * 100 / fs.capacity : 0);
	ctlp_u64(o, "flows_evicted", fs.n_evict);
	ctlp_u64(o, "flow_records", fs.n_records);
	ctlp_u64(o, "flowlog_dropped", fls.n_dropped);
	ctlp_u64(o, "flowlog_disk_bytes", fls.disk_bytes);
	ctlp_u64(
	    o, "flowlog_retention_bytes", sd->g->flows.log_retention_bytes);
	ctlp_u64(o, "hosts_tracked", hs.n_hosts);
	ctlp_u64(o, "hosts_capacity", hs.capacity);
	ctlp_u64(o, "hosts_evicted", hs.n_evicted);
	ctlp_u64(o, "hosts_refused", hs.n_refused);
	ctlp_u64(o, "hosts_escalated", esc_count(sd->esc, ESC_ESCALATED));
	ctlp_u64(o, "hosts_queued", esc_count(sd->esc, ESC_QUEUED));
	ctlp_u64(o, "breaches", sd->c.n_breaches);
	ctlp_u64(o, "capture_disk_bytes", ws.spool.bytes_on_disk);
	ctlp_u64(o, "capture_global_cap", sd->g->capture.global_cap_bytes);
	ctlp_u64(o, "capture_min_free", sd->g->capture.min_free_bytes);
	ctlp_u64(o, "capture_files", ws.spool.files);
	ctlp_u64(o, "writer_queue_drops", ws.drop_ring);
	ctlp_u64(o, "writer_queue_used", ws.ring_used);
	ctlp_u64(o, "writer_queue_size", ws.ring_cap);
	ctl_reply_commit(rep);
	for (i = 0; i < sd->n_caps; i++) {
		uint64_t		 d, id;
		static const char *const st[] = {
		    "starting", "down", "missing", "error", "capturing"};
		int s = sd->cap_state[i];

		capture_drops(&sd->caps[i], &d, &id);
		o = ctl_reply_record(rep);
		ctlp_str(o, "interface", sd->opt.ifaces[i]);
		ctlp_str(o, "link",
		    sd->caps[i].p != NULL ? "capturing"
					  : st[s >= 0 && s <= 4 ? s : 0]);
		ctlp_u64(o, "packets", sd->caps[i].n_recv);
		ctlp_u64(o, "kernel_drops", d);
		ctl_reply_commit(rep);
	}
	ctl_reply_ok(rep, NULL);
}

static void
host_record(
    struct sensord *sd, struct ctl_reply *rep, const uint8_t a[16], int detail)
{
	struct host_thr_view v[BL_MAX_THRESH];
	struct esc_host_info ei;
	struct host_info     hi;
	struct ctlp_out	    *o;
	char		     host[ADDR_STRLEN], key[48];
	size_t		     n, i;

	addr_fmt(a, host);
	esc_info(sd->esc, a, &ei);
	o = ctl_reply_record(rep);
	ctlp_str(o, "host", host);
	ctlp_str(o, "state", esc_state_name(ei.state));
	if (ei.state == ESC_ESCALATED || ei.state == ESC_COOLDOWN)
		ctlp_u64(o, "time_left_s",
		    ei.until_us > sd->now_us
			? (ei.until_us - sd->now_us) / 1000000u
			: 0);
	if (host_info(sd->ht, a, &hi) == 0) {
		ctlp_u64(o, "days_learned", hi.n_days);
		ctlp_str(o, "warmup", hi.in_warmup ? "yes" : "no");
		ctlp_u64(o, "dst_ports_today", (uint64_t)hi.day_dst_ports);
		ctlp_u64(o, "dst_ips_today", (uint64_t)hi.day_dst_ips);
		ctlp_u64(o, "protocols_month", hi.month_protocols);
		ctlp_u64(o, "conns_today", hi.day_conns);
		ctlp_u64(o, "bytes_out_today", hi.day_bytes_out);
		ctlp_u64(o, "bytes_in_today", hi.day_bytes_in);
		ctlp_u64(o, "beacons_known", hi.n_known_beacons);
	}
	ctlp_str(o, "policy", pol_lookup(sd->pol, a)->file);
	ctl_reply_commit(rep);
	if (!detail)
		return;
	n = host_thresholds(sd->ht, a, v, BL_MAX_THRESH);
	for (i = 0; i < n; i++) {
		o = ctl_reply_record(rep);
		ctlp_str(o, "host", host);
		ctlp_str(
		    o, "metric", bl_metric_name((enum bl_metric)v[i].metric));
		bl_window_name(v[i].window_s, key, sizeof(key));
		ctlp_str(o, "window", key);
		ctlp_str(o, "basis",
		    v[i].kind == BL_LEARNED ? "learned" : "absolute");
		/* Shares are fractions: report them in parts per million. */
		if (v[i].has_value)
			ctlp_u64(o,
			    bl_metric_is_share((enum bl_metric)v[i].metric)
				? "value_ppm"
				: "value",
			    (uint64_t)(v[i].value *
				(bl_metric_is_share((enum bl_metric)v[i].metric)
					? 1e6
					: 1.0)));
		if (v[i].active)
			ctlp_u64(o,
			    bl_metric_is_share((enum bl_metric)v[i].metric)
				? "threshold_ppm"
				: "threshold",
			    (uint64_t)(v[i].threshold *
				(bl_metric_is_share((enum bl_metric)v[i].metric)
					? 1e6
					: 1.0)));
		else
			ctlp_str(o, "threshold", "warming up");
		ctlp_str(o, "in_breach", v[i].in_breach ? "yes" : "no");
		ctl_reply_commit(rep);
	}
}

static void
do_hosts(struct sensord *sd, const struct ctlp_msg *req, struct ctl_reply *rep)
{
	static uint8_t list[4096][16];
	char	       host[ADDR_STRLEN];
	uint8_t	       a[16];
	size_t	       n, i;

	if (ctlp_get_str(req, "host", host, sizeof(host)) == 0) {
		if (addr_parse(host, a) != 0) {
			ctl_reply_error(rep, 1, "not an address: %s", host);
			return;
		}
		host_record(sd, rep, a, 1);
		ctl_reply_ok(rep, NULL);
		return;
	}
	n = host_list(sd->ht, list, sizeof(list) / sizeof(list[0]));
	for (i = 0; i < n; i++)
		host_record(sd, rep, list[i], 0);
	ctl_reply_ok(rep, NULL);
}

static void
do_escalate(struct sensord *sd, const struct ctl_peer *peer,
    const struct ctlp_msg *req, struct ctl_reply *rep, int release)
{
	char	 host[ADDR_STRLEN], reason[ESC_REASON_MAX], msg[256];
	uint64_t for_s = 0;
	uint8_t	 a[16];
	int	 rc;

	if (ctlp_get_str(req, "host", host, sizeof(host)) != 0 ||
	    addr_parse(host, a) != 0) {
		ctl_reply_error(rep, 1, "a host address is required");
		return;
	}
	if (release)
		rc = sd_release_manual(
		    sd, a, (uint32_t)peer->uid, msg, sizeof(msg));
	else {
		(void)ctlp_get_u64(req, "for_s", &for_s);
		if (ctlp_get_str(req, "reason", reason, sizeof(reason)) != 0)
			reason[0] = '\0';
		rc = sd_escalate_manual(sd, a, for_s * 1000000u,
		    (uint32_t)peer->uid, reason, msg, sizeof(msg));
	}
	log_info("control: %s %s by uid %u (pid %d): %s",
	    release ? "release" : "escalate", host, (unsigned)peer->uid,
	    (int)peer->pid, msg);
	if (rc != 0)
		ctl_reply_error(rep, 3, "%s: %s", host, msg);
	else {
		host_record(sd, rep, a, 0);
		ctl_reply_ok(rep, msg);
	}
}

static void
do_reload(
    struct sensord *sd, const struct ctl_peer *peer, struct ctl_reply *rep)
{
	struct perrs errs = {0};
	char	     msg[1024];
	size_t	     i, off = 0;

	log_info("control: reload by uid %u (pid %d)", (unsigned)peer->uid,
	    (int)peer->pid);
	if (sd_reload_policy(sd, &errs) == 0) {
		ctl_reply_ok(rep, "policy reloaded");
		perrs_free(&errs);
		return;
	}
	for (i = 0; i < errs.n; i++) {
		struct ctlp_out *o = ctl_reply_record(rep);

		ctlp_str(o, "file", errs.v[i].file);
		ctlp_u64(o, "line", (uint64_t)errs.v[i].line);
		ctlp_str(o, "error", errs.v[i].msg);
		ctl_reply_commit(rep);
	}
	off = (size_t)snprintf(msg, sizeof(msg),
	    "policy rejected (%zu "
	    "error%s); the old policy stays in force",
	    errs.n, errs.n == 1 ? "" : "s");
	(void)off;
	ctl_reply_error(rep, 3, "%s", msg);
	perrs_free(&errs);
}

static void
metric(struct ctl_reply *rep, const char *name, const char *type,
    const char *help, const char *labels, uint64_t v)
{
	struct ctlp_out *o = ctl_reply_record(rep);

	ctlp_str(o, "metric", name);
	ctlp_str(o, "type", type);
	ctlp_str(o, "help", help);
	if (labels != NULL)
		ctlp_str(o, "labels", labels);
	ctlp_u64(o, "value", v);
	ctl_reply_commit(rep);
}

static void
do_metrics(struct sensord *sd, struct ctl_reply *rep)
{
	struct ft_stats	     fs;
	struct host_stats    hs;
	struct writer_stats  ws;
	struct flowlog_stats fls;
	char		     lab[96];
	uint64_t	     drop, ifdrop;
	unsigned	     i;

	ft_get_stats(sd->ft, &fs);
	host_get_stats(sd->ht, &hs);
	writer_get_stats(sd->wr, &ws);
	flowlog_get_stats(sd->fl, &fls);
	kernel_drops(sd, &drop, &ifdrop);
	metric(rep, "sensord_packets_total", "counter", "Packets seen.", NULL,
	    sd->c.n_pkts);
	metric(rep, "sensord_ip_bytes_total", "counter",
	    "IP-layer bytes metered.", NULL, sd->c.n_ip_bytes);
	metric(rep, "sensord_kernel_drops_total", "counter",
	    "Packets the kernel dropped before sensord read them.", NULL, drop);
	for (i = 0; i < DEC__COUNT; i++) {
		snprintf(lab, sizeof(lab), "result=\"%s\"",
		    dec_result_name((enum dec_result)i));
		metric(rep, "sensord_decode_total", "counter",
		    "Packets by decoder result.", lab, sd->c.n_dec[i]);
	}
	metric(rep, "sensord_flows_active", "gauge",
	    "Conversations in the flow table.", NULL, fs.n_active);
	metric(rep, "sensord_flows_capacity", "gauge",
	    "Conversations the flow table holds.", NULL, fs.capacity);
	for (i = 1; i < END__COUNT; i++) {
		snprintf(lab, sizeof(lab), "reason=\"%s\"",
		    conv_reason_name((enum end_reason)i));
		metric(rep, "sensord_flow_records_total", "counter",
		    "Conversation records by end reason.", lab, fs.n_end[i]);
	}
	metric(rep, "sensord_flowlog_dropped_total", "counter",
	    "Flow records dropped: flow log queue full.", NULL, fls.n_dropped);
	metric(rep, "sensord_hosts_tracked", "gauge", "Hosts with a baseline.",
	    NULL, hs.n_hosts);
	metric(rep, "sensord_hosts_evicted_total", "counter",
	    "Hosts evicted from a full host table.", NULL, hs.n_evicted);
	metric(rep, "sensord_hosts_refused", "gauge",
	    "Distinct home hosts not tracked since start, estimated: the host "
	    "table was full of recently seen hosts.",
	    NULL, hs.n_refused);
	metric(rep, "sensord_host_refusals_total", "counter",
	    "Packets and conversation starts of home hosts not tracked.", NULL,
	    hs.n_refusals);
	metric(rep, "sensord_breaches_total", "counter", "Baseline breaches.",
	    NULL, sd->c.n_breaches);
	metric(rep, "sensord_hosts_escalated", "gauge",
	    "Hosts under full capture.", NULL,
	    esc_count(sd->esc, ESC_ESCALATED));
	metric(rep, "sensord_capture_disk_bytes", "gauge",
	    "Bytes of capture files on disk.", NULL, ws.spool.bytes_on_disk);
	metric(rep, "sensord_capture_files_deleted_total", "counter",
	    "Capture files deleted to stay under a cap.", NULL,
	    ws.spool.files_deleted);
	metric(rep, "sensord_writer_queue_drops_total", "counter",
	    "Capture packets dropped: writer queue full.", NULL, ws.drop_ring);
	ctl_reply_ok(rep, NULL);
}

/* ctl_handler_fn */
void
sd_ctl_handle(void *arg, const struct ctl_peer *peer,
    const struct ctlp_msg *req, struct ctl_reply *rep)
{
	struct sensord *sd = arg;

	switch (req->type) {
	case CTLP_REQ_STATUS:
		do_status(sd, rep);
		break;
	case CTLP_REQ_HOSTS:
		do_hosts(sd, req, rep);
		break;
	case CTLP_REQ_ESCALATE:
	case CTLP_REQ_RELEASE:
		if (!peer->privileged) {
			ctl_reply_error(rep, 3, "not allowed for uid %u",
			    (unsigned)peer->uid);
			break;
		}
		do_escalate(sd, peer, req, rep, req->type == CTLP_REQ_RELEASE);
		break;
	case CTLP_REQ_RELOAD:
		if (!peer->privileged) {
			ctl_reply_error(rep, 3, "not allowed for uid %u",
			    (unsigned)peer->uid);
			break;
		}
		do_reload(sd, peer, rep);
		break;
	case CTLP_REQ_METRICS:
		do_metrics(sd, rep);
		break;
	default:
		ctl_reply_error(rep, 2,
		    "%s is answered by sensorctl from the "
		    "state directory",
		    ctlp_type_name(req->type));
		break;
	}
}
