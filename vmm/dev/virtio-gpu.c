// SPDX-License-Identifier: MIT
/*
 * virtio-gpu 2D device model; see virtio-gpu.h. Command layouts from the
 * virtio 1.2 specification, 5.7.6.
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../virtio/virtio-gpu-proto.h"
#include "../virtio/virtio-pci.h"
#include "vga.h"
#include "virtio-gpu.h"

#define VIRTIO_ID_GPU 16

#define CTRL_Q   0
#define CURSOR_Q 1

#define EVENT_DISPLAY 1
#define NUM_SCANOUTS 1
#define MAX_RESOURCES 1024
#define MAX_RES_DIM 16384
#define MAX_BACKING_ENTRIES (1u << 17)
#define CURSOR_DIM 64

struct backing {
	uint64_t start;           /* byte offset of this entry in the backing */
	uint64_t gpa;
	uint32_t len;
};

struct resource {
	uint32_t id;
	uint32_t width, height, stride;
	pixman_format_code_t format;
	uint8_t *pixels;
	uint64_t bytes;
	struct backing *backing;
	unsigned nbacking;
	uint64_t backing_len;
	struct resource *next;
};

struct virtio_gpu {
	struct virtio_pci *vp;
	struct vm *vm;
	struct console *con;
	uint64_t max_mem, used_mem;
	unsigned nres;
	struct resource *resources;
	/* Scanout 0. */
	struct resource *scanout_res;
	struct gpu_rect scanout_rect;
	uint32_t pref_w, pref_h;
	uint32_t events_read;
	struct virtq_elem elem;   /* big: one per device, lock held */
};

/* --- resources --------------------------------------------------------- */

static pixman_format_code_t gpu_format(uint32_t f)
{
	/* virtio formats name bytes in memory order; pixman names a
	 * little-endian 32-bit word from the top. */
	switch (f) {
	case 1: return PIXMAN_a8r8g8b8;      /* B8G8R8A8 */
	case 2: return PIXMAN_x8r8g8b8;      /* B8G8R8X8 */
	case 3: return PIXMAN_b8g8r8a8;      /* A8R8G8B8 */
	case 4: return PIXMAN_b8g8r8x8;      /* X8R8G8B8 */
	case 67: return PIXMAN_a8b8g8r8;     /* R8G8B8A8 */
	case 68: return PIXMAN_r8g8b8x8;     /* X8B8G8R8 */
	case 121: return PIXMAN_r8g8b8a8;    /* A8B8G8R8 */
	case 134: return PIXMAN_x8b8g8r8;    /* R8G8B8X8 */
	default: return 0;
	}
}

