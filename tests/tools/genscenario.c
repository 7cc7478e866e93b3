/*
 * genscenario: write a baseline/breach scenario as a real pcap, for the
 * end-to-end tests (`sensord -r out.pcap`).  Deterministic: the same
 * options give the same bytes.
 *
 *   genscenario --pattern NAME -o out.pcap [options]
 *
 * Patterns (the local host is --host, default 10.0.0.5):
 *   portscan      SYNs to --count ports (3000) of 192.0.2.10 in 30 s;
 *                 closed ports answer RST-ACK (REJ), every 50th is open
 *                 (SYN-ACK, then the scanner resets).  Default policy:
 *                 dst_ports >= 500 in 10m.
 *   sweep         SYNs to port 445 of --count hosts (2000) in
 *                 198.51.0.0/16, 20 ms apart; every 7th answers RST.
 *                 dst_ips >= 250 in 10m (and half_open >= 200 in 1m).
 *   synflood      --count SYNs (5000) to 203.0.113.80:80 in 10 s, never
 *                 answered (S0).  half_open >= 200 in 1m.
 *   rststorm      --days ordinary days (600 sessions, 4% reset), then 600
 *                 sessions in an hour of which 90% are reset by the host
 *                 (RSTO).  Learned rejected_share: needs --days >= the
 *                 policy's warm-up (or an absolute rejected_share).
 *   beacon        a VPN keepalive (203.0.113.60:1194) every 10 min for
 *                 --days days, then on the last day a new beacon to
 *                 203.0.113.50:443 every 10 min +- 30 s for --hours (8).
 *                 Only the new one breaches once warm-up is over.
 *   night-upload  --days quiet nights (daytime browsing only), then
 *                 --mb MB (60) sent to 198.51.100.20:22 at local hour --at
 *                 (3) with --utc-offset seconds (0).  Quiet hours 0-6 and
 *                 night_upload_min 50 MB catch the default 60 MB.
 *   normal-days   --days days (2) of an ordinary workstation: web, DNS,
 *                 an IMAP poll every 5 min, mail, a file copy, pings.
 *                 Nothing may breach.
 *   newproto      --days days of TCP, UDP and ICMP, then GRE and ESP
 *                 packets to 203.0.113.1 (learned protocols).
 *
 * Options: --start EPOCH (2026-03-02 00:00 UTC: day 0 starts at local
 * midnight), --seed N, --count N, --days N, --hours N, --mb N, --at H,
 * --utc-offset S, --host A.B.C.D.  A summary with what the scenario should
 * trigger goes to stderr.
 *
 * Big transfers use 60000-byte segments (as a capture on a host with TSO
 * shows them) so a 60 MB upload is ~1000 packets, not 41000.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"

#define US	1000000ULL
#define MIN	(60 * US)
#define HOUR	(3600 * US)
#define DAY	(86400 * US)

/* A packet and its place in generation order (ties in time keep it). */
struct gpkt {
	struct pg_pkt	p;
	uint64_t	ord;
};

struct gen {
	struct gpkt	*p;
	size_t		 n;
	size_t		 cap;
	uint64_t	 rng;
	uint64_t	 ord;
	uint16_t	 eport;		/* next ephemeral port */
};

static uint64_t
rnd(struct gen *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 2685821657736338717ULL;
}

static double
urand(struct gen *g)
{
	return (double)(rnd(g) >> 11) / 9007199254740992.0;
}

static uint16_t
eport(struct gen *g)
{
	if (g->eport < 32768)
		g->eport = 32768;
	return g->eport++;
}

static void
add(struct gen *g, const struct pg_pkt *p)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 65536;
		g->p = realloc(g->p, g->cap * sizeof(*g->p));
		if (g->p == NULL) {
			perror("genscenario");
			exit(1);
		}
	}
	g->p[g->n].p = *p;
	g->p[g->n++].ord = g->ord++;
}

static void
one(struct gen *g, uint64_t t, const uint8_t src[16], const uint8_t dst[16],
    uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags,
    uint32_t plen, uint32_t seq, uint32_t ack)
{
	struct pg_pkt p;

	memset(&p, 0, sizeof(p));
	p.ts_us = t;
	memcpy(p.src, src, 16);
	memcpy(p.dst, dst, 16);
	p.proto = proto;
	p.sport = sport;
	p.dport = dport;
	p.flags = flags;
	p.plen = plen;
	p.seq = seq;
	p.ack = flags & PG_ACK ? ack : 0;
	if (proto == 1) {
		p.icmp_type = (uint8_t)(dport >> 8);
		p.icmp_code = (uint8_t)dport;
	}
	add(g, &p);
}

enum tcp_end { T_SF, T_RSTO, T_REJ, T_S0 };

