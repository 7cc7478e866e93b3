/*
 * polkeys.c: every policy key, and the typed value each one holds.
 *
 * Owns the key table (section, name, type, range, the struct field it
 * fills, the built-in default) and, per type, the assignment of a value to
 * its field and the canonical text of the field (pol_print).  Composite
 * values are checked here as a whole: home_nets without overlaps, distinct
 * interfaces, targets and windows, a capture filter that compiles.
 *
 * Invariant: pol_set_value() writes a field only when the whole value is
 * valid, so a refused value leaves the inherited one.  Lists are sorted on
 * the way in, so struct order is print order and equal sets compare equal.
 *
 * Pure but for one thing: a capture filter is compiled with libpcap
 * (pcap_open_dead, no handle, no capture) so a typo shows at its line, not
 * at escalation time.  Host names in a filter are resolved by libpcap, as
 * tcpdump does; FORMAT.md advises numeric addresses.
 */
#include <assert.h>
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "polint.h"

#define S_(n) ((uint64_t)(n)*1000) /* seconds in ms */
#define M_(n) S_((uint64_t)(n)*60)
#define H_(n) S_((uint64_t)(n)*3600)
#define D_(n) S_((uint64_t)(n)*86400)
#define KiB_(n) ((uint64_t)(n) << 10)
#define MiB_(n) ((uint64_t)(n) << 20)
#define GiB_(n) ((uint64_t)(n) << 30)
#define TiB_(n) ((uint64_t)(n) << 40)

#define FIELD(type, f) offsetof(struct type, f), sizeof(((struct type *)0)->f)
#define G(f) PSC_GLOBAL, FIELD(pol_global, f)
#define H(f) PSC_HOST, FIELD(pol_host, f)

const char *const pol_sect_names[PS_COUNT] = {
    [PS_NONE] = "",
    [PS_GLOBAL] = "global",
    [PS_FLOWS] = "flows",
    [PS_EXPORT] = "export",
    [PS_CAPTURE] = "capture",
    [PS_DETECT] = "detect",
    [PS_ABSOLUTE] = "absolute",
    [PS_LEARNED] = "learned",
    [PS_BEACON] = "beacon",
    [PS_HOST] = "host",
};

/*
 * The key table.  Ranges are in native units (ms, bytes, basis points,
 * hundredths); for lists they bound each item.  FORMAT.md and
 * policy/default.conf document the same keys; tests/sh/policy_golden.sh
 * checks that each key appears in them and in sensord.policy(5).
 */
