/*
 * mkcaptures: make a capture spool from a real trace, through the spool
 * module itself, as the daemon would during escalations (test fixture for
 * sensorctl captures / extract).
 *
 *   mkcaptures -d STATEDIR [-f FILE_SIZE] [-c CHUNK] [-s SNAPLEN] TRACE
 *       HOST[:nsec][:split]...
 *
 * Every IPv4 packet of TRACE to or from HOST goes to HOST's capture (a
 * packet between two listed hosts goes to both).  Files rotate at
 * FILE_SIZE bytes (default 96 KiB) with CHUNK raw bytes per gzip member
 * (default 8 KiB), so a small trace still makes several files of several
 * members.  ":nsec" writes nanosecond files (default microsecond).
 * ":split" captures the host in two escalations one after the other: the
 * first gets its even-numbered packets, the second its odd-numbered ones,
 * so the two sets of files overlap in time (what extract's k-way merge
 * exists for).  Prints one line per host: "host ADDR packets N files N".
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor.h"
#include "spool.h"
#include "util.h"

#define MAX_HOSTS	8

struct host {
	uint8_t		addr[16];
	int		is_nsec, is_split;
	uint64_t	n_seen;		/* packets of this host seen (pass) */
	uint64_t	n_written;
	uint64_t	n_files;
};

static struct host hosts[MAX_HOSTS];
static int n_hosts;

static void
on_event(void *arg, const struct spool_event *ev)
{
	int i;

	(void)arg;
	if (ev->type == SPOOL_EV_WRITE_ERROR || ev->type == SPOOL_EV_SUSPENDED)
		fprintf(stderr, "mkcaptures: event %s why=%s err=%d %s\n",
		    spool_ev_name(ev->type), spool_why_name(ev->why), ev->err,
		    ev->name);
	if (ev->type != SPOOL_EV_FILE_CLOSED)
		return;
	for (i = 0; i < n_hosts; i++)
		if (memcmp(hosts[i].addr, ev->addr, 16) == 0)
			hosts[i].n_files++;
}

/* IPv4 source and destination of an Ethernet frame (up to 2 VLAN tags). */
static int
ipv4_addrs(const uint8_t *p, uint32_t caplen, uint8_t src[16],
    uint8_t dst[16])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	struct cur c;
	uint16_t type;
	int tags = 0;

	cur_init(&c, p, caplen);
	(void)cur_skip(&c, 12);
	type = cur_be16(&c);
	while ((type == 0x8100 || type == 0x88a8) && tags++ < 2) {
		(void)cur_skip(&c, 2);
		type = cur_be16(&c);
	}
	if (type != 0x0800 || (cur_peek_u8(&c, 0) >> 4) != 4)
		return -1;
	(void)cur_skip(&c, 12);
	memcpy(src, v4mapped, 12);
	memcpy(dst, v4mapped, 12);
	(void)cur_bytes(&c, src + 12, 4);
	(void)cur_bytes(&c, dst + 12, 4);
	return cur_ok(&c) ? 0 : -1;
}

/* One pass over the trace; pass 1 or 2 (the split hosts' odd packets). */
static int
feed(struct spool *sp, const char *trace, int pass)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	uint8_t src[16], dst[16];
	uint64_t ts, last_tick = 0;
	struct host *h;
	pcap_t *p;
	int i, r;

	p = pcap_open_offline_with_tstamp_precision(trace,
	    PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL) {
		fprintf(stderr, "mkcaptures: %s\n", err);
		return -1;
	}
	for (i = 0; i < n_hosts; i++)
		hosts[i].n_seen = 0;
	while ((r = pcap_next_ex(p, &ph, &data)) == 1) {
		ts = (uint64_t)ph->ts.tv_sec * 1000000000u +
		    (uint64_t)ph->ts.tv_usec;
		if (ts / 1000000000u != last_tick / 1000000000u) {
			spool_tick(sp, ts);
			last_tick = ts;
		}
		if (ipv4_addrs(data, ph->caplen, src, dst) != 0)
			continue;
		for (i = 0; i < n_hosts; i++) {
			h = &hosts[i];
			if (memcmp(h->addr, src, 16) != 0 &&
			    memcmp(h->addr, dst, 16) != 0)
				continue;
			h->n_seen++;
			if (h->is_split && (h->n_seen % 2 == 1) != (pass == 1))
				continue;
			if (!h->is_split && pass == 2)
				continue;
			if (spool_pkt(sp, (uint32_t)i, ts, data, ph->caplen,
			    ph->len) != 0) {
				fprintf(stderr, "mkcaptures: spool_pkt: %s\n",
				    strerror(errno));
				pcap_close(p);
				return -1;
			}
			h->n_written++;
		}
	}
	pcap_close(p);
	return r == PCAP_ERROR_BREAK || r == -2 ? 0 : -1;
}

