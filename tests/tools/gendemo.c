/*
 * gendemo: the bundled trace `make demo` replays.  A home network
 * (192.168.1.0/24) over four minutes of packet time:
 *
 *   192.168.1.10  browses all along: a DNS lookup (the router 192.168.1.1
 *                 or the ISP resolver 198.51.100.53), then one to three
 *                 HTTPS or HTTP sessions to one of a dozen servers in
 *                 203.0.113.0/24, every 5-12 s.
 *   192.168.1.11  NTP with the router every 32 s and a 1 MB HTTP download
 *                 from the NAS (192.168.1.20:8080) at 40 s.
 *   192.168.1.66  browses like .10 but less, then at 60 s SYN-scans ports
 *                 1-1200 of the NAS in ~20 s (closed ports answer RST, a
 *                 few open ones SYN-ACK, which the scanner resets), then
 *                 from 85 s sweeps 353 addresses (192.168.1.1-254 and
 *                 192.168.0.1-100) on port 22, then browses again.
 *
 * So the demo can show flows for every host, a breach for the scanner
 * alone and capture files for the scanner alone.  Sessions are written
 * one by one into a queue (gen.h) with their own timestamps, then sorted
 * by (time, insertion order) and written: deterministic, a few thousand
 * packets, well under a second.
 *
 *	gendemo -o FILE [-s seed] [-t start_s] [--truth FILE]
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

#define SPAN_US		240000000ULL	/* four minutes */
#define SCAN_AT_US	60000000ULL
#define SCAN_PORTS	1200
#define SWEEP_AT_US	85000000ULL
#define SWEEP_PORT	22
#define N_SERVERS	12
#define MSS		1460

enum app { APP_TLS, APP_HTTP };

struct demo {
	struct gen_rng	 r;
	struct gen_pool	*pool;
	struct gen_q	 q;
	struct gen_count cnt;
	uint64_t	 t0;
	uint16_t	 eport[256];	/* next ephemeral port per host */
	uint8_t		 buf[2048];
	uint32_t	 n_sweep, scan_end_s, sweep_end_s;
};

/* One TCP conversation being written. */
struct tcpc {
	struct demo	*d;
	struct pg_pkt	 p;
	uint8_t		 c[16], s[16];
	uint16_t	 cport, sport;
	uint32_t	 cs, ss;
	uint64_t	 t;
};

static void
lan(uint8_t a[16], unsigned host)
{
	pg_addr4(a, 192, 168, 1, host);
}

static void
server(uint8_t a[16], unsigned j)
{
	pg_addr4(a, 203, 0, 113, 10 + j);
}

static uint16_t
eport(struct demo *d, unsigned host)
{
	if (d->eport[host] == 0)
		d->eport[host] = (uint16_t)(40000 + host * 97);
	return d->eport[host]++;
}

/* Queue one segment; dir 0 is client to server. */
static void
seg(struct tcpc *x, int dir, uint8_t flags, const uint8_t *pl, uint32_t n)
{
	struct pg_pkt *p = &x->p;

	memset(p, 0, sizeof(*p));
	p->proto = 6;
	p->ts_us = x->t;
	p->flags = flags;
	p->payload = pl;
	p->plen = n;
	if (dir == 0) {
		memcpy(p->src, x->c, 16);
		memcpy(p->dst, x->s, 16);
		p->sport = x->cport;
		p->dport = x->sport;
		p->seq = x->cs;
		p->ack = flags & PG_ACK ? x->ss : 0;
		x->cs += n + (flags & (PG_SYN | PG_FIN) ? 1 : 0);
	} else {
		memcpy(p->src, x->s, 16);
		memcpy(p->dst, x->c, 16);
		p->sport = x->sport;
		p->dport = x->cport;
		p->seq = x->ss;
		p->ack = flags & PG_ACK ? x->cs : 0;
		x->ss += n + (flags & (PG_SYN | PG_FIN) ? 1 : 0);
	}
	gen_q_add(&x->d->q, p);
}

/*
 * A whole TCP session from time t: handshake, `rounds` request/response
 * rounds with responses of resp bytes (ACK every second segment), a close
 * by FIN from the client.  rtt is the server's turnaround, gap the time
 * between server segments.  Returns the end time.
 */
