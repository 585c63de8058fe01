// SPDX-License-Identifier: MIT
/*
 * PS/2 keyboard. What Linux relies on (atkbd.c, libps2.c):
 *  - every command byte is answered with ACK (0xFA) before anything else,
 *    and a command's data bytes follow the ACK in the same breath: libps2
 *    waits for the ACK, then for the announced number of bytes;
 *  - GET ID (0xF2) answers AB 83 (the i8042 translates 0x83 to 0x41 when
 *    translation is on, as atkbd expects from real hardware);
 *  - atkbd_probe() may reset (FF: FA AA), reads the ID, then disables
 *    scanning (F5); atkbd_activate() sets the LEDs (ED xx), the typematic
 *    rate (F3 xx) and enables (F4); atkbd_select_set() is only used when
 *    the controller does not translate: with atkbd.set=3 it tries F0 03,
 *    reads the set back with F0 00 and falls back to set 2 when it is not 3;
 *  - a byte that is a command (>= 0xED) where a data byte is expected
 *    starts that command instead, as on real keyboards.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "ps2kbd.h"

#define KBD_ACK    0xFA
#define KBD_BAT_OK 0xAA
#define KBD_ECHO   0xEE
#define KBD_RESEND 0xFE

/* Modifier keys a real keyboard looks at for Print Screen and Pause. */
#define MOD_CTRL  0x01
#define MOD_SHIFT 0x02
#define MOD_ALT   0x04

/* How Print Screen was sent when pressed, so its release matches. */
enum print_form { PRINT_NONE, PRINT_FULL, PRINT_BARE, PRINT_SYSRQ };

#define MAX_SEQ 8

struct ps2kbd {
	pthread_mutex_t lock;
	struct i8042 *ctl;
	const struct ps2kbd_ops *ops;
	void *opaque;

	uint8_t pending;          /* command waiting for its data byte, or 0 */
	uint8_t set;              /* scancode set in use: 1 or 2 */
	bool enabled;             /* scanning */
	uint8_t leds;
	uint8_t typematic;
	uint8_t last_sent;        /* for 0xFE (resend) */
	/* Modifier keys down: bit i of mods_l for the left key, mods_r right. */
	uint8_t mods_l, mods_r;
	enum print_form print;
	/* Keys pressed while a command waits for its data byte: sent after
	 * it, as libps2 would swallow them while waiting for the ACK. */
	uint8_t held[32];
	unsigned nheld;
};

/* Scancode set 1 make code -> set 2 make code (0: none). Extended keys
 * (0xE0 prefix) use the same table for the byte after the prefix. */
static const uint8_t set1_to_set2[128] = {
	0x00, 0x76, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36,   /* 0x00 */
	0x3d, 0x3e, 0x46, 0x45, 0x4e, 0x55, 0x66, 0x0d,   /* 0x08 */
	0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43,   /* 0x10 */
	0x44, 0x4d, 0x54, 0x5b, 0x5a, 0x14, 0x1c, 0x1b,   /* 0x18 */
	0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, 0x4c,   /* 0x20 */
	0x52, 0x0e, 0x12, 0x5d, 0x1a, 0x22, 0x21, 0x2a,   /* 0x28 */
	0x32, 0x31, 0x3a, 0x41, 0x49, 0x4a, 0x59, 0x7c,   /* 0x30 */
	0x11, 0x29, 0x58, 0x05, 0x06, 0x04, 0x0c, 0x03,   /* 0x38 */
	0x0b, 0x83, 0x0a, 0x01, 0x09, 0x77, 0x7e, 0x6c,   /* 0x40 F7=83 */
	0x75, 0x7d, 0x7b, 0x6b, 0x73, 0x74, 0x79, 0x69,   /* 0x48 */
	0x72, 0x7a, 0x70, 0x71, 0x84, 0x60, 0x61, 0x78,   /* 0x50 SysRq=84 */
	0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f,   /* 0x58 */
	0x47, 0x4f, 0x56, 0x5e, 0x08, 0x10, 0x18, 0x20,   /* 0x60 */
	0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x57, 0x6f,   /* 0x68 */
	0x13, 0x19, 0x39, 0x51, 0x53, 0x5c, 0x5f, 0x62,   /* 0x70 */
	0x63, 0x64, 0x65, 0x67, 0x68, 0x6a, 0x6d, 0x6e,   /* 0x78 */
};

