/*
 * pktgen.h: build real packets and write them as a classic pcap (header
 * only; for test and benchmark tools, never linked into sensord).
 *
 * Frames are Ethernet II (optionally one 802.1Q tag) carrying IPv4 or IPv6
 * with TCP, UDP or ICMP/ICMPv6 and correct checksums, so tshark and
 * softflowd read them as real traffic.  Output is buffered stdio.
 *
 *	struct pg pg;
 *	pg_open(&pg, "out.pcap");
 *	struct pg_pkt p = { .ts_us = ..., .proto = 6, .flags = TH_SYN, ... };
 *	pg_addr4(p.src, 10, 0, 0, 1); pg_addr4(p.dst, 192, 0, 2, 1);
 *	pg_write(&pg, &p);
 *	pg_close(&pg);
 */
#ifndef SENSORD_PKTGEN_H
#define SENSORD_PKTGEN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PG_FIN	0x01
#define PG_SYN	0x02
#define PG_RST	0x04
#define PG_PSH	0x08
#define PG_ACK	0x10

struct pg {
	FILE		*f;
	uint64_t	 n_pkts;
	uint64_t	 n_bytes;	/* bytes written to the file */
};

struct pg_pkt {
	uint64_t	 ts_us;
	uint8_t		 src[16];	/* IPv4-mapped (pg_addr4) or IPv6 */
	uint8_t		 dst[16];
	uint8_t		 proto;		/* 6, 17, 1 or 58 */
	uint8_t		 flags;		/* TCP flags */
	uint8_t		 icmp_type;
	uint8_t		 icmp_code;
	uint16_t	 sport, dport;
	uint16_t	 vlan;		/* 0 = untagged */
	uint32_t	 seq, ack;
	const uint8_t	*payload;	/* NULL: zero bytes of plen */
	uint32_t	 plen;		/* payload bytes */
};

static inline void
pg_addr4(uint8_t a[16], unsigned b0, unsigned b1, unsigned b2, unsigned b3)
{
	memset(a, 0, 10);
	a[10] = a[11] = 0xff;
	a[12] = (uint8_t)b0;
	a[13] = (uint8_t)b1;
	a[14] = (uint8_t)b2;
	a[15] = (uint8_t)b3;
}

