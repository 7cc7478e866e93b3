/*
 * policy.h: the policy directory (default.conf and hosts/NAME.conf), parsed,
 * validated and merged into an immutable snapshot.
 *
 * The daemon loads a snapshot with pol_load(), reads the global settings
 * with pol_global() and links each host to pol_lookup(addr), the merged
 * policy of the most specific host file that matches it (the default when
 * none does).  A reload parses a new snapshot and swaps it; a bad one is
 * refused as a whole and the old one stays (STYLE.md §5, §6).
 *
 * Every struct here is plain data, named after the policy keys it holds
 * (FORMAT.md), with the unit in the name:
 *	*_ms	durations in milliseconds
 *	*_bytes	sizes in bytes
 *	*_bp	percentages in basis points (60% = 6000, 100% = 10000)
 *	*_x100	decimals times 100 (k = 3.5 is 350)
 * Booleans are ints (0 or 1); lists are a count and a fixed array, sorted
 * as pol_print() prints them.
 */
#ifndef SENSORD_POLICY_H
#define SENSORD_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define POL_MAX_HOME_NETS 64
#define POL_MAX_IFACES 32
#define POL_IFNAME_MAX 16 /* IFNAMSIZ, with the NUL */
#define POL_MAX_TARGETS 8
#define POL_MAX_WINDOWS 4
#define POL_PATH_MAX 256	   /* state_dir, with the NUL */
#define POL_SOCK_PATH_MAX 108	   /* sizeof(sun_path), with the NUL */
#define POL_USER_MAX 33		   /* 32 characters, as useradd(8) */
#define POL_NAME_MAX 64		   /* host name, with the NUL */
#define POL_FILTER_MAX 1024	   /* BPF expression, with the NUL */
#define POL_LINE_MAX 1024	   /* bytes in one line, without '\n' */
#define POL_FILE_MAX (1024 * 1024) /* bytes in one file */
#define POL_MAX_HOST_FILES 10000
#define POL_MAX_ERRORS 100 /* then one "too many errors" line */

/* Calendar windows of a threshold; rolling windows are 10..3600 s. */
#define POL_WIN_DAY 0xfffffffeU	  /* local calendar day */
#define POL_WIN_MONTH 0xffffffffU /* local calendar month */

/* Metrics, in the alphabetical order of their names. */
enum pol_metric {
	POL_M_BYTES_IN,
	POL_M_BYTES_OUT,
	POL_M_CONNS,
	POL_M_DST_IPS,
	POL_M_DST_PORTS,
	POL_M_HALF_OPEN,
	POL_M_HALF_OPEN_SHARE,
	POL_M_NIGHT_BYTES_OUT,
	POL_M_PROTOCOLS,
	POL_M_REJECTED,
	POL_M_REJECTED_SHARE,
	POL_M_COUNT
};

enum pol_kind {
	POL_ABSOLUTE, /* fixed limit, from the first packet */
	POL_LEARNED   /* after warm-up: max(floor, median + k * MAD) */
};

/*
 * One threshold of a host.  value is, for POL_ABSOLUTE, a count
 * (dst_ports, dst_ips, protocols, conns, half_open, rejected), bytes
 * (bytes_in, bytes_out, night_bytes_out) or basis points (*_share); for
 * POL_LEARNED, k * 100.  value is never 0 here: a 0 in a file disables the
 * threshold and removes it from the merged host policy.  The window of a
 * threshold is always one of the host's [detect] windows, or day or month.
 */
struct pol_threshold {
	enum pol_kind	kind;
	enum pol_metric metric;
	uint32_t	window_s; /* rolling seconds, POL_WIN_DAY/MONTH */
	uint64_t	value;
};
#define POL_MAX_THRESHOLDS (2 * POL_M_COUNT * (POL_MAX_WINDOWS + 2))

enum pol_xp_proto { POL_XP_NETFLOW5, POL_XP_NETFLOW9, POL_XP_IPFIX };
enum pol_tstamp { POL_TS_USEC, POL_TS_NSEC };

struct pol_export_target {
	enum pol_xp_proto proto;
	uint8_t		  addr[16]; /* IPv4-mapped for IPv4 */
	uint16_t	  port;	    /* host order, 1..65535 */
};

