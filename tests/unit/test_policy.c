/*
 * test_policy: value parsers and formatters, merge, thresholds, lookup.
 *
 * Expected values are worked out by hand from the format (FORMAT.md), not
 * taken from the code: 1GiB is 1073741824, 80% is 8000 basis points, the
 * /16 host file wins over the /8 one for 10.1.2.4, and so on.  The lookup
 * of 1000 host files is compared with a linear longest-prefix scan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "t.h"

static char err[256];

/* ---- values ------------------------------------------------------------ */

static void
dur_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;

	T_OK(pol_parse_duration(s, &v, err, sizeof(err)) == 0 && v == want,
	    "duration %s = %llu ms (got %llu)", s, (unsigned long long)want,
	    (unsigned long long)v);
}

static void
dur_bad(const char *s, const char *want)
{
	uint64_t v = 12345;
	int r = pol_parse_duration(s, &v, err, sizeof(err));

	T_OK(r == -1 && v == 12345 && strcmp(err, want) == 0,
	    "duration '%s' refused: \"%s\" (got \"%s\")", s, want, err);
}

static void
size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;

	T_OK(pol_parse_size(s, &v, err, sizeof(err)) == 0 && v == want,
	    "size %s = %llu (got %llu)", s, (unsigned long long)want,
	    (unsigned long long)v);
}

static void
size_bad(const char *s, const char *want)
{
	uint64_t v = 7;
	int r = pol_parse_size(s, &v, err, sizeof(err));

	T_OK(r == -1 && v == 7 && strcmp(err, want) == 0,
	    "size '%s' refused: \"%s\" (got \"%s\")", s, want, err);
}

static void
test_durations(void)
{
	char b[32];

	dur_ok("30s", 30000);
	dur_ok("500ms", 500);
	dur_ok("10m", 600000);
	dur_ok("1h", 3600000);
	dur_ok("7d", 604800000);
	dur_ok("0s", 0);
	dur_ok("90s", 90000);
	/* 213503982334 days is the largest whole-day count under 2^64 ms */
	dur_ok("213503982334d", 213503982334ULL * 86400000ULL);
	dur_bad("213503982335d", "duration '213503982335d' is too large");
	dur_bad("99999999999999999999999s",
	    "duration '99999999999999999999999s' is too large");
	dur_bad("30", "duration needs a unit (ms, s, m, h, d)");
	dur_bad("1.5h", "bad duration '1.5h': whole numbers only (use a "
	    "smaller unit)");
	dur_bad("30x", "bad duration '30x': unknown unit 'x' (use ms, s, m, "
	    "h, d)");
	dur_bad("30sec", "bad duration '30sec': unknown unit 'sec' (use ms, "
	    "s, m, h, d)");
	dur_bad("", "missing value");
	dur_bad("-5s", "bad duration '-5s' (write e.g. 30s, 10m, 1h, 7d)");
	dur_bad("s", "bad duration 's' (write e.g. 30s, 10m, 1h, 7d)");
	dur_bad("30 s", "bad duration '30 s': no blanks inside a value (write "
	    "e.g. 30s, 10m, 1h, 7d)");

	pol_fmt_duration(120000, b, sizeof(b));
	T_EQ_STR(b, "2m", "120s prints as 2m");
	pol_fmt_duration(90000, b, sizeof(b));
	T_EQ_STR(b, "90s", "90s stays 90s");
	pol_fmt_duration(86400000, b, sizeof(b));
	T_EQ_STR(b, "1d", "86400s prints as 1d");
	pol_fmt_duration(25 * 3600000ULL, b, sizeof(b));
	T_EQ_STR(b, "25h", "25h stays 25h");
	pol_fmt_duration(1500, b, sizeof(b));
	T_EQ_STR(b, "1500ms", "1500ms stays 1500ms");
	pol_fmt_duration(0, b, sizeof(b));
	T_EQ_STR(b, "0s", "zero duration prints as 0s");
}

