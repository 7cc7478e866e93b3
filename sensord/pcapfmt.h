/*
 * pcapfmt.h: classic pcap file format, encoded and decoded by hand.
 *
 * Why not libpcap's pcap_dump(): it returns void through stdio, so ENOSPC
 * surfaces late or never, and struct pcap_pkthdr is not the on-disk record
 * header (its struct timeval makes it 24 bytes on LP64, the file wants four
 * 32-bit fields).  Owning the 24 + 16 bytes gives exact accounting and error
 * returns.  We always write little-endian files (the magic tells readers the
 * byte order); the reader accepts both byte orders and both magics.
 *
 * Pure: no I/O, no allocation.  Reading goes through struct cur only.
 */
#ifndef SENSORD_PCAPFMT_H
#define SENSORD_PCAPFMT_H

#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

#define PCAPFMT_MAGIC_US 0xa1b2c3d4u /* microsecond timestamps */
#define PCAPFMT_MAGIC_NS 0xa1b23c4du /* nanosecond timestamps */
#define PCAPFMT_GHDR_LEN 24
#define PCAPFMT_RHDR_LEN 16
/* libpcap's MAXIMUM_SNAPLEN; a record longer than max(this, snaplen) is
 * corrupt, as libpcap's sf-pcap.c decides. */
#define PCAPFMT_MAX_SNAPLEN 262144u

/* What the global header says. */
struct pcapfmt_hdr {
	uint32_t linktype; /* DLT_ / LINKTYPE_ value */
	uint32_t snaplen;
	uint16_t version_major; /* 2 */
	uint16_t version_minor; /* 4 */
	int	 is_nsec;	/* nanosecond magic */
	int	 is_swapped;	/* big-endian file */
};

/* One record as read; data points into the cursor's buffer. */
struct pcapfmt_rec {
	uint64_t       ts_ns; /* both magics converted to ns */
	uint32_t       ts_sec;
	uint32_t       ts_frac; /* us or ns, as in the file */
	uint32_t       caplen;
	uint32_t       wirelen;
	const uint8_t *data; /* caplen bytes */
};

enum pcapfmt_res {
	PCAPFMT_OK = 0, /* one record read */
	PCAPFMT_END,	/* no bytes left: a clean end */
	PCAPFMT_TRUNC,	/* a record cut short (header or data) */
	PCAPFMT_BAD	/* impossible caplen or fraction */
};

/* Write the 24-byte global header (version 2.4, thiszone 0, sigfigs 0). */
void pcapfmt_ghdr(uint8_t out[PCAPFMT_GHDR_LEN], uint32_t linktype,
    uint32_t snaplen, int is_nsec);

/*
 * Write a 16-byte record header for a packet at ts_ns (ns since the epoch;
 * truncated to us for a usec file).  -1 with errno EOVERFLOW when the
 * seconds do not fit 32 bits (after 2106-02-07), else 0.
 */
int pcapfmt_rhdr(uint8_t out[PCAPFMT_RHDR_LEN], uint64_t ts_ns, int is_nsec,
    uint32_t caplen, uint32_t wirelen);

/* A 32-bit field of a file in either byte order. */
static inline uint32_t
pcapfmt_get32(struct cur *c, int is_swapped)
{
	return is_swapped ? cur_be32(c) : cur_le32(c);
}

/* Parse a global header; -1 with errno EINVAL (magic) or EPROTO (short). */
int pcapfmt_ghdr_read(struct cur *c, struct pcapfmt_hdr *h);

/*
 * Read the next record.  On PCAPFMT_TRUNC or PCAPFMT_BAD the cursor is left
 * where the record started, so cur_off() is the end of the last good one.
 */
enum pcapfmt_res pcapfmt_rec_read(
    struct cur *c, const struct pcapfmt_hdr *h, struct pcapfmt_rec *r);

#endif /* SENSORD_PCAPFMT_H */
