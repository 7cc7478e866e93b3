/*
 * pcapfile.c: classic pcap records from large reads, with libpcap's rules
 * (see pcapfile.h for why and what is and is not read here).
 */

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcapfile.h"

/*
 * A timestamp field as libpcap widens it: a native-order bpf_int32 is
 * sign-extended, a byte-swapped one goes through SWAPLONG's unsigned
 * arithmetic and is not.
 */
static int64_t
widen32(uint32_t v, int swapped)
{
	if (swapped || v < 0x80000000u)
		return (int64_t)v;
	return (int64_t)v - 0x100000000ll;
}

enum pcaprec_res
pcaprec_parse(struct cur *c, const struct pcaprec_fmt *f, struct pcaprec *r,
    char *err, size_t errlen)
{
	struct cur h;
	size_t	   avail;
	uint32_t   caplen, frac;

	avail = cur_left(c);
	if (avail == 0)
		return PCAPREC_END;
	if (cur_sub(c, PCAPFMT_RHDR_LEN, &h) != 0) {
		snprintf(err, errlen,
		    "truncated dump file; tried to read %u header bytes, "
		    "only got %zu",
		    (unsigned)PCAPFMT_RHDR_LEN, avail);
		return PCAPREC_ERR;
	}
	r->ts_sec = widen32(pcapfmt_get32(&h, f->swapped), f->swapped);
	frac = pcapfmt_get32(&h, f->swapped);
	r->ts_ns = widen32(frac, f->swapped) * (f->nsec ? 1 : 1000);
	caplen = pcapfmt_get32(&h, f->swapped);
	r->wirelen = pcapfmt_get32(&h, f->swapped);
	avail = cur_left(c);
	if (caplen > PCAPFMT_MAX_SNAPLEN) {
		if (caplen > f->snapshot)
			snprintf(err, errlen,
			    "invalid packet capture length %u, bigger than "
			    "snaplen of %u",
			    caplen, f->snapshot);
		else
			snprintf(err, errlen,
			    "invalid packet capture length %u, bigger than "
			    "maximum of %u",
			    caplen, PCAPFMT_MAX_SNAPLEN);
		return PCAPREC_ERR;
	}
	r->caplen = caplen;
	if (caplen > f->snapshot) {
		/* libpcap keeps the first snapshot bytes, skips the rest. */
		if (avail < f->snapshot || avail < caplen) {
			snprintf(err, errlen,
			    "truncated dump file; tried to read %u captured "
			    "bytes, only got %zu",
			    avail < f->snapshot ? f->snapshot : caplen, avail);
			return PCAPREC_ERR;
		}
		r->caplen = f->snapshot;
	} else if (avail < caplen) {
		snprintf(err, errlen,
		    "truncated dump file; tried to read %u captured bytes, "
		    "only got %zu",
		    caplen, avail);
		return PCAPREC_ERR;
	}
	r->data = cur_take(c, caplen);
	r->size = PCAPFMT_RHDR_LEN + (size_t)caplen;
	return r->data != NULL ? PCAPREC_OK : PCAPREC_ERR;
}

/* The file lost bytes since it was opened (another process cut it). */
static enum pcaprec_res
shrunk(struct pcapfile *m)
{
	snprintf(m->err, sizeof(m->err),
	    "file shrank while being read (at byte %llu)",
	    (unsigned long long)m->off);
	return PCAPREC_ERR;
}

/*
 * Make the buffer hold [off, off + need), or up to the end of the file:
 * keep the unread tail (less than one record), read on in PCAPFILE_READ
 * blocks.  A read that ends before the size the file had at open means
 * it shrank.
 */
static int
refill(struct pcapfile *m, uint64_t need)
{
	uint64_t keep = m->buf_off + m->buf_len - m->off, at, want;
	ssize_t	 n;

	if (keep > 0 && m->off != m->buf_off)
		memmove(m->buf, m->buf + (m->off - m->buf_off), (size_t)keep);
	m->buf_off = m->off;
	m->buf_len = (size_t)keep;
	while (m->buf_len < need && m->buf_off + m->buf_len < m->size) {
		at = m->buf_off + m->buf_len;
		want = m->size - at;
		if (want > PCAPFILE_BUF - m->buf_len)
			want = PCAPFILE_BUF - m->buf_len;
		n = pread(m->fd, m->buf + m->buf_len, (size_t)want, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(m->err, sizeof(m->err),
			    "cannot read at byte %llu: %s",
			    (unsigned long long)at, strerror(errno));
			return -1;
		}
		if (n == 0) {
			(void)shrunk(m);
			return -1;
		}
		m->buf_len += (size_t)n;
	}
	return 0;
}

/*
 * Bytes pcaprec_parse needs at off to decide: the header, then the
 * captured bytes it reads (none when caplen is over the maximum, an
 * error either way).
 */
