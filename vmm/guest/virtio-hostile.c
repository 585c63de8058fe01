// SPDX-License-Identifier: MIT
/*
 * test=virtio-hostile: a guest that lies to the virtio-gpu device, then
 * checks that it got the error answers the specification asks for and
 * that the device still works (see README.md). Three phases:
 *
 *  1. bad commands on a healthy queue, each answered: unknown and short
 *     commands, resource ids 0 / unknown / duplicate, zero, oversized and
 *     over-the-cap sizes, unknown formats, backing outside guest RAM or
 *     wrapping around, too many or missing entries, transfers beyond the
 *     backing or the resource, bad scanouts and rectangles, a response
 *     buffer too small or missing, filling the host memory cap;
 *  2. bad queues, each must set DEVICE_NEEDS_RESET (and nothing worse):
 *     descriptor loops, heads and next indices out of range, buffers
 *     outside RAM or of length 4 GiB - 1, writable before readable,
 *     broken indirect tables, an avail index far ahead; rings outside RAM
 *     and bad queue sizes must not enable; unknown features must be
 *     refused. After each the guest resets the device and probes it again;
 *  3. a sane set-up with the test picture: "RESULT virtio-hostile ok
 *     checks=N", then q on COM1 exits 0.
 * Any unexpected answer: "RESULT error virtio-hostile <check> got=.. want=.."
 * and exit 1.
 */
#include "virtio.h"
#include "virtio-gpu.h"

#define VIRTIO_F_INDIRECT_DESC 28
#define BAD_ADDR  0xFFFFFFF000ull        /* far beyond any test VM's RAM */
#define RES       10                     /* the phase 1 resource */
#define RES_W     64
#define RES_H     64
#define CAP_RES   100                    /* first id of the cap-filling ones */
#define CAP_DIM   2048                   /* 16 MiB each */
#define CAP_MAX   64
#define NEEDS_RESET_TSC (1ull << 31)

static unsigned checks;

static void check(const char *what, uint64_t got, uint64_t want)
{
	checks++;
	if (got == want) {
		out_printf(OUT_DEBUG, "INFO hostile %s ok 0x%lx\n", what, got);
		return;
	}
	out_printf(OUT_BOTH, "RESULT error virtio-hostile %s got=0x%lx want=0x%lx\n",
		   what, got, want);
	guest_exit(EXIT_FAIL);
}

static uint32_t cmd(const void *c, uint32_t len)
{
	return gpu_cmd(c, len, 0, 0, NULL, 0);
}

static uint32_t create(uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
	struct gpu_cmd_create_2d c = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
		.resource_id = id, .format = fmt, .width = w, .height = h,
	};

	return cmd(&c, sizeof(c));
}

static uint32_t res_cmd(uint32_t type, uint32_t id)
{
	struct gpu_cmd_res c = { .hdr.type = type, .resource_id = id };

	return cmd(&c, sizeof(c));
}

/* ATTACH_BACKING claiming nr entries, of which n are sent. */
static uint32_t attach(uint32_t id, uint32_t nr, const struct gpu_mem_entry *e,
		       uint32_t n)
{
	static struct gpu_mem_entry ents[4];
	struct gpu_cmd_attach c = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
		.resource_id = id, .nr_entries = nr,
	};

	memcpy(ents, e, sizeof(*e) * n);
	return gpu_cmd(&c, sizeof(c), (uintptr_t)ents,
		       n * (uint32_t)sizeof(*e), NULL, 0);
}

static uint32_t transfer(uint32_t id, struct gpu_rect r, uint64_t off)
{
	struct gpu_cmd_transfer c = {
		.hdr.type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, .r = r,
		.offset = off, .resource_id = id,
	};

	return cmd(&c, sizeof(c));
}

static uint32_t scanout(uint32_t sid, uint32_t id, struct gpu_rect r)
{
	struct gpu_cmd_set_scanout c = {
		.hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT, .r = r,
		.scanout_id = sid, .resource_id = id,
	};

	return cmd(&c, sizeof(c));
}

static uint32_t flush(uint32_t id, struct gpu_rect r)
{
	struct gpu_cmd_flush c = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_FLUSH, .r = r,
		.resource_id = id,
	};

	return cmd(&c, sizeof(c));
}

/* --- phase 1: bad commands ------------------------------------------------------ */

