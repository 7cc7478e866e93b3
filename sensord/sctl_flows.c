/*
 * sctl_flows.c: `sensorctl flows`, conversations from the flow log of a
 * state directory (the .jsonl.gz files in STATEDIR/flows), as nfdump
 * queries its files.
 *
 * flowread does the reading: files in name (time) order, members skipped
 * by their time index, a file still being written read up to its last
 * whole member, malformed lines reported with file:line and skipped.
 * This file adds the filters from the command line, the two output forms
 * and the totals: for people, one aligned line per record between a
 * header and a summary line; with -j, each record as one JSON object with
 * the flow log's own field names, in its order and number formats, so the
 * output can be fed to the same jq scripts as the log itself.
 *
 * Owns nothing beyond one flowread.  Cost: flowread's (inflate and parse)
 * plus one printf per record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowread.h"
#include "sctl_json.h"
#include "sensorctl.h"

#define PROBLEMS_SHOWN 100 /* problem lines printed; the rest counted */

struct flows_ctx {
	uint64_t n_problems;
};

static void
problem(void *arg, const char *file, uint64_t line, const char *what)
{
	struct flows_ctx *ctx = arg;

	if (ctx->n_problems++ >= PROBLEMS_SHOWN)
		return;
	if (line > 0)
		fprintf(stderr, "sensorctl: %s:%llu: %s\n", file,
		    (unsigned long long)line, what);
	else
		fprintf(stderr, "sensorctl: %s: %s\n", file, what);
}

static const char *
proto_name(uint8_t p, char buf[4])
{
	switch (p) {
	case 1:
		return "ICMP";
	case 2:
		return "IGMP";
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 41:
		return "IPv6";
	case 47:
		return "GRE";
	case 50:
		return "ESP";
	case 51:
		return "AH";
	case 58:
		return "ICMP6";
	case 89:
		return "OSPF";
	case 132:
		return "SCTP";
	default:
		snprintf(buf, 4, "%u", p);
		return buf;
	}
}

/* "1.2.3.4:80", "[2001:db8::1]:443"; ICMP as nfdump: type.code. */
static void
endpoint(
    char *buf, size_t size, const uint8_t addr[16], uint16_t port, int is_icmp)
{
	char a[ADDR_STRLEN];
	int  v4 = addr_is_v4(addr);

	addr_fmt(addr, a);
	if (is_icmp)
		snprintf(buf, size, "%s%s%s:%u.%u", v4 ? "" : "[", a,
		    v4 ? "" : "]", (unsigned)(port >> 8),
		    (unsigned)(port & 0xff));
	else
		snprintf(buf, size, "%s%s%s:%u", v4 ? "" : "[", a,
		    v4 ? "" : "]", (unsigned)port);
}

static void
print_header(void)
{
	printf("%-27s %10s %-5s %23s    %-23s %-6s %8s %11s %8s %11s %s\n",
	    "Start (UTC)", "Duration", "Proto", "Src:Port", "Dst:Port", "State",
	    "Pkts>", "Bytes>", "<Pkts", "<Bytes", "End");
}

static void
print_line(const struct convrec *cr)
{
	char	 start[40], src[64], dst[64], pb[4];
	uint64_t dur =
	    cr->end_us >= cr->start_us ? cr->end_us - cr->start_us : 0;
	int is_icmp = cr->proto == 1 || cr->proto == 58;

	time_fmt_us(cr->start_us, start, sizeof(start));
	endpoint(src, sizeof(src), cr->src, cr->sport, 0);
	endpoint(dst, sizeof(dst), cr->dst, cr->dport, is_icmp);
	printf("%-27s %6llu.%03u %-5s %23s -> %-23s %-6s %8llu %11llu "
	       "%8llu %11llu %s\n",
	    start, (unsigned long long)(dur / 1000000),
	    (unsigned)(dur % 1000000 / 1000), proto_name(cr->proto, pb), src,
	    dst, cr->state[0] != '\0' ? cr->state : "-",
	    (unsigned long long)cr->fwd.pkts, (unsigned long long)cr->fwd.bytes,
	    (unsigned long long)cr->rev.pkts, (unsigned long long)cr->rev.bytes,
	    conv_reason_name((enum end_reason)cr->reason));
}

static void
put_time(const char *key, uint64_t us)
{
	printf(",\"%s\":%llu.%06u", key, (unsigned long long)(us / 1000000),
	    (unsigned)(us % 1000000));
}

static void
put_text(const char *key, const char *s, size_t n)
{
	printf(",\"%s\":", key);
	sj_put_str(stdout, (const uint8_t *)s, n);
}

