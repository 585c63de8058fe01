// SPDX-License-Identifier: MIT
/*
 * Standard VGA with the Bochs VBE ("DISPI") extension, as QEMU's -vga std
 * (see vga.h). Register semantics follow what Linux's bochs DRM driver,
 * vgacon and QEMU's VGA BIOS rely on; references: the IBM VGA technical
 * reference, FreeVGA, and the Bochs VBE interface (vbe_display_api.txt).
 *
 * The picture is produced in update(), always under the adapter lock:
 * registers are only recorded by the port and MMIO handlers, and update()
 * compares what they ask for with what the console shows now (struct
 * output), replacing the surface when the mode changed and otherwise
 * reporting damage.
 *
 * VGA memory is four 64 KiB planes, apart from the DISPI VRAM: plane 0
 * holds the text characters, plane 1 the attributes, plane 2 the fonts
 * (eight 8 KiB character maps; the 8x16 font is loaded into map 0 at
 * reset, as a VGA BIOS does), plane 3 nothing we show. The CPU reaches
 * them through 0xA0000-0xBFFFF as the Graphics Controller's memory map
 * (GR6 bits 2-3) decodes it: A0000 128K, A0000 64K, B0000 32K or B8000
 * 32K; other addresses read 0xFF and ignore writes. Within the map:
 *  - odd/even (SR4 bit 2 clear for writes, GR5 bit 4 set for reads): CPU
 *    address bit 0 selects plane 0 or 1 (2 or 3 with GR4 bit 1 on reads;
 *    writes go to the planes of that parity that SR2 enables), at the
 *    address with bit 0 cleared: the text buffer at 0xB8000, character i
 *    at offset 2i of planes 0 and 1;
 *  - chain 4 (SR4 bit 3): address bits 0-1 select the plane;
 *  - sequential: writes go to every plane SR2 enables, reads come from
 *    plane GR4, at the same offset: how vgacon (and a BIOS) loads fonts.
 * Only write mode 0 without set/reset, rotation, logical operations or
 * bit mask, and read mode 0, are modelled: all a text console needs
 * (there are no latches, and planar graphics modes are not shown). The
 * odd/even page bit (Misc Output bit 5) is ignored. While DISPI is
 * enabled, 0xA0000-0xAFFFF is instead the 64 KiB bank into VRAM.
 *
 * Text rendering takes its glyphs from plane 2 (SR3 chooses the two maps;
 * attribute bit 3 picks between them when they differ), the cell height
 * from CRTC register 9, so a font a guest loads (setfont, vgacon's
 * KDFONTOP) is what the console shows. A per-8 KiB generation counter of
 * plane 2, bumped only when a write changes a byte, tells the renderer to
 * redraw after a font change and lets it skip identical rewrites.
 *
 * Misc Output bit 0 moves the CRTC and input status 1 between 0x3D4/0x3D5/
 * 0x3DA (colour, the reset state) and 0x3B4/0x3B5/0x3BA (monochrome); the
 * inactive ones read 0xFF and ignore writes, as on a real VGA.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../log.h"
#include "display/dirty.h"
#include "display/font.h"
#include "display/text.h"
#include "vga.h"

/* --- register definitions ------------------------------------------------- */

#define PORT_DISPI_INDEX 0x1CE      /* 16-bit index at 0x1CE, data at 0x1CF */
#define PORT_DISPI_LEN   3          /* a word access at 0x1CF ends at 0x1D0 */
#define PORT_VGA_BASE    0x3C0
#define PORT_VGA_LEN     0x20
/* Monochrome CRTC 0x3B4/0x3B5 and input status 1 0x3BA (not 0x3BC-0x3BE:
 * the parallel port's). */
#define PORT_MONO_BASE   0x3B4
#define PORT_MONO_LEN    7

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
#define DISPI_NREGS       0xB

#define DISPI_ID0 0xB0C0
#define DISPI_ID5 0xB0C5

#define DISPI_ENABLED     0x01
#define DISPI_GETCAPS     0x02
#define DISPI_8BIT_DAC    0x20
#define DISPI_LFB_ENABLED 0x40
#define DISPI_NOCLEARMEM  0x80

#define DISPI_MAX_BPP 32
/* Widest virtual line: keeps strides within what the dirty tracker takes. */
#define DISPI_MAX_VIRT_WIDTH 16384

/* BAR2 layout (QEMU's "vga-pci" MMIO BAR). */
#define BAR2_SIZE       0x1000
#define BAR2_EDID       0x000
#define BAR2_EDID_SIZE  0x100
#define BAR2_VGA        0x400
#define BAR2_VGA_SIZE   0x20
#define BAR2_DISPI      0x500
#define BAR2_DISPI_SIZE (DISPI_NREGS * 2)
#define BAR2_QEXT       0x600
#define BAR2_QEXT_SIZE  8
#define QEXT_BYTEORDER_LE 0x1e1e1e1eu
#define QEXT_BYTEORDER_BE 0xbebebebeu

/* The legacy window: VGA planes as GR6 maps them, or the DISPI bank. */
#define WIN_BASE       MEM_VGA_WINDOW_START
#define WIN_SIZE       (MEM_VGA_WINDOW_END - MEM_VGA_WINDOW_START)
#define WIN_BANK_SIZE  0x10000
#define TEXT_BUF_SIZE  0x8000       /* the 0xB8000 map */
#define TEXT_CELLS     (TEXT_BUF_SIZE / 2)

/* VGA memory: four planes. */
#define VGA_PLANES     4
#define PLANE_SIZE     0x10000u
#define PLANE_CHARS    0
#define PLANE_ATTRS    1
#define PLANE_FONT     2
#define FONT_MAP_SIZE  0x2000u      /* 256 glyphs of 32 bytes */
#define FONT_CHUNKS    (PLANE_SIZE / FONT_MAP_SIZE)

/* VGA register indices we interpret. */
#define MISC_IO_COLOR  0x01   /* Misc Output: CRTC at 0x3Dx, else 0x3Bx */
#define SR_CLOCKING    0x01   /* bit 0: 8-dot chars, bit 5: screen off */
#define SR_MAP_MASK    0x02   /* bits 0-3: planes CPU writes go to */
#define SR_CHAR_MAP    0x03   /* font maps: A bits 5,3,2; B bits 4,1,0 */
#define SR_MEMORY_MODE 0x04
#define SR4_SEQUENTIAL 0x04   /* odd/even disabled */
#define SR4_CHAIN4     0x08
#define GR_READ_MAP    0x04   /* bits 0-1: plane CPU reads come from */
#define GR_MODE        0x05
#define GR5_ODD_EVEN   0x10   /* host odd/even reads */
#define GR_MISC        0x06   /* bit 0: graphics mode, bits 2-3: memory map */
#define CR_H_DISP_END  0x01
#define CR_OVERFLOW    0x07
#define CR_MAX_SCAN    0x09
#define CR_CURSOR_START 0x0A
#define CR_CURSOR_END  0x0B
#define CR_START_HI    0x0C
#define CR_START_LO    0x0D
#define CR_CURSOR_HI   0x0E
#define CR_CURSOR_LO   0x0F
#define CR_V_SYNC_END  0x11   /* bit 7: protect CR0-CR7 */
#define CR_V_DISP_END  0x12
#define CR_OFFSET      0x13
#define AR_MODE        0x10   /* bit 2 line graphics, bit 3 blink, bit 7 P54S */
#define AR_PLANE_ENABLE 0x12  /* bits 0-3 mask the colour before the palette */
#define AR_COLOR_SELECT 0x14
#define AR_NREGS       0x15
#define AR_PAS         0x20   /* in the index: palette address source = display on */

#define ST01_DISP_ENABLE 0x01
#define ST01_V_RETRACE   0x08

#define REFRESH_NS (1000000000ull / VGA_REFRESH_HZ)
/* After input from a viewer, refresh this often until the picture changes
 * (the guest's reply) or BOOST_MAX_NS pass: typing and pointing show
 * within milliseconds, not within a 33 ms tick. */
#define BOOST_NS      4000000ull
#define BOOST_MAX_NS  100000000ull
#define MODE_APPLY_NS 20000000ull   /* apply a mode change seen while idle */
#define BLINK_HALF_NS 500000000ull  /* 1 s blink period */

#define PAGE_SIZE_4K 4096ull

enum out_kind {
	OUT_NONE,       /* nothing decided yet */
	OUT_OFF,        /* no picture: bad mode, planar VGA graphics */
	OUT_TEXT,
	OUT_GFX,        /* DISPI mode, aliased or converted */
	OUT_GFX_BLANK,  /* DISPI mode with the display turned off: black */
};

struct gfx_geom {
	int width, height;
	int bpp, bytespp;
	size_t stride, offset;
	bool big_endian;
};

struct vga {
	struct vm *vm;
	struct pci_bus *pci;
	struct event_loop *loop;
	struct console *con;
	struct pci_device dev;
	pthread_mutex_t lock;
	bool ports_registered, dispi_registered, window_registered;
	bool mono_registered;

