/*
 * test_sha256: FIPS 180-4 / NIST CAVP example vectors, streaming splits,
 * and a cross-check against coreutils' sha256sum on pseudo-random data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"
#include "t.h"

static void
check_vec(const char *name, const void *msg, size_t len, const char *want)
{
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEXLEN];

	sha256(msg, len, d);
	sha256_hex(d, hex);
	T_EQ_STR(hex, want, name);
}

/* Feed the same message in pieces of varying size; the digest must match. */
static void
check_splits(const uint8_t *msg, size_t len)
{
	uint8_t one[SHA256_LEN], d[SHA256_LEN];
	struct sha256 s;
	size_t off, step, i;
	int bad = 0;

	sha256(msg, len, one);
	for (step = 1; step <= 130; step += 3) {
		sha256_init(&s);
		for (off = 0, i = 0; off < len; i++) {
			size_t n = (step + i * 7) % 131 + 1;

			if (n > len - off)
				n = len - off;
			sha256_update(&s, msg + off, n);
			off += n;
		}
		sha256_final(&s, d);
		if (memcmp(d, one, sizeof(d)) != 0)
			bad++;
	}
	T_EQ_INT(bad, 0, "digest independent of update() split sizes");
}

/* Every length around the padding boundaries (55, 56, 63, 64, ...). */
static void
check_vs_sha256sum(void)
{
	char path[] = "/tmp/sensord-sha-XXXXXX", cmd[128], line[128];
	char hex[SHA256_HEXLEN];
	uint8_t buf[4096], d[SHA256_LEN];
	size_t lens[] = { 0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128,
	    129, 1000, 4096 };
	unsigned int seed = 12345;
	size_t i, k;
	int fd, bad = 0;
	FILE *p;

	for (i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		fd = mkstemp(path);
		if (fd < 0 || write(fd, buf, lens[k]) != (ssize_t)lens[k]) {
			bad++;
			continue;
		}
		close(fd);
		snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
		p = popen(cmd, "r");
		if (p == NULL || fgets(line, sizeof(line), p) == NULL)
			bad++;
		else {
			sha256(buf, lens[k], d);
			sha256_hex(d, hex);
			if (strncmp(line, hex, 64) != 0)
				bad++;
		}
		if (p != NULL)
			pclose(p);
		unlink(path);
		strcpy(path, "/tmp/sensord-sha-XXXXXX");
	}
	T_EQ_INT(bad, 0, "matches sha256sum at 15 lengths around block edges");
}

/* The SHA-extension path and the portable one agree on every length. */
static void
check_hw_vs_portable(void)
{
	static uint8_t buf[5000];
	uint8_t a[SHA256_LEN], b[SHA256_LEN];
	unsigned int seed = 777;
	size_t i, len;
	int bad = 0, hw;

	for (i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	hw = sha256_use_hw(1);
	for (len = 0; len < sizeof(buf); len += 1 + len / 7) {
		sha256_use_hw(1);
		sha256(buf, len, a);
		sha256_use_hw(0);
		sha256(buf, len, b);
		if (memcmp(a, b, sizeof(a)) != 0)
			bad++;
	}
	sha256_use_hw(1);
	T_EQ_INT(bad, 0, hw ? "SHA extensions = portable code on 0..5000 "
	    "bytes" : "no SHA extensions on this CPU: portable code only");
}

int
main(void)
{
	uint8_t *m;
	struct sha256 s;
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEXLEN];
	int i;

	/* FIPS 180-4 examples (NIST "Example Algorithms", SHA256.pdf). */
	check_vec("empty", "", 0,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_vec("abc", "abc", 3,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_vec("448-bit message",
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check_vec("896-bit message",
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

	m = malloc(1000000);
	memset(m, 'a', 1000000);
	check_vec("one million 'a' (one call)", m, 1000000,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* Same message streamed 1000 bytes at a time. */
	sha256_init(&s);
	for (i = 0; i < 1000; i++)
		sha256_update(&s, m, 1000);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	T_EQ_STR(hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	    "one million 'a' (1000 updates)");
	check_splits((const uint8_t *)
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112);
	free(m);
	check_vs_sha256sum();
	check_hw_vs_portable();
	/* The NIST vectors once more, on the portable path. */
	sha256_use_hw(0);
	check_vec("abc (portable)", "abc", 3,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_vec("896-bit message (portable)",
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	sha256_use_hw(1);
	return t_done();
}
