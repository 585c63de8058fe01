/* SPDX-License-Identifier: MIT */
/*
 * X11 keysyms (what a VNC KeyEvent carries) -> PC XT scancodes (the codes
 * display/input.h routes: set 1 make codes, 0x80 | code for 0xE0 keys,
 * INPUT_KEY_PAUSE), for a guest with a US keyboard layout.
 *
 * A keysym maps to the key that produces it: 'a' and 'A' both give 0x1E,
 * '1' and '!' both 0x02. Whether the guest must also see Shift is a
 * separate question: VNC clients send Shift key events themselves (and
 * their keysym already includes its effect), so a VNC server forwards only
 * the key; a "type this text" feature must hold Shift around the keys for
 * which keymap_needs_shift() says so.
 *
 * Covered: Latin-1 keysyms a US layout types (printable ASCII), Return,
 * BackSpace, Tab, ISO_Left_Tab, Escape, the cursor and editing block, F1-F24,
 * the keypad (digits and Num Lock off keysyms alike), modifiers (Shift,
 * Control, Alt, Meta, Super, AltGr), Menu, Print, Sys_Req, Pause, Break, the
 * lock keys.
 */
#ifndef DISPLAY_KEYMAP_H
#define DISPLAY_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

/* The XT code of keysym's key on a US layout, or 0 if it has none. */
unsigned keymap_keysym_to_xt(uint32_t keysym);

/* Whether typing keysym on a US layout needs Shift held ('A', '!', '~',
 * ...). False for keysyms with no key. */
bool keymap_needs_shift(uint32_t keysym);

#endif