static uint64_t
demo_tcp(struct demo *d, uint64_t t, const uint8_t c[16], const uint8_t s[16],
    uint16_t cport, uint16_t sport, enum app app, int rounds, uint32_t resp_lo,
    uint32_t resp_hi, uint32_t rtt, uint32_t gap)
{
	struct tcpc x;
	char host[64];
	uint32_t left, n, h, k;
	int i;

	memset(&x, 0, sizeof(x));
	x.d = d;
	memcpy(x.c, c, 16);
	memcpy(x.s, s, 16);
	x.cport = cport;
	x.sport = sport;
	x.cs = (uint32_t)gen_next(&d->r);
	x.ss = (uint32_t)gen_next(&d->r);
	x.t = t;
	gen_count_conv(&d->cnt, 6);
	seg(&x, 0, PG_SYN, NULL, 0);
	x.t += rtt;
	seg(&x, 1, PG_SYN | PG_ACK, NULL, 0);
	x.t += 150;
	seg(&x, 0, PG_ACK, NULL, 0);
	for (i = 0; i < rounds; i++) {
		x.t += gen_range(&d->r, 50, 2000);
		if (app == APP_HTTP) {
			gen_name(host, sizeof(host), sport == 8080 ? 99 :
			    (unsigned)(s[15] - 10));
			n = (uint32_t)gen_http_req(d->buf, host,
			    gen_below(&d->r, 900));
		} else {
			n = gen_range(&d->r, 150, 600);
			gen_tls(d->buf, n, gen_random(d->pool, &d->r));
		}
		seg(&x, 0, PG_ACK | PG_PSH, d->buf, n);
		x.t += rtt + gen_range(&d->r, 200, 8000);
		left = gen_range(&d->r, resp_lo, resp_hi);
		for (k = 0; left > 0; k++) {
			n = left < MSS ? left : MSS;
			if (left > n && left - n < 6)
				n -= 6;
			if (app == APP_HTTP) {
				h = k == 0 ? (uint32_t)gen_http_resp(d->buf,
				    left) : 0;
				memcpy(d->buf + h, gen_text(d->pool, &d->r),
				    n - h);
			} else {
				gen_tls(d->buf, n, gen_random(d->pool, &d->r));
			}
			seg(&x, 1, PG_ACK | PG_PSH, d->buf, n);
			left -= n;
			if (k % 2 == 1 || left == 0) {
				x.t += gap / 3 + 20;
				seg(&x, 0, PG_ACK, NULL, 0);
			}
			x.t += gap;
		}
		if (i + 1 < rounds)
			x.t += gen_range(&d->r, 100000, 2000000);
	}
	x.t += gen_range(&d->r, 20000, 500000);
	seg(&x, 0, PG_FIN | PG_ACK, NULL, 0);
	x.t += rtt;
	seg(&x, 1, PG_FIN | PG_ACK, NULL, 0);
	x.t += 150;
	seg(&x, 0, PG_ACK, NULL, 0);
	return x.t;
}

/* One DNS lookup of server j; returns when the answer is in. */
static uint64_t
demo_dns(struct demo *d, uint64_t t, unsigned host, unsigned j)
{
	struct pg_pkt p;
	char name[64];
	uint8_t ans[16];
	uint32_t rtt;
	size_t n;
	int ext = gen_below(&d->r, 5) == 0;

	memset(&p, 0, sizeof(p));
	p.proto = 17;
	p.ts_us = t;
	lan(p.src, host);
	if (ext) {
		pg_addr4(p.dst, 198, 51, 100, 53);
		rtt = gen_range(&d->r, 12000, 30000);
	} else {
		lan(p.dst, 1);
		rtt = gen_range(&d->r, 300, 3000);
	}
	p.sport = eport(d, host);
	p.dport = 53;
	gen_name(name, sizeof(name), j);
	n = gen_dns(d->buf, (uint16_t)(gen_next(&d->r) & 0xfffe), name, NULL);
	p.payload = d->buf;
	p.plen = (uint32_t)n;
	gen_q_add(&d->q, &p);
	gen_count_conv(&d->cnt, 17);
	/* The answer: same id, addresses swapped. */
	server(ans, j);
	n = gen_dns(d->buf, (uint16_t)(d->buf[0] << 8 | d->buf[1]), name, ans);
	memcpy(ans, p.src, 16);
	memcpy(p.src, p.dst, 16);
	memcpy(p.dst, ans, 16);
	p.dport = p.sport;
	p.sport = 53;
	p.plen = (uint32_t)n;
	p.ts_us = t + rtt;
	gen_q_add(&d->q, &p);
	return t + rtt;
}

