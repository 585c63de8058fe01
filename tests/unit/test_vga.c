// SPDX-License-Identifier: MIT
/* Std-VGA: PCI identity, DISPI registers through 0x1CE/0x1CF and BAR2,
 * GETCAPS, mode set -> console surface (aliasing VRAM, panning, formats,
 * 8 bpp palette), damage, EDID, QEMU ext regs, text mode through 0xB8000
 * and the CRTC, BAR0 moves, refresh activity, hostile register values and
 * accesses. No /dev/kvm: VRAM falls back to an MMIO range. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "display/console.h"
#include "display/font.h"
#include "vmm/dev/pci.h"
#include "vmm/dev/vga.h"
#include "vmm/log.h"

#define VRAM (4u << 20)

static struct vm vm;
static struct pci_bus *pci;
static struct console *con;
static struct event_loop *loop;
static struct vga *vga;
static unsigned slot;

/* --- access helpers ------------------------------------------------------- */

static bool pio(uint16_t port, uint32_t len, uint32_t *v, bool wr)
{
	uint8_t d[4] = { 0 };
	bool ok;

	for (uint32_t i = 0; wr && i < len; i++)
		d[i] = (uint8_t)(*v >> (8 * i));
	ok = bus_dispatch(&vm.pio, port, d, len, wr);
	if (!wr) {
		*v = 0;
		for (uint32_t i = 0; i < len; i++)
			*v |= (uint32_t)d[i] << (8 * i);
	}
	return ok;
}

static void out(uint16_t port, uint32_t len, uint32_t v)
{
	pio(port, len, &v, true);
}

static uint32_t in(uint16_t port, uint32_t len)
{
	uint32_t v;

	if (!pio(port, len, &v, false))
		return 0xDEADBEEF;
	return v;
}

static void mmio_write(uint64_t addr, uint32_t len, uint64_t v)
{
	uint8_t d[8];

	for (uint32_t i = 0; i < len; i++)
		d[i] = (uint8_t)(v >> (8 * i));
	bus_dispatch(&vm.mmio, addr, d, len, true);
}

