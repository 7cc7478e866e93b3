/*
 * test_flowlog.c: the flow log and its reader, end to end on disk.
 *
 * Records are synthetic convrecs built here; every check reads the files
 * back, with flowread and with the real tools (zcat, gzip -t, jq), so what
 * is asserted is what an analyst would see.  Faults (ENOSPC, a slow disk, a
 * kill in mid-write) come through the write_fn seam; kill -9 through fork.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "convrec.h"
#include "flowlog.h"
#include "flowread.h"
#include "util.h"

#define T0_US	1700000000123456ULL	/* 2023-11-14T22:13:20Z */

static char tmproot[64];
static int have_tools;

/* Interface names: plain, and one with every byte class the escaper has. */
static const char *const ifnames[] = {
	"eth0", "lo", "we\"ird\\na\tme\x01\xff\xc3\xa9\xe2\x98\x83!"
};
#define N_IFNAMES 3

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static void
mkrec(struct convrec *cr, uint64_t i, uint64_t t0)
{
	static const char *const states[] = { "SF", "S0", "REJ", "RSTO",
	    "OTH", "RSTOS0" };
	static const char *const hist[] = { "ShADadFf", "S", "Sr",
	    "ShADadR^", "ShAdDaTtFf^rRcC" };
	static const uint16_t dports[] = { 443, 80, 53, 22, 8080 };

	memset(cr, 0, sizeof(*cr));
	cr->conv_id = 5000000 + i * 3;
	cr->seq = (uint32_t)(i % 4);
	cr->proto = i % 10 == 0 ? 17 : i % 31 == 0 ? 1 : 6;
	if (i % 7 == 3) {
		cr->family = 6;
		addr_parse("2001:db8::1", cr->src);
		addr_parse("2001:db8:0:1::", cr->dst);
		cr->src[14] = (uint8_t)(i >> 8);
		cr->src[15] = (uint8_t)i;
	} else {
		cr->family = 4;
		addr_parse("10.1.0.0", cr->src);
		addr_parse("192.0.2.0", cr->dst);
		cr->src[14] = (uint8_t)(i >> 8);
		cr->src[15] = (uint8_t)i;
		cr->dst[15] = (uint8_t)(i % 50);
	}
	cr->sport = (uint16_t)(32768 + i % 28000);
	cr->dport = dports[i % 5];
	cr->start_us = t0 + i * 1000;
	cr->end_us = cr->start_us + (i % 5000) * 1000 + 123;
	cr->fwd.pkts = i % 100 + 1;
	cr->fwd.bytes = cr->fwd.pkts * 60 + i % 1400;
	cr->fwd.first_us = cr->start_us;
	cr->fwd.last_us = cr->end_us;
	cr->fwd.flags = (uint8_t)(i % 3 == 0 ? 0x02 : 0x1b);
	if (i % 9 != 0) {
		cr->rev.pkts = i % 50 + 1;
		cr->rev.bytes = cr->rev.pkts * 1000 + i % 7;
		cr->rev.first_us = cr->start_us + 150;
		cr->rev.last_us = cr->end_us;
		cr->rev.flags = (uint8_t)(i * 37);
	}
	util_strlcpy(cr->state, states[i % 6], sizeof(cr->state));
	util_strlcpy(cr->history, hist[i % 5], sizeof(cr->history));
	cr->reason = (uint8_t)(1 + i % 7);
	cr->is_final = cr->reason != END_ACTIVE;
	cr->iface = (uint8_t)(i % 4);	/* 3 has no name: "-" */
	cr->vlan = (uint16_t)(i % 5 == 0 ? 100 : 0);
}

static const char *
want_iface(uint8_t idx)
{
	return idx < N_IFNAMES ? ifnames[idx] : "-";
}

/* Name of the first differing field, or NULL. */
static const char *
rec_diff(const struct convrec *a, const struct flowread_rec *r,
    int has_times)
{
	const struct convrec *b = &r->cr;
	const char *ifn = want_iface(a->iface);

#define D(f) if (a->f != b->f) return #f
	D(conv_id); D(seq); D(family); D(proto); D(reason); D(is_final);
	D(vlan); D(sport); D(dport); D(start_us); D(end_us);
	D(fwd.pkts); D(fwd.bytes); D(fwd.flags); D(rev.pkts); D(rev.bytes);
	D(rev.flags);
	if (has_times) {
		D(fwd.first_us); D(fwd.last_us); D(rev.first_us);
		D(rev.last_us);
	} else if (b->fwd.first_us || b->fwd.last_us || b->rev.first_us ||
	    b->rev.last_us)
		return "first/last not 0";
#undef D
	if (memcmp(a->src, b->src, 16) != 0)
		return "src";
	if (memcmp(a->dst, b->dst, 16) != 0)
		return "dst";
	if (strcmp(a->state, b->state) != 0)
		return "state";
	if (strcmp(a->history, b->history) != 0)
		return "history";
	if (r->iface_len != strlen(ifn) || memcmp(r->iface, ifn,
	    r->iface_len) != 0)
		return "iface";
	return NULL;
}

static void
cfg_test(struct flowlog_config *cfg, const char *dir)
{
	flowlog_config_defaults(cfg);
	cfg->dir = dir;
	cfg->iface_names = ifnames;
	cfg->n_ifaces = N_IFNAMES;
	cfg->lossless = 1;
	cfg->rotate_interval_s = 0;
	cfg->dir_times = 1;
}

/* a/b into out (truncated paths fail the test's lookups, never overflow). */
static void
pjoin(char *out, size_t size, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + 1 + lb + 1 > size) {
		out[0] = '\0';
		return;
	}
	memcpy(out, a, la);
	out[la] = '/';
	memcpy(out + la + 1, b, lb + 1);
}

static void
subdir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmproot, name);
}

/* Run a shell command, return the first line of its stdout as a number. */
static long long
sh_num(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static long long
sh_num(const char *fmt, ...)
{
	char cmd[1024], out[128] = "";
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(out, sizeof(out), p) == NULL)
		out[0] = '\0';
	pclose(p);
	return out[0] != '\0' ? strtoll(out, NULL, 10) : -1;
}

static int
sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh_ok(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Files of dir with our names, sorted; returns the count. */
static int
list_files(const char *dir, char names[][FLOWLOG_NAME_LEN], int max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t t;
	unsigned s;
	int n = 0, i, j;
	char tmp[FLOWLOG_NAME_LEN];

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max)
		if (flowlog_name_parse(de->d_name, &t, &s) == 0)
			util_strlcpy(names[n++], de->d_name, FLOWLOG_NAME_LEN);
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			memcpy(tmp, names[j], sizeof(tmp));
			memcpy(names[j], names[j - 1], sizeof(tmp));
			memcpy(names[j - 1], tmp, sizeof(tmp));
		}
	return n;
}

static uint64_t
dir_bytes(const char *dir, int *nfiles)
{
	static char names[4096][FLOWLOG_NAME_LEN];
	char p[512];
	struct stat st;
	uint64_t sum = 0;
	int n = list_files(dir, names, 4096), i;

	for (i = 0; i < n; i++) {
		pjoin(p, sizeof(p), dir, names[i]);
		if (stat(p, &st) == 0)
			sum += (uint64_t)st.st_size;
	}
	if (nfiles != NULL)
		*nfiles = n;
	return sum;
}

