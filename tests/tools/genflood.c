/*
 * genflood: a SYN flood from spoofed sources, for the flow-table flood test
 * (DOMAIN.md 4: a flood must not evict established conversations).
 *
 *	genflood -o FILE [-n syns] [-s seed] [-t start_s] [-d span_ms]
 *	    [--targets K] [--legit L] [--answer PERMILLE] [-6] [--truth FILE]
 *
 * N TCP SYNs (default 1,000,000), each from a distinct (address, port),
 * evenly spread over span_ms (default 10 s) to K targets (10.1.100.80 and
 * up, port 80).  IPv4 sources walk all of 198.18.0.0/15 in a scrambled
 * order before any address repeats, with a new source port each round;
 * with -6 every SYN has its own address in 2001:db8:f000::/48.  A target
 * answers a SYN with a SYN-ACK with probability PERMILLE/1000 (default 0:
 * a capture upstream of the target sees none).
 *
 * L legitimate TLS-like conversations (default 100, 10.1.0.2 and up to the
 * targets on port 443) open a second before the flood, exchange a request
 * and a response every ~200 ms throughout it, and close with FIN a second
 * after it: those are the ones a flow table must keep.
 *
 * Every attribute of SYN i is a hash of (seed, i), so the flood is written
 * in one pass with no state; the legitimate traffic is queued, sorted and
 * merged in.  Deterministic: same arguments, same bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"
#include "gen.h"

#define V4_SPACE	(1u << 17)	/* 198.18.0.0/15 */
#define ANSWER_US	150		/* target's SYN-ACK delay */

struct flood {
	uint64_t	 seed, n, t_flood, span_us;
	uint32_t	 targets, answer, v6;
};

static uint64_t
hash64(uint64_t seed, uint64_t i)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + i;

	return gen_splitmix(&x);
}

static void
target_addr(uint8_t a[16], const struct flood *f, uint64_t i)
{
	unsigned k = (unsigned)(i % f->targets);

	if (!f->v6) {
		pg_addr4(a, 10, 1, 100, 80 + k);
		return;
	}
	memset(a, 0, 16);
	a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
	a[6] = 0x01;
	a[15] = (uint8_t)(0x80 + k);
}

/* SYN number i, and with `reply` the target's SYN-ACK to it. */
static void
flood_pkt(const struct flood *f, uint64_t i, int reply, struct pg_pkt *p)
{
	uint64_t h = hash64(f->seed, i);
	uint8_t src[16];
	uint32_t a, round;

	memset(p, 0, sizeof(*p));
	if (!f->v6) {
		/* An odd multiplier permutes the /15; rounds move ports. */
		a = (uint32_t)((i % V4_SPACE) * 40503u + 977u) & (V4_SPACE - 1);
		round = (uint32_t)(i / V4_SPACE);
		pg_addr4n(src, 0xc6120000u + a);
		p->sport = (uint16_t)(1024 + (a * 7u + round * 4099u) % 64000u);
	} else {
		memset(src, 0, 16);
		src[0] = 0x20; src[1] = 0x01; src[2] = 0x0d; src[3] = 0xb8;
		src[4] = 0xf0;
		pg_put32(src + 12, (uint32_t)i);
		src[11] = (uint8_t)(i >> 32);
		p->sport = (uint16_t)(1024 + (h >> 48) % 64000);
	}
	p->proto = 6;
	p->dport = 80;
	p->seq = (uint32_t)h;
	p->ts_us = f->t_flood + i * f->span_us / f->n;
	memcpy(p->src, src, 16);
	target_addr(p->dst, f, i);
	p->flags = PG_SYN;
	if (reply) {
		uint16_t port = p->sport;

		memcpy(p->src, p->dst, 16);
		memcpy(p->dst, src, 16);
		p->sport = 80;
		p->dport = port;
		p->ack = p->seq + 1;
		p->seq = (uint32_t)(h >> 32);
		p->flags = PG_SYN | PG_ACK;
		p->ts_us += ANSWER_US;
	}
}

static int
answered(const struct flood *f, uint64_t i)
{
	return (hash64(f->seed ^ 0xa5a5a5a5ULL, i) >> 33) % 1000 < f->answer;
}

/*
 * Queue the legitimate conversations.  They run from t0 to t_end with a
 * round every 150-250 ms: request, response, ACK.
 */
