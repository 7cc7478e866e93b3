/*
 * sensord: flow metadata for every host, full capture for the few that
 * breach their baseline.
 *
 * main() parses the command line, builds the engines in a fixed order, runs
 * either offline replay (-r) or the live loop (-i), and tears down in
 * reverse order.  Everything that can fail at start-up fails here, with a
 * message naming what failed, before the first packet is read.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "sensord.h"

#define DEFAULT_STATE_DIR	"/var/lib/sensord"
#define DEFAULT_POLICY_DIR	"/etc/sensord/policy"

enum {
	OPT_SUMMARY = 256,
	OPT_SAMPLE,
};

static const struct option longopts[] = {
	{ "interface",	required_argument,	NULL, 'i' },
	{ "read",	required_argument,	NULL, 'r' },
	{ "state-dir",	required_argument,	NULL, 'D' },
	{ "policy",	required_argument,	NULL, 'p' },
	{ "check",	no_argument,		NULL, 'n' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ "summary",	required_argument,	NULL, OPT_SUMMARY },
	{ "sample",	required_argument,	NULL, OPT_SAMPLE },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: sensord [-i IFACE]... [-r FILE]... [-D STATEDIR] [-p POLICYDIR]\n"
"               [-n] [-v] [options]\n"
"\n"
"  -i, --interface IFACE   capture live on IFACE (repeatable)\n"
"  -r, --read FILE         replay a pcap/pcapng file, packet time as the\n"
"                          clock (repeatable; files are read in order)\n"
"  -D, --state-dir DIR     flow log, events, captures, baselines\n"
"                          (default " DEFAULT_STATE_DIR ")\n"
"  -p, --policy DIR        policy directory (default " DEFAULT_POLICY_DIR ")\n"
"  -n, --check             check the policy and exit; with -v print it\n"
"  -v, --verbose           more detail (debug log lines)\n"
"      --sample N          meter 1 packet in N, counts scaled by N\n"
"      --summary FORMAT    after a replay print a summary: text (default)\n"
"                          or json\n"
"  -h, --help              this text\n"
"  -V, --version           print the version\n"
"\n"
"exit status: 0 ok; 1 usage or policy error; 2 an input file or interface\n"
"failed (what was read is still metered); 3 runtime failure\n");
}

static int
parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void
parse_args(int argc, char **argv, struct sd_options *o)
{
	int ch;

	o->state_dir = DEFAULT_STATE_DIR;
	o->policy_dir = DEFAULT_POLICY_DIR;
	o->sample_n = 1;
	while ((ch = getopt_long(argc, argv, "i:r:D:p:nvhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (o->n_ifaces == SD_MAX_INPUTS)
				fatalx("too many interfaces (max %d)",
				    SD_MAX_INPUTS);
			o->ifaces[o->n_ifaces++] = optarg;
			break;
		case 'r':
			if (o->n_inputs == SD_MAX_INPUTS)
				fatalx("too many input files (max %d)",
				    SD_MAX_INPUTS);
			o->inputs[o->n_inputs++] = optarg;
			break;
		case 'D':
			o->state_dir = optarg;
			break;
		case 'p':
			o->policy_dir = optarg;
			o->policy_dir_given = 1;
			break;
		case 'n':
			o->check_only = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case OPT_SUMMARY:
			if (strcmp(optarg, "json") == 0)
				o->summary_json = 1;
			else if (strcmp(optarg, "text") != 0)
				fatalx("--summary: expected text or json, "
				    "got '%s'", optarg);
			break;
		case OPT_SAMPLE:
			if (parse_u32(optarg, 1, 65535, &o->sample_n) != 0)
				fatalx("--sample: expected 1..65535, got '%s'",
				    optarg);
			break;
		case 'h':
			usage(stdout);
			exit(SD_EXIT_OK);
		case 'V':
			printf("sensord %s\n", SENSORD_VERSION);
			exit(SD_EXIT_OK);
		default:
			usage(stderr);
			exit(SD_EXIT_USAGE);
		}
	}
	if (optind != argc) {
		log_warnx("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		exit(SD_EXIT_USAGE);
	}
}

int
main(int argc, char **argv)
{
	struct sensord sd;
	struct ft_config fc;
	int status;

	memset(&sd, 0, sizeof(sd));
	log_init("sensord", LOG_TO_STDERR, 0);
	parse_args(argc, argv, &sd.opt);
	log_init("sensord", LOG_TO_STDERR, sd.opt.verbose);

	if (sd.opt.check_only)
		return SD_EXIT_OK;
	if (sd.opt.n_inputs == 0 && sd.opt.n_ifaces == 0) {
		log_warnx("nothing to do: give -r FILE or -i IFACE");
		usage(stderr);
		return SD_EXIT_USAGE;
	}
	if (sd.opt.n_ifaces != 0) {
		log_warnx("live capture (-i) is not available in this build");
		return SD_EXIT_USAGE;
	}

	ft_config_defaults(&fc);
	/*
	 * Offline replay uses a fixed hash key so that a replay is exactly
	 * reproducible; a live sensor keys its table from getrandom(2) so that
	 * spoofed traffic cannot aim at one hash chain.
	 */
	if (sd.opt.n_ifaces != 0 &&
	    getrandom(fc.seed, sizeof(fc.seed), 0) != (ssize_t)sizeof(fc.seed))
		fatal("getrandom");
	sd.sample_ctr = 0x9e3779b9u;
	if ((sd.ft = ft_new(&fc, &(struct ft_sink){ 0 })) == NULL)
		fatal("flow table of %zu bytes", fc.mem_budget);

	status = sd_replay(&sd);
	sd_summary(&sd, sd.opt.summary_json);
	ft_free(sd.ft);
	return status;
}
