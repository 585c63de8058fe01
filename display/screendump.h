/* SPDX-License-Identifier: MIT */
/*
 * Screendumps: a console surface written to a PNG file (8-bit RGB), and the
 * reverse, used by tests to compare screendumps with golden images.
 */
#ifndef DISPLAY_SCREENDUMP_H
#define DISPLAY_SCREENDUMP_H

#include <pixman.h>
#include <stddef.h>

#include "display/console.h"

/*
 * Ask the producer to refresh (console_refresh), then write the surface to
 * path atomically: a temporary file in the same directory (mode 0600),
 * renamed over path when complete. The surface is converted under the
 * console lock; the file is written after it is released. 0, or -1 with a
 * one-line message in err (no surface, I/O error, ...).
 */
int screendump_console(struct console *c, const char *path, char *err,
		       size_t errlen);

/* Write any pixman image (any format) the same way. 0 or -1 with err. */
int screendump_write_png(pixman_image_t *img, const char *path, char *err,
			 size_t errlen);

/*
 * Read a PNG (any colour type; alpha is composed onto black) into a new
 * x8r8g8b8 image the caller unrefs. NULL with err. At most CONSOLE_MAX_DIM
 * pixels either side.
 */
pixman_image_t *screendump_load_png(const char *path, char *err,
				    size_t errlen);

/*
 * Compare two images of any formats as 8-bit RGB (alpha and padding bits
 * ignored). Returns the number of differing pixels, -1 if the sizes differ
 * or on out of memory; *first_x, *first_y (may be NULL) get the first
 * differing pixel in row order.
 */
long screendump_compare(pixman_image_t *a, pixman_image_t *b, int *first_x,
			int *first_y);

#endif
