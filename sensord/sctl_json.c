/*
 * sctl_json.c: strict pull JSON reader and string writer (sctl_json.h).
 *
 * Owns nothing: the reader borrows the caller's buffer, the writer a FILE.
 * Invariants: every read goes through the cursor; each loop consumes at
 * least one byte per pass, so it is bounded by the input length; nesting
 * is bounded by SJ_DEPTH_MAX, so sj_skip's recursion is too.  After the
 * first error every call returns -1 (or SJ_NONE / 0) and reads nothing.
 * Cost: one pass over the bytes, no allocation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sctl_json.h"
#include "util.h"

void
sj_init(struct sj *j, const uint8_t *p, size_t len)
{
	cur_init(&j->c, p, len);
	j->depth = 0;
	j->is_first = 0;
	j->err = NULL;
}

int
sj_fail(struct sj *j, const char *why)
{
	if (j->err == NULL)
		j->err = why;
	return -1;
}

static void
skip_ws(struct sj *j)
{
	uint8_t b;

	while (cur_left(&j->c) > 0 &&
	    ((b = cur_peek_u8(&j->c, 0)) == ' ' || b == '\t' || b == '\n' ||
		b == '\r'))
		(void)cur_skip(&j->c, 1);
}

enum sj_type
sj_peek(struct sj *j)
{
	if (j->err != NULL)
		return SJ_NONE;
	skip_ws(j);
	if (cur_left(&j->c) == 0)
		return SJ_NONE;
	switch (cur_peek_u8(&j->c, 0)) {
	case '{':
		return SJ_OBJECT;
	case '[':
		return SJ_ARRAY;
	case '"':
		return SJ_STRING;
	case 't':
	case 'f':
		return SJ_BOOL;
	case 'n':
		return SJ_NULL;
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return SJ_NUMBER;
	default:
		return SJ_NONE;
	}
}

static int
open_level(struct sj *j, enum sj_type t, const char *why)
{
	if (sj_peek(j) != t)
		return sj_fail(j, why);
	if (j->depth >= SJ_DEPTH_MAX)
		return sj_fail(j, "nested too deeply");
	(void)cur_skip(&j->c, 1);
	j->depth++;
	j->is_first |= 1u << j->depth;
	return 0;
}

int
sj_object(struct sj *j)
{
	return open_level(j, SJ_OBJECT, "expected an object");
}

int
sj_array(struct sj *j)
{
	return open_level(j, SJ_ARRAY, "expected an array");
}

/*
 * Before the next member of the open object or array: 1 when one follows
 * (the comma, if any, consumed), 0 when `close` ended the level.
 */
static int
next_member(struct sj *j, uint8_t close)
{
	uint32_t bit = 1u << j->depth;
	uint8_t	 b;

	if (j->err != NULL)
		return -1;
	if (j->depth == 0)
		return sj_fail(j, "not inside an object or array");
	skip_ws(j);
	b = cur_peek_u8(&j->c, 0);
	if (b == close) {
		(void)cur_skip(&j->c, 1);
		j->is_first &= ~bit;
		j->depth--;
		return 0;
	}
	if (j->is_first & bit) {
		j->is_first &= ~bit;
		return 1;
	}
	if (b != ',')
		return sj_fail(j,
		    close == '}' ? "expected ',' or '}'"
				 : "expected ',' or ']'");
	(void)cur_skip(&j->c, 1);
	/* No trailing comma: a value must follow, the caller reads it. */
	skip_ws(j);
	if (cur_peek_u8(&j->c, 0) == close)
		return sj_fail(j, "trailing comma");
	return 1;
}

int
sj_key(struct sj *j, char *key, size_t size)
{
	int r;

	if ((r = next_member(j, '}')) != 1)
		return r;
	if (sj_string(j, key, size) != 0)
		return -1;
	skip_ws(j);
	if (cur_u8(&j->c) != ':')
		return sj_fail(j, "expected ':'");
	return 1;
}

int
sj_more(struct sj *j)
{
	return next_member(j, ']');
}

static int
hexval(uint8_t b)
{
	if (b >= '0' && b <= '9')
		return b - '0';
	if (b >= 'a' && b <= 'f')
		return b - 'a' + 10;
	if (b >= 'A' && b <= 'F')
		return b - 'A' + 10;
	return -1;
}

