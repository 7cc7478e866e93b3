/*
 * baseline.c: configuration, names, robust statistics, beacon score and
 * calendar arithmetic for the per-host baselines (see baseline.h).
 *
 * Why median and MAD rather than EWMA: an EWMA mean and variance are two
 * doubles per metric, but one exfiltration or scan day inflates both for
 * weeks (with a 7-day half-life, a day at 50x the normal level lifts the
 * mean ~5x and the deviation more), so the next attack day passes.  The
 * median of the last 28 daily values ignores up to 13 outliers and the
 * MAD likewise; 28 floats are 112 bytes per series, and the sort is done
 * once a day per series, not per packet.  k * MAD with k = 5 is a modified
 * z-score of 0.6745 * 5 = 3.4 (Iglewicz and Hoaglin's 3.5).
 *
 * Why these defaults: with no history only absolute limits apply, set far
 * above what browsing, DNS, mail or a file copy produce (a browser opens a
 * few dozen peers a minute on 2-3 ports; a mail client one peer): 500
 * distinct ports or 250 distinct peers in 10 minutes, 200 unanswered SYNs
 * in a minute (Zeek's old scan.zeek used 15 ports / 25 hosts in 5 minutes
 * of *failed* connections; ncsa/bro-simple-scan uses 250 for local
 * scanners).  Learned limits (k = 5, floors) take over after 7 days.
 *
 * The beacon score follows RITA (activecm/rita:analysis/beacons.go) in
 * judging a pair by the dispersion of its intervals and of its sizes,
 * MAD / median, and keeps only that: RITA's Bowley skewness is noise over
 * the 12 intervals a sensor keeps per pair, and its histogram and duration
 * parts need a day of timestamps.  Intervals weigh twice and their MAD
 * counts double (ts = 1 - 2 MAD/median), so that random (exponential)
 * intervals score ~0 on timing whatever their sizes.
 *
 * One evaluation can pass by chance, and consecutive evaluations share 11
 * of their 12 intervals, so runs of passes are long.  Measured over 3*10^6
 * sliding evaluations with near-constant sizes (the hard case): runs of
 * >= 70 reached 16 for exponential timing, 33 for bursty timing (70% of
 * gaps near 0) and 29 for uniform(0, 2P) timing, with runs >= 24 at
 * ~5*10^-6 per evaluation and >= 32 at ~3*10^-7; a 10-minute beacon with
 * +-30% jitter stays >= 70 for thousands in a row.  Hence a pair is
 * periodic after beacon_min_obs = 32 passes in a row (~6.5 h for a
 * 10-minute beacon; test_baseline.c re-checks the no-run claim).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "baseline.h"

static const char *const bl_metric_names[BL_M__COUNT] = {
    "dst_ports",
    "dst_ips",
    "protocols",
    "conns",
    "bytes_out",
    "bytes_in",
    "half_open",
    "half_open_share",
    "rejected",
    "rejected_share",
    "night_bytes_out",
    "beacon",
};

const char *
bl_metric_name(enum bl_metric m)
{
	return (unsigned)m < BL_M__COUNT ? bl_metric_names[m] : "?";
}

int
bl_metric_parse(const char *s)
{
	int i;

	for (i = 0; i < BL_M__COUNT; i++)
		if (strcmp(s, bl_metric_names[i]) == 0)
			return i;
	return -1;
}

const char *
bl_kind_name(enum bl_kind k)
{
	return k == BL_LEARNED ? "learned" : "absolute";
}

int
bl_metric_is_share(enum bl_metric m)
{
	return m == BL_M_HALF_OPEN_SHARE || m == BL_M_REJECTED_SHARE;
}

double
bl_metric_default_min(enum bl_metric m)
{
	switch (m) {
	case BL_M_DST_PORTS:
	case BL_M_DST_IPS:
		return 200;
	case BL_M_PROTOCOLS:
		return 1;
	case BL_M_CONNS:
		return 2000;
	case BL_M_BYTES_OUT:
	case BL_M_BYTES_IN:
		return 1e9;
	case BL_M_HALF_OPEN:
	case BL_M_REJECTED:
		return 100;
	case BL_M_HALF_OPEN_SHARE:
	case BL_M_REJECTED_SHARE:
		return 0.5;
	case BL_M_NIGHT_BYTES_OUT:
		return 0; /* night_upload_min applies */
	default:
		return 0;
	}
}

