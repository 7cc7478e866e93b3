/*
 * sensorctl: the analyst's and operator's way into sensord.
 *
 * Commands that ask the running daemon (status, hosts, escalate, release,
 * reload, metrics) go over the control socket; commands that read the state
 * directory (captures, extract, flows) work without a daemon, on a live
 * sensor or on a copy at a forensic workstation (-D DIR).
 *
 * Output is for people by default; -j prints one JSON object per line.
 * Exit status: 0 ok; 1 usage; 2 the daemon or the state directory could
 * not be reached or read; 3 the daemon refused the request; 4 an integrity
 * check failed (extract found a file that does not match its sidecar).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"
#include "sensorctl.h"
#include "util.h"

#define DEFAULT_SOCKET "/run/sensord/control.sock"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sensorctl [-j] [-s SOCKET] [-D STATEDIR] COMMAND [ARGS]\n"
	    "\n"
	    "commands (ask the running daemon):\n"
	    "  status                       uptime, interfaces, rates, drops, "
	    "tables, disk\n"
	    "  hosts [HOST]                 per-host metrics against "
	    "thresholds, state\n"
	    "  escalate HOST [--for DUR] [--reason TEXT]\n"
	    "                               capture HOST now (policy and caps "
	    "apply)\n"
	    "  release HOST                 end HOST's escalation\n"
	    "  reload                       reload the policy; prints errors "
	    "if rejected\n"
	    "  metrics                      counters in Prometheus text "
	    "format\n"
	    "commands (read the state directory; no daemon needed):\n"
	    "  captures [HOST] [--since T] [--until T]\n"
	    "                               capture files with their sidecar "
	    "metadata\n"
	    "  extract HOST [--since T] [--until T] [--filter BPF] -o "
	    "OUT.pcap\n"
	    "                               verified, merged, cut pcap for "
	    "Wireshark\n"
	    "  flows [--host H] [--port P] [--since T] [--until T] [--limit "
	    "N]\n"
	    "                               conversations from the flow log\n"
	    "\n"
	    "  -j, --json        one JSON object per line\n"
	    "  -s, --socket P    control socket (default " DEFAULT_SOCKET ")\n"
	    "  -D, --state-dir D state directory (default /var/lib/sensord)\n"
	    "  -h, --help / -V, --version\n"
	    "times: epoch seconds or RFC 3339 (2026-11-29T18:00:00Z)\n"
	    "exit status: 0 ok, 1 usage, 2 cannot reach daemon or read state,\n"
	    "3 request refused, 4 integrity check failed\n");
}

/* --- printing records ------------------------------------------------- */

static void
json_str(FILE *f, const char *s, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
print_record(const struct ctlp_msg *m, int json)
{
	uint16_t i;

	if (json) {
		putchar('{');
		for (i = 0; i < m->n; i++) {
			const struct ctlp_field *fl = &m->f[i];

			if (i)
				putchar(',');
			json_str(stdout, fl->key, fl->keylen);
			putchar(':');
			if (fl->kind == CTLP_U64)
				printf("%llu", (unsigned long long)fl->u);
			else
				json_str(stdout, fl->s, fl->slen);
		}
		printf("}\n");
		return;
	}
	/* A policy problem reads as the compiler-style file:line: message. */
	{
		char	 file[256], err[512];
		uint64_t line;

		if (m->n == 3 &&
		    ctlp_get_str(m, "file", file, sizeof(file)) == 0 &&
		    ctlp_get_u64(m, "line", &line) == 0 &&
		    ctlp_get_str(m, "error", err, sizeof(err)) == 0) {
			if (line > 0)
				fprintf(stderr, "%s:%llu: %s\n", file,
				    (unsigned long long)line, err);
			else
				fprintf(stderr, "%s: %s\n", file, err);
			return;
		}
	}
	for (i = 0; i < m->n; i++) {
		const struct ctlp_field *fl = &m->f[i];

		printf("%-24.*s ", fl->keylen, fl->key);
		if (fl->kind == CTLP_U64)
			printf("%llu\n", (unsigned long long)fl->u);
		else
			printf("%.*s\n", fl->slen, fl->s);
	}
	printf("\n");
}

/* Prometheus text exposition: records {metric, type, help, value, labels}. */
static void
print_metric(const struct ctlp_msg *m, char *last, size_t lastsz)
{
	char name[128] = "", type[16] = "gauge", help[256] = "",
	     labels[256] = "";
	uint64_t v = 0;

	ctlp_get_str(m, "metric", name, sizeof(name));
	ctlp_get_str(m, "type", type, sizeof(type));
	ctlp_get_str(m, "help", help, sizeof(help));
	ctlp_get_str(m, "labels", labels, sizeof(labels));
	ctlp_get_u64(m, "value", &v);
	if (strcmp(name, last) != 0) {
		printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
		util_strlcpy(last, name, lastsz);
	}
	if (labels[0] != '\0')
		printf("%s{%s} %llu\n", name, labels, (unsigned long long)v);
	else
		printf("%s %llu\n", name, (unsigned long long)v);
}

/* --- the daemon side ---------------------------------------------------- */

static int
ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	int		   fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sensorctl: socket path too long: %s\n", path);
		return -1;
	}
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "sensorctl: cannot reach sensord at %s: %s\n",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Send one request and print the reply records until END.  Returns the
 * exit status: 0, 2 (transport), 3 (refused by the daemon).
 */
