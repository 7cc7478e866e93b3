/*
 * test_host.c: per-host baselines and breach detection, fed with synthetic
 * packet and conversation sequences over simulated days of flow time.
 *
 * Every pattern has a case where it must fire and one where it must not.
 * Flow time is simulated: a tick every second right after each feed (so a
 * breach is seen within 1 s), and at every minute boundary in between, as
 * the daemon's 1 Hz tick would (the table only needs the seconds that
 * follow activity and the minute walks to roll calendar periods).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "baseline.h"
#include "hll.h"
#include "host.h"
#include "t.h"

#define US	1000000ULL
#define MIN	(60 * US)
#define HOUR	(3600 * US)
#define DAY	(86400 * US)
#define T0	(1772409600ULL * US)	/* Monday 2026-03-02 00:00 UTC */
#define SEED	0x1234abcdULL

#define LOG_MAX	20000

struct log {
	struct host_event	ev[LOG_MAX];
	int			n;
};

static struct log *LOG;

static void
collect(void *arg, const struct host_event *e)
{
	struct log *l = arg;

	if (l->n < LOG_MAX)
		l->ev[l->n++] = *e;
}

struct sim {
	struct host_table	*ht;
	uint64_t		 now;
	struct log		*log;
	uint64_t		 rng;
};

static uint64_t
rnd(struct sim *s)
{
	/* xorshift64*: deterministic test traffic. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ULL;
}

static double
urand(struct sim *s)
{
	return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static unsigned
rnd_in(struct sim *s, unsigned lo, unsigned hi)
{
	return lo + (unsigned)(rnd(s) % (hi - lo + 1));
}

/*
 * Move flow time to t: ticks at the two second boundaries after the last
 * feed, then one per minute boundary until t.
 */
static void
sim_to(struct sim *s, uint64_t t)
{
	uint64_t next = (s->now / US + 1) * US;
	int k = 0;

	while (next <= t) {
		host_tick(s->ht, next, collect, s->log);
		if (++k < 2)
			next += US;
		else
			next = (next / MIN + 1) * MIN;
	}
	if (t > s->now)
		s->now = t;
}

static void
sim_init(struct sim *s, const struct bl_config *cfg, uint64_t start)
{
	char err[256];

	memset(s, 0, sizeof(*s));
	s->ht = host_new(cfg, err, sizeof(err));
	if (s->ht == NULL) {
		printf("# host_new: %s\n", err);
		exit(1);
	}
	s->now = start;
	s->log = LOG;
	s->log->n = 0;
	s->rng = 88172645463325252ULL;
}

static void
a4(uint8_t a[16], unsigned b0, unsigned b1, unsigned b2, unsigned b3)
{
	memset(a, 0, 10);
	a[10] = a[11] = 0xff;
	a[12] = (uint8_t)b0;
	a[13] = (uint8_t)b1;
	a[14] = (uint8_t)b2;
	a[15] = (uint8_t)b3;
}

static void
a4n(uint8_t a[16], uint32_t n)
{
	a4(a, n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255);
}

static void
pkt(struct sim *s, const uint8_t src[16], const uint8_t dst[16],
    uint8_t proto, uint64_t bytes, uint64_t t)
{
	struct pktinfo pi;

	memset(&pi, 0, sizeof(pi));
	pi.ts_us = t;
	pi.flags = PI_HAS_L3;
	pi.family = 4;
	pi.proto = proto;
	memcpy(pi.src, src, 16);
	memcpy(pi.dst, dst, 16);
	while (bytes > 0) {
		pi.ip_len = bytes > 1000000000 ? 1000000000 : (uint32_t)bytes;
		host_packet(s->ht, &pi, t);
		bytes -= pi.ip_len;
	}
}

/*
 * One whole conversation at time t: its start notice, packets for the
 * bytes each way, and its final record with Zeek state `state`.
 */
static void
conv(struct sim *s, const uint8_t src[16], const uint8_t dst[16],
    uint16_t dport, uint8_t proto, const char *state, uint64_t t,
    uint64_t out, uint64_t in)
{
	static uint64_t id;
	struct convrec cr;

	sim_to(s, t);
	memset(&cr, 0, sizeof(cr));
	cr.conv_id = ++id;
	cr.family = 4;
	cr.proto = proto;
	cr.reason = END_NONE;
	cr.sport = (uint16_t)(32768 + id % 28000);
	cr.dport = dport;
	memcpy(cr.src, src, 16);
	memcpy(cr.dst, dst, 16);
	cr.start_us = cr.end_us = t;
	cr.fwd.pkts = 1;
	cr.fwd.bytes = out < 60 ? 60 : out;
	host_conv_start(s->ht, &cr, t);
	pkt(s, src, dst, proto, out < 60 ? 60 : out, t);
	if (in > 0)
		pkt(s, dst, src, proto, in, t);
	cr.reason = strcmp(state, "SF") == 0 ? END_FIN : END_IDLE;
	cr.is_final = 1;
	cr.rev.bytes = in;
	util_strlcpy(cr.state, state, sizeof(cr.state));
	host_conv_record(s->ht, &cr, t);
}

static int
count_ev(const struct log *l, const uint8_t addr[16], int metric,
    int is_breach)
{
	int i, n = 0;

	for (i = 0; i < l->n; i++)
		if ((addr == NULL || memcmp(l->ev[i].addr, addr, 16) == 0) &&
		    (metric < 0 || l->ev[i].metric == metric) &&
		    (is_breach < 0 || l->ev[i].is_breach == is_breach))
			n++;
	return n;
}

static const struct host_event *
find_ev(const struct log *l, const uint8_t addr[16], int metric,
    int is_breach, uint64_t after)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (memcmp(l->ev[i].addr, addr, 16) == 0 &&
		    (metric < 0 || l->ev[i].metric == metric) &&
		    l->ev[i].is_breach == is_breach && l->ev[i].ts_us >= after)
			return &l->ev[i];
	return NULL;
}

static void
dump_ev(const struct log *l, int max)
{
	int i;

	for (i = 0; i < l->n && i < max; i++) {
		char a[ADDR_STRLEN], tb[40];

		addr_fmt(l->ev[i].addr, a);
		time_fmt_us(l->ev[i].ts_us, tb, sizeof(tb));
		printf("#   %s %s %s %s/%s value %.3f thr %.3f %s %s\n", tb,
		    l->ev[i].is_breach ? "breach" : "normal", a,
		    bl_metric_name(l->ev[i].metric), l->ev[i].window,
		    l->ev[i].value, l->ev[i].threshold,
		    bl_kind_name(l->ev[i].basis),
		    l->ev[i].detail ? l->ev[i].detail : "");
	}
}

static void
cfg_base(struct bl_config *cfg)
{
	bl_config_defaults(cfg);
	cfg->seed = SEED;
	cfg->mem_budget = 4u << 20;
}

/* A config with only the given thresholds (value: limit or k). */
static void
cfg_only(struct bl_config *cfg)
{
	cfg_base(cfg);
	cfg->n_thr = 0;
}

/* ---- ordinary traffic --------------------------------------------------- */

struct item {
	uint64_t	t;
	uint8_t		src[16];
	uint8_t		dst[16];
	uint16_t	dport;
	uint8_t		proto;
	const char	*state;
	uint64_t	out, in;
};

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

#define ITEMS_MAX	20000
static struct item ITEMS[ITEMS_MAX];
static unsigned NITEMS;

/* Queue a conversation; q_run() feeds the queue in time order. */
static struct item *
q_push(const uint8_t src[16], uint64_t t)
{
	struct item *it = &ITEMS[NITEMS < ITEMS_MAX - 1 ? NITEMS++ : NITEMS];

	memset(it, 0, sizeof(*it));
	memcpy(it->src, src, 16);
	it->t = t;
	return it;
}

static void
q_run(struct sim *s)
{
	unsigned i;

	qsort(ITEMS, NITEMS, sizeof(ITEMS[0]), item_cmp);
	for (i = 0; i < NITEMS; i++)
		conv(s, ITEMS[i].src, ITEMS[i].dst, ITEMS[i].dport,
		    ITEMS[i].proto, ITEMS[i].state, ITEMS[i].t, ITEMS[i].out,
		    ITEMS[i].in);
	NITEMS = 0;
}

