/*
 * flowread.h: read the flow log back (sensorctl flows, tests, tools).
 *
 * Iterates the records of flow-log files in order (a directory's files
 * sorted by name, i.e. by flow time; records in the order written), with
 * filters.  Decompression is zlib's streaming inflate member by member, so a
 * file cut by a crash yields every whole line before the cut and is reported
 * as truncated.  Each line is parsed back into a struct convrec by a strict,
 * bounded parser (through cursor.h); a malformed line is counted, reported
 * with file:line and skipped.  Members whose header index ("SF" subfield,
 * see flowlog.h) shows no record in the time filter are skipped without
 * inflating.
 */
#ifndef SENSORD_FLOWREAD_H
#define SENSORD_FLOWREAD_H

#include <stddef.h>
#include <stdint.h>

#include "convrec.h"
#include "flowlog.h"
#include "util.h"

#define FLOWREAD_LINE_MAX 4096 /* longer lines are malformed */

struct flowread;

/* Every set condition must hold. */
struct flowread_filter {
	int	    has_host;
	struct cidr host; /* src or dst in the prefix */
	int	    has_port;
	uint16_t    port;     /* sport or dport */
	uint64_t    since_us; /* end >= since; 0: no bound */
	uint64_t    until_us; /* start <= until; 0: no bound */
};

/* One record read back. */
struct flowread_rec {
	/*
	 * Filled from the line; family is derived from the addresses,
	 * iface is 0 (the name is below), flipped and first_flags are not
	 * in the log and are 0.
	 */
	struct convrec cr;
	char	       iface[FLOWLOG_IFACE_MAX + 1]; /* raw, NUL */
	size_t	       iface_len;		     /* iface may hold NULs */
};

struct flowread_stats {
	uint64_t n_files;	    /* files opened */
	uint64_t n_members;	    /* gzip members inflated */
	uint64_t n_members_skipped; /* skipped by the time index */
	uint64_t n_lines;	    /* lines read */
	uint64_t n_records;	    /* records returned */
	uint64_t n_filtered;	    /* well-formed, not matching */
	uint64_t n_malformed;	    /* lines skipped as malformed */
	uint64_t n_truncated;	    /* files ending in a cut member */
	uint64_t n_corrupt;	    /* files with bad gzip data or junk */
	uint64_t n_io_errors;	    /* open/read failures */
};

/* Called for each problem: line 0 for file-level ones. */
typedef void (*flowread_problem_fn)(
    void *arg, const char *file, uint64_t line, const char *what);

/* filter and fn may be NULL. */
struct flowread *flowread_new(
    const struct flowread_filter *filter, flowread_problem_fn fn, void *arg);
void flowread_free(struct flowread *fr);

/* Queue the flow-log files of dir, sorted by name.  0, or -1 with errno. */
int flowread_add_dir(struct flowread *fr, const char *dir);
/* Queue one open file (gzip or not); fr closes fd.  name is for reports. */
int flowread_add_fd(struct flowread *fr, int fd, const char *name);

/*
 * Next matching record: 1 and *rec filled, 0 at the end of the last file.
 * Problems never stop the iteration; they are counted and reported.
 */
int flowread_next(struct flowread *fr, struct flowread_rec *rec);

/* Where the last line came from (valid until the next call). */
const char *flowread_file(const struct flowread *fr);
uint64_t    flowread_line(const struct flowread *fr);

void flowread_get_stats(const struct flowread *fr, struct flowread_stats *st);

/*
 * Parse one line (without its newline).  0 and *rec filled, or -1 and *why
 * set to a static reason.  Unknown keys are ignored (a newer writer may add
 * fields); every contract key is required, once.
 */
int flowread_parse_line(const uint8_t *line, size_t len,
    struct flowread_rec *rec, const char **why);

/* 1 when cr passes the filter. */
int flowread_match(const struct flowread_filter *f, const struct convrec *cr);

#endif /* SENSORD_FLOWREAD_H */
