/*
 * policy.c: load a policy directory into an immutable snapshot.
 *
 * Owns the order of a load and everything that needs more than one file:
 * built-in defaults, then default.conf over them, then each host file over
 * the merged default (files read one at a time, in name order), the checks
 * that span keys (file_size <= host_cap, ...) and files (two host files for
 * the same network), and the lookup of a host's effective policy.
 *
 * Merge rule: a host's policy is the default overlaid with every key its
 * file sets; thresholds merge per (kind, metric, window), and a 0 removes
 * one.  Cross-checks run on each merged result.  A problem is reported in
 * the file that caused it: a check whose keys all come from default.conf
 * (or the built-in defaults) is reported once, at default.conf's line, and
 * not again for every host; one that involves a host file's key is
 * reported at that key's line and names where the other key was set.
 *
 * Errors: every problem up to POL_MAX_ERRORS, sorted by file and line (the
 * default first: "DIR/default.conf" < "DIR/hosts/..."), then one "too many
 * errors" line.  A load with any problem returns NULL: no half policies.
 *
 * Lookup: host files sorted by (prefix length descending, address); for
 * each distinct prefix length, mask the address and binary-search that run.
 * Cost O(L log N) for L distinct lengths (at most 129), so 10000 host files
 * cost a few dozen memcmp per lookup.  The daemon looks a host up when it
 * first sees it and on reload, not per packet.
 *
 * Memory: one struct pol_host (about 5 KiB) per host file plus the
 * snapshot's index; the builder holds one file (at most 1 MiB) at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "polint.h"

struct pol_lk { /* one host file in lookup order */
	uint8_t addr[16];
	uint8_t len;
	size_t	idx; /* into policy->hosts */
};

struct pol_grp { /* a run of lk with one prefix length */
	uint8_t len;
	size_t	lo, hi;
};

struct policy {
	struct pol_global g;
	struct pol_host	  dflt;
	struct pol_host	  builtin; /* thresholds printed as "= 0" */
	struct pol_host	 *hosts;   /* print order: address, length */
	size_t		  n_hosts;
	struct pol_lk	 *lk;
	struct pol_grp	  grp[129];
	size_t		  n_grp;
};

struct pol_hmeta { /* where a host file set what, for messages */
	char	 path[POL_PATH_MAX];
	uint32_t addr_line, name_line;
};

struct pol_build {
	unsigned	  flags;
	struct pol_ectx	  ec;
	struct policy	 *pol;
	struct pol_pfile  pf;	/* the file being parsed */
	struct pol_tset	  dthr; /* built-in + default.conf */
	struct pol_tset	  hthr; /* dthr + the host file */
	char		  dpath[POL_PATH_MAX];
	uint32_t	  dline[K_COUNT];
	uint8_t		  dbad[K_COUNT];
	struct pol_host	  tmp;	/* host being merged */
	struct pol_hmeta *meta; /* parallel to pol->hosts */
	size_t		  cap_hosts;
	int		  oom;
};

/* ---- errors ------------------------------------------------------------ */

void
pol_err(
    struct pol_ectx *ec, const char *file, uint32_t line, const char *fmt, ...)
{
	struct perrs *e = ec->errs;
	struct perr  *p;
	va_list	      ap;

	ec->n++;
	if (ec->full)
		return;
	if (e->n >= POL_MAX_ERRORS) {
		ec->full = 1;
		util_strlcpy(ec->full_file, file, sizeof(ec->full_file));
		return;
	}
	if (e->n == e->cap) {
		/* One allocation for the whole cap plus the final line. */
		struct perr *v =
		    realloc(e->v, (POL_MAX_ERRORS + 1) * sizeof(*v));

		if (v == NULL)
			return; /* still counted in ec->n */
		e->v = v;
		e->cap = POL_MAX_ERRORS + 1;
	}
	p = &e->v[e->n++];
	util_strlcpy(p->file, file, sizeof(p->file));
	p->line = (int)line;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
}

