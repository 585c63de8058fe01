/* SPDX-License-Identifier: MIT */
/*
 * pngstat: pixel statistics of a PNG, for tests that check screendumps
 * where only busybox is available (the Linux tier's L1 machine).
 *
 *   pngstat FILE [X Y W H]
 *
 * Prints one line of KEY=VALUE words about the rectangle (default: the
 * whole image; clipped to it):
 *
 *   width=1024 height=768 rect=0,0,1024,64 nonblack=0.123456 colours=2
 *   mean=21,21,21 bbox=0,0,320,48
 *
 * width/height: the image; rect: X,Y,W,H after clipping; nonblack: the
 * fraction of its pixels that are not pure black (0,0,0); colours: the
 * number of distinct RGB values in it; mean: the average R,G,B (rounded
 * down); bbox: X0,Y0,X1,Y1 (X1/Y1 exclusive)
 * of its non-black pixels, or "none".
 *
 * Exit status: 0, or 2 with a one-line message when the file cannot be
 * decoded, the arguments are bad or the rectangle misses the image.
 */
#include <errno.h>
#include <limits.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A screendump of the largest mode we offer is far below this. */
#define MAX_DIM 16384

struct rect {
	long x, y, w, h;
};

static int parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return (errno || end == s || *end) ? -1 : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Clip r to a width x height image; -1 when nothing is left. */
static int clip(struct rect *r, long width, long height)
{
	long x1, y1;

	if (r->w <= 0 || r->h <= 0 || r->x >= width || r->y >= height)
		return -1;
	/* w, h > 0: an overflowing end is beyond the image anyway. */
	if (__builtin_add_overflow(r->x, r->w, &x1))
		x1 = LONG_MAX;
	if (__builtin_add_overflow(r->y, r->h, &y1))
		y1 = LONG_MAX;
	if (r->x < 0)
		r->x = 0;
	if (r->y < 0)
		r->y = 0;
	if (x1 > width)
		x1 = width;
	if (y1 > height)
		y1 = height;
	if (x1 <= r->x || y1 <= r->y)
		return -1;
	r->w = x1 - r->x;
	r->h = y1 - r->y;
	return 0;
}

static void stats(const uint8_t *rgb, long width, const struct rect *r)
{
	size_t n = (size_t)r->w * (size_t)r->h, nonblack = 0, colours = 0, i;
	unsigned long long sum[3] = { 0, 0, 0 };
	long x0 = LONG_MAX, y0 = LONG_MAX, x1 = -1, y1 = -1, x, y;
	uint32_t *px = malloc(n * sizeof(*px));

	if (!px) {
		fprintf(stderr, "pngstat: out of memory\n");
		exit(2);
	}
	i = 0;
	for (y = r->y; y < r->y + r->h; y++) {
		for (x = r->x; x < r->x + r->w; x++) {
			const uint8_t *p = rgb + ((size_t)y * width + x) * 3;
			uint32_t v = (uint32_t)p[0] << 16 | p[1] << 8 | p[2];

			px[i++] = v;
			sum[0] += p[0];
			sum[1] += p[1];
			sum[2] += p[2];
			if (!v)
				continue;
			nonblack++;
			x0 = x < x0 ? x : x0;
			y0 = y < y0 ? y : y0;
			x1 = x + 1 > x1 ? x + 1 : x1;
			y1 = y + 1 > y1 ? y + 1 : y1;
		}
	}
	qsort(px, n, sizeof(*px), cmp_u32);
	for (i = 0; i < n; i++)
		colours += i == 0 || px[i] != px[i - 1];
	free(px);

	printf("rect=%ld,%ld,%ld,%ld nonblack=%.6f colours=%zu mean=%llu,%llu,%llu ",
	       r->x, r->y, r->w, r->h, (double)nonblack / (double)n, colours,
	       sum[0] / n, sum[1] / n, sum[2] / n);
	if (nonblack)
		printf("bbox=%ld,%ld,%ld,%ld\n", x0, y0, x1, y1);
	else
		printf("bbox=none\n");
}

int main(int argc, char **argv)
{
	png_image img;
	struct rect r;
	uint8_t *rgb;
	long width, height;
	int i;

	if (argc != 2 && argc != 6) {
		fprintf(stderr, "usage: pngstat FILE [X Y W H]\n");
		return 2;
	}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, argv[1])) {
		fprintf(stderr, "pngstat: %s: %s\n", argv[1], img.message);
		return 2;
	}
	if (img.width == 0 || img.height == 0 || img.width > MAX_DIM ||
	    img.height > MAX_DIM) {
		fprintf(stderr, "pngstat: %s: unsupported size %ux%u\n", argv[1],
			img.width, img.height);
		png_image_free(&img);
		return 2;
	}
	width = img.width;
	height = img.height;
	/* Alpha, palettes, grey and 16-bit channels all end up as RGB8. */
	img.format = PNG_FORMAT_RGB;
	rgb = malloc(PNG_IMAGE_SIZE(img));
	if (!rgb) {
		fprintf(stderr, "pngstat: out of memory\n");
		png_image_free(&img);
		return 2;
	}
	if (!png_image_finish_read(&img, NULL, rgb, 0, NULL)) {
		fprintf(stderr, "pngstat: %s: %s\n", argv[1], img.message);
		free(rgb);
		return 2;
	}

	r = (struct rect){ 0, 0, width, height };
	if (argc == 6) {
		long *v[4] = { &r.x, &r.y, &r.w, &r.h };

		for (i = 0; i < 4; i++) {
			if (parse_long(argv[2 + i], v[i]) < 0) {
				fprintf(stderr, "pngstat: bad number '%s'\n",
					argv[2 + i]);
				free(rgb);
				return 2;
			}
		}
	}
	if (clip(&r, width, height) < 0) {
		fprintf(stderr, "pngstat: the rectangle misses the %ldx%ld image\n",
			width, height);
		free(rgb);
		return 2;
	}
	printf("width=%ld height=%ld ", width, height);
	stats(rgb, width, &r);
	free(rgb);
	return 0;
}
