/*
 * log.h: the daemon's logging API (the shape of OpenBSD bgpd's log.h).
 *
 * Only the daemon layer logs (sensord.c, the loop, capture, control, the
 * reload path); pure modules return a status and bump counters.  Lines go
 * to stderr with a "<N>" syslog priority prefix when running under systemd
 * (JOURNAL_STREAM set) or in the foreground, to syslog(3) otherwise.  All
 * functions preserve errno.
 */
#ifndef SENSORD_LOG_H
#define SENSORD_LOG_H

#include <stdarg.h>

enum log_dest { LOG_TO_STDERR, LOG_TO_SYSLOG };

void log_init(const char *progname, enum log_dest dest, int verbose);
int  log_verbose(void);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Log a repeating condition once per change of state.  `*state` holds the
 * last state logged; when `now_bad` differs, log the message (the caller
 * formats the transition) and remember it.  Returns 1 when it logged.
 */
int log_state(int *state, int now_bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* SENSORD_LOG_H */
