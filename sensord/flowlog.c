/*
 * flowlog.c: the flow log, conversation records as gzip-compressed JSON
 * lines in rotating files under one directory.
 *
 * Line format (one object per record, keys in this order, a contract):
 *
 *   conv_id seq start end proto src sport dst dport src_pkts src_bytes
 *   dst_pkts dst_bytes src_flags dst_flags state history end_reason final
 *   vlan iface [src_first src_last dst_first dst_last]
 *
 * Times are epoch seconds with six decimals (1700000000.123456); src is the
 * initiator; addresses are text (IPv4 dotted); flags are letters "CEUAPRSF";
 * end_reason is conv_reason_name(); final is true/false; iface is the
 * interface name.  With cfg.dir_times, src_first..dst_last follow: the
 * first/last packet time per direction in the record's interval, 0 for a
 * direction without packets.  They are off by default: measured on
 * synthetic busy-sensor records they add 33% to the JSON and 36% to the
 * compressed bytes (microsecond digits do not compress), for information
 * mostly equal to start/end (dst_first, the responder's first packet, is
 * the informative one).
 * Strings are escaped per RFC 8259: control bytes, '"' and '\' always;
 * valid UTF-8 passes through; a byte that is not part of valid UTF-8 is
 * written \u00XX (flowread maps \u0000-\u00ff back to that byte, so names
 * with odd bytes round-trip exactly).
 *
 * Who owns what.  The caller's thread (the event loop) encodes records into
 * the current chunk, a buffer of chunk_size bytes.  A chunk is handed to the
 * writer thread through a bounded queue when it is full, when it is older
 * than flush_interval (flowlog_tick), when flow time enters a new rotation
 * interval, and at sync/close; under the mutex, once per chunk, so the lock
 * costs nothing per record.  The writer thread owns everything on disk: it
 * compresses the chunk into one gzip member with gzenc's one-shot
 * deflate, write(2)s it, rotates files, keeps the catalogue of files and
 * deletes the oldest to stay under the retention cap.  Chunks come from a
 * pool of queue_chunks + 2 buffers allocated at open, so the write path
 * allocates nothing.
 *
 * Invariants.
 * - Every member holds whole lines and is written by one write(2) call:
 *   after kill -9 a file is whole members, then at most one cut member.
 *   zcat recovers every record that was handed to the writer and written;
 *   the start-up scan cuts the newest file back to its last whole member.
 * - A file's compressed size stays <= file_size (checked before each write;
 *   a single member may exceed it only if file_size < one compressed chunk,
 *   which flowlog_open refuses).
 * - Retention is checked before each write: while catalogue bytes plus the
 *   member exceed retention_bytes, the oldest closed file (by name, i.e. by
 *   flow time) is deleted.  The open file is never deleted and is at most
 *   file_size <= retention_bytes, so after every write the files in DIR sum
 *   to <= retention_bytes: no slack beyond the cap.
 * - Rotation by time uses flow time (max end time seen, or tick time), with
 *   boundaries at multiples of the interval.  A chunk never spans two
 *   intervals, so the writer decides from the chunk's first time alone.
 * - Live mode never blocks: a full queue drops the chunk, counted per
 *   record in n_dropped.  Lossless mode waits for room.
 * - A failed open/write suspends the current file (cut back to its last
 *   whole member, fsync'd, closed); its chunks are counted in n_lost until
 *   the next rotation boundary or FLOWLOG_RETRY_S of flow time.
 *
 * Each member's gzip header carries an extra subfield "SF" (size, record
 * count, min start, max end): readers skip members by time without inflating
 * and the crash repair walks members by header alone.  gzip, zcat and zlib
 * ignore the subfield (RFC 1952 §2.3.1.1).
 *
 * Why one-shot independent members: on our JSON lines, per CPU second,
 * level 1 (gzenc: ISA-L) in 256 KiB members compresses 545-730 MB/s at
 * ratio 5.7, libdeflate level 1 210-300 MB/s at 5.9, zlib level 1 120-130
 * MB/s at 5.5 (tests/tools/flowlog_bench); 1 MiB members gain 1% ratio,
 * 64 KiB lose 2%.  A one-shot encoder fits a member exactly, and an
 * independent member is the unit that survives a crash.
 *
 * Cost (same tool, a loaded 2-core VM, so upper bounds): the caller spends
 * 175-290 ns per record (in-place digit pairs, a cache of formatted
 * seconds, tables for flags and IPv4 octets, interface names escaped once;
 * no printf); the writer about 0.75 us per 350-byte record, i.e. 1.3M
 * records/s per core.  A record is ~350 bytes of JSON, ~61 bytes on disk.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cursor.h"
#include "flowlog.h"
#include "gzenc.h"
#include "util.h"

#define MIB (1024u * 1024u)
#define FLOWLOG_RETRY_S 60 /* retry a suspended log */
/*
 * Bound on one encoded line, with room for the fixed-size over-copies of
 * the encoder (<= 24 bytes): the worst case is about 1650 bytes, 770 of
 * them an interface name of 128 bytes each escaped to 6.
 */
#define ENC_MAX 2048
#define SEQ_MOD 10000u

struct tcache {
	uint64_t sec;
	char	 txt[16]; /* <= 14 digits */
	size_t	 len;
};

/* One chunk of JSON lines, one future gzip member. */
struct chunk {
	uint8_t *buf;
	size_t	 len;
	uint32_t n_rec;	  /* 0: a clock message, no data */
	uint64_t t_first; /* flow clock at its first record */
	uint64_t min_start;
	uint64_t max_end;
};

/* One file of the catalogue. */
struct catent {
	char	 name[FLOWLOG_NAME_LEN];
	uint64_t size;
	int	 is_open;
};

struct flowlog {
	struct flowlog_config cfg;
	char		     *dir;
	int		      dirfd;
	uint64_t	      interval_us; /* 0: no time rotation */
	uint64_t	      flush_us;

