/*
 * baseline.h: what a per-host baseline measures and when it breaches.
 *
 * The configuration (struct bl_config) and the stateless pieces the host
 * table (host.c) is built from: metric and window names, robust statistics
 * (median and MAD), the learned threshold, the RITA-like beacon score, and
 * local calendar arithmetic (day, month, hour from flow time and a fixed
 * UTC offset).  Pure: no I/O, no clock, no allocation.
 *
 * Thresholds are a list of {metric, window, kind, value, min}:
 *
 *   kind absolute   breach when value >= `value`, from the first packet.
 *   kind learned    breach when value >= max(min, median + k * MADeff) of
 *                   the host's own history (k = `value`), once the history
 *                   holds warmup_days samples.  MADeff = max(MAD,
 *                   0.1 * median, unit) so a flat history (MAD 0) cannot
 *                   make every small rise a breach.
 *
 * The history of a (metric, window) series is one sample per day the host
 * was active: the day's total for the "day" window, the day's largest
 * rolling value for a rolling window, one sample per month for "month".
 * Three metrics learn differently:
 *   protocols        a set, not a number: the value is the count of IP
 *                    protocols used in the window outside the learned set
 *                    (protocols used on the host's completed days of this
 *                    and last month); threshold max(1, k).
 *   night_bytes_out  on the "hour" window: bytes sent in the current local
 *                    hour when it is a quiet hour, learned per hour of the
 *                    day; the floor (and the whole threshold before the
 *                    hour's warm-up) is night_upload_min.
 *   beacon           per (peer, port, proto) pair, see host.c; value is the
 *                    score 0..100, the threshold is `value` (the minimum
 *                    score); learned: only pairs outside the learned set (or
 *                    whose period changed) breach; absolute: any pair.
 */
#ifndef SENSORD_BASELINE_H
#define SENSORD_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum bl_metric {
	BL_M_DST_PORTS = 0,   /* distinct (proto, dport) as initiator */
	BL_M_DST_IPS,	      /* distinct destination addresses */
	BL_M_PROTOCOLS,	      /* distinct IP protocols as sender */
	BL_M_CONNS,	      /* conversations started as initiator */
	BL_M_BYTES_OUT,	      /* IP bytes sent */
	BL_M_BYTES_IN,	      /* IP bytes received */
	BL_M_HALF_OPEN,	      /* TCP S0 as initiator */
	BL_M_HALF_OPEN_SHARE, /* half_open / ended conversations */
	BL_M_REJECTED,	      /* TCP REJ, RSTO, RSTR, RSTOS0, RSTRH */
	BL_M_REJECTED_SHARE,  /* rejected / ended conversations */
	BL_M_NIGHT_BYTES_OUT, /* IP bytes sent during quiet hours */
	BL_M_BEACON,	      /* periodic (peer, port) pair */
	BL_M__COUNT
};

enum bl_kind { BL_ABSOLUTE = 0, BL_LEARNED = 1 };

/* Special window values (anything else is a rolling window in seconds). */
#define BL_WIN_NONE 0u		 /* beacon thresholds */
#define BL_WIN_HOUR 0xfffffffdu	 /* local clock hour (night upload) */
#define BL_WIN_DAY 0xfffffffeu	 /* local calendar day */
#define BL_WIN_MONTH 0xffffffffu /* local calendar month */
#define BL_WIN_MIN_S 10u	 /* rolling windows: 10 s .. 1 day */
#define BL_WIN_MAX_S 86400u

#define BL_MAX_HOME 32	  /* home network prefixes */
#define BL_MAX_WINDOWS 4  /* rolling windows per table */
#define BL_MAX_THRESH 32  /* threshold entries per config */
#define BL_MAX_SERIES 8	  /* learned (metric, window) series per host */
#define BL_HIST_MAX 28	  /* samples kept per series */
#define BL_NIGHT_HIST 8	  /* samples kept per hour of the day */
#define BL_MAX_BEACONS 64 /* beacon pairs per host, upper bound */
#define BL_BEACON_RING 12 /* intervals and sizes kept per pair */

struct bl_threshold {
	uint32_t window_s; /* rolling seconds or BL_WIN_* */
	uint8_t	 metric;   /* enum bl_metric */
	uint8_t	 kind;	   /* enum bl_kind */
	double	 value;	   /* absolute: the limit; learned: k */
	double	 min;	   /* learned: floor (0: metric default) */
};