/* IPv4 address from a 32-bit host-order number. */
static inline void
pg_addr4n(uint8_t a[16], uint32_t n)
{
	pg_addr4(a, n >> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

static inline int
pg_is_v4(const uint8_t a[16])
{
	static const uint8_t m[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, m, 12) == 0;
}

static inline void
pg_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
pg_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
pg_sum(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t
pg_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static inline int
pg_open(struct pg *pg, const char *path)
{
	uint8_t h[24];

	memset(pg, 0, sizeof(*pg));
	if ((pg->f = fopen(path, "wb")) == NULL)
		return -1;
	/* Little-endian classic pcap, microseconds, DLT_EN10MB. */
	h[0] = 0xd4; h[1] = 0xc3; h[2] = 0xb2; h[3] = 0xa1;
	h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0;
	memset(h + 8, 0, 8);
	h[16] = 0xff; h[17] = 0xff; h[18] = 0; h[19] = 0;	/* snaplen 65535 */
	h[20] = 1; h[21] = h[22] = h[23] = 0;
	if (fwrite(h, 1, sizeof(h), pg->f) != sizeof(h))
		return -1;
	pg->n_bytes = sizeof(h);
	return 0;
}

static inline int
pg_close(struct pg *pg)
{
	int rc = fclose(pg->f);

	pg->f = NULL;
	return rc == 0 ? 0 : -1;
}

/* Build one frame into buf (>= 1600 + plen bytes); returns its length. */
static inline size_t
pg_build(const struct pg_pkt *p, uint8_t *buf)
{
	int v4 = pg_is_v4(p->src);
	size_t off = 0, l3, l4, l4len, hl = 0;
	uint32_t s;

	/* Ethernet: locally administered MACs derived from the addresses. */
	buf[0] = 0x02; memcpy(buf + 1, p->dst + 11, 5);
	buf[6] = 0x02; memcpy(buf + 7, p->src + 11, 5);
	off = 12;
	if (p->vlan) {
		pg_put16(buf + off, 0x8100);
		pg_put16(buf + off + 2, p->vlan & 0x0fff);
		off += 4;
	}
	pg_put16(buf + off, v4 ? 0x0800 : 0x86dd);
	off += 2;
	l3 = off;
	switch (p->proto) {
	case 6: hl = 20; break;
	case 17: hl = 8; break;
	default: hl = 8; break;	/* ICMP / ICMPv6 echo-style header */
	}
	l4len = hl + p->plen;
	l4 = l3 + (v4 ? 20 : 40);
	if (v4) {
		uint8_t *ip = buf + l3;

		ip[0] = 0x45; ip[1] = 0;
		pg_put16(ip + 2, (unsigned)(20 + l4len));
		pg_put16(ip + 4, (unsigned)(p->seq & 0xffff));
		pg_put16(ip + 6, 0x4000);
		ip[8] = 64; ip[9] = p->proto;
		pg_put16(ip + 10, 0);
		memcpy(ip + 12, p->src + 12, 4);
		memcpy(ip + 16, p->dst + 12, 4);
		pg_put16(ip + 10, pg_fold(pg_sum(ip, 20, 0)));
	} else {
		uint8_t *ip = buf + l3;

		pg_put32(ip, 0x60000000u);
		pg_put16(ip + 4, (unsigned)l4len);
		ip[6] = p->proto; ip[7] = 64;
		memcpy(ip + 8, p->src, 16);
		memcpy(ip + 24, p->dst, 16);
	}
	memset(buf + l4, 0, hl);
	if (p->payload != NULL)
		memcpy(buf + l4 + hl, p->payload, p->plen);
	else
		memset(buf + l4 + hl, 0, p->plen);
	switch (p->proto) {
	case 6:
		pg_put16(buf + l4, p->sport);
		pg_put16(buf + l4 + 2, p->dport);
		pg_put32(buf + l4 + 4, p->seq);
		pg_put32(buf + l4 + 8, p->ack);
		buf[l4 + 12] = 5 << 4;
		buf[l4 + 13] = p->flags;
		pg_put16(buf + l4 + 14, 65535);
		break;
	case 17:
		pg_put16(buf + l4, p->sport);
		pg_put16(buf + l4 + 2, p->dport);
		pg_put16(buf + l4 + 4, (unsigned)l4len);
		break;
	default:
		buf[l4] = p->icmp_type;
		buf[l4 + 1] = p->icmp_code;
		pg_put16(buf + l4 + 4, p->sport);	/* identifier */
		pg_put16(buf + l4 + 6, (unsigned)(p->seq & 0xffff));
		break;
	}
	/* Transport checksum over the pseudo-header (ICMPv4 has none). */
	s = 0;
	if (p->proto != 1) {
		if (v4) {
			s = pg_sum(p->src + 12, 4, s);
			s = pg_sum(p->dst + 12, 4, s);
			s += p->proto + (uint32_t)l4len;
		} else {
			s = pg_sum(p->src, 16, s);
			s = pg_sum(p->dst, 16, s);
			s += (uint32_t)l4len + p->proto;
		}
	}
	s = pg_sum(buf + l4, l4len, s);
	{
		uint16_t c = pg_fold(s);
		size_t at = p->proto == 6 ? 16 : p->proto == 17 ? 6 : 2;

		if (p->proto == 17 && c == 0)
			c = 0xffff;
		pg_put16(buf + l4 + at, c);
	}
	return l4 + l4len;
}

/* Append one packet; frames shorter than 60 bytes are padded as on wire. */
static inline int
pg_write(struct pg *pg, const struct pg_pkt *p)
{
	static uint8_t buf[70000];
	uint8_t rh[16];
	size_t n;
	uint32_t sec = (uint32_t)(p->ts_us / 1000000);
	uint32_t usec = (uint32_t)(p->ts_us % 1000000);

	if (p->plen > 65000)
		return -1;
	n = pg_build(p, buf);
	if (n < 60) {
		memset(buf + n, 0, 60 - n);
		n = 60;
	}
	rh[0] = (uint8_t)sec; rh[1] = (uint8_t)(sec >> 8);
	rh[2] = (uint8_t)(sec >> 16); rh[3] = (uint8_t)(sec >> 24);
	rh[4] = (uint8_t)usec; rh[5] = (uint8_t)(usec >> 8);
	rh[6] = (uint8_t)(usec >> 16); rh[7] = (uint8_t)(usec >> 24);
	rh[8] = (uint8_t)n; rh[9] = (uint8_t)(n >> 8);
	rh[10] = (uint8_t)(n >> 16); rh[11] = (uint8_t)(n >> 24);
	memcpy(rh + 12, rh + 8, 4);
	if (fwrite(rh, 1, 16, pg->f) != 16 || fwrite(buf, 1, n, pg->f) != n)
		return -1;
	pg->n_pkts++;
	pg->n_bytes += 16 + n;
	return 0;
}

/*
 * A whole TCP session: handshake, `n_data` data segments each way of
 * `seg` bytes (alternating), and a FIN teardown from the client (or RST if
 * `rst`).  Times advance by `gap_us` per packet.  Returns the end time.
 */
static inline uint64_t
pg_tcp_session(struct pg *pg, uint64_t t, const uint8_t c[16],
    const uint8_t s[16], uint16_t cport, uint16_t sport, int n_data,
    uint32_t seg, uint64_t gap_us, int rst)
{
	struct pg_pkt p;
	uint32_t cs = 1000, ss = 5000;
	int i;

	memset(&p, 0, sizeof(p));
	p.proto = 6;
#define PG_C2S(fl, len) do { memcpy(p.src, c, 16); memcpy(p.dst, s, 16); \
	p.sport = cport; p.dport = sport; p.flags = (fl); p.plen = (len); \
	p.seq = cs; p.ack = (fl) == PG_SYN ? 0 : ss; p.ts_us = t; pg_write(pg, &p); t += gap_us; \
	cs += (len); } while (0)
#define PG_S2C(fl, len) do { memcpy(p.src, s, 16); memcpy(p.dst, c, 16); \
	p.sport = sport; p.dport = cport; p.flags = (fl); p.plen = (len); \
	p.seq = ss; p.ack = cs; p.ts_us = t; pg_write(pg, &p); t += gap_us; \
	ss += (len); } while (0)
	/* SYN and FIN each take one sequence number (RFC 9293 3.4). */
	PG_C2S(PG_SYN, 0);
	cs++;
	PG_S2C(PG_SYN | PG_ACK, 0);
	ss++;
	PG_C2S(PG_ACK, 0);
	for (i = 0; i < n_data; i++) {
		PG_C2S(PG_ACK | PG_PSH, seg);
		PG_S2C(PG_ACK | PG_PSH, seg);
	}
	if (rst) {
		PG_C2S(PG_RST | PG_ACK, 0);
	} else {
		PG_C2S(PG_FIN | PG_ACK, 0);
		cs++;
		PG_S2C(PG_FIN | PG_ACK, 0);
		ss++;
		PG_C2S(PG_ACK, 0);
	}
#undef PG_C2S
#undef PG_S2C
	return t;
}

#endif /* SENSORD_PKTGEN_H */
