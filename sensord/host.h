/*
 * host.h: the per-host table: windows, sketches, learned baselines and
 * breach detection for every address inside the home networks.
 *
 * Pure (no clock, no logging, no allocation after host_new); the only I/O
 * is host_save/host_load/host_state_quarantine for the learned state.
 * Time is flow time in microseconds, passed in.  Feed every decoded packet
 * (host_packet) and the flow engine's sink callbacks (host_conv_start,
 * host_conv_record); call host_tick once per second of flow time: it rolls
 * windows and calendar periods, evaluates the thresholds and reports every
 * breach and every return to normal through the emit callback, at most
 * 1 s of flow time after the feed that crossed a threshold.
 *
 * A host record is created when a home address *sends* (a packet, or the
 * start of a conversation it initiated): a scan of the home network
 * cannot fill the table with addresses that never answer.  When the table
 * is full a new host takes the record of the least recently seen host not
 * in breach, if that host has been silent for HOST_EVICT_IDLE_S or more;
 * otherwise the new host is not tracked (counted in n_refusals and n_refused).  A host
 * table smaller than the active home network thus keeps a stable set of
 * hosts with their learned state, instead of evicting, on every packet, a
 * host seen milliseconds ago (each eviction clears a 16 KB record, and
 * nothing would ever be learned); and spoofed home sources cannot flush
 * the baselines of the hosts that are really there.
 */
#ifndef SENSORD_HOST_H
#define SENSORD_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "baseline.h"
#include "convrec.h"
#include "decode.h"

/* A host silent this long may give its record to a new host. */
#define HOST_EVICT_IDLE_S 600

struct host_table;

/* One breach or return to normal. */
struct host_event {
	uint64_t    ts_us;	/* flow time of the decision */
	uint8_t	    addr[16];	/* the local host */
	uint8_t	    is_breach;	/* 1: "breach", 0: "normal" */
	uint8_t	    metric;	/* enum bl_metric */
	uint8_t	    basis;	/* enum bl_kind of the threshold */
	uint8_t	    has_peer;	/* beacon: peer, dport, proto valid */
	double	    value;	/* the metric now (beacon: score) */
	double	    threshold;	/* the limit it was compared with */
	uint32_t    window_s;	/* seconds: rolling length, hour 3600,
					   day 86400, month its length,
					   beacon 0 */
	uint32_t    cfg_window; /* the threshold's window (BL_WIN_*) */
	char	    window[12]; /* "10m", "hour", "day", "month", ... */
	const char *detail;	/* static text or NULL (see host.c) */
	int	    new_proto;	/* protocols: first new one, else -1 */
	uint8_t	    peer[16];	/* beacon */
	uint16_t    dport;
	uint8_t	    proto;
	double	    period_s;	    /* beacon: median interval now */
	double	    known_period_s; /* beacon: learned period, 0 if new */
};

/* Called synchronously; it must not call back into the table. */
typedef void (*host_emit_fn)(void *arg, const struct host_event *ev);

/*
 * Per-host configuration: returns the config for addr (or NULL for the
 * table's).  The pointer must stay valid until the next host_reconfig()
 * (or host_free) returns; the thresholds' rolling windows must be among
 * the table's (bl_config_check with the table config).
 */
typedef const struct bl_config *(*host_policy_fn)(
    void *arg, const uint8_t addr[16]);

struct host_info {
	uint8_t	 addr[16];
	uint64_t first_seen_us;
	uint64_t last_seen_us;
	uint32_t n_days;    /* active days learned */
	int	 in_warmup; /* n_days < warmup_days */
	uint64_t day_bytes_out;
	uint64_t day_bytes_in;
	uint64_t day_night_out;
	uint32_t day_conns;
	uint32_t day_ended;
	uint32_t day_half_open;
	uint32_t day_rejected;
	double	 day_dst_ports;
	double	 day_dst_ips;
	unsigned day_protocols;
	unsigned month_protocols;
	uint32_t breach_mask; /* bit i: threshold i in breach */
	unsigned n_beacons;   /* tracked pairs */
	unsigned n_known_beacons;
	unsigned n_alerted_beacons;
};

struct host_stats {
	uint64_t capacity;	 /* hosts the budget holds */
	uint64_t n_hosts;	 /* hosts tracked now */
	uint64_t bytes_per_host; /* record size, index included */
	uint64_t mem_bytes;	 /* records + index */
	uint64_t n_created;
	uint64_t n_evicted;	   /* table full */
	uint64_t n_evicted_breach; /* ...while in breach */
	uint64_t n_refusals; /* packets/conversations of a host not tracked */
	uint64_t n_refused;  /* distinct such hosts (HLL estimate) */
	uint64_t n_beacon_evicted; /* pairs replaced */
	uint64_t n_beacon_dropped; /* pairs not admitted */
	uint64_t n_breach;	   /* events emitted */
	uint64_t n_normal;
	uint64_t n_loaded; /* hosts restored by host_load */
};

