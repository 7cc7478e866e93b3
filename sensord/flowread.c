/*
 * flowread.c: iterate flow-log records (see flowread.h).
 *
 * What it owns: a list of sources (paths opened lazily, or fds), one zlib
 * inflate stream, a 64 KiB input and a 64 KiB output buffer.  Memory is
 * fixed after flowread_new plus the source list; one record at a time.
 *
 * Reading a file: at each member start the header is parsed through the
 * cursor; a member of ours whose index ("SF": min start, max end) lies
 * outside the time filter is skipped by its declared size, anything else is
 * inflated by zlib (windowBits 15 + 16: gzip only, CRC and length checked at
 * each member end).  Output is split into lines; a line longer than
 * FLOWREAD_LINE_MAX is discarded up to its newline.  End of file inside a
 * member is a truncated file (the open file of a running or killed sensord):
 * the whole lines before the cut are returned, the cut line is dropped.
 * Bad gzip data or junk between members ends that file (counted, reported).
 *
 * The line parser is a strict JSON reader for flat objects: strings,
 * numbers without exponent, true/false/null; no nesting; each key at most
 * once; every contract key required.  Times are read as decimal text into
 * microseconds (no floating point).  \u0000-\u00ff decode to the single byte
 * (the inverse of flowlog's escaping of bytes that are not UTF-8); other
 * escapes decode to UTF-8.  Every loop is bounded by the line length.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "cursor.h"
#include "flowread.h"

#define IBUF_SIZE (64 * 1024)
#define OBUF_SIZE (64 * 1024)

struct fr_src {
	char *path; /* NULL for an fd source */
	char *name; /* for reports */
	int   fd;
};

struct flowread {
	struct flowread_filter flt;
	flowread_problem_fn    fn;
	void		      *arg;

	struct fr_src *src;
	size_t	       n_src, cap_src, next_src;

	/* The current file. */
	int	    is_open;
	int	    fd;
	const char *name;
	uint64_t    fsize; /* 0: unknown (not regular) */
	uint64_t    foff;  /* file offset of ibuf[ilen] */
	int	    in_member;
	int	    is_done;	 /* no more output from this file */
	int	    is_cut;	 /* ended inside a member */
	int	    is_skipping; /* inside an overlong line */
	uint64_t    lineno;
	z_stream    zs;
	int	    has_zs;
	uint8_t	    ibuf[IBUF_SIZE];
	size_t	    ipos, ilen;
	uint8_t	    obuf[OBUF_SIZE];
	size_t	    opos, olen;

	struct flowread_stats st;
};

static void
problem(struct flowread *fr, uint64_t line, const char *what)
{
	if (fr->fn != NULL)
		fr->fn(fr->arg, fr->name != NULL ? fr->name : "-", line, what);
}

/* ------------------------------------------------------------------ */
/* Line parser                                                        */
/* ------------------------------------------------------------------ */

enum fkind { F_U64, F_TIME, F_ADDR, F_FLAGS, F_STR, F_BOOL, F_REASON };

enum fkey {
	K_CONV_ID,
	K_SEQ,
	K_START,
	K_END,
	K_PROTO,
	K_SRC,
	K_SPORT,
	K_DST,
	K_DPORT,
	K_SRC_PKTS,
	K_SRC_BYTES,
	K_DST_PKTS,
	K_DST_BYTES,
	K_SRC_FLAGS,
	K_DST_FLAGS,
	K_STATE,
	K_HISTORY,
	K_END_REASON,
	K_FINAL,
	K_VLAN,
	K_IFACE,
	K_SRC_FIRST,
	K_SRC_LAST,
	K_DST_FIRST,
	K_DST_LAST,
	K__COUNT
};

