/*
 * conv.c: what a packet means for one conversation.
 *
 * Owns the semantics, not the storage (flowtab.c owns the pool, the index
 * and the expiry lists).  Given a record from the pool and a decoded packet
 * it builds the canonical key, decides the initiator once, keeps counters,
 * times and TCP flags per direction, follows Zeek's TCP endpoint state
 * machine (zeek/zeek:src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc)
 * and history letters, and renders the record consumers see (struct
 * convrec) with Zeek's conn_state (zeek/zeek:scripts/base/protocols/conn/
 * main.zeek).
 *
 * Initiator: the sender of the first packet, corrected once, at creation,
 * when that packet cannot be an opening:
 *   - TCP whose first packet is a SYN-ACK or has no SYN (mid-stream): Zeek's
 *     WantConnection heuristic.  If the source port is a likely server port
 *     and the destination is not, flip; if both are, flip only when it is not
 *     a SYN-ACK (stealth scans answer with SYN-ACKs from both plausible
 *     sides) and the source port is the lower one.
 *   - UDP and other port protocols: flip when the source port is a likely
 *     server port and the destination port is not (a DNS reply seen first).
 *   - ICMP: flip when the first packet is the reply half of a query pair.
 * The flip is recorded ('^', convrec.flipped) and never re-derived.
 *
 * ICMP pairing: NetFlow puts type << 8 | code in the destination port.  The
 * query/response types below share one conversation by keying replies under
 * their request type, so echo request 8/0 and echo reply 0/0 between two
 * hosts are one conversation with dport 2048 (8 << 8), initiator = the
 * requester.  Pairs: ICMPv4 echo 8/0, timestamp 13/14, information 15/16,
 * address mask 17/18; ICMPv6 echo 128/129, node information 139/140 (RFC
 * 4620).  Router and neighbour solicitations are not paired: their answers
 * go to other addresses (multicast) or come unsolicited.  Other types
 * (unreachable, time exceeded, ...) are one-way conversations keyed by
 * their own type and code.  XXX the echo identifier is not in struct
 * pktinfo, so concurrent pings between the same two hosts share a record.
 *
 * Non-TCP conn_state follows Zeek's UDP rule for every protocol (SF both
 * sides sent, S0 only the originator, SHR only the responder), where Zeek
 * says OTH for ICMP: an unanswered echo is then S0, which is what scan and
 * no-reply detectors want.  History for non-TCP is 'D'/'d' per side (UDP
 * only with payload).  XXX TCP multi-flag packets (Zeek 'Q', FIN+RST 'I')
 * and the repeated letters c, g, t, w are not kept: no sequence tracking.
 *
 * Cost: conv_account() is a few dozen instructions, no loops beyond the
 * fixed history bookkeeping, no allocation.
 */
#include <netinet/in.h>

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "util.h"

static const char hist_letters[] = "SHADFR";

enum { L_SYN, L_SYNACK, L_ACK, L_DATA, L_FIN, L_RST };
enum { K_SYN, K_ACK, K_DATA, K_FIN, K_RST };

/*
 * Service ports above 1023 that Zeek-like heuristics should treat as the
 * server side (below 1024 every port counts).  Sorted, for bsearch; only
 * looked up when a conversation is created.
 */
static const uint16_t server_ports[] = {
    1080,
    1194,
    1433,
    1434,
    1521,
    1701,
    1723,
    1812,
    1813,
    1883,
    1900,
    2049,
    2181,
    2375,
    2376,
    2379,
    2380,
    3128,
    3260,
    3306,
    3389,
    3478,
    4369,
    4500,
    4789,
    5060,
    5061,
    5222,
    5353,
    5355,
    5432,
    5671,
    5672,
    5900,
    5985,
    5986,
    6379,
    6443,
    6514,
    8000,
    8008,
    8080,
    8081,
    8088,
    8443,
    8883,
    8888,
    9000,
    9090,
    9092,
    9100,
    9200,
    9300,
    9418,
    10250,
    11211,
    27017,
};