struct problems {
	int		n;
	char		last[256];
};

static void
on_problem(void *arg, const char *file, uint64_t line, const char *what)
{
	struct problems *p = arg;
	const char *b = strrchr(file, '/');

	p->n++;
	snprintf(p->last, sizeof(p->last), "%s:%llu: %s",
	    b != NULL ? b + 1 : file, (unsigned long long)line, what);
}

/* Read every record of dir into recs (up to max); returns the count. */
static long
read_dir(const char *dir, const struct flowread_filter *flt,
    struct flowread_rec *recs, long max, struct flowread_stats *st,
    struct problems *pr)
{
	struct flowread *fr = flowread_new(flt, pr != NULL ? on_problem :
	    NULL, pr);
	struct flowread_rec tmp;
	long n = 0;

	if (fr == NULL || flowread_add_dir(fr, dir) != 0) {
		flowread_free(fr);
		return -1;
	}
	while (flowread_next(fr, n < max ? &recs[n] : &tmp) == 1)
		n++;
	if (st != NULL)
		flowread_get_stats(fr, st);
	flowread_free(fr);
	return n;
}

static int
open_fds_into(const char *suffix)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char p[300], l[512];
	ssize_t n;
	size_t sl = strlen(suffix);
	int cnt = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
		if ((n = readlink(p, l, sizeof(l) - 1)) <= 0)
			continue;
		l[n] = '\0';
		if ((size_t)n >= sl && strcmp(l + n - (ssize_t)sl, suffix) == 0)
			cnt++;
	}
	closedir(d);
	return cnt;
}

/* The write seam: counts calls, injects faults. */
static struct {
	int		calls;
	int		fail_from, fail_to; /* [from, to): ENOSPC */
	int		half_at;	/* this call writes half */
	int		kill_at;	/* writes half, then dies */
	unsigned	sleep_us;
} hk;

static void
hook_reset(void)
{
	memset(&hk, 0, sizeof(hk));
	hk.fail_from = hk.fail_to = hk.half_at = hk.kill_at = -1;
}

