/*
 * gentrace: a deterministic synthetic trace of an office network's uplink,
 * for the benchmark (tests/bench.sh) and for tests that want realistic
 * volume.  Same arguments, byte-identical pcap.
 *
 *	gentrace -o FILE [-n packets] [-s seed] [-t start] [-r pps]
 *	    [--truth FILE] [--scan-ports N] [--sweep-hosts N]
 *
 * What is in it: 1,004 internal hosts (10.1.0.0/22 clients, servers in
 * 10.1.100.0/24, each also in 2001:db8:0::/48), 20,000 external hosts
 * (198.18.0.0/15 and 2001:db8:e000::/48), chosen with Zipf-like skew.
 * Conversations arrive as a Poisson process and run as small state
 * machines: TCP (TLS on 443/993, HTTP with exact Content-Length on 80 and
 * 8080) with handshakes, request/response rounds, delayed ACKs, closes by
 * FIN from either side, RST from either side or none, unanswered SYNs with
 * retries and rejected ones; DNS with valid messages (some unanswered);
 * NTP; one-way syslog; RTP-like media; ping.  About 10% of conversations
 * are IPv6 and the 10.1.3.0/24 clients are behind 802.1Q tag 103.  One
 * internal host (10.1.2.66) SYN-scans thousands of ports of 10.1.100.20,
 * another (10.1.1.77) sweeps thousands of addresses on port 445.
 *
 * How: an event heap ordered by (time, sequence) holds the live sessions;
 * each pop emits exactly one packet and reschedules its session.  Sessions
 * live in a pool allocated once; payloads point into a 2 MiB pool of text
 * and random bytes (gen.h).  Nothing is allocated per packet.  The run
 * stops after exactly -n packets, so a short run is a prefix of a long
 * one with the same seed and rate, except that the scanner and the sweeper
 * are scheduled relative to the expected length (n / rate).
 *
 * Cost: about 3 s per million packets on one core (14 s for the default
 * 5M packets, 2.8 GB), two thirds of it the kernel copying the file into
 * the page cache; ~35 MB reserved at start (a few MB touched), nothing
 * allocated after.  Defaults give ~450k conversations over ~500 s, mean
 * frame ~540 B, and a file that gzip -1 shrinks by ~1.3x.
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

#define N_INT		1000		/* internal clients */
#define N_EXT		20000		/* external hosts */
#define POOL_SESS	(1u << 18)	/* most concurrent sessions */
#define EPH_LO		32768		/* Linux ephemeral port range */
#define EPH_HI		60999
#define DONE		UINT64_MAX

/*
 * Mean packets per conversation of the mix below, measured (5M packets
 * made 448k conversations): sets the arrival rate for a given --rate.
 */
#define PKTS_PER_CONV	11.5

enum kind {
	K_TCP, K_DNS, K_NTP, K_SYSLOG, K_MEDIA, K_PING, K_SCAN, K_SWEEP
};
enum app { A_TLS, A_HTTP };
enum close { C_CFIN, C_SFIN, C_CRST, C_SRST, C_NONE };
enum st {
	S_SYN, S_REJ, S_SYNACK, S_ACK3, S_REQ, S_RESP, S_DACK, S_FACK,
	S_T1, S_T2, S_T3,
	S_Q, S_R,			/* datagram request / response */
	S_PROBE, S_P_SYNACK, S_P_RST, S_P_RSTBACK
};

struct sess {
	uint8_t		 c[16], s[16];	/* client (initiator), server */
	uint16_t	 cport, sport, vlan;
	uint8_t		 kind, app, close, st, proto;
	uint8_t		 counted;	/* first packet written */
	uint8_t		 closer;	/* 0 client, 1 server */
	uint32_t	 cseq, sseq;	/* next sequence number each way */
	uint32_t	 dc, ds;	/* turnaround of client / server (us) */
	uint32_t	 gap;		/* between server segments (us) */
	uint32_t	 think;		/* mean pause between rounds (us) */
	uint32_t	 mss;
	uint32_t	 rounds;	/* request/response rounds left */
	uint32_t	 left;		/* bytes left in this response */
	uint32_t	 nseg;		/* segments since the last ACK */
	uint32_t	 aux;		/* retries, pings, probes left ... */
	uint32_t	 ext;		/* external host number (names) */
	uint16_t	 id;		/* DNS id, ICMP identifier */
	uint16_t	 host;		/* internal client number */
	uint8_t		 first;		/* next response segment is first */
};

struct ev {
	uint64_t	 t;
	uint64_t	 seq;
	uint32_t	 idx;
};

