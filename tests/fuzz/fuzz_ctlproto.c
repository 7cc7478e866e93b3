/*
 * Fuzz target: the control-protocol decoder.  Any bytes a local client can
 * send; decoded fields must stay inside the input and re-encode to the same
 * bytes (a round trip catches a decoder that accepts what the encoder
 * would never produce).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctlp_msg m;
	static struct ctlp_out o;
	const char *why = NULL;
	char key[CTLP_MAX_KEY + 1], s[CTLP_MAX_STR + 1];
	uint16_t i;

	if (ctlp_decode(data, size, &m, &why) != 0) {
		if (why == NULL)
			abort();
		return 0;
	}
	ctlp_begin(&o, m.type);
	for (i = 0; i < m.n; i++) {
		const struct ctlp_field *f = &m.f[i];

		if (f->key < (const char *)data ||
		    f->key + f->keylen > (const char *)data + size)
			abort();
		memcpy(key, f->key, f->keylen);
		key[f->keylen] = '\0';
		if (f->kind == CTLP_U64)
			ctlp_u64(&o, key, f->u);
		else {
			memcpy(s, f->s, f->slen);
			s[f->slen] = '\0';
			ctlp_str(&o, key, s);
		}
	}
	if (ctlp_end(&o) != 0 || o.len != size || memcmp(o.buf, data, size))
		abort();
	return 0;
}
