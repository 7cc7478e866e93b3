/*
 * flowlog_bench: how fast the flow log takes records, and what the
 * compressor choice costs.
 *
 *   flowlog_bench [-1] [-n records] [-l level] [-c chunk_kib] [DIR]
 *
 * (-1: only step 1.  -t: with the per-direction first/last times.)
 *
 * 1. Caller cost: records pushed through flowlog_write in live mode with a
 *    writer that discards its output (no disk), i.e. JSON encoding plus one
 *    lock per chunk: ns per record on the caller's thread.
 * 2. End to end: the same records in lossless mode written to DIR (default
 *    a temp dir): records/s until flowlog_close returns, compressed bytes
 *    per record, ratio.
 * 3. Compressors on the JSON just written (read back with zlib): gzenc
 *    level 1 (ISA-L, what the flow log uses), libdeflate levels 1/3/6 and
 *    zlib levels 1/6 as one-shot gzip members of the chunk
 *    size: MB/s of JSON in, ratio.
 *
 * Records are synthetic but shaped like a busy sensor's: clients in a /16,
 * a few hundred servers, ephemeral ports, common services, TCP mostly.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>
#include <zlib.h>

#include "flowlog.h"
#include "gzenc.h"
#include "util.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
proc_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
mkrec(struct convrec *cr, uint64_t i, uint64_t *clock)
{
	static const uint16_t svc[] = { 443, 443, 443, 80, 53, 53, 22, 123,
	    8080, 3389, 445, 993 };
	static const char *const st[] = { "SF", "SF", "SF", "S0", "REJ",
	    "RSTO", "OTH", "SH" };
	static const char *const hi[] = { "ShADadFf", "ShADadfF", "S", "Sr",
	    "ShADadR", "Dd", "ShAdDaFf" };
	uint64_t r = rnd(), dur;

	memset(cr, 0, sizeof(*cr));
	*clock += rnd() % 8;		/* ~250k records per flow second */
	cr->conv_id = 0x100000000ULL + i;
	cr->seq = r % 16 == 0 ? (uint32_t)(r >> 8) % 4 : 0;
	cr->proto = r % 10 < 8 ? 6 : r % 10 == 8 ? 17 : 1;
	cr->family = 4;
	addr_parse("10.20.0.0", cr->src);
	addr_parse("192.0.2.0", cr->dst);
	cr->src[14] = (uint8_t)(r >> 16);
	cr->src[15] = (uint8_t)(r >> 24);
	cr->dst[14] = (uint8_t)(r >> 32) & 1;
	cr->dst[15] = (uint8_t)(r >> 40);
	cr->sport = (uint16_t)(32768 + (r >> 48) % 28232);
	cr->dport = svc[(r >> 4) % 12];
	dur = rnd() % 30000000;
	cr->end_us = *clock;
	cr->start_us = *clock - dur;
	cr->fwd.pkts = 1 + rnd() % 200;
	cr->fwd.bytes = cr->fwd.pkts * (40 + rnd() % 1460);
	cr->fwd.first_us = cr->start_us;
	cr->fwd.last_us = cr->end_us - rnd() % 1000;
	cr->fwd.flags = 0x1b;
	if (r % 7 != 0) {
		cr->rev.pkts = 1 + rnd() % 300;
		cr->rev.bytes = cr->rev.pkts * (40 + rnd() % 1460);
		cr->rev.first_us = cr->start_us + rnd() % 50000;
		cr->rev.last_us = cr->end_us;
		cr->rev.flags = 0x1b;
	}
	util_strlcpy(cr->state, st[r % 8], sizeof(cr->state));
	util_strlcpy(cr->history, hi[(r >> 3) % 7], sizeof(cr->history));
	cr->reason = (uint8_t)(r % 5 == 0 ? END_ACTIVE : r % 3 ? END_FIN :
	    END_IDLE);
	cr->is_final = cr->reason != END_ACTIVE;
	cr->iface = 0;
}

static ssize_t
discard(int fd, const void *buf, size_t len)
{
	(void)fd;
	(void)buf;
	return (ssize_t)len;
}

