/*
 * test_decode.c: dec_packet() on hand-built packets, one layer at a time.
 *
 * Packets are written byte by byte with the small pb_* builders below (no
 * struct overlays, no checksums: the decoder reads none).  Every expected
 * value is a literal worked out from the bytes written, never recomputed
 * with the decoder's own arithmetic.  Each packet is copied into a heap
 * buffer of exactly caplen bytes so that ASan catches any read past the
 * capture, and pi is poisoned first so that a field the decoder forgot to
 * zero shows up.  The last check asserts that every dec_result was reached.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "t.h"

/* --- packet builder -------------------------------------------------- */

struct pb {
	uint8_t	b[1024];
	size_t	n;
};

static void
pb_u8(struct pb *p, unsigned v)
{
	if (p->n >= sizeof(p->b))
		abort();
	p->b[p->n++] = (uint8_t)v;
}

static void
pb_u16(struct pb *p, unsigned v)
{
	pb_u8(p, v >> 8);
	pb_u8(p, v);
}

static void
pb_u32(struct pb *p, uint32_t v)
{
	pb_u16(p, v >> 16);
	pb_u16(p, v);
}

static void
pb_le32(struct pb *p, uint32_t v)
{
	pb_u8(p, v);
	pb_u8(p, v >> 8);
	pb_u8(p, v >> 16);
	pb_u8(p, v >> 24);
}

static void
pb_fill(struct pb *p, unsigned byte, size_t n)
{
	while (n-- > 0)
		pb_u8(p, byte);
}

static void
pb_bytes(struct pb *p, const uint8_t *b, size_t n)
{
	while (n-- > 0)
		pb_u8(p, *b++);
}

static const uint8_t V4A[4] = { 192, 0, 2, 1 };
static const uint8_t V4B[4] = { 198, 51, 100, 2 };
static const uint8_t V4A_MAPPED[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff, 192, 0, 2, 1 };
static const uint8_t V4B_MAPPED[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff, 198, 51, 100, 2 };
static const uint8_t V6A[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t V6B[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0xab, 0xcd };

/* Ethernet II: dst 02:00:00:00:00:01, src 02:00:00:00:00:02. */
static void
pb_eth(struct pb *p, unsigned type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	pb_bytes(p, macs, sizeof(macs));
	pb_u16(p, type);
}

/* The 4 bytes after a TPID: TCI, then the inner ethertype. */
static void
pb_tag(struct pb *p, unsigned tci, unsigned type)
{
	pb_u16(p, tci);
	pb_u16(p, type);
}

/* 20-byte IPv4 header; the caller writes ihl*4-20 bytes of options. */
static void
pb_ipv4(struct pb *p, unsigned ihl, unsigned tot, unsigned frag,
    unsigned proto)
{
	pb_u8(p, 0x40 | ihl);
	pb_u8(p, 0);		/* TOS */
	pb_u16(p, tot);
	pb_u16(p, 0x1234);	/* id */
	pb_u16(p, frag);
	pb_u8(p, 64);		/* TTL */
	pb_u8(p, proto);
	pb_u16(p, 0);		/* checksum, not checked */
	pb_bytes(p, V4A, 4);
	pb_bytes(p, V4B, 4);
}

static void
pb_ipv6(struct pb *p, unsigned plen, unsigned nh)
{
	pb_u32(p, 0x60012345);	/* version 6, tc 0, flow label 0x12345 */
	pb_u16(p, plen);
	pb_u8(p, nh);
	pb_u8(p, 255);		/* hop limit */
	pb_bytes(p, V6A, 16);
	pb_bytes(p, V6B, 16);
}

/* 20-byte TCP header; doff is in 4-byte words, ns the flag in byte 12. */
static void
pb_tcp(struct pb *p, unsigned sport, unsigned dport, uint32_t seq,
    uint32_t ack, unsigned doff, unsigned ns, unsigned flags, unsigned win)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u32(p, seq);
	pb_u32(p, ack);
	pb_u8(p, doff << 4 | ns);
	pb_u8(p, flags);
	pb_u16(p, win);
	pb_u16(p, 0);		/* checksum */
	pb_u16(p, 0);		/* urgent pointer */
}

static void
pb_udp(struct pb *p, unsigned sport, unsigned dport, unsigned len)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u16(p, len);
	pb_u16(p, 0);
}

/* Generic IPv6 extension header of (len8 + 1) * 8 bytes, zero padded. */
static void
pb_ext(struct pb *p, unsigned nh, unsigned len8)
{
	pb_u8(p, nh);
	pb_u8(p, len8);
	pb_fill(p, 0, (size_t)(len8 + 1) * 8 - 2);
}

/* IPv6 Authentication Header of (len4 + 2) * 4 bytes. */
static void
pb_ah(struct pb *p, unsigned nh, unsigned len4)
{
	pb_u8(p, nh);
	pb_u8(p, len4);
	pb_fill(p, 0, (size_t)(len4 + 2) * 4 - 2);
}

static void
pb_frag6(struct pb *p, unsigned nh, unsigned offset8, unsigned more)
{
	pb_u8(p, nh);
	pb_u8(p, 0);
	pb_u16(p, offset8 << 3 | more);
	pb_u32(p, 0xdeadbeef);
}

/* --- decoding --------------------------------------------------------- */

#define TS	1700000000123456ULL

static int seen[DEC__COUNT];

/*
 * Decode caplen bytes of p from an exact-size heap copy, pretending the
 * frame was wirelen bytes on the wire.
 */
static enum dec_result
dec_cut(int dlt, const struct pb *p, size_t caplen, uint32_t wirelen,
    struct pktinfo *pi)
{
	enum dec_result r;
	uint8_t *q;

	if (caplen > p->n)
		abort();
	if ((q = malloc(caplen > 0 ? caplen : 1)) == NULL)
		abort();
	memcpy(q, p->b, caplen);
	memset(pi, 0xa5, sizeof(*pi));
	r = dec_packet(dlt, q, (uint32_t)caplen, wirelen, TS, pi);
	free(q);
	if ((unsigned)r < DEC__COUNT)
		seen[r]++;
	return r;
}

/* The whole frame captured. */
static enum dec_result
dec(int dlt, const struct pb *p, struct pktinfo *pi)
{
	return dec_cut(dlt, p, p->n, (uint32_t)p->n, pi);
}

static void
check_v4_addrs(const struct pktinfo *pi, const char *what)
{
	char name[128];

	snprintf(name, sizeof(name), "%s: src ::ffff:192.0.2.1", what);
	T_EQ_MEM(pi->src, V4A_MAPPED, 16, name);
	snprintf(name, sizeof(name), "%s: dst ::ffff:198.51.100.2", what);
	T_EQ_MEM(pi->dst, V4B_MAPPED, 16, name);
}

static void
check_v6_addrs(const struct pktinfo *pi, const char *what)
{
	char name[128];

	snprintf(name, sizeof(name), "%s: src 2001:db8::1", what);
	T_EQ_MEM(pi->src, V6A, 16, name);
	snprintf(name, sizeof(name), "%s: dst 2001:db8::abcd", what);
	T_EQ_MEM(pi->dst, V6B, 16, name);
}

/* --- Ethernet / IPv4 / TCP, every field -------------------------------- */

