// SPDX-License-Identifier: MIT
/*
 * virtio-input keyboard and tablet; see virtio-input.h.
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../virtio/virtio-pci.h"
#include "virtio-input.h"

#define VIRTIO_ID_INPUT 18
#define EVENT_Q  0
#define STATUS_Q 1

/* Configuration selectors (5.8.4). */
#define CFG_UNSET     0x00
#define CFG_ID_NAME   0x01
#define CFG_ID_SERIAL 0x02
#define CFG_ID_DEVIDS 0x03
#define CFG_PROP_BITS 0x10
#define CFG_EV_BITS   0x11
#define CFG_ABS_INFO  0x12
#define CFG_SIZE      136
#define CFG_DATA      8

/* Linux input event codes (include/uapi/linux/input-event-codes.h). */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_LED 0x11
#define EV_REP 0x14
#define SYN_REPORT 0
#define REL_HWHEEL 0x06
#define REL_WHEEL  0x08
#define ABS_X 0x00
#define ABS_Y 0x01
#define BTN_LEFT   0x110
#define BTN_RIGHT  0x111
#define BTN_MIDDLE 0x112
#define LED_NUML    0
#define LED_CAPSL   1
#define LED_SCROLLL 2
#define KEY_PAUSE 119
#define ABS_MAX_VALUE 0x7FFF   /* display/input.h INPUT_ABS_MAX */

#define PENDING_MAX 256

struct input_event_le {
	uint16_t type, code;
	uint32_t value;
};

struct virtio_input {
	struct virtio_pci *vp;
	enum virtio_input_kind kind;
	const struct virtio_input_ops *ops;
	void *opaque;
	uint8_t select, subsel;
	unsigned buttons;
	struct input_event_le pending[PENDING_MAX];
	unsigned head, count;
	struct virtq_elem elem;
};

/* XT scancodes with an E0 prefix -> Linux key codes (as atkbd maps them). */
static const struct { uint8_t xt; uint8_t key; } e0_keys[] = {
	{ 0x1C, 96 },  { 0x1D, 97 },  { 0x35, 98 },  { 0x37, 99 },
	{ 0x38, 100 }, { 0x47, 102 }, { 0x48, 103 }, { 0x49, 104 },
	{ 0x4B, 105 }, { 0x4D, 106 }, { 0x4F, 107 }, { 0x50, 108 },
	{ 0x51, 109 }, { 0x52, 110 }, { 0x53, 111 }, { 0x5B, 125 },
	{ 0x5C, 126 }, { 0x5D, 127 },
};

/* 0 if the code has no Linux key. */
static unsigned xt_to_key(unsigned xt)
{
	if (xt == 0x100)
		return KEY_PAUSE;
	if (xt & 0x80) {
		for (unsigned i = 0; i < sizeof(e0_keys) / sizeof(e0_keys[0]); i++)
			if (e0_keys[i].xt == (xt & 0x7F))
				return e0_keys[i].key;
		return 0;
	}
	/* Set 1 make codes 1..0x58 are Linux's key codes 1..88. */
	return xt >= 1 && xt <= 0x58 ? xt : 0;
}

/* --- event delivery --------------------------------------------------------- */

/* Lock held: move queued events into the driver's buffers. */
static void flush_events(struct virtio_input *in)
{
	struct virtq *q = virtio_pci_queue(in->vp, EVENT_Q);
	bool any = false;

	while (in->count && virtio_pci_driver_ok(in->vp)) {
		enum virtq_pop_result r = virtq_pop(q, &in->elem);
		size_t n;

		if (r == VIRTQ_BROKEN)
			virtio_pci_set_needs_reset(in->vp);
		if (r != VIRTQ_OK)
			break;
		n = virtq_elem_write(q, &in->elem, 0, &in->pending[in->head],
				     sizeof(struct input_event_le));
		virtq_push(q, &in->elem, (uint32_t)n);
		in->head = (in->head + 1) % PENDING_MAX;
		in->count--;
		any = true;
	}
	if (any)
		virtio_pci_notify_queue(in->vp, EVENT_Q);
}

static void queue_event(struct virtio_input *in, uint16_t type, uint16_t code,
			uint32_t value)
{
	if (in->count == PENDING_MAX) {
		/* The driver is not taking events: drop the oldest. */
		in->head = (in->head + 1) % PENDING_MAX;
		in->count--;
		log_ratelimited(LOG_DEBUG, "virtio-input: event queue full");
	}
	in->pending[(in->head + in->count) % PENDING_MAX] =
		(struct input_event_le){ type, code, value };
	in->count++;
}

