// SPDX-License-Identifier: MIT
/*
 * test=input: the i8042 with its PS/2 keyboard and mouse, driven from ring 3
 * the way Linux's i8042, atkbd and psmouse drivers do it, then every byte
 * the guest receives is reported (see README.md, "test=input"):
 *
 *   KBD xx ['c']              one keyboard byte (set 1: the controller
 *                             translates), 'c' for make codes of printable
 *                             keys (shift state applied)
 *   MOUSE dx dy dz buttons    one decoded mouse packet, PS/2 orientation
 *                             (dy > 0: up; dz > 0: wheel down), buttons
 *                             bit 0 left, 1 right, 2 middle
 *
 * Initialisation polls the status port with interrupts off in the command
 * byte (as i8042_controller_init() and libps2 do); afterwards IRQ 1 and 12
 * come through the I/O APIC and the guest sleeps in HLT between bytes.
 */
#include "guest.h"

#define I8042_DATA    0x60
#define I8042_STATUS  0x64
#define I8042_CMD     0x64

#define STR_OBF       0x01
#define STR_IBF       0x02
#define STR_AUXDATA   0x20

#define CTR_KBDINT    0x01
#define CTR_AUXINT    0x02
#define CTR_SYS       0x04
#define CTR_KBDDIS    0x10
#define CTR_AUXDIS    0x20
#define CTR_XLATE     0x40

#define CMD_CTR_READ  0x20
#define CMD_CTR_WRITE 0x60
#define CMD_SELFTEST  0xAA
#define CMD_AUX_WRITE 0xD4

#define PS2_ACK       0xFA
#define PS2_BAT_OK    0xAA
#define PS2_RESET     0xFF
#define PS2_GET_ID    0xF2
#define PS2_ENABLE    0xF4
#define PS2_SET_RATE  0xF3

#define KBD_IRQ       1
#define AUX_IRQ       12

/* Longest wait for one byte during initialisation, in TSC cycles (about a
 * quarter of a second at 2-4 GHz): every status read is a VM exit. */
#define WAIT_TSC      (1ull << 30)
#define FLUSH_MAX     64

/* Text-mode surface the vmm shows: 80x25 cells of 8x16 pixels. */
#define CELL_W        8
#define CELL_H        16
#define SCREEN_W      (80 * CELL_W)
#define SCREEN_H      (25 * CELL_H)

static struct {
	unsigned mouse_id;
	uint64_t kbd_bytes, mouse_packets;
	/* keyboard decoding */
	unsigned skip;            /* bytes left of an E1 (Pause) sequence */
	bool e0;                  /* last byte was the E0 prefix */
	bool lshift, rshift;
	/* mouse packet assembly */
	uint8_t pkt[4];
	unsigned npkt;
	int px, py;               /* accumulated pointer, pixels */
} in;

static void __attribute__((noreturn)) fail(const char *what, int got)
{
	out_printf(OUT_BOTH, "RESULT error input-init %s got=%d\n", what, got);
	guest_exit(EXIT_FAIL);
}

/* Wait until the controller takes a byte (input buffer empty). */
static void wait_write(void)
{
	uint64_t start = rdtsc();

	while (inb(I8042_STATUS) & STR_IBF)
		if (rdtsc() - start > WAIT_TSC)
			fail("ibf-stuck", -1);
}

/* Next byte within the timeout; -1 if none. *aux: it came from the mouse. */
static int read_byte(bool *aux)
{
	uint64_t start = rdtsc();

	do {
		uint8_t st = inb(I8042_STATUS);

		if (st & STR_OBF) {
			if (aux)
				*aux = st & STR_AUXDATA;
			return inb(I8042_DATA);
		}
	} while (rdtsc() - start < WAIT_TSC);
	return -1;
}

static void expect(const char *what, uint8_t want, bool want_aux)
{
	bool aux = false;
	int b = read_byte(&aux);

	if (b != want || aux != want_aux)
		fail(what, b < 0 ? b : b | (aux ? 0x100 : 0));
}

static void ctl_cmd(uint8_t cmd)
{
	wait_write();
	outb(I8042_CMD, cmd);
}

static void data_write(uint8_t v)
{
	wait_write();
	outb(I8042_DATA, v);
}

static void flush(void)
{
	for (int i = 0; i < FLUSH_MAX && (inb(I8042_STATUS) & STR_OBF); i++)
		(void)inb(I8042_DATA);
}

static void kbd_cmd(const char *what, uint8_t cmd)
{
	data_write(cmd);
	expect(what, PS2_ACK, false);
}

