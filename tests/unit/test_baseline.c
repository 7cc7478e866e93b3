/*
 * test_baseline.c: config validation, names, robust statistics, the
 * beacon score and local calendar arithmetic.
 *
 * The calendar is checked against the C library (gmtime_r on the shifted
 * time); the beacon score against synthetic timing series from a fixed
 * PRNG: random (exponential) timing must not look periodic, jittered
 * beacons must.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "baseline.h"
#include "t.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double
urand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

static void
test_names(void)
{
	static const char *const names[] = {
		"dst_ports", "dst_ips", "protocols", "conns", "bytes_out",
		"bytes_in", "half_open", "half_open_share", "rejected",
		"rejected_share", "night_bytes_out", "beacon",
	};
	static const struct { const char *s; uint32_t w; } win[] = {
		{ "1m", 60 }, { "10m", 600 }, { "90s", 90 }, { "90", 90 },
		{ "2h", 7200 }, { "1d", 86400 }, { "10s", 10 },
		{ "hour", BL_WIN_HOUR }, { "day", BL_WIN_DAY },
		{ "month", BL_WIN_MONTH }, { "none", BL_WIN_NONE },
	};
	static const char *const badwin[] = {
		"5s", "2d", "m", "10x", "", "10mm", "-1m", "86401",
		"99999999999999999999",
	};
	char buf[16];
	unsigned i, ok = 1;
	uint32_t w;

	T_EQ_INT(BL_M__COUNT, 12, "twelve metrics");
	for (i = 0; i < BL_M__COUNT; i++) {
		if (strcmp(bl_metric_name((enum bl_metric)i), names[i]) != 0 ||
		    bl_metric_parse(names[i]) != (int)i)
			ok = 0;
	}
	T_OK(ok, "metric names are the config's names and parse back");
	T_EQ_INT(bl_metric_parse("ports"), -1, "unknown metric");
	for (i = 0; i < sizeof(win) / sizeof(win[0]); i++) {
		w = 1;
		T_OK(bl_window_parse(win[i].s, &w) == 0 && w == win[i].w,
		    "window \"%s\" = %u", win[i].s, win[i].w);
	}
	for (i = 0; i < sizeof(badwin) / sizeof(badwin[0]); i++)
		T_OK(bl_window_parse(badwin[i], &w) == -1 && errno == EINVAL,
		    "window \"%s\" refused", badwin[i]);
	bl_window_name(600, buf, sizeof(buf));
	T_EQ_STR(buf, "10m", "600 s is 10m");
	bl_window_name(90, buf, sizeof(buf));
	T_EQ_STR(buf, "90s", "90 s");
	bl_window_name(BL_WIN_DAY, buf, sizeof(buf));
	T_EQ_STR(buf, "day", "day");
	T_EQ_STR(bl_kind_name(BL_LEARNED), "learned", "kind name");
}

static void
test_stats(void)
{
	static const float a[] = { 1, 2, 3, 4, 100 };
	static const float b[] = { 4, 1, 3, 2 };
	static const float c[] = { 7, 7, 7, 7, 7, 7, 7 };
	double med, mad;

	bl_median_mad(a, 5, &med, &mad);
	T_OK(med == 3 && mad == 1, "median/MAD of 1 2 3 4 100: %g %g "
	    "(the outlier does not move them)", med, mad);
	bl_median_mad(b, 4, &med, &mad);
	T_OK(med == 2.5 && mad == 1, "even count: %g %g", med, mad);
	bl_median_mad(c, 7, &med, &mad);
	T_OK(med == 7 && mad == 0, "constant series: MAD 0");
	bl_median_mad(a, 0, &med, &mad);
	T_OK(med == 0 && mad == 0, "empty series");
	T_OK(bl_learned_threshold(70, 0, 5, 0, 1) == 105,
	    "MAD 0 floored at 10%% of the median: 70 + 5 * 7 = %g",
	    bl_learned_threshold(70, 0, 5, 0, 1));
	T_OK(bl_learned_threshold(0, 0, 5, 0, 1) == 5,
	    "MAD floored at the unit: 0 + 5 * 1");
	T_OK(bl_learned_threshold(40, 3, 5, 200, 1) == 200,
	    "floor applies (40 ports a day -> 200)");
	T_OK(bl_learned_threshold(3000, 100, 5, 200, 1) == 4500,
	    "3000 +- 100 -> 3000 + 5 * 300 = 4500");
	T_OK(bl_learned_threshold(3000, 400, 5, 200, 1) == 5000,
	    "MAD above 10%%: 3000 + 5 * 400");
}

/* Score of n intervals and sizes drawn by kind. */
static double
score_of(int kind, unsigned n)
{
	uint32_t iv[BL_BEACON_RING], sz[BL_BEACON_RING];
	double med;
	unsigned i;

	for (i = 0; i < n; i++) {
		double x;

		switch (kind) {
		case 0:		/* exponential, mean 600 s */
			x = -log(1 - urand()) * 600;
			break;
		case 1:		/* 600 s +- 10% */
			x = 600 * (0.9 + 0.2 * urand());
			break;
		default:	/* 600 s +- 30% */
			x = 600 * (0.7 + 0.6 * urand());
			break;
		}
		iv[i] = (uint32_t)(x * 1000) + 1000;
		sz[i] = kind == 0 ? (uint32_t)(urand() * 100000) : 700 +
		    (uint32_t)(urand() * 40);
	}
	return bl_beacon_score(iv, n, sz, n, &med);
}

