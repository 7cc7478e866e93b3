/*
 * polcheck: check a policy directory as `sensord -n [-v] -p DIR` will.
 *
 *	polcheck [-n] [-v] -p DIR
 *
 * Prints "policy OK" on stderr and exits 0, or the problems as
 * "file:line: message" lines on stderr and exits 1.  With -v the merged
 * canonical policy goes to stdout first (the golden-test target).  -n is
 * accepted and ignored, so a test can swap this tool for `sensord -n`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "policy.h"

static void
usage(void)
{
	fprintf(stderr, "usage: polcheck [-n] [-v] -p DIR\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct perrs errs = { 0 };
	struct policy *pol;
	const char *dir = NULL;
	int c, verbose = 0;

	while ((c = getopt(argc, argv, "np:v")) != -1) {
		switch (c) {
		case 'n':
			break;
		case 'p':
			dir = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (dir == NULL || optind != argc)
		usage();
	if ((pol = pol_load(dir, &errs)) == NULL) {
		perrs_print(&errs, stderr);
		perrs_free(&errs);
		return 1;
	}
	if (verbose)
		pol_print(pol, stdout);
	fflush(stdout);
	fprintf(stderr, "policy OK\n");
	pol_free(pol);
	perrs_free(&errs);
	return 0;
}
