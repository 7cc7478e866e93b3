/*
 * replay.c: offline replay (`sensord -r FILE [-r FILE ...]`).
 *
 * Files are opened by libpcap (classic pcap and pcapng) with nanosecond
 * timestamps; the records of a plain classic pcap file on disk are then
 * read by pcapfile.c (same packets, same errors, about four times
 * cheaper), those of anything else by pcap_next_ex().  Files are read in
 * the order given, into one engine: the flow clock carries on
 * from one file to the next, as if the captures had been taken back to back.
 * A file that cannot be opened, has a link type the decoder does not know,
 * or fails part-way is reported in one line naming the file; what was read
 * before the failure stays metered, and the remaining files are still read.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pcapfile.h"
#include "sensord.h"

/* Negative or absurd stamps become 0, never UB (as for libpcap's). */
static uint64_t
stamp_ns(int64_t sec, int64_t frac_ns)
{
	return sec < 0 ? 0 : (uint64_t)sec * 1000000000u + (uint64_t)frac_ns;
}

/* Records through pcapfile: 0 at the end, -1 (logged) on a bad record. */
static int
replay_records(struct sensord *sd, const char *path, struct pcapfile *m)
{
	struct pcaprec	 r;
	enum pcaprec_res res;

	while ((res = pcapfile_next(m, &r)) == PCAPREC_OK)
		sd_packet(sd, r.data, r.caplen, r.wirelen,
		    stamp_ns(r.ts_sec, r.ts_ns));
	if (res == PCAPREC_END)
		return 0;
	log_warnx("%s: read error after %llu packets: %s", path,
	    (unsigned long long)sd->c.n_pkts, m->err);
	return -1;
}

static int
replay_one(struct sensord *sd, const char *path, uint8_t idx)
{
	char		    errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char	   *data;
	pcap_t		   *p;
	struct pcapfile	    m;
	int		    rc, dlt;

	errbuf[0] = '\0';
	p = pcap_open_offline_with_tstamp_precision(
	    path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL) {
		log_warnx("%s: cannot read: %s", path, errbuf);
		return -1;
	}
	dlt = pcap_datalink(p);
	if (!dec_dlt_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);

		log_warnx("%s: unsupported link type %d (%s)", path, dlt,
		    name != NULL ? name : "unknown");
		pcap_close(p);
		return -1;
	}
	sd->dlt = dlt;
	sd->iface = idx;
	if (pcapfile_open_pcap(&m, p) == 0) {
		rc = replay_records(sd, path, &m);
		pcapfile_close(&m);
		pcap_close(p);
		return rc;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1)
		sd_packet(sd, data, h->caplen, h->len,
		    stamp_ns(h->ts.tv_sec, h->ts.tv_usec));
	if (rc == PCAP_ERROR) {
		log_warnx("%s: read error after %llu packets: %s", path,
		    (unsigned long long)sd->c.n_pkts, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	return 0;
}

int
sd_replay(struct sensord *sd)
{
	struct timespec t0, t1, c0, c1;
	size_t		i;
	int		status = SD_EXIT_OK;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (i = 0; i < sd->opt.n_inputs; i++)
		if (replay_one(sd, sd->opt.inputs[i], (uint8_t)i) != 0)
			status = SD_EXIT_INPUT;
	sd_flush(sd, END_EOF);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	sd->elapsed_s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* The metering thread alone: the flow log's compression and the
	 * capture writers run on threads of their own (make bench). */
	sd->metering_cpu_s = (double)(c1.tv_sec - c0.tv_sec) +
	    (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	return status;
}
