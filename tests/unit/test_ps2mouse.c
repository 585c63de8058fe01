// SPDX-License-Identifier: MIT
/* PS/2 mouse through the i8042: psmouse's reset and probes, the
 * IntelliMouse and Explorer knocks, status, modes, packet encoding checked
 * with psmouse's own decoding rules, big motions split, wheels, disabled
 * reporting, remote and wrap modes, the bounded queue. */
#include <string.h>

#include "check.h"
#include "fake_vm.h"
#include "vmm/dev/i8042.h"
#include "vmm/dev/ps2mouse.h"
#include "vmm/platform.h"

static struct i8042 *ctl;
static struct ps2mouse *mouse;

static unsigned drain(uint8_t *buf, unsigned max)
{
	return i8042_drain(buf, max, true);
}

/* Linux's i8042 sends aux bytes with 0xD4. */
static void aux(uint8_t b)
{
	outb(PORT_I8042_CMD, 0xD4);
	outb(PORT_I8042_DATA, b);
}

static void aux2(uint8_t cmd, uint8_t arg)
{
	aux(cmd);
	aux(arg);
}

static void set_rate(uint8_t r)
{
	aux2(0xF3, r);
	EXPECT(0xFA, 0xFA);
}

/* Packets decoded as psmouse_process_byte() does: REL_X, REL_Y (down
 * positive), REL_WHEEL (up positive), REL_HWHEEL, buttons. */
struct decoded {
	int x, y, wheel, hwheel, packets;
	unsigned buttons;   /* L=1 M=2 R=4 of the last packet */
	bool bad;           /* bit 3 missing or overflow bits set */
};

static int sign_extend(unsigned v, int bit)
{
	return (int)(v << (31 - bit)) >> (31 - bit);
}

static struct decoded decode(int type, bool hwheel)
{
	uint8_t p[512];
	unsigned n = drain(p, sizeof(p)), len = type ? 4 : 3;
	struct decoded d = { 0 };

	if (n % len || n > sizeof(p)) {
		d.bad = true;
		return d;
	}
	for (unsigned i = 0; i < n; i += len) {
		const uint8_t *q = p + i;

		if (!(q[0] & 0x08) || (q[0] & 0xC0))
			d.bad = true;
		d.x += q[1] ? (int)q[1] - (int)((q[0] << 4) & 0x100) : 0;
		d.y += q[2] ? (int)((q[0] << 3) & 0x100) - (int)q[2] : 0;
		d.buttons = (q[0] & 1 ? 1 : 0) | (q[0] & 4 ? 2 : 0) |
			    (q[0] & 2 ? 4 : 0);
		if (type == 3) {
			d.wheel += -(signed char)q[3];
		} else if (type == 4) {
			switch (q[3] & 0xC0) {
			case 0x80:
				CHECK(hwheel);
				d.wheel -= sign_extend(q[3], 5);
				break;
			case 0x40:
				CHECK(hwheel);
				d.hwheel -= sign_extend(q[3], 5);
				break;
			default:
				d.wheel -= sign_extend(q[3], 3);
			}
		}
		d.packets++;
	}
	return d;
}

static void enable_aux(void)
{
	/* XLATE SYS KBDINT AUXINT, both ports on. */
	outb(PORT_I8042_CMD, 0x60);
	outb(PORT_I8042_DATA, 0x47);
}

