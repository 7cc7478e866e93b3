/*
 * t.h: the in-tree unit-test harness (header only).
 *
 * Each check prints "ok N - what" or "not ok N - what (file:line)"; the
 * runner (tests/run.sh) counts those lines across all test programs.
 * t_done() prints a summary comment and returns the exit status.
 */
#ifndef SENSORD_T_H
#define SENSORD_T_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_n_pass, t_n_fail;

static void __attribute__((format(printf, 4, 5), unused))
t_report(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", t_n_pass + t_n_fail + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf(" (%s:%d)", file, line);
	printf("\n");
	fflush(stdout);
	if (ok)
		t_n_pass++;
	else
		t_n_fail++;
}

#define T_OK(cond, ...) t_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define T_EQ_INT(got, want, name) do {					\
	long long t_g_ = (long long)(got), t_w_ = (long long)(want);	\
	t_report(t_g_ == t_w_, __FILE__, __LINE__, "%s: got %lld, want %lld", \
	    (name), t_g_, t_w_);					\
} while (0)

#define T_EQ_U64(got, want, name) do {					\
	unsigned long long t_g_ = (got), t_w_ = (want);			\
	t_report(t_g_ == t_w_, __FILE__, __LINE__, "%s: got %llu, want %llu", \
	    (name), t_g_, t_w_);					\
} while (0)

#define T_EQ_STR(got, want, name) do {					\
	const char *t_g_ = (got), *t_w_ = (want);			\
	t_report(t_g_ != NULL && strcmp(t_g_, t_w_) == 0, __FILE__, __LINE__, \
	    "%s: got \"%s\", want \"%s\"", (name), t_g_ ? t_g_ : "(null)", \
	    t_w_);							\
} while (0)

#define T_EQ_MEM(got, want, n, name)					\
	t_report(memcmp((got), (want), (n)) == 0, __FILE__, __LINE__,	\
	    "%s", (name))

static int __attribute__((unused))
t_done(void)
{
	printf("# %d passed, %d failed\n", t_n_pass, t_n_fail);
	return t_n_fail == 0 && t_n_pass > 0 ? 0 : 1;
}

#endif /* SENSORD_T_H */
