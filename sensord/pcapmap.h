/*
 * pcapmap.h: offline replay of classic pcap files through mmap(2).
 *
 * Why: libpcap reads a savefile with two fread()s per record into its own
 * buffer, so every byte is copied twice (page cache to stdio, stdio to
 * libpcap) and the kernel's read path costs more than all of metering: on
 * the bench trace pcap_next_ex() alone is 280 ns a packet, 1.3 s of system
 * time for 2.7 GB.  Mapped, the same bytes cost 0.07 us a packet.
 *
 * libpcap still opens every file (so the header checks, the link-type
 * mapping and its error messages stay libpcap's); only records of plain
 * version-2.4 files (both magics, both byte orders) on regular files are
 * read here, with libpcap's own rules, record for record: a caplen above
 * 262144 is an error, one above the file's snapshot length is cut to it,
 * a short header or body is "truncated dump file", timestamps are signed
 * 32-bit fields as libpcap reads them.  tests/unit/test_pcapmap.c holds
 * both readers to the same packets and errors on every capture in
 * ../shared/pcaps and on every truncation of a small file.
 *
 * The file is mapped in windows of PCAPMAP_WINDOW bytes, so resident memory
 * stays flat however large the file.  A file truncated by another process
 * while it is mapped would raise SIGBUS; a handler (installed while a map
 * is open) maps zero pages over the lost range and the reader reports the
 * file as shrunk before it hands out a record it could not read.
 */
#ifndef SENSORD_PCAPMAP_H
#define SENSORD_PCAPMAP_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "pcapfmt.h"

#define PCAPMAP_WINDOW (4u << 20) /* bytes mapped at a time */
#define PCAPMAP_ERR_SIZE 160
#define PCAPMAP_PREFETCH 4096u /* bytes the prefetch runs ahead */

/* How to read the records (from libpcap's view of the file header). */
struct pcaprec_fmt {
	uint32_t snapshot; /* pcap_snapshot(): the adjusted snaplen */
	int	 swapped;  /* pcap_is_swapped() */
	int	 nsec;	   /* the file's magic is the nanosecond one */
};

/* One record, as pcap_next_ex() with nanosecond precision returns it. */
struct pcaprec {
	const uint8_t *data;   /* caplen bytes */
	uint32_t       caplen; /* at most the snapshot length */
	uint32_t       wirelen;
	int64_t	       ts_sec; /* sign-extended, as libpcap does */
	int64_t	       ts_ns;  /* fraction in ns (us files scaled) */
	size_t	       size;   /* bytes the record takes in the file */
};

enum pcaprec_res {
	PCAPREC_OK = 0,
	PCAPREC_END, /* no bytes left: a clean end */
	PCAPREC_ERR  /* err says why, in libpcap's words */
};

/*
 * Parse the record at the cursor (the rest of the file from there), with
 * libpcap's rules.  On PCAPREC_OK the cursor is past the record.  Pure.
 */
enum pcaprec_res pcaprec_parse(struct cur *c, const struct pcaprec_fmt *f,
    struct pcaprec *r, char *err, size_t errlen);

struct pcapmap {
	int		   fd;
	uint64_t	   size; /* file size at open */
	uint64_t	   off;	 /* file offset of the next record */
	uint64_t	   pf;	 /* lines prefetched up to here */
	const uint8_t	  *win;	 /* mapped window, or NULL */
	uint64_t	   win_off;
	size_t		   win_len;
	struct pcaprec_fmt fmt;
	char		   err[PCAPMAP_ERR_SIZE];
};

/*
 * Start reading records at file offset off of fd (a regular file; the
 * caller keeps it open).  -1 (errno set) when the file cannot be mapped:
 * the caller falls back to libpcap.
 */
int pcapmap_open(
    struct pcapmap *m, int fd, uint64_t off, const struct pcaprec_fmt *f);

/* A link type whose records libpcap hands out as they are in the file. */
int pcapmap_plain_dlt(int dlt, int swapped);

/*
 * pcapmap_open() on a file libpcap has just opened (and read only the
 * header of), when it is a plain classic pcap file on disk; -1 otherwise
 * (pcapng, other versions, pipes): read it with pcap_next_ex() then.
 */
int pcapmap_open_pcap(struct pcapmap *m, pcap_t *p);

/* The next record: PCAPREC_OK, PCAPREC_END, or PCAPREC_ERR with m->err. */
enum pcaprec_res pcapmap_next(struct pcapmap *m, struct pcaprec *r);

void pcapmap_close(struct pcapmap *m);

#endif /* SENSORD_PCAPMAP_H */
