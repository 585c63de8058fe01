// SPDX-License-Identifier: MIT
/* PS/2 keyboard through the i8042: atkbd's probe with translation on and
 * off, every key's set 2 and (translated) set 1 sequence, Print Screen and
 * Pause with their modifier forms, scancode sets, LEDs, keys held during a
 * command, disabled scanning, the bounded queue, hostile command streams. */
#include <string.h>

#include "check.h"
#include "fake_vm.h"
#include "vmm/dev/i8042.h"
#include "vmm/dev/ps2kbd.h"
#include "vmm/platform.h"

static struct i8042 *ctl;
static struct ps2kbd *kbd;
static unsigned led_calls, led_value;

static void set_leds(void *opaque, unsigned leds)
{
	CHECK(opaque == &led_calls);
	led_calls++;
	led_value = leds;
}

static const struct ps2kbd_ops kbd_ops = { .set_leds = set_leds };

/* Everything waiting in the output buffer (keyboard bytes only). */
static unsigned drain(uint8_t *buf, unsigned max)
{
	return i8042_drain(buf, max, false);
}

static void set_ctr(uint8_t v)
{
	outb(PORT_I8042_CMD, 0x60);
	outb(PORT_I8042_DATA, v);
}

/* XLATE SYS KBDINT (aux off): what Linux leaves; RAW: no translation. */
#define CTR_XLATE 0x65
#define CTR_RAW   0x25

static void kbd_out(uint8_t b)
{
	outb(PORT_I8042_DATA, b);
}

static void test_probe_translated(void)
{
	set_ctr(CTR_XLATE);
	EXPECT_NONE();
	/* atkbd_probe: optional reset, GET ID, deactivate. */
	kbd_out(0xFF);
	EXPECT(0xFA, 0xAA);
	int edges = irq_edges[IRQ_KEYBOARD];

	kbd_out(0xF2);
	EXPECT(0xFA, 0xAB, 0x41);          /* 0x83 translated, as on a PC */
	CHECK_EQ_U64(irq_edges[IRQ_KEYBOARD], edges + 3);
	kbd_out(0xF5);
	EXPECT(0xFA);
	ps2kbd_key(kbd, 0x1E, true);       /* disabled: not scanned */
	ps2kbd_key(kbd, 0x1E, false);
	EXPECT_NONE();
	/* atkbd_activate: LEDs, typematic, enable. */
	led_calls = 0;
	kbd_out(0xED);
	kbd_out(0x00);
	EXPECT(0xFA, 0xFA);
	CHECK_EQ_U64(led_calls, 0);        /* unchanged: no report */
	kbd_out(0xF3);
	kbd_out(0x2B);
	EXPECT(0xFA, 0xFA);
	kbd_out(0xF4);
	EXPECT(0xFA);
	ps2kbd_key(kbd, 0x1E, true);
	ps2kbd_key(kbd, 0x1E, false);
	EXPECT(0x1E, 0x9E);
	/* LEDs: Caps + Num. */
	kbd_out(0xED);
	kbd_out(0x06);
	EXPECT(0xFA, 0xFA);
	CHECK_EQ_U64(led_calls, 1);
	CHECK_EQ_U64(led_value, PS2KBD_LED_CAPS | PS2KBD_LED_NUM);
	CHECK_EQ_U64(ps2kbd_leds(kbd), 6);
	kbd_out(0xED);
	kbd_out(0x0F);                     /* only 3 LEDs exist */
	EXPECT(0xFA, 0xFA);
	CHECK_EQ_U64(led_value, 7);
	/* Echo, scancode set query (0x02 translated to 0x41), resend. */
	kbd_out(0xEE);
	EXPECT(0xEE);
	kbd_out(0xF0);
	kbd_out(0x00);
	EXPECT(0xFA, 0xFA, 0x41);
	kbd_out(0xFE);
	EXPECT(0x41);
	/* Set 3 mode commands: ACK; a set 3 key list is ACKed per byte. */
	kbd_out(0xFA);
	EXPECT(0xFA);
	kbd_out(0xF7);
	EXPECT(0xFA);
	kbd_out(0xFB);
	kbd_out(0x1C);
	kbd_out(0x1B);
	kbd_out(0xF4);
	EXPECT(0xFA, 0xFA, 0xFA, 0xFA);
	/* Unknown commands: resend request. */
	kbd_out(0xEA);
	EXPECT(0xFE);
	kbd_out(0x01);
	EXPECT(0xFE);
	/* A command where a data byte was expected starts that command. */
	kbd_out(0xED);
	kbd_out(0xF2);
	EXPECT(0xFA, 0xFA, 0xAB, 0x41);
	/* Reset turns the LEDs off and reports it. */
	led_calls = 0;
	kbd_out(0xFF);
	EXPECT(0xFA, 0xAA);
	CHECK_EQ_U64(led_calls, 1);
	CHECK_EQ_U64(led_value, 0);
	/* F6 (defaults) keeps scanning; F5 stops it. */
	kbd_out(0xF6);
	EXPECT(0xFA);
	ps2kbd_key(kbd, 0x10, true);
	EXPECT(0x10);
	ps2kbd_key(kbd, 0x10, false);
	EXPECT(0x90);
}

