/*
 * pcapfmt.c: classic pcap headers (see pcapfmt.h for why we own them).
 *
 * Layout (the-tcpdump-group/libpcap: pcap/pcap.h, sf-pcap.c; also
 * draft-ietf-opsawg-pcap):
 *   global: magic u32, version_major u16, version_minor u16, thiszone i32,
 *           sigfigs u32, snaplen u32, linktype u32            = 24 bytes
 *   record: ts_sec u32, ts_usec-or-nsec u32, caplen u32, len u32 = 16 bytes
 * Every field is in the byte order of the writer, which the magic reveals.
 * The encoder always writes little-endian with explicit byte stores, so the
 * output is the same on any host.  The reader is strict (fraction in range,
 * caplen bounded) because it is used to verify our own files after a crash:
 * a record that fails is where the good data ends.
 */
#include <errno.h>

#include "pcapfmt.h"

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void
pcapfmt_ghdr(uint8_t out[PCAPFMT_GHDR_LEN], uint32_t linktype, uint32_t snaplen,
    int is_nsec)
{
	put_le32(out, is_nsec ? PCAPFMT_MAGIC_NS : PCAPFMT_MAGIC_US);
	put_le16(out + 4, 2);
	put_le16(out + 6, 4);
	put_le32(out + 8, 0);  /* thiszone: always UTC */
	put_le32(out + 12, 0); /* sigfigs: unused by every reader */
	put_le32(out + 16, snaplen);
	put_le32(out + 20, linktype);
}

int
pcapfmt_rhdr(uint8_t out[PCAPFMT_RHDR_LEN], uint64_t ts_ns, int is_nsec,
    uint32_t caplen, uint32_t wirelen)
{
	uint64_t sec = ts_ns / 1000000000u;
	uint32_t frac = (uint32_t)(ts_ns % 1000000000u);

	if (sec > UINT32_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	if (!is_nsec)
		frac /= 1000;
	put_le32(out, (uint32_t)sec);
	put_le32(out + 4, frac);
	put_le32(out + 8, caplen);
	put_le32(out + 12, wirelen);
	return 0;
}

static uint16_t
get16(struct cur *c, int is_swapped)
{
	return is_swapped ? cur_be16(c) : cur_le16(c);
}

int
pcapfmt_ghdr_read(struct cur *c, struct pcapfmt_hdr *h)
{
	uint32_t magic;

	if (cur_left(c) < PCAPFMT_GHDR_LEN) {
		errno = EPROTO;
		return -1;
	}
	magic = cur_le32(c);
	h->is_swapped = 0;
	switch (magic) {
	case PCAPFMT_MAGIC_US:
		h->is_nsec = 0;
		break;
	case PCAPFMT_MAGIC_NS:
		h->is_nsec = 1;
		break;
	case 0xd4c3b2a1u: /* usec magic, big-endian file */
		h->is_nsec = 0;
		h->is_swapped = 1;
		break;
	case 0x4d3cb2a1u: /* nsec magic, big-endian file */
		h->is_nsec = 1;
		h->is_swapped = 1;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	h->version_major = get16(c, h->is_swapped);
	h->version_minor = get16(c, h->is_swapped);
	(void)cur_skip(c, 8); /* thiszone, sigfigs */
	h->snaplen = pcapfmt_get32(c, h->is_swapped);
	h->linktype = pcapfmt_get32(c, h->is_swapped);
	if (!cur_ok(c)) {
		errno = EPROTO;
		return -1;
	}
	if (h->version_major != 2) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

enum pcapfmt_res
pcapfmt_rec_read(
    struct cur *c, const struct pcapfmt_hdr *h, struct pcapfmt_rec *r)
{
	uint32_t   maxcap;
	struct cur rc;

	if (cur_left(c) == 0)
		return cur_ok(c) ? PCAPFMT_END : PCAPFMT_TRUNC;
	if (cur_left(c) < PCAPFMT_RHDR_LEN)
		return PCAPFMT_TRUNC;
	/* A child cursor so a failed read never moves the caller's. */
	cur_init(&rc, cur_ptr(c), cur_left(c));
	r->ts_sec = pcapfmt_get32(&rc, h->is_swapped);
	r->ts_frac = pcapfmt_get32(&rc, h->is_swapped);
	r->caplen = pcapfmt_get32(&rc, h->is_swapped);
	r->wirelen = pcapfmt_get32(&rc, h->is_swapped);
	maxcap =
	    h->snaplen > PCAPFMT_MAX_SNAPLEN ? h->snaplen : PCAPFMT_MAX_SNAPLEN;
	if (r->caplen > maxcap ||
	    r->ts_frac >= (h->is_nsec ? 1000000000u : 1000000u))
		return PCAPFMT_BAD;
	r->data = cur_take(&rc, r->caplen);
	if (r->data == NULL)
		return PCAPFMT_TRUNC;
	r->ts_ns = (uint64_t)r->ts_sec * 1000000000u +
	    (h->is_nsec ? r->ts_frac : (uint64_t)r->ts_frac * 1000u);
	(void)cur_skip(c, cur_off(&rc));
	return PCAPFMT_OK;
}
