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
#include <grp.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "ifmon.h"
#include "log.h"
#include "util.h"
#include "sdnotify.h"
#include "sensord.h"

#define DEFAULT_STATE_DIR "/var/lib/sensord"
#define DEFAULT_POLICY_DIR "/etc/sensord/policy"

enum {
	OPT_SUMMARY = 256,
	OPT_SAMPLE,
	OPT_EXPORT,
	OPT_HOME_NET,
	OPT_USER,
	OPT_CONTROL,
};

static const struct option longopts[] = {
    {"interface", required_argument, NULL, 'i'},
    {"read", required_argument, NULL, 'r'},
    {"state-dir", required_argument, NULL, 'D'},
    {"policy", required_argument, NULL, 'p'}, {"check", no_argument, NULL, 'n'},
    {"verbose", no_argument, NULL, 'v'},
    {"summary", required_argument, NULL, OPT_SUMMARY},
    {"sample", required_argument, NULL, OPT_SAMPLE},
    {"export", required_argument, NULL, OPT_EXPORT},
    {"home-net", required_argument, NULL, OPT_HOME_NET},
    {"user", required_argument, NULL, OPT_USER},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sensord [-i IFACE]... [-r FILE]... [-D STATEDIR] [-p "
	    "POLICYDIR]\n"
	    "               [-n] [-v] [options]\n"
	    "\n"
	    "  -i, --interface IFACE   capture live on IFACE (repeatable)\n"
	    "  -r, --read FILE         replay a pcap/pcapng file, packet time "
	    "as the\n"
	    "                          clock (repeatable; files are read in "
	    "order)\n"
	    "  -D, --state-dir DIR     flow log, events, captures, baselines\n"
	    "                          (default: the policy's "
	    "state_dir, " DEFAULT_STATE_DIR ")\n"
	    "  -p, --policy DIR        policy directory "
	    "(default " DEFAULT_POLICY_DIR ")\n"
	    "  -n, --check             check the policy and exit; with -v "
	    "print it\n"
	    "  -v, --verbose           more detail (debug log lines)\n"
	    "      --export KIND@HOST:PORT\n"
	    "                          export flows: KIND is netflow5, "
	    "netflow9 or ipfix;\n"
	    "                          HOST an IPv4 address or [IPv6] "
	    "(repeatable)\n"
	    "      --control PATH      control socket (default: the policy's\n"
	    "                          control_socket, "
	    "/run/sensord/control.sock)\n"
	    "      --home-net CIDR     a home network (repeatable); replaces "
	    "the\n"
	    "                          policy's home_nets\n"
	    "      --sample N          meter 1 packet in N, counts scaled by "
	    "N\n"
	    "      --user NAME         live, started as root: once the "
	    "captures are\n"
	    "                          open, own the state directory and run "
	    "as NAME\n"
	    "                          with CAP_NET_RAW only\n"
	    "      --summary FORMAT    after a replay print a summary: text "
	    "(default)\n"
	    "                          or json\n"
	    "  -h, --help              this text\n"
	    "  -V, --version           print the version\n"
	    "\n"
	    "exit status: 0 ok; 1 usage or policy error; 2 an input file or "
	    "interface\n"
	    "failed (what was read is still metered); 3 runtime failure\n");
}

static int
parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char	     *end;
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

	o->policy_dir = DEFAULT_POLICY_DIR;
	o->sample_n = 1;
	while ((ch = getopt_long(argc, argv, "i:r:D:p:nvhV", longopts, NULL)) !=
	    -1) {
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
				       "got '%s'",
				    optarg);
			break;
		case OPT_SAMPLE:
			if (parse_u32(optarg, 1, 65535, &o->sample_n) != 0)
				fatalx("--sample: expected 1..65535, got '%s'",
				    optarg);
			o->sample_given = 1;
			break;
		case OPT_EXPORT:
			if (o->n_exports == SD_MAX_EXPORT)
				fatalx("too many --export targets (max %d)",
				    SD_MAX_EXPORT);
			o->exports[o->n_exports++] = optarg;
			break;
		case OPT_HOME_NET:
			if (o->n_home == SD_MAX_HOME)
				fatalx("too many --home-net (max %d)",
				    SD_MAX_HOME);
			if (cidr_parse(optarg, &o->home[o->n_home]) != 0)
				fatalx("--home-net: '%s' is not an address "
				       "prefix such as 10.0.0.0/8 or fd00::/8 "
				       "(host bits must be zero)",
				    optarg);
			o->n_home++;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_CONTROL:
			o->control = optarg;
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
	char   buf[4096];
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