double
bl_metric_unit(enum bl_metric m)
{
	if (bl_metric_is_share(m))
		return 0.02;
	if (m == BL_M_BYTES_OUT || m == BL_M_BYTES_IN ||
	    m == BL_M_NIGHT_BYTES_OUT)
		return 1e6;
	return 1;
}

int
bl_window_is_rolling(uint32_t w)
{
	return w >= BL_WIN_MIN_S && w <= BL_WIN_MAX_S;
}

void
bl_window_name(uint32_t w, char *buf, size_t len)
{
	if (w == BL_WIN_HOUR)
		snprintf(buf, len, "hour");
	else if (w == BL_WIN_DAY)
		snprintf(buf, len, "day");
	else if (w == BL_WIN_MONTH)
		snprintf(buf, len, "month");
	else if (w == BL_WIN_NONE)
		snprintf(buf, len, "none");
	else if (w % 86400 == 0)
		snprintf(buf, len, "%ud", w / 86400);
	else if (w % 3600 == 0)
		snprintf(buf, len, "%uh", w / 3600);
	else if (w % 60 == 0)
		snprintf(buf, len, "%um", w / 60);
	else
		snprintf(buf, len, "%us", w);
}

int
bl_window_parse(const char *s, uint32_t *w)
{
	unsigned long n = 0, mul = 1;
	const char   *p = s;

	if (strcmp(s, "hour") == 0 || strcmp(s, "day") == 0 ||
	    strcmp(s, "month") == 0 || strcmp(s, "none") == 0) {
		*w = s[0] == 'h'  ? BL_WIN_HOUR
		    : s[0] == 'd' ? BL_WIN_DAY
		    : s[0] == 'm' ? BL_WIN_MONTH
				  : BL_WIN_NONE;
		return 0;
	}
	if (*p < '0' || *p > '9')
		goto bad;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (unsigned long)(*p++ - '0');
		if (n > BL_WIN_MAX_S)
			goto bad;
	}
	switch (*p) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		goto bad;
	}
	if (*p != '\0' && p[1] != '\0')
		goto bad;
	n *= mul;
	if (n < BL_WIN_MIN_S || n > BL_WIN_MAX_S)
		goto bad;
	*w = (uint32_t)n;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
bl_config_add(struct bl_config *cfg, enum bl_metric m, uint32_t window_s,
    enum bl_kind kind, double value, double min)
{
	struct bl_threshold *t;

	if (cfg->n_thr >= BL_MAX_THRESH) {
		errno = ENOSPC;
		return -1;
	}
	t = &cfg->thr[cfg->n_thr++];
	t->metric = (uint8_t)m;
	t->window_s = window_s;
	t->kind = (uint8_t)kind;
	t->value = value;
	t->min = min;
	return 0;
}

