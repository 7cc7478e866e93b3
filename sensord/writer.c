/*
 * writer.c: the spool-writer thread (see writer.h).
 *
 * Owns: the command ring (loop -> thread), the event ring (thread -> loop),
 * two eventfds (wake the thread; tell the loop about events), the spool and
 * the thread.  The loop side keeps, per slot, the snaplen of the open
 * capture (0: not open) and its ring-full drop counter; those are touched
 * by the loop thread only.
 *
 * Ring records: a 24-byte header {u32 type, u32 slot, u64 ts_ns,
 * u32 caplen, u32 wirelen}, then the packet bytes (PKT) or a struct wr_open
 * (OPEN).  Packets may use the ring only while cmd_spare bytes stay free,
 * so a flood of packets cannot lock out a CLOSE or a TICK; a command is
 * refused only when even that reserve is full (the thread is stalled).
 *
 * Sleeping without losing a wake-up: the thread sets is_sleeping, issues a
 * seq_cst fence and looks at the ring once more before it blocks on its
 * eventfd; the loop commits, fences, and writes the eventfd only when it
 * sees is_sleeping.  One of the two always sees the other's store, and a
 * 1 s poll timeout bounds any mistake.  While the ring is busy the loop
 * makes no system call at all.
 *
 * Cost on the loop per packet: one memcpy into the ring, a fence and a
 * relaxed load.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pcapfmt.h"
#include "ring.h"
#include "writer.h"

enum wr_type { WR_PKT = 1, WR_OPEN, WR_CLOSE, WR_TICK, WR_FLUSH, WR_SHUTDOWN };

struct wr_hdr {
	uint32_t type;
	uint32_t slot;
	uint64_t ts_ns; /* packet time, tick time, flush seq */
	uint32_t caplen;
	uint32_t wirelen;
};

struct wr_open {
	uint8_t		     addr[16];
	int		     has_trig;
	struct spool_limits  lim;
	struct spool_trigger trig;
	struct pretrig_snap *pre;
};

struct writer {
	struct writer_config cfg;
	struct spool	    *sp;
	struct ring	    *q;
	struct ring	    *ev;
	int		     wake_fd;
	int		     ev_fd;
	pthread_t	     th;
	int		     has_thread;
	int		     is_shut;
	size_t		     cmd_spare;
	_Atomic int	     is_sleeping;
	_Atomic uint64_t     done_seq;
	_Atomic uint64_t     events_dropped;
	/* Loop side. */
	uint64_t  flush_seq;
	uint32_t *snaplen;
	uint64_t *drop_ring;
	uint64_t  pkts_queued, drop_ring_total, drop_closed, cmd_refused;
};

void
writer_config_defaults(struct writer_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	spool_config_defaults(&cfg->spool);
	/* Two compression threads beside the writer: level 1 (ISA-L) then
	 * keeps up with 180-200 MB/s of pcap on two cores (make bench). */
	cfg->spool.zthreads = 2;
	cfg->queue_bytes = 8u << 20;
	cfg->event_bytes = 256u << 10;
}

/* Spool events (writer thread, or the caller in inline mode). */
static void
on_event(void *arg, const struct spool_event *ev)
{
	struct writer *w = arg;
	uint64_t       one = 1;
	void	      *p;

	if ((p = ring_reserve(w->ev, sizeof(*ev))) == NULL) {
		atomic_fetch_add_explicit(
		    &w->events_dropped, 1, memory_order_relaxed);
		return;
	}
	memcpy(p, ev, sizeof(*ev));
	ring_commit(w->ev);
	/* A full eventfd counter (2^64 - 2) cannot happen in practice. */
	(void)!write(w->ev_fd, &one, sizeof(one));
}

static void
post_error(struct writer *w, uint32_t slot, const uint8_t addr[16], int err)
{
	struct spool_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = SPOOL_EV_WRITE_ERROR;
	ev.slot = slot;
	ev.err = err;
	if (addr != NULL)
		memcpy(ev.addr, addr, 16);
	on_event(w, &ev);
}

static void
do_open(struct writer *w, uint32_t slot, struct wr_open *o)
{
	struct pretrig_pkt pp;
	size_t		   off = 0;

	if (spool_open(w->sp, slot, o->addr, &o->lim,
		o->has_trig ? &o->trig : NULL) != 0)
		post_error(w, slot, o->addr, errno);
	else
		while (pretrig_snap_next(o->pre, &off, &pp))
			(void)spool_pkt(w->sp, slot, pp.ts_ns, pp.data,
			    pp.caplen, pp.wirelen);
	pretrig_snap_free(o->pre);
}