static void
test_sizes(void)
{
	char b[32];

	size_ok("512B", 512);
	size_ok("64KiB", 65536);
	size_ok("1MiB", 1048576);
	size_ok("1GiB", 1073741824);
	size_ok("1TiB", 1099511627776ULL);
	size_ok("0B", 0);
	size_ok("16777215TiB", 16777215ULL << 40);
	size_bad("16777216TiB", "size '16777216TiB' is too large");
	size_bad("64", "size needs a unit (B, KiB, MiB, GiB, TiB)");
	size_bad("64MB", "bad size '64MB': unknown unit 'MB' (use B, KiB, "
	    "MiB, GiB, TiB)");
	size_bad("64M", "bad size '64M': unknown unit 'M' (use B, KiB, MiB, "
	    "GiB, TiB)");
	size_bad("64mib", "bad size '64mib': unknown unit 'mib' (use B, KiB, "
	    "MiB, GiB, TiB)");
	size_bad("1.5GiB", "bad size '1.5GiB': whole numbers only (use a "
	    "smaller unit)");
	size_bad("GiB", "bad size 'GiB' (write e.g. 512B, 64KiB, 1MiB, 1GiB)");

	pol_fmt_size(1024ULL << 20, b, sizeof(b));
	T_EQ_STR(b, "1GiB", "1024MiB prints as 1GiB");
	pol_fmt_size(1536ULL << 20, b, sizeof(b));
	T_EQ_STR(b, "1536MiB", "1536MiB stays 1536MiB");
	pol_fmt_size(1023, b, sizeof(b));
	T_EQ_STR(b, "1023B", "1023B stays bytes");
	pol_fmt_size(0, b, sizeof(b));
	T_EQ_STR(b, "0B", "zero size prints as 0B");
	pol_fmt_size(5ULL << 40, b, sizeof(b));
	T_EQ_STR(b, "5TiB", "5TiB");
}

static void
test_numbers(void)
{
	uint64_t n;
	uint32_t u;
	int b, r;
	char s[32];

	T_OK(pol_parse_count("65535", &n, err, sizeof(err)) == 0 &&
	    n == 65535, "count 65535");
	T_OK(pol_parse_count("0", &n, err, sizeof(err)) == 0 && n == 0,
	    "count 0");
	r = pol_parse_count("10k", &n, err, sizeof(err));
	T_OK(r == -1 && strcmp(err, "bad number '10k': a count takes no "
	    "unit") == 0, "count 10k refused (%s)", err);
	T_OK(pol_parse_count("-1", &n, err, sizeof(err)) == -1, "count -1");
	T_OK(pol_parse_count("", &n, err, sizeof(err)) == -1, "count empty");
	T_OK(pol_parse_count("18446744073709551616", &n, err,
	    sizeof(err)) == -1, "count 2^64 overflows");
	T_OK(pol_parse_count("18446744073709551615", &n, err,
	    sizeof(err)) == 0 && n == UINT64_MAX, "count 2^64-1");

	T_OK(pol_parse_percent("60%", &u, err, sizeof(err)) == 0 && u == 6000,
	    "60%% is 6000 bp");
	T_OK(pol_parse_percent("12.5%", &u, err, sizeof(err)) == 0 &&
	    u == 1250, "12.5%% is 1250 bp");
	T_OK(pol_parse_percent("0.01%", &u, err, sizeof(err)) == 0 && u == 1,
	    "0.01%% is 1 bp");
	T_OK(pol_parse_percent("100%", &u, err, sizeof(err)) == 0 &&
	    u == 10000, "100%% is 10000 bp");
	r = pol_parse_percent("60", &u, err, sizeof(err));
	T_OK(r == -1 && strcmp(err, "percentage needs a '%' sign (write "
	    "60%)") == 0, "60 without %% refused (%s)", err);
	T_OK(pol_parse_percent("101%", &u, err, sizeof(err)) == -1,
	    "101%% refused");
	T_OK(pol_parse_percent("1.234%", &u, err, sizeof(err)) == -1 &&
	    strstr(err, "two decimals") != NULL, "1.234%% refused");
	T_OK(pol_parse_percent("%", &u, err, sizeof(err)) == -1, "%% alone");
	pol_fmt_percent(1250, s, sizeof(s));
	T_EQ_STR(s, "12.5%", "1250 bp prints as 12.5%");
	pol_fmt_percent(1, s, sizeof(s));
	T_EQ_STR(s, "0.01%", "1 bp prints as 0.01%");

	T_OK(pol_parse_decimal("3.5", &u, err, sizeof(err)) == 0 && u == 350,
	    "3.5 is 350");
	T_OK(pol_parse_decimal("3", &u, err, sizeof(err)) == 0 && u == 300,
	    "3 is 300");
	T_OK(pol_parse_decimal("3.55", &u, err, sizeof(err)) == 0 && u == 355,
	    "3.55 is 355");
	T_OK(pol_parse_decimal("3.555", &u, err, sizeof(err)) == -1,
	    "3.555 refused");
	T_OK(pol_parse_decimal("3.", &u, err, sizeof(err)) == -1, "3. refused");
	T_OK(pol_parse_decimal(".5", &u, err, sizeof(err)) == -1, ".5 refused");
	T_OK(pol_parse_decimal("-1", &u, err, sizeof(err)) == -1, "-1 refused");
	pol_fmt_decimal(300, s, sizeof(s));
	T_EQ_STR(s, "3.0", "300 prints as 3.0");
	pol_fmt_decimal(355, s, sizeof(s));
	T_EQ_STR(s, "3.55", "355 prints as 3.55");

	T_OK(pol_parse_bool("yes", &b, err, sizeof(err)) == 0 && b == 1, "yes");
	T_OK(pol_parse_bool("on", &b, err, sizeof(err)) == 0 && b == 1, "on");
	T_OK(pol_parse_bool("true", &b, err, sizeof(err)) == 0 && b == 1,
	    "true");
	T_OK(pol_parse_bool("off", &b, err, sizeof(err)) == 0 && b == 0, "off");
	T_OK(pol_parse_bool("false", &b, err, sizeof(err)) == 0 && b == 0,
	    "false");
	T_OK(pol_parse_bool("no", &b, err, sizeof(err)) == 0 && b == 0, "no");
	T_OK(pol_parse_bool("Yes", &b, err, sizeof(err)) == -1, "Yes refused");
	T_OK(pol_parse_bool("1", &b, err, sizeof(err)) == -1, "1 refused");
}

