/* SPDX-License-Identifier: MIT */
/*
 * VGA text mode renderer: draws a cols x rows buffer of 16-bit cells
 * (character code in the low byte, attribute in the high byte) into a
 * console surface of x8r8g8b8 pixels, cell width 8 or 9 dots, cell height
 * the font's character height (1-32 scanlines, as CRTC register 9 says).
 * It keeps a shadow of what it drew last time and re-renders, and damages,
 * only the cells that changed: their character or attribute, the palette,
 * the blink phase for blinking cells, or the cursor passing over them. A
 * font change (another font, another height, or its glyph bytes rewritten
 * with different values) redraws every cell.
 *
 * Glyphs come from the caller: on a VGA they live in plane 2 of video
 * memory, where the BIOS (or here the device at reset) loads the 8x16 font
 * and a guest may load its own (Linux's setfont through vgacon). Each
 * font is 256 glyphs of TEXT_FONT_STRIDE bytes, one byte a scanline, bit 7
 * the leftmost dot. With two fonts (a 512-character font: SR3 selects
 * different maps) attribute bit 3 picks the glyph set.
 *
 * Attributes: bits 0-3 foreground colour, bits 4-6 background colour, bit 7
 * blink when blink is enabled (Attribute Controller mode bit 3), otherwise
 * the fourth background bit. A blinking cell shows its background only
 * while the blink phase is off.
 *
 * The caller (the VGA device) provides everything from its registers, all
 * untrusted: sizes are clamped, cursor positions outside the screen mean
 * no cursor. Not thread-safe: one renderer per device, used under the
 * device's lock (the glyphs are read while rendering).
 */
#ifndef DISPLAY_TEXT_H
#define DISPLAY_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "display/console.h"

#define TEXT_MAX_COLS 256
#define TEXT_MAX_ROWS 128
#define TEXT_FONT_STRIDE 32      /* bytes from one glyph to the next */
#define TEXT_FONT_GLYPHS 256     /* glyphs in one font (character map) */
#define TEXT_MAX_CHAR_HEIGHT 32

struct text_screen {
	const uint16_t *cells;  /* rows lines of `stride` cells each */
	int cols, rows;         /* visible cells */
	int stride;             /* cells from one line to the next (>= cols) */
	int cell_width;         /* 8 or 9 dots */
	/*
	 * 9-dot mode: the ninth column of characters 0xC0-0xDF repeats the
	 * eighth (Attribute Controller mode bit 2), otherwise background.
	 */
	bool line_graphics;
	/*
	 * 16 colours as 0x00RRGGBB, i.e. DAC[attribute palette[i]] scaled to
	 * 8 bits a channel. The device builds it from its registers.
	 */
	uint32_t palette[16];
	bool blink_enabled;     /* attribute bit 7 = blink (else bright bg) */
	bool blink_on;          /* blinking characters visible in this phase */
	/*
	 * Glyphs: font[1] for cells whose attribute has bit 3 set, font[0]
	 * for the others (the same pointer for a 256-character font); each
	 * TEXT_FONT_GLYPHS * TEXT_FONT_STRIDE bytes. NULL: the built-in 8x16
	 * font (display/font.h), blank below its 16th line.
	 * font_gen must change whenever a byte of either font changes; the
	 * renderer redraws everything when font_gen, a font pointer or
	 * char_height differs from the last render, and never reads glyphs
	 * otherwise to detect a change (it stays cheap when nothing changed).
	 */
	const uint8_t *font[2];
	uint64_t font_gen;
	int char_height;        /* scanlines a cell, 1-32; 0 means 16 */
	/*
	 * Cursor: CRTC cursor start/end scanline (0-31) in the scanlines of
	 * a cell (lines start..end, clipped to the cell; none if start > end
	 * or start is below the cell), position.
	 */
	bool cursor_enabled;    /* CRTC cursor-disable bit clear */
	bool cursor_on;         /* cursor blink phase */
	int cursor_col, cursor_row;
	int cursor_start, cursor_end;
};

struct text_renderer;

struct text_renderer *text_renderer_create(void);
void text_renderer_destroy(struct text_renderer *t);
/* Forget the shadow: the next render draws every cell. */
void text_renderer_invalidate(struct text_renderer *t);

/*
 * Render s into c, whose surface is set to text_surface_width(s) x
 * text_surface_height(s) x8r8g8b8 if it is not that already (then every
 * cell is drawn). Damage is recorded for exactly the cells drawn; the
 * caller flushes the console.
 * Returns the number of cells drawn, or -1 (bad screen, out of memory).
 */
int text_render(struct text_renderer *t, struct console *c,
		const struct text_screen *s);

/* The cell height of s: char_height, 16 if unset, clamped to 1-32. */
static inline int text_char_height(const struct text_screen *s)
{
	if (s->char_height <= 0)
		return 16;
	return s->char_height > TEXT_MAX_CHAR_HEIGHT ? TEXT_MAX_CHAR_HEIGHT :
						       s->char_height;
}

/* Pixel size of a text screen: for callers and tests. */
static inline int text_surface_width(const struct text_screen *s)
{
	return s->cols * s->cell_width;
}

static inline int text_surface_height(const struct text_screen *s)
{
	return s->rows * text_char_height(s);
}

#endif
