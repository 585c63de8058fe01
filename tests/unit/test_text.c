// SPDX-License-Identifier: MIT
/* Text mode renderer: glyph pixels against the generated font, colours,
 * blink, cursor, 9-dot cells, and damage limited to changed cells; fonts
 * the device provides (two glyph sets, 1-32 lines, generation counter). */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "display/font.h"
#include "display/text.h"

static uint16_t cells[25 * 80];

struct damage_log {
	pixman_region32_t got;
	int nboxes;
};

static void on_damage(void *opaque, const pixman_box32_t *b)
{
	struct damage_log *d = opaque;

	pixman_region32_union_rect(&d->got, &d->got, b->x1, b->y1,
				   (unsigned)(b->x2 - b->x1),
				   (unsigned)(b->y2 - b->y1));
	d->nboxes++;
}

static void on_surface(void *opaque, struct console *c)
{
	(void)opaque;
	(void)c;
}

static void init_screen(struct text_screen *s)
{
	/* Arbitrary distinct test colours (not the VGA ones on purpose). */
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 16; i++)
		s->palette[i] = 0x010203u * (uint32_t)(i + 1) + 0x400000u * (uint32_t)(i & 1);
	s->cells = cells;
	s->cols = 80;
	s->rows = 25;
	s->stride = 80;
	s->cell_width = 8;
	s->blink_enabled = true;
	s->blink_on = true;
	s->cursor_start = 14;
	s->cursor_end = 15;
	for (int i = 0; i < 80 * 25; i++)
		cells[i] = 0x0720;
}

static uint32_t pixel(struct console *c, int x, int y)
{
	uint32_t v = 0xdeadbeef;

	console_read_pixels(c, x, y, 1, 1, PIXMAN_x8r8g8b8, &v, 4);
	return v & 0xffffff;
}

/* Every pixel of cell (col,row) as the font says, with the cursor rows. */
static int cell_mismatches(struct console *c, const struct text_screen *s,
			   int col, int row, uint8_t ch, uint32_t fg, uint32_t bg,
			   int cur_start, int cur_end)
{
	int bad = 0;

	for (int y = 0; y < 16; y++) {
		for (int x = 0; x < s->cell_width; x++) {
			bool on;
			uint32_t want;

			if (x < 8)
				on = vga_font_8x16[ch][y] & (0x80 >> x);
			else
				on = ch >= 0xc0 && ch <= 0xdf && s->line_graphics &&
				     (vga_font_8x16[ch][y] & 1);
			if (y >= cur_start && y <= cur_end)
				on = true;
			want = on ? fg : bg;
			if (pixel(c, col * s->cell_width + x, row * 16 + y) != want)
				bad++;
		}
	}
	return bad;
}

static bool damage_is(struct damage_log *d, int x, int y, int w, int h)
{
	pixman_region32_t e;
	bool eq;

	pixman_region32_init_rect(&e, x, y, (unsigned)w, (unsigned)h);
	eq = pixman_region32_equal(&e, &d->got);
	pixman_region32_fini(&e);
	return eq;
}

static void flush_reset(struct console *c, struct damage_log *d)
{
	console_flush(c);
	pixman_region32_clear(&d->got);
	d->nboxes = 0;
}

static void test_font(void)
{
	bool all_ff = true, blank = true, differ = false;

	/* CP437 0xDB is the full block, 0x20 and 0x00 are blank, the smileys
	 * at 0x01/0x02 differ, 'A' has pixels. */
	for (int y = 0; y < 16; y++) {
		all_ff &= vga_font_8x16[0xdb][y] == 0xff;
		blank &= !vga_font_8x16[0x20][y] && !vga_font_8x16[0][y];
		differ |= vga_font_8x16[1][y] != vga_font_8x16[2][y];
	}
	CHECK(all_ff);
	CHECK(blank);
	CHECK(differ);
	CHECK(vga_font_8x16['A'][5] != 0);
	/* Box drawing 0xC4 (─) is a horizontal line through the cell width. */
	{
		int full_rows = 0;

		for (int y = 0; y < 16; y++)
			full_rows += vga_font_8x16[0xc4][y] == 0xff;
		CHECK(full_rows >= 1);
	}
}

