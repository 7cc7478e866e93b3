/*
 * test_spool: the capture spool in a temporary directory.
 *
 * Packets in, files out, read back with zlib + libpcap and compared byte
 * for byte; rotation by size and by time (tick, no packets); the three caps
 * checked after EVERY write from the real directory (stat, not the
 * catalogue); oldest-first deletion; suspension with one event and resume;
 * ENOSPC through the write seam; the free-space floor through the statfs
 * seam; sidecar hashes against our SHA-256 and sha256sum(1); the hash
 * chain; .part recovery after a cut member and after a SIGKILLed writer;
 * quarantine of garbage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "sha256.h"
#include "spool.h"
#include "t.h"
#include "util.h"

#define SEC	1000000000ull
#define T0	(1764000000ull * SEC)

/* ---- events ------------------------------------------------------------ */

#define MAXEV	4096
static struct spool_event evs[MAXEV];
static int n_ev;

static void
on_event(void *arg, const struct spool_event *ev)
{
	(void)arg;
	if (n_ev < MAXEV)
		evs[n_ev++] = *ev;
}

static int
count_ev(enum spool_ev_type type, int from)
{
	int i, n = 0;

	for (i = from; i < n_ev; i++)
		n += evs[i].type == type;
	return n;
}

/* ---- packets ------------------------------------------------------------ */

/* Packet i: 4-byte id then either text-like or random bytes. */
static uint32_t
pkt_len(uint32_t i)
{
	return 60 + (i * 7919u) % 1400;
}

static void
pkt_fill(uint8_t *p, uint32_t i, uint32_t len, int is_random)
{
	uint32_t k, x = i * 2654435761u + 1;

	memcpy(p, &i, 4);
	for (k = 4; k < len; k++) {
		if (is_random) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			p[k] = (uint8_t)x;
		} else
			p[k] = (uint8_t)("GET /index.html HTTP/1.1\r\nHost: a"
			    [(k + i) % 34]);
	}
}

static uint64_t
pkt_ts(uint32_t i)
{
	return T0 + (uint64_t)i * 1234567u;	/* ~810 packets a second */
}

/* tmpfs when there is one: fsync costs nothing there, and the caps test
 * closes a few hundred files. */
static char tmpl_shm[] = "/dev/shm/sensord-spool-XXXXXX";
static char tmpl[] = "/tmp/sensord-spool-XXXXXX";
static char *root;

static void
cfg_init(struct spool_config *cfg, const char *dir)
{
	spool_config_defaults(cfg);
	cfg->statedir = dir;
	cfg->max_slots = 8;
	cfg->chunk_bytes = 16384;
	cfg->event_fn = on_event;
}

static void
lim_init(struct spool_limits *lim)
{
	spool_limits_defaults(lim);
	lim->file_size = 1 << 20;
	lim->host_cap = 64 << 20;
	lim->rotate_ns = 0;
	lim->snaplen = 65535;
}

static const uint8_t A1[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
    192, 0, 2, 1 };
static const uint8_t A2[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
    192, 0, 2, 2 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 1 };

static void
mkdir_p(const char *d)
{
	mkdir(d, 0755);
}

/* ---- reading files back ----------------------------------------------- */

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Decompress a (multi-member) gzip file with zlib. */
static uint8_t *
gunzip(const char *path, size_t *len)
{
	gzFile g = gzopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap);
	int r;

	if (g == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 65536)
			b = realloc(b, cap *= 2);
		r = gzread(g, b + n, 65536);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	gzclose(g);
	*len = n;
	return b;
}

#define RB_MAX	200000

struct rb {
	uint32_t	ids[RB_MAX];
	uint64_t	ts[RB_MAX];
	int		n;
	int		n_bad;		/* bytes/len/time mismatches */
	int		linktype;
};

/*
 * Read a capture file back through zlib and libpcap (nano precision) and
 * check every packet against the generator: id, length, time, bytes.
 */
static int
readback(const char *path, struct rb *rb, uint32_t snaplen, int is_random,
    int is_nsec)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	uint8_t want[2048];
	size_t len;
	uint8_t *buf = gunzip(path, &len);
	FILE *fp;
	pcap_t *p;
	uint32_t id, wl;
	uint64_t ts, t;

	rb->n = rb->n_bad = 0;
	if (buf == NULL)
		return -1;
	fp = fmemopen(buf, len, "rb");
	p = pcap_fopen_offline_with_tstamp_precision(fp,
	    PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL) {
		printf("# %s: %s\n", path, err);
		fclose(fp);
		free(buf);
		return -1;
	}
	rb->linktype = pcap_datalink(p);
	while (pcap_next_ex(p, &ph, &data) == 1) {
		memcpy(&id, data, 4);
		wl = pkt_len(id);
		pkt_fill(want, id, wl, is_random);
		ts = (uint64_t)ph->ts.tv_sec * SEC + (uint64_t)ph->ts.tv_usec;
		t = is_nsec ? pkt_ts(id) : pkt_ts(id) / 1000 * 1000;
		if (ph->len != wl ||
		    ph->caplen != (wl < snaplen ? wl : snaplen) ||
		    memcmp(data, want, ph->caplen) != 0 || ts != t)
			rb->n_bad++;
		if (rb->n < RB_MAX) {
			rb->ids[rb->n] = id;
			rb->ts[rb->n] = ts;
		}
		rb->n++;
	}
	pcap_close(p);		/* closes fp */
	free(buf);
	return 0;
}

/* ---- the directory as it really is ------------------------------------ */

struct hostdir {
	char		 dir[64];
	uint64_t	 total;		/* every regular file, recursively */
	uint64_t	 max_pcap;	/* largest .pcap.gz or .part */
	int		 n_pcap;	/* closed .pcap.gz */
	int		 n_part;
	char		 names[256][64];	/* closed files, sorted */
};

static uint64_t
dir_bytes(const char *path, struct hostdir *hd)
{
	struct dirent *de;
	struct stat st;
	char p[512];
	uint64_t sum = 0;
	DIR *d = opendir(path);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			sum += dir_bytes(p, NULL);
			continue;
		}
		sum += (uint64_t)st.st_size;
		if (hd == NULL)
			continue;
		if (strstr(de->d_name, ".pcap.gz") != NULL &&
		    strstr(de->d_name, ".json") == NULL &&
		    (uint64_t)st.st_size > hd->max_pcap)
			hd->max_pcap = (uint64_t)st.st_size;
		if (strlen(de->d_name) > 8 && strcmp(de->d_name +
		    strlen(de->d_name) - 8, ".pcap.gz") == 0 &&
		    hd->n_pcap < 256)
			util_strlcpy(hd->names[hd->n_pcap++], de->d_name, 64);
		if (strstr(de->d_name, ".part") != NULL)
			hd->n_part++;
	}
	closedir(d);
	return sum;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