/*
 * One working day (08:00-18:00 local) of a workstation: web browsing to a
 * pool of 80 servers (5% reset), DNS to the local resolver, a mail client
 * polling IMAP every 5 minutes and sending a few mails, one to three file
 * transfers to the file server, a few pings and a dead host now and then.
 * Volumes vary +-30% from day to day.
 */
/* Queued: run with q_run(). */
static void
normal_day(struct sim *s, const uint8_t host[16], uint64_t day0)
{
	static const uint8_t web_pool = 80;
	double f = 0.7 + 0.6 * urand(s);
	unsigned i, k, n_web = (unsigned)(300 * f);
	unsigned n_dns = (unsigned)(500 * f);
	uint64_t open = day0 + 8 * HOUR, span = 10 * HOUR, t;
	struct item *it;

	for (i = 0; i < n_web; i++) {
		it = q_push(host, open + (uint64_t)(urand(s) * (double)span));
		/* Zipf-like: low server numbers are visited most. */
		k = (unsigned)(web_pool * urand(s) * urand(s));
		a4(it->dst, 198, 51, 100, 1 + k);
		it->dport = urand(s) < 0.9 ? 443 : 80;
		it->proto = 6;
		it->state = urand(s) < 0.05 ? (urand(s) < 0.5 ? "RSTO" :
		    "RSTR") : "SF";
		it->out = rnd_in(s, 2000, 20000);
		it->in = rnd_in(s, 20000, 500000);
	}
	for (i = 0; i < n_dns; i++) {
		it = q_push(host, open + (uint64_t)(urand(s) * (double)span));
		a4(it->dst, 10, 0, 0, 53);
		it->dport = 53;
		it->proto = 17;
		it->state = "SF";
		it->out = rnd_in(s, 60, 90);
		it->in = rnd_in(s, 90, 400);
	}
	for (t = open; t < open + span; t += 5 * MIN) {
		it = q_push(host, t + rnd_in(s, 0, 3000) * 1000);
		a4(it->dst, 192, 0, 2, 25);
		it->dport = 993;
		it->proto = 6;
		it->state = "SF";
		it->out = rnd_in(s, 1100, 1300);
		it->in = rnd_in(s, 2500, 4000);
	}
	for (i = rnd_in(s, 3, 12); i > 0; i--) {
		it = q_push(host, open + (uint64_t)(urand(s) * (double)span));
		a4(it->dst, 192, 0, 2, 25);
		it->dport = 587;
		it->proto = 6;
		it->state = "SF";
		it->out = rnd_in(s, 5000, 2000000);
		it->in = 3000;
	}
	for (i = rnd_in(s, 1, 3); i > 0; i--) {
		int up = urand(s) < 0.5;

		it = q_push(host, open + (uint64_t)(urand(s) * (double)span));
		a4(it->dst, 10, 0, 0, 20);
		it->dport = 445;
		it->proto = 6;
		it->state = "SF";
		it->out = up ? rnd_in(s, 50, 300) * 1000000ULL : 200000;
		it->in = up ? 200000 : rnd_in(s, 100, 500) * 1000000ULL;
	}
	for (i = rnd_in(s, 0, 5); i > 0; i--) {
		it = q_push(host, open + (uint64_t)(urand(s) * (double)span));
		a4(it->dst, 10, 0, 0, 1);
		it->dport = 8 << 8;
		it->proto = 1;
		it->state = "SF";
		it->out = 84;
		it->in = 84;
	}
	for (i = rnd_in(s, 0, 3); i > 0; i--) {
		it = q_push(host, open + (uint64_t)(urand(s) * (double)span));
		a4(it->dst, 198, 51, 100, 200);
		it->dport = 443;
		it->proto = 6;
		it->state = "S0";
		it->out = 60;
		it->in = 0;
	}
}

static void
test_normal_days(void)
{
	struct bl_config cfg;
	struct sim s;
	struct host_info hi;
	uint8_t ws[16];
	int d, n, rc;

	cfg_base(&cfg);
	sim_init(&s, &cfg, T0);
	a4(ws, 10, 0, 0, 100);
	for (d = 0; d < 12; d++) {
		normal_day(&s, ws, T0 + (uint64_t)d * DAY);
		q_run(&s);
	}
	sim_to(&s, T0 + 12 * DAY + HOUR);
	n = count_ev(s.log, ws, -1, 1);
	T_EQ_INT(n, 0, "normal host, 12 days, default config: no breach");
	if (n)
		dump_ev(s.log, 20);
	rc = host_info(s.ht, ws, &hi);
	T_OK(rc == 0 && hi.n_days == 12 && !hi.in_warmup,
	    "12 active days learned (%u), out of warm-up", hi.n_days);
	T_OK(hi.n_known_beacons >= 1,
	    "the 5-minute IMAP poll was learned as a beacon (%u known)",
	    hi.n_known_beacons);
	{
		double thr = 0;

		rc = host_threshold(s.ht, ws, BL_M_DST_IPS, BL_WIN_DAY,
		    BL_LEARNED, &thr);
		T_OK(rc == 1 && thr >= 200, "learned dst_ips/day threshold "
		    "active, %.0f (floor 200)", thr);
	}
	host_free(s.ht);
}

/* ---- port scan and sweep ------------------------------------------------ */

static void
test_portscan(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t scanner[16], target[16], ws[16], key[3];
	uint8_t replica[HLL4_BYTES];
	const struct host_event *e;
	uint64_t t, t_cross = 0;
	unsigned p, true_at_cross = 0;

	cfg_base(&cfg);
	sim_init(&s, &cfg, T0 + 9 * HOUR);
	a4(scanner, 10, 0, 0, 5);
	a4(target, 192, 0, 2, 10);
	a4(ws, 10, 0, 0, 6);
	memset(replica, 0, sizeof(replica));
	/* 3000 ports on one target in 60 s, most closed (REJ). */
	for (p = 1, t = T0 + 9 * HOUR; p <= 3000; p++, t += 20000) {
		conv(&s, scanner, target, (uint16_t)p, 6,
		    p % 50 == 0 ? "SF" : "REJ", t, 60, 40);
		/*
		 * The same sketch the window keeps (public hll4 API, same
		 * seed and key): when does its estimate reach 500?
		 */
		key[0] = 6;
		key[1] = (uint8_t)(p >> 8);
		key[2] = (uint8_t)p;
		hll4_add_hash(replica, hll_hash(SEED, key, 3));
		if (t_cross == 0 && floor(hll4_count(replica) + 0.5) >= 500) {
			t_cross = t;
			true_at_cross = p;
		}
		/* Meanwhile a browsing workstation: 443 to 40 servers. */
		if (p % 30 == 0) {
			uint8_t d[16];

			a4(d, 198, 51, 100, 1 + p / 30 % 40);
			conv(&s, ws, d, 443, 6, "SF", t, 3000, 90000);
		}
	}
	sim_to(&s, t + 20 * MIN);
	e = find_ev(s.log, scanner, BL_M_DST_PORTS, 1, 0);
	T_OK(e != NULL, "port scan: dst_ports breach");
	if (e != NULL) {
		T_OK(e->basis == BL_ABSOLUTE && e->window_s == 600 &&
		    e->threshold == 500 && e->value >= 500,
		    "port scan: absolute 500 in 10m, value %.0f", e->value);
		T_OK(e->ts_us >= t_cross && e->ts_us <= t_cross + US,
		    "port scan: breach %.3f s after the crossing feed "
		    "(true distinct ports then: %u)",
		    (double)(e->ts_us - t_cross) / 1e6, true_at_cross);
		T_OK(true_at_cross > 500 * 0.6 && true_at_cross < 500 * 1.4,
		    "port scan: crossed at %u true ports (500 +- 3 sigma)",
		    true_at_cross);
	}
	T_EQ_INT(count_ev(s.log, scanner, BL_M_DST_PORTS, 1), 1,
	    "port scan: one breach event (hysteresis)");
	T_EQ_INT(count_ev(s.log, scanner, BL_M_DST_PORTS, 0), 1,
	    "port scan: one normal event once the window slid past");
	T_EQ_INT(count_ev(s.log, scanner, BL_M_DST_IPS, 1), 0,
	    "port scan: one target, no dst_ips breach");
	T_EQ_INT(count_ev(s.log, ws, -1, 1), 0,
	    "browsing workstation next to it: no breach");
	host_free(s.ht);
}