static struct resource *find_res(struct virtio_gpu *g, uint32_t id)
{
	for (struct resource *r = g->resources; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

static void scanout_disable(struct virtio_gpu *g)
{
	if (g->scanout_res)
		console_clear_surface(g->con);
	g->scanout_res = NULL;
}

static void free_res(struct virtio_gpu *g, struct resource *r)
{
	if (g->scanout_res == r)
		scanout_disable(g);
	g->used_mem -= r->bytes;
	g->nres--;
	free(r->backing);
	free(r->pixels);
	free(r);
}

static void free_all(struct virtio_gpu *g)
{
	while (g->resources) {
		struct resource *r = g->resources;

		g->resources = r->next;
		free_res(g, r);
	}
	console_set_cursor(g->con, 0, 0, 0, 0, NULL);
}

/* --- the commands -------------------------------------------------------- */

/* Read a whole command; false if the request is shorter. */
static bool read_cmd(struct virtio_gpu *g, void *cmd, size_t len)
{
	struct virtq *q = virtio_pci_queue(g->vp, CTRL_Q);

	return virtq_elem_read(q, &g->elem, 0, cmd, len) == len;
}

static uint32_t cmd_display_info(struct virtio_gpu *g, struct gpu_resp_display_info *r)
{
	memset(r, 0, sizeof(*r));
	r->pmodes[0].r.width = g->pref_w;
	r->pmodes[0].r.height = g->pref_h;
	r->pmodes[0].enabled = 1;
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

static uint32_t cmd_create(struct virtio_gpu *g)
{
	struct gpu_cmd_create_2d c;
	struct resource *r;
	uint64_t bytes;

	if (!read_cmd(g, &c, sizeof(c)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (c.resource_id == 0 || find_res(g, c.resource_id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!gpu_format(c.format) || c.width == 0 || c.height == 0 ||
	    c.width > MAX_RES_DIM || c.height > MAX_RES_DIM)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	bytes = (uint64_t)c.width * c.height * 4;
	if (bytes > g->max_mem - g->used_mem || g->nres >= MAX_RESOURCES) {
		log_ratelimited(LOG_WARN, "virtio-gpu: resource %ux%u refused: "
				"over the %llu MiB cap", c.width, c.height,
				(unsigned long long)(g->max_mem >> 20));
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	r = calloc(1, sizeof(*r));
	if (r)
		r->pixels = calloc(1, (size_t)bytes);
	if (!r || !r->pixels) {
		free(r);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	r->id = c.resource_id;
	r->width = c.width;
	r->height = c.height;
	r->stride = c.width * 4;
	r->format = gpu_format(c.format);
	r->bytes = bytes;
	r->next = g->resources;
	g->resources = r;
	g->used_mem += bytes;
	g->nres++;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_unref(struct virtio_gpu *g)
{
	struct gpu_cmd_res c;

	if (!read_cmd(g, &c, sizeof(c)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	for (struct resource **pp = &g->resources; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == c.resource_id) {
			struct resource *r = *pp;

			*pp = r->next;
			free_res(g, r);
			return VIRTIO_GPU_RESP_OK_NODATA;
		}
	}
	return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
}

/* Is the rectangle inside w x h? (overflow-safe) */
static bool rect_inside(const struct gpu_rect *r, uint32_t w, uint32_t h)
{
	return r->x <= w && r->width <= w - r->x && r->y <= h &&
	       r->height <= h - r->y;
}

static uint32_t cmd_set_scanout(struct virtio_gpu *g)
{
	struct gpu_cmd_set_scanout c;
	struct resource *r;

	if (!read_cmd(g, &c, sizeof(c)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (c.scanout_id >= NUM_SCANOUTS)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (c.resource_id == 0) {
		scanout_disable(g);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	r = find_res(g, c.resource_id);
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&c.r, r->width, r->height) || c.r.width == 0 ||
	    c.r.height == 0 || c.r.width > CONSOLE_MAX_DIM ||
	    c.r.height > CONSOLE_MAX_DIM)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (g->scanout_res == r && !memcmp(&g->scanout_rect, &c.r, sizeof(c.r)))
		return VIRTIO_GPU_RESP_OK_NODATA;
	/* The surface aliases the resource's pixels: no copy per frame. */
	if (console_set_surface_alias(g->con, (int)c.r.width, (int)c.r.height,
				      r->format, r->pixels + (uint64_t)c.r.y * r->stride +
				      (uint64_t)c.r.x * 4, (int)r->stride) < 0)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	g->scanout_res = r;
	g->scanout_rect = c.r;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_flush(struct virtio_gpu *g)
{
	struct gpu_cmd_flush c;
	struct resource *r;
	const struct gpu_rect *s = &g->scanout_rect;
	int64_t x1, y1, x2, y2;

	if (!read_cmd(g, &c, sizeof(c)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	r = find_res(g, c.resource_id);
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(&c.r, r->width, r->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (r != g->scanout_res)
		return VIRTIO_GPU_RESP_OK_NODATA;
	/* The flushed rectangle, in scanout coordinates, is the damage. */
	x1 = (int64_t)c.r.x - s->x;
	y1 = (int64_t)c.r.y - s->y;
	x2 = x1 + c.r.width;
	y2 = y1 + c.r.height;
	if (x1 < 0)
		x1 = 0;
	if (y1 < 0)
		y1 = 0;
	if (x2 > s->width)
		x2 = s->width;
	if (y2 > s->height)
		y2 = s->height;
	if (x1 < x2 && y1 < y2) {
		console_damage(g->con, (int)x1, (int)y1, (int)(x2 - x1),
			       (int)(y2 - y1));
		console_flush(g->con);
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Copy len bytes at byte offset off of r's backing into dst. */
static bool backing_read(struct virtio_gpu *g, const struct resource *r,
			 uint64_t off, uint8_t *dst, uint64_t len)
{
	unsigned lo = 0, hi = r->nbacking;

	if (off > r->backing_len || len > r->backing_len - off)
		return false;
	/* The last entry starting at or before off. */
	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;

		if (r->backing[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (unsigned i = lo; len && i < r->nbacking; i++) {
		const struct backing *b = &r->backing[i];
		uint64_t in = off - b->start, n;
		const uint8_t *src;

		if (off < b->start || in >= b->len)
			continue;     /* empty entries */
		n = b->len - in < len ? b->len - in : len;
		src = mem_ptr(&g->vm->mem, b->gpa + in, n);
		if (!src)
			return false;
		memcpy(dst, src, n);
		dst += n;
		off += n;
		len -= n;
	}
	return len == 0;
}

static uint32_t cmd_transfer(struct virtio_gpu *g)
{
	struct gpu_cmd_transfer c;
	struct resource *r;

	if (!read_cmd(g, &c, sizeof(c)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	r = find_res(g, c.resource_id);
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->backing || !rect_inside(&c.r, r->width, r->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	for (uint32_t row = 0; row < c.r.height; row++) {
		/* As Linux computes it: offset = y * stride + x * cpp, then
		 * one stride per row. */
		uint64_t src = c.offset + (uint64_t)row * r->stride;
		uint8_t *dst = r->pixels + (uint64_t)(c.r.y + row) * r->stride +
			       (uint64_t)c.r.x * 4;

		if (c.offset > UINT64_MAX / 2 ||
		    !backing_read(g, r, src, dst, (uint64_t)c.r.width * 4)) {
			log_ratelimited(LOG_WARN, "virtio-gpu: transfer to "
					"resource %u beyond its backing",
					r->id);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_attach(struct virtio_gpu *g)
{
	struct virtq *q = virtio_pci_queue(g->vp, CTRL_Q);
	struct gpu_cmd_attach c;
	struct resource *r;
	struct backing *b;
	uint64_t total = 0;

	if (!read_cmd(g, &c, sizeof(c)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	r = find_res(g, c.resource_id);
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (r->backing || c.nr_entries == 0 || c.nr_entries > MAX_BACKING_ENTRIES)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	b = calloc(c.nr_entries, sizeof(*b));
	if (!b)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	for (uint32_t i = 0; i < c.nr_entries; i++) {
		struct gpu_mem_entry e;

		if (virtq_elem_read(q, &g->elem, sizeof(c) + (size_t)i * sizeof(e),
				    &e, sizeof(e)) != sizeof(e)) {
			free(b);
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		}
		/* Every page of the scatter list must be guest RAM. */
		if (e.length && !mem_ptr(&g->vm->mem, e.addr, e.length)) {
			log_ratelimited(LOG_WARN, "virtio-gpu: backing entry "
					"0x%llx+%u is not guest RAM",
					(unsigned long long)e.addr, e.length);
			free(b);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
		b[i].start = total;
		b[i].gpa = e.addr;
		b[i].len = e.length;
		total += e.length;
	}
	r->backing = b;
	r->nbacking = c.nr_entries;
	r->backing_len = total;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_detach(struct virtio_gpu *g)
{
	struct gpu_cmd_res c;
	struct resource *r;

	if (!read_cmd(g, &c, sizeof(c)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	r = find_res(g, c.resource_id);
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->backing)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	free(r->backing);
	r->backing = NULL;
	r->nbacking = 0;
	r->backing_len = 0;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_edid(struct virtio_gpu *g, struct gpu_resp_edid *resp)
{
	struct gpu_cmd_get_edid c;

	if (!read_cmd(g, &c, sizeof(c)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (c.scanout >= NUM_SCANOUTS)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	memset(resp, 0, sizeof(*resp));
	if (vga_build_edid(resp->edid, g->pref_w, g->pref_h, g->max_mem) < 0)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	resp->size = 128;
	return VIRTIO_GPU_RESP_OK_EDID;
}

/* One control request: run it, answer it. */
static void ctrl_one(struct virtio_gpu *g, struct virtq *q)
{
	union {
		struct gpu_hdr hdr;
		struct gpu_resp_display_info info;
		struct gpu_resp_edid edid;
	} resp;
	struct gpu_hdr h;
	size_t resp_len = sizeof(struct gpu_hdr);
	uint32_t type;

	memset(&resp.hdr, 0, sizeof(resp.hdr));
	if (virtq_elem_read(q, &g->elem, 0, &h, sizeof(h)) != sizeof(h)) {
		memset(&h, 0, sizeof(h));
		type = VIRTIO_GPU_RESP_ERR_UNSPEC;
	} else {
		switch (h.type) {
		case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
			type = cmd_display_info(g, &resp.info);
			resp_len = sizeof(resp.info);
			break;
		case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: type = cmd_create(g); break;
		case VIRTIO_GPU_CMD_RESOURCE_UNREF: type = cmd_unref(g); break;
		case VIRTIO_GPU_CMD_SET_SCANOUT: type = cmd_set_scanout(g); break;
		case VIRTIO_GPU_CMD_RESOURCE_FLUSH: type = cmd_flush(g); break;
		case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: type = cmd_transfer(g); break;
		case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: type = cmd_attach(g); break;
		case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: type = cmd_detach(g); break;
		case VIRTIO_GPU_CMD_GET_EDID:
			type = cmd_edid(g, &resp.edid);
			if (type == VIRTIO_GPU_RESP_OK_EDID)
				resp_len = sizeof(resp.edid);
			break;
		default:
			log_ratelimited(LOG_INFO, "virtio-gpu: unsupported "
					"command 0x%x", h.type);
			type = VIRTIO_GPU_RESP_ERR_UNSPEC;
			break;
		}
	}
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC)
		resp_len = sizeof(struct gpu_hdr);
	resp.hdr.type = type;
	/* Commands complete in order, at once: a fence is signalled by
	 * echoing it (5.7.6.7). */
	resp.hdr.flags = h.flags & (VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
	resp.hdr.fence_id = h.fence_id;
	resp.hdr.ctx_id = h.ctx_id;
	resp.hdr.ring_idx = h.ring_idx;
	virtq_push(q, &g->elem,
		   (uint32_t)virtq_elem_write(q, &g->elem, 0, &resp, resp_len));
}

static void cursor_one(struct virtio_gpu *g, struct virtq *q)
{
	struct gpu_cmd_cursor c;
	struct resource *r;

	if (virtq_elem_read(q, &g->elem, 0, &c, sizeof(c)) != sizeof(c) ||
	    c.scanout_id >= NUM_SCANOUTS)
		goto done;
	if (c.hdr.type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
		r = c.resource_id ? find_res(g, c.resource_id) : NULL;
		if (!r) {
			console_set_cursor(g->con, 0, 0, 0, 0, NULL);
		} else if (r->width <= CURSOR_DIM && r->height <= CURSOR_DIM &&
			   (r->format == PIXMAN_a8r8g8b8 ||
			    r->format == PIXMAN_x8r8g8b8)) {
			console_set_cursor(g->con, (int)r->width, (int)r->height,
					   (int)c.hot_x, (int)c.hot_y,
					   (const uint32_t *)r->pixels);
		}
	}
	if (c.hdr.type == VIRTIO_GPU_CMD_UPDATE_CURSOR || c.hdr.type == VIRTIO_GPU_CMD_MOVE_CURSOR)
		console_move_cursor(g->con, (int)c.x, (int)c.y);
done:
	virtq_push(q, &g->elem, 0);
}

static void queue_notify(void *opaque, unsigned qi)
{
	struct virtio_gpu *g = opaque;
	struct virtq *q = virtio_pci_queue(g->vp, qi);
	bool any = false;
	enum virtq_pop_result res;

	if (!q)
		return;
	while ((res = virtq_pop(q, &g->elem)) == VIRTQ_OK) {
		if (qi == CTRL_Q)
			ctrl_one(g, q);
		else
			cursor_one(g, q);
		any = true;
	}
	if (res == VIRTQ_BROKEN)
		virtio_pci_set_needs_reset(g->vp);
	if (any)
		virtio_pci_notify_queue(g->vp, qi);
}

/* --- configuration space ---------------------------------------------------- */

static void cfg_image(struct virtio_gpu *g, uint8_t img[16])
{
	uint32_t v[4] = { g->events_read, 0, NUM_SCANOUTS, 0 };

	memcpy(img, v, 16);
}

static void cfg_read(void *opaque, unsigned off, uint8_t *data, unsigned len)
{
	uint8_t img[16];

	cfg_image(opaque, img);
	if (off < 16)
		memcpy(data, img + off, len > 16 - off ? 16 - off : len);
}

static void cfg_write(void *opaque, unsigned off, const uint8_t *data,
		      unsigned len)
{
	struct virtio_gpu *g = opaque;
	uint32_t v = 0;

	/* Only events_clear (offset 4) is writable: write 1 to clear. */
	if (off != 4 || len != 4)
		return;
	memcpy(&v, data, 4);
	g->events_read &= ~v;
}

static void dev_reset(void *opaque)
{
	struct virtio_gpu *g = opaque;

	free_all(g);
	g->events_read = 0;
}

static const struct virtio_dev_ops gpu_ops = {
	.queue_notify = queue_notify,
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.reset = dev_reset,
};

/* --- console producer ----------------------------------------------------------- */

static int request_resize(void *opaque, int width, int height)
{
	struct virtio_gpu *g = opaque;
	uint8_t probe[128];

	/* The preferred mode must be describable in the EDID. */
	if (width < VGA_EDID_MIN_WIDTH || height < VGA_EDID_MIN_HEIGHT ||
	    width > VGA_EDID_MAX_DIM || height > VGA_EDID_MAX_DIM ||
	    vga_build_edid(probe, (unsigned)width, (unsigned)height,
			   g->max_mem) < 0)
		return -1;
	virtio_pci_lock(g->vp);
	g->pref_w = (uint32_t)width;
	g->pref_h = (uint32_t)height;
	g->events_read |= EVENT_DISPLAY;
	virtio_pci_notify_config(g->vp);
	virtio_pci_unlock(g->vp);
	log_info("virtio-gpu: display size %dx%d offered to the guest", width,
		 height);
	return 0;
}

static const struct console_producer_ops producer_ops = {
	.request_resize = request_resize,
};

/* --- lifetime ---------------------------------------------------------------------- */

struct virtio_gpu *virtio_gpu_create(struct vm *vm, struct pci_bus *pci,
				     struct event_loop *loop,
				     struct console *con,
				     const struct virtio_gpu_config *cfg)
{
	struct virtio_pci_config pc = {
		.name = "virtio-gpu",
		.device_type = VIRTIO_ID_GPU,
		.class_code = 0x038000,     /* display controller, other */
		.features = 1ULL << VIRTIO_GPU_F_EDID,
		.num_queues = 2,
		.queue_max = { 256, 16 },
		.cfg_size = 16,
	};
	struct virtio_gpu *g = calloc(1, sizeof(*g));

	if (!g) {
		log_err("virtio-gpu: out of memory");
		return NULL;
	}
	g->vm = vm;
	g->con = con;
	g->pref_w = cfg && cfg->width ? cfg->width : 1024;
	g->pref_h = cfg && cfg->height ? cfg->height : 768;
	g->max_mem = cfg && cfg->max_host_mem ? cfg->max_host_mem
					      : VIRTIO_GPU_DEFAULT_MEM;
	g->vp = virtio_pci_create(vm, pci, loop, &pc, &gpu_ops, g);
	if (!g->vp) {
		free(g);
		return NULL;
	}
	console_set_producer(con, &producer_ops, g);
	return g;
}

void virtio_gpu_destroy(struct virtio_gpu *g)
{
	if (!g)
		return;
	console_set_producer(g->con, NULL, NULL);
	virtio_pci_destroy(g->vp);
	free_all(g);
	console_clear_surface(g->con);
	free(g);
}

struct virtio_pci *virtio_gpu_transport(struct virtio_gpu *g)
{
	return g->vp;
}

uint64_t virtio_gpu_host_mem(struct virtio_gpu *g)
{
	uint64_t v;

	virtio_pci_lock(g->vp);
	v = g->used_mem;
	virtio_pci_unlock(g->vp);
	return v;
}

unsigned virtio_gpu_resource_count(struct virtio_gpu *g)
{
	unsigned n;

	virtio_pci_lock(g->vp);
	n = g->nres;
	virtio_pci_unlock(g->vp);
	return n;
}
