/*
 * test_flowtab.c: the flow engine through its public API (flowtab.h), with
 * pktinfo structs built by hand.  Expected values (states, histories,
 * counts) are worked out from the packets each test sends and from Zeek's
 * documented conn_state/history definitions, never read back from the code.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowtab.h"
#include "util.h"
#include "t.h"

#define T0	UINT64_C(1700000000000000)	/* an epoch, in us */
#define SEC	UINT64_C(1000000)
#define MAXREC	4096

/* Sink that keeps records (up to MAXREC) and counts everything. */
struct cap {
	struct convrec	rec[MAXREC];
	size_t		n;		/* conv_record calls */
	struct convrec	start[MAXREC];
	size_t		ns;		/* conv_start calls */
	uint64_t	n_final;
	uint64_t	n_by[END__COUNT];
	uint64_t	pkts, bytes;	/* summed over all records */
	uint64_t	evict22, eof22;	/* dport 22 records by end reason */
};

static void
cap_record(void *arg, const struct convrec *cr)
{
	struct cap *c = arg;

	if (c->n < MAXREC)
		c->rec[c->n] = *cr;
	c->n++;
	c->n_final += cr->is_final;
	if (cr->reason < END__COUNT)
		c->n_by[cr->reason]++;
	c->pkts += cr->fwd.pkts + cr->rev.pkts;
	if (cr->dport == 22) {
		c->evict22 += cr->reason == END_EVICT;
		c->eof22 += cr->reason == END_EOF;
	}
	c->bytes += cr->fwd.bytes + cr->rev.bytes;
}

static void
cap_start(void *arg, const struct convrec *cr)
{
	struct cap *c = arg;

	if (c->ns < MAXREC)
		c->start[c->ns] = *cr;
	c->ns++;
}

static struct cap *
cap_new(void)
{
	struct cap *c = calloc(1, sizeof(*c));

	if (c == NULL)
		abort();
	return c;
}

static struct flowtab *
table(struct cap *c, size_t budget, uint32_t active_s)
{
	struct ft_config cfg;
	struct ft_sink sink = { cap_start, cap_record, c };
	struct flowtab *ft;

	ft_config_defaults(&cfg);
	if (budget)
		cfg.mem_budget = budget;
	if (active_s)
		cfg.active_s = active_s;
	memcpy(cfg.seed, "0123456789abcdef", 16);
	ft = ft_new(&cfg, &sink);
	if (ft == NULL)
		abort();
	return ft;
}

/* A packet.  proto TCP: flags are TCP flags; ICMP: sp/dp ignored, tc used. */
static struct pktinfo
pkt(uint8_t proto, const char *src, uint16_t sp, const char *dst, uint16_t dp,
    uint8_t flags, uint32_t payload, uint64_t ts)
{
	struct pktinfo pi;
	uint32_t l4;

	memset(&pi, 0, sizeof(pi));
	if (addr_parse(src, pi.src) != 0 || addr_parse(dst, pi.dst) != 0)
		abort();
	pi.family = addr_is_v4(pi.src) ? 4 : 6;
	pi.proto = proto;
	pi.ts_us = ts;
	pi.flags = PI_HAS_L3 | PI_HAS_PORTS;
	pi.sport = sp;
	pi.dport = dp;
	l4 = proto == IPPROTO_TCP ? 20 : 8;
	if (proto == IPPROTO_TCP) {
		pi.flags |= PI_HAS_TCP;
		pi.tcp_flags = flags;
	}
	pi.l4_payload = payload;
	pi.ip_len = (pi.family == 4 ? 20 : 40) + l4 + payload;
	pi.wirelen = pi.caplen = pi.ip_len + 14;
	return pi;
}

static void
tcp(struct flowtab *ft, const char *s, uint16_t sp, const char *d,
    uint16_t dp, uint8_t fl, uint32_t payload, uint64_t ts)
{
	struct pktinfo pi = pkt(IPPROTO_TCP, s, sp, d, dp, fl, payload, ts);

	ft_packet(ft, &pi, 0);
}

static void
udp(struct flowtab *ft, const char *s, uint16_t sp, const char *d,
    uint16_t dp, uint32_t payload, uint64_t ts)
{
	struct pktinfo pi = pkt(IPPROTO_UDP, s, sp, d, dp, 0, payload, ts);

	ft_packet(ft, &pi, 0);
}

static void
icmp(struct flowtab *ft, const char *s, const char *d, int type, int code,
    uint64_t ts)
{
	int v6 = strchr(s, ':') != NULL;
	struct pktinfo pi = pkt(v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, s, 0, d,
	    (uint16_t)(type << 8 | code), 0, 56, ts);

	ft_packet(ft, &pi, 0);
}

static int
addr_eq(const uint8_t a[16], const char *s)
{
	uint8_t b[16];

	return addr_parse(s, b) == 0 && memcmp(a, b, 16) == 0;
}

#define A	"10.0.0.1"
#define B	"192.0.2.80"

/* Full handshake A:40000 -> B:80 at t, leaves the conversation S1. */
static void
handshake(struct flowtab *ft, uint64_t t)
{
	tcp(ft, A, 40000, B, 80, TH_SYN, 0, t);
	tcp(ft, B, 80, A, 40000, TH_SYN | TH_ACK, 0, t + 1000);
	tcp(ft, A, 40000, B, 80, TH_ACK, 0, t + 2000);
}