static void
test_eth_ipv4_tcp(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 46, 0x4000, 6);	/* DF: not a fragment */
	pb_tcp(&p, 49152, 443, 0x01020304, 0xa0b0c0d0, 5, 1, 0xd2, 0x7210);
	pb_bytes(&p, (const uint8_t *)"abcdef", 6);
	T_EQ_INT(p.n, 60, "eth/ipv4/tcp: frame is 60 bytes");

	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "eth/ipv4/tcp: ok");
	T_EQ_INT(pi.result, DEC_OK, "eth/ipv4/tcp: pi.result");
	T_EQ_U64(pi.ts_us, TS, "eth/ipv4/tcp: ts_us copied");
	T_EQ_INT(pi.caplen, 60, "eth/ipv4/tcp: caplen");
	T_EQ_INT(pi.wirelen, 60, "eth/ipv4/tcp: wirelen");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_HAS_TCP,
	    "eth/ipv4/tcp: flags L3|PORTS|TCP only");
	T_EQ_INT(pi.family, 4, "eth/ipv4/tcp: family");
	check_v4_addrs(&pi, "eth/ipv4/tcp");
	T_EQ_INT(pi.proto, 6, "eth/ipv4/tcp: proto");
	T_EQ_INT(pi.ttl, 64, "eth/ipv4/tcp: ttl");
	T_EQ_INT(pi.ip_len, 46, "eth/ipv4/tcp: ip_len = total length");
	T_EQ_INT(pi.l3_off, 14, "eth/ipv4/tcp: l3_off");
	T_EQ_INT(pi.l4_off, 34, "eth/ipv4/tcp: l4_off");
	T_EQ_INT(pi.sport, 49152, "eth/ipv4/tcp: sport");
	T_EQ_INT(pi.dport, 443, "eth/ipv4/tcp: dport");
	T_EQ_U64(pi.tcp_seq, 0x01020304, "eth/ipv4/tcp: seq");
	T_EQ_U64(pi.tcp_ack, 0xa0b0c0d0, "eth/ipv4/tcp: ack");
	T_EQ_INT(pi.tcp_win, 0x7210, "eth/ipv4/tcp: window");
	T_EQ_INT(pi.tcp_flags, TH_CWR | TH_ECE | TH_ACK | TH_SYN,
	    "eth/ipv4/tcp: flags byte (NS bit not in it)");
	T_EQ_INT(pi.l4_payload, 6, "eth/ipv4/tcp: l4_payload");
	T_EQ_INT(pi.vlan, 0, "eth/ipv4/tcp: no vlan");
	T_EQ_INT(pi.n_vlan, 0, "eth/ipv4/tcp: n_vlan 0");
}

/* Ethernet pads short frames to 60 bytes; the padding is not IP. */
static void
test_padding(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 32, 0, 17);
	pb_udp(&p, 1000, 53, 12);
	pb_bytes(&p, (const uint8_t *)"dns!", 4);
	pb_fill(&p, 0xee, 14);		/* padding up to 60 */
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "padding: ok");
	T_EQ_INT(pi.ip_len, 32, "padding: ip_len from total length, not 46");
	T_EQ_INT(pi.l4_payload, 4, "padding: udp payload 4");
	T_EQ_INT(pi.sport, 1000, "padding: sport");
	T_EQ_INT(pi.dport, 53, "padding: dport");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS, "padding: flags");

	/* UDP length beyond the IP payload is bounded by it. */
	p.b[14 + 20 + 4] = 0;
	p.b[14 + 20 + 5] = 200;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "udp len 200: ok");
	T_EQ_INT(pi.l4_payload, 4, "udp len 200: bounded by IP payload");

	/* UDP length shorter than the IP payload is believed. */
	p.b[14 + 20 + 5] = 10;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "udp len 10: ok");
	T_EQ_INT(pi.l4_payload, 2, "udp len 10: payload 2");

	/* A TCP segment with no data, padded with junk: payload 0. */
	p.n = 0;
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 40, 0, 6);
	pb_tcp(&p, 22, 50000, 1, 2, 5, 0, TH_ACK, 1000);
	pb_fill(&p, 0xff, 6);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "tcp padded: ok");
	T_EQ_INT(pi.ip_len, 40, "tcp padded: ip_len 40");
	T_EQ_INT(pi.l4_payload, 0, "tcp padded: no payload");
}

/* ip_len comes from the header, bounded by the wire. */
static void
test_lengths(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 1500, 0, 6);
	pb_tcp(&p, 1, 2, 3, 4, 5, 0, TH_ACK, 5);

	/* Snaplen 54 of a 1514-byte frame: metered in full. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 54, 1514, &pi), DEC_OK,
	    "snaplen: tcp header complete is ok");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_HAS_TCP | PI_TRUNC,
	    "snaplen: PI_TRUNC");
	T_EQ_INT(pi.ip_len, 1500, "snaplen: ip_len is the total length");
	T_EQ_INT(pi.l4_payload, 1460, "snaplen: l4_payload from lengths");
	T_EQ_INT(pi.caplen, 54, "snaplen: caplen");
	T_EQ_INT(pi.wirelen, 1514, "snaplen: wirelen");

	/* The header claims more than the wire carried: meter the wire. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 54, 1000, &pi), DEC_OK,
	    "claim > wire: ok");
	T_EQ_INT(pi.ip_len, 986, "claim > wire: ip_len = wirelen - 14");
	T_EQ_INT(pi.l4_payload, 946, "claim > wire: payload bounded too");
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK,
	    "claim 1500 in a 54-byte frame: ok");
	T_EQ_INT(pi.ip_len, 40, "claim 1500 in 54 bytes: ip_len 40");
	T_EQ_INT(pi.flags & PI_TRUNC, 0, "claim 1500 in 54 bytes: no TRUNC");
	T_EQ_INT(pi.l4_payload, 0, "claim 1500 in 54 bytes: payload 0");

	/* A wirelen below caplen (broken file) is not a truncation. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 54, 20, &pi), DEC_OK,
	    "wirelen < caplen: ok");
	T_EQ_INT(pi.wirelen, 20, "wirelen < caplen: wirelen as given");
	T_EQ_INT(pi.flags & PI_TRUNC, 0, "wirelen < caplen: no TRUNC");
	T_EQ_INT(pi.ip_len, 40, "wirelen < caplen: bounded by caplen");
}

/* --- link layers -------------------------------------------------------- */

/* IPv4/UDP 10.x after whatever link header is in p. */
static void
pb_v4udp(struct pb *p)
{
	pb_ipv4(p, 5, 30, 0, 17);
	pb_udp(p, 5353, 5353, 10);
	pb_u16(p, 0xabcd);
}

static void
pb_v6udp(struct pb *p)
{
	pb_ipv6(p, 10, 17);
	pb_udp(p, 546, 547, 10);
	pb_u16(p, 0xabcd);
}

static void
check_udp(const struct pktinfo *pi, enum dec_result r, int family,
    int l3_off, const char *what)
{
	char name[128];

	snprintf(name, sizeof(name), "%s: ok", what);
	T_EQ_INT(r, DEC_OK, name);
	snprintf(name, sizeof(name), "%s: family", what);
	T_EQ_INT(pi->family, family, name);
	snprintf(name, sizeof(name), "%s: l3_off", what);
	T_EQ_INT(pi->l3_off, l3_off, name);
	snprintf(name, sizeof(name), "%s: l4_off", what);
	T_EQ_INT(pi->l4_off, l3_off + (family == 4 ? 20 : 40), name);
	snprintf(name, sizeof(name), "%s: ip_len", what);
	T_EQ_INT(pi->ip_len, family == 4 ? 30 : 50, name);
	snprintf(name, sizeof(name), "%s: dport", what);
	T_EQ_INT(pi->dport, family == 4 ? 5353 : 547, name);
	snprintf(name, sizeof(name), "%s: flags", what);
	T_EQ_INT(pi->flags, PI_HAS_L3 | PI_HAS_PORTS, name);
	if (family == 4)
		check_v4_addrs(pi, what);
	else
		check_v6_addrs(pi, what);
}