	/* VRAM: vram_size bytes between two inaccessible guard pages. */
	uint8_t *vram_map;
	size_t vram_map_size;
	uint8_t *vram;
	uint64_t vram_size;
	size_t npages;
	int slot;                   /* KVM slot of BAR0, or -1 */
	uint64_t bar0_addr;         /* where BAR0 is decoded, 0: nowhere */
	bool bar0_mmio;             /* decoded as an MMIO callback range */
	bool force_full;            /* compare the whole frame next refresh */
	uint64_t *dirty_log;        /* npages bits, from KVM */
	uint64_t *soft_dirty;       /* npages bits, VRAM written by us */

	/* Bochs VBE. */
	uint16_t dispi_index;
	uint16_t dispi[DISPI_NREGS];
	bool big_endian;            /* QEMU ext byte order register */

	/* VGA. */
	uint8_t misc, fcr, st01;
	uint8_t sr_index, sr[8];
	uint8_t gr_index, gr[16];
	uint8_t cr_index, cr[256];
	uint8_t ar_index, ar[32];
	bool ar_flip_flop;
	uint8_t dac_read_index, dac_write_index, dac_sub, dac_state;
	uint8_t dac_cache[3], pel_mask;
	uint8_t dac[768];
	unsigned palette_gen;       /* bumped on every DAC or palette write */
	/* Allocated on its own: a stray index would leave the allocation
	 * (and the sanitizer build would catch it), not hit a neighbour. */
	uint8_t (*planes)[PLANE_SIZE];
	/* Per 8 KiB of plane 2: bumped when a write changes a byte. */
	uint64_t font_gen[FONT_CHUNKS];

	uint8_t edid[128];
	bool boot_mode;

	/* What the console shows. */
	enum out_kind out;
	struct gfx_geom geom;
	bool alias;                 /* surface aliases VRAM (else converted) */
	unsigned shown_palette_gen;
	struct dirty_tracker *tracker;
	struct text_renderer *tr;
	uint16_t cells[TEXT_MAX_COLS * TEXT_MAX_ROWS];

	struct event_timer *refresh_timer, *mode_timer;
	bool active;
	bool boosted;           /* refreshing every BOOST_NS */
	uint64_t boost_until;   /* clock_ns() */
	bool mode_timer_armed;
	int blink_override;         /* -1: clock */
};

/* --- small helpers ------------------------------------------------------------ */

