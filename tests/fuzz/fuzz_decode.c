/*
 * fuzz_decode.c: dec_packet() on arbitrary bytes, for every supported link
 * type plus one it does not know, with wire lengths above, equal to and
 * below the captured length.  Besides the sanitizers it checks the
 * invariants the rest of sensord relies on and abort()s on a violation.
 *
 * Input: byte 0 picks the DLT; bytes 1-2 pick the wire length (top two
 * bits: 00 caplen + n, 01 caplen + n * 64 for jumbo sizes, 10 caplen - n
 * as in a broken file, 11 equal); the rest is the captured frame, copied
 * to an exact-size buffer so the replay driver catches over-reads too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int dlts[] = {
	DEC_DLT_NULL, DEC_DLT_EN10MB, DEC_DLT_RAW, DEC_DLT_RAW_BSD,
	DEC_DLT_LOOP, DEC_DLT_LINUX_SLL, DEC_DLT_IPV4, DEC_DLT_IPV6,
	DEC_DLT_LINUX_SLL2,
	147,			/* DLT_USER0: not supported */
};

#define CHECK(cond) do {						\
	if (!(cond))							\
		abort();						\
} while (0)

static int
is_mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static void
check(int dlt, uint32_t caplen, uint32_t wirelen, enum dec_result r,
    const struct pktinfo *pi)
{
	uint32_t wire = caplen > wirelen ? caplen : wirelen;
	uint16_t f = pi->flags;

	CHECK((unsigned)r < DEC__COUNT);
	CHECK(pi->result == r);
	CHECK(strcmp(dec_result_name(r), "unknown") != 0);
	CHECK(pi->ts_us == 42);
	CHECK(pi->caplen == caplen && pi->wirelen == wirelen);
	CHECK(!!(f & PI_TRUNC) == (caplen < wirelen));
	CHECK((r == DEC_UNSUPPORTED_DLT) == !dec_dlt_supported(dlt));

	CHECK(pi->l3_off <= caplen);
	CHECK(pi->l4_off <= caplen);
	CHECK(pi->n_vlan <= DEC_MAX_VLAN);
	CHECK(pi->vlan <= 0x0fff);
	CHECK(pi->n_vlan > 0 || pi->vlan == 0);

	/* Nothing at L3 without a family. */
	if (pi->family == 0) {
		CHECK((f & ~PI_TRUNC) == 0);
		CHECK(pi->l3_off == 0 && pi->l4_off == 0 && pi->ip_len == 0);
		CHECK(pi->proto == 0 && pi->ttl == 0);
	} else
		CHECK(pi->family == 4 || pi->family == 6);

	if (f & PI_HAS_L3) {
		CHECK(pi->ip_len >= (pi->family == 4 ? 20u : 40u));
		CHECK(pi->ip_len <= wire - pi->l3_off);
		if (pi->family == 4)
			CHECK(is_mapped(pi->src) && is_mapped(pi->dst));
	} else {
		CHECK((f & ~PI_TRUNC) == 0);
		CHECK(pi->ip_len == 0 && pi->l4_off == 0);
		CHECK(pi->l4_payload == 0 && pi->sport == 0 &&
		    pi->dport == 0);
	}
	CHECK(pi->l4_payload <= pi->ip_len);
	if (pi->l4_off != 0)
		CHECK(pi->l4_off >= pi->l3_off +
		    (pi->family == 4 ? 20u : 40u));

	if (f & PI_HAS_PORTS) {
		CHECK(pi->proto == 6 || pi->proto == 17 || pi->proto == 132 ||
		    pi->proto == 1 || pi->proto == 58);
		CHECK(pi->l4_off != 0);
		if (pi->proto == 1 || pi->proto == 58)
			CHECK(pi->sport == 0);
	} else
		CHECK(pi->sport == 0 && pi->dport == 0);
	if (f & PI_HAS_TCP)
		CHECK((f & PI_HAS_PORTS) && pi->proto == 6 && r == DEC_OK);
	else
		CHECK(pi->tcp_seq == 0 && pi->tcp_ack == 0 &&
		    pi->tcp_win == 0 && pi->tcp_flags == 0);
	if (f & PI_FRAG_FIRST)
		CHECK(f & PI_FRAG);

	switch (r) {
	case DEC_OK:
		CHECK(f & PI_HAS_L3);
		break;
	case DEC_NOT_IP:
	case DEC_UNSUPPORTED_DLT:
	case DEC_TRUNC_LINK:
	case DEC_TOO_MANY_VLAN:
		CHECK(pi->family == 0);
		break;
	case DEC_BAD_IPV4_VERSION:
	case DEC_BAD_IPV4_IHL:
	case DEC_BAD_IPV4_LEN:
		CHECK(pi->family == 4 && !(f & PI_HAS_L3));
		break;
	case DEC_TRUNC_IPV4:
		CHECK(pi->family == 4 && pi->l4_off == 0);
		break;
	case DEC_TRUNC_IPV6:
	case DEC_BAD_IPV6_VERSION:
		CHECK(pi->family == 6 && !(f & PI_HAS_L3));
		break;
	case DEC_TRUNC_IPV6_EXT:
	case DEC_TOO_MANY_IPV6_EXT:
	case DEC_BAD_IPV6_EXT_LEN:
		CHECK(pi->family == 6 && (f & PI_HAS_L3));
		CHECK(pi->l4_off == 0);
		break;
	case DEC_FRAGMENT:
		CHECK((f & PI_HAS_L3) && (f & PI_FRAG));
		CHECK(!(f & (PI_FRAG_FIRST | PI_HAS_PORTS)));
		CHECK(pi->l4_off == 0 && pi->l4_payload == 0);
		break;
	case DEC_TRUNC_L4:
		CHECK((f & PI_HAS_L3) && pi->l4_off != 0);
		CHECK(caplen - pi->l4_off < 20);
		break;
	case DEC_BAD_L4_LEN:
	case DEC_BAD_TCP_OFF:
		CHECK((f & PI_HAS_L3) && !(f & PI_HAS_PORTS));
		break;
	default:
		CHECK(0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pktinfo pi, again;
	enum dec_result r;
	uint32_t caplen, wirelen, n;
	uint8_t *pkt;
	int dlt;

	if (size < 3 || size - 3 > UINT32_MAX)
		return 0;
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	caplen = (uint32_t)(size - 3);
	n = (uint32_t)(data[1] & 0x3f) << 8 | data[2];
	switch (data[1] >> 6) {
	case 0:
		wirelen = caplen + n;
		break;
	case 1:
		wirelen = caplen + n * 64;
		break;
	case 2:
		wirelen = caplen > n ? caplen - n : 0;
		break;
	default:
		wirelen = caplen;
		break;
	}
	if ((pkt = malloc(caplen > 0 ? caplen : 1)) == NULL)
		return 0;
	memcpy(pkt, data + 3, caplen);

	r = dec_packet(dlt, pkt, caplen, wirelen, 42, &pi);
	check(dlt, caplen, wirelen, r, &pi);

	/* Pure: the same input gives the same output, whatever pi held. */
	memset(&again, 0x5a, sizeof(again));
	CHECK(dec_packet(dlt, pkt, caplen, wirelen, 42, &again) == r);
	CHECK(memcmp(&pi, &again, sizeof(pi)) == 0);
	free(pkt);
	return 0;
}
