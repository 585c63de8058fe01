/* SPDX-License-Identifier: MIT */
/*
 * Loading a guest: a bzImage (Linux x86 boot protocol, entered at the 64-bit
 * entry point) or an ELF with a PVH entry note (an uncompressed vmlinux or
 * the built-in guest), plus an initrd, the command line and the firmware
 * tables (ACPI: RSDP, XSDT, FADT, MADT, DSDT).
 */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vm.h"

struct boot_config {
	/* The kernel: a bzImage or a PVH ELF, as bytes already read. */
	const uint8_t *kernel;
	size_t kernel_size;
	const char *kernel_name;     /* for messages */
	const uint8_t *initrd;       /* may be NULL */
	size_t initrd_size;
	const char *cmdline;         /* never NULL ("" for none) */
	/* For screen_info (bzImage) / the VGA text console. */
	bool vga_text;               /* a VGA text console at 0xB8000 exists */
	uint64_t lfb_base;           /* 0: no linear framebuffer known */
	uint32_t lfb_width, lfb_height, lfb_stride, lfb_size;
	/* The machine has no PS/2 controller: leave PNP0303/PNP0F13 out of
	 * the DSDT (default false: an i8042 is described). */
	bool no_i8042;
};

/* Physical address of the reset vector (see write_reset_vector in boot.c). */
#define BOOT_RESET_VECTOR 0xFFFF0ULL

enum kernel_kind { KERNEL_UNKNOWN, KERNEL_BZIMAGE, KERNEL_PVH_ELF };

/* Identify a kernel image (does not validate it fully). */
enum kernel_kind boot_probe_kernel(const uint8_t *img, size_t size);

/*
 * Place everything in guest memory and fill entry. On failure returns -1
 * with a one-line reason in err (no newline).
 */
int boot_load(struct vm *vm, const struct boot_config *cfg,
	      struct boot_entry *entry, char *err, size_t errlen);

/* Firmware tables (acpi.c): describe nr_cpus CPUs and our fixed devices. */
struct acpi_config {
	unsigned nr_cpus;
	bool i8042;          /* describe the PS/2 controller (PNP0303/PNP0F13) */
};
/* Write the tables into [ACPI_TABLES_START, ACPI_TABLES_END); returns the
 * RSDP guest address, or 0 on error. */
uint64_t acpi_build(struct guest_mem *mem, const struct acpi_config *cfg);

/*
 * The IOAPIC GSI that PCI device slot (1..31) interrupt pin (0 = INTA ..
 * 3 = INTD) is routed to, as the DSDT _PRT says: pci.c uses the same
 * function so the two never disagree. GSIs IRQ_PCI_FIRST..+IRQ_PCI_COUNT-1,
 * level-triggered, active low.
 */
unsigned acpi_pci_gsi(unsigned slot, unsigned pin);

#endif
