/*
 * flowtab.h: the conversation table (flow engine).
 *
 * Pure: no I/O, no logging, no clock.  Time is the caller's `now_us` (packet
 * time offline, packet time moved by a 1 Hz tick live).  Memory is fixed at
 * ft_new() from a byte budget; nothing is allocated per packet.  Ended and
 * interim records are handed to the sink's callbacks synchronously.
 */
#ifndef SENSORD_FLOWTAB_H
#define SENSORD_FLOWTAB_H

#include <stddef.h>
#include <stdint.h>

#include "convrec.h"
#include "decode.h"

struct flowtab;

/*
 * Timeouts of 0 take the default.  active_s is capped at FT_ACTIVE_MAX_S:
 * a record interval keeps 32-bit microsecond offsets (71 minutes).
 */
#define FT_ACTIVE_MAX_S 3600

struct ft_config {
	size_t	 mem_budget;  /* bytes for records + index */
	uint32_t idle_s;      /* passive timeout, default 30 */
	uint32_t active_s;    /* active timeout, default 1800 */
	uint32_t embryonic_s; /* SYN-only / unanswered, default 5 */
	uint32_t closing_s;   /* linger after FIN/RST, default 2 */
	uint8_t	 seed[16];    /* hash key, from getrandom() */
};

/*
 * Where records go.  conv_start (may be NULL) is called once when a
 * conversation is created, with a record whose reason is END_NONE and
 * counts of the first packet: detectors count distinct ports and peers from
 * it online.  conv_record is called for every interim and final record.
 * Both run synchronously inside ft_packet/ft_expire/ft_flush and must not
 * call back into the table.
 */
struct ft_sink {
	void (*conv_start)(void *arg, const struct convrec *cr);
	void (*conv_record)(void *arg, const struct convrec *cr);
	void *arg;
};

/* Counters, all monotonic. */
struct ft_stats {
	uint64_t n_packets;	    /* packets metered */
	uint64_t n_bytes;	    /* IP bytes metered */
	uint64_t n_created;	    /* conversations created */
	uint64_t n_records;	    /* records emitted */
	uint64_t n_end[END__COUNT]; /* records by end reason */
	uint64_t n_evict;	    /* evictions for lack of room */
	uint64_t n_out_of_order;    /* packets with time < clock */
	uint64_t n_skipped;	    /* packets without PI_HAS_L3 */
	uint64_t n_active;	    /* live conversations now (gauge) */
	uint64_t capacity;	    /* conversations the budget holds */
	uint64_t bytes_per_flow;    /* (pool + index) / capacity, bytes */
};

void ft_config_defaults(struct ft_config *cfg);

/* NULL (errno set) when the budget holds fewer than 64 conversations. */
struct flowtab *ft_new(const struct ft_config *cfg, const struct ft_sink *sink);
void		ft_free(struct flowtab *ft);

/* Meter one decoded packet (needs PI_HAS_L3); may emit records. */
void ft_packet(struct flowtab *ft, const struct pktinfo *pi, uint8_t iface);

/*
 * ft_packet() on n packets in order (same records, same order), with the
 * cache misses of up to 16 packets overlapped by prefetching: the fast path
 * when the capture loop has a batch of decoded packets at hand.
 */
void ft_packet_batch(
    struct flowtab *ft, const struct pktinfo *pi, size_t n, uint8_t iface);

/* Expire by idle/active/embryonic/closing timeouts as of now_us. */
void ft_expire(struct flowtab *ft, uint64_t now_us);

/* Emit every live conversation with reason (END_EOF or END_SHUTDOWN). */
void ft_flush(struct flowtab *ft, enum end_reason reason);

void ft_get_stats(const struct flowtab *ft, struct ft_stats *st);

/* Change timeouts on reload (live conversations keep their state). */
void ft_set_timeouts(struct flowtab *ft, const struct ft_config *cfg);

#endif /* SENSORD_FLOWTAB_H */
