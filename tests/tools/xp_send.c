/*
 * xp_send: export a deterministic set of conversation records with
 * sensord's exporter, and print what a collector should have stored.
 *
 *   xp_send [options] KIND@ADDR:PORT
 *	-n N		synthesize N conversations (default 200): IPv4 and IPv6,
 *			TCP/UDP/ICMP, one-way ones, and every 10th cut into 3
 *			interim records (same conv_id, rising seq)
 *	-f FILE		read records from FILE instead, one per line:
 *			  proto src sport dst dport fwd_pkts fwd_bytes
 *			  rev_pkts rev_bytes [start_s [dur_ms [conv_id]]]
 *			('#' starts a comment)
 *	-4		IPv4 only (synthetic)
 *	-u		IPFIX: unidirectional records (default biflow)
 *	-s N		sampling interval carried in the export
 *	-r RATE		records/s pacing (0: unpaced); default 20000
 *	-L		lossless (wait for pacing and socket room)
 *	-T SEC		template refresh interval (flow time)
 *	-D N		template refresh every N datagrams (0: off)
 *	-S SEC		spread records over SEC seconds of flow time
 *	-d ID		observation domain / source id
 *	-m MTU		datagram size
 *	-w FILE		do not send: write the datagrams to a pcap file (raw
 *			IPv4/UDP from 192.0.2.1:40000 to the target address)
 *	-o FILE		expected totals to FILE (default stdout)
 *
 * Expected totals, one line per key as the collector stores records,
 * sorted: "proto src sport dst dport flows pkts bytes opkts obytes"
 * (opkts/obytes are the reverse counters of a biflow, else 0).  ICMP
 * dport is type << 8 | code.  Stats go to stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convrec.h"
#include "export.h"
#include "util.h"
#include "xpenc.h"

#define BASE_US		1700000000000000ull	/* 2023-11-14T22:13:20Z */

struct tot {
	char		key[160];
	uint64_t	flows, pkts, bytes, opkts, obytes;
};

static struct tot *tots;
static size_t n_tots, cap_tots;
static struct convrec *recs;
static size_t n_recs, cap_recs;

static void
usage(void)
{
	fprintf(stderr, "usage: xp_send [-4uL] [-n N | -f FILE] [-s N] "
	    "[-r RATE] [-T SEC] [-D N] [-S SEC] [-d ID] [-m MTU] [-w PCAP] "
	    "[-o FILE] KIND@ADDR:PORT\n");
	exit(2);
}

/* Append; merged after sorting (keys repeat only for cut records). */
static void
add_tot(const char *key, uint64_t pkts, uint64_t bytes, uint64_t opkts,
    uint64_t obytes)
{
	struct tot *t;

	if (n_tots == cap_tots) {
		cap_tots = cap_tots ? cap_tots * 2 : 256;
		tots = realloc(tots, cap_tots * sizeof(*tots));
		if (tots == NULL)
			exit(1);
	}
	t = &tots[n_tots++];
	memset(t, 0, sizeof(*t));
	util_strlcpy(t->key, key, sizeof(t->key));
	t->flows = 1;
	t->pkts = pkts;
	t->bytes = bytes;
	t->opkts = opkts;
	t->obytes = obytes;
}

static int
tot_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tot *)a)->key,
	    ((const struct tot *)b)->key);
}

static void
key_of(char *out, size_t len, uint8_t proto, const uint8_t *s, uint16_t sp,
    const uint8_t *d, uint16_t dp)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	addr_fmt(s, a);
	addr_fmt(d, b);
	snprintf(out, len, "%u %s %u %s %u", proto, a, sp, b, dp);
}

/* Mirror of the exporter's documented mapping (RFC 792 / RFC 4443). */
static uint16_t
icmp_rev(uint8_t proto, uint16_t tc)
{
	unsigned t = tc >> 8;

	if (proto == 1 && t == 8)
		return 0;
	if (proto == 1 && (t == 13 || t == 15 || t == 17))
		return (uint16_t)((t + 1) << 8);
	if (proto == 58 && t == 128)
		return 129 << 8;
	return tc;
}

static void
expect(const struct convrec *cr, enum xp_kind kind, int biflow)
{
	char k[160];
	int icmp = cr->proto == 1 || cr->proto == 58;

	if (kind == XP_NETFLOW5 && cr->family != 4)
		return;
	if (cr->fwd.pkts == 0 && cr->rev.pkts == 0)
		return;
	if (kind == XP_IPFIX && biflow) {
		key_of(k, sizeof(k), cr->proto, cr->src, cr->sport, cr->dst,
		    cr->dport);
		add_tot(k, cr->fwd.pkts, cr->fwd.bytes, cr->rev.pkts,
		    cr->rev.bytes);
		return;
	}
	if (cr->fwd.pkts > 0) {
		key_of(k, sizeof(k), cr->proto, cr->src, cr->sport, cr->dst,
		    cr->dport);
		add_tot(k, cr->fwd.pkts, cr->fwd.bytes, 0, 0);
	}
	if (cr->rev.pkts > 0) {
		key_of(k, sizeof(k), cr->proto, cr->dst,
		    icmp ? 0 : cr->dport, cr->src,
		    icmp ? icmp_rev(cr->proto, cr->dport) : cr->sport);
		add_tot(k, cr->rev.pkts, cr->rev.bytes, 0, 0);
	}
}

