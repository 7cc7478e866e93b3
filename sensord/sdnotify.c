/*
 * sdnotify.c: see sdnotify.h and sd_notify(3).  The socket path may be
 * abstract (leading '@').  The fd is opened once, O_CLOEXEC, before any
 * privilege drop or sandboxing.
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

static int sdn_fd = -1;
static struct sockaddr_un sdn_addr;
static socklen_t sdn_addrlen;
static uint64_t sdn_wd_usec;

int
sdn_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *wd = getenv("WATCHDOG_USEC");
	size_t len;

	if (wd != NULL) {
		char *end;
		unsigned long long v = strtoull(wd, &end, 10);

		if (*end == '\0')
			sdn_wd_usec = v;
	}
	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return 0;
	len = strlen(path);
	if (len >= sizeof(sdn_addr.sun_path))
		return 0;
	memset(&sdn_addr, 0, sizeof(sdn_addr));
	sdn_addr.sun_family = AF_UNIX;
	memcpy(sdn_addr.sun_path, path, len);
	if (path[0] == '@')
		sdn_addr.sun_path[0] = '\0';
	sdn_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	sdn_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return 0;
}

int
sdn_send(const char *state)
{
	if (sdn_fd < 0)
		return 0;
	if (sendto(sdn_fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sdn_addr, sdn_addrlen) < 0)
		return -1;
	return 0;
}

int
sdn_sendf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return sdn_send(buf);
}

uint64_t
sdn_watchdog_usec(void)
{
	return sdn_wd_usec;
}