static void test_render(void)
{
	struct console *c = console_create("text");
	struct text_renderer *t = text_renderer_create();
	struct damage_log d;
	struct console_listener l = { .surface_changed = on_surface,
				      .damage = on_damage, .opaque = &d };
	struct text_screen s;
	int w, h;

	pixman_region32_init(&d.got);
	console_add_listener(c, &l);
	init_screen(&s);

	cells[2 * 80 + 3] = 0x1f00 | 'A';       /* white on blue */
	cells[0] = 0x4e00 | 0xdb;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	console_get_size(c, &w, &h);
	CHECK(w == 640 && h == 400);
	flush_reset(c, &d);
	CHECK_EQ_U64(cell_mismatches(c, &s, 3, 2, 'A', s.palette[15],
				     s.palette[1], 99, 0), 0);
	CHECK_EQ_U64(cell_mismatches(c, &s, 0, 0, 0xdb, s.palette[14],
				     s.palette[4], 99, 0), 0);
	CHECK_EQ_U64(cell_mismatches(c, &s, 50, 20, ' ', s.palette[7],
				     s.palette[0], 99, 0), 0);
	/* A wrong expectation is noticed (the check can fail). */
	CHECK(cell_mismatches(c, &s, 3, 2, 'B', s.palette[15], s.palette[1],
			      99, 0) > 0);

	/* Nothing changed: nothing drawn, no damage. */
	CHECK_EQ_U64(text_render(t, c, &s), 0);
	console_flush(c);
	CHECK_EQ_U64(d.nboxes, 0);

	/* One cell: drawn alone, damage exactly that cell. */
	cells[10 * 80 + 40] = 0x0200 | 'x';
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	console_flush(c);
	CHECK(damage_is(&d, 40 * 8, 10 * 16, 8, 16));
	CHECK_EQ_U64(cell_mismatches(c, &s, 40, 10, 'x', s.palette[2],
				     s.palette[0], 99, 0), 0);
	flush_reset(c, &d);

	/* Two neighbours and one far away. */
	cells[5 * 80 + 1] = 0x0731;
	cells[5 * 80 + 2] = 0x0732;
	cells[24 * 80 + 79] = 0x0733;
	CHECK_EQ_U64(text_render(t, c, &s), 3);
	console_flush(c);
	{
		pixman_region32_t want;

		pixman_region32_init_rect(&want, 8, 80, 16, 16);
		pixman_region32_union_rect(&want, &want, 632, 384, 8, 16);
		CHECK(pixman_region32_equal(&want, &d.got));
		pixman_region32_fini(&want);
	}
	flush_reset(c, &d);

	/* Blink: attribute bit 7 hides the foreground in the off phase and
	 * limits the background to 8 colours. */
	cells[7 * 80 + 7] = 0x9c00 | 'B';       /* blink, bg 1, fg 12 */
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	CHECK_EQ_U64(cell_mismatches(c, &s, 7, 7, 'B', s.palette[12],
				     s.palette[1], 99, 0), 0);
	s.blink_on = false;
	CHECK_EQ_U64(text_render(t, c, &s), 1);  /* only the blinking cell */
	CHECK_EQ_U64(cell_mismatches(c, &s, 7, 7, 'B', s.palette[1],
				     s.palette[1], 99, 0), 0);
	s.blink_on = true;
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	/* Blink disabled: bit 7 is the bright background bit. */
	s.blink_enabled = false;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	CHECK_EQ_U64(cell_mismatches(c, &s, 7, 7, 'B', s.palette[12],
				     s.palette[9], 99, 0), 0);
	s.blink_enabled = true;
	text_render(t, c, &s);
	flush_reset(c, &d);

	/* Cursor: lines start..end in the cell's foreground colour. */
	s.cursor_enabled = true;
	s.cursor_on = true;
	s.cursor_col = 3;
	s.cursor_row = 2;
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	console_flush(c);
	CHECK(damage_is(&d, 24, 32, 8, 16));
	flush_reset(c, &d);
	CHECK_EQ_U64(cell_mismatches(c, &s, 3, 2, 'A', s.palette[15],
				     s.palette[1], 14, 15), 0);
	/* Move it: old and new cells redrawn. */
	s.cursor_col = 4;
	CHECK_EQ_U64(text_render(t, c, &s), 2);
	CHECK_EQ_U64(cell_mismatches(c, &s, 3, 2, 'A', s.palette[15],
				     s.palette[1], 99, 0), 0);
	/* Block cursor; then its blink phase off. */
	s.cursor_start = 0;
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	CHECK_EQ_U64(cell_mismatches(c, &s, 4, 2, ' ', s.palette[7],
				     s.palette[0], 0, 15), 0);
	s.cursor_on = false;
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	CHECK_EQ_U64(cell_mismatches(c, &s, 4, 2, ' ', s.palette[7],
				     s.palette[0], 99, 0), 0);
	/* Hostile cursor values: start > end, off screen, huge lines. */
	s.cursor_on = true;
	s.cursor_start = 10;
	s.cursor_end = 3;
	CHECK_EQ_U64(text_render(t, c, &s), 0);
	s.cursor_start = 31;
	s.cursor_end = 31;
	CHECK_EQ_U64(text_render(t, c, &s), 0);
	s.cursor_start = 12;
	s.cursor_end = 31;      /* clamped to the cell */
	s.cursor_col = 79;
	s.cursor_row = 24;
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	CHECK_EQ_U64(cell_mismatches(c, &s, 79, 24, '3', s.palette[7],
				     s.palette[0], 12, 15), 0);
	s.cursor_col = 80;
	s.cursor_row = -1;
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	s.cursor_enabled = false;
	flush_reset(c, &d);

	/* Palette change: everything redrawn, with the new colours. */
	s.palette[1] = 0x00ff00;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	CHECK_EQ_U64(cell_mismatches(c, &s, 3, 2, 'A', s.palette[15], 0x00ff00,
				     99, 0), 0);
	console_flush(c);
	CHECK(damage_is(&d, 0, 0, 640, 400));
	flush_reset(c, &d);

	/* 9-dot cells: 720 wide; line graphics repeat the 8th column. */
	s.cell_width = 9;
	s.line_graphics = true;
	cells[1 * 80 + 1] = 0x07c4;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	console_get_size(c, &w, &h);
	CHECK(w == 720 && h == 400);
	CHECK_EQ_U64(cell_mismatches(c, &s, 1, 1, 0xc4, s.palette[7],
				     s.palette[0], 99, 0), 0);
	CHECK_EQ_U64(cell_mismatches(c, &s, 3, 2, 'A', s.palette[15],
				     s.palette[1], 99, 0), 0);

	/* Smaller screen with a stride (40x25 in an 80-cell-wide buffer). */
	s.cell_width = 8;
	s.cols = 40;
	CHECK_EQ_U64(text_render(t, c, &s), 40 * 25);
	console_get_size(c, &w, &h);
	CHECK(w == 320 && h == 400);
	CHECK_EQ_U64(cell_mismatches(c, &s, 3, 2, 'A', s.palette[15],
				     s.palette[1], 99, 0), 0);

	/* Invalid screens are refused without drawing. */
	s.stride = 39;
	CHECK(text_render(t, c, &s) < 0);
	s.stride = 80;
	s.cell_width = 7;
	CHECK(text_render(t, c, &s) < 0);
	s.cell_width = 8;
	s.rows = 0;
	CHECK(text_render(t, c, &s) < 0);
	s.rows = TEXT_MAX_ROWS + 1;
	CHECK(text_render(t, c, &s) < 0);
	s.rows = 25;
	s.cells = NULL;
	CHECK(text_render(t, c, &s) < 0);
	s.cells = cells;

	/* Invalidate: redraw everything once. */
	text_renderer_invalidate(t);
	CHECK_EQ_U64(text_render(t, c, &s), 40 * 25);
	CHECK_EQ_U64(text_render(t, c, &s), 0);

	console_remove_listener(c, &l);
	text_renderer_destroy(t);
	console_destroy(c);
	pixman_region32_fini(&d.got);
}

