/*
 * gzenc.c: raw deflate with ISA-L at level 1 and libdeflate above it.
 *
 * Why two libraries: the flow log and the capture files are written at
 * level 1, where the encoder's speed is the sensor's cost (the flow log's
 * thread shares the core with metering; capture compression decides how
 * much escalated traffic two cores keep up with).  ISA-L's igzip level 1
 * (Intel's storage library, Debian's libisal2) does that 2.2-2.4x faster
 * per CPU second than libdeflate level 1 on our data, at 1-6 % more
 * output; above level 1 libdeflate gives the better ratio, which is why
 * someone asks for a higher level.  Both emit standard deflate that zlib,
 * gzip and Wireshark read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>

#include "gzenc.h"

struct gze {
	struct isal_zstream	      zs;
	uint8_t			     *level_buf; /* ISA-L level 1 */
	struct libdeflate_compressor *ld[GZE_MAX_LEVEL + 1];
};

struct gze *
gze_new(void)
{
	struct gze *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	if ((g->level_buf = malloc(ISAL_DEF_LVL1_DEFAULT)) == NULL) {
		free(g);
		errno = ENOMEM;
		return NULL;
	}
	return g;
}

void
gze_free(struct gze *g)
{
	int i;

	if (g == NULL)
		return;
	for (i = 0; i <= GZE_MAX_LEVEL; i++)
		if (g->ld[i] != NULL)
			libdeflate_free_compressor(g->ld[i]);
	free(g->level_buf);
	free(g);
}

/* The encoder for level: 0 when the output does not fit in cap. */
static size_t
encode(
    struct gze *g, int level, const void *in, size_t n, void *out, size_t cap)
{
	struct isal_zstream *zs = &g->zs;

	if (level > 1 || n > UINT32_MAX || cap > UINT32_MAX) {
		if (g->ld[level] == NULL &&
		    (g->ld[level] = libdeflate_alloc_compressor(level)) == NULL)
			return 0;
		return libdeflate_deflate_compress(
		    g->ld[level], in, n, out, cap);
	}
	isal_deflate_stateless_init(zs);
	zs->level = 1;
	zs->level_buf = g->level_buf;
	zs->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
	zs->gzip_flag = IGZIP_DEFLATE;
	zs->end_of_stream = 1;
	zs->flush = NO_FLUSH;
	zs->next_in = (uint8_t *)(uintptr_t)in; /* ISA-L does not write it */
	zs->avail_in = (uint32_t)n;
	zs->next_out = out;
	zs->avail_out = (uint32_t)cap;
	return isal_deflate_stateless(zs) == COMP_OK ? zs->total_out : 0;
}

size_t
gze_compress(
    struct gze *g, int level, const void *in, size_t n, void *out, size_t cap)
{
	size_t len = 0;

	if (level > GZE_MAX_LEVEL)
		level = GZE_MAX_LEVEL;
	if (level > 0)
		len = encode(g, level, in, n, out, cap);
	/*
	 * Both encoders give up on incompressible input some bytes before
	 * stored blocks would fill cap (they want slack): store it here.
	 */
	if (len == 0 && cap >= gze_bound(n))
		len = gze_stored(in, n, out);
	return len;
}

size_t
gze_stored(const void *in, size_t n, void *out)
{
	const uint8_t *src = in;
	uint8_t	      *p = out;
	size_t	       off = 0, b;

	do {
		b = n - off > GZE_STORED_MAX ? GZE_STORED_MAX : n - off;
		p[0] = off + b == n ? 1 : 0; /* BFINAL, BTYPE=00 */
		p[1] = (uint8_t)b;
		p[2] = (uint8_t)(b >> 8);
		p[3] = (uint8_t)~b;
		p[4] = (uint8_t)(~b >> 8);
		if (b != 0)
			memcpy(p + 5, src + off, b);
		p += 5 + b;
		off += b;
	} while (off < n);
	return (size_t)(p - (uint8_t *)out);
}

uint32_t
gze_crc32(uint32_t crc, const void *p, size_t n)
{
	return crc32_gzip_refl(crc, p, n);
}
