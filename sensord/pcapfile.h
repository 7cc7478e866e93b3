/*
 * pcapfile.h: offline replay of classic pcap files, records read with our
 * own parser from large reads.
 *
 * Why: libpcap reads a savefile with two fread()s per record through a
 * small stdio buffer, and on the bench trace pcap_next_ex() alone costs
 * more than all of metering (280 ns a packet, 1.3 s of system time for
 * 2.7 GB).  Here the file comes in 1 MiB pread()s into one buffer and the
 * records are parsed in place: 0.14 us a packet on the same trace.
 *
 * libpcap still opens every file (so the header checks, the link-type
 * mapping and its error messages stay libpcap's); only records of plain
 * version-2.4 files (both magics, both byte orders) on regular files are
 * read here, with libpcap's own rules, record for record: a caplen above
 * 262144 is an error, one above the file's snapshot length is cut to it,
 * a short header or body is "truncated dump file", timestamps are signed
 * 32-bit fields as libpcap reads them.  tests/unit/test_pcapfile.c holds
 * both readers to the same packets and errors on every capture in
 * ../shared/pcaps and on every truncation of a small file.
 *
 * Memory is one buffer of PCAPFILE_BUF bytes however large the file.  A
 * record is handed out only when all of its bytes were read; a file that
 * another process cuts while it is read ends with "file shrank" at the
 * first read that finds it shorter than it was at open.  (An earlier
 * version mapped the file: its page-table work and a SIGBUS handler for
 * cut files cost more than the copy, 0.78 s against 0.68 s of reading
 * for the bench trace.)
 */
#ifndef SENSORD_PCAPFILE_H
#define SENSORD_PCAPFILE_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "pcapfmt.h"

#define PCAPFILE_ERR_SIZE 160
#ifndef PCAPFILE_READ
#define PCAPFILE_READ (1u << 20) /* bytes per read */
#endif
/* A read, plus the largest record the last one may have cut. */
#define PCAPFILE_BUF (PCAPFILE_READ + PCAPFMT_RHDR_LEN + PCAPFMT_MAX_SNAPLEN)

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

struct pcapfile {
	int		   fd;
	uint64_t	   size;    /* file size at open */
	uint64_t	   off;	    /* file offset of the next record */
	uint8_t		  *buf;	    /* PCAPFILE_BUF bytes */
	uint64_t	   buf_off; /* file offset of buf[0] */
	size_t		   buf_len; /* bytes held */
	struct pcaprec_fmt fmt;
	char		   err[PCAPFILE_ERR_SIZE];
};

/*
 * Start reading records at file offset off of fd (a regular file; the
 * caller keeps it open).  -1 (errno set) when it cannot be read so:
 * the caller falls back to libpcap.
 */
int pcapfile_open(
    struct pcapfile *m, int fd, uint64_t off, const struct pcaprec_fmt *f);

/* A link type whose records libpcap hands out as they are in the file. */
int pcapfile_plain_dlt(int dlt, int swapped);

/*
 * pcapfile_open() on a file libpcap has just opened (and read only the
 * header of), when it is a plain classic pcap file on disk; -1 otherwise
 * (pcapng, other versions, pipes): read it with pcap_next_ex() then.
 */
int pcapfile_open_pcap(struct pcapfile *m, pcap_t *p);

/* The next record: PCAPREC_OK, PCAPREC_END, or PCAPREC_ERR with m->err. */
enum pcaprec_res pcapfile_next(struct pcapfile *m, struct pcaprec *r);

void pcapfile_close(struct pcapfile *m);

#endif /* SENSORD_PCAPFILE_H */