static void
test_pairing_sf(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 0);
	struct ft_stats st;
	const struct convrec *r;
	uint64_t t = T0;

	handshake(ft, t);					/* S h A */
	tcp(ft, A, 40000, B, 80, TH_PUSH | TH_ACK, 100, t + 3000);	/* D */
	tcp(ft, B, 80, A, 40000, TH_ACK, 0, t + 4000);		/* a */
	tcp(ft, B, 80, A, 40000, TH_PUSH | TH_ACK, 500, t + 5000);	/* d */
	tcp(ft, A, 40000, B, 80, TH_ACK, 0, t + 6000);
	tcp(ft, A, 40000, B, 80, TH_FIN | TH_ACK, 0, t + 7000);	/* F */
	tcp(ft, B, 80, A, 40000, TH_FIN | TH_ACK, 0, t + 8000);	/* f */
	tcp(ft, A, 40000, B, 80, TH_ACK, 0, t + 9000);
	/* A trailing ACK inside the closing linger stays in the record. */
	tcp(ft, A, 40000, B, 80, TH_ACK, 0, t + SEC);
	ft_expire(ft, t + SEC + 1999999);
	T_EQ_INT(c->n, 0, "pairing: nothing emitted inside the linger");
	ft_expire(ft, t + 3 * SEC);
	T_EQ_INT(c->n, 1, "pairing: both directions give one record");
	T_EQ_INT(c->ns, 1, "pairing: one conv_start");
	r = &c->rec[0];
	T_OK(addr_eq(r->src, A) && addr_eq(r->dst, B), "pairing: src is the "
	    "initiator");
	T_EQ_INT(r->sport, 40000, "pairing: sport");
	T_EQ_INT(r->dport, 80, "pairing: dport");
	T_EQ_INT(r->family, 4, "pairing: family");
	T_EQ_INT(r->proto, IPPROTO_TCP, "pairing: proto");
	T_EQ_U64(r->fwd.pkts, 7, "pairing: fwd packets");
	T_EQ_U64(r->rev.pkts, 4, "pairing: rev packets");
	T_EQ_U64(r->fwd.bytes, 7 * 40 + 100, "pairing: fwd IP bytes");
	T_EQ_U64(r->rev.bytes, 4 * 40 + 500, "pairing: rev IP bytes");
	T_EQ_INT(r->fwd.first_flags, TH_SYN, "pairing: fwd first flags");
	T_EQ_INT(r->rev.first_flags, TH_SYN | TH_ACK, "pairing: rev first "
	    "flags");
	T_EQ_INT(r->fwd.flags, TH_SYN | TH_ACK | TH_PUSH | TH_FIN,
	    "pairing: fwd OR of flags");
	T_EQ_U64(r->fwd.first_us, t, "pairing: fwd first");
	T_EQ_U64(r->fwd.last_us, t + SEC, "pairing: fwd last");
	T_EQ_U64(r->rev.first_us, t + 1000, "pairing: rev first");
	T_EQ_U64(r->rev.last_us, t + 8000, "pairing: rev last");
	T_EQ_U64(r->start_us, t, "pairing: start");
	T_EQ_U64(r->end_us, t + SEC, "pairing: end");
	T_EQ_INT(r->reason, END_FIN, "pairing: reason fin");
	T_EQ_INT(r->is_final, 1, "pairing: final");
	T_EQ_INT(r->seq, 0, "pairing: seq 0");
	T_EQ_INT(r->flipped, 0, "pairing: not flipped");
	T_EQ_STR(r->state, "SF", "pairing: state SF");
	T_EQ_STR(r->history, "ShADadFf", "pairing: history");
	T_EQ_U64(c->start[0].conv_id, r->conv_id, "pairing: start and record "
	    "share conv_id");
	T_EQ_INT(c->start[0].reason, END_NONE, "pairing: start is END_NONE");
	T_EQ_U64(c->start[0].fwd.pkts, 1, "pairing: start has the first "
	    "packet");
	T_EQ_U64(c->start[0].rev.pkts, 0, "pairing: start has no reply");
	T_EQ_STR(c->start[0].history, "S", "pairing: start history");
	ft_get_stats(ft, &st);
	T_EQ_U64(st.n_created, 1, "pairing: one conversation created");
	T_EQ_U64(st.n_end[END_FIN], 1, "pairing: counted as fin");
	T_EQ_U64(st.n_packets, 11, "pairing: packets metered");
	T_EQ_U64(st.n_bytes, 11 * 40 + 600, "pairing: bytes metered");
	T_EQ_U64(st.n_active, 0, "pairing: nothing live");
	ft_free(ft);
	free(c);
}

/* Run one short TCP exchange; return the single record's state. */
struct step {
	int		from_b;		/* 0: A->B, 1: B->A */
	uint8_t		flags;
	uint32_t	payload;
};

static const struct convrec *
run_steps(struct cap *c, const struct step *s, size_t n, uint16_t aport,
    uint16_t bport)
{
	struct flowtab *ft = table(c, 0, 0);
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i].from_b)
			tcp(ft, B, bport, A, aport, s[i].flags, s[i].payload,
			    T0 + i * 1000);
		else
			tcp(ft, A, aport, B, bport, s[i].flags, s[i].payload,
			    T0 + i * 1000);
	}
	ft_flush(ft, END_EOF);
	ft_free(ft);
	return c->n == 1 ? &c->rec[0] : NULL;
}

static void
check_state(const char *name, const struct step *s, size_t n,
    const char *state, const char *history)
{
	struct cap *c = cap_new();
	const struct convrec *r = run_steps(c, s, n, 40000, 80);
	char what[96];

	snprintf(what, sizeof(what), "state %s: one record", name);
	T_OK(r != NULL, "%s", what);
	if (r != NULL) {
		snprintf(what, sizeof(what), "state %s", name);
		T_EQ_STR(r->state, state, what);
		snprintf(what, sizeof(what), "history %s", name);
		T_EQ_STR(r->history, history, what);
	}
	free(c);
}

#define SA	(TH_SYN | TH_ACK)
#define FA	(TH_FIN | TH_ACK)
#define RA	(TH_RST | TH_ACK)
#define PA	(TH_PUSH | TH_ACK)
#define N(x)	(sizeof(x) / sizeof((x)[0]))

static void
test_states(void)
{
	static const struct step s0[] = { { 0, TH_SYN, 0 } };
	static const struct step s0r[] = { { 0, TH_SYN, 0 }, { 0, TH_SYN, 0 } };
	static const struct step rej[] = { { 0, TH_SYN, 0 }, { 1, RA, 0 } };
	static const struct step s1[] = { { 0, TH_SYN, 0 }, { 1, SA, 0 },
	    { 0, TH_ACK, 0 }, { 0, PA, 10 } };
	static const struct step rsto[] = { { 0, TH_SYN, 0 }, { 1, SA, 0 },
	    { 0, TH_ACK, 0 }, { 0, PA, 10 }, { 0, TH_RST, 0 } };
	static const struct step rstr[] = { { 0, TH_SYN, 0 }, { 1, SA, 0 },
	    { 0, TH_ACK, 0 }, { 1, PA, 10 }, { 1, RA, 0 } };
	static const struct step rstos0[] = { { 0, TH_SYN, 0 },
	    { 0, TH_RST, 0 } };
	static const struct step sh[] = { { 0, TH_SYN, 0 }, { 0, TH_FIN, 0 } };
	static const struct step s2[] = { { 0, TH_SYN, 0 }, { 1, SA, 0 },
	    { 0, TH_ACK, 0 }, { 0, FA, 0 } };
	static const struct step s3[] = { { 0, TH_SYN, 0 }, { 1, SA, 0 },
	    { 0, TH_ACK, 0 }, { 1, FA, 0 } };
	static const struct step oth[] = { { 0, TH_ACK, 0 }, { 1, TH_ACK, 0 },
	    { 0, PA, 20 } };
	static const struct step rstrh[] = { { 1, PA, 20 }, { 1, RA, 0 } };

	check_state("S0", s0, N(s0), "S0", "S");
	check_state("S0 with a retry", s0r, N(s0r), "S0", "S");
	check_state("REJ", rej, N(rej), "REJ", "Sr");
	check_state("S1", s1, N(s1), "S1", "ShAD");
	check_state("RSTO", rsto, N(rsto), "RSTO", "ShADR");
	check_state("RSTR", rstr, N(rstr), "RSTR", "ShAdr");
	check_state("RSTOS0", rstos0, N(rstos0), "RSTOS0", "SR");
	check_state("SH", sh, N(sh), "SH", "SF");
	check_state("S2", s2, N(s2), "S2", "ShAF");
	check_state("S3", s3, N(s3), "S3", "ShAf");
	/* Mid-stream, both ports unprivileged: no flip, Zeek says OTH. */
	{
		struct cap *c = cap_new();
		const struct convrec *r = run_steps(c, oth, N(oth), 40000,
		    50000);

		T_OK(r != NULL && strcmp(r->state, "OTH") == 0 &&
		    strcmp(r->history, "AaD") == 0 && !r->flipped,
		    "state OTH, history AaD, not flipped (mid-stream)");
		free(c);
	}
	/*
	 * First packet data from B:80, so B is taken for the responder ('^');
	 * the responder resets while the originator never spoke: RSTRH.
	 */
	{
		struct cap *c = cap_new();
		const struct convrec *r = run_steps(c, rstrh, N(rstrh), 40000,
		    80);

		T_OK(r != NULL && strcmp(r->state, "RSTRH") == 0 &&
		    strcmp(r->history, "^dr") == 0 && r->flipped,
		    "state RSTRH, history ^dr");
		free(c);
	}
}