static void
test_lists(void)
{
	char items[4][16];
	size_t n = 99;

	T_OK(pol_list_split(" a , bb,c\t", &items[0][0], 16, 4, &n, err,
	    sizeof(err)) == 0 && n == 3 && strcmp(items[0], "a") == 0 &&
	    strcmp(items[1], "bb") == 0 && strcmp(items[2], "c") == 0,
	    "list split and trimmed");
	T_OK(pol_list_split("", &items[0][0], 16, 4, &n, err,
	    sizeof(err)) == 0 && n == 0, "empty list");
	T_OK(pol_list_split("  ", &items[0][0], 16, 4, &n, err,
	    sizeof(err)) == 0 && n == 0, "blank list");
	T_OK(pol_list_split("a,,b", &items[0][0], 16, 4, &n, err,
	    sizeof(err)) == -1 && strstr(err, "empty item") != NULL,
	    "a,,b refused (%s)", err);
	T_OK(pol_list_split("a,", &items[0][0], 16, 4, &n, err,
	    sizeof(err)) == -1, "trailing comma refused");
	T_OK(pol_list_split("a,b,c,d,e", &items[0][0], 16, 4, &n, err,
	    sizeof(err)) == -1 && strcmp(err, "too many items (at most 4)") == 0,
	    "five items in four refused (%s)", err);
	T_OK(pol_list_split("0123456789abcdef", &items[0][0], 16, 4, &n, err,
	    sizeof(err)) == -1, "16-byte item in 16 refused");
	T_OK(pol_list_split("0123456789abcde", &items[0][0], 16, 4, &n, err,
	    sizeof(err)) == 0 && n == 1, "15-byte item fits");
}

