// SPDX-License-Identifier: MIT
/*
 * PS/2 mouse. What Linux relies on (psmouse-base.c and the protocol probes
 * in drivers/input/mouse/, over libps2.c):
 *  - every command is ACKed (0xFA) and its answer follows at once;
 *  - psmouse_reset(): FF answers FA AA 00; psmouse_probe(): F2 answers one
 *    ID byte (00, 03 or 04), then F6;
 *  - the protocol probes (Synaptics, ALPS, Elantech, Logitech, ...) send
 *    E8/E6/E7/F3 sequences and read E9 status reports: a plain mouse gives
 *    its ordinary status, which none of them takes for its own signature;
 *  - intellimouse_detect(): sample rates 200, 100, 80 then F2 -> 03;
 *    im_explorer_detect(): 200, 200, 80 then F2 -> 04, then 200, 80, 40 to
 *    switch an IntelliMouse 4.0 to its packet form with a horizontal wheel
 *    (byte 3: 0x80 | 6-bit vertical, 0x40 | 6-bit horizontal, else a 4-bit
 *    vertical with buttons 4/5);
 *  - packets: byte 0 = 0x08 | Y sign 0x20 | X sign 0x10 | M 0x04 | R 0x02 |
 *    L 0x01 (overflow bits 0x40/0x80 never set: big motions are split),
 *    bytes 1-2 = the low 8 bits of the 9-bit X and Y, Y pointing up.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "ps2mouse.h"

#define AUX_ACK    0xFA
#define AUX_RESEND 0xFE
#define AUX_BAT_OK 0xAA

/* Remote-mode counters saturate here (the guest reads them in pieces). */
#define ACC_LIMIT (1 << 20)

struct ps2mouse {
	pthread_mutex_t lock;
	struct i8042 *ctl;

	uint8_t pending;        /* E8 or F3 waiting for its data byte, or 0 */
	bool enabled;           /* data reporting */
	bool remote;            /* remote mode: packets only on 0xEB */
	bool wrap;              /* wrap (echo) mode */
	bool scale21;
	uint8_t rate, res;
	uint8_t type;           /* device ID: 0, 3 or 4 */
	bool hwheel;            /* IntelliMouse 4.0 packet form */
	uint8_t rates[3];       /* last sample rates set, newest last */
	unsigned buttons;       /* PS2MOUSE_BUTTON_* now held */
	unsigned sent_buttons;  /* buttons in the last packet sent */
	int ax, ay, az, aw;     /* motion not sent yet, PS/2 orientation */
	uint8_t last[4];        /* last message, for 0xFE (resend) */
	unsigned nlast;
};

/* Bytes to the guest, all or none; the caller holds the lock. */
static bool send(struct ps2mouse *m, const uint8_t *bytes, unsigned n)
{
	if (!i8042_push_all(m->ctl, I8042_PORT_AUX, bytes, n))
		return false;
	m->nlast = n < sizeof(m->last) ? n : sizeof(m->last);
	memcpy(m->last, bytes + (n - m->nlast), m->nlast);
	return true;
}

static void send1(struct ps2mouse *m, uint8_t byte)
{
	send(m, &byte, 1);
}

static int clamp(long v, long lo, long hi)
{
	return (int)(v < lo ? lo : v > hi ? hi : v);
}

/* Take what fits into [lo, hi] out of *acc. */
static int take(int *acc, int lo, int hi)
{
	int v = clamp(*acc, lo, hi);

	*acc -= v;
	return v;
}

/* 2:1 scaling as the PS/2 mouse applies it in stream mode. */
static int scale21(int d)
{
	static const int small[6] = { 0, 1, 1, 3, 6, 9 };
	int a = d < 0 ? -d : d;
	int r = a < 6 ? small[a] : 2 * a;

	return clamp(d < 0 ? -r : r, -255, 255);
}

static unsigned packet_buttons(unsigned b)
{
	return (b & PS2MOUSE_BUTTON_LEFT ? 0x01 : 0) |
	       (b & PS2MOUSE_BUTTON_RIGHT ? 0x02 : 0) |
	       (b & PS2MOUSE_BUTTON_MIDDLE ? 0x04 : 0);
}

