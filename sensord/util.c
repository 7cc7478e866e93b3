/*
 * util.c: see util.h.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int
addr_is_v4(const uint8_t addr[16])
{
	return memcmp(addr, v4mapped, sizeof(v4mapped)) == 0;
}

static char *
fmt_dotted(char *p, const uint8_t *b)
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	return p - 1;
}

/*
 * inet_ntop(AF_INET6) to the byte (glibc's, from BIND; test_util checks
 * it against the real one), without its sprintf per group: the flow log
 * formats two addresses per IPv6 record.  The longest run of two or more
 * zero groups (the first of equal ones) becomes "::"; the IPv4-compatible
 * and -mapped forms end in dotted IPv4.
 */
static void
fmt_v6(const uint8_t a[16], char *p)
{
	static const char hex[] = "0123456789abcdef";
	unsigned	  w[8], i, base = 8, len = 0, cb = 8, cl = 0;

	for (i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (i = 0; i < 8; i++) {
		if (w[i] == 0) {
			if (cl++ == 0)
				cb = i;
			if (cl > len) {
				base = cb;
				len = cl;
			}
		} else
			cl = 0;
	}
	if (len < 2)
		base = 8;
	for (i = 0; i < 8; i++) {
		if (i >= base && i < base + len) {
			if (i == base)
				*p++ = ':';
			continue;
		}
		if (i != 0)
			*p++ = ':';
		if (i == 6 && base == 0 &&
		    (len == 6 || (len == 7 && w[7] != 0x0001) ||
			(len == 5 && w[5] == 0xffff))) {
			fmt_dotted(p, a + 12);
			return;
		}
		if (w[i] >= 0x1000)
			*p++ = hex[w[i] >> 12];
		if (w[i] >= 0x100)
			*p++ = hex[(w[i] >> 8) & 15];
		if (w[i] >= 0x10)
			*p++ = hex[(w[i] >> 4) & 15];
		*p++ = hex[w[i] & 15];
	}
	if (base != 8 && base + len == 8)
		*p++ = ':';
	*p = '\0';
}

void
addr_fmt(const uint8_t addr[16], char buf[ADDR_STRLEN])
{
	if (addr_is_v4(addr))
		fmt_dotted(buf, addr + 12);
	else
		fmt_v6(addr, buf);
}

int
addr_parse(const char *s, uint8_t addr[16])
{
	if (inet_pton(AF_INET, s, addr + 12) == 1) {
		memcpy(addr, v4mapped, sizeof(v4mapped));
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1)
		return 0;
	errno = EINVAL;
	return -1;
}

int
cidr_parse(const char *s, struct cidr *c)
{
	char buf[64], *slash, *end;
	long n;
	int  is_v4, max, i;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	util_strlcpy(buf, s, sizeof(buf));
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (addr_parse(buf, c->addr) != 0)
		goto bad;
	is_v4 = strchr(buf, ':') == NULL;
	max = is_v4 ? 32 : 128;
	n = max;
	if (slash != NULL) {
		if (*slash < '0' || *slash > '9')
			goto bad;
		errno = 0;
		n = strtol(slash, &end, 10);
		if (errno != 0 || *end != '\0' || n < 0 || n > max)
			goto bad;
	}
	c->len = (uint8_t)(is_v4 ? 96 + n : n);
	/* Host bits must be clear. */
	for (i = c->len; i < 128; i++)
		if (c->addr[i / 8] & (0x80 >> (i % 8)))
			goto bad;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* Bits [from, 64) of a 64-bit half set for a prefix of len bits. */
static uint64_t
prefix_mask(unsigned len, unsigned from)
{
	if (len <= from)
		return 0;
	if (len - from >= 64)
		return ~(uint64_t)0;
	return ~(uint64_t)0 << (64 - (len - from));
}

void
cidr_mask_make(const struct cidr *c, struct cidr_mask *m)
{
	unsigned len = c->len > 128 ? 128u : c->len;

	/* Masks as big-endian numbers, stored as their bytes lie. */
	m->mhi = htobe64(prefix_mask(len, 0));
	m->mlo = htobe64(prefix_mask(len, 64));
	memcpy(&m->hi, c->addr, 8);
	memcpy(&m->lo, c->addr + 8, 8);
	m->hi &= m->mhi;
	m->lo &= m->mlo;
}

int
cidr_match(const struct cidr *c, const uint8_t addr[16])
{
	struct cidr_mask m;

	cidr_mask_make(c, &m);
	return cidr_mask_match(&m, addr);
}

int
cidr_user_len(const struct cidr *c)
{
	return addr_is_v4(c->addr) && c->len >= 96 ? c->len - 96 : c->len;
}

void
cidr_fmt(const struct cidr *c, char *buf, size_t size)
{
	char a[ADDR_STRLEN];

	addr_fmt(c->addr, a);
	snprintf(buf, size, "%s/%d", a, cidr_user_len(c));
}

void
time_fmt_us(uint64_t ts_us, char *buf, size_t size)
{
	time_t	  t = (time_t)(ts_us / 1000000);
	struct tm tm;
	char	  d[32];

	gmtime_r(&t, &tm);
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06uZ", d, (unsigned)(ts_us % 1000000));
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t	 era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;
	int	 i;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Optional ".ffffff" (up to 9 digits, kept to microseconds). */
static void
fraction(const char **p, uint64_t *us)
{
	uint64_t scale = 100000;

	*us = 0;
	if (**p != '.')
		return;
	(*p)++;
	while (**p >= '0' && **p <= '9') {
		*us += (uint64_t)(**p - '0') * scale;
		scale /= 10;
		(*p)++;
	}
}

int
time_parse(const char *s, uint64_t *us)
{
	const char *p = s;
	unsigned    y, mo, d, h, mi, sec, oh, om;
	uint64_t    frac;
	int64_t	    t;

	if (*s == '\0')
		return -1;
	if (strchr(s, '-') == NULL) { /* epoch seconds */
		uint64_t v = 0;

		while (*p >= '0' && *p <= '9') {
			if (v > UINT64_MAX / 10 / 1000000)
				return -1;
			v = v * 10 + (uint64_t)(*p - '0');
			p++;
		}
		if (p == s)
			return -1;
		fraction(&p, &frac);
		if (*p != '\0')
			return -1;
		*us = v * 1000000 + frac;
		return 0;
	}
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d) ||
	    (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970)
		return -1;
	fraction(&p, &frac);
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		int sign = *p == '+' ? -1 : 1;

		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		t += sign * (int64_t)(oh * 3600 + om * 60);
	} else
		return -1;
	if (*p != '\0' || t < 0)
		return -1;
	*us = (uint64_t)t * 1000000 + frac;
	return 0;
}

size_t
util_utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t	need, i;

	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* <= U+10FFFF */
	} else
		return 0;
	if (n < need + 1 || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need + 1;
}