static void
test_times(void)
{
	struct pol_timerange tr = { 1, 2 };
	int32_t off;
	char b[32];

	T_OK(pol_parse_timerange("22:00-06:00", &tr, err, sizeof(err)) == 0 &&
	    tr.start_min == 1320 && tr.end_min == 360, "22:00-06:00");
	T_OK(pol_parse_timerange("23:59-24:00", &tr, err, sizeof(err)) == 0 &&
	    tr.start_min == 1439 && tr.end_min == 1440, "23:59-24:00");
	pol_fmt_timerange(&tr, b, sizeof(b));
	T_EQ_STR(b, "23:59-24:00", "time range prints back");
	T_OK(pol_parse_timerange("00:00-24:00", &tr, err, sizeof(err)) == -1,
	    "whole day refused");
	T_OK(pol_parse_timerange("22:00-22:00", &tr, err, sizeof(err)) == -1,
	    "empty range refused");
	T_OK(pol_parse_timerange("24:00-06:00", &tr, err, sizeof(err)) == -1,
	    "24:00 start refused");
	T_OK(pol_parse_timerange("25:00-06:00", &tr, err, sizeof(err)) == -1,
	    "25:00 refused");
	T_OK(pol_parse_timerange("22:60-06:00", &tr, err, sizeof(err)) == -1,
	    "22:60 refused");
	T_OK(pol_parse_timerange("7:00-08:00", &tr, err, sizeof(err)) == -1,
	    "one-digit hour refused");
	T_OK(pol_parse_timerange("22:00 - 06:00", &tr, err, sizeof(err)) == -1,
	    "blanks refused");

	T_OK(pol_parse_utc_offset("+05:30", &off, err, sizeof(err)) == 0 &&
	    off == 19800, "+05:30 is 19800 s");
	T_OK(pol_parse_utc_offset("-12:00", &off, err, sizeof(err)) == 0 &&
	    off == -43200, "-12:00");
	T_OK(pol_parse_utc_offset("+14:00", &off, err, sizeof(err)) == 0 &&
	    off == 50400, "+14:00");
	T_OK(pol_parse_utc_offset("+14:01", &off, err, sizeof(err)) == -1,
	    "+14:01 refused");
	T_OK(pol_parse_utc_offset("-12:30", &off, err, sizeof(err)) == -1,
	    "-12:30 refused");
	T_OK(pol_parse_utc_offset("05:00", &off, err, sizeof(err)) == -1,
	    "unsigned offset refused");
	pol_fmt_utc_offset(-34200, b, sizeof(b));
	T_EQ_STR(b, "-09:30", "-34200 s prints as -09:30");
}

static void
target_ok(const char *s, enum pol_xp_proto proto, const char *addr,
    uint16_t port)
{
	struct pol_export_target t;
	uint8_t a[16];
	char b[96];

	addr_parse(addr, a);
	T_OK(pol_parse_target(s, &t, err, sizeof(err)) == 0 &&
	    t.proto == proto && memcmp(t.addr, a, 16) == 0 && t.port == port,
	    "target %s", s);
	pol_fmt_target(&t, b, sizeof(b));
	T_EQ_STR(b, s, "target prints back");
}

static void
test_targets(void)
{
	struct pol_export_target t;
	static const char *const bad[] = {
		"ipfix@192.0.2.1:0", "ipfix@192.0.2.1:65536",
		"ipfix@192.0.2.1", "ipfix@2001:db8::1:4739",
		"ipfix@collector.example:4739", "sflow@192.0.2.1:6343",
		"ipfix@[192.0.2.1]:4739", "ipfix@[2001:db8::1]4739",
		"192.0.2.1:4739", "ipfix@:4739", "ipfix@192.0.2.1:47x9",
		"IPFIX@192.0.2.1:4739",
	};
	size_t i;

	target_ok("ipfix@192.0.2.1:4739", POL_XP_IPFIX, "192.0.2.1", 4739);
	target_ok("netflow5@10.0.0.1:2055", POL_XP_NETFLOW5, "10.0.0.1", 2055);
	target_ok("netflow9@[2001:db8::1]:65535", POL_XP_NETFLOW9,
	    "2001:db8::1", 65535);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(pol_parse_target(bad[i], &t, err, sizeof(err)) == -1,
		    "target %s refused (%s)", bad[i], err);
}

/* ---- loading from memory ----------------------------------------------- */

static struct policy *
load(const char *dflt, const char *const *hosts, size_t n,
    struct perrs *errs)
{
	struct pol_src src[16];
	size_t i;

	src[0].path = "t/default.conf";
	src[0].buf = dflt;
	src[0].len = strlen(dflt);
	for (i = 0; i < n; i++) {
		static char names[16][48];

		snprintf(names[i], sizeof(names[i]), "t/hosts/h%zu.conf", i);
		src[i + 1].path = names[i];
		src[i + 1].buf = hosts[i];
		src[i + 1].len = strlen(hosts[i]);
	}
	return pol_load_mem(src, n + 1, POL_NO_FILTER_COMPILE, errs);
}