static const struct fdef {
	const char *name;
	enum fkind  kind;
	uint64_t    max; /* F_U64: value; F_STR: bytes */
	int	    is_required;
} fdefs[K__COUNT] = {
    [K_CONV_ID] = {"conv_id", F_U64, UINT64_MAX, 1},
    [K_SEQ] = {"seq", F_U64, UINT32_MAX, 1},
    [K_START] = {"start", F_TIME, 0, 1},
    [K_END] = {"end", F_TIME, 0, 1},
    [K_PROTO] = {"proto", F_U64, UINT8_MAX, 1},
    [K_SRC] = {"src", F_ADDR, 0, 1},
    [K_SPORT] = {"sport", F_U64, UINT16_MAX, 1},
    [K_DST] = {"dst", F_ADDR, 0, 1},
    [K_DPORT] = {"dport", F_U64, UINT16_MAX, 1},
    [K_SRC_PKTS] = {"src_pkts", F_U64, UINT64_MAX, 1},
    [K_SRC_BYTES] = {"src_bytes", F_U64, UINT64_MAX, 1},
    [K_DST_PKTS] = {"dst_pkts", F_U64, UINT64_MAX, 1},
    [K_DST_BYTES] = {"dst_bytes", F_U64, UINT64_MAX, 1},
    [K_SRC_FLAGS] = {"src_flags", F_FLAGS, 0, 1},
    [K_DST_FLAGS] = {"dst_flags", F_FLAGS, 0, 1},
    [K_STATE] = {"state", F_STR, CONV_STATE_MAX - 1, 1},
    [K_HISTORY] = {"history", F_STR, CONV_HISTORY_MAX - 1, 1},
    [K_END_REASON] = {"end_reason", F_REASON, 0, 1},
    [K_FINAL] = {"final", F_BOOL, 0, 1},
    [K_VLAN] = {"vlan", F_U64, UINT16_MAX, 1},
    [K_IFACE] = {"iface", F_STR, FLOWLOG_IFACE_MAX, 1},
    [K_SRC_FIRST] = {"src_first", F_TIME, 0, 0},
    [K_SRC_LAST] = {"src_last", F_TIME, 0, 0},
    [K_DST_FIRST] = {"dst_first", F_TIME, 0, 0},
    [K_DST_LAST] = {"dst_last", F_TIME, 0, 0},
};

/* A parsed JSON value. */
struct jval {
	enum { J_NUM, J_STR, J_TRUE, J_FALSE, J_NULL } type;
	/* J_NUM */
	uint64_t ip;	  /* integer part */
	uint32_t frac_us; /* first six fraction digits */
	int	 is_neg, has_frac, has_exp, is_big;
	/* J_STR: decoded bytes (NUL added, may hold NUL) */
	uint8_t s[FLOWLOG_IFACE_MAX + 1];
	size_t	slen;
	int	is_long; /* did not fit s */
};

static void
skip_ws(struct cur *c)
{
	uint8_t b;

	while (cur_left(c) > 0 &&
	    ((b = cur_peek_u8(c, 0)) == ' ' || b == '\t' || b == '\r'))
		cur_skip(c, 1);
}

static int
hexval(uint8_t b)
{
	if (b >= '0' && b <= '9')
		return b - '0';
	if (b >= 'a' && b <= 'f')
		return b - 'a' + 10;
	if (b >= 'A' && b <= 'F')
		return b - 'A' + 10;
	return -1;
}

static int
get_u4(struct cur *c, unsigned *v)
{
	int i, h;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if ((h = hexval(cur_u8(c))) < 0 || !cur_ok(c))
			return -1;
		*v = *v << 4 | (unsigned)h;
	}
	return 0;
}

static void
sput(struct jval *v, uint8_t b)
{
	if (v->slen < sizeof(v->s) - 1)
		v->s[v->slen++] = b;
	else
		v->is_long = 1;
}

/* A string after its opening quote. */
static int
parse_string(struct cur *c, struct jval *v)
{
	unsigned u, lo;
	uint8_t	 b;

	v->type = J_STR;
	v->slen = 0;
	v->is_long = 0;
	/* Each pass consumes at least one byte: bounded by the line. */
	for (;;) {
		b = cur_u8(c);
		if (!cur_ok(c) || b < 0x20)
			return -1;
		if (b == '"')
			break;
		if (b != '\\') {
			sput(v, b);
			continue;
		}
		b = cur_u8(c);
		switch (b) {
		case '"':
		case '\\':
		case '/':
			sput(v, b);
			break;
		case 'b':
			sput(v, '\b');
			break;
		case 'f':
			sput(v, '\f');
			break;
		case 'n':
			sput(v, '\n');
			break;
		case 'r':
			sput(v, '\r');
			break;
		case 't':
			sput(v, '\t');
			break;
		case 'u':
			if (get_u4(c, &u) != 0)
				return -1;
			if (u < 0x100) {
				sput(v, (uint8_t)u); /* byte, see top */
				break;
			}
			if (u >= 0xdc00 && u <= 0xdfff)
				return -1;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (cur_u8(c) != '\\' || cur_u8(c) != 'u' ||
				    get_u4(c, &lo) != 0 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return -1;
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
				sput(v, (uint8_t)(0xf0 | u >> 18));
				sput(v, (uint8_t)(0x80 | (u >> 12 & 0x3f)));
			} else if (u >= 0x800)
				sput(v, (uint8_t)(0xe0 | u >> 12));
			if (u >= 0x800)
				sput(v, (uint8_t)(0x80 | (u >> 6 & 0x3f)));
			else
				sput(v, (uint8_t)(0xc0 | u >> 6));
			sput(v, (uint8_t)(0x80 | (u & 0x3f)));
			break;
		default:
			return -1;
		}
	}
	v->s[v->slen] = '\0';
	return 0;
}

