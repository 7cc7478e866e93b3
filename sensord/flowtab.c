/*
 * flowtab.c: the conversation table: bounded memory, one lookup per packet.
 *
 * Owns a pool of struct conv (conv.h, 112 bytes each) and an open-addressing
 * index, both allocated once in ft_new() from the memory budget; nothing is
 * allocated afterwards.  conv.c gives a record its meaning; this file stores,
 * finds, orders and retires records.
 *
 * Index: a power-of-two array of 8-byte slots {32-bit hash, pool index + 1},
 * 0 = empty, linear probing, load <= 0.75 by construction (the pool never
 * holds more than 3/4 of the slot count), deletion by backward shift so no
 * tombstones accumulate.  The stored hash rejects almost every non-matching
 * slot without touching its record.  The hash is SipHash-1-3 keyed with the
 * configured seed over the 40-byte canonical key (hash.c), so traffic cannot
 * be aimed at one probe chain.
 *
 * Sizing: S slots is the largest power of two with 64 * S <= budget; the
 * pool takes min(3S/4, (budget - 8S) / 112) records.  Load is then between
 * 1/2 and 3/4, and memory per tracked conversation (record plus its share of
 * the index) between 122.7 and 128 bytes.  The pool is handed out from a
 * high-water mark, so pages the table never needed are never touched.
 *
 * Expiry: three LRU lists, one per class (embryonic, established, closing;
 * see conv.h), each with a single timeout, so each list stays ordered by
 * last activity and expiry pops heads: O(1) per record.  A packet moves its
 * record to the tail only when its last-seen time crossed a 2^20 us (~1 s)
 * boundary (nginx's lazy timer idea), so busy conversations cost no list
 * writes, at the price of expiring up to ~1 s late.  Records are also
 * checked lazily on lookup: a packet for a conversation that is already due
 * ends it and starts a new one, so replay without ticks stays exact.  The
 * active timeout is checked on the packet path, before the packet is
 * counted, so no record spans more than active_s of packet time.
 *
 * Time: the clock is the highest packet time seen or ft_expire()'s now_us,
 * never a clock read.  Out-of-order packets are counted (n_out_of_order) and
 * still credited; expiry decisions use the clock.
 *
 * Pressure: when the pool is full, a new conversation first reaps any
 * record already due, else evicts the head (least recently active) of the
 * embryonic list, then the closing list, and only then the established one:
 * a flood of spoofed SYNs recycles embryonic records among themselves and
 * leaves established conversations alone.  Every eviction emits a record
 * (END_EVICT) and is counted.
 *
 * conv_id: a bijective mix, within 53 bits, of a per-table base derived
 * from the seed with (slot generation << 26 | slot): unique while no slot is
 * reused 2^27 times and the table holds at most 2^26 conversations, and
 * reproducible for a given seed and input.  53 bits because the flow log is
 * JSON and jq (like JavaScript) reads numbers as doubles: a 64-bit id would
 * lose its low bits and interim records of one conversation would no longer
 * group.
 *
 * Cost per packet: one SipHash-1-3 of 40 bytes, a probe run in the index
 * (one cache line, stored hashes), one record (two cache lines), and when
 * the record moves in its list, its two neighbours.  No allocation, no
 * division (constant divisors become multiplies), no clock read.  The
 * misses dominate at scale: ft_packet_batch() overlaps them by
 * prefetching in a software pipeline.  Measured with tests/tools/ft_speed
 * on a shared 2-core VM (about 275 ns per dependent DRAM miss): 1M live
 * conversations, uniform random order, ~170-240 ns per packet batched,
 * ~700 ns one at a time; ~60-90 ns when the conversations are in cache.
 *
 * The sink's callbacks run synchronously inside ft_packet, ft_expire and
 * ft_flush and must not call back into the table.
 */
#include <sys/mman.h>

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "flowtab.h"
#include "hash.h"

