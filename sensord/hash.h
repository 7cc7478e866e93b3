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