static void
test_flip(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 0);
	const struct convrec *r;

	/* SYN-ACK seen first: the SYN's sender (A) is the initiator. */
	tcp(ft, B, 80, A, 40000, SA, 0, T0);
	tcp(ft, A, 40000, B, 80, TH_ACK, 0, T0 + 1000);
	tcp(ft, A, 40000, B, 80, PA, 50, T0 + 2000);
	T_EQ_INT(c->ns, 1, "flip: one start notice");
	T_OK(c->ns == 1 && addr_eq(c->start[0].src, A) &&
	    c->start[0].flipped, "flip: decided before conv_start");
	/* Mid-stream from a server port: the client is the initiator. */
	tcp(ft, B, 443, A, 51000, PA, 1400, T0 + 3000);
	/* Stealth-scan answer: SYN-ACK from 8080 to 3306, both plausible. */
	tcp(ft, B, 8080, A, 3306, SA, 0, T0 + 4000);
	/* UDP: a DNS answer seen first. */
	udp(ft, B, 53, A, 33333, 120, T0 + 5000);
	ft_flush(ft, END_EOF);
	T_EQ_INT(c->n, 4, "flip: four conversations");
	for (size_t i = 0; i < c->n && i < MAXREC; i++) {
		r = &c->rec[i];
		switch (r->dport) {
		case 80:
			T_OK(addr_eq(r->src, A) && r->sport == 40000 &&
			    r->flipped, "flip on SYN-ACK first: src A:40000");
			T_EQ_U64(r->fwd.pkts, 2, "flip: fwd is A's packets");
			T_EQ_U64(r->rev.pkts, 1, "flip: rev is B's SYN-ACK");
			T_EQ_INT(r->fwd.first_flags, TH_ACK, "flip: fwd first "
			    "flags");
			T_EQ_STR(r->history, "^hAD", "flip: history");
			T_EQ_STR(r->state, "S1", "flip: state S1");
			break;
		case 443:
			T_OK(addr_eq(r->src, A) && r->sport == 51000 &&
			    r->flipped && r->fwd.pkts == 0 &&
			    r->rev.pkts == 1, "flip mid-stream from port 443");
			break;
		case 3306:
			T_OK(addr_eq(r->src, B) && r->sport == 8080 &&
			    !r->flipped, "no flip for a SYN-ACK when both "
			    "ports are plausible");
			break;
		case 33333:
			T_OK(0, "UDP answer should have been flipped");
			break;
		case 53:
			T_OK(addr_eq(r->src, A) && r->sport == 33333 &&
			    r->flipped, "flip: UDP reply from port 53");
			T_EQ_STR(r->state, "SHR", "flip: UDP responder only "
			    "is SHR");
			T_EQ_STR(r->history, "^d", "flip: UDP history");
			break;
		default:
			T_OK(0, "unexpected record dport %u", r->dport);
		}
	}
	ft_free(ft);
	free(c);
}

static void
test_expiry(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 0);
	uint64_t t = T0;

	/* Embryonic: one SYN, no answer: 5 s, reason idle, state S0. */
	tcp(ft, A, 40001, B, 22, TH_SYN, 0, t);
	ft_expire(ft, t + 4999999);
	T_EQ_INT(c->n, 0, "embryonic: alive before 5 s");
	ft_expire(ft, t + 5 * SEC);
	T_EQ_INT(c->n, 1, "embryonic: ended at 5 s");
	T_OK(c->n == 1 && c->rec[0].reason == END_IDLE &&
	    strcmp(c->rec[0].state, "S0") == 0, "embryonic: reason idle, S0");

	/* SYN retries keep it embryonic and push its deadline. */
	c->n = 0;
	t += 100 * SEC;
	tcp(ft, A, 40002, B, 22, TH_SYN, 0, t);
	tcp(ft, A, 40002, B, 22, TH_SYN, 0, t + 1 * SEC);
	tcp(ft, A, 40002, B, 22, TH_SYN, 0, t + 3 * SEC);
	ft_expire(ft, t + 7 * SEC);
	T_EQ_INT(c->n, 0, "embryonic retries: alive 4 s after the last");
	ft_expire(ft, t + 8 * SEC);
	T_OK(c->n == 1 && c->rec[0].fwd.pkts == 3 &&
	    c->rec[0].reason == END_IDLE, "embryonic retries: one record, "
	    "3 packets, idle at last + 5 s");

	/* A single UDP packet is embryonic too. */
	c->n = 0;
	t += 100 * SEC;
	udp(ft, A, 5000, B, 9999, 10, t);
	ft_expire(ft, t + 5 * SEC);
	T_OK(c->n == 1 && strcmp(c->rec[0].state, "S0") == 0 &&
	    c->rec[0].reason == END_IDLE, "one-way single UDP packet: 5 s, S0");

	/* Two one-way packets are established: the idle timeout applies. */
	c->n = 0;
	t += 100 * SEC;
	udp(ft, A, 5000, B, 514, 100, t);
	udp(ft, A, 5000, B, 514, 100, t + 1000);
	ft_expire(ft, t + 10 * SEC);
	T_EQ_INT(c->n, 0, "one-way UDP stream: not embryonic");
	ft_expire(ft, t + 1000 + 30 * SEC);
	T_OK(c->n == 1 && strcmp(c->rec[0].state, "S0") == 0 &&
	    c->rec[0].fwd.pkts == 2, "one-way UDP stream: idle at 30 s, S0");

	/* Idle: a two-way UDP exchange, 30 s after its last packet. */
	c->n = 0;
	t += 100 * SEC;
	udp(ft, A, 5353, B, 53, 40, t);
	udp(ft, B, 53, A, 5353, 120, t + 2000);
	ft_expire(ft, t + 2000 + 30 * SEC - 1);
	T_EQ_INT(c->n, 0, "idle: alive before 30 s");
	ft_expire(ft, t + 2000 + 30 * SEC);
	T_OK(c->n == 1 && c->rec[0].reason == END_IDLE &&
	    strcmp(c->rec[0].state, "SF") == 0 &&
	    strcmp(c->rec[0].history, "Dd") == 0, "idle: 30 s, SF, Dd");

	/* RST: ends closing_s (2 s) after the reset. */
	c->n = 0;
	t += 100 * SEC;
	handshake(ft, t);
	tcp(ft, B, 80, A, 40000, RA, 0, t + 5000);
	ft_expire(ft, t + 5000 + 1999999);
	T_EQ_INT(c->n, 0, "rst: linger");
	ft_expire(ft, t + 5000 + 2 * SEC);
	T_OK(c->n == 1 && c->rec[0].reason == END_RST &&
	    strcmp(c->rec[0].state, "RSTR") == 0, "rst: reason rst, RSTR");

	/* FIN from one side then quiet: FIN + grace (idle_s), state S2. */
	c->n = 0;
	t += 100 * SEC;
	handshake(ft, t);
	tcp(ft, A, 40000, B, 80, FA, 0, t + 5000);
	ft_expire(ft, t + 5000 + 29 * SEC);
	T_EQ_INT(c->n, 0, "half close: waits the idle timeout");
	ft_expire(ft, t + 5000 + 30 * SEC);
	T_OK(c->n == 1 && c->rec[0].reason == END_FIN &&
	    strcmp(c->rec[0].state, "S2") == 0, "half close: fin, S2");

	/*
	 * LRU order: X is created first but stays busy; Y goes quiet.  Y must
	 * expire on time although X was ahead of it in the list.
	 */
	c->n = 0;
	t += 100 * SEC;
	udp(ft, A, 6000, B, 6001, 10, t);			/* X */
	udp(ft, B, 6001, A, 6000, 10, t + 1000);
	udp(ft, A, 6100, B, 6101, 10, t + 2000);		/* Y */
	udp(ft, B, 6101, A, 6100, 10, t + 3000);
	udp(ft, A, 6000, B, 6001, 10, t + 20 * SEC);		/* X again */
	ft_expire(ft, t + 3000 + 30 * SEC);
	T_OK(c->n == 1 && c->rec[0].sport == 6100, "lru: the quiet one "
	    "expires behind a busy older one");
	ft_expire(ft, t + 50 * SEC);
	T_OK(c->n == 2 && c->rec[1].sport == 6000, "lru: the busy one "
	    "expires 30 s after its last packet");

	/* The clock never runs back. */
	c->n = 0;
	ft_expire(ft, T0);
	udp(ft, A, 1, B, 2, 1, t + 200 * SEC);
	ft_expire(ft, t + 100 * SEC);
	T_EQ_INT(c->n, 0, "expire with an older now is a no-op");
	ft_free(ft);
	free(c);
}