/* Pixels of 8-dot cell (col,row) of h-line cells: glyph (one byte a line)
 * in fg on bg, with cursor lines cs..ce solid. */
static int glyph_mismatches(struct console *c, int col, int row, int h,
			    const uint8_t *glyph, uint32_t fg, uint32_t bg,
			    int cs, int ce)
{
	int bad = 0;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < 8; x++) {
			bool on = (glyph[y] & (0x80 >> x)) || (y >= cs && y <= ce);

			bad += pixel(c, col * 8 + x, row * h + y) != (on ? fg : bg);
		}
	return bad;
}

/* Fonts from the device: two glyph sets picked by attribute bit 3, any
 * height up to 32 lines, redrawn on a generation or pointer change. */
static void test_device_font(void)
{
	static uint8_t font_a[TEXT_FONT_GLYPHS * TEXT_FONT_STRIDE];
	static uint8_t font_b[TEXT_FONT_GLYPHS * TEXT_FONT_STRIDE];
	struct console *c = console_create("text-font");
	struct text_renderer *t = text_renderer_create();
	struct console_listener l = { 0 };
	struct damage_log d;
	struct text_screen s;
	uint8_t builtin20[20] = { 0 };
	int w, h;

	pixman_region32_init(&d.got);
	l.damage = on_damage;
	l.surface_changed = on_surface;
	l.opaque = &d;
	CHECK(console_add_listener(c, &l) == 0);
	for (int i = 0; i < TEXT_FONT_GLYPHS * TEXT_FONT_STRIDE; i++) {
		font_a[i] = (uint8_t)(i * 37 + 1);
		font_b[i] = (uint8_t)~(i * 11);
	}
	init_screen(&s);
	s.cursor_enabled = false;
	cells[0] = 0x0741;              /* 'A', bit 3 clear: font[0] */
	cells[1] = 0x0F41;              /* 'A', bit 3 set: font[1] */
	cells[2] = 0x0742;
	s.font[0] = font_a;
	s.font[1] = font_b;
	s.char_height = 32;
	s.font_gen = 1;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	console_get_size(c, &w, &h);
	CHECK(w == 640 && h == 800);
	CHECK_EQ_U64(glyph_mismatches(c, 0, 0, 32, font_a + 'A' * 32,
				      s.palette[7], s.palette[0], 99, 0), 0);
	CHECK_EQ_U64(glyph_mismatches(c, 1, 0, 32, font_b + 'A' * 32,
				      s.palette[15], s.palette[0], 99, 0), 0);
	CHECK_EQ_U64(glyph_mismatches(c, 2, 0, 32, font_a + 'B' * 32,
				      s.palette[7], s.palette[0], 99, 0), 0);
	flush_reset(c, &d);

	/* Same generation: nothing; a new one (glyph bytes changed): all. */
	CHECK_EQ_U64(text_render(t, c, &s), 0);
	font_a['A' * 32] ^= 0xFF;
	CHECK_EQ_U64(text_render(t, c, &s), 0);     /* not told */
	s.font_gen++;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	console_flush(c);
	CHECK(damage_is(&d, 0, 0, 640, 800));
	CHECK_EQ_U64(glyph_mismatches(c, 0, 0, 32, font_a + 'A' * 32,
				      s.palette[7], s.palette[0], 99, 0), 0);
	flush_reset(c, &d);
	/* Another font (one 256-character font for both halves): all. */
	s.font[1] = font_a;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	CHECK_EQ_U64(glyph_mismatches(c, 1, 0, 32, font_a + 'A' * 32,
				      s.palette[15], s.palette[0], 99, 0), 0);

	/* 8-line cells: 200 lines for 25 rows; the cursor in cell lines,
	 * clipped to the cell, none when it starts below it. */
	s.char_height = 8;
	s.cursor_enabled = true;
	s.cursor_on = true;
	s.cursor_col = 2;
	s.cursor_row = 0;
	s.cursor_start = 6;
	s.cursor_end = 15;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	console_get_size(c, &w, &h);
	CHECK(w == 640 && h == 200);
	CHECK_EQ_U64(glyph_mismatches(c, 2, 0, 8, font_a + 'B' * 32,
				      s.palette[7], s.palette[0], 6, 7), 0);
	CHECK_EQ_U64(glyph_mismatches(c, 0, 1, 8, font_a + ' ' * 32,
				      s.palette[7], s.palette[0], 99, 0), 0);
	s.cursor_start = 8;
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	CHECK_EQ_U64(glyph_mismatches(c, 2, 0, 8, font_a + 'B' * 32,
				      s.palette[7], s.palette[0], 99, 0), 0);
	/* End 15 and end 7 are the same picture in an 8-line cell. */
	s.cursor_start = 6;
	CHECK_EQ_U64(text_render(t, c, &s), 1);
	s.cursor_end = 7;
	CHECK_EQ_U64(text_render(t, c, &s), 0);
	s.cursor_enabled = false;

	/* The built-in font (NULL) in 20-line cells: blank below line 16. */
	s.font[0] = s.font[1] = NULL;
	s.char_height = 20;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	memcpy(builtin20, vga_font_8x16['A'], 16);
	CHECK_EQ_U64(glyph_mismatches(c, 0, 0, 20, builtin20, s.palette[7],
				      s.palette[0], 99, 0), 0);
	/* Heights are clamped to 1-32; 0 means 16. */
	s.char_height = 1000;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	console_get_size(c, &w, &h);
	CHECK(w == 640 && h == 25 * 32);
	s.char_height = 0;
	CHECK_EQ_U64(text_render(t, c, &s), 80 * 25);
	console_get_size(c, &w, &h);
	CHECK(w == 640 && h == 400);
	CHECK_EQ_U64(cell_mismatches(c, &s, 0, 0, 'A', s.palette[7],
				     s.palette[0], 99, 0), 0);

	console_remove_listener(c, &l);
	text_renderer_destroy(t);
	console_destroy(c);
	pixman_region32_fini(&d.got);
}

int main(void)
{
	test_font();
	test_render();
	test_device_font();
	return check_summary("test_text");
}