/*
 * Load the policy directory.  Without -p and without the default directory
 * (a replay on a machine where sensord is not installed), the built-in
 * defaults apply: they are exactly the shipped policy/default.conf.
 */
static struct policy *
load_policy(const struct sd_options *o, struct perrs *errs)
{
	struct stat st;

	if (!o->policy_dir_given && stat(o->policy_dir, &st) != 0 &&
	    errno == ENOENT) {
		struct pol_src empty = {"built-in defaults", "", 0};

		log_debug("%s: not found; using the built-in default policy",
		    o->policy_dir);
		return pol_load_mem(&empty, 1, 0, errs);
	}
	return pol_load(o->policy_dir, errs);
}

/* Log every policy error on its own line (file:line: message). */
static void
log_perrs(const struct perrs *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++) {
		const struct perr *e = &errs->v[i];

		if (e->line > 0)
			log_warnx("%s:%d: %s", e->file, e->line, e->msg);
		else
			log_warnx("%s: %s", e->file, e->msg);
	}
}

/* `sensord -n [-v]`: check, optionally print canonically, exit. */
static int
check_policy(const struct sd_options *o)
{
	struct perrs   errs = {0};
	struct policy *pol = load_policy(o, &errs);

	if (pol == NULL) {
		perrs_print(&errs, stderr);
		perrs_free(&errs);
		return SD_EXIT_USAGE;
	}
	if (o->verbose)
		pol_print(pol, stdout);
	fflush(stdout);
	fprintf(stderr, "policy OK\n");
	pol_free(pol);
	perrs_free(&errs);
	return SD_EXIT_OK;
}

static void
ft_config_from_policy(const struct pol_global *g, struct ft_config *fc)
{
	fc->mem_budget = (size_t)g->flows.table_memory_bytes;
	fc->idle_s = (uint32_t)(g->flows.idle_timeout_ms / 1000);
	fc->active_s = (uint32_t)(g->flows.active_timeout_ms / 1000);
	fc->embryonic_s = (uint32_t)(g->flows.embryonic_timeout_ms / 1000);
	fc->closing_s = (uint32_t)(g->flows.closing_timeout_ms / 1000);
	/* Sub-second timeouts round up rather than to "use the default". */
	if (fc->idle_s == 0)
		fc->idle_s = 1;
	if (fc->embryonic_s == 0)
		fc->embryonic_s = 1;
	if (fc->closing_s == 0)
		fc->closing_s = 1;
	if (fc->active_s == 0)
		fc->active_s = 1;
}

static const enum xp_kind xp_kind_of[] = {
    [POL_XP_NETFLOW5] = XP_NETFLOW5,
    [POL_XP_NETFLOW9] = XP_NETFLOW9,
    [POL_XP_IPFIX] = XP_IPFIX,
};

static void
setup_exporters(struct sensord *sd)
{
	const struct pol_export *pe = &sd->g->export;
	char			 err[256];
	size_t			 i, n = 0;

	/* --export on the command line replaces the policy's targets. */
	if (sd->opt.n_exports != 0) {
		for (i = 0; i < sd->opt.n_exports; i++) {
			xp_config_defaults(&sd->xpcfg[n]);
			if (xp_parse_target(sd->opt.exports[i], &sd->xpcfg[n],
				err, sizeof(err)) != 0)
				fatalx(
				    "--export %s: %s", sd->opt.exports[i], err);
			n++;
		}
	} else {
		for (i = 0; i < pe->targets.n && n < SD_MAX_EXPORT; i++) {
			const struct pol_export_target *t = &pe->targets.v[i];

			xp_config_defaults(&sd->xpcfg[n]);
			sd->xpcfg[n].enc.kind = xp_kind_of[t->proto];
			memcpy(sd->xpcfg[n].addr, t->addr, 16);
			sd->xpcfg[n].port = t->port;
			n++;
		}
	}
	for (i = 0; i < n; i++) {
		struct xp_config *xc = &sd->xpcfg[i];

		xc->enc.sampling = sd->opt.sample_n;
		xc->enc.domain = pe->observation_domain;
		xc->enc.biflow = pe->ipfix_biflow != 0;
		xc->enc.template_s = (uint32_t)(pe->template_refresh_ms / 1000);
		xc->max_rate = pe->max_rate;
		/* Replay has no real-time deadline: never drop a record. */
		xc->lossless = !sd->is_live;
	}
	sd->n_xp = n;
}

