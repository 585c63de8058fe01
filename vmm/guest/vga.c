// SPDX-License-Identifier: MIT
/*
 * The std-VGA (Bochs VBE, PCI 1234:1111) side of the built-in guest: a
 * guest driver doing what Linux's bochs DRM driver and vgacon do, and the
 * display test modes (see README.md):
 *   vga-text     a known 80x25 text screen with the hardware cursor
 *   vga-pattern  a deterministic test picture in a 32 bpp DISPI mode, then
 *                serial commands: p (one pixel), m (mode change), q (quit)
 *   vga-anim     every pixel changes every frame, as fast as possible
 *   vga-hostile  absurd register values, then a sane mode
 * and the demo's text screen. Everything here runs in ring 3: VRAM and
 * the BAR2 registers are plain (uncached) memory accesses, the ports go
 * through in/out.
 */
#include "guest.h"

#define VGA_VENDOR 0x1234
#define VGA_DEVICE 0x1111

/* Bochs VBE "DISPI" registers: ports 0x1CE (index) / 0x1CF (data), or
 * 16-bit words at BAR2 + 0x500 (what Linux uses when BAR2 exists). */
#define DISPI_PORT_INDEX 0x1CE
#define DISPI_PORT_DATA  0x1CF
#define DISPI_ID          0x0
#define DISPI_XRES        0x1
#define DISPI_YRES        0x2
#define DISPI_BPP         0x3
#define DISPI_ENABLE      0x4
#define DISPI_BANK        0x5
#define DISPI_VIRT_WIDTH  0x6
#define DISPI_VIRT_HEIGHT 0x7
#define DISPI_X_OFFSET    0x8
#define DISPI_Y_OFFSET    0x9
#define DISPI_VIDEO_MEMORY_64K 0xA
#define DISPI_ID0         0xB0C0
#define DISPI_ENABLED     0x01
#define DISPI_LFB_ENABLED 0x40

#define BAR2_VGA      0x400     /* ports 0x3C0-0x3DF */
#define BAR2_DISPI    0x500
#define BAR2_QEXT     0x600     /* size, then the framebuffer byte order */
#define BAR2_SIZE     0x1000
#define QEXT_LE       0x1e1e1e1eu

#define TEXT_BUF      0xB8000ull
#define TEXT_COLS     80
#define TEXT_ROWS     25
#define BANK_WINDOW   0xA0000ull

#define PATTERN_DEFAULT_W 1024
#define PATTERN_DEFAULT_H 768
#define MODE2_W 800
#define MODE2_H 600
#define HOSTILE_DEFAULT_W 640
#define HOSTILE_DEFAULT_H 480
#define ANIM_REPORT_EVERY 60
#define PIXEL_X 100
#define PIXEL_Y 100
/* Long enough (some 30-100 ms of TSC) for the vmm to latch a register
 * state: it applies mode changes within 20 ms, or at each 33 ms refresh. */
#define DWELL_TSC (100ull << 20)

struct vga_options vga_opts;

static struct {
	bool found;
	uint64_t vram;          /* BAR0 */
	uint64_t mmio;          /* BAR2, 0: use the ports */
	uint64_t vram_size;
	unsigned width, height; /* current DISPI mode */
} vga;

/* --- registers ------------------------------------------------------------ */

static void dispi_write(unsigned idx, uint16_t val)
{
	if (vga.mmio) {
		mmio_write16(vga.mmio + BAR2_DISPI + 2 * idx, val);
	} else {
		outw(DISPI_PORT_INDEX, (uint16_t)idx);
		outw(DISPI_PORT_DATA, val);
	}
}

static uint16_t dispi_read(unsigned idx)
{
	if (vga.mmio)
		return mmio_read16(vga.mmio + BAR2_DISPI + 2 * idx);
	outw(DISPI_PORT_INDEX, (uint16_t)idx);
	return inw(DISPI_PORT_DATA);
}

/* A VGA port, through BAR2 when mapped (Linux's bochs_vga_writeb). */
static void vga_port_write(unsigned port, uint8_t val)
{
	if (vga.mmio)
		mmio_write8(vga.mmio + BAR2_VGA + port - 0x3C0, val);
	else
		outb((uint16_t)port, val);
}

