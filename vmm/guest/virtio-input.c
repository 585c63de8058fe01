// SPDX-License-Identifier: MIT
/*
 * test=virtio-input: the virtio keyboard and tablet (PCI 1af4:1052), driven
 * as Linux's virtio_input does it (virtinput_probe: read the name, ids and
 * event bits through the select/subsel configuration window, the absolute
 * axis ranges, fill the event queue with one 8-byte buffer per descriptor,
 * DRIVER_OK, kick; every used buffer is reported and posted again), and
 * every event the guest receives is reported (see README.md):
 *
 *   VKEY <code> <value> ['c']         keyboard EV_KEY: Linux key code and
 *                                     value (1 down, 0 up, 2 repeat), 'c' for
 *                                     presses of printable keys (US layout,
 *                                     shift applied)
 *   TABLET <x> <y> <dz> <dw> <buttons>  tablet state at each SYN_REPORT:
 *                                     absolute x, y (0..abs max), wheel steps
 *                                     of this report, buttons bit 0 left,
 *                                     1 right, 2 middle
 *   VEVENT <dev> <type> <code> <value>  anything else (dev kbd or tablet)
 *
 * With a virtio-gpu present its scanout shows the test picture with the
 * pointer as an inverted 8x8 block, so the console has the size the VNC
 * pointer is scaled against. The guest sleeps in HLT between interrupts
 * (the devices' INTx lines, edge-routed; COM1).
 */
#include "virtio.h"
#include "virtio-gpu.h"

#define CFG_SELECT  0
#define CFG_SUBSEL  1
#define CFG_SIZE    2
#define CFG_DATA    8
#define CFG_ID_NAME   0x01
#define CFG_ID_DEVIDS 0x03
#define CFG_EV_BITS   0x11
#define CFG_ABS_INFO  0x12

#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define SYN_REPORT 0
#define REL_HWHEEL 0x06
#define REL_WHEEL  0x08
#define ABS_X 0
#define ABS_Y 1
#define BTN_LEFT   0x110
#define BTN_RIGHT  0x111
#define BTN_MIDDLE 0x112
#define KEY_LEFTSHIFT  42
#define KEY_RIGHTSHIFT 54

#define EVT_BUFS 64
#define NAME_MAX 64
#define PTR_SIZE 8

struct input_event_le {
	uint16_t type, code;
	uint32_t value;
};

struct vinput {
	struct vdev dev;
	struct vq evt, sts;
	struct input_event_le *bufs;     /* EVT_BUFS, in guest RAM */
	bool tablet;
	char name[NAME_MAX];
	uint32_t abs_max[2];
	/* tablet report assembly */
	uint32_t x, y;
	int dz, dw;
	unsigned buttons;
	bool dirty;
};

static struct {
	struct vinput dev[2];
	unsigned ndev;
	bool lshift, rshift;
	uint64_t events, reports;
	bool irq;                        /* INTx routed: sleep between events */
	/* the screen */
	bool screen;
	struct gpu_fb fb;
	int ptr_x, ptr_y;                /* -1: not drawn */
} vi;

/* Linux key codes 0..57 to US characters, unshifted and shifted. */
static const char keymap[2][58] = {
	"\0\0" "1234567890-=" "\0\0" "qwertyuiop[]" "\0\0" "asdfghjkl;'`" "\0\\"
	"zxcvbnm,./" "\0\0\0 ",
	"\0\0" "!@#$%^&*()_+" "\0\0" "QWERTYUIOP{}" "\0\0" "ASDFGHJKL:\"~" "\0|"
	"ZXCVBNM<>?" "\0\0\0 ",
};

/* --- configuration ------------------------------------------------------------ */

/* Select a configuration item; its size (Linux's virtinput_cfg_select). */
static uint8_t cfg_select(struct vinput *in, uint8_t sel, uint8_t sub)
{
	vdev_cfg_write8(&in->dev, CFG_SELECT, sel);
	vdev_cfg_write8(&in->dev, CFG_SUBSEL, sub);
	return vdev_cfg8(&in->dev, CFG_SIZE);
}

