// SPDX-License-Identifier: MIT
/*
 * The virtio-gpu (PCI 1af4:1050) side of the built-in guest: a 2D driver
 * following the command sequence of Linux's drivers/gpu/drm/virtio
 * (virtio_gpu_init: GET_DISPLAY_INFO, GET_EDID; the fbdev / plane update
 * path: RESOURCE_CREATE_2D, RESOURCE_ATTACH_BACKING with one entry per
 * page, SET_SCANOUT, then TRANSFER_TO_HOST_2D + RESOURCE_FLUSH for every
 * change; on a mode change the old resource is detached and unreferenced)
 * and the display modes (see README.md):
 *   virtio-pattern  the vga-pattern picture; COM1 commands p (one pixel),
 *                   r (two known rectangles, each flushed alone), m (mode
 *                   change to 800x600), q (quit)
 *   virtio-anim     every pixel changes every frame, as fast as possible
 * The framebuffer (the resource's backing) is ordinary guest RAM: drawing
 * costs no VM exit; each frame costs two commands and one doorbell.
 */
#include "virtio.h"
#include "virtio-gpu.h"

#define PATTERN_DEFAULT_W 1024
#define PATTERN_DEFAULT_H 768
#define MODE2_W 800
#define MODE2_H 600
#define PIXEL_X 100
#define PIXEL_Y 100
#define ANIM_REPORT_EVERY 60
#define PAGE 4096u

struct gpu_state gpu;
static uint64_t extra_features;

/* The rectangles of the 'r' command: odd sizes, so a damage rectangle of
 * the wrong size (rounded to tiles, merged, clipped) shows. */
static const struct gpu_rect test_rects[] = {
	{ 16, 32, 200, 100 },
	{ 501, 403, 7, 3 },
};

/* --- requests ---------------------------------------------------------------- */

void gpu_batch_begin(void)
{
	vq_begin(&gpu.ctrl);
	gpu.nreq = 0;
}

struct gpu_req *gpu_batch_add(const void *cmd, uint32_t len, uint64_t data,
			      uint32_t data_len, uint32_t resp_len)
{
	struct gpu_req *r;
	struct vring_desc b[3];
	unsigned n = 0;

	if (gpu.nreq >= GPU_REQS || len > sizeof(r->cmd) ||
	    resp_len > sizeof(r->resp))
		return NULL;
	r = &gpu.req[gpu.nreq];
	memcpy(r->cmd, cmd, len);
	memset(r->resp, 0, sizeof(r->resp));
	b[n++] = (struct vring_desc){ (uintptr_t)r->cmd, len, 0, 0 };
	/* Extra data in its own descriptor, as Linux's vbuf->data_buf. */
	if (data_len)
		b[n++] = (struct vring_desc){ data, data_len, 0, 0 };
	b[n++] = (struct vring_desc){ (uintptr_t)r->resp, resp_len, 0, 0 };
	if (vq_add(&gpu.ctrl, b, n - 1, 1) < 0)
		return NULL;
	gpu.nreq++;
	return r;
}

bool gpu_batch_run(void)
{
	if (vq_run(&gpu.ctrl, 0))
		return true;
	out_printf(OUT_BOTH, "RESULT error virtio-gpu-timeout status=0x%x\n",
		   vdev_status(&gpu.dev));
	return false;
}

uint32_t gpu_resp_type(const struct gpu_req *r)
{
	return ((const struct gpu_hdr *)r->resp)->type;
}

/* One command, waited for; the response type (0: no answer). */
uint32_t gpu_cmd(const void *cmd, uint32_t len, uint64_t data,
		 uint32_t data_len, void *resp, uint32_t resp_len)
{
	struct gpu_req *r;

	gpu_batch_begin();
	r = gpu_batch_add(cmd, len, data, data_len,
			  resp_len ? resp_len : sizeof(struct gpu_hdr));
	if (!r || !gpu_batch_run())
		return 0;
	if (resp)
		memcpy(resp, r->resp, resp_len);
	return gpu_resp_type(r);
}

