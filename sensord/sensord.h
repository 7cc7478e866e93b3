/*
 * sensord.h: the one top-level context of the daemon, shared by the
 * start-up code (sensord.c), the packet path (pipeline.c), offline replay
 * (replay.c) and the end-of-run summary (summary.c).
 */
#ifndef SENSORD_SENSORD_H
#define SENSORD_SENSORD_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "control.h"
#include "decode.h"
#include "escalate.h"
#include "events.h"
#include "host.h"
#include "polmap.h"
#include "pretrig.h"
#include "writer.h"
#include "export.h"
#include "flowlog.h"
#include "flowtab.h"
#include "policy.h"
#include "util.h"

#define SD_MAX_INPUTS 64    /* -r files or -i interfaces */
#define SD_MAX_EXPORT 8	    /* flow export targets */
#define SD_MAX_HOME 32	    /* --home-net prefixes */
#define SD_MAX_AUTO_NETS 64 /* home_nets = auto: prefixes kept */
#define SD_BATCH 64	    /* packets metered per ft_packet_batch() */

/* Exit codes (documented in sensord(8) and --help). */
#define SD_EXIT_OK 0
#define SD_EXIT_USAGE 1	  /* bad command line or policy */
#define SD_EXIT_INPUT 2	  /* a capture file or interface failed */
#define SD_EXIT_RUNTIME 3 /* state directory, memory, ... */

/* Protocol buckets of the summary. */
enum sd_proto {
	SD_P_TCP,
	SD_P_UDP,
	SD_P_ICMP,
	SD_P_ICMP6,
	SD_P_SCTP,
	SD_P_OTHER,
	SD_P__COUNT
};

struct sd_counters {
	uint64_t n_pkts;	/* frames seen */
	uint64_t n_wire_bytes;	/* their wire lengths */
	uint64_t n_ip_pkts;	/* frames with an IP header metered */
	uint64_t n_ip_bytes;	/* IP-layer bytes metered */
	uint64_t n_sampled_out; /* skipped by 1-in-N sampling */
	uint64_t n_v4, n_v6;
	uint64_t n_dec[DEC__COUNT];
	uint64_t n_proto[SD_P__COUNT];
	uint64_t n_ticks;
	uint64_t n_breaches;
};

struct sd_options {
	const char *inputs[SD_MAX_INPUTS]; /* -r files */
	size_t	    n_inputs;
	const char *ifaces[SD_MAX_INPUTS]; /* -i interfaces */
	size_t	    n_ifaces;
	const char *state_dir;
	const char *policy_dir;
	int	    policy_dir_given;
	int	    check_only;	  /* -n */
	int	    verbose;	  /* -v */
	int	    summary_json; /* --summary json */
	uint32_t    sample_n;	  /* --sample N, 1 = off */
	int	    sample_given;
	const char *exports[SD_MAX_EXPORT]; /* --export */
	size_t	    n_exports;
	struct cidr home[SD_MAX_HOME]; /* --home-net */
	size_t	    n_home;
	/* Live, started as root: switch to this user; NULL or "": stay. */
	const char *user;    /* --user, policy user */
	const char *control; /* --control PATH */
};

struct sd_watch {
	uint8_t	 addr[16];
	uint32_t slot; /* pretrig slot, or UINT32_MAX */
	uint8_t	 used;
};

struct sensord {
	struct sd_options	 opt;
	int			 is_live;
	struct policy		*pol; /* immutable; swapped on reload */
	const struct pol_global *g;   /* pol_global(pol) */
	struct polmap		*pm;  /* pol, translated */
	struct host_table	*ht;
	struct events		*ev;
	struct esc_table	*esc;
	int			 ev_err_state;	    /* log_state() */
	int			 hosts_full_logged; /* once per run */
	uint64_t		 seed64;	    /* host hash seed */
	uint64_t		 last_save_us; /* baseline saved (flow time) */
	uint64_t		 started_us;   /* wall clock at start */
	uint64_t		 pps; /* packets/s over the last tick */
	uint64_t		 pps_last_pkts;
	struct ctl_server	*ctl; /* live: control socket */