static const char *
lookup_name(const struct policy *pol, const char *addr)
{
	uint8_t a[16];

	if (addr_parse(addr, a) != 0)
		return "(bad test address)";
	return pol_lookup(pol, a)->name;
}

static const struct pol_threshold *
find_thr(const struct pol_host *h, enum pol_kind k, enum pol_metric m,
    uint32_t w)
{
	size_t i;

	for (i = 0; i < h->n_thr; i++)
		if (h->thr[i].kind == k && h->thr[i].metric == m &&
		    h->thr[i].window_s == w)
			return &h->thr[i];
	return NULL;
}

static void
test_builtin(void)
{
	struct perrs errs = { 0 };
	struct policy *pol = load("", NULL, 0, &errs);
	const struct pol_global *g;
	const struct pol_host *d;
	const struct pol_threshold *t;

	T_OK(pol != NULL && errs.n == 0, "empty default.conf loads");
	if (pol == NULL) {
		perrs_print(&errs, stdout);
		return;
	}
	g = pol_global(pol);
	d = pol_default(pol);
	T_EQ_STR(g->state_dir, "/var/lib/sensord", "state_dir default");
	T_EQ_U64(g->flows.idle_timeout_ms, 30000, "idle_timeout 30s");
	T_EQ_U64(g->flows.table_memory_bytes, 256ULL << 20, "table 256MiB");
	T_EQ_U64(g->capture.global_cap_bytes, 10ULL << 30, "global_cap 10GiB");
	T_EQ_INT(g->home_nets.n, 4, "four home networks");
	T_EQ_INT(g->home_nets.is_auto, 0, "home_nets not auto");
	T_EQ_INT(g->export.ipfix_biflow, 1, "biflow yes");
	T_EQ_U64(g->export.template_refresh_ms, 60000, "template 60s");
	T_EQ_INT(d->capture.enabled, 1, "capture enabled");
	T_EQ_INT(d->capture.snaplen, 65535, "snaplen 65535");
	T_EQ_STR(d->capture.filter, "", "no filter");
	T_EQ_INT(d->detect.windows.n, 2, "two windows");
	T_OK(d->detect.windows.s[0] == 60 && d->detect.windows.s[1] == 600,
	    "windows 1m, 10m in seconds");
	T_EQ_INT(d->detect.learn_k_x100, 350, "learn_k 3.5");
	T_OK(d->detect.quiet_hours.start_min == 0 &&
	    d->detect.quiet_hours.end_min == 360, "quiet 00:00-06:00");
	T_EQ_INT(d->beacon.min_score_bp, 7000, "min_score 70%%");
	T_EQ_INT(d->n_thr, 12, "12 built-in thresholds");
	t = find_thr(d, POL_ABSOLUTE, POL_M_DST_PORTS, 600);
	T_OK(t != NULL && t->value == 500, "dst_ports.10m = 500");
	t = find_thr(d, POL_ABSOLUTE, POL_M_REJECTED_SHARE, 600);
	T_OK(t != NULL && t->value == 8000, "rejected_share.10m = 80%% (8000)");
	t = find_thr(d, POL_ABSOLUTE, POL_M_DST_PORTS, POL_WIN_DAY);
	T_OK(t != NULL && t->value == 5000, "dst_ports.day = 5000");
	t = find_thr(d, POL_LEARNED, POL_M_PROTOCOLS, POL_WIN_MONTH);
	T_OK(t != NULL && t->value == 350, "protocols.month k 3.5 (350)");
	T_OK(d->thr[0].kind == POL_ABSOLUTE &&
	    d->thr[d->n_thr - 1].kind == POL_LEARNED, "sorted by kind");
	T_EQ_STR(lookup_name(pol, "10.1.2.3"), "default", "no host files");
	pol_free(pol);
	perrs_free(&errs);
}

