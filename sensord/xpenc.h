/*
 * xpenc.h: NetFlow v5, NetFlow v9 and IPFIX encoders (pure).
 *
 * The encoder turns conversation records into export datagrams and hands
 * each finished datagram to an emit callback; it owns the protocol state
 * that has to be right for a collector to decode the stream: sequence
 * numbers, sysUptime, template ids and when templates are (re)sent.  It
 * does no I/O, reads no clock (time is the caller's now_us, flow time) and
 * allocates nothing: export.c wraps it with a socket, pacing and a queue,
 * and the unit test wraps it with a decoder.
 */
#ifndef SENSORD_XPENC_H
#define SENSORD_XPENC_H

#include <stddef.h>
#include <stdint.h>

#include "convrec.h"

enum xp_kind { XP_NETFLOW5 = 5, XP_NETFLOW9 = 9, XP_IPFIX = 10 };

/* Largest datagram the encoder builds (jumbo-frame loopback at most). */
#define XP_DGRAM_MAX 8960
#define XP_DGRAM_MIN 512    /* below this a v6 template won't fit */
#define XP_MTU_DEFAULT 1400 /* payload bytes; safe on most paths */

/* NetFlow v5 (Cisco's layout; no RFC). */
#define XP_V5_HDR_LEN 24
#define XP_V5_REC_LEN 48
#define XP_V5_MAX_RECS 30

/* Template ids (any value >= 256 is legal; these are ours). */
#define XP_TID_V4 256
#define XP_TID_V6 257
#define XP_TID_OPTIONS 258

/* RFC 5103 reverse information elements: IE id | enterprise bit, PEN. */
#define XP_PEN_REVERSE 29305
#define XP_IE_ENTERPRISE 0x8000

/*
 * Called for every finished datagram.  n_data is the number of flow data
 * records in it (options records excluded), has_tmpl tells whether it
 * carries templates.  The buffer is only valid during the call.  Return 0
 * when the datagram was taken, -1 when it was lost: the encoder then sends
 * the templates again with the next datagram if this one carried them.
 */
typedef int (*xp_emit_fn)(
    void *arg, const uint8_t *buf, size_t len, uint32_t n_data, int has_tmpl);

struct xp_enc_config {
	enum xp_kind kind;
	uint32_t     domain;	      /* v9 source id, IPFIX observation
					   domain; v5: engine type << 8 |
					   engine id (low 16 bits) */
	uint32_t     template_s;      /* resend templates after this much
					   flow time (0: only at start) */
	uint32_t     template_dgrams; /* ... or after this many datagrams
					   (0: never by count) */
	uint32_t     sampling;	      /* 1-in-N packet sampling; 0/1 none */
	uint16_t     mtu;	      /* datagram bytes, XP_DGRAM_MIN..MAX */
	uint8_t	     biflow;	      /* IPFIX: one RFC 5103 record per
					   conversation */
	uint64_t     start_us;	      /* sysUptime zero in flow time; 0: the
					   first call's time */
};

struct xp_enc_stats {
	uint64_t n_records;	   /* conversation records taken */
	uint64_t n_flows;	   /* data records encoded */
	uint64_t n_datagrams;	   /* datagrams handed to emit */
	uint64_t n_bytes;	   /* their bytes */
	uint64_t n_lost;	   /* datagrams emit reported lost */
	uint64_t n_lost_flows;	   /* data records in them */
	uint64_t n_template_sends; /* datagrams that carried templates */
	uint64_t n_skipped;	   /* v5: IPv6 conversations, not sent */
	uint64_t n_empty;	   /* records with no packets either way */
	uint64_t n_clamped;	   /* v5: 32-bit counters clamped */
	uint64_t n_time_clamped;   /* v5/v9: times before sysUptime 0 */
};

/*
 * Encoder state.  Embedded by the caller (no allocation); treat as opaque.
 * Invariant: len == 0 or buf[0..len) is a datagram being built whose
 * header is written at finish time; set_off != 0 is the open set.
 */
struct xp_enc {
	struct xp_enc_config cfg;
	xp_emit_fn	     emit;
	void		    *arg;
	uint64_t	     boot_ms; /* sysUptime zero, whole seconds, ms */
	uint64_t	     now_us;  /* latest time seen: header time */
	int		     has_boot;
	uint32_t	     seq; /* next header sequence number */
	uint32_t	     dgrams_since_tmpl;
	uint64_t	     tmpl_sent_us;
	int		     tmpl_due;
	size_t		     len;     /* bytes of the open datagram */
	size_t		     set_off; /* offset of the open set header */
	uint16_t	     set_id;
	uint16_t	     n_hdr;    /* v5 flows / v9 records in datagram */
	uint32_t	     n_data;   /* flow data records in datagram */
	uint32_t	     n_opt;    /* options data records in datagram */
	int		     has_tmpl; /* templates in this datagram */
	struct xp_enc_stats  st;
	uint8_t		     buf[XP_DGRAM_MAX];
};

/* Fill in defaults: IPFIX, domain 0, templates every 60 s or 64 datagrams,
 * no sampling, XP_MTU_DEFAULT, biflow on. */
void xp_enc_config_defaults(struct xp_enc_config *cfg);

/* 0, or -1 (EINVAL) when the configuration is out of range. */
int xp_enc_init(struct xp_enc *enc, const struct xp_enc_config *cfg,
    xp_emit_fn emit, void *arg);

/*
 * Encode one conversation record (END_NONE start notices are ignored).
 * Emits every datagram that fills up on the way.  Never fails: what cannot
 * be exported (v5 and IPv6) is counted.
 */
void xp_enc_add(struct xp_enc *enc, const struct convrec *cr, uint64_t now_us);

/* Emit the open datagram, if any. */
void xp_enc_flush(struct xp_enc *enc, uint64_t now_us);

/* Send templates with the next datagram (e.g. a queued one was dropped). */
void xp_enc_resend_templates(struct xp_enc *enc);

/* Map enum end_reason to RFC 5102 flowEndReason (1..5). */
uint8_t xp_end_reason(uint8_t reason);

/* "netflow5", "netflow9", "ipfix"; NULL for an unknown value. */
const char *xp_kind_name(enum xp_kind kind);

#endif /* SENSORD_XPENC_H */
