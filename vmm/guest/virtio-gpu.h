/* SPDX-License-Identifier: MIT */
/*
 * The built-in guest's virtio-gpu driver (virtio-gpu.c), shared with the
 * hostile mode (virtio-hostile.c): the command layouts of virtio 1.2,
 * 5.7.6, and a synchronous request interface over the control queue.
 */
#ifndef GUEST_VIRTIO_GPU_H
#define GUEST_VIRTIO_GPU_H

#include "virtio.h"

#define VIRTIO_GPU_F_EDID 1

enum {
	VIRTIO_GPU_CMD_GET_DISPLAY_INFO = 0x0100,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	VIRTIO_GPU_CMD_RESOURCE_UNREF,
	VIRTIO_GPU_CMD_SET_SCANOUT,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	VIRTIO_GPU_CMD_GET_CAPSET_INFO,
	VIRTIO_GPU_CMD_GET_CAPSET,
	VIRTIO_GPU_CMD_GET_EDID,
	VIRTIO_GPU_CMD_UPDATE_CURSOR = 0x0300,
	VIRTIO_GPU_CMD_MOVE_CURSOR,
	VIRTIO_GPU_RESP_OK_NODATA = 0x1100,
	VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
	VIRTIO_GPU_RESP_OK_CAPSET_INFO,
	VIRTIO_GPU_RESP_OK_CAPSET,
	VIRTIO_GPU_RESP_OK_EDID,
	VIRTIO_GPU_RESP_ERR_UNSPEC = 0x1200,
	VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
	VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
};

#define VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM 2

struct gpu_hdr {
	uint32_t type, flags;
	uint64_t fence_id;
	uint32_t ctx_id;
	uint8_t ring_idx, pad[3];
};

struct gpu_rect {
	uint32_t x, y, width, height;
};

struct gpu_cmd_create_2d {
	struct gpu_hdr hdr;
	uint32_t resource_id, format, width, height;
};

struct gpu_cmd_res {          /* unref, detach backing */
	struct gpu_hdr hdr;
	uint32_t resource_id, pad;
};

struct gpu_cmd_set_scanout {
	struct gpu_hdr hdr;
	struct gpu_rect r;
	uint32_t scanout_id, resource_id;
};

struct gpu_cmd_flush {
	struct gpu_hdr hdr;
	struct gpu_rect r;
	uint32_t resource_id, pad;
};

struct gpu_cmd_transfer {
	struct gpu_hdr hdr;
	struct gpu_rect r;
	uint64_t offset;
	uint32_t resource_id, pad;
};

struct gpu_cmd_attach {
	struct gpu_hdr hdr;
	uint32_t resource_id, nr_entries;
};

struct gpu_mem_entry {
	uint64_t addr;
	uint32_t length, pad;
};

struct gpu_cmd_get_edid {
	struct gpu_hdr hdr;
	uint32_t scanout, pad;
};

struct gpu_resp_display_info {
	struct gpu_hdr hdr;
	struct {
		struct gpu_rect r;
		uint32_t enabled, flags;
	} pmodes[16];
};

struct gpu_resp_edid {
	struct gpu_hdr hdr;
	uint32_t size, pad;
	uint8_t edid[1024];
};

_Static_assert(sizeof(struct gpu_hdr) == 24, "ctrl_hdr layout");
_Static_assert(sizeof(struct gpu_cmd_transfer) == 56, "transfer layout");
_Static_assert(sizeof(struct gpu_resp_display_info) == 408, "display info layout");

/* One request slot in guest RAM: the command and its response. */
#define GPU_REQS 32
struct gpu_req {
	uint8_t cmd[256];
	uint8_t resp[sizeof(struct gpu_resp_edid)];
};

/* A framebuffer: a 2D resource and its backing (w * h pixels, 0x00RRGGBB). */
struct gpu_fb {
	uint32_t id;
	unsigned w, h;
	uint32_t *pixels;
};

struct gpu_state {
	struct vdev dev;
	struct vq ctrl, cursor;
	struct gpu_req *req;        /* GPU_REQS slots */
	unsigned nreq;
	uint32_t num_scanouts, pref_w, pref_h, edid_size;
};

extern struct gpu_state gpu;

/* Find the device, negotiate, set up both queues, DRIVER_OK, read the
 * display info and EDID. false after a RESULT error line. */
bool gpu_probe(void);
/* Device features gpu_probe() also accepts if offered (hostile mode). */
void gpu_want_features(uint64_t features);
/* Batches of control requests (at most GPU_REQS). */
void gpu_batch_begin(void);
/* A request: the command, an optional data buffer (its own descriptor),
 * and resp_len bytes of response; NULL if the batch is full. */
struct gpu_req *gpu_batch_add(const void *cmd, uint32_t len, uint64_t data,
			      uint32_t data_len, uint32_t resp_len);
bool gpu_batch_run(void);
uint32_t gpu_resp_type(const struct gpu_req *r);
/* One request, waited for: the response type, 0 if none came. */
uint32_t gpu_cmd(const void *cmd, uint32_t len, uint64_t data,
		 uint32_t data_len, void *resp, uint32_t resp_len);
/* Resource id, w x h, with backing, on scanout 0. */
bool gpu_show(uint32_t id, unsigned w, unsigned h, struct gpu_fb *fb);
/* Transfer and flush rectangle r. */
bool gpu_update(const struct gpu_fb *fb, struct gpu_rect r);
void gpu_draw_pattern(const struct gpu_fb *fb);

#endif