static void
setup_flowlog(struct sensord *sd)
{
	struct flowlog_config fc;
	char		      dir[4096];
	size_t		      i;

	snprintf(dir, sizeof(dir), "%s/flows", sd->opt.state_dir);
	flowlog_config_defaults(&fc);
	fc.dir = dir;
	fc.lossless = !sd->is_live;
	fc.file_size = sd->g->flows.log_file_size_bytes;
	fc.rotate_interval_s =
	    (uint32_t)(sd->g->flows.log_rotate_interval_ms / 1000);
	fc.retention_bytes = sd->g->flows.log_retention_bytes;
	fc.flush_interval_s =
	    (uint32_t)(sd->g->flows.log_flush_interval_ms / 1000);
	if (fc.flush_interval_s == 0)
		fc.flush_interval_s = 1;
	if ((sd->fl = flowlog_open(&fc)) == NULL)
		fatal("%s: flow log", dir);
	for (i = 0; i < sd->opt.n_inputs; i++) {
		const char *b = strrchr(sd->opt.inputs[i], '/');

		flowlog_set_iface(
		    sd->fl, (unsigned)i, b != NULL ? b + 1 : sd->opt.inputs[i]);
	}
	for (i = 0; i < sd->opt.n_ifaces; i++)
		flowlog_set_iface(sd->fl, (unsigned)i, sd->opt.ifaces[i]);
}

/*
 * Baselines: the host table, its learned state from the last run, the
 * events file and the escalation table.  A state file that does not load
 * is moved aside (never deleted) and learning starts again.
 */
/*
 * Home networks: --home-net wins; `home_nets = auto` takes the capture
 * interfaces' own prefixes (live); NULL = the policy's list.
 */
static const struct cidr *
home_source(const struct sensord *sd, const struct pol_global *g, size_t *n)
{
	if (sd->opt.n_home != 0) {
		*n = sd->opt.n_home;
		return sd->opt.home;
	}
	if (g->home_nets.is_auto) {
		*n = sd->n_auto_nets;
		return sd->auto_nets;
	}
	*n = 0;
	return NULL;
}

/*
 * Put a (new) policy snapshot in force for the detectors: translate it and
 * hand every tracked host its new configuration; hosts keep their learned
 * state.  0, or -1 with err (the caller keeps the old snapshot).
 */
static int
apply_policy(struct sensord *sd, struct policy *pol, char *err, size_t errlen)
{
	const struct cidr *home;
	struct polmap	  *pm;
	size_t		   n_home;

	home = home_source(sd, pol_global(pol), &n_home);
	if ((pm = polmap_new(pol, sd->seed64, home, n_home, err, errlen)) ==
	    NULL)
		return -1;
	if (host_reconfig(sd->ht, &pm->table, polmap_bl_for, pm, sd->now_us,
		sd_host_event, sd, err, errlen) != 0) {
		polmap_free(pm);
		return -1;
	}
	if (pm->n_dropped != 0)
		log_warnx("policy: %u threshold(s) on windows beyond the "
			  "table's %u rolling windows are ignored",
		    pm->n_dropped, BL_MAX_WINDOWS);
	polmap_free(sd->pm);
	sd->pm = pm;
	return 0;
}

