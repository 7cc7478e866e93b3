/*
 * hll.c: HyperLogLog sketches (see hll.h for the two layouts).
 *
 * Owns nothing but the caller's sketch memory.  Invariants: in the exact
 * stage u.exact[0..n_exact) holds distinct hashes; once promoted
 * (is_dense) every register holds the largest rank seen for its index and
 * never decreases until hll_reset().  Registers and exact hashes share the
 * same 1 KiB, so promotion copies the (at most 1 KiB of) hashes aside
 * first.
 *
 * Cost: an add is one hash plus, in the exact stage, a scan of at most 128
 * words (2 cache lines per 16 hashes; a host adds a handful per
 * conversation), else one register update.  A count is a 1024-entry
 * histogram pass plus ~60 iterations of the estimator, done at most once a
 * second per active host.
 *
 * Rank: the top p bits of the 64-bit hash pick the register, the position
 * of the first 1 bit in the remaining q = 64 - p bits (1-based) is the
 * rank, q + 1 when they are all zero.  hll4 keeps only q = 14 bits of the
 * suffix (ranks 1..15), so a saturated register means "15 or more", which
 * Ertl's estimator handles exactly as a 14-bit hash.
 */
#include <math.h>
#include <string.h>

#include "hll.h"

#define HLL_Q (64 - HLL_P) /* suffix bits: ranks 1..HLL_Q+1 */
#define HLL4_Q 14	   /* 4-bit registers: ranks 1..15 */

/*
 * splitmix64's finaliser (Steele, Lea, Flood, OOPSLA 2014): a bijection on
 * 64 bits with full avalanche.  Chained over the input words with a seed
 * this is a good, fast, seeded hash, but not a keyed PRF: an attacker who
 * learns outputs could steer collisions.  Sketch collisions only bias a
 * count a little; the flow table uses SipHash (hash.c).
 */
static uint64_t
hll_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t
hll_hash(uint64_t seed, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t       h = hll_mix(seed ^ 0x9e3779b97f4a7c15ULL) + (uint64_t)n;
	uint64_t       w;

	while (n >= 8) {
		memcpy(&w, b, 8);
		h = hll_mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
		b += 8;
		n -= 8;
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, b, n);
		h = hll_mix(h ^ w ^ (uint64_t)n << 56) + 0x9e3779b97f4a7c15ULL;
	}
	return hll_mix(h);
}

/* Register index and rank of a hash for a sketch of 2^p registers. */
static unsigned
hll_rank(uint64_t hash, unsigned p, unsigned q, unsigned *idx)
{
	uint64_t w = hash << p;
	unsigned r;

	*idx = (unsigned)(hash >> (64 - p));
	r = w == 0 ? 64 - p + 1 : (unsigned)__builtin_clzll(w) + 1;
	return r > q + 1 ? q + 1 : r;
}

/*
 * Ertl's sigma and tau (arXiv:1702.01284, eqs. (31), (38)); both series
 * converge in a few dozen steps to the precision of a double.
 */
static double
hll_sigma(double x)
{
	double y = 1.0, z = x, zp;

	if (x >= 1.0)
		return INFINITY;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (zp != z);
	return z;
}

static double
hll_tau(double x)
{
	double y = 1.0, z = 1.0 - x, zp;

	if (x <= 0.0 || x >= 1.0)
		return 0.0;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1.0 - x) * (1.0 - x) * y;
	} while (zp != z);
	return z / 3.0;
}

/* C[k] = registers holding rank k, k = 0..q+1; m registers. */
static double
hll_estimate(const uint32_t *c, unsigned q, unsigned m)
{
	double	 md = (double)m, z;
	unsigned k;

	if (c[0] == m)
		return 0.0;
	z = md * hll_tau(1.0 - (double)c[q + 1] / md);
	for (k = q; k >= 1; k--)
		z = 0.5 * (z + (double)c[k]);
	z += md * hll_sigma((double)c[0] / md);
	return md * md / (2.0 * log(2.0) * z);
}

void
hll_reset(struct hll *h)
{
	memset(h, 0, sizeof(*h));
}

