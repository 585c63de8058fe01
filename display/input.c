// SPDX-License-Identifier: MIT
/*
 * Input router: keyboard and pointer events from consumers to the guest's
 * input devices (see display/input.h).
 *
 * One mutex per console serialises the events and the device changes, and
 * is held while a device callback runs: after console_input_set_*() returns,
 * the old device gets no more calls, and events reach the devices in the
 * order the router took them. Device callbacks therefore must not call
 * console_input_key/pointer/release_all/set_* on the same console; they may
 * call console_input_set_leds(), which has its own lock. The console lock
 * is never held here while a device runs (console_get_size() is called
 * before the router lock is taken).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "display/console.h"
#include "display/input-router.h"
#include "display/input.h"

#define NKEYS (INPUT_KEY_PAUSE + 1)

#define WHEEL_BUTTONS (INPUT_BUTTON_WHEEL_UP | INPUT_BUTTON_WHEEL_DOWN | \
		       INPUT_BUTTON_WHEEL_LEFT | INPUT_BUTTON_WHEEL_RIGHT)
#define PLAIN_BUTTONS (INPUT_BUTTON_LEFT | INPUT_BUTTON_MIDDLE | \
		       INPUT_BUTTON_RIGHT)

struct input_router {
	pthread_mutex_t lock;
	const struct input_kbd_ops *kbd_ops;
	void *kbd;
	const struct input_rel_ops *rel_ops;
	void *rel;
	const struct input_abs_ops *abs_ops;
	void *abs;

	uint8_t down[(NKEYS + 7) / 8];  /* keys held, by XT code */

	bool have_pos;          /* x, y below are valid */
	int x, y;               /* last pointer position, clamped */
	unsigned buttons;       /* last button mask, wheel bits included */
	/* What the devices last got, to skip events that change nothing. */
	unsigned abs_x, abs_y, abs_buttons;
	unsigned rel_buttons;

	atomic_uint leds;       /* written under the console's leds lock */
};

