/* SPDX-License-Identifier: MIT */
/*
 * The virtual machine: KVM file descriptors, guest memory, the two buses,
 * the vCPU threads. Devices get a struct vm * and use only the functions
 * here plus bus.h / mem.h / event.h.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "event.h"
#include "mem.h"

#define VM_MAX_CPUS 64

/* Fixed GSIs of the legacy devices (ISA IRQs, identity-mapped on the IOAPIC
 * except IRQ0 -> GSI2 via the MADT interrupt source override). */
#define IRQ_KEYBOARD 1
#define IRQ_COM2     3
#define IRQ_COM1     4
#define IRQ_RTC      8
#define IRQ_ACPI_SCI 9
#define IRQ_MOUSE    12
/* PCI INTx lines are GSIs 16..23 (level, active low), see acpi.c _PRT. */
#define IRQ_PCI_FIRST 16
#define IRQ_PCI_COUNT 8

enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,   /* guest powered off: exit status 0 */
	VM_STOP_REBOOT,     /* guest asked to reset: we end, exit status 0 */
	VM_STOP_USER,       /* Ctrl-A x, SIGINT/SIGTERM, control socket quit */
	VM_STOP_ERROR,      /* triple fault, emulation failure: exit status 1 */
	VM_STOP_DEBUG_EXIT, /* built-in guest wrote PORT_DEBUG_EXIT: status given */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool thread_started;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct event_loop *loop;

	unsigned nr_cpus;
	struct vcpu vcpus[VM_MAX_CPUS];
	struct kvm_cpuid2 *cpuid;   /* supported CPUID, adjusted per vCPU */

	pthread_mutex_t slot_lock;
	uint64_t slots_used;        /* bitmap of KVM memory slots in use */

	_Atomic int stop_reason;    /* enum vm_stop_reason */
	int exit_status;
	bool has_hw_virt;           /* host CPU has VMX/SVM (else: paravirtual kvm) */

	/* Unit tests without /dev/kvm (vm_fd < 0) observe interrupt lines
	 * here; vm_irq_line calls it whenever it is set. */
	void (*irq_observer)(struct vm *vm, unsigned gsi, int level);
	void *test_opaque;
};

/*
 * Open /dev/kvm, create the VM with in-kernel IOAPIC/PIC/LAPIC and PIT, map
 * RAM. On error prints one line and returns -1.
 */
int vm_create(struct vm *vm, uint64_t ram_size, unsigned nr_cpus,
	      struct event_loop *loop);
void vm_destroy(struct vm *vm);

/* Create the vCPUs (CPUID, MSRs, LAPIC LINT0/1). Call after vm_create. */
int vm_create_vcpus(struct vm *vm);

/* Register state the boot loader wants for the BSP. */
struct boot_entry {
	enum { BOOT_ENTRY_LINUX64, BOOT_ENTRY_PVH32 } mode;
	uint64_t rip;
	uint64_t rsi;         /* LINUX64: boot_params */
	uint64_t rbx;         /* PVH32: hvm_start_info */
	uint64_t pml4;        /* LINUX64: identity page tables built by loader */
	uint64_t gdt;         /* guest address of the GDT the loader wrote */
	uint16_t gdt_limit;
	uint16_t code_sel;    /* flat code: 64-bit (LINUX64) or 32-bit (PVH32) */
	uint16_t data_sel;    /* flat read/write data */
	uint64_t rsp;
};
int vm_setup_bsp(struct vm *vm, const struct boot_entry *entry);

/* Start every vCPU thread. */
int vm_start(struct vm *vm);
/* Ask every vCPU to leave KVM_RUN and stop; records the reason (first wins). */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why);
/* Same, with an explicit process exit status (VM_STOP_DEBUG_EXIT). */
void vm_request_stop_status(struct vm *vm, enum vm_stop_reason why, int status);
/* Join vCPU threads; returns the process exit status for the stop reason. */
int vm_join(struct vm *vm);

/* Assert (1) / deassert (0) a GSI on the in-kernel IOAPIC (and PIC < 16). */
int vm_irq_line(struct vm *vm, unsigned gsi, int level);
/* Pulse an edge-triggered line. */
int vm_irq_pulse(struct vm *vm, unsigned gsi);

/*
 * Map host memory (device memory such as VRAM) at gpa as a KVM slot.
 * flags: KVM_MEM_LOG_DIRTY_PAGES / KVM_MEM_READONLY. Returns slot or -1.
 */
int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *hva,
		  uint32_t flags);
void vm_unmap_memory(struct vm *vm, int slot);
/* Fetch and clear the dirty bitmap of a slot (one bit per 4 KiB page). */
int vm_get_dirty_log(struct vm *vm, int slot, uint64_t *bitmap);

/* Dump a vCPU's registers to stderr (triple fault, emulation failure). */
void vcpu_dump_regs(struct vcpu *vcpu);

#endif