/* XT codes with special sequences. */
#define XT_PRINT   0xB7     /* E0 37 */
#define XT_BREAK   0xC6     /* E0 46: Ctrl+Pause */
#define XT_SYSRQ   0x54
#define XT_LSHIFT  0x2A
#define XT_RSHIFT  0x36
#define XT_LCTRL   0x1D
#define XT_RCTRL   0x9D
#define XT_LALT    0x38
#define XT_RALT    0xB8
#define XT_NUMLOCK 0x45

struct seq {
	uint8_t b[MAX_SEQ];
	unsigned n;
	uint8_t set;
};

static void put(struct seq *s, uint8_t byte)
{
	if (s->n < MAX_SEQ)
		s->b[s->n++] = byte;
}

/* One key transition of the set 1 code code1 (prefix 0, 0xE0 or 0xE1) in
 * the keyboard's current set. */
static void emit(struct seq *s, uint8_t prefix, uint8_t code1, bool brk)
{
	if (prefix)
		put(s, prefix);
	if (s->set == 1) {
		put(s, code1 | (brk ? 0x80 : 0));
		return;
	}
	if (brk)
		put(s, 0xF0);
	put(s, set1_to_set2[code1 & 0x7F]);
}

static void pause_sequence(struct seq *s, unsigned mods)
{
	if (mods & MOD_CTRL) {
		/* Ctrl+Pause is Break: make and break at once. */
		emit(s, 0xE0, XT_BREAK & 0x7F, false);
		emit(s, 0xE0, XT_BREAK & 0x7F, true);
		return;
	}
	emit(s, 0xE1, XT_LCTRL, false);
	emit(s, 0, XT_NUMLOCK, false);
	emit(s, 0xE1, XT_LCTRL, true);
	emit(s, 0, XT_NUMLOCK, true);
}

static enum print_form print_form_for(unsigned mods)
{
	if (mods & MOD_ALT)
		return PRINT_SYSRQ;
	if (mods & (MOD_CTRL | MOD_SHIFT))
		return PRINT_BARE;
	return PRINT_FULL;
}

static void print_sequence(struct seq *s, enum print_form form, bool down)
{
	switch (form) {
	case PRINT_SYSRQ:
		emit(s, 0, XT_SYSRQ, !down);
		break;
	case PRINT_BARE:
		emit(s, 0xE0, XT_PRINT & 0x7F, !down);
		break;
	default:
		/* A "fake shift" around the key, as real keyboards send it. */
		if (down) {
			emit(s, 0xE0, XT_LSHIFT, false);
			emit(s, 0xE0, XT_PRINT & 0x7F, false);
		} else {
			emit(s, 0xE0, XT_PRINT & 0x7F, true);
			emit(s, 0xE0, XT_LSHIFT, true);
		}
	}
}

static bool valid_xt(unsigned xt)
{
	if (xt == PS2KBD_KEY_PAUSE)
		return true;
	return xt < 0x100 && set1_to_set2[xt & 0x7F] != 0;
}

/* The sequence of an ordinary key or of one of the special ones. */
static void key_sequence(struct seq *s, unsigned xt, bool down, unsigned mods,
			 enum print_form print)
{
	if (xt == PS2KBD_KEY_PAUSE) {
		if (down)
			pause_sequence(s, mods);
		return;
	}
	if (xt == XT_BREAK) {
		if (down) {
			emit(s, 0xE0, XT_BREAK & 0x7F, false);
			emit(s, 0xE0, XT_BREAK & 0x7F, true);
		}
		return;
	}
	if (xt == XT_PRINT) {
		print_sequence(s, print, down);
		return;
	}
	emit(s, xt & 0x80 ? 0xE0 : 0, (uint8_t)(xt & 0x7F), !down);
}

