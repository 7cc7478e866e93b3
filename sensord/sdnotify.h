/*
 * sdnotify.h: systemd's readiness protocol without libsystemd: one
 * datagram per state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...",
 * "WATCHDOG=1") to the AF_UNIX socket named by $NOTIFY_SOCKET.  A no-op
 * when not started by systemd.
 */
#ifndef SENSORD_SDNOTIFY_H
#define SENSORD_SDNOTIFY_H

#include <stdint.h>

/*
 * Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID once and connects
 * the socket (so that a later privilege drop cannot lose it).  0, also when
 * absent; -1 when NOTIFY_SOCKET is set but unusable (nothing will be sent).
 */
int sdn_init(void);
/* 1 when notifications go somewhere. */
int sdn_enabled(void);
/* Send one state string; -1 on a send error (nothing else happens). */
int sdn_send(const char *state);
int sdn_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "RELOADING=1" with MONOTONIC_USEC (systemd >= 253 wants it; 252 ignores). */
int sdn_reloading(void);
/* Watchdog interval in microseconds, 0 when not asked for (or not us). */
uint64_t sdn_watchdog_usec(void);

#endif /* SENSORD_SDNOTIFY_H */