static void test_probe_raw(void)
{
	set_ctr(CTR_RAW);
	kbd_out(0xF2);
	EXPECT(0xFA, 0xAB, 0x83);
	/* atkbd_select_set with atkbd.set=3: set 3 is refused silently. */
	kbd_out(0xF0);
	kbd_out(0x03);
	EXPECT(0xFA, 0xFA);
	kbd_out(0xF0);
	kbd_out(0x00);
	EXPECT(0xFA, 0xFA, 0x02);
	/* Set 1 on request. */
	kbd_out(0xF0);
	kbd_out(0x01);
	EXPECT(0xFA, 0xFA);
	kbd_out(0xF0);
	kbd_out(0x00);
	EXPECT(0xFA, 0xFA, 0x01);
	ps2kbd_key(kbd, 0x1E, true);
	ps2kbd_key(kbd, 0x1E, false);
	ps2kbd_key(kbd, 0xC8, true);
	ps2kbd_key(kbd, 0xC8, false);
	EXPECT(0x1E, 0x9E, 0xE0, 0x48, 0xE0, 0xC8);
	ps2kbd_key(kbd, PS2KBD_KEY_PAUSE, true);
	ps2kbd_key(kbd, PS2KBD_KEY_PAUSE, false);
	EXPECT(0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
	/* An invalid set number. */
	kbd_out(0xF0);
	kbd_out(0x07);
	EXPECT(0xFA, 0xFE);
	kbd_out(0xF0);
	kbd_out(0x02);
	EXPECT(0xFA, 0xFA);
	ps2kbd_key(kbd, 0x1E, true);
	ps2kbd_key(kbd, 0x1E, false);
	EXPECT(0x1C, 0xF0, 0x1C);
}

/* Every key a US keyboard has: XT code -> set 2 make code (Linux's
 * atkbd_set2_keycode / QEMU's set 2 table). */
static const struct { uint16_t xt; uint8_t set2; } keys[] = {
	{ 0x01, 0x76 }, { 0x02, 0x16 }, { 0x03, 0x1E }, { 0x04, 0x26 },
	{ 0x05, 0x25 }, { 0x06, 0x2E }, { 0x07, 0x36 }, { 0x08, 0x3D },
	{ 0x09, 0x3E }, { 0x0A, 0x46 }, { 0x0B, 0x45 }, { 0x0C, 0x4E },
	{ 0x0D, 0x55 }, { 0x0E, 0x66 }, { 0x0F, 0x0D }, { 0x10, 0x15 },
	{ 0x11, 0x1D }, { 0x12, 0x24 }, { 0x13, 0x2D }, { 0x14, 0x2C },
	{ 0x15, 0x35 }, { 0x16, 0x3C }, { 0x17, 0x43 }, { 0x18, 0x44 },
	{ 0x19, 0x4D }, { 0x1A, 0x54 }, { 0x1B, 0x5B }, { 0x1C, 0x5A },
	{ 0x1D, 0x14 }, { 0x1E, 0x1C }, { 0x1F, 0x1B }, { 0x20, 0x23 },
	{ 0x21, 0x2B }, { 0x22, 0x34 }, { 0x23, 0x33 }, { 0x24, 0x3B },
	{ 0x25, 0x42 }, { 0x26, 0x4B }, { 0x27, 0x4C }, { 0x28, 0x52 },
	{ 0x29, 0x0E }, { 0x2A, 0x12 }, { 0x2B, 0x5D }, { 0x2C, 0x1A },
	{ 0x2D, 0x22 }, { 0x2E, 0x21 }, { 0x2F, 0x2A }, { 0x30, 0x32 },
	{ 0x31, 0x31 }, { 0x32, 0x3A }, { 0x33, 0x41 }, { 0x34, 0x49 },
	{ 0x35, 0x4A }, { 0x36, 0x59 }, { 0x37, 0x7C }, { 0x38, 0x11 },
	{ 0x39, 0x29 }, { 0x3A, 0x58 }, { 0x3B, 0x05 }, { 0x3C, 0x06 },
	{ 0x3D, 0x04 }, { 0x3E, 0x0C }, { 0x3F, 0x03 }, { 0x40, 0x0B },
	{ 0x41, 0x83 }, { 0x42, 0x0A }, { 0x43, 0x01 }, { 0x44, 0x09 },
	{ 0x45, 0x77 }, { 0x46, 0x7E }, { 0x47, 0x6C }, { 0x48, 0x75 },
	{ 0x49, 0x7D }, { 0x4A, 0x7B }, { 0x4B, 0x6B }, { 0x4C, 0x73 },
	{ 0x4D, 0x74 }, { 0x4E, 0x79 }, { 0x4F, 0x69 }, { 0x50, 0x72 },
	{ 0x51, 0x7A }, { 0x52, 0x70 }, { 0x53, 0x71 }, { 0x54, 0x84 },
	{ 0x56, 0x61 }, { 0x57, 0x78 }, { 0x58, 0x07 }, { 0x59, 0x0F },
	/* 0xE0 keys */
	{ 0x9C, 0x5A }, { 0x9D, 0x14 }, { 0xB5, 0x4A }, { 0xB8, 0x11 },
	{ 0xC7, 0x6C }, { 0xC8, 0x75 }, { 0xC9, 0x7D }, { 0xCB, 0x6B },
	{ 0xCD, 0x74 }, { 0xCF, 0x69 }, { 0xD0, 0x72 }, { 0xD1, 0x7A },
	{ 0xD2, 0x70 }, { 0xD3, 0x71 }, { 0xDB, 0x1F }, { 0xDC, 0x27 },
	{ 0xDD, 0x2F },
};

static void press_release(unsigned xt)
{
	ps2kbd_key(kbd, xt, true);
	ps2kbd_key(kbd, xt, false);
}

static void test_all_keys(void)
{
	uint8_t got[16], seq[8];

	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		unsigned xt = keys[i].xt, n;
		bool ext = xt & 0x80;

		/* Raw set 2. */
		set_ctr(CTR_RAW);
		press_release(xt);
		n = drain(got, sizeof(got));
		if (ext) {
			CHECK_EQ_U64(n, 5);
			CHECK_EQ_U64(got[0], 0xE0);
			CHECK_EQ_U64(got[1], keys[i].set2);
			CHECK_EQ_U64(got[2], 0xE0);
			CHECK_EQ_U64(got[3], 0xF0);
			CHECK_EQ_U64(got[4], keys[i].set2);
		} else {
			CHECK_EQ_U64(n, 3);
			CHECK_EQ_U64(got[0], keys[i].set2);
			CHECK_EQ_U64(got[1], 0xF0);
			CHECK_EQ_U64(got[2], keys[i].set2);
		}
		/* The exported sequence agrees. */
		CHECK_EQ_U64(ps2kbd_set2_sequence(xt, true, seq), ext ? 2 : 1);
		CHECK_EQ_U64(seq[ext ? 1 : 0], keys[i].set2);
		/* Translated: set 1 is the XT code itself. */
		set_ctr(CTR_XLATE);
		press_release(xt);
		n = drain(got, sizeof(got));
		if (ext) {
			CHECK_EQ_U64(n, 4);
			CHECK_EQ_U64(got[0], 0xE0);
			CHECK_EQ_U64(got[1], xt & 0x7F);
			CHECK_EQ_U64(got[2], 0xE0);
			CHECK_EQ_U64(got[3], xt);
		} else {
			CHECK_EQ_U64(n, 2);
			CHECK_EQ_U64(got[0], xt);
			CHECK_EQ_U64(got[1], xt | 0x80);
		}
	}
	/* Every other set 1 code round-trips through the translation too. */
	set_ctr(CTR_XLATE);
	for (unsigned xt = 1; xt < 0x80; xt++) {
		unsigned n;

		press_release(xt);
		n = drain(got, sizeof(got));
		CHECK_EQ_U64(n, 2);
		CHECK_EQ_U64(got[0], xt);
		CHECK_EQ_U64(got[1], xt | 0x80);
	}
	/* Invalid codes send nothing. */
	press_release(0);
	press_release(0x80);
	press_release(0x101);
	press_release(~0u);
	EXPECT_NONE();
	CHECK_EQ_U64(ps2kbd_set2_sequence(0, true, seq), 0);
}

