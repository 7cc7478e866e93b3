/*
 * decode.c: packet decoder, link layer to transport ports (dec_ prefix).
 *
 * Owns nothing: dec_packet() reads the caller's bytes through a struct cur
 * (cursor.h), fills the caller's struct pktinfo and returns one enum
 * dec_result.  No allocation, no logging, no clock, no global state; it is
 * safe to call from any number of threads.  Bytes are never cast to
 * structs: every byte is fetched through the cursor, fixed-size headers
 * with one cur_bytes() into a local array that is then decoded (the
 * transport header, whose size depends on the protocol, in place from the
 * span cur_take() checked).
 *
 * Two lengths, always.  Parsing is bounded by what was captured (caplen);
 * metering (ip_len) comes from the IP length fields, bounded by what was on
 * the wire.  Each layer carves a child cursor no longer than its own length
 * field, so an inner parser can read neither Ethernet padding nor the FCS
 * nor bytes past the snaplen.  When a length field and the capture disagree
 * the result code says which: BAD_* when a header contradicts its own
 * length fields (a malformed packet), TRUNC_* when the declared bytes exist
 * on the wire but the snaplen cut them (normal on a sensor).
 *
 * Decisions worth knowing (tests/unit/test_decode.c checks each):
 *  - pi is zeroed first, so every field the decoder did not reach is 0.
 *  - family and l3_off are set as soon as the link layer says IPv4/IPv6,
 *    even if the IP header then turns out bad; everything else at L3
 *    (addresses, proto, ttl, ip_len) is valid only with PI_HAS_L3.
 *  - ip_len = min(what the IP header claims, wire bytes from the IP header
 *    on).  A header can lie, the wire length cannot: an IP packet cannot
 *    have carried more bytes than the frame that held it, and trusting a
 *    60-byte packet that claims 65535 bytes would let a spoofer inflate any
 *    host's volume (and trip its baseline).  When the header claims less
 *    than the wire, the rest is link padding or FCS and is not IP.
 *    BIG TCP / TSO (IPv4 total length 0 carrying TCP; IPv6 payload length
 *    0 without a jumbo option carrying TCP, or UDP for tunnels) and jumbo
 *    options cut by the snaplen are metered by the wire, with PI_JUMBO.
 *  - IPv4 header cut by the snaplen: fewer than 20 bytes -> TRUNC_IPV4 with
 *    nothing at L3 (the addresses end at byte 20).  20 bytes or more but
 *    options cut -> TRUNC_IPV4 with PI_HAS_L3, as long as the version, IHL
 *    and total length checks pass (they need only the first 20 bytes), so
 *    the packet is still metered on its addresses, without ports.
 *  - Transport: the fixed header (TCP 20, UDP 8, SCTP 12, ICMP 8, ICMPv6 4
 *    bytes) must fit in the IP payload (else BAD_L4_LEN, addresses only)
 *    and in the capture (else TRUNC_L4; ports are still filled when their
 *    4 bytes, or ICMP's type and code, were captured).  TCP options are
 *    never read, so options cut by the snaplen are not an error; options
 *    longer than the IP payload are (BAD_L4_LEN), except in a first
 *    fragment, where they may go on in the next one.  A malformed
 *    transport header (BAD_L4_LEN, BAD_TCP_OFF) never sets PI_HAS_PORTS.
 *  - Non-first fragments: DEC_FRAGMENT, PI_HAS_L3|PI_FRAG, proto set, no
 *    ports, l4_off 0, l4_payload 0.  IPv6 atomic fragments (offset 0, M 0,
 *    RFC 6946) are not fragments.
 *  - IPv6 extension headers: a header running past the IPv6 payload length
 *    is BAD_IPV6_EXT_LEN, past the capture only TRUNC_IPV6_EXT; in both
 *    cases, and for TOO_MANY_IPV6_EXT, proto is the header we stopped at.
 *  - Link layer: VLAN tags (0x8100, 0x88a8, 0x9100) are also followed after
 *    the SLL/SLL2 protocol field (libpcap re-inserts stripped tags there).
 *    DLT_RAW frames whose version nibble is neither 4 nor 6, DLT_NULL/LOOP
 *    address families other than INET/INET6 and ethertypes other than IP
 *    are DEC_NOT_IP, as they are not IP as far as the link layer can tell.
 *  - A wirelen below caplen (a broken file) is taken as caplen for the
 *    bounds; pi->wirelen is still the value given.
 *
 * Cost: one 88-byte memset (five vector stores, cheaper than zeroing the
 * 22 fields one by one), then straight-line reads; the only loops are the
 * VLAN tags (at most 3 turns), the IPv6 extension headers (at most 9) and
 * the options of a hop-by-hop header when the payload length is 0 (bounded
 * by its 2 KiB).  Measured 22-35 ns of CPU per Ethernet/IPv4/TCP or
 * VLAN/IPv6/hop-by-hop/UDP packet (gcc -O2, busy shared 2-core host): 5-7%
 * of the 500 ns a packet may take at 2 Mpps.  Forcing the IPv4 and L4
 * steps inline doubled the code and gained nothing measurable.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "decode.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-802.1ad stacked tag */

