// SPDX-License-Identifier: MIT
/*
 * Port-I/O and MMIO dispatch (see bus.h). Readers take no lock: they load
 * the current immutable snapshot and binary-search it. Writers copy, modify
 * and publish a new snapshot under update_lock; old snapshots stay alive
 * until bus_destroy because a vCPU may still be reading one.
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"

struct bus_map {
	struct bus_map *next_retired;
	size_t nr;
	struct bus_range r[];
};

static struct bus_map *map_alloc(size_t nr)
{
	struct bus_map *m = calloc(1, sizeof(*m) + nr * sizeof(m->r[0]));

	if (!m)
		die("out of memory");
	m->nr = nr;
	return m;
}

void bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	pthread_mutex_init(&b->update_lock, NULL);
	atomic_store(&b->map, map_alloc(0));
}

void bus_destroy(struct bus *b)
{
	struct bus_map *m = atomic_load(&b->map);

	free(m);
	while (b->retired) {
		m = b->retired;
		b->retired = m->next_retired;
		free(m);
	}
	pthread_mutex_destroy(&b->update_lock);
}

static void publish(struct bus *b, struct bus_map *next)
{
	struct bus_map *old = atomic_exchange(&b->map, next);

	old->next_retired = b->retired;
	b->retired = old;
}

/* Last byte of a range, or 0 with *ok false when base + len wraps. */
static uint64_t range_last(uint64_t base, uint64_t len, bool *ok)
{
	*ok = len != 0 && base + (len - 1) >= base;
	return base + (len - 1);
}

int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_io_fn fn,
		 void *opaque, const char *name)
{
	bool ok;
	uint64_t last = range_last(base, len, &ok);
	struct bus_map *cur, *next;
	size_t i, pos;

	if (!ok || !fn)
		return -1;
	pthread_mutex_lock(&b->update_lock);
	cur = atomic_load(&b->map);
	for (pos = 0; pos < cur->nr && cur->r[pos].base < base; pos++)
		;
	/* Overlap with the neighbours on either side? */
	if ((pos > 0 && cur->r[pos - 1].base + (cur->r[pos - 1].len - 1) >= base) ||
	    (pos < cur->nr && cur->r[pos].base <= last)) {
		pthread_mutex_unlock(&b->update_lock);
		log_warn("%s bus: %s at 0x%llx+0x%llx overlaps another device",
			 b->name, name, (unsigned long long)base,
			 (unsigned long long)len);
		return -1;
	}
	next = map_alloc(cur->nr + 1);
	for (i = 0; i < pos; i++)
		next->r[i] = cur->r[i];
	next->r[pos] = (struct bus_range){ base, len, fn, opaque, name };
	for (i = pos; i < cur->nr; i++)
		next->r[i + 1] = cur->r[i];
	publish(b, next);
	pthread_mutex_unlock(&b->update_lock);
	return 0;
}

int bus_unregister(struct bus *b, uint64_t base, void *opaque)
{
	struct bus_map *cur, *next;
	size_t i, j;
	int ret = -1;

	pthread_mutex_lock(&b->update_lock);
	cur = atomic_load(&b->map);
	for (i = 0; i < cur->nr; i++)
		if (cur->r[i].base == base && cur->r[i].opaque == opaque)
			break;
	if (i < cur->nr) {
		next = map_alloc(cur->nr - 1);
		for (j = 0; j < cur->nr; j++)
			if (j != i)
				next->r[j < i ? j : j - 1] = cur->r[j];
		publish(b, next);
		ret = 0;
	}
	pthread_mutex_unlock(&b->update_lock);
	return ret;
}

static const struct bus_range *lookup(const struct bus_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &m->r[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool bus_dispatch(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len,
		  bool is_write)
{
	const struct bus_range *r;

	if (len == 0 || len > 8)
		goto unclaimed;
	r = lookup(atomic_load(&b->map), addr);
	/* The whole access must fall inside the range. */
	if (!r || len > r->len - (addr - r->base))
		goto unclaimed;
	r->fn(r->opaque, addr - r->base, data, len, is_write);
	return true;

unclaimed:
	if (!is_write)
		memset(data, 0xff, len > 8 ? 8 : len);
	/* Guests probe for absent hardware all the time: say it once per bus
	 * (more with --verbose --verbose), then go quiet. */
	{
		unsigned n = atomic_fetch_add(&b->unclaimed_logged, 1);

		if (n == 0)
			log_info("%s bus: unclaimed %s of %u bytes at 0x%llx "
				 "(reads as all-ones; further ones logged with -vv)",
				 b->name, is_write ? "write" : "read", len,
				 (unsigned long long)addr);
		else if (n < 64)
			log_debug("%s bus: unclaimed %s of %u bytes at 0x%llx",
				  b->name, is_write ? "write" : "read", len,
				  (unsigned long long)addr);
	}
	return false;
}
