/*
 * export.h: flow export to a NetFlow v5 / NetFlow v9 / IPFIX collector over
 * UDP (encoders in xpenc.c, the socket, pacing and loss accounting here).
 *
 *	struct xp_config cfg;
 *	xp_config_defaults(&cfg);
 *	if (xp_parse_target("ipfix@[2001:db8::1]:4739", &cfg, err, sizeof(err)))
 *		fatalx("--export: %s", err);
 *	ex = xp_new(&cfg);			// socket opened, connected
 *	xp_record(ex, cr, now_us);		// from the flow table's sink
 *	xp_tick(ex, now_us);			// 1 Hz: flush, refresh, drain
 *	xp_free(ex);				// flush everything, close
 *
 * Our own export datagrams must not be metered (they would feed back into
 * the flow table): after xp_new() the daemon drops every packet for which
 * xp_is_own_packet() is true before it reaches ft_packet(), or puts the
 * 5-tuple from xp_get_local() into its capture filter.
 */
#ifndef SENSORD_EXPORT_H
#define SENSORD_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "convrec.h"
#include "decode.h"
#include "xpenc.h"

struct exporter;

struct xp_config {
	struct xp_enc_config enc;      /* kind, domain, templates, sampling,
					   mtu, biflow, start_us */
	uint8_t		     addr[16]; /* collector, IPv4-mapped for v4 */
	uint16_t	     port;
	uint32_t	     max_rate;	  /* records per second, 0 = unpaced */
	uint32_t	     burst;	  /* records sent back to back before
					   pacing applies; 0 = max_rate/20 */
	uint32_t	     queue;	  /* datagrams kept while the socket or
					   the pacer says wait (live) */
	uint32_t	     sndbuf;	  /* SO_SNDBUF wish, bytes; 0 = keep */
	uint32_t	     wait_max_ms; /* lossless: longest wait for one
					   datagram before it is dropped */
	uint8_t		     lossless;	  /* offline replay: block instead of
					   dropping */
	/* Monotonic microseconds for pacing; NULL: CLOCK_MONOTONIC. */
	uint64_t (*mono_us)(void);
};

struct xp_stats {
	uint64_t n_records;	   /* conversation records given */
	uint64_t n_flows;	   /* data records encoded */
	uint64_t n_datagrams;	   /* datagrams sent */
	uint64_t n_bytes;	   /* bytes sent (UDP payload) */
	uint64_t n_template_sends; /* datagrams with templates */
	uint64_t n_drop_datagrams; /* EAGAIN/ENOBUFS, queue full, or
					   lossless wait exceeded */
	uint64_t n_drop_flows;	   /* data records in those */
	uint64_t n_send_errors;	   /* other send errors (also dropped) */
	int	 last_errno;	   /* errno of the last send error */
	uint64_t n_skipped;	   /* v5: IPv6 conversations not sent */
	uint64_t n_clamped;	   /* v5: counters clamped at 2^32 - 1 */
	uint64_t n_time_clamped;   /* v5/v9: start before sysUptime 0 */
	uint64_t n_waits;	   /* lossless: times we had to wait */
	uint64_t wait_us;	   /* ... and for how long in total */
	uint64_t queued;	   /* gauge: datagrams waiting now */
};

/*
 * Defaults: IPFIX biflows to 127.0.0.1:4739, templates every 60 s or 64
 * datagrams, no sampling, 1400-byte datagrams, 20000 records/s in bursts
 * of 1000, 256 queued datagrams, 4 MiB SO_SNDBUF, lossy, 5 s at most
 * waiting for one datagram when lossless.
 */
void xp_config_defaults(struct xp_config *cfg);

/*
 * Parse "KIND@ADDRESS:PORT" into cfg (other fields untouched): KIND is
 * netflow5, netflow9 or ipfix; ADDRESS an IPv4 literal or an IPv6 literal
 * in brackets ("ipfix@[::1]:4739"); ":PORT" may be left out (2055 for
 * NetFlow, 4739 for IPFIX).  No name lookups.  0, or -1 with errno EINVAL
 * and a message naming the bad field in err.
 */
int xp_parse_target(
    const char *s, struct xp_config *cfg, char *err, size_t errlen);

/* Format cfg's target back as "KIND@ADDRESS:PORT". */
void xp_format_target(const struct xp_config *cfg, char *buf, size_t len);

/*
 * Open a non-blocking, close-on-exec UDP socket connected to the collector.
 * NULL with errno on failure (EINVAL for a bad configuration).
 */
struct exporter *xp_new(const struct xp_config *cfg);

/* Encode one record; sends each datagram that fills up (paced). */
void xp_record(struct exporter *ex, const struct convrec *cr, uint64_t now_us);

/*
 * Periodic work (1 Hz is enough): send the partial datagram, so a record
 * leaves within a tick, and whatever is queued and allowed by the pacer.
 */
void xp_tick(struct exporter *ex, uint64_t now_us);

/* Flush and send everything (blocking up to wait_max_ms per datagram). */
void xp_flush(struct exporter *ex, uint64_t now_us);

/* xp_flush() at the latest time seen, close the socket, free.  NULL is a
 * no-op. */
void xp_free(struct exporter *ex);

void xp_get_stats(const struct exporter *ex, struct xp_stats *st);

/* The socket, for a poll(2) loop that wants POLLOUT while queued > 0. */
int xp_fd(const struct exporter *ex);

/*
 * Milliseconds until queued datagrams may be sent (pacing), 0 when they
 * can go now, -1 when nothing is queued: a poll timeout for the loop.
 */
int xp_poll_ms(const struct exporter *ex);

/* Our side of the export socket: address (IPv4-mapped) and port. */
int xp_get_local(const struct exporter *ex, uint8_t addr[16], uint16_t *port);

/* 1 for a UDP packet between our socket and the collector (either way). */
int xp_is_own_packet(const struct exporter *ex, const struct pktinfo *pi);

#endif /* SENSORD_EXPORT_H */
