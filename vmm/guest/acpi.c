// SPDX-License-Identifier: MIT
/*
 * Just enough ACPI for the built-in guest: count CPUs and find the interrupt
 * controllers (MADT), find how to power off and reset (FADT, \_S5 in the
 * DSDT). The tables are read in place (identity-mapped, user-accessible);
 * every length and address is checked before use, and a table that fails
 * its checks is ignored so the fixed defaults apply.
 */
#include "guest.h"

#define ACPI_HDR_LEN       36
#define ACPI_TABLE_MAX     (1u << 20)        /* sanity cap on any table */
#define ACPI_ADDR_LIMIT    0x100000000ULL    /* our identity map ends here */

#define FADT_FLAG_RESET_REG_SUP  (1u << 10)
#define FADT_FLAG_HW_REDUCED     (1u << 20)

#define MADT_LAPIC        0
#define MADT_IOAPIC       1
#define MADT_OVERRIDE     2
#define MADT_X2APIC       9
#define MADT_ENABLED      1u

/* Fixed fall-backs: our vmm's hardware-reduced registers (platform.h). */
#define FIXED_SLEEP_CTL   0x600
#define FIXED_RESET       0x602
#define FIXED_RESET_VALUE 0x0F
#define SLP_EN_HWR        (1u << 5)   /* SLEEP_CONTROL_REG.SLP_EN */
#define SLP_TYP_HWR_SHIFT 2
#define SLP_EN_PM1        (1u << 13)  /* PM1_CNT.SLP_EN */
#define SLP_TYP_PM1_SHIFT 10
#define DEFAULT_S5_TYP    5

struct acpi_info acpi;

static uint8_t rd8(const uint8_t *p)
{
	return *p;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static bool range_ok(uint64_t addr, uint64_t len)
{
	return addr && len <= ACPI_ADDR_LIMIT && addr <= ACPI_ADDR_LIMIT - len;
}

static bool checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

/* A table with a plausible header, length and checksum, or NULL. */
static const uint8_t *table_at(uint64_t addr, const char *sig, uint32_t *len)
{
	const uint8_t *t;
	uint32_t n;

	if (!range_ok(addr, ACPI_HDR_LEN))
		return NULL;
	t = (const uint8_t *)(uintptr_t)addr;
	if (sig && memcmp(t, sig, 4) != 0)
		return NULL;
	n = rd32(t + 4);
	if (n < ACPI_HDR_LEN || n > ACPI_TABLE_MAX || !range_ok(addr, n))
		return NULL;
	if (!checksum_ok(t, n))
		return NULL;
	*len = n;
	return t;
}

static bool rsdp_valid(const uint8_t *p)
{
	if (memcmp(p, "RSD PTR ", 8) != 0 || !checksum_ok(p, 20))
		return false;
	if (p[15] >= 2) {
		uint32_t len = rd32(p + 20);

		if (len < 36 || len > 4096 || !checksum_ok(p, len))
			return false;
	}
	return true;
}

/* Without a start_info RSDP: the BIOS area, on 16-byte boundaries. */
static uint64_t rsdp_scan(void)
{
	for (uint64_t a = 0xE0000; a < 0x100000; a += 16)
		if (rsdp_valid((const uint8_t *)(uintptr_t)a))
			return a;
	return 0;
}

static void parse_madt(const uint8_t *t, uint32_t len)
{
	uint32_t off = 44;

	acpi.lapic_addr = rd32(t + 36);
	acpi.cpus = 0;
	while (off + 2 <= len) {
		uint8_t type = rd8(t + off), elen = rd8(t + off + 1);
		const uint8_t *e = t + off;

		if (elen < 2 || off + elen > len)
			break;
		if (type == MADT_LAPIC && elen >= 8 &&
		    (rd32(e + 4) & MADT_ENABLED))
			acpi.cpus++;
		else if (type == MADT_X2APIC && elen >= 16 &&
			 (rd32(e + 8) & MADT_ENABLED))
			acpi.cpus++;
		else if (type == MADT_IOAPIC && elen >= 12 &&
			 acpi.nr_ioapics < ACPI_MAX_IOAPICS) {
			acpi.ioapic[acpi.nr_ioapics].addr = rd32(e + 4);
			acpi.ioapic[acpi.nr_ioapics].gsi_base = rd32(e + 8);
			acpi.nr_ioapics++;
		} else if (type == MADT_OVERRIDE && elen >= 10 &&
			   rd8(e + 2) == 0 && rd8(e + 3) < 16) {
			uint8_t irq = rd8(e + 3);

			acpi.isa_override[irq] = true;
			acpi.isa_gsi[irq] = rd32(e + 4);
			acpi.isa_flags[irq] = rd16(e + 8);
		}
		off += elen;
	}
}

static void gas_read(const uint8_t *p, struct acpi_gas *g)
{
	g->space = rd8(p);
	g->addr = rd64(p + 4);
}

/*
 * \_S5's SLP_TYPa: find the AML "NameOp _S5_ PackageOp PkgLength
 * NumElements <first element>" in the DSDT and decode the first element.
 */
static void find_s5(const uint8_t *t, uint32_t len)
{
	for (uint32_t i = ACPI_HDR_LEN + 1; i + 4 + 8 <= len; i++) {
		const uint8_t *p = t + i;
		uint32_t pkglen_bytes;

		if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12)
			continue;
		if (p[-1] != 0x08 && !(p[-1] == '\\' && p[-2] == 0x08))
			continue;
		pkglen_bytes = 1 + (p[5] >> 6);
		p += 5 + pkglen_bytes + 1;	/* past PkgLength, NumElements */
		if (p[0] == 0x0A) {		/* BytePrefix */
			acpi.s5_typ = p[1];
		} else if (p[0] == 0x00 || p[0] == 0x01) {	/* Zero, One */
			acpi.s5_typ = p[0];
		} else {
			return;
		}
		acpi.has_s5 = true;
		return;
	}
}