#define FT_NIL UINT32_MAX
#define FT_MIN_CONVS 64
#define FT_MAX_CONVS (UINT32_C(1) << 26) /* 8 GiB of records; conv_id bits */
#define FT_MAX_SLOTS (UINT32_C(1) << 31)
#define FT_MOVE_SHIFT 20 /* LRU move granularity, 2^20 us */
#define FT_BATCH 64	 /* packets per prefetch pipeline */
#define FT_LAG 4	 /* packets between its stages */
#define US_PER_S UINT64_C(1000000)
#define FT_HUGE ((size_t)2 << 20) /* x86-64 huge page */
#define FT_PAGE ((size_t)4096)	  /* munmap granularity */

_Static_assert(sizeof(struct conv_key) == 40, "conv_key has padding");
_Static_assert(sizeof(struct conv) == 112, "conv is not 112 bytes");

struct ft_slot {
	uint32_t h;   /* low 32 bits of the key's hash */
	uint32_t ref; /* pool index + 1; 0 = empty */
};

struct flowtab {
	struct ft_slot *idx;
	struct conv    *pool;
	uint32_t	mask;	   /* slots - 1 */
	uint32_t	cap;	   /* pool records */
	uint32_t	hw;	   /* records ever handed out */
	uint32_t	free_head; /* ended records, linked by next */
	uint32_t	head[CONV_NCLASS];
	uint32_t	tail[CONV_NCLASS];
	uint64_t	tmo_us[CONV_NCLASS]; /* per class */
	uint64_t	active_us;
	uint64_t	clock; /* flow time, monotone */
	uint64_t	id_base;
	struct hash_key hkey;
	struct ft_sink	sink;
	struct ft_stats st;
};

/*
 * Zeroed, 2 MiB-aligned anonymous memory for the pool and the index, with
 * transparent huge pages requested: a random probe then costs one cache
 * miss instead of a cache miss plus a TLB miss (and, in a VM, a nested page
 * walk); ft_speed measured 3.5 us per packet with 4 KiB pages at 1M
 * conversations.  Pages are still faulted in lazily as records are used.
 */
static size_t
ft_map_len(size_t size)
{
	return (size + FT_PAGE - 1) & ~(FT_PAGE - 1);
}

static void *
ft_map(size_t size)
{
	size_t	 len, head;
	uint8_t *p, *a;

	size = ft_map_len(size);
	len = size + FT_HUGE;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	head = (FT_HUGE - ((uintptr_t)p & (FT_HUGE - 1))) & (FT_HUGE - 1);
	a = p + head;
	if (head > 0)
		munmap(p, head);
	if (len - head > size)
		munmap(a + size, len - head - size);
	(void)madvise(a, size, MADV_HUGEPAGE); /* a hint; may be off */
	return a;
}

static void
ft_unmap(void *p, size_t size)
{
	if (p != NULL)
		munmap(p, ft_map_len(size));
}

void
ft_config_defaults(struct ft_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_budget = (size_t)128 << 20; /* ~1M conversations */
	cfg->idle_s = 30;
	cfg->active_s = 1800;
	cfg->embryonic_s = 5;
	cfg->closing_s = 2;
}

static void
ft_apply_timeouts(struct flowtab *ft, const struct ft_config *cfg)
{
	uint32_t active = cfg->active_s ? cfg->active_s : 1800;

	if (active > FT_ACTIVE_MAX_S)
		active = FT_ACTIVE_MAX_S;
	ft->tmo_us[CONV_CLASS_NONE] = 0;
	ft->tmo_us[CONV_CLASS_EMB] =
	    (uint64_t)(cfg->embryonic_s ? cfg->embryonic_s : 5) * US_PER_S;
	ft->tmo_us[CONV_CLASS_EST] =
	    (uint64_t)(cfg->idle_s ? cfg->idle_s : 30) * US_PER_S;
	ft->tmo_us[CONV_CLASS_CLOSING] =
	    (uint64_t)(cfg->closing_s ? cfg->closing_s : 2) * US_PER_S;
	ft->active_us = (uint64_t)active * US_PER_S;
}