static bool expect_ok(const char *what, uint32_t type, uint32_t want)
{
	if (type == want)
		return true;
	out_printf(OUT_BOTH, "RESULT error virtio-gpu-%s resp=0x%x\n", what, type);
	return false;
}

/* --- set-up ---------------------------------------------------------------------- */

void gpu_want_features(uint64_t features)
{
	extra_features = features;
}

bool gpu_probe(void)
{
	struct gpu_hdr c = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	struct gpu_resp_display_info info;
	struct gpu_cmd_get_edid e = { .hdr.type = VIRTIO_GPU_CMD_GET_EDID };
	uint32_t t;

	if (!vdev_find(VIRTIO_DEV_GPU, 0, &gpu.dev)) {
		if (!gpu.dev.pci.device)
			out_printf(OUT_BOTH, "RESULT error no-virtio-gpu pci=%04x:%04x\n",
				   VIRTIO_VENDOR, VIRTIO_DEV_GPU);
		return false;
	}
	if (!vdev_negotiate(&gpu.dev, 1ull << VIRTIO_GPU_F_EDID | extra_features) ||
	    !vq_setup(&gpu.dev, 0, 64, &gpu.ctrl) ||
	    !vq_setup(&gpu.dev, 1, 16, &gpu.cursor))
		return false;
	gpu.req = galloc(sizeof(struct gpu_req) * GPU_REQS, PAGE);
	if (!gpu.req)
		return false;
	vdev_driver_ok(&gpu.dev);
	gpu.num_scanouts = vdev_cfg32(&gpu.dev, 8);
	t = gpu_cmd(&c, sizeof(c), 0, 0, &info, sizeof(info));
	if (!expect_ok("display-info", t, VIRTIO_GPU_RESP_OK_DISPLAY_INFO))
		return false;
	if (info.pmodes[0].enabled) {
		gpu.pref_w = info.pmodes[0].r.width;
		gpu.pref_h = info.pmodes[0].r.height;
	}
	if (gpu.dev.features & (1ull << VIRTIO_GPU_F_EDID)) {
		static struct gpu_resp_edid edid;

		t = gpu_cmd(&e, sizeof(e), 0, 0, &edid, sizeof(edid));
		if (!expect_ok("edid", t, VIRTIO_GPU_RESP_OK_EDID))
			return false;
		gpu.edid_size = edid.size;
	}
	out_printf(OUT_DEBUG,
		   "INFO virtio-gpu scanouts=%u preferred=%ux%u edid=%u features=0x%lx\n",
		   gpu.num_scanouts, gpu.pref_w, gpu.pref_h, gpu.edid_size,
		   gpu.dev.features);
	return true;
}

/* Backing of w x h pixels: page-sized scatter entries, as a shmem object's
 * pages reach the device. */
static bool create_fb(uint32_t id, unsigned w, unsigned h, struct gpu_fb *fb)
{
	uint64_t bytes = (uint64_t)w * h * 4;
	uint32_t pages = (uint32_t)((bytes + PAGE - 1) / PAGE);
	struct gpu_cmd_create_2d c = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
		.resource_id = id, .format = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
		.width = w, .height = h,
	};
	struct gpu_cmd_attach a = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
		.resource_id = id, .nr_entries = pages,
	};
	struct gpu_mem_entry *ents;

	fb->pixels = galloc(bytes, PAGE);
	ents = galloc((uint64_t)pages * sizeof(*ents), 16);
	if (!fb->pixels || !ents)
		return false;
	for (uint32_t i = 0; i < pages; i++) {
		uint64_t off = (uint64_t)i * PAGE;

		ents[i].addr = (uintptr_t)fb->pixels + off;
		ents[i].length = bytes - off < PAGE ? (uint32_t)(bytes - off) : PAGE;
	}
	fb->id = id;
	fb->w = w;
	fb->h = h;
	return expect_ok("create-2d", gpu_cmd(&c, sizeof(c), 0, 0, NULL, 0),
			 VIRTIO_GPU_RESP_OK_NODATA) &&
	       expect_ok("attach-backing",
			 gpu_cmd(&a, sizeof(a), (uintptr_t)ents,
				 pages * (uint32_t)sizeof(*ents), NULL, 0),
			 VIRTIO_GPU_RESP_OK_NODATA);
}

