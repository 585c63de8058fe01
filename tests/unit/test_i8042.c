// SPDX-License-Identifier: MIT
/* i8042 controller: Linux's probe (i8042_controller_check / _selftest /
 * _init, i8042_check_aux), command byte, per-port IRQs with one edge per
 * byte, port queues, loopback, set 2 -> set 1 translation, missing-device
 * timeouts, attached devices, reset commands. */
#include <string.h>

#include "check.h"
#include "fake_vm.h"
#include "vmm/dev/i8042.h"
#include "vmm/platform.h"

#define STR_SYS     0x04
#define STR_CMD     0x08
#define STR_TIMEOUT 0x40

static struct i8042 *ctl;

static uint8_t status(void)
{
	return inb(PORT_I8042_CMD);
}

/* Linux's __i8042_command(): low byte command, bits 12-15 bytes out,
 * bits 8-11 bytes back; -1 where Linux would time out. */
static int command(uint8_t *param, int cmd)
{
	outb(PORT_I8042_CMD, (uint8_t)cmd);
	for (int i = 0; i < ((cmd >> 12) & 0xF); i++)
		outb(PORT_I8042_DATA, param[i]);
	for (int i = 0; i < ((cmd >> 8) & 0xF); i++) {
		uint8_t st = status();

		if (!(st & STR_OBF))
			return -1;
		if (cmd == 0x11D3 && !(st & STR_AUXDATA)) {
			param[i] = inb(PORT_I8042_DATA);
			return -1;
		}
		param[i] = inb(PORT_I8042_DATA);
	}
	return 0;
}

/* i8042_flush(): bytes drained, -1 if it never ends. */
static int flush(void)
{
	int n = 0;

	while (status() & STR_OBF) {
		if (n++ >= 16)
			return -1;
		inb(PORT_I8042_DATA);
	}
	return n;
}

static int stop_reason(void)
{
	return atomic_load(&vm.stop_reason);
}

static void test_linux_probe(void)
{
	uint8_t param, ctr[2];

	/* i8042_controller_check */
	CHECK_EQ_U64(flush(), 0);
	CHECK(status() & STR_SYS);
	CHECK(status() & 0x10);                  /* keylock off */
	/* i8042_controller_selftest */
	CHECK(command(&param, 0x01AA) == 0);
	CHECK_EQ_U64(param, 0x55);
	/* i8042_controller_init: read the CTR until two reads agree. */
	CHECK(command(&ctr[0], 0x0120) == 0);
	CHECK(command(&ctr[1], 0x0120) == 0);
	CHECK_EQ_U64(ctr[0], ctr[1]);
	CHECK_EQ_U64(ctr[0], 0x65);              /* XLATE AUXDIS SYS KBDINT */
	param = (uint8_t)((ctr[0] | 0x10) & ~0x01);
	CHECK(command(&param, 0x1060) == 0);
	CHECK(command(&param, 0x0120) == 0);
	CHECK_EQ_U64(param, 0x74);
	CHECK_EQ_U64(flush(), 0);

	/* i8042_check_aux: AUX_LOOP must echo with the AUX bit. */
	param = 0x5A;
	CHECK(command(&param, 0x11D3) == 0);
	CHECK_EQ_U64(param, 0x5A);
	CHECK_EQ_U64(irq_level[IRQ_MOUSE], 0);   /* AUXINT still off */
	/* i8042_toggle_aux */
	CHECK(command(NULL, 0x00A7) == 0);
	CHECK(command(&param, 0x0120) == 0);
	CHECK(param & 0x20);
	CHECK(command(NULL, 0x00A8) == 0);
	CHECK(command(&param, 0x0120) == 0);
	CHECK(!(param & 0x20));
	/* AUX_TEST (used when the loop fails) answers 0. */
	CHECK(command(&param, 0x01A9) == 0);
	CHECK_EQ_U64(param, 0);
	CHECK(command(&param, 0x01AB) == 0);
	CHECK_EQ_U64(param, 0);
	/* AUX IRQ delivery test: AUXINT on, 0xD3 0xA5 without reading back. */
	CHECK(command(&param, 0x0120) == 0);
	param = (uint8_t)((param & ~0x20) | 0x02);
	CHECK(command(&param, 0x1060) == 0);
	param = 0xA5;
	int edges = irq_edges[IRQ_MOUSE];

	CHECK(command(&param, 0x10D3) == 0);
	CHECK_EQ_U64(irq_level[IRQ_MOUSE], 1);
	CHECK_EQ_U64(irq_edges[IRQ_MOUSE], edges + 1);
	CHECK_EQ_U64(irq_level[IRQ_KEYBOARD], 0);
	CHECK_EQ_U64(status() & (STR_OBF | STR_AUXDATA), STR_OBF | STR_AUXDATA);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0xA5);
	CHECK_EQ_U64(irq_level[IRQ_MOUSE], 0);
	CHECK_EQ_U64(flush(), 0);

	/* Keyboard loopback (0xD2): kbd byte, IRQ 1 once KBDINT is on. */
	param = 0x47;                            /* XLATE SYS KBDINT AUXINT */
	CHECK(command(&param, 0x1060) == 0);
	param = 0x61;
	CHECK(command(&param, 0x10D2) == 0);
	CHECK_EQ_U64(irq_level[IRQ_KEYBOARD], 1);
	CHECK_EQ_U64(status() & (STR_OBF | STR_AUXDATA), STR_OBF);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0x61);
	CHECK_EQ_U64(irq_level[IRQ_KEYBOARD], 0);
	/* An empty buffer reads the last byte again. */
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0x61);
	CHECK_EQ_U64(irq_level[IRQ_KEYBOARD], 0);
}