	/* Escalated capture (capwire.c). */
	struct writer	   *wr;
	struct bpf_program *filters; /* per capture slot */
	uint8_t		   *has_filter;
	struct pretrig	   *pt;	       /* NULL: no policy wants it */
	struct sd_watch	   *watch;     /* address -> pretrig slot */
	size_t		    watch_cap; /* power of two */
	uint32_t	    watch_used;
	uint32_t	    watch_max;
	struct flowtab	   *ft;
	struct flowlog	   *fl;
	struct xp_config    xpcfg[SD_MAX_EXPORT];
	struct exporter	   *xp[SD_MAX_EXPORT];
	size_t		    n_xp;
	int		    xp_started;
	struct sd_counters  c;
	int		    dlt;	  /* link type of the input */
	uint8_t		    iface;	  /* index of the current input */
	uint64_t	    now_us;	  /* flow clock (monotone) */
	uint64_t	    next_tick_us; /* next 1 s boundary */
	uint64_t	    first_us;	  /* first packet time seen */
	uint32_t	    sample_ctr;
	struct pktinfo	    batch[SD_BATCH]; /* decoded, not metered */
	size_t		    n_batch;
	uint8_t		    batch_iface;
	double		    elapsed_s;	    /* wall time of the replay */
	double		    metering_cpu_s; /* CPU time of the packet thread */

	/* Live mode. */
	struct capture	      caps[SD_MAX_INPUTS];
	int		      cap_state[SD_MAX_INPUTS]; /* logged state */
	size_t		      n_caps;
	struct capture_config capcfg;
	struct ifmon	     *ifmon;
	int		      sigfd; /* from sd_live_init */
	/*
	 * home_nets = auto: the prefixes configured on the capture
	 * interfaces, refreshed by the live loop before each
	 * sd_ifaces_changed(); auto_nets_gen is bumped when they change.
	 */
	struct cidr auto_nets[SD_MAX_AUTO_NETS];
	size_t	    n_auto_nets;
	uint64_t    auto_nets_gen;
	uint64_t    auto_nets_seen; /* gen applied */
};

/* pipeline.c: the packet path, the record sinks and the 1 Hz tick. */
void sd_ft_sink(struct sensord *sd, struct ft_sink *sink);
/* Flow time starts (first packet offline, start-up live): exporters open. */
void sd_clock_start(struct sensord *sd, uint64_t first_us);
void sd_packet(struct sensord *sd, const uint8_t *pkt, uint32_t caplen,
    uint32_t wirelen, uint64_t ts_ns);
void sd_tick(struct sensord *sd, uint64_t now_us);
/* Meter the decoded packets still waiting in the batch. */
void sd_batch_flush(struct sensord *sd);
void sd_flush(struct sensord *sd, enum end_reason why);

/* replay.c: offline replay of pcap/pcapng files; returns an exit code. */
int sd_replay(struct sensord *sd);

/*
 * live.c: privileged start-up (signals blocked, captures opened, state
 * directory given to opt.user, privileges dropped; before any thread
 * exists; fatal on failure), then the live event loop (returns an exit
 * code).
 */
void sd_live_init(struct sensord *sd);
int  sd_live(struct sensord *sd);
void sd_log_stats(struct sensord *sd);

/* sensord.c: reload the policy (SIGHUP); interfaces or addresses changed. */
void sd_reload(struct sensord *sd);
int  sd_reload_policy(struct sensord *sd, struct perrs *errs);
/* A new policy snapshot is in force: re-link hosts, detectors, capture. */
void sd_policy_applied(struct sensord *sd);
void sd_ifaces_changed(struct sensord *sd);

/* detect.c: breach -> events -> escalation; manual requests. */
void sd_host_event(void *arg, const struct host_event *he);
void sd_esc_tick(struct sensord *sd);
void sd_esc_stop_all(struct sensord *sd);
int  sd_escalate_manual(struct sensord *sd, const uint8_t addr[16],
     uint64_t for_us, uint32_t uid, const char *why, char *msg, size_t msglen);
int  sd_release_manual(struct sensord *sd, const uint8_t addr[16], uint32_t uid,
     char *msg, size_t msglen);
/* capwire.c: escalation events become capture commands. */
void sd_capture_setup(struct sensord *sd);
void sd_capture_teardown(struct sensord *sd);
void sd_capture_event(
    struct sensord *sd, const struct esc_event *ev, uint64_t event_id);
void sd_capture_packet(struct sensord *sd, const struct pktinfo *pi,
    const uint8_t *pkt, uint32_t caplen, uint32_t wirelen, uint64_t ts_ns);
void sd_capture_tick(struct sensord *sd);
void sd_capture_drain_events(struct sensord *sd);

/* ctlsrv.c: the control socket's requests (ctl_handler_fn). */
struct ctl_peer;
struct ctlp_msg;
struct ctl_reply;
void sd_ctl_handle(void *arg, const struct ctl_peer *peer,
    const struct ctlp_msg *req, struct ctl_reply *rep);

/* summary.c: what a replay saw, as text or one JSON object. */
void sd_summary(const struct sensord *sd, int as_json);

#endif /* SENSORD_SENSORD_H */
