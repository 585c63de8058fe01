// SPDX-License-Identifier: MIT
/*
 * ACPI tables and the AML writer: the tables are built into a guest memory
 * and read back the way an OS finds them (RSDP -> XSDT -> tables).
 *
 * Debug aid: with VMM_ACPI_DUMP_DIR=DIR set, every table is also written to
 * DIR/<signature>.dat, to be checked with `iasl -d DIR/DSDT.dat` etc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vmm/boot/acpi.h"
#include "vmm/boot/aml.h"
#include "vmm/boot/boot.h"
#include "vmm/platform.h"
#include "vmm/vm.h"

#define MiB (1ULL << 20)

static struct guest_mem mem;

/* A table inside the ACPI area, checked for length and checksum. */
static const struct acpi_header *table_at(uint64_t gpa)
{
	const struct acpi_header *h = mem_ptr(&mem, gpa, sizeof(*h));

	CHECK(gpa >= ACPI_TABLES_START && gpa < ACPI_TABLES_END);
	if (!h)
		return NULL;
	CHECK(h->length >= sizeof(*h));
	CHECK(gpa + h->length <= ACPI_TABLES_END);
	if (h->length < sizeof(*h) || gpa + h->length > ACPI_TABLES_END ||
	    !mem_ptr(&mem, gpa, h->length))
		return NULL;
	CHECK_EQ_U64(acpi_sum(h, h->length), 0);
	CHECK(!memcmp(h->oem_id, "VMMVMM", 6));
	return h;
}

static void dump(const void *p, size_t len, const char *sig)
{
	const char *dir = getenv("VMM_ACPI_DUMP_DIR");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%.4s.dat", dir, sig);
	f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, len, f);
		fclose(f);
	}
}

static bool contains(const void *hay, size_t n, const void *needle, size_t m)
{
	return memmem(hay, n, needle, m) != NULL;
}

/* --- a tiny AML reader, enough for _PRT and PkgLength checks ------------ */

static size_t pkglen(const uint8_t *p, size_t *len)
{
	unsigned extra = p[0] >> 6;
	size_t v;

	if (!extra) {
		*len = p[0] & 0x3F;
		return 1;
	}
	v = p[0] & 0x0F;
	for (unsigned i = 0; i < extra; i++)
		v |= (size_t)p[1 + i] << (4 + 8 * i);
	*len = v;
	return 1 + extra;
}

static size_t integer(const uint8_t *p, uint64_t *v)
{
	switch (p[0]) {
	case 0x00: *v = 0; return 1;
	case 0x01: *v = 1; return 1;
	case 0xFF: *v = ~0ULL; return 1;
	case 0x0A: *v = p[1]; return 2;
	case 0x0B: *v = (uint64_t)p[1] | (uint64_t)p[2] << 8; return 3;
	case 0x0C:
		*v = (uint64_t)p[1] | (uint64_t)p[2] << 8 |
		     (uint64_t)p[3] << 16 | (uint64_t)p[4] << 24;
		return 5;
	default:
		*v = 0xBAD;
		return 1;
	}
}

static void check_prt(const uint8_t *aml, size_t n)
{
	const uint8_t *p = memmem(aml, n, "_PRT\x12", 5);
	size_t len, hl, pos;
	unsigned count = 0;

	CHECK(p != NULL);
	if (!p)
		return;
	p += 5;
	hl = pkglen(p, &len);
	CHECK(p + len <= aml + n);
	CHECK_EQ_U64(p[hl], 31 * 4);
	pos = hl + 1;
	for (unsigned slot = 1; slot <= 31; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			uint64_t v[4];
			size_t el, l2, q;

			if (pos >= len || p[pos] != 0x12) {
				CHECK(!"_PRT entry is not a package");
				return;
			}
			q = pos + 1;
			l2 = pkglen(p + q, &el);
			q += l2;
			CHECK_EQ_U64(p[q], 4);
			q++;
			for (int k = 0; k < 4; k++)
				q += integer(p + q, &v[k]);
			CHECK_EQ_U64(q, pos + 1 + el);
			CHECK_EQ_U64(v[0], (uint64_t)slot << 16 | 0xFFFF);
			CHECK_EQ_U64(v[1], pin);
			CHECK_EQ_U64(v[2], 0);
			CHECK_EQ_U64(v[3], acpi_pci_gsi(slot, pin));
			pos = pos + 1 + el;
			count++;
		}
	}
	CHECK_EQ_U64(pos, len);       /* exactly 124 entries, nothing else */
	CHECK_EQ_U64(count, 124);
}

