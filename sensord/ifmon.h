/*
 * ifmon.h: interface and address monitoring through libnl-route.
 *
 * A libnl cache manager keeps "route/link" and "route/addr" caches in step
 * with the kernel from one netlink socket the event loop polls.  Callers ask
 * for the current state by name (exists? up?) and for an interface's
 * addresses (for `home_nets = auto`); a generation number says when
 * anything changed, so the loop re-checks only then.
 */
#ifndef SENSORD_IFMON_H
#define SENSORD_IFMON_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct ifmon;

struct ifmon	*ifmon_new(char *err, size_t errlen);
void		 ifmon_free(struct ifmon *im);
int		 ifmon_fd(const struct ifmon *im);
/* Read pending netlink messages; -1 on a socket error. */
int		 ifmon_process(struct ifmon *im);
/* Bumped on every link or address change seen. */
uint64_t	 ifmon_generation(const struct ifmon *im);
/* *exists and *up (IFF_UP and carrier not down) for interface `name`. */
void		 ifmon_link(struct ifmon *im, const char *name, int *exists,
		    int *up);
/* Prefixes configured on `name` (network part), at most `max`. */
size_t		 ifmon_addrs(struct ifmon *im, const char *name,
		    struct cidr *out, size_t max);

#endif /* SENSORD_IFMON_H */
