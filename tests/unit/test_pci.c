// SPDX-License-Identifier: MIT
/* PCI host bridge: enumeration through 0xCF8/0xCFC at every width, BAR
 * sizing, BAR moves (callback and memory-backed), read-only fields, INTx
 * with shared GSIs, capabilities, 0xCF9 reset, hostile accesses. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vmm/boot/boot.h"
#include "vmm/dev/pci.h"
#include "vmm/platform.h"

static struct vm vm;
static int irq_level[32];
static struct pci_bus *the_bus;

static void observer(struct vm *v, unsigned gsi, int level)
{
	(void)v;
	if (gsi < 32)
		irq_level[gsi] = level;
}

static uint32_t in(uint16_t port, uint32_t len)
{
	uint8_t d[4] = { 0 };
	uint32_t v = 0;

	if (!bus_dispatch(&vm.pio, port, d, len, false))
		return 0xDEADBEEF;   /* not claimed */
	for (uint32_t i = 0; i < len; i++)
		v |= (uint32_t)d[i] << (8 * i);
	return v;
}

static void out(uint16_t port, uint32_t len, uint32_t v)
{
	uint8_t d[4];

	for (uint32_t i = 0; i < len; i++)
		d[i] = (uint8_t)(v >> (8 * i));
	bus_dispatch(&vm.pio, port, d, len, true);
}

static uint32_t cfg_addr(unsigned bus, unsigned slot, unsigned fn, unsigned off)
{
	return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (off & 0xFC);
}

static uint32_t cfg_read(unsigned slot, unsigned off, uint32_t len)
{
	out(0xCF8, 4, cfg_addr(0, slot, 0, off));
	return in((uint16_t)(0xCFC + (off & 3)), len);
}

static void cfg_write(unsigned slot, unsigned off, uint32_t len, uint32_t v)
{
	out(0xCF8, 4, cfg_addr(0, slot, 0, off));
	out((uint16_t)(0xCFC + (off & 3)), len, v);
}

/* A test device: counts accesses per BAR. */
struct tdev {
	struct pci_device pci;
	int io_hits, mmio_hits;
	uint64_t last_off;
	int remaps;
	uint64_t remap_old, remap_new;
	uint32_t hook_reg;
};

static void tdev_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		    bool is_write)
{
	struct tdev *t = opaque;

	t->io_hits++;
	t->last_off = offset;
	if (!is_write)
		memset(data, 0x5A, len);
}

static void tdev_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		      bool is_write)
{
	struct tdev *t = opaque;

	t->mmio_hits++;
	t->last_off = offset;
	if (!is_write)
		memset(data, 0xA5, len);
}

static int tdev_remap(struct pci_device *dev, int bar, uint64_t old_addr,
		      uint64_t new_addr)
{
	struct tdev *t = (struct tdev *)dev;

	CHECK_EQ_U64(bar, 2);
	t->remaps++;
	t->remap_old = old_addr;
	t->remap_new = new_addr;
	return 0;
}

/* A device-owned register in its capability at 0x44. */
static bool tdev_cfg_read(struct pci_device *dev, unsigned off, unsigned len,
			  uint32_t *val)
{
	struct tdev *t = (struct tdev *)dev;

	if (off != 0x48 || len != 4)
		return false;
	*val = t->hook_reg;
	return true;
}

static bool tdev_cfg_write(struct pci_device *dev, unsigned off, unsigned len,
			   uint32_t val)
{
	struct tdev *t = (struct tdev *)dev;

	if (off != 0x48 || len != 4)
		return false;
	t->hook_reg = val ^ 0xFFFF0000u;
	return true;
}

static void tdev_init(struct tdev *t)
{
	memset(t, 0, sizeof(*t));
	t->pci.name = "tdev";
	t->pci.vendor_id = 0x1234;
	t->pci.device_id = 0x5678;
	t->pci.subsys_vendor_id = 0xABCD;
	t->pci.subsys_id = 0xEF01;
	t->pci.class_code = 0x030000;
	t->pci.revision = 0x07;
	t->pci.irq_pin = 1;
	t->pci.bars[0] = (struct pci_bar){ .kind = PCI_BAR_IO, .size = 32,
					   .fn = tdev_io, .opaque = t };
	t->pci.bars[1] = (struct pci_bar){ .kind = PCI_BAR_MEM32, .size = 4096,
					   .fn = tdev_mmio, .opaque = t };
	t->pci.bars[2] = (struct pci_bar){ .kind = PCI_BAR_MEM64, .size = 1 << 20,
					   .prefetchable = true };
	t->pci.bar_remap = tdev_remap;
	t->pci.cfg_read = tdev_cfg_read;
	t->pci.cfg_write = tdev_cfg_write;
}

