/*
 * test_export.c: the NetFlow v5 / v9 / IPFIX encoders and the UDP sender.
 *
 * Datagrams are decoded back by a small independent decoder written here
 * through sensord/cursor.h, from the RFC layouts (RFC 3954, RFC 7011, RFC
 * 5103, Cisco's v5 table), never from the encoder's own tables: headers,
 * set ids and lengths, template field lists, every record field, sequence
 * numbers across datagrams, template refresh and sampling options.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

#include "convrec.h"
#include "cursor.h"
#include "decode.h"
#include "export.h"
#include "util.h"
#include "xpenc.h"

#define T0_US	1700000000250000ull	/* 2023-11-14T22:13:20.25Z */
#define MAXREC	64
#define MAXDG	256

/* ---- decoder ----------------------------------------------------------- */

struct dfield {
	uint16_t	id;		/* without the enterprise bit */
	uint16_t	len;
	uint32_t	pen;
};

struct dtmpl {
	uint16_t	tid;
	int		n;
	int		n_scope;	/* options templates */
	int		is_opt;
	struct dfield	f[40];
};

struct drec {
	uint16_t	tid;
	uint8_t		src[16];
	uint8_t		dst[16];
	uint64_t	v[512];		/* by IE id, PEN 0 */
	uint64_t	r[512];		/* by IE id, PEN 29305 */
	uint8_t		has[512];
	uint8_t		rhas[512];
};

struct dgram {
	int		version;
	unsigned	count;		/* v5/v9 header count */
	unsigned	length;		/* IPFIX header length */
	uint32_t	uptime;
	uint32_t	secs;
	uint32_t	nsecs;
	uint32_t	seq;
	uint32_t	domain;
	unsigned	eng_type, eng_id, sampling;
	int		n_tmpl;		/* template records */
	int		n_opt_tmpl;
	int		n_rec;		/* flow data records */
	int		n_opt;		/* options data records */
	int		sets_aligned;	/* v9: every FlowSet length % 4 == 0 */
	uint16_t	tmpl_ids[8];
	struct drec	rec[MAXREC];
	struct drec	opt;		/* the last options record */
};

struct dstate {
	struct dtmpl	t[8];
	int		n;
};

static struct dtmpl *
tmpl_find(struct dstate *ds, uint16_t tid)
{
	int i;

	for (i = 0; i < ds->n; i++)
		if (ds->t[i].tid == tid)
			return &ds->t[i];
	return NULL;
}

static struct dtmpl *
tmpl_new(struct dstate *ds, uint16_t tid)
{
	struct dtmpl *t = tmpl_find(ds, tid);

	if (t == NULL && ds->n < 8)
		t = &ds->t[ds->n++];
	if (t != NULL) {
		memset(t, 0, sizeof(*t));
		t->tid = tid;
	}
	return t;
}

static uint64_t
cur_uint(struct cur *c, size_t len)
{
	uint64_t v = 0;

	while (len-- > 0)
		v = v << 8 | cur_u8(c);
	return v;
}

static int
decode_rec(struct cur *c, const struct dtmpl *t, struct drec *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->tid = t->tid;
	for (i = 0; i < t->n; i++) {
		const struct dfield *f = &t->f[i];

		if ((f->id == 8 || f->id == 12) && f->len == 4 && !f->pen) {
			uint8_t *a = f->id == 8 ? r->src : r->dst;

			a[10] = a[11] = 0xff;
			cur_bytes(c, a + 12, 4);
		} else if ((f->id == 27 || f->id == 28) && f->len == 16) {
			cur_bytes(c, f->id == 27 ? r->src : r->dst, 16);
		} else if (f->len <= 8 && f->id < 512) {
			uint64_t v = cur_uint(c, f->len);

			if (f->pen == XP_PEN_REVERSE) {
				r->r[f->id] = v;
				r->rhas[f->id] = 1;
			} else if (f->pen == 0) {
				r->v[f->id] = v;
				r->has[f->id] = 1;
			}
		} else
			cur_skip(c, f->len);
	}
	return cur_ok(c) ? 0 : -1;
}

static size_t
tmpl_len(const struct dtmpl *t)
{
	size_t n = 0;
	int i;

	for (i = 0; i < t->n; i++)
		n += t->f[i].len;
	return n;
}

static int
decode_tmpl_set(struct cur *s, struct dstate *ds, struct dgram *d, int v9)
{
	struct dtmpl *t;
	uint16_t tid, n, id;
	int i;

	while (cur_left(s) >= 4) {
		tid = cur_be16(s);
		n = cur_be16(s);
		if (tid < 256 || n > 40 || (t = tmpl_new(ds, tid)) == NULL)
			return -1;
		t->n = n;
		for (i = 0; i < n; i++) {
			id = cur_be16(s);
			t->f[i].len = cur_be16(s);
			if (!v9 && (id & 0x8000)) {
				t->f[i].pen = cur_be32(s);
				id &= 0x7fff;
			}
			t->f[i].id = id;
		}
		if (d->n_tmpl < 8)
			d->tmpl_ids[d->n_tmpl] = tid;
		d->n_tmpl++;
		if (v9 && cur_left(s) < 4)
			break;		/* padding */
	}
	return cur_ok(s) ? 0 : -1;
}

static int
decode_opt_tmpl_set(struct cur *s, struct dstate *ds, struct dgram *d, int v9)
{
	struct dtmpl *t;
	uint16_t tid, a, b;
	int i, n;

	tid = cur_be16(s);
	a = cur_be16(s);
	b = cur_be16(s);
	if ((t = tmpl_new(ds, tid)) == NULL)
		return -1;
	t->is_opt = 1;
	if (v9) {
		/* RFC 3954 6.1: scope and option lengths in bytes. */
		t->n_scope = a / 4;
		n = a / 4 + b / 4;
	} else {
		/* RFC 7011 3.4.2.2: field count, scope field count. */
		n = a;
		t->n_scope = b;
	}
	if (n > 40)
		return -1;
	t->n = n;
	for (i = 0; i < n; i++) {
		uint16_t id = cur_be16(s);

		t->f[i].len = cur_be16(s);
		if (!v9 && (id & 0x8000)) {
			t->f[i].pen = cur_be32(s);
			id &= 0x7fff;
		}
		t->f[i].id = id;
	}
	d->n_opt_tmpl++;
	return cur_ok(s) ? 0 : -1;
}

