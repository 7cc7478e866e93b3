/*
 * test_writer: the writer thread end to end.  Pre-trigger packets land at
 * the head of the first file; events come back through the eventfd; a full
 * ring drops and counts per host without blocking, while commands still get
 * through; a threaded run writes byte-identical files to an inline run of
 * the same input; written + dropped == submitted under a flood.  Run it
 * with SANITIZE=thread for the ring and wake-up ordering.
 */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "pretrig.h"
#include "sha256.h"
#include "t.h"
#include "util.h"
#include "writer.h"

#define SEC	1000000000ull
#define T0	(1764000000ull * SEC)

static const uint8_t A1[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
    198, 51, 100, 7 };

static char tmpl[] = "/dev/shm/sensord-writer-XXXXXX";
static char tmpl2[] = "/tmp/sensord-writer-XXXXXX";
static char *root;
static uint32_t pre_kept;	/* packets the pre-trigger ring kept */

static uint32_t
pkt_len(uint32_t i)
{
	return 60 + (i * 7919u) % 1400;
}

static void
pkt_fill(uint8_t *p, uint32_t i, uint32_t len)
{
	uint32_t k;

	memcpy(p, &i, 4);
	for (k = 4; k < len; k++)
		p[k] = (uint8_t)((k * 31 + i) % 251);
}

/* Decompress with zlib and walk with libpcap: ids in order, bytes exact. */
static int
readback(const char *path, uint32_t *ids, int max, int *bad)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	uint8_t want[2048], *b;
	size_t n = 0, cap = 1 << 20;
	gzFile g;
	FILE *fp;
	pcap_t *p;
	int r, cnt = 0;
	uint32_t id;

	if ((g = gzopen(path, "rb")) == NULL)
		return -1;
	b = malloc(cap);
	while ((r = gzread(g, b + n, (unsigned)(cap - n))) > 0) {
		n += (size_t)r;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	gzclose(g);
	fp = fmemopen(b, n, "rb");
	if ((p = pcap_fopen_offline(fp, err)) == NULL) {
		free(b);
		return -1;
	}
	while (pcap_next_ex(p, &ph, &data) == 1) {
		memcpy(&id, data, 4);
		pkt_fill(want, id, pkt_len(id));
		if (ph->len != pkt_len(id) || ph->caplen != ph->len ||
		    memcmp(want, data, ph->caplen) != 0)
			(*bad)++;
		if (cnt < max)
			ids[cnt] = id;
		cnt++;
	}
	pcap_close(p);
	free(b);
	return cnt;
}

/* The closed files of the host, sorted by name (= by time, then id). */
static int
list_files(const char *statedir, char names[][256], int max)
{
	char d[128];
	struct dirent *de;
	DIR *dp;
	int n = 0, i, j;

	snprintf(d, sizeof(d), "%s/captures/198.51.100.7", statedir);
	if ((dp = opendir(d)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL && n < max) {
		size_t l = strlen(de->d_name);

		if (l > 8 && strcmp(de->d_name + l - 8, ".pcap.gz") == 0)
			if (snprintf(names[n], 256, "%s/%.100s", d,
			    de->d_name) < 256)
				n++;
	}
	closedir(dp);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char t[256];

				memcpy(t, names[i], 256);
				memcpy(names[i], names[j], 256);
				memcpy(names[j], t, 256);
			}
	return n;
}

static void
lim_init(struct spool_limits *lim)
{
	spool_limits_defaults(lim);
	lim->file_size = 256 * 1024;
	lim->host_cap = 64 << 20;
	lim->rotate_ns = 0;
	lim->snaplen = 2048;
}

/*
 * Pre-trigger packets 0..99 (the ring keeps the newest 60), then live
 * packets 100..N-1, a tick now and then, close.  Returns the number of
 * FILE_CLOSED events.
 */
