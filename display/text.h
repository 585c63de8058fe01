/* SPDX-License-Identifier: MIT */
/*
 * VGA text mode renderer: draws a cols x rows buffer of 16-bit cells
 * (CP437 character in the low byte, attribute in the high byte) with the
 * 8x16 font (display/font.h) into a console surface of x8r8g8b8 pixels,
 * cell width 8 or 9 dots. It keeps a shadow of what it drew last time and
 * re-renders, and damages, only the cells that changed: their character or
 * attribute, the palette, the blink phase for blinking cells, or the
 * cursor passing over them.
 *
 * Attributes: bits 0-3 foreground colour, bits 4-6 background colour, bit 7
 * blink when blink is enabled (Attribute Controller mode bit 3), otherwise
 * the fourth background bit. A blinking cell shows its background only
 * while the blink phase is off.
 *
 * The caller (the VGA device) provides everything from its registers, all
 * untrusted: sizes are clamped, cursor positions outside the screen mean
 * no cursor. Not thread-safe: one renderer per device, used under the
 * device's lock.
 */
#ifndef DISPLAY_TEXT_H
#define DISPLAY_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "display/console.h"

#define TEXT_MAX_COLS 256
#define TEXT_MAX_ROWS 128

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
	/* Cursor: CRTC cursor start/end scanline (0-31), position. */
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
 * Render s into c, whose surface is set to (cols * cell_width) x (rows * 16)
 * x8r8g8b8 if it is not that already (then every cell is drawn). Damage is
 * recorded for exactly the cells drawn; the caller flushes the console.
 * Returns the number of cells drawn, or -1 (bad screen, out of memory).
 */
int text_render(struct text_renderer *t, struct console *c,
		const struct text_screen *s);

/* Pixel size of a text screen: for callers and tests. */
static inline int text_surface_width(const struct text_screen *s)
{
	return s->cols * s->cell_width;
}

#endif