static void
hll_dense_add(struct hll *h, uint64_t hash, int *changed)
{
	unsigned idx, r = hll_rank(hash, HLL_P, HLL_Q, &idx);

	if (r > h->u.reg[idx]) {
		h->u.reg[idx] = (uint8_t)r;
		*changed = 1;
	}
}

static void
hll_promote(struct hll *h)
{
	uint64_t tmp[HLL_EXACT];
	unsigned i, n = h->n_exact;
	int	 dummy = 0;

	memcpy(tmp, h->u.exact, n * sizeof(tmp[0]));
	memset(h->u.reg, 0, sizeof(h->u.reg));
	h->is_dense = 1;
	h->n_exact = 0;
	for (i = 0; i < n; i++)
		hll_dense_add(h, tmp[i], &dummy);
}

int
hll_add_hash(struct hll *h, uint64_t hash)
{
	unsigned i;
	int	 changed = 0;

	if (!h->is_dense) {
		for (i = 0; i < h->n_exact; i++)
			if (h->u.exact[i] == hash)
				return 0;
		if (h->n_exact < HLL_EXACT) {
			h->u.exact[h->n_exact++] = hash;
			return 1;
		}
		hll_promote(h);
		changed = 1;
	}
	hll_dense_add(h, hash, &changed);
	return changed;
}

double
hll_count(const struct hll *h)
{
	uint32_t c[HLL_Q + 2];
	unsigned i;

	if (!h->is_dense)
		return (double)h->n_exact;
	memset(c, 0, sizeof(c));
	for (i = 0; i < HLL_M; i++)
		c[h->u.reg[i] <= HLL_Q + 1 ? h->u.reg[i] : HLL_Q + 1]++;
	return hll_estimate(c, HLL_Q, HLL_M);
}

void
hll_merge(struct hll *dst, const struct hll *src)
{
	unsigned i;

	if (!src->is_dense) {
		for (i = 0; i < src->n_exact; i++)
			hll_add_hash(dst, src->u.exact[i]);
		return;
	}
	if (!dst->is_dense)
		hll_promote(dst);
	for (i = 0; i < HLL_M; i++)
		if (src->u.reg[i] > dst->u.reg[i])
			dst->u.reg[i] = src->u.reg[i];
}

unsigned
hll4_get(const uint8_t reg[HLL4_BYTES], unsigned i)
{
	return (unsigned)(reg[i / 2] >> (i % 2 * 4)) & 0x0fu;
}

static void
hll4_set(uint8_t reg[HLL4_BYTES], unsigned i, unsigned v)
{
	unsigned sh = i % 2 * 4;

	reg[i / 2] =
	    (uint8_t)((reg[i / 2] & ~(0x0fu << sh)) | (v & 0x0fu) << sh);
}

int
hll4_add_hash(uint8_t reg[HLL4_BYTES], uint64_t hash)
{
	unsigned idx, r = hll_rank(hash, HLL4_P, HLL4_Q, &idx);

	if (r <= hll4_get(reg, idx))
		return 0;
	hll4_set(reg, idx, r);
	return 1;
}

void
hll4_merge(
    uint8_t dst[restrict HLL4_BYTES], const uint8_t src[restrict HLL4_BYTES])
{
	unsigned i;

	/*
	 * Two registers per byte: the maximum of each nibble.  Written as
	 * byte maxima over distinct arrays, the loop compiles to 16 bytes
	 * at a time (pmaxub); the host tick merges the ten buckets' port
	 * and address sketches of a window whenever one of them expires.
	 */
	for (i = 0; i < HLL4_BYTES; i++) {
		uint8_t dl = dst[i] & 0x0f, sl = src[i] & 0x0f;
		uint8_t dh = dst[i] & 0xf0, sh = src[i] & 0xf0;

		dst[i] = (uint8_t)((dl > sl ? dl : sl) | (dh > sh ? dh : sh));
	}
}

double
hll4_count(const uint8_t reg[HLL4_BYTES])
{
	uint32_t c[HLL4_Q + 2];
	unsigned i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < HLL4_M; i++)
		c[hll4_get(reg, i)]++;
	return hll_estimate(c, HLL4_Q, HLL4_M);
}