static ssize_t
hook_write(int fd, const void *buf, size_t len)
{
	int n = hk.calls++;

	if (hk.sleep_us)
		usleep(hk.sleep_us);
	if (n == hk.kill_at) {
		if (write(fd, buf, len / 2) < 0)
			_exit(3);
		raise(SIGKILL);
	}
	if (n == hk.half_at)
		return write(fd, buf, len / 2);
	if (n >= hk.fail_from && n < hk.fail_to) {
		errno = ENOSPC;
		return -1;
	}
	return write(fd, buf, len);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

static void
test_config(void)
{
	struct flowlog_config cfg;
	struct flowlog *fl;
	char d[256];

	subdir(d, sizeof(d), "cfg");
	cfg_test(&cfg, d);
	cfg.retention_bytes = cfg.file_size - 1;
	fl = flowlog_open(&cfg);
	T_OK(fl == NULL && errno == EINVAL, "config: cap below one file "
	    "refused");
	cfg_test(&cfg, d);
	cfg.file_size = cfg.chunk_size;
	fl = flowlog_open(&cfg);
	T_OK(fl == NULL && errno == EINVAL, "config: file below two chunks "
	    "refused");
	cfg_test(&cfg, d);
	cfg.level = 13;
	fl = flowlog_open(&cfg);
	T_OK(fl == NULL && errno == EINVAL, "config: level 13 refused");
	cfg_test(&cfg, NULL);
	fl = flowlog_open(&cfg);
	T_OK(fl == NULL && errno == EINVAL, "config: no dir refused");
}

static void
test_names(void)
{
	char buf[FLOWLOG_NAME_LEN];
	uint64_t t;
	unsigned seq;

	flowlog_name_fmt(T0_US / 1000000, 42, buf);
	T_EQ_STR(buf, "flows-20231114T221320Z-0042.jsonl.gz", "name format");
	T_OK(flowlog_name_parse(buf, &t, &seq) == 0 &&
	    t == T0_US / 1000000 && seq == 42, "name parses back");
	flowlog_name_fmt(951782400, 10042, buf);	/* 2000-02-29 */
	T_EQ_STR(buf, "flows-20000229T000000Z-0042.jsonl.gz",
	    "name: leap day, seq modulo 10000");
	T_OK(flowlog_name_parse(buf, &t, &seq) == 0 && t == 951782400,
	    "name: leap day parses back");
	T_OK(flowlog_name_parse("flows-20231314T221320Z-0042.jsonl.gz", &t,
	    &seq) != 0, "name: month 13 refused");
	T_OK(flowlog_name_parse("flows-20231114T221320Z-0042.jsonl.gz.tmp",
	    &t, &seq) != 0, "name: suffix refused");
	T_OK(flowlog_name_parse("flows-2023111xT221320Z-0042.jsonl.gz", &t,
	    &seq) != 0, "name: non-digit refused");
}

static const char *const contract_keys21 =
    "[\"conv_id\",\"seq\",\"start\",\"end\",\"proto\",\"src\",\"sport\","
    "\"dst\",\"dport\",\"src_pkts\",\"src_bytes\",\"dst_pkts\","
    "\"dst_bytes\",\"src_flags\",\"dst_flags\",\"state\",\"history\","
    "\"end_reason\",\"final\",\"vlan\",\"iface\"]";

static const char *const contract_keys =
    "[\"conv_id\",\"seq\",\"start\",\"end\",\"proto\",\"src\",\"sport\","
    "\"dst\",\"dport\",\"src_pkts\",\"src_bytes\",\"dst_pkts\","
    "\"dst_bytes\",\"src_flags\",\"dst_flags\",\"state\",\"history\","
    "\"end_reason\",\"final\",\"vlan\",\"iface\",\"src_first\","
    "\"src_last\",\"dst_first\",\"dst_last\"]";

#define N_RT	5000
static struct flowread_rec rbuf[40000];

static void
test_roundtrip(char *rtdir, size_t rtsize)
{
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct flowlog_stats st;
	struct flowread_stats rs;
	struct problems pr = { 0, "" };
	struct convrec cr;
	char d[256], names[8][FLOWLOG_NAME_LEN], p[512];
	struct stat sb;
	const char *diff = NULL;
	long n, i, ndiff = 0, first_bad = -1;
	unsigned long long sum = 0, n_eth0 = 0;
	FILE *f;

	subdir(d, sizeof(d), "rt/a/flows");
	snprintf(rtdir, rtsize, "%s", d);
	cfg_test(&cfg, d);
	cfg.chunk_size = 64 * 1024;
	fl = flowlog_open(&cfg);
	T_OK(fl != NULL, "roundtrip: open creates rt/a/flows");
	if (fl == NULL)
		return;
	for (i = 0; i < N_RT; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		flowlog_write(fl, &cr);
		sum += cr.fwd.bytes + cr.rev.bytes;
		n_eth0 += cr.iface == 0;
	}
	mkrec(&cr, 0, T0_US);
	cr.reason = END_NONE;
	flowlog_write(fl, &cr);
	flowlog_sync(fl);
	flowlog_get_stats(fl, &st);
	flowlog_close(fl);
	T_EQ_U64(st.n_records, N_RT, "roundtrip: records accepted");
	T_EQ_U64(st.n_ignored, 1, "roundtrip: END_NONE notice ignored");
	T_EQ_U64(st.n_written, N_RT, "roundtrip: records written");
	T_EQ_U64(st.n_dropped + st.n_lost + st.n_write_errors, 0,
	    "roundtrip: no drop, loss or error");
	T_EQ_U64(st.n_files, 1, "roundtrip: one file");
	T_OK(st.n_members >= st.bytes_in / cfg.chunk_size,
	    "roundtrip: one member per chunk (%llu members, %llu bytes)",
	    (unsigned long long)st.n_members,
	    (unsigned long long)st.bytes_in);
	T_OK(st.bytes_out > 0 && st.bytes_in / st.bytes_out >= 4,
	    "roundtrip: JSON compresses (%.2f:1, %.1f B/record)",
	    (double)st.bytes_in / (double)st.bytes_out,
	    (double)st.bytes_out / N_RT);
	T_OK(st.disk_bytes == dir_bytes(d, NULL),
	    "roundtrip: catalogue bytes = bytes on disk");

	memset(&sb, 0, sizeof(sb));
	stat(d, &sb);
	T_EQ_INT(sb.st_mode & 07777, 0750, "roundtrip: dir mode 0750");
	subdir(p, sizeof(p), "rt/a");
	memset(&sb, 0, sizeof(sb));
	stat(p, &sb);
	T_EQ_INT(sb.st_mode & 07777, 0750, "roundtrip: parent created 0750");
	T_EQ_INT(list_files(d, names, 8), 1, "roundtrip: one file on disk");
	pjoin(p, sizeof(p), d, names[0]);
	memset(&sb, 0, sizeof(sb));
	stat(p, &sb);
	T_EQ_INT(sb.st_mode & 07777, 0640, "roundtrip: file mode 0640");

	n = read_dir(d, NULL, rbuf, N_RT + 10, &rs, &pr);
	T_EQ_INT(n, N_RT, "roundtrip: flowread returns every record");
	for (i = 0; i < n && i < N_RT; i++) {
		const char *w;

		mkrec(&cr, (uint64_t)i, T0_US);
		if ((w = rec_diff(&cr, &rbuf[i], 1)) != NULL) {
			if (ndiff++ == 0) {
				diff = w;
				first_bad = i;
			}
		}
	}
	T_OK(ndiff == 0, "roundtrip: every field equal (%ld differ; first "
	    "#%ld field %s)", ndiff, first_bad, diff ? diff : "-");
	T_OK(rs.n_malformed == 0 && rs.n_truncated == 0 && rs.n_corrupt == 0
	    && pr.n == 0, "roundtrip: reader saw no problem (%s)", pr.last);
	T_EQ_U64(rs.n_members, st.n_members, "roundtrip: reader inflated "
	    "every member");

	if (!have_tools) {
		printf("skip - roundtrip: jq/zcat/gzip not installed\n");
		return;
	}
	T_OK(sh_ok("gzip -t %s/*.gz", d), "roundtrip: gzip -t passes");
	T_EQ_INT(sh_num("zcat %s/*.gz | jq -c . | wc -l", d), N_RT,
	    "roundtrip: zcat | jq sees every line");
	T_EQ_U64((unsigned long long)sh_num("zcat %s/*.gz | "
	    "jq -s 'map(.src_bytes + .dst_bytes) | add'", d), sum,
	    "roundtrip: jq sum of src_bytes + dst_bytes");
	T_EQ_U64((unsigned long long)sh_num("zcat %s/*.gz | "
	    "jq -c 'select(.iface == \"eth0\")' | wc -l", d), n_eth0,
	    "roundtrip: jq select by iface name");
	T_OK(sh_ok("zcat %s/*.gz | jq -e -s 'map(keys_unsorted == %s) | "
	    "all' >/dev/null", d, contract_keys),
	    "roundtrip: every line has exactly the contract keys, in order");
	/* jq 1.6's -e looks at the last input only: pick one with first(). */
	T_OK(sh_ok("zcat %s/*.gz | jq -e -n 'first(inputs | "
	    "select(.conv_id == 5000000)) | .start == 1700000000.123456 and "
	    ".final == true and .src == \"10.1.0.0\" and .src_flags == \"S\" "
	    "and .end_reason == \"fin\" and .dst_first == 0' >/dev/null", d),
	    "roundtrip: jq reads times, booleans, addresses, flags");
	T_OK(sh_ok("zcat %s/*.gz | jq -e -n 'first(inputs | "
	    "select(.conv_id == 5000009)) | .src == \"2001:db8::3\" and "
	    ".dst == \"2001:db8:0:1::\"' >/dev/null", d),
	    "roundtrip: jq reads an IPv6 record");
	/* jq decodes our \u00ff as U+00FF, i.e. UTF-8 c3 bf. */
	snprintf(p, sizeof(p), "%s/iface.out", tmproot);
	sh_ok("zcat %s/*.gz | jq -j 'select(.conv_id == 5000006) | .iface' "
	    "> %s", d, p);
	{
		static const char want[] =
		    "we\"ird\\na\tme\x01\xc3\xbf\xc3\xa9\xe2\x98\x83!";
		char got[128] = "";
		size_t gl = 0;

		if ((f = fopen(p, "rb")) != NULL) {
			gl = fread(got, 1, sizeof(got) - 1, f);
			fclose(f);
		}
		T_OK(gl == sizeof(want) - 1 && memcmp(got, want, gl) == 0,
		    "roundtrip: jq decodes the odd interface name");
	}
}

static void
test_parser(void)
{
	static const char valid[] =
	    "{\"conv_id\":1,\"seq\":0,\"start\":1700000000.5,"
	    "\"end\":1700000001,\"proto\":6,\"src\":\"10.0.0.1\","
	    "\"sport\":1234,\"dst\":\"10.0.0.2\",\"dport\":80,"
	    "\"src_pkts\":1,\"src_bytes\":60,\"dst_pkts\":0,"
	    "\"dst_bytes\":0,\"src_flags\":\"S\",\"dst_flags\":\"\","
	    "\"state\":\"S0\",\"history\":\"S\",\"end_reason\":\"idle\","
	    "\"final\":true,\"vlan\":0,\"iface\":\"eth0\"}";
	static const struct {
		const char *from, *to, *name;
	} bad[] = {
		{ "\"sport\":1234", "\"sport\":01234", "leading zero" },
		{ "\"sport\":1234", "\"sport\":70000", "port out of range" },
		{ "\"sport\":1234", "\"sport\":-1", "negative" },
		{ "\"sport\":1234", "\"sport\":1.5", "fraction in integer" },
		{ "1700000000.5", "1.7e9", "exponent" },
		{ "\"seq\":0", "\"seq\":0,\"seq\":1", "duplicate key" },
		{ "\"iface\":\"eth0\"", "\"iface\":\"\\udc00\"",
		    "lone low surrogate" },
		{ "\"iface\":\"eth0\"", "\"iface\":\"a\tb\"",
		    "raw control byte" },
		{ "\"iface\":\"eth0\"", "\"iface\":\"a\\qb\"", "bad escape" },
		{ "\"iface\":\"eth0\"}", "\"iface\":\"eth0\"} x",
		    "junk after object" },
		{ "\"vlan\":0", "\"vlan\":{}", "nested object" },
		{ "\"src_flags\":\"S\"", "\"src_flags\":\"X\"", "bad flag" },
		{ "\"idle\"", "\"none\"", "end_reason none" },
		{ ",\"vlan\":0", "", "missing key" },
		{ "\"10.0.0.2\"", "\"::1\"", "mixed families" },
		{ "\"10.0.0.2\"", "\"10.0.0.256\"", "bad address" },
		{ "\"state\":\"S0\"", "\"state\":\"S0S0S0S0\"",
		    "state too long" },
		{ "\"final\":true", "\"final\":1", "final not boolean" },
		{ "\"end\":1700000001", "\"end\":18446744073709.551615",
		    "time overflow" },
		{ "\"conv_id\":1", "\"conv_id\":18446744073709551616",
		    "conv_id overflow" },
	};
	struct flowread_rec r;
	const char *why;
	char line[1024], *at;
	size_t i;
	int rc;

	rc = flowread_parse_line((const uint8_t *)valid, strlen(valid), &r,
	    &why);
	T_OK(rc == 0, "parse: valid line (%s)", why ? why : "ok");
	T_EQ_U64(r.cr.start_us, 1700000000500000ULL, "parse: start in us");
	T_EQ_U64(r.cr.end_us, 1700000001000000ULL, "parse: end without "
	    "fraction");
	T_OK(r.cr.fwd.flags == 0x02 && r.cr.rev.flags == 0 &&
	    r.cr.reason == END_IDLE && r.cr.is_final == 1 &&
	    r.cr.family == 4 && r.cr.sport == 1234 && r.cr.dport == 80 &&
	    strcmp(r.iface, "eth0") == 0 && strcmp(r.cr.state, "S0") == 0,
	    "parse: fields");
	T_OK(r.cr.fwd.first_us == 0 && r.cr.rev.last_us == 0,
	    "parse: optional first/last absent = 0");

	/* Whitespace, unknown keys, escapes. */
	snprintf(line, sizeof(line), " { \"zz\" : [1], %s", valid + 1);
	T_OK(flowread_parse_line((const uint8_t *)line, strlen(line), &r,
	    &why) != 0, "parse: array value refused (flat objects only)");
	at = strstr(valid, "\"iface\":\"eth0\"}");
	snprintf(line, sizeof(line), "{ \"zz\" : null , \"yy\":-1.5e3,"
	    "\"xx\":\"\\u2603\",%.*s%s ", at != NULL ?
	    (int)(at - valid - 1) : 0, valid + 1,
	    "\"iface\":\"\\u00ff\\u0001\\u2603\\ud83d\\ude00"
	    "\xc3\xa9\"}");
	rc = flowread_parse_line((const uint8_t *)line, strlen(line), &r,
	    &why);
	T_OK(rc == 0, "parse: unknown keys and spaces accepted (%s)",
	    why ? why : "ok");
	T_OK(r.iface_len == 11 && memcmp(r.iface,
	    "\xff\x01\xe2\x98\x83\xf0\x9f\x98\x80\xc3\xa9", 11) == 0,
	    "parse: \\u00XX to bytes, others to UTF-8");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *pos = strstr(valid, bad[i].from);
		size_t pre;

		if (pos == NULL) {
			T_OK(0, "parse: test table: %s", bad[i].name);
			continue;
		}
		pre = (size_t)(pos - valid);
		snprintf(line, sizeof(line), "%.*s%s%s", (int)pre, valid,
		    bad[i].to, pos + strlen(bad[i].from));
		rc = flowread_parse_line((const uint8_t *)line, strlen(line),
		    &r, &why);
		T_OK(rc != 0 && why != NULL, "parse: refuses %s (%s)",
		    bad[i].name, why ? why : "accepted");
	}
}