#define ETHER_ADDRS_LEN 12  /* destination and source MAC */
#define SLL_PROTO_OFF 14    /* linux-sll: protocol at 14..15 */
#define SLL2_AFTER_PROTO 18 /* linux-sll2: protocol at 0..1 of 20 */

/* Address families as written in DLT_NULL / DLT_LOOP headers. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24 /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30
#define LINUX_AF_INET6 10

/* IP protocol numbers (IANA), named here to keep the module standalone. */
#define P_HOPOPTS 0
#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_ROUTING 43
#define P_FRAGMENT 44
#define P_AH 51
#define P_ICMPV6 58
#define P_DSTOPTS 60
#define P_SCTP 132
#define P_MOBILITY 135
#define P_HIP 139
#define P_SHIM6 140

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define IPV4_MF 0x2000
#define IPV4_OFFMASK 0x1fff
#define IPV6_OFFMASK 0xfff8 /* fragment offset, 8-byte units */
#define IPV6_MF 0x0001
#define IPV6_JUMBO_OPT 0xc2 /* RFC 2675 §2 */

#define TCP_HDR_MIN 20
#define UDP_HDR_LEN 8
#define SCTP_HDR_LEN 12	 /* RFC 9260 §3.1 common header */
#define ICMP_HDR_LEN 8	 /* RFC 792: every message has 8 */
#define ICMPV6_HDR_LEN 4 /* RFC 4443 §2.1: type, code, cksum */

static const char *const dec_names[DEC__COUNT] = {
    [DEC_OK] = "ok",
    [DEC_NOT_IP] = "not_ip",
    [DEC_UNSUPPORTED_DLT] = "unsupported_dlt",
    [DEC_TRUNC_LINK] = "trunc_link",
    [DEC_TOO_MANY_VLAN] = "too_many_vlan",
    [DEC_TRUNC_IPV4] = "trunc_ipv4",
    [DEC_BAD_IPV4_VERSION] = "bad_ipv4_version",
    [DEC_BAD_IPV4_IHL] = "bad_ipv4_ihl",
    [DEC_BAD_IPV4_LEN] = "bad_ipv4_len",
    [DEC_TRUNC_IPV6] = "trunc_ipv6",
    [DEC_BAD_IPV6_VERSION] = "bad_ipv6_version",
    [DEC_TRUNC_IPV6_EXT] = "trunc_ipv6_ext",
    [DEC_TOO_MANY_IPV6_EXT] = "too_many_ipv6_ext",
    [DEC_FRAGMENT] = "fragment",
    [DEC_TRUNC_L4] = "trunc_l4",
    [DEC_BAD_L4_LEN] = "bad_l4_len",
    [DEC_BAD_TCP_OFF] = "bad_tcp_off",
    [DEC_BAD_IPV6_EXT_LEN] = "bad_ipv6_ext_len",
};