struct pol_timerange {	    /* spans midnight when end < start */
	uint16_t start_min; /* minutes after local midnight */
	uint16_t end_min;   /* 0..1440; never equal to start */
};

struct pol_nets {
	int	    is_auto; /* home_nets = auto: local addresses */
	size_t	    n;	     /* 0 when is_auto */
	struct cidr v[POL_MAX_HOME_NETS]; /* sorted, no overlaps */
};

struct pol_ifaces {
	size_t n; /* 0 = every interface (libpcap any) */
	char   v[POL_MAX_IFACES][POL_IFNAME_MAX]; /* sorted */
};

struct pol_targets {
	size_t			 n;
	struct pol_export_target v[POL_MAX_TARGETS]; /* sorted */
};

struct pol_windows {
	size_t	 n;		     /* 1..POL_MAX_WINDOWS */
	uint32_t s[POL_MAX_WINDOWS]; /* seconds, ascending */
};

/* [flows] */
struct pol_flows {
	uint64_t idle_timeout_ms;
	uint64_t active_timeout_ms;
	uint64_t embryonic_timeout_ms;
	uint64_t closing_timeout_ms;
	uint64_t table_memory_bytes;
	uint64_t log_file_size_bytes;
	uint64_t log_rotate_interval_ms;
	uint64_t log_retention_bytes;
	uint64_t log_flush_interval_ms;
	uint32_t sampling; /* 1-in-N packets, 1 = all */
};

/* [export] */
struct pol_export {
	struct pol_targets targets;
	uint64_t	   template_refresh_ms;
	uint32_t	   observation_domain;
	int		   ipfix_biflow;
	uint32_t	   max_rate; /* records per second */
};

/* [capture], the keys only default.conf may set */
struct pol_capture_global {
	uint64_t global_cap_bytes;
	uint64_t min_free_bytes;
	uint32_t max_escalated;
	uint64_t pretrigger_memory_bytes;
	uint64_t queue_memory_bytes;
};

/* [global] and the other global sections. */
struct pol_global {
	char		  state_dir[POL_PATH_MAX];
	struct pol_nets	  home_nets;
	struct pol_ifaces interfaces;
	uint64_t	  pcap_buffer_bytes;
	char		  user[POL_USER_MAX]; /* "" = do not switch user */
	char		  control_socket[POL_SOCK_PATH_MAX];
	int32_t		  utc_offset_s; /* -43200..50400 */
	uint64_t	  host_table_memory_bytes;
	uint64_t	  baseline_save_interval_ms;
	struct pol_flows  flows;
	struct pol_export export;
	struct pol_capture_global capture;
};

/* [capture], the keys a host file may set */
struct pol_capture {
	int		enabled; /* 0: never captured (privacy) */
	uint64_t	duration_ms;
	uint64_t	max_duration_ms;
	uint64_t	cooldown_ms;
	uint32_t	snaplen;
	uint64_t	file_size_bytes;
	uint64_t	rotate_interval_ms;
	uint64_t	host_cap_bytes;
	uint32_t	compression; /* zlib level 0..9 */
	int		pretrigger;
	uint64_t	pretrigger_time_ms;
	uint64_t	pretrigger_size_bytes;
	char		filter[POL_FILTER_MAX]; /* "" = no filter */
	enum pol_tstamp timestamps;
};

/* [detect] */
struct pol_detect {
	uint64_t	     warmup_ms;
	struct pol_windows   windows;
	uint32_t	     learn_k_x100;
	struct pol_timerange quiet_hours;
	uint64_t	     night_upload_min_bytes;
};

/* [beacon] */
struct pol_beacon {
	int	 enabled;
	uint32_t min_score_bp;
	uint32_t min_observations;
	uint64_t max_period_ms;
	uint64_t known_ttl_ms;
};

/*
 * The effective policy of a host file (the default overlaid with it), or
 * of the default itself (is_default, net ::/0, name "default").
 */
struct pol_host {
	char	    name[POL_NAME_MAX];
	char	    file[POL_PATH_MAX]; /* "hosts/mail.conf", "default.conf" */
	struct cidr net;
	int	    is_default;
	struct pol_capture   capture;
	struct pol_detect    detect;
	struct pol_beacon    beacon;
	size_t		     n_thr;
	struct pol_threshold thr[POL_MAX_THRESHOLDS]; /* kind, metric, window */
};