static void
test_beacon_score(void)
{
	uint32_t iv[12], sz[12];
	double med, s, sum, lo;
	unsigned i, over, longest, streak;

	for (i = 0; i < 12; i++) {
		iv[i] = 600000;
		sz[i] = 180;
	}
	T_OK(bl_beacon_score(iv, 12, sz, 12, &med) == 100 && med == 600000,
	    "perfect beacon: 100, median 600 s");
	T_OK(bl_beacon_score(iv, 2, sz, 2, &med) == 0, "2 intervals: 0");
	/* One missed call (a doubled interval) barely matters. */
	iv[5] = 1200000;
	T_OK(bl_beacon_score(iv, 12, sz, 12, &med) == 100 && med == 600000,
	    "one missed call: still 100 (MAD is robust)");

	for (i = 0, sum = 0, lo = 100; i < 2000; i++) {
		s = score_of(1, 11);
		sum += s;
		if (s < lo)
			lo = s;
	}
	printf("# +-10%% jitter: mean score %.1f, lowest %.1f\n", sum / 2000,
	    lo);
	T_OK(sum / 2000 > 90 && lo >= 80, "+-10%% jitter scores high");
	for (i = 0, sum = 0, over = 0; i < 2000; i++) {
		s = score_of(2, 11);
		sum += s;
		over += s >= 70;
	}
	printf("# +-30%% jitter: mean score %.1f, %.1f%% >= 70\n",
	    sum / 2000, over / 20.0);
	T_OK(over > 1800, "+-30%% jitter: >= 70 in %u of 2000", over);

	/*
	 * Random timing, sliding over a stream as host.c does: the score
	 * passes 70 by chance now and then, but never for the default
	 * beacon_min_obs evaluations in a row.  Three kinds of timing with
	 * near-constant sizes (the hardest case): exponential, bursty (70%
	 * of gaps tiny), uniform(0, 2P).
	 */
	{
		struct bl_config c;
		uint32_t ring_iv[12], ring_sz[12];
		unsigned head, n, k, kind, passes, evals;

		bl_config_defaults(&c);
		for (kind = 0; kind < 3; kind++) {
			head = n = passes = evals = longest = streak = 0;
			for (k = 0; k < 100000; k++) {
				double x = kind == 0 ? -log(1 - urand()) :
				    kind == 1 ? (urand() < 0.7 ?
				    urand() * 0.01 : urand() * 6) :
				    2 * urand();

				ring_iv[head] = (uint32_t)(x * 6e5) + 1000;
				ring_sz[head] = 500 +
				    (uint32_t)(urand() * 50);
				head = (head + 1) % 12;
				if (n < 12)
					n++;
				if (n < 7)
					continue;
				s = bl_beacon_score(ring_iv, n, ring_sz, n,
				    &med);
				evals++;
				if (s >= 70) {
					passes++;
					if (++streak > longest)
						longest = streak;
				} else
					streak = 0;
			}
			printf("# %s timing, near-constant sizes: %u of %u "
			    "evaluations >= 70, longest run %u\n",
			    kind == 0 ? "exponential" : kind == 1 ? "bursty" :
			    "uniform(0,2P)", passes, evals, longest);
			T_OK(longest < c.beacon_min_obs, "random timing not "
			    "periodic for %u evaluations in a row (longest "
			    "%u)", c.beacon_min_obs, longest);
		}
	}
	for (i = 0, sum = 0; i < 2000; i++)
		sum += score_of(0, 11);
	T_OK(sum / 2000 < 40, "exponential timing, random sizes: mean %.1f",
	    sum / 2000);
}