unsigned ps2kbd_set2_sequence(unsigned xt_code, bool down, uint8_t *out)
{
	struct seq s = { .set = 2 };

	if (!valid_xt(xt_code))
		return 0;
	key_sequence(&s, xt_code, down, 0, PRINT_FULL);
	memcpy(out, s.b, s.n);
	return s.n;
}

/* Bytes to the guest, all or none; the caller holds the lock. */
static bool send(struct ps2kbd *k, const uint8_t *bytes, unsigned n)
{
	if (!n)
		return true;
	if (!i8042_push_all(k->ctl, I8042_PORT_KBD, bytes, n))
		return false;
	k->last_sent = bytes[n - 1];
	return true;
}

static void send1(struct ps2kbd *k, uint8_t byte)
{
	send(k, &byte, 1);
}

static void send2(struct ps2kbd *k, uint8_t a, uint8_t b)
{
	uint8_t v[2] = { a, b };

	send(k, v, 2);
}

/* Whether a command waits for its data byte (keys are held meanwhile). */
static bool holding(const struct ps2kbd *k)
{
	return k->pending == 0xED || k->pending == 0xF0 || k->pending == 0xF3;
}

/* Keep a key's sequence until the pending command is done (whole, or
 * dropped like any key when the buffer is full). */
static void hold(struct ps2kbd *k, const struct seq *s)
{
	if (k->nheld + s->n > sizeof(k->held))
		return;
	memcpy(k->held + k->nheld, s->b, s->n);
	k->nheld += s->n;
}

/* Send the keys held during a command, each sequence whole. */
static void release_held(struct ps2kbd *k)
{
	if (!k->nheld || holding(k))
		return;
	if (k->enabled)
		send(k, k->held, k->nheld);
	k->nheld = 0;
}

/* The modifier a key is (0: none); *right for the right-hand one. */
static unsigned mod_bit(unsigned xt, bool *right)
{
	*right = xt == XT_RCTRL || xt == XT_RSHIFT || xt == XT_RALT;
	switch (xt) {
	case XT_LCTRL: case XT_RCTRL: return MOD_CTRL;
	case XT_LSHIFT: case XT_RSHIFT: return MOD_SHIFT;
	case XT_LALT: case XT_RALT: return MOD_ALT;
	default: return 0;
	}
}

/* Both hands tracked apart: releasing one Shift keeps the other's. */
static void track_modifier(struct ps2kbd *k, unsigned xt, bool down)
{
	bool right;
	unsigned bit = mod_bit(xt, &right);
	uint8_t *m = right ? &k->mods_r : &k->mods_l;

	if (!bit)
		return;
	if (down)
		*m |= (uint8_t)bit;
	else
		*m &= (uint8_t)~bit;
}

void ps2kbd_key(struct ps2kbd *k, unsigned xt_code, bool down)
{
	struct seq s;
	enum print_form print;

	if (!valid_xt(xt_code))
		return;
	pthread_mutex_lock(&k->lock);
	track_modifier(k, xt_code, down);
	s = (struct seq){ .set = k->set };
	print = k->print;
	if (xt_code == XT_PRINT) {
		if (down)
			print = k->print = print_form_for(k->mods_l | k->mods_r);
		else if (print == PRINT_NONE)
			print = print_form_for(k->mods_l | k->mods_r);
		else
			k->print = PRINT_NONE;
	}
	key_sequence(&s, xt_code, down, k->mods_l | k->mods_r, print);
	/* A disabled keyboard does not scan; a full buffer drops the key. */
	if (k->enabled && holding(k))
		hold(k, &s);
	else if (k->enabled && !send(k, s.b, s.n))
		log_ratelimited(LOG_DEBUG,
				"ps2kbd: guest does not read, key dropped");
	pthread_mutex_unlock(&k->lock);
}

static void set_defaults(struct ps2kbd *k)
{
	k->typematic = 0x2B;   /* 10.9 characters/s, 500 ms */
	k->set = 2;
}