static void test_ram_and_status(void)
{
	uint8_t v;

	v = 0x5C;
	CHECK(command(&v, 0x1061 + 0x10) == 0);  /* RAM byte 0x11 */
	CHECK(command(&v, 0x0131) == 0);
	CHECK_EQ_U64(v, 0x5C);
	outb(PORT_I8042_CMD, 0xAD);
	CHECK(status() & STR_CMD);
	outb(PORT_I8042_CMD, 0xAE);
	outb(PORT_I8042_CMD, 0xD2);
	outb(PORT_I8042_DATA, 0x00);
	CHECK(!(status() & STR_CMD));
	inb(PORT_I8042_DATA);
	/* Clearing SYS in the CTR clears the status flag. */
	v = 0x43;
	CHECK(command(&v, 0x1060) == 0);
	CHECK(!(status() & STR_SYS));
	v = 0x47;
	CHECK(command(&v, 0x1060) == 0);
	CHECK(status() & STR_SYS);
}

static void test_queues_and_translation(void)
{
	uint8_t v;
	int edges = irq_edges[IRQ_KEYBOARD];

	/* Set 2 -> set 1: 'a' make/break, E0 sequences, F7 (0x83). */
	static const uint8_t in[] = { 0x1C, 0xF0, 0x1C, 0xE0, 0x75, 0xE0, 0xF0,
				      0x75, 0x83, 0x76, 0xFA };
	static const uint8_t want[] = { 0x1E, 0x9E, 0xE0, 0x48, 0xE0, 0xC8,
					0x41, 0x01, 0xFA };

	for (unsigned i = 0; i < sizeof(in); i++)
		i8042_push(ctl, I8042_PORT_KBD, in[i]);
	for (unsigned i = 0; i < sizeof(want); i++) {
		CHECK_EQ_U64(irq_level[IRQ_KEYBOARD], 1);
		CHECK_EQ_U64(status() & (STR_OBF | STR_AUXDATA), STR_OBF);
		CHECK_EQ_U64(inb(PORT_I8042_DATA), want[i]);
	}
	/* One interrupt edge per byte: Linux reads one byte per IRQ. */
	CHECK_EQ_U64(irq_edges[IRQ_KEYBOARD], edges + (int)sizeof(want));
	CHECK_EQ_U64(irq_level[IRQ_KEYBOARD], 0);
	CHECK(!(status() & STR_OBF));

	/* Translation off: raw set 2 bytes. */
	v = 0x07;
	CHECK(command(&v, 0x1060) == 0);
	i8042_push(ctl, I8042_PORT_KBD, 0xF0);
	i8042_push(ctl, I8042_PORT_KBD, 0x1C);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0xF0);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0x1C);
	v = 0x47;
	CHECK(command(&v, 0x1060) == 0);

	/* A disabled port holds its bytes; the other port still flows. */
	outb(PORT_I8042_CMD, 0xAD);
	i8042_push(ctl, I8042_PORT_KBD, 0x1C);
	i8042_push(ctl, I8042_PORT_AUX, 0x08);
	CHECK_EQ_U64(status() & (STR_OBF | STR_AUXDATA), STR_OBF | STR_AUXDATA);
	CHECK_EQ_U64(irq_level[IRQ_MOUSE], 1);
	CHECK_EQ_U64(irq_level[IRQ_KEYBOARD], 0);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0x08);
	CHECK(!(status() & STR_OBF));
	outb(PORT_I8042_CMD, 0xAE);
	CHECK_EQ_U64(status() & (STR_OBF | STR_AUXDATA), STR_OBF);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0x1E);
	/* Interrupts off in the CTR: data but no line. */
	v = 0x44;
	CHECK(command(&v, 0x1060) == 0);
	i8042_push(ctl, I8042_PORT_KBD, 0x1C);
	CHECK(status() & STR_OBF);
	CHECK_EQ_U64(irq_level[IRQ_KEYBOARD], 0);
	inb(PORT_I8042_DATA);
	v = 0x47;
	CHECK(command(&v, 0x1060) == 0);
	/* A full queue drops, never overflows. */
	outb(PORT_I8042_CMD, 0xA7);
	for (int i = 0; i < 1000; i++)
		i8042_push(ctl, I8042_PORT_AUX, (uint8_t)i);
	outb(PORT_I8042_CMD, 0xA8);
	int n = 0;

	while ((status() & STR_OBF) && n < 2000) {
		CHECK_EQ_U64(inb(PORT_I8042_DATA), (uint8_t)n);
		n++;
	}
	CHECK(n >= 16 && n < 1000);
}

