/*
 * pretrig.c: pre-trigger packet buffer (see pretrig.h).
 *
 * One arena of fixed size holds every watched host's packets in arrival
 * order, as a circular log of records that never straddle the end (a PAD
 * record fills the gap when one does not fit).  Each record has a 32-byte
 * header {u32 rec_len, u32 slot, u64 ts_ns, u32 caplen, u32 wirelen,
 * u64 next} and its bytes; `next` links the records of one host oldest to
 * newest, so each host is a FIFO threaded through the arena.
 *
 * Invariants:
 *  - records between tail and head are in arrival order, so the record at
 *    tail, when live, is the oldest record of its host (its host's head);
 *    evicting for the global cap therefore always evicts a host's oldest;
 *  - a host's own limits (bytes, age) evict its head, which may sit in the
 *    middle of the arena: it is marked DEAD and its space comes back when
 *    the tail reaches it.  Dead space counts against the arena (the global
 *    cap is a hard memory bound) but not against the host;
 *  - a host's live bytes never exceed its budget; the arena never exceeds
 *    its size, fixed at pretrig_new().
 *
 * Cost per push: one memcpy of the packet, O(1) amortised evictions (each
 * record is evicted or taken once).  Memory: the arena plus 40 bytes per
 * host slot.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pretrig.h"

#define REC_HDR 32u
#define SLOT_DEAD 0xffffffffu
#define SLOT_PAD 0xfffffffeu
#define OFF_NONE UINT64_MAX
#define SNAP_HDR 16u /* ts u64, caplen u32, wirelen u32 */

struct pt_host {
	uint64_t head;	    /* offset of the oldest record */
	uint64_t tail;	    /* offset of the newest record */
	uint64_t bytes;	    /* arena bytes of live records */
	uint64_t max_bytes; /* 0: not enabled */
	uint64_t max_age_ns;
	uint32_t pkts;
	uint32_t snaplen;
};

struct pretrig {
	uint8_t		    *mem;
	size_t		     cap;  /* multiple of 8 */
	size_t		     head; /* next write offset */
	size_t		     tail; /* oldest record offset */
	size_t		     used; /* bytes from tail to head */
	uint32_t	     max_hosts;
	struct pt_host	    *hosts;
	struct pretrig_stats st;
};

struct rec {
	uint32_t len;
	uint32_t slot;
	uint64_t ts_ns;
	uint32_t caplen;
	uint32_t wirelen;
	uint64_t next;
};

static void
rec_get(const struct pretrig *pt, size_t off, struct rec *r)
{
	const uint8_t *p = pt->mem + off;

	memcpy(&r->len, p, 4);
	memcpy(&r->slot, p + 4, 4);
	if (r->slot == SLOT_PAD)
		return; /* a pad may be only 8 bytes long */
	memcpy(&r->ts_ns, p + 8, 8);
	memcpy(&r->caplen, p + 16, 4);
	memcpy(&r->wirelen, p + 20, 4);
	memcpy(&r->next, p + 24, 8);
}

static void
rec_put(struct pretrig *pt, size_t off, const struct rec *r)
{
	uint8_t *p = pt->mem + off;

	memcpy(p, &r->len, 4);
	memcpy(p + 4, &r->slot, 4);
	if (r->slot == SLOT_PAD)
		return;
	memcpy(p + 8, &r->ts_ns, 8);
	memcpy(p + 16, &r->caplen, 4);
	memcpy(p + 20, &r->wirelen, 4);
	memcpy(p + 24, &r->next, 8);
}

static void
rec_set_slot(struct pretrig *pt, size_t off, uint32_t slot)
{
	memcpy(pt->mem + off + 4, &slot, 4);
}

static void
rec_set_next(struct pretrig *pt, size_t off, uint64_t next)
{
	memcpy(pt->mem + off + 24, &next, 8);
}

static size_t
rec_size(uint32_t caplen)
{
	return REC_HDR + (((size_t)caplen + 7) & ~(size_t)7);
}

struct pretrig *
pretrig_new(uint32_t max_hosts, size_t mem_bytes)
{
	struct pretrig *pt;
	uint32_t	i;

	if (max_hosts == 0 || mem_bytes < 4096) {
		errno = EINVAL;
		return NULL;
	}
	if ((pt = calloc(1, sizeof(*pt))) == NULL)
		return NULL;
	pt->cap = mem_bytes & ~(size_t)7;
	pt->mem = malloc(pt->cap);
	pt->hosts = calloc(max_hosts, sizeof(*pt->hosts));
	if (pt->mem == NULL || pt->hosts == NULL) {
		pretrig_free(pt);
		return NULL;
	}
	pt->max_hosts = max_hosts;
	for (i = 0; i < max_hosts; i++)
		pt->hosts[i].head = pt->hosts[i].tail = OFF_NONE;
	pt->st.arena_bytes = pt->cap;
	return pt;
}