bool virtio_input_active(struct virtio_input *in)
{
	bool ok;

	virtio_pci_lock(in->vp);
	ok = virtio_pci_driver_ok(in->vp);
	virtio_pci_unlock(in->vp);
	return ok;
}

void virtio_input_key(struct virtio_input *in, unsigned xt, bool down)
{
	unsigned key = xt_to_key(xt);

	if (!key || in->kind != VIRTIO_INPUT_KEYBOARD)
		return;
	virtio_pci_lock(in->vp);
	if (virtio_pci_driver_ok(in->vp)) {
		queue_event(in, EV_KEY, (uint16_t)key, down);
		queue_event(in, EV_SYN, SYN_REPORT, 0);
		flush_events(in);
	}
	virtio_pci_unlock(in->vp);
}

void virtio_input_position(struct virtio_input *in, unsigned x, unsigned y,
			   int dz, int dw, unsigned buttons)
{
	static const struct { unsigned bit; uint16_t code; } btn[] = {
		{ 1u << 0, BTN_LEFT }, { 1u << 1, BTN_MIDDLE },
		{ 1u << 2, BTN_RIGHT },
	};

	if (in->kind != VIRTIO_INPUT_TABLET)
		return;
	virtio_pci_lock(in->vp);
	if (!virtio_pci_driver_ok(in->vp)) {
		virtio_pci_unlock(in->vp);
		return;
	}
	queue_event(in, EV_ABS, ABS_X, x > ABS_MAX_VALUE ? ABS_MAX_VALUE : x);
	queue_event(in, EV_ABS, ABS_Y, y > ABS_MAX_VALUE ? ABS_MAX_VALUE : y);
	for (unsigned i = 0; i < 3; i++)
		if ((buttons ^ in->buttons) & btn[i].bit)
			queue_event(in, EV_KEY, btn[i].code,
				    !!(buttons & btn[i].bit));
	in->buttons = buttons;
	if (dz)
		queue_event(in, EV_REL, REL_WHEEL, (uint32_t)dz);
	if (dw)
		queue_event(in, EV_REL, REL_HWHEEL, (uint32_t)dw);
	queue_event(in, EV_SYN, SYN_REPORT, 0);
	flush_events(in);
	virtio_pci_unlock(in->vp);
}

/* Status queue: the guest's LED state (keyboard). */
static void status_events(struct virtio_input *in)
{
	struct virtq *q = virtio_pci_queue(in->vp, STATUS_Q);
	enum virtq_pop_result r;
	static unsigned leds;   /* one keyboard per VM */
	bool any = false;

	while ((r = virtq_pop(q, &in->elem)) == VIRTQ_OK) {
		struct input_event_le ev;

		if (virtq_elem_read(q, &in->elem, 0, &ev, sizeof(ev)) == sizeof(ev) &&
		    ev.type == EV_LED && ev.code <= LED_SCROLLL) {
			/* enum input_led: scroll 1, num 2, caps 4. */
			unsigned bit = ev.code == LED_SCROLLL ? 1 :
				       ev.code == LED_NUML ? 2 : 4;

			leds = ev.value ? leds | bit : leds & ~bit;
			if (in->ops && in->ops->set_leds)
				in->ops->set_leds(in->opaque, leds);
		}
		virtq_push(q, &in->elem, 0);
		any = true;
	}
	if (r == VIRTQ_BROKEN)
		virtio_pci_set_needs_reset(in->vp);
	if (any)
		virtio_pci_notify_queue(in->vp, STATUS_Q);
}

static void queue_notify(void *opaque, unsigned q)
{
	struct virtio_input *in = opaque;

	if (q == EVENT_Q)
		flush_events(in);
	else
		status_events(in);
}

/* --- configuration space -------------------------------------------------------- */

