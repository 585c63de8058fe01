// SPDX-License-Identifier: MIT
/*
 * The console: a surface shared by one producer (a display device) and any
 * number of consumers, with damage tracking. See console.h for the locking
 * rules.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "display/console.h"
#include "display/input-router.h"
#include "vmm/log.h"

struct console {
	char *name;
	pthread_mutex_t lock;           /* surface, damage, listeners */
	pthread_mutex_t active_lock;    /* set_active transitions */

	pixman_image_t *surface;        /* NULL: no picture */
	void *owned_pixels;             /* console-allocated memory, or NULL */
	pixman_region32_t damage;

	struct console_listener *listeners;
	int nlisteners;
	bool active;                    /* last value given to set_active */

	const struct console_producer_ops *ops;
	void *producer;

	/* Input routing (display/input.c). leds_lock serialises LED
	 * notifications, which walk the listener list without the console
	 * lock: list changes take it too (order: active_lock -> leds_lock
	 * -> lock). */
	struct input_router *input;
	pthread_mutex_t leds_lock;

	struct console_cursor cursor;   /* under lock */
};

struct console *console_create(const char *name)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->name = strdup(name ? name : "console");
	c->input = input_router_create();
	if (!c->name || !c->input) {
		input_router_destroy(c->input);
		free(c->name);
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->leds_lock, NULL);
	pthread_mutex_init(&c->active_lock, NULL);
	pixman_region32_init(&c->damage);
	return c;
}

static void drop_surface(struct console *c)
{
	if (c->surface)
		pixman_image_unref(c->surface);
	free(c->owned_pixels);
	c->surface = NULL;
	c->owned_pixels = NULL;
	pixman_region32_clear(&c->damage);
}

void console_destroy(struct console *c)
{
	if (!c)
		return;
	if (c->listeners)
		log_warn("console %s destroyed with listeners attached", c->name);
	drop_surface(c);
	free(c->cursor.pixels);
	pixman_region32_fini(&c->damage);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->active_lock);
	pthread_mutex_destroy(&c->leds_lock);
	input_router_destroy(c->input);
	free(c->name);
	free(c);
}

const char *console_name(const struct console *c)
{
	return c->name;
}

void console_set_producer(struct console *c,
			  const struct console_producer_ops *ops, void *opaque)
{
	const struct console_producer_ops *old_ops;
	void *old_producer;
	bool activate;

	pthread_mutex_lock(&c->active_lock);
	pthread_mutex_lock(&c->lock);
	old_ops = c->ops;
	old_producer = c->producer;
	c->ops = ops;
	c->producer = opaque;
	activate = c->nlisteners > 0;
	pthread_mutex_unlock(&c->lock);
	if (c->active && old_ops && old_ops->set_active)
		old_ops->set_active(old_producer, false);
	c->active = false;
	if (activate && ops && ops->set_active) {
		ops->set_active(opaque, true);
		c->active = true;
	}
	pthread_mutex_unlock(&c->active_lock);
}

/* Bits per pixel of a format pixman can use as a surface, or 0. */
static int format_bpp(pixman_format_code_t format)
{
	if (!pixman_format_supported_destination(format) ||
	    !pixman_format_supported_source(format))
		return 0;
	return PIXMAN_FORMAT_BPP(format);
}

static void notify_surface_changed(struct console *c)
{
	for (struct console_listener *l = c->listeners; l; l = l->next_)
		if (l->surface_changed)
			l->surface_changed(l->opaque, c);
}

