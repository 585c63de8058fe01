// SPDX-License-Identifier: MIT
/*
 * Firmware tables for a hardware-reduced ACPI platform (like Firecracker's):
 * RSDP -> XSDT (and RSDT) -> FADT (-> DSDT), MADT. No FACS, no PM timer, no
 * GPEs: sleep and reset go through the FADT 5.0+ sleep control/status and
 * reset registers, which our own port-I/O device implements (platform.h).
 *
 * Linux, seeing HW_REDUCED_ACPI, skips the legacy PIC and the PIT-based
 * timer setup (acpi_generic_reduced_hw_init) and enumerates the legacy
 * devices (PS/2, COM1, RTC) from the DSDT through PNP instead of probing.
 * The MADT still sets PCAT_COMPAT because KVM's in-kernel irqchip does
 * include the 8259 pair: other guests may want to mask it.
 *
 * Tables are built in a host buffer the size of the reserved area, then
 * copied in with one mem_write(), so a table set that would not fit fails
 * cleanly instead of spilling over guest RAM.
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../platform.h"
#include "acpi.h"
#include "aml.h"
#include "boot.h"

#define ACPI_OEM_ID       "VMMVMM"
#define ACPI_OEM_TABLE_ID "VMMTABLE"
#define ACPI_CREATOR_ID   "VMM "
#define ACPI_AREA_SIZE    (ACPI_TABLES_END - ACPI_TABLES_START)

/* PCI slots described in _PRT: device 0 is the host bridge itself. */
#define PCI_PRT_FIRST_SLOT 1
#define PCI_PRT_LAST_SLOT  31

unsigned acpi_pci_gsi(unsigned slot, unsigned pin)
{
	return IRQ_PCI_FIRST + (slot + pin) % IRQ_PCI_COUNT;
}

struct acpi_area {
	uint8_t *buf;
	size_t used;
	bool error;
};

/* Room for n bytes at the given alignment, zeroed; NULL (sticky) if full. */
static void *area_alloc(struct acpi_area *ar, size_t n, size_t align)
{
	size_t off = (ar->used + align - 1) & ~(align - 1);

	if (ar->error || off > ACPI_AREA_SIZE || n > ACPI_AREA_SIZE - off) {
		ar->error = true;
		return NULL;
	}
	ar->used = off + n;
	return ar->buf + off;
}

static uint64_t area_gpa(const struct acpi_area *ar, const void *p)
{
	return ACPI_TABLES_START + (uint64_t)((const uint8_t *)p - ar->buf);
}

static void header_init(struct acpi_header *h, const char *sig,
			uint32_t length, uint8_t revision)
{
	memcpy(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

static void header_checksum(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = (uint8_t)-acpi_sum(h, h->length);
}

static struct acpi_gas gas_io8(uint16_t port)
{
	struct acpi_gas g = {
		.space_id = ACPI_GAS_IO,
		.bit_width = 8,
		.bit_offset = 0,
		.access_size = ACPI_GAS_ACCESS_BYTE,
		.address = port,
	};
	return g;
}

/* --- DSDT ---------------------------------------------------------------- */

static void dsdt_pci_root(struct aml *a)
{
	size_t dev, pkg, crs, prt;

	dev = aml_device_open(a, "PCI0");
	aml_name(a, "_HID");
	aml_integer(a, aml_eisaid("PNP0A03"));
	/* No _ADR: a device has a _HID or an _ADR, never both (ACPI 6.1.5). */
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);

	aml_name(a, "_CRS");
	crs = aml_buffer_open(a);
	aml_res_word_bus(a, 0x00, 0xFF);
	aml_res_io(a, PORT_PCI_CONFIG, PORT_PCI_CONFIG, 1, 8);
	aml_res_word_io(a, 0x0000, PORT_PCI_CONFIG - 1);
	aml_res_word_io(a, 0x0D00, 0xFFFF);
	aml_res_dword_mem(a, MEM_VGA_WINDOW_START, MEM_VGA_WINDOW_END - 1, true);
	aml_res_dword_mem(a, PCI_MMIO_WINDOW_START, PCI_MMIO_WINDOW_END, false);
	aml_res_end(a);
	aml_buffer_close(a, crs);

	/* _PRT: INTx of every slot straight to an IOAPIC GSI (Source 0). */
	aml_name(a, "_PRT");
	prt = aml_package_open(a, (PCI_PRT_LAST_SLOT - PCI_PRT_FIRST_SLOT + 1) * 4);
	for (unsigned slot = PCI_PRT_FIRST_SLOT; slot <= PCI_PRT_LAST_SLOT; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			pkg = aml_package_open(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xFFFF);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, acpi_pci_gsi(slot, pin));
			aml_close(a, pkg);
		}
	}
	aml_close(a, prt);
	aml_close(a, dev);
}

