/*
 * log.c: see log.h.  Kept tiny on purpose: one formatting path, the
 * destination chosen once at start-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static enum log_dest log_dest = LOG_TO_STDERR;
static int	     log_verbosity;
static const char   *log_prog = "sensord";

void
log_init(const char *progname, enum log_dest dest, int verbose)
{
	log_prog = progname;
	log_dest = dest;
	log_verbosity = verbose;
	if (dest == LOG_TO_SYSLOG)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_verbose(void)
{
	return log_verbosity;
}

static void __attribute__((format(printf, 2, 0)))
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char buf[1024];
	int  saved = errno;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_dest == LOG_TO_SYSLOG) {
		if (suffix != NULL)
			syslog(pri, "%s: %s", buf, suffix);
		else
			syslog(pri, "%s", buf);
	} else {
		if (suffix != NULL)
			fprintf(stderr, "<%d>%s: %s: %s\n", pri, log_prog, buf,
			    suffix);
		else
			fprintf(stderr, "<%d>%s: %s\n", pri, log_prog, buf);
	}
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	    ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbosity)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	    ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

int
log_state(int *state, int now_bad, const char *fmt, ...)
{
	va_list ap;

	if (*state == now_bad)
		return 0;
	*state = now_bad;
	va_start(ap, fmt);
	vlog(now_bad ? LOG_WARNING : LOG_INFO, fmt, ap, NULL);
	va_end(ap);
	return 1;
}