static void
test_lazy_and_reopen(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 0);
	struct ft_stats st;

	/* No ft_expire between: the second packet finds the first expired. */
	udp(ft, A, 7000, B, 7001, 10, T0);
	udp(ft, B, 7001, A, 7000, 10, T0 + 1000);
	udp(ft, A, 7000, B, 7001, 10, T0 + 1000 + 30 * SEC);
	T_EQ_INT(c->n, 1, "lazy: due conversation ended on lookup");
	T_EQ_INT(c->ns, 2, "lazy: the late packet starts a new one");
	T_OK(c->n == 1 && c->rec[0].reason == END_IDLE &&
	    c->rec[0].fwd.pkts == 1 && c->rec[0].rev.pkts == 1,
	    "lazy: first record holds the first two packets");
	T_OK(c->start[0].conv_id != c->start[1].conv_id,
	    "lazy: new conversation, new conv_id");

	/* A SYN after a reset (port reuse / retry) is a new conversation. */
	c->n = c->ns = 0;
	tcp(ft, A, 41000, B, 25, TH_SYN, 0, T0 + 100 * SEC);
	tcp(ft, B, 25, A, 41000, RA, 0, T0 + 100 * SEC + 500);
	tcp(ft, A, 41000, B, 25, TH_SYN, 0, T0 + 101 * SEC);
	T_OK(c->n == 1 && strcmp(c->rec[0].state, "REJ") == 0 &&
	    c->rec[0].reason == END_RST, "reopen: REJ record ended by the "
	    "new SYN");
	T_EQ_INT(c->ns, 2, "reopen: second attempt is its own conversation");
	ft_get_stats(ft, &st);
	T_EQ_U64(st.n_active, 2, "reopen: two live conversations");
	ft_free(ft);
	free(c);
}

static void
test_active(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 60);
	uint64_t tot_fwd = 0, tot_rev = 0, tot_b = 0, i, sent_b = 0;
	size_t k;
	int ok_id = 1, ok_seq = 1, ok_span = 1;

	/*
	 * One packet every 10 s for 200 s, alternating directions, active
	 * timeout 60 s, idle 30 s: cuts at 60, 120 and 180 s (before the
	 * packet at that time), then the final record at the flush.
	 */
	handshake(ft, T0);
	sent_b = 3 * 40;
	for (i = 1; i <= 20; i++) {
		if (i % 2)
			tcp(ft, A, 40000, B, 80, PA, (uint32_t)i,
			    T0 + i * 10 * SEC);
		else
			tcp(ft, B, 80, A, 40000, PA, (uint32_t)i,
			    T0 + i * 10 * SEC);
		sent_b += 40 + i;
	}
	T_EQ_INT(c->n, 3, "active: three interim records while running");
	ft_flush(ft, END_EOF);
	T_EQ_INT(c->n, 4, "active: plus one final record");
	for (k = 0; k < c->n && k < MAXREC; k++) {
		const struct convrec *r = &c->rec[k];

		ok_id &= r->conv_id == c->rec[0].conv_id;
		ok_seq &= r->seq == k;
		ok_span &= r->end_us - r->start_us < 60 * SEC;
		tot_fwd += r->fwd.pkts;
		tot_rev += r->rev.pkts;
		tot_b += r->fwd.bytes + r->rev.bytes;
		if (k < 3)
			T_OK(r->reason == END_ACTIVE && !r->is_final,
			    "active: record %zu is interim", k);
		T_OK(addr_eq(r->src, A), "active: record %zu keeps the "
		    "initiator", k);
	}
	T_OK(ok_id, "active: one conv_id across records");
	T_OK(ok_seq, "active: seq 0, 1, 2, 3");
	T_OK(ok_span, "active: no record spans the active timeout");
	T_EQ_U64(tot_fwd, 2 + 10, "active: fwd packets sum to the total");
	T_EQ_U64(tot_rev, 1 + 10, "active: rev packets sum to the total");
	T_EQ_U64(tot_b, sent_b, "active: bytes sum to the total");
	T_OK(c->rec[3].reason == END_EOF && c->rec[3].is_final,
	    "active: last record is final (eof)");
	/* Interval 1 is t = 0..50 s: 3 handshake packets + 5 data packets. */
	T_EQ_U64(c->rec[0].fwd.pkts + c->rec[0].rev.pkts, 8,
	    "active: first interval has the packets before 60 s");
	T_EQ_U64(c->rec[1].start_us, T0 + 60 * SEC, "active: second "
	    "interval starts with the packet that hit the timeout");
	T_EQ_U64(c->rec[3].rev.first_us, T0 + 180 * SEC, "active: per-"
	    "direction times are per interval");
	T_EQ_INT(c->rec[1].fwd.first_flags, TH_PUSH | TH_ACK, "active: "
	    "first flags are per interval");
	ft_free(ft);
	free(c);
}