static int
open_all(struct spool *sp, const struct spool_limits *base, int pass)
{
	struct spool_trigger trig;
	struct spool_limits lim;
	int i;

	for (i = 0; i < n_hosts; i++) {
		if (pass == 2 && !hosts[i].is_split)
			continue;
		lim = *base;
		lim.is_nsec = hosts[i].is_nsec;
		memset(&trig, 0, sizeof(trig));
		trig.event_id = (uint64_t)(pass * 100 + i);
		trig.value = 1234.5;
		trig.threshold = 1000;
		util_strlcpy(trig.metric, "pkt_rate", sizeof(trig.metric));
		util_strlcpy(trig.reason, "mkcaptures test \"fixture\"",
		    sizeof(trig.reason));
		if (spool_open(sp, (uint32_t)i, hosts[i].addr, &lim,
		    &trig) != 0) {
			fprintf(stderr, "mkcaptures: spool_open: %s\n",
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void
close_all(struct spool *sp, int pass)
{
	int i;

	for (i = 0; i < n_hosts; i++)
		if (pass == 1 || hosts[i].is_split)
			(void)spool_close(sp, (uint32_t)i);
}

int
main(int argc, char **argv)
{
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool *sp;
	const char *dir = NULL;
	char a[ADDR_STRLEN], *spec, *colon;
	int ch, i, any_split = 0, rc = 0;

	spool_config_defaults(&cfg);
	spool_limits_defaults(&lim);
	lim.file_size = 96 * 1024;
	lim.rotate_ns = 0;
	lim.snaplen = 2048;
	cfg.chunk_bytes = 8192;
	while ((ch = getopt(argc, argv, "d:f:c:s:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'f':
			lim.file_size = strtoull(optarg, NULL, 10);
			break;
		case 'c':
			cfg.chunk_bytes = strtoull(optarg, NULL, 10);
			break;
		case 's':
			lim.snaplen = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (dir == NULL || argc - optind < 2 || argc - optind - 1 > MAX_HOSTS)
		goto usage;
	for (i = optind + 1; i < argc; i++) {
		struct host *h = &hosts[n_hosts++];

		spec = argv[i];
		if ((colon = strchr(spec, ':')) != NULL)
			*colon++ = '\0';
		if (addr_parse(spec, h->addr) != 0)
			goto usage;
		while (colon != NULL) {
			char *opt = colon;

			if ((colon = strchr(opt, ':')) != NULL)
				*colon++ = '\0';
			if (strcmp(opt, "nsec") == 0)
				h->is_nsec = 1;
			else if (strcmp(opt, "split") == 0)
				h->is_split = any_split = 1;
			else
				goto usage;
		}
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		fprintf(stderr, "mkcaptures: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	cfg.statedir = dir;
	cfg.max_slots = MAX_HOSTS;
	cfg.event_fn = on_event;
	if ((sp = spool_new(&cfg)) == NULL) {
		fprintf(stderr, "mkcaptures: spool_new: %s\n", strerror(errno));
		return 1;
	}
	if (open_all(sp, &lim, 1) != 0 || feed(sp, argv[optind], 1) != 0)
		rc = 1;
	close_all(sp, 1);
	if (rc == 0 && any_split) {
		if (open_all(sp, &lim, 2) != 0 ||
		    feed(sp, argv[optind], 2) != 0)
			rc = 1;
		close_all(sp, 2);
	}
	spool_free(sp);
	for (i = 0; i < n_hosts; i++) {
		addr_fmt(hosts[i].addr, a);
		printf("host %s packets %llu files %llu\n", a,
		    (unsigned long long)hosts[i].n_written,
		    (unsigned long long)hosts[i].n_files);
	}
	return rc;
usage:
	fprintf(stderr, "usage: mkcaptures -d STATEDIR [-f FILE_SIZE] "
	    "[-c CHUNK] [-s SNAPLEN] TRACE HOST[:nsec][:split]...\n");
	return 1;
}