/* The body after the header: Name(\_S5, ...) then Scope(\_SB) to the end. */
static void check_dsdt_structure(const uint8_t *aml, size_t n)
{
	static const uint8_t s5[] = {
		0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
		0x0A, ACPI_S5_SLP_TYP, 0x0A, ACPI_S5_SLP_TYP, 0x00, 0x00,
	};
	size_t len, hl;

	CHECK(n > sizeof(s5) && !memcmp(aml, s5, sizeof(s5)));
	if (n <= sizeof(s5) + 2)
		return;
	CHECK_EQ_U64(aml[sizeof(s5)], 0x10);         /* ScopeOp */
	hl = pkglen(aml + sizeof(s5) + 1, &len);
	CHECK(hl > 1);                                /* multi-byte PkgLength */
	CHECK_EQ_U64(sizeof(s5) + 1 + len, n);        /* scope ends the table */
	CHECK(!memcmp(aml + sizeof(s5) + 1 + hl, "\\_SB_", 5));
}

static const uint8_t eisa_pnp0a03[] = { 0x0C, 0x41, 0xD0, 0x0A, 0x03 };
static const uint8_t eisa_pnp0303[] = { 0x0C, 0x41, 0xD0, 0x03, 0x03 };
static const uint8_t eisa_pnp0f13[] = { 0x0C, 0x41, 0xD0, 0x0F, 0x13 };
static const uint8_t eisa_pnp0501[] = { 0x0C, 0x41, 0xD0, 0x05, 0x01 };
static const uint8_t eisa_pnp0b00[] = { 0x0C, 0x41, 0xD0, 0x0B, 0x00 };

static void check_dsdt(const struct acpi_header *h, bool i8042)
{
	const uint8_t *aml = (const uint8_t *)(h + 1);
	size_t n = h->length - sizeof(*h);
	/* IO(Decode16, 0x3F8, 0x3F8, 1, 8) and IRQNoFlags(){4} */
	static const uint8_t com1_crs[] = { 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03,
					    0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00 };
	static const uint8_t rtc_crs[] = { 0x47, 0x01, 0x70, 0x00, 0x70, 0x00,
					   0x01, 0x02, 0x22, 0x00, 0x01, 0x79, 0x00 };
	static const uint8_t cf8_io[] = { 0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08 };
	/* DWordMemory: min 0xC0000000, max 0xFEBFFFFF */
	static const uint8_t pci_win[] = { 0x00, 0x00, 0x00, 0xC0, 0xFF, 0xFF, 0xBF, 0xFE };

	CHECK(!memcmp(h->signature, "DSDT", 4));
	CHECK_EQ_U64(h->revision, 2);
	CHECK(contains(aml, n, "_S5_", 4));
	CHECK(contains(aml, n, eisa_pnp0a03, sizeof(eisa_pnp0a03)));
	CHECK(contains(aml, n, "PCI0", 4));
	CHECK(contains(aml, n, eisa_pnp0501, sizeof(eisa_pnp0501)));
	CHECK(contains(aml, n, eisa_pnp0b00, sizeof(eisa_pnp0b00)));
	CHECK(contains(aml, n, com1_crs, sizeof(com1_crs)));
	CHECK(contains(aml, n, rtc_crs, sizeof(rtc_crs)));
	CHECK(contains(aml, n, cf8_io, sizeof(cf8_io)));
	CHECK(contains(aml, n, pci_win, sizeof(pci_win)));
	CHECK_EQ_U64(contains(aml, n, eisa_pnp0303, sizeof(eisa_pnp0303)), i8042);
	CHECK_EQ_U64(contains(aml, n, eisa_pnp0f13, sizeof(eisa_pnp0f13)), i8042);
	check_dsdt_structure(aml, n);
	check_prt(aml, n);
}

static void check_gas(const struct acpi_gas *g, uint16_t port)
{
	CHECK_EQ_U64(g->space_id, ACPI_GAS_IO);
	CHECK_EQ_U64(g->bit_width, 8);
	CHECK_EQ_U64(g->bit_offset, 0);
	CHECK_EQ_U64(g->access_size, ACPI_GAS_ACCESS_BYTE);
	CHECK_EQ_U64(g->address, port);
}

