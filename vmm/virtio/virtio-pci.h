/* SPDX-License-Identifier: MIT */
/*
 * virtio over PCI, the modern (virtio 1.x only) transport, shared by every
 * virtio device (virtio 1.2, 4.1):
 *  - PCI 1af4:(0x1040 + device type), revision 1;
 *  - BAR0 (16 KiB, memory): 0x0000 common configuration, 0x1000 ISR status,
 *    0x2000 device-specific configuration, 0x3000 queue notifications (one
 *    16-bit doorbell per queue, 4 bytes apart); vendor capabilities point
 *    the driver at each;
 *  - BAR1 (4 KiB, memory): the MSI-X table (one vector per queue plus one
 *    for configuration changes) at 0, the pending bit array at 0x800;
 *  - interrupts: MSI-X through KVM irqfds (msi.h) while the driver has
 *    enabled it, else INTx A with the ISR register;
 *  - notifications: a KVM ioeventfd per queue doorbell, serviced on the
 *    event loop (without a loop, or if KVM refuses, the MMIO exit itself
 *    calls the device on the vCPU thread).
 *
 * The device model (virtio-gpu, virtio-input, ...) supplies its type,
 * features, queues, configuration space and callbacks; the transport does
 * feature negotiation (VIRTIO_F_VERSION_1 required), the status state
 * machine, reset, queue set-up with validation (virtq.h).
 *
 * Locking: one mutex per device (virtio_pci_lock), held around every
 * callback into the device model. Device models take it themselves when
 * they act on their own (input events from a VNC thread). Order: PCI bus
 * lock -> device lock -> console lock.
 */
#ifndef VMM_VIRTIO_VIRTIO_PCI_H
#define VMM_VIRTIO_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "../dev/pci.h"
#include "../event.h"
#include "../vm.h"
#include "virtq.h"

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE   1
#define VIRTIO_STATUS_DRIVER        2
#define VIRTIO_STATUS_DRIVER_OK     4
#define VIRTIO_STATUS_FEATURES_OK   8
#define VIRTIO_STATUS_NEEDS_RESET   0x40
#define VIRTIO_STATUS_FAILED        0x80

/* Transport feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_MSI_NO_VECTOR   0xffff

/* BAR0 layout. */
#define VIRTIO_PCI_COMMON_OFF  0x0000
#define VIRTIO_PCI_COMMON_LEN  0x0040
#define VIRTIO_PCI_ISR_OFF     0x1000
#define VIRTIO_PCI_ISR_LEN     0x0004
#define VIRTIO_PCI_DEVCFG_OFF  0x2000
#define VIRTIO_PCI_DEVCFG_MAX  0x1000
#define VIRTIO_PCI_NOTIFY_OFF  0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_BAR0_SIZE   0x4000
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000
#define VIRTIO_PCI_PBA_OFF     0x800

/* Common configuration registers (4.1.4.3). */
#define VIRTIO_COMMON_DFSELECT     0x00
#define VIRTIO_COMMON_DF           0x04
#define VIRTIO_COMMON_GFSELECT     0x08
#define VIRTIO_COMMON_GF           0x0C
#define VIRTIO_COMMON_MSIX         0x10
#define VIRTIO_COMMON_NUMQ         0x12
#define VIRTIO_COMMON_STATUS       0x14
#define VIRTIO_COMMON_CFGGENERATION 0x15
#define VIRTIO_COMMON_Q_SELECT     0x16
#define VIRTIO_COMMON_Q_SIZE       0x18
#define VIRTIO_COMMON_Q_MSIX       0x1A
#define VIRTIO_COMMON_Q_ENABLE     0x1C
#define VIRTIO_COMMON_Q_NOFF       0x1E
#define VIRTIO_COMMON_Q_DESCLO     0x20
#define VIRTIO_COMMON_Q_DESCHI     0x24
#define VIRTIO_COMMON_Q_AVAILLO    0x28
#define VIRTIO_COMMON_Q_AVAILHI    0x2C
#define VIRTIO_COMMON_Q_USEDLO     0x30
#define VIRTIO_COMMON_Q_USEDHI     0x34
#define VIRTIO_COMMON_Q_NDATA      0x38
#define VIRTIO_COMMON_Q_RESET      0x3A

#define VIRTIO_PCI_MAX_QUEUES 8

struct virtio_pci;

struct virtio_dev_ops {
	/* The driver notified queue q (or queued work is pending). */
	void (*queue_notify)(void *opaque, unsigned q);
	/* Device configuration space, off + len <= cfg_size. */
	void (*cfg_read)(void *opaque, unsigned off, uint8_t *data, unsigned len);
	void (*cfg_write)(void *opaque, unsigned off, const uint8_t *data,
			  unsigned len);
	/* Device reset (status 0 written): drop every device-side state. */
	void (*reset)(void *opaque);
	/* The driver set DRIVER_OK. May be NULL. */
	void (*driver_ok)(void *opaque);
};

struct virtio_pci_config {
	const char *name;
	uint16_t device_type;      /* virtio device ID: 16 gpu, 18 input */
	uint32_t class_code;
	uint64_t features;         /* device-specific offer; VERSION_1 and
				      INDIRECT_DESC are added */
	unsigned num_queues;       /* <= VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_max[VIRTIO_PCI_MAX_QUEUES];
	unsigned cfg_size;         /* <= VIRTIO_PCI_DEVCFG_MAX */
};

/*
 * Create and register on the PCI bus. loop may be NULL (no ioeventfds).
 * NULL after logging one line on failure.
 */
struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_bus *pci,
				     struct event_loop *loop,
				     const struct virtio_pci_config *cfg,
				     const struct virtio_dev_ops *ops,
				     void *opaque);
/* After pci_destroy() (as vga_destroy), with the vCPUs stopped. */
void virtio_pci_destroy(struct virtio_pci *vp);

void virtio_pci_lock(struct virtio_pci *vp);
void virtio_pci_unlock(struct virtio_pci *vp);

/* Lock held. The queue (never NULL for q < num_queues). */
struct virtq *virtio_pci_queue(struct virtio_pci *vp, unsigned q);
/* Lock held. Interrupt the driver for used buffers on queue q, unless it
 * asked not to be. */
void virtio_pci_notify_queue(struct virtio_pci *vp, unsigned q);
/* Lock held. The device configuration changed: bump the generation and
 * raise the configuration interrupt. */
void virtio_pci_notify_config(struct virtio_pci *vp);
/* Lock held. A queue was found broken: set DEVICE_NEEDS_RESET. */
void virtio_pci_set_needs_reset(struct virtio_pci *vp);
/* Lock held. Current status / negotiated features. */
uint8_t virtio_pci_status(struct virtio_pci *vp);
uint64_t virtio_pci_features(struct virtio_pci *vp);
/* Lock held: driver_ok set and not failed/needing reset. */
bool virtio_pci_driver_ok(struct virtio_pci *vp);

struct pci_device *virtio_pci_device(struct virtio_pci *vp);

/* For tests and fuzzers: the BAR handlers and the config hooks, as the
 * guest reaches them. */
void virtio_pci_bar0_io(void *opaque, uint64_t off, uint8_t *data,
			uint32_t len, bool is_write);
void virtio_pci_msix_io(void *opaque, uint64_t off, uint8_t *data,
			uint32_t len, bool is_write);
/* Offset of the MSI-X capability in configuration space. */
unsigned virtio_pci_msix_cap(struct virtio_pci *vp);

#endif