static int
ctl_call(const char *sock, struct ctlp_out *req, int json, int metrics)
{
	static uint8_t	       buf[CTLP_MAX_MSG];
	static struct ctlp_msg m;
	char		       last[128] = "", err[512];
	const char	      *why;
	uint64_t	       status = 0;
	ssize_t		       n;
	int		       fd, records = 0;

	if (ctlp_end(req) != 0) {
		fprintf(stderr, "sensorctl: request too large\n");
		return 1;
	}
	if ((fd = ctl_connect(sock)) < 0)
		return 2;
	if (send(fd, req->buf, req->len, MSG_NOSIGNAL) != (ssize_t)req->len) {
		fprintf(stderr, "sensorctl: send: %s\n", strerror(errno));
		close(fd);
		return 2;
	}
	/* Bounded: the daemon ends every reply; a lost END times out. */
	for (;;) {
		struct timeval tv = {30, 0};

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			fprintf(stderr,
			    "sensorctl: connection closed by "
			    "sensord before the reply ended%s%s\n",
			    n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			close(fd);
			return 2;
		}
		if (ctlp_decode(buf, (size_t)n, &m, &why) != 0) {
			fprintf(stderr, "sensorctl: bad reply: %s\n", why);
			close(fd);
			return 2;
		}
		if (m.type == CTLP_REP_END)
			break;
		if (m.type != CTLP_REP_RECORD)
			continue;
		records++;
		if (metrics && !json)
			print_metric(&m, last, sizeof(last));
		else
			print_record(&m, json);
	}
	close(fd);
	ctlp_get_u64(&m, "status", &status);
	if (status != 0) {
		if (ctlp_get_str(&m, "error", err, sizeof(err)) != 0)
			util_strlcpy(err, "request refused", sizeof(err));
		fprintf(stderr, "sensorctl: %s\n", err);
		if (json)
			printf("{\"status\":%llu,\"error\":\"%s\"}\n",
			    (unsigned long long)status, err);
		return 3;
	}
	if (ctlp_get_str(&m, "message", err, sizeof(err)) == 0 && !json)
		printf("%s\n", err);
	(void)records;
	return 0;
}

/* --- main ---------------------------------------------------------------- */

