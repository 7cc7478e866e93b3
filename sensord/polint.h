/*
 * polint.h: internals shared by policy.c (load, merge, checks, lookup),
 * polparse.c (lexer, thresholds, built-in layer), polkeys.c (key table,
 * typed settings), polval.c (values) and polprint.c (canonical output).
 * Not for other modules: they use policy.h.
 */
#ifndef SENSORD_POLINT_H
#define SENSORD_POLINT_H

#include <stdint.h>

#include "policy.h"

enum pol_sect {
	PS_NONE, /* before the first section line */
	PS_GLOBAL,
	PS_FLOWS,
	PS_EXPORT,
	PS_CAPTURE,
	PS_DETECT,
	PS_ABSOLUTE,
	PS_LEARNED,
	PS_BEACON,
	PS_HOST,
	PS_COUNT
};

enum pol_type {
	PT_DURATION,  /* uint64_t ms */
	PT_SIZE,      /* uint64_t bytes */
	PT_COUNT,     /* uint32_t */
	PT_PERCENT,   /* uint32_t basis points */
	PT_DECIMAL,   /* uint32_t x100 */
	PT_BOOL,      /* int */
	PT_PATH,      /* char[]: absolute path */
	PT_USER,      /* char[]: user name or "" */
	PT_FILTER,    /* char[]: BPF expression */
	PT_TSTAMP,    /* enum pol_tstamp */
	PT_UTCOFF,    /* int32_t seconds */
	PT_TIMERANGE, /* struct pol_timerange */
	PT_NETS,      /* struct pol_nets */
	PT_IFACES,    /* struct pol_ifaces */
	PT_TARGETS,   /* struct pol_targets */
	PT_WINDOWS,   /* struct pol_windows */
	PT_ADDRESS,   /* struct cidr */
	PT_NAME	      /* char[]: host name */
};

enum pol_scope { PSC_GLOBAL, PSC_HOST };

/* Every key; the order of polparse.c's table. */
enum pol_key_id {
	K_STATE_DIR,
	K_HOME_NETS,
	K_INTERFACES,
	K_PCAP_BUFFER,
	K_USER,
	K_CONTROL_SOCKET,
	K_UTC_OFFSET,
	K_HOST_TABLE_MEMORY,
	K_BASELINE_SAVE_INTERVAL,
	K_IDLE_TIMEOUT,
	K_ACTIVE_TIMEOUT,
	K_EMBRYONIC_TIMEOUT,
	K_CLOSING_TIMEOUT,
	K_TABLE_MEMORY,
	K_LOG_FILE_SIZE,
	K_LOG_ROTATE_INTERVAL,
	K_LOG_RETENTION,
	K_LOG_FLUSH_INTERVAL,
	K_SAMPLING,
	K_TARGETS,
	K_TEMPLATE_REFRESH,
	K_OBSERVATION_DOMAIN,
	K_IPFIX_BIFLOW,
	K_MAX_RATE,
	K_GLOBAL_CAP,
	K_MIN_FREE,
	K_MAX_ESCALATED,
	K_PRETRIGGER_MEMORY,
	K_QUEUE_MEMORY,
	K_CAP_ENABLED,
	K_DURATION,
	K_MAX_DURATION,
	K_COOLDOWN,
	K_SNAPLEN,
	K_FILE_SIZE,
	K_ROTATE_INTERVAL,
	K_HOST_CAP,
	K_COMPRESSION,
	K_PRETRIGGER,
	K_PRETRIGGER_TIME,
	K_PRETRIGGER_SIZE,
	K_FILTER,
	K_TIMESTAMPS,
	K_WARMUP,
	K_WINDOWS,
	K_LEARN_K,
	K_QUIET_HOURS,
	K_NIGHT_UPLOAD_MIN,
	K_BEACON_ENABLED,
	K_MIN_SCORE,
	K_MIN_OBSERVATIONS,
	K_MAX_PERIOD,
	K_KNOWN_TTL,
	K_ADDRESS,
	K_NAME,
	K_COUNT
};

struct pol_key {
	enum pol_sect  sect;
	const char    *name;
	enum pol_type  type;
	enum pol_scope scope;	  /* struct pol_global or pol_host */
	size_t	       off, size; /* the field in that struct */
	uint64_t       min, max;  /* native units; per item for lists */
	const char    *dflt;	  /* built-in default as written; NULL */
};

