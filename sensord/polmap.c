/*
 * polmap.c: see polmap.h.
 *
 * Translation rules worth knowing:
 * - Shares are basis points in the policy and fractions in the baselines;
 *   learned multipliers are k * 100 in the policy.
 * - night_bytes_out is judged per quiet hour by the baselines, whatever
 *   window the policy names for it.
 * - The rolling windows are table-wide (they size every host record): the
 *   table keeps the union of the windows of default.conf and every host
 *   file, up to BL_MAX_WINDOWS; a threshold on a window beyond that is
 *   dropped and counted (n_dropped), and the daemon says so at load.
 * - [beacon] becomes one learned beacon threshold (score in percent).
 * - protocols has no spread to learn: its value is the number of IP
 *   protocols outside the host's learned set, so a learned protocols
 *   threshold breaches on the first new protocol whatever its k (k = 3.5
 *   would have asked for four new protocols at once).
 * - The night-upload test of [detect] (learn_k, quiet_hours,
 *   night_upload_min) is a learned night_bytes_out threshold with k =
 *   learn_k, unless the host's policy names a learned night_bytes_out
 *   itself.  night_upload_min is its floor (2TiB in a host file turns it
 *   off in practice).
 * - warmup is counted in active days the baselines keep: it rounds up to
 *   whole days, at least 1, at most BL_HIST_MAX (28); "0s" and "365d" are
 *   valid policy and must not stop the daemon.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polmap.h"

static const enum bl_metric metric_of[POL_M_COUNT] = {
    [POL_M_BYTES_IN] = BL_M_BYTES_IN,
    [POL_M_BYTES_OUT] = BL_M_BYTES_OUT,
    [POL_M_CONNS] = BL_M_CONNS,
    [POL_M_DST_IPS] = BL_M_DST_IPS,
    [POL_M_DST_PORTS] = BL_M_DST_PORTS,
    [POL_M_HALF_OPEN] = BL_M_HALF_OPEN,
    [POL_M_HALF_OPEN_SHARE] = BL_M_HALF_OPEN_SHARE,
    [POL_M_NIGHT_BYTES_OUT] = BL_M_NIGHT_BYTES_OUT,
    [POL_M_PROTOCOLS] = BL_M_PROTOCOLS,
    [POL_M_REJECTED] = BL_M_REJECTED,
    [POL_M_REJECTED_SHARE] = BL_M_REJECTED_SHARE,
};

static uint32_t
window_of(const struct pol_threshold *t)
{
	if (t->metric == POL_M_NIGHT_BYTES_OUT)
		return BL_WIN_HOUR;
	if (t->window_s == POL_WIN_DAY)
		return BL_WIN_DAY;
	if (t->window_s == POL_WIN_MONTH)
		return BL_WIN_MONTH;
	return t->window_s;
}

static int
table_keeps(const struct bl_config *table, uint32_t w)
{
	unsigned i;

	if (w == BL_WIN_DAY || w == BL_WIN_MONTH || w == BL_WIN_HOUR)
		return 1;
	for (i = 0; i < table->n_windows; i++)
		if (table->windows_s[i] == w)
			return 1;
	return 0;
}

/* 1 when bc already holds (m, w, kind): two policy windows map to one. */
static int
has_thr(
    const struct bl_config *bc, enum bl_metric m, uint32_t w, enum bl_kind kind)
{
	unsigned i;

	for (i = 0; i < bc->n_thr; i++)
		if (bc->thr[i].metric == m && bc->thr[i].window_s == w &&
		    bc->thr[i].kind == kind)
			return 1;
	return 0;
}

/* Add a host policy's rolling windows to the table's (kept sorted). */
static void
add_windows(struct bl_config *t, const struct pol_host *ph)
{
	size_t	 i;
	unsigned j, k;

	for (i = 0; i < ph->detect.windows.n; i++) {
		uint32_t w = ph->detect.windows.s[i];

		for (j = 0; j < t->n_windows && t->windows_s[j] < w; j++)
			;
		if ((j < t->n_windows && t->windows_s[j] == w) ||
		    t->n_windows == BL_MAX_WINDOWS)
			continue;
		for (k = t->n_windows; k > j; k--)
			t->windows_s[k] = t->windows_s[k - 1];
		t->windows_s[j] = w;
		t->n_windows++;
	}
}

