/*
 * fuzz_policy: policy files from arbitrary bytes.
 *
 * The input is default.conf, or, when it holds a NUL byte, default.conf
 * before the first NUL and a host file (hosts/fuzz.conf) after it.
 * Without a NUL the same bytes are also parsed as a host file over an
 * empty default.conf.  Filters are not compiled (pcap_compile resolves
 * host names, which would make runs slow and network-dependent).
 *
 * Beyond "no crash, no leak, no UB" it checks a property: a policy that
 * loads prints canonical blocks that load again and print identically
 * (pol_print is a fixed point).  A difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The canonical blocks of a loaded policy, in malloc'ed strings. */
static void
blocks(const struct policy *pol, char **d, size_t *dl, char **h, size_t *hl)
{
	FILE *f;

	*h = NULL;
	*hl = 0;
	if ((f = open_memstream(d, dl)) == NULL)
		abort();
	pol_print_default(pol, f);
	fclose(f);
	if (pol_n_hosts(pol) > 0) {
		if ((f = open_memstream(h, hl)) == NULL)
			abort();
		pol_print_host(pol, pol_host_at(pol, 0), f);
		fclose(f);
	}
}

static void
roundtrip(const struct policy *pol)
{
	struct perrs errs = { 0 };
	struct pol_src src[2];
	struct policy *again;
	char *d1, *h1, *d2, *h2;
	size_t dl1, hl1, dl2, hl2;

	blocks(pol, &d1, &dl1, &h1, &hl1);
	src[0].path = "rt/default.conf";
	src[0].buf = d1;
	src[0].len = dl1;
	src[1].path = "rt/hosts/fuzz.conf";
	src[1].buf = h1;
	src[1].len = hl1;
	again = pol_load_mem(src, h1 != NULL ? 2 : 1, POL_NO_FILTER_COMPILE,
	    &errs);
	if (again == NULL) {
		fprintf(stderr, "canonical output does not load:\n");
		perrs_print(&errs, stderr);
		fprintf(stderr, "%s\n%s\n", d1, h1 != NULL ? h1 : "");
		abort();
	}
	blocks(again, &d2, &dl2, &h2, &hl2);
	if (dl1 != dl2 || memcmp(d1, d2, dl1) != 0 || hl1 != hl2 ||
	    (hl1 > 0 && memcmp(h1, h2, hl1) != 0)) {
		fprintf(stderr, "canonical output is not a fixed point:\n"
		    "%s\n%s\n---\n%s\n%s\n", d1, h1 ? h1 : "", d2, h2 ? h2 : "");
		abort();
	}
	pol_free(again);
	perrs_free(&errs);
	free(d1);
	free(h1);
	free(d2);
	free(h2);
}

static void
one(const struct pol_src *src, size_t n)
{
	struct perrs errs = { 0 };
	struct policy *pol;

	pol = pol_load_mem(src, n, POL_NO_FILTER_COMPILE, &errs);
	if (pol != NULL) {
		roundtrip(pol);
		pol_free(pol);
	} else if (errs.n == 0) {
		abort();	/* refused without saying why */
	}
	perrs_free(&errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *nul = memchr(buf, '\0', size);
	struct pol_src src[2];

	src[0].path = "f/default.conf";
	src[1].path = "f/hosts/fuzz.conf";
	if (nul != NULL) {
		src[0].buf = buf;
		src[0].len = (size_t)(nul - buf);
		src[1].buf = nul + 1;
		src[1].len = size - src[0].len - 1;
		one(src, 2);
		return 0;
	}
	src[0].buf = buf;
	src[0].len = size;
	one(src, 1);
	src[0].buf = "";
	src[0].len = 0;
	src[1].buf = buf;
	src[1].len = size;
	one(src, 2);
	return 0;
}