/* Digit-count boundaries and extremes of every number survive. */
static void
test_extremes(void)
{
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct convrec cr, want[64];
	struct flowread_rec got[64];
	char d[256];
	uint64_t v = 1;
	long n, i, k = 0, bad = 0;

	subdir(d, sizeof(d), "extremes");
	cfg_test(&cfg, d);
	if ((fl = flowlog_open(&cfg)) == NULL) {
		T_OK(0, "extremes: open");
		return;
	}
	for (i = 0; i < 40 && k < 60; i++) {
		uint64_t vals[2] = { v - 1, v };

		for (int j = 0; j < 2; j++, k++) {
			mkrec(&cr, (uint64_t)k, T0_US);
			cr.conv_id = vals[j];
			cr.fwd.pkts = vals[j];
			cr.rev.bytes = ~vals[j];
			cr.start_us = vals[j] % 9999999999999999ULL;
			cr.end_us = cr.start_us;
			want[k] = cr;
			flowlog_write(fl, &cr);
		}
		if (v > UINT64_MAX / 10)
			break;
		v *= 10;
	}
	mkrec(&cr, 0, T0_US);
	cr.conv_id = UINT64_MAX;
	cr.seq = UINT32_MAX;
	cr.sport = cr.dport = cr.vlan = 65535;
	cr.proto = 255;
	cr.fwd.bytes = UINT64_MAX;
	want[k++] = cr;
	flowlog_write(fl, &cr);
	flowlog_close(fl);
	n = read_dir(d, NULL, got, 64, NULL, NULL);
	for (i = 0; i < n && i < k; i++)
		bad += rec_diff(&want[i], &got[i], 1) != NULL;
	T_OK(n == k && bad == 0, "extremes: 0, 10^k - 1, 10^k, 2^64 - 1 "
	    "round-trip (%ld of %ld, %ld differ)", n, k, bad);
}

/* Without the optional per-direction times: exactly the contract keys. */
static void
test_no_dir_times(void)
{
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct convrec cr;
	char d[256];
	const char *w = NULL;
	long n, i, ndiff = 0;

	subdir(d, sizeof(d), "notimes");
	cfg_test(&cfg, d);
	cfg.dir_times = 0;
	if ((fl = flowlog_open(&cfg)) == NULL) {
		T_OK(0, "no dir_times: open");
		return;
	}
	for (i = 0; i < 300; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		flowlog_write(fl, &cr);
	}
	flowlog_close(fl);
	n = read_dir(d, NULL, rbuf, 1000, NULL, NULL);
	for (i = 0; i < n; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		if ((w = rec_diff(&cr, &rbuf[i], 0)) != NULL)
			ndiff++;
	}
	T_OK(n == 300 && ndiff == 0, "no dir_times: records read back "
	    "equal, first/last 0 (%ld, %ld differ)", n, ndiff);
	if (have_tools)
		T_OK(sh_ok("zcat %s/*.gz | jq -e -s 'map(keys_unsorted == %s) "
		    "| all' >/dev/null", d, contract_keys21),
		    "no dir_times: exactly the 21 contract keys, in order");
}