static void
test_timeouts_config(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 7200);
	struct ft_config cfg;
	uint64_t i;

	/* active_s above FT_ACTIVE_MAX_S is capped: a cut at 3600 s. */
	udp(ft, B, 200, A, 100, 1, T0);		/* two-way: not embryonic */
	for (i = 0; i <= 200; i++)
		udp(ft, A, 100, B, 200, 1, T0 + i * 20 * SEC);
	T_EQ_INT(c->n, 1, "active cap: one interim record by 4000 s");
	T_OK(c->n == 1 && c->rec[0].reason == END_ACTIVE &&
	    c->rec[0].fwd.pkts + c->rec[0].rev.pkts == 181 &&
	    c->rec[0].end_us == T0 + 3580 * SEC, "active cap: cut at 3600 s "
	    "(packets 0..3580 s)");
	ft_expire(ft, T0 + 4500 * SEC);
	T_OK(c->n == 2 && c->rec[1].fwd.pkts + c->rec[1].rev.pkts == 21 &&
	    c->rec[1].seq == 1,
	    "active cap: the rest in the final record");

	/* ft_set_timeouts: a live conversation takes the new idle timeout. */
	c->n = 0;
	udp(ft, A, 300, B, 400, 1, T0 + 5000 * SEC);
	udp(ft, B, 400, A, 300, 1, T0 + 5000 * SEC);
	ft_config_defaults(&cfg);
	cfg.idle_s = 10;
	ft_set_timeouts(ft, &cfg);
	ft_expire(ft, T0 + 5009 * SEC);
	T_EQ_INT(c->n, 0, "set_timeouts: alive at 9 s");
	ft_expire(ft, T0 + 5010 * SEC);
	T_OK(c->n == 1 && c->rec[0].sport == 300 &&
	    c->rec[0].reason == END_IDLE, "set_timeouts: idle after 10 s");
	ft_free(ft);
	free(c);
}

static void
test_icmp(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 0);
	const struct convrec *r;
	size_t i;
	int seen_echo = 0, seen_unreach = 0, seen6 = 0, seen_rev = 0;

	icmp(ft, A, B, 8, 0, T0);		/* echo request */
	icmp(ft, B, A, 0, 0, T0 + 500);		/* echo reply */
	icmp(ft, A, B, 8, 0, T0 + SEC);
	icmp(ft, B, A, 0, 0, T0 + SEC + 500);
	icmp(ft, B, A, 3, 3, T0 + 2 * SEC);	/* port unreachable */
	icmp(ft, "2001:db8::1", "2001:db8::2", 128, 0, T0);
	icmp(ft, "2001:db8::2", "2001:db8::1", 129, 0, T0 + 300);
	/* Reply seen first (capture started late): the requester leads. */
	icmp(ft, "10.9.9.9", "10.1.1.1", 0, 0, T0 + 3 * SEC);
	ft_flush(ft, END_EOF);
	T_EQ_INT(c->n, 4, "icmp: echo pairs, v6 echo, unreachable, late");
	for (i = 0; i < c->n && i < MAXREC; i++) {
		r = &c->rec[i];
		if (r->family == 6) {
			seen6++;
			T_OK(r->proto == IPPROTO_ICMPV6 &&
			    r->dport == 128 << 8 && r->fwd.pkts == 1 &&
			    r->rev.pkts == 1 && addr_eq(r->src, "2001:db8::1"),
			    "icmpv6: echo 128/129 is one conversation");
		} else if (r->dport == 8 << 8 && addr_eq(r->src, A)) {
			seen_echo++;
			T_OK(r->sport == 0 && r->fwd.pkts == 2 &&
			    r->rev.pkts == 2 && !r->flipped,
			    "icmp: echo request/reply paired, 2+2 packets");
			T_EQ_STR(r->state, "SF", "icmp: answered echo is SF");
		} else if (r->dport == (3 << 8 | 3)) {
			seen_unreach++;
			T_OK(addr_eq(r->src, B) && r->fwd.pkts == 1 &&
			    r->rev.pkts == 0, "icmp: unreachable is its own "
			    "one-way conversation");
		} else if (r->dport == 8 << 8) {
			seen_rev++;
			T_OK(addr_eq(r->src, "10.1.1.1") && r->flipped &&
			    r->fwd.pkts == 0 && r->rev.pkts == 1,
			    "icmp: reply first is flipped to the requester");
			T_EQ_STR(r->state, "SHR", "icmp: reply only is SHR");
		}
	}
	T_OK(seen_echo == 1 && seen_unreach == 1 && seen6 == 1 &&
	    seen_rev == 1, "icmp: each conversation seen once");
	ft_free(ft);
	free(c);
}

static void
test_ipv6_vlan_iface(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 0);
	struct pktinfo pi;
	size_t i;
	int v10 = 0, v20 = 0, if1 = 0;

	tcp(ft, "2001:db8::a", 50000, "2001:db8::b", 443, TH_SYN, 0, T0);
	tcp(ft, "2001:db8::b", 443, "2001:db8::a", 50000, SA, 0, T0 + 100);
	tcp(ft, "2001:db8::a", 50000, "2001:db8::b", 443, TH_ACK, 0, T0 + 200);
	ft_flush(ft, END_EOF);
	T_EQ_INT(c->n, 1, "ipv6: one conversation");
	{
		const struct convrec *r = &c->rec[0];

		T_OK(r->family == 6 && addr_eq(r->src, "2001:db8::a") &&
		    addr_eq(r->dst, "2001:db8::b") && r->sport == 50000 &&
		    r->dport == 443, "ipv6: 16-byte addresses, initiator");
		T_EQ_U64(r->fwd.bytes, 2 * 60, "ipv6: fwd bytes (40 + 20)");
		T_EQ_STR(r->state, "S1", "ipv6: S1");
	}

	/* Same 5-tuple on VLAN 10, VLAN 20 and interface 1: three records. */
	c->n = 0;
	pi = pkt(IPPROTO_UDP, A, 1000, B, 2000, 0, 10, T0 + SEC);
	pi.vlan = 10;
	ft_packet(ft, &pi, 0);
	pi.vlan = 20;
	ft_packet(ft, &pi, 0);
	pi.vlan = 10;
	ft_packet(ft, &pi, 1);
	pi = pkt(IPPROTO_UDP, B, 2000, A, 1000, 0, 10, T0 + SEC + 10);
	pi.vlan = 10;
	ft_packet(ft, &pi, 0);
	ft_flush(ft, END_SHUTDOWN);
	T_EQ_INT(c->n, 3, "vlan/iface: separate conversations");
	for (i = 0; i < c->n && i < MAXREC; i++) {
		const struct convrec *r = &c->rec[i];

		T_EQ_INT(r->reason, END_SHUTDOWN, "vlan: flushed as shutdown");
		if (r->vlan == 10 && r->iface == 0) {
			v10++;
			T_OK(r->fwd.pkts == 1 && r->rev.pkts == 1,
			    "vlan 10: both directions");
		} else if (r->vlan == 20)
			v20++;
		else if (r->iface == 1)
			if1++;
	}
	T_OK(v10 == 1 && v20 == 1 && if1 == 1, "vlan/iface: one each");

	/* An IPv6 packet with ::ffff: addresses is not the IPv4 flow. */
	c->n = 0;
	pi = pkt(IPPROTO_UDP, A, 1, B, 2, 0, 0, T0 + 2 * SEC);
	ft_packet(ft, &pi, 0);
	pi.family = 6;
	ft_packet(ft, &pi, 0);
	ft_flush(ft, END_EOF);
	T_EQ_INT(c->n, 2, "family is part of the key");
	ft_free(ft);
	free(c);
}

