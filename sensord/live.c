/*
 * live.c: live capture: the privileged start-up and the event loop.
 *
 * Start-up (sd_live_init, before any thread exists): block the signals we
 * read from a signalfd, open every configured interface that is up, then
 * give the state directory to the configured user and become that user
 * with CAP_NET_RAW alone (privdrop.c).  Nothing else that needs root
 * happens later: reopening a capture needs only CAP_NET_RAW.  Doing it
 * before the flow log's writer thread starts matters twice: credentials
 * are per thread in the kernel, and files that thread creates must belong
 * to the user.
 *
 * The loop: one poll(2) over a small fd table: the signalfd (TERM/INT
 * stop, HUP reload, USR1 stats line), a 1 Hz CLOCK_MONOTONIC timerfd, the
 * netlink socket of ifmon, and one pcap fd per open interface.  No work
 * happens in signal handlers (there are none).  Each round reads signals,
 * then netlink (so a link that went down is known before its capture's
 * read fails), then up to LIVE_BUDGET packets per interface, then the
 * tick when the timer fired.
 *
 * Interfaces come and go.  Each configured interface has one logged state
 * (enum live_if): capturing, gone, down, up without carrier, open failed,
 * read failed.  On start, on every netlink change and on every tick the
 * loop compares what should be open with what is, opens or closes, and
 * logs only when the state changes: a link that goes down logs one line
 * and one more when capture resumes, however many netlink messages and
 * read errors the change causes.  A read error closes the handle at once
 * and the next tick decides what it was: a link netlink now reports down
 * or gone logs just that; a link still up (a driver reset, or no ifmon)
 * logs the error, at most once a minute per interface, and reopens.  A
 * failed open is retried after 1, 2, 4 ... 64 s.
 *
 * Time: packets carry their own time; on a quiet link the tick moves the
 * flow clock to the wall clock minus LIVE_LAG_US (a packet waits in the
 * kernel's ring at most one block timeout, 100 ms), so idle timeouts and
 * escalation deadlines fire on time with no traffic at all.  The tick
 * moves the clock only when every ring was drained in that round: when
 * we are behind, the packets' own times drive the ticks, so a backlog is
 * never judged idle.  XXX a wall clock stepped backwards stalls expiry
 * until it catches up (flow time never goes back).
 *
 * Cost: one poll and one pcap_dispatch per interface per round of up to
 * LIVE_BUDGET packets; the tick does bounded work (the flow table reaps
 * a bounded number of records, the flow log hands off one chunk).
 * Measured (tests/integ/live_load.sh, 2 shared cores, -O2): about 1.1 us
 * of CPU per packet (kernel time included) over 10k conversations from
 * 10k home hosts, 4175 of them with a baseline (the default host table;
 * the rest refused), i.e. ~0.9M packets per CPU second, the loop
 * included; the 64 MiB ring holds ~395k 60-byte frames, about 2 s at
 * 200k pps.  A conversation idle on a quiet link reaches
 * the flow log 30 s (idle) + <= 1.3 s (tick, lag) + <= 2 s (flush
 * interval) after its last packet: 31.8 s measured (live_e2e.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "control.h"
#include "ifmon.h"
#include "log.h"
#include "privdrop.h"
#include "sdnotify.h"
#include "sensord.h"

#define LIVE_BUDGET 512	   /* packets per interface per poll round */
#define LIVE_LAG_US 300000 /* how far the tick trails the wall clock */
#define LIVE_RDERR_QUIET_US (60 * UINT64_C(1000000))
#define LIVE_STATUS_S 10 /* STATUS= refresh for systemctl status */
/* Stop: longest read of the ring's backlog (systemd allows 60 s). */
#define LIVE_DRAIN_MAX_US (10 * UINT64_C(1000000))

enum { PFD_SIG, PFD_TIMER, PFD_NETLINK, PFD_CAP0 };

/* The logged state of one configured interface (sd->cap_state[i]). */
enum live_if {
	LIF_NEW, /* nothing logged yet */
	LIF_CAPTURING,
	LIF_GONE,
	LIF_DOWN,
	LIF_NO_CARRIER,
	LIF_FAILED,    /* exists and up, but the open failed */
	LIF_READ_ERROR /* read failed; reopened on the next tick */
};