static void
test_sweep(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t sweeper[16], d[16], ws[16];
	const struct host_event *e;
	uint64_t t;
	unsigned i;

	cfg_base(&cfg);
	sim_init(&s, &cfg, T0 + 10 * HOUR);
	a4(sweeper, 10, 0, 0, 7);
	a4(ws, 10, 0, 0, 8);
	/* 3000 targets on 445 in 5 minutes: a few answer with RST. */
	for (i = 0, t = T0 + 10 * HOUR; i < 3000; i++, t += 100000) {
		a4n(d, 0xc6330000u + i);	/* 198.51.0.0/16 */
		conv(&s, sweeper, d, 445, 6, i % 7 == 0 ? "REJ" : "S0", t, 60,
		    i % 7 == 0 ? 40 : 0);
	}
	/* A busy but ordinary host: 200 peers in 10 min on 443. */
	for (i = 0, t = T0 + 11 * HOUR; i < 200; i++, t += 3 * US) {
		a4n(d, 0xcb007100u + i);	/* 203.0.113.0/24 */
		conv(&s, ws, d, 443, 6, "SF", t, 2000, 50000);
	}
	sim_to(&s, t + 30 * MIN);
	e = find_ev(s.log, sweeper, BL_M_DST_IPS, 1, 0);
	T_OK(e != NULL && e->value >= 250 && e->window_s == 600,
	    "IP sweep: dst_ips breach (value %.0f)", e ? e->value : 0);
	T_OK(find_ev(s.log, sweeper, BL_M_HALF_OPEN, 1, 0) != NULL,
	    "IP sweep: unanswered SYNs also breach half_open/1m");
	T_EQ_INT(count_ev(s.log, sweeper, BL_M_DST_PORTS, 1), 0,
	    "IP sweep: one port, no dst_ports breach");
	T_EQ_INT(count_ev(s.log, ws, -1, 1), 0,
	    "200 web peers in 10 minutes: no breach");
	host_free(s.ht);
}

/* ---- SYN flood and latency ---------------------------------------------- */

static void
test_synflood(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t fl[16], victim[16], slow[16], dead[16];
	const struct host_event *e, *n;
	uint64_t t, t_cross = 0;
	unsigned i;

	cfg_base(&cfg);
	sim_init(&s, &cfg, T0 + 12 * HOUR);
	a4(fl, 10, 0, 0, 9);
	a4(victim, 203, 0, 113, 80);
	a4(slow, 10, 0, 0, 10);
	a4(dead, 198, 51, 100, 99);
	/* 1000 S0 records (the flow engine's 5 s embryonic expiry). */
	for (i = 1, t = T0 + 12 * HOUR; i <= 1000; i++, t += 37000) {
		conv(&s, fl, victim, 80, 6, "S0", t, 60, 0);
		if (i == 200)
			t_cross = t;
	}
	/* A host retrying a dead server: 50 S0 a minute for 10 min. */
	for (i = 0; i < 500; i++)
		conv(&s, slow, dead, 443, 6, "S0", t + i * 1200000ULL, 60, 0);
	sim_to(&s, t + 30 * MIN);
	e = find_ev(s.log, fl, BL_M_HALF_OPEN, 1, 0);
	T_OK(e != NULL, "SYN flood: half_open breach");
	if (e != NULL) {
		T_OK(e->ts_us >= t_cross && e->ts_us - t_cross <= US,
		    "SYN flood: breach %.3f s after the 200th S0 (<= 1 s)",
		    (double)(e->ts_us - t_cross) / 1e6);
		T_OK(e->value >= 200 && e->value <= 230 && e->window_s == 60,
		    "SYN flood: value %.0f over threshold 200/1m", e->value);
	}
	n = find_ev(s.log, fl, BL_M_HALF_OPEN, 0, 0);
	T_OK(n != NULL && e != NULL && n->ts_us > e->ts_us &&
	    n->value < 0.8 * 200, "SYN flood: normal once under 80%% "
	    "(value %.0f)", n ? n->value : -1);
	T_EQ_INT(count_ev(s.log, fl, BL_M_HALF_OPEN, 1), 1,
	    "SYN flood: reported once");
	T_EQ_INT(count_ev(s.log, slow, -1, 1), 0,
	    "50 unanswered SYNs a minute: no breach");
	host_free(s.ht);
}

/* Latency on an exact counter: bytes_out over 10 s crossing 1 MB. */
static void
test_latency(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t h[16], d[16];
	const struct host_event *e;
	uint64_t t, t_cross = 0, sum = 0;
	int i, worst_ok = 1;

	cfg_only(&cfg);
	cfg.windows_s[0] = 10;
	cfg.n_windows = 1;
	bl_config_add(&cfg, BL_M_BYTES_OUT, 10, BL_ABSOLUTE, 1000000, 0);
	sim_init(&s, &cfg, T0 + 13 * HOUR);
	a4(h, 10, 0, 0, 11);
	a4(d, 192, 0, 2, 11);
	for (i = 0, t = T0 + 13 * HOUR + 123456; i < 100; i++) {
		sim_to(&s, t);
		pkt(&s, h, d, 17, 30000, t);
		sum += 30000;
		if (t_cross == 0 && sum >= 1000000)
			t_cross = t;
		t += 250000 + (uint64_t)i * 777;
	}
	sim_to(&s, t + MIN);
	e = find_ev(s.log, h, BL_M_BYTES_OUT, 1, 0);
	worst_ok = e != NULL && e->ts_us >= t_cross &&
	    e->ts_us - t_cross <= US;
	T_OK(worst_ok, "bytes_out/10s: breach %.3f s after the packet that "
	    "crossed 1 MB", e ? (double)(e->ts_us - t_cross) / 1e6 : -1.0);
	host_free(s.ht);
}

/* ---- RST storm (learned share) ------------------------------------------ */

static void
test_rststorm(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t h[16], quiet[16], few[16], d[16];
	const struct host_event *e;
	uint64_t t, t_storm;
	int day, i;
	double thr = 0;

	cfg_base(&cfg);
	sim_init(&s, &cfg, T0);
	a4(h, 10, 0, 0, 12);
	a4(quiet, 10, 0, 0, 13);
	a4(few, 10, 0, 0, 23);
	/* 10 days: 2400 conversations 09-17 h, 4% reset. */
	for (day = 0; day < 11; day++) {
		for (i = 0, t = T0 + (uint64_t)day * DAY + 9 * HOUR; i < 2400;
		    i++, t += 12 * US) {
			int storm = day == 10 && i >= 1200;

			a4(d, 198, 51, 100, 1 + (unsigned)i % 50);
			conv(&s, h, d, 443, 6, storm ? (i % 10 ? "RSTO" : "SF")
			    : (rnd(&s) % 25 == 0 ? "RSTO" : "SF"), t, 3000,
			    40000);
			conv(&s, quiet, d, 443, 6, rnd(&s) % 25 == 0 ? "RSTR" :
			    "SF", t + 5 * US, 3000, 40000);
			/* Few conversations: 10 on day 10, all reset. */
			if (day < 10 || i < 10)
				conv(&s, few, d, 443, 6, day == 10 ? "RSTO" :
				    "SF", t + 7 * US, 3000, 40000);
		}
		if (day == 9) {
			int rc = host_threshold(s.ht, h, BL_M_REJECTED_SHARE,
			    600, BL_LEARNED, &thr);

			T_OK(rc == 1, "rejected_share/10m learned after "
			    "warm-up: %.2f", thr);
		}
	}
	t_storm = T0 + 10 * DAY + 9 * HOUR + 1200 * 12 * US;
	sim_to(&s, T0 + 11 * DAY);
	e = find_ev(s.log, h, BL_M_REJECTED_SHARE, 1, t_storm);
	T_OK(e != NULL && e->basis == BL_LEARNED && e->value >= 0.5 &&
	    e->value >= e->threshold,
	    "RST storm: rejected_share breach on the learned threshold "
	    "(value %.2f, threshold %.2f)", e ? e->value : 0,
	    e ? e->threshold : 0);
	T_OK(e != NULL && e->ts_us - t_storm < 10 * MIN,
	    "RST storm: within %.0f s of the storm",
	    e ? (double)(e->ts_us - t_storm) / 1e6 : -1.0);
	T_EQ_INT(count_ev(s.log, h, -1, 1) - (e != NULL), 0,
	    "RST storm host: nothing else breached");
	T_EQ_INT(count_ev(s.log, quiet, -1, 1), 0,
	    "host with its usual 4% resets: no breach");
	T_EQ_INT(count_ev(s.log, few, -1, 1), 0,
	    "10 conversations all reset: under the 20 a share needs");
	host_free(s.ht);
}

