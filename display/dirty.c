// SPDX-License-Identifier: MIT
/*
 * Dirty pages -> candidate rectangles -> refined damage (see dirty.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "display/console.h"
#include "display/dirty.h"

struct dirty_tracker {
	struct dirty_fb_geom g;
	size_t row_bytes;       /* width * bytespp: the shadow's stride */
	uint8_t *shadow;
	int tiles_x, tiles_y;
	uint8_t *cand;          /* tiles_x * tiles_y: tile may have changed */
	uint16_t *ymin, *ymax;  /* per tile of the current band; ymin > ymax: unchanged */
	pixman_box32_t *boxes;  /* tiles_x * tiles_y */
};

static bool geom_ok(const struct dirty_fb_geom *g)
{
	return g->width > 0 && g->height > 0 && g->width <= CONSOLE_MAX_DIM &&
	       g->height <= CONSOLE_MAX_DIM && g->bytespp >= 1 &&
	       g->bytespp <= 4 &&
	       g->stride >= (size_t)g->width * (size_t)g->bytespp &&
	       g->stride <= (size_t)CONSOLE_MAX_DIM * 4 * 4;
}

/* Growable array of boxes. */
struct boxvec {
	pixman_box32_t *v;
	size_t n, cap;
	bool failed;
};

static void boxvec_add(struct boxvec *bv, int32_t x1, int32_t y1, int32_t x2,
		       int32_t y2)
{
	if (bv->n == bv->cap) {
		size_t cap = bv->cap ? bv->cap * 2 : 64;
		pixman_box32_t *v = realloc(bv->v, cap * sizeof(*v));

		if (!v) {
			bv->failed = true;
			return;
		}
		bv->v = v;
		bv->cap = cap;
	}
	bv->v[bv->n++] = (pixman_box32_t){ x1, y1, x2, y2 };
}

/* Columns [*xa, *xb) of bytes [a, b) of one scanline; false if none visible. */
static bool row_span(const struct dirty_fb_geom *g, size_t a, size_t b,
		     int32_t *xa, int32_t *xb)
{
	size_t x0 = a / (size_t)g->bytespp;
	size_t x1 = (b - 1) / (size_t)g->bytespp + 1;

	if (x0 >= (size_t)g->width)
		return false;   /* only the padding past the visible pixels */
	*xa = (int32_t)x0;
	*xb = (int32_t)(x1 > (size_t)g->width ? (size_t)g->width : x1);
	return true;
}

/*
 * Bytes [a, b) relative to the framebuffer start, a < b, as rectangles: the
 * covered part of the first scanline, whole scanlines in between, the
 * covered part of the last one.
 */
static void bytes_to_boxes(const struct dirty_fb_geom *g, size_t a, size_t b,
			   struct boxvec *bv)
{
	size_t ya = a / g->stride, yb = (b - 1) / g->stride;
	size_t last_end = b - yb * g->stride;
	int32_t xa, xb;

	if (ya >= (size_t)g->height)
		return;
	if (yb >= (size_t)g->height) {
		yb = (size_t)g->height - 1;
		last_end = g->stride;
	}
	if (ya == yb) {
		if (row_span(g, a - ya * g->stride, last_end, &xa, &xb))
			boxvec_add(bv, xa, (int32_t)ya, xb, (int32_t)ya + 1);
		return;
	}
	if (row_span(g, a - ya * g->stride, g->stride, &xa, &xb))
		boxvec_add(bv, xa, (int32_t)ya, xb, (int32_t)ya + 1);
	if (yb > ya + 1)
		boxvec_add(bv, 0, (int32_t)ya + 1, g->width, (int32_t)yb);
	if (row_span(g, 0, last_end, &xa, &xb))
		boxvec_add(bv, xa, (int32_t)yb, xb, (int32_t)yb + 1);
}

static void region_from_boxes(pixman_region32_t *out, struct boxvec *bv,
			      const struct dirty_fb_geom *g)
{
	pixman_region32_fini(out);
	if (bv->failed) {
		/* Out of memory: say everything changed rather than nothing. */
		pixman_region32_init_rect(out, 0, 0, (unsigned)g->width,
					  (unsigned)g->height);
	} else if (!pixman_region32_init_rects(out, bv->v, (int)bv->n)) {
		pixman_region32_init_rect(out, 0, 0, (unsigned)g->width,
					  (unsigned)g->height);
	}
	free(bv->v);
}