static enum dec_result dec_ipv4(struct cur *, uint32_t, struct pktinfo *);
static enum dec_result dec_ipv6(struct cur *, uint32_t, struct pktinfo *);

/*
 * A header of need bytes does not fit: BAD when it does not even fit in
 * what its length field declared (left bytes), TRUNC when only the capture
 * is short.  The cursor is bounded by min(declared, captured).
 */
static enum dec_result
dec_short(size_t need, size_t left, enum dec_result bad, enum dec_result trunc)
{
	return need > left ? bad : trunc;
}

static uint32_t
dec_min32(uint64_t a, uint32_t b)
{
	return a < b ? (uint32_t)a : b;
}

/*
 * Headers are checked once (cur_bytes into a local copy, or cur_take for a
 * span) and then decoded field by field: one bounds check per header
 * instead of one per field, which the compiler cannot merge on its own.
 */
static inline uint16_t
dec_ld16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t
dec_ld32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* The transport header was cut by the snaplen. */
static enum dec_result
dec_l4_cut(struct cur *c, uint8_t proto, struct pktinfo *pi)
{
	uint8_t type;

	/* Fill what the snaplen left, so the packet keeps its flow key. */
	if (proto == P_ICMP || proto == P_ICMPV6) {
		if (cur_left(c) >= 2) {
			type = cur_u8(c);
			pi->dport = (uint16_t)(type << 8 | cur_u8(c));
			pi->flags |= PI_HAS_PORTS;
		}
	} else if (cur_left(c) >= 4) {
		pi->sport = cur_be16(c);
		pi->dport = cur_be16(c);
		pi->flags |= PI_HAS_PORTS;
	}
	return DEC_TRUNC_L4;
}

/*
 * Transport layer.  c starts at the transport header and holds what was
 * captured of the IP payload; plen is the payload the IP layer declared.
 * pi->proto and pi->l4_off are set by the caller.
 */
static enum dec_result
dec_l4(struct cur *c, uint32_t plen, struct pktinfo *pi)
{
	const uint8_t *b;
	uint32_t       need, doff, ulen;
	uint16_t       offflags;

	switch (pi->proto) {
	case P_TCP:
		need = TCP_HDR_MIN;
		break;
	case P_UDP:
		need = UDP_HDR_LEN;
		break;
	case P_SCTP:
		need = SCTP_HDR_LEN;
		break;
	case P_ICMP:
		need = ICMP_HDR_LEN;
		break;
	case P_ICMPV6:
		need = ICMPV6_HDR_LEN;
		break;
	default:
		/* ESP, GRE, ...: metered on addresses and protocol only. */
		pi->l4_payload = plen;
		return DEC_OK;
	}
	if (plen < need)
		return DEC_BAD_L4_LEN;
	if (cur_left(c) < need)
		return dec_l4_cut(c, pi->proto, pi);
	/*
	 * The header's need bytes, bounds-checked by the cursor, decoded in
	 * place: a copy of a variable length is a libc memcpy call per
	 * packet.
	 */
	if ((b = cur_take(c, need)) == NULL)
		return dec_l4_cut(c, pi->proto, pi);

	switch (pi->proto) {
	case P_TCP:
		/* RFC 9293 §3.1 */
		offflags = dec_ld16(b + 12);
		doff = (uint32_t)(offflags >> 12) * 4;
		if (doff < TCP_HDR_MIN)
			return DEC_BAD_TCP_OFF;
		if (doff > plen) {
			/*
			 * A first fragment may end inside the options
			 * (RFC 791 fragments on any 8-byte boundary; RFC
			 * 1858 only refuses one without the fixed header).
			 */
			if (!(pi->flags & PI_FRAG_FIRST))
				return DEC_BAD_L4_LEN;
			doff = plen;
		}
		pi->sport = dec_ld16(b);
		pi->dport = dec_ld16(b + 2);
		pi->tcp_seq = dec_ld32(b + 4);
		pi->tcp_ack = dec_ld32(b + 8);
		pi->tcp_flags = (uint8_t)(offflags & 0xff);
		pi->tcp_win = dec_ld16(b + 14);
		pi->flags |= PI_HAS_PORTS | PI_HAS_TCP;
		pi->l4_payload = plen - doff;
		return DEC_OK;
	case P_UDP:
		/* RFC 768 */
		ulen = dec_ld16(b + 4);
		if (ulen == 0) /* RFC 2675 §4: jumbo UDP */
			ulen = plen;
		else if (ulen < UDP_HDR_LEN)
			return DEC_BAD_L4_LEN;
		else if (ulen > plen)
			ulen = plen;
		pi->sport = dec_ld16(b);
		pi->dport = dec_ld16(b + 2);
		pi->l4_payload = ulen - UDP_HDR_LEN;
		break;
	case P_SCTP:
		pi->sport = dec_ld16(b);
		pi->dport = dec_ld16(b + 2);
		pi->l4_payload = plen - SCTP_HDR_LEN;
		break;
	default:
		/* ICMP, ICMPv6: as NetFlow, type and code in dport. */
		pi->dport = dec_ld16(b);
		pi->l4_payload = plen - need;
		break;
	}
	pi->flags |= PI_HAS_PORTS;
	return DEC_OK;
}

