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
#include <sys/stat.h>
#include <time.h>

#include "ifmon.h"
#include "log.h"
#include "sdnotify.h"
#include "sensord.h"

#define DEFAULT_STATE_DIR	"/var/lib/sensord"
#define DEFAULT_POLICY_DIR	"/etc/sensord/policy"

enum {
	OPT_SUMMARY = 256,
	OPT_SAMPLE,
	OPT_EXPORT,
	OPT_USER,
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
	{ "export",	required_argument,	NULL, OPT_EXPORT },
	{ "user",	required_argument,	NULL, OPT_USER },
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
"      --export KIND@HOST:PORT\n"
"                          export flows: KIND is netflow5, netflow9 or ipfix;\n"
"                          HOST an IPv4 address or [IPv6] (repeatable)\n"
"      --sample N          meter 1 packet in N, counts scaled by N\n"
"      --user NAME         live, started as root: once the captures are\n"
"                          open, own the state directory and run as NAME\n"
"                          with CAP_NET_RAW only\n"
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
		case OPT_EXPORT:
			if (o->n_exports == SD_MAX_EXPORT)
				fatalx("too many --export targets (max %d)",
				    SD_MAX_EXPORT);
			o->exports[o->n_exports++] = optarg;
			break;
		case OPT_USER:
			o->user = optarg;
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

/* Make DIR (and its parents) with mode 0750; fatal when impossible. */
static void
make_dir(const char *path)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		fatalx("%s: bad directory name", path);
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			fatal("%s", buf);
		buf[i] = path[i];
	}
}

static void
setup_exporters(struct sensord *sd)
{
	char err[256];
	size_t i;

	for (i = 0; i < sd->opt.n_exports; i++) {
		struct xp_config *xc = &sd->xpcfg[i];

		xp_config_defaults(xc);
		if (xp_parse_target(sd->opt.exports[i], xc, err,
		    sizeof(err)) != 0)
			fatalx("--export %s: %s", sd->opt.exports[i], err);
		xc->enc.sampling = sd->opt.sample_n;
		/* Replay has no real-time deadline: never drop a record. */
		xc->lossless = !sd->is_live;
	}
	sd->n_xp = sd->opt.n_exports;
}

static void
setup_flowlog(struct sensord *sd)
{
	struct flowlog_config fc;
	char dir[4096];
	size_t i;

	snprintf(dir, sizeof(dir), "%s/flows", sd->opt.state_dir);
	flowlog_config_defaults(&fc);
	fc.dir = dir;
	fc.lossless = !sd->is_live;
	if ((sd->fl = flowlog_open(&fc)) == NULL)
		fatal("%s: flow log", dir);
	for (i = 0; i < sd->opt.n_inputs; i++) {
		const char *b = strrchr(sd->opt.inputs[i], '/');

		flowlog_set_iface(sd->fl, (unsigned)i,
		    b != NULL ? b + 1 : sd->opt.inputs[i]);
	}
	for (i = 0; i < sd->opt.n_ifaces; i++)
		flowlog_set_iface(sd->fl, (unsigned)i, sd->opt.ifaces[i]);
}

static void
setup_live(struct sensord *sd)
{
	sd->capcfg.snaplen = 262144;
	sd->capcfg.buffer_bytes = 64 << 20;
	sd->capcfg.timeout_ms = 100;
	sd->capcfg.promisc = 1;
	/* Captures open as root, then the user switch: before any thread. */
	sd_live_init(sd);
}

void
sd_reload(struct sensord *sd)
{
	(void)sd;
	log_info("reload: no policy changes to apply");
}

void
sd_ifaces_changed(struct sensord *sd)
{
	(void)sd;
}

int
main(int argc, char **argv)
{
	struct sensord sd;
	struct ft_config fc;
	struct ft_sink sink;
	int status;
	size_t i;

	memset(&sd, 0, sizeof(sd));
	log_init("sensord", LOG_TO_STDERR, 0);
	parse_args(argc, argv, &sd.opt);
	log_init("sensord", LOG_TO_STDERR, sd.opt.verbose);
	sdn_init();

	if (sd.opt.check_only)
		return SD_EXIT_OK;
	if (sd.opt.n_inputs == 0 && sd.opt.n_ifaces == 0) {
		log_warnx("nothing to do: give -r FILE or -i IFACE");
		usage(stderr);
		return SD_EXIT_USAGE;
	}
	if (sd.opt.n_inputs != 0 && sd.opt.n_ifaces != 0) {
		log_warnx("-r and -i do not mix: replay or capture live");
		return SD_EXIT_USAGE;
	}
	sd.is_live = sd.opt.n_ifaces != 0;

	ft_config_defaults(&fc);
	/*
	 * Offline replay uses a fixed hash key so that a replay is exactly
	 * reproducible; a live sensor keys its table from getrandom(2) so that
	 * spoofed traffic cannot aim at one hash chain.
	 */
	if (sd.is_live &&
	    getrandom(fc.seed, sizeof(fc.seed), 0) != (ssize_t)sizeof(fc.seed))
		fatal("getrandom");
	sd.sample_ctr = 0x9e3779b9u;
	make_dir(sd.opt.state_dir);
	if (sd.is_live)
		setup_live(&sd);
	setup_exporters(&sd);
	setup_flowlog(&sd);
	sd_ft_sink(&sd, &sink);
	if ((sd.ft = ft_new(&fc, &sink)) == NULL)
		fatal("flow table of %zu bytes", fc.mem_budget);

	if (sd.is_live) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		sd_clock_start(&sd, (uint64_t)now.tv_sec * 1000000u +
		    (uint64_t)now.tv_nsec / 1000u);
		status = sd_live(&sd);
	} else {
		status = sd_replay(&sd);
		sd_summary(&sd, sd.opt.summary_json);
	}
	for (i = 0; i < sd.n_xp; i++)
		xp_free(sd.xp[i]);
	flowlog_close(sd.fl);
	ft_free(sd.ft);
	ifmon_free(sd.ifmon);
	return status;
}
