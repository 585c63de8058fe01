// SPDX-License-Identifier: MIT
/* Input router: key forwarding and held-key tracking, release_all, the
 * absolute/relative pointer choice, scaling and clamping, wheel buttons,
 * device attach/detach, LED listeners; plus the whole chain console ->
 * PS/2 keyboard and mouse -> i8042, and a few threads at once. */
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "display/console.h"
#include "display/input.h"
#include "vmm/dev/i8042.h"
#include "vmm/dev/ps2kbd.h"
#include "vmm/dev/ps2mouse.h"
#include "vmm/platform.h"

/* --- fake devices ------------------------------------------------------- */

#define MAX_EV 64

struct key_ev { unsigned code; bool down; };
static struct key_ev keys[MAX_EV];
static int nkeys;

static void fake_key(void *opaque, unsigned code, bool down)
{
	CHECK(opaque == keys);
	if (nkeys < MAX_EV)
		keys[nkeys++] = (struct key_ev){ code, down };
}

static const struct input_kbd_ops kbd_ops = { .key = fake_key };

struct ptr_ev { int a, b, dz, dw; unsigned buttons; };
static struct ptr_ev rels[MAX_EV], abss[MAX_EV];
static int nrel, nabs;
static bool abs_is_active;

static void fake_motion(void *opaque, int dx, int dy, int dz, int dw,
			unsigned buttons)
{
	CHECK(opaque == rels);
	if (nrel < MAX_EV)
		rels[nrel++] = (struct ptr_ev){ dx, dy, dz, dw, buttons };
}

static void fake_position(void *opaque, unsigned x, unsigned y, int dz, int dw,
			  unsigned buttons)
{
	CHECK(opaque == abss);
	CHECK(x <= INPUT_ABS_MAX && y <= INPUT_ABS_MAX);
	if (nabs < MAX_EV)
		abss[nabs++] = (struct ptr_ev){ (int)x, (int)y, dz, dw, buttons };
}

static bool fake_active(void *opaque)
{
	CHECK(opaque == abss);
	return abs_is_active;
}

static const struct input_rel_ops rel_ops = { .motion = fake_motion };
static const struct input_abs_ops abs_ops = {
	.position = fake_position, .active = fake_active,
};

static void reset_events(void)
{
	nkeys = nrel = nabs = 0;
}

/* --- keys ----------------------------------------------------------------- */

static void test_keys(struct console *c)
{
	reset_events();
	/* No device yet: tracked, not forwarded. */
	console_input_key(c, 0x1E, true);
	console_input_set_kbd(c, &kbd_ops, keys);
	console_input_key(c, 0x1E, false);        /* was held: forwarded */
	CHECK_EQ_U64(nkeys, 1);
	CHECK_EQ_U64(keys[0].code, 0x1E);
	CHECK(!keys[0].down);
	reset_events();
	console_input_key(c, 0x1E, false);        /* not held: dropped */
	CHECK_EQ_U64(nkeys, 0);
	console_input_key(c, 0x9D, true);
	console_input_key(c, 0x9D, true);         /* repeat */
	console_input_key(c, 0x9D, false);
	CHECK_EQ_U64(nkeys, 3);
	CHECK(keys[0].down && keys[1].down && !keys[2].down);
	CHECK_EQ_U64(keys[2].code, 0x9D);
	/* Pause: no break, never held. */
	reset_events();
	console_input_key(c, INPUT_KEY_PAUSE, true);
	console_input_key(c, INPUT_KEY_PAUSE, false);
	CHECK_EQ_U64(nkeys, 1);
	CHECK_EQ_U64(keys[0].code, INPUT_KEY_PAUSE);
	console_input_release_all(c);
	CHECK_EQ_U64(nkeys, 1);
	/* Invalid codes. */
	reset_events();
	console_input_key(c, 0, true);
	console_input_key(c, INPUT_KEY_PAUSE + 1, true);
	console_input_key(c, ~0u, true);
	CHECK_EQ_U64(nkeys, 0);
	/* release_all: every held key once, modifiers last. */
	console_input_key(c, 0x1D, true);         /* Ctrl */
	console_input_key(c, 0x2A, true);         /* Shift */
	console_input_key(c, 0x2E, true);         /* c */
	console_input_key(c, 0xC8, true);         /* Up */
	reset_events();
	console_input_release_all(c);
	CHECK_EQ_U64(nkeys, 4);
	for (int i = 0; i < nkeys; i++)
		CHECK(!keys[i].down);
	CHECK(keys[0].code == 0x2E || keys[0].code == 0xC8);
	CHECK(keys[1].code == 0x2E || keys[1].code == 0xC8);
	CHECK(keys[2].code == 0x1D || keys[2].code == 0x2A);
	CHECK(keys[3].code == 0x1D || keys[3].code == 0x2A);
	CHECK(keys[0].code != keys[1].code && keys[2].code != keys[3].code);
	reset_events();
	console_input_release_all(c);
	console_input_key(c, 0x2E, false);
	CHECK_EQ_U64(nkeys, 0);
	/* Detached: nothing forwarded, and the old device is not called. */
	console_input_key(c, 0x10, true);
	console_input_set_kbd(c, NULL, NULL);
	console_input_key(c, 0x10, false);
	console_input_key(c, 0x11, true);
	CHECK_EQ_U64(nkeys, 1);
	console_input_set_kbd(c, &kbd_ops, keys);
	console_input_release_all(c);             /* 0x11 still held */
	CHECK_EQ_U64(nkeys, 2);
	CHECK_EQ_U64(keys[1].code, 0x11);
	CHECK(!keys[1].down);
}

