/*
 * test_sctl.c: the pieces under sensorctl's offline commands: the strict
 * JSON reader, sidecar parsing against sidecars written by spool.c itself
 * (the contract between the two), names, and the packet source with and
 * without the member index.  The end-to-end checks against tshark and jq
 * are in tests/sh/sctl_offline.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

#include "sctl_cap.h"
#include "sctl_json.h"
#include "spool.h"

/* ---- JSON reader ------------------------------------------------------ */

static int
skip_all(const char *s)
{
	struct sj j;

	sj_init(&j, (const uint8_t *)s, strlen(s));
	return sj_skip(&j) == 0 && sj_end(&j) == 0 ? 0 : -1;
}

static void
t_json_walk(void)
{
	const char *s = " {\"a\": [1, 2, {\"b\": null}], \"c\": \"x\\\"y\\\\\\/"
	    "\\u0041\", \"d\": true, \"e\": -1.5e3, \"f\": 18446744073709551615 }"
	    "\n";
	char key[16], str[16];
	uint64_t u;
	double d;
	struct sj j;
	int b;

	sj_init(&j, (const uint8_t *)s, strlen(s));
	T_EQ_INT(sj_peek(&j), SJ_OBJECT, "peek object");
	T_EQ_INT(sj_object(&j), 0, "object");
	T_EQ_INT(sj_key(&j, key, sizeof(key)), 1, "key a");
	T_EQ_STR(key, "a", "key a");
	T_EQ_INT(sj_array(&j), 0, "array");
	T_EQ_INT(sj_more(&j), 1, "element 1");
	T_OK(sj_u64(&j, &u) == 0 && u == 1, "element 1 is 1");
	T_EQ_INT(sj_more(&j), 1, "element 2");
	T_OK(sj_u64(&j, &u) == 0 && u == 2, "element 2 is 2");
	T_EQ_INT(sj_more(&j), 1, "element 3");
	T_EQ_INT(sj_skip(&j), 0, "skip a nested object");
	T_EQ_INT(sj_more(&j), 0, "array ends");
	T_EQ_INT(sj_key(&j, key, sizeof(key)), 1, "key c");
	T_EQ_INT(sj_string(&j, str, sizeof(str)), 0, "string with escapes");
	T_EQ_STR(str, "x\"y\\/A", "escapes decoded");
	T_EQ_INT(sj_key(&j, key, sizeof(key)), 1, "key d");
	T_OK(sj_bool(&j, &b) == 0 && b == 1, "true");
	T_EQ_INT(sj_key(&j, key, sizeof(key)), 1, "key e");
	T_OK(sj_double(&j, &d) == 0 && d == -1500.0, "-1.5e3");
	T_EQ_INT(sj_key(&j, key, sizeof(key)), 1, "key f");
	T_OK(sj_u64(&j, &u) == 0 && u == UINT64_MAX, "2^64-1");
	T_EQ_INT(sj_key(&j, key, sizeof(key)), 0, "object ends");
	T_EQ_INT(sj_end(&j), 0, "only white space left");
	T_OK(j.err == NULL, "no error");
}

static void
t_json_bad(void)
{
	static const char *bad[] = {
		"", "{", "{\"a\":1,}", "[1,]", "[,1]", "{,}", "{\"a\" 1}",
		"{\"a\":1}x", "01", "1.", "1e", "-", "+1", ".5", "tru", "nul",
		"\"abc", "\"\\q\"", "\"\\u00e9\"", "\"\\u0000\"", "\"\x01\"",
		"\"\xc3\xa9\"", "\"\x7f\"", "\"\\u12\"", "{1:2}", "[1 2]",
		"{\"a\":1 \"b\":2}", "[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]",
		"1e400", "\"\\n\"",
	};
	static const char *good[] = {
		"{}", "[]", " [ ] ", "0", "-0.5", "1E+2", "\"\"",
		"[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]",
		"{\"a\":{\"b\":[null,false]}}", "\"\\u0020~\"",
	};
	struct sj j;
	uint64_t u;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ_INT(skip_all(bad[i]), -1, bad[i]);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_EQ_INT(skip_all(good[i]), 0, good[i]);
	sj_init(&j, (const uint8_t *)"18446744073709551616", 20);
	T_EQ_INT(sj_u64(&j, &u), -1, "2^64 is too large");
	sj_init(&j, (const uint8_t *)"1.0", 3);
	T_EQ_INT(sj_u64(&j, &u), -1, "1.0 is not an unsigned integer");
	sj_init(&j, (const uint8_t *)"-0", 2);
	T_EQ_INT(sj_u64(&j, &u), -1, "-0 is not an unsigned integer");
	/* The error is sticky: nothing reads after it. */
	sj_init(&j, (const uint8_t *)"[x, 1]", 6);
	(void)sj_array(&j);
	(void)sj_more(&j);
	T_EQ_INT(sj_u64(&j, &u), -1, "bad element");
	T_EQ_INT(sj_more(&j), -1, "error is sticky");
	T_EQ_INT(sj_peek(&j), SJ_NONE, "peek after an error");
}

