/*
 * decode.h: packet decoder, link layer to transport ports.
 *
 * dec_packet() is pure: no allocation, no logging, no clock.  It reads the
 * captured bytes through a struct cur and fills a caller-owned struct
 * pktinfo.  Every packet gets a result code; malformed and truncated packets
 * are counted by the caller per code (never logged per packet).  A packet
 * cut by the snaplen is normal: it is metered with its wire length and IP
 * total length, and parsed as far as it was captured (DEC_TRUNC_* with
 * PI_HAS_L3 still set when the addresses were read).
 */
#ifndef SENSORD_DECODE_H
#define SENSORD_DECODE_H

#include <stdint.h>

/* Link types we decode (values are libpcap's DLT_ numbers). */
#define DEC_DLT_NULL 0
#define DEC_DLT_EN10MB 1
#define DEC_DLT_RAW 12 /* also 14 on some BSDs */
#define DEC_DLT_RAW_BSD 14
#define DEC_DLT_LOOP 108
#define DEC_DLT_LINUX_SLL 113
#define DEC_DLT_IPV4 228
#define DEC_DLT_IPV6 229
#define DEC_DLT_LINUX_SLL2 276

/*
 * Why a packet was (not) fully decoded.  DEC_OK and DEC_NOT_IP are not
 * errors; everything else is counted as malformed or truncated by reason.
 * Keep dec_result_name() in decode.c in step with this list.
 */
enum dec_result {
	DEC_OK = 0,	       /* decoded down to L4 (or L3 for other protos) */
	DEC_NOT_IP,	       /* ARP, LLDP, ...: counted, not metered */
	DEC_UNSUPPORTED_DLT,   /* link type we do not decode */
	DEC_TRUNC_LINK,	       /* captured bytes end inside the link header */
	DEC_TOO_MANY_VLAN,     /* more than DEC_MAX_VLAN tags */
	DEC_TRUNC_IPV4,	       /* caplen < 20 or < IHL */
	DEC_BAD_IPV4_VERSION,  /* version field is not 4 */
	DEC_BAD_IPV4_IHL,      /* IHL < 5 */
	DEC_BAD_IPV4_LEN,      /* total length < IHL*4 (and not BIG TCP 0) */
	DEC_TRUNC_IPV6,	       /* caplen < 40 */
	DEC_BAD_IPV6_VERSION,  /* version field is not 6 */
	DEC_TRUNC_IPV6_EXT,    /* extension header runs past the capture */
	DEC_TOO_MANY_IPV6_EXT, /* more than DEC_MAX_IPV6_EXT headers */
	DEC_FRAGMENT,	       /* non-first fragment: metered without ports */
	DEC_TRUNC_L4,	       /* transport header cut short (caplen) */
	DEC_BAD_L4_LEN,	       /* transport header longer than IP payload */
	DEC_BAD_TCP_OFF,       /* TCP data offset < 5 */
	DEC_BAD_IPV6_EXT_LEN,  /* extension header longer than IPv6 payload */
	DEC__COUNT
};

#define DEC_MAX_VLAN 2
#define DEC_MAX_IPV6_EXT 8

/* pktinfo.flags */
#define PI_HAS_L3 0x0001     /* family, addresses, proto, ip_len valid */
#define PI_HAS_PORTS 0x0002  /* sport/dport valid (TCP, UDP, SCTP, ICMP) */
#define PI_FRAG 0x0004	     /* part of a fragmented datagram */
#define PI_FRAG_FIRST 0x0008 /* offset-0 fragment: carries ports */
#define PI_TRUNC 0x0010	     /* caplen < wire length */
#define PI_HAS_TCP 0x0020    /* tcp_flags, tcp_seq, tcp_ack valid */
#define PI_JUMBO 0x0040	     /* length from IPv6 jumbo / IPv4 BIG TCP */

/* TCP flag bits as on the wire (low byte of the flags field). */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PUSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

/*
 * What one packet looks like to the rest of sensord.  Addresses are 16
 * bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that one key layout
 * serves both families.  For ICMP and ICMPv6 sport is 0 and dport is
 * type << 8 | code, as NetFlow does.
 */
struct pktinfo {
	uint64_t ts_us;	     /* packet time, us since the epoch */
	uint32_t caplen;     /* bytes captured */
	uint32_t wirelen;    /* bytes on the wire */
	uint32_t ip_len;     /* IP-layer bytes (header + payload) */
	uint32_t l4_payload; /* transport payload bytes (by length fields) */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t l3_off; /* offset of the IP header in the frame */
	uint16_t l4_off; /* offset of the transport header, or 0 */
	uint16_t flags;	 /* PI_* */
	uint16_t vlan;	 /* outer 802.1Q VLAN id, 0 when untagged */
	uint16_t sport;
	uint16_t dport;
	uint16_t tcp_win;
	uint8_t	 family;    /* 4, 6, or 0 when not IP */
	uint8_t	 proto;	    /* IP protocol number (final header) */
	uint8_t	 tcp_flags; /* TH_* */
	uint8_t	 n_vlan;    /* tags seen (0..DEC_MAX_VLAN) */
	uint8_t	 ttl;	    /* TTL / hop limit */
	uint8_t	 result;    /* enum dec_result */
	uint8_t	 src[16];
	uint8_t	 dst[16];
};

/*
 * Decode one captured frame of link type dlt.  caplen bytes are readable at
 * pkt; wirelen is the original length.  ts_us is copied into pi.  Always
 * fills pi (zeroing what it did not reach) and returns pi->result.
 */
enum dec_result dec_packet(int dlt, const uint8_t *pkt, uint32_t caplen,
    uint32_t wirelen, uint64_t ts_us, struct pktinfo *pi);

/* 1 when dec_packet() knows the link type. */
int dec_dlt_supported(int dlt);

/* Stable lower-case name of a result ("ok", "trunc_ipv4", ...). */
const char *dec_result_name(enum dec_result r);

#endif /* SENSORD_DECODE_H */