/*
 * IPv4, RFC 791 §3.1.  Checks in a fixed order: 20 bytes captured,
 * version, IHL >= 5, header captured, total length >= header.
 */
static enum dec_result
dec_ipv4(struct cur *c, uint32_t wire, struct pktinfo *pi)
{
	uint8_t	   h[IPV4_HDR_MIN];
	struct cur l4;
	size_t	   l3, cap;
	uint32_t   hlen, wire_ip, ip_len, claimed;
	uint16_t   tot, frag;
	uint8_t	   proto;
	int	   trunc;

	l3 = cur_off(c);
	cap = cur_left(c);
	pi->family = 4;
	pi->l3_off = (uint16_t)l3;
	if (cur_bytes(c, h, IPV4_HDR_MIN) == -1)
		return DEC_TRUNC_IPV4;
	if (h[0] >> 4 != 4)
		return DEC_BAD_IPV4_VERSION;
	hlen = (uint32_t)(h[0] & 0x0f) * 4;
	if (hlen < IPV4_HDR_MIN)
		return DEC_BAD_IPV4_IHL;
	tot = dec_ld16(h + 2);
	frag = dec_ld16(h + 6);
	proto = h[9];

	trunc = hlen > cap;
	wire_ip = wire - (uint32_t)l3;
	if (tot >= hlen)
		claimed = tot;
	else if (tot == 0 && proto == P_TCP) {
		/*
		 * Linux BIG TCP (and TSO seen on the sender) leaves the total
		 * length 0 when the segment is larger than 64 KiB: the frame
		 * length is the only length there is.
		 */
		claimed = wire_ip;
		pi->flags |= PI_JUMBO;
	} else
		return trunc ? DEC_TRUNC_IPV4 : DEC_BAD_IPV4_LEN;

	ip_len = claimed < wire_ip ? claimed : wire_ip;
	memcpy(pi->src + 12, h + 12, 4);
	memcpy(pi->dst + 12, h + 16, 4);
	pi->src[10] = pi->src[11] = 0xff;
	pi->dst[10] = pi->dst[11] = 0xff;
	pi->ttl = h[8];
	pi->proto = proto;
	pi->ip_len = ip_len;
	pi->flags |= PI_HAS_L3;
	if (frag & (IPV4_MF | IPV4_OFFMASK)) {
		pi->flags |= PI_FRAG;
		if ((frag & IPV4_OFFMASK) != 0)
			return trunc ? DEC_TRUNC_IPV4 : DEC_FRAGMENT;
		pi->flags |= PI_FRAG_FIRST;
	}
	if (trunc) /* options cut by the snaplen */
		return DEC_TRUNC_IPV4;

	/*
	 * ip_len >= hlen here (claimed >= hlen, wire_ip >= cap >= hlen), and
	 * the sub-cursor stops at the total length: padding is not payload.
	 */
	cur_skip(c, hlen - IPV4_HDR_MIN);
	cur_sub(c, (ip_len < cap ? ip_len : cap) - hlen, &l4);
	pi->l4_off = (uint16_t)(l3 + hlen);
	return dec_l4(&l4, ip_len - hlen, pi);
}