static void aux_cmd(const char *what, uint8_t cmd)
{
	ctl_cmd(CMD_AUX_WRITE);
	data_write(cmd);
	expect(what, PS2_ACK, true);
}

static void write_ctr(uint8_t ctr)
{
	ctl_cmd(CMD_CTR_WRITE);
	data_write(ctr);
}

static uint8_t init_controller(void)
{
	int ctr;

	flush();
	ctl_cmd(CMD_SELFTEST);
	expect("selftest", 0x55, false);
	ctl_cmd(CMD_CTR_READ);
	ctr = read_byte(NULL);
	if (ctr < 0)
		fail("ctr-read", ctr);
	/* Translation on, both ports enabled, no interrupts while polling. */
	ctr = (ctr | CTR_XLATE | CTR_SYS) &
	      ~(CTR_KBDDIS | CTR_AUXDIS | CTR_KBDINT | CTR_AUXINT);
	write_ctr((uint8_t)ctr);
	flush();
	return (uint8_t)ctr;
}

/* atkbd: reset (ACK, BAT), GET ID (AB 83, translated to AB 41), enable. */
static unsigned init_keyboard(void)
{
	int id0, id1;

	kbd_cmd("kbd-reset", PS2_RESET);
	expect("kbd-bat", PS2_BAT_OK, false);
	kbd_cmd("kbd-getid", PS2_GET_ID);
	id0 = read_byte(NULL);
	id1 = read_byte(NULL);
	if (id0 != 0xAB || id1 < 0)
		fail("kbd-id", id0);
	kbd_cmd("kbd-enable", PS2_ENABLE);
	return (unsigned)(id0 << 8 | id1);
}

/* psmouse: reset (ACK, BAT, ID 0), the IntelliMouse knock 200/100/80,
 * GET ID (3 if the wheel is on), enable reporting. */
static unsigned init_mouse(void)
{
	static const uint8_t knock[] = { 200, 100, 80 };
	bool aux = false;
	int id;

	aux_cmd("aux-reset", PS2_RESET);
	expect("aux-bat", PS2_BAT_OK, true);
	expect("aux-reset-id", 0x00, true);
	for (size_t i = 0; i < sizeof(knock); i++) {
		aux_cmd("aux-rate", PS2_SET_RATE);
		aux_cmd("aux-rate-value", knock[i]);
	}
	aux_cmd("aux-getid", PS2_GET_ID);
	id = read_byte(&aux);
	if (id < 0 || !aux)
		fail("aux-id", id);
	aux_cmd("aux-enable", PS2_ENABLE);
	return (unsigned)id;
}

/* --- keyboard ------------------------------------------------------------- */

/* Set 1 make codes 0x00-0x39 of the main block, US layout. */
static const char key_plain[] =
	"\0\0" "1234567890-=" "\0\0" "qwertyuiop[]" "\0\0" "asdfghjkl;'`"
	"\0" "\\" "zxcvbnm,./" "\0\0\0" " ";
static const char key_shift[] =
	"\0\0" "!@#$%^&*()_+" "\0\0" "QWERTYUIOP{}" "\0\0" "ASDFGHJKL:\"~"
	"\0" "|" "ZXCVBNM<>?" "\0\0\0" " ";
_Static_assert(sizeof(key_plain) == 0x3A + 1, "key_plain covers 0x00-0x39");
_Static_assert(sizeof(key_shift) == 0x3A + 1, "key_shift covers 0x00-0x39");

#define SC_BACKSPACE 0x0E
#define SC_TAB       0x0F
#define SC_ENTER     0x1C
#define SC_LSHIFT    0x2A
#define SC_RSHIFT    0x36

/* Echo a make code on the screen (for humans); returns its character. */
static char key_char(uint8_t code)
{
	bool shift = in.lshift || in.rshift;
	char ch = 0;

	if (code < sizeof(key_plain) - 1)
		ch = shift ? key_shift[code] : key_plain[code];
	if (ch)
		vga_demo_write(&ch, 1);
	else if (code == SC_ENTER)
		vga_demo_write("\r\n", 2);
	else if (code == SC_BACKSPACE)
		vga_demo_write("\b \b", 3);
	else if (code == SC_TAB)
		vga_demo_write("    ", 4);
	return ch;
}