static void
test_vlan(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;
	enum dec_result r;

	/* One 802.1Q tag: PCP 1, VID 100. */
	pb_eth(&p, 0x8100);
	pb_tag(&p, 0x2064, 0x0800);
	pb_v4udp(&p);
	r = dec(DEC_DLT_EN10MB, &p, &pi);
	check_udp(&pi, r, 4, 18, "vlan 1 tag");
	T_EQ_INT(pi.vlan, 100, "vlan 1 tag: vid 100 without PCP");
	T_EQ_INT(pi.n_vlan, 1, "vlan 1 tag: n_vlan");

	/* Q-in-Q: 802.1ad outer VID 10 (DEI set), 802.1Q inner VID 20. */
	p.n = 0;
	pb_eth(&p, 0x88a8);
	pb_tag(&p, 0x100a, 0x8100);
	pb_tag(&p, 0x0014, 0x86dd);
	pb_v6udp(&p);
	r = dec(DEC_DLT_EN10MB, &p, &pi);
	check_udp(&pi, r, 6, 22, "vlan 2 tags");
	T_EQ_INT(pi.vlan, 10, "vlan 2 tags: outer vid");
	T_EQ_INT(pi.n_vlan, 2, "vlan 2 tags: n_vlan");

	/* The old 0x9100 stacked tag counts too. */
	p.n = 0;
	pb_eth(&p, 0x9100);
	pb_tag(&p, 0x0fff, 0x8100);
	pb_tag(&p, 0x0001, 0x0800);
	pb_v4udp(&p);
	r = dec(DEC_DLT_EN10MB, &p, &pi);
	check_udp(&pi, r, 4, 22, "vlan 0x9100");
	T_EQ_INT(pi.vlan, 4095, "vlan 0x9100: vid 4095");

	/* Three tags: refused, not parsed. */
	p.n = 0;
	pb_eth(&p, 0x8100);
	pb_tag(&p, 0x0001, 0x8100);
	pb_tag(&p, 0x0002, 0x8100);
	pb_tag(&p, 0x0003, 0x0800);
	pb_v4udp(&p);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_TOO_MANY_VLAN,
	    "vlan 3 tags: too_many_vlan");
	T_EQ_INT(pi.n_vlan, 2, "vlan 3 tags: n_vlan stops at 2");
	T_EQ_INT(pi.vlan, 1, "vlan 3 tags: outer vid kept");
	T_EQ_INT(pi.family, 0, "vlan 3 tags: no family");
	T_EQ_INT(pi.flags, 0, "vlan 3 tags: no flags");
	T_EQ_INT(pi.ip_len, 0, "vlan 3 tags: not metered");

	/* A tag cut by the capture. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 16, 100, &pi), DEC_TRUNC_LINK,
	    "vlan tag cut: trunc_link");
	T_EQ_INT(pi.flags, PI_TRUNC, "vlan tag cut: only PI_TRUNC");

	/* A tagged ARP frame is not IP but keeps its VLAN. */
	p.n = 0;
	pb_eth(&p, 0x8100);
	pb_tag(&p, 0x0007, 0x0806);
	pb_fill(&p, 0, 28);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_NOT_IP,
	    "vlan arp: not_ip");
	T_EQ_INT(pi.vlan, 7, "vlan arp: vid 7");
	T_EQ_INT(pi.family, 0, "vlan arp: family 0");
}

static void
test_ethernet_other(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi, want;

	/* ARP; pi is all zero except what is always copied. */
	pb_eth(&p, 0x0806);
	pb_fill(&p, 0x11, 28);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_NOT_IP, "arp: not_ip");
	memset(&want, 0, sizeof(want));
	want.ts_us = TS;
	want.caplen = want.wirelen = 42;
	want.result = DEC_NOT_IP;
	T_EQ_MEM(&pi, &want, sizeof(pi), "arp: every other field zeroed");

	/* 802.3 length field and an LLC header (STP). */
	p.n = 0;
	pb_eth(&p, 0x0026);
	pb_u8(&p, 0x42);
	pb_u8(&p, 0x42);
	pb_u8(&p, 0x03);
	pb_fill(&p, 0, 35);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_NOT_IP, "802.3/llc: not_ip");

	/* 802.3 length that happens to look like... nothing: 0x05dc. */
	p.b[12] = 0x05;
	p.b[13] = 0xdc;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_NOT_IP,
	    "802.3 length 1500: not_ip");

	/* Frames shorter than the Ethernet header. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 13, 60, &pi), DEC_TRUNC_LINK,
	    "eth 13 bytes: trunc_link");
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 0, 60, &pi), DEC_TRUNC_LINK,
	    "eth 0 bytes: trunc_link");
	T_EQ_INT(dec_packet(DEC_DLT_EN10MB, NULL, 0, 0, 1, &pi),
	    DEC_TRUNC_LINK, "NULL packet: trunc_link");

	/* Ethertype IPv4 with an IPv4 header cut at once. */
	p.n = 0;
	pb_eth(&p, 0x0800);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_TRUNC_IPV4,
	    "eth, no IP bytes: trunc_ipv4");
	T_EQ_INT(pi.family, 4, "eth, no IP bytes: family from ethertype");
	T_EQ_INT(pi.l3_off, 14, "eth, no IP bytes: l3_off");
	T_EQ_INT(pi.flags & PI_HAS_L3, 0, "eth, no IP bytes: no L3");
}

static void
test_sll(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;
	enum dec_result r;

	/* linux-sll: pkttype, hatype, halen, 8 address bytes, protocol. */
	pb_u16(&p, 0);			/* to us */
	pb_u16(&p, 1);			/* ARPHRD_ETHER */
	pb_u16(&p, 6);
	pb_fill(&p, 0x22, 8);
	pb_u16(&p, 0x0800);
	pb_v4udp(&p);
	r = dec(DEC_DLT_LINUX_SLL, &p, &pi);
	check_udp(&pi, r, 4, 16, "sll ipv4");

	/* libpcap re-inserts a stripped VLAN tag after the protocol. */
	p.n = 14;
	pb_u16(&p, 0x8100);
	pb_tag(&p, 0x0123, 0x86dd);
	pb_v6udp(&p);
	r = dec(DEC_DLT_LINUX_SLL, &p, &pi);
	check_udp(&pi, r, 6, 20, "sll vlan ipv6");
	T_EQ_INT(pi.vlan, 0x123, "sll vlan: vid");

	p.n = 14;
	pb_u16(&p, 0x0806);
	pb_fill(&p, 0, 28);
	T_EQ_INT(dec(DEC_DLT_LINUX_SLL, &p, &pi), DEC_NOT_IP,
	    "sll arp: not_ip");
	T_EQ_INT(dec_cut(DEC_DLT_LINUX_SLL, &p, 15, 60, &pi), DEC_TRUNC_LINK,
	    "sll 15 bytes: trunc_link");

	/* linux-sll2: protocol first, 20 bytes in all. */
	p.n = 0;
	pb_u16(&p, 0x86dd);
	pb_u16(&p, 0);			/* reserved */
	pb_u32(&p, 3);			/* ifindex */
	pb_u16(&p, 1);			/* ARPHRD_ETHER */
	pb_u8(&p, 4);			/* outgoing */
	pb_u8(&p, 6);
	pb_fill(&p, 0x33, 8);
	pb_v6udp(&p);
	r = dec(DEC_DLT_LINUX_SLL2, &p, &pi);
	check_udp(&pi, r, 6, 20, "sll2 ipv6");
	p.b[0] = 0x08;
	p.b[1] = 0x00;
	T_EQ_INT(dec(DEC_DLT_LINUX_SLL2, &p, &pi), DEC_BAD_IPV4_VERSION,
	    "sll2 says ipv4, bytes are v6: bad_ipv4_version");
	T_EQ_INT(pi.l3_off, 20, "sll2: l3_off 20");
	T_EQ_INT(dec_cut(DEC_DLT_LINUX_SLL2, &p, 19, 60, &pi), DEC_TRUNC_LINK,
	    "sll2 19 bytes: trunc_link");
}

static void
test_raw(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;
	enum dec_result r;

	pb_v4udp(&p);
	pb_fill(&p, 0, 20);		/* trailer, so that 40 bytes exist */
	r = dec(DEC_DLT_RAW, &p, &pi);
	check_udp(&pi, r, 4, 0, "raw(12) v4");
	r = dec(DEC_DLT_RAW_BSD, &p, &pi);
	check_udp(&pi, r, 4, 0, "raw(14) v4");
	r = dec(DEC_DLT_IPV4, &p, &pi);
	check_udp(&pi, r, 4, 0, "dlt ipv4");
	T_EQ_INT(dec(DEC_DLT_IPV6, &p, &pi), DEC_BAD_IPV6_VERSION,
	    "dlt ipv6 with a v4 packet: bad_ipv6_version");
	T_EQ_INT(pi.flags & PI_HAS_L3, 0, "bad_ipv6_version: no L3");

	p.n = 0;
	pb_v6udp(&p);
	r = dec(DEC_DLT_RAW, &p, &pi);
	check_udp(&pi, r, 6, 0, "raw(12) v6");
	r = dec(DEC_DLT_RAW_BSD, &p, &pi);
	check_udp(&pi, r, 6, 0, "raw(14) v6");
	r = dec(DEC_DLT_IPV6, &p, &pi);
	check_udp(&pi, r, 6, 0, "dlt ipv6");
	T_EQ_INT(dec(DEC_DLT_IPV4, &p, &pi), DEC_BAD_IPV4_VERSION,
	    "dlt ipv4 with a v6 packet: bad_ipv4_version");

	/* Neither 4 nor 6 in the version nibble; nothing at all. */
	p.b[0] = 0x50;
	T_EQ_INT(dec(DEC_DLT_RAW, &p, &pi), DEC_NOT_IP,
	    "raw version 5: not_ip");
	T_EQ_INT(pi.family, 0, "raw version 5: family 0");
	T_EQ_INT(dec_cut(DEC_DLT_RAW, &p, 0, 0, &pi), DEC_TRUNC_LINK,
	    "raw empty: trunc_link");
}

