/* SPDX-License-Identifier: MIT */
/*
 * Input routing: consumers (VNC and browser clients) send keyboard and
 * pointer events to a console; the console forwards them to whichever input
 * devices the guest uses. Consumers never know about devices, devices never
 * know about consumers.
 *
 * Keys are PC "XT" scancodes (set 1 make codes), the form QEMU's Extended
 * Key Event carries: 0x01..0x7F for plain keys, 0x80 | code for keys sent
 * with an 0xE0 prefix (e.g. Right Ctrl = 0x9D, Up = 0xC8), and
 * INPUT_KEY_PAUSE for Pause, which has no make/break pair.
 * display/keymap.h turns X11 keysyms into such codes for clients that only
 * send keysyms.
 *
 * Pointer events are absolute, in surface pixels, with a button mask; the
 * router gives them to an absolute device (a tablet) when the guest has one
 * enabled, else turns them into relative motion for a PS/2 mouse.
 *
 * All functions are thread-safe (consumer threads call them); device
 * callbacks are called without any console lock held, from the caller's
 * thread, serialised per console.
 */
#ifndef DISPLAY_INPUT_H
#define DISPLAY_INPUT_H

#include <stdbool.h>
#include <stdint.h>

struct console;

#define INPUT_KEY_PAUSE 0x100

enum input_button {
	INPUT_BUTTON_LEFT = 1u << 0,
	INPUT_BUTTON_MIDDLE = 1u << 1,
	INPUT_BUTTON_RIGHT = 1u << 2,
	INPUT_BUTTON_WHEEL_UP = 1u << 3,
	INPUT_BUTTON_WHEEL_DOWN = 1u << 4,
	INPUT_BUTTON_WHEEL_LEFT = 1u << 5,
	INPUT_BUTTON_WHEEL_RIGHT = 1u << 6,
};

/* Keyboard LEDs, reported by the keyboard device. */
enum input_led {
	INPUT_LED_SCROLL = 1u << 0,
	INPUT_LED_NUM = 1u << 1,
	INPUT_LED_CAPS = 1u << 2,
};

/* A keyboard device (PS/2 keyboard, virtio keyboard, ...). */
struct input_kbd_ops {
	void (*key)(void *opaque, unsigned xt_code, bool down);
};

/* A relative pointer (PS/2 mouse): motion in pixels, wheel steps
 * (dz > 0: up), buttons as enum input_button bits (no wheel bits). */
struct input_rel_ops {
	void (*motion)(void *opaque, int dx, int dy, int dz, int dw,
		       unsigned buttons);
};

/* An absolute pointer (tablet): x, y scaled to 0..INPUT_ABS_MAX. */
#define INPUT_ABS_MAX 0x7FFF
struct input_abs_ops {
	void (*position)(void *opaque, unsigned x, unsigned y, int dz, int dw,
			 unsigned buttons);
	/* Whether the guest driver has enabled the device now. */
	bool (*active)(void *opaque);
};

/* Devices: attach (ops NULL: detach). One of each kind per console. */
void console_input_set_kbd(struct console *c, const struct input_kbd_ops *ops,
			   void *opaque);
void console_input_set_rel(struct console *c, const struct input_rel_ops *ops,
			   void *opaque);
void console_input_set_abs(struct console *c, const struct input_abs_ops *ops,
			   void *opaque);
/* The keyboard device reports its LED state (consumers may forward it). */
void console_input_set_leds(struct console *c, unsigned leds);
unsigned console_input_leds(struct console *c);

/* Consumers. */
void console_input_key(struct console *c, unsigned xt_code, bool down);
void console_input_pointer(struct console *c, int x, int y, unsigned buttons);
/* Release every key still held down (a client disconnected mid-chord). */
void console_input_release_all(struct console *c);

#endif
