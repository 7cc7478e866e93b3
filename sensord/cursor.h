/*
 * cursor.h: the one bounds-checked reader for untrusted bytes.
 *
 * Every parser in sensord (packet decoder, pcap headers on rescan, policy
 * files, control messages, flow-log records read back) reads through a
 * struct cur.  The error is sticky: after the first short read every further
 * read fails too and returns zeros, so a parser may read a whole header and
 * check cur_ok() once, and can never act on half-read garbage.  Multi-byte
 * loads go through memcpy, so alignment never matters and packet bytes are
 * never cast to structs.  cur_sub() carves a child cursor bounded by a
 * declared length (an IP total length, an extension header length), so an
 * inner parser cannot read past its own field even when the outer buffer is
 * longer.
 */
#ifndef SENSORD_CURSOR_H
#define SENSORD_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cur {
	const uint8_t *p;   /* start of the readable window */
	size_t	       len; /* bytes in the window */
	size_t	       off; /* next byte to read */
	int	       err; /* sticky: set on the first short read */
};

static inline void
cur_init(struct cur *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->len = p != NULL ? len : 0;
	c->off = 0;
	c->err = 0;
}

static inline int
cur_ok(const struct cur *c)
{
	return !c->err;
}

static inline size_t
cur_left(const struct cur *c)
{
	return c->err ? 0 : c->len - c->off;
}

static inline size_t
cur_off(const struct cur *c)
{
	return c->off;
}

/* Pointer to the next unread byte (valid for cur_left() bytes). */
static inline const uint8_t *
cur_ptr(const struct cur *c)
{
	return c->p + c->off;
}

/* Reserve n bytes; NULL (and the sticky error) when fewer are left. */
static inline const uint8_t *
cur_take(struct cur *c, size_t n)
{
	const uint8_t *q;

	if (c->err || n > c->len - c->off) {
		c->err = 1;
		return NULL;
	}
	q = c->p + c->off;
	c->off += n;
	return q;
}

static inline int
cur_skip(struct cur *c, size_t n)
{
	return cur_take(c, n) != NULL ? 0 : -1;
}

static inline uint8_t
cur_u8(struct cur *c)
{
	const uint8_t *q = cur_take(c, 1);

	return q != NULL ? q[0] : 0;
}

static inline uint16_t
cur_be16(struct cur *c)
{
	const uint8_t *q = cur_take(c, 2);

	return q != NULL ? (uint16_t)((unsigned)q[0] << 8 | q[1]) : 0;
}

static inline uint32_t
cur_be32(struct cur *c)
{
	const uint8_t *q = cur_take(c, 4);

	return q != NULL ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
		(uint32_t)q[2] << 8 | q[3]
			 : 0;
}

static inline uint64_t
cur_be64(struct cur *c)
{
	const uint8_t *q = cur_take(c, 8);
	uint64_t       v = 0;
	int	       i;

	if (q != NULL)
		for (i = 0; i < 8; i++)
			v = v << 8 | q[i];
	return v;
}

static inline uint16_t
cur_le16(struct cur *c)
{
	const uint8_t *q = cur_take(c, 2);

	return q != NULL ? (uint16_t)((unsigned)q[1] << 8 | q[0]) : 0;
}

static inline uint32_t
cur_le32(struct cur *c)
{
	const uint8_t *q = cur_take(c, 4);

	return q != NULL ? (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 |
		(uint32_t)q[1] << 8 | q[0]
			 : 0;
}

/* Copy n bytes out; on a short read the destination is zero-filled. */
static inline int
cur_bytes(struct cur *c, void *dst, size_t n)
{
	const uint8_t *q = cur_take(c, n);

	if (q == NULL) {
		memset(dst, 0, n);
		return -1;
	}
	memcpy(dst, q, n);
	return 0;
}

/*
 * Carve the next n bytes into a child cursor and advance the parent past
 * them.  On a short read the child is empty and both carry the error.
 */
static inline int
cur_sub(struct cur *parent, size_t n, struct cur *child)
{
	const uint8_t *q = cur_take(parent, n);

	cur_init(child, q, q != NULL ? n : 0);
	if (q == NULL) {
		child->err = 1;
		return -1;
	}
	return 0;
}

/* Peek without consuming; zero and no error when out of range. */
static inline uint8_t
cur_peek_u8(const struct cur *c, size_t at)
{
	if (c->err || at >= c->len - c->off)
		return 0;
	return c->p[c->off + at];
}

#endif /* SENSORD_CURSOR_H */
