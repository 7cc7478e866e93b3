/*
 * test_pcapfmt: encode pcap files with pcapfmt, read them back with libpcap
 * (pcap_open_offline, micro and nano precision) and with our own reader;
 * truncation at every byte; real captures from $SHARED_PCAPS in both byte
 * orders read identically by libpcap and by pcapfmt.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcapfmt.h"
#include "t.h"

#define NPKT	50

struct tpkt {
	uint64_t	ts_ns;
	uint32_t	caplen, wirelen;
	uint8_t		data[300];
};

static struct tpkt pk[NPKT];

static void
make_packets(void)
{
	unsigned int seed = 99;
	int i;
	uint32_t j;

	for (i = 0; i < NPKT; i++) {
		/* Seconds up to 2^32-1 (2106) and fractions at both ends. */
		pk[i].ts_ns = (i == NPKT - 1) ? (uint64_t)UINT32_MAX *
		    1000000000u + 999999999u : 1700000000ull * 1000000000u +
		    (uint64_t)i * 1234567891u;
		pk[i].caplen = (uint32_t)(i * 37 % 300);
		pk[i].wirelen = pk[i].caplen + (uint32_t)(i % 3) * 1000;
		for (j = 0; j < pk[i].caplen; j++) {
			seed = seed * 1103515245u + 12345u;
			pk[i].data[j] = (uint8_t)(seed >> 16);
		}
	}
}

/* Encode a whole file into buf; returns its length. */
static size_t
encode(uint8_t *buf, int is_nsec, uint32_t linktype, uint32_t snaplen)
{
	size_t off = PCAPFMT_GHDR_LEN;
	int i;

	pcapfmt_ghdr(buf, linktype, snaplen, is_nsec);
	for (i = 0; i < NPKT; i++) {
		if (pcapfmt_rhdr(buf + off, pk[i].ts_ns, is_nsec, pk[i].caplen,
		    pk[i].wirelen) != 0)
			return 0;
		off += PCAPFMT_RHDR_LEN;
		memcpy(buf + off, pk[i].data, pk[i].caplen);
		off += pk[i].caplen;
	}
	return off;
}

static void
check_libpcap(const uint8_t *buf, size_t len, int is_nsec)
{
	char path[] = "/tmp/sensord-pcapfmt-XXXXXX", err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	pcap_t *p;
	int fd, i, bad = 0, n = 0;
	uint64_t div = is_nsec ? 1 : 1000;

	fd = mkstemp(path);
	T_OK(fd >= 0 && write(fd, buf, len) == (ssize_t)len, "temp file");
	close(fd);
	p = pcap_open_offline_with_tstamp_precision(path, is_nsec ?
	    PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO, err);
	T_OK(p != NULL, "%s: pcap_open_offline accepts our file (%s)",
	    is_nsec ? "nsec" : "usec", p ? "ok" : err);
	if (p == NULL)
		return;
	T_EQ_INT(pcap_datalink(p), 1, "libpcap link type");
	T_EQ_INT(pcap_snapshot(p), 65535, "libpcap snaplen");
	for (i = 0; pcap_next_ex(p, &ph, &data) == 1; i++, n++) {
		uint64_t sec = pk[i].ts_ns / 1000000000u;
		uint64_t frac = pk[i].ts_ns % 1000000000u / div;

		if ((uint64_t)(uint32_t)ph->ts.tv_sec != sec ||
		    (uint64_t)ph->ts.tv_usec != frac ||
		    ph->caplen != pk[i].caplen || ph->len != pk[i].wirelen ||
		    memcmp(data, pk[i].data, ph->caplen) != 0)
			bad++;
	}
	T_EQ_INT(n, NPKT, "libpcap reads every record");
	T_EQ_INT(bad, 0, "libpcap sees the same ts/caplen/len/bytes");
	pcap_close(p);
	unlink(path);
}

static void
check_own_reader(const uint8_t *buf, size_t len, int is_nsec)
{
	struct pcapfmt_hdr h;
	struct pcapfmt_rec r;
	struct cur c;
	enum pcapfmt_res res;
	int i = 0, bad = 0;
	uint64_t div = is_nsec ? 1 : 1000;

	cur_init(&c, buf, len);
	T_EQ_INT(pcapfmt_ghdr_read(&c, &h), 0, "own reader: global header");
	T_EQ_INT(h.is_nsec, is_nsec, "own reader: magic precision");
	T_EQ_INT(h.is_swapped, 0, "own reader: little-endian");
	T_EQ_INT(h.linktype, 1, "own reader: link type");
	T_EQ_INT(h.snaplen, 65535, "own reader: snaplen");
	while ((res = pcapfmt_rec_read(&c, &h, &r)) == PCAPFMT_OK) {
		if (r.ts_ns != pk[i].ts_ns / div * div ||
		    r.caplen != pk[i].caplen || r.wirelen != pk[i].wirelen ||
		    memcmp(r.data, pk[i].data, r.caplen) != 0)
			bad++;
		i++;
	}
	T_EQ_INT(res, PCAPFMT_END, "own reader ends cleanly");
	T_EQ_INT(i, NPKT, "own reader: record count");
	T_EQ_INT(bad, 0, "own reader: same records");
}

