/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2, 2.7), the device side. Everything in the
 * rings is written by a hostile guest at any time, so:
 *  - ring addresses and sizes are checked once, when the driver enables the
 *    queue (alignment, every byte in guest RAM via mem.h);
 *  - each descriptor is copied out of guest memory once, then validated:
 *    index < queue size, buffer inside guest RAM, device-readable buffers
 *    before device-writable ones;
 *  - a chain visits at most queue-size descriptors (an indirect table at most
 *    its own length, and no nesting): a loop ends there instead of spinning;
 *  - the avail index may be at most queue-size ahead of what was consumed.
 * A violation makes virtq_pop() return VIRTQ_BROKEN: the transport then
 * marks the device DEVICE_NEEDS_RESET, as the spec asks (2.1.2).
 *
 * Not thread-safe: the owner (the virtio device) serialises with its lock.
 */
#ifndef VMM_VIRTIO_VIRTQ_H
#define VMM_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../mem.h"

#define VIRTQ_MAX_SIZE 1024      /* largest queue we offer */
/* Segments (guest buffers) one element may have after flattening indirect
 * tables: enough for any chain Linux builds. */
#define VIRTQ_MAX_SEGS 1024

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

struct virtq_seg {
	uint64_t gpa;
	uint32_t len;
};

/* One request: the descriptor chain starting at head, flattened. */
struct virtq_elem {
	uint16_t head;
	unsigned n_out, n_in;        /* readable segments, then writable ones */
	uint64_t out_len, in_len;    /* total bytes each way */
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
};

struct virtq {
	/* Set by the transport from the driver's registers. */
	uint16_t size;               /* power of two, 1..VIRTQ_MAX_SIZE */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool indirect;               /* VIRTIO_F_INDIRECT_DESC negotiated */
	/* Run-time state. */
	bool ready;
	bool broken;
	uint16_t last_avail;
	uint16_t used_idx;
	const struct guest_mem *mem;
	/* Host views of the rings, from mem_ptr() when enabled. */
	struct virtq_desc *desc;
	volatile uint16_t *avail;    /* flags, idx, ring[size] */
	volatile uint8_t *used;      /* flags, idx, ring[size] of {id, len} */
};

enum virtq_pop_result {
	VIRTQ_EMPTY = 0,
	VIRTQ_OK = 1,
	VIRTQ_BROKEN = -1,
};

/* Validate the ring addresses and start. 0, or -1 (the queue stays off). */
int virtq_enable(struct virtq *q, const struct guest_mem *mem);
/* Forget everything (device reset). */
void virtq_reset(struct virtq *q);

/* Take the next available chain into *e. */
enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_elem *e);
/* Return a chain with len bytes written into its writable part. */
void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t len);
/* Put the last popped chain back (the device could not use it yet). */
void virtq_unpop(struct virtq *q);
/* Whether the driver wants an interrupt for used buffers now. */
bool virtq_should_notify(const struct virtq *q);
/* Whether chains are waiting. */
bool virtq_has_avail(struct virtq *q);

/*
 * Copy between the element's buffers and host memory: read from the
 * readable part, write into the writable part, starting at byte off of that
 * part. Return the number of bytes copied (short at the end of the part).
 */
size_t virtq_elem_read(const struct virtq *q, const struct virtq_elem *e,
		       size_t off, void *dst, size_t len);
size_t virtq_elem_write(const struct virtq *q, const struct virtq_elem *e,
			size_t off, const void *src, size_t len);

#endif