static void read_config(struct vinput *in)
{
	uint8_t n = cfg_select(in, CFG_ID_NAME, 0);

	if (n > NAME_MAX - 1)
		n = NAME_MAX - 1;
	for (uint8_t i = 0; i < n; i++) {
		char c = (char)vdev_cfg8(&in->dev, CFG_DATA + i);

		in->name[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	in->name[n] = '\0';
	/* An absolute pointer has EV_ABS bits (virtinput_probe: ABS_X/Y
	 * ranges come from ABS_INFO). */
	in->tablet = cfg_select(in, CFG_EV_BITS, EV_ABS) != 0;
	for (unsigned a = 0; in->tablet && a < 2; a++) {
		if (cfg_select(in, CFG_ABS_INFO, (uint8_t)a) >= 8)
			in->abs_max[a] = vdev_cfg32(&in->dev, CFG_DATA + 4);
	}
}

static bool input_probe(struct vinput *in, unsigned nth)
{
	if (!vdev_find(VIRTIO_DEV_INPUT, nth, &in->dev))
		return false;
	if (!vdev_negotiate(&in->dev, 0))
		return false;
	read_config(in);
	if (!vq_setup(&in->dev, 0, EVT_BUFS, &in->evt) ||
	    !vq_setup(&in->dev, 1, 8, &in->sts))
		return false;
	in->bufs = galloc(sizeof(*in->bufs) * in->evt.size, 64);
	if (!in->bufs)
		return false;
	vdev_driver_ok(&in->dev);
	for (uint16_t i = 0; i < in->evt.size; i++)
		vq_post(&in->evt, i, (uintptr_t)&in->bufs[i], sizeof(in->bufs[i]));
	vq_kick(&in->evt);
	out_printf(OUT_DEBUG, "INFO virtio-input %s name=\"%s\" abs_max=%u,%u\n",
		   in->tablet ? "tablet" : "keyboard", in->name, in->abs_max[0],
		   in->abs_max[1]);
	return true;
}

/* --- the screen ------------------------------------------------------------------ */

static void screen_setup(void)
{
	struct pci_func f;
	unsigned w = vga_opts.width ? vga_opts.width : 1024;
	unsigned h = vga_opts.height ? vga_opts.height : 768;

	vi.ptr_x = vi.ptr_y = -1;
	/* Quietly without the adapter: the test is about input. */
	if (!pci_find(VIRTIO_VENDOR, VIRTIO_DEV_GPU, &f))
		return;
	if (!gpu_probe() || !gpu_show(1, w, h, &vi.fb))
		guest_exit(EXIT_FAIL);
	gpu_draw_pattern(&vi.fb);
	if (!gpu_update(&vi.fb, (struct gpu_rect){ 0, 0, w, h }))
		guest_exit(EXIT_FAIL);
	vi.screen = true;
}

/* Invert the PTR_SIZE block at (x, y), clipped, and flush it. */
static void ptr_toggle(int x, int y)
{
	struct gpu_rect r;

	if (x < 0 || y < 0 || (unsigned)x >= vi.fb.w || (unsigned)y >= vi.fb.h)
		return;
	r = (struct gpu_rect){ (uint32_t)x, (uint32_t)y, PTR_SIZE, PTR_SIZE };
	if (r.x + r.width > vi.fb.w)
		r.width = vi.fb.w - r.x;
	if (r.y + r.height > vi.fb.h)
		r.height = vi.fb.h - r.y;
	for (uint32_t yy = r.y; yy < r.y + r.height; yy++)
		for (uint32_t xx = r.x; xx < r.x + r.width; xx++)
			vi.fb.pixels[(uint64_t)yy * vi.fb.w + xx] ^= 0x00ffffffu;
	if (!gpu_update(&vi.fb, r))
		guest_exit(EXIT_FAIL);
}

static void ptr_show(const struct vinput *in)
{
	int x, y;

	if (!vi.screen || !in->abs_max[0] || !in->abs_max[1])
		return;
	x = (int)((uint64_t)in->x * (vi.fb.w - 1) / in->abs_max[0]);
	y = (int)((uint64_t)in->y * (vi.fb.h - 1) / in->abs_max[1]);
	if (x == vi.ptr_x && y == vi.ptr_y)
		return;
	ptr_toggle(vi.ptr_x, vi.ptr_y);
	ptr_toggle(x, y);
	vi.ptr_x = x;
	vi.ptr_y = y;
}

/* --- events ------------------------------------------------------------------------ */

static void key_event(const struct input_event_le *ev)
{
	unsigned code = ev->code;
	bool shift;

	if (code == KEY_LEFTSHIFT)
		vi.lshift = ev->value != 0;
	if (code == KEY_RIGHTSHIFT)
		vi.rshift = ev->value != 0;
	shift = vi.lshift || vi.rshift;
	if (ev->value == 1 && code < sizeof(keymap[0]) && keymap[shift][code])
		out_printf(OUT_BOTH, "VKEY %u %u '%c'\n", code, ev->value,
			   keymap[shift][code]);
	else
		out_printf(OUT_BOTH, "VKEY %u %u\n", code, ev->value);
}

static void tablet_event(struct vinput *in, const struct input_event_le *ev)
{
	static const struct { uint16_t code; unsigned bit; } btn[] = {
		{ BTN_LEFT, 1 }, { BTN_RIGHT, 2 }, { BTN_MIDDLE, 4 },
	};

	if (ev->type == EV_ABS && ev->code == ABS_X) {
		in->x = ev->value;
	} else if (ev->type == EV_ABS && ev->code == ABS_Y) {
		in->y = ev->value;
	} else if (ev->type == EV_REL && ev->code == REL_WHEEL) {
		in->dz += (int32_t)ev->value;
	} else if (ev->type == EV_REL && ev->code == REL_HWHEEL) {
		in->dw += (int32_t)ev->value;
	} else if (ev->type == EV_KEY) {
		for (unsigned i = 0; i < 3; i++)
			if (ev->code == btn[i].code)
				in->buttons = ev->value ? in->buttons | btn[i].bit
							: in->buttons & ~btn[i].bit;
	} else {
		out_printf(OUT_BOTH, "VEVENT tablet %u %u %u\n", ev->type,
			   ev->code, ev->value);
		return;
	}
	in->dirty = true;
}

static void event(struct vinput *in, const struct input_event_le *ev)
{
	vi.events++;
	if (ev->type == EV_SYN && ev->code == SYN_REPORT) {
		if (!in->tablet || !in->dirty)
			return;
		out_printf(OUT_BOTH, "TABLET %u %u %d %d %u\n", in->x, in->y,
			   in->dz, in->dw, in->buttons);
		vi.reports++;
		in->dz = in->dw = 0;
		in->dirty = false;
		ptr_show(in);
	} else if (!in->tablet && ev->type == EV_KEY) {
		key_event(ev);
	} else if (in->tablet) {
		tablet_event(in, ev);
	} else {
		out_printf(OUT_BOTH, "VEVENT kbd %u %u %u\n", ev->type, ev->code,
			   ev->value);
	}
}

/* Take every used event buffer, report it, post it again. */
static void drain(struct vinput *in)
{
	bool any = false;
	uint32_t len;
	int id;

	while ((id = vq_get(&in->evt, &len)) != -1) {
		struct input_event_le ev;

		if (id < 0)
			continue;
		ev = in->bufs[id];
		if (len >= sizeof(ev))
			event(in, &ev);
		vq_post(&in->evt, (uint16_t)id, (uintptr_t)&in->bufs[id],
			sizeof(in->bufs[id]));
		any = true;
	}
	if (any)
		vq_kick(&in->evt);
}

int virtio_test_input(void)
{
	unsigned kbd = 0, tablet = 0;

	if (!serial_present() || !irq_setup_serial()) {
		out_printf(OUT_BOTH, "RESULT error no-serial-port\n");
		return EXIT_FAIL;
	}
	screen_setup();
	for (unsigned i = 0; i < 2 && input_probe(&vi.dev[vi.ndev], i); i++)
		vi.ndev++;
	if (!vi.ndev) {
		out_printf(OUT_BOTH, "RESULT error no-virtio-input pci=%04x:%04x\n",
			   VIRTIO_VENDOR, VIRTIO_DEV_INPUT);
		return EXIT_FAIL;
	}
	vi.irq = true;
	for (unsigned i = 0; i < vi.ndev; i++) {
		if (vi.dev[i].tablet)
			tablet++;
		else
			kbd++;
		vi.irq = vi.irq && virtio_irq_setup(&vi.dev[i].dev);
	}
	out_printf(OUT_BOTH, "RESULT virtio-input ready keyboard=%u tablet=%u irq=%d\n",
		   kbd, tablet, vi.irq);
	for (;;) {
		uint64_t seen = irq_count;
		int c;

		/* Acknowledge first: an event after this raises a new edge. */
		for (unsigned i = 0; i < vi.ndev; i++) {
			(void)vdev_isr(&vi.dev[i].dev);
			drain(&vi.dev[i]);
		}
		c = serial_getc();
		if (c == 'q')
			break;
		if (c >= 0)
			continue;
		if (vi.irq)
			idle(seen);
		else
			__asm__ volatile("pause");
	}
	out_printf(OUT_BOTH, "RESULT virtio-input ok events=%lu reports=%lu irqs=%lu\n",
		   vi.events, vi.reports, irq_count);
	return EXIT_OK;
}
