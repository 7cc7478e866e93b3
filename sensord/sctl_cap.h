/*
 * sctl_cap.h: reading a state directory's capture spool without the
 * daemon (sensorctl captures / extract), as written by spool.c:
 *
 *   STATEDIR/captures/<host>/<start>_<id>.pcap.gz       a closed file
 *   STATEDIR/captures/<host>/<start>_<id>.pcap.gz.json  its sidecar
 *
 * Everything here treats the directory as untrusted (a forensic copy may
 * have been tampered with): names are matched against spool's pattern and
 * opened with openat(O_NOFOLLOW) below a directory fd, never from a path
 * the user typed; sidecars are parsed strictly (sctl_json.h) and bounded;
 * capture files are parsed through the cursor even after their SHA-256
 * matched, since a forger can rewrite a file and its sidecar together.
 */
#ifndef SENSORD_SCTL_CAP_H
#define SENSORD_SCTL_CAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pcapfmt.h"
#include "sha256.h"
#include "spool.h"
#include "util.h"

#define SCTL_NAME_MAX 64	    /* a capture file name, with .json */
#define SCTL_SIDE_MAX (16u << 20)   /* largest sidecar read */
#define SCTL_MEMBERS_MAX (1u << 20) /* member index entries */

/* One entry of a sidecar's gzip member index. */
struct sctl_member {
	uint64_t off, len; /* bytes in the .pcap.gz */
	uint64_t first_ns, last_ns;
	uint64_t pkts;
};

/* What a sidecar says (spool.c sc_render, format "sensord-capture/1"). */
struct sctl_side {
	char		    file[SCTL_NAME_MAX];
	char		    host[ADDR_STRLEN];
	char		    version[32];
	uint64_t	    file_id;
	int		    is_recovered;
	int		    has_trigger;
	uint64_t	    event_id;
	char		    metric[SPOOL_METRIC_MAX];
	char		    reason[SPOOL_REASON_MAX];
	double		    value, threshold;
	int		    has_value, has_threshold;
	uint64_t	    first_ns, last_ns;
	uint64_t	    packets, bytes_raw, bytes_gz;
	uint8_t		    sha256[SHA256_LEN];
	int		    has_prev;
	uint8_t		    prev_sha256[SHA256_LEN];
	char		    prev_file[SCTL_NAME_MAX];
	int		    has_link; /* link_type, snaplen, tstamp given */
	uint32_t	    link_type, snaplen;
	int		    is_nsec;
	int		    has_members;
	struct sctl_member *members; /* malloc'd, n_members entries */
	size_t		    n_members;
};

/*
 * Parse a sidecar.  0, or -1 with *why (static text).  On success the
 * caller frees with sctl_side_free (also safe after a failure).
 */
int sctl_side_parse(
    const uint8_t *buf, size_t len, struct sctl_side *s, const char **why);
void sctl_side_free(struct sctl_side *s);

/*
 * Packet stamps may step back (a clock step, several interfaces), and a
 * sidecar gives each member's first and last packet time, not its
 * smallest and largest.  A member is therefore placed in time as
 * [min(first, last) - SKEW, max(first, last) + SKEW]: a packet stamped up
 * to SKEW outside its member's first..last is still found.
 * XXX: a step back of more than SKEW inside one member, undone within the
 * same member, can hide a packet from a narrow range; min/max times per
 * member in the sidecar would close that.
 */
#define SCTL_SKEW_NS 1000000000ull

/*
 * 1 when the member index is consistent with the sidecar: members are
 * contiguous from after the metadata member to bytes_gz, count `packets`
 * in total, and begin and end with the file's first and last packet.  Only
 * then is it used to skip members and to place the file in time.
 */
int sctl_side_index_ok(const struct sctl_side *s);

/* The times a member may hold packets of (see SCTL_SKEW_NS). */
void sctl_member_span(const struct sctl_member *m, uint64_t *lo, uint64_t *hi);

/*
 * The times a file may hold packets of: the union of its members' spans
 * when the index is usable, else any time (the file is then always
 * selected, and cut packet by packet).
 */
void sctl_side_span(const struct sctl_side *s, uint64_t *lo, uint64_t *hi);

/* A capture file name: 0 with *id and *t_s (UTC start), or -1. */
int sctl_name_parse(const char *name, uint64_t *id, uint64_t *t_s);
/* A host directory name: 0 with addr when it is spool's canonical form. */
int sctl_dir_addr(const char *name, uint8_t addr[16]);

/* One capture file of a host, from the directory listing. */
struct sctl_file {
	char		 name[SCTL_NAME_MAX];
	uint64_t	 id;
	uint64_t	 t_s;	     /* start, from the name */
	uint64_t	 size;	     /* on disk (fstatat, no symlink) */
	int		 is_regular; /* else extract refuses it */
	int		 has_side;   /* side parsed */
	const char	*side_err;   /* else why not */
	struct sctl_side side;
};

