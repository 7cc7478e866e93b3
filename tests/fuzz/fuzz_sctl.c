/*
 * fuzz_sctl: sensorctl's readers of a (possibly tampered) state directory.
 *
 * The first byte picks the mode.  Even: the rest is a capture sidecar for
 * sctl_side_parse (the strict JSON reader under it), and a parsed one has
 * its member index checked.  Odd: the rest is a capture file (gzip members
 * of pcap records, cut or corrupt) read through a memfd by sctl_src, as
 * extract reads a file whose hash matched: a forger can rewrite a file and
 * its sidecar together, so the reader must hold on any bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sctl_cap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapfmt_rec r;
	struct sctl_side sd;
	struct sctl_src *src;
	const char *why = NULL;
	uint64_t n = 0;
	int fd, rr;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		if (sctl_side_parse(data + 1, size - 1, &sd, &why) == 0) {
			if (sd.first_ns > sd.last_ns ||
			    sd.n_members > SCTL_MEMBERS_MAX)
				abort();
			(void)sctl_side_index_ok(&sd);
		} else if (why == NULL)
			abort();
		sctl_side_free(&sd);
		return 0;
	}
	if ((fd = memfd_create("fuzz_sctl", 0)) < 0)
		return 0;
	if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		close(fd);
		return 0;
	}
	memset(&sd, 0, sizeof(sd));
	sd.bytes_gz = size - 1;
	sd.last_ns = UINT64_MAX;
	src = sctl_src_open(fd, &sd, 0, UINT64_MAX, &why);
	if (src == NULL && why == NULL)
		abort();
	while (src != NULL && (rr = sctl_src_next(src, &r, &why)) == 1) {
		/* Records can never be longer than what was inflated. */
		if (r.caplen > PCAPFMT_MAX_SNAPLEN || ++n > size * 64)
			abort();
	}
	sctl_src_free(src);
	close(fd);
	return 0;
}
