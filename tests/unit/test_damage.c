// SPDX-License-Identifier: MIT
/* Dirty bitmap -> rectangles, and tile refinement against the shadow. */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "display/dirty.h"

static uint64_t bitmap[1024];

static void set_page(size_t p)
{
	bitmap[p / 64] |= 1ull << (p % 64);
}

static void clear_bitmap(void)
{
	memset(bitmap, 0, sizeof(bitmap));
}

static bool region_is_rect(pixman_region32_t *r, int x, int y, int w, int h)
{
	pixman_region32_t e;
	bool eq;

	pixman_region32_init_rect(&e, x, y, (unsigned)w, (unsigned)h);
	eq = pixman_region32_equal(&e, r);
	pixman_region32_fini(&e);
	return eq;
}

static void test_bitmap_one_page_per_line(void)
{
	/* 1024x768x4: each 4 KiB page is exactly one scanline. */
	struct dirty_fb_geom g = { 1024, 768, 4, 4096, 0 };
	pixman_region32_t r;

	pixman_region32_init(&r);
	clear_bitmap();
	CHECK_EQ_U64(dirty_bitmap_to_region(bitmap, 768, &g, &r), 0);
	CHECK(!pixman_region32_not_empty(&r));

	set_page(5);
	CHECK_EQ_U64(dirty_bitmap_to_region(bitmap, 768, &g, &r), 1);
	CHECK(region_is_rect(&r, 0, 5, 1024, 1));

	set_page(10);
	set_page(11);
	set_page(12);
	CHECK_EQ_U64(dirty_bitmap_to_region(bitmap, 768, &g, &r), 4);
	CHECK_EQ_U64(pixman_region32_n_rects(&r), 2);
	{
		pixman_region32_t want;

		pixman_region32_init_rect(&want, 0, 5, 1024, 1);
		pixman_region32_union_rect(&want, &want, 0, 10, 1024, 3);
		CHECK(pixman_region32_equal(&want, &r));
		pixman_region32_fini(&want);
	}

	/* Runs crossing 64-bit words, all pages, bits past the end. */
	clear_bitmap();
	for (size_t p = 60; p < 70; p++)
		set_page(p);
	CHECK_EQ_U64(dirty_bitmap_to_region(bitmap, 768, &g, &r), 10);
	CHECK(region_is_rect(&r, 0, 60, 1024, 10));
	memset(bitmap, 0xff, sizeof(bitmap));
	CHECK_EQ_U64(dirty_bitmap_to_region(bitmap, 768, &g, &r), 768);
	CHECK(region_is_rect(&r, 0, 0, 1024, 768));
	/* npages smaller than the framebuffer: only those pages count. */
	CHECK_EQ_U64(dirty_bitmap_to_region(bitmap, 100, &g, &r), 100);
	CHECK(region_is_rect(&r, 0, 0, 1024, 100));
	pixman_region32_fini(&r);
}

