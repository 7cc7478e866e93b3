/*
 * export.c: the sending side of flow export: one connected UDP socket, a
 * pacer, a bounded queue of finished datagrams, and loss accounting.  The
 * bytes come from the pure encoder in xpenc.c.
 *
 * Why pace: a collector reads one socket; when a whole table is flushed at
 * once (end of a trace, shutdown) the datagrams arrive faster than it
 * drains its receive buffer and the kernel drops them at the receiver,
 * silently for us: on loopback send() always succeeds.  softflowd flushing
 * 673,000 records as NetFlow v9 into nfcapd lost 37.5 % that way
 * (DOMAIN.md).  The pacer is GCRA (a token bucket in "theoretical arrival
 * time" form): a datagram of n records may leave when
 * now >= tat - burst_tolerance, and then tat = max(tat, now) + n * cost,
 * with cost = 1 s / max_rate.
 *
 * Two modes:
 *  - live (lossless = 0): nothing ever blocks the packet path.  Datagrams
 *    the pacer or the socket (EAGAIN, ENOBUFS) holds back wait in a queue
 *    of cfg.queue datagrams, drained by later calls and by xp_tick(); when
 *    the queue is full the new datagram is dropped and counted.
 *  - lossless (offline replay, where nothing is real time): wait for the
 *    pacer (sleep) and for the socket (poll POLLOUT, short sleeps on
 *    ENOBUFS), at most wait_max_ms per datagram, so a replay loses nothing
 *    on loopback however large the final flush.
 *
 * Sequence numbers are assigned by the encoder when a datagram is built,
 * so a datagram we drop shows up at the collector as a sequence gap, which
 * is what the numbers are for.  A dropped datagram that carried templates
 * makes the encoder send them again with the next one.
 *
 * The pacer reads CLOCK_MONOTONIC (or cfg.mono_us): pacing is about the
 * wall clock of the collector, not flow time.  Everything the collector
 * sees as time (sysUptime, export time, flow start/end) is flow time.
 *
 * Cost: one memcpy of each datagram into the queue and one send(2) per
 * datagram (~20-30 records); 1400 bytes x cfg.queue of memory.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "util.h"

struct xp_slot {
	uint32_t len;
	uint32_t n_data;
	int	 has_tmpl;
	uint8_t *buf; /* cfg.enc.mtu bytes in qbuf */
};

struct exporter {
	struct xp_config cfg;
	int		 fd;
	uint8_t		 local[16];
	uint16_t	 lport;
	struct xp_slot	*q;
	uint8_t		*qbuf;
	uint32_t	 q_head; /* oldest queued datagram */
	uint32_t	 q_n;
	uint64_t	 tat_ns;  /* GCRA theoretical arrival time */
	uint64_t	 cost_ns; /* per record; 0 = unpaced */
	uint64_t	 tau_ns;  /* burst tolerance */
	struct xp_stats	 st;
	struct xp_enc	 enc; /* large: keep last */
};

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void
xp_config_defaults(struct xp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	xp_enc_config_defaults(&cfg->enc);
	memcpy(cfg->addr, v4mapped, sizeof(v4mapped));
	cfg->addr[12] = 127;
	cfg->addr[15] = 1;
	cfg->port = 4739;
	cfg->max_rate = 20000;
	cfg->queue = 256;
	cfg->sndbuf = 4u << 20;
	cfg->wait_max_ms = 5000;
}

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = EINVAL;
}