/* --- pointer -------------------------------------------------------------- */

static void test_relative(struct console *c)
{
	console_input_set_rel(c, &rel_ops, rels);
	reset_events();
	/* First position: no motion known yet; buttons go through. */
	console_input_pointer(c, 100, 50, INPUT_BUTTON_LEFT);
	CHECK_EQ_U64(nrel, 1);
	CHECK_EQ_U64(rels[0].a, 0);
	CHECK_EQ_U64(rels[0].b, 0);
	CHECK_EQ_U64(rels[0].buttons, INPUT_BUTTON_LEFT);
	console_input_pointer(c, 110, 45, INPUT_BUTTON_LEFT);
	CHECK_EQ_U64(nrel, 2);
	CHECK_EQ_U64(rels[1].a, 10);
	CHECK_EQ_U64(rels[1].b, -5);
	/* Same place, same buttons: nothing. */
	console_input_pointer(c, 110, 45, INPUT_BUTTON_LEFT);
	CHECK_EQ_U64(nrel, 2);
	/* Clamped to the 640x480 surface. */
	console_input_pointer(c, -20, 5000, 0);
	CHECK_EQ_U64(nrel, 3);
	CHECK_EQ_U64(rels[2].a, -110);
	CHECK_EQ_U64(rels[2].b, 479 - 45);
	CHECK_EQ_U64(rels[2].buttons, 0);
	console_input_pointer(c, -2147483647 - 1, 2147483647, 0);
	CHECK_EQ_U64(nrel, 3);                      /* still the corner */
	/* Wheel: one step per press, never as a button. */
	reset_events();
	console_input_pointer(c, 0, 479, INPUT_BUTTON_WHEEL_UP);
	console_input_pointer(c, 0, 479, INPUT_BUTTON_WHEEL_UP);  /* held */
	console_input_pointer(c, 0, 479, 0);
	console_input_pointer(c, 0, 479, INPUT_BUTTON_WHEEL_DOWN | INPUT_BUTTON_RIGHT);
	console_input_pointer(c, 0, 479, INPUT_BUTTON_RIGHT);
	console_input_pointer(c, 0, 479, INPUT_BUTTON_WHEEL_LEFT);
	console_input_pointer(c, 0, 479, INPUT_BUTTON_WHEEL_RIGHT | INPUT_BUTTON_MIDDLE);
	CHECK_EQ_U64(nrel, 4);
	CHECK_EQ_U64(rels[0].dz, 1);
	CHECK_EQ_U64(rels[0].buttons, 0);
	CHECK_EQ_U64(rels[1].dz, -1);
	CHECK_EQ_U64(rels[1].buttons, INPUT_BUTTON_RIGHT);
	CHECK_EQ_U64(rels[2].dz, 0);                /* right released */
	CHECK_EQ_U64(rels[2].dw, -1);
	CHECK_EQ_U64(rels[2].buttons, 0);
	CHECK_EQ_U64(rels[3].dw, 1);
	CHECK_EQ_U64(rels[3].buttons, INPUT_BUTTON_MIDDLE);
	for (int i = 0; i < nrel; i++)
		CHECK_EQ_U64(rels[i].a | rels[i].b, 0);
}