/* ---- new protocols (learned monthly set) ------------------------------ */

static void
test_protocols(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t h[16], same[16], d[16], gw[16];
	const struct host_event *e;
	uint64_t start = T0 - 10 * DAY, t;	/* 2026-02-20, crosses March */
	int day;

	cfg_base(&cfg);
	sim_init(&s, &cfg, start);
	a4(h, 10, 0, 0, 14);
	a4(same, 10, 0, 0, 15);
	a4(d, 198, 51, 100, 7);
	a4(gw, 203, 0, 113, 1);
	for (day = 0; day < 13; day++) {
		t = start + (uint64_t)day * DAY + 10 * HOUR;
		conv(&s, h, d, 443, 6, "SF", t, 3000, 30000);
		conv(&s, h, d, 53, 17, "SF", t + MIN, 80, 200);
		conv(&s, h, d, 8 << 8, 1, "SF", t + 2 * MIN, 84, 84);
		conv(&s, same, d, 443, 6, "SF", t, 3000, 30000);
		conv(&s, same, d, 53, 17, "SF", t + MIN, 80, 200);
		conv(&s, same, d, 8 << 8, 1, "SF", t + 2 * MIN, 84, 84);
		if (day == 12) {
			/* A tunnel appears: GRE and ESP. */
			conv(&s, h, gw, 0, 47, "OTH", t + HOUR, 5000, 5000);
			conv(&s, h, gw, 0, 50, "OTH", t + HOUR + MIN, 5000,
			    5000);
		}
	}
	sim_to(&s, start + 13 * DAY + HOUR);
	e = find_ev(s.log, h, BL_M_PROTOCOLS, 1, 0);
	T_OK(e != NULL && e->basis == BL_LEARNED && e->new_proto == 47 &&
	    e->value >= 1, "new protocol GRE after warm-up: breach "
	    "(new_proto %d, value %.0f)", e ? e->new_proto : -1,
	    e ? e->value : 0);
	T_OK(e != NULL && e->ts_us < start + 12 * DAY + 12 * HOUR,
	    "... reported at once");
	T_EQ_INT(count_ev(s.log, h, BL_M_PROTOCOLS, 1), 1,
	    "one breach for the month (hysteresis)");
	T_EQ_INT(count_ev(s.log, same, -1, 1), 0,
	    "TCP/UDP/ICMP as every day, across the month boundary: no breach");
	host_free(s.ht);
}

/* ---- beacons ---------------------------------------------------------- */

static void
beacon_obs(struct sim *s, const uint8_t h[16], const uint8_t peer[16],
    uint16_t port, uint64_t t, unsigned size)
{
	conv(s, h, peer, port, 6, "SF", t, size, 400);
}

static void
test_beacon(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t h[16], known[16], fresh[16], ws[16], web[16];
	const struct host_event *e;
	struct host_info hi;
	uint64_t t, end = T0 + 10 * DAY, t_new = T0 + 9 * DAY + 2 * HOUR;
	uint64_t next_known = T0, next_new = t_new, next_ws = T0;

	cfg_base(&cfg);
	sim_init(&s, &cfg, T0);
	a4(h, 10, 0, 0, 16);
	a4(ws, 10, 0, 0, 17);
	a4(known, 203, 0, 113, 60);
	a4(fresh, 203, 0, 113, 50);
	/*
	 * A VPN keepalive every 10 minutes (+-5 s) for 10 days; from day 9
	 * a new implant calls home every 10 minutes (+-30 s); a second host
	 * browses at random (exponential gaps) to one server.
	 */
	for (;;) {
		t = next_known < next_new ? next_known : next_new;
		if (next_ws < t)
			t = next_ws;
		if (t >= end)
			break;
		if (t == next_known) {
			beacon_obs(&s, h, known, 1194, t, 180);
			next_known = t + 10 * MIN - 5 * US +
			    rnd(&s) % (10 * US);
		} else if (t == next_new) {
			beacon_obs(&s, h, fresh, 443, t, 700 +
			    (unsigned)(rnd(&s) % 40));
			next_new = t + 10 * MIN - 30 * US +
			    rnd(&s) % (60 * US);
		} else {
			a4(web, 198, 51, 100, 30);
			conv(&s, ws, web, 443, 6, "SF", t,
			    1000 + rnd(&s) % 9000, 50000);
			next_ws = t + (uint64_t)(-log(1 - urand(&s)) *
			    600.0 * 1e6) + US;
		}
	}
	sim_to(&s, end);
	e = find_ev(s.log, h, BL_M_BEACON, 1, 0);
	T_OK(e != NULL && e->has_peer && memcmp(e->peer, fresh, 16) == 0 &&
	    e->dport == 443, "new 10-minute beacon: breach naming the peer");
	if (e != NULL) {
		T_OK(e->value >= 70 && fabs(e->period_s - 600) < 30 &&
		    e->detail != NULL && strcmp(e->detail, "new") == 0,
		    "... score %.1f, period %.0f s, detail %s", e->value,
		    e->period_s, e->detail ? e->detail : "-");
		T_OK(e->ts_us > t_new && e->ts_us < t_new + 8 * HOUR,
		    "... after %.1f h of calls",
		    (double)(e->ts_us - t_new) / 3.6e9);
	}
	T_EQ_INT(count_ev(s.log, h, BL_M_BEACON, 1), 1,
	    "the long-known keepalive never breaches; the new one once");
	T_EQ_INT(count_ev(s.log, ws, -1, 1), 0,
	    "random browsing to one server: not a beacon");
	memset(&hi, 0, sizeof(hi));
	host_info(s.ht, h, &hi);
	T_OK(hi.n_known_beacons == 1 && hi.n_alerted_beacons == 1,
	    "keepalive learned (%u known), "
	    "implant alerted (%u)", hi.n_known_beacons, hi.n_alerted_beacons);

	/* The keepalive changes its period to 2 minutes: breach. */
	{
		uint64_t t2 = end + HOUR;
		int i;

		sim_to(&s, t2);
		for (i = 0; i < 80; i++, t2 += 2 * MIN + rnd(&s) % US)
			beacon_obs(&s, h, known, 1194, t2, 180);
		sim_to(&s, t2 + MIN);
		e = find_ev(s.log, h, BL_M_BEACON, 1, end + HOUR);
		T_OK(e != NULL && e->detail != NULL &&
		    strcmp(e->detail, "period-changed") == 0 &&
		    fabs(e->known_period_s - 600) < 30 &&
		    fabs(e->period_s - 120) < 10,
		    "known pair, period 600 s -> 120 s: period-changed breach");
		/* The implant stops: normal after three silent periods. */
		e = find_ev(s.log, h, BL_M_BEACON, 0, end);
		T_OK(e != NULL && memcmp(e->peer, fresh, 16) == 0 &&
		    e->detail != NULL && strcmp(e->detail, "stopped") == 0,
		    "silent implant: normal (%s)",
		    e && e->detail ? e->detail : "-");
	}
	host_free(s.ht);
}

/*
 * A beacon among churn: 150 one-off peers an hour fill the 32 pair slots;
 * the admission filter (seen in this or the last hour) keeps them from
 * flushing the beacon before its second call.
 */
static void
test_beacon_churn(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t h[16], c2[16];
	const struct host_event *e;
	struct host_stats st;
	uint64_t day, t, t_b;
	uint32_t peer = 0;
	int d;

	cfg_base(&cfg);
	cfg.warmup_days = 2;
	sim_init(&s, &cfg, T0);
	a4(h, 10, 0, 0, 24);
	a4(c2, 203, 0, 113, 99);
	for (d = 0; d < 3; d++) {
		day = T0 + (uint64_t)d * DAY;
		for (t = day + 8 * HOUR; t < day + 18 * HOUR; t += 24 * US) {
			struct item *it = q_push(h, t);

			a4n(it->dst, 0xcb000000u + peer++);	/* 203.0.x.x */
			it->dport = 443;
			it->proto = 6;
			it->state = "SF";
			it->out = 800 + rnd(&s) % 5000;
			it->in = 20000;
		}
		if (d == 2)
			for (t_b = day + 8 * HOUR; t_b < day + 20 * HOUR;
			    t_b += 10 * MIN - 20 * US + rnd(&s) % (40 * US)) {
				struct item *it = q_push(h, t_b);

				memcpy(it->dst, c2, 16);
				it->dport = 8443;
				it->proto = 6;
				it->state = "SF";
				it->out = 300;
				it->in = 300;
			}
		q_run(&s);
	}
	sim_to(&s, T0 + 3 * DAY);
	e = find_ev(s.log, h, BL_M_BEACON, 1, 0);
	host_get_stats(s.ht, &st);
	printf("# churn: %u one-off peers, %llu pair slots replaced, %llu "
	    "not admitted\n", peer, (unsigned long long)st.n_beacon_evicted,
	    (unsigned long long)st.n_beacon_dropped);
	T_OK(e != NULL && memcmp(e->peer, c2, 16) == 0 &&
	    e->ts_us < T0 + 2 * DAY + 16 * HOUR,
	    "beacon found among 150 new peers an hour");
	T_EQ_INT(count_ev(s.log, h, BL_M_BEACON, 1), 1,
	    "... and the churn itself is no beacon");
	host_free(s.ht);
}

