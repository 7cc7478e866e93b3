/*
 * pcapread: the floor of the benchmark.  Reads a capture file with
 * pcap_next_ex() and does nothing else, so its packets per second is the
 * most any libpcap-based reader (sensord -r, softflowd -r) can reach on
 * this file and machine.  It touches one byte of each packet so the read
 * cannot be optimised away and the page is really faulted in.
 *
 *	pcapread FILE
 *	packets=N bytes=N wire_bytes=N seconds=S pps=N mb_per_s=N
 *
 * bytes is the sum of captured lengths, wire_bytes of original lengths;
 * seconds is wall time from open to the end of the file (CLOCK_MONOTONIC).
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, bytes = 0, wire = 0;
	unsigned sink = 0;
	double t0, dt;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcapread FILE\n");
		return 2;
	}
	t0 = now_s();
	if ((p = pcap_open_offline(argv[1], err)) == NULL) {
		fprintf(stderr, "pcapread: %s\n", err);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		n++;
		bytes += h->caplen;
		wire += h->len;
		if (h->caplen > 0)
			sink += d[h->caplen - 1];
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcapread: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	dt = now_s() - t0;
	if (dt <= 0)
		dt = 1e-9;
	printf("packets=%llu bytes=%llu wire_bytes=%llu seconds=%.3f "
	    "pps=%.0f mb_per_s=%.1f\n", (unsigned long long)n,
	    (unsigned long long)bytes, (unsigned long long)wire, dt,
	    (double)n / dt, (double)bytes / dt / 1e6);
	/* Keep the byte sum alive without printing noise. */
	return sink == 0xffffffffu ? 3 : 0;
}
