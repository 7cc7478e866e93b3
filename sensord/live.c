/*
 * live.c: the live event loop.
 *
 * One poll(2) over a small fd table: a signalfd (TERM/INT stop, HUP
 * reload, USR1 stats line), a 1 Hz CLOCK_MONOTONIC timerfd, the netlink
 * socket of ifmon, and one pcap fd per open interface.  No work happens in
 * signal handlers (there are none: signals are read from the signalfd).
 *
 * Interfaces come and go: a configured interface that does not exist or is
 * down is simply closed; on every netlink change and every tick the loop
 * compares what should be open with what is, logs once per change of state,
 * and reopens.  A pcap read error (interface deleted under us) closes the
 * handle the same way.  Capture never blocks on anything: disk and
 * compression live behind the writer's queue.
 *
 * Time: packets carry their own time; on a quiet link the tick moves the
 * flow clock to the wall clock minus a small lag (packets still in the
 * kernel's ring are at most one block timeout old), so idle timeouts and
 * escalation deadlines fire on time.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "ifmon.h"
#include "log.h"
#include "sdnotify.h"
#include "sensord.h"

#define LIVE_BUDGET	512	/* packets per interface per poll round */
#define LIVE_LAG_US	300000	/* how far the tick trails the wall clock */

enum { PFD_SIG, PFD_TIMER, PFD_NETLINK, PFD_CAP0 };

static uint64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
live_pkt(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct sensord *sd = (struct sensord *)user;
	uint64_t ts_ns = h->ts.tv_sec < 0 ? 0 :
	    (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;

	sd_packet(sd, bytes, h->caplen, h->len, ts_ns);
}

/* Open what should be open, close what should not; log state changes. */
static void
live_sync_ifaces(struct sensord *sd)
{
	size_t i;

	for (i = 0; i < sd->n_caps; i++) {
		struct capture *c = &sd->caps[i];
		const char *name = sd->opt.ifaces[i];
		int exists = 1, up = 1;
		char err[PCAP_ERRBUF_SIZE + 64];

		if (sd->ifmon != NULL)
			ifmon_link(sd->ifmon, name, &exists, &up);
		if (c->p != NULL && (!exists || !up)) {
			capture_close(c);
			log_warnx("%s: interface %s; capture paused", name,
			    exists ? "down" : "gone");
			sd->cap_state[i] = exists ? 1 : 2;
			continue;
		}
		if (c->p != NULL || !exists || !up) {
			if (c->p == NULL && sd->cap_state[i] == 0) {
				log_warnx("%s: interface %s; waiting for it",
				    name, exists ? "down" : "does not exist");
				sd->cap_state[i] = exists ? 1 : 2;
			}
			continue;
		}
		if (capture_open(c, name, (uint8_t)i, &sd->capcfg, err,
		    sizeof(err)) != 0) {
			if (sd->cap_state[i] != 3)
				log_warnx("%s", err);
			sd->cap_state[i] = 3;
			continue;
		}
		if (!dec_dlt_supported(c->dlt)) {
			log_warnx("%s: unsupported link type %d", name, c->dlt);
			capture_close(c);
			sd->cap_state[i] = 3;
			continue;
		}
		log_info("%s: capturing (link type %s)", name,
		    pcap_datalink_val_to_name(c->dlt));
		sd->cap_state[i] = 4;
	}
}

void
sd_log_stats(struct sensord *sd)
{
	struct ft_stats fs;
	uint64_t drop = 0, ifdrop = 0, d, id;
	size_t i;

	for (i = 0; i < sd->n_caps; i++) {
		capture_drops(&sd->caps[i], &d, &id);
		drop += d;
		ifdrop += id;
	}
	ft_get_stats(sd->ft, &fs);
	log_info("stats: packets %llu, ip bytes %llu, kernel drops %llu "
	    "(if %llu), conversations %llu active / %llu created, "
	    "records %llu, evicted %llu",
	    (unsigned long long)sd->c.n_pkts,
	    (unsigned long long)sd->c.n_ip_bytes,
	    (unsigned long long)drop, (unsigned long long)ifdrop,
	    (unsigned long long)fs.n_active,
	    (unsigned long long)fs.n_created,
	    (unsigned long long)fs.n_records,
	    (unsigned long long)fs.n_evict);
}

static int
live_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, set, NULL) != 0)
		return -1;
	return signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int
