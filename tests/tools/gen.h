/*
 * gen.h: what the synthetic trace generators (gentrace, gendemo, genflood)
 * share, header only because every tool is built from one .c file.
 *
 * - A seeded PRNG (xoshiro256** seeded through splitmix64): same seed, same
 *   stream, on every compiler and run, so a trace is a pure function of its
 *   arguments.  Only integer arithmetic except gen_exp(), whose log() comes
 *   from the one libm every build links.
 * - A payload pool: 1 MiB of text-like bytes (words, markup) that deflate
 *   shrinks about threefold and 1 MiB of random bytes that it cannot, so
 *   packets point into it instead of being filled per packet.
 * - Application payloads that tshark dissects without a single expert
 *   warning: DNS queries and answers, HTTP/1.1 with exact Content-Length,
 *   TLS application-data records, NTP, syslog, ping.
 * - A time-sorted packet queue (gen_q) for small traces that are easier to
 *   write session by session and sort at the end (gendemo, genflood).
 *
 * Addresses are documentation and benchmarking space only: 10.0.0.0/8 and
 * 192.168.0.0/16 inside, 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24 and
 * 2001:db8::/32 outside.
 */
#ifndef SENSORD_GEN_H
#define SENSORD_GEN_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"

/* --- PRNG ------------------------------------------------------------- */

struct gen_rng {
	uint64_t	 s[4];
};

static inline uint64_t
gen_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void
gen_seed(struct gen_rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = gen_splitmix(&seed);
}

