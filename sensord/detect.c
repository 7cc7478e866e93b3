/*
 * detect.c: from a baseline breach to an escalation, and every step into
 * STATEDIR/events.jsonl.
 *
 * The host table decides that a host breached; the policy decides what
 * may be done about it; the escalation table decides what is done (it may
 * be capped, queued or in cooldown).  A breach line is written with the
 * action actually taken, and the escalation events that follow it carry the
 * breach's event id as their trigger, so an analyst can walk from a capture
 * file back to the number that caused it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sensord.h"
#include "util.h"

#define MAX_PENDING 8

struct pending {
	struct esc_event ev[MAX_PENDING];
	int		 n;
};

static void
collect(void *arg, const struct esc_event *ev)
{
	struct pending *p = arg;

	if (p->n < MAX_PENDING)
		p->ev[p->n++] = *ev;
}

static const char *
esc_event_name(enum esc_event_type t)
{
	switch (t) {
	case ESC_EV_ESCALATE:
	case ESC_EV_EXTEND:
		return "escalate";
	case ESC_EV_DEESCALATE:
		return "deescalate";
	case ESC_EV_COOLDOWN_END:
		return "cooldown_end";
	case ESC_EV_QUEUED:
		return "queued";
	case ESC_EV_REFUSED:
	default:
		return "refused";
	}
}

static const char *
esc_action(const struct esc_event *ev)
{
	switch (ev->type) {
	case ESC_EV_ESCALATE:
		return "capture started";
	case ESC_EV_EXTEND:
		return "capture extended";
	case ESC_EV_DEESCALATE:
		return "capture stopped";
	case ESC_EV_COOLDOWN_END:
		return "may be escalated again";
	case ESC_EV_QUEUED:
		return "waiting: max_escalated reached";
	case ESC_EV_REFUSED:
	default:
		return "not captured: max_escalated reached and queue full";
	}
}

/* Write one escalation event and act on it (capture slots). */
static void
esc_apply(struct sensord *sd, const struct esc_event *ev)
{
	struct events_rec r;
	uint64_t	  id = 0;

	events_begin(&r, ev->ts_us, esc_event_name(ev->type));
	events_addr(&r, "host", ev->addr);
	events_str(&r, "action", esc_action(ev));
	if (ev->type == ESC_EV_ESCALATE || ev->type == ESC_EV_EXTEND)
		events_num(&r, "until", (double)ev->until_us / 1e6);
	if (ev->trigger_id != 0)
		events_uint(&r, "trigger", ev->trigger_id);
	if (ev->reason[0] != '\0')
		events_str(&r, "reason", ev->reason);
	if (ev->manual) {
		events_str(&r, "requested_by", "operator");
		events_uint(&r, "uid", ev->uid);
	}
	if (ev->slot >= 0)
		events_uint(&r, "slot", (uint64_t)ev->slot);
	if (events_end(sd->ev, &r, &id) != 0)
		log_state(&sd->ev_err_state, 1, "%s: events.jsonl write failed",
		    sd->opt.state_dir);
	sd_capture_event(sd, ev, id);
}

static void
esc_apply_all(struct sensord *sd, const struct pending *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		esc_apply(sd, &p->ev[i]);
}