void
bl_config_defaults(struct bl_config *cfg)
{
	static const char *const nets[] = {
	    "10.0.0.0/8",
	    "172.16.0.0/12",
	    "192.168.0.0/16",
	    "fc00::/7",
	};
	unsigned i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		if (cidr_parse(nets[i], &cfg->home[cfg->n_home]) == 0)
			cfg->n_home++;
	cfg->mem_budget = 64u << 20;
	cfg->windows_s[0] = 60;
	cfg->windows_s[1] = 600;
	cfg->n_windows = 2;
	cfg->beacon_pairs = 32;
	cfg->warmup_days = 7;
	cfg->history_days = BL_HIST_MAX;
	cfg->utc_offset_s = 0;
	cfg->quiet_start_h = 0;
	cfg->quiet_end_h = 6;
	cfg->night_upload_min = 50ULL * 1000 * 1000;
	cfg->normal_ratio = 0.8;
	cfg->share_min_conns = 20;
	cfg->beacon_min_obs = 32;
	cfg->beacon_tolerance = 0.2;
	cfg->beacon_learn_days = 3;
	cfg->beacon_min_iv = 7;
	cfg->beacon_max_period_ms = 0;

	/* Obvious with no history. */
	bl_config_add(cfg, BL_M_DST_PORTS, 600, BL_ABSOLUTE, 500, 0);
	bl_config_add(cfg, BL_M_DST_IPS, 600, BL_ABSOLUTE, 250, 0);
	bl_config_add(cfg, BL_M_HALF_OPEN, 60, BL_ABSOLUTE, 200, 0);
	/* Learned after warm-up (value = k). */
	bl_config_add(cfg, BL_M_DST_PORTS, BL_WIN_DAY, BL_LEARNED, 5, 0);
	bl_config_add(cfg, BL_M_DST_IPS, BL_WIN_DAY, BL_LEARNED, 5, 0);
	bl_config_add(cfg, BL_M_CONNS, BL_WIN_DAY, BL_LEARNED, 5, 0);
	bl_config_add(cfg, BL_M_BYTES_OUT, BL_WIN_DAY, BL_LEARNED, 5, 0);
	bl_config_add(cfg, BL_M_PROTOCOLS, BL_WIN_MONTH, BL_LEARNED, 1, 0);
	bl_config_add(cfg, BL_M_HALF_OPEN_SHARE, 600, BL_LEARNED, 5, 0);
	bl_config_add(cfg, BL_M_REJECTED_SHARE, 600, BL_LEARNED, 5, 0);
	bl_config_add(cfg, BL_M_NIGHT_BYTES_OUT, BL_WIN_HOUR, BL_LEARNED, 5, 0);
	bl_config_add(cfg, BL_M_BEACON, BL_WIN_NONE, BL_LEARNED, 70, 0);
}

/* 1 when (metric, window) is a learned series kept in a host's history. */
static int
bl_uses_series(const struct bl_threshold *t)
{
	return t->kind == BL_LEARNED && t->metric != BL_M_PROTOCOLS &&
	    t->metric != BL_M_BEACON && t->window_s != BL_WIN_HOUR;
}

static int __attribute__((format(printf, 3, 4)))
bl_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