static uint64_t get_le(const uint8_t *d, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len && i < 8; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *d, uint32_t len, uint64_t v)
{
	for (uint32_t i = 0; i < len; i++)
		d[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Bytes per pixel of a DISPI depth, 0 if we cannot show it. */
static int bpp_bytes(unsigned bpp)
{
	switch (bpp) {
	case 8:
		return 1;
	case 15:
	case 16:
		return 2;
	case 24:
		return 3;
	case 32:
		return 4;
	default:
		return 0;
	}
}

/* 6- or 8-bit DAC value -> 8 bits. */
static uint32_t dac_to_8(const struct vga *v, uint8_t c)
{
	if (v->dispi[DISPI_ENABLE] & DISPI_8BIT_DAC)
		return c;
	c &= 0x3f;
	return (uint32_t)(c << 2 | c >> 4);
}

static uint32_t dac_rgb(const struct vga *v, unsigned idx)
{
	const uint8_t *p = v->dac + 3 * (idx & 0xff);

	return dac_to_8(v, p[0]) << 16 | dac_to_8(v, p[1]) << 8 | dac_to_8(v, p[2]);
}

/* Record that VRAM [off, off + len) changed behind KVM's back. */
static void mark_dirty(struct vga *v, uint64_t off, uint64_t len)
{
	if (!len || off >= v->vram_size)
		return;
	if (len > v->vram_size - off)
		len = v->vram_size - off;
	for (uint64_t p = off / PAGE_SIZE_4K; p <= (off + len - 1) / PAGE_SIZE_4K; p++)
		v->soft_dirty[p / 64] |= 1ull << (p % 64);
}

/* A register change that may change the picture's geometry: make sure it
 * is applied soon even if nobody watches, so the console size is right. */
static void note_mode_change(struct vga *v)
{
	if (v->active || !v->mode_timer || v->mode_timer_armed)
		return;
	v->mode_timer_armed = true;
	event_timer_arm(v->mode_timer, MODE_APPLY_NS, 0);
}

/* --- Bochs VBE (DISPI) ----------------------------------------------------- */

static uint16_t dispi_virt_width(const struct vga *v)
{
	uint16_t vw = v->dispi[DISPI_VIRT_WIDTH];

	return vw > v->dispi[DISPI_XRES] ? vw : v->dispi[DISPI_XRES];
}

static uint16_t dispi_virt_height(const struct vga *v)
{
	int b = bpp_bytes(v->dispi[DISPI_BPP]);
	uint64_t line = (uint64_t)dispi_virt_width(v) * (uint64_t)(b ? b : 1);
	uint64_t h;

	if (!line)
		return 0;
	h = v->vram_size / line;
	return h > 0xFFFF ? 0xFFFF : (uint16_t)h;
}

static uint16_t dispi_read(struct vga *v, unsigned idx)
{
	if (idx >= DISPI_NREGS)
		return 0;
	if (v->dispi[DISPI_ENABLE] & DISPI_GETCAPS) {
		if (idx == DISPI_XRES)
			return VGA_MAX_XRES;
		if (idx == DISPI_YRES)
			return VGA_MAX_YRES;
		if (idx == DISPI_BPP)
			return DISPI_MAX_BPP;
	}
	switch (idx) {
	case DISPI_VIRT_WIDTH:
		return dispi_virt_width(v);
	case DISPI_VIRT_HEIGHT:
		return dispi_virt_height(v);
	case DISPI_VIDEO_MEMORY_64K:
		return (uint16_t)(v->vram_size >> 16);
	default:
		return v->dispi[idx];
	}
}

/* Zero the visible frame of the mode being enabled, bounded by VRAM. */
static void dispi_clear(struct vga *v)
{
	int b = bpp_bytes(v->dispi[DISPI_BPP]);
	uint64_t len = (uint64_t)dispi_virt_width(v) * (uint64_t)(b ? b : 1) *
		       v->dispi[DISPI_YRES];

	if (len > v->vram_size)
		len = v->vram_size;
	memset(v->vram, 0, len);
	mark_dirty(v, 0, len);
}

static void dispi_write(struct vga *v, unsigned idx, uint16_t val)
{
	switch (idx) {
	case DISPI_ID:
		/* The guest negotiates by writing an ID and reading it back. */
		if (val >= DISPI_ID0 && val <= DISPI_ID5)
			v->dispi[DISPI_ID] = val;
		break;
	case DISPI_XRES:
	case DISPI_YRES:
	case DISPI_BPP:
	case DISPI_VIRT_WIDTH:
	case DISPI_X_OFFSET:
	case DISPI_Y_OFFSET:
		/* Kept as written; validated against VRAM when displayed. */
		v->dispi[idx] = val;
		break;
	case DISPI_BANK:
		/* 64 KiB banks; VRAM is a power of two of at least 4 MiB. */
		v->dispi[DISPI_BANK] = val & (uint16_t)((v->vram_size >> 16) - 1);
		break;
	case DISPI_ENABLE:
		if ((val & DISPI_ENABLED) &&
		    !(v->dispi[DISPI_ENABLE] & DISPI_ENABLED)) {
			/* As QEMU: enabling starts unpanned with the virtual
			 * width following xres (the VGA BIOS relies on it). */
			v->dispi[DISPI_VIRT_WIDTH] = 0;
			v->dispi[DISPI_X_OFFSET] = 0;
			v->dispi[DISPI_Y_OFFSET] = 0;
			if (!(val & DISPI_NOCLEARMEM))
				dispi_clear(v);
		}
		if ((val ^ v->dispi[DISPI_ENABLE]) & DISPI_8BIT_DAC)
			v->palette_gen++;   /* DAC values are read differently */
		v->dispi[DISPI_ENABLE] = val;
		break;
	default:
		/* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only. */
		return;
	}
	note_mode_change(v);
}

/*
 * The DISPI mode as a framebuffer inside VRAM, or false if it cannot be
 * shown. Every product is computed in 64 bits from 16-bit registers, so
 * nothing overflows.
 */
static bool dispi_geom(const struct vga *v, struct gfx_geom *g)
{
	uint64_t w = v->dispi[DISPI_XRES], h = v->dispi[DISPI_YRES];
	uint64_t vw = dispi_virt_width(v), b, stride, offset, end;

	memset(g, 0, sizeof(*g));
	g->bpp = v->dispi[DISPI_BPP];
	g->bytespp = bpp_bytes(v->dispi[DISPI_BPP]);
	b = (uint64_t)g->bytespp;
	if (!b || !w || !h || w > VGA_MAX_XRES || h > VGA_MAX_YRES ||
	    vw > DISPI_MAX_VIRT_WIDTH)
		return false;
	stride = vw * b;
	offset = v->dispi[DISPI_Y_OFFSET] * stride + v->dispi[DISPI_X_OFFSET] * b;
	end = offset + (h - 1) * stride + w * b;
	if (end > v->vram_size)
		return false;
	g->width = (int)w;
	g->height = (int)h;
	g->stride = (size_t)stride;
	g->offset = (size_t)offset;
	g->big_endian = v->big_endian && g->bpp == 32;
	return true;
}

/* --- VGA registers ------------------------------------------------------------ */

static void ar_write(struct vga *v, uint8_t val)
{
	unsigned idx;

	if (!v->ar_flip_flop) {
		if ((val ^ v->ar_index) & AR_PAS)
			note_mode_change(v);
		v->ar_index = val & 0x3f;
		v->ar_flip_flop = true;
		return;
	}
	v->ar_flip_flop = false;
	idx = v->ar_index & 0x1f;
	if (idx >= AR_NREGS)
		return;
	if (idx < 16)
		val &= 0x3f;
	v->ar[idx] = val;
	v->palette_gen++;
}

static void dac_write_data(struct vga *v, uint8_t val)
{
	v->dac_cache[v->dac_sub++] = val;
	if (v->dac_sub < 3)
		return;
	memcpy(v->dac + 3 * v->dac_write_index, v->dac_cache, 3);
	v->dac_sub = 0;
	v->dac_write_index++;   /* wraps at 256 like the hardware */
	v->palette_gen++;
}

static uint8_t dac_read_data(struct vga *v)
{
	uint8_t val = v->dac[3 * v->dac_read_index + v->dac_sub];

	if (++v->dac_sub == 3) {
		v->dac_sub = 0;
		v->dac_read_index++;
	}
	return val;
}

static void cr_write(struct vga *v, uint8_t val)
{
	uint8_t idx = v->cr_index;

	/* CR11 bit 7 write-protects CR0-CR7, except CR7 bit 4. */
	if (idx <= CR_OVERFLOW && (v->cr[CR_V_SYNC_END] & 0x80)) {
		if (idx == CR_OVERFLOW)
			v->cr[idx] = (uint8_t)((v->cr[idx] & ~0x10) | (val & 0x10));
		return;
	}
	v->cr[idx] = val;
	if (idx == CR_H_DISP_END || idx == CR_OVERFLOW || idx == CR_MAX_SCAN ||
	    idx == CR_V_DISP_END)
		note_mode_change(v);
}

/*
 * The CRTC and input status 1 answer at 0x3Dx while Misc Output bit 0 is
 * set (colour), at 0x3Bx while it is clear (monochrome). The port an
 * access to port means in colour numbering, or 0 if nothing answers.
 */
static unsigned crtc_alias(const struct vga *v, unsigned port)
{
	bool color = v->misc & MISC_IO_COLOR;

	if (port >= 0x3B0 && port < 0x3C0)
		return color ? 0 : port + 0x20;
	if (port >= 0x3D0 && port < 0x3E0)
		return color ? port : 0;
	return port;
}

static void vga_port_write(struct vga *v, unsigned port, uint8_t val)
{
	switch (crtc_alias(v, port)) {
	case 0x3C0:
		ar_write(v, val);
		break;
	case 0x3C2:
		v->misc = val;
		break;
	case 0x3C4:
		v->sr_index = val & 7;
		break;
	case 0x3C5:
		v->sr[v->sr_index] = val;
		if (v->sr_index == SR_CLOCKING)
			note_mode_change(v);
		break;
	case 0x3C6:
		v->pel_mask = val;
		break;
	case 0x3C7:
		v->dac_read_index = val;
		v->dac_sub = 0;
		v->dac_state = 3;
		break;
	case 0x3C8:
		v->dac_write_index = val;
		v->dac_sub = 0;
		v->dac_state = 0;
		break;
	case 0x3C9:
		dac_write_data(v, val);
		break;
	case 0x3CE:
		v->gr_index = val & 0x0f;
		break;
	case 0x3CF:
		v->gr[v->gr_index] = val;
		if (v->gr_index == GR_MISC)
			note_mode_change(v);
		break;
	case 0x3D4:
		v->cr_index = val;
		break;
	case 0x3D5:
		cr_write(v, val);
		break;
	case 0x3DA:
		v->fcr = val;
		break;
	default:
		break;
	}
}

static uint8_t vga_port_read(struct vga *v, unsigned port)
{
	switch (crtc_alias(v, port)) {
	case 0x3C0:
		return v->ar_index;
	case 0x3C1:
		return (v->ar_index & 0x1f) < AR_NREGS ? v->ar[v->ar_index & 0x1f] : 0;
	case 0x3C2:
		return 0;       /* input status 0: no switch sense, no IRQ */
	case 0x3C4:
		return v->sr_index;
	case 0x3C5:
		return v->sr[v->sr_index];
	case 0x3C6:
		return v->pel_mask;
	case 0x3C7:
		return v->dac_state;
	case 0x3C8:
		return v->dac_write_index;
	case 0x3C9:
		return dac_read_data(v);
	case 0x3CA:
		return v->fcr;
	case 0x3CC:
		return v->misc;
	case 0x3CE:
		return v->gr_index;
	case 0x3CF:
		return v->gr[v->gr_index];
	case 0x3D4:
		return v->cr_index;
	case 0x3D5:
		return v->cr[v->cr_index];
	case 0x3DA:
		/* Input status 1: pretend retrace comes and goes so polling
		 * loops end; reading it resets the attribute flip-flop. */
		v->st01 ^= ST01_V_RETRACE | ST01_DISP_ENABLE;
		v->ar_flip_flop = false;
		return v->st01;
	default:
		return 0xff;
	}
}

/* The state after a VGA BIOS set mode 3 (80x25 colour text), but with
 * 8-dot characters: a 640x400 console. */
static void vga_reset(struct vga *v)
{
	static const uint8_t sr[5] = { 0x03, 0x01, 0x03, 0x00, 0x02 };
	static const uint8_t gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E,
				       0x0F, 0xFF };
	static const uint8_t cr[25] = {
		0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F,
		0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28,
		0x1F, 0x96, 0xB9, 0xA3, 0xFF,
	};
	static const uint8_t ar[AR_NREGS] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39,
		0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08,
		0x00,
	};

	v->misc = 0x67;
	memcpy(v->sr, sr, sizeof(sr));
	memcpy(v->gr, gr, sizeof(gr));
	memcpy(v->cr, cr, sizeof(cr));
	memcpy(v->ar, ar, sizeof(ar));
	v->ar_index = AR_PAS;
	v->pel_mask = 0xff;
	/* The 64 EGA colours: bits 0-2 are 2/3 intensity blue, green, red,
	 * bits 3-5 the 1/3 intensity ones. */
	for (unsigned i = 0; i < 64; i++) {
		v->dac[3 * i + 0] = (uint8_t)(((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15);
		v->dac[3 * i + 1] = (uint8_t)(((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15);
		v->dac[3 * i + 2] = (uint8_t)(((i >> 0) & 1) * 0x2a + ((i >> 3) & 1) * 0x15);
	}
	v->dispi[DISPI_ID] = DISPI_ID5;
	v->dispi[DISPI_BPP] = 8;
	v->big_endian = false;
	/* The BIOS's font in character map 0 (32 bytes a glyph). */
	memset(v->planes[PLANE_FONT], 0, PLANE_SIZE);
	for (unsigned ch = 0; ch < TEXT_FONT_GLYPHS; ch++)
		memcpy(v->planes[PLANE_FONT] + ch * TEXT_FONT_STRIDE,
		       vga_font_8x16[ch], VGA_FONT_HEIGHT);
	for (unsigned i = 0; i < FONT_CHUNKS; i++)
		v->font_gen[i]++;
}

/* --- I/O handlers ------------------------------------------------------------ */

static void dispi_port_io(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct vga *v = opaque;
	uint16_t val = (uint16_t)get_le(data, len > 2 ? 2 : len);

	pthread_mutex_lock(&v->lock);
	if (offset == 0) {
		if (is_write)
			v->dispi_index = val;
		else
			put_le(data, len, v->dispi_index);
	} else if (offset == 1) {
		if (is_write)
			dispi_write(v, v->dispi_index, val);
		else
			put_le(data, len, dispi_read(v, v->dispi_index));
	} else if (!is_write) {
		memset(data, 0xff, len);
	}
	pthread_mutex_unlock(&v->lock);
}

static void vga_port_io(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	/* A word access to an index port writes index then data (out dx, ax). */
	for (uint32_t i = 0; i < len; i++) {
		unsigned port = PORT_VGA_BASE + (unsigned)((offset + i) % PORT_VGA_LEN);

		if (is_write)
			vga_port_write(v, port, data[i]);
		else
			data[i] = vga_port_read(v, port);
	}
	pthread_mutex_unlock(&v->lock);
}

/* 0x3B4-0x3BA: the monochrome CRTC and input status 1 (see crtc_alias). */
static void mono_port_io(void *opaque, uint64_t offset, uint8_t *data,
			 uint32_t len, bool is_write)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	for (uint32_t i = 0; i < len; i++) {
		/* Past 0x3BA: ports nothing of ours answers (0xFF). */
		uint64_t o = offset + i;
		unsigned port = o < PORT_MONO_LEN ? PORT_MONO_BASE + (unsigned)o : 0;

		if (is_write)
			vga_port_write(v, port, data[i]);
		else
			data[i] = vga_port_read(v, port);
	}
	pthread_mutex_unlock(&v->lock);
}

/* DISPI registers as 16-bit little-endian words at BAR2 + 0x500, any access
 * size and alignment: a partial write merges into the register. */
static void bar2_dispi(struct vga *v, unsigned off, uint8_t *data,
		       uint32_t len, bool is_write)
{
	for (uint32_t i = 0; i < len;) {
		unsigned o = off + i, reg = o / 2;
		uint16_t cur = reg < DISPI_NREGS ? v->dispi[reg] : 0;

		if (!is_write) {
			data[i] = (uint8_t)(dispi_read(v, reg) >> (8 * (o & 1)));
			i++;
			continue;
		}
		if (o & 1) {
			cur = (uint16_t)((cur & 0x00ff) | data[i] << 8);
			i++;
		} else if (i + 1 < len) {
			cur = (uint16_t)(data[i] | data[i + 1] << 8);
			i += 2;
		} else {
			cur = (uint16_t)((cur & 0xff00) | data[i]);
			i++;
		}
		if (reg < DISPI_NREGS)
			dispi_write(v, reg, cur);
	}
}

static void bar2_qext(struct vga *v, unsigned off, uint8_t *data,
		      uint32_t len, bool is_write)
{
	uint8_t regs[BAR2_QEXT_SIZE];
	uint32_t order;

	put_le(regs, 4, BAR2_QEXT_SIZE);
	put_le(regs + 4, 4, v->big_endian ? QEXT_BYTEORDER_BE : QEXT_BYTEORDER_LE);
	if (!is_write) {
		for (uint32_t i = 0; i < len; i++)
			data[i] = off + i < BAR2_QEXT_SIZE ? regs[off + i] : 0;
		return;
	}
	for (uint32_t i = 0; i < len; i++)
		if (off + i >= 4 && off + i < BAR2_QEXT_SIZE)
			regs[off + i] = data[i];
	order = (uint32_t)get_le(regs + 4, 4);
	if (order == QEXT_BYTEORDER_LE || order == QEXT_BYTEORDER_BE) {
		if (v->big_endian != (order == QEXT_BYTEORDER_BE))
			note_mode_change(v);
		v->big_endian = order == QEXT_BYTEORDER_BE;
	}
}

static void bar2_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		    bool is_write)
{
	struct vga *v = opaque;
	unsigned off = (unsigned)offset;

	if (!is_write)
		memset(data, 0, len);
	if (offset >= BAR2_SIZE || len > 8 || offset + len > BAR2_SIZE)
		return;
	pthread_mutex_lock(&v->lock);
	for (uint32_t i = 0; i < len;) {
		unsigned o = off + i, base, size, n;

		if (o < BAR2_EDID + BAR2_EDID_SIZE) {
			base = BAR2_EDID;
			size = BAR2_EDID_SIZE;
		} else if (o >= BAR2_VGA && o < BAR2_VGA + BAR2_VGA_SIZE) {
			base = BAR2_VGA;
			size = BAR2_VGA_SIZE;
		} else if (o >= BAR2_DISPI && o < BAR2_DISPI + BAR2_DISPI_SIZE) {
			base = BAR2_DISPI;
			size = BAR2_DISPI_SIZE;
		} else if (o >= BAR2_QEXT && o < BAR2_QEXT + BAR2_QEXT_SIZE) {
			base = BAR2_QEXT;
			size = BAR2_QEXT_SIZE;
		} else {
			i++;    /* a hole: reads 0, writes ignored */
			continue;
		}
		/* The part of the access inside this region. */
		n = base + size - o;
		if (n > len - i)
			n = len - i;
		switch (base) {
		case BAR2_EDID:
			if (!is_write)
				for (unsigned k = 0; k < n; k++)
					data[i + k] = o - base + k < sizeof(v->edid) ?
						      v->edid[o - base + k] : 0;
			break;
		case BAR2_VGA:
			for (unsigned k = 0; k < n; k++) {
				unsigned port = PORT_VGA_BASE + o - base + k;

				if (is_write)
					vga_port_write(v, port, data[i + k]);
				else
					data[i + k] = vga_port_read(v, port);
			}
			break;
		case BAR2_DISPI:
			bar2_dispi(v, o - base, data + i, n, is_write);
			break;
		case BAR2_QEXT:
			bar2_qext(v, o - base, data + i, n, is_write);
			break;
		}
		i += n;
	}
	pthread_mutex_unlock(&v->lock);
}

/* Guest access to VRAM at byte off (through the bank window or the BAR0
 * MMIO fallback): bounds-checked, and recorded as dirty. */
static void vram_access(struct vga *v, uint64_t off, uint8_t *data,
			uint32_t len, bool is_write)
{
	if (off >= v->vram_size || len > v->vram_size - off) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write) {
		memcpy(v->vram + off, data, len);
		mark_dirty(v, off, len);
	} else {
		memcpy(data, v->vram + off, len);
	}
}

/*
 * The offset into the planes that window offset woff (0 = 0xA0000) decodes
 * to under the GR6 memory map, or false if the map leaves it undecoded.
 * The 128 KiB map wraps at the 64 KiB planes.
 */
static bool window_decode(const struct vga *v, uint32_t woff, uint32_t *off)
{
	switch ((v->gr[GR_MISC] >> 2) & 3) {
	case 0:                         /* A0000, 128 KiB */
		break;
	case 1:                         /* A0000, 64 KiB */
		if (woff >= 0x10000)
			return false;
		break;
	case 2:                         /* B0000, 32 KiB */
		if (woff < 0x10000 || woff >= 0x18000)
			return false;
		woff -= 0x10000;
		break;
	default:                        /* B8000, 32 KiB */
		if (woff < 0x18000)
			return false;
		woff -= 0x18000;
		break;
	}
	*off = woff & (PLANE_SIZE - 1);
	return true;
}

/* Write mode 0, no set/reset, rotation, logic or bit mask: val lands in
 * the enabled planes at offset off. */
static void plane_writeb(struct vga *v, uint32_t off, uint8_t val)
{
	unsigned mask = v->sr[SR_MAP_MASK] & 0x0f;

	if (v->sr[SR_MEMORY_MODE] & SR4_CHAIN4) {
		mask &= 1u << (off & 3);
		off &= ~3u;
	} else if (!(v->sr[SR_MEMORY_MODE] & SR4_SEQUENTIAL)) {
		mask &= (off & 1) ? 0x0a : 0x05;
		off &= ~1u;
	}
	off &= PLANE_SIZE - 1;
	for (unsigned p = 0; p < VGA_PLANES; p++) {
		if (!(mask & (1u << p)))
			continue;
		/* Only a real change of a glyph byte makes the text redraw. */
		if (p == PLANE_FONT && v->planes[p][off] != val)
			v->font_gen[off / FONT_MAP_SIZE]++;
		v->planes[p][off] = val;
	}
}

/* Read mode 0: the byte of the plane the read map (or the address, in
 * odd/even and chain 4) selects. */
static uint8_t plane_readb(const struct vga *v, uint32_t off)
{
	unsigned plane = v->gr[GR_READ_MAP] & 3;

	if (v->sr[SR_MEMORY_MODE] & SR4_CHAIN4) {
		plane = off & 3;
		off &= ~3u;
	} else if (v->gr[GR_MODE] & GR5_ODD_EVEN) {
		plane = (plane & 2) | (off & 1);
		off &= ~1u;
	}
	return v->planes[plane][off & (PLANE_SIZE - 1)];
}

static void window_io(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len, bool is_write)
{
	struct vga *v = opaque;

	if (offset >= WIN_SIZE || len > WIN_SIZE - offset) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&v->lock);
	if ((v->dispi[DISPI_ENABLE] & DISPI_ENABLED) && offset < WIN_BANK_SIZE) {
		uint64_t bank = (uint64_t)v->dispi[DISPI_BANK] << 16;

		if (offset + len <= WIN_BANK_SIZE)
			vram_access(v, bank + offset, data, len, is_write);
		else if (!is_write)
			memset(data, 0xff, len);   /* straddles the bank's end */
		pthread_mutex_unlock(&v->lock);
		return;
	}
	/* The planes, a byte at a time (a word write is two bytes, each
	 * going to its plane in odd/even mode). */
	for (uint32_t i = 0; i < len; i++) {
		uint32_t off;

		if (!window_decode(v, (uint32_t)offset + i, &off)) {
			if (!is_write)
				data[i] = 0xff;
		} else if (is_write) {
			plane_writeb(v, off, data[i]);
		} else {
			data[i] = plane_readb(v, off);
		}
	}
	pthread_mutex_unlock(&v->lock);
}

