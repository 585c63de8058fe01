/* SPDX-License-Identifier: MIT */
/*
 * The 8x16 VGA text-mode font, indexed by CP437 code. The array is generated
 * at build time (display/gen-font.py, into $(BUILD)/gen/font8x16.c) from the
 * Linux console font in Debian's console-data package: default8x16.psf.gz
 * mapped through the CP437 -> Unicode table cp437.sfm.gz. Row 0 is the top
 * scanline; bit 7 of a row byte is the leftmost pixel.
 */
#ifndef DISPLAY_FONT_H
#define DISPLAY_FONT_H

#include <stdint.h>

#define VGA_FONT_WIDTH  8
#define VGA_FONT_HEIGHT 16

extern const uint8_t vga_font_8x16[256][VGA_FONT_HEIGHT];

#endif
