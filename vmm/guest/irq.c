// SPDX-License-Identifier: MIT
/*
 * Interrupt routing for the built-in guest, all from ring 3 through
 * user-mapped MMIO and IOPL 3 port I/O: the 8259s are masked, the local APIC
 * is software-enabled, and ISA IRQs (COM1's 4, the i8042's 1 and 12) are
 * routed by the I/O APIC to vector 32 + IRQ on this CPU. The CPL 0 handler only counts and EOIs.
 */
#include "guest.h"

#define PIC1_CMD   0x20
#define PIC1_DATA  0x21
#define PIC2_CMD   0xA0
#define PIC2_DATA  0xA1

#define LAPIC_ID   0x020
#define LAPIC_TPR  0x080
#define LAPIC_EOI  0x0B0
#define LAPIC_SVR  0x0F0
#define LAPIC_SVR_ENABLE 0x100

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))

#define REDIR_POLARITY_LOW  (1u << 13)
#define REDIR_TRIGGER_LEVEL (1u << 15)
#define REDIR_MASKED        (1u << 16)

/* MADT override flags (MPS INTI flags). */
#define MPS_POLARITY_MASK  0x3
#define MPS_POLARITY_LOW   0x3
#define MPS_TRIGGER_MASK   0xC
#define MPS_TRIGGER_LEVEL  0xC

#define COM1_ISA_IRQ 4

/*
 * Re-initialise the 8259 pair the way Linux does (ICW1-4, vectors away from
 * the exceptions), then mask every line: the I/O APIC delivers instead.
 */
static void pic_disable(void)
{
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
	outb(PIC1_CMD, 0x11);		/* ICW1: edge, cascade, ICW4 */
	outb(PIC1_DATA, 0x30);		/* ICW2: vectors 0x30-0x37 */
	outb(PIC1_DATA, 0x04);		/* ICW3: slave on IR2 */
	outb(PIC1_DATA, 0x01);		/* ICW4: 8086 mode */
	outb(PIC2_CMD, 0x11);
	outb(PIC2_DATA, 0x38);
	outb(PIC2_DATA, 0x02);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
}

static uint32_t ioapic_read(uint64_t base, uint32_t reg)
{
	mmio_write32(base + IOAPIC_REGSEL, reg);
	return mmio_read32(base + IOAPIC_WIN);
}

static void ioapic_write(uint64_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base + IOAPIC_REGSEL, reg);
	mmio_write32(base + IOAPIC_WIN, v);
}

static bool mmio_addr_ok(uint64_t a)
{
	return a && !(a & 0xFFF) && a < 0x100000000ULL;
}

/* The I/O APIC serving gsi, and the pin on it; false if none does. */
static bool ioapic_for(uint32_t gsi, uint64_t *base, uint32_t *pin)
{
	struct acpi_ioapic dflt = { 0xFEC00000, 0 };
	unsigned n = acpi.nr_ioapics;
	const struct acpi_ioapic *list = n ? acpi.ioapic : &dflt;

	for (unsigned i = 0; i < (n ? n : 1); i++) {
		uint32_t max;

		if (!mmio_addr_ok(list[i].addr) || gsi < list[i].gsi_base)
			continue;
		max = (ioapic_read(list[i].addr, IOAPIC_REG_VER) >> 16) & 0xFF;
		if (gsi - list[i].gsi_base > max)
			continue;
		*base = list[i].addr;
		*pin = gsi - list[i].gsi_base;
		return true;
	}
	return false;
}

/* 8259s masked, local APIC enabled and its EOI address handed to ring 0:
 * once, whichever device asks first. */
static bool lapic_setup(void)
{
	static bool done;
	uint64_t lapic = acpi.lapic_addr;

	if (done)
		return true;
	if (!mmio_addr_ok(lapic)) {
		out_printf(OUT_BOTH, "RESULT error bad-lapic-address\n");
		return false;
	}
	pic_disable();
	lapic_eoi_reg = lapic + LAPIC_EOI;
	mmio_write32(lapic + LAPIC_TPR, 0);
	mmio_write32(lapic + LAPIC_SVR, LAPIC_SVR_ENABLE | SPURIOUS_VECTOR);
	done = true;
	return true;
}

bool irq_enable_isa(unsigned irq)
{
	uint32_t gsi = irq, lo, hi, pin;
	uint16_t flags = 0;
	uint64_t ioapic;

	if (irq >= 16 || !lapic_setup())
		return false;
	if (acpi.isa_override[irq]) {
		gsi = acpi.isa_gsi[irq];
		flags = acpi.isa_flags[irq];
	}
	if (!ioapic_for(gsi, &ioapic, &pin)) {
		out_printf(OUT_BOTH, "RESULT error no-ioapic-for-gsi gsi=%u\n",
			   gsi);
		return false;
	}

	/* ISA defaults: active high, edge; the override may say otherwise. */
	lo = IRQ_VECTOR_BASE + irq;
	if ((flags & MPS_POLARITY_MASK) == MPS_POLARITY_LOW)
		lo |= REDIR_POLARITY_LOW;
	if ((flags & MPS_TRIGGER_MASK) == MPS_TRIGGER_LEVEL)
		lo |= REDIR_TRIGGER_LEVEL;
	hi = (mmio_read32(acpi.lapic_addr + LAPIC_ID) >> 24) << 24;
	/* Like Linux: mask, set the destination, then the unmasked low half. */
	ioapic_write(ioapic, IOAPIC_REDIR(pin), REDIR_MASKED);
	ioapic_write(ioapic, IOAPIC_REDIR(pin) + 1, hi);
	ioapic_write(ioapic, IOAPIC_REDIR(pin), lo);
	return true;
}

bool irq_enable_gsi(unsigned gsi)
{
	uint32_t lo, hi, pin;
	uint64_t ioapic;

	if (gsi >= IRQ_VECTORS - 1 || !lapic_setup())
		return false;
	if (!ioapic_for(gsi, &ioapic, &pin)) {
		out_printf(OUT_BOTH, "RESULT error no-ioapic-for-gsi gsi=%u\n",
			   gsi);
		return false;
	}
	/* Edge, active high: the handler's EOI cannot re-trigger on a line
	 * still asserted until ring 3 acknowledges the device. */
	lo = IRQ_VECTOR_BASE + gsi;
	hi = (mmio_read32(acpi.lapic_addr + LAPIC_ID) >> 24) << 24;
	ioapic_write(ioapic, IOAPIC_REDIR(pin), REDIR_MASKED);
	ioapic_write(ioapic, IOAPIC_REDIR(pin) + 1, hi);
	ioapic_write(ioapic, IOAPIC_REDIR(pin), lo);
	return true;
}

bool irq_setup_serial(void)
{
	if (!irq_enable_isa(COM1_ISA_IRQ))
		return false;
	serial_enable_rx_irq();
	return true;
}