/* RFC 8259 §6 number: -? int frac? exp?  Exponents are flagged. */
static int
parse_number(struct cur *c, struct jval *v)
{
	uint8_t	 b;
	unsigned nd = 0, nf = 0;

	v->type = J_NUM;
	v->ip = 0;
	v->frac_us = 0;
	v->is_neg = v->has_frac = v->has_exp = v->is_big = 0;
	if (cur_peek_u8(c, 0) == '-') {
		v->is_neg = 1;
		cur_skip(c, 1);
	}
	while (cur_left(c) > 0 && (b = cur_peek_u8(c, 0)) >= '0' && b <= '9') {
		if (nd == 1 && v->ip == 0)
			return -1; /* leading zero */
		if (v->ip > (UINT64_MAX - (b - '0')) / 10)
			v->is_big = 1;
		else
			v->ip = v->ip * 10 + (b - '0');
		nd++;
		cur_skip(c, 1);
	}
	if (nd == 0)
		return -1;
	if (cur_peek_u8(c, 0) == '.') {
		cur_skip(c, 1);
		v->has_frac = 1;
		while (cur_left(c) > 0 && (b = cur_peek_u8(c, 0)) >= '0' &&
		    b <= '9') {
			if (nf < 6)
				v->frac_us = v->frac_us * 10 + (b - '0');
			nf++;
			cur_skip(c, 1);
		}
		if (nf == 0)
			return -1;
		for (; nf < 6; nf++)
			v->frac_us *= 10;
	}
	if ((b = cur_peek_u8(c, 0)) == 'e' || b == 'E') {
		v->has_exp = 1;
		cur_skip(c, 1);
		if ((b = cur_peek_u8(c, 0)) == '+' || b == '-')
			cur_skip(c, 1);
		nd = 0;
		while (cur_left(c) > 0 && (b = cur_peek_u8(c, 0)) >= '0' &&
		    b <= '9') {
			nd++;
			cur_skip(c, 1);
		}
		if (nd == 0)
			return -1;
	}
	return 0;
}

static int
parse_lit(struct cur *c, const char *lit)
{
	size_t	       n = strlen(lit);
	const uint8_t *p = cur_take(c, n);

	return p != NULL && memcmp(p, lit, n) == 0 ? 0 : -1;
}

static int
parse_value(struct cur *c, struct jval *v)
{
	switch (cur_peek_u8(c, 0)) {
	case '"':
		cur_skip(c, 1);
		return parse_string(c, v);
	case 't':
		v->type = J_TRUE;
		return parse_lit(c, "true");
	case 'f':
		v->type = J_FALSE;
		return parse_lit(c, "false");
	case 'n':
		v->type = J_NULL;
		return parse_lit(c, "null");
	default:
		return parse_number(c, v);
	}
}

static int
flags_parse(const struct jval *v, uint8_t *flags)
{
	static const char letters[] = "CEUAPRSF";
	const char	 *l;
	size_t		  i;

	*flags = 0;
	for (i = 0; i < v->slen; i++) {
		if (v->s[i] == '\0' || (l = strchr(letters, v->s[i])) == NULL)
			return -1;
		*flags |= (uint8_t)(0x80u >> (l - letters));
	}
	return 0;
}

