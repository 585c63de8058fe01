// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the std-VGA adapter's guest interface: the input is
 * a program of register and memory accesses (legacy ports, BAR2, the
 * 0xA0000-0xBFFFF window, BAR0, PCI config writes that move or disable the
 * BARs) interleaved with refreshes, consumer attach/detach and direct VRAM
 * writes. After every refresh the whole console surface is read back, so a
 * surface aliasing memory past VRAM hits the guard pages around it. Every
 * input gets a fresh machine, so crashes reproduce from their input alone.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "display/console.h"
#include "vmm/dev/pci.h"
#include "vmm/dev/vga.h"
#include "vmm/log.h"
#include "tests/fuzz/reader.h"

struct machine {
	struct vm vm;
	struct pci_bus *pci;
	struct console *con;
	struct vga *vga;
	struct console_listener l;
	bool attached;
	uint32_t *pixels;
	unsigned slot;
};

static void on_surface(void *opaque, struct console *c)
{
	(void)opaque;
	(void)c;
}

static void on_damage(void *opaque, const pixman_box32_t *b)
{
	(void)opaque;
	/* The console promises clipped, non-empty boxes. */
	if (b->x1 >= b->x2 || b->y1 >= b->y2 || b->x1 < 0 || b->y1 < 0)
		__builtin_trap();
}

static void pio(struct machine *m, uint16_t port, uint32_t len, uint64_t val,
		bool wr)
{
	uint8_t d[8];

	memcpy(d, &val, sizeof(d));
	bus_dispatch(&m->vm.pio, port, d, len, wr);
}

static void mmio(struct machine *m, uint64_t addr, uint32_t len, uint64_t val,
		 bool wr)
{
	uint8_t d[8];

	memcpy(d, &val, sizeof(d));
	bus_dispatch(&m->vm.mmio, addr, d, len, wr);
}

static uint32_t cfg_read(struct machine *m, unsigned off)
{
	uint8_t d[4];

	pio(m, 0xCF8, 4, 0x80000000u | m->slot << 11 | (off & 0xFC), true);
	bus_dispatch(&m->vm.pio, 0xCFC, d, 4, false);
	return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
	       (uint32_t)d[3] << 24;
}

static uint64_t bar(struct machine *m, int b)
{
	return cfg_read(m, PCI_BAR0 + 4 * (unsigned)b) & ~0xFu;
}

/* Refresh, then read the first and the last row of whatever the console
 * shows: an alias reaching past VRAM faults on the guard page. */
static void refresh_and_read(struct machine *m)
{
	int w, h;

	console_refresh(m->con);
	console_get_size(m->con, &w, &h);
	if (w <= 0 || h <= 0 || w > CONSOLE_MAX_DIM)
		return;
	console_read_pixels(m->con, 0, 0, w, 1, PIXMAN_x8r8g8b8, m->pixels, w * 4);
	console_read_pixels(m->con, 0, h - 1, w, 1, PIXMAN_x8r8g8b8, m->pixels,
			    w * 4);
}

static void dispi(struct machine *m, uint16_t idx, uint16_t val)
{
	pio(m, 0x1CE, 2, idx, true);
	pio(m, 0x1CF, 2, val, true);
}