const struct pol_key pol_keys[K_COUNT] = {
    [K_STATE_DIR] = {PS_GLOBAL, "state_dir", PT_PATH, G(state_dir), 0, 0,
	"/var/lib/sensord"},
    [K_HOME_NETS] = {PS_GLOBAL, "home_nets", PT_NETS, G(home_nets), 0, 0,
	"10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7"},
    [K_INTERFACES] = {PS_GLOBAL, "interfaces", PT_IFACES, G(interfaces), 0, 0,
	""},
    [K_PCAP_BUFFER] = {PS_GLOBAL, "pcap_buffer", PT_SIZE, G(pcap_buffer_bytes),
	MiB_(1), GiB_(1), "64MiB"},
    [K_USER] = {PS_GLOBAL, "user", PT_USER, G(user), 0, 0, "sensord"},
    [K_CONTROL_SOCKET] = {PS_GLOBAL, "control_socket", PT_PATH,
	G(control_socket), 0, 0, "/run/sensord/control.sock"},
    [K_UTC_OFFSET] = {PS_GLOBAL, "utc_offset", PT_UTCOFF, G(utc_offset_s), 0, 0,
	"+00:00"},
    [K_HOST_TABLE_MEMORY] = {PS_GLOBAL, "host_table_memory", PT_SIZE,
	G(host_table_memory_bytes), MiB_(1), TiB_(1), "64MiB"},
    [K_BASELINE_SAVE_INTERVAL] = {PS_GLOBAL, "baseline_save_interval",
	PT_DURATION, G(baseline_save_interval_ms), S_(10), D_(1), "5m"},

    [K_IDLE_TIMEOUT] = {PS_FLOWS, "idle_timeout", PT_DURATION,
	G(flows.idle_timeout_ms), S_(1), D_(1), "30s"},
    [K_ACTIVE_TIMEOUT] = {PS_FLOWS, "active_timeout", PT_DURATION,
	G(flows.active_timeout_ms), S_(1), D_(7), "30m"},
    [K_EMBRYONIC_TIMEOUT] = {PS_FLOWS, "embryonic_timeout", PT_DURATION,
	G(flows.embryonic_timeout_ms), S_(1), H_(1), "5s"},
    [K_CLOSING_TIMEOUT] = {PS_FLOWS, "closing_timeout", PT_DURATION,
	G(flows.closing_timeout_ms), 0, H_(1), "2s"},
    [K_TABLE_MEMORY] = {PS_FLOWS, "table_memory", PT_SIZE,
	G(flows.table_memory_bytes), MiB_(1), TiB_(1), "256MiB"},
    [K_LOG_FILE_SIZE] = {PS_FLOWS, "log_file_size", PT_SIZE,
	G(flows.log_file_size_bytes), MiB_(1), TiB_(1), "64MiB"},
    [K_LOG_ROTATE_INTERVAL] = {PS_FLOWS, "log_rotate_interval", PT_DURATION,
	G(flows.log_rotate_interval_ms), M_(1), D_(1), "1h"},
    [K_LOG_RETENTION] = {PS_FLOWS, "log_retention", PT_SIZE,
	G(flows.log_retention_bytes), MiB_(1), TiB_(1024), "10GiB"},
    [K_LOG_FLUSH_INTERVAL] = {PS_FLOWS, "log_flush_interval", PT_DURATION,
	G(flows.log_flush_interval_ms), 100, M_(1), "2s"},
    [K_SAMPLING] = {PS_FLOWS, "sampling", PT_COUNT, G(flows.sampling), 1, 65535,
	"1"},

    [K_TARGETS] = {PS_EXPORT, "targets", PT_TARGETS, G(export.targets), 0, 0,
	""},
    [K_TEMPLATE_REFRESH] = {PS_EXPORT, "template_refresh", PT_DURATION,
	G(export.template_refresh_ms), S_(1), D_(1), "60s"},
    [K_OBSERVATION_DOMAIN] = {PS_EXPORT, "observation_domain", PT_COUNT,
	G(export.observation_domain), 0, UINT32_MAX, "1"},
    [K_IPFIX_BIFLOW] = {PS_EXPORT, "ipfix_biflow", PT_BOOL,
	G(export.ipfix_biflow), 0, 1, "yes"},
    [K_MAX_RATE] = {PS_EXPORT, "max_rate", PT_COUNT, G(export.max_rate), 1,
	100000000, "10000"},

    [K_GLOBAL_CAP] = {PS_CAPTURE, "global_cap", PT_SIZE,
	G(capture.global_cap_bytes), MiB_(1), TiB_(1024), "10GiB"},
    [K_MIN_FREE] = {PS_CAPTURE, "min_free", PT_SIZE, G(capture.min_free_bytes),
	0, TiB_(1024), "1GiB"},
    [K_MAX_ESCALATED] = {PS_CAPTURE, "max_escalated", PT_COUNT,
	G(capture.max_escalated), 0, 65535, "8"},
    [K_PRETRIGGER_MEMORY] = {PS_CAPTURE, "pretrigger_memory", PT_SIZE,
	G(capture.pretrigger_memory_bytes), 0, GiB_(64), "64MiB"},
    [K_QUEUE_MEMORY] = {PS_CAPTURE, "queue_memory", PT_SIZE,
	G(capture.queue_memory_bytes), MiB_(1), GiB_(64), "64MiB"},

    [K_CAP_ENABLED] = {PS_CAPTURE, "enabled", PT_BOOL, H(capture.enabled), 0, 1,
	"yes"},
    [K_DURATION] = {PS_CAPTURE, "duration", PT_DURATION, H(capture.duration_ms),
	S_(1), D_(7), "10m"},
    [K_MAX_DURATION] = {PS_CAPTURE, "max_duration", PT_DURATION,
	H(capture.max_duration_ms), S_(1), D_(30), "1h"},
    [K_COOLDOWN] = {PS_CAPTURE, "cooldown", PT_DURATION, H(capture.cooldown_ms),
	0, D_(7), "10m"},
    [K_SNAPLEN] = {PS_CAPTURE, "snaplen", PT_COUNT, H(capture.snaplen), 64,
	262144, "65535"},
    [K_FILE_SIZE] = {PS_CAPTURE, "file_size", PT_SIZE,
	H(capture.file_size_bytes), MiB_(1), TiB_(1), "64MiB"},
    [K_ROTATE_INTERVAL] = {PS_CAPTURE, "rotate_interval", PT_DURATION,
	H(capture.rotate_interval_ms), S_(1), D_(1), "10m"},
    [K_HOST_CAP] = {PS_CAPTURE, "host_cap", PT_SIZE, H(capture.host_cap_bytes),
	MiB_(1), TiB_(1024), "1GiB"},
    [K_COMPRESSION] = {PS_CAPTURE, "compression", PT_COUNT,
	H(capture.compression), 0, 9, "1"},
    [K_PRETRIGGER] = {PS_CAPTURE, "pretrigger", PT_BOOL, H(capture.pretrigger),
	0, 1, "no"},
    [K_PRETRIGGER_TIME] = {PS_CAPTURE, "pretrigger_time", PT_DURATION,
	H(capture.pretrigger_time_ms), S_(1), H_(1), "10s"},
    [K_PRETRIGGER_SIZE] = {PS_CAPTURE, "pretrigger_size", PT_SIZE,
	H(capture.pretrigger_size_bytes), MiB_(1), GiB_(64), "1MiB"},
    [K_FILTER] = {PS_CAPTURE, "filter", PT_FILTER, H(capture.filter), 0, 0,
	"\"\""},
    [K_TIMESTAMPS] = {PS_CAPTURE, "timestamps", PT_TSTAMP,
	H(capture.timestamps), 0, 0, "usec"},

    [K_WARMUP] = {PS_DETECT, "warmup", PT_DURATION, H(detect.warmup_ms), 0,
	D_(365), "7d"},
    [K_WINDOWS] = {PS_DETECT, "windows", PT_WINDOWS, H(detect.windows), S_(10),
	H_(1), "1m, 10m"},
    [K_LEARN_K] = {PS_DETECT, "learn_k", PT_DECIMAL, H(detect.learn_k_x100),
	100, 2000, "3.5"},
    [K_QUIET_HOURS] = {PS_DETECT, "quiet_hours", PT_TIMERANGE,
	H(detect.quiet_hours), 0, 0, "00:00-06:00"},
    [K_NIGHT_UPLOAD_MIN] = {PS_DETECT, "night_upload_min", PT_SIZE,
	H(detect.night_upload_min_bytes), 0, TiB_(1024), "50MiB"},

    [K_BEACON_ENABLED] = {PS_BEACON, "enabled", PT_BOOL, H(beacon.enabled), 0,
	1, "yes"},
    [K_MIN_SCORE] = {PS_BEACON, "min_score", PT_PERCENT, H(beacon.min_score_bp),
	0, 10000, "70%"},
    [K_MIN_OBSERVATIONS] = {PS_BEACON, "min_observations", PT_COUNT,
	H(beacon.min_observations), 2, 86400, "4"},
    [K_MAX_PERIOD] = {PS_BEACON, "max_period", PT_DURATION,
	H(beacon.max_period_ms), S_(1), D_(1), "1h"},
    [K_KNOWN_TTL] = {PS_BEACON, "known_ttl", PT_DURATION,
	H(beacon.known_ttl_ms), H_(1), D_(365), "30d"},

    [K_ADDRESS] = {PS_HOST, "address", PT_ADDRESS, H(net), 0, 0, NULL},
    [K_NAME] = {PS_HOST, "name", PT_NAME, H(name), 0, 0, NULL},
};

