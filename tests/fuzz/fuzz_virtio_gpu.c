// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for virtio-gpu and the virtio transport underneath: the
 * input is a program of guest actions against a fresh machine (fake guest
 * RAM, no /dev/kvm) whose driver has set the device up: whole gpu commands
 * sent through the control or cursor queue (the command parser), raw
 * descriptors and avail-ring entries (the virtqueue walker: loops, indirect
 * tables, out-of-RAM buffers), guest RAM writes (changing rings and backing
 * under the device), common-configuration and MSI-X register writes,
 * resets and resize requests. After every step the resource memory must be
 * within the cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "display/console.h"
#include "vmm/dev/pci.h"
#include "vmm/dev/virtio-gpu.h"
#include "vmm/log.h"
#include "tests/unit/virtio_driver.h"
#include "tests/fuzz/reader.h"

#define RAM (16u << 20)
#define CAP (4u << 20)
#define CMD 0x200000ULL
#define RESP 0x210000ULL
#define DATA 0x300000ULL      /* fuzzer-written area: tables, backing */

/* Guest addresses the program may name: mostly useful ones. */
static uint64_t pick_addr(struct reader *r)
{
	uint8_t k = (uint8_t)take(r, 1);
	uint32_t off = (uint32_t)take(r, 2);

	switch (k & 3) {
	case 0: return CMD + off;
	case 1: return DATA + off;
	case 2: return RAM - (off & 0xFFF);       /* straddles the end */
	default: return take(r, 8);                /* anything */
	}
}

static void step(struct vdrv *d, struct virtio_gpu *g, struct console *con,
		 struct reader *r)
{
	uint8_t op = (uint8_t)take(r, 1);

	switch (op % 8) {
	case 0: case 1: case 2: {          /* a whole command */
		unsigned q = op & 8 ? 1 : 0;
		uint32_t len = (uint32_t)take(r, 1) + 24;
		uint8_t buf[300] = { 0 };

		for (uint32_t i = 0; i < len && r->n; i++)
			buf[i] = (uint8_t)take(r, 1);
		if (!(op & 16)) {          /* mostly valid command types */
			static const uint16_t types[] = {
				0x100, 0x101, 0x102, 0x103, 0x104, 0x105,
				0x106, 0x107, 0x10a, 0x300, 0x301 };

			buf[0] = (uint8_t)types[buf[0] % 11];
			buf[1] = (uint8_t)(types[buf[0] % 11] >> 8);
			buf[0] = (uint8_t)types[buf[2] % 11];
			buf[1] = (uint8_t)(types[buf[2] % 11] >> 8);
			buf[2] = buf[3] = 0;
		}
		mem_write(&d->vm->mem, CMD, buf, len);
		vd_request(d, q, CMD, len, RESP, q ? 0 : 1100);
		vd_used_new(d, q, NULL);
		break;
	}
	case 3: {                          /* a raw descriptor */
		unsigned q = take(r, 1) & 1, i = (unsigned)take(r, 1) % VD_QSIZE;
		uint64_t a = pick_addr(r);
		uint32_t len = (uint32_t)take(r, 4);
		uint16_t fl = (uint16_t)take(r, 1), nx = (uint16_t)take(r, 1);

		vd_set_desc(d, q, i, a, len, fl, nx);
		break;
	}
	case 4:                            /* publish a head */
		vd_kick(d, take(r, 1) & 1, (uint16_t)take(r, 2));
		break;
	case 5: {                          /* guest RAM write */
		uint64_t a = DATA + take(r, 2);
		uint8_t n = (uint8_t)take(r, 1), buf[256];

		for (unsigned i = 0; i < n; i++)
			buf[i] = (uint8_t)take(r, 1);
		mem_write(&d->vm->mem, a, buf, n);
		break;
	}
	case 6: {                          /* a transport register */
		uint16_t off = (uint16_t)take(r, 2) % VIRTIO_PCI_BAR0_SIZE;
		uint8_t len = (uint8_t)(1u << (take(r, 1) & 3));

		vd_write(d, off, len, take(r, 8));
		break;
	}
	default:
		if (op & 8)
			vd_init(d, d->vm, virtio_gpu_transport(g), 2, 1ULL << 28);
		else
			console_request_resize(con, (int)take(r, 2), (int)take(r, 2));
		break;
	}
	if (virtio_gpu_host_mem(g) > CAP)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	struct virtio_gpu_config gc = { .max_host_mem = CAP };
	struct reader r = { data, size };
	struct pci_bus *pci;
	struct console *con;
	struct virtio_gpu *g;
	struct vdrv d;
	unsigned steps = 0;

	log_max_level = LOG_ERR;
	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	if (mem_init(&vm.mem, RAM) != 0)
		abort();
	pci = pci_create(&vm);
	con = console_create("fuzz");
	g = pci && con ? virtio_gpu_create(&vm, pci, NULL, con, &gc) : NULL;
	if (!g)
		abort();
	vd_init(&d, &vm, virtio_gpu_transport(g), 2, 1ULL << 28);
	while (r.n && steps++ < 256)
		step(&d, g, con, &r);
	/* Read the whole picture: an alias past a resource would show. */
	{
		int w, h;

		console_get_size(con, &w, &h);
		if (w > 0 && h > 0) {
			uint32_t *px = malloc((size_t)w * (size_t)h * 4);

			if (px)
				console_read_pixels(con, 0, 0, w, h,
						    PIXMAN_x8r8g8b8, px, w * 4);
			free(px);
		}
	}
	pci_destroy(pci);
	virtio_gpu_destroy(g);
	console_destroy(con);
	mem_destroy(&vm.mem);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	return 0;
}