static void run(struct machine *m, struct reader *r)
{
	static const uint32_t lens[4] = { 1, 2, 4, 8 };
	static const uint16_t bpps[8] = { 8, 15, 16, 24, 32, 4, 0, 0xFFFF };
	unsigned ops = 0;

	while (r->n && ops++ < 4096) {
		uint8_t op = (uint8_t)take(r, 1);
		uint8_t sel = (uint8_t)take(r, 1);
		uint32_t len = lens[sel & 3];
		bool wr = sel & 4;
		uint64_t val;

		switch (op % 12) {
		case 0: {       /* legacy ports */
			uint16_t port = (sel & 8) ? (uint16_t)(0x1CE + (sel >> 4) % 3)
						  : (uint16_t)(0x3C0 + (take(r, 1) & 0x1F));

			val = take(r, 2);
			pio(m, port, len > 4 ? 4 : len, val, wr);
			break;
		}
		case 1:         /* BAR2 */
			val = take(r, 2) & 0xFFF;
			mmio(m, bar(m, 2) + val, len, take(r, 8), wr);
			break;
		case 2:         /* DISPI register through BAR2, 16-bit */
			val = take(r, 1) % 12;
			mmio(m, bar(m, 2) + 0x500 + 2 * val, 2, take(r, 2), wr);
			break;
		case 3:         /* legacy window */
			val = take(r, 3) % 0x20000;
			mmio(m, 0xA0000 + val, len, take(r, 8), wr);
			break;
		case 4:         /* BAR0 (MMIO fallback) */
			val = take(r, 4) % vga_vram_size(m->vga);
			mmio(m, bar(m, 0) + val, len, take(r, 8), wr);
			break;
		case 5: {       /* direct VRAM write, like a vCPU through a slot */
			uint64_t off = take(r, 4) % vga_vram_size(m->vga);
			uint64_t v = take(r, 8);
			size_t n = vga_vram_size(m->vga) - off < 8 ?
				   vga_vram_size(m->vga) - off : 8;

			memcpy(vga_vram(m->vga) + off, &v, n);
			break;
		}
		case 6:
			refresh_and_read(m);
			break;
		case 7:         /* a consumer comes or goes */
			if (m->attached)
				console_remove_listener(m->con, &m->l);
			else
				console_add_listener(m->con, &m->l);
			m->attached = !m->attached;
			break;
		case 8: {       /* PCI: move or disable BARs */
			unsigned off = (sel & 8) ? PCI_COMMAND :
				       PCI_BAR0 + 4 * ((sel >> 4) % 6);

			pio(m, 0xCF8, 4, 0x80000000u | m->slot << 11 | off, true);
			pio(m, 0xCFC, 4, take(r, 4), true);
			break;
		}
		case 9:         /* a whole DISPI mode, to reach modes quickly */
			dispi(m, 4, 0);
			dispi(m, 3, bpps[sel & 7]);
			dispi(m, 1, (uint16_t)take(r, 2));
			dispi(m, 2, (uint16_t)take(r, 2));
			dispi(m, 6, (uint16_t)take(r, 2));
			dispi(m, 4, (uint16_t)(0x41 | (sel & 0xA0)));
			dispi(m, 8, (uint16_t)take(r, 2));
			dispi(m, 9, (uint16_t)take(r, 2));
			break;
		case 10:        /* a CRTC register */
			pio(m, 0x3D4, 1, take(r, 1), true);
			pio(m, 0x3D5, 1, take(r, 1), true);
			break;
		case 11:
			vga_test_set_blink(m->vga, sel & 1);
			break;
		}
	}
	refresh_and_read(m);
}

static uint32_t pixel_buf[CONSOLE_MAX_DIM];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_max_level = LOG_ERR;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct machine m;
	struct vga_config cfg = { .vram_size = VGA_VRAM_MIN };
	struct reader r = { data, size };

	memset(&m, 0, sizeof(m));
	m.vm.kvm_fd = m.vm.vm_fd = -1;
	m.pixels = pixel_buf;
	bus_init(&m.vm.pio, "pio");
	bus_init(&m.vm.mmio, "mmio");
	m.pci = pci_create(&m.vm);
	m.con = console_create("fuzz");
	if (!m.pci || !m.con)
		__builtin_trap();
	m.vga = vga_create(&m.vm, m.pci, NULL, m.con, &cfg);
	if (!m.vga)
		__builtin_trap();
	m.slot = vga_pci_device(m.vga)->slot;
	m.l.surface_changed = on_surface;
	m.l.damage = on_damage;

	run(&m, &r);

	if (m.attached)
		console_remove_listener(m.con, &m.l);
	pci_destroy(m.pci);
	vga_destroy(m.vga);
	console_destroy(m.con);
	bus_destroy(&m.vm.pio);
	bus_destroy(&m.vm.mmio);
	return 0;
}