static void
test_null_loop(void)
{
	static const struct {
		int		 dlt;
		int		 le;	/* AF written little-endian */
		uint32_t	 af;
		int		 family;
		const char	*what;
	} t[] = {
		{ DEC_DLT_NULL, 1, 2, 4, "null LE AF_INET" },
		{ DEC_DLT_NULL, 0, 2, 4, "null BE AF_INET" },
		{ DEC_DLT_NULL, 1, 10, 6, "null LE AF_INET6 (Linux)" },
		{ DEC_DLT_NULL, 0, 24, 6, "null BE AF_INET6 (OpenBSD)" },
		{ DEC_DLT_NULL, 1, 28, 6, "null LE AF_INET6 (FreeBSD)" },
		{ DEC_DLT_NULL, 1, 30, 6, "null LE AF_INET6 (Darwin)" },
		{ DEC_DLT_NULL, 0, 30, 6, "null BE AF_INET6 (Darwin)" },
		{ DEC_DLT_LOOP, 0, 2, 4, "loop AF_INET" },
		{ DEC_DLT_LOOP, 0, 24, 6, "loop AF_INET6" },
	};
	struct pb p;
	struct pktinfo pi;
	enum dec_result r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p.n = 0;
		if (t[i].le)
			pb_le32(&p, t[i].af);
		else
			pb_u32(&p, t[i].af);
		if (t[i].family == 4)
			pb_v4udp(&p);
		else
			pb_v6udp(&p);
		r = dec(t[i].dlt, &p, &pi);
		check_udp(&pi, r, t[i].family, 4, t[i].what);
	}

	/* LOOP is network order only: a little-endian 2 is not AF_INET. */
	p.n = 0;
	pb_le32(&p, 2);
	pb_v4udp(&p);
	T_EQ_INT(dec(DEC_DLT_LOOP, &p, &pi), DEC_NOT_IP, "loop LE 2: not_ip");

	/* Unknown family (AF_APPLETALK 16), and a cut header. */
	p.n = 0;
	pb_le32(&p, 16);
	pb_v4udp(&p);
	T_EQ_INT(dec(DEC_DLT_NULL, &p, &pi), DEC_NOT_IP, "null AF 16: not_ip");
	T_EQ_INT(dec_cut(DEC_DLT_NULL, &p, 3, 3, &pi), DEC_TRUNC_LINK,
	    "null 3 bytes: trunc_link");
	T_EQ_INT(dec_cut(DEC_DLT_LOOP, &p, 2, 60, &pi), DEC_TRUNC_LINK,
	    "loop 2 bytes: trunc_link");
}

static void
test_dlt(void)
{
	static const int ok[] = { 0, 1, 12, 14, 108, 113, 228, 229, 276 };
	static const int no[] = { -1, 2, 9, 105, 127, 147, 192, 275, 277 };
	struct pb p = { .n = 0 };
	struct pktinfo pi;
	size_t i;
	char name[64];

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(name, sizeof(name), "dlt %d supported", ok[i]);
		T_EQ_INT(dec_dlt_supported(ok[i]), 1, name);
	}
	pb_v4udp(&p);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(name, sizeof(name), "dlt %d not supported", no[i]);
		T_EQ_INT(dec_dlt_supported(no[i]), 0, name);
		snprintf(name, sizeof(name), "dlt %d: unsupported_dlt", no[i]);
		T_EQ_INT(dec(no[i], &p, &pi), DEC_UNSUPPORTED_DLT, name);
	}
	T_EQ_INT(pi.flags, 0, "unsupported_dlt: nothing decoded");
	T_EQ_U64(pi.ts_us, TS, "unsupported_dlt: ts still copied");
}

/* --- IPv4 ---------------------------------------------------------------- */

static void
test_ipv4_options(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	/* IHL 6: NOP NOP NOP EOL. */
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, 36, 0, 17);
	pb_u32(&p, 0x01010100);
	pb_udp(&p, 67, 68, 12);
	pb_u32(&p, 0x63825363);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "ihl 6: ok");
	T_EQ_INT(pi.l4_off, 38, "ihl 6: l4_off after options");
	T_EQ_INT(pi.sport, 67, "ihl 6: sport");
	T_EQ_INT(pi.dport, 68, "ihl 6: dport");
	T_EQ_INT(pi.l4_payload, 4, "ihl 6: payload");
	T_EQ_INT(pi.ip_len, 36, "ihl 6: ip_len");

	/* IHL 15: 40 bytes of options (record route). */
	p.n = 0;
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 15, 60 + 20, 0, 6);
	pb_u8(&p, 7);
	pb_u8(&p, 39);
	pb_u8(&p, 4);
	pb_fill(&p, 0, 37);
	pb_tcp(&p, 80, 1234, 9, 10, 5, 0, TH_FIN | TH_ACK, 1);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "ihl 15: ok");
	T_EQ_INT(pi.l4_off, 74, "ihl 15: l4_off 14 + 60");
	T_EQ_INT(pi.sport, 80, "ihl 15: sport");
	T_EQ_INT(pi.tcp_flags, TH_FIN | TH_ACK, "ihl 15: tcp flags");

	/* The same packet cut inside the options: L3 only. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40, 94, &pi),
	    DEC_TRUNC_IPV4, "options cut: trunc_ipv4");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_TRUNC, "options cut: L3, no ports");
	check_v4_addrs(&pi, "options cut");
	T_EQ_INT(pi.proto, 6, "options cut: proto");
	T_EQ_INT(pi.ttl, 64, "options cut: ttl");
	T_EQ_INT(pi.ip_len, 80, "options cut: ip_len from header");
	T_EQ_INT(pi.l4_off, 0, "options cut: no l4_off");
	T_EQ_INT(pi.sport, 0, "options cut: no sport");

	/* Cut inside the options and a bad total length: nothing at L3. */
	p.b[16] = 0;
	p.b[17] = 50;
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40, 94, &pi),
	    DEC_TRUNC_IPV4, "options cut, tot 50 < 60: trunc_ipv4 first");
	T_EQ_INT(pi.flags & PI_HAS_L3, 0, "options cut, tot 50: no L3");
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV4_LEN,
	    "tot 50 < ihl 60, whole header: bad_ipv4_len");
}

static void
test_ipv4_bad(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 40, 0, 6);
	pb_tcp(&p, 1, 2, 3, 4, 5, 0, TH_SYN, 5);

	/* 19 bytes of IP: nothing but the family and offset. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 19, 54, &pi),
	    DEC_TRUNC_IPV4, "19 IP bytes: trunc_ipv4");
	T_EQ_INT(pi.flags, PI_TRUNC, "19 IP bytes: flags only TRUNC");
	T_EQ_INT(pi.family, 4, "19 IP bytes: family 4");
	T_EQ_INT(pi.l3_off, 14, "19 IP bytes: l3_off");
	T_EQ_INT(pi.ip_len, 0, "19 IP bytes: not metered at L3");
	T_EQ_INT(pi.proto, 0, "19 IP bytes: proto 0");

	/* Truncation is checked before the version. */
	p.b[14] = 0x65;
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 10, 54, &pi),
	    DEC_TRUNC_IPV4, "10 bytes, version 6: trunc_ipv4 first");
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV4_VERSION,
	    "version 6 under 0x0800: bad_ipv4_version");
	T_EQ_INT(pi.flags, 0, "bad version: no flags");
	p.b[14] = 0x54;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV4_VERSION,
	    "version 5 ihl 4: version checked before ihl");
	p.b[14] = 0x44;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV4_IHL,
	    "ihl 4: bad_ipv4_ihl");
	T_EQ_INT(pi.flags & PI_HAS_L3, 0, "ihl 4: no L3");
	p.b[14] = 0x40;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV4_IHL,
	    "ihl 0: bad_ipv4_ihl");
	p.b[14] = 0x45;
	p.b[17] = 19;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV4_LEN,
	    "total length 19: bad_ipv4_len");
	T_EQ_INT(pi.flags & PI_HAS_L3, 0, "bad_ipv4_len: no L3");
	T_EQ_INT(pi.ip_len, 0, "bad_ipv4_len: ip_len 0");
	p.b[17] = 20;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_L4_LEN,
	    "total length 20 with TCP: bad_l4_len");
	T_EQ_INT(pi.flags, PI_HAS_L3, "total length 20: L3 only");
	T_EQ_INT(pi.ip_len, 20, "total length 20: ip_len 20");

	/* Total length 0 is BIG TCP only for TCP. */
	p.b[17] = 0;
	p.b[14 + 9] = 17;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV4_LEN,
	    "total length 0 with UDP: bad_ipv4_len");
}

