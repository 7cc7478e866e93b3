/*
 * polmap.h: the policy, as the engines want it.
 *
 * The policy module parses and validates; the engines (flow table,
 * baselines, escalation, capture) each take their own plain config struct.
 * This module is the one place that translates, so that neither side
 * depends on the other's representation.  A translated snapshot is built
 * whole for every policy load and swapped with it.
 */
#ifndef SENSORD_POLMAP_H
#define SENSORD_POLMAP_H

#include <stddef.h>

#include "baseline.h"
#include "escalate.h"
#include "policy.h"

struct polmap {
	const struct policy    *pol;
	struct bl_config	table;	   /* table-wide + default host */
	size_t			n;	   /* host files */
	const struct pol_host **hosts;	   /* pol_host_at(pol, i) */
	struct bl_config       *bl;	   /* per host file */
	unsigned		n_dropped; /* thresholds on windows the
						   table does not keep */
};

/*
 * Translate; home nets from the policy unless `home` (the --home-net
 * override or the interfaces' own addresses for `auto`) is given.  NULL
 * with a message in err when a translated config is refused.
 */
struct polmap *polmap_new(const struct policy *pol, uint64_t seed,
    const struct cidr *home, size_t n_home, char *err, size_t errlen);
void	       polmap_free(struct polmap *pm);

/* host_policy_fn for the host table: the baseline config of an address. */
const struct bl_config *polmap_bl_for(void *arg, const uint8_t addr[16]);

/* Escalation settings of a host's effective policy. */
void polmap_esc(const struct pol_host *ph, struct esc_policy *ep);

#endif /* SENSORD_POLMAP_H */
