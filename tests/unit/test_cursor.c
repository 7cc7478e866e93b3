/*
 * test_cursor.c: every function of cursor.h, its sticky error, zero-fill
 * on short reads, sub-cursor bounds and the byte order of each load.
 */
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "t.h"

static const uint8_t buf[] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
};

static void
test_init(void)
{
	struct cur c;

	cur_init(&c, buf, sizeof(buf));
	T_OK(cur_ok(&c), "init: ok");
	T_EQ_U64(cur_left(&c), 16, "init: left");
	T_EQ_U64(cur_off(&c), 0, "init: off");
	T_OK(cur_ptr(&c) == buf, "init: ptr at start");

	/* A NULL buffer is an empty one, whatever length is claimed. */
	cur_init(&c, NULL, 100);
	T_OK(cur_ok(&c), "init NULL: ok");
	T_EQ_U64(cur_left(&c), 0, "init NULL: left 0");
	T_OK(cur_take(&c, 1) == NULL, "init NULL: take fails");
	T_OK(!cur_ok(&c), "init NULL: error after read");

	/* Reading zero bytes from an empty cursor is fine. */
	cur_init(&c, buf, 0);
	T_OK(cur_take(&c, 0) != NULL, "empty: take 0");
	T_OK(cur_ok(&c), "empty: still ok");

	/* Re-init clears a previous error. */
	cur_init(&c, buf, 1);
	cur_be16(&c);
	T_OK(!cur_ok(&c), "reinit: error set");
	cur_init(&c, buf, 1);
	T_OK(cur_ok(&c), "reinit: error cleared");
}

static void
test_loads(void)
{
	struct cur c;

	cur_init(&c, buf, sizeof(buf));
	T_EQ_U64(cur_u8(&c), 0x01, "u8");
	T_EQ_U64(cur_be16(&c), 0x0203, "be16");
	T_EQ_U64(cur_off(&c), 3, "off after u8+be16");
	T_EQ_U64(cur_be32(&c), 0x04050607, "be32");
	T_EQ_U64(cur_left(&c), 9, "left after 7");
	T_EQ_U64(cur_be64(&c), 0x08090a0b0c0d0e0fULL, "be64");
	T_EQ_U64(cur_u8(&c), 0x10, "last byte");
	T_EQ_U64(cur_left(&c), 0, "all read");
	T_OK(cur_ok(&c), "exact end is not an error");

	cur_init(&c, buf, sizeof(buf));
	T_EQ_U64(cur_le16(&c), 0x0201, "le16");
	T_EQ_U64(cur_le32(&c), 0x06050403, "le32");

	/* High bits must not sign-extend. */
	{
		static const uint8_t ff[8] = { 0xff, 0xfe, 0x80, 0x00,
		    0x80, 0x00, 0x00, 0x01 };

		cur_init(&c, ff, sizeof(ff));
		T_EQ_U64(cur_be16(&c), 0xfffe, "be16 high bits");
		T_EQ_U64(cur_le16(&c), 0x0080, "le16 high bits");
		T_EQ_U64(cur_be32(&c), 0x80000001, "be32 high bit");
		cur_init(&c, ff, sizeof(ff));
		T_EQ_U64(cur_be64(&c), 0xfffe800080000001ULL, "be64 high");
		cur_init(&c, ff, sizeof(ff));
		T_EQ_U64(cur_le32(&c), 0x0080feff, "le32 high bits");
		T_EQ_U64(cur_le32(&c), 0x01000080, "le32 top byte");
	}
}

static void
test_sticky(void)
{
	struct cur c;

	/* A short read fails, returns 0 and poisons every later read. */
	cur_init(&c, buf, 3);
	T_EQ_U64(cur_be16(&c), 0x0102, "sticky: first read");
	T_EQ_U64(cur_be32(&c), 0, "sticky: short be32 is 0");
	T_OK(!cur_ok(&c), "sticky: error set");
	T_EQ_U64(cur_off(&c), 2, "sticky: offset not advanced");
	T_EQ_U64(cur_left(&c), 0, "sticky: left is 0 after error");
	T_EQ_U64(cur_u8(&c), 0, "sticky: u8 fails though a byte is left");
	T_OK(!cur_ok(&c), "sticky: still in error");
	T_EQ_INT(cur_skip(&c, 0), -1, "sticky: even skip 0 fails");
	T_OK(cur_take(&c, 0) == NULL, "sticky: take 0 fails");
	T_EQ_U64(cur_peek_u8(&c, 0), 0, "sticky: peek 0");

	/* Every load kind fails the same way on a short buffer. */
	cur_init(&c, buf, 1);
	T_EQ_U64(cur_be16(&c), 0, "short be16");
	cur_init(&c, buf, 3);
	T_EQ_U64(cur_be32(&c), 0, "short be32");
	/*
	 * be64 is built from two be32 loads: with 4..7 bytes left the first
	 * half must not leak out, nor move the offset.
	 */
	cur_init(&c, buf, 7);
	T_EQ_U64(cur_be64(&c), 0, "short be64 (7 bytes) is 0");
	T_OK(!cur_ok(&c), "short be64: error");
	T_EQ_U64(cur_off(&c), 0, "short be64: offset not advanced");
	cur_init(&c, buf, 3);
	T_EQ_U64(cur_be64(&c), 0, "short be64 (3 bytes) is 0");
	cur_init(&c, buf, 1);
	T_EQ_U64(cur_le16(&c), 0, "short le16");
	cur_init(&c, buf, 3);
	T_EQ_U64(cur_le32(&c), 0, "short le32");
	cur_init(&c, buf, 0);
	T_EQ_U64(cur_u8(&c), 0, "short u8");
	T_OK(!cur_ok(&c), "short u8: error");
}