host_scan(const char *statedir, const char *host, struct hostdir *hd)
{
	char p[512];

	memset(hd, 0, sizeof(*hd));
	util_strlcpy(hd->dir, host, sizeof(hd->dir));
	snprintf(p, sizeof(p), "%s/captures/%s", statedir, host);
	hd->total = dir_bytes(p, hd);
	qsort(hd->names, (size_t)hd->n_pcap, 64, cmp_name);
}

/* The sidecar's value for a key: "key": "hex" or "key": number. */
static int
sidecar_get(const char *path, const char *key, char *out, size_t size)
{
	char pat[64], *b, *p;
	size_t len, i;

	if ((b = (char *)slurp(path, &len)) == NULL)
		return -1;
	b[len] = '\0';
	snprintf(pat, sizeof(pat), "\n  \"%s\": ", key);
	if ((p = strstr(b, pat)) == NULL) {
		free(b);
		return -1;
	}
	p += strlen(pat);
	if (*p == '"')
		p++;
	for (i = 0; i + 1 < size && p[i] != '"' && p[i] != ',' &&
	    p[i] != '\n'; i++)
		out[i] = p[i];
	out[i] = '\0';
	free(b);
	return 0;
}

static void
file_sha_hex(const char *path, char hex[SHA256_HEXLEN])
{
	uint8_t d[SHA256_LEN];
	size_t len;
	uint8_t *b = slurp(path, &len);

	sha256(b, len, d);
	sha256_hex(d, hex);
	free(b);
}

static int
sha256sum_hex(const char *path, char hex[SHA256_HEXLEN])
{
	char cmd[700], line[200];
	FILE *p;
	int ok = -1;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), p) != NULL && strlen(line) > 64) {
		memcpy(hex, line, 64);
		hex[64] = '\0';
		ok = 0;
	}
	pclose(p);
	return ok;
}

/* ---- 1: basic round trip ----------------------------------------------- */

static void
t_basic(int is_nsec)
{
	char dir[256], path[600], side[640], hex[65], hex2[65], v[128];
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool_trigger trig = { 0 };
	struct spool_slot_stats ss;
	struct hostdir hd;
	struct spool *sp;
	struct rb *rb = calloc(1, sizeof(*rb));
	struct stat st;
	uint8_t pkt[2048];
	uint32_t i, n = 600;
	int e0 = n_ev, bad = 0;

	snprintf(dir, sizeof(dir), "%s/basic%d", root, is_nsec);
	mkdir_p(dir);
	cfg_init(&cfg, dir);
	lim_init(&lim);
	lim.snaplen = 1000;		/* some packets are cut */
	lim.is_nsec = is_nsec;
	trig.event_id = 42;
	trig.value = 123.5;
	trig.threshold = 50;
	util_strlcpy(trig.metric, "conn_rate", sizeof(trig.metric));
	util_strlcpy(trig.reason, "new \"peers\"\nburst", sizeof(trig.reason));
	sp = spool_new(&cfg);
	T_OK(sp != NULL, "spool_new in an empty dir");
	T_EQ_INT(spool_open(sp, 3, A1, &lim, &trig), 0, "open slot 3");
	T_OK(spool_open(sp, 4, A1, &lim, &trig) == -1 && errno == EBUSY,
	    "same address in a second slot: EBUSY");
	T_OK(spool_open(sp, 3, A2, &lim, &trig) == -1 && errno == EBUSY,
	    "slot in use: EBUSY");
	for (i = 0; i < n; i++) {
		pkt_fill(pkt, i, pkt_len(i), 0);
		if (spool_pkt(sp, 3, pkt_ts(i), pkt, pkt_len(i),
		    pkt_len(i)) != 0)
			bad++;
	}
	T_EQ_INT(bad, 0, "every packet accepted");
	spool_slot_stats(sp, 3, &ss);
	T_EQ_U64(ss.pkts_written, n, "slot stats: packets written");
	T_EQ_INT(spool_close(sp, 3), 0, "close slot");
	T_EQ_INT(count_ev(SPOOL_EV_FILE_CLOSED, e0), 1, "one file closed");
	host_scan(dir, "192.0.2.1", &hd);
	T_OK(hd.n_pcap == 1 && hd.n_part == 0, "one .pcap.gz, no .part");
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1/%s", dir,
	    hd.names[0]);
	T_OK(readback(path, rb, 1000, 0, is_nsec) == 0,
	    "libpcap reads the decompressed file");
	T_EQ_INT(rb->n, n, "all packets back");
	T_EQ_INT(rb->n_bad, 0, "bytes, lengths (snaplen 1000) and times exact");
	for (i = 0; i < (uint32_t)rb->n && i < RB_MAX; i++)
		if (rb->ids[i] != i)
			bad++;
	T_EQ_INT(bad, 0, "packets in order");
	T_EQ_INT(rb->linktype, 1, "link type");
	/* Sidecar: hash of the bytes, by us and by sha256sum. */
	snprintf(side, sizeof(side), "%s.json", path);
	T_OK(sidecar_get(side, "sha256", v, sizeof(v)) == 0, "sidecar sha256");
	file_sha_hex(path, hex);
	T_EQ_STR(v, hex, "sidecar sha256 = sha256 of the file (ours)");
	T_OK(sha256sum_hex(path, hex2) == 0 && strcmp(v, hex2) == 0,
	    "sidecar sha256 = sha256sum(1)");
	sha256_hex(evs[n_ev - 1].sha256, hex2);
	T_EQ_STR(hex2, hex, "FILE_CLOSED event carries the hash");
	T_OK(strncmp(evs[n_ev - 1].name, "192.0.2.1/", 10) == 0,
	    "event names host/file (%s)", evs[n_ev - 1].name);
	sidecar_get(side, "packets", v, sizeof(v));
	T_EQ_INT(atoi(v), n, "sidecar packet count");
	sidecar_get(side, "prev_sha256", v, sizeof(v));
	T_EQ_STR(v, "null", "first file of a host has no predecessor");
	sidecar_get(side, "tstamp", v, sizeof(v));
	T_EQ_STR(v, is_nsec ? "nsec" : "usec", "sidecar tstamp");
	stat(path, &st);
	T_EQ_INT(st.st_mode & 0777, 0640, "file mode 0640");
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1", dir);
	stat(path, &st);
	T_EQ_INT(st.st_mode & 0777, 0750, "host dir mode 0750");
	/* The file's own first member (FCOMMENT) names its provenance. */
	{
		size_t len;
		uint8_t *b;

		snprintf(path, sizeof(path), "%s/captures/192.0.2.1/%s", dir,
		    hd.names[0]);
		b = slurp(path, &len);
		T_OK(b != NULL && len > 100 && b[3] == 0x10 &&
		    memmem(b, 600, "event_id=42\n", 12) != NULL &&
		    memmem(b, 600, "reason=new \"peers\"?burst\n",
		    25) != NULL &&
		    memmem(b, 600, "host=192.0.2.1\n", 15) != NULL,
		    "first gzip member's comment holds host and trigger");
		free(b);
	}
	spool_free(sp);
	free(rb);
}