static void vram_mmio(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len, bool is_write)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	vram_access(v, offset, data, len, is_write);
	pthread_mutex_unlock(&v->lock);
}

/* --- BAR0: the VRAM slot ------------------------------------------------------ */

static void vram_unmap(struct vga *v)
{
	if (v->slot >= 0)
		vm_unmap_memory(v->vm, v->slot);
	if (v->bar0_mmio)
		bus_unregister(&v->vm->mmio, v->bar0_addr, v);
	v->slot = -1;
	v->bar0_mmio = false;
	v->bar0_addr = 0;
}

static int vram_map(struct vga *v, uint64_t addr)
{
	vram_unmap(v);
	if (v->vm->vm_fd >= 0)
		v->slot = vm_map_memory(v->vm, addr, v->vram_size, v->vram,
					KVM_MEM_LOG_DIRTY_PAGES);
	if (v->slot < 0) {
		/* Slow but correct: every guest access exits to us. */
		if (bus_register(&v->vm->mmio, addr, v->vram_size, vram_mmio, v,
				 "vga-vram") < 0)
			return -1;
		v->bar0_mmio = true;
		if (v->vm->vm_fd >= 0)
			log_once(LOG_WARN, "vga: VRAM is not a KVM slot: slow MMIO");
	}
	v->bar0_addr = addr;
	/* A new slot starts with an empty dirty log. */
	v->force_full = true;
	return 0;
}