int
sj_string(struct sj *j, char *buf, size_t size)
{
	size_t	 n = 0;
	unsigned u;
	uint8_t	 b;
	int	 i, h;

	if (sj_peek(j) != SJ_STRING)
		return sj_fail(j, "expected a string");
	(void)cur_skip(&j->c, 1);
	for (;;) {
		b = cur_u8(&j->c);
		if (!cur_ok(&j->c))
			return sj_fail(j, "unterminated string");
		if (b == '"')
			break;
		if (b == '\\') {
			b = cur_u8(&j->c);
			if (b == 'u') {
				u = 0;
				for (i = 0; i < 4; i++) {
					if ((h = hexval(cur_u8(&j->c))) < 0)
						return sj_fail(
						    j, "bad \\u escape");
					u = u << 4 | (unsigned)h;
				}
				b = u < 0x80 ? (uint8_t)u : 0;
			} else if (b != '"' && b != '\\' && b != '/')
				return sj_fail(j, "unsupported escape");
		}
		/* Printable ASCII only (see sctl_json.h). */
		if (b < 0x20 || b >= 0x7f)
			return sj_fail(j, "string is not printable ASCII");
		if (n + 1 >= size)
			return sj_fail(j, "string too long");
		buf[n++] = (char)b;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * One RFC 8259 number token into tok (NUL-terminated).  *is_int when it
 * has neither sign, fraction nor exponent.
 */
static int
number_token(struct sj *j, char *tok, size_t size, int *is_int)
{
	size_t	n = 0, nd;
	uint8_t b;

	if (sj_peek(j) != SJ_NUMBER)
		return sj_fail(j, "expected a number");
	*is_int = 1;
#define TAKE() \
	do { \
		if (n + 1 >= size) \
			return sj_fail(j, "number too long"); \
		tok[n++] = (char)cur_u8(&j->c); \
	} while (0)
	if (cur_peek_u8(&j->c, 0) == '-') {
		*is_int = 0;
		TAKE();
	}
	for (nd = 0; (b = cur_peek_u8(&j->c, 0)) >= '0' && b <= '9'; nd++) {
		if (nd == 1 && tok[n - 1] == '0')
			return sj_fail(j, "leading zero");
		TAKE();
	}
	if (nd == 0)
		return sj_fail(j, "expected a digit");
	if (cur_peek_u8(&j->c, 0) == '.') {
		*is_int = 0;
		TAKE();
		for (nd = 0; (b = cur_peek_u8(&j->c, 0)) >= '0' && b <= '9';
		     nd++)
			TAKE();
		if (nd == 0)
			return sj_fail(j, "expected a fraction digit");
	}
	if ((b = cur_peek_u8(&j->c, 0)) == 'e' || b == 'E') {
		*is_int = 0;
		TAKE();
		if ((b = cur_peek_u8(&j->c, 0)) == '+' || b == '-')
			TAKE();
		for (nd = 0; (b = cur_peek_u8(&j->c, 0)) >= '0' && b <= '9';
		     nd++)
			TAKE();
		if (nd == 0)
			return sj_fail(j, "expected an exponent digit");
	}
#undef TAKE
	tok[n] = '\0';
	return 0;
}

int
sj_u64(struct sj *j, uint64_t *v)
{
	char	 tok[SJ_NUM_MAX];
	uint64_t x = 0;
	unsigned d;
	int	 is_int;
	size_t	 i;

	*v = 0;
	if (number_token(j, tok, sizeof(tok), &is_int) != 0)
		return -1;
	if (!is_int)
		return sj_fail(j, "expected an unsigned integer");
	for (i = 0; tok[i] != '\0'; i++) {
		d = (unsigned)(tok[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return sj_fail(j, "integer too large");
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int
sj_double(struct sj *j, double *v)
{
	char tok[SJ_NUM_MAX];
	int  is_int;

	*v = 0;
	if (number_token(j, tok, sizeof(tok), &is_int) != 0)
		return -1;
	/* The token is a valid JSON number, which strtod accepts whole. */
	*v = strtod(tok, NULL);
	if (!isfinite(*v))
		return sj_fail(j, "number out of range");
	return 0;
}

static int
literal(struct sj *j, const char *lit)
{
	size_t	       n = strlen(lit);
	const uint8_t *p = cur_take(&j->c, n);

	if (p == NULL || memcmp(p, lit, n) != 0)
		return sj_fail(j, "bad literal");
	return 0;
}

int
sj_bool(struct sj *j, int *v)
{
	*v = 0;
	if (sj_peek(j) != SJ_BOOL)
		return sj_fail(j, "expected true or false");
	if (cur_peek_u8(&j->c, 0) == 't') {
		*v = 1;
		return literal(j, "true");
	}
	return literal(j, "false");
}

int
sj_null(struct sj *j)
{
	if (sj_peek(j) != SJ_NULL)
		return 0;
	return literal(j, "null") == 0 ? 1 : 0;
}

int
sj_skip(struct sj *j)
{
	char   buf[256];
	double d;
	int    r, b;

	switch (sj_peek(j)) {
	case SJ_OBJECT:
		if (sj_object(j) != 0)
			return -1;
		while ((r = sj_key(j, buf, sizeof(buf))) == 1)
			if (sj_skip(j) != 0)
				return -1;
		return r;
	case SJ_ARRAY:
		if (sj_array(j) != 0)
			return -1;
		while ((r = sj_more(j)) == 1)
			if (sj_skip(j) != 0)
				return -1;
		return r;
	case SJ_STRING:
		return sj_string(j, buf, sizeof(buf));
	case SJ_NUMBER:
		return sj_double(j, &d);
	case SJ_BOOL:
		return sj_bool(j, &b);
	case SJ_NULL:
		return sj_null(j) == 1 ? 0 : -1;
	case SJ_NONE:
		break;
	}
	return sj_fail(j, "expected a value");
}

int
sj_end(struct sj *j)
{
	if (j->err != NULL)
		return -1;
	skip_ws(j);
	if (cur_left(&j->c) != 0)
		return sj_fail(j, "junk after the value");
	return 0;
}

void
sj_put_str(FILE *f, const uint8_t *s, size_t n)
{
	size_t	i = 0, k;
	uint8_t c;

	fputc('"', f);
	while (i < n) {
		c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			fputc(c, f);
			i++;
		} else if (c >= 0x80 && (k = util_utf8_len(s + i, n - i)) > 0) {
			fwrite(s + i, 1, k, f);
			i += k;
		} else {
			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c == '\n')
				fputs("\\n", f);
			else if (c == '\t')
				fputs("\\t", f);
			else if (c == '\r')
				fputs("\\r", f);
			else
				fprintf(f, "\\u%04x", c);
			i++;
		}
	}
	fputc('"', f);
}