int
xp_parse_target(const char *s, struct xp_config *cfg, char *err, size_t errlen)
{
	char	      buf[128], *at, *host, *port = NULL, *end;
	enum xp_kind  kind;
	uint8_t	      addr[16];
	unsigned long p;

	if (util_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf)) {
		seterr(err, errlen, "export target too long: %.40s...", s);
		return -1;
	}
	if ((at = strchr(buf, '@')) == NULL) {
		seterr(err, errlen,
		    "export target '%s': want "
		    "KIND@ADDRESS[:PORT] (kind netflow5, netflow9 or ipfix)",
		    buf);
		return -1;
	}
	*at = '\0';
	if (strcmp(buf, "netflow5") == 0)
		kind = XP_NETFLOW5;
	else if (strcmp(buf, "netflow9") == 0)
		kind = XP_NETFLOW9;
	else if (strcmp(buf, "ipfix") == 0)
		kind = XP_IPFIX;
	else {
		seterr(err, errlen,
		    "export kind '%s' unknown: want netflow5, "
		    "netflow9 or ipfix",
		    buf);
		return -1;
	}
	host = at + 1;
	if (*host == '[') {
		host++;
		if ((end = strchr(host, ']')) == NULL) {
			seterr(err, errlen, "export address '[%s': missing ']'",
			    host);
			return -1;
		}
		*end++ = '\0';
		if (*end == ':')
			port = end + 1;
		else if (*end != '\0') {
			seterr(err, errlen,
			    "export address: junk '%s' after "
			    "']' (want ]:PORT)",
			    end);
			return -1;
		}
		if (addr_parse(host, addr) == -1 || addr_is_v4(addr)) {
			seterr(err, errlen,
			    "export address '%s' is not an IPv6 "
			    "address",
			    host);
			return -1;
		}
	} else {
		if ((port = strchr(host, ':')) != NULL) {
			if (strchr(port + 1, ':') != NULL) {
				seterr(err, errlen,
				    "export address '%s': write "
				    "IPv6 in brackets, e.g. [::1]:4739",
				    host);
				return -1;
			}
			*port++ = '\0';
		}
		if (addr_parse(host, addr) == -1 || !addr_is_v4(addr)) {
			seterr(err, errlen,
			    "export address '%s' is not an IPv4 "
			    "address (IPv6 goes in brackets)",
			    host);
			return -1;
		}
	}
	if (port != NULL) {
		errno = 0;
		p = strtoul(port, &end, 10);
		if (*port < '0' || *port > '9' || *end != '\0' || errno != 0 ||
		    p == 0 || p > 65535) {
			seterr(err, errlen,
			    "export port '%s' is not a number "
			    "in 1..65535",
			    port);
			return -1;
		}
	} else
		p = kind == XP_IPFIX ? 4739 : 2055;
	cfg->enc.kind = kind;
	memcpy(cfg->addr, addr, sizeof(addr));
	cfg->port = (uint16_t)p;
	return 0;
}

void
xp_format_target(const struct xp_config *cfg, char *buf, size_t len)
{
	char	    a[ADDR_STRLEN];
	const char *kind = xp_kind_name(cfg->enc.kind);
	int	    v4 = addr_is_v4(cfg->addr);

	addr_fmt(cfg->addr, a);
	snprintf(buf, len, "%s@%s%s%s:%u", kind != NULL ? kind : "?",
	    v4 ? "" : "[", a, v4 ? "" : "]", cfg->port);
}

