/*
 * fuzz_pcapfmt: arbitrary bytes as a classic pcap file through the pcapfmt
 * reader (used by the spool to verify files at start-up).  Each record read
 * consumes at least 16 bytes, so the loop is bounded by the input.
 */
#include <stddef.h>
#include <stdint.h>

#include "pcapfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapfmt_hdr h;
	struct pcapfmt_rec r;
	struct cur c;
	volatile uint64_t sum = 0;
	size_t prev;

	cur_init(&c, data, size);
	if (pcapfmt_ghdr_read(&c, &h) != 0)
		return 0;
	for (;;) {
		prev = cur_off(&c);
		if (pcapfmt_rec_read(&c, &h, &r) != PCAPFMT_OK)
			break;
		if (cur_off(&c) < prev + PCAPFMT_RHDR_LEN)
			__builtin_trap();
		if (r.caplen > 0)
			sum += r.data[r.caplen - 1];
		sum += r.ts_ns;
	}
	(void)sum;
	return 0;
}