static void test_absolute(struct console *c)
{
	console_input_set_abs(c, &abs_ops, abss);
	reset_events();
	/* Attached but not active: the relative mouse still gets it. */
	abs_is_active = false;
	console_input_pointer(c, 10, 10, 0);
	CHECK_EQ_U64(nabs, 0);
	CHECK_EQ_U64(nrel, 1);
	CHECK_EQ_U64(rels[0].a, 10);
	CHECK_EQ_U64(rels[0].b, 10 - 479);
	/* Active: absolute, scaled ends to ends. */
	abs_is_active = true;
	console_input_pointer(c, 0, 0, 0);
	console_input_pointer(c, 639, 479, INPUT_BUTTON_LEFT);
	console_input_pointer(c, 320, 240, 0);
	console_input_pointer(c, -5, 99999, INPUT_BUTTON_WHEEL_DOWN);
	CHECK_EQ_U64(nrel, 1);
	CHECK_EQ_U64(nabs, 4);
	CHECK_EQ_U64(abss[0].a, 0);
	CHECK_EQ_U64(abss[0].b, 0);
	CHECK_EQ_U64(abss[1].a, INPUT_ABS_MAX);
	CHECK_EQ_U64(abss[1].b, INPUT_ABS_MAX);
	CHECK_EQ_U64(abss[1].buttons, INPUT_BUTTON_LEFT);
	CHECK(abss[2].a >= 320 * INPUT_ABS_MAX / 639 &&
	      abss[2].a <= 320 * INPUT_ABS_MAX / 639 + 1);
	CHECK(abss[2].b >= 240 * INPUT_ABS_MAX / 479 &&
	      abss[2].b <= 240 * INPUT_ABS_MAX / 479 + 1);
	CHECK_EQ_U64(abss[3].a, 0);
	CHECK_EQ_U64(abss[3].b, INPUT_ABS_MAX);
	CHECK_EQ_U64(abss[3].dz, -1);
	CHECK_EQ_U64(abss[3].buttons, 0);
	/* Another surface size rescales. */
	CHECK(console_set_surface(c, 1024, 768, PIXMAN_x8r8g8b8) == 0);
	console_input_pointer(c, 1023, 384, 0);
	CHECK_EQ_U64(nabs, 5);
	CHECK_EQ_U64(abss[4].a, INPUT_ABS_MAX);
	CHECK(abss[4].b >= 384 * INPUT_ABS_MAX / 767 &&
	      abss[4].b <= 384 * INPUT_ABS_MAX / 767 + 1);
	/* The guest driver goes away: back to relative, from where the
	 * pointer was. */
	abs_is_active = false;
	console_input_pointer(c, 1000, 384, 0);
	CHECK_EQ_U64(nrel, 2);
	CHECK_EQ_U64(rels[1].a, -23);
	CHECK_EQ_U64(rels[1].b, 0);
	/* Detached tablet: relative. */
	abs_is_active = true;
	console_input_set_abs(c, NULL, NULL);
	console_input_pointer(c, 1001, 384, 0);
	CHECK_EQ_U64(nabs, 5);
	CHECK_EQ_U64(nrel, 3);
	/* No surface: position unchanged, buttons still go through. */
	console_clear_surface(c);
	console_input_pointer(c, 5, 5, INPUT_BUTTON_RIGHT);
	CHECK_EQ_U64(nrel, 4);
	CHECK_EQ_U64(rels[3].a | rels[3].b, 0);
	CHECK_EQ_U64(rels[3].buttons, INPUT_BUTTON_RIGHT);
	console_input_set_rel(c, NULL, NULL);
	console_input_pointer(c, 5, 5, 0);
	CHECK_EQ_U64(nrel, 4);
	CHECK(console_set_surface(c, 640, 480, PIXMAN_x8r8g8b8) == 0);
}

/* --- LEDs ------------------------------------------------------------------ */

struct led_listener {
	struct console_listener l;
	int calls;
	unsigned last;
};

static void leds_changed(void *opaque, unsigned leds)
{
	struct led_listener *ll = opaque;

	ll->calls++;
	ll->last = leds;
}