static void
test_flush_tick(void)
{
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct flowlog_stats st;
	struct convrec cr;
	char d[256];
	int i;

	subdir(d, sizeof(d), "tick");
	cfg_test(&cfg, d);
	cfg.lossless = 0;
	fl = flowlog_open(&cfg);
	if (fl == NULL) {
		T_OK(0, "tick: open");
		return;
	}
	flowlog_tick(fl, T0_US);
	for (i = 0; i < 10; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		flowlog_write(fl, &cr);
	}
	flowlog_tick(fl, T0_US + 1000000);
	usleep(100000);
	flowlog_get_stats(fl, &st);
	T_EQ_U64(st.n_written, 0, "tick: records younger than "
	    "flush_interval stay buffered");
	flowlog_tick(fl, T0_US + 2000000);
	flowlog_sync(fl);	/* nothing left to hand off: only waits */
	flowlog_get_stats(fl, &st);
	T_EQ_U64(st.n_flushes, 1, "tick: flushed by the tick");
	T_EQ_U64(st.n_written, 10, "tick: flushed records written");
	if (have_tools)
		T_EQ_INT(sh_num("zcat %s/*.gz | wc -l", d), 10,
		    "tick: zcat reads the open file after the flush");
	flowlog_close(fl);
}

static void
test_size_rotation(void)
{
	static char names[512][FLOWLOG_NAME_LEN];
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct flowlog_stats st;
	struct convrec cr;
	struct stat sb;
	char d[256], p[512];
	long n, i, bad_order = 0;
	int nf, big = 0, j;

	subdir(d, sizeof(d), "size");
	cfg_test(&cfg, d);
	cfg.chunk_size = 8192;
	cfg.file_size = 32768;
	fl = flowlog_open(&cfg);
	if (fl == NULL) {
		T_OK(0, "size: open");
		return;
	}
	for (i = 0; i < N_RT; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		flowlog_write(fl, &cr);
	}
	flowlog_sync(fl);
	flowlog_get_stats(fl, &st);
	flowlog_close(fl);
	nf = list_files(d, names, 512);
	T_OK(nf >= 10, "size: rotated into %d files", nf);
	T_EQ_U64(st.n_files, (uint64_t)nf, "size: stats count every file");
	for (j = 0; j < nf; j++) {
		pjoin(p, sizeof(p), d, names[j]);
		if (stat(p, &sb) != 0 || sb.st_size == 0 ||
		    (uint64_t)sb.st_size > cfg.file_size)
			big++;
	}
	T_EQ_INT(big, 0, "size: every file 0 < size <= file_size");
	n = read_dir(d, NULL, rbuf, N_RT + 10, NULL, NULL);
	T_EQ_INT(n, N_RT, "size: every record across files");
	for (i = 0; i < n; i++)
		if (rbuf[i].cr.conv_id != 5000000 + (uint64_t)i * 3)
			bad_order++;
	T_EQ_INT(bad_order, 0, "size: files read in write order");
	if (have_tools)
		T_OK(sh_ok("gzip -t %s/*.gz", d), "size: gzip -t passes on "
		    "every file");
}

static void
test_time_rotation(void)
{
	static char names[64][FLOWLOG_NAME_LEN];
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct convrec cr;
	struct flowread *fr;
	struct flowread_rec r;
	char d[256], p[512];
	uint64_t t_s, b, last_b = UINT64_MAX;
	unsigned seq;
	long total = 0, wrong = 0, i;
	int nf, j, buckets = 0;

	subdir(d, sizeof(d), "time");
	cfg_test(&cfg, d);
	cfg.rotate_interval_s = 60;
	fl = flowlog_open(&cfg);
	if (fl == NULL) {
		T_OK(0, "time: open");
		return;
	}
	/* 6000 records 50 ms apart: 300 s of flow time, end times rising. */
	for (i = 0; i < 6000; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		cr.end_us = T0_US + (uint64_t)i * 50000;
		cr.start_us = cr.end_us - 1000;
		b = cr.end_us / 60000000;
		if (b != last_b)
			buckets++;
		last_b = b;
		flowlog_write(fl, &cr);
		if (i % 20 == 0)
			flowlog_tick(fl, cr.end_us);
	}
	flowlog_close(fl);
	nf = list_files(d, names, 64);
	T_EQ_INT(nf, buckets, "time: one file per interval of flow time");
	for (j = 0; j < nf; j++) {
		pjoin(p, sizeof(p), d, names[j]);
		if (flowlog_name_parse(names[j], &t_s, &seq) != 0)
			continue;
		fr = flowread_new(NULL, NULL, NULL);
		flowread_add_fd(fr, open(p, O_RDONLY), names[j]);
		while (flowread_next(fr, &r) == 1) {
			total++;
			if (r.cr.end_us / 60000000 != t_s / 60)
				wrong++;
		}
		flowread_free(fr);
	}
	T_EQ_INT(total, 6000, "time: every record");
	T_EQ_INT(wrong, 0, "time: each file holds only its interval");
	if (nf > 0 && flowlog_name_parse(names[0], &t_s, &seq) == 0)
		T_EQ_U64(t_s, T0_US / 1000000, "time: first file named by "
		    "its first record's flow time");

	/* A quiet link: the tick alone closes the finished interval's file. */
	subdir(d, sizeof(d), "time2");
	cfg.dir = d;
	fl = flowlog_open(&cfg);
	if (fl == NULL)
		return;
	flowlog_tick(fl, T0_US);
	for (i = 0; i < 10; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		cr.end_us = T0_US + 1000;
		flowlog_write(fl, &cr);
	}
	flowlog_sync(fl);
	T_EQ_INT(open_fds_into(".jsonl.gz"), 1, "time: file open while its "
	    "interval runs");
	flowlog_tick(fl, T0_US + 60000000);
	flowlog_sync(fl);
	T_EQ_INT(open_fds_into(".jsonl.gz"), 0, "time: the tick into the "
	    "next interval closed it, no record needed");
	flowlog_close(fl);
}