/*
 * A TCP conversation from c to s:dport at t: handshake, `out` bytes from
 * the client and `in` bytes back in segments of up to `seg`, then the end
 * named by `how`.  Returns the time of its last packet.
 */
static uint64_t
tcp(struct gen *g, uint64_t t, const uint8_t c[16], const uint8_t s[16],
    uint16_t dport, uint64_t out, uint64_t in, enum tcp_end how)
{
	uint16_t cp = eport(g);
	uint64_t rtt = 2000 + rnd(g) % 20000;
	uint32_t seg = out > 4000000 || in > 4000000 ? 60000 : 1448;
	uint32_t cs = (uint32_t)rnd(g), ss = (uint32_t)rnd(g);

	/* Sequence numbers as RFC 9293: SYN and FIN take one each. */
	one(g, t, c, s, 6, cp, dport, PG_SYN, 0, cs++, 0);
	if (how == T_S0)
		return t;
	t += rtt;
	if (how == T_REJ) {
		one(g, t, s, c, 6, dport, cp, PG_RST | PG_ACK, 0, 0, cs);
		return t;
	}
	one(g, t, s, c, 6, dport, cp, PG_SYN | PG_ACK, 0, ss++, cs);
	t += 100;
	one(g, t, c, s, 6, cp, dport, PG_ACK, 0, cs, ss);
	while (out > 0 || in > 0) {
		if (out > 0) {
			uint32_t n = out > seg ? seg : (uint32_t)out;

			t += 200;
			one(g, t, c, s, 6, cp, dport, PG_ACK | PG_PSH, n, cs,
			    ss);
			cs += n;
			out -= n;
		}
		if (in > 0) {
			uint32_t n = in > seg ? seg : (uint32_t)in;

			t += 200;
			one(g, t, s, c, 6, dport, cp, PG_ACK | PG_PSH, n, ss,
			    cs);
			ss += n;
			in -= n;
		}
	}
	t += rtt;
	if (how == T_RSTO) {
		one(g, t, c, s, 6, cp, dport, PG_RST | PG_ACK, 0, cs, ss);
		return t;
	}
	one(g, t, c, s, 6, cp, dport, PG_FIN | PG_ACK, 0, cs++, ss);
	t += rtt;
	one(g, t, s, c, 6, dport, cp, PG_FIN | PG_ACK, 0, ss++, cs);
	t += 100;
	one(g, t, c, s, 6, cp, dport, PG_ACK, 0, cs, ss);
	return t;
}

static void
udp(struct gen *g, uint64_t t, const uint8_t c[16], const uint8_t s[16],
    uint16_t dport, uint32_t out, uint32_t in)
{
	uint16_t cp = eport(g);

	one(g, t, c, s, 17, cp, dport, 0, out, 0, 0);
	if (in > 0)
		one(g, t + 1000 + rnd(g) % 30000, s, c, 17, dport, cp, 0, in,
		    0, 0);
}

static void
ping(struct gen *g, uint64_t t, const uint8_t c[16], const uint8_t s[16])
{
	uint32_t id = (uint32_t)(rnd(g) & 0xffff);

	/* Echo request (type 8) and reply (type 0), same identifier. */
	one(g, t, c, s, 1, 77, 8 << 8, 0, 56, id, 0);
	one(g, t + 900, s, c, 1, 77, 0, 0, 56, id, 0);
}

static void
a4(uint8_t a[16], unsigned b0, unsigned b1, unsigned b2, unsigned b3)
{
	pg_addr4(a, b0, b1, b2, b3);
}

/* Ordinary daytime browsing and DNS for one day (09-17 h local). */
static void
browse_day(struct gen *g, const uint8_t h[16], uint64_t day0, unsigned n,
    double reset_share)
{
	uint8_t web[16], dns[16];
	unsigned i;

	a4(dns, 10, 0, 0, 53);
	for (i = 0; i < n; i++) {
		uint64_t t = day0 + 9 * HOUR +
		    (uint64_t)(urand(g) * 8 * 3600e6);

		a4(web, 198, 51, 100, 1 + (unsigned)(urand(g) * urand(g) * 60));
		udp(g, t, h, dns, 53, 40 + (uint32_t)(rnd(g) % 30),
		    80 + (uint32_t)(rnd(g) % 300));
		tcp(g, t + 30000, h, web, urand(g) < 0.9 ? 443 : 80,
		    300 + rnd(g) % 1500, 1000 + rnd(g) % 8000,
		    urand(g) < reset_share ? T_RSTO : T_SF);
	}
}