static struct convrec *
new_rec(void)
{
	if (n_recs == cap_recs) {
		cap_recs = cap_recs ? cap_recs * 2 : 1024;
		recs = realloc(recs, cap_recs * sizeof(*recs));
		if (recs == NULL)
			exit(1);
	}
	memset(&recs[n_recs], 0, sizeof(recs[0]));
	return &recs[n_recs++];
}

static uint32_t rnd_state = 12345;

static uint32_t
rnd(void)
{
	/* xorshift32: deterministic across runs and libcs. */
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void
set_dir(struct convdir *d, uint64_t pkts, uint64_t t0, uint64_t t1,
    uint8_t flags)
{
	d->pkts = pkts;
	d->bytes = 0;
	if (pkts == 0)
		return;
	d->bytes = pkts * (40 + rnd() % 1400);
	d->first_us = t0;
	d->last_us = t1;
	d->flags = flags;
	d->first_flags = flags;
}

static void
synth(unsigned n, int v4only, uint64_t spread_us)
{
	static const uint16_t ports[] = { 80, 443, 53, 123, 22, 8080 };
	unsigned i, j, cuts;
	struct convrec *cr;
	uint64_t t0;
	uint8_t fam, proto;

	for (i = 0; i < n; i++) {
		fam = v4only || i % 3 != 2 ? 4 : 6;
		switch (i % 5) {
		case 0:
		case 1:
			proto = 6;
			break;
		case 2:
		case 3:
			proto = 17;
			break;
		default:
			proto = fam == 4 ? 1 : 58;
		}
		cuts = i % 10 == 0 ? 3 : 1;
		t0 = BASE_US + (spread_us > 0 ? spread_us * i / n :
		    (uint64_t)i * 1000);
		for (j = 0; j < cuts; j++) {
			cr = new_rec();
			cr->conv_id = 1000 + i;
			cr->seq = j;
			cr->family = fam;
			cr->proto = proto;
			if (fam == 4) {
				addr_parse("10.0.0.0", cr->src);
				cr->src[13] = (uint8_t)(i >> 8);
				cr->src[14] = (uint8_t)i;
				cr->src[15] = 1;
				addr_parse("192.0.2.0", cr->dst);
				cr->dst[15] = (uint8_t)(i % 7 + 1);
			} else {
				addr_parse("2001:db8:1::", cr->src);
				cr->src[14] = (uint8_t)(i >> 8);
				cr->src[15] = (uint8_t)i;
				addr_parse("2001:db8:2::", cr->dst);
				cr->dst[15] = (uint8_t)(i % 7 + 1);
			}
			if (proto == 1 || proto == 58) {
				cr->sport = 0;
				cr->dport = proto == 1 ? 8 << 8 : 128 << 8;
			} else {
				cr->sport = (uint16_t)(1024 + i * 7919 % 60000);
				cr->dport = ports[i % 6];
			}
			cr->vlan = (uint16_t)(i % 4 == 1 ? 100 : 0);
			cr->start_us = t0 + (uint64_t)j * 60000000;
			cr->end_us = cr->start_us + 1000 + rnd() % 5000000;
			set_dir(&cr->fwd, 1 + rnd() % 50, cr->start_us,
			    cr->end_us - 500, proto == 6 ? 0x1b : 0);
			/* Every 4th one-way; an interim with no reply. */
			if (i % 4 != 3 && !(cuts > 1 && j == 1))
				set_dir(&cr->rev, 1 + rnd() % 60,
				    cr->start_us + 200, cr->end_us,
				    proto == 6 ? 0x1a : 0);
			if (j + 1 < cuts) {
				cr->reason = END_ACTIVE;
				cr->is_final = 0;
			} else {
				cr->reason = proto == 6 ? (i % 2 ? END_RST :
				    END_FIN) : END_IDLE;
				cr->is_final = 1;
			}
		}
	}
}

static int
read_file(const char *path)
{
	FILE *f;
	char line[512], src[64], dst[64], *h;
	unsigned proto, sp, dp;
	unsigned long long fp, fb, rp, rb, id;
	double start, dur;
	struct convrec *cr;
	int n, lineno = 0;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if ((h = strchr(line, '#')) != NULL)
			*h = '\0';
		start = (double)lineno;
		dur = 10;
		id = (unsigned long long)lineno;
		n = sscanf(line, "%u %63s %u %63s %u %llu %llu %llu %llu %lf "
		    "%lf %llu", &proto, src, &sp, dst, &dp, &fp, &fb, &rp, &rb,
		    &start, &dur, &id);
		if (n <= 0)
			continue;
		if (n < 9) {
			fprintf(stderr, "%s:%d: want at least 9 fields\n",
			    path, lineno);
			fclose(f);
			return -1;
		}
		cr = new_rec();
		if (addr_parse(src, cr->src) == -1 ||
		    addr_parse(dst, cr->dst) == -1 ||
		    addr_is_v4(cr->src) != addr_is_v4(cr->dst)) {
			fprintf(stderr, "%s:%d: bad addresses\n", path, lineno);
			fclose(f);
			return -1;
		}
		cr->family = addr_is_v4(cr->src) ? 4 : 6;
		cr->proto = (uint8_t)proto;
		cr->sport = (uint16_t)sp;
		cr->dport = (uint16_t)dp;
		cr->conv_id = id;
		cr->start_us = BASE_US + (uint64_t)(start * 1e6);
		cr->end_us = cr->start_us + (uint64_t)(dur * 1e3);
		cr->reason = END_EOF;
		cr->is_final = 1;
		cr->fwd.pkts = fp;
		cr->fwd.bytes = fb;
		cr->fwd.first_us = cr->start_us;
		cr->fwd.last_us = cr->end_us;
		cr->rev.pkts = rp;
		cr->rev.bytes = rb;
		if (rp > 0) {
			cr->rev.first_us = cr->start_us;
			cr->rev.last_us = cr->end_us;
		}
	}
	fclose(f);
	return 0;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct convrec *x = a, *y = b;

	if (x->end_us != y->end_us)
		return x->end_us < y->end_us ? -1 : 1;
	return x->conv_id < y->conv_id ? -1 : x->conv_id > y->conv_id;
}

