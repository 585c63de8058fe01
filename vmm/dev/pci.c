// SPDX-License-Identifier: MIT
/*
 * PCI host bridge, configuration mechanism #1, bus 0 (PCI Local Bus 3.0,
 * 3.2.2.3.2). Everything the guest writes into configuration space goes
 * through per-byte write masks, so read-only fields stay read-only whatever
 * the access size or alignment.
 */
#include <stdlib.h>
#include <string.h>

#include "../boot/boot.h"
#include "../log.h"
#include "../platform.h"
#include "pci.h"
#include "pm.h"

#define CONFIG_ENABLE  0x80000000u
#define CONFIG_ADDR_MASK 0x80FFFFFCu   /* reserved bits read as 0 */

#define BAR_IO_FLAG      0x1u
#define BAR_MEM64_FLAG   0x4u
#define BAR_PREFETCH     0x8u

/* Guest-physical address bits we accept for a memory BAR. */
#define MAX_PHYS_ADDR (1ULL << 46)
/* The in-kernel IOAPIC and LAPIC and the firmware area up to 4 GiB: no BAR
 * may cover them. */
#define RESERVED_MMIO_START IOAPIC_ADDR
#define RESERVED_MMIO_END   MEM_4G
#define MMIO_MIN_ALIGN 0x1000ULL

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;          /* config space, BAR state */
	pthread_mutex_t irq_lock;      /* leaf: INTx state below */
	uint32_t config_addr;
	uint8_t reset_control;         /* 0xCF9 */
	struct pci_device *slots[PCI_MAX_SLOTS];
	struct pci_device host_bridge;
	uint64_t io_next, mmio_next;   /* BAR allocation cursors */
	unsigned gsi_users[IRQ_PCI_COUNT];
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* --- INTx ------------------------------------------------------------------- */

/* irq_lock held: make the device's contribution to its GSI match what it
 * asks for and what the command register allows. Shared GSIs are a wired OR:
 * the line is up while any device on it asserts. */
