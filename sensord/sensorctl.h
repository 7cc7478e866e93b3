/*
 * sensorctl.h: the offline (state-directory) commands of sensorctl, kept
 * in the library so that tests can call them too.
 */
#ifndef SENSORD_SENSORCTL_H
#define SENSORD_SENSORCTL_H

#include <stdint.h>

struct sctl_args {
	const char	*state_dir;
	const char	*arg;		/* positional: HOST */
	const char	*host;		/* --host */
	const char	*filter;	/* --filter BPF */
	const char	*output;	/* -o */
	const char	*reason;
	uint64_t	 for_s;
	uint64_t	 since_us, until_us;
	uint64_t	 limit;
	int		 has_since, has_until;
	int		 port, has_port;
	int		 json;
};

int	sctl_captures(const struct sctl_args *a);
int	sctl_extract(const struct sctl_args *a);
int	sctl_flows(const struct sctl_args *a);

#endif /* SENSORD_SENSORCTL_H */