static void
test_ipv4_big_tcp(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 0, 0x4000, 6);
	pb_tcp(&p, 5201, 40000, 1, 2, 8, 0, TH_ACK | TH_PUSH, 512);
	pb_fill(&p, 1, 12);		/* TCP options */
	pb_fill(&p, 0x5a, 10);		/* data */

	/* Captured 64 bytes of an 80014-byte GSO frame. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 64, 80014, &pi), DEC_OK,
	    "big tcp: ok");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_HAS_TCP | PI_JUMBO |
	    PI_TRUNC, "big tcp: JUMBO|TRUNC");
	T_EQ_INT(pi.ip_len, 80000, "big tcp: ip_len = wirelen - 14");
	T_EQ_INT(pi.l4_payload, 80000 - 20 - 32, "big tcp: l4_payload");
	T_EQ_INT(pi.sport, 5201, "big tcp: sport");

	/* TSO seen on the sender, whole frame captured. */
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "tso tot 0: ok");
	T_EQ_INT(pi.ip_len, 62, "tso tot 0: ip_len = frame - 14");
	T_EQ_INT(pi.l4_payload, 10, "tso tot 0: l4_payload");
	T_EQ_INT(pi.flags & PI_JUMBO, PI_JUMBO, "tso tot 0: JUMBO");
}

static void
test_ipv4_fragments(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	/* First fragment: MF, offset 0, carries the UDP header. */
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 1500, 0x2000, 17);
	pb_udp(&p, 4500, 4500, 3000);
	pb_fill(&p, 0, 32);
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, p.n, 1514, &pi), DEC_OK,
	    "first fragment: ok");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_FRAG | PI_FRAG_FIRST |
	    PI_TRUNC, "first fragment: FRAG|FRAG_FIRST with ports");
	T_EQ_INT(pi.sport, 4500, "first fragment: sport");
	T_EQ_INT(pi.ip_len, 1500, "first fragment: ip_len");
	T_EQ_INT(pi.l4_payload, 1472, "first fragment: payload of this one");

	/*
	 * A first fragment may end inside the TCP options (zeek's
	 * ipv4_fragmented-syn.pcap): ports and flags are there.  Without
	 * MF the same header is malformed.
	 */
	{
		struct pb q = { .n = 0 };

		pb_eth(&q, 0x0800);
		pb_ipv4(&q, 5, 20 + 24, 0x2000, 6);
		pb_tcp(&q, 12345, 80, 1, 0, 10, 0, TH_SYN, 1024);
		pb_u32(&q, 0x020405b4);	/* MSS, the rest in fragment 2 */
		T_EQ_INT(dec(DEC_DLT_EN10MB, &q, &pi), DEC_OK,
		    "first fragment inside tcp options: ok");
		T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_HAS_TCP |
		    PI_FRAG | PI_FRAG_FIRST, "first fragment in options: TCP");
		T_EQ_INT(pi.tcp_flags, TH_SYN, "first fragment: SYN");
		T_EQ_INT(pi.l4_payload, 0, "first fragment: no data");
		q.b[20] = 0;
		T_EQ_INT(dec(DEC_DLT_EN10MB, &q, &pi), DEC_BAD_L4_LEN,
		    "unfragmented, doff 40 > 24: bad_l4_len");
		/* RFC 1858 tiny fragment: not even the fixed header. */
		q.b[20] = 0x20;
		q.b[17] = 20 + 16;
		T_EQ_INT(dec(DEC_DLT_EN10MB, &q, &pi), DEC_BAD_L4_LEN,
		    "tiny first fragment (16 bytes of tcp): bad_l4_len");
	}

	/* Middle fragment (offset 1480 = 185 * 8, MF): no ports. */
	p.b[20] = 0x20;
	p.b[21] = 185;
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, p.n, 1514, &pi), DEC_FRAGMENT,
	    "middle fragment: fragment");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_FRAG | PI_TRUNC,
	    "middle fragment: L3|FRAG, no ports");
	T_EQ_INT(pi.proto, 17, "middle fragment: proto");
	T_EQ_INT(pi.ip_len, 1500, "middle fragment: metered");
	T_EQ_INT(pi.sport, 0, "middle fragment: sport 0 despite the bytes");
	T_EQ_INT(pi.dport, 0, "middle fragment: dport 0");
	T_EQ_INT(pi.l4_off, 0, "middle fragment: l4_off 0");
	T_EQ_INT(pi.l4_payload, 0, "middle fragment: l4_payload 0");
	check_v4_addrs(&pi, "middle fragment");

	/* Last fragment: offset, no MF. */
	p.b[20] = 0x00;
	p.b[21] = 0xb9;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_FRAGMENT,
	    "last fragment: fragment");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_FRAG, "last fragment: flags");
	T_EQ_INT(pi.ip_len, 14 + 20 + 8 + 32 - 14,
	    "last fragment: ip_len bounded by frame");

	/* The smallest offset (8 bytes) and the highest offset bit. */
	p.b[20] = 0x00;
	p.b[21] = 0x01;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_FRAGMENT,
	    "offset 8: fragment");
	p.b[20] = 0x10;
	p.b[21] = 0x00;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_FRAGMENT,
	    "offset 4096*8: fragment");
	/* Evil bit (reserved) alone is not a fragment. */
	p.b[20] = 0x80;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "reserved bit: ok");

	/* Offset bits high in the field (0x1f00 << 3 = 63488 bytes). */
	p.b[20] = 0x1f;
	p.b[21] = 0x00;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_FRAGMENT,
	    "offset 7936*8: fragment");

	/* DF alone is not a fragment. */
	p.b[20] = 0x40;
	p.b[21] = 0x00;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "DF: ok");
	T_EQ_INT(pi.flags & (PI_FRAG | PI_FRAG_FIRST), 0, "DF: no FRAG");
}

/* --- IPv6 ---------------------------------------------------------------- */