static int bar_remap(struct pci_device *dev, int bar, uint64_t old_addr,
		     uint64_t new_addr)
{
	struct vga *v = dev->opaque;
	int ret = 0;

	(void)old_addr;
	if (bar != 0)
		return -1;
	pthread_mutex_lock(&v->lock);
	if (new_addr)
		ret = vram_map(v, new_addr);
	else
		vram_unmap(v);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/* --- output --------------------------------------------------------------------- */

static bool blanked(const struct vga *v)
{
	return !(v->ar_index & AR_PAS) || (v->sr[SR_CLOCKING] & 0x20);
}

static bool blink_phase(const struct vga *v)
{
	if (v->blink_override >= 0)
		return v->blink_override;
	return !((clock_ns() / BLINK_HALF_NS) & 1);
}

/* Plane 2 offset of font map n (0-7) as SR3 numbers them: maps 0-3 at
 * 16 KiB steps, maps 4-7 8 KiB above those. */
static uint32_t font_map_offset(unsigned n)
{
	return (n & 3) * 0x4000u + ((n & 4) ? 0x2000u : 0);
}

/* The two fonts SR3 selects: fonts[1] (map A, SR3 bits 5,3,2) for
 * attribute bit 3 set, fonts[0] (map B, bits 4,1,0) for it clear. */
static void text_fonts(const struct vga *v, struct text_screen *s)
{
	uint8_t sr3 = v->sr[SR_CHAR_MAP];
	uint32_t a = font_map_offset((sr3 >> 2 & 3) | (sr3 >> 3 & 4));
	uint32_t b = font_map_offset((sr3 & 3) | (sr3 >> 2 & 4));

	s->font[1] = v->planes[PLANE_FONT] + a;
	s->font[0] = v->planes[PLANE_FONT] + b;
	/* Generations only grow: the sum changes with either font. */
	s->font_gen = v->font_gen[a / FONT_MAP_SIZE] + v->font_gen[b / FONT_MAP_SIZE];
}

/* The text screen the CRTC describes, with its cells copied out of planes
 * 0 and 1 (the start address wraps around the 32 KiB text buffer). */
static void text_screen_build(struct vga *v, struct text_screen *s)
{
	unsigned char_h = (v->cr[CR_MAX_SCAN] & 0x1f) + 1u;
	unsigned lines = (unsigned)v->cr[CR_V_DISP_END] |
			 (unsigned)(v->cr[CR_OVERFLOW] & 0x02) << 7 |
			 (unsigned)(v->cr[CR_OVERFLOW] & 0x40) << 3;
	unsigned start = (unsigned)v->cr[CR_START_HI] << 8 | v->cr[CR_START_LO];
	unsigned cursor = (unsigned)v->cr[CR_CURSOR_HI] << 8 | v->cr[CR_CURSOR_LO];
	int cols = v->cr[CR_H_DISP_END] + 1, rows, stride;
	unsigned rel, cstart, cend;
	bool blink = blink_phase(v);

	lines++;
	if (v->cr[CR_MAX_SCAN] & 0x80)
		lines /= 2;     /* double scan */
	rows = (int)(lines / char_h);
	if (rows < 1)
		rows = 1;
	if (rows > TEXT_MAX_ROWS)
		rows = TEXT_MAX_ROWS;
	if (cols > TEXT_MAX_COLS)
		cols = TEXT_MAX_COLS;
	stride = v->cr[CR_OFFSET] * 2;
	if (stride < cols)
		stride = cols;

	for (int r = 0; r < rows; r++)
		for (int c = 0; c < cols; c++) {
			unsigned i = (start + (unsigned)(r * stride + c)) % TEXT_CELLS;

			v->cells[r * cols + c] =
				(uint16_t)(v->planes[PLANE_CHARS][2 * i] |
					   v->planes[PLANE_ATTRS][2 * i] << 8);
		}

	memset(s, 0, sizeof(*s));
	s->cells = v->cells;
	s->cols = cols;
	s->rows = rows;
	s->stride = cols;
	s->cell_width = (v->sr[SR_CLOCKING] & 0x01) ? 8 : 9;
	s->line_graphics = v->ar[AR_MODE] & 0x04;
	s->blink_enabled = v->ar[AR_MODE] & 0x08;
	s->blink_on = blink;
	s->char_height = (int)char_h;
	text_fonts(v, s);
	for (int i = 0; i < 16 && !blanked(v); i++) {
		/* Colour plane enable masks the colour (vgacon clears bit 3
		 * for 512-character fonts, where it selects the font). */
		unsigned idx = v->ar[i & v->ar[AR_PLANE_ENABLE] & 0x0f];

		if (v->ar[AR_MODE] & 0x80)
			idx = (idx & 0x0f) | (v->ar[AR_COLOR_SELECT] & 0x03) << 4;
		idx = (idx & 0x3f) | (v->ar[AR_COLOR_SELECT] & 0x0c) << 4;
		s->palette[i] = dac_rgb(v, idx);
	}

	/* Cursor lines are scanlines of the cell (the renderer clips). */
	cstart = v->cr[CR_CURSOR_START] & 0x1f;
	cend = v->cr[CR_CURSOR_END] & 0x1f;
	s->cursor_enabled = !(v->cr[CR_CURSOR_START] & 0x20) && !blanked(v);
	s->cursor_on = blink;
	s->cursor_start = (int)cstart;
	s->cursor_end = (int)cend;
	s->cursor_col = s->cursor_row = -1;
	rel = (cursor - start) & 0xffff;
	if (cursor >= start && rel < (unsigned)(rows * stride) &&
	    (int)(rel % (unsigned)stride) < cols) {
		s->cursor_row = (int)(rel / (unsigned)stride);
		s->cursor_col = (int)(rel % (unsigned)stride);
	}
}

static bool geom_equal(const struct gfx_geom *a, const struct gfx_geom *b)
{
	return a->width == b->width && a->height == b->height &&
	       a->bpp == b->bpp && a->stride == b->stride &&
	       a->offset == b->offset && a->big_endian == b->big_endian;
}

static pixman_format_code_t gfx_format(const struct gfx_geom *g)
{
	switch (g->bpp) {
	case 32:
		return g->big_endian ? PIXMAN_b8g8r8x8 : PIXMAN_x8r8g8b8;
	case 24:
		return PIXMAN_r8g8b8;
	case 16:
		return PIXMAN_r5g6b5;
	case 15:
		return PIXMAN_x1r5g5b5;
	default:
		return PIXMAN_x8r8g8b8;   /* 8 bpp: converted via the DAC */
	}
}

/* Copy (or for 8 bpp, look up) the box of the framebuffer into the
 * console-owned surface. Console lock held. */
static void convert_box(struct vga *v, pixman_image_t *img,
			const pixman_box32_t *box, const uint32_t *pal)
{
	const struct gfx_geom *g = &v->geom;
	uint8_t *dst = (uint8_t *)pixman_image_get_data(img);
	size_t dstride = (size_t)pixman_image_get_stride(img);
	const uint8_t *src = v->vram + g->offset;
	int x1 = box->x1 < 0 ? 0 : box->x1, y1 = box->y1 < 0 ? 0 : box->y1;
	int x2 = box->x2 > g->width ? g->width : box->x2;
	int y2 = box->y2 > g->height ? g->height : box->y2;

	for (int y = y1; y < y2; y++) {
		const uint8_t *s = src + (size_t)y * g->stride;
		uint8_t *d = dst + (size_t)y * dstride;

		if (g->bpp == 8) {
			uint32_t *d32 = (uint32_t *)d;

			for (int x = x1; x < x2; x++)
				d32[x] = pal[s[x]];
		} else if (x1 < x2) {
			memcpy(d + (size_t)x1 * (size_t)g->bytespp,
			       s + (size_t)x1 * (size_t)g->bytespp,
			       (size_t)(x2 - x1) * (size_t)g->bytespp);
		}
	}
}

static void convert_region(struct vga *v, pixman_region32_t *r)
{
	uint32_t pal[256];
	pixman_image_t *img;
	pixman_box32_t *boxes;
	int n;

	if (v->geom.bpp == 8)
		for (unsigned i = 0; i < 256; i++)
			pal[i] = dac_rgb(v, i);
	img = console_lock(v->con);
	if (img && pixman_image_get_width(img) == v->geom.width &&
	    pixman_image_get_height(img) == v->geom.height) {
		boxes = pixman_region32_rectangles(r, &n);
		for (int i = 0; i < n; i++)
			convert_box(v, img, &boxes[i], pal);
	}
	console_unlock(v->con);
}

static struct dirty_fb_geom dirty_geom(const struct gfx_geom *g)
{
	return (struct dirty_fb_geom){
		.width = g->width, .height = g->height, .bytespp = g->bytespp,
		.stride = g->stride, .fb_offset = g->offset,
	};
}

/*
 * Show the DISPI mode g: alias VRAM when pixman can, else convert.
 *
 * The guest goes on drawing (vCPU) while this runs, and consumers take
 * their full copy of the new surface whenever they like after
 * surface_changed (the VNC update thread: at once, on its own thread). A
 * later change reaches them only if the dirty log has its page AND it
 * differs from the tracker's shadow, so the shadow must never hold pixels
 * that a consumer may not have. Hence this order:
 *  1. empty the dirty log: any write from now on is in the next one;
 *  2. fill the shadow: a write it caught happened before step 3;
 *  3. install the surface: every consumer copies after this, so it has
 *     everything the shadow has; later writes show up as damage.
 * The converted (8 bpp, unaligned) surface is console-owned and zero-filled
 * when installed, and a consumer may copy it before it is filled: it is
 * then damaged as a whole. Installing first and emptying the log last (as
 * before) lost whatever the guest drew between a consumer's copy and the
 * log: the benchmark's 1-in-25 first frame that never completed.
 */
static bool gfx_start(struct vga *v, const struct gfx_geom *g)
{
	struct dirty_fb_geom dg = dirty_geom(g);
	pixman_format_code_t fmt = gfx_format(g);
	uint8_t *fb = v->vram + g->offset;
	int ret;

	v->geom = *g;
	v->tracker = dirty_tracker_create(&dg);
	if (!v->tracker)
		return false;
	if ((g->bpp == 15 || g->bpp == 16 || g->bpp == 24) && v->big_endian)
		log_once(LOG_WARN, "vga: big-endian %d bpp is shown as little-endian",
			 g->bpp);
	v->alias = g->bpp != 8 && g->stride % 4 == 0 && g->offset % 4 == 0 &&
		   g->stride <= INT32_MAX;
	if (v->slot >= 0)
		vm_get_dirty_log(v->vm, v->slot, v->dirty_log);
	memset(v->soft_dirty, 0, (v->npages + 63) / 64 * 8);
	v->force_full = false;
	dirty_tracker_sync(v->tracker, fb);
	if (v->alias)
		ret = console_set_surface_alias(v->con, g->width, g->height, fmt,
						fb, (int)g->stride);
	else
		ret = console_set_surface(v->con, g->width, g->height, fmt);
	if (ret < 0)
		return false;
	if (!v->alias) {
		pixman_region32_t all;

		pixman_region32_init_rect(&all, 0, 0, (unsigned)g->width,
					  (unsigned)g->height);
		convert_region(v, &all);
		pixman_region32_fini(&all);
		console_damage(v->con, 0, 0, g->width, g->height);
	}
	v->shown_palette_gen = v->palette_gen;
	return true;
}

static void switch_output(struct vga *v, enum out_kind k,
			  const struct gfx_geom *g)
{
	struct text_screen s;
	int ret = 0;

	dirty_tracker_destroy(v->tracker);
	v->tracker = NULL;
	memset(&v->geom, 0, sizeof(v->geom));
	v->out = k;
	switch (k) {
	case OUT_TEXT:
		/* A fresh console-owned surface: the renderer must never draw
		 * into a VRAM alias of the same size. */
		text_screen_build(v, &s);
		text_renderer_invalidate(v->tr);
		ret = console_set_surface(v->con, text_surface_width(&s),
					  text_surface_height(&s), PIXMAN_x8r8g8b8);
		break;
	case OUT_GFX:
		if (!gfx_start(v, g))
			ret = -1;
		break;
	case OUT_GFX_BLANK:
		v->geom = *g;
		ret = console_set_surface(v->con, g->width, g->height,
					  PIXMAN_x8r8g8b8);
		break;
	case OUT_OFF:
	case OUT_NONE:
		console_clear_surface(v->con);
		break;
	}
	if (ret < 0) {
		log_ratelimited(LOG_WARN, "vga: cannot show the new mode");
		dirty_tracker_destroy(v->tracker);
		v->tracker = NULL;
		v->out = OUT_OFF;
		console_clear_surface(v->con);
	}
}

/* What the registers ask to be shown. */
static enum out_kind wanted(struct vga *v, struct gfx_geom *g)
{
	memset(g, 0, sizeof(*g));
	if (v->dispi[DISPI_ENABLE] & DISPI_ENABLED) {
		if (!dispi_geom(v, g)) {
			if (v->out != OUT_OFF)
				log_ratelimited(LOG_WARN, "vga: mode %ux%u %u bpp "
						"(virtual width %u, offset %u,%u) does not "
						"fit in VRAM or is unsupported: not shown",
						v->dispi[DISPI_XRES], v->dispi[DISPI_YRES],
						v->dispi[DISPI_BPP],
						v->dispi[DISPI_VIRT_WIDTH],
						v->dispi[DISPI_X_OFFSET],
						v->dispi[DISPI_Y_OFFSET]);
			return OUT_OFF;
		}
		return blanked(v) ? OUT_GFX_BLANK : OUT_GFX;
	}
	if (v->gr[GR_MISC] & 0x01) {
		log_once(LOG_INFO, "vga: planar VGA graphics modes are not shown");
		return OUT_OFF;
	}
	return OUT_TEXT;
}

static void update_gfx(struct vga *v)
{
	struct dirty_fb_geom dg = dirty_geom(&v->geom);
	const uint8_t *fb = v->vram + v->geom.offset;
	size_t words = (v->npages + 63) / 64;
	pixman_region32_t cand, changed;
	bool full = v->force_full || v->slot < 0;

	if (!full && vm_get_dirty_log(v->vm, v->slot, v->dirty_log) < 0) {
		log_ratelimited(LOG_WARN, "vga: KVM_GET_DIRTY_LOG: %s",
				strerror(errno));
		full = true;
	}
	pixman_region32_init(&cand);
	pixman_region32_init(&changed);
	if (full) {
		pixman_region32_init_rect(&cand, 0, 0, (unsigned)v->geom.width,
					  (unsigned)v->geom.height);
	} else {
		for (size_t i = 0; i < words; i++)
			v->dirty_log[i] |= v->soft_dirty[i];
		dirty_bitmap_to_region(v->dirty_log, v->npages, &dg, &cand);
	}
	memset(v->soft_dirty, 0, words * 8);
	v->force_full = false;
	dirty_tracker_refine(v->tracker, fb, &cand, &changed);

	if (!v->alias && v->geom.bpp == 8 &&
	    v->shown_palette_gen != v->palette_gen) {
		/* A palette change redraws every pixel. */
		pixman_region32_fini(&changed);
		pixman_region32_init_rect(&changed, 0, 0, (unsigned)v->geom.width,
					  (unsigned)v->geom.height);
		v->shown_palette_gen = v->palette_gen;
	}
	if (!v->alias)
		convert_region(v, &changed);
	console_damage_region(v->con, &changed);
	pixman_region32_fini(&cand);
	pixman_region32_fini(&changed);
}

static void update_text(struct vga *v)
{
	struct text_screen s;

	text_screen_build(v, &s);
	if (text_render(v->tr, v->con, &s) < 0)
		log_ratelimited(LOG_WARN, "vga: cannot render the text screen");
}

/* Bring the console up to date with the registers and VRAM. Lock held. */
/* Bring the console up to date; true if consumers got anything new. */
static bool update(struct vga *v)
{
	struct gfx_geom g;
	enum out_kind k = wanted(v, &g);
	bool switched = false;

	if (k != v->out ||
	    ((k == OUT_GFX || k == OUT_GFX_BLANK) && !geom_equal(&g, &v->geom))) {
		switch_output(v, k, &g);
		switched = true;
	}
	if (v->out == OUT_TEXT)
		update_text(v);
	else if (v->out == OUT_GFX)
		update_gfx(v);
	return console_flush(v->con) || switched;
}

/* Refresh; a boost ends once consumers got something new, or after
 * BOOST_MAX_NS: back to the periodic pace. */
static void refresh_locked(struct vga *v)
{
	if (!update(v) && clock_ns() <= v->boost_until)
		return;
	if (v->boosted && v->active)
		event_timer_arm(v->refresh_timer, REFRESH_NS, REFRESH_NS);
	v->boosted = false;
}

static void refresh_op(void *opaque)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	refresh_locked(v);
	pthread_mutex_unlock(&v->lock);
}

