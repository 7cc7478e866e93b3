/*
 * test_zout: gzip members.  Text compresses, random bytes are stored (and
 * then exactly zout_bound() long); no member is ever above the bound;
 * zlib inflates the concatenation of a metadata member and data members
 * to the input; the pool's output is byte-identical to inline compression
 * whatever the thread count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "t.h"
#include "zout.h"

static void
fill_text(uint8_t *p, size_t n, unsigned seed)
{
	static const char *w[] = { "GET ", "/index.html ", "HTTP/1.1\r\n",
	    "Host: example.org\r\n", "Accept: */*\r\n", "value=", "42 " };
	size_t o = 0, k;

	while (o < n) {
		const char *s;

		seed = seed * 1103515245u + 12345u;
		s = w[(seed >> 16) % 7];

		for (k = 0; s[k] != '\0' && o < n; k++)
			p[o++] = (uint8_t)s[k];
	}
}

static void
fill_random(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Inflate a whole (multi-member) gzip buffer with zlib. */
static size_t
inflate_all(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int *err)
{
	z_stream zs;
	size_t total = 0;
	int r = Z_OK;

	*err = 0;
	while (n > 0) {
		memset(&zs, 0, sizeof(zs));
		if (inflateInit2(&zs, 16 + 15) != Z_OK) {
			*err = 1;
			return 0;
		}
		zs.next_in = (Bytef *)(uintptr_t)in;
		zs.avail_in = (uInt)n;
		zs.next_out = out + total;
		zs.avail_out = (uInt)(cap - total);
		r = inflate(&zs, Z_FINISH);
		if (r != Z_STREAM_END) {
			*err = 1;
			inflateEnd(&zs);
			return total;
		}
		total += zs.total_out;
		in += zs.total_in;
		n -= zs.total_in;
		inflateEnd(&zs);
	}
	return total;
}

int
main(void)
{
	static uint8_t in[3 << 20], out[3 << 20], file[4 << 20], back[4 << 20];
	const char *meta = "sensord-capture 1\nhost=192.0.2.1\n";
	struct zout_ctx *zc = zout_ctx_new();
	struct zout_job jobs[8];
	uint8_t *outs[8];
	size_t len, flen = 0, n, i, sizes[] = { 0, 1, 63, 64, 100, 65535,
	    65536, 200000, 1 << 20, (1 << 20) + 12345 };
	int stored, err, bad = 0, t;

	T_OK(zc != NULL, "compressor context");
	/* Text: compressed, well under the bound. */
	fill_text(in, 1 << 20, 1);
	len = zout_member(zc, 1, in, 1 << 20, out, &stored);
	T_OK(!stored && len < (1 << 20) / 3, "text chunk compressed to %zu "
	    "bytes", len);
	/* Random: stored, exactly the bound. */
	fill_random(in, 1 << 20, 2);
	len = zout_member(zc, 1, in, 1 << 20, out, &stored);
	T_OK(stored && len == zout_bound(1 << 20), "random chunk stored "
	    "(%zu = bound %zu)", len, zout_bound(1 << 20));
	/* Half text, half random: must save >= 3 % or be stored. */
	fill_text(in, 1 << 19, 3);
	fill_random(in + (1 << 19), 1 << 19, 4);
	len = zout_member(zc, 1, in, 1 << 20, out, &stored);
	T_OK(stored ? len == zout_bound(1 << 20) :
	    len <= (1 << 20) - (1 << 20) * 3 / 100, "mixed chunk: %s, %zu "
	    "bytes", stored ? "stored" : "compressed", len);
	/* Every size, every kind, every level: <= bound, inflates back. */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (t = 0; t < 3; t++) {
			int lvl = t == 0 ? 0 : t == 1 ? 1 : 9;

			if (i % 2)
				fill_random(in, sizes[i], (unsigned)i);
			else
				fill_text(in, sizes[i], (unsigned)i);
			len = zout_member(zc, lvl, in, sizes[i], out, &stored);
			if (len > zout_bound(sizes[i]))
				bad++;
			n = inflate_all(out, len, back, sizeof(back), &err);
			if (err || n != sizes[i] || memcmp(back, in, n) != 0)
				bad++;
		}
	T_EQ_INT(bad, 0, "30 members: each <= zout_bound, each inflates back");

	/* A file: metadata member, then members; zlib reads it as one. */
	flen = zout_meta_member(file, meta, strlen(meta));
	T_EQ_INT(flen, zout_meta_size(strlen(meta)), "metadata member size");
	T_OK(file[3] == 0x10 && memcmp(file + 10, meta, strlen(meta)) == 0,
	    "metadata in the FCOMMENT field");
	fill_text(in, 3 << 20, 9);
	fill_random(in + (1 << 20), 1 << 20, 10);
	for (i = 0; i < 3; i++)
		flen += zout_member(zc, 1, in + (i << 20), 1 << 20,
		    file + flen, &stored);
	n = inflate_all(file, flen, back, sizeof(back), &err);
	T_OK(!err && n == (3 << 20) && memcmp(back, in, n) == 0,
	    "zlib inflates metadata + 3 members to the input");

	/* Pool: same bytes with 0, 1 and 2 threads. */
	for (t = 0; t <= 2; t++) {
		struct zout *z = zout_new((unsigned)t);
		size_t off = 0;

		for (i = 0; i < 8; i++) {
			outs[i] = malloc(zout_bound(1 << 18));
			jobs[i].in = in + i * (1 << 18);
			jobs[i].in_len = 1 << 18;
			jobs[i].out = outs[i];
			jobs[i].level = 1;
			zout_submit(z, &jobs[i]);
		}
		for (i = 0; i < 8; i++) {
			zout_wait(z, &jobs[i]);
			if (t == 0)
				memcpy(file + off, outs[i], jobs[i].out_len);
			else if (memcmp(file + off, outs[i],
			    jobs[i].out_len) != 0)
				bad++;
			off += jobs[i].out_len;
			free(outs[i]);
		}
		T_OK(zout_threads(z) == (unsigned)t && bad == 0,
		    "%d threads: identical members, in order", t);
		zout_free(z);
	}
	T_OK(zout_new(ZOUT_MAX_THREADS + 1) == NULL, "too many threads");
	zout_ctx_free(zc);
	return t_done();
}