int
bl_config_check(const struct bl_config *cfg, const struct bl_config *table,
    char *err, size_t len)
{
	const struct bl_config *tw = table != NULL ? table : cfg;
	char			wn[16], buf[64];
	unsigned		i, j, n_series = 0, n_beacon = 0;

	if (cfg->n_home > BL_MAX_HOME)
		return bl_fail(err, len, "too many home networks");
	if (tw->n_windows > BL_MAX_WINDOWS)
		return bl_fail(err, len, "more than 4 rolling windows");
	for (i = 0; i < tw->n_windows; i++) {
		bl_window_name(tw->windows_s[i], wn, sizeof(wn));
		if (!bl_window_is_rolling(tw->windows_s[i]))
			return bl_fail(err, len,
			    "window %s: rolling windows "
			    "are 10 s to 1 day",
			    wn);
		for (j = 0; j < i; j++)
			if (tw->windows_s[j] == tw->windows_s[i])
				return bl_fail(err, len,
				    "window %s listed "
				    "twice",
				    wn);
	}
	if (tw->beacon_pairs > BL_MAX_BEACONS)
		return bl_fail(err, len, "beacon pairs above 64");
	if (cfg->n_thr > BL_MAX_THRESH)
		return bl_fail(err, len, "more than 32 thresholds");
	if (cfg->warmup_days < 1 || cfg->history_days < cfg->warmup_days ||
	    cfg->history_days > BL_HIST_MAX)
		return bl_fail(err, len,
		    "need 1 <= warmup_days <= "
		    "history_days <= 28");
	if (cfg->quiet_start_h > 23 || cfg->quiet_end_h > 23)
		return bl_fail(err, len, "quiet hours are 0..23");
	if (cfg->utc_offset_s < -14 * 3600 || cfg->utc_offset_s > 14 * 3600)
		return bl_fail(err, len, "utc offset beyond +-14 h");
	if (!(cfg->normal_ratio > 0 && cfg->normal_ratio <= 1))
		return bl_fail(err, len, "normal ratio must be in (0, 1]");
	if (cfg->beacon_min_obs < 4 || cfg->beacon_min_obs > 1000)
		return bl_fail(err, len,
		    "beacon minimum observations must be "
		    "4..1000");
	if (!(cfg->beacon_tolerance > 0 && cfg->beacon_tolerance < 10) ||
	    cfg->beacon_learn_days < 1)
		return bl_fail(err, len, "bad beacon tolerance or learn days");
	for (i = 0; i < cfg->n_thr; i++) {
		const struct bl_threshold *t = &cfg->thr[i];
		const char		  *mn;
		uint32_t		   w = t->window_s;

		if (t->metric >= BL_M__COUNT || t->kind > BL_LEARNED)
			return bl_fail(err, len,
			    "threshold %u: bad metric or "
			    "kind",
			    i + 1);
		mn = bl_metric_name(t->metric);
		bl_window_name(w, wn, sizeof(wn));
		snprintf(buf, sizeof(buf), "%s/%s", mn, wn);
		if (!isfinite(t->value) || t->value < 0 || !isfinite(t->min) ||
		    t->min < 0 || (t->kind == BL_LEARNED && t->value <= 0))
			return bl_fail(err, len,
			    "%s: value must be a number "
			    ">= 0 (k > 0 when learned)",
			    buf);
		if (t->metric == BL_M_BEACON) {
			if (w != BL_WIN_NONE)
				return bl_fail(err, len,
				    "%s: beacon takes no "
				    "window",
				    buf);
			if (t->value > 100)
				return bl_fail(err, len,
				    "%s: beacon score is "
				    "0..100",
				    buf);
			if (++n_beacon > 1)
				return bl_fail(err, len,
				    "%s: one beacon "
				    "threshold only",
				    buf);
			continue;
		}
		if (w == BL_WIN_NONE)
			return bl_fail(err, len, "%s: needs a window", buf);
		if (w == BL_WIN_HOUR && t->metric != BL_M_NIGHT_BYTES_OUT)
			return bl_fail(err, len,
			    "%s: the hour window is for "
			    "night_bytes_out only",
			    buf);
		if (w == BL_WIN_MONTH &&
		    (t->metric == BL_M_DST_PORTS || t->metric == BL_M_DST_IPS))
			return bl_fail(err, len,
			    "%s: no distinct counts per "
			    "month (a 2 KiB sketch per host); use day",
			    buf);
		if (t->metric == BL_M_PROTOCOLS && w != BL_WIN_DAY &&
		    w != BL_WIN_MONTH)
			return bl_fail(err, len,
			    "%s: protocols are counted "
			    "per day or month",
			    buf);
		if (bl_window_is_rolling(w)) {
			for (j = 0; j < tw->n_windows; j++)
				if (tw->windows_s[j] == w)
					break;
			if (j == tw->n_windows)
				return bl_fail(err, len,
				    "%s: window %s is not "
				    "one of the rolling windows",
				    buf, wn);
		} else if (w != BL_WIN_HOUR && w != BL_WIN_DAY &&
		    w != BL_WIN_MONTH)
			return bl_fail(err, len, "%s: bad window", buf);
		for (j = 0; j < i; j++)
			if (cfg->thr[j].metric == t->metric &&
			    cfg->thr[j].window_s == w &&
			    cfg->thr[j].kind == t->kind)
				return bl_fail(err, len,
				    "%s: listed twice "
				    "with the same kind",
				    buf);
		if (bl_uses_series(t)) {
			for (j = 0; j < i; j++)
				if (bl_uses_series(&cfg->thr[j]) &&
				    cfg->thr[j].metric == t->metric &&
				    cfg->thr[j].window_s == w)
					break;
			if (j == i && ++n_series > BL_MAX_SERIES)
				return bl_fail(err, len,
				    "%s: more than 8 "
				    "learned metric/window pairs",
				    buf);
		}
	}
	return 0;
}