static bool mmio_claimed(uint64_t addr)
{
	uint8_t d[4];

	return bus_dispatch(&vm.mmio, addr, d, 4, false);
}

static bool pio_claimed(uint16_t port)
{
	uint8_t d = 0;

	return bus_dispatch(&vm.pio, port, &d, 1, false);
}

static void test_host_bridge(void)
{
	CHECK_EQ_U64(cfg_read(0, 0, 4), 0x12378086);
	CHECK_EQ_U64(cfg_read(0, 0, 1), 0x86);
	CHECK_EQ_U64(cfg_read(0, 1, 1), 0x80);
	CHECK_EQ_U64(cfg_read(0, 2, 1), 0x37);
	CHECK_EQ_U64(cfg_read(0, 3, 1), 0x12);
	CHECK_EQ_U64(cfg_read(0, 2, 2), 0x1237);
	CHECK_EQ_U64(cfg_read(0, 1, 2), 0x3780);          /* word at 0xCFD */
	CHECK_EQ_U64(cfg_read(0, 0x08, 4) >> 8, 0x060000);
	CHECK_EQ_U64(cfg_read(0, 0x0E, 1), 0);             /* header type 0 */
	/* Address register: reads back, reserved bits clear. */
	out(0xCF8, 4, 0xFFFFFFFF);
	CHECK_EQ_U64(in(0xCF8, 4), 0x80FFFFFC);
	/* Nothing behind: other slots, functions, buses, or enable clear. */
	CHECK_EQ_U64(cfg_read(7, 0, 4), 0xFFFFFFFF);
	out(0xCF8, 4, cfg_addr(0, 0, 1, 0));
	CHECK_EQ_U64(in(0xCFC, 4), 0xFFFFFFFF);
	out(0xCF8, 4, cfg_addr(1, 0, 0, 0));
	CHECK_EQ_U64(in(0xCFC, 2), 0xFFFF);
	out(0xCF8, 4, cfg_addr(0, 0, 0, 0) & 0x7FFFFFFF);
	CHECK_EQ_U64(in(0xCFC, 4), 0xFFFFFFFF);
	/* Writes to a missing device go nowhere. */
	out(0xCF8, 4, cfg_addr(0, 9, 0, 4));
	out(0xCFC, 4, 0xFFFFFFFF);
	CHECK_EQ_U64(cfg_read(9, 4, 4), 0xFFFFFFFF);
}