int
perrs_add(struct perrs *e, const char *file, int line, const char *msg)
{
	struct perr *v;

	if (e->n == e->cap) {
		if ((v = realloc(e->v, (e->cap + 4) * sizeof(*v))) == NULL)
			return -1;
		e->v = v;
		e->cap += 4;
	}
	v = &e->v[e->n++];
	util_strlcpy(v->file, file, sizeof(v->file));
	v->line = line;
	util_strlcpy(v->msg, msg, sizeof(v->msg));
	return 0;
}

void
perrs_free(struct perrs *e)
{
	if (e == NULL)
		return;
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

void
perrs_print(const struct perrs *e, FILE *f)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (e->v[i].line > 0)
			fprintf(f, "%s:%d: %s\n", e->v[i].file, e->v[i].line,
			    e->v[i].msg);
		else
			fprintf(f, "%s: %s\n", e->v[i].file, e->v[i].msg);
	}
}

/* Stable insertion sort by (file, line): at most POL_MAX_ERRORS items. */
static void
errs_sort(struct perrs *e)
{
	struct perr t;
	size_t	    i, j;

	for (i = 1; i < e->n; i++) {
		t = e->v[i];
		for (j = i; j > 0; j--) {
			int c = strcmp(e->v[j - 1].file, t.file);

			if (c < 0 || (c == 0 && e->v[j - 1].line <= t.line))
				break;
			e->v[j] = e->v[j - 1];
		}
		e->v[j] = t;
	}
}

/* ---- thresholds -------------------------------------------------------- */

static int
tent_cmp(const void *a, const void *b)
{
	const struct pol_tent *x = a, *y = b;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (x->metric != y->metric)
		return (int)x->metric - (int)y->metric;
	return x->window_s < y->window_s ? -1 : x->window_s > y->window_s;
}

/*
 * Overlay the thresholds of one file onto a merged set, which stays sorted
 * by (kind, metric, window) so messages list thresholds in print order.
 */
static void
tset_overlay(struct pol_tset *dst, const struct pol_tset *src)
{
	size_t i, j;

	for (i = 0; i < src->n; i++) {
		const struct pol_tent *s = &src->v[i];

		for (j = 0; j < dst->n; j++)
			if (dst->v[j].kind == s->kind &&
			    dst->v[j].metric == s->metric &&
			    dst->v[j].window_s == s->window_s)
				break;
		if (j == dst->n) {
			if (dst->n == POL_TSET_MAX)
				continue; /* 2 files x 200 + built-in */
			dst->n++;
		}
		dst->v[j] = *s;
	}
	qsort(dst->v, dst->n, sizeof(dst->v[0]), tent_cmp);
}

static int
window_ok(const struct pol_windows *w, uint32_t win)
{
	size_t i;

	if (win == POL_WIN_DAY || win == POL_WIN_MONTH)
		return 1;
	for (i = 0; i < w->n; i++)
		if (w->s[i] == win)
			return 1;
	return 0;
}

static int
thr_cmp(const void *a, const void *b)
{
	const struct pol_threshold *x = a, *y = b;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (x->metric != y->metric)
		return (int)x->metric - (int)y->metric;
	return x->window_s < y->window_s ? -1 : x->window_s > y->window_s;
}

/* The enabled thresholds with valid windows, sorted, into h->thr. */
static void
tset_finish(const struct pol_tset *ts, struct pol_host *h)
{
	size_t i;

	h->n_thr = 0;
	for (i = 0; i < ts->n; i++) {
		const struct pol_tent *t = &ts->v[i];

		if (t->value == 0 ||
		    !window_ok(&h->detect.windows, t->window_s) ||
		    h->n_thr == POL_MAX_THRESHOLDS)
			continue;
		h->thr[h->n_thr].kind = t->kind;
		h->thr[h->n_thr].metric = t->metric;
		h->thr[h->n_thr].window_s = t->window_s;
		h->thr[h->n_thr].value = t->value;
		h->n_thr++;
	}
	qsort(h->thr, h->n_thr, sizeof(h->thr[0]), thr_cmp);
}