static int install_surface(struct console *c, int width, int height,
			   pixman_format_code_t format, void *pixels,
			   int stride, void *owned)
{
	pixman_image_t *img;

	img = pixman_image_create_bits(format, width, height, pixels, stride);
	if (!img) {
		free(owned);
		return -1;
	}
	pthread_mutex_lock(&c->lock);
	drop_surface(c);
	c->surface = img;
	c->owned_pixels = owned;
	notify_surface_changed(c);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static bool size_ok(int width, int height)
{
	return width > 0 && height > 0 && width <= CONSOLE_MAX_DIM &&
	       height <= CONSOLE_MAX_DIM;
}

int console_set_surface(struct console *c, int width, int height,
			pixman_format_code_t format)
{
	int bpp = format_bpp(format);
	size_t stride;
	void *pixels;

	if (!bpp || !size_ok(width, height))
		return -1;
	/* pixman wants 32-bit aligned rows. */
	stride = (((size_t)width * (size_t)bpp + 31) / 32) * 4;
	pixels = calloc((size_t)height, stride);
	if (!pixels)
		return -1;
	return install_surface(c, width, height, format, pixels, (int)stride,
			       pixels);
}

int console_set_surface_alias(struct console *c, int width, int height,
			      pixman_format_code_t format, void *pixels,
			      int stride)
{
	int bpp = format_bpp(format);

	if (!bpp || !size_ok(width, height) || !pixels || stride <= 0 ||
	    stride % 4 ||
	    (size_t)stride < ((size_t)width * (size_t)bpp + 7) / 8 ||
	    (uintptr_t)pixels % 4)
		return -1;
	return install_surface(c, width, height, format, pixels, stride, NULL);
}

void console_clear_surface(struct console *c)
{
	pthread_mutex_lock(&c->lock);
	drop_surface(c);
	notify_surface_changed(c);
	pthread_mutex_unlock(&c->lock);
}

void console_get_size(struct console *c, int *width, int *height)
{
	pthread_mutex_lock(&c->lock);
	*width = c->surface ? pixman_image_get_width(c->surface) : 0;
	*height = c->surface ? pixman_image_get_height(c->surface) : 0;
	pthread_mutex_unlock(&c->lock);
}

void console_damage_locked(struct console *c, int x, int y, int w, int h)
{
	int64_t x1, y1, x2, y2, sw, sh;

	if (!c->surface || !c->nlisteners || w <= 0 || h <= 0)
		return;
	sw = pixman_image_get_width(c->surface);
	sh = pixman_image_get_height(c->surface);
	/* 64-bit arithmetic: x + w must not overflow for any int input. */
	x1 = x < 0 ? 0 : x;
	y1 = y < 0 ? 0 : y;
	x2 = (int64_t)x + w;
	y2 = (int64_t)y + h;
	if (x2 > sw)
		x2 = sw;
	if (y2 > sh)
		y2 = sh;
	if (x1 >= x2 || y1 >= y2)
		return;
	pixman_region32_union_rect(&c->damage, &c->damage, (int)x1, (int)y1,
				   (unsigned)(x2 - x1), (unsigned)(y2 - y1));
}

void console_damage(struct console *c, int x, int y, int w, int h)
{
	pthread_mutex_lock(&c->lock);
	console_damage_locked(c, x, y, w, h);
	pthread_mutex_unlock(&c->lock);
}

void console_damage_region(struct console *c, pixman_region32_t *region)
{
	pthread_mutex_lock(&c->lock);
	if (c->surface && c->nlisteners) {
		pixman_region32_t clip;

		pixman_region32_init_rect(&clip, 0, 0,
					  pixman_image_get_width(c->surface),
					  pixman_image_get_height(c->surface));
		pixman_region32_intersect(&clip, &clip, region);
		pixman_region32_union(&c->damage, &c->damage, &clip);
		pixman_region32_fini(&clip);
	}
	pthread_mutex_unlock(&c->lock);
}

static int32_t snap_down(int32_t v, int32_t grid)
{
	return v / grid * grid;
}

static int32_t snap_up(int32_t v, int32_t grid, int32_t limit)
{
	int64_t r = ((int64_t)v + grid - 1) / grid * grid;

	return r > limit ? limit : (int32_t)r;
}

/*
 * Reduce r to at most max rectangles covering it: snap the rectangles to a
 * grid that doubles until few enough remain (neighbours then merge), and in
 * the end take the bounding box. Keeps small scattered changes small while
 * bounding the number of callbacks (and of VNC rectangles) per flush.
 */
static void coalesce(pixman_region32_t *r, int max, int32_t w, int32_t h)
{
	int32_t grid = 16;

	while (pixman_region32_n_rects(r) > max) {
		int n;
		pixman_box32_t *in = pixman_region32_rectangles(r, &n);
		pixman_box32_t *boxes;

		if (grid >= w && grid >= h)
			break;
		boxes = malloc((size_t)n * sizeof(*boxes));
		if (!boxes)
			break;
		for (int i = 0; i < n; i++) {
			boxes[i].x1 = snap_down(in[i].x1, grid);
			boxes[i].y1 = snap_down(in[i].y1, grid);
			boxes[i].x2 = snap_up(in[i].x2, grid, w);
			boxes[i].y2 = snap_up(in[i].y2, grid, h);
		}
		pixman_region32_fini(r);
		if (!pixman_region32_init_rects(r, boxes, n))
			pixman_region32_init(r);
		free(boxes);
		grid *= 2;
	}
	if (pixman_region32_n_rects(r) > max) {
		pixman_box32_t ext = *pixman_region32_extents(r);

		pixman_region32_fini(r);
		pixman_region32_init_rect(r, ext.x1, ext.y1,
					  (unsigned)(ext.x2 - ext.x1),
					  (unsigned)(ext.y2 - ext.y1));
	}
}

bool console_flush(struct console *c)
{
	pixman_box32_t *boxes;
	int n;

	pthread_mutex_lock(&c->lock);
	if (!c->surface || !c->nlisteners ||
	    !pixman_region32_not_empty(&c->damage)) {
		pixman_region32_clear(&c->damage);
		pthread_mutex_unlock(&c->lock);
		return false;
	}
	coalesce(&c->damage, CONSOLE_FLUSH_MAX_RECTS,
		 pixman_image_get_width(c->surface),
		 pixman_image_get_height(c->surface));
	boxes = pixman_region32_rectangles(&c->damage, &n);
	for (int i = 0; i < n; i++)
		for (struct console_listener *l = c->listeners; l; l = l->next_)
			if (l->damage)
				l->damage(l->opaque, &boxes[i]);
	pixman_region32_clear(&c->damage);
	pthread_mutex_unlock(&c->lock);
	return true;
}

/* Tell the producer, outside the console lock, whether anyone watches. */
static void update_active(struct console *c)
{
	bool want;
	const struct console_producer_ops *ops;
	void *producer;

	pthread_mutex_lock(&c->lock);
	want = c->nlisteners > 0;
	ops = c->ops;
	producer = c->producer;
	pthread_mutex_unlock(&c->lock);
	if (want == c->active)
		return;
	c->active = want;
	if (ops && ops->set_active)
		ops->set_active(producer, want);
}

int console_add_listener(struct console *c, struct console_listener *l)
{
	pthread_mutex_lock(&c->active_lock);
	pthread_mutex_lock(&c->leds_lock);
	pthread_mutex_lock(&c->lock);
	for (struct console_listener *p = c->listeners; p; p = p->next_) {
		if (p == l) {
			pthread_mutex_unlock(&c->lock);
			pthread_mutex_unlock(&c->leds_lock);
			pthread_mutex_unlock(&c->active_lock);
			return -1;
		}
	}
	l->next_ = c->listeners;
	c->listeners = l;
	c->nlisteners++;
	if (l->surface_changed)
		l->surface_changed(l->opaque, c);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->leds_lock);
	update_active(c);
	pthread_mutex_unlock(&c->active_lock);
	return 0;
}

