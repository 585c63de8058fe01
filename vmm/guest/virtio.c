// SPDX-License-Identifier: MIT
/*
 * A minimal modern virtio-pci driver for the built-in guest (see virtio.h).
 * The register sequence is Linux's: vp_modern_probe() finds the vendor
 * capabilities, virtio_dev_probe() resets, sets ACKNOWLEDGE and DRIVER,
 * negotiates features and checks FEATURES_OK, the device driver sets up
 * its queues (vp_modern_setup_queue / vring_create_virtqueue_split) and
 * virtio_device_ready() sets DRIVER_OK. Everything runs in ring 3: BARs
 * are uncached MMIO in the identity map, rings and buffers are ordinary
 * (write-back) RAM the VMM reads through its own mapping.
 */
#include "virtio.h"

#define PCI_STATUS        0x06
#define PCI_STATUS_CAPS   0x10
#define PCI_CAP_PTR       0x34
#define PCI_INTERRUPT     0x3C
#define PCI_CAP_VNDR      0x09

#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_ISR    3
#define VIRTIO_PCI_CAP_DEVICE 4

#define VIRTIO_MSI_NO_VECTOR 0xffff
/* About half a second to a second of TSC on the machines we run on. */
#define WAIT_TSC_DEFAULT (1ull << 31)
#define MAX_CAPS 48

/* --- guest memory ---------------------------------------------------------- */

/*
 * Buffers start at 16 MiB, well above the guest image (1 MiB + ~100 KiB),
 * its stacks and the PVH start info and ACPI tables the loader puts below
 * 1 MiB; they end at the top of RAM or the PCI hole at 3 GiB.
 */
#define HEAP_START (16ull << 20)
#define HEAP_LIMIT 0xC0000000ull

static uint64_t heap_next = HEAP_START;

void *galloc(uint64_t size, uint64_t align)
{
	uint64_t top = guest_ram_bytes(), base;

	if (top > HEAP_LIMIT)
		top = HEAP_LIMIT;
	if (!align)
		align = 16;
	base = (heap_next + align - 1) & ~(align - 1);
	if (base < heap_next || base > top || size > top - base) {
		out_printf(OUT_BOTH, "RESULT error out-of-guest-memory want=%lu free=%lu\n",
			   size, top > heap_next ? top - heap_next : 0);
		return NULL;
	}
	heap_next = base + size;
	memset((void *)(uintptr_t)base, 0, size);
	return (void *)(uintptr_t)base;
}

uint64_t galloc_mark(void)
{
	return heap_next;
}

void galloc_release(uint64_t mark)
{
	if (mark >= HEAP_START && mark <= heap_next)
		heap_next = mark;
}

/* Stores to rings must be visible before the index that publishes them
 * (and the index before the doorbell): x86 keeps stores in order, the
 * compiler must too. mfence also orders them against the doorbell's
 * uncached store, as Linux's virtio_mb() on x86 does. */
static inline void barrier_full(void)
{
	__asm__ volatile("mfence" : : : "memory");
}

static inline void barrier_compiler(void)
{
	__asm__ volatile("" : : : "memory");
}

/* --- capabilities ------------------------------------------------------------- */

static uint8_t cfg_read8(const struct pci_func *f, unsigned off)
{
	return (uint8_t)(pci_cfg_read32(f->dev, f->fn, off & ~3u) >> (8 * (off & 3)));
}

static uint32_t cfg_read32(const struct pci_func *f, unsigned off)
{
	return pci_cfg_read32(f->dev, f->fn, off);
}

/* Address of (bar, offset, length); 0 if not a usable memory window. */
static uint64_t cap_window(const struct pci_func *f, unsigned bar,
			   uint32_t off, uint32_t len)
{
	uint64_t base;

	if (bar > 5 || f->bar_io[bar] || !f->bar[bar])
		return 0;
	base = f->bar[bar] + off;
	/* The identity map covers 4 GiB: the window must lie below it. */
	if (base < f->bar[bar] || base >= 0x100000000ull ||
	    len > 0x100000000ull - base)
		return 0;
	return base;
}