static uint8_t vga_port_read(unsigned port)
{
	if (vga.mmio)
		return mmio_read8(vga.mmio + BAR2_VGA + port - 0x3C0);
	return inb((uint16_t)port);
}

/* Find the adapter and check it the way bochs_hw_init() does. */
static bool vga_probe(void)
{
	struct pci_func f;
	uint16_t id;

	if (vga.found)
		return true;
	if (!pci_find(VGA_VENDOR, VGA_DEVICE, &f)) {
		out_printf(OUT_BOTH, "RESULT error no-vga pci=%04x:%04x\n",
			   VGA_VENDOR, VGA_DEVICE);
		return false;
	}
	vga.vram = f.bar[0];
	vga.mmio = f.bar_io[2] ? 0 : f.bar[2];
	/* The identity map covers 4 GiB; the MMIO hole is below it. */
	if (!vga.vram || vga.vram >= 0x100000000ull ||
	    vga.mmio >= 0x100000000ull - BAR2_SIZE) {
		out_printf(OUT_BOTH, "RESULT error vga-bar bar0=0x%lx bar2=0x%lx\n",
			   vga.vram, vga.mmio);
		return false;
	}
	id = dispi_read(DISPI_ID);
	if ((id & 0xfff0) != DISPI_ID0) {
		out_printf(OUT_BOTH, "RESULT error vga-dispi-id 0x%x\n", id);
		return false;
	}
	vga.vram_size = (uint64_t)dispi_read(DISPI_VIDEO_MEMORY_64K) << 16;
	if (vga.vram + vga.vram_size > 0x100000000ull)
		vga.vram_size = 0x100000000ull - vga.vram;
	/* Framebuffer byte order: little endian, if the device can tell. */
	if (vga.mmio && mmio_read32(vga.mmio + BAR2_QEXT) >= 8)
		mmio_write32(vga.mmio + BAR2_QEXT + 4, QEXT_LE);
	out_printf(OUT_DEBUG,
		   "INFO vga pci=00:%02x.%u vram=0x%lx size=%lu MiB mmio=0x%lx id=0x%x\n",
		   f.dev, f.fn, vga.vram, vga.vram_size >> 20, vga.mmio, id);
	vga.found = true;
	return true;
}

/* Screen on: reset the attribute flip-flop, set "palette address source"
 * (bochs_hw_blank(false)). */
static void vga_unblank(void)
{
	(void)vga_port_read(0x3DA);
	vga_port_write(0x3C0, 0x20);
}

