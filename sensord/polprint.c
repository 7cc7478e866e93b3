/*
 * polprint.c: the canonical text of a loaded policy (sensord -n -v).
 *
 * Owns the output format only: one block for the default (every global
 * and host key) and one per host file with its merged result, sections in
 * a fixed order, keys sorted by name, values in canonical form (polval.c).
 * Each block reads back as a policy file that yields the same block, which
 * makes the output a fixed point that golden tests and fuzz_policy compare.
 *
 * Thresholds print as a union with the layer below (the built-in set for
 * the default, the default's set for a host), a removed one as "= 0":
 * otherwise a block read back on its own would inherit it again.
 *
 * Cost: O(keys * log keys) per block; output through stdio.
 */
#include <stdio.h>
#include <string.h>

#include "polint.h"

#define VALUE_MAX 4096 /* 64 networks, 8 targets, a quoted filter */

static const enum pol_sect default_sects[] = {
    PS_GLOBAL,
    PS_FLOWS,
    PS_EXPORT,
    PS_CAPTURE,
    PS_DETECT,
    PS_ABSOLUTE,
    PS_LEARNED,
    PS_BEACON,
};

static const enum pol_sect host_sects[] = {
    PS_HOST,
    PS_CAPTURE,
    PS_DETECT,
    PS_ABSOLUTE,
    PS_LEARNED,
    PS_BEACON,
};

static void
print_keys(FILE *f, enum pol_sect sect, int host_only,
    const struct pol_global *g, const struct pol_host *h)
{
	enum pol_key_id ids[K_COUNT], t;
	char		v[VALUE_MAX];
	size_t		n = 0, i, j;

	for (i = 0; i < K_COUNT; i++)
		if (pol_keys[i].sect == sect &&
		    !(host_only && pol_keys[i].scope == PSC_GLOBAL))
			ids[n++] = (enum pol_key_id)i;
	for (i = 1; i < n; i++) { /* insertion sort: a dozen keys */
		t = ids[i];
		for (j = i; j > 0 &&
		     strcmp(pol_keys[ids[j - 1]].name, pol_keys[t].name) > 0;
		     j--)
			ids[j] = ids[j - 1];
		ids[j] = t;
	}
	for (i = 0; i < n; i++) {
		pol_fmt_key(ids[i], g, h, v, sizeof(v));
		if (v[0] == '\0')
			fprintf(f, "%s =\n", pol_keys[ids[i]].name);
		else
			fprintf(f, "%s = %s\n", pol_keys[ids[i]].name, v);
	}
}

static int
thr_order(const struct pol_threshold *a, const struct pol_threshold *b)
{
	if (a->metric != b->metric)
		return (int)a->metric - (int)b->metric;
	return a->window_s < b->window_s ? -1 : a->window_s > b->window_s;
}

static void
print_thr_line(FILE *f, const struct pol_threshold *t, uint64_t value)
{
	char w[16], v[32];

	pol_fmt_window(t->window_s, w, sizeof(w));
	pol_fmt_thr_value(t->kind, t->metric, value, v, sizeof(v));
	fprintf(f, "%s.%s = %s\n", pol_metric_name(t->metric), w, v);
}

/* h's thresholds of one kind, and base's that h lacks as "= 0". */
static void
print_thr(FILE *f, enum pol_kind kind, const struct pol_host *h,
    const struct pol_host *base)
{
	size_t i = 0, j = 0;

	/* Both arrays are sorted by (kind, metric, window): merge them. */
	while (i < h->n_thr && h->thr[i].kind != kind)
		i++;
	while (j < base->n_thr && base->thr[j].kind != kind)
		j++;
	for (;;) {
		int hi = i < h->n_thr && h->thr[i].kind == kind;
		int bj = j < base->n_thr && base->thr[j].kind == kind;
		int c;

		if (!hi && !bj)
			break;
		c = !bj ? -1 : !hi ? 1 : thr_order(&h->thr[i], &base->thr[j]);
		if (c <= 0) {
			print_thr_line(f, &h->thr[i], h->thr[i].value);
			i++;
			if (c == 0)
				j++;
		} else {
			print_thr_line(f, &base->thr[j], 0);
			j++;
		}
	}
}

static void
print_block(FILE *f, const enum pol_sect *sects, size_t n, int host_only,
    const struct pol_global *g, const struct pol_host *h,
    const struct pol_host *base)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fprintf(f, "[%s]\n", pol_sect_names[sects[i]]);
		if (sects[i] == PS_ABSOLUTE)
			print_thr(f, POL_ABSOLUTE, h, base);
		else if (sects[i] == PS_LEARNED)
			print_thr(f, POL_LEARNED, h, base);
		else
			print_keys(f, sects[i], host_only, g, h);
		fprintf(f, "\n");
	}
}

void
pol_print_default(const struct policy *pol, FILE *f)
{
	fprintf(f, "# default: default.conf\n");
	print_block(f, default_sects,
	    sizeof(default_sects) / sizeof(default_sects[0]), 0,
	    pol_global(pol), pol_default(pol), pol_builtin(pol));
}

void
pol_print_host(const struct policy *pol, const struct pol_host *h, FILE *f)
{
	fprintf(f, "# host %s: %s\n", h->name, h->file);
	print_block(f, host_sects, sizeof(host_sects) / sizeof(host_sects[0]),
	    1, NULL, h, pol_default(pol));
}

void
pol_print(const struct policy *pol, FILE *f)
{
	size_t i;

	pol_print_default(pol, f);
	for (i = 0; i < pol_n_hosts(pol); i++)
		pol_print_host(pol, pol_host_at(pol, i), f);
}