static void irq_refresh(struct pci_bus *bus, struct pci_device *dev)
{
	bool disabled = get16(dev->cfg + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
	bool want = dev->irq_level && !disabled && dev->irq_pin;
	unsigned idx = dev->gsi - IRQ_PCI_FIRST;

	if (want == dev->irq_asserted || idx >= IRQ_PCI_COUNT)
		return;
	dev->irq_asserted = want;
	if (want) {
		if (bus->gsi_users[idx]++ == 0)
			vm_irq_line(bus->vm, dev->gsi, 1);
	} else {
		if (--bus->gsi_users[idx] == 0)
			vm_irq_line(bus->vm, dev->gsi, 0);
	}
}

void pci_set_irq(struct pci_device *dev, int level)
{
	struct pci_bus *bus = dev->bus;

	if (!bus)
		return;
	pthread_mutex_lock(&bus->irq_lock);
	dev->irq_level = level != 0;
	irq_refresh(bus, dev);
	pthread_mutex_unlock(&bus->irq_lock);
}

/* --- BARs ------------------------------------------------------------------- */

/* The config dword at BAR slot i belongs to: BAR i itself (low), the BAR
 * before it (high half of a 64-bit BAR), or nobody (-1). */
static int bar_owner(const struct pci_device *dev, int i, bool *high)
{
	*high = false;
	if (dev->bars[i].kind != PCI_BAR_UNUSED)
		return i;
	if (i > 0 && dev->bars[i - 1].kind == PCI_BAR_MEM64) {
		*high = true;
		return i - 1;
	}
	return -1;
}

/* Apply the size mask and the read-only type bits to BAR b's register(s):
 * this is what makes the all-ones sizing write read back as the size. */
static void bar_fixup(struct pci_device *dev, int b)
{
	const struct pci_bar *bar = &dev->bars[b];
	uint8_t *reg = dev->cfg + PCI_BAR0 + 4 * b;
	uint64_t mask = ~(bar->size - 1);
	uint32_t low = get32(reg);

	switch (bar->kind) {
	case PCI_BAR_IO:
		put32(reg, (low & (uint32_t)mask & ~3u) | BAR_IO_FLAG);
		break;
	case PCI_BAR_MEM32:
		put32(reg, (low & (uint32_t)mask & ~0xFu) |
			   (bar->prefetchable ? BAR_PREFETCH : 0));
		break;
	case PCI_BAR_MEM64:
		put32(reg, (low & (uint32_t)mask & ~0xFu) | BAR_MEM64_FLAG |
			   (bar->prefetchable ? BAR_PREFETCH : 0));
		put32(reg + 4, get32(reg + 4) & (uint32_t)(mask >> 32));
		break;
	case PCI_BAR_UNUSED:
		break;
	}
}

static uint64_t bar_addr(const struct pci_device *dev, int b)
{
	const uint8_t *reg = dev->cfg + PCI_BAR0 + 4 * b;

	switch (dev->bars[b].kind) {
	case PCI_BAR_IO:
		return get32(reg) & ~3u;
	case PCI_BAR_MEM32:
		return get32(reg) & ~0xFu;
	case PCI_BAR_MEM64:
		return (get32(reg) & ~0xFu) | (uint64_t)get32(reg + 4) << 32;
	default:
		return 0;
	}
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* May a memory BAR be decoded at [addr, addr + size)? Never over RAM (the
 * RAM slot would win anyway) nor over the interrupt controllers. */
static bool mem_range_ok(const struct pci_bus *bus, uint64_t addr, uint64_t size)
{
	const struct guest_mem *mem = &bus->vm->mem;

	if (addr == 0 || addr > MAX_PHYS_ADDR || size > MAX_PHYS_ADDR - addr)
		return false;
	if (overlaps(addr, size, RESERVED_MMIO_START,
		     RESERVED_MMIO_END - RESERVED_MMIO_START))
		return false;
	for (unsigned i = 0; i < mem->nr_ram && i < MEM_MAX_REGIONS; i++)
		if (overlaps(addr, size, mem->ram[i].gpa, mem->ram[i].size))
			return false;
	return true;
}

/* Where BAR b should be decoded now, 0 for nowhere. */
static uint64_t bar_wanted(const struct pci_bus *bus,
			   const struct pci_device *dev, int b)
{
	const struct pci_bar *bar = &dev->bars[b];
	uint16_t cmd = get16(dev->cfg + PCI_COMMAND);
	uint64_t addr = bar_addr(dev, b);

	switch (bar->kind) {
	case PCI_BAR_IO:
		/* x86 port I/O has 16 address bits. */
		if (!(cmd & PCI_COMMAND_IO) || addr == 0 || addr > 0x10000 ||
		    bar->size > 0x10000 - addr)
			return 0;
		return addr;
	case PCI_BAR_MEM32:
	case PCI_BAR_MEM64:
		if (!(cmd & PCI_COMMAND_MEMORY) || !mem_range_ok(bus, addr, bar->size))
			return 0;
		return addr;
	default:
		return 0;
	}
}

static struct bus *bar_bus(struct pci_bus *bus, const struct pci_bar *bar)
{
	return bar->kind == PCI_BAR_IO ? &bus->vm->pio : &bus->vm->mmio;
}

static void bar_unmap(struct pci_bus *bus, struct pci_device *dev, int b)
{
	struct pci_bar *bar = &dev->bars[b];
	uint64_t old = bar->mapped;

	if (!old)
		return;
	bar->mapped = 0;
	if (bar->fn)
		bus_unregister(bar_bus(bus, bar), old, bar->opaque);
	else if (dev->bar_remap)
		dev->bar_remap(dev, b, old, 0);
}

static void bar_map(struct pci_bus *bus, struct pci_device *dev, int b,
		    uint64_t addr)
{
	struct pci_bar *bar = &dev->bars[b];
	int ret = -1;

	if (bar->fn)
		ret = bus_register(bar_bus(bus, bar), addr, bar->size, bar->fn,
				   bar->opaque, dev->name ? dev->name : "pci");
	else if (dev->bar_remap)
		ret = dev->bar_remap(dev, b, 0, addr);
	if (ret == 0) {
		bar->mapped = addr;
		return;
	}
	log_ratelimited(LOG_WARN, "pci: %02x.0 BAR%d cannot be decoded at 0x%llx "
			"(conflict): left unmapped", dev->slot, b,
			(unsigned long long)addr);
}

/*
 * Bring every BAR on the bus to where the guest wants it. All moves first
 * unmap, then everything is mapped, so BARs may swap places; a BAR that
 * could not be mapped (a conflict) is retried on every later pass.
 */
static void remap_all(struct pci_bus *bus)
{
	for (int s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_device *dev = bus->slots[s];

		for (int b = 0; dev && b < PCI_NUM_BARS; b++)
			if (dev->bars[b].mapped != bar_wanted(bus, dev, b))
				bar_unmap(bus, dev, b);
	}
	for (int s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_device *dev = bus->slots[s];

		for (int b = 0; dev && b < PCI_NUM_BARS; b++) {
			uint64_t want = bar_wanted(bus, dev, b);

			if (want && !dev->bars[b].mapped)
				bar_map(bus, dev, b, want);
		}
	}
}

/* --- configuration space --------------------------------------------------- */

static uint32_t cfg_read(struct pci_bus *bus, struct pci_device *dev,
			 unsigned off, unsigned len)
{
	uint32_t val = 0;

	if (dev->cfg_read && dev->cfg_read(dev, off, len, &val))
		return val;
	for (unsigned i = 0; i < len; i++)
		val |= (uint32_t)dev->cfg[off + i] << (8 * i);
	/* Interrupt Status reflects the device's request, even if disabled. */
	if (off <= PCI_STATUS && off + len > PCI_STATUS) {
		pthread_mutex_lock(&bus->irq_lock);
		if (dev->irq_level)
			val |= (uint32_t)PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - off));
		pthread_mutex_unlock(&bus->irq_lock);
	}
	return val;
}

