/*
 * ft_speed: how fast the flow table meters packets with N live
 * conversations.
 *
 *   ft_speed [flows [packets [budget_mib]]]   (defaults 1000000 20000000 128)
 *
 * Builds pktinfo structs in memory (IPv4 TCP, both directions, flows
 * visited in a scrambled order so that the table is not walked in cache
 * order), packet time advancing 0.5 us per packet (2 Mpps), and reports CPU
 * nanoseconds per packet for: creating the conversations, steady state over
 * all of them, and a small hot set (1000 flows), each with ft_packet() one
 * packet at a time and with ft_packet_batch() 64 at a time (as sensord).  The time to
 * build the pktinfo structs is measured alone and subtracted.  One
 * "ft_speed:" line per measurement.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowtab.h"

#define BATCH	64

static uint64_t n_rec;

static void
on_record(void *arg, const struct convrec *cr)
{
	(void)arg;
	(void)cr;
	n_rec++;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Flow f's packet, client to server or back. */
static void
fill(struct pktinfo *pi, uint32_t f, int rev, uint64_t ts)
{
	uint8_t *cl = rev ? pi->dst : pi->src, *sv = rev ? pi->src : pi->dst;
	uint16_t cport = (uint16_t)(32768 + (f >> 24) + (f & 0x3fff));

	memset(pi->src, 0, 10);
	memset(pi->dst, 0, 10);
	pi->src[10] = pi->src[11] = pi->dst[10] = pi->dst[11] = 0xff;
	cl[12] = 10;
	cl[13] = (uint8_t)(f >> 16);
	cl[14] = (uint8_t)(f >> 8);
	cl[15] = (uint8_t)f;
	sv[12] = 192;
	sv[13] = 0;
	sv[14] = 2;
	sv[15] = (uint8_t)(f % 7 + 1);
	pi->sport = rev ? 443 : cport;
	pi->dport = rev ? cport : 443;
	pi->family = 4;
	pi->proto = IPPROTO_TCP;
	pi->flags = PI_HAS_L3 | PI_HAS_PORTS | PI_HAS_TCP;
	pi->tcp_flags = TH_ACK | (rev ? TH_PUSH : 0);
	pi->l4_payload = rev ? 1400 : 0;
	pi->ip_len = 40 + pi->l4_payload;
	pi->ts_us = ts;
}

/* mode 0: build only; 1: ft_packet; 2: ft_packet_batch. */
static double
run(struct flowtab *ft, uint32_t nflows, uint64_t npkts, uint64_t *ts,
    int create, int mode)
{
	struct pktinfo pi[BATCH];
	uint64_t i, x = 0x9e3779b97f4a7c15ULL;
	uint32_t f;
	size_t j, k;
	double t0 = cpu_s();

	memset(pi, 0, sizeof(pi));
	for (i = 0; i < npkts; i += BATCH) {
		k = npkts - i < BATCH ? (size_t)(npkts - i) : BATCH;
		for (j = 0; j < k; j++) {
			if (create)
				f = (uint32_t)(i + j);
			else {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				f = (uint32_t)(x % nflows);
			}
			fill(&pi[j], f, !create && (x & 0x100), *ts);
			*ts += (i + j) & 1;	/* 0.5 us per packet: 2 Mpps */
		}
		if (mode == 1)
			for (j = 0; j < k; j++)
				ft_packet(ft, &pi[j], 0);
		else if (mode == 2)
			ft_packet_batch(ft, pi, k, 0);
	}
	return (cpu_s() - t0) * 1e9 / (double)npkts;
}

static struct flowtab *
mk(size_t mib)
{
	struct ft_config cfg;
	struct ft_sink sink = { NULL, on_record, NULL };
	struct flowtab *ft;

	ft_config_defaults(&cfg);
	cfg.mem_budget = mib << 20;
	memcpy(cfg.seed, "ft_speed seed 16", 16);
	if ((ft = ft_new(&cfg, &sink)) == NULL) {
		perror("ft_new");
		exit(1);
	}
	return ft;
}

int
main(int argc, char **argv)
{
	uint32_t nflows = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) :
	    1000000;
	uint64_t npkts = argc > 2 ? strtoull(argv[2], NULL, 0) : 20000000;
	size_t mib = argc > 3 ? strtoul(argv[3], NULL, 0) : 128;
	static const char *const name[] = {
		"", "ft_packet", "ft_packet_batch"
	};
	struct ft_stats st;
	struct flowtab *ft;
	uint64_t ts;
	double base_c, base_s, ns;
	int mode;

	ts = 0;
	base_c = run(NULL, nflows, nflows, &ts, 1, 0);
	base_s = run(NULL, nflows, npkts, &ts, 0, 0);
	printf("ft_speed: building pktinfo costs %.1f ns/packet (subtracted)\n",
	    base_s);
	for (mode = 1; mode <= 2; mode++) {
		ft = mk(mib);
		ts = UINT64_C(1700000000000000);
		ns = run(ft, nflows, nflows, &ts, 1, mode) - base_c;
		ft_get_stats(ft, &st);
		printf("ft_speed: %s: create %u conversations: %.1f ns/packet "
		    "(capacity %llu, %llu bytes/flow)\n", name[mode], nflows,
		    ns, (unsigned long long)st.capacity,
		    (unsigned long long)st.bytes_per_flow);
		ns = run(ft, nflows, npkts, &ts, 0, mode) - base_s;
		ft_get_stats(ft, &st);
		printf("ft_speed: %s: steady, %llu packets, %llu live: %.1f "
		    "ns/packet (%.2f Mpps)\n", name[mode],
		    (unsigned long long)npkts,
		    (unsigned long long)st.n_active, ns, 1e3 / ns);
		ns = run(ft, 1000, npkts / 4, &ts, 0, mode) - base_s;
		printf("ft_speed: %s: hot set of 1000 conversations: %.1f "
		    "ns/packet\n", name[mode], ns);
		ft_flush(ft, END_EOF);
		ft_get_stats(ft, &st);
		printf("ft_speed: %s: %llu records, %llu created, %llu "
		    "evicted\n", name[mode], (unsigned long long)n_rec,
		    (unsigned long long)st.n_created,
		    (unsigned long long)st.n_evict);
		n_rec = 0;
		ft_free(ft);
	}
	return 0;
}