static bool set_scanout(const struct gpu_fb *fb)
{
	struct gpu_cmd_set_scanout s = {
		.hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT,
		.r = { 0, 0, fb->w, fb->h }, .scanout_id = 0,
		.resource_id = fb->id,
	};

	return expect_ok("set-scanout", gpu_cmd(&s, sizeof(s), 0, 0, NULL, 0),
			 VIRTIO_GPU_RESP_OK_NODATA);
}

/* TRANSFER_TO_HOST_2D then RESOURCE_FLUSH of one rectangle, one batch
 * and one doorbell (virtio_gpu_primary_plane_update). */
bool gpu_update(const struct gpu_fb *fb, struct gpu_rect r)
{
	struct gpu_cmd_transfer t = {
		.hdr.type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, .r = r,
		.offset = (uint64_t)r.y * fb->w * 4 + (uint64_t)r.x * 4,
		.resource_id = fb->id,
	};
	struct gpu_cmd_flush f = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_FLUSH, .r = r,
		.resource_id = fb->id,
	};
	struct gpu_req *rt, *rf;

	gpu_batch_begin();
	rt = gpu_batch_add(&t, sizeof(t), 0, 0, sizeof(struct gpu_hdr));
	rf = gpu_batch_add(&f, sizeof(f), 0, 0, sizeof(struct gpu_hdr));
	if (!rt || !rf || !gpu_batch_run())
		return false;
	return expect_ok("transfer", gpu_resp_type(rt), VIRTIO_GPU_RESP_OK_NODATA) &&
	       expect_ok("flush", gpu_resp_type(rf), VIRTIO_GPU_RESP_OK_NODATA);
}

static bool release_fb(const struct gpu_fb *fb)
{
	struct gpu_cmd_res d = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
		.resource_id = fb->id,
	};
	struct gpu_cmd_res u = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_UNREF,
		.resource_id = fb->id,
	};

	return expect_ok("detach-backing", gpu_cmd(&d, sizeof(d), 0, 0, NULL, 0),
			 VIRTIO_GPU_RESP_OK_NODATA) &&
	       expect_ok("unref", gpu_cmd(&u, sizeof(u), 0, 0, NULL, 0),
			 VIRTIO_GPU_RESP_OK_NODATA);
}

static void mode_size(unsigned dw, unsigned dh, unsigned *w, unsigned *h)
{
	*w = vga_opts.width ? vga_opts.width : dw;
	*h = vga_opts.height ? vga_opts.height : dh;
}

/* A new framebuffer resource shown on scanout 0. */
bool gpu_show(uint32_t id, unsigned w, unsigned h, struct gpu_fb *fb)
{
	return create_fb(id, w, h, fb) && set_scanout(fb);
}

/* --- the test pattern ------------------------------------------------------------ */

void gpu_draw_pattern(const struct gpu_fb *fb)
{
	for (unsigned y = 0; y < fb->h; y++)
		for (unsigned x = 0; x < fb->w; x++)
			fb->pixels[(uint64_t)y * fb->w + x] =
				pattern_pixel(x, y, fb->w, fb->h);
}

static struct gpu_rect full(const struct gpu_fb *fb)
{
	return (struct gpu_rect){ 0, 0, fb->w, fb->h };
}

static void invert(const struct gpu_fb *fb, const struct gpu_rect *r)
{
	for (uint32_t y = r->y; y < r->y + r->height; y++)
		for (uint32_t x = r->x; x < r->x + r->width; x++)
			fb->pixels[(uint64_t)y * fb->w + x] ^= 0x00ffffffu;
}

static bool cmd_rects(const struct gpu_fb *fb)
{
	char s[160];
	size_t n = 0;

	for (unsigned i = 0; i < sizeof(test_rects) / sizeof(test_rects[0]); i++) {
		const struct gpu_rect *r = &test_rects[i];

		if (r->x + r->width > fb->w || r->y + r->height > fb->h) {
			out_printf(OUT_BOTH, "RESULT error rects-do-not-fit w=%u h=%u\n",
				   fb->w, fb->h);
			return false;
		}
		invert(fb, r);
		if (!gpu_update(fb, *r))
			return false;
		n += (size_t)snprintf(s + n, sizeof(s) - n, " %u,%u,%u,%u", r->x,
				      r->y, r->width, r->height);
	}
	out_printf(OUT_BOTH, "RESULT rects done%s\n", s);
	return true;
}

