/* SPDX-License-Identifier: MIT */
/*
 * The built-in guest's virtio-gpu driver (virtio-gpu.c), shared with the
 * hostile mode (virtio-hostile.c): a synchronous request interface over
 * the control queue (the command layouts: vmm/virtio/virtio-gpu-proto.h).
 */
#ifndef GUEST_VIRTIO_GPU_H
#define GUEST_VIRTIO_GPU_H

#include "virtio.h"
#include "../virtio/virtio-gpu-proto.h"

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