/* A legacy ISA device: _HID, optional _UID, and a _CRS of I/O + IRQ. */
static void dsdt_isa_device(struct aml *a, const char *name, const char *hid,
			    int uid, const uint16_t *io, unsigned nr_io,
			    uint8_t io_len, int irq)
{
	size_t dev, crs;

	dev = aml_device_open(a, name);
	aml_name(a, "_HID");
	aml_integer(a, aml_eisaid(hid));
	if (uid >= 0) {
		aml_name(a, "_UID");
		aml_integer(a, (uint64_t)uid);
	}
	aml_name(a, "_CRS");
	crs = aml_buffer_open(a);
	for (unsigned i = 0; i < nr_io; i++)
		aml_res_io(a, io[i], io[i], 1, io_len);
	if (irq >= 0)
		aml_res_irq_noflags(a, (uint16_t)(1u << irq));
	aml_res_end(a);
	aml_buffer_close(a, crs);
	aml_close(a, dev);
}

static void dsdt_body(struct aml *a, const struct acpi_config *cfg)
{
	size_t pkg, scope;

	/* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved. */
	aml_name(a, "\\_S5");
	pkg = aml_package_open(a, 4);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_close(a, pkg);

	scope = aml_scope_open(a, "\\_SB");
	dsdt_pci_root(a);
	if (cfg->i8042) {
		static const uint16_t kbd_io[] = { PORT_I8042_DATA, PORT_I8042_CMD };

		dsdt_isa_device(a, "PS2K", "PNP0303", -1, kbd_io, 2, 1,
				IRQ_KEYBOARD);
		dsdt_isa_device(a, "PS2M", "PNP0F13", -1, NULL, 0, 0,
				IRQ_MOUSE);
	}
	{
		static const uint16_t com1_io[] = { PORT_COM1 };
		static const uint16_t rtc_io[] = { PORT_CMOS };

		dsdt_isa_device(a, "COM1", "PNP0501", 1, com1_io, 1, 8,
				IRQ_COM1);
		dsdt_isa_device(a, "RTC", "PNP0B00", -1, rtc_io, 1, 2,
				IRQ_RTC);
	}
	aml_close(a, scope);
}

static struct acpi_header *build_dsdt(struct acpi_area *ar,
				      const struct acpi_config *cfg)
{
	struct acpi_header *h;
	struct aml a;
	size_t room;

	h = area_alloc(ar, sizeof(*h), 16);
	if (!h)
		return NULL;
	/* The AML goes right behind the header, into what is left. */
	room = ACPI_AREA_SIZE - ar->used;
	aml_init(&a, ar->buf + ar->used, room);
	dsdt_body(&a, cfg);
	if (a.error || !area_alloc(ar, a.len, 1)) {
		ar->error = true;
		return NULL;
	}
	/* Revision 2: integers are 64 bits wide. */
	header_init(h, "DSDT", (uint32_t)(sizeof(*h) + a.len), 2);
	header_checksum(h);
	return h;
}

/* --- FADT, MADT, XSDT, RSDT, RSDP ------------------------------------- */

static struct acpi_fadt *build_fadt(struct acpi_area *ar,
				    const struct acpi_config *cfg,
				    uint64_t dsdt)
{
	struct acpi_fadt *f = area_alloc(ar, sizeof(*f), 16);

	if (!f)
		return NULL;
	header_init(&f->header, "FACP", sizeof(*f), 6);
	f->minor_version = 0;
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = IRQ_ACPI_SCI;
	f->flags = FADT_F_HW_REDUCED_ACPI | FADT_F_RESET_REG_SUP |
		   FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON;
	f->iapc_boot_arch = cfg->i8042 ?
		FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042 : 0;
	f->reset_reg = gas_io8(PORT_ACPI_RESET);
	f->reset_value = ACPI_RESET_VALUE;
	f->sleep_control_reg = gas_io8(PORT_ACPI_SLEEP_CTL);
	f->sleep_status_reg = gas_io8(PORT_ACPI_SLEEP_STS);
	memcpy(&f->hypervisor_vendor_id, "VMMVMM\0\0", 8);
	header_checksum(&f->header);
	return f;
}

static void *madt_entry(struct acpi_area *ar, uint8_t type, uint8_t len)
{
	uint8_t *e = area_alloc(ar, len, 1);

	if (e) {
		e[0] = type;
		e[1] = len;
	}
	return e;
}

static void madt_override(struct acpi_area *ar, uint8_t irq, uint32_t gsi,
			  uint16_t flags)
{
	struct madt_int_override *o =
		madt_entry(ar, MADT_INT_SRC_OVERRIDE, sizeof(*o));

	if (o) {
		o->bus = 0;
		o->source = irq;
		o->gsi = gsi;
		o->flags = flags;
	}
}

