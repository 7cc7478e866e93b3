/*
 * test_pcapfile: our record reader against libpcap itself.  Every file
 * under $SHARED_PCAPS that pcapfile takes is read by both, record for
 * record (lengths, timestamps, bytes) and to the same end (clean end, or
 * the same error message); crafted files cover what real ones rarely do
 * (records longer than the snapshot length, over libpcap's maximum,
 * negative timestamps, both byte orders, both magics, truncation at every
 * byte); a file cut short under the reader (SIGBUS) ends in an error, not
 * a crash; and what pcapfile must leave to libpcap (pcapng, stdin, other
 * versions) it refuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcapfile.h"
#include "t.h"

static char tmpdir[] = "/tmp/test_pcapfile.XXXXXX";

struct cmp {
	int	 mapped;  /* pcapfile took the file (not libpcap) */
	uint64_t records; /* compared */
	int	 same;	  /* 1 when every record and the end agree */
	char	 why[320];
};

static pcap_t *
open_nano(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];

	return pcap_open_offline_with_tstamp_precision(
	    path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
}

/* Read path with both readers and compare everything they return. */
static void
compare(const char *path, struct cmp *r)
{
	pcap_t		   *lp = open_nano(path), *mp;
	struct pcap_pkthdr *h;
	const u_char	   *data;
	struct pcapfile	    m;
	struct pcaprec	    rec;
	enum pcaprec_res    res;
	int		    rc;

	memset(r, 0, sizeof(*r));
	if (lp == NULL)
		return;
	if ((mp = open_nano(path)) == NULL || pcapfile_open_pcap(&m, mp) != 0) {
		if (mp != NULL)
			pcap_close(mp);
		pcap_close(lp);
		return;
	}
	r->mapped = 1;
	for (;;) {
		rc = pcap_next_ex(lp, &h, &data);
		res = pcapfile_next(&m, &rec);
		if (rc == 1 && res == PCAPREC_OK) {
			if (h->caplen != rec.caplen || h->len != rec.wirelen ||
			    (int64_t)h->ts.tv_sec != rec.ts_sec ||
			    (int64_t)h->ts.tv_usec != rec.ts_ns ||
			    memcmp(data, rec.data, rec.caplen) != 0) {
				snprintf(r->why, sizeof(r->why),
				    "record %llu differs: caplen %u/%u len "
				    "%u/%u ts %lld.%lld/%lld.%lld",
				    (unsigned long long)r->records, h->caplen,
				    rec.caplen, h->len, rec.wirelen,
				    (long long)h->ts.tv_sec,
				    (long long)h->ts.tv_usec,
				    (long long)rec.ts_sec, (long long)rec.ts_ns);
				break;
			}
			r->records++;
			continue;
		}
		if (rc == PCAP_ERROR_BREAK && res == PCAPREC_END)
			r->same = 1;
		else if (rc == PCAP_ERROR && res == PCAPREC_ERR &&
		    strcmp(pcap_geterr(lp), m.err) == 0)
			r->same = 1;
		else
			snprintf(r->why, sizeof(r->why),
			    "after %llu records: libpcap %d \"%s\", pcapfile "
			    "%d \"%s\"",
			    (unsigned long long)r->records, rc,
			    rc == PCAP_ERROR ? pcap_geterr(lp) : "", (int)res,
			    m.err);
		break;
	}
	pcapfile_close(&m);
	pcap_close(mp);
	pcap_close(lp);
}

/* --- every real capture ------------------------------------------------ */

static int	n_files, n_mapped, n_same;
static uint64_t n_records;

static int
visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
	struct cmp r;

	(void)f;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	n_files++;
	compare(path, &r);
	if (!r.mapped)
		return 0;
	n_mapped++;
	n_records += r.records;
	if (r.same)
		n_same++;
	else
		T_OK(0, "%s: %s", path, r.why);
	return 0;
}

static void
check_shared(const char *shared)
{
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s", shared);
	if (nftw(dir, visit, 16, FTW_PHYS) != 0) {
		T_OK(0, "cannot walk %s: %s", dir, strerror(errno));
		return;
	}
	T_OK(n_mapped > 100,
	    "%d of %d files under %s read through pcapfile", n_mapped, n_files,
	    shared);
	T_EQ_INT(n_same, n_mapped, "files whose records and end match libpcap");
	T_OK(n_records > 10000, "%llu records compared",
	    (unsigned long long)n_records);
}

