/*
 * events.c: append-only JSON-lines event log (see events.h).
 *
 * Owns one file descriptor and the next id.  Invariants: ids in the file
 * rise by one per line written by this code; a line is written whole with
 * one write(2) on an O_APPEND descriptor (POSIX makes the append position
 * atomic for regular files, and Linux does not split regular-file writes
 * of a few KiB), and a line is never written without its newline.  If a
 * write was cut short (disk full mid-line), the next line starts with a
 * newline so only the torn line is lost.
 *
 * The last id is recovered at open from the file's last 64 KiB (at least
 * 32 lines), and only if none is found there from the whole file: lines
 * are ours, so an id is the digits after a leading {"id":.  The file is
 * read through the cursor like any other untrusted input.
 *
 * Cost: formatting into a stack buffer, one syscall per event.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baseline.h"
#include "cursor.h"
#include "events.h"
#include "util.h"

#define EVENTS_TAIL 65536

struct events {
	int		    fd;
	uint64_t	    last_id;
	int		    need_nl; /* file ends inside a line */
	struct events_stats st;
};

/* Largest id at the start of a complete line in buf; 0 when none. */
static uint64_t
events_scan(const uint8_t *buf, size_t len, int skip_first)
{
	static const char tag[] = "{\"id\":";
	struct cur	  c;
	uint64_t	  best = 0;
	int		  at_line = !skip_first;

	cur_init(&c, buf, len);
	while (cur_left(&c) > 0) {
		const uint8_t *line = cur_ptr(&c);
		const uint8_t *nl = memchr(line, '\n', cur_left(&c));
		size_t	       n;

		if (nl == NULL)
			break; /* torn last line: ignored */
		n = (size_t)(nl - line);
		cur_skip(&c, n + 1);
		if (!at_line) {
			at_line = 1;
			continue;
		}
		if (n > sizeof(tag) - 1 &&
		    memcmp(line, tag, sizeof(tag) - 1) == 0) {
			uint64_t id = 0;
			size_t	 i = sizeof(tag) - 1, digits = 0;

			while (i < n && line[i] >= '0' && line[i] <= '9' &&
			    digits < 19) {
				id = id * 10 + (uint64_t)(line[i++] - '0');
				digits++;
			}
			if (digits > 0 && i < n && line[i] == ',' && id > best)
				best = id;
		}
	}
	return best;
}

static int
events_recover(struct events *ev, off_t size)
{
	uint8_t *buf;
	off_t	 at;
	size_t	 n;
	ssize_t	 rd;

	if (size == 0)
		return 0;
	if ((buf = malloc(EVENTS_TAIL)) == NULL)
		return -1;
	at = size > EVENTS_TAIL ? size - EVENTS_TAIL : 0;
	n = (size_t)(size - at);
	if ((rd = pread(ev->fd, buf, n, at)) < 0) {
		free(buf);
		return -1;
	}
	n = (size_t)rd;
	ev->need_nl = n > 0 && buf[n - 1] != '\n';
	ev->last_id = events_scan(buf, n, at > 0);
	/* No id in the tail (long foreign lines?): scan everything. */
	if (ev->last_id == 0 && size > EVENTS_TAIL) {
		uint64_t best = 0, id;
		int	 skip = 0;

		for (at = 0; at < size;) {
			if ((rd = pread(ev->fd, buf, EVENTS_TAIL, at)) <= 0)
				break;
			/* Complete lines only; the rest is read again. */
			for (n = (size_t)rd; n > 0 && buf[n - 1] != '\n'; n--)
				;
			if (n == 0) {
				/* A line longer than the buffer. */
				at += rd;
				skip = 1;
				continue;
			}
			id = events_scan(buf, n, skip);
			if (id > best)
				best = id;
			skip = 0;
			at += (off_t)n;
		}
		ev->last_id = best;
	}
	free(buf);
	return 0;
}

