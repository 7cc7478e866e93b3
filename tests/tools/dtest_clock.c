/*
 * dtest_clock: a "clock" trace for replay tests: one small UDP packet per
 * second between two addresses outside every home network (198.18.0.1 ->
 * 198.18.0.2:123, RFC 2544 benchmark space), so that merged into a
 * scenario it makes `sensord -r` tick every second without adding a host
 * to the baselines.
 *
 *   dtest_clock -o out.pcap --start EPOCH --seconds N [--step-ms MS]
 *
 * Why: offline replay ticks only when a packet arrives (one tick at the
 * new time after a gap), so a decision due one second after the last
 * packet of a quiet spell is taken only at the next packet.  Live capture
 * ticks from a timer.  Deterministic: the same options give the same
 * bytes.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"

static void
usage(void)
{
	fprintf(stderr, "usage: dtest_clock -o out.pcap --start EPOCH "
	    "--seconds N [--step-ms MS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "start", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 'n' },
		{ "step-ms", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	uint64_t start = 0, secs = 0, step_ms = 1000, t, end;
	struct pg_pkt p;
	struct pg pg;
	int c;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 's': start = strtoull(optarg, NULL, 10); break;
		case 'n': secs = strtoull(optarg, NULL, 10); break;
		case 'm': step_ms = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (out == NULL || start == 0 || secs == 0 || secs > 90 * 86400 ||
	    step_ms == 0 || step_ms > 3600000)
		usage();
	if (pg_open(&pg, out) != 0) {
		perror(out);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	pg_addr4(p.src, 198, 18, 0, 1);
	pg_addr4(p.dst, 198, 18, 0, 2);
	p.proto = 17;
	p.sport = 123;
	p.dport = 123;
	p.plen = 48;
	end = (start + secs) * 1000000ULL;
	for (t = start * 1000000ULL; t < end; t += step_ms * 1000) {
		p.ts_us = t;
		if (pg_write(&pg, &p) != 0) {
			perror(out);
			return 1;
		}
	}
	if (pg_close(&pg) != 0) {
		perror(out);
		return 1;
	}
	return 0;
}