struct flowtab *
ft_new(const struct ft_config *cfg, const struct ft_sink *sink)
{
	static const char id_label[] = "sensord conv_id";
	struct flowtab	 *ft;
	size_t		  budget = cfg->mem_budget, slots = 1, cap;
	int		  i;

	while (slots < FT_MAX_SLOTS && slots * 2 <= budget / 64)
		slots *= 2;
	if (budget < slots * sizeof(struct ft_slot)) {
		errno = EINVAL;
		return NULL;
	}
	cap = (budget - slots * sizeof(struct ft_slot)) / sizeof(struct conv);
	if (cap > slots / 4 * 3)
		cap = slots / 4 * 3;
	if (cap > FT_MAX_CONVS)
		cap = FT_MAX_CONVS;
	if (cap < FT_MIN_CONVS) {
		errno = EINVAL;
		return NULL;
	}

	if ((ft = calloc(1, sizeof(*ft))) == NULL)
		return NULL;
	ft->mask = (uint32_t)(slots - 1);
	ft->cap = (uint32_t)cap;
	ft->idx = ft_map(slots * sizeof(*ft->idx));
	ft->pool = ft_map(cap * sizeof(*ft->pool));
	if (ft->idx == NULL || ft->pool == NULL) {
		ft_free(ft);
		errno = ENOMEM;
		return NULL;
	}
	ft->free_head = FT_NIL;
	for (i = 0; i < CONV_NCLASS; i++)
		ft->head[i] = ft->tail[i] = FT_NIL;
	ft_apply_timeouts(ft, cfg);
	hash_key_init(&ft->hkey, cfg->seed);
	ft->id_base = hash_sip13(&ft->hkey, id_label, sizeof(id_label) - 1);
	if (sink != NULL)
		ft->sink = *sink;
	ft->st.capacity = cap;
	ft->st.bytes_per_flow = (cap * sizeof(struct conv) +
				    slots * sizeof(struct ft_slot) + cap - 1) /
	    cap;
	return ft;
}

void
ft_free(struct flowtab *ft)
{
	if (ft == NULL)
		return;
	ft_unmap(ft->idx, ((size_t)ft->mask + 1) * sizeof(*ft->idx));
	ft_unmap(ft->pool, (size_t)ft->cap * sizeof(*ft->pool));
	free(ft);
}

void
ft_set_timeouts(struct flowtab *ft, const struct ft_config *cfg)
{
	ft_apply_timeouts(ft, cfg);
}

void
ft_get_stats(const struct flowtab *ft, struct ft_stats *st)
{
	*st = ft->st;
}

static inline uint32_t
ft_ci(const struct flowtab *ft, const struct conv *c)
{
	return (uint32_t)(c - ft->pool);
}

/*
 * SipHash-1-3 of the key.  An IPv4 key (no CONV_KEY_V6) carries its
 * addresses as ::ffff:a.b.c.d, whose first 12 bytes are constant: hash
 * the 16 bytes that vary instead of all 40 (6 SipRounds instead of 9, a
 * third of the hashing for most traffic).  The length differs from the
 * 40-byte IPv6 input, so the two forms cannot collide by construction.
 */
static inline uint32_t
ft_hash(const struct flowtab *ft, const struct conv_key *k)
{
	uint8_t	 b[16];
	uint64_t w0, w1;

	if (k->vlan & CONV_KEY_V6)
		return (uint32_t)hash_sip13(&ft->hkey, k, sizeof(*k));
	memcpy(b, k->a + 12, 4);
	memcpy(b + 4, k->b + 12, 4);
	memcpy(b + 8, &k->pa, 2);
	memcpy(b + 10, &k->pb, 2);
	memcpy(b + 12, &k->vlan, 2);
	b[14] = k->proto;
	b[15] = k->iface;
	memcpy(&w0, b, 8);
	memcpy(&w1, b + 8, 8);
	return (uint32_t)hash_sip13_16(&ft->hkey, le64toh(w0), le64toh(w1));
}

/* --- expiry lists ------------------------------------------------------ */

