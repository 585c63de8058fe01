/* SPDX-License-Identifier: MIT */
/*
 * PCI bus 0 behind a host bridge, reached through configuration mechanism #1
 * (0xCF8 address, 0xCFC-0xCFF data). Devices fill a struct pci_device and
 * register it; pci.c owns its 256-byte configuration space, hands out BAR
 * addresses from the PCI windows as firmware would, and keeps the BARs
 * decoded where the guest puts them:
 *  - a BAR with fn != NULL is a callback range on vm->pio / vm->mmio, which
 *    pci.c (un)registers itself;
 *  - a BAR with fn == NULL is memory-backed (e.g. VRAM as a KVM slot): pci.c
 *    calls the device's bar_remap hook instead.
 *
 * Locking: configuration accesses run under the bus lock; the cfg_read,
 * cfg_write and bar_remap hooks are called with it held, so a device may
 * take its own lock inside them but must never call into pci.c while holding
 * its own lock, except pci_set_irq(), which only takes a leaf lock.
 *
 * The 0xCF8-0xCFB dword is the address register; a byte access to 0xCF9 in
 * it is the chipset's reset control register (see pm.h).
 */
#ifndef VMM_DEV_PCI_H
#define VMM_DEV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "../bus.h"
#include "../vm.h"

#define PCI_MAX_SLOTS 32
#define PCI_NUM_BARS  6
#define PCI_CFG_SIZE  256

/* Configuration space offsets (PCI Local Bus 3.0, type 0 header). */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_REVISION_ID     0x08
#define PCI_CLASS_PROG      0x09
#define PCI_CACHE_LINE_SIZE 0x0C
#define PCI_LATENCY_TIMER   0x0D
#define PCI_HEADER_TYPE     0x0E
#define PCI_BAR0            0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID    0x2E
#define PCI_ROM_ADDRESS     0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE  0x3C
#define PCI_INTERRUPT_PIN   0x3D

#define PCI_COMMAND_IO         0x0001
#define PCI_COMMAND_MEMORY     0x0002
#define PCI_COMMAND_MASTER     0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT   0x0008
#define PCI_STATUS_CAP_LIST    0x0010

/* The first byte after the type 0 header: capabilities go from here. */
#define PCI_CAP_START 0x40

enum pci_bar_kind {
	PCI_BAR_UNUSED = 0,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,   /* takes this BAR slot and the next one */
};

struct pci_bar {
	enum pci_bar_kind kind;
	bool prefetchable;
	uint64_t size;       /* a power of two: I/O >= 4, memory >= 16 */
	bus_io_fn fn;        /* callback BAR; NULL: memory-backed (bar_remap) */
	void *opaque;        /* for fn */
	/* Owned by pci.c: where the BAR is decoded now (0: nowhere). */
	uint64_t mapped;
};

struct pci_device {
	/* Filled in by the device (zero the struct first). */
	const char *name;
	uint16_t vendor_id, device_id;
	uint16_t subsys_vendor_id, subsys_id;
	uint32_t class_code;       /* class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	uint8_t irq_pin;           /* 0 none, 1 INTA .. 4 INTD (register value) */
	struct pci_bar bars[PCI_NUM_BARS];
	void *opaque;              /* the device's own state, for its hooks */

	/*
	 * A memory-backed BAR moved: old_addr -> new_addr, 0 meaning
	 * unmapped. A move comes as (old, 0) then (0, new). Return 0, or -1
	 * if the mapping failed (the BAR then stays unmapped and is retried
	 * at the next BAR or command change).
	 */
	int (*bar_remap)(struct pci_device *dev, int bar, uint64_t old_addr,
			 uint64_t new_addr);
	/* Registers the device owns (e.g. in a capability): return true if
	 * handled. off + len never crosses a dword; len is 1, 2 or 4. */
	bool (*cfg_read)(struct pci_device *dev, unsigned off, unsigned len,
			 uint32_t *val);
	bool (*cfg_write)(struct pci_device *dev, unsigned off, unsigned len,
			  uint32_t val);

	/* Owned by pci.c. */
	struct pci_bus *bus;
	unsigned slot;
	unsigned gsi;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
	uint8_t cap_end;           /* first free byte for capabilities */
	uint8_t cap_last;          /* offset of the last capability, 0: none */
	bool irq_level;            /* the device's INTx request */
	bool irq_asserted;         /* counted on its GSI */
};

struct pci_bus *pci_create(struct vm *vm);
void pci_destroy(struct pci_bus *bus);

/*
 * Put dev in the first free slot: assign its BAR addresses, enable I/O and
 * memory decode, map the BARs. Returns the slot (1..31) or -1.
 */
int pci_register_device(struct pci_bus *bus, struct pci_device *dev);

/*
 * Append a capability (before pci_register_device): id, then the body of
 * len bytes after the id/next pair; wmask (may be NULL) marks the body bits
 * the guest may write. Returns the capability's config offset or -1.
 */
int pci_add_capability(struct pci_device *dev, uint8_t id, const uint8_t *body,
		       unsigned len, const uint8_t *wmask);

/* INTx, level-triggered; honours the command register's Interrupt Disable.
 * Any thread; takes only a leaf lock. */
void pci_set_irq(struct pci_device *dev, int level);

#endif