	/* Caller side (the loop thread only). */
	struct chunk	    *cur;
	uint64_t	     clock; /* max end time or tick */
	uint64_t	     tick_now;
	uint64_t	     cur_open_tick; /* tick_now at cur's first */
	uint64_t	     cur_end;	  /* cur must not hold clock >= this */
	uint64_t	     told_bucket; /* last bucket handed off */
	uint64_t	     n_handed;
	int		     lossless;
	struct tcache	     tc[4];   /* see put_time */
	char		   **if_json; /* quoted, escaped names */
	size_t		    *if_json_len;
	unsigned	     n_if;
	struct flowlog_stats cs; /* caller-side counters */

	/* Shared, under mu. */
	pthread_mutex_t	     mu;
	pthread_cond_t	     cv_work; /* writer: work or quit */
	pthread_cond_t	     cv_room; /* caller: room, chunk done */
	struct chunk	   **q;
	unsigned	     q_cap, q_head, q_count;
	struct chunk	   **free_chunks;
	unsigned	     n_free;
	int		     quit;
	int		     is_started; /* start-up retention done */
	uint64_t	     n_done;
	struct flowlog_stats pub; /* writer counters, published */

	/* Writer side (the writer thread only after start). */
	struct chunk	    *chunks; /* the pool */
	unsigned	     n_chunks;
	struct gze	    *gz;
	uint8_t		    *obuf;
	size_t		     obuf_cap;
	int		     fd; /* open file or -1 */
	uint64_t	     fsize;
	uint64_t	     file_bucket;
	int		     is_susp;
	uint64_t	     susp_bucket, susp_clock;
	struct catent	    *cat; /* sorted by name */
	size_t		     n_cat, cat_cap;
	uint64_t	     cat_bytes;
	unsigned	     next_seq;
	struct flowlog_stats ws; /* writer-side counters */

	pthread_t thr;
	int	  has_thr;
};

/* ------------------------------------------------------------------ */
/* JSON encoding (caller's thread, the hot path)                      */
/* ------------------------------------------------------------------ */

static const char dig2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

static const uint64_t pow10[20] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL,
    100000ULL, 1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL,
    10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL};

/*
 * Decimal digits written straight into place, two per division: count
 * them first, then fill backwards with 2-byte stores (no scratch copy).
 */