/* Decode one datagram of any version; templates persist in ds. */
static int
decode(const uint8_t *buf, size_t len, struct dstate *ds, struct dgram *d)
{
	struct cur c, s;
	struct dtmpl *t;
	uint16_t id, slen;
	size_t rl;
	int i;

	memset(d, 0, sizeof(*d));
	d->sets_aligned = 1;
	cur_init(&c, buf, len);
	d->version = cur_be16(&c);
	if (d->version == 5) {
		d->count = cur_be16(&c);
		d->uptime = cur_be32(&c);
		d->secs = cur_be32(&c);
		d->nsecs = cur_be32(&c);
		d->seq = cur_be32(&c);
		d->eng_type = cur_u8(&c);
		d->eng_id = cur_u8(&c);
		d->sampling = cur_be16(&c);
		if (len != XP_V5_HDR_LEN + d->count * XP_V5_REC_LEN ||
		    d->count > MAXREC)
			return -1;
		for (i = 0; i < (int)d->count; i++) {
			struct drec *r = &d->rec[i];

			memset(r, 0, sizeof(*r));
			r->src[10] = r->src[11] = r->dst[10] = r->dst[11] = 0xff;
			cur_bytes(&c, r->src + 12, 4);
			cur_bytes(&c, r->dst + 12, 4);
			r->v[15] = cur_be32(&c);	/* nexthop */
			r->v[10] = cur_be16(&c);	/* input */
			r->v[14] = cur_be16(&c);	/* output */
			r->v[2] = cur_be32(&c);		/* dPkts */
			r->v[1] = cur_be32(&c);		/* dOctets */
			r->v[22] = cur_be32(&c);	/* First */
			r->v[21] = cur_be32(&c);	/* Last */
			r->v[7] = cur_be16(&c);
			r->v[11] = cur_be16(&c);
			cur_skip(&c, 1);		/* pad1 */
			r->v[6] = cur_u8(&c);
			r->v[4] = cur_u8(&c);
			r->v[5] = cur_u8(&c);		/* tos */
			cur_skip(&c, 8);		/* AS, masks, pad2 */
		}
		d->n_rec = (int)d->count;
		return cur_ok(&c) && cur_left(&c) == 0 ? 0 : -1;
	}
	if (d->version == 9) {
		d->count = cur_be16(&c);
		d->uptime = cur_be32(&c);
		d->secs = cur_be32(&c);
		d->seq = cur_be32(&c);
		d->domain = cur_be32(&c);
	} else if (d->version == 10) {
		d->length = cur_be16(&c);
		d->secs = cur_be32(&c);
		d->seq = cur_be32(&c);
		d->domain = cur_be32(&c);
		if (d->length != len)
			return -1;
	} else
		return -1;
	while (cur_ok(&c) && cur_left(&c) > 0) {
		id = cur_be16(&c);
		slen = cur_be16(&c);
		if (slen < 4 || cur_sub(&c, slen - 4u, &s) == -1)
			return -1;
		if (slen % 4 != 0)
			d->sets_aligned = 0;
		if (id == (d->version == 9 ? 0 : 2)) {
			if (decode_tmpl_set(&s, ds, d, d->version == 9) == -1)
				return -1;
		} else if (id == (d->version == 9 ? 1 : 3)) {
			if (decode_opt_tmpl_set(&s, ds, d, d->version == 9) == -1)
				return -1;
		} else if (id >= 256) {
			if ((t = tmpl_find(ds, id)) == NULL)
				return -1;	/* data before its template */
			rl = tmpl_len(t);
			while (cur_left(&s) >= rl && rl > 0) {
				if (t->is_opt) {
					if (decode_rec(&s, t, &d->opt) == -1)
						return -1;
					d->n_opt++;
				} else {
					if (d->n_rec == MAXREC ||
					    decode_rec(&s, t, &d->rec[d->n_rec])
					    == -1)
						return -1;
					d->n_rec++;
				}
			}
			/* Only padding may be left (v9), never in IPFIX. */
			if (d->version == 10 && cur_left(&s) != 0)
				return -1;
		} else
			return -1;
	}
	return cur_ok(&c) ? 0 : -1;
}

/* ---- capture of emitted datagrams --------------------------------------- */

struct sink {
	uint8_t		buf[MAXDG][XP_DGRAM_MAX];
	size_t		len[MAXDG];
	uint32_t	n_data[MAXDG];
	int		has_tmpl[MAXDG];
	int		n;
	int		fail_next;	/* emit returns -1 once */
};

static struct sink sink;

static int
sink_emit(void *arg, const uint8_t *buf, size_t len, uint32_t n_data,
    int has_tmpl)
{
	struct sink *s = arg;

	if (s->fail_next) {
		s->fail_next = 0;
		return -1;
	}
	if (s->n == MAXDG)
		return -1;
	memcpy(s->buf[s->n], buf, len);
	s->len[s->n] = len;
	s->n_data[s->n] = n_data;
	s->has_tmpl[s->n] = has_tmpl;
	s->n++;
	return 0;
}

static void
sink_reset(void)
{
	memset(&sink, 0, sizeof(sink));
}

/* ---- records ------------------------------------------------------------ */

static void
mkrec(struct convrec *cr, const char *src, uint16_t sp, const char *dst,
    uint16_t dp, uint8_t proto, uint64_t fp, uint64_t fb, uint64_t rp,
    uint64_t rb)
{
	memset(cr, 0, sizeof(*cr));
	addr_parse(src, cr->src);
	addr_parse(dst, cr->dst);
	cr->family = addr_is_v4(cr->src) ? 4 : 6;
	cr->proto = proto;
	cr->sport = sp;
	cr->dport = dp;
	cr->conv_id = 0x1122334455667788ull;
	cr->start_us = T0_US + 1000;
	cr->end_us = T0_US + 3001000;
	cr->reason = END_FIN;
	cr->is_final = 1;
	cr->fwd.pkts = fp;
	cr->fwd.bytes = fb;
	if (fp > 0) {
		cr->fwd.first_us = T0_US + 1000;
		cr->fwd.last_us = T0_US + 2500000;
		cr->fwd.flags = 0x1b;
	}
	cr->rev.pkts = rp;
	cr->rev.bytes = rb;
	if (rp > 0) {
		cr->rev.first_us = T0_US + 21000;
		cr->rev.last_us = T0_US + 3001000;
		cr->rev.flags = 0x12;
	}
}

static int
addr_eq(const uint8_t *a, const char *s)
{
	uint8_t b[16];

	return addr_parse(s, b) == 0 && memcmp(a, b, 16) == 0;
}

