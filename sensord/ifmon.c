/*
 * ifmon.c: see ifmon.h.
 *
 * Linker trap (STYLE.md §14.1): with --as-needed, a program that names the
 * caches only by string never calls into libnl-route, the library is
 * dropped, and nl_cache_mngr_add() fails with "Unknown or invalid cache
 * type".  We call rtnl_link_get_by_name() and rtnl_addr_get_*() directly,
 * which keeps it linked; test_ifmon checks ifmon_new() succeeds.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "ifmon.h"

/* RFC 2863 operational states (linux/if.h clashes with net/if.h). */
#define OPER_DOWN		2
#define OPER_LOWERLAYERDOWN	3

struct ifmon {
	struct nl_cache_mngr	*mngr;
	struct nl_cache		*links;
	struct nl_cache		*addrs;
	uint64_t		 gen;
};

static void
ifmon_changed(struct nl_cache *cache, struct nl_object *obj, int action,
    void *arg)
{
	struct ifmon *im = arg;

	(void)cache;
	(void)obj;
	(void)action;
	im->gen++;
}

struct ifmon *
ifmon_new(char *err, size_t errlen)
{
	struct ifmon *im;
	int rc;

	if ((im = calloc(1, sizeof(*im))) == NULL) {
		snprintf(err, errlen, "netlink: out of memory");
		return NULL;
	}
	rc = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE,
	    &im->mngr);
	if (rc < 0) {
		snprintf(err, errlen, "netlink: cache manager: %s",
		    nl_geterror(rc));
		free(im);
		return NULL;
	}
	if ((rc = nl_cache_mngr_add(im->mngr, "route/link", ifmon_changed, im,
	    &im->links)) < 0 ||
	    (rc = nl_cache_mngr_add(im->mngr, "route/addr", ifmon_changed, im,
	    &im->addrs)) < 0) {
		snprintf(err, errlen, "netlink: link/address cache: %s",
		    nl_geterror(rc));
		nl_cache_mngr_free(im->mngr);
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
	nl_cache_mngr_free(im->mngr);
	free(im);
}

int
ifmon_fd(const struct ifmon *im)
{
	return nl_cache_mngr_get_fd(im->mngr);
}

int
ifmon_process(struct ifmon *im)
{
	return nl_cache_mngr_data_ready(im->mngr) < 0 ? -1 : 0;
}

uint64_t
ifmon_generation(const struct ifmon *im)
{
	return im->gen;
}

void
ifmon_link(struct ifmon *im, const char *name, int *exists, int *up)
{
	struct rtnl_link *l = rtnl_link_get_by_name(im->links, name);
	unsigned flags;

	*exists = l != NULL;
	*up = 0;
	if (l == NULL)
		return;
	flags = rtnl_link_get_flags(l);
	/* Up, and not known to be without carrier (veth peers, cables). */
	*up = (flags & IFF_UP) != 0 &&
	    rtnl_link_get_operstate(l) != OPER_DOWN &&
	    rtnl_link_get_operstate(l) != OPER_LOWERLAYERDOWN;
	rtnl_link_put(l);
}

struct addr_walk {
	int		 ifindex;
	struct cidr	*out;
	size_t		 max, n;
};

static void
addr_one(struct nl_object *obj, void *arg)
{
	struct addr_walk *w = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct nl_addr *local;
	struct cidr *c;
	unsigned plen, i;
	const uint8_t *b;

	if (w->n == w->max || rtnl_addr_get_ifindex(a) != w->ifindex)
		return;
	if ((local = rtnl_addr_get_local(a)) == NULL)
		return;
	b = nl_addr_get_binary_addr(local);
	plen = (unsigned)rtnl_addr_get_prefixlen(a);
	c = &w->out[w->n];
	memset(c, 0, sizeof(*c));
	if (nl_addr_get_family(local) == AF_INET &&
	    nl_addr_get_len(local) == 4 && plen <= 32) {
		c->addr[10] = c->addr[11] = 0xff;
		memcpy(c->addr + 12, b, 4);
		c->len = (uint8_t)(96 + plen);
	} else if (nl_addr_get_family(local) == AF_INET6 &&
	    nl_addr_get_len(local) == 16 && plen <= 128) {
		memcpy(c->addr, b, 16);
		c->len = (uint8_t)plen;
	} else
		return;
	/* Keep the network part only. */
	for (i = c->len; i < 128; i++)
		c->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	w->n++;
}

size_t
ifmon_addrs(struct ifmon *im, const char *name, struct cidr *out, size_t max)
{
	struct rtnl_link *l = rtnl_link_get_by_name(im->links, name);
	struct addr_walk w = { 0, out, max, 0 };

	if (l == NULL)
		return 0;
	w.ifindex = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	nl_cache_foreach(im->addrs, addr_one, &w);
	return w.n;
}