struct gt {
	struct gen_rng	 r;
	struct pg	 pg;
	struct gen_pool	*pool;
	struct gen_count cnt;
	struct sess	*sess;
	uint32_t	*freel;		/* free session indices */
	uint32_t	 nfree;
	struct ev	*heap;
	uint32_t	 nheap;
	uint64_t	 evseq;
	uint16_t	 eport[N_INT];	/* next ephemeral port per client */
	uint16_t	 scanport[65536];
	uint64_t	 npkts;		/* target */
	uint64_t	 n_refused;	/* arrivals dropped: pool full */
	uint32_t	 scan_ports, sweep_hosts;
	uint8_t		 scratch[70000];
};

/* --- addresses ---------------------------------------------------------- */

/* Client h: 10.1.(h/250).(h%250+2), 2001:db8:0:(h/250+1)::(h%250+2). */
static void
addr_int(uint8_t a[16], unsigned h, int v6)
{
	if (!v6) {
		pg_addr4(a, 10, 1, h / 250, h % 250 + 2);
		return;
	}
	memset(a, 0, 16);
	a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
	a[7] = (uint8_t)(h / 250 + 1);
	a[15] = (uint8_t)(h % 250 + 2);
}

/* Internal server: 10.1.100.n, 2001:db8:0:100::n. */
static void
addr_srv(uint8_t a[16], unsigned n, int v6)
{
	if (!v6) {
		pg_addr4(a, 10, 1, 100, n);
		return;
	}
	memset(a, 0, 16);
	a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
	a[6] = 0x01;
	a[15] = (uint8_t)n;
}

/* External host e: spread over 198.18.0.0/15 by an odd multiplier. */
static void
addr_ext(uint8_t a[16], unsigned e, int v6)
{
	uint32_t k = ((uint32_t)e * 40503u + 257u) & 0x1ffff;

	if (!v6) {
		pg_addr4n(a, 0xc6120000u + k);
		return;
	}
	memset(a, 0, 16);
	a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
	a[4] = 0xe0;
	a[12] = (uint8_t)(k >> 16);
	a[13] = (uint8_t)(k >> 8);
	a[14] = (uint8_t)k;
	a[15] = 1;
}

/* Skewed choices: a few clients and servers carry most conversations. */
static unsigned
pick_int(struct gt *g)
{
	double u = gen_unit(&g->r);

	return (unsigned)(u * u * N_INT);
}

static unsigned
pick_ext(struct gt *g)
{
	double u = gen_unit(&g->r);

	return (unsigned)(u * u * u * N_EXT);
}

static uint16_t
eport_next(struct gt *g, unsigned h)
{
	uint16_t p = g->eport[h];

	g->eport[h] = p == EPH_HI ? EPH_LO : (uint16_t)(p + 1);
	return p;
}

/* --- the event heap ----------------------------------------------------- */

