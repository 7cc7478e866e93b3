/* Unit tests for the control protocol (ctlproto.c). */
#include <stdio.h>
#include <string.h>

#include "ctlproto.h"
#include "t.h"

static struct ctlp_out o;
static struct ctlp_msg m;

static int
decode(const uint8_t *b, size_t n, const char **why)
{
	*why = NULL;
	return ctlp_decode(b, n, &m, why);
}

int
main(int argc, char **argv)
{
	const char *why;
	char s[64];
	uint64_t v;
	uint8_t bad[CTLP_MAX_MSG + 16];
	int i;

	ctlp_begin(&o, CTLP_REQ_ESCALATE);
	ctlp_str(&o, "host", "192.0.2.7");
	ctlp_u64(&o, "for_s", 600);
	ctlp_str(&o, "reason", "analyst request");
	T_EQ_INT(ctlp_end(&o), 0, "encode escalate");
	T_EQ_INT(decode(o.buf, o.len, &why), 0, "decode it back");
	T_EQ_INT(m.type, CTLP_REQ_ESCALATE, "type");
	T_EQ_INT(m.n, 3, "three fields");
	T_EQ_INT(ctlp_get_str(&m, "host", s, sizeof(s)), 0, "host field");
	T_EQ_STR(s, "192.0.2.7", "host value");
	T_EQ_INT(ctlp_get_u64(&m, "for_s", &v), 0, "for_s field");
	T_EQ_U64(v, 600, "for_s value");
	T_EQ_INT(ctlp_get_u64(&m, "host", &v), -1, "kind mismatch refused");
	T_OK(ctlp_find(&m, "nope") == NULL, "absent key");
	T_EQ_INT(ctlp_get_str(&m, "reason", s, 4), -1, "too small buffer");

	/* Every prefix of a valid message is refused, none crashes. */
	for (i = 0; i < (int)o.len; i++)
		if (decode(o.buf, (size_t)i, &why) == 0)
			break;
	T_EQ_INT(i, (int)o.len, "every truncation refused");

	memcpy(bad, o.buf, o.len);
	bad[1] = 2;
	T_EQ_INT(decode(bad, o.len, &why), -1, "wrong version refused");
	T_EQ_STR(why, "unsupported protocol version", "version reason");
	memcpy(bad, o.buf, o.len);
	bad[3] = 99;
	T_EQ_INT(decode(bad, o.len, &why), -1, "unknown type refused");
	memcpy(bad, o.buf, o.len);
	bad[7]++;
	T_EQ_INT(decode(bad, o.len, &why), -1, "length mismatch refused");
	memcpy(bad, o.buf, o.len);
	bad[8] = 9;
	T_EQ_INT(decode(bad, o.len, &why), -1, "unknown field kind refused");
	memcpy(bad, o.buf, o.len);
	bad[10] = 'H';
	T_EQ_INT(decode(bad, o.len, &why), -1, "bad key byte refused");
	T_EQ_STR(why, "bad field key", "key reason");
	memcpy(bad, o.buf, o.len);
	bad[16] = '\0';		/* inside "192.0.2.7" */
	T_EQ_INT(decode(bad, o.len, &why), -1, "NUL in string refused");

	/* Too many fields, and an oversized message. */
	ctlp_begin(&o, CTLP_REP_RECORD);
	for (i = 0; i < CTLP_MAX_FIELDS + 1; i++)
		ctlp_u64(&o, "k", (uint64_t)i);
	T_EQ_INT(ctlp_end(&o), 0, "encoder does not count fields");
	T_EQ_INT(decode(o.buf, o.len, &why), -1, "65 fields refused");
	T_EQ_STR(why, "too many fields", "field-count reason");
	ctlp_begin(&o, CTLP_REP_RECORD);
	memset(s, 'x', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	for (i = 0; i < 400; i++)
		ctlp_str(&o, "k", s);
	T_EQ_INT(ctlp_end(&o), -1, "encoder refuses an oversized message");
	ctlp_begin(&o, CTLP_REQ_STATUS);
	ctlp_u64(&o, "Bad-Key", 1);
	T_EQ_INT(ctlp_end(&o), -1, "encoder refuses a bad key");
	T_EQ_STR(ctlp_type_name(CTLP_REQ_CAPTURES), "captures", "type name");

	/* Write the seed corpus when asked (tests/fuzz/corpus/...). */
	if (argc == 2) {
		FILE *f;
		char p[512];

		ctlp_begin(&o, CTLP_REQ_ESCALATE);
		ctlp_str(&o, "host", "2001:db8::1");
		ctlp_u64(&o, "for_s", 60);
		ctlp_end(&o);
		snprintf(p, sizeof(p), "%s/escalate", argv[1]);
		if ((f = fopen(p, "wb")) != NULL) {
			fwrite(o.buf, 1, o.len, f);
			fclose(f);
		}
		ctlp_begin(&o, CTLP_REQ_STATUS);
		ctlp_end(&o);
		snprintf(p, sizeof(p), "%s/status", argv[1]);
		if ((f = fopen(p, "wb")) != NULL) {
			fwrite(o.buf, 1, o.len, f);
			fclose(f);
		}
	}
	return t_done();
}
