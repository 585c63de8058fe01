// SPDX-License-Identifier: MIT
/*
 * Debug console and debug exit ports. Output is written straight through:
 * the port is for low-volume diagnostics and must not lose the last line
 * before a crash to a buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../log.h"
#include "../platform.h"
#include "debugcon.h"

#define DEBUGCON_READ_VALUE 0xE9

struct debugcon {
	struct vm *vm;
	int out_fd;
};

static void debugcon_io(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct debugcon *d = opaque;

	(void)offset;
	if (!is_write) {
		memset(data, DEBUGCON_READ_VALUE, len);
		return;
	}
	if (d->out_fd < 0)
		return;
	/* One write(2) per access is atomic with respect to other vCPUs.
	 * A full nonblocking fd drops the text rather than stall a vCPU. */
	for (;;) {
		ssize_t n = write(d->out_fd, data, len);

		if (n >= 0 || errno != EINTR) {
			if (n < 0)
				log_ratelimited(LOG_WARN, "debugcon: write failed: %s",
						strerror(errno));
			return;
		}
	}
}

static void debug_exit_io(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct debugcon *d = opaque;

	if (!is_write) {
		memset(data, 0xFF, len);
		return;
	}
	if (offset != 0)
		return;
	/* 1, 2 or 4 bytes wide: the status is the low byte either way. */
	vm_request_stop_status(d->vm, VM_STOP_DEBUG_EXIT, data[0]);
}

int debugcon_create(struct vm *vm, int out_fd, bool debug_exit)
{
	struct debugcon *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	d->vm = vm;
	d->out_fd = out_fd;
	/* Lives as long as the process: the bus keeps a pointer to it. */
	if (bus_register(&vm->pio, PORT_DEBUGCON, 1, debugcon_io, d, "debugcon") < 0)
		goto fail;
	if (debug_exit &&
	    bus_register(&vm->pio, PORT_DEBUG_EXIT, 4, debug_exit_io, d, "debug-exit") < 0) {
		bus_unregister(&vm->pio, PORT_DEBUGCON, d);
		goto fail;
	}
	return 0;
fail:
	log_err("debugcon: its port is taken");
	free(d);
	return -1;
}