static void test_leds(struct console *c)
{
	struct led_listener a = { .l = { .leds_changed = leds_changed } };
	struct led_listener b = { .l = { .leds_changed = leds_changed } };
	struct console_listener plain = { 0 };   /* no LED callback */

	a.l.opaque = &a;
	b.l.opaque = &b;
	CHECK_EQ_U64(console_input_leds(c), 0);
	CHECK(console_add_listener(c, &a.l) == 0);
	CHECK(console_add_listener(c, &b.l) == 0);
	CHECK(console_add_listener(c, &plain) == 0);
	console_input_set_leds(c, INPUT_LED_CAPS | INPUT_LED_NUM);
	CHECK_EQ_U64(a.calls, 1);
	CHECK_EQ_U64(b.calls, 1);
	CHECK_EQ_U64(a.last, INPUT_LED_CAPS | INPUT_LED_NUM);
	CHECK_EQ_U64(console_input_leds(c), INPUT_LED_CAPS | INPUT_LED_NUM);
	console_input_set_leds(c, INPUT_LED_CAPS | INPUT_LED_NUM);
	CHECK_EQ_U64(a.calls, 1);                /* unchanged: no call */
	console_input_set_leds(c, 0xFF);          /* only 3 LEDs */
	CHECK_EQ_U64(a.last, 7);
	CHECK_EQ_U64(console_input_leds(c), 7);
	console_remove_listener(c, &b.l);
	console_input_set_leds(c, INPUT_LED_SCROLL);
	CHECK_EQ_U64(a.calls, 3);
	CHECK_EQ_U64(b.calls, 2);
	CHECK_EQ_U64(a.last, INPUT_LED_SCROLL);
	console_remove_listener(c, &a.l);
	console_remove_listener(c, &plain);
	console_input_set_leds(c, 0);
	CHECK_EQ_U64(a.calls, 3);
	CHECK_EQ_U64(console_input_leds(c), 0);
}

/* --- the real chain ---------------------------------------------------------- */

static struct vm vm;

static void observer(struct vm *v, unsigned gsi, int level)
{
	(void)v;
	(void)gsi;
	(void)level;
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	CHECK(bus_dispatch(&vm.pio, port, &v, 1, false));
	return v;
}

static void outb(uint16_t port, uint8_t v)
{
	CHECK(bus_dispatch(&vm.pio, port, &v, 1, true));
}

static unsigned drain(uint8_t *buf, unsigned max)
{
	unsigned n = 0;

	while ((inb(PORT_I8042_CMD) & 0x01) && n < max)
		buf[n++] = inb(PORT_I8042_DATA);
	return n;
}

/* What main.c does: small adapters between the router and the devices. */
static void kbd_key(void *opaque, unsigned code, bool down)
{
	ps2kbd_key(opaque, code, down);
}

static void mouse_motion(void *opaque, int dx, int dy, int dz, int dw,
			 unsigned buttons)
{
	ps2mouse_motion(opaque, dx, dy, dz, dw, buttons);
}

static void kbd_leds(void *opaque, unsigned leds)
{
	console_input_set_leds(opaque, leds);
}

static const struct input_kbd_ops ps2_kbd_ops = { .key = kbd_key };
static const struct input_rel_ops ps2_rel_ops = { .motion = mouse_motion };
static const struct ps2kbd_ops kbd_led_ops = { .set_leds = kbd_leds };

static void test_chain(struct console *c)
{
	struct led_listener a = { .l = { .leds_changed = leds_changed } };
	struct i8042 *ctl;
	struct ps2kbd *kbd;
	struct ps2mouse *mouse;
	uint8_t b[64];

	vm.kvm_fd = vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	vm.irq_observer = observer;
	ctl = i8042_create(&vm);
	kbd = ps2kbd_create(ctl, &kbd_led_ops, c);
	mouse = ps2mouse_create(ctl);
	CHECK(ctl && kbd && mouse);
	console_input_set_kbd(c, &ps2_kbd_ops, kbd);
	console_input_set_rel(c, &ps2_rel_ops, mouse);
	a.l.opaque = &a;
	CHECK(console_add_listener(c, &a.l) == 0);

	/* Keys reach the guest as set 1 (translated). */
	console_input_key(c, 0x1E, true);
	console_input_key(c, 0xC8, true);
	console_input_release_all(c);
	CHECK_EQ_U64(drain(b, sizeof(b)), 6);
	CHECK_EQ_U64(b[0], 0x1E);
	CHECK_EQ_U64(b[1], 0xE0);
	CHECK_EQ_U64(b[2], 0x48);
	CHECK(b[3] == 0x9E || b[3] == 0xE0);
	/* The guest sets Caps Lock: the viewer hears of it. */
	outb(PORT_I8042_DATA, 0xED);
	outb(PORT_I8042_DATA, 0x04);
	CHECK_EQ_U64(drain(b, sizeof(b)), 2);
	CHECK_EQ_U64(a.calls, 1);
	CHECK_EQ_U64(a.last, INPUT_LED_CAPS);
	CHECK_EQ_U64(console_input_leds(c), INPUT_LED_CAPS);
	/* The mouse: aux on, reporting on, then a pointer move. */
	outb(PORT_I8042_CMD, 0x60);
	outb(PORT_I8042_DATA, 0x47);
	outb(PORT_I8042_CMD, 0xD4);
	outb(PORT_I8042_DATA, 0xF4);
	CHECK_EQ_U64(drain(b, sizeof(b)), 1);
	console_input_pointer(c, 10, 10, 0);       /* from the last place */
	drain(b, sizeof(b));
	console_input_pointer(c, 15, 7, INPUT_BUTTON_LEFT);
	CHECK_EQ_U64(drain(b, sizeof(b)), 3);
	CHECK_EQ_U64(b[0], 0x09);                 /* left, both positive */
	CHECK_EQ_U64(b[1], 5);
	CHECK_EQ_U64(b[2], 3);                    /* 3 up */

	console_remove_listener(c, &a.l);
	console_input_set_kbd(c, NULL, NULL);
	console_input_set_rel(c, NULL, NULL);
	ps2mouse_destroy(mouse);
	ps2kbd_destroy(kbd);
	i8042_destroy(ctl);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
}