static void set_active_op(void *opaque, bool active)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	v->active = active;
	v->boosted = false;
	/* timerfd_settime is safe from any thread. */
	if (v->refresh_timer) {
		if (active)
			event_timer_arm(v->refresh_timer, 1, REFRESH_NS);
		else
			event_timer_disarm(v->refresh_timer);
	}
	pthread_mutex_unlock(&v->lock);
}

static void refresh_tick(void *opaque)
{
	refresh_op(opaque);
}

static void input_activity_op(void *opaque)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	v->boost_until = clock_ns() + BOOST_MAX_NS;
	if (v->active && v->refresh_timer && !v->boosted) {
		v->boosted = true;
		event_timer_arm(v->refresh_timer, BOOST_NS, BOOST_NS);
	}
	pthread_mutex_unlock(&v->lock);
}

static void mode_tick(void *opaque)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	v->mode_timer_armed = false;
	update(v);
	pthread_mutex_unlock(&v->lock);
}

static const struct console_producer_ops producer_ops = {
	.refresh = refresh_op,
	.set_active = set_active_op,
	.input_activity = input_activity_op,
};

/* --- EDID --------------------------------------------------------------------- */

/* Standard timing (EDID 1.4, 3.9): width / 8 - 31, aspect, refresh - 60. */
static bool edid_std_timing(uint8_t *p, unsigned w, unsigned h)
{
	unsigned aspect;

	if (w * 10 == h * 16)
		aspect = 0;
	else if (w * 3 == h * 4)
		aspect = 1;
	else if (w * 4 == h * 5)
		aspect = 2;
	else if (w * 9 == h * 16)
		aspect = 3;
	else
		return false;
	if (w % 8 || w / 8 < 32 || w / 8 > 31 + 255)
		return false;
	p[0] = (uint8_t)(w / 8 - 31);
	p[1] = (uint8_t)(aspect << 6);
	return true;
}

