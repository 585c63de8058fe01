/* SPDX-License-Identifier: MIT */
/*
 * The standard VGA adapter as QEMU's "-vga std" presents it: a PCI display
 * controller (1234:1111, subsystem 1af4:1100, revision 2) with
 *  - BAR0: the VRAM, prefetchable, as a KVM memory slot with dirty logging
 *    (an MMIO callback range if the slot cannot be created);
 *  - BAR2: 4 KiB of registers: 0x000 EDID, 0x400 VGA ports 0x3C0-0x3DF,
 *    0x500 the Bochs VBE "DISPI" registers (16-bit each), 0x600 QEMU's
 *    extended registers (size, framebuffer byte order);
 *  - the legacy ports 0x1CE/0x1CF (DISPI index/data), 0x3C0-0x3DF and the
 *    monochrome aliases 0x3B4/0x3B5/0x3BA, and the legacy window
 *    0xA0000-0xBFFFF: the four 64 KiB VGA planes as the Graphics
 *    Controller maps them (after reset: the text buffer at 0xB8000,
 *    character and attribute pairs in odd/even mode; fonts in plane 2,
 *    loaded in sequential mode), or while DISPI is enabled a 64 KiB bank
 *    of VRAM at 0xA0000.
 * That is what Linux's stock bochs DRM driver and vgacon drive, fonts
 * loaded by the guest (setfont) included.
 *
 * The picture goes to a console (display/console.h): the VGA text mode is
 * rendered with display/text.h; a DISPI graphics mode makes the console
 * surface alias VRAM (at the panning offset) whenever pixman knows the
 * format and the rows are 32-bit aligned, and otherwise a console-owned
 * surface is converted from VRAM (8 bpp through the DAC palette). While a
 * consumer watches, an event-loop timer refreshes at VGA_REFRESH_HZ: the
 * KVM dirty log, refined by tile comparison against a shadow copy, becomes
 * console damage. Input from a viewer speeds the timer up (every 4 ms)
 * until the picture changes or 100 ms pass, so what the guest draws in
 * reply to a key or a click shows within milliseconds. Register changes take effect at the next refresh, like a
 * real adapter latching them at vertical retrace.
 *
 * Everything the guest writes is untrusted: a mode whose geometry does not
 * fit in VRAM is not displayed (no picture) and nothing outside VRAM is
 * ever read or written.
 *
 * Locking: one mutex per adapter, taken by the port/MMIO handlers (vCPU
 * threads), the refresh (event loop, console_refresh callers) and the BAR
 * remap hook (under the PCI bus lock). Order: console activity lock ->
 * adapter lock -> console lock, and PCI bus lock -> adapter lock.
 */
#ifndef VMM_DEV_VGA_H
#define VMM_DEV_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../event.h"
#include "../vm.h"
#include "display/console.h"
#include "pci.h"

struct vga;

#define VGA_VRAM_DEFAULT   (16ULL << 20)
#define VGA_VRAM_MIN       (4ULL << 20)
#define VGA_VRAM_MAX       (256ULL << 20)
#define VGA_DEFAULT_WIDTH  1024
#define VGA_DEFAULT_HEIGHT 768
/* The preferred (EDID) resolution must fit in an EDID detailed timing. */
#define VGA_EDID_MAX_DIM   4095
#define VGA_EDID_MIN_WIDTH 320
#define VGA_EDID_MIN_HEIGHT 200
/* Largest DISPI mode (GETCAPS); the console cannot take more. */
#define VGA_MAX_XRES       CONSOLE_MAX_DIM
#define VGA_MAX_YRES       CONSOLE_MAX_DIM
#define VGA_REFRESH_HZ     30

struct vga_config {
	uint64_t vram_size;     /* bytes; 0: VGA_VRAM_DEFAULT */
	unsigned width, height; /* preferred mode in the EDID; 0: default */
};

/*
 * Check a configuration from the command line: VRAM a power of two in
 * [VGA_VRAM_MIN, VGA_VRAM_MAX], resolution within the EDID limits and a
 * 32 bpp frame of it fitting in VRAM. 0, or -1 with a one-line reason.
 */
int vga_config_check(const struct vga_config *cfg, char *err, size_t errlen);

/*
 * Create the adapter: register its ports, the legacy window and the PCI
 * device, and become con's producer (con must outlive the adapter). loop
 * may be NULL (no periodic refresh: only console_refresh() updates the
 * picture). cfg may be NULL (defaults). Returns NULL after logging one line
 * (bad config, ports taken, no memory).
 */
struct vga *vga_create(struct vm *vm, struct pci_bus *pci,
		       struct event_loop *loop, struct console *con,
		       const struct vga_config *cfg);
/*
 * Stop producing (the console is left without a surface: it must not alias
 * freed VRAM), unregister everything, free. Call with the vCPUs stopped,
 * on the loop thread or after the loop has ended, and AFTER pci_destroy():
 * pci.h has no way to unregister a device, and pci_destroy() still calls
 * the adapter's BAR hook (which unmaps the VRAM slot).
 */
void vga_destroy(struct vga *v);

/* For the boot loader's screen_info. */
struct vga_boot_info {
	bool text;              /* a VGA text console at 0xB8000 */
	uint64_t lfb_base;      /* where BAR0 is decoded now (0: nowhere) */
	uint64_t lfb_size;      /* VRAM size */
	/* The DISPI mode if vga_set_boot_mode() set one, else 0. */
	uint32_t width, height, stride;
};
void vga_get_boot_info(struct vga *v, struct vga_boot_info *out);

/*
 * Enable a 32 bpp DISPI mode before the guest starts, as firmware setting a
 * VESA mode would, for a guest booted with a linear framebuffer
 * (screen_info VIDEO_TYPE_VLFB) instead of the text console. 0, or -1 if
 * the mode does not fit.
 */
int vga_set_boot_mode(struct vga *v, unsigned width, unsigned height);

/* The PCI function, e.g. to find its slot. */
struct pci_device *vga_pci_device(struct vga *v);

/* --- for tests and fuzzers ------------------------------------------------ */

/* The VRAM as host memory (vga_vram_size() bytes). */
uint8_t *vga_vram(struct vga *v);
uint64_t vga_vram_size(struct vga *v);
/* KVM slot of the VRAM BAR, or -1 (not mapped, or MMIO fallback). */
int vga_vram_slot(struct vga *v);
/* The 128-byte EDID blob the adapter serves. */
const uint8_t *vga_edid(struct vga *v);
/* Fix the blink phase (0 off, 1 on) instead of the clock; -1: clock. */
void vga_test_set_blink(struct vga *v, int phase);
/* Whether the refresh timer runs (a consumer is attached). */
bool vga_test_refresh_active(struct vga *v);
/* Tests: refreshing at the fast pace that follows viewer input. */
bool vga_test_refresh_boosted(struct vga *v);

/*
 * Build an EDID 1.4 base block (128 bytes, checksummed) whose preferred
 * detailed timing is width x height at 60 Hz, plus the established and
 * standard modes whose 32 bpp frame fits in vram_size. 0, or -1 if the
 * size cannot be described.
 */
int vga_build_edid(uint8_t out[128], unsigned width, unsigned height,
		   uint64_t vram_size);

#endif
