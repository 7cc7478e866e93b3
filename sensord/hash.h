/*
 * hash.h: keyed hashing for tables that untrusted traffic fills.
 *
 * SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * INDOCRYPT 2012), written from the paper.  The flow table uses the 1-3
 * variant (one compression round, three finalisation rounds, as CPython and
 * Rust's std do for hash tables); 2-4 is here for the paper's test vectors
 * and for uses that want the full PRF margin.  The key comes from the
 * ft_config seed (getrandom() at start-up), so an attacker who does not know
 * it cannot aim packets at one bucket.
 */
#ifndef SENSORD_HASH_H
#define SENSORD_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The 128-bit key as two little-endian words, as the paper defines it. */
struct hash_key {
	uint64_t k0;
	uint64_t k1;
};

/* Load a 16-byte seed (k0 from bytes 0..7, k1 from 8..15, little-endian). */
void hash_key_init(struct hash_key *k, const uint8_t seed[16]);

uint64_t hash_sip13(const struct hash_key *k, const void *data, size_t len);
uint64_t hash_sip24(const struct hash_key *k, const void *data, size_t len);

#define HASH_ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define HASH_SIPROUND(v0, v1, v2, v3) \
	do { \
		(v0) += (v1); \
		(v1) = HASH_ROTL64((v1), 13); \
		(v1) ^= (v0); \
		(v0) = HASH_ROTL64((v0), 32); \
		(v2) += (v3); \
		(v3) = HASH_ROTL64((v3), 16); \
		(v3) ^= (v2); \
		(v0) += (v3); \
		(v3) = HASH_ROTL64((v3), 21); \
		(v3) ^= (v0); \
		(v2) += (v1); \
		(v1) = HASH_ROTL64((v1), 17); \
		(v1) ^= (v2); \
		(v2) = HASH_ROTL64((v2), 32); \
	} while (0)

/*
 * hash_sip13() of a 16-byte message given as its two little-endian words,
 * inline and straight-line (the flow table's IPv4 key, once per packet):
 * two compression rounds, the length word, three finalisation rounds.
 */
static inline uint64_t
hash_sip13_16(const struct hash_key *k, uint64_t m0, uint64_t m1)
{
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)16 << 56;

	v3 ^= m0;
	HASH_SIPROUND(v0, v1, v2, v3);
	v0 ^= m0;
	v3 ^= m1;
	HASH_SIPROUND(v0, v1, v2, v3);
	v0 ^= m1;
	v3 ^= b;
	HASH_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	HASH_SIPROUND(v0, v1, v2, v3);
	HASH_SIPROUND(v0, v1, v2, v3);
	HASH_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * A bijective 64-bit mixer (the splitmix64 finaliser): distinct inputs give
 * distinct outputs, so it turns counters into unique, well-spread ids.
 */
static inline uint64_t
hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#endif /* SENSORD_HASH_H */
