/*
 * pcapmap.c: classic pcap records read through mmap(2), with libpcap's
 * rules (see pcapmap.h for why and what is and is not read here).
 */

#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcapmap.h"

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

/*
 * SIGBUS while a map is open: the file lost pages under us (truncated by
 * another process).  Cover the rest of the window with zero pages so the
 * faulting load completes, and flag it; pcapmap_next() checks the flag
 * before it hands out a record.  A fault anywhere else is not ours: the
 * default action is restored and the load faults again, fatally.
 */
static struct pcapmap *volatile bus_map;
static volatile sig_atomic_t bus_hit;
static struct sigaction	     bus_old;
static uintptr_t	     page_size;

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct pcapmap *m = bus_map;
	uintptr_t	a = (uintptr_t)si->si_addr, lo, hi, pg;

	(void)uc;
	if (m != NULL && m->win != NULL) {
		lo = (uintptr_t)m->win;
		hi = lo + m->win_len;
		pg = a & ~(page_size - 1);
		if (a >= lo && a < hi &&
		    mmap((void *)pg, hi - pg, PROT_READ,
			MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0) != MAP_FAILED) {
			bus_hit = 1;
			return;
		}
	}
	signal(sig, SIG_DFL);
}

static void
unmap(struct pcapmap *m)
{
	if (m->win != NULL)
		munmap((void *)(uintptr_t)m->win, m->win_len);
	m->win = NULL;
	m->win_len = 0;
}

/*
 * The file lost bytes (seen at a remap, or by SIGBUS: then the record
 * that faulted was handed out with zeros for the lost bytes); stop here.
 */
static enum pcaprec_res
shrunk(struct pcapmap *m)
{
	snprintf(m->err, sizeof(m->err),
	    "file shrank while being read (at byte %llu)",
	    (unsigned long long)m->off);
	return PCAPREC_ERR;
}

/* Map the window that holds [off, off + min(left, header + max record)). */
static int
remap(struct pcapmap *m)
{
	struct stat st;
	uint64_t    base = m->off & ~(uint64_t)(page_size - 1);
	uint64_t    len = m->size - base;
	void	   *p;

	unmap(m);
	if (fstat(m->fd, &st) != 0 || (uint64_t)st.st_size < m->size) {
		(void)shrunk(m);
		return -1;
	}
	if (len > PCAPMAP_WINDOW)
		len = PCAPMAP_WINDOW;
	p = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, m->fd, (off_t)base);
	if (p == MAP_FAILED) {
		snprintf(m->err, sizeof(m->err), "cannot map at byte %llu: %s",
		    (unsigned long long)base, strerror(errno));
		return -1;
	}
	(void)madvise(p, (size_t)len, MADV_SEQUENTIAL);
	m->win = p;
	m->pf = m->off & ~(uint64_t)63; /* >= base: base is page-aligned */
	m->win_off = base;
	m->win_len = (size_t)len;
	return 0;
}