/* ---- night upload ------------------------------------------------------ */

static void
test_night(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t ws[16], bk[16], day_up[16], srv[16];
	const struct host_event *e;
	uint64_t local0, t;
	int d;

	cfg_base(&cfg);
	cfg.utc_offset_s = 3600;	/* local = UTC + 1 h */
	sim_init(&s, &cfg, T0);
	a4(ws, 10, 0, 0, 18);	/* workstation, quiet at night */
	a4(bk, 10, 0, 0, 19);	/* backs up 500 MB at 02:00 nightly */
	a4(day_up, 10, 0, 0, 20);	/* uploads 500 MB at 14:00 */
	a4(srv, 198, 51, 100, 77);
	local0 = T0 - HOUR;	/* local midnight of 2026-03-02 in UTC */
	for (d = 0; d < 10; d++) {
		uint64_t base = local0 + (uint64_t)d * DAY;

		conv(&s, bk, srv, 22, 6, "SF", base + 2 * HOUR + 5 * MIN,
		    500000000, 2000000);
		for (t = base + 9 * HOUR; t < base + 17 * HOUR; t += 20 * MIN) {
			conv(&s, ws, srv, 443, 6, "SF", t, 20000, 300000);
			conv(&s, bk, srv, 443, 6, "SF", t, 20000, 300000);
			conv(&s, day_up, srv, 443, 6, "SF", t, 20000, 300000);
		}
		conv(&s, day_up, srv, 22, 6, "SF", base + 14 * HOUR,
		    500000000, 2000000);
	}
	/* Day 10, 03:10 local: the workstation sends 500 MB. */
	t = local0 + 10 * DAY + 3 * HOUR + 10 * MIN;
	conv(&s, ws, srv, 22, 6, "SF", t, 500000000, 2000000);
	conv(&s, bk, srv, 22, 6, "SF", local0 + 10 * DAY + 2 * HOUR + 5 * MIN,
	    1, 1);
	sim_to(&s, local0 + 11 * DAY);
	e = find_ev(s.log, ws, BL_M_NIGHT_BYTES_OUT, 1, 0);
	T_OK(e != NULL && e->ts_us >= t && e->ts_us <= t + US &&
	    e->window_s == 3600 && e->value >= 5e8,
	    "500 MB at 03:10 local from a quiet workstation: breach");
	T_OK(e != NULL && e->threshold >= 5e7 && e->threshold < 5e8,
	    "... over threshold %.0f (floor night_upload_min 50 MB)",
	    e ? e->threshold : 0);
	T_EQ_INT(count_ev(s.log, ws, -1, 1), 1, "... and nothing else");
	T_EQ_INT(count_ev(s.log, day_up, -1, 1), 0,
	    "500 MB every day at 14:00 (not a quiet hour): no breach");
	/* The nightly backup breaches only during warm-up (absolute). */
	e = find_ev(s.log, bk, BL_M_NIGHT_BYTES_OUT, 1, local0 + 7 * DAY);
	T_OK(e == NULL, "nightly 02:00 backup learned: no breach after "
	    "warm-up");
	T_OK(count_ev(s.log, bk, BL_M_NIGHT_BYTES_OUT, 1) >= 1,
	    "... (before warm-up only the absolute floor applied: %d)",
	    count_ev(s.log, bk, BL_M_NIGHT_BYTES_OUT, 1));
	host_free(s.ht);
}

/* ---- learning: server vs workstation ------------------------------------ */

/* Queue n conversations over a day, to ports drawn from a pool. */
static void
ports_day(struct sim *s, const uint8_t h[16], uint64_t day0, unsigned pool,
    unsigned n, int distinct)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		uint64_t t = day0 + 60 * US + (uint64_t)i * (86000 * US / n);
		unsigned port = 1024 + (distinct ? i :
		    (unsigned)(rnd(s) % pool));
		struct item *it = q_push(h, t);

		a4(it->dst, 198, 51, 100, 5);
		it->dport = (uint16_t)port;
		it->proto = 6;
		it->state = "SF";
		it->out = it->in = 500;
	}
}

static void
test_learning(void)
{
	struct bl_config cfg;
	struct sim s;
	uint8_t srv[16], ws[16];
	const struct host_event *e;
	double thr_s = 0, thr_w = 0;
	int d;

	cfg_only(&cfg);
	bl_config_add(&cfg, BL_M_DST_PORTS, BL_WIN_DAY, BL_LEARNED, 5, 0);
	sim_init(&s, &cfg, T0);
	a4(srv, 10, 0, 0, 21);
	a4(ws, 10, 0, 0, 22);
	for (d = 0; d < 14; d++) {
		/* 2800..3200 distinct ports a day. */
		ports_day(&s, srv, T0 + (uint64_t)d * DAY, 0,
		    2800 + (unsigned)(rnd(&s) % 400), 1);
		/* ~40 distinct ports a day (300 draws from 40). */
		ports_day(&s, ws, T0 + (uint64_t)d * DAY, 40, 300, 0);
		q_run(&s);
	}
	host_threshold(s.ht, srv, BL_M_DST_PORTS, BL_WIN_DAY, BL_LEARNED,
	    &thr_s);
	host_threshold(s.ht, ws, BL_M_DST_PORTS, BL_WIN_DAY, BL_LEARNED,
	    &thr_w);
	printf("# learned dst_ports/day: server %.0f, workstation %.0f\n",
	    thr_s, thr_w);
	T_OK(thr_s > 3000 && thr_w >= 200 && thr_w < 1000,
	    "thresholds follow each host: server %.0f, workstation %.0f",
	    thr_s, thr_w);
	/* Day 15: both touch 3000 ports. */
	ports_day(&s, srv, T0 + 14 * DAY, 0, 3000, 1);
	ports_day(&s, ws, T0 + 14 * DAY, 0, 3000, 1);
	q_run(&s);
	sim_to(&s, T0 + 15 * DAY + HOUR);
	T_EQ_INT(count_ev(s.log, srv, -1, 1), 0,
	    "busy server at its usual 3000 ports a day: no breach");
	e = find_ev(s.log, ws, BL_M_DST_PORTS, 1, 0);
	T_OK(e != NULL && e->basis == BL_LEARNED &&
	    e->ts_us > T0 + 14 * DAY && e->ts_us < T0 + 14 * DAY + 3 * HOUR,
	    "workstation (40 a day) at 3000: learned breach at %.0f ports",
	    e ? e->value : 0);
	T_EQ_INT(count_ev(s.log, ws, BL_M_DST_PORTS, 1), 1,
	    "... once for the day");
	e = find_ev(s.log, ws, BL_M_DST_PORTS, 0, 0);
	T_OK(e != NULL && e->ts_us >= T0 + 15 * DAY &&
	    e->ts_us <= T0 + 15 * DAY + MIN,
	    "... normal at the next day (within a minute of midnight)");
	T_EQ_INT(count_ev(s.log, NULL, -1, 1), 1,
	    "no breach in the 14 learning days");
	host_free(s.ht);
}

/* One packet from each of 10.1.0.from .. 10.1.0.to, host i at t + i us. */
static void
send_from(struct sim *s, const uint8_t out[16], unsigned from, unsigned to,
    uint64_t t)
{
	uint8_t	 b[16];
	unsigned i;

	for (i = from; i <= to; i++) {
		a4(b, 10, 1, 0, i);
		pkt(s, b, out, 6, 100, t + i);
	}
}