/* zcat every flow file of dir into one buffer. */
static unsigned char *
slurp(const char *dir, size_t *len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 1 << 24, n = 0;
	unsigned char *buf = malloc(cap);
	char p[4096];
	gzFile gz;
	int r;

	if (d == NULL || buf == NULL)
		exit(1);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "flows-", 6) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if ((gz = gzopen(p, "rb")) == NULL)
			continue;
		for (;;) {
			if (cap - n < 1 << 20) {
				cap *= 2;
				if ((buf = realloc(buf, cap)) == NULL)
					exit(1);
			}
			if ((r = gzread(gz, buf + n, 1 << 20)) <= 0)
				break;
			n += (size_t)r;
		}
		gzclose(gz);
	}
	closedir(d);
	*len = n;
	return buf;
}

static void
bench_libdeflate(const unsigned char *in, size_t len, size_t chunk, int lvl)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(lvl);
	size_t cap = libdeflate_gzip_compress_bound(c, chunk), off, out = 0;
	unsigned char *ob = malloc(cap);
	double t = cpu_s();

	for (off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		out += libdeflate_gzip_compress(c, in + off, n, ob, cap);
	}
	t = cpu_s() - t;
	printf("  libdeflate level %-2d %5zu KiB members: %6.1f MB/s, "
	    "ratio %.2f\n", lvl, chunk / 1024, len / t / 1e6,
	    (double)len / out);
	free(ob);
	libdeflate_free_compressor(c);
}

/* What the flow log uses: gzenc (level 1: ISA-L). */
static void
bench_gzenc(const unsigned char *in, size_t len, size_t chunk, int lvl)
{
	struct gze *g = gze_new();
	size_t cap = gze_bound(chunk), off, out = 0;
	unsigned char *ob = malloc(cap);
	double t = cpu_s();

	for (off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		out += gze_compress(g, lvl, in + off, n, ob, cap) + 18;
	}
	t = cpu_s() - t;
	printf("  gzenc      level %-2d %5zu KiB members: %6.1f MB/s, "
	    "ratio %.2f%s\n", lvl, chunk / 1024, len / t / 1e6,
	    (double)len / out, lvl == 1 ? " (ISA-L igzip)" : "");
	free(ob);
	gze_free(g);
}

static void
bench_zlib(const unsigned char *in, size_t len, size_t chunk, int lvl)
{
	size_t cap = compressBound(chunk) + 64, off, out = 0;
	unsigned char *ob = malloc(cap);
	z_stream zs;
	double t = cpu_s();

	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, lvl, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	for (off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		deflateReset(&zs);
		zs.next_in = (unsigned char *)(uintptr_t)(in + off);
		zs.avail_in = n;
		zs.next_out = ob;
		zs.avail_out = cap;
		deflate(&zs, Z_FINISH);
		out += cap - zs.avail_out;
	}
	deflateEnd(&zs);
	t = cpu_s() - t;
	printf("  zlib       level %-2d %5zu KiB members: %6.1f MB/s, "
	    "ratio %.2f\n", lvl, chunk / 1024, len / t / 1e6,
	    (double)len / out);
	free(ob);
}