static void
test_retention(char *retdir, size_t retsize)
{
	static char names[512][FLOWLOG_NAME_LEN];
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct flowlog_stats st;
	struct convrec cr;
	char d[256];
	uint64_t on_disk, worst = 0;
	unsigned seq, seq0 = 0;
	uint64_t t;
	long n, i, bad = 0;
	int nf, j, over = 0, mismatch = 0, gaps = 0;

	subdir(d, sizeof(d), "ret");
	snprintf(retdir, retsize, "%s", d);
	cfg_test(&cfg, d);
	cfg.chunk_size = 8192;
	cfg.file_size = 32768;
	cfg.retention_bytes = 4 * 32768;
	fl = flowlog_open(&cfg);
	if (fl == NULL) {
		T_OK(0, "retention: open");
		return;
	}
	for (i = 0; i < 30000; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		flowlog_write(fl, &cr);
		if (i % 1000 == 999) {
			flowlog_sync(fl);
			flowlog_get_stats(fl, &st);
			on_disk = dir_bytes(d, NULL);
			if (on_disk > worst)
				worst = on_disk;
			over += on_disk > cfg.retention_bytes;
			mismatch += on_disk != st.disk_bytes;
		}
	}
	flowlog_sync(fl);
	flowlog_get_stats(fl, &st);
	flowlog_close(fl);
	T_OK(over == 0, "retention: total <= cap at every check (worst "
	    "%llu of %llu)", (unsigned long long)worst,
	    (unsigned long long)cfg.retention_bytes);
	T_EQ_INT(mismatch, 0, "retention: catalogue bytes = bytes on disk");
	T_OK(st.n_deleted > 0, "retention: deleted %llu files",
	    (unsigned long long)st.n_deleted);
	nf = list_files(d, names, 512);
	T_EQ_U64(st.n_files - st.n_deleted, (uint64_t)nf,
	    "retention: created - deleted = files left");
	T_OK(dir_bytes(d, NULL) <= cfg.retention_bytes &&
	    dir_bytes(d, NULL) > cfg.retention_bytes - 2 * cfg.file_size,
	    "retention: cap used, not over-deleted (%llu bytes)",
	    (unsigned long long)dir_bytes(d, NULL));
	/* The newest survive: seq numbers are the last ones, contiguous. */
	for (j = 0; j < nf; j++) {
		flowlog_name_parse(names[j], &t, &seq);
		if (j == 0)
			seq0 = seq;
		else if (seq != seq0 + (unsigned)j)
			gaps++;
	}
	T_OK(gaps == 0 && nf > 0 && seq0 + (unsigned)nf == st.n_files,
	    "retention: the oldest were deleted (left seq %u..%u of %llu)",
	    seq0, seq0 + (unsigned)nf - 1, (unsigned long long)st.n_files);
	n = read_dir(d, NULL, rbuf, 40000, NULL, NULL);
	for (i = 0; i < n; i++)
		if (rbuf[i].cr.conv_id != 5000000 +
		    (uint64_t)(30000 - n + i) * 3)
			bad++;
	T_OK(n > 0 && bad == 0, "retention: what is left is the newest "
	    "%ld records, in order", n);
}

static void
test_rescan(const char *d)
{
	static char before[512][FLOWLOG_NAME_LEN], after[512][FLOWLOG_NAME_LEN];
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct flowlog_stats st;
	struct convrec cr;
	uint64_t bytes0, t;
	unsigned seq_last, seq_new;
	long n0, n1, i;
	int nf0, nf1, nfiles;

	nf0 = list_files(d, before, 512);
	bytes0 = dir_bytes(d, &nfiles);
	n0 = read_dir(d, NULL, rbuf, 40000, NULL, NULL);
	cfg_test(&cfg, d);
	cfg.chunk_size = 8192;
	cfg.file_size = 32768;
	fl = flowlog_open(&cfg);
	if (fl == NULL || nf0 == 0) {
		T_OK(0, "rescan: open");
		flowlog_close(fl);
		return;
	}
	flowlog_sync(fl);
	flowlog_get_stats(fl, &st);
	T_EQ_U64(st.disk_files, (uint64_t)nf0, "rescan: catalogue has the "
	    "old files");
	T_EQ_U64(st.disk_bytes, bytes0, "rescan: catalogue has their bytes");
	for (i = 0; i < 100; i++) {	/* an hour later: sorts last */
		mkrec(&cr, (uint64_t)(30000 + i), T0_US + 3600000000ULL);
		flowlog_write(fl, &cr);
	}
	flowlog_close(fl);
	nf1 = list_files(d, after, 512);
	T_EQ_INT(nf1, nf0 + 1, "rescan: one new file beside the old ones");
	flowlog_name_parse(before[nf0 - 1], &t, &seq_last);
	flowlog_name_parse(after[nf1 - 1], &t, &seq_new);
	T_EQ_INT(seq_new, seq_last + 1, "rescan: sequence number continues");
	n1 = read_dir(d, NULL, rbuf, 40000, NULL, NULL);
	T_EQ_INT(n1, n0 + 100, "rescan: old and new records read");

	/* A lower cap applies to the old files at start-up. */
	cfg.retention_bytes = 2 * 32768;
	fl = flowlog_open(&cfg);
	if (fl == NULL)
		return;
	flowlog_sync(fl);
	flowlog_get_stats(fl, &st);
	flowlog_close(fl);
	T_OK(st.n_deleted > 0 && dir_bytes(d, NULL) <= cfg.retention_bytes,
	    "rescan: lowered cap deletes old files at start-up (%llu "
	    "deleted, %llu bytes left)", (unsigned long long)st.n_deleted,
	    (unsigned long long)dir_bytes(d, NULL));
}

/*
 * kill -9.  The child writes batches, syncs after each and reports the
 * count of synced records through a pipe.  mode 0: the parent kills it
 * while more records are buffered; mode 1: the write seam kills it half-way
 * through writing a member.
 */
static long
kill_child(const char *d, int mode, int *status)
{
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct convrec cr;
	int pfd[2];
	pid_t pid;
	long synced = 0, v, i, b;
	ssize_t n;

	if (pipe(pfd) != 0)
		return -1;
	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(pfd[0]);
		hook_reset();
		if (mode == 1)
			hk.kill_at = 30;
		cfg_test(&cfg, d);
		cfg.chunk_size = 8192;
		cfg.file_size = 16384;
		cfg.write_fn = hook_write;
		if ((fl = flowlog_open(&cfg)) == NULL)
			_exit(2);
		for (b = 0; b < 20; b++) {
			for (i = 0; i < 100; i++) {
				mkrec(&cr, (uint64_t)(b * 100 + i), T0_US);
				flowlog_write(fl, &cr);
			}
			flowlog_sync(fl);
			v = (b + 1) * 100;
			if (write(pfd[1], &v, sizeof(v)) != sizeof(v))
				_exit(2);
		}
		/*
		 * Buffered, never flushed: must not be required after.  Fewer
		 * than fill a chunk (~350 bytes each), or a full chunk goes to
		 * the writer and may be on disk before the kill.
		 */
		for (i = 0; i < 10; i++) {
			mkrec(&cr, (uint64_t)(2000 + i), T0_US);
			flowlog_write(fl, &cr);
		}
		v = -1;
		if (write(pfd[1], &v, sizeof(v)) != sizeof(v))
			_exit(2);
		for (;;)
			pause();
	}
	close(pfd[1]);
	while ((n = read(pfd[0], &v, sizeof(v))) == sizeof(v)) {
		if (v < 0) {
			kill(pid, SIGKILL);
			break;
		}
		synced = v;
	}
	close(pfd[0]);
	waitpid(pid, status, 0);
	return synced;
}

