/*
 * spoolw: write a pcap through the spool writer for one host, as the
 * daemon would during an escalation (test and measurement tool).
 *
 *   spoolw -d STATEDIR [options] IN.pcap
 *	-a ADDR		host address (192.0.2.1)
 *	-f BYTES	file cap (64 MiB)
 *	-H BYTES	host cap (512 MiB)
 *	-g BYTES	global cap (none)
 *	-m BYTES	free-space floor (none)
 *	-s SNAPLEN	snaplen (the input's)
 *	-l LEVEL	compression level (1)
 *	-r SECONDS	rotate interval (none)
 *	-c BYTES	chunk, raw bytes per gzip member (1 MiB)
 *	-z N		compression threads (2)
 *	-n		nanosecond files
 *	-T		threaded writer (waits when the ring is full: lossless)
 *	-L N		feed the input N times (time shifted) for measurements
 *	-X CMD		run CMD once, when the capture is first suspended
 *	-q		no event lines
 *
 * The input is read as sensord -r reads it (pcapfile, else libpcap).
 * Packet time drives the writer: a tick each time it crosses a second, as
 * sensord -r does.  Prints one line per event ("event TYPE why=... ..."),
 * then "spoolw: ..." with counts and the throughput of the whole write
 * path (copy, compression, SHA-256, write(2), fsync).
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pcapfile.h"
#include "sha256.h"
#include "util.h"
#include "writer.h"

static int quiet, suspended_once;
static const char *on_suspend;

static void
drain(struct writer *w)
{
	struct spool_event ev;
	char hex[SHA256_HEXLEN];

	while (writer_next_event(w, &ev)) {
		if (ev.type == SPOOL_EV_SUSPENDED && on_suspend != NULL &&
		    !suspended_once) {
			suspended_once = 1;
			if (system(on_suspend) != 0)
				fprintf(stderr, "spoolw: -X command failed\n");
		}
		if (quiet)
			continue;
		sha256_hex(ev.sha256, hex);
		printf("event %s why=%s err=%d name=%s packets=%llu raw=%llu "
		    "disk=%llu dropped=%llu sha256=%s\n",
		    spool_ev_name(ev.type), spool_why_name(ev.why), ev.err,
		    ev.name[0] ? ev.name : "-",
		    (unsigned long long)ev.packets,
		    (unsigned long long)ev.bytes_raw,
		    (unsigned long long)ev.bytes_disk,
		    (unsigned long long)ev.dropped, hex);
	}
}

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
	struct writer_config cfg;
	struct writer_stats st;
	struct writer_slot_stats ss;
	struct spool_limits lim;
	struct spool_trigger trig = { 0 };
	char err[PCAP_ERRBUF_SIZE];
	const char *addr_s = "192.0.2.1";
	struct pcap_pkthdr *ph;
	const u_char *data;
	uint8_t addr[16];
	uint64_t ts, last_tick = 0, shift = 0, first = 0, last = 0;
	uint64_t n_in = 0, bytes_in = 0;
	int opt, loops = 1, l, rc, has_snaplen = 0, is_threaded = 0;
	struct writer *w;
	double t0, t1;
	pcap_t *p;
	struct timespec pause = { 0, 1000000 };
	struct pcapfile m;
	struct pcaprec rec;
	uint32_t caplen, wirelen;
	int by_pcapfile;

	writer_config_defaults(&cfg);
	spool_limits_defaults(&lim);
	lim.rotate_ns = 0;
	while ((opt = getopt(argc, argv, "d:a:f:H:g:m:s:l:r:c:z:nTL:X:q")) !=
	    -1) {
		switch (opt) {
		case 'd': cfg.spool.statedir = optarg; break;
		case 'a': addr_s = optarg; break;
		case 'f': lim.file_size = strtoull(optarg, NULL, 0); break;
		case 'H': lim.host_cap = strtoull(optarg, NULL, 0); break;
		case 'g': cfg.spool.global_cap = strtoull(optarg, NULL, 0);
			break;
		case 'm': cfg.spool.min_free = strtoull(optarg, NULL, 0); break;
		case 's': lim.snaplen = (uint32_t)strtoul(optarg, NULL, 0);
			has_snaplen = 1;
			break;
		case 'l': lim.level = atoi(optarg); break;
		case 'r': lim.rotate_ns = strtoull(optarg, NULL, 0) *
			    1000000000ull; break;
		case 'c': cfg.spool.chunk_bytes = strtoul(optarg, NULL, 0);
			break;
		case 'z': cfg.spool.zthreads = (unsigned)atoi(optarg); break;
		case 'n': lim.is_nsec = 1; break;
		case 'T': is_threaded = 1; break;
		case 'L': loops = atoi(optarg); break;
		case 'X': on_suspend = optarg; break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr, "usage: spoolw -d DIR [-a addr] [-f n] "
			    "[-H n] [-g n] [-m n] [-s n] [-l n] [-r s] [-c n] "
			    "[-z n] [-n] [-T] [-L n] [-X cmd] [-q] IN\n");
			return 2;
		}
	}
	if (cfg.spool.statedir == NULL || optind != argc - 1 ||
	    addr_parse(addr_s, addr) != 0) {
		fprintf(stderr, "spoolw: need -d DIR, a valid -a and one "
		    "input\n");
		return 2;
	}
	/* Inline (as sensord -r) unless a thread is asked for. */
	cfg.is_inline = !is_threaded;
	cfg.spool.max_slots = 1;
	trig.event_id = 1;
	util_strlcpy(trig.metric, "spoolw", sizeof(trig.metric));
	util_strlcpy(trig.reason, "test tool", sizeof(trig.reason));

	/* systemd's StateDirectory= makes it for the daemon. */
	(void)mkdir(cfg.spool.statedir, 0750);
	if ((w = writer_new(&cfg)) == NULL) {
		perror("spoolw: writer_new");
		return 1;
	}
	drain(w);
	t0 = now_s();
	for (l = 0; l < loops; l++) {
		p = pcap_open_offline_with_tstamp_precision(argv[optind],
		    PCAP_TSTAMP_PRECISION_NANO, err);
		if (p == NULL) {
			fprintf(stderr, "spoolw: %s\n", err);
			return 1;
		}
		if (l == 0) {
			lim.linktype = (uint32_t)pcap_datalink(p);
			/* The input's own snaplen unless -s says otherwise. */
			if (!has_snaplen && pcap_snapshot(p) > 0 &&
			    pcap_snapshot(p) < 262144)
				lim.snaplen = (uint32_t)pcap_snapshot(p);
			if (writer_open_host(w, 0, addr, &lim, &trig,
			    NULL) != 0) {
				perror("spoolw: open (a file cap must hold one "
				    "snaplen packet)");
				return 1;
			}
		}
		by_pcapfile = pcapfile_open_pcap(&m, p) == 0;
		for (;;) {
			if (by_pcapfile) {
				if (pcapfile_next(&m, &rec) != PCAPREC_OK)
					break;
				ts = (uint64_t)rec.ts_sec * 1000000000ull +
				    (uint64_t)rec.ts_ns + shift;
				data = rec.data;
				caplen = rec.caplen;
				wirelen = rec.wirelen;
			} else {
				if ((rc = pcap_next_ex(p, &ph, &data)) != 1)
					break;
				ts = (uint64_t)ph->ts.tv_sec * 1000000000ull +
				    (uint64_t)ph->ts.tv_usec + shift;
				caplen = ph->caplen;
				wirelen = ph->len;
			}
			if (n_in == 0)
				first = ts;
			last = ts;
			if (ts / 1000000000ull != last_tick / 1000000000ull) {
				if (last_tick != 0)
					writer_tick(w, ts);
				last_tick = ts;
				drain(w);
			}
			/* Threaded: wait for room (lossless replay).  Inline
			 * a refusal means suspended: dropped and counted. */
			while (writer_submit_pkt(w, 0, ts, data, caplen,
			    wirelen) != 0 && errno == EAGAIN &&
			    !cfg.is_inline)
				nanosleep(&pause, NULL);
			n_in++;
			bytes_in += caplen + 16;
		}
		if (by_pcapfile)
			pcapfile_close(&m);
		pcap_close(p);
		shift += last - first + 1000000000ull;
	}
	writer_close_host(w, 0);
	writer_shutdown(w);
	t1 = now_s();
	drain(w);
	writer_get_stats(w, &st);
	writer_slot_stats(w, 0, &ss);
	/* The ring's drop counter counts refusals; -T retries them. */
	printf("spoolw: %llu packets in, %llu written, %llu dropped "
	    "(suspended %llu, lost in writes %llu), %llu files, %.2f MB raw "
	    "-> %.2f MB on disk, %.1f MB/s\n", (unsigned long long)n_in,
	    (unsigned long long)ss.spool.pkts_written,
	    (unsigned long long)(n_in - ss.spool.pkts_written),
	    (unsigned long long)ss.spool.drop_suspended,
	    (unsigned long long)ss.spool.drop_write,
	    (unsigned long long)st.spool.files,
	    (double)bytes_in / 1e6, (double)st.spool.bytes_on_disk / 1e6,
	    (double)bytes_in / 1e6 / (t1 - t0));
	writer_free(w);
	return 0;
}
