/*
 * flowlog.h: the local flow database: conversation records as JSON lines in
 * rotating, crash-safe gzip files under one directory (STATEDIR/flows).
 *
 * One line per record (see flowlog.c for the field list, which is a
 * contract: analysts' scripts use the names).  The caller's thread only
 * encodes JSON into a chunk buffer; one writer thread compresses each chunk
 * into an independent gzip member, writes it, rotates files and enforces the
 * retention cap.  Every written member is a complete gzip stream, so a file
 * is readable up to its last flush even after kill -9.
 *
 * Threading: flowlog_write, flowlog_tick, flowlog_sync, flowlog_get_stats,
 * flowlog_set_* and flowlog_close must be called from one thread (the event
 * loop).  None of them logs; errors surface as counters.
 */
#ifndef SENSORD_FLOWLOG_H
#define SENSORD_FLOWLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "convrec.h"

/* Longest interface name kept (bytes); longer names are cut. */
#define FLOWLOG_IFACE_MAX 128

/* "flows-20261129T180000Z-0042.jsonl.gz" plus NUL. */
#define FLOWLOG_NAME_LEN 37

struct flowlog;

struct flowlog_config {
	const char *dir; /* created 0750 if missing */
	/* Rotate before a file's compressed size would pass this; 64 MiB. */
	uint64_t file_size;
	/*
	 * New file when flow time enters a new interval (boundaries at
	 * multiples of it, UTC); 0 = off; default 3600.
	 */
	uint32_t rotate_interval_s;
	/* Cap on all flow files in dir, 0 = none; >= file_size. */
	uint64_t retention_bytes;
	/* Max age of buffered records, in flowlog_tick time; default 2. */
	uint32_t flush_interval_s;
	int	 level; /* 0..12 (gzenc.h), default 1 */
	/* Queue full: 1 waits (offline), 0 drops and counts (live). */
	int lossless;
	/* JSON bytes per gzip member: 4 KiB..16 MiB, default 256 KiB. */
	size_t	 chunk_size;
	unsigned queue_chunks; /* queued to the writer, 16 */
	/*
	 * 1: add src_first, src_last, dst_first, dst_last (+33% bytes, see
	 * flowlog.c); default 0.
	 */
	int dir_times;
	/* Interface names by convrec.iface; index out of range prints "-". */
	const char *const *iface_names;
	unsigned	   n_ifaces;
	/*
	 * Test seam: replaces write(2) for gzip members (fault injection:
	 * ENOSPC, short writes, a kill in mid-write).  NULL in production.
	 */
	ssize_t (*write_fn)(int fd, const void *buf, size_t len);
};

/*
 * Counters.  Once flowlog_close has run (or after flowlog_sync):
 * n_records = n_written + n_dropped + n_lost.
 */
struct flowlog_stats {
	/* Caller side. */
	uint64_t n_records; /* accepted by flowlog_write */
	uint64_t n_dropped; /* dropped: queue full (live) */
	uint64_t n_ignored; /* END_NONE notices, not logged */
	uint64_t n_flushes; /* chunks cut early (flush, time) */
	/* Writer side. */
	uint64_t n_written;	 /* records in members on disk */
	uint64_t n_lost;	 /* lost to write errors */
	uint64_t n_members;	 /* gzip members written */
	uint64_t bytes_in;	 /* JSON bytes of those members */
	uint64_t bytes_out;	 /* compressed bytes written */
	uint64_t n_files;	 /* files created by this instance */
	uint64_t n_deleted;	 /* files deleted by the cap */
	uint64_t n_write_errors; /* open/write/fsync/unlink */
	/* Files cut back to their last whole member at start-up. */
	uint64_t n_repaired;
	uint64_t disk_bytes; /* all catalogued files (gauge) */
	uint64_t disk_files; /* catalogued files (gauge) */
	int	 last_errno; /* latest error, 0 if none */
	/* Writing stopped by an error until the next rotation (gauge). */
	int is_suspended;
};

void flowlog_config_defaults(struct flowlog_config *cfg);

/*
 * Validate cfg, create dir, scan it for existing flow files (the catalogue
 * the retention cap counts), cut a file left half-written by a crash back to
 * its last whole member, start the writer thread.  NULL with errno on error
 * (EINVAL for an impossible configuration).
 */
struct flowlog *flowlog_open(const struct flowlog_config *cfg);

/* Append one record (END_NONE notices are ignored and counted). */
void flowlog_write(struct flowlog *fl, const struct convrec *cr);

/* Call about once a second: flushes aged records, rotates by time. */
void flowlog_tick(struct flowlog *fl, uint64_t now_us);

/*
 * Hand off buffered records and wait until the writer has written (or
 * counted as lost) everything handed off so far.  Blocks: for tests, the end
 * of offline input and shutdown, not for the live loop.
 */
void flowlog_sync(struct flowlog *fl);

/* Change the interface name for an index (e.g. an interface appeared). */
int flowlog_set_iface(struct flowlog *fl, unsigned idx, const char *name);

/* Switch between waiting and dropping when the queue is full. */
void flowlog_set_lossless(struct flowlog *fl, int lossless);

void flowlog_get_stats(struct flowlog *fl, struct flowlog_stats *st);

/* Flush, finish and fsync the open file, join the writer, free.  NULL ok. */
void flowlog_close(struct flowlog *fl);

/*
 * File names: "flows-YYYYmmddTHHMMSSZ-NNNN.jsonl.gz", the UTC flow time of
 * the file's first record (seconds) and a rolling sequence number.
 * flowlog_name_parse returns 0 and fills t_s/seq for a well-formed name.
 */
void flowlog_name_fmt(uint64_t t_s, unsigned seq, char buf[FLOWLOG_NAME_LEN]);
int  flowlog_name_parse(const char *name, uint64_t *t_s, unsigned *seq);

/*
 * The per-member index in each gzip header's extra field (RFC 1952 FEXTRA,
 * subfield "SF"): member size, record count and the record time range, so
 * readers skip members by time and start-up repair walks members without
 * inflating.  All little endian.
 */
#define FLOWLOG_SF_LEN 24 /* subfield payload bytes */
#define FLOWLOG_HDR_LEN (10 + 2 + 4 + FLOWLOG_SF_LEN)

struct flowlog_member {
	uint32_t size; /* whole member, with trailer */
	uint32_t n_records;
	uint64_t min_start_us; /* smallest start of its records */
	uint64_t max_end_us;   /* largest end of its records */
};

/*
 * Parse a member header at buf (untrusted: read through the cursor).
 * Returns 1 with *m filled for one of ours, 0 for a well-formed gzip header
 * without our subfield or too short to tell, -1 when not a gzip header.
 */
int flowlog_member_parse(
    const uint8_t *buf, size_t len, struct flowlog_member *m);

#endif /* SENSORD_FLOWLOG_H */