static char *
put_u64(char *p, uint64_t v)
{
	/* Digits from the bit length: log10(2) ~ 1233 / 4096. */
	unsigned n = (unsigned)((64 - __builtin_clzll(v | 1)) * 1233) >> 12;
	char	*q;

	n += v >= pow10[n];
	if (n == 0)
		n = 1;
	q = p + n;
	while (v >= 100) {
		q -= 2;
		memcpy(q, dig2 + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(q - 2, dig2 + 2 * v, 2);
	else
		q[-1] = (char)('0' + v);
	return p + n;
}

/*
 * Epoch seconds with exactly six decimals.  A record's six times nearly
 * always fall in one or two seconds, and consecutive records in the same
 * ones: the seconds' digits come from a 4-entry cache (the caller's thread
 * only), which removes most of the encoder's divisions.
 */

static char *
put_time(struct tcache *tc, char *p, uint64_t us)
{
	uint64_t       sec = us / 1000000;
	unsigned       f = (unsigned)(us % 1000000);
	struct tcache *e = &tc[sec & 3];

	if (e->len == 0 || e->sec != sec) {
		e->sec = sec;
		e->len = (size_t)(put_u64(e->txt, sec) - e->txt);
	}
	memcpy(p, e->txt, sizeof(e->txt));
	p += e->len;
	*p++ = '.';
	memcpy(p, dig2 + 2 * (f / 10000), 2);
	memcpy(p + 2, dig2 + 2 * (f / 100 % 100), 2);
	memcpy(p + 4, dig2 + 2 * (f % 100), 2);
	return p + 6;
}

/* "0".."255" padded to 4 bytes, length in the last byte. */
static char	      octets[256][4];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void
octets_init(void)
{
	unsigned i;

	for (i = 0; i < 256; i++) {
		char *e = put_u64(octets[i], i);

		octets[i][3] = (char)(e - octets[i]);
	}
}

static char *
put_addr(char *p, const uint8_t a[16])
{
	char   buf[ADDR_STRLEN];
	size_t n;
	int    i;

	*p++ = '"';
	if (addr_is_v4(a)) {
		for (i = 12; i < 16; i++) {
			/* Fixed 4-byte copy; the length says how far. */
			memcpy(p, octets[a[i]], 4);
			p += octets[a[i]][3];
			*p++ = '.';
		}
		p--;
	} else {
		addr_fmt(a, buf);
		n = strnlen(buf, sizeof(buf));
		memcpy(p, buf, n);
		p += n;
	}
	*p++ = '"';
	return p;
}

/*
 * Quoted JSON string of n bytes into out (room for 6 * n + 2).  See the
 * top comment for the treatment of bytes that are not valid UTF-8.
 */
static char *
put_str_slow(char *p, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  i = 0, k;

	*p++ = '"';
	while (i < n) {
		uint8_t c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*p++ = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80 && (k = util_utf8_len(s + i, n - i)) > 0) {
			memcpy(p, s + i, k);
			p += k;
			i += k;
			continue;
		}
		*p++ = '\\';
		switch (c) {
		case '"':
			*p++ = '"';
			break;
		case '\\':
			*p++ = '\\';
			break;
		case '\n':
			*p++ = 'n';
			break;
		case '\t':
			*p++ = 't';
			break;
		case '\r':
			*p++ = 'r';
			break;
		default:
			memcpy(p, "u00", 3);
			p[3] = hex[c >> 4];
			p[4] = hex[c & 15];
			p += 5;
			break;
		}
		i++;
	}
	*p++ = '"';
	return p;
}

/*
 * Short fixed-size strings from the flow engine (state, history): plain
 * ASCII nearly always.  The whole array is copied (a constant-size copy is
 * a few stores; ENC_MAX leaves room) and p advances by the string's length.
 */
#define PUT_FIXSTR(p, arr) \
	do { \
		size_t n_ = strnlen((arr), sizeof(arr)), i_; \
\
		for (i_ = 0; i_ < n_; i_++) { \
			uint8_t c_ = (uint8_t)(arr)[i_]; \
\
			if (c_ < 0x20 || c_ >= 0x7f || c_ == '"' || \
			    c_ == '\\') \
				break; \
		} \
		if (i_ < n_) \
			(p) = put_str_slow((p), (const uint8_t *)(arr), n_); \
		else { \
			*(p)++ = '"'; \
			memcpy((p), (arr), sizeof(arr)); \
			(p) += n_; \
			*(p)++ = '"'; \
		} \
	} while (0)

/* TCP flag letters by flag byte, quoted, length in the last byte. */
static char flagstr[256][12];

static void
flagstr_init(void)
{
	unsigned i;
	size_t	 n;

	for (i = 0; i < 256; i++) {
		flagstr[i][0] = '"';
		conv_flags_str((uint8_t)i, flagstr[i] + 1);
		n = strlen(flagstr[i]);
		flagstr[i][n] = '"';
		flagstr[i][11] = (char)(n + 1);
	}
}

static char *
put_flags(char *p, uint8_t flags)
{
	memcpy(p, flagstr[flags], 10);
	return p + flagstr[flags][11];
}

/* End reason names padded to 8 bytes, then the length. */
static char reasons[END__COUNT + 1][12];

static void
tables_init(void)
{
	unsigned    i;
	const char *n;

	octets_init();
	flagstr_init();
	for (i = 0; i <= END__COUNT; i++) {
		n = conv_reason_name((enum end_reason)i);
		util_strlcpy(reasons[i], n, 9);
		reasons[i][11] = (char)strnlen(reasons[i], 9);
	}
}

#define PUT_LIT(p, s) \
	do { \
		memcpy((p), (s), sizeof(s) - 1); \
		(p) += sizeof(s) - 1; \
	} while (0)

/* Encode one record and its newline at p; returns the end.  <= ENC_MAX. */
static char *
fl_encode(struct flowlog *fl, char *p, const struct convrec *cr)
{
	const char *rn;

	PUT_LIT(p, "{\"conv_id\":");
	p = put_u64(p, cr->conv_id);
	PUT_LIT(p, ",\"seq\":");
	p = put_u64(p, cr->seq);
	PUT_LIT(p, ",\"start\":");
	p = put_time(fl->tc, p, cr->start_us);
	PUT_LIT(p, ",\"end\":");
	p = put_time(fl->tc, p, cr->end_us);
	PUT_LIT(p, ",\"proto\":");
	p = put_u64(p, cr->proto);
	PUT_LIT(p, ",\"src\":");
	p = put_addr(p, cr->src);
	PUT_LIT(p, ",\"sport\":");
	p = put_u64(p, cr->sport);
	PUT_LIT(p, ",\"dst\":");
	p = put_addr(p, cr->dst);
	PUT_LIT(p, ",\"dport\":");
	p = put_u64(p, cr->dport);
	PUT_LIT(p, ",\"src_pkts\":");
	p = put_u64(p, cr->fwd.pkts);
	PUT_LIT(p, ",\"src_bytes\":");
	p = put_u64(p, cr->fwd.bytes);
	PUT_LIT(p, ",\"dst_pkts\":");
	p = put_u64(p, cr->rev.pkts);
	PUT_LIT(p, ",\"dst_bytes\":");
	p = put_u64(p, cr->rev.bytes);
	PUT_LIT(p, ",\"src_flags\":");
	p = put_flags(p, cr->fwd.flags);
	PUT_LIT(p, ",\"dst_flags\":");
	p = put_flags(p, cr->rev.flags);
	PUT_LIT(p, ",\"state\":");
	PUT_FIXSTR(p, cr->state);
	PUT_LIT(p, ",\"history\":");
	PUT_FIXSTR(p, cr->history);
	PUT_LIT(p, ",\"end_reason\":\"");
	rn = reasons[cr->reason < END__COUNT ? cr->reason : END__COUNT];
	memcpy(p, rn, 8);
	p += rn[11];
	if (cr->is_final)
		PUT_LIT(p, "\",\"final\":true,\"vlan\":");
	else
		PUT_LIT(p, "\",\"final\":false,\"vlan\":");
	p = put_u64(p, cr->vlan);
	PUT_LIT(p, ",\"iface\":");
	if (cr->iface < fl->n_if && fl->if_json[cr->iface] != NULL) {
		memcpy(p, fl->if_json[cr->iface], fl->if_json_len[cr->iface]);
		p += fl->if_json_len[cr->iface];
	} else
		PUT_LIT(p, "\"-\"");
	if (fl->cfg.dir_times) {
		PUT_LIT(p, ",\"src_first\":");
		p = put_time(fl->tc, p, cr->fwd.first_us);
		PUT_LIT(p, ",\"src_last\":");
		p = put_time(fl->tc, p, cr->fwd.last_us);
		PUT_LIT(p, ",\"dst_first\":");
		p = put_time(fl->tc, p, cr->rev.first_us);
		PUT_LIT(p, ",\"dst_last\":");
		p = put_time(fl->tc, p, cr->rev.last_us);
	}
	PUT_LIT(p, "}\n");
	return p;
}

/* ------------------------------------------------------------------ */
/* Names and member headers                                           */
/* ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static char *
put_2(char *p, unsigned v)
{
	memcpy(p, dig2 + 2 * (v % 100), 2);
	return p + 2;
}

void
flowlog_name_fmt(uint64_t t_s, unsigned seq, char buf[FLOWLOG_NAME_LEN])
{
	struct tm tm;
	time_t	  t;
	char	 *p = buf;
	unsigned  y;

	if (t_s > 253402300799ULL) /* 9999-12-31T23:59:59Z */
		t_s = 253402300799ULL;
	t = (time_t)t_s;
	gmtime_r(&t, &tm);
	y = (unsigned)tm.tm_year + 1900;
	seq %= SEQ_MOD;
	PUT_LIT(p, "flows-");
	p = put_2(p, y / 100);
	p = put_2(p, y);
	p = put_2(p, (unsigned)tm.tm_mon + 1);
	p = put_2(p, (unsigned)tm.tm_mday);
	*p++ = 'T';
	p = put_2(p, (unsigned)tm.tm_hour);
	p = put_2(p, (unsigned)tm.tm_min);
	p = put_2(p, (unsigned)tm.tm_sec);
	PUT_LIT(p, "Z-");
	p = put_2(p, seq / 100);
	p = put_2(p, seq);
	PUT_LIT(p, ".jsonl.gz");
	*p = '\0';
}