static void
list_append(struct flowtab *ft, struct conv *c, enum conv_class cl)
{
	uint32_t ci = ft_ci(ft, c), t = ft->tail[cl];

	c->next = FT_NIL;
	c->prev = t;
	if (t != FT_NIL)
		ft->pool[t].next = ci;
	else
		ft->head[cl] = ci;
	ft->tail[cl] = ci;
}

static void
list_unlink(struct flowtab *ft, struct conv *c, enum conv_class cl)
{
	if (c->prev != FT_NIL)
		ft->pool[c->prev].next = c->next;
	else
		ft->head[cl] = c->next;
	if (c->next != FT_NIL)
		ft->pool[c->next].prev = c->prev;
	else
		ft->tail[cl] = c->prev;
}

/* --- index ------------------------------------------------------------- */

static void
index_insert(struct flowtab *ft, uint32_t h, uint32_t ci)
{
	uint32_t i = h & ft->mask;

	while (ft->idx[i].ref != 0)
		i = (i + 1) & ft->mask;
	ft->idx[i].h = h;
	ft->idx[i].ref = ci + 1;
}

/*
 * Backward-shift deletion: pull later members of the probe run back over
 * the hole unless their home slot lies cyclically in (hole, member], so
 * every lookup still finds its key before the first empty slot.
 */
static void
index_delete(struct flowtab *ft, uint32_t i)
{
	uint32_t j = i, home;

	for (;;) {
		j = (j + 1) & ft->mask;
		if (ft->idx[j].ref == 0)
			break;
		home = ft->idx[j].h & ft->mask;
		if (((j - home) & ft->mask) >= ((j - i) & ft->mask)) {
			ft->idx[i] = ft->idx[j];
			i = j;
		}
	}
	ft->idx[i].h = 0;
	ft->idx[i].ref = 0;
}

/* The slot holding the record with reference ref, probing from slot i. */
static uint32_t
index_find_from(const struct flowtab *ft, uint32_t ref, uint32_t i)
{
	while (ft->idx[i].ref != ref)
		i = (i + 1) & ft->mask;
	return i;
}

/* --- records ----------------------------------------------------------- */

#define ID_BITS 53
#define ID_MASK ((UINT64_C(1) << ID_BITS) - 1)

/* xorshift-multiply rounds modulo 2^53: each step is a bijection. */
static uint64_t
mix53(uint64_t x)
{
	x &= ID_MASK;
	x ^= x >> 26;
	x = (x * UINT64_C(0x1d8e4e27c47d125)) & ID_MASK;
	x ^= x >> 27;
	x = (x * UINT64_C(0x0b5ad4eceda1ce3)) & ID_MASK;
	x ^= x >> 26;
	return x;
}

static uint64_t
ft_conv_id(const struct flowtab *ft, const struct conv *c)
{
	return mix53(ft->id_base ^
	    (((uint64_t)c->gen & 0x7ffffff) << 26 |
		(ft_ci(ft, c) & 0x3ffffff)));
}

static void
ft_emit(struct flowtab *ft, const struct conv *c, enum end_reason reason)
{
	struct convrec cr;

	ft->st.n_records++;
	ft->st.n_end[reason]++;
	if (ft->sink.conv_record == NULL)
		return;
	conv_fill(c, ft_conv_id(ft, c), reason, &cr);
	ft->sink.conv_record(ft->sink.arg, &cr);
}

/*
 * Records are 112 bytes at a 112-byte stride, so half of them straddle
 * three cache lines (those starting 32 or 48 bytes into a line), and the
 * packet path reads all of a record: fetch its first, middle and last byte's
 * lines (two of them coincide for the records that span two).
 */
static inline void
prefetch_conv(const struct conv *c)
{
	const char *b = (const char *)c;

	__builtin_prefetch(b, 1, 3);
	__builtin_prefetch(b + 64, 1, 3);
	__builtin_prefetch(b + sizeof(*c) - 1, 1, 3);
}

_Static_assert(sizeof(struct conv) <= 128, "prefetch_conv: three lines");