void
pretrig_free(struct pretrig *pt)
{
	if (pt == NULL)
		return;
	free(pt->mem);
	free(pt->hosts);
	free(pt);
}

/* Advance the tail over dead records and pads. */
static void
reclaim(struct pretrig *pt)
{
	struct rec r;

	while (pt->used > 0) {
		rec_get(pt, pt->tail, &r);
		if (r.slot != SLOT_DEAD && r.slot != SLOT_PAD)
			break;
		pt->used -= r.len;
		pt->tail += r.len;
		if (pt->tail == pt->cap)
			pt->tail = 0;
	}
	if (pt->used == 0)
		pt->head = pt->tail = 0;
}

/* Unlink and kill the oldest record of host h. */
static void
kill_head(struct pretrig *pt, struct pt_host *h)
{
	size_t	   off = (size_t)h->head;
	struct rec r;

	rec_get(pt, off, &r);
	h->head = r.next;
	if (h->head == OFF_NONE)
		h->tail = OFF_NONE;
	h->bytes -= r.len;
	h->pkts--;
	pt->st.live_pkts--;
	pt->st.live_bytes -= r.len;
	rec_set_slot(pt, off, SLOT_DEAD);
	if (off == pt->tail)
		reclaim(pt);
}

/* Evict the record at the tail (global cap); it is its host's head. */
static void
evict_tail(struct pretrig *pt)
{
	struct rec r;

	rec_get(pt, pt->tail, &r);
	if (r.slot < pt->max_hosts) {
		assert(pt->hosts[r.slot].head == pt->tail);
		kill_head(pt, &pt->hosts[r.slot]);
		pt->st.n_evict_global++;
	} else
		reclaim(pt);
}

/* Find need contiguous bytes, evicting from the tail; returns the offset. */
static size_t
arena_alloc(struct pretrig *pt, size_t need)
{
	struct rec pad;
	size_t	   at;

	for (;;) {
		if (pt->used == 0)
			pt->head = pt->tail = 0;
		if (pt->used == 0 || pt->head > pt->tail) {
			/* Free: [head, cap) and [0, tail). */
			if (pt->cap - pt->head >= need) {
				at = pt->head;
				break;
			}
			if (pt->tail >= need) {
				pad.len = (uint32_t)(pt->cap - pt->head);
				pad.slot = SLOT_PAD;
				rec_put(pt, pt->head, &pad);
				pt->used += pad.len;
				at = 0;
				break;
			}
		} else if (pt->head < pt->tail && pt->tail - pt->head >= need) {
			at = pt->head;
			break;
		}
		/* head == tail with used > 0: full. */
		evict_tail(pt);
	}
	pt->used += need;
	pt->head = at + need;
	if (pt->head == pt->cap)
		pt->head = 0;
	return at;
}

int
pretrig_enable(struct pretrig *pt, uint32_t slot, size_t max_bytes,
    uint64_t max_age_ns, uint32_t snaplen)
{
	struct pt_host *h;

	if (slot >= pt->max_hosts || max_bytes == 0 || snaplen == 0) {
		errno = EINVAL;
		return -1;
	}
	h = &pt->hosts[slot];
	h->max_bytes = max_bytes;
	h->max_age_ns = max_age_ns;
	h->snaplen = snaplen;
	while (h->bytes > h->max_bytes)
		kill_head(pt, h);
	return 0;
}

void
pretrig_disable(struct pretrig *pt, uint32_t slot)
{
	struct pt_host *h;

	if (slot >= pt->max_hosts)
		return;
	h = &pt->hosts[slot];
	while (h->head != OFF_NONE)
		kill_head(pt, h);
	h->max_bytes = 0;
}

int
pretrig_is_enabled(const struct pretrig *pt, uint32_t slot)
{
	return slot < pt->max_hosts && pt->hosts[slot].max_bytes > 0;
}