struct bl_config {
	/*
	 * Table-wide: read by host_new() (and home nets again by
	 * host_reconfig()); ignored in a per-host override.
	 */
	struct cidr home[BL_MAX_HOME];
	unsigned    n_home;
	size_t	    mem_budget;		       /* bytes for all host records */
	uint32_t    windows_s[BL_MAX_WINDOWS]; /* rolling windows */
	unsigned    n_windows;
	unsigned    beacon_pairs; /* tracked pairs per host */
	uint64_t    seed;	  /* hash seed (getrandom at start) */

	/* Per host (a policy override may change all of these). */
	struct bl_threshold thr[BL_MAX_THRESH];
	unsigned	    n_thr;
	unsigned	    warmup_days;  /* samples before learned applies */
	unsigned	    history_days; /* samples the median is taken over */
	int32_t		    utc_offset_s; /* local = UTC + offset */
	uint8_t	 quiet_start_h;		  /* quiet hours [start, end), local; */
	uint8_t	 quiet_end_h;		  /* start == end: none */
	uint64_t night_upload_min;	  /* bytes per quiet hour */
	double	 normal_ratio;		  /* rolling: normal under ratio*thr */
	unsigned share_min_conns;	  /* ended convs. for a share */
	unsigned beacon_min_obs;	  /* passes in a row: periodic */
	double	 beacon_tolerance;	  /* relative period change */
	unsigned beacon_learn_days;	  /* periodic this long: known */
	unsigned beacon_min_iv;		  /* intervals seen before scoring */
	uint64_t beacon_max_period_ms;	  /* longer: not a beacon; 0 none */
};

/* The defaults: catch the obvious with no history (see baseline.c). */
void bl_config_defaults(struct bl_config *cfg);

/*
 * Validate cfg; table (may be NULL, then cfg itself) supplies the rolling
 * windows the thresholds may use.  0, or -1 with a message in err.
 */
int bl_config_check(const struct bl_config *cfg, const struct bl_config *table,
    char *err, size_t errlen);

/* Append a threshold; -1 (errno ENOSPC) when the list is full. */
int bl_config_add(struct bl_config *cfg, enum bl_metric m, uint32_t window_s,
    enum bl_kind kind, double value, double min);

const char *bl_metric_name(enum bl_metric m);
int	    bl_metric_parse(const char *s); /* -1: unknown */
const char *bl_kind_name(enum bl_kind k);   /* "absolute" ... */

/* "60s", "10m", "2h", "1d" for rolling; "hour", "day", "month". */
void bl_window_name(uint32_t window_s, char *buf, size_t len);
/* Inverse of bl_window_name (also "90", "1m30s" is not accepted). */
int bl_window_parse(const char *s, uint32_t *window_s);
int bl_window_is_rolling(uint32_t window_s);

/* Floors used when a learned threshold's min is 0, and MAD units. */
double bl_metric_default_min(enum bl_metric m);
double bl_metric_unit(enum bl_metric m);
int    bl_metric_is_share(enum bl_metric m);

/*
 * Median and median absolute deviation of n (<= BL_HIST_MAX... any n <=
 * 64) values; n == 0 gives 0 and 0.
 */
void bl_median_mad(const float *v, unsigned n, double *med, double *mad);
/* max(min, med + k * max(mad, 0.1 * med, unit)). */
double bl_learned_threshold(
    double med, double mad, double k, double min, double unit);

/*
 * RITA-like regularity score 0..100 of a pair from its last intervals (ms)
 * and sizes (bytes): 100 * (2 ts + ds) / 3 with ts = max(0, 1 - 2 MAD /
 * median) of the intervals and ds = max(0, 1 - MAD / median) of the sizes.
 * *median_iv gets the median interval (ms).  Fewer than 3 of either: 0.
 */
double bl_beacon_score(const uint32_t *iv, unsigned n_iv, const uint32_t *sz,
    unsigned n_sz, double *median_iv);

/* Local calendar from flow time (us since the epoch) and a UTC offset. */
int32_t bl_day(uint64_t ts_us, int32_t utc_offset_s);
int32_t bl_month(uint64_t ts_us, int32_t utc_offset_s);
int32_t bl_hour(uint64_t ts_us, int32_t utc_offset_s);
/* Seconds in month `month` (year * 12 + month0) as bl_month returns. */
uint32_t bl_month_seconds(int32_t month);
/* 1 when local hour of day h (0..23) is a quiet hour of cfg. */
int bl_is_quiet(const struct bl_config *cfg, unsigned h);

#endif /* SENSORD_BASELINE_H */
