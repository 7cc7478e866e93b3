/*
 * sctl_side.c: capture sidecars and spool names, parsed strictly
 * (sctl_cap.h).
 *
 * A sidecar is spool.c's "sensord-capture/1" object.  Required keys:
 * format, file, file_id, host, first_ns, last_ns, packets, bytes_gz,
 * sha256; the rest is optional (a recovered file may lack link_type and
 * the trigger), unknown keys are skipped (a newer writer may add some),
 * a key given twice is an error.  Owns: the member index array of a
 * parsed sidecar.  Cost: one pass over the text; the index grows by
 * doubling, bounded by SCTL_MEMBERS_MAX.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sctl_cap.h"
#include "spool.h"
#include "sctl_json.h"

#define SIDE_FORMAT "sensord-capture/1"

enum side_key {
	SK_FORMAT,
	SK_VERSION,
	SK_FILE,
	SK_FILE_ID,
	SK_HOST,
	SK_RECOVERED,
	SK_TRIGGER,
	SK_FIRST_PACKET,
	SK_LAST_PACKET,
	SK_FIRST_NS,
	SK_LAST_NS,
	SK_PACKETS,
	SK_BYTES_RAW,
	SK_BYTES_GZ,
	SK_SHA256,
	SK_PREV_SHA256,
	SK_PREV_FILE,
	SK_LINK_TYPE,
	SK_SNAPLEN,
	SK_TSTAMP,
	SK_MEMBERS,
	SK__COUNT
};

static const char *const side_keys[SK__COUNT] = {"format", "sensord_version",
    "file", "file_id", "host", "recovered", "trigger", "first_packet",
    "last_packet", "first_ns", "last_ns", "packets", "bytes_raw", "bytes_gz",
    "sha256", "prev_sha256", "prev_file", "link_type", "snaplen", "tstamp",
    "members"};

#define SK_REQUIRED \
	(1u << SK_FORMAT | 1u << SK_FILE | 1u << SK_FILE_ID | 1u << SK_HOST | \
	    1u << SK_FIRST_NS | 1u << SK_LAST_NS | 1u << SK_PACKETS | \
	    1u << SK_BYTES_GZ | 1u << SK_SHA256)
#define SK_LINK (1u << SK_LINK_TYPE | 1u << SK_SNAPLEN | 1u << SK_TSTAMP)

static int
hex_sha(struct sj *j, uint8_t out[SHA256_LEN])
{
	char   hex[SHA256_HEXLEN + 1];
	size_t i;
	int    hi, lo;

	if (sj_string(j, hex, sizeof(hex)) != 0)
		return -1;
	if (strlen(hex) != 2 * SHA256_LEN)
		return sj_fail(j, "sha256 is not 64 hex digits");
	for (i = 0; i < SHA256_LEN; i++) {
		hi = hex[2 * i];
		lo = hex[2 * i + 1];
		hi = hi >= '0' && hi <= '9'  ? hi - '0'
		    : hi >= 'a' && hi <= 'f' ? hi - 'a' + 10
					     : -1;
		lo = lo >= '0' && lo <= '9'  ? lo - '0'
		    : lo >= 'a' && lo <= 'f' ? lo - 'a' + 10
					     : -1;
		if (hi < 0 || lo < 0)
			return sj_fail(j, "sha256 is not lower-case hex");
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
u32_val(struct sj *j, uint32_t *v)
{
	uint64_t u;

	if (sj_u64(j, &u) != 0)
		return -1;
	if (u > UINT32_MAX)
		return sj_fail(j, "number out of range");
	*v = (uint32_t)u;
	return 0;
}

static int
parse_trigger(struct sj *j, struct sctl_side *s)
{
	static const char *const keys[] = {
	    "event_id", "metric", "reason", "value", "threshold"};
	char	 key[128];
	unsigned k, seen = 0;
	int	 r;

	if (sj_null(j))
		return 0;
	if (sj_object(j) != 0)
		return -1;
	s->has_trigger = 1;
	while ((r = sj_key(j, key, sizeof(key))) == 1) {
		for (k = 0; k < 5 && strcmp(key, keys[k]) != 0; k++)
			;
		if (k < 5 && (seen & 1u << k))
			return sj_fail(j, "duplicate key");
		seen |= 1u << k;
		switch (k) {
		case 0:
			(void)sj_u64(j, &s->event_id);
			break;
		case 1:
			(void)sj_string(j, s->metric, sizeof(s->metric));
			break;
		case 2:
			(void)sj_string(j, s->reason, sizeof(s->reason));
			break;
		case 3:
			if (!sj_null(j) && sj_double(j, &s->value) == 0)
				s->has_value = 1;
			break;
		case 4:
			if (!sj_null(j) && sj_double(j, &s->threshold) == 0)
				s->has_threshold = 1;
			break;
		default:
			(void)sj_skip(j);
			break;
		}
	}
	return r;
}

static int
parse_members(struct sj *j, struct sctl_side *s)
{
	struct sctl_member *m, *nm;
	size_t		    cap = 0;
	uint64_t	   *f[5];
	int		    r, i;

	if (sj_array(j) != 0)
		return -1;
	s->has_members = 1;
	while ((r = sj_more(j)) == 1) {
		if (s->n_members == cap) {
			if (cap >= SCTL_MEMBERS_MAX)
				return sj_fail(j, "member index too long");
			cap = cap ? cap * 2 : 16;
			nm = realloc(s->members, cap * sizeof(*nm));
			if (nm == NULL)
				return sj_fail(j, "out of memory");
			s->members = nm;
		}
		m = &s->members[s->n_members];
		f[0] = &m->off;
		f[1] = &m->len;
		f[2] = &m->first_ns;
		f[3] = &m->last_ns;
		f[4] = &m->pkts;
		if (sj_array(j) != 0)
			return -1;
		for (i = 0; i < 5; i++)
			if (sj_more(j) != 1 || sj_u64(j, f[i]) != 0)
				return sj_fail(j,
				    "member entry is not five "
				    "numbers");
		if (sj_more(j) != 0)
			return sj_fail(j, "member entry is not five numbers");
		s->n_members++;
	}
	return r;
}

static void
parse_value(struct sj *j, struct sctl_side *s, enum side_key k)
{
	char buf[32];

	switch (k) {
	case SK_FORMAT:
		if (sj_string(j, buf, sizeof(buf)) == 0 &&
		    strcmp(buf, SIDE_FORMAT) != 0)
			(void)sj_fail(j, "not a sensord-capture/1 sidecar");
		break;
	case SK_VERSION:
		(void)sj_string(j, s->version, sizeof(s->version));
		break;
	case SK_FILE:
		(void)sj_string(j, s->file, sizeof(s->file));
		break;
	case SK_FILE_ID:
		(void)sj_u64(j, &s->file_id);
		break;
	case SK_HOST:
		(void)sj_string(j, s->host, sizeof(s->host));
		break;
	case SK_RECOVERED:
		(void)sj_bool(j, &s->is_recovered);
		break;
	case SK_TRIGGER:
		(void)parse_trigger(j, s);
		break;
	case SK_FIRST_PACKET:
	case SK_LAST_PACKET:
		/* Text for people; first_ns/last_ns are what counts. */
		(void)sj_skip(j);
		break;
	case SK_FIRST_NS:
		(void)sj_u64(j, &s->first_ns);
		break;
	case SK_LAST_NS:
		(void)sj_u64(j, &s->last_ns);
		break;
	case SK_PACKETS:
		(void)sj_u64(j, &s->packets);
		break;
	case SK_BYTES_RAW:
		(void)sj_u64(j, &s->bytes_raw);
		break;
	case SK_BYTES_GZ:
		(void)sj_u64(j, &s->bytes_gz);
		break;
	case SK_SHA256:
		(void)hex_sha(j, s->sha256);
		break;
	case SK_PREV_SHA256:
		if (!sj_null(j) && hex_sha(j, s->prev_sha256) == 0)
			s->has_prev = 1;
		break;
	case SK_PREV_FILE:
		if (!sj_null(j))
			(void)sj_string(j, s->prev_file, sizeof(s->prev_file));
		break;
	case SK_LINK_TYPE:
		(void)u32_val(j, &s->link_type);
		break;
	case SK_SNAPLEN:
		(void)u32_val(j, &s->snaplen);
		break;
	case SK_TSTAMP:
		if (sj_string(j, buf, sizeof(buf)) != 0)
			break;
		if (strcmp(buf, "nsec") == 0)
			s->is_nsec = 1;
		else if (strcmp(buf, "usec") != 0)
			(void)sj_fail(j, "tstamp is neither usec nor nsec");
		break;
	case SK_MEMBERS:
		(void)parse_members(j, s);
		break;
	case SK__COUNT:
		break;
	}
}