static void parse_fadt(const uint8_t *t, uint32_t len)
{
	uint32_t flags = len >= 116 ? rd32(t + 112) : 0;
	uint64_t dsdt = len >= 44 ? rd32(t + 40) : 0;
	const uint8_t *d;
	uint32_t dlen;

	acpi.has_fadt = true;
	acpi.hw_reduced = flags & FADT_FLAG_HW_REDUCED;
	if (len >= 68)
		acpi.pm1a_cnt = rd32(t + 64);
	if (len >= 184) {
		struct acpi_gas x;

		gas_read(t + 172, &x);
		if (x.space == 1 && x.addr && x.addr <= 0xFFFF)
			acpi.pm1a_cnt = (uint32_t)x.addr;
	}
	if (acpi.pm1a_cnt > 0xFFFF)
		acpi.pm1a_cnt = 0;
	if ((flags & FADT_FLAG_RESET_REG_SUP) && len >= 129) {
		gas_read(t + 116, &acpi.reset_reg);
		acpi.reset_value = rd8(t + 128);
		acpi.has_reset = acpi.reset_reg.addr != 0;
	}
	if (len >= 256) {
		gas_read(t + 244, &acpi.sleep_ctl);
		acpi.has_sleep_ctl = acpi.sleep_ctl.addr != 0;
	}
	if (len >= 148 && rd64(t + 140))
		dsdt = rd64(t + 140);
	d = table_at(dsdt, "DSDT", &dlen);
	if (d)
		find_s5(d, dlen);
}

static void parse_table(uint64_t addr)
{
	uint32_t len;
	const uint8_t *t = table_at(addr, NULL, &len);

	if (!t)
		return;
	if (memcmp(t, "APIC", 4) == 0)
		parse_madt(t, len);
	else if (memcmp(t, "FACP", 4) == 0)
		parse_fadt(t, len);
}

void acpi_init(uint64_t rsdp_paddr)
{
	const uint8_t *rsdp, *root;
	uint32_t len, entry_size;
	uint64_t root_addr;
	bool xsdt;

	memset(&acpi, 0, sizeof(acpi));
	acpi.lapic_addr = 0xFEE00000;
	if (!range_ok(rsdp_paddr, 36) ||
	    !rsdp_valid((const uint8_t *)(uintptr_t)rsdp_paddr))
		rsdp_paddr = rsdp_scan();
	if (!rsdp_paddr)
		return;
	rsdp = (const uint8_t *)(uintptr_t)rsdp_paddr;
	xsdt = rsdp[15] >= 2 && rd64(rsdp + 24);
	root_addr = xsdt ? rd64(rsdp + 24) : rd32(rsdp + 16);
	root = table_at(root_addr, xsdt ? "XSDT" : "RSDT", &len);
	if (!root)
		return;
	acpi.found = true;
	entry_size = xsdt ? 8 : 4;
	for (uint32_t off = ACPI_HDR_LEN; off + entry_size <= len;
	     off += entry_size)
		parse_table(xsdt ? rd64(root + off) : rd32(root + off));
	if (!acpi.lapic_addr)
		acpi.lapic_addr = 0xFEE00000;
}

static void gas_write8(const struct acpi_gas *g, uint8_t v)
{
	if (g->space == 1 && g->addr <= 0xFFFF)
		outb((uint16_t)g->addr, v);
	else if (g->space == 0 && range_ok(g->addr, 1))
		mmio_write8(g->addr, v);
}

/* The write takes effect in the VMM before the next instruction runs. */
void acpi_poweroff(void)
{
	uint8_t typ = acpi.has_s5 ? acpi.s5_typ : DEFAULT_S5_TYP;

	if (acpi.has_sleep_ctl)
		gas_write8(&acpi.sleep_ctl, (uint8_t)(((typ & 7) <<
			   SLP_TYP_HWR_SHIFT) | SLP_EN_HWR));
	else if (acpi.pm1a_cnt && !acpi.hw_reduced)
		outw((uint16_t)acpi.pm1a_cnt, (uint16_t)(((typ & 7) <<
		     SLP_TYP_PM1_SHIFT) | SLP_EN_PM1));
	/* Still here: the fixed register of our own vmm. */
	outb(FIXED_SLEEP_CTL, (DEFAULT_S5_TYP << SLP_TYP_HWR_SHIFT) |
	     SLP_EN_HWR);
}

void acpi_reset(void)
{
	if (acpi.has_reset)
		gas_write8(&acpi.reset_reg, acpi.reset_value);
	outb(FIXED_RESET, FIXED_RESET_VALUE);
	/* The keyboard controller's reset line, as a last resort. */
	outb(0x64, 0xFE);
}
