// SPDX-License-Identifier: MIT
/*
 * The modern virtio-pci transport (virtio 1.2, 4.1); see virtio-pci.h.
 * Every register value comes from a hostile guest: selectors are range
 * checked on use, queue set-up is validated by virtq_enable(), MSI-X
 * vectors beyond the table read back as VIRTIO_MSI_NO_VECTOR.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../log.h"
#include "msi.h"
#include "virtio-pci.h"

#define CAP_VNDR 0x09
#define CAP_MSIX 0x11
#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_ISR    3
#define VIRTIO_PCI_CAP_DEVICE 4

#define MSIX_CTL_ENABLE 0x8000
#define MSIX_CTL_MASKALL 0x4000
#define MSIX_ENTRY_SIZE 16
#define MSIX_VEC_CTRL   12
#define MSIX_MAX_VECTORS (VIRTIO_PCI_MAX_QUEUES + 1)

#define ISR_QUEUE  1
#define ISR_CONFIG 2

struct vq_state {
	struct virtq q;
	uint16_t size;             /* what the driver set (queue_size) */
	uint16_t msix;
	uint64_t desc, avail, used;
	int efd;                   /* ioeventfd, -1: none */
	uint64_t efd_addr;         /* where KVM watches it (0: not assigned) */
	struct virtio_pci *vp;
	unsigned index;
};

struct virtio_pci {
	struct pci_device dev;
	struct vm *vm;
	struct event_loop *loop;
	pthread_mutex_t lock;
	struct virtio_pci_config cfg;
	const struct virtio_dev_ops *ops;
	void *opaque;

	uint64_t dev_features, drv_features;
	uint32_t dfselect, gfselect;
	uint16_t msix_config;
	uint8_t status;
	uint8_t generation;
	uint16_t qsel;
	uint8_t isr;
	struct vq_state vq[VIRTIO_PCI_MAX_QUEUES];

	unsigned nvec;
	unsigned msix_cap;
	uint8_t msix_table[MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE];
	uint32_t pba;
	bool msix_enabled, msix_masked;
	struct msi_vector vec[MSIX_MAX_VECTORS];

	uint64_t bar0;             /* where BAR0 is decoded (0: nowhere) */
};

static uint64_t get_le(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, unsigned len, uint64_t v)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void virtio_pci_lock(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
}

void virtio_pci_unlock(struct virtio_pci *vp)
{
	pthread_mutex_unlock(&vp->lock);
}

struct virtq *virtio_pci_queue(struct virtio_pci *vp, unsigned q)
{
	return q < vp->cfg.num_queues ? &vp->vq[q].q : NULL;
}

uint8_t virtio_pci_status(struct virtio_pci *vp)
{
	return vp->status;
}

uint64_t virtio_pci_features(struct virtio_pci *vp)
{
	return vp->drv_features;
}

bool virtio_pci_driver_ok(struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vp->status & (VIRTIO_STATUS_FAILED | VIRTIO_STATUS_NEEDS_RESET));
}

struct pci_device *virtio_pci_device(struct virtio_pci *vp)
{
	return &vp->dev;
}

unsigned virtio_pci_msix_cap(struct virtio_pci *vp)
{
	return vp->msix_cap;
}

/* --- interrupts ------------------------------------------------------------ */

static bool vector_masked(const struct virtio_pci *vp, unsigned v)
{
	return vp->msix_masked ||
	       (vp->msix_table[v * MSIX_ENTRY_SIZE + MSIX_VEC_CTRL] & 1);
}

static void msix_fire(struct virtio_pci *vp, unsigned v)
{
	const uint8_t *e = vp->msix_table + v * MSIX_ENTRY_SIZE;

	msi_vector_set(&vp->vec[v], get_le(e, 8), (uint32_t)get_le(e + 8, 4));
	msi_send(vp->vm, &vp->vec[v]);
}