/* Store v into the field k of rec; NULL or the reason it is refused. */
static const char *
field_set(struct flowread_rec *rec, enum fkey k, const struct jval *v)
{
	const struct fdef *d = &fdefs[k];
	struct convrec	  *cr = &rec->cr;
	uint64_t	   u = 0;
	int		   r;

	switch (d->kind) {
	case F_U64:
	case F_TIME:
		if (v->type != J_NUM || v->is_neg || v->has_exp || v->is_big)
			return "bad number";
		if (d->kind == F_U64) {
			if (v->has_frac || v->ip > d->max)
				return "number out of range";
			u = v->ip;
		} else {
			if (v->ip > UINT64_MAX / 1000000 - 1)
				return "time out of range";
			u = v->ip * 1000000 + v->frac_us;
		}
		break;
	case F_ADDR:
	case F_FLAGS:
	case F_STR:
	case F_REASON:
		if (v->type != J_STR || v->is_long)
			return "bad string";
		if (d->kind == F_STR && v->slen > d->max)
			return "string too long";
		break;
	case F_BOOL:
		if (v->type != J_TRUE && v->type != J_FALSE)
			return "bad boolean";
		break;
	}
	switch (k) {
	case K_CONV_ID:
		cr->conv_id = u;
		break;
	case K_SEQ:
		cr->seq = (uint32_t)u;
		break;
	case K_START:
		cr->start_us = u;
		break;
	case K_END:
		cr->end_us = u;
		break;
	case K_PROTO:
		cr->proto = (uint8_t)u;
		break;
	case K_SPORT:
		cr->sport = (uint16_t)u;
		break;
	case K_DPORT:
		cr->dport = (uint16_t)u;
		break;
	case K_VLAN:
		cr->vlan = (uint16_t)u;
		break;
	case K_SRC_PKTS:
		cr->fwd.pkts = u;
		break;
	case K_SRC_BYTES:
		cr->fwd.bytes = u;
		break;
	case K_DST_PKTS:
		cr->rev.pkts = u;
		break;
	case K_DST_BYTES:
		cr->rev.bytes = u;
		break;
	case K_SRC_FIRST:
		cr->fwd.first_us = u;
		break;
	case K_SRC_LAST:
		cr->fwd.last_us = u;
		break;
	case K_DST_FIRST:
		cr->rev.first_us = u;
		break;
	case K_DST_LAST:
		cr->rev.last_us = u;
		break;
	case K_SRC:
	case K_DST:
		if (v->slen >= ADDR_STRLEN ||
		    strlen((const char *)v->s) != v->slen)
			return "bad address";
		if (addr_parse((const char *)v->s,
			k == K_SRC ? cr->src : cr->dst) != 0)
			return "bad address";
		break;
	case K_SRC_FLAGS:
	case K_DST_FLAGS:
		if (flags_parse(v,
			k == K_SRC_FLAGS ? &cr->fwd.flags : &cr->rev.flags) !=
		    0)
			return "bad flags";
		break;
	case K_STATE:
	case K_HISTORY:
		if (strlen((const char *)v->s) != v->slen)
			return "NUL in string";
		if (k == K_STATE)
			memcpy(cr->state, v->s, v->slen + 1);
		else
			memcpy(cr->history, v->s, v->slen + 1);
		break;
	case K_END_REASON:
		for (r = END_NONE + 1; r < END__COUNT; r++)
			if (strcmp((const char *)v->s,
				conv_reason_name((enum end_reason)r)) == 0)
				break;
		if (r == END__COUNT || strlen((const char *)v->s) != v->slen)
			return "unknown end_reason";
		cr->reason = (uint8_t)r;
		break;
	case K_FINAL:
		cr->is_final = v->type == J_TRUE;
		break;
	case K_IFACE:
		memcpy(rec->iface, v->s, v->slen + 1);
		rec->iface_len = v->slen;
		break;
	case K__COUNT:
		break;
	}
	return NULL;
}