/* A page view: a lookup, then one to three sessions to that server. */
static void
demo_page(struct demo *d, uint64_t t, unsigned host)
{
	uint8_t c[16], s[16];
	uint32_t u = gen_below(&d->r, 1000);
	/* A few favourite sites get most visits. */
	unsigned j = (unsigned)(u * u / 1000 * N_SERVERS / 1000);
	int k, ns = (int)gen_range(&d->r, 1, 3), rounds, http;
	uint32_t rtt = 10000 + 4000 * j, gap;
	uint64_t delay;

	t = demo_dns(d, t, host, j) + gen_range(&d->r, 200, 3000);
	lan(c, host);
	server(s, j);
	/* One draw per statement: argument order is unspecified. */
	for (k = 0; k < ns; k++) {
		http = gen_below(&d->r, 4) == 0;
		rounds = (int)gen_range(&d->r, 1, 3);
		delay = (uint64_t)k * gen_range(&d->r, 1000, 40000);
		gap = gen_range(&d->r, 200, 800);
		demo_tcp(d, t + delay, c, s, eport(d, host), http ? 80 : 443,
		    http ? APP_HTTP : APP_TLS, rounds, 400, 20000, rtt, gap);
	}
}

/* NTP between .11 and the router, port 123 both ends, every 32 s. */
static void
demo_ntp(struct demo *d)
{
	struct pg_pkt p;
	uint64_t t;
	int dir;

	gen_count_conv(&d->cnt, 17);
	for (t = d->t0 + 5000000; t < d->t0 + SPAN_US; t += 32000000) {
		for (dir = 0; dir < 2; dir++) {
			memset(&p, 0, sizeof(p));
			p.proto = 17;
			p.ts_us = t + (uint64_t)dir * 900;
			lan(p.src, dir ? 1 : 11);
			lan(p.dst, dir ? 11 : 1);
			p.sport = p.dport = 123;
			p.plen = (uint32_t)gen_ntp(d->buf, dir, p.ts_us);
			p.payload = d->buf;
			gen_q_add(&d->q, &p);
		}
	}
}

/* A SYN probe from the scanner and the target's answer, if any. */
static void
probe(struct demo *d, uint64_t t, const uint8_t dst[16], uint16_t sport,
    uint16_t dport, int answer)
{
	struct tcpc x;

	memset(&x, 0, sizeof(x));
	x.d = d;
	lan(x.c, 66);
	memcpy(x.s, dst, 16);
	x.cport = sport;
	x.sport = dport;
	x.cs = (uint32_t)gen_next(&d->r);
	x.ss = (uint32_t)gen_next(&d->r);
	x.t = t;
	gen_count_conv(&d->cnt, 6);
	seg(&x, 0, PG_SYN, NULL, 0);
	x.t += gen_range(&d->r, 200, 900);
	if (answer == 1) {		/* closed: RST */
		x.ss = 0;
		seg(&x, 1, PG_RST | PG_ACK, NULL, 0);
	} else if (answer == 2) {	/* open: SYN-ACK, scanner resets */
		seg(&x, 1, PG_SYN | PG_ACK, NULL, 0);
		x.t += 60;
		seg(&x, 0, PG_RST, NULL, 0);
	}
}

static void
demo_scan(struct demo *d)
{
	static uint16_t port[SCAN_PORTS];
	uint8_t nas[16], a[16];
	uint64_t t = d->t0 + SCAN_AT_US;
	uint32_t i, j, k;
	uint16_t tmp;
	int ans;

	for (i = 0; i < SCAN_PORTS; i++)
		port[i] = (uint16_t)(i + 1);
	for (i = SCAN_PORTS - 1; i > 0; i--) {
		j = gen_below(&d->r, i + 1);
		tmp = port[i];
		port[i] = port[j];
		port[j] = tmp;
	}
	lan(nas, 20);
	for (i = 0; i < SCAN_PORTS; i++) {
		switch (port[i]) {
		case 22: case 80: case 139: case 443: case 445: case 548:
			ans = 2;
			break;
		default:
			/* A few closed ports stay silent (lost answers). */
			ans = gen_below(&d->r, 100) < 3 ? 0 : 1;
			break;
		}
		probe(d, t, nas, 58812, port[i], ans);
		t += gen_range(&d->r, 8000, 25000);
	}
	d->scan_end_s = (uint32_t)((t - d->t0) / 1000000);
	/* The sweep: 192.168.1.1-254 then 192.168.0.1-100, one port. */
	t = d->t0 + SWEEP_AT_US;
	for (k = 0; k < 354; k++) {
		if (k < 254)
			lan(a, k + 1);
		else
			pg_addr4(a, 192, 168, 0, k - 253);
		if (k == 65)		/* itself */
			continue;
		ans = 0;
		if (k < 254 && (k + 1 == 1 || k + 1 == 10 || k + 1 == 11))
			ans = 1;
		if (k + 1 == 20)
			ans = 2;
		probe(d, t, a, 58813, SWEEP_PORT, ans);
		d->n_sweep++;
		t += gen_range(&d->r, 30000, 70000);
	}
	d->sweep_end_s = (uint32_t)((t - d->t0) / 1000000);
}