/* One vendor capability at config offset pos (vp_modern_map_capability). */
static void parse_vcap(struct vdev *d, unsigned pos)
{
	const struct pci_func *f = &d->pci;
	uint8_t type = cfg_read8(f, pos + 3), bar = cfg_read8(f, pos + 4);
	uint32_t off = cfg_read32(f, pos + 8), len = cfg_read32(f, pos + 12);
	uint64_t a = cap_window(f, bar, off, len);

	/* Linux takes the first capability of each type. */
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON:
		if (!d->common && len >= 0x38)
			d->common = a;
		break;
	case VIRTIO_PCI_CAP_NOTIFY:
		if (!d->notify_base && a) {
			d->notify_base = a;
			d->notify_mult = cfg_read32(f, pos + 16);
		}
		break;
	case VIRTIO_PCI_CAP_ISR:
		if (!d->isr && len >= 1)
			d->isr = a;
		break;
	case VIRTIO_PCI_CAP_DEVICE:
		if (!d->devcfg && a) {
			d->devcfg = a;
			d->devcfg_len = len;
		}
		break;
	default:
		break;
	}
}

bool vdev_find(uint16_t device, unsigned nth, struct vdev *d)
{
	unsigned pos, n = 0;

	memset(d, 0, sizeof(*d));
	if (!pci_find_nth(VIRTIO_VENDOR, device, nth, &d->pci))
		return false;
	if (!(pci_cfg_read32(d->pci.dev, d->pci.fn, 0x04) >> 16 & PCI_STATUS_CAPS)) {
		out_printf(OUT_BOTH, "RESULT error virtio-no-capabilities pci=%04x:%04x\n",
			   VIRTIO_VENDOR, device);
		return false;
	}
	d->irq_line = cfg_read8(&d->pci, PCI_INTERRUPT);
	/* The list is guest-visible device data: bounded walk, aligned
	 * pointers only (a loop ends at MAX_CAPS). */
	for (pos = cfg_read8(&d->pci, PCI_CAP_PTR) & 0xfc; pos >= 0x40 && n < MAX_CAPS;
	     pos = cfg_read8(&d->pci, pos + 1) & 0xfc, n++)
		if (cfg_read8(&d->pci, pos) == PCI_CAP_VNDR)
			parse_vcap(d, pos);
	if (!d->common || !d->notify_base || !d->isr) {
		out_printf(OUT_BOTH,
			   "RESULT error virtio-capabilities common=0x%lx notify=0x%lx isr=0x%lx\n",
			   d->common, d->notify_base, d->isr);
		return false;
	}
	out_printf(OUT_DEBUG,
		   "INFO virtio pci=00:%02x.%u id=%04x common=0x%lx notify=0x%lx*%u isr=0x%lx device=0x%lx+%u irq=%u\n",
		   d->pci.dev, d->pci.fn, device, d->common, d->notify_base,
		   d->notify_mult, d->isr, d->devcfg, d->devcfg_len, d->irq_line);
	return true;
}

/* --- registers ------------------------------------------------------------------ */

static void common_w8(struct vdev *d, unsigned off, uint8_t v)
{
	mmio_write8(d->common + off, v);
}

static uint8_t common_r8(struct vdev *d, unsigned off)
{
	return mmio_read8(d->common + off);
}

void vdev_common_write16(struct vdev *d, unsigned off, uint16_t v)
{
	mmio_write16(d->common + off, v);
}

uint16_t vdev_common_read16(struct vdev *d, unsigned off)
{
	return mmio_read16(d->common + off);
}

void vdev_common_write32(struct vdev *d, unsigned off, uint32_t v)
{
	mmio_write32(d->common + off, v);
}

/* 64-bit fields as two 32-bit writes, low first (vp_iowrite64_twopart). */
void vdev_common_write64(struct vdev *d, unsigned off, uint64_t v)
{
	mmio_write32(d->common + off, (uint32_t)v);
	mmio_write32(d->common + off + 4, (uint32_t)(v >> 32));
}

uint8_t vdev_status(struct vdev *d)
{
	return common_r8(d, VCOMMON_STATUS);
}

uint8_t vdev_isr(struct vdev *d)
{
	return mmio_read8(d->isr);
}

void vdev_reset(struct vdev *d)
{
	uint64_t start = rdtsc();

	common_w8(d, VCOMMON_STATUS, 0);
	/* 4.1.4.3.2: the reset is done when status reads back 0. */
	while (common_r8(d, VCOMMON_STATUS) && rdtsc() - start < WAIT_TSC_DEFAULT)
		__asm__ volatile("pause");
}