static int
scenario(struct writer *w, uint32_t n, uint8_t digests[][SHA256_LEN],
    int max)
{
	struct pretrig *pt = pretrig_new(4, 1 << 20);
	struct spool_trigger trig = { 0 };
	struct spool_limits lim;
	struct spool_event ev;
	struct pretrig_snap *snap;
	uint8_t pkt[2048];
	uint32_t i;
	int n_closed = 0;

	/* Room for about 60 of the 100 packets. */
	pretrig_enable(pt, 2, 60 * (32 + 736), 0, 2048);
	for (i = 0; i < 100; i++) {
		pkt_fill(pkt, i, pkt_len(i));
		pretrig_push(pt, 2, T0 + i * 1000000ull, pkt, pkt_len(i),
		    pkt_len(i));
	}
	snap = pretrig_take(pt, 2, T0 + 100 * 1000000ull);
	pre_kept = snap != NULL ? snap->n_pkts : 0;
	lim_init(&lim);
	lim.file_size = 40000;
	trig.event_id = 7;
	util_strlcpy(trig.metric, "pkts", sizeof(trig.metric));
	T_EQ_INT(writer_open_host(w, 2, A1, &lim, &trig, snap), 0,
	    "open host with its pre-trigger snapshot");
	for (i = 100; i < n; i++) {
		pkt_fill(pkt, i, pkt_len(i));
		while (writer_submit_pkt(w, 2, T0 + i * 1000000ull, pkt,
		    pkt_len(i), pkt_len(i)) != 0)
			writer_flush(w);	/* lossless for this test */
		if (i % 500 == 0)
			writer_tick(w, T0 + i * 1000000ull);
	}
	T_EQ_INT(writer_close_host(w, 2), 0, "close host");
	writer_flush(w);
	while (writer_next_event(w, &ev))
		if (ev.type == SPOOL_EV_FILE_CLOSED && n_closed < max)
			memcpy(digests[n_closed++], ev.sha256, SHA256_LEN);
	pretrig_free(pt);
	return n_closed;
}

static void
t_threaded_vs_inline(void)
{
	char d1[300], d2[300], f1[64][256], f2[64][256];
	uint8_t g1[64][SHA256_LEN], g2[64][SHA256_LEN];
	struct writer_config cfg;
	struct writer *w;
	struct pollfd pfd;
	uint32_t *ids = malloc(20000 * sizeof(*ids));
	int n1, n2, nf1, nf2, k, i, bad = 0, total = 0, seq_bad = 0;
	uint32_t next;

	snprintf(d1, sizeof(d1), "%s/threaded", root);
	snprintf(d2, sizeof(d2), "%s/inline", root);
	mkdir(d1, 0755);
	mkdir(d2, 0755);
	writer_config_defaults(&cfg);
	cfg.spool.statedir = d1;
	cfg.spool.max_slots = 4;
	cfg.spool.chunk_bytes = 32768;
	cfg.spool.zthreads = 2;
	w = writer_new(&cfg);
	T_OK(w != NULL, "threaded writer");
	n1 = scenario(w, 3000, g1, 64);
	pfd.fd = writer_event_fd(w);
	pfd.events = POLLIN;
	T_EQ_INT(poll(&pfd, 1, 0), 0, "eventfd quiet once drained");
	writer_free(w);

	cfg.spool.statedir = d2;
	cfg.spool.zthreads = 0;
	cfg.is_inline = 1;
	w = writer_new(&cfg);
	T_OK(w != NULL, "inline writer");
	n2 = scenario(w, 3000, g2, 64);
	writer_free(w);

	T_OK(n1 > 3 && n1 == n2, "same number of files (%d, %d)", n1, n2);
	for (k = 0; k < n1 && k < n2; k++)
		if (memcmp(g1[k], g2[k], SHA256_LEN) != 0)
			bad++;
	T_EQ_INT(bad, 0, "threaded and inline files are byte-identical "
	    "(same sha256)");
	nf1 = list_files(d1, f1, 64);
	nf2 = list_files(d2, f2, 64);
	T_OK(nf1 == n1 && nf2 == n2, "one file per FILE_CLOSED event");
	/* Pre-trigger ring kept the newest of 0..99; then 100..2999. */
	T_OK(pre_kept > 20 && pre_kept < 100, "pre-trigger ring kept %u of "
	    "100 packets", pre_kept);
	next = 100 - pre_kept;
	for (k = 0; k < nf1; k++) {
		int nb = 0, cnt = readback(f1[k], ids, 20000, &nb);

		bad += nb;
		for (i = 0; i < cnt && i < 20000; i++)
			if (ids[i] != next++)
				seq_bad++;
		total += cnt;
	}
	T_EQ_INT(bad, 0, "every packet's bytes exact");
	T_EQ_INT(total, (int)(pre_kept + 2900), "pre-trigger + 2900 live "
	    "packets");
	T_EQ_INT(seq_bad, 0, "pre-trigger packets first, then live, in order");
	free(ids);
}

/* A write seam that makes the disk slow, to fill the ring. */
static ssize_t
slow_write(void *arg, int fd, const void *buf, size_t len, off_t off)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	(void)arg;
	nanosleep(&ts, NULL);
	return pwrite(fd, buf, len, off);
}

