/* SPDX-License-Identifier: MIT */
/*
 * The debug console port (PORT_DEBUGCON, like QEMU's isa-debugcon: each byte
 * written is guest text; a read returns 0xE9 so a guest can detect it) and,
 * for the built-in guest only, the debug exit port (PORT_DEBUG_EXIT: writing
 * v stops the VM with exit status v & 0xFF).
 */
#ifndef VMM_DEV_DEBUGCON_H
#define VMM_DEV_DEBUGCON_H

#include <stdbool.h>

#include "../vm.h"

/* out_fd: where the text goes (not closed by us), -1 to discard it.
 * debug_exit: also claim PORT_DEBUG_EXIT. 0 or -1. */
int debugcon_create(struct vm *vm, int out_fd, bool debug_exit);

#endif
