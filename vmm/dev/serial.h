/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART (8 ports from base): what Linux's 8250 driver probes as a
 * "16550A" with working THRE interrupts, the BIOS and the built-in guest.
 *
 * Transmit: bytes go into a 64 KiB host buffer that a writer thread drains to
 * the output fd as soon as it can (so output is batched while the fd is busy
 * and flushed at once when it is idle). The line is "infinitely fast": THRE
 * and TEMT stay set while the host buffer has room for a FIFO's worth of
 * bytes; when the fd cannot keep up they clear, and the guest is flow
 * controlled exactly as by a slow real line.
 *
 * Receive: the caller (event loop thread) offers input with serial_receive();
 * what does not fit in the RX FIFO is refused and the rx_ready callback tells
 * the caller when the guest has made room again.
 *
 * The interrupt line is modelled as a level (asserted while an enabled
 * interrupt is pending) gated by MCR OUT2, as on PC hardware.
 */
#ifndef VMM_DEV_SERIAL_H
#define VMM_DEV_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "../vm.h"

struct serial;

/*
 * Register the UART at [base, base + 8) on vm->pio. out_fd: where THR bytes
 * go (not closed by us), or -1 to discard them. NULL on error.
 */
struct serial *serial_create(struct vm *vm, uint16_t base, unsigned irq,
			     int out_fd);
/* Unregister, flush what is buffered (bounded wait), free. */
void serial_destroy(struct serial *s);

/*
 * Offer input bytes; returns how many fit in the RX FIFO (possibly 0). Any
 * thread, normally the event loop.
 */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/*
 * cb(opaque) is called, on whichever thread made room (usually a vCPU
 * thread, without the UART lock held), after serial_receive() refused bytes
 * and the guest has since drained space. NULL cb: no notification.
 */
void serial_set_rx_ready(struct serial *s, void (*cb)(void *opaque),
			 void *opaque);

#endif
