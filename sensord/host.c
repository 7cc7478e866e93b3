/*
 * host.c: the per-host table (see host.h for the API).
 *
 * What it owns.  One preallocated pool of fixed-size host records sized
 * from the memory budget, an open-addressing index (linear probing, load
 * <= 0.5, backward-shift deletion) keyed by a seeded hash of the 16-byte
 * address, an LRU list (eviction order) and a dirty list (hosts to
 * evaluate at the next tick).  Nothing is allocated after host_new() except
 * by host_save/host_load, which run off the packet path.
 *
 * Record layout and memory (defaults: 2 rolling windows, 32 beacon pairs;
 * test_host.c prints the total, host_record_bytes() computes it):
 *
 *   struct host (fixed part)                                    4592 B
 *     identity, links, calendar ids, flags, series map            192 B
 *     day and month counters (2 x 40 B)                             80 B
 *     protocol bitmaps: day, month, learned this/last month        128 B
 *     day distinct ports and peers: 2 x struct hll (p = 10)      2064 B
 *     learned series: 8 x (28 floats + median, MAD, day max)     1056 B
 *     night profile: 24 hours x 8 floats + counts                  816 B
 *     beacon admission filter: 2 x 1024 bits                       256 B
 *   per rolling window (struct hwin)                             3296 B
 *     10 buckets x (7 counters 40 B + 2 hll4 sketches 256 B)     2960 B
 *     sums 40 B, union sketches 256 B + cached counts, head        336 B
 *   per beacon pair (struct hbeacon)                              152 B
 *     key 19 B, times 16 B, 12 intervals + 12 sizes 96 B, state
 *
 *   => 4608 (aligned) + 2 x 3296 + 32 x 152 = 16064 B per host, plus 8 B
 *      of index: 64 MiB hold ~4,170 hosts.  A 10-minute window's distinct
 *      counts cost 10 x 256 B of 4-bit sketches (p = 8: 6.5% error; a
 *      500-port threshold trips between 423 and 581 real ports over 200
 *      seeds, where p = 6 gave 344..643) instead of 10 KiB of p = 10
 *      sketches per bucket.  The beacon pairs are the biggest part:
 *      beacon_pairs = 8 brings a host to 12.1 KiB.
 *
 * Invariants.  A record is in the index iff it is in the LRU list; the
 * dirty list links records by index and survives record reuse (a reused
 * record is simply evaluated).  Calendar periods only move forward: each
 * host keeps the local hour, day and month its counters belong to, and
 * host_roll() closes them (pushing learned samples) when flow time passes
 * them, from a feed or from the per-minute walk in host_tick().  A breach
 * bit is set by host_eval() only, cleared by host_eval() (normal event) or
 * host_reconfig() (normal event); so every breach event is followed by
 * exactly one normal event unless the host is evicted (eviction prefers
 * hosts not in breach) or the table freed.
 *
 * Cost.  A packet: at most two lookups (source and destination), each one
 * hash of 16 bytes plus a probe, the CIDR list, and O(windows) counter
 * updates.  A conversation start adds two hll4 and two hll updates per
 * window.  A tick evaluates only dirty hosts and hosts in a rolling-window
 * breach: O(thresholds) each, with one day-HLL estimate (a 1024-register
 * pass) per distinct metric; once a minute it walks the whole table to
 * roll calendar periods.
 *
 * Online detection.  Counters move in the feed functions; the thresholds
 * are evaluated for every host fed since the last tick, so a breach is
 * reported with the flow time of the first tick after the feed that
 * crossed it: at most 1 s later when ticks come every second.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "baseline.h"
#include "cursor.h"
#include "hll.h"
#include "host.h"
#include "util.h"

#define NIL UINT32_MAX
#define HW_BUCKETS 10 /* buckets per rolling window */
#define HOST_MIN_CAP 16
/*
 * Index entries: 8 bits of the hash (a tag that answers most probes of a
 * miss without reading the 16 KB record it points to) above the record
 * number + 1, so at most 2^24 - 2 hosts (270 GB of records).
 */
#define IDX_REC_BITS 24
#define IDX_REC_MASK ((1u << IDX_REC_BITS) - 1)
#define IDX_TAG(hash) ((uint32_t)((hash) >> 56) << IDX_REC_BITS)
#define HOST_MAX_CAP (IDX_REC_MASK - 1)
#define SIGHT_BITS 1024 /* per generation of the admission filter */
#define NO_SERIES 0xff
#define US 1000000ULL

/* Counters of one period: bucket, window sum, day or month. */
struct hcount {
	uint64_t bytes_out;
	uint64_t bytes_in;
	uint64_t night_out; /* bytes_out during quiet hours */
	uint32_t conns;	    /* conversations started */
	uint32_t ended;	    /* final records (share denominator) */
	uint32_t half_open;
	uint32_t rejected;
};

struct hbucket {
	struct hcount c;
	uint8_t	      ports[HLL4_BYTES];
	uint8_t	      ips[HLL4_BYTES];
};

/*
 * A rolling window of HW_BUCKETS buckets of window/HW_BUCKETS each; it
 * covers between 9/10 and all of the window.  sum and the union sketches
 * always equal the fold of the live buckets.
 */
struct hwin {
	uint64_t      head; /* epoch (now / width) of the newest */
	struct hcount sum;
	/*
	 * The union sketches' estimates, kept until the sketch changes: the
	 * 1 Hz evaluation of every host would otherwise count 2 x 256
	 * registers per window per second (a fifth of a replay's time).
	 */
	float	       est_ports; /* < 0: recount */
	float	       est_ips;
	uint8_t	       ports[HLL4_BYTES];
	uint8_t	       ips[HLL4_BYTES];
	struct hbucket b[HW_BUCKETS];
};

/* Learned history of one (metric, window); window_s 0 = free slot. */
struct hseries {
	uint32_t window_s;
	uint8_t	 metric;
	uint8_t	 n;    /* samples held */
	uint8_t	 head; /* next slot written */
	uint8_t	 has_cur;
	float	 cur; /* rolling windows: today's maximum */
	float	 med; /* over the last history_days samples */
	float	 mad;
	float	 v[BL_HIST_MAX];
};

/* Bytes sent per local hour of the day, one sample per active hour. */
struct hnight {
	uint8_t n[24];
	uint8_t head[24];
	float	v[24][BL_NIGHT_HIST];
};

#define BP_USED 0x01
#define BP_KNOWN 0x02	/* in the learned set, period known_ms */
#define BP_ALERTED 0x04 /* breach reported, normal pending */
_Static_assert(BL_MAX_BEACONS <= 64, "struct host's bcn_dirty is 64 bits");

#define BP_DIRTY 0x08 /* new observation since the last eval */

struct hbeacon {
	uint8_t	 peer[16];
	uint64_t last_us;  /* start of the last observation */
	uint64_t since_us; /* periodic since (0: not periodic) */
	uint32_t known_ms; /* learned period */
	uint32_t since_ms; /* median interval when since_us set */
	uint32_t n_obs;
	uint32_t iv[BL_BEACON_RING]; /* intervals, ms */
	uint32_t sz[BL_BEACON_RING]; /* bytes sent by the host */
	uint16_t dport;
	uint16_t streak; /* evaluations in a row >= min score */
	uint8_t	 proto;
	uint8_t	 flags;
	uint8_t	 head;
	uint8_t	 n_iv;
};

#define HF_DIRTY 0x0001
#define HF_ACT_HOUR 0x0002 /* activity in the current period */
#define HF_ACT_DAY 0x0004
#define HF_ACT_MONTH 0x0008
#define HF_ROLL_HOUR 0x0010 /* period closed since the last eval */
#define HF_ROLL_DAY 0x0020
#define HF_ROLL_MONTH 0x0040
#define HF_EST_PORTS 0x0080 /* day_est[0] is up to date */
#define HF_EST_IPS 0x0100   /* day_est[1] is up to date */

struct host {
	uint8_t			addr[16];
	uint64_t		hash;
	const struct bl_config *cfg;
	uint64_t		first_seen_us;
	uint64_t		last_seen_us;
	uint32_t		lru_prev;
	uint32_t		lru_next;
	uint32_t		dirty_next;
	uint32_t		flags;
	uint32_t		breach; /* bit i: cfg->thr[i] in breach */
	uint32_t		n_days; /* active days closed */
	int32_t			hour;	/* local hour, day, month of counters */
	int32_t			day;
	int32_t			month;
	int32_t			sight_gen; /* UTC hour of sight[0] */
	uint32_t		n_alerted; /* beacon pairs in breach */
	uint32_t		lru_s;	  /* flow second of the last LRU move */
	uint64_t		hour_out; /* bytes sent in the current hour */
	/* Bit i: pair i may have BP_DIRTY (an evaluation visits those, not
	 * all 32 pairs' cache lines). */
	uint64_t       bcn_dirty;
	uint64_t       bcn_keys[4]; /* used pairs' keys hashed into 256 bits */
	double	       day_est[2];  /* cached day_ports, day_ips counts */
	struct hcount  dayc;
	struct hcount  monthc;
	uint8_t	       proto_day[32];
	uint8_t	       proto_month[32];
	uint8_t	       proto_cur[32];  /* closed days of this month */
	uint8_t	       proto_prev[32]; /* ... of the previous month */
	uint8_t	       thr_series[BL_MAX_THRESH];
	uint64_t       sight[2][SIGHT_BITS / 64];
	struct hseries series[BL_MAX_SERIES];
	struct hnight  night;
	struct hll     day_ports;
	struct hll     day_ips;
	/* followed by n_windows struct hwin and beacon_pairs struct hbeacon */
};

struct host_table {
	struct bl_config  cfg; /* table-wide fields and defaults */
	host_policy_fn	  policy;
	void		 *policy_arg;
	uint8_t		 *recs;
	size_t		  rec_size;
	size_t		  off_win;
	size_t		  off_bcn;
	uint32_t	  cap;
	uint32_t	  n_used;
	uint32_t	 *idx; /* IDX_TAG(hash) | record + 1, 0 = empty */
	uint32_t	  idx_mask;
	uint32_t	  lru_head; /* most recently seen */
	uint32_t	  lru_tail;
	uint32_t	  dirty_head;
	uint64_t	  now_us;   /* largest flow time seen */
	uint64_t	  walk_min; /* minute of the last full walk */
	uint64_t	  bucket_us[BL_MAX_WINDOWS];
	struct host_stats st;
	struct hll	  refused;	     /* distinct hosts refused */
	struct cidr_mask  home[BL_MAX_HOME]; /* cfg.home, made once */
};

/* ---- layout ------------------------------------------------------------ */