struct input_router *input_router_create(void)
{
	struct input_router *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void input_router_destroy(struct input_router *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* --- devices ------------------------------------------------------------ */

void console_input_set_kbd(struct console *c, const struct input_kbd_ops *ops,
			   void *opaque)
{
	struct input_router *r = console_input_router(c);

	pthread_mutex_lock(&r->lock);
	r->kbd_ops = ops;
	r->kbd = ops ? opaque : NULL;
	pthread_mutex_unlock(&r->lock);
}

void console_input_set_rel(struct console *c, const struct input_rel_ops *ops,
			   void *opaque)
{
	struct input_router *r = console_input_router(c);

	pthread_mutex_lock(&r->lock);
	r->rel_ops = ops;
	r->rel = ops ? opaque : NULL;
	r->rel_buttons = 0;
	pthread_mutex_unlock(&r->lock);
}

void console_input_set_abs(struct console *c, const struct input_abs_ops *ops,
			   void *opaque)
{
	struct input_router *r = console_input_router(c);

	pthread_mutex_lock(&r->lock);
	r->abs_ops = ops;
	r->abs = ops ? opaque : NULL;
	/* A new device must get the first position whatever it is. */
	r->abs_x = r->abs_y = ~0u;
	r->abs_buttons = 0;
	pthread_mutex_unlock(&r->lock);
}

void console_input_set_leds(struct console *c, unsigned leds)
{
	struct input_router *r = console_input_router(c);

	leds &= INPUT_LED_SCROLL | INPUT_LED_NUM | INPUT_LED_CAPS;
	/* Compare, store and notify under one lock: listeners see every
	 * change once, in order, and end with the last state. */
	console_leds_lock(c);
	if (atomic_load(&r->leds) != leds) {
		atomic_store(&r->leds, leds);
		console_notify_leds_locked(c, leds);
	}
	console_leds_unlock(c);
}

unsigned console_input_leds(struct console *c)
{
	return atomic_load(&console_input_router(c)->leds);
}

/* --- keys --------------------------------------------------------------- */

static bool key_down(const struct input_router *r, unsigned code)
{
	return r->down[code / 8] & (1u << (code % 8));
}

static void set_key(struct input_router *r, unsigned code, bool down)
{
	if (down)
		r->down[code / 8] |= (uint8_t)(1u << (code % 8));
	else
		r->down[code / 8] &= (uint8_t)~(1u << (code % 8));
}

static void send_key(struct input_router *r, unsigned code, bool down)
{
	if (r->kbd_ops && r->kbd_ops->key)
		r->kbd_ops->key(r->kbd, code, down);
}

void console_input_key(struct console *c, unsigned xt_code, bool down)
{
	struct input_router *r = console_input_router(c);
	bool was;

	if (!xt_code || xt_code >= NKEYS)
		return;
	pthread_mutex_lock(&r->lock);
	was = key_down(r, xt_code);
	/* Pause has no break code: it is never "held". */
	if (xt_code != INPUT_KEY_PAUSE)
		set_key(r, xt_code, down);
	/* A press of a held key is a repeat; a release of a key that is not
	 * held (e.g. after release_all) would only confuse the guest. */
	if (down || was)
		send_key(r, xt_code, down);
	pthread_mutex_unlock(&r->lock);
	console_input_activity(c);
}

static bool is_modifier(unsigned code)
{
	switch (code) {
	case 0x1D: case 0x9D:   /* Ctrl */
	case 0x2A: case 0x36:   /* Shift */
	case 0x38: case 0xB8:   /* Alt, AltGr */
	case 0xDB: case 0xDC:   /* Super */
		return true;
	default:
		return false;
	}
}

void console_input_release_all(struct console *c)
{
	struct input_router *r = console_input_router(c);

	pthread_mutex_lock(&r->lock);
	/* Modifiers last, so no released key is seen as a new chord. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned code = 1; code < NKEYS; code++) {
			if (!key_down(r, code) || is_modifier(code) != (pass == 1))
				continue;
			set_key(r, code, false);
			send_key(r, code, false);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

/* --- pointer ------------------------------------------------------------ */

static int clamp_int(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Pixel p of a size-pixel axis to 0..INPUT_ABS_MAX, ends to ends. */
static unsigned scale_axis(int p, int size)
{
	if (size <= 1)
		return 0;
	return (unsigned)(((uint64_t)p * INPUT_ABS_MAX + (uint64_t)(size - 1) / 2) /
			  (uint64_t)(size - 1));
}

/* Wheel steps for wheel buttons pressed now that were not before (a VNC
 * client sends press + release per step). */
static void wheel_steps(unsigned pressed, int *dz, int *dw)
{
	*dz = (pressed & INPUT_BUTTON_WHEEL_UP ? 1 : 0) -
	      (pressed & INPUT_BUTTON_WHEEL_DOWN ? 1 : 0);
	*dw = (pressed & INPUT_BUTTON_WHEEL_RIGHT ? 1 : 0) -
	      (pressed & INPUT_BUTTON_WHEEL_LEFT ? 1 : 0);
}

static bool abs_active(const struct input_router *r)
{
	if (!r->abs_ops || !r->abs_ops->position)
		return false;
	return !r->abs_ops->active || r->abs_ops->active(r->abs);
}

static void to_abs(struct input_router *r, int w, int h, int dz, int dw,
		   unsigned buttons)
{
	unsigned ax = r->abs_x, ay = r->abs_y;

	if (r->have_pos && w > 0 && h > 0) {
		ax = scale_axis(r->x, w);
		ay = scale_axis(r->y, h);
	} else if (ax > INPUT_ABS_MAX || ay > INPUT_ABS_MAX) {
		ax = ay = 0;    /* no surface yet: a corner, not garbage */
	}
	if (ax == r->abs_x && ay == r->abs_y && !dz && !dw &&
	    buttons == r->abs_buttons)
		return;
	r->abs_x = ax;
	r->abs_y = ay;
	r->abs_buttons = buttons;
	r->abs_ops->position(r->abs, ax, ay, dz, dw, buttons);
}

static void to_rel(struct input_router *r, int dx, int dy, int dz, int dw,
		   unsigned buttons)
{
	if (!r->rel_ops || !r->rel_ops->motion)
		return;
	if (!dx && !dy && !dz && !dw && buttons == r->rel_buttons)
		return;
	r->rel_buttons = buttons;
	r->rel_ops->motion(r->rel, dx, dy, dz, dw, buttons);
}

void console_input_pointer(struct console *c, int x, int y, unsigned buttons)
{
	struct input_router *r = console_input_router(c);
	int w, h, dz, dw, dx = 0, dy = 0;
	unsigned plain = buttons & PLAIN_BUTTONS;

	/* Before the router lock: never hold it while taking the console's. */
	console_get_size(c, &w, &h);
	pthread_mutex_lock(&r->lock);
	wheel_steps(buttons & ~r->buttons & WHEEL_BUTTONS, &dz, &dw);
	r->buttons = buttons;
	if (w > 0 && h > 0) {
		/* VNC positions are not clamped to the framebuffer. */
		x = clamp_int(x, 0, w - 1);
		y = clamp_int(y, 0, h - 1);
		if (r->have_pos) {
			dx = x - r->x;
			dy = y - r->y;
		}
		r->x = x;
		r->y = y;
		r->have_pos = true;
	}
	if (abs_active(r))
		to_abs(r, w, h, dz, dw, plain);
	else
		to_rel(r, dx, dy, dz, dw, plain);
	pthread_mutex_unlock(&r->lock);
	console_input_activity(c);
}