/* Threshold windows: seconds, or the calendar ones. */
#define WIN_MIN_S 10
#define WIN_MAX_S 3600

/* ---- typed values ------------------------------------------------------ */

static void *
field(struct pol_pfile *pf, const struct pol_key *k)
{
	char *base = k->scope == PSC_GLOBAL ? (char *)pf->g : (char *)pf->h;

	assert(base != NULL);
	return base + k->off;
}

static const void *
cfield(const struct pol_key *k, const struct pol_global *g,
    const struct pol_host *h)
{
	const char *base =
	    k->scope == PSC_GLOBAL ? (const char *)g : (const char *)h;

	return base + k->off;
}

static void
fmt_scalar(enum pol_type t, uint64_t v, char *buf, size_t size)
{
	switch (t) {
	case PT_DURATION:
	case PT_WINDOWS:
		pol_fmt_duration(v, buf, size);
		break;
	case PT_SIZE:
		pol_fmt_size(v, buf, size);
		break;
	case PT_PERCENT:
		pol_fmt_percent((uint32_t)v, buf, size);
		break;
	case PT_DECIMAL:
		pol_fmt_decimal((uint32_t)v, buf, size);
		break;
	default:
		snprintf(buf, size, "%llu", (unsigned long long)v);
		break;
	}
}