static void test_device(void)
{
	static struct tdev t, t2;
	uint32_t bar0, bar1, bar2;
	uint64_t io, mm, mm64;
	uint8_t body[6] = { 1, 2, 3, 4, 5, 6 }, wm[6] = { 0xFF, 0, 0, 0, 0, 0 };
	int slot;

	tdev_init(&t);
	CHECK_EQ_U64(pci_add_capability(&t.pci, 0x09, body, 2, NULL), 0x40);
	CHECK_EQ_U64(pci_add_capability(&t.pci, 0x11, body, 6, wm), 0x44);
	slot = pci_register_device(the_bus, &t.pci);
	CHECK_EQ_U64(slot, 1);
	CHECK_EQ_U64(cfg_read(1, 0, 4), 0x56781234);
	CHECK_EQ_U64(cfg_read(1, 0x08, 4), 0x03000007);
	CHECK_EQ_U64(cfg_read(1, 0x2C, 4), 0xEF01ABCD);
	CHECK_EQ_U64(cfg_read(1, 0x3D, 1), 1);
	CHECK_EQ_U64(cfg_read(1, 0x3C, 1), acpi_pci_gsi(1, 0));
	CHECK_EQ_U64(cfg_read(1, 0x04, 2), 0x0003);        /* IO + MEM on */
	CHECK(cfg_read(1, 0x06, 2) & 0x10);                /* cap list */

	/* Capabilities: chain 0x40 -> 0x44 -> end. */
	CHECK_EQ_U64(cfg_read(1, 0x34, 1), 0x40);
	CHECK_EQ_U64(cfg_read(1, 0x40, 2), 0x4409);
	CHECK_EQ_U64(cfg_read(1, 0x44, 2), 0x0011);
	cfg_write(1, 0x46, 2, 0xFFFF);                     /* one writable byte */
	CHECK_EQ_U64(cfg_read(1, 0x46, 2), 0x02FF);
	cfg_write(1, 0x40, 4, 0);                          /* header read-only */
	CHECK_EQ_U64(cfg_read(1, 0x40, 2), 0x4409);
	/* Device hooks own 0x48. */
	cfg_write(1, 0x48, 4, 0x12345678);
	CHECK_EQ_U64(cfg_read(1, 0x48, 4), 0xEDCB5678);

	/* BARs as firmware assigned them: in the windows, aligned. */
	bar0 = cfg_read(1, 0x10, 4);
	bar1 = cfg_read(1, 0x14, 4);
	bar2 = cfg_read(1, 0x18, 4);
	io = bar0 & ~3u;
	mm = bar1 & ~0xFu;
	mm64 = (bar2 & ~0xFu) | (uint64_t)cfg_read(1, 0x1C, 4) << 32;
	CHECK_EQ_U64(bar0 & 3, 1);
	CHECK(io >= PCI_IO_WINDOW_START && io + 32 - 1 <= PCI_IO_WINDOW_END && !(io % 32));
	CHECK_EQ_U64(bar1 & 0xF, 0);
	CHECK(mm >= PCI_MMIO_WINDOW_START && mm <= PCI_MMIO_WINDOW_END && !(mm % 4096));
	CHECK_EQ_U64(bar2 & 0xF, 0xC);                     /* 64-bit, prefetch */
	CHECK(mm64 >= PCI_MMIO_WINDOW_START && !(mm64 % (1 << 20)));
	CHECK(mm64 != mm);
	CHECK_EQ_U64(cfg_read(1, 0x20, 4), 0);             /* unused BARs */
	CHECK_EQ_U64(cfg_read(1, 0x24, 4), 0);
	CHECK_EQ_U64(t.remaps, 1);
	CHECK_EQ_U64(t.remap_new, mm64);
	CHECK(pio_claimed((uint16_t)(io + 31)));
	CHECK_EQ_U64(t.last_off, 31);
	CHECK(mmio_claimed(mm + 8));
	CHECK_EQ_U64(t.mmio_hits, 1);

	/* Sizing, as Linux does it: decode off, all-ones, read, restore. */
	cfg_write(1, 0x04, 2, 0);
	CHECK(!pio_claimed((uint16_t)io));
	CHECK(!mmio_claimed(mm));
	CHECK_EQ_U64(t.remaps, 2);
	CHECK_EQ_U64(t.remap_new, 0);
	cfg_write(1, 0x10, 4, 0xFFFFFFFF);
	cfg_write(1, 0x14, 4, 0xFFFFFFFF);
	cfg_write(1, 0x18, 4, 0xFFFFFFFF);
	cfg_write(1, 0x1C, 4, 0xFFFFFFFF);
	cfg_write(1, 0x20, 4, 0xFFFFFFFF);
	cfg_write(1, 0x30, 4, 0xFFFFFFFF);                 /* no ROM */
	CHECK_EQ_U64(cfg_read(1, 0x10, 4), 0xFFFFFFE1);
	CHECK_EQ_U64(cfg_read(1, 0x14, 4), 0xFFFFF000);
	CHECK_EQ_U64(cfg_read(1, 0x18, 4), 0xFFF0000C);
	CHECK_EQ_U64(cfg_read(1, 0x1C, 4), 0xFFFFFFFF);
	CHECK_EQ_U64(cfg_read(1, 0x20, 4), 0);
	CHECK_EQ_U64(cfg_read(1, 0x30, 4), 0);
	CHECK_EQ_U64(t.remaps, 2);                          /* decode still off */

	/* Move everything, then turn decode back on. */
	cfg_write(1, 0x10, 4, 0x2000);
	cfg_write(1, 0x14, 4, 0xD0000000);
	cfg_write(1, 0x18, 4, 0xE0000000);
	cfg_write(1, 0x1C, 4, 0);
	cfg_write(1, 0x04, 2, 0x0003);
	CHECK(pio_claimed(0x2000));
	CHECK(!pio_claimed((uint16_t)io));
	CHECK(mmio_claimed(0xD0000000));
	CHECK(!mmio_claimed(mm));
	CHECK_EQ_U64(t.remaps, 3);
	CHECK_EQ_U64(t.remap_old, 0);
	CHECK_EQ_U64(t.remap_new, 0xE0000000);
	/* A byte-wise move of the I/O BAR. */
	cfg_write(1, 0x11, 1, 0x30);
	CHECK(pio_claimed(0x3000));
	CHECK(!pio_claimed(0x2000));
	/* I/O decode off alone unmaps only the I/O BAR. */
	cfg_write(1, 0x04, 2, 0x0002);
	CHECK(!pio_claimed(0x3000));
	CHECK(mmio_claimed(0xD0000000));
	cfg_write(1, 0x04, 2, 0x0003);

	/* 64-bit BAR above 4 GiB through its high dword. */
	cfg_write(1, 0x1C, 4, 0x00000010);
	CHECK_EQ_U64(t.remap_new, 0x10E0000000ULL);
	CHECK_EQ_U64(cfg_read(1, 0x1C, 4), 0x10);

	/* Read-only fields stay. */
	cfg_write(1, 0x00, 4, 0xFFFFFFFF);
	cfg_write(1, 0x08, 4, 0xFFFFFFFF);
	cfg_write(1, 0x0C, 4, 0xFFFFFFFF);
	cfg_write(1, 0x2C, 4, 0);
	cfg_write(1, 0x34, 1, 0x80);
	cfg_write(1, 0x3C, 2, 0xFF0B);
	CHECK_EQ_U64(cfg_read(1, 0x00, 4), 0x56781234);
	CHECK_EQ_U64(cfg_read(1, 0x08, 4), 0x03000007);
	CHECK_EQ_U64(cfg_read(1, 0x0C, 4), 0x0000FFFF);   /* header type RO */
	CHECK_EQ_U64(cfg_read(1, 0x2C, 4), 0xEF01ABCD);
	CHECK_EQ_U64(cfg_read(1, 0x34, 1), 0x40);
	CHECK_EQ_U64(cfg_read(1, 0x3C, 2), 0x010B);        /* line RW, pin RO */
	cfg_write(1, 0x04, 4, 0xFFFFFFFF);                 /* status RO */
	CHECK_EQ_U64(cfg_read(1, 0x04, 4), 0x00100547);

	/* INTx: level, Interrupt Disable, status bit 3, shared GSI. */
	unsigned gsi = acpi_pci_gsi(1, 0);

	cfg_write(1, 0x04, 2, 0x0003);
	pci_set_irq(&t.pci, 1);
	CHECK_EQ_U64(irq_level[gsi], 1);
	CHECK(cfg_read(1, 0x06, 2) & 0x08);
	cfg_write(1, 0x04, 2, 0x0403);
	CHECK_EQ_U64(irq_level[gsi], 0);
	CHECK(cfg_read(1, 0x06, 2) & 0x08);
	cfg_write(1, 0x05, 1, 0x00);
	CHECK_EQ_U64(irq_level[gsi], 1);

	tdev_init(&t2);
	t2.pci.bars[2].kind = PCI_BAR_UNUSED;
	for (int s = 2; s < 9; s++) {
		/* fill slots 2..8 so t2 lands in slot 9: the same GSI */
		static struct pci_device fill[7];

		fill[s - 2].vendor_id = 0x1111;
		CHECK_EQ_U64(pci_register_device(the_bus, &fill[s - 2]), s);
	}
	CHECK_EQ_U64(pci_register_device(the_bus, &t2.pci), 9);
	CHECK_EQ_U64(acpi_pci_gsi(9, 0), gsi);
	pci_set_irq(&t2.pci, 1);
	pci_set_irq(&t.pci, 0);
	CHECK_EQ_U64(irq_level[gsi], 1);                    /* t2 still asserts */
	CHECK(!(cfg_read(1, 0x06, 2) & 0x08));
	pci_set_irq(&t2.pci, 0);
	CHECK_EQ_U64(irq_level[gsi], 0);

	/* Two BARs swapping places both end up mapped. */
	uint32_t a1 = cfg_read(1, 0x14, 4), a2 = cfg_read(9, 0x14, 4);

	cfg_write(1, 0x04, 2, 0);
	cfg_write(1, 0x14, 4, a2);
	cfg_write(1, 0x04, 2, 3);          /* conflicts with t2: stays off */
	CHECK(mmio_claimed(a2));
	t.mmio_hits = t2.mmio_hits = 0;
	mmio_claimed(a2);
	CHECK_EQ_U64(t2.mmio_hits, 1);
	cfg_write(9, 0x14, 4, a1);         /* t2 moves away: t retried */
	mmio_claimed(a2);
	CHECK_EQ_U64(t.mmio_hits, 1);
	mmio_claimed(a1);
	CHECK_EQ_U64(t2.mmio_hits, 2);

	/* Hostile BAR values: never decoded, never a crash. */
	cfg_write(1, 0x10, 4, 0xFFFFFFE0);   /* I/O beyond 64 KiB */
	CHECK(!pio_claimed(0xFFE0));
	cfg_write(1, 0x10, 4, 0x0000FFE0);   /* the last 32 ports: fine */
	CHECK(pio_claimed(0xFFFF));
	cfg_write(1, 0x10, 4, 0x0000FFFC);   /* aligned down, not wrapped */
	CHECK_EQ_U64(cfg_read(1, 0x10, 4), 0xFFE1);
	cfg_write(1, 0x14, 4, 0xFEE00000);   /* on the LAPIC */
	CHECK(!mmio_claimed(0xFEE00000));
	cfg_write(1, 0x18, 4, 0xFFF00000);
	cfg_write(1, 0x1C, 4, 0xFFFFFFFF);   /* 64-bit top: wraps */
	CHECK_EQ_U64(t.remap_new, 0);
	vm.mem.nr_ram = 1;                   /* 256 MiB of RAM at 0 */
	vm.mem.ram[0].gpa = 0;
	vm.mem.ram[0].size = 256 << 20;
	cfg_write(1, 0x14, 4, 0x00100000);   /* over RAM */
	CHECK(!mmio_claimed(0x00100000));
	cfg_write(1, 0x14, 4, 0x20000000);   /* above it: fine */
	CHECK(mmio_claimed(0x20000000));
	vm.mem.nr_ram = 0;
}

