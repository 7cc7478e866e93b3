/*
 * escalate.c: see escalate.h for the state machine.
 *
 * Storage: one array of entries (escalated, queued and cooling-down hosts),
 * plus a slot table: slot i holds the address of the host captured in
 * capture slot i.  Cooling-down entries are the only ones that may be
 * recycled when the array is full (the oldest goes first): forgetting a
 * cooldown early is harmless, forgetting an escalation is not.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "escalate.h"
#include "util.h"

struct esc_entry {
	uint8_t		  addr[16];
	enum esc_state	  state;
	int		  slot;
	int		  manual;
	uint32_t	  uid;
	uint64_t	  since_us;   /* entered the current state */
	uint64_t	  began_us;   /* escalation start (for max) */
	uint64_t	  until_us;   /* deadline of the current state */
	uint64_t	  queued_seq; /* FIFO order while queued */
	uint64_t	  trigger_id;
	char		  metric[32];
	double		  value;
	double		  threshold;
	struct esc_policy pol;
	uint64_t	  for_us;
	char		  reason[ESC_REASON_MAX];
};

struct esc_table {
	struct esc_entry *e;
	unsigned	  n_entries; /* capacity of e[] */
	unsigned	  max_escalated;
	unsigned	  max_queued;
	unsigned	  n_escalated;
	unsigned	  n_queued;
	uint64_t	  seq;
	uint8_t (*slot_addr)[16];
	uint8_t *slot_used;
	/* Escalated addresses hashed into 256 bits: esc_slot() is asked
	 * twice per packet, and almost always the answer is "none". */
	uint64_t quick[4];
};

static void
quick_rebuild(struct esc_table *et)
{
	unsigned i;

	memset(et->quick, 0, sizeof(et->quick));
	for (i = 0; i < et->max_escalated; i++) {
		if (!et->slot_used[i])
			continue;
		bits256_set(
		    et->quick, bits256_index(addr_low32(et->slot_addr[i])));
	}
}

struct esc_table *
esc_new(unsigned max_escalated, unsigned max_queued)
{
	struct esc_table *et;

	if (max_escalated == 0 || max_escalated > 4096 || max_queued > 65536) {
		errno = EINVAL;
		return NULL;
	}
	if ((et = calloc(1, sizeof(*et))) == NULL)
		return NULL;
	et->max_escalated = max_escalated;
	et->max_queued = max_queued;
	et->n_entries = max_escalated * 4 + max_queued;
	et->e = calloc(et->n_entries, sizeof(*et->e));
	et->slot_addr = calloc(max_escalated, sizeof(*et->slot_addr));
	et->slot_used = calloc(max_escalated, 1);
	if (et->e == NULL || et->slot_addr == NULL || et->slot_used == NULL) {
		esc_free(et);
		return NULL;
	}
	return et;
}

void
esc_free(struct esc_table *et)
{
	if (et == NULL)
		return;
	free(et->e);
	free(et->slot_addr);
	free(et->slot_used);
	free(et);
}

static struct esc_entry *
find(const struct esc_table *et, const uint8_t addr[16])
{
	unsigned i;

	for (i = 0; i < et->n_entries; i++)
		if (et->e[i].state != ESC_NORMAL &&
		    memcmp(et->e[i].addr, addr, 16) == 0)
			return &et->e[i];
	return NULL;
}

/* A free entry, recycling the oldest cooldown when none is free. */
static struct esc_entry *
alloc_entry(struct esc_table *et)
{
	struct esc_entry *oldest = NULL;
	unsigned	  i;

	for (i = 0; i < et->n_entries; i++) {
		struct esc_entry *x = &et->e[i];

		if (x->state == ESC_NORMAL)
			return x;
		if (x->state == ESC_COOLDOWN &&
		    (oldest == NULL || x->since_us < oldest->since_us))
			oldest = x;
	}
	return oldest;
}

static int
alloc_slot(struct esc_table *et)
{
	unsigned i;

	for (i = 0; i < et->max_escalated; i++)
		if (!et->slot_used[i])
			return (int)i;
	return -1;
}