static int
parse_digits(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

int
flowlog_name_parse(const char *name, uint64_t *t_s, unsigned *seq)
{
	unsigned y, mo, d, h, mi, s;
	int64_t	 days;

	/* flows-YYYYmmddTHHMMSSZ-NNNN.jsonl.gz */
	if (strnlen(name, FLOWLOG_NAME_LEN) != FLOWLOG_NAME_LEN - 1 ||
	    memcmp(name, "flows-", 6) != 0 || name[14] != 'T' ||
	    name[21] != 'Z' || name[22] != '-' ||
	    memcmp(name + 27, ".jsonl.gz", 9) != 0)
		return -1;
	if (parse_digits(name + 6, 4, &y) || parse_digits(name + 10, 2, &mo) ||
	    parse_digits(name + 12, 2, &d) || parse_digits(name + 15, 2, &h) ||
	    parse_digits(name + 17, 2, &mi) || parse_digits(name + 19, 2, &s) ||
	    parse_digits(name + 23, 4, seq))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || s > 60)
		return -1;
	days = days_from_civil(y, mo, d);
	*t_s = (uint64_t)days * 86400 + h * 3600u + mi * 60u + s;
	return 0;
}

static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

/* RFC 1952 §2.3: ID1 ID2 CM FLG MTIME XFL OS, then XLEN and our subfield. */
static void
member_hdr(uint8_t *h, const struct flowlog_member *m)
{
	h[0] = 0x1f;
	h[1] = 0x8b;
	h[2] = 8;	/* CM = deflate */
	h[3] = 0x04;	/* FLG = FEXTRA */
	le32(h + 4, 0); /* MTIME: none */
	h[8] = 0;	/* XFL */
	h[9] = 3;	/* OS = Unix */
	h[10] = 4 + FLOWLOG_SF_LEN;
	h[11] = 0;
	h[12] = 'S';
	h[13] = 'F';
	h[14] = FLOWLOG_SF_LEN;
	h[15] = 0;
	le32(h + 16, m->size);
	le32(h + 20, m->n_records);
	le64(h + 24, m->min_start_us);
	le64(h + 32, m->max_end_us);
}

int
flowlog_member_parse(const uint8_t *buf, size_t len, struct flowlog_member *m)
{
	struct cur c;
	uint8_t	   flg;
	uint64_t   lo;

	cur_init(&c, buf, len);
	if (cur_u8(&c) != 0x1f || cur_u8(&c) != 0x8b || !cur_ok(&c))
		return -1;
	if (cur_u8(&c) != 8 || !cur_ok(&c))
		return -1;
	flg = cur_u8(&c);
	cur_skip(&c, 6); /* MTIME XFL OS */
	if (!(flg & 0x04) || cur_le16(&c) != 4 + FLOWLOG_SF_LEN ||
	    cur_u8(&c) != 'S' || cur_u8(&c) != 'F' ||
	    cur_le16(&c) != FLOWLOG_SF_LEN)
		return 0;
	m->size = cur_le32(&c);
	m->n_records = cur_le32(&c);
	lo = cur_le32(&c);
	m->min_start_us = lo | (uint64_t)cur_le32(&c) << 32;
	lo = cur_le32(&c);
	m->max_end_us = lo | (uint64_t)cur_le32(&c) << 32;
	if (!cur_ok(&c) || m->size < FLOWLOG_HDR_LEN + 8)
		return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Catalogue (writer thread after start; flowlog_open before)        */
/* ------------------------------------------------------------------ */

static int
catent_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct catent *)a)->name, ((const struct catent *)b)->name);
}

static int
cat_insert(struct flowlog *fl, const char *name, uint64_t size, int is_open)
{
	size_t i;

	if (fl->n_cat == fl->cat_cap) {
		size_t	       ncap = fl->cat_cap ? fl->cat_cap * 2 : 64;
		struct catent *n = realloc(fl->cat, ncap * sizeof(*n));

		if (n == NULL)
			return -1;
		fl->cat = n;
		fl->cat_cap = ncap;
	}
	/* Usually the newest: search from the end. */
	for (i = fl->n_cat; i > 0; i--)
		if (strcmp(fl->cat[i - 1].name, name) < 0)
			break;
	memmove(
	    &fl->cat[i + 1], &fl->cat[i], (fl->n_cat - i) * sizeof(*fl->cat));
	util_strlcpy(fl->cat[i].name, name, sizeof(fl->cat[i].name));
	fl->cat[i].size = size;
	fl->cat[i].is_open = is_open;
	fl->n_cat++;
	fl->cat_bytes += size;
	return 0;
}

static void
cat_remove(struct flowlog *fl, size_t i)
{
	fl->cat_bytes -= fl->cat[i].size;
	memmove(&fl->cat[i], &fl->cat[i + 1],
	    (fl->n_cat - i - 1) * sizeof(*fl->cat));
	fl->n_cat--;
}

static struct catent *
cat_open_ent(struct flowlog *fl)
{
	size_t i;

	for (i = fl->n_cat; i > 0; i--)
		if (fl->cat[i - 1].is_open)
			return &fl->cat[i - 1];
	return NULL;
}

static void
werr(struct flowlog *fl, int e)
{
	fl->ws.n_write_errors++;
	fl->ws.last_errno = e;
}