static void test_bitmap_partial_lines(void)
{
	/* 1920x1080x4, stride 7680: pages cover parts of scanlines. */
	struct dirty_fb_geom g = { 1920, 1080, 4, 7680, 0 };
	pixman_region32_t r;

	pixman_region32_init(&r);
	clear_bitmap();
	set_page(0);            /* bytes 0..4095: row 0, x 0..1023 */
	dirty_bitmap_to_region(bitmap, 1024, &g, &r);
	CHECK(region_is_rect(&r, 0, 0, 1024, 1));
	clear_bitmap();
	set_page(1);            /* bytes 4096..8191: end of row 0, start of row 1 */
	dirty_bitmap_to_region(bitmap, 1024, &g, &r);
	{
		pixman_region32_t want;

		pixman_region32_init_rect(&want, 1024, 0, 896, 1);
		pixman_region32_union_rect(&want, &want, 0, 1, 128, 1);
		CHECK(pixman_region32_equal(&want, &r));
		/* pages 1-4 (bytes 4096..20479): rows 0 (part), 1, 2 (part) */
		set_page(2);
		set_page(3);
		set_page(4);
		dirty_bitmap_to_region(bitmap, 1024, &g, &r);
		pixman_region32_fini(&want);
		pixman_region32_init_rect(&want, 1024, 0, 896, 1);
		pixman_region32_union_rect(&want, &want, 0, 1, 1920, 1);
		pixman_region32_union_rect(&want, &want, 0, 2, 5120 / 4, 1);
		CHECK(pixman_region32_equal(&want, &r));
		pixman_region32_fini(&want);
	}
	/* The last page of the framebuffer ends with the last pixel. */
	clear_bitmap();
	set_page(1080 * 7680 / 4096 - 1);
	dirty_bitmap_to_region(bitmap, 4096, &g, &r);
	CHECK_EQ_U64(pixman_region32_extents(&r)->y2, 1080);
	CHECK_EQ_U64(pixman_region32_extents(&r)->x2, 1920);
	pixman_region32_fini(&r);

	/* Framebuffer at an offset: pages before it are ignored. */
	{
		struct dirty_fb_geom go = { 1024, 768, 4, 4096, 8192 };

		pixman_region32_init(&r);
		clear_bitmap();
		set_page(0);
		set_page(1);
		CHECK_EQ_U64(dirty_bitmap_to_region(bitmap, 1024, &go, &r), 0);
		CHECK(!pixman_region32_not_empty(&r));
		set_page(2);
		dirty_bitmap_to_region(bitmap, 1024, &go, &r);
		CHECK(region_is_rect(&r, 0, 0, 1024, 1));
		clear_bitmap();
		set_page(2 + 768);      /* just past the framebuffer */
		CHECK_EQ_U64(dirty_bitmap_to_region(bitmap, 1024, &go, &r), 0);
		pixman_region32_fini(&r);
	}

	/* A page touching only the padding past the visible pixels. */
	{
		struct dirty_fb_geom gp = { 16, 4, 4, 8192, 0 };

		pixman_region32_init(&r);
		clear_bitmap();
		set_page(1);
		dirty_bitmap_to_region(bitmap, 1024, &gp, &r);
		CHECK(!pixman_region32_not_empty(&r));
		set_page(2);
		dirty_bitmap_to_region(bitmap, 1024, &gp, &r);
		CHECK(region_is_rect(&r, 0, 1, 16, 1));
		pixman_region32_fini(&r);
	}

	/* Bad geometry: nothing, no crash. */
	{
		struct dirty_fb_geom gb = { 16, 4, 4, 8, 0 };

		pixman_region32_init_rect(&r, 0, 0, 5, 5);
		memset(bitmap, 0xff, sizeof(bitmap));
		CHECK_EQ_U64(dirty_bitmap_to_region(bitmap, 1024, &gb, &r), 0);
		CHECK(!pixman_region32_not_empty(&r));
		CHECK(dirty_tracker_create(&gb) == NULL);
		pixman_region32_fini(&r);
	}
}

