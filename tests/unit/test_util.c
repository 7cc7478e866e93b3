/* Unit tests for util.c: addresses, CIDRs, time parsing and formatting. */
#include <string.h>

#include "t.h"
#include "util.h"

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