static void
test_calendar(void)
{
	static const int32_t offs[] = {
		0, 3600, -3600, 19800, 20700, -12 * 3600, 14 * 3600, -34200,
	};
	unsigned i, bad_day = 0, bad_month = 0, bad_hour = 0, bad_len = 0;

	for (i = 0; i < 20000; i++) {
		uint64_t ts = (uint64_t)(urand() * 4102444800.0) + 86400;
		int32_t off = offs[i % (sizeof(offs) / sizeof(offs[0]))];
		time_t lt = (time_t)ts + off;
		struct tm tm, nx;
		int32_t m;
		time_t a, b;

		gmtime_r(&lt, &tm);
		if (bl_day(ts * 1000000, off) != (int32_t)(lt / 86400))
			bad_day++;
		if (bl_hour(ts * 1000000 + 999999, off) !=
		    (int32_t)(lt / 3600))
			bad_hour++;
		m = bl_month(ts * 1000000, off);
		if (m != (tm.tm_year + 1900) * 12 + tm.tm_mon)
			bad_month++;
		/* Month length from the C library. */
		memset(&nx, 0, sizeof(nx));
		nx.tm_year = tm.tm_year;
		nx.tm_mon = tm.tm_mon;
		nx.tm_mday = 1;
		a = timegm(&nx);
		nx.tm_mon++;
		b = timegm(&nx);
		if (bl_month_seconds(m) != (uint32_t)(b - a))
			bad_len++;
	}
	T_EQ_INT(bad_day, 0, "local day matches gmtime (20000 times, "
	    "offsets -12 h..+14 h, +5:30, +5:45)");
	T_EQ_INT(bad_hour, 0, "local hour matches");
	T_EQ_INT(bad_month, 0, "local month matches");
	T_EQ_INT(bad_len, 0, "month lengths (leap years included)");
	/* 2026-03-01 00:30 local at UTC+1 is still February in UTC. */
	T_EQ_INT(bl_month(1772321400ULL * 1000000, 3600) % 12, 2,
	    "offset moves the month boundary");
	T_EQ_INT(bl_month(1772321400ULL * 1000000, 0) % 12, 1,
	    "... UTC is still February");
}

static void
test_quiet(void)
{
	struct bl_config c;

	bl_config_defaults(&c);
	c.quiet_start_h = 22;
	c.quiet_end_h = 6;
	T_OK(bl_is_quiet(&c, 23) && bl_is_quiet(&c, 0) && bl_is_quiet(&c, 5) &&
	    !bl_is_quiet(&c, 6) && !bl_is_quiet(&c, 12) &&
	    bl_is_quiet(&c, 22) && !bl_is_quiet(&c, 21),
	    "quiet 22-6 wraps midnight");
	c.quiet_start_h = c.quiet_end_h = 3;
	T_OK(!bl_is_quiet(&c, 3) && !bl_is_quiet(&c, 0), "start == end: none");
	c.quiet_start_h = 0;
	c.quiet_end_h = 6;
	T_OK(bl_is_quiet(&c, 0) && bl_is_quiet(&c, 5) && !bl_is_quiet(&c, 6),
	    "0-6");
}

