// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side (virtio 1.2, 2.7). See virtq.h for the rules
 * a hostile driver is held to.
 */
#include <string.h>

#include "../log.h"
#include "virtq.h"

#define AVAIL_FLAGS 0
#define AVAIL_IDX   1
#define AVAIL_RING  2
#define USED_IDX_OFF  2
#define USED_RING_OFF 4
#define USED_ELEM_SIZE 8

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int virtq_enable(struct virtq *q, const struct guest_mem *mem)
{
	uint64_t desc_len = 16ULL * q->size;
	uint64_t avail_len = 6 + 2ULL * q->size;
	uint64_t used_len = 6 + 8ULL * q->size;

	q->ready = false;
	if (!is_pow2(q->size) || q->size > VIRTQ_MAX_SIZE)
		return -1;
	/* Alignment from 2.7: 16 for the table, 2 and 4 for the rings. */
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -1;
	q->desc = mem_ptr(mem, q->desc_gpa, desc_len);
	q->avail = mem_ptr(mem, q->avail_gpa, avail_len);
	q->used = mem_ptr(mem, q->used_gpa, used_len);
	if (!q->desc || !q->avail || !q->used)
		return -1;
	q->mem = mem;
	q->last_avail = 0;
	q->used_idx = 0;
	q->broken = false;
	q->ready = true;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

static uint16_t avail_idx(const struct virtq *q)
{
	uint16_t v = __atomic_load_n(&q->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);

	return v;
}

bool virtq_has_avail(struct virtq *q)
{
	return q->ready && !q->broken && avail_idx(q) != q->last_avail;
}

static bool add_seg(struct virtq *q, struct virtq_elem *e,
		    const struct virtq_desc *d)
{
	unsigned n = e->n_out + e->n_in;
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;

	if (n >= VIRTQ_MAX_SEGS)
		return false;
	/* Readable buffers come first (2.7.4.2); a zero-length one is fine
	 * but carries nothing. */
	if (!writable && e->n_in)
		return false;
	if (d->len && !mem_ptr(q->mem, d->addr, d->len))
		return false;
	e->seg[n].gpa = d->addr;
	e->seg[n].len = d->len;
	if (writable) {
		e->n_in++;
		e->in_len += d->len;
	} else {
		e->n_out++;
		e->out_len += d->len;
	}
	return true;
}

/* Walk an indirect table: its own chain, bounded by its length, no nesting. */
static bool walk_indirect(struct virtq *q, struct virtq_elem *e,
			  const struct virtq_desc *ind)
{
	const struct virtq_desc *table;
	unsigned count = ind->len / sizeof(struct virtq_desc);
	unsigned i = 0, steps = 0;

	if (!q->indirect || ind->len == 0 ||
	    ind->len % sizeof(struct virtq_desc) || count > VIRTQ_MAX_SEGS)
		return false;
	table = mem_ptr(q->mem, ind->addr, ind->len);
	if (!table)
		return false;
	for (;;) {
		struct virtq_desc d;

		memcpy(&d, &table[i], sizeof(d));   /* read once */
		if (d.flags & VIRTQ_DESC_F_INDIRECT || !add_seg(q, e, &d))
			return false;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return true;
		if (d.next >= count || ++steps >= count)
			return false;                /* out of table, or a loop */
		i = d.next;
	}
}

enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_elem *e)
{
	uint16_t idx, head, i;
	unsigned steps = 0;

	if (!q->ready || q->broken)
		return VIRTQ_EMPTY;
	idx = avail_idx(q);
	if (idx == q->last_avail)
		return VIRTQ_EMPTY;
	if ((uint16_t)(idx - q->last_avail) > q->size)
		goto broken;
	head = q->avail[AVAIL_RING + (q->last_avail & (q->size - 1))];
	/* Read the descriptors only after the index that published them. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (head >= q->size)
		goto broken;
	e->head = head;
	e->n_out = e->n_in = 0;
	e->out_len = e->in_len = 0;
	i = head;
	for (;;) {
		struct virtq_desc d;

		memcpy(&d, &q->desc[i], sizeof(d));   /* read once */
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* An indirect descriptor has no NEXT and is alone
			 * in its chain (2.7.5.3.1). */
			if (d.flags & VIRTQ_DESC_F_NEXT || steps ||
			    !walk_indirect(q, e, &d))
				goto broken;
			break;
		}
		if (!add_seg(q, e, &d))
			goto broken;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= q->size || ++steps >= q->size)
			goto broken;
		i = d.next;
	}
	q->last_avail++;
	return VIRTQ_OK;
broken:
	log_ratelimited(LOG_WARN, "virtio: malformed descriptor chain "
			"(avail %u): queue stopped until reset", q->last_avail);
	q->broken = true;
	return VIRTQ_BROKEN;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t len)
{
	volatile uint8_t *slot;
	uint32_t id = e->head;

	if (!q->ready)
		return;
	if (len > e->in_len)
		len = (uint32_t)e->in_len;
	/* The ring was checked at enable: this slot is inside it. */
	slot = q->used + USED_RING_OFF +
	       USED_ELEM_SIZE * (q->used_idx & (q->size - 1));
	memcpy((void *)slot, &id, 4);
	memcpy((void *)(slot + 4), &len, 4);
	q->used_idx++;
	/* The element before the index that publishes it. */
	__atomic_store_n((volatile uint16_t *)(q->used + USED_IDX_OFF),
			 q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(const struct virtq *q)
{
	/* Order our used-index store before reading the driver's flag. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(q->avail[AVAIL_FLAGS] & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static size_t copy_segs(const struct virtq *q, const struct virtq_seg *seg,
			unsigned n, size_t off, uint8_t *buf, size_t len,
			bool to_guest)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t chunk;
		uint8_t *p;

		if (off >= seg[i].len) {
			off -= seg[i].len;
			continue;
		}
		chunk = seg[i].len - off;
		if (chunk > len - done)
			chunk = len - done;
		/* Checked when popped; RAM never moves, but re-check: it is
		 * cheap and keeps mem.h the only translation. */
		p = mem_ptr(q->mem, seg[i].gpa + off, chunk);
		if (!p)
			break;
		if (to_guest)
			memcpy(p, buf + done, chunk);
		else
			memcpy(buf + done, p, chunk);
		done += chunk;
		off = 0;
	}
	return done;
}

size_t virtq_elem_read(const struct virtq *q, const struct virtq_elem *e,
		       size_t off, void *dst, size_t len)
{
	return copy_segs(q, e->seg, e->n_out, off, dst, len, false);
}

size_t virtq_elem_write(const struct virtq *q, const struct virtq_elem *e,
			size_t off, const void *src, size_t len)
{
	return copy_segs(q, e->seg + e->n_out, e->n_in, off, (uint8_t *)src,
			 len, true);
}