static void
thr_key(const struct pol_tent *t, char *buf, size_t size)
{
	char w[32];

	pol_fmt_window(t->window_s, w, sizeof(w));
	snprintf(buf, size, "%s.%s", pol_metric_name(t->metric), w);
}

/* ---- checks across keys ------------------------------------------------ */

/* Where the value of a key in a merged policy came from. */
struct origin {
	const char *path; /* NULL: built-in */
	uint32_t    line;
	int	    here; /* set in the file being checked */
	int	    bad;
};

static struct origin
origin_of(
    const struct pol_build *b, const struct pol_pfile *pf, enum pol_key_id k)
{
	struct origin o = {NULL, 0, 0, 0};

	if (pf->line[k] != 0) {
		o.path = pf->path;
		o.line = pf->line[k];
		o.here = 1;
		o.bad = pf->bad[k];
	} else if (pf->is_host && b->dline[k] != 0) {
		o.path = b->dpath;
		o.line = b->dline[k];
		o.bad = b->dbad[k];
	}
	return o;
}

/* "(line 7)", "(policy/default.conf:7)" or "(built-in default)". */
static void
origin_fmt(
    const struct origin *o, const char *here_path, char *buf, size_t size)
{
	if (o->path == NULL)
		snprintf(buf, size, "built-in default");
	else if (o->path == here_path)
		snprintf(buf, size, "line %u", o->line);
	else
		snprintf(buf, size, "%s:%u", o->path, o->line);
}

/* Pairs that must hold: a <= b. */
static const struct {
	enum pol_key_id a, b;
} le_rules[] = {
    {K_EMBRYONIC_TIMEOUT, K_IDLE_TIMEOUT},
    {K_CLOSING_TIMEOUT, K_IDLE_TIMEOUT},
    {K_IDLE_TIMEOUT, K_ACTIVE_TIMEOUT},
    {K_LOG_FILE_SIZE, K_LOG_RETENTION},
    {K_LOG_FLUSH_INTERVAL, K_LOG_ROTATE_INTERVAL},
    {K_FILE_SIZE, K_HOST_CAP},
    {K_HOST_CAP, K_GLOBAL_CAP},
    {K_DURATION, K_MAX_DURATION},
    {K_PRETRIGGER_SIZE, K_PRETRIGGER_MEMORY},
    {K_PRETRIGGER_SIZE, K_HOST_CAP},
};

static void
check_rules(struct pol_build *b, struct pol_pfile *pf, const struct pol_host *h)
{
	const struct pol_global *g = &b->pol->g;
	char			 va[48], vb[48], where[POL_PATH_MAX + 32];
	size_t			 i;

	for (i = 0; i < sizeof(le_rules) / sizeof(le_rules[0]); i++) {
		enum pol_key_id ka = le_rules[i].a, kb = le_rules[i].b;
		struct origin	oa = origin_of(b, pf, ka),
			      ob = origin_of(b, pf, kb);

		/* Only what this file set is reported here (see the top). */
		if (oa.bad || ob.bad || (!oa.here && !ob.here))
			continue;
		if (pol_key_u64(ka, g, h) <= pol_key_u64(kb, g, h))
			continue;
		pol_fmt_key(ka, g, h, va, sizeof(va));
		pol_fmt_key(kb, g, h, vb, sizeof(vb));
		/* At the later key of this file, naming the other. */
		if (oa.here && (!ob.here || oa.line > ob.line)) {
			origin_fmt(&ob, pf->path, where, sizeof(where));
			pol_err(&b->ec, pf->path, oa.line,
			    "%s = %s is larger "
			    "than %s = %s (%s)",
			    pol_keys[ka].name, va, pol_keys[kb].name, vb,
			    where);
		} else {
			origin_fmt(&oa, pf->path, where, sizeof(where));
			pol_err(&b->ec, pf->path, ob.line,
			    "%s = %s is smaller "
			    "than %s = %s (%s)",
			    pol_keys[kb].name, vb, pol_keys[ka].name, va,
			    where);
		}
	}
}

