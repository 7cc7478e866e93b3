/*
 * zout.c: gzip members (gzenc: ISA-L at level 1, libdeflate above), a
 * stored fallback, and a pool.
 *
 * Member formats (RFC 1952 section 2.3, RFC 1951 section 3.2.4):
 *  - compressed: a 10-byte header, gze_compress() output, CRC-32, ISIZE;
 *  - stored: a 10-byte header, deflate "no compression" blocks of at most
 *    65535 bytes (1 byte BFINAL/BTYPE=00, LEN, NLEN, data), CRC-32 and
 *    ISIZE.  Size: n + 18 + 5 * max(1, ceil(n / 65535)) = zout_bound(n);
 *  - metadata: header with FLG.FCOMMENT, the comment, a NUL, the empty
 *    fixed-Huffman final block (0x03 0x00), CRC-32 0, ISIZE 0.
 *
 * Compress or store: a chunk is first test-compressed on its first
 * ZOUT_SAMPLE bytes; when that sample saves under ZOUT_MIN_SAVING_PCT the
 * chunk is stored without compressing the rest (encrypted traffic costs a
 * memcpy and a CRC, not a deflate pass).  Otherwise the whole chunk is
 * compressed into a buffer sized to the required saving, and if it does not
 * fit, stored after all.  Hence every member is <= zout_bound(n), and a
 * compressed member always saves at least the minimum.
 *
 * The pool: one mutex, a FIFO of submitted jobs, two condition variables
 * (work available, job done).  Workers pop a job, compress it outside the
 * lock with their own zout_ctx, mark it done, broadcast.  The owner waits
 * for a specific job; jobs may finish out of order, the owner decides the
 * order in which results are written.  Compression is deterministic, so the
 * output bytes do not depend on the thread count.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gzenc.h"
#include "zout.h"

#define STORED_MAX GZE_STORED_MAX
#define ZOUT_NICE 5 /* compressors run this much nicer than the process */
#define GZ_HDR 10u
#define GZ_TRAILER 8u

struct zout_ctx {
	struct gze *g;
	uint8_t	   *sample; /* scratch for the test compression */
};

struct zout_worker {
	struct zout	*z;
	struct zout_ctx *ctx;
	pthread_t	 th;
};

struct zout {
	pthread_mutex_t	   mu;
	pthread_cond_t	   cv_work;
	pthread_cond_t	   cv_done;
	struct zout_job	  *q_head, *q_tail;
	int		   is_stopping;
	unsigned	   nthreads;
	struct zout_worker w[ZOUT_MAX_THREADS];
	struct zout_ctx	  *own; /* nthreads == 0 */
};

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
gz_header(uint8_t *p, uint8_t flags)
{
	p[0] = 0x1f;
	p[1] = 0x8b;
	p[2] = 8; /* CM = deflate */
	p[3] = flags;
	put_le32(p + 4, 0); /* MTIME: none (files must not depend on it) */
	p[8] = 0;	    /* XFL */
	p[9] = 3;	    /* OS = Unix */
}

size_t
zout_bound(size_t n)
{
	size_t blocks = n == 0 ? 1 : (n + STORED_MAX - 1) / STORED_MAX;

	return n + GZ_HDR + GZ_TRAILER + 5 * blocks;
}

size_t
zout_meta_size(size_t comment_len)
{
	return GZ_HDR + comment_len + 1 + 2 + GZ_TRAILER;
}

size_t
zout_meta_member(uint8_t *out, const char *comment, size_t len)
{
	uint8_t *p = out;

	gz_header(p, 0x10); /* FLG.FCOMMENT */
	p += GZ_HDR;
	memcpy(p, comment, len);
	p += len;
	*p++ = 0;
	*p++ = 0x03; /* BFINAL=1, BTYPE=01, end-of-block */
	*p++ = 0x00;
	put_le32(p, 0);	    /* CRC-32 of nothing */
	put_le32(p + 4, 0); /* ISIZE */
	p += GZ_TRAILER;
	return (size_t)(p - out);
}

static size_t
store(const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t *p = out;

	gz_header(p, 0);
	p += GZ_HDR;
	p += gze_stored(in, n, p);
	put_le32(p, gze_crc32(0, in, n));
	put_le32(p + 4, (uint32_t)n);
	p += GZ_TRAILER;
	return (size_t)(p - out);
}

struct zout_ctx *
zout_ctx_new(void)
{
	struct zout_ctx *zc;

	if ((zc = calloc(1, sizeof(*zc))) == NULL)
		return NULL;
	if ((zc->sample = malloc(ZOUT_SAMPLE)) == NULL ||
	    (zc->g = gze_new()) == NULL) {
		free(zc->sample);
		free(zc);
		return NULL;
	}
	return zc;
}

void
zout_ctx_free(struct zout_ctx *zc)
{
	if (zc == NULL)
		return;
	gze_free(zc->g);
	free(zc->sample);
	free(zc);
}

/* Largest compressed size that still saves the minimum. */
static size_t
min_saving_cap(size_t n)
{
	return n - n * ZOUT_MIN_SAVING_PCT / 100 - 1;
}

