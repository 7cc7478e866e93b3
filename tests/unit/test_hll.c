/*
 * test_hll.c: HyperLogLog accuracy, measured, and sketch algebra.
 *
 * Accuracy: for each cardinality n we build independent sketches (a new
 * seed per trial) and compare the estimate with n.  Every single estimate
 * must lie within 3 standard errors (1.04/sqrt(m)), and the RMS relative
 * error over the trials must lie within 1.5 standard errors (the expected
 * value is ~1.0 of it; a broken estimator is off by much more).  The
 * measured figures are printed as comments.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hll.h"
#include "t.h"

static double
rel(double est, double n)
{
	return (est - n) / n;
}

static void
test_hash(void)
{
	uint32_t a = 1, b = 2;
	uint64_t h1 = hll_hash(1, &a, 4), h2 = hll_hash(1, &b, 4);
	uint64_t h3 = hll_hash(2, &a, 4);
	uint8_t k17[17], k18[18];
	int i, flips = 0;

	T_OK(h1 != h2, "hash: different items differ");
	T_OK(h1 != h3, "hash: different seeds differ");
	T_EQ_U64(hll_hash(1, &a, 4), h1, "hash: deterministic");
	memset(k17, 0, sizeof(k17));
	memset(k18, 0, sizeof(k18));
	T_OK(hll_hash(7, k17, 17) != hll_hash(7, k18, 18),
	    "hash: length is part of the input");
	/* Avalanche: one input bit flips about half the output bits. */
	for (i = 0; i < 64; i++) {
		uint64_t x = 12345, y = x ^ (1ULL << i);

		flips += __builtin_popcountll(hll_hash(9, &x, 8) ^
		    hll_hash(9, &y, 8));
	}
	T_OK(flips > 64 * 28 && flips < 64 * 36,
	    "hash: avalanche %d/%d bits flipped (want ~half)", flips, 64 * 64);
}

static void
test_exact_stage(void)
{
	struct hll h;
	uint64_t i;

	hll_reset(&h);
	T_EQ_INT((long long)hll_count(&h), 0, "empty sketch counts 0");
	for (i = 0; i < HLL_EXACT; i++) {
		hll_add_hash(&h, hll_hash(5, &i, sizeof(i)));
		hll_add_hash(&h, hll_hash(5, &i, sizeof(i)));	/* dup */
	}
	T_OK(!h.is_dense, "128 distinct items stay in the exact stage");
	T_OK(hll_count(&h) == (double)HLL_EXACT,
	    "exact stage counts exactly: %.1f", hll_count(&h));
	T_EQ_INT(hll_add_hash(&h, hll_hash(5, &i, sizeof(i))), 1,
	    "129th item is a change");
	T_OK(h.is_dense, "129th item promotes to registers");
	T_OK(fabs(rel(hll_count(&h), 129)) < 0.1,
	    "count after promotion close to 129: %.1f", hll_count(&h));
	i = 3;
	T_EQ_INT(hll_add_hash(&h, hll_hash(5, &i, sizeof(i))), 0,
	    "re-adding a promoted item changes nothing");
}

/* Accuracy of the 1 KiB sketch from 10 to 10^6 distinct items. */
static void
test_accuracy(void)
{
	static const struct { uint64_t n; int trials; } cases[] = {
		{ 10, 30 }, { 100, 30 }, { 200, 30 }, { 1000, 30 },
		{ 3000, 30 }, { 10000, 20 }, { 100000, 8 }, { 1000000, 3 },
	};
	const double se = 1.04 / sqrt((double)HLL_M);
	size_t c;
	double worst_rmse = 0;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double sum2 = 0, worst = 0;
		int t, bad = 0;

		for (t = 0; t < cases[c].trials; t++) {
			struct hll h;
			uint64_t i, seed = 1000 + (uint64_t)t * 7919 + c;
			double e;

			hll_reset(&h);
			for (i = 0; i < cases[c].n; i++)
				hll_add_hash(&h, hll_hash(seed, &i, sizeof(i)));
			e = rel(hll_count(&h), (double)cases[c].n);
			sum2 += e * e;
			if (fabs(e) > worst)
				worst = fabs(e);
			if (fabs(e) > 3 * se)
				bad++;
		}
		sum2 = sqrt(sum2 / cases[c].trials);
		if (cases[c].n > HLL_EXACT && sum2 > worst_rmse)
			worst_rmse = sum2;
		printf("# hll p=10 n=%-8llu trials=%-2d rmse=%.4f worst=%.4f "
		    "(3 sigma = %.4f)\n", (unsigned long long)cases[c].n,
		    cases[c].trials, sum2, worst, 3 * se);
		T_OK(bad == 0, "n=%llu: every estimate within 3 sigma (%d out)",
		    (unsigned long long)cases[c].n, bad);
		T_OK(sum2 <= 1.5 * se, "n=%llu: rmse %.4f <= 1.5 sigma %.4f",
		    (unsigned long long)cases[c].n, sum2, 1.5 * se);
	}
	printf("# hll p=10 worst rmse above the exact stage: %.4f "
	    "(theory 1.04/sqrt(1024) = %.4f)\n", worst_rmse, se);
}

