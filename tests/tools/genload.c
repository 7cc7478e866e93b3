/*
 * genload: a large synthetic trace for load tests (live_load.sh replays it
 * with tcpreplay --topspeed).
 *
 *	genload OUT.pcap N_PACKETS N_FLOWS [PAYLOAD_BYTES]
 *
 * N_FLOWS conversations from 10.1.x.y to 10.2.0.1, half UDP (to :53), half
 * TCP data segments (to :80, ACK|PSH, no handshake), interleaved round-robin
 * so that every conversation stays active to the end of the replay and the
 * flow table works across all of them.  Small frames (60 bytes on the wire
 * with the default payload of 18) for a high packet rate.  Prints
 * "packets N bytes B" (frame bytes, without pcap headers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"

int
main(int argc, char **argv)
{
	struct pg pg;
	struct pg_pkt p;
	unsigned long n, flows, i, f, plen = 18;
	unsigned long long frame_bytes = 0;
	uint64_t t = 1700000000ull * 1000000ull;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: genload OUT N_PACKETS N_FLOWS "
		    "[PAYLOAD_BYTES]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	flows = strtoul(argv[3], NULL, 10);
	if (argc == 5)
		plen = strtoul(argv[4], NULL, 10);
	if (n == 0 || flows == 0 || flows > 65536 * 200 || plen > 1400) {
		fprintf(stderr, "genload: bad arguments\n");
		return 2;
	}
	if (pg_open(&pg, argv[1]) != 0) {
		perror(argv[1]);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	pg_addr4(p.dst, 10, 2, 0, 1);
	p.plen = (uint32_t)plen;
	for (i = 0; i < n; i++) {
		uint64_t before = pg.n_bytes;

		f = i % flows;
		pg_addr4n(p.src, (uint32_t)(0x0a010000u + f));
		p.sport = (uint16_t)(10000 + f % 50000);
		if (f & 1) {
			p.proto = 6;
			p.dport = 80;
			p.flags = PG_ACK | PG_PSH;
			p.seq = (uint32_t)(1000 + (i / flows) * plen);
			p.ack = 1;
		} else {
			p.proto = 17;
			p.dport = 53;
			p.seq = (uint32_t)i;
		}
		p.ts_us = t + i;
		if (pg_write(&pg, &p) != 0) {
			perror(argv[1]);
			return 1;
		}
		frame_bytes += pg.n_bytes - before - 16;
	}
	if (pg_close(&pg) != 0) {
		perror(argv[1]);
		return 1;
	}
	printf("packets %lu bytes %llu\n", n, frame_bytes);
	return 0;
}
