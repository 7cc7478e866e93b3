/*
 * zout.h: gzip members for capture files, and a small compression pool.
 *
 * A capture file is a concatenation of independent gzip members (RFC 1952
 * section 2.2 allows any number), each holding whole pcap records.  zcat,
 * tshark and Wireshark read the concatenation as one stream; a member that
 * was completely written survives a crash of the writer; an index of member
 * offsets makes a file seekable by time.  Members are compressed one-shot
 * by gzenc (ISA-L at level 1, libdeflate above; gzenc.h has the figures).
 *
 * A chunk that does not compress (saving under ZOUT_MIN_SAVING_PCT, e.g.
 * TLS payload) is stored instead: a member of uncompressed deflate blocks,
 * so no CPU is burnt on it and its size is exactly zout_bound().  Every
 * member is therefore at most zout_bound(raw length): the figure the spool
 * reserves against its caps before it writes anything.
 *
 * The pool runs compression on worker threads; the owner submits jobs and
 * waits for them in the order it needs them, so members are written in
 * order.  With 0 threads zout_submit() compresses on the caller's thread.
 */
#ifndef SENSORD_ZOUT_H
#define SENSORD_ZOUT_H

#include <stddef.h>
#include <stdint.h>

#define ZOUT_MIN_SAVING_PCT 3 /* store chunks that save less */
#define ZOUT_SAMPLE 16384     /* bytes test-compressed first */
#define ZOUT_MAX_LEVEL 12     /* gzenc's range is 0..12 */
#define ZOUT_MAX_THREADS 8

/* Exact size of a stored member of n bytes; no member is ever larger. */
size_t zout_bound(size_t n);

/* Size of the metadata member for a comment of n bytes. */
size_t zout_meta_size(size_t comment_len);

/*
 * A member with an empty body whose gzip header carries `comment` (FCOMMENT,
 * Latin-1, no NUL inside): the file's provenance, readable after a crash.
 * out must hold zout_meta_size(len) bytes; returns that size.
 */
size_t zout_meta_member(uint8_t *out, const char *comment, size_t len);

/* Per-thread compressor state (encoders are not shared). */
struct zout_ctx;
struct zout_ctx *zout_ctx_new(void);
void		 zout_ctx_free(struct zout_ctx *zc);

/*
 * Compress in[0..n) into one gzip member at out (room for zout_bound(n)),
 * at level 1..12 (0: always store).  Returns the member length; *is_stored
 * tells whether the chunk was stored.  Fails only on allocation of a
 * compressor, and then stores (never fails).
 */
size_t zout_member(struct zout_ctx *zc, int level, const uint8_t *in, size_t n,
    uint8_t *out, int *is_stored);

/* A unit of work for the pool.  The caller owns the buffers. */
struct zout_job {
	const uint8_t *in;
	size_t	       in_len;
	uint8_t	      *out; /* zout_bound(in_len) bytes */
	int	       level;
	/* Results, valid once the job is done. */
	size_t out_len;
	int    is_stored;
	/* Private to zout. */
	int		 is_done;
	struct zout_job *next;
};

struct zout;
/* nthreads 0..ZOUT_MAX_THREADS; NULL with errno on failure. */
struct zout *zout_new(unsigned nthreads);
/* Waits for queued jobs, joins the threads. */
void	 zout_free(struct zout *z);
void	 zout_submit(struct zout *z, struct zout_job *j);
void	 zout_wait(struct zout *z, struct zout_job *j);
int	 zout_is_done(struct zout *z, struct zout_job *j);
unsigned zout_threads(const struct zout *z);

#endif /* SENSORD_ZOUT_H */
