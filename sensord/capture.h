/*
 * capture.h: live capture on one interface through libpcap.
 *
 * Opened with pcap_create() so that the kernel buffer, snaplen, timeout and
 * timestamp precision are ours to set; non-blocking, polled by the event
 * loop, read with a packet budget per call so that one busy interface cannot
 * starve the tick, the control socket or another interface.
 *
 * A struct capture outlives its pcap handles: when an interface goes away
 * the handle is closed and a later one reopened into the same struct, and
 * the kernel drop counters of every handle it has had are summed here.
 */
#ifndef SENSORD_CAPTURE_H
#define SENSORD_CAPTURE_H

#include <net/if.h>
#include <pcap/pcap.h>
#include <stdint.h>

struct capture_config {
	int snaplen;	  /* bytes kept per packet */
	int buffer_bytes; /* kernel ring size */
	int timeout_ms;	  /* TPACKET_V3 block timeout */
	int promisc;
};

struct capture {
	pcap_t	*p; /* NULL while closed */
	char	 name[IF_NAMESIZE];
	int	 fd; /* selectable fd, -1 while closed */
	int	 dlt;
	int	 ts_nsec;	/* 1: pcap_pkthdr.ts.tv_usec holds ns */
	uint8_t	 idx;		/* our interface index */
	uint64_t n_recv;	/* delivered to us, every handle */
	uint64_t n_opens;	/* handles opened */
	uint64_t n_read_errors; /* handles that failed while reading */
	uint64_t n_drop_base;	/* kernel drops of earlier handles */
	uint64_t n_ifdrop_base;
	unsigned last_drop; /* pcap_stats of the open handle */
	unsigned last_ifdrop;
	/* Last error or warning of open/read, kept past pcap_close(). */
	char err[PCAP_ERRBUF_SIZE + 64];
	/* The loop's (live.c), monotonic us: read errors before this time
	   are not logged; a failed open is not retried before retry_at,
	   retry_s doubling from 1 s to 64 s while it keeps failing. */
	uint64_t rderr_quiet_until;
	uint64_t retry_at;
	unsigned retry_s;
};

/* Zero the struct, no handle open (fd -1). */
void capture_init(struct capture *c, const char *ifname, uint8_t idx);

/*
 * Open a handle on c->name.  0 (c->err holds a libpcap warning, or ""), or
 * -1 with the reason in c->err (names the interface).
 */
int  capture_open(struct capture *c, const struct capture_config *cfg);
void capture_close(struct capture *c);

/*
 * Read at most `budget` packets (-1: every packet the ring holds).  Returns
 * the number read, 0 when the ring was empty, -1 when the handle failed
 * (interface down or gone): c->err says why; the caller closes it.
 */
int capture_dispatch(
    struct capture *c, int budget, pcap_handler cb, u_char *user);

/* Kernel counters summed over every handle this capture has had. */
void capture_drops(struct capture *c, uint64_t *drop, uint64_t *ifdrop);

#endif /* SENSORD_CAPTURE_H */