size_t dirty_bitmap_to_region(const uint64_t *bitmap, size_t npages,
			      const struct dirty_fb_geom *g,
			      pixman_region32_t *out)
{
	struct boxvec bv = { 0 };
	size_t fb_end, first, last, count = 0;

	if (!geom_ok(g)) {
		pixman_region32_clear(out);
		return 0;
	}
	fb_end = g->fb_offset + g->stride * (size_t)(g->height - 1) +
		 (size_t)g->width * (size_t)g->bytespp;
	first = g->fb_offset / DIRTY_PAGE_SIZE;
	last = (fb_end - 1) / DIRTY_PAGE_SIZE + 1;     /* exclusive */
	if (last > npages)
		last = npages;

	for (size_t p = first; p < last;) {
		uint64_t word = bitmap[p / 64] >> (p % 64);
		size_t run_start, run_end, a, b;

		if (!word) {
			p = (p / 64 + 1) * 64;      /* skip to the next word */
			continue;
		}
		p += (size_t)__builtin_ctzll(word);
		if (p >= last)
			break;
		/* Find the end of this run of set bits. */
		run_start = p;
		while (p < last && (bitmap[p / 64] >> (p % 64)) & 1) {
			uint64_t inv = ~(bitmap[p / 64] >> (p % 64));

			/* inv != 0 unless every remaining bit of the word is set. */
			p += inv ? (size_t)__builtin_ctzll(inv) : 64 - p % 64;
		}
		run_end = p < last ? p : last;
		count += run_end - run_start;
		a = run_start * DIRTY_PAGE_SIZE;
		b = run_end * DIRTY_PAGE_SIZE;
		a = a < g->fb_offset ? 0 : a - g->fb_offset;
		b = (b > fb_end ? fb_end : b) - g->fb_offset;
		bytes_to_boxes(g, a, b, &bv);
	}
	region_from_boxes(out, &bv, g);
	return count;
}

struct dirty_tracker *dirty_tracker_create(const struct dirty_fb_geom *g)
{
	struct dirty_tracker *t;
	size_t ntiles;

	if (!geom_ok(g))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->g = *g;
	t->row_bytes = (size_t)g->width * (size_t)g->bytespp;
	t->tiles_x = (g->width + DIRTY_TILE_W - 1) / DIRTY_TILE_W;
	t->tiles_y = (g->height + DIRTY_TILE_H - 1) / DIRTY_TILE_H;
	ntiles = (size_t)t->tiles_x * (size_t)t->tiles_y;
	t->shadow = calloc((size_t)g->height, t->row_bytes);
	t->cand = calloc(ntiles, 1);
	t->ymin = calloc((size_t)t->tiles_x, sizeof(*t->ymin));
	t->ymax = calloc((size_t)t->tiles_x, sizeof(*t->ymax));
	t->boxes = calloc(ntiles, sizeof(*t->boxes));
	if (!t->shadow || !t->cand || !t->ymin || !t->ymax || !t->boxes) {
		dirty_tracker_destroy(t);
		return NULL;
	}
	return t;
}

void dirty_tracker_destroy(struct dirty_tracker *t)
{
	if (!t)
		return;
	free(t->shadow);
	free(t->cand);
	free(t->ymin);
	free(t->ymax);
	free(t->boxes);
	free(t);
}

void dirty_tracker_sync(struct dirty_tracker *t, const void *fb)
{
	const uint8_t *src = fb;

	for (int y = 0; y < t->g.height; y++)
		memcpy(t->shadow + (size_t)y * t->row_bytes,
		       src + (size_t)y * t->g.stride, t->row_bytes);
}

/* Mark the tiles that candidate rectangles touch; false if none. */
static bool mark_candidates(struct dirty_tracker *t, pixman_region32_t *cand)
{
	pixman_box32_t *r;
	int n;
	bool any = false;

	memset(t->cand, 0, (size_t)t->tiles_x * (size_t)t->tiles_y);
	r = pixman_region32_rectangles(cand, &n);
	for (int i = 0; i < n; i++) {
		int32_t x1 = r[i].x1 < 0 ? 0 : r[i].x1;
		int32_t y1 = r[i].y1 < 0 ? 0 : r[i].y1;
		int32_t x2 = r[i].x2 > t->g.width ? t->g.width : r[i].x2;
		int32_t y2 = r[i].y2 > t->g.height ? t->g.height : r[i].y2;

		if (x1 >= x2 || y1 >= y2)
			continue;
		for (int ty = y1 / DIRTY_TILE_H; ty <= (y2 - 1) / DIRTY_TILE_H; ty++)
			memset(t->cand + (size_t)ty * (size_t)t->tiles_x +
				       x1 / DIRTY_TILE_W,
			       1, (size_t)((x2 - 1) / DIRTY_TILE_W - x1 / DIRTY_TILE_W + 1));
		any = true;
	}
	return any;
}

