/*
 * events.h: the append-only event log STATEDIR/events.jsonl.
 *
 * One JSON object per line, written with one write(2) on an O_APPEND
 * descriptor, so concurrent readers (tail -f, jq) never see half a line
 * from a live daemon, and a crash leaves at most one torn last line (the
 * next line then starts on a fresh line).  Every line starts with
 * {"id":N, where N rises by one per event and continues across restarts:
 * events_open() finds the last id in the file's tail.
 *
 * Lines are built in a caller-owned struct events_rec (no allocation):
 *
 *	struct events_rec r;
 *	events_begin(&r, ts_us, "escalate");
 *	events_addr(&r, "host", addr);
 *	events_str(&r, "action", "capture started");
 *	events_end(ev, &r, &id);
 *
 * Standard fields: ts (packet time, epoch seconds with microseconds, a
 * number), event, host, metric, value, threshold, basis, window
 * (seconds), action, id.  Extra fields of breach/normal lines written by
 * events_write_host(): window_name ("10m", "day"...), detail (why a
 * normal or a beacon breach), new_proto, and for beacons peer, dport,
 * proto, period and known_period (seconds).
 */
#ifndef SENSORD_EVENTS_H
#define SENSORD_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

#define EVENTS_LINE_MAX 2048 /* longest line, newline included */
#define EVENTS_ID_ROOM 32    /* room kept for {"id":N, */

struct events;

struct events_rec {
	char   buf[EVENTS_LINE_MAX];
	size_t len;	 /* bytes used from EVENTS_ID_ROOM on */
	int    overflow; /* a field did not fit: events_end fails */
};

struct events_stats {
	uint64_t n_written;
	uint64_t n_failed;   /* write errors (errno kept) */
	uint64_t n_overflow; /* lines too long, not written */
};

/*
 * Open (create, 0640) path for appending and find the last id.  NULL with
 * errno and a message in err.
 */
struct events *events_open(const char *path, char *err, size_t errlen);
void	       events_close(struct events *ev);
/* The id of the last event in the file (0 when none). */
uint64_t events_last_id(const struct events *ev);
void	 events_get_stats(const struct events *ev, struct events_stats *st);

void events_begin(struct events_rec *r, uint64_t ts_us, const char *event);
void events_str(struct events_rec *r, const char *key, const char *val);
/* A number; NaN and infinities are written as null. */
void events_num(struct events_rec *r, const char *key, double v);
void events_uint(struct events_rec *r, const char *key, uint64_t v);
void events_addr(struct events_rec *r, const char *key, const uint8_t addr[16]);
/*
 * Finish the line, give it the next id (*id, may be NULL) and append it
 * with one write(2).  0, or -1 with errno (EMSGSIZE for a line over
 * EVENTS_LINE_MAX; the id is then not used).
 */
int events_end(struct events *ev, struct events_rec *r, uint64_t *id);
/* The finished line without writing it (tests, control socket). */
const char *events_line(struct events_rec *r, uint64_t id, size_t *len);

/* A breach/normal event as a line; action says what was done about it. */
void events_host(
    struct events_rec *r, const struct host_event *he, const char *action);
int events_write_host(struct events *ev, const struct host_event *he,
    const char *action, uint64_t *id);

#endif /* SENSORD_EVENTS_H */
