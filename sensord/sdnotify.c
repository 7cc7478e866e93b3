/*
 * sdnotify.c: see sdnotify.h and sd_notify(3); modelled on
 * systemd/systemd:man/notify-selfcontained-example.c.
 *
 * The socket path may be abstract (leading '@').  The fd is opened once,
 * O_CLOEXEC, and connected at start-up, before any privilege drop or
 * sandboxing: sendto() to a path re-checks write permission on the socket
 * file on every datagram, which the unprivileged user may not have (a
 * root-owned socket with mode 0755).  If the peer goes away and comes back
 * (the manager re-executed), a connected send fails; we then fall back to
 * sendto() with the saved address.
 *
 * WATCHDOG_PID, when set, names the process the watchdog is meant for; a
 * child that inherited the environment must not answer for its parent.
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"

static int		  sdn_fd = -1;
static int		  sdn_connected;
static struct sockaddr_un sdn_addr;
static socklen_t	  sdn_addrlen;
static uint64_t		  sdn_wd_usec;

/* Decimal without sign or garbage; 0 and *out, or -1. */
static int
sdn_parse_u64(const char *s, uint64_t *out)
{
	char		  *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
sdn_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	uint64_t    v, pid;
	size_t	    len;

	if (sdn_parse_u64(getenv("WATCHDOG_USEC"), &v) == 0 && v > 0) {
		if (getenv("WATCHDOG_PID") == NULL ||
		    (sdn_parse_u64(getenv("WATCHDOG_PID"), &pid) == 0 &&
			pid == (uint64_t)getpid()))
			sdn_wd_usec = v;
	}
	if (path == NULL)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len < 2 ||
	    len >= sizeof(sdn_addr.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sdn_addr, 0, sizeof(sdn_addr));
	sdn_addr.sun_family = AF_UNIX;
	memcpy(sdn_addr.sun_path, path, len);
	if (path[0] == '@')
		sdn_addr.sun_path[0] = '\0';
	sdn_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if ((sdn_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	sdn_connected =
	    connect(sdn_fd, (struct sockaddr *)&sdn_addr, sdn_addrlen) == 0;
	return 0;
}

int
sdn_enabled(void)
{
	return sdn_fd >= 0;
}

int
sdn_send(const char *state)
{
	size_t len = strlen(state);

	if (sdn_fd < 0)
		return 0;
	if (sdn_connected) {
		if (send(sdn_fd, state, len, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != ECONNREFUSED && errno != ENOTCONN)
			return -1;
	}
	if (sendto(sdn_fd, state, len, MSG_NOSIGNAL,
		(struct sockaddr *)&sdn_addr, sdn_addrlen) < 0)
		return -1;
	return 0;
}

int
sdn_sendf(const char *fmt, ...)
{
	char	buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return sdn_send(buf);
}

int
sdn_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return sdn_sendf("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ull +
		(unsigned long long)ts.tv_nsec / 1000ull);
}

uint64_t
sdn_watchdog_usec(void)
{
	return sdn_wd_usec;
}
