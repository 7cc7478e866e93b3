/*
 * ctlproto.c: see ctlproto.h.  The decoder is the attack surface (any
 * local user in group sensord can send bytes): every length is checked
 * against the bytes that remain, every loop is bounded by CTLP_MAX_FIELDS,
 * and nothing is copied or allocated.
 */
#include <string.h>

#include "ctlproto.h"
#include "cursor.h"

static int
key_ok(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > CTLP_MAX_KEY)
		return 0;
	for (i = 0; i < n; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

static int
type_ok(uint16_t t)
{
	return (t >= CTLP_REQ_STATUS && t < CTLP_REQ__MAX) ||
	    t == CTLP_REP_RECORD || t == CTLP_REP_END;
}

int
ctlp_decode(
    const uint8_t *buf, size_t len, struct ctlp_msg *m, const char **why)
{
	struct cur c, p;
	uint16_t   version;
	uint32_t   plen;

	memset(m, 0, sizeof(*m));
	cur_init(&c, buf, len);
	version = cur_be16(&c);
	m->type = cur_be16(&c);
	plen = cur_be32(&c);
	if (!cur_ok(&c)) {
		*why = "short header";
		return -1;
	}
	if (version != CTLP_VERSION) {
		*why = "unsupported protocol version";
		return -1;
	}
	if (!type_ok(m->type)) {
		*why = "unknown message type";
		return -1;
	}
	if (plen > CTLP_MAX_PAYLOAD || plen != cur_left(&c)) {
		*why = "payload length does not match the message";
		return -1;
	}
	if (cur_sub(&c, plen, &p) != 0) {
		*why = "short payload";
		return -1;
	}
	while (cur_left(&p) > 0) {
		struct ctlp_field *f;
		const uint8_t	  *k;

		if (m->n == CTLP_MAX_FIELDS) {
			*why = "too many fields";
			return -1;
		}
		f = &m->f[m->n];
		f->kind = cur_u8(&p);
		f->keylen = cur_u8(&p);
		k = cur_take(&p, f->keylen);
		if (k == NULL || !key_ok((const char *)k, f->keylen)) {
			*why = "bad field key";
			return -1;
		}
		f->key = (const char *)k;
		if (f->kind == CTLP_U64) {
			f->u = cur_be64(&p);
		} else if (f->kind == CTLP_STR) {
			const uint8_t *s;

			f->slen = cur_be16(&p);
			if (f->slen > CTLP_MAX_STR ||
			    (s = cur_take(&p, f->slen)) == NULL) {
				*why = "bad string field";
				return -1;
			}
			if (memchr(s, '\0', f->slen) != NULL) {
				*why = "NUL inside a string field";
				return -1;
			}
			f->s = (const char *)s;
		} else {
			*why = "unknown field kind";
			return -1;
		}
		if (!cur_ok(&p)) {
			*why = "truncated field";
			return -1;
		}
		m->n++;
	}
	return 0;
}

const struct ctlp_field *
ctlp_find(const struct ctlp_msg *m, const char *key)
{
	size_t	 kl = strlen(key);
	uint16_t i;

	for (i = 0; i < m->n; i++)
		if (m->f[i].keylen == kl && memcmp(m->f[i].key, key, kl) == 0)
			return &m->f[i];
	return NULL;
}

int
ctlp_get_str(const struct ctlp_msg *m, const char *key, char *out, size_t size)
{
	const struct ctlp_field *f = ctlp_find(m, key);

	if (f == NULL || f->kind != CTLP_STR || (size_t)f->slen >= size)
		return -1;
	memcpy(out, f->s, f->slen);
	out[f->slen] = '\0';
	return 0;
}

int
ctlp_get_u64(const struct ctlp_msg *m, const char *key, uint64_t *v)
{
	const struct ctlp_field *f = ctlp_find(m, key);

	if (f == NULL || f->kind != CTLP_U64)
		return -1;
	*v = f->u;
	return 0;
}

static void
put(struct ctlp_out *o, const void *p, size_t n)
{
	if (o->err || n > sizeof(o->buf) - o->len) {
		o->err = 1;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void
put_be(struct ctlp_out *o, uint64_t v, unsigned bytes)
{
	uint8_t	 b[8];
	unsigned i;

	for (i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	put(o, b, bytes);
}

void
ctlp_begin(struct ctlp_out *o, uint16_t type)
{
	o->len = 0;
	o->err = 0;
	put_be(o, CTLP_VERSION, 2);
	put_be(o, type, 2);
	put_be(o, 0, 4);
}

static void
put_key(struct ctlp_out *o, uint8_t kind, const char *key)
{
	size_t kl = strlen(key);

	if (!key_ok(key, kl)) {
		o->err = 1;
		return;
	}
	put_be(o, kind, 1);
	put_be(o, kl, 1);
	put(o, key, kl);
}

void
ctlp_u64(struct ctlp_out *o, const char *key, uint64_t v)
{
	put_key(o, CTLP_U64, key);
	put_be(o, v, 8);
}

void
ctlp_str(struct ctlp_out *o, const char *key, const char *s)
{
	size_t n = strlen(s);

	if (n > CTLP_MAX_STR)
		n = CTLP_MAX_STR; /* truncated rather than refused */
	put_key(o, CTLP_STR, key);
	put_be(o, n, 2);
	put(o, s, n);
}

int
ctlp_end(struct ctlp_out *o)
{
	size_t plen = o->len - CTLP_HDR;

	if (o->err || plen > CTLP_MAX_PAYLOAD)
		return -1;
	o->buf[4] = (uint8_t)(plen >> 24);
	o->buf[5] = (uint8_t)(plen >> 16);
	o->buf[6] = (uint8_t)(plen >> 8);
	o->buf[7] = (uint8_t)plen;
	return 0;
}

const char *
ctlp_type_name(uint16_t type)
{
	switch (type) {
	case CTLP_REQ_STATUS:
		return "status";
	case CTLP_REQ_HOSTS:
		return "hosts";
	case CTLP_REQ_ESCALATE:
		return "escalate";
	case CTLP_REQ_RELEASE:
		return "release";
	case CTLP_REQ_RELOAD:
		return "reload";
	case CTLP_REQ_METRICS:
		return "metrics";
	case CTLP_REQ_CAPTURES:
		return "captures";
	case CTLP_REP_RECORD:
		return "record";
	case CTLP_REP_END:
		return "end";
	default:
		return "unknown";
	}
}