/* The wheel byte for ID 3/4 from the counters. */
static uint8_t wheel_byte(struct ps2mouse *m)
{
	if (m->type == 3)
		return (uint8_t)take(&m->az, -8, 7);
	if (!m->hwheel)
		return (uint8_t)(take(&m->az, -8, 7) & 0x0F);
	if (m->az)
		return (uint8_t)(0x80 | (take(&m->az, -32, 31) & 0x3F));
	if (m->aw)
		return (uint8_t)(0x40 | (take(&m->aw, -32, 31) & 0x3F));
	return 0;
}

/* One packet from the counters (what fits is taken out of them). */
static unsigned build_packet(struct ps2mouse *m, uint8_t *p, bool scaled)
{
	/* Not -256: Linux reads a zero low byte as no motion, whatever the
	 * sign bit says (a quirk for broken mice). */
	int x = take(&m->ax, -255, 255);
	int y = take(&m->ay, -255, 255);

	if (scaled) {
		x = scale21(x);
		y = scale21(y);
	}
	p[0] = (uint8_t)(0x08 | packet_buttons(m->buttons) |
			 (x < 0 ? 0x10 : 0) | (y < 0 ? 0x20 : 0));
	p[1] = (uint8_t)x;
	p[2] = (uint8_t)y;
	m->sent_buttons = m->buttons;
	if (m->type == 0)
		return 3;
	p[3] = wheel_byte(m);
	return 4;
}

static void clear_motion(struct ps2mouse *m)
{
	m->ax = m->ay = m->az = m->aw = 0;
}

static bool motion_pending(const struct ps2mouse *m)
{
	return m->ax || m->ay || m->az || m->aw ||
	       m->buttons != m->sent_buttons;
}

static void stream(struct ps2mouse *m)
{
	uint8_t p[4];

	for (int i = 0; i < PS2MOUSE_MAX_PACKETS && motion_pending(m); i++) {
		unsigned n = build_packet(m, p, m->scale21);

		if (!send(m, p, n)) {
			log_ratelimited(LOG_DEBUG, "ps2mouse: guest does not "
					"read, motion dropped");
			break;
		}
	}
	clear_motion(m);
}

void ps2mouse_motion(struct ps2mouse *m, int dx, int dy, int dz, int dw,
		     unsigned buttons)
{
	pthread_mutex_lock(&m->lock);
	m->buttons = buttons & (PS2MOUSE_BUTTON_LEFT | PS2MOUSE_BUTTON_MIDDLE |
				PS2MOUSE_BUTTON_RIGHT);
	/* PS/2: Y points up, a positive wheel count scrolls down (Linux
	 * negates it), and so does the 4.0 horizontal count. Wheels the
	 * guest did not enable are not reported. long: no int overflow. */
	m->ax = clamp((long)m->ax + dx, -ACC_LIMIT, ACC_LIMIT);
	m->ay = clamp((long)m->ay - dy, -ACC_LIMIT, ACC_LIMIT);
	if (m->type)
		m->az = clamp((long)m->az - dz, -ACC_LIMIT, ACC_LIMIT);
	if (m->hwheel)
		m->aw = clamp((long)m->aw - dw, -ACC_LIMIT, ACC_LIMIT);
	if (m->wrap || (!m->remote && !m->enabled))
		clear_motion(m);
	else if (!m->remote)
		stream(m);
	pthread_mutex_unlock(&m->lock);
}

static void set_defaults(struct ps2mouse *m)
{
	m->rate = 100;
	m->res = 2;             /* 4 counts/mm */
	m->scale21 = false;
	m->enabled = false;
	m->remote = false;
	clear_motion(m);
}

static void reset(struct ps2mouse *m)
{
	static const uint8_t bat[] = { AUX_ACK, AUX_BAT_OK, 0x00 };

	set_defaults(m);
	m->type = 0;
	m->hwheel = false;
	m->wrap = false;
	memset(m->rates, 0, sizeof(m->rates));
	send(m, bat, sizeof(bat));
}

