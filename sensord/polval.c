/*
 * polval.c: typed policy values, parsed and printed canonically.
 *
 * Owns the textual form of every value type in a policy file: counts,
 * durations (ms s m h d), sizes (B KiB MiB GiB TiB, binary only), percentages,
 * two-decimal numbers, booleans, lists, time-of-day ranges, UTC offsets and
 * export targets.  Parsers take one whole value (already unquoted and
 * trimmed by the lexer), never read past its NUL, and say in err what is
 * wrong in words a user can act on; the caller adds the key name.
 *
 * Invariants: a parser writes its output only on success.  Units are
 * mandatory wherever a number has a dimension, because "64" meaning bytes
 * in one place and megabytes in another is how budgets go wrong (DOMAIN.md
 * §7.17).  Every formatter prints a form the parser reads back to the same
 * value, in the largest unit that is exact (120s is "2m", 90s stays "90s"),
 * so canonical output is a fixed point (fuzz_policy checks that).
 *
 * Cost: linear in the value; no allocation.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "polint.h"

#define MAX_DIGITS 20 /* UINT64_MAX has 20 */

struct unit {
	const char *name;
	uint64_t    mult;
};

/* Longest first where one name is a prefix of another (ms before m). */
static const struct unit dur_units[] = {
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 3600 * 1000},
    {"d", 86400 * 1000},
};

static const struct unit size_units[] = {
    {"B", 1},
    {"KiB", 1ULL << 10},
    {"MiB", 1ULL << 20},
    {"GiB", 1ULL << 30},
    {"TiB", 1ULL << 40},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const metric_names[POL_M_COUNT] = {
    [POL_M_BYTES_IN] = "bytes_in",
    [POL_M_BYTES_OUT] = "bytes_out",
    [POL_M_CONNS] = "conns",
    [POL_M_DST_IPS] = "dst_ips",
    [POL_M_DST_PORTS] = "dst_ports",
    [POL_M_HALF_OPEN] = "half_open",
    [POL_M_HALF_OPEN_SHARE] = "half_open_share",
    [POL_M_NIGHT_BYTES_OUT] = "night_bytes_out",
    [POL_M_PROTOCOLS] = "protocols",
    [POL_M_REJECTED] = "rejected",
    [POL_M_REJECTED_SHARE] = "rejected_share",
};

static const char *const xp_names[] = {
    [POL_XP_NETFLOW5] = "netflow5",
    [POL_XP_NETFLOW9] = "netflow9",
    [POL_XP_IPFIX] = "ipfix",
};

const char *
pol_metric_name(enum pol_metric m)
{
	return (unsigned)m < POL_M_COUNT ? metric_names[m] : "?";
}

/*
 * A value shown inside a message: at most 40 bytes of it, so a 1000-byte
 * typo cannot push the useful part of a message out of its 256 bytes.
 */
const char *
pol_clip(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (n <= 40)
		return s;
	snprintf(buf, size, "%.37s...", s);
	return buf;
}

static int
has_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '\t')
			return 1;
	return 0;
}

/*
 * Leading decimal digits into *v; returns the number of digits read, or -1
 * on overflow.  Bounded by MAX_DIGITS + 1 digits.
 */
