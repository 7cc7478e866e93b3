/*
 * sensorctl.h: the offline (state-directory) commands of sensorctl, kept
 * in the library so that tests can call them too.
 */
#ifndef SENSORD_SENSORCTL_H
#define SENSORD_SENSORCTL_H

#include <stdint.h>

struct sctl_args {
	const char *state_dir;
	const char *arg;    /* positional: HOST */
	const char *host;   /* --host */
	const char *filter; /* --filter BPF */
	const char *output; /* -o */
	const char *reason;
	uint64_t    for_s;
	uint64_t    since_us, until_us;
	uint64_t    limit;
	int	    has_since, has_until;
	int	    port, has_port;
	int	    json;
};

/*
 * The offline commands.  Each prints its output to stdout and its problems
 * to stderr, and returns sensorctl's exit status (SCTL_EXIT_*).
 */
int sctl_captures(const struct sctl_args *a);
int sctl_extract(const struct sctl_args *a);
int sctl_flows(const struct sctl_args *a);

/* Exit statuses (sensorctl(8)). */
#define SCTL_EXIT_OK 0
#define SCTL_EXIT_USAGE 1
#define SCTL_EXIT_STATE 2 /* state directory unreadable */
#define SCTL_EXIT_REFUSED 3
#define SCTL_EXIT_INTEGRITY 4 /* a file does not match its sidecar */

/* Helpers shared by the sctl_*.c files. */

/*
 * Open a's state directory (O_DIRECTORY); on failure print why to stderr
 * and return -1.
 */
int sctl_state_open(const struct sctl_args *a);

/*
 * The time bounds of a in nanoseconds, both inclusive: since (0 when not
 * given) and until (UINT64_MAX when not given; the last nanosecond of the
 * microsecond given otherwise).
 */
void sctl_range_ns(
    const struct sctl_args *a, uint64_t *since_ns, uint64_t *until_ns);

#endif /* SENSORD_SENSORCTL_H */