/*
 * RFC 2675 §2: payload length 0 and a Jumbo Payload option (0xc2, length
 * 4) in the hop-by-hop header that starts at c.  1 with *jlen set; 0 when
 * the header was captured whole and has no such option; -1 when it was cut
 * by the snaplen and we cannot tell.
 */
static int
dec_ipv6_jumbo(const struct cur *c, uint32_t *jlen)
{
	struct cur o = *c, opts;
	size_t	   hlen;
	uint8_t	   type, len;

	cur_skip(&o, 1);
	hlen = ((size_t)cur_u8(&o) + 1) * 8;
	if (cur_sub(&o, hlen - 2, &opts) == -1)
		return -1;
	/* Each turn consumes at least one byte of at most 2046. */
	while (cur_left(&opts) > 0) {
		type = cur_u8(&opts);
		if (type == 0) /* Pad1 has no length byte */
			continue;
		len = cur_u8(&opts);
		if (type == IPV6_JUMBO_OPT && len == 4) {
			*jlen = cur_be32(&opts);
			return cur_ok(&opts) ? 1 : 0;
		}
		cur_skip(&opts, len);
	}
	return 0;
}

/*
 * RFC 8200 §4: walk at most DEC_MAX_IPV6_EXT extension headers.  c holds
 * the captured part of the payload, plen the declared payload length.
 */
static enum dec_result
dec_ipv6_ext(struct cur *c, uint32_t plen, uint8_t nh, struct pktinfo *pi)
{
	struct cur e;
	size_t	   len, off;
	uint16_t   fo;
	uint8_t	   next;
	int	   n;

	for (n = 0;; n++) {
		switch (nh) {
		case P_HOPOPTS:
		case P_ROUTING:
		case P_DSTOPTS:
		case P_MOBILITY: /* RFC 6275 §6.1.1 */
		case P_HIP:	 /* RFC 7401 §5.1 */
		case P_SHIM6:	 /* RFC 5533 §5.1 */
		case P_AH:	 /* RFC 4302 §2.2: 4-byte units, +2 */
			len = 2; /* next header and length first */
			break;
		case P_FRAGMENT: /* RFC 8200 §4.5: fixed 8 bytes */
			len = 8;
			break;
		default:
			goto upper;
		}
		pi->proto = nh;
		if (n == DEC_MAX_IPV6_EXT)
			return DEC_TOO_MANY_IPV6_EXT;
		off = cur_off(c);
		if (len > cur_left(c))
			return dec_short(len, plen - off, DEC_BAD_IPV6_EXT_LEN,
			    DEC_TRUNC_IPV6_EXT);
		if (nh == P_AH)
			len = ((size_t)cur_peek_u8(c, 1) + 2) * 4;
		else if (nh != P_FRAGMENT)
			len = ((size_t)cur_peek_u8(c, 1) + 1) * 8;
		if (len > cur_left(c))
			return dec_short(len, plen - off, DEC_BAD_IPV6_EXT_LEN,
			    DEC_TRUNC_IPV6_EXT);
		cur_sub(c, len, &e);
		next = cur_u8(&e);
		if (nh == P_FRAGMENT) {
			cur_skip(&e, 1);
			fo = cur_be16(&e);
			if ((fo & IPV6_OFFMASK) != 0) {
				/*
				 * Later fragment: no transport header.  A
				 * first-fragment header before it (two
				 * fragment headers, fuzzer-found) is moot.
				 */
				pi->flags =
				    (uint16_t)((pi->flags & ~PI_FRAG_FIRST) |
					PI_FRAG);
				pi->proto = next;
				return DEC_FRAGMENT;
			}
			if (fo & IPV6_MF) /* offset 0, more: first */
				pi->flags |= PI_FRAG | PI_FRAG_FIRST;
		}
		nh = next;
	}
upper:
	/* 59 (no next header), ESP (50) and the rest end here. */
	pi->proto = nh;
	pi->l4_off = (uint16_t)(pi->l3_off + IPV6_HDR_LEN + cur_off(c));
	return dec_l4(c, plen - (uint32_t)cur_off(c), pi);
}