static int
thr_misplaced(const struct pol_tent *t, const struct pol_host *h)
{
	return t->value != 0 && !window_ok(&h->detect.windows, t->window_s);
}

/*
 * Every enabled threshold's rolling window must be one of the merged
 * [detect] windows.  Reported at the threshold when this file set it, or,
 * once per dropped window, at this file's windows line when inherited
 * thresholds use a window it left out.
 */
static void
check_windows(struct pol_build *b, struct pol_pfile *pf,
    const struct pol_tset *ts, const struct pol_host *h)
{
	char	 key[64], wins[64], w[16], users[200];
	uint32_t wline = pf->line[K_WINDOWS];
	size_t	 i, j, off;
	int	 kind;

	if (pf->bad[K_WINDOWS])
		return;
	pol_fmt_key(K_WINDOWS, NULL, h, wins, sizeof(wins));
	for (i = 0; i < ts->n; i++) {
		const struct pol_tent *t = &ts->v[i];

		if (!thr_misplaced(t, h))
			continue;
		thr_key(t, key, sizeof(key));
		pol_fmt_window(t->window_s, w, sizeof(w));
		if (t->src == pf->level) {
			pol_err(&b->ec, pf->path, t->line,
			    "%s in [%s]: %s is "
			    "not one of the [detect] windows (%s)",
			    key,
			    t->kind == POL_LEARNED ? "learned" : "absolute", w,
			    wins);
			continue;
		}
		if (wline == 0)
			continue; /* reported in default.conf */
		for (j = 0; j < i; j++)
			if (ts->v[j].src != pf->level &&
			    ts->v[j].window_s == t->window_s &&
			    thr_misplaced(&ts->v[j], h))
				break;
		if (j < i)
			continue; /* this window is reported */
		users[0] = '\0';
		off = 0;
		kind = -1;
		for (j = i; j < ts->n; j++) {
			const struct pol_tent *u = &ts->v[j];
			int		       r;

			if (u->src == pf->level || u->window_s != t->window_s ||
			    !thr_misplaced(u, h))
				continue;
			thr_key(u, key, sizeof(key));
			r = snprintf(users + off, sizeof(users) - off, "%s%s%s",
			    off > 0 ? ", " : "",
			    (int)u->kind != kind
				? (u->kind == POL_LEARNED ? "[learned] "
							  : "[absolute] ")
				: "",
			    key);
			kind = (int)u->kind;
			if (r < 0 || (size_t)r >= sizeof(users) - off)
				break;
			off += (size_t)r;
		}
		pol_err(&b->ec, pf->path, wline,
		    "windows = %s leaves out %s, "
		    "which inherited thresholds use: %s; keep %s, or set them "
		    "to 0 here",
		    wins, w, users, w);
	}
}

/* ---- building ---------------------------------------------------------- */

static struct pol_build *
build_new(unsigned flags, struct perrs *errs)
{
	struct pol_build *b = calloc(1, sizeof(*b));

	if (b == NULL || (b->pol = calloc(1, sizeof(*b->pol))) == NULL) {
		free(b);
		return NULL;
	}
	b->flags = flags;
	b->ec.errs = errs;
	errs->n = 0; /* a reused perrs keeps its buffer */
	util_strlcpy(b->dpath, "default.conf", sizeof(b->dpath));

	/*
	 * The built-in defaults are key values in text, applied through the
	 * same parser as a file; an error there is a bug in the key table
	 * (tests/unit/test_policy.c loads an empty policy to catch it).
	 */
	pol_pfile_init(&b->pf, "(built-in)", 0, flags, &b->ec, &b->pol->g,
	    &b->pol->dflt, PL_BUILTIN);
	pol_apply_builtin(&b->pf);
	b->dthr = b->pf.thr;
	b->pol->builtin = b->pol->dflt;
	tset_finish(&b->dthr, &b->pol->builtin);
	return b;
}