static void
legit_queue(struct gen_q *q, struct gen_rng *r, const struct gen_pool *pl,
    const struct flood *f, uint32_t nlegit, uint64_t t0, uint64_t t_end,
    struct gen_count *cnt)
{
	static uint8_t buf[2048];
	struct pg_pkt p;
	uint8_t c[16], s[16];
	uint32_t k, cs, ss, n;
	uint64_t t;
	int v6 = f->v6;

	for (k = 0; k < nlegit; k++) {
		if (!v6) {
			pg_addr4(c, 10, 1, k / 250, k % 250 + 2);
		} else {
			memset(c, 0, 16);
			c[0] = 0x20; c[1] = 0x01; c[2] = 0x0d; c[3] = 0xb8;
			c[7] = (uint8_t)(k / 250 + 1);
			c[15] = (uint8_t)(k % 250 + 2);
		}
		target_addr(s, f, k);
		cs = (uint32_t)gen_next(r);
		ss = (uint32_t)gen_next(r);
		t = t0 + k * 5000;
		memset(&p, 0, sizeof(p));
		p.proto = 6;
#define C2S(fl, pl_, len) do { memcpy(p.src, c, 16); memcpy(p.dst, s, 16); \
	p.sport = (uint16_t)(40000 + k); p.dport = 443; p.flags = (fl); \
	p.seq = cs; p.ack = (fl) == PG_SYN ? 0 : ss; p.payload = (pl_); \
	p.plen = (len); p.ts_us = t; gen_q_add(q, &p); \
	cs += (len) + ((fl) & (PG_SYN | PG_FIN) ? 1 : 0); \
	} while (0)
#define S2C(fl, pl_, len) do { memcpy(p.src, s, 16); memcpy(p.dst, c, 16); \
	p.sport = 443; p.dport = (uint16_t)(40000 + k); p.flags = (fl); \
	p.seq = ss; p.ack = cs; p.payload = (pl_); p.plen = (len); \
	p.ts_us = t; gen_q_add(q, &p); \
	ss += (len) + ((fl) & (PG_SYN | PG_FIN) ? 1 : 0); } while (0)
		C2S(PG_SYN, NULL, 0);
		t += 2000;
		S2C(PG_SYN | PG_ACK, NULL, 0);
		t += 200;
		C2S(PG_ACK, NULL, 0);
		gen_count_conv(cnt, 6);
		t += gen_range(r, 1000, 200000);
		while (t < t_end) {
			n = gen_range(r, 100, 400);
			gen_tls(buf, n, gen_random(pl, r));
			C2S(PG_ACK | PG_PSH, buf, n);
			t += gen_range(r, 2000, 20000);
			n = gen_range(r, 300, 1400);
			gen_tls(buf, n, gen_random(pl, r));
			S2C(PG_ACK | PG_PSH, buf, n);
			t += 200;
			C2S(PG_ACK, NULL, 0);
			t += gen_range(r, 150000, 250000);
		}
		C2S(PG_FIN | PG_ACK, NULL, 0);
		t += 2000;
		S2C(PG_FIN | PG_ACK, NULL, 0);
		t += 200;
		C2S(PG_ACK, NULL, 0);
#undef C2S
#undef S2C
	}
	gen_q_sort(q);
}

static void
put(struct pg *pg, const struct pg_pkt *p)
{
	if (pg_write(pg, p) != 0) {
		fprintf(stderr, "genflood: write: %s\n", strerror(errno));
		exit(1);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: genflood -o FILE [-n syns] [-s seed] "
	    "[-t start_s] [-d span_ms]\n"
	    "    [--targets K] [--legit L] [--answer PERMILLE] [-6] "
	    "[--truth FILE]\n");
	exit(2);
}

