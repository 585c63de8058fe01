/* SPDX-License-Identifier: MIT */
/*
 * The console: the only meeting point of a display device (the producer)
 * and whoever shows or records its picture (consumers: the VNC server, the
 * screendump). Devices never know about consumers and consumers never know
 * about devices.
 *
 * A console holds one surface, a pixman image of some size and pixman
 * format. The producer either lets the console allocate the pixels or hands
 * it memory of its own (guest VRAM when the guest's format is one pixman
 * knows), which the surface then aliases with no copy. The producer reports
 * damage rectangles; console_flush() hands the accumulated, coalesced and
 * clipped damage to the consumers' listeners.
 *
 * The producer's refresh work (reading the dirty log, re-rendering text)
 * should run only while somebody watches: the console calls the producer's
 * set_active(true) when the first listener is added and set_active(false)
 * when the last one is removed.
 *
 * Locking. Each console has two mutexes:
 *  - the console lock protects the surface, the damage and the listener
 *    list. Listener callbacks (surface_changed, damage) are called WITH it
 *    held, on the producer's thread (vCPU or event loop) or, for the first
 *    surface_changed, on the thread calling console_add_listener(). A
 *    callback must be quick, must not call any console_* function on the same
 *    console, and must not take a lock that is held elsewhere while calling
 *    into the console. While the lock is held the surface cannot be replaced
 *    or freed: consumers read pixels between console_lock() and
 *    console_unlock(), or with console_read_pixels().
 *  - the activity lock serialises set_active() transitions. set_active() is
 *    called with it held and the console lock NOT held, on the thread adding
 *    or removing the listener (a consumer thread), so the producer may take
 *    its own device lock there. refresh() is called with neither held, on
 *    the caller's thread.
 * Lock order: activity lock -> producer's device lock -> console lock. A
 * producer must therefore never add or remove listeners.
 *
 * An aliased surface is written by the guest at any time without any lock:
 * the console lock only guarantees that the memory stays mapped and the
 * geometry stays the same while it is held.
 *
 * Input (keyboard and pointer events from consumers to the guest's input
 * devices) is routed through the console too: see display/input.h.
 */
#ifndef DISPLAY_CONSOLE_H
#define DISPLAY_CONSOLE_H

#include <pixman.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct console;

/* Largest surface accepted, either side, in pixels. */
#define CONSOLE_MAX_DIM 8192

/* Consumers: see the locking rules above for where these are called. */
struct console_listener {
	/*
	 * The surface was replaced (size, format or memory changed), or this
	 * listener was just added. The whole surface is to be taken as
	 * damaged. console_surface_locked() tells the new surface (it may be
	 * NULL: no picture).
	 */
	void (*surface_changed)(void *opaque, struct console *c);
	/* A rectangle of the surface changed (x1 < x2, y1 < y2, clipped). */
	void (*damage)(void *opaque, const pixman_box32_t *box);
	/* The guest's keyboard LEDs changed (enum input_led bits, see
	 * display/input.h); may be NULL. Called without the console lock,
	 * on the thread of the keyboard device (a vCPU): must be quick and
	 * must not add or remove listeners (it runs under the lock that
	 * orders LED notifications against listener changes). */
	void (*leds_changed)(void *opaque, unsigned leds);
	/* The producer's cursor image changed (console_cursor_locked());
	 * may be NULL. Called with the console lock held, on the producer's
	 * thread: only record it. */
	void (*cursor_changed)(void *opaque, struct console *c);
	void *opaque;
	/* Private to console.c. */
	struct console_listener *next_;
};

/* Producers. Both may be NULL. */
struct console_producer_ops {
	/*
	 * Bring the surface up to date now (read the dirty log, render text
	 * mode, ...) and flush the damage. Called from any thread with no
	 * console lock held, also while inactive (a screendump without a
	 * viewer).
	 */
	void (*refresh)(void *opaque);
	/* Start (true) or stop (false) the periodic refresh; see above. */
	void (*set_active)(void *opaque, bool active);
	/*
	 * A consumer asks for a new picture size (a viewer's SetDesktopSize):
	 * 0 if the producer will offer it to the guest (the picture changes
	 * later, if the guest follows), -1 if it cannot. May be NULL (refuse).
	 * Called with no console lock held, on the consumer's thread.
	 */
	int (*request_resize)(void *opaque, int width, int height);
	/*
	 * A consumer just sent the guest input (a key, a pointer event): what
	 * the guest draws in reply is worth showing sooner than the periodic
	 * refresh would. May be NULL. Called with no console lock held, on the
	 * consumer's thread; must be quick.
	 */
	void (*input_activity)(void *opaque);
};

/* Tell the producer that a consumer sent input (see input_activity). */
void console_input_activity(struct console *c);