/* Run one ring record; 1 when it was SHUTDOWN. */
static int
handle(struct writer *w, const uint8_t *p, size_t len)
{
	struct wr_hdr  h;
	struct wr_open o;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, p, sizeof(h));
	switch (h.type) {
	case WR_PKT:
		if (len >= sizeof(h) + h.caplen)
			(void)spool_pkt(w->sp, h.slot, h.ts_ns, p + sizeof(h),
			    h.caplen, h.wirelen);
		break;
	case WR_OPEN:
		if (len >= sizeof(h) + sizeof(o)) {
			memcpy(&o, p + sizeof(h), sizeof(o));
			do_open(w, h.slot, &o);
		}
		break;
	case WR_CLOSE:
		(void)spool_close(w->sp, h.slot);
		break;
	case WR_TICK:
		spool_tick(w->sp, h.ts_ns);
		break;
	case WR_FLUSH:
		spool_sync(w->sp);
		atomic_store_explicit(
		    &w->done_seq, h.ts_ns, memory_order_release);
		break;
	case WR_SHUTDOWN:
		spool_close_all(w->sp);
		return 1;
	}
	return 0;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct pollfd  pfd;
	uint64_t       v;
	size_t	       len;
	void	      *p;

	for (;;) {
		while ((p = ring_peek(w->q, &len)) != NULL) {
			int is_end = handle(w, p, len);

			ring_consume(w->q);
			if (is_end)
				return NULL;
		}
		/*
		 * Idle: write the members already compressed, and while
		 * others are still on the pool, look again every millisecond
		 * (or as soon as packets come) rather than wait for them:
		 * blocking here would drain the compression pipeline each
		 * time the writer catches up with the loop.
		 */
		spool_pump(w->sp);
		atomic_store_explicit(&w->is_sleeping, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		if (ring_peek(w->q, &len) == NULL) {
			pfd.fd = w->wake_fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, spool_pending(w->sp) > 0 ? 1 : 1000) >
			    0)
				(void)!read(w->wake_fd, &v, sizeof(v));
		}
		atomic_store_explicit(&w->is_sleeping, 0, memory_order_relaxed);
	}
}

/* Put a record in the ring (loop side) and wake the thread if asleep. */
static int
enqueue(struct writer *w, const struct wr_hdr *h, const void *a, size_t alen,
    const void *b, size_t blen, size_t spare)
{
	uint64_t one = 1;
	uint8_t *p;

	p = ring_reserve_spare(w->q, sizeof(*h) + alen + blen, spare);
	if (p == NULL) {
		errno = EAGAIN;
		return -1;
	}
	memcpy(p, h, sizeof(*h));
	if (alen > 0)
		memcpy(p + sizeof(*h), a, alen);
	if (blen > 0)
		memcpy(p + sizeof(*h) + alen, b, blen);
	ring_commit(w->q);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&w->is_sleeping, memory_order_relaxed))
		(void)!write(w->wake_fd, &one, sizeof(one));
	return 0;
}

/* A command that must get through (shutdown, flush): wait for room. */
static void
enqueue_wait(struct writer *w, const struct wr_hdr *h)
{
	struct timespec ts = {0, 1000000};

	while (enqueue(w, h, NULL, 0, NULL, 0, 0) != 0)
		nanosleep(&ts, NULL);
}

