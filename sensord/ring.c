/*
 * ring.c: SPSC ring of variable-length records (see ring.h).
 *
 * Layout: a power-of-two byte buffer and two free-running byte counters,
 * head (written only by the producer) and tail (written only by the
 * consumer); used = head - tail, positions are counter & mask.  Each record
 * is an 8-byte header {u32 len, u32 kind} and the payload rounded up to 8,
 * so records never straddle the end of the buffer: when one does not fit
 * before the end, the producer fills the rest with a PAD record and starts
 * again at 0.  Hence the largest record is half the ring (a record after a
 * pad needs its own size plus the pad's).
 *
 * Ordering: the producer writes the payload, then publishes head with a
 * release store; the consumer loads head with acquire before reading.  The
 * consumer publishes tail with release after it is done with the bytes; the
 * producer loads it with acquire before reusing them.  Each side keeps a
 * cached copy of the other's counter and reloads it only when the cache says
 * the ring is full (producer) or empty (consumer), so the shared cache lines
 * move rarely.  head and tail sit on separate cache lines.
 *
 * Cost: a reserve/commit or peek/consume pair is a few loads and one
 * release store, plus the caller's memcpy.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define RING_HDR 8u
#define KIND_DATA 0u
#define KIND_PAD 1u

struct ring {
	/* Producer's line. */
	alignas(64) _Atomic size_t head;
	size_t tail_cache; /* producer's view of tail */
	size_t pend_head;  /* head after the outstanding reserve */
	/* Consumer's line. */
	alignas(64) _Atomic size_t tail;
	size_t head_cache; /* consumer's view of head */
	size_t cur_len;	   /* payload length of the peeked one */
	/* Read-only after ring_new(). */
	alignas(64) uint8_t *buf;
	size_t cap;
	size_t mask;
};

static size_t
round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static void
hdr_put(uint8_t *p, uint32_t len, uint32_t kind)
{
	memcpy(p, &len, 4);
	memcpy(p + 4, &kind, 4);
}

static void
hdr_get(const uint8_t *p, uint32_t *len, uint32_t *kind)
{
	memcpy(len, p, 4);
	memcpy(kind, p + 4, 4);
}

struct ring *
ring_new(size_t cap)
{
	struct ring *r;
	size_t	     c = 256;

	while (c < cap) {
		if (c > SIZE_MAX / 4 || c >= ((size_t)1 << 31)) {
			errno = EINVAL;
			return NULL;
		}
		c <<= 1;
	}
	r = aligned_alloc(64, (sizeof(*r) + 63) & ~(size_t)63);
	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->buf = aligned_alloc(64, c);
	if (r->buf == NULL) {
		free(r);
		return NULL;
	}
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->cap = c;
	r->mask = c - 1;
	return r;
}

void
ring_free(struct ring *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

size_t
ring_cap(const struct ring *r)
{
	return r->cap;
}

size_t
ring_max_record(const struct ring *r)
{
	return r->cap / 2 - RING_HDR;
}

void *
ring_reserve(struct ring *r, size_t len)
{
	return ring_reserve_spare(r, len, 0);
}

void *
ring_reserve_spare(struct ring *r, size_t len, size_t spare)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t pos, need, room_end, total;

	if (len > ring_max_record(r) || spare > r->cap)
		return NULL;
	need = RING_HDR + round8(len);
	pos = head & r->mask;
	room_end = r->cap - pos;
	total = (need <= room_end ? need : room_end + need) + spare;
	if (r->cap - (head - r->tail_cache) < total) {
		r->tail_cache =
		    atomic_load_explicit(&r->tail, memory_order_acquire);
		if (r->cap - (head - r->tail_cache) < total)
			return NULL;
	}
	if (need > room_end) {
		/* room_end >= 8: every record is a multiple of 8. */
		hdr_put(
		    r->buf + pos, (uint32_t)(room_end - RING_HDR), KIND_PAD);
		head += room_end;
		pos = 0;
	}
	hdr_put(r->buf + pos, (uint32_t)len, KIND_DATA);
	r->pend_head = head + need;
	return r->buf + pos + RING_HDR;
}

void
ring_commit(struct ring *r)
{
	atomic_store_explicit(&r->head, r->pend_head, memory_order_release);
}

void *
ring_peek(struct ring *r, size_t *len)
{
	size_t	 tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t rlen, kind;
	uint8_t *p;

	for (;;) {
		if (tail == r->head_cache) {
			r->head_cache = atomic_load_explicit(
			    &r->head, memory_order_acquire);
			if (tail == r->head_cache)
				return NULL;
		}
		p = r->buf + (tail & r->mask);
		hdr_get(p, &rlen, &kind);
		if (kind != KIND_PAD)
			break;
		/* Skip the pad to the start of the buffer. */
		tail += RING_HDR + rlen;
		atomic_store_explicit(&r->tail, tail, memory_order_release);
	}
	r->cur_len = rlen;
	*len = rlen;
	return p + RING_HDR;
}

void
ring_consume(struct ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, tail + RING_HDR + round8(r->cur_len),
	    memory_order_release);
}

size_t
ring_used(const struct ring *r)
{
	size_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	return h - t;
}