static void
test_accuracy4(void)
{
	static const uint64_t ns[] = { 5, 20, 100, 500, 2000, 20000, 200000 };
	const double se = 1.04 / sqrt((double)HLL4_M);
	size_t c;

	for (c = 0; c < sizeof(ns) / sizeof(ns[0]); c++) {
		double sum2 = 0, worst = 0;
		int t, trials = ns[c] >= 200000 ? 20 : 60, bad = 0;

		for (t = 0; t < trials; t++) {
			uint8_t r[HLL4_BYTES];
			uint64_t i, seed = 77 + (uint64_t)t * 104729 + c;
			double e;

			memset(r, 0, sizeof(r));
			for (i = 0; i < ns[c]; i++)
				hll4_add_hash(r, hll_hash(seed, &i, sizeof(i)));
			e = rel(hll4_count(r), (double)ns[c]);
			sum2 += e * e;
			if (fabs(e) > worst)
				worst = fabs(e);
			if (fabs(e) > 3 * se)
				bad++;
		}
		sum2 = sqrt(sum2 / trials);
		printf("# hll4 p=6 n=%-7llu rmse=%.4f worst=%.4f "
		    "(3 sigma = %.4f)\n", (unsigned long long)ns[c], sum2,
		    worst, 3 * se);
		/*
		 * With 64 registers the error is skewed: 1% of estimates lie
		 * beyond 3 sigma (measured over 2000 trials), not 0.27%.
		 */
		T_OK(bad <= 2, "hll4 n=%llu: %d of %d estimates beyond 3 sigma",
		    (unsigned long long)ns[c], bad, trials);
		T_OK(sum2 <= 1.5 * se, "hll4 n=%llu: rmse %.4f <= 1.5 sigma",
		    (unsigned long long)ns[c], sum2);
	}
}

/* A merge equals one sketch fed the union, register for register. */
static void
test_merge(void)
{
	struct hll a, b, u, small;
	uint8_t p[HLL4_BYTES], q[HLL4_BYTES], pq[HLL4_BYTES];
	uint64_t i, h;

	hll_reset(&a);
	hll_reset(&b);
	hll_reset(&u);
	hll_reset(&small);
	memset(p, 0, sizeof(p));
	memset(q, 0, sizeof(q));
	memset(pq, 0, sizeof(pq));
	for (i = 0; i < 5000; i++) {
		h = hll_hash(3, &i, sizeof(i));
		if (i < 3000) {
			hll_add_hash(&a, h);
			hll4_add_hash(p, h);
		}
		if (i >= 2000) {
			hll_add_hash(&b, h);
			hll4_add_hash(q, h);
		}
		hll_add_hash(&u, h);
		hll4_add_hash(pq, h);
		if (i < 50)
			hll_add_hash(&small, h);
	}
	hll_merge(&a, &b);
	T_EQ_MEM(a.u.reg, u.u.reg, HLL_M, "merge(a, b) == sketch of union");
	T_OK(hll_count(&a) == hll_count(&u), "merged count == union count");
	hll4_merge(p, q);
	T_EQ_MEM(p, pq, HLL4_BYTES, "hll4 merge == sketch of union");

	/* exact + exact stays exact; exact into dense promotes correctly. */
	hll_reset(&b);
	for (i = 40; i < 90; i++)
		hll_add_hash(&b, hll_hash(3, &i, sizeof(i)));
	hll_merge(&b, &small);
	T_OK(!b.is_dense && hll_count(&b) == 90.0,
	    "exact merge counts the union exactly: %.0f", hll_count(&b));
	hll_merge(&small, &u);
	T_EQ_MEM(small.u.reg, u.u.reg, HLL_M,
	    "merging dense into exact == the dense sketch (subset)");
}

static void
test_hll4_saturation(void)
{
	uint8_t r[HLL4_BYTES];
	unsigned i;

	memset(r, 0, sizeof(r));
	T_OK(hll4_count(r) == 0.0, "empty hll4 counts 0");
	/* A hash whose suffix is all zero gets the saturated rank 15. */
	/* index 1, suffix 0 */
	hll4_add_hash(r, (uint64_t)1 << (64 - HLL4_P));
	T_EQ_INT(hll4_get(r, 1), 15, "zero suffix saturates at 15");
	for (i = 0; i < HLL4_M; i++)
		if (i != 1 && hll4_get(r, i) != 0)
			break;
	T_EQ_INT(i, HLL4_M, "other registers untouched");
	T_OK(isfinite(hll4_count(r)), "count finite with a saturated register");
}

int
main(void)
{
	test_hash();
	test_exact_stage();
	test_accuracy();
	test_accuracy4();
	test_merge();
	test_hll4_saturation();
	return t_done();
}