static void test_no_device(void)
{
	/* A byte to an empty port: 0xFE with the timeout bit. */
	outb(PORT_I8042_DATA, 0xFF);
	CHECK_EQ_U64(status() & (STR_OBF | STR_TIMEOUT | STR_AUXDATA),
		     STR_OBF | STR_TIMEOUT);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0xFE);
	CHECK(!(status() & STR_TIMEOUT));
	outb(PORT_I8042_CMD, 0xD4);
	outb(PORT_I8042_DATA, 0xF2);
	CHECK_EQ_U64(status() & (STR_OBF | STR_TIMEOUT | STR_AUXDATA),
		     STR_OBF | STR_TIMEOUT | STR_AUXDATA);
	CHECK_EQ_U64(irq_level[IRQ_MOUSE], 1);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0xFE);
}

/* Fake devices that answer from inside write(): no deadlock allowed. */
struct fake {
	int port;
	uint8_t got[8];
	int n;
};

static void fake_write(void *dev, uint8_t byte)
{
	struct fake *f = dev;

	if (f->n < 8)
		f->got[f->n++] = byte;
	i8042_push(ctl, f->port, 0xFA);
	if (f->port == I8042_PORT_AUX && byte == 0xF2)
		i8042_push(ctl, f->port, 0x00);   /* mouse ID */
}

static const struct ps2_port_ops fake_ops = { .write = fake_write };

