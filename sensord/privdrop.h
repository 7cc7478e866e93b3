/*
 * privdrop.h: become the unprivileged sensord user, keeping only
 * CAP_NET_RAW (to reopen captures when an interface comes back).
 */
#ifndef SENSORD_PRIVDROP_H
#define SENSORD_PRIVDROP_H

#include <sys/types.h>

/*
 * Look the user up: 0 and its ids, or -1 (errno ENOENT when it does not
 * exist).  Called before anything is created, so the state directory can
 * be given to that user.
 */
int priv_lookup(const char *user, uid_t *uid, gid_t *gid);

/*
 * Give directory `dir` to uid:gid with mode 0750 (not following a symlink
 * in its last component).  Refuses "/" and a directory owned by a third
 * user (EPERM): the state directory is sensord's own (retention deletes
 * files in it), never a shared one.
 */
int priv_own_dir(const char *dir, uid_t uid, gid_t gid);

/*
 * Switch to uid/gid (with the user's supplementary groups), keep
 * CAP_NET_RAW permitted and effective, drop every other capability from
 * every set including the bounding set, set no_new_privs.  Must run before
 * any thread exists (capabilities are per thread).  -1 with errno on any
 * failure: the caller must refuse to run then (the process may be half
 * dropped).
 */
int priv_drop(const char *user, uid_t uid, gid_t gid);

/* The effective capability set as a bit mask (tests, the log line). */
int priv_caps(unsigned long long *eff, unsigned long long *prm);

#endif /* SENSORD_PRIVDROP_H */
