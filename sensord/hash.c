/*
 * hash.c: SipHash-c-d, written from the paper (see hash.h).
 *
 * State: four 64-bit words v0..v3 initialised from the key and the constants
 * "somepseudorandomlygeneratedbytes".  Each 8-byte little-endian message word
 * m is absorbed as v3 ^= m; c SipRounds; v0 ^= m.  The last word carries the
 * remaining 0..7 bytes and the message length mod 256 in its top byte, so
 * messages that differ only by trailing zeros hash apart.  Finalisation:
 * v2 ^= 0xff; d SipRounds; result v0 ^ v1 ^ v2 ^ v3.
 *
 * Cost: one SipRound is 14 simple ALU operations.  A 40-byte flow key is
 * 6 words, so SipHash-1-3 spends 9 rounds (about 15 ns on a 3 GHz core);
 * 2-4 spends 16.  No allocation, no table, constant time in the content.
 */
#include <endian.h>
#include <string.h>

#include "hash.h"

#define SIPROUND HASH_SIPROUND

static inline uint64_t
load_le64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return le64toh(w);
}

void
hash_key_init(struct hash_key *k, const uint8_t seed[16])
{
	k->k0 = load_le64(seed);
	k->k1 = load_le64(seed + 8);
}

/*
 * The round counts are compile-time constants at both call sites, so the
 * compiler unrolls the round loops (always_inline makes sure of it).
 */
static inline __attribute__((always_inline)) uint64_t
siphash(const struct hash_key *k, const uint8_t *p, size_t len, int c, int d)
{
	uint64_t       v0 = k->k0 ^ 0x736f6d6570736575ULL;
	uint64_t       v1 = k->k1 ^ 0x646f72616e646f6dULL;
	uint64_t       v2 = k->k0 ^ 0x6c7967656e657261ULL;
	uint64_t       v3 = k->k1 ^ 0x7465646279746573ULL;
	const uint8_t *end = p + (len & ~(size_t)7);
	uint64_t       m, b;
	int	       i;

	for (; p < end; p += 8) {
		m = load_le64(p);
		v3 ^= m;
		for (i = 0; i < c; i++)
			SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}

	/* Last word: remaining bytes little-endian, length in the top byte. */
	b = (uint64_t)len << 56;
	switch (len & 7) {
	case 7:
		b |= (uint64_t)p[6] << 48;
		/* FALLTHROUGH */
	case 6:
		b |= (uint64_t)p[5] << 40;
		/* FALLTHROUGH */
	case 5:
		b |= (uint64_t)p[4] << 32;
		/* FALLTHROUGH */
	case 4:
		b |= (uint64_t)p[3] << 24;
		/* FALLTHROUGH */
	case 3:
		b |= (uint64_t)p[2] << 16;
		/* FALLTHROUGH */
	case 2:
		b |= (uint64_t)p[1] << 8;
		/* FALLTHROUGH */
	case 1:
		b |= (uint64_t)p[0];
		break;
	default:
		break;
	}
	v3 ^= b;
	for (i = 0; i < c; i++)
		SIPROUND(v0, v1, v2, v3);
	v0 ^= b;

	v2 ^= 0xff;
	for (i = 0; i < d; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
hash_sip13(const struct hash_key *k, const void *data, size_t len)
{
	return siphash(k, data, len, 1, 3);
}

uint64_t
hash_sip24(const struct hash_key *k, const void *data, size_t len)
{
	return siphash(k, data, len, 2, 4);
}