static int
ev_less(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
heap_push(struct gt *g, uint64_t t, uint32_t idx)
{
	uint32_t i = g->nheap++, up;
	struct ev e = { t, g->evseq++, idx };

	while (i > 0) {
		up = (i - 1) / 2;
		if (!ev_less(&e, &g->heap[up]))
			break;
		g->heap[i] = g->heap[up];
		i = up;
	}
	g->heap[i] = e;
}

static struct ev
heap_pop(struct gt *g)
{
	struct ev top = g->heap[0], last = g->heap[--g->nheap];
	uint32_t i = 0, k;

	for (;;) {
		k = 2 * i + 1;
		if (k >= g->nheap)
			break;
		if (k + 1 < g->nheap && ev_less(&g->heap[k + 1], &g->heap[k]))
			k++;
		if (!ev_less(&g->heap[k], &last))
			break;
		g->heap[i] = g->heap[k];
		i = k;
	}
	if (g->nheap > 0)
		g->heap[i] = last;
	return top;
}

/* --- emitting ----------------------------------------------------------- */

/*
 * Write one packet of session x in direction dir (0 client to server).
 * TCP sequence numbers advance by the payload plus one for SYN and FIN
 * (RFC 9293 3.4); ACK numbers are the other side's next sequence number.
 */
static void
emit(struct gt *g, struct sess *x, int dir, uint64_t t, uint8_t flags,
    const uint8_t *pl, uint32_t plen)
{
	struct pg_pkt p;

	memset(&p, 0, sizeof(p));
	p.ts_us = t;
	p.proto = x->proto;
	p.vlan = x->vlan;
	p.payload = pl;
	p.plen = plen;
	if (dir == 0) {
		memcpy(p.src, x->c, 16);
		memcpy(p.dst, x->s, 16);
		p.sport = x->cport;
		p.dport = x->sport;
	} else {
		memcpy(p.src, x->s, 16);
		memcpy(p.dst, x->c, 16);
		p.sport = x->sport;
		p.dport = x->cport;
	}
	if (x->proto == 6) {
		p.flags = flags;
		p.seq = dir == 0 ? x->cseq : x->sseq;
		p.ack = flags & PG_ACK ? (dir == 0 ? x->sseq : x->cseq) : 0;
		if (dir == 0)
			x->cseq += plen + ((flags & (PG_SYN | PG_FIN)) ? 1 : 0);
		else
			x->sseq += plen + ((flags & (PG_SYN | PG_FIN)) ? 1 : 0);
	} else if (x->proto == 1 || x->proto == 58) {
		int v4 = pg_is_v4(p.src);

		if (dir == 0)
			p.icmp_type = v4 ? 8 : 128;
		else
			p.icmp_type = v4 ? 0 : 129;
		p.sport = x->id;	/* identifier */
		p.seq = x->cseq;	/* echo sequence number */
	}
	if (pg_write(&g->pg, &p) != 0) {
		fprintf(stderr, "gentrace: write: %s\n", strerror(errno));
		exit(1);
	}
	gen_count_pkt(&g->cnt, &p);
	if (!x->counted) {
		x->counted = 1;
		gen_count_conv(&g->cnt, x->proto);
	}
}

/* A TCP segment with an application payload of n bytes. */
static void
emit_data(struct gt *g, struct sess *x, int dir, uint64_t t, uint32_t n,
    int first)
{
	uint8_t *b = g->scratch;
	char host[64];
	size_t h = 0;

	if (x->app == A_TLS) {
		gen_tls(b, n, gen_random(g->pool, &g->r));
	} else if (dir == 0) {
		/* Requests are whole HTTP requests; n is ignored. */
		gen_name(host, sizeof(host), x->ext);
		n = (uint32_t)gen_http_req(b, host, gen_below(&g->r, 900));
	} else {
		if (first)
			h = gen_http_resp(b, x->left);
		memcpy(b + h, gen_text(g->pool, &g->r), n - h);
	}
	emit(g, x, dir, t, PG_ACK | PG_PSH, b, n);
}

/* --- session set-up ----------------------------------------------------- */

/* Response size: mostly small objects, a heavy tail of downloads. */
static uint32_t
resp_size(struct gt *g)
{
	uint32_t u = gen_below(&g->r, 100000);

	if (u < 88000)
		return gen_range(&g->r, 200, 2500);
	if (u < 98000)
		return gen_range(&g->r, 2500, 25000);
	if (u < 99900)
		return gen_range(&g->r, 25000, 250000);
	return gen_range(&g->r, 250000, 3000000);
}

static void
setup_tcp(struct gt *g, struct sess *x)
{
	uint32_t u = gen_below(&g->r, 1000);
	int v6 = gen_below(&g->r, 100) < 10;
	unsigned h;

	x->kind = K_TCP;
	x->proto = 6;
	x->cseq = (uint32_t)gen_next(&g->r);
	x->sseq = (uint32_t)gen_next(&g->r);
	x->gap = gen_range(&g->r, 60, 1500);
	if (u < 850) {
		/* Outbound: an internal client to an external server. */
		h = pick_int(g);
		x->host = (uint16_t)h;
		x->ext = pick_ext(g);
		addr_int(x->c, h, v6);
		addr_ext(x->s, x->ext, v6);
		x->cport = eport_next(g, h);
		x->vlan = h >= 750 ? 103 : 0;
		u = gen_below(&g->r, 100);
		x->app = u < 30 ? A_HTTP : A_TLS;
		x->sport = u < 25 ? 80 : u < 30 ? 8080 : u < 95 ? 443 : 993;
		x->dc = gen_range(&g->r, 40, 400);
		x->ds = gen_range(&g->r, 4000, 150000);
	} else if (u < 930) {
		/* Inbound: an external client to the DMZ web server. */
		x->ext = gen_below(&g->r, N_EXT);
		addr_ext(x->c, x->ext, v6);
		addr_srv(x->s, 80, v6);
		x->cport = (uint16_t)gen_range(&g->r, EPH_LO, EPH_HI);
		x->app = gen_below(&g->r, 4) == 0 ? A_HTTP : A_TLS;
		x->sport = x->app == A_HTTP ? 80 : 443;
		x->dc = gen_range(&g->r, 8000, 200000);
		x->ds = gen_range(&g->r, 100, 2000);
	} else {
		/* Internal: a client to the intranet server. */
		h = pick_int(g);
		x->host = (uint16_t)h;
		x->ext = h;
		addr_int(x->c, h, v6);
		addr_srv(x->s, 10, v6);
		x->cport = eport_next(g, h);
		x->vlan = h >= 750 ? 103 : 0;
		x->app = A_HTTP;
		x->sport = 8080;
		x->dc = gen_range(&g->r, 40, 400);
		x->ds = gen_range(&g->r, 100, 1500);
	}
	x->mss = 1460 - (v6 ? 20 : 0) - (x->vlan ? 4 : 0);
	/* Most sessions are short; some are kept alive for minutes. */
	if (gen_below(&g->r, 100) < 3) {
		x->rounds = gen_range(&g->r, 3, 12);
		x->think = gen_range(&g->r, 5000000, 40000000);
	} else {
		x->rounds = 1;
		while (x->rounds < 8 && gen_below(&g->r, 100) < 25)
			x->rounds++;
		x->think = gen_range(&g->r, 50000, 1500000);
	}
	u = gen_below(&g->r, 1000);
	x->close = u < 550 ? C_CFIN : u < 850 ? C_SFIN : u < 920 ? C_CRST :
	    u < 960 ? C_SRST : C_NONE;
	x->st = S_SYN;
	/* 2% never answered (two retries), 1.5% rejected. */
	u = gen_below(&g->r, 1000);
	x->aux = u < 20 ? 3 : 0;
	if (u >= 20 && u < 35)
		x->aux = 100;		/* marks "rejected" */
}

static void
setup_udp(struct gt *g, struct sess *x, enum kind k)
{
	int v6 = gen_below(&g->r, 100) < 10;
	unsigned h = pick_int(g);

	x->kind = (uint8_t)k;
	x->proto = 17;
	x->host = (uint16_t)h;
	addr_int(x->c, h, v6);
	x->vlan = h >= 750 ? 103 : 0;
	x->cport = eport_next(g, h);
	x->st = S_Q;
	x->dc = gen_range(&g->r, 40, 400);
	switch (k) {
	case K_DNS:
		x->sport = 53;
		x->ext = pick_ext(g);
		x->id = (uint16_t)gen_next(&g->r);
		if (gen_below(&g->r, 100) < 80) {
			addr_srv(x->s, 53, v6);
			x->ds = gen_below(&g->r, 10) < 8 ?
			    gen_range(&g->r, 100, 2000) :
			    gen_range(&g->r, 10000, 90000);
		} else {
			addr_ext(x->s, 53, v6);
			x->ds = gen_range(&g->r, 8000, 40000);
		}
		/* aux: 0 answered, 1 + AAAA, 2 unanswered (one retry). */
		x->aux = gen_below(&g->r, 100);
		x->aux = x->aux < 5 ? 2 : x->aux < 35 ? 1 : 0;
		break;
	case K_NTP:
		x->sport = 123;
		addr_ext(x->s, 123 + gen_below(&g->r, 4), v6);
		x->ds = gen_range(&g->r, 5000, 60000);
		break;
	case K_SYSLOG:
		x->sport = 514;
		addr_srv(x->s, 5, v6);
		x->aux = gen_range(&g->r, 1, 4);
		break;
	default:	/* K_MEDIA: 20 ms packets each way for 10-90 s */
		x->cport = (uint16_t)(16400 + 2 * gen_below(&g->r, 290));
		x->sport = 16100;
		x->ext = pick_ext(g);
		addr_ext(x->s, x->ext, v6);
		x->aux = gen_range(&g->r, 500, 4500);
		x->ds = gen_range(&g->r, 1000, 19000);
		x->mss = gen_range(&g->r, 160, 240);
		x->id = (uint16_t)gen_next(&g->r);
		x->cseq = (uint16_t)gen_next(&g->r);
		x->sseq = (uint16_t)gen_next(&g->r);
		break;
	}
}

static void
setup_ping(struct gt *g, struct sess *x)
{
	int v6 = gen_below(&g->r, 100) < 10;
	unsigned h = pick_int(g);

	x->kind = K_PING;
	x->proto = v6 ? 58 : 1;
	addr_int(x->c, h, v6);
	addr_ext(x->s, pick_ext(g), v6);
	x->vlan = h >= 750 ? 103 : 0;
	x->id = (uint16_t)gen_next(&g->r);
	x->cseq = 1;
	x->aux = gen_range(&g->r, 1, 5);
	x->ds = gen_range(&g->r, 5000, 120000);
	x->close = gen_below(&g->r, 100) < 5;	/* unanswered */
	x->st = S_Q;
}

/* New conversation: the mix of kinds, per 100,000. */
static void
setup_new(struct gt *g, struct sess *x)
{
	uint32_t u = gen_below(&g->r, 100000);

	memset(x, 0, sizeof(*x));
	if (u < 52000)
		setup_tcp(g, x);
	else if (u < 92000)
		setup_udp(g, x, K_DNS);
	else if (u < 94500)
		setup_udp(g, x, K_NTP);
	else if (u < 97490)
		setup_udp(g, x, K_SYSLOG);
	else if (u < 97500)
		setup_udp(g, x, K_MEDIA);
	else
		setup_ping(g, x);
}

/* --- stepping: one packet per call, returns the delay to the next ------ */

static uint64_t
step_close(struct gt *g, struct sess *x, uint64_t t)
{
	int c = x->closer;
	/* Delay until the other side answers a packet from side d. */
#define TURN(d)	((d) == 0 ? x->ds : x->dc)

	switch (x->st) {
	case S_T1:
		if (x->close == C_CRST || x->close == C_SRST) {
			emit(g, x, c, t, PG_RST | PG_ACK, NULL, 0);
			return DONE;
		}
		emit(g, x, c, t, PG_FIN | PG_ACK, NULL, 0);
		x->st = S_T2;
		return TURN(c);
	case S_T2:
		emit(g, x, !c, t, PG_FIN | PG_ACK, NULL, 0);
		x->st = S_T3;
		return TURN(!c);
	default:
		emit(g, x, c, t, PG_ACK, NULL, 0);
		return DONE;
	}
#undef TURN
}

static uint64_t
step_tcp(struct gt *g, struct sess *x, uint64_t t)
{
	uint32_t n;

	switch (x->st) {
	case S_SYN:
		if (x->aux > 0 && x->aux < 100) {
			/* Unanswered: retransmit the same SYN, 1 s then 2 s. */
			if (x->counted)
				x->cseq--;
			emit(g, x, 0, t, PG_SYN, NULL, 0);
			if (--x->aux == 0)
				return DONE;
			return x->aux == 2 ? 1000000 : 2000000;
		}
		emit(g, x, 0, t, PG_SYN, NULL, 0);
		x->st = x->aux == 100 ? S_REJ : S_SYNACK;
		return x->ds;
	case S_REJ:
		emit(g, x, 1, t, PG_RST | PG_ACK, NULL, 0);
		return DONE;
	case S_SYNACK:
		emit(g, x, 1, t, PG_SYN | PG_ACK, NULL, 0);
		x->st = S_ACK3;
		return x->dc;
	case S_ACK3:
		emit(g, x, 0, t, PG_ACK, NULL, 0);
		x->st = S_REQ;
		return gen_range(&g->r, 20, 3000);
	case S_REQ:
		emit_data(g, x, 0, t, gen_range(&g->r, 120, 700), 0);
		x->left = resp_size(g);
		x->first = 1;
		x->nseg = 0;
		x->st = S_RESP;
		/* Round trip plus the server's own processing time. */
		return x->ds + gen_range(&g->r, 100, 20000);
	case S_RESP:
		n = x->left < x->mss ? x->left : x->mss;
		/* Every TLS segment is a whole record of at least 6 bytes. */
		if (x->left > n && x->left - n < 6)
			n -= 6;
		emit_data(g, x, 1, t, n, x->first);
		x->first = 0;
		x->left -= n;
		if (x->left == 0) {
			x->st = S_FACK;
			return x->dc;
		}
		if (++x->nseg == 2) {
			x->nseg = 0;
			x->st = S_DACK;
			return x->gap / 3 + 1;
		}
		return x->gap;
	case S_DACK:
		emit(g, x, 0, t, PG_ACK, NULL, 0);
		x->st = S_RESP;
		return x->gap - x->gap / 3;
	case S_FACK:
		emit(g, x, 0, t, PG_ACK, NULL, 0);
		if (--x->rounds > 0) {
			x->st = S_REQ;
			return gen_exp(&g->r, x->think);
		}
		if (x->close == C_NONE)
			return DONE;
		x->st = S_T1;
		x->closer = x->close == C_SFIN || x->close == C_SRST;
		/* Servers close idle keep-alive connections after seconds. */
		if (x->close == C_SFIN)
			return gen_range(&g->r, 1000000, 15000000);
		return gen_exp(&g->r, 80000);
	default:
		return step_close(g, x, t);
	}
}

static uint64_t
step_dns(struct gt *g, struct sess *x, uint64_t t)
{
	char name[64];
	uint8_t a[16];
	size_t n;
	/* Odd ids ask AAAA (gen_dns): an A query's pair has the next id. */
	uint16_t id = x->id;

	gen_name(name, sizeof(name), x->ext);
	if (x->st == S_Q) {
		n = gen_dns(g->scratch, id, name, NULL);
		emit(g, x, 0, t, 0, g->scratch, (uint32_t)n);
		if (x->aux == 2) {
			/* Unanswered: the stub resolver retries once. */
			x->aux = 3;
			return gen_range(&g->r, 1000000, 5000000);
		}
		if (x->aux == 3)
			return DONE;
		x->st = S_R;
		return x->ds;
	}
	addr_ext(a, x->ext, id & 1);
	n = gen_dns(g->scratch, id, name, a);
	emit(g, x, 1, t, 0, g->scratch, (uint32_t)n);
	if (x->aux == 1 && !(x->id & 1)) {
		/* The A answer is followed by an AAAA query on the socket. */
		x->id++;
		x->aux = 0;
		x->st = S_Q;
		return gen_range(&g->r, 50, 2000);
	}
	return DONE;
}

static uint64_t
step_udp(struct gt *g, struct sess *x, uint64_t t)
{
	size_t n;

	switch (x->kind) {
	case K_DNS:
		return step_dns(g, x, t);
	case K_NTP:
		n = gen_ntp(g->scratch, x->st == S_R, t);
		emit(g, x, x->st == S_R, t, 0, g->scratch, (uint32_t)n);
		if (x->st == S_R)
			return DONE;
		x->st = S_R;
		return x->ds;
	case K_SYSLOG:
		/* One draw per statement: argument order is unspecified. */
		n = gen_range(&g->r, 40, 400);
		n = gen_syslog(g->scratch, n, x->host,
		    gen_text(g->pool, &g->r));
		emit(g, x, 0, t, 0, g->scratch, (uint32_t)n);
		if (--x->aux == 0)
			return DONE;
		return gen_range(&g->r, 100000, 3000000);
	default:	/* K_MEDIA */
		n = x->st == S_R ? x->sseq++ : x->cseq++;
		gen_rtp(g->scratch, x->mss, (uint16_t)n,
		    x->id * 2654435761u + (x->st == S_R),
		    gen_random(g->pool, &g->r));
		emit(g, x, x->st == S_R, t, 0, g->scratch, x->mss);
		if (x->st == S_Q) {
			x->st = S_R;
			return x->ds;
		}
		if (--x->aux == 0)
			return DONE;
		x->st = S_Q;
		return 20000 - x->ds;
	}
}

static uint64_t
step_ping(struct gt *g, struct sess *x, uint64_t t)
{
	size_t n = gen_ping(g->scratch, t);

	if (x->st == S_Q) {
		emit(g, x, 0, t, 0, g->scratch, (uint32_t)n);
		if (!x->close) {
			x->st = S_R;
			return x->ds;
		}
	} else {
		emit(g, x, 1, t, 0, g->scratch, (uint32_t)n);
		x->st = S_Q;
	}
	x->cseq++;
	if (--x->aux == 0)
		return DONE;
	return x->st == S_Q && !x->close ? 1000000 - x->ds : 1000000;
}

/*
 * Scanner and sweeper: one session that walks its probes.  Each probe is
 * its own conversation (a new port or a new address).  Answers: the
 * scanned host resets 15% of closed ports and opens a few; the swept
 * addresses mostly do not exist.
 */
static uint64_t
step_probe(struct gt *g, struct sess *x, uint64_t t, uint32_t interval)
{
	uint32_t u;
	uint64_t d = 0;

	switch (x->st) {
	case S_PROBE:
		x->counted = 0;
		if (x->kind == K_SCAN) {
			x->sport = g->scanport[x->aux];
		} else {
			/* 198.19.0.1 onwards, skipping .0 and .255. */
			pg_addr4n(x->s, 0xc6130000u + x->aux / 254 * 256 +
			    x->aux % 254 + 1);
		}
		x->cseq = (uint32_t)gen_next(&g->r);
		x->sseq = (uint32_t)gen_next(&g->r);
		emit(g, x, 0, t, PG_SYN, NULL, 0);
		x->aux++;
		u = gen_below(&g->r, 1000);
		if (x->kind == K_SCAN) {
			switch (x->sport) {
			case 22: case 80: case 443: case 445: case 3389:
				u = 0;
				break;
			default:
				u = u < 150 ? 1 : 2;
				break;
			}
		} else {
			u = u < 10 ? 0 : u < 40 ? 1 : 2;
		}
		if (u == 0) {
			x->st = S_P_SYNACK;
			return x->ds;
		}
		if (u == 1) {
			x->st = S_P_RST;
			return x->ds;
		}
		break;
	case S_P_SYNACK:
		emit(g, x, 1, t, PG_SYN | PG_ACK, NULL, 0);
		x->st = S_P_RSTBACK;
		return x->dc;
	case S_P_RSTBACK:
		emit(g, x, 0, t, PG_RST, NULL, 0);
		d = x->ds + x->dc;
		break;
	case S_P_RST:
		emit(g, x, 1, t, PG_RST | PG_ACK, NULL, 0);
		d = x->ds;
		break;
	}
	x->st = S_PROBE;
	if (x->aux >= (x->kind == K_SCAN ? g->scan_ports : g->sweep_hosts))
		return DONE;
	u = gen_range(&g->r, interval / 2, interval * 3 / 2);
	return u > d ? u - d : 1;
}

static uint64_t
step(struct gt *g, struct sess *x, uint64_t t)
{
	switch (x->kind) {
	case K_TCP:
		return step_tcp(g, x, t);
	case K_PING:
		return step_ping(g, x, t);
	case K_SCAN:
		return step_probe(g, x, t, x->gap);
	case K_SWEEP:
		return step_probe(g, x, t, x->gap);
	default:
		return step_udp(g, x, t);
	}
}

static uint32_t
sess_alloc(struct gt *g)
{
	return g->nfree == 0 ? UINT32_MAX : g->freel[--g->nfree];
}

/* The scanner and the sweeper start at fixed shares of the run. */
static void
add_probers(struct gt *g, uint64_t t0, uint64_t span_us)
{
	struct sess *x;
	uint32_t i, j, idx;
	uint16_t tmp;

	if (g->scan_ports > 0 && (idx = sess_alloc(g)) != UINT32_MAX) {
		x = &g->sess[idx];
		memset(x, 0, sizeof(*x));
		x->kind = K_SCAN;
		x->proto = 6;
		addr_int(x->c, 564, 0);		/* 10.1.2.66 */
		addr_srv(x->s, 20, 0);		/* 10.1.100.20 */
		x->cport = 62000;
		x->ds = 400;
		x->dc = 60;
		/* nmap's order: ports 1..N shuffled (Fisher-Yates). */
		for (i = 0; i < g->scan_ports; i++)
			g->scanport[i] = (uint16_t)(i + 1);
		for (i = g->scan_ports - 1; i > 0; i--) {
			j = gen_below(&g->r, i + 1);
			tmp = g->scanport[i];
			g->scanport[i] = g->scanport[j];
			g->scanport[j] = tmp;
		}
		/* Over at most 30 s, or a tenth of the run. */
		i = (uint32_t)(span_us / 10 < 30000000 ? span_us / 10 :
		    30000000);
		x->gap = i / g->scan_ports + 1;
		x->st = S_PROBE;
		heap_push(g, t0 + span_us * 3 / 10, idx);
	}
	if (g->sweep_hosts > 0 && (idx = sess_alloc(g)) != UINT32_MAX) {
		x = &g->sess[idx];
		memset(x, 0, sizeof(*x));
		x->kind = K_SWEEP;
		x->proto = 6;
		addr_int(x->c, 325, 0);		/* 10.1.1.77 */
		x->cport = 62001;
		x->sport = 445;
		x->ds = 30000;
		x->dc = 60;
		i = (uint32_t)(span_us / 10 < 60000000 ? span_us / 10 :
		    60000000);
		x->gap = i / g->sweep_hosts + 1;
		x->st = S_PROBE;
		heap_push(g, t0 + span_us * 6 / 10, idx);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: gentrace -o FILE [-n packets] [-s seed] "
	    "[-t start_s] [-r pps]\n"
	    "    [--truth FILE] [--scan-ports N] [--sweep-hosts N]\n");
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
		{ "packets", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "start", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "truth", required_argument, NULL, 'T' },
		{ "scan-ports", required_argument, NULL, 'P' },
		{ "sweep-hosts", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *truth = NULL;
	uint64_t seed = 1, start = 1700000000, rate = 10000, t, next_arr;
	uint64_t span, scan = UINT64_MAX, sweep = UINT64_MAX, d;
	double mean_gap;
	struct gt *g;
	struct ev e;
	uint32_t i, idx;
	FILE *f;
	int ch;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return 1;
	g->npkts = 5000000;
	while ((ch = getopt_long(argc, argv, "o:n:s:t:r:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'n': g->npkts = num(optarg); break;
		case 's': seed = num(optarg); break;
		case 't': start = num(optarg); break;
		case 'r': rate = num(optarg); break;
		case 'T': truth = optarg; break;
		case 'P': scan = num(optarg); break;
		case 'W': sweep = num(optarg); break;
		default: usage();
		}
	}
	if (out == NULL || optind != argc || rate == 0 || g->npkts == 0 ||
	    (scan != UINT64_MAX && scan > 65535) ||
	    (sweep != UINT64_MAX && sweep > 60000))
		usage();
	/* Thousands of ports and addresses in a full run, fewer in tests. */
	g->scan_ports = (uint32_t)(scan != UINT64_MAX ? scan :
	    g->npkts / 1000 > 5000 ? 5000 :
	    g->npkts / 1000 < 200 ? 200 : g->npkts / 1000);
	g->sweep_hosts = (uint32_t)(sweep != UINT64_MAX ? sweep :
	    g->npkts / 1250 > 4000 ? 4000 :
	    g->npkts / 1250 < 200 ? 200 : g->npkts / 1250);

	g->sess = calloc(POOL_SESS, sizeof(*g->sess));
	g->freel = calloc(POOL_SESS, sizeof(*g->freel));
	g->heap = calloc(POOL_SESS, sizeof(*g->heap));
	g->pool = malloc(sizeof(*g->pool));
	if (g->sess == NULL || g->freel == NULL || g->heap == NULL ||
	    g->pool == NULL) {
		fprintf(stderr, "gentrace: out of memory\n");
		return 1;
	}
	for (i = 0; i < POOL_SESS; i++)
		g->freel[i] = POOL_SESS - 1 - i;
	g->nfree = POOL_SESS;

	gen_seed(&g->r, seed);
	gen_pool_init(g->pool, &g->r);
	for (i = 0; i < N_INT; i++)
		g->eport[i] = (uint16_t)gen_range(&g->r, EPH_LO, EPH_HI);
	if (pg_open(&g->pg, out) != 0) {
		fprintf(stderr, "gentrace: %s: %s\n", out, strerror(errno));
		return 1;
	}
	t = start * 1000000;
	span = g->npkts * 1000000 / rate;
	add_probers(g, t, span);
	mean_gap = 1e6 * PKTS_PER_CONV / (double)rate;
	next_arr = t;

	while (g->pg.n_pkts < g->npkts) {
		if (g->nheap == 0 || next_arr <= g->heap[0].t) {
			if ((idx = sess_alloc(g)) != UINT32_MAX) {
				setup_new(g, &g->sess[idx]);
				heap_push(g, next_arr, idx);
			} else {
				g->n_refused++;
			}
			next_arr += gen_exp(&g->r, mean_gap);
			continue;
		}
		e = heap_pop(g);
		d = step(g, &g->sess[e.idx], e.t);
		if (d == DONE)
			g->freel[g->nfree++] = e.idx;
		else
			heap_push(g, e.t + d, e.idx);
	}
	if (pg_close(&g->pg) != 0) {
		fprintf(stderr, "gentrace: %s: %s\n", out, strerror(errno));
		return 1;
	}
	if (truth != NULL) {
		if ((f = fopen(truth, "w")) == NULL) {
			fprintf(stderr, "gentrace: %s: %s\n", truth,
			    strerror(errno));
			return 1;
		}
		gen_truth(f, "gentrace", seed, &g->cnt, g->pg.n_bytes);
		fprintf(f, ",\n  \"rate_pps\": %" PRIu64 ",\n"
		    "  \"scan\": {\"scanner\": \"10.1.2.66\", "
		    "\"target\": \"10.1.100.20\", \"ports\": %u},\n"
		    "  \"sweep\": {\"source\": \"10.1.1.77\", "
		    "\"first\": \"198.19.0.1\", \"hosts\": %u, "
		    "\"port\": 445},\n"
		    "  \"sessions_refused\": %" PRIu64 "\n}\n",
		    rate, g->scan_ports, g->sweep_hosts, g->n_refused);
		if (fclose(f) != 0)
			return 1;
	}
	printf("gentrace: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64
	    " conversations (tcp %" PRIu64 " udp %" PRIu64 " icmp %" PRIu64
	    "), %.1f s, ipv6 %.1f%%, vlan %.1f%%, mean frame %.0f B\n",
	    g->cnt.pkts, g->pg.n_bytes,
	    g->cnt.conv_tcp + g->cnt.conv_udp + g->cnt.conv_icmp,
	    g->cnt.conv_tcp, g->cnt.conv_udp, g->cnt.conv_icmp,
	    (double)(g->cnt.last_us - g->cnt.first_us) / 1e6,
	    100.0 * (double)g->cnt.v6 / (double)g->cnt.pkts,
	    100.0 * (double)g->cnt.vlan / (double)g->cnt.pkts,
	    (double)g->cnt.frame_bytes / (double)g->cnt.pkts);
	free(g->sess);
	free(g->freel);
	free(g->heap);
	free(g->pool);
	free(g);
	return 0;
}
