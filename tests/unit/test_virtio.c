// SPDX-License-Identifier: MIT
/*
 * virtio-pci transport, split virtqueues, virtio-gpu and virtio-input,
 * driven as a guest driver would (tests/unit/virtio_driver.h) over fake
 * guest RAM, no /dev/kvm: feature negotiation, queue validation, MSI-X and
 * INTx, every virtio-gpu command with good and hostile parameters, flush
 * rectangles as console damage, the memory cap, malformed descriptor
 * chains (loops, out-of-range, bad indirect tables), the input config
 * space and events.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "display/console.h"
#include "display/input.h"
#include "vmm/dev/pci.h"
#include "vmm/dev/virtio-gpu.h"
#include "vmm/dev/virtio-input.h"
#include "vmm/log.h"
#include "vmm/platform.h"
#include "vmm/virtio/msi.h"
#include "virtio_driver.h"

#define RAM (32u << 20)
#define CMD  0x200000ULL     /* request buffer */
#define RESP 0x210000ULL     /* response buffer */
#define FB   0x400000ULL     /* guest frame buffer (backing) */
#define CAP  (8u << 20)      /* resource memory cap for the test */

static struct vm vm;
static struct pci_bus *pci;
static struct console *con;
static struct virtio_gpu *gpu;
static struct virtio_input *tablet, *kbd;
static unsigned msi_count[256], intx_level[32];
static pixman_box32_t last_damage;
static int damage_count, surface_changes, cursor_changes;

static void observer(struct vm *v, unsigned gsi, int level)
{
	(void)v;
	if (gsi & MSI_OBSERVER_GSI)
		msi_count[gsi & 0xFF]++;
	else if (gsi < 32)
		intx_level[gsi] = (unsigned)level;
}

static void on_surface(void *o, struct console *c) { (void)o; (void)c; surface_changes++; }
static void on_damage(void *o, const pixman_box32_t *b) { (void)o; last_damage = *b; damage_count++; }
static void on_cursor(void *o, struct console *c) { (void)o; (void)c; cursor_changes++; }

static struct console_listener listener = {
	.surface_changed = on_surface, .damage = on_damage,
	.cursor_changed = on_cursor,
};

/* --- PCI config helpers ----------------------------------------------------- */

static uint32_t cfg_read(unsigned slot, unsigned off)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xFC), v = 0;

	bus_dispatch(&vm.pio, PORT_PCI_CONFIG, (uint8_t *)&a, 4, true);
	bus_dispatch(&vm.pio, PORT_PCI_CONFIG + 4, (uint8_t *)&v, 4, false);
	return v;
}

static void cfg_write(unsigned slot, unsigned off, uint32_t v)
{
	uint32_t a = 0x80000000u | slot << 11 | (off & 0xFC);

	bus_dispatch(&vm.pio, PORT_PCI_CONFIG, (uint8_t *)&a, 4, true);
	bus_dispatch(&vm.pio, PORT_PCI_CONFIG + 4, (uint8_t *)&v, 4, true);
}

/* --- gpu command helpers -------------------------------------------------------- */

struct hdr { uint32_t type, flags; uint64_t fence; uint32_t ctx; uint32_t ring; };

static struct vdrv gd;

/* Send a command (cmd, len) and return the response type (0: no response). */
static uint32_t gpu_cmd(const void *cmd, size_t len, size_t resp_len)
{
	uint32_t used_len = 0, type = 0;

	mem_write(&vm.mem, CMD, cmd, len);
	memset(mem_ptr(&vm.mem, RESP, 4096), 0xEE, 4096);
	vd_request(&gd, 0, CMD, (uint32_t)len, RESP, (uint32_t)resp_len);
	if (vd_used_new(&gd, 0, &used_len) != 1)
		return 0;
	mem_read(&vm.mem, RESP, &type, 4);
	return used_len >= 24 ? type : 0;
}

static uint32_t create_2d(uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
	uint32_t c[10] = { 0x101, 0, 0, 0, 0, 0, id, fmt, w, h };

	return gpu_cmd(c, sizeof(c), 24);
}