static void kbd_byte(uint8_t b)
{
	bool prefixed = in.e0;
	char ch = 0;

	in.kbd_bytes++;
	in.e0 = false;
	if (in.skip) {
		in.skip--;              /* inside E1 1D 45 / E1 9D C5 */
	} else if (b == 0xE0) {
		in.e0 = true;
	} else if (b == 0xE1) {
		in.skip = 2;
	} else if (!prefixed && (b & 0x7F) == SC_LSHIFT) {
		in.lshift = !(b & 0x80);    /* E0 2A is a fake shift: ignored */
	} else if (!prefixed && (b & 0x7F) == SC_RSHIFT) {
		in.rshift = !(b & 0x80);
	} else if (!prefixed && b < 0x80) {
		ch = key_char(b);
	}
	if (ch)
		out_printf(OUT_BOTH, "KBD %02x '%c'\n", b, ch);
	else
		out_printf(OUT_BOTH, "KBD %02x\n", b);
}

/* --- mouse ------------------------------------------------------------------ */

static void mouse_packet(const uint8_t *p)
{
	int dx = p[1] - (p[0] & 0x10 ? 256 : 0);
	int dy = p[2] - (p[0] & 0x20 ? 256 : 0);
	int dz = in.mouse_id >= 3 ? (int8_t)p[3] : 0;

	/* ID 4 packs a 4-bit wheel with buttons 4/5 into byte 3. */
	if (in.mouse_id == 4)
		dz = (p[3] & 0x08) ? (p[3] & 0x0F) - 16 : p[3] & 0x0F;
	in.mouse_packets++;
	out_printf(OUT_BOTH, "MOUSE %d %d %d %u\n", dx, dy, dz, p[0] & 0x07u);
	in.px += dx;
	in.py -= dy;            /* PS/2 Y points up, the screen's down */
	in.px = in.px < 0 ? 0 : in.px >= SCREEN_W ? SCREEN_W - 1 : in.px;
	in.py = in.py < 0 ? 0 : in.py >= SCREEN_H ? SCREEN_H - 1 : in.py;
	vga_pointer(in.px / CELL_W, in.py / CELL_H);
}

static void mouse_byte(uint8_t b)
{
	unsigned len = in.mouse_id >= 3 ? 4 : 3;

	/* Byte 0 always has bit 3 set: resynchronise on anything else. */
	if (in.npkt == 0 && !(b & 0x08)) {
		out_printf(OUT_BOTH, "INFO mouse out of sync byte=%02x\n", b);
		return;
	}
	in.pkt[in.npkt++] = b;
	if (in.npkt == len) {
		mouse_packet(in.pkt);
		in.npkt = 0;
	}
}

/* --- the test ------------------------------------------------------------- */

int input_test(void)
{
	bool have_serial = serial_present();
	unsigned kbd_id;
	uint8_t ctr;

	if (!vga_input_screen())
		out_printf(OUT_BOTH, "INFO no std-VGA adapter: no screen echo\n");
	ctr = init_controller();
	kbd_id = init_keyboard();
	in.mouse_id = init_mouse();
	in.px = SCREEN_W / 2;
	in.py = SCREEN_H / 2;
	vga_pointer(in.px / CELL_W, in.py / CELL_H);

	if (!irq_enable_isa(KBD_IRQ) || !irq_enable_isa(AUX_IRQ) ||
	    (have_serial && !irq_setup_serial()))
		guest_exit(EXIT_FAIL);
	write_ctr(ctr | CTR_KBDINT | CTR_AUXINT);
	out_printf(OUT_BOTH, "RESULT input ready kbd_id=%04x mouse_id=%u\n",
		   kbd_id, in.mouse_id);

	for (;;) {
		uint64_t seen = irq_count;
		bool any = false;
		int c;

		/* Bytes that came before their IRQ was routed are read here
		 * too: the loop looks at the status before sleeping. */
		for (int i = 0; i < FLUSH_MAX; i++) {
			uint8_t st = inb(I8042_STATUS);

			if (!(st & STR_OBF))
				break;
			if (st & STR_AUXDATA)
				mouse_byte(inb(I8042_DATA));
			else
				kbd_byte(inb(I8042_DATA));
			any = true;
		}
		c = have_serial ? serial_getc() : -1;
		if (c == 'q') {
			out_printf(OUT_BOTH,
				   "RESULT input ok kbd_bytes=%lu mouse_packets=%lu irqs_kbd=%u irqs_aux=%u\n",
				   in.kbd_bytes, in.mouse_packets,
				   irq_vector_count[KBD_IRQ],
				   irq_vector_count[AUX_IRQ]);
			return EXIT_OK;
		}
		if (!any && c < 0)
			idle(seen);
	}
}