static void check_fadt(const struct acpi_fadt *f, bool i8042)
{
	const struct acpi_header *dsdt;

	CHECK_EQ_U64(f->header.length, sizeof(*f));
	CHECK_EQ_U64(f->header.revision, 6);
	CHECK(f->flags & FADT_F_HW_REDUCED_ACPI);
	CHECK(f->flags & FADT_F_RESET_REG_SUP);
	CHECK(f->flags & FADT_F_PWR_BUTTON);
	CHECK(f->flags & FADT_F_SLP_BUTTON);
	CHECK_EQ_U64(f->iapc_boot_arch,
		     i8042 ? FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042 : 0);
	CHECK_EQ_U64(f->sci_int, IRQ_ACPI_SCI);
	check_gas(&f->sleep_control_reg, PORT_ACPI_SLEEP_CTL);
	check_gas(&f->sleep_status_reg, PORT_ACPI_SLEEP_STS);
	check_gas(&f->reset_reg, PORT_ACPI_RESET);
	CHECK_EQ_U64(f->reset_value, ACPI_RESET_VALUE);
	CHECK_EQ_U64(f->x_dsdt, f->dsdt);
	CHECK_EQ_U64(f->pm1a_cnt_blk, 0);     /* hardware-reduced: no PM1 */
	CHECK_EQ_U64(f->pm_tmr_blk, 0);
	dsdt = table_at(f->x_dsdt);
	CHECK(dsdt != NULL);
	if (dsdt) {
		dump(dsdt, dsdt->length, "DSDT");
		check_dsdt(dsdt, i8042);
	}
}

static void check_madt(const struct acpi_madt *m, unsigned cpus)
{
	const uint8_t *p = (const uint8_t *)(m + 1);
	const uint8_t *end = (const uint8_t *)m + m->header.length;
	unsigned lapics = 0, ioapics = 0, overrides = 0, nmis = 0;
	bool irq0 = false, irq9 = false;

	CHECK_EQ_U64(m->lapic_address, LAPIC_ADDR);
	CHECK(m->flags & MADT_PCAT_COMPAT);
	while (p < end) {
		if (end - p < 2 || p[1] < 2 || p[1] > end - p) {
			CHECK(!"MADT entry overruns the table");
			return;
		}
		switch (p[0]) {
		case MADT_LOCAL_APIC: {
			struct madt_local_apic l;

			CHECK_EQ_U64(p[1], sizeof(l));
			memcpy(&l, p, sizeof(l));
			CHECK_EQ_U64(l.apic_id, lapics);
			CHECK_EQ_U64(l.processor_uid, lapics);
			CHECK_EQ_U64(l.flags & 1, 1);
			lapics++;
			break;
		}
		case MADT_IO_APIC: {
			struct madt_io_apic io;

			CHECK_EQ_U64(p[1], sizeof(io));
			memcpy(&io, p, sizeof(io));
			CHECK_EQ_U64(io.id, cpus);
			CHECK_EQ_U64(io.address, IOAPIC_ADDR);
			CHECK_EQ_U64(io.gsi_base, 0);
			ioapics++;
			break;
		}
		case MADT_INT_SRC_OVERRIDE: {
			struct madt_int_override o;

			CHECK_EQ_U64(p[1], sizeof(o));
			memcpy(&o, p, sizeof(o));
			CHECK_EQ_U64(o.bus, 0);
			if (o.source == 0) {
				CHECK_EQ_U64(o.gsi, 2);
				irq0 = true;
			} else if (o.source == IRQ_ACPI_SCI) {
				CHECK_EQ_U64(o.gsi, IRQ_ACPI_SCI);
				CHECK_EQ_U64(o.flags, MPS_POLARITY_HIGH | MPS_TRIGGER_LEVEL);
				irq9 = true;
			} else {
				CHECK(!"unexpected interrupt source override");
			}
			overrides++;
			break;
		}
		case MADT_LOCAL_APIC_NMI:
			CHECK_EQ_U64(p[1], sizeof(struct madt_lapic_nmi));
			CHECK_EQ_U64(p[5], 1);     /* LINT1 */
			nmis++;
			break;
		default:
			CHECK(!"unexpected MADT entry type");
		}
		p += p[1];
	}
	CHECK(p == end);
	CHECK_EQ_U64(lapics, cpus);
	CHECK_EQ_U64(ioapics, 1);
	CHECK_EQ_U64(overrides, 2);
	CHECK(irq0 && irq9);
	CHECK_EQ_U64(nmis, 1);
}

