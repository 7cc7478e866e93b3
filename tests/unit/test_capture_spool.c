/*
 * test_capture_spool: the spool on a full disk at a rotation, the case the
 * live disk-full test (tests/integ/capture_diskfull.sh) found.
 *
 * A chunk larger than the file cap: the file is closed for its size with
 * the chunk still in memory, and the close's write of it fails (ENOSPC,
 * through the write seam).  The capture must then stay suspended (one
 * SUSPENDED event, packets dropped) until a tick finds room for a whole
 * member (statfs seam), and then resume (one RESUMED event) and write
 * again.  It used to open a new file at once, take that packet without a
 * RESUMED event and drop every later packet for the rest of the capture.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "t.h"

struct io {
	int		fail_big;	/* ENOSPC for writes above 4 KiB */
	uint64_t	avail;		/* what statfs says is free */
};

static int n_susp, n_res, n_closed, last_err;
static uint64_t closed_pkts;

static ssize_t
io_write(void *arg, int fd, const void *buf, size_t len, off_t off)
{
	struct io *io = arg;

	/* The metadata member of a new file is small and still fits. */
	if (io->fail_big && len > 4096) {
		errno = ENOSPC;
		return -1;
	}
	return pwrite(fd, buf, len, off);
}

static int
io_avail(void *arg, int dirfd, uint64_t *avail)
{
	struct io *io = arg;

	(void)dirfd;
	*avail = io->avail;
	return 0;
}

static void
on_event(void *arg, const struct spool_event *ev)
{
	(void)arg;
	switch (ev->type) {
	case SPOOL_EV_SUSPENDED:
		n_susp++;
		last_err = ev->err;
		break;
	case SPOOL_EV_RESUMED:
		n_res++;
		break;
	case SPOOL_EV_FILE_CLOSED:
		n_closed++;
		closed_pkts += ev->packets;
		break;
	default:
		break;
	}
}

static int
feed(struct spool *sp, uint32_t from, uint32_t n, uint64_t *ts)
{
	uint8_t pkt[500];
	uint32_t i;
	int ok = 0;

	for (i = from; i < from + n; i++) {
		memset(pkt, (int)(i * 7), sizeof(pkt));
		memcpy(pkt, &i, sizeof(i));
		*ts += 1000000;		/* 1 ms apart */
		if (spool_pkt(sp, 0, *ts, pkt, sizeof(pkt), sizeof(pkt)) == 0)
			ok++;
	}
	return ok;
}

int
main(void)
{
	static const uint8_t addr[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	    0xff, 192, 0, 2, 77 };
	char dir[] = "/tmp/test_capture_spool.XXXXXX", cmd[128];
	struct spool_config cfg;
	struct spool_limits lim;
	struct spool_slot_stats ss;
	struct io io = { 0, 1u << 30 };
	struct spool *sp;
	uint64_t ts = 1700000000ULL * 1000000000ULL;
	int ok;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	spool_config_defaults(&cfg);
	cfg.statedir = dir;
	cfg.max_slots = 1;
	cfg.global_cap = 0;
	cfg.min_free = 0;
	cfg.chunk_bytes = 65536;
	cfg.zthreads = 0;
	cfg.write_fn = io_write;
	cfg.avail_fn = io_avail;
	cfg.io_arg = &io;
	cfg.event_fn = on_event;
	spool_limits_defaults(&lim);
	lim.file_size = 40000;	/* < one chunk: closed with the chunk unsealed */
	lim.host_cap = 1u << 30;
	lim.snaplen = 2048;
	lim.linktype = 1;
	lim.level = 0;
	T_OK((sp = spool_new(&cfg)) != NULL, "spool_new");
	if (sp == NULL)
		return t_done();
	T_EQ_INT(spool_open(sp, 0, addr, &lim, NULL), 0, "spool_open");

	/* The disk is full for members from the start. */
	io.fail_big = 1;
	ok = feed(sp, 0, 200, &ts);
	T_OK(ok > 0 && ok < 200, "packets taken until the close at the cap "
	    "failed (%d)", ok);
	T_EQ_INT(n_susp, 1, "one SUSPENDED event");
	T_EQ_INT(last_err, ENOSPC, "suspended for ENOSPC");
	T_EQ_INT(feed(sp, 200, 100, &ts), 0, "suspended: every packet "
	    "dropped (no new file takes them)");
	T_EQ_INT(n_res, 0, "no RESUMED while the disk is full");

	/* A tick on a disk with less room than a member: still suspended. */
	io.avail = 10000;
	spool_tick(sp, ts);
	T_EQ_INT(feed(sp, 300, 100, &ts), 0, "no room for a member: dropped");
	T_EQ_INT(n_susp + n_res, 1, "no SUSPENDED/RESUMED flapping");

	/* Room is back. */
	io.fail_big = 0;
	io.avail = 1u << 30;
	spool_tick(sp, ts);
	T_EQ_INT(feed(sp, 400, 300, &ts), 300, "room back: every packet "
	    "taken");
	T_EQ_INT(n_res, 1, "one RESUMED event");
	T_EQ_INT(n_susp, 1, "still one SUSPENDED event");
	spool_slot_stats(sp, 0, &ss);
	T_OK(ss.drop_suspended >= 200, "drops counted (%llu)",
	    (unsigned long long)ss.drop_suspended);
	T_EQ_INT(spool_close(sp, 0), 0, "spool_close");
	T_OK(n_closed >= 1 && closed_pkts == 300, "the packets after the "
	    "resume are in closed files (%d files, %llu packets)", n_closed,
	    (unsigned long long)closed_pkts);
	spool_free(sp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done();
}
