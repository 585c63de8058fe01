/* SPDX-License-Identifier: MIT */
/*
 * MSI delivery through KVM: each MSI-X vector a device uses gets a GSI with
 * an MSI route (KVM_SET_GSI_ROUTING) and an eventfd bound to that GSI
 * (KVM_IRQFD), so raising it is one write(2) from any thread. The routing
 * table KVM holds is replaced as a whole, so this module keeps the one copy:
 * the in-kernel irqchip's default routes (GSIs 0-23) plus every MSI route.
 * KVM_SIGNAL_MSI is the fallback where a route cannot be made.
 *
 * Without KVM (vm_fd < 0, unit tests) msi_send() calls the VM's test
 * observer instead, with gsi = MSI_OBSERVER_GSI | (data & 0xFF).
 */
#ifndef VMM_VIRTIO_MSI_H
#define VMM_VIRTIO_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include "../vm.h"

#define MSI_OBSERVER_GSI 0x10000u

struct msi_vector {
	int gsi;        /* -1: no route yet */
	int irqfd;      /* eventfd bound to gsi, -1: none */
	uint64_t addr;
	uint32_t data;
	bool routed;    /* the route in KVM matches addr/data */
};

void msi_vector_init(struct msi_vector *v);
/* Drop the route and the irqfd (device reset keeps them: cheap to reuse). */
void msi_vector_release(struct vm *vm, struct msi_vector *v);
/* The guest changed the message: the route is refreshed at the next send. */
void msi_vector_set(struct msi_vector *v, uint64_t addr, uint32_t data);
/* Raise the interrupt. Any thread; serialise per vector (the device lock). */
void msi_send(struct vm *vm, struct msi_vector *v);

#endif