/* The per-host part of a bl_config from one effective host policy. */
static void
host_part(const struct pol_host *ph, const struct pol_global *g,
    const struct bl_config *table, struct bl_config *bc, unsigned *dropped)
{
	uint64_t wd = (ph->detect.warmup_ms + 86400000u - 1) / 86400000u;
	size_t	 i;

	bc->n_thr = 0;
	bc->warmup_days = wd < 1 ? 1
	    : wd > BL_HIST_MAX	 ? BL_HIST_MAX
				 : (unsigned)wd;
	bc->utc_offset_s = g->utc_offset_s;
	bc->quiet_start_h = (uint8_t)(ph->detect.quiet_hours.start_min / 60);
	bc->quiet_end_h = (uint8_t)(ph->detect.quiet_hours.end_min / 60);
	bc->night_upload_min = ph->detect.night_upload_min_bytes;
	for (i = 0; i < ph->n_thr; i++) {
		const struct pol_threshold *t = &ph->thr[i];
		uint32_t		    w = window_of(t);
		enum bl_kind		    kind =
			   t->kind == POL_LEARNED ? BL_LEARNED : BL_ABSOLUTE;
		double v;

		if (!table_keeps(table, w)) {
			(*dropped)++;
			continue;
		}
		/* night_bytes_out.day and .month are both the hour test. */
		if (has_thr(bc, metric_of[t->metric], w, kind))
			continue;
		if (t->kind == POL_LEARNED && t->metric == POL_M_PROTOCOLS)
			v = 1;
		else if (t->kind == POL_LEARNED)
			v = (double)t->value / 100.0;
		else if (t->metric == POL_M_HALF_OPEN_SHARE ||
		    t->metric == POL_M_REJECTED_SHARE)
			v = (double)t->value / 10000.0;
		else
			v = (double)t->value;
		(void)bl_config_add(bc, metric_of[t->metric], w, kind, v, 0);
	}
	if (!has_thr(bc, BL_M_NIGHT_BYTES_OUT, BL_WIN_HOUR, BL_LEARNED) &&
	    ph->detect.learn_k_x100 > 0)
		(void)bl_config_add(bc, BL_M_NIGHT_BYTES_OUT, BL_WIN_HOUR,
		    BL_LEARNED, (double)ph->detect.learn_k_x100 / 100.0, 0);
	bc->beacon_min_iv = ph->beacon.min_observations;
	bc->beacon_max_period_ms = ph->beacon.max_period_ms;
	if (ph->beacon.enabled)
		(void)bl_config_add(bc, BL_M_BEACON, BL_WIN_NONE, BL_LEARNED,
		    (double)ph->beacon.min_score_bp / 100.0, 0);
}

struct polmap *
polmap_new(const struct policy *pol, uint64_t seed, const struct cidr *home,
    size_t n_home, char *err, size_t errlen)
{
	const struct pol_global *g = pol_global(pol);
	const struct pol_host	*def = pol_default(pol);
	struct polmap		*pm;
	size_t			 i;

	if ((pm = calloc(1, sizeof(*pm))) == NULL) {
		snprintf(err, errlen, "policy: out of memory");
		return NULL;
	}
	pm->pol = pol;
	bl_config_defaults(&pm->table);
	pm->table.seed = seed;
	pm->table.mem_budget = (size_t)g->host_table_memory_bytes;
	pm->table.n_home = 0;
	if (home == NULL) {
		home = g->home_nets.v;
		n_home = g->home_nets.n;
	}
	for (i = 0; i < n_home && i < BL_MAX_HOME; i++)
		pm->table.home[pm->table.n_home++] = home[i];
	pm->table.n_windows = 0;
	add_windows(&pm->table, def);
	for (i = 0; i < pol_n_hosts(pol); i++)
		add_windows(&pm->table, pol_host_at(pol, i));
	host_part(def, g, &pm->table, &pm->table, &pm->n_dropped);
	if (bl_config_check(&pm->table, NULL, err, errlen) != 0) {
		polmap_free(pm);
		return NULL;
	}

	pm->n = pol_n_hosts(pol);
	if (pm->n != 0) {
		pm->hosts = calloc(pm->n, sizeof(*pm->hosts));
		pm->bl = calloc(pm->n, sizeof(*pm->bl));
		if (pm->hosts == NULL || pm->bl == NULL) {
			snprintf(err, errlen, "policy: out of memory");
			polmap_free(pm);
			return NULL;
		}
	}
	for (i = 0; i < pm->n; i++) {
		pm->hosts[i] = pol_host_at(pol, i);
		pm->bl[i] = pm->table;
		host_part(
		    pm->hosts[i], g, &pm->table, &pm->bl[i], &pm->n_dropped);
		if (bl_config_check(&pm->bl[i], &pm->table, err, errlen) != 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(
			    err, errlen, "%s: %s", pm->hosts[i]->file, why);
			polmap_free(pm);
			return NULL;
		}
	}
	return pm;
}

void
polmap_free(struct polmap *pm)
{
	if (pm == NULL)
		return;
	free(pm->hosts);
	free(pm->bl);
	free(pm);
}

const struct bl_config *
polmap_bl_for(void *arg, const uint8_t addr[16])
{
	const struct polmap   *pm = arg;
	const struct pol_host *ph = pol_lookup(pm->pol, addr);
	size_t		       i;

	/* Host creation only (not per packet): a scan is cheap enough. */
	for (i = 0; i < pm->n; i++)
		if (pm->hosts[i] == ph)
			return &pm->bl[i];
	return &pm->table;
}

void
polmap_esc(const struct pol_host *ph, struct esc_policy *ep)
{
	ep->capture_allowed = ph->capture.enabled;
	ep->duration_us = ph->capture.duration_ms * 1000;
	ep->max_duration_us = ph->capture.max_duration_ms * 1000;
	ep->cooldown_us = ph->capture.cooldown_ms * 1000;
}