static void set_bit(uint8_t *bm, unsigned bit)
{
	if (bit < 128 * 8)
		bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* Fill the union for the current select/subsel; returns its size. */
static unsigned cfg_data(const struct virtio_input *in, uint8_t *u)
{
	bool kbd = in->kind == VIRTIO_INPUT_KEYBOARD;
	const char *s;

	memset(u, 0, 128);
	switch (in->select) {
	case CFG_ID_NAME:
		s = kbd ? "vmm virtio keyboard" : "vmm virtio tablet";
		memcpy(u, s, strlen(s));
		return (unsigned)strlen(s);
	case CFG_ID_SERIAL:
		memcpy(u, "0001", 4);
		return 4;
	case CFG_ID_DEVIDS: {
		/* BUS_VIRTUAL, vendor 0x0627 (QEMU's), product 1 kbd / 3 tablet. */
		uint16_t ids[4] = { 0x06, 0x0627, kbd ? 1 : 3, 1 };

		memcpy(u, ids, sizeof(ids));
		return sizeof(ids);
	}
	case CFG_PROP_BITS:
		return 0;
	case CFG_EV_BITS:
		if (kbd && in->subsel == EV_KEY) {
			for (unsigned k = 1; k <= 0x58; k++)
				set_bit(u, k);
			for (unsigned i = 0; i < sizeof(e0_keys) / sizeof(e0_keys[0]); i++)
				set_bit(u, e0_keys[i].key);
			set_bit(u, KEY_PAUSE);
			return 128 / 8 * 2;    /* keys up to 255 */
		}
		if (kbd && in->subsel == EV_LED) {
			set_bit(u, LED_NUML);
			set_bit(u, LED_CAPSL);
			set_bit(u, LED_SCROLLL);
			return 1;
		}
		if (kbd && in->subsel == EV_REP)
			return 1;   /* present, no bits: the kernel repeats */
		if (!kbd && in->subsel == EV_KEY) {
			set_bit(u, BTN_LEFT);
			set_bit(u, BTN_RIGHT);
			set_bit(u, BTN_MIDDLE);
			return BTN_MIDDLE / 8 + 1;
		}
		if (!kbd && in->subsel == EV_ABS) {
			set_bit(u, ABS_X);
			set_bit(u, ABS_Y);
			return 1;
		}
		if (!kbd && in->subsel == EV_REL) {
			set_bit(u, REL_HWHEEL);
			set_bit(u, REL_WHEEL);
			return 2;
		}
		return 0;
	case CFG_ABS_INFO:
		if (!kbd && (in->subsel == ABS_X || in->subsel == ABS_Y)) {
			uint32_t info[5] = { 0, ABS_MAX_VALUE, 0, 0, 0 };

			memcpy(u, info, sizeof(info));
			return sizeof(info);
		}
		return 0;
	default:
		return 0;
	}
}

static void cfg_read(void *opaque, unsigned off, uint8_t *data, unsigned len)
{
	struct virtio_input *in = opaque;
	uint8_t img[CFG_SIZE] = { 0 };

	img[0] = in->select;
	img[1] = in->subsel;
	img[2] = (uint8_t)cfg_data(in, img + CFG_DATA);
	if (off < CFG_SIZE)
		memcpy(data, img + off, len > CFG_SIZE - off ? CFG_SIZE - off : len);
}

static void cfg_write(void *opaque, unsigned off, const uint8_t *data,
		      unsigned len)
{
	struct virtio_input *in = opaque;

	for (unsigned i = 0; i < len; i++) {
		if (off + i == 0)
			in->select = data[i];
		else if (off + i == 1)
			in->subsel = data[i];
	}
}

static void dev_reset(void *opaque)
{
	struct virtio_input *in = opaque;

	in->select = in->subsel = 0;
	in->head = in->count = 0;
	in->buttons = 0;
}

static const struct virtio_dev_ops input_ops = {
	.queue_notify = queue_notify,
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.reset = dev_reset,
};

struct virtio_input *virtio_input_create(struct vm *vm, struct pci_bus *pci,
					 struct event_loop *loop,
					 enum virtio_input_kind kind,
					 const struct virtio_input_ops *ops,
					 void *opaque)
{
	struct virtio_pci_config pc = {
		.name = kind == VIRTIO_INPUT_KEYBOARD ? "virtio-keyboard"
						      : "virtio-tablet",
		.device_type = VIRTIO_ID_INPUT,
		.class_code = 0x098000,     /* input device, other */
		.num_queues = 2,
		.queue_max = { 64, 64 },
		.cfg_size = CFG_SIZE,
	};
	struct virtio_input *in = calloc(1, sizeof(*in));

	if (!in) {
		log_err("virtio-input: out of memory");
		return NULL;
	}
	in->kind = kind;
	in->ops = ops;
	in->opaque = opaque;
	in->vp = virtio_pci_create(vm, pci, loop, &pc, &input_ops, in);
	if (!in->vp) {
		free(in);
		return NULL;
	}
	return in;
}

void virtio_input_destroy(struct virtio_input *in)
{
	if (!in)
		return;
	virtio_pci_destroy(in->vp);
	free(in);
}

struct virtio_pci *virtio_input_transport(struct virtio_input *in)
{
	return in->vp;
}