struct writer *
writer_new(const struct writer_config *cfg)
{
	struct writer *w;
	int	       err;

	if (cfg->spool.max_slots == 0 ||
	    (!cfg->is_inline && cfg->queue_bytes < (1u << 20))) {
		errno = EINVAL;
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->cfg = *cfg;
	w->wake_fd = w->ev_fd = -1;
	w->cfg.spool.event_fn = on_event;
	w->cfg.spool.event_arg = w;
	w->snaplen = calloc(cfg->spool.max_slots, sizeof(*w->snaplen));
	w->drop_ring = calloc(cfg->spool.max_slots, sizeof(*w->drop_ring));
	w->ev = ring_new(cfg->event_bytes > 0 ? cfg->event_bytes : 256u << 10);
	w->ev_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->snaplen == NULL || w->drop_ring == NULL || w->ev == NULL ||
	    w->ev_fd < 0)
		goto fail;
	if (!cfg->is_inline) {
		w->q = ring_new(cfg->queue_bytes);
		w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->q == NULL || w->wake_fd < 0)
			goto fail;
		/* 1/16 of the ring for commands: thousands of them. */
		w->cmd_spare = ring_cap(w->q) / 16;
	}
	/* The start-up scan posts its events from this thread. */
	if ((w->sp = spool_new(&w->cfg.spool)) == NULL)
		goto fail;
	if (!cfg->is_inline) {
		if ((err = pthread_create(&w->th, NULL, writer_main, w)) != 0) {
			errno = err;
			goto fail;
		}
		w->has_thread = 1;
	}
	return w;
fail:
	err = errno;
	writer_free(w);
	errno = err;
	return NULL;
}

void
writer_shutdown(struct writer *w)
{
	struct wr_hdr h;

	if (w == NULL || w->is_shut)
		return;
	w->is_shut = 1;
	if (w->has_thread) {
		memset(&h, 0, sizeof(h));
		h.type = WR_SHUTDOWN;
		enqueue_wait(w, &h);
		pthread_join(w->th, NULL);
		w->has_thread = 0;
	} else if (w->sp != NULL)
		spool_close_all(w->sp);
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	writer_shutdown(w);
	/* Snapshots still queued (never opened) must not leak. */
	if (w->q != NULL) {
		struct wr_hdr  h;
		struct wr_open o;
		size_t	       len;
		uint8_t	      *p;

		while ((p = ring_peek(w->q, &len)) != NULL) {
			memcpy(&h, p, sizeof(h));
			if (h.type == WR_OPEN) {
				memcpy(&o, p + sizeof(h), sizeof(o));
				pretrig_snap_free(o.pre);
			}
			ring_consume(w->q);
		}
	}
	spool_free(w->sp);
	ring_free(w->q);
	ring_free(w->ev);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	if (w->ev_fd >= 0)
		close(w->ev_fd);
	free(w->snaplen);
	free(w->drop_ring);
	free(w);
}

int
writer_submit_pkt(struct writer *w, uint32_t slot, uint64_t ts_ns,
    const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	struct wr_hdr h;

	if (slot >= w->cfg.spool.max_slots || w->snaplen[slot] == 0 ||
	    w->is_shut) {
		w->drop_closed++;
		errno = w->is_shut ? ESHUTDOWN : ENOENT;
		return -1;
	}
	if (caplen > w->snaplen[slot])
		caplen = w->snaplen[slot];
	if (w->cfg.is_inline) {
		w->pkts_queued++;
		return spool_pkt(w->sp, slot, ts_ns, data, caplen, wirelen);
	}
	h.type = WR_PKT;
	h.slot = slot;
	h.ts_ns = ts_ns;
	h.caplen = caplen;
	h.wirelen = wirelen;
	if (enqueue(w, &h, data, caplen, NULL, 0, w->cmd_spare) != 0) {
		w->drop_ring[slot]++;
		w->drop_ring_total++;
		return -1;
	}
	w->pkts_queued++;
	return 0;
}

int
writer_open_host(struct writer *w, uint32_t slot, const uint8_t addr[16],
    const struct spool_limits *lim, const struct spool_trigger *trig,
    struct pretrig_snap *pre)
{
	struct wr_hdr  h;
	struct wr_open o;

	if (w->is_shut) {
		pretrig_snap_free(pre);
		errno = ESHUTDOWN;
		return -1;
	}
	if (slot >= w->cfg.spool.max_slots || lim->snaplen == 0 ||
	    lim->snaplen > PCAPFMT_MAX_SNAPLEN) {
		pretrig_snap_free(pre);
		errno = EINVAL;
		return -1;
	}
	if (w->snaplen[slot] != 0) {
		pretrig_snap_free(pre);
		errno = EBUSY;
		return -1;
	}
	memset(&o, 0, sizeof(o));
	memcpy(o.addr, addr, 16);
	o.lim = *lim;
	if (trig != NULL) {
		o.trig = *trig;
		o.has_trig = 1;
	}
	o.pre = pre;
	if (w->cfg.is_inline) {
		if (spool_open(w->sp, slot, addr, lim, trig) != 0) {
			pretrig_snap_free(pre);
			return -1;
		}
		o.pre = NULL;
		w->snaplen[slot] = lim->snaplen;
		{
			struct pretrig_pkt pp;
			size_t		   off = 0;

			while (pretrig_snap_next(pre, &off, &pp))
				(void)spool_pkt(w->sp, slot, pp.ts_ns, pp.data,
				    pp.caplen, pp.wirelen);
		}
		pretrig_snap_free(pre);
		return 0;
	}
	memset(&h, 0, sizeof(h));
	h.type = WR_OPEN;
	h.slot = slot;
	if (enqueue(w, &h, &o, sizeof(o), NULL, 0, 0) != 0) {
		w->cmd_refused++;
		pretrig_snap_free(pre);
		return -1;
	}
	w->snaplen[slot] = lim->snaplen;
	return 0;
}

