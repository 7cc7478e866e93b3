/*
 * ring.h: bounded single-producer/single-consumer ring of variable-length
 * records (C11 atomics, no locks, no system calls).
 *
 * One thread produces (ring_reserve + ring_commit), one other thread
 * consumes (ring_peek + ring_consume).  A record is contiguous in memory and
 * 8-byte aligned, so the payload can hold any plain struct copied in with
 * memcpy.  A full ring refuses (NULL), never blocks: the caller counts the
 * drop.  Allocation happens only in ring_new().
 */
#ifndef SENSORD_RING_H
#define SENSORD_RING_H

#include <stddef.h>

struct ring;

/*
 * A ring of at least cap bytes (rounded up to a power of two, minimum 256).
 * A record needs its length rounded up to 8 plus an 8-byte header; the
 * largest record is ring_max_record().  NULL with errno on failure.
 */
struct ring *ring_new(size_t cap);
void	     ring_free(struct ring *r);
size_t	     ring_cap(const struct ring *r);
size_t	     ring_max_record(const struct ring *r);

/*
 * Producer.  ring_reserve() returns len writable bytes or NULL when the ring
 * lacks room (or len > ring_max_record()); nothing is visible to the
 * consumer until ring_commit().  At most one reservation is outstanding; a
 * reservation must be committed before the next one.
 */
void *ring_reserve(struct ring *r, size_t len);
/*
 * As ring_reserve(), but only if `spare` bytes stay free afterwards: lets
 * the producer keep room for records that must not be refused (commands
 * behind a flood of packets).
 */
void *ring_reserve_spare(struct ring *r, size_t len, size_t spare);
void  ring_commit(struct ring *r);

/*
 * Consumer.  ring_peek() returns the oldest committed record and its length
 * (NULL when empty); it stays valid until ring_consume() releases it.
 */
void *ring_peek(struct ring *r, size_t *len);
void  ring_consume(struct ring *r);

/* Bytes in use (records, headers, padding): a snapshot, for statistics. */
size_t ring_used(const struct ring *r);

#endif /* SENSORD_RING_H */