static void
t_json_put(void)
{
	static const uint8_t in[] = "a\"b\\\n\x01\xc3\xa9\xff\x7f";
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	sj_put_str(f, in, sizeof(in) - 1);
	fclose(f);
	T_EQ_STR(buf, "\"a\\\"b\\\\\\n\\u0001\xc3\xa9\\u00ff\\u007f\"",
	    "string escaped as flowlog does");
	free(buf);
}

/* ---- names ------------------------------------------------------------- */

static void
t_names(void)
{
	static const char *bad[] = {
		"20261329T180000Z_0000000042.pcap.gz",	/* month 13 */
		"20261129T180000_0000000042.pcap.gz",	/* no Z */
		"20261129T180000Z_000000042.pcap.gz",	/* 9 digits */
		"20261129T180000Z_0000000042.pcap.gz.json",
		"20261129T180000Z_0000000042.pcap.gz.part",
		"20261129T180000Z_00000000000000000042.pcap.gz", /* 20 */
		"../20261129T180000Z_0000000042.pcap.gz",
		"20261129T180000Z_0000000042.pcap",
		"19691231T235959Z_0000000042.pcap.gz",
		"2026112XT180000Z_0000000042.pcap.gz",
		"99991231T235959Z_0000000042.pcap.gz",	/* past 2554 */
	};
	struct tm tm;
	uint64_t id = 0, t_s = 0;
	uint8_t addr[16];
	size_t i;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 2026 - 1900;
	tm.tm_mon = 10;
	tm.tm_mday = 29;
	tm.tm_hour = 18;
	tm.tm_min = 7;
	tm.tm_sec = 9;
	T_EQ_INT(sctl_name_parse("20261129T180709Z_0000000042.pcap.gz", &id,
	    &t_s), 0, "spool file name");
	T_EQ_U64(id, 42, "file id");
	T_EQ_U64(t_s, (uint64_t)timegm(&tm), "start time (timegm)");
	T_EQ_INT(sctl_name_parse("20000229T000000Z_12345678901234567890"
	    ".pcap.gz", &id, &t_s), -1, "20-digit id");
	T_EQ_INT(sctl_name_parse("20000229T000000Z_1234567890123456789"
	    ".pcap.gz", &id, &t_s), 0, "19-digit id");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ_INT(sctl_name_parse(bad[i], &id, &t_s), -1, bad[i]);

	T_EQ_INT(sctl_dir_addr("192.0.2.1", addr), 0, "IPv4 directory");
	T_EQ_INT(sctl_dir_addr("2001_db8__1", addr), 0, "IPv6 directory");
	T_EQ_INT(sctl_dir_addr("2001:db8::1", addr), -1, "':' is not ours");
	T_EQ_INT(sctl_dir_addr("2001_DB8__1", addr), -1, "not canonical");
	T_EQ_INT(sctl_dir_addr("__ffff_192.0.2.1", addr), -1,
	    "mapped IPv4 is written dotted");
	T_EQ_INT(sctl_dir_addr("..", addr), -1, "..");
	T_EQ_INT(sctl_dir_addr("quarantine", addr), -1, "quarantine");
}

/* ---- a real spool ------------------------------------------------------- */

#define N_PKTS		3000
#define T0_NS		1764439200000000000ull	/* 2025-11-29T18:00:00Z */
#define STEP_NS		10000123ull	/* 10 ms: 30 s in all */

static char tmpdir[] = "/tmp/test_sctl.XXXXXX";
static char hostdir[256];

static void
pkt_of(uint32_t i, uint8_t *p, uint32_t *len)
{
	uint32_t k, x = i * 2654435761u;

	*len = 60 + i % 400;
	for (k = 0; k < *len; k++) {
		x = x * 1103515245u + 12345u;
		p[k] = (uint8_t)(k < 40 ? k : x >> 24);	/* half random */
	}
}

