/*
 * control.c: see control.h.
 *
 * Output queue: a reply is built as a list of whole messages in a per-
 * client buffer (at most CTL_OUTQ_BYTES); each send(2) passes exactly one
 * message (SEQPACKET keeps boundaries).  When the socket is full we keep the
 * rest for POLLOUT; a reply that does not fit the queue is cut short with an
 * error record, and a client that stays unwritable for CTL_STALL_MS is
 * dropped.  Nothing here ever blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "util.h"

#define CTL_OUTQ_BYTES (4u << 20)
#define CTL_STALL_MS 5000
#define CTL_IDLE_MS 30000

struct ctl_client {
	int		fd;
	struct ctl_peer peer;
	uint8_t	       *outq;	  /* queued messages, each len-prefixed */
	size_t		outq_len; /* bytes used */
	size_t		outq_off; /* next message to send */
	uint64_t	last_ms;  /* last progress */
	int		closing;  /* close once the queue drains */
};

struct ctl_reply {
	struct ctl_client *cl;
	struct ctlp_out	   out;
	int		   ended;
	int		   overflow;
};

struct ctl_server {
	int		  lfd;
	char		  path[108];
	gid_t		  allowed_gid;
	ctl_handler_fn	 *fn;
	void		 *arg;
	struct ctl_client cl[CTL_MAX_CLIENTS];
	struct ctl_stats  st;
};

struct ctl_server *
ctl_open(const char *path, gid_t allowed_gid, ctl_handler_fn *fn, void *arg,
    char *err, size_t errlen)
{
	struct ctl_server *cs;
	struct sockaddr_un sun;
	mode_t		   old;
	int		   i;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: control socket path too long", path);
		return NULL;
	}
	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		snprintf(err, errlen, "control: out of memory");
		return NULL;
	}
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		cs->cl[i].fd = -1;
	cs->allowed_gid = allowed_gid;
	cs->fn = fn;
	cs->arg = arg;
	util_strlcpy(cs->path, path, sizeof(cs->path));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	cs->lfd =
	    socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cs->lfd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		free(cs);
		return NULL;
	}
	/* A stale socket from a killed daemon: replace it. */
	(void)unlink(path);
	old = umask(0117);
	if (bind(cs->lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(cs->lfd, 16) != 0) {
		umask(old);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(cs->lfd);
		free(cs);
		return NULL;
	}
	umask(old);
	if (allowed_gid != (gid_t)-1 &&
	    chown(path, (uid_t)-1, allowed_gid) != 0)
		log_warn("%s: chown to group %u", path, (unsigned)allowed_gid);
	(void)chmod(path, 0660);
	return cs;
}

static void
client_close(struct ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->outq);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void
ctl_close(struct ctl_server *cs)
{
	int i;

	if (cs == NULL)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (cs->cl[i].fd >= 0)
			client_close(&cs->cl[i]);
	close(cs->lfd);
	(void)unlink(cs->path);
	free(cs);
}

size_t
ctl_pollfds(const struct ctl_server *cs, struct pollfd *pfd, size_t max)
{
	size_t n = 0;
	int    i;

	if (max == 0)
		return 0;
	pfd[n++] = (struct pollfd){cs->lfd, POLLIN, 0};
	for (i = 0; i < CTL_MAX_CLIENTS && n < max; i++) {
		const struct ctl_client *c = &cs->cl[i];

		if (c->fd < 0)
			continue;
		pfd[n++] = (struct pollfd){c->fd,
		    (short)(c->outq_off < c->outq_len
			    ? POLLOUT
			    : (c->closing ? 0 : POLLIN)),
		    0};
	}
	return n;
}

/* Queue one finished message (4-byte length prefix inside the queue). */
static int
queue_msg(struct ctl_client *c, const uint8_t *msg, size_t len)
{
	size_t	 need = c->outq_len + 4 + len;
	uint8_t *q;

	if (need > CTL_OUTQ_BYTES)
		return -1;
	if ((q = realloc(c->outq, need)) == NULL)
		return -1;
	c->outq = q;
	q += c->outq_len;
	q[0] = (uint8_t)(len >> 24);
	q[1] = (uint8_t)(len >> 16);
	q[2] = (uint8_t)(len >> 8);
	q[3] = (uint8_t)len;
	memcpy(q + 4, msg, len);
	c->outq_len = need;
	return 0;
}

/* Send queued messages until the socket is full. */
static void
flush_out(struct ctl_server *cs, struct ctl_client *c, uint64_t now)
{
	while (c->outq_off < c->outq_len) {
		const uint8_t *q = c->outq + c->outq_off;
		size_t	       len = (size_t)q[0] << 24 | (size_t)q[1] << 16 |
		    (size_t)q[2] << 8 | q[3];
		ssize_t n =
		    send(c->fd, q + 4, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (now - c->last_ms > CTL_STALL_MS) {
					cs->st.n_slow_dropped++;
					log_warnx("control: pid %d not reading "
						  "its reply; disconnected",
					    (int)c->peer.pid);
					client_close(c);
				}
				return;
			}
			client_close(c);
			return;
		}
		c->outq_off += 4 + len;
		c->last_ms = now;
	}
	free(c->outq);
	c->outq = NULL;
	c->outq_len = c->outq_off = 0;
	if (c->closing)
		client_close(c);
}