static size_t
host_align(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

static size_t
host_rec_size(const struct bl_config *cfg, size_t *off_win, size_t *off_bcn)
{
	size_t w = host_align(sizeof(struct host));
	size_t b = w + cfg->n_windows * sizeof(struct hwin);

	if (off_win != NULL)
		*off_win = w;
	if (off_bcn != NULL)
		*off_bcn = b;
	return host_align(b + cfg->beacon_pairs * sizeof(struct hbeacon));
}

size_t
host_record_bytes(const struct bl_config *cfg)
{
	return host_rec_size(cfg, NULL, NULL) + 2 * sizeof(uint32_t);
}

static struct host *
host_at(const struct host_table *ht, uint32_t i)
{
	return (struct host *)(void *)(ht->recs + (size_t)i * ht->rec_size);
}

static struct hwin *
host_win(const struct host_table *ht, struct host *h, unsigned i)
{
	return (struct hwin *)(void *)((uint8_t *)h + ht->off_win) + i;
}

static struct hbeacon *
host_bcn(const struct host_table *ht, struct host *h, unsigned i)
{
	return (struct hbeacon *)(void *)((uint8_t *)h + ht->off_bcn) + i;
}

/* ---- table ------------------------------------------------------------- */

static void
host_home_masks(struct host_table *ht)
{
	unsigned i;

	for (i = 0; i < ht->cfg.n_home && i < BL_MAX_HOME; i++)
		cidr_mask_make(&ht->cfg.home[i], &ht->home[i]);
}

struct host_table *
host_new(const struct bl_config *cfg, char *err, size_t errlen)
{
	struct host_table *ht;
	size_t		   per, cap, nidx;
	unsigned	   i;

	if (bl_config_check(cfg, NULL, err, errlen) != 0)
		return NULL;
	per = host_record_bytes(cfg);
	cap = cfg->mem_budget / per;
	if (cap > HOST_MAX_CAP)
		cap = HOST_MAX_CAP;
	if (cap < HOST_MIN_CAP) {
		snprintf(err, errlen,
		    "memory budget %zu bytes holds %zu hosts "
		    "of %zu bytes (need %d)",
		    cfg->mem_budget, cap, per, HOST_MIN_CAP);
		errno = EINVAL;
		return NULL;
	}
	for (nidx = 1; nidx < cap * 2; nidx <<= 1)
		;
	if ((ht = calloc(1, sizeof(*ht))) == NULL)
		goto nomem;
	ht->cfg = *cfg;
	if (ht->cfg.seed == 0)
		ht->cfg.seed = 0x5e750bd0c0ffee11ULL;
	ht->rec_size = host_rec_size(cfg, &ht->off_win, &ht->off_bcn);
	ht->cap = (uint32_t)cap;
	ht->idx_mask = (uint32_t)(nidx - 1);
	ht->recs = calloc(cap, ht->rec_size);
	ht->idx = calloc(nidx, sizeof(uint32_t));
	if (ht->recs == NULL || ht->idx == NULL) {
		host_free(ht);
		goto nomem;
	}
	ht->lru_head = ht->lru_tail = ht->dirty_head = NIL;
	ht->walk_min = UINT64_MAX;
	hll_reset(&ht->refused);
	host_home_masks(ht);
	for (i = 0; i < cfg->n_windows; i++)
		ht->bucket_us[i] =
		    (uint64_t)cfg->windows_s[i] * US / HW_BUCKETS;
	ht->st.capacity = cap;
	ht->st.bytes_per_host = per;
	ht->st.mem_bytes = cap * ht->rec_size + nidx * sizeof(uint32_t);
	return ht;
nomem:
	snprintf(err, errlen, "out of memory for %zu hosts", cap);
	errno = ENOMEM;
	return NULL;
}

void
host_free(struct host_table *ht)
{
	if (ht == NULL)
		return;
	free(ht->recs);
	free(ht->idx);
	free(ht);
}

void
host_set_policy(struct host_table *ht, host_policy_fn fn, void *arg)
{
	ht->policy = fn;
	ht->policy_arg = arg;
}

/* Twice per packet: masks made once, compared inline. */
static inline int
is_home(const struct host_table *ht, const uint8_t addr[16])
{
	unsigned i;

	for (i = 0; i < ht->cfg.n_home && i < BL_MAX_HOME; i++)
		if (cidr_mask_match(&ht->home[i], addr))
			return 1;
	return 0;
}

int
host_is_local(const struct host_table *ht, const uint8_t addr[16])
{
	return is_home(ht, addr);
}

static uint64_t
host_hash(const struct host_table *ht, const uint8_t addr[16])
{
	return hll_hash(ht->cfg.seed, addr, 16);
}

static uint32_t
host_find(const struct host_table *ht, const uint8_t addr[16], uint64_t hash)
{
	uint32_t i = (uint32_t)hash & ht->idx_mask, e, tag = IDX_TAG(hash);

	while ((e = ht->idx[i]) != 0) {
		if ((e & ~IDX_REC_MASK) == tag) {
			uint32_t	   r = (e & IDX_REC_MASK) - 1;
			const struct host *h = host_at(ht, r);

			if (h->hash == hash && memcmp(h->addr, addr, 16) == 0)
				return r;
		}
		i = (i + 1) & ht->idx_mask;
	}
	return NIL;
}

static void
host_idx_insert(struct host_table *ht, uint64_t hash, uint32_t r)
{
	uint32_t i = (uint32_t)hash & ht->idx_mask;

	while (ht->idx[i] != 0)
		i = (i + 1) & ht->idx_mask;
	ht->idx[i] = IDX_TAG(hash) | (r + 1);
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void
host_idx_remove(struct host_table *ht, uint64_t hash, uint32_t r)
{
	uint32_t m = ht->idx_mask, i = (uint32_t)hash & m, j, k;
	uint32_t e = IDX_TAG(hash) | (r + 1);

	while (ht->idx[i] != e)
		i = (i + 1) & m;
	for (;;) {
		ht->idx[i] = 0;
		j = i;
		for (;;) {
			j = (j + 1) & m;
			if (ht->idx[j] == 0)
				return;
			k = (uint32_t)host_at(
				ht, (ht->idx[j] & IDX_REC_MASK) - 1)
				->hash &
			    m;
			/* Stays if its home lies cyclically in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		ht->idx[i] = ht->idx[j];
		i = j;
	}
}

static void
host_lru_unlink(struct host_table *ht, struct host *h)
{
	if (h->lru_prev != NIL)
		host_at(ht, h->lru_prev)->lru_next = h->lru_next;
	else
		ht->lru_head = h->lru_next;
	if (h->lru_next != NIL)
		host_at(ht, h->lru_next)->lru_prev = h->lru_prev;
	else
		ht->lru_tail = h->lru_prev;
	h->lru_prev = h->lru_next = NIL;
}

static void
host_lru_front(struct host_table *ht, struct host *h, uint32_t r)
{
	h->lru_prev = NIL;
	h->lru_next = ht->lru_head;
	if (ht->lru_head != NIL)
		host_at(ht, ht->lru_head)->lru_prev = r;
	else
		ht->lru_tail = r;
	ht->lru_head = r;
}

static void
host_mark_dirty(struct host_table *ht, struct host *h, uint32_t r)
{
	if (h->flags & HF_DIRTY)
		return;
	h->flags |= HF_DIRTY;
	h->dirty_next = ht->dirty_head;
	ht->dirty_head = r;
}

static uint32_t
host_index_of(const struct host_table *ht, const struct host *h)
{
	return (
	    uint32_t)((size_t)((const uint8_t *)h - ht->recs) / ht->rec_size);
}

/*
 * A record for a new host: the least recently seen host silent for
 * HOST_EVICT_IDLE_S, preferring one not in breach; NIL (refused) when the
 * tail is younger.  The walk stops at the first host seen recently: LRU
 * order (to the second) makes all the rest younger still.  Eight idle
 * hosts in a row in breach give up the oldest of them.
 */
static uint32_t
host_evict(struct host_table *ht, uint64_t now)
{
	uint64_t     idle_us = HOST_EVICT_IDLE_S * US;
	uint32_t     r = ht->lru_tail;
	struct host *h;
	int	     k;

	for (k = 0; k < 8 && r != NIL; k++) {
		h = host_at(ht, r);
		if (now < h->last_seen_us + idle_us)
			break;
		if (h->breach == 0 && h->n_alerted == 0)
			goto take;
		r = h->lru_prev;
	}
	if (k < 8)
		return NIL;
	r = ht->lru_tail;
	ht->st.n_evicted_breach++;
take:
	h = host_at(ht, r);
	host_idx_remove(ht, h->hash, r);
	host_lru_unlink(ht, h);
	ht->st.n_evicted++;
	ht->st.n_hosts--;
	return r;
}

static const struct bl_config *
host_policy(const struct host_table *ht, const uint8_t addr[16])
{
	const struct bl_config *c = NULL;

	if (ht->policy != NULL)
		c = ht->policy(ht->policy_arg, addr);
	return c != NULL ? c : &ht->cfg;
}

static int
host_uses_series(const struct bl_threshold *t)
{
	return t->kind == BL_LEARNED && t->metric != BL_M_PROTOCOLS &&
	    t->metric != BL_M_BEACON && t->window_s != BL_WIN_HOUR &&
	    t->window_s != BL_WIN_NONE;
}

static void
host_series_stats(struct hseries *s, unsigned history)
{
	float	 v[BL_HIST_MAX];
	unsigned i, n = s->n < history ? s->n : history;
	double	 med, mad;

	/* The newest n samples end just before head. */
	for (i = 0; i < n; i++)
		v[i] = s->v[((unsigned)s->head + BL_HIST_MAX - 1 - i) %
		    BL_HIST_MAX];
	bl_median_mad(v, n, &med, &mad);
	s->med = (float)med;
	s->mad = (float)mad;
}

static void
host_series_push(struct hseries *s, double v, unsigned history)
{
	s->v[s->head] = (float)v;
	s->head = (uint8_t)((s->head + 1) % BL_HIST_MAX);
	if (s->n < BL_HIST_MAX)
		s->n++;
	host_series_stats(s, history);
}

/*
 * Point each learned threshold of h->cfg at its series: an existing one
 * with the same (metric, window), else a free slot, else a slot no
 * threshold of the config uses.  History follows (metric, window) across
 * reloads.
 */
static void
host_map_series(struct host *h)
{
	const struct bl_config *cfg = h->cfg;
	uint8_t			ref[BL_MAX_SERIES];
	unsigned		i, s,
	    n = cfg->n_thr < BL_MAX_THRESH ? cfg->n_thr : BL_MAX_THRESH;
	int pass;

	memset(ref, 0, sizeof(ref));
	memset(h->thr_series, NO_SERIES, sizeof(h->thr_series));
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			const struct bl_threshold *t = &cfg->thr[i];

			if (!host_uses_series(t) ||
			    h->thr_series[i] != NO_SERIES)
				continue;
			for (s = 0; s < BL_MAX_SERIES; s++)
				if (h->series[s].window_s == t->window_s &&
				    h->series[s].metric == t->metric)
					break;
			if (s == BL_MAX_SERIES && pass == 1) {
				for (s = 0; s < BL_MAX_SERIES; s++)
					if (h->series[s].window_s == 0)
						break;
				if (s == BL_MAX_SERIES)
					for (s = 0; s < BL_MAX_SERIES; s++)
						if (!ref[s])
							break;
				if (s < BL_MAX_SERIES) {
					memset(&h->series[s], 0,
					    sizeof(h->series[s]));
					h->series[s].window_s = t->window_s;
					h->series[s].metric = t->metric;
				}
			}
			if (s < BL_MAX_SERIES) {
				h->thr_series[i] = (uint8_t)s;
				ref[s] = 1;
			}
		}
	}
	for (s = 0; s < BL_MAX_SERIES; s++)
		if (h->series[s].window_s != 0)
			host_series_stats(&h->series[s], cfg->history_days);
}

static uint32_t
host_hour_of_day(int32_t hour)
{
	return (uint32_t)(((hour % 24) + 24) % 24);
}

/* Find or (when create) make the record of addr; touches it. */
static struct host *
host_get(
    struct host_table *ht, const uint8_t addr[16], uint64_t now, int create)
{
	uint64_t     hash = host_hash(ht, addr);
	uint32_t     r = host_find(ht, addr, hash), keep, next;
	struct host *h;

	if (r != NIL) {
		h = host_at(ht, r);
		if (now > h->last_seen_us)
			h->last_seen_us = now;
		/*
		 * LRU to the second: a move touches two other host records,
		 * cache misses on every packet when hosts interleave; a host
		 * already moved this second stays where it is (eviction
		 * order among hosts seen in the same second is immaterial).
		 */
		if (ht->lru_head != r && h->lru_s != (uint32_t)(now / US)) {
			host_lru_unlink(ht, h);
			host_lru_front(ht, h, r);
			h->lru_s = (uint32_t)(now / US);
		}
		return h;
	}
	if (!create)
		return NULL;
	r = ht->n_used < ht->cap ? ht->n_used++ : host_evict(ht, now);
	if (r == NIL) {
		ht->st.n_refusals++;
		(void)hll_add_hash(&ht->refused, hash);
		return NULL;
	}
	h = host_at(ht, r);
	/* A reused record may sit on the dirty list: keep that link. */
	keep = h->flags & HF_DIRTY;
	next = h->dirty_next;
	memset(h, 0, ht->rec_size);
	h->flags = keep;
	h->dirty_next = next;
	memcpy(h->addr, addr, 16);
	h->hash = hash;
	h->cfg = host_policy(ht, addr);
	h->first_seen_us = h->last_seen_us = now;
	h->hour = bl_hour(now, h->cfg->utc_offset_s);
	h->day = bl_day(now, h->cfg->utc_offset_s);
	h->month = bl_month(now, h->cfg->utc_offset_s);
	h->sight_gen = (int32_t)(now / (3600 * US));
	host_map_series(h);
	host_idx_insert(ht, hash, r);
	host_lru_front(ht, h, r);
	h->lru_s = (uint32_t)(now / US);
	ht->st.n_created++;
	ht->st.n_hosts++;
	return h;
}

/* ---- values ------------------------------------------------------------ */

static int
host_win_index(const struct host_table *ht, uint32_t window_s)
{
	unsigned i;

	for (i = 0; i < ht->cfg.n_windows; i++)
		if (ht->cfg.windows_s[i] == window_s)
			return (int)i;
	return -1;
}

static unsigned
host_popcount(const uint8_t *set, const uint8_t *minus)
{
	unsigned i, n = 0;

	for (i = 0; i < 32; i++)
		n += (unsigned)__builtin_popcount(
		    set[i] & (minus != NULL ? ~minus[i] : 0xff) & 0xff);
	return n;
}

/*
 * The value of (metric, window) for h: 1 and *v, or 0 when undefined
 * (a share with fewer than share_min_conns ended conversations, or a
 * combination the host does not keep).
 */
static int
host_value(const struct host_table *ht, struct host *h, unsigned metric,
    uint32_t window, double *v)
{
	const struct bl_config *cfg = h->cfg;
	const struct hcount    *c;
	struct hwin	       *w = NULL;
	int			wi;

	*v = 0;
	if (window == BL_WIN_HOUR) {
		if (metric != BL_M_NIGHT_BYTES_OUT)
			return 0;
		if (bl_is_quiet(cfg, host_hour_of_day(h->hour)))
			*v = (double)h->hour_out;
		return 1;
	}
	if (window == BL_WIN_DAY)
		c = &h->dayc;
	else if (window == BL_WIN_MONTH)
		c = &h->monthc;
	else {
		if ((wi = host_win_index(ht, window)) < 0)
			return 0;
		w = host_win(ht, h, (unsigned)wi);
		c = &w->sum;
	}
	switch (metric) {
	case BL_M_DST_PORTS:
	case BL_M_DST_IPS:
		if (w != NULL) {
			float *e = metric == BL_M_DST_PORTS ? &w->est_ports
							    : &w->est_ips;

			if (*e < 0)
				*e = (float)hll4_count(metric == BL_M_DST_PORTS
					? w->ports
					: w->ips);
			*v = *e;
		} else if (window == BL_WIN_DAY) {
			/* A 1024-register pass: once per change. */
			unsigned k = metric == BL_M_DST_PORTS ? 0 : 1;
			uint32_t f = k == 0 ? HF_EST_PORTS : HF_EST_IPS;

			if (!(h->flags & f)) {
				h->day_est[k] = hll_count(
				    k == 0 ? &h->day_ports : &h->day_ips);
				h->flags |= f;
			}
			*v = h->day_est[k];
		} else
			return 0;
		*v = floor(*v + 0.5);
		return 1;
	case BL_M_PROTOCOLS:
		if (window == BL_WIN_DAY)
			*v = host_popcount(h->proto_day, NULL);
		else if (window == BL_WIN_MONTH)
			*v = host_popcount(h->proto_month, NULL);
		else
			return 0;
		return 1;
	case BL_M_CONNS:
		*v = c->conns;
		return 1;
	case BL_M_BYTES_OUT:
		*v = (double)c->bytes_out;
		return 1;
	case BL_M_BYTES_IN:
		*v = (double)c->bytes_in;
		return 1;
	case BL_M_NIGHT_BYTES_OUT:
		*v = (double)c->night_out;
		return 1;
	case BL_M_HALF_OPEN:
		*v = c->half_open;
		return 1;
	case BL_M_REJECTED:
		*v = c->rejected;
		return 1;
	case BL_M_HALF_OPEN_SHARE:
	case BL_M_REJECTED_SHARE:
		if (c->ended == 0 || c->ended < cfg->share_min_conns)
			return 0;
		*v = (double)(metric == BL_M_HALF_OPEN_SHARE ? c->half_open
							     : c->rejected) /
		    c->ended;
		return 1;
	default:
		return 0;
	}
}

/* Protocols used in the window outside the learned set; first in *first. */
static double
host_new_protocols(const struct host *h, uint32_t window, int *first)
{
	const uint8_t *set =
	    window == BL_WIN_DAY ? h->proto_day : h->proto_month;
	uint8_t	 learned[32];
	unsigned i, n = 0;

	*first = -1;
	for (i = 0; i < 32; i++)
		learned[i] = h->proto_cur[i] | h->proto_prev[i];
	for (i = 0; i < 256; i++)
		if ((set[i / 8] & ~learned[i / 8]) & (1u << (i % 8))) {
			if (*first < 0)
				*first = (int)i;
			n++;
		}
	return n;
}

/*
 * The threshold i of h's config as it applies now: 1 with *thr and *basis,
 * or 0 when inactive (learned before warm-up).
 */
static int
host_thr(const struct host_table *ht, const struct host *h, unsigned i,
    double *thr, unsigned *basis)
{
	const struct bl_config	  *cfg = h->cfg;
	const struct bl_threshold *t = &cfg->thr[i];
	const struct hseries	  *s;
	double			   min = t->min > 0
				? t->min
				: bl_metric_default_min((enum bl_metric)t->metric);
	double unit = bl_metric_unit((enum bl_metric)t->metric);

	(void)ht;
	*basis = t->kind;
	if (t->kind == BL_ABSOLUTE) {
		*thr = t->value;
		return 1;
	}
	if (t->metric == BL_M_PROTOCOLS) {
		if (h->n_days < cfg->warmup_days)
			return 0;
		*thr = t->value > 1 ? t->value : 1;
		return 1;
	}
	if (t->window_s == BL_WIN_HOUR) {
		uint32_t slot = host_hour_of_day(h->hour);
		unsigned need = cfg->warmup_days < BL_NIGHT_HIST
		    ? cfg->warmup_days
		    : BL_NIGHT_HIST;
		double	 floor_b = (double)cfg->night_upload_min, med, mad;

		if (min > floor_b)
			floor_b = min;
		if (h->night.n[slot] >= need) {
			float v[BL_NIGHT_HIST];

			memcpy(v, h->night.v[slot], sizeof(v));
			bl_median_mad(v, h->night.n[slot], &med, &mad);
			*thr = bl_learned_threshold(
			    med, mad, t->value, floor_b, unit);
			return 1;
		}
		if (floor_b <= 0)
			return 0;
		/* Before the hour's warm-up only the absolute floor. */
		*thr = floor_b;
		*basis = BL_ABSOLUTE;
		return 1;
	}
	if (i >= BL_MAX_THRESH || h->thr_series[i] == NO_SERIES)
		return 0;
	s = &h->series[h->thr_series[i]];
	if (s->n < cfg->warmup_days)
		return 0;
	*thr = bl_learned_threshold(s->med, s->mad, t->value, min, unit);
	return 1;
}

/* ---- windows and calendar ------------------------------------------------ */

static void
host_count_sub(struct hcount *a, const struct hcount *b)
{
	a->bytes_out -= b->bytes_out;
	a->bytes_in -= b->bytes_in;
	a->night_out -= b->night_out;
	a->conns -= b->conns;
	a->ended -= b->ended;
	a->half_open -= b->half_open;
	a->rejected -= b->rejected;
}

/* Move window i of h to flow time now: expire the buckets it left. */
static void
host_win_advance(
    const struct host_table *ht, struct host *h, unsigned i, uint64_t now)
{
	struct hwin *w = host_win(ht, h, i);
	uint64_t     e = now / ht->bucket_us[i], k, steps;
	int	     cleared = 0;
	unsigned     b;

	if (e <= w->head)
		return; /* same bucket, or time went back: clamp */
	steps = e - w->head < HW_BUCKETS ? e - w->head : HW_BUCKETS;
	for (k = 1; k <= steps; k++) {
		struct hbucket *bk = &w->b[(w->head + k) % HW_BUCKETS];

		if (bk->c.conns > 0)
			cleared = 1;
		host_count_sub(&w->sum, &bk->c);
		memset(bk, 0, sizeof(*bk));
	}
	w->head = e;
	if (cleared) {
		w->est_ports = w->est_ips = -1;
		memset(w->ports, 0, sizeof(w->ports));
		memset(w->ips, 0, sizeof(w->ips));
		/* Only conversation starts fill the sketches. */
		for (b = 0; b < HW_BUCKETS; b++) {
			if (w->b[b].c.conns == 0)
				continue;
			hll4_merge(w->ports, w->b[b].ports);
			hll4_merge(w->ips, w->b[b].ips);
		}
	}
}

static void
host_advance(const struct host_table *ht, struct host *h, uint64_t now)
{
	unsigned i;

	for (i = 0; i < ht->cfg.n_windows; i++)
		host_win_advance(ht, h, i, now);
}

static struct hcount *
host_bucket(const struct host_table *ht, struct host *h, unsigned i)
{
	struct hwin *w = host_win(ht, h, i);

	return &w->b[w->head % HW_BUCKETS].c;
}

/*
 * The bucket of window i that holds flow time t (<= the window's head),
 * or NULL when t has already left the window.  A conversation's outcome
 * belongs to the time of its last packet, not to the time its record was
 * delivered: a record the flow table releases late (its timeout noticed
 * at the first tick after a quiet spell, as in a replay with a gap) must
 * not make an old burst look recent.
 */
static struct hcount *
host_bucket_at(
    const struct host_table *ht, struct host *h, unsigned i, uint64_t t)
{
	struct hwin *w = host_win(ht, h, i);
	uint64_t     e = t / ht->bucket_us[i];

	if (e > w->head)
		e = w->head;
	if (w->head - e >= HW_BUCKETS)
		return NULL;
	return &w->b[e % HW_BUCKETS].c;
}

static void
host_night_push(struct host *h, uint32_t slot, double v)
{
	struct hnight *n = &h->night;

	n->v[slot][n->head[slot]] = (float)v;
	n->head[slot] = (uint8_t)((n->head[slot] + 1) % BL_NIGHT_HIST);
	if (n->n[slot] < BL_NIGHT_HIST)
		n->n[slot]++;
}

/* Close the day: one sample per series, protocols into the learned set. */
static void
host_roll_day(const struct host_table *ht, struct host *h)
{
	const struct bl_config *cfg = h->cfg;
	unsigned		s, i;
	double			v;

	for (s = 0; s < BL_MAX_SERIES; s++) {
		struct hseries *se = &h->series[s];

		if (se->window_s == 0 || se->window_s == BL_WIN_MONTH)
			continue;
		if (h->flags & HF_ACT_DAY) {
			if (se->window_s == BL_WIN_DAY) {
				if (host_value(
					ht, h, se->metric, BL_WIN_DAY, &v))
					host_series_push(
					    se, v, cfg->history_days);
			} else if (se->has_cur)
				host_series_push(
				    se, se->cur, cfg->history_days);
		}
		se->has_cur = 0;
		se->cur = 0;
	}
	if (h->flags & HF_ACT_DAY) {
		h->n_days++;
		for (i = 0; i < 32; i++)
			h->proto_cur[i] |= h->proto_day[i];
	}
	memset(&h->dayc, 0, sizeof(h->dayc));
	memset(h->proto_day, 0, sizeof(h->proto_day));
	hll_reset(&h->day_ports);
	hll_reset(&h->day_ips);
	h->flags &= ~(uint32_t)(HF_ACT_DAY | HF_EST_PORTS | HF_EST_IPS);
}

static void
host_roll_month(const struct host_table *ht, struct host *h)
{
	const struct bl_config *cfg = h->cfg;
	unsigned		s;
	double			v;

	if (h->flags & HF_ACT_MONTH) {
		for (s = 0; s < BL_MAX_SERIES; s++) {
			struct hseries *se = &h->series[s];

			if (se->window_s == BL_WIN_MONTH &&
			    host_value(ht, h, se->metric, BL_WIN_MONTH, &v))
				host_series_push(se, v, cfg->history_days);
		}
		/* Learned protocols: this and last month's closed days. */
		if (host_popcount(h->proto_cur, NULL) > 0) {
			memcpy(h->proto_prev, h->proto_cur, 32);
			memset(h->proto_cur, 0, 32);
		}
	}
	memset(&h->monthc, 0, sizeof(h->monthc));
	memset(h->proto_month, 0, sizeof(h->proto_month));
	h->flags &= ~(uint32_t)HF_ACT_MONTH;
}

/* Close every calendar period flow time has left; 1 when one closed. */
static int
host_roll(const struct host_table *ht, struct host *h, uint64_t now)
{
	int32_t off = h->cfg->utc_offset_s, hr = bl_hour(now, off), d, mo;

	if (hr <= h->hour)
		return 0;
	if (h->flags & HF_ACT_HOUR)
		host_night_push(
		    h, host_hour_of_day(h->hour), (double)h->hour_out);
	h->hour_out = 0;
	h->hour = hr;
	h->flags = (h->flags & ~(uint32_t)HF_ACT_HOUR) | HF_ROLL_HOUR;
	d = bl_day(now, off);
	if (d > h->day) {
		host_roll_day(ht, h);
		h->day = d;
		h->flags |= HF_ROLL_DAY;
	}
	mo = bl_month(now, off);
	if (mo > h->month) {
		host_roll_month(ht, h);
		h->month = mo;
		h->flags |= HF_ROLL_MONTH;
	}
	return 1;
}

/* Roll and advance a host to now before a feed; marks it dirty. */
static void
host_prepare(struct host_table *ht, struct host *h, uint64_t now)
{
	if (now > ht->now_us)
		ht->now_us = now;
	host_roll(ht, h, now);
	host_advance(ht, h, now);
	h->flags |= HF_ACT_HOUR | HF_ACT_DAY | HF_ACT_MONTH;
	host_mark_dirty(ht, h, host_index_of(ht, h));
}

/* ---- feeding ----------------------------------------------------------- */

static void
host_set_proto(struct host *h, uint8_t proto)
{
	h->proto_day[proto / 8] |= (uint8_t)(1u << (proto % 8));
	h->proto_month[proto / 8] |= (uint8_t)(1u << (proto % 8));
}

void
host_packet(struct host_table *ht, const struct pktinfo *pi, uint64_t now)
{
	struct host *h;
	unsigned     i;

	if (!(pi->flags & PI_HAS_L3))
		return;
	if (is_home(ht, pi->src) &&
	    (h = host_get(ht, pi->src, now, 1)) != NULL) {
		int quiet;

		host_prepare(ht, h, now);
		quiet = bl_is_quiet(h->cfg, host_hour_of_day(h->hour));
		h->dayc.bytes_out += pi->ip_len;
		h->monthc.bytes_out += pi->ip_len;
		h->hour_out += pi->ip_len;
		if (quiet) {
			h->dayc.night_out += pi->ip_len;
			h->monthc.night_out += pi->ip_len;
		}
		for (i = 0; i < ht->cfg.n_windows; i++) {
			struct hcount *b = host_bucket(ht, h, i);
			struct hwin   *w = host_win(ht, h, i);

			b->bytes_out += pi->ip_len;
			w->sum.bytes_out += pi->ip_len;
			if (quiet) {
				b->night_out += pi->ip_len;
				w->sum.night_out += pi->ip_len;
			}
		}
		host_set_proto(h, pi->proto);
	}
	/* Receivers are only updated, never created (see host.h). */
	if (is_home(ht, pi->dst) &&
	    (h = host_get(ht, pi->dst, now, 0)) != NULL) {
		host_prepare(ht, h, now);
		h->dayc.bytes_in += pi->ip_len;
		h->monthc.bytes_in += pi->ip_len;
		for (i = 0; i < ht->cfg.n_windows; i++) {
			host_bucket(ht, h, i)->bytes_in += pi->ip_len;
			host_win(ht, h, i)->sum.bytes_in += pi->ip_len;
		}
	}
}

/*
 * 1 when the record's initiator sent something.  The flow engine takes
 * the receiver of a first packet for the initiator when that packet looks
 * like an answer (from a server port to a client port: a reply whose
 * query was missed).  Spoofed "answers" (reflection floods, backscatter)
 * look just like that, so a local host is credited with a conversation
 * only when it sent a packet in it; otherwise a flood from thousands of
 * reflectors makes the victim a host "contacting thousands of addresses".
 */
static int
host_initiated(const struct convrec *cr)
{
	return !cr->flipped || cr->fwd.pkts > 0;
}

static int
host_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 33 ||
	    proto == 136;
}

void
host_conv_start(struct host_table *ht, const struct convrec *cr, uint64_t now)
{
	struct host *h;
	uint64_t     hp = 0, hi;
	uint8_t	     key[3];
	unsigned     i;
	int	     ports = host_has_ports(cr->proto);

	if (!host_initiated(cr) || !host_is_local(ht, cr->src) ||
	    (h = host_get(ht, cr->src, now, 1)) == NULL)
		return;
	host_prepare(ht, h, now);
	if (ports) {
		key[0] = cr->proto;
		key[1] = (uint8_t)(cr->dport >> 8);
		key[2] = (uint8_t)cr->dport;
		hp = hll_hash(ht->cfg.seed, key, sizeof(key));
		if (hll_add_hash(&h->day_ports, hp))
			h->flags &= ~(uint32_t)HF_EST_PORTS;
	}
	hi = hll_hash(ht->cfg.seed, cr->dst, 16);
	if (hll_add_hash(&h->day_ips, hi))
		h->flags &= ~(uint32_t)HF_EST_IPS;
	h->dayc.conns++;
	h->monthc.conns++;
	for (i = 0; i < ht->cfg.n_windows; i++) {
		struct hwin    *w = host_win(ht, h, i);
		struct hbucket *b = &w->b[w->head % HW_BUCKETS];

		b->c.conns++;
		w->sum.conns++;
		if (ports) {
			hll4_add_hash(b->ports, hp);
			if (hll4_add_hash(w->ports, hp))
				w->est_ports = -1;
		}
		hll4_add_hash(b->ips, hi);
		if (hll4_add_hash(w->ips, hi))
			w->est_ips = -1;
	}
	host_set_proto(h, cr->proto);
}

static int
host_state_is(const struct convrec *cr, const char *s)
{
	size_t n = strlen(s);

	return n < CONV_STATE_MAX && memcmp(cr->state, s, n) == 0 &&
	    cr->state[n] == '\0';
}

static void host_beacon_observe(
    struct host_table *, struct host *, const struct convrec *, uint64_t);

void
host_conv_record(struct host_table *ht, const struct convrec *cr, uint64_t now)
{
	struct host *h;
	int	     half = 0, rej = 0;
	unsigned     i;

	if (!host_initiated(cr) || !host_is_local(ht, cr->src) ||
	    (h = host_get(ht, cr->src, now, 1)) == NULL)
		return;
	host_prepare(ht, h, now);
	if (cr->seq == 0)
		host_beacon_observe(ht, h, cr, now);
	if (!cr->is_final)
		return;
	if (cr->proto == 6) {
		/* Zeek conn_state: S0 = SYN never answered. */
		half = host_state_is(cr, "S0");
		rej = host_state_is(cr, "REJ") || host_state_is(cr, "RSTO") ||
		    host_state_is(cr, "RSTR") || host_state_is(cr, "RSTOS0") ||
		    host_state_is(cr, "RSTRH");
	}
	h->dayc.ended++;
	h->monthc.ended++;
	h->dayc.half_open += (uint32_t)half;
	h->monthc.half_open += (uint32_t)half;
	h->dayc.rejected += (uint32_t)rej;
	h->monthc.rejected += (uint32_t)rej;
	for (i = 0; i < ht->cfg.n_windows; i++) {
		struct hcount *b = host_bucket_at(
		    ht, h, i, cr->end_us != 0 ? cr->end_us : now);
		struct hwin *w = host_win(ht, h, i);

		if (b == NULL)
			continue;
		b->ended++;
		w->sum.ended++;
		b->half_open += (uint32_t)half;
		w->sum.half_open += (uint32_t)half;
		b->rejected += (uint32_t)rej;
		w->sum.rejected += (uint32_t)rej;
	}
}

/* ---- beacons ----------------------------------------------------------- */

static const struct bl_threshold *
host_beacon_thr(const struct bl_config *cfg)
{
	unsigned i;

	for (i = 0; i < cfg->n_thr && i < BL_MAX_THRESH; i++)
		if (cfg->thr[i].metric == BL_M_BEACON)
			return &cfg->thr[i];
	return NULL;
}

static int
host_sight(const struct host_table *ht, struct host *h,
    const struct convrec *cr, uint64_t now)
{
	uint8_t	 key[19];
	uint64_t hash;
	int32_t	 gen = (int32_t)(now / (3600 * US));
	unsigned bit, seen;

	if (gen != h->sight_gen) {
		if (gen == h->sight_gen + 1)
			memcpy(h->sight[1], h->sight[0], sizeof(h->sight[0]));
		else
			memset(h->sight[1], 0, sizeof(h->sight[1]));
		memset(h->sight[0], 0, sizeof(h->sight[0]));
		h->sight_gen = gen;
	}
	memcpy(key, cr->dst, 16);
	key[16] = (uint8_t)(cr->dport >> 8);
	key[17] = (uint8_t)cr->dport;
	key[18] = cr->proto;
	hash = hll_hash(ht->cfg.seed ^ 0xbeac0beac0ULL, key, sizeof(key));
	bit = (unsigned)(hash >> 54); /* 0..1023 */
	seen = (unsigned)((h->sight[0][bit / 64] | h->sight[1][bit / 64]) >>
		   (bit % 64)) &
	    1u;
	h->sight[0][bit / 64] |= 1ULL << (bit % 64);
	return (int)seen;
}

/*
 * A slot for a pair not tracked yet.  A free slot is taken at once; else
 * the pair must have been seen in this or the previous hour (a 2 x 1024
 * bit filter), so a host's one-off peers do not flush its regular ones,
 * and then replaces, among pairs neither learned nor alerted, a stale one
 * (silent for 2 h and 4 intervals) or else the one with the fewest
 * observations.
 *
 * XXX A new pair is safe once it recurs inside its slot; until then it
 * competes with the filter's false positives.  Measured (test_host.c,
 * 32 slots): a 10-minute beacon is still found among 600 one-off peers an
 * hour, not among 1200.  Hosts that busy need more beacon_pairs.
 */
/*
 * host_beacon_find() runs for every conversation a local host starts, and
 * most are not with a tracked pair: a 256-bit filter of the used pairs'
 * keys answers "not tracked" without reading 32 pairs.
 */
static unsigned
bcn_key_bit(const uint8_t peer[16], uint16_t dport, uint8_t proto)
{
	return bits256_index(addr_low32(peer) ^ (uint32_t)dport << 8 ^ proto);
}

static void
bcn_keys_rebuild(const struct host_table *ht, struct host *h)
{
	unsigned i;

	memset(h->bcn_keys, 0, sizeof(h->bcn_keys));
	for (i = 0; i < ht->cfg.beacon_pairs; i++) {
		const struct hbeacon *p = host_bcn(ht, h, i);

		if (!(p->flags & BP_USED))
			continue;
		bits256_set(
		    h->bcn_keys, bcn_key_bit(p->peer, p->dport, p->proto));
	}
}

static struct hbeacon *
host_beacon_admit(struct host_table *ht, struct host *h,
    const struct convrec *cr, uint64_t now)
{
	struct hbeacon *p, *victim = NULL;
	int		seen = host_sight(ht, h, cr, now), victim_stale = 0;
	unsigned	i;

	for (i = 0; i < ht->cfg.beacon_pairs; i++) {
		p = host_bcn(ht, h, i);
		if (!(p->flags & BP_USED)) {
			victim = p;
			goto take;
		}
	}
	if (!seen)
		return NULL;
	for (i = 0; i < ht->cfg.beacon_pairs; i++) {
		uint64_t quiet, last_iv;
		int	 stale;

		p = host_bcn(ht, h, i);
		if (p->flags & (BP_KNOWN | BP_ALERTED))
			continue;
		last_iv = p->n_iv > 0
		    ? (uint64_t)p->iv[(p->head + BL_BEACON_RING - 1) %
			  BL_BEACON_RING] *
			1000
		    : 0;
		quiet = now > p->last_us ? now - p->last_us : 0;
		stale = quiet > 2 * 3600 * US && quiet > 4 * last_iv;
		if (victim == NULL || (stale && !victim_stale) ||
		    (stale == victim_stale &&
			(stale ? p->last_us < victim->last_us
			       : p->n_obs < victim->n_obs ||
				    (p->n_obs == victim->n_obs &&
					p->last_us < victim->last_us)))) {
			victim = p;
			victim_stale = stale;
		}
	}
	if (victim == NULL) {
		ht->st.n_beacon_dropped++;
		return NULL;
	}
	ht->st.n_beacon_evicted++;
take:
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->peer, cr->dst, 16);
	victim->dport = cr->dport;
	victim->proto = cr->proto;
	victim->flags = BP_USED;
	bcn_keys_rebuild(ht, h);
	return victim;
}

static struct hbeacon *
host_beacon_find(const struct host_table *ht, struct host *h,
    const uint8_t peer[16], uint16_t dport, uint8_t proto)
{
	unsigned i;

	if (!bits256_has(h->bcn_keys, bcn_key_bit(peer, dport, proto)))
		return NULL;
	for (i = 0; i < ht->cfg.beacon_pairs; i++) {
		struct hbeacon *p = host_bcn(ht, h, i);

		if ((p->flags & BP_USED) && p->dport == dport &&
		    p->proto == proto && memcmp(p->peer, peer, 16) == 0)
			return p;
	}
	return NULL;
}

/*
 * One observation: the start time and bytes sent of a conversation the
 * host initiated (its first record).  Starts within 1 s of the previous
 * one (parallel connections) or earlier (records arrive in end order)
 * add no interval.
 */
static void
host_beacon_observe(struct host_table *ht, struct host *h,
    const struct convrec *cr, uint64_t now)
{
	struct hbeacon *p;
	uint64_t	iv;

	if (ht->cfg.beacon_pairs == 0 || host_beacon_thr(h->cfg) == NULL)
		return;
	p = host_beacon_find(ht, h, cr->dst, cr->dport, cr->proto);
	if (p == NULL) {
		if ((p = host_beacon_admit(ht, h, cr, now)) != NULL) {
			p->last_us = cr->start_us;
			p->n_obs = 1;
		}
		return;
	}
	if (cr->start_us < p->last_us + US)
		return;
	iv = (cr->start_us - p->last_us) / 1000;
	p->iv[p->head] = iv > UINT32_MAX ? UINT32_MAX : (uint32_t)iv;
	p->sz[p->head] =
	    cr->fwd.bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)cr->fwd.bytes;
	p->head = (uint8_t)((p->head + 1) % BL_BEACON_RING);
	if (p->n_iv < BL_BEACON_RING)
		p->n_iv++;
	p->last_us = cr->start_us;
	if (p->n_obs < UINT32_MAX)
		p->n_obs++;
	p->flags |= BP_DIRTY;
	h->bcn_dirty |= (uint64_t)1 << (unsigned)(p - host_bcn(ht, h, 0));
}