/* A 32 bpp mode, register for register as bochs_hw_setmode(). */
static bool vga_set_mode(unsigned w, unsigned h)
{
	uint64_t stride = (uint64_t)w * 4;

	if (!w || !h || stride * h > vga.vram_size) {
		out_printf(OUT_BOTH, "RESULT error mode-too-large w=%u h=%u vram=%lu\n",
			   w, h, vga.vram_size);
		return false;
	}
	vga_unblank();
	dispi_write(DISPI_ENABLE, 0);
	dispi_write(DISPI_BPP, 32);
	dispi_write(DISPI_XRES, (uint16_t)w);
	dispi_write(DISPI_YRES, (uint16_t)h);
	dispi_write(DISPI_BANK, 0);
	dispi_write(DISPI_VIRT_WIDTH, (uint16_t)w);
	dispi_write(DISPI_VIRT_HEIGHT, (uint16_t)(vga.vram_size / stride > 0xffff ?
						   0xffff : vga.vram_size / stride));
	dispi_write(DISPI_X_OFFSET, 0);
	dispi_write(DISPI_Y_OFFSET, 0);
	dispi_write(DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	vga.width = w;
	vga.height = h;
	return true;
}

/* --- serial commands ----------------------------------------------------------- */

static void __attribute__((noreturn)) wait_quit(void)
{
	for (;;) {
		int c = serial_wait_byte();

		if (c == 'q')
			guest_exit(EXIT_OK);
	}
}

/* --- the text screen ------------------------------------------------------------ */

static uint16_t tbuf[TEXT_COLS * TEXT_ROWS];

static void tfill(int row, uint8_t attr)
{
	for (int c = 0; c < TEXT_COLS; c++)
		tbuf[row * TEXT_COLS + c] = (uint16_t)(' ' | attr << 8);
}

static void tput(int row, int col, const char *s, uint8_t attr)
{
	for (; *s && col < TEXT_COLS; s++, col++)
		tbuf[row * TEXT_COLS + col] = (uint16_t)((uint8_t)*s | attr << 8);
}

static void tput_center(int row, const char *s, uint8_t attr)
{
	int len = (int)strlen(s);

	tfill(row, attr);
	tput(row, len < TEXT_COLS ? (TEXT_COLS - len) / 2 : 0, s, attr);
}

/* The whole buffer, four cells per (64-bit) write: each write is a trip to
 * the vmm, the text window being emulated. */
/*
 * The input test can show its text screen in a 32 bpp DISPI mode instead
 * of VGA text mode (test=input with w=/h=): text mode needs the font and
 * registers a VGA BIOS sets up, which firmware such as qboot never runs, so
 * on QEMU without SeaBIOS only the graphics path shows anything.
 */
static bool gfx_text;

static void mode_size(unsigned dw, unsigned dh, unsigned *w, unsigned *h);

#define CELL_PX_W 8
#define CELL_PX_H 16

/* A cell in the graphics screen: the 16 text colours, and for every
 * printable character but the space a stripe pattern from its code (no
 * font: which glyph it is matters less than that it shows at once). */
static void gfx_cell(int idx, uint16_t v)
{
	static const uint32_t pal[16] = {
		0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa,
		0xaa5500, 0xaaaaaa, 0x555555, 0x5555ff, 0x55ff55, 0x55ffff,
		0xff5555, 0xff55ff, 0xffff55, 0xffffff,
	};
	unsigned ch = v & 0xff, fg = pal[v >> 8 & 15], bg = pal[v >> 12 & 7];
	unsigned x0 = (unsigned)(idx % TEXT_COLS) * CELL_PX_W;
	unsigned y0 = (unsigned)(idx / TEXT_COLS) * CELL_PX_H;
	uint32_t row[CELL_PX_W];

	if (x0 + CELL_PX_W > vga.width || y0 + CELL_PX_H > vga.height)
		return;
	for (unsigned y = 0; y < CELL_PX_H; y++) {
		for (unsigned x = 0; x < CELL_PX_W; x++) {
			bool on = ch > ' ' && ch < 0x7f && y >= 2 && y < 14 &&
				  x >= 1 && x < 7 && (ch >> ((x + y) & 7) & 1);

			row[x] = on ? fg : bg;
		}
		for (unsigned x = 0; x < CELL_PX_W; x += 2)
			mmio_write64(vga.vram + 4ull * ((uint64_t)(y0 + y) * vga.width + x0 + x),
				     (uint64_t)row[x + 1] << 32 | row[x]);
	}
}

static void text_flush(void)
{
	const uint64_t *src = (const uint64_t *)tbuf;

	if (gfx_text) {
		for (int i = 0; i < TEXT_COLS * TEXT_ROWS; i++)
			gfx_cell(i, tbuf[i]);
		return;
	}
	for (size_t i = 0; i < sizeof(tbuf) / 8; i++)
		mmio_write64(TEXT_BUF + 8 * i, src[i]);
}

static void crtc_write(uint8_t idx, uint8_t val)
{
	outb(0x3D4, idx);
	outb(0x3D5, val);
}

/* Cursor shape in scanlines of the 16-line character cell, as vgacon. */
static void cursor_set(int row, int col, int start, int end)
{
	unsigned pos = (unsigned)(row * TEXT_COLS + col);

	if (gfx_text)
		return;		/* no hardware cursor in DISPI modes */
	crtc_write(0x0A, (uint8_t)(start & 0x1f));
	crtc_write(0x0B, (uint8_t)(end & 0x1f));
	crtc_write(0x0E, (uint8_t)(pos >> 8));
	crtc_write(0x0F, (uint8_t)pos);
}

static char hexdigit(unsigned v)
{
	return "0123456789ABCDEF"[v & 15];
}

#define TEXT_CURSOR_ROW   22
#define TEXT_CURSOR_COL   5
#define TEXT_CURSOR_START 12
#define TEXT_CURSOR_END   15

/*
 * The test screen. Attribute bit 7 is avoided: the adapter starts with
 * blinking enabled, and the picture must not depend on the time (only the
 * cursor blinks).
 */
static void text_test_screen(void)
{
	char s[TEXT_COLS + 1];

	for (int r = 0; r < TEXT_ROWS; r++)
		tfill(r, 0x07);
	tput_center(0, "vmm built-in guest - VGA text mode test screen", 0x1F);
	tput(2, 1, "CP437 glyphs 00-FF:", 0x0E);
	for (unsigned r = 0; r < 8; r++) {
		s[0] = hexdigit(r * 32 >> 4);
		s[1] = hexdigit(r * 32);
		s[2] = 0;
		tput(3 + (int)r, 2, s, 0x08);
		for (unsigned i = 0; i < 32; i++)
			tbuf[(3 + r) * TEXT_COLS + 6 + 2 * i] =
				(uint16_t)((r * 32 + i) | 0x0F << 8);
	}
	tput(12, 1, "Colours: foreground 0-F (columns) on background 0-7 (rows):", 0x0E);
	for (unsigned bg = 0; bg < 8; bg++) {
		s[0] = 'b';
		s[1] = 'g';
		s[2] = hexdigit(bg);
		s[3] = 0;
		tput(13 + (int)bg, 2, s, 0x07);
		for (unsigned fg = 0; fg < 16; fg++) {
			s[0] = ' ';
			s[1] = hexdigit(fg);
			s[2] = hexdigit(bg);
			s[3] = ' ';
			s[4] = 0;
			tput(13 + (int)bg, 7 + 4 * (int)fg, s, (uint8_t)(bg << 4 | fg));
		}
	}
	/* Box drawing and shading in line graphics: 9th column continues. */
	tput(21, 2, "\xDA\xC4\xC4\xC4\xC2\xC4\xC4\xC4\xBF  \xB0\xB1\xB2\xDB  "
		    "\xC9\xCD\xCD\xCD\xBB", 0x0B);
	tput(22, 2, "A:\\>", 0x07);
	tput(22, 40, "\xC0\xC4\xC4\xC4\xC1\xC4\xC4\xC4\xD9", 0x0B);
	tfill(24, 0x70);
	snprintf(s, sizeof(s), " cursor row %d col %d lines %d-%d | q on serial quits",
		 TEXT_CURSOR_ROW, TEXT_CURSOR_COL, TEXT_CURSOR_START,
		 TEXT_CURSOR_END);
	tput(24, 0, s, 0x70);
	text_flush();
	cursor_set(TEXT_CURSOR_ROW, TEXT_CURSOR_COL, TEXT_CURSOR_START,
		   TEXT_CURSOR_END);
}

int vga_test_text(void)
{
	if (!vga_probe())
		return EXIT_FAIL;
	text_test_screen();
	out_printf(OUT_BOTH, "RESULT vga-text ready\n");
	wait_quit();
}

/* --- the demo screen: a banner and the serial echo ------------------------------ */

#define DEMO_TOP 6
#define DEMO_ATTR 0x07

static struct {
	bool on;
	int row, col;
} demo;

bool vga_demo_screen(unsigned cpus, uint64_t mem_mib)
{
	char s[TEXT_COLS + 1];

	/* Quietly: the demo works without a display. */
	if (!pci_find(VGA_VENDOR, VGA_DEVICE, &(struct pci_func){ 0 }) ||
	    !vga_probe())
		return false;
	for (int r = 0; r < TEXT_ROWS; r++)
		tfill(r, DEMO_ATTR);
	tput_center(0, "vmm - built-in guest", 0x1F);
	snprintf(s, sizeof(s), "%u CPU%s, %lu MiB of memory, std-VGA with %lu MiB of VRAM",
		 cpus, cpus == 1 ? "" : "s", mem_mib, vga.vram_size >> 20);
	tput(2, 2, s, 0x0F);
	tput(3, 2, "Type on the serial console (the vmm's terminal): lines are echoed here.",
	     0x07);
	tput(4, 2, "Commands: poweroff, reboot, help.  Ctrl-A x leaves the vmm.", 0x0E);
	text_flush();
	demo.on = true;
	demo.row = DEMO_TOP;
	demo.col = 0;
	cursor_set(demo.row, demo.col, 14, 15);
	return true;
}

/* The pointer of the input test: index of the highlighted cell, -1 none. */
static int pointer_cell = -1;

/* One cell of tbuf to the screen, shown inverted if the pointer is on it. */
static void cell_show(int idx)
{
	uint16_t v = tbuf[idx];

	if (idx == pointer_cell) {
		uint8_t a = (uint8_t)(v >> 8);

		/* Swap the colours; bit 7 stays clear (it may mean blink). */
		a = (uint8_t)(((a & 0x07) << 4) | (a >> 4 & 0x0F));
		v = (uint16_t)((v & 0xFF) | a << 8);
	}
	if (gfx_text)
		gfx_cell(idx, v);
	else
		mmio_write16(TEXT_BUF + 2 * (uint64_t)idx, v);
}

static void demo_cell(int row, int col, uint8_t ch)
{
	tbuf[row * TEXT_COLS + col] = (uint16_t)(ch | DEMO_ATTR << 8);
	cell_show(row * TEXT_COLS + col);
}

static void demo_newline(void)
{
	demo.col = 0;
	if (++demo.row < TEXT_ROWS)
		return;
	/* Scroll the echo area up one line. */
	memmove(&tbuf[DEMO_TOP * TEXT_COLS], &tbuf[(DEMO_TOP + 1) * TEXT_COLS],
		(TEXT_ROWS - DEMO_TOP - 1) * TEXT_COLS * 2);
	tfill(TEXT_ROWS - 1, DEMO_ATTR);
	text_flush();
	if (pointer_cell >= 0)
		cell_show(pointer_cell);
	demo.row = TEXT_ROWS - 1;
}

void vga_demo_write(const char *s, size_t n)
{
	if (!demo.on)
		return;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)s[i];

		if (ch == '\r') {
			demo.col = 0;
		} else if (ch == '\n') {
			demo_newline();
		} else if (ch == '\b') {
			if (demo.col)
				demo.col--;
		} else if (ch >= 0x20) {
			demo_cell(demo.row, demo.col, ch);
			if (++demo.col == TEXT_COLS)
				demo_newline();
		}
	}
	cursor_set(demo.row, demo.col, 14, 15);
}

