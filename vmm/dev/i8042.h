/* SPDX-License-Identifier: MIT */
/*
 * The i8042 PS/2 controller (data PORT_I8042_DATA, status/command
 * PORT_I8042_CMD; IRQ 1 for the keyboard port, IRQ 12 for the aux port) as
 * Linux's drivers/input/serio/i8042.c probes and drives it.
 *
 * The devices behind its two ports (keyboard, mouse) plug in through a
 * small interface:
 *  - bytes the guest sends to a device arrive in ops->write(dev, byte),
 *    called without the controller lock held, so the device may answer at
 *    once with i8042_push();
 *  - bytes a device sends to the guest go through i8042_push(): each port
 *    has a queue feeding the controller's single output buffer one byte at a
 *    time (the next one after the guest has read the previous one), while
 *    that port is enabled in the command byte.
 * A byte sent to a port with no device gets the controller's answer for a
 * silent device: 0xFE with the status timeout bit set.
 *
 * Keyboard bytes are translated from scancode set 2 to set 1 here when the
 * command byte's translate bit is set, as the real controller does.
 */
#ifndef VMM_DEV_I8042_H
#define VMM_DEV_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "../vm.h"

#define I8042_PORT_KBD 0
#define I8042_PORT_AUX 1

struct i8042;

struct ps2_port_ops {
	/* A byte from the guest to the device (any vCPU thread). */
	void (*write)(void *dev, uint8_t byte);
};

struct i8042 *i8042_create(struct vm *vm);
void i8042_destroy(struct i8042 *c);

/* Attach a device to port 0 (keyboard) or 1 (aux) before the VM runs. */
void i8042_attach(struct i8042 *c, int port, const struct ps2_port_ops *ops,
		  void *dev);

/* A byte from the device on port to the guest (any thread). Dropped, with a
 * rate-limited warning, if the port's queue is full. */
void i8042_push(struct i8042 *c, int port, uint8_t byte);
/* Several bytes, all or none: a device's message (a scancode sequence, a
 * mouse packet) is never cut in the middle when the queue fills up, as a
 * cut one would desynchronise the guest's driver. false: all dropped (no
 * log: the device decides). */
bool i8042_push_all(struct i8042 *c, int port, const uint8_t *bytes,
		    unsigned n);

#endif