/* Write N_PKTS packets of one host; returns the file count. */
static int
make_spool(void)
{
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool_trigger trig;
	struct spool *sp;
	uint8_t addr[16], p[600];
	uint32_t i, len;

	T_OK(mkdtemp(tmpdir) != NULL, "temporary directory");
	spool_config_defaults(&cfg);
	cfg.statedir = tmpdir;
	cfg.max_slots = 4;
	cfg.chunk_bytes = 8192;
	spool_limits_defaults(&lim);
	lim.file_size = 256 * 1024;
	lim.rotate_ns = 0;
	lim.snaplen = 1024;
	lim.is_nsec = 1;
	memset(&trig, 0, sizeof(trig));
	util_strlcpy(trig.metric, "syn_rate", sizeof(trig.metric));
	(void)addr_parse("192.0.2.7", addr);
	if ((sp = spool_new(&cfg)) == NULL ||
	    spool_open(sp, 0, addr, &lim, &trig) != 0) {
		T_OK(0, "spool: %s", strerror(errno));
		spool_free(sp);
		return 0;
	}
	for (i = 0; i < N_PKTS; i++) {
		pkt_of(i, p, &len);
		if (spool_pkt(sp, 0, T0_NS + i * STEP_NS, p, len, len + 4) !=
		    0)
			break;
	}
	T_EQ_INT(i, N_PKTS, "packets accepted by the spool");
	(void)spool_close(sp, 0);
	spool_free(sp);
	snprintf(hostdir, sizeof(hostdir), "%s/captures/192.0.2.7", tmpdir);
	return 1;
}

static void
t_catalogue(struct sctl_host *h)
{
	uint8_t dig[SHA256_LEN];
	uint64_t size, pkts = 0;
	size_t i;
	int fd, capfd, ok_sha = 1, ok_chain = 1, ok_idx = 1;
	char path[512];

	snprintf(path, sizeof(path), "%s/captures", tmpdir);
	capfd = open(path, O_RDONLY | O_DIRECTORY);
	T_EQ_INT(sctl_host_load(capfd, "192.0.2.7", h), 0, "host listed");
	close(capfd);
	T_OK(h->n_files >= 3, "several files (%zu)", h->n_files);
	for (i = 0; i < h->n_files; i++) {
		const struct sctl_file *f = &h->files[i];

		if (!f->has_side) {
			T_OK(0, "%s: sidecar: %s", f->name, f->side_err);
			continue;
		}
		pkts += f->side.packets;
		fd = openat(h->dfd, f->name, O_RDONLY);
		if (fd < 0 || sctl_file_sha256(fd, dig, &size) != 0 ||
		    memcmp(dig, f->side.sha256, SHA256_LEN) != 0 ||
		    size != f->side.bytes_gz || size != f->size)
			ok_sha = 0;
		if (fd >= 0)
			close(fd);
		if (!sctl_side_index_ok(&f->side) || f->side.n_members < 2)
			ok_idx = 0;
		if (i > 0 && (!f->side.has_prev ||
		    strcmp(f->side.prev_file, h->files[i - 1].name) != 0 ||
		    memcmp(f->side.prev_sha256, h->files[i - 1].side.sha256,
		    SHA256_LEN) != 0))
			ok_chain = 0;
		if (!f->side.has_link || f->side.link_type != 1 ||
		    f->side.snaplen != 1024 || !f->side.is_nsec ||
		    strcmp(f->side.metric, "syn_rate") != 0)
			T_OK(0, "%s: link, snaplen, tstamp, trigger", f->name);
	}
	T_EQ_U64(pkts, N_PKTS, "sidecars count every packet");
	T_OK(ok_sha, "every file's SHA-256 and size match its sidecar");
	T_OK(ok_idx, "every member index is consistent, several members");
	T_OK(ok_chain, "the hash chain links each file to the one before");
}