static void
host_emit_init(struct host_event *ev, const struct host *h, uint64_t now,
    int is_breach, unsigned metric)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts_us = now;
	memcpy(ev->addr, h->addr, 16);
	ev->is_breach = (uint8_t)is_breach;
	ev->metric = (uint8_t)metric;
	ev->new_proto = -1;
}

static void
host_emit(struct host_table *ht, host_emit_fn emit, void *arg,
    const struct host_event *ev)
{
	if (ev->is_breach)
		ht->st.n_breach++;
	else
		ht->st.n_normal++;
	if (emit != NULL)
		emit(arg, ev);
}

static void
host_beacon_event(struct host_table *ht, struct host *h, struct hbeacon *p,
    uint64_t now, int is_breach, const char *detail, double score,
    double min_score, unsigned kind, double period_ms, host_emit_fn emit,
    void *arg)
{
	struct host_event ev;

	host_emit_init(&ev, h, now, is_breach, BL_M_BEACON);
	ev.basis = (uint8_t)kind;
	ev.value = floor(score * 10 + 0.5) / 10;
	ev.threshold = min_score;
	ev.cfg_window = BL_WIN_NONE;
	bl_window_name(BL_WIN_NONE, ev.window, sizeof(ev.window));
	ev.detail = detail;
	ev.has_peer = 1;
	memcpy(ev.peer, p->peer, 16);
	ev.dport = p->dport;
	ev.proto = p->proto;
	ev.period_s = period_ms / 1000.0;
	ev.known_period_s = (p->flags & BP_KNOWN) ? p->known_ms / 1000.0 : 0;
	if (is_breach) {
		p->flags |= BP_ALERTED;
		h->n_alerted++;
	} else {
		p->flags &= (uint8_t)~BP_ALERTED;
		h->n_alerted--;
	}
	host_emit(ht, emit, arg, &ev);
}