static const struct option top_opts[] = {{"json", no_argument, NULL, 'j'},
    {"socket", required_argument, NULL, 's'},
    {"state-dir", required_argument, NULL, 'D'},
    {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

static const struct option cmd_opts[] = {{"for", required_argument, NULL, 'f'},
    {"reason", required_argument, NULL, 'R'},
    {"since", required_argument, NULL, 'S'},
    {"until", required_argument, NULL, 'U'},
    {"filter", required_argument, NULL, 'F'},
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'P'},
    {"limit", required_argument, NULL, 'L'},
    {"output", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0}};

static int
parse_duration_s(const char *s, uint64_t *out)
{
	char		  *end;
	unsigned long long v;
	uint64_t	   mul;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (strcmp(end, "s") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60;
	else if (strcmp(end, "h") == 0)
		mul = 3600;
	else if (strcmp(end, "d") == 0)
		mul = 86400;
	else
		return -1;
	if (v == 0 || v > UINT64_MAX / mul / 1000000)
		return -1;
	*out = v * mul;
	return 0;
}

int
main(int argc, char **argv)
{
	struct sctl_args a;
	struct ctlp_out	 req;
	const char	*sock = DEFAULT_SOCKET, *cmd;
	uint64_t	 v;
	int		 ch, json = 0;

	memset(&a, 0, sizeof(a));
	a.state_dir = "/var/lib/sensord";
	while (
	    (ch = getopt_long(argc, argv, "+js:D:hV", top_opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 's':
			sock = optarg;
			break;
		case 'D':
			a.state_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sensorctl %s\n", SENSORD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	cmd = argv[optind];
	a.json = json;
	/* Command options may come before or after the positional argument. */
	argc -= optind;
	argv += optind;
	optind = 0; /* 0: glibc re-initialises (the + above) */
	while ((ch = getopt_long(argc, argv, "o:", cmd_opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (parse_duration_s(optarg, &a.for_s) != 0) {
				fprintf(stderr,
				    "sensorctl: --for: expected a "
				    "duration such as 30s, 10m, 2h, 1d, got "
				    "'%s'\n",
				    optarg);
				return 1;
			}
			break;
		case 'R':
			a.reason = optarg;
			break;
		case 'S':
		case 'U':
			if (time_parse(optarg, &v) != 0) {
				fprintf(stderr,
				    "sensorctl: --%s: expected epoch "
				    "seconds or RFC 3339, got '%s'\n",
				    ch == 'S' ? "since" : "until", optarg);
				return 1;
			}
			if (ch == 'S')
				a.since_us = v, a.has_since = 1;
			else
				a.until_us = v, a.has_until = 1;
			break;
		case 'F':
			a.filter = optarg;
			break;
		case 'H':
			a.host = optarg;
			break;
		case 'P': {
			char	     *end;
			unsigned long p = strtoul(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || p > 65535) {
				fprintf(stderr,
				    "sensorctl: --port: expected "
				    "0..65535, got '%s'\n",
				    optarg);
				return 1;
			}
			a.port = (int)p;
			a.has_port = 1;
			break;
		}
		case 'L': {
			char *end;

			errno = 0;
			a.limit = strtoull(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    errno != 0) {
				fprintf(stderr,
				    "sensorctl: --limit: expected a "
				    "number of records, got '%s'\n",
				    optarg);
				return 1;
			}
			break;
		}
		case 'o':
			a.output = optarg;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc)
		a.arg = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "sensorctl: unexpected argument '%s'\n",
		    argv[optind]);
		return 1;
	}

	if (strcmp(cmd, "status") == 0) {
		ctlp_begin(&req, CTLP_REQ_STATUS);
		return ctl_call(sock, &req, json, 0);
	}
	if (strcmp(cmd, "hosts") == 0) {
		ctlp_begin(&req, CTLP_REQ_HOSTS);
		if (a.arg != NULL)
			ctlp_str(&req, "host", a.arg);
		return ctl_call(sock, &req, json, 0);
	}
	if (strcmp(cmd, "escalate") == 0 || strcmp(cmd, "release") == 0) {
		uint8_t addr[16];
		int	esc = cmd[0] == 'e';

		if (a.arg == NULL || addr_parse(a.arg, addr) != 0) {
			fprintf(stderr,
			    "sensorctl: %s: expected a host "
			    "address, got '%s'\n",
			    cmd, a.arg ? a.arg : "");
			return 1;
		}
		ctlp_begin(&req, esc ? CTLP_REQ_ESCALATE : CTLP_REQ_RELEASE);
		ctlp_str(&req, "host", a.arg);
		if (esc && a.for_s != 0)
			ctlp_u64(&req, "for_s", a.for_s);
		if (esc && a.reason != NULL)
			ctlp_str(&req, "reason", a.reason);
		return ctl_call(sock, &req, json, 0);
	}
	if (strcmp(cmd, "reload") == 0) {
		ctlp_begin(&req, CTLP_REQ_RELOAD);
		return ctl_call(sock, &req, json, 0);
	}
	if (strcmp(cmd, "metrics") == 0) {
		ctlp_begin(&req, CTLP_REQ_METRICS);
		return ctl_call(sock, &req, json, 1);
	}
	if (strcmp(cmd, "captures") == 0)
		return sctl_captures(&a);
	if (strcmp(cmd, "extract") == 0)
		return sctl_extract(&a);
	if (strcmp(cmd, "flows") == 0)
		return sctl_flows(&a);
	fprintf(stderr, "sensorctl: unknown command '%s'\n", cmd);
	usage(stderr);
	return 1;
}
