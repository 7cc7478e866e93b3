/*
 * test_events.c: the events.jsonl writer, checked with jq.
 *
 * Lines are read back by jq (a real JSON parser); without jq those checks
 * print "skip" lines.  Ids continue across reopen, a torn last line is
 * isolated, a tail without ids falls back to a full scan.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "t.h"

static char DIR_[64];
static int have_jq;

/* Run a shell command, return its whole stdout (static buffer). */
static const char * __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	static char out[65536];
	char cmd[512];
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((p = popen(cmd, "r")) == NULL)
		return "";
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

static void
mkev(struct host_event *e, int breach)
{
	memset(e, 0, sizeof(*e));
	e->ts_us = 1772409600123456ULL;
	e->addr[10] = e->addr[11] = 0xff;
	e->addr[12] = 10;
	e->addr[15] = 5;
	e->is_breach = (uint8_t)breach;
	e->metric = BL_M_DST_PORTS;
	e->basis = BL_ABSOLUTE;
	e->value = 512;
	e->threshold = 500;
	e->window_s = 600;
	e->cfg_window = 600;
	snprintf(e->window, sizeof(e->window), "10m");
	e->new_proto = -1;
}

static void
test_write(void)
{
	char path[128], err[256];
	struct events *ev;
	struct events_rec r;
	struct host_event he;
	struct stat sb;
	uint64_t id = 0;
	const char *out;

	snprintf(path, sizeof(path), "%s/events.jsonl", DIR_);
	umask(022);
	ev = events_open(path, err, sizeof(err));
	T_OK(ev != NULL, "open: %s", ev ? "ok" : err);
	if (ev == NULL)
		return;
	T_EQ_U64(events_last_id(ev), 0, "new file: last id 0");
	T_OK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640,
	    "mode 0640");
	mkev(&he, 1);
	T_OK(events_write_host(ev, &he, "escalate", &id) == 0 && id == 1,
	    "breach written, id 1");
	mkev(&he, 0);
	he.value = 120;
	he.detail = "window slid";
	T_OK(events_write_host(ev, &he, "deescalate", &id) == 0 && id == 2,
	    "normal written, id 2");
	mkev(&he, 1);
	he.metric = BL_M_BEACON;
	he.basis = BL_LEARNED;
	he.value = 96.5;
	he.threshold = 70;
	he.window_s = 0;
	he.has_peer = 1;
	he.peer[10] = he.peer[11] = 0xff;
	he.peer[12] = 203;
	he.peer[14] = 113;
	he.peer[15] = 50;
	he.dport = 443;
	he.proto = 6;
	he.period_s = 601.25;
	he.detail = "new";
	T_OK(events_write_host(ev, &he, "logged: capture forbidden by "
	    "policy", &id) == 0 && id == 3, "beacon breach written, id 3");
	/* A generic daemon event through the builder. */
	events_begin(&r, 1772409601000000ULL, "suspend");
	events_addr(&r, "host", he.addr);
	events_str(&r, "reason",
	    "quote\" backslash\\ nl\n tab\t ctl\x01 hi\xff");
	events_num(&r, "nan", NAN);
	events_num(&r, "share", 0.8333333333333334);
	events_uint(&r, "big", 18446744073709551615ULL);
	T_OK(events_end(ev, &r, &id) == 0 && id == 4, "builder event, id 4");
	/* An oversized line is refused and spends no id. */
	{
		char big[3000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		events_begin(&r, 1, "huge");
		events_str(&r, "blob", big);
		T_OK(events_end(ev, &r, &id) == -1 && errno == EMSGSIZE,
		    "line over 2 KiB: EMSGSIZE");
		T_EQ_U64(events_last_id(ev), 4, "... no id spent");
	}
	events_close(ev);

	out = sh("tail -c 1 '%s' | od -An -c", path);
	T_OK(strstr(out, "\\n") != NULL, "file ends with a newline");
	out = sh("wc -l < '%s'", path);
	T_EQ_INT(atoi(out), 4, "four lines");
	if (!have_jq) {
		printf("skip - jq not installed: JSON checks\n");
		return;
	}
	out = sh("jq -c '[.id,.ts,.event,.host,.metric,.value,.threshold,"
	    ".basis,.window,.action]' '%s'", path);
	T_OK(strstr(out, "[1,1772409600.123456,\"breach\",\"10.0.0.5\","
	    "\"dst_ports\",512,500,\"absolute\",600,\"escalate\"]") != NULL,
	    "breach line fields (jq)");
	T_OK(strstr(out, "[2,1772409600.123456,\"normal\",\"10.0.0.5\","
	    "\"dst_ports\",120,500,\"absolute\",600,\"deescalate\"]") != NULL,
	    "normal line fields (jq)");
	T_OK(strstr(out, "[3,1772409600.123456,\"breach\",\"10.0.0.5\","
	    "\"beacon\",96.5,70,\"learned\",0,\"logged: capture forbidden by "
	    "policy\"]") != NULL, "beacon line fields (jq)");
	out = sh("jq -c 'select(.id==3)|[.peer,.dport,.proto,.period,"
	    ".detail,.window_name]' '%s' | tr -d '\\n'", path);
	T_EQ_STR(out, "[\"203.0.113.50\",443,6,601.25,\"new\",\"10m\"]",
	    "beacon extras (jq)");
	out = sh("jq -j 'select(.id==4)|.reason' '%s' | od -An -tx1 | "
	    "tr -d ' \\n'", path);
	T_EQ_STR(out, "71756f746522206261636b736c6173685c206e6c0a20746162"
	    "092063746c01206869c3bf", "escaped string decodes back (jq)");
	out = sh("jq -c 'select(.id==4)|[.nan,.share,.big]' '%s' | "
	    "tr -d '\\n'", path);
	T_OK(strncmp(out, "[null,0.8333333333", 18) == 0,
	    "NaN as null, shares with 10 digits: %s", out);
}