/* How many of 10.1.0.from .. 10.1.0.to have a record. */
static int
n_present(struct host_table *ht, unsigned from, unsigned to)
{
	struct host_info hi;
	uint8_t		 b[16];
	unsigned	 i;
	int		 n = 0;

	for (i = from; i <= to; i++) {
		a4(b, 10, 1, 0, i);
		n += host_info(ht, b, &hi) == 0;
	}
	return n;
}

/* ---- table mechanics --------------------------------------------------- */

static void
test_table(void)
{
	struct bl_config cfg;
	struct host_stats st;
	struct host_info hi;
	struct sim s;
	struct host_table *ht0;
	uint8_t a[16], out[16];
	char err[200];
	unsigned i, k;
	size_t per;
	uint64_t t1, t2;

	cfg_base(&cfg);
	per = host_record_bytes(&cfg);
	printf("# host record: %zu bytes with 2 windows and 32 beacon pairs "
	    "(index included)\n", per);
	T_EQ_U64(per, 16072, "a host costs 16064 + 8 bytes, as the layout "
	    "comment in host.c says");
	cfg.beacon_pairs = 8;
	printf("# ... %zu bytes with 8 beacon pairs\n",
	    host_record_bytes(&cfg));
	cfg.beacon_pairs = 32;
	cfg.mem_budget = 1000;
	err[0] = '\0';
	ht0 = host_new(&cfg, err, sizeof(err));
	T_OK(ht0 == NULL && errno == EINVAL && strstr(err, "budget") != NULL,
	    "tiny budget refused: %s", err);
	cfg.mem_budget = 20 * per;
	sim_init(&s, &cfg, T0);
	host_get_stats(s.ht, &st);
	T_EQ_U64(st.capacity, 20, "capacity from the budget");
	a4(out, 8, 8, 8, 8);
	/* An outside address never gets a record, even as a sender. */
	pkt(&s, out, out, 6, 100, T0);
	/* Receivers are not created. */
	a4(a, 10, 9, 9, 9);
	pkt(&s, out, a, 6, 100, T0);
	host_get_stats(s.ht, &st);
	T_EQ_U64(st.n_hosts, 0, "outside senders and silent receivers: "
	    "no records");
	/*
	 * Host 0 breaches (SYN flood); 19 hosts fill the table; 21 more
	 * arrive while all are recent: refused, nothing evicted.
	 */
	a4(a, 10, 1, 0, 0);
	for (i = 0; i < 250; i++)
		conv(&s, a, out, 80, 6, "S0", T0 + MIN + i * 1000, 60, 0);
	sim_to(&s, T0 + MIN + 2 * US);
	T_OK(host_info(s.ht, a, &hi) == 0 && hi.breach_mask != 0,
	    "host 10.1.0.0 in breach");
	t1 = T0 + MIN + 3 * US;
	send_from(&s, out, 1, 40, t1);
	host_get_stats(s.ht, &st);
	T_EQ_U64(st.n_hosts, 20, "table full at 20");
	T_EQ_U64(st.n_evicted, 0, "no recently seen host evicted");
	T_EQ_U64(st.n_refusals, 21, "the 21 newcomers refused");
	T_EQ_U64(st.n_refused, 21, "21 distinct hosts refused");
	{
		int present = n_present(s.ht, 1, 40);

		T_OK(present == 19 && n_present(s.ht, 19, 19) == 1,
		    "the 19 first hosts kept (%d)", present);
	}
	/*
	 * Hosts 1..10 stay active; once the others have been silent for
	 * HOST_EVICT_IDLE_S, newcomers take their records, least recently
	 * seen first, never the host in breach (older than all) nor an
	 * active one: 9 idle hosts (11..19) to give, 12 newcomers.
	 */
	t2 = t1 + (uint64_t)HOST_EVICT_IDLE_S * US - US / 2;
	send_from(&s, out, 1, 10, t2);
	t2 = t1 + (uint64_t)HOST_EVICT_IDLE_S * US + US;
	send_from(&s, out, 41, 52, t2);
	host_get_stats(s.ht, &st);
	T_EQ_U64(st.n_evicted, 9, "the 9 idle hosts evicted");
	T_EQ_U64(st.n_evicted_breach, 0, "none in breach");
	T_EQ_U64(st.n_refusals, 21 + 3, "3 more newcomers refused");
	T_EQ_U64(st.n_refused, 21 + 3, "24 distinct hosts refused");
	T_OK(host_info(s.ht, a, &hi) == 0,
	    "the host in breach was not evicted (older than all)");
	{
		int act = n_present(s.ht, 1, 10), idle = n_present(s.ht, 11, 19);
		int fresh = n_present(s.ht, 41, 52);

		T_OK(act == 10 && idle == 0 && fresh == 9,
		    "active hosts kept (%d of 10), idle ones gone (%d left), "
		    "the first 9 newcomers in (%d)", act, idle, fresh);
	}
	host_free(s.ht);

	/*
	 * Eight idle hosts in breach at the LRU tail: the walk gives up and
	 * the oldest goes, so hosts stuck in breach cannot lock the table.
	 */
	sim_init(&s, &cfg, T0);
	for (k = 0; k < 8; k++) {
		a4(a, 10, 2, 0, k);
		for (i = 0; i < 250; i++)
			conv(&s, a, out, 80, 6, "S0",
			    T0 + MIN + k * (US / 10) + i * 100, 60, 0);
	}
	sim_to(&s, T0 + MIN + 2 * US);
	for (k = 0, i = 0; k < 8; k++) {
		a4(a, 10, 2, 0, k);
		i += host_info(s.ht, a, &hi) == 0 && hi.breach_mask != 0;
	}
	T_OK(i == 8, "8 hosts in breach (%u)", i);
	t1 = T0 + MIN + 3 * US;
	for (k = 8; k < 20; k++) {
		a4(a, 10, 2, 0, k);
		pkt(&s, a, out, 6, 100, t1 + (uint64_t)HOST_EVICT_IDLE_S * US);
	}
	a4(a, 10, 2, 1, 0);
	pkt(&s, a, out, 6, 100, t1 + (uint64_t)HOST_EVICT_IDLE_S * US + US);
	host_get_stats(s.ht, &st);
	T_OK(st.n_evicted == 1 && st.n_evicted_breach == 1 &&
		 st.n_refused == 0 && host_info(s.ht, a, &hi) == 0,
	    "the newcomer took the oldest breach record (evicted %llu, in "
	    "breach %llu, refused %llu)", (unsigned long long)st.n_evicted,
	    (unsigned long long)st.n_evicted_breach,
	    (unsigned long long)st.n_refused);
	a4(a, 10, 2, 0, 0);
	T_OK(host_info(s.ht, a, &hi) != 0, "10.2.0.0, the oldest, is gone");
	host_free(s.ht);
}

/*
 * host_is_local (precomputed masks) gives cidr_match's answer for every
 * prefix length, v4 and v6, on addresses inside, next to and far from
 * the networks; and after a reload that changes them.
 */