bool vga_input_screen(void)
{
	if (!pci_find(VGA_VENDOR, VGA_DEVICE, &(struct pci_func){ 0 }) ||
	    !vga_probe())
		return false;
	if (vga_opts.width || vga_opts.height) {
		unsigned w, h;

		mode_size(TEXT_COLS * CELL_PX_W, TEXT_ROWS * CELL_PX_H, &w, &h);
		if (!vga_set_mode(w, h))
			return false;
		gfx_text = true;
	}
	for (int r = 0; r < TEXT_ROWS; r++)
		tfill(r, DEMO_ATTR);
	tput_center(0, "vmm - built-in guest: keyboard and mouse test", 0x1F);
	tput(2, 2, "Keys typed in the viewer are echoed below; the mouse moves the",
	     0x07);
	tput(3, 2, "highlighted cell. Every byte is reported on the debug port and COM1.",
	     0x07);
	tput(4, 2, "\"q\" on the serial console ends the test.", 0x0E);
	text_flush();
	demo.on = true;
	demo.row = DEMO_TOP;
	demo.col = 0;
	cursor_set(demo.row, demo.col, 14, 15);
	return true;
}

void vga_pointer(int col, int row)
{
	int old = pointer_cell;

	if (!demo.on)
		return;
	col = col < 0 ? 0 : col >= TEXT_COLS ? TEXT_COLS - 1 : col;
	row = row < 0 ? 0 : row >= TEXT_ROWS ? TEXT_ROWS - 1 : row;
	pointer_cell = row * TEXT_COLS + col;
	if (old == pointer_cell)
		return;
	if (old >= 0)
		cell_show(old);
	cell_show(pointer_cell);
}