static void test_tables(unsigned cpus, bool i8042)
{
	struct acpi_config cfg = { .nr_cpus = cpus, .i8042 = i8042 };
	const struct acpi_rsdp *rsdp;
	const struct acpi_header *xsdt, *rsdt;
	const struct acpi_fadt *fadt = NULL;
	const struct acpi_madt *madt = NULL;
	uint64_t addr;
	unsigned n;
	uint8_t *ram;

	if (mem_init(&mem, 32 * MiB) != 0) {
		CHECK(!"mem_init");
		return;
	}
	ram = mem_ptr(&mem, 0, 1);
	addr = acpi_build(&mem, &cfg);
	CHECK_EQ_U64(addr, ACPI_TABLES_START);
	/* Nothing written outside the area. */
	CHECK_EQ_U64(ram[ACPI_TABLES_START - 1], 0);
	CHECK_EQ_U64(*(uint8_t *)mem_ptr(&mem, ACPI_TABLES_END, 1), 0);
	rsdp = mem_ptr(&mem, addr, sizeof(*rsdp));
	if (!addr || !rsdp)
		goto out;
	CHECK(!memcmp(rsdp->signature, "RSD PTR ", 8));
	CHECK_EQ_U64(addr & 15, 0);
	CHECK_EQ_U64(acpi_sum(rsdp, 20), 0);
	CHECK_EQ_U64(acpi_sum(rsdp, sizeof(*rsdp)), 0);
	CHECK_EQ_U64(rsdp->revision, 2);
	CHECK_EQ_U64(rsdp->length, 36);

	xsdt = table_at(rsdp->xsdt_address);
	rsdt = table_at(rsdp->rsdt_address);
	CHECK(xsdt && rsdt);
	if (!xsdt || !rsdt)
		goto out;
	CHECK(!memcmp(xsdt->signature, "XSDT", 4));
	CHECK(!memcmp(rsdt->signature, "RSDT", 4));
	n = (xsdt->length - sizeof(*xsdt)) / 8;
	CHECK_EQ_U64(n, 2);
	CHECK_EQ_U64((rsdt->length - sizeof(*rsdt)) / 4, n);
	dump(xsdt, xsdt->length, "XSDT");
	dump(rsdt, rsdt->length, "RSDT");
	dump(rsdp, sizeof(*rsdp), "RSDP");
	for (unsigned i = 0; i < n; i++) {
		uint64_t t;
		uint32_t t32;
		const struct acpi_header *h;

		memcpy(&t, (const uint8_t *)(xsdt + 1) + 8 * i, 8);
		memcpy(&t32, (const uint8_t *)(rsdt + 1) + 4 * i, 4);
		CHECK_EQ_U64(t32, t);
		h = table_at(t);
		if (!h)
			continue;
		dump(h, h->length, h->signature);
		if (!memcmp(h->signature, "FACP", 4))
			fadt = (const struct acpi_fadt *)h;
		else if (!memcmp(h->signature, "APIC", 4))
			madt = (const struct acpi_madt *)h;
	}
	CHECK(fadt && madt);
	if (fadt)
		check_fadt(fadt, i8042);
	if (madt)
		check_madt(madt, cpus);
out:
	mem_destroy(&mem);
}

static void test_bad_config(void)
{
	struct acpi_config cfg = { .nr_cpus = 0 };

	printf("note: two \"bad number of CPUs\" errors are expected next\n");
	fflush(stdout);

	CHECK_EQ_U64(mem_init(&mem, 16 * MiB), 0);
	CHECK_EQ_U64(acpi_build(&mem, &cfg), 0);
	cfg.nr_cpus = VM_MAX_CPUS + 1;
	CHECK_EQ_U64(acpi_build(&mem, &cfg), 0);
	mem_destroy(&mem);
}

static void test_pci_gsi(void)
{
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			unsigned g = acpi_pci_gsi(slot, pin);

			CHECK(g >= IRQ_PCI_FIRST && g < IRQ_PCI_FIRST + IRQ_PCI_COUNT);
		}
		/* The four pins of a slot are spread over four lines. */
		CHECK(acpi_pci_gsi(slot, 0) != acpi_pci_gsi(slot, 1));
	}
	CHECK_EQ_U64(acpi_pci_gsi(1, 0), 17);
	CHECK_EQ_U64(acpi_pci_gsi(7, 1), 16);
}

/* --- the AML writer on its own ------------------------------------------- */