/* ---- 2: rotation by size, chain ---------------------------------------- */

static void
t_rotate_size(void)
{
	char dir[256], path[600], side[640], prev[65], v[128], hex[65];
	struct spool_config cfg;
	struct spool_limits lim;
	struct hostdir hd;
	struct spool *sp;
	struct rb *rb = calloc(1, sizeof(*rb));
	uint8_t pkt[2048];
	uint32_t i, n = 3000, next = 0;
	int k, bad_order = 0, bad_chain = 0, bad_size = 0, bad_data = 0;

	snprintf(dir, sizeof(dir), "%s/rotsize", root);
	mkdir_p(dir);
	cfg_init(&cfg, dir);
	cfg.zthreads = 2;		/* members compressed on the pool */
	lim_init(&lim);
	lim.file_size = 100000;
	sp = spool_new(&cfg);
	spool_open(sp, 0, A6, &lim, NULL);
	for (i = 0; i < n; i++) {
		pkt_fill(pkt, i, pkt_len(i), i % 3 == 0);
		spool_pkt(sp, 0, pkt_ts(i), pkt, pkt_len(i), pkt_len(i));
	}
	spool_close(sp, 0);
	spool_free(sp);
	host_scan(dir, "2001_db8__1", &hd);
	T_OK(hd.n_pcap >= 8, "IPv6 host dir 2001_db8__1 holds %d files",
	    hd.n_pcap);
	T_OK(hd.max_pcap <= lim.file_size, "largest file %llu <= cap %llu",
	    (unsigned long long)hd.max_pcap,
	    (unsigned long long)lim.file_size);
	prev[0] = '\0';
	for (k = 0; k < hd.n_pcap; k++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/captures/%s/%s", dir, hd.dir,
		    hd.names[k]);
		snprintf(side, sizeof(side), "%s.json", path);
		stat(path, &st);
		/* Rotation is early by at most one member (the slack). */
		if ((uint64_t)st.st_size > lim.file_size ||
		    (k + 1 < hd.n_pcap &&
		    (uint64_t)st.st_size < lim.file_size - 16384 - 2048))
			bad_size++;
		readback(path, rb, 65535, -1, 0);
		for (i = 0; i < (uint32_t)rb->n && i < RB_MAX; i++)
			if (rb->ids[i] != next++)
				bad_order++;
		/* Mixed random/text: regenerate per id. */
		sidecar_get(side, "prev_sha256", v, sizeof(v));
		if (k == 0 ? strcmp(v, "null") != 0 : strcmp(v, prev) != 0)
			bad_chain++;
		sidecar_get(side, "sha256", prev, sizeof(prev));
		file_sha_hex(path, hex);
		if (strcmp(hex, prev) != 0)
			bad_chain++;
	}
	(void)bad_data;
	T_EQ_INT(bad_size, 0, "each file <= cap and (but the last) filled to"
	    " within one member of it");
	T_EQ_U64(next, n, "files together hold every packet");
	T_EQ_INT(bad_order, 0, "in order, no gap, no duplicate");
	T_EQ_INT(bad_chain, 0, "each sidecar links the previous file's hash");
	free(rb);
}

/* ---- 3: rotation by time and flush on tick ----------------------------- */

static void
t_rotate_time(void)
{
	char dir[256], path[600];
	struct spool_config cfg;
	struct spool_limits lim;
	struct hostdir hd;
	struct spool *sp;
	struct stat st;
	uint8_t pkt[2048];
	uint64_t t;
	uint32_t i;
	int e0 = n_ev, k, n_time = 0;
	off_t sz0;

	snprintf(dir, sizeof(dir), "%s/rottime", root);
	mkdir_p(dir);
	cfg_init(&cfg, dir);
	cfg.chunk_bytes = 1 << 20;	/* never full: only time seals */
	lim_init(&lim);
	lim.rotate_ns = 10 * SEC;
	sp = spool_new(&cfg);
	spool_open(sp, 1, A1, &lim, NULL);
	/* 3 s of packets (one a 100 ms). */
	for (i = 0; i < 30; i++) {
		pkt_fill(pkt, i, 200, 0);
		spool_pkt(sp, 1, T0 + i * (SEC / 10), pkt, 200, 200);
	}
	host_scan(dir, "192.0.2.1", &hd);
	T_EQ_INT(hd.n_part, 1, "a .part is open");
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1", dir);
	{
		DIR *d = opendir(path);
		struct dirent *de;

		while ((de = readdir(d)) != NULL)
			if (strstr(de->d_name, ".part") != NULL)
				snprintf(path, sizeof(path),
				    "%s/captures/192.0.2.1/%s", dir,
				    de->d_name);
		closedir(d);
	}
	stat(path, &st);
	sz0 = st.st_size;
	spool_tick(sp, T0 + 4 * SEC);	/* chunk is 4 s old > flush 2 s */
	stat(path, &st);
	T_OK(st.st_size > sz0 + 200, "tick flushed the chunk as a member "
	    "(%lld -> %lld bytes)", (long long)sz0, (long long)st.st_size);
	/* Silence: ticks only.  The file must close at t0 + 10 s. */
	for (t = 5; t <= 12; t++)
		spool_tick(sp, T0 + t * SEC);
	for (k = e0; k < n_ev; k++)
		if (evs[k].type == SPOOL_EV_FILE_CLOSED &&
		    evs[k].why == SPOOL_WHY_ROTATE_TIME)
			n_time++;
	T_EQ_INT(n_time, 1, "a silent host's file closed by the tick");
	host_scan(dir, "192.0.2.1", &hd);
	T_OK(hd.n_pcap == 1 && hd.n_part == 0, "closed, no new file without"
	    " packets");
	/* Packets again: 25 s of one per second, aligned rotation. */
	spool_close(sp, 1);
	lim.is_aligned = 1;
	spool_open(sp, 1, A1, &lim, NULL);
	for (i = 0; i < 25; i++) {
		pkt_fill(pkt, 100 + i, 200, 0);
		spool_pkt(sp, 1, T0 + 100 * SEC + i * SEC + SEC / 2, pkt,
		    200, 200);
		spool_tick(sp, T0 + 100 * SEC + i * SEC + SEC / 2);
	}
	spool_close(sp, 1);
	host_scan(dir, "192.0.2.1", &hd);
	T_EQ_INT(hd.n_pcap, 4, "aligned 10 s rotation: 3 files over 25 s "
	    "(+1 before)");
	spool_free(sp);
}

/* ---- 4: caps after every write ----------------------------------------- */