/* Read a sidecar text of the spool for mutation tests. */
static char *
side_text(const struct sctl_host *h, size_t i, size_t *len)
{
	char path[512];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.json", hostdir, h->files[i].name);
	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0)
		return NULL;
	buf = calloc(1, (size_t)st.st_size + 256);
	if (buf != NULL && read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* Replace the first `from` in s (room for 256 more bytes) by `to`. */
static int
edit(char *s, const char *from, const char *to)
{
	char *p = strstr(s, from);
	size_t fl = strlen(from), tl = strlen(to);

	if (p == NULL)
		return -1;
	memmove(p + tl, p + fl, strlen(p + fl) + 1);
	memcpy(p, to, tl);
	return 0;
}

static int
parses(const char *s)
{
	struct sctl_side sd;
	const char *why;
	int r;

	r = sctl_side_parse((const uint8_t *)s, strlen(s), &sd, &why);
	sctl_side_free(&sd);
	return r;
}

static void
t_side_mutations(const struct sctl_host *h)
{
	static const struct {
		const char *from, *to, *name;
		int want;
	} m[] = {
		{ "\"format\": \"sensord-capture/1\"",
		  "\"format\": \"sensord-capture/2\"", "other format", -1 },
		{ "\"file_id\"", "\"file_idx\"", "file_id missing", -1 },
		{ "\"sha256\"", "\"sha\"", "sha256 missing", -1 },
		{ "\"packets\"", "\"packets\": 1, \"packets\"", "duplicate",
		  -1 },
		{ "\"host\"", "\"future_key\": {\"x\": [1, {}]}, \"host\"",
		  "unknown key skipped", 0 },
		{ "\"link_type\"", "\"link_typo\"", "no link type: ok", 0 },
		{ "\"first_ns\": 1", "\"first_ns\": 2",
		  "first after last (stamps stepped back) parses", 0 },
		{ "\"sha256\": \"", "\"sha256\": \"A", "hash too long", -1 },
		{ "\"tstamp\": \"nsec\"", "\"tstamp\": \"psec\"", "tstamp", -1 },
		{ "\"members\": [\n    [", "\"members\": [\n    [1, ",
		  "member of six numbers", -1 },
		{ "\"recovered\": false", "\"recovered\": 0", "bool as 0", -1 },
		{ "\"trigger\": {", "\"trigger\": {\"value\": null, ",
		  "duplicate key inside the trigger", -1 },
		{ "\n}", ",\n}", "trailing comma", -1 },
		{ "\"host\": \"", "\"host\": \"\x1b[31m", "escape in text", -1 },
	};
	struct sctl_side sd;
	uint64_t lo, lo2, hi;
	const char *why;
	size_t len, i;
	char *s;

	if ((s = side_text(h, 1, &len)) == NULL) {
		T_OK(0, "read a sidecar");
		return;
	}
	T_EQ_INT(parses(s), 0, "spool's own sidecar parses");
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char *c = calloc(1, len + 256);

		memcpy(c, s, len);
		if (edit(c, m[i].from, m[i].to) != 0)
			T_OK(0, "%s: pattern not found", m[i].name);
		else
			T_EQ_INT(parses(c), m[i].want, m[i].name);
		free(c);
	}
	/*
	 * Every prefix of a sidecar is refused (ASan: never read past its
	 * end) but the one that lacks only the final newline.
	 */
	for (i = 0; i < len; i++) {
		if (sctl_side_parse((const uint8_t *)s, i, &sd, &why) == 0) {
			sctl_side_free(&sd);
			break;
		}
	}
	T_EQ_U64(i, len - 1, "no shorter prefix parses");
	/* Index consistency. */
	if (sctl_side_parse((const uint8_t *)s, len, &sd, &why) == 0) {
		T_OK(sctl_side_index_ok(&sd), "index ok as written");
		sd.members[1].off++;
		T_OK(!sctl_side_index_ok(&sd), "a gap between members");
		sd.members[1].off--;
		sd.members[0].pkts++;
		T_OK(!sctl_side_index_ok(&sd), "member packets != packets");
		sd.members[0].pkts--;
		sd.bytes_gz++;
		T_OK(!sctl_side_index_ok(&sd), "members end before the file");
		sd.bytes_gz--;
		sd.members[0].first_ns = sd.first_ns - 1;
		T_OK(!sctl_side_index_ok(&sd), "first member does not start "
		    "the file");
		sd.members[0].first_ns = sd.first_ns;
		sd.members[sd.n_members - 1].last_ns++;
		T_OK(!sctl_side_index_ok(&sd), "last member does not end it");
		sd.members[sd.n_members - 1].last_ns--;
		/* Spans: members' stamps, widened by the skew tolerance. */
		sctl_side_span(&sd, &lo2, &hi);
		T_OK(lo2 == sd.first_ns - SCTL_SKEW_NS &&
		    hi == sd.last_ns + SCTL_SKEW_NS, "span: first to last "
		    "packet, give or take the skew");
		lo = sd.members[1].last_ns;
		sd.members[1].last_ns = sd.first_ns - 10 * SCTL_SKEW_NS;
		T_OK(sctl_side_index_ok(&sd), "stamps stepping back: index "
		    "still usable");
		sctl_side_span(&sd, &lo2, &hi);
		T_OK(lo2 == sd.first_ns - 11 * SCTL_SKEW_NS, "span reaches "
		    "back to a member's earliest stamp");
		sd.members[1].last_ns = lo;
		sd.has_members = 0;
		sctl_side_span(&sd, &lo2, &hi);
		T_OK(lo2 == 0 && hi == UINT64_MAX, "no index: any time");
		sd.has_members = 1;
		sctl_side_free(&sd);
	}
	free(s);
}

