// SPDX-License-Identifier: MIT
/*
 * A minimal PCI configuration scan from ring 3: mechanism #1 (address to
 * 0xCF8, data at 0xCFC), bus 0 only, which is all our vmm and QEMU's pc and
 * microvm machines put display devices on. BARs are used where firmware (or
 * the vmm, which assigns them itself) placed them. A memory BAR left at 0
 * (minimal firmware such as qboot assigns nothing) gets an address here, as
 * Linux's pci_assign_unassigned_resources() would give it.
 */
#include "guest.h"

#define PCI_CONFIG_ADDR 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_DEVICES     32
#define PCI_FUNCTIONS   8

#define PCI_ID          0x00
#define PCI_COMMAND     0x04
#define PCI_HEADER      0x0C    /* byte 2 of this dword: header type */
#define PCI_BAR0        0x10
#define PCI_CMD_IO      0x1
#define PCI_CMD_MEMORY  0x2
/*
 * Where unassigned memory BARs go: above every machine's low RAM (QEMU pc
 * keeps at most 3.5 GiB below 4 GiB, q35 2.75 GiB and its ECAM at
 * 0xB0000000) and below the I/O APIC at 0xFEC00000. The guest maps it
 * uncached, like the rest of 0xC0000000-4 GiB.
 */
#define PCI_ASSIGN_START 0xE0000000u
#define PCI_ASSIGN_END   0xFEC00000u

static uint32_t assign_next = PCI_ASSIGN_START;

static uint32_t cfg_addr(unsigned dev, unsigned fn, unsigned off)
{
	return 0x80000000u | (dev & 0x1f) << 11 | (fn & 7) << 8 | (off & 0xfc);
}

uint32_t pci_cfg_read32(unsigned dev, unsigned fn, unsigned off)
{
	outl(PCI_CONFIG_ADDR, cfg_addr(dev, fn, off));
	return inl(PCI_CONFIG_DATA);
}

void pci_cfg_write32(unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
	outl(PCI_CONFIG_ADDR, cfg_addr(dev, fn, off));
	outl(PCI_CONFIG_DATA, v);
}

/*
 * Size an unassigned memory BAR (write all ones, read the mask back) and
 * place it at the next naturally aligned free address; returns the BAR's
 * low dword as re-read (unchanged if there is no room). Memory decoding
 * is turned off first so the probe value is never decoded; pci_find()
 * turns it back on.
 */
static uint32_t assign_bar(struct pci_func *f, unsigned i, uint32_t lo)
{
	unsigned off = PCI_BAR0 + 4 * i;
	bool is64 = ((lo >> 1) & 3) == 2 && i < 5;
	uint32_t cmd = pci_cfg_read32(f->dev, f->fn, PCI_COMMAND);
	uint32_t mask, size, base;

	if (cmd & PCI_CMD_MEMORY)
		pci_cfg_write32(f->dev, f->fn, PCI_COMMAND,
				(cmd & 0xffff) & ~PCI_CMD_MEMORY);
	pci_cfg_write32(f->dev, f->fn, off, ~0u);
	mask = pci_cfg_read32(f->dev, f->fn, off) & ~0xfu;
	pci_cfg_write32(f->dev, f->fn, off, lo);
	size = ~mask + 1;
	/* Not implemented, or larger than a 32-bit window can hold. */
	if (!mask || !size)
		return lo;
	base = (assign_next + size - 1) & ~(size - 1);
	if (base < assign_next || base > PCI_ASSIGN_END ||
	    PCI_ASSIGN_END - base < size)
		return lo;
	assign_next = base + size;
	pci_cfg_write32(f->dev, f->fn, off, base | (lo & 0xf));
	if (is64)
		pci_cfg_write32(f->dev, f->fn, off + 4, 0);
	return pci_cfg_read32(f->dev, f->fn, off);
}

/* Decode the BARs of a type 0 header (64-bit BARs take two slots). */
static void read_bars(struct pci_func *f)
{
	for (unsigned i = 0; i < 6; i++) {
		uint32_t lo = pci_cfg_read32(f->dev, f->fn, PCI_BAR0 + 4 * i);

		if (!(lo & 1) && !(lo & ~0xfu))
			lo = assign_bar(f, i, lo);

		f->bar[i] = 0;
		f->bar_io[i] = lo & 1;
		if (lo & 1) {
			f->bar[i] = lo & ~3u;
			continue;
		}
		f->bar[i] = lo & ~0xfu;
		if (((lo >> 1) & 3) == 2 && i < 5) {
			uint64_t hi = pci_cfg_read32(f->dev, f->fn,
						     PCI_BAR0 + 4 * (i + 1));

			f->bar[i] |= hi << 32;
			f->bar[++i] = 0;
		}
	}
}

bool pci_find(uint16_t vendor, uint16_t device, struct pci_func *out)
{
	return pci_find_nth(vendor, device, 0, out);
}

bool pci_find_nth(uint16_t vendor, uint16_t device, unsigned nth,
		  struct pci_func *out)
{
	for (unsigned dev = 0; dev < PCI_DEVICES; dev++) {
		for (unsigned fn = 0; fn < PCI_FUNCTIONS; fn++) {
			uint32_t id = pci_cfg_read32(dev, fn, PCI_ID);
			uint32_t cmd;

			if ((id & 0xffff) == 0xffff) {
				if (fn == 0)
					break;
				continue;
			}
			if ((id & 0xffff) == vendor && (id >> 16) == device &&
			    nth-- == 0) {
				memset(out, 0, sizeof(*out));
				out->dev = dev;
				out->fn = fn;
				out->vendor = vendor;
				out->device = device;
				read_bars(out);
				/* As pci_enable_device(): decode I/O and memory. */
				cmd = pci_cfg_read32(dev, fn, PCI_COMMAND);
				if ((cmd & 3) != 3)
					pci_cfg_write32(dev, fn, PCI_COMMAND,
							(cmd & 0xffff) | PCI_CMD_IO |
							PCI_CMD_MEMORY);
				return true;
			}
			/* Not multi-function: functions 1-7 do not exist. */
			if (fn == 0 &&
			    !(pci_cfg_read32(dev, 0, PCI_HEADER) & 0x800000))
				break;
		}
	}
	return false;
}