int
sctl_side_parse(
    const uint8_t *buf, size_t len, struct sctl_side *s, const char **why)
{
	struct sj j;
	char	  key[128];
	uint32_t  seen = 0;
	unsigned  k;
	int	  r;

	memset(s, 0, sizeof(*s));
	sj_init(&j, buf, len);
	if (sj_object(&j) != 0)
		goto fail;
	while ((r = sj_key(&j, key, sizeof(key))) == 1) {
		for (k = 0; k < SK__COUNT; k++)
			if (strcmp(key, side_keys[k]) == 0)
				break;
		if (k == SK__COUNT) {
			(void)sj_skip(&j);
			continue;
		}
		if (seen & 1u << k) {
			(void)sj_fail(&j, "duplicate key");
			goto fail;
		}
		seen |= 1u << k;
		parse_value(&j, s, (enum side_key)k);
	}
	if (r != 0 || sj_end(&j) != 0)
		goto fail;
	if ((seen & SK_REQUIRED) != SK_REQUIRED) {
		(void)sj_fail(&j, "a required key is missing");
		goto fail;
	}
	s->has_link = (seen & SK_LINK) == SK_LINK;
	/*
	 * first_ns > last_ns is legal: they are the first and the last
	 * packet, and packet stamps may step back (sctl_side_span).
	 */
	*why = NULL;
	return 0;
fail:
	*why = j.err != NULL ? j.err : "malformed";
	sctl_side_free(s);
	return -1;
}

