/*
 * sha256.h: SHA-256 (FIPS 180-4), streaming.
 *
 * Used for the chain of custody of capture files: the spool hashes the exact
 * bytes it writes while it writes them, so a file is never read back to be
 * hashed.  Pure: no I/O, no allocation.
 */
#ifndef SENSORD_SHA256_H
#define SENSORD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEXLEN 65 /* 64 hex digits and a NUL */

struct sha256 {
	uint32_t h[8];	  /* intermediate hash value */
	uint64_t n_bytes; /* message length so far */
	uint8_t	 buf[64]; /* partial block */
	size_t	 n_buf;	  /* bytes in buf, < 64 */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Pads, writes the digest; s must be re-initialised before reuse. */
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
/* One-shot convenience. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);
/*
 * Use the CPU's SHA extensions when present (the default) or not (on = 0);
 * returns 1 when they are now in use.  Same digests either way.
 */
int sha256_use_hw(int on);
/* Lower-case hex, NUL-terminated. */
void sha256_hex(const uint8_t dig[SHA256_LEN], char out[SHA256_HEXLEN]);

#endif /* SENSORD_SHA256_H */