int virtio_test_pattern(void)
{
	struct gpu_fb fb, fb2;
	unsigned w, h;

	if (!gpu_probe())
		return EXIT_FAIL;
	mode_size(gpu.pref_w ? gpu.pref_w : PATTERN_DEFAULT_W,
		  gpu.pref_h ? gpu.pref_h : PATTERN_DEFAULT_H, &w, &h);
	if (!gpu_show(1, w, h, &fb))
		return EXIT_FAIL;
	gpu_draw_pattern(&fb);
	if (!gpu_update(&fb, full(&fb)))
		return EXIT_FAIL;
	out_printf(OUT_BOTH, "RESULT virtio-pattern ready w=%u h=%u\n", w, h);
	for (;;) {
		int c = serial_wait_byte();

		if (c == 'q')
			return EXIT_OK;
		if (c == 'p') {
			struct gpu_rect r = { PIXEL_X, PIXEL_Y, 1, 1 };

			if (fb.w > PIXEL_X && fb.h > PIXEL_Y) {
				invert(&fb, &r);
				if (!gpu_update(&fb, r))
					return EXIT_FAIL;
			}
			out_printf(OUT_BOTH, "RESULT pixel done\n");
		} else if (c == 'r') {
			if (!cmd_rects(&fb))
				return EXIT_FAIL;
		} else if (c == 'm') {
			/* As a DRM mode set: new framebuffer, scanout, flush;
			 * then the old one goes. */
			if (!gpu_show(fb.id + 1, MODE2_W, MODE2_H, &fb2))
				return EXIT_FAIL;
			gpu_draw_pattern(&fb2);
			if (!gpu_update(&fb2, full(&fb2)) || !release_fb(&fb))
				return EXIT_FAIL;
			fb = fb2;
			out_printf(OUT_BOTH, "RESULT mode done w=%u h=%u\n",
				   MODE2_W, MODE2_H);
		}
	}
}

/* --- animation ----------------------------------------------------------------------- */

/* Frame f, the same picture as vga-anim's: every pixel changes. */
static void draw_frame(const struct gpu_fb *fb, uint64_t f)
{
	uint32_t fr = (uint32_t)f * 3, fg = (uint32_t)f, fb2 = (uint32_t)f * 2;

	for (unsigned y = 0; y < fb->h; y++) {
		uint32_t g = ((y + fg) & 0xff) << 8;
		uint32_t *row = fb->pixels + (uint64_t)y * fb->w;

		for (unsigned x = 0; x < fb->w; x++)
			row[x] = ((x + fr) & 0xff) << 16 | g | (((x ^ y) + fb2) & 0xff);
	}
}

int virtio_test_anim(void)
{
	struct gpu_fb fb;
	uint64_t f = 0, start;
	unsigned w, h;

	if (!gpu_probe())
		return EXIT_FAIL;
	mode_size(PATTERN_DEFAULT_W, PATTERN_DEFAULT_H, &w, &h);
	if (!gpu_show(1, w, h, &fb))
		return EXIT_FAIL;
	out_printf(OUT_BOTH, "RESULT virtio-anim ready w=%u h=%u\n", w, h);
	start = rdtsc();
	while (!vga_opts.frames || f < vga_opts.frames) {
		draw_frame(&fb, f++);
		if (!gpu_update(&fb, full(&fb)))
			return EXIT_FAIL;
		if (f % ANIM_REPORT_EVERY == 0)
			out_printf(OUT_DEBUG, "INFO frame %lu tsc=%lu\n", f,
				   rdtsc() - start);
		if (serial_present() && serial_getc() == 'q')
			break;
	}
	out_printf(OUT_BOTH, "RESULT virtio-anim ok frames=%lu tsc=%lu\n", f,
		   rdtsc() - start);
	return EXIT_OK;
}