static uint32_t attach(uint32_t id, uint64_t addr, uint32_t len)
{
	struct { uint32_t h[6]; uint32_t id, n; uint64_t addr; uint32_t len, pad; }
		c = { { 0x106 }, id, 1, addr, len, 0 };

	return gpu_cmd(&c, sizeof(c), 24);
}

static uint32_t rect_cmd(uint32_t type, uint32_t x, uint32_t y, uint32_t w,
			 uint32_t h, uint32_t a, uint32_t b, uint32_t c3)
{
	uint32_t c[14] = { type, 0, 0, 0, 0, 0, x, y, w, h, a, b, c3, 0 };

	return gpu_cmd(c, sizeof(c), 24);
}

#define SET_SCANOUT(x, y, w, h, sid, rid) rect_cmd(0x103, x, y, w, h, sid, rid, 0)
#define FLUSH(x, y, w, h, rid) rect_cmd(0x104, x, y, w, h, rid, 0, 0)
/* transfer: rect, le64 offset (lo, hi), resource id */
#define TRANSFER(x, y, w, h, off, rid) rect_cmd(0x105, x, y, w, h, off, 0, rid)

/* --- tests ------------------------------------------------------------------------ */

static void test_pci_identity(void)
{
	struct pci_device *d = virtio_pci_device(virtio_gpu_transport(gpu));

	CHECK_EQ_U64(cfg_read(d->slot, 0), 0x10501af4);
	CHECK_EQ_U64(cfg_read(d->slot, 8) >> 8, 0x038000);
	CHECK_EQ_U64(cfg_read(d->slot, 8) & 0xFF, 1);
	CHECK(cfg_read(d->slot, 0x34) != 0);
	CHECK(d->bars[0].mapped != 0 && d->bars[1].mapped != 0);
}

