/*
 * control.h: the daemon side of the control socket.
 *
 * AF_UNIX SOCK_SEQPACKET at a path (default /run/sensord/control.sock),
 * mode 0660, group sensord.  Every connection's peer credentials are read
 * with SO_PEERCRED and checked before anything else.  Clients are
 * non-blocking with a bounded output queue: a client that does not read its
 * replies is disconnected, never waited on, so capture never stalls.  One
 * request per message; a message that does not decode is answered with an
 * error and the connection closed.
 */
#ifndef SENSORD_CONTROL_H
#define SENSORD_CONTROL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctlproto.h"

#define CTL_MAX_CLIENTS 16

struct ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int   privileged; /* may escalate, release, reload */
};

struct ctl_reply;

/*
 * Called once per request; adds records with ctl_reply_record() and ends
 * with ctl_reply_ok() or ctl_reply_error().  (The server ends the reply
 * with an error itself if the handler did neither.)
 */
typedef void ctl_handler_fn(void *arg, const struct ctl_peer *peer,
    const struct ctlp_msg *req, struct ctl_reply *rep);

struct ctl_server;

/*
 * Bind and listen.  allowed_gid: peers whose uid is 0, our own uid, or
 * whose primary group is allowed_gid may talk; (gid_t)-1 = root and our
 * uid only.  NULL with a message in err on failure.
 */
struct ctl_server *ctl_open(const char *path, gid_t allowed_gid,
    ctl_handler_fn *fn, void *arg, char *err, size_t errlen);
void		   ctl_close(struct ctl_server *cs);

/* Poll set: fill up to max entries, returns how many. */
size_t ctl_pollfds(const struct ctl_server *cs, struct pollfd *pfd, size_t max);
/* Handle whatever is ready among the entries ctl_pollfds() filled. */
void ctl_process(struct ctl_server *cs, const struct pollfd *pfd, size_t n,
    uint64_t mono_ms);

/* Reply building (inside the handler). */
struct ctlp_out *ctl_reply_record(struct ctl_reply *rep);
void		 ctl_reply_commit(struct ctl_reply *rep);
void		 ctl_reply_ok(struct ctl_reply *rep, const char *message);
void ctl_reply_error(struct ctl_reply *rep, uint64_t status, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

struct ctl_stats {
	uint64_t n_accepted;
	uint64_t n_refused_cred;
	uint64_t n_bad_msg;
	uint64_t n_slow_dropped;
	uint64_t n_requests;
};
void ctl_get_stats(const struct ctl_server *cs, struct ctl_stats *st);

#endif /* SENSORD_CONTROL_H */