/* Compare one scanline's candidate tiles of band ty; update the shadow. */
static size_t compare_row(struct dirty_tracker *t, const uint8_t *frow,
			  uint8_t *srow, const uint8_t *cand, int y)
{
	size_t tile_bytes = (size_t)DIRTY_TILE_W * (size_t)t->g.bytespp;
	size_t changed = 0;

	for (int tx = 0; tx < t->tiles_x;) {
		int run_end;
		size_t off, len;

		if (!cand[tx]) {
			tx++;
			continue;
		}
		for (run_end = tx; run_end < t->tiles_x && cand[run_end]; run_end++)
			;
		off = (size_t)tx * tile_bytes;
		len = (size_t)run_end * tile_bytes;
		if (len > t->row_bytes)
			len = t->row_bytes;
		len -= off;
		/* One long compare first: an unchanged run is the common case. */
		if (memcmp(frow + off, srow + off, len)) {
			for (int i = tx; i < run_end; i++, off += tile_bytes) {
				size_t n = t->row_bytes - off < tile_bytes ?
					   t->row_bytes - off : tile_bytes;

				if (!memcmp(frow + off, srow + off, n))
					continue;
				memcpy(srow + off, frow + off, n);
				if (t->ymin[i] > t->ymax[i]) {
					t->ymin[i] = (uint16_t)y;
					changed++;
				}
				t->ymax[i] = (uint16_t)y;
			}
		}
		tx = run_end;
	}
	return changed;
}

/* Boxes for the changed tiles of one band; neighbours with equal rows merge. */
static size_t emit_band(struct dirty_tracker *t, size_t nboxes)
{
	for (int tx = 0; tx < t->tiles_x; tx++) {
		int32_t x1, x2, ylo = t->ymin[tx], yhi = t->ymax[tx];
		int end = tx + 1;

		if (ylo > yhi)
			continue;
		while (end < t->tiles_x && t->ymin[end] == ylo &&
		       t->ymax[end] == yhi)
			end++;
		x1 = tx * DIRTY_TILE_W;
		x2 = end * DIRTY_TILE_W;
		if (x2 > t->g.width)
			x2 = t->g.width;
		t->boxes[nboxes++] = (pixman_box32_t){ x1, ylo, x2, yhi + 1 };
		tx = end - 1;
	}
	return nboxes;
}

size_t dirty_tracker_refine(struct dirty_tracker *t, const void *fb,
			    pixman_region32_t *candidates,
			    pixman_region32_t *out)
{
	const uint8_t *base = fb;
	size_t changed = 0, nboxes = 0;

	if (!mark_candidates(t, candidates)) {
		pixman_region32_clear(out);
		return 0;
	}
	for (int ty = 0; ty < t->tiles_y; ty++) {
		const uint8_t *cand = t->cand + (size_t)ty * (size_t)t->tiles_x;
		int y0 = ty * DIRTY_TILE_H;
		int y1 = y0 + DIRTY_TILE_H > t->g.height ? t->g.height :
							    y0 + DIRTY_TILE_H;

		if (!memchr(cand, 1, (size_t)t->tiles_x))
			continue;
		for (int i = 0; i < t->tiles_x; i++) {
			t->ymin[i] = UINT16_MAX;
			t->ymax[i] = 0;
		}
		for (int y = y0; y < y1; y++)
			changed += compare_row(t, base + (size_t)y * t->g.stride,
					       t->shadow + (size_t)y * t->row_bytes,
					       cand, y);
		nboxes = emit_band(t, nboxes);
	}
	pixman_region32_fini(out);
	if (!pixman_region32_init_rects(out, t->boxes, (int)nboxes))
		pixman_region32_init_rect(out, 0, 0, (unsigned)t->g.width,
					  (unsigned)t->g.height);
	return changed;
}