/* --- crafted files ----------------------------------------------------- */

struct fbuf {
	uint8_t b[1 << 16];
	size_t	n;
	int	swap;
};

static void
put32(struct fbuf *f, uint32_t v)
{
	if (f->swap)
		v = __builtin_bswap32(v);
	memcpy(f->b + f->n, &v, 4);
	f->n += 4;
}

static void
put16(struct fbuf *f, uint16_t v)
{
	if (f->swap)
		v = __builtin_bswap16(v);
	memcpy(f->b + f->n, &v, 2);
	f->n += 2;
}

static void
ghdr(struct fbuf *f, int swap, int nsec, uint32_t snaplen, uint32_t dlt)
{
	f->n = 0;
	f->swap = swap;
	put32(f, nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
	put16(f, 2);
	put16(f, 4);
	put32(f, 0);
	put32(f, 0);
	put32(f, snaplen);
	put32(f, dlt);
}

/* A record with caplen bytes in the file (an IPv4-ish pattern). */
static void
rec(struct fbuf *f, uint32_t sec, uint32_t frac, uint32_t caplen,
    uint32_t len)
{
	uint32_t i;

	put32(f, sec);
	put32(f, frac);
	put32(f, caplen);
	put32(f, len);
	for (i = 0; i < caplen && f->n < sizeof(f->b); i++)
		f->b[f->n++] = (uint8_t)(i * 7 + caplen);
}

static void
write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(b, 1, n, fp) != n || fclose(fp) != 0)
		T_OK(0, "cannot write %s", path);
}

static void
check_crafted(void)
{
	static struct fbuf f;
	char		   path[256];
	struct cmp	   r;
	size_t		   cut, full;
	int		   swap, nsec, bad = 0, n = 0;

	snprintf(path, sizeof(path), "%s/crafted.pcap", tmpdir);
	for (swap = 0; swap <= 1; swap++) {
		for (nsec = 0; nsec <= 1; nsec++) {
			ghdr(&f, swap, nsec, 200, DLT_EN10MB);
			rec(&f, 1700000000u, 5, 60, 60);
			rec(&f, 0x80000000u, 0xffffffffu, 10, 1500);
			rec(&f, 1700000001u, 999999, 300, 300); /* > 200 */
			rec(&f, 1700000002u, 0, 0, 0);
			rec(&f, 1700000003u, 1, 200, 100);
			write_file(path, f.b, f.n);
			compare(path, &r);
			T_OK(r.mapped && r.same && r.records == 5,
			    "swap %d nsec %d: 5 records as libpcap (cut to "
			    "the snapshot length, signed times) %s",
			    swap, nsec, r.why);
		}
	}

	/* Over libpcap's maximum: an error either way, same words. */
	ghdr(&f, 0, 0, 65535, DLT_EN10MB);
	rec(&f, 1, 2, 60, 60);
	put32(&f, 3);
	put32(&f, 4);
	put32(&f, PCAPFMT_MAX_SNAPLEN + 1);
	put32(&f, 60);
	write_file(path, f.b, f.n);
	compare(path, &r);
	T_OK(r.mapped && r.same && r.records == 1,
	    "caplen over %u: same error after 1 record %s", PCAPFMT_MAX_SNAPLEN,
	    r.why);

	/* Snaplen 0 in the header (libpcap takes its maximum). */
	ghdr(&f, 0, 0, 0, DLT_RAW);
	rec(&f, 1, 2, 1000, 1000);
	write_file(path, f.b, f.n);
	compare(path, &r);
	T_OK(r.mapped && r.same && r.records == 1, "snaplen 0 %s", r.why);

	/* Truncated at every byte after the file header. */
	ghdr(&f, 0, 1, 100, DLT_EN10MB);
	rec(&f, 1, 2, 40, 40);
	rec(&f, 3, 4, 150, 150); /* cut to 100 */
	rec(&f, 5, 6, 7, 7);
	full = f.n;
	for (cut = 24; cut <= full; cut++) {
		write_file(path, f.b, cut);
		compare(path, &r);
		n++;
		if (!r.mapped || !r.same) {
			if (bad++ == 0)
				T_OK(0, "cut at %zu: %s", cut, r.why);
		}
	}
	T_OK(bad == 0, "%d truncations end as libpcap's", n);
}