static uint64_t
num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "syns", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "start", required_argument, NULL, 't' },
		{ "span-ms", required_argument, NULL, 'd' },
		{ "targets", required_argument, NULL, 'K' },
		{ "legit", required_argument, NULL, 'L' },
		{ "answer", required_argument, NULL, 'A' },
		{ "v6", no_argument, NULL, '6' },
		{ "truth", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *truth = NULL;
	struct flood f;
	struct gen_rng r;
	struct gen_pool *pl;
	struct gen_count cnt;
	struct gen_q q;
	struct pg pg;
	struct pg_pkt p;
	uint64_t start = 1700000000, span_ms = 10000, nlegit = 100;
	uint64_t i, ri, n_ans = 0, tq, tf, tr;
	size_t qi = 0;
	FILE *tf_;
	int ch;

	memset(&f, 0, sizeof(f));
	memset(&cnt, 0, sizeof(cnt));
	f.n = 1000000;
	f.seed = 1;
	f.targets = 1;
	while ((ch = getopt_long(argc, argv, "o:n:s:t:d:6h", lo, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'n': f.n = num(optarg); break;
		case 's': f.seed = num(optarg); break;
		case 't': start = num(optarg); break;
		case 'd': span_ms = num(optarg); break;
		case 'K': f.targets = (uint32_t)num(optarg); break;
		case 'L': nlegit = num(optarg); break;
		case 'A': f.answer = (uint32_t)num(optarg); break;
		case '6': f.v6 = 1; break;
		case 'T': truth = optarg; break;
		default: usage();
		}
	}
	if (out == NULL || optind != argc || f.n == 0 || span_ms == 0 ||
	    f.targets == 0 || f.targets > 16 || nlegit > 1000 ||
	    f.answer > 1000 || (!f.v6 && f.n > (uint64_t)V4_SPACE * 64000))
		usage();
	f.span_us = span_ms * 1000;
	f.t_flood = start * 1000000 + 1000000;

	gen_seed(&r, f.seed);
	if ((pl = malloc(sizeof(*pl))) == NULL ||
	    gen_q_init(&q, nlegit * (f.span_us / 150000 + 20) * 3 + 16,
	    nlegit * (f.span_us / 150000 + 20) * 1800 + 16) != 0) {
		fprintf(stderr, "genflood: out of memory\n");
		return 1;
	}
	gen_pool_init(pl, &r);
	legit_queue(&q, &r, pl, &f, (uint32_t)nlegit, start * 1000000,
	    f.t_flood + f.span_us + 1000000, &cnt);
	if (pg_open(&pg, out) != 0) {
		fprintf(stderr, "genflood: %s: %s\n", out, strerror(errno));
		return 1;
	}
	/*
	 * Three time-ordered streams merged: the SYNs (i), the SYN-ACKs to
	 * the answered ones (ri, a constant delay after their SYN) and the
	 * queued legitimate packets (qi).  Ties go in that order.
	 */
	i = 0;
	ri = 0;
	while (ri < f.n && !answered(&f, ri))
		ri++;
	for (;;) {
		tq = qi < q.n ? q.e[qi].p.ts_us : UINT64_MAX;
		tf = i < f.n ? f.t_flood + i * f.span_us / f.n : UINT64_MAX;
		tr = ri < f.n ? f.t_flood + ri * f.span_us / f.n + ANSWER_US :
		    UINT64_MAX;
		if (tq == UINT64_MAX && tf == UINT64_MAX && tr == UINT64_MAX)
			break;
		if (tf <= tr && tf <= tq) {
			flood_pkt(&f, i++, 0, &p);
			gen_count_conv(&cnt, 6);
		} else if (tr <= tq) {
			flood_pkt(&f, ri++, 1, &p);
			n_ans++;
			while (ri < f.n && !answered(&f, ri))
				ri++;
		} else {
			p = q.e[qi++].p;
		}
		put(&pg, &p);
		gen_count_pkt(&cnt, &p);
	}
	if (pg_close(&pg) != 0) {
		fprintf(stderr, "genflood: %s: %s\n", out, strerror(errno));
		return 1;
	}
	if (truth != NULL) {
		if ((tf_ = fopen(truth, "w")) == NULL) {
			fprintf(stderr, "genflood: %s: %s\n", truth,
			    strerror(errno));
			return 1;
		}
		gen_truth(tf_, "genflood", f.seed, &cnt, pg.n_bytes);
		fprintf(tf_, ",\n  \"flood\": {\"syns\": %" PRIu64 ", "
		    "\"distinct_sources\": %" PRIu64 ", \"targets\": %u, "
		    "\"port\": 80, \"answered\": %" PRIu64 ", "
		    "\"first_ts_us\": %" PRIu64 ", \"span_us\": %" PRIu64 "},\n"
		    "  \"legit\": {\"conversations\": %" PRIu64 ", "
		    "\"port\": 443}\n}\n", f.n,
		    f.v6 || f.n < V4_SPACE ? f.n : (uint64_t)V4_SPACE,
		    f.targets, n_ans, f.t_flood, f.span_us, nlegit);
		if (fclose(tf_) != 0)
			return 1;
	}
	printf("genflood: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64
	    " SYNs (%" PRIu64 " answered), %" PRIu64 " legitimate "
	    "conversations, %.1f s\n", cnt.pkts, pg.n_bytes, f.n, n_ans,
	    nlegit, (double)(cnt.last_us - cnt.first_us) / 1e6);
	gen_q_fini(&q);
	free(pl);
	return 0;
}
