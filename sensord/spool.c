/*
 * spool.c: per-host rotating gzip pcap files under hard caps (spool.h).
 *
 * What it owns: the catalogue (every closed file of every host directory,
 * with its size, oldest first), the open captures (one per slot: the .part
 * file, its SHA-256 state, its member index, the chunk being filled and the
 * members being compressed), and the pending sidecar retries.  One thread
 * owns all of it; the counters are atomics so the daemon may read them.
 *
 * Data path.  A packet becomes a 16-byte pcap record appended to the
 * capture's chunk (raw pcap bytes; the first chunk of a file starts with
 * the 24-byte global header).  A chunk is sealed when it reaches
 * chunk_bytes (always whole records) or is older than flush_ns at a tick,
 * compressed into one gzip member (zout, maybe on a pool thread) and
 * written with pwrite at the file's current end.  The SHA-256 of the file
 * and the member index (offset, length, first/last time, packets) are
 * updated from the exact bytes written, so the file is never read back.
 * A file starts with a metadata member (an empty gzip member whose FCOMMENT
 * holds host, trigger and the previous file's hash), so even a file cut by
 * a crash names its provenance and links the chain.
 *
 * Accounting.  Before a record is accepted the capture's worst case is
 * projected: bytes on disk + the zout_bound() of every member not yet
 * written + the bound of the chunk with this record added + a bound of the
 * sidecar.  That worst case, not the current size, is checked against the
 * file, host and global caps and the free-space floor, so no write can
 * ever pass a cap.  The slack is the difference between the bound and the
 * real compressed size of the members not yet written: before rotating or
 * deleting we first wait for those members, so at decision time the slack
 * is at most one member (the chunk being filled, counted uncompressed).
 * The file cap counts the .pcap.gz alone; the host and global caps count
 * files and sidecars (and quarantined leftovers, which go first: they are
 * the oldest), so `du` of a host directory never exceeds its cap.
 * Disk usage comes from the catalogue, seeded by the start-up scan and
 * kept by our own writes and deletes; statfs(2) is read at most once per
 * written chunk or tick (never after each delete: it may lag behind
 * unlink), and between reads the estimate moves by what we wrote and freed.
 *
 * Closing a file: write the remaining members, fdatasync, rename .part to
 * .pcap.gz, fsync the directory, then write the sidecar atomically (tmp,
 * fsync, rename, fsync the directory).  A failed sidecar is kept in memory
 * and retried at each tick; after a crash the start-up scan rebuilds it.
 *
 * Start-up: each host directory is scanned; a .part is verified member by
 * member (inflate, then every record parsed with pcapfmt), truncated after
 * the last whole member, renamed and given a sidecar marked recovered; a
 * file that does not even start right goes to quarantine/.  Nothing already
 * closed is ever deleted except by a cap.
 *
 * Cost per packet: the projection (a few additions), one memcpy into the
 * chunk.  Per chunk: one compression, one pwrite, SHA-256 of the output,
 * at most one statfs.  Per file: fdatasync of the data, fsync of the
 * sidecar, three directory fsyncs (create, rename, sidecar rename).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cursor.h"
#include "pcapfmt.h"
#include "spool.h"
#include "util.h"
#include "zout.h"

/* The Makefile defines it; its fuzz build does not. */
#ifndef SENSORD_VERSION
#define SENSORD_VERSION "unknown"
#endif

#define SP_QMAX 16		      /* members in flight per capture */
#define SP_FILE_MAX 64		      /* a file name, with suffixes */
#define SP_REL_MAX (SP_FILE_MAX + 16) /* "quarantine/" + a name */
#define SP_META_MAX 1536	      /* metadata comment text */
#define SC_FIXED_MAX 4096	      /* sidecar without its member index */
#define SC_MEMBER_MAX 128	      /* one index line: 5 x 20 digits + 16 */
#define SP_CHUNK_MIN 4096
#define SP_FILL_INIT (64u * 1024)
#define SP_PENDING_MAX 256 /* sidecars kept for a retry */
/* Largest raw member we ever write, and what recovery accepts. */
#define SP_RAW_MAX (SPOOL_CHUNK_MAX + PCAPFMT_MAX_SNAPLEN + 64)

/* glibc 2.36 lacks it (STYLE.md 14.4). */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar) \
	for ((var) = TAILQ_FIRST(head); \
	     (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1); \
	     (var) = (tvar))
#endif

#define CTR_ADD(x, n) atomic_fetch_add_explicit(&(x), (n), memory_order_relaxed)
#define CTR_SUB(x, n) atomic_fetch_sub_explicit(&(x), (n), memory_order_relaxed)
#define CTR_SET(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)
#define CTR_GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* A closed file in the catalogue. */
struct sp_file {
	TAILQ_ENTRY(sp_file) entry; /* in its host's list, by id */
	uint64_t id;
	uint64_t bytes;		   /* file + sidecar (+ pending sidecar) */
	char	 name[SP_REL_MAX]; /* relative to the host dir;
						 * quarantine/... for those */
	char	*pending_json;	   /* sidecar to retry, or NULL */
	size_t	 pending_len;
};
TAILQ_HEAD(sp_filelist, sp_file);

/* A host directory. */
struct sp_host {
	uint8_t		   addr[16];
	char		   dir[ADDR_STRLEN];
	struct sp_filelist files;		 /* oldest (lowest id) first */
	uint64_t	   bytes;		 /* closed files of this host */
	uint8_t		   last_sha[SHA256_LEN]; /* chain: newest file */
	char		   last_name[SP_FILE_MAX];
	int		   has_last;
	int		   is_chain_loaded;
	struct sp_cap	  *cap; /* open capture, or NULL */
};

struct sp_idx {
	uint64_t off, len, first_ns, last_ns, pkts;
};

/* A chunk: raw pcap bytes, then (once sealed) its compressed member. */
struct sp_member {
	uint8_t		 *raw;
	size_t		  raw_len, raw_cap;
	uint8_t		 *gz;
	struct zout_job	  job;
	uint64_t	  first_ns, last_ns, t0_ns;
	uint64_t	  pkts;
	uint64_t	  sealed_tick; /* sp->n_ticks when sealed */
	size_t		  gz_cap;
	struct sp_member *next_free;
};

/* What a file's metadata member says. */
struct sp_meta {
	uint64_t	     file_id;
	struct spool_trigger trig;
	int		     has_trig;
	uint8_t		     prev_sha[SHA256_LEN];
	char		     prev_file[SP_FILE_MAX];
	int		     has_prev;
	uint32_t	     linktype, snaplen;
	int		     is_nsec;
};

/* An open capture (one slot). */
struct sp_cap {
	TAILQ_ENTRY(sp_cap) entry;
	struct sp_host	    *h;
	uint32_t	     slot;
	struct spool_limits  lim;
	struct spool_trigger trig;
	/* The current file; fd < 0 when none is open. */
	int	       fd;
	int	       hdfd; /* host directory */
	uint64_t       id;
	char	       name[SP_FILE_MAX]; /* final name, no .part */
	struct sp_meta meta;
	uint64_t       rot_deadline;
	uint64_t       disk;	  /* bytes written to the .part */
	uint64_t       pkts, raw; /* written to the .part */
	uint64_t       first_ns, last_ns;
	struct sha256  sha;
	struct sp_idx *idx;
	size_t	       n_idx, cap_idx;
	int	       is_dirty; /* written since the last fdatasync */
	uint64_t       last_sync_ns;
	int	       needs_ghdr; /* next chunk starts the pcap stream */
	/* Members: the one being filled, then sealed ones in file order. */
	struct sp_member *fill;
	struct sp_member *q[SP_QMAX];
	size_t		  q_head, q_n;
	uint64_t	  reserved; /* worst-case bytes (see top) */
	/* Suspension. */
	int	       is_suspended;
	enum spool_why why;
	int	       is_write_failed; /* a member waits for a retry */
	int	       may_probe;	/* try one real write (write errors) */
	uint64_t       drop_at_suspend;
	char	       meta_text[SP_META_MAX];
	size_t	       meta_len;
};
TAILQ_HEAD(sp_caplist, sp_cap);

struct sp_ctr {
	_Atomic uint64_t pkts_written, bytes_raw, drop_suspended, drop_toobig,
	    drop_badts, drop_write, files_closed;
	_Atomic int is_open, is_suspended, why;
};

struct spool {
	struct spool_config cfg;
	uint64_t	    n_ticks; /* spool_tick() calls */
	/* Written members kept with their buffers for the next chunks: a
	 * chunk's buffers are 2 MiB, and malloc'ing them per chunk cost a
	 * realloc copy per doubling and fresh zeroed pages each time. */
	struct sp_member	       *free_members;
	size_t				n_free_members;
	int				capdfd; /* STATEDIR/captures */
	struct sp_host		      **hosts;
	size_t				n_hosts, cap_hosts;
	struct sp_cap		      **slots;
	struct sp_caplist		open;
	struct sp_ctr		       *ctr;
	struct zout		       *z;
	struct libdeflate_decompressor *dec;
	uint64_t			next_id;
	uint64_t			closed_bytes; /* catalogue total */
	uint64_t open_reserved; /* sum of the captures' reserved */
	uint64_t open_disk;	/* sum of the captures' disk */
	/* Free-space estimate: statfs, minus written, plus freed since. */
	uint64_t avail;
	uint64_t written_since;
	uint64_t freed_since;
	int	 is_avail_stale;
	size_t	 n_pending;
	/* Sealed members not yet written, all captures: bounds the memory
	 * the pool can hold (each is up to 2 x chunk_bytes). */
	size_t n_inflight;
	size_t inflight_max;
	/* Counters. */
	_Atomic uint64_t st_bytes_on_disk, st_files, st_hosts, st_closed,
	    st_deleted, st_write_errors, st_recovered, st_quarantined,
	    st_statfs, st_pending, st_inflight_peak;
};

static void cap_recalc(struct spool *, struct sp_cap *);
static int  cap_pump(struct spool *, struct sp_cap *, int);
static void cap_close_file(struct spool *, struct sp_cap *, enum spool_why);

/* ---- small helpers ---------------------------------------------------- */

void
spool_config_defaults(struct spool_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_slots = 1024;
	cfg->chunk_bytes = 1u << 20;
	cfg->flush_ns = 2000000000ull;
	cfg->sync_ns = 10000000000ull;
	cfg->zthreads = 0;
}

void
spool_limits_defaults(struct spool_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->file_size = 64ull << 20;
	lim->host_cap = 512ull << 20;
	lim->rotate_ns = 3600ull * 1000000000u;
	lim->snaplen = 262144;
	lim->linktype = 1;
	lim->level = 1;
}