static void
bl_sort(double *v, unsigned n)
{
	unsigned i, j;

	for (i = 1; i < n; i++) {
		double x = v[i];

		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Quantile (0..1) of sorted v by linear interpolation (R type 7). */
static double
bl_quantile(const double *v, unsigned n, double q)
{
	double	 pos = q * (double)(n - 1);
	unsigned lo = (unsigned)pos;
	double	 frac = pos - (double)lo;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + frac * (v[lo + 1] - v[lo]);
}

#define BL_STAT_MAX 64

void
bl_median_mad(const float *in, unsigned n, double *med, double *mad)
{
	double	 v[BL_STAT_MAX];
	unsigned i;

	if (n > BL_STAT_MAX)
		n = BL_STAT_MAX;
	if (n == 0) {
		*med = *mad = 0;
		return;
	}
	for (i = 0; i < n; i++)
		v[i] = in[i];
	bl_sort(v, n);
	*med = bl_quantile(v, n, 0.5);
	for (i = 0; i < n; i++)
		v[i] = fabs(v[i] - *med);
	bl_sort(v, n);
	*mad = bl_quantile(v, n, 0.5);
}

double
bl_learned_threshold(double med, double mad, double k, double min, double unit)
{
	double m = mad, t;

	if (m < 0.1 * fabs(med))
		m = 0.1 * fabs(med);
	if (m < unit)
		m = unit;
	t = med + k * m;
	return t > min ? t : min;
}

/* MAD / median of v (0 when all equal, 1 when the median is 0). */
static double
bl_madm(const uint32_t *in, unsigned n, double *median)
{
	double	 v[BL_STAT_MAX], q2, mad;
	unsigned i;

	if (n > BL_STAT_MAX)
		n = BL_STAT_MAX;
	for (i = 0; i < n; i++)
		v[i] = in[i];
	bl_sort(v, n);
	q2 = bl_quantile(v, n, 0.5);
	for (i = 0; i < n; i++)
		v[i] = fabs(v[i] - q2);
	bl_sort(v, n);
	mad = bl_quantile(v, n, 0.5);
	if (median != NULL)
		*median = q2;
	if (q2 > 0)
		return mad / q2;
	return mad == 0 ? 0.0 : 1.0;
}

double
bl_beacon_score(const uint32_t *iv, unsigned n_iv, const uint32_t *sz,
    unsigned n_sz, double *median_iv)
{
	double ts, ds;

	*median_iv = 0;
	if (n_iv < 3 || n_sz < 3)
		return 0;
	ts = 1.0 - 2.0 * bl_madm(iv, n_iv, median_iv);
	ds = 1.0 - bl_madm(sz, n_sz, NULL);
	if (ts < 0)
		ts = 0;
	if (ds < 0)
		ds = 0;
	return 100.0 * (2.0 * ts + ds) / 3.0;
}

/* Days since 1970-01-01 -> (year, month 1..12) (H. Hinnant's algorithm). */
static void
bl_civil(int32_t days, int32_t *y, unsigned *m)
{
	int32_t	 z = days + 719468, era, yy;
	uint32_t doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (uint32_t)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int32_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static int64_t
bl_local_s(uint64_t ts_us, int32_t off)
{
	return (int64_t)(ts_us / 1000000) + off;
}

static int32_t
bl_floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && a < 0)
		q--;
	return (int32_t)q;
}

int32_t
bl_day(uint64_t ts_us, int32_t off)
{
	return bl_floordiv(bl_local_s(ts_us, off), 86400);
}

int32_t
bl_hour(uint64_t ts_us, int32_t off)
{
	return bl_floordiv(bl_local_s(ts_us, off), 3600);
}

int32_t
bl_month(uint64_t ts_us, int32_t off)
{
	int32_t	 y;
	unsigned m;

	bl_civil(bl_day(ts_us, off), &y, &m);
	return y * 12 + (int32_t)m - 1;
}

uint32_t
bl_month_seconds(int32_t month)
{
	static const uint8_t mdays[12] = {
	    31,
	    28,
	    31,
	    30,
	    31,
	    30,
	    31,
	    31,
	    30,
	    31,
	    30,
	    31,
	};
	int32_t	 y = month / 12;
	unsigned m = (unsigned)(month % 12), d = mdays[m];

	if (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		d = 29;
	return d * 86400u;
}

int
bl_is_quiet(const struct bl_config *cfg, unsigned h)
{
	unsigned s = cfg->quiet_start_h, e = cfg->quiet_end_h;

	if (s == e)
		return 0;
	if (s < e)
		return h >= s && h < e;
	return h >= s || h < e;
}