static void raise_irq(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (vp->msix_enabled) {
		if (vector == VIRTIO_MSI_NO_VECTOR || vector >= vp->nvec)
			return;
		if (vector_masked(vp, vector))
			vp->pba |= 1u << vector;
		else
			msix_fire(vp, vector);
		return;
	}
	vp->isr |= isr_bit;
	pci_set_irq(&vp->dev, 1);
}

/* Deliver what became deliverable after an unmask or enable. */
static void msix_deliver_pending(struct virtio_pci *vp)
{
	if (!vp->msix_enabled)
		return;
	for (unsigned v = 0; v < vp->nvec; v++) {
		if ((vp->pba & (1u << v)) && !vector_masked(vp, v)) {
			vp->pba &= ~(1u << v);
			msix_fire(vp, v);
		}
	}
}

void virtio_pci_notify_queue(struct virtio_pci *vp, unsigned q)
{
	if (q >= vp->cfg.num_queues || !virtq_should_notify(&vp->vq[q].q))
		return;
	raise_irq(vp, vp->vq[q].msix, ISR_QUEUE);
}

void virtio_pci_notify_config(struct virtio_pci *vp)
{
	vp->generation++;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(vp, vp->msix_config, ISR_CONFIG);
}

void virtio_pci_set_needs_reset(struct virtio_pci *vp)
{
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(vp, vp->msix_config, ISR_CONFIG);
}

/* --- status and reset ------------------------------------------------------ */

static void device_reset(struct virtio_pci *vp)
{
	vp->status = 0;
	vp->drv_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	vp->qsel = 0;
	vp->isr = 0;
	vp->pba = 0;
	pci_set_irq(&vp->dev, 0);
	for (unsigned i = 0; i < vp->cfg.num_queues; i++) {
		struct vq_state *s = &vp->vq[i];

		virtq_reset(&s->q);
		s->size = vp->cfg.queue_max[i];
		s->msix = VIRTIO_MSI_NO_VECTOR;
		s->desc = s->avail = s->used = 0;
	}
	if (vp->ops->reset)
		vp->ops->reset(vp->opaque);
}

