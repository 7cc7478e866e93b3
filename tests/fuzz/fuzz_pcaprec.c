/*
 * fuzz_pcaprec: arbitrary bytes as a classic pcap file, read by libpcap
 * (from memory, nanosecond precision) and by pcaprec_parse(), the record
 * parser of the replay path (pcapfile.c).  Whenever libpcap accepts the
 * header and pcapfile would take the file (version 2.4, standard magic, a link type
 * libpcap does not rewrite), both must return the same records and end the
 * same way, with the same message; a difference abort()s.  Each record
 * consumes at least 16 bytes, so the loop is bounded by the input.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do {						\
	if (!(cond))							\
		abort();						\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		    errbuf[PCAP_ERRBUF_SIZE], err[PCAPFILE_ERR_SIZE];
	struct pcap_pkthdr *h;
	const u_char	   *pkt;
	struct pcaprec_fmt  f;
	struct pcapfmt_hdr  gh;
	struct pcaprec	    r;
	enum pcaprec_res    res;
	struct cur	    c;
	FILE		   *fp;
	pcap_t		   *p;
	int		    rc;

	cur_init(&c, data, size);
	if (pcapfmt_ghdr_read(&c, &gh) != 0) /* standard magics only */
		return 0;
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "rb")) == NULL)
		return 0;
	p = pcap_fopen_offline_with_tstamp_precision(
	    fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL) {
		fclose(fp);
		return 0;
	}
	if (pcap_major_version(p) != 2 || pcap_minor_version(p) != 4 ||
	    pcap_snapshot(p) <= 0 ||
	    !pcapfile_plain_dlt(pcap_datalink(p), pcap_is_swapped(p) == 1)) {
		pcap_close(p);
		return 0;
	}
	f.snapshot = (uint32_t)pcap_snapshot(p);
	f.swapped = pcap_is_swapped(p) == 1;
	f.nsec = gh.is_nsec;
	cur_init(&c, data + PCAPFMT_GHDR_LEN, size - PCAPFMT_GHDR_LEN);
	for (;;) {
		size_t before = cur_left(&c);

		err[0] = '\0';
		rc = pcap_next_ex(p, &h, &pkt);
		res = pcaprec_parse(&c, &f, &r, err, sizeof(err));
		if (rc != 1 || res != PCAPREC_OK) {
			CHECK(rc == PCAP_ERROR_BREAK ? res == PCAPREC_END
						     : res == PCAPREC_ERR);
			if (rc == PCAP_ERROR)
				CHECK(strcmp(pcap_geterr(p), err) == 0);
			break;
		}
		CHECK(h->caplen == r.caplen && h->len == r.wirelen);
		CHECK((int64_t)h->ts.tv_sec == r.ts_sec);
		CHECK((int64_t)h->ts.tv_usec == r.ts_ns);
		CHECK(memcmp(pkt, r.data, r.caplen) == 0);
		CHECK(r.size >= PCAPFMT_RHDR_LEN &&
		    before - cur_left(&c) == r.size);
	}
	pcap_close(p);
	return 0;
}
