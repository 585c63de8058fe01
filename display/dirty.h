/* SPDX-License-Identifier: MIT */
/*
 * Damage from dirty pages. A framebuffer living in a KVM memory slot with
 * dirty logging gives, per refresh, a bitmap with one bit per 4 KiB page.
 * dirty_bitmap_to_region() turns it into rectangles of the framebuffer
 * (conservative: whole scanlines, or the part of one scanline a page
 * covers); dirty_tracker_refine() then compares those areas tile by tile
 * with a shadow copy, so that only pixels that really changed become damage
 * (the guest rewriting a page with the same contents, or one pixel changing
 * in a page that spans several scanlines, costs a few bytes of damage, not
 * the whole page's scanlines), and updates the shadow.
 *
 * No locking: a tracker belongs to one producer, which serialises its use.
 * The framebuffer may be written by the guest concurrently; a torn read
 * only means the page is dirty again in the next log and is compared again.
 */
#ifndef DISPLAY_DIRTY_H
#define DISPLAY_DIRTY_H

#include <pixman.h>
#include <stddef.h>
#include <stdint.h>

#define DIRTY_PAGE_SIZE 4096u

/* Tiles compared with the shadow: a changed pixel damages at most this. */
#define DIRTY_TILE_W 16
#define DIRTY_TILE_H 16

/*
 * The framebuffer geometry: width x height pixels of bytespp (1..4) bytes,
 * stride bytes a row, starting at byte fb_offset of the memory the bitmap
 * describes. The caller has checked that fb_offset + stride * height lies
 * inside that memory.
 */
struct dirty_fb_geom {
	int width, height;
	int bytespp;
	size_t stride;
	size_t fb_offset;
};

/*
 * bitmap: npages bits, bit (i % 64) of word i / 64 for page i (the layout
 * of KVM_GET_DIRTY_LOG on a little-endian 64-bit host). Replaces out with
 * the areas of the framebuffer touched by dirty pages. Bits of pages outside
 * the framebuffer are ignored. Returns the number of dirty pages that
 * overlap the framebuffer.
 */
size_t dirty_bitmap_to_region(const uint64_t *bitmap, size_t npages,
			      const struct dirty_fb_geom *g,
			      pixman_region32_t *out);

struct dirty_tracker;

/* A tracker with a zeroed shadow; NULL on bad geometry or no memory. */
struct dirty_tracker *dirty_tracker_create(const struct dirty_fb_geom *g);
void dirty_tracker_destroy(struct dirty_tracker *t);
/* Copy the whole framebuffer into the shadow (after a full update). */
void dirty_tracker_sync(struct dirty_tracker *t, const void *fb);

/*
 * Compare the candidate areas (framebuffer coordinates, e.g. from
 * dirty_bitmap_to_region()) of fb, which points at the first pixel, with the
 * shadow; copy what changed into the shadow and replace out with the
 * changed area: per 16x16 tile, the tile's columns times the scanlines that
 * changed in it. out may be candidates. Returns the number of changed tiles.
 */
size_t dirty_tracker_refine(struct dirty_tracker *t, const void *fb,
			    pixman_region32_t *candidates,
			    pixman_region32_t *out);

#endif