struct events *
events_open(const char *path, char *err, size_t errlen)
{
	struct events *ev;
	struct stat    sb;
	int	       e;

	if ((ev = calloc(1, sizeof(*ev))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	ev->fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (ev->fd < 0)
		goto fail;
	if (fstat(ev->fd, &sb) != 0)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	/* The write descriptor cannot pread: a second one reads the tail. */
	{
		int rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		int wfd = ev->fd;

		if (rfd < 0)
			goto fail;
		ev->fd = rfd;
		e = events_recover(ev, sb.st_size);
		ev->fd = wfd;
		close(rfd);
		if (e != 0)
			goto fail;
	}
	return ev;
fail:
	e = errno;
	snprintf(err, errlen, "%s: %s", path, strerror(e));
	if (ev->fd >= 0)
		close(ev->fd);
	free(ev);
	errno = e;
	return NULL;
}

void
events_close(struct events *ev)
{
	if (ev == NULL)
		return;
	close(ev->fd);
	free(ev);
}

uint64_t
events_last_id(const struct events *ev)
{
	return ev->last_id;
}

void
events_get_stats(const struct events *ev, struct events_stats *st)
{
	*st = ev->st;
}

/* ---- line builder ------------------------------------------------------ */

static void
events_raw(struct events_rec *r, const char *s, size_t n)
{
	/* Keep room for "}\n" after the last field. */
	if (r->overflow || EVENTS_ID_ROOM + r->len + n + 2 > EVENTS_LINE_MAX) {
		r->overflow = 1;
		return;
	}
	memcpy(r->buf + EVENTS_ID_ROOM + r->len, s, n);
	r->len += n;
}

/* A JSON string: quotes, backslash and every byte outside 0x20..0x7e
 * escaped, so any input gives valid JSON (bytes >= 0x80 as \u00XX). */
static void
events_quoted(struct events_rec *r, const char *s)
{
	static const char    hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	events_raw(r, "\"", 1);
	for (; *p != '\0' && !r->overflow; p++) {
		char e[6];

		if (*p == '"' || *p == '\\') {
			e[0] = '\\';
			e[1] = (char)*p;
			events_raw(r, e, 2);
		} else if (*p == '\n')
			events_raw(r, "\\n", 2);
		else if (*p == '\t')
			events_raw(r, "\\t", 2);
		else if (*p < 0x20 || *p > 0x7e) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[*p >> 4];
			e[5] = hex[*p & 15];
			events_raw(r, e, 6);
		} else
			events_raw(r, (const char *)p, 1);
	}
	events_raw(r, "\"", 1);
}

static void
events_key(struct events_rec *r, const char *key)
{
	if (r->len > 0)
		events_raw(r, ",", 1);
	events_quoted(r, key);
	events_raw(r, ":", 1);
}

void
events_begin(struct events_rec *r, uint64_t ts_us, const char *event)
{
	char num[32];
	int  n;

	r->len = 0;
	r->overflow = 0;
	n = snprintf(num, sizeof(num), "%llu.%06u",
	    (unsigned long long)(ts_us / 1000000), (unsigned)(ts_us % 1000000));
	events_key(r, "ts");
	events_raw(r, num, (size_t)n);
	events_str(r, "event", event);
}

void
events_str(struct events_rec *r, const char *key, const char *val)
{
	events_key(r, key);
	if (val == NULL)
		events_raw(r, "null", 4);
	else
		events_quoted(r, val);
}

void
events_num(struct events_rec *r, const char *key, double v)
{
	char num[40];
	int  n;

	events_key(r, key);
	if (!isfinite(v)) {
		events_raw(r, "null", 4);
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		n = snprintf(num, sizeof(num), "%.0f", v);
	else
		n = snprintf(num, sizeof(num), "%.10g", v);
	events_raw(r, num, (size_t)n);
}

void
events_uint(struct events_rec *r, const char *key, uint64_t v)
{
	char num[24];
	int  n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);

	events_key(r, key);
	events_raw(r, num, (size_t)n);
}

void
events_addr(struct events_rec *r, const char *key, const uint8_t addr[16])
{
	char a[ADDR_STRLEN];

	addr_fmt(addr, a);
	events_str(r, key, a);
}

static char *
events_finish(struct events_rec *r, uint64_t id, size_t *len)
{
	char pre[EVENTS_ID_ROOM + 8];
	int  n =
	    snprintf(pre, sizeof(pre), "{\"id\":%llu,", (unsigned long long)id);
	char *start;

	/* n <= 27 < EVENTS_ID_ROOM: a byte before start stays free. */
	if (r->overflow || n < 0 || n >= EVENTS_ID_ROOM) {
		r->overflow = 1;
		return NULL;
	}
	start = r->buf + EVENTS_ID_ROOM - n;
	memcpy(start, pre, (size_t)n);
	r->buf[EVENTS_ID_ROOM + r->len] = '}';
	r->buf[EVENTS_ID_ROOM + r->len + 1] = '\n';
	*len = (size_t)n + r->len + 2;
	return start;
}

const char *
events_line(struct events_rec *r, uint64_t id, size_t *len)
{
	return events_finish(r, id, len);
}

int
events_end(struct events *ev, struct events_rec *r, uint64_t *id)
{
	char   *line;
	size_t	len;
	ssize_t w;

	if ((line = events_finish(r, ev->last_id + 1, &len)) == NULL) {
		ev->st.n_overflow++;
		errno = EMSGSIZE;
		return -1;
	}
	if (ev->need_nl) {
		/* Start after a torn line; the newline joins this write. */
		*--line = '\n';
		len++;
	}
	w = write(ev->fd, line, len);
	if (w < 0) {
		ev->st.n_failed++;
		return -1;
	}
	ev->last_id++;
	if (id != NULL)
		*id = ev->last_id;
	if ((size_t)w != len) {
		/* Cut short: the id is spent, the next line starts afresh. */
		ev->need_nl = 1;
		ev->st.n_failed++;
		errno = EIO;
		return -1;
	}
	ev->need_nl = 0;
	ev->st.n_written++;
	return 0;
}

void
events_host(
    struct events_rec *r, const struct host_event *he, const char *action)
{
	char a[ADDR_STRLEN];

	events_begin(r, he->ts_us, he->is_breach ? "breach" : "normal");
	events_addr(r, "host", he->addr);
	events_str(r, "metric", bl_metric_name((enum bl_metric)he->metric));
	events_num(r, "value", he->value);
	events_num(r, "threshold", he->threshold);
	events_str(r, "basis", bl_kind_name((enum bl_kind)he->basis));
	events_uint(r, "window", he->window_s);
	events_str(r, "action", action != NULL ? action : "none");
	events_str(r, "window_name", he->window);
	if (he->detail != NULL)
		events_str(r, "detail", he->detail);
	if (he->new_proto >= 0)
		events_uint(r, "new_proto", (uint64_t)he->new_proto);
	if (he->has_peer) {
		addr_fmt(he->peer, a);
		events_str(r, "peer", a);
		events_uint(r, "dport", he->dport);
		events_uint(r, "proto", he->proto);
		events_num(
		    r, "period", floor(he->period_s * 1000 + 0.5) / 1000);
		events_num(r, "known_period",
		    floor(he->known_period_s * 1000 + 0.5) / 1000);
	}
}

int
events_write_host(struct events *ev, const struct host_event *he,
    const char *action, uint64_t *id)
{
	struct events_rec r;

	events_host(&r, he, action);
	return events_end(ev, &r, id);
}