/*
 * Detailed timing descriptor with CVT reduced-blanking style timings:
 * fixed 160-pixel horizontal blanking, vertical blanking of at least
 * 460 us. Refresh 60 Hz unless the pixel clock would not fit the 16-bit
 * field (huge modes get a lower refresh).
 */
static uint32_t edid_dtd(uint8_t *d, unsigned w, unsigned h, unsigned wmm,
			 unsigned hmm)
{
	const unsigned hfront = 48, hsync = 32, hblank = 160;
	const unsigned vfront = 3, vsync = 6, vback_min = 6;
	uint64_t line_ns = (16666667ull - 460000ull) / h, vblank, htotal, vtotal;
	uint64_t refresh = 60, clock;

	vblank = 460000ull / line_ns + 1;
	if (vblank < vfront + vsync + vback_min)
		vblank = vfront + vsync + vback_min;
	htotal = w + hblank;
	vtotal = h + vblank;
	while (refresh > 1 && htotal * vtotal * refresh > 655350000ull)
		refresh--;
	clock = (htotal * vtotal * refresh + 9999) / 10000;   /* 10 kHz units */
	if (clock > 0xffff)
		clock = 0xffff;
	d[0] = (uint8_t)clock;
	d[1] = (uint8_t)(clock >> 8);
	d[2] = (uint8_t)w;
	d[3] = (uint8_t)hblank;
	d[4] = (uint8_t)((w >> 8) << 4 | hblank >> 8);
	d[5] = (uint8_t)h;
	d[6] = (uint8_t)vblank;
	d[7] = (uint8_t)((h >> 8) << 4 | vblank >> 8);
	d[8] = (uint8_t)hfront;
	d[9] = (uint8_t)hsync;
	d[10] = (uint8_t)((vfront & 0xf) << 4 | (vsync & 0xf));
	d[11] = (uint8_t)((hfront >> 8) << 6 | (hsync >> 8) << 4 |
			  (vfront >> 4) << 2 | vsync >> 4);
	d[12] = (uint8_t)wmm;
	d[13] = (uint8_t)hmm;
	d[14] = (uint8_t)((wmm >> 8) << 4 | hmm >> 8);
	d[15] = d[16] = 0;
	d[17] = 0x1a;   /* digital separate sync, hsync +, vsync - */
	return (uint32_t)(clock * 10000);
}

static void edid_text_descriptor(uint8_t *d, uint8_t tag, const char *text)
{
	size_t n = strlen(text);

	memset(d, 0, 18);
	d[3] = tag;
	memset(d + 5, ' ', 13);
	if (n > 12)
		n = 12;
	memcpy(d + 5, text, n);
	d[5 + n] = '\n';
}

int vga_build_edid(uint8_t out[128], unsigned width, unsigned height,
		   uint64_t vram_size)
{
	static const struct { unsigned w, h; } std_modes[8] = {
		{ 1280, 720 }, { 1280, 800 }, { 1280, 1024 }, { 1440, 900 },
		{ 1600, 900 }, { 1680, 1050 }, { 1920, 1080 }, { 1920, 1200 },
	};
	/* sRGB primaries and D65 white as 10-bit binary fractions. */
	static const uint16_t chroma[8] = { 655, 338, 307, 614, 154, 61, 320, 337 };
	unsigned wmm, hmm, nstd = 0;
	uint32_t clock;
	uint8_t *d, sum = 0;

	if (width < VGA_EDID_MIN_WIDTH || height < VGA_EDID_MIN_HEIGHT ||
	    width > VGA_EDID_MAX_DIM || height > VGA_EDID_MAX_DIM ||
	    (uint64_t)width * height * 4 > vram_size)
		return -1;
	memset(out, 0, 128);
	memcpy(out, "\x00\xff\xff\xff\xff\xff\xff\x00", 8);
	/* Manufacturer "VMM" (three 5-bit letters, big-endian), product 1. */
	out[8] = (uint8_t)((('V' - '@') << 2) | (('M' - '@') >> 3));
	out[9] = (uint8_t)((('M' - '@') << 5) | ('M' - '@'));
	out[10] = 0x01;
	out[17] = 2024 - 1990;          /* model year 2024 (week 0) */
	out[18] = 1;                    /* EDID 1.4 */
	out[19] = 4;
	out[20] = 0xa0;                 /* digital, 8 bits per colour */
	/* Physical size at 96 dpi. */
	wmm = width * 254 / 960;
	hmm = height * 254 / 960;
	out[21] = (uint8_t)(wmm / 10 > 255 ? 255 : wmm / 10);
	out[22] = (uint8_t)(hmm / 10 > 255 ? 255 : hmm / 10);
	out[23] = 120;                  /* gamma 2.2 */
	out[24] = 0x06;                 /* RGB 4:4:4, sRGB, preferred = native */
	out[25] = (uint8_t)((chroma[0] & 3) << 6 | (chroma[1] & 3) << 4 |
			    (chroma[2] & 3) << 2 | (chroma[3] & 3));
	out[26] = (uint8_t)((chroma[4] & 3) << 6 | (chroma[5] & 3) << 4 |
			    (chroma[6] & 3) << 2 | (chroma[7] & 3));
	for (int i = 0; i < 8; i++)
		out[27 + i] = (uint8_t)(chroma[i] >> 2);
	/* Established timings: 640x480, 800x600, 1024x768 at 60 Hz (all fit
	 * in the smallest VRAM). */
	out[35] = 0x21;
	out[36] = 0x08;
	memset(out + 38, 0x01, 16);     /* unused standard timings */
	for (int i = 0; i < 8; i++) {
		if ((uint64_t)std_modes[i].w * std_modes[i].h * 4 > vram_size)
			continue;
		if (edid_std_timing(out + 38 + 2 * nstd, std_modes[i].w,
				    std_modes[i].h))
			nstd++;
	}

	d = out + 54;                   /* preferred timing */
	clock = edid_dtd(d, width, height, wmm, hmm);
	d = out + 72;                   /* range limits */
	d[3] = 0xfd;
	d[5] = 1;                       /* vertical 1-75 Hz */
	d[6] = 75;
	d[7] = 1;                       /* horizontal 1-255 kHz */
	d[8] = 255;
	clock = clock > 200000000u ? clock : 200000000u;
	d[9] = (uint8_t)((clock + 9999999u) / 10000000u > 255 ? 255 :
			 (clock + 9999999u) / 10000000u);
	d[10] = 0x01;                   /* range limits only */
	d[11] = 0x0a;
	memset(d + 12, ' ', 6);
	edid_text_descriptor(out + 90, 0xfc, "VMM Display");
	d = out + 108;                  /* dummy descriptor */
	d[3] = 0x10;

	for (int i = 0; i < 127; i++)
		sum = (uint8_t)(sum + out[i]);
	out[127] = (uint8_t)(0x100 - sum);
	return 0;
}

/* --- lifetime ------------------------------------------------------------------ */

int vga_config_check(const struct vga_config *cfg, char *err, size_t errlen)
{
	uint64_t vram = cfg && cfg->vram_size ? cfg->vram_size : VGA_VRAM_DEFAULT;
	unsigned w = cfg && cfg->width ? cfg->width : VGA_DEFAULT_WIDTH;
	unsigned h = cfg && cfg->height ? cfg->height : VGA_DEFAULT_HEIGHT;

	if (!is_pow2(vram) || vram < VGA_VRAM_MIN || vram > VGA_VRAM_MAX) {
		snprintf(err, errlen, "--vram must be a power of two from %lluM to %lluM",
			 (unsigned long long)(VGA_VRAM_MIN >> 20),
			 (unsigned long long)(VGA_VRAM_MAX >> 20));
		return -1;
	}
	if (w < VGA_EDID_MIN_WIDTH || h < VGA_EDID_MIN_HEIGHT ||
	    w > VGA_EDID_MAX_DIM || h > VGA_EDID_MAX_DIM) {
		snprintf(err, errlen, "--resolution must be from %ux%u to %ux%u",
			 VGA_EDID_MIN_WIDTH, VGA_EDID_MIN_HEIGHT,
			 VGA_EDID_MAX_DIM, VGA_EDID_MAX_DIM);
		return -1;
	}
	if ((uint64_t)w * h * 4 > vram) {
		snprintf(err, errlen, "--resolution %ux%u needs more than %lluM of "
			 "--vram at 32 bpp", w, h,
			 (unsigned long long)(vram >> 20));
		return -1;
	}
	return 0;
}

