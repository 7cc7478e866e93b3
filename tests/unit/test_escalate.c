/* Unit tests for the escalation state machine (escalate.c). */
#include <string.h>

#include "escalate.h"
#include "t.h"
#include "util.h"

#define S 1000000ull

struct rec {
	int n;
	struct esc_event ev[64];
};

static void
record(void *arg, const struct esc_event *ev)
{
	struct rec *r = arg;

	if (r->n < 64)
		r->ev[r->n++] = *ev;
}

static void
addr(uint8_t a[16], const char *s)
{
	addr_parse(s, a);
}

int
main(void)
{
	struct esc_policy pol = { 1, 600 * S, 1800 * S, 300 * S };
	struct esc_policy forbid = { 0, 600 * S, 1800 * S, 300 * S };
	struct esc_table *et = esc_new(2, 1);
	struct esc_host_info info;
	struct esc_request rq;
	struct rec r;
	uint8_t a[16], b[16], c[16], d[16];

	memset(&r, 0, sizeof(r));
	addr(a, "10.0.0.1");
	addr(b, "10.0.0.2");
	addr(c, "2001:db8::3");
	addr(d, "10.0.0.4");
	T_OK(et != NULL, "esc_new");
	T_EQ_INT(esc_any(et), 0, "nothing escalated at start");
	T_EQ_INT(esc_slot(et, a), -1, "no slot at start");

	memset(&rq, 0, sizeof(rq));
	rq.addr = a;
	rq.pol = &pol;
	rq.now_us = 1000 * S;
	rq.reason = "dst_ports.10m 812 > 500";
	rq.trigger_id = 7;
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_ESCALATED,
	    "breach escalates");
	T_EQ_INT(r.n, 1, "one event");
	T_EQ_INT(r.ev[0].type, ESC_EV_ESCALATE, "escalate event");
	T_EQ_U64(r.ev[0].until_us, 1600 * S, "deadline = now + duration");
	T_EQ_INT(r.ev[0].trigger_id, 7, "trigger id carried");
	T_EQ_STR(r.ev[0].reason, "dst_ports.10m 812 > 500", "reason carried");
	T_OK(esc_slot(et, a) >= 0, "escalated host has a slot");
	T_EQ_INT(esc_slot(et, b), -1, "other host has none");

	/* A new breach extends, but never past max_duration. */
	rq.now_us = 1500 * S;
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_EXTENDED, "extend");
	esc_info(et, a, &info);
	T_EQ_U64(info.until_us, 2100 * S, "extended to now + duration");
	rq.now_us = 2500 * S;	/* past the deadline, before the tick */
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_EXTENDED,
	    "extend again");
	esc_info(et, a, &info);
	T_EQ_U64(info.until_us, 2800 * S, "capped at began + max_duration");
	rq.now_us = 2700 * S;
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_AT_MAX,
	    "no extension past max");

	/* Forbidden by policy: never escalated. */
	rq.addr = b;
	rq.pol = &forbid;
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_FORBIDDEN,
	    "capture forbidden");
	T_EQ_INT(esc_slot(et, b), -1, "forbidden host has no slot");

	/* Cap of 2 escalated, queue of 1, then refused. */
	rq.pol = &pol;
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_ESCALATED,
	    "second host escalates");
	T_EQ_INT(esc_count(et, ESC_ESCALATED), 2, "two escalated");
	rq.addr = c;
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_QUEUED,
	    "third host queued at the cap");
	rq.addr = d;
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_REFUSED,
	    "fourth refused: queue full");
	T_EQ_INT(r.ev[r.n - 1].type, ESC_EV_REFUSED, "refused event");

	/* Deadline: a goes to cooldown, c gets its slot. */
	r.n = 0;
	esc_tick(et, 2800 * S, record, &r);
	esc_info(et, a, &info);
	T_EQ_INT(info.state, ESC_COOLDOWN, "a in cooldown after deadline");
	T_EQ_INT(esc_slot(et, a), -1, "a lost its slot");
	T_OK(esc_slot(et, c) >= 0, "queued c now escalated");
	T_EQ_INT(r.n, 2, "deescalate + escalate events");
	T_EQ_INT(r.ev[0].type, ESC_EV_DEESCALATE, "deescalate first");
	T_EQ_INT(r.ev[1].type, ESC_EV_ESCALATE, "then escalate of c");

	/* Cooldown: a breach does not escalate again; an operator can. */
	rq.addr = a;
	rq.now_us = 2900 * S;
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_COOLDOWN,
	    "breach during cooldown only logged");
	esc_tick(et, 3100 * S, record, &r);
	esc_info(et, a, &info);
	T_EQ_INT(info.state, ESC_NORMAL, "cooldown over");
	T_EQ_INT(r.ev[r.n - 1].type, ESC_EV_COOLDOWN_END, "cooldown end event");

	/* Manual release of b. */
	T_EQ_INT(esc_release(et, b, 3200 * S, 1000, record, &r),
	    ESC_R_RELEASED, "release");
	T_EQ_INT(esc_slot(et, b), -1, "released host has no slot");
	T_EQ_INT(esc_release(et, d, 3200 * S, 1000, record, &r),
	    ESC_R_NOT_ESCALATED, "release of a normal host");

	/* Manual escalation with its own duration. */
	rq.addr = d;
	rq.manual = 1;
	rq.uid = 1000;
	rq.for_us = 60 * S;
	rq.now_us = 3300 * S;
	T_EQ_INT(esc_request(et, &rq, record, &r), ESC_R_ESCALATED,
	    "manual escalation");
	esc_info(et, d, &info);
	T_EQ_U64(info.until_us, 3360 * S, "manual duration");
	T_EQ_INT(info.manual, 1, "marked manual");

	r.n = 0;
	esc_stop_all(et, 3301 * S, record, &r);
	T_EQ_INT(esc_any(et), 0, "stop_all ends every escalation");
	T_EQ_INT(r.n, 2, "one deescalate per escalated host");
	T_EQ_STR(esc_state_name(ESC_COOLDOWN), "cooldown", "state name");
	esc_free(et);
	T_OK(esc_new(0, 1) == NULL, "max_escalated 0 refused");
	return t_done();
}