/* --- graphics ------------------------------------------------------------------------- */

#define RGB(r, g, b) ((uint32_t)(r) << 16 | (uint32_t)(g) << 8 | (uint32_t)(b))

static uint32_t ramp(unsigned v, unsigned max)
{
	return max ? v * 255 / max : 0;
}

/*
 * The test picture, a function of (x, y) and the mode size only:
 * a 1-pixel white frame, 24x24 corner markers (red top left, green top
 * right, blue bottom left, yellow bottom right), and four bands: colour
 * bars; red, green, blue and grey ramps; a 2D gradient; a 1-pixel grid
 * every 16 pixels with a 1-pixel checkerboard in its right quarter.
 */
uint32_t pattern_pixel(unsigned x, unsigned y, unsigned w, unsigned h)
{
	static const uint32_t bars[8] = {
		RGB(255, 255, 255), RGB(255, 255, 0), RGB(0, 255, 255),
		RGB(0, 255, 0), RGB(255, 0, 255), RGB(255, 0, 0),
		RGB(0, 0, 255), RGB(0, 0, 0),
	};
	unsigned band_h = h / 4 ? h / 4 : 1, band = y / band_h, yy, v;

	if (x == 0 || y == 0 || x == w - 1 || y == h - 1)
		return RGB(255, 255, 255);
	if (y < 25 && x < 25)
		return RGB(255, 0, 0);
	if (y < 25 && x >= w - 25)
		return RGB(0, 255, 0);
	if (y >= h - 25 && x < 25)
		return RGB(0, 0, 255);
	if (y >= h - 25 && x >= w - 25)
		return RGB(255, 255, 0);
	yy = y - band * band_h;
	switch (band) {
	case 0:
		return bars[x * 8 / w];
	case 1:
		v = ramp(x, w - 1);
		switch (yy * 4 / band_h) {
		case 0: return RGB(v, 0, 0);
		case 1: return RGB(0, v, 0);
		case 2: return RGB(0, 0, v);
		default: return RGB(v, v, v);
		}
	case 2:
		v = ramp(x, w - 1);
		return RGB(v, ramp(yy, band_h - 1), 255 - v);
	default:
		if (x >= w - w / 4)
			return ((x ^ y) & 1) ? RGB(255, 255, 255) : RGB(0, 0, 0);
		if (x % 16 == 0 || y % 16 == 0)
			return RGB(192, 192, 192);
		return RGB(32, 32, 32);
	}
}