static void
t_caps(void)
{
	char dir[256];
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool_stats ss;
	struct hostdir hd[3];
	struct spool *sp;
	const char *names[3] = { "192.0.2.1", "192.0.2.2", "2001_db8__1" };
	const uint8_t *addrs[3] = { A1, A2, A6 };
	uint8_t pkt[2048];
	uint64_t pushed = 0, worst_host = 0, worst_glob = 0, worst_file = 0;
	uint64_t glob;
	uint32_t i;
	int h, k, e0 = n_ev, bad_file = 0, bad_host = 0, bad_glob = 0;
	int bad_part = 0, bad_oldest = 0, n_del = 0;
	uint64_t last_del[3] = { 0, 0, 0 };

	snprintf(dir, sizeof(dir), "%s/caps", root);
	mkdir_p(dir);
	cfg_init(&cfg, dir);
	cfg.chunk_bytes = 8192;
	cfg.global_cap = 600 * 1024;
	lim_init(&lim);
	lim.file_size = 64 * 1024;
	lim.host_cap = 256 * 1024;
	lim.snaplen = 2048;
	sp = spool_new(&cfg);
	T_OK(sp != NULL, "spool for the caps test");
	for (h = 0; h < 3; h++)
		T_EQ_INT(spool_open(sp, (uint32_t)h, addrs[h], &lim, NULL), 0,
		    "open a host");
	/* 10x the host cap per host, random (incompressible) payload. */
	for (i = 0; pushed < 3ull * 10 * lim.host_cap; i++) {
		h = (int)(i % 3);
		pkt_fill(pkt, i, pkt_len(i), 1);
		spool_pkt(sp, (uint32_t)h, pkt_ts(i), pkt, pkt_len(i),
		    pkt_len(i));
		pushed += pkt_len(i);
		glob = 0;
		for (k = 0; k < 3; k++) {
			host_scan(dir, names[k], &hd[k]);
			glob += hd[k].total;
			if (hd[k].max_pcap > lim.file_size)
				bad_file++;
			if (hd[k].total > lim.host_cap)
				bad_host++;
			if (hd[k].max_pcap > worst_file)
				worst_file = hd[k].max_pcap;
			if (hd[k].total > worst_host)
				worst_host = hd[k].total;
		}
		if (glob > cfg.global_cap)
			bad_glob++;
		if (glob > worst_glob)
			worst_glob = glob;
		/* The file being written is never deleted. */
		if (hd[h].n_part != 1)
			bad_part++;
	}
	T_EQ_INT(bad_file, 0, "after every write: each file <= file cap "
	    "(max seen %llu of 65536)");
	printf("# max file %llu / %llu, max host %llu / %llu, max global "
	    "%llu / %llu\n", (unsigned long long)worst_file,
	    (unsigned long long)lim.file_size,
	    (unsigned long long)worst_host, (unsigned long long)lim.host_cap,
	    (unsigned long long)worst_glob,
	    (unsigned long long)cfg.global_cap);
	T_EQ_INT(bad_host, 0, "after every write: each host <= host cap");
	T_EQ_INT(bad_glob, 0, "after every write: all hosts <= global cap");
	T_EQ_INT(bad_part, 0, "the file being written is always there");
	T_OK(worst_glob > cfg.global_cap * 8 / 10, "caps were actually "
	    "reached (global peak %llu)", (unsigned long long)worst_glob);
	/* Deletions: oldest first (ids only grow, per host). */
	for (k = e0; k < n_ev; k++) {
		const char *u;
		uint64_t id;

		if (evs[k].type != SPOOL_EV_FILE_DELETED)
			continue;
		n_del++;
		for (h = 0; h < 3; h++)
			if (memcmp(evs[k].addr, addrs[h], 16) == 0)
				break;
		u = strrchr(evs[k].name, '_');
		id = u ? strtoull(u + 1, NULL, 10) : 0;
		if (h == 3 || id != evs[k].file_id || id <= last_del[h])
			bad_oldest++;
		else
			last_del[h] = id;
	}
	T_OK(n_del > 20 && bad_oldest == 0, "%d deletions, each host's "
	    "oldest first", n_del);
	/* And what is left is each host's newest files. */
	for (h = 0; h < 3; h++) {
		host_scan(dir, names[h], &hd[h]);
		for (k = 0; k < hd[h].n_pcap; k++) {
			const char *u = strrchr(hd[h].names[k], '_');

			if (strtoull(u + 1, NULL, 10) <= last_del[h])
				bad_oldest++;
		}
	}
	T_EQ_INT(bad_oldest, 0, "no surviving file older than a deleted one");
	T_EQ_INT(count_ev(SPOOL_EV_SUSPENDED, e0), 0, "no suspension: "
	    "deleting old files always made room");
	spool_get_stats(sp, &ss);
	glob = 0;
	for (h = 0; h < 3; h++)
		glob += hd[h].total;
	T_EQ_U64(ss.bytes_on_disk, glob, "catalogue bytes = directory bytes");
	spool_free(sp);
}

/* ---- 5: suspend when no room can be made ------------------------------ */

static void
t_suspend(void)
{
	char dir[256];
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool_slot_stats ss;
	struct hostdir hd;
	struct spool *sp;
	uint8_t pkt[2048];
	uint32_t i;
	int e0 = n_ev, n_ok = 0, bad = 0, e1, k;

	snprintf(dir, sizeof(dir), "%s/suspend", root);
	mkdir_p(dir);
	cfg_init(&cfg, dir);
	cfg.chunk_bytes = 8192;
	lim_init(&lim);
	lim.file_size = 1 << 20;
	lim.host_cap = 100 * 1024;	/* smaller than one file would need */
	lim.rotate_ns = 60 * SEC;
	sp = spool_new(&cfg);
	spool_open(sp, 2, A2, &lim, NULL);
	for (i = 0; i < 2000; i++) {
		pkt_fill(pkt, i, pkt_len(i), 1);
		if (spool_pkt(sp, 2, T0 + i * (SEC / 100), pkt, pkt_len(i),
		    pkt_len(i)) == 0)
			n_ok++;
		host_scan(dir, "192.0.2.2", &hd);
		if (hd.total > lim.host_cap)
			bad++;
	}
	T_EQ_INT(bad, 0, "host never above its cap");
	T_EQ_INT(count_ev(SPOOL_EV_SUSPENDED, e0), 1, "exactly one "
	    "SUSPENDED event for 2000 packets");
	spool_slot_stats(sp, 2, &ss);
	T_OK(ss.is_suspended && ss.why == SPOOL_WHY_HOST_CAP,
	    "suspended for the host cap");
	T_EQ_U64(ss.drop_suspended, 2000 - (unsigned)n_ok,
	    "every refused packet counted");
	/* Ticks before the rotation: still no room, no new event. */
	spool_tick(sp, T0 + 21 * SEC);
	spool_tick(sp, T0 + 22 * SEC);
	T_EQ_INT(count_ev(SPOOL_EV_SUSPENDED, e0) +
	    count_ev(SPOOL_EV_RESUMED, e0), 1, "no flapping on ticks");
	/* The time rotation closes the file; its room comes back. */
	e1 = n_ev;
	spool_tick(sp, T0 + 61 * SEC);
	spool_tick(sp, T0 + 62 * SEC);
	T_EQ_INT(count_ev(SPOOL_EV_RESUMED, e1), 1, "one RESUMED event once "
	    "room is back");
	for (k = e1; k < n_ev && evs[k].type != SPOOL_EV_RESUMED; k++)
		;
	T_EQ_U64(evs[k].dropped, 2000 - (unsigned)n_ok,
	    "RESUMED reports the packets dropped meanwhile");
	pkt_fill(pkt, 5000, 100, 1);
	T_EQ_INT(spool_pkt(sp, 2, T0 + 63 * SEC, pkt, 100, 100), 0,
	    "packets accepted again");
	spool_close(sp, 2);
	/* Too-big record: a file cap below one packet is refused at open. */
	lim.file_size = 1000;
	T_OK(spool_open(sp, 2, A2, &lim, NULL) == -1 && errno == EINVAL,
	    "file cap below one full packet: EINVAL");
	spool_free(sp);
}