static void
test_home_match(void)
{
	struct bl_config cfg;
	struct host_table *ht;
	uint64_t rng = 12345;
	char err[200];
	unsigned len, k, j, bad = 0, n = 0, n_in = 0;

	for (len = 0; len <= 128; len++) {
		cfg_base(&cfg);
		cfg.n_home = 2;
		memset(cfg.home, 0, sizeof(cfg.home));
		for (j = 0; j < 16; j++) {
			rng = rng * 6364136223846793005ULL + 1;
			cfg.home[0].addr[j] = (uint8_t)(rng >> 56);
		}
		cfg.home[0].len = (uint8_t)len;
		/* A v4 network (::ffff:a.b.c.d/96+len) when it fits. */
		a4(cfg.home[1].addr, 192, 168, (uint8_t)len, 0);
		cfg.home[1].len = (uint8_t)(96 + (len > 32 ? 32 : len));
		for (j = 0; j < 2; j++)	/* host bits clear, as policy keeps */
			for (k = cfg.home[j].len; k < 128; k++)
				cfg.home[j].addr[k / 8] &=
				    (uint8_t)~(0x80u >> (k % 8));
		if ((ht = host_new(&cfg, err, sizeof(err))) == NULL) {
			printf("# host_new: %s\n", err);
			bad++;
			continue;
		}
		for (k = 0; k < 400; k++) {
			uint8_t a[16];
			int want;

			/* A network's address with one random bit flipped. */
			memcpy(a, cfg.home[k % 2].addr, 16);
			rng = rng * 6364136223846793005ULL + 1;
			if (k % 4 < 3)
				a[(rng >> 40) % 16] ^=
				    (uint8_t)(1u << ((rng >> 32) % 8));
			want = cidr_match(&cfg.home[0], a) ||
			    cidr_match(&cfg.home[1], a);
			n_in += want;
			n++;
			if (host_is_local(ht, a) != want)
				bad++;
		}
		host_free(ht);
	}
	T_OK(bad == 0 && n_in > 0 && n_in < n,
	    "host_is_local = cidr_match for prefixes /0../128 and v4 "
	    "networks (%u addresses, %u inside, %u wrong)", n, n_in, bad);

	/* A reload that moves the home network moves the masks. */
	cfg_base(&cfg);
	cfg.n_home = 1;
	a4(cfg.home[0].addr, 10, 0, 0, 0);
	cfg.home[0].len = 96 + 8;
	ht = host_new(&cfg, err, sizeof(err));
	{
		uint8_t a[16], b[16];
		int before, after;

		a4(a, 10, 1, 1, 1);
		a4(b, 172, 16, 5, 5);
		before = ht != NULL && host_is_local(ht, a) &&
		    !host_is_local(ht, b);
		a4(cfg.home[0].addr, 172, 16, 0, 0);
		cfg.home[0].len = 96 + 12;
		after = ht != NULL &&
		    host_reconfig(ht, &cfg, NULL, NULL, T0, collect, LOG, err,
			sizeof(err)) == 0 &&
		    !host_is_local(ht, a) && host_is_local(ht, b);
		T_OK(before && after, "reload from 10/8 to 172.16/12: "
		    "10.1.1.1 no longer home, 172.16.5.5 is");
	}
	host_free(ht);
}

/* Reload: thresholds removed end their breach; history follows. */
static const struct bl_config *POL;

static const struct bl_config *
policy_cb(void *arg, const uint8_t addr[16])
{
	(void)arg;
	return addr[15] == 30 ? POL : NULL;
}

static void
test_reconfig(void)
{
	struct bl_config cfg, strict, noflood;
	struct sim s;
	uint8_t a[16], b[16], d[16];
	char err[200];
	double thr;
	unsigned i;
	int d0, rc;

	cfg_base(&cfg);
	sim_init(&s, &cfg, T0);
	a4(a, 10, 0, 0, 30);
	a4(b, 10, 0, 0, 31);
	a4(d, 198, 51, 100, 1);
	for (d0 = 0; d0 < 8; d0++) {
		ports_day(&s, a, T0 + (uint64_t)d0 * DAY, 30, 100, 0);
		q_run(&s);
	}
	for (i = 0; i < 300; i++)
		conv(&s, a, d, 80, 6, "S0", T0 + 8 * DAY + i * 10000, 60, 0);
	sim_to(&s, T0 + 8 * DAY + 5 * US);
	T_EQ_INT(count_ev(s.log, a, BL_M_HALF_OPEN, 1), 1, "flood breach");
	/* Reload: host .30 gets a policy without half_open thresholds. */
	noflood = cfg;
	noflood.n_thr = 0;
	for (i = 0; i < cfg.n_thr; i++)
		if (cfg.thr[i].metric != BL_M_HALF_OPEN)
			noflood.thr[noflood.n_thr++] = cfg.thr[i];
	POL = &noflood;
	T_OK(host_reconfig(s.ht, &cfg, policy_cb, NULL, s.now, collect,
	    s.log, err, sizeof(err)) == 0, "reconfig accepted");
	{
		const struct host_event *e = find_ev(s.log, a,
		    BL_M_HALF_OPEN, 0, 0);

		T_OK(e != NULL && e->detail != NULL &&
		    strcmp(e->detail, "threshold-removed") == 0,
		    "removed threshold: normal event");
	}
	thr = 0;
	rc = host_threshold(s.ht, a, BL_M_DST_PORTS, BL_WIN_DAY, BL_LEARNED,
	    &thr);
	T_OK(rc == 1, "learned dst_ports history kept across reload "
	    "(%.0f)", thr);
	/* A config whose rolling window the table lacks is refused. */
	strict = cfg;
	bl_config_add(&strict, BL_M_CONNS, 3600, BL_ABSOLUTE, 10, 0);
	err[0] = '\0';
	rc = host_reconfig(s.ht, &strict, NULL, NULL, s.now, collect, s.log,
	    err, sizeof(err));
	T_OK(rc == -1 && strstr(err, "1h") != NULL,
	    "unknown rolling window refused: %s", err);
	(void)b;
	host_free(s.ht);
}

/* IPv6 hosts, a per-host policy at creation, a month window. */
static const struct bl_config *STRICT;

static const struct bl_config *
strict_cb(void *arg, const uint8_t addr[16])
{
	(void)arg;
	return addr[15] == 40 ? STRICT : NULL;
}

static void
test_misc(void)
{
	struct bl_config cfg, strict;
	struct sim s;
	uint8_t v6[16], peer6[16], a[16], b[16], d[16];
	const struct host_event *e;
	uint64_t t;
	unsigned i;

	/* A port scan from fd00::5 (fc00::/7 is a default home net). */
	cfg_base(&cfg);
	sim_init(&s, &cfg, T0 + 9 * HOUR);
	memset(v6, 0, 16);
	v6[0] = 0xfd;
	v6[15] = 5;
	memset(peer6, 0, 16);
	peer6[0] = 0x20;
	peer6[1] = 0x01;
	peer6[2] = 0x0d;
	peer6[3] = 0xb8;
	peer6[15] = 9;
	for (i = 1, t = T0 + 9 * HOUR; i <= 1500; i++, t += 20000)
		conv(&s, v6, peer6, (uint16_t)i, 6, "REJ", t, 80, 60);
	sim_to(&s, t + MIN);
	T_OK(find_ev(s.log, v6, BL_M_DST_PORTS, 1, 0) != NULL,
	    "IPv6 host: port scan breach");
	host_free(s.ht);

	/* Host .40 gets a strict policy when it is created. */
	cfg_base(&cfg);
	strict = cfg;
	bl_config_add(&strict, BL_M_CONNS, 60, BL_ABSOLUTE, 20, 0);
	STRICT = &strict;
	sim_init(&s, &cfg, T0 + 10 * HOUR);
	host_set_policy(s.ht, strict_cb, NULL);
	a4(a, 10, 0, 0, 40);
	a4(b, 10, 0, 0, 41);
	a4(d, 198, 51, 100, 1);
	for (i = 0, t = T0 + 10 * HOUR; i < 30; i++, t += US) {
		conv(&s, a, d, 443, 6, "SF", t, 500, 500);
		conv(&s, b, d, 443, 6, "SF", t, 500, 500);
	}
	sim_to(&s, t + 5 * MIN);
	e = find_ev(s.log, a, BL_M_CONNS, 1, 0);
	T_OK(e != NULL && e->threshold == 20 && e->window_s == 60,
	    "per-host policy: 30 conversations a minute breach conns >= 20");
	T_EQ_INT(count_ev(s.log, b, -1, 1), 0,
	    "... the same traffic under the default policy does not");
	host_free(s.ht);

	/* conns per calendar month, normal at the month's end. */
	cfg_only(&cfg);
	bl_config_add(&cfg, BL_M_CONNS, BL_WIN_MONTH, BL_ABSOLUTE, 100, 0);
	t = T0 + 28 * DAY;	/* 2026-03-30 */
	sim_init(&s, &cfg, t);
	for (i = 0; i < 150; i++, t += 15 * MIN)
		conv(&s, a, d, 443, 6, "SF", t, 500, 500);
	sim_to(&s, T0 + 31 * DAY + HOUR);	/* April 1, 01:00 */
	e = find_ev(s.log, a, BL_M_CONNS, 1, 0);
	T_OK(e != NULL && e->value == 100 && e->window_s == 31 * 86400 &&
	    strcmp(e->window, "month") == 0, "conns/month breach at 100, "
	    "window 31 days");
	e = find_ev(s.log, a, BL_M_CONNS, 0, 0);
	T_OK(e != NULL && e->ts_us >= T0 + 30 * DAY &&
	    e->ts_us <= T0 + 30 * DAY + MIN,
	    "... normal at the start of April (value %.0f)", e ? e->value :
	    -1);
	host_free(s.ht);
}