void
sctl_side_free(struct sctl_side *s)
{
	free(s->members);
	s->members = NULL;
	s->n_members = 0;
}

int
sctl_side_index_ok(const struct sctl_side *s)
{
	const struct sctl_member *m;
	uint64_t		  pkts = 0, end;
	size_t			  i;

	if (!s->has_members || s->n_members == 0)
		return 0;
	/* The metadata member comes first: data starts after offset 0. */
	end = s->members[0].off;
	if (end == 0)
		return 0;
	for (i = 0; i < s->n_members; i++) {
		m = &s->members[i];
		if (m->off != end || m->len == 0 || m->len > s->bytes_gz ||
		    m->pkts == 0 || m->pkts > s->packets - pkts)
			return 0;
		end = m->off + m->len;
		pkts += m->pkts;
	}
	/* The file's first and last packet are its members' too. */
	return end == s->bytes_gz && pkts == s->packets &&
	    s->members[0].first_ns == s->first_ns &&
	    s->members[s->n_members - 1].last_ns == s->last_ns;
}

void
sctl_member_span(const struct sctl_member *m, uint64_t *lo, uint64_t *hi)
{
	uint64_t a = m->first_ns < m->last_ns ? m->first_ns : m->last_ns;
	uint64_t b = m->first_ns < m->last_ns ? m->last_ns : m->first_ns;

	*lo = a > SCTL_SKEW_NS ? a - SCTL_SKEW_NS : 0;
	*hi = b < UINT64_MAX - SCTL_SKEW_NS ? b + SCTL_SKEW_NS : UINT64_MAX;
}

void
sctl_side_span(const struct sctl_side *s, uint64_t *lo, uint64_t *hi)
{
	uint64_t a, b;
	size_t	 i;

	*lo = 0;
	*hi = UINT64_MAX;
	if (!sctl_side_index_ok(s))
		return; /* no index to tell: any time */
	*lo = UINT64_MAX;
	*hi = 0;
	for (i = 0; i < s->n_members; i++) {
		sctl_member_span(&s->members[i], &a, &b);
		if (a < *lo)
			*lo = a;
		if (b > *hi)
			*hi = b;
	}
}

int
sctl_name_parse(const char *name, uint64_t *id, uint64_t *t_s)
{
	static const char sfx[] = ".pcap.gz";
	static const int  mdays[12] = {
	     31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned    v[6] = {0}, i, nd;
	const char *p = name;
	uint64_t    x = 0;
	int64_t	    y, m, days;

	/* YYYYmmddTHHMMSSZ: widths 4 2 2 T 2 2 2 Z. */
	for (i = 0; i < 15; i++) {
		if (i == 8) {
			if (*p++ != 'T')
				return -1;
			continue;
		}
		if (*p < '0' || *p > '9')
			return -1;
		nd = i < 4   ? 0
		    : i < 6  ? 1
		    : i < 8  ? 2
		    : i < 11 ? 3
		    : i < 13 ? 4
			     : 5;
		v[nd] = v[nd] * 10 + (unsigned)(*p++ - '0');
	}
	if (*p++ != 'Z' || *p++ != '_')
		return -1;
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    (int)v[2] > mdays[v[1] - 1] || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -1;
	for (nd = 0; *p >= '0' && *p <= '9'; p++, nd++) {
		if (nd == 19)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (nd < 10 || strcmp(p, sfx) != 0)
		return -1;
	/* Days from the civil date (H. Hinnant), as util.c does. */
	y = (int64_t)v[0] - (v[1] <= 2);
	m = (int64_t)v[1];
	days = (y / 400) * 146097 + (y % 400) * 365 + (y % 400) / 4 -
	    (y % 400) / 100 + (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 +
	    (int64_t)v[2] - 1 - 719468;
	*id = x;
	*t_s = (uint64_t)days * 86400 + v[3] * 3600u + v[4] * 60u + v[5];
	/* Past 2554 the time does not fit nanoseconds: not a name of ours. */
	if (*t_s > UINT64_MAX / 1000000000u - 2)
		return -1;
	return 0;
}

int
sctl_dir_addr(const char *name, uint8_t addr[16])
{
	return spool_dirname_addr(name, addr);
}