static uint64_t mmio_read(uint64_t addr, uint32_t len)
{
	uint8_t d[8] = { 0 };
	uint64_t v = 0;

	if (!bus_dispatch(&vm.mmio, addr, d, len, false))
		return 0xDEADBEEFDEADBEEFull;
	for (uint32_t i = 0; i < len; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

static uint32_t cfg_read(unsigned off, uint32_t len)
{
	out(0xCF8, 4, 0x80000000u | slot << 11 | (off & 0xFC));
	return in((uint16_t)(0xCFC + (off & 3)), len);
}

static void cfg_write(unsigned off, uint32_t len, uint32_t v)
{
	out(0xCF8, 4, 0x80000000u | slot << 11 | (off & 0xFC));
	out((uint16_t)(0xCFC + (off & 3)), len, v);
}

static uint64_t bar_addr(int b)
{
	return cfg_read(PCI_BAR0 + 4 * (unsigned)b, 4) & ~0xFu;
}

static void dispi_out(uint16_t idx, uint16_t val)
{
	out(0x1CE, 2, idx);
	out(0x1CF, 2, val);
}

static uint16_t dispi_in(uint16_t idx)
{
	out(0x1CE, 2, idx);
	return (uint16_t)in(0x1CF, 2);
}

static void dispi_mmio_out(uint16_t idx, uint16_t val)
{
	mmio_write(bar_addr(2) + 0x500 + 2u * idx, 2, val);
}

static uint16_t dispi_mmio_in(uint16_t idx)
{
	return (uint16_t)mmio_read(bar_addr(2) + 0x500 + 2u * idx, 2);
}

/* The Linux bochs driver's mode set, through BAR2. */
static void bochs_setmode(unsigned w, unsigned h, unsigned bpp)
{
	uint64_t b2 = bar_addr(2);

	mmio_write(b2 + 0x400 + 0x02, 1, 0x01);   /* misc: colour */
	(void)mmio_read(b2 + 0x400 + 0x1A, 1);    /* reset flip-flop */
	mmio_write(b2 + 0x400, 1, 0x20);          /* unblank */
	dispi_mmio_out(4, 0);
	dispi_mmio_out(3, (uint16_t)bpp);
	dispi_mmio_out(1, (uint16_t)w);
	dispi_mmio_out(2, (uint16_t)h);
	dispi_mmio_out(5, 0);
	dispi_mmio_out(6, (uint16_t)w);
	dispi_mmio_out(7, 0x1234);                /* ignored */
	dispi_mmio_out(8, 0);
	dispi_mmio_out(9, 0);
	dispi_mmio_out(4, 0x41);
}

/* --- a console listener --------------------------------------------------- */

struct watcher {
	struct console_listener l;
	pthread_mutex_t mu;     /* damage: the loop thread adds to it */
	int surface_changes;
	int width, height;
	pixman_format_code_t format;
	void *data;
	pixman_region32_t damage;
};

static void w_surface(void *opaque, struct console *c)
{
	struct watcher *w = opaque;
	pixman_image_t *img = console_surface_locked(c);

	w->surface_changes++;
	w->width = img ? pixman_image_get_width(img) : 0;
	w->height = img ? pixman_image_get_height(img) : 0;
	w->format = img ? pixman_image_get_format(img) : 0;
	w->data = img ? pixman_image_get_data(img) : NULL;
}

static void w_damage(void *opaque, const pixman_box32_t *b)
{
	struct watcher *w = opaque;

	pthread_mutex_lock(&w->mu);
	pixman_region32_union_rect(&w->damage, &w->damage, b->x1, b->y1,
				   (unsigned)(b->x2 - b->x1),
				   (unsigned)(b->y2 - b->y1));
	pthread_mutex_unlock(&w->mu);
}

static struct watcher watcher;

static void refresh(void)
{
	pixman_region32_clear(&watcher.damage);
	console_refresh(con);
}

static uint32_t pixel(int x, int y)
{
	uint32_t p = 0xDEADBEEF;

	if (console_read_pixels(con, x, y, 1, 1, PIXMAN_x8r8g8b8, &p, 4) < 0)
		return 0xDEADBEEF;
	return p & 0xFFFFFF;
}

/* --- tests ------------------------------------------------------------------- */

static void test_pci_identity(void)
{
	uint32_t v;

	CHECK_EQ_U64(cfg_read(PCI_VENDOR_ID, 2), 0x1234);
	CHECK_EQ_U64(cfg_read(PCI_DEVICE_ID, 2), 0x1111);
	CHECK_EQ_U64(cfg_read(PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ_U64(cfg_read(PCI_SUBSYSTEM_ID, 2), 0x1100);
	CHECK_EQ_U64(cfg_read(PCI_REVISION_ID, 4) >> 8, 0x030000);
	CHECK_EQ_U64(cfg_read(PCI_REVISION_ID, 1), 2);
	/* BAR0: prefetchable 32-bit memory of VRAM size. */
	v = cfg_read(PCI_BAR0, 4);
	CHECK_EQ_U64(v & 0xF, 0x8);
	cfg_write(PCI_BAR0, 4, 0xFFFFFFFF);
	CHECK_EQ_U64(cfg_read(PCI_BAR0, 4), (uint32_t)~(VRAM - 1) | 0x8);
	cfg_write(PCI_BAR0, 4, v);
	/* BAR2: 4 KiB, not prefetchable. */
	v = cfg_read(PCI_BAR0 + 8, 4);
	CHECK_EQ_U64(v & 0xF, 0);
	cfg_write(PCI_BAR0 + 8, 4, 0xFFFFFFFF);
	CHECK_EQ_U64(cfg_read(PCI_BAR0 + 8, 4), 0xFFFFF000u);
	cfg_write(PCI_BAR0 + 8, 4, v);
	CHECK(bar_addr(0) != 0 && bar_addr(2) != 0);
	CHECK_EQ_U64(vga_vram_size(vga), VRAM);
	CHECK(vga_vram_slot(vga) < 0);   /* no KVM here */
}

static void test_dispi_ports(void)
{
	CHECK_EQ_U64(dispi_in(0), 0xB0C5);
	dispi_out(0, 0xB0C0);
	CHECK_EQ_U64(dispi_in(0), 0xB0C0);
	dispi_out(0, 0x1234);
	CHECK_EQ_U64(dispi_in(0), 0xB0C0);
	dispi_out(0, 0xB0C5);
	CHECK_EQ_U64(dispi_in(0), 0xB0C5);
	CHECK_EQ_U64(dispi_in(0xA), VRAM >> 16);
	/* The index reads back; unknown indices read 0. */
	out(0x1CE, 2, 3);
	CHECK_EQ_U64(in(0x1CE, 2), 3);
	CHECK_EQ_U64(dispi_in(0x0B), 0);
	CHECK_EQ_U64(dispi_in(0xFFFF), 0);

	dispi_out(1, 800);
	dispi_out(2, 600);
	dispi_out(3, 16);
	CHECK_EQ_U64(dispi_in(1), 800);
	CHECK_EQ_U64(dispi_in(2), 600);
	CHECK_EQ_U64(dispi_in(3), 16);
	/* Virtual width follows xres; virtual height is computed. */
	CHECK_EQ_U64(dispi_in(6), 800);
	CHECK_EQ_U64(dispi_in(7), VRAM / (800 * 2));
	dispi_out(7, 5);
	CHECK_EQ_U64(dispi_in(7), VRAM / (800 * 2));
	dispi_out(0xA, 1);
	CHECK_EQ_U64(dispi_in(0xA), VRAM >> 16);

	/* GETCAPS: maxima while set, the registers again after. */
	dispi_out(4, 0x02);
	CHECK_EQ_U64(dispi_in(1), VGA_MAX_XRES);
	CHECK_EQ_U64(dispi_in(2), VGA_MAX_YRES);
	CHECK_EQ_U64(dispi_in(3), 32);
	CHECK(VGA_MAX_XRES >= 2560 && VGA_MAX_YRES >= 1600);
	CHECK_EQ_U64(dispi_in(4), 0x02);
	dispi_out(4, 0);
	CHECK_EQ_U64(dispi_in(1), 800);
	CHECK_EQ_U64(dispi_in(3), 16);

	/* Bank is masked to the VRAM's 64 KiB banks. */
	dispi_out(5, 0xFFFF);
	CHECK_EQ_U64(dispi_in(5), (VRAM >> 16) - 1);
	dispi_out(5, 0);
}

static void test_dispi_mmio(void)
{
	uint64_t b2 = bar_addr(2);

	CHECK_EQ_U64(dispi_mmio_in(0), 0xB0C5);
	CHECK_EQ_U64(dispi_mmio_in(0xA), VRAM >> 16);
	dispi_mmio_out(1, 1024);
	CHECK_EQ_U64(dispi_in(1), 1024);
	dispi_out(2, 700);
	CHECK_EQ_U64(dispi_mmio_in(2), 700);
	/* Byte writes merge into the 16-bit register. */
	mmio_write(b2 + 0x502, 1, 0x34);
	mmio_write(b2 + 0x503, 1, 0x02);
	CHECK_EQ_U64(dispi_in(1), 0x234);
	/* A dword covers two registers: XRES and YRES. */
	mmio_write(b2 + 0x502, 4, (600u << 16) | 800u);
	CHECK_EQ_U64(dispi_in(1), 800);
	CHECK_EQ_U64(dispi_in(2), 600);
	CHECK_EQ_U64(mmio_read(b2 + 0x502, 4), (600u << 16) | 800u);
	dispi_mmio_out(4, 0x02);
	CHECK_EQ_U64(dispi_mmio_in(1), VGA_MAX_XRES);
	dispi_mmio_out(4, 0x00);
	/* Holes read 0. */
	CHECK_EQ_U64(mmio_read(b2 + 0x516, 2), 0);
	CHECK_EQ_U64(mmio_read(b2 + 0x300, 4), 0);
	CHECK_EQ_U64(mmio_read(b2 + 0xFF8, 8), 0);
	/* QEMU ext regs: size 8, byte order little endian. */
	CHECK_EQ_U64(mmio_read(b2 + 0x600, 4), 8);
	CHECK_EQ_U64(mmio_read(b2 + 0x604, 4), 0x1e1e1e1e);
	mmio_write(b2 + 0x600, 4, 0x55);
	CHECK_EQ_U64(mmio_read(b2 + 0x600, 4), 8);
	mmio_write(b2 + 0x604, 4, 0x12345678);
	CHECK_EQ_U64(mmio_read(b2 + 0x604, 4), 0x1e1e1e1e);
	/* VGA ports at 0x400: the sequencer index. */
	mmio_write(b2 + 0x404, 1, 0x02);
	CHECK_EQ_U64(in(0x3C4, 1), 0x02);
	CHECK_EQ_U64(mmio_read(b2 + 0x405, 1), in(0x3C5, 1));
}

static void test_edid(void)
{
	uint64_t b2 = bar_addr(2);
	const uint8_t *e = vga_edid(vga);
	uint8_t blob[128], sum = 0, big[128];
	static const uint8_t hdr[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	bool same = true;

	for (int i = 0; i < 128; i++) {
		blob[i] = (uint8_t)mmio_read(b2 + (unsigned)i, 1);
		sum = (uint8_t)(sum + blob[i]);
		same = same && blob[i] == e[i];
	}
	CHECK(same);
	CHECK(!memcmp(blob, hdr, 8));
	CHECK_EQ_U64(sum, 0);
	CHECK_EQ_U64(blob[18], 1);
	CHECK_EQ_U64(blob[19], 4);
	CHECK_EQ_U64(blob[126], 0);
	/* Preferred detailed timing: 1024x768 (configured). */
	CHECK(blob[54] | blob[55]);
	CHECK_EQ_U64(blob[56] | (blob[58] >> 4) << 8, 1024);
	CHECK_EQ_U64(blob[59] | (blob[61] >> 4) << 8, 768);
	CHECK_EQ_U64(blob[24] & 0x02, 0x02);
	/* Established 640x480, 800x600, 1024x768; some standard timings. */
	CHECK_EQ_U64(blob[35], 0x21);
	CHECK_EQ_U64(blob[36], 0x08);
	CHECK(blob[38] != 0x01);
	/* Monitor name descriptor. */
	CHECK_EQ_U64(blob[90 + 3], 0xfc);
	CHECK(!memcmp(blob + 95, "VMM Display\n", 12));
	CHECK_EQ_U64(mmio_read(b2 + 0x80, 8), 0);
	/* Writes are ignored. */
	mmio_write(b2 + 0x10, 4, 0xFFFFFFFF);
	CHECK_EQ_U64(mmio_read(b2 + 0x10, 1), e[0x10]);
	CHECK(e[0x10] != 0xFF);

	CHECK(vga_build_edid(big, 2560, 1600, 16u << 20) == 0);
	sum = 0;
	for (int i = 0; i < 128; i++)
		sum = (uint8_t)(sum + big[i]);
	CHECK_EQ_U64(sum, 0);
	CHECK_EQ_U64(big[56] | (big[58] >> 4) << 8, 2560);
	CHECK_EQ_U64(big[59] | (big[61] >> 4) << 8, 1600);
	CHECK(vga_build_edid(big, 4095, 4095, 256u << 20) == 0);
	CHECK(big[54] | big[55]);
	CHECK(vga_build_edid(big, 1920, 1080, 4u << 20) < 0);
	CHECK(vga_build_edid(big, 4096, 768, 256u << 20) < 0);
	CHECK(vga_build_edid(big, 0, 0, 256u << 20) < 0);
}

static void test_config_check(void)
{
	char err[160];
	struct vga_config c = { 0 };

	CHECK(vga_config_check(&c, err, sizeof(err)) == 0);
	CHECK(vga_config_check(NULL, err, sizeof(err)) == 0);
	c.vram_size = 3u << 20;
	CHECK(vga_config_check(&c, err, sizeof(err)) < 0);
	c.vram_size = 512u << 20;
	CHECK(vga_config_check(&c, err, sizeof(err)) < 0);
	c.vram_size = 4u << 20;
	c.width = 2560;
	c.height = 1600;
	CHECK(vga_config_check(&c, err, sizeof(err)) < 0);
	c.vram_size = 16u << 20;
	CHECK(vga_config_check(&c, err, sizeof(err)) == 0);
}

static void test_mode_set(void)
{
	uint8_t *vram = vga_vram(vga);
	int changes = watcher.surface_changes;
	pixman_box32_t *ext;

	bochs_setmode(1024, 768, 32);
	refresh();
	CHECK(watcher.surface_changes > changes);
	CHECK_EQ_U64(watcher.width, 1024);
	CHECK_EQ_U64(watcher.height, 768);
	CHECK_EQ_U64(watcher.format, PIXMAN_x8r8g8b8);
	CHECK(watcher.data == (void *)vram);

	/* A pixel written into VRAM shows, with small damage. */
	((uint32_t *)vram)[100 * 1024 + 200] = 0x00123456;
	refresh();
	CHECK_EQ_U64(pixel(200, 100), 0x123456);
	CHECK(pixman_region32_contains_point(&watcher.damage, 200, 100, NULL));
	ext = pixman_region32_extents(&watcher.damage);
	CHECK((ext->x2 - ext->x1) * (ext->y2 - ext->y1) <= 16 * 16);
	/* Nothing changed: no damage. */
	refresh();
	CHECK(!pixman_region32_not_empty(&watcher.damage));

	/* Through the MMIO fallback of BAR0 (no KVM slot here). */
	mmio_write(bar_addr(0) + (101 * 1024 + 200) * 4, 4, 0x00ABCDEF);
	CHECK_EQ_U64(((uint32_t *)vram)[101 * 1024 + 200], 0x00ABCDEF);
	CHECK_EQ_U64(mmio_read(bar_addr(0) + (101 * 1024 + 200) * 4, 4), 0x00ABCDEF);
	refresh();
	CHECK_EQ_U64(pixel(200, 101), 0xABCDEF);

	/* Page flip: Y_OFFSET moves the aliased base. */
	changes = watcher.surface_changes;
	((uint32_t *)vram)[256 * 1024 + 5] = 0x00FEDCBA;
	dispi_mmio_out(6, 1024);
	dispi_mmio_out(8, 0);
	dispi_mmio_out(9, 256);   /* the last frame that fits in 4 MiB */
	CHECK_EQ_U64(dispi_in(9), 256);
	refresh();
	CHECK(watcher.surface_changes > changes);
	CHECK(watcher.data == (void *)(vram + 256 * 4096));
	CHECK_EQ_U64(pixel(5, 0), 0xFEDCBA);
	dispi_mmio_out(9, 0);
	refresh();
	CHECK(watcher.data == (void *)vram);

	/* Re-enabling clears the screen unless NOCLEARMEM. */
	dispi_out(4, 0);
	dispi_out(4, 0x41 | 0x80);
	CHECK_EQ_U64(((uint32_t *)vram)[100 * 1024 + 200], 0x00123456);
	dispi_out(4, 0);
	dispi_out(4, 0x41);
	CHECK_EQ_U64(((uint32_t *)vram)[100 * 1024 + 200], 0);
	refresh();
	CHECK_EQ_U64(pixel(200, 100), 0);
	CHECK(pixman_region32_contains_point(&watcher.damage, 200, 100, NULL));

	/* Blanking through the attribute controller: a black picture. */
	(void)in(0x3DA, 1);
	out(0x3C0, 1, 0x00);
	refresh();
	CHECK(watcher.data != (void *)vram);
	CHECK_EQ_U64(watcher.width, 1024);
	((uint32_t *)vram)[0] = 0x00FFFFFF;
	refresh();
	CHECK_EQ_U64(pixel(0, 0), 0);
	(void)in(0x3DA, 1);
	out(0x3C0, 1, 0x20);
	refresh();
	CHECK(watcher.data == (void *)vram);
	CHECK_EQ_U64(pixel(0, 0), 0xFFFFFF);
}

static void test_formats(void)
{
	uint8_t *vram = vga_vram(vga);
	uint64_t b2 = bar_addr(2);

	bochs_setmode(640, 480, 16);
	refresh();
	CHECK_EQ_U64(watcher.format, PIXMAN_r5g6b5);
	CHECK(watcher.data == (void *)vram);
	((uint16_t *)vram)[3] = 0xF800;
	refresh();
	CHECK_EQ_U64(pixel(3, 0), 0xFF0000);

	bochs_setmode(640, 480, 15);
	refresh();
	CHECK_EQ_U64(watcher.format, PIXMAN_x1r5g5b5);
	((uint16_t *)vram)[3] = 0x001F;
	refresh();
	CHECK_EQ_U64(pixel(3, 0), 0x0000FF);

	bochs_setmode(640, 480, 24);
	refresh();
	CHECK_EQ_U64(watcher.format, PIXMAN_r8g8b8);
	CHECK(watcher.data == (void *)vram);
	vram[3 * 7 + 0] = 0x11;   /* blue, green, red */
	vram[3 * 7 + 1] = 0x22;
	vram[3 * 7 + 2] = 0x33;
	refresh();
	CHECK_EQ_U64(pixel(7, 0), 0x332211);

	/* 24 bpp rows not 32-bit aligned: a converted copy. */
	bochs_setmode(642, 480, 24);
	refresh();
	CHECK_EQ_U64(watcher.width, 642);
	CHECK(watcher.data != (void *)vram);
	vram[642 * 3 * 2 + 3 * 641 + 2] = 0x77;
	refresh();
	CHECK_EQ_U64(pixel(641, 2), 0x770000);
	CHECK(pixman_region32_contains_point(&watcher.damage, 641, 2, NULL));

	/* 8 bpp through the DAC, 6-bit then 8-bit. */
	bochs_setmode(640, 480, 8);
	refresh();
	CHECK_EQ_U64(watcher.format, PIXMAN_x8r8g8b8);
	CHECK(watcher.data != (void *)vram);
	out(0x3C8, 1, 5);
	out(0x3C9, 1, 63);
	out(0x3C9, 1, 0);
	out(0x3C9, 1, 32);
	vram[640 * 10 + 20] = 5;
	refresh();
	CHECK_EQ_U64(pixel(20, 10), 0xFF0082);
	out(0x3C7, 1, 5);
	CHECK_EQ_U64(in(0x3C9, 1), 63);
	CHECK_EQ_U64(in(0x3C9, 1), 0);
	CHECK_EQ_U64(in(0x3C9, 1), 32);
	CHECK_EQ_U64(in(0x3C7, 1), 3);
	/* Palette change alone redraws. */
	out(0x3C8, 1, 5);
	out(0x3C9, 1, 0);
	out(0x3C9, 1, 63);
	out(0x3C9, 1, 0);
	refresh();
	CHECK_EQ_U64(pixel(20, 10), 0x00FF00);
	CHECK(pixman_region32_contains_point(&watcher.damage, 20, 10, NULL));
	dispi_out(4, 0x41 | 0x20 | 0x80);    /* 8-bit DAC */
	out(0x3C8, 1, 5);
	out(0x3C9, 1, 0x80);
	out(0x3C9, 1, 0x40);
	out(0x3C9, 1, 0x20);
	refresh();
	CHECK_EQ_U64(pixel(20, 10), 0x804020);

	/* Big-endian framebuffer (QEMU ext byte order): BGRX. */
	bochs_setmode(640, 480, 32);
	mmio_write(b2 + 0x604, 4, 0xbebebebe);
	CHECK_EQ_U64(mmio_read(b2 + 0x604, 4), 0xbebebebe);
	refresh();
	CHECK_EQ_U64(watcher.format, PIXMAN_b8g8r8x8);
	vram[0] = 0x00;
	vram[1] = 0x11;   /* red */
	vram[2] = 0x22;
	vram[3] = 0x33;   /* blue */
	refresh();
	CHECK_EQ_U64(pixel(0, 0), 0x112233);
	mmio_write(b2 + 0x604, 4, 0x1e1e1e1e);
	refresh();
	CHECK_EQ_U64(watcher.format, PIXMAN_x8r8g8b8);
}

/*
 * A consumer like the VNC server: on surface_changed it takes a full copy of
 * the new surface (the VNC update thread does so a moment later, on its own
 * thread), then it copies the rectangles it is told are damaged. To drive the
 * race behind the benchmark's first-frame hang deterministically, the
 * "guest" writes one byte of VRAM right after that full copy, as a vCPU still
 * drawing its picture during the mode switch does. Whatever the order of
 * things inside the device, the copy must end up equal to the surface.
 */
struct mirror {
	struct console_listener l;
	pixman_image_t *copy;       /* the consumer's picture, x8r8g8b8 */
	pixman_region32_t damage;
	uint8_t *poke;              /* written after the full copy, then NULL */
	uint8_t poke_val;
};

static void m_surface(void *opaque, struct console *c)
{
	struct mirror *m = opaque;
	pixman_image_t *s = console_surface_locked(c);
	int w = s ? pixman_image_get_width(s) : 0;
	int h = s ? pixman_image_get_height(s) : 0;

	if (m->copy)
		pixman_image_unref(m->copy);
	m->copy = NULL;
	pixman_region32_clear(&m->damage);
	if (!s)
		return;
	m->copy = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h, NULL, 0);
	pixman_image_composite32(PIXMAN_OP_SRC, s, NULL, m->copy, 0, 0, 0, 0,
				 0, 0, w, h);
	if (m->poke) {
		*m->poke = m->poke_val;
		m->poke = NULL;
	}
}

static void m_damage(void *opaque, const pixman_box32_t *b)
{
	struct mirror *m = opaque;

	pixman_region32_union_rect(&m->damage, &m->damage, b->x1, b->y1,
				   (unsigned)(b->x2 - b->x1),
				   (unsigned)(b->y2 - b->y1));
}

/* Copy the damage into the mirror; true if it then equals the surface. */
static bool mirror_current(struct mirror *m)
{
	pixman_image_t *s = console_lock(con);
	pixman_box32_t *b;
	bool same;
	int n, w, h;

	b = pixman_region32_rectangles(&m->damage, &n);
	for (int i = 0; s && m->copy && i < n; i++)
		pixman_image_composite32(PIXMAN_OP_SRC, s, NULL, m->copy,
					 b[i].x1, b[i].y1, 0, 0, b[i].x1,
					 b[i].y1, b[i].x2 - b[i].x1,
					 b[i].y2 - b[i].y1);
	pixman_region32_clear(&m->damage);
	same = s && m->copy;
	if (same) {
		pixman_image_t *now;

		w = pixman_image_get_width(s);
		h = pixman_image_get_height(s);
		now = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h, NULL, 0);
		pixman_image_composite32(PIXMAN_OP_SRC, s, NULL, now, 0, 0, 0,
					 0, 0, 0, w, h);
		for (int y = 0; same && y < h; y++)
			for (int x = 0; same && x < w; x++)
				same = ((pixman_image_get_data(now)[y * w + x] ^
					 pixman_image_get_data(m->copy)[y * w + x]) &
					0xFFFFFF) == 0;
		pixman_image_unref(now);
	}
	console_unlock(con);
	return same;
}

/* A guest drawing while its new mode goes up: nothing it draws is lost. */
static void test_switch_race(void)
{
	struct mirror m = {
		.l = { .surface_changed = m_surface, .damage = m_damage },
	};
	uint8_t *vram = vga_vram(vga);
	uint8_t dac0[3];

	m.l.opaque = &m;
	pixman_region32_init(&m.damage);
	CHECK(console_add_listener(con, &m.l) == 0);

	/* 32 bpp, the surface aliases VRAM (cleared by the mode set). */
	bochs_setmode(800, 600, 32);
	m.poke = vram + (300 * 800 + 400) * 4;
	m.poke_val = 0x5A;
	refresh();
	CHECK(m.poke == NULL);
	CHECK(watcher.data == (void *)vram);
	refresh();
	CHECK_EQ_U64(pixel(400, 300), 0x00005A);
	CHECK(mirror_current(&m));

	/* 8 bpp, converted into a surface of the console's: DAC entry 0 not
	 * black, so the converted picture differs from a zeroed surface. */
	out(0x3C7, 1, 0);
	for (int i = 0; i < 3; i++)
		dac0[i] = (uint8_t)in(0x3C9, 1);
	out(0x3C8, 1, 0);
	out(0x3C9, 1, 0x3F);
	out(0x3C9, 1, 0x00);
	out(0x3C9, 1, 0x3F);
	out(0x3C8, 1, 9);
	out(0x3C9, 1, 0x00);
	out(0x3C9, 1, 0x3F);
	out(0x3C9, 1, 0x00);
	bochs_setmode(640, 480, 8);
	m.poke = vram + 640 * 20 + 30;
	m.poke_val = 9;
	refresh();
	CHECK(m.poke == NULL);
	CHECK(watcher.data != (void *)vram);
	refresh();
	CHECK_EQ_U64(pixel(30, 20), 0x00FF00);
	CHECK_EQ_U64(pixel(31, 20), 0xFF00FF);
	CHECK(mirror_current(&m));
	out(0x3C8, 1, 0);
	for (int i = 0; i < 3; i++)
		out(0x3C9, 1, dac0[i]);

	console_remove_listener(con, &m.l);
	if (m.copy)
		pixman_image_unref(m.copy);
	pixman_region32_fini(&m.damage);
}

static void set_cr(uint8_t idx, uint8_t val)
{
	out(0x3D4, 1, idx);
	out(0x3D5, 1, val);
}

/* Check one text cell's glyph against the font: fg where bits are set. */
static bool cell_matches(int col, int row, uint8_t ch, uint32_t fg, uint32_t bg,
			 int first_line, int last_line)
{
	for (int line = first_line; line <= last_line; line++)
		for (int x = 0; x < 8; x++) {
			bool on = vga_font_8x16[ch][line] & (0x80 >> x);
			uint32_t p = pixel(col * 8 + x, row * 16 + line);

			if (p != (on ? fg : bg))
				return false;
		}
	return true;
}

static void test_text_mode(void)
{
	uint64_t b2 = bar_addr(2);

	dispi_out(4, 0);
	vga_test_set_blink(vga, 1);
	refresh();
	CHECK_EQ_U64(watcher.width, 640);
	CHECK_EQ_U64(watcher.height, 400);
	CHECK(watcher.data != (void *)vga_vram(vga));

	/* 'A' white on blue at (0,0); cursor at (1,1) over grey-on-black. */
	mmio_write(0xB8000, 2, 0x1F41);
	mmio_write(0xB8000 + 2 * 81, 2, 0x0720);
	CHECK_EQ_U64(mmio_read(0xB8000, 2), 0x1F41);
	CHECK_EQ_U64(mmio_read(0xB8000, 1), 0x41);
	CHECK_EQ_U64(mmio_read(0xB8001, 1), 0x1F);
	set_cr(0x0E, 0);
	set_cr(0x0F, 81);
	set_cr(0x0A, 13);
	set_cr(0x0B, 14);
	refresh();
	CHECK(cell_matches(0, 0, 'A', 0xFFFFFF, 0x0000AA, 0, 15));
	CHECK(pixman_region32_contains_point(&watcher.damage, 3, 3, NULL));
	CHECK_EQ_U64(pixel(8 + 3, 16 + 13), 0xAAAAAA);
	CHECK_EQ_U64(pixel(8 + 3, 16 + 14), 0xAAAAAA);
	CHECK_EQ_U64(pixel(8 + 3, 16 + 12), 0);
	/* Cursor blink phase off: gone. */
	vga_test_set_blink(vga, 0);
	refresh();
	CHECK_EQ_U64(pixel(8 + 3, 16 + 13), 0);
	vga_test_set_blink(vga, 1);
	/* Cursor disabled (CR0A bit 5). */
	set_cr(0x0A, 0x20 | 13);
	refresh();
	CHECK_EQ_U64(pixel(8 + 3, 16 + 13), 0);
	set_cr(0x0A, 13);
	refresh();
	CHECK_EQ_U64(pixel(8 + 3, 16 + 13), 0xAAAAAA);

	/* DAC entry 1 (blue background) becomes red. */
	out(0x3C8, 1, 1);
	out(0x3C9, 1, 63);
	out(0x3C9, 1, 0);
	out(0x3C9, 1, 0);
	refresh();
	CHECK(cell_matches(0, 0, 'A', 0xFFFFFF, 0xFF0000, 0, 15));
	out(0x3C8, 1, 1);
	out(0x3C9, 1, 0);
	out(0x3C9, 1, 0);
	out(0x3C9, 1, 0x2a);

	/* Start address 80: the second buffer line is now the first. */
	mmio_write(0xB8000 + 2 * 80, 2, 0x4E42);   /* 'B' yellow on red */
	set_cr(0x0C, 0);
	set_cr(0x0D, 80);
	refresh();
	CHECK(cell_matches(0, 0, 'B', 0xFFFF55, 0xAA0000, 0, 15));
	/* The cursor (cell 81) is now at row 0, column 1. */
	CHECK_EQ_U64(pixel(8 + 3, 13), 0xAAAAAA);
	set_cr(0x0D, 0);

	/* The CRTC through BAR2 (0x400 + 0x14/0x15 = 0x3D4/0x3D5). */
	mmio_write(0xB8000 + 2 * 2, 2, 0x0700);
	mmio_write(b2 + 0x414, 1, 0x0F);
	mmio_write(b2 + 0x415, 1, 2);
	refresh();
	CHECK_EQ_U64(pixel(16 + 3, 13), 0xAAAAAA);
	CHECK_EQ_U64(in(0x3D5, 1), 2);

	/* 9-dot characters: 720 wide. */
	out(0x3C4, 1, 1);
	out(0x3C5, 1, 0x00);
	refresh();
	CHECK_EQ_U64(watcher.width, 720);
	out(0x3C5, 1, 0x01);
	refresh();
	CHECK_EQ_U64(watcher.width, 640);

	/* Write protect of CR0-7 (CR11 bit 7, set after reset). */
	set_cr(0x01, 0x20);
	out(0x3D4, 1, 0x01);
	CHECK_EQ_U64(in(0x3D5, 1), 0x4F);

	/* A graphics VGA mode (GR06 bit 0) is not shown; back to text. */
	out(0x3CE, 1, 0x06);
	out(0x3CF, 1, 0x05);
	refresh();
	CHECK_EQ_U64(watcher.width, 0);
	out(0x3CF, 1, 0x0E);
	refresh();
	CHECK_EQ_U64(watcher.width, 640);
	CHECK(cell_matches(0, 0, 'A', 0xFFFFFF, 0x0000AA, 0, 15));

	/* Attribute controller: palette register 1 -> DAC 4 (red). */
	(void)in(0x3DA, 1);
	out(0x3C0, 1, 0x01);
	out(0x3C0, 1, 0x04);
	out(0x3C0, 1, 0x21);   /* index 1 with PAS (display on) */
	CHECK_EQ_U64(in(0x3C1, 1), 0x04);
	CHECK_EQ_U64(in(0x3C0, 1), 0x21);
	(void)in(0x3DA, 1);
	out(0x3C0, 1, 0x20);
	refresh();
	CHECK(cell_matches(0, 0, 'A', 0xFFFFFF, 0xAA0000, 0, 15));
	(void)in(0x3DA, 1);
	out(0x3C0, 1, 0x01);
	out(0x3C0, 1, 0x01);
	(void)in(0x3DA, 1);
	out(0x3C0, 1, 0x20);

	/* Input status 1 toggles retrace. */
	CHECK((in(0x3DA, 1) ^ in(0x3DA, 1)) & 0x08);

	/* Without DISPI, 0xA0000 is VGA memory as GR6 maps it: the text
	 * mode's B8000 map leaves it (and 0xB0000) undecoded. */
	mmio_write(0xA0010, 4, 0xCAFEF00D);
	CHECK(((uint32_t *)vga_vram(vga))[4] != 0xCAFEF00D);
	CHECK_EQ_U64(mmio_read(0xA0010, 4), 0xFFFFFFFF);
	/* 0xB0000 is not decoded. */
	CHECK_EQ_U64(mmio_read(0xB0000, 2), 0xFFFF);
}

/* --- fonts: what Linux's vgacon does ---------------------------------------- */

#define CMAPSZ 8192     /* one character map: 256 glyphs of 32 bytes */

static uint8_t builtin_font[CMAPSZ];   /* read back after reset */
static bool vga_512_chars;

static void wseq(uint8_t idx, uint8_t val)
{
	out(0x3C4, 1, idx);
	out(0x3C5, 1, val);
}

static void wgfx(uint8_t idx, uint8_t val)
{
	out(0x3CE, 1, idx);
	out(0x3CF, 1, val);
}

static void wattr(uint8_t idx, uint8_t val)
{
	out(0x3C0, 1, idx);
	out(0x3C0, 1, val);
}

static uint8_t get_cr(uint8_t idx)
{
	out(0x3D4, 1, idx);
	return (uint8_t)in(0x3D5, 1);
}

/*
 * vgacon_do_font_op() in Linux's drivers/video/console/vgacon.c, register
 * for register: plane 2 alone, sequential addressing, the A0000 map; the
 * font byte by byte at 0xA0000 (a 512-character font's second half 16 KiB
 * further, in map 1); then odd/even text addressing at B8000 again, the
 * character map select, and for a change between 256 and 512 characters
 * the colour plane enable (intensity off while bit 3 picks the font).
 */
static void font_op(uint8_t *buf, bool set, bool ch512)
{
	wseq(0x00, 0x01);
	wseq(0x02, 0x04);
	wseq(0x04, 0x07);
	wseq(0x00, 0x03);
	wgfx(0x04, 0x02);
	wgfx(0x05, 0x00);
	wgfx(0x06, 0x00);
	for (int half = 0; half < (ch512 ? 2 : 1); half++)
		for (int i = 0; i < CMAPSZ; i++) {
			uint64_t a = 0xA0000 + (uint64_t)(2 * CMAPSZ * half + i);

			if (set)
				mmio_write(a, 1, buf[half * CMAPSZ + i]);
			else
				buf[half * CMAPSZ + i] = (uint8_t)mmio_read(a, 1);
		}
	wseq(0x00, 0x01);
	wseq(0x02, 0x03);
	wseq(0x04, 0x03);
	if (set)
		wseq(0x03, ch512 ? 0x04 : 0x00);
	wseq(0x00, 0x03);
	wgfx(0x04, 0x00);
	wgfx(0x05, 0x10);
	wgfx(0x06, 0x0E);
	if (set && ch512 != vga_512_chars) {
		vga_512_chars = ch512;
		(void)in(0x3DA, 1);
		wattr(0x12, ch512 ? 0x07 : 0x0F);
		(void)in(0x3DA, 1);
		wattr(0x20, 0);
	}
}

/* vgacon_adjust_height(): the CRTC for `height`-line characters. */
static void adjust_height(unsigned scan_lines, unsigned height)
{
	unsigned rows = scan_lines / height, maxscan = rows * height - 1;
	uint8_t ovr = get_cr(0x07), fsr = get_cr(0x09);

	ovr = (uint8_t)((ovr & 0xbd) + ((maxscan & 0x100) >> 7) +
			((maxscan & 0x200) >> 3));
	fsr = (uint8_t)((fsr & 0xe0) + (height - 1));
	set_cr(0x07, ovr);
	set_cr(0x09, fsr);
	set_cr(0x12, (uint8_t)maxscan);
}

static void put_cell(unsigned i, uint8_t ch, uint8_t attr)
{
	mmio_write(0xB8000 + 2 * (uint64_t)i, 2, (uint64_t)attr << 8 | ch);
}

/* Whether 8-dot cell (col, row) of cell_h-line cells shows the first
 * `lines` scanlines of glyph (one byte a line) in fg on bg. */
static bool cell_shows(int col, int row, int cell_h, const uint8_t *glyph,
		       int lines, uint32_t fg, uint32_t bg)
{
	for (int y = 0; y < lines; y++)
		for (int x = 0; x < 8; x++) {
			bool on = glyph[y] & (0x80 >> x);

			if (pixel(col * 8 + x, row * cell_h + y) != (on ? fg : bg))
				return false;
		}
	return true;
}

static bool damage_empty(void)
{
	bool empty;

	pthread_mutex_lock(&watcher.mu);
	empty = !pixman_region32_not_empty(&watcher.damage);
	pthread_mutex_unlock(&watcher.mu);
	return empty;
}

/* After reset plane 2 holds the built-in font, as vgacon_font_get reads it. */
static void test_font_builtin(void)
{
	int bad = 0;

	font_op(builtin_font, false, false);
	for (int ch = 0; ch < 256; ch++)
		for (int l = 0; l < 32; l++)
			bad += builtin_font[ch * 32 + l] !=
			       (l < VGA_FONT_HEIGHT ? vga_font_8x16[ch][l] : 0);
	CHECK_EQ_U64(bad, 0);
	/* Text addressing is back: 0xB8000 reads the characters again. */
	put_cell(0, 'A', 0x1F);
	CHECK_EQ_U64(mmio_read(0xB8000, 2), 0x1F41);
	CHECK_EQ_U64(mmio_read(0xA0000, 1), 0xFF);
}

static void test_font_load(void)
{
	static uint8_t font[CMAPSZ], back[CMAPSZ];
	static const uint8_t solid[16] = {
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	};
	uint8_t checker[16];

	dispi_out(4, 0);
	vga_test_set_blink(vga, 1);
	set_cr(0x0A, 0x20);             /* no cursor in the way */
	put_cell(0, 'A', 0x07);
	put_cell(1, 'B', 0x07);
	put_cell(2, 'C', 0x07);
	refresh();
	CHECK(cell_shows(0, 0, 16, vga_font_8x16['A'], 16, 0xAAAAAA, 0));
	CHECK(cell_shows(1, 0, 16, vga_font_8x16['B'], 16, 0xAAAAAA, 0));

	memcpy(font, builtin_font, sizeof(font));
	for (int l = 0; l < 16; l++)
		checker[l] = (l & 1) ? 0x55 : 0xAA;
	memcpy(font + 'A' * 32, solid, 16);
	memcpy(font + 'B' * 32, checker, 16);
	font_op(font, true, false);
	adjust_height(400, 16);
	refresh();
	CHECK(cell_shows(0, 0, 16, solid, 16, 0xAAAAAA, 0));
	CHECK(cell_shows(1, 0, 16, checker, 16, 0xAAAAAA, 0));
	CHECK(cell_shows(2, 0, 16, vga_font_8x16['C'], 16, 0xAAAAAA, 0));
	CHECK_EQ_U64(watcher.width, 640);
	CHECK_EQ_U64(watcher.height, 400);
	/* A new font redraws the whole screen. */
	CHECK(pixman_region32_contains_point(&watcher.damage, 639, 399, NULL));
	/* vgacon_font_get reads back what was set. */
	font_op(back, false, false);
	CHECK(memcmp(back, font, sizeof(font)) == 0);
	/* Text memory reads and writes as before. */
	put_cell(3, 'D', 0x1E);
	CHECK_EQ_U64(mmio_read(0xB8000 + 6, 2), 0x1E44);
	CHECK_EQ_U64(mmio_read(0xB8000 + 7, 1), 0x1E);
	CHECK_EQ_U64(mmio_read(0xB8000, 4), 0x07420741);
	refresh();
	CHECK(cell_shows(3, 0, 16, vga_font_8x16['D'], 16, 0xFFFF55, 0x0000AA));

	/* Only changes redraw: the same font again draws nothing... */
	refresh();
	CHECK(damage_empty());
	font_op(font, true, false);
	refresh();
	CHECK(damage_empty());
	/* ...a write to a character map not in use neither (map 3)... */
	wseq(0x02, 0x04);
	wseq(0x04, 0x07);
	wgfx(0x06, 0x00);
	mmio_write(0xA0000 + 0xC000, 1, 0x5A);
	wseq(0x02, 0x03);
	wseq(0x04, 0x03);
	wgfx(0x06, 0x0E);
	refresh();
	CHECK(damage_empty());
	/* ...one changed byte of the font in use, even of a glyph not on
	 * the screen, redraws (at the next refresh). */
	font['Z' * 32 + 3] ^= 0x10;
	font_op(font, true, false);
	refresh();
	CHECK(!damage_empty());
	CHECK(cell_shows(0, 0, 16, solid, 16, 0xAAAAAA, 0));

	/* Back to the built-in font. */
	font_op(builtin_font, true, false);
	refresh();
	CHECK(cell_shows(0, 0, 16, vga_font_8x16['A'], 16, 0xAAAAAA, 0));
	CHECK(cell_shows(1, 0, 16, vga_font_8x16['B'], 16, 0xAAAAAA, 0));
}

/* A 512-character font: SR3 = 0x04 puts map 1 (attribute bit 3 set) next
 * to map 0; colour plane enable 0x07 keeps bit 3 out of the colour. */
static void test_font_512(void)
{
	static uint8_t font[2 * CMAPSZ];
	uint8_t solid[16];

	memset(solid, 0xFF, sizeof(solid));
	memcpy(font, builtin_font, CMAPSZ);
	memcpy(font + CMAPSZ, builtin_font, CMAPSZ);
	memcpy(font + CMAPSZ + 'A' * 32, solid, 16);
	put_cell(0, 'A', 0x07);
	put_cell(1, 'A', 0x0F);
	put_cell(2, 'A', 0x1F);
	font_op(font, true, true);
	out(0x3C4, 1, 0x03);
	CHECK_EQ_U64(in(0x3C5, 1), 0x04);
	refresh();
	CHECK(cell_shows(0, 0, 16, vga_font_8x16['A'], 16, 0xAAAAAA, 0));
	CHECK(cell_shows(1, 0, 16, solid, 16, 0xAAAAAA, 0));
	CHECK(cell_shows(2, 0, 16, solid, 16, 0xAAAAAA, 0x0000AA));
	/* vgacon_font_get of 512 characters. */
	{
		static uint8_t back[2 * CMAPSZ];

		font_op(back, false, true);
		CHECK(memcmp(back, font, sizeof(back)) == 0);
	}
	/* Back to 256 characters: bit 3 is intensity again. */
	font_op(builtin_font, true, false);
	refresh();
	CHECK(cell_shows(1, 0, 16, vga_font_8x16['A'], 16, 0xFFFFFF, 0));
	CHECK(cell_shows(2, 0, 16, vga_font_8x16['A'], 16, 0xFFFFFF, 0x0000AA));
}

/* An 8-line font on the 400-line mode: 80x50, cursor in 8-line cells. */
static void test_font_8line(void)
{
	static uint8_t font[CMAPSZ];
	uint8_t solid[8];
	int w, h;

	memset(solid, 0xFF, sizeof(solid));
	memset(font, 0, sizeof(font));
	for (int ch = 0; ch < 256; ch++)
		memcpy(font + ch * 32, vga_font_8x16[ch] + 4, 8);
	memcpy(font + 'A' * 32, solid, 8);
	for (unsigned i = 0; i < 80 * 50; i++)
		put_cell(i, ' ', 0x07);
	put_cell(0, 'A', 0x07);
	put_cell(80, 'B', 0x07);
	put_cell(49 * 80 + 79, 'A', 0x0E);
	font_op(font, true, false);
	adjust_height(400, 8);
	CHECK_EQ_U64(get_cr(0x09) & 0x1F, 7);
	/* vgacon_cursor's underline for 8 lines: scanlines 6-7, at cell 81. */
	set_cr(0x0A, 6);
	set_cr(0x0B, 7);
	set_cr(0x0E, 0);
	set_cr(0x0F, 81);
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 640);
	CHECK_EQ_U64(h, 400);
	CHECK(cell_shows(0, 0, 8, solid, 8, 0xAAAAAA, 0));
	CHECK(cell_shows(0, 1, 8, vga_font_8x16['B'] + 4, 8, 0xAAAAAA, 0));
	CHECK(cell_shows(79, 49, 8, solid, 8, 0xFFFF55, 0));
	CHECK_EQ_U64(pixel(8 + 3, 8 + 5), 0);
	CHECK_EQ_U64(pixel(8 + 3, 8 + 6), 0xAAAAAA);
	CHECK_EQ_U64(pixel(8 + 3, 8 + 7), 0xAAAAAA);
	CHECK_EQ_U64(pixel(8 + 3, 16 + 0), 0);
	/* The cursor end is clipped to the cell; a start below it: none. */
	set_cr(0x0B, 15);
	refresh();
	CHECK_EQ_U64(pixel(8 + 3, 8 + 7), 0xAAAAAA);
	CHECK_EQ_U64(pixel(8 + 3, 16 + 0), 0);
	set_cr(0x0A, 9);
	refresh();
	CHECK_EQ_U64(pixel(8 + 3, 8 + 7), 0);
	set_cr(0x0A, 6);
	/* 9-dot characters: 720x400. */
	wseq(0x01, 0x00);
	refresh();
	CHECK_EQ_U64(watcher.width, 720);
	CHECK_EQ_U64(watcher.height, 400);
	wseq(0x01, 0x01);
	refresh();
	CHECK_EQ_U64(watcher.width, 640);

	/* Back to 8x16, 80x25, vgacon's 16-line underline cursor. */
	font_op(builtin_font, true, false);
	adjust_height(400, 16);
	set_cr(0x0A, 13);
	set_cr(0x0B, 14);
	refresh();
	CHECK_EQ_U64(watcher.height, 400);
	CHECK(cell_shows(0, 0, 16, vga_font_8x16['A'], 16, 0xAAAAAA, 0));
	CHECK(cell_shows(0, 1, 16, vga_font_8x16['B'], 16, 0xAAAAAA, 0));
	CHECK_EQ_U64(pixel(8 + 3, 16 + 13), 0xAAAAAA);
}

/* Misc Output bit 0 clear: the CRTC at 0x3B4/0x3B5, status at 0x3BA. */
static void test_mono_ports(void)
{
	uint64_t b2 = bar_addr(2);

	out(0x3C2, 1, 0x66);
	CHECK_EQ_U64(in(0x3CC, 1), 0x66);
	out(0x3B4, 1, 0x0F);
	out(0x3B5, 1, 0x42);
	CHECK_EQ_U64(in(0x3B4, 1), 0x0F);
	CHECK_EQ_U64(in(0x3B5, 1), 0x42);
	out(0x3B4, 2, 0x430F);          /* index and data in one word */
	CHECK_EQ_U64(in(0x3B5, 1), 0x43);
	/* The colour addresses are silent. */
	CHECK_EQ_U64(in(0x3D4, 1), 0xFF);
	CHECK_EQ_U64(in(0x3D5, 1), 0xFF);
	CHECK_EQ_U64(in(0x3DA, 1), 0xFF);
	out(0x3D4, 1, 0x0F);
	out(0x3D5, 1, 0x99);
	CHECK_EQ_U64(mmio_read(b2 + 0x415, 1), 0xFF);
	CHECK_EQ_U64(in(0x3B5, 1), 0x43);
	CHECK((in(0x3BA, 1) ^ in(0x3BA, 1)) & 0x08);
	/* 0x3BA resets the attribute flip-flop: index, then data. */
	(void)in(0x3BA, 1);
	out(0x3C0, 1, 0x31);            /* index 0x11 (overscan), display on */
	(void)in(0x3BA, 1);
	out(0x3C0, 1, 0x31);
	CHECK_EQ_U64(in(0x3C0, 1), 0x31);
	/* Unused mono ports read 0xFF. */
	CHECK_EQ_U64(in(0x3B6, 1), 0xFF);

	/* Colour again: 0x3D4/0x3D5 answer, 0x3B4/0x3B5 not. */
	out(0x3C2, 1, 0x67);
	CHECK_EQ_U64(in(0x3B5, 1), 0xFF);
	CHECK_EQ_U64(in(0x3BA, 1), 0xFF);
	out(0x3D4, 1, 0x0F);
	CHECK_EQ_U64(in(0x3D5, 1), 0x43);
	set_cr(0x0F, 0);
	CHECK_EQ_U64(mmio_read(b2 + 0x415, 1), 0);
}

static void test_bank_window(void)
{
	uint8_t *vram = vga_vram(vga);

	bochs_setmode(1024, 768, 32);
	dispi_out(5, 3);
	mmio_write(0xA0000 + 8, 4, 0x00112233);
	CHECK_EQ_U64(((uint32_t *)(vram + 3 * 0x10000))[2], 0x00112233);
	CHECK_EQ_U64(mmio_read(0xA0000 + 8, 4), 0x00112233);
	/* The last bank, last bytes. */
	dispi_out(5, 0xFFFF);
	mmio_write(0xAFFF8, 8, 0x0102030405060708ull);
	CHECK_EQ_U64(*(uint64_t *)(vram + VRAM - 8), 0x0102030405060708ull);
	dispi_out(5, 0);
	refresh();
	CHECK_EQ_U64(pixel(2, 3 * 16), 0x112233);   /* 0x30000 / 4096 = row 48 */
}

static void test_hostile(void)
{
	uint64_t b2 = bar_addr(2);
	int w, h;
	static const uint16_t evil[] = { 0, 1, 7, 8, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF };

	bochs_setmode(1024, 768, 32);
	refresh();
	/* Absurd sizes: nothing shown, nothing crashes. */
	dispi_out(1, 0xFFFF);
	dispi_out(2, 0xFFFF);
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 0);
	dispi_out(1, 1024);
	dispi_out(2, 768);
	dispi_out(3, 0xFF);
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 0);
	dispi_out(3, 32);
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 1024);
	/* Panning beyond VRAM: not shown. */
	dispi_out(9, 1024);      /* 1024 * 4096 + 768 rows > 4 MiB */
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 0);
	/* x offset 0xFFFF alone still fits (it runs into later lines)... */
	dispi_out(9, 0);
	dispi_out(8, 0xFFFF);
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 1024);
	/* ...but not with 200 lines of y offset. */
	dispi_out(9, 200);
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 0);
	dispi_out(8, 0);
	dispi_out(9, 0);
	dispi_out(6, 0xFFFF);
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 0);
	dispi_out(6, 1024);
	/* The largest offsets that still fit are shown. */
	dispi_out(9, 256);       /* exactly the last frame */
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 1024);
	dispi_out(9, 0);

	/* Every combination of evil values for the geometry registers. */
	for (unsigned a = 0; a < 8; a++)
		for (unsigned b = 0; b < 8; b++) {
			dispi_out(1, evil[a]);
			dispi_out(2, evil[b]);
			dispi_out(6, evil[(a + b) % 8]);
			dispi_out(8, evil[(a * 3 + b) % 8]);
			dispi_out(9, evil[(a + b * 5) % 8]);
			dispi_out(3, (uint16_t[]){ 8, 15, 16, 24, 32, 4, 0, 0xFFFF }[b]);
			dispi_out(4, (uint16_t)(0x41 | (a & 1 ? 0x80 : 0)));
			(void)dispi_in(7);
			refresh();
		}

	/* Every BAR2 offset, every size, read and write. */
	for (unsigned off = 0; off < 0x1000; off++)
		for (uint32_t len = 1; len <= 8; len *= 2) {
			if (off + len > 0x1000)
				continue;
			(void)mmio_read(b2 + off, len);
			if (off < 0x400 || off >= 0x500)
				mmio_write(b2 + off, len, 0xFFFFFFFFFFFFFFFFull);
		}
	/* VGA registers with junk, every port and size. */
	for (unsigned p = 0x3C0; p < 0x3E0; p++)
		for (uint32_t len = 1; len <= 4; len *= 2) {
			(void)in((uint16_t)p, len);
			out((uint16_t)p, len, 0xFFFFFFFF);
		}
	for (unsigned p = 0x1CE; p <= 0x1D0; p++)
		for (uint32_t len = 1; len <= 4; len *= 2) {
			(void)in((uint16_t)p, len);
			out((uint16_t)p, len, 0xFFFFFFFF);
		}
	for (unsigned i = 0; i < 0x20; i++) {
		dispi_out((uint16_t)i, 0xFFFF);
		(void)dispi_in((uint16_t)i);
	}
	refresh();
	dispi_out(4, 0);
	/* Text mode with every CRTC register at 0xFF and at 0. */
	for (unsigned v = 0; v < 2; v++) {
		set_cr(0x11, 0);
		for (unsigned i = 0; i < 0x19; i++)
			set_cr((uint8_t)i, v ? 0xFF : 0x00);
		refresh();
	}
	/* The whole legacy window, every size. */
	for (uint64_t a = 0xA0000; a < 0xC0000; a += 0x7FF)
		for (uint32_t len = 1; len <= 8; len *= 2) {
			mmio_write(a, len, 0x0720072007200720ull);
			(void)mmio_read(a, len);
		}
	refresh();
	/* Random memory-addressing registers (map mask, memory mode, read
	 * map, mode, memory map, character maps, character height), then a
	 * write and a read at every window offset: all stays in the planes
	 * (the sanitizer build checks), and the text screen renders. */
	{
		uint64_t r = 0x9E3779B97F4A7C15ull;

		for (unsigned round = 0; round < 12; round++) {
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			wseq(0x02, (uint8_t)r);
			wseq(0x04, (uint8_t)(r >> 8));
			wseq(0x03, (uint8_t)(r >> 16));
			wgfx(0x04, (uint8_t)(r >> 24));
			wgfx(0x05, (uint8_t)(r >> 32));
			/* Graphics bit clear, so the text renderer runs. */
			wgfx(0x06, (uint8_t)(r >> 40) & 0xFE);
			set_cr(0x09, (uint8_t)(r >> 48));
			for (uint64_t a = 0xA0000; a < 0xC0000; a++) {
				uint32_t len = 1u << (a % 4);

				mmio_write(a, len, r * a);
				(void)mmio_read(a, len);
			}
			refresh();
		}
		wseq(0x02, 0x03);
		wseq(0x03, 0x00);
		wseq(0x04, 0x02);
		wgfx(0x04, 0x00);
		wgfx(0x05, 0x10);
		wgfx(0x06, 0x0E);
		set_cr(0x09, 0x0F);
		put_cell(0, 'Q', 0x07);
		CHECK_EQ_U64(mmio_read(0xB8000, 2), 0x0751);
	}

	/* Sanity restored: a real mode shows again. */
	bochs_setmode(800, 600, 32);
	(void)in(0x3DA, 1);
	out(0x3C0, 1, 0x20);
	out(0x3C4, 1, 1);
	out(0x3C5, 1, 0x01);
	refresh();
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 800);
	CHECK_EQ_U64(h, 600);
}