static void test_hostile_ports(void)
{
	uint8_t d[4] = { 0 };

	/* A dword at 0xCFE straddles the end of the range: nobody claims
	 * it; odd widths and offsets inside the address dword do nothing. */
	CHECK(!bus_dispatch(&vm.pio, 0xCFE, d, 4, false));
	out(0xCF8, 4, cfg_addr(0, 0, 0, 0));
	CHECK_EQ_U64(in(0xCFE, 2), 0x1237);
	out(0xCF8, 1, 0x00);
	out(0xCFA, 2, 0x0000);
	CHECK_EQ_U64(in(0xCF8, 4), cfg_addr(0, 0, 0, 0));
	CHECK_EQ_U64(in(0xCFA, 2), 0xFFFF);
	/* Config offsets beyond 0xFF do not exist in mechanism #1: the
	 * extended bits are reserved and masked. */
	out(0xCF8, 4, 0x8F000000);
	CHECK_EQ_U64(in(0xCF8, 4), 0x80000000);
	/* Random writes everywhere: the vendor ID survives. */
	srand(1);
	for (int i = 0; i < 20000; i++) {
		unsigned slot = (unsigned)rand() % 12, off = (unsigned)rand() % 256;
		uint32_t len = 1u << (rand() % 3);
		uint32_t val = (uint32_t)rand() * 2654435761u;

		out(0xCF8, 4, cfg_addr(0, slot, 0, off));
		off &= 3;
		if (off + len > 4)
			off = 0;
		if (rand() & 1)
			out((uint16_t)(0xCFC + off), len, val);
		else
			in((uint16_t)(0xCFC + off), len);
	}
	CHECK_EQ_U64(cfg_read(0, 0, 4), 0x12378086);
	CHECK_EQ_U64(cfg_read(1, 0, 4), 0x56781234);
}

static void test_reset_control(void)
{
	atomic_store(&vm.stop_reason, VM_RUNNING);
	out(0xCF9, 1, 0x02);
	CHECK_EQ_U64(atomic_load(&vm.stop_reason), VM_RUNNING);
	CHECK_EQ_U64(in(0xCF9, 1), 0x02);
	out(0xCF9, 1, 0x06);
	CHECK_EQ_U64(atomic_load(&vm.stop_reason), VM_STOP_REBOOT);
	CHECK_EQ_U64(in(0xCF9, 1), 0x06);
	atomic_store(&vm.stop_reason, VM_RUNNING);
}

int main(void)
{
	vm.kvm_fd = vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	vm.irq_observer = observer;
	the_bus = pci_create(&vm);
	CHECK(the_bus != NULL);
	test_host_bridge();
	test_device();
	test_hostile_ports();
	test_reset_control();
	pci_destroy(the_bus);
	CHECK(!mmio_claimed(0x20000000));
	CHECK_EQ_U64(in(0xCFC, 4), 0xDEADBEEF);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	return check_summary("test_pci");
}