static void test_probe(void)
{
	uint8_t st[8];

	enable_aux();
	EXPECT_NONE();
	int edges = irq_edges[IRQ_MOUSE];

	/* psmouse_reset */
	aux(0xFF);
	EXPECT(0xFA, 0xAA, 0x00);
	CHECK_EQ_U64(irq_edges[IRQ_MOUSE], edges + 3);
	CHECK_EQ_U64(irq_edges[IRQ_KEYBOARD], 0);
	/* psmouse_probe: GET ID, then reset-disable */
	aux(0xF2);
	EXPECT(0xFA, 0x00);
	aux(0xF6);
	EXPECT(0xFA);
	/* Synaptics: E8 00 x4 then E9: byte 1 must not be 0x47. */
	for (int i = 0; i < 4; i++) {
		aux2(0xE8, 0x00);
		EXPECT(0xFA, 0xFA);
	}
	aux(0xE9);
	CHECK_EQ_U64(drain(st, sizeof(st)), 4);
	CHECK_EQ_U64(st[0], 0xFA);
	CHECK(st[2] != 0x47);
	CHECK_EQ_U64(st[2], 0x00);            /* resolution as set */
	CHECK_EQ_U64(st[3], 100);
	/* ALPS E6 report: a plain mouse's status, scaling 1:1. */
	for (int i = 0; i < 3; i++) {
		aux(0xE6);
		EXPECT(0xFA);
	}
	aux(0xE9);
	EXPECT(0xFA, 0x00, 0x00, 100);
	/* E7 x3: scaling 2:1 shows in the status. */
	for (int i = 0; i < 3; i++) {
		aux(0xE7);
		EXPECT(0xFA);
	}
	aux(0xE9);
	EXPECT(0xFA, 0x10, 0x00, 100);
	/* intellimouse_detect */
	set_rate(200);
	set_rate(100);
	set_rate(80);
	aux(0xF2);
	EXPECT(0xFA, 0x03);
	/* im_explorer_detect, then the 4.0 horizontal knock */
	set_rate(200);
	set_rate(200);
	set_rate(80);
	aux(0xF2);
	EXPECT(0xFA, 0x04);
	set_rate(200);
	set_rate(80);
	set_rate(40);
	/* psmouse_initialize + activate */
	aux2(0xE8, 0x03);
	EXPECT(0xFA, 0xFA);
	set_rate(100);
	aux(0xE6);
	EXPECT(0xFA);
	aux(0xF4);
	EXPECT(0xFA);
	aux(0xE9);
	EXPECT(0xFA, 0x20, 0x03, 100);
	/* Bad arguments. */
	aux2(0xE8, 0x04);
	EXPECT(0xFA, 0xFE);
	aux2(0xF3, 0x00);
	EXPECT(0xFA, 0xFE);
	aux(0x01);
	EXPECT(0xFE);
	aux(0xEC);              /* reset wrap outside wrap mode: ACK */
	EXPECT(0xFA);
	/* A command where a data byte was expected starts that command. */
	aux(0xF3);
	aux(0xF2);
	EXPECT(0xFA, 0xFA, 0x04);
	/* Resend: the last message again. */
	aux(0xFE);
	EXPECT(0xFA, 0x04);
}

