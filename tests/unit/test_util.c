/* Unit tests for util.c: addresses, CIDRs, time parsing and formatting. */
#include <arpa/inet.h>
#include <string.h>

#include "t.h"
#include "util.h"

/* 1 when addr_fmt and inet_ntop write a differently. */
static int
fmt_differs(const uint8_t a[16])
{
	char got[64], want[64];

	addr_fmt(a, got);
	if (addr_is_v4(a))
		inet_ntop(AF_INET, a + 12, want, sizeof(want));
	else
		inet_ntop(AF_INET6, a, want, sizeof(want));
	return strcmp(got, want) != 0;
}

int
main(void)
{
	uint8_t a[16];
	char buf[64];
	struct cidr c;
	uint64_t us;

	T_EQ_INT(addr_parse("192.0.2.1", a), 0, "parse v4");
	T_OK(addr_is_v4(a), "v4 is mapped");
	addr_fmt(a, buf);
	T_EQ_STR(buf, "192.0.2.1", "format v4");
	T_EQ_INT(addr_parse("2001:db8::1", a), 0, "parse v6");
	T_OK(!addr_is_v4(a), "v6 not mapped");
	addr_fmt(a, buf);
	T_EQ_STR(buf, "2001:db8::1", "format v6");
	/*
	 * addr_fmt = inet_ntop, byte for byte: random addresses with zero
	 * groups sprinkled (every run length and position), every one- and
	 * two-group pattern over a zero or 0xffff background, the embedded
	 * IPv4 forms, and every IPv4 octet value.
	 */
	{
		uint64_t rng = 88172645463325252ULL;
		char	 want[64];
		unsigned i, j, k, bad = 0, n = 0;

		for (i = 0; i < 200000; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			for (j = 0; j < 16; j++)
				a[j] = (uint8_t)(rng >> (j * 4));
			for (j = 0; j < 8; j++)
				if ((rng >> (j + 40)) & (i % 3 ? 1 : 3))
					a[2 * j] = a[2 * j + 1] = 0;
			if (i % 7 == 0)
				a[(rng >> 20) % 16] = 0;
			if (addr_is_v4(a))
				continue;
			bad += (unsigned)fmt_differs(a);
			n++;
		}
		for (k = 0; k < 2; k++)
			for (i = 0; i < 8; i++)
				for (j = i; j < 8; j++) {
					memset(a, k ? 0xff : 0, 16);
					a[2 * i + 1] = 1;
					a[2 * j] = (uint8_t)(k ? 0 : 0xff);
					a[2 * j + 1] = (uint8_t)(k ? 0 : 0xff);
					if (addr_is_v4(a))
						continue;
					bad += (unsigned)fmt_differs(a);
					n++;
				}
		for (i = 0; i < 256; i++) {
			for (j = 0; j < 4; j++) {
				if (j == 0)
					snprintf(want, sizeof(want),
					    "::%u.0.10.255", i);
				else if (j == 1)
					snprintf(want, sizeof(want),
					    "::ffff:0:%u.0.10.1", i);
				else if (j == 2)
					snprintf(want, sizeof(want),
					    "::1:%u.0.0.1", i);
				else
					snprintf(want, sizeof(want),
					    "::0.0.0.%u", i);
				if (inet_pton(AF_INET6, want, a) != 1)
					continue;
				bad += (unsigned)fmt_differs(a);
				n++;
			}
			memcpy(a, (const uint8_t[12]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				      0xff, 0xff},
			    12);
			a[12] = (uint8_t)i, a[13] = 0, a[14] = 99, a[15] = 255;
			bad += (unsigned)fmt_differs(a);
			n++;
		}
		T_OK(bad == 0 && n > 150000,
		    "addr_fmt = inet_ntop on %u addresses (%u differ)", n, bad);
	}
	T_EQ_INT(addr_parse("300.1.1.1", a), -1, "bad v4 refused");
	T_EQ_INT(addr_parse("", a), -1, "empty refused");

	T_EQ_INT(cidr_parse("10.0.0.0/8", &c), 0, "cidr v4");
	T_EQ_INT(c.len, 104, "v4 prefix in mapped form");
	T_EQ_INT(cidr_user_len(&c), 8, "user length");
	addr_parse("10.200.3.4", a);
	T_OK(cidr_match(&c, a), "10.200.3.4 in 10/8");
	addr_parse("11.0.0.1", a);
	T_OK(!cidr_match(&c, a), "11.0.0.1 not in 10/8");
	addr_parse("::ffff:10.0.0.1", a);
	T_OK(cidr_match(&c, a), "mapped form matches");
	T_EQ_INT(cidr_parse("10.1.2.3/8", &c), -1, "host bits refused");
	T_EQ_INT(cidr_parse("10.0.0.0/33", &c), -1, "v4 /33 refused");
	T_EQ_INT(cidr_parse("10.0.0.0/", &c), -1, "empty length refused");
	T_EQ_INT(cidr_parse("fc00::/7", &c), 0, "cidr v6");
	addr_parse("fd12::1", a);
	T_OK(cidr_match(&c, a), "fd12::1 in fc00::/7");
	cidr_fmt(&c, buf, sizeof(buf));
	T_EQ_STR(buf, "fc00::/7", "cidr format v6");
	T_EQ_INT(cidr_parse("192.0.2.7", &c), 0, "bare address");
	cidr_fmt(&c, buf, sizeof(buf));
	T_EQ_STR(buf, "192.0.2.7/32", "bare address is a host prefix");
	T_EQ_INT(cidr_parse("0.0.0.0/0", &c), 0, "v4 default");
	addr_parse("2001:db8::1", a);
	T_OK(!cidr_match(&c, a), "v4 /0 does not match v6");

	T_EQ_INT(time_parse("1764439200", &us), 0, "epoch");
	T_EQ_U64(us, 1764439200000000ull, "epoch value");
	T_EQ_INT(time_parse("1764439200.25", &us), 0, "epoch fraction");
	T_EQ_U64(us, 1764439200250000ull, "epoch fraction value");
	T_EQ_INT(time_parse("2025-11-29T18:00:00Z", &us), 0, "rfc3339 Z");
	T_EQ_U64(us, 1764439200000000ull, "rfc3339 value");
	T_EQ_INT(time_parse("2025-11-29T19:00:00+01:00", &us), 0, "offset");
	T_EQ_U64(us, 1764439200000000ull, "offset applied");
	T_EQ_INT(time_parse("2025-11-29T18:00:00.5Z", &us), 0, "fraction");
	T_EQ_U64(us, 1764439200500000ull, "fraction value");
	T_EQ_INT(time_parse("2000-02-29T00:00:00Z", &us), 0, "leap day");
	T_EQ_U64(us, 951782400000000ull, "leap day value");
	T_EQ_INT(time_parse("2025-13-01T00:00:00Z", &us), -1, "month 13");
	T_EQ_INT(time_parse("2025-11-29T18:00:00", &us), -1, "no zone");
	T_EQ_INT(time_parse("yesterday", &us), -1, "words refused");
	T_EQ_INT(time_parse("12x", &us), -1, "trailing junk");
	time_fmt_us(1764439200123456ull, buf, sizeof(buf));
	T_EQ_STR(buf, "2025-11-29T18:00:00.123456Z", "time format");
	T_EQ_INT((int)util_strlcpy(buf, "abcdef", 4), 6, "strlcpy length");
	T_EQ_STR(buf, "abc", "strlcpy truncates");
	return t_done();
}