static void test_refine(void)
{
	struct dirty_fb_geom g = { 1024, 768, 4, 4096, 0 };
	uint32_t *fb = calloc(1024 * 768, 4);
	struct dirty_tracker *t = dirty_tracker_create(&g);
	pixman_region32_t cand, out;
	pixman_box32_t *e;

	for (int i = 0; i < 1024 * 768; i++)
		fb[i] = (uint32_t)i * 2654435761u;
	dirty_tracker_sync(t, fb);
	pixman_region32_init_rect(&cand, 0, 0, 1024, 768);
	pixman_region32_init(&out);

	/* Idle: everything rewritten with the same values -> no damage. */
	CHECK_EQ_U64(dirty_tracker_refine(t, fb, &cand, &out), 0);
	CHECK(!pixman_region32_not_empty(&out));

	/* One pixel: damage covers it and is much smaller than a 64x64 tile. */
	fb[200 * 1024 + 100] ^= 1;
	CHECK_EQ_U64(dirty_tracker_refine(t, fb, &cand, &out), 1);
	CHECK(pixman_region32_contains_point(&out, 100, 200, NULL));
	e = pixman_region32_extents(&out);
	CHECK((e->x2 - e->x1) * (e->y2 - e->y1) < 64 * 64);
	CHECK((e->x2 - e->x1) <= DIRTY_TILE_W && (e->y2 - e->y1) <= DIRTY_TILE_H);
	/* The shadow was updated: the next refresh sees nothing. */
	CHECK_EQ_U64(dirty_tracker_refine(t, fb, &cand, &out), 0);
	CHECK(!pixman_region32_not_empty(&out));

	/* Two changes in one band, far apart: separate small rectangles. */
	fb[3 * 1024 + 5] ^= 1;
	fb[3 * 1024 + 1000] ^= 1;
	CHECK_EQ_U64(dirty_tracker_refine(t, fb, &cand, &out), 2);
	CHECK_EQ_U64(pixman_region32_n_rects(&out), 2);
	CHECK(pixman_region32_contains_point(&out, 5, 3, NULL));
	CHECK(pixman_region32_contains_point(&out, 1000, 3, NULL));
	CHECK(!pixman_region32_contains_point(&out, 500, 3, NULL));

	/* A change outside the candidates is not looked at (yet). */
	fb[700 * 1024 + 700] ^= 1;
	{
		pixman_region32_t small;

		pixman_region32_init_rect(&small, 0, 0, 64, 64);
		CHECK_EQ_U64(dirty_tracker_refine(t, fb, &small, &out), 0);
		pixman_region32_fini(&small);
	}
	CHECK_EQ_U64(dirty_tracker_refine(t, fb, &cand, &out), 1);
	CHECK(pixman_region32_contains_point(&out, 700, 700, NULL));

	/* Full change: the whole screen, in few rectangles; out may alias
	 * the candidates. */
	for (int i = 0; i < 1024 * 768; i++)
		fb[i] = ~fb[i];
	{
		pixman_region32_t all;

		pixman_region32_init_rect(&all, 0, 0, 1024, 768);
		CHECK_EQ_U64(dirty_tracker_refine(t, fb, &all, &all),
			     (1024 / DIRTY_TILE_W) * (768 / DIRTY_TILE_H));
		CHECK(region_is_rect(&all, 0, 0, 1024, 768));
		CHECK(pixman_region32_n_rects(&all) <= 1);
		pixman_region32_fini(&all);
	}

	/* Through the bitmap: the guest rewrote one page (row 40), changing a
	 * single pixel in it. */
	fb[40 * 1024 + 333] += 7;
	clear_bitmap();
	set_page(40);
	dirty_bitmap_to_region(bitmap, 768, &g, &cand);
	dirty_tracker_refine(t, fb, &cand, &out);
	CHECK(region_is_rect(&out, 320, 40, 16, 1));

	pixman_region32_fini(&cand);
	pixman_region32_fini(&out);
	dirty_tracker_destroy(t);
	free(fb);
}

static void test_refine_16bpp_odd_size(void)
{
	/* r5g6b5, a width that is not a tile multiple, padded stride. */
	struct dirty_fb_geom g = { 100, 37, 2, 256, 0 };
	uint8_t *fb = calloc(37, 256);
	struct dirty_tracker *t = dirty_tracker_create(&g);
	pixman_region32_t cand, out;

	pixman_region32_init_rect(&cand, 0, 0, 100, 37);
	pixman_region32_init(&out);
	/* Fresh tracker, zero shadow, zero fb: nothing. */
	CHECK_EQ_U64(dirty_tracker_refine(t, fb, &cand, &out), 0);
	/* Padding bytes are not pixels. */
	fb[10 * 256 + 220] = 1;
	CHECK_EQ_U64(dirty_tracker_refine(t, fb, &cand, &out), 0);
	/* Last pixel of the last row. */
	fb[36 * 256 + 99 * 2 + 1] = 0xff;
	CHECK_EQ_U64(dirty_tracker_refine(t, fb, &cand, &out), 1);
	CHECK(region_is_rect(&out, 96, 36, 4, 1));
	/* Candidates beyond the framebuffer are clipped. */
	pixman_region32_fini(&cand);
	pixman_region32_init_rect(&cand, -50, -50, 1000, 1000);
	fb[0] = 9;
	CHECK_EQ_U64(dirty_tracker_refine(t, fb, &cand, &out), 1);
	CHECK(region_is_rect(&out, 0, 0, 16, 1));
	pixman_region32_fini(&cand);
	pixman_region32_fini(&out);
	dirty_tracker_destroy(t);
	free(fb);
}

int main(void)
{
	test_bitmap_one_page_per_line();
	test_bitmap_partial_lines();
	test_refine();
	test_refine_16bpp_odd_size();
	return check_summary("test_damage");
}