static void
test_out_of_order(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 0);
	struct ft_stats st;

	udp(ft, A, 1111, B, 2222, 10, T0 + 10 * SEC);
	udp(ft, B, 2222, A, 1111, 10, T0 + 10 * SEC + 100);
	udp(ft, A, 1111, B, 2222, 10, T0 + 10 * SEC - 300000);	/* late */
	udp(ft, A, 1111, B, 2222, 10, T0 + 11 * SEC);
	ft_get_stats(ft, &st);
	T_EQ_U64(st.n_out_of_order, 1, "ooo: counted");
	T_EQ_U64(st.n_packets, 4, "ooo: still metered");
	/* Expiry runs on the clock (11 s), not the late packet's time. */
	ft_expire(ft, T0 + 40 * SEC);
	T_EQ_INT(c->n, 0, "ooo: clock is the maximum");
	ft_expire(ft, T0 + 41 * SEC);
	T_EQ_INT(c->n, 1, "ooo: idle 30 s after the newest packet");
	T_OK(c->n == 1 && c->rec[0].fwd.pkts == 3 &&
	    c->rec[0].fwd.first_us == T0 + 10 * SEC - 300000 &&
	    c->rec[0].fwd.last_us == T0 + 11 * SEC,
	    "ooo: first/last are min/max");
	ft_free(ft);
	free(c);
}

static void
test_flush_eof(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 0, 0);
	struct ft_stats st;
	int i, all = 1;

	for (i = 0; i < 50; i++)
		udp(ft, A, (uint16_t)(10000 + i), B, 53, 30, T0 + (uint64_t)i);
	handshake(ft, T0 + 100);
	ft_flush(ft, END_EOF);
	ft_get_stats(ft, &st);
	T_EQ_INT(c->n, 51, "flush: every live conversation emitted");
	for (i = 0; i < 51 && i < MAXREC; i++)
		all &= c->rec[i].reason == END_EOF && c->rec[i].is_final;
	T_OK(all, "flush: reason eof, final");
	T_EQ_U64(st.n_active, 0, "flush: table empty");
	T_EQ_U64(st.n_end[END_EOF], 51, "flush: counted by reason");
	/* The table is usable after a flush. */
	udp(ft, A, 1, B, 2, 1, T0 + SEC);
	ft_get_stats(ft, &st);
	T_EQ_U64(st.n_active, 1, "flush: table reusable");
	ft_free(ft);
	free(c);
}

static void
test_eviction(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft;
	struct ft_stats st0, st;
	char ip[32];
	int i, evicted_est = 0, eof_est = 0;
	size_t k;

	/* Smallest table: 64 x 8-byte slots and 48 records need >= 4 KiB... */
	ft = table(c, 16 * 1024, 0);
	ft_get_stats(ft, &st0);
	T_OK(st0.capacity >= 64 && st0.capacity < 200, "evict: small table "
	    "(%llu conversations)", (unsigned long long)st0.capacity);
	T_OK(st0.bytes_per_flow <= 128, "evict: %llu bytes per flow",
	    (unsigned long long)st0.bytes_per_flow);

	/* 20 established conversations, then a flood of one-packet flows. */
	for (i = 0; i < 20; i++) {
		tcp(ft, A, (uint16_t)(30000 + i), B, 443, TH_SYN, 0, T0);
		tcp(ft, B, 443, A, (uint16_t)(30000 + i), SA, 0, T0 + 10);
		tcp(ft, A, (uint16_t)(30000 + i), B, 443, TH_ACK, 0, T0 + 20);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "172.16.%d.%d", i / 250, i % 250 + 1);
		udp(ft, ip, 4444, B, 161, 20, T0 + SEC + (uint64_t)i);
	}
	ft_get_stats(ft, &st);
	T_EQ_U64(st.capacity, st0.capacity, "evict: capacity fixed");
	T_EQ_U64(st.n_active, st.capacity, "evict: table full");
	T_EQ_U64(st.n_created, 1020, "evict: all created");
	T_EQ_U64(st.n_evict, 1020 - st.capacity, "evict: evictions counted");
	T_EQ_U64(c->n_by[END_EVICT], st.n_evict, "evict: each emitted");
	T_EQ_U64(c->n + st.n_active, st.n_created, "evict: records + live "
	    "= created");
	for (k = 0; k < c->n && k < MAXREC; k++)
		evicted_est += c->rec[k].dport == 443;
	T_EQ_INT(evicted_est, 0, "evict: established conversations kept");
	ft_flush(ft, END_EOF);
	for (k = 0; k < c->n && k < MAXREC; k++)
		eof_est += c->rec[k].dport == 443 &&
		    c->rec[k].reason == END_EOF;
	T_EQ_INT(eof_est, 20, "evict: the 20 survive to the flush");
	ft_free(ft);
	free(c);
}

static void
test_syn_flood(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 64 * 1024, 0);
	struct ft_stats st;
	struct pktinfo pi;
	uint32_t i;

	for (i = 0; i < 10; i++) {
		tcp(ft, A, (uint16_t)(20000 + i), B, 22, TH_SYN, 0, T0);
		tcp(ft, B, 22, A, (uint16_t)(20000 + i), SA, 0, T0 + 10);
		tcp(ft, A, (uint16_t)(20000 + i), B, 22, PA, 40, T0 + 20);
	}
	/* 1,000,000 spoofed sources in 100 s of packet time. */
	pi = pkt(IPPROTO_TCP, "0.0.0.0", 1, B, 80, TH_SYN, 0, T0);
	for (i = 0; i < 1000000; i++) {
		pi.src[12] = (uint8_t)(11 + (i >> 24));
		pi.src[13] = (uint8_t)(i >> 16);
		pi.src[14] = (uint8_t)(i >> 8);
		pi.src[15] = (uint8_t)i;
		pi.sport = (uint16_t)(1024 + (i & 0x7fff));
		pi.ts_us = T0 + SEC + i * 100;
		ft_packet(ft, &pi, 0);
		/* The established ones keep talking now and then. */
		if (i % 100000 == 99999) {
			uint32_t j;

			for (j = 0; j < 10; j++)
				tcp(ft, B, 22, A, (uint16_t)(20000 + j), PA,
				    40, pi.ts_us);
		}
	}
	ft_get_stats(ft, &st);
	T_EQ_U64(st.n_created, 1000010, "flood: every SYN created a "
	    "conversation");
	T_EQ_U64(c->n_final + st.n_active, st.n_created, "flood: final "
	    "records + live == created");
	T_EQ_U64(c->n, c->n_final, "flood: no interim records");
	T_OK(st.n_evict + c->n_by[END_IDLE] == c->n, "flood: every end is "
	    "an eviction or an embryonic timeout");
	T_OK(st.n_evict > 900000, "flood: %llu evictions",
	    (unsigned long long)st.n_evict);
	ft_flush(ft, END_EOF);
	ft_get_stats(ft, &st);
	T_EQ_U64(c->n_final, st.n_created, "flood: after flush, every "
	    "conversation has exactly one final record");
	T_EQ_U64(c->pkts, st.n_packets, "flood: packets in records == "
	    "packets metered");
	T_EQ_U64(c->bytes, st.n_bytes, "flood: bytes in records == bytes "
	    "metered");
	T_EQ_U64(c->n_by[END_EOF], st.capacity, "flood: table was full at "
	    "the end");
	T_EQ_U64(c->evict22, 0, "flood: established conversations never "
	    "evicted");
	T_EQ_U64(c->eof22, 10, "flood: all ten live until the flush");
	ft_free(ft);
	free(c);
}

