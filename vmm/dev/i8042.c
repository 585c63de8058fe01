// SPDX-License-Identifier: MIT
/*
 * i8042 keyboard controller. What Linux relies on (drivers/input/serio/
 * i8042.c):
 *  - i8042_flush() drains the output buffer while the status OBF bit is set;
 *  - 0xAA answers 0x55; 0x20/0x60 read and write the command byte (CTR), and
 *    the driver reads it until two reads agree;
 *  - i8042_check_aux(): 0xD3 must echo its byte with the status AUX bit set,
 *    0xA7/0xA8 must set/clear the CTR aux-disable bit, and with the AUX
 *    interrupt enabled a 0xD3 byte must raise IRQ 12;
 *  - every byte raises its own interrupt edge (the driver reads one byte per
 *    interrupt): the line drops when the guest reads the data port, before
 *    the next queued byte is loaded.
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../platform.h"
#include "i8042.h"

/* Status register. */
#define STR_OBF     0x01
#define STR_SYS     0x04
#define STR_CMD     0x08
#define STR_UNLOCKED 0x10   /* keyboard not inhibited by the keylock */
#define STR_AUXDATA 0x20
#define STR_TIMEOUT 0x40

/* Command byte (controller RAM 0). */
#define CTR_KBDINT  0x01
#define CTR_AUXINT  0x02
#define CTR_SYS     0x04
#define CTR_KBDDIS  0x10
#define CTR_AUXDIS  0x20
#define CTR_XLATE   0x40
/* What a PC BIOS leaves: translated keyboard with its interrupt, aux off. */
#define CTR_DEFAULT (CTR_XLATE | CTR_AUXDIS | CTR_SYS | CTR_KBDINT)

/* Output port (0xD0/0xD1). */
#define OUT_RESET   0x01    /* 0 = CPU held in reset */
#define OUT_A20     0x02
#define OUT_KBD_OBF 0x10
#define OUT_AUX_OBF 0x20

/* Flags of a byte waiting for the output buffer. */
#define BYTE_AUX     0x01
#define BYTE_TIMEOUT 0x02

#define RET_SELFTEST_OK 0x55
#define RET_PORT_TEST_OK 0x00
#define RET_NO_DEVICE    0xFE

#define QUEUE_LEN 64

struct out_byte {
	uint8_t val;
	uint8_t flags;
};

struct queue {
	struct out_byte buf[QUEUE_LEN];
	unsigned head, count;
};

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ram[32];           /* ram[0] is the command byte */
	uint8_t outport;
	bool last_was_cmd;
	uint8_t pending_cmd;       /* a command waiting for its data byte */
	bool obf;
	struct out_byte out;       /* the output buffer */
	struct queue ctl;          /* controller answers: first in line */
	struct queue port[2];      /* bytes from the devices */
	bool xlate_break;          /* saw a set 2 0xF0 prefix */
	int irq_kbd, irq_aux;
	const struct ps2_port_ops *ops[2];
	void *dev[2];
};

/* Scancode set 2 -> set 1, the 8042's translation for codes below 0x80
 * (codes from 0x80 pass through, except F7 (0x83) and SysRq (0x84)). */