static void
test_merge(void)
{
	static const char *const hosts[] = {
		"[host]\naddress = 10.0.0.0/8\nname = ten\n"
		"[capture]\nsnaplen = 128\n",
		"[host]\naddress = 10.1.0.0/16\nname = ten-one\n"
		"[absolute]\ndst_ports.10m = 0\nbytes_out.day = 2GiB\n"
		"[learned]\nconns.day = 0\n",
		"[host]\naddress = 10.1.2.3\n[beacon]\nenabled = no\n",
		"[host]\naddress = 2001:db8::/32\nname = v6net\n",
		"[host]\naddress = 2001:db8::5\nname = v6host\n",
		"[host]\naddress = ::/0\nname = all-v6\n",
	};
	static const char dflt[] =
	    "[capture]\nhost_cap = 2GiB # comment\n"
	    "[detect]\nwindows = 10m, 1m, 30s\n"
	    "[absolute]\nhalf_open.30s = 50\n";
	struct perrs errs = { 0 };
	struct policy *pol = load(dflt, hosts, 6, &errs);
	const struct pol_host *h;
	uint8_t a[16];

	T_OK(pol != NULL, "nested host files load");
	if (pol == NULL) {
		perrs_print(&errs, stdout);
		return;
	}
	T_EQ_INT(pol_n_hosts(pol), 6, "six host files");
	T_EQ_STR(lookup_name(pol, "10.1.2.3"), "h2",
	    "the /32 wins (name from the file name)");
	T_EQ_STR(lookup_name(pol, "10.1.2.4"), "ten-one", "then the /16");
	T_EQ_STR(lookup_name(pol, "10.200.0.1"), "ten", "then the /8");
	T_EQ_STR(lookup_name(pol, "11.0.0.1"), "default", "else the default");
	T_EQ_STR(lookup_name(pol, "2001:db8::5"), "v6host", "IPv6 /128");
	T_EQ_STR(lookup_name(pol, "2001:db8::6"), "v6net", "IPv6 /32");
	T_EQ_STR(lookup_name(pol, "2001:db9::1"), "all-v6", "IPv6 ::/0");
	T_EQ_STR(lookup_name(pol, "192.0.2.1"), "default",
	    "::/0 does not match IPv4");

	addr_parse("10.1.2.4", a);
	h = pol_lookup(pol, a);
	T_EQ_INT(h->capture.snaplen, 65535,
	    "the /16 does not inherit the /8 (only the default)");
	T_EQ_U64(h->capture.host_cap_bytes, 2ULL << 30,
	    "host inherits default.conf's host_cap");
	T_EQ_INT(h->detect.windows.n, 3, "three windows inherited");
	T_OK(h->detect.windows.s[0] == 30 && h->detect.windows.s[2] == 600,
	    "windows sorted: 30s first, 10m last");
	T_OK(find_thr(h, POL_ABSOLUTE, POL_M_DST_PORTS, 600) == NULL,
	    "dst_ports.10m = 0 removes it");
	T_OK(find_thr(h, POL_LEARNED, POL_M_CONNS, POL_WIN_DAY) == NULL,
	    "learned conns.day = 0 removes it");
	T_OK(find_thr(h, POL_ABSOLUTE, POL_M_BYTES_OUT, POL_WIN_DAY) != NULL &&
	    find_thr(h, POL_ABSOLUTE, POL_M_BYTES_OUT, POL_WIN_DAY)->value ==
	    2ULL << 30, "bytes_out.day = 2GiB added");
	T_OK(find_thr(h, POL_ABSOLUTE, POL_M_HALF_OPEN, 30) != NULL,
	    "default.conf's half_open.30s inherited");
	T_OK(find_thr(h, POL_ABSOLUTE, POL_M_DST_IPS, 600) != NULL,
	    "built-in dst_ips.10m inherited");
	T_EQ_INT(h->beacon.enabled, 1, "beacon enabled");

	addr_parse("10.1.2.3", a);
	h = pol_lookup(pol, a);
	T_EQ_INT(h->beacon.enabled, 0, "the /32's own beacon setting");
	T_OK(find_thr(h, POL_ABSOLUTE, POL_M_DST_PORTS, 600) != NULL,
	    "the /32 keeps dst_ports.10m (not a child of the /16 file)");
	T_EQ_STR(h->file, "hosts/h2.conf", "file relative to the policy dir");

	T_OK(strcmp(pol_host_at(pol, 0)->name, "ten") == 0 &&
	    strcmp(pol_host_at(pol, 3)->name, "all-v6") == 0 &&
	    strcmp(pol_host_at(pol, 5)->name, "v6host") == 0,
	    "hosts in address order: IPv4 first");
	pol_free(pol);
	perrs_free(&errs);
}

