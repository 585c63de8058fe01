/* SPDX-License-Identifier: MIT */
/*
 * Private glue between display/console.c (which owns the router and the
 * listener list) and display/input.c (which implements display/input.h).
 * Nobody else includes this.
 */
#ifndef DISPLAY_INPUT_ROUTER_H
#define DISPLAY_INPUT_ROUTER_H

struct console;
struct input_router;

/* input.c: the router state of one console. NULL on allocation failure. */
struct input_router *input_router_create(void);
void input_router_destroy(struct input_router *r);

/* console.c */
struct input_router *console_input_router(struct console *c);
/* The lock ordering LED notifications against listener changes. */
void console_leds_lock(struct console *c);
void console_leds_unlock(struct console *c);
/* Call every listener's leds_changed; the caller holds console_leds_lock. */
void console_notify_leds_locked(struct console *c, unsigned leds);

#endif
