/*
 * sctl_src.c: the packets of one capture file (sctl_cap.h).
 *
 * A capture file is gzip members back to back: an empty metadata member,
 * then members of whole pcap records, the first starting with the 24-byte
 * global header.  The source reads a list of byte ranges of the file with
 * pread and inflates them with zlib as one stream of pcap bytes:
 *   - with a usable member index (sctl_side_index_ok), only the members
 *     whose span (sctl_member_span) meets [since, until], plus the first
 *     24 bytes of the first data member for the global header when that
 *     member is not wanted;
 *   - without one, the whole file.
 * Since every member holds whole records, the members that are kept still
 * concatenate into a valid record stream.  zlib checks each member's CRC
 * and length.  Records are parsed through pcapfmt (the cursor), in a
 * buffer that always holds the largest legal record twice over.
 *
 * Owns: a zlib stream, a 64 KiB input buffer, a 512 KiB output buffer and
 * the range list; not the fd.  Cost: inflating what is read, one memmove
 * per refill; members outside the range cost nothing but their hashing,
 * which the caller did before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sctl_cap.h"

#define SRC_IBUF (64 * 1024)
#define SRC_OBUF (2 * (PCAPFMT_RHDR_LEN + PCAPFMT_MAX_SNAPLEN))

struct src_range {
	uint64_t off, len;
	uint64_t limit; /* output bytes wanted, 0: all */
};

struct sctl_src {
	int		  fd;
	struct src_range *rg;
	size_t		  n_rg, next_rg;
	/* The range being read. */
	int		      in_range, in_member;
	uint64_t	      roff, rend;   /* next byte to read, end */
	uint64_t	      rout, rlimit; /* output so far, wanted */
	z_stream	      zs;
	int		      has_zs;
	uint8_t		      ibuf[SRC_IBUF];
	size_t		      ipos, ilen;
	uint8_t		     *obuf;
	size_t		      opos, olen;
	struct pcapfmt_hdr    hdr;
	struct sctl_src_stats st;
};

static int
add_range(struct sctl_src *s, uint64_t off, uint64_t len, uint64_t limit)
{
	struct src_range *r, *nr;

	if (s->n_rg > 0 && limit == 0) {
		r = &s->rg[s->n_rg - 1];
		if (r->limit == 0 && r->off + r->len == off) {
			r->len += len;
			return 0;
		}
	}
	if ((nr = realloc(s->rg, (s->n_rg + 1) * sizeof(*nr))) == NULL)
		return -1;
	s->rg = nr;
	nr[s->n_rg].off = off;
	nr[s->n_rg].len = len;
	nr[s->n_rg].limit = limit;
	s->n_rg++;
	return 0;
}

static int
plan(struct sctl_src *s, const struct sctl_side *sd, uint64_t size,
    uint64_t since_ns, uint64_t until_ns)
{
	const struct sctl_member *m;
	uint64_t		  lo, hi;
	size_t			  i;
	int			  want;

	if (!sctl_side_index_ok(sd) || sd->bytes_gz != size)
		return add_range(s, 0, size, 0);
	s->st.used_index = 1;
	for (i = 0; i < sd->n_members; i++) {
		m = &sd->members[i];
		sctl_member_span(m, &lo, &hi);
		want = sctl_overlaps(lo, hi, since_ns, until_ns);
		if (!want)
			s->st.members_skipped++;
		if (!want && i == 0) {
			if (add_range(s, m->off, m->len, PCAPFMT_GHDR_LEN) != 0)
				return -1;
		} else if (want && add_range(s, m->off, m->len, 0) != 0)
			return -1;
	}
	return 0;
}

/*
 * Inflate more bytes into obuf (which has room).  1 when some came, 0 at
 * the end of the last range, -1 bad data, -2 read error; *why set.
 */
static int
fill(struct sctl_src *s, const char **why)
{
	size_t	room, produced, used;
	ssize_t n;
	int	r;

	for (;;) {
		if (!s->in_range) {
			if (s->next_rg == s->n_rg)
				return 0;
			s->roff = s->rg[s->next_rg].off;
			s->rend = s->roff + s->rg[s->next_rg].len;
			s->rlimit = s->rg[s->next_rg].limit;
			s->next_rg++;
			s->rout = 0;
			s->ipos = s->ilen = 0;
			s->in_member = 0;
			s->in_range = 1;
		}
		if (!s->in_member) {
			if (s->roff == s->rend && s->ipos == s->ilen) {
				s->in_range = 0; /* ended on a member */
				continue;
			}
			if (inflateReset(&s->zs) != Z_OK) {
				*why = "zlib inflateReset failed";
				return -1;
			}
			s->in_member = 1;
			s->st.members_read++;
		}
		if (s->ipos == s->ilen) {
			if (s->roff == s->rend) {
				*why = "a gzip member is cut short (or the "
				       "member index is wrong)";
				return -1;
			}
			room = s->rend - s->roff > SRC_IBUF
			    ? SRC_IBUF
			    : (size_t)(s->rend - s->roff);
			n = pread(s->fd, s->ibuf, room, (off_t)s->roff);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				*why = n < 0
				    ? "read error"
				    : "file shorter than its member index";
				return n < 0 ? -2 : -1;
			}
			s->roff += (uint64_t)n;
			s->st.bytes_in += (uint64_t)n;
			s->ipos = 0;
			s->ilen = (size_t)n;
		}
		room = SRC_OBUF - s->olen;
		if (s->rlimit != 0 && room > s->rlimit - s->rout)
			room = (size_t)(s->rlimit - s->rout);
		s->zs.next_in = s->ibuf + s->ipos;
		s->zs.avail_in = (uInt)(s->ilen - s->ipos);
		s->zs.next_out = s->obuf + s->olen;
		s->zs.avail_out = (uInt)room;
		r = inflate(&s->zs, Z_NO_FLUSH);
		used = s->ilen - s->ipos - s->zs.avail_in;
		produced = room - s->zs.avail_out;
		s->ipos += used;
		s->olen += produced;
		s->rout += produced;
		if (r == Z_STREAM_END)
			s->in_member = 0;
		else if (r != Z_OK && r != Z_BUF_ERROR) {
			*why = "corrupt gzip data";
			return -1;
		} else if (used == 0 && produced == 0) {
			*why = "inflate makes no progress";
			return -1;
		}
		if (s->rlimit != 0 && s->rout == s->rlimit) {
			/* Only the header was wanted from this range. */
			s->in_range = 0;
			s->in_member = 0;
		}
		if (produced > 0)
			return 1;
	}
}