/*
 * Judge a pair after a new observation.  Periodic = the score stayed at
 * or above the minimum for beacon_min_obs evaluations in a row (one
 * sliding evaluation can pass by chance; 12 in a row practically cannot
 * for random timing).  Learned kind: a periodic pair breaches when it is
 * not in the host's learned set ("new") or its period moved by more than
 * beacon_tolerance from the learned one ("period-changed").  Pairs
 * periodic during warm-up, or for beacon_learn_days, join the learned set
 * (a changed period is adopted the same way).  Normal again when the score
 * falls under normal_ratio * min, when the pair is learned, or (walk) when
 * it falls silent.
 */
static void
host_beacon_judge(struct host_table *ht, struct host *h, struct hbeacon *p,
    const struct bl_threshold *t, uint64_t now, host_emit_fn emit, void *arg)
{
	const struct bl_config *cfg = h->cfg;
	uint32_t		iv[BL_BEACON_RING], sz[BL_BEACON_RING];
	double			score, med, min = t->value;
	unsigned		i, n = p->n_iv;
	int	 periodic, learning = h->n_days < cfg->warmup_days, changed;
	uint64_t learn_us = (uint64_t)cfg->beacon_learn_days * 86400 * US;

	if (n < (cfg->beacon_min_iv > 2 ? cfg->beacon_min_iv : 2))
		return;
	for (i = 0; i < n; i++) {
		unsigned k =
		    (p->head + BL_BEACON_RING - n + i) % BL_BEACON_RING;

		iv[i] = p->iv[k];
		sz[i] = p->sz[k];
	}
	score = bl_beacon_score(iv, n, sz, n, &med);
	/* A period longer than the policy's max_period is not a beacon. */
	if (cfg->beacon_max_period_ms != 0 &&
	    med > (double)cfg->beacon_max_period_ms)
		score = 0;
	if (score >= min) {
		if (p->streak < UINT16_MAX)
			p->streak++;
	} else
		p->streak = 0;
	periodic = p->streak >= cfg->beacon_min_obs;
	if (periodic &&
	    (p->since_us == 0 ||
		fabs(med - p->since_ms) >
		    cfg->beacon_tolerance * p->since_ms)) {
		p->since_us = now;
		p->since_ms = (uint32_t)med;
	} else if (!periodic && score < cfg->normal_ratio * min) {
		p->since_us = 0;
		p->since_ms = 0;
	}
	if (!periodic) {
		if ((p->flags & BP_ALERTED) && score < cfg->normal_ratio * min)
			host_beacon_event(ht, h, p, now, 0, "not-periodic",
			    score, min, t->kind, med, emit, arg);
		return;
	}
	if (t->kind == BL_ABSOLUTE) {
		if (!(p->flags & BP_ALERTED))
			host_beacon_event(ht, h, p, now, 1, "periodic", score,
			    min, t->kind, med, emit, arg);
		return;
	}
	changed = (p->flags & BP_KNOWN) &&
	    fabs(med - p->known_ms) > cfg->beacon_tolerance * p->known_ms;
	if ((p->flags & BP_KNOWN) && !changed) {
		if (p->flags & BP_ALERTED)
			host_beacon_event(ht, h, p, now, 0, "known", score, min,
			    t->kind, med, emit, arg);
		return;
	}
	if (learning || now - p->since_us >= learn_us) {
		/* Learned: periodic in warm-up, or long enough since. */
		p->flags |= BP_KNOWN;
		p->known_ms = (uint32_t)med;
		if (p->flags & BP_ALERTED)
			host_beacon_event(ht, h, p, now, 0, "learned", score,
			    min, t->kind, med, emit, arg);
		return;
	}
	if (!(p->flags & BP_ALERTED))
		host_beacon_event(ht, h, p, now, 1,
		    changed ? "period-changed" : "new", score, min, t->kind,
		    med, emit, arg);
}