static void
test_kill(void)
{
	static char names[128][FLOWLOG_NAME_LEN];
	struct flowread_stats rs;
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct flowlog_stats st;
	char d[256];
	long synced, n, i, bad = 0;
	int status = 0, nf, j, fails = 0, fail_idx = -1;

	if (!have_tools) {
		printf("skip - kill: gzip/zcat not installed\n");
		return;
	}
	/* 1. Killed between writes: every file is whole gzip. */
	subdir(d, sizeof(d), "kill0");
	synced = kill_child(d, 0, &status);
	T_OK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
	    synced == 2000, "kill: child killed after %ld synced records",
	    synced);
	T_OK(sh_ok("gzip -t %s/*.gz", d), "kill: between writes, even the "
	    "open file is complete gzip");
	T_EQ_INT(sh_num("zcat %s/*.gz | wc -l", d), synced,
	    "kill: zcat recovers exactly the synced records");
	n = read_dir(d, NULL, rbuf, 40000, &rs, NULL);
	T_OK(n == synced && rs.n_truncated == 0, "kill: flowread reads "
	    "them (%ld)", n);

	/* 2. Killed in the middle of writing a member. */
	subdir(d, sizeof(d), "kill1");
	synced = kill_child(d, 1, &status);
	T_OK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
	    synced > 0 && synced < 2000, "kill: killed mid-write after %ld "
	    "synced records", synced);
	nf = list_files(d, names, 128);
	for (j = 0; j < nf; j++)
		if (!sh_ok("gzip -t %s/%s 2>/dev/null", d, names[j])) {
			fails++;
			fail_idx = j;
		}
	T_OK(nf > 1 && fails == 1 && fail_idx == nf - 1, "kill: gzip -t "
	    "fails on the open (newest) file only (%d of %d files)", fails,
	    nf);
	T_OK(sh_ok("zcat %s/%s 2>&1 >/dev/null | grep -q 'unexpected end'",
	    d, names[nf > 0 ? nf - 1 : 0]), "kill: zcat says unexpected end "
	    "of file");
	n = sh_num("zcat %s/*.gz 2>/dev/null | jq -c . 2>/dev/null | wc -l",
	    d);
	T_OK(n >= synced && n < synced + 100, "kill: zcat | jq recovers "
	    "every flushed record (%ld >= %ld)", n, synced);
	n = read_dir(d, NULL, rbuf, 40000, &rs, NULL);
	for (i = 0; i < n && i < synced; i++)
		if (rbuf[i].cr.conv_id != 5000000 + (uint64_t)i * 3)
			bad++;
	T_OK(n >= synced && bad == 0 && rs.n_truncated == 1,
	    "kill: flowread returns them and reports the cut file (%ld, "
	    "%llu truncated)", n, (unsigned long long)rs.n_truncated);

	/* Re-opening cuts the file back to its last whole member. */
	cfg_test(&cfg, d);
	cfg.chunk_size = 8192;
	cfg.file_size = 32768;
	cfg.file_size = 16384;
	fl = flowlog_open(&cfg);
	if (fl == NULL) {
		T_OK(0, "kill: reopen");
		return;
	}
	flowlog_get_stats(fl, &st);
	flowlog_close(fl);
	T_EQ_U64(st.n_repaired, 1, "kill: start-up repaired the cut file");
	T_OK(sh_ok("gzip -t %s/*.gz", d), "kill: after repair gzip -t passes");
	n = read_dir(d, NULL, rbuf, 40000, &rs, NULL);
	T_OK(n >= synced && rs.n_truncated == 0 &&
	    n == sh_num("zcat %s/*.gz | wc -l", d), "kill: after repair, "
	    "flowread and zcat agree (%ld records)", n);
}

static void
run_slow(const char *d, int lossless, struct flowlog_stats *st,
    double *t_write)
{
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct convrec cr;
	double t;
	long i;

	hook_reset();
	hk.sleep_us = 1000;
	cfg_test(&cfg, d);
	cfg.chunk_size = 4096;
	cfg.file_size = 1 << 20;
	cfg.queue_chunks = 1;
	cfg.lossless = lossless;
	cfg.write_fn = hook_write;
	if ((fl = flowlog_open(&cfg)) == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	t = now_s();
	for (i = 0; i < 3000; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		flowlog_write(fl, &cr);
	}
	*t_write = now_s() - t;
	flowlog_sync(fl);
	flowlog_get_stats(fl, st);
	flowlog_close(fl);
}

static void
test_queue_full(void)
{
	struct flowlog_stats st;
	char d[256];
	double t_live = 0, t_lossless = 0;
	long n;

	subdir(d, sizeof(d), "drop");
	run_slow(d, 0, &st, &t_live);
	T_OK(st.n_dropped > 0, "queue: live mode drops when full (%llu of "
	    "%llu)", (unsigned long long)st.n_dropped,
	    (unsigned long long)st.n_records);
	T_EQ_U64(st.n_written + st.n_dropped + st.n_lost, st.n_records,
	    "queue: written + dropped = records");
	n = read_dir(d, NULL, rbuf, 40000, NULL, NULL);
	T_EQ_U64((uint64_t)n, st.n_written, "queue: what was written reads "
	    "back");

	subdir(d, sizeof(d), "lossless");
	run_slow(d, 1, &st, &t_lossless);
	T_EQ_U64(st.n_dropped, 0, "queue: lossless mode drops nothing");
	T_EQ_U64(st.n_written, 3000, "queue: lossless writes every record");
	n = read_dir(d, NULL, rbuf, 40000, NULL, NULL);
	T_EQ_INT(n, 3000, "queue: lossless reads back every record");
	T_OK(t_lossless > 0.1 && t_live < t_lossless / 4, "queue: live "
	    "never waits (%.3f s) where lossless waits (%.3f s)", t_live,
	    t_lossless);
}

static void
test_enospc(void)
{
	struct flowlog_config cfg;
	struct flowlog *fl;
	struct flowlog_stats st;
	struct convrec cr;
	char d[256];
	uint64_t last_start = 0;
	long i, n, n_last = 0, got_last = 0;

	if (!have_tools) {
		printf("skip - enospc: gzip not installed\n");
		return;
	}
	subdir(d, sizeof(d), "enospc");
	hook_reset();
	hk.half_at = 4;		/* a short write ... */
	hk.fail_from = 5;	/* ... then ENOSPC for the rest of it */
	hk.fail_to = 6;
	cfg_test(&cfg, d);
	cfg.rotate_interval_s = 60;
	cfg.write_fn = hook_write;
	fl = flowlog_open(&cfg);
	if (fl == NULL) {
		T_OK(0, "enospc: open");
		return;
	}
	/* 3000 records 50 ms apart (150 s), a member per 100 records. */
	for (i = 0; i < 3000; i++) {
		mkrec(&cr, (uint64_t)i, T0_US);
		cr.end_us = T0_US + (uint64_t)i * 50000;
		cr.start_us = cr.end_us - 1000;
		flowlog_write(fl, &cr);
		if (i % 100 == 99)
			flowlog_sync(fl);
	}
	last_start = (cr.end_us / 60000000) * 60000000;
	for (i = 0; i < 3000; i++)
		n_last += T0_US + (uint64_t)i * 50000 >= last_start;
	flowlog_sync(fl);
	flowlog_get_stats(fl, &st);
	flowlog_close(fl);
	T_OK(st.n_write_errors >= 1 && st.last_errno == ENOSPC,
	    "enospc: counted (%llu errors, errno %d)",
	    (unsigned long long)st.n_write_errors, st.last_errno);
	T_OK(st.n_lost > 0 && st.n_written + st.n_lost == 3000,
	    "enospc: records lost while suspended are counted (%llu)",
	    (unsigned long long)st.n_lost);
	T_OK(!st.is_suspended, "enospc: resumed at the next rotation");
	T_OK(sh_ok("gzip -t %s/*.gz", d), "enospc: the short write was cut "
	    "back, every file is whole gzip");
	n = read_dir(d, NULL, rbuf, 40000, NULL, NULL);
	T_EQ_U64((uint64_t)n, st.n_written, "enospc: reads back what was "
	    "written");
	for (i = 0; i < n; i++)
		got_last += rbuf[i].cr.end_us >= last_start;
	T_EQ_INT(got_last, n_last, "enospc: the last interval is complete");
}

static void
write_gz(const char *path, const char *text, size_t len)
{
	char cmd[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "gzip -c > '%.900s'", path);
	if ((p = popen(cmd, "w")) == NULL)
		return;
	fwrite(text, 1, len, p);
	pclose(p);
}

static void
test_reader_problems(const char *rtdir)
{
	static const char valid[] =
	    "{\"conv_id\":1,\"seq\":0,\"start\":1700000000.5,"
	    "\"end\":1700000001,\"proto\":6,\"src\":\"10.0.0.1\","
	    "\"sport\":1234,\"dst\":\"10.0.0.2\",\"dport\":80,"
	    "\"src_pkts\":1,\"src_bytes\":60,\"dst_pkts\":0,"
	    "\"dst_bytes\":0,\"src_flags\":\"S\",\"dst_flags\":\"\","
	    "\"state\":\"S0\",\"history\":\"S\",\"end_reason\":\"idle\","
	    "\"final\":true,\"vlan\":0,\"iface\":\"eth0\"}\n";
	static char text[16384];
	static char names[8][FLOWLOG_NAME_LEN];
	struct flowread_stats rs;
	struct problems pr = { 0, "" };
	char d[256], p[600];
	size_t len = 0;
	long n, i, bad = 0;
	struct stat sb;

	if (!have_tools) {
		printf("skip - reader: gzip not installed\n");
		return;
	}
	subdir(d, sizeof(d), "bad");
	mkdir(d, 0750);
#define ADD(s) do { memcpy(text + len, (s), strlen(s)); len += strlen(s); \
} while (0)
	ADD(valid);					/* 1 */
	ADD("not json\n");				/* 2 */
	ADD("{\"conv_id\":1}\n");			/* 3 */
	memset(text + len, 'x', 5000);			/* 4 */
	len += 5000;
	ADD("\n");
	ADD(valid);					/* 5 */
	ADD(valid);					/* 6 */
	ADD("{\"conv");					/* 7, cut */
#undef ADD
	snprintf(p, sizeof(p), "%s/flows-20231114T221320Z-0000.jsonl.gz", d);
	write_gz(p, text, len);
	n = read_dir(d, NULL, rbuf, 100, &rs, &pr);
	T_EQ_INT(n, 3, "reader: good lines returned around bad ones");
	T_EQ_U64(rs.n_malformed, 4, "reader: malformed lines counted");
	T_EQ_STR(pr.last, "flows-20231114T221320Z-0000.jsonl.gz:7: last line "
	    "has no newline", "reader: problem reported with file:line");

	/* A file cut in the middle: whole lines before the cut. */
	if (list_files(rtdir, names, 8) < 1)
		return;
	subdir(d, sizeof(d), "cut");
	mkdir(d, 0750);
	pjoin(p, sizeof(p), rtdir, names[0]);
	stat(p, &sb);
	sh_ok("head -c %lld '%s' > '%s/%s'", (long long)sb.st_size * 2 / 3,
	    p, d, names[0]);
	n = read_dir(d, NULL, rbuf, 40000, &rs, NULL);
	for (i = 0; i < n; i++)
		if (rbuf[i].cr.conv_id != 5000000 + (uint64_t)i * 3)
			bad++;
	T_OK(n > N_RT / 2 && n < N_RT && bad == 0 && rs.n_truncated == 1 &&
	    rs.n_malformed == 0, "reader: cut file gives its whole lines "
	    "(%ld) and is reported", n);
	/* Junk after the members. */
	subdir(d, sizeof(d), "junk");
	mkdir(d, 0750);
	sh_ok("cat '%s' > '%s/%s' && printf 'garbage' >> '%s/%s'", p, d,
	    names[0], d, names[0]);
	n = read_dir(d, NULL, rbuf, 40000, &rs, NULL);
	T_OK(n == N_RT && rs.n_corrupt == 1, "reader: junk after the "
	    "members reported, records kept (%ld)", n);
}

