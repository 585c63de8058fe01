/* SPDX-License-Identifier: MIT */
/*
 * virtio-input (virtio 1.2, 5.8) over the modern virtio-pci transport, in
 * two flavours, each its own PCI function as QEMU has them:
 *  - a keyboard: EV_KEY for the keys of a PC keyboard, EV_LED (caps, num,
 *    scroll lock, reported back through the status queue), EV_REP;
 *  - a tablet: EV_ABS X/Y over 0..INPUT_ABS_MAX, left/right/middle buttons,
 *    vertical and horizontal wheel (EV_REL).
 * The configuration space answers the select/subsel queries Linux's
 * virtio_input driver makes (name, serial, device ids, property, event and
 * axis bits). Events wait in a small host queue while the driver has no
 * buffer posted; the oldest are dropped when it overflows.
 *
 * Thread-safety: the input calls come from consumer threads and take the
 * device lock (the transport's).
 */
#ifndef VMM_DEV_VIRTIO_INPUT_H
#define VMM_DEV_VIRTIO_INPUT_H

#include <stdbool.h>

#include "../event.h"
#include "../vm.h"
#include "pci.h"

struct virtio_input;

enum virtio_input_kind { VIRTIO_INPUT_KEYBOARD, VIRTIO_INPUT_TABLET };

struct virtio_input_ops {
	/* Keyboard: the guest set its LEDs (bits as display/input.h's
	 * enum input_led). Called with the device lock held. May be NULL. */
	void (*set_leds)(void *opaque, unsigned leds);
};

/* NULL after logging one line. ops may be NULL. */
struct virtio_input *virtio_input_create(struct vm *vm, struct pci_bus *pci,
					 struct event_loop *loop,
					 enum virtio_input_kind kind,
					 const struct virtio_input_ops *ops,
					 void *opaque);
/* After pci_destroy(), with the vCPUs stopped. */
void virtio_input_destroy(struct virtio_input *in);

/* Whether the guest driver is running the device (DRIVER_OK). */
bool virtio_input_active(struct virtio_input *in);
/* Keyboard: an XT scancode (0x80 | code for E0 keys, 0x100 Pause). */
void virtio_input_key(struct virtio_input *in, unsigned xt, bool down);
/* Tablet: x, y in 0..INPUT_ABS_MAX, wheel steps, enum input_button bits. */
void virtio_input_position(struct virtio_input *in, unsigned x, unsigned y,
			   int dz, int dw, unsigned buttons);

/* For tests. */
struct virtio_pci *virtio_input_transport(struct virtio_input *in);

#endif