/* host_emit_fn: a breach or a return to normal. */
void
sd_host_event(void *arg, const struct host_event *he)
{
	struct sensord	      *sd = arg;
	const struct pol_host *ph = pol_lookup(sd->pol, he->addr);
	struct esc_policy      ep;
	struct esc_request     rq;
	struct pending	       p;
	enum esc_result	       res = ESC_R_NOT_ESCALATED;
	const char	      *action = "none";
	char		       reason[ESC_REASON_MAX];
	uint64_t	       id = 0;
	int		       i, pct;

	memset(&p, 0, sizeof(p));
	if (he->is_breach) {
		sd->c.n_breaches++;
		polmap_esc(ph, &ep);
		/* value >= threshold is the breach; shares as percentages. */
		pct = bl_metric_is_share((enum bl_metric)he->metric);
		snprintf(reason, sizeof(reason), "%s.%s %.*f%s >= %.*f%s (%s)",
		    bl_metric_name((enum bl_metric)he->metric), he->window, pct,
		    pct ? he->value * 100 : he->value, pct ? "%" : "", pct,
		    pct ? he->threshold * 100 : he->threshold, pct ? "%" : "",
		    he->basis == BL_LEARNED ? "learned" : "absolute");
		memset(&rq, 0, sizeof(rq));
		rq.addr = he->addr;
		rq.pol = &ep;
		rq.now_us = he->ts_us;
		rq.reason = reason;
		rq.metric = bl_metric_name((enum bl_metric)he->metric);
		rq.value = he->value;
		rq.threshold = he->threshold;
		/* The breach line is written next; its id is the trigger. */
		rq.trigger_id = events_last_id(sd->ev) + 1;
		res = esc_request(sd->esc, &rq, collect, &p);
		switch (res) {
		case ESC_R_ESCALATED:
			action = "escalate";
			break;
		case ESC_R_EXTENDED:
			action = "escalation extended";
			break;
		case ESC_R_AT_MAX:
			action = "already escalated (at max_duration)";
			break;
		case ESC_R_QUEUED:
			action = "escalation queued (max_escalated)";
			break;
		case ESC_R_REFUSED:
			action = "escalation refused (max_escalated)";
			break;
		case ESC_R_FORBIDDEN:
			action = "logged: capture forbidden by policy";
			break;
		case ESC_R_COOLDOWN:
			action = "logged: host in cooldown";
			break;
		default:
			action = "none";
			break;
		}
	}
	if (events_write_host(sd->ev, he, action, &id) != 0)
		log_state(&sd->ev_err_state, 1, "%s: events.jsonl write failed",
		    sd->opt.state_dir);
	for (i = 0; i < p.n; i++)
		p.ev[i].trigger_id = id;
	esc_apply_all(sd, &p);
	if (he->is_breach && log_verbose()) {
		char a[ADDR_STRLEN];

		addr_fmt(he->addr, a);
		log_debug("breach: %s %s: %s", a, reason, action);
	}
}

void
sd_esc_tick(struct sensord *sd)
{
	struct pending p;

	memset(&p, 0, sizeof(p));
	esc_tick(sd->esc, sd->now_us, collect, &p);
	esc_apply_all(sd, &p);
}

void
sd_esc_stop_all(struct sensord *sd)
{
	struct pending p;

	memset(&p, 0, sizeof(p));
	esc_stop_all(sd->esc, sd->now_us, collect, &p);
	esc_apply_all(sd, &p);
}

int
sd_escalate_manual(struct sensord *sd, const uint8_t addr[16], uint64_t for_us,
    uint32_t uid, const char *why, char *msg, size_t msglen)
{
	const struct pol_host *ph = pol_lookup(sd->pol, addr);
	struct esc_policy      ep;
	struct esc_request     rq;
	struct pending	       p;
	enum esc_result	       res;

	memset(&p, 0, sizeof(p));
	polmap_esc(ph, &ep);
	memset(&rq, 0, sizeof(rq));
	rq.addr = addr;
	rq.pol = &ep;
	rq.now_us = sd->now_us;
	rq.for_us = for_us;
	rq.manual = 1;
	rq.uid = uid;
	rq.reason = why != NULL && why[0] != '\0' ? why : "manual request";
	res = esc_request(sd->esc, &rq, collect, &p);
	esc_apply_all(sd, &p);
	switch (res) {
	case ESC_R_ESCALATED:
		snprintf(msg, msglen, "escalated");
		return 0;
	case ESC_R_EXTENDED:
	case ESC_R_AT_MAX:
		snprintf(msg, msglen, "already escalated; deadline %s",
		    res == ESC_R_EXTENDED ? "extended" : "unchanged");
		return 0;
	case ESC_R_QUEUED:
		snprintf(msg, msglen,
		    "queued: max_escalated hosts are "
		    "already captured");
		return 0;
	case ESC_R_FORBIDDEN:
		snprintf(msg, msglen,
		    "refused: the policy (%s) forbids "
		    "capturing this host",
		    ph->file);
		return -1;
	default:
		snprintf(msg, msglen,
		    "refused: max_escalated reached and "
		    "the queue is full");
		return -1;
	}
}

int
sd_release_manual(struct sensord *sd, const uint8_t addr[16], uint32_t uid,
    char *msg, size_t msglen)
{
	struct pending p;

	memset(&p, 0, sizeof(p));
	if (esc_release(sd->esc, addr, sd->now_us, uid, collect, &p) !=
	    ESC_R_RELEASED) {
		snprintf(msg, msglen, "not escalated");
		return -1;
	}
	esc_apply_all(sd, &p);
	snprintf(msg, msglen, "released");
	return 0;
}
