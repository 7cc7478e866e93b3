/*
 * sctl_extract.c: `sensorctl extract HOST [--since T] [--until T]
 * [--filter BPF] -o OUT`, one verified pcap of a host's captured packets.
 *
 * Order of work, each step refusing before the next one starts:
 *   1. HOST is parsed as an address and formatted back into spool's
 *      directory name; no path from the command line ever reaches the
 *      state directory.  Files are those of our listing whose names match
 *      spool's pattern, opened with openat(O_NOFOLLOW).
 *   2. Select the files whose sidecar time range meets [since, until].  A
 *      file without a usable sidecar that may hold packets of the range
 *      cannot be verified: refused (exit 4), never silently skipped.
 *   3. Verify every selected file before any packet is used: size and
 *      SHA-256 of the whole file against the sidecar.  Any mismatch: a
 *      loud message naming the file, exit 4, nothing written.  The fds
 *      stay open, so the merge reads the very files that were hashed (a
 *      file swapped by rename afterwards is not read).
 *   4. Warn where the hash chain (each sidecar's prev_sha256) is broken
 *      inside the selection: files were removed or replaced.
 *   5. Compile the BPF filter for the files' link type and snaplen, merge,
 *      cut, filter, write (sctl_merge.c, sctl_pcapout.c).
 *
 * Exit status: 1 bad arguments or an existing OUT; 2 the state directory,
 * nothing to extract, or an output error; 4 an integrity failure.
 * XXX: the member index in the sidecar is not covered by any hash (only
 * the capture file is); a forged index can make us skip members.  It is
 * checked for consistency (sctl_side_index_ok), and a file is read whole
 * when it is not consistent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "sctl_cap.h"
#include "sctl_json.h"
#include "sensorctl.h"

struct ex {
	const struct sctl_args *a;
	struct sctl_host	h;
	uint64_t		since, until;
	struct sctl_merge_in   *in; /* selected files, by first packet */
	size_t			n_in;
	uint32_t		linktype, snaplen;
	int			is_nsec;
	pcap_t		       *pd;
	struct bpf_program	prog;
	int			has_prog;
	struct sctl_out		out;
	int			has_out;
};

static void
integrity(const struct ex *x, const char *name, const char *what)
{
	fprintf(stderr,
	    "sensorctl: INTEGRITY FAILURE: captures/%s/%s: %s; "
	    "refusing to extract (nothing written)\n",
	    x->h.dir, name, what);
}

static int
first_cmp(const void *pa, const void *pb)
{
	const struct sctl_merge_in *a = pa, *b = pb;

	if (a->start_ns != b->start_ns)
		return a->start_ns < b->start_ns ? -1 : 1;
	return a->side->file_id < b->side->file_id
	    ? -1
	    : a->side->file_id > b->side->file_id;
}

/* Step 2; an exit status. */
static int
select_files(struct ex *x)
{
	const struct sctl_file *f, *nx;
	uint64_t		t0, t1;
	size_t			i;

	if ((x->in = calloc(x->h.n_files + 1, sizeof(*x->in))) == NULL) {
		fprintf(stderr, "sensorctl: out of memory\n");
		return SCTL_EXIT_STATE;
	}
	for (i = 0; i < x->h.n_files; i++) {
		f = &x->h.files[i];
		if (f->has_side) {
			sctl_side_span(&f->side, &t0, &t1);
			if (!sctl_overlaps(t0, t1, x->since, x->until))
				continue;
			x->in[x->n_in].fd = -1;
			x->in[x->n_in].side = &f->side;
			x->in[x->n_in].name = f->name;
			x->in[x->n_in].start_ns = t0;
			x->n_in++;
			continue;
		}
		/*
		 * Its range is unknown: from its name's start (seconds) to
		 * the next file's start, or open-ended.
		 */
		nx = i + 1 < x->h.n_files ? &x->h.files[i + 1] : NULL;
		t0 = f->t_s * 1000000000u;
		t0 = t0 > SCTL_SKEW_NS ? t0 - SCTL_SKEW_NS : 0;
		t1 = nx != NULL ? (nx->t_s + 1) * 1000000000u + SCTL_SKEW_NS
				: UINT64_MAX;
		if (sctl_overlaps(t0, t1, x->since, x->until)) {
			integrity(x, f->name, f->side_err);
			return SCTL_EXIT_INTEGRITY;
		}
	}
	if (x->n_in == 0) {
		fprintf(stderr,
		    "sensorctl: extract: no capture file of %s "
		    "overlaps the time range\n",
		    x->h.dir);
		return SCTL_EXIT_STATE;
	}
	qsort(x->in, x->n_in, sizeof(*x->in), first_cmp);
	return SCTL_EXIT_OK;
}