struct ctlp_out *
ctl_reply_record(struct ctl_reply *rep)
{
	ctlp_begin(&rep->out, CTLP_REP_RECORD);
	return &rep->out;
}

void
ctl_reply_commit(struct ctl_reply *rep)
{
	if (rep->overflow || ctlp_end(&rep->out) != 0)
		return;
	if (queue_msg(rep->cl, rep->out.buf, rep->out.len) != 0)
		rep->overflow = 1;
}

static void
reply_end(
    struct ctl_reply *rep, uint64_t status, const char *key, const char *text)
{
	struct ctlp_out end;

	if (rep->ended)
		return;
	rep->ended = 1;
	ctlp_begin(&end, CTLP_REP_END);
	if (rep->overflow && status == 0) {
		status = 1;
		key = "error";
		text = "reply too large; narrow the request";
	}
	ctlp_u64(&end, "status", status);
	if (text != NULL)
		ctlp_str(&end, key, text);
	if (ctlp_end(&end) == 0)
		(void)queue_msg(rep->cl, end.buf, end.len);
}

void
ctl_reply_ok(struct ctl_reply *rep, const char *message)
{
	reply_end(rep, 0, "message", message);
}

void
ctl_reply_error(struct ctl_reply *rep, uint64_t status, const char *fmt, ...)
{
	char	buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	reply_end(rep, status == 0 ? 1 : status, "error", buf);
}

static void
accept_one(struct ctl_server *cs, uint64_t now)
{
	struct ucred	   cred;
	socklen_t	   cl = sizeof(cred);
	struct ctl_client *c = NULL;
	int		   fd, i;

	fd = accept4(cs->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0) {
		close(fd);
		return;
	}
	if (cred.uid != 0 && cred.uid != geteuid() &&
	    (cs->allowed_gid == (gid_t)-1 || cred.gid != cs->allowed_gid)) {
		cs->st.n_refused_cred++;
		log_warnx("control: refused pid %d uid %u gid %u",
		    (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid);
		close(fd);
		return;
	}
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (cs->cl[i].fd < 0) {
			c = &cs->cl[i];
			break;
		}
	if (c == NULL) {
		close(fd); /* busy: the client sees the connection close */
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.privileged = cred.uid == 0 || cred.uid == geteuid() ||
	    (cs->allowed_gid != (gid_t)-1 && cred.gid == cs->allowed_gid);
	c->last_ms = now;
	cs->st.n_accepted++;
}

static void
read_one(struct ctl_server *cs, struct ctl_client *c, uint64_t now)
{
	static uint8_t	       buf[CTLP_MAX_MSG];
	static struct ctlp_msg m;
	struct ctl_reply       rep;
	const char	      *why = NULL;
	ssize_t		       n;

	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->last_ms = now;
	memset(&rep, 0, sizeof(rep));
	rep.cl = c;
	if ((size_t)n > sizeof(buf))
		why = "message too large";
	else if (ctlp_decode(buf, (size_t)n, &m, &why) == 0 &&
	    (m.type < CTLP_REQ_STATUS || m.type >= CTLP_REQ__MAX))
		why = "not a request";
	if (why != NULL) {
		/* Answer once, then hang up: the client is broken or hostile. */
		cs->st.n_bad_msg++;
		ctl_reply_error(&rep, 2, "bad request: %s", why);
		c->closing = 1;
		flush_out(cs, c, now);
		return;
	}
	cs->st.n_requests++;
	cs->fn(cs->arg, &c->peer, &m, &rep);
	if (!rep.ended)
		ctl_reply_error(&rep, 1, "internal error: no reply");
	flush_out(cs, c, now);
}

void
ctl_process(
    struct ctl_server *cs, const struct pollfd *pfd, size_t n, uint64_t mono_ms)
{
	size_t i;
	int    j;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (pfd[i].fd == cs->lfd) {
			accept_one(cs, mono_ms);
			continue;
		}
		for (j = 0; j < CTL_MAX_CLIENTS; j++) {
			struct ctl_client *c = &cs->cl[j];

			if (c->fd != pfd[i].fd)
				continue;
			if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL) &&
			    !(pfd[i].revents & POLLIN))
				client_close(c);
			else if (c->outq_off < c->outq_len)
				flush_out(cs, c, mono_ms);
			else if (pfd[i].revents & POLLIN)
				read_one(cs, c, mono_ms);
			break;
		}
	}
	/* Idle and stalled clients. */
	for (j = 0; j < CTL_MAX_CLIENTS; j++) {
		struct ctl_client *c = &cs->cl[j];

		if (c->fd >= 0 && mono_ms - c->last_ms > CTL_IDLE_MS)
			client_close(c);
	}
}

void
ctl_get_stats(const struct ctl_server *cs, struct ctl_stats *st)
{
	*st = cs->st;
}