/* Drop the host's records older than now - max_age. */
static void
expire_host(struct pretrig *pt, struct pt_host *h, uint64_t now_ns)
{
	struct rec r;

	if (h->max_age_ns == 0 || now_ns < h->max_age_ns)
		return;
	while (h->head != OFF_NONE) {
		rec_get(pt, (size_t)h->head, &r);
		if (r.ts_ns >= now_ns - h->max_age_ns)
			break;
		kill_head(pt, h);
		pt->st.n_evict_age++;
	}
}

int
pretrig_push(struct pretrig *pt, uint32_t slot, uint64_t ts_ns,
    const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	struct pt_host *h;
	struct rec	r;
	size_t		need, at;

	if (!pretrig_is_enabled(pt, slot)) {
		errno = ENOENT;
		return -1;
	}
	h = &pt->hosts[slot];
	if (caplen > h->snaplen)
		caplen = h->snaplen;
	need = rec_size(caplen);
	if (need > h->max_bytes || need > pt->cap / 2) {
		pt->st.n_too_big++;
		errno = E2BIG;
		return -1;
	}
	expire_host(pt, h, ts_ns);
	while (h->bytes + need > h->max_bytes) {
		kill_head(pt, h);
		pt->st.n_evict_host++;
	}
	at = arena_alloc(pt, need);
	r.len = (uint32_t)need;
	r.slot = slot;
	r.ts_ns = ts_ns;
	r.caplen = caplen;
	r.wirelen = wirelen;
	r.next = OFF_NONE;
	rec_put(pt, at, &r);
	memcpy(pt->mem + at + REC_HDR, data, caplen);
	if (h->tail != OFF_NONE)
		rec_set_next(pt, (size_t)h->tail, at);
	else
		h->head = at;
	h->tail = at;
	h->bytes += need;
	h->pkts++;
	pt->st.n_pushed++;
	pt->st.live_pkts++;
	pt->st.live_bytes += need;
	return 0;
}

struct pretrig_snap *
pretrig_take(struct pretrig *pt, uint32_t slot, uint64_t now_ns)
{
	struct pretrig_snap *s;
	struct pt_host	    *h;
	struct rec	     r;
	uint64_t	     off;
	size_t		     len = 0, o = 0;

	if (slot >= pt->max_hosts || pt->hosts[slot].head == OFF_NONE) {
		errno = ENOENT;
		return NULL;
	}
	h = &pt->hosts[slot];
	expire_host(pt, h, now_ns);
	if (h->head == OFF_NONE) {
		errno = ENOENT;
		return NULL;
	}
	for (off = h->head; off != OFF_NONE; off = r.next) {
		rec_get(pt, (size_t)off, &r);
		len += SNAP_HDR + r.caplen;
	}
	if ((s = malloc(sizeof(*s) + len)) == NULL)
		return NULL;
	s->slot = slot;
	s->n_pkts = h->pkts;
	s->len = len;
	for (off = h->head; off != OFF_NONE; off = r.next) {
		rec_get(pt, (size_t)off, &r);
		memcpy(s->data + o, &r.ts_ns, 8);
		memcpy(s->data + o + 8, &r.caplen, 4);
		memcpy(s->data + o + 12, &r.wirelen, 4);
		memcpy(
		    s->data + o + SNAP_HDR, pt->mem + off + REC_HDR, r.caplen);
		o += SNAP_HDR + r.caplen;
	}
	pt->st.n_taken += h->pkts;
	while (h->head != OFF_NONE)
		kill_head(pt, h);
	return s;
}

void
pretrig_snap_free(struct pretrig_snap *s)
{
	free(s);
}

int
pretrig_snap_next(
    const struct pretrig_snap *s, size_t *off, struct pretrig_pkt *p)
{
	if (s == NULL || *off + SNAP_HDR > s->len)
		return 0;
	memcpy(&p->ts_ns, s->data + *off, 8);
	memcpy(&p->caplen, s->data + *off + 8, 4);
	memcpy(&p->wirelen, s->data + *off + 12, 4);
	if (p->caplen > s->len - *off - SNAP_HDR)
		return 0;
	p->data = s->data + *off + SNAP_HDR;
	*off += SNAP_HDR + p->caplen;
	return 1;
}

void
pretrig_host_usage(
    const struct pretrig *pt, uint32_t slot, uint64_t *pkts, uint64_t *bytes)
{
	*pkts = *bytes = 0;
	if (slot < pt->max_hosts) {
		*pkts = pt->hosts[slot].pkts;
		*bytes = pt->hosts[slot].bytes;
	}
}

void
pretrig_get_stats(const struct pretrig *pt, struct pretrig_stats *st)
{
	*st = pt->st;
}