static void
test_reopen(void)
{
	char path[128], err[256];
	struct events *ev;
	struct events_rec r;
	uint64_t id = 0;
	const char *out;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/events.jsonl", DIR_);
	ev = events_open(path, err, sizeof(err));
	T_OK(ev != NULL && events_last_id(ev) == 4,
	    "reopen: last id 4 from the file");
	events_begin(&r, 2000000, "resume");
	T_OK(events_end(ev, &r, &id) == 0 && id == 5, "next id 5");
	events_close(ev);

	/* A crash mid-write left a torn line. */
	f = fopen(path, "a");
	fputs("{\"id\":6,\"ts\":17", f);
	fclose(f);
	ev = events_open(path, err, sizeof(err));
	T_OK(ev != NULL && events_last_id(ev) == 5,
	    "torn last line ignored: last id 5");
	events_begin(&r, 3000000, "escalate");
	T_OK(events_end(ev, &r, &id) == 0 && id == 6, "next id 6");
	events_close(ev);
	if (have_jq) {
		out = sh("jq -R -c 'fromjson? // \"TORN\"' '%s' | "
		    "grep -c TORN", path);
		T_EQ_INT(atoi(out), 1, "exactly one unparsable (torn) line");
		out = sh("jq -R -c 'fromjson? | .id' '%s' | tr '\\n' ' '",
		    path);
		T_EQ_STR(out, "1 2 3 4 5 6 ", "ids 1..6 in order, each once");
	} else
		printf("skip - jq not installed\n");

	/* Thousands of events: the id comes from the last 64 KiB. */
	ev = events_open(path, err, sizeof(err));
	for (i = 0; i < 3000; i++) {
		events_begin(&r, 4000000 + (uint64_t)i, "breach");
		events_str(&r, "pad",
		    "0123456789012345678901234567890123456789");
		events_end(ev, &r, &id);
	}
	events_close(ev);
	/* ... then 80 KiB of foreign lines without ids. */
	f = fopen(path, "a");
	for (i = 0; i < 80; i++) {
		char line[1025];

		memset(line, 'y', 1023);
		line[1023] = '\n';
		line[1024] = '\0';
		fputs(line, f);
	}
	fclose(f);
	ev = events_open(path, err, sizeof(err));
	T_OK(ev != NULL && events_last_id(ev) == 3006,
	    "no id in the tail: full scan finds 3006 (%llu)",
	    ev ? (unsigned long long)events_last_id(ev) : 0ULL);
	events_close(ev);
	snprintf(path, sizeof(path), "%s/no/such/dir/e.jsonl", DIR_);
	ev = events_open(path, err, sizeof(err));
	T_OK(ev == NULL && errno == ENOENT && strstr(err, path) != NULL,
	    "open error names the file: %s", err);
}

static void
test_line(void)
{
	struct events_rec r;
	const char *l;
	size_t n;

	events_begin(&r, 5, "x");
	events_num(&r, "v", 3);
	events_num(&r, "w", -2.5);
	l = events_line(&r, 42, &n);
	T_OK(l != NULL && n == strlen("{\"id\":42,\"ts\":0.000005,\"event\":"
	    "\"x\",\"v\":3,\"w\":-2.5}\n") && memcmp(l, "{\"id\":42,\"ts\":"
	    "0.000005,\"event\":\"x\",\"v\":3,\"w\":-2.5}\n", n) == 0,
	    "line layout: id first, microsecond ts, integers plain");
}

int
main(void)
{
	char cmd[128];

	snprintf(DIR_, sizeof(DIR_), "/tmp/test_events.XXXXXX");
	if (mkdtemp(DIR_) == NULL)
		return 1;
	have_jq = system("command -v jq >/dev/null 2>&1") == 0;
	test_line();
	test_write();
	test_reopen();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", DIR_);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", DIR_);
	return t_done();
}