/*
 * A table sized from cfg->mem_budget; cfg is copied (table-wide fields:
 * home nets, budget, rolling windows, beacon pairs, seed; and the per-host
 * defaults).  NULL with errno EINVAL (bad config, message in err) or
 * ENOMEM.  Fewer than 16 hosts in the budget is EINVAL.
 */
struct host_table *host_new(
    const struct bl_config *cfg, char *err, size_t errlen);
void host_free(struct host_table *ht);

/* Per-host configs for hosts created from now on (fn NULL: the table's). */
void host_set_policy(struct host_table *ht, host_policy_fn fn, void *arg);

/*
 * After a policy reload: cfg replaces the table's per-host defaults and
 * home networks (windows, budget and beacon pairs stay as created), fn
 * gives every host its config again.  Hosts keep their state; learned
 * history follows (metric, window).  A breach whose threshold is gone
 * ends with a "normal" event (emit may be NULL).  The old configs must
 * still be valid during the call.  0, or -1 (EINVAL, message in err).
 */
int host_reconfig(struct host_table *ht, const struct bl_config *cfg,
    host_policy_fn fn, void *arg, uint64_t now_us, host_emit_fn emit,
    void *emit_arg, char *err, size_t errlen);

/* Feeding (flow time now_us). */
void host_packet(
    struct host_table *ht, const struct pktinfo *pi, uint64_t now_us);
void host_conv_start(
    struct host_table *ht, const struct convrec *cr, uint64_t now_us);
void host_conv_record(
    struct host_table *ht, const struct convrec *cr, uint64_t now_us);

/* Once per second of flow time. */
void host_tick(
    struct host_table *ht, uint64_t now_us, host_emit_fn emit, void *arg);

/* Queries. */
int host_is_local(const struct host_table *ht, const uint8_t addr[16]);
/* 0 and *out filled, or -1 (ENOENT) when the host is not tracked. */
int host_info(
    const struct host_table *ht, const uint8_t addr[16], struct host_info *out);
/*
 * The threshold that applies now to (metric, window, kind) of a host:
 * 1 and *thr when active, 0 when not (warm-up, shares without enough
 * conversations do not matter here), -1 (ENOENT) for an unknown host or a
 * threshold its config does not have.
 */
int  host_threshold(const struct host_table *ht, const uint8_t addr[16],
     enum bl_metric m, uint32_t window_s, enum bl_kind kind, double *thr);
void host_get_stats(const struct host_table *ht, struct host_stats *st);

/* Up to max tracked hosts' addresses (any order); returns how many. */
size_t host_list(const struct host_table *ht, uint8_t (*out)[16], size_t max);

/* One configured threshold of a host, as sensorctl hosts shows it. */
struct host_thr_view {
	uint8_t	 metric;    /* enum bl_metric */
	uint8_t	 kind;	    /* enum bl_kind */
	uint32_t window_s;  /* as in bl_threshold */
	int	 has_value; /* value defined now */
	double	 value;
	int	 active; /* threshold in force (not warm-up) */
	double	 threshold;
	int	 in_breach;
};
/* The host's thresholds with their current values; 0 when unknown. */
size_t host_thresholds(const struct host_table *ht, const uint8_t addr[16],
    struct host_thr_view *out, size_t max);
/* Bytes one host record takes for cfg (record + index share). */
size_t host_record_bytes(const struct bl_config *cfg);

/*
 * Learned state (daily histories, known beacons, night profile; not the
 * rolling windows or today's counters) to a versioned, CRC-protected
 * file written atomically (path.tmp, fsync, rename, fsync of the
 * directory).  0, or -1 with errno and a message naming the file.
 */
int host_save(const struct host_table *ht, const char *path, uint64_t now_us,
    char *err, size_t errlen);
/*
 * Restore a saved state into the table.  All or nothing: the whole file
 * is validated before anything is applied.  -1 with errno ENOENT (no
 * file: start learning), or EINVAL (corrupt or incompatible: the message
 * names the file and the problem; move it aside with
 * host_state_quarantine), or another errno for I/O errors.
 */
int host_load(struct host_table *ht, const char *path, uint64_t now_us,
    char *err, size_t errlen);
/* The same from memory; name is used in messages (fuzzing, tests). */
int host_load_mem(struct host_table *ht, const uint8_t *buf, size_t len,
    const char *name, uint64_t now_us, char *err, size_t errlen);
/*
 * Rename path to path.corrupt-YYYYMMDDTHHMMSSZ (wall time now_us; -N
 * added if taken), never replacing or deleting anything.  The new name is
 * written to newpath.  0, or -1 with errno.
 */
int host_state_quarantine(
    const char *path, uint64_t now_us, char *newpath, size_t newlen);

#endif /* SENSORD_HOST_H */
