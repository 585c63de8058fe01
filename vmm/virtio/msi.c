// SPDX-License-Identifier: MIT
/*
 * MSI routes and irqfds, see msi.h.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../log.h"
#include "msi.h"

/* GSIs 0-23 belong to the 8259s and the IOAPIC; MSI routes go above. */
#define IRQCHIP_GSIS 24
#define MSI_GSI_FIRST IRQCHIP_GSIS
#define MSI_MAX_ROUTES 256

struct msi_route {
	bool used;
	uint64_t addr;
	uint32_t data;
};

static pthread_mutex_t routes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct msi_route routes[MSI_MAX_ROUTES];

static unsigned add_entry(struct kvm_irq_routing_entry *e, unsigned n,
			  unsigned gsi, unsigned chip, unsigned pin)
{
	e[n].gsi = gsi;
	e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
	e[n].u.irqchip.irqchip = chip;
	e[n].u.irqchip.pin = pin;
	return n + 1;
}

/* routes_lock held: give KVM the whole table, as KVM's own default plus ours. */
static int commit_routes(struct vm *vm)
{
	size_t max = 2 * IRQCHIP_GSIS + MSI_MAX_ROUTES;
	struct kvm_irq_routing *r;
	unsigned n = 0;
	int ret;

	r = calloc(1, sizeof(*r) + max * sizeof(r->entries[0]));
	if (!r)
		return -1;
	for (unsigned gsi = 0; gsi < IRQCHIP_GSIS; gsi++) {
		if (gsi < 16)
			n = add_entry(r->entries, n, gsi,
				      gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
					      : KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
		n = add_entry(r->entries, n, gsi, KVM_IRQCHIP_IOAPIC, gsi);
	}
	for (unsigned i = 0; i < MSI_MAX_ROUTES; i++) {
		struct kvm_irq_routing_entry *e = &r->entries[n];

		if (!routes[i].used)
			continue;
		e->gsi = MSI_GSI_FIRST + i;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)routes[i].addr;
		e->u.msi.address_hi = (uint32_t)(routes[i].addr >> 32);
		e->u.msi.data = routes[i].data;
		n++;
	}
	r->nr = n;
	ret = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r);
	free(r);
	return ret;
}

void msi_vector_init(struct msi_vector *v)
{
	memset(v, 0, sizeof(*v));
	v->gsi = -1;
	v->irqfd = -1;
}

void msi_vector_set(struct msi_vector *v, uint64_t addr, uint32_t data)
{
	if (v->addr != addr || v->data != data)
		v->routed = false;
	v->addr = addr;
	v->data = data;
}

static int alloc_gsi(void)
{
	for (unsigned i = 0; i < MSI_MAX_ROUTES; i++) {
		if (!routes[i].used) {
			routes[i].used = true;
			return (int)(MSI_GSI_FIRST + i);
		}
	}
	return -1;
}

/* Make (or refresh) the vector's route and irqfd. 0 or -1. */
static int route(struct vm *vm, struct msi_vector *v)
{
	int ret = 0;

	pthread_mutex_lock(&routes_lock);
	if (v->gsi < 0)
		v->gsi = alloc_gsi();
	if (v->gsi < 0) {
		ret = -1;
		goto out;
	}
	routes[v->gsi - MSI_GSI_FIRST].addr = v->addr;
	routes[v->gsi - MSI_GSI_FIRST].data = v->data;
	if (commit_routes(vm) < 0) {
		ret = -1;
		goto out;
	}
	if (v->irqfd < 0) {
		struct kvm_irqfd irqfd = { .gsi = (uint32_t)v->gsi };
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd < 0) {
			ret = -1;
			goto out;
		}
		irqfd.fd = (uint32_t)fd;
		if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
			close(fd);
			ret = -1;
			goto out;
		}
		v->irqfd = fd;
	}
	v->routed = true;
out:
	pthread_mutex_unlock(&routes_lock);
	return ret;
}

void msi_vector_release(struct vm *vm, struct msi_vector *v)
{
	if (v->irqfd >= 0 && vm->vm_fd >= 0) {
		struct kvm_irqfd irqfd = { .fd = (uint32_t)v->irqfd,
					   .gsi = (uint32_t)v->gsi,
					   .flags = KVM_IRQFD_FLAG_DEASSIGN };

		ioctl(vm->vm_fd, KVM_IRQFD, &irqfd);
	}
	if (v->irqfd >= 0)
		close(v->irqfd);
	if (v->gsi >= 0) {
		pthread_mutex_lock(&routes_lock);
		routes[v->gsi - MSI_GSI_FIRST].used = false;
		pthread_mutex_unlock(&routes_lock);
	}
	msi_vector_init(v);
}

void msi_send(struct vm *vm, struct msi_vector *v)
{
	uint64_t one = 1;

	if (vm->vm_fd < 0) {
		if (vm->irq_observer)
			vm->irq_observer(vm, MSI_OBSERVER_GSI | (v->data & 0xFF), 1);
		return;
	}
	if (!v->routed && route(vm, v) < 0) {
		struct kvm_msi msi = { .address_lo = (uint32_t)v->addr,
				       .address_hi = (uint32_t)(v->addr >> 32),
				       .data = v->data };

		log_once(LOG_WARN, "virtio: no MSI route/irqfd, using KVM_SIGNAL_MSI");
		ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);
		return;
	}
	if (write(v->irqfd, &one, sizeof(one)) != sizeof(one))
		log_ratelimited(LOG_WARN, "virtio: irqfd write failed");
}