static void test_devices(void)
{
	static struct fake kbd = { .port = I8042_PORT_KBD };
	static struct fake aux = { .port = I8042_PORT_AUX };

	i8042_attach(ctl, I8042_PORT_KBD, &fake_ops, &kbd);
	i8042_attach(ctl, I8042_PORT_AUX, &fake_ops, &aux);
	/* A data write goes to the keyboard and re-enables its port. */
	outb(PORT_I8042_CMD, 0xAD);
	outb(PORT_I8042_DATA, 0xF4);
	CHECK_EQ_U64(kbd.n, 1);
	CHECK_EQ_U64(kbd.got[0], 0xF4);
	CHECK_EQ_U64(status() & (STR_OBF | STR_AUXDATA | STR_TIMEOUT), STR_OBF);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0xFA);
	/* 0xD4: to the mouse; its answers carry the AUX bit. */
	outb(PORT_I8042_CMD, 0xD4);
	outb(PORT_I8042_DATA, 0xF2);
	CHECK_EQ_U64(aux.n, 1);
	CHECK_EQ_U64(aux.got[0], 0xF2);
	CHECK_EQ_U64(kbd.n, 1);
	CHECK_EQ_U64(status() & (STR_OBF | STR_AUXDATA), STR_OBF | STR_AUXDATA);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0xFA);
	CHECK_EQ_U64(status() & (STR_OBF | STR_AUXDATA), STR_OBF | STR_AUXDATA);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0x00);
	CHECK(!(status() & STR_OBF));
	/* The CTR write command's data byte is not a keyboard byte. */
	uint8_t v = 0x47;

	CHECK(command(&v, 0x1060) == 0);
	CHECK_EQ_U64(kbd.n, 1);
}

static void test_resets(void)
{
	uint8_t v;

	atomic_store(&vm.stop_reason, VM_RUNNING);
	outb(PORT_I8042_CMD, 0xFF);                 /* pulse nothing */
	outb(PORT_I8042_CMD, 0xF1);
	CHECK_EQ_U64(stop_reason(), VM_RUNNING);
	CHECK(command(&v, 0x01D0) == 0);
	CHECK_EQ_U64(v & 0x03, 0x03);
	v = 0x03;                                   /* A20 on, no reset */
	CHECK(command(&v, 0x10D1) == 0);
	CHECK_EQ_U64(stop_reason(), VM_RUNNING);
	outb(PORT_I8042_CMD, 0xFE);                 /* reboot=kbd */
	CHECK_EQ_U64(stop_reason(), VM_STOP_REBOOT);
	atomic_store(&vm.stop_reason, VM_RUNNING);
	v = 0x02;
	CHECK(command(&v, 0x10D1) == 0);
	CHECK_EQ_U64(stop_reason(), VM_STOP_REBOOT);
	atomic_store(&vm.stop_reason, VM_RUNNING);
	outb(PORT_I8042_CMD, 0xF0);
	CHECK_EQ_U64(stop_reason(), VM_STOP_REBOOT);
	atomic_store(&vm.stop_reason, VM_RUNNING);
}

static void test_hostile(void)
{
	uint8_t w[2] = { 0, 0 };

	/* Every command followed by every data value, then reads. */
	for (unsigned c = 0; c < 256; c++) {
		if ((c >= 0xF0 && !(c & 1)) || c == 0xD1)
			continue;   /* resets: tested above */
		outb(PORT_I8042_CMD, (uint8_t)c);
		outb(PORT_I8042_DATA, (uint8_t)(c * 13));
		for (int i = 0; i < 4; i++)
			inb(PORT_I8042_DATA);
	}
	CHECK_EQ_U64(stop_reason(), VM_RUNNING);
	CHECK(!bus_dispatch(&vm.pio, PORT_I8042_DATA, w, 2, false));
	CHECK_EQ_U64(flush() >= 0, 1);
	uint8_t v;

	CHECK(command(&v, 0x01AA) == 0);
	CHECK_EQ_U64(v, 0x55);
}

int main(void)
{
	fake_vm_init();
	ctl = i8042_create(&vm);
	CHECK(ctl != NULL);
	test_linux_probe();
	test_ram_and_status();
	test_queues_and_translation();
	test_no_device();
	test_devices();
	test_resets();
	test_hostile();
	i8042_destroy(ctl);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	return check_summary("test_i8042");
}
