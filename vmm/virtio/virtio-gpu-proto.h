/* SPDX-License-Identifier: MIT */
/*
 * The virtio-gpu 2D wire format (virtio 1.2, 5.7.6): command and response
 * codes and the little-endian layouts of the control and cursor queues'
 * requests. One definition for both sides: the device model
 * (vmm/dev/virtio-gpu.c) and the built-in guest's driver (vmm/guest/),
 * which is built freestanding, so this header needs only <stdint.h>.
 */
#ifndef VMM_VIRTIO_GPU_PROTO_H
#define VMM_VIRTIO_GPU_PROTO_H

#include <stdint.h>

#define VIRTIO_GPU_F_EDID 1

#define VIRTIO_GPU_MAX_SCANOUTS 16      /* in GET_DISPLAY_INFO */

/* gpu_hdr.flags */
#define VIRTIO_GPU_FLAG_FENCE 1
#define VIRTIO_GPU_FLAG_INFO_RING_IDX 2

#define VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM 2

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

struct gpu_cmd_res {            /* unref, detach backing */
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

struct gpu_cmd_attach {         /* followed by nr_entries gpu_mem_entry */
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

struct gpu_cmd_cursor {         /* update and move */
	struct gpu_hdr hdr;
	uint32_t scanout_id, x, y, pad;
	uint32_t resource_id, hot_x, hot_y, pad2;
};

struct gpu_resp_display_info {
	struct gpu_hdr hdr;
	struct {
		struct gpu_rect r;
		uint32_t enabled, flags;
	} pmodes[VIRTIO_GPU_MAX_SCANOUTS];
};

struct gpu_resp_edid {
	struct gpu_hdr hdr;
	uint32_t size, pad;
	uint8_t edid[1024];
};

_Static_assert(sizeof(struct gpu_hdr) == 24, "ctrl_hdr layout");
_Static_assert(sizeof(struct gpu_cmd_transfer) == 56, "transfer layout");
_Static_assert(sizeof(struct gpu_cmd_cursor) == 56, "cursor layout");
_Static_assert(sizeof(struct gpu_resp_display_info) == 408, "display info layout");

#endif