static void cfg_write(struct pci_bus *bus, struct pci_device *dev, unsigned off,
		      unsigned len, uint32_t val)
{
	bool bars_touched = false, cmd_touched = false;

	if (dev->cfg_write && dev->cfg_write(dev, off, len, val))
		return;
	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;
		uint8_t byte = (uint8_t)(val >> (8 * i));
		bool high;

		if (o >= PCI_BAR0 && o < PCI_BAR0 + 4 * PCI_NUM_BARS) {
			if (bar_owner(dev, (int)(o - PCI_BAR0) / 4, &high) >= 0) {
				dev->cfg[o] = byte;
				bars_touched = true;
			}
			continue;
		}
		dev->cfg[o] = (uint8_t)((dev->cfg[o] & ~dev->wmask[o]) |
					(byte & dev->wmask[o]));
		if (o == PCI_COMMAND || o == PCI_COMMAND + 1)
			cmd_touched = true;
	}
	if (bars_touched) {
		for (int b = 0; b < PCI_NUM_BARS; b++)
			bar_fixup(dev, b);
	}
	if (cmd_touched) {
		pthread_mutex_lock(&bus->irq_lock);
		irq_refresh(bus, dev);
		pthread_mutex_unlock(&bus->irq_lock);
	}
	if (bars_touched || cmd_touched)
		remap_all(bus);
}

/* A data port access: 0xCFC + port_off, len bytes, never crossing the dword. */
static void config_data(struct pci_bus *bus, unsigned port_off, uint8_t *data,
			uint32_t len, bool is_write)
{
	uint32_t addr = bus->config_addr;
	unsigned busno = (addr >> 16) & 0xFF, slot = (addr >> 11) & 0x1F;
	unsigned fn = (addr >> 8) & 0x7, off = (addr & 0xFC) + port_off;
	struct pci_device *dev = bus->slots[slot];
	uint32_t val = 0;

	if (!(addr & CONFIG_ENABLE) || busno || fn || !dev) {
		if (!is_write)
			memset(data, 0xFF, len);
		return;
	}
	if (is_write) {
		for (uint32_t i = 0; i < len; i++)
			val |= (uint32_t)data[i] << (8 * i);
		cfg_write(bus, dev, off, len, val);
	} else {
		val = cfg_read(bus, dev, off, len);
		for (uint32_t i = 0; i < len; i++)
			data[i] = (uint8_t)(val >> (8 * i));
	}
}

static void config_addr_io(struct pci_bus *bus, unsigned off, uint8_t *data,
			   uint32_t len, bool is_write)
{
	if (off == 0 && len == 4) {
		if (is_write)
			bus->config_addr = get32(data) & CONFIG_ADDR_MASK;
		else
			put32(data, bus->config_addr);
		return;
	}
	/* Only a dword access hits the address register; a byte at 0xCF9
	 * is the reset control register, the rest is nothing. */
	if (off == PORT_RESET_CONTROL - PORT_PCI_CONFIG && len == 1) {
		if (is_write) {
			bus->reset_control = data[0] & 0x0E;
			pm_reset_control_write(bus->vm, data[0]);
		} else {
			data[0] = bus->reset_control;
		}
		return;
	}
	if (!is_write)
		memset(data, 0xFF, len);
}