static const uint8_t xlate_table[128] = {
	0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,
	0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
	0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,
	0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
	0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,
	0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
	0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,
	0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
	0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,
	0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
	0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,
	0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
	0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,
	0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
	0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,
	0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

static uint8_t xlate(uint8_t code)
{
	if (code < 0x80)
		return xlate_table[code];
	if (code == 0x83)
		return 0x41;
	if (code == 0x84)
		return 0x54;
	return code;
}

static bool queue_push(struct queue *q, uint8_t val, uint8_t flags)
{
	if (q->count == QUEUE_LEN)
		return false;
	q->buf[(q->head + q->count) % QUEUE_LEN] = (struct out_byte){ val, flags };
	q->count++;
	return true;
}

static bool queue_pop(struct queue *q, struct out_byte *b)
{
	if (!q->count)
		return false;
	*b = q->buf[q->head];
	q->head = (q->head + 1) % QUEUE_LEN;
	q->count--;
	return true;
}

static void set_line(struct i8042 *c, int *cur, unsigned gsi, int level)
{
	if (*cur != level) {
		*cur = level;
		vm_irq_line(c->vm, gsi, level);
	}
}

static void update_irq(struct i8042 *c)
{
	uint8_t ctr = c->ram[0];
	bool aux = c->out.flags & BYTE_AUX;

	set_line(c, &c->irq_kbd, IRQ_KEYBOARD,
		 c->obf && !aux && (ctr & CTR_KBDINT));
	set_line(c, &c->irq_aux, IRQ_MOUSE, c->obf && aux && (ctr & CTR_AUXINT));
}

/* Load the output buffer if it is free: controller answers first, then the
 * keyboard, then the aux port, each device only while its port is enabled. */
static void refill(struct i8042 *c)
{
	if (c->obf)
		return;
	if (queue_pop(&c->ctl, &c->out) ||
	    (!(c->ram[0] & CTR_KBDDIS) && queue_pop(&c->port[0], &c->out)) ||
	    (!(c->ram[0] & CTR_AUXDIS) && queue_pop(&c->port[1], &c->out)))
		c->obf = true;
}

static void answer(struct i8042 *c, uint8_t val, uint8_t flags)
{
	if (!queue_push(&c->ctl, val, flags))
		log_ratelimited(LOG_DEBUG, "i8042: answer queue full, byte dropped");
}

static uint8_t read_status(const struct i8042 *c)
{
	uint8_t st = STR_UNLOCKED;

	if (c->obf) {
		st |= STR_OBF;
		if (c->out.flags & BYTE_AUX)
			st |= STR_AUXDATA;
		if (c->out.flags & BYTE_TIMEOUT)
			st |= STR_TIMEOUT;
	}
	if (c->ram[0] & CTR_SYS)
		st |= STR_SYS;
	if (c->last_was_cmd)
		st |= STR_CMD;
	return st;
}

static uint8_t read_data(struct i8042 *c)
{
	uint8_t val = c->out.val;   /* an empty buffer repeats the last byte */

	if (c->obf) {
		c->obf = false;
		/* Drop the line before loading the next byte: the PIC and
		 * IOAPIC see ISA interrupts as edges. */
		update_irq(c);
	}
	return val;
}

static void reset_machine(struct i8042 *c, const char *how)
{
	log_ratelimited(LOG_INFO, "i8042: guest reset the machine (%s)", how);
	vm_request_stop(c->vm, VM_STOP_REBOOT);
}

static uint8_t read_outport(const struct i8042 *c)
{
	uint8_t v = c->outport & (uint8_t)~(OUT_KBD_OBF | OUT_AUX_OBF);

	if (c->obf)
		v |= (c->out.flags & BYTE_AUX) ? OUT_AUX_OBF : OUT_KBD_OBF;
	return v;
}

static void command(struct i8042 *c, uint8_t cmd)
{
	c->pending_cmd = 0;
	if (cmd >= 0x20 && cmd <= 0x3F) {
		answer(c, c->ram[cmd & 0x1F], 0);
		return;
	}
	if ((cmd >= 0x60 && cmd <= 0x7F) || (cmd >= 0xD1 && cmd <= 0xD4)) {
		c->pending_cmd = cmd;
		return;
	}
	if (cmd >= 0xF0) {
		/* Pulse output port lines whose bit is 0; bit 0 is reset. */
		if (!(cmd & 1))
			reset_machine(c, "pulse command");
		return;
	}
	switch (cmd) {
	case 0xA7: c->ram[0] |= CTR_AUXDIS; break;
	case 0xA8: c->ram[0] &= (uint8_t)~CTR_AUXDIS; break;
	case 0xA9: answer(c, RET_PORT_TEST_OK, 0); break;
	case 0xAA: answer(c, RET_SELFTEST_OK, 0); break;
	case 0xAB: answer(c, RET_PORT_TEST_OK, 0); break;
	case 0xAD: c->ram[0] |= CTR_KBDDIS; break;
	case 0xAE: c->ram[0] &= (uint8_t)~CTR_KBDDIS; break;
	case 0xC0: answer(c, 0x80, 0); break;   /* input port: not inhibited */
	case 0xD0: answer(c, read_outport(c), 0); break;
	case 0xDD: case 0xDF: break;            /* A20 gate: always enabled */
	case 0xE0: answer(c, 0x00, 0); break;   /* test inputs */
	default:
		log_ratelimited(LOG_DEBUG, "i8042: unknown command 0x%02x", cmd);
	}
}

/*
 * A data port write. Returns the port (0/1) whose device must get the byte,
 * or -1; the caller delivers it once the lock is dropped.
 */
static int data_write(struct i8042 *c, uint8_t val)
{
	uint8_t cmd = c->pending_cmd;
	int port = I8042_PORT_KBD;

	c->pending_cmd = 0;
	if (cmd >= 0x60 && cmd <= 0x7F) {
		c->ram[cmd & 0x1F] = val;
		return -1;
	}
	switch (cmd) {
	case 0xD1:
		c->outport = val;
		if (!(val & OUT_RESET))
			reset_machine(c, "output port");
		return -1;
	case 0xD2:
		answer(c, val, 0);
		return -1;
	case 0xD3:
		answer(c, val, BYTE_AUX);
		return -1;
	case 0xD4:
		port = I8042_PORT_AUX;
		break;
	default:
		/* Sending to the keyboard re-enables its clock line. */
		c->ram[0] &= (uint8_t)~CTR_KBDDIS;
	}
	if (!c->ops[port]) {
		answer(c, RET_NO_DEVICE,
		       BYTE_TIMEOUT | (port == I8042_PORT_AUX ? BYTE_AUX : 0));
		return -1;
	}
	return port;
}

static void i8042_io(void *opaque, uint64_t offset, uint8_t *data,
		     uint32_t len, bool is_write, bool is_cmd_port)
{
	struct i8042 *c = opaque;
	int deliver = -1;
	uint8_t byte = 0;

	(void)offset;
	if (len != 1) {
		if (!is_write)
			memset(data, 0xFF, len);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if (is_write) {
		c->last_was_cmd = is_cmd_port;
		if (is_cmd_port) {
			command(c, data[0]);
		} else {
			byte = data[0];
			deliver = data_write(c, byte);
		}
	} else {
		data[0] = is_cmd_port ? read_status(c) : read_data(c);
	}
	refill(c);
	update_irq(c);
	pthread_mutex_unlock(&c->lock);
	if (deliver >= 0)
		c->ops[deliver]->write(c->dev[deliver], byte);
}

static void data_port_io(void *opaque, uint64_t offset, uint8_t *data,
			 uint32_t len, bool is_write)
{
	i8042_io(opaque, offset, data, len, is_write, false);
}

static void cmd_port_io(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write)
{
	i8042_io(opaque, offset, data, len, is_write, true);
}

/* Queue one byte from a device; the caller holds the lock. */
static bool push_locked(struct i8042 *c, int port, uint8_t byte)
{
	uint8_t flags = port == I8042_PORT_AUX ? BYTE_AUX : 0;

	if (port == I8042_PORT_KBD && (c->ram[0] & CTR_XLATE)) {
		if (byte == 0xF0) {
			/* Set 2 break prefix: set 1 marks the code instead. */
			c->xlate_break = true;
			return true;
		}
		byte = xlate(byte) | (c->xlate_break ? 0x80 : 0);
		c->xlate_break = false;
	}
	return queue_push(&c->port[port], byte, flags);
}

void i8042_push(struct i8042 *c, int port, uint8_t byte)
{
	if (port != I8042_PORT_KBD && port != I8042_PORT_AUX)
		return;
	pthread_mutex_lock(&c->lock);
	if (!push_locked(c, port, byte))
		log_ratelimited(LOG_WARN, "i8042: %s queue full, byte dropped",
				port ? "aux" : "keyboard");
	refill(c);
	update_irq(c);
	pthread_mutex_unlock(&c->lock);
}

bool i8042_push_all(struct i8042 *c, int port, const uint8_t *bytes,
		    unsigned n)
{
	unsigned need = 0;
	bool ok = false;

	if (port != I8042_PORT_KBD && port != I8042_PORT_AUX)
		return false;
	pthread_mutex_lock(&c->lock);
	/* With translation on, set 2 break prefixes take no queue slot. */
	for (unsigned i = 0; i < n; i++)
		if (!(port == I8042_PORT_KBD && (c->ram[0] & CTR_XLATE) &&
		      bytes[i] == 0xF0))
			need++;
	if (need <= QUEUE_LEN - c->port[port].count) {
		for (unsigned i = 0; i < n; i++)
			push_locked(c, port, bytes[i]);
		refill(c);
		update_irq(c);
		ok = true;
	}
	pthread_mutex_unlock(&c->lock);
	return ok;
}

void i8042_attach(struct i8042 *c, int port, const struct ps2_port_ops *ops,
		  void *dev)
{
	if (port != I8042_PORT_KBD && port != I8042_PORT_AUX)
		return;
	pthread_mutex_lock(&c->lock);
	c->ops[port] = ops;
	c->dev[port] = dev;
	pthread_mutex_unlock(&c->lock);
}

struct i8042 *i8042_create(struct vm *vm)
{
	struct i8042 *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->vm = vm;
	pthread_mutex_init(&c->lock, NULL);
	c->ram[0] = CTR_DEFAULT;
	c->outport = OUT_RESET | OUT_A20;
	if (bus_register(&vm->pio, PORT_I8042_DATA, 1, data_port_io, c, "i8042-data") < 0 ||
	    bus_register(&vm->pio, PORT_I8042_CMD, 1, cmd_port_io, c, "i8042-cmd") < 0) {
		log_err("i8042: ports 0x%x/0x%x are taken", PORT_I8042_DATA,
			PORT_I8042_CMD);
		i8042_destroy(c);
		return NULL;
	}
	return c;
}

void i8042_destroy(struct i8042 *c)
{
	if (!c)
		return;
	bus_unregister(&c->vm->pio, PORT_I8042_DATA, c);
	bus_unregister(&c->vm->pio, PORT_I8042_CMD, c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
