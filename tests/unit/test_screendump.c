// SPDX-License-Identifier: MIT
/* Screendump: PNG round trips for 32 and 16 bpp surfaces, atomic writes,
 * errors, and the comparer used against golden images. */
#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "display/screendump.h"

static char dir[] = "/tmp/test_screendump.XXXXXX";

static int refreshes;

static void p_refresh(void *opaque)
{
	(void)opaque;
	refreshes++;
}

static const struct console_producer_ops pops = { .refresh = p_refresh };

static int count_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_xrgb_roundtrip(void)
{
	struct console *c = console_create("t");
	int w = 123, h = 45;   /* odd sizes on purpose */
	uint32_t *mem = malloc((size_t)w * (size_t)h * 4);
	char path[256], err[256] = "";
	pixman_image_t *back, *img;
	int fx = -1, fy = -1;

	for (int i = 0; i < w * h; i++)
		mem[i] = ((uint32_t)i * 2654435761u) | 0xff000000u;
	console_set_producer(c, &pops, NULL);
	console_set_surface_alias(c, w, h, PIXMAN_x8r8g8b8, mem, w * 4);
	snprintf(path, sizeof(path), "%s/x.png", dir);
	CHECK(screendump_console(c, path, err, sizeof(err)) == 0);
	CHECK_EQ_U64(refreshes, 1);     /* the producer brought it up to date */
	CHECK_EQ_U64(count_files(), 1); /* no temporary left behind */

	back = screendump_load_png(path, err, sizeof(err));
	CHECK(back != NULL);
	if (back) {
		const uint32_t *px = pixman_image_get_data(back);
		int bad = 0;

		CHECK_EQ_U64(pixman_image_get_width(back), w);
		CHECK_EQ_U64(pixman_image_get_height(back), h);
		for (int i = 0; i < w * h; i++)
			bad += (px[i] & 0xffffff) != (mem[i] & 0xffffff);
		CHECK_EQ_U64(bad, 0);

		img = console_lock(c);
		CHECK_EQ_U64(screendump_compare(img, back, NULL, NULL), 0);
		console_unlock(c);

		/* One changed pixel is found, with its position. */
		mem[7 * w + 11] ^= 0x10;
		img = console_lock(c);
		CHECK_EQ_U64(screendump_compare(img, back, &fx, &fy), 1);
		console_unlock(c);
		CHECK(fx == 11 && fy == 7);
		/* Alpha/padding bits are ignored. */
		mem[7 * w + 11] ^= 0x10;
		mem[0] ^= 0xff000000u;
		img = console_lock(c);
		CHECK_EQ_U64(screendump_compare(img, back, NULL, NULL), 0);
		console_unlock(c);
		pixman_image_unref(back);
	}
	/* Overwriting an existing file works (rename over it). */
	CHECK(screendump_console(c, path, err, sizeof(err)) == 0);
	CHECK_EQ_U64(count_files(), 1);
	{
		struct stat st;

		CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	}
	unlink(path);
	console_destroy(c);
	free(mem);
}

static void test_rgb565_roundtrip(void)
{
	struct console *c = console_create("t");
	int w = 64, h = 30;
	uint16_t *mem = malloc((size_t)w * (size_t)h * 2);
	uint16_t *again = calloc((size_t)w * (size_t)h, 2);
	char path[256], err[256] = "";
	pixman_image_t *back, *img;

	for (int i = 0; i < w * h; i++)
		mem[i] = (uint16_t)(i * 40503u);
	mem[0] = 0xffff;
	mem[1] = 0x0000;
	mem[2] = 0xf800;
	console_set_surface_alias(c, w, h, PIXMAN_r5g6b5, mem, w * 2);
	snprintf(path, sizeof(path), "%s/y.png", dir);
	CHECK(screendump_console(c, path, err, sizeof(err)) == 0);
	back = screendump_load_png(path, err, sizeof(err));
	CHECK(back != NULL);
	if (back) {
		pixman_image_t *dst;
		const uint32_t *px = pixman_image_get_data(back);
		int bad = 0;

		/* Full-range expansion: white is white, red is pure red. */
		CHECK_EQ_U64(px[0] & 0xffffff, 0xffffff);
		CHECK_EQ_U64(px[1] & 0xffffff, 0);
		CHECK_EQ_U64(px[2] & 0xffffff, 0xff0000);
		/* Converted back to r5g6b5, every pixel is what it was. */
		dst = pixman_image_create_bits(PIXMAN_r5g6b5, w, h,
					       (uint32_t *)again, w * 2);
		pixman_image_composite32(PIXMAN_OP_SRC, back, NULL, dst, 0, 0, 0,
					 0, 0, 0, w, h);
		pixman_image_unref(dst);
		for (int i = 0; i < w * h; i++)
			bad += mem[i] != again[i];
		CHECK_EQ_U64(bad, 0);
		img = console_lock(c);
		CHECK_EQ_U64(screendump_compare(img, back, NULL, NULL), 0);
		console_unlock(c);
		pixman_image_unref(back);
	}
	unlink(path);
	console_destroy(c);
	free(mem);
	free(again);
}

static void test_errors(void)
{
	struct console *c = console_create("t");
	char path[256], err[256] = "";
	pixman_image_t *a, *b;
	FILE *f;

	snprintf(path, sizeof(path), "%s/z.png", dir);
	CHECK(screendump_console(c, path, err, sizeof(err)) < 0);
	CHECK(strstr(err, "no display surface") != NULL);
	console_set_surface(c, 10, 10, PIXMAN_x8r8g8b8);
	err[0] = 0;
	CHECK(screendump_console(c, "/nonexistent-dir/x.png", err,
				 sizeof(err)) < 0);
	CHECK(err[0] != 0);
	CHECK_EQ_U64(count_files(), 0);

	/* Loading garbage or a missing file fails cleanly. */
	err[0] = 0;
	CHECK(screendump_load_png(path, err, sizeof(err)) == NULL);
	CHECK(err[0] != 0);
	f = fopen(path, "w");
	fputs("\x89PNG\r\n\x1a\nnot really", f);
	fclose(f);
	CHECK(screendump_load_png(path, err, sizeof(err)) == NULL);
	unlink(path);

	/* Different sizes do not compare. */
	a = pixman_image_create_bits(PIXMAN_x8r8g8b8, 4, 4, NULL, 0);
	b = pixman_image_create_bits(PIXMAN_x8r8g8b8, 4, 5, NULL, 0);
	CHECK(screendump_compare(a, b, NULL, NULL) < 0);
	/* An image written directly, any format. */
	CHECK(screendump_write_png(a, path, err, sizeof(err)) == 0);
	pixman_image_unref(b);
	b = screendump_load_png(path, err, sizeof(err));
	CHECK(b && screendump_compare(a, b, NULL, NULL) == 0);
	if (b)
		pixman_image_unref(b);
	pixman_image_unref(a);
	unlink(path);
	console_destroy(c);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_xrgb_roundtrip();
	test_rgb565_roundtrip();
	test_errors();
	rmdir(dir);
	return check_summary("test_screendump");
}