static void pci_config_io(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct pci_bus *bus = opaque;

	if (len > 4 || offset >= 8 || (offset & 3) + len > 4) {
		if (!is_write)
			memset(data, 0xFF, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (offset < 4)
		config_addr_io(bus, (unsigned)offset, data, len, is_write);
	else
		config_data(bus, (unsigned)offset - 4, data, len, is_write);
	pthread_mutex_unlock(&bus->lock);
}

/* --- registration -------------------------------------------------------------- */

static bool bar_valid(const struct pci_device *dev, int b)
{
	const struct pci_bar *bar = &dev->bars[b];

	switch (bar->kind) {
	case PCI_BAR_UNUSED:
		return true;
	case PCI_BAR_IO:
		return is_pow2(bar->size) && bar->size >= 4 && bar->size <= 0x10000 &&
		       !bar->prefetchable;
	case PCI_BAR_MEM32:
		return is_pow2(bar->size) && bar->size >= 16 &&
		       bar->size <= (1ULL << 31);
	case PCI_BAR_MEM64:
		return is_pow2(bar->size) && bar->size >= 16 &&
		       b + 1 < PCI_NUM_BARS &&
		       dev->bars[b + 1].kind == PCI_BAR_UNUSED;
	}
	return false;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Hand out a naturally aligned address from a window, as firmware does. */
static int alloc_bar(struct pci_bus *bus, struct pci_bar *bar, uint64_t *addr)
{
	bool io = bar->kind == PCI_BAR_IO;
	uint64_t *next = io ? &bus->io_next : &bus->mmio_next;
	uint64_t end = io ? PCI_IO_WINDOW_END : PCI_MMIO_WINDOW_END;
	uint64_t align = bar->size;
	uint64_t a;

	/* Keep MMIO BARs on their own pages (and KVM slots page-aligned). */
	if (!io && align < MMIO_MIN_ALIGN)
		align = MMIO_MIN_ALIGN;
	a = align_up(*next, align);
	if (a < *next || a > end || bar->size - 1 > end - a)
		return -1;
	*addr = a;
	*next = a + (bar->size > align ? bar->size : align);
	return 0;
}

static void build_header(struct pci_device *dev)
{
	uint8_t *c = dev->cfg, *w = dev->wmask;

	memset(c, 0, PCI_CAP_START);
	memset(w, 0, PCI_CAP_START);
	put16(c + PCI_VENDOR_ID, dev->vendor_id);
	put16(c + PCI_DEVICE_ID, dev->device_id);
	c[PCI_REVISION_ID] = dev->revision;
	c[PCI_CLASS_PROG] = (uint8_t)dev->class_code;
	c[PCI_CLASS_PROG + 1] = (uint8_t)(dev->class_code >> 8);
	c[PCI_CLASS_PROG + 2] = (uint8_t)(dev->class_code >> 16);
	put16(c + PCI_SUBSYSTEM_VENDOR_ID, dev->subsys_vendor_id);
	put16(c + PCI_SUBSYSTEM_ID, dev->subsys_id);
	c[PCI_INTERRUPT_PIN] = dev->irq_pin;
	if (dev->irq_pin)
		c[PCI_INTERRUPT_LINE] = (uint8_t)dev->gsi;
	if (dev->cap_last) {
		c[PCI_CAPABILITY_LIST] = PCI_CAP_START;
		put16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
	}
	/* Command: I/O, memory, bus master, parity response, SERR#,
	 * interrupt disable. Status bits are all read-only (we never set the
	 * write-1-to-clear error bits). */
	w[PCI_COMMAND] = 0x47;
	w[PCI_COMMAND + 1] = 0x05;
	w[PCI_CACHE_LINE_SIZE] = 0xFF;
	w[PCI_LATENCY_TIMER] = 0xFF;
	w[PCI_INTERRUPT_LINE] = 0xFF;
}

int pci_add_capability(struct pci_device *dev, uint8_t id, const uint8_t *body,
		       unsigned len, const uint8_t *wmask)
{
	unsigned off = dev->cap_end ? dev->cap_end : PCI_CAP_START;

	if (dev->bus || len > PCI_CFG_SIZE || off + 2 + len > PCI_CFG_SIZE)
		return -1;
	dev->cfg[off] = id;
	dev->cfg[off + 1] = 0;
	if (len) {
		memcpy(dev->cfg + off + 2, body, len);
		if (wmask)
			memcpy(dev->wmask + off + 2, wmask, len);
	}
	if (dev->cap_last)
		dev->cfg[dev->cap_last + 1] = (uint8_t)off;
	dev->cap_last = (uint8_t)off;
	/* The next capability starts dword-aligned (the low 2 bits of a
	 * capability pointer are reserved). */
	dev->cap_end = (uint8_t)((off + 2 + len + 3) & ~3u);
	if (off + 2 + len + 3 >= PCI_CFG_SIZE)
		dev->cap_end = 0xFF;   /* full: the next add fails */
	return (int)off;
}

static int find_slot(const struct pci_bus *bus)
{
	for (int s = 1; s < PCI_MAX_SLOTS; s++)
		if (!bus->slots[s])
			return s;
	return -1;
}

int pci_register_device(struct pci_bus *bus, struct pci_device *dev)
{
	uint64_t addrs[PCI_NUM_BARS] = { 0 };
	uint16_t cmd = 0;
	int slot;

	pthread_mutex_lock(&bus->lock);
	slot = find_slot(bus);
	if (slot < 0 || dev->irq_pin > 4)
		goto fail;
	for (int b = 0; b < PCI_NUM_BARS; b++) {
		if (!bar_valid(dev, b) ||
		    (dev->bars[b].kind != PCI_BAR_UNUSED &&
		     alloc_bar(bus, &dev->bars[b], &addrs[b]) < 0))
			goto fail;
		dev->bars[b].mapped = 0;
	}
	dev->bus = bus;
	dev->slot = (unsigned)slot;
	dev->gsi = dev->irq_pin ? acpi_pci_gsi((unsigned)slot, dev->irq_pin - 1u) : 0;
	dev->irq_level = dev->irq_asserted = false;
	build_header(dev);
	for (int b = 0; b < PCI_NUM_BARS; b++) {
		uint8_t *reg = dev->cfg + PCI_BAR0 + 4 * b;

		if (dev->bars[b].kind == PCI_BAR_UNUSED)
			continue;
		put32(reg, (uint32_t)addrs[b]);
		if (dev->bars[b].kind == PCI_BAR_MEM64)
			put32(reg + 4, (uint32_t)(addrs[b] >> 32));
		bar_fixup(dev, b);
		cmd |= dev->bars[b].kind == PCI_BAR_IO ? PCI_COMMAND_IO
						       : PCI_COMMAND_MEMORY;
	}
	put16(dev->cfg + PCI_COMMAND, cmd);
	bus->slots[slot] = dev;
	remap_all(bus);
	pthread_mutex_unlock(&bus->lock);
	return slot;
fail:
	pthread_mutex_unlock(&bus->lock);
	log_err("pci: cannot register %s (no free slot, bad BAR or window full)",
		dev->name ? dev->name : "device");
	return -1;
}

/* --- lifetime ------------------------------------------------------------------- */

struct pci_bus *pci_create(struct vm *vm)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));
	struct pci_device *hb;

	if (!bus)
		return NULL;
	bus->vm = vm;
	bus->io_next = PCI_IO_WINDOW_START;
	bus->mmio_next = PCI_MMIO_WINDOW_START;
	pthread_mutex_init(&bus->lock, NULL);
	pthread_mutex_init(&bus->irq_lock, NULL);
	/* Device 0: an i440FX-like host bridge, as Linux expects to find. */
	hb = &bus->host_bridge;
	hb->name = "host-bridge";
	hb->vendor_id = 0x8086;
	hb->device_id = 0x1237;
	hb->class_code = 0x060000;
	hb->revision = 0x02;
	hb->bus = bus;
	build_header(hb);
	put16(hb->cfg + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	bus->slots[0] = hb;
	if (bus_register(&vm->pio, PORT_PCI_CONFIG, 8, pci_config_io, bus,
			 "pci-config") < 0) {
		log_err("pci: ports 0x%x-0x%x are taken", PORT_PCI_CONFIG,
			PORT_PCI_CONFIG + 7);
		pci_destroy(bus);
		return NULL;
	}
	return bus;
}

void pci_destroy(struct pci_bus *bus)
{
	if (!bus)
		return;
	bus_unregister(&bus->vm->pio, PORT_PCI_CONFIG, bus);
	pthread_mutex_lock(&bus->lock);
	for (int s = 1; s < PCI_MAX_SLOTS; s++) {
		struct pci_device *dev = bus->slots[s];

		for (int b = 0; dev && b < PCI_NUM_BARS; b++)
			bar_unmap(bus, dev, b);
		if (dev) {
			pci_set_irq(dev, 0);
			dev->bus = NULL;
		}
	}
	pthread_mutex_unlock(&bus->lock);
	pthread_mutex_destroy(&bus->lock);
	pthread_mutex_destroy(&bus->irq_lock);
	free(bus);
}