static void test_bar_moves(void)
{
	uint64_t old = bar_addr(0), new_addr = 0xE0000000;
	uint8_t *vram = vga_vram(vga);
	struct vga_boot_info bi;

	CHECK(mmio_read(old, 4) != 0xDEADBEEFDEADBEEFull);
	cfg_write(PCI_BAR0, 4, (uint32_t)new_addr);
	CHECK_EQ_U64(bar_addr(0), new_addr);
	CHECK_EQ_U64(mmio_read(old, 4), 0xDEADBEEFDEADBEEFull);
	mmio_write(new_addr + 64, 4, 0x5A5A5A5A);
	CHECK_EQ_U64(((uint32_t *)vram)[16], 0x5A5A5A5A);
	vga_get_boot_info(vga, &bi);
	CHECK_EQ_U64(bi.lfb_base, new_addr);
	CHECK_EQ_U64(bi.lfb_size, VRAM);
	/* Memory decode off: unmapped. */
	cfg_write(PCI_COMMAND, 2, 0);
	CHECK_EQ_U64(mmio_read(new_addr + 64, 4), 0xDEADBEEFDEADBEEFull);
	vga_get_boot_info(vga, &bi);
	CHECK_EQ_U64(bi.lfb_base, 0);
	refresh();     /* the display goes on from host memory */
	cfg_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ_U64(mmio_read(new_addr + 64, 4), 0x5A5A5A5A);
	cfg_write(PCI_BAR0, 4, (uint32_t)old);
	CHECK_EQ_U64(mmio_read(old + 64, 4), 0x5A5A5A5A);
}

