/*
 * escalate.h: the per-host escalation state machine (pure).
 *
 *	NORMAL --breach/manual--> ESCALATED --deadline--> COOLDOWN --> NORMAL
 *	                 \--(cap reached)--> QUEUED --(slot free)--^
 *
 * A breach while ESCALATED extends the deadline by the host's duration, up
 * to max_duration after the escalation began.  During COOLDOWN a breach is
 * logged but does not escalate again (so a host that keeps breaching is not
 * captured forever).  A host whose policy forbids capture is never
 * escalated: the request is answered ESC_R_FORBIDDEN and logged by the
 * caller.  At most max_escalated hosts are escalated at once; further
 * requests wait in a bounded queue (oldest first) or are refused when it is
 * full.  Every transition is reported through the emit callback, which the
 * daemon turns into events.jsonl lines and writer commands.
 *
 * The table is small (max_escalated + max_queued + cooling hosts, each a
 * few dozen bytes) and the packet path asks it one question per packet,
 * "is this address escalated?", answered without hashing when nothing is
 * escalated (the common case) and by a short linear scan otherwise.
 */
#ifndef SENSORD_ESCALATE_H
#define SENSORD_ESCALATE_H

#include <stddef.h>
#include <stdint.h>

enum esc_state { ESC_NORMAL = 0, ESC_ESCALATED, ESC_COOLDOWN, ESC_QUEUED };

enum esc_result {
	ESC_R_ESCALATED = 0, /* now escalated */
	ESC_R_EXTENDED,	     /* was escalated: deadline moved */
	ESC_R_AT_MAX,	     /* was escalated: already at max_duration */
	ESC_R_QUEUED,	     /* cap reached: waits for a slot */
	ESC_R_REFUSED,	     /* cap reached and queue full */
	ESC_R_FORBIDDEN,     /* policy forbids capture of this host */
	ESC_R_COOLDOWN,	     /* in cooldown: not escalated again */
	ESC_R_NOT_ESCALATED, /* release of a host that was not */
	ESC_R_RELEASED
};

enum esc_event_type {
	ESC_EV_ESCALATE, /* slot assigned, capture starts */
	ESC_EV_EXTEND,
	ESC_EV_DEESCALATE, /* capture stops (deadline or release) */
	ESC_EV_COOLDOWN_END,
	ESC_EV_QUEUED,
	ESC_EV_REFUSED
};

struct esc_policy {
	int	 capture_allowed;
	uint64_t duration_us;
	uint64_t max_duration_us;
	uint64_t cooldown_us;
};

#define ESC_REASON_MAX 96

struct esc_event {
	enum esc_event_type type;
	uint8_t		    addr[16];
	int		    slot; /* capture slot, -1 when none */
	uint64_t	    ts_us;
	uint64_t	    until_us;	/* escalation deadline */
	int		    manual;	/* asked by an operator */
	uint32_t	    uid;	/* who, when manual */
	uint64_t	    trigger_id; /* event id of the breach, 0 if none */
	char		    reason[ESC_REASON_MAX];
	char		    metric[32]; /* the breach that triggered it */
	double		    value;
	double		    threshold;
};

typedef void esc_emit_fn(void *arg, const struct esc_event *ev);

struct esc_request {
	const uint8_t		*addr;
	const struct esc_policy *pol;
	uint64_t		 now_us;
	uint64_t		 for_us; /* manual: duration, 0 = policy */
	int			 manual;
	uint32_t		 uid;
	uint64_t		 trigger_id;
	const char		*reason;
	const char		*metric; /* NULL for manual requests */
	double			 value;
	double			 threshold;
};

struct esc_host_info {
	enum esc_state state;
	int	       slot;
	uint64_t       since_us;
	uint64_t       until_us; /* escalation or cooldown end */
	int	       manual;
};

struct esc_table;

/* max_escalated >= 1; NULL with errno on bad sizes or no memory. */
struct esc_table *esc_new(unsigned max_escalated, unsigned max_queued);
void		  esc_free(struct esc_table *et);

enum esc_result esc_request(struct esc_table *et, const struct esc_request *rq,
    esc_emit_fn *emit, void *arg);
enum esc_result esc_release(struct esc_table *et, const uint8_t addr[16],
    uint64_t now_us, uint32_t uid, esc_emit_fn *emit, void *arg);
/* Deadlines: ESCALATED -> COOLDOWN -> NORMAL; queued hosts get slots. */
void esc_tick(
    struct esc_table *et, uint64_t now_us, esc_emit_fn *emit, void *arg);
/* End every escalation (shutdown): DEESCALATE events, no cooldown. */
void esc_stop_all(
    struct esc_table *et, uint64_t now_us, esc_emit_fn *emit, void *arg);

/* Capture slot of an escalated address, or -1.  The packet-path query. */
int esc_slot(const struct esc_table *et, const uint8_t addr[16]);
/* 1 when any host is escalated (lets the packet path skip lookups). */
int esc_any(const struct esc_table *et);
/* State of one host (ESC_NORMAL when unknown). */
void	    esc_info(const struct esc_table *et, const uint8_t addr[16],
	   struct esc_host_info *info);
unsigned    esc_count(const struct esc_table *et, enum esc_state st);
const char *esc_state_name(enum esc_state st);

#endif /* SENSORD_ESCALATE_H */