uint8_t vdev_cfg8(struct vdev *d, unsigned off)
{
	return off < d->devcfg_len ? mmio_read8(d->devcfg + off) : 0;
}

uint32_t vdev_cfg32(struct vdev *d, unsigned off)
{
	return off + 4 <= d->devcfg_len ? mmio_read32(d->devcfg + off) : 0;
}

void vdev_cfg_write8(struct vdev *d, unsigned off, uint8_t v)
{
	if (off < d->devcfg_len)
		mmio_write8(d->devcfg + off, v);
}

void vdev_cfg_write32(struct vdev *d, unsigned off, uint32_t v)
{
	if (off + 4 <= d->devcfg_len)
		mmio_write32(d->devcfg + off, v);
}

bool vdev_negotiate(struct vdev *d, uint64_t wanted)
{
	uint64_t have;
	uint8_t st;

	vdev_reset(d);
	common_w8(d, VCOMMON_STATUS, VIRTIO_STATUS_ACK);
	common_w8(d, VCOMMON_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	vdev_common_write32(d, VCOMMON_DFSELECT, 0);
	have = mmio_read32(d->common + VCOMMON_DF);
	vdev_common_write32(d, VCOMMON_DFSELECT, 1);
	have |= (uint64_t)mmio_read32(d->common + VCOMMON_DF) << 32;
	if (!(have & (1ull << VIRTIO_F_VERSION_1))) {
		out_printf(OUT_BOTH, "RESULT error virtio-no-version-1 features=0x%lx\n",
			   have);
		return false;
	}
	d->features = (have & wanted) | 1ull << VIRTIO_F_VERSION_1;
	vdev_common_write32(d, VCOMMON_GFSELECT, 0);
	vdev_common_write32(d, VCOMMON_GF, (uint32_t)d->features);
	vdev_common_write32(d, VCOMMON_GFSELECT, 1);
	vdev_common_write32(d, VCOMMON_GF, (uint32_t)(d->features >> 32));
	common_w8(d, VCOMMON_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
		  VIRTIO_STATUS_FEATURES_OK);
	st = common_r8(d, VCOMMON_STATUS);
	if (!(st & VIRTIO_STATUS_FEATURES_OK)) {
		out_printf(OUT_BOTH, "RESULT error virtio-features-refused status=0x%x\n",
			   st);
		common_w8(d, VCOMMON_STATUS, st | VIRTIO_STATUS_FAILED);
		return false;
	}
	return true;
}

void vdev_driver_ok(struct vdev *d)
{
	common_w8(d, VCOMMON_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
		  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* --- queues ------------------------------------------------------------------------ */

bool vq_setup(struct vdev *d, unsigned q, unsigned size, struct vq *vq)
{
	unsigned max;
	uint16_t noff;
	uint8_t *mem;

	memset(vq, 0, sizeof(*vq));
	vdev_common_write16(d, VCOMMON_Q_SELECT, (uint16_t)q);
	max = vdev_common_read16(d, VCOMMON_Q_SIZE);
	if (!max || vdev_common_read16(d, VCOMMON_Q_ENABLE)) {
		out_printf(OUT_BOTH, "RESULT error virtio-queue-unavailable q=%u size=%u\n",
			   q, max);
		return false;
	}
	if (size > max)
		size = max;
	if (size > VQ_MAX_SIZE)
		size = VQ_MAX_SIZE;
	/* Split ring layout (2.7): descriptors 16 bytes each, then the
	 * available ring (4 + 2 n + 2), the used ring 4-aligned (4 + 8 n + 2);
	 * one page-aligned block as vring_create_virtqueue_split() makes. */
	mem = galloc(16ull * size + 6 + 2ull * size + 8 + 6 + 8ull * size, 4096);
	if (!mem)
		return false;
	vq->dev = d;
	vq->index = q;
	vq->size = (uint16_t)size;
	vq->desc = (struct vring_desc *)mem;
	vq->avail = (volatile uint16_t *)(mem + 16ull * size);
	vq->used_hdr = (volatile uint16_t *)(mem + ((16ull * size + 6 + 2ull * size + 3) & ~3ull));
	vq->used = (volatile struct vring_used_elem *)(vq->used_hdr + 2);
	vdev_common_write16(d, VCOMMON_Q_SIZE, (uint16_t)size);
	/* Polled: no MSI-X vector. */
	vdev_common_write16(d, VCOMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
	vdev_common_write64(d, VCOMMON_Q_DESC, (uintptr_t)vq->desc);
	vdev_common_write64(d, VCOMMON_Q_AVAIL, (uintptr_t)vq->avail);
	vdev_common_write64(d, VCOMMON_Q_USED, (uintptr_t)vq->used_hdr);
	noff = vdev_common_read16(d, VCOMMON_Q_NOFF);
	vq->notify = d->notify_base + (uint64_t)noff * d->notify_mult;
	vdev_common_write16(d, VCOMMON_Q_ENABLE, 1);
	if (vdev_common_read16(d, VCOMMON_Q_ENABLE) != 1) {
		out_printf(OUT_BOTH, "RESULT error virtio-queue-not-enabled q=%u\n", q);
		return false;
	}
	return true;
}

void vq_begin(struct vq *vq)
{
	vq->next_desc = 0;
}

static void avail_put(struct vq *vq, uint16_t head)
{
	vq->avail[2 + vq->avail_idx % vq->size] = head;
	vq->avail_idx++;
}

int vq_add(struct vq *vq, const struct vring_desc *bufs, unsigned nout,
	   unsigned nin)
{
	unsigned n = nout + nin;
	uint16_t head = vq->next_desc;

	if (!n || n > (unsigned)(vq->size - vq->next_desc))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		struct vring_desc *dd = &vq->desc[head + i];

		dd->addr = bufs[i].addr;
		dd->len = bufs[i].len;
		dd->flags = (uint16_t)((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
				       (i >= nout ? VRING_DESC_F_WRITE : 0));
		dd->next = (uint16_t)(head + i + 1);
	}
	vq->next_desc = (uint16_t)(head + n);
	avail_put(vq, head);
	return head;
}

void vq_add_raw(struct vq *vq, uint16_t first, const struct vring_desc *d,
		unsigned n, uint16_t head)
{
	for (unsigned i = 0; i < n && first + i < vq->size; i++)
		vq->desc[first + i] = d[i];
	avail_put(vq, head);
}

void vq_kick(struct vq *vq)
{
	barrier_full();
	vq->avail[1] = vq->avail_idx;
	barrier_full();
	mmio_write16(vq->notify, (uint16_t)vq->index);
}

void vq_set_avail_idx(struct vq *vq, uint16_t idx)
{
	vq->avail_idx = idx;
	vq_kick(vq);
}

/*
 * Spin on the used index without `pause`: under kvm_pvm a ring-3 pause
 * loop exits to the host, which then yields the vCPU (pause-loop exiting):
 * measured 68 instead of 255 frames/s for virtio-anim at 1920x1080. The
 * wait is short (one command batch); the input mode sleeps in HLT instead.
 */
bool vq_run(struct vq *vq, uint64_t tsc_limit)
{
	uint64_t start = rdtsc();

	if (!tsc_limit)
		tsc_limit = WAIT_TSC_DEFAULT;
	vq_kick(vq);
	for (;;) {
		uint16_t used = vq->used_hdr[1];

		barrier_compiler();
		if (used == vq->avail_idx) {
			if (used != vq->last_used)
				vq->last_len = vq->used[(uint16_t)(used - 1) % vq->size].len;
			vq->last_used = used;
			return true;
		}
		if (rdtsc() - start > tsc_limit) {
			vq->last_used = used;
			return false;
		}
	}
}

void vq_post(struct vq *vq, uint16_t id, uint64_t addr, uint32_t len)
{
	if (id >= vq->size)
		return;
	vq->desc[id] = (struct vring_desc){ addr, len, VRING_DESC_F_WRITE, 0 };
	avail_put(vq, id);
}

int vq_get(struct vq *vq, uint32_t *len)
{
	volatile struct vring_used_elem *e;
	uint32_t id;

	if (vq->used_hdr[1] == vq->last_used)
		return -1;
	barrier_compiler();
	e = &vq->used[vq->last_used % vq->size];
	id = e->id;
	*len = e->len;
	vq->last_used++;
	/* The device's answer is data too: an id we never posted is dropped. */
	return id < vq->size ? (int)id : -2;
}

/* --- interrupts ---------------------------------------------------------------------- */

bool virtio_irq_setup(struct vdev *d)
{
	if (!d->irq_line || d->irq_line == 0xff)
		return false;
	return irq_enable_gsi(d->irq_line);
}