/* The flow log's line format (flowlog.c), field for field. */
static void
print_json(const struct flowread_rec *rec)
{
	const struct convrec *cr = &rec->cr;
	char		      a[ADDR_STRLEN], fs[9], fd[9];

	conv_flags_str(cr->fwd.flags, fs);
	conv_flags_str(cr->rev.flags, fd);
	printf("{\"conv_id\":%llu,\"seq\":%u", (unsigned long long)cr->conv_id,
	    (unsigned)cr->seq);
	put_time("start", cr->start_us);
	put_time("end", cr->end_us);
	addr_fmt(cr->src, a);
	printf(",\"proto\":%u,\"src\":\"%s\"", (unsigned)cr->proto, a);
	addr_fmt(cr->dst, a);
	printf(",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u", (unsigned)cr->sport,
	    a, (unsigned)cr->dport);
	printf(",\"src_pkts\":%llu,\"src_bytes\":%llu,\"dst_pkts\":%llu,"
	       "\"dst_bytes\":%llu,\"src_flags\":\"%s\",\"dst_flags\":\"%s\"",
	    (unsigned long long)cr->fwd.pkts, (unsigned long long)cr->fwd.bytes,
	    (unsigned long long)cr->rev.pkts, (unsigned long long)cr->rev.bytes,
	    fs, fd);
	put_text("state", cr->state, strnlen(cr->state, sizeof(cr->state)));
	put_text(
	    "history", cr->history, strnlen(cr->history, sizeof(cr->history)));
	printf(",\"end_reason\":\"%s\",\"final\":%s,\"vlan\":%u",
	    conv_reason_name((enum end_reason)cr->reason),
	    cr->is_final ? "true" : "false", (unsigned)cr->vlan);
	put_text("iface", rec->iface, rec->iface_len);
	/* Per-direction times only when the log has them (dir_times). */
	if (cr->fwd.first_us != 0 || cr->rev.first_us != 0) {
		put_time("src_first", cr->fwd.first_us);
		put_time("src_last", cr->fwd.last_us);
		put_time("dst_first", cr->rev.first_us);
		put_time("dst_last", cr->rev.last_us);
	}
	printf("}\n");
}

/* The filter from the command line; an exit status. */
static int
make_filter(const struct sctl_args *a, struct flowread_filter *f)
{
	memset(f, 0, sizeof(*f));
	if (a->arg != NULL) {
		fprintf(stderr,
		    "sensorctl: flows: unexpected argument '%s' "
		    "(use --host)\n",
		    a->arg);
		return SCTL_EXIT_USAGE;
	}
	if (a->host != NULL) {
		if (cidr_parse(a->host, &f->host) != 0) {
			fprintf(stderr,
			    "sensorctl: --host: expected an "
			    "address or a CIDR prefix such as 10.0.0.0/8, "
			    "got '%s'\n",
			    a->host);
			return SCTL_EXIT_USAGE;
		}
		f->has_host = 1;
	}
	if (a->has_port) {
		f->has_port = 1;
		f->port = (uint16_t)a->port;
	}
	/* flowread reads 0 as "no bound"; a bound at 0 is checked below. */
	if (a->has_since)
		f->since_us = a->since_us;
	if (a->has_until)
		f->until_us = a->until_us;
	return SCTL_EXIT_OK;
}

int
sctl_flows(const struct sctl_args *a)
{
	struct flowread_filter flt;
	struct flowread_stats  st;
	struct flowread_rec    rec;
	struct flows_ctx       ctx = {0};
	struct flowread	      *fr;
	struct stat	       sb;
	uint64_t	       n = 0, pkts = 0, bytes = 0;
	char		      *path;
	size_t		       plen;
	int		       sfd, rc;

	if ((rc = make_filter(a, &flt)) != SCTL_EXIT_OK)
		return rc;
	if ((sfd = sctl_state_open(a)) < 0)
		return SCTL_EXIT_STATE;
	rc = fstatat(sfd, "flows", &sb, 0);
	close(sfd);
	if (rc != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "sensorctl: no flow log in %s/flows: %s\n",
		    a->state_dir,
		    rc != 0 ? strerror(errno) : "not a directory");
		return SCTL_EXIT_STATE;
	}
	plen = strlen(a->state_dir) + sizeof("/flows");
	if ((path = malloc(plen)) == NULL ||
	    (fr = flowread_new(&flt, problem, &ctx)) == NULL) {
		free(path);
		fprintf(stderr, "sensorctl: out of memory\n");
		return SCTL_EXIT_STATE;
	}
	snprintf(path, plen, "%s/flows", a->state_dir);
	if (flowread_add_dir(fr, path) != 0) {
		fprintf(stderr, "sensorctl: cannot read %s: %s\n", path,
		    strerror(errno));
		flowread_free(fr);
		free(path);
		return SCTL_EXIT_STATE;
	}
	if (!a->json)
		print_header();
	while (
	    (a->limit == 0 || n < a->limit) && flowread_next(fr, &rec) == 1) {
		if ((a->has_since && rec.cr.end_us < a->since_us) ||
		    (a->has_until && rec.cr.start_us > a->until_us))
			continue;
		if (a->json)
			print_json(&rec);
		else
			print_line(&rec.cr);
		n++;
		pkts += rec.cr.fwd.pkts + rec.cr.rev.pkts;
		bytes += rec.cr.fwd.bytes + rec.cr.rev.bytes;
	}
	if (!a->json)
		printf("Summary: %llu records, %llu packets, %llu bytes\n",
		    (unsigned long long)n, (unsigned long long)pkts,
		    (unsigned long long)bytes);
	flowread_get_stats(fr, &st);
	if (ctx.n_problems > PROBLEMS_SHOWN)
		fprintf(stderr, "sensorctl: ... %llu more problems\n",
		    (unsigned long long)(ctx.n_problems - PROBLEMS_SHOWN));
	if (st.n_malformed + st.n_corrupt + st.n_io_errors > 0)
		fprintf(stderr,
		    "sensorctl: flows: %llu malformed lines "
		    "skipped, %llu corrupt and %llu unreadable files\n",
		    (unsigned long long)st.n_malformed,
		    (unsigned long long)st.n_corrupt,
		    (unsigned long long)st.n_io_errors);
	rc = fflush(stdout) != 0 ? SCTL_EXIT_STATE : SCTL_EXIT_OK;
	if (st.n_io_errors > 0)
		rc = SCTL_EXIT_STATE;
	flowread_free(fr);
	free(path);
	return rc;
}
