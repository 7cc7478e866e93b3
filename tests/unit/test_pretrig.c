/*
 * test_pretrig: the pre-trigger ring keeps each host's newest packets within
 * its byte and age budgets and the whole arena within the global cap,
 * evicting oldest first; a snapshot returns exactly the packets kept, in
 * order, byte for byte.  A randomised run over many hosts checks after
 * every push that each host's packets are the newest suffix of what it
 * pushed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pretrig.h"
#include "t.h"

#define SEC	1000000000ull

static void
fill(uint8_t *b, uint32_t n, uint32_t seed)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 31 + i);
}

/* Check a snapshot holds packets first..last (ids), with fill(id). */
static int
snap_matches(struct pretrig_snap *s, uint32_t first, uint32_t last,
    uint32_t caplen, uint64_t t0, uint64_t step)
{
	struct pretrig_pkt p;
	uint8_t want[2048];
	size_t off = 0;
	uint32_t id = first;
	int bad = 0;

	while (pretrig_snap_next(s, &off, &p)) {
		fill(want, caplen, id);
		if (p.ts_ns != t0 + id * step || p.caplen != caplen ||
		    p.wirelen != 1500 || memcmp(p.data, want, caplen) != 0)
			bad++;
		id++;
	}
	return bad == 0 && id == last + 1 && s->n_pkts == last - first + 1;
}

static void
host_budget(void)
{
	struct pretrig *pt = pretrig_new(4, 1 << 20);
	struct pretrig_snap *s;
	struct pretrig_stats st;
	uint8_t buf[200];
	uint64_t pk, by;
	uint32_t i;
	int bad = 0;

	/* 100-byte packets cost 32 + 104 = 136 bytes; budget 10 of them. */
	T_EQ_INT(pretrig_enable(pt, 1, 1360, 0, 65535), 0, "enable host 1");
	errno = 0;
	T_OK(pretrig_push(pt, 0, 0, buf, 10, 10) == -1 && errno == ENOENT,
	    "push to a host not enabled: ENOENT");
	for (i = 0; i < 50; i++) {
		fill(buf, 100, i);
		pretrig_push(pt, 1, 1000 + i * 10ull, buf, 100, 1500);
		pretrig_host_usage(pt, 1, &pk, &by);
		if (by > 1360 || pk != (i < 10 ? i + 1 : 10))
			bad++;
	}
	T_EQ_INT(bad, 0, "host bytes never above budget after any push");
	s = pretrig_take(pt, 1, 1000 + 49 * 10);
	T_OK(s != NULL && snap_matches(s, 40, 49, 100, 1000, 10),
	    "snapshot = the 10 newest packets, oldest first, exact bytes");
	pretrig_snap_free(s);
	pretrig_host_usage(pt, 1, &pk, &by);
	T_OK(pk == 0 && by == 0, "take empties the host");
	T_OK(pretrig_is_enabled(pt, 1), "host stays enabled after take");
	T_OK(pretrig_take(pt, 1, 0) == NULL && errno == ENOENT,
	    "take of an empty host: ENOENT");
	pretrig_get_stats(pt, &st);
	T_EQ_U64(st.n_evict_host, 40, "40 evicted by the host budget");
	T_EQ_U64(st.live_bytes, 0, "no live bytes left");
	/* Too big for the budget: refused, counted. */
	T_OK(pretrig_enable(pt, 2, 100, 0, 65535) == 0 &&
	    pretrig_push(pt, 2, 0, buf, 100, 100) == -1 && errno == E2BIG,
	    "packet above the host budget: E2BIG");
	/* snaplen cuts the copy. */
	pretrig_enable(pt, 3, 10000, 0, 64);
	fill(buf, 200, 7);
	pretrig_push(pt, 3, 5, buf, 200, 1500);
	s = pretrig_take(pt, 3, 5);
	{
		struct pretrig_pkt p;
		size_t off = 0;

		T_OK(s != NULL && pretrig_snap_next(s, &off, &p) &&
		    p.caplen == 64 && p.wirelen == 1500 &&
		    memcmp(p.data, buf, 64) == 0 &&
		    !pretrig_snap_next(s, &off, &p),
		    "snaplen 64 keeps the first 64 bytes, wire length kept");
	}
	pretrig_snap_free(s);
	pretrig_free(pt);
}

static void
host_age(void)
{
	struct pretrig *pt = pretrig_new(2, 1 << 20);
	struct pretrig_snap *s;
	uint8_t buf[64];
	uint64_t pk, by;
	uint32_t i;

	/* One packet a second, keep 5 s. */
	pretrig_enable(pt, 0, 1 << 20, 5 * SEC, 65535);
	for (i = 0; i < 20; i++) {
		fill(buf, 50, i);
		pretrig_push(pt, 0, 100 * SEC + i * SEC, buf, 50, 1500);
	}
	pretrig_host_usage(pt, 0, &pk, &by);
	T_EQ_U64(pk, 6, "pushes keep packets within 5 s of the newest");
	/* Two seconds later at take: only 4 are within 5 s of now. */
	s = pretrig_take(pt, 0, 100 * SEC + 21 * SEC);
	T_OK(s != NULL && snap_matches(s, 16, 19, 50, 100 * SEC, SEC),
	    "take drops packets older than now - 5 s");
	pretrig_snap_free(s);
	pretrig_free(pt);
}