static uint64_t
mono_ns(const struct exporter *ex)
{
	struct timespec ts;

	if (ex->cfg.mono_us != NULL)
		return ex->cfg.mono_us() * 1000;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
drop_head(struct exporter *ex, int is_error)
{
	struct xp_slot *s = &ex->q[ex->q_head];

	ex->st.n_drop_datagrams++;
	ex->st.n_drop_flows += s->n_data;
	if (is_error)
		ex->st.n_send_errors++;
	if (s->has_tmpl)
		xp_enc_resend_templates(&ex->enc);
	ex->q_head = (ex->q_head + 1) % ex->cfg.queue;
	ex->q_n--;
}

/*
 * Send queued datagrams in order while the pacer and the socket allow.
 * block: wait for both (lossless), bounded by wait_max_ms per datagram.
 */
static void
drain(struct exporter *ex, int block)
{
	struct xp_slot *s;
	struct pollfd	pfd;
	uint64_t	now, t0 = 0, waited, wmax, cost;
	ssize_t		n;
	int		retried = 0;

	wmax = (uint64_t)ex->cfg.wait_max_ms * 1000000;
	while (ex->q_n > 0) {
		s = &ex->q[ex->q_head];
		now = mono_ns(ex);
		if (t0 == 0)
			t0 = now;
		waited = now - t0;
		if (ex->cost_ns > 0 && now + ex->tau_ns < ex->tat_ns) {
			if (!block)
				return;
			/* Pacing waits are ours: never drop for them. */
			ex->st.n_waits++;
			ex->st.wait_us +=
			    (ex->tat_ns - ex->tau_ns - now) / 1000;
			sleep_ns(ex->tat_ns - ex->tau_ns - now);
			continue;
		}
		n = send(ex->fd, s->buf, s->len, 0);
		if (n >= 0) {
			ex->st.n_datagrams++;
			ex->st.n_bytes += (uint64_t)n;
			if (s->has_tmpl)
				ex->st.n_template_sends++;
			cost = ex->cost_ns * (s->n_data > 0 ? s->n_data : 1);
			ex->tat_ns =
			    (ex->tat_ns > now ? ex->tat_ns : now) + cost;
			ex->q_head = (ex->q_head + 1) % ex->cfg.queue;
			ex->q_n--;
			t0 = 0;
			retried = 0;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS) {
			if (!block)
				return;
			if (waited >= wmax) {
				drop_head(ex, 0);
				t0 = 0;
				continue;
			}
			ex->st.n_waits++;
			if (errno == ENOBUFS) {
				/* The device queue, not the socket: no fd
				 * event to wait for. */
				sleep_ns(1000000);
			} else {
				pfd.fd = ex->fd;
				pfd.events = POLLOUT;
				(void)poll(&pfd, 1, 10);
			}
			ex->st.wait_us += (mono_ns(ex) - now) / 1000;
			continue;
		}
		/*
		 * A connected UDP socket reports an ICMP error (port
		 * unreachable: ECONNREFUSED) for an earlier datagram on this
		 * send, which did not go out; count it and try once more.
		 */
		ex->st.n_send_errors++;
		ex->st.last_errno = errno;
		if (errno == ECONNREFUSED && !retried) {
			retried = 1;
			continue;
		}
		retried = 0;
		ex->st.n_drop_datagrams++;
		ex->st.n_drop_flows += s->n_data;
		if (s->has_tmpl)
			xp_enc_resend_templates(&ex->enc);
		ex->q_head = (ex->q_head + 1) % ex->cfg.queue;
		ex->q_n--;
		t0 = 0;
	}
}

/* The encoder's emit callback: queue a copy, then drain. */
static int
xp_emit(
    void *arg, const uint8_t *buf, size_t len, uint32_t n_data, int has_tmpl)
{
	struct exporter *ex = arg;
	struct xp_slot	*s;

	if (ex->q_n == ex->cfg.queue)
		drain(ex, ex->cfg.lossless);
	if (ex->q_n == ex->cfg.queue) {
		/* Live and still full: lose this one (the encoder re-sends
		 * templates if it carried them). */
		ex->st.n_drop_datagrams++;
		ex->st.n_drop_flows += n_data;
		return -1;
	}
	s = &ex->q[(ex->q_head + ex->q_n) % ex->cfg.queue];
	memcpy(s->buf, buf, len);
	s->len = (uint32_t)len;
	s->n_data = n_data;
	s->has_tmpl = has_tmpl;
	ex->q_n++;
	drain(ex, ex->cfg.lossless);
	return 0;
}

static void
addr_from_sa(
    const struct sockaddr_storage *ss, uint8_t addr[16], uint16_t *port)
{
	const struct sockaddr_in  *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		memcpy(addr, v4mapped, sizeof(v4mapped));
		memcpy(addr + 12, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
	} else {
		memcpy(addr, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
	}
}

struct exporter *
xp_new(const struct xp_config *cfg)
{
	struct exporter	       *ex;
	struct sockaddr_storage ss;
	struct sockaddr_in     *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6    *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		sl;
	uint32_t		i, burst;
	int			sndbuf, v4 = addr_is_v4(cfg->addr), save;

	if (cfg->port == 0 || cfg->queue == 0 || cfg->queue > 65536) {
		errno = EINVAL;
		return NULL;
	}
	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return NULL;
	ex->cfg = *cfg;
	ex->fd = -1;
	if (xp_enc_init(&ex->enc, &cfg->enc, xp_emit, ex) == -1)
		goto fail;
	ex->q = calloc(cfg->queue, sizeof(*ex->q));
	ex->qbuf = calloc(cfg->queue, cfg->enc.mtu);
	if (ex->q == NULL || ex->qbuf == NULL)
		goto fail;
	for (i = 0; i < cfg->queue; i++)
		ex->q[i].buf = ex->qbuf + (size_t)i * cfg->enc.mtu;
	if (cfg->max_rate > 0) {
		ex->cost_ns = 1000000000ull / cfg->max_rate;
		/* 50 ms worth by default: ~40 datagrams, well inside a
		 * collector's default 208 KiB receive buffer. */
		burst = cfg->burst > 0 ? cfg->burst : cfg->max_rate / 20;
		if (burst < 1)
			burst = 1;
		ex->tau_ns = ex->cost_ns * burst;
	}

	memset(&ss, 0, sizeof(ss));
	if (v4) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(cfg->port);
		memcpy(&sin->sin_addr, cfg->addr + 12, 4);
		sl = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(cfg->port);
		memcpy(&sin6->sin6_addr, cfg->addr, 16);
		sl = sizeof(*sin6);
	}
	ex->fd = socket(v4 ? AF_INET : AF_INET6,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ex->fd == -1)
		goto fail;
	if (cfg->sndbuf > 0) {
		/* Capped by net.core.wmem_max; a smaller buffer still works. */
		sndbuf = cfg->sndbuf > INT32_MAX ? INT32_MAX : (int)cfg->sndbuf;
		(void)setsockopt(
		    ex->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	/* connect(): fixes our source address and port, see xp_get_local. */
	if (connect(ex->fd, (struct sockaddr *)&ss, sl) == -1)
		goto fail;
	sl = sizeof(ss);
	if (getsockname(ex->fd, (struct sockaddr *)&ss, &sl) == -1)
		goto fail;
	addr_from_sa(&ss, ex->local, &ex->lport);
	return ex;
fail:
	save = errno;
	if (ex->fd != -1)
		close(ex->fd);
	free(ex->q);
	free(ex->qbuf);
	free(ex);
	errno = save;
	return NULL;
}

void
xp_record(struct exporter *ex, const struct convrec *cr, uint64_t now_us)
{
	xp_enc_add(&ex->enc, cr, now_us);
	if (ex->q_n > 0)
		drain(ex, ex->cfg.lossless);
}

void
xp_tick(struct exporter *ex, uint64_t now_us)
{
	xp_enc_flush(&ex->enc, now_us);
	if (ex->q_n > 0)
		drain(ex, ex->cfg.lossless);
}

void
xp_flush(struct exporter *ex, uint64_t now_us)
{
	/* Make room first: live mode would drop the last datagram. */
	drain(ex, 1);
	xp_enc_flush(&ex->enc, now_us);
	drain(ex, 1);
}

void
xp_free(struct exporter *ex)
{
	if (ex == NULL)
		return;
	xp_flush(ex, 0);
	close(ex->fd);
	free(ex->q);
	free(ex->qbuf);
	free(ex);
}

void
xp_get_stats(const struct exporter *ex, struct xp_stats *st)
{
	*st = ex->st;
	st->n_records = ex->enc.st.n_records;
	st->n_flows = ex->enc.st.n_flows;
	st->n_skipped = ex->enc.st.n_skipped;
	st->n_clamped = ex->enc.st.n_clamped;
	st->n_time_clamped = ex->enc.st.n_time_clamped;
	st->queued = ex->q_n;
}

int
xp_fd(const struct exporter *ex)
{
	return ex->fd;
}

int
xp_poll_ms(const struct exporter *ex)
{
	uint64_t now, wait;

	if (ex->q_n == 0)
		return -1;
	if (ex->cost_ns == 0)
		return 0;
	now = mono_ns(ex);
	if (now + ex->tau_ns >= ex->tat_ns)
		return 0;
	wait = (ex->tat_ns - ex->tau_ns - now + 999999) / 1000000;
	return wait > 60000 ? 60000 : (int)wait;
}

int
xp_get_local(const struct exporter *ex, uint8_t addr[16], uint16_t *port)
{
	memcpy(addr, ex->local, 16);
	*port = ex->lport;
	return 0;
}

int
xp_is_own_packet(const struct exporter *ex, const struct pktinfo *pi)
{
	if (!(pi->flags & PI_HAS_L3) || pi->proto != 17 ||
	    !(pi->flags & PI_HAS_PORTS))
		return 0;
	if (pi->sport == ex->lport && pi->dport == ex->cfg.port &&
	    memcmp(pi->src, ex->local, 16) == 0 &&
	    memcmp(pi->dst, ex->cfg.addr, 16) == 0)
		return 1;
	if (pi->dport == ex->lport && pi->sport == ex->cfg.port &&
	    memcmp(pi->dst, ex->local, 16) == 0 &&
	    memcmp(pi->src, ex->cfg.addr, 16) == 0)
		return 1;
	return 0;
}