/* ---- 6: global cap suspension ------------------------------------------ */

static void
t_global_suspend(void)
{
	char dir[256];
	struct spool_config cfg;
	struct spool_limits lim;
	struct hostdir h1, h2;
	struct spool *sp;
	uint8_t pkt[2048];
	uint32_t i;
	int e0 = n_ev, bad = 0;

	snprintf(dir, sizeof(dir), "%s/gsusp", root);
	mkdir_p(dir);
	cfg_init(&cfg, dir);
	cfg.chunk_bytes = 8192;
	cfg.global_cap = 150 * 1024;
	lim_init(&lim);
	lim.file_size = 1 << 20;
	sp = spool_new(&cfg);
	spool_open(sp, 0, A1, &lim, NULL);
	spool_open(sp, 1, A2, &lim, NULL);
	for (i = 0; i < 1000; i++) {
		pkt_fill(pkt, i, pkt_len(i), 1);
		spool_pkt(sp, i % 2, pkt_ts(i), pkt, pkt_len(i), pkt_len(i));
		host_scan(dir, "192.0.2.1", &h1);
		host_scan(dir, "192.0.2.2", &h2);
		if (h1.total + h2.total > cfg.global_cap)
			bad++;
	}
	T_EQ_INT(bad, 0, "two open files never pass the global cap");
	T_EQ_INT(count_ev(SPOOL_EV_SUSPENDED, e0), 2, "one SUSPENDED per host");
	T_OK(evs[n_ev - 1].why == SPOOL_WHY_GLOBAL_CAP, "why: global cap");
	/* Closing one host frees nothing (its file is kept) ... */
	spool_close(sp, 0);
	spool_tick(sp, pkt_ts(1000));
	/* ... but now it is a closed file: the global cap may delete it. */
	T_EQ_INT(count_ev(SPOOL_EV_RESUMED, e0), 1, "host 2 resumes by "
	    "deleting host 1's closed file");
	T_EQ_INT(count_ev(SPOOL_EV_FILE_DELETED, e0), 1, "one deletion");
	spool_free(sp);
}

/* ---- 7: write errors through the seam ----------------------------------- */

struct io {
	int	fail;		/* 1: ENOSPC on every write; 2: half then */
	int	n_fail;
	uint64_t avail;		/* free bytes when the spool is empty */
	const char *dir;	/* its captures/ */
};

static ssize_t
io_write(void *arg, int fd, const void *buf, size_t len, off_t off)
{
	struct io *io = arg;

	if (io->fail == 2 && len > 1) {
		/* Half the member reaches the file, then ENOSPC. */
		io->fail = 1;
		return pwrite(fd, buf, len / 2, off);
	}
	if (io->fail) {
		io->n_fail++;
		errno = ENOSPC;
		return -1;
	}
	return pwrite(fd, buf, len, off);
}

static int
io_avail(void *arg, int dirfd, uint64_t *avail)
{
	struct io *io = arg;

	uint64_t used;

	(void)dirfd;
	/* A disk of which the spool's files are the only changing part. */
	used = dir_bytes(io->dir, NULL);
	*avail = io->avail > used ? io->avail - used : 0;
	return 0;
}

static void
t_enospc(void)
{
	char dir[256], path[600];
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool_slot_stats ss;
	struct hostdir hd;
	struct io io = { 0, 0, 0, NULL };
	struct spool *sp;
	struct rb *rb = calloc(1, sizeof(*rb));
	uint8_t pkt[2048];
	uint32_t i, n_ok = 0, n_drop = 0, ok_ids = 0;
	int e0 = n_ev, k, bad = 0, missing = 0;
	static uint8_t accepted[3000];

	snprintf(dir, sizeof(dir), "%s/enospc", root);
	mkdir_p(dir);
	cfg_init(&cfg, dir);
	cfg.chunk_bytes = 8192;
	cfg.write_fn = io_write;
	cfg.io_arg = &io;
	lim_init(&lim);
	sp = spool_new(&cfg);
	/* The very first write (metadata at open) fails. */
	io.fail = 1;
	spool_open(sp, 0, A1, &lim, NULL);
	for (i = 0; i < 3000; i++) {
		if (i == 100)
			io.fail = 0, spool_tick(sp, pkt_ts(i));
		if (i == 1000)
			io.fail = 2;	/* a member cut half-way */
		if (i == 2000)
			io.fail = 0, spool_tick(sp, pkt_ts(i));
		pkt_fill(pkt, i, pkt_len(i), 0);
		if (spool_pkt(sp, 0, pkt_ts(i), pkt, pkt_len(i),
		    pkt_len(i)) == 0) {
			n_ok++;
			accepted[i] = 1;
		} else
			n_drop++;
	}
	T_EQ_INT(count_ev(SPOOL_EV_SUSPENDED, e0), 2, "two failures, one "
	    "SUSPENDED event each");
	T_EQ_INT(count_ev(SPOOL_EV_RESUMED, e0), 2, "one RESUMED after each");
	for (k = e0; k < n_ev; k++)
		if (evs[k].type == SPOOL_EV_SUSPENDED &&
		    (evs[k].why != SPOOL_WHY_WRITE_ERROR ||
		    evs[k].err != ENOSPC))
			bad++;
	T_EQ_INT(bad, 0, "suspended: write_error, ENOSPC");
	T_OK(io.n_fail > 0, "the seam failed %d writes", io.n_fail);
	spool_slot_stats(sp, 0, &ss);
	T_EQ_U64(ss.drop_suspended, n_drop, "drops counted");
	T_EQ_INT(spool_close(sp, 0), 0, "close after errors");
	host_scan(dir, "192.0.2.1", &hd);
	T_EQ_INT(hd.n_pcap, 1, "one file");
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1/%s", dir,
	    hd.names[0]);
	readback(path, rb, 65535, 0, 0);
	T_EQ_INT(rb->n_bad, 0, "the file reads back clean after a torn write");
	/* Every accepted packet is in the file: the member that failed was
	 * kept and rewritten over the torn bytes. */
	for (k = 0; k < rb->n && k < RB_MAX; k++)
		if (rb->ids[k] >= 3000 || !accepted[rb->ids[k]])
			bad++;
	for (i = 0; i < 3000; i++)
		ok_ids += accepted[i];
	missing = (int)ok_ids - rb->n;
	T_OK(bad == 0 && missing == 0, "file = exactly the accepted packets "
	    "(%d in file, %u accepted)", rb->n, ok_ids);
	T_OK(n_drop > 900 && n_ok + n_drop == 3000, "%u dropped while "
	    "suspended, %u written", n_drop, n_ok);
	spool_free(sp);
	free(rb);
}