static void
setup_detection(struct sensord *sd)
{
	char		   err[512], path[4096], moved[4200];
	const struct cidr *home;
	size_t		   n_home;

	home = home_source(sd, sd->g, &n_home);
	if ((sd->pm = polmap_new(
		 sd->pol, sd->seed64, home, n_home, err, sizeof(err))) == NULL)
		fatalx("policy: %s", err);
	if (sd->pm->n_dropped != 0)
		log_warnx("policy: %u threshold(s) on windows not in "
			  "default.conf's [detect] windows are ignored",
		    sd->pm->n_dropped);
	if ((sd->ht = host_new(&sd->pm->table, err, sizeof(err))) == NULL)
		fatalx("host table: %s", err);
	host_set_policy(sd->ht, polmap_bl_for, sd->pm);
	snprintf(path, sizeof(path), "%s/baseline.state", sd->opt.state_dir);
	if (host_load(sd->ht, path, sd->now_us, err, sizeof(err)) == 0)
		log_info("baselines restored from %s", path);
	else if (errno == EINVAL) {
		struct timespec now;

		/* Wall time: flow time is still 0 before the first packet. */
		clock_gettime(CLOCK_REALTIME, &now);
		if (host_state_quarantine(path, (uint64_t)now.tv_sec * 1000000u,
			moved, sizeof(moved)) == 0)
			log_warnx("%s; moved aside to %s; learning starts "
				  "again",
			    err, moved);
		else
			log_warn("%s; could not move it aside", err);
	} else if (errno != ENOENT)
		log_warnx("%s", err);
	snprintf(path, sizeof(path), "%s/events.jsonl", sd->opt.state_dir);
	if ((sd->ev = events_open(path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((sd->esc = esc_new(sd->g->capture.max_escalated,
		 sd->g->capture.max_escalated * 4)) == NULL)
		fatal("escalation table");
}

/*
 * The control socket: bound before privileges are dropped, so that a
 * daemon started as root can create it under /run; group sensord (when
 * that group exists) may connect, mode 0660.
 */
static void
setup_control(struct sensord *sd)
{
	const char *path =
	    sd->opt.control != NULL ? sd->opt.control : sd->g->control_socket;
	struct group *gr = getgrnam("sensord");
	char	      err[512], dir[256];
	const char   *slash;

	if (path[0] == '\0')
		return;
	if ((slash = strrchr(path, '/')) != NULL && slash != path &&
	    (size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		(void)mkdir(dir, 0750);
		if (gr != NULL && geteuid() == 0 &&
		    chown(dir, (uid_t)-1, gr->gr_gid) != 0)
			log_warn("%s: chown to group sensord", dir);
	}
	sd->ctl = ctl_open(path, gr != NULL ? gr->gr_gid : (gid_t)-1,
	    sd_ctl_handle, sd, err, sizeof(err));
	if (sd->ctl == NULL)
		log_warnx("%s; running without a control socket", err);
}

static void
save_baselines(struct sensord *sd)
{
	char err[512], path[4096];

	snprintf(path, sizeof(path), "%s/baseline.state", sd->opt.state_dir);
	if (host_save(sd->ht, path, sd->now_us, err, sizeof(err)) != 0)
		log_warnx("%s", err);
	sd->last_save_us = sd->now_us;
}

static void
setup_live(struct sensord *sd)
{
	sd->capcfg.snaplen = 262144;
	sd->capcfg.buffer_bytes = sd->g->pcap_buffer_bytes > INT32_MAX
	    ? INT32_MAX
	    : (int)sd->g->pcap_buffer_bytes;
	sd->capcfg.timeout_ms = 100;
	sd->capcfg.promisc = 1;
	/* Captures open as root, then the user switch: before any thread. */
	sd_live_init(sd);
}

/*
 * SIGHUP / sensorctl reload: parse into a new snapshot; any error rejects
 * it whole and the old one stays.  Returns 0, or -1 (errors logged and left
 * in errs for a control client).
 */
int
sd_reload_policy(struct sensord *sd, struct perrs *errs)
{
	struct policy	*np;
	struct ft_config fc;
	char		 err[512];

	if ((np = load_policy(&sd->opt, errs)) == NULL) {
		log_perrs(errs);
		log_warnx("policy %s rejected (%zu error%s); the old policy "
			  "stays in force",
		    sd->opt.policy_dir, errs->n, errs->n == 1 ? "" : "s");
		return -1;
	}
	if (apply_policy(sd, np, err, sizeof(err)) != 0) {
		perrs_add(errs, sd->opt.policy_dir, 0, err);
		log_warnx("policy %s rejected: %s; the old policy stays in "
			  "force",
		    sd->opt.policy_dir, err);
		pol_free(np);
		return -1;
	}
	pol_free(sd->pol);
	sd->pol = np;
	sd->g = pol_global(np);
	ft_config_defaults(&fc);
	ft_config_from_policy(sd->g, &fc);
	ft_set_timeouts(sd->ft, &fc);
	sd_policy_applied(sd);
	log_info("policy %s reloaded", sd->opt.policy_dir);
	return 0;
}

void
sd_policy_applied(struct sensord *sd)
{
	log_debug("policy: %zu host file(s) in force", pol_n_hosts(sd->pol));
}

void
sd_reload(struct sensord *sd)
{
	struct perrs errs = {0};

	(void)sd_reload_policy(sd, &errs);
	perrs_free(&errs);
}

/* `home_nets = auto`: the interfaces' prefixes changed; re-link hosts. */
void
sd_ifaces_changed(struct sensord *sd)
{
	char err[512];

	if (sd->ht == NULL || sd->opt.n_home != 0 ||
	    !sd->g->home_nets.is_auto ||
	    sd->auto_nets_gen == sd->auto_nets_seen)
		return;
	sd->auto_nets_seen = sd->auto_nets_gen;
	if (apply_policy(sd, sd->pol, err, sizeof(err)) != 0)
		log_warnx("home networks from the interfaces: %s", err);
}

int
main(int argc, char **argv)
{
	struct sensord	 sd;
	struct ft_config fc;
	struct ft_sink	 sink;
	struct perrs	 errs = {0};
	int		 status;
	size_t		 i;

	memset(&sd, 0, sizeof(sd));
	log_init("sensord", LOG_TO_STDERR, 0);
	parse_args(argc, argv, &sd.opt);
	log_init("sensord", LOG_TO_STDERR, sd.opt.verbose);
	sdn_init();

	if (sd.opt.check_only)
		return check_policy(&sd.opt);
	if (sd.opt.n_inputs != 0 && sd.opt.n_ifaces != 0) {
		log_warnx("-r and -i do not mix: replay or capture live");
		return SD_EXIT_USAGE;
	}
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		sd.started_us = (uint64_t)ts.tv_sec * 1000000u +
		    (uint64_t)ts.tv_nsec / 1000u;
	}

	if ((sd.pol = load_policy(&sd.opt, &errs)) == NULL) {
		log_perrs(&errs);
		log_warnx(
		    "policy %s rejected; not starting", sd.opt.policy_dir);
		return SD_EXIT_USAGE;
	}
	perrs_free(&errs);
	sd.g = pol_global(sd.pol);
	/* The command line wins over the policy's [global] settings. */
	if (sd.opt.state_dir == NULL)
		sd.opt.state_dir = sd.g->state_dir;
	if (!sd.opt.sample_given)
		sd.opt.sample_n = sd.g->flows.sampling;
	if (sd.opt.user == NULL)
		sd.opt.user = sd.g->user;
	/* No -r, no -i: the policy's interfaces; none listed = "any". */
	if (sd.opt.n_inputs == 0 && sd.opt.n_ifaces == 0) {
		for (i = 0; i < sd.g->interfaces.n && i < POL_MAX_IFACES; i++)
			sd.opt.ifaces[sd.opt.n_ifaces++] =
			    sd.g->interfaces.v[i];
		if (sd.opt.n_ifaces == 0)
			sd.opt.ifaces[sd.opt.n_ifaces++] = "any";
	}
	sd.is_live = sd.opt.n_ifaces != 0;

	ft_config_defaults(&fc);
	ft_config_from_policy(sd.g, &fc);
	/*
	 * Offline replay uses a fixed hash key so that a replay is exactly
	 * reproducible; a live sensor keys its table from getrandom(2) so that
	 * spoofed traffic cannot aim at one hash chain.
	 */
	if (sd.is_live &&
	    getrandom(fc.seed, sizeof(fc.seed), 0) != (ssize_t)sizeof(fc.seed))
		fatal("getrandom");
	make_dir(sd.opt.state_dir);
	sd.seed64 = 0x5ead5eedULL;
	if (sd.is_live) {
		memcpy(&sd.seed64, fc.seed, sizeof(sd.seed64));
		sd.seed64 ^= 0x9e3779b97f4a7c15ULL;
	}
	/* Privileged steps (control socket, captures, user switch) first. */
	if (sd.is_live) {
		setup_control(&sd);
		setup_live(&sd);
	}
	setup_detection(&sd);
	sd_capture_setup(&sd);
	setup_exporters(&sd);
	setup_flowlog(&sd);
	sd_ft_sink(&sd, &sink);
	if ((sd.ft = ft_new(&fc, &sink)) == NULL)
		fatal("flow table of %zu bytes", fc.mem_budget);

	if (sd.is_live) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		sd_clock_start(&sd,
		    (uint64_t)now.tv_sec * 1000000u +
			(uint64_t)now.tv_nsec / 1000u);
		status = sd_live(&sd);
	} else {
		status = sd_replay(&sd);
		sd_summary(&sd, sd.opt.summary_json);
	}
	save_baselines(&sd);
	ctl_close(sd.ctl);
	sd_capture_teardown(&sd);
	for (i = 0; i < sd.n_xp; i++)
		xp_free(sd.xp[i]);
	flowlog_close(sd.fl);
	events_close(sd.ev);
	esc_free(sd.esc);
	host_free(sd.ht);
	polmap_free(sd.pm);
	ft_free(sd.ft);
	ifmon_free(sd.ifmon);
	pol_free(sd.pol);
	return status;
}