static int
in_range(const struct pol_key *k, uint64_t v, const char *s, char *err,
    size_t errlen)
{
	char lo[32], hi[32], cb[48];

	if (v >= k->min && v <= k->max)
		return 0;
	fmt_scalar(k->type, k->min, lo, sizeof(lo));
	fmt_scalar(k->type, k->max, hi, sizeof(hi));
	snprintf(err, errlen, "%s is out of range (%s..%s)",
	    pol_clip(s, cb, sizeof(cb)), lo, hi);
	return -1;
}

/*
 * A CIDR with a message that says what is wrong: the address, the prefix
 * length, or host bits below the prefix (with the network meant).
 */
static int
parse_cidr(const char *s, struct cidr *c, char *err, size_t errlen)
{
	char	    buf[64], cb[48], net[64];
	const char *slash;
	struct cidr t;
	uint8_t	    a[16];
	uint64_t    plen;
	size_t	    al;
	int	    i, max;

	if (cidr_parse(s, c) == 0)
		return 0;
	slash = strchr(s, '/');
	al = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (al >= sizeof(buf)) {
		snprintf(err, errlen, "bad address '%s'",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	memcpy(buf, s, al);
	buf[al] = '\0';
	if (addr_parse(buf, a) != 0) {
		snprintf(err, errlen, "bad address '%s'",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	max = strchr(buf, ':') != NULL ? 128 : 32;
	if (slash == NULL ||
	    pol_parse_count(slash + 1, &plen, cb, sizeof(cb)) != 0 ||
	    plen > (uint64_t)max) {
		snprintf(err, errlen, "bad prefix length in '%s' (0..%d)",
		    pol_clip(s, cb, sizeof(cb)), max);
		return -1;
	}
	/* Only host bits can be left: show the network they probably mean. */
	memcpy(t.addr, a, 16);
	t.len = (uint8_t)(max == 32 ? 96 + plen : plen);
	for (i = t.len; i < 128; i++)
		t.addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
	cidr_fmt(&t, net, sizeof(net));
	snprintf(err, errlen, "host bits set in '%s' (the network is %s)",
	    pol_clip(s, cb, sizeof(cb)), net);
	return -1;
}

int
pol_cidr_cmp(const struct cidr *a, const struct cidr *b)
{
	int r = memcmp(a->addr, b->addr, 16);

	return r != 0 ? r : (int)a->len - (int)b->len;
}

static int
cidr_qcmp(const void *a, const void *b)
{
	return pol_cidr_cmp(a, b);
}

static int
str_qcmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
u32_qcmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
target_qcmp(const void *a, const void *b)
{
	const struct pol_export_target *x = a, *y = b;
	int				r = memcmp(x->addr, y->addr, 16);

	if (r != 0)
		return r;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (int)x->proto - (int)y->proto;
}

/* One item of a list of names: one of home_nets, windows, ... */
#define ITEM_MAX 80

static int
parse_nets(const char *s, struct pol_nets *out, char *err, size_t errlen)
{
	char		items[POL_MAX_HOME_NETS][ITEM_MAX];
	struct pol_nets n;
	size_t		i;
	char		a[64], b[64];

	memset(&n, 0, sizeof(n));
	if (strcmp(s, "auto") == 0) {
		n.is_auto = 1;
		*out = n;
		return 0;
	}
	if (pol_list_split(s, &items[0][0], ITEM_MAX, POL_MAX_HOME_NETS, &n.n,
		err, errlen) != 0)
		return -1;
	if (n.n == 0) {
		snprintf(err, errlen, "needs at least one network, or auto");
		return -1;
	}
	for (i = 0; i < n.n; i++) {
		if (strcmp(items[i], "auto") == 0) {
			snprintf(err, errlen,
			    "auto cannot be combined with "
			    "networks");
			return -1;
		}
		if (parse_cidr(items[i], &n.v[i], err, errlen) != 0)
			return -1;
	}
	qsort(n.v, n.n, sizeof(n.v[0]), cidr_qcmp);
	/* Sorted by address, a network inside another follows it. */
	for (i = 1; i < n.n; i++) {
		size_t j;

		for (j = 0; j < i; j++) {
			if (n.v[j].len > n.v[i].len ||
			    !cidr_match(&n.v[j], n.v[i].addr))
				continue;
			cidr_fmt(&n.v[i], a, sizeof(a));
			cidr_fmt(&n.v[j], b, sizeof(b));
			if (n.v[j].len == n.v[i].len)
				snprintf(err, errlen, "%s is listed twice", a);
			else
				snprintf(err, errlen, "%s is inside %s", a, b);
			return -1;
		}
	}
	*out = n;
	return 0;
}

static int
parse_ifaces(const char *s, struct pol_ifaces *out, char *err, size_t errlen)
{
	struct pol_ifaces f;
	size_t		  i;
	const char	 *p;

	memset(&f, 0, sizeof(f));
	if (pol_list_split(s, &f.v[0][0], POL_IFNAME_MAX, POL_MAX_IFACES, &f.n,
		err, errlen) != 0) {
		if (strstr(err, "too long") != NULL)
			snprintf(err, errlen,
			    "interface name too long (at "
			    "most %d characters)",
			    POL_IFNAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < f.n; i++) {
		for (p = f.v[i]; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' &&
			    *p != '_' && *p != '-' && *p != '@')
				break;
		if (*p != '\0' || strcmp(f.v[i], ".") == 0 ||
		    strcmp(f.v[i], "..") == 0) {
			snprintf(
			    err, errlen, "bad interface name '%s'", f.v[i]);
			return -1;
		}
	}
	qsort(f.v, f.n, sizeof(f.v[0]), str_qcmp);
	for (i = 1; i < f.n; i++) {
		if (strcmp(f.v[i - 1], f.v[i]) == 0) {
			snprintf(err, errlen, "interface %s is listed twice",
			    f.v[i]);
			return -1;
		}
	}
	*out = f;
	return 0;
}

static int
parse_targets(const char *s, struct pol_targets *out, char *err, size_t errlen)
{
	char		   items[POL_MAX_TARGETS][ITEM_MAX];
	struct pol_targets t;
	char		   a[ITEM_MAX + 8];
	size_t		   i;

	memset(&t, 0, sizeof(t));
	if (pol_list_split(s, &items[0][0], ITEM_MAX, POL_MAX_TARGETS, &t.n,
		err, errlen) != 0)
		return -1;
	for (i = 0; i < t.n; i++)
		if (pol_parse_target(items[i], &t.v[i], err, errlen) != 0)
			return -1;
	qsort(t.v, t.n, sizeof(t.v[0]), target_qcmp);
	for (i = 1; i < t.n; i++) {
		if (target_qcmp(&t.v[i - 1], &t.v[i]) == 0) {
			pol_fmt_target(&t.v[i], a, sizeof(a));
			snprintf(err, errlen, "%s is listed twice", a);
			return -1;
		}
	}
	*out = t;
	return 0;
}

/* A rolling window: whole seconds, WIN_MIN_S..WIN_MAX_S. */
int
pol_parse_window_s(const char *s, uint32_t *sec, char *err, size_t errlen)
{
	char	 cb[48];
	uint64_t ms;

	if (pol_parse_duration(s, &ms, err, errlen) != 0)
		return -1;
	if (ms % 1000 != 0 || ms < S_(WIN_MIN_S) || ms > S_(WIN_MAX_S)) {
		snprintf(err, errlen,
		    "window %s must be whole seconds "
		    "from 10s to 1h",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	*sec = (uint32_t)(ms / 1000);
	return 0;
}

static int
parse_windows(const char *s, struct pol_windows *out, char *err, size_t errlen)
{
	char		   items[POL_MAX_WINDOWS][ITEM_MAX];
	struct pol_windows w;
	char		   a[32];
	size_t		   i;

	memset(&w, 0, sizeof(w));
	if (pol_list_split(s, &items[0][0], ITEM_MAX, POL_MAX_WINDOWS, &w.n,
		err, errlen) != 0)
		return -1;
	if (w.n == 0) {
		snprintf(err, errlen, "needs 1 to %d windows", POL_MAX_WINDOWS);
		return -1;
	}
	for (i = 0; i < w.n; i++)
		if (pol_parse_window_s(items[i], &w.s[i], err, errlen) != 0)
			return -1;
	qsort(w.s, w.n, sizeof(w.s[0]), u32_qcmp);
	for (i = 1; i < w.n; i++) {
		if (w.s[i - 1] == w.s[i]) {
			pol_fmt_window(w.s[i], a, sizeof(a));
			snprintf(err, errlen, "window %s is listed twice", a);
			return -1;
		}
	}
	*out = w;
	return 0;
}

static int
parse_path(const char *s, char *dst, size_t size, char *err, size_t errlen)
{
	if (s[0] != '/') {
		snprintf(err, errlen, "must be an absolute path");
		return -1;
	}
	if (strlen(s) >= size) {
		snprintf(err, errlen, "path is too long (at most %zu bytes)",
		    size - 1);
		return -1;
	}
	util_strlcpy(dst, s, size);
	return 0;
}

/* useradd(8)'s portable names: [a-z_][a-z0-9_-]*, at most 32. */
static int
parse_user(const char *s, char *dst, size_t size, char *err, size_t errlen)
{
	const char *p;
	char	    cb[48];

	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_' ||
			(p > s && ((*p >= '0' && *p <= '9') || *p == '-'))))
			break;
	if (*p != '\0' || strlen(s) >= size) {
		snprintf(err, errlen,
		    "bad user name '%s' (lower-case letters, "
		    "digits, '_', '-'; at most %zu)",
		    pol_clip(s, cb, sizeof(cb)), size - 1);
		return -1;
	}
	util_strlcpy(dst, s, size);
	return 0;
}

int
pol_valid_name(const char *s)
{
	const char *p;

	if (s[0] == '\0' || s[0] == '.' || strlen(s) >= POL_NAME_MAX)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' &&
		    *p != '-')
			return 0;
	return 1;
}

static int
parse_filter(struct pol_pfile *pf, const char *s, char *dst, size_t size,
    char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t		  *p;

	if (strlen(s) >= size) {
		snprintf(err, errlen, "filter is too long (at most %zu bytes)",
		    size - 1);
		return -1;
	}
	if (s[0] != '\0' && !(pf->flags & POL_NO_FILTER_COMPILE)) {
		if ((p = pcap_open_dead(DLT_EN10MB, 65535)) == NULL) {
			snprintf(err, errlen,
			    "cannot check the filter: "
			    "pcap_open_dead failed");
			return -1;
		}
		if (pcap_compile(p, &prog, s, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(err, errlen, "does not compile: %s",
			    pcap_geterr(p));
			pcap_close(p);
			return -1;
		}
		pcap_freecode(&prog);
		pcap_close(p);
	}
	util_strlcpy(dst, s, size);
	return 0;
}

/* Types whose value may be written in double quotes. */
int
pol_type_quotable(enum pol_type t)
{
	return t == PT_PATH || t == PT_USER || t == PT_FILTER || t == PT_NAME;
}

/*
 * Parse s as key k's value and store it; -1 with a message otherwise
 * (nothing stored).
 */
int
pol_set_value(struct pol_pfile *pf, const struct pol_key *k, const char *s,
    char *err, size_t errlen)
{
	void	*dst = field(pf, k);
	char	 cb[48];
	uint64_t u64;
	uint32_t u32;
	int32_t	 i32;
	int	 b;

	switch (k->type) {
	case PT_DURATION:
		if (pol_parse_duration(s, &u64, err, errlen) != 0 ||
		    in_range(k, u64, s, err, errlen) != 0)
			return -1;
		assert(k->size == sizeof(u64));
		memcpy(dst, &u64, sizeof(u64));
		return 0;
	case PT_SIZE:
		if (pol_parse_size(s, &u64, err, errlen) != 0 ||
		    in_range(k, u64, s, err, errlen) != 0)
			return -1;
		assert(k->size == sizeof(u64));
		memcpy(dst, &u64, sizeof(u64));
		return 0;
	case PT_COUNT:
		if (pol_parse_count(s, &u64, err, errlen) != 0 ||
		    in_range(k, u64, s, err, errlen) != 0)
			return -1;
		u32 = (uint32_t)u64;
		assert(k->size == sizeof(u32) && k->max <= UINT32_MAX);
		memcpy(dst, &u32, sizeof(u32));
		return 0;
	case PT_PERCENT:
		if (pol_parse_percent(s, &u32, err, errlen) != 0 ||
		    in_range(k, u32, s, err, errlen) != 0)
			return -1;
		assert(k->size == sizeof(u32));
		memcpy(dst, &u32, sizeof(u32));
		return 0;
	case PT_DECIMAL:
		if (pol_parse_decimal(s, &u32, err, errlen) != 0 ||
		    in_range(k, u32, s, err, errlen) != 0)
			return -1;
		assert(k->size == sizeof(u32));
		memcpy(dst, &u32, sizeof(u32));
		return 0;
	case PT_BOOL:
		if (pol_parse_bool(s, &b, err, errlen) != 0)
			return -1;
		assert(k->size == sizeof(b));
		memcpy(dst, &b, sizeof(b));
		return 0;
	case PT_PATH:
		return parse_path(s, dst, k->size, err, errlen);
	case PT_USER:
		return parse_user(s, dst, k->size, err, errlen);
	case PT_FILTER:
		return parse_filter(pf, s, dst, k->size, err, errlen);
	case PT_TSTAMP: {
		enum pol_tstamp ts;

		if (strcmp(s, "usec") == 0)
			ts = POL_TS_USEC;
		else if (strcmp(s, "nsec") == 0)
			ts = POL_TS_NSEC;
		else {
			snprintf(err, errlen,
			    "bad value '%s' (use usec or "
			    "nsec)",
			    pol_clip(s, cb, sizeof(cb)));
			return -1;
		}
		assert(k->size == sizeof(ts));
		memcpy(dst, &ts, sizeof(ts));
		return 0;
	}
	case PT_UTCOFF:
		if (pol_parse_utc_offset(s, &i32, err, errlen) != 0)
			return -1;
		assert(k->size == sizeof(i32));
		memcpy(dst, &i32, sizeof(i32));
		return 0;
	case PT_TIMERANGE: {
		struct pol_timerange tr;

		if (pol_parse_timerange(s, &tr, err, errlen) != 0)
			return -1;
		assert(k->size == sizeof(tr));
		memcpy(dst, &tr, sizeof(tr));
		return 0;
	}
	case PT_NETS:
		assert(k->size == sizeof(struct pol_nets));
		return parse_nets(s, dst, err, errlen);
	case PT_IFACES:
		assert(k->size == sizeof(struct pol_ifaces));
		return parse_ifaces(s, dst, err, errlen);
	case PT_TARGETS:
		assert(k->size == sizeof(struct pol_targets));
		return parse_targets(s, dst, err, errlen);
	case PT_WINDOWS:
		assert(k->size == sizeof(struct pol_windows));
		return parse_windows(s, dst, err, errlen);
	case PT_ADDRESS:
		assert(k->size == sizeof(struct cidr));
		if (strpbrk(s, ", \t") != NULL) {
			snprintf(err, errlen,
			    "one address or network per host "
			    "file (write one file per host, or use a CIDR)");
			return -1;
		}
		return parse_cidr(s, dst, err, errlen);
	case PT_NAME:
		if (!pol_valid_name(s)) {
			snprintf(err, errlen,
			    "bad host name '%s' (letters, "
			    "digits, '.', '_', '-'; at most %d)",
			    pol_clip(s, cb, sizeof(cb)), POL_NAME_MAX - 1);
			return -1;
		}
		util_strlcpy(dst, s, k->size);
		return 0;
	}
	return -1;
}

/* ---- threshold values -------------------------------------------------- */

static enum pol_type
metric_type(enum pol_metric m)
{
	switch (m) {
	case POL_M_BYTES_IN:
	case POL_M_BYTES_OUT:
	case POL_M_NIGHT_BYTES_OUT:
		return PT_SIZE;
	case POL_M_HALF_OPEN_SHARE:
	case POL_M_REJECTED_SHARE:
		return PT_PERCENT;
	default:
		return PT_COUNT;
	}
}

void
pol_fmt_thr_value(
    enum pol_kind kind, enum pol_metric m, uint64_t v, char *buf, size_t size)
{
	if (v == 0)
		snprintf(buf, size, "0");
	else if (kind == POL_LEARNED)
		pol_fmt_decimal((uint32_t)v, buf, size);
	else
		fmt_scalar(metric_type(m), v, buf, size);
}

int
pol_parse_thr_value(enum pol_kind kind, enum pol_metric m, const char *s,
    uint64_t *v, char *err, size_t errlen)
{
	char	 cb[48];
	uint32_t u32;

	if (kind == POL_LEARNED) {
		if (strcmp(s, "0") == 0) {
			*v = 0;
			return 0;
		}
		if (pol_parse_decimal(s, &u32, err, errlen) != 0)
			return -1;
		if (u32 < 100 || u32 > 2000) {
			snprintf(err, errlen,
			    "k = %s is out of range "
			    "(1.0..20.0, or 0 to disable)",
			    pol_clip(s, cb, sizeof(cb)));
			return -1;
		}
		*v = u32;
		return 0;
	}
	switch (metric_type(m)) {
	case PT_SIZE:
		if (strcmp(s, "0") == 0) {
			*v = 0;
			return 0;
		}
		if (pol_parse_size(s, v, err, errlen) != 0)
			return -1;
		if (*v > TiB_(1024)) {
			snprintf(err, errlen,
			    "%s is out of range (0B..1024TiB)",
			    pol_clip(s, cb, sizeof(cb)));
			return -1;
		}
		return 0;
	case PT_PERCENT:
		if (strcmp(s, "0") == 0) {
			*v = 0;
			return 0;
		}
		if (pol_parse_percent(s, &u32, err, errlen) != 0)
			return -1;
		*v = u32;
		return 0;
	default:
		if (pol_parse_count(s, v, err, errlen) != 0)
			return -1;
		if (*v > UINT32_MAX) {
			snprintf(err, errlen, "%s is out of range (0..%u)",
			    pol_clip(s, cb, sizeof(cb)), UINT32_MAX);
			return -1;
		}
		return 0;
	}
}

/* ---- output ------------------------------------------------------------ */

/* A string as a value: bare when that reads back the same, else quoted. */
static void
fmt_string(const char *s, int always_quote, char *buf, size_t size)
{
	size_t n = 0, len = strlen(s);
	int    quote = always_quote || len == 0 || pol_is_blank(s[0]) ||
	    pol_is_blank(s[len - 1]) || strpbrk(s, "#\"") != NULL;

	if (!quote) {
		util_strlcpy(buf, s, size);
		return;
	}
	if (size < 3)
		return;
	buf[n++] = '"';
	for (; *s != '\0' && n + 3 < size; s++) {
		if (*s == '"' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n++] = '"';
	buf[n] = '\0';
}

/* Append ", item" to a joined list. */
static void
join(char *buf, size_t size, size_t *off, const char *item)
{
	int r = snprintf(
	    buf + *off, size - *off, "%s%s", *off > 0 ? ", " : "", item);

	if (r > 0)
		*off += (size_t)r < size - *off ? (size_t)r : size - *off - 1;
}

void
pol_fmt_key(enum pol_key_id id, const struct pol_global *g,
    const struct pol_host *h, char *buf, size_t size)
{
	const struct pol_key *k = &pol_keys[id];
	const void	     *src = cfield(k, g, h);
	char		      item[ITEM_MAX + 8];
	size_t		      i, off = 0;
	uint64_t	      u64;
	uint32_t	      u32;
	int32_t		      i32;
	int		      b;

	buf[0] = '\0';
	switch (k->type) {
	case PT_DURATION:
	case PT_SIZE:
		memcpy(&u64, src, sizeof(u64));
		fmt_scalar(k->type, u64, buf, size);
		break;
	case PT_COUNT:
	case PT_PERCENT:
	case PT_DECIMAL:
		memcpy(&u32, src, sizeof(u32));
		fmt_scalar(k->type, u32, buf, size);
		break;
	case PT_BOOL:
		memcpy(&b, src, sizeof(b));
		snprintf(buf, size, "%s", b ? "yes" : "no");
		break;
	case PT_PATH:
	case PT_USER:
	case PT_NAME:
		fmt_string(src, 0, buf, size);
		break;
	case PT_FILTER:
		fmt_string(src, 1, buf, size);
		break;
	case PT_TSTAMP: {
		enum pol_tstamp ts;

		memcpy(&ts, src, sizeof(ts));
		snprintf(buf, size, "%s", ts == POL_TS_NSEC ? "nsec" : "usec");
		break;
	}
	case PT_UTCOFF:
		memcpy(&i32, src, sizeof(i32));
		pol_fmt_utc_offset(i32, buf, size);
		break;
	case PT_TIMERANGE:
		pol_fmt_timerange(src, buf, size);
		break;
	case PT_NETS: {
		const struct pol_nets *n = src;

		if (n->is_auto)
			snprintf(buf, size, "auto");
		for (i = 0; !n->is_auto && i < n->n; i++) {
			cidr_fmt(&n->v[i], item, sizeof(item));
			join(buf, size, &off, item);
		}
		break;
	}
	case PT_IFACES: {
		const struct pol_ifaces *f = src;

		for (i = 0; i < f->n; i++)
			join(buf, size, &off, f->v[i]);
		break;
	}
	case PT_TARGETS: {
		const struct pol_targets *t = src;

		for (i = 0; i < t->n; i++) {
			pol_fmt_target(&t->v[i], item, sizeof(item));
			join(buf, size, &off, item);
		}
		break;
	}
	case PT_WINDOWS: {
		const struct pol_windows *w = src;

		for (i = 0; i < w->n; i++) {
			pol_fmt_window(w->s[i], item, sizeof(item));
			join(buf, size, &off, item);
		}
		break;
	}
	case PT_ADDRESS: {
		const struct cidr *c = src;

		if (c->len == 128 && size >= ADDR_STRLEN)
			addr_fmt(c->addr, buf);
		else
			cidr_fmt(c, buf, size);
		break;
	}
	}
}

uint64_t
pol_key_u64(
    enum pol_key_id id, const struct pol_global *g, const struct pol_host *h)
{
	const struct pol_key *k = &pol_keys[id];
	uint64_t	      v;

	assert(k->type == PT_DURATION || k->type == PT_SIZE);
	memcpy(&v, cfield(k, g, h), sizeof(v));
	return v;
}