static void
test_ipv6_basic(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 20 + 5, 6);
	pb_tcp(&p, 33000, 22, 0xfffffffe, 0, 5, 0, TH_SYN, 64240);
	pb_fill(&p, 0x41, 5);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "ipv6 tcp: ok");
	T_EQ_INT(pi.family, 6, "ipv6 tcp: family");
	check_v6_addrs(&pi, "ipv6 tcp");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_HAS_TCP,
	    "ipv6 tcp: flags");
	T_EQ_INT(pi.ttl, 255, "ipv6 tcp: hop limit");
	T_EQ_INT(pi.ip_len, 65, "ipv6 tcp: ip_len 40 + 25");
	T_EQ_INT(pi.l3_off, 14, "ipv6 tcp: l3_off");
	T_EQ_INT(pi.l4_off, 54, "ipv6 tcp: l4_off");
	T_EQ_INT(pi.sport, 33000, "ipv6 tcp: sport");
	T_EQ_U64(pi.tcp_seq, 0xfffffffe, "ipv6 tcp: seq");
	T_EQ_INT(pi.tcp_win, 64240, "ipv6 tcp: window");
	T_EQ_INT(pi.l4_payload, 5, "ipv6 tcp: payload");

	/* Snaplen-cut TCP: still metered with the full ip_len. */
	p.b[18] = 0x05;
	p.b[19] = 0xb4;			/* payload length 1460 */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40 + 12, 1514, &pi),
	    DEC_TRUNC_L4, "ipv6 tcp cut: trunc_l4");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_TRUNC,
	    "ipv6 tcp cut: L3 and ports kept, no TCP fields");
	T_EQ_INT(pi.ip_len, 1500, "ipv6 tcp cut: full ip_len");
	T_EQ_INT(pi.sport, 33000, "ipv6 tcp cut: sport");
	T_EQ_INT(pi.dport, 22, "ipv6 tcp cut: dport");
	T_EQ_U64(pi.tcp_seq, 0, "ipv6 tcp cut: seq not read");
	T_EQ_INT(pi.tcp_flags, 0, "ipv6 tcp cut: flags not read");
	T_EQ_INT(pi.l4_off, 54, "ipv6 tcp cut: l4_off");

	/* Short and wrong-version headers. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 39, 1514, &pi),
	    DEC_TRUNC_IPV6, "39 IPv6 bytes: trunc_ipv6");
	T_EQ_INT(pi.flags, PI_TRUNC, "trunc_ipv6: no L3");
	T_EQ_INT(pi.family, 6, "trunc_ipv6: family 6");
	p.b[14] = 0x40;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV6_VERSION,
	    "version 4 under 0x86dd: bad_ipv6_version");
	T_EQ_INT(pi.flags & PI_HAS_L3, 0, "bad_ipv6_version: no L3");
}

static void
test_ipv6_ext_each(void)
{
	static const struct {
		unsigned	 type;
		unsigned	 len;	/* the length field */
		int		 ah;
		int		 bytes;	/* header size on the wire */
		const char	*what;
	} t[] = {
		{ 0, 0, 0, 8, "hop-by-hop" },
		{ 43, 2, 0, 24, "routing" },
		{ 60, 1, 0, 16, "destination options" },
		{ 51, 4, 1, 24, "AH" },
		{ 135, 0, 0, 8, "mobility" },
		{ 139, 1, 0, 16, "HIP" },
		{ 140, 0, 0, 8, "shim6" },
	};
	struct pb p;
	struct pktinfo pi;
	size_t i;
	char name[128];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p.n = 0;
		pb_eth(&p, 0x86dd);
		pb_ipv6(&p, (unsigned)t[i].bytes + 12, t[i].type);
		if (t[i].ah)
			pb_ah(&p, 17, t[i].len);
		else
			pb_ext(&p, 17, t[i].len);
		pb_udp(&p, 7, 9, 12);
		pb_u32(&p, 0);
		snprintf(name, sizeof(name), "ext %s: ok", t[i].what);
		T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, name);
		snprintf(name, sizeof(name), "ext %s: proto is UDP", t[i].what);
		T_EQ_INT(pi.proto, 17, name);
		snprintf(name, sizeof(name), "ext %s: l4_off", t[i].what);
		T_EQ_INT(pi.l4_off, 54 + t[i].bytes, name);
		snprintf(name, sizeof(name), "ext %s: ports", t[i].what);
		T_OK(pi.sport == 7 && pi.dport == 9 &&
		    pi.flags == (PI_HAS_L3 | PI_HAS_PORTS), "%s", name);
		snprintf(name, sizeof(name), "ext %s: l4_payload", t[i].what);
		T_EQ_INT(pi.l4_payload, 4, name);
		snprintf(name, sizeof(name), "ext %s: ip_len", t[i].what);
		T_EQ_INT(pi.ip_len, 40 + t[i].bytes + 12, name);

		/* Cut inside the header: trunc; declared too short: bad. */
		snprintf(name, sizeof(name), "ext %s cut: trunc_ipv6_ext",
		    t[i].what);
		T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40 + 1, 1500, &pi),
		    DEC_TRUNC_IPV6_EXT, name);
		snprintf(name, sizeof(name), "ext %s cut: proto = header",
		    t[i].what);
		T_EQ_INT(pi.proto, t[i].type, name);
		snprintf(name, sizeof(name), "ext %s cut: L3 kept", t[i].what);
		T_EQ_INT(pi.flags, PI_HAS_L3 | PI_TRUNC, name);
		p.b[19] = (uint8_t)(t[i].bytes - 1);
		snprintf(name, sizeof(name),
		    "ext %s plen short: bad_ipv6_ext_len",
		    t[i].what);
		T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV6_EXT_LEN,
		    name);
	}
}

static void
test_ipv6_ext_chain(void)
{
	static const unsigned types[9] = { 0, 60, 43, 60, 51, 135, 139, 140,
	    60 };
	struct pb p;
	struct pktinfo pi;
	int i;

	/* Eight headers of 8 bytes each: the most we walk. */
	p.n = 0;
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 64 + 12, types[0]);
	for (i = 0; i < 8; i++) {
		if (types[i] == 51)
			pb_ah(&p, i < 7 ? types[i + 1] : 17, 0);
		else
			pb_ext(&p, i < 7 ? types[i + 1] : 17, 0);
	}
	pb_udp(&p, 1, 2, 12);
	pb_u32(&p, 0);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "8 ext headers: ok");
	T_EQ_INT(pi.l4_off, 54 + 64, "8 ext headers: l4_off");
	T_EQ_INT(pi.proto, 17, "8 ext headers: proto");
	T_EQ_INT(pi.dport, 2, "8 ext headers: dport");

	/* Nine: refused at the ninth, which is what proto says. */
	p.n = 0;
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 72 + 12, types[0]);
	for (i = 0; i < 9; i++) {
		if (types[i] == 51)
			pb_ah(&p, i < 8 ? types[i + 1] : 17, 0);
		else
			pb_ext(&p, i < 8 ? types[i + 1] : 17, 0);
	}
	pb_udp(&p, 1, 2, 12);
	pb_u32(&p, 0);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_TOO_MANY_IPV6_EXT,
	    "9 ext headers: too_many_ipv6_ext");
	T_EQ_INT(pi.flags, PI_HAS_L3, "9 ext headers: L3 kept");
	T_EQ_INT(pi.proto, 60, "9 ext headers: proto = the ninth");
	T_EQ_INT(pi.ip_len, 40 + 84, "9 ext headers: metered");
	T_EQ_INT(pi.l4_off, 0, "9 ext headers: no l4_off");

	/* ESP ends the walk; so does 59. */
	p.n = 0;
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 8 + 24, 60);
	pb_ext(&p, 50, 0);
	pb_u32(&p, 0x1000);		/* SPI */
	pb_u32(&p, 1);			/* sequence */
	pb_fill(&p, 0x99, 16);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "esp: ok");
	T_EQ_INT(pi.proto, 50, "esp: proto 50");
	T_EQ_INT(pi.flags, PI_HAS_L3, "esp: no ports");
	T_EQ_INT(pi.l4_off, 62, "esp: l4_off at ESP");
	T_EQ_INT(pi.l4_payload, 24, "esp: l4_payload is the rest");

	p.n = 0;
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 8, 0);
	pb_ext(&p, 59, 0);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "no next header: ok");
	T_EQ_INT(pi.proto, 59, "no next header: proto 59");
	T_EQ_INT(pi.ip_len, 48, "no next header: ip_len");
	T_EQ_INT(pi.l4_payload, 0, "no next header: payload 0");

	/* The length byte itself cut off: trunc, not bad. */
	p.n = 0;
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 8 + 8, 43);
	pb_ext(&p, 17, 0);
	pb_udp(&p, 1, 2, 8);
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40, 70, &pi),
	    DEC_TRUNC_IPV6_EXT, "ext header not captured: trunc_ipv6_ext");
	T_EQ_INT(pi.ip_len, 56, "ext header not captured: ip_len");
	p.b[19] = 1;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV6_EXT_LEN,
	    "payload 1 byte, ext needs 2: bad_ipv6_ext_len");

	/* A header that exactly fills the payload, cut by the snaplen. */
	p.n = 0;
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 8, 60);
	pb_ext(&p, 59, 0);
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40 + 4, 62, &pi),
	    DEC_TRUNC_IPV6_EXT, "ext == payload, cut: trunc_ipv6_ext");
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40 + 1, 62, &pi),
	    DEC_TRUNC_IPV6_EXT, "ext == payload, cut at 1: trunc_ipv6_ext");
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK,
	    "ext == payload, whole: ok");
	p.b[19] = 2;
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40 + 1, 62, &pi),
	    DEC_TRUNC_IPV6_EXT, "payload 2, cut at 1: trunc_ipv6_ext");
}