int
pcapmap_open(
    struct pcapmap *m, int fd, uint64_t off, const struct pcaprec_fmt *f)
{
	struct sigaction sa;
	struct stat	 st;
	long		 pg = sysconf(_SC_PAGESIZE);

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (bus_map != NULL) { /* one map at a time: one SIGBUS handler */
		errno = EBUSY;
		return -1;
	}
	if (pg <= 0 || fstat(fd, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < off ||
	    PCAPMAP_WINDOW <
		PCAPFMT_RHDR_LEN + PCAPFMT_MAX_SNAPLEN + (uint64_t)pg) {
		errno = EINVAL;
		return -1;
	}
	page_size = (uintptr_t)pg;
	m->fd = fd;
	m->size = (uint64_t)st.st_size;
	m->off = off;
	m->fmt = *f;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	bus_hit = 0;
	bus_map = m;
	if (sigaction(SIGBUS, &sa, &bus_old) != 0) {
		bus_map = NULL;
		return -1;
	}
	return 0;
}

/*
 * Prefetch every cache line from the read position to PCAPMAP_PREFETCH
 * bytes ahead of it, each line once.  Records are touched only at their
 * heads (the header, the packet headers the decoder reads), at irregular
 * strides the hardware prefetcher does not follow across pages; walking
 * the record chain ahead instead stalls on each header it reads (measured:
 * 7 % of the replay's CPU), while lines fetched by address need nothing
 * from memory to be issued.  The file comes from memory once either way.
 */
static void
run_ahead(struct pcapmap *m)
{
	uint64_t lim = m->off + PCAPMAP_PREFETCH, end = m->win_off + m->win_len;

	if (lim > end)
		lim = end;
	if (m->pf < m->off)
		m->pf = m->off & ~(uint64_t)63;
	for (; m->pf < lim; m->pf += 64)
		__builtin_prefetch(m->win + (m->pf - m->win_off));
}

enum pcaprec_res
pcapmap_next(struct pcapmap *m, struct pcaprec *r)
{
	uint64_t	 left = m->size - m->off, need;
	struct cur	 c;
	enum pcaprec_res res;

	if (m->err[0] != '\0')
		return PCAPREC_ERR;
	if (bus_hit)
		return shrunk(m);
	if (left == 0)
		return PCAPREC_END;
	need = left < PCAPFMT_RHDR_LEN + PCAPFMT_MAX_SNAPLEN
	    ? left
	    : PCAPFMT_RHDR_LEN + PCAPFMT_MAX_SNAPLEN;
	if (m->win == NULL || m->off < m->win_off ||
	    m->off + need > m->win_off + m->win_len) {
		if (remap(m) != 0)
			return PCAPREC_ERR;
	}
	/* The window either reaches the end of the file or holds the
	 * largest record libpcap accepts, so a record it cuts short is one
	 * the file cuts short. */
	cur_init(&c, m->win + (m->off - m->win_off),
	    (size_t)(m->win_off + m->win_len - m->off));
	res = pcaprec_parse(&c, &m->fmt, r, m->err, sizeof(m->err));
	/*
	 * A file can only shrink from its end: when the record's last byte
	 * is still there, so is all of it.  Reading it (from a line already
	 * prefetched) makes a cut raise SIGBUS here rather than hand out a
	 * record whose bytes the handler replaced with zeros.
	 */
	if (res == PCAPREC_OK && r->size > 0)
		(void)*(volatile const uint8_t *)(m->win +
		    (m->off + r->size - 1 - m->win_off));
	if (bus_hit)
		return shrunk(m);
	if (res == PCAPREC_OK) {
		m->off += r->size;
		run_ahead(m);
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
pcapmap_plain_dlt(int dlt, int swapped)
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
 * Can pcapmap read this file's records?  A classic pcap file (not pcapng,
 * not the Kuznetzov variant), version 2.4, of a plain link type, opened
 * from a regular file by name (not stdin, whose offset we do not know):
 * libpcap has read exactly the 24-byte header from its start.
 */
static int
map_format(pcap_t *p, struct pcaprec_fmt *f)
{
	FILE		  *fp = pcap_file(p);
	uint8_t		   b[PCAPFMT_GHDR_LEN];
	struct pcapfmt_hdr h;
	struct cur	   c;

	if (fp == NULL || fileno(fp) == STDIN_FILENO ||
	    pcap_major_version(p) != 2 || pcap_minor_version(p) != 4 ||
	    pcap_snapshot(p) <= 0 ||
	    !pcapmap_plain_dlt(pcap_datalink(p), pcap_is_swapped(p) == 1) ||
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
pcapmap_open_pcap(struct pcapmap *m, pcap_t *p)
{
	struct pcaprec_fmt f;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (map_format(p, &f) != 0) {
		errno = ENOTSUP;
		return -1;
	}
	return pcapmap_open(m, fileno(pcap_file(p)), PCAPFMT_GHDR_LEN, &f);
}

void
pcapmap_close(struct pcapmap *m)
{
	unmap(m);
	if (bus_map == m) {
		(void)sigaction(SIGBUS, &bus_old, NULL);
		bus_map = NULL;
	}
	m->fd = -1;
}