/* One row into VRAM, two pixels per store (uncached memory). */
static void put_row(unsigned y, const uint32_t *row, unsigned w)
{
	uint64_t addr = vga.vram + (uint64_t)y * w * 4;
	unsigned x = 0;

	for (; x + 1 < w; x += 2)
		mmio_write64(addr + 4ull * x, (uint64_t)row[x + 1] << 32 | row[x]);
	if (x < w)
		mmio_write32(addr + 4ull * x, row[x]);
}

static uint32_t rowbuf[4096];

static void draw_pattern(void)
{
	unsigned w = vga.width, h = vga.height;

	for (unsigned y = 0; y < h; y++) {
		for (unsigned x = 0; x < w; x++)
			rowbuf[x] = pattern_pixel(x, y, w, h);
		put_row(y, rowbuf, w);
	}
}

static void mode_size(unsigned dw, unsigned dh, unsigned *w, unsigned *h)
{
	*w = vga_opts.width ? vga_opts.width : dw;
	*h = vga_opts.height ? vga_opts.height : dh;
}

static void toggle_pixel(void)
{
	uint64_t addr = vga.vram + 4ull * ((uint64_t)PIXEL_Y * vga.width + PIXEL_X);

	mmio_write32(addr, mmio_read32(addr) ^ 0x00ffffffu);
}