size_t
zout_member(struct zout_ctx *zc, int level, const uint8_t *in, size_t n,
    uint8_t *out, int *is_stored)
{
	size_t len;

	*is_stored = 1;
	if (level <= 0 || n < 64)
		return store(in, n, out);
	if (n > 2 * ZOUT_SAMPLE &&
	    gze_compress(zc->g, level, in, ZOUT_SAMPLE, zc->sample,
		min_saving_cap(ZOUT_SAMPLE)) == 0)
		return store(in, n, out);
	len = gze_compress(zc->g, level, in, n, out + GZ_HDR,
	    min_saving_cap(n) - GZ_HDR - GZ_TRAILER);
	if (len == 0)
		return store(in, n, out);
	gz_header(out, 0);
	put_le32(out + GZ_HDR + len, gze_crc32(0, in, n));
	put_le32(out + GZ_HDR + len + 4, (uint32_t)n);
	*is_stored = 0;
	return GZ_HDR + len + GZ_TRAILER;
}

static void
run_job(struct zout_ctx *zc, struct zout_job *j)
{
	j->out_len =
	    zout_member(zc, j->level, j->in, j->in_len, j->out, &j->is_stored);
}

/*
 * Compressors yield to everything else in the process: when the CPUs are
 * short, metering must keep its core; a compressor that falls behind fills
 * the pool, then the capture queue, and packets of escalated hosts are
 * dropped and counted, which is the designed way to degrade.
 */
static void
lower_priority(void)
{
	id_t tid = (id_t)syscall(SYS_gettid);
	int  n;

	errno = 0;
	n = getpriority(PRIO_PROCESS, tid);
	if (errno == 0)
		(void)setpriority(
		    PRIO_PROCESS, tid, n + ZOUT_NICE > 19 ? 19 : n + ZOUT_NICE);
}

static void *
worker(void *arg)
{
	struct zout_worker *w = arg;
	struct zout	   *z = w->z;
	struct zout_job	   *j;

	lower_priority();
	pthread_mutex_lock(&z->mu);
	for (;;) {
		while (z->q_head == NULL && !z->is_stopping)
			pthread_cond_wait(&z->cv_work, &z->mu);
		if (z->q_head == NULL)
			break;
		j = z->q_head;
		z->q_head = j->next;
		if (z->q_head == NULL)
			z->q_tail = NULL;
		pthread_mutex_unlock(&z->mu);
		run_job(w->ctx, j);
		pthread_mutex_lock(&z->mu);
		j->is_done = 1;
		pthread_cond_broadcast(&z->cv_done);
	}
	pthread_mutex_unlock(&z->mu);
	return NULL;
}

struct zout *
zout_new(unsigned nthreads)
{
	struct zout *z;
	unsigned     i;

	if (nthreads > ZOUT_MAX_THREADS) {
		errno = EINVAL;
		return NULL;
	}
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	pthread_mutex_init(&z->mu, NULL);
	pthread_cond_init(&z->cv_work, NULL);
	pthread_cond_init(&z->cv_done, NULL);
	if (nthreads == 0) {
		if ((z->own = zout_ctx_new()) == NULL)
			goto fail;
		return z;
	}
	for (i = 0; i < nthreads; i++) {
		z->w[i].z = z;
		if ((z->w[i].ctx = zout_ctx_new()) == NULL)
			goto fail;
	}
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&z->w[i].th, NULL, worker, &z->w[i]) != 0) {
			zout_free(z);
			errno = EAGAIN;
			return NULL;
		}
		z->nthreads = i + 1;
	}
	return z;
fail:
	zout_free(z);
	errno = ENOMEM;
	return NULL;
}

void
zout_free(struct zout *z)
{
	unsigned i;

	if (z == NULL)
		return;
	pthread_mutex_lock(&z->mu);
	z->is_stopping = 1;
	pthread_cond_broadcast(&z->cv_work);
	pthread_mutex_unlock(&z->mu);
	for (i = 0; i < z->nthreads; i++)
		pthread_join(z->w[i].th, NULL);
	for (i = 0; i < ZOUT_MAX_THREADS; i++)
		zout_ctx_free(z->w[i].ctx);
	zout_ctx_free(z->own);
	pthread_cond_destroy(&z->cv_work);
	pthread_cond_destroy(&z->cv_done);
	pthread_mutex_destroy(&z->mu);
	free(z);
}

void
zout_submit(struct zout *z, struct zout_job *j)
{
	j->is_done = 0;
	j->next = NULL;
	if (z->nthreads == 0) {
		run_job(z->own, j);
		j->is_done = 1;
		return;
	}
	pthread_mutex_lock(&z->mu);
	if (z->q_tail != NULL)
		z->q_tail->next = j;
	else
		z->q_head = j;
	z->q_tail = j;
	pthread_cond_signal(&z->cv_work);
	pthread_mutex_unlock(&z->mu);
}

void
zout_wait(struct zout *z, struct zout_job *j)
{
	if (z->nthreads == 0)
		return;
	pthread_mutex_lock(&z->mu);
	while (!j->is_done)
		pthread_cond_wait(&z->cv_done, &z->mu);
	pthread_mutex_unlock(&z->mu);
}

int
zout_is_done(struct zout *z, struct zout_job *j)
{
	int done;

	if (z->nthreads == 0)
		return j->is_done;
	pthread_mutex_lock(&z->mu);
	done = j->is_done;
	pthread_mutex_unlock(&z->mu);
	return done;
}

unsigned
zout_threads(const struct zout *z)
{
	return z->nthreads;
}