static void test_negotiation(void)
{
	struct vdrv d;
	struct pci_device *pd = virtio_pci_device(virtio_gpu_transport(gpu));

	memset(&d, 0, sizeof(d));
	d.vm = &vm;
	d.bar0 = pd->bars[0].mapped;
	vd_write(&d, VIRTIO_COMMON_STATUS, 1, 0);
	CHECK_EQ_U64(vd_read(&d, VIRTIO_COMMON_NUMQ, 2), 2);
	vd_write(&d, VIRTIO_COMMON_DFSELECT, 4, 1);
	CHECK(vd_read(&d, VIRTIO_COMMON_DF, 4) & 1);        /* VERSION_1 */
	/* A driver without VERSION_1 is refused FEATURES_OK. */
	vd_write(&d, VIRTIO_COMMON_STATUS, 1, 3);
	vd_write(&d, VIRTIO_COMMON_GFSELECT, 4, 1);
	vd_write(&d, VIRTIO_COMMON_GF, 4, 0);
	vd_write(&d, VIRTIO_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK);
	CHECK(!(vd_read(&d, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK));
	/* Features the device does not offer are refused too. */
	vd_write(&d, VIRTIO_COMMON_STATUS, 1, 0);
	vd_write(&d, VIRTIO_COMMON_STATUS, 1, 3);
	vd_write(&d, VIRTIO_COMMON_GFSELECT, 4, 1);
	vd_write(&d, VIRTIO_COMMON_GF, 4, 1 | 0x80);
	vd_write(&d, VIRTIO_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK);
	CHECK(!(vd_read(&d, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK));
	/* Bad queue set-ups are not enabled. */
	vd_write(&d, VIRTIO_COMMON_STATUS, 1, 0);
	vd_write(&d, VIRTIO_COMMON_Q_SELECT, 2, 0);
	CHECK_EQ_U64(vd_read(&d, VIRTIO_COMMON_Q_SIZE, 2), 256);
	vd_write(&d, VIRTIO_COMMON_Q_SIZE, 2, 12);          /* not a power of 2 */
	vd_write(&d, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	CHECK_EQ_U64(vd_read(&d, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	vd_write(&d, VIRTIO_COMMON_Q_SIZE, 2, 16);
	vd_write(&d, VIRTIO_COMMON_Q_DESCLO, 4, RAM - 16);   /* past RAM end */
	vd_write(&d, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	CHECK_EQ_U64(vd_read(&d, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	vd_write(&d, VIRTIO_COMMON_Q_DESCLO, 4, 0x10008);     /* misaligned */
	vd_write(&d, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	CHECK_EQ_U64(vd_read(&d, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	vd_write(&d, VIRTIO_COMMON_Q_SELECT, 2, 99);          /* no such queue */
	CHECK_EQ_U64(vd_read(&d, VIRTIO_COMMON_Q_SIZE, 2), 0);
	vd_write(&d, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	/* MSI-X vectors beyond the table read back as NO_VECTOR. */
	vd_write(&d, VIRTIO_COMMON_MSIX, 2, 77);
	CHECK_EQ_U64(vd_read(&d, VIRTIO_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ_U64(vd_init(&gd, &vm, virtio_gpu_transport(gpu), 2, 0),
		     0x0F);
}

static void test_intx(void)
{
	struct pci_device *pd = virtio_pci_device(virtio_gpu_transport(gpu));
	uint32_t c[6] = { 0x100 };

	memset(intx_level, 0, sizeof(intx_level));
	CHECK_EQ_U64(gpu_cmd(c, sizeof(c), 408), 0x1101);
	CHECK_EQ_U64(intx_level[pd->gsi], 1);
	CHECK_EQ_U64(vd_read(&gd, VIRTIO_PCI_ISR_OFF, 1), 1);
	CHECK_EQ_U64(intx_level[pd->gsi], 0);
	CHECK_EQ_U64(vd_read(&gd, VIRTIO_PCI_ISR_OFF, 1), 0);
}

static void test_msix(void)
{
	struct virtio_pci *vp = virtio_gpu_transport(gpu);
	struct pci_device *pd = virtio_pci_device(vp);
	unsigned cap = virtio_pci_msix_cap(vp);
	uint64_t t = pd->bars[1].mapped;
	uint32_t c[6] = { 0x100 };
	uint8_t b[4];

	/* Vector 1 (control queue): address, data 0x41, unmasked later. */
	for (unsigned v = 0; v < 3; v++) {
		uint32_t e[4] = { 0xFEE00000u, 0, 0x40 + v, 1 };

		for (unsigned i = 0; i < 4; i++)
			bus_dispatch(&vm.mmio, t + 16 * v + 4 * i, (uint8_t *)&e[i], 4, true);
	}
	cfg_write(pd->slot, cap, cfg_read(pd->slot, cap) | 0x80000000u);
	CHECK(cfg_read(pd->slot, cap) & 0x80000000u);
	memset(msi_count, 0, sizeof(msi_count));
	CHECK_EQ_U64(gpu_cmd(c, sizeof(c), 408), 0x1101);
	/* Masked: pending, not delivered. */
	CHECK_EQ_U64(msi_count[0x41], 0);
	bus_dispatch(&vm.mmio, t + 0x800, b, 4, false);
	CHECK(b[0] & 2);
	/* Unmask: the pending message goes out. */
	memset(b, 0, 4);
	bus_dispatch(&vm.mmio, t + 16 + 12, b, 4, true);
	CHECK_EQ_U64(msi_count[0x41], 1);
	CHECK_EQ_U64(gpu_cmd(c, sizeof(c), 408), 0x1101);
	CHECK_EQ_U64(msi_count[0x41], 2);
	CHECK_EQ_U64(vd_read(&gd, VIRTIO_PCI_ISR_OFF, 1), 0);   /* no INTx */
	/* Config change (a resize request) on vector 0 once unmasked. */
	bus_dispatch(&vm.mmio, t + 12, b, 4, true);
	CHECK_EQ_U64(console_request_resize(con, 1280, 720), 0);
	CHECK_EQ_U64(msi_count[0x40], 1);
	CHECK_EQ_U64(vd_read(&gd, VIRTIO_PCI_DEVCFG_OFF, 4), 1);   /* events_read */
	vd_write(&gd, VIRTIO_PCI_DEVCFG_OFF + 4, 4, 1);             /* events_clear */
	CHECK_EQ_U64(vd_read(&gd, VIRTIO_PCI_DEVCFG_OFF, 4), 0);
	CHECK_EQ_U64(vd_read(&gd, VIRTIO_PCI_DEVCFG_OFF + 8, 4), 1);   /* scanouts */
	CHECK(console_request_resize(con, 100, 50) < 0);
}

static void test_display_info_edid(void)
{
	uint32_t c[8] = { 0x100 }, r[102];
	uint8_t edid[24 + 8 + 128];
	static const uint8_t magic[8] = { 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0 };

	CHECK_EQ_U64(gpu_cmd(c, 24, 408), 0x1101);
	mem_read(&vm.mem, RESP, r, sizeof(r));
	CHECK_EQ_U64(r[6 + 2], 1280);    /* the size requested above */
	CHECK_EQ_U64(r[6 + 3], 720);
	CHECK_EQ_U64(r[6 + 4], 1);
	c[0] = 0x10a;
	CHECK_EQ_U64(gpu_cmd(c, 32, 24 + 8 + 1024), 0x1104);
	mem_read(&vm.mem, RESP, edid, sizeof(edid));
	CHECK(!memcmp(edid + 32, magic, 8));
	CHECK_EQ_U64(edid[24], 128);
	c[6] = 3;                         /* no such scanout */
	CHECK_EQ_U64(gpu_cmd(c, 32, 24 + 8 + 1024), 0x1202);
	/* A fence is echoed. */
	c[0] = 0x100;
	c[1] = 1;
	c[2] = 0x1234;
	CHECK_EQ_U64(gpu_cmd(c, 24, 408), 0x1101);
	mem_read(&vm.mem, RESP, r, 24);
	CHECK_EQ_U64(r[1] & 1, 1);
	CHECK_EQ_U64(r[2], 0x1234);
}

static void test_draw(void)
{
	uint32_t *fb = mem_ptr(&vm.mem, FB, 64 * 48 * 4);
	pixman_image_t *img;
	uint32_t px;

	for (unsigned i = 0; i < 64 * 48; i++)
		fb[i] = 0x00FF0000u | i;    /* XRGB8888 */
	CHECK_EQ_U64(create_2d(1, 2, 64, 48), 0x1100);
	CHECK_EQ_U64(create_2d(1, 2, 64, 48), 0x1203);          /* id in use */
	CHECK_EQ_U64(create_2d(0, 2, 64, 48), 0x1203);          /* id 0 */
	CHECK_EQ_U64(create_2d(2, 999, 64, 48), 0x1205);        /* format */
	CHECK_EQ_U64(create_2d(2, 2, 0, 48), 0x1205);
	CHECK_EQ_U64(TRANSFER(0, 0, 64, 48, 0, 1), 0x1205);     /* no backing */
	CHECK_EQ_U64(attach(1, RAM - 4096, 8192), 0x1205);      /* not RAM */
	CHECK_EQ_U64(attach(9, FB, 64 * 48 * 4), 0x1203);
	CHECK_EQ_U64(attach(1, FB, 64 * 48 * 4), 0x1100);
	CHECK_EQ_U64(attach(1, FB, 64 * 48 * 4), 0x1205);       /* twice */
	CHECK_EQ_U64(TRANSFER(0, 0, 64, 48, 0, 1), 0x1100);
	CHECK_EQ_U64(TRANSFER(0, 0, 65, 48, 0, 1), 0x1205);     /* outside */
	CHECK_EQ_U64(TRANSFER(0, 1, 64, 48, 0, 1), 0x1205);
	CHECK_EQ_U64(TRANSFER(0, 40, 64, 8, 48 * 256, 1), 0x1205); /* past backing */
	CHECK_EQ_U64(TRANSFER(0xFFFFFFFF, 0, 2, 2, 0, 1), 0x1205);
	surface_changes = 0;
	CHECK_EQ_U64(SET_SCANOUT(0, 0, 64, 48, 1, 1), 0x1202);
	CHECK_EQ_U64(SET_SCANOUT(0, 0, 64, 48, 0, 7), 0x1203);
	CHECK_EQ_U64(SET_SCANOUT(0, 0, 65, 48, 0, 1), 0x1205);
	CHECK_EQ_U64(SET_SCANOUT(0, 0, 64, 48, 0, 1), 0x1100);
	CHECK_EQ_U64(surface_changes, 1);
	img = console_lock(con);
	CHECK(img && pixman_image_get_width(img) == 64 &&
	      pixman_image_get_height(img) == 48);
	px = img ? pixman_image_get_data(img)[5 * 64 + 7] : 0;
	console_unlock(con);
	CHECK_EQ_U64(px, 0x00FF0000u | (5 * 64 + 7));
	/* A flush is damage of exactly its rectangle. */
	damage_count = 0;
	CHECK_EQ_U64(FLUSH(3, 4, 10, 6, 1), 0x1100);
	CHECK_EQ_U64(damage_count, 1);
	CHECK_EQ_U64(last_damage.x1, 3);
	CHECK_EQ_U64(last_damage.y1, 4);
	CHECK_EQ_U64(last_damage.x2, 13);
	CHECK_EQ_U64(last_damage.y2, 10);
	CHECK_EQ_U64(FLUSH(60, 40, 10, 10, 1), 0x1205);
	CHECK_EQ_U64(FLUSH(0, 0, 1, 1, 5), 0x1203);
	/* A partial transfer updates only its rectangle. */
	fb[10 * 64 + 20] = 0x0000FF00u;
	CHECK_EQ_U64(TRANSFER(20, 10, 1, 1, (10 * 64 + 20) * 4, 1), 0x1100);
	console_read_pixels(con, 20, 10, 1, 1, PIXMAN_x8r8g8b8, &px, 4);
	CHECK_EQ_U64(px & 0xFFFFFF, 0x00FF00);
	/* Cursor: 64x64 resource, update then hide. */
	CHECK_EQ_U64(create_2d(3, 1, 64, 64), 0x1100);
	{
		struct vdrv *d = &gd;
		uint32_t cur[14] = { 0x300, 0, 0, 0, 0, 0, 0, 10, 20, 0, 3, 5, 6, 0 };
		const struct console_cursor *cc;

		cursor_changes = 0;
		mem_write(&vm.mem, CMD + 0x1000, cur, sizeof(cur));
		vd_set_desc(d, 1, 0, CMD + 0x1000, sizeof(cur), 0, 0);
		vd_kick(d, 1, 0);
		CHECK_EQ_U64(vd_used_new(d, 1, NULL), 1);
		CHECK_EQ_U64(cursor_changes, 1);
		console_lock(con);
		cc = console_cursor_locked(con);
		CHECK(cc->pixels && cc->width == 64 && cc->hot_x == 5 &&
		      cc->hot_y == 6 && cc->x == 10 && cc->y == 20);
		console_unlock(con);
	}
	/* Unref of the scanout's resource drops the picture. */
	CHECK_EQ_U64(rect_cmd(0x102, 1, 0, 0, 0, 0, 0, 0), 0x1100);
	CHECK_EQ_U64(rect_cmd(0x102, 1, 0, 0, 0, 0, 0, 0), 0x1203);
	{
		int w, h;

		console_get_size(con, &w, &h);
		CHECK(w == 0 && h == 0);
	}
	CHECK_EQ_U64(rect_cmd(0x102, 3, 0, 0, 0, 0, 0, 0), 0x1100);
	CHECK_EQ_U64(virtio_gpu_resource_count(gpu), 0);
}

static void test_hostile_commands(void)
{
	uint32_t c[16] = { 0 };

	c[0] = 0x0209;                   /* unknown */
	CHECK_EQ_U64(gpu_cmd(c, 24, 24), 0x1200);
	c[0] = 0x0108;                   /* 3D: capset info */
	CHECK_EQ_U64(gpu_cmd(c, 32, 40), 0x1200);
	c[0] = 0x101;                    /* create, too short */
	CHECK_EQ_U64(gpu_cmd(c, 28, 24), 0x1200);
	/* Over the memory cap: out of memory, nothing allocated. */
	CHECK_EQ_U64(create_2d(5, 2, 16384, 16384), 0x1201);
	CHECK_EQ_U64(create_2d(5, 2, 2048, 1024), 0x1100);      /* 8 MiB: all */
	CHECK_EQ_U64(create_2d(6, 2, 1, 1), 0x1201);
	CHECK_EQ_U64(virtio_gpu_host_mem(gpu), CAP);
	CHECK_EQ_U64(rect_cmd(0x102, 5, 0, 0, 0, 0, 0, 0), 0x1100);
	CHECK_EQ_U64(virtio_gpu_host_mem(gpu), 0);
	/* Attach with a huge entry count but a short request. */
	{
		uint32_t a[8] = { 0x106, 0, 0, 0, 0, 0, 7, 0xFFFFFFFF };

		CHECK_EQ_U64(create_2d(7, 2, 16, 16), 0x1100);
		CHECK_EQ_U64(gpu_cmd(a, sizeof(a), 24), 0x1205);
		a[7] = 1000;
		CHECK_EQ_U64(gpu_cmd(a, sizeof(a), 24), 0x1200);
	}
	/* No room for the response: used with length 0, no crash. */
	{
		uint32_t len = 99;

		mem_write(&vm.mem, CMD, c, 24);
		vd_request(&gd, 0, CMD, 24, 0, 0);
		CHECK_EQ_U64(vd_used_new(&gd, 0, &len), 1);
		CHECK_EQ_U64(len, 0);
	}
}

/* Malformed chains: the queue stops and the device asks for a reset. */
static void expect_broken(const char *what)
{
	uint8_t st = (uint8_t)vd_read(&gd, VIRTIO_COMMON_STATUS, 1);

	if (!(st & VIRTIO_STATUS_NEEDS_RESET))
		printf("FAIL: %s did not set NEEDS_RESET\n", what);
	CHECK(st & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ_U64(vd_used_new(&gd, 0, NULL), 0);
	vd_init(&gd, &vm, virtio_gpu_transport(gpu), 2, 1ULL << 28);
}

static void test_malformed_chains(void)
{
	vd_init(&gd, &vm, virtio_gpu_transport(gpu), 2, 1ULL << 28);
	/* A loop: 0 -> 1 -> 0. */
	vd_set_desc(&gd, 0, 0, CMD, 24, VIRTQ_DESC_F_NEXT, 1);
	vd_set_desc(&gd, 0, 1, CMD, 24, VIRTQ_DESC_F_NEXT, 0);
	vd_kick(&gd, 0, 0);
	expect_broken("a descriptor loop");
	/* A buffer outside guest RAM. */
	vd_set_desc(&gd, 0, 0, RAM - 8, 24, 0, 0);
	vd_kick(&gd, 0, 0);
	expect_broken("an out-of-RAM buffer");
	/* next beyond the queue size. */
	vd_set_desc(&gd, 0, 0, CMD, 24, VIRTQ_DESC_F_NEXT, 500);
	vd_kick(&gd, 0, 0);
	expect_broken("next out of range");
	/* Head index beyond the queue. */
	vd_kick(&gd, 0, 300);
	expect_broken("a head out of range");
	/* Readable after writable. */
	vd_set_desc(&gd, 0, 0, RESP, 24, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vd_set_desc(&gd, 0, 1, CMD, 24, 0, 0);
	vd_kick(&gd, 0, 0);
	expect_broken("readable after writable");
	/* Avail index far ahead. */
	{
		uint16_t idx = 1000;

		mem_write(&vm.mem, vd_avail(0) + 2, &idx, 2);
		vd_write(&gd, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
		expect_broken("avail index jump");
	}
	/* Indirect: nested, looping, misaligned length, outside RAM. */
	{
		struct virtq_desc t[2] = {
			{ CMD, 24, VIRTQ_DESC_F_NEXT, 1 },
			{ CMD, 24, VIRTQ_DESC_F_NEXT, 0 },
		};

		mem_write(&vm.mem, 0x300000, t, sizeof(t));
		vd_set_desc(&gd, 0, 0, 0x300000, sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
		vd_kick(&gd, 0, 0);
		expect_broken("an indirect loop");
		t[0].flags = VIRTQ_DESC_F_INDIRECT;
		mem_write(&vm.mem, 0x300000, t, sizeof(t));
		vd_set_desc(&gd, 0, 0, 0x300000, sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
		vd_kick(&gd, 0, 0);
		expect_broken("a nested indirect table");
		vd_set_desc(&gd, 0, 0, 0x300000, 20, VIRTQ_DESC_F_INDIRECT, 0);
		vd_kick(&gd, 0, 0);
		expect_broken("an indirect length not a multiple of 16");
		vd_set_desc(&gd, 0, 0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
		vd_kick(&gd, 0, 0);
		expect_broken("an indirect table outside RAM");
	}
	/* A good indirect request works: header + response. */
	{
		struct virtq_desc t[2] = {
			{ CMD, 24, VIRTQ_DESC_F_NEXT, 1 },
			{ RESP, 408, VIRTQ_DESC_F_WRITE, 0 },
		};
		uint32_t c[6] = { 0x100 }, type = 0;

		mem_write(&vm.mem, CMD, c, sizeof(c));
		mem_write(&vm.mem, 0x300000, t, sizeof(t));
		vd_set_desc(&gd, 0, 0, 0x300000, sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
		vd_kick(&gd, 0, 0);
		CHECK_EQ_U64(vd_used_new(&gd, 0, NULL), 1);
		mem_read(&vm.mem, RESP, &type, 4);
		CHECK_EQ_U64(type, 0x1101);
	}
}

/* --- virtio-input -------------------------------------------------------------------- */

static uint8_t input_cfg(struct vdrv *d, uint8_t sel, uint8_t sub, uint8_t *out)
{
	vd_write(d, VIRTIO_PCI_DEVCFG_OFF, 1, sel);
	vd_write(d, VIRTIO_PCI_DEVCFG_OFF + 1, 1, sub);
	for (unsigned i = 0; out && i < 128; i++)
		out[i] = (uint8_t)vd_read(d, VIRTIO_PCI_DEVCFG_OFF + 8 + i, 1);
	return (uint8_t)vd_read(d, VIRTIO_PCI_DEVCFG_OFF + 2, 1);
}

static void test_input(void)
{
	struct vdrv d;
	uint8_t u[128];
	uint16_t ev[4 * 8];

	CHECK(!virtio_input_active(tablet));
	vd_init(&d, &vm, virtio_input_transport(tablet), 2, 0);
	CHECK(virtio_input_active(tablet));
	CHECK_EQ_U64(input_cfg(&d, 1, 0, u), 17);
	CHECK(!memcmp(u, "vmm virtio tablet", 17));
	CHECK(input_cfg(&d, 0x11, 3, u) >= 1);          /* EV_ABS */
	CHECK_EQ_U64(u[0] & 3, 3);
	CHECK(input_cfg(&d, 0x11, 1, u) >= 0x23);       /* EV_KEY: BTN_LEFT */
	CHECK(u[0x110 / 8] & 1);
	CHECK_EQ_U64(input_cfg(&d, 0x12, 0, u), 20);    /* ABS_INFO X */
	CHECK_EQ_U64(u[4] | u[5] << 8, 0x7FFF);
	CHECK_EQ_U64(input_cfg(&d, 0x11, 0x11, u), 0);   /* no LEDs */
	CHECK_EQ_U64(input_cfg(&d, 0x99, 0, NULL), 0);
	/* Post 8 event buffers, then a pointer report: X, Y, BTN_LEFT, SYN. */
	for (unsigned i = 0; i < 8; i++) {
		vd_set_desc(&d, 0, i, 0x500000 + 8 * i, 8, VIRTQ_DESC_F_WRITE, 0);
		vd_kick(&d, 0, (uint16_t)i);
	}
	virtio_input_position(tablet, 100, 200, 0, 0, 1);
	CHECK_EQ_U64(vd_used_new(&d, 0, NULL), 4);
	mem_read(&vm.mem, 0x500000, ev, sizeof(ev));
	CHECK(ev[0] == 3 && ev[1] == 0 && ev[2] == 100);
	CHECK(ev[4] == 3 && ev[5] == 1 && ev[6] == 200);
	CHECK(ev[8] == 1 && ev[9] == 0x110 && ev[10] == 1);
	CHECK(ev[12] == 0 && ev[13] == 0);
	/* Only 4 buffers left: the rest waits until more are posted. */
	virtio_input_position(tablet, 1, 2, 1, 0, 0);   /* X Y BTN WHEEL SYN */
	CHECK_EQ_U64(vd_used_new(&d, 0, NULL), 4);
	vd_set_desc(&d, 0, 8, 0x500100, 8, VIRTQ_DESC_F_WRITE, 0);
	vd_kick(&d, 0, 8);
	CHECK_EQ_U64(vd_used_new(&d, 0, NULL), 1);
	/* Keyboard: E0 48 (Up) is KEY_UP 103; LEDs come back. */
	vd_init(&d, &vm, virtio_input_transport(kbd), 2, 0);
	CHECK(input_cfg(&d, 0x11, 1, u) >= 13);
	CHECK(u[103 / 8] & (1 << (103 % 8)));
	CHECK(input_cfg(&d, 0x11, 0x11, u) == 1 && u[0] == 7);
	vd_set_desc(&d, 0, 0, 0x500000, 8, VIRTQ_DESC_F_WRITE, 0);
	vd_kick(&d, 0, 0);
	vd_set_desc(&d, 0, 1, 0x500008, 8, VIRTQ_DESC_F_WRITE, 0);
	vd_kick(&d, 0, 1);
	virtio_input_key(kbd, 0xC8, true);
	CHECK_EQ_U64(vd_used_new(&d, 0, NULL), 2);
	mem_read(&vm.mem, 0x500000, ev, 16);
	CHECK(ev[0] == 1 && ev[1] == 103 && ev[2] == 1);
	{
		uint16_t led[4] = { 0x11, 1, 1, 0 };   /* caps on */

		mem_write(&vm.mem, 0x500200, led, 8);
		vd_set_desc(&d, 1, 0, 0x500200, 8, 0, 0);
		vd_kick(&d, 1, 0);
		CHECK_EQ_U64(vd_used_new(&d, 1, NULL), 1);
		CHECK_EQ_U64(console_input_leds(con), 4);
	}
	/* Reset: inactive again, events dropped. */
	vd_write(&d, VIRTIO_COMMON_STATUS, 1, 0);
	CHECK(!virtio_input_active(kbd));
	virtio_input_key(kbd, 0x1E, true);
	CHECK_EQ_U64(vd_used_new(&d, 0, NULL), 0);
}

static void kbd_leds(void *o, unsigned leds)
{
	(void)o;
	console_input_set_leds(con, leds);
}

static const struct virtio_input_ops kops = { .set_leds = kbd_leds };

int main(void)
{
	struct virtio_gpu_config gc = { .max_host_mem = CAP };

	log_max_level = LOG_ERR;
	vm.kvm_fd = vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	vm.irq_observer = observer;
	if (mem_init(&vm.mem, RAM) != 0) {
		printf("FAIL mem_init\n");
		return 1;
	}
	pci = pci_create(&vm);
	con = console_create("test");
	CHECK(pci && con);
	gpu = virtio_gpu_create(&vm, pci, NULL, con, &gc);
	tablet = virtio_input_create(&vm, pci, NULL, VIRTIO_INPUT_TABLET, NULL, NULL);
	kbd = virtio_input_create(&vm, pci, NULL, VIRTIO_INPUT_KEYBOARD, &kops, NULL);
	CHECK(gpu && tablet && kbd);
	if (!gpu || !tablet || !kbd)
		return check_summary("test_virtio");
	console_add_listener(con, &listener);
	test_pci_identity();
	test_negotiation();
	test_intx();
	test_msix();
	test_display_info_edid();
	test_draw();
	test_hostile_commands();
	test_malformed_chains();
	test_input();
	console_remove_listener(con, &listener);
	pci_destroy(pci);
	virtio_gpu_destroy(gpu);
	virtio_input_destroy(tablet);
	virtio_input_destroy(kbd);
	console_destroy(con);
	mem_destroy(&vm.mem);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	return check_summary("test_virtio");
}