/* Enough descriptors to keep every selected file open; an exit status. */
static int
fd_room(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && (rlim_t)n + 32 > rl.rlim_cur) {
		fprintf(stderr,
		    "sensorctl: extract: %zu files in the range, "
		    "more than can be open at once; narrow --since/--until\n",
		    n);
		return SCTL_EXIT_STATE;
	}
	return SCTL_EXIT_OK;
}

/* Step 3 for one file; an exit status. */
static int
verify(struct ex *x, struct sctl_merge_in *in)
{
	char	    got[SHA256_HEXLEN], want[SHA256_HEXLEN], msg[256];
	uint8_t	    dig[SHA256_LEN];
	struct stat st;
	uint64_t    size;

	in->fd = openat(
	    x->h.dfd, in->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in->fd < 0 || fstat(in->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(msg, sizeof(msg), "cannot open: %s",
		    in->fd >= 0		 ? "not a regular file"
			: errno == ELOOP ? "a symbolic link"
					 : strerror(errno));
		integrity(x, in->name, msg);
		return SCTL_EXIT_INTEGRITY;
	}
	if (sctl_file_sha256(in->fd, dig, &size) != 0) {
		fprintf(stderr, "sensorctl: captures/%s/%s: read error: %s\n",
		    x->h.dir, in->name, strerror(errno));
		return SCTL_EXIT_STATE;
	}
	if (size != in->side->bytes_gz) {
		snprintf(msg, sizeof(msg),
		    "it has %llu bytes, its sidecar "
		    "says %llu",
		    (unsigned long long)size,
		    (unsigned long long)in->side->bytes_gz);
		integrity(x, in->name, msg);
		return SCTL_EXIT_INTEGRITY;
	}
	if (memcmp(dig, in->side->sha256, SHA256_LEN) != 0) {
		sha256_hex(dig, got);
		sha256_hex(in->side->sha256, want);
		snprintf(msg, sizeof(msg),
		    "its SHA-256 is %s, its sidecar "
		    "says %s",
		    got, want);
		integrity(x, in->name, msg);
		return SCTL_EXIT_INTEGRITY;
	}
	return SCTL_EXIT_OK;
}

/* The file's link type, snaplen and precision; an exit status. */
static int
link_of(struct ex *x, const struct sctl_merge_in *in, uint32_t *lt,
    uint32_t *snap, int *is_nsec)
{
	const struct pcapfmt_hdr *h;
	struct sctl_src		 *src;
	const char		 *why;

	if (in->side->has_link) {
		*lt = in->side->link_type;
		*snap = in->side->snaplen;
		*is_nsec = in->side->is_nsec;
		return SCTL_EXIT_OK;
	}
	/* A recovered file may lack them: read its pcap header. */
	if ((src = sctl_src_open(in->fd, in->side, 0, 0, &why)) == NULL) {
		integrity(x, in->name, why);
		return SCTL_EXIT_INTEGRITY;
	}
	h = sctl_src_hdr(src);
	*lt = h->linktype;
	*snap = h->snaplen;
	*is_nsec = h->is_nsec;
	sctl_src_free(src);
	return SCTL_EXIT_OK;
}

/* Steps 3 and 4; an exit status. */
static int
verify_all(struct ex *x)
{
	const struct sctl_file *f, *pf;
	uint64_t		lo, hi;
	uint32_t		lt, snap;
	size_t			i;
	int			rc, is_nsec;

	if ((rc = fd_room(x->n_in)) != SCTL_EXIT_OK)
		return rc;
	for (i = 0; i < x->n_in; i++) {
		if ((rc = verify(x, &x->in[i])) != SCTL_EXIT_OK ||
		    (rc = link_of(x, &x->in[i], &lt, &snap, &is_nsec)) !=
			SCTL_EXIT_OK)
			return rc;
		if (i > 0 && lt != x->linktype) {
			fprintf(stderr,
			    "sensorctl: extract: the files of %s "
			    "in the range have different link types (%u, "
			    "%u): narrow the range\n",
			    x->h.dir, x->linktype, lt);
			return SCTL_EXIT_STATE;
		}
		x->linktype = lt;
		if (snap > x->snaplen)
			x->snaplen = snap;
		x->is_nsec |= is_nsec;
	}
	/* The chain, where both ends are listed and the later one is used. */
	for (i = 1; i < x->h.n_files; i++) {
		f = &x->h.files[i];
		pf = &x->h.files[i - 1];
		if (!f->has_side || !pf->has_side || !f->side.has_prev)
			continue;
		sctl_side_span(&f->side, &lo, &hi);
		if (!sctl_overlaps(lo, hi, x->since, x->until))
			continue;
		if (strcmp(f->side.prev_file, pf->name) != 0 ||
		    memcmp(f->side.prev_sha256, pf->side.sha256, SHA256_LEN) !=
			0)
			fprintf(stderr,
			    "sensorctl: warning: captures/%s/%s "
			    "follows %s, which is missing or differs: files "
			    "were removed or replaced\n",
			    x->h.dir, f->name, f->side.prev_file);
	}
	return SCTL_EXIT_OK;
}

/* Step 5's filter; an exit status. */
static int
compile_filter(struct ex *x)
{
	if (x->a->filter == NULL)
		return SCTL_EXIT_OK;
	x->pd = pcap_open_dead_with_tstamp_precision((int)x->linktype,
	    (int)(x->snaplen > 0 ? x->snaplen : PCAPFMT_MAX_SNAPLEN),
	    x->is_nsec ? PCAP_TSTAMP_PRECISION_NANO
		       : PCAP_TSTAMP_PRECISION_MICRO);
	if (x->pd == NULL) {
		fprintf(stderr,
		    "sensorctl: --filter: cannot use link type "
		    "%u\n",
		    x->linktype);
		return SCTL_EXIT_STATE;
	}
	if (pcap_compile(
		x->pd, &x->prog, x->a->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		fprintf(
		    stderr, "sensorctl: --filter: %s\n", pcap_geterr(x->pd));
		return SCTL_EXIT_USAGE;
	}
	x->has_prog = 1;
	return SCTL_EXIT_OK;
}

static void
report(const struct ex *x, const struct sctl_merge_stats *ms)
{
	FILE *f =
	    x->a->json && strcmp(x->a->output, "-") != 0 ? stdout : stderr;

	if (x->a->json) {
		fprintf(f, "{\"host\":\"%s\",\"output\":", x->h.dir);
		sj_put_str(
		    f, (const uint8_t *)x->a->output, strlen(x->a->output));
		fprintf(f,
		    ",\"files\":%zu,\"verified\":%zu,\"packets\":%llu,"
		    "\"bytes\":%llu,\"read\":%llu,\"cut\":%llu,"
		    "\"filtered\":%llu,\"members_read\":%llu,"
		    "\"members_skipped\":%llu}\n",
		    x->n_in, x->n_in, (unsigned long long)ms->written,
		    (unsigned long long)x->out.bytes,
		    (unsigned long long)ms->read, (unsigned long long)ms->cut,
		    (unsigned long long)ms->filtered,
		    (unsigned long long)ms->src.members_read,
		    (unsigned long long)ms->src.members_skipped);
		return;
	}
	fprintf(f,
	    "sensorctl: extract: %zu file(s) of %s verified "
	    "(SHA-256); %llu packets written to %s (%llu read, %llu outside "
	    "the range, %llu filtered out; %llu gzip members skipped by the "
	    "index)\n",
	    x->n_in, x->h.dir, (unsigned long long)ms->written, x->a->output,
	    (unsigned long long)ms->read, (unsigned long long)ms->cut,
	    (unsigned long long)ms->filtered,
	    (unsigned long long)ms->src.members_skipped);
}

/* Step 5; an exit status. */
static int
run(struct ex *x)
{
	struct sctl_merge_stats ms;
	enum sctl_merge_res	res;
	const char	       *why = "";
	size_t			which = 0;
	int			rc;

	if ((rc = compile_filter(x)) != SCTL_EXIT_OK)
		return rc;
	if (sctl_out_open(&x->out, x->a->output, x->linktype, x->snaplen,
		x->is_nsec, &why) != 0) {
		fprintf(stderr, "sensorctl: %s: %s%s%s\n", x->a->output, why,
		    errno != EEXIST ? ": " : "",
		    errno != EEXIST ? strerror(errno) : "");
		return errno == EEXIST || errno == EINVAL ? SCTL_EXIT_USAGE
							  : SCTL_EXIT_STATE;
	}
	x->has_out = 1;
	res = sctl_merge(x->in, x->n_in, x->since, x->until,
	    x->has_prog ? &x->prog : NULL, &x->out, &ms, &which, &why);
	switch (res) {
	case SCTL_MERGE_OK:
		break;
	case SCTL_MERGE_BAD_DATA:
		integrity(x, x->in[which].name, why);
		return SCTL_EXIT_INTEGRITY;
	case SCTL_MERGE_READ_ERROR:
		fprintf(stderr, "sensorctl: captures/%s/%s: %s: %s\n", x->h.dir,
		    x->in[which].name, why, strerror(errno));
		return SCTL_EXIT_STATE;
	case SCTL_MERGE_WRITE_ERROR:
		fprintf(stderr, "sensorctl: %s: write error: %s\n",
		    x->a->output, strerror(errno));
		return SCTL_EXIT_STATE;
	case SCTL_MERGE_TOO_MANY:
		fprintf(stderr,
		    "sensorctl: extract: more than %d files of %s "
		    "overlap in time\n",
		    SCTL_MERGE_ACTIVE_MAX, x->h.dir);
		return SCTL_EXIT_STATE;
	}
	if (sctl_out_commit(&x->out, &why) != 0) {
		fprintf(stderr, "sensorctl: %s: %s: %s\n", x->a->output, why,
		    strerror(errno));
		return errno == EEXIST ? SCTL_EXIT_USAGE : SCTL_EXIT_STATE;
	}
	report(x, &ms);
	return SCTL_EXIT_OK;
}

/* Steps 1 to 5; an exit status. */
static int
extract(struct ex *x)
{
	char	dir[ADDR_STRLEN];
	uint8_t addr[16];
	int	sfd, capfd, rc;

	if (x->a->arg == NULL || addr_parse(x->a->arg, addr) != 0) {
		fprintf(stderr,
		    "sensorctl: extract: expected a host address, "
		    "got '%s'\n",
		    x->a->arg != NULL ? x->a->arg : "");
		return SCTL_EXIT_USAGE;
	}
	if (x->a->output == NULL) {
		fprintf(stderr,
		    "sensorctl: extract: -o OUT.pcap is required "
		    "(- for stdout)\n");
		return SCTL_EXIT_USAGE;
	}
	spool_host_dirname(addr, dir, sizeof(dir));
	if ((sfd = sctl_state_open(x->a)) < 0)
		return SCTL_EXIT_STATE;
	capfd = openat(
	    sfd, "captures", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(sfd);
	if (capfd < 0) {
		fprintf(stderr, "sensorctl: cannot open %s/captures: %s\n",
		    x->a->state_dir, strerror(errno));
		return SCTL_EXIT_STATE;
	}
	rc = sctl_host_load(capfd, dir, &x->h);
	close(capfd);
	if (rc != 0) {
		fprintf(stderr, "sensorctl: %s/captures/%s: %s\n",
		    x->a->state_dir, dir,
		    errno == ENOENT ? "no captures of this host"
				    : strerror(errno));
		return SCTL_EXIT_STATE;
	}
	if (x->h.n_part > 0)
		fprintf(stderr,
		    "sensorctl: note: %s has %zu file(s) still "
		    "being written; their packets are not included\n",
		    dir, x->h.n_part);
	sctl_range_ns(x->a, &x->since, &x->until);
	if ((rc = select_files(x)) != SCTL_EXIT_OK ||
	    (rc = verify_all(x)) != SCTL_EXIT_OK)
		return rc;
	return run(x);
}

int
sctl_extract(const struct sctl_args *a)
{
	struct ex x;
	size_t	  i;
	int	  rc;

	memset(&x, 0, sizeof(x));
	x.a = a;
	x.h.dfd = -1;
	rc = extract(&x);
	if (x.has_out && rc != SCTL_EXIT_OK)
		sctl_out_abort(&x.out);
	if (x.has_prog)
		pcap_freecode(&x.prog);
	if (x.pd != NULL)
		pcap_close(x.pd);
	for (i = 0; i < x.n_in; i++)
		if (x.in[i].fd >= 0)
			close(x.in[i].fd);
	free(x.in);
	sctl_host_free(&x.h);
	return rc;
}