static void
test_ipv6_fragments(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 8 + 8 + 8, 44);
	pb_frag6(&p, 17, 0, 1);
	pb_udp(&p, 500, 4500, 2000);
	pb_fill(&p, 0, 8);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "v6 first fragment: ok");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_FRAG | PI_FRAG_FIRST,
	    "v6 first fragment: flags");
	T_EQ_INT(pi.l4_off, 62, "v6 first fragment: l4_off");
	T_EQ_INT(pi.dport, 4500, "v6 first fragment: dport");
	T_EQ_INT(pi.l4_payload, 8, "v6 first fragment: payload bounded");

	/* Offset 1448 = 181 * 8, more fragments. */
	p.b[54 + 2] = (181 << 3) >> 8;
	p.b[54 + 3] = (181 << 3 | 1) & 0xff;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_FRAGMENT,
	    "v6 later fragment: fragment");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_FRAG, "v6 later fragment: flags");
	T_EQ_INT(pi.proto, 17, "v6 later fragment: proto from frag header");
	T_EQ_INT(pi.sport, 0, "v6 later fragment: no ports");
	T_EQ_INT(pi.l4_off, 0, "v6 later fragment: l4_off 0");
	T_EQ_INT(pi.ip_len, 64, "v6 later fragment: ip_len");

	/* The smallest non-zero offset, 8 bytes. */
	p.b[54 + 2] = 0;
	p.b[54 + 3] = 1 << 3;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_FRAGMENT,
	    "v6 fragment offset 8: fragment");
	p.b[54 + 2] = (181 << 3) >> 8;

	/* Last fragment (M clear). */
	p.b[54 + 3] = (181 << 3) & 0xff;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_FRAGMENT,
	    "v6 last fragment: fragment");

	/* Atomic fragment (RFC 6946): offset 0, M 0, not a fragment. */
	p.b[54 + 2] = 0;
	p.b[54 + 3] = 0;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "atomic fragment: ok");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS,
	    "atomic fragment: no FRAG, ports");

	/* Two fragment headers, first then later: a later fragment. */
	p.n = 0;
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 8 + 8 + 16, 44);
	pb_frag6(&p, 44, 0, 1);
	pb_frag6(&p, 17, 2, 1);
	pb_fill(&p, 0, 16);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_FRAGMENT,
	    "two fragment headers: fragment");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_FRAG,
	    "two fragment headers: no FRAG_FIRST");

	/* Fragment header cut. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40 + 7, 100, &pi),
	    DEC_TRUNC_IPV6_EXT, "fragment header cut: trunc_ipv6_ext");
	T_EQ_INT(pi.proto, 44, "fragment header cut: proto 44");
}

static void
test_ipv6_jumbo(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	/* Jumbogram: plen 0, hop-by-hop with Pad1, PadN, Jumbo 70000. */
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0, 0);
	pb_u8(&p, 6);
	pb_u8(&p, 1);			/* 16 bytes */
	pb_u8(&p, 0);			/* Pad1 */
	pb_u8(&p, 1);			/* PadN, 1 byte */
	pb_u8(&p, 1);
	pb_u8(&p, 0);
	pb_u8(&p, 0xc2);		/* Jumbo Payload */
	pb_u8(&p, 4);
	pb_u32(&p, 70000);
	pb_u8(&p, 1);			/* PadN, 2 bytes */
	pb_u8(&p, 2);
	pb_u16(&p, 0);
	pb_tcp(&p, 9000, 9001, 5, 6, 5, 0, TH_ACK, 100);
	T_EQ_INT(p.n, 14 + 40 + 16 + 20, "jumbo: header bytes");

	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, p.n, 14 + 40 + 70000, &pi),
	    DEC_OK, "jumbo: ok");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_HAS_TCP | PI_JUMBO |
	    PI_TRUNC, "jumbo: JUMBO");
	T_EQ_INT(pi.ip_len, 70040, "jumbo: ip_len 40 + jumbo length");
	T_EQ_INT(pi.l4_off, 14 + 40 + 16, "jumbo: l4_off after hbh");
	T_EQ_INT(pi.l4_payload, 70000 - 16 - 20, "jumbo: l4_payload");
	T_EQ_INT(pi.dport, 9001, "jumbo: dport");

	/* Jumbo larger than the wire: the wire wins. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, p.n, 14 + 40 + 1000, &pi),
	    DEC_OK, "jumbo > wire: ok");
	T_EQ_INT(pi.ip_len, 1040, "jumbo > wire: ip_len bounded");

	/* Hop-by-hop cut before the option: metered by the wire. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 40 + 4, 14 + 40 + 5000, &pi),
	    DEC_TRUNC_IPV6_EXT, "jumbo option cut: trunc_ipv6_ext");
	T_EQ_INT(pi.ip_len, 5040, "jumbo option cut: ip_len from wire");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_JUMBO | PI_TRUNC,
	    "jumbo option cut: flags");

	/* plen 0, hop-by-hop without the option, all captured: bad. */
	p.b[14 + 40 + 6] = 0x05;	/* router alert instead */
	p.b[14 + 40 + 7] = 2;
	p.b[14 + 40 + 8] = 0;
	p.b[14 + 40 + 9] = 0;
	p.b[14 + 40 + 10] = 1;		/* PadN over the rest */
	p.b[14 + 40 + 11] = 0;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_IPV6_EXT_LEN,
	    "plen 0 without jumbo option: bad_ipv6_ext_len");
	T_EQ_INT(pi.ip_len, 40, "plen 0 without jumbo option: ip_len 40");
	T_EQ_INT(pi.flags & PI_JUMBO, 0, "plen 0 without jumbo: no JUMBO");

	/* BIG TCP over IPv6 with the jumbo header removed (Linux). */
	p.n = 0;
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0, 6);
	pb_tcp(&p, 9000, 9001, 5, 6, 5, 0, TH_ACK, 100);
	pb_fill(&p, 0, 10);
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, p.n, 14 + 40 + 185000, &pi),
	    DEC_OK, "v6 big tcp: ok");
	T_EQ_INT(pi.ip_len, 185040, "v6 big tcp: ip_len from wire");
	T_EQ_INT(pi.l4_payload, 185000 - 20, "v6 big tcp: payload");
	T_EQ_INT(pi.flags & PI_JUMBO, PI_JUMBO, "v6 big tcp: JUMBO");

	/*
	 * BIG TCP in a UDP tunnel (tcpdump's bigtcp-ipv6-geneve-ipv4.pcap):
	 * payload length 0, UDP length 0 (the bytes of the TCP seq here).
	 */
	p.b[14 + 6] = 17;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "plen 0 udp: ok");
	T_EQ_INT(pi.ip_len, 70, "plen 0 udp: ip_len from the wire");
	T_EQ_INT(pi.l4_payload, 70 - 40 - 8, "plen 0 udp: udp len 0 = rest");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_JUMBO,
	    "plen 0 udp: JUMBO");

	/* Any other protocol with plen 0 just has an empty payload. */
	p.b[14 + 6] = 58;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_L4_LEN,
	    "plen 0 icmpv6: bad_l4_len");
	T_EQ_INT(pi.ip_len, 40, "plen 0 icmpv6: ip_len 40");
	T_EQ_INT(pi.flags & PI_JUMBO, 0, "plen 0 icmpv6: no JUMBO");
}

/* --- transport ----------------------------------------------------------- */