static int
pred(const struct flowread_filter *f, const struct convrec *cr)
{
	int host = 1, port = 1;

	if (f->has_host)
		host = cidr_match(&f->host, cr->src) ||
		    cidr_match(&f->host, cr->dst);
	if (f->has_port)
		port = cr->sport == f->port || cr->dport == f->port;
	return host && port &&
	    (f->since_us == 0 || cr->end_us >= f->since_us) &&
	    (f->until_us == 0 || cr->start_us <= f->until_us);
}

static void
test_filters(const char *rtdir)
{
	struct flowread_filter f[5];
	struct flowread_stats rs;
	struct convrec cr;
	const char *what[5] = { "host 192.0.2.0/28", "host 10.1.0.5",
	    "port 53", "since..until", "since (late)" };
	long n, i, k, want, bad;
	uint64_t ids[N_RT];

	memset(f, 0, sizeof(f));
	f[0].has_host = cidr_parse("192.0.2.0/28", &f[0].host) == 0;
	f[1].has_host = cidr_parse("10.1.0.5", &f[1].host) == 0;
	f[2].has_port = 1;
	f[2].port = 53;
	/* Record i starts at T0 + i ms and ends at T0 + 2i ms. */
	f[3].since_us = T0_US + 1000000;
	f[3].until_us = T0_US + 2000000;
	f[4].since_us = T0_US + 8000000;
	for (k = 0; k < 5; k++) {
		want = 0;
		for (i = 0; i < N_RT; i++) {
			mkrec(&cr, (uint64_t)i, T0_US);
			if (pred(&f[k], &cr))
				ids[want++] = cr.conv_id;
		}
		n = read_dir(rtdir, &f[k], rbuf, N_RT, &rs, NULL);
		bad = 0;
		for (i = 0; i < n && i < want; i++)
			bad += rbuf[i].cr.conv_id != ids[i];
		T_OK(n == want && bad == 0 && want > 0, "filter %s: %ld "
		    "records, as computed independently (%ld)", what[k], n,
		    want);
		if (k == 4)
			T_OK(rs.n_members_skipped > 0, "filter: time index "
			    "skipped %llu members without inflating",
			    (unsigned long long)rs.n_members_skipped);
	}
}

int
main(void)
{
	char rtdir[256] = "", retdir[256] = "";

	snprintf(tmproot, sizeof(tmproot), "/tmp/flowlog-t.XXXXXX");
	if (mkdtemp(tmproot) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	have_tools = sh_ok("command -v jq >/dev/null && "
	    "command -v zcat >/dev/null && command -v gzip >/dev/null");
	test_config();
	test_names();
	test_parser();
	test_roundtrip(rtdir, sizeof(rtdir));
	test_filters(rtdir);
	test_reader_problems(rtdir);
	test_extremes();
	test_no_dir_times();
	test_flush_tick();
	test_size_rotation();
	test_time_rotation();
	test_retention(retdir, sizeof(retdir));
	test_rescan(retdir);
	test_kill();
	test_queue_full();
	test_enospc();
	if (t_n_fail == 0)
		sh_ok("rm -rf '%s'", tmproot);
	else
		printf("# files kept in %s\n", tmproot);
	return t_done();
}
