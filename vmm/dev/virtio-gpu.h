/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu, 2D only (virtio 1.2, 5.7), over the modern virtio-pci
 * transport: one scanout, the control and cursor queues, EDID, display
 * change events. What Linux's stock virtio_gpu DRM driver needs for its
 * console and for modesetting without 3D.
 *
 * Resources live in host memory (their pixels), capped by max_host_mem;
 * the guest's backing pages are only read on TRANSFER_TO_HOST_2D. The
 * scanout's resource is aliased by the console surface (no copy), and
 * RESOURCE_FLUSH rectangles become console damage directly. The cursor
 * queue's image and position go to the console's cursor (console.h).
 * A consumer's resize request becomes the scanout's preferred size in
 * GET_DISPLAY_INFO / GET_EDID and a display-change event (config
 * events_read bit 0 plus the configuration interrupt).
 *
 * Every command field is untrusted: bad ids, rectangles outside resources,
 * backing outside guest RAM, sizes over the cap and unknown commands get
 * the matching VIRTIO_GPU_RESP_ERR_* response; a malformed queue marks the
 * device DEVICE_NEEDS_RESET.
 */
#ifndef VMM_DEV_VIRTIO_GPU_H
#define VMM_DEV_VIRTIO_GPU_H

#include <stdint.h>

#include "../event.h"
#include "../vm.h"
#include "display/console.h"
#include "pci.h"

struct virtio_gpu;

#define VIRTIO_GPU_DEFAULT_MEM (256ULL << 20)

struct virtio_gpu_config {
	unsigned width, height;     /* preferred mode; 0: 1024x768 */
	uint64_t max_host_mem;      /* resource pixels cap; 0: default */
};

/* NULL after logging one line. con must outlive the device. */
struct virtio_gpu *virtio_gpu_create(struct vm *vm, struct pci_bus *pci,
				     struct event_loop *loop,
				     struct console *con,
				     const struct virtio_gpu_config *cfg);
/* After pci_destroy(), vCPUs stopped. Leaves the console without surface. */
void virtio_gpu_destroy(struct virtio_gpu *g);

/* For tests and fuzzers. */
struct virtio_pci *virtio_gpu_transport(struct virtio_gpu *g);
uint64_t virtio_gpu_host_mem(struct virtio_gpu *g);   /* bytes in use */
unsigned virtio_gpu_resource_count(struct virtio_gpu *g);

#endif
