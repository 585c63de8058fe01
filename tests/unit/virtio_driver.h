/* SPDX-License-Identifier: MIT */
/*
 * A test-side virtio-pci driver over a VM without /dev/kvm (fake_vm.h):
 * guest RAM from mem_init(), the device's BAR0 reached through vm.mmio,
 * split rings laid out in guest RAM, requests written as a guest driver
 * would. Shared by the virtio unit tests and the fuzz harness.
 */
#ifndef TESTS_VIRTIO_DRIVER_H
#define TESTS_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmm/mem.h"
#include "vmm/virtio/virtio-pci.h"
#include "vmm/vm.h"

#define VD_RING_BASE  0x10000ULL     /* 16 KiB of rings per queue */
#define VD_RING_SPAN  0x4000ULL
#define VD_QSIZE      16

struct vdrv {
	struct vm *vm;
	struct virtio_pci *vp;
	uint64_t bar0;
	uint16_t avail_idx[VIRTIO_PCI_MAX_QUEUES];
	uint16_t used_seen[VIRTIO_PCI_MAX_QUEUES];
	uint16_t next_desc[VIRTIO_PCI_MAX_QUEUES];
};

static inline uint64_t vd_read(struct vdrv *d, uint64_t off, uint32_t len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	bus_dispatch(&d->vm->mmio, d->bar0 + off, b, len, false);
	for (uint32_t i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline void vd_write(struct vdrv *d, uint64_t off, uint32_t len,
			    uint64_t v)
{
	uint8_t b[8];

	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	bus_dispatch(&d->vm->mmio, d->bar0 + off, b, len, true);
}

static inline uint64_t vd_desc(unsigned q) { return VD_RING_BASE + q * VD_RING_SPAN; }
static inline uint64_t vd_avail(unsigned q) { return vd_desc(q) + 16 * VD_QSIZE; }
static inline uint64_t vd_used(unsigned q) { return vd_desc(q) + 0x1000; }

/* Reset, negotiate (VERSION_1 and what the device offers of want), set up
 * nq queues of VD_QSIZE, DRIVER_OK. Returns the status read back. */
static inline uint8_t vd_init(struct vdrv *d, struct vm *vm,
			      struct virtio_pci *vp, unsigned nq,
			      uint64_t want)
{
	uint64_t f;

	memset(d, 0, sizeof(*d));
	d->vm = vm;
	d->vp = vp;
	d->bar0 = virtio_pci_device(vp)->bars[0].mapped;
	vd_write(d, VIRTIO_COMMON_STATUS, 1, 0);
	vd_write(d, VIRTIO_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	vd_write(d, VIRTIO_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE |
		 VIRTIO_STATUS_DRIVER);
	vd_write(d, VIRTIO_COMMON_DFSELECT, 4, 0);
	f = vd_read(d, VIRTIO_COMMON_DF, 4);
	vd_write(d, VIRTIO_COMMON_DFSELECT, 4, 1);
	f |= vd_read(d, VIRTIO_COMMON_DF, 4) << 32;
	f &= want | 1ULL << VIRTIO_F_VERSION_1;
	vd_write(d, VIRTIO_COMMON_GFSELECT, 4, 0);
	vd_write(d, VIRTIO_COMMON_GF, 4, (uint32_t)f);
	vd_write(d, VIRTIO_COMMON_GFSELECT, 4, 1);
	vd_write(d, VIRTIO_COMMON_GF, 4, f >> 32);
	vd_write(d, VIRTIO_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE |
		 VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < nq; q++) {
		void *ring = mem_ptr(&vm->mem, vd_desc(q), VD_RING_SPAN);

		if (ring)
			memset(ring, 0, VD_RING_SPAN);
		vd_write(d, VIRTIO_COMMON_Q_SELECT, 2, q);
		vd_write(d, VIRTIO_COMMON_Q_SIZE, 2, VD_QSIZE);
		vd_write(d, VIRTIO_COMMON_Q_DESCLO, 4, vd_desc(q));
		vd_write(d, VIRTIO_COMMON_Q_DESCHI, 4, 0);
		vd_write(d, VIRTIO_COMMON_Q_AVAILLO, 4, vd_avail(q));
		vd_write(d, VIRTIO_COMMON_Q_AVAILHI, 4, 0);
		vd_write(d, VIRTIO_COMMON_Q_USEDLO, 4, vd_used(q));
		vd_write(d, VIRTIO_COMMON_Q_USEDHI, 4, 0);
		vd_write(d, VIRTIO_COMMON_Q_MSIX, 2, q + 1);
		vd_write(d, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	}
	vd_write(d, VIRTIO_COMMON_MSIX, 2, 0);
	vd_write(d, VIRTIO_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE |
		 VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		 VIRTIO_STATUS_DRIVER_OK);
	return (uint8_t)vd_read(d, VIRTIO_COMMON_STATUS, 1);
}

/* Write descriptor i of queue q. */
static inline void vd_set_desc(struct vdrv *d, unsigned q, unsigned i,
			       uint64_t addr, uint32_t len, uint16_t flags,
			       uint16_t next)
{
	struct virtq_desc desc = { addr, len, flags, next };

	mem_write(&d->vm->mem, vd_desc(q) + 16ULL * i, &desc, sizeof(desc));
}

/* Publish head on queue q and ring the doorbell. */
static inline void vd_kick(struct vdrv *d, unsigned q, uint16_t head)
{
	uint16_t idx = d->avail_idx[q];

	mem_write(&d->vm->mem, vd_avail(q) + 4 + 2ULL * (idx % VD_QSIZE), &head, 2);
	idx++;
	mem_write(&d->vm->mem, vd_avail(q) + 2, &idx, 2);
	d->avail_idx[q] = idx;
	vd_write(d, VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
}

/* A request of one readable and one writable buffer (either may be
 * empty: len 0 means absent), using descriptors 0 and 1. */
static inline void vd_request(struct vdrv *d, unsigned q, uint64_t out,
			      uint32_t out_len, uint64_t in, uint32_t in_len)
{
	unsigned n = 0;

	if (out_len) {
		vd_set_desc(d, q, 0, out, out_len,
			    in_len ? VIRTQ_DESC_F_NEXT : 0, 1);
		n = 1;
	}
	if (in_len)
		vd_set_desc(d, q, n, in, in_len, VIRTQ_DESC_F_WRITE, 0);
	vd_kick(d, q, 0);
}

/* Used-ring entries the device added since the last call. */
static inline unsigned vd_used_new(struct vdrv *d, unsigned q, uint32_t *len)
{
	uint16_t idx = 0;
	unsigned n;

	mem_read(&d->vm->mem, vd_used(q) + 2, &idx, 2);
	n = (uint16_t)(idx - d->used_seen[q]);
	if (n && len)
		mem_read(&d->vm->mem, vd_used(q) + 4 + 8ULL *
			 ((idx - 1) % VD_QSIZE) + 4, len, 4);
	d->used_seen[q] = idx;
	return n;
}

#endif
