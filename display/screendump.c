// SPDX-License-Identifier: MIT
/*
 * PNG screendumps with libpng's simplified API (png_image): the surface is
 * converted by pixman into a private x8r8g8b8 copy, unpacked into RGB bytes
 * and written to a temporary file that is renamed over the destination.
 */
#include <errno.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "display/screendump.h"
#include "vmm/log.h"


/* A malloc'ed x8r8g8b8 image; pixels freed with the image. */
static void free_pixels(pixman_image_t *img, void *data)
{
	(void)img;
	free(data);
}

static pixman_image_t *new_xrgb(int w, int h)
{
	uint32_t *pixels;
	pixman_image_t *img;

	if (w <= 0 || h <= 0 || w > CONSOLE_MAX_DIM || h > CONSOLE_MAX_DIM)
		return NULL;
	pixels = calloc((size_t)w * (size_t)h, 4);
	if (!pixels)
		return NULL;
	img = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h, pixels, w * 4);
	if (!img) {
		free(pixels);
		return NULL;
	}
	pixman_image_set_destroy_function(img, free_pixels, pixels);
	return img;
}

/* src (any format) converted to a new x8r8g8b8 image, or NULL. */
static pixman_image_t *to_xrgb(pixman_image_t *src)
{
	int w = pixman_image_get_width(src), h = pixman_image_get_height(src);
	pixman_image_t *dst = new_xrgb(w, h);

	if (dst)
		pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, dst, 0, 0, 0, 0,
					 0, 0, w, h);
	return dst;
}

/* Write an x8r8g8b8 image as RGB PNG to path via a renamed temp file. */
static int write_xrgb(pixman_image_t *img, const char *path, char *err,
		      size_t errlen)
{
	int w = pixman_image_get_width(img), h = pixman_image_get_height(img);
	const uint32_t *src = pixman_image_get_data(img);
	size_t sstride = (size_t)pixman_image_get_stride(img) / 4;
	png_image png = { .version = PNG_IMAGE_VERSION };
	uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
	char *tmp = NULL;
	FILE *f = NULL;
	int fd, ret = -1;

	if (!rgb || asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		format_err(err, errlen, "out of memory");
		goto out;
	}
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			uint32_t p = src[(size_t)y * sstride + (size_t)x];
			uint8_t *d = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;

			d[0] = (uint8_t)(p >> 16);
			d[1] = (uint8_t)(p >> 8);
			d[2] = (uint8_t)p;
		}
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		format_err(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		format_err(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto unlink;
	}
	png.width = (png_uint_32)w;
	png.height = (png_uint_32)h;
	png.format = PNG_FORMAT_RGB;
	if (!png_image_write_to_stdio(&png, f, 0, rgb, w * 3, NULL)) {
		format_err(err, errlen, "%s: png: %s", tmp, png.message);
		goto unlink;
	}
	if (fclose(f)) {
		f = NULL;
		format_err(err, errlen, "%s: %s", tmp, strerror(errno));
		goto unlink;
	}
	f = NULL;
	if (rename(tmp, path)) {
		format_err(err, errlen, "%s: %s", path, strerror(errno));
		goto unlink;
	}
	ret = 0;
	goto out;
unlink:
	if (f)
		fclose(f);
	unlink(tmp);
out:
	free(tmp);
	free(rgb);
	return ret;
}

int screendump_write_png(pixman_image_t *img, const char *path, char *err,
			 size_t errlen)
{
	pixman_image_t *xrgb = to_xrgb(img);
	int ret;

	if (!xrgb) {
		format_err(err, errlen, "out of memory");
		return -1;
	}
	ret = write_xrgb(xrgb, path, err, errlen);
	pixman_image_unref(xrgb);
	return ret;
}

int screendump_console(struct console *c, const char *path, char *err,
		       size_t errlen)
{
	pixman_image_t *surface, *copy = NULL;
	int ret;

	console_refresh(c);
	surface = console_lock(c);
	if (surface)
		copy = to_xrgb(surface);
	console_unlock(c);
	if (!surface) {
		format_err(err, errlen, "no display surface");
		return -1;
	}
	if (!copy) {
		format_err(err, errlen, "out of memory");
		return -1;
	}
	ret = write_xrgb(copy, path, err, errlen);
	pixman_image_unref(copy);
	return ret;
}

pixman_image_t *screendump_load_png(const char *path, char *err,
				    size_t errlen)
{
	png_image png = { .version = PNG_IMAGE_VERSION };
	pixman_image_t *img = NULL;
	uint8_t *rgb = NULL;
	uint32_t *dst;
	int w, h;

	if (!png_image_begin_read_from_file(&png, path)) {
		format_err(err, errlen, "%s: %s", path, png.message);
		return NULL;
	}
	if (png.width == 0 || png.height == 0 || png.width > CONSOLE_MAX_DIM ||
	    png.height > CONSOLE_MAX_DIM) {
		format_err(err, errlen, "%s: bad size %ux%u", path,
			(unsigned)png.width, (unsigned)png.height);
		png_image_free(&png);
		return NULL;
	}
	w = (int)png.width;
	h = (int)png.height;
	png.format = PNG_FORMAT_RGB;
	rgb = malloc((size_t)w * (size_t)h * 3);
	img = new_xrgb(w, h);
	if (!rgb || !img) {
		format_err(err, errlen, "out of memory");
		png_image_free(&png);
		goto fail;
	}
	/* background NULL: alpha is composed onto black (libpng's default). */
	if (!png_image_finish_read(&png, NULL, rgb, w * 3, NULL)) {
		format_err(err, errlen, "%s: %s", path, png.message);
		png_image_free(&png);
		goto fail;
	}
	dst = pixman_image_get_data(img);
	for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
		dst[i] = (uint32_t)rgb[i * 3] << 16 | (uint32_t)rgb[i * 3 + 1] << 8 |
			 rgb[i * 3 + 2];
	free(rgb);
	return img;
fail:
	free(rgb);
	if (img)
		pixman_image_unref(img);
	return NULL;
}

long screendump_compare(pixman_image_t *a, pixman_image_t *b, int *first_x,
			int *first_y)
{
	int w = pixman_image_get_width(a), h = pixman_image_get_height(a);
	pixman_image_t *xa, *xb;
	long diff = 0;

	if (w != pixman_image_get_width(b) || h != pixman_image_get_height(b))
		return -1;
	xa = to_xrgb(a);
	xb = to_xrgb(b);
	if (!xa || !xb) {
		diff = -1;
		goto out;
	}
	for (int y = 0; y < h; y++) {
		const uint32_t *ra = pixman_image_get_data(xa) + (size_t)y * (size_t)w;
		const uint32_t *rb = pixman_image_get_data(xb) + (size_t)y * (size_t)w;

		for (int x = 0; x < w; x++) {
			if ((ra[x] ^ rb[x]) & 0xffffff) {
				if (!diff) {
					if (first_x)
						*first_x = x;
					if (first_y)
						*first_y = y;
				}
				diff++;
			}
		}
	}
out:
	if (xa)
		pixman_image_unref(xa);
	if (xb)
		pixman_image_unref(xb);
	return diff;
}