static void vga_free(struct vga *v)
{
	if (v->ports_registered)
		bus_unregister(&v->vm->pio, PORT_VGA_BASE, v);
	if (v->dispi_registered)
		bus_unregister(&v->vm->pio, PORT_DISPI_INDEX, v);
	if (v->window_registered)
		bus_unregister(&v->vm->mmio, WIN_BASE, v);
	if (v->mono_registered)
		bus_unregister(&v->vm->pio, PORT_MONO_BASE, v);
	event_timer_destroy(v->refresh_timer);
	event_timer_destroy(v->mode_timer);
	vram_unmap(v);
	dirty_tracker_destroy(v->tracker);
	text_renderer_destroy(v->tr);
	if (v->vram_map)
		munmap(v->vram_map, v->vram_map_size);
	free(v->dirty_log);
	free(v->soft_dirty);
	free(v->planes);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/* VRAM between two PROT_NONE guard pages: a stray access faults at once
 * instead of silently touching other memory. */
static int vram_alloc(struct vga *v)
{
	size_t words = (v->npages + 63) / 64;

	v->vram_map_size = (size_t)v->vram_size + 2 * PAGE_SIZE_4K;
	v->vram_map = mmap(NULL, v->vram_map_size, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->vram_map == MAP_FAILED) {
		v->vram_map = NULL;
		return -1;
	}
	v->vram = v->vram_map + PAGE_SIZE_4K;
	if (mprotect(v->vram, (size_t)v->vram_size, PROT_READ | PROT_WRITE) < 0)
		return -1;
	v->dirty_log = calloc(words, 8);
	v->soft_dirty = calloc(words, 8);
	return v->dirty_log && v->soft_dirty ? 0 : -1;
}

static void pci_setup(struct vga *v)
{
	struct pci_device *d = &v->dev;

	d->name = "vga";
	d->vendor_id = 0x1234;
	d->device_id = 0x1111;
	d->subsys_vendor_id = 0x1af4;
	d->subsys_id = 0x1100;
	d->class_code = 0x030000;
	/* Revision 2: the bochs driver then looks for the QEMU ext regs. */
	d->revision = 2;
	d->bars[0].kind = PCI_BAR_MEM32;
	d->bars[0].prefetchable = true;
	d->bars[0].size = v->vram_size;
	d->bars[2].kind = PCI_BAR_MEM32;
	d->bars[2].size = BAR2_SIZE;
	d->bars[2].fn = bar2_io;
	d->bars[2].opaque = v;
	d->opaque = v;
	d->bar_remap = bar_remap;
}

struct vga *vga_create(struct vm *vm, struct pci_bus *pci,
		       struct event_loop *loop, struct console *con,
		       const struct vga_config *cfg)
{
	struct vga_config c = cfg ? *cfg : (struct vga_config){ 0 };
	char err[128];
	struct vga *v;

	if (vga_config_check(&c, err, sizeof(err)) < 0) {
		log_err("vga: %s", err);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		log_err("vga: out of memory");
		return NULL;
	}
	pthread_mutex_init(&v->lock, NULL);
	v->vm = vm;
	v->pci = pci;
	v->loop = loop;
	v->con = con;
	v->slot = -1;
	v->blink_override = -1;
	v->vram_size = c.vram_size ? c.vram_size : VGA_VRAM_DEFAULT;
	v->npages = (size_t)(v->vram_size / PAGE_SIZE_4K);
	vga_build_edid(v->edid, c.width ? c.width : VGA_DEFAULT_WIDTH,
		       c.height ? c.height : VGA_DEFAULT_HEIGHT, v->vram_size);
	v->planes = calloc(VGA_PLANES, PLANE_SIZE);
	v->tr = text_renderer_create();
	if (!v->planes || !v->tr) {
		log_err("vga: out of memory");
		goto fail;
	}
	vga_reset(v);
	if (vram_alloc(v) < 0) {
		log_err("vga: cannot allocate %llu MiB of VRAM",
			(unsigned long long)(v->vram_size >> 20));
		goto fail;
	}
	if (loop) {
		v->refresh_timer = event_timer_create(loop, refresh_tick, v);
		v->mode_timer = event_timer_create(loop, mode_tick, v);
		if (!v->refresh_timer || !v->mode_timer) {
			log_err("vga: cannot create timers");
			goto fail;
		}
	}
	v->ports_registered = bus_register(&vm->pio, PORT_VGA_BASE, PORT_VGA_LEN,
					   vga_port_io, v, "vga") == 0;
	v->dispi_registered = bus_register(&vm->pio, PORT_DISPI_INDEX,
					   PORT_DISPI_LEN, dispi_port_io, v,
					   "vga-dispi") == 0;
	v->window_registered = bus_register(&vm->mmio, WIN_BASE, WIN_SIZE,
					    window_io, v, "vga-window") == 0;
	v->mono_registered = bus_register(&vm->pio, PORT_MONO_BASE, PORT_MONO_LEN,
					  mono_port_io, v, "vga-mono") == 0;
	if (!v->ports_registered || !v->dispi_registered ||
	    !v->window_registered || !v->mono_registered) {
		log_err("vga: legacy VGA ports or memory window already taken");
		goto fail;
	}
	pci_setup(v);
	if (pci_register_device(pci, &v->dev) < 0)
		goto fail;
	/* Show the (blank) text screen at once: the console has a size. */
	pthread_mutex_lock(&v->lock);
	update(v);
	pthread_mutex_unlock(&v->lock);
	console_set_producer(con, &producer_ops, v);
	return v;
fail:
	vga_free(v);
	return NULL;
}

void vga_destroy(struct vga *v)
{
	if (!v)
		return;
	console_set_producer(v->con, NULL, NULL);
	/* The surface may alias VRAM, which is about to go. */
	console_clear_surface(v->con);
	vga_free(v);
}

void vga_get_boot_info(struct vga *v, struct vga_boot_info *out)
{
	struct gfx_geom g;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&v->lock);
	out->lfb_base = v->bar0_addr;
	out->lfb_size = v->vram_size;
	if (v->boot_mode && (v->dispi[DISPI_ENABLE] & DISPI_ENABLED) &&
	    dispi_geom(v, &g)) {
		out->width = (uint32_t)g.width;
		out->height = (uint32_t)g.height;
		out->stride = (uint32_t)g.stride;
	} else {
		out->text = true;
	}
	pthread_mutex_unlock(&v->lock);
}

int vga_set_boot_mode(struct vga *v, unsigned width, unsigned height)
{
	struct gfx_geom g;
	int ret = 0;

	if (!width || !height || width > VGA_MAX_XRES || height > VGA_MAX_YRES)
		return -1;
	pthread_mutex_lock(&v->lock);
	dispi_write(v, DISPI_ENABLE, 0);
	dispi_write(v, DISPI_BPP, 32);
	dispi_write(v, DISPI_XRES, (uint16_t)width);
	dispi_write(v, DISPI_YRES, (uint16_t)height);
	dispi_write(v, DISPI_BANK, 0);
	dispi_write(v, DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	if (!dispi_geom(v, &g)) {
		dispi_write(v, DISPI_ENABLE, 0);
		ret = -1;
	}
	v->boot_mode = ret == 0;
	update(v);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

struct pci_device *vga_pci_device(struct vga *v)
{
	return &v->dev;
}

uint8_t *vga_vram(struct vga *v)
{
	return v->vram;
}

uint64_t vga_vram_size(struct vga *v)
{
	return v->vram_size;
}

int vga_vram_slot(struct vga *v)
{
	int slot;

	pthread_mutex_lock(&v->lock);
	slot = v->slot;
	pthread_mutex_unlock(&v->lock);
	return slot;
}

const uint8_t *vga_edid(struct vga *v)
{
	return v->edid;
}

void vga_test_set_blink(struct vga *v, int phase)
{
	pthread_mutex_lock(&v->lock);
	v->blink_override = phase < 0 ? -1 : phase != 0;
	pthread_mutex_unlock(&v->lock);
}

bool vga_test_refresh_boosted(struct vga *v)
{
	bool b;

	pthread_mutex_lock(&v->lock);
	b = v->boosted;
	pthread_mutex_unlock(&v->lock);
	return b;
}

bool vga_test_refresh_active(struct vga *v)
{
	bool a;

	pthread_mutex_lock(&v->lock);
	a = v->active;
	pthread_mutex_unlock(&v->lock);
	return a;
}