static void *loop_thread(void *arg)
{
	(void)arg;
	event_loop_run(loop);
	return NULL;
}

static bool damaged(int x, int y)
{
	bool r;

	pthread_mutex_lock(&watcher.mu);
	r = pixman_region32_contains_point(&watcher.damage, x, y, NULL);
	pthread_mutex_unlock(&watcher.mu);
	return r;
}

/* Poll (1 ms steps) until the refresh is back at its periodic pace. */
static bool wait_until_unboosted(int ms)
{
	for (int i = 0; i < ms; i++) {
		if (!vga_test_refresh_boosted(vga))
			return true;
		usleep(1000);
	}
	return false;
}

/* With the event loop running: timers do the refreshing. The loop can run
 * only once (its stop is final), so everything happens in one run. */
static void test_activity(void)
{
	int w, h;
	uint8_t *vram = vga_vram(vga);
	pthread_t t;

	CHECK(vga_test_refresh_active(vga));
	console_remove_listener(con, &watcher.l);
	CHECK(!vga_test_refresh_active(vga));
	console_input_activity(con);            /* nobody watches: no boost */
	CHECK(!vga_test_refresh_boosted(vga));
	pthread_create(&t, NULL, loop_thread, NULL);

	/* Idle: a mode change still reaches the console size soon. */
	bochs_setmode(640, 480, 32);
	usleep(200 * 1000);
	console_get_size(con, &w, &h);
	CHECK_EQ_U64(w, 640);
	CHECK_EQ_U64(h, 480);

	/* Watched: the refresh timer delivers damage on its own. */
	CHECK(console_add_listener(con, &watcher.l) == 0);
	CHECK(vga_test_refresh_active(vga));
	usleep(100 * 1000);
	pthread_mutex_lock(&watcher.mu);
	pixman_region32_clear(&watcher.damage);
	pthread_mutex_unlock(&watcher.mu);
	((uint32_t *)vram)[640 * 7 + 9] = 0x00ABCDEF;
	usleep(200 * 1000);
	CHECK(damaged(9, 7));
	CHECK(!damaged(300, 300));
	CHECK_EQ_U64(pixel(9, 7), 0xABCDEF);

	/* Viewer input: the refresh speeds up until the guest's reply shows. */
	CHECK(!vga_test_refresh_boosted(vga));
	console_input_activity(con);
	CHECK(vga_test_refresh_boosted(vga));
	((uint32_t *)vram)[640 * 20 + 30] = 0x00123456;
	CHECK(wait_until_unboosted(1000));
	CHECK(damaged(30, 20));
	CHECK_EQ_U64(pixel(30, 20), 0x123456);
	/* A vCPU-like writer racing the refresh. */
	for (int i = 0; i < 2000; i++) {
		dispi_out(9, (uint16_t)(i & 1));
		((uint32_t *)vram)[i] = (uint32_t)i;
	}
	dispi_out(9, 0);

	event_loop_stop(loop, 0);
	pthread_join(t, NULL);
}

