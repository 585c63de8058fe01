// SPDX-License-Identifier: MIT
/*
 * Microbenchmark of one display refresh's damage computation: a KVM dirty
 * bitmap with every framebuffer page set -> candidate rectangles -> tile
 * comparison with the shadow (dirty_bitmap_to_region + dirty_tracker_refine),
 * at 32 bpp. "full": every pixel changed since the last refresh; "idle": the
 * guest rewrote every page with the same contents. CPU time of the calling
 * thread, median of RUNS runs, printed as
 *   BENCH refresh_full_1024x768_us <median>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "display/dirty.h"

#define RUNS 31

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One refresh; returns the number of changed tiles. */
static size_t refresh(struct dirty_tracker *t, const struct dirty_fb_geom *g,
		      const uint64_t *bitmap, size_t npages, const void *fb)
{
	pixman_region32_t r;
	size_t n;

	pixman_region32_init(&r);
	dirty_bitmap_to_region(bitmap, npages, g, &r);
	n = dirty_tracker_refine(t, fb, &r, &r);
	pixman_region32_fini(&r);
	return n;
}

static int bench(int w, int h)
{
	struct dirty_fb_geom g = { .width = w, .height = h, .bytespp = 4,
				   .stride = (size_t)w * 4 };
	size_t size = g.stride * (size_t)h;
	size_t npages = (size + DIRTY_PAGE_SIZE - 1) / DIRTY_PAGE_SIZE;
	uint64_t *bitmap = malloc((npages + 63) / 64 * 8);
	uint32_t *fb[2] = { malloc(size), malloc(size) };
	struct dirty_tracker *t = dirty_tracker_create(&g);
	uint64_t full[RUNS], idle[RUNS];
	size_t tiles = 0;

	if (!bitmap || !fb[0] || !fb[1] || !t) {
		fprintf(stderr, "bench_refresh: out of memory\n");
		return 1;
	}
	memset(bitmap, 0xff, (npages + 63) / 64 * 8);
	for (size_t i = 0; i < size / 4; i++) {
		fb[0][i] = (uint32_t)(i * 2654435761u);
		fb[1][i] = ~fb[0][i];
	}
	dirty_tracker_sync(t, fb[1]);
	for (int i = 0; i < RUNS; i++) {
		uint64_t t0 = cpu_ns();

		tiles = refresh(t, &g, bitmap, npages, fb[i & 1]);
		full[i] = cpu_ns() - t0;
	}
	if (tiles != (size_t)((w + DIRTY_TILE_W - 1) / DIRTY_TILE_W) *
		     (size_t)((h + DIRTY_TILE_H - 1) / DIRTY_TILE_H)) {
		fprintf(stderr, "bench_refresh: expected every tile to change\n");
		return 1;
	}
	for (int i = 0; i < RUNS; i++) {
		uint64_t t0 = cpu_ns();

		tiles = refresh(t, &g, bitmap, npages, fb[(RUNS - 1) & 1]);
		idle[i] = cpu_ns() - t0;
	}
	if (tiles) {
		fprintf(stderr, "bench_refresh: expected no change when idle\n");
		return 1;
	}
	qsort(full, RUNS, sizeof(full[0]), cmp_u64);
	qsort(idle, RUNS, sizeof(idle[0]), cmp_u64);
	printf("BENCH refresh_full_%dx%d_us %.1f\n", w, h, full[RUNS / 2] / 1000.0);
	printf("BENCH refresh_idle_alldirty_%dx%d_us %.1f\n", w, h,
	       idle[RUNS / 2] / 1000.0);
	dirty_tracker_destroy(t);
	free(fb[0]);
	free(fb[1]);
	free(bitmap);
	return 0;
}

int main(void)
{
	return bench(1024, 768) || bench(1920, 1080);
}
