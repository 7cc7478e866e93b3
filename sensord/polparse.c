/*
 * polparse.c: one policy file, from bytes to settings.
 *
 * Owns the lexer, the dispatch of each line to its section and key (the
 * values are typed in polkeys.c), threshold keys and the built-in layer.
 * A file is read through a bounded line reader: at most POL_FILE_MAX
 * bytes, lines of at most POL_LINE_MAX bytes, each checked for control
 * bytes and UTF-8 before it is copied into a NUL-terminated line buffer,
 * so nothing after that can read past a line.  No strtok, no
 * recursion; every loop is bounded by the bytes of the file or a line.
 *
 * Strictness is the point (STYLE.md §9): unknown sections and keys, keys
 * outside a section, duplicates and values without units are errors, each
 * at its file:line, and parsing goes on so that one run reports every
 * problem.  An unknown key names the closest known one (edit distance) or
 * the section it belongs in.
 *
 * Invariant: a setting is written only when its value is valid; a refused
 * value leaves the previous (inherited) one and marks the key bad, so later
 * cross-checks skip it rather than report a consequence of an error already
 * reported.  Thresholds ([absolute], [learned]) are collected as a list,
 * because whether their window is valid depends on the merged [detect]
 * windows (policy.c checks that).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "polint.h"

/* Built-in thresholds: what an empty default.conf gives every host. */
static const struct {
	enum pol_sect sect;
	const char   *key, *value;
} builtin_thr[] = {
    {PS_ABSOLUTE, "dst_ports.10m", "500"},
    {PS_ABSOLUTE, "dst_ports.day", "5000"},
    {PS_ABSOLUTE, "dst_ips.10m", "250"},
    {PS_ABSOLUTE, "half_open.1m", "200"},
    {PS_ABSOLUTE, "rejected_share.10m", "80%"},
    {PS_LEARNED, "bytes_out.day", "5.0"},
    {PS_LEARNED, "conns.day", "3.5"},
    {PS_LEARNED, "dst_ips.day", "3.5"},
    {PS_LEARNED, "dst_ports.day", "3.5"},
    {PS_LEARNED, "half_open.day", "3.5"},
    {PS_LEARNED, "protocols.month", "3.5"},
    {PS_LEARNED, "rejected.day", "3.5"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define KEY_MAX 64

/* ---- messages ---------------------------------------------------------- */

/* Levenshtein distance, ASCII case-folded; both strings < KEY_MAX. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[KEY_MAX + 1], diag, up;

	if (la > KEY_MAX || lb > KEY_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) ==
				tolower((unsigned char)b[j - 1])
			    ? 0
			    : 1;
			size_t best = diag + cost;

			up = row[j];
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* Close enough to be a typo: at most 2 edits, or a third of the word. */
static int
close_enough(size_t d, const char *known)
{
	return d <= 2 || d * 3 <= strlen(known);
}

/* ---- thresholds -------------------------------------------------------- */

/* "day", "month" or a rolling window. */
static int
parse_thr_window(const char *s, uint32_t *w)
{
	char e[POL_ERRLEN];

	if (strcmp(s, "day") == 0)
		*w = POL_WIN_DAY;
	else if (strcmp(s, "month") == 0)
		*w = POL_WIN_MONTH;
	else
		return pol_parse_window_s(s, w, e, sizeof(e));
	return 0;
}

static void
set_threshold(struct pol_pfile *pf, uint32_t line, const char *key,
    const char *val, int quoted)
{
	enum pol_kind kind =
	    pf->sect == PS_LEARNED ? POL_LEARNED : POL_ABSOLUTE;
	const char	*sect = pol_sect_names[pf->sect];
	const char	*dot = strchr(key, '.'), *best = NULL;
	char		 err[POL_ERRLEN], metric[KEY_MAX + 1];
	struct pol_tent *t;
	size_t		 i, d, bestd = SIZE_MAX;
	uint32_t	 win;
	uint64_t	 v;
	int		 m = -1;

	if (dot == NULL || (size_t)(dot - key) > KEY_MAX) {
		pol_err(pf->ec, pf->path, line,
		    "threshold key '%s' in [%s] "
		    "must be METRIC.WINDOW (e.g. dst_ports.10m)",
		    key, sect);
		return;
	}
	memcpy(metric, key, (size_t)(dot - key));
	metric[dot - key] = '\0';
	for (i = 0; i < POL_M_COUNT && m < 0; i++)
		if (strcmp(metric, pol_metric_name((enum pol_metric)i)) == 0)
			m = (int)i;
	if (m < 0) {
		for (i = 0; i < POL_M_COUNT; i++) {
			d = edit_distance(
			    metric, pol_metric_name((enum pol_metric)i));
			if (d < bestd) {
				bestd = d;
				best = pol_metric_name((enum pol_metric)i);
			}
		}
		if (best != NULL && close_enough(bestd, best))
			pol_err(pf->ec, pf->path, line,
			    "unknown metric '%s' in "
			    "[%s]; did you mean '%s'?",
			    metric, sect, best);
		else
			pol_err(pf->ec, pf->path, line,
			    "unknown metric '%s' in "
			    "[%s]",
			    metric, sect);
		return;
	}
	if (parse_thr_window(dot + 1, &win) != 0) {
		pol_err(pf->ec, pf->path, line,
		    "%s: bad window '%s' (a [detect] "
		    "window such as 10m, or day, or month)",
		    key, dot + 1);
		return;
	}
	for (i = 0; i < pf->thr.n; i++) {
		t = &pf->thr.v[i];
		if (t->kind == kind && t->metric == (enum pol_metric)m &&
		    t->window_s == win) {
			pol_err(pf->ec, pf->path, line,
			    "duplicate key '%s' in "
			    "[%s] (first set at line %u)",
			    key, sect, t->line);
			return;
		}
	}
	if (quoted) {
		pol_err(pf->ec, pf->path, line,
		    "%s: quotes are only for "
		    "strings",
		    key);
		return;
	}
	if (pol_parse_thr_value(
		kind, (enum pol_metric)m, val, &v, err, sizeof(err)) != 0) {
		pol_err(pf->ec, pf->path, line, "%s: %s", key, err);
		return;
	}
	if (pf->thr.n >= POL_FILE_THR_MAX) {
		pol_err(pf->ec, pf->path, line,
		    "too many thresholds in one "
		    "file (at most %d)",
		    POL_FILE_THR_MAX);
		return;
	}
	t = &pf->thr.v[pf->thr.n++];
	t->kind = kind;
	t->metric = (enum pol_metric)m;
	t->window_s = win;
	t->value = v;
	t->src = pf->level;
	t->line = line;
}

/* ---- keys -------------------------------------------------------------- */

static int
sect_allowed(const struct pol_pfile *pf, enum pol_sect s)
{
	if (s == PS_HOST)
		return pf->is_host;
	if (s == PS_GLOBAL || s == PS_FLOWS || s == PS_EXPORT)
		return !pf->is_host;
	return 1;
}

static int
key_allowed(const struct pol_pfile *pf, const struct pol_key *k)
{
	return sect_allowed(pf, k->sect) &&
	    !(pf->is_host && k->scope == PSC_GLOBAL);
}

static void
unknown_key(struct pol_pfile *pf, uint32_t line, const char *key)
{
	const char *sect = pol_sect_names[pf->sect], *best = NULL;
	size_t	    i, d, bestd = SIZE_MAX;

	for (i = 0; i < K_COUNT; i++) {
		if (strcmp(pol_keys[i].name, key) != 0)
			continue;
		if (pf->is_host && pol_keys[i].scope == PSC_GLOBAL &&
		    pol_keys[i].sect == pf->sect)
			continue; /* reported by the caller */
		pol_err(pf->ec, pf->path, line,
		    "unknown key '%s' in [%s]; "
		    "it belongs in [%s]",
		    key, sect, pol_sect_names[pol_keys[i].sect]);
		return;
	}
	if (strchr(key, '.') != NULL) {
		pol_err(pf->ec, pf->path, line,
		    "unknown key '%s' in [%s]; "
		    "thresholds go in [absolute] or [learned]",
		    key, sect);
		return;
	}
	for (i = 0; i < K_COUNT; i++) {
		if (pol_keys[i].sect != pf->sect ||
		    !key_allowed(pf, &pol_keys[i]))
			continue;
		d = edit_distance(key, pol_keys[i].name);
		if (d < bestd) {
			bestd = d;
			best = pol_keys[i].name;
		}
	}
	if (best != NULL && close_enough(bestd, best))
		pol_err(pf->ec, pf->path, line,
		    "unknown key '%s' in [%s]; did "
		    "you mean '%s'?",
		    key, sect, best);
	else
		pol_err(pf->ec, pf->path, line, "unknown key '%s' in [%s]", key,
		    sect);
}

static void
set_key(struct pol_pfile *pf, uint32_t line, const char *key, const char *val,
    int quoted)
{
	const struct pol_key *k = NULL;
	char		      err[POL_ERRLEN];
	size_t		      i;

	for (i = 0; i < K_COUNT; i++) {
		if (pol_keys[i].sect == pf->sect &&
		    strcmp(pol_keys[i].name, key) == 0) {
			k = &pol_keys[i];
			break;
		}
	}
	if (k == NULL) {
		unknown_key(pf, line, key);
		return;
	}
	if (!key_allowed(pf, k)) {
		pol_err(pf->ec, pf->path, line,
		    "'%s' in [%s] is a global "
		    "setting: set it in default.conf",
		    key, pol_sect_names[pf->sect]);
		return;
	}
	if (pf->line[i] != 0) {
		pol_err(pf->ec, pf->path, line,
		    "duplicate key '%s' in [%s] "
		    "(first set at line %u)",
		    key, pol_sect_names[pf->sect], pf->line[i]);
		return;
	}
	pf->line[i] = line;
	if (quoted && !pol_type_quotable(k->type)) {
		pf->bad[i] = 1;
		pol_err(pf->ec, pf->path, line,
		    "%s: quotes are only for "
		    "strings",
		    key);
		return;
	}
	if (pol_set_value(pf, k, val, err, sizeof(err)) != 0) {
		pf->bad[i] = 1;
		pol_err(pf->ec, pf->path, line, "%s: %s", key, err);
	}
}

/* ---- lexer ------------------------------------------------------------- */

/*
 * Bytes of one line before it is parsed: no control characters (tab
 * aside), valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF).  Returns 0, or -1 with a message.
 */
static int
check_bytes(const unsigned char *s, size_t n, char *err, size_t errlen)
{
	size_t	 i = 0, j, len;
	uint32_t cp, min;

	while (i < n) {
		unsigned char c = s[i];

		if (c == '\r' && i == n - 1) {
			snprintf(err, errlen,
			    "carriage return at the end of "
			    "the line (CRLF line endings?)");
			return -1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(err, errlen,
			    "control character 0x%02x at "
			    "column %zu",
			    c, i + 1);
			return -1;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1fU;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0fU;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07U;
			min = 0x10000;
		} else
			goto bad;
		if (n - i < len)
			goto bad;
		for (j = 1; j < len; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + j] & 0x3fU);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += len;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid UTF-8 at column %zu", i + 1);
	return -1;
}

static void
section_line(struct pol_pfile *pf, uint32_t line, char *s)
{
	char	     *e = strchr(s, ']'), *name = s + 1, *p;
	const char   *best = NULL;
	size_t	      i, d, bestd = SIZE_MAX;
	enum pol_sect sect = PS_COUNT;

	pf->skip = 1; /* until the header proves good */
	pf->sect = PS_COUNT;
	if (e == NULL) {
		pol_err(pf->ec, pf->path, line,
		    "malformed section header "
		    "(missing ']')");
		return;
	}
	for (p = e + 1; pol_is_blank(*p); p++)
		continue;
	if (*p != '\0' && *p != '#') {
		pol_err(pf->ec, pf->path, line,
		    "unexpected text after the "
		    "section header");
		return;
	}
	*e = '\0';
	while (pol_is_blank(*name))
		name++;
	for (p = e; p > name && pol_is_blank(p[-1]); p--)
		p[-1] = '\0';
	for (i = 1; i < PS_COUNT && sect == PS_COUNT; i++)
		if (strcmp(name, pol_sect_names[i]) == 0)
			sect = (enum pol_sect)i;
	if (sect == PS_COUNT) {
		char cb[48];

		for (i = 1; i < PS_COUNT; i++) {
			d = edit_distance(name, pol_sect_names[i]);
			if (d < bestd) {
				bestd = d;
				best = pol_sect_names[i];
			}
		}

		if (best != NULL && close_enough(bestd, best))
			pol_err(pf->ec, pf->path, line,
			    "unknown section [%s]; "
			    "did you mean [%s]?",
			    pol_clip(name, cb, sizeof(cb)), best);
		else
			pol_err(pf->ec, pf->path, line, "unknown section [%s]",
			    pol_clip(name, cb, sizeof(cb)));
		return;
	}
	if (!sect_allowed(pf, sect)) {
		if (sect == PS_HOST)
			pol_err(pf->ec, pf->path, line,
			    "section [host] "
			    "belongs in a host file (hosts/NAME.conf)");
		else
			pol_err(pf->ec, pf->path, line,
			    "section [%s] is only "
			    "allowed in default.conf",
			    name);
		return;
	}
	pf->sect = sect;
	pf->skip = 0;
	if (pf->sect_line[sect] != 0) {
		pol_err(pf->ec, pf->path, line,
		    "duplicate section [%s] (first "
		    "at line %u)",
		    name, pf->sect_line[sect]);
		return;
	}
	pf->sect_line[sect] = line;
}

/*
 * A double-quoted value from s (just past the opening quote) into out:
 * \" and \\ are the only escapes.  Returns 0 or -1 with a message.
 */
static int
quoted_value(const char *s, char *out, size_t outsz, char *err, size_t errlen)
{
	size_t n = 0;

	for (;;) {
		char c = *s++;

		if (c == '\0') {
			snprintf(err, errlen, "unterminated quoted string");
			return -1;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			c = *s++;
			if (c != '"' && c != '\\') {
				snprintf(err, errlen,
				    "unknown escape '\\%c' in "
				    "quoted string (only \\\" and \\\\)",
				    c != '\0' ? c : ' ');
				return -1;
			}
		}
		if (n + 1 >= outsz) {
			snprintf(err, errlen, "quoted string is too long");
			return -1;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	while (pol_is_blank(*s))
		s++;
	if (*s != '\0' && *s != '#') {
		snprintf(err, errlen,
		    "unexpected text after the closing "
		    "quote");
		return -1;
	}
	return 0;
}

static void
key_line(struct pol_pfile *pf, uint32_t line, char *s)
{
	char   key[KEY_MAX + 1], val[POL_LINE_MAX + 1], err[POL_ERRLEN], cb[48];
	char  *p = s, *e;
	size_t kl;
	int    quoted = 0;

	while (*p != '\0' && !pol_is_blank(*p) && *p != '=')
		p++;
	kl = (size_t)(p - s);
	if (kl == 0) {
		pol_err(pf->ec, pf->path, line, "missing key before '='");
		return;
	}
	if (kl > KEY_MAX) {
		pol_err(pf->ec, pf->path, line,
		    "key is too long (at most %d "
		    "characters)",
		    KEY_MAX);
		return;
	}
	memcpy(key, s, kl);
	key[kl] = '\0';
	while (pol_is_blank(*p))
		p++;
	if (*p != '=') {
		pol_err(pf->ec, pf->path, line,
		    "expected 'key = value' after "
		    "'%s'",
		    pol_clip(key, cb, sizeof(cb)));
		return;
	}
	for (p++; pol_is_blank(*p); p++)
		continue;
	if (*p == '"') {
		quoted = 1;
		if (quoted_value(p + 1, val, sizeof(val), err, sizeof(err)) !=
		    0) {
			pol_err(pf->ec, pf->path, line, "%s: %s", key, err);
			return;
		}
	} else {
		e = strchr(p, '#');
		if (e == NULL)
			e = p + strlen(p);
		while (e > p && pol_is_blank(e[-1]))
			e--;
		memcpy(val, p, (size_t)(e - p));
		val[e - p] = '\0';
		if (strchr(val, '"') != NULL) {
			pol_err(pf->ec, pf->path, line,
			    "%s: stray '\"' in the "
			    "value (quote the whole value)",
			    key);
			return;
		}
	}
	if (pf->sect == PS_NONE) {
		pol_err(pf->ec, pf->path, line,
		    "key '%s' outside any section "
		    "(add a section line such as [%s] above it)",
		    key, pf->is_host ? "host" : "global");
		return;
	}
	if (pf->skip)
		return; /* the section line was reported */
	if (pf->sect == PS_ABSOLUTE || pf->sect == PS_LEARNED)
		set_threshold(pf, line, key, val, quoted);
	else
		set_key(pf, line, key, val, quoted);
}

void
pol_pfile_init(struct pol_pfile *pf, const char *path, int is_host,
    unsigned flags, struct pol_ectx *ec, struct pol_global *g,
    struct pol_host *h, enum pol_src_level level)
{
	memset(pf, 0, sizeof(*pf));
	pf->path = path;
	pf->is_host = is_host;
	pf->flags = flags;
	pf->ec = ec;
	pf->g = g;
	pf->h = h;
	pf->level = level;
	pf->sect = PS_NONE;
}

void
pol_parse_file(struct pol_pfile *pf, const char *buf, size_t len)
{
	char	    lb[POL_LINE_MAX + 1], err[POL_ERRLEN], *q;
	const char *p = buf, *end = buf + len, *nl, *s;
	uint32_t    line = 0;
	size_t	    n;

	if (len > POL_FILE_MAX) {
		pol_err(pf->ec, pf->path, 0, "file is larger than 1 MiB");
		return;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		pol_err(pf->ec, pf->path, 1,
		    "byte order mark at the start of "
		    "the file (save it as UTF-8 without BOM)");
		p += 3;
	}
	/* Each pass consumes a line and its newline: at most len passes. */
	while (p < end && !pf->ec->full) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		s = p;
		p = nl != NULL ? nl + 1 : end;
		if (n > POL_LINE_MAX) {
			pol_err(pf->ec, pf->path, line,
			    "line is longer than "
			    "%d bytes",
			    POL_LINE_MAX);
			continue;
		}
		if (check_bytes(
			(const unsigned char *)s, n, err, sizeof(err)) != 0) {
			pol_err(pf->ec, pf->path, line, "%s", err);
			continue;
		}
		memcpy(lb, s, n);
		lb[n] = '\0';
		for (q = lb; pol_is_blank(*q); q++)
			continue;
		if (*q == '\0' || *q == '#')
			continue;
		if (*q == '[')
			section_line(pf, line, q);
		else
			key_line(pf, line, q);
	}
}

void
pol_apply_builtin(struct pol_pfile *pf)
{
	char   err[POL_ERRLEN];
	size_t i;

	for (i = 0; i < K_COUNT; i++) {
		const struct pol_key *k = &pol_keys[i];
		const char	     *v = k->dflt;
		char		      q[8];

		if (v == NULL)
			continue;
		if (v[0] == '"') { /* "" */
			q[0] = '\0';
			v = q;
		}
		if (pol_set_value(pf, k, v, err, sizeof(err)) != 0)
			pol_err(
			    pf->ec, "(built-in)", 0, "%s: %s", k->name, err);
	}
	for (i = 0; i < NELEM(builtin_thr); i++) {
		pf->sect = builtin_thr[i].sect;
		set_threshold(
		    pf, 1, builtin_thr[i].key, builtin_thr[i].value, 0);
	}
	pf->sect = PS_NONE;
}