static void test_boot_mode(void)
{
	struct vga_boot_info bi;

	vga_get_boot_info(vga, &bi);
	CHECK(bi.text);
	CHECK(vga_set_boot_mode(vga, 800, 600) == 0);
	vga_get_boot_info(vga, &bi);
	CHECK(!bi.text);
	CHECK_EQ_U64(bi.width, 800);
	CHECK_EQ_U64(bi.height, 600);
	CHECK_EQ_U64(bi.stride, 3200);
	CHECK_EQ_U64(bi.lfb_base, bar_addr(0));
	CHECK_EQ_U64(dispi_in(4), 0x41);
	CHECK(vga_set_boot_mode(vga, 8000, 8000) < 0);
	CHECK_EQ_U64(dispi_in(4), 0);
}

int main(void)
{
	struct vga_config cfg = { .vram_size = VRAM, .width = 1024, .height = 768 };
	struct vga *bad;

	log_max_level = LOG_ERR;
	vm.kvm_fd = vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	loop = event_loop_create();
	pci = pci_create(&vm);
	con = console_create("vga-test");
	CHECK(loop && pci && con);
	vga = vga_create(&vm, pci, loop, con, &cfg);
	CHECK(vga != NULL);
	if (!vga)
		return check_summary("test_vga");
	slot = vga_pci_device(vga)->slot;
	CHECK(slot > 0);

	/* A second adapter cannot take the same legacy ports. */
	bad = vga_create(&vm, pci, NULL, con, &cfg);
	CHECK(bad == NULL);
	cfg.vram_size = 5u << 20;
	CHECK(vga_create(&vm, pci, NULL, con, &cfg) == NULL);

	/* The blank text screen is there before anyone watches. */
	{
		int w, h;

		console_get_size(con, &w, &h);
		CHECK_EQ_U64(w, 640);
		CHECK_EQ_U64(h, 400);
	}
	pixman_region32_init(&watcher.damage);
	pthread_mutex_init(&watcher.mu, NULL);
	watcher.l.surface_changed = w_surface;
	watcher.l.damage = w_damage;
	watcher.l.opaque = &watcher;
	CHECK(!vga_test_refresh_active(vga));
	CHECK(console_add_listener(con, &watcher.l) == 0);
	CHECK(vga_test_refresh_active(vga));

	test_pci_identity();
	test_dispi_ports();
	test_dispi_mmio();
	test_edid();
	test_config_check();
	test_mode_set();
	test_formats();
	test_switch_race();
	test_text_mode();
	test_font_builtin();
	test_font_load();
	test_font_512();
	test_font_8line();
	test_mono_ports();
	test_bank_window();
	test_hostile();
	test_bar_moves();
	test_activity();
	test_boot_mode();

	console_remove_listener(con, &watcher.l);
	pixman_region32_fini(&watcher.damage);
	pci_destroy(pci);
	vga_destroy(vga);
	{
		int w, h;

		console_get_size(con, &w, &h);
		CHECK_EQ_U64(w, 0);
	}
	CHECK_EQ_U64(in(0x1CF, 2), 0xDEADBEEF);
	CHECK_EQ_U64(mmio_read(0xB8000, 2), 0xDEADBEEFDEADBEEFull);
	console_destroy(con);
	event_loop_destroy(loop);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	return check_summary("test_vga");
}