static void
test_est_survive_flood(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 64 * 1024, 0);
	struct pktinfo pi;
	uint32_t i, j;
	int est_eof = 0;

	/* Ten established conversations, then 200,000 SYNs in 0.2 s. */
	for (i = 0; i < 10; i++) {
		tcp(ft, A, (uint16_t)(20000 + i), B, 22, TH_SYN, 0, T0);
		tcp(ft, B, 22, A, (uint16_t)(20000 + i), SA, 0, T0 + 10);
	}
	pi = pkt(IPPROTO_TCP, "0.0.0.0", 1, B, 80, TH_SYN, 0, T0);
	for (i = 0; i < 200000; i++) {
		pi.src[12] = 11;
		pi.src[13] = (uint8_t)(i >> 16);
		pi.src[14] = (uint8_t)(i >> 8);
		pi.src[15] = (uint8_t)i;
		pi.ts_us = T0 + 20 + i;		/* 0.2 s of packet time */
		ft_packet(ft, &pi, 0);
	}
	c->n = 0;
	ft_flush(ft, END_EOF);
	for (j = 0; j < c->n && j < MAXREC; j++)
		if (c->rec[j].dport == 22)
			est_eof++;
	T_EQ_INT(est_eof, 10, "flood: established conversations never "
	    "evicted by embryonic ones");
	ft_free(ft);
	free(c);
}

/*
 * Index consistency under churn: 100 UDP flows revisited at random, with
 * ft_expire now and then.  A packet must find its live conversation (no
 * duplicate is created) and must start a new one exactly when the old one
 * had timed out (5 s after a single packet, 30 s otherwise), whichever of
 * the lazy check and ft_expire ended it.
 */
static void
test_churn(void)
{
	struct cap *c = cap_new();
	struct flowtab *ft = table(c, 16 * 1024, 0);
	struct ft_stats st;
	uint64_t last[100], npk[100], t = T0, want = 0;
	uint64_t x = 88172645463325252ULL;
	char ip[32];
	int i, f;

	memset(last, 0, sizeof(last));
	memset(npk, 0, sizeof(npk));
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		f = (int)(x % 100);
		t += (x >> 20) % 600000;		/* 0..0.6 s */
		if (npk[f] == 0 || t - last[f] >=
		    (npk[f] == 1 ? 5 : 30) * SEC) {
			want++;
			npk[f] = 0;
		}
		npk[f]++;
		last[f] = t;
		snprintf(ip, sizeof(ip), "10.7.0.%d", f + 1);
		if (x & (1 << 9))
			udp(ft, ip, 5000, B, 53, 10, t);
		else
			udp(ft, B, 53, ip, 5000, 10, t);
		if (i % 50 == 0)
			ft_expire(ft, t);
	}
	ft_get_stats(ft, &st);
	T_EQ_U64(st.n_created, want, "churn: conversations created exactly "
	    "when due");
	T_EQ_U64(st.n_evict, 0, "churn: no eviction (100 flows, room for 128)");
	T_EQ_U64(c->n + st.n_active, st.n_created, "churn: records + live == "
	    "created");
	T_OK(st.n_active <= 100, "churn: at most one live conversation per "
	    "flow (%llu)", (unsigned long long)st.n_active);
	ft_free(ft);
	free(c);
}

/*
 * ft_packet_batch() must be ft_packet() in a loop: a mixed trace (TCP with
 * random flags, UDP, ICMP, late packets, packets without L3, a table small
 * enough to evict) through both, in batches of random sizes (1-150, so
 * shorter than the pipeline and longer than FT_BATCH), must give the same
 * records in the same order and the same counters.
 */
static void
test_batch_equivalence(void)
{
	static struct pktinfo tr[6000];
	struct cap *c1 = cap_new(), *c2 = cap_new();
	struct flowtab *f1 = table(c1, 16 * 1024, 0);
	struct flowtab *f2 = table(c2, 16 * 1024, 0);
	struct ft_stats s1, s2;
	static const uint8_t fl[] = { TH_SYN, TH_SYN | TH_ACK, TH_ACK,
	    TH_PUSH | TH_ACK, TH_FIN | TH_ACK, TH_RST, TH_RST | TH_ACK };
	uint64_t x = 0x2545f4914f6cdd1dULL, t = T0;
	char ip[32];
	size_t i, n, k, same = 1;

	for (i = 0; i < sizeof(tr) / sizeof(tr[0]); i++) {
		int f, kind;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		f = (int)(x % 300);
		kind = f % 3;
		t += (x >> 24) % 20000;
		snprintf(ip, sizeof(ip), "10.5.%d.%d", f / 200, f % 200 + 1);
		if (kind == 0)
			tr[i] = pkt(IPPROTO_TCP, (x & 1) ? ip : B,
			    (x & 1) ? 40000 : 80, (x & 1) ? B : ip,
			    (x & 1) ? 80 : 40000, fl[(x >> 8) % sizeof(fl)],
			    (uint32_t)(x >> 40) % 100, t);
		else if (kind == 1)
			tr[i] = pkt(IPPROTO_UDP, (x & 1) ? ip : B,
			    (x & 1) ? 5000 : 53, (x & 1) ? B : ip,
			    (x & 1) ? 53 : 5000, 0, 30, t);
		else
			tr[i] = pkt(IPPROTO_ICMP, (x & 1) ? ip : B, 0,
			    (x & 1) ? B : ip, (x & 1) ? 0x0800 : 0, 0, 56, t);
		if ((x >> 50) % 50 == 0)
			tr[i].ts_us -= 300000;		/* late */
		if ((x >> 50) % 97 == 1)
			tr[i].flags = 0;		/* not IP */
	}
	n = sizeof(tr) / sizeof(tr[0]);
	for (i = 0; i < n; i++)
		ft_packet(f1, &tr[i], 0);
	for (i = 0; i < n; i += k) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = 1 + (size_t)(x % 150); /* across FT_BATCH (64) too */
		if (k > n - i)
			k = n - i;
		ft_packet_batch(f2, &tr[i], k, 0);
	}
	ft_flush(f1, END_EOF);
	ft_flush(f2, END_EOF);
	ft_get_stats(f1, &s1);
	ft_get_stats(f2, &s2);
	T_OK(c1->n > 1000 && c1->n == c2->n, "batch: same number of records "
	    "(%zu, %zu)", c1->n, c2->n);
	T_OK(s1.n_evict > 0, "batch: the trace evicts (%llu)",
	    (unsigned long long)s1.n_evict);
	for (i = 0; i < c1->n && i < MAXREC; i++)
		same &= memcmp(&c1->rec[i], &c2->rec[i],
		    sizeof(c1->rec[i])) == 0;
	for (i = 0; i < c1->ns && i < MAXREC; i++)
		same &= memcmp(&c1->start[i], &c2->start[i],
		    sizeof(c1->start[i])) == 0;
	T_OK(same, "batch: identical records and start notices, same order");
	T_OK(memcmp(&s1, &s2, sizeof(s1)) == 0, "batch: identical counters");
	T_OK(s1.n_skipped > 0 && s1.n_out_of_order > 0, "batch: trace has "
	    "non-IP and late packets");
	ft_free(f1);
	ft_free(f2);
	free(c1);
	free(c2);
}