static void status_report(struct ps2mouse *m)
{
	uint8_t st[4] = { AUX_ACK, 0, m->res, m->rate };

	st[1] = (uint8_t)((m->remote ? 0x40 : 0) | (m->enabled ? 0x20 : 0) |
			  (m->scale21 ? 0x10 : 0) |
			  (m->buttons & PS2MOUSE_BUTTON_LEFT ? 0x04 : 0) |
			  (m->buttons & PS2MOUSE_BUTTON_MIDDLE ? 0x02 : 0) |
			  (m->buttons & PS2MOUSE_BUTTON_RIGHT ? 0x01 : 0));
	send(m, st, sizeof(st));
}

/* The IntelliMouse knocks: three sample rates in a row. */
static void knock(struct ps2mouse *m, uint8_t rate)
{
	const uint8_t *r = m->rates;

	m->rates[0] = m->rates[1];
	m->rates[1] = m->rates[2];
	m->rates[2] = rate;
	if (r[0] == 200 && r[1] == 100 && r[2] == 80 && m->type < 3)
		m->type = 3;
	else if (r[0] == 200 && r[1] == 200 && r[2] == 80)
		m->type = 4;
	else if (r[0] == 200 && r[1] == 80 && r[2] == 40 && m->type == 4)
		m->hwheel = true;
}

static void command_data(struct ps2mouse *m, uint8_t cmd, uint8_t val)
{
	if (cmd == 0xE8) {
		if (val > 3) {
			send1(m, AUX_RESEND);
			return;
		}
		m->res = val;
	} else {
		if (!val) {
			send1(m, AUX_RESEND);
			return;
		}
		m->rate = val;
		knock(m, val);
	}
	send1(m, AUX_ACK);
}

static void read_data(struct ps2mouse *m)
{
	uint8_t p[5] = { AUX_ACK };
	unsigned n = build_packet(m, p + 1, false);

	send(m, p, n + 1);
}

static void command(struct ps2mouse *m, uint8_t cmd)
{
	switch (cmd) {
	case 0xE6: m->scale21 = false; break;
	case 0xE7: m->scale21 = true; break;
	case 0xE8: case 0xF3: m->pending = cmd; break;
	case 0xE9: status_report(m); return;
	case 0xEA: m->remote = false; clear_motion(m); break;
	case 0xEB: read_data(m); return;
	case 0xEC: break;                   /* not in wrap mode: nothing */
	case 0xEE: m->wrap = true; clear_motion(m); break;
	case 0xF0: m->remote = true; clear_motion(m); break;
	case 0xF2:
		{
			uint8_t id[2] = { AUX_ACK, m->type };

			send(m, id, sizeof(id));
		}
		return;
	case 0xF4: m->enabled = true; clear_motion(m); break;
	case 0xF5: m->enabled = false; clear_motion(m); break;
	case 0xF6: set_defaults(m); break;
	case 0xFE: send(m, m->last, m->nlast); return;
	case 0xFF: reset(m); return;
	default:
		log_ratelimited(LOG_DEBUG, "ps2mouse: unknown command 0x%02x", cmd);
		send1(m, AUX_RESEND);
		return;
	}
	send1(m, AUX_ACK);
}

static void wrap_byte(struct ps2mouse *m, uint8_t byte)
{
	if (byte == 0xEC) {
		m->wrap = false;
		send1(m, AUX_ACK);
	} else if (byte == 0xFF) {
		reset(m);
	} else {
		send1(m, byte);
	}
}

static void mouse_write(void *dev, uint8_t byte)
{
	struct ps2mouse *m = dev;
	uint8_t cmd;

	pthread_mutex_lock(&m->lock);
	cmd = m->pending;
	m->pending = 0;
	if (m->wrap)
		wrap_byte(m, byte);
	else if (cmd && byte < 0xE6)   /* a command byte aborts the wait */
		command_data(m, cmd, byte);
	else
		command(m, byte);
	pthread_mutex_unlock(&m->lock);
}

static const struct ps2_port_ops mouse_port_ops = { .write = mouse_write };

struct ps2mouse *ps2mouse_create(struct i8042 *ctl)
{
	struct ps2mouse *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->ctl = ctl;
	set_defaults(m);
	i8042_attach(ctl, I8042_PORT_AUX, &mouse_port_ops, m);
	return m;
}

void ps2mouse_destroy(struct ps2mouse *m)
{
	if (!m)
		return;
	i8042_attach(m->ctl, I8042_PORT_AUX, NULL, NULL);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