/* Make room, then inflate more; as fill(). */
static int
refill(struct sctl_src *s, const char **why)
{
	if (s->opos > 0) {
		memmove(s->obuf, s->obuf + s->opos, s->olen - s->opos);
		s->olen -= s->opos;
		s->opos = 0;
	}
	if (s->olen == SRC_OBUF) {
		*why = "pcap record larger than the buffer";
		return -1;
	}
	return fill(s, why);
}

struct sctl_src *
sctl_src_open(int fd, const struct sctl_side *sd, uint64_t since_ns,
    uint64_t until_ns, const char **why)
{
	struct sctl_src *s;
	struct stat	 st;
	struct cur	 c;
	int		 r;

	if (fstat(fd, &st) != 0) {
		*why = "cannot stat the file";
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->obuf = malloc(SRC_OBUF)) == NULL) {
		free(s);
		*why = "out of memory";
		return NULL;
	}
	s->fd = fd;
	if (inflateInit2(&s->zs, 15 + 16) != Z_OK) {
		*why = "zlib inflateInit2 failed";
		goto fail;
	}
	s->has_zs = 1;
	if (plan(s, sd, (uint64_t)st.st_size, since_ns, until_ns) != 0) {
		*why = "out of memory";
		goto fail;
	}
	while (s->olen < PCAPFMT_GHDR_LEN)
		if ((r = fill(s, why)) <= 0) {
			if (r == 0)
				*why = "no pcap header in the file";
			goto fail;
		}
	cur_init(&c, s->obuf, s->olen);
	if (pcapfmt_ghdr_read(&c, &s->hdr) != 0) {
		*why = "bad pcap header";
		goto fail;
	}
	if (s->hdr.snaplen > PCAPFMT_MAX_SNAPLEN) {
		*why = "pcap snaplen larger than sensord writes";
		goto fail;
	}
	if (sd->has_link &&
	    (sd->link_type != s->hdr.linktype ||
		sd->snaplen != s->hdr.snaplen ||
		sd->is_nsec != s->hdr.is_nsec)) {
		*why = "the sidecar's link type, snaplen or precision differ "
		       "from the file's";
		goto fail;
	}
	s->opos = PCAPFMT_GHDR_LEN;
	return s;
fail:
	sctl_src_free(s);
	return NULL;
}

int
sctl_src_next(struct sctl_src *s, struct pcapfmt_rec *rec, const char **why)
{
	enum pcapfmt_res res;
	struct cur	 c;
	int		 r;

	for (;;) {
		cur_init(&c, s->obuf + s->opos, s->olen - s->opos);
		res = pcapfmt_rec_read(&c, &s->hdr, rec);
		if (res == PCAPFMT_OK) {
			s->opos += cur_off(&c);
			return 1;
		}
		if (res == PCAPFMT_BAD) {
			*why = "corrupt pcap record";
			return -1;
		}
		/* END or TRUNC: the next record needs more bytes. */
		if ((r = refill(s, why)) < 0)
			return r;
		if (r == 0) {
			if (s->olen == s->opos)
				return 0;
			*why = "pcap record cut short at the end";
			return -1;
		}
	}
}

const struct pcapfmt_hdr *
sctl_src_hdr(const struct sctl_src *s)
{
	return &s->hdr;
}

void
sctl_src_stats(const struct sctl_src *s, struct sctl_src_stats *st)
{
	*st = s->st;
}

void
sctl_src_free(struct sctl_src *s)
{
	if (s == NULL)
		return;
	if (s->has_zs)
		inflateEnd(&s->zs);
	free(s->rg);
	free(s->obuf);
	free(s);
}

int
sctl_file_sha256(int fd, uint8_t dig[SHA256_LEN], uint64_t *size)
{
	const size_t  bufsz = 256 * 1024;
	struct sha256 h;
	uint64_t      n = 0;
	uint8_t	     *buf;
	ssize_t	      r;
	int	      saved;

	if ((buf = malloc(bufsz)) == NULL)
		return -1;
	sha256_init(&h);
	for (;;) {
		r = pread(fd, buf, bufsz, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			saved = errno;
			free(buf);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		sha256_update(&h, buf, (size_t)r);
		n += (uint64_t)r;
	}
	free(buf);
	sha256_final(&h, dig);
	*size = n;
	return 0;
}