static void
build_free(struct pol_build *b)
{
	if (b == NULL)
		return;
	pol_free(b->pol);
	free(b->meta);
	free(b);
}

/* default.conf: buf may be NULL when it could not be read. */
static void
build_default(
    struct pol_build *b, const char *path, const char *buf, size_t len)
{
	struct pol_host	 *h = &b->pol->dflt;
	struct pol_pfile *pf = &b->pf;

	util_strlcpy(b->dpath, path, sizeof(b->dpath));
	pol_pfile_init(
	    pf, b->dpath, 0, b->flags, &b->ec, &b->pol->g, h, PL_DEFAULT);
	if (buf != NULL)
		pol_parse_file(pf, buf, len);
	tset_overlay(&b->dthr, &pf->thr);
	check_windows(b, pf, &b->dthr, h);
	check_rules(b, pf, h);
	tset_finish(&b->dthr, h);
	memcpy(b->dline, pf->line, sizeof(b->dline));
	memcpy(b->dbad, pf->bad, sizeof(b->dbad));
	util_strlcpy(h->name, "default", sizeof(h->name));
	util_strlcpy(h->file, "default.conf", sizeof(h->file));
	memset(&h->net, 0, sizeof(h->net));
	h->is_default = 1;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

static int
grow_hosts(struct pol_build *b)
{
	struct pol_host	 *h;
	struct pol_hmeta *m;
	size_t		  cap;

	if (b->pol->n_hosts < b->cap_hosts)
		return 0;
	cap = b->cap_hosts == 0 ? 16 : b->cap_hosts * 2;
	if ((h = realloc(b->pol->hosts, cap * sizeof(*h))) == NULL)
		return -1;
	b->pol->hosts = h;
	if ((m = realloc(b->meta, cap * sizeof(*m))) == NULL)
		return -1;
	b->meta = m;
	b->cap_hosts = cap;
	return 0;
}

/* One host file, merged over the default and checked. */
static void
build_host(struct pol_build *b, const char *path, const char *buf, size_t len)
{
	struct pol_host	 *h = &b->tmp;
	struct pol_pfile *pf = &b->pf;
	const char	 *base = base_name(path);
	size_t		  bl = strlen(base);
	char		  name[POL_PATH_MAX];

	*h = b->pol->dflt;
	h->is_default = 0;
	memset(&h->net, 0, sizeof(h->net));
	snprintf(h->file, sizeof(h->file), "hosts/%s", base);
	/* The name defaults to the file name without .conf. */
	util_strlcpy(name, base, sizeof(name));
	if (bl > 5 && strcmp(base + bl - 5, ".conf") == 0)
		name[bl - 5] = '\0';
	util_strlcpy(h->name, name, sizeof(h->name));

	pol_pfile_init(pf, path, 1, b->flags, &b->ec, NULL, h, PL_HOST);
	pol_parse_file(pf, buf, len);
	if (pf->line[K_ADDRESS] == 0)
		pol_err(&b->ec, path, 0,
		    "missing address in [host] (every "
		    "host file names one address or network)");
	if (pf->line[K_NAME] == 0 && !pol_valid_name(name))
		pol_err(&b->ec, path, 0,
		    "the file name '%s' is not a valid "
		    "host name: set name in [host]",
		    name);
	b->hthr = b->dthr;
	tset_overlay(&b->hthr, &pf->thr);
	check_windows(b, pf, &b->hthr, h);
	check_rules(b, pf, h);
	tset_finish(&b->hthr, h);
	if (pf->line[K_ADDRESS] == 0 || pf->bad[K_ADDRESS])
		return;
	if (grow_hosts(b) != 0) {
		b->oom = 1;
		return;
	}
	b->pol->hosts[b->pol->n_hosts] = *h;
	util_strlcpy(b->meta[b->pol->n_hosts].path, path, POL_PATH_MAX);
	b->meta[b->pol->n_hosts].addr_line = pf->line[K_ADDRESS];
	b->meta[b->pol->n_hosts].name_line = pf->line[K_NAME];
	b->pol->n_hosts++;
}

struct hsort {
	const struct pol_host  *h;
	const struct pol_hmeta *m;
};

static int
is_v4_net(const struct cidr *c)
{
	return c->len >= 96 && addr_is_v4(c->addr);
}

/*
 * Print order: IPv4 networks, then IPv6 (::/0 would sort before all of
 * IPv4 by bytes); then address, prefix length, and path for duplicates.
 */
static int
hsort_cmp(const void *a, const void *b)
{
	const struct hsort *x = a, *y = b;
	int		    r = is_v4_net(&y->h->net) - is_v4_net(&x->h->net);

	if (r == 0)
		r = pol_cidr_cmp(&x->h->net, &y->h->net);
	return r != 0 ? r : strcmp(x->m->path, y->m->path);
}

static int
hsort_name_cmp(const void *a, const void *b)
{
	const struct hsort *x = a, *y = b;
	int		    r = strcmp(x->h->name, y->h->name);

	return r != 0 ? r : strcmp(x->m->path, y->m->path);
}

/* Lookup order: longest prefix first, then address. */
static int
lk_cmp(const void *a, const void *b)
{
	const struct pol_lk *x = a, *y = b;

	if (x->len != y->len)
		return (int)y->len - (int)x->len;
	return memcmp(x->addr, y->addr, 16);
}

/* Sort hosts, refuse identical networks and names, index for lookup. */
static int
build_index(struct pol_build *b)
{
	struct policy	 *pol = b->pol;
	struct pol_host	 *sorted;
	struct pol_hmeta *smeta;
	struct hsort	 *hs;
	char		  net[64];
	size_t		  i, n = pol->n_hosts;

	if (n == 0)
		return 0;
	hs = calloc(n, sizeof(*hs));
	sorted = calloc(n, sizeof(*sorted));
	smeta = calloc(n, sizeof(*smeta));
	pol->lk = calloc(n, sizeof(*pol->lk));
	if (hs == NULL || sorted == NULL || smeta == NULL || pol->lk == NULL) {
		free(hs);
		free(sorted);
		free(smeta);
		return -1;
	}
	for (i = 0; i < n; i++) {
		hs[i].h = &pol->hosts[i];
		hs[i].m = &b->meta[i];
	}
	qsort(hs, n, sizeof(*hs), hsort_name_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(hs[i - 1].h->name, hs[i].h->name) == 0)
			pol_err(&b->ec, hs[i].m->path, hs[i].m->name_line,
			    "host name '%s' is also used by %s", hs[i].h->name,
			    hs[i - 1].m->path);
	qsort(hs, n, sizeof(*hs), hsort_cmp);
	for (i = 1; i < n; i++) {
		if (pol_cidr_cmp(&hs[i - 1].h->net, &hs[i].h->net) != 0)
			continue;
		cidr_fmt(&hs[i].h->net, net, sizeof(net));
		pol_err(&b->ec, hs[i].m->path, hs[i].m->addr_line,
		    "network %s "
		    "is also the address of %s:%u (one host file per network)",
		    net, hs[i - 1].m->path, hs[i - 1].m->addr_line);
	}
	for (i = 0; i < n; i++) {
		sorted[i] = *hs[i].h;
		smeta[i] = *hs[i].m;
	}
	free(hs);
	free(pol->hosts);
	free(b->meta);
	pol->hosts = sorted;
	b->meta = smeta;

	for (i = 0; i < n; i++) {
		memcpy(pol->lk[i].addr, pol->hosts[i].net.addr, 16);
		pol->lk[i].len = pol->hosts[i].net.len;
		pol->lk[i].idx = i;
	}
	qsort(pol->lk, n, sizeof(*pol->lk), lk_cmp);
	pol->n_grp = 0;
	for (i = 0; i < n; i++) {
		if (i == 0 || pol->lk[i].len != pol->lk[i - 1].len) {
			pol->grp[pol->n_grp].len = pol->lk[i].len;
			pol->grp[pol->n_grp].lo = i;
			pol->n_grp++;
		}
		pol->grp[pol->n_grp - 1].hi = i + 1;
	}
	return 0;
}

static struct policy *
build_finish(struct pol_build *b)
{
	struct perrs  *e = b->ec.errs;
	struct policy *pol;

	if (!b->oom && build_index(b) != 0)
		b->oom = 1;
	if (b->oom)
		pol_err(&b->ec, b->dpath, 0, "out of memory");
	if (b->ec.n == 0) {
		pol = b->pol;
		b->pol = NULL;
		build_free(b);
		return pol;
	}
	errs_sort(e);
	if (b->ec.full && e->n < e->cap) {
		struct perr *p = &e->v[e->n++];

		util_strlcpy(p->file, b->ec.full_file, sizeof(p->file));
		p->line = 0;
		snprintf(p->msg, sizeof(p->msg),
		    "too many errors; stopped "
		    "after %d",
		    POL_MAX_ERRORS);
	}
	errno = b->oom ? ENOMEM : EINVAL;
	build_free(b);
	return NULL;
}

struct policy *
pol_load_mem(
    const struct pol_src *src, size_t n, unsigned flags, struct perrs *errs)
{
	struct pol_build *b;
	size_t		  i;

	if ((b = build_new(flags, errs)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	build_default(b, n > 0 ? src[0].path : "default.conf",
	    n > 0 ? src[0].buf : NULL, n > 0 ? src[0].len : 0);
	for (i = 1; i < n && !b->ec.full; i++)
		build_host(b, src[i].path, src[i].buf, src[i].len);
	return build_finish(b);
}

/* ---- reading the directory --------------------------------------------- */

/*
 * Read a whole regular file into buf (POL_FILE_MAX + 1 bytes); *len is
 * POL_FILE_MAX + 1 when it is larger, so the parser reports it.
 */
static int
read_file(struct pol_build *b, const char *path, char *buf, size_t *len)
{
	struct stat st;
	size_t	    n = 0;
	ssize_t	    r;
	int	    fd;

	/* O_NONBLOCK: a FIFO named *.conf must not hang a reload. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		pol_err(&b->ec, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		pol_err(&b->ec, path, 0, "not a regular file");
		close(fd);
		return -1;
	}
	while (n < POL_FILE_MAX + 1) {
		r = read(fd, buf + n, POL_FILE_MAX + 1 - n);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			pol_err(&b->ec, path, 0, "read: %s", strerror(errno));
			close(fd);
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return 0;
}

static int
name_qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* *.conf names in DIR/hosts, not hidden, sorted; NULL-free array. */
static char **
host_names(struct pol_build *b, const char *hdir, size_t *n)
{
	char	     **v = NULL, **nv;
	size_t	       cap = 0, len;
	struct dirent *de;
	DIR	      *d;
	int	       oom = 0;

	*n = 0;
	if ((d = opendir(hdir)) == NULL) {
		if (errno != ENOENT)
			pol_err(&b->ec, hdir, 0, "cannot read directory: %s",
			    strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".conf") != 0)
			continue; /* hidden, editor backups, notes */
		if (*n == POL_MAX_HOST_FILES) {
			pol_err(&b->ec, hdir, 0, "more than %d host files",
			    POL_MAX_HOST_FILES);
			break;
		}
		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				oom = 1;
				break;
			}
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL) {
			oom = 1;
			break;
		}
		(*n)++;
	}
	if (oom)
		b->oom = 1;
	closedir(d);
	if (v != NULL)
		qsort(v, *n, sizeof(*v), name_qcmp);
	return v;
}

struct policy *
pol_load(const char *dir, struct perrs *errs)
{
	struct pol_build *b;
	char   path[POL_PATH_MAX * 2], hdir[POL_PATH_MAX * 2], *buf, **names;
	size_t dl = strlen(dir), n, i, len;

	if ((b = build_new(0, errs)) == NULL ||
	    (buf = malloc(POL_FILE_MAX + 1)) == NULL) {
		build_free(b);
		errno = ENOMEM;
		return NULL;
	}
	/* "policy/" and "policy" name the same files the same way. */
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if (dl >= POL_PATH_MAX - 32) {
		pol_err(&b->ec, dir, 0, "path is too long");
		free(buf);
		return build_finish(b);
	}
	snprintf(path, sizeof(path), "%.*s/default.conf", (int)dl, dir);
	snprintf(hdir, sizeof(hdir), "%.*s/hosts", (int)dl, dir);
	if (read_file(b, path, buf, &len) == 0)
		build_default(b, path, buf, len);
	else
		build_default(b, path, NULL, 0);
	names = host_names(b, hdir, &n);
	for (i = 0; i < n; i++) {
		if (!b->ec.full) {
			int r = snprintf(
			    path, sizeof(path), "%s/%s", hdir, names[i]);

			if (r < 0 || (size_t)r >= POL_PATH_MAX)
				pol_err(&b->ec, hdir, 0,
				    "path of %s is too "
				    "long",
				    names[i]);
			else if (read_file(b, path, buf, &len) == 0)
				build_host(b, path, buf, len);
		}
		free(names[i]);
	}
	free(names);
	free(buf);
	return build_finish(b);
}

/* ---- the snapshot ------------------------------------------------------ */

void
pol_free(struct policy *pol)
{
	if (pol == NULL)
		return;
	free(pol->hosts);
	free(pol->lk);
	free(pol);
}

const struct pol_global *
pol_global(const struct policy *pol)
{
	return &pol->g;
}

const struct pol_host *
pol_default(const struct policy *pol)
{
	return &pol->dflt;
}

const struct pol_host *
pol_builtin(const struct policy *pol)
{
	return &pol->builtin;
}

size_t
pol_n_hosts(const struct policy *pol)
{
	return pol->n_hosts;
}

const struct pol_host *
pol_host_at(const struct policy *pol, size_t i)
{
	return i < pol->n_hosts ? &pol->hosts[i] : NULL;
}

/*
 * An IPv4 network (IPv4-mapped, length >= 96) matches IPv4 addresses only,
 * and an IPv6 network never matches an IPv4 address, not even ::/0.
 */
const struct pol_host *
pol_lookup(const struct policy *pol, const uint8_t addr[16])
{
	int	v4 = addr_is_v4(addr);
	uint8_t key[16];
	size_t	gi;

	for (gi = 0; gi < pol->n_grp; gi++) {
		const struct pol_grp *g = &pol->grp[gi];
		unsigned	      full = g->len / 8u, rest = g->len % 8u;
		size_t		      lo = g->lo, hi = g->hi;

		if (v4 && g->len < 96)
			continue;
		memset(key, 0, sizeof(key));
		memcpy(key, addr, full);
		if (rest != 0)
			key[full] =
			    (uint8_t)(addr[full] & (0xff << (8 - rest)));
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int    c = memcmp(pol->lk[mid].addr, key, 16);

			if (c == 0)
				return &pol->hosts[pol->lk[mid].idx];
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return &pol->dflt;
}