/* Problems found in one load, in file and line order. */
struct perr {
	char file[POL_PATH_MAX]; /* path as opened */
	int  line;		 /* 0: the file as a whole */
	char msg[256];
};

struct perrs {
	struct perr *v;
	size_t	     n, cap;
};

/* A policy file in memory, for pol_load_mem() (tests, fuzzing). */
struct pol_src {
	const char *path; /* named in errors; host: "x/hosts/a.conf" */
	const char *buf;
	size_t	    len;
};

/* pol_load_mem() flags */
#define POL_NO_FILTER_COMPILE 0x1 /* skip pcap_compile (fuzzing) */

struct policy;

/*
 * Load DIR/default.conf and DIR/hosts/[!.]*.conf.  NULL when anything is
 * wrong (every problem, up to POL_MAX_ERRORS, in errs; errno EINVAL, or
 * ENOMEM).  errs is the caller's, zero-initialised; free it with
 * perrs_free() either way.
 */
struct policy *pol_load(const char *dir, struct perrs *errs);
/* The same from memory: src[0] is default.conf, src[1..n-1] host files. */
struct policy *pol_load_mem(
    const struct pol_src *src, size_t n, unsigned flags, struct perrs *errs);
void pol_free(struct policy *);

const struct pol_global *pol_global(const struct policy *);
const struct pol_host	*pol_default(const struct policy *);
/* Most specific host file matching addr (IPv4-mapped), else the default. */
const struct pol_host *pol_lookup(
    const struct policy *, const uint8_t addr[16]);
/* Host files in print order (by address, then prefix length). */
size_t		       pol_n_hosts(const struct policy *);
const struct pol_host *pol_host_at(const struct policy *, size_t i);

/* Canonical text: the default block, then one block per host file. */
void pol_print(const struct policy *, FILE *);
/* One block alone; each parses back as default.conf or a host file. */
void pol_print_default(const struct policy *, FILE *);
void pol_print_host(const struct policy *, const struct pol_host *, FILE *);

void perrs_free(struct perrs *);
/* Append one problem found outside the parser (e.g. by an engine). */
int perrs_add(struct perrs *, const char *file, int line, const char *msg);
/* "file:line: message" lines ("file: message" when line is 0). */
void perrs_print(const struct perrs *, FILE *);

/*
 * Value parsers and canonical formatters, shared with sensorctl (e.g.
 * `escalate host --for 30m`) and the unit tests.  Parsers take the whole
 * value, return 0, or -1 with a message (no key name) in err.
 */
int pol_parse_count(const char *s, uint64_t *n, char *err, size_t errlen);
int pol_parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen);
int pol_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen);
int pol_parse_percent(const char *s, uint32_t *bp, char *err, size_t errlen);
int pol_parse_decimal(const char *s, uint32_t *x100, char *err, size_t errlen);
int pol_parse_bool(const char *s, int *b, char *err, size_t errlen);
int pol_parse_timerange(
    const char *s, struct pol_timerange *tr, char *err, size_t errlen);
int pol_parse_utc_offset(const char *s, int32_t *sec, char *err, size_t errlen);
int pol_parse_target(
    const char *s, struct pol_export_target *t, char *err, size_t errlen);
/*
 * Split a comma-separated list into at most max items of less than
 * itemsz bytes each, trimmed of blanks; "" is the empty list.
 */
int pol_list_split(const char *s, char *items, size_t itemsz, size_t max,
    size_t *n, char *err, size_t errlen);

void pol_fmt_duration(uint64_t ms, char *buf, size_t size);
void pol_fmt_size(uint64_t bytes, char *buf, size_t size);
void pol_fmt_percent(uint32_t bp, char *buf, size_t size);
void pol_fmt_decimal(uint32_t x100, char *buf, size_t size);
void pol_fmt_timerange(const struct pol_timerange *tr, char *buf, size_t size);
void pol_fmt_utc_offset(int32_t sec, char *buf, size_t size);
void pol_fmt_target(const struct pol_export_target *t, char *buf, size_t size);
/* "10m", "day", "month" */
void	    pol_fmt_window(uint32_t window_s, char *buf, size_t size);
const char *pol_metric_name(enum pol_metric);

#endif /* SENSORD_POLICY_H */
