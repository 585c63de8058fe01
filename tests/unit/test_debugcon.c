// SPDX-License-Identifier: MIT
/* Debug console (0xE9) output and read-back, debug exit (0xF4) only when
 * enabled, with the status from the low byte. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "vmm/dev/debugcon.h"
#include "vmm/platform.h"

static void vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
}

static struct vm a, b, c;

int main(void)
{
	int p[2];
	char buf[32] = { 0 };
	uint8_t v;
	uint8_t w[4] = { 0x34, 0x12, 0, 0 };

	CHECK(pipe(p) == 0);
	vm_init(&a);
	CHECK(debugcon_create(&a, p[1], false) == 0);
	for (const char *s = "boot ok\n"; *s; s++) {
		v = (uint8_t)*s;
		CHECK(bus_dispatch(&a.pio, PORT_DEBUGCON, &v, 1, true));
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	CHECK_EQ_U64(read(p[0], buf, sizeof(buf)), 8);
	CHECK(memcmp(buf, "boot ok\n", 8) == 0);
	v = 0;
	CHECK(bus_dispatch(&a.pio, PORT_DEBUGCON, &v, 1, false));
	CHECK_EQ_U64(v, 0xE9);
	/* Debug exit is not there unless asked for. */
	CHECK(!bus_dispatch(&a.pio, PORT_DEBUG_EXIT, w, 1, true));
	CHECK_EQ_U64(atomic_load(&a.stop_reason), VM_RUNNING);

	/* Discarding console, debug exit on: a 2-byte write, low byte. */
	vm_init(&b);
	CHECK(debugcon_create(&b, -1, true) == 0);
	v = 'x';
	CHECK(bus_dispatch(&b.pio, PORT_DEBUGCON, &v, 1, true));
	CHECK(bus_dispatch(&b.pio, PORT_DEBUG_EXIT, w, 2, true));
	CHECK_EQ_U64(atomic_load(&b.stop_reason), VM_STOP_DEBUG_EXIT);
	CHECK_EQ_U64(b.exit_status, 0x34);

	/* 4-byte write. */
	vm_init(&c);
	CHECK(debugcon_create(&c, -1, true) == 0);
	w[0] = 0x01;
	w[3] = 0xFF;
	CHECK(bus_dispatch(&c.pio, PORT_DEBUG_EXIT, w, 4, true));
	CHECK_EQ_U64(atomic_load(&c.stop_reason), VM_STOP_DEBUG_EXIT);
	CHECK_EQ_U64(c.exit_status, 0x01);
	close(p[0]);
	close(p[1]);
	return check_summary("test_debugcon");
}
