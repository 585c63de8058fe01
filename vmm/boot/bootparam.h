/* SPDX-License-Identifier: MIT */
/*
 * The parts of the Linux x86 boot protocol we fill in: the setup header of
 * a bzImage and the "zero page" (struct boot_params) handed to the kernel.
 * Layouts follow Documentation/arch/x86/boot.rst and zero-page.rst; every
 * field we touch has its offset checked at compile time, the rest is
 * padding we leave zero.
 */
#ifndef VMM_BOOT_BOOTPARAM_H
#define VMM_BOOT_BOOTPARAM_H

#include <stddef.h>
#include <stdint.h>

#define SETUP_HDR_OFFSET   0x1f1   /* in the image and in boot_params */
#define SETUP_HDR_MAGIC    0x53726448 /* "HdrS" at 0x202 */
#define SETUP_BOOT_FLAG    0xAA55
#define SETUP_MIN_VERSION  0x0206  /* cmdline_size exists from 2.06 on */

/* loadflags */
#define LOADED_HIGH        0x01
#define KEEP_SEGMENTS      0x40
#define CAN_USE_HEAP       0x80
/* xloadflags */
#define XLF_KERNEL_64                 0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G    0x02

#define LOADER_TYPE_UNDEFINED 0xff

struct setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

#define HDR_OFF(f) (SETUP_HDR_OFFSET + offsetof(struct setup_header, f))
_Static_assert(HDR_OFF(boot_flag) == 0x1fe, "boot_flag");
_Static_assert(HDR_OFF(header) == 0x202, "header");
_Static_assert(HDR_OFF(version) == 0x206, "version");
_Static_assert(HDR_OFF(type_of_loader) == 0x210, "type_of_loader");
_Static_assert(HDR_OFF(code32_start) == 0x214, "code32_start");
_Static_assert(HDR_OFF(ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(HDR_OFF(heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(HDR_OFF(cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(HDR_OFF(initrd_addr_max) == 0x22c, "initrd_addr_max");
_Static_assert(HDR_OFF(xloadflags) == 0x236, "xloadflags");
_Static_assert(HDR_OFF(cmdline_size) == 0x238, "cmdline_size");
_Static_assert(HDR_OFF(pref_address) == 0x258, "pref_address");
_Static_assert(HDR_OFF(init_size) == 0x260, "init_size");
_Static_assert(sizeof(struct setup_header) == 0x26c - SETUP_HDR_OFFSET, "hdr size");

#define VIDEO_TYPE_VGAC  0x22
#define VIDEO_TYPE_VLFB  0x23
/* orig_video_isVGA: 1 = VGA text (vgacon treats it as VIDEO_TYPE_VGAC). */
#define SCREEN_INFO_IS_VGA 1

struct screen_info {
	uint8_t orig_x;
	uint8_t orig_y;
	uint16_t ext_mem_k;
	uint16_t orig_video_page;
	uint8_t orig_video_mode;
	uint8_t orig_video_cols;
	uint8_t flags;
	uint8_t unused2;
	uint16_t orig_video_ega_bx;
	uint16_t unused3;
	uint8_t orig_video_lines;
	uint8_t orig_video_isVGA;
	uint16_t orig_video_points;
	uint16_t lfb_width;
	uint16_t lfb_height;
	uint16_t lfb_depth;
	uint32_t lfb_base;
	uint32_t lfb_size;      /* VLFB: in units of 64 KiB */
	uint16_t cl_magic, cl_offset;
	uint16_t lfb_linelength;
	uint8_t red_size;
	uint8_t red_pos;
	uint8_t green_size;
	uint8_t green_pos;
	uint8_t blue_size;
	uint8_t blue_pos;
	uint8_t rsvd_size;
	uint8_t rsvd_pos;
	uint16_t vesapm_seg;
	uint16_t vesapm_off;
	uint16_t pages;
	uint16_t vesa_attributes;
	uint32_t capabilities;
	uint32_t ext_lfb_base;
	uint8_t _reserved[2];
} __attribute__((packed));

#define VIDEO_CAPABILITY_64BIT_BASE 0x2

_Static_assert(offsetof(struct screen_info, orig_video_isVGA) == 0x0f, "isVGA");
_Static_assert(offsetof(struct screen_info, lfb_base) == 0x18, "lfb_base");
_Static_assert(offsetof(struct screen_info, lfb_linelength) == 0x24, "linelength");
_Static_assert(offsetof(struct screen_info, capabilities) == 0x36, "capabilities");
_Static_assert(sizeof(struct screen_info) == 0x40, "screen_info size");

#define E820_RAM       1
#define E820_RESERVED  2

struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_MAX_ENTRIES_ZEROPAGE 128

struct boot_params {
	struct screen_info screen_info;                 /* 0x000 */
	uint8_t _pad1[0x070 - 0x040];
	uint64_t acpi_rsdp_addr;                        /* 0x070 */
	uint8_t _pad2[0x1e8 - 0x078];
	uint8_t e820_entries;                           /* 0x1e8 */
	uint8_t _pad3[SETUP_HDR_OFFSET - 0x1e9];
	struct setup_header hdr;                        /* 0x1f1 */
	uint8_t _pad4[0x2d0 - 0x26c];
	struct boot_e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2d0 */
	uint8_t _pad5[0x1000 - 0xcd0];
} __attribute__((packed));

_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "rsdp");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "e820_entries");
_Static_assert(offsetof(struct boot_params, hdr) == 0x1f1, "hdr");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820_table");
_Static_assert(sizeof(struct boot_params) == 0x1000, "boot_params size");

#endif