static void
test_take_skip(void)
{
	struct cur c;
	const uint8_t *q;

	cur_init(&c, buf, sizeof(buf));
	q = cur_take(&c, 4);
	T_OK(q == buf, "take: points at start");
	T_OK(cur_ptr(&c) == buf + 4, "take: ptr advanced");
	T_EQ_INT(cur_skip(&c, 10), 0, "skip 10");
	T_EQ_U64(cur_left(&c), 2, "skip: left 2");
	T_EQ_INT(cur_skip(&c, 3), -1, "skip past end");
	T_OK(!cur_ok(&c), "skip past end: error");

	/* Huge lengths must not wrap the offset arithmetic. */
	cur_init(&c, buf, sizeof(buf));
	cur_u8(&c);
	T_OK(cur_take(&c, SIZE_MAX) == NULL, "take SIZE_MAX fails");
	T_OK(!cur_ok(&c), "take SIZE_MAX: error");
	cur_init(&c, buf, sizeof(buf));
	cur_u8(&c);
	T_EQ_INT(cur_skip(&c, SIZE_MAX - 1), -1, "skip SIZE_MAX-1 fails");
	T_EQ_U64(cur_off(&c), 1, "skip SIZE_MAX-1: offset kept");
}

static void
test_bytes(void)
{
	struct cur c;
	uint8_t out[8];

	cur_init(&c, buf, sizeof(buf));
	T_EQ_INT(cur_bytes(&c, out, 4), 0, "bytes: 4 ok");
	T_EQ_MEM(out, buf, 4, "bytes: copied");
	T_EQ_U64(cur_off(&c), 4, "bytes: advanced");

	/* A short copy zero-fills the whole destination. */
	memset(out, 0xaa, sizeof(out));
	cur_init(&c, buf, 5);
	T_EQ_INT(cur_bytes(&c, out, 8), -1, "bytes: short fails");
	{
		static const uint8_t zero[8];

		T_EQ_MEM(out, zero, 8, "bytes: zero-filled on failure");
	}
	T_OK(!cur_ok(&c), "bytes: error set");
	memset(out, 0xaa, sizeof(out));
	T_EQ_INT(cur_bytes(&c, out, 1), -1, "bytes: sticky after error");
	T_EQ_U64(out[0], 0, "bytes: sticky zero-fill");
}

static void
test_sub(void)
{
	struct cur c, s, s2;

	cur_init(&c, buf, sizeof(buf));
	cur_u8(&c);
	T_EQ_INT(cur_sub(&c, 4, &s), 0, "sub: carve 4");
	T_EQ_U64(cur_off(&c), 5, "sub: parent advanced past child");
	T_EQ_U64(cur_left(&s), 4, "sub: child has 4");
	T_OK(cur_ptr(&s) == buf + 1, "sub: child starts at parent offset");
	T_EQ_U64(cur_be32(&s), 0x02030405, "sub: child reads its bytes");
	T_OK(cur_ok(&s), "sub: child ok at its end");
	/* The child cannot read into bytes the parent still has. */
	T_EQ_U64(cur_u8(&s), 0, "sub: child bounded");
	T_OK(!cur_ok(&s), "sub: child error");
	T_OK(cur_ok(&c), "sub: child error does not reach parent");
	T_EQ_U64(cur_u8(&c), 0x06, "sub: parent continues after child");

	/* Nested children are bounded by their parent's window. */
	cur_init(&c, buf, sizeof(buf));
	cur_sub(&c, 6, &s);
	T_EQ_INT(cur_sub(&s, 7, &s2), -1, "sub of sub: too long");
	T_OK(!cur_ok(&s), "sub of sub: parent error");
	T_OK(!cur_ok(&s2), "sub of sub: child error");
	T_EQ_U64(cur_left(&s2), 0, "sub of sub: child empty");
	T_OK(cur_ok(&c), "sub of sub: grandparent untouched");

	/* A short carve leaves both in error and the child empty. */
	cur_init(&c, buf, 3);
	T_EQ_INT(cur_sub(&c, 4, &s), -1, "sub: short fails");
	T_OK(!cur_ok(&c), "sub: parent error");
	T_OK(!cur_ok(&s), "sub: child error");
	T_EQ_U64(cur_left(&s), 0, "sub: child empty");
	T_EQ_U64(cur_u8(&s), 0, "sub: child reads 0");

	/* A zero-length child is valid and empty. */
	cur_init(&c, buf, 2);
	T_EQ_INT(cur_sub(&c, 0, &s), 0, "sub 0: ok");
	T_EQ_U64(cur_left(&s), 0, "sub 0: empty");
	T_OK(cur_ok(&s), "sub 0: child ok");
	cur_u8(&s);
	T_OK(!cur_ok(&s), "sub 0: any read fails");
}

static void
test_peek(void)
{
	struct cur c;

	cur_init(&c, buf, 4);
	cur_u8(&c);
	T_EQ_U64(cur_peek_u8(&c, 0), 0x02, "peek 0 is next byte");
	T_EQ_U64(cur_peek_u8(&c, 2), 0x04, "peek 2");
	T_EQ_U64(cur_off(&c), 1, "peek does not consume");
	T_EQ_U64(cur_peek_u8(&c, 3), 0, "peek past window is 0");
	T_OK(cur_ok(&c), "peek past window sets no error");
	T_EQ_U64(cur_peek_u8(&c, SIZE_MAX), 0, "peek SIZE_MAX is 0");
	T_OK(cur_ok(&c), "peek SIZE_MAX: no error");
}

int
main(void)
{
	test_init();
	test_loads();
	test_sticky();
	test_take_skip();
	test_bytes();
	test_sub();
	test_peek();
	return t_done();
}