int
flowread_parse_line(
    const uint8_t *line, size_t len, struct flowread_rec *rec, const char **why)
{
	struct cur  c;
	struct jval key, val;
	uint32_t    seen = 0, required = 0;
	unsigned    k;
	const char *e;

	memset(rec, 0, sizeof(*rec));
	*why = NULL;
	if (len > FLOWREAD_LINE_MAX) {
		*why = "line too long";
		return -1;
	}
	cur_init(&c, line, len);
	skip_ws(&c);
	if (cur_u8(&c) != '{') {
		*why = "not a JSON object";
		return -1;
	}
	skip_ws(&c);
	if (cur_peek_u8(&c, 0) == '}') {
		*why = "empty object";
		return -1;
	}
	/* One key/value pair per pass, each at least 4 bytes. */
	for (;;) {
		skip_ws(&c);
		if (cur_u8(&c) != '"' || parse_string(&c, &key) != 0) {
			*why = "bad key";
			return -1;
		}
		skip_ws(&c);
		if (cur_u8(&c) != ':') {
			*why = "missing ':'";
			return -1;
		}
		skip_ws(&c);
		if (parse_value(&c, &val) != 0 || !cur_ok(&c)) {
			*why = "bad value";
			return -1;
		}
		for (k = 0; k < K__COUNT; k++)
			if (!key.is_long && strlen(fdefs[k].name) == key.slen &&
			    memcmp(fdefs[k].name, key.s, key.slen) == 0)
				break;
		if (k < K__COUNT) {
			if (seen & 1u << k) {
				*why = "duplicate key";
				return -1;
			}
			seen |= 1u << k;
			if ((e = field_set(rec, (enum fkey)k, &val)) != NULL) {
				*why = e;
				return -1;
			}
		}
		skip_ws(&c);
		switch (cur_u8(&c)) {
		case ',':
			continue;
		case '}':
			break;
		default:
			*why = "expected ',' or '}'";
			return -1;
		}
		break;
	}
	skip_ws(&c);
	if (cur_left(&c) != 0 || !cur_ok(&c)) {
		*why = "junk after object";
		return -1;
	}
	for (k = 0; k < K__COUNT; k++)
		if (fdefs[k].is_required)
			required |= 1u << k;
	if ((seen & required) != required) {
		*why = "missing key";
		return -1;
	}
	if (addr_is_v4(rec->cr.src) != addr_is_v4(rec->cr.dst)) {
		*why = "mixed address families";
		return -1;
	}
	rec->cr.family = addr_is_v4(rec->cr.src) ? 4 : 6;
	return 0;
}

