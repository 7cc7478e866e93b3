/*
 * conv.h: one conversation's state and semantics, shared by flowtab.c
 * (which owns the pool, index and expiry lists) and conv.c (which knows what
 * a packet means for a conversation: key, direction, initiator, Zeek-style
 * conn_state and history, the record handed to consumers).  Internal to the
 * flow engine; consumers see only struct convrec (convrec.h).
 */
#ifndef SENSORD_CONV_H
#define SENSORD_CONV_H

#include <stdint.h>

#include "convrec.h"
#include "decode.h"

/*
 * The canonical key.  Endpoint a is the lower (address, port) pair, so both
 * directions of a conversation build the same 40 bytes and hash alike; the
 * packet's side (0: sent by a, 1: sent by b) is returned separately.  For
 * ICMP the ports are not swapped: pa is 0 and pb the query type<<8 | code
 * (see conv_key_make), and only the addresses are ordered.  No padding: the
 * struct is hashed and compared as bytes.
 */
struct conv_key {
	uint8_t	 a[16];
	uint8_t	 b[16];
	uint16_t pa;
	uint16_t pb;
	uint16_t vlan; /* 12-bit VLAN id | CONV_KEY_V6 */
	uint8_t	 proto;
	uint8_t	 iface;
};

#define CONV_KEY_V6 0x8000 /* IPv6: keeps v6 ::ffff:x apart from v4 */

/*
 * One tracked conversation: 112 bytes, all of it used by the packet path or
 * the record path (there are no write-once fields to split off to a cold
 * array: MACs and TTLs are not kept).  Sides are canonical (0 = a->b,
 * 1 = b->a); the initiator's side is a bit in hist.
 *
 * Counters are per record interval and packed:
 *   bw[s]   low 48 bits: IP bytes; high 16 bits: packets >> 32
 *   pkts[s] packets, low 32 bits
 * so packets are 48-bit and bytes 48-bit per interval.  An interval lasts at
 * most FT_ACTIVE_MAX_S (3600 s) of packet time, and 2^48 bytes in 3600 s is
 * 625 Tbit/s, 2^48 packets 78 Tpps: neither can wrap, so no record is ever
 * cut for counter width.  The record (struct convrec) carries 64-bit values.
 *
 * Times: base_s is the interval's first packet time in whole seconds;
 * first[s]/last[s] are microseconds since base_s * 1e6, 32-bit (71 minutes,
 * again bounded by FT_ACTIVE_MAX_S).  first[s] == CONV_NO_TIME marks a side
 * that has sent nothing this interval (its last[s] is 0).
 */
struct conv {
	struct conv_key key;	   /*   0 */
	uint64_t	bw[2];	   /*  40 */
	uint64_t	hist;	   /*  56: see CONV_H_* below */
	uint32_t	pkts[2];   /*  64 */
	uint32_t	base_s;	   /*  72 */
	uint32_t	first[2];  /*  76 */
	uint32_t	last[2];   /*  84 */
	uint32_t	prev;	   /*  92: LRU list links (pool index) */
	uint32_t	next;	   /*  96 */
	uint32_t	gen;	   /* 100: slot reuse count, for conv_id */
	uint32_t	seq;	   /* 104: records cut so far */
	uint8_t		flags[2];  /* 108: OR of TCP flags this interval */
	uint8_t		fflags[2]; /* 110: flags of the side's first pkt */
};

#define CONV_NO_TIME UINT32_MAX
#define CONV_BYTES_MASK ((UINT64_C(1) << 48) - 1)
#define CONV_PKTS_HI (UINT64_C(1) << 48)

/*
 * hist packs everything about the conversation that is not a counter:
 *   bits  0..39  history events, 4 bits each, in order of first
 *                occurrence; the count is popcount(mask)
 *   bits 40..49  mask: event kinds seen, role * 5 + kind
 *                (kind 0 SYN or SYN-ACK, 1 ACK, 2 data, 3 FIN, 4 RST)
 *   bits 50..52  originator's endpoint state (enum conv_tcp_state; for
 *   bits 53..55  responder's          other protocols 1 = has sent)
 *   bits 56..57  expiry class (enum conv_class)
 *   bit  58      canonical side of the initiator
 *   bit  59      initiator corrected (flipped, '^')
 * Event codes are role * 6 + letter index in "SHADFR" (role 0 originator,
 * upper case; 1 responder, lower case).  Each kind is recorded once per role
 * as Zeek does, so at most 10 events (11 characters with '^').
 */
