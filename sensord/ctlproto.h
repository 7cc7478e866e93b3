/*
 * ctlproto.h: the control protocol between sensord and sensorctl (pure).
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, so the kernel keeps message
 * boundaries and one read is one message.  A message is an 8-byte header
 * {u16 version, u16 type, u32 payload length} (big-endian) and a payload of
 * at most CTLP_MAX_PAYLOAD bytes made of typed fields:
 *
 *	u8 kind (1 = u64, 2 = string) | u8 key length | key |
 *	    kind 1: u64 value | kind 2: u16 length, bytes
 *
 * Keys are 1..31 bytes of [a-z0-9_.]; strings are at most CTLP_MAX_STR
 * bytes and may not contain NUL.  A request is one message; a reply is any
 * number of RECORD messages (one object each) closed by one END message
 * carrying "status" (0 = ok) and, on failure, "error".  Everything is
 * decoded through the bounds-checked cursor; a message that breaks any rule
 * is rejected whole with a reason, and the daemon closes that connection.
 */
#ifndef SENSORD_CTLPROTO_H
#define SENSORD_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#define CTLP_VERSION 1
#define CTLP_HDR 8
#define CTLP_MAX_PAYLOAD 16384
#define CTLP_MAX_MSG (CTLP_HDR + CTLP_MAX_PAYLOAD)
#define CTLP_MAX_FIELDS 64
#define CTLP_MAX_KEY 31
#define CTLP_MAX_STR 4096

enum ctlp_type {
	CTLP_REQ_STATUS = 1,
	CTLP_REQ_HOSTS,	   /* optional "host" */
	CTLP_REQ_ESCALATE, /* "host", optional "for_s", "reason" */
	CTLP_REQ_RELEASE,  /* "host" */
	CTLP_REQ_RELOAD,
	CTLP_REQ_METRICS,
	CTLP_REQ_CAPTURES, /* optional "host", "since", "until" */
	CTLP_REQ__MAX,
	CTLP_REP_RECORD = 0x100,
	CTLP_REP_END
};

enum ctlp_kind { CTLP_U64 = 1, CTLP_STR = 2 };

struct ctlp_field {
	uint8_t	    kind;
	uint8_t	    keylen;
	uint16_t    slen;
	const char *key; /* not NUL-terminated: use keylen */
	const char *s;	 /* borrowed from the buffer */
	uint64_t    u;
};

struct ctlp_msg {
	uint16_t	  type;
	uint16_t	  n;
	struct ctlp_field f[CTLP_MAX_FIELDS];
};

/* Decode one whole message; 0, or -1 with *why set to a static reason. */
int ctlp_decode(
    const uint8_t *buf, size_t len, struct ctlp_msg *m, const char **why);
const struct ctlp_field *ctlp_find(const struct ctlp_msg *m, const char *key);
/* Copy a string field into out (NUL-terminated); -1 if absent/too long. */
int ctlp_get_str(
    const struct ctlp_msg *m, const char *key, char *out, size_t size);
/* 0 and *v, or -1 when absent or not a number. */
int ctlp_get_u64(const struct ctlp_msg *m, const char *key, uint64_t *v);

/* Builder: a message in a fixed buffer; overflow is sticky (err). */
struct ctlp_out {
	uint8_t buf[CTLP_MAX_MSG];
	size_t	len;
	int	err;
};

void ctlp_begin(struct ctlp_out *o, uint16_t type);
void ctlp_u64(struct ctlp_out *o, const char *key, uint64_t v);
void ctlp_str(struct ctlp_out *o, const char *key, const char *s);
/* Finish the header; 0, or -1 when anything did not fit or was invalid. */
int ctlp_end(struct ctlp_out *o);

const char *ctlp_type_name(uint16_t type);

#endif /* SENSORD_CTLPROTO_H */