static void write_status(struct virtio_pci *vp, uint8_t val)
{
	uint8_t old = vp->status;

	if (val == 0) {
		device_reset(vp);
		return;
	}
	if ((val & VIRTIO_STATUS_FEATURES_OK) &&
	    !(old & VIRTIO_STATUS_FEATURES_OK)) {
		bool ok = !(vp->drv_features & ~vp->dev_features) &&
			  (vp->drv_features & (1ULL << VIRTIO_F_VERSION_1));

		if (!ok) {
			/* 3.1.1: the driver re-reads and sees it refused. */
			log_ratelimited(LOG_INFO, "%s: driver features 0x%llx "
					"refused", vp->cfg.name,
					(unsigned long long)vp->drv_features);
			val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	vp->status = (uint8_t)(val | (old & VIRTIO_STATUS_NEEDS_RESET));
	for (unsigned i = 0; i < vp->cfg.num_queues; i++)
		vp->vq[i].q.indirect =
			vp->drv_features & (1ULL << VIRTIO_F_INDIRECT_DESC);
	if ((vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(old & VIRTIO_STATUS_DRIVER_OK) && vp->ops->driver_ok)
		vp->ops->driver_ok(vp->opaque);
}

/* --- common configuration ----------------------------------------------------- */

static struct vq_state *selected(struct virtio_pci *vp)
{
	return vp->qsel < vp->cfg.num_queues ? &vp->vq[vp->qsel] : NULL;
}

static uint32_t feature_word(uint64_t f, uint32_t sel)
{
	return sel < 2 ? (uint32_t)(f >> (32 * sel)) : 0;
}

static void common_image(struct virtio_pci *vp, uint8_t *img)
{
	struct vq_state *s = selected(vp);

	memset(img, 0, VIRTIO_PCI_COMMON_LEN);
	put_le(img + VIRTIO_COMMON_DFSELECT, 4, vp->dfselect);
	put_le(img + VIRTIO_COMMON_DF, 4, feature_word(vp->dev_features, vp->dfselect));
	put_le(img + VIRTIO_COMMON_GFSELECT, 4, vp->gfselect);
	put_le(img + VIRTIO_COMMON_GF, 4, feature_word(vp->drv_features, vp->gfselect));
	put_le(img + VIRTIO_COMMON_MSIX, 2, vp->msix_config);
	put_le(img + VIRTIO_COMMON_NUMQ, 2, vp->cfg.num_queues);
	img[VIRTIO_COMMON_STATUS] = vp->status;
	img[VIRTIO_COMMON_CFGGENERATION] = vp->generation;
	put_le(img + VIRTIO_COMMON_Q_SELECT, 2, vp->qsel);
	if (!s)
		return;
	put_le(img + VIRTIO_COMMON_Q_SIZE, 2, s->size);
	put_le(img + VIRTIO_COMMON_Q_MSIX, 2, s->msix);
	put_le(img + VIRTIO_COMMON_Q_ENABLE, 2, s->q.ready);
	put_le(img + VIRTIO_COMMON_Q_NOFF, 2, s->index);
	put_le(img + VIRTIO_COMMON_Q_DESCLO, 8, s->desc);
	put_le(img + VIRTIO_COMMON_Q_AVAILLO, 8, s->avail);
	put_le(img + VIRTIO_COMMON_Q_USEDLO, 8, s->used);
	put_le(img + VIRTIO_COMMON_Q_NDATA, 2, s->index);
}

static uint16_t checked_vector(struct virtio_pci *vp, uint64_t v)
{
	return v < vp->nvec ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static void queue_enable(struct virtio_pci *vp, struct vq_state *s)
{
	if (s->q.ready)
		return;
	s->q.size = s->size;
	s->q.desc_gpa = s->desc;
	s->q.avail_gpa = s->avail;
	s->q.used_gpa = s->used;
	s->q.indirect = vp->drv_features & (1ULL << VIRTIO_F_INDIRECT_DESC);
	if (s->size > vp->cfg.queue_max[s->index] ||
	    virtq_enable(&s->q, &vp->vm->mem) < 0) {
		log_ratelimited(LOG_WARN, "%s: queue %u: bad size %u or ring "
				"address (desc 0x%llx avail 0x%llx used 0x%llx): "
				"not enabled", vp->cfg.name, s->index, s->size,
				(unsigned long long)s->desc,
				(unsigned long long)s->avail,
				(unsigned long long)s->used);
		s->q.ready = false;
	}
}

/* A register whose bytes [off, off + len) were written, value after. */
static void common_apply(struct virtio_pci *vp, unsigned reg, const uint8_t *img)
{
	struct vq_state *s = selected(vp);
	bool setup = s && !s->q.ready;

	switch (reg) {
	case VIRTIO_COMMON_DFSELECT:
		vp->dfselect = (uint32_t)get_le(img + reg, 4);
		break;
	case VIRTIO_COMMON_GFSELECT:
		vp->gfselect = (uint32_t)get_le(img + reg, 4);
		break;
	case VIRTIO_COMMON_GF:
		if (vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * vp->gfselect;

			vp->drv_features &= ~(0xffffffffULL << sh);
			vp->drv_features |= get_le(img + reg, 4) << sh;
		}
		break;
	case VIRTIO_COMMON_MSIX:
		vp->msix_config = checked_vector(vp, get_le(img + reg, 2));
		break;
	case VIRTIO_COMMON_STATUS:
		write_status(vp, img[reg]);
		break;
	case VIRTIO_COMMON_Q_SELECT:
		vp->qsel = (uint16_t)get_le(img + reg, 2);
		break;
	case VIRTIO_COMMON_Q_SIZE:
		if (setup)
			s->size = (uint16_t)get_le(img + reg, 2);
		break;
	case VIRTIO_COMMON_Q_MSIX:
		if (s)
			s->msix = checked_vector(vp, get_le(img + reg, 2));
		break;
	case VIRTIO_COMMON_Q_ENABLE:
		if (s && get_le(img + reg, 2) == 1)
			queue_enable(vp, s);
		break;
	case VIRTIO_COMMON_Q_DESCLO:
		if (setup)
			s->desc = get_le(img + reg, 8);
		break;
	case VIRTIO_COMMON_Q_AVAILLO:
		if (setup)
			s->avail = get_le(img + reg, 8);
		break;
	case VIRTIO_COMMON_Q_USEDLO:
		if (setup)
			s->used = get_le(img + reg, 8);
		break;
	default:
		break;      /* read-only */
	}
}

/* Register starts and sizes, in the order writes are applied. */
static const struct { uint8_t off, len; } common_regs[] = {
	{ VIRTIO_COMMON_DFSELECT, 4 }, { VIRTIO_COMMON_GFSELECT, 4 },
	{ VIRTIO_COMMON_GF, 4 }, { VIRTIO_COMMON_MSIX, 2 },
	{ VIRTIO_COMMON_Q_SELECT, 2 }, { VIRTIO_COMMON_Q_SIZE, 2 },
	{ VIRTIO_COMMON_Q_MSIX, 2 }, { VIRTIO_COMMON_Q_DESCLO, 8 },
	{ VIRTIO_COMMON_Q_AVAILLO, 8 }, { VIRTIO_COMMON_Q_USEDLO, 8 },
	{ VIRTIO_COMMON_Q_ENABLE, 2 }, { VIRTIO_COMMON_STATUS, 1 },
};

static void common_io(struct virtio_pci *vp, unsigned off, uint8_t *data,
		      unsigned len, bool is_write)
{
	uint8_t img[VIRTIO_PCI_COMMON_LEN];

	common_image(vp, img);
	if (!is_write) {
		memcpy(data, img + off, len);
		return;
	}
	memcpy(img + off, data, len);
	for (unsigned i = 0; i < sizeof(common_regs) / sizeof(common_regs[0]); i++) {
		unsigned r = common_regs[i].off, rl = common_regs[i].len;

		if (off < r + rl && r < off + len)
			common_apply(vp, r, img);
	}
}

/* --- BAR0 ------------------------------------------------------------------ */

static void notify(struct virtio_pci *vp, unsigned q)
{
	if (q < vp->cfg.num_queues && vp->vq[q].q.ready &&
	    !(vp->status & VIRTIO_STATUS_NEEDS_RESET))
		vp->ops->queue_notify(vp->opaque, q);
}

void virtio_pci_bar0_io(void *opaque, uint64_t off, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct virtio_pci *vp = opaque;

	if (!is_write)
		memset(data, 0, len);
	if (len == 0 || len > 8)
		return;
	pthread_mutex_lock(&vp->lock);
	if (off + len <= VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		common_io(vp, (unsigned)off, data, len, is_write);
	} else if (off >= VIRTIO_PCI_ISR_OFF &&
		   off + len <= VIRTIO_PCI_ISR_OFF + VIRTIO_PCI_ISR_LEN) {
		/* Reading the ISR acknowledges (4.1.4.5). */
		if (!is_write && off == VIRTIO_PCI_ISR_OFF) {
			data[0] = vp->isr;
			vp->isr = 0;
			pci_set_irq(&vp->dev, 0);
		}
	} else if (off >= VIRTIO_PCI_DEVCFG_OFF &&
		   off + len <= VIRTIO_PCI_DEVCFG_OFF + vp->cfg.cfg_size) {
		unsigned o = (unsigned)(off - VIRTIO_PCI_DEVCFG_OFF);

		if (is_write && vp->ops->cfg_write)
			vp->ops->cfg_write(vp->opaque, o, data, len);
		else if (!is_write && vp->ops->cfg_read)
			vp->ops->cfg_read(vp->opaque, o, data, len);
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF && is_write &&
		   off < VIRTIO_PCI_NOTIFY_OFF +
			 (uint64_t)VIRTIO_PCI_NOTIFY_MULT * vp->cfg.num_queues) {
		unsigned q = (unsigned)(off - VIRTIO_PCI_NOTIFY_OFF) /
			     VIRTIO_PCI_NOTIFY_MULT;

		/* Said once: on a real VM doorbells should be KVM
		 * ioeventfds, never this exit (the Linux tier checks). */
		if (vp->vm->vm_fd >= 0)
			log_once(LOG_INFO, "%s: doorbell through an MMIO exit "
				 "(%u-byte write, %s)", vp->cfg.name, len,
				 q < vp->cfg.num_queues && vp->vq[q].efd_addr ?
				 "the ioeventfd missed it" : "no ioeventfd");
		notify(vp, q);
	}
	pthread_mutex_unlock(&vp->lock);
}

/* --- MSI-X ------------------------------------------------------------------- */

void virtio_pci_msix_io(void *opaque, uint64_t off, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	uint64_t table_len = (uint64_t)vp->nvec * MSIX_ENTRY_SIZE;

	if (!is_write)
		memset(data, 0, len);
	if (len == 0 || len > 8)
		return;
	pthread_mutex_lock(&vp->lock);
	if (off + len <= table_len) {
		if (is_write) {
			memcpy(vp->msix_table + off, data, len);
			msix_deliver_pending(vp);
		} else {
			memcpy(data, vp->msix_table + off, len);
		}
	} else if (off >= VIRTIO_PCI_PBA_OFF && off + len <= VIRTIO_PCI_PBA_OFF + 8 &&
		   !is_write) {
		uint8_t pba[8] = { 0 };

		put_le(pba, 4, vp->pba);
		memcpy(data, pba + (off - VIRTIO_PCI_PBA_OFF), len);
	}
	pthread_mutex_unlock(&vp->lock);
}

/* PCI bus lock held. The MSI-X Message Control word is ours. */
static bool cfg_write_hook(struct pci_device *dev, unsigned off, unsigned len,
			   uint32_t val)
{
	struct virtio_pci *vp = dev->opaque;
	unsigned ctl = vp->msix_cap + 2;
	uint16_t reg;

	if (!vp->msix_cap || off >= ctl + 2 || off + len <= ctl)
		return false;
	/* Only the top byte (enable, function mask) is writable. */
	if (off <= ctl + 1 && off + len > ctl + 1) {
		uint8_t b = (uint8_t)(val >> (8 * (ctl + 1 - off)));

		dev->cfg[ctl + 1] = (uint8_t)((dev->cfg[ctl + 1] & 0x3f) | (b & 0xc0));
	}
	reg = (uint16_t)get_le(dev->cfg + ctl, 2);
	pthread_mutex_lock(&vp->lock);
	vp->msix_enabled = reg & MSIX_CTL_ENABLE;
	vp->msix_masked = reg & MSIX_CTL_MASKALL;
	if (vp->msix_enabled) {
		/* MSI-X on: INTx is off (PCI 3.0, 6.8.2). */
		vp->isr = 0;
		pci_set_irq(&vp->dev, 0);
	}
	msix_deliver_pending(vp);
	pthread_mutex_unlock(&vp->lock);
	return true;
}

/* --- ioeventfds ----------------------------------------------------------------- */

static void ioeventfd_ready(void *opaque, uint32_t events)
{
	struct vq_state *s = opaque;
	struct virtio_pci *vp = s->vp;
	uint64_t cnt;

	(void)events;
	if (read(s->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&vp->lock);
	notify(vp, s->index);
	pthread_mutex_unlock(&vp->lock);
}

static int ioeventfd_assign(struct virtio_pci *vp, struct vq_state *s,
			    uint64_t addr, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = addr, .len = 2, .fd = s->efd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (vp->vm->vm_fd < 0 || s->efd < 0)
		return -1;
	return ioctl(vp->vm->vm_fd, KVM_IOEVENTFD, &io);
}

/* PCI bus lock held: BAR0 moved. */
static int bar_remap(struct pci_device *dev, int bar, uint64_t old_addr,
		     uint64_t new_addr)
{
	struct virtio_pci *vp = dev->opaque;

	if (bar != 0)
		return -1;
	if (old_addr) {
		for (unsigned i = 0; i < vp->cfg.num_queues; i++) {
			struct vq_state *s = &vp->vq[i];

			if (s->efd_addr)
				ioeventfd_assign(vp, s, s->efd_addr, false);
			s->efd_addr = 0;
		}
		bus_unregister(&vp->vm->mmio, old_addr, vp);
		vp->bar0 = 0;
	}
	if (!new_addr)
		return 0;
	if (bus_register(&vp->vm->mmio, new_addr, VIRTIO_PCI_BAR0_SIZE,
			 virtio_pci_bar0_io, vp, vp->cfg.name) < 0)
		return -1;
	vp->bar0 = new_addr;
	for (unsigned i = 0; i < vp->cfg.num_queues; i++) {
		struct vq_state *s = &vp->vq[i];
		uint64_t a = new_addr + VIRTIO_PCI_NOTIFY_OFF +
			     VIRTIO_PCI_NOTIFY_MULT * i;

		/* Without it the MMIO exit does the same job, slower. */
		if (ioeventfd_assign(vp, s, a, true) == 0)
			s->efd_addr = a;
	}
	return 0;
}

/* --- set-up --------------------------------------------------------------------- */

static int add_vcap(struct pci_device *d, uint8_t type, uint32_t off,
		    uint32_t len, bool notify_cap)
{
	uint8_t body[18] = { 0 };

	body[0] = notify_cap ? 20 : 16;   /* cap_len, with id and next */
	body[1] = type;
	body[2] = 0;                      /* BAR0 */
	put_le(body + 6, 4, off);
	put_le(body + 10, 4, len);
	if (notify_cap)
		put_le(body + 14, 4, VIRTIO_PCI_NOTIFY_MULT);
	return pci_add_capability(d, CAP_VNDR, body, notify_cap ? 18 : 14, NULL);
}

static int pci_setup(struct virtio_pci *vp)
{
	struct pci_device *d = &vp->dev;
	uint8_t msix[10] = { 0 };
	int cap;

	d->name = vp->cfg.name;
	d->vendor_id = VIRTIO_PCI_VENDOR;
	d->device_id = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + vp->cfg.device_type);
	d->subsys_vendor_id = VIRTIO_PCI_VENDOR;
	d->subsys_id = 0x1100;
	d->class_code = vp->cfg.class_code;
	d->revision = 1;               /* modern only */
	d->irq_pin = 1;
	d->bars[0].kind = PCI_BAR_MEM32;
	d->bars[0].size = VIRTIO_PCI_BAR0_SIZE;
	d->bars[1].kind = PCI_BAR_MEM32;
	d->bars[1].size = VIRTIO_PCI_MSIX_BAR_SIZE;
	d->bars[1].fn = virtio_pci_msix_io;
	d->bars[1].opaque = vp;
	d->opaque = vp;
	d->bar_remap = bar_remap;
	d->cfg_write = cfg_write_hook;
	if (add_vcap(d, VIRTIO_PCI_CAP_COMMON, VIRTIO_PCI_COMMON_OFF,
		     VIRTIO_PCI_COMMON_LEN, false) < 0 ||
	    add_vcap(d, VIRTIO_PCI_CAP_ISR, VIRTIO_PCI_ISR_OFF,
		     VIRTIO_PCI_ISR_LEN, false) < 0 ||
	    (vp->cfg.cfg_size &&
	     add_vcap(d, VIRTIO_PCI_CAP_DEVICE, VIRTIO_PCI_DEVCFG_OFF,
		      vp->cfg.cfg_size, false) < 0) ||
	    add_vcap(d, VIRTIO_PCI_CAP_NOTIFY, VIRTIO_PCI_NOTIFY_OFF,
		     VIRTIO_PCI_NOTIFY_MULT * vp->cfg.num_queues, true) < 0)
		return -1;
	put_le(msix, 2, vp->nvec - 1);
	put_le(msix + 2, 4, 0 | 1);                       /* table: BAR1 + 0 */
	put_le(msix + 6, 4, VIRTIO_PCI_PBA_OFF | 1);      /* PBA: BAR1 + 0x800 */
	cap = pci_add_capability(d, CAP_MSIX, msix, sizeof(msix), NULL);
	if (cap < 0)
		return -1;
	vp->msix_cap = (unsigned)cap;
	return 0;
}

static void vp_free(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < vp->cfg.num_queues; i++) {
		struct vq_state *s = &vp->vq[i];

		if (s->efd < 0)
			continue;
		if (vp->loop)
			event_del_fd(vp->loop, s->efd);
		if (s->efd_addr)
			ioeventfd_assign(vp, s, s->efd_addr, false);
		close(s->efd);
	}
	for (unsigned v = 0; v < vp->nvec; v++)
		msi_vector_release(vp->vm, &vp->vec[v]);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}

struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_bus *pci,
				     struct event_loop *loop,
				     const struct virtio_pci_config *cfg,
				     const struct virtio_dev_ops *ops,
				     void *opaque)
{
	struct virtio_pci *vp;

	if (cfg->num_queues == 0 || cfg->num_queues > VIRTIO_PCI_MAX_QUEUES ||
	    cfg->cfg_size > VIRTIO_PCI_DEVCFG_MAX || !ops->queue_notify) {
		log_err("%s: bad virtio device description", cfg->name);
		return NULL;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp) {
		log_err("%s: out of memory", cfg->name);
		return NULL;
	}
	pthread_mutex_init(&vp->lock, NULL);
	vp->vm = vm;
	vp->loop = loop;
	vp->cfg = *cfg;
	vp->ops = ops;
	vp->opaque = opaque;
	vp->nvec = cfg->num_queues + 1;
	vp->dev_features = cfg->features | 1ULL << VIRTIO_F_VERSION_1 |
			   1ULL << VIRTIO_F_INDIRECT_DESC;
	for (unsigned v = 0; v < MSIX_MAX_VECTORS; v++) {
		msi_vector_init(&vp->vec[v]);
		/* Every entry starts masked (PCI 3.0, 6.8.2.9). */
		vp->msix_table[v * MSIX_ENTRY_SIZE + MSIX_VEC_CTRL] = 1;
	}
	for (unsigned i = 0; i < cfg->num_queues; i++) {
		struct vq_state *s = &vp->vq[i];

		s->vp = vp;
		s->index = i;
		s->efd = -1;
		if (!loop || vm->vm_fd < 0)
			continue;
		s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->efd >= 0 &&
		    event_add_fd(loop, s->efd, EPOLLIN, ioeventfd_ready, s) < 0) {
			close(s->efd);
			s->efd = -1;
		}
	}
	pthread_mutex_lock(&vp->lock);
	device_reset(vp);
	pthread_mutex_unlock(&vp->lock);
	if (pci_setup(vp) < 0 || pci_register_device(pci, &vp->dev) < 0) {
		log_err("%s: cannot register the PCI device", cfg->name);
		vp_free(vp);
		return NULL;
	}
	return vp;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (vp)
		vp_free(vp);
}