static void
emit_ev(const struct esc_entry *x, enum esc_event_type type, uint64_t now,
    esc_emit_fn *emit, void *arg)
{
	struct esc_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	memcpy(ev.addr, x->addr, 16);
	ev.slot = x->slot;
	ev.ts_us = now;
	ev.until_us = x->until_us;
	ev.manual = x->manual;
	ev.uid = x->uid;
	ev.trigger_id = x->trigger_id;
	util_strlcpy(ev.reason, x->reason, sizeof(ev.reason));
	util_strlcpy(ev.metric, x->metric, sizeof(ev.metric));
	ev.value = x->value;
	ev.threshold = x->threshold;
	if (emit != NULL)
		emit(arg, &ev);
}

static uint64_t
duration_of(const struct esc_entry *x)
{
	return x->for_us != 0 ? x->for_us : x->pol.duration_us;
}

static void
start(struct esc_table *et, struct esc_entry *x, int slot, uint64_t now,
    esc_emit_fn *emit, void *arg)
{
	x->state = ESC_ESCALATED;
	x->slot = slot;
	x->since_us = x->began_us = now;
	x->until_us = now + duration_of(x);
	et->slot_used[slot] = 1;
	memcpy(et->slot_addr[slot], x->addr, 16);
	quick_rebuild(et);
	et->n_escalated++;
	emit_ev(x, ESC_EV_ESCALATE, now, emit, arg);
}

static void
stop(struct esc_table *et, struct esc_entry *x, uint64_t now, int cooldown,
    esc_emit_fn *emit, void *arg)
{
	emit_ev(x, ESC_EV_DEESCALATE, now, emit, arg);
	et->slot_used[x->slot] = 0;
	quick_rebuild(et);
	et->n_escalated--;
	x->slot = -1;
	x->since_us = now;
	if (cooldown && x->pol.cooldown_us > 0) {
		x->state = ESC_COOLDOWN;
		x->until_us = now + x->pol.cooldown_us;
	} else
		x->state = ESC_NORMAL;
}

enum esc_result
esc_request(struct esc_table *et, const struct esc_request *rq,
    esc_emit_fn *emit, void *arg)
{
	struct esc_entry *x;
	int		  slot;

	if (!rq->pol->capture_allowed)
		return ESC_R_FORBIDDEN;
	x = find(et, rq->addr);
	if (x != NULL && x->state == ESC_ESCALATED) {
		uint64_t want = rq->now_us +
		    (rq->for_us != 0 ? rq->for_us : x->pol.duration_us);
		uint64_t cap = x->began_us + x->pol.max_duration_us;

		/* A manual request may go past the policy maximum. */
		if (!rq->manual && want > cap)
			want = cap;
		if (want <= x->until_us)
			return ESC_R_AT_MAX;
		x->until_us = want;
		emit_ev(x, ESC_EV_EXTEND, rq->now_us, emit, arg);
		return ESC_R_EXTENDED;
	}
	if (x != NULL && x->state == ESC_QUEUED)
		return ESC_R_QUEUED;
	/* An operator may override a cooldown; a detector may not. */
	if (x != NULL && x->state == ESC_COOLDOWN && !rq->manual)
		return ESC_R_COOLDOWN;
	if (x == NULL && (x = alloc_entry(et)) == NULL)
		return ESC_R_REFUSED;
	memset(x, 0, sizeof(*x));
	memcpy(x->addr, rq->addr, 16);
	x->pol = *rq->pol;
	x->for_us = rq->for_us;
	x->manual = rq->manual;
	x->uid = rq->uid;
	x->trigger_id = rq->trigger_id;
	x->slot = -1;
	util_strlcpy(
	    x->reason, rq->reason != NULL ? rq->reason : "", sizeof(x->reason));
	util_strlcpy(x->metric,
	    rq->metric != NULL ? rq->metric : (rq->manual ? "manual" : ""),
	    sizeof(x->metric));
	x->value = rq->value;
	x->threshold = rq->threshold;
	if ((slot = alloc_slot(et)) >= 0) {
		start(et, x, slot, rq->now_us, emit, arg);
		return ESC_R_ESCALATED;
	}
	if (et->n_queued >= et->max_queued) {
		emit_ev(x, ESC_EV_REFUSED, rq->now_us, emit, arg);
		x->state = ESC_NORMAL;
		return ESC_R_REFUSED;
	}
	x->state = ESC_QUEUED;
	x->since_us = rq->now_us;
	x->queued_seq = ++et->seq;
	et->n_queued++;
	emit_ev(x, ESC_EV_QUEUED, rq->now_us, emit, arg);
	return ESC_R_QUEUED;
}