/* --- what is left to libpcap ------------------------------------------- */

static void
check_refused(const char *shared)
{
	static struct fbuf f;
	char		   path[1200];
	struct pcapfile	   m;
	pcap_t		  *p;

	snprintf(path, sizeof(path), "%s/v23.pcap", tmpdir);
	ghdr(&f, 0, 0, 65535, DLT_EN10MB);
	f.b[6] = 3; /* version 2.3: caplen and len may be swapped */
	rec(&f, 1, 2, 60, 60);
	write_file(path, f.b, f.n);
	p = open_nano(path);
	T_OK(p != NULL && pcapfile_open_pcap(&m, p) != 0,
	    "version 2.3 left to libpcap");
	if (p != NULL)
		pcap_close(p);

	snprintf(path, sizeof(path), "%s/traffic/lucaderi_doh_luca.pcapng",
	    shared);
	if (access(path, R_OK) == 0) {
		p = open_nano(path);
		T_OK(p != NULL && pcapfile_open_pcap(&m, p) != 0,
		    "pcapng left to libpcap");
		if (p != NULL)
			pcap_close(p);
	}
}

/* --- a file cut short while being read ---------------------------------- */

/*
 * A file cut by another process while being read: the records already
 * read into the buffer are whole and genuine and are handed out; the
 * next read finds the file shorter than at open and the reader stops
 * with "file shrank".  3000 records of 1000 bytes (3 MB, more than the
 * buffer), cut to 8 KiB after 3 records.
 */
static void
check_shrink(void)
{
	static struct fbuf f;
	char		   path[256];
	struct pcaprec	   r;
	struct pcapfile	   m;
	enum pcaprec_res   res;
	pcap_t		  *p;
	FILE		  *fp;
	int		   i, fd, n = 0, bad = 0, k;
	const int	   n_rec = 3000, rec_len = 16 + 1000;

	snprintf(path, sizeof(path), "%s/shrink.pcap", tmpdir);
	ghdr(&f, 0, 0, 65535, DLT_EN10MB);
	fp = fopen(path, "wb");
	if (fp == NULL || fwrite(f.b, 1, f.n, fp) != f.n) {
		T_OK(0, "shrink: cannot write %s", path);
		return;
	}
	for (i = 0; i < n_rec; i++) {
		f.n = 0;
		rec(&f, (uint32_t)i, 0, 1000, 1000);
		if (fwrite(f.b, 1, f.n, fp) != f.n)
			break;
	}
	if (fclose(fp) != 0 || i != n_rec) {
		T_OK(0, "shrink: cannot write %s", path);
		return;
	}
	p = open_nano(path);
	if (p == NULL || pcapfile_open_pcap(&m, p) != 0) {
		T_OK(0, "shrink: cannot open %s", path);
		return;
	}
	for (i = 0; i < 3; i++)
		n += pcapfile_next(&m, &r) == PCAPREC_OK;
	fd = open(path, O_WRONLY);
	T_OK(fd >= 0 && ftruncate(fd, 8192) == 0 && close(fd) == 0,
	    "file cut to 8 KiB while being read");
	while ((res = pcapfile_next(&m, &r)) == PCAPREC_OK && n < n_rec) {
		/* Record n, as written: its time and its bytes. */
		if (r.ts_sec != n || r.caplen != 1000)
			bad++;
		for (k = 0; k < 1000 && !bad; k++)
			if (r.data[k] != (uint8_t)(k * 7 + 1000))
				bad++;
		n++;
	}
	T_OK(res == PCAPREC_ERR && strstr(m.err, "shrank") != NULL,
	    "reader stops with \"%s\" after %d records", m.err, n);
	T_OK(bad == 0 && n == (int)(PCAPFILE_BUF / rec_len),
	    "the %d records read before the cut are handed out whole and "
	    "genuine (%d wrong), none after", n, bad);
	pcapfile_close(&m);
	pcap_close(p);
}

int
main(void)
{
	const char *shared = getenv("SHARED_PCAPS");

	if (shared == NULL)
		shared = "../shared/pcaps";
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	check_crafted();
	check_refused(shared);
	check_shrink();
	check_shared(shared);
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		(void)!system(cmd);
	}
	return t_done();
}
