/*
 * ifmon.h: interface and address monitoring through libnl-route.
 *
 * A libnl cache manager keeps "route/link" and "route/addr" caches in step
 * with the kernel from one netlink socket the event loop polls; a
 * generation number says when anything changed, so the loop re-checks only
 * then.  Callers ask for an interface's state by name (gone, down, no
 * carrier, up: asked of the kernel itself, see ifmon.c for why) and for its
 * addresses (for `home_nets = auto`).
 *
 * The caches describe the network namespace the process runs in.
 */
#ifndef SENSORD_IFMON_H
#define SENSORD_IFMON_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct ifmon;

enum ifmon_state {
	IFMON_GONE,	  /* no interface of that name */
	IFMON_DOWN,	  /* administratively down (no IFF_UP) */
	IFMON_NO_CARRIER, /* up, operstate down / lower layer down */
	IFMON_UP	  /* up and not known to lack a carrier */
};

/* NULL with a message in err (names the netlink step that failed). */
struct ifmon *ifmon_new(char *err, size_t errlen);
void	      ifmon_free(struct ifmon *im);
int	      ifmon_fd(const struct ifmon *im);
/*
 * Read pending netlink messages (never blocks).  When notifications were
 * lost (socket buffer overrun), the caches are rebuilt from a fresh dump
 * and the generation bumped: returns 1 then, 0 normally, -1 when even the
 * rebuild failed (err says why; the old caches stay, possibly stale).
 */
int ifmon_process(struct ifmon *im, char *err, size_t errlen);
/* Bumped on every link or address change seen. */
uint64_t	 ifmon_generation(const struct ifmon *im);
enum ifmon_state ifmon_link_state(struct ifmon *im, const char *name);
const char	*ifmon_state_name(enum ifmon_state st);
/*
 * Prefixes configured on `name` (network part, host bits cleared, IPv4
 * mapped as everywhere), at most `max`; the number stored.  Duplicates
 * (two addresses in one prefix) are stored once.
 */
size_t ifmon_addrs(
    struct ifmon *im, const char *name, struct cidr *out, size_t max);

#endif /* SENSORD_IFMON_H */
