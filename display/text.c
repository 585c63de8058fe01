// SPDX-License-Identifier: MIT
/*
 * VGA text mode renderer (see text.h).
 *
 * Every visible cell has a 32-bit "key" holding everything that decides its
 * pixels besides the palette and the font: the cell value, whether its
 * blinking foreground is hidden in this phase, and the cursor lines drawn
 * over it. A cell is redrawn when its key differs from the one drawn last
 * time; palette, blink mode, font (pointers, height, generation), geometry
 * or surface changes redraw everything.
 */
#include <stdlib.h>
#include <string.h>

#include "display/font.h"
#include "display/text.h"

#define KEY_HIDDEN      (1u << 16)
#define KEY_CURSOR      (1u << 17)
#define KEY_CSTART(s)   ((uint32_t)(s) << 18)   /* 5 bits */
#define KEY_CEND(e)     ((uint32_t)(e) << 23)   /* 5 bits */

struct text_renderer {
	uint32_t *keys;         /* cols * rows, as drawn last */
	int cols, rows, cell_width, char_height;
	bool line_graphics, blink_enabled;
	uint32_t palette[16];
	const uint8_t *font[2];
	uint64_t font_gen;
	bool valid;             /* keys, palette, font describe the surface */
};

struct text_renderer *text_renderer_create(void)
{
	return calloc(1, sizeof(struct text_renderer));
}

void text_renderer_destroy(struct text_renderer *t)
{
	if (!t)
		return;
	free(t->keys);
	free(t);
}

void text_renderer_invalidate(struct text_renderer *t)
{
	t->valid = false;
}

static bool screen_ok(const struct text_screen *s)
{
	return s->cells && s->cols > 0 && s->rows > 0 &&
	       s->cols <= TEXT_MAX_COLS && s->rows <= TEXT_MAX_ROWS &&
	       s->stride >= s->cols &&
	       (s->cell_width == 8 || s->cell_width == 9);
}

static uint32_t cell_key(const struct text_screen *s, int col, int row,
			 int char_h)
{
	uint16_t cell = s->cells[(size_t)row * (size_t)s->stride + (size_t)col];
	uint32_t key = cell;
	int start = s->cursor_start & 31, end = s->cursor_end & 31;

	if (s->blink_enabled && (cell & 0x8000) && !s->blink_on)
		key |= KEY_HIDDEN;
	if (s->cursor_enabled && s->cursor_on && col == s->cursor_col &&
	    row == s->cursor_row && start <= end && start < char_h) {
		if (end >= char_h)
			end = char_h - 1;
		key |= KEY_CURSOR | KEY_CSTART(start) | KEY_CEND(end);
	}
	return key;
}

static void draw_cell(const struct text_renderer *t, uint8_t *base,
		      size_t stride, int col, int row, uint32_t key)
{
	uint8_t ch = key & 0xff, attr = (key >> 8) & 0xff;
	uint32_t fg = t->palette[attr & 0x0f];
	uint32_t bg = t->palette[t->blink_enabled ? (attr >> 4) & 0x07 : attr >> 4];
	int cstart = (key >> 18) & 31, cend = (key >> 23) & 31;
	bool ninth_repeats = t->line_graphics && ch >= 0xc0 && ch <= 0xdf;
	const uint8_t *font = t->font[(attr >> 3) & 1];
	int h = t->char_height, glyph_h = h;
	const uint8_t *glyph;
	uint32_t *px;

	/* The built-in font (no font given) is blank below its 16 lines. */
	if (font) {
		glyph = font + (size_t)ch * TEXT_FONT_STRIDE;
	} else {
		glyph = vga_font_8x16[ch];
		if (glyph_h > VGA_FONT_HEIGHT)
			glyph_h = VGA_FONT_HEIGHT;
	}
	if (key & KEY_HIDDEN)
		fg = bg;
	for (int line = 0; line < h; line++) {
		unsigned bits = line < glyph_h ? glyph[line] : 0;
		bool ninth;

		if ((key & KEY_CURSOR) && line >= cstart && line <= cend)
			bits = 0xff;
		px = (uint32_t *)(base + ((size_t)row * (size_t)h + (size_t)line) * stride) +
		     (size_t)col * (size_t)t->cell_width;
		for (int x = 0; x < 8; x++)
			px[x] = (bits & (0x80u >> x)) ? fg : bg;
		if (t->cell_width == 9) {
			ninth = ((key & KEY_CURSOR) && line >= cstart && line <= cend) ||
				(ninth_repeats && (bits & 1));
			px[8] = ninth ? fg : bg;
		}
	}
}

