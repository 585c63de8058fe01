/* SPDX-License-Identifier: MIT */
/*
 * The built-in guest's virtio side (virtio.c): a minimal modern virtio-pci
 * driver doing what Linux's virtio_pci_modern + virtio core do, in ring 3:
 * find the function by PCI ID, walk its vendor capabilities to map the
 * common / notify / ISR / device configuration windows, reset, negotiate
 * VIRTIO_F_VERSION_1, set up split virtqueues in guest RAM, notify through
 * the doorbell, and poll the used ring (no MSI-X: the vectors stay
 * VIRTIO_MSI_NO_VECTOR; INTx only wakes a sleeping guest, see
 * virtio_irq_setup()).
 *
 * Requests are synchronous: a batch of descriptor chains is built from
 * descriptor 0 up, published and waited for (vq_begin / vq_add / vq_run),
 * which is all the display and test modes need. Input queues keep their
 * buffers posted and recycle them (vq_post / vq_get).
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "guest.h"

#define VIRTIO_VENDOR       0x1af4
#define VIRTIO_DEV_GPU      0x1050     /* 0x1040 + 16 */
#define VIRTIO_DEV_INPUT    0x1052     /* 0x1040 + 18 */

#define VIRTIO_F_VERSION_1  32

#define VIRTIO_STATUS_ACK         1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

/* Common configuration (virtio 1.2, 4.1.4.3). */
#define VCOMMON_DFSELECT   0x00
#define VCOMMON_DF         0x04
#define VCOMMON_GFSELECT   0x08
#define VCOMMON_GF         0x0C
#define VCOMMON_MSIX       0x10
#define VCOMMON_NUMQ       0x12
#define VCOMMON_STATUS     0x14
#define VCOMMON_GENERATION 0x15
#define VCOMMON_Q_SELECT   0x16
#define VCOMMON_Q_SIZE     0x18
#define VCOMMON_Q_MSIX     0x1A
#define VCOMMON_Q_ENABLE   0x1C
#define VCOMMON_Q_NOFF     0x1E
#define VCOMMON_Q_DESC     0x20
#define VCOMMON_Q_AVAIL    0x28
#define VCOMMON_Q_USED     0x30

#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4

#define VQ_MAX_SIZE 256

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vq {
	struct vdev *dev;
	unsigned index;
	uint16_t size;
	struct vring_desc *desc;
	volatile uint16_t *avail;           /* flags, idx, ring[size] */
	volatile uint16_t *used_hdr;        /* flags, idx */
	volatile struct vring_used_elem *used;
	uint64_t notify;                    /* doorbell address */
	/* Batch state. */
	uint16_t next_desc;                 /* first free descriptor */
	uint16_t avail_idx;                 /* our copy of avail->idx */
	uint16_t last_used;
	uint32_t last_len;                  /* len of the last used element */
};

struct vdev {
	struct pci_func pci;
	uint64_t common, notify_base, isr, devcfg;
	uint32_t notify_mult, devcfg_len;
	uint64_t features;                  /* negotiated */
	unsigned irq_line;                  /* PCI interrupt line (GSI) */
};

/* --- guest memory for rings and buffers (bump allocator, never freed) --- */
/* Zeroed, aligned memory; NULL (after an error line) if RAM is exhausted. */
void *galloc(uint64_t size, uint64_t align);
/* Allocation mark and rewind (the hostile mode re-initialises devices). */
uint64_t galloc_mark(void);
void galloc_release(uint64_t mark);

/* --- the transport ------------------------------------------------------ */
/*
 * The nth (from 0) function with PCI ID 1af4:device on bus 0, its
 * capabilities mapped; false if there is none (quietly) or its
 * capabilities are unusable (with a RESULT error line).
 */
bool vdev_find(uint16_t device, unsigned nth, struct vdev *d);
/* Reset, ACKNOWLEDGE | DRIVER, offer VERSION_1 plus the wanted device
 * features the device has, FEATURES_OK (checked). */
bool vdev_negotiate(struct vdev *d, uint64_t wanted);
/* Queue q with at most size entries (power of two): rings allocated, the
 * addresses programmed, enabled. false if the device refuses. */
bool vq_setup(struct vdev *d, unsigned q, unsigned size, struct vq *vq);
void vdev_driver_ok(struct vdev *d);
void vdev_reset(struct vdev *d);
uint8_t vdev_status(struct vdev *d);
/* Read (and so acknowledge) the ISR status. */
uint8_t vdev_isr(struct vdev *d);
/* Device configuration space accessors (off < devcfg_len). */
uint8_t vdev_cfg8(struct vdev *d, unsigned off);
uint32_t vdev_cfg32(struct vdev *d, unsigned off);
void vdev_cfg_write8(struct vdev *d, unsigned off, uint8_t v);
void vdev_cfg_write32(struct vdev *d, unsigned off, uint32_t v);
/* Common configuration accessors (for the hostile mode). */
void vdev_common_write16(struct vdev *d, unsigned off, uint16_t v);
uint16_t vdev_common_read16(struct vdev *d, unsigned off);
void vdev_common_write32(struct vdev *d, unsigned off, uint32_t v);
void vdev_common_write64(struct vdev *d, unsigned off, uint64_t v);

/* --- synchronous batches ------------------------------------------------ */
void vq_begin(struct vq *vq);
/*
 * One chain: nout device-readable buffers then nin device-writable ones
 * (addr/len pairs in bufs[]). Returns the head index, or -1 if the queue
 * has no room left in this batch.
 */
int vq_add(struct vq *vq, const struct vring_desc *bufs, unsigned nout,
	   unsigned nin);
/* Raw descriptors for the hostile mode: copies n descriptors verbatim
 * from index first and publishes head. */
void vq_add_raw(struct vq *vq, uint16_t first, const struct vring_desc *d,
		unsigned n, uint16_t head);
/* Publish everything added since vq_begin, notify, wait until the device
 * has used all of it. false on timeout (about tsc_limit cycles; 0: the
 * default of about a second). */
bool vq_run(struct vq *vq, uint64_t tsc_limit);
/* Publish without waiting. */
void vq_kick(struct vq *vq);
/* Publish avail idx = value (hostile mode: index jumps). */
void vq_set_avail_idx(struct vq *vq, uint16_t idx);

/* --- receive queues: buffers stay posted ------------------------------------ */
/* Post the single-descriptor writable buffer id (descriptor id). */
void vq_post(struct vq *vq, uint16_t id, uint64_t addr, uint32_t len);
/* The next used buffer's id, or -1 if none, -2 if the device returned an
 * id out of range (skipped); *len its written length. */
int vq_get(struct vq *vq, uint32_t *len);

/* --- interrupts ----------------------------------------------------------- */
/* Route the device's INTx line through the I/O APIC (edge, active high),
 * so idle() wakes when it asserts; the ISR read deasserts it. */
bool virtio_irq_setup(struct vdev *d);

#endif