struct sctl_host {
	char		  dir[ADDR_STRLEN];
	uint8_t		  addr[16];
	int		  dfd;	 /* the host directory, or -1 */
	struct sctl_file *files; /* by id */
	size_t		  n_files;
	size_t		  n_part; /* files being written (.part) */
};

/*
 * List host `dir` under the captures directory capfd: every capture file
 * with its sidecar.  0, or -1 with errno (ENOENT: no such host).
 */
int  sctl_host_load(int capfd, const char *dir, struct sctl_host *h);
void sctl_host_free(struct sctl_host *h);

/* Host directory names under capfd, sorted; *names malloc'd. */
int sctl_host_dirs(int capfd, char (**names)[ADDR_STRLEN], size_t *n);

/* 1 when [first, last] meets [since, until] (0, UINT64_MAX: no bounds). */
int sctl_overlaps(
    uint64_t first_ns, uint64_t last_ns, uint64_t since_ns, uint64_t until_ns);

/*
 * Hash the whole file at fd: 0 with dig and *size, -1 with errno.
 */
int sctl_file_sha256(int fd, uint8_t dig[SHA256_LEN], uint64_t *size);

/*
 * Packets of one capture file, in file order, between since and until
 * (only as a hint: members wholly outside are skipped when the index is
 * usable; the caller still cuts per packet).
 */
struct sctl_src;

struct sctl_src_stats {
	uint64_t members_read, members_skipped;
	uint64_t bytes_in; /* compressed bytes inflated */
	int	 used_index;
};

/* fd stays the caller's.  NULL with *why on failure. */
struct sctl_src *sctl_src_open(int fd, const struct sctl_side *s,
    uint64_t since_ns, uint64_t until_ns, const char **why);
/*
 * 1 and *r (valid until the next call), 0 at the end; -1 with *why for
 * bad data (gzip, pcap, or an index that does not fit the file), -2 with
 * *why and errno for a read error.
 */
int sctl_src_next(
    struct sctl_src *src, struct pcapfmt_rec *r, const char **why);
const struct pcapfmt_hdr *sctl_src_hdr(const struct sctl_src *src);
void sctl_src_stats(const struct sctl_src *src, struct sctl_src_stats *st);
void sctl_src_free(struct sctl_src *src);

/*
 * The output of extract: one classic pcap file, written under a temporary
 * name next to `path` and renamed into place by sctl_out_commit, never
 * over an existing file; or stdout for path "-".
 */
struct sctl_out {
	const char *path;
	char	   *tmp; /* NULL for stdout */
	FILE	   *f;
	int	    is_nsec;
	uint64_t    pkts, bytes; /* records written, their caplen sum */
};

/* 0, or -1 with *why and errno (EEXIST: path exists). */
int sctl_out_open(struct sctl_out *o, const char *path, uint32_t linktype,
    uint32_t snaplen, int is_nsec, const char **why);
int sctl_out_pkt(struct sctl_out *o, uint64_t ts_ns, const uint8_t *data,
    uint32_t caplen, uint32_t wirelen);
/* Flush, fsync, rename into place.  0, or -1 with *why (output removed). */
int sctl_out_commit(struct sctl_out *o, const char **why);
/* Remove the temporary file, if any; safe after commit. */
void sctl_out_abort(struct sctl_out *o);

/*
 * Merge verified capture files into out: a k-way merge by packet time over
 * the files (each in file order), cut to [since_ns, until_ns], filtered by
 * prog when it is not NULL.  in[] must be sorted by start_ns (the start of
 * sctl_side_span); a file is opened when the merge reaches that time.
 */
struct bpf_program;

struct sctl_merge_in {
	int			fd; /* the verified file (caller's) */
	const struct sctl_side *side;
	const char	       *name;	  /* for messages */
	uint64_t		start_ns; /* open it when the merge gets here */
};

struct sctl_merge_stats {
	uint64_t	      read;	/* records read */
	uint64_t	      cut;	/* outside [since, until] */
	uint64_t	      filtered; /* refused by the BPF program */
	uint64_t	      written;
	uint64_t	      max_active; /* files open at once, at most */
	struct sctl_src_stats src;	  /* summed over the files */
};

enum sctl_merge_res {
	SCTL_MERGE_OK = 0,
	SCTL_MERGE_BAD_DATA,	/* in[*which]: *why */
	SCTL_MERGE_READ_ERROR,	/* in[*which]: *why, errno */
	SCTL_MERGE_WRITE_ERROR, /* the output; errno */
	SCTL_MERGE_TOO_MANY	/* too many files overlap in time */
};

#define SCTL_MERGE_ACTIVE_MAX 64

enum sctl_merge_res sctl_merge(const struct sctl_merge_in *in, size_t n,
    uint64_t since_ns, uint64_t until_ns, const struct bpf_program *prog,
    struct sctl_out *out, struct sctl_merge_stats *st, size_t *which,
    const char **why);

#endif /* SENSORD_SCTL_CAP_H */
