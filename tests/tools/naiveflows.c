/*
 * naiveflows: the "naive parse + hash-table loop" of issue 3's benchmark
 * orientation, so `make bench` can say where sensord stands against it on
 * the same machine and file.  What a first attempt at a flow meter looks
 * like: pcap_next_ex(), fixed-offset parsing of Ethernet (802.1Q tags
 * skipped), IPv4/IPv6 and TCP/UDP ports, one open-addressing table of 5-
 * tuples with packets, bytes, flags, first and last time, and FNV-1a as
 * the hash.  No expiry, no pairing of directions, no output, no hardening:
 * it only counts.  (A benchmark tool, not part of sensord; it trusts the
 * bench's own generated trace.)
 *
 *	naiveflows FILE
 *	packets=N flows=N
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS (1u << 21) /* as many as sensord's default table */

struct key {
	uint8_t	 src[16], dst[16];
	uint16_t sport, dport;
	uint8_t	 proto, used, pad[2];
};

struct flow {
	struct key k;
	uint64_t   pkts, bytes, first, last;
	uint8_t	   flags;
};

static uint32_t
fnv1a(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t       h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *b++) * 16777619u;
	return h;
}

int
main(int argc, char **argv)
{
	char		    eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char	   *d;
	struct flow	   *t;
	unsigned long long  n = 0, nflows = 0;
	pcap_t		   *p;

	if (argc != 2 || (p = pcap_open_offline(argv[1], eb)) == NULL) {
		fprintf(stderr, "usage: naiveflows FILE\n");
		return 2;
	}
	if ((t = calloc(SLOTS, sizeof(*t))) == NULL)
		return 1;
	while (pcap_next_ex(p, &h, &d) == 1) {
		struct key k;
		uint32_t   off = 14, l4, i;
		uint16_t   et;
		uint8_t	   fl = 0;

		n++;
		if (h->caplen < 14)
			continue;
		et = (uint16_t)(d[12] << 8 | d[13]);
		while (et == 0x8100 && off + 4 <= h->caplen) {
			et = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
			off += 4;
		}
		memset(&k, 0, sizeof(k));
		if (et == 0x0800 && off + 20 <= h->caplen) {
			memcpy(k.src + 12, d + off + 12, 4);
			memcpy(k.dst + 12, d + off + 16, 4);
			k.proto = d[off + 9];
			l4 = off + (uint32_t)(d[off] & 15) * 4;
		} else if (et == 0x86dd && off + 40 <= h->caplen) {
			memcpy(k.src, d + off + 8, 16);
			memcpy(k.dst, d + off + 24, 16);
			k.proto = d[off + 6];
			l4 = off + 40;
		} else
			continue;
		if ((k.proto == 6 || k.proto == 17) && l4 + 4 <= h->caplen) {
			k.sport = (uint16_t)(d[l4] << 8 | d[l4 + 1]);
			k.dport = (uint16_t)(d[l4 + 2] << 8 | d[l4 + 3]);
			if (k.proto == 6 && l4 + 14 <= h->caplen)
				fl = d[l4 + 13];
		}
		k.used = 1;
		for (i = fnv1a(&k, sizeof(k)) & (SLOTS - 1);
		     t[i].k.used && memcmp(&t[i].k, &k, sizeof(k)) != 0;
		     i = (i + 1) & (SLOTS - 1))
			;
		if (!t[i].k.used) {
			t[i].k = k;
			t[i].first = (uint64_t)h->ts.tv_sec * 1000000u +
			    (uint64_t)h->ts.tv_usec;
			nflows++;
		}
		t[i].pkts++;
		t[i].bytes += h->len;
		t[i].flags |= fl;
		t[i].last = (uint64_t)h->ts.tv_sec * 1000000u +
		    (uint64_t)h->ts.tv_usec;
	}
	printf("packets=%llu flows=%llu\n", n, nflows);
	pcap_close(p);
	free(t);
	return 0;
}