static void
expect_errors(const char *what, const char *dflt, const char *const *hosts,
    size_t n, const char *const *want, size_t n_want)
{
	struct perrs errs = { 0 };
	struct policy *pol = load(dflt, hosts, n, &errs);
	char line[600];
	size_t i;
	int same = pol == NULL && errs.n == n_want;

	for (i = 0; same && i < n_want; i++) {
		if (errs.v[i].line > 0)
			snprintf(line, sizeof(line), "%s:%d: %s",
			    errs.v[i].file, errs.v[i].line, errs.v[i].msg);
		else
			snprintf(line, sizeof(line), "%s: %s", errs.v[i].file,
			    errs.v[i].msg);
		same = strcmp(line, want[i]) == 0;
	}
	T_OK(same, "%s", what);
	if (!same)
		perrs_print(&errs, stdout);
	pol_free(pol);
	perrs_free(&errs);
}

static void
test_errors(void)
{
	static const char *const cap_host[] = {
		"[host]\naddress = 192.0.2.9\n[capture]\nfile_size = 2GiB\n",
	};
	static const char *const cap_want[] = {
		"t/hosts/h0.conf:4: file_size = 2GiB is larger than "
		"host_cap = 1GiB (t/default.conf:2)",
	};
	static const char *const win_host[] = {
		"[host]\naddress = 192.0.2.9\n[detect]\nwindows = 5m\n",
	};
	static const char *const win_want[] = {
		"t/hosts/h0.conf:4: windows = 5m leaves out 10m, which "
		"inherited thresholds use: [absolute] dst_ips.10m, "
		"dst_ports.10m, rejected_share.10m; keep 10m, or set them to "
		"0 here",
		"t/hosts/h0.conf:4: windows = 5m leaves out 1m, which "
		"inherited thresholds use: [absolute] half_open.1m; keep 1m, "
		"or set them to 0 here",
	};
	static const char *const dup_host[] = {
		"[host]\naddress = 10.9.0.0/16\n",
		"[host]\n\naddress = 10.9.0.0/16\n",
	};
	static const char *const dup_want[] = {
		"t/hosts/h1.conf:3: network 10.9.0.0/16 is also the address of "
		"t/hosts/h0.conf:2 (one host file per network)",
	};
	static const char *const nobad_host[] = { "" };
	static const char *const noaddr_want[] = {
		"t/hosts/h0.conf: missing address in [host] (every host file "
		"names one address or network)",
	};

	expect_errors("host file_size over default host_cap, at the host line",
	    "[capture]\nhost_cap = 1GiB\n", cap_host, 1, cap_want, 1);
	expect_errors("host windows dropping inherited windows", "", win_host,
	    1, win_want, 2);
	expect_errors("identical networks refused at the later file", "",
	    dup_host, 2, dup_want, 1);
	expect_errors("empty host file has no address", "", nobad_host, 1,
	    noaddr_want, 1);
}

static void
test_error_cap(void)
{
	struct perrs errs = { 0 };
	struct policy *pol;
	char *buf = malloc(150 * 8 + 1);
	size_t i;

	for (i = 0; i < 150; i++)
		memcpy(buf + i * 8, "bogus=1\n", 8);
	buf[150 * 8] = '\0';
	pol = load(buf, NULL, 0, &errs);
	T_OK(pol == NULL, "150 bad lines refused");
	T_EQ_INT(errs.n, POL_MAX_ERRORS + 1, "100 errors and one more line");
	T_OK(errs.n > 0 && errs.v[0].line == 1 &&
	    errs.v[POL_MAX_ERRORS - 1].line == POL_MAX_ERRORS,
	    "errors 1..100 in line order");
	T_OK(errs.n > 0 && strcmp(errs.v[errs.n - 1].msg,
	    "too many errors; stopped after 100") == 0 &&
	    errs.v[errs.n - 1].line == 0, "final line says why it stopped");
	/* A reused perrs starts from zero. */
	pol = load("[flows]\nidle_timeout = 1\n", NULL, 0, &errs);
	T_OK(pol == NULL && errs.n == 1 && errs.v[0].line == 2,
	    "reused perrs holds only the new load's error");
	free(buf);
	perrs_free(&errs);
	perrs_free(NULL);
}

/*
 * 1000 host files (/32, /24 and /16 networks, v4 and v6) against a linear
 * longest-prefix scan over random addresses drawn near them.
 */
static uint32_t seed = 12345;

