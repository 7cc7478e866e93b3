/*
 * writer.h: the spool-writer thread.
 *
 * The event loop (the producer) hands packets and commands to one writer
 * thread through a bounded SPSC ring; the thread owns the spool (files,
 * compression, caps) and answers with events through a second ring and an
 * eventfd the loop polls.  writer_submit_pkt() copies the packet into the
 * ring and never blocks: when the ring is full the packet is dropped and
 * counted for its host, so capture and metering never wait for the disk.
 *
 * Inline mode (offline -r replay, tests) has no thread: every call runs the
 * spool synchronously, so replay is deterministic and lossless.  Events
 * still arrive through writer_next_event() and the eventfd.
 *
 * All functions but writer_event_fd() are called from one thread (the
 * loop); the writer thread is internal.
 */
#ifndef SENSORD_WRITER_H
#define SENSORD_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "pretrig.h"
#include "spool.h"

struct writer_config {
	/* Spool settings: statedir, max_slots, global_cap, min_free,
	 * chunk_bytes, flush_ns, sync_ns, zthreads and the test seams.
	 * event_fn/event_arg are the writer's own and are ignored. */
	struct spool_config spool;
	size_t		    queue_bytes; /* packet + command ring (8 MiB) */
	size_t		    event_bytes; /* event ring (256 KiB) */
	int		    is_inline;	 /* no thread: synchronous */
};

struct writer_stats {
	uint64_t	   pkts_queued; /* accepted into the ring (or inline) */
	uint64_t	   drop_ring;	/* ring full, all slots */
	uint64_t	   drop_closed; /* packets for a slot not open */
	uint64_t	   cmd_refused; /* commands that found no room */
	uint64_t	   events_dropped; /* event ring full */
	uint64_t	   ring_used;	   /* gauge, bytes */
	uint64_t	   ring_cap;
	struct spool_stats spool;
};

struct writer_slot_stats {
	uint64_t drop_ring; /* dropped because the ring was full */
	struct spool_slot_stats spool;
};

struct writer;

void writer_config_defaults(struct writer_config *cfg);

/*
 * Create the spool (start-up scan included: its RECOVERED / QUARANTINED
 * events are waiting when this returns) and, unless inline, the thread.
 * NULL with errno on failure.
 */
struct writer *writer_new(const struct writer_config *cfg);

/*
 * Finish: everything queued is written, every capture is closed (their
 * FILE_CLOSED events can still be read), the thread is joined.  Blocks.
 * Further submissions fail with ESHUTDOWN.
 */
void writer_shutdown(struct writer *w);
/* Shuts down if needed, frees everything (unread events are lost). */
void writer_free(struct writer *w);

/*
 * Queue one packet for a slot's capture (copied, cut to the slot's
 * snaplen).  0 when queued; -1 when dropped and counted: EAGAIN (ring
 * full), ENOENT (slot not open).  Never blocks.
 */
int writer_submit_pkt(struct writer *w, uint32_t slot, uint64_t ts_ns,
    const uint8_t *data, uint32_t caplen, uint32_t wirelen);

/*
 * Start a capture: the pre-trigger packets `pre` (may be NULL; ownership
 * passes to the writer in every case) are written first, then the packets
 * submitted after this call.  -1 with errno EINVAL (bad slot or limits),
 * EBUSY (slot open), EAGAIN (no room for the command; try again).  A
 * failure inside the spool (e.g. directory) arrives as a WRITE_ERROR event.
 */
int writer_open_host(struct writer *w, uint32_t slot, const uint8_t addr[16],
    const struct spool_limits *lim, const struct spool_trigger *trig,
    struct pretrig_snap *pre);
/* End a capture after the packets already queued.  -1 with errno. */
int writer_close_host(struct writer *w, uint32_t slot);
/* Flow time for rotation, flushes, retries; about once a second. */
int writer_tick(struct writer *w, uint64_t now_ns);
/* Wait until everything queued so far has been handled (tests, -r end). */
int writer_flush(struct writer *w);

/* An eventfd, readable when events are waiting (EFD_NONBLOCK). */
int writer_event_fd(const struct writer *w);
/* Next event: 1 and *ev filled, or 0 when none.  Reads the eventfd too. */
int writer_next_event(struct writer *w, struct spool_event *ev);

void writer_get_stats(const struct writer *w, struct writer_stats *st);
void writer_slot_stats(
    const struct writer *w, uint32_t slot, struct writer_slot_stats *st);

#endif /* SENSORD_WRITER_H */