/* IPv6, RFC 8200 §3. */
static enum dec_result
dec_ipv6(struct cur *c, uint32_t wire, struct pktinfo *pi)
{
	uint8_t	   h[8];
	struct cur pay;
	size_t	   l3, cap;
	uint64_t   claimed;
	uint32_t   wire_ip, ip_len, jlen;
	uint16_t   plen;
	uint8_t	   nh;
	int	   j;

	l3 = cur_off(c);
	cap = cur_left(c);
	pi->family = 6;
	pi->l3_off = (uint16_t)l3;
	if (cap < IPV6_HDR_LEN)
		return DEC_TRUNC_IPV6;
	cur_bytes(c, h, sizeof(h));
	if (h[0] >> 4 != 6)
		return DEC_BAD_IPV6_VERSION;
	plen = dec_ld16(h + 4);
	nh = h[6];
	pi->ttl = h[7];
	cur_bytes(c, pi->src, 16);
	cur_bytes(c, pi->dst, 16);
	pi->flags |= PI_HAS_L3;

	wire_ip = wire - (uint32_t)l3;
	claimed = IPV6_HDR_LEN + (uint64_t)plen;
	if (plen == 0 && nh == P_HOPOPTS) {
		j = dec_ipv6_jumbo(c, &jlen);
		if (j == 1) {
			claimed = IPV6_HDR_LEN + (uint64_t)jlen;
			pi->flags |= PI_JUMBO;
		} else if (j == -1) {
			/* Jumbo option cut by the snaplen: trust the wire. */
			claimed = wire_ip;
			pi->flags |= PI_JUMBO;
		}
		/* else 0: no payload, the walk reports the bad header. */
	} else if (plen == 0 && (nh == P_TCP || nh == P_UDP)) {
		/*
		 * Linux BIG TCP removes the jumbo header and leaves payload
		 * length 0, also on the outer header of a UDP tunnel (Geneve,
		 * VXLAN) whose UDP length is 0 as in RFC 2675 §4.  The wire
		 * bounds it, so this cannot inflate a count.
		 */
		claimed = wire_ip;
		pi->flags |= PI_JUMBO;
	}
	ip_len = dec_min32(claimed, wire_ip);
	pi->ip_len = ip_len;
	/* ip_len >= 40: claimed >= 40 and wire_ip >= cap >= 40. */
	cur_sub(c, (ip_len < cap ? ip_len : cap) - IPV6_HDR_LEN, &pay);
	return dec_ipv6_ext(&pay, ip_len - IPV6_HDR_LEN, nh, pi);
}

/*
 * Follow up to DEC_MAX_VLAN 802.1Q/802.1ad tags from an ethertype, then
 * hand over to IPv4 or IPv6.  The outer tag (the first on the wire) is
 * the one recorded: it names the segment the sensor sees.
 */
static enum dec_result
dec_ethertype(struct cur *c, uint16_t type, uint32_t wire, struct pktinfo *pi)
{
	uint16_t tci;

	if (!cur_ok(c))
		return DEC_TRUNC_LINK;
	while (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD ||
	    type == ETHERTYPE_QINQ_OLD) {
		if (pi->n_vlan == DEC_MAX_VLAN)
			return DEC_TOO_MANY_VLAN;
		tci = cur_be16(c);
		type = cur_be16(c);
		if (!cur_ok(c))
			return DEC_TRUNC_LINK;
		if (pi->n_vlan++ == 0)
			pi->vlan = tci & 0x0fff;
	}
	if (type == ETHERTYPE_IPV4)
		return dec_ipv4(c, wire, pi);
	if (type == ETHERTYPE_IPV6)
		return dec_ipv6(c, wire, pi);
	/* ARP, LLDP, ... and below 0x0600 an 802.3 length (LLC). */
	return DEC_NOT_IP;
}

