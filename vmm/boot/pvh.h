/* SPDX-License-Identifier: MIT */
/*
 * The PVH boot ABI (Xen's xen/include/public/arch-x86/hvm/start_info.h):
 * a kernel ELF announces a 32-bit physical entry point in a "Xen" ELF note;
 * the loader enters it in flat 32-bit protected mode, paging off, with
 * EBX = guest address of struct hvm_start_info.
 */
#ifndef VMM_BOOT_PVH_H
#define VMM_BOOT_PVH_H

#include <stddef.h>
#include <stdint.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC_VALUE    0x336ec578
#define HVM_START_VERSION        1    /* has memmap_paddr/memmap_entries */

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

/* type: the E820 types (1 RAM, 2 reserved, ...). */
struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(offsetof(struct hvm_start_info, modlist_paddr) == 16, "modlist");
_Static_assert(offsetof(struct hvm_start_info, rsdp_paddr) == 32, "rsdp");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 40, "memmap");
_Static_assert(offsetof(struct hvm_start_info, memmap_entries) == 48, "entries");
_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info size");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist size");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap size");

#endif