static void
global_cap(void)
{
	struct pretrig *pt = pretrig_new(3, 8192);
	struct pretrig_stats st;
	struct pretrig_snap *s;
	uint8_t buf[256];
	uint64_t pk0, by0, pk1, by1;
	uint32_t i;

	/* Both hosts may use the whole arena; together they cannot. */
	pretrig_enable(pt, 0, 8192, 0, 65535);
	pretrig_enable(pt, 1, 8192, 0, 65535);
	for (i = 0; i < 20; i++) {	/* 20 x 232 = 4640 bytes */
		fill(buf, 200, i);
		pretrig_push(pt, 0, i, buf, 200, 1500);
	}
	for (i = 0; i < 20; i++) {
		fill(buf, 200, 100 + i);
		pretrig_push(pt, 1, 100 + i, buf, 200, 1500);
	}
	pretrig_host_usage(pt, 0, &pk0, &by0);
	pretrig_host_usage(pt, 1, &pk1, &by1);
	pretrig_get_stats(pt, &st);
	T_OK(by0 + by1 <= 8192, "live bytes within the arena (%llu)",
	    (unsigned long long)(by0 + by1));
	T_EQ_U64(pk1, 20, "newest host keeps all its packets");
	T_OK(pk0 < 20 && pk0 + pk1 == 8192 / 232,
	    "oldest host lost its oldest packets (%llu kept)",
	    (unsigned long long)pk0);
	T_EQ_U64(st.n_evict_global, 20 - pk0, "evictions counted as global");
	s = pretrig_take(pt, 0, 19);
	T_OK(s != NULL && snap_matches(s, (uint32_t)(20 - pk0), 19, 200, 0, 1),
	    "host 0 keeps its newest packets");
	pretrig_snap_free(s);
	pretrig_disable(pt, 1);
	pretrig_get_stats(pt, &st);
	T_EQ_U64(st.live_pkts, 0, "disable forgets the host's packets");
	T_OK(pretrig_push(pt, 1, 0, buf, 10, 10) == -1,
	    "disabled host refuses pushes");
	pretrig_free(pt);
}

/*
 * Random pushes over 16 hosts with random budgets and sizes into a small
 * arena: after every push each host holds a contiguous newest suffix of its
 * own pushes, within its budget.
 */
#define RH	16

static void
randomised(void)
{
	struct pretrig *pt = pretrig_new(RH, 64 * 1024);
	uint32_t n_pushed[RH] = { 0 }, lens[RH][4000];
	uint64_t budget[RH];
	unsigned int seed = 7;
	uint8_t buf[1600];
	uint32_t i, h, len;
	uint64_t pk, by, total;
	int bad = 0, bad_budget = 0;

	for (h = 0; h < RH; h++) {
		budget[h] = 2048 + (h * 3779) % 30000;
		pretrig_enable(pt, h, budget[h], 0, 65535);
	}
	for (i = 0; i < 30000; i++) {
		seed = seed * 1103515245u + 12345u;
		h = (seed >> 16) % RH;
		if (n_pushed[h] >= 4000)
			continue;
		len = (seed >> 8) % 1500;
		fill(buf, len, n_pushed[h] * 100 + h);
		if (pretrig_push(pt, h, i, buf, len, 1500) == 0)
			lens[h][n_pushed[h]++] = len;
		total = 0;
		for (h = 0; h < RH; h++) {
			pretrig_host_usage(pt, h, &pk, &by);
			if (by > budget[h])
				bad_budget++;
			total += by;
		}
		if (total > 64 * 1024)
			bad_budget++;
	}
	T_EQ_INT(bad_budget, 0, "host and global budgets held after each push");
	{
		struct pretrig_stats st;

		pretrig_get_stats(pt, &st);
		T_OK(st.n_evict_global > 0 && st.n_evict_host > 0,
		    "run exercised global (%llu) and host (%llu) eviction",
		    (unsigned long long)st.n_evict_global,
		    (unsigned long long)st.n_evict_host);
	}
	for (h = 0; h < RH; h++) {
		struct pretrig_snap *s = pretrig_take(pt, h, i);
		struct pretrig_pkt p;
		size_t off = 0;
		uint32_t id;
		uint8_t want[1600];

		if (s == NULL)
			continue;
		id = n_pushed[h] - s->n_pkts;
		while (pretrig_snap_next(s, &off, &p)) {
			fill(want, lens[h][id], id * 100 + h);
			if (p.caplen != lens[h][id] ||
			    memcmp(p.data, want, p.caplen) != 0)
				bad++;
			id++;
		}
		if (id != n_pushed[h])
			bad++;
		pretrig_snap_free(s);
	}
	T_EQ_INT(bad, 0, "each host keeps the newest suffix of its packets");
	pretrig_free(pt);
}

int
main(void)
{
	T_OK(pretrig_new(0, 1 << 20) == NULL && errno == EINVAL,
	    "zero hosts: EINVAL");
	host_budget();
	host_age();
	global_cap();
	randomised();
	return t_done();
}