void console_remove_listener(struct console *c, struct console_listener *l)
{
	pthread_mutex_lock(&c->active_lock);
	pthread_mutex_lock(&c->leds_lock);
	pthread_mutex_lock(&c->lock);
	for (struct console_listener **pp = &c->listeners; *pp;
	     pp = &(*pp)->next_) {
		if (*pp == l) {
			*pp = l->next_;
			l->next_ = NULL;
			c->nlisteners--;
			break;
		}
	}
	if (!c->nlisteners)
		pixman_region32_clear(&c->damage);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->leds_lock);
	update_active(c);
	pthread_mutex_unlock(&c->active_lock);
}

int console_listener_count(struct console *c)
{
	int n;

	pthread_mutex_lock(&c->lock);
	n = c->nlisteners;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* The producer's ops (NULL: none) and *producer, read under the lock so
 * that they are called outside it. */
static const struct console_producer_ops *
producer_of(struct console *c, void **producer)
{
	const struct console_producer_ops *ops;

	pthread_mutex_lock(&c->lock);
	ops = c->ops;
	*producer = c->producer;
	pthread_mutex_unlock(&c->lock);
	return ops;
}

void console_refresh(struct console *c)
{
	void *producer;
	const struct console_producer_ops *ops = producer_of(c, &producer);

	if (ops && ops->refresh)
		ops->refresh(producer);
}

pixman_image_t *console_lock(struct console *c)
{
	pthread_mutex_lock(&c->lock);
	return c->surface;
}

void console_unlock(struct console *c)
{
	pthread_mutex_unlock(&c->lock);
}

pixman_image_t *console_surface_locked(struct console *c)
{
	return c->surface;
}

int console_read_pixels(struct console *c, int x, int y, int w, int h,
			pixman_format_code_t format, void *dst, int stride)
{
	pixman_image_t *out;
	int ret = -1;

	if (!format_bpp(format) || w <= 0 || h <= 0 || x < 0 || y < 0 ||
	    !dst || stride <= 0 || stride % 4 ||
	    (size_t)stride < ((size_t)w * (size_t)PIXMAN_FORMAT_BPP(format) + 7) / 8)
		return -1;
	out = pixman_image_create_bits(format, w, h, dst, stride);
	if (!out)
		return -1;
	pthread_mutex_lock(&c->lock);
	if (c->surface && (int64_t)x + w <= pixman_image_get_width(c->surface) &&
	    (int64_t)y + h <= pixman_image_get_height(c->surface)) {
		pixman_image_composite32(PIXMAN_OP_SRC, c->surface, NULL, out,
					 x, y, 0, 0, 0, 0, w, h);
		ret = 0;
	}
	pthread_mutex_unlock(&c->lock);
	pixman_image_unref(out);
	return ret;
}

struct input_router *console_input_router(struct console *c)
{
	return c->input;
}

void console_leds_lock(struct console *c)
{
	pthread_mutex_lock(&c->leds_lock);
}

void console_leds_unlock(struct console *c)
{
	pthread_mutex_unlock(&c->leds_lock);
}

void console_notify_leds_locked(struct console *c, unsigned leds)
{
	/* The list cannot change: add/remove take leds_lock too. */
	for (struct console_listener *l = c->listeners; l; l = l->next_)
		if (l->leds_changed)
			l->leds_changed(l->opaque, leds);
}

/* --- hardware cursor and resize requests ---------------------------------- */

int console_set_cursor(struct console *c, int width, int height, int hot_x,
		       int hot_y, const uint32_t *pixels)
{
	uint32_t *copy = NULL;

	if (width && pixels) {
		if (width < 0 || height <= 0 || width > CONSOLE_CURSOR_MAX ||
		    height > CONSOLE_CURSOR_MAX)
			return -1;
		copy = malloc((size_t)width * (size_t)height * 4);
		if (!copy)
			return -1;
		memcpy(copy, pixels, (size_t)width * (size_t)height * 4);
	}
	pthread_mutex_lock(&c->lock);
	free(c->cursor.pixels);
	c->cursor.pixels = copy;
	c->cursor.width = copy ? width : 0;
	c->cursor.height = copy ? height : 0;
	c->cursor.hot_x = hot_x < 0 ? 0 : (hot_x >= width ? width - 1 : hot_x);
	c->cursor.hot_y = hot_y < 0 ? 0 : (hot_y >= height ? height - 1 : hot_y);
	if (!copy)
		c->cursor.hot_x = c->cursor.hot_y = 0;
	c->cursor.serial++;
	for (struct console_listener *l = c->listeners; l; l = l->next_)
		if (l->cursor_changed)
			l->cursor_changed(l->opaque, c);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void console_move_cursor(struct console *c, int x, int y)
{
	pthread_mutex_lock(&c->lock);
	c->cursor.x = x;
	c->cursor.y = y;
	pthread_mutex_unlock(&c->lock);
}

const struct console_cursor *console_cursor_locked(struct console *c)
{
	return &c->cursor;
}

int console_request_resize(struct console *c, int width, int height)
{
	const struct console_producer_ops *ops;
	void *producer;

	if (width <= 0 || height <= 0 || width > CONSOLE_MAX_DIM ||
	    height > CONSOLE_MAX_DIM)
		return -1;
	ops = producer_of(c, &producer);
	if (!ops || !ops->request_resize)
		return -1;
	return ops->request_resize(producer, width, height);
}

void console_input_activity(struct console *c)
{
	void *producer;
	const struct console_producer_ops *ops = producer_of(c, &producer);

	if (ops && ops->input_activity)
		ops->input_activity(producer);
}