/*
 * Delete the oldest closed files until the catalogue plus `need` more bytes
 * fits the cap.  Stops at the open file or at an unlink error (counted;
 * retried on the next write), so it never spins.
 */
static void
retention(struct flowlog *fl, uint64_t need)
{
	size_t i = 0;
	int    deleted = 0;

	if (fl->cfg.retention_bytes == 0)
		return;
	while (
	    fl->cat_bytes + need > fl->cfg.retention_bytes && i < fl->n_cat) {
		if (fl->cat[i].is_open) {
			i++;
			continue;
		}
		if (unlinkat(fl->dirfd, fl->cat[i].name, 0) != 0 &&
		    errno != ENOENT) {
			werr(fl, errno);
			break;
		}
		cat_remove(fl, i);
		fl->ws.n_deleted++;
		deleted = 1;
	}
	if (deleted)
		(void)fsync(fl->dirfd);
}

/*
 * Walk a file's members by their headers and cut it after the last whole
 * one: a crash mid-write leaves a cut member (or, after power loss, junk)
 * at the end.  Files not written by us (no "SF" subfield) are left alone.
 * Cost: one pread per member, no inflating.  Returns the new size.
 */
static uint64_t
repair_file(struct flowlog *fl, const char *name, uint64_t size)
{
	static const uint8_t  ours[4] = {0x1f, 0x8b, 8, 0x04};
	uint8_t		      h[FLOWLOG_HDR_LEN];
	struct flowlog_member m;
	uint64_t	      off = 0, max_iter;
	ssize_t		      n;
	int		      fd, r;

	fd = openat(fl->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return size;
	max_iter = size / (FLOWLOG_HDR_LEN + 8) + 1;
	while (off < size && max_iter-- > 0) {
		n = pread(fd, h, sizeof(h), (off_t)off);
		if (n <= 0)
			break;
		r = flowlog_member_parse(h, (size_t)n, &m);
		if (r != 1 && off == 0 &&
		    !((size_t)n < sizeof(h) &&
			memcmp(h, ours, (size_t)n < 4 ? (size_t)n : 4) == 0))
			goto out; /* not ours: leave it alone */
		if (r != 1 || off + m.size > size)
			break; /* cut member, or junk after */
		off += m.size;
	}
	if (off < size) {
		if (ftruncate(fd, (off_t)off) == 0) {
			(void)fsync(fd);
			fl->ws.n_repaired++;
			size = off;
		} else
			werr(fl, errno);
	}
out:
	close(fd);
	return size;
}

/*
 * Build the catalogue from DIR: every regular file with our name pattern.
 * The file open at a crash is among the most recently modified: every file
 * modified within REPAIR_WINDOW_S of the newest is checked (file mtimes
 * are coarse, so two files can share one).  Empty files (created, never
 * written) are removed.  The sequence number continues from the newest.
 */
#define REPAIR_WINDOW_S 2

static int
newer(const struct timespec *a, const char *an, const struct timespec *b,
    const char *bn)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec > b->tv_sec;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec > b->tv_nsec;
	return strcmp(an, bn) > 0;
}

