/*
 * spool.h: escalated-capture files on disk.
 *
 * Everything from "these packets belong to host H's capture" down to the
 * disk: per-host rotating gzip pcap files under hard caps, crash safe, with
 * chain-of-custody sidecars.  Synchronous and single-threaded (one owner:
 * the writer thread, or the caller in inline mode and tests); compression
 * may run on a zout pool, results are written in order by the owner.
 *
 * Layout under STATEDIR/captures/:
 *   <host>/                     address text, IPv6 ':' written as '_'
 *   <host>/<start>_<id>.pcap.gz  a closed file; start is the first
 *                                packet's UTC time (20261129T180000Z), id
 *                                a spool-wide number that only grows
 *   <host>/<...>.pcap.gz.json    its sidecar (chain of custody, index)
 *   <host>/<...>.pcap.gz.part    the file being written
 *   <host>/quarantine/           start-up leftovers that did not verify
 * Files are 0640, directories 0750 (before the umask).
 *
 * Caps, all checked before every write, never after: per file (on-disk
 * bytes of the .pcap.gz: rotate), per host (its files and sidecars),
 * global (all hosts) and a free-space floor.  Reaching a cap deletes the
 * oldest closed files (the host's own for the host cap, any host's for the
 * global cap and the floor), never a file being written; when that cannot
 * make room the host is suspended: its packets are dropped and counted,
 * one SUSPENDED event, one RESUMED event when room is back.
 */
#ifndef SENSORD_SPOOL_H
#define SENSORD_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sha256.h"

#define SPOOL_NAME_MAX 128 /* "<host>/<file>" relative name */
#define SPOOL_METRIC_MAX 32
#define SPOOL_REASON_MAX 128
#define SPOOL_CHUNK_MAX (4u << 20)
#define SPOOL_NO_SLOT UINT32_MAX

/* Per-capture limits, given at escalation. */
struct spool_limits {
	uint64_t file_size;  /* cap per .pcap.gz file, bytes */
	uint64_t host_cap;   /* cap per host: files + sidecars */
	uint64_t rotate_ns;  /* close a file this old; 0: never */
	uint32_t snaplen;    /* 1..262144 */
	uint32_t linktype;   /* DLT of the packets */
	int	 level;	     /* 0 (store) .. 12; default 1 */
	int	 is_nsec;    /* nanosecond pcap magic */
	int	 is_aligned; /* rotate on multiples of rotate_ns */
};

/* Why the daemon escalated the host (copied into every file's metadata). */
struct spool_trigger {
	uint64_t event_id;
	double	 value;
	double	 threshold;
	char	 metric[SPOOL_METRIC_MAX];
	char	 reason[SPOOL_REASON_MAX];
};

enum spool_ev_type {
	SPOOL_EV_FILE_CLOSED,  /* name, sha256, counts */
	SPOOL_EV_FILE_DELETED, /* name: removed by a cap (audit) */
	SPOOL_EV_SUSPENDED,    /* why, err */
	SPOOL_EV_RESUMED,      /* dropped: packets lost while suspended */
	SPOOL_EV_WRITE_ERROR,  /* err: an error that did not suspend */
	SPOOL_EV_RECOVERED,    /* name: a .part finalised at start-up */
	SPOOL_EV_QUARANTINED   /* name: a leftover set aside */
};

enum spool_why {
	SPOOL_WHY_NONE = 0,
	SPOOL_WHY_ROTATE_SIZE, /* closed: next packet would pass file_size */
	SPOOL_WHY_ROTATE_TIME, /* closed: rotate_ns elapsed */
	SPOOL_WHY_CLOSE,       /* closed: capture ended */
	SPOOL_WHY_HOST_CAP,    /* deleted / suspended for the host cap */
	SPOOL_WHY_GLOBAL_CAP,  /* deleted / suspended for the global cap */
	SPOOL_WHY_MIN_FREE,    /* deleted / suspended for the free floor */
	SPOOL_WHY_WRITE_ERROR  /* suspended: write(2) failed (err) */
};

struct spool_event {
	enum spool_ev_type type;
	enum spool_why	   why;
	int		   err;	 /* errno, when relevant */
	uint32_t	   slot; /* SPOOL_NO_SLOT when none */
	uint8_t		   addr[16];
	uint64_t	   file_id;
	uint64_t	   packets;    /* file: records in it */
	uint64_t	   bytes_raw;  /* file: pcap bytes, uncompressed */
	uint64_t	   bytes_disk; /* file: .pcap.gz size */
	uint64_t	   dropped;    /* RESUMED: packets dropped meanwhile */
	uint8_t		   sha256[SHA256_LEN];
	char		   name[SPOOL_NAME_MAX];
};

/*
 * Seams for tests (NULL: the real system calls).  write_fn is pwrite(2)
 * for every byte the spool writes; avail_fn returns the bytes available to
 * us on the spool's file system (statfs f_bavail * f_bsize).
 */
typedef ssize_t (*spool_write_fn)(
    void *arg, int fd, const void *buf, size_t len, off_t off);
