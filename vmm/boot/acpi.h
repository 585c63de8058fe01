/* SPDX-License-Identifier: MIT */
/*
 * ACPI table layouts (ACPI 6.x): the few tables of a hardware-reduced
 * platform. Shared by acpi.c and its unit test.
 */
#ifndef VMM_BOOT_ACPI_H
#define VMM_BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct acpi_rsdp {
	char signature[8];        /* "RSD PTR " */
	uint8_t checksum;         /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;         /* 2: ACPI 2.0+ with XSDT */
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "rsdp");

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "header");

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;         /* 0 memory, 1 system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;      /* 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "gas");

#define ACPI_GAS_IO         1
#define ACPI_GAS_ACCESS_BYTE 1

/* FADT flags */
#define FADT_F_PWR_BUTTON      (1u << 4)  /* 1: no fixed-feature power button */
#define FADT_F_SLP_BUTTON      (1u << 5)  /* 1: no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP   (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
/* IAPC_BOOT_ARCH */
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042           (1u << 1)

struct acpi_fadt {
	struct acpi_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));
_Static_assert(offsetof(struct acpi_fadt, sci_int) == 46, "sci_int");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "boot_arch");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "flags");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "reset_reg");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "x_dsdt");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "sleep_ctl");
_Static_assert(sizeof(struct acpi_fadt) == 276, "fadt");

#define MADT_PCAT_COMPAT 1

struct acpi_madt {
	struct acpi_header header;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

enum {
	MADT_LOCAL_APIC = 0,
	MADT_IO_APIC = 1,
	MADT_INT_SRC_OVERRIDE = 2,
	MADT_LOCAL_APIC_NMI = 4,
};

struct madt_local_apic {
	uint8_t type, length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;           /* bit 0: enabled */
} __attribute__((packed));

struct madt_io_apic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

/* MPS INTI flags: polarity bits 0-1 (1 high, 3 low), trigger 2-3 (1 edge, 3 level). */
#define MPS_POLARITY_HIGH 0x1
#define MPS_POLARITY_LOW  0x3
#define MPS_TRIGGER_EDGE  (0x1 << 2)
#define MPS_TRIGGER_LEVEL (0x3 << 2)

struct madt_int_override {
	uint8_t type, length;
	uint8_t bus;              /* 0: ISA */
	uint8_t source;           /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t processor_uid;    /* 0xFF: all processors */
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

_Static_assert(sizeof(struct madt_local_apic) == 8, "lapic");
_Static_assert(sizeof(struct madt_io_apic) == 12, "ioapic");
_Static_assert(sizeof(struct madt_int_override) == 10, "iso");
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "nmi");

/* Sum of bytes, for checksums (valid tables sum to 0). */
static inline uint8_t acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return s;
}

#endif
