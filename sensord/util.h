/*
 * util.h: small shared helpers with no state: bounded string copy, address
 * formatting and parsing (IPv4 kept IPv4-mapped in 16 bytes, as everywhere
 * in sensord), CIDR prefixes, time formatting.
 */
#ifndef SENSORD_UTIL_H
#define SENSORD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* strlcpy(3) (glibc 2.36 has none): returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);

/* Dotted quad for IPv4-mapped addresses, RFC 5952 text for IPv6. */
void addr_fmt(const uint8_t addr[16], char buf[ADDR_STRLEN]);

/* Parse IPv4 or IPv6 text into 16 bytes; 0, or -1 when invalid. */
int addr_parse(const char *s, uint8_t addr[16]);

/* 1 when addr is IPv4-mapped (::ffff:0:0/96). */
int addr_is_v4(const uint8_t addr[16]);

/* An address prefix.  For IPv4, len counts from the mapped form (96 + n). */
struct cidr {
	uint8_t addr[16]; /* host bits cleared */
	uint8_t len;	  /* 0..128 in the 16-byte form */
};

/*
 * Parse "a.b.c.d/n", "x::y/n" or a bare address (a host prefix).  Host bits
 * set below the prefix are an error (-1 with errno EINVAL), so a typo such as
 * 10.1.2.3/8 is caught rather than silently widened.
 */
int cidr_parse(const char *s, struct cidr *c);
int cidr_match(const struct cidr *c, const uint8_t addr[16]);

/*
 * A prefix as two 64-bit halves and their masks, in memory order (no byte
 * swaps per test): for tests asked per packet, made once by cidr_mask_make.
 */
struct cidr_mask {
	uint64_t hi, lo;   /* the network, masked */
	uint64_t mhi, mlo; /* the prefix bits */
};
void cidr_mask_make(const struct cidr *c, struct cidr_mask *m);

static inline int
cidr_mask_match(const struct cidr_mask *m, const uint8_t addr[16])
{
	uint64_t hi, lo;

	memcpy(&hi, addr, 8);
	memcpy(&lo, addr + 8, 8);
	return (hi & m->mhi) == m->hi && (lo & m->mlo) == m->lo;
}
/* Canonical text: "10.0.0.0/8", "fc00::/7", "192.0.2.1/32". */
void cidr_fmt(const struct cidr *c, char *buf, size_t size);
/* The prefix length as written by the user (IPv4: 0..32). */
int cidr_user_len(const struct cidr *c);

/* RFC 3339 UTC with microseconds: "2026-11-29T18:00:00.123456Z". */
void time_fmt_us(uint64_t ts_us, char *buf, size_t size);

/*
 * Parse a time bound: epoch seconds ("1764439200", fractions allowed) or
 * RFC 3339 ("2026-11-29T18:00:00Z", "2026-11-29T19:00:00+01:00", optional
 * fraction).  0 and *us, or -1 when it is neither.
 */
int time_parse(const char *s, uint64_t *us);

/*
 * Length of the valid UTF-8 sequence of 2..4 bytes at s (n readable), or
 * 0: no overlong forms, no surrogates, nothing past U+10FFFF.  JSON
 * writers pass such sequences through and escape everything else.
 */
size_t util_utf8_len(const uint8_t *s, size_t n);

/*
 * A 256-bit filter for "is this one of the few?" asked per packet (the
 * escalated hosts, a host's tracked beacon pairs): no false negatives, so
 * a clear bit answers "no" without scanning.  The bit of a key is a
 * multiplicative hash of 32 bits of it (an address's low bits vary most).
 */
static inline unsigned
bits256_index(uint32_t key)
{
	return (key * 0x9e3779b1u) >> 24;
}

/* The low 32 bits of a 16-byte address, as bits256_index() keys. */
static inline uint32_t
addr_low32(const uint8_t addr[16])
{
	uint32_t v;

	memcpy(&v, addr + 12, sizeof(v));
	return v;
}

static inline void
bits256_set(uint64_t b[4], unsigned i)
{
	b[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline int
bits256_has(const uint64_t b[4], unsigned i)
{
	return (int)(b[i >> 6] >> (i & 63)) & 1;
}

#endif /* SENSORD_UTIL_H */