int vga_test_pattern(void)
{
	unsigned w, h;

	mode_size(PATTERN_DEFAULT_W, PATTERN_DEFAULT_H, &w, &h);
	if (!vga_probe() || !vga_set_mode(w, h))
		return EXIT_FAIL;
	draw_pattern();
	out_printf(OUT_BOTH, "RESULT vga-pattern ready w=%u h=%u\n", w, h);
	for (;;) {
		int c = serial_wait_byte();

		if (c == 'q')
			return EXIT_OK;
		if (c == 'p') {
			if (vga.width > PIXEL_X && vga.height > PIXEL_Y)
				toggle_pixel();
			out_printf(OUT_BOTH, "RESULT pixel done\n");
		} else if (c == 'm') {
			if (!vga_set_mode(MODE2_W, MODE2_H))
				return EXIT_FAIL;
			draw_pattern();
			out_printf(OUT_BOTH, "RESULT mode done w=%u h=%u\n",
				   MODE2_W, MODE2_H);
		}
	}
}

/* --- animation --------------------------------------------------------------------- */

/* Frame f: red moves by 3 per frame, so every pixel changes every frame. */
static void draw_frame(uint64_t f)
{
	unsigned w = vga.width, h = vga.height;
	uint32_t fr = (uint32_t)f * 3, fg = (uint32_t)f, fb = (uint32_t)f * 2;

	for (unsigned y = 0; y < h; y++) {
		uint32_t g = ((y + fg) & 0xff) << 8;

		for (unsigned x = 0; x < w; x++)
			rowbuf[x] = ((x + fr) & 0xff) << 16 | g |
				    (((x ^ y) + fb) & 0xff);
		put_row(y, rowbuf, w);
	}
}

int vga_test_anim(void)
{
	uint64_t f = 0, start;
	unsigned w, h;

	mode_size(PATTERN_DEFAULT_W, PATTERN_DEFAULT_H, &w, &h);
	if (!vga_probe() || !vga_set_mode(w, h))
		return EXIT_FAIL;
	out_printf(OUT_BOTH, "RESULT vga-anim ready w=%u h=%u\n", w, h);
	start = rdtsc();
	while (!vga_opts.frames || f < vga_opts.frames) {
		draw_frame(f++);
		if (f % ANIM_REPORT_EVERY == 0)
			out_printf(OUT_DEBUG, "INFO frame %lu tsc=%lu\n", f,
				   rdtsc() - start);
		if (serial_present() && serial_getc() == 'q')
			break;
	}
	out_printf(OUT_BOTH, "RESULT vga-anim ok frames=%lu tsc=%lu\n", f,
		   rdtsc() - start);
	return EXIT_OK;
}

/* --- hostile register values ------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void dwell(void)
{
	uint64_t t = rdtsc();

	while (rdtsc() - t < DWELL_TSC)
		__asm__ volatile("pause");
}

/* An absurd DISPI state, enabled, held long enough to be looked at. */
static void absurd(uint16_t xres, uint16_t yres, uint16_t bpp, uint16_t vw,
		   uint16_t xoff, uint16_t yoff, uint16_t enable)
{
	dispi_write(DISPI_ENABLE, 0);
	dispi_write(DISPI_XRES, xres);
	dispi_write(DISPI_YRES, yres);
	dispi_write(DISPI_BPP, bpp);
	dispi_write(DISPI_BANK, 0xFFFF);
	dispi_write(DISPI_ENABLE, enable);
	/* Set after enabling: enabling resets them. */
	dispi_write(DISPI_VIRT_WIDTH, vw);
	dispi_write(DISPI_X_OFFSET, xoff);
	dispi_write(DISPI_Y_OFFSET, yoff);
	dwell();
	/* Reads must be harmless too. */
	for (unsigned i = 0; i < 16; i++)
		(void)dispi_read(i);
}