sd_live(struct sensord *sd)
{
	struct pollfd pfd[PFD_CAP0 + SD_MAX_INPUTS];
	struct itimerspec its;
	sigset_t set;
	int sigfd, tfd, quit = 0, n;
	uint64_t seen_gen = 0, wd_usec, last_wd = 0;
	size_t i, np;

	if ((sigfd = live_signals(&set)) < 0)
		fatal("signalfd");
	if ((tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) < 0)
		fatal("timerfd_create");
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = 1;
	its.it_value.tv_sec = 1;
	if (timerfd_settime(tfd, 0, &its, NULL) != 0)
		fatal("timerfd_settime");
	wd_usec = sdn_watchdog_usec();

	live_sync_ifaces(sd);
	sd->now_us = wall_us() - LIVE_LAG_US;
	sd->next_tick_us = (sd->now_us / 1000000 + 1) * 1000000;
	sdn_send("READY=1\nSTATUS=capturing");
	log_info("started: %zu interface(s)", sd->n_caps);

	while (!quit) {
		pfd[PFD_SIG] = (struct pollfd){ sigfd, POLLIN, 0 };
		pfd[PFD_TIMER] = (struct pollfd){ tfd, POLLIN, 0 };
		pfd[PFD_NETLINK] = (struct pollfd){
		    sd->ifmon != NULL ? ifmon_fd(sd->ifmon) : -1, POLLIN, 0 };
		np = PFD_CAP0;
		for (i = 0; i < sd->n_caps; i++)
			pfd[np++] = (struct pollfd){ sd->caps[i].fd, POLLIN,
			    0 };
		n = poll(pfd, (nfds_t)np, 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[PFD_SIG].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) ==
			    (ssize_t)sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGTERM:
				case SIGINT:
					log_info("signal %u: stopping",
					    si.ssi_signo);
					quit = 1;
					break;
				case SIGHUP:
					sdn_send("RELOADING=1");
					sd_reload(sd);
					sdn_send("READY=1");
					break;
				case SIGUSR1:
					sd_log_stats(sd);
					break;
				default:
					break;
				}
			}
		}
		for (i = 0; i < sd->n_caps; i++) {
			struct capture *c = &sd->caps[i];

			if (c->p == NULL)
				continue;
			sd->dlt = c->dlt;
			sd->iface = c->idx;
			n = capture_dispatch(c, LIVE_BUDGET, live_pkt,
			    (u_char *)sd);
			sd_batch_flush(sd);
			if (n < 0) {
				log_warnx("%s: read failed: %s; reopening",
				    c->name, pcap_geterr(c->p));
				capture_close(c);
				sd->cap_state[i] = 0;
			}
		}
		if (pfd[PFD_NETLINK].revents & POLLIN)
			(void)ifmon_process(sd->ifmon);
		if (pfd[PFD_TIMER].revents & POLLIN) {
			uint64_t exp, w;

			if (read(tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
				log_warn("timerfd");
			w = wall_us() - LIVE_LAG_US;
			if (w > sd->now_us)
				sd_tick(sd, w);
			/* Reopen interfaces that came back (or retry). */
			live_sync_ifaces(sd);
			if (wd_usec != 0 && w - last_wd >= wd_usec / 2) {
				sdn_send("WATCHDOG=1");
				last_wd = w;
			}
		}
		if (sd->ifmon != NULL &&
		    ifmon_generation(sd->ifmon) != seen_gen) {
			seen_gen = ifmon_generation(sd->ifmon);
			live_sync_ifaces(sd);
			sd_ifaces_changed(sd);
		}
	}
	sdn_send("STOPPING=1");
	for (i = 0; i < sd->n_caps; i++) {
		/* Drain what the kernel still holds, then close. */
		if (sd->caps[i].p != NULL) {
			sd->dlt = sd->caps[i].dlt;
			sd->iface = sd->caps[i].idx;
			(void)capture_dispatch(&sd->caps[i], -1, live_pkt,
			    (u_char *)sd);
		}
	}
	sd_log_stats(sd);
	for (i = 0; i < sd->n_caps; i++)
		capture_close(&sd->caps[i]);
	sd_flush(sd, END_SHUTDOWN);
	close(tfd);
	close(sigfd);
	return SD_EXIT_OK;
}