static void
usage(void)
{
	fprintf(stderr, "usage: gendemo -o FILE [-s seed] [-t start_s] "
	    "[--truth FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ "start", required_argument, NULL, 't' },
		{ "truth", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *truth = NULL;
	static struct demo dm;
	struct demo *d = &dm;
	unsigned long long seed = 1, start = 1705312800;	/* 2024-01-15 */
	uint8_t c[16], s[16];
	uint64_t t, end;
	struct pg pg;
	size_t i;
	FILE *f;
	char *e;
	int ch;

	while ((ch = getopt_long(argc, argv, "o:s:t:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 's':
			seed = strtoull(optarg, &e, 10);
			if (*e != '\0')
				usage();
			break;
		case 't':
			start = strtoull(optarg, &e, 10);
			if (*e != '\0')
				usage();
			break;
		case 'T': truth = optarg; break;
		default: usage();
		}
	}
	if (out == NULL || optind != argc)
		usage();
	gen_seed(&d->r, seed);
	d->t0 = start * 1000000;
	if ((d->pool = malloc(sizeof(*d->pool))) == NULL ||
	    gen_q_init(&d->q, 200000, 64u << 20) != 0) {
		fprintf(stderr, "gendemo: out of memory\n");
		return 1;
	}
	gen_pool_init(d->pool, &d->r);

	/* .10 browses all along. */
	for (t = d->t0 + 2000000; t < d->t0 + SPAN_US - 10000000;
	    t += gen_range(&d->r, 5000000, 12000000))
		demo_page(d, t, 10);
	/* .11: NTP, and a download from the NAS. */
	demo_ntp(d);
	lan(c, 11);
	lan(s, 20);
	demo_tcp(d, d->t0 + 40000000, c, s, eport(d, 11), 8080, APP_HTTP, 1,
	    1000000, 1000000, 600, 900);
	/* .66 browses before and after its scan and sweep. */
	for (t = d->t0 + 4000000; t < d->t0 + SCAN_AT_US - 5000000;
	    t += gen_range(&d->r, 10000000, 20000000))
		demo_page(d, t, 66);
	demo_scan(d);
	for (t = d->t0 + 115000000; t < d->t0 + SPAN_US - 10000000;
	    t += gen_range(&d->r, 10000000, 20000000))
		demo_page(d, t, 66);

	gen_q_sort(&d->q);
	if (pg_open(&pg, out) != 0) {
		fprintf(stderr, "gendemo: %s: %s\n", out, strerror(errno));
		return 1;
	}
	for (i = 0; i < d->q.n; i++) {
		if (pg_write(&pg, &d->q.e[i].p) != 0) {
			fprintf(stderr, "gendemo: write: %s\n",
			    strerror(errno));
			return 1;
		}
		gen_count_pkt(&d->cnt, &d->q.e[i].p);
	}
	if (pg_close(&pg) != 0) {
		fprintf(stderr, "gendemo: %s: %s\n", out, strerror(errno));
		return 1;
	}
	end = d->cnt.last_us;
	if (truth != NULL) {
		if ((f = fopen(truth, "w")) == NULL) {
			fprintf(stderr, "gendemo: %s: %s\n", truth,
			    strerror(errno));
			return 1;
		}
		gen_truth(f, "gendemo", seed, &d->cnt, pg.n_bytes);
		fprintf(f, ",\n  \"hosts\": [\"192.168.1.10\", "
		    "\"192.168.1.11\", \"192.168.1.66\"],\n"
		    "  \"scanner\": \"192.168.1.66\",\n"
		    "  \"scan\": {\"target\": \"192.168.1.20\", \"ports\": %d, "
		    "\"start_s\": %llu, \"end_s\": %u},\n"
		    "  \"sweep\": {\"targets\": %u, \"port\": %d, "
		    "\"start_s\": %llu, \"end_s\": %u}\n}\n", SCAN_PORTS,
		    SCAN_AT_US / 1000000, d->scan_end_s, d->n_sweep,
		    SWEEP_PORT, SWEEP_AT_US / 1000000, d->sweep_end_s);
		if (fclose(f) != 0)
			return 1;
	}
	printf("gendemo: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64
	    " conversations, %.1f s\n", d->cnt.pkts, pg.n_bytes,
	    d->cnt.conv_tcp + d->cnt.conv_udp + d->cnt.conv_icmp,
	    (double)(end - d->cnt.first_us) / 1e6);
	gen_q_fini(&d->q);
	free(d->pool);
	return 0;
}
