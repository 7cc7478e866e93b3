/*
 * convrec.h: the conversation record, the unit every consumer of the flow
 * engine works on (flow log, NetFlow/IPFIX export, baselines, sensorctl).
 *
 * A conversation pairs the two unidirectional flows A->B and B->A (ports
 * swapped, same protocol).  "src" is always the initiator: the sender of the
 * first packet (the SYN sender for TCP), decided once and kept across interim
 * records.  A long conversation is cut by the active timeout into interim
 * records that carry the same conv_id and a rising seq; each record holds
 * only the counts since the previous one, so sums over records are exact.
 */
#ifndef SENSORD_CONVREC_H
#define SENSORD_CONVREC_H

#include <stdint.h>

enum end_reason {
	END_NONE = 0, /* start-of-conversation notice, not a record */
	END_FIN,      /* both sides sent FIN (or FIN + grace) */
	END_RST,      /* TCP reset */
	END_IDLE,     /* passive (idle) timeout */
	END_ACTIVE,   /* active timeout: interim record, goes on */
	END_EVICT,    /* flow table full */
	END_EOF,      /* end of offline input */
	END_SHUTDOWN, /* daemon stopping */
	END__COUNT
};

/* Per direction of one record interval. */
struct convdir {
	uint64_t pkts;
	uint64_t bytes;	   /* IP-layer bytes */
	uint64_t first_us; /* first packet this interval, 0 if none */
	uint64_t last_us;
	uint8_t	 flags;	      /* OR of TCP flags this interval */
	uint8_t	 first_flags; /* flags of the direction's first packet */
};

#define CONV_STATE_MAX 8 /* "RSTOS0" + NUL fits */
#define CONV_HISTORY_MAX 24

struct convrec {
	uint64_t       conv_id; /* unique per sensord run and start time */
	uint32_t       seq;	/* 0 for the first record, +1 per cut */
	uint8_t	       family;	/* 4 or 6 */
	uint8_t	       proto;
	uint8_t	       reason;	 /* enum end_reason */
	uint8_t	       is_final; /* 0 for END_ACTIVE interim records */
	uint8_t	       iface;	 /* capture interface index (ours) */
	uint8_t	       flipped;	 /* initiator corrected once ('^') */
	uint16_t       vlan;
	uint16_t       sport;	/* initiator's port (ICMP: 0) */
	uint16_t       dport;	/* responder's port (ICMP: type<<8|code) */
	uint8_t	       src[16]; /* initiator, IPv4-mapped for v4 */
	uint8_t	       dst[16];
	uint64_t       start_us; /* first packet of this interval */
	uint64_t       end_us;	 /* last packet of this interval */
	struct convdir fwd;	 /* src -> dst */
	struct convdir rev;	 /* dst -> src */
	char	       state[CONV_STATE_MAX];	  /* Zeek conn_state */
	char	       history[CONV_HISTORY_MAX]; /* Zeek history */
};

/* "fin", "rst", "idle", "active", "evict", "eof", "shutdown". */
const char *conv_reason_name(enum end_reason r);

/* TCP flags as letters in the order "CEUAPRSF" (only set ones). */
void conv_flags_str(uint8_t flags, char out[9]);

#endif /* SENSORD_CONVREC_H */
