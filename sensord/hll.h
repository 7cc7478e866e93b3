/*
 * hll.h: HyperLogLog distinct counters for the per-host baselines.
 *
 * Two sketches share one hash and one estimator:
 *
 *  - struct hll: p = 10, 1024 byte registers (standard error 1.04/32 =
 *    3.25%), preceded by an exact stage of up to 128 distinct 64-bit hashes
 *    kept in the same 1 KiB (a union), so small sets (a workstation's 40
 *    ports a day) are counted exactly at no extra memory.  Used for the
 *    calendar-day distinct ports and peers of a host.
 *
 *  - hll4: p = 6, 64 registers of 4 bits packed in 32 bytes (standard error
 *    1.04/8 = 13%), small enough for one per bucket of a rolling window.
 *    Ranks saturate at 15, which is exactly a 14-bit hash suffix; the
 *    estimator accounts for it, and it counts up to ~10^6 without bias.
 *
 * The estimator is Ertl's improved raw estimator (O. Ertl, "New cardinality
 * estimation algorithms for HyperLogLog sketches", arXiv:1702.01284, 2017),
 * which is unbiased over the whole range without HLL++'s empirical bias
 * tables or a switch to linear counting.
 *
 * Pure: no allocation, no I/O.  The hash is a seeded 64-bit mixer
 * (hll_hash); a caller that has a keyed hash (SipHash) may feed its own
 * 64-bit values to the *_add_hash functions instead.
 */
#ifndef SENSORD_HLL_H
#define SENSORD_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_P 10
#define HLL_M (1u << HLL_P)
#define HLL_EXACT 128 /* exact hashes held before promotion */

struct hll {
	uint16_t n_exact;  /* hashes in u.exact (exact stage) */
	uint8_t	 is_dense; /* 1: u.reg holds registers */
	uint8_t	 pad[5];
	union {
		uint64_t exact[HLL_EXACT];
		uint8_t	 reg[HLL_M];
	} u;
};

#define HLL4_P 8
#define HLL4_M (1u << HLL4_P)
#define HLL4_BYTES (HLL4_M / 2) /* two 4-bit registers per byte */

/* Seeded 64-bit hash of n bytes (not cryptographic; see hll.c). */
uint64_t hll_hash(uint64_t seed, const void *p, size_t n);

void hll_reset(struct hll *h);
/* Add one item by its hash; 1 when the sketch changed. */
int hll_add_hash(struct hll *h, uint64_t hash);
/* Estimated distinct count (exact below HLL_EXACT items). */
double hll_count(const struct hll *h);
/* dst |= src: afterwards dst counts the union. */
void hll_merge(struct hll *dst, const struct hll *src);

/* 4-bit packed sketch of HLL4_BYTES bytes; zeroed = empty. */
int	 hll4_add_hash(uint8_t reg[HLL4_BYTES], uint64_t hash);
unsigned hll4_get(const uint8_t reg[HLL4_BYTES], unsigned i);
void	 hll4_merge(
	uint8_t dst[restrict HLL4_BYTES], const uint8_t src[restrict HLL4_BYTES]);
double hll4_count(const uint8_t reg[HLL4_BYTES]);

#endif /* SENSORD_HLL_H */