static int
digits(const char **sp, uint64_t *v)
{
	const char *s = *sp;
	uint64_t    n = 0;
	int	    i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (i >= MAX_DIGITS || n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*sp = s + i;
	*v = n;
	return i;
}

int
pol_parse_count(const char *s, uint64_t *out, char *err, size_t errlen)
{
	char	    cb[48];
	const char *p = s;
	uint64_t    v;
	int	    nd;

	if (*s == '\0') {
		snprintf(err, errlen, "missing value");
		return -1;
	}
	if ((nd = digits(&p, &v)) < 0) {
		snprintf(err, errlen, "number '%s' is too large",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	if (nd == 0 || *p != '\0') {
		if (nd > 0 && isalpha((unsigned char)*p))
			snprintf(err, errlen,
			    "bad number '%s': a count "
			    "takes no unit",
			    pol_clip(s, cb, sizeof(cb)));
		else
			snprintf(err, errlen, "bad number '%s'",
			    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	*out = v;
	return 0;
}

/* NUMBER UNIT for durations and sizes; the unit tables above. */
static int
parse_united(const char *s, const struct unit *units, size_t n_units,
    const char *what, const char *unitlist, const char *example, uint64_t *out,
    char *err, size_t errlen)
{
	char	    cb[48];
	const char *p = s;
	uint64_t    v;
	size_t	    i;
	int	    nd;

	if (*s == '\0') {
		snprintf(err, errlen, "missing value");
		return -1;
	}
	if (has_space(s)) {
		snprintf(err, errlen,
		    "bad %s '%s': no blanks inside a value "
		    "(write e.g. %s)",
		    what, pol_clip(s, cb, sizeof(cb)), example);
		return -1;
	}
	if ((nd = digits(&p, &v)) < 0) {
		snprintf(err, errlen, "%s '%s' is too large", what,
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	if (nd == 0) {
		snprintf(err, errlen, "bad %s '%s' (write e.g. %s)", what,
		    pol_clip(s, cb, sizeof(cb)), example);
		return -1;
	}
	if (*p == '.' || *p == ',') {
		snprintf(err, errlen,
		    "bad %s '%s': whole numbers only "
		    "(use a smaller unit)",
		    what, pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	if (*p == '\0') {
		snprintf(err, errlen, "%s needs a unit (%s)", what, unitlist);
		return -1;
	}
	for (i = 0; i < n_units; i++) {
		if (strcmp(p, units[i].name) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult) {
			snprintf(err, errlen, "%s '%s' is too large", what,
			    pol_clip(s, cb, sizeof(cb)));
			return -1;
		}
		*out = v * units[i].mult;
		return 0;
	}
	snprintf(err, errlen, "bad %s '%s': unknown unit '%.8s%s' (use %s)",
	    what, pol_clip(s, cb, sizeof(cb)), p, strlen(p) > 8 ? "..." : "",
	    unitlist);
	return -1;
}

int
pol_parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	return parse_united(s, dur_units, NELEM(dur_units), "duration",
	    "ms, s, m, h, d", "30s, 10m, 1h, 7d", ms, err, errlen);
}

int
pol_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
	return parse_united(s, size_units, NELEM(size_units), "size",
	    "B, KiB, MiB, GiB, TiB", "512B, 64KiB, 1MiB, 1GiB", bytes, err,
	    errlen);
}

/*
 * "N", "N.D" or "N.DD" into hundredths; rest points past the number.
 * -1 on a malformed or too large number.
 */
static int
hundredths(const char *s, const char **rest, uint64_t *x100, int *toomany)
{
	const char *p = s;
	uint64_t    v, frac = 0;
	int	    nd, i;

	*toomany = 0;
	if ((nd = digits(&p, &v)) <= 0 || v > UINT64_MAX / 100 - 1)
		return -1;
	if (*p == '.') {
		p++;
		for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
			if (i >= 2) {
				*toomany = 1;
				return -1;
			}
			frac = frac * 10 + (uint64_t)(p[i] - '0');
		}
		if (i == 0)
			return -1;
		if (i == 1)
			frac *= 10;
		p += i;
	}
	*rest = p;
	*x100 = v * 100 + frac;
	return 0;
}

int
pol_parse_percent(const char *s, uint32_t *bp, char *err, size_t errlen)
{
	char	    cb[48];
	const char *rest;
	uint64_t    v;
	int	    toomany;

	if (*s == '\0') {
		snprintf(err, errlen, "missing value");
		return -1;
	}
	if (hundredths(s, &rest, &v, &toomany) != 0) {
		snprintf(err, errlen, "bad percentage '%s'%s",
		    pol_clip(s, cb, sizeof(cb)),
		    toomany ? ": at most two decimals" : " (write e.g. 60%)");
		return -1;
	}
	if (*rest == '\0') {
		snprintf(err, errlen,
		    "percentage needs a '%%' sign "
		    "(write %s%%)",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	if (strcmp(rest, "%") != 0) {
		snprintf(err, errlen, "bad percentage '%s' (write e.g. 60%%)",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	if (v > 10000) {
		snprintf(err, errlen, "percentage '%s' is above 100%%",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	*bp = (uint32_t)v;
	return 0;
}

int
pol_parse_decimal(const char *s, uint32_t *x100, char *err, size_t errlen)
{
	char	    cb[48];
	const char *rest;
	uint64_t    v;
	int	    toomany;

	if (*s == '\0') {
		snprintf(err, errlen, "missing value");
		return -1;
	}
	if (hundredths(s, &rest, &v, &toomany) != 0 || *rest != '\0') {
		snprintf(err, errlen, "bad number '%s'%s",
		    pol_clip(s, cb, sizeof(cb)),
		    toomany ? ": at most two decimals" : " (write e.g. 3.5)");
		return -1;
	}
	if (v > UINT32_MAX) {
		snprintf(err, errlen, "number '%s' is too large",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	*x100 = (uint32_t)v;
	return 0;
}

int
pol_parse_bool(const char *s, int *b, char *err, size_t errlen)
{
	static const char *const yes[] = {"yes", "true", "on"};
	static const char *const no[] = {"no", "false", "off"};
	char			 cb[48];
	size_t			 i;

	for (i = 0; i < NELEM(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*b = 1;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*b = 0;
			return 0;
		}
	}
	if (*s == '\0')
		snprintf(err, errlen, "missing value");
	else
		snprintf(err, errlen,
		    "bad boolean '%s' (use yes/no, "
		    "true/false, on/off)",
		    pol_clip(s, cb, sizeof(cb)));
	return -1;
}

/* Exactly two digits; -1 otherwise. */
static int
two_digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "HH:MM" at p, minutes after midnight; 24:00 only when allow24. */
static int
hhmm(const char *p, int allow24)
{
	int h = two_digits(p), m;

	if (h < 0 || p[2] != ':' || (m = two_digits(p + 3)) < 0)
		return -1;
	if (m > 59 || h > 24 || (h == 24 && (!allow24 || m != 0)))
		return -1;
	return h * 60 + m;
}

int
pol_parse_timerange(
    const char *s, struct pol_timerange *tr, char *err, size_t errlen)
{
	char cb[48];
	int  a, b;

	if (strlen(s) != 11 || s[5] != '-' || (a = hhmm(s, 0)) < 0 ||
	    (b = hhmm(s + 6, 1)) < 0) {
		snprintf(err, errlen,
		    "bad time range '%s' (write HH:MM-HH:MM, "
		    "e.g. 22:00-06:00)",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	if (a == b || (a == 0 && b == 1440)) {
		snprintf(err, errlen,
		    "time range '%s' is empty or the whole "
		    "day",
		    s);
		return -1;
	}
	tr->start_min = (uint16_t)a;
	tr->end_min = (uint16_t)b;
	return 0;
}

int
pol_parse_utc_offset(const char *s, int32_t *sec, char *err, size_t errlen)
{
	char cb[48];
	int  m;

	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') ||
	    (m = hhmm(s + 1, 0)) < 0) {
		snprintf(err, errlen,
		    "bad UTC offset '%s' (write +HH:MM or "
		    "-HH:MM, e.g. +01:00)",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	if (s[0] == '-')
		m = -m;
	if (m < -12 * 60 || m > 14 * 60) {
		snprintf(err, errlen,
		    "UTC offset '%s' is out of range "
		    "(-12:00..+14:00)",
		    s);
		return -1;
	}
	*sec = m * 60;
	return 0;
}

/*
 * PROTO@HOST:PORT, HOST a dotted quad or a bracketed IPv6 address.  Host
 * names are refused: the exporter must not depend on DNS at start-up.
 */
int
pol_parse_target(
    const char *s, struct pol_export_target *t, char *err, size_t errlen)
{
	char			 cb[48], host[ADDR_STRLEN + 2];
	struct pol_export_target r;
	const char		*at, *hs, *he, *ps;
	uint64_t		 port;
	size_t			 i, hl;
	int			 nd;

	memset(&r, 0, sizeof(r));
	if ((at = strchr(s, '@')) == NULL) {
		snprintf(err, errlen,
		    "bad export target '%s' (write "
		    "PROTO@HOST:PORT, e.g. ipfix@192.0.2.1:4739)",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	for (i = 0; i < NELEM(xp_names); i++)
		if (strlen(xp_names[i]) == (size_t)(at - s) &&
		    strncmp(s, xp_names[i], (size_t)(at - s)) == 0)
			break;
	if (i == NELEM(xp_names)) {
		snprintf(err, errlen,
		    "bad export target '%s': unknown protocol "
		    "'%.*s' (use netflow5, netflow9, ipfix)",
		    pol_clip(s, cb, sizeof(cb)),
		    (int)((at - s) > 12 ? 12 : at - s), s);
		return -1;
	}
	r.proto = (enum pol_xp_proto)i;
	hs = at + 1;
	if (*hs == '[') {
		hs++;
		if ((he = strchr(hs, ']')) == NULL || he[1] != ':')
			goto badhost;
		ps = he + 2;
	} else {
		if ((he = strrchr(hs, ':')) == NULL) {
			snprintf(err, errlen,
			    "bad export target '%s': missing "
			    ":PORT",
			    pol_clip(s, cb, sizeof(cb)));
			return -1;
		}
		ps = he + 1;
		if (memchr(hs, ':', (size_t)(he - hs)) != NULL) {
			snprintf(err, errlen,
			    "bad export target '%s': write "
			    "an IPv6 address in brackets, [2001:db8::1]:4739",
			    pol_clip(s, cb, sizeof(cb)));
			return -1;
		}
	}
	hl = (size_t)(he - hs);
	if (hl == 0 || hl >= sizeof(host))
		goto badhost;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	/* The brackets say which family is meant; the text must agree. */
	if ((at[1] == '[') != (strchr(host, ':') != NULL) ||
	    addr_parse(host, r.addr) != 0)
		goto badhost;
	if ((nd = digits(&ps, &port)) <= 0 || *ps != '\0' || port == 0 ||
	    port > 65535) {
		snprintf(err, errlen,
		    "bad export target '%s': port must be "
		    "1..65535",
		    pol_clip(s, cb, sizeof(cb)));
		return -1;
	}
	r.port = (uint16_t)port;
	*t = r;
	return 0;
badhost:
	snprintf(err, errlen,
	    "bad export target '%s': HOST must be an IPv4 "
	    "address or [IPv6] address",
	    pol_clip(s, cb, sizeof(cb)));
	return -1;
}

int
pol_list_split(const char *s, char *items, size_t itemsz, size_t max, size_t *n,
    char *err, size_t errlen)
{
	char	    cb[48];
	const char *p = s, *e, *comma;
	size_t	    k = 0, len;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*n = 0;
		return 0;
	}
	/* Each pass consumes at least the comma or the end: bounded. */
	for (;;) {
		comma = strchr(p, ',');
		e = comma != NULL ? comma : p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(e - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			snprintf(err, errlen, "empty item in list '%s'",
			    pol_clip(s, cb, sizeof(cb)));
			return -1;
		}
		if (k == max) {
			snprintf(
			    err, errlen, "too many items (at most %zu)", max);
			return -1;
		}
		if (len >= itemsz) {
			snprintf(err, errlen, "list item '%.*s...' is too long",
			    20, p);
			return -1;
		}
		memcpy(items + k * itemsz, p, len);
		items[k * itemsz + len] = '\0';
		k++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*n = k;
	return 0;
}

/* The largest unit that divides v; zero is written in zero_unit. */
static void
fmt_united(uint64_t v, const struct unit *units, size_t n_units,
    size_t zero_unit, char *buf, size_t size)
{
	size_t i = n_units;

	if (v == 0) {
		snprintf(buf, size, "0%s", units[zero_unit].name);
		return;
	}
	while (i-- > 1)
		if (v % units[i].mult == 0)
			break;
	snprintf(buf, size, "%llu%s", (unsigned long long)(v / units[i].mult),
	    units[i].name);
}

void
pol_fmt_duration(uint64_t ms, char *buf, size_t size)
{
	fmt_united(ms, dur_units, NELEM(dur_units), 1, buf, size);
}

void
pol_fmt_size(uint64_t bytes, char *buf, size_t size)
{
	fmt_united(bytes, size_units, NELEM(size_units), 0, buf, size);
}

static void
fmt_hundredths(uint64_t v, const char *suffix, char *buf, size_t size)
{
	unsigned long long i = v / 100, f = v % 100;

	if (f == 0)
		snprintf(buf, size, "%llu%s", i, suffix);
	else if (f % 10 == 0)
		snprintf(buf, size, "%llu.%llu%s", i, f / 10, suffix);
	else
		snprintf(buf, size, "%llu.%02llu%s", i, f, suffix);
}

void
pol_fmt_percent(uint32_t bp, char *buf, size_t size)
{
	fmt_hundredths(bp, "%", buf, size);
}

/* Decimals keep one decimal place (3.0, 3.5): they read as multipliers. */
void
pol_fmt_decimal(uint32_t x100, char *buf, size_t size)
{
	if (x100 % 100 == 0)
		snprintf(buf, size, "%u.0", x100 / 100);
	else
		fmt_hundredths(x100, "", buf, size);
}

void
pol_fmt_timerange(const struct pol_timerange *tr, char *buf, size_t size)
{
	snprintf(buf, size, "%02u:%02u-%02u:%02u", tr->start_min / 60u,
	    tr->start_min % 60u, tr->end_min / 60u, tr->end_min % 60u);
}

void
pol_fmt_utc_offset(int32_t sec, char *buf, size_t size)
{
	int32_t m = sec < 0 ? -sec / 60 : sec / 60;

	snprintf(buf, size, "%c%02d:%02d", sec < 0 ? '-' : '+', (int)(m / 60),
	    (int)(m % 60));
}

void
pol_fmt_target(const struct pol_export_target *t, char *buf, size_t size)
{
	char	    a[ADDR_STRLEN];
	const char *proto =
	    (unsigned)t->proto < NELEM(xp_names) ? xp_names[t->proto] : "?";

	addr_fmt(t->addr, a);
	if (addr_is_v4(t->addr))
		snprintf(buf, size, "%s@%s:%u", proto, a, t->port);
	else
		snprintf(buf, size, "%s@[%s]:%u", proto, a, t->port);
}

void
pol_fmt_window(uint32_t window_s, char *buf, size_t size)
{
	if (window_s == POL_WIN_DAY)
		snprintf(buf, size, "day");
	else if (window_s == POL_WIN_MONTH)
		snprintf(buf, size, "month");
	else
		pol_fmt_duration((uint64_t)window_s * 1000, buf, size);
}