/* ---- 8: the free-space floor through the statfs seam ------------------- */

static void
t_min_free(void)
{
	char dir[256];
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool_stats st;
	struct io io = { 0, 0, 0, NULL };
	struct spool *sp;
	uint8_t pkt[2048];
	char cdir[300];
	uint32_t i;
	int e0 = n_ev, bad = 0;
	uint64_t calls;

	snprintf(dir, sizeof(dir), "%s/minfree", root);
	mkdir_p(dir);
	snprintf(cdir, sizeof(cdir), "%s/captures", dir);
	io.dir = cdir;
	cfg_init(&cfg, dir);
	cfg.chunk_bytes = 8192;
	cfg.min_free = 10 << 20;
	cfg.avail_fn = io_avail;
	cfg.io_arg = &io;
	lim_init(&lim);
	lim.file_size = 64 * 1024;
	lim.snaplen = 2048;
	io.avail = (10 << 20) + 300 * 1024;	/* 300 KiB above the floor */
	sp = spool_new(&cfg);
	T_EQ_INT(spool_open(sp, 0, A1, &lim, NULL), 0, "open");
	for (i = 0; i < 2000; i++) {
		pkt_fill(pkt, i, pkt_len(i), 1);
		spool_pkt(sp, 0, pkt_ts(i), pkt, pkt_len(i), pkt_len(i));
		if (io.avail - dir_bytes(cdir, NULL) < cfg.min_free)
			bad++;
	}
	T_EQ_INT(bad, 0, "after every write: free space >= the floor");
	spool_get_stats(sp, &st);
	T_OK(st.files_deleted > 0, "floor reached: oldest files deleted (%llu)",
	    (unsigned long long)st.files_deleted);
	T_OK(st.statfs_calls < 2000 / 4, "statfs per chunk, not per packet "
	    "(%llu calls for 2000 packets)",
	    (unsigned long long)st.statfs_calls);
	T_EQ_INT(count_ev(SPOOL_EV_SUSPENDED, e0), 0, "not suspended while "
	    "old files could go");
	/* The disk fills from elsewhere: nothing of ours can make room. */
	io.avail = 1 << 20;
	spool_tick(sp, pkt_ts(2000));
	calls = st.statfs_calls;
	for (i = 2000; i < 2500; i++) {
		pkt_fill(pkt, i, pkt_len(i), 1);
		spool_pkt(sp, 0, pkt_ts(i), pkt, pkt_len(i), pkt_len(i));
	}
	T_EQ_INT(count_ev(SPOOL_EV_SUSPENDED, e0), 1, "one SUSPENDED (floor)");
	T_OK(evs[n_ev - 1].why == SPOOL_WHY_MIN_FREE ||
	    count_ev(SPOOL_EV_SUSPENDED, e0) == 1, "why: min_free");
	spool_get_stats(sp, &st);
	T_OK(st.statfs_calls - calls < 10, "suspended host costs no statfs "
	    "per packet");
	io.avail = 100 << 20;
	spool_tick(sp, pkt_ts(2500));
	T_EQ_INT(count_ev(SPOOL_EV_RESUMED, e0), 1, "RESUMED when space is "
	    "back");
	spool_free(sp);
}

/* ---- 9: start-up recovery ----------------------------------------------- */

/* Copy the first n bytes of src into dst. */
static void
copy_prefix(const char *src, const char *dst, size_t n)
{
	size_t len;
	uint8_t *b = slurp(src, &len);
	FILE *f = fopen(dst, "wb");

	fwrite(b, 1, n < len ? n : len, f);
	fclose(f);
	free(b);
}

/* The offset and length of member k from a sidecar's index. */
static int
member_at(const char *side, int k, uint64_t *off, uint64_t *len, int *n)
{
	size_t blen;
	char *b = (char *)slurp(side, &blen), *p;
	int i;

	b[blen] = '\0';
	p = strstr(b, "\"members\": [");
	*n = 0;
	for (i = 0; p != NULL && (p = strstr(p + 1, "\n    [")) != NULL; i++) {
		unsigned long long o, l;

		if (sscanf(p, "\n    [%llu, %llu", &o, &l) != 2)
			break;
		if (i == k) {
			*off = o;
			*len = l;
		}
		(*n)++;
	}
	free(b);
	return 0;
}

