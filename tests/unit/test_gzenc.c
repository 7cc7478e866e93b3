/*
 * test_gzenc: raw deflate from both encoders inflates (zlib) to the input,
 * at every level, for text, random bytes, empty and odd sizes; stored
 * blocks are exactly as long as gze_bound() allows; a cap too small gives
 * 0, never a write past it; the same input gives the same bytes; the CRC
 * is gzip's (zlib's crc32).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gzenc.h"
#include "t.h"

static void
fill_json(uint8_t *p, size_t n, unsigned seed)
{
	size_t o = 0;

	while (o < n) {
		char line[200];
		int  k;

		seed = seed * 1103515245u + 12345u;
		k = snprintf(line, sizeof(line),
		    "{\"conv_id\":%u,\"start\":1700000000.%06u,\"proto\":6,"
		    "\"src\":\"10.1.%u.%u\",\"sport\":%u,\"dport\":443}\n",
		    seed >> 8, seed % 1000000, (seed >> 3) & 255,
		    (seed >> 11) & 255, 1024 + (seed >> 17) % 60000);
		for (int i = 0; i < k && o < n; i++)
			p[o++] = (uint8_t)line[i];
	}
}

static void
fill_random(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Raw inflate of in[0..n) into out (cap); the output length or -1. */
static long
inflate_raw(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream zs;
	int	 rc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	rc = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	/* The whole input must be one complete deflate stream. */
	if (rc != Z_STREAM_END || zs.avail_in != 0)
		return -1;
	return (long)zs.total_out;
}

static int
round_trip(struct gze *g, int level, const uint8_t *in, size_t n, size_t *clen)
{
	size_t	 cap = gze_bound(n);
	uint8_t *c = malloc(cap + 1), *d = malloc(n + 1);
	size_t	 len;
	long	 got;
	int	 ok;

	len = gze_compress(g, level, in, n, c, cap);
	got = len > 0 ? inflate_raw(c, len, d, n + 1) : -1;
	ok = len > 0 && len <= cap && got == (long)n &&
	    (n == 0 || memcmp(d, in, n) == 0);
	*clen = len;
	free(c);
	free(d);
	return ok;
}

int
main(void)
{
	static const int levels[] = {0, 1, 2, 6, 12};
	static const size_t sizes[] = {
	    0, 1, 63, 4096, 65535, 65536, 200000, 1 << 20};
	struct gze *g = gze_new();
	size_t	    n = 1 << 20, i, k, len, len2, bad = 0;
	uint8_t	   *text = malloc(n), *rnd = malloc(n), *out, *out2;
	size_t	    text1 = 0, text_ld = 0;

	T_OK(g != NULL, "gze_new");
	fill_json(text, n, 7);
	fill_random(rnd, n, 9);

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			if (!round_trip(g, levels[i], text, sizes[k], &len) ||
			    !round_trip(g, levels[i], rnd, sizes[k], &len2)) {
				printf("# level %d, %zu bytes: round trip "
				       "failed\n",
				    levels[i], sizes[k]);
				bad++;
			}
			if (sizes[k] == n && levels[i] == 1)
				text1 = len;
			if (sizes[k] == n && levels[i] == 2)
				text_ld = len;
			/* Random bytes never grow past the stored size. */
			if (len2 > gze_bound(sizes[k]))
				bad++;
		}
	T_EQ_U64(bad, 0,
	    "levels 0/1/2/6/12 x 8 sizes x text/random: zlib inflates each "
	    "to its input, within gze_bound");
	printf("# 1 MiB of JSON lines: level 1 (ISA-L) %zu bytes, level 2 "
	       "(libdeflate) %zu\n",
	    text1, text_ld);
	T_OK(text1 > 0 && text1 < n / 4,
	    "level 1 compresses JSON lines over 4:1 (%zu of %zu)", text1, n);

	/* Stored: exactly n + 5 per block. */
	out = malloc(gze_bound(n));
	len = gze_compress(g, 0, rnd, 65535 * 2, out, gze_bound(65535 * 2));
	T_EQ_U64(len, 65535 * 2 + 10, "level 0: two full stored blocks");
	len = gze_compress(g, 0, rnd, 0, out, gze_bound(0));
	T_EQ_U64(len, 5, "level 0, empty: one empty final block");
	T_EQ_U64(gze_compress(g, 0, rnd, 1000, out, 1004), 0,
	    "level 0, cap below the stored size: 0");

	/* A tight cap: 0 and nothing written past it. */
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		size_t cap = 50000;

		memset(out, 0xa5, gze_bound(n));
		len = gze_compress(g, levels[i], rnd, 200000, out, cap);
		for (k = cap; k < cap + 4096 && out[k] == 0xa5; k++)
			;
		T_OK(len == 0 && k == cap + 4096,
		    "level %d, random bytes, cap 50000 of 200000: 0 (%zu), "
		    "nothing written past the cap",
		    levels[i], len);
	}

	/* Deterministic, also after other levels used the encoder. */
	out2 = malloc(gze_bound(n));
	len = gze_compress(g, 1, text, n, out, gze_bound(n));
	(void)gze_compress(g, 6, rnd, 4096, out2, gze_bound(4096));
	len2 = gze_compress(g, 1, text, n, out2, gze_bound(n));
	T_OK(len == len2 && memcmp(out, out2, len) == 0,
	    "level 1: same input, same bytes");

	T_EQ_U64(gze_crc32(0, text, n), crc32(0, text, (uInt)n),
	    "gze_crc32 = zlib crc32 (1 MiB)");
	T_EQ_U64(gze_crc32(gze_crc32(0, text, 1000), text + 1000, n - 1000),
	    crc32(0, text, (uInt)n), "gze_crc32 continues a CRC");
	T_EQ_U64(gze_crc32(0, text, 0), 0, "CRC of nothing is 0");

	gze_free(g);
	gze_free(NULL);
	free(text);
	free(rnd);
	free(out);
	free(out2);
	return t_done();
}