/* Take an emitted record out of the index (at pos), its list and the table. */
static void
ft_release(struct flowtab *ft, struct conv *c, uint32_t pos)
{
	index_delete(ft, pos);
	list_unlink(ft, c, conv_class(c));
	conv_set_class(c, CONV_CLASS_NONE);
	c->next = ft->free_head;
	ft->free_head = ft_ci(ft, c);
	ft->st.n_active--;
}

/* Emit the final record of c (index slot pos) and free it. */
static void
ft_end_at(
    struct flowtab *ft, struct conv *c, uint32_t pos, enum end_reason reason)
{
	ft_emit(ft, c, reason);
	ft_release(ft, c, pos);
}

/* The same when the slot is not known (expiry, flush). */
static void
ft_end(struct flowtab *ft, struct conv *c, enum end_reason reason)
{
	uint32_t i = ft_hash(ft, &c->key) & ft->mask;

	/*
	 * Records end cold (idle for the timeout): start the index slot's
	 * miss and, for ft_expire's next victim, the LRU successor's, then
	 * emit; both have arrived by the time they are needed.
	 */
	__builtin_prefetch(&ft->idx[i], 1, 3);
	if (c->next != FT_NIL)
		prefetch_conv(&ft->pool[c->next]);
	ft_emit(ft, c, reason);
	ft_release(ft, c, index_find_from(ft, ft_ci(ft, c) + 1, i));
}

static inline int
ft_due(const struct flowtab *ft, const struct conv *c)
{
	return conv_last_us(c) + ft->tmo_us[conv_class(c)] <= ft->clock;
}

/* Pool full: end one record, by timeout if one is due, else by eviction. */
static void
ft_make_room(struct flowtab *ft)
{
	static const enum conv_class order[] = {
	    CONV_CLASS_EMB, CONV_CLASS_CLOSING, CONV_CLASS_EST};
	struct conv *c;
	size_t	     i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (ft->head[order[i]] == FT_NIL)
			continue;
		c = &ft->pool[ft->head[order[i]]];
		if (ft_due(ft, c)) {
			ft_end(ft, c, conv_timeout_reason(c));
			return;
		}
	}
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (ft->head[order[i]] == FT_NIL)
			continue;
		ft->st.n_evict++;
		ft_end(ft, &ft->pool[ft->head[order[i]]], END_EVICT);
		return;
	}
}

static struct conv *
ft_alloc(struct flowtab *ft)
{
	uint32_t ci;

	if (ft->free_head == FT_NIL && ft->hw == ft->cap)
		ft_make_room(ft);
	if (ft->free_head != FT_NIL) {
		ci = ft->free_head;
		ft->free_head = ft->pool[ci].next;
		/*
		 * Freed records go cold: fetch the next one now, or the next
		 * new conversation stalls on reading its link (a quarter of
		 * ft_packet_pre's time in a profile of the bench trace).
		 */
		if (ft->free_head != FT_NIL)
			__builtin_prefetch(&ft->pool[ft->free_head], 1, 3);
	} else
		ci = ft->hw++;
	return &ft->pool[ci];
}

/* A packet's key and hash, worked out before the table is touched. */
struct ft_pre {
	struct conv_key k;
	uint32_t	h;
	int		side;
	int		is_reply;
};

static inline void
ft_prepare(const struct flowtab *ft, const struct pktinfo *pi, uint8_t iface,
    struct ft_pre *p)
{
	p->side = conv_key_make(&p->k, pi, iface, &p->is_reply);
	p->h = ft_hash(ft, &p->k);
}

/* Key equality as five 64-bit compares (the key has no padding). */
static inline int
key_eq(const struct conv_key *a, const struct conv_key *b)
{
	uint64_t x[5], y[5];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		   (x[4] ^ y[4])) == 0;
}

_Static_assert(sizeof(struct conv_key) == 5 * sizeof(uint64_t),
    "key_eq compares five words");

