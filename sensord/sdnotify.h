/*
 * sdnotify.h: systemd's readiness protocol without libsystemd: one
 * datagram per state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...",
 * "WATCHDOG=1") to the AF_UNIX socket named by $NOTIFY_SOCKET.  A no-op
 * when not started by systemd.
 */
#ifndef SENSORD_SDNOTIFY_H
#define SENSORD_SDNOTIFY_H

#include <stdint.h>

/* Reads $NOTIFY_SOCKET and $WATCHDOG_USEC once; 0 even when absent. */
int		sdn_init(void);
/* Send one state string; -1 on a send error (nothing else happens). */
int		sdn_send(const char *state);
int		sdn_sendf(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* Watchdog interval in microseconds, 0 when not asked for. */
uint64_t	sdn_watchdog_usec(void);

#endif /* SENSORD_SDNOTIFY_H */