static void test_aml(void)
{
	uint8_t buf[512];
	struct aml a;
	size_t m;
	uint8_t big[100];

	/* Integers use the smallest encoding. */
	static const struct { uint64_t v; uint8_t enc[9]; size_t n; } ints[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0A, 2 }, 2 },
		{ 0xFF, { 0x0A, 0xFF }, 2 },
		{ 0x100, { 0x0B, 0x00, 0x01 }, 3 },
		{ 0x10000, { 0x0C, 0x00, 0x00, 0x01, 0x00 }, 5 },
		{ 0x100000000ULL, { 0x0E, 0, 0, 0, 0, 1, 0, 0, 0 }, 9 },
		{ ~0ULL, { 0xFF }, 1 },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_integer(&a, ints[i].v);
		CHECK_EQ_U64(a.len, ints[i].n);
		CHECK(!memcmp(buf, ints[i].enc, ints[i].n));
	}

	/* Names: padding, root, dual and multi prefixes, errors. */
	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "_S5");
	CHECK(a.len == 4 && !memcmp(buf, "_S5_", 4));
	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "\\_SB.PCI0");
	CHECK(a.len == 10 && !memcmp(buf, "\\\x2e_SB_PCI0", 10));
	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "\\_SB.PCI0.ISA");
	CHECK(a.len == 15 && !memcmp(buf, "\\\x2f\x03_SB_PCI0ISA_", 15));
	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "^^AB");
	CHECK(a.len == 6 && !memcmp(buf, "^^AB__", 6));
	CHECK(!a.error);
	static const char *const bad[] = { "TOOLONG", "a", "1ABC", "A..B", "A.", "A-B" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_name_string(&a, bad[i]);
		CHECK(a.error);
	}

	CHECK_EQ_U64(aml_eisaid("PNP0A03"), 0x030AD041);

	/* PkgLength: 1 byte up to 63, then 2 bytes. */
	aml_init(&a, buf, sizeof(buf));
	m = aml_package_open(&a, 0);
	aml_bytes(&a, big, 61);          /* body 62 bytes: total 63 */
	aml_close(&a, m);
	CHECK_EQ_U64(buf[1], 63);
	CHECK_EQ_U64(a.len, 1 + 1 + 62);
	aml_init(&a, buf, sizeof(buf));
	m = aml_package_open(&a, 0);
	aml_bytes(&a, big, 62);          /* body 63: needs 2 bytes, total 65 */
	aml_close(&a, m);
	CHECK_EQ_U64(buf[1], 0x40 | (65 & 0xF));
	CHECK_EQ_U64(buf[2], 65 >> 4);
	CHECK_EQ_U64(a.len, 1 + 2 + 63);
	{
		static uint8_t large[8192];
		static uint8_t lbuf[8300];

		aml_init(&a, lbuf, sizeof(lbuf));
		m = aml_scope_open(&a, "\\");
		aml_bytes(&a, large, 5000);  /* body 5002: 3 bytes, total 5005 */
		aml_close(&a, m);
		CHECK(!a.error);
		CHECK_EQ_U64(lbuf[1] >> 6, 2);
		CHECK_EQ_U64((lbuf[1] & 0xF) | lbuf[2] << 4 | lbuf[3] << 12, 5005);
	}

	/* Buffer: BufferSize inside the PkgLength. */
	aml_init(&a, buf, sizeof(buf));
	m = aml_buffer_open(&a);
	aml_res_irq_noflags(&a, 1 << 4);
	aml_res_end(&a);
	aml_buffer_close(&a, m);
	{
		static const uint8_t want[] = { 0x11, 0x08, 0x0A, 0x05, 0x22,
						0x10, 0x00, 0x79, 0x00 };

		CHECK(a.len == sizeof(want) && !memcmp(buf, want, sizeof(want)));
	}

	/* Running out of room is sticky and never writes past cap. */
	memset(buf, 0xEE, sizeof(buf));
	aml_init(&a, buf, 8);
	aml_string(&a, "0123456789");
	CHECK(a.error);
	CHECK_EQ_U64(buf[8], 0xEE);
	aml_byte(&a, 1);
	CHECK(a.len <= 8);
	aml_init(&a, buf, 8);
	m = aml_package_open(&a, 1);
	aml_bytes(&a, big, 6);           /* fills the buffer: no room for PkgLength */
	aml_close(&a, m);
	CHECK(a.error);
	CHECK_EQ_U64(buf[8], 0xEE);
}

int main(void)
{
	test_tables(1, true);
	test_tables(4, true);
	test_tables(4, false);
	test_tables(VM_MAX_CPUS, true);
	test_bad_config();
	test_pci_gsi();
	test_aml();
	return check_summary("test_acpi");
}
