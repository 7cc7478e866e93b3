/*
 * fuzz_hoststate: the host state file parser (host_load_mem).
 *
 * The input's last four bytes are replaced by the CRC-32 of the rest
 * before parsing, so mutations reach the record validation instead of
 * stopping at the checksum; every third input is also parsed unpatched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "baseline.h"
#include "host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct host_table *ht;
	struct bl_config cfg;
	char err[256];
	uint8_t *buf;
	uint32_t c;

	bl_config_defaults(&cfg);
	cfg.mem_budget = 64 * host_record_bytes(&cfg);
	cfg.seed = 1;
	/* A fresh table per input keeps runs independent. */
	if ((ht = host_new(&cfg, err, sizeof(err))) == NULL)
		abort();
	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	if (size % 3 == 0)
		host_load_mem(ht, buf, size, "fuzz", 0, err, sizeof(err));
	if (size >= 8) {
		c = (uint32_t)crc32(0L, buf, (uInt)(size - 4));
		buf[size - 4] = (uint8_t)(c >> 24);
		buf[size - 3] = (uint8_t)(c >> 16);
		buf[size - 2] = (uint8_t)(c >> 8);
		buf[size - 1] = (uint8_t)c;
	}
	host_load_mem(ht, buf, size, "fuzz", 0, err, sizeof(err));
	free(buf);
	host_free(ht);
	ht = NULL;
	return 0;
}
