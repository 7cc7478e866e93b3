/*
 * Unit tests for ifmon.c against the real kernel (netlink is the fixture).
 *
 * ifmon_new() failing with "Unknown or invalid cache type" is the libnl
 * --as-needed trap (STYLE.md §14.1): the first check catches it.  As root,
 * the second half moves into a fresh network namespace, where lo starts
 * down without addresses, brings it up with an ioctl and checks that the
 * change arrives through the netlink socket (generation, state, the
 * addresses the kernel gives lo).
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ifmon.h"
#include "t.h"
#include "util.h"

static int
has_prefix(const struct cidr *v, size_t n, const char *text)
{
	struct cidr want;
	size_t i;

	if (cidr_parse(text, &want) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i].len == want.len &&
		    memcmp(v[i].addr, want.addr, 16) == 0)
			return 1;
	return 0;
}

/* Read netlink until the generation moves or 2 s pass. */
static int
wait_change(struct ifmon *im, uint64_t gen)
{
	struct pollfd p;
	char err[256];
	int i;

	for (i = 0; i < 20 && ifmon_generation(im) == gen; i++) {
		p.fd = ifmon_fd(im);
		p.events = POLLIN;
		if (poll(&p, 1, 100) > 0 && ifmon_process(im, err,
		    sizeof(err)) < 0)
			return -1;
	}
	return ifmon_generation(im) != gen ? 0 : -1;
}

static void
test_new_namespace(void)
{
	struct ifmon *im;
	struct cidr v[16];
	struct ifreq ifr;
	char err[256];
	uint64_t gen;
	size_t n;
	int s;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		printf("# not root (or no unshare): no namespace checks\n");
		return;
	}
	im = ifmon_new(err, sizeof(err));
	T_OK(im != NULL, "ifmon_new in a new namespace (%s)",
	    im ? "ok" : err);
	if (im == NULL)
		return;
	T_EQ_INT(ifmon_link_state(im, "lo"), IFMON_DOWN,
	    "lo of a new namespace is down");
	T_EQ_U64(ifmon_addrs(im, "lo", v, 16), 0, "and has no address");
	T_EQ_INT(ifmon_link_state(im, "eth0"), IFMON_GONE,
	    "nothing else exists there");

	gen = ifmon_generation(im);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	util_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	T_OK(s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS lo");
	ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
	T_OK(ioctl(s, SIOCSIFFLAGS, &ifr) == 0, "lo up (ioctl)");
	close(s);

	T_EQ_INT(wait_change(im, gen), 0, "the change arrives by netlink");
	T_EQ_INT(ifmon_link_state(im, "lo"), IFMON_UP, "lo is up now");
	/* The addresses follow the link message; give them a moment too. */
	gen = ifmon_generation(im);
	n = ifmon_addrs(im, "lo", v, 16);
	if (!has_prefix(v, n, "127.0.0.0/8")) {
		(void)wait_change(im, gen);
		n = ifmon_addrs(im, "lo", v, 16);
	}
	T_OK(has_prefix(v, n, "127.0.0.0/8"),
	    "the kernel gave lo 127.0.0.1/8 (%zu prefixes)", n);
	ifmon_free(im);
}

int
main(void)
{
	struct ifmon *im;
	struct cidr v[64], one;
	char err[256], buf[64];
	size_t n, i;
	int dup = 0;

	err[0] = '\0';
	im = ifmon_new(err, sizeof(err));
	T_OK(im != NULL, "ifmon_new (libnl-route linked: %s)",
	    im ? "yes" : err);
	if (im == NULL)
		return t_done();
	T_OK(ifmon_fd(im) >= 0, "netlink fd to poll");
	T_OK(ifmon_generation(im) != 0, "generation starts non-zero");
	T_EQ_INT(ifmon_process(im, err, sizeof(err)), 0,
	    "process with nothing pending returns at once");

	T_EQ_INT(ifmon_link_state(im, "lo"), IFMON_UP, "lo exists and is up");
	T_EQ_STR(ifmon_state_name(ifmon_link_state(im, "lo")), "up",
	    "state name");
	T_EQ_INT(ifmon_link_state(im, "sdt-no-such0"), IFMON_GONE,
	    "unknown interface is gone");
	T_EQ_U64(ifmon_addrs(im, "sdt-no-such0", v, 64), 0,
	    "unknown interface has no addresses");

	n = ifmon_addrs(im, "lo", v, 64);
	T_OK(has_prefix(v, n, "127.0.0.0/8"), "lo has 127.0.0.0/8 (%zu)", n);
	for (i = 0; i < n; i++) {
		cidr_fmt(&v[i], buf, sizeof(buf));
		printf("# lo: %s\n", buf);
		if (i > 0 && v[i].len == v[0].len &&
		    memcmp(v[i].addr, v[0].addr, 16) == 0)
			dup = 1;
		/* Host bits are cleared: parsing the text gives it back. */
		T_EQ_INT(cidr_parse(buf, &one), 0, "canonical prefix");
	}
	T_OK(!dup, "no prefix twice");
	T_EQ_U64(ifmon_addrs(im, "lo", v, 0), 0, "max 0 stores nothing");
	ifmon_free(im);
	ifmon_free(NULL);

	test_new_namespace();
	return t_done();
}
