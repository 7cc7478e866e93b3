/*
 * ifmon.c: see ifmon.h.
 *
 * Linker trap (STYLE.md §14.1): with --as-needed, a program that names the
 * caches only by string never calls into libnl-route, the library is
 * dropped, and nl_cache_mngr_add() fails with "Unknown or invalid cache
 * type".  We call rtnl_addr_get_*() directly, which keeps it linked;
 * test_ifmon checks ifmon_new() succeeds.
 *
 * Lost notifications: netlink is a datagram protocol; when the socket
 * buffer overflows (a burst of address changes, a VM with hundreds of
 * veths) the kernel drops messages and the next read fails with ENOBUFS.
 * The caches would then silently disagree with the kernel, so the whole
 * manager is rebuilt from fresh dumps.  A 1 MiB receive buffer makes that
 * rare.
 *
 * Link state is not read from the link cache.  libnl keeps one link
 * object per (ifindex, family): besides the AF_UNSPEC (or, for a bridge,
 * AF_BRIDGE) object there are AF_INET6 ones, and when the interface is
 * deleted only the first goes; a lookup by name then finds the stale
 * AF_INET6 object and reports a deleted bridge or veth "up" forever
 * (measured with libnl 3.7 on Linux 6.x; thom311/libnl#287 is the same
 * family confusion).  The caches serve as the change notifier (the
 * generation) and for addresses, which are deleted one by one; whether an
 * interface exists and is up is asked of the kernel with SIOCGIFFLAGS, and
 * its index with SIOCGIFINDEX, so the answer is never stale.
 *
 * Cost: two ioctls per lookup; the loop asks only when the generation
 * changed or on the 1 Hz tick.  An address lookup walks the address cache
 * (a handful of entries on a sensor).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "ifmon.h"

#define IFMON_RCVBUF (1 << 20)

struct ifmon {
	int		      iofd; /* any socket: interface ioctls */
	struct nl_sock	     *sock; /* ours: the manager does not free it */
	struct nl_cache_mngr *mngr;
	struct nl_cache	     *links;
	struct nl_cache	     *addrs;
	uint64_t	      gen;
};

static void
ifmon_changed(
    struct nl_cache *cache, struct nl_object *obj, int action, void *arg)
{
	struct ifmon *im = arg;

	(void)cache;
	(void)obj;
	(void)action;
	im->gen++;
}

static void
ifmon_close(struct ifmon *im)
{
	if (im->mngr != NULL)
		nl_cache_mngr_free(im->mngr);
	if (im->sock != NULL)
		nl_socket_free(im->sock);
	im->mngr = NULL;
	im->sock = NULL;
	im->links = im->addrs = NULL;
}

/* Socket, manager, both caches (each filled by a dump); 0 or -1 and err. */
static int
ifmon_open(struct ifmon *im, char *err, size_t errlen)
{
	int rc;

	if ((im->sock = nl_socket_alloc()) == NULL) {
		snprintf(err, errlen, "netlink: out of memory");
		return -1;
	}
	rc = nl_cache_mngr_alloc(
	    im->sock, NETLINK_ROUTE, NL_AUTO_PROVIDE, &im->mngr);
	if (rc < 0) {
		snprintf(
		    err, errlen, "netlink: cache manager: %s", nl_geterror(rc));
		im->mngr = NULL;
		ifmon_close(im);
		return -1;
	}
	/* Best effort: a smaller buffer only makes resyncs more likely. */
	(void)nl_socket_set_buffer_size(im->sock, IFMON_RCVBUF, 0);
	if ((rc = nl_cache_mngr_add(
		 im->mngr, "route/link", ifmon_changed, im, &im->links)) < 0 ||
	    (rc = nl_cache_mngr_add(
		 im->mngr, "route/addr", ifmon_changed, im, &im->addrs)) < 0) {
		snprintf(err, errlen, "netlink: link/address cache: %s",
		    nl_geterror(rc));
		ifmon_close(im);
		return -1;
	}
	return 0;
}