static int
cmp_pkt(const void *a, const void *b)
{
	const struct gpkt *x = a, *y = b;

	if (x->p.ts_us != y->p.ts_us)
		return x->p.ts_us < y->p.ts_us ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static void
usage(void)
{
	fprintf(stderr, "usage: genscenario --pattern portscan|sweep|synflood|"
	    "rststorm|beacon|night-upload|normal-days|newproto -o out.pcap\n"
	    "    [--start EPOCH] [--seed N] [--count N] [--days N] "
	    "[--hours N]\n    [--mb N] [--at HOUR] [--utc-offset SECONDS] "
	    "[--host A.B.C.D]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pattern", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "start", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "count", required_argument, NULL, 'c' },
		{ "days", required_argument, NULL, 'd' },
		{ "hours", required_argument, NULL, 'H' },
		{ "mb", required_argument, NULL, 'm' },
		{ "at", required_argument, NULL, 'a' },
		{ "utc-offset", required_argument, NULL, 'u' },
		{ "host", required_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pattern = NULL, *out = NULL, *expect = "";
	uint64_t start = 1772409600ULL, seed = 1, t, day0, ev_day;
	long count = -1, days = -1, hours = 8, mb = 60, at = 3, off = 0;
	uint8_t h[16], peer[16], peer2[16];
	struct in_addr ia;
	struct gen g;
	struct pg pg;
	size_t i;
	long k, d;
	int c;

	a4(h, 10, 0, 0, 5);
	while ((c = getopt_long(argc, argv, "o:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pattern = optarg; break;
		case 'o': out = optarg; break;
		case 's': start = strtoull(optarg, NULL, 10); break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'c': count = strtol(optarg, NULL, 10); break;
		case 'd': days = strtol(optarg, NULL, 10); break;
		case 'H': hours = strtol(optarg, NULL, 10); break;
		case 'm': mb = strtol(optarg, NULL, 10); break;
		case 'a': at = strtol(optarg, NULL, 10); break;
		case 'u': off = strtol(optarg, NULL, 10); break;
		case 'h':
			if (inet_pton(AF_INET, optarg, &ia) != 1)
				usage();
			pg_addr4n(h, ntohl(ia.s_addr));
			break;
		default:
			usage();
		}
	}
	if (pattern == NULL || out == NULL || days > 60 || mb < 0 ||
	    mb > 4000 || at < 0 || at > 23 || hours < 1 || hours > 240)
		usage();
	memset(&g, 0, sizeof(g));
	g.rng = 0x2545f4914f6cdd1dULL ^ (seed * 0x9e3779b97f4a7c15ULL);
	if (g.rng == 0)
		g.rng = 1;
	/* Day 0 starts at local midnight: UTC midnight minus the offset. */
	day0 = start * US - (uint64_t)((int64_t)off * (int64_t)US);
	if (days < 0)
		days = strcmp(pattern, "normal-days") == 0 ? 2 : 0;
	ev_day = day0 + (uint64_t)days * DAY;

	if (strcmp(pattern, "portscan") == 0) {
		a4(peer, 192, 0, 2, 10);
		if (count < 0)
			count = 3000;
		for (k = 1, t = ev_day + 9 * HOUR; k <= count; k++, t += 10000)
			tcp(&g, t, h, peer, (uint16_t)k, 0, 0,
			    k % 50 == 0 ? T_RSTO : T_REJ);
		expect = "dst_ports breach (absolute 500 in 10m)";
	} else if (strcmp(pattern, "sweep") == 0) {
		if (count < 0)
			count = 2000;
		for (k = 0, t = ev_day + 9 * HOUR; k < count; k++, t += 20000) {
			pg_addr4n(peer, 0xc6330000u + (uint32_t)k);
			tcp(&g, t, h, peer, 445, 0, 0, k % 7 == 0 ? T_REJ :
			    T_S0);
		}
		expect = "dst_ips breach (absolute 250 in 10m), half_open "
		    "(200 in 1m)";
	} else if (strcmp(pattern, "synflood") == 0) {
		a4(peer, 203, 0, 113, 80);
		if (count < 0)
			count = 5000;
		for (k = 0, t = ev_day + 9 * HOUR; k < count; k++,
		    t += 10 * US / (uint64_t)count)
			tcp(&g, t, h, peer, 80, 0, 0, T_S0);
		expect = "half_open breach (absolute 200 in 1m)";
	} else if (strcmp(pattern, "rststorm") == 0) {
		for (d = 0; d < days; d++)
			browse_day(&g, h, day0 + (uint64_t)d * DAY, 600, 0.04);
		for (k = 0, t = ev_day + 10 * HOUR; k < 600; k++, t += 6 * US) {
			a4(peer, 198, 51, 100, 1 + (unsigned)(k % 40));
			tcp(&g, t, h, peer, 443, 800, 4000,
			    k % 10 ? T_RSTO : T_SF);
		}
		expect = "rejected_share breach (learned after warm-up: "
		    "--days >= warmup_days)";
	} else if (strcmp(pattern, "beacon") == 0) {
		uint64_t end = ev_day + 8 * HOUR + (uint64_t)hours * HOUR;

		a4(peer, 203, 0, 113, 60);
		a4(peer2, 203, 0, 113, 50);
		for (t = day0; t < end; t += 10 * MIN - 5 * US +
		    rnd(&g) % (10 * US))
			tcp(&g, t, h, peer, 1194, 180, 180, T_SF);
		for (t = ev_day + 8 * HOUR; t < end; t += 10 * MIN - 30 * US +
		    rnd(&g) % (60 * US))
			tcp(&g, t, h, peer2, 443, 700 + rnd(&g) % 40, 400,
			    T_SF);
		expect = "beacon breach for 203.0.113.50:443 only, after "
		    "warm-up (--days >= warmup_days)";
	} else if (strcmp(pattern, "night-upload") == 0) {
		a4(peer, 198, 51, 100, 20);
		for (d = 0; d <= days; d++)
			browse_day(&g, h, day0 + (uint64_t)d * DAY, 100, 0.02);
		tcp(&g, ev_day + (uint64_t)at * HOUR + 10 * MIN, h, peer, 22,
		    (uint64_t)mb * 1000000, 100000, T_SF);
		expect = at >= 6 ? "nothing (not a quiet hour)" : mb > 50 ?
		    "night_bytes_out breach (quiet hours 0-6, "
		    "night_upload_min 50 MB)" : "night_bytes_out breach if "
		    "night_upload_min is below --mb";
	} else if (strcmp(pattern, "normal-days") == 0) {
		uint8_t mail[16], fs[16], gw[16];

		a4(mail, 192, 0, 2, 25);
		a4(fs, 10, 0, 0, 20);
		a4(gw, 10, 0, 0, 1);
		for (d = 0; d < days; d++) {
			uint64_t d0 = day0 + (uint64_t)d * DAY;

			browse_day(&g, h, d0, 150, 0.04);
			for (t = d0 + 8 * HOUR; t < d0 + 18 * HOUR;
			    t += 5 * MIN + rnd(&g) % (3 * US))
				tcp(&g, t, h, mail, 993, 1200, 3000, T_SF);
			for (k = 0; k < 6; k++)
				tcp(&g, d0 + 9 * HOUR + (uint64_t)(urand(&g) *
				    8 * 3600e6), h, mail, 587, 20000, 1000,
				    T_SF);
			tcp(&g, d0 + 11 * HOUR, h, fs, 445, 5000000, 20000,
			    T_SF);
			for (k = 0; k < 3; k++)
				ping(&g, d0 + 10 * HOUR + (uint64_t)k * HOUR,
				    h, gw);
		}
		expect = "nothing";
	} else if (strcmp(pattern, "newproto") == 0) {
		a4(peer, 198, 51, 100, 7);
		a4(peer2, 203, 0, 113, 1);
		for (d = 0; d <= days; d++) {
			uint64_t d0 = day0 + (uint64_t)d * DAY + 10 * HOUR;

			tcp(&g, d0, h, peer, 443, 3000, 30000, T_SF);
			udp(&g, d0 + MIN, h, peer, 53, 40, 200);
			ping(&g, d0 + 2 * MIN, h, peer);
		}
		for (k = 0; k < 20; k++) {
			t = ev_day + 11 * HOUR + (uint64_t)k * US;
			one(&g, t, h, peer2, 47, 0, 0, 0, 100, 0, 0);
			one(&g, t + 500000, h, peer2, 50, 0, 0, 0, 120, 0, 0);
		}
		expect = "protocols breach (GRE 47, ESP 50) after warm-up";
	} else
		usage();

	qsort(g.p, g.n, sizeof(g.p[0]), cmp_pkt);
	if (pg_open(&pg, out) != 0) {
		perror(out);
		return 1;
	}
	for (i = 0; i < g.n; i++)
		if (pg_write(&pg, &g.p[i].p) != 0) {
			perror(out);
			return 1;
		}
	if (pg_close(&pg) != 0) {
		perror(out);
		return 1;
	}
	fprintf(stderr, "genscenario: %s: %llu packets, %llu bytes, "
	    "%.1f h from %llu; expect: %s\n", pattern,
	    (unsigned long long)pg.n_pkts, (unsigned long long)pg.n_bytes,
	    g.n ? (double)(g.p[g.n - 1].p.ts_us - g.p[0].p.ts_us) / 3.6e9 : 0,
	    g.n ? (unsigned long long)(g.p[0].p.ts_us / US) : 0ULL, expect);
	free(g.p);
	return 0;
}