/* Cut the file at every length: the reader stops at the last whole record. */
static void
check_truncation(const uint8_t *buf, size_t len)
{
	struct pcapfmt_hdr h;
	struct pcapfmt_rec r;
	struct cur c;
	enum pcapfmt_res res;
	size_t cut, ends[NPKT + 1], last;
	int i, n, bad = 0;

	ends[0] = PCAPFMT_GHDR_LEN;
	for (i = 0; i < NPKT; i++)
		ends[i + 1] = ends[i] + PCAPFMT_RHDR_LEN + pk[i].caplen;
	for (cut = PCAPFMT_GHDR_LEN; cut <= len; cut++) {
		cur_init(&c, buf, cut);
		if (pcapfmt_ghdr_read(&c, &h) != 0) {
			bad++;
			continue;
		}
		n = 0;
		while ((res = pcapfmt_rec_read(&c, &h, &r)) == PCAPFMT_OK)
			n++;
		last = cur_off(&c);
		if (last != ends[n] || (cut == ends[n]) != (res == PCAPFMT_END))
			bad++;
	}
	T_EQ_INT(bad, 0, "every cut stops at the last whole record");
	for (cut = 0; cut < PCAPFMT_GHDR_LEN; cut++) {
		cur_init(&c, buf, cut);
		if (pcapfmt_ghdr_read(&c, &h) == 0 || errno != EPROTO)
			bad++;
	}
	T_EQ_INT(bad, 0, "short global header: EPROTO");
}

static void
check_bad(void)
{
	uint8_t buf[64];
	struct pcapfmt_hdr h;
	struct pcapfmt_rec r;
	struct cur c;

	pcapfmt_ghdr(buf, 1, 100, 0);
	buf[0] ^= 1;
	cur_init(&c, buf, PCAPFMT_GHDR_LEN);
	T_OK(pcapfmt_ghdr_read(&c, &h) == -1 && errno == EINVAL,
	    "bad magic: EINVAL");
	/* caplen 300000 > max(snaplen, 262144): BAD, cursor not moved. */
	pcapfmt_ghdr(buf, 1, 100, 0);
	pcapfmt_rhdr(buf + 24, 0, 0, 300000, 300000);
	cur_init(&c, buf, 40);
	pcapfmt_ghdr_read(&c, &h);
	T_EQ_INT(pcapfmt_rec_read(&c, &h, &r), PCAPFMT_BAD,
	    "caplen above the maximum is BAD");
	T_EQ_INT(cur_off(&c), 24, "BAD leaves the cursor at the record");
	/* usec fraction 1000000 is impossible. */
	pcapfmt_rhdr(buf + 24, 0, 0, 0, 0);
	buf[28] = 0x40; buf[29] = 0x42; buf[30] = 0x0f; buf[31] = 0;
	cur_init(&c, buf, 40);
	pcapfmt_ghdr_read(&c, &h);
	T_EQ_INT(pcapfmt_rec_read(&c, &h, &r), PCAPFMT_BAD,
	    "usec fraction 1000000 is BAD");
	T_OK(pcapfmt_rhdr(buf, ((uint64_t)UINT32_MAX + 1) * 1000000000u, 0,
	    0, 0) == -1 && errno == EOVERFLOW, "seconds past 2106: EOVERFLOW");
}

/* Real files: our reader and libpcap agree record by record. */
static void
check_real(const char *dir, const char *name, int want_swapped,
    int want_nsec)
{
	char path[1024], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	struct pcapfmt_hdr h;
	struct pcapfmt_rec r;
	struct cur c;
	uint8_t *buf;
	long sz;
	FILE *f;
	pcap_t *p;
	int n = 0, bad = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL) {
		printf("skip - %s not found\n", path);
		return;
	}
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	buf = malloc((size_t)sz);
	if (fread(buf, 1, (size_t)sz, f) != (size_t)sz)
		sz = 0;
	fclose(f);
	p = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, err);
	cur_init(&c, buf, (size_t)sz);
	if (p == NULL || pcapfmt_ghdr_read(&c, &h) != 0) {
		T_OK(0, "%s: open", name);
		free(buf);
		return;
	}
	T_OK(h.is_swapped == want_swapped && h.is_nsec == want_nsec,
	    "%s: byte order %d, nsec %d", name, h.is_swapped, h.is_nsec);
	T_EQ_INT(h.linktype, pcap_datalink(p), "linktype as libpcap");
	while (pcapfmt_rec_read(&c, &h, &r) == PCAPFMT_OK) {
		if (pcap_next_ex(p, &ph, &data) != 1 ||
		    (uint64_t)ph->ts.tv_sec * 1000000000u +
		    (uint64_t)ph->ts.tv_usec != r.ts_ns ||
		    ph->caplen != r.caplen || ph->len != r.wirelen ||
		    memcmp(data, r.data, r.caplen) != 0)
			bad++;
		n++;
	}
	T_OK(n > 0 && bad == 0 && pcap_next_ex(p, &ph, &data) != 1,
	    "%s: %d records identical to libpcap's", name, n);
	pcap_close(p);
	free(buf);
}

int
main(void)
{
	static uint8_t buf[NPKT * (16 + 300) + 24];
	const char *shared = getenv("SHARED_PCAPS");
	size_t len;
	int is_nsec;

	make_packets();
	for (is_nsec = 0; is_nsec <= 1; is_nsec++) {
		len = encode(buf, is_nsec, 1, 65535);
		T_OK(len > 0, "encoded %zu bytes", len);
		T_EQ_INT(buf[0], is_nsec ? 0x4d : 0xd4, "magic, little-endian");
		check_libpcap(buf, len, is_nsec);
		check_own_reader(buf, len, is_nsec);
		if (!is_nsec)
			check_truncation(buf, len);
	}
	check_bad();
	if (shared == NULL)
		shared = "../shared/pcaps";
	check_real(shared, "traffic/lucaderi_doh_luca.pcap", 0, 0);
	check_real(shared, "traffic/thiagosmith_beacon.pcap", 0, 0);
	check_real(shared, "robustness/tcpdump/pptp.pcap", 1, 0);
	check_real(shared, "robustness/tcpdump/tcp-handshake-nano.pcap", 0, 1);
	return t_done();
}
