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
int	priv_lookup(const char *user, uid_t *uid, gid_t *gid);

/*
 * Switch to uid/gid (supplementary groups of the user), keep CAP_NET_RAW
 * permitted and effective, drop every other capability.  -1 with errno on
 * any failure: the caller must refuse to run as root then.
 */
int	priv_drop(const char *user, uid_t uid, gid_t gid);

#endif /* SENSORD_PRIVDROP_H */