static void
enc_cfg(struct xp_enc_config *c, enum xp_kind kind)
{
	xp_enc_config_defaults(c);
	c->kind = kind;
	c->start_us = T0_US;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_config(void)
{
	struct xp_enc enc;
	struct xp_enc_config c;

	enc_cfg(&c, XP_IPFIX);
	T_EQ_INT(xp_enc_init(&enc, &c, sink_emit, &sink), 0, "defaults ok");
	c.mtu = 511;
	T_EQ_INT(xp_enc_init(&enc, &c, sink_emit, &sink), -1, "mtu 511 refused");
	c.mtu = XP_DGRAM_MAX + 1;
	T_EQ_INT(xp_enc_init(&enc, &c, sink_emit, &sink), -1,
	    "mtu above max refused");
	enc_cfg(&c, (enum xp_kind)7);
	T_EQ_INT(xp_enc_init(&enc, &c, sink_emit, &sink), -1, "kind 7 refused");
	enc_cfg(&c, XP_NETFLOW5);
	c.sampling = 16384;
	T_EQ_INT(xp_enc_init(&enc, &c, sink_emit, &sink), -1,
	    "v5 sampling > 14 bits refused");
	T_EQ_INT(errno, EINVAL, "errno EINVAL");
	enc_cfg(&c, XP_NETFLOW9);
	T_EQ_INT(xp_enc_init(&enc, &c, NULL, NULL), -1, "no emit refused");
}

static void
test_reason(void)
{
	/* RFC 5102 section 5.11.3 values. */
	T_EQ_INT(xp_end_reason(END_IDLE), 1, "idle -> 1 idle timeout");
	T_EQ_INT(xp_end_reason(END_ACTIVE), 2, "active -> 2 active timeout");
	T_EQ_INT(xp_end_reason(END_FIN), 3, "fin -> 3 end detected");
	T_EQ_INT(xp_end_reason(END_RST), 3, "rst -> 3 end detected");
	T_EQ_INT(xp_end_reason(END_EOF), 4, "eof -> 4 forced end");
	T_EQ_INT(xp_end_reason(END_SHUTDOWN), 4, "shutdown -> 4 forced end");
	T_EQ_INT(xp_end_reason(END_EVICT), 5, "evict -> 5 lack of resources");
}

static void
test_parse_target(void)
{
	struct xp_config cfg;
	char err[200], buf[100];

	xp_config_defaults(&cfg);
	T_EQ_INT(xp_parse_target("netflow9@127.0.0.1:2055", &cfg, err,
	    sizeof(err)), 0, "netflow9@127.0.0.1:2055");
	T_EQ_INT(cfg.enc.kind, XP_NETFLOW9, "kind netflow9");
	T_OK(addr_eq(cfg.addr, "127.0.0.1"), "address 127.0.0.1 (mapped)");
	T_EQ_INT(cfg.port, 2055, "port 2055");
	xp_format_target(&cfg, buf, sizeof(buf));
	T_EQ_STR(buf, "netflow9@127.0.0.1:2055", "format round trip");

	T_EQ_INT(xp_parse_target("ipfix@[::1]:4739", &cfg, err, sizeof(err)),
	    0, "ipfix@[::1]:4739");
	T_EQ_INT(cfg.enc.kind, XP_IPFIX, "kind ipfix");
	T_OK(addr_eq(cfg.addr, "::1"), "address ::1");
	xp_format_target(&cfg, buf, sizeof(buf));
	T_EQ_STR(buf, "ipfix@[::1]:4739", "format v6 round trip");

	T_EQ_INT(xp_parse_target("netflow5@192.0.2.7", &cfg, err,
	    sizeof(err)), 0, "no port");
	T_EQ_INT(cfg.port, 2055, "netflow default port 2055");
	T_EQ_INT(xp_parse_target("ipfix@[2001:db8::1]", &cfg, err,
	    sizeof(err)), 0, "v6, no port");
	T_EQ_INT(cfg.port, 4739, "ipfix default port 4739");

	T_EQ_INT(xp_parse_target("netflow7@127.0.0.1:1", &cfg, err,
	    sizeof(err)), -1, "netflow7 refused");
	T_OK(strstr(err, "kind") != NULL, "error names kind: %s", err);
	T_EQ_INT(xp_parse_target("127.0.0.1:2055", &cfg, err, sizeof(err)),
	    -1, "missing kind refused");
	T_OK(strstr(err, "KIND@") != NULL, "error shows the form: %s", err);
	T_EQ_INT(xp_parse_target("ipfix@::1:4739", &cfg, err, sizeof(err)),
	    -1, "bare IPv6 refused");
	T_OK(strstr(err, "brackets") != NULL, "error asks for brackets: %s",
	    err);
	T_EQ_INT(xp_parse_target("ipfix@[::1:4739", &cfg, err, sizeof(err)),
	    -1, "missing ] refused");
	T_OK(strstr(err, "address") != NULL, "error names address: %s", err);
	T_EQ_INT(xp_parse_target("ipfix@[10.0.0.1]:4739", &cfg, err,
	    sizeof(err)), -1, "IPv4 in brackets refused");
	T_EQ_INT(xp_parse_target("ipfix@collector.example:4739", &cfg, err,
	    sizeof(err)), -1, "host name refused (no lookups)");
	T_OK(strstr(err, "address") != NULL, "error names address: %s", err);
	T_EQ_INT(xp_parse_target("ipfix@127.0.0.1:0", &cfg, err, sizeof(err)),
	    -1, "port 0 refused");
	T_OK(strstr(err, "port") != NULL, "error names port: %s", err);
	T_EQ_INT(xp_parse_target("ipfix@127.0.0.1:65536", &cfg, err,
	    sizeof(err)), -1, "port 65536 refused");
	T_EQ_INT(xp_parse_target("ipfix@127.0.0.1:47x", &cfg, err,
	    sizeof(err)), -1, "port 47x refused");
	T_EQ_INT(xp_parse_target("ipfix@127.0.0.1:-1", &cfg, err,
	    sizeof(err)), -1, "port -1 refused");
	T_EQ_INT(xp_parse_target("ipfix@[::1]x", &cfg, err, sizeof(err)),
	    -1, "junk after ] refused");
	T_EQ_INT(cfg.port, 4739, "failed parses left cfg alone");
}

/* The four records most tests use: v4 TCP, v4 one-way UDP, v6, ICMP. */
static void
four_recs(struct convrec r[4])
{
	mkrec(&r[0], "10.1.2.3", 40000, "192.0.2.80", 443, 6, 10, 1500,
	    8, 9000);
	mkrec(&r[1], "10.1.2.4", 5353, "192.0.2.53", 53, 17, 1, 70, 0, 0);
	r[1].reason = END_IDLE;
	r[1].vlan = 42;
	mkrec(&r[2], "2001:db8::1", 1234, "2001:db8::2", 80, 6, 3, 300,
	    2, 200);
	mkrec(&r[3], "10.9.9.9", 0, "192.0.2.1", 8 << 8, 1, 4, 336, 4, 336);
	r[3].reason = END_EVICT;
}

static void
test_v5(void)
{
	struct xp_enc enc;
	struct xp_enc_config c;
	struct dstate ds;
	static struct dgram d;
	struct convrec r[4], big;
	const struct drec *x;
	uint64_t ms;
	uint32_t seq;
	int i, total;

	sink_reset();
	memset(&ds, 0, sizeof(ds));
	enc_cfg(&c, XP_NETFLOW5);
	c.domain = 0x0102;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	four_recs(r);
	for (i = 0; i < 4; i++)
		xp_enc_add(&enc, &r[i], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	T_EQ_INT(sink.n, 1, "v5: one datagram");
	T_EQ_INT(decode(sink.buf[0], sink.len[0], &ds, &d), 0, "v5: decodes");
	T_EQ_INT(d.version, 5, "v5: version");
	T_EQ_INT(d.count, 5, "v5: 2 + 1 + 2 flows (IPv6 skipped)");
	T_EQ_U64(enc.st.n_skipped, 1, "v5: IPv6 counted as skipped");
	T_EQ_INT(d.seq, 0, "v5: first flow_sequence 0");
	T_EQ_INT(d.eng_type, 1, "v5: engine type from domain");
	T_EQ_INT(d.eng_id, 2, "v5: engine id from domain");
	T_EQ_INT(d.sampling, 0, "v5: no sampling");
	/* Header instant == now: unix time and uptime must agree. */
	ms = (uint64_t)d.secs * 1000 + d.nsecs / 1000000;
	T_EQ_U64(ms, (T0_US + 4000000) / 1000, "v5: unix_secs/nsecs = now");
	T_EQ_U64(ms - d.uptime, T0_US / 1000000 * 1000,
	    "v5: boot = start rounded down to a second");

	x = &d.rec[0];
	T_OK(addr_eq(x->src, "10.1.2.3") && addr_eq(x->dst, "192.0.2.80"),
	    "v5 fwd: addresses");
	T_EQ_INT(x->v[7], 40000, "v5 fwd: srcport");
	T_EQ_INT(x->v[11], 443, "v5 fwd: dstport");
	T_EQ_INT(x->v[4], 6, "v5 fwd: prot");
	T_EQ_INT(x->v[6], 0x1b, "v5 fwd: tcp_flags");
	T_EQ_U64(x->v[2], 10, "v5 fwd: dPkts");
	T_EQ_U64(x->v[1], 1500, "v5 fwd: dOctets");
	T_EQ_U64(ms - d.uptime + x->v[22], (T0_US + 1000) / 1000,
	    "v5 fwd: First maps back to the first packet's ms");
	T_EQ_U64(ms - d.uptime + x->v[21], (T0_US + 2500000) / 1000,
	    "v5 fwd: Last maps back to the last packet's ms");
	x = &d.rec[1];
	T_OK(addr_eq(x->src, "192.0.2.80") && addr_eq(x->dst, "10.1.2.3"),
	    "v5 rev: addresses swapped");
	T_EQ_INT(x->v[7], 443, "v5 rev: srcport is responder's");
	T_EQ_INT(x->v[11], 40000, "v5 rev: dstport is initiator's");
	T_EQ_U64(x->v[2], 8, "v5 rev: dPkts");
	T_EQ_U64(x->v[1], 9000, "v5 rev: dOctets");
	T_EQ_INT(x->v[6], 0x12, "v5 rev: tcp_flags");
	T_EQ_U64(ms - d.uptime + x->v[22], (T0_US + 21000) / 1000,
	    "v5 rev: First");
	x = &d.rec[2];
	T_OK(addr_eq(x->src, "10.1.2.4"), "v5: one-way UDP, one flow");
	T_EQ_INT(x->v[4], 17, "v5: UDP prot");
	x = &d.rec[3];
	T_EQ_INT(x->v[11], 8 << 8, "v5 ICMP fwd: echo request 8.0 in dstport");
	x = &d.rec[4];
	T_EQ_INT(x->v[7], 0, "v5 ICMP rev: srcport 0");
	T_EQ_INT(x->v[11], 0, "v5 ICMP rev: echo reply 0.0 in dstport");

	/* 32-bit counters: clamp and count. */
	sink_reset();
	xp_enc_init(&enc, &c, sink_emit, &sink);
	mkrec(&big, "10.0.0.1", 1, "10.0.0.2", 2, 6, 5000000000ull,
	    9000000000ull, 0, 0);
	xp_enc_add(&enc, &big, T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	decode(sink.buf[0], sink.len[0], &ds, &d);
	T_EQ_U64(d.rec[0].v[2], UINT32_MAX, "v5: dPkts clamped at 2^32-1");
	T_EQ_U64(d.rec[0].v[1], UINT32_MAX, "v5: dOctets clamped");
	T_EQ_U64(enc.st.n_clamped, 1, "v5: clamp counted");

	/* Sequence counts flows; 30 flows per datagram at mtu >= 1464. */
	sink_reset();
	c.mtu = 1500;
	c.sampling = 100;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	for (i = 0; i < 40; i++)
		xp_enc_add(&enc, &r[0], T0_US + 4000000);	/* 80 flows */
	xp_enc_flush(&enc, T0_US + 4000000);
	T_EQ_INT(sink.n, 3, "v5: 80 flows in 3 datagrams");
	seq = 0;
	total = 0;
	for (i = 0; i < sink.n; i++) {
		decode(sink.buf[i], sink.len[i], &ds, &d);
		T_EQ_U64(d.seq, seq, "v5: flow_sequence = flows before");
		T_OK(d.count <= 30, "v5: at most 30 records (%u)", d.count);
		T_EQ_INT(d.sampling, 0x4000 | 100,
		    "v5: sampling mode 01, interval 100");
		seq += d.count;
		total += (int)d.count;
	}
	T_EQ_INT(total, 80, "v5: all 80 flows sent");
	decode(sink.buf[0], sink.len[0], &ds, &d);
	T_EQ_INT(d.count, 30, "v5: first datagram full at 30");
	sink_reset();
	c.mtu = 1400;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	for (i = 0; i < 20; i++)
		xp_enc_add(&enc, &r[0], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	decode(sink.buf[0], sink.len[0], &ds, &d);
	T_EQ_INT(d.count, 28, "v5: 28 records fit mtu 1400");
	T_OK(sink.len[0] <= 1400, "v5: datagram <= mtu");
}

static const uint16_t v9_v4_types[] = { 8, 12, 7, 11, 32, 4, 6, 2, 1, 22,
    21, 58, 136 };
static const uint16_t v9_v6_types[] = { 27, 28, 7, 11, 32, 4, 6, 2, 1, 22,
    21, 58, 136 };

static int
tmpl_is(struct dstate *ds, uint16_t tid, const uint16_t *types, int n,
    const uint16_t *lens)
{
	struct dtmpl *t = tmpl_find(ds, tid);
	int i;

	if (t == NULL || t->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (t->f[i].id != types[i] ||
		    (lens != NULL && t->f[i].len != lens[i]))
			return 0;
	return 1;
}

static void
test_v9(void)
{
	struct xp_enc enc;
	struct xp_enc_config c;
	struct dstate ds;
	static struct dgram d;
	struct convrec r[4], x;
	const struct drec *p;
	uint64_t base;
	int i, n_tmpl_dg;
	static const uint16_t v4_lens[] = { 4, 4, 2, 2, 2, 1, 1, 8, 8, 4, 4, 2,
	    1 };

	sink_reset();
	memset(&ds, 0, sizeof(ds));
	enc_cfg(&c, XP_NETFLOW9);
	c.domain = 77;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	four_recs(r);
	for (i = 0; i < 4; i++)
		xp_enc_add(&enc, &r[i], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	T_EQ_INT(sink.n, 1, "v9: one datagram");
	T_EQ_INT(decode(sink.buf[0], sink.len[0], &ds, &d), 0, "v9: decodes");
	T_EQ_INT(d.version, 9, "v9: version");
	T_EQ_INT(d.n_tmpl, 2, "v9: two templates");
	T_EQ_INT(d.tmpl_ids[0], 256, "v9: IPv4 template 256");
	T_EQ_INT(d.tmpl_ids[1], 257, "v9: IPv6 template 257");
	T_OK(tmpl_is(&ds, 256, v9_v4_types, 13, v4_lens),
	    "v9: IPv4 template fields and lengths (RFC 3954 types)");
	T_OK(tmpl_is(&ds, 257, v9_v6_types, 13, NULL),
	    "v9: IPv6 template fields");
	T_EQ_INT(d.n_rec, 7, "v9: 2 + 1 + 2 + 2 uniflow records");
	T_EQ_INT(d.count, 2 + 7, "v9: count = template + data records");
	T_EQ_INT(d.n_opt_tmpl, 0, "v9: no options when not sampling");
	T_EQ_INT(d.domain, 77, "v9: source id");
	T_EQ_INT(d.seq, 0, "v9: first sequence 0");
	T_OK(d.sets_aligned, "v9: FlowSets padded to 32 bits");
	T_OK(sink.has_tmpl[0], "v9: emit told templates inside");
	T_EQ_INT(sink.n_data[0], 7, "v9: emit told 7 data records");
	/* unix_secs * 1000 - sysUptime is the boot time; FIRST/LAST exact. */
	base = (uint64_t)d.secs * 1000 - d.uptime;
	T_EQ_U64(base, T0_US / 1000000 * 1000, "v9: boot = whole second");
	T_OK((uint64_t)d.secs * 1000000 >= T0_US + 4000000,
	    "v9: header time not before now");
	p = &d.rec[0];
	T_OK(addr_eq(p->src, "10.1.2.3") && addr_eq(p->dst, "192.0.2.80"),
	    "v9 fwd: addresses");
	T_EQ_U64(p->v[2], 10, "v9 fwd: IN_PKTS");
	T_EQ_U64(p->v[1], 1500, "v9 fwd: IN_BYTES");
	T_EQ_U64(base + p->v[22], (T0_US + 1000) / 1000,
	    "v9 fwd: FIRST_SWITCHED");
	T_EQ_U64(base + p->v[21], (T0_US + 2500000) / 1000,
	    "v9 fwd: LAST_SWITCHED");
	T_OK(p->v[21] <= d.uptime, "v9: LAST_SWITCHED <= sysUptime");
	T_EQ_INT(p->v[136], 3, "v9 fwd: flowEndReason fin = 3");
	p = &d.rec[1];
	T_EQ_INT(p->v[7], 443, "v9 rev: L4_SRC_PORT");
	T_EQ_INT(p->v[11], 40000, "v9 rev: L4_DST_PORT");
	T_EQ_U64(p->v[2], 8, "v9 rev: IN_PKTS");
	T_EQ_U64(p->v[1], 9000, "v9 rev: IN_BYTES");
	p = &d.rec[2];
	T_EQ_INT(p->v[58], 42, "v9: SRC_VLAN");
	T_EQ_INT(p->v[136], 1, "v9: idle = 1");
	p = &d.rec[3];
	T_EQ_INT(p->tid, 257, "v9: IPv6 record in set 257");
	T_OK(addr_eq(p->src, "2001:db8::1") && addr_eq(p->dst, "2001:db8::2"),
	    "v9: IPv6 addresses");
	p = &d.rec[6];
	T_EQ_INT(p->v[136], 5, "v9: evict = 5");
	T_EQ_INT(p->v[11], 0, "v9: ICMP echo reply type in L4_DST_PORT");
	T_EQ_INT(p->has[32] && p->v[32] == 0, 1, "v9: ... and in ICMP_TYPE");
	T_EQ_INT(d.rec[5].v[32], 8 << 8, "v9: echo request 8.0 in ICMP_TYPE");
	T_EQ_INT(d.rec[0].v[32], 0, "v9: ICMP_TYPE 0 for TCP");

	/* Sequence counts packets; refresh after template_s of flow time. */
	sink_reset();
	memset(&ds, 0, sizeof(ds));
	c.template_s = 10;
	c.template_dgrams = 0;
	c.mtu = 600;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	for (i = 0; i < 60; i++) {
		x = r[i % 2];
		x.start_us = T0_US + (uint64_t)i * 500000;
		x.end_us = x.start_us + 1000;
		x.fwd.first_us = x.start_us;
		x.fwd.last_us = x.end_us;
		x.rev.first_us = x.start_us;
		x.rev.last_us = x.end_us;
		xp_enc_add(&enc, &x, x.end_us);
	}
	xp_enc_flush(&enc, T0_US + 31000000);
	n_tmpl_dg = 0;
	for (i = 0; i < sink.n; i++) {
		T_EQ_INT(decode(sink.buf[i], sink.len[i], &ds, &d), 0,
		    "v9 stream: datagram decodes after its templates");
		T_EQ_U64(d.seq, (uint64_t)i, "v9 stream: sequence counts packets");
		T_OK(sink.len[i] <= 600, "v9 stream: datagram <= mtu");
		if (d.n_tmpl > 0) {
			/* Flow time of this datagram's first record. */
			uint64_t t = (uint64_t)d.secs * 1000 - d.uptime +
			    d.rec[0].v[22];

			n_tmpl_dg++;
			T_OK(n_tmpl_dg == 1 || t >= T0_US / 1000 + 10000 *
			    (uint64_t)(n_tmpl_dg - 1),
			    "v9 stream: refresh %d after 10 s (%llu ms)",
			    n_tmpl_dg, (unsigned long long)(t - T0_US / 1000));
		}
	}
	/* 60 records every 0.5 s span 29.5 s: templates at 0, 10, 20 s. */
	T_EQ_INT(n_tmpl_dg, 3, "v9 stream: templates at start and twice more");

	/* Refresh by count: every 4th datagram after 3 without. */
	sink_reset();
	memset(&ds, 0, sizeof(ds));
	c.template_s = 0;
	c.template_dgrams = 3;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	for (i = 0; i < 100; i++)
		xp_enc_add(&enc, &r[0], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	for (i = 0; i < sink.n; i++)
		if (sink.has_tmpl[i] != (i % 4 == 0))
			break;
	T_OK(sink.n > 8 && i == sink.n,
	    "v9: templates in datagrams 0, 4, 8, ... (%d datagrams)", sink.n);

	/* Sampling: options template (flowset 1) and its data record. */
	sink_reset();
	memset(&ds, 0, sizeof(ds));
	enc_cfg(&c, XP_NETFLOW9);
	c.sampling = 64;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	xp_enc_add(&enc, &r[0], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	T_EQ_INT(decode(sink.buf[0], sink.len[0], &ds, &d), 0,
	    "v9 sampled: decodes");
	T_EQ_INT(d.n_opt_tmpl, 1, "v9 sampled: options template");
	T_EQ_INT(d.n_opt, 1, "v9 sampled: options record");
	T_EQ_U64(d.opt.v[34], 64, "v9 sampled: SAMPLING_INTERVAL 64");
	T_EQ_U64(d.opt.v[35], 1, "v9 sampled: SAMPLING_ALGORITHM deterministic");
	T_EQ_INT(tmpl_find(&ds, XP_TID_OPTIONS)->n_scope, 1,
	    "v9 sampled: one scope field");
	T_EQ_INT(tmpl_find(&ds, XP_TID_OPTIONS)->f[0].id, 1,
	    "v9 sampled: scope System (1)");
	T_EQ_INT(d.count, 2 + 1 + 1 + 2, "v9 sampled: count includes options");
	T_OK(d.sets_aligned, "v9 sampled: FlowSets padded");
}

static void
test_ipfix(void)
{
	struct xp_enc enc;
	struct xp_enc_config c;
	struct dstate ds;
	static struct dgram d;
	struct convrec r[4];
	const struct drec *p;
	struct dtmpl *t;
	uint32_t seq;
	int i, j, rev = 0, total;

	sink_reset();
	memset(&ds, 0, sizeof(ds));
	enc_cfg(&c, XP_IPFIX);
	c.domain = 4242;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	four_recs(r);
	for (i = 0; i < 4; i++)
		xp_enc_add(&enc, &r[i], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	T_EQ_INT(sink.n, 1, "ipfix: one message");
	T_EQ_INT(decode(sink.buf[0], sink.len[0], &ds, &d), 0,
	    "ipfix: decodes");
	T_EQ_INT(d.version, 10, "ipfix: version 10");
	T_EQ_INT(d.length, sink.len[0], "ipfix: length = message size");
	T_EQ_INT(d.domain, 4242, "ipfix: observation domain");
	T_EQ_INT(d.seq, 0, "ipfix: sequence 0");
	T_EQ_U64(d.secs, (T0_US + 4000000) / 1000000, "ipfix: export time");
	T_EQ_INT(d.n_tmpl, 2, "ipfix: two templates in set 2");
	T_EQ_INT(d.n_rec, 4, "ipfix biflow: one record per conversation");
	t = tmpl_find(&ds, 256);
	for (i = 0; t != NULL && i < t->n; i++)
		if (t->f[i].pen == XP_PEN_REVERSE)
			rev |= 1 << t->f[i].id;
	T_OK(rev == (1 << 1 | 1 << 2 | 1 << 6),
	    "ipfix biflow: reverse octets, packets, flags with PEN 29305");
	p = &d.rec[0];
	T_OK(addr_eq(p->src, "10.1.2.3") && addr_eq(p->dst, "192.0.2.80"),
	    "ipfix: sourceIPv4Address/destinationIPv4Address");
	T_EQ_INT(p->v[7], 40000, "ipfix: sourceTransportPort");
	T_EQ_INT(p->v[11], 443, "ipfix: destinationTransportPort");
	T_EQ_INT(p->v[4], 6, "ipfix: protocolIdentifier");
	T_EQ_U64(p->v[2], 10, "ipfix: packetDeltaCount");
	T_EQ_U64(p->v[1], 1500, "ipfix: octetDeltaCount");
	T_EQ_INT(p->v[6], 0x1b, "ipfix: tcpControlBits");
	T_EQ_U64(p->r[2], 8, "ipfix: reversePacketDeltaCount");
	T_EQ_U64(p->r[1], 9000, "ipfix: reverseOctetDeltaCount");
	T_EQ_INT(p->r[6], 0x12, "ipfix: reverseTcpControlBits");
	T_EQ_U64(p->v[152], (T0_US + 1000) / 1000,
	    "ipfix: flowStartMilliseconds = conversation start");
	T_EQ_U64(p->v[153], (T0_US + 3001000) / 1000,
	    "ipfix: flowEndMilliseconds = conversation end");
	T_EQ_U64(p->v[148], 0x1122334455667788ull, "ipfix: flowId = conv_id");
	T_EQ_INT(p->v[136], 3, "ipfix: flowEndReason");
	T_EQ_INT(d.rec[1].v[58], 42, "ipfix: vlanId");
	T_EQ_U64(d.rec[1].r[2], 0, "ipfix: one-way: reverse packets 0");
	T_OK(addr_eq(d.rec[2].src, "2001:db8::1"), "ipfix: IPv6 record");
	T_EQ_INT(d.rec[2].tid, 257, "ipfix: IPv6 in set 257");
	T_EQ_INT(d.rec[3].v[32], 8 << 8, "ipfix: icmpTypeCodeIPv4 8.0");
	T_EQ_INT(d.rec[3].v[11], 8 << 8, "ipfix: ... and destinationTransportPort");
	T_OK(d.rec[2].has[139] && d.rec[2].v[139] == 0,
	    "ipfix: icmpTypeCodeIPv6 0 for TCP");

	/* Unidirectional: two records, swapped, own times. */
	sink_reset();
	memset(&ds, 0, sizeof(ds));
	c.biflow = 0;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	xp_enc_add(&enc, &r[0], T0_US + 4000000);
	xp_enc_add(&enc, &r[1], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	decode(sink.buf[0], sink.len[0], &ds, &d);
	T_EQ_INT(d.n_rec, 3, "ipfix uni: 2 + 1 records");
	t = tmpl_find(&ds, 256);
	for (i = 0, rev = 0; t != NULL && i < t->n; i++)
		rev += t->f[i].pen != 0;
	T_EQ_INT(rev, 0, "ipfix uni: no enterprise elements");
	T_OK(addr_eq(d.rec[1].src, "192.0.2.80"), "ipfix uni: reverse source");
	T_EQ_INT(d.rec[1].v[7], 443, "ipfix uni: reverse sport");
	T_EQ_U64(d.rec[1].v[2], 8, "ipfix uni: reverse packets");
	T_EQ_U64(d.rec[1].v[152], (T0_US + 21000) / 1000,
	    "ipfix uni: reverse start from its first packet");
	T_EQ_U64(d.rec[0].v[153], (T0_US + 2500000) / 1000,
	    "ipfix uni: forward end from its last packet");
	T_EQ_U64(d.rec[1].v[148], d.rec[0].v[148],
	    "ipfix uni: both halves carry the conversation id");

	/* Sequence counts data records; options records count too. */
	sink_reset();
	memset(&ds, 0, sizeof(ds));
	enc_cfg(&c, XP_IPFIX);
	c.sampling = 10;
	c.template_dgrams = 2;
	c.mtu = 700;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	for (i = 0; i < 50; i++)
		for (j = 0; j < 4; j++)
			xp_enc_add(&enc, &r[j], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	seq = 0;
	total = 0;
	for (i = 0; i < sink.n; i++) {
		T_EQ_INT(decode(sink.buf[i], sink.len[i], &ds, &d), 0,
		    "ipfix stream: message decodes");
		T_EQ_U64(d.seq, seq, "ipfix stream: sequence = records before");
		T_OK(d.length <= 700, "ipfix stream: message <= mtu");
		T_EQ_INT(d.n_tmpl > 0, i % 3 == 0,
		    "ipfix stream: templates every 3rd message");
		if (d.n_tmpl > 0) {
			T_EQ_INT(d.n_opt, 1, "ipfix sampled: options record");
			T_EQ_U64(d.opt.v[34], 10, "ipfix: samplingInterval");
			T_EQ_U64(d.opt.v[305], 1, "ipfix: samplingPacketInterval");
			T_EQ_U64(d.opt.v[306], 9, "ipfix: samplingPacketSpace");
			T_EQ_U64(d.opt.v[149], 0, "ipfix: scope domain id");
		}
		seq += (uint32_t)(d.n_rec + d.n_opt);
		total += d.n_rec;
	}
	T_EQ_INT(total, 200, "ipfix stream: all 200 records");
	T_EQ_U64(enc.st.n_flows, 200, "ipfix stream: stats flows");
}

static void
test_misc(void)
{
	struct xp_enc enc;
	struct xp_enc_config c;
	struct dstate ds;
	static struct dgram d;
	struct convrec r[4], e;

	four_recs(r);
	/* END_NONE start notices and empty records are not exported. */
	sink_reset();
	enc_cfg(&c, XP_IPFIX);
	xp_enc_init(&enc, &c, sink_emit, &sink);
	e = r[0];
	e.reason = END_NONE;
	xp_enc_add(&enc, &e, T0_US);
	mkrec(&e, "10.0.0.1", 1, "10.0.0.2", 2, 6, 0, 0, 0, 0);
	xp_enc_add(&enc, &e, T0_US);
	xp_enc_flush(&enc, T0_US);
	T_EQ_INT(sink.n, 0, "start notice and empty record: nothing sent");
	T_EQ_U64(enc.st.n_records, 1, "start notice not counted as record");
	T_EQ_U64(enc.st.n_empty, 1, "empty record counted");

	/* A lost template datagram brings templates back next time. */
	sink_reset();
	memset(&ds, 0, sizeof(ds));
	enc_cfg(&c, XP_NETFLOW9);
	xp_enc_init(&enc, &c, sink_emit, &sink);
	sink.fail_next = 1;
	xp_enc_add(&enc, &r[0], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	T_EQ_U64(enc.st.n_lost, 1, "lost datagram counted");
	T_EQ_U64(enc.st.n_lost_flows, 2, "its flows counted");
	xp_enc_add(&enc, &r[0], T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	T_EQ_INT(sink.n, 1, "next datagram sent");
	T_OK(sink.has_tmpl[0], "next datagram carries the templates again");
	T_EQ_INT(decode(sink.buf[0], sink.len[0], &ds, &d), 0,
	    "fresh collector decodes it");
	T_EQ_INT(d.seq, 1, "sequence shows the lost datagram as a gap");

	/* Records starting before sysUptime 0 are clamped and counted. */
	sink_reset();
	enc_cfg(&c, XP_NETFLOW5);
	xp_enc_init(&enc, &c, sink_emit, &sink);
	e = r[0];
	e.fwd.first_us = T0_US - 5000000;
	xp_enc_add(&enc, &e, T0_US + 4000000);
	xp_enc_flush(&enc, T0_US + 4000000);
	T_EQ_U64(enc.st.n_time_clamped, 1, "time before boot clamped");

	/* Without start_us the first call's time (or record start) is boot. */
	sink_reset();
	memset(&ds, 0, sizeof(ds));
	enc_cfg(&c, XP_NETFLOW9);
	c.start_us = 0;
	xp_enc_init(&enc, &c, sink_emit, &sink);
	xp_enc_add(&enc, &r[0], T0_US + 9000000);
	xp_enc_flush(&enc, T0_US + 9000000);
	decode(sink.buf[0], sink.len[0], &ds, &d);
	T_EQ_U64((uint64_t)d.secs * 1000 - d.uptime + d.rec[0].v[22],
	    (T0_US + 1000) / 1000, "lazy boot still maps FIRST exactly");
	T_EQ_U64(enc.st.n_time_clamped, 0, "lazy boot: nothing clamped");
	T_EQ_INT(strcmp(xp_kind_name(XP_NETFLOW5), "netflow5"), 0,
	    "kind name netflow5");
}

/* ---- the socket side ---------------------------------------------------- */

static int
udp_listener(int family, uint16_t *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = family == AF_INET ? sizeof(*sin) : sizeof(*sin6);
	int fd, rcv = 4 << 20;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
	}
	if ((fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? sin->sin_port : sin6->sin6_port);
	return fd;
}

/* Read every datagram waiting (100 ms quiet ends it); count records. */
static int
drain_listener(int fd, struct dstate *ds, int *n_rec, uint32_t *last_seq,
    int *gaps, int version)
{
	static uint8_t buf[65536];
	static struct dgram d;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint32_t expect = 0;
	ssize_t n;
	int n_dg = 0;

	*n_rec = 0;
	*gaps = 0;
	while (poll(&pfd, 1, 100) == 1) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) <= 0)
			break;
		if (decode(buf, (size_t)n, ds, &d) == -1)
			return -1;
		if (n_dg > 0 && d.seq != expect)
			(*gaps)++;
		expect = d.seq + (version == 9 ? 1u :
		    (uint32_t)(d.n_rec + d.n_opt));
		*last_seq = d.seq;
		*n_rec += d.n_rec;
		n_dg++;
	}
	return n_dg;
}

static uint64_t
mono_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
test_socket(void)
{
	struct xp_config cfg;
	struct xp_stats st;
	struct exporter *ex;
	struct dstate ds;
	struct pktinfo pi;
	struct convrec r[4];
	uint8_t la[16];
	uint16_t lport, port;
	uint32_t last;
	uint64_t t0, t1;
	int fd, i, n_dg, n_rec, gaps;

	four_recs(r);
	memset(&cfg, 0, sizeof(cfg));
	T_OK(xp_new(&cfg) == NULL, "xp_new refuses port 0");
	if ((fd = udp_listener(AF_INET, &port)) == -1) {
		T_OK(0, "udp listener: %s", strerror(errno));
		return;
	}
	xp_config_defaults(&cfg);
	cfg.enc.kind = XP_NETFLOW9;
	cfg.enc.start_us = T0_US;
	addr_parse("127.0.0.1", cfg.addr);
	cfg.port = port;
	cfg.lossless = 1;
	ex = xp_new(&cfg);
	T_OK(ex != NULL, "xp_new netflow9@127.0.0.1");
	if (ex == NULL) {
		close(fd);
		return;
	}
	T_EQ_INT(xp_get_local(ex, la, &lport), 0, "xp_get_local");
	T_OK(addr_eq(la, "127.0.0.1") && lport != 0,
	    "local side is 127.0.0.1 and a bound port (%u)", lport);
	memset(&pi, 0, sizeof(pi));
	pi.flags = PI_HAS_L3 | PI_HAS_PORTS;
	pi.family = 4;
	pi.proto = 17;
	memcpy(pi.src, la, 16);
	memcpy(pi.dst, cfg.addr, 16);
	pi.sport = lport;
	pi.dport = port;
	T_OK(xp_is_own_packet(ex, &pi), "own export datagram recognised");
	memcpy(pi.src, cfg.addr, 16);
	memcpy(pi.dst, la, 16);
	pi.sport = port;
	pi.dport = lport;
	T_OK(xp_is_own_packet(ex, &pi), "collector's reply recognised");
	pi.dport = (uint16_t)(lport + 1);
	T_OK(!xp_is_own_packet(ex, &pi), "other port is not ours");
	pi.dport = lport;
	pi.proto = 6;
	T_OK(!xp_is_own_packet(ex, &pi), "TCP is not ours");
	T_EQ_INT(xp_poll_ms(ex), -1, "nothing queued: poll -1");

	xp_record(ex, &r[0], T0_US + 4000000);
	memset(&ds, 0, sizeof(ds));
	n_dg = drain_listener(fd, &ds, &n_rec, &last, &gaps, 9);
	T_EQ_INT(n_dg, 0, "a partial datagram is held back");
	xp_tick(ex, T0_US + 5000000);
	n_dg = drain_listener(fd, &ds, &n_rec, &last, &gaps, 9);
	T_EQ_INT(n_dg, 1, "xp_tick sends the partial datagram");
	T_EQ_INT(n_rec, 2, "with both uniflows");
	for (i = 0; i < 300; i++)
		xp_record(ex, &r[i % 4], T0_US + 5000000);
	xp_free(ex);
	n_dg = drain_listener(fd, &ds, &n_rec, &last, &gaps, 9);
	T_OK(n_dg > 10, "300 conversations in %d datagrams", n_dg);
	T_EQ_INT(n_rec, 75 * 7, "every record arrived (xp_free flushes)");
	T_EQ_INT(gaps, 0, "no sequence gaps");
	T_EQ_INT(last, n_dg, "last sequence = datagrams before it");

	/* Pacing, lossless: 1000 records/s, burst 100. */
	cfg.enc.kind = XP_IPFIX;
	cfg.max_rate = 1000;
	cfg.burst = 100;
	ex = xp_new(&cfg);
	t0 = mono_now_us();
	for (i = 0; i < 400; i++)
		xp_record(ex, &r[i % 4], T0_US + 5000000);
	xp_flush(ex, T0_US + 5000000);
	t1 = mono_now_us();
	xp_get_stats(ex, &st);
	T_OK(t1 - t0 >= 250000, "400 records at 1000/s, burst 100: "
	    "%llu ms >= 250 ms", (unsigned long long)(t1 - t0) / 1000);
	T_OK(t1 - t0 < 2000000, "... and not absurdly slow");
	T_OK(st.n_waits > 0, "pacer waited (%llu times)",
	    (unsigned long long)st.n_waits);
	T_EQ_U64(st.n_drop_datagrams, 0, "lossless: nothing dropped");
	xp_free(ex);
	memset(&ds, 0, sizeof(ds));
	n_dg = drain_listener(fd, &ds, &n_rec, &last, &gaps, 10);
	T_EQ_INT(n_rec, 400, "lossless paced: all 400 biflow records arrived");
	T_EQ_INT(gaps, 0, "lossless paced: no sequence gaps");
	T_EQ_U64(st.n_datagrams, (uint64_t)n_dg, "stats datagrams = received");

	/* Live: a tiny queue and a slow pacer drop, count, and never block. */
	cfg.lossless = 0;
	cfg.max_rate = 100;
	cfg.burst = 20;
	cfg.queue = 2;
	ex = xp_new(&cfg);
	t0 = mono_now_us();
	for (i = 0; i < 400; i++)
		xp_record(ex, &r[i % 4], T0_US + 5000000);
	t1 = mono_now_us();
	xp_get_stats(ex, &st);
	T_OK(t1 - t0 < 200000, "live: 400 records did not block (%llu ms)",
	    (unsigned long long)(t1 - t0) / 1000);
	T_OK(st.n_drop_datagrams > 0, "live: overflow dropped %llu datagrams",
	    (unsigned long long)st.n_drop_datagrams);
	T_OK(st.queued > 0 && st.queued <= 2, "live: queue holds at most 2");
	T_OK(xp_poll_ms(ex) > 0, "live: poll timeout tells when to send");
	xp_flush(ex, T0_US + 5000000);
	xp_get_stats(ex, &st);
	T_EQ_U64(st.queued, 0, "live: xp_flush empties the queue");
	xp_free(ex);
	memset(&ds, 0, sizeof(ds));
	n_dg = drain_listener(fd, &ds, &n_rec, &last, &gaps, 10);
	T_OK(n_dg > 0 && gaps > 0, "live: collector sees the loss as "
	    "sequence gaps (%d)", gaps);
	T_EQ_INT(n_rec + (int)st.n_drop_flows, 400,
	    "live: received + dropped = all records");
	close(fd);

	/* IPv6 loopback, if the host has it. */
	if ((fd = udp_listener(AF_INET6, &port)) == -1) {
		printf("skip - no IPv6 loopback\n");
		return;
	}
	xp_config_defaults(&cfg);
	cfg.enc.kind = XP_IPFIX;
	addr_parse("::1", cfg.addr);
	cfg.port = port;
	ex = xp_new(&cfg);
	T_OK(ex != NULL, "xp_new ipfix@[::1]");
	if (ex != NULL) {
		xp_get_local(ex, la, &lport);
		T_OK(addr_eq(la, "::1"), "local side ::1");
		xp_record(ex, &r[2], T0_US + 5000000);
		xp_free(ex);
		memset(&ds, 0, sizeof(ds));
		n_dg = drain_listener(fd, &ds, &n_rec, &last, &gaps, 10);
		T_EQ_INT(n_rec, 1, "IPv6 collector got the record");
	}
	close(fd);
}

int
main(void)
{
	test_config();
	test_reason();
	test_parse_target();
	test_v5();
	test_v9();
	test_ipfix();
	test_misc();
	test_socket();
	return t_done();
}