static void test_special_keys(void)
{
	set_ctr(CTR_RAW);
	/* Print Screen alone: with the fake shift. */
	ps2kbd_key(kbd, 0xB7, true);
	EXPECT(0xE0, 0x12, 0xE0, 0x7C);
	ps2kbd_key(kbd, 0xB7, false);
	EXPECT(0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12);
	/* Pause: make only. */
	ps2kbd_key(kbd, PS2KBD_KEY_PAUSE, true);
	EXPECT(0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77);
	ps2kbd_key(kbd, PS2KBD_KEY_PAUSE, false);
	EXPECT_NONE();
	/* SysRq key, Break key. */
	press_release(0x54);
	EXPECT(0x84, 0xF0, 0x84);
	press_release(0xC6);
	EXPECT(0xE0, 0x7E, 0xE0, 0xF0, 0x7E);
	/* Ctrl+Pause is Break; Alt+Print is SysRq; Shift+Print is bare. */
	ps2kbd_key(kbd, 0x1D, true);
	ps2kbd_key(kbd, PS2KBD_KEY_PAUSE, true);
	ps2kbd_key(kbd, 0x1D, false);
	EXPECT(0x14, 0xE0, 0x7E, 0xE0, 0xF0, 0x7E, 0xF0, 0x14);
	ps2kbd_key(kbd, 0xB8, true);
	ps2kbd_key(kbd, 0xB7, true);
	ps2kbd_key(kbd, 0xB8, false);       /* Alt released first */
	ps2kbd_key(kbd, 0xB7, false);       /* still the SysRq break */
	EXPECT(0xE0, 0x11, 0x84, 0xE0, 0xF0, 0x11, 0xF0, 0x84);
	ps2kbd_key(kbd, 0x36, true);
	ps2kbd_key(kbd, 0xB7, true);
	ps2kbd_key(kbd, 0xB7, false);
	ps2kbd_key(kbd, 0x36, false);
	EXPECT(0x59, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xF0, 0x59);

	/* The same through the translation (what atkbd sees on a PC). */
	set_ctr(CTR_XLATE);
	press_release(0xB7);
	EXPECT(0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA);
	press_release(PS2KBD_KEY_PAUSE);
	EXPECT(0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
	ps2kbd_key(kbd, 0x9D, true);
	press_release(PS2KBD_KEY_PAUSE);
	ps2kbd_key(kbd, 0x9D, false);
	EXPECT(0xE0, 0x1D, 0xE0, 0x46, 0xE0, 0xC6, 0xE0, 0x9D);
	ps2kbd_key(kbd, 0x38, true);
	press_release(0xB7);
	ps2kbd_key(kbd, 0x38, false);
	EXPECT(0x38, 0x54, 0xD4, 0xB8);
	/* Typematic repeat: a second press sends the make code again. */
	ps2kbd_key(kbd, 0x1E, true);
	ps2kbd_key(kbd, 0x1E, true);
	ps2kbd_key(kbd, 0x1E, false);
	EXPECT(0x1E, 0x1E, 0x9E);
}

static void test_held_during_command(void)
{
	set_ctr(CTR_XLATE);
	/* A key between ED and its data byte comes after the data's ACK. */
	kbd_out(0xED);
	ps2kbd_key(kbd, 0x1E, true);
	EXPECT(0xFA);
	kbd_out(0x01);
	EXPECT(0xFA, 0x1E);
	ps2kbd_key(kbd, 0x1E, false);
	EXPECT(0x9E);
	/* Disabled in between: the held key is gone. */
	kbd_out(0xF3);
	ps2kbd_key(kbd, 0x1E, true);
	kbd_out(0xF5);
	EXPECT(0xFA, 0xFA);
	kbd_out(0xF4);
	EXPECT(0xFA);
	ps2kbd_key(kbd, 0x1E, false);
	EXPECT(0x9E);
}

static void test_queue_bound(void)
{
	uint8_t got[256];
	unsigned n;

	/* The guest does not read: a bounded buffer, then drops. */
	set_ctr(CTR_XLATE);
	for (int i = 0; i < 1000; i++)
		ps2kbd_key(kbd, 0x1E, true);
	n = drain(got, sizeof(got));
	CHECK(n >= 16 && n <= 65);         /* the queue + the output buffer */
	for (unsigned i = 0; i < n && i < sizeof(got); i++)
		CHECK_EQ_U64(got[i], 0x1E);
	/* Never half a sequence: 3-byte set 2 breaks fill it unevenly. */
	set_ctr(CTR_RAW);
	for (int i = 0; i < 1000; i++)
		ps2kbd_key(kbd, 0xC8, false);
	n = drain(got, sizeof(got));
	CHECK(n >= 16 && n <= 65);
	CHECK_EQ_U64(n % 3, 0);
	for (unsigned i = 0; i + 2 < n && i + 2 < sizeof(got); i += 3) {
		CHECK_EQ_U64(got[i], 0xE0);
		CHECK_EQ_U64(got[i + 1], 0xF0);
		CHECK_EQ_U64(got[i + 2], 0x75);
	}
	/* After draining, keys flow again. */
	press_release(0x1E);
	EXPECT(0x1C, 0xF0, 0x1C);
	/* A full queue drops command answers whole as well: no stuck state. */
	for (int i = 0; i < 100; i++)
		kbd_out(0xF2);
	n = drain(got, sizeof(got));
	CHECK_EQ_U64(n % 3, 0);
	kbd_out(0xEE);
	EXPECT(0xEE);
}

static void test_hostile(void)
{
	uint8_t got[64];

	/* Every byte, twice in a row, with reads in between: no crash, and
	 * the keyboard still answers after a reset. */
	for (unsigned b = 0; b < 256; b++) {
		kbd_out((uint8_t)b);
		kbd_out((uint8_t)(b * 7));
		drain(got, sizeof(got));
		press_release(b);
		drain(got, sizeof(got));
	}
	set_ctr(CTR_XLATE);
	kbd_out(0xFF);
	EXPECT(0xFA, 0xAA);
	kbd_out(0xF2);
	EXPECT(0xFA, 0xAB, 0x41);
	CHECK_EQ_U64(atomic_load(&vm.stop_reason), VM_RUNNING);
}

int main(void)
{
	fake_vm_init();
	ctl = i8042_create(&vm);
	CHECK(ctl != NULL);
	kbd = ps2kbd_create(ctl, &kbd_ops, &led_calls);
	CHECK(kbd != NULL);
	test_probe_translated();
	test_probe_raw();
	test_all_keys();
	test_special_keys();
	test_held_during_command();
	test_queue_bound();
	test_hostile();
	ps2kbd_destroy(kbd);
	/* Detached: the controller answers for a missing device. */
	outb(PORT_I8042_DATA, 0xF2);
	CHECK_EQ_U64(inb(PORT_I8042_DATA), 0xFE);
	i8042_destroy(ctl);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	return check_summary("test_ps2kbd");
}