/* --- threads ----------------------------------------------------------------- */

static struct console *tc;
static atomic_int stop;

static void count_key(void *opaque, unsigned code, bool down)
{
	(void)code;
	(void)down;
	atomic_fetch_add((atomic_int *)opaque, 1);
}

static void count_motion(void *opaque, int dx, int dy, int dz, int dw,
			 unsigned buttons)
{
	(void)dx;
	(void)dy;
	(void)dz;
	(void)dw;
	(void)buttons;
	atomic_fetch_add((atomic_int *)opaque, 1);
}

static const struct input_kbd_ops count_ops = { .key = count_key };
static const struct input_rel_ops count_rel_ops = { .motion = count_motion };

static void *typist(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		console_input_key(tc, 0x10 + (unsigned)(i % 16), i & 1);
		console_input_pointer(tc, i % 700, i % 500, (unsigned)i & 7);
	}
	console_input_release_all(tc);
	return NULL;
}

static void *led_setter(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !atomic_load(&stop); i++)
		console_input_set_leds(tc, i & 7);
	return NULL;
}

static void test_threads(struct console *c)
{
	static atomic_int count, moves;
	struct led_listener a = { .l = { .leds_changed = leds_changed } };
	pthread_t t[3];
	int bad_adds = 0;

	tc = c;
	a.l.opaque = &a;
	console_input_set_kbd(c, &count_ops, &count);
	console_input_set_rel(c, &count_rel_ops, &moves);
	reset_events();
	pthread_create(&t[0], NULL, typist, NULL);
	pthread_create(&t[1], NULL, typist, NULL);
	pthread_create(&t[2], NULL, led_setter, NULL);
	/* No CHECK while the threads run: the counters are not atomic. */
	for (int i = 0; i < 2000; i++) {
		bad_adds += console_add_listener(c, &a.l) != 0;
		console_remove_listener(c, &a.l);
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	atomic_store(&stop, 1);
	pthread_join(t[2], NULL);
	CHECK_EQ_U64(bad_adds, 0);
	CHECK(atomic_load(&count) > 0);
	CHECK(atomic_load(&moves) > 0);
	/* Everything released in the end. */
	nkeys = 0;
	console_input_set_kbd(c, &kbd_ops, keys);
	console_input_release_all(c);
	CHECK_EQ_U64(nkeys, 0);
	console_input_set_kbd(c, NULL, NULL);
	console_input_set_rel(c, NULL, NULL);
}

/* --- input activity: the producer hears of every key and pointer event --- */

static int activity;

static void count_activity(void *opaque)
{
	(void)opaque;
	activity++;
}

static void test_activity(struct console *c)
{
	static const struct console_producer_ops pops = {
		.input_activity = count_activity,
	};

	console_set_producer(c, &pops, NULL);
	activity = 0;
	console_input_key(c, 0x1E, true);
	console_input_key(c, 0x1E, false);
	CHECK_EQ_U64(activity, 2);
	console_input_key(c, 0, true);            /* not a key: nothing */
	CHECK_EQ_U64(activity, 2);
	console_input_pointer(c, 10, 10, 0);
	console_input_pointer(c, 12, 10, 1);
	CHECK_EQ_U64(activity, 4);
	console_set_producer(c, NULL, NULL);
	console_input_key(c, 0x1E, true);
	console_input_key(c, 0x1E, false);
	CHECK_EQ_U64(activity, 4);
	reset_events();
}

int main(void)
{
	struct console *c = console_create("test");

	CHECK(c != NULL);
	CHECK(console_set_surface(c, 640, 480, PIXMAN_x8r8g8b8) == 0);
	test_keys(c);
	test_relative(c);
	test_absolute(c);
	test_leds(c);
	test_chain(c);
	test_threads(c);
	test_activity(c);
	console_destroy(c);
	return check_summary("test_input");
}