static unsigned
rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) & 0xffff;
}

static void
test_many_hosts(void)
{
	enum { N = 1000 };
	struct pol_src *src = calloc(N + 1, sizeof(*src));
	char (*bufs)[96] = calloc(N, sizeof(*bufs));
	char (*names)[32] = calloc(N, sizeof(*names));
	struct cidr *nets = calloc(N, sizeof(*nets));
	struct perrs errs = { 0 };
	struct policy *pol;
	size_t i, j, wrong = 0, hits = 0, deep = 0;

	src[0].path = "m/default.conf";
	src[0].buf = "";
	for (i = 0; i < N; i++) {
		unsigned r = rnd();

		switch (i % 4) {
		case 0:
			snprintf(bufs[i], sizeof(bufs[i]), "10.%u.%u.%u/32",
			    (unsigned)(i % 7), r >> 8, r & 0xff);
			break;
		case 1:
			snprintf(bufs[i], sizeof(bufs[i]), "10.%u.%zu.0/24",
			    (unsigned)(i % 7), i / 4);
			break;
		case 2:
			snprintf(bufs[i], sizeof(bufs[i]), "10.%u.0.0/16",
			    (unsigned)(i / 4 % 250));
			break;
		default:
			snprintf(bufs[i], sizeof(bufs[i]),
			    "2001:db8:%x::/48", (unsigned)i);
			break;
		}
		if (cidr_parse(bufs[i], &nets[i]) != 0)
			T_OK(0, "test network %s", bufs[i]);
	}
	/* Drop duplicates the generator made: they would be refused. */
	for (i = 0; i < N; i++)
		for (j = 0; j < i; j++)
			if (nets[j].len == nets[i].len &&
			    memcmp(nets[j].addr, nets[i].addr, 16) == 0)
				nets[i].len = 255;
	for (i = 0, j = 1; i < N; i++) {
		static char text[N][128];

		if (nets[i].len == 255)
			continue;
		snprintf(text[i], sizeof(text[i]), "[host]\naddress = %s\n",
		    bufs[i]);
		snprintf(names[i], sizeof(names[i]), "m/hosts/n%zu.conf", i);
		src[j].path = names[i];
		src[j].buf = text[i];
		src[j].len = strlen(text[i]);
		j++;
	}
	pol = pol_load_mem(src, j, 0, &errs);
	T_OK(pol != NULL, "%zu host files load", j - 1);
	if (pol == NULL) {
		perrs_print(&errs, stdout);
		goto out;
	}
	for (i = 0; i < 20000; i++) {
		uint8_t a[16];
		char text[64];
		const struct pol_host *got, *want = pol_default(pol);
		int best = -1;
		size_t k;

		unsigned x = rnd(), y = rnd(), z = rnd();

		if (i % 3 == 2)
			snprintf(text, sizeof(text), "2001:db8:%x::%x",
			    x % 1100, y);
		else
			snprintf(text, sizeof(text), "10.%u.%u.%u",
			    x & 1 ? x % 7 : x % 256, y % 256, z & 0xff);
		addr_parse(text, a);
		for (k = 0; k < N; k++)
			if (nets[k].len != 255 && (best < 0 ||
			    nets[k].len > nets[best].len) &&
			    cidr_match(&nets[k], a))
				best = (int)k;
		got = pol_lookup(pol, a);
		if (best >= 0) {
			char nm[16];

			hits++;
			deep += nets[best].len == 128 || nets[best].len == 120;
			snprintf(nm, sizeof(nm), "n%d", best);
			if (strcmp(got->name, nm) != 0)
				wrong++;
		} else if (got != want) {
			wrong++;
		}
	}
	T_EQ_INT(wrong, 0, "20000 lookups agree with a linear scan");
	T_OK(hits > 10000 && deep > 500, "most lookups hit a host file "
	    "(%zu), many the /24 or /32 inside a /16 (%zu)", hits, deep);
	pol_free(pol);
out:
	perrs_free(&errs);
	free(src);
	free(bufs);
	free(names);
	free(nets);
}

int
main(void)
{
	test_durations();
	test_sizes();
	test_numbers();
	test_lists();
	test_times();
	test_targets();
	test_builtin();
	test_merge();
	test_errors();
	test_error_cap();
	test_many_hosts();
	return t_done();
}