/* name: for log messages only (copied). NULL on allocation failure. */
struct console *console_create(const char *name);
/* All listeners must have been removed. Frees a console-owned surface. */
void console_destroy(struct console *c);
const char *console_name(const struct console *c);

/*
 * The producer. Calls set_active(true) at once if listeners are already
 * attached. ops must stay valid until console_destroy() or the next call.
 */
void console_set_producer(struct console *c,
			  const struct console_producer_ops *ops, void *opaque);

/*
 * Replace the surface with a console-allocated, zero-filled one. 0, or -1
 * (bad size/format, out of memory: the old surface stays). Listeners get
 * surface_changed. Pending damage is dropped.
 */
int console_set_surface(struct console *c, int width, int height,
			pixman_format_code_t format);
/*
 * Replace the surface with one that aliases the producer's memory: no copy.
 * pixels must hold stride * height bytes (stride a multiple of 4 bytes, at
 * least width * bytes-per-pixel) and stay valid until the surface is
 * replaced again or the console is destroyed. 0 or -1 as above.
 */
int console_set_surface_alias(struct console *c, int width, int height,
			      pixman_format_code_t format, void *pixels,
			      int stride);
/* Drop the surface (no picture: e.g. the display is disabled). */
void console_clear_surface(struct console *c);

/* Current size; 0 x 0 without a surface. Takes the console lock. */
void console_get_size(struct console *c, int *width, int *height);

/*
 * Record damage; coordinates are clipped to the surface, empty or
 * out-of-range rectangles are ignored. console_damage() takes the console
 * lock; console_damage_locked() is for a caller already holding it.
 * Damage is dropped while no listener is attached.
 */
void console_damage(struct console *c, int x, int y, int w, int h);
void console_damage_locked(struct console *c, int x, int y, int w, int h);
void console_damage_region(struct console *c, pixman_region32_t *region);
/*
 * Hand the accumulated damage to every listener as a few rectangles
 * (at most CONSOLE_FLUSH_MAX_RECTS: nearby rectangles are merged) and
 * clear it. Called by the producer after a refresh.
 */
#define CONSOLE_FLUSH_MAX_RECTS 32
bool console_flush(struct console *c);

/*
 * Consumers: attach/detach. console_add_listener() calls surface_changed
 * once for the new listener; after console_remove_listener() returns, no
 * callback for it runs any more. 0 or -1 (already added).
 */
int console_add_listener(struct console *c, struct console_listener *l);
void console_remove_listener(struct console *c, struct console_listener *l);
int console_listener_count(struct console *c);
/* Ask the producer to refresh now (calls ops->refresh, if any). */
void console_refresh(struct console *c);

/*
 * Pixel access. console_lock() takes the console lock and returns the
 * surface (NULL if none), valid until console_unlock(). Producers drawing
 * into a console-allocated surface do it under this lock too, so consumers
 * never see a half-drawn cell.
 */
pixman_image_t *console_lock(struct console *c);
void console_unlock(struct console *c);
/* The surface, for callers holding the lock (e.g. in surface_changed). */
pixman_image_t *console_surface_locked(struct console *c);
/*
 * Copy the rectangle (x, y, w, h) of the surface into dst (stride bytes a
 * row) converted to format. The rectangle must lie inside the surface.
 * Takes the lock. 0, or -1 (no surface, bad rectangle, bad format).
 */
int console_read_pixels(struct console *c, int x, int y, int w, int h,
			pixman_format_code_t format, void *dst, int stride);

/*
 * A hardware cursor (virtio-gpu): an image the consumers may show on the
 * viewer's side (the VNC cursor pseudo-encoding) instead of in the picture.
 * pixels: width * height premultiplied a8r8g8b8 values, copied; width 0
 * (or pixels NULL) removes the cursor. At most CONSOLE_CURSOR_MAX each way.
 * 0 or -1 (bad size). Listeners get cursor_changed.
 */
#define CONSOLE_CURSOR_MAX 256
struct console_cursor {
	int width, height, hot_x, hot_y;
	int x, y;               /* last position the producer reported */
	uint32_t *pixels;       /* NULL: no cursor */
	unsigned serial;        /* bumped on every image change */
};
int console_set_cursor(struct console *c, int width, int height, int hot_x,
		       int hot_y, const uint32_t *pixels);
void console_move_cursor(struct console *c, int x, int y);
/* The cursor, for callers holding the console lock; never NULL. */
const struct console_cursor *console_cursor_locked(struct console *c);

/* Consumers: ask the producer for another picture size (see
 * request_resize). 0 if it will try, -1 if it cannot. */
int console_request_resize(struct console *c, int width, int height);

#endif