int
main(int argc, char **argv)
{
	static const char *const ifn[] = { "eth0" };
	struct flowlog_config cfg;
	struct flowlog_stats st;
	struct flowlog *fl;
	struct convrec *recs;
	char tmpl[] = "/tmp/flowlog-bench.XXXXXX";
	const char *dir = NULL;
	long n = 1000000, i;
	int level = 1, ch, kib = 256, only_caller = 0, dir_times = 0;
	uint64_t clock = 1700000000000000ULL;
	unsigned char *json;
	size_t jlen;
	double t, t_enc, t_cpu, t_pcpu;
	char cmd[4200];

	while ((ch = getopt(argc, argv, "n:l:c:1t")) != -1) {
		switch (ch) {
		case 't':
			dir_times = 1;
			break;
		case '1':
			only_caller = 1;
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'l':
			level = atoi(optarg);
			break;
		case 'c':
			kib = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: flowlog_bench [-1t] "
			    "[-n records] [-l level] [-c chunk_kib] [dir]\n");
			return 2;
		}
	}
	if (optind < argc)
		dir = argv[optind];
	else if ((dir = mkdtemp(tmpl)) == NULL)
		return 1;
	/* Records built beforehand: only flowlog is timed. */
	if ((recs = malloc(n * sizeof(*recs))) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		mkrec(&recs[i], i, &clock);

	flowlog_config_defaults(&cfg);
	cfg.dir = dir;
	cfg.level = level;
	cfg.chunk_size = (size_t)kib * 1024;
	cfg.iface_names = ifn;
	cfg.n_ifaces = 1;
	cfg.rotate_interval_s = 0;
	cfg.file_size = 1ULL << 32;
	cfg.dir_times = dir_times;

	/* 1. Caller cost, nothing to disk, never blocking. */
	cfg.write_fn = discard;
	cfg.lossless = 0;
	cfg.queue_chunks = 64;
	if ((fl = flowlog_open(&cfg)) == NULL) {
		perror("flowlog_open");
		return 1;
	}
	/*
	 * A small ring of records, cache-hot as a record just emitted by the
	 * flow table is: this times the encoder, not the memory system.
	 */
	t = now_s();
	t_cpu = cpu_s();
	for (i = 0; i < n; i++)
		flowlog_write(fl, &recs[i & 1023]);
	t_cpu = cpu_s() - t_cpu;
	t_enc = now_s() - t;
	flowlog_sync(fl);
	flowlog_get_stats(fl, &st);
	flowlog_close(fl);
	printf("caller (live, writer discards): %ld records in %.3f s wall, "
	    "%.3f s CPU: %.0f ns/record CPU, %.2f M records/s; writer kept "
	    "up with %.1f%% (dropped %llu)\n", n, t_enc, t_cpu,
	    t_cpu / n * 1e9, n / t_cpu / 1e6,
	    100.0 * st.n_written / n, (unsigned long long)st.n_dropped);
	snprintf(cmd, sizeof(cmd), "rm -f %s/flows-*.jsonl.gz", dir);
	if (system(cmd) != 0)
		return 1;
	if (only_caller)
		goto out;

	/* 2. End to end, lossless, to disk. */
	cfg.write_fn = NULL;
	cfg.lossless = 1;
	cfg.queue_chunks = 16;
	if ((fl = flowlog_open(&cfg)) == NULL)
		return 1;
	t = now_s();
	t_pcpu = proc_cpu_s();
	t_cpu = cpu_s();
	for (i = 0; i < n; i++)
		flowlog_write(fl, &recs[i]);
	flowlog_sync(fl);
	t_cpu = cpu_s() - t_cpu;
	flowlog_get_stats(fl, &st);
	flowlog_close(fl);
	t_pcpu = proc_cpu_s() - t_pcpu;
	t = now_s() - t;
	/* Process CPU minus the caller's: the writer's compress + write. */
	printf("end to end (lossless, level %d, %d KiB chunks): %.3f s wall, "
	    "%.0f records/s; writer %.0f ns CPU/record (%.0f records/s per "
	    "core)\n", level, kib, t, n / t, (t_pcpu - t_cpu) / n * 1e9,
	    n / (t_pcpu - t_cpu));
	printf("  JSON %.1f B/record, gzip %.1f B/record, "
	    "ratio %.2f, %llu members\n",
	    (double)st.bytes_in / n, (double)st.bytes_out / n,
	    (double)st.bytes_in / st.bytes_out,
	    (unsigned long long)st.n_members);

	/* 3. Compressors on the same JSON. */
	json = slurp(dir, &jlen);
	printf("compressors on %.1f MB of these JSON lines (MB/s per CPU "
	    "second):\n",
	    jlen / 1e6);
	bench_gzenc(json, jlen, 256 * 1024, 1);
	bench_libdeflate(json, jlen, 256 * 1024, 1);
	bench_libdeflate(json, jlen, 1024 * 1024, 1);
	bench_libdeflate(json, jlen, 64 * 1024, 1);
	bench_libdeflate(json, jlen, 256 * 1024, 3);
	bench_libdeflate(json, jlen, 256 * 1024, 6);
	bench_zlib(json, jlen, 256 * 1024, 1);
	bench_zlib(json, jlen, 256 * 1024, 6);
	free(json);
out:
	free(recs);
	if (optind >= argc) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