static void
test_tcp(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 20 + 32 + 100, 0, 6);
	pb_tcp(&p, 443, 51000, 7, 8, 8, 0, TH_ACK, 300);
	pb_u32(&p, 0x0101080a);		/* NOP NOP timestamp */
	pb_u32(&p, 1);
	pb_u32(&p, 2);

	/* Options cut by the snaplen: we never read them, so ok. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 20 + 20, 166, &pi), DEC_OK,
	    "tcp options cut: ok");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_HAS_TCP | PI_TRUNC,
	    "tcp options cut: TCP fields valid");
	T_EQ_INT(pi.l4_payload, 100, "tcp options cut: payload 152 - 52");

	/* Header cut after the ports. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 20 + 10, 166, &pi),
	    DEC_TRUNC_L4, "tcp cut at 10: trunc_l4");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_TRUNC,
	    "tcp cut at 10: ports, no TCP");
	T_EQ_INT(pi.sport, 443, "tcp cut at 10: sport");
	T_EQ_INT(pi.ip_len, 152, "tcp cut at 10: full ip_len");

	/* Cut before the ports are whole. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 20 + 3, 166, &pi),
	    DEC_TRUNC_L4, "tcp cut at 3: trunc_l4");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_TRUNC, "tcp cut at 3: no ports");
	T_EQ_INT(pi.l4_off, 34, "tcp cut at 3: l4_off");

	/* Data offset 4 and 0. */
	p.b[14 + 20 + 12] = 0x40;
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, p.n, 166, &pi), DEC_BAD_TCP_OFF,
	    "tcp doff 4: bad_tcp_off");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_TRUNC, "bad_tcp_off: L3 only");
	T_EQ_INT(pi.sport, 0, "bad_tcp_off: no ports");
	T_EQ_INT(pi.ip_len, 152, "bad_tcp_off: metered");
	p.b[14 + 20 + 12] = 0x00;
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, p.n, 166, &pi), DEC_BAD_TCP_OFF,
	    "tcp doff 0: bad_tcp_off");

	/* Data offset 15 (60 bytes) in a 30-byte IP payload. */
	p.b[14 + 20 + 12] = 0xf0;
	p.b[17] = 50;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_L4_LEN,
	    "tcp doff 15 > payload 30: bad_l4_len");
	T_EQ_INT(pi.flags, PI_HAS_L3, "tcp doff > payload: L3 only");

	/* IP payload shorter than a TCP header, even if captured. */
	p.b[14 + 20 + 12] = 0x50;
	p.b[17] = 30;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_L4_LEN,
	    "tcp in 10-byte payload: bad_l4_len");

	/* Bad is reported before trunc: 10-byte payload, 5 captured. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 20 + 5, 166, &pi),
	    DEC_BAD_L4_LEN, "tcp in 10-byte payload, cut: bad_l4_len");
}

static void
test_udp(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 20 + 8 + 20, 0, 17);
	pb_udp(&p, 123, 123, 0);
	pb_fill(&p, 0x23, 20);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "udp len 0: ok");
	T_EQ_INT(pi.l4_payload, 20, "udp len 0: payload from IP");

	p.b[14 + 20 + 5] = 5;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_L4_LEN,
	    "udp len 5: bad_l4_len");
	T_EQ_INT(pi.flags, PI_HAS_L3, "udp len 5: no ports");

	p.b[14 + 20 + 5] = 8;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "udp len 8: ok");
	T_EQ_INT(pi.l4_payload, 0, "udp len 8: payload 0");

	p.b[17] = 26;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_L4_LEN,
	    "udp in 6-byte payload: bad_l4_len");

	p.b[17] = 48;
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 14 + 20 + 5, 62, &pi),
	    DEC_TRUNC_L4, "udp cut at 5: trunc_l4");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_TRUNC,
	    "udp cut at 5: ports");
	T_EQ_INT(pi.dport, 123, "udp cut at 5: dport");
	T_EQ_INT(pi.ip_len, 48, "udp cut at 5: ip_len");
}

static void
test_sctp_icmp_other(void)
{
	struct pb p = { .n = 0 };
	struct pktinfo pi;

	/* SCTP common header then one 16-byte chunk. */
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 20 + 12 + 16, 0, 132);
	pb_u16(&p, 2905);
	pb_u16(&p, 3868);
	pb_u32(&p, 0x11223344);		/* verification tag */
	pb_u32(&p, 0);			/* checksum */
	pb_fill(&p, 0, 16);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "sctp: ok");
	T_EQ_INT(pi.sport, 2905, "sctp: sport");
	T_EQ_INT(pi.dport, 3868, "sctp: dport");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS, "sctp: flags");
	T_EQ_INT(pi.l4_payload, 16, "sctp: chunks");
	p.b[17] = 20 + 10;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_L4_LEN,
	    "sctp in 10 bytes: bad_l4_len");

	/* ICMP echo request: type 8 code 0. */
	p.n = 0;
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 20 + 8 + 56, 0, 1);
	pb_u8(&p, 8);
	pb_u8(&p, 0);
	pb_u16(&p, 0);
	pb_u16(&p, 0x4242);		/* id */
	pb_u16(&p, 1);			/* seq */
	pb_fill(&p, 0x61, 56);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "icmp echo: ok");
	T_EQ_INT(pi.sport, 0, "icmp echo: sport 0");
	T_EQ_INT(pi.dport, 0x0800, "icmp echo: dport = 8 << 8 | 0");
	T_EQ_INT(pi.l4_payload, 56, "icmp echo: payload");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS, "icmp echo: flags");

	/* Port unreachable: type 3 code 3. */
	p.b[34] = 3;
	p.b[35] = 3;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "icmp unreach: ok");
	T_EQ_INT(pi.dport, 0x0303, "icmp unreach: dport 0x0303");

	/* Cut after type and code: trunc, but type/code known. */
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 36, 98, &pi), DEC_TRUNC_L4,
	    "icmp cut at 2: trunc_l4");
	T_EQ_INT(pi.dport, 0x0303, "icmp cut at 2: dport");
	T_EQ_INT(pi.flags, PI_HAS_L3 | PI_HAS_PORTS | PI_TRUNC,
	    "icmp cut at 2: flags");
	T_EQ_INT(dec_cut(DEC_DLT_EN10MB, &p, 35, 98, &pi), DEC_TRUNC_L4,
	    "icmp cut at 1: trunc_l4");
	T_EQ_INT(pi.flags & PI_HAS_PORTS, 0, "icmp cut at 1: no ports");

	/* ICMPv4 needs 8 bytes (RFC 792). */
	p.b[17] = 20 + 4;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_L4_LEN,
	    "icmp in 4 bytes: bad_l4_len");

	/* ICMPv6 neighbour solicitation: 135/0; 4 bytes are enough. */
	p.n = 0;
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 24, 58);
	pb_u8(&p, 135);
	pb_u8(&p, 0);
	pb_u16(&p, 0);
	pb_u32(&p, 0);
	pb_bytes(&p, V6B, 16);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "icmpv6 ns: ok");
	T_EQ_INT(pi.dport, 135 << 8, "icmpv6 ns: dport 0x8700");
	T_EQ_INT(pi.sport, 0, "icmpv6 ns: sport 0");
	T_EQ_INT(pi.proto, 58, "icmpv6 ns: proto");
	T_EQ_INT(pi.l4_payload, 20, "icmpv6 ns: payload 24 - 4");
	p.b[19] = 4;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "icmpv6 in 4: ok");
	T_EQ_INT(pi.l4_payload, 0, "icmpv6 in 4: payload 0");
	p.b[19] = 3;
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_BAD_L4_LEN,
	    "icmpv6 in 3: bad_l4_len");

	/* GRE (47): metered by number, no ports. */
	p.n = 0;
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 5, 20 + 4 + 20, 0, 47);
	pb_u16(&p, 0);
	pb_u16(&p, 0x0800);
	pb_ipv4(&p, 5, 20, 0, 59);
	T_EQ_INT(dec(DEC_DLT_EN10MB, &p, &pi), DEC_OK, "gre: ok");
	T_EQ_INT(pi.flags, PI_HAS_L3, "gre: L3 only");
	T_EQ_INT(pi.proto, 47, "gre: proto");
	T_EQ_INT(pi.l4_off, 34, "gre: l4_off");
	T_EQ_INT(pi.l4_payload, 24, "gre: l4_payload");
	T_EQ_INT(pi.sport + pi.dport, 0, "gre: no ports");
}

/* --- names and coverage -------------------------------------------------- */

static void
test_names(void)
{
	static const char *const want[DEC__COUNT] = {
		"ok", "not_ip", "unsupported_dlt", "trunc_link",
		"too_many_vlan", "trunc_ipv4", "bad_ipv4_version",
		"bad_ipv4_ihl", "bad_ipv4_len", "trunc_ipv6",
		"bad_ipv6_version", "trunc_ipv6_ext", "too_many_ipv6_ext",
		"fragment", "trunc_l4", "bad_l4_len", "bad_tcp_off",
		"bad_ipv6_ext_len",
	};
	int i, j, distinct = 1;
	char name[64];

	for (i = 0; i < DEC__COUNT; i++) {
		snprintf(name, sizeof(name), "name of result %d", i);
		T_EQ_STR(dec_result_name((enum dec_result)i), want[i], name);
		for (j = 0; j < i; j++)
			if (strcmp(dec_result_name((enum dec_result)i),
			    dec_result_name((enum dec_result)j)) == 0)
				distinct = 0;
	}
	T_OK(distinct, "result names are distinct");
	T_EQ_STR(dec_result_name(DEC__COUNT), "unknown", "DEC__COUNT: unknown");
	T_EQ_STR(dec_result_name((enum dec_result)200), "unknown",
	    "200: unknown");
}

int
main(void)
{
	int i;
	char name[64];

	test_eth_ipv4_tcp();
	test_padding();
	test_lengths();
	test_vlan();
	test_ethernet_other();
	test_sll();
	test_raw();
	test_null_loop();
	test_dlt();
	test_ipv4_options();
	test_ipv4_bad();
	test_ipv4_big_tcp();
	test_ipv4_fragments();
	test_ipv6_basic();
	test_ipv6_ext_each();
	test_ipv6_ext_chain();
	test_ipv6_fragments();
	test_ipv6_jumbo();
	test_tcp();
	test_udp();
	test_sctp_icmp_other();
	test_names();

	for (i = 0; i < DEC__COUNT; i++) {
		snprintf(name, sizeof(name), "result %s reached",
		    dec_result_name((enum dec_result)i));
		T_OK(seen[i] > 0, "%s", name);
	}
	return t_done();
}
