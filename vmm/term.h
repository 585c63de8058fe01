/* SPDX-License-Identifier: MIT */
/*
 * The serial console on the process's stdio: raw terminal mode (restored on
 * every exit path), the Ctrl-A escape (Ctrl-A x quits, Ctrl-A Ctrl-A sends
 * Ctrl-A), and flow control between stdin and the UART's receive FIFO.
 */
#ifndef VMM_TERM_H
#define VMM_TERM_H

#include "dev/serial.h"
#include "vm.h"

struct term;

/* Feed in_fd (stdin) to the UART; raw mode if in_fd is a terminal. */
struct term *term_create(struct vm *vm, struct serial *uart, int in_fd);
void term_destroy(struct term *t);

/* Put the terminal back as we found it (idempotent, async-signal-safe). */
void term_restore(void);

#endif