/* Alerted pairs that fell silent (3 periods, at least 10 min) end. */
static void
host_beacon_stale(struct host_table *ht, struct host *h, uint64_t now,
    host_emit_fn emit, void *arg)
{
	const struct bl_threshold *t = host_beacon_thr(h->cfg);
	unsigned		   i;

	for (i = 0; i < ht->cfg.beacon_pairs && h->n_alerted > 0; i++) {
		struct hbeacon *p = host_bcn(ht, h, i);
		uint64_t	period = (uint64_t)p->since_ms * 1000, quiet;

		if (!(p->flags & BP_ALERTED))
			continue;
		quiet = now > p->last_us ? now - p->last_us : 0;
		if (t == NULL || (quiet > 3 * period && quiet > 600 * US)) {
			host_beacon_event(ht, h, p, now, 0,
			    t == NULL ? "threshold-removed" : "stopped", 0,
			    t != NULL ? t->value : 0,
			    t != NULL ? t->kind : BL_LEARNED, p->since_ms, emit,
			    arg);
			p->streak = 0;
			p->since_us = 0;
		}
	}
}

/* ---- evaluation -------------------------------------------------------- */

static void
host_thr_event(struct host_table *ht, struct host *h, unsigned i, uint64_t now,
    int is_breach, double v, double thr, unsigned basis, const char *detail,
    int new_proto, host_emit_fn emit, void *arg)
{
	const struct bl_threshold *t = &h->cfg->thr[i];
	struct host_event	   ev;

	host_emit_init(&ev, h, now, is_breach, t->metric);
	ev.basis = (uint8_t)basis;
	ev.value = v;
	ev.threshold = thr;
	ev.cfg_window = t->window_s;
	ev.window_s = t->window_s == BL_WIN_HOUR ? 3600
	    : t->window_s == BL_WIN_DAY		 ? 86400
	    : t->window_s == BL_WIN_MONTH	 ? bl_month_seconds(h->month)
						 : t->window_s;
	bl_window_name(t->window_s, ev.window, sizeof(ev.window));
	ev.detail = detail;
	ev.new_proto = new_proto;
	if (is_breach)
		h->breach |= 1u << i;
	else
		h->breach &= ~(1u << i);
	host_emit(ht, emit, arg, &ev);
}