static void
test_determinism(void)
{
	struct cap *c1 = cap_new(), *c2 = cap_new(), *c3 = cap_new();
	struct flowtab *f1 = table(c1, 16 * 1024, 0);
	struct flowtab *f2 = table(c2, 16 * 1024, 0);
	struct ft_config cfg;
	struct ft_sink s3 = { NULL, cap_record, c3 };
	struct flowtab *f3;
	char ip[32];
	int i, same = 1, uniq = 1;
	size_t a, b;

	ft_config_defaults(&cfg);
	cfg.mem_budget = 16 * 1024;
	memcpy(cfg.seed, "another seed....", 16);
	f3 = ft_new(&cfg, &s3);
	for (i = 0; i < 300; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 200, i % 200 + 1);
		udp(f1, ip, 999, B, 53, 1, T0 + (uint64_t)i * 1000);
		udp(f2, ip, 999, B, 53, 1, T0 + (uint64_t)i * 1000);
		udp(f3, ip, 999, B, 53, 1, T0 + (uint64_t)i * 1000);
	}
	ft_flush(f1, END_EOF);
	ft_flush(f2, END_EOF);
	ft_flush(f3, END_EOF);
	T_OK(c1->n == 300 && c2->n == 300 && c3->n == 300, "determinism: "
	    "300 records each");
	for (a = 0; a < c1->n && a < MAXREC; a++)
		same &= c1->rec[a].conv_id == c2->rec[a].conv_id;
	T_OK(same, "determinism: same seed, same conv_ids in the same order");
	T_OK(c1->rec[0].conv_id != c3->rec[0].conv_id, "determinism: other "
	    "seed, other ids");
	for (a = 0; a < c1->n && a < MAXREC; a++)
		for (b = a + 1; b < c1->n && b < MAXREC; b++)
			uniq &= c1->rec[a].conv_id != c1->rec[b].conv_id;
	T_OK(uniq, "conv_id unique across slot reuse");
	ft_free(f1);
	ft_free(f2);
	ft_free(f3);
	free(c1);
	free(c2);
	free(c3);
}

static void
test_api(void)
{
	struct ft_config cfg;
	struct ft_stats st;
	struct flowtab *ft;
	struct pktinfo pi;
	char f[9];

	ft_config_defaults(&cfg);
	T_EQ_INT(cfg.idle_s, 30, "defaults: idle 30");
	T_EQ_INT(cfg.active_s, 1800, "defaults: active 1800");
	T_EQ_INT(cfg.embryonic_s, 5, "defaults: embryonic 5");
	T_EQ_INT(cfg.closing_s, 2, "defaults: closing 2");
	ft = ft_new(&cfg, NULL);
	T_OK(ft != NULL, "ft_new with defaults and no sink");
	ft_get_stats(ft, &st);
	T_OK(st.capacity >= 1000000, "default budget: %llu conversations",
	    (unsigned long long)st.capacity);
	T_OK(st.bytes_per_flow <= 128, "default budget: %llu bytes/flow",
	    (unsigned long long)st.bytes_per_flow);
	printf("# capacity %llu, %llu bytes per flow\n",
	    (unsigned long long)st.capacity,
	    (unsigned long long)st.bytes_per_flow);
	/* No sink: metering still works. */
	pi = pkt(IPPROTO_UDP, A, 1, B, 2, 0, 0, T0);
	ft_packet(ft, &pi, 0);
	pi.flags = 0;
	ft_packet(ft, &pi, 0);
	ft_flush(ft, END_EOF);
	ft_get_stats(ft, &st);
	T_EQ_U64(st.n_records, 1, "no sink: records still counted");
	T_EQ_U64(st.n_skipped, 1, "packet without L3 skipped and counted");
	ft_free(ft);
	ft_free(NULL);

	cfg.mem_budget = 4096;
	errno = 0;
	T_OK(ft_new(&cfg, NULL) == NULL && errno == EINVAL,
	    "budget under 64 conversations: NULL, EINVAL");

	T_EQ_STR(conv_reason_name(END_FIN), "fin", "reason name fin");
	T_EQ_STR(conv_reason_name(END_RST), "rst", "reason name rst");
	T_EQ_STR(conv_reason_name(END_IDLE), "idle", "reason name idle");
	T_EQ_STR(conv_reason_name(END_ACTIVE), "active", "reason name active");
	T_EQ_STR(conv_reason_name(END_EVICT), "evict", "reason name evict");
	T_EQ_STR(conv_reason_name(END_EOF), "eof", "reason name eof");
	T_EQ_STR(conv_reason_name(END_SHUTDOWN), "shutdown", "reason name "
	    "shutdown");
	T_EQ_STR(conv_reason_name((enum end_reason)99), "unknown", "reason "
	    "name out of range");
	conv_flags_str(TH_SYN | TH_ACK, f);
	T_EQ_STR(f, "AS", "flags SYN|ACK");
	conv_flags_str(0xff, f);
	T_EQ_STR(f, "CEUAPRSF", "flags all");
	conv_flags_str(0, f);
	T_EQ_STR(f, "", "flags none");
	conv_flags_str(TH_FIN | TH_PUSH | TH_URG, f);
	T_EQ_STR(f, "UPF", "flags FIN|PSH|URG");
}

int
main(void)
{
	test_api();
	test_pairing_sf();
	test_states();
	test_flip();
	test_expiry();
	test_lazy_and_reopen();
	test_active();
	test_timeouts_config();
	test_icmp();
	test_ipv6_vlan_iface();
	test_out_of_order();
	test_flush_eof();
	test_eviction();
	test_syn_flood();
	test_est_survive_flood();
	test_churn();
	test_batch_equivalence();
	test_determinism();
	return t_done();
}