/* A data byte for the pending command. Returns true if the LEDs changed. */
static bool command_data(struct ps2kbd *k, uint8_t cmd, uint8_t val)
{
	switch (cmd) {
	case 0xED:
		send1(k, KBD_ACK);
		val &= PS2KBD_LED_SCROLL | PS2KBD_LED_NUM | PS2KBD_LED_CAPS;
		if (val == k->leds)
			return false;
		k->leds = val;
		return true;
	case 0xF3:
		send1(k, KBD_ACK);
		k->typematic = val & 0x7F;
		return false;
	case 0xF0:
		if (val == 0) {
			send2(k, KBD_ACK, k->set);
		} else if (val <= 3) {
			/* Set 3 is not implemented: stay in set 2, which
			 * atkbd finds when it reads the set back. */
			send1(k, KBD_ACK);
			k->set = val == 1 ? 1 : 2;
		} else {
			send1(k, KBD_RESEND);
		}
		return false;
	default:
		/* 0xFB-0xFD (set 3 key types): a list of keys, each ACKed. */
		send1(k, KBD_ACK);
		k->pending = cmd;
		return false;
	}
}

/* Returns true if the LEDs changed. */
static bool command(struct ps2kbd *k, uint8_t cmd)
{
	bool leds_changed = false;

	switch (cmd) {
	case 0xED: case 0xF0: case 0xF3:
		send1(k, KBD_ACK);
		k->pending = cmd;
		break;
	case 0xEE:
		send1(k, KBD_ECHO);
		break;
	case 0xF2:
		{
			static const uint8_t id[] = { KBD_ACK, 0xAB, 0x83 };

			send(k, id, sizeof(id));
		}
		break;
	case 0xF4:
		send1(k, KBD_ACK);
		k->enabled = true;
		break;
	case 0xF5:
		send1(k, KBD_ACK);
		set_defaults(k);
		k->enabled = false;
		break;
	case 0xF6:
		send1(k, KBD_ACK);
		set_defaults(k);
		k->enabled = true;
		break;
	case 0xF7: case 0xF8: case 0xF9: case 0xFA:
		send1(k, KBD_ACK);
		break;
	case 0xFB: case 0xFC: case 0xFD:
		send1(k, KBD_ACK);
		k->pending = cmd;
		break;
	case 0xFE:
		send1(k, k->last_sent);
		break;
	case 0xFF:
		set_defaults(k);
		k->enabled = true;
		leds_changed = k->leds != 0;
		k->leds = 0;
		send2(k, KBD_ACK, KBD_BAT_OK);
		break;
	default:
		log_ratelimited(LOG_DEBUG, "ps2kbd: unknown command 0x%02x", cmd);
		send1(k, KBD_RESEND);
	}
	return leds_changed;
}

static void kbd_write(void *dev, uint8_t byte)
{
	struct ps2kbd *k = dev;
	bool leds_changed;
	unsigned leds;
	uint8_t cmd;

	pthread_mutex_lock(&k->lock);
	cmd = k->pending;
	k->pending = 0;
	if (cmd && byte < 0xED)
		leds_changed = command_data(k, cmd, byte);
	else
		leds_changed = command(k, byte);
	release_held(k);
	leds = k->leds;
	pthread_mutex_unlock(&k->lock);
	if (leds_changed && k->ops && k->ops->set_leds)
		k->ops->set_leds(k->opaque, leds);
}

static const struct ps2_port_ops kbd_port_ops = { .write = kbd_write };

struct ps2kbd *ps2kbd_create(struct i8042 *ctl, const struct ps2kbd_ops *ops,
			     void *opaque)
{
	struct ps2kbd *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	pthread_mutex_init(&k->lock, NULL);
	k->ctl = ctl;
	k->ops = ops;
	k->opaque = opaque;
	k->enabled = true;
	set_defaults(k);
	i8042_attach(ctl, I8042_PORT_KBD, &kbd_port_ops, k);
	return k;
}

void ps2kbd_destroy(struct ps2kbd *k)
{
	if (!k)
		return;
	i8042_attach(k->ctl, I8042_PORT_KBD, NULL, NULL);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

unsigned ps2kbd_leds(struct ps2kbd *k)
{
	unsigned leds;

	pthread_mutex_lock(&k->lock);
	leds = k->leds;
	pthread_mutex_unlock(&k->lock);
	return leds;
}