int
writer_close_host(struct writer *w, uint32_t slot)
{
	struct wr_hdr h;

	if (slot >= w->cfg.spool.max_slots || w->snaplen[slot] == 0) {
		errno = ENOENT;
		return -1;
	}
	if (w->cfg.is_inline) {
		w->snaplen[slot] = 0;
		return spool_close(w->sp, slot);
	}
	memset(&h, 0, sizeof(h));
	h.type = WR_CLOSE;
	h.slot = slot;
	if (enqueue(w, &h, NULL, 0, NULL, 0, 0) != 0) {
		w->cmd_refused++;
		return -1;
	}
	w->snaplen[slot] = 0;
	return 0;
}

int
writer_tick(struct writer *w, uint64_t now_ns)
{
	struct wr_hdr h;

	if (w->is_shut) {
		errno = ESHUTDOWN;
		return -1;
	}
	if (w->cfg.is_inline) {
		spool_tick(w->sp, now_ns);
		return 0;
	}
	memset(&h, 0, sizeof(h));
	h.type = WR_TICK;
	h.ts_ns = now_ns;
	if (enqueue(w, &h, NULL, 0, NULL, 0, 0) != 0) {
		/* The next tick carries a later time: nothing is lost. */
		w->cmd_refused++;
		return -1;
	}
	return 0;
}

int
writer_flush(struct writer *w)
{
	struct timespec ts = {0, 200000};
	struct wr_hdr	h;
	uint64_t	seq;

	if (w->is_shut) {
		errno = ESHUTDOWN;
		return -1;
	}
	if (w->cfg.is_inline) {
		spool_sync(w->sp);
		return 0;
	}
	seq = ++w->flush_seq;
	memset(&h, 0, sizeof(h));
	h.type = WR_FLUSH;
	h.ts_ns = seq;
	enqueue_wait(w, &h);
	while (atomic_load_explicit(&w->done_seq, memory_order_acquire) < seq)
		nanosleep(&ts, NULL);
	return 0;
}

int
writer_event_fd(const struct writer *w)
{
	return w->ev_fd;
}

int
writer_next_event(struct writer *w, struct spool_event *ev)
{
	uint64_t v;
	size_t	 len;
	void	*p;

	if ((p = ring_peek(w->ev, &len)) == NULL) {
		/* Drained: clear the eventfd (a later event sets it again;
		 * it is written after the commit, so none is missed). */
		(void)!read(w->ev_fd, &v, sizeof(v));
		if ((p = ring_peek(w->ev, &len)) == NULL)
			return 0;
	}
	memcpy(ev, p, len < sizeof(*ev) ? len : sizeof(*ev));
	ring_consume(w->ev);
	return 1;
}

void
writer_get_stats(const struct writer *w, struct writer_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->pkts_queued = w->pkts_queued;
	st->drop_ring = w->drop_ring_total;
	st->drop_closed = w->drop_closed;
	st->cmd_refused = w->cmd_refused;
	st->events_dropped =
	    atomic_load_explicit(&w->events_dropped, memory_order_relaxed);
	if (w->q != NULL) {
		st->ring_used = ring_used(w->q);
		st->ring_cap = ring_cap(w->q);
	}
	spool_get_stats(w->sp, &st->spool);
}

void
writer_slot_stats(
    const struct writer *w, uint32_t slot, struct writer_slot_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (slot >= w->cfg.spool.max_slots)
		return;
	st->drop_ring = w->drop_ring[slot];
	spool_slot_stats(w->sp, slot, &st->spool);
}
