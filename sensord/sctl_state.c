/*
 * sctl_state.c: what the offline commands of sensorctl share: opening the
 * state directory with a message people can act on, and time bounds.
 * Owns nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sensorctl.h"

int
sctl_state_open(const struct sctl_args *a)
{
	int fd;

	fd = open(a->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr,
		    "sensorctl: cannot open state directory %s: "
		    "%s\n",
		    a->state_dir, strerror(errno));
	return fd;
}

void
sctl_range_ns(const struct sctl_args *a, uint64_t *since_ns, uint64_t *until_ns)
{
	*since_ns = 0;
	*until_ns = UINT64_MAX;
	if (a->has_since)
		*since_ns = a->since_us > UINT64_MAX / 1000
		    ? UINT64_MAX
		    : a->since_us * 1000;
	if (a->has_until && a->until_us <= (UINT64_MAX - 999) / 1000)
		*until_ns = a->until_us * 1000 + 999;
}
