/*
 * fuzz_flowread: the flow-log reader on arbitrary bytes.
 *
 * The first byte picks the mode.  Even: the rest is one line for
 * flowread_parse_line (the strict JSON parser).  Odd: the rest is a whole
 * file (gzip members, ours or not, cut or corrupt) read through a memfd by
 * flowread_next, with a time filter taken from the mode byte so the
 * member-skipping path is exercised too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "flowread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flowread_filter flt;
	struct flowread_rec rec;
	struct flowread *fr;
	const char *why;
	int fd, n = 0;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		if (flowread_parse_line(data + 1, size - 1, &rec, &why) == 0) {
			/* A parsed record is self-consistent. */
			if (rec.cr.family != 4 && rec.cr.family != 6)
				abort();
			if (rec.iface_len > FLOWLOG_IFACE_MAX)
				abort();
		} else if (why == NULL)
			abort();
		return 0;
	}
	memset(&flt, 0, sizeof(flt));
	if (data[0] & 2)
		flt.since_us = 1700000000000000ULL;
	if (data[0] & 4)
		flt.until_us = 1700000001000000ULL;
	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0)
		return 0;
	if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1) ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return 0;
	}
	if ((fr = flowread_new(&flt, NULL, NULL)) == NULL) {
		close(fd);
		return 0;
	}
	if (flowread_add_fd(fr, fd, "fuzz") != 0) {
		close(fd);
		flowread_free(fr);
		return 0;
	}
	while (flowread_next(fr, &rec) == 1 && n < 100000)
		n++;
	flowread_free(fr);
	return 0;
}