/* Every packet of the host through the sources, in order. */
static void
t_sources(const struct sctl_host *h)
{
	struct sctl_src_stats st;
	struct pcapfmt_rec r;
	struct sctl_src *src;
	uint8_t p[600];
	uint64_t since = T0_NS + 1000 * STEP_NS, until = T0_NS + 1999 * STEP_NS;
	uint32_t next = 0, len, in_range = 0;
	uint64_t skipped = 0;
	const char *why;
	size_t i;
	int fd, ok = 1, rr;

	for (i = 0; i < h->n_files; i++) {
		fd = openat(h->dfd, h->files[i].name, O_RDONLY);
		src = sctl_src_open(fd, &h->files[i].side, 0, UINT64_MAX, &why);
		if (src == NULL) {
			T_OK(0, "open %s: %s", h->files[i].name, why);
			close(fd);
			return;
		}
		while ((rr = sctl_src_next(src, &r, &why)) == 1) {
			pkt_of(next, p, &len);
			if (r.ts_ns != T0_NS + next * STEP_NS ||
			    r.caplen != len || r.wirelen != len + 4 ||
			    memcmp(r.data, p, len) != 0)
				ok = 0;
			next++;
		}
		if (rr != 0)
			T_OK(0, "read %s: %s", h->files[i].name, why);
		sctl_src_free(src);
		close(fd);
	}
	T_EQ_U64(next, N_PKTS, "every packet read back");
	T_OK(ok, "times, lengths and bytes as written");

	/* With a range: members outside are skipped, none inside lost. */
	for (i = 0; i < h->n_files; i++) {
		fd = openat(h->dfd, h->files[i].name, O_RDONLY);
		src = sctl_src_open(fd, &h->files[i].side, since, until, &why);
		while (src != NULL && sctl_src_next(src, &r, &why) == 1)
			if (r.ts_ns >= since && r.ts_ns <= until)
				in_range++;
		if (src != NULL) {
			sctl_src_stats(src, &st);
			skipped += st.members_skipped;
			T_OK(st.used_index, "%s: index used", h->files[i].name);
		}
		sctl_src_free(src);
		close(fd);
	}
	T_EQ_U64(in_range, 1000, "packets in the range, with skipping");
	T_OK(skipped > 0, "members skipped (%llu)", (unsigned long long)skipped);
}

static int
copy_file(const char *from, const char *to)
{
	char buf[8192];
	ssize_t n;
	int in, out, rc = 0;

	if ((in = open(from, O_RDONLY)) < 0)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (n < 0)
		rc = -1;
	close(in);
	close(out);
	return rc;
}

/* A flipped byte inside a member: zlib's CRC or inflate refuses it. */
static void
t_corrupt(const struct sctl_host *h)
{
	struct sctl_side sd = h->files[0].side;
	struct pcapfmt_rec r;
	struct sctl_src *src;
	char path[512], copy[512];
	const char *why = NULL;
	uint8_t b;
	int fd, rr = 1;
	off_t at;

	snprintf(path, sizeof(path), "%s/%s", hostdir, h->files[0].name);
	snprintf(copy, sizeof(copy), "%s/corrupt", tmpdir);
	if (copy_file(path, copy) != 0) {
		T_OK(0, "copy %s", path);
		return;
	}
	fd = open(copy, O_RDWR);
	at = (off_t)(sd.members[1].off + sd.members[1].len / 2);
	if (pread(fd, &b, 1, at) == 1) {
		b ^= 0x10;
		if (pwrite(fd, &b, 1, at) != 1)
			T_OK(0, "flip a byte of %s", copy);
	}
	src = sctl_src_open(fd, &sd, 0, UINT64_MAX, &why);
	while (src != NULL && (rr = sctl_src_next(src, &r, &why)) == 1)
		;
	T_EQ_INT(rr, -1, "corrupt member refused");
	T_OK(why != NULL, "reason: %s", why != NULL ? why : "none");
	sctl_src_free(src);
	close(fd);
}

int
main(void)
{
	struct sctl_host h;
	char cmd[300];

	t_json_walk();
	t_json_bad();
	t_json_put();
	t_names();
	if (make_spool()) {
		t_catalogue(&h);
		if (h.n_files >= 2) {
			t_side_mutations(&h);
			t_sources(&h);
			t_corrupt(&h);
		}
		sctl_host_free(&h);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			T_OK(0, "remove %s", tmpdir);
	}
	return t_done();
}