/* Make the renderer's bookkeeping match s; false on out of memory. */
static bool setup(struct text_renderer *t, const struct text_screen *s)
{
	int char_h = text_char_height(s);

	if (t->cols != s->cols || t->rows != s->rows || !t->keys) {
		uint32_t *keys = calloc((size_t)s->cols * (size_t)s->rows,
					sizeof(*keys));

		if (!keys)
			return false;
		free(t->keys);
		t->keys = keys;
		t->cols = s->cols;
		t->rows = s->rows;
		t->valid = false;
	}
	if (t->cell_width != s->cell_width ||
	    t->line_graphics != s->line_graphics ||
	    t->blink_enabled != s->blink_enabled ||
	    memcmp(t->palette, s->palette, sizeof(t->palette)) ||
	    t->char_height != char_h || t->font[0] != s->font[0] ||
	    t->font[1] != s->font[1] || t->font_gen != s->font_gen)
		t->valid = false;
	t->cell_width = s->cell_width;
	t->line_graphics = s->line_graphics;
	t->blink_enabled = s->blink_enabled;
	memcpy(t->palette, s->palette, sizeof(t->palette));
	t->char_height = char_h;
	t->font[0] = s->font[0];
	t->font[1] = s->font[1];
	t->font_gen = s->font_gen;
	return true;
}

static bool surface_matches(pixman_image_t *img, int w, int h)
{
	return img && pixman_image_get_width(img) == w &&
	       pixman_image_get_height(img) == h &&
	       pixman_image_get_format(img) == PIXMAN_x8r8g8b8;
}

int text_render(struct text_renderer *t, struct console *c,
		const struct text_screen *s)
{
	int w, h, char_h, drawn = 0;
	pixman_image_t *img;
	uint8_t *base;
	size_t stride;

	if (!screen_ok(s) || !setup(t, s))
		return -1;
	char_h = t->char_height;
	w = text_surface_width(s);
	h = text_surface_height(s);
	img = console_lock(c);
	if (!surface_matches(img, w, h)) {
		console_unlock(c);
		if (console_set_surface(c, w, h, PIXMAN_x8r8g8b8) < 0)
			return -1;
		t->valid = false;
		img = console_lock(c);
		if (!surface_matches(img, w, h)) {
			console_unlock(c);
			return -1;
		}
	}
	base = (uint8_t *)pixman_image_get_data(img);
	stride = (size_t)pixman_image_get_stride(img);
	for (int row = 0; row < s->rows; row++) {
		int run = -1;   /* first column of the current run of redrawn cells */

		for (int col = 0; col <= s->cols; col++) {
			uint32_t *kp = NULL;
			uint32_t key = 0;

			if (col < s->cols) {
				kp = &t->keys[(size_t)row * (size_t)s->cols + (size_t)col];
				key = cell_key(s, col, row, char_h);
				if (t->valid && *kp == key)
					kp = NULL;
			}
			if (kp) {
				draw_cell(t, base, stride, col, row, key);
				*kp = key;
				drawn++;
				if (run < 0)
					run = col;
			} else if (run >= 0) {
				console_damage_locked(c, run * s->cell_width,
						      row * char_h,
						      (col - run) * s->cell_width,
						      char_h);
				run = -1;
			}
		}
	}
	t->valid = true;
	console_unlock(c);
	return drawn;
}