#define CONV_H_MASK_SHIFT 40
#define CONV_H_ST_SHIFT 50
#define CONV_H_CLASS_SHIFT 56
#define CONV_H_ORIG_SIDE (UINT64_C(1) << 58)
#define CONV_H_FLIPPED (UINT64_C(1) << 59)

/* Zeek's TCP endpoint states (TCP_ENDPOINT_*), 3 bits. */
enum conv_tcp_state {
	CONV_TS_INACTIVE = 0,
	CONV_TS_SYN_SENT,
	CONV_TS_SYN_ACK_SENT,
	CONV_TS_PARTIAL,
	CONV_TS_ESTABLISHED,
	CONV_TS_CLOSED,
	CONV_TS_RESET
};

#define CONV_ROLE_ORIG 0
#define CONV_ROLE_RESP 1

/*
 * Expiry classes, one LRU list each, one timeout each: embryonic_s, idle_s,
 * closing_s.  CONV_CLASS_NONE marks a free record.
 */
enum conv_class {
	CONV_CLASS_NONE = 0,
	CONV_CLASS_EMB,	   /* SYN-only or a single one-way packet */
	CONV_CLASS_EST,	   /* anything else still open */
	CONV_CLASS_CLOSING /* RST seen, or FIN from both sides */
};
#define CONV_NCLASS 4

static inline int
conv_orig_side(const struct conv *c)
{
	return (c->hist & CONV_H_ORIG_SIDE) != 0;
}

static inline enum conv_class
conv_class(const struct conv *c)
{
	return (enum conv_class)((c->hist >> CONV_H_CLASS_SHIFT) & 3);
}

static inline void
conv_set_class(struct conv *c, enum conv_class cl)
{
	c->hist = (c->hist & ~(UINT64_C(3) << CONV_H_CLASS_SHIFT)) |
	    (uint64_t)cl << CONV_H_CLASS_SHIFT;
}

static inline uint64_t
conv_base_us(const struct conv *c)
{
	return (uint64_t)c->base_s * 1000000;
}

/* Last packet time of the current interval (every interval has one). */
static inline uint64_t
conv_last_us(const struct conv *c)
{
	uint32_t l = c->last[0] > c->last[1] ? c->last[0] : c->last[1];

	return conv_base_us(c) + l;
}

/* First packet time of the current interval. */
static inline uint64_t
conv_start_us(const struct conv *c)
{
	uint32_t f = c->first[0] < c->first[1] ? c->first[0] : c->first[1];

	return conv_base_us(c) + f;
}

/*
 * Build the canonical key of pi (which has PI_HAS_L3).  Returns the packet's
 * side.  *is_reply is set when pi is the reply half of an ICMP query pair.
 */
int conv_key_make(
    struct conv_key *k, const struct pktinfo *pi, uint8_t iface, int *is_reply);

/*
 * Start a conversation from its first packet (not yet counted): clear the
 * record (keeping gen, which it bumps), decide the initiator.  side and
 * is_reply come from conv_key_make().
 */
void conv_init(struct conv *c, const struct conv_key *k,
    const struct pktinfo *pi, int side, int is_reply);

/* Begin a new record interval at packet time t_us (counters to zero). */
void conv_interval_reset(struct conv *c, uint64_t t_us);

/*
 * Account pi (sent by side, at packet time t_us) into the conversation:
 * counters, times, flags, endpoint states, history.
 */
void conv_account(
    struct conv *c, const struct pktinfo *pi, int side, uint64_t t_us);

/*
 * The class the conversation belongs in after a packet from side was
 * accounted (is_new: it was its first packet).
 */
enum conv_class conv_next_class(
    const struct conv *c, const struct pktinfo *pi, int side, int is_new);

/* 1 when pi is a bare SYN, which reopens a conversation that is closing. */
int conv_is_bare_syn(const struct pktinfo *pi);

/* The end reason of a conversation that timed out in its class. */
enum end_reason conv_timeout_reason(const struct conv *c);

/* Fill the record for the current interval. */
void conv_fill(const struct conv *c, uint64_t conv_id, enum end_reason reason,
    struct convrec *cr);

/* Zeek conn_state of the conversation so far ("S0", "SF", ...). */
const char *conv_state_name(const struct conv *c);

/* Zeek history string; out holds CONV_HISTORY_MAX bytes. */
void conv_history(const struct conv *c, char out[CONV_HISTORY_MAX]);

/* Zeek's likely-server-port test: well-known, or a common service port. */
int conv_likely_server_port(uint16_t port);

#endif /* SENSORD_CONV_H */