static inline uint64_t
gen_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static inline uint64_t
gen_next(struct gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = gen_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = gen_rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n) by multiply-high (bias below 2^-32, fine here). */
static inline uint32_t
gen_below(struct gen_rng *r, uint32_t n)
{
	return (uint32_t)(((gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi], both inclusive. */
static inline uint32_t
gen_range(struct gen_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + gen_below(r, hi - lo + 1);
}

/* True with probability ppm / 1,000,000. */
static inline int
gen_ppm(struct gen_rng *r, uint32_t ppm)
{
	return gen_below(r, 1000000) < ppm;
}

/* Uniform in [0, 1). */
static inline double
gen_unit(struct gen_rng *r)
{
	return (double)(gen_next(r) >> 11) * 0x1.0p-53;
}

/* Exponentially distributed, given mean (any unit), at least 1. */
static inline uint64_t
gen_exp(struct gen_rng *r, double mean)
{
	double v = -mean * log(1.0 - gen_unit(r));

	return v < 1.0 ? 1 : (uint64_t)v;
}

/* --- payload pool ----------------------------------------------------- */

#define GEN_POOL_SZ	(1u << 20)
#define GEN_POOL_PAD	2048		/* so pool + off + 1500 is in bounds */

struct gen_pool {
	uint8_t		 text[GEN_POOL_SZ + GEN_POOL_PAD];
	uint8_t		 rnd[GEN_POOL_SZ + GEN_POOL_PAD];
};

static const char *const gen_words[] = {
	"the", "of", "and", "to", "in", "is", "for", "that", "with", "on",
	"as", "by", "this", "from", "at", "or", "an", "be", "are", "it",
	"network", "sensor", "flow", "packet", "host", "server", "client",
	"data", "time", "value", "page", "news", "update", "service", "user",
	"account", "search", "image", "video", "result", "price", "order",
	"cart", "login", "session", "report", "weather", "sport", "market",
	"travel", "music", "shop", "email", "cloud", "storage", "backup",
	"<div class=\"item\">", "</div>", "<p>", "</p>", "<a href=\"/",
	"\">", "</a>", "<span>", "</span>", "<li>", "</li>", "<script>",
	"var", "function", "return", "null", "true", "false", "{", "}",
	"\"id\":", "\"name\":", "\"type\":", "\"count\":", "2024", "10",
	"color:", "margin:", "0px;", "width:", "100%;", "font-size:",
};
#define GEN_NWORDS	(sizeof(gen_words) / sizeof(gen_words[0]))

static inline void
gen_pool_init(struct gen_pool *pl, struct gen_rng *r)
{
	size_t off = 0, i;

	/* Zipf-like word choice (u^2) gives text that deflates ~3x. */
	while (off < sizeof(pl->text)) {
		uint32_t u = gen_below(r, 1024);
		const char *w = gen_words[(u * u / 1024) * GEN_NWORDS / 1024];
		size_t n = strlen(w);

		if (off + n + 1 > sizeof(pl->text))
			n = sizeof(pl->text) - off - 1;
		memcpy(pl->text + off, w, n);
		off += n;
		pl->text[off++] = gen_below(r, 9) == 0 ? '\n' : ' ';
	}
	for (i = 0; i + 8 <= sizeof(pl->rnd); i += 8) {
		uint64_t v = gen_next(r);

		memcpy(pl->rnd + i, &v, 8);
	}
}

static inline const uint8_t *
gen_text(const struct gen_pool *pl, struct gen_rng *r)
{
	return pl->text + gen_below(r, GEN_POOL_SZ);
}

static inline const uint8_t *
gen_random(const struct gen_pool *pl, struct gen_rng *r)
{
	return pl->rnd + gen_below(r, GEN_POOL_SZ);
}

/* --- application payloads --------------------------------------------- */

/* A host name for server number n: "w<n>.<word>.example". */
static inline size_t
gen_name(char *buf, size_t cap, uint32_t n)
{
	static const char *const lab[] = {
		"news", "shop", "cdn", "mail", "api", "static", "video",
		"search", "cloud", "maps", "docs", "img",
	};
	int k = snprintf(buf, cap, "w%u.%s.example", n,
	    lab[n % (sizeof(lab) / sizeof(lab[0]))]);

	return k < 0 ? 0 : (size_t)k;
}

/*
 * DNS message (RFC 1035 4.1): one question for `name`, and when `ans` is
 * given one answer of type A (IPv4-mapped ans) or AAAA, compressed to the
 * question's name.  Returns its length; buf needs 300 bytes.
 */
static inline size_t
gen_dns(uint8_t *b, uint16_t id, const char *name, const uint8_t *ans)
{
	size_t off = 12, n;
	const char *p = name, *dot;
	int aaaa = ans != NULL && !pg_is_v4(ans);
	uint16_t qtype = 1;

	memset(b, 0, 12);
	pg_put16(b, id);
	pg_put16(b + 2, ans != NULL ? 0x8180 : 0x0100);
	pg_put16(b + 4, 1);
	pg_put16(b + 6, ans != NULL ? 1 : 0);
	while (*p != '\0') {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n > 63)
			break;
		b[off++] = (uint8_t)n;
		memcpy(b + off, p, n);
		off += n;
		p += n;
		if (*p == '.')
			p++;
	}
	b[off++] = 0;
	/* Queries carry their type in the id's low bit: odd ids ask AAAA. */
	if (ans != NULL)
		qtype = aaaa ? 28 : 1;
	else if (id & 1)
		qtype = 28;
	pg_put16(b + off, qtype);
	pg_put16(b + off + 2, 1);
	off += 4;
	if (ans != NULL) {
		pg_put16(b + off, 0xc00c);
		pg_put16(b + off + 2, qtype);
		pg_put16(b + off + 4, 1);
		pg_put32(b + off + 6, 300);
		pg_put16(b + off + 10, aaaa ? 16 : 4);
		off += 12;
		memcpy(b + off, aaaa ? ans : ans + 12, aaaa ? 16 : 4);
		off += aaaa ? 16 : 4;
	}
	return off;
}

/* An HTTP/1.1 GET with no body; buf needs 400 bytes. */
static inline size_t
gen_http_req(uint8_t *b, const char *host, uint32_t n)
{
	int k = snprintf((char *)b, 400,
	    "GET /%s/%s/%u.html HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) gen/1.0\r\n"
	    "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
	    "Accept-Language: en-US,en;q=0.5\r\n"
	    "Connection: keep-alive\r\n\r\n",
	    gen_words[20 + n % 30], gen_words[20 + n / 30 % 30], n, host);

	return k < 0 ? 0 : (size_t)k;
}

/*
 * The start of an HTTP/1.1 200 response whose whole length (header and
 * body) is `total`; the caller sends total - returned length of body.
 * Returns 0 when total is too short to hold the header.
 */
static inline size_t
gen_http_resp(uint8_t *b, uint32_t total)
{
	char tmp[256];
	int k, d;
	uint32_t body;

	/* The header length depends on the digits of the body length. */
	for (d = 1; d <= 10; d++) {
		k = snprintf(tmp, sizeof(tmp), "HTTP/1.1 200 OK\r\n"
		    "Server: gen/1.0\r\nContent-Type: text/html; "
		    "charset=utf-8\r\nCache-Control: max-age=600\r\n"
		    "Content-Length: %0*u\r\n\r\n", d, 0u);
		if (k < 0 || (uint32_t)k >= total)
			return 0;
		body = total - (uint32_t)k;
		if (snprintf(tmp, sizeof(tmp), "%u", body) == d)
			break;
	}
	if (d > 10)
		return 0;
	k = snprintf((char *)b, 256, "HTTP/1.1 200 OK\r\n"
	    "Server: gen/1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: max-age=600\r\nContent-Length: %u\r\n\r\n", body);
	return k < 0 ? 0 : (size_t)k;
}

/* A TLS 1.2 application-data record of n >= 6 bytes (RFC 5246 6.2.1). */
static inline void
gen_tls(uint8_t *b, size_t n, const uint8_t *rnd)
{
	b[0] = 23;
	b[1] = 3;
	b[2] = 3;
	pg_put16(b + 3, (unsigned)(n - 5));
	memcpy(b + 5, rnd, n - 5);
}

/* NTPv4 client (mode 3) or server (mode 4) packet, 48 bytes (RFC 5905). */
static inline size_t
gen_ntp(uint8_t *b, int server, uint64_t ts_us)
{
	uint32_t sec = (uint32_t)(ts_us / 1000000 + 2208988800ULL);
	uint32_t frac = (uint32_t)((ts_us % 1000000) * 4294ULL);

	memset(b, 0, 48);
	b[0] = server ? 0x24 : 0x23;
	b[1] = server ? 2 : 0;
	b[2] = 6;
	b[3] = 0xe9;
	if (server) {
		pg_put32(b + 4, 0x00000400);
		pg_put32(b + 8, 0x00000800);
		memcpy(b + 12, "GPS\0", 4);
		pg_put32(b + 16, sec - 64);
		pg_put32(b + 32, sec);
		pg_put32(b + 36, frac);
	}
	pg_put32(b + 40, sec);
	pg_put32(b + 44, frac);
	return 48;
}

/* A BSD syslog line (RFC 3164) of about n bytes of text; buf needs n+100. */
static inline size_t
gen_syslog(uint8_t *b, size_t n, unsigned host, const uint8_t *text)
{
	int k = snprintf((char *)b, 100,
	    "<134>Nov 14 22:13:20 host%u app[%u]: ", host, 1000 + host);
	size_t i, off;

	if (k < 0)
		return 0;
	off = (size_t)k;
	memcpy(b + off, text, n);
	/* Keep it one printable line. */
	for (i = off; i < off + n; i++)
		if (b[i] == '\n')
			b[i] = ' ';
	return off + n;
}

/*
 * An RTP packet of n >= 12 bytes, PCMU (RFC 3550 5.1): a valid header
 * keeps tshark's heuristic dissectors (RTCP, COTP ...) off random bytes.
 */
static inline void
gen_rtp(uint8_t *b, size_t n, uint16_t seq, uint32_t ssrc, const uint8_t *rnd)
{
	b[0] = 0x80;
	b[1] = 0;
	pg_put16(b + 2, seq);
	pg_put32(b + 4, (uint32_t)seq * 160u);
	pg_put32(b + 8, ssrc);
	memcpy(b + 12, rnd, n - 12);
}

/* Linux ping's 56-byte payload: a timeval and bytes 0x10.. (iputils). */
static inline size_t
gen_ping(uint8_t *b, uint64_t ts_us)
{
	uint32_t v;
	int i;

	v = (uint32_t)(ts_us / 1000000);
	memcpy(b, &v, 4);
	memset(b + 4, 0, 4);
	v = (uint32_t)(ts_us % 1000000);
	memcpy(b + 8, &v, 4);
	memset(b + 12, 0, 4);
	for (i = 16; i < 56; i++)
		b[i] = (uint8_t)i;
	return 56;
}

/* --- bookkeeping every generator reports ------------------------------ */

struct gen_count {
	uint64_t	 pkts, ip_bytes, frame_bytes;
	uint64_t	 v4, v6, vlan, tcp, udp, icmp;
	uint64_t	 conv_tcp, conv_udp, conv_icmp;
	uint64_t	 first_us, last_us;
};

static inline void
gen_count_pkt(struct gen_count *c, const struct pg_pkt *p)
{
	uint32_t hl = p->proto == 6 ? 20 : 8;
	uint32_t ip = (pg_is_v4(p->src) ? 20 : 40) + hl + p->plen;
	uint32_t fr = 14 + (p->vlan ? 4 : 0) + ip;

	if (c->pkts == 0)
		c->first_us = p->ts_us;
	c->last_us = p->ts_us;
	c->pkts++;
	c->ip_bytes += ip;
	c->frame_bytes += fr < 60 ? 60 : fr;
	if (pg_is_v4(p->src))
		c->v4++;
	else
		c->v6++;
	if (p->vlan)
		c->vlan++;
	if (p->proto == 6)
		c->tcp++;
	else if (p->proto == 17)
		c->udp++;
	else
		c->icmp++;
}

static inline void
gen_count_conv(struct gen_count *c, uint8_t proto)
{
	if (proto == 6)
		c->conv_tcp++;
	else if (proto == 17)
		c->conv_udp++;
	else
		c->conv_icmp++;
}

/* The common part of every --truth file; the caller closes the object. */
static inline void
gen_truth(FILE *f, const char *tool, uint64_t seed, const struct gen_count *c,
    uint64_t file_bytes)
{
	fprintf(f, "{\n  \"generator\": \"%s\",\n  \"seed\": %llu,\n", tool,
	    (unsigned long long)seed);
	fprintf(f, "  \"packets\": %llu,\n  \"ip_packets\": %llu,\n"
	    "  \"ip_bytes\": %llu,\n  \"frame_bytes\": %llu,\n"
	    "  \"file_bytes\": %llu,\n",
	    (unsigned long long)c->pkts, (unsigned long long)c->pkts,
	    (unsigned long long)c->ip_bytes,
	    (unsigned long long)c->frame_bytes,
	    (unsigned long long)file_bytes);
	fprintf(f, "  \"ipv4_packets\": %llu,\n  \"ipv6_packets\": %llu,\n"
	    "  \"vlan_packets\": %llu,\n  \"tcp_packets\": %llu,\n"
	    "  \"udp_packets\": %llu,\n  \"icmp_packets\": %llu,\n",
	    (unsigned long long)c->v4, (unsigned long long)c->v6,
	    (unsigned long long)c->vlan, (unsigned long long)c->tcp,
	    (unsigned long long)c->udp, (unsigned long long)c->icmp);
	fprintf(f, "  \"conversations\": {\"total\": %llu, \"tcp\": %llu, "
	    "\"udp\": %llu, \"icmp\": %llu},\n",
	    (unsigned long long)(c->conv_tcp + c->conv_udp + c->conv_icmp),
	    (unsigned long long)c->conv_tcp, (unsigned long long)c->conv_udp,
	    (unsigned long long)c->conv_icmp);
	fprintf(f, "  \"first_ts_us\": %llu,\n  \"last_ts_us\": %llu,\n"
	    "  \"duration_s\": %.6f",
	    (unsigned long long)c->first_us, (unsigned long long)c->last_us,
	    (double)(c->last_us - c->first_us) / 1e6);
}

/* --- time-sorted queue for small traces ------------------------------- */

struct gen_qent {
	struct pg_pkt	 p;
	uint64_t	 order;		/* insertion order breaks time ties */
};

struct gen_q {
	struct gen_qent	*e;
	size_t		 n, cap;
	uint8_t		*arena;		/* payload bytes of queued packets */
	size_t		 used, arena_cap;
};

static inline int
gen_q_init(struct gen_q *q, size_t cap, size_t arena_cap)
{
	memset(q, 0, sizeof(*q));
	q->e = calloc(cap, sizeof(*q->e));
	q->arena = malloc(arena_cap);
	if (q->e == NULL || q->arena == NULL)
		return -1;
	q->cap = cap;
	q->arena_cap = arena_cap;
	return 0;
}

static inline void
gen_q_fini(struct gen_q *q)
{
	free(q->e);
	free(q->arena);
	memset(q, 0, sizeof(*q));
}

/* Queue a copy of p and of its payload; exits when the queue is full. */
static inline void
gen_q_add(struct gen_q *q, const struct pg_pkt *p)
{
	struct gen_qent *x;

	if (q->n == q->cap || q->used + p->plen > q->arena_cap) {
		fprintf(stderr, "gen: packet queue full\n");
		exit(1);
	}
	x = &q->e[q->n];
	x->p = *p;
	x->order = q->n++;
	if (p->payload != NULL && p->plen > 0) {
		memcpy(q->arena + q->used, p->payload, p->plen);
		x->p.payload = q->arena + q->used;
		q->used += p->plen;
	}
}

static inline int
gen_q_cmp(const void *a, const void *b)
{
	const struct gen_qent *x = a, *y = b;

	if (x->p.ts_us != y->p.ts_us)
		return x->p.ts_us < y->p.ts_us ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static inline void
gen_q_sort(struct gen_q *q)
{
	qsort(q->e, q->n, sizeof(*q->e), gen_q_cmp);
}

#endif /* SENSORD_GEN_H */