static void
ft_packet_pre(
    struct flowtab *ft, const struct pktinfo *pi, const struct ft_pre *p)
{
	struct conv    *c = NULL;
	uint64_t	t = pi->ts_us, prev_last = 0;
	uint32_t	i, ref;
	enum conv_class cl, ncl;
	int		is_new = 0;

	if (t < ft->clock)
		ft->st.n_out_of_order++;
	else
		ft->clock = t;
	ft->st.n_packets++;
	ft->st.n_bytes += pi->ip_len;

	for (i = p->h & ft->mask; (ref = ft->idx[i].ref) != 0;
	     i = (i + 1) & ft->mask) {
		if (ft->idx[i].h == p->h &&
		    key_eq(&ft->pool[ref - 1].key, &p->k)) {
			c = &ft->pool[ref - 1];
			break;
		}
	}

	if (c != NULL) {
		if (ft_due(ft, c) ||
		    (conv_class(c) == CONV_CLASS_CLOSING &&
			conv_is_bare_syn(pi))) {
			/* Timed out already, or a new SYN after the close. */
			ft_end_at(ft, c, i, conv_timeout_reason(c));
			c = NULL;
		} else if (ft->clock - conv_start_us(c) >= ft->active_us) {
			/* Active timeout, before this packet is counted. */
			ft_emit(ft, c, END_ACTIVE);
			c->seq++;
			conv_interval_reset(c, t);
		} else
			prev_last = conv_last_us(c);
	}
	if (c == NULL) {
		c = ft_alloc(ft);
		conv_init(c, &p->k, pi, p->side, p->is_reply);
		conv_interval_reset(c, t);
		index_insert(ft, p->h, ft_ci(ft, c));
		is_new = 1;
		ft->st.n_created++;
		ft->st.n_active++;
	}

	conv_account(c, pi, p->side, t);

	cl = conv_class(c);
	ncl = conv_next_class(c, pi, p->side, is_new);
	if (ncl != cl) {
		if (cl != CONV_CLASS_NONE)
			list_unlink(ft, c, cl);
		conv_set_class(c, ncl);
		list_append(ft, c, ncl);
	} else if (ft->tail[cl] != ft_ci(ft, c) &&
	    (ft->clock >> FT_MOVE_SHIFT) != (prev_last >> FT_MOVE_SHIFT)) {
		list_unlink(ft, c, cl);
		list_append(ft, c, cl);
	}

	if (is_new && ft->sink.conv_start != NULL) {
		struct convrec cr;

		conv_fill(c, ft_conv_id(ft, c), END_NONE, &cr);
		ft->sink.conv_start(ft->sink.arg, &cr);
	}
}

void
ft_packet(struct flowtab *ft, const struct pktinfo *pi, uint8_t iface)
{
	struct ft_pre p;

	if (!(pi->flags & PI_HAS_L3)) {
		ft->st.n_skipped++;
		return;
	}
	ft_prepare(ft, pi, iface, &p);
	ft_packet_pre(ft, pi, &p);
}

/*
 * The stages of ft_packet_batch(), each a hint for the next: work out the
 * key and hash and prefetch the index slot; find the candidate record (by
 * stored hash only) in the slot's run and prefetch it; prefetch the list
 * neighbours a move will touch.  The last stage, ft_packet_pre(), does the
 * real lookup, so a candidate that an earlier packet evicted or moved is
 * simply found (or not) again.
 */
static inline void
stage_hash(const struct flowtab *ft, const struct pktinfo *pi, uint8_t iface,
    struct ft_pre *p)
{
	if (!(pi->flags & PI_HAS_L3))
		return;
	ft_prepare(ft, pi, iface, p);
	__builtin_prefetch(&ft->idx[p->h & ft->mask], 0, 3);
}

static inline const struct conv *
stage_find(
    const struct flowtab *ft, const struct pktinfo *pi, const struct ft_pre *p)
{
	uint32_t i, ref;

	if (!(pi->flags & PI_HAS_L3))
		return NULL;
	for (i = p->h & ft->mask; (ref = ft->idx[i].ref) != 0;
	     i = (i + 1) & ft->mask) {
		if (ft->idx[i].h == p->h) {
			prefetch_conv(&ft->pool[ref - 1]);
			return &ft->pool[ref - 1];
		}
	}
	return NULL;
}