struct ifmon *
ifmon_new(char *err, size_t errlen)
{
	struct ifmon *im;

	if ((im = calloc(1, sizeof(*im))) == NULL) {
		snprintf(err, errlen, "netlink: out of memory");
		return NULL;
	}
	if ((im->iofd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(
		    err, errlen, "interface ioctl socket: %s", strerror(errno));
		free(im);
		return NULL;
	}
	if (ifmon_open(im, err, errlen) != 0) {
		close(im->iofd);
		free(im);
		return NULL;
	}
	im->gen = 1;
	return im;
}

void
ifmon_free(struct ifmon *im)
{
	if (im == NULL)
		return;
	ifmon_close(im);
	close(im->iofd);
	free(im);
}

int
ifmon_fd(const struct ifmon *im)
{
	return im->mngr != NULL ? nl_cache_mngr_get_fd(im->mngr) : -1;
}

int
ifmon_process(struct ifmon *im, char *err, size_t errlen)
{
	struct ifmon fresh;

	if (im->mngr != NULL && nl_cache_mngr_data_ready(im->mngr) >= 0)
		return 0;
	/*
	 * Messages were lost or the socket broke: build a new manager first
	 * and swap, so a failure leaves the old (stale) caches usable.
	 */
	memset(&fresh, 0, sizeof(fresh));
	if (ifmon_open(&fresh, err, errlen) != 0)
		return -1;
	ifmon_close(im);
	im->sock = fresh.sock;
	im->mngr = fresh.mngr;
	im->links = fresh.links;
	im->addrs = fresh.addrs;
	im->gen++;
	return 1;
}

uint64_t
ifmon_generation(const struct ifmon *im)
{
	return im->gen;
}

/* ioctl `req` on interface `name`; 0, or -1 (ENODEV: no such name). */
static int
ifmon_ioctl(
    struct ifmon *im, const char *name, unsigned long req, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	if (util_strlcpy(ifr->ifr_name, name, sizeof(ifr->ifr_name)) >=
	    sizeof(ifr->ifr_name)) {
		errno = ENODEV;
		return -1;
	}
	return ioctl(im->iofd, req, ifr);
}

enum ifmon_state
ifmon_link_state(struct ifmon *im, const char *name)
{
	struct ifreq ifr;
	unsigned     flags;

	if (ifmon_ioctl(im, name, SIOCGIFFLAGS, &ifr) != 0)
		return IFMON_GONE;
	flags = (unsigned)(unsigned short)ifr.ifr_flags;
	if ((flags & IFF_UP) == 0)
		return IFMON_DOWN;
	/*
	 * IFF_RUNNING is the kernel's netif_oper_up(): operstate UP or
	 * UNKNOWN (lo, tun).  Without it the link has no carrier (or is
	 * DORMANT, which carries no data either).
	 */
	if ((flags & IFF_RUNNING) == 0)
		return IFMON_NO_CARRIER;
	return IFMON_UP;
}

const char *
ifmon_state_name(enum ifmon_state st)
{
	switch (st) {
	case IFMON_GONE:
		return "gone";
	case IFMON_DOWN:
		return "down";
	case IFMON_NO_CARRIER:
		return "up without carrier";
	case IFMON_UP:
		return "up";
	}
	return "?";
}

struct addr_walk {
	int	     ifindex;
	struct cidr *out;
	size_t	     max, n;
};

static void
addr_one(struct nl_object *obj, void *arg)
{
	struct addr_walk *w = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct nl_addr	 *local;
	struct cidr	  c;
	unsigned	  plen, i;
	const uint8_t	 *b;

	if (w->n == w->max || rtnl_addr_get_ifindex(a) != w->ifindex)
		return;
	if ((local = rtnl_addr_get_local(a)) == NULL)
		return;
	b = nl_addr_get_binary_addr(local);
	plen = (unsigned)rtnl_addr_get_prefixlen(a);
	memset(&c, 0, sizeof(c));
	if (nl_addr_get_family(local) == AF_INET &&
	    nl_addr_get_len(local) == 4 && plen <= 32) {
		c.addr[10] = c.addr[11] = 0xff;
		memcpy(c.addr + 12, b, 4);
		c.len = (uint8_t)(96 + plen);
	} else if (nl_addr_get_family(local) == AF_INET6 &&
	    nl_addr_get_len(local) == 16 && plen <= 128) {
		memcpy(c.addr, b, 16);
		c.len = (uint8_t)plen;
	} else
		return;
	/* Keep the network part only. */
	for (i = c.len; i < 128; i++)
		c.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
	for (i = 0; i < w->n; i++)
		if (w->out[i].len == c.len &&
		    memcmp(w->out[i].addr, c.addr, 16) == 0)
			return;
	w->out[w->n++] = c;
}

size_t
ifmon_addrs(struct ifmon *im, const char *name, struct cidr *out, size_t max)
{
	struct ifreq	 ifr;
	struct addr_walk w = {0, out, max, 0};

	if (im->addrs == NULL || ifmon_ioctl(im, name, SIOCGIFINDEX, &ifr) != 0)
		return 0;
	/* Addresses of a deleted interface keep its index: never reused. */
	w.ifindex = ifr.ifr_ifindex;
	nl_cache_foreach(im->addrs, addr_one, &w);
	return w.n;
}