static uint64_t
rec_need(const struct pcapfile *m, const uint8_t *h, uint64_t avail)
{
	struct cur c;
	uint32_t   caplen;

	if (avail < PCAPFMT_RHDR_LEN)
		return PCAPFMT_RHDR_LEN;
	cur_init(&c, h + 8, 4);
	caplen = pcapfmt_get32(&c, m->fmt.swapped);
	if (caplen > PCAPFMT_MAX_SNAPLEN)
		return PCAPFMT_RHDR_LEN;
	return PCAPFMT_RHDR_LEN + (uint64_t)caplen;
}

int
pcapfile_open(
    struct pcapfile *m, int fd, uint64_t off, const struct pcaprec_fmt *f)
{
	struct stat st;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (fstat(fd, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < off) {
		errno = EINVAL;
		return -1;
	}
	if ((m->buf = malloc(PCAPFILE_BUF)) == NULL)
		return -1;
	m->fd = fd;
	m->size = (uint64_t)st.st_size;
	m->off = m->buf_off = off;
	m->fmt = *f;
	(void)posix_fadvise(fd, (off_t)off, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

enum pcaprec_res
pcapfile_next(struct pcapfile *m, struct pcaprec *r)
{
	uint64_t	 avail, need;
	struct cur	 c;
	enum pcaprec_res res;

	if (m->err[0] != '\0')
		return PCAPREC_ERR;
	if (m->off >= m->size)
		return PCAPREC_END;
	/*
	 * Parse from the buffer once it holds the whole record or reaches
	 * the end of the file: then the parser sees what it would see in
	 * the rest of the file, cut records and their messages included.
	 */
	avail = m->buf_off + m->buf_len - m->off;
	need = rec_need(m, m->buf + (m->off - m->buf_off), avail);
	if (avail < need && m->off + avail < m->size) {
		if (refill(m, PCAPFMT_RHDR_LEN) != 0)
			return PCAPREC_ERR;
		avail = m->buf_len;
		need = rec_need(m, m->buf, avail);
		if (avail < need && refill(m, need) != 0)
			return PCAPREC_ERR;
		avail = m->buf_len;
	}
	cur_init(&c, m->buf + (m->off - m->buf_off), (size_t)avail);
	res = pcaprec_parse(&c, &m->fmt, r, m->err, sizeof(m->err));
	if (res == PCAPREC_OK) {
		m->off += r->size;
		/*
		 * The next record's header and first frame bytes, while the
		 * caller meters this one: the read buffer outgrows the L2
		 * cache, so they would otherwise come from L3 on demand.
		 */
		if (m->off + 128 <= m->buf_off + m->buf_len) {
			const uint8_t *next = m->buf + (m->off - m->buf_off);

			__builtin_prefetch(next);
			__builtin_prefetch(next + 64);
		}
	}
	return res;
}

/*
 * Link types whose records libpcap hands out as they are in the file.  It
 * rewrites some pseudo-headers: byte-swapped SocketCAN headers inside SLL
 * and SLL2 frames, USB and NFLOG headers (none of which sensord decodes),
 * so those are left to libpcap.
 */
int
pcapfile_plain_dlt(int dlt, int swapped)
{
	switch (dlt) {
	case DLT_NULL:
	case DLT_EN10MB:
	case DLT_RAW:
	case DLT_LOOP:
	case DLT_IPV4:
	case DLT_IPV6:
		return 1;
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
		return !swapped;
	default:
		return 0;
	}
}

/*
 * Can pcapfile read this file's records?  A classic pcap file (not pcapng,
 * not the Kuznetzov variant), version 2.4, of a plain link type, opened
 * from a regular file by name (not stdin, whose offset we do not know):
 * libpcap has read exactly the 24-byte header from its start.
 */
static int
file_format(pcap_t *p, struct pcaprec_fmt *f)
{
	FILE		  *fp = pcap_file(p);
	uint8_t		   b[PCAPFMT_GHDR_LEN];
	struct pcapfmt_hdr h;
	struct cur	   c;

	if (fp == NULL || fileno(fp) == STDIN_FILENO ||
	    pcap_major_version(p) != 2 || pcap_minor_version(p) != 4 ||
	    pcap_snapshot(p) <= 0 ||
	    !pcapfile_plain_dlt(pcap_datalink(p), pcap_is_swapped(p) == 1) ||
	    pread(fileno(fp), b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	/* The header libpcap read: its magic says whether times are ns. */
	cur_init(&c, b, sizeof(b));
	if (pcapfmt_ghdr_read(&c, &h) != 0)
		return -1;
	f->nsec = h.is_nsec;
	f->snapshot = (uint32_t)pcap_snapshot(p);
	f->swapped = pcap_is_swapped(p) == 1;
	return 0;
}

int
pcapfile_open_pcap(struct pcapfile *m, pcap_t *p)
{
	struct pcaprec_fmt f;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (file_format(p, &f) != 0) {
		errno = ENOTSUP;
		return -1;
	}
	return pcapfile_open(m, fileno(pcap_file(p)), PCAPFMT_GHDR_LEN, &f);
}

void
pcapfile_close(struct pcapfile *m)
{
	free(m->buf);
	m->buf = NULL;
	m->fd = -1;
}