static int
scan_dir(struct flowlog *fl)
{
	DIR	       *d;
	struct dirent  *de;
	struct stat	st;
	uint64_t	t_s, nsz;
	unsigned	seq, newest_seq = 0;
	int		fd, has_newest = 0;
	struct timespec newest = {0, 0};
	char		newest_name[FLOWLOG_NAME_LEN] = "";
	size_t		i;

	if ((fd = dup(fl->dirfd)) < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (flowlog_name_parse(de->d_name, &t_s, &seq) != 0)
			continue;
		if (fstatat(fl->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
			0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (st.st_size == 0) {
			(void)unlinkat(fl->dirfd, de->d_name, 0);
			continue;
		}
		if (cat_insert(fl, de->d_name, (uint64_t)st.st_size, 0) != 0)
			goto fail;
		if (!has_newest ||
		    newer(&st.st_mtim, de->d_name, &newest, newest_name)) {
			has_newest = 1;
			newest = st.st_mtim;
			newest_seq = seq;
			util_strlcpy(
			    newest_name, de->d_name, sizeof(newest_name));
		}
	}
	closedir(d);
	d = NULL;
	if (fl->n_cat > 1)
		qsort(fl->cat, fl->n_cat, sizeof(*fl->cat), catent_cmp);
	fl->next_seq = has_newest ? (newest_seq + 1) % SEQ_MOD : 0;
	i = 0;
	while (i < fl->n_cat) {
		if (fstatat(fl->dirfd, fl->cat[i].name, &st,
			AT_SYMLINK_NOFOLLOW) != 0 ||
		    st.st_mtim.tv_sec + REPAIR_WINDOW_S < newest.tv_sec) {
			i++;
			continue;
		}
		nsz = repair_file(fl, fl->cat[i].name, fl->cat[i].size);
		fl->cat_bytes -= fl->cat[i].size - nsz;
		fl->cat[i].size = nsz;
		if (nsz == 0) {
			(void)unlinkat(fl->dirfd, fl->cat[i].name, 0);
			cat_remove(fl, i);
		} else
			i++;
	}
	return 0;
fail:
	if (d != NULL)
		closedir(d);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Writer thread                                                      */
/* ------------------------------------------------------------------ */

static uint64_t
bucket_of(const struct flowlog *fl, uint64_t t)
{
	return fl->interval_us ? t / fl->interval_us : 0;
}

static ssize_t
fl_write_fn(struct flowlog *fl, const void *buf, size_t len)
{
	if (fl->cfg.write_fn != NULL)
		return fl->cfg.write_fn(fl->fd, buf, len);
	return write(fl->fd, buf, len);
}

static int
write_all(struct flowlog *fl, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = fl_write_fn(fl, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync and close the open file; an empty one is removed. */
static void
close_file(struct flowlog *fl)
{
	struct catent *ce;

	if (fl->fd < 0)
		return;
	if (fsync(fl->fd) != 0)
		werr(fl, errno);
	close(fl->fd);
	fl->fd = -1;
	if ((ce = cat_open_ent(fl)) != NULL) {
		ce->is_open = 0;
		if (ce->size == 0) {
			(void)unlinkat(fl->dirfd, ce->name, 0);
			cat_remove(fl, (size_t)(ce - fl->cat));
		}
	}
	(void)fsync(fl->dirfd);
}

static int
open_file(struct flowlog *fl, uint64_t t_us)
{
	char	 name[FLOWLOG_NAME_LEN];
	unsigned tries;
	int	 fd = -1;

	for (tries = 0; tries < SEQ_MOD; tries++) {
		flowlog_name_fmt(t_us / 1000000, fl->next_seq, name);
		fl->next_seq = (fl->next_seq + 1) % SEQ_MOD;
		fd = openat(fl->dirfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return -1;
	/* Exactly 0640 whatever the umask: the reader group needs it. */
	(void)fchmod(fd, 0640);
	if (cat_insert(fl, name, 0, 1) != 0) {
		(void)unlinkat(fl->dirfd, name, 0);
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	fl->fd = fd;
	fl->fsize = 0;
	fl->ws.n_files++;
	return 0;
}

static void
suspend(struct flowlog *fl, int e, uint64_t t)
{
	werr(fl, e);
	fl->is_susp = 1;
	fl->susp_bucket = bucket_of(fl, t);
	fl->susp_clock = t;
}

/* Compress c into one gzip member in obuf; returns its size. */
static size_t
compress_chunk(struct flowlog *fl, const struct chunk *c)
{
	struct flowlog_member m;
	size_t		      n;

	n = gze_compress(fl->gz, fl->cfg.level, c->buf, c->len,
	    fl->obuf + FLOWLOG_HDR_LEN, fl->obuf_cap - FLOWLOG_HDR_LEN - 8);
	/* Cannot fail: obuf holds gze_bound(chunk_size). */
	le32(fl->obuf + FLOWLOG_HDR_LEN + n, gze_crc32(0, c->buf, c->len));
	le32(fl->obuf + FLOWLOG_HDR_LEN + n + 4, (uint32_t)c->len);
	m.size = (uint32_t)(FLOWLOG_HDR_LEN + n + 8);
	m.n_records = c->n_rec;
	m.min_start_us = c->min_start;
	m.max_end_us = c->max_end;
	member_hdr(fl->obuf, &m);
	return m.size;
}

static void
process_chunk(struct flowlog *fl, const struct chunk *c)
{
	uint64_t       b = bucket_of(fl, c->t_first);
	struct catent *ce;
	size_t	       mlen;

	/* Rotation by time, and the end of a suspension. */
	if (fl->fd >= 0 && fl->interval_us && b != fl->file_bucket)
		close_file(fl);
	if (fl->is_susp &&
	    ((fl->interval_us && b != fl->susp_bucket) ||
		c->t_first >= fl->susp_clock + FLOWLOG_RETRY_S * 1000000ULL))
		fl->is_susp = 0;
	if (c->n_rec == 0)
		return; /* a clock message */
	if (fl->is_susp) {
		fl->ws.n_lost += c->n_rec;
		return;
	}
	mlen = compress_chunk(fl, c);
	/* Rotation by size, checked before the write. */
	if (fl->fd >= 0 && fl->fsize > 0 &&
	    fl->fsize + mlen > fl->cfg.file_size)
		close_file(fl);
	if (fl->fd < 0) {
		if (open_file(fl, c->t_first) != 0) {
			suspend(fl, errno, c->t_first);
			fl->ws.n_lost += c->n_rec;
			return;
		}
		fl->file_bucket = b;
	}
	retention(fl, mlen);
	if (write_all(fl, fl->obuf, mlen) != 0) {
		int e = errno;

		/* Cut back to whole members so the file stays valid gzip. */
		if (ftruncate(fl->fd, (off_t)fl->fsize) != 0)
			werr(fl, errno);
		close_file(fl);
		suspend(fl, e, c->t_first);
		fl->ws.n_lost += c->n_rec;
		return;
	}
	fl->fsize += mlen;
	if ((ce = cat_open_ent(fl)) != NULL) {
		ce->size += mlen;
		fl->cat_bytes += mlen;
	}
	fl->ws.n_written += c->n_rec;
	fl->ws.n_members++;
	fl->ws.bytes_in += c->len;
	fl->ws.bytes_out += mlen;
}

static void
publish(struct flowlog *fl)
{
	fl->ws.disk_bytes = fl->cat_bytes;
	fl->ws.disk_files = fl->n_cat;
	fl->ws.is_suspended = fl->is_susp;
	fl->pub = fl->ws;
}

static void *
writer_main(void *arg)
{
	struct flowlog *fl = arg;
	struct chunk   *c;

	(void)pthread_setname_np(pthread_self(), "flowlog");
	/* The catalogue may hold more than the cap (a lowered cap). */
	retention(fl, 0);
	pthread_mutex_lock(&fl->mu);
	publish(fl);
	fl->is_started = 1;
	pthread_cond_broadcast(&fl->cv_room);
	for (;;) {
		while (fl->q_count == 0 && !fl->quit)
			pthread_cond_wait(&fl->cv_work, &fl->mu);
		if (fl->q_count == 0)
			break; /* quit, and drained */
		c = fl->q[fl->q_head];
		fl->q_head = (fl->q_head + 1) % fl->q_cap;
		fl->q_count--;
		/* A slot is free now: a waiting (lossless) caller can go on. */
		pthread_cond_broadcast(&fl->cv_room);
		pthread_mutex_unlock(&fl->mu);

		process_chunk(fl, c);

		pthread_mutex_lock(&fl->mu);
		fl->free_chunks[fl->n_free++] = c;
		fl->n_done++;
		publish(fl);
		pthread_cond_broadcast(&fl->cv_room);
	}
	pthread_mutex_unlock(&fl->mu);
	close_file(fl);
	pthread_mutex_lock(&fl->mu);
	publish(fl);
	pthread_mutex_unlock(&fl->mu);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Caller side                                                        */
/* ------------------------------------------------------------------ */

static void
cur_reset(struct chunk *c)
{
	c->len = 0;
	c->n_rec = 0;
	c->min_start = UINT64_MAX;
	c->max_end = 0;
}

/*
 * Hand cur to the writer.  When the queue is full: wait if lossless or
 * `wait`, else drop cur's records (counted).  Returns 0 when handed off.
 */
static int
handoff(struct flowlog *fl, int wait)
{
	struct chunk *c = fl->cur;

	pthread_mutex_lock(&fl->mu);
	if (fl->q_count == fl->q_cap && !fl->lossless && !wait) {
		pthread_mutex_unlock(&fl->mu);
		fl->cs.n_dropped += c->n_rec;
		cur_reset(c);
		return -1;
	}
	while (fl->q_count == fl->q_cap)
		pthread_cond_wait(&fl->cv_room, &fl->mu);
	fl->q[(fl->q_head + fl->q_count) % fl->q_cap] = c;
	fl->q_count++;
	/* A queue slot was free, so the pool has a free chunk (see open). */
	fl->cur = fl->free_chunks[--fl->n_free];
	fl->n_handed++;
	pthread_cond_signal(&fl->cv_work);
	pthread_mutex_unlock(&fl->mu);
	fl->told_bucket = bucket_of(fl, c->t_first);
	cur_reset(fl->cur);
	return 0;
}

static void
cur_start(struct flowlog *fl)
{
	struct chunk *c = fl->cur;
	uint64_t      b;

	c->t_first = fl->clock;
	fl->cur_open_tick = fl->tick_now;
	b = bucket_of(fl, fl->clock);
	fl->cur_end = fl->interval_us && b < UINT64_MAX / fl->interval_us - 1
	    ? (b + 1) * fl->interval_us
	    : UINT64_MAX;
}

void
flowlog_write(struct flowlog *fl, const struct convrec *cr)
{
	struct chunk *c;
	char	     *p;

	if (cr->reason == END_NONE) {
		fl->cs.n_ignored++;
		return;
	}
	fl->cs.n_records++;
	if (cr->end_us > fl->clock)
		fl->clock = cr->end_us;
	c = fl->cur;
	if (c->n_rec > 0 &&
	    (fl->clock >= fl->cur_end ||
		fl->cfg.chunk_size - c->len < ENC_MAX)) {
		if (fl->clock >= fl->cur_end)
			fl->cs.n_flushes++;
		handoff(fl, 0);
		c = fl->cur;
	}
	if (c->n_rec == 0)
		cur_start(fl);
	p = fl_encode(fl, (char *)c->buf + c->len, cr);
	assert((size_t)(p - (char *)c->buf) - c->len <= ENC_MAX - 32);
	c->len = (size_t)(p - (char *)c->buf);
	c->n_rec++;
	if (cr->start_us < c->min_start)
		c->min_start = cr->start_us;
	if (cr->end_us > c->max_end)
		c->max_end = cr->end_us;
}

void
flowlog_tick(struct flowlog *fl, uint64_t now_us)
{
	uint64_t b;

	fl->tick_now = now_us;
	if (now_us > fl->clock)
		fl->clock = now_us;
	if (fl->cur->n_rec > 0 &&
	    (fl->clock >= fl->cur_end ||
		now_us >= fl->cur_open_tick + fl->flush_us)) {
		fl->cs.n_flushes++;
		handoff(fl, 0);
	}
	/*
	 * Flow time moved into a new interval with nothing buffered: tell
	 * the writer, so the file of the old interval is closed (and becomes
	 * a finished file) even on a quiet link.
	 */
	b = bucket_of(fl, fl->clock);
	if (fl->interval_us && fl->cur->n_rec == 0 &&
	    fl->told_bucket != UINT64_MAX && b != fl->told_bucket) {
		fl->cur->t_first = fl->clock;
		handoff(fl, 0);
	}
}

void
flowlog_sync(struct flowlog *fl)
{
	if (fl->cur->n_rec > 0) {
		fl->cs.n_flushes++;
		handoff(fl, 1);
	}
	pthread_mutex_lock(&fl->mu);
	while (!fl->is_started || fl->n_done < fl->n_handed)
		pthread_cond_wait(&fl->cv_room, &fl->mu);
	pthread_mutex_unlock(&fl->mu);
}

void
flowlog_set_lossless(struct flowlog *fl, int lossless)
{
	fl->lossless = lossless != 0;
}

int
flowlog_set_iface(struct flowlog *fl, unsigned idx, const char *name)
{
	size_t n;
	char  *s;

	if (idx > UINT8_MAX || name == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (idx >= fl->n_if) {
		char  **nj = calloc(idx + 1, sizeof(*nj));
		size_t *nl = calloc(idx + 1, sizeof(*nl));

		if (nj == NULL || nl == NULL) {
			free(nj);
			free(nl);
			return -1;
		}
		if (fl->n_if > 0) {
			memcpy(nj, fl->if_json, fl->n_if * sizeof(*nj));
			memcpy(nl, fl->if_json_len, fl->n_if * sizeof(*nl));
		}
		free(fl->if_json);
		free(fl->if_json_len);
		fl->if_json = nj;
		fl->if_json_len = nl;
		fl->n_if = idx + 1;
	}
	n = strnlen(name, FLOWLOG_IFACE_MAX);
	if ((s = malloc(6 * n + 3)) == NULL)
		return -1;
	fl->if_json_len[idx] =
	    (size_t)(put_str_slow(s, (const uint8_t *)name, n) - s);
	free(fl->if_json[idx]);
	fl->if_json[idx] = s;
	return 0;
}

void
flowlog_get_stats(struct flowlog *fl, struct flowlog_stats *st)
{
	pthread_mutex_lock(&fl->mu);
	*st = fl->pub;
	pthread_mutex_unlock(&fl->mu);
	st->n_records = fl->cs.n_records;
	st->n_dropped = fl->cs.n_dropped;
	st->n_ignored = fl->cs.n_ignored;
	st->n_flushes = fl->cs.n_flushes;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                     */
/* ------------------------------------------------------------------ */

void
flowlog_config_defaults(struct flowlog_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->file_size = 64 * (uint64_t)MIB;
	cfg->rotate_interval_s = 3600;
	cfg->retention_bytes = 0;
	cfg->flush_interval_s = 2;
	cfg->level = 1;
	cfg->lossless = 0;
	cfg->chunk_size = 256 * 1024;
	cfg->queue_chunks = 16;
	cfg->dir_times = 0;
}

/* mkdir -p with 0750 for the components we create. */
static int
mkdirs(const char *path)
{
	char buf[PATH_MAX], *p, c;

	if (util_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(buf, 0750) == 0)
			(void)chmod(buf, 0750);
		else if (errno != EEXIST)
			return -1;
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

static void
fl_free(struct flowlog *fl)
{
	unsigned i;

	if (fl == NULL)
		return;
	for (i = 0; i < fl->n_if; i++)
		free(fl->if_json[i]);
	free(fl->if_json);
	free(fl->if_json_len);
	for (i = 0; fl->chunks != NULL && i < fl->n_chunks; i++)
		free(fl->chunks[i].buf);
	free(fl->chunks);
	free(fl->q);
	free(fl->free_chunks);
	free(fl->obuf);
	free(fl->cat);
	gze_free(fl->gz);
	if (fl->dirfd >= 0)
		close(fl->dirfd);
	free(fl->dir);
	pthread_mutex_destroy(&fl->mu);
	pthread_cond_destroy(&fl->cv_work);
	pthread_cond_destroy(&fl->cv_room);
	free(fl);
}

struct flowlog *
flowlog_open(const struct flowlog_config *cfg)
{
	struct flowlog *fl;
	sigset_t	all, old;
	unsigned	i;
	int		e;

	if (cfg->dir == NULL || cfg->dir[0] == '\0' || cfg->level < 0 ||
	    cfg->level > 12 || cfg->chunk_size < 4096 ||
	    cfg->chunk_size > 16 * MIB || cfg->queue_chunks < 1 ||
	    cfg->queue_chunks > 1024 || cfg->file_size < 2 * cfg->chunk_size ||
	    cfg->flush_interval_s < 1 ||
	    (cfg->retention_bytes != 0 &&
		cfg->retention_bytes < cfg->file_size)) {
		errno = EINVAL;
		return NULL;
	}
	(void)pthread_once(&tables_once, tables_init);
	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		return NULL;
	fl->dirfd = -1;
	fl->fd = -1;
	pthread_mutex_init(&fl->mu, NULL);
	pthread_cond_init(&fl->cv_work, NULL);
	pthread_cond_init(&fl->cv_room, NULL);
	fl->cfg = *cfg;
	fl->cfg.iface_names = NULL;
	fl->lossless = cfg->lossless != 0;
	fl->interval_us = cfg->rotate_interval_s * 1000000ULL;
	fl->flush_us = cfg->flush_interval_s * 1000000ULL;
	fl->told_bucket = UINT64_MAX;
	if ((fl->dir = strdup(cfg->dir)) == NULL)
		goto fail;
	fl->cfg.dir = fl->dir;
	if (mkdirs(fl->dir) != 0)
		goto fail;
	fl->dirfd = open(fl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fl->dirfd < 0)
		goto fail;
	for (i = 0; i < cfg->n_ifaces && i <= UINT8_MAX; i++)
		if (cfg->iface_names[i] != NULL &&
		    flowlog_set_iface(fl, i, cfg->iface_names[i]) != 0)
			goto fail;

	/*
	 * The pool: one chunk filling, q_cap queued, one compressing.  So
	 * whenever the queue has room, a free chunk exists.
	 */
	fl->q_cap = cfg->queue_chunks;
	fl->n_chunks = fl->q_cap + 2;
	fl->q = calloc(fl->q_cap, sizeof(*fl->q));
	fl->free_chunks = calloc(fl->n_chunks, sizeof(*fl->free_chunks));
	fl->chunks = calloc(fl->n_chunks, sizeof(*fl->chunks));
	if (fl->q == NULL || fl->free_chunks == NULL || fl->chunks == NULL)
		goto fail;
	for (i = 0; i < fl->n_chunks; i++) {
		if ((fl->chunks[i].buf = malloc(cfg->chunk_size)) == NULL)
			goto fail;
		fl->free_chunks[fl->n_free++] = &fl->chunks[i];
	}
	fl->cur = fl->free_chunks[--fl->n_free];
	cur_reset(fl->cur);

	if ((fl->gz = gze_new()) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	fl->obuf_cap = FLOWLOG_HDR_LEN + 8 + gze_bound(cfg->chunk_size);
	if ((fl->obuf = malloc(fl->obuf_cap)) == NULL)
		goto fail;
	if (scan_dir(fl) != 0)
		goto fail;
	fl->ws.disk_bytes = fl->cat_bytes;
	fl->ws.disk_files = fl->n_cat;
	fl->pub = fl->ws;

	/* The writer takes no signals: the loop owns them (signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&fl->thr, NULL, writer_main, fl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		errno = e;
		goto fail;
	}
	fl->has_thr = 1;
	return fl;
fail:
	e = errno;
	fl_free(fl);
	errno = e;
	return NULL;
}

void
flowlog_close(struct flowlog *fl)
{
	if (fl == NULL)
		return;
	if (fl->cur->n_rec > 0) {
		fl->cs.n_flushes++;
		handoff(fl, 1);
	}
	pthread_mutex_lock(&fl->mu);
	fl->quit = 1;
	pthread_cond_signal(&fl->cv_work);
	pthread_mutex_unlock(&fl->mu);
	if (fl->has_thr)
		pthread_join(fl->thr, NULL);
	fl_free(fl);
}