static uint64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The two timestamp precisions libpcap may hand us. */
static void
live_pkt_ns(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct sensord *sd = (struct sensord *)user;
	uint64_t	ts_ns = h->ts.tv_sec < 0
		   ? 0
		   : (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;

	sd_packet(sd, bytes, h->caplen, h->len, ts_ns);
}

static void
live_pkt_us(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct sensord *sd = (struct sensord *)user;
	uint64_t	ts_ns = h->ts.tv_sec < 0
		   ? 0
		   : (uint64_t)h->ts.tv_sec * 1000000000u +
		       (uint64_t)h->ts.tv_usec * 1000u;

	sd_packet(sd, bytes, h->caplen, h->len, ts_ns);
}

/* Read up to budget packets of capture i: count read, or -1 (closed). */
static int
live_read(struct sensord *sd, size_t i, int budget)
{
	struct capture *c = &sd->caps[i];
	int		n;

	if (c->p == NULL)
		return 0;
	sd->dlt = c->dlt;
	sd->iface = c->idx;
	n = capture_dispatch(
	    c, budget, c->ts_nsec ? live_pkt_ns : live_pkt_us, (u_char *)sd);
	sd_batch_flush(sd);
	if (n < 0) {
		capture_close(c);
		sd->cap_state[i] = LIF_READ_ERROR;
	}
	return n;
}

static size_t
live_n_capturing(const struct sensord *sd)
{
	size_t i, n = 0;

	for (i = 0; i < sd->n_caps; i++)
		n += sd->caps[i].p != NULL;
	return n;
}

static void
live_status(struct sensord *sd)
{
	uint64_t drop = 0, d, id;
	size_t	 i;

	if (!sdn_enabled())
		return;
	for (i = 0; i < sd->n_caps; i++) {
		capture_drops(&sd->caps[i], &d, &id);
		drop += d;
	}
	sdn_sendf("STATUS=capturing on %zu of %zu interfaces; %llu packets, "
		  "%llu kernel drops",
	    live_n_capturing(sd), sd->n_caps, (unsigned long long)sd->c.n_pkts,
	    (unsigned long long)drop);
}

/*
 * An open failed: retry after 1, 2, 4 ... 64 s, so that a capture that
 * cannot work (no permission, a link type we cannot decode) does not set
 * up and tear down a large kernel ring every second.  A link that goes
 * down and up again starts over at once (the state leaves LIF_FAILED).
 */
static int
live_failed(struct sensord *sd, size_t i, int old)
{
	struct capture *c = &sd->caps[i];

	c->retry_s = c->retry_s == 0 ? 1
	    : c->retry_s >= 64	     ? 64
				     : c->retry_s * 2;
	c->retry_at =
	    clock_us(CLOCK_MONOTONIC) + (uint64_t)c->retry_s * 1000000u;
	sd->cap_state[i] = LIF_FAILED;
	return old != LIF_FAILED;
}

/*
 * Bring interface i to what it should be (open when up, closed otherwise)
 * and log a change of state.  `may_open`: 0 after a read error until the
 * next tick, so a handle failing on every read cannot spin the loop.
 * Returns 1 when the state changed.
 */
static int
live_sync_one(struct sensord *sd, size_t i, int may_open)
{
	struct capture	*c = &sd->caps[i];
	int		 old = sd->cap_state[i], now;
	enum ifmon_state ls;

	ls =
	    sd->ifmon != NULL ? ifmon_link_state(sd->ifmon, c->name) : IFMON_UP;
	if (ls != IFMON_UP) {
		capture_close(c);
		c->retry_s = 0;
		now = ls == IFMON_GONE ? LIF_GONE
		    : ls == IFMON_DOWN ? LIF_DOWN
				       : LIF_NO_CARRIER;
		if (now == old)
			return 0;
		sd->cap_state[i] = now;
		if (old == LIF_NEW && ls == IFMON_GONE)
			log_warnx(
			    "%s: no such interface; waiting for it", c->name);
		else
			log_warnx("%s: interface %s; %s", c->name,
			    ifmon_state_name(ls),
			    old == LIF_CAPTURING || old == LIF_READ_ERROR
				? "capture paused"
				: "waiting for it");
		return 1;
	}
	if (c->p != NULL) {
		sd->cap_state[i] = LIF_CAPTURING;
		return old != LIF_CAPTURING;
	}
	if (old == LIF_READ_ERROR) {
		uint64_t t = clock_us(CLOCK_MONOTONIC);

		/*
		 * Decided on the tick after the error: by then netlink has
		 * told us whether the link went down (then the lines above
		 * log that, once) or is still up, and the read really failed.
		 */
		if (!may_open)
			return 0;
		if (t >= c->rderr_quiet_until) {
			log_warnx("%s; reopening (such errors are logged at "
				  "most once a minute)",
			    c->err);
			c->rderr_quiet_until = t + LIVE_RDERR_QUIET_US;
		}
	}
	if (old == LIF_FAILED && clock_us(CLOCK_MONOTONIC) < c->retry_at)
		return 0;
	if (capture_open(c, &sd->capcfg) != 0) {
		if (old != LIF_FAILED)
			log_warnx("%s; retrying, less often as it keeps "
				  "failing",
			    c->err);
		return live_failed(sd, i, old);
	}
	if (!dec_dlt_supported(c->dlt)) {
		capture_close(c);
		if (old != LIF_FAILED)
			log_warnx("%s: unsupported link type %s (%d)", c->name,
			    pcap_datalink_val_to_name(c->dlt), c->dlt);
		return live_failed(sd, i, old);
	}
	c->retry_s = 0;
	if (c->err[0] != '\0')
		log_warnx("%s", c->err);
	sd->cap_state[i] = LIF_CAPTURING;
	if (old == LIF_READ_ERROR)
		return 0;
	log_info("%s: capturing%s (link type %s)", c->name,
	    c->n_opens > 1 ? " again" : "", pcap_datalink_val_to_name(c->dlt));
	return 1;
}

/* 1 when an interface changed state. */
static int
live_sync_ifaces(struct sensord *sd, int may_open)
{
	size_t i;
	int    changed = 0;

	for (i = 0; i < sd->n_caps; i++)
		changed |= live_sync_one(sd, i, may_open);
	return changed;
}

/*
 * home_nets = auto: the prefixes of every capture interface, without
 * duplicates, into sd->auto_nets; auto_nets_gen moves when they changed.
 */
static void
live_auto_nets(struct sensord *sd)
{
	struct cidr v[SD_MAX_AUTO_NETS], one_if[SD_MAX_AUTO_NETS];
	char	    line[768], one[64];
	size_t	    n = 0, i, j, k, m, len;

	if (sd->ifmon == NULL)
		return;
	for (i = 0; i < sd->n_caps; i++) {
		m = ifmon_addrs(
		    sd->ifmon, sd->caps[i].name, one_if, SD_MAX_AUTO_NETS);
		/* Keep those an earlier interface did not have. */
		for (j = 0; j < m && n < SD_MAX_AUTO_NETS; j++) {
			for (k = 0; k < n; k++)
				if (v[k].len == one_if[j].len &&
				    memcmp(v[k].addr, one_if[j].addr, 16) == 0)
					break;
			if (k == n)
				v[n++] = one_if[j];
		}
	}
	if (n == sd->n_auto_nets &&
	    (n == 0 || memcmp(v, sd->auto_nets, n * sizeof(v[0])) == 0))
		return;
	memcpy(sd->auto_nets, v, n * sizeof(v[0]));
	sd->n_auto_nets = n;
	sd->auto_nets_gen++;
	line[0] = '\0';
	for (i = 0, len = 0; i < n && len < sizeof(line); i++) {
		cidr_fmt(&v[i], one, sizeof(one));
		len += (size_t)snprintf(
		    line + len, sizeof(line) - len, "%s%s", i ? ", " : "", one);
	}
	log_info("addresses of the capture interfaces: %s", n ? line : "none");
}

/* fatal unless `dir` (when it exists) is writable by who we are now. */
static void
live_check_writable(const char *dir, const char *sub, const char *user)
{
	char path[4096];

	snprintf(
	    path, sizeof(path), "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
	if (access(path, F_OK) != 0 && sub != NULL)
		return;
	if (access(path, W_OK | X_OK) != 0)
		fatal("%s: not writable by user %s (left by a run as root? "
		      "chown -R %s: %s)",
		    path, user, user, dir);
}

/*
 * Become opt.user: give it the state directory, drop to it with
 * CAP_NET_RAW alone.  Refuses to run (exit 1) when root cannot switch.
 */
static void
live_drop_privileges(struct sensord *sd)
{
	const char	  *user = sd->opt.user;
	unsigned long long eff = 0, prm = 0;
	uid_t		   uid;
	gid_t		   gid;

	if (user == NULL || user[0] == '\0') {
		if (geteuid() == 0)
			log_info("running as root: no user configured");
		return;
	}
	if (geteuid() != 0) {
		/* systemd's User= already did it; otherwise we cannot. */
		if (priv_lookup(user, &uid, &gid) == 0 && uid == geteuid())
			return;
		log_warnx("not started as root: running as uid %u, not as "
			  "user %s",
		    (unsigned)geteuid(), user);
		return;
	}
	if (priv_lookup(user, &uid, &gid) != 0) {
		if (errno == ENOENT)
			fatalx("user %s does not exist; refusing to run as "
			       "root",
			    user);
		fatal("user %s: cannot look it up; refusing to run as root",
		    user);
	}
	if (priv_own_dir(sd->opt.state_dir, uid, gid) != 0)
		fatal("%s: cannot give the state directory to user %s",
		    sd->opt.state_dir, user);
	if (priv_drop(user, uid, gid) != 0)
		fatal("cannot switch to user %s (uid %u, gid %u); refusing to "
		      "run as root",
		    user, (unsigned)uid, (unsigned)gid);
	live_check_writable(sd->opt.state_dir, NULL, user);
	live_check_writable(sd->opt.state_dir, "flows", user);
	live_check_writable(sd->opt.state_dir, "captures", user);
	(void)priv_caps(&eff, &prm);
	log_info("running as user %s (uid %u, gid %u), capabilities %#llx "
		 "(cap_net_raw)",
	    user, (unsigned)uid, (unsigned)gid, eff);
}

/*
 * An ignored signal is discarded when sent, signalfd or not, and we may
 * inherit ignored ones: a shell starts background jobs with SIGINT
 * ignored, nohup ignores SIGHUP.  So the ones we read get their default
 * disposition back before they are blocked.  SIGPIPE is ignored: a write
 * to a closed socket returns EPIPE, which the writer handles.
 */
static int
live_signals(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	struct sigaction sa;
	sigset_t	 set;
	size_t		 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	/* Blocked first: a TERM in between must wait, not kill us. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

void
sd_live_init(struct sensord *sd)
{
	char   err[512];
	size_t i;

	/* Files 0640, directories 0750, whoever creates them. */
	umask(027);
	/*
	 * Signals are blocked from here on, in this thread and in every
	 * thread created later; a TERM during start-up waits in the
	 * signalfd and stops the loop in its first round.
	 */
	if ((sd->sigfd = live_signals()) < 0)
		fatal("signalfd");
	for (i = 0; i < sd->opt.n_ifaces; i++) {
		size_t j;

		if (strlen(sd->opt.ifaces[i]) >= IF_NAMESIZE)
			fatalx("%s: interface name too long (max %d bytes)",
			    sd->opt.ifaces[i], IF_NAMESIZE - 1);
		/* Twice the same interface would meter every packet twice. */
		for (j = 0; j < i; j++)
			if (strcmp(sd->opt.ifaces[i], sd->opt.ifaces[j]) == 0)
				fatalx("%s: interface given twice",
				    sd->opt.ifaces[i]);
		capture_init(&sd->caps[i], sd->opt.ifaces[i], (uint8_t)i);
		sd->cap_state[i] = LIF_NEW;
	}
	sd->n_caps = sd->opt.n_ifaces;
	if ((sd->ifmon = ifmon_new(err, sizeof(err))) == NULL)
		log_warnx("%s; interface changes are noticed by read errors "
			  "only",
		    err);
	(void)live_sync_ifaces(sd, 1);
	live_auto_nets(sd);
	live_drop_privileges(sd);
}

void
sd_log_stats(struct sensord *sd)
{
	struct ft_stats	     fs;
	struct flowlog_stats ls;
	uint64_t	     drop = 0, ifdrop = 0, d, id;
	size_t		     i;

	for (i = 0; i < sd->n_caps; i++) {
		capture_drops(&sd->caps[i], &d, &id);
		drop += d;
		ifdrop += id;
	}
	ft_get_stats(sd->ft, &fs);
	flowlog_get_stats(sd->fl, &ls);
	log_info(
	    "stats: packets %llu, ip bytes %llu, kernel drops %llu "
	    "(interface drops %llu), interfaces capturing %zu of %zu, "
	    "conversations %llu active / %llu created, records %llu, "
	    "evicted %llu, flow log written %llu / dropped %llu / lost %llu",
	    (unsigned long long)sd->c.n_pkts,
	    (unsigned long long)sd->c.n_ip_bytes, (unsigned long long)drop,
	    (unsigned long long)ifdrop, live_n_capturing(sd), sd->n_caps,
	    (unsigned long long)fs.n_active, (unsigned long long)fs.n_created,
	    (unsigned long long)fs.n_records, (unsigned long long)fs.n_evict,
	    (unsigned long long)ls.n_written, (unsigned long long)ls.n_dropped,
	    (unsigned long long)ls.n_lost);
}

/* Drain the signalfd; sets *quit on TERM/INT. */
static void
live_signal(struct sensord *sd, int *quit)
{
	struct signalfd_siginfo si;

	while (read(sd->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping",
			    si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			*quit = 1;
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading the policy");
			(void)sdn_reloading();
			sd_reload(sd);
			(void)sdn_send("READY=1");
			live_status(sd);
			break;
		case SIGUSR1:
			sd_log_stats(sd);
			live_status(sd);
			break;
		default:
			break;
		}
	}
}

/*
 * After stop: what the kernel still holds, so that every packet it took
 * is either metered or counted as a kernel drop.  First the backlog: read
 * until a round comes back short (a full 64 MiB ring of small frames is
 * ~0.2 s of work at -O2), bounded by LIVE_DRAIN_MAX_US when traffic
 * arrives faster than we read.  Then the last partial TPACKET_V3 block,
 * which becomes readable when its timeout expires: wait one block timeout
 * (plus a margin), reading as blocks come, bounded by that deadline even
 * when traffic keeps flowing.
 */
static void
live_drain(struct sensord *sd)
{
	struct pollfd pfd[SD_MAX_INPUTS];
	uint64_t      now, hard, end = 0;
	size_t	      i, np;
	int	      behind;

	hard = clock_us(CLOCK_MONOTONIC) + LIVE_DRAIN_MAX_US;
	for (;;) {
		np = 0;
		behind = 0;
		for (i = 0; i < sd->n_caps; i++) {
			if (live_read(sd, i, LIVE_BUDGET) == LIVE_BUDGET)
				behind = 1;
			if (sd->caps[i].p != NULL)
				pfd[np++] =
				    (struct pollfd){sd->caps[i].fd, POLLIN, 0};
		}
		now = clock_us(CLOCK_MONOTONIC);
		if (np == 0 || (end != 0 && now >= end))
			break;
		if (now >= hard) {
			log_warnx("stopping with packets still in the kernel's "
				  "ring after %d s of reading: they are "
				  "neither metered nor counted",
			    (int)(LIVE_DRAIN_MAX_US / 1000000));
			break;
		}
		if (behind)
			continue;
		if (end == 0)
			end = now +
			    (uint64_t)(sd->capcfg.timeout_ms + 50) * 1000u;
		if (poll(pfd, (nfds_t)np, (int)((end - now) / 1000) + 1) < 0 &&
		    errno != EINTR)
			break;
	}
}

int
sd_live(struct sensord *sd)
{
	struct pollfd	  pfd[PFD_CAP0 + SD_MAX_INPUTS + CTL_MAX_CLIENTS + 1];
	struct itimerspec its;
	int		  tfd, quit = 0, n, nl_ok = 1, nl_state = 0, caught_up;
	uint64_t	  seen_gen = 0, wd_usec, last_wd, w, t, exp;
	uint64_t	  next_status = 0;
	char		  err[512];
	size_t		  i, np, ctl0, nctl;

	if ((tfd = timerfd_create(
		 CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		fatal("timerfd_create");
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = 1;
	its.it_value.tv_sec = 1;
	if (timerfd_settime(tfd, 0, &its, NULL) != 0)
		fatal("timerfd_settime");
	/* XXX a watchdog below 2 s is answered only once a second. */
	wd_usec = sdn_watchdog_usec();
	last_wd = clock_us(CLOCK_MONOTONIC);

	if (sd->ifmon != NULL)
		seen_gen = ifmon_generation(sd->ifmon);
	sd_ifaces_changed(sd);
	w = clock_us(CLOCK_REALTIME) - LIVE_LAG_US;
	if (w > sd->now_us)
		sd->now_us = w;
	sd->next_tick_us = (sd->now_us / 1000000 + 1) * 1000000;
	log_info("started: capturing on %zu of %zu interface(s)",
	    live_n_capturing(sd), sd->n_caps);
	/* READY=1 first: STATUS= before it would read as start-up progress. */
	(void)sdn_send("READY=1");
	live_status(sd);
	if (wd_usec != 0)
		(void)sdn_send("WATCHDOG=1");

	while (!quit) {
		pfd[PFD_SIG] = (struct pollfd){sd->sigfd, POLLIN, 0};
		pfd[PFD_TIMER] = (struct pollfd){tfd, POLLIN, 0};
		pfd[PFD_NETLINK] = (struct pollfd){
		    sd->ifmon != NULL && nl_ok ? ifmon_fd(sd->ifmon) : -1,
		    POLLIN, 0};
		np = PFD_CAP0;
		for (i = 0; i < sd->n_caps; i++)
			pfd[np++] = (struct pollfd){sd->caps[i].fd, POLLIN, 0};
		/* The control socket and its clients (never blocking). */
		ctl0 = np;
		nctl = sd->ctl != NULL ? ctl_pollfds(sd->ctl, pfd + np,
					     sizeof(pfd) / sizeof(pfd[0]) - np)
				       : 0;
		np += nctl;
		n = poll(pfd, (nfds_t)np, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[PFD_SIG].revents & POLLIN)
			live_signal(sd, &quit);
		if (pfd[PFD_NETLINK].revents != 0) {
			n = ifmon_process(sd->ifmon, err, sizeof(err));
			/* On failure: no polling it until the next tick. */
			nl_ok = n >= 0;
			if (n < 0)
				(void)log_state(&nl_state, 1,
				    "%s; addresses "
				    "may be stale until it recovers",
				    err);
			else
				(void)log_state(&nl_state, 0,
				    "netlink: "
				    "interface monitoring recovered");
			if (n > 0)
				log_info("netlink: notifications were lost; "
					 "caches reloaded");
		}
		if (sd->ifmon != NULL &&
		    ifmon_generation(sd->ifmon) != seen_gen) {
			seen_gen = ifmon_generation(sd->ifmon);
			if (live_sync_ifaces(sd, 0))
				live_status(sd);
			live_auto_nets(sd);
			sd_ifaces_changed(sd);
		}

		/* Every open ring, whether poll flagged it or not. */
		caught_up = 1;
		for (i = 0; i < sd->n_caps; i++) {
			/* A failed handle is closed; the tick decides why. */
			if (live_read(sd, i, LIVE_BUDGET) == LIVE_BUDGET)
				caught_up = 0;
		}

		if (nctl != 0)
			ctl_process(sd->ctl, pfd + ctl0, nctl,
			    clock_us(CLOCK_MONOTONIC) / 1000);

		if (!(pfd[PFD_TIMER].revents & POLLIN))
			continue;
		if (read(tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
			log_warn("timerfd");
		w = clock_us(CLOCK_REALTIME) - LIVE_LAG_US;
		if (caught_up && w > sd->now_us)
			sd_tick(sd, w);
		nl_ok = 1;
		/* Reopen interfaces that came back (or retry). */
		if (live_sync_ifaces(sd, 1))
			next_status = 0;
		t = clock_us(CLOCK_MONOTONIC);
		if (wd_usec != 0 && t - last_wd >= wd_usec / 2) {
			(void)sdn_send("WATCHDOG=1");
			last_wd = t;
		}
		if (t >= next_status) {
			live_status(sd);
			next_status = t + LIVE_STATUS_S * UINT64_C(1000000);
		}
	}

	(void)sdn_send("STOPPING=1\nSTATUS=stopping: writing the flow log");
	live_drain(sd);
	for (i = 0; i < sd->n_caps; i++)
		capture_close(&sd->caps[i]);
	/* No deadline any more: every last record must reach the disk. */
	flowlog_set_lossless(sd->fl, 1);
	sd_flush(sd, END_SHUTDOWN);
	sd_log_stats(sd);
	close(tfd);
	close(sd->sigfd);
	sd->sigfd = -1;
	return SD_EXIT_OK;
}
