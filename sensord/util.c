/*
 * util.c: see util.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

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

void
addr_fmt(const uint8_t addr[16], char buf[ADDR_STRLEN])
{
	if (addr_is_v4(addr))
		inet_ntop(AF_INET, addr + 12, buf, ADDR_STRLEN);
	else
		inet_ntop(AF_INET6, addr, buf, ADDR_STRLEN);
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
	int is_v4, max, i;

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

int
cidr_match(const struct cidr *c, const uint8_t addr[16])
{
	unsigned full = c->len / 8u, rest = c->len % 8u;
	uint8_t mask;

	if (memcmp(c->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (addr[full] & mask) == c->addr[full];
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
	time_t t = (time_t)(ts_us / 1000000);
	struct tm tm;
	char d[32];

	gmtime_r(&t, &tm);
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06uZ", d, (unsigned)(ts_us % 1000000));
}
