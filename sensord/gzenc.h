/*
 * gzenc.h: one-shot raw deflate for gzip members, with the fastest encoder
 * for the level asked.
 *
 *   level 0      stored blocks (gze_stored)
 *   level 1      ISA-L's igzip, level 1: on our data 2.2-2.4x libdeflate
 *                level 1's speed per CPU second (flow log JSON 650-700
 *                MB/s vs 280-300; pcap 300 vs 100), output 1-6 % larger
 *                (tests/tools/flowlog_bench, make bench)
 *   levels 2-12  libdeflate at that level, for those who want ratio
 *
 * A struct gze is one thread's encoder (neither library shares one).  The
 * output is raw deflate (RFC 1951): the caller writes the gzip header and
 * trailer (gze_crc32).  Allocates only in gze_new.
 */
#ifndef SENSORD_GZENC_H
#define SENSORD_GZENC_H

#include <stddef.h>
#include <stdint.h>

#define GZE_MAX_LEVEL 12

struct gze;

/* NULL with errno ENOMEM. */
struct gze *gze_new(void);
void	    gze_free(struct gze *g);

/*
 * Compress n bytes at level into out (cap bytes).  Returns the raw
 * deflate length: the encoder's output, or stored blocks when the
 * encoder gave up (incompressible input) and they fit, which they always
 * do with cap >= gze_bound(n); 0 when nothing fits in cap.  Deterministic for the same level and input.
 */
size_t gze_compress(
    struct gze *g, int level, const void *in, size_t n, void *out, size_t cap);

#define GZE_STORED_MAX 65535 /* bytes per stored block */

/* n bytes as stored deflate blocks: at most gze_bound(n) bytes. */
size_t gze_stored(const void *in, size_t n, void *out);

static inline size_t
gze_bound(size_t n)
{
	return n + 5 * (n / GZE_STORED_MAX + 1);
}

/* CRC-32 of gzip (RFC 1952), continued from crc (0 to start). */
uint32_t gze_crc32(uint32_t crc, const void *p, size_t n);

#endif