static void test_plain_packets(void)
{
	struct decoded d;
	uint8_t p[16];

	aux(0xFF);
	EXPECT(0xFA, 0xAA, 0x00);
	/* Reset: reporting off, nothing sent. */
	ps2mouse_motion(mouse, 10, 10, 0, 0, PS2MOUSE_BUTTON_LEFT);
	EXPECT_NONE();
	aux(0xE9);
	EXPECT(0xFA, 0x04, 0x02, 100);        /* left button in the status */
	aux(0xF4);
	EXPECT(0xFA);
	/* Exact bytes: right 5, down 3, left button. */
	ps2mouse_motion(mouse, 5, 3, 0, 0, PS2MOUSE_BUTTON_LEFT);
	EXPECT(0x29, 0x05, 0xFD);
	ps2mouse_motion(mouse, -1, -2, 0, 0, 0);
	EXPECT(0x18, 0xFF, 0x02);
	/* Buttons alone. */
	ps2mouse_motion(mouse, 0, 0, 0, 0, PS2MOUSE_BUTTON_RIGHT);
	EXPECT(0x0A, 0x00, 0x00);
	ps2mouse_motion(mouse, 0, 0, 0, 0, PS2MOUSE_BUTTON_MIDDLE);
	EXPECT(0x0C, 0x00, 0x00);
	ps2mouse_motion(mouse, 0, 0, 0, 0, PS2MOUSE_BUTTON_MIDDLE);
	EXPECT_NONE();                         /* nothing changed */
	/* A wheel the guest did not enable is not reported. */
	ps2mouse_motion(mouse, 0, 0, 3, 2, PS2MOUSE_BUTTON_MIDDLE);
	EXPECT_NONE();
	/* Big motions: split, never the overflow bits, sums exact. */
	ps2mouse_motion(mouse, 600, -1000, 0, 0, 0);
	d = decode(0, false);
	CHECK(!d.bad);
	CHECK_EQ_U64(d.x, 600);
	CHECK_EQ_U64(d.y, -1000);
	CHECK_EQ_U64(d.packets, 4);
	ps2mouse_motion(mouse, -256, 256, 0, 0, PS2MOUSE_BUTTON_LEFT);
	d = decode(0, false);
	CHECK(!d.bad);
	CHECK_EQ_U64(d.x, -256);
	CHECK_EQ_U64(d.y, 256);
	CHECK_EQ_U64(d.buttons, 1);
	/* Absurd motion: bounded number of packets, no overflow. */
	ps2mouse_motion(mouse, 1 << 30, -(1 << 30), 0, 0, 0);
	d = decode(0, false);
	CHECK(!d.bad);
	CHECK(d.packets >= 1 && d.packets <= PS2MOUSE_MAX_PACKETS);
	ps2mouse_motion(mouse, -2147483647 - 1, -2147483647 - 1, 0, 0, 0);
	d = decode(0, false);
	CHECK(!d.bad);
	/* Scaling 2:1 applies to stream packets. */
	aux(0xE7);
	EXPECT(0xFA);
	ps2mouse_motion(mouse, 2, 0, 0, 0, 0);
	EXPECT(0x08, 0x01, 0x00);
	ps2mouse_motion(mouse, 10, 0, 0, 0, 0);
	EXPECT(0x08, 20, 0x00);
	aux(0xE6);
	EXPECT(0xFA);
	/* Disabled: nothing, and nothing left over after enabling. */
	aux(0xF5);
	EXPECT(0xFA);
	ps2mouse_motion(mouse, 7, 7, 0, 0, PS2MOUSE_BUTTON_LEFT);
	EXPECT_NONE();
	aux(0xF4);
	EXPECT(0xFA);
	ps2mouse_motion(mouse, 1, 0, 0, 0, PS2MOUSE_BUTTON_LEFT);
	EXPECT(0x09, 0x01, 0x00);
	/* Remote mode: motion waits for 0xEB. */
	aux(0xF0);
	EXPECT(0xFA);
	ps2mouse_motion(mouse, 3, 0, 0, 0, PS2MOUSE_BUTTON_LEFT);
	ps2mouse_motion(mouse, 4, -1, 0, 0, PS2MOUSE_BUTTON_LEFT);
	EXPECT_NONE();
	aux(0xE9);
	EXPECT(0xFA, 0x64, 0x02, 100);        /* remote, enabled, left */
	aux(0xEB);
	EXPECT(0xFA, 0x09, 0x07, 0x01);
	aux(0xEB);
	EXPECT(0xFA, 0x09, 0x00, 0x00);
	ps2mouse_motion(mouse, 300, 0, 0, 0, 0);
	aux(0xEB);
	EXPECT(0xFA, 0x08, 0xFF, 0x00);
	aux(0xEB);
	EXPECT(0xFA, 0x08, 45, 0x00);
	aux(0xEA);
	EXPECT(0xFA);
	ps2mouse_motion(mouse, 1, 0, 0, 0, 0);
	EXPECT(0x08, 0x01, 0x00);
	/* Wrap mode: echo, until EC; FF still resets. */
	aux(0xEE);
	EXPECT(0xFA);
	ps2mouse_motion(mouse, 5, 5, 0, 0, 0);
	EXPECT_NONE();
	aux(0x12);
	EXPECT(0x12);
	aux(0xF2);
	EXPECT(0xF2);
	aux(0xEC);
	EXPECT(0xFA);
	aux(0xF2);
	EXPECT(0xFA, 0x00);
	aux(0xEE);
	EXPECT(0xFA);
	aux(0xFF);
	EXPECT(0xFA, 0xAA, 0x00);
	aux(0xF2);
	EXPECT(0xFA, 0x00);
	(void)p;
}

static void knock_to(int type, bool hwheel)
{
	aux(0xFF);
	EXPECT(0xFA, 0xAA, 0x00);
	set_rate(200);
	set_rate(100);
	set_rate(80);
	if (type == 4) {
		set_rate(200);
		set_rate(200);
		set_rate(80);
	}
	if (hwheel) {
		set_rate(200);
		set_rate(80);
		set_rate(40);
	}
	aux(0xF2);
	{
		uint8_t id[2];

		CHECK_EQ_U64(drain(id, 2), 2);
		CHECK_EQ_U64(id[1], type);
	}
	aux(0xF4);
	EXPECT(0xFA);
}