enum esc_result
esc_release(struct esc_table *et, const uint8_t addr[16], uint64_t now_us,
    uint32_t uid, esc_emit_fn *emit, void *arg)
{
	struct esc_entry *x = find(et, addr);

	if (x == NULL)
		return ESC_R_NOT_ESCALATED;
	if (x->state == ESC_QUEUED) {
		x->state = ESC_NORMAL;
		et->n_queued--;
		return ESC_R_RELEASED;
	}
	if (x->state != ESC_ESCALATED)
		return ESC_R_NOT_ESCALATED;
	x->uid = uid;
	stop(et, x, now_us, 1, emit, arg);
	return ESC_R_RELEASED;
}

/* The queued host waiting longest, or NULL. */
static struct esc_entry *
next_queued(struct esc_table *et)
{
	struct esc_entry *best = NULL;
	unsigned	  i;

	for (i = 0; i < et->n_entries; i++) {
		struct esc_entry *x = &et->e[i];

		if (x->state == ESC_QUEUED &&
		    (best == NULL || x->queued_seq < best->queued_seq))
			best = x;
	}
	return best;
}

void
esc_tick(struct esc_table *et, uint64_t now_us, esc_emit_fn *emit, void *arg)
{
	struct esc_entry *q;
	unsigned	  i;
	int		  slot;

	for (i = 0; i < et->n_entries; i++) {
		struct esc_entry *x = &et->e[i];

		if (x->state == ESC_ESCALATED && now_us >= x->until_us)
			stop(et, x, now_us, 1, emit, arg);
		else if (x->state == ESC_COOLDOWN && now_us >= x->until_us) {
			x->state = ESC_NORMAL;
			emit_ev(x, ESC_EV_COOLDOWN_END, now_us, emit, arg);
		}
	}
	while (et->n_queued > 0 && (slot = alloc_slot(et)) >= 0 &&
	    (q = next_queued(et)) != NULL) {
		et->n_queued--;
		start(et, q, slot, now_us, emit, arg);
	}
}

void
esc_stop_all(
    struct esc_table *et, uint64_t now_us, esc_emit_fn *emit, void *arg)
{
	unsigned i;

	for (i = 0; i < et->n_entries; i++)
		if (et->e[i].state == ESC_ESCALATED)
			stop(et, &et->e[i], now_us, 0, emit, arg);
}

int
esc_any(const struct esc_table *et)
{
	return et->n_escalated != 0;
}

int
esc_slot(const struct esc_table *et, const uint8_t addr[16])
{
	unsigned i;

	if (et->n_escalated == 0 ||
	    !bits256_has(et->quick, bits256_index(addr_low32(addr))))
		return -1;
	for (i = 0; i < et->max_escalated; i++)
		if (et->slot_used[i] && memcmp(et->slot_addr[i], addr, 16) == 0)
			return (int)i;
	return -1;
}

void
esc_info(const struct esc_table *et, const uint8_t addr[16],
    struct esc_host_info *info)
{
	const struct esc_entry *x = find(et, addr);

	memset(info, 0, sizeof(*info));
	info->slot = -1;
	if (x == NULL)
		return;
	info->state = x->state;
	info->slot = x->slot;
	info->since_us = x->since_us;
	info->until_us = x->until_us;
	info->manual = x->manual;
}

unsigned
esc_count(const struct esc_table *et, enum esc_state st)
{
	unsigned i, n = 0;

	for (i = 0; i < et->n_entries; i++)
		if (et->e[i].state == st)
			n++;
	return n;
}

const char *
esc_state_name(enum esc_state st)
{
	switch (st) {
	case ESC_ESCALATED:
		return "escalated";
	case ESC_COOLDOWN:
		return "cooldown";
	case ESC_QUEUED:
		return "queued";
	case ESC_NORMAL:
	default:
		return "normal";
	}
}
