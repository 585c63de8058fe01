/* SPDX-License-Identifier: MIT */
/*
 * A VM without /dev/kvm for device unit tests: the two buses, an interrupt
 * line observer that records levels and rising edges per GSI, and byte-wide
 * port accessors that also check the access was claimed.
 */
#ifndef TESTS_FAKE_VM_H
#define TESTS_FAKE_VM_H

#include "check.h"
#include "vmm/vm.h"

static struct vm vm;
static int irq_level[32], irq_edges[32];

static void observer(struct vm *v, unsigned gsi, int level)
{
	(void)v;
	if (gsi >= 32)
		return;
	if (level && !irq_level[gsi])
		irq_edges[gsi]++;
	irq_level[gsi] = level;
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	CHECK(bus_dispatch(&vm.pio, port, &v, 1, false));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	CHECK(bus_dispatch(&vm.pio, port, &v, 1, true));
}

/* No KVM (fds -1): vm_irq_line only reports to the observer. */
static inline void fake_vm_init(void)
{
	vm.kvm_fd = vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	vm.irq_observer = observer;
}

#endif