static void test_wheels(void)
{
	struct decoded d;

	/* IntelliMouse: Z in byte 3, positive = down. */
	knock_to(3, false);
	ps2mouse_motion(mouse, 0, 0, 1, 0, 0);
	EXPECT(0x08, 0x00, 0x00, 0xFF);
	ps2mouse_motion(mouse, 1, 0, -2, 0, 0);
	EXPECT(0x08, 0x01, 0x00, 0x02);
	ps2mouse_motion(mouse, 0, 0, 20, 5, 0);    /* split; no hwheel */
	d = decode(3, false);
	CHECK(!d.bad);
	CHECK_EQ_U64(d.wheel, 20);
	CHECK_EQ_U64(d.hwheel, 0);
	CHECK_EQ_U64(d.packets, 3);
	/* Explorer without the 4.0 knock: 4-bit Z. */
	knock_to(4, false);
	ps2mouse_motion(mouse, 0, 0, 1, 0, 0);
	EXPECT(0x08, 0x00, 0x00, 0x0F);
	ps2mouse_motion(mouse, 0, 0, -3, 4, 0);
	EXPECT(0x08, 0x00, 0x00, 0x03);
	/* Explorer 4.0: 6-bit vertical and horizontal, one per packet. */
	knock_to(4, true);
	ps2mouse_motion(mouse, 0, 0, 1, 0, 0);
	EXPECT(0x08, 0x00, 0x00, 0xBF);
	ps2mouse_motion(mouse, 0, 0, 0, 1, 0);
	EXPECT(0x08, 0x00, 0x00, 0x7F);
	ps2mouse_motion(mouse, 0, 0, 0, -1, 0);
	EXPECT(0x08, 0x00, 0x00, 0x41);
	ps2mouse_motion(mouse, 3, 4, -2, 3, PS2MOUSE_BUTTON_RIGHT);
	d = decode(4, true);
	CHECK(!d.bad);
	CHECK_EQ_U64(d.x, 3);
	CHECK_EQ_U64(d.y, 4);
	CHECK_EQ_U64(d.wheel, -2);
	CHECK_EQ_U64(d.hwheel, 3);
	CHECK_EQ_U64(d.packets, 2);
	CHECK_EQ_U64(d.buttons, 4);
	ps2mouse_motion(mouse, 0, 0, 100, -70, PS2MOUSE_BUTTON_RIGHT);
	d = decode(4, true);
	CHECK(!d.bad);
	CHECK_EQ_U64(d.wheel, 100);
	CHECK_EQ_U64(d.hwheel, -70);
	/* Reset forgets the wheel. */
	aux(0xFF);
	EXPECT(0xFA, 0xAA, 0x00);
	aux(0xF2);
	EXPECT(0xFA, 0x00);
}

static void test_queue_bound(void)
{
	uint8_t p[512];
	unsigned n;

	knock_to(3, false);
	/* The guest does not read: whole packets up to the bound. */
	for (int i = 0; i < 1000; i++)
		ps2mouse_motion(mouse, 1, 1, 0, 0, 0);
	aux(0xF2);                 /* its answer does not fit: dropped whole */
	n = drain(p, sizeof(p));
	CHECK(n >= 16 && n <= 65);
	CHECK_EQ_U64(n % 4, 0);
	for (unsigned i = 0; i < n && i < sizeof(p); i += 4) {
		CHECK_EQ_U64(p[i], 0x28);
		CHECK_EQ_U64(p[i + 1], 1);
		CHECK_EQ_U64(p[i + 2], 0xFF);
		CHECK_EQ_U64(p[i + 3], 0);
	}
	/* Then it works again. */
	aux(0xF2);
	EXPECT(0xFA, 0x03);
}

static void test_hostile(void)
{
	uint8_t p[512];

	for (unsigned b = 0; b < 256; b++) {
		if (b == 0xEE)
			continue;   /* wrap mode would echo everything below */
		aux((uint8_t)b);
		aux((uint8_t)(b * 11));
		ps2mouse_motion(mouse, (int)b - 128, 128 - (int)b, 1, 1, b & 7);
		drain(p, sizeof(p));
	}
	aux(0xFF);
	EXPECT(0xFA, 0xAA, 0x00);
	aux(0xF2);
	EXPECT(0xFA, 0x00);
}

int main(void)
{
	fake_vm_init();
	ctl = i8042_create(&vm);
	CHECK(ctl != NULL);
	mouse = ps2mouse_create(ctl);
	CHECK(mouse != NULL);
	test_probe();
	test_plain_packets();
	test_wheels();
	test_queue_bound();
	test_hostile();
	ps2mouse_destroy(mouse);
	aux(0xF2);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0xFE);
	i8042_destroy(ctl);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	return check_summary("test_ps2mouse");
}
