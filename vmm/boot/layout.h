/* SPDX-License-Identifier: MIT */
/*
 * Where the loader puts things in guest memory. Everything below 1 MiB is
 * in the first e820 RAM range [0, 0x9FC00) except the ACPI tables, which
 * live in the reserved BIOS area; a guest kernel takes over (and may reuse)
 * that low RAM once it has copied its boot data, as on real firmware.
 *
 *   0x00500  GDT (BOOT_GDT_ENTRIES descriptors)
 *   0x06000  PVH: hvm_start_info, module list, memory map
 *   0x07000  bzImage: boot_params (the "zero page")
 *   0x08000  boot stack, growing down from BOOT_STACK_TOP
 *   0x09000  bzImage: PML4, PDPT, 4 PDs: identity map of 4 GiB, 2 MiB pages
 *   0x20000  kernel command line (at most BOOT_CMDLINE_MAX bytes + NUL)
 *   0xE0000  ACPI tables (reserved in e820)
 *   0x100000 bzImage: protected-mode kernel; PVH: wherever p_paddr says
 *   high     initrd, as high as allowed below the end of low RAM
 */
#ifndef VMM_BOOT_LAYOUT_H
#define VMM_BOOT_LAYOUT_H

#include <stdint.h>

#include "../mem.h"
#include "bootparam.h"

#define BOOT_GDT_ADDR        0x500ULL
#define BOOT_GDT_ENTRIES     4
#define BOOT_START_INFO_ADDR 0x6000ULL
#define BOOT_START_INFO_SIZE 0x1000ULL
#define BOOT_PARAMS_ADDR     0x7000ULL
#define BOOT_STACK_BOTTOM    0x8000ULL
#define BOOT_STACK_TOP       0x8ff0ULL
#define BOOT_PML4_ADDR       0x9000ULL
#define BOOT_PDPT_ADDR       0xA000ULL
#define BOOT_PD_ADDR         0xB000ULL   /* 4 pages: 0xB000-0xEFFF */
#define BOOT_PD_COUNT        4
#define BOOT_CMDLINE_ADDR    0x20000ULL
#define BOOT_CMDLINE_MAX     0xFFFFULL   /* our own cap, excluding the NUL */
#define BOOT_KERNEL_ADDR     0x100000ULL /* bzImage protected-mode code */
#define BOOT_EBDA_START      0x9FC00ULL  /* RAM below, reserved above */

/*
 * Both entry modes use one GDT layout, so the selectors never change:
 *   0x00 null, 0x08 null,
 *   0x10 code: 64-bit (LINUX64, Linux's __BOOT_CS) or flat 32-bit (PVH32),
 *   0x18 data: flat 32-bit read/write (Linux's __BOOT_DS).
 */
#define BOOT_CODE_SEL  0x10
#define BOOT_DATA_SEL  0x18
#define GDT_CODE64     0x00af9b000000ffffULL
#define GDT_CODE32     0x00cf9b000000ffffULL
#define GDT_DATA       0x00cf93000000ffffULL

/* The guest memory map (shared by e820 and the PVH memmap). */
#define BOOT_MEMMAP_MAX 8
struct boot_memmap {
	uint64_t addr, size;
	uint32_t type;    /* E820_RAM / E820_RESERVED */
};
unsigned boot_build_memmap(const struct guest_mem *m,
			   struct boot_memmap *out, unsigned max);

#endif