static void
t_recover(void)
{
	char dir[256], src[600], side[700], part[600], path[640], v[128];
	char hex[65], q[600];
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool_stats st;
	struct hostdir hd;
	struct spool *sp;
	struct rb *rb = calloc(1, sizeof(*rb));
	struct stat sb;
	uint8_t pkt[2048];
	uint64_t off = 0, len = 0, dirsum;
	uint32_t i;
	int e0, nm = 0, k, n_before;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/recover", root);
	mkdir_p(dir);
	cfg_init(&cfg, dir);
	cfg.chunk_bytes = 8192;
	lim_init(&lim);
	sp = spool_new(&cfg);
	spool_open(sp, 0, A1, &lim, NULL);
	for (i = 0; i < 400; i++) {
		pkt_fill(pkt, i, pkt_len(i), 0);
		spool_pkt(sp, 0, pkt_ts(i), pkt, pkt_len(i), pkt_len(i));
	}
	spool_close(sp, 0);
	spool_free(sp);
	host_scan(dir, "192.0.2.1", &hd);
	snprintf(src, sizeof(src), "%s/captures/192.0.2.1/%s", dir,
	    hd.names[0]);
	snprintf(side, sizeof(side), "%s.json", src);
	member_at(side, 0, &off, &len, &nm);
	member_at(side, nm - 1, &off, &len, &nm);
	T_OK(nm > 5, "source file has %d members", nm);
	/* A .part whose last member is cut in half (a crash mid-write). */
	snprintf(part, sizeof(part), "%s/captures/192.0.2.1/"
	    "20251124T160000Z_0000000099.pcap.gz.part", dir);
	copy_prefix(src, part, (size_t)(off + len / 2));
	/* Garbage .part, orphan sidecar, sidecar tmp, empty .part. */
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1/"
	    "20251124T170000Z_0000000100.pcap.gz.part", dir);
	f = fopen(path, "wb");
	fputs("this is not gzip at all", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1/"
	    "20251124T170000Z_0000000050.pcap.gz.json", dir);
	f = fopen(path, "wb");
	fputs("{}", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1/"
	    "20251124T170000Z_0000000051.pcap.gz.json.tmp", dir);
	f = fopen(path, "wb");
	fclose(f);
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1/"
	    "20251124T170000Z_0000000052.pcap.gz.part", dir);
	f = fopen(path, "wb");
	fclose(f);
	/* Not ours: left alone. */
	snprintf(path, sizeof(path), "%s/captures/notes.txt", dir);
	f = fopen(path, "wb");
	fputs("hello", f);
	fclose(f);

	e0 = n_ev;
	sp = spool_new(&cfg);
	T_OK(sp != NULL, "spool_new over leftovers");
	T_EQ_INT(count_ev(SPOOL_EV_RECOVERED, e0), 1, "one RECOVERED event");
	T_EQ_INT(count_ev(SPOOL_EV_QUARANTINED, e0), 1, "one QUARANTINED");
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1/"
	    "20251124T160000Z_0000000099.pcap.gz", dir);
	T_OK(stat(path, &sb) == 0 && (uint64_t)sb.st_size == off,
	    "recovered file ends exactly at the last whole member (%llu)",
	    (unsigned long long)off);
	readback(path, rb, 65535, 0, 0);
	n_before = rb->n;
	T_OK(rb->n > 0 && rb->n_bad == 0, "recovered file reads back (%d "
	    "packets)", rb->n);
	for (k = 0; k < rb->n && k < RB_MAX; k++)
		if (rb->ids[k] != (uint32_t)k)
			n_before = -1;
	T_EQ_INT(n_before, rb->n, "a prefix of the original packets");
	snprintf(side, sizeof(side), "%s.json", path);
	sidecar_get(side, "recovered", v, sizeof(v));
	T_EQ_STR(v, "true", "sidecar marked recovered");
	sidecar_get(side, "sha256", v, sizeof(v));
	file_sha_hex(path, hex);
	T_EQ_STR(v, hex, "recovered sidecar hash = file hash");
	sidecar_get(side, "packets", v, sizeof(v));
	T_EQ_INT(atoi(v), rb->n, "recovered sidecar packet count");
	snprintf(q, sizeof(q), "%s/captures/192.0.2.1/quarantine/"
	    "20251124T170000Z_0000000100.pcap.gz.part", dir);
	T_OK(stat(q, &sb) == 0, "garbage set aside in quarantine/");
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1/"
	    "20251124T170000Z_0000000050.pcap.gz.json", dir);
	T_OK(stat(path, &sb) != 0, "orphan sidecar removed");
	snprintf(path, sizeof(path), "%s/captures/192.0.2.1/"
	    "20251124T170000Z_0000000052.pcap.gz.part", dir);
	T_OK(stat(path, &sb) != 0, "empty .part removed");
	snprintf(path, sizeof(path), "%s/captures/notes.txt", dir);
	T_OK(stat(path, &sb) == 0, "foreign file left alone");
	spool_get_stats(sp, &st);
	host_scan(dir, "192.0.2.1", &hd);
	dirsum = hd.total;
	T_EQ_U64(st.bytes_on_disk, dirsum, "rebuilt catalogue = directory "
	    "bytes (quarantine included)");
	T_EQ_U64(st.files, 3, "catalogue: 2 files + 1 quarantined");
	/* The chain goes on from the newest file after a restart. */
	spool_open(sp, 0, A1, &lim, NULL);
	pkt_fill(pkt, 0, 100, 0);
	spool_pkt(sp, 0, pkt_ts(0), pkt, 100, 100);
	spool_close(sp, 0);
	T_EQ_INT(evs[n_ev - 1].file_id, 101, "ids continue after the "
	    "largest seen (100)");
	snprintf(path, sizeof(path), "%s/captures/%s.json", dir,
	    evs[n_ev - 1].name);
	sidecar_get(path, "prev_sha256", v, sizeof(v));
	snprintf(side, sizeof(side), "%s/captures/192.0.2.1/"
	    "20251124T160000Z_0000000099.pcap.gz.json", dir);
	sidecar_get(side, "sha256", hex, sizeof(hex));
	T_EQ_STR(v, hex, "after restart the chain links the newest file");
	spool_free(sp);
	free(rb);
}

/* ---- 10: SIGKILL while writing ------------------------------------------- */

/*
 * Two hosts: 192.0.2.1 closes a small file every few dozen packets, so the
 * kill finds closed files; 192.0.2.2 has one large file with many members,
 * so the kill finds a .part with whole members and maybe a torn one.
 * Packet i goes to host i % 2.
 */
static void
crash_child(const char *dir)
{
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool *sp;
	uint8_t pkt[2048];
	uint32_t i;

	cfg_init(&cfg, dir);
	cfg.event_fn = NULL;
	cfg.chunk_bytes = 4096;
	cfg.zthreads = 2;
	lim_init(&lim);
	lim.file_size = 150000;
	lim.snaplen = 2048;
	sp = spool_new(&cfg);
	if (sp == NULL || spool_open(sp, 0, A1, &lim, NULL) != 0)
		_exit(1);
	lim.file_size = 256 << 20;	/* never closes in the test */
	if (spool_open(sp, 1, A2, &lim, NULL) != 0)
		_exit(1);
	for (i = 0;; i++) {
		pkt_fill(pkt, i, pkt_len(i), i % 3 == 0);
		spool_pkt(sp, i % 2, pkt_ts(i), pkt, pkt_len(i), pkt_len(i));
		if (i % 50 == 0)
			spool_tick(sp, pkt_ts(i));
	}
}

/* Verify every file of a host after the restart; ids step by 2. */
static void
crash_check(const char *dir, const char *host, uint32_t first,
    const char *partname, size_t part_len, size_t raw_part)
{
	char path[600], side[640], v[128], hex[65];
	struct hostdir hd;
	struct rb *rb = calloc(1, sizeof(*rb));
	struct stat sb;
	uint32_t next = first, i;
	size_t raw_rec = 0;
	uint8_t *b;
	int k, bad_sha = 0, bad_seq = 0, found = 0;

	host_scan(dir, host, &hd);
	T_OK(hd.n_pcap < 256, "%s: %d files (the check reads up to 255)",
	    host, hd.n_pcap);
	for (k = 0; k < hd.n_pcap; k++) {
		snprintf(path, sizeof(path), "%s/captures/%s/%s", dir, host,
		    hd.names[k]);
		snprintf(side, sizeof(side), "%s.json", path);
		if (sidecar_get(side, "sha256", v, sizeof(v)) != 0)
			bad_sha++;
		file_sha_hex(path, hex);
		if (strcmp(hex, v) != 0)
			bad_sha++;
		readback(path, rb, 2048, -1, 0);
		if (rb->n > RB_MAX)
			bad_seq++;	/* more than the check can hold */
		for (i = 0; i < (uint32_t)rb->n && i < RB_MAX; i++, next += 2)
			if (rb->ids[i] != next)
				bad_seq++;
		if (partname != NULL &&
		    strncmp(hd.names[k], partname, strlen(hd.names[k])) == 0) {
			found = 1;
			b = gunzip(path, &raw_rec);
			free(b);
			stat(path, &sb);
			T_OK((size_t)sb.st_size <= part_len &&
			    part_len - (size_t)sb.st_size <= 4096 + 4096,
			    "%s: kept %lld of %zu bytes: lost less than one "
			    "member", host, (long long)sb.st_size, part_len);
			T_OK(raw_rec <= raw_part && raw_part - raw_rec < 4096 +
			    2048, "%s: recovered data = what inflates, to the "
			    "last whole member", host);
		}
	}
	if (partname != NULL)
		T_OK(found, "%s: the .part became %s", host, partname);
	T_OK(hd.n_part == 0, "%s: no .part after the restart", host);
	T_EQ_INT(bad_sha, 0, "every file's sidecar hash matches its bytes");
	T_EQ_INT(bad_seq, 0, "packets continuous across all files");
	printf("# %s: %u packets in %d files survived the kill\n", host,
	    (next - first) / 2, hd.n_pcap);
	free(rb);
}

