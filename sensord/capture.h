/*
 * capture.h: live capture on one interface through libpcap.
 *
 * Opened with pcap_create() so that the kernel buffer, snaplen, timeout and
 * timestamp precision are ours to set; non-blocking, polled by the event
 * loop, read with a packet budget per call so that one busy interface cannot
 * starve the tick, the control socket or another interface.
 */
#ifndef SENSORD_CAPTURE_H
#define SENSORD_CAPTURE_H

#include <net/if.h>
#include <pcap/pcap.h>
#include <stdint.h>

struct capture_config {
	int		snaplen;	/* bytes kept per packet */
	int		buffer_bytes;	/* kernel ring size */
	int		timeout_ms;	/* TPACKET_V3 block timeout */
	int		promisc;
};

struct capture {
	pcap_t		*p;		/* NULL while closed */
	char		 name[IF_NAMESIZE];
	int		 fd;		/* selectable fd, -1 while closed */
	int		 dlt;
	uint8_t		 idx;		/* our interface index */
	uint64_t	 n_recv;	/* delivered to us */
	uint64_t	 n_drop_base;	/* kernel drops of earlier handles */
	uint64_t	 n_ifdrop_base;
	unsigned	 last_drop;	/* pcap_stats of the open handle */
	unsigned	 last_ifdrop;
};

/* 0, or -1 with a message in err (names the interface). */
int	capture_open(struct capture *c, const char *ifname, uint8_t idx,
	    const struct capture_config *cfg, char *err, size_t errlen);
void	capture_close(struct capture *c);

/*
 * Read at most `budget` packets.  Returns the number read, 0 when the ring
 * was empty, -1 when the handle failed (interface gone: close and reopen).
 */
int	capture_dispatch(struct capture *c, int budget, pcap_handler cb,
	    u_char *user);

/* Kernel counters summed over every handle this capture has had. */
void	capture_drops(struct capture *c, uint64_t *drop, uint64_t *ifdrop);

#endif /* SENSORD_CAPTURE_H */
