/* SPDX-License-Identifier: MIT */
/*
 * A PS/2 (AT) keyboard behind the i8042's keyboard port, as Linux's atkbd
 * (drivers/input/keyboard/atkbd.c over drivers/input/serio/libps2.c) probes
 * and drives it: reset (FA AA), get ID (FA AB 83), LEDs, scancode set
 * query/selection (sets 1 and 2; a request for set 3 is acknowledged but the
 * keyboard stays in set 2, which atkbd detects and accepts), typematic,
 * enable/disable, defaults, echo, resend, the set 3 mode commands (ACK only).
 * Unknown commands get 0xFE.
 *
 * Keys come in as PC "XT" codes (scancode set 1 make codes; 0x80 | code for
 * keys with an 0xE0 prefix; PS2KBD_KEY_PAUSE for Pause) and go out as set 2
 * make/break sequences (or set 1 if the guest selected it); the i8042 turns
 * set 2 into set 1 when its command byte asks for translation. Print Screen
 * and Pause follow a real keyboard: Alt+Print is SysRq (set 2 0x84),
 * Ctrl/Shift+Print sends E0 7C alone, Ctrl+Pause is Break (E0 7E E0 F0 7E).
 *
 * Each key's sequence goes into the i8042's bounded queue whole or not at
 * all: when the guest does not read, keys are dropped like on a real
 * keyboard whose buffer is full, but never half a sequence.
 *
 * Thread-safe: the guest's commands come from vCPU threads, keys from any
 * thread. The LED callback is called without the device lock held.
 */
#ifndef VMM_DEV_PS2KBD_H
#define VMM_DEV_PS2KBD_H

#include <stdbool.h>

#include "i8042.h"

/* Same value as display/input.h's INPUT_KEY_PAUSE. */
#define PS2KBD_KEY_PAUSE 0x100

/* LED bits as the guest sets them with 0xED (same bits as enum input_led). */
#define PS2KBD_LED_SCROLL 0x01
#define PS2KBD_LED_NUM    0x02
#define PS2KBD_LED_CAPS   0x04

struct ps2kbd_ops {
	/* The guest set the LEDs (PS2KBD_LED_* bits); from a vCPU thread,
	 * without the device lock: it may call back into ps2kbd_key(). */
	void (*set_leds)(void *opaque, unsigned leds);
};

struct ps2kbd;

/* Creates the keyboard and attaches it to ctl's keyboard port. ops may be
 * NULL. NULL on allocation failure. */
struct ps2kbd *ps2kbd_create(struct i8042 *ctl, const struct ps2kbd_ops *ops,
			     void *opaque);
/* Detaches and frees; the vCPUs must be stopped. */
void ps2kbd_destroy(struct ps2kbd *k);

/* A key pressed (down) or released. A press of a key already down is a
 * typematic repeat and sends its make code again. Invalid codes are ignored. */
void ps2kbd_key(struct ps2kbd *k, unsigned xt_code, bool down);

/* The LED state the guest last set (PS2KBD_LED_* bits). */
unsigned ps2kbd_leds(struct ps2kbd *k);

/*
 * The set 2 make (down) or break sequence of a key, as the keyboard sends
 * it with no modifier held, into out (at least 8 bytes). Returns the
 * length, 0 if the key has none (invalid code, Pause release). For tests
 * and for whoever needs the codes.
 */
unsigned ps2kbd_set2_sequence(unsigned xt_code, bool down, uint8_t *out);

#endif
