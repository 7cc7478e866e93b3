/*
 * pretrig.h: pre-trigger packet buffer.
 *
 * For hosts the daemon watches (near a threshold) it keeps the most recent
 * packets in memory, so that an escalated capture starts with what happened
 * *before* the trigger.  Bounds: per host a byte budget and a maximum age,
 * over all hosts one memory arena of fixed size (the global cap); whichever
 * bound is hit evicts the oldest packets first.
 *
 * Pure: no I/O, no clock (times are parameters), no allocation on the packet
 * path: the arena is allocated by pretrig_new(), pretrig_push() copies into
 * it.  pretrig_take() (escalation, not the packet path) allocates the one
 * snapshot handed to the writer thread.  One thread owns a struct pretrig.
 */
#ifndef SENSORD_PRETRIG_H
#define SENSORD_PRETRIG_H

#include <stddef.h>
#include <stdint.h>

struct pretrig;

/* One packet as read from a snapshot; data points into the snapshot. */
struct pretrig_pkt {
	uint64_t       ts_ns;
	uint32_t       caplen;
	uint32_t       wirelen;
	const uint8_t *data;
};

/* A host's packets, oldest first, detached from the arena. */
struct pretrig_snap {
	uint32_t slot;
	uint32_t n_pkts;
	size_t	 len;	 /* bytes used in data[] */
	uint8_t	 data[]; /* {u64 ts, u32 caplen, u32 wirelen,
					 *  bytes} per packet, unaligned */
};

struct pretrig_stats {
	uint64_t n_pushed;	 /* packets stored */
	uint64_t n_evict_age;	 /* evicted: older than the host's age */
	uint64_t n_evict_host;	 /* evicted: host byte budget */
	uint64_t n_evict_global; /* evicted: arena full (global cap) */
	uint64_t n_too_big;	 /* refused: larger than a budget */
	uint64_t n_taken;	 /* packets moved into snapshots */
	uint64_t live_pkts;	 /* gauge */
	uint64_t live_bytes;	 /* gauge: arena bytes of live packets */
	uint64_t arena_bytes;	 /* the global cap */
};

/*
 * max_hosts slots (the daemon's host-table indices), mem_bytes of arena
 * (the global cap, >= 4 KiB).  NULL with errno on failure.
 */
struct pretrig *pretrig_new(uint32_t max_hosts, size_t mem_bytes);
void		pretrig_free(struct pretrig *pt);

/*
 * Start (or re-limit) buffering for a host: at most max_bytes of arena (each
 * packet costs 32 bytes plus its captured bytes rounded up to 8), packets at
 * most max_age_ns older than the newest, each cut to snaplen.  -1 with
 * errno EINVAL for a bad slot or a zero budget.
 */
int pretrig_enable(struct pretrig *pt, uint32_t slot, size_t max_bytes,
    uint64_t max_age_ns, uint32_t snaplen);
/* Stop buffering for a host and forget its packets. */
void pretrig_disable(struct pretrig *pt, uint32_t slot);
int  pretrig_is_enabled(const struct pretrig *pt, uint32_t slot);

/*
 * Keep a copy of one packet of an enabled host.  0 when stored, -1 when the
 * host is not enabled (errno ENOENT) or the packet exceeds a budget
 * (E2BIG, counted).
 */
int pretrig_push(struct pretrig *pt, uint32_t slot, uint64_t ts_ns,
    const uint8_t *data, uint32_t caplen, uint32_t wirelen);

/*
 * Move the host's packets not older than now_ns - max_age into a new
 * snapshot (malloc'd, released with pretrig_snap_free) and empty its
 * buffer; the host stays enabled.  NULL when there are none (errno ENOENT)
 * or on allocation failure (ENOMEM; the packets are kept).
 */
struct pretrig_snap *pretrig_take(
    struct pretrig *pt, uint32_t slot, uint64_t now_ns);
void pretrig_snap_free(struct pretrig_snap *s);

/*
 * Iterate a snapshot: *off starts at 0; returns 1 and fills p while packets
 * remain, then 0.
 */
int pretrig_snap_next(
    const struct pretrig_snap *s, size_t *off, struct pretrig_pkt *p);

/* Live packets and arena bytes of one host. */
void pretrig_host_usage(
    const struct pretrig *pt, uint32_t slot, uint64_t *pkts, uint64_t *bytes);
void pretrig_get_stats(const struct pretrig *pt, struct pretrig_stats *st);

#endif /* SENSORD_PRETRIG_H */