/* ---- persistence ------------------------------------------------------- */

static char TMPDIR[64];

static int
read_file(const char *path, uint8_t **p, size_t *n)
{
	FILE *f = fopen(path, "rb");
	long len;

	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	*p = malloc((size_t)len + 1);
	*n = fread(*p, 1, (size_t)len, f);
	fclose(f);
	return 0;
}

static void
write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	fwrite(p, 1, n, f);
	fclose(f);
}

static void
fix_crc(uint8_t *p, size_t n)
{
	uint32_t c = (uint32_t)crc32(0L, p, (uInt)(n - 4));

	p[n - 4] = (uint8_t)(c >> 24);
	p[n - 3] = (uint8_t)(c >> 16);
	p[n - 2] = (uint8_t)(c >> 8);
	p[n - 1] = (uint8_t)c;
}

static void
test_persist(void)
{
	static const struct { int m; uint32_t w; } q[] = {
		{ BL_M_DST_PORTS, BL_WIN_DAY }, { BL_M_DST_IPS, BL_WIN_DAY },
		{ BL_M_CONNS, BL_WIN_DAY }, { BL_M_BYTES_OUT, BL_WIN_DAY },
		{ BL_M_REJECTED_SHARE, 600 }, { BL_M_PROTOCOLS, BL_WIN_MONTH },
		{ BL_M_NIGHT_BYTES_OUT, BL_WIN_HOUR },
	};
	struct bl_config cfg;
	struct sim s, s2;
	struct host_info hi;
	struct host_stats st;
	uint8_t ws[16], *buf, *copy;
	char path[128], bad[160], qpath[200], err[300];
	double t1[8], t2[8];
	size_t n, i;
	uint64_t n_saved;
	int d, same = 1, rc;
	struct stat sb;

	cfg_base(&cfg);
	sim_init(&s, &cfg, T0);
	a4(ws, 10, 0, 0, 100);
	for (d = 0; d < 9; d++) {
		normal_day(&s, ws, T0 + (uint64_t)d * DAY);
		q_run(&s);
	}
	/* Some night activity so an hour slot has samples. */
	sim_to(&s, T0 + 9 * DAY + HOUR);
	snprintf(path, sizeof(path), "%s/hosts.state", TMPDIR);
	rc = host_save(s.ht, path, s.now, err, sizeof(err));
	T_OK(rc == 0, "save: %s", rc == 0 ? "ok" : err);
	T_OK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640,
	    "state file mode 0640");
	snprintf(bad, sizeof(bad), "%s.tmp", path);
	T_OK(access(bad, F_OK) != 0, "no temporary file left");
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		host_threshold(s.ht, ws, q[i].m, q[i].w, BL_LEARNED, &t1[i]);

	sim_init(&s2, &cfg, T0 + 9 * DAY + HOUR);
	rc = host_load(s2.ht, path, s2.now, err, sizeof(err));
	T_OK(rc == 0, "load round trip: %s", rc == 0 ? "ok" : err);
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		rc = host_threshold(s2.ht, ws, q[i].m, q[i].w, BL_LEARNED,
		    &t2[i]);
		if (rc != 1 || t1[i] != t2[i]) {
			printf("# %s: %.6f != %.6f\n", bl_metric_name(q[i].m),
			    t1[i], t2[i]);
			same = 0;
		}
	}
	T_OK(same, "all learned thresholds identical after load");
	memset(&hi, 0, sizeof(hi));
	host_info(s2.ht, ws, &hi);
	T_OK(hi.n_days == 9 && hi.n_known_beacons >= 1,
	    "days (%u) and known beacons (%u) "
	    "restored", hi.n_days, hi.n_known_beacons);
	host_get_stats(s.ht, &st);
	n_saved = st.n_hosts;
	host_get_stats(s2.ht, &st);
	T_OK(st.n_loaded == n_saved && n_saved >= 2,
	    "every saved host loaded (%llu: the workstation and the local "
	    "servers that answered it)", (unsigned long long)st.n_loaded);
	host_free(s2.ht);

	read_file(path, &buf, &n);
	copy = malloc(n);
	/* Corruptions: each rejected with a message, file quarantined. */
	{
		static const char *const what[] = {
			"flipped byte", "truncated", "wrong version",
			"bad magic", "bad sample count (valid CRC)", "empty",
		};
		static const char *const expect[] = {
			"checksum mismatch", "checksum mismatch",
			"version 2", "bad magic", "more than 28 samples",
			"empty file",
		};
		unsigned k;

		for (k = 0; k < 6; k++) {
			size_t len = n;
			uint8_t *q2;
			size_t qn;
			int e;

			memcpy(copy, buf, n);
			switch (k) {
			case 0:
				copy[n / 2] ^= 0x10;
				break;
			case 1:
				len = n - 37;
				break;
			case 2:
				copy[9] = 2;
				fix_crc(copy, n);
				break;
			case 3:
				copy[0] = 'X';
				break;
			case 4:
				/* first series' sample count: header 32, len 4,
				 * addr 16, 8, 8, 4, 64, n_series 1, metric 1,
				 * window 4 */
				copy[32 + 4 + 16 + 8 + 8 + 4 + 64 + 1 + 1 + 4] =
				    200;
				fix_crc(copy, n);
				break;
			case 5:
				len = 0;
				break;
			}
			snprintf(bad, sizeof(bad), "%s/bad%u.state", TMPDIR, k);
			write_file(bad, copy, len);
			sim_init(&s2, &cfg, T0);
			rc = host_load(s2.ht, bad, s2.now, err, sizeof(err));
			e = errno;
			T_OK(rc == -1 && e == EINVAL &&
			    strstr(err, bad) != NULL &&
			    strstr(err, expect[k]) != NULL,
			    "%s: rejected: %s", what[k], err);
			host_get_stats(s2.ht, &st);
			T_EQ_U64(st.n_hosts, 0, "... nothing applied");
			host_free(s2.ht);
			rc = host_state_quarantine(bad, T0 + 1234 * US, qpath,
			    sizeof(qpath));
			q2 = NULL;
			qn = 0;
			T_OK(rc == 0 && access(bad, F_OK) != 0 &&
			    read_file(qpath, &q2, &qn) == 0 && qn == len &&
			    (len == 0 || memcmp(q2, copy, len) == 0),
			    "... quarantined intact as %s",
			    rc == 0 ? strrchr(qpath, '/') + 1 : "-");
			free(q2);
		}
	}
	/* Same name twice in one second: the first is never replaced. */
	snprintf(bad, sizeof(bad), "%s/bad0.state", TMPDIR);
	write_file(bad, buf, 10);
	rc = host_state_quarantine(bad, T0 + 1234 * US, qpath, sizeof(qpath));
	T_OK(rc == 0 && strstr(qpath, "Z-1") != NULL,
	    "second quarantine in the same second: %s",
	    rc == 0 ? strrchr(qpath, '/') + 1 : "-");
	sim_init(&s2, &cfg, T0);
	snprintf(bad, sizeof(bad), "%s/missing.state", TMPDIR);
	rc = host_load(s2.ht, bad, s2.now, err, sizeof(err));
	T_OK(rc == -1 && errno == ENOENT, "missing file: ENOENT (fresh start)");
	host_free(s2.ht);
	free(copy);
	free(buf);
	host_free(s.ht);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define RUN(f) do {							\
	double t_ = now_s();						\
	f();								\
	printf("# %s: %.2f s\n", #f, now_s() - t_);			\
} while (0)

int
main(void)
{
	char cmd[128];

	LOG = calloc(1, sizeof(*LOG));
	snprintf(TMPDIR, sizeof(TMPDIR), "/tmp/test_host.XXXXXX");
	if (mkdtemp(TMPDIR) == NULL)
		return 1;
	RUN(test_table);
	RUN(test_home_match);
	RUN(test_portscan);
	RUN(test_sweep);
	RUN(test_synflood);
	RUN(test_latency);
	RUN(test_rststorm);
	RUN(test_protocols);
	RUN(test_beacon);
	RUN(test_beacon_churn);
	RUN(test_night);
	RUN(test_learning);
	RUN(test_normal_days);
	RUN(test_reconfig);
	RUN(test_misc);
	RUN(test_persist);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", TMPDIR);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", TMPDIR);
	free(LOG);
	return t_done();
}