const char *
spool_why_name(enum spool_why why)
{
	switch (why) {
	case SPOOL_WHY_NONE:
		return "none";
	case SPOOL_WHY_ROTATE_SIZE:
		return "rotate_size";
	case SPOOL_WHY_ROTATE_TIME:
		return "rotate_time";
	case SPOOL_WHY_CLOSE:
		return "close";
	case SPOOL_WHY_HOST_CAP:
		return "host_cap";
	case SPOOL_WHY_GLOBAL_CAP:
		return "global_cap";
	case SPOOL_WHY_MIN_FREE:
		return "min_free";
	case SPOOL_WHY_WRITE_ERROR:
		return "write_error";
	}
	return "?";
}

const char *
spool_ev_name(enum spool_ev_type type)
{
	switch (type) {
	case SPOOL_EV_FILE_CLOSED:
		return "file_closed";
	case SPOOL_EV_FILE_DELETED:
		return "file_deleted";
	case SPOOL_EV_SUSPENDED:
		return "suspended";
	case SPOOL_EV_RESUMED:
		return "resumed";
	case SPOOL_EV_WRITE_ERROR:
		return "write_error";
	case SPOOL_EV_RECOVERED:
		return "recovered";
	case SPOOL_EV_QUARANTINED:
		return "quarantined";
	}
	return "?";
}

void
spool_host_dirname(const uint8_t addr[16], char *buf, size_t size)
{
	char   a[ADDR_STRLEN];
	size_t i;

	addr_fmt(addr, a);
	/* ':' is legal on Linux but breaks scp/rsync host:path and tar. */
	for (i = 0; a[i] != '\0'; i++)
		if (a[i] == ':')
			a[i] = '_';
	util_strlcpy(buf, a, size);
}

int
spool_dirname_addr(const char *name, uint8_t addr[16])
{
	char   a[ADDR_STRLEN], back[ADDR_STRLEN];
	size_t i;

	if (strlen(name) >= sizeof(a))
		return -1;
	for (i = 0; name[i] != '\0'; i++)
		a[i] = name[i] == '_' ? ':' : name[i];
	a[i] = '\0';
	if (addr_parse(a, addr) != 0)
		return -1;
	spool_host_dirname(addr, back, sizeof(back));
	return strcmp(back, name) == 0 ? 0 : -1;
}

static void
fmt_iso_ns(uint64_t ns, char *buf, size_t size)
{
	time_t	  t = (time_t)(ns / 1000000000u);
	struct tm tm;
	char	  d[32];

	gmtime_r(&t, &tm);
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%09uZ", d, (unsigned)(ns % 1000000000u));
}

/* "20261129T180000Z_0000000042.pcap.gz" */
static void
file_name(uint64_t ts_ns, uint64_t id, char *buf, size_t size)
{
	time_t	  t = (time_t)(ts_ns / 1000000000u);
	struct tm tm;
	char	  d[32];

	gmtime_r(&t, &tm);
	strftime(d, sizeof(d), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, size, "%s_%010llu.pcap.gz", d, (unsigned long long)id);
}

/*
 * Parse a file name we make; returns the id, with *kind 0 for .pcap.gz,
 * 1 for .pcap.gz.part, 2 for .pcap.gz.json, 3 for .json.tmp; -1 if not ours.
 */