static int
port_cmp(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

int
conv_likely_server_port(uint16_t port)
{
	if (port < 1024)
		return port != 0;
	return bsearch(&port, server_ports,
		   sizeof(server_ports) / sizeof(server_ports[0]),
		   sizeof(server_ports[0]), port_cmp) != NULL;
}

static int
is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* Key replies of query/response pairs under their request type. */
static uint16_t
icmp_pair(uint8_t proto, uint16_t tc, int *is_reply)
{
	unsigned int type = tc >> 8, code = tc & 0xff, q = type;

	if (proto == IPPROTO_ICMP) {
		switch (type) {
		case 0: /* echo reply (RFC 792) */
			q = 8;
			break;
		case 14: /* timestamp reply */
		case 16: /* information reply */
		case 18: /* address mask reply (RFC 950) */
			q = type - 1;
			break;
		default:
			break;
		}
	} else {
		switch (type) {
		case 129: /* echo reply (RFC 4443) */
		case 140: /* node information reply (RFC 4620) */
			q = type - 1;
			break;
		default:
			break;
		}
	}
	*is_reply = q != type;
	return (uint16_t)(q << 8 | code);
}

/* memcmp() order of two addresses, as two big-endian 64-bit compares. */
static inline int
addr_cmp(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	x[0] = be64toh(x[0]);
	y[0] = be64toh(y[0]);
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	x[1] = be64toh(x[1]);
	y[1] = be64toh(y[1]);
	if (x[1] != y[1])
		return x[1] < y[1] ? -1 : 1;
	return 0;
}

int
conv_key_make(
    struct conv_key *k, const struct pktinfo *pi, uint8_t iface, int *is_reply)
{
	uint16_t sp = 0, dp = 0;
	int	 c, side;

	*is_reply = 0;
	if (pi->flags & PI_HAS_PORTS) {
		sp = pi->sport;
		dp = pi->dport;
	}
	k->vlan = (uint16_t)((pi->vlan & 0x0fff) |
	    (pi->family == 6 ? CONV_KEY_V6 : 0));
	k->proto = pi->proto;
	k->iface = iface;
	c = addr_cmp(pi->src, pi->dst);
	if (is_icmp(pi->proto)) {
		/* Ports are not endpoint attributes: order addresses only. */
		side = c > 0;
		sp = 0;
		dp = (pi->flags & PI_HAS_PORTS)
		    ? icmp_pair(pi->proto, dp, is_reply)
		    : 0;
		memcpy(k->a, side ? pi->dst : pi->src, 16);
		memcpy(k->b, side ? pi->src : pi->dst, 16);
		k->pa = sp;
		k->pb = dp;
		return side;
	}
	side = c > 0 || (c == 0 && sp > dp);
	if (side == 0) {
		memcpy(k->a, pi->src, 16);
		memcpy(k->b, pi->dst, 16);
		k->pa = sp;
		k->pb = dp;
	} else {
		memcpy(k->a, pi->dst, 16);
		memcpy(k->b, pi->src, 16);
		k->pa = dp;
		k->pb = sp;
	}
	return side;
}

/* Should the sender of this first packet be taken for the responder? */
static int
want_flip(const struct pktinfo *pi, int is_reply)
{
	uint8_t f = pi->tcp_flags;
	int	ls, ld;

	if (is_icmp(pi->proto))
		return is_reply;
	if (!(pi->flags & PI_HAS_PORTS))
		return 0;
	ls = conv_likely_server_port(pi->sport);
	ld = conv_likely_server_port(pi->dport);
	if (pi->proto == IPPROTO_TCP) {
		if (!(pi->flags & PI_HAS_TCP))
			return 0;
		if ((f & TH_SYN) && !(f & TH_ACK))
			return 0; /* a real opening */
		if (!ls)
			return 0;
		if (ld)
			return !(f & TH_SYN) && pi->sport < pi->dport;
		return 1;
	}
	return ls && !ld;
}

void
conv_init(struct conv *c, const struct conv_key *k, const struct pktinfo *pi,
    int side, int is_reply)
{
	uint32_t gen = c->gen + 1;
	int	 flip = want_flip(pi, is_reply);
	int	 orig = flip ? !side : side;

	memset(c, 0, sizeof(*c));
	c->key = *k;
	c->gen = gen;
	c->hist = (orig ? CONV_H_ORIG_SIDE : 0) | (flip ? CONV_H_FLIPPED : 0);
}

void
conv_interval_reset(struct conv *c, uint64_t t_us)
{
	/* Division by a constant: the compiler emits a multiply. */
	c->base_s = (uint32_t)(t_us / 1000000);
	c->bw[0] = c->bw[1] = 0;
	c->pkts[0] = c->pkts[1] = 0;
	c->first[0] = c->first[1] = CONV_NO_TIME;
	c->last[0] = c->last[1] = 0;
	c->flags[0] = c->flags[1] = 0;
	c->fflags[0] = c->fflags[1] = 0;
}

static inline unsigned int
st_get(const struct conv *c, int role)
{
	return (unsigned int)(c->hist >> (CONV_H_ST_SHIFT + 3 * role)) & 7;
}

static inline void
st_set(struct conv *c, int role, unsigned int s)
{
	unsigned int sh = CONV_H_ST_SHIFT + 3 * (unsigned int)role;

	c->hist = (c->hist & ~(UINT64_C(7) << sh)) | (uint64_t)s << sh;
}

/*
 * Letters recorded so far: the bits of a 10-bit mask, counted inline
 * (baseline x86-64 has no POPCNT: __builtin_popcount is a libgcc call).
 */
static inline int
hist_count(const struct conv *c)
{
	unsigned x = (unsigned)(c->hist >> CONV_H_MASK_SHIFT) & 0x3ffu;

	x = x - ((x >> 1) & 0x155u);
	x = (x & 0x333u) + ((x >> 2) & 0x333u);
	x = (x + (x >> 4)) & 0x30fu;
	return (int)((x & 0xffu) + (x >> 8));
}

/* Record history letter l of kind k for role, once per role and kind. */
static void
hist_add(struct conv *c, int role, int kind, int letter)
{
	uint64_t bit = UINT64_C(1) << (CONV_H_MASK_SHIFT + role * 5 + kind);
	int	 n;

	if (c->hist & bit)
		return;
	n = hist_count(c);
	c->hist |= bit | (uint64_t)(role * 6 + letter) << (4 * n);
}

static int
hist_has(const struct conv *c, int role, int kind)
{
	return (c->hist >> (CONV_H_MASK_SHIFT + role * 5 + kind)) & 1;
}

/* Zeek's update_history(): letters from the flags of one TCP segment. */
static void
tcp_history(struct conv *c, int role, uint8_t f, uint32_t len)
{
	int nset = !!(f & TH_SYN) + !!(f & TH_FIN) + !!(f & TH_RST);

	if (nset == 1) {
		if (f & TH_SYN)
			hist_add(
			    c, role, K_SYN, (f & TH_ACK) ? L_SYNACK : L_SYN);
		if (f & TH_FIN)
			hist_add(c, role, K_FIN, L_FIN);
		if (f & TH_RST)
			hist_add(c, role, K_RST, L_RST);
	} else if (nset == 0) {
		if (len > 0)
			hist_add(c, role, K_DATA, L_DATA);
		else if (f & TH_ACK)
			hist_add(c, role, K_ACK, L_ACK);
	}
}

/*
 * Zeek's UpdateStateMachine() for the sending endpoint, without sequence
 * numbers: INACTIVE, SYN_SENT/SYN_ACK_SENT, ESTABLISHED/PARTIAL, CLOSED and
 * RESET, with the transitions a flow meter can see from flags alone.
 */
static void
tcp_state(struct conv *c, int role, uint8_t f, uint32_t len)
{
	unsigned int ep = st_get(c, role), peer = st_get(c, !role);
	int	     is_orig = role == CONV_ROLE_ORIG;

	switch (ep) {
	case CONV_TS_INACTIVE:
		if (f & TH_SYN) {
			if (is_orig)
				ep = (f & TH_ACK) ? CONV_TS_SYN_ACK_SENT
						  : CONV_TS_SYN_SENT;
			else {
				/* The responder's SYN(-ACK): both established */
				if (peer == CONV_TS_SYN_SENT)
					st_set(c, !role, CONV_TS_ESTABLISHED);
				ep = CONV_TS_ESTABLISHED;
			}
		}
		if (f & TH_FIN)
			ep = CONV_TS_CLOSED;
		if (f & TH_RST)
			ep = CONV_TS_RESET;
		if (ep == CONV_TS_INACTIVE) {
			if (!is_orig && len == 0 && peer == CONV_TS_SYN_SENT)
				; /* ACK of a SYN before the SYN-ACK */
			else if ((f & TH_ACK) && peer == CONV_TS_ESTABLISHED)
				ep = CONV_TS_ESTABLISHED; /* missed the SYN */
			else
				ep = CONV_TS_PARTIAL;
		}
		break;
	case CONV_TS_SYN_SENT:
	case CONV_TS_SYN_ACK_SENT:
		if (f & TH_FIN)
			ep = CONV_TS_CLOSED;
		if (f & TH_RST)
			ep = CONV_TS_RESET;
		break;
	case CONV_TS_ESTABLISHED:
	case CONV_TS_PARTIAL:
		if ((f & TH_SYN) && ep == CONV_TS_PARTIAL &&
		    peer == CONV_TS_INACTIVE && !(f & TH_ACK))
			ep = CONV_TS_SYN_SENT;
		if ((f & TH_FIN) && !(f & TH_RST))
			ep = CONV_TS_CLOSED;
		if (f & TH_RST)
			ep = CONV_TS_RESET;
		break;
	case CONV_TS_CLOSED:
		/* A RST after both FINs does not undo a normal close. */
		if ((f & TH_RST) && peer != CONV_TS_CLOSED)
			ep = CONV_TS_RESET;
		break;
	default:
		break;
	}
	st_set(c, role, ep);
}

/* Move base_s back to t_us's second, shifting the offsets to match. */
static void
rebase(struct conv *c, uint64_t t_us)
{
	uint32_t nb = (uint32_t)(t_us / 1000000);
	uint64_t delta = (uint64_t)(c->base_s - nb) * 1000000;
	uint32_t hi = c->last[0] > c->last[1] ? c->last[0] : c->last[1];
	int	 s;

	if (delta + hi >= CONV_NO_TIME)
		return;
	c->base_s = nb;
	for (s = 0; s < 2; s++) {
		if (c->first[s] == CONV_NO_TIME)
			continue;
		c->first[s] += (uint32_t)delta;
		c->last[s] += (uint32_t)delta;
	}
}

void
conv_account(struct conv *c, const struct pktinfo *pi, int side, uint64_t t_us)
{
	uint64_t base = conv_base_us(c), d;
	uint32_t off;
	uint8_t	 f = (pi->flags & PI_HAS_TCP) ? pi->tcp_flags : 0;
	int	 role = side ^ conv_orig_side(c);

	/*
	 * Offsets fit 32 bits: an interval is shorter than FT_ACTIVE_MAX_S.
	 * An out-of-order packet older than the interval's base second moves
	 * the base back, unless that would overflow the offsets (a packet
	 * over an hour late), in which case it is stamped at the base.
	 */
	if (t_us < base) {
		rebase(c, t_us);
		base = conv_base_us(c);
	}
	d = t_us > base ? t_us - base : 0;
	off = d < CONV_NO_TIME ? (uint32_t)d : CONV_NO_TIME - 1;
	if (c->first[side] == CONV_NO_TIME) {
		c->first[side] = off;
		c->last[side] = off;
		c->fflags[side] = f;
	} else {
		if (off < c->first[side])
			c->first[side] = off;
		if (off > c->last[side])
			c->last[side] = off;
	}
	if (++c->pkts[side] == 0)
		c->bw[side] += CONV_PKTS_HI;
	c->bw[side] += pi->ip_len;
	c->flags[side] |= f;

	if (pi->proto == IPPROTO_TCP) {
		if (pi->flags & PI_HAS_TCP) {
			tcp_history(c, role, f, pi->l4_payload);
			tcp_state(c, role, f, pi->l4_payload);
		}
	} else {
		st_set(c, role, 1);
		if (pi->proto != IPPROTO_UDP || pi->l4_payload > 0)
			hist_add(c, role, K_DATA, L_DATA);
	}
}

int
conv_is_bare_syn(const struct pktinfo *pi)
{
	return (pi->flags & PI_HAS_TCP) && pi->proto == IPPROTO_TCP &&
	    (pi->tcp_flags & (TH_SYN | TH_ACK | TH_FIN | TH_RST)) == TH_SYN;
}

enum conv_class
conv_next_class(
    const struct conv *c, const struct pktinfo *pi, int side, int is_new)
{
	enum conv_class cl = conv_class(c);
	int		first_side;

	if (c->key.proto == IPPROTO_TCP) {
		unsigned int os = st_get(c, CONV_ROLE_ORIG);
		unsigned int rs = st_get(c, CONV_ROLE_RESP);

		if (os == CONV_TS_RESET || rs == CONV_TS_RESET ||
		    (os == CONV_TS_CLOSED && rs == CONV_TS_CLOSED))
			return CONV_CLASS_CLOSING;
	}
	if (is_new)
		return CONV_CLASS_EMB;
	if (cl == CONV_CLASS_CLOSING)
		return cl;
	/* Embryonic: the first sender alone, and only bare SYNs (retries). */
	first_side = conv_orig_side(c) ^ ((c->hist & CONV_H_FLIPPED) != 0);
	if (cl == CONV_CLASS_EMB && side == first_side && conv_is_bare_syn(pi))
		return CONV_CLASS_EMB;
	return CONV_CLASS_EST;
}

enum end_reason
conv_timeout_reason(const struct conv *c)
{
	unsigned int os = st_get(c, CONV_ROLE_ORIG);
	unsigned int rs = st_get(c, CONV_ROLE_RESP);
	int	     tcp = c->key.proto == IPPROTO_TCP;

	switch (conv_class(c)) {
	case CONV_CLASS_CLOSING:
		return (os == CONV_TS_RESET || rs == CONV_TS_RESET) ? END_RST
								    : END_FIN;
	case CONV_CLASS_EST:
		/* A FIN from one side, then quiet: ended by FIN + grace. */
		if (tcp && (os == CONV_TS_CLOSED || rs == CONV_TS_CLOSED))
			return END_FIN;
		return END_IDLE;
	default:
		return END_IDLE;
	}
}

/*
 * Zeek's RSTOS0 test, the history matching ^\^?S[^HAFGIQ]*R: the
 * originator's SYN first, then its RST before any originator SYN-ACK, ACK
 * or FIN.
 */
static int
hist_syn_then_rst(const struct conv *c)
{
	int i, n = hist_count(c), code;

	if (n == 0 || (c->hist & 0xf) != L_SYN)
		return 0;
	for (i = 1; i < n; i++) {
		code = (int)(c->hist >> (4 * i)) & 0xf;
		if (code == L_RST)
			return 1;
		if (code == L_SYNACK || code == L_ACK || code == L_FIN)
			return 0;
	}
	return 0;
}

const char *
conv_state_name(const struct conv *c)
{
	unsigned int os = st_get(c, CONV_ROLE_ORIG);
	unsigned int rs = st_get(c, CONV_ROLE_RESP);
	int	     o_inact, r_inact;

	if (c->key.proto != IPPROTO_TCP) {
		if (os)
			return rs ? "SF" : "S0";
		return rs ? "SHR" : "OTH";
	}
	o_inact = os == CONV_TS_INACTIVE || os == CONV_TS_PARTIAL;
	r_inact = rs == CONV_TS_INACTIVE || rs == CONV_TS_PARTIAL;
	if (rs == CONV_TS_RESET) {
		if (os == CONV_TS_SYN_SENT || os == CONV_TS_SYN_ACK_SENT ||
		    (os == CONV_TS_RESET &&
			!hist_has(c, CONV_ROLE_ORIG, K_DATA) &&
			!hist_has(c, CONV_ROLE_RESP, K_DATA)))
			return "REJ";
		return o_inact ? "RSTRH" : "RSTR";
	}
	if (os == CONV_TS_RESET) {
		if (r_inact)
			return hist_syn_then_rst(c) ? "RSTOS0" : "OTH";
		return "RSTO";
	}
	if (os == CONV_TS_CLOSED && rs == CONV_TS_CLOSED)
		return "SF";
	if (os == CONV_TS_CLOSED)
		return r_inact ? "SH" : "S2";
	if (rs == CONV_TS_CLOSED)
		return o_inact ? "SHR" : "S3";
	if (os == CONV_TS_SYN_SENT && rs == CONV_TS_INACTIVE)
		return "S0";
	if (os == CONV_TS_ESTABLISHED && rs == CONV_TS_ESTABLISHED)
		return "S1";
	return "OTH";
}

void
conv_history(const struct conv *c, char out[CONV_HISTORY_MAX])
{
	int  i, n = hist_count(c), code, o = 0;
	char ch;

	if (c->hist & CONV_H_FLIPPED)
		out[o++] = '^';
	for (i = 0; i < n && o < CONV_HISTORY_MAX - 1; i++) {
		code = (int)(c->hist >> (4 * i)) & 0xf;
		ch = hist_letters[code % 6];
		if (code >= 6)
			ch = (char)(ch - 'A' + 'a');
		out[o++] = ch;
	}
	out[o] = '\0';
}

static void
fill_dir(const struct conv *c, int s, struct convdir *d)
{
	uint64_t base = conv_base_us(c);

	d->pkts = (c->bw[s] >> 48) << 32 | c->pkts[s];
	d->bytes = c->bw[s] & CONV_BYTES_MASK;
	if (c->first[s] == CONV_NO_TIME) {
		d->first_us = d->last_us = 0;
	} else {
		d->first_us = base + c->first[s];
		d->last_us = base + c->last[s];
	}
	d->flags = c->flags[s];
	d->first_flags = c->fflags[s];
}

void
conv_fill(const struct conv *c, uint64_t conv_id, enum end_reason reason,
    struct convrec *cr)
{
	int		       o = conv_orig_side(c);
	const struct conv_key *k = &c->key;

	memset(cr, 0, sizeof(*cr));
	cr->conv_id = conv_id;
	cr->seq = c->seq;
	cr->family = (k->vlan & CONV_KEY_V6) ? 6 : 4;
	cr->proto = k->proto;
	cr->reason = (uint8_t)reason;
	cr->is_final = reason != END_NONE && reason != END_ACTIVE;
	cr->iface = k->iface;
	cr->flipped = (c->hist & CONV_H_FLIPPED) != 0;
	cr->vlan = k->vlan & 0x0fff;
	memcpy(cr->src, o ? k->b : k->a, 16);
	memcpy(cr->dst, o ? k->a : k->b, 16);
	if (is_icmp(k->proto)) {
		cr->sport = 0;
		cr->dport = k->pb;
	} else {
		cr->sport = o ? k->pb : k->pa;
		cr->dport = o ? k->pa : k->pb;
	}
	fill_dir(c, o, &cr->fwd);
	fill_dir(c, !o, &cr->rev);
	cr->start_us = conv_start_us(c);
	cr->end_us = conv_last_us(c);
	util_strlcpy(cr->state, conv_state_name(c), sizeof(cr->state));
	conv_history(c, cr->history);
}

const char *
conv_reason_name(enum end_reason r)
{
	static const char *const names[END__COUNT] = {
	    [END_NONE] = "start",
	    [END_FIN] = "fin",
	    [END_RST] = "rst",
	    [END_IDLE] = "idle",
	    [END_ACTIVE] = "active",
	    [END_EVICT] = "evict",
	    [END_EOF] = "eof",
	    [END_SHUTDOWN] = "shutdown",
	};

	if ((unsigned int)r >= END__COUNT)
		return "unknown";
	return names[r];
}

void
conv_flags_str(uint8_t flags, char out[9])
{
	static const char letters[] = "CEUAPRSF";
	int		  i, o = 0;

	for (i = 0; i < 8; i++)
		if (flags & (0x80 >> i))
			out[o++] = letters[i];
	out[o] = '\0';
}