int
flowread_match(const struct flowread_filter *f, const struct convrec *cr)
{
	if (f == NULL)
		return 1;
	if (f->has_host && !cidr_match(&f->host, cr->src) &&
	    !cidr_match(&f->host, cr->dst))
		return 0;
	if (f->has_port && cr->sport != f->port && cr->dport != f->port)
		return 0;
	if (f->since_us != 0 && cr->end_us < f->since_us)
		return 0;
	if (f->until_us != 0 && cr->start_us > f->until_us)
		return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Sources                                                            */
/* ------------------------------------------------------------------ */

struct flowread *
flowread_new(
    const struct flowread_filter *filter, flowread_problem_fn fn, void *arg)
{
	struct flowread *fr;

	if ((fr = calloc(1, sizeof(*fr))) == NULL)
		return NULL;
	if (filter != NULL)
		fr->flt = *filter;
	fr->fn = fn;
	fr->arg = arg;
	fr->fd = -1;
	if (inflateInit2(&fr->zs, 15 + 16) != Z_OK) {
		free(fr);
		errno = ENOMEM;
		return NULL;
	}
	fr->has_zs = 1;
	return fr;
}

static int
add_src(struct flowread *fr, char *path, char *name, int fd)
{
	if (fr->n_src == fr->cap_src) {
		size_t	       ncap = fr->cap_src ? fr->cap_src * 2 : 32;
		struct fr_src *n = realloc(fr->src, ncap * sizeof(*n));

		if (n == NULL)
			return -1;
		fr->src = n;
		fr->cap_src = ncap;
	}
	fr->src[fr->n_src].path = path;
	fr->src[fr->n_src].name = name;
	fr->src[fr->n_src].fd = fd;
	fr->n_src++;
	return 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
flowread_add_dir(struct flowread *fr, const char *dir)
{
	DIR	      *d;
	struct dirent *de;
	char	     **names = NULL, **nn, *path;
	size_t	       n = 0, cap = 0, i, plen;
	uint64_t       t_s;
	unsigned       seq;
	int	       ret = -1;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (flowlog_name_parse(de->d_name, &t_s, &seq) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL)
				goto out;
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto out;
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), str_cmp);
	for (i = 0; i < n; i++) {
		plen = strlen(dir) + 1 + strlen(names[i]) + 1;
		if ((path = malloc(plen)) == NULL)
			goto out;
		snprintf(path, plen, "%s/%s", dir, names[i]);
		if (add_src(fr, path, path, -1) != 0) {
			free(path);
			goto out;
		}
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

int
flowread_add_fd(struct flowread *fr, int fd, const char *name)
{
	char *s = strdup(name != NULL ? name : "-");

	if (s == NULL || add_src(fr, NULL, s, fd) != 0) {
		free(s);
		return -1;
	}
	return 0;
}

static void
file_close(struct flowread *fr)
{
	if (fr->fd >= 0)
		close(fr->fd);
	fr->fd = -1;
	fr->is_open = 0;
}

/* Open the next source; 1, or 0 when none is left. */
static int
file_next(struct flowread *fr)
{
	struct fr_src *s;
	struct stat    st;

	while (fr->next_src < fr->n_src) {
		s = &fr->src[fr->next_src++];
		fr->name = s->name;
		if (s->path != NULL) {
			s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
			if (s->fd < 0) {
				fr->st.n_io_errors++;
				problem(fr, 0, "cannot open");
				continue;
			}
		}
		fr->fd = s->fd;
		s->fd = -1; /* owned by the reader now */
		fr->fsize = fstat(fr->fd, &st) == 0 && S_ISREG(st.st_mode)
		    ? (uint64_t)st.st_size
		    : 0;
		fr->foff = 0;
		fr->is_open = 1;
		fr->in_member = fr->is_done = fr->is_cut = 0;
		fr->is_skipping = 0;
		fr->lineno = 0;
		fr->ipos = fr->ilen = fr->opos = fr->olen = 0;
		fr->st.n_files++;
		return 1;
	}
	return 0;
}

/* Read until `want` bytes are buffered or EOF; -1 on a read error. */
static int
need_input(struct flowread *fr, size_t want)
{
	ssize_t n;

	if (fr->ipos > 0) {
		memmove(fr->ibuf, fr->ibuf + fr->ipos, fr->ilen - fr->ipos);
		fr->ilen -= fr->ipos;
		fr->ipos = 0;
	}
	while (fr->ilen < want && fr->ilen < sizeof(fr->ibuf)) {
		n = read(
		    fr->fd, fr->ibuf + fr->ilen, sizeof(fr->ibuf) - fr->ilen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		fr->ilen += (size_t)n;
		fr->foff += (uint64_t)n;
	}
	return 0;
}

static int
member_outside(const struct flowread *fr, const struct flowlog_member *m)
{
	return (fr->flt.since_us != 0 && m->max_end_us < fr->flt.since_us) ||
	    (fr->flt.until_us != 0 && m->min_start_us > fr->flt.until_us);
}

static void
file_fail(struct flowread *fr, const char *what)
{
	fr->st.n_corrupt++;
	problem(fr, 0, what);
	fr->is_done = 1;
}

static void
file_cut(struct flowread *fr)
{
	fr->st.n_truncated++;
	fr->is_cut = 1;
	fr->is_done = 1;
	problem(fr, 0, "truncated gzip member (file open, or cut by a crash)");
}

/* Skip a member of `size` bytes starting at ibuf[ipos]. */
static void
member_skip(struct flowread *fr, uint64_t size)
{
	uint64_t avail = fr->ilen - fr->ipos, rest;

	if (size <= avail) {
		fr->ipos += (size_t)size;
		return;
	}
	rest = size - avail;
	fr->ipos = fr->ilen = 0;
	if (fr->fsize != 0 && fr->foff + rest > fr->fsize) {
		file_cut(fr);
		return;
	}
	if (lseek(fr->fd, (off_t)rest, SEEK_CUR) < 0) {
		fr->st.n_io_errors++;
		file_fail(fr, "cannot seek");
		return;
	}
	fr->foff += rest;
}

/*
 * Inflate more output into obuf.  1 when output was produced, 0 when the
 * file has no more (is_done), -1 never: errors end the file.
 */
static int
fill(struct flowread *fr)
{
	struct flowlog_member m;
	size_t		      room, produced;
	int		      r;

	for (;;) {
		if (fr->is_done)
			return 0;
		if (!fr->in_member) {
			if (need_input(fr, FLOWLOG_HDR_LEN) != 0) {
				fr->st.n_io_errors++;
				file_fail(fr, "read error");
				return 0;
			}
			if (fr->ilen == fr->ipos) {
				fr->is_done = 1; /* clean end */
				return 0;
			}
			r = flowlog_member_parse(
			    fr->ibuf + fr->ipos, fr->ilen - fr->ipos, &m);
			if (r < 0) {
				file_fail(fr,
				    "junk where a gzip member "
				    "should start");
				return 0;
			}
			if (r == 1 && member_outside(fr, &m)) {
				fr->st.n_members_skipped++;
				member_skip(fr, m.size);
				continue;
			}
			if (inflateReset(&fr->zs) != Z_OK) {
				file_fail(fr, "inflateReset failed");
				return 0;
			}
			fr->in_member = 1;
			fr->st.n_members++;
		}
		if (fr->ipos == fr->ilen) {
			if (need_input(fr, 1) != 0) {
				fr->st.n_io_errors++;
				file_fail(fr, "read error");
				return 0;
			}
			if (fr->ipos == fr->ilen) {
				file_cut(fr);
				return 0;
			}
		}
		room = sizeof(fr->obuf) - fr->olen;
		fr->zs.next_in = fr->ibuf + fr->ipos;
		fr->zs.avail_in = (uInt)(fr->ilen - fr->ipos);
		fr->zs.next_out = fr->obuf + fr->olen;
		fr->zs.avail_out = (uInt)room;
		r = inflate(&fr->zs, Z_NO_FLUSH);
		fr->ipos = fr->ilen - fr->zs.avail_in;
		produced = room - fr->zs.avail_out;
		fr->olen += produced;
		if (r == Z_STREAM_END)
			fr->in_member = 0;
		else if (r != Z_OK && r != Z_BUF_ERROR) {
			file_fail(fr,
			    fr->zs.msg != NULL ? fr->zs.msg : "inflate error");
			return produced > 0;
		}
		if (produced > 0)
			return 1;
	}
}

int
flowread_next(struct flowread *fr, struct flowread_rec *rec)
{
	const uint8_t *nl;
	const char    *why;
	size_t	       llen;

	for (;;) {
		if (!fr->is_open && !file_next(fr))
			return 0;
		nl = memchr(fr->obuf + fr->opos, '\n', fr->olen - fr->opos);
		if (nl != NULL) {
			const uint8_t *line = fr->obuf + fr->opos;

			llen = (size_t)(nl - line);
			fr->opos += llen + 1;
			fr->lineno++;
			if (fr->is_skipping) {
				fr->is_skipping = 0;
				fr->st.n_malformed++;
				problem(fr, fr->lineno, "line too long");
				continue;
			}
			fr->st.n_lines++;
			if (flowread_parse_line(line, llen, rec, &why) != 0) {
				fr->st.n_malformed++;
				problem(fr, fr->lineno, why);
				continue;
			}
			if (!flowread_match(&fr->flt, &rec->cr)) {
				fr->st.n_filtered++;
				continue;
			}
			fr->st.n_records++;
			return 1;
		}
		/* No whole line buffered: make room, inflate more. */
		if (fr->opos > 0) {
			memmove(
			    fr->obuf, fr->obuf + fr->opos, fr->olen - fr->opos);
			fr->olen -= fr->opos;
			fr->opos = 0;
		}
		if (fr->olen > FLOWREAD_LINE_MAX) {
			fr->is_skipping = 1;
			fr->olen = 0;
		}
		if (fill(fr) == 0) {
			/* A last line without newline. */
			if ((fr->olen > 0 || fr->is_skipping) && !fr->is_cut) {
				fr->st.n_malformed++;
				problem(fr, fr->lineno + 1,
				    "last line has no newline");
			}
			file_close(fr);
		}
	}
}

const char *
flowread_file(const struct flowread *fr)
{
	return fr->name != NULL ? fr->name : "-";
}

uint64_t
flowread_line(const struct flowread *fr)
{
	return fr->lineno;
}

void
flowread_get_stats(const struct flowread *fr, struct flowread_stats *st)
{
	*st = fr->st;
}

void
flowread_free(struct flowread *fr)
{
	size_t i;

	if (fr == NULL)
		return;
	file_close(fr);
	for (i = 0; i < fr->n_src; i++) {
		if (fr->src[i].fd >= 0)
			close(fr->src[i].fd);
		free(fr->src[i].name);
	}
	free(fr->src);
	if (fr->has_zs)
		inflateEnd(&fr->zs);
	free(fr);
}