static void
t_ring_full(void)
{
	char d[300], f[256][256];
	struct writer_config cfg;
	struct writer_stats st;
	struct writer_slot_stats ss;
	struct spool_limits lim;
	struct writer *w;
	struct timespec a, b;
	uint8_t pkt[2048];
	uint32_t *ids = malloc(200000 * sizeof(*ids));
	uint32_t i, n = 40000, n_fail = 0;
	long worst_us = 0, us;
	int k, nf, total = 0, bad = 0;

	snprintf(d, sizeof(d), "%s/full", root);
	mkdir(d, 0755);
	writer_config_defaults(&cfg);
	cfg.spool.statedir = d;
	cfg.spool.max_slots = 4;
	cfg.spool.chunk_bytes = 8192;
	cfg.spool.write_fn = slow_write;
	cfg.queue_bytes = 1 << 20;
	w = writer_new(&cfg);
	lim_init(&lim);
	lim.file_size = 4 << 20;
	T_EQ_INT(writer_open_host(w, 2, A1, &lim, NULL, NULL), 0, "open");
	for (i = 0; i < n; i++) {
		pkt_fill(pkt, i, pkt_len(i));
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (writer_submit_pkt(w, 2, T0 + i * 1000ull, pkt, pkt_len(i),
		    pkt_len(i)) != 0) {
			if (errno != EAGAIN)
				bad++;
			n_fail++;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		us = (b.tv_sec - a.tv_sec) * 1000000 +
		    (b.tv_nsec - a.tv_nsec) / 1000;
		if (us > worst_us)
			worst_us = us;
	}
	writer_slot_stats(w, 2, &ss);
	T_OK(n_fail > 0, "a slow disk fills the ring: %u of %u dropped",
	    n_fail, n);
	T_EQ_INT(bad, 0, "drops report EAGAIN");
	T_EQ_U64(ss.drop_ring, n_fail, "drops counted for the host");
	printf("# slowest submit %ld us\n", worst_us);
	/* The command reserve lets CLOSE in behind the flood. */
	T_EQ_INT(writer_close_host(w, 2), 0, "close accepted behind a full "
	    "ring of packets");
	T_OK(writer_submit_pkt(w, 2, T0, pkt, 60, 60) == -1 &&
	    errno == ENOENT, "packets after close: ENOENT");
	writer_shutdown(w);
	writer_get_stats(w, &st);
	T_EQ_U64(st.pkts_queued + st.drop_ring, n, "queued + dropped = "
	    "submitted");
	nf = list_files(d, f, 256);
	for (k = 0; k < nf; k++) {
		int cnt = readback(f[k], ids, 200000, &bad);

		total += cnt > 0 ? cnt : 0;
	}
	T_EQ_INT(total, (int)st.pkts_queued, "files hold every queued packet");
	T_EQ_INT(bad, 0, "and their bytes are exact");
	writer_free(w);
	free(ids);
}

static void
t_errors(void)
{
	char d[300];
	struct writer_config cfg;
	struct spool_limits lim;
	struct spool_event ev;
	struct writer *w;
	int n_err = 0;

	snprintf(d, sizeof(d), "%s/errors", root);
	mkdir(d, 0755);
	writer_config_defaults(&cfg);
	cfg.spool.statedir = d;
	cfg.spool.max_slots = 4;
	w = writer_new(&cfg);
	lim_init(&lim);
	T_OK(writer_open_host(w, 9, A1, &lim, NULL, NULL) == -1 &&
	    errno == EINVAL, "slot out of range: EINVAL");
	T_OK(writer_submit_pkt(w, 1, T0, (const uint8_t *)"x", 1, 1) == -1 &&
	    errno == ENOENT, "packet for a closed slot: ENOENT");
	lim.file_size = 10;	/* the spool refuses it in the thread */
	T_EQ_INT(writer_open_host(w, 1, A1, &lim, NULL, NULL), 0,
	    "open queued");
	writer_flush(w);
	while (writer_next_event(w, &ev))
		if (ev.type == SPOOL_EV_WRITE_ERROR && ev.slot == 1 &&
		    ev.err == EINVAL)
			n_err++;
	T_EQ_INT(n_err, 1, "the refusal comes back as a WRITE_ERROR event");
	writer_shutdown(w);
	T_OK(writer_tick(w, T0) == -1 && errno == ESHUTDOWN,
	    "tick after shutdown: ESHUTDOWN");
	writer_free(w);
	writer_free(NULL);
}

int
main(void)
{
	char cmd[400];

	if ((root = mkdtemp(tmpl)) == NULL && (root = mkdtemp(tmpl2)) == NULL)
		return 1;
	t_threaded_vs_inline();
	t_ring_full();
	t_errors();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	return t_done();
}