static struct acpi_madt *build_madt(struct acpi_area *ar,
				    const struct acpi_config *cfg)
{
	struct acpi_madt *m = area_alloc(ar, sizeof(*m), 16);
	struct madt_io_apic *io;
	struct madt_lapic_nmi *nmi;
	size_t start;

	if (!m)
		return NULL;
	start = (size_t)((uint8_t *)m - ar->buf);
	m->lapic_address = (uint32_t)LAPIC_ADDR;
	m->flags = MADT_PCAT_COMPAT;
	for (unsigned i = 0; i < cfg->nr_cpus; i++) {
		struct madt_local_apic *l =
			madt_entry(ar, MADT_LOCAL_APIC, sizeof(*l));

		if (!l)
			return NULL;
		l->processor_uid = (uint8_t)i;
		l->apic_id = (uint8_t)i;
		l->flags = 1;
	}
	io = madt_entry(ar, MADT_IO_APIC, sizeof(*io));
	if (io) {
		io->id = (uint8_t)cfg->nr_cpus;
		io->address = (uint32_t)IOAPIC_ADDR;
		io->gsi_base = 0;
	}
	/* The PIT's IRQ0 is wired to IOAPIC pin 2, as on every PC. */
	madt_override(ar, 0, 2, 0);
	madt_override(ar, IRQ_ACPI_SCI, IRQ_ACPI_SCI,
		      MPS_POLARITY_HIGH | MPS_TRIGGER_LEVEL);
	/* NMI arrives on LINT1 of every local APIC. */
	nmi = madt_entry(ar, MADT_LOCAL_APIC_NMI, sizeof(*nmi));
	if (nmi) {
		nmi->processor_uid = 0xFF;
		nmi->flags = 0;
		nmi->lint = 1;
	}
	if (ar->error)
		return NULL;
	/* m may only be used now: every entry was appended behind it. */
	header_init(&m->header, "APIC", (uint32_t)(ar->used - start), 5);
	header_checksum(&m->header);
	return m;
}

uint64_t acpi_build(struct guest_mem *mem, const struct acpi_config *cfg)
{
	struct acpi_area ar = { 0 };
	struct acpi_rsdp *rsdp;
	struct acpi_header *xsdt, *rsdt, *dsdt;
	struct acpi_fadt *fadt;
	struct acpi_madt *madt;
	uint64_t tables[2];
	bool ok;

	if (cfg->nr_cpus == 0 || cfg->nr_cpus > VM_MAX_CPUS) {
		log_err("acpi: bad number of CPUs %u", cfg->nr_cpus);
		return 0;
	}
	ar.buf = calloc(1, ACPI_AREA_SIZE);
	if (!ar.buf) {
		log_err("acpi: out of memory");
		return 0;
	}
	/* RSDP first, at ACPI_TABLES_START: 16-byte aligned inside
	 * 0xE0000-0xFFFFF, where a legacy scan also finds it. */
	rsdp = area_alloc(&ar, sizeof(*rsdp), 16);
	dsdt = build_dsdt(&ar, cfg);
	fadt = dsdt ? build_fadt(&ar, cfg, area_gpa(&ar, dsdt)) : NULL;
	madt = fadt ? build_madt(&ar, cfg) : NULL;
	if (!madt)
		goto fail;
	tables[0] = area_gpa(&ar, fadt);
	tables[1] = area_gpa(&ar, madt);

	xsdt = area_alloc(&ar, sizeof(*xsdt) + sizeof(tables), 16);
	rsdt = area_alloc(&ar, sizeof(*rsdt) + 2 * sizeof(uint32_t), 16);
	if (!xsdt || !rsdt)
		goto fail;
	header_init(xsdt, "XSDT", sizeof(*xsdt) + sizeof(tables), 1);
	memcpy(xsdt + 1, tables, sizeof(tables));
	header_checksum(xsdt);
	header_init(rsdt, "RSDT", sizeof(*rsdt) + 2 * sizeof(uint32_t), 1);
	for (unsigned i = 0; i < 2; i++) {
		uint32_t t32 = (uint32_t)tables[i];

		memcpy((uint8_t *)(rsdt + 1) + 4 * i, &t32, 4);
	}
	header_checksum(rsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->rsdt_address = (uint32_t)area_gpa(&ar, rsdt);
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = area_gpa(&ar, xsdt);
	rsdp->checksum = (uint8_t)-acpi_sum(rsdp, 20);
	rsdp->extended_checksum = (uint8_t)-acpi_sum(rsdp, sizeof(*rsdp));

	ok = mem_write(mem, ACPI_TABLES_START, ar.buf, ar.used);
	free(ar.buf);
	if (!ok) {
		log_err("acpi: table area %#llx is not guest RAM",
			(unsigned long long)ACPI_TABLES_START);
		return 0;
	}
	return ACPI_TABLES_START;
fail:
	free(ar.buf);
	log_err("acpi: tables do not fit in %#llx-%#llx",
		(unsigned long long)ACPI_TABLES_START,
		(unsigned long long)ACPI_TABLES_END);
	return 0;
}
