/*
 * zbench: capture compression measurements.
 *
 *   zbench gen OUT.pcap MB [seed [gap_us]]
 *	Write a synthetic Ethernet/IPv4/TCP pcap of about MB megabytes: 60 %
 *	of packets carry HTTP-like text, 40 % random bytes (TLS-like); sizes
 *	mixed between 60 and 1514 bytes; packets gap_us apart on average
 *	(100).
 *
 *   zbench run IN.pcap [-t threads] [-l level] [-c chunk_kib] [-o OUT.gz]
 *	Cut IN into chunks of whole records (the spool's way) and compress
 *	each into a gzip member with zout, in order, on `threads` workers.
 *	Prints one line: input MB, output MB, ratio, wall MB/s, stored
 *	members.  OUT.gz, when given, is the concatenated members.
 *
 *   zbench sha IN
 *	SHA-256 throughput of sensord/sha256.c over the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pcapfmt.h"
#include "sha256.h"
#include "zout.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: read failed\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint64_t rs = 88172645463325252ull;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static const char *words[] = {
	"GET", "POST", "HTTP/1.1", "Host:", "User-Agent:", "Mozilla/5.0",
	"Accept:", "text/html", "application/json", "Content-Length:",
	"Cookie:", "session", "id", "=", "&", "/index.html", "/api/v1/items",
	"200", "OK", "Server:", "nginx", "Date:", "Mon,", "29", "Nov", "2026",
	"<html>", "<div", "class=\"item\">", "</div>", "the", "of", "and",
	"to", "in", "user", "name", "value", "true", "false", "null", "{",
	"}", "\"key\":", "\r\n", "\r\n\r\n", "Connection:", "keep-alive"
};

static size_t
text_payload(uint8_t *p, size_t n)
{
	size_t off = 0, w;

	while (off < n) {
		const char *s = words[rnd() %
		    (sizeof(words) / sizeof(words[0]))];
		char num[24];

		if (rnd() % 8 == 0) {
			snprintf(num, sizeof(num), "%u",
			    (unsigned)(rnd() % 100000));
			s = num;
		}
		w = strlen(s);
		if (w > n - off)
			w = n - off;
		memcpy(p + off, s, w);
		off += w;
		if (off < n)
			p[off++] = ' ';
	}
	return n;
}

static int
gen(const char *path, double mb, uint64_t seed, uint64_t gap_us)
{
	uint8_t pkt[1600], hdr[PCAPFMT_RHDR_LEN], gh[PCAPFMT_GHDR_LEN];
	uint64_t ts = 1764000000ull * 1000000000u, total = 0;
	uint64_t want = (uint64_t)(mb * 1e6);
	FILE *f = fopen(path, "wb");
	size_t len, pl;
	uint32_t seq = 1;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	rs ^= seed * 0x9e3779b97f4a7c15ull;
	pcapfmt_ghdr(gh, 1, 65535, 0);
	fwrite(gh, 1, sizeof(gh), f);
	total = sizeof(gh);
	while (total < want) {
		int is_text = rnd() % 10 < 6;
		int host = (int)(rnd() % 50);

		len = rnd() % 10 < 4 ? 60 + rnd() % 60 : 1000 + rnd() % 515;
		memset(pkt, 0, 54);
		memcpy(pkt, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb"
		    "\x08\x00", 14);
		pkt[14] = 0x45;
		pkt[16] = (uint8_t)((len - 14) >> 8);
		pkt[17] = (uint8_t)(len - 14);
		pkt[22] = 64;
		pkt[23] = 6;
		memcpy(pkt + 26, "\x0a\x00\x00", 3);
		pkt[29] = (uint8_t)host;
		memcpy(pkt + 30, "\xc0\x00\x02\x0a", 4);
		pkt[34] = (uint8_t)((40000 + host) >> 8);
		pkt[35] = (uint8_t)(40000 + host);
		pkt[36] = is_text ? 0 : 1;
		pkt[37] = is_text ? 80 : 187;
		seq += (uint32_t)len;
		pkt[38] = (uint8_t)(seq >> 24);
		pkt[39] = (uint8_t)(seq >> 16);
		pkt[40] = (uint8_t)(seq >> 8);
		pkt[41] = (uint8_t)seq;
		pkt[46] = 0x50;
		pkt[47] = 0x18;
		pl = len - 54;
		if (is_text)
			text_payload(pkt + 54, pl);
		else
			for (size_t i = 0; i < pl; i++)
				pkt[54 + i] = (uint8_t)rnd();
		ts += rnd() % (2 * gap_us * 1000 + 1);
		pcapfmt_rhdr(hdr, ts, 0, (uint32_t)len, (uint32_t)len);
		fwrite(hdr, 1, sizeof(hdr), f);
		fwrite(pkt, 1, len, f);
		total += sizeof(hdr) + len;
	}
	if (fclose(f) != 0) {
		perror(path);
		return 1;
	}
	printf("wrote %s: %.1f MB\n", path, (double)total / 1e6);
	return 0;
}

#define MAXQ	16

static int
run(int argc, char **argv)
{
	struct zout_job jobs[MAXQ];
	uint8_t *outs[MAXQ];
	const char *in_path = argv[2], *out_path = NULL;
	unsigned threads = 2;
	int level = 1, opt, n_stored = 0;
	size_t chunk = 1024 * 1024, len, off, end, q_head = 0, q_n = 0, win;
	uint64_t out_total = 0;
	struct pcapfmt_hdr h;
	struct pcapfmt_rec r;
	struct zout *z;
	struct cur c;
	uint8_t *buf;
	FILE *out = NULL;
	double t0, t1;

	optind = 3;
	while ((opt = getopt(argc, argv, "t:l:c:o:")) != -1) {
		switch (opt) {
		case 't': threads = (unsigned)atoi(optarg); break;
		case 'l': level = atoi(optarg); break;
		case 'c': chunk = (size_t)atoi(optarg) * 1024; break;
		case 'o': out_path = optarg; break;
		default: return 2;
		}
	}
	buf = slurp(in_path, &len);
	if (out_path != NULL && (out = fopen(out_path, "wb")) == NULL) {
		perror(out_path);
		return 1;
	}
	z = zout_new(threads);
	win = threads == 0 ? 1 : threads * 2;
	if (win > MAXQ)
		win = MAXQ;
	for (size_t i = 0; i < MAXQ; i++)
		outs[i] = malloc(zout_bound(chunk + 70000));
	cur_init(&c, buf, len);
	if (pcapfmt_ghdr_read(&c, &h) != 0) {
		fprintf(stderr, "%s: not a pcap file\n", in_path);
		return 1;
	}
	t0 = now_s();
	off = 0;
	while (off < len) {
		/* Whole records up to the chunk size (global header first). */
		end = cur_off(&c);
		while (end - off < chunk &&
		    pcapfmt_rec_read(&c, &h, &r) == PCAPFMT_OK)
			end = cur_off(&c);
		if (end == off)
			break;
		if (q_n == win) {
			struct zout_job *j = &jobs[q_head];

			zout_wait(z, j);
			out_total += j->out_len;
			n_stored += j->is_stored;
			if (out != NULL)
				fwrite(j->out, 1, j->out_len, out);
			q_head = (q_head + 1) % MAXQ;
			q_n--;
		}
		{
			size_t k = (q_head + q_n) % MAXQ;

			jobs[k].in = buf + off;
			jobs[k].in_len = end - off;
			jobs[k].out = outs[k];
			jobs[k].level = level;
			zout_submit(z, &jobs[k]);
			q_n++;
		}
		off = end;
	}
	while (q_n > 0) {
		struct zout_job *j = &jobs[q_head];

		zout_wait(z, j);
		out_total += j->out_len;
		n_stored += j->is_stored;
		if (out != NULL)
			fwrite(j->out, 1, j->out_len, out);
		q_head = (q_head + 1) % MAXQ;
		q_n--;
	}
	t1 = now_s();
	if (out != NULL)
		fclose(out);
	printf("zout level %d threads %u chunk %zu KiB: in %.1f MB out %.1f MB"
	    " ratio %.3f %.1f MB/s stored %d\n", level, threads, chunk / 1024,
	    (double)len / 1e6, (double)out_total / 1e6,
	    (double)len / (double)out_total, (double)len / 1e6 / (t1 - t0),
	    n_stored);
	zout_free(z);
	for (size_t i = 0; i < MAXQ; i++)
		free(outs[i]);
	free(buf);
	return 0;
}

static int
sha(const char *path)
{
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEXLEN];
	size_t len;
	uint8_t *buf = slurp(path, &len);
	double t0, t1;
	int hw;

	for (hw = 1; hw >= 0; hw--) {
		int on = sha256_use_hw(hw);

		t0 = now_s();
		sha256(buf, len, d);
		t1 = now_s();
		sha256_hex(d, hex);
		printf("%s  %s\nsha256 (%s) %.1f MB/s\n", hex, path,
		    on ? "SHA extensions" : "portable",
		    (double)len / 1e6 / (t1 - t0));
	}
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], atof(argv[3]),
		    argc > 4 ? strtoull(argv[4], NULL, 0) : 1,
		    argc > 5 ? strtoull(argv[5], NULL, 0) : 100);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run(argc, argv);
	if (argc == 3 && strcmp(argv[1], "sha") == 0)
		return sha(argv[2]);
	fprintf(stderr, "usage: zbench gen OUT MB [seed [gap_us]] | "
	    "run IN [-t n] [-l level] [-c KiB] [-o OUT] | sha IN\n");
	return 2;
}