/* Address family of a DLT_NULL / DLT_LOOP header: 4, 6, or 0. */
static int
dec_af(uint32_t af)
{
	switch (af) {
	case BSD_AF_INET:
		return 4;
	case LINUX_AF_INET6:
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return 6;
	default:
		return 0;
	}
}

static enum dec_result
dec_family(struct cur *c, int family, uint32_t wire, struct pktinfo *pi)
{
	if (family == 4)
		return dec_ipv4(c, wire, pi);
	if (family == 6)
		return dec_ipv6(c, wire, pi);
	return DEC_NOT_IP;
}

enum dec_result
dec_packet(int dlt, const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
    uint64_t ts_us, struct pktinfo *pi)
{
	struct cur	c;
	enum dec_result r;
	uint32_t	wire, af;
	uint16_t	type;
	int		family;

	memset(pi, 0, sizeof(*pi));
	pi->ts_us = ts_us;
	pi->caplen = caplen;
	pi->wirelen = wirelen;
	wire = caplen;
	if (caplen < wirelen) {
		pi->flags = PI_TRUNC;
		wire = wirelen;
	}
	cur_init(&c, pkt, caplen);

	switch (dlt) {
	case DEC_DLT_EN10MB:
		cur_skip(&c, ETHER_ADDRS_LEN);
		type = cur_be16(&c);
		r = dec_ethertype(&c, type, wire, pi);
		break;
	case DEC_DLT_LINUX_SLL:
		cur_skip(&c, SLL_PROTO_OFF);
		type = cur_be16(&c);
		r = dec_ethertype(&c, type, wire, pi);
		break;
	case DEC_DLT_LINUX_SLL2:
		type = cur_be16(&c);
		cur_skip(&c, SLL2_AFTER_PROTO);
		r = dec_ethertype(&c, type, wire, pi);
		break;
	case DEC_DLT_RAW:
	case DEC_DLT_RAW_BSD:
		/* No link header: the IP version nibble says which. */
		if (cur_left(&c) == 0)
			r = DEC_TRUNC_LINK;
		else
			r = dec_family(&c, cur_peek_u8(&c, 0) >> 4, wire, pi);
		break;
	case DEC_DLT_IPV4:
		r = dec_ipv4(&c, wire, pi);
		break;
	case DEC_DLT_IPV6:
		r = dec_ipv6(&c, wire, pi);
		break;
	case DEC_DLT_NULL:
		/* The AF is in the writer's byte order: try both. */
		af = cur_le32(&c);
		if (!cur_ok(&c))
			r = DEC_TRUNC_LINK;
		else {
			family = dec_af(af);
			if (family == 0)
				family = dec_af(__builtin_bswap32(af));
			r = dec_family(&c, family, wire, pi);
		}
		break;
	case DEC_DLT_LOOP:
		af = cur_be32(&c);
		r = cur_ok(&c) ? dec_family(&c, dec_af(af), wire, pi)
			       : DEC_TRUNC_LINK;
		break;
	default:
		r = DEC_UNSUPPORTED_DLT;
		break;
	}
	pi->result = (uint8_t)r;
	return r;
}

int
dec_dlt_supported(int dlt)
{
	switch (dlt) {
	case DEC_DLT_NULL:
	case DEC_DLT_EN10MB:
	case DEC_DLT_RAW:
	case DEC_DLT_RAW_BSD:
	case DEC_DLT_LOOP:
	case DEC_DLT_LINUX_SLL:
	case DEC_DLT_IPV4:
	case DEC_DLT_IPV6:
	case DEC_DLT_LINUX_SLL2:
		return 1;
	default:
		return 0;
	}
}

const char *
dec_result_name(enum dec_result r)
{
	if ((unsigned)r >= DEC__COUNT || dec_names[r] == NULL)
		return "unknown";
	return dec_names[r];
}