static int
parse_name(const char *s, uint64_t *id, int *kind)
{
	static const char *sfx[] = {
	    ".pcap.gz", ".pcap.gz.part", ".pcap.gz.json", ".pcap.gz.json.tmp"};
	const char *p = s;
	uint64_t    v = 0;
	int	    i, nd = 0;

	for (i = 0; i < 16; i++) {
		if (i == 8	  ? *p != 'T'
			: i == 15 ? *p != 'Z'
				  : (*p < '0' || *p > '9'))
			return -1;
		p++;
	}
	if (*p++ != '_')
		return -1;
	for (; *p >= '0' && *p <= '9' && nd < 19; p++, nd++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (nd == 0)
		return -1;
	for (i = 3; i >= 0; i--)
		if (strcmp(p, sfx[i]) == 0) {
			*id = v;
			*kind = i;
			return 0;
		}
	return -1;
}

static int
write_at(struct spool *sp, int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;
	ssize_t	       n;

	while (len > 0) {
		if (sp->cfg.write_fn != NULL)
			n = sp->cfg.write_fn(sp->cfg.io_arg, fd, p, len, off);
		else
			n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int
get_avail(struct spool *sp, uint64_t *avail)
{
	struct statfs sf;

	CTR_ADD(sp->st_statfs, 1);
	if (sp->cfg.avail_fn != NULL)
		return sp->cfg.avail_fn(sp->cfg.io_arg, sp->capdfd, avail);
	if (fstatfs(sp->capdfd, &sf) != 0)
		return -1;
	*avail = (uint64_t)sf.f_bavail * (uint64_t)sf.f_bsize;
	return 0;
}

static void
emit(struct spool *sp, struct spool_event *ev)
{
	if (sp->cfg.event_fn != NULL)
		sp->cfg.event_fn(sp->cfg.event_arg, ev);
}

static void
ev_init(struct spool_event *ev, enum spool_ev_type type, enum spool_why why,
    const struct sp_host *h, const struct sp_cap *c)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->why = why;
	ev->slot = c != NULL ? c->slot : SPOOL_NO_SLOT;
	if (h != NULL)
		memcpy(ev->addr, h->addr, 16);
}

static void
ev_name(struct spool_event *ev, const struct sp_host *h, const char *file)
{
	snprintf(ev->name, sizeof(ev->name), "%s/%s", h->dir, file);
}

/* Keep printable ASCII; anything else becomes '?' (also drops newlines). */
static void
sanitize(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	if (size > 0)
		dst[i] = '\0';
}

/* Append a JSON string literal (our text is printable ASCII already). */
static void
json_str(char *buf, size_t size, size_t *off, const char *s)
{
	size_t o = *off;

	if (o + 1 < size)
		buf[o++] = '"';
	for (; *s != '\0' && o + 3 < size; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	if (o + 1 < size)
		buf[o++] = '"';
	buf[o < size ? o : size - 1] = '\0';
	*off = o;
}

static void json_fmt(char *buf, size_t size, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
json_fmt(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int	n;

	if (*off >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

static void
json_num(char *buf, size_t size, size_t *off, double v)
{
	if (isfinite(v))
		json_fmt(buf, size, off, "%.17g", v);
	else
		json_fmt(buf, size, off, "null");
}

static int
hex_decode(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	int    hi, lo;

	for (i = 0; i < n; i++) {
		hi = s[2 * i];
		lo = s[2 * i + 1];
		hi = hi >= '0' && hi <= '9'  ? hi - '0'
		    : hi >= 'a' && hi <= 'f' ? hi - 'a' + 10
					     : -1;
		lo = lo >= '0' && lo <= '9'  ? lo - '0'
		    : lo >= 'a' && lo <= 'f' ? lo - 'a' + 10
					     : -1;
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
fsync_dir(int dfd)
{
	return fsync(dfd);
}

static int
open_hostdir(struct spool *sp, const struct sp_host *h)
{
	return openat(sp->capdfd, h->dir,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* ---- catalogue --------------------------------------------------------- */

static struct sp_host *
host_find(struct spool *sp, const uint8_t addr[16])
{
	size_t i;

	for (i = 0; i < sp->n_hosts; i++)
		if (memcmp(sp->hosts[i]->addr, addr, 16) == 0)
			return sp->hosts[i];
	return NULL;
}

static struct sp_host *
host_add(struct spool *sp, const uint8_t addr[16])
{
	struct sp_host *h, **nh;

	if (sp->n_hosts == sp->cap_hosts) {
		size_t n = sp->cap_hosts ? sp->cap_hosts * 2 : 16;

		if ((nh = realloc(sp->hosts, n * sizeof(*nh))) == NULL)
			return NULL;
		sp->hosts = nh;
		sp->cap_hosts = n;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	memcpy(h->addr, addr, 16);
	spool_host_dirname(addr, h->dir, sizeof(h->dir));
	TAILQ_INIT(&h->files);
	sp->hosts[sp->n_hosts++] = h;
	CTR_SET(sp->st_hosts, sp->n_hosts);
	return h;
}

/* Insert keeping the list sorted by id (usually appends). */
static void
cat_insert(struct spool *sp, struct sp_host *h, struct sp_file *f)
{
	struct sp_file *it;

	TAILQ_FOREACH_REVERSE(it, &h->files, sp_filelist, entry)
	if (it->id <= f->id)
		break;
	if (it == NULL)
		TAILQ_INSERT_HEAD(&h->files, f, entry);
	else
		TAILQ_INSERT_AFTER(&h->files, it, f, entry);
	h->bytes += f->bytes;
	sp->closed_bytes += f->bytes;
	CTR_ADD(sp->st_files, 1);
	CTR_ADD(sp->st_bytes_on_disk, f->bytes);
	if (f->id >= sp->next_id)
		sp->next_id = f->id + 1;
}

static struct sp_file *
cat_new(const char *name, uint64_t id, uint64_t bytes)
{
	struct sp_file *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	util_strlcpy(f->name, name, sizeof(f->name));
	f->id = id;
	f->bytes = bytes;
	return f;
}

/* Remove a closed file (and its sidecar) for a cap; audited by an event. */
static void
cat_delete(
    struct spool *sp, struct sp_host *h, struct sp_file *f, enum spool_why why)
{
	struct spool_event ev;
	char		   side[SP_REL_MAX + 8];
	int		   dfd;

	dfd = open_hostdir(sp, h);
	if (dfd >= 0) {
		/* The data first: a sidecar left alone is an orphan the
		 * next start-up removes, a file without sidecar is not. */
		if (unlinkat(dfd, f->name, 0) != 0 && errno != ENOENT)
			CTR_ADD(sp->st_write_errors, 1);
		snprintf(side, sizeof(side), "%s.json", f->name);
		(void)unlinkat(dfd, side, 0);
		close(dfd);
	}
	TAILQ_REMOVE(&h->files, f, entry);
	h->bytes -= f->bytes;
	sp->closed_bytes -= f->bytes;
	sp->freed_since += f->bytes;
	CTR_SUB(sp->st_files, 1);
	CTR_SUB(sp->st_bytes_on_disk, f->bytes);
	CTR_ADD(sp->st_deleted, 1);
	if (f->pending_json != NULL) {
		free(f->pending_json);
		sp->n_pending--;
		CTR_SET(sp->st_pending, sp->n_pending);
	}
	ev_init(&ev, SPOOL_EV_FILE_DELETED, why, h, h->cap);
	ev.file_id = f->id;
	ev_name(&ev, h, f->name);
	ev.bytes_disk = f->bytes;
	free(f);
	emit(sp, &ev);
}

/*
 * Delete the oldest closed file: of host h, or of any host (h NULL).
 * -1 when there is none.
 */
static int
cat_delete_oldest(struct spool *sp, struct sp_host *h, enum spool_why why)
{
	struct sp_file *f, *best = NULL;
	struct sp_host *bh = NULL;
	size_t		i;

	if (h != NULL) {
		best = TAILQ_FIRST(&h->files);
		bh = h;
	} else {
		for (i = 0; i < sp->n_hosts; i++) {
			f = TAILQ_FIRST(&sp->hosts[i]->files);
			if (f != NULL && (best == NULL || f->id < best->id)) {
				best = f;
				bh = sp->hosts[i];
			}
		}
	}
	if (best == NULL)
		return -1;
	cat_delete(sp, bh, best, why);
	return 0;
}

/* ---- metadata member and sidecar -------------------------------------- */

static void
meta_render(const struct sp_host *h, const struct sp_meta *m, char *buf,
    size_t size, size_t *len)
{
	char   hex[SHA256_HEXLEN];
	size_t o = 0;

	json_fmt(buf, size, &o,
	    "sensord-capture 1\nversion=%s\n"
	    "file_id=%llu\nhost=%s\n",
	    SENSORD_VERSION, (unsigned long long)m->file_id, h->dir);
	if (m->has_trig)
		json_fmt(buf, size, &o,
		    "event_id=%llu\nmetric=%s\n"
		    "value=%.17g\nthreshold=%.17g\nreason=%s\n",
		    (unsigned long long)m->trig.event_id, m->trig.metric,
		    m->trig.value, m->trig.threshold, m->trig.reason);
	if (m->has_prev) {
		sha256_hex(m->prev_sha, hex);
		json_fmt(buf, size, &o, "prev_sha256=%s\nprev_file=%s\n", hex,
		    m->prev_file);
	}
	json_fmt(buf, size, &o, "link_type=%u\nsnaplen=%u\ntstamp=%s\n",
	    m->linktype, m->snaplen, m->is_nsec ? "nsec" : "usec");
	*len = o < size ? o : size - 1;
}

/* Parse "key=value" lines of a metadata comment through a cursor. */
static void
meta_parse(const uint8_t *p, size_t n, struct sp_meta *m)
{
	struct cur c;
	char	   line[SP_META_MAX], *eq, *v;
	size_t	   k;

	memset(m, 0, sizeof(*m));
	cur_init(&c, p, n);
	while (cur_left(&c) > 0) {
		for (k = 0; cur_left(&c) > 0;) {
			uint8_t ch = cur_u8(&c);

			if (ch == '\n')
				break;
			if (k + 1 < sizeof(line))
				line[k++] =
				    ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
		}
		line[k] = '\0';
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		if (strcmp(line, "file_id") == 0)
			m->file_id = strtoull(v, NULL, 10);
		else if (strcmp(line, "event_id") == 0) {
			m->trig.event_id = strtoull(v, NULL, 10);
			m->has_trig = 1;
		} else if (strcmp(line, "metric") == 0)
			util_strlcpy(m->trig.metric, v, sizeof(m->trig.metric));
		else if (strcmp(line, "value") == 0)
			m->trig.value = strtod(v, NULL);
		else if (strcmp(line, "threshold") == 0)
			m->trig.threshold = strtod(v, NULL);
		else if (strcmp(line, "reason") == 0)
			util_strlcpy(m->trig.reason, v, sizeof(m->trig.reason));
		else if (strcmp(line, "prev_sha256") == 0 && strlen(v) == 64 &&
		    hex_decode(v, m->prev_sha, SHA256_LEN) == 0)
			m->has_prev = 1;
		else if (strcmp(line, "prev_file") == 0)
			util_strlcpy(m->prev_file, v, sizeof(m->prev_file));
		else if (strcmp(line, "link_type") == 0)
			m->linktype = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(line, "snaplen") == 0)
			m->snaplen = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(line, "tstamp") == 0)
			m->is_nsec = strcmp(v, "nsec") == 0;
	}
}

/* Upper bound of a sidecar with n member index entries. */
static uint64_t
sc_bound(size_t n_members)
{
	return SC_FIXED_MAX + (uint64_t)n_members * SC_MEMBER_MAX;
}

/* Everything a sidecar says about one file. */
struct sp_summary {
	const char	    *name;
	uint64_t	     file_id;
	int		     is_recovered;
	struct sp_meta	     meta;
	int		     has_meta;
	uint64_t	     pkts, raw, disk, first_ns, last_ns;
	uint8_t		     sha[SHA256_LEN];
	const struct sp_idx *idx;
	size_t		     n_idx;
};

/* Render a sidecar into a malloc'd buffer; NULL on allocation failure. */
static char *
sc_render(const struct sp_host *h, const struct sp_summary *s, size_t *len)
{
	size_t		      size = (size_t)sc_bound(s->n_idx), o = 0, i;
	char		      hex[SHA256_HEXLEN], t1[48], t2[48], *b;
	const struct sp_meta *m = &s->meta;

	if ((b = malloc(size)) == NULL)
		return NULL;
	json_fmt(b, size, &o,
	    "{\n  \"format\": \"sensord-capture/1\",\n"
	    "  \"sensord_version\": \"%s\",\n  \"file\": ",
	    SENSORD_VERSION);
	json_str(b, size, &o, s->name);
	json_fmt(b, size, &o, ",\n  \"file_id\": %llu,\n  \"host\": ",
	    (unsigned long long)s->file_id);
	json_str(b, size, &o, h->dir);
	json_fmt(b, size, &o, ",\n  \"recovered\": %s,\n  \"trigger\": ",
	    s->is_recovered ? "true" : "false");
	if (s->has_meta && m->has_trig) {
		json_fmt(b, size, &o, "{\"event_id\": %llu, \"metric\": ",
		    (unsigned long long)m->trig.event_id);
		json_str(b, size, &o, m->trig.metric);
		json_fmt(b, size, &o, ", \"value\": ");
		json_num(b, size, &o, m->trig.value);
		json_fmt(b, size, &o, ", \"threshold\": ");
		json_num(b, size, &o, m->trig.threshold);
		json_fmt(b, size, &o, ", \"reason\": ");
		json_str(b, size, &o, m->trig.reason);
		json_fmt(b, size, &o, "}");
	} else
		json_fmt(b, size, &o, "null");
	fmt_iso_ns(s->first_ns, t1, sizeof(t1));
	fmt_iso_ns(s->last_ns, t2, sizeof(t2));
	sha256_hex(s->sha, hex);
	json_fmt(b, size, &o,
	    ",\n  \"first_packet\": \"%s\",\n"
	    "  \"last_packet\": \"%s\",\n  \"first_ns\": %llu,\n"
	    "  \"last_ns\": %llu,\n  \"packets\": %llu,\n"
	    "  \"bytes_raw\": %llu,\n  \"bytes_gz\": %llu,\n"
	    "  \"sha256\": \"%s\",\n  \"prev_sha256\": ",
	    t1, t2, (unsigned long long)s->first_ns,
	    (unsigned long long)s->last_ns, (unsigned long long)s->pkts,
	    (unsigned long long)s->raw, (unsigned long long)s->disk, hex);
	if (s->has_meta && m->has_prev) {
		sha256_hex(m->prev_sha, hex);
		json_fmt(b, size, &o, "\"%s\",\n  \"prev_file\": ", hex);
		json_str(b, size, &o, m->prev_file);
	} else
		json_fmt(b, size, &o, "null,\n  \"prev_file\": null");
	if (s->has_meta)
		json_fmt(b, size, &o,
		    ",\n  \"link_type\": %u,\n"
		    "  \"snaplen\": %u,\n  \"tstamp\": \"%s\"",
		    m->linktype, m->snaplen, m->is_nsec ? "nsec" : "usec");
	json_fmt(b, size, &o, ",\n  \"members\": [");
	for (i = 0; i < s->n_idx; i++)
		json_fmt(b, size, &o, "%s\n    [%llu, %llu, %llu, %llu, %llu]",
		    i ? "," : "", (unsigned long long)s->idx[i].off,
		    (unsigned long long)s->idx[i].len,
		    (unsigned long long)s->idx[i].first_ns,
		    (unsigned long long)s->idx[i].last_ns,
		    (unsigned long long)s->idx[i].pkts);
	json_fmt(b, size, &o, "\n  ]\n}\n");
	if (o >= size) { /* the bound is wrong: a bug, not input */
		free(b);
		errno = EOVERFLOW;
		return NULL;
	}
	*len = o;
	return b;
}

/* tmp, fsync, rename, fsync the directory. */
static int
sc_write(
    struct spool *sp, int dfd, const char *file, const char *json, size_t len)
{
	char tmp[SP_FILE_MAX + 16], fin[SP_FILE_MAX + 8];
	int  fd, saved;

	snprintf(tmp, sizeof(tmp), "%s.json.tmp", file);
	snprintf(fin, sizeof(fin), "%s.json", file);
	fd = openat(dfd, tmp,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -1;
	if (write_at(sp, fd, json, len, 0) != 0 || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		(void)unlinkat(dfd, tmp, 0);
		errno = saved;
		return -1;
	}
	close(fd);
	if (renameat(dfd, tmp, dfd, fin) != 0) {
		saved = errno;
		(void)unlinkat(dfd, tmp, 0);
		errno = saved;
		return -1;
	}
	(void)fsync_dir(dfd);
	return 0;
}

/* Retry the sidecars that failed to be written. */
static void
sc_retry(struct spool *sp)
{
	struct sp_file *f;
	size_t		i;
	int		dfd;

	if (sp->n_pending == 0)
		return;
	for (i = 0; i < sp->n_hosts; i++) {
		struct sp_host *h = sp->hosts[i];

		dfd = -1;
		TAILQ_FOREACH(f, &h->files, entry)
		{
			if (f->pending_json == NULL)
				continue;
			if (dfd < 0 && (dfd = open_hostdir(sp, h)) < 0)
				break;
			if (sc_write(sp, dfd, f->name, f->pending_json,
				f->pending_len) == 0) {
				free(f->pending_json);
				f->pending_json = NULL;
				sp->n_pending--;
			}
		}
		if (dfd >= 0)
			close(dfd);
	}
	CTR_SET(sp->st_pending, sp->n_pending);
}

/*
 * Read the newest file's hash for the chain: from its sidecar's "sha256"
 * line (our own format, read through a cursor), else by hashing the file.
 */
static void
chain_load(struct spool *sp, struct sp_host *h)
{
	static const char key[] = "\n  \"sha256\": \"";
	struct sp_file	 *f;
	char		  side[SP_REL_MAX + 8], hex[65];
	uint8_t		  buf[SC_FIXED_MAX];
	struct sha256	  s;
	struct cur	  c;
	ssize_t		  n;
	int		  dfd, fd;

	h->is_chain_loaded = 1;
	TAILQ_FOREACH_REVERSE(f, &h->files, sp_filelist, entry)
	if (strncmp(f->name, "quarantine/", 11) != 0)
		break;
	if (f == NULL)
		return;
	if ((dfd = open_hostdir(sp, h)) < 0)
		return;
	snprintf(side, sizeof(side), "%s.json", f->name);
	fd = openat(dfd, side, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
		cur_init(&c, buf, n > 0 ? (size_t)n : 0);
		while (cur_left(&c) >= sizeof(key) - 1 + 64) {
			if (memcmp(cur_ptr(&c), key, sizeof(key) - 1) == 0) {
				(void)cur_skip(&c, sizeof(key) - 1);
				(void)cur_bytes(&c, hex, 64);
				hex[64] = '\0';
				if (hex_decode(hex, h->last_sha, SHA256_LEN) ==
				    0) {
					h->has_last = 1;
					util_strlcpy(h->last_name, f->name,
					    sizeof(h->last_name));
				}
				break;
			}
			(void)cur_skip(&c, 1);
		}
	}
	if (!h->has_last &&
	    (fd = openat(dfd, f->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >=
		0) {
		sha256_init(&s);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			sha256_update(&s, buf, (size_t)n);
		close(fd);
		if (n == 0) {
			sha256_final(&s, h->last_sha);
			h->has_last = 1;
			util_strlcpy(
			    h->last_name, f->name, sizeof(h->last_name));
		}
	}
	close(dfd);
}

/* ---- members ------------------------------------------------------------ */

static void
member_free(struct sp_member *m)
{
	if (m == NULL)
		return;
	free(m->raw);
	free(m->gz);
	free(m);
}

/* Done with m: keep it (buffers and all) for a later chunk, or free it. */
static void
member_put(struct spool *sp, struct sp_member *m)
{
	uint8_t *raw, *gz;
	size_t	 raw_cap, gz_cap;

	if (m == NULL)
		return;
	if (sp->n_free_members >= sp->inflight_max + 2) {
		member_free(m);
		return;
	}
	raw = m->raw, gz = m->gz, raw_cap = m->raw_cap, gz_cap = m->gz_cap;
	memset(m, 0, sizeof(*m));
	m->raw = raw, m->gz = gz, m->raw_cap = raw_cap, m->gz_cap = gz_cap;
	m->next_free = sp->free_members;
	sp->free_members = m;
	sp->n_free_members++;
}

static struct sp_member *
member_get(struct spool *sp)
{
	struct sp_member *m = sp->free_members;

	if (m == NULL)
		return calloc(1, sizeof(*m));
	sp->free_members = m->next_free;
	sp->n_free_members--;
	m->next_free = NULL;
	return m;
}

static void
member_pool_free(struct spool *sp)
{
	struct sp_member *m;

	while ((m = sp->free_members) != NULL) {
		sp->free_members = m->next_free;
		member_free(m);
	}
	sp->n_free_members = 0;
}

/* Worst case of the capture's current file with `add` raw bytes more. */
static uint64_t
cap_file_proj(const struct sp_cap *c, size_t add, int is_new)
{
	uint64_t p;
	size_t	 i, fill;

	if (is_new)
		return zout_meta_size(c->meta_len) +
		    zout_bound(PCAPFMT_GHDR_LEN + add);
	p = c->disk;
	for (i = 0; i < c->q_n; i++)
		p += zout_bound(c->q[(c->q_head + i) % SP_QMAX]->raw_len);
	fill = (c->fill != NULL ? c->fill->raw_len : 0) + add +
	    (c->needs_ghdr && add > 0 &&
			(c->fill == NULL || c->fill->raw_len == 0)
		    ? PCAPFMT_GHDR_LEN
		    : 0);
	if (fill > 0)
		p += zout_bound(fill);
	return p;
}

static size_t
cap_n_members(const struct sp_cap *c, int is_new, size_t add)
{
	if (is_new)
		return 1;
	return c->n_idx + c->q_n +
	    ((c->fill != NULL && c->fill->raw_len > 0) || add > 0 ? 1 : 0);
}

/* Recompute the capture's worst case and the spool's sum of them. */
static void
cap_recalc(struct spool *sp, struct sp_cap *c)
{
	uint64_t r = 0;

	if (c->fd >= 0)
		r = cap_file_proj(c, 0, 0) + sc_bound(cap_n_members(c, 0, 0));
	sp->open_reserved = sp->open_reserved - c->reserved + r;
	c->reserved = r;
}

static void
cap_suspend(struct spool *sp, struct sp_cap *c, enum spool_why why, int err)
{
	struct sp_ctr	  *k = &sp->ctr[c->slot];
	struct spool_event ev;

	if (c->is_suspended)
		return;
	c->is_suspended = 1;
	c->why = why;
	c->drop_at_suspend = CTR_GET(k->drop_suspended);
	CTR_SET(k->is_suspended, 1);
	CTR_SET(k->why, (int)why);
	ev_init(&ev, SPOOL_EV_SUSPENDED, why, c->h, c);
	ev.err = err;
	emit(sp, &ev);
}

static void
cap_resume(struct spool *sp, struct sp_cap *c)
{
	struct sp_ctr	  *k = &sp->ctr[c->slot];
	struct spool_event ev;

	if (!c->is_suspended)
		return;
	ev_init(&ev, SPOOL_EV_RESUMED, c->why, c->h, c);
	ev.dropped = CTR_GET(k->drop_suspended) - c->drop_at_suspend;
	c->is_suspended = 0;
	c->is_write_failed = 0;
	c->why = SPOOL_WHY_NONE;
	CTR_SET(k->is_suspended, 0);
	CTR_SET(k->why, 0);
	emit(sp, &ev);
}

static int
idx_add(struct sp_idx **idx, size_t *n, size_t *cap, const struct sp_idx *e)
{
	struct sp_idx *ni;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;

		if ((ni = realloc(*idx, nc * sizeof(*ni))) == NULL)
			return -1;
		*idx = ni;
		*cap = nc;
	}
	(*idx)[(*n)++] = *e;
	return 0;
}

/* Write the oldest sealed member; it must be compressed already. */
static int
cap_write_member(struct spool *sp, struct sp_cap *c, struct sp_member *m)
{
	struct sp_idx e;
	size_t	      len = m->job.out_len;

	if (write_at(sp, c->fd, m->gz, len, (off_t)c->disk) != 0)
		return -1;
	sha256_update(&c->sha, m->gz, len);
	e.off = c->disk;
	e.len = len;
	e.first_ns = m->first_ns;
	e.last_ns = m->last_ns;
	e.pkts = m->pkts;
	/* Without memory for the index the file is still good: the index is
	 * then short, and says so by its member count. */
	(void)idx_add(&c->idx, &c->n_idx, &c->cap_idx, &e);
	if (c->pkts == 0)
		c->first_ns = m->first_ns;
	c->last_ns = m->last_ns;
	c->pkts += m->pkts;
	c->raw += m->raw_len;
	c->disk += len;
	sp->open_disk += len;
	sp->written_since += len;
	c->is_dirty = 1;
	CTR_ADD(sp->st_bytes_on_disk, len);
	return 0;
}

/*
 * Write sealed members in order: those already compressed, or (block) all
 * of them.  On a write error the member stays queued, the capture is
 * suspended and -1 returned.
 */
static int
cap_pump(struct spool *sp, struct sp_cap *c, int block)
{
	struct sp_member *m;
	int		  err;

	while (c->q_n > 0) {
		m = c->q[c->q_head];
		if (!zout_is_done(sp->z, &m->job)) {
			if (!block)
				break;
			zout_wait(sp->z, &m->job);
		}
		if (cap_write_member(sp, c, m) != 0) {
			err = errno;
			CTR_ADD(sp->st_write_errors, 1);
			c->is_write_failed = 1;
			cap_suspend(sp, c, SPOOL_WHY_WRITE_ERROR, err);
			errno = err;
			return -1;
		}
		c->q[c->q_head] = NULL;
		c->q_head = (c->q_head + 1) % SP_QMAX;
		c->q_n--;
		sp->n_inflight--;
		member_put(sp, m);
		cap_recalc(sp, c);
	}
	if (c->q_n == 0 && c->is_write_failed) {
		c->is_write_failed = 0;
		if (c->why == SPOOL_WHY_WRITE_ERROR)
			cap_resume(sp, c);
	}
	return 0;
}

/* Wait for c's oldest member only, then write it and any others done. */
static int
cap_pump_oldest(struct spool *sp, struct sp_cap *c)
{
	zout_wait(sp->z, &c->q[c->q_head]->job);
	return cap_pump(sp, c, 0);
}

/*
 * The pool is full: write whatever is finished, then wait for oldest
 * members (this capture's first) until one slot is free.  Waiting for the
 * whole pool instead, as spool_sync() does, would drain the pipeline and
 * leave the compressors idle while it refills.
 */
static struct sp_cap *
first_pending(struct spool *sp, struct sp_cap *c)
{
	struct sp_cap *o;

	if (c->q_n > 0 && !c->is_write_failed)
		return c;
	for (o = TAILQ_FIRST(&sp->open); o != NULL; o = TAILQ_NEXT(o, entry))
		if (o->q_n > 0 && !o->is_write_failed)
			return o;
	return NULL;
}

static void
make_room(struct spool *sp, struct sp_cap *c)
{
	struct sp_cap *o;

	spool_pump(sp);
	while (sp->n_inflight >= sp->inflight_max &&
	    (o = first_pending(sp, c)) != NULL) {
		if (cap_pump_oldest(sp, o) != 0)
			return;
	}
}

/* Hand the chunk being filled to the compressor. */
static int
cap_seal(struct spool *sp, struct sp_cap *c)
{
	struct sp_member *m = c->fill;

	if (m == NULL || m->raw_len == 0)
		return 0;
	/* This capture's queue is full: wait for its oldest member only. */
	while (c->q_n == SP_QMAX)
		if (cap_pump_oldest(sp, c) != 0)
			return -1;
	if (sp->n_inflight >= sp->inflight_max)
		make_room(sp, c);
	if (m->gz_cap < zout_bound(m->raw_len)) {
		free(m->gz);
		m->gz_cap = 0;
		/* Room for the largest chunk, so a kept member always fits. */
		if ((m->gz = malloc(zout_bound(m->raw_cap))) == NULL)
			return -1;
		m->gz_cap = zout_bound(m->raw_cap);
	}
	m->job.in = m->raw;
	m->job.in_len = m->raw_len;
	m->job.out = m->gz;
	m->job.level = c->lim.level;
	m->sealed_tick = sp->n_ticks;
	zout_submit(sp->z, &m->job);
	c->q[(c->q_head + c->q_n) % SP_QMAX] = m;
	c->q_n++;
	sp->n_inflight++;
	if (sp->n_inflight > CTR_GET(sp->st_inflight_peak))
		CTR_SET(sp->st_inflight_peak, sp->n_inflight);
	c->fill = NULL;
	cap_recalc(sp, c);
	/* A chunk's worth was written (or is about to be): fresh statfs. */
	sp->is_avail_stale = 1;
	return 0;
}

/* Room for `add` more raw bytes in the chunk being filled. */
static int
cap_fill_reserve(struct spool *sp, struct sp_cap *c, size_t add)
{
	struct sp_member *m = c->fill;
	size_t		  need, nc, most;
	uint8_t		 *nr;

	if (m == NULL) {
		if ((m = member_get(sp)) == NULL)
			return -1;
		c->fill = m;
	}
	need = m->raw_len + add;
	if (need <= m->raw_cap)
		return 0;
	/* Grow by doubling, but never past the largest chunk we build. */
	most = sp->cfg.chunk_bytes + PCAPFMT_GHDR_LEN + PCAPFMT_RHDR_LEN +
	    c->lim.snaplen;
	if (need > most) {
		/* A chunk that could not be sealed (no memory for its
		 * member): refuse rather than grow without bound. */
		errno = ENOMEM;
		return -1;
	}
	nc = m->raw_cap ? m->raw_cap : SP_FILL_INIT;
	while (nc < need)
		nc *= 2;
	if (nc > most)
		nc = most;
	if ((nr = realloc(m->raw, nc)) == NULL)
		return -1;
	m->raw = nr;
	m->raw_cap = nc;
	return 0;
}

/* ---- files -------------------------------------------------------------- */

static void
cap_render_meta(struct sp_cap *c, uint64_t id)
{
	struct sp_host *h = c->h;

	memset(&c->meta, 0, sizeof(c->meta));
	c->meta.file_id = id;
	c->meta.trig = c->trig;
	c->meta.has_trig = 1;
	if (h->has_last) {
		c->meta.has_prev = 1;
		memcpy(c->meta.prev_sha, h->last_sha, SHA256_LEN);
		util_strlcpy(
		    c->meta.prev_file, h->last_name, sizeof(c->meta.prev_file));
	}
	c->meta.linktype = c->lim.linktype;
	c->meta.snaplen = c->lim.snaplen;
	c->meta.is_nsec = c->lim.is_nsec;
	meta_render(
	    h, &c->meta, c->meta_text, sizeof(c->meta_text), &c->meta_len);
}

/* Create the .part for a file whose first packet is at ts. */
static int
cap_open_file(struct spool *sp, struct sp_cap *c, uint64_t ts)
{
	char	part[SP_FILE_MAX + 8];
	uint8_t mbuf[SP_META_MAX + 32];
	size_t	mlen;
	int	fd, err;

	if (!c->h->is_chain_loaded)
		chain_load(sp, c->h);
	c->id = sp->next_id;
	cap_render_meta(c, c->id);
	file_name(ts, c->id, c->name, sizeof(c->name));
	snprintf(part, sizeof(part), "%s.part", c->name);
	fd = openat(c->hdfd, part,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -1;
	mlen = zout_meta_member(mbuf, c->meta_text, c->meta_len);
	if (write_at(sp, fd, mbuf, mlen, 0) != 0) {
		err = errno;
		close(fd);
		(void)unlinkat(c->hdfd, part, 0);
		errno = err;
		return -1;
	}
	sp->next_id++;
	/* The new name survives a power cut, not only a crash. */
	(void)fsync_dir(c->hdfd);
	c->fd = fd;
	sha256_init(&c->sha);
	sha256_update(&c->sha, mbuf, mlen);
	c->disk = mlen;
	sp->open_disk += mlen;
	sp->written_since += mlen;
	CTR_ADD(sp->st_bytes_on_disk, mlen);
	c->pkts = c->raw = 0;
	c->first_ns = c->last_ns = 0;
	c->n_idx = 0;
	c->needs_ghdr = 1;
	c->is_dirty = 1;
	c->last_sync_ns = ts;
	if (c->lim.rotate_ns == 0)
		c->rot_deadline = UINT64_MAX;
	else if (c->lim.is_aligned)
		c->rot_deadline =
		    (ts / c->lim.rotate_ns + 1) * c->lim.rotate_ns;
	else
		c->rot_deadline = ts + c->lim.rotate_ns;
	cap_recalc(sp, c);
	return 0;
}

/* Drop members that never reached the disk (a write that kept failing). */
static void
cap_drop_members(struct spool *sp, struct sp_cap *c)
{
	size_t i;

	for (i = 0; i < c->q_n; i++) {
		struct sp_member *m = c->q[(c->q_head + i) % SP_QMAX];

		zout_wait(sp->z, &m->job);
		CTR_ADD(sp->ctr[c->slot].drop_write, m->pkts);
		member_put(sp, m);
		sp->n_inflight--;
	}
	c->q_n = c->q_head = 0;
	if (c->fill != NULL) {
		CTR_ADD(sp->ctr[c->slot].drop_write, c->fill->pkts);
		member_put(sp, c->fill);
		c->fill = NULL;
	}
	c->is_write_failed = 0;
}

/* Forget the current file (its fd is closed); the bytes leave "open". */
static void
cap_reset_file(struct spool *sp, struct sp_cap *c)
{
	cap_drop_members(sp, c);
	sp->open_disk -= c->disk;
	c->disk = 0;
	c->fd = -1;
	c->n_idx = 0;
	c->pkts = 0;
	cap_recalc(sp, c);
}

/*
 * Finish the current file: last members, fdatasync, rename, sidecar,
 * catalogue, event.  Never fails as a whole: whatever could be kept is
 * kept, errors are counted and reported.
 */
static void
cap_close_file(struct spool *sp, struct sp_cap *c, enum spool_why why)
{
	struct sp_host	  *h = c->h;
	struct spool_event ev;
	struct sp_summary  s;
	struct sp_file	  *f;
	char		   part[SP_FILE_MAX + 8], *json;
	const char	  *final = c->name;
	size_t		   jlen = 0;
	uint64_t	   disk;
	int		   err = 0;

	if (c->fd < 0)
		return;
	/* Last chance for the members (a failing write is retried once). */
	if (cap_seal(sp, c) != 0 || cap_pump(sp, c, 1) != 0)
		err = errno;
	snprintf(part, sizeof(part), "%s.part", c->name);
	if (c->pkts == 0) {
		/* Nothing but metadata reached the disk: no file. */
		close(c->fd);
		(void)unlinkat(c->hdfd, part, 0);
		CTR_SUB(sp->st_bytes_on_disk, c->disk);
		cap_reset_file(sp, c);
		return;
	}
	/* Cut anything a failed write may have left past the last member. */
	if (err != 0 && ftruncate(c->fd, (off_t)c->disk) != 0)
		err = errno;
	if (fdatasync(c->fd) != 0)
		err = errno;
	close(c->fd);
	if (renameat(c->hdfd, part, c->hdfd, c->name) != 0) {
		err = errno;
		final = part; /* recovered at the next start-up */
	} else
		(void)fsync_dir(c->hdfd);
	disk = c->disk;

	memset(&s, 0, sizeof(s));
	s.name = c->name;
	s.file_id = c->id;
	s.meta = c->meta;
	s.has_meta = 1;
	s.pkts = c->pkts;
	s.raw = c->raw;
	s.disk = disk;
	s.first_ns = c->first_ns;
	s.last_ns = c->last_ns;
	sha256_final(&c->sha, s.sha);
	s.idx = c->idx;
	s.n_idx = c->n_idx;
	json = sc_render(h, &s, &jlen);

	f = cat_new(final, c->id, disk + (json != NULL ? jlen : 0));
	if (json != NULL && final == c->name &&
	    sc_write(sp, c->hdfd, c->name, json, jlen) == 0) {
		free(json);
		json = NULL;
	} else if (json != NULL) {
		if (err == 0)
			err = errno;
		if (f != NULL && sp->n_pending < SP_PENDING_MAX &&
		    final == c->name) {
			f->pending_json = json;
			f->pending_len = jlen;
			sp->n_pending++;
			CTR_SET(sp->st_pending, sp->n_pending);
		} else
			free(json);
		json = NULL;
	}
	/* The chain moves on even if the sidecar is late. */
	memcpy(h->last_sha, s.sha, SHA256_LEN);
	util_strlcpy(h->last_name, c->name, sizeof(h->last_name));
	h->has_last = 1;
	/* Hand the bytes from the open side to the catalogue. */
	CTR_SUB(sp->st_bytes_on_disk, disk);
	cap_reset_file(sp, c);
	if (f != NULL)
		cat_insert(sp, h, f);
	CTR_ADD(sp->st_closed, 1);
	CTR_ADD(sp->ctr[c->slot].files_closed, 1);
	if (err != 0) {
		CTR_ADD(sp->st_write_errors, 1);
		ev_init(&ev, SPOOL_EV_WRITE_ERROR, why, h, c);
		ev.err = err;
		ev.file_id = c->id;
		ev_name(&ev, h, final);
		emit(sp, &ev);
	}
	ev_init(&ev, SPOOL_EV_FILE_CLOSED, why, h, c);
	ev.file_id = c->id;
	ev.packets = s.pkts;
	ev.bytes_raw = s.raw;
	ev.bytes_disk = disk;
	memcpy(ev.sha256, s.sha, SHA256_LEN);
	ev_name(&ev, h, final);
	emit(sp, &ev);
}

/* ---- caps ---------------------------------------------------------- */

static int
avail_refresh(struct spool *sp)
{
	uint64_t a;

	if (!sp->is_avail_stale)
		return 0;
	if (get_avail(sp, &a) != 0)
		return -1;
	sp->avail = a;
	sp->written_since = sp->freed_since = 0;
	sp->is_avail_stale = 0;
	return 0;
}

/*
 * Room on the file system for a new file's metadata and one full member
 * (statfs, at most once per tick)?  Yes when it cannot be told.
 */
static int
probe_room(struct spool *sp)
{
	if (avail_refresh(sp) != 0)
		return 1;
	return sp->avail >=
	    zout_meta_size(SP_META_MAX) + zout_bound(sp->cfg.chunk_bytes);
}

/*
 * Admit `add` more raw bytes into the capture: rotate, delete oldest
 * files, or suspend, so that every cap holds for the worst case of what
 * would then be on disk.  0 when admitted; -1 with errno E2BIG (can never
 * fit) or EAGAIN (suspended).
 */
static int
cap_admit(struct spool *sp, struct sp_cap *c, size_t add)
{
	struct sp_host *h = c->h;
	uint64_t	pf, res, others, est, unwritten;
	int		is_new, is_resolved = 0, n_rot = 0;

	for (;;) {
		is_new = c->fd < 0;
		if (is_new)
			cap_render_meta(c, sp->next_id);
		pf = cap_file_proj(c, add, is_new);
		res = pf + sc_bound(cap_n_members(c, is_new, add));
		if (!is_resolved && !is_new && c->q_n > 0 &&
		    (pf > c->lim.file_size ||
			h->bytes + res > c->lim.host_cap ||
			(sp->cfg.global_cap > 0 &&
			    sp->closed_bytes + sp->open_reserved - c->reserved +
				    res >
				sp->cfg.global_cap))) {
			/* Decide on real sizes, not on bounds. */
			is_resolved = 1;
			if (cap_pump(sp, c, 1) != 0)
				return -1;
			continue;
		}
		if (pf > c->lim.file_size) {
			if (is_new || n_rot++ > 0) {
				errno = E2BIG;
				return -1;
			}
			cap_close_file(sp, c, SPOOL_WHY_ROTATE_SIZE);
			/* Its last members failed: suspended, no file.  A new
			 * file now would take this packet without a RESUMED
			 * event and stay suspended, every later packet
			 * dropped; the tick's probe decides instead. */
			if (c->is_suspended) {
				errno = EAGAIN;
				return -1;
			}
			continue;
		}
		if (h->bytes + res > c->lim.host_cap) {
			if (cat_delete_oldest(sp, h, SPOOL_WHY_HOST_CAP) == 0)
				continue;
			cap_suspend(sp, c, SPOOL_WHY_HOST_CAP, 0);
			errno = EAGAIN;
			return -1;
		}
		others = sp->open_reserved - c->reserved;
		if (sp->cfg.global_cap > 0 &&
		    sp->closed_bytes + others + res > sp->cfg.global_cap) {
			if (cat_delete_oldest(sp, NULL, SPOOL_WHY_GLOBAL_CAP) ==
			    0)
				continue;
			cap_suspend(sp, c, SPOOL_WHY_GLOBAL_CAP, 0);
			errno = EAGAIN;
			return -1;
		}
		if (sp->cfg.min_free > 0) {
			if (avail_refresh(sp) != 0) {
				cap_suspend(sp, c, SPOOL_WHY_MIN_FREE, errno);
				errno = EAGAIN;
				return -1;
			}
			est = sp->avail + sp->freed_since;
			est = est > sp->written_since ? est - sp->written_since
						      : 0;
			/* Reserved but not yet written, by every capture. */
			unwritten =
			    (sp->open_reserved - c->reserved -
				(sp->open_disk - (is_new ? 0 : c->disk))) +
			    (res - (is_new ? 0 : c->disk));
			if (est < sp->cfg.min_free + unwritten) {
				if (cat_delete_oldest(
					sp, NULL, SPOOL_WHY_MIN_FREE) == 0)
					continue;
				cap_suspend(sp, c, SPOOL_WHY_MIN_FREE, 0);
				errno = EAGAIN;
				return -1;
			}
		}
		return 0;
	}
}

/* ---- public API ---------------------------------------------------------- */

static int
limits_ok(const struct spool_config *cfg, const struct spool_limits *l)
{
	if (l->snaplen == 0 || l->snaplen > PCAPFMT_MAX_SNAPLEN ||
	    l->level < 0 || l->level > ZOUT_MAX_LEVEL)
		return 0;
	/* A file must hold at least its metadata and one full packet. */
	if (l->file_size < zout_meta_size(SP_META_MAX) +
		zout_bound(PCAPFMT_GHDR_LEN + PCAPFMT_RHDR_LEN + l->snaplen))
		return 0;
	(void)cfg;
	return l->host_cap > 0;
}

int
spool_open(struct spool *sp, uint32_t slot, const uint8_t addr[16],
    const struct spool_limits *lim, const struct spool_trigger *trig)
{
	struct sp_host *h;
	struct sp_cap  *c;
	int		dfd;

	if (slot >= sp->cfg.max_slots || !limits_ok(&sp->cfg, lim)) {
		errno = EINVAL;
		return -1;
	}
	if (sp->slots[slot] != NULL) {
		errno = EBUSY;
		return -1;
	}
	if ((h = host_find(sp, addr)) == NULL &&
	    (h = host_add(sp, addr)) == NULL)
		return -1;
	if (h->cap != NULL) {
		errno = EBUSY;
		return -1;
	}
	if (mkdirat(sp->capdfd, h->dir, 0750) == 0)
		(void)fsync_dir(sp->capdfd);
	else if (errno != EEXIST)
		return -1;
	if ((dfd = open_hostdir(sp, h)) < 0)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(dfd);
		return -1;
	}
	c->h = h;
	c->slot = slot;
	c->lim = *lim;
	if (trig != NULL) {
		c->trig = *trig;
		sanitize(c->trig.metric, trig->metric, sizeof(c->trig.metric));
		sanitize(c->trig.reason, trig->reason, sizeof(c->trig.reason));
	}
	c->fd = -1;
	c->hdfd = dfd;
	h->cap = c;
	sp->slots[slot] = c;
	TAILQ_INSERT_TAIL(&sp->open, c, entry);
	CTR_SET(sp->ctr[slot].is_open, 1);
	CTR_SET(sp->ctr[slot].is_suspended, 0);
	return 0;
}

static void
cap_free(struct spool *sp, struct sp_cap *c)
{
	cap_close_file(sp, c, SPOOL_WHY_CLOSE);
	cap_drop_members(sp, c);
	sp->open_reserved -= c->reserved;
	TAILQ_REMOVE(&sp->open, c, entry);
	sp->slots[c->slot] = NULL;
	c->h->cap = NULL;
	CTR_SET(sp->ctr[c->slot].is_open, 0);
	CTR_SET(sp->ctr[c->slot].is_suspended, 0);
	CTR_SET(sp->ctr[c->slot].why, 0);
	close(c->hdfd);
	member_put(sp, c->fill);
	free(c->idx);
	free(c);
}

int
spool_close(struct spool *sp, uint32_t slot)
{
	if (slot >= sp->cfg.max_slots || sp->slots[slot] == NULL) {
		errno = ENOENT;
		return -1;
	}
	cap_free(sp, sp->slots[slot]);
	return 0;
}

int
spool_pkt(struct spool *sp, uint32_t slot, uint64_t ts_ns, const uint8_t *data,
    uint32_t caplen, uint32_t wirelen)
{
	struct sp_cap	 *c;
	struct sp_ctr	 *k;
	struct sp_member *m;
	uint8_t		  rh[PCAPFMT_RHDR_LEN];
	size_t		  add;
	int		  was_suspended;

	if (slot >= sp->cfg.max_slots || (c = sp->slots[slot]) == NULL) {
		errno = ENOENT;
		return -1;
	}
	k = &sp->ctr[slot];
	if (caplen > c->lim.snaplen)
		caplen = c->lim.snaplen;
	was_suspended = c->is_suspended;
	if (c->is_suspended) {
		/* Only a write-error suspension is probed from the packet
		 * path, once the tick saw room for a whole member: the open
		 * (no file) or the next sealed member is the write that
		 * tells.  A file left open by the failed write is probed
		 * too, or a disk freed under it would never resume. */
		if (!(c->may_probe && c->why == SPOOL_WHY_WRITE_ERROR)) {
			CTR_ADD(k->drop_suspended, 1);
			errno = EAGAIN;
			return -1;
		}
		c->may_probe = 0;
	}
	if (pcapfmt_rhdr(rh, ts_ns, c->lim.is_nsec, caplen, wirelen) != 0) {
		CTR_ADD(k->drop_badts, 1);
		return -1;
	}
	if (c->fd >= 0 && ts_ns >= c->rot_deadline) {
		cap_close_file(sp, c, SPOOL_WHY_ROTATE_TIME);
		if (c->is_suspended && !was_suspended) {
			/* As in cap_admit: the close failed to write. */
			CTR_ADD(k->drop_suspended, 1);
			errno = EAGAIN;
			return -1;
		}
	}
	add = PCAPFMT_RHDR_LEN + caplen;
	if (cap_admit(sp, c, add) != 0) {
		if (errno == E2BIG)
			CTR_ADD(k->drop_toobig, 1);
		else
			CTR_ADD(k->drop_suspended, 1);
		return -1;
	}
	if (c->fd < 0 && cap_open_file(sp, c, ts_ns) != 0) {
		CTR_ADD(sp->st_write_errors, 1);
		CTR_ADD(k->drop_suspended, 1);
		cap_suspend(sp, c, SPOOL_WHY_WRITE_ERROR, errno);
		errno = EAGAIN;
		return -1;
	}
	if (cap_fill_reserve(
		sp, c, add + (c->needs_ghdr ? PCAPFMT_GHDR_LEN : 0)) != 0) {
		CTR_ADD(k->drop_suspended, 1);
		return -1;
	}
	m = c->fill;
	if (c->needs_ghdr) {
		pcapfmt_ghdr(
		    m->raw, c->lim.linktype, c->lim.snaplen, c->lim.is_nsec);
		m->raw_len = PCAPFMT_GHDR_LEN;
		c->needs_ghdr = 0;
	}
	if (m->pkts == 0) {
		m->first_ns = ts_ns;
		m->t0_ns = ts_ns;
	}
	m->last_ns = ts_ns;
	memcpy(m->raw + m->raw_len, rh, sizeof(rh));
	memcpy(m->raw + m->raw_len + sizeof(rh), data, caplen);
	m->raw_len += add;
	m->pkts++;
	CTR_ADD(k->pkts_written, 1);
	CTR_ADD(k->bytes_raw, add);
	cap_recalc(sp, c);
	if (was_suspended)
		cap_resume(sp, c);
	if (m->raw_len >= sp->cfg.chunk_bytes)
		(void)cap_seal(sp, c);
	if (c->q_n > 0)
		(void)cap_pump(sp, c, 0);
	return 0;
}

void
spool_close_all(struct spool *sp)
{
	while (!TAILQ_EMPTY(&sp->open))
		cap_free(sp, TAILQ_FIRST(&sp->open));
}

void
spool_tick(struct spool *sp, uint64_t now_ns)
{
	struct sp_cap *c, *tmp;

	sp->is_avail_stale = 1;
	sp->n_ticks++;
	TAILQ_FOREACH_SAFE(c, &sp->open, entry, tmp)
	{
		if (c->fd >= 0 && now_ns >= c->rot_deadline) {
			cap_close_file(sp, c, SPOOL_WHY_ROTATE_TIME);
			continue;
		}
		if (c->fill != NULL && c->fill->pkts > 0 &&
		    now_ns >= c->fill->t0_ns + sp->cfg.flush_ns)
			(void)cap_seal(sp, c);
		/*
		 * Members sealed before the previous tick must be on disk
		 * now (the flush promise: at most two ticks from a packet to
		 * the file); they have had a whole tick to compress, so this
		 * hardly ever waits.  Younger ones are written as they
		 * finish: waiting for all of them each tick would drain the
		 * compression pipeline once a tick (20 times a second in a
		 * replay).
		 */
		while (c->q_n > 0 &&
		    c->q[c->q_head]->sealed_tick + 1 < sp->n_ticks &&
		    !c->is_write_failed)
			if (cap_pump_oldest(sp, c) != 0)
				break;
		/* The rest as they finish; a failed write is retried whole. */
		if (c->q_n > 0)
			(void)cap_pump(sp, c, c->is_write_failed);
		if (c->fd >= 0 && c->is_dirty) {
			if (now_ns >= c->last_sync_ns + sp->cfg.sync_ns) {
				if (fdatasync(c->fd) == 0)
					c->is_dirty = 0;
				c->last_sync_ns = now_ns;
			} else {
				/* Start writeback now, so the periodic
				 * fdatasync has little left to wait for. */
				(void)sync_file_range(
				    c->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
			}
		}
		if (!c->is_suspended)
			continue;
		if (c->why == SPOOL_WHY_WRITE_ERROR) {
			/* Queued members were retried above; with none left,
			 * let the next packet try again, once a whole
			 * member fits: a full disk takes the small metadata
			 * member, and a probe that succeeded on it would
			 * resume only to fail again on the first chunk, a
			 * SUSPENDED and RESUMED pair per file for as long
			 * as the disk stays full. */
			if (c->q_n == 0 && probe_room(sp))
				c->may_probe = 1;
			continue;
		}
		/* Room for a full-size packet again? */
		if (cap_admit(sp, c, PCAPFMT_RHDR_LEN + c->lim.snaplen) == 0)
			cap_resume(sp, c);
	}
	sc_retry(sp);
}

void
spool_pump(struct spool *sp)
{
	struct sp_cap *c;

	TAILQ_FOREACH(c, &sp->open, entry)
	if (c->q_n > 0 && !c->is_write_failed)
		(void)cap_pump(sp, c, 0);
}

size_t
spool_pending(const struct spool *sp)
{
	return sp->n_inflight;
}

void
spool_sync(struct spool *sp)
{
	struct sp_cap *c;

	TAILQ_FOREACH(c, &sp->open, entry)
	if (c->q_n > 0 && !c->is_write_failed)
		(void)cap_pump(sp, c, 1);
}

void
spool_slot_stats(
    const struct spool *sp, uint32_t slot, struct spool_slot_stats *st)
{
	struct sp_ctr *k;

	memset(st, 0, sizeof(*st));
	if (slot >= sp->cfg.max_slots)
		return;
	k = &sp->ctr[slot];
	st->pkts_written = CTR_GET(k->pkts_written);
	st->bytes_raw = CTR_GET(k->bytes_raw);
	st->drop_suspended = CTR_GET(k->drop_suspended);
	st->drop_toobig = CTR_GET(k->drop_toobig);
	st->drop_badts = CTR_GET(k->drop_badts);
	st->drop_write = CTR_GET(k->drop_write);
	st->files_closed = CTR_GET(k->files_closed);
	st->is_open = CTR_GET(k->is_open);
	st->is_suspended = CTR_GET(k->is_suspended);
	st->why = (enum spool_why)CTR_GET(k->why);
}

void
spool_get_stats(const struct spool *sp, struct spool_stats *st)
{
	st->bytes_on_disk = CTR_GET(sp->st_bytes_on_disk);
	st->files = CTR_GET(sp->st_files);
	st->hosts = CTR_GET(sp->st_hosts);
	st->files_closed = CTR_GET(sp->st_closed);
	st->files_deleted = CTR_GET(sp->st_deleted);
	st->write_errors = CTR_GET(sp->st_write_errors);
	st->recovered = CTR_GET(sp->st_recovered);
	st->quarantined = CTR_GET(sp->st_quarantined);
	st->statfs_calls = CTR_GET(sp->st_statfs);
	st->sidecar_pending = CTR_GET(sp->st_pending);
	st->inflight_peak = CTR_GET(sp->st_inflight_peak);
	st->inflight_max = sp->inflight_max;
}

/* ---- start-up scan ---------------------------------------------------- */

/* What verifying a file found. */
struct sp_scan {
	uint64_t	   good_end; /* end of the last whole member */
	uint64_t	   pkts, raw, first_ns, last_ns;
	int		   has_meta;
	struct sp_meta	   meta;
	int		   has_ghdr;
	struct pcapfmt_hdr ghdr;
	struct sha256	   sha;
	struct sp_idx	  *idx;
	size_t		   n_idx, cap_idx;
};

/* Check one inflated member holds whole records (after the header). */
static int
scan_records(struct sp_scan *sc, const uint8_t *p, size_t n, struct sp_idx *e)
{
	struct pcapfmt_rec r;
	struct cur	   c;
	enum pcapfmt_res   res;

	cur_init(&c, p, n);
	if (!sc->has_ghdr) {
		if (pcapfmt_ghdr_read(&c, &sc->ghdr) != 0)
			return -1;
	}
	e->pkts = 0;
	while ((res = pcapfmt_rec_read(&c, &sc->ghdr, &r)) == PCAPFMT_OK) {
		if (e->pkts == 0)
			e->first_ns = r.ts_ns;
		e->last_ns = r.ts_ns;
		e->pkts++;
	}
	return res == PCAPFMT_END ? 0 : -1;
}

/* The FCOMMENT of a gzip member header, if any, through a cursor. */
static int
gz_comment(const uint8_t *p, size_t n, const uint8_t **cm, size_t *cmlen)
{
	struct cur c;
	uint8_t	   flg;
	size_t	   k;

	cur_init(&c, p, n);
	if (cur_u8(&c) != 0x1f || cur_u8(&c) != 0x8b || cur_u8(&c) != 8)
		return -1;
	flg = cur_u8(&c);
	(void)cur_skip(&c, 6);
	if (flg & 0x04) /* FEXTRA */
		(void)cur_skip(&c, cur_le16(&c));
	if (flg & 0x08) /* FNAME */
		while (cur_left(&c) > 0 && cur_u8(&c) != 0)
			;
	if (!(flg & 0x10) || !cur_ok(&c)) /* FCOMMENT */
		return -1;
	for (k = 0; k < cur_left(&c) && cur_ptr(&c)[k] != 0; k++)
		;
	if (k == cur_left(&c))
		return -1;
	*cm = cur_ptr(&c);
	*cmlen = k;
	return 0;
}

/*
 * Walk a file's members: inflate each, check its records, hash its bytes,
 * index it.  Stops at the first member that is cut short or does not
 * verify; sc->good_end is where the good data ends.
 */
static int
scan_file(struct spool *sp, int fd, uint64_t size, struct sp_scan *sc)
{
	size_t	 win = zout_bound(SP_RAW_MAX) + SP_META_MAX, buf_len = 0;
	uint64_t buf_off = 0, off = 0;
	uint8_t *in, *out;
	size_t	 in_used, out_len, avail;
	enum libdeflate_result res;
	struct sp_idx	       e;
	ssize_t		       n;

	memset(sc, 0, sizeof(*sc));
	sha256_init(&sc->sha);
	in = malloc(win);
	out = malloc(SP_RAW_MAX);
	if (in == NULL || out == NULL) {
		free(in);
		free(out);
		return -1;
	}
	while (off < size) {
		/* Keep [off, off + win) in the buffer when the file has it. */
		if (off + win > buf_off + buf_len && buf_off + buf_len < size) {
			size_t keep = (size_t)(buf_off + buf_len - off);

			memmove(in, in + (off - buf_off), keep);
			buf_off = off;
			buf_len = keep;
			while (buf_len < win && buf_off + buf_len < size) {
				n = pread(fd, in + buf_len, win - buf_len,
				    (off_t)(buf_off + buf_len));
				if (n <= 0)
					break;
				buf_len += (size_t)n;
			}
		}
		avail = (size_t)(buf_off + buf_len - off);
		res =
		    libdeflate_gzip_decompress_ex(sp->dec, in + (off - buf_off),
			avail, out, SP_RAW_MAX, &in_used, &out_len);
		if (res != LIBDEFLATE_SUCCESS)
			break;
		memset(&e, 0, sizeof(e));
		if (out_len == 0) {
			const uint8_t *cm;
			size_t	       cml;

			if (off == 0 &&
			    gz_comment(in + (off - buf_off), in_used, &cm,
				&cml) == 0) {
				meta_parse(cm, cml, &sc->meta);
				sc->has_meta = 1;
			}
		} else {
			if (scan_records(sc, out, out_len, &e) != 0)
				break;
			sc->has_ghdr = 1;
			e.off = off;
			e.len = in_used;
			if (sc->pkts == 0)
				sc->first_ns = e.first_ns;
			if (e.pkts > 0)
				sc->last_ns = e.last_ns;
			sc->pkts += e.pkts;
			sc->raw += out_len;
			(void)idx_add(&sc->idx, &sc->n_idx, &sc->cap_idx, &e);
		}
		sha256_update(&sc->sha, in + (off - buf_off), in_used);
		off += in_used;
		sc->good_end = off;
	}
	free(in);
	free(out);
	return 0;
}

static void
quarantine(struct spool *sp, struct sp_host *h, int dfd, const char *name,
    uint64_t bytes)
{
	struct spool_event ev;
	char		   dst[SP_REL_MAX];
	struct sp_file	  *f;
	uint64_t	   id;
	int		   kind;

	if (mkdirat(dfd, "quarantine", 0750) != 0 && errno != EEXIST)
		return;
	snprintf(dst, sizeof(dst), "quarantine/%.63s", name);
	if (renameat(dfd, name, dfd, dst) != 0)
		return;
	(void)fsync_dir(dfd);
	CTR_ADD(sp->st_quarantined, 1);
	/* Still our bytes on our disk: catalogued, deleted first. */
	if (parse_name(name, &id, &kind) != 0)
		id = 0;
	if ((f = cat_new(dst, id, bytes)) != NULL)
		cat_insert(sp, h, f);
	ev_init(&ev, SPOOL_EV_QUARANTINED, SPOOL_WHY_NONE, h, NULL);
	ev.file_id = id;
	ev.bytes_disk = bytes;
	ev_name(&ev, h, dst);
	emit(sp, &ev);
}

/*
 * A file without a usable sidecar (kind 0) or a .part (kind 1): verify,
 * keep the whole members, rename, write a sidecar marked recovered.
 */
static void
recover(struct spool *sp, struct sp_host *h, int dfd, const char *name,
    uint64_t id, int kind)
{
	char		   final[SP_FILE_MAX];
	struct spool_event ev;
	struct sp_summary  s;
	struct sp_scan	   sc;
	struct sp_file	  *f;
	struct stat	   st;
	size_t		   jlen = 0;
	char		  *json;
	int		   fd;

	fd = openat(dfd, name,
	    (kind == 1 ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (st.st_size == 0 && kind == 1) {
		/* Killed between create and the metadata write. */
		close(fd);
		(void)unlinkat(dfd, name, 0);
		return;
	}
	if (scan_file(sp, fd, (uint64_t)st.st_size, &sc) != 0) {
		close(fd);
		return;
	}
	if (sc.pkts == 0 && kind == 1 && sc.good_end > 0) {
		/* Only metadata reached the disk: an empty capture. */
		close(fd);
		(void)unlinkat(dfd, name, 0);
		free(sc.idx);
		return;
	}
	if (sc.pkts == 0 ||
	    (kind == 0 && sc.good_end != (uint64_t)st.st_size)) {
		close(fd);
		quarantine(sp, h, dfd, name, (uint64_t)st.st_size);
		free(sc.idx);
		return;
	}
	util_strlcpy(final, name, sizeof(final));
	if (kind == 1) {
		final[strlen(final) - 5] = '\0'; /* drop ".part" */
		if (ftruncate(fd, (off_t)sc.good_end) != 0 || fsync(fd) != 0 ||
		    renameat(dfd, name, dfd, final) != 0) {
			close(fd);
			free(sc.idx);
			return;
		}
		(void)fsync_dir(dfd);
	}
	close(fd);
	memset(&s, 0, sizeof(s));
	s.name = final;
	s.file_id = id;
	s.is_recovered = 1;
	s.meta = sc.meta;
	s.has_meta = sc.has_meta;
	s.pkts = sc.pkts;
	s.raw = sc.raw;
	s.disk = sc.good_end;
	s.first_ns = sc.first_ns;
	s.last_ns = sc.last_ns;
	sha256_final(&sc.sha, s.sha);
	s.idx = sc.idx;
	s.n_idx = sc.n_idx;
	json = sc_render(h, &s, &jlen);
	if (json == NULL || sc_write(sp, dfd, final, json, jlen) != 0)
		jlen = 0;
	free(json);
	free(sc.idx);
	if ((f = cat_new(final, id, sc.good_end + jlen)) != NULL)
		cat_insert(sp, h, f);
	CTR_ADD(sp->st_recovered, 1);
	ev_init(&ev, SPOOL_EV_RECOVERED, SPOOL_WHY_NONE, h, NULL);
	ev.file_id = id;
	ev.packets = s.pkts;
	ev.bytes_raw = s.raw;
	ev.bytes_disk = s.disk;
	memcpy(ev.sha256, s.sha, SHA256_LEN);
	ev_name(&ev, h, final);
	emit(sp, &ev);
}

static uint64_t
file_size_at(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode))
		return UINT64_MAX;
	return (uint64_t)st.st_size;
}

static void
scan_quarantine(struct spool *sp, struct sp_host *h, int dfd)
{
	char		rel[SP_REL_MAX];
	struct sp_file *f;
	struct dirent  *de;
	uint64_t	id, sz;
	DIR	       *d;
	int		qfd, kind;

	qfd = openat(
	    dfd, "quarantine", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (qfd < 0 || (d = fdopendir(qfd)) == NULL) {
		if (qfd >= 0)
			close(qfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if ((sz = file_size_at(qfd, de->d_name)) == UINT64_MAX ||
		    strlen(de->d_name) >= SP_FILE_MAX)
			continue;
		if (parse_name(de->d_name, &id, &kind) != 0)
			id = 0;
		snprintf(rel, sizeof(rel), "quarantine/%.63s", de->d_name);
		if ((f = cat_new(rel, id, sz)) != NULL)
			cat_insert(sp, h, f);
	}
	closedir(d);
}

/* A name list, so the directory is not changed while it is read. */
struct sp_names {
	char (*v)[SP_FILE_MAX];
	size_t n, cap;
};

static int
names_add(struct sp_names *nl, const char *s)
{
	char(*nv)[SP_FILE_MAX];

	if (nl->n == nl->cap) {
		size_t nc = nl->cap ? nl->cap * 2 : 64;

		if ((nv = realloc(nl->v, nc * sizeof(*nv))) == NULL)
			return -1;
		nl->v = nv;
		nl->cap = nc;
	}
	util_strlcpy(nl->v[nl->n++], s, SP_FILE_MAX);
	return 0;
}

static int
names_has(const struct sp_names *nl, const char *s)
{
	size_t i;

	for (i = 0; i < nl->n; i++)
		if (strcmp(nl->v[i], s) == 0)
			return 1;
	return 0;
}

static int
scan_host(struct spool *sp, struct sp_host *h)
{
	struct sp_names nl = {0};
	char		other[SP_FILE_MAX + 8];
	struct dirent  *de;
	struct sp_file *f;
	uint64_t	id, sz, side;
	size_t		i, len;
	int		dfd, dfd2, kind;
	DIR	       *d;

	if ((dfd = open_hostdir(sp, h)) < 0)
		return -1;
	if ((dfd2 = dup(dfd)) < 0 || (d = fdopendir(dfd2)) == NULL) {
		if (dfd2 >= 0)
			close(dfd2);
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strlen(de->d_name) < SP_FILE_MAX &&
		    parse_name(de->d_name, &id, &kind) == 0)
			(void)names_add(&nl, de->d_name);
	closedir(d);
	/* What is already set aside first; quarantine() adds what follows. */
	scan_quarantine(sp, h, dfd);
	for (i = 0; i < nl.n; i++) {
		const char *name = nl.v[i];

		(void)parse_name(name, &id, &kind);
		if (id >= sp->next_id)
			sp->next_id = id + 1;
		len = strlen(name);
		switch (kind) {
		case 0: /* .pcap.gz */
			if ((sz = file_size_at(dfd, name)) == UINT64_MAX)
				break;
			snprintf(other, sizeof(other), "%s.json", name);
			side = file_size_at(dfd, other);
			if (side == UINT64_MAX || side == 0) {
				recover(sp, h, dfd, name, id, 0);
				break;
			}
			if ((f = cat_new(name, id, sz + side)) != NULL)
				cat_insert(sp, h, f);
			break;
		case 1: /* .part: finalise or set aside */
			util_strlcpy(other, name, sizeof(other));
			other[len - 5] = '\0';
			if (names_has(&nl, other)) {
				/* Crashed after the rename? Cannot be: rename
				 * replaces.  A stale twin: set aside. */
				quarantine(
				    sp, h, dfd, name, file_size_at(dfd, name));
				break;
			}
			recover(sp, h, dfd, name, id, 1);
			break;
		case 2: /* sidecar whose file is gone: orphan */
			util_strlcpy(other, name, sizeof(other));
			other[len - 5] = '\0';
			if (!names_has(&nl, other)) {
				char part[SP_FILE_MAX + 16];

				snprintf(part, sizeof(part), "%s.part", other);
				if (!names_has(&nl, part))
					(void)unlinkat(dfd, name, 0);
			}
			break;
		case 3: /* a sidecar being written */
			(void)unlinkat(dfd, name, 0);
			break;
		}
	}
	close(dfd);
	free(nl.v);
	return 0;
}

static int
scan_all(struct spool *sp)
{
	struct dirent *de;
	uint8_t	       addr[16];
	struct stat    st;
	size_t	       i, n0;
	int	       fd;
	DIR	      *d;

	if ((fd = dup(sp->capdfd)) < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (spool_dirname_addr(de->d_name, addr) != 0 ||
		    fstatat(sp->capdfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
			0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (host_find(sp, addr) == NULL)
			(void)host_add(sp, addr);
	}
	closedir(d);
	n0 = sp->n_hosts;
	for (i = 0; i < n0; i++)
		(void)scan_host(sp, sp->hosts[i]);
	return 0;
}

struct spool *
spool_new(const struct spool_config *cfg)
{
	struct spool *sp;
	int	      sfd, err;

	if (cfg->statedir == NULL || cfg->max_slots == 0 ||
	    cfg->chunk_bytes < SP_CHUNK_MIN ||
	    cfg->chunk_bytes > SPOOL_CHUNK_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->cfg = *cfg;
	sp->capdfd = -1;
	TAILQ_INIT(&sp->open);
	sp->slots = calloc(cfg->max_slots, sizeof(*sp->slots));
	sp->ctr = calloc(cfg->max_slots, sizeof(*sp->ctr));
	sp->dec = libdeflate_alloc_decompressor();
	sp->z = zout_new(cfg->zthreads);
	if (sp->slots == NULL || sp->ctr == NULL || sp->dec == NULL ||
	    sp->z == NULL)
		goto fail;
	sp->next_id = 1;
	sp->is_avail_stale = 1;
	sp->inflight_max = 4 * (size_t)cfg->zthreads + 2;
	sfd = open(cfg->statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		goto fail;
	if (mkdirat(sfd, "captures", 0750) == 0)
		(void)fsync_dir(sfd);
	else if (errno != EEXIST) {
		err = errno;
		close(sfd);
		errno = err;
		goto fail;
	}
	sp->capdfd = openat(
	    sfd, "captures", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	err = errno;
	close(sfd);
	errno = err;
	if (sp->capdfd < 0 || scan_all(sp) != 0)
		goto fail;
	return sp;
fail:
	err = errno;
	spool_free(sp);
	errno = err;
	return NULL;
}

void
spool_free(struct spool *sp)
{
	struct sp_file *f;
	size_t		i;

	if (sp == NULL)
		return;
	spool_close_all(sp);
	member_pool_free(sp);
	for (i = 0; i < sp->n_hosts; i++) {
		struct sp_host *h = sp->hosts[i];

		while ((f = TAILQ_FIRST(&h->files)) != NULL) {
			TAILQ_REMOVE(&h->files, f, entry);
			free(f->pending_json);
			free(f);
		}
		free(h);
	}
	free(sp->hosts);
	free(sp->slots);
	free(sp->ctr);
	zout_free(sp->z);
	libdeflate_free_decompressor(sp->dec);
	if (sp->capdfd >= 0)
		close(sp->capdfd);
	free(sp);
}