static void
test_config(void)
{
	static const struct {
		int		metric;
		uint32_t	window;
		int		kind;
		double		value;
		const char	*err;
	} bad[] = {
		{ BL_M_CONNS, 300, BL_ABSOLUTE, 10,
		    "not one of the rolling windows" },
		{ BL_M_DST_PORTS, BL_WIN_MONTH, BL_ABSOLUTE, 10,
		    "no distinct counts per month" },
		{ BL_M_CONNS, BL_WIN_HOUR, BL_ABSOLUTE, 10, "hour window" },
		{ BL_M_PROTOCOLS, 600, BL_ABSOLUTE, 3,
		    "protocols are counted" },
		{ BL_M_BEACON, 600, BL_LEARNED, 70, "beacon takes no window" },
		{ BL_M_DST_PORTS, 600, BL_ABSOLUTE, 9, "listed twice" },
		{ BL_M_CONNS, BL_WIN_DAY, BL_LEARNED, 0, "k > 0" },
		{ BL_M_CONNS, BL_WIN_NONE, BL_ABSOLUTE, 1, "needs a window" },
		{ BL_M_BEACON, BL_WIN_NONE, BL_ABSOLUTE, 150, "0..100" },
		{ BL_M__COUNT, BL_WIN_DAY, BL_ABSOLUTE, 1, "bad metric" },
	};
	struct bl_config c;
	char err[200];
	unsigned i;
	int rc;

	bl_config_defaults(&c);
	rc = bl_config_check(&c, NULL, err, sizeof(err));
	T_OK(rc == 0, "defaults are valid");
	T_OK(c.n_windows == 2 && c.windows_s[0] == 60 &&
	    c.windows_s[1] == 600 && c.warmup_days == 7 &&
	    c.history_days == 28 && c.share_min_conns == 20,
	    "defaults: 1m and 10m windows, 7-day warm-up, 28 days, 20 conns");
	for (i = 0; i < c.n_thr; i++)
		if (c.thr[i].kind == BL_ABSOLUTE)
			printf("# default absolute: %s/%u >= %g\n",
			    bl_metric_name(c.thr[i].metric), c.thr[i].window_s,
			    c.thr[i].value);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bl_config_defaults(&c);
		c.n_thr--;	/* the default beacon threshold (last) */
		bl_config_add(&c, (enum bl_metric)bad[i].metric, bad[i].window,
		    (enum bl_kind)bad[i].kind, bad[i].value, 0);
		err[0] = '\0';
		rc = bl_config_check(&c, NULL, err, sizeof(err));
		T_OK(rc == -1 && strstr(err, bad[i].err) != NULL,
		    "refused: %s", err);
	}
	{
		static const int m9[] = {
			BL_M_DST_PORTS, BL_M_DST_IPS, BL_M_CONNS,
			BL_M_BYTES_OUT, BL_M_BYTES_IN, BL_M_HALF_OPEN,
			BL_M_HALF_OPEN_SHARE, BL_M_REJECTED,
			BL_M_REJECTED_SHARE,
		};

		bl_config_defaults(&c);
		c.n_thr = 0;
		for (i = 0; i < 9; i++)
			bl_config_add(&c, (enum bl_metric)m9[i], BL_WIN_DAY,
			    BL_LEARNED, 5, 0);
		/* Two thresholds on one series count once. */
		bl_config_add(&c, BL_M_CONNS, BL_WIN_DAY, BL_ABSOLUTE, 9, 0);
		c.n_thr--;
	}
	rc = bl_config_check(&c, NULL, err, sizeof(err));
	T_OK(rc == -1 && strstr(err, "more than 8") != NULL,
	    "9 learned series refused: %s", err);
	bl_config_defaults(&c);
	c.warmup_days = 0;
	rc = bl_config_check(&c, NULL, err, sizeof(err));
	T_OK(rc == -1 && strstr(err, "warmup") != NULL, "warm-up 0: %s", err);
	bl_config_defaults(&c);
	c.windows_s[0] = 5;
	rc = bl_config_check(&c, NULL, err, sizeof(err));
	T_OK(rc == -1 && strstr(err, "10 s to 1 day") != NULL, "5 s: %s",
	    err);
	bl_config_defaults(&c);
	while (c.n_thr < BL_MAX_THRESH)
		c.thr[c.n_thr++] = c.thr[0];
	T_OK(bl_config_add(&c, BL_M_CONNS, BL_WIN_DAY, BL_ABSOLUTE, 1, 0) ==
	    -1 && errno == ENOSPC, "full threshold list: ENOSPC");
}

int
main(void)
{
	test_names();
	test_stats();
	test_beacon_score();
	test_calendar();
	test_quiet();
	test_config();
	return t_done();
}