static void hostile_dispi(void)
{
	static const uint16_t en = DISPI_ENABLED | DISPI_LFB_ENABLED;

	absurd(0xFFFF, 0xFFFF, 32, 0, 0, 0, en);
	absurd(1024, 768, 0xFF, 0, 0, 0, en);
	absurd(1024, 768, 0, 0, 0, 0, en);
	absurd(1024, 768, 7, 0, 0, 0, en);
	absurd(1024, 768, 32, 0xFFFF, 0, 0, en);
	absurd(1024, 768, 32, 0, 0xFFFF, 0xFFFF, en);
	absurd(1024, 768, 8, 0xFFFF, 0xFFFF, 0xFFFF, en);
	absurd(1, 1, 32, 0xFFFF, 0xFFFF, 0xFFFF, en);
	absurd(0xFFFF, 1, 8, 0xFFFF, 0, 0xFFFF, en);
	absurd(1024, 768, 32, 1024, 0, 0xFFFF, 0xFFFF);
	absurd(0, 0, 0, 0, 0, 0, 0xFFFF);
	/* The banked window with a huge bank number. */
	dispi_write(DISPI_BANK, 0xFFFF);
	for (uint64_t off = 0; off < 0x10000; off += 0x1000)
		mmio_write64(BANK_WINDOW + off, rng());
	mmio_write64(BANK_WINDOW + 0xFFF8, rng());
	/* Random index/value pairs on the ports, indices out of range too. */
	for (unsigned i = 0; i < 512; i++) {
		uint64_t r = rng();

		outw(DISPI_PORT_INDEX, (uint16_t)(i < 256 ? r & 0x1F : r));
		outw(DISPI_PORT_DATA, (uint16_t)(r >> 16));
		(void)inw(DISPI_PORT_DATA);
	}
	dwell();
}

static void hostile_bar2(void)
{
	if (!vga.mmio)
		return;
	for (unsigned off = 0; off < BAR2_SIZE; off++)
		mmio_write8(vga.mmio + off, (uint8_t)rng());
	dwell();
	for (unsigned i = 0; i < 2048; i++) {
		uint64_t r = rng();
		uint64_t a = vga.mmio + (r >> 32) % BAR2_SIZE;

		switch (r & 3) {
		case 0:
			mmio_write16(a & ~1ull, (uint16_t)(r >> 8));
			break;
		case 1:
			mmio_write32(a & ~3ull, (uint32_t)(r >> 4));
			break;
		case 2:
			mmio_write64(a & ~7ull, r);
			break;
		default:
			(void)mmio_read32(a & ~3ull);
			break;
		}
	}
	/* Accesses straddling the register blocks. */
	mmio_write32(vga.mmio + BAR2_DISPI + 0x14, 0xFFFFFFFFu);
	mmio_write64(vga.mmio + BAR2_DISPI - 4, ~0ull);
	mmio_write64(vga.mmio + BAR2_QEXT + 4, ~0ull);
	mmio_write16(vga.mmio + BAR2_DISPI + 1, 0xFFFF);
	dwell();
}

static void hostile_ports(void)
{
	for (unsigned round = 0; round < 16; round++) {
		for (unsigned port = 0x3C0; port < 0x3E0; port++) {
			outb((uint16_t)port, (uint8_t)rng());
			(void)inb((uint16_t)port);
		}
		outw((uint16_t)(0x3C0 + rng() % 0x20), (uint16_t)rng());
		outl((uint16_t)(0x3C0 + (rng() % 0x1D)), (uint32_t)rng());
	}
	dwell();
}

int vga_test_hostile(void)
{
	unsigned w, h;

	mode_size(HOSTILE_DEFAULT_W, HOSTILE_DEFAULT_H, &w, &h);
	if (!vga_probe())
		return EXIT_FAIL;
	hostile_dispi();
	hostile_bar2();
	hostile_ports();
	hostile_dispi();
	/* Back to sane: little-endian framebuffer, sequencer clocking with
	 * the screen on, then the driver's mode set (which unblanks). */
	if (vga.mmio)
		mmio_write32(vga.mmio + BAR2_QEXT + 4, QEXT_LE);
	vga_port_write(0x3C4, 0x01);
	vga_port_write(0x3C5, 0x01);
	if (!vga_set_mode(w, h))
		return EXIT_FAIL;
	draw_pattern();
	out_printf(OUT_BOTH, "RESULT vga-hostile ok w=%u h=%u\n", w, h);
	wait_quit();
}