/* 1 when threshold i's calendar period closed since the last eval. */
static int
host_period_closed(const struct host *h, uint32_t window)
{
	return (window == BL_WIN_HOUR && (h->flags & HF_ROLL_HOUR)) ||
	    (window == BL_WIN_DAY && (h->flags & HF_ROLL_DAY)) ||
	    (window == BL_WIN_MONTH && (h->flags & HF_ROLL_MONTH));
}

static void
host_eval(struct host_table *ht, struct host *h, uint64_t now,
    host_emit_fn emit, void *arg)
{
	const struct bl_config *cfg = h->cfg;
	unsigned		i, s, basis,
	    n = cfg->n_thr < BL_MAX_THRESH ? cfg->n_thr : BL_MAX_THRESH;
	double v, thr;
	int    ok, act, first;

	host_roll(ht, h, now);
	host_advance(ht, h, now);
	for (i = 0; i < n; i++) {
		const struct bl_threshold *t = &cfg->thr[i];
		uint32_t		   bit = 1u << i;

		if (t->metric == BL_M_BEACON)
			continue;
		first = -1;
		if (t->metric == BL_M_PROTOCOLS && t->kind == BL_LEARNED) {
			v = host_new_protocols(h, t->window_s, &first);
			ok = 1;
		} else
			ok = host_value(ht, h, t->metric, t->window_s, &v);
		act = host_thr(ht, h, i, &thr, &basis);
		if (h->breach & bit) {
			int end;

			if (!act)
				end = 1;
			else if (!bl_window_is_rolling(t->window_s))
				end = host_period_closed(h, t->window_s);
			else
				end = !ok || v < cfg->normal_ratio * thr;
			if (end)
				host_thr_event(ht, h, i, now, 0, v,
				    act ? thr : 0, basis,
				    act ? NULL : "inactive", -1, emit, arg);
		}
		if (!(h->breach & bit) && act && ok && v >= thr)
			host_thr_event(ht, h, i, now, 1, v, thr, basis,
			    first >= 0 ? "new-protocol" : NULL, first, emit,
			    arg);
	}
	/* Today's maximum of every learned rolling series. */
	for (s = 0; s < BL_MAX_SERIES; s++) {
		struct hseries *se = &h->series[s];

		if (!bl_window_is_rolling(se->window_s) ||
		    !host_value(ht, h, se->metric, se->window_s, &v))
			continue;
		if (!se->has_cur || v > se->cur)
			se->cur = (float)v;
		se->has_cur = 1;
	}
	h->flags &= ~(uint32_t)(HF_ROLL_HOUR | HF_ROLL_DAY | HF_ROLL_MONTH);
	/* Beacon pairs with new observations. */
	{
		const struct bl_threshold *t = host_beacon_thr(cfg);

		uint64_t bits = h->bcn_dirty;

		h->bcn_dirty = 0;
		while (bits != 0) {
			struct hbeacon *p;

			i = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (i >= ht->cfg.beacon_pairs)
				continue;
			p = host_bcn(ht, h, i);
			if (!(p->flags & BP_DIRTY))
				continue;
			p->flags &= (uint8_t)~BP_DIRTY;
			if (t != NULL)
				host_beacon_judge(ht, h, p, t, now, emit, arg);
		}
	}
}

/* Breaches on rolling windows need evaluating while buckets expire. */
static int
host_needs_ticks(const struct host *h)
{
	const struct bl_config *cfg = h->cfg;
	unsigned		i;

	for (i = 0; i < cfg->n_thr && i < BL_MAX_THRESH; i++)
		if ((h->breach & (1u << i)) &&
		    bl_window_is_rolling(cfg->thr[i].window_s))
			return 1;
	return 0;
}

/*
 * The lines host_eval() reads, fetched for the next host of the dirty list
 * while this one is evaluated.  The list runs through records that went
 * cold since their last packet, and each evaluation otherwise waited on
 * them one at a time (a window's first field was 78 % of
 * host_win_advance's samples in a replay's profile).
 */
static void
host_prefetch_eval(const struct host_table *ht, struct host *h)
{
	const uint8_t *p = (const uint8_t *)h;
	size_t	       o;
	unsigned       i;

	for (o = 0; o < offsetof(struct host, thr_series); o += 64)
		__builtin_prefetch(p + o);
	for (i = 0; i < BL_MAX_SERIES; i++)
		__builtin_prefetch(&h->series[i].window_s);
	for (i = 0; i < ht->cfg.n_windows; i++) {
		const struct hwin *w = host_win(ht, h, i);

		/* head, sum and the cached estimates: two lines. */
		__builtin_prefetch(&w->head);
		__builtin_prefetch(&w->est_ips);
	}
}

void
host_tick(struct host_table *ht, uint64_t now, host_emit_fn emit, void *arg)
{
	uint32_t r, next, requeue = NIL;
	uint64_t min;

	if (now < ht->now_us)
		now = ht->now_us; /* flow time never goes back */
	ht->now_us = now;
	min = now / (60 * US);
	if (min != ht->walk_min) {
		/* Once a minute: close calendar periods of idle hosts too. */
		ht->walk_min = min;
		for (r = 0; r < ht->n_used; r++) {
			struct host *h = host_at(ht, r);

			if (h->cfg == NULL)
				continue;
			if (bl_hour(now, h->cfg->utc_offset_s) > h->hour &&
			    host_roll(ht, h, now))
				host_mark_dirty(ht, h, r);
			if (h->n_alerted > 0)
				host_beacon_stale(ht, h, now, emit, arg);
		}
	}
	r = ht->dirty_head;
	ht->dirty_head = NIL;
	while (r != NIL) {
		struct host *h = host_at(ht, r);

		next = h->dirty_next;
		if (next != NIL)
			host_prefetch_eval(ht, host_at(ht, next));
		h->flags &= ~(uint32_t)HF_DIRTY;
		if (h->cfg != NULL) {
			host_eval(ht, h, now, emit, arg);
			if (host_needs_ticks(h)) {
				h->flags |= HF_DIRTY;
				h->dirty_next = requeue;
				requeue = r;
			}
		}
		r = next;
	}
	/* Hosts fed during the evaluation (none: emit is synchronous). */
	while (requeue != NIL) {
		struct host *h = host_at(ht, requeue);

		next = h->dirty_next;
		h->dirty_next = ht->dirty_head;
		ht->dirty_head = requeue;
		requeue = next;
	}
}

/* ---- reconfiguration and queries --------------------------------------- */

static int
host_find_thr(const struct bl_config *cfg, const struct bl_threshold *t)
{
	unsigned j;

	for (j = 0; j < cfg->n_thr && j < BL_MAX_THRESH; j++)
		if (cfg->thr[j].metric == t->metric &&
		    cfg->thr[j].window_s == t->window_s &&
		    cfg->thr[j].kind == t->kind)
			return (int)j;
	return -1;
}