extern const struct pol_key pol_keys[K_COUNT];
extern const char *const    pol_sect_names[PS_COUNT];

/* A threshold with the place that set it. */
enum pol_src_level { PL_BUILTIN, PL_DEFAULT, PL_HOST };

struct pol_tent {
	enum pol_kind	   kind;
	enum pol_metric	   metric;
	uint32_t	   window_s;
	uint64_t	   value; /* 0: disabled */
	enum pol_src_level src;
	uint32_t	   line;
};

#define POL_FILE_THR_MAX 200 /* thresholds in one file */
#define POL_TSET_MAX 512     /* built-in + default + host, merged */

struct pol_tset {
	size_t		n;
	struct pol_tent v[POL_TSET_MAX];
};

/* Error collection for one load (policy.c). */
struct pol_ectx {
	struct perrs *errs;
	size_t	      n;    /* problems found, stored or not */
	int	      full; /* POL_MAX_ERRORS reached: stop */
	char	      full_file[POL_PATH_MAX];
};

void pol_err(struct pol_ectx *, const char *file, uint32_t line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The state of parsing one file (polparse.c). */
struct pol_pfile {
	/* set by the caller */
	const char	  *path; /* in messages */
	int		   is_host;
	unsigned	   flags; /* POL_NO_FILTER_COMPILE */
	struct pol_ectx	  *ec;
	struct pol_global *g; /* NULL for a host file */
	struct pol_host	  *h;
	enum pol_src_level level; /* of thresholds found here */
	/* results */
	uint32_t	line[K_COUNT]; /* where set in this file; 0: not */
	uint8_t		bad[K_COUNT];  /* set, but the value was refused */
	struct pol_tset thr;	       /* thresholds set in this file */
	/* lexer state */
	enum pol_sect sect;
	int	      skip; /* in a refused section */
	uint32_t      sect_line[PS_COUNT];
};

/* Room for a value's message inside a struct perr msg. */
#define POL_ERRLEN 200

void pol_pfile_init(struct pol_pfile *, const char *path, int is_host,
    unsigned flags, struct pol_ectx *, struct pol_global *, struct pol_host *,
    enum pol_src_level);
void pol_parse_file(struct pol_pfile *, const char *buf, size_t len);
/* Apply the built-in defaults (every key with a dflt, and thresholds). */
void pol_apply_builtin(struct pol_pfile *);
/*
 * Parse s as key k's value and store it in pf's struct; -1 with a message
 * (nothing stored) otherwise.
 */
int pol_set_value(struct pol_pfile *, const struct pol_key *, const char *s,
    char *err, size_t errlen);
/* Types whose value may be written in double quotes. */
int pol_type_quotable(enum pol_type);
/* A rolling window: whole seconds, 10s..1h. */
int pol_parse_window_s(const char *s, uint32_t *sec, char *err, size_t errlen);
/* The value of a threshold (count, size, percentage or k); 0 disables. */
int pol_parse_thr_value(enum pol_kind, enum pol_metric, const char *s,
    uint64_t *v, char *err, size_t errlen);
static inline int
pol_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* s, or its first 37 bytes and "..." in buf when longer than 40. */
const char *pol_clip(const char *s, char *buf, size_t size);
/* Order of networks: address bytes, then prefix length. */
int pol_cidr_cmp(const struct cidr *, const struct cidr *);
/* A host name: letters, digits, '.', '_', '-'; not hidden; < 64. */
int pol_valid_name(const char *);
/* Text of a key's current value, as pol_print writes it. */
void pol_fmt_key(enum pol_key_id, const struct pol_global *,
    const struct pol_host *, char *buf, size_t size);
/* Duration and size keys as a number, for cross-checks. */
uint64_t pol_key_u64(
    enum pol_key_id, const struct pol_global *, const struct pol_host *);
/* The text of one threshold value ("500", "80%", "3.5"). */
void pol_fmt_thr_value(
    enum pol_kind, enum pol_metric, uint64_t value, char *buf, size_t size);

/* The built-in default host policy (policy.c), for polprint.c. */
const struct pol_host *pol_builtin(const struct policy *);

#endif /* SENSORD_POLINT_H */