typedef int (*spool_avail_fn)(void *arg, int dirfd, uint64_t *avail);
typedef void (*spool_event_fn)(void *arg, const struct spool_event *ev);

struct spool_config {
	const char    *statedir;    /* captures/ is created below it */
	uint32_t       max_slots;   /* capture slots (host indices) */
	uint64_t       global_cap;  /* all hosts; 0: no global cap */
	uint64_t       min_free;    /* free-space floor; 0: none */
	size_t	       chunk_bytes; /* raw bytes per gzip member (1 MiB) */
	uint64_t       flush_ns;    /* seal chunks this old on tick (2 s) */
	uint64_t       sync_ns;	    /* fdatasync open files every (10 s) */
	unsigned       zthreads;    /* compression threads, 0: inline */
	spool_write_fn write_fn;
	spool_avail_fn avail_fn;
	void	      *io_arg;
	spool_event_fn event_fn;
	void	      *event_arg;
};

/* Counters for one slot; monotonic unless noted. */
struct spool_slot_stats {
	uint64_t       pkts_written;   /* records handed to the file */
	uint64_t       bytes_raw;      /* pcap bytes of those records */
	uint64_t       drop_suspended; /* dropped while suspended */
	uint64_t       drop_toobig;    /* a record larger than an empty file */
	uint64_t       drop_badts;     /* time not encodable (after 2106) */
	uint64_t       drop_write;     /* lost in a failed write at close */
	uint64_t       files_closed;
	int	       is_open;	     /* gauge */
	int	       is_suspended; /* gauge */
	enum spool_why why;	     /* gauge: why suspended */
};

struct spool_stats {
	uint64_t bytes_on_disk; /* closed + sidecars + open files */
	uint64_t files;		/* closed files in the catalogue */
	uint64_t hosts;		/* host directories known */
	uint64_t files_closed;
	uint64_t files_deleted;
	uint64_t write_errors;
	uint64_t recovered;
	uint64_t quarantined;
	uint64_t statfs_calls;
	uint64_t sidecar_pending; /* sidecars waiting for a retry */
	uint64_t inflight_peak;	  /* most members compressed at once */
	uint64_t inflight_max;	  /* its bound: 2 x zthreads + 2 */
};

struct spool;

void spool_config_defaults(struct spool_config *cfg);
void spool_limits_defaults(struct spool_limits *lim);

/*
 * Create captures/ if needed, scan it: finalise or quarantine leftover
 * .part files, write missing sidecars, rebuild the catalogue.  NULL with
 * errno when the directory cannot be used.
 */
struct spool *spool_new(const struct spool_config *cfg);
/* Close every open capture (files finalised), free everything. */
void spool_free(struct spool *sp);
/* Close every open capture; the spool stays usable (shutdown, stats). */
void spool_close_all(struct spool *sp);

/*
 * Start capturing for a host in a slot.  No file is created until the first
 * packet.  -1 with errno: EINVAL (bad slot or limits), EBUSY (slot in use,
 * or the address open in another slot), or a directory error.
 */
int spool_open(struct spool *sp, uint32_t slot, const uint8_t addr[16],
    const struct spool_limits *lim, const struct spool_trigger *trig);
/* Finalise the current file and free the slot. */
int spool_close(struct spool *sp, uint32_t slot);

/*
 * One packet for the slot's capture (data cut to the snaplen).  0 when it
 * was accepted, -1 when dropped (counted): ENOENT (slot not open),
 * EAGAIN (suspended), E2BIG (larger than an empty file), EOVERFLOW (time
 * after 2106), ENOMEM.  Memory: each open capture holds one chunk of up to
 * chunk_bytes; the pool holds at most 2 x zthreads + 2 sealed members.
 */
int spool_pkt(struct spool *sp, uint32_t slot, uint64_t ts_ns,
    const uint8_t *data, uint32_t caplen, uint32_t wirelen);

/*
 * Flow time moves on: rotate files older than rotate_ns, seal chunks older
 * than flush_ns and write them, fdatasync, retry suspended hosts and
 * pending sidecars.  Call about once a second, also when no packets come.
 */
void spool_tick(struct spool *sp, uint64_t now_ns);

/* Write every member still being compressed, waiting for each. */
void spool_sync(struct spool *sp);

/* Write the members whose compression has finished (in order); no wait. */
void spool_pump(struct spool *sp);

/* Members handed to the compressors and not yet written. */
size_t spool_pending(const struct spool *sp);

void spool_slot_stats(
    const struct spool *sp, uint32_t slot, struct spool_slot_stats *st);
void spool_get_stats(const struct spool *sp, struct spool_stats *st);

/* Directory name for an address: "192.0.2.1", "2001_db8__1". */
void spool_host_dirname(const uint8_t addr[16], char *buf, size_t size);
/* The address a host directory name stands for: 0, or -1 unless it is the
 * exact name spool_host_dirname() gives (no "::ffff:1.2.3.4", no "1.02.3.4"). */
int	    spool_dirname_addr(const char *name, uint8_t addr[16]);
const char *spool_why_name(enum spool_why why);
const char *spool_ev_name(enum spool_ev_type type);

#endif /* SENSORD_SPOOL_H */
