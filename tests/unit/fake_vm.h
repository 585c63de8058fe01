/* SPDX-License-Identifier: MIT */
/*
 * A VM without /dev/kvm for device unit tests: the two buses, an interrupt
 * line observer that records levels and rising edges per GSI, and byte-wide
 * port accessors that also check the access was claimed.
 */
#ifndef TESTS_FAKE_VM_H
#define TESTS_FAKE_VM_H

#include <stdbool.h>

#include "check.h"
#include "vmm/platform.h"
#include "vmm/vm.h"

#define STR_OBF     0x01   /* i8042 status: output buffer full */
#define STR_AUXDATA 0x20   /* i8042 status: the byte is from the AUX port */

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

/*
 * Read everything waiting in the i8042's output buffer into buf (up to max
 * bytes; the count returned may be larger), checking that every byte comes
 * from the AUX port when aux is true and from the keyboard otherwise.
 */
static inline unsigned i8042_drain(uint8_t *buf, unsigned max, bool aux)
{
	unsigned n = 0;

	while ((inb(PORT_I8042_CMD) & STR_OBF) && n < 4096) {
		CHECK(!!(inb(PORT_I8042_CMD) & STR_AUXDATA) == aux);
		uint8_t b = inb(PORT_I8042_DATA);

		if (n < max)
			buf[n] = b;
		n++;
	}
	return n;
}

/* The output buffer holds exactly these bytes, via the test's drain(). */
#define EXPECT(...)                                                         \
	do {                                                                \
		static const uint8_t want__[] = { __VA_ARGS__ };            \
		uint8_t got__[64];                                          \
		unsigned n__ = drain(got__, sizeof(got__));                 \
		CHECK_EQ_U64(n__, sizeof(want__));                          \
		for (unsigned i__ = 0; i__ < sizeof(want__) && i__ < n__; i__++) \
			CHECK_EQ_U64(got__[i__], want__[i__]);              \
	} while (0)

#define EXPECT_NONE() CHECK_EQ_U64(drain(NULL, 0), 0)

#endif