static void bad_creates(void)
{
	struct gpu_hdr h = { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D };

	check("create-huge", create(RES, 2, 16384, 16384),
	      VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	check("create-too-wide", create(RES, 2, 16385, 1),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("create-4g-wide", create(RES, 2, 0xFFFFFFFFu, 0xFFFFFFFFu),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("create-empty", create(RES, 2, 0, 0),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("create-format", create(RES, 999, 64, 64),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("create-id0", create(0, 2, 64, 64),
	      VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	check("create-short", cmd(&h, sizeof(h)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	check("create", create(RES, 2, RES_W, RES_H), VIRTIO_GPU_RESP_OK_NODATA);
	check("create-dup", create(RES, 2, RES_W, RES_H),
	      VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
}

static void bad_backing(uint32_t *page)
{
	uint64_t top = guest_ram_bytes();
	struct gpu_mem_entry e[4] = {
		{ BAD_ADDR, 4096, 0 },
		{ top - 256, 4096, 0 },                 /* straddles the end */
		{ 0xFFFFFFFFFFFFF000ull, 0x2000, 0 },   /* wraps around */
		{ (uintptr_t)page, 4096, 0 },
	};

	check("attach-outside-ram", attach(RES, 1, &e[0], 1),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("attach-ram-end", attach(RES, 1, &e[1], 1),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("attach-wrap", attach(RES, 1, &e[2], 1),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("attach-too-many", attach(RES, 1u << 20, &e[3], 1),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("attach-missing-entries", attach(RES, 4, &e[3], 1),
	      VIRTIO_GPU_RESP_ERR_UNSPEC);
	check("attach-unknown", attach(77, 1, &e[3], 1),
	      VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	check("transfer-no-backing",
	      transfer(RES, (struct gpu_rect){ 0, 0, 1, 1 }, 0),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* One page backs a resource four pages large. */
	check("attach-short", attach(RES, 1, &e[3], 1), VIRTIO_GPU_RESP_OK_NODATA);
	check("attach-twice", attach(RES, 1, &e[3], 1),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("transfer-in-backing",
	      transfer(RES, (struct gpu_rect){ 0, 0, RES_W, 4 }, 0),
	      VIRTIO_GPU_RESP_OK_NODATA);
	check("transfer-beyond-backing",
	      transfer(RES, (struct gpu_rect){ 0, 0, RES_W, RES_H }, 0),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("transfer-outside",
	      transfer(RES, (struct gpu_rect){ 60, 0, 10, 1 }, 0),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("transfer-wrap",
	      transfer(RES, (struct gpu_rect){ 0xFFFFFFFFu, 0, 2, 1 }, 0),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("transfer-offset",
	      transfer(RES, (struct gpu_rect){ 0, 0, 1, 1 }, 1ull << 63),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("transfer-unknown",
	      transfer(77, (struct gpu_rect){ 0, 0, 1, 1 }, 0),
	      VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
}

static void bad_scanouts(void)
{
	struct gpu_cmd_get_edid e = { .hdr.type = VIRTIO_GPU_CMD_GET_EDID,
				      .scanout = 9 };

	check("scanout-id", scanout(5, RES, (struct gpu_rect){ 0, 0, 8, 8 }),
	      VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	check("scanout-resource", scanout(0, 77, (struct gpu_rect){ 0, 0, 8, 8 }),
	      VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	check("scanout-rect", scanout(0, RES, (struct gpu_rect){ 0, 0, RES_W + 1, RES_H }),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("scanout-empty", scanout(0, RES, (struct gpu_rect){ 0, 0, 0, 0 }),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("scanout-wrap",
	      scanout(0, RES, (struct gpu_rect){ 0xFFFFFFF0u, 0, 0x20, 8 }),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("flush-unknown", flush(77, (struct gpu_rect){ 0, 0, 1, 1 }),
	      VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	check("flush-outside", flush(RES, (struct gpu_rect){ 0, 0, RES_W, RES_H + 1 }),
	      VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	check("unref-unknown", res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNREF, 77),
	      VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	check("detach-unknown", res_cmd(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 77),
	      VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	check("edid-scanout", cmd(&e, sizeof(e)),
	      VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
}

static void bad_responses(void)
{
	struct gpu_hdr info = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	struct gpu_hdr unknown = { .type = 0x9999 };

	check("unknown-command", cmd(&unknown, sizeof(unknown)),
	      VIRTIO_GPU_RESP_ERR_UNSPEC);
	check("short-header", cmd(&unknown, 8), VIRTIO_GPU_RESP_ERR_UNSPEC);
	/* 408 bytes of answer into a 24-byte buffer: cut, not overflowed. */
	check("small-response", gpu_cmd(&info, sizeof(info), 0, 0, NULL,
					sizeof(struct gpu_hdr)),
	      VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	check("small-response-len", gpu.ctrl.last_len, sizeof(struct gpu_hdr));
	/* No writable buffer at all: nothing written, the chain returned. */
	gpu_batch_begin();
	check("no-response-add", gpu_batch_add(&info, sizeof(info),
					       (uintptr_t)gpu.req[1].cmd, 64, 0) != NULL, 1);
	/* gpu_batch_add always ends with a response descriptor; make it
	 * device-readable so the chain has none. */
	gpu.ctrl.desc[gpu.ctrl.next_desc - 1].flags = 0;
	check("no-response-run", gpu_batch_run(), 1);
	check("no-response-len", gpu.ctrl.last_len, 0);
}

/* Fill the host memory cap with 16 MiB resources, then free them. */
static void fill_cap(void)
{
	unsigned n = 0;
	uint32_t t;

	while (n < CAP_MAX &&
	       (t = create(CAP_RES + n, 2, CAP_DIM, CAP_DIM)) == VIRTIO_GPU_RESP_OK_NODATA)
		n++;
	check("cap-reached", t, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	out_printf(OUT_DEBUG, "INFO hostile cap: %u resources of %u MiB\n", n,
		   CAP_DIM * CAP_DIM * 4 >> 20);
	check("cap-some-fit", n > 0 && n < CAP_MAX, 1);
	for (unsigned i = 0; i < n; i++)
		check("cap-unref", res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNREF, CAP_RES + i),
		      VIRTIO_GPU_RESP_OK_NODATA);
	check("cap-free-again", create(CAP_RES, 2, CAP_DIM, CAP_DIM),
	      VIRTIO_GPU_RESP_OK_NODATA);
	check("cap-free-unref", res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNREF, CAP_RES),
	      VIRTIO_GPU_RESP_OK_NODATA);
}

/* Cursor commands have no answers; garbage must just be consumed. */
static void bad_cursor(void)
{
	static uint32_t c[14];
	struct vring_desc b = { (uintptr_t)c, sizeof(c), 0, 0 };

	vq_begin(&gpu.cursor);
	c[0] = VIRTIO_GPU_CMD_UPDATE_CURSOR;
	c[6] = 0; c[7] = 0xFFFFFFFFu; c[8] = 0xFFFFFFFFu;
	c[10] = 77; c[11] = 0xFFFFFFFFu; c[12] = 0xFFFFFFFFu;
	vq_add(&gpu.cursor, &b, 1, 0);
	vq_add(&gpu.cursor, &(struct vring_desc){ (uintptr_t)c, 4, 0, 0 }, 1, 0);
	check("cursor-garbage", vq_run(&gpu.cursor, 0), 1);
	c[0] = VIRTIO_GPU_CMD_MOVE_CURSOR;
	c[6] = 7;                                  /* scanout 7 */
	vq_begin(&gpu.cursor);
	vq_add(&gpu.cursor, &b, 1, 0);
	check("cursor-scanout", vq_run(&gpu.cursor, 0), 1);
}

static void phase_commands(void)
{
	uint32_t *page = galloc(4096, 4096);
	struct gpu_hdr info = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };

	if (!page)
		guest_exit(EXIT_FAIL);
	bad_creates();
	bad_backing(page);
	bad_scanouts();
	bad_responses();
	fill_cap();
	bad_cursor();
	check("unref", res_cmd(VIRTIO_GPU_CMD_RESOURCE_UNREF, RES),
	      VIRTIO_GPU_RESP_OK_NODATA);
	check("healthy", gpu_cmd(&info, sizeof(info), 0, 0, NULL, 0),
	      VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	check("healthy-status", vdev_status(&gpu.dev) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

/* --- phase 2: bad queues ---------------------------------------------------------- */

/* A fresh, healthy device with INDIRECT_DESC negotiated. */
static void reprobe(void)
{
	if (!gpu_probe())
		guest_exit(EXIT_FAIL);
}

static void wait_needs_reset(const char *what)
{
	uint64_t start = rdtsc();

	while (!(vdev_status(&gpu.dev) & VIRTIO_STATUS_NEEDS_RESET) &&
	       rdtsc() - start < NEEDS_RESET_TSC)
		__asm__ volatile("pause");
	check(what, vdev_status(&gpu.dev) & VIRTIO_STATUS_NEEDS_RESET,
	      VIRTIO_STATUS_NEEDS_RESET);
}

/* Publish raw descriptors d[0..n) at index 0 with the given head. */
static void raw_chain(const char *what, const struct vring_desc *d,
		      unsigned n, uint16_t head)
{
	uint64_t mark = galloc_mark();

	reprobe();
	vq_begin(&gpu.ctrl);
	vq_add_raw(&gpu.ctrl, 0, d, n, head);
	vq_kick(&gpu.ctrl);
	wait_needs_reset(what);
	galloc_release(mark);
}

static void bad_chains(void)
{
	static struct gpu_hdr info = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	static uint8_t resp[512];
	static struct vring_desc table[4];
	uint64_t ci = (uintptr_t)&info, rs = (uintptr_t)resp;
	const uint16_t N = VRING_DESC_F_NEXT, W = VRING_DESC_F_WRITE,
		       I = VRING_DESC_F_INDIRECT;
	struct vring_desc d[2];

	d[0] = (struct vring_desc){ ci, 24, N, 1 };
	d[1] = (struct vring_desc){ rs, 512, N | W, 0 };
	raw_chain("loop", d, 2, 0);
	d[0] = (struct vring_desc){ ci, 24, N, 0 };
	raw_chain("self-loop", d, 1, 0);
	d[0] = (struct vring_desc){ BAD_ADDR, 24, N, 1 };
	d[1] = (struct vring_desc){ rs, 512, W, 0 };
	raw_chain("desc-outside-ram", d, 2, 0);
	d[0] = (struct vring_desc){ ci, 0xFFFFFFFFu, N, 1 };
	raw_chain("desc-4g-long", d, 2, 0);
	d[0] = (struct vring_desc){ ci, 24, N, 1 };
	raw_chain("head-out-of-range", d, 2, 999);
	d[0] = (struct vring_desc){ ci, 24, N, 500 };
	raw_chain("next-out-of-range", d, 2, 0);
	d[0] = (struct vring_desc){ rs, 512, N | W, 1 };
	d[1] = (struct vring_desc){ ci, 24, 0, 0 };
	raw_chain("write-before-read", d, 2, 0);
	/* Indirect tables. */
	table[0] = (struct vring_desc){ ci, 24, N, 1 };
	table[1] = (struct vring_desc){ rs, 512, N | W, 0 };   /* loop */
	d[0] = (struct vring_desc){ (uintptr_t)table, 32, I, 0 };
	raw_chain("indirect-loop", d, 1, 0);
	d[0] = (struct vring_desc){ (uintptr_t)table, 20, I, 0 };
	raw_chain("indirect-odd-length", d, 1, 0);
	d[0] = (struct vring_desc){ BAD_ADDR, 32, I, 0 };
	raw_chain("indirect-outside-ram", d, 1, 0);
	table[0] = (struct vring_desc){ (uintptr_t)table, 32, I, 0 };
	d[0] = (struct vring_desc){ (uintptr_t)table, 16, I, 0 };
	raw_chain("indirect-nested", d, 1, 0);
	d[0] = (struct vring_desc){ (uintptr_t)table, 16, I | N, 1 };
	d[1] = (struct vring_desc){ rs, 512, W, 0 };
	raw_chain("indirect-with-next", d, 2, 0);
}

/* A valid request through an indirect table is answered. */
static void good_indirect(void)
{
	static struct gpu_hdr info = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	static struct gpu_resp_display_info resp;
	static struct vring_desc table[2];
	struct vring_desc d = { (uintptr_t)table, sizeof(table),
				VRING_DESC_F_INDIRECT, 0 };

	reprobe();
	table[0] = (struct vring_desc){ (uintptr_t)&info, sizeof(info),
					VRING_DESC_F_NEXT, 1 };
	table[1] = (struct vring_desc){ (uintptr_t)&resp, sizeof(resp),
					VRING_DESC_F_WRITE, 0 };
	resp.hdr.type = 0;
	vq_begin(&gpu.ctrl);
	vq_add_raw(&gpu.ctrl, 0, &d, 1, 0);
	check("indirect-ok-run", vq_run(&gpu.ctrl, 0), 1);
	check("indirect-ok", resp.hdr.type, VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
}

static void bad_avail(void)
{
	uint64_t mark = galloc_mark();

	reprobe();
	vq_set_avail_idx(&gpu.ctrl, 1000);
	wait_needs_reset("avail-idx-jump");
	galloc_release(mark);
}

/* Ring addresses outside RAM or misaligned, sizes not a power of two:
 * the queue must stay disabled. */
static void bad_rings(void)
{
	static const struct { const char *what; uint16_t size; uint64_t desc; } c[] = {
		{ "ring-outside-ram", 64, BAD_ADDR },
		{ "ring-misaligned", 64, (16ull << 20) + 8 },
		{ "ring-size-3", 3, 16ull << 20 },
		{ "ring-size-huge", 0x8000, 16ull << 20 },
	};

	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		vdev_reset(&gpu.dev);
		vdev_common_write16(&gpu.dev, VCOMMON_Q_SELECT, 0);
		vdev_common_write16(&gpu.dev, VCOMMON_Q_SIZE, c[i].size);
		vdev_common_write64(&gpu.dev, VCOMMON_Q_DESC, c[i].desc);
		vdev_common_write64(&gpu.dev, VCOMMON_Q_AVAIL, 17ull << 20);
		vdev_common_write64(&gpu.dev, VCOMMON_Q_USED, 18ull << 20);
		vdev_common_write16(&gpu.dev, VCOMMON_Q_ENABLE, 1);
		check(c[i].what, vdev_common_read16(&gpu.dev, VCOMMON_Q_ENABLE), 0);
	}
	/* A queue that does not exist reads as size 0 and ignores writes. */
	vdev_common_write16(&gpu.dev, VCOMMON_Q_SELECT, 0xFFFF);
	vdev_common_write16(&gpu.dev, VCOMMON_Q_SIZE, 64);
	vdev_common_write16(&gpu.dev, VCOMMON_Q_ENABLE, 1);
	check("queue-missing", vdev_common_read16(&gpu.dev, VCOMMON_Q_SIZE), 0);
}

/* Features the device never offered, or no VERSION_1: refused. */
static void bad_features(void)
{
	static const uint32_t hi[2] = { 0xFFFFFFFFu, 0 };

	for (unsigned i = 0; i < 2; i++) {
		vdev_reset(&gpu.dev);
		mmio_write8(gpu.dev.common + VCOMMON_STATUS,
			    VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
		vdev_common_write32(&gpu.dev, VCOMMON_GFSELECT, 0);
		vdev_common_write32(&gpu.dev, VCOMMON_GF, i ? 0 : 0xFFFFFFFFu);
		vdev_common_write32(&gpu.dev, VCOMMON_GFSELECT, 1);
		vdev_common_write32(&gpu.dev, VCOMMON_GF, hi[i]);
		mmio_write8(gpu.dev.common + VCOMMON_STATUS,
			    VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
			    VIRTIO_STATUS_FEATURES_OK);
		check(i ? "features-no-version-1" : "features-unknown",
		      vdev_status(&gpu.dev) & VIRTIO_STATUS_FEATURES_OK, 0);
	}
}

static void phase_queues(void)
{
	uint64_t mark = galloc_mark();

	bad_chains();
	good_indirect();
	bad_avail();
	bad_rings();
	bad_features();
	galloc_release(mark);
}

int virtio_test_hostile(void)
{
	struct gpu_fb fb;
	unsigned w = vga_opts.width ? vga_opts.width : 1024;
	unsigned h = vga_opts.height ? vga_opts.height : 768;

	gpu_want_features(1ull << VIRTIO_F_INDIRECT_DESC);
	if (!gpu_probe())
		return EXIT_FAIL;
	check("indirect-negotiated",
	      !!(gpu.dev.features & (1ull << VIRTIO_F_INDIRECT_DESC)), 1);
	phase_commands();
	phase_queues();
	if (!gpu_probe() || !gpu_show(1, w, h, &fb))
		return EXIT_FAIL;
	gpu_draw_pattern(&fb);
	if (!gpu_update(&fb, (struct gpu_rect){ 0, 0, w, h }))
		return EXIT_FAIL;
	out_printf(OUT_BOTH, "RESULT virtio-hostile ok checks=%u w=%u h=%u\n",
		   checks, w, h);
	for (;;)
		if (serial_wait_byte() == 'q')
			return EXIT_OK;
}