/*
 * ft_packet_pre() moves a record in its list only when its class changes
 * (out of embryonic, or to closing on a FIN or RST) or at most once per
 * 2^FT_MOVE_SHIFT us of its time.  Otherwise the neighbours stay untouched,
 * and fetching them anyway would take two of the CPU's few miss buffers
 * per packet from the lookups that need them.
 */
static inline void
stage_neighbours(
    const struct flowtab *ft, const struct pktinfo *pi, const struct conv *c)
{
	if (c == NULL)
		return;
	if (conv_class(c) == CONV_CLASS_EST &&
	    !(pi->tcp_flags & (TH_FIN | TH_RST)) &&
	    (pi->ts_us >> FT_MOVE_SHIFT) == (conv_last_us(c) >> FT_MOVE_SHIFT))
		return;
	if (c->prev != FT_NIL)
		__builtin_prefetch(&ft->pool[c->prev].next, 1, 3);
	if (c->next != FT_NIL)
		__builtin_prefetch(&ft->pool[c->next].prev, 1, 3);
}

/*
 * Same as ft_packet() on each packet in order, but software-pipelined so
 * that cache misses overlap with work instead of stalling it: at step t,
 * packet t is hashed, packet t - FT_LAG looks up its index slot (prefetched
 * FT_LAG packets of work ago), packet t - 2 FT_LAG reads its record's list
 * links, and packet t - 3 FT_LAG is metered.  Each miss thus has FT_LAG
 * packets' worth of metering to arrive in, and never more than a few are
 * in flight at once (a burst of 16 prefetches stalled on the CPU's miss
 * buffers: a third of this function's time in the burst version).
 */
void
ft_packet_batch(
    struct flowtab *ft, const struct pktinfo *pi, size_t n, uint8_t iface)
{
	struct ft_pre	   pre[FT_BATCH];
	const struct conv *cand[FT_BATCH];
	size_t		   m, t, f, l, p;

	while (n > 0) {
		m = n < FT_BATCH ? n : FT_BATCH;
		for (t = 0; t < m + 3 * FT_LAG; t++) {
			/* The packets the later stages are at: a stage not
			 * begun yet wraps round to an index >= m. */
			f = t - FT_LAG;
			l = t - 2 * FT_LAG;
			p = t - 3 * FT_LAG;
			if (t < m)
				stage_hash(ft, &pi[t], iface, &pre[t]);
			if (f < m)
				cand[f] = stage_find(ft, &pi[f], &pre[f]);
			if (l < m)
				stage_neighbours(ft, &pi[l], cand[l]);
			if (p >= m)
				continue;
			if (pi[p].flags & PI_HAS_L3)
				ft_packet_pre(ft, &pi[p], &pre[p]);
			else
				ft->st.n_skipped++;
		}
		pi += m;
		n -= m;
	}
}

void
ft_expire(struct flowtab *ft, uint64_t now_us)
{
	static const enum conv_class order[] = {
	    CONV_CLASS_EMB, CONV_CLASS_CLOSING, CONV_CLASS_EST};
	struct conv *c;
	size_t	     i;

	if (now_us > ft->clock)
		ft->clock = now_us;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		while (ft->head[order[i]] != FT_NIL) {
			c = &ft->pool[ft->head[order[i]]];
			if (!ft_due(ft, c))
				break;
			ft_end(ft, c, conv_timeout_reason(c));
		}
	}
}

void
ft_flush(struct flowtab *ft, enum end_reason reason)
{
	struct conv *c;
	int	     cl;

	for (cl = CONV_CLASS_EMB; cl < CONV_NCLASS; cl++) {
		while (ft->head[cl] != FT_NIL) {
			c = &ft->pool[ft->head[cl]];
			ft_end(ft, c, reason);
		}
	}
}