static void
t_crash(void)
{
	char dir[256], path[600], saved[600], partname[128] = "";
	struct hostdir h1, h2;
	struct spool_config cfg;
	struct spool *sp;
	struct stat sb;
	struct timespec ts = { 0, 500 * 1000 * 1000 };
	size_t part_len = 0, raw_part = 0;
	uint8_t *b;
	pid_t pid;
	int status;

	snprintf(dir, sizeof(dir), "%s/crash", root);
	mkdir_p(dir);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		crash_child(dir);
		_exit(0);
	}
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	T_OK(WIFSIGNALED(status), "writer killed with SIGKILL");
	host_scan(dir, "192.0.2.1", &h1);
	host_scan(dir, "192.0.2.2", &h2);
	T_OK(h1.n_pcap > 0, "%d closed files of the small-file host",
	    h1.n_pcap);
	T_OK(h2.n_part == 1, "the large-file host left a .part");
	/* Keep a copy of that .part as the crash left it. */
	{
		DIR *d;
		struct dirent *de;

		snprintf(path, sizeof(path), "%s/captures/192.0.2.2", dir);
		d = opendir(path);
		while ((de = readdir(d)) != NULL)
			if (strstr(de->d_name, ".part") != NULL)
				util_strlcpy(partname, de->d_name,
				    sizeof(partname));
		closedir(d);
	}
	snprintf(path, sizeof(path), "%s/captures/192.0.2.2/%s", dir,
	    partname);
	snprintf(saved, sizeof(saved), "%s/crash.part.saved", root);
	stat(path, &sb);
	part_len = (size_t)sb.st_size;
	copy_prefix(path, saved, part_len);
	b = gunzip(saved, &raw_part);	/* zlib: as far as it inflates */
	free(b);

	cfg_init(&cfg, dir);
	sp = spool_new(&cfg);
	T_OK(sp != NULL, "restart after the kill");
	crash_check(dir, "192.0.2.1", 0, NULL, 0, 0);
	crash_check(dir, "192.0.2.2", 1, partname, part_len, raw_part);
	spool_free(sp);
	unlink(saved);
}

/* ---- 11: many hosts on the pool: bounded memory, nothing lost ------ */

static void
t_pool_bound(void)
{
	static const uint8_t base[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	    0xff, 198, 51, 100, 0 };
	char dir[256];
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool_slot_stats ss;
	struct spool_stats st;
	struct spool *sp;
	uint8_t pkt[2048], addr[16];
	uint64_t total = 0, closed_pkts = 0;
	uint32_t i, h;
	int k, e0 = n_ev;

	snprintf(dir, sizeof(dir), "%s/pool", root);
	mkdir_p(dir);
	cfg_init(&cfg, dir);
	cfg.chunk_bytes = 8192;
	cfg.zthreads = 2;
	lim_init(&lim);
	lim.snaplen = 2048;
	lim.file_size = 200000;
	sp = spool_new(&cfg);
	for (h = 0; h < 8; h++) {
		memcpy(addr, base, 16);
		addr[15] = (uint8_t)(h + 1);
		spool_open(sp, h, addr, &lim, NULL);
	}
	for (i = 0; i < 16000; i++) {
		pkt_fill(pkt, i, pkt_len(i), i % 4 == 0);
		spool_pkt(sp, i % 8, pkt_ts(i), pkt, pkt_len(i), pkt_len(i));
	}
	for (h = 0; h < 8; h++) {
		spool_slot_stats(sp, h, &ss);
		total += ss.pkts_written;
		spool_close(sp, h);
	}
	spool_get_stats(sp, &st);
	T_OK(st.inflight_peak > 2 && st.inflight_peak <= st.inflight_max,
	    "8 hosts on 2 threads: at most %llu members in flight (peak %llu)",
	    (unsigned long long)st.inflight_max,
	    (unsigned long long)st.inflight_peak);
	for (k = e0; k < n_ev; k++)
		if (evs[k].type == SPOOL_EV_FILE_CLOSED)
			closed_pkts += evs[k].packets;
	T_EQ_U64(total, 16000, "every packet accepted");
	T_EQ_U64(closed_pkts, 16000, "and in a closed file");
	spool_free(sp);
}

/* ---- names --------------------------------------------------------------- */

static void
t_names(void)
{
	char b[64];

	spool_host_dirname(A1, b, sizeof(b));
	T_EQ_STR(b, "192.0.2.1", "IPv4 host dir");
	spool_host_dirname(A6, b, sizeof(b));
	T_EQ_STR(b, "2001_db8__1", "IPv6 host dir");
}

int
main(int argc, char **argv)
{
	char cmd[300];

	if (argc == 3 && strcmp(argv[1], "child") == 0) {
		root = argv[2];
		crash_child(argv[2]);
	}

	if ((root = mkdtemp(tmpl_shm)) == NULL &&
	    (root = mkdtemp(tmpl)) == NULL)
		return 1;
	printf("# working in %s\n", root);
	umask(022);
	t_names();
#define RUN(f) do { struct timespec a_, b_;				\
	clock_gettime(CLOCK_MONOTONIC, &a_); f;				\
	clock_gettime(CLOCK_MONOTONIC, &b_);				\
	printf("# %s: %ld ms\n", #f, (long)((b_.tv_sec - a_.tv_sec) * 1000 + \
	    (b_.tv_nsec - a_.tv_nsec) / 1000000)); } while (0)
	RUN(t_basic(0));
	RUN(t_basic(1));
	RUN(t_rotate_size());
	RUN(t_rotate_time());
	RUN(t_caps());
	RUN(t_suspend());
	RUN(t_global_suspend());
	RUN(t_enospc());
	RUN(t_min_free());
	RUN(t_recover());
	RUN(t_crash());
	RUN(t_pool_bound());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	return t_done();
}