/* -w: write each datagram as a raw-IPv4 pcap record. */
struct pcapw {
	FILE		*f;
	uint8_t		 dst[4];
	uint16_t	 port;
	uint64_t	 now_us;
	uint64_t	 n;
};

static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int
pcap_emit(void *arg, const uint8_t *buf, size_t len, uint32_t n_data,
    int has_tmpl)
{
	struct pcapw *w = arg;
	uint8_t h[16 + 28];
	uint32_t sum = 0;
	size_t i, iplen = len + 28;
	uint64_t ts = w->now_us;	/* flow time of the emit */

	(void)n_data;
	(void)has_tmpl;
	memset(h, 0, sizeof(h));
	le32(h, (uint32_t)(ts / 1000000));
	le32(h + 4, (uint32_t)(ts % 1000000));
	le32(h + 8, (uint32_t)iplen);
	le32(h + 12, (uint32_t)iplen);
	h[16] = 0x45;
	h[18] = (uint8_t)(iplen >> 8);
	h[19] = (uint8_t)iplen;
	h[24] = 64;
	h[25] = 17;
	h[28] = 192;
	h[29] = 0;
	h[30] = 2;
	h[31] = 1;
	memcpy(h + 32, w->dst, 4);
	for (i = 16; i < 36; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	h[26] = (uint8_t)(~sum >> 8);
	h[27] = (uint8_t)~sum;
	h[36] = 40000 >> 8;
	h[37] = 40000 & 0xff;
	h[38] = (uint8_t)(w->port >> 8);
	h[39] = (uint8_t)w->port;
	h[40] = (uint8_t)((len + 8) >> 8);
	h[41] = (uint8_t)(len + 8);
	if (fwrite(h, sizeof(h), 1, w->f) != 1 ||
	    fwrite(buf, len, 1, w->f) != 1)
		return -1;
	w->n++;
	return 0;
}

int
main(int argc, char **argv)
{
	struct xp_config cfg;
	struct xp_stats st;
	struct exporter *ex = NULL;
	struct xp_enc *enc = NULL;
	struct pcapw pw;
	const char *file = NULL, *pcap = NULL, *out = NULL;
	char err[256];
	unsigned n = 200;
	int c, v4only = 0, uni = 0;
	uint64_t spread_us = 0, now;
	size_t i;
	FILE *o;
	static const uint8_t hdr[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 228, 0, 0, 0 };

	xp_config_defaults(&cfg);
	while ((c = getopt(argc, argv, "4uLn:f:s:r:T:D:S:d:m:w:o:")) != -1) {
		switch (c) {
		case '4': v4only = 1; break;
		case 'u': uni = 1; break;
		case 'L': cfg.lossless = 1; break;
		case 'n': n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f': file = optarg; break;
		case 's': cfg.enc.sampling = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'r': cfg.max_rate = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'T': cfg.enc.template_s = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'D': cfg.enc.template_dgrams = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'S': spread_us = strtoull(optarg, NULL, 10) * 1000000; break;
		case 'd': cfg.enc.domain = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'm': cfg.enc.mtu = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'w': pcap = optarg; break;
		case 'o': out = optarg; break;
		default: usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	if (xp_parse_target(argv[optind], &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "xp_send: %s\n", err);
		return 2;
	}
	cfg.enc.biflow = !uni;
	cfg.enc.start_us = BASE_US;
	if (file != NULL) {
		if (read_file(file) == -1)
			return 1;
	} else
		synth(n, v4only, spread_us);

	if (pcap != NULL) {
		memset(&pw, 0, sizeof(pw));
		if (!addr_is_v4(cfg.addr)) {
			fprintf(stderr, "xp_send: -w wants an IPv4 target\n");
			return 2;
		}
		memcpy(pw.dst, cfg.addr + 12, 4);
		pw.port = cfg.port;
		if ((pw.f = fopen(pcap, "wb")) == NULL ||
		    fwrite(hdr, sizeof(hdr), 1, pw.f) != 1) {
			perror(pcap);
			return 1;
		}
		if ((enc = malloc(sizeof(*enc))) == NULL ||
		    xp_enc_init(enc, &cfg.enc, pcap_emit, &pw) == -1) {
			perror("xp_enc_init");
			return 1;
		}
	} else if ((ex = xp_new(&cfg)) == NULL) {
		perror("xp_new");
		return 1;
	}

	/* Records leave in end-time order, as a flow table emits them. */
	qsort(recs, n_recs, sizeof(*recs), rec_cmp);
	now = BASE_US;
	for (i = 0; i < n_recs; i++) {
		if (recs[i].end_us > now)
			now = recs[i].end_us;
		if (enc != NULL) {
			pw.now_us = now;
			xp_enc_add(enc, &recs[i], now);
		} else
			xp_record(ex, &recs[i], now);
		expect(&recs[i], cfg.enc.kind, cfg.enc.biflow);
	}
	if (enc != NULL) {
		xp_enc_flush(enc, now);
		fprintf(stderr, "xp_send: %" PRIu64 " records, %" PRIu64
		    " flows, %" PRIu64 " datagrams, %" PRIu64 " with templates,"
		    " %" PRIu64 " skipped\n", enc->st.n_records,
		    enc->st.n_flows, enc->st.n_datagrams,
		    enc->st.n_template_sends, enc->st.n_skipped);
		if (fclose(pw.f) != 0) {
			perror(pcap);
			return 1;
		}
		free(enc);
	} else {
		xp_flush(ex, now);
		xp_get_stats(ex, &st);
		fprintf(stderr, "xp_send: %" PRIu64 " records, %" PRIu64
		    " flows, %" PRIu64 " datagrams, %" PRIu64 " bytes, %" PRIu64
		    " with templates, %" PRIu64 " dropped datagrams (%" PRIu64
		    " flows), %" PRIu64 " send errors, %" PRIu64 " skipped, %"
		    PRIu64 " waits (%" PRIu64 " us)\n", st.n_records,
		    st.n_flows, st.n_datagrams, st.n_bytes, st.n_template_sends,
		    st.n_drop_datagrams, st.n_drop_flows, st.n_send_errors,
		    st.n_skipped, st.n_waits, st.wait_us);
		xp_free(ex);
	}

	o = out != NULL ? fopen(out, "w") : stdout;
	if (o == NULL) {
		perror(out);
		return 1;
	}
	/* Sorted and merged by key, to compare with sort(1)ed output. */
	qsort(tots, n_tots, sizeof(*tots), tot_cmp);
	for (i = 0; i < n_tots; i++) {
		size_t j;

		for (j = i + 1; j < n_tots &&
		    strcmp(tots[j].key, tots[i].key) == 0; j++) {
			tots[i].flows += tots[j].flows;
			tots[i].pkts += tots[j].pkts;
			tots[i].bytes += tots[j].bytes;
			tots[i].opkts += tots[j].opkts;
			tots[i].obytes += tots[j].obytes;
			tots[j].flows = 0;
		}
		i = j - 1;
	}
	for (i = 0; i < n_tots; i++)
		if (tots[i].flows > 0)
			fprintf(o, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			    " %" PRIu64 "\n", tots[i].key, tots[i].flows,
			    tots[i].pkts, tots[i].bytes, tots[i].opkts,
			    tots[i].obytes);
	if (o != stdout)
		fclose(o);
	free(tots);
	free(recs);
	return 0;
}