int
host_reconfig(struct host_table *ht, const struct bl_config *cfg,
    host_policy_fn fn, void *arg, uint64_t now, host_emit_fn emit,
    void *emit_arg, char *err, size_t errlen)
{
	struct bl_config *old;
	uint32_t	  r;
	unsigned	  i;

	if (bl_config_check(cfg, &ht->cfg, err, errlen) != 0)
		return -1;
	if ((old = malloc(sizeof(*old))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*old = ht->cfg;
	ht->cfg = *cfg;
	/* Fixed at creation: they shape the records. */
	ht->cfg.mem_budget = old->mem_budget;
	ht->cfg.n_windows = old->n_windows;
	memcpy(ht->cfg.windows_s, old->windows_s, sizeof(old->windows_s));
	ht->cfg.beacon_pairs = old->beacon_pairs;
	ht->cfg.seed = old->seed;
	host_home_masks(ht);
	ht->policy = fn;
	ht->policy_arg = arg;
	if (now < ht->now_us)
		now = ht->now_us;
	for (r = 0; r < ht->n_used; r++) {
		struct host	       *h = host_at(ht, r);
		const struct bl_config *oc, *nc;
		uint32_t		nb = 0;

		if (h->cfg == NULL)
			continue;
		oc = h->cfg == &ht->cfg ? old : h->cfg;
		nc = host_policy(ht, h->addr);
		for (i = 0; i < oc->n_thr && i < BL_MAX_THRESH; i++) {
			int j;

			if (!(h->breach & (1u << i)))
				continue;
			j = host_find_thr(nc, &oc->thr[i]);
			if (j >= 0) {
				nb |= 1u << j;
				continue;
			}
			h->cfg = oc;
			host_thr_event(ht, h, i, now, 0, 0, 0, oc->thr[i].kind,
			    "threshold-removed", -1, emit, emit_arg);
		}
		h->cfg = nc;
		h->breach = nb;
		host_map_series(h);
		if (h->n_alerted > 0 && host_beacon_thr(nc) == NULL)
			host_beacon_stale(ht, h, now, emit, emit_arg);
		host_mark_dirty(ht, h, r);
	}
	free(old);
	return 0;
}

int
host_info(
    const struct host_table *ht, const uint8_t addr[16], struct host_info *out)
{
	uint32_t     r = host_find(ht, addr, host_hash(ht, addr));
	struct host *h;
	unsigned     i;

	if (r == NIL) {
		errno = ENOENT;
		return -1;
	}
	h = host_at(ht, r);
	memset(out, 0, sizeof(*out));
	memcpy(out->addr, h->addr, 16);
	out->first_seen_us = h->first_seen_us;
	out->last_seen_us = h->last_seen_us;
	out->n_days = h->n_days;
	out->in_warmup = h->n_days < h->cfg->warmup_days;
	out->day_bytes_out = h->dayc.bytes_out;
	out->day_bytes_in = h->dayc.bytes_in;
	out->day_night_out = h->dayc.night_out;
	out->day_conns = h->dayc.conns;
	out->day_ended = h->dayc.ended;
	out->day_half_open = h->dayc.half_open;
	out->day_rejected = h->dayc.rejected;
	out->day_dst_ports = hll_count(&h->day_ports);
	out->day_dst_ips = hll_count(&h->day_ips);
	out->day_protocols = host_popcount(h->proto_day, NULL);
	out->month_protocols = host_popcount(h->proto_month, NULL);
	out->breach_mask = h->breach;
	for (i = 0; i < ht->cfg.beacon_pairs; i++) {
		const struct hbeacon *p = host_bcn(ht, h, i);

		out->n_beacons += (p->flags & BP_USED) != 0;
		out->n_known_beacons += (p->flags & BP_KNOWN) != 0;
		out->n_alerted_beacons += (p->flags & BP_ALERTED) != 0;
	}
	return 0;
}

int
host_threshold(const struct host_table *ht, const uint8_t addr[16],
    enum bl_metric m, uint32_t window_s, enum bl_kind kind, double *thr)
{
	uint32_t	    r = host_find(ht, addr, host_hash(ht, addr));
	struct bl_threshold key;
	unsigned	    basis;
	int		    i;

	if (r == NIL)
		goto none;
	key.metric = (uint8_t)m;
	key.window_s = window_s;
	key.kind = (uint8_t)kind;
	if ((i = host_find_thr(host_at(ht, r)->cfg, &key)) < 0)
		goto none;
	return host_thr(ht, host_at(ht, r), (unsigned)i, thr, &basis);
none:
	errno = ENOENT;
	return -1;
}

void
host_get_stats(const struct host_table *ht, struct host_stats *st)
{
	*st = ht->st;
	st->n_refused = (uint64_t)(hll_count(&ht->refused) + 0.5);
}

size_t
host_list(const struct host_table *ht, uint8_t (*out)[16], size_t max)
{
	uint32_t r;
	size_t	 n = 0;

	for (r = 0; r < ht->n_used && n < max; r++) {
		const struct host *h = host_at(ht, r);

		if (h->cfg != NULL)
			memcpy(out[n++], h->addr, 16);
	}
	return n;
}

size_t
host_thresholds(const struct host_table *ht, const uint8_t addr[16],
    struct host_thr_view *out, size_t max)
{
	uint32_t     r = host_find(ht, addr, host_hash(ht, addr));
	struct host *h;
	unsigned     i, basis;
	size_t	     n = 0;

	if (r == NIL)
		return 0;
	h = host_at(ht, r);
	for (i = 0; i < h->cfg->n_thr && n < max; i++) {
		const struct bl_threshold *t = &h->cfg->thr[i];
		struct host_thr_view	  *v = &out[n++];

		memset(v, 0, sizeof(*v));
		v->metric = t->metric;
		v->kind = t->kind;
		v->window_s = t->window_s;
		if (t->metric != BL_M_BEACON)
			v->has_value = host_value(
			    ht, h, t->metric, t->window_s, &v->value);
		v->active = host_thr(ht, h, i, &v->threshold, &basis);
		v->in_breach = (h->breach >> i) & 1u;
	}
	return n;
}

/* ---- persistence ------------------------------------------------------- */

/*
 * File format, version 1, all integers big-endian, floats as IEEE-754
 * binary32 bit patterns:
 *
 *   header   "SNSDHOST" u16 version u16 header_len(32) u32 flags(0)
 *            u64 saved_us  u32 n_hosts  u32 reserved(0)
 *   host     u32 len, then len bytes:
 *            addr[16] u64 first_seen_us u64 last_seen_us u32 n_days
 *            proto_cur[32] proto_prev[32]
 *            u8 n_series, each: u8 metric u32 window u8 n, n x f32
 *            u8 24, each hour: u8 n, n x f32                (night)
 *            u8 n_beacons, each: peer[16] u16 dport u8 proto u32 period_ms
 *   trailer  u32 CRC-32 (zlib's, ISO-HDLC) of every byte before it
 *
 * Samples are written oldest first.  Hosts are written least recently
 * seen first, so loading them in order rebuilds the LRU order and a
 * smaller table keeps the most recent ones.
 */
#define HS_MAGIC "SNSDHOST"
#define HS_VERSION 1
#define HS_HDR_LEN 32
#define HS_MAX_FILE (1u << 30)

struct hs_buf {
	uint8_t *p;
	size_t	 len;
	size_t	 cap;
	int	 err;
};

static void
hs_put(struct hs_buf *b, const void *d, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t	 nc = b->cap ? b->cap * 2 : 65536;
		uint8_t *np;

		while (nc < b->len + n)
			nc *= 2;
		if ((np = realloc(b->p, nc)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void
hs_u8(struct hs_buf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	hs_put(b, &x, 1);
}

static void
hs_be16(struct hs_buf *b, unsigned v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	hs_put(b, x, 2);
}

static void
hs_be32(struct hs_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	hs_put(b, x, 4);
}

static void
hs_be64(struct hs_buf *b, uint64_t v)
{
	hs_be32(b, (uint32_t)(v >> 32));
	hs_be32(b, (uint32_t)v);
}

static void
hs_f32(struct hs_buf *b, float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	hs_be32(b, u);
}

static void
hs_host(const struct host_table *ht, struct host *h, struct hs_buf *b)
{
	size_t	 at = b->len;
	unsigned s, i, k, n_s = 0, n_b = 0;

	hs_be32(b, 0); /* length, patched below */
	hs_put(b, h->addr, 16);
	hs_be64(b, h->first_seen_us);
	hs_be64(b, h->last_seen_us);
	hs_be32(b, h->n_days);
	hs_put(b, h->proto_cur, 32);
	hs_put(b, h->proto_prev, 32);
	for (s = 0; s < BL_MAX_SERIES; s++)
		n_s += h->series[s].window_s != 0;
	hs_u8(b, n_s);
	for (s = 0; s < BL_MAX_SERIES; s++) {
		const struct hseries *se = &h->series[s];

		if (se->window_s == 0)
			continue;
		hs_u8(b, se->metric);
		hs_be32(b, se->window_s);
		hs_u8(b, se->n);
		for (k = 0; k < se->n; k++)
			hs_f32(b,
			    se->v[((unsigned)se->head + BL_HIST_MAX - se->n +
				      k) %
				BL_HIST_MAX]);
	}
	hs_u8(b, 24);
	for (i = 0; i < 24; i++) {
		unsigned n = h->night.n[i];

		hs_u8(b, n);
		for (k = 0; k < n; k++)
			hs_f32(b,
			    h->night.v[i][(h->night.head[i] + BL_NIGHT_HIST -
					      n + k) %
				BL_NIGHT_HIST]);
	}
	for (i = 0; i < ht->cfg.beacon_pairs; i++)
		n_b += (host_bcn(ht, h, i)->flags & BP_KNOWN) != 0;
	hs_u8(b, n_b);
	for (i = 0; i < ht->cfg.beacon_pairs; i++) {
		const struct hbeacon *p = host_bcn(ht, h, i);

		if (!(p->flags & BP_KNOWN))
			continue;
		hs_put(b, p->peer, 16);
		hs_be16(b, p->dport);
		hs_u8(b, p->proto);
		hs_be32(b, p->known_ms);
	}
	if (!b->err) {
		uint32_t len = (uint32_t)(b->len - at - 4);

		b->p[at] = (uint8_t)(len >> 24);
		b->p[at + 1] = (uint8_t)(len >> 16);
		b->p[at + 2] = (uint8_t)(len >> 8);
		b->p[at + 3] = (uint8_t)len;
	}
}

static int
hs_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync the directory holding path, so a rename survives a crash. */
static int
hs_sync_dir(const char *path)
{
	char	    dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int	    fd, rc;

	if (slash == NULL)
		util_strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		util_strlcpy(dir, "/", sizeof(dir));
	else if ((size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
host_save(const struct host_table *ht, const char *path, uint64_t now,
    char *err, size_t errlen)
{
	struct hs_buf b;
	char	      tmp[PATH_MAX];
	uint32_t      r, n = 0, crc;
	int	      fd = -1, e;

	memset(&b, 0, sizeof(b));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	hs_put(&b, HS_MAGIC, 8);
	hs_be16(&b, HS_VERSION);
	hs_be16(&b, HS_HDR_LEN);
	hs_be32(&b, 0);
	hs_be64(&b, now);
	hs_be32(&b, 0); /* n_hosts, patched below */
	hs_be32(&b, 0);
	for (r = ht->lru_tail; r != NIL; r = host_at(ht, r)->lru_prev) {
		hs_host(ht, host_at(ht, r), &b);
		n++;
	}
	if (b.err) {
		free(b.p);
		snprintf(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return -1;
	}
	b.p[24] = (uint8_t)(n >> 24);
	b.p[25] = (uint8_t)(n >> 16);
	b.p[26] = (uint8_t)(n >> 8);
	b.p[27] = (uint8_t)n;
	crc = (uint32_t)crc32(0L, b.p, (uInt)b.len);
	hs_be32(&b, crc);
	if (b.err)
		goto fail_mem;
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || hs_write_all(fd, b.p, b.len) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	if (hs_sync_dir(path) != 0) {
		e = errno;
		free(b.p);
		snprintf(err, errlen, "%s: fsync of the directory: %s", path,
		    strerror(e));
		errno = e;
		return -1;
	}
	free(b.p);
	return 0;
fail_mem:
	errno = ENOMEM;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(b.p);
	snprintf(err, errlen, "%s: %s", tmp, strerror(e));
	errno = e;
	return -1;
}

/* One parsed host record (pointers into the file buffer). */
struct hs_rec {
	uint8_t	 addr[16];
	uint64_t first_us;
	uint64_t last_us;
	uint32_t n_days;
	uint8_t	 proto_cur[32];
	uint8_t	 proto_prev[32];
	unsigned n_series;
	struct {
		uint8_t	 metric;
		uint32_t window;
		unsigned n;
		float	 v[BL_HIST_MAX];
	} series[BL_MAX_SERIES];
	unsigned night_n[24];
	float	 night[24][BL_NIGHT_HIST];
	unsigned n_beacons;
	struct {
		uint8_t	 peer[16];
		uint16_t dport;
		uint8_t	 proto;
		uint32_t period_ms;
	} beacons[BL_MAX_BEACONS];
};

static float
hs_f32_get(struct cur *c, int *bad)
{
	uint32_t u = cur_be32(c);
	float	 f;

	memcpy(&f, &u, 4);
	if (!isfinite(f) || f < 0)
		*bad = 1;
	return f;
}

/* Parse one host record; NULL on success, else what is wrong. */
static const char *
hs_parse_rec(struct cur *c, struct hs_rec *rec)
{
	unsigned i, k, n;
	int	 bad = 0;

	memset(rec, 0, sizeof(*rec));
	cur_bytes(c, rec->addr, 16);
	rec->first_us = cur_be64(c);
	rec->last_us = cur_be64(c);
	rec->n_days = cur_be32(c);
	cur_bytes(c, rec->proto_cur, 32);
	cur_bytes(c, rec->proto_prev, 32);
	rec->n_series = cur_u8(c);
	if (!cur_ok(c))
		return "record truncated";
	if (rec->n_series > BL_MAX_SERIES)
		return "more than 8 series";
	for (i = 0; i < rec->n_series; i++) {
		uint32_t w;

		rec->series[i].metric = cur_u8(c);
		w = rec->series[i].window = cur_be32(c);
		n = rec->series[i].n = cur_u8(c);
		if (!cur_ok(c))
			return "record truncated";
		if (rec->series[i].metric >= BL_M__COUNT ||
		    rec->series[i].metric == BL_M_PROTOCOLS ||
		    rec->series[i].metric == BL_M_BEACON)
			return "bad series metric";
		if (w != BL_WIN_DAY && w != BL_WIN_MONTH &&
		    !bl_window_is_rolling(w))
			return "bad series window";
		if (n > BL_HIST_MAX)
			return "more than 28 samples in a series";
		for (k = 0; k < i; k++)
			if (rec->series[k].metric == rec->series[i].metric &&
			    rec->series[k].window == w)
				return "series listed twice";
		for (k = 0; k < n; k++)
			rec->series[i].v[k] = hs_f32_get(c, &bad);
	}
	if (cur_u8(c) != 24 && cur_ok(c))
		return "night profile is not 24 hours";
	for (i = 0; i < 24; i++) {
		n = rec->night_n[i] = cur_u8(c);
		if (n > BL_NIGHT_HIST)
			return "more than 8 night samples";
		for (k = 0; k < n; k++)
			rec->night[i][k] = hs_f32_get(c, &bad);
	}
	rec->n_beacons = cur_u8(c);
	if (rec->n_beacons > BL_MAX_BEACONS)
		return "more than 64 beacons";
	for (i = 0; i < rec->n_beacons; i++) {
		cur_bytes(c, rec->beacons[i].peer, 16);
		rec->beacons[i].dport = cur_be16(c);
		rec->beacons[i].proto = cur_u8(c);
		rec->beacons[i].period_ms = cur_be32(c);
		if (cur_ok(c) && rec->beacons[i].period_ms == 0)
			return "beacon period 0";
	}
	if (!cur_ok(c))
		return "record truncated";
	if (bad)
		return "sample not a finite number >= 0";
	if (cur_left(c) != 0)
		return "trailing bytes in record";
	if (rec->first_us > rec->last_us)
		return "first seen after last seen";
	return NULL;
}

static void
hs_apply(struct host_table *ht, const struct hs_rec *rec, uint64_t now)
{
	struct host *h;
	unsigned     i, k, s;

	if (!host_is_local(ht, rec->addr) ||
	    (h = host_get(ht, rec->addr, rec->last_us, 1)) == NULL)
		return;
	(void)now;
	if (rec->first_us < h->first_seen_us)
		h->first_seen_us = rec->first_us;
	if (rec->last_us > h->last_seen_us)
		h->last_seen_us = rec->last_us;
	h->n_days = rec->n_days;
	memcpy(h->proto_cur, rec->proto_cur, 32);
	memcpy(h->proto_prev, rec->proto_prev, 32);
	for (i = 0; i < rec->n_series; i++) {
		struct hseries *se = NULL;

		for (s = 0; s < BL_MAX_SERIES && se == NULL; s++)
			if (h->series[s].window_s == rec->series[i].window &&
			    h->series[s].metric == rec->series[i].metric)
				se = &h->series[s];
		for (s = 0; s < BL_MAX_SERIES && se == NULL; s++)
			if (h->series[s].window_s == 0)
				se = &h->series[s];
		if (se == NULL)
			continue;
		memset(se, 0, sizeof(*se));
		se->window_s = rec->series[i].window;
		se->metric = rec->series[i].metric;
		for (k = 0; k < rec->series[i].n; k++)
			host_series_push(
			    se, rec->series[i].v[k], h->cfg->history_days);
	}
	memset(&h->night, 0, sizeof(h->night));
	for (i = 0; i < 24; i++)
		for (k = 0; k < rec->night_n[i]; k++)
			host_night_push(h, i, rec->night[i][k]);
	for (i = 0; i < rec->n_beacons; i++) {
		struct hbeacon *p =
		    host_beacon_find(ht, h, rec->beacons[i].peer,
			rec->beacons[i].dport, rec->beacons[i].proto);

		for (k = 0; k < ht->cfg.beacon_pairs && p == NULL; k++)
			if (!(host_bcn(ht, h, k)->flags & BP_USED)) {
				p = host_bcn(ht, h, k);
				memset(p, 0, sizeof(*p));
				memcpy(p->peer, rec->beacons[i].peer, 16);
				p->dport = rec->beacons[i].dport;
				p->proto = rec->beacons[i].proto;
				p->flags = BP_USED;
				bcn_keys_rebuild(ht, h);
			}
		if (p == NULL)
			break;
		p->flags |= BP_KNOWN;
		p->known_ms = rec->beacons[i].period_ms;
	}
	host_map_series(h);
	ht->st.n_loaded++;
}

/* Validate (apply == 0) or apply the whole file. */
static const char *
hs_walk(struct host_table *ht, const uint8_t *p, size_t len, int apply,
    uint64_t now, uint32_t *bad_rec, struct hs_rec *rec)
{
	struct cur  c, sub;
	uint32_t    n, i;
	const char *why;

	cur_init(&c, p, len - 4);
	cur_skip(&c, 24);
	n = cur_be32(&c);
	cur_skip(&c, 4);
	if (n > len / 100)
		return "host count larger than the file";
	for (i = 0; i < n; i++) {
		uint32_t rl = cur_be32(&c);

		*bad_rec = i;
		if (cur_sub(&c, rl, &sub) != 0)
			return "record runs past the end";
		if ((why = hs_parse_rec(&sub, rec)) != NULL)
			return why;
		if (apply)
			hs_apply(ht, rec, now);
	}
	*bad_rec = UINT32_MAX;
	if (cur_left(&c) != 0)
		return "bytes after the last record";
	return NULL;
}

int
host_load_mem(struct host_table *ht, const uint8_t *buf, size_t len,
    const char *name, uint64_t now, char *err, size_t errlen)
{
	struct hs_rec *rec;
	struct cur     c;
	uint32_t       stored, crc, bad_rec = UINT32_MAX;
	unsigned       version, hlen;
	const char    *why = NULL;

	cur_init(&c, buf, len);
	if (len < HS_HDR_LEN + 4) {
		why = len == 0 ? "empty file" : "truncated header";
		goto bad;
	}
	if (memcmp(cur_take(&c, 8), HS_MAGIC, 8) != 0) {
		why = "not a sensord host state file (bad magic)";
		goto bad;
	}
	version = cur_be16(&c);
	hlen = cur_be16(&c);
	if (version != HS_VERSION) {
		snprintf(err, errlen,
		    "%s: format version %u, this sensord "
		    "reads version %d",
		    name, version, HS_VERSION);
		errno = EINVAL;
		return -1;
	}
	if (hlen != HS_HDR_LEN) {
		why = "bad header length";
		goto bad;
	}
	stored = (uint32_t)buf[len - 4] << 24 | (uint32_t)buf[len - 3] << 16 |
	    (uint32_t)buf[len - 2] << 8 | buf[len - 1];
	crc = (uint32_t)crc32(0L, buf, (uInt)(len - 4));
	if (crc != stored) {
		snprintf(err, errlen,
		    "%s: checksum mismatch (stored %08x, "
		    "computed %08x): truncated or corrupt",
		    name, stored, crc);
		errno = EINVAL;
		return -1;
	}
	if ((rec = malloc(sizeof(*rec))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		errno = ENOMEM;
		return -1;
	}
	/* Validate everything first: a bad file changes nothing. */
	why = hs_walk(ht, buf, len, 0, now, &bad_rec, rec);
	if (why == NULL)
		hs_walk(ht, buf, len, 1, now, &bad_rec, rec);
	free(rec);
	if (why == NULL)
		return 0;
bad:
	if (bad_rec != UINT32_MAX)
		snprintf(
		    err, errlen, "%s: host record %u: %s", name, bad_rec, why);
	else
		snprintf(err, errlen, "%s: %s", name, why);
	errno = EINVAL;
	return -1;
}

int
host_load(struct host_table *ht, const char *path, uint64_t now, char *err,
    size_t errlen)
{
	uint8_t	   *buf = NULL;
	struct stat sb;
	size_t	    got = 0;
	int	    fd, e, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		e = errno;
		goto io;
	}
	if (fstat(fd, &sb) != 0) {
		e = errno;
		goto io;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > HS_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path,
		    !S_ISREG(sb.st_mode) ? "not a regular file"
					 : "larger than 1 GiB");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		e = ENOMEM;
		goto io;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t rd = read(fd, buf + got, (size_t)sb.st_size - got);

		if (rd < 0 && errno == EINTR)
			continue;
		if (rd < 0) {
			e = errno;
			goto io;
		}
		if (rd == 0)
			break; /* shrank under us: judged as is */
		got += (size_t)rd;
	}
	close(fd);
	rc = host_load_mem(ht, buf, got, path, now, err, errlen);
	e = errno;
	free(buf);
	errno = e;
	return rc;
io:
	if (fd >= 0)
		close(fd);
	free(buf);
	snprintf(err, errlen, "%s: %s", path, strerror(e));
	errno = e;
	return -1;
}

int
host_state_quarantine(
    const char *path, uint64_t now, char *newpath, size_t newlen)
{
	time_t	  t = (time_t)(now / US);
	struct tm tm;
	char	  stamp[32];
	int	  i;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < 1000; i++) {
		int n = i == 0
		    ? snprintf(newpath, newlen, "%s.corrupt-%s", path, stamp)
		    : snprintf(
			  newpath, newlen, "%s.corrupt-%s-%d", path, stamp, i);

		if (n < 0 || (size_t)n >= newlen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		/* Never replace an earlier quarantined file. */
		if (renameat2(AT_FDCWD, path, AT_FDCWD, newpath,
			RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}
