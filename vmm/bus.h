/* SPDX-License-Identifier: MIT */
/*
 * Port-I/O and MMIO dispatch. Devices register address ranges; vCPU exits are
 * routed here. The lookup is lock-free: the range table is an immutable,
 * sorted snapshot swapped atomically on (rare) registration changes, such as
 * a guest moving a PCI BAR, so a device callback may itself (un)register
 * ranges on any bus.
 *
 * Unclaimed reads return all-ones; each unclaimed address is logged once per
 * bus (rate-limited), writes to it are dropped.
 */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A device access: offset is relative to the registered base; len is 1, 2,
 * 4 or 8 (MMIO may also be other sizes up to 8); data is little-endian. On a
 * read the callback fills data[0..len). Callbacks run on vCPU threads,
 * concurrently: each device takes its own lock.
 */
typedef void (*bus_io_fn)(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_io_fn fn;
	void *opaque;
	const char *name;
};

struct bus_map;

struct bus {
	const char *name;
	_Atomic(struct bus_map *) map;
	pthread_mutex_t update_lock;
	struct bus_map *retired;   /* old snapshots, freed in bus_destroy */
	atomic_uint unclaimed_logged;
};

void bus_init(struct bus *b, const char *name);
void bus_destroy(struct bus *b);

/* Returns 0, or -1 if len is 0, it wraps, or it overlaps another range. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_io_fn fn,
		 void *opaque, const char *name);
/* Remove the range starting at base owned by opaque; 0 or -1 if none. */
int bus_unregister(struct bus *b, uint64_t base, void *opaque);

/*
 * Route one access. Returns true if a device claimed it. An access that
 * straddles the end of a range is not claimed (devices never see bytes
 * beyond what they registered).
 */
bool bus_dispatch(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len,
		  bool is_write);

#endif
