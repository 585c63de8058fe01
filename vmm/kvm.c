// SPDX-License-Identifier: MIT
/*
 * /dev/kvm: the VM, its memory slots, the vCPUs and their run loops.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"

/* Addresses KVM needs for its own use on Intel (real-mode TSS and the
 * EPT identity map); just below the BIOS area at the top of 4 GiB. */
#define KVM_TSS_ADDR          0xFFFBD000ULL
#define KVM_IDENTITY_MAP_ADDR 0xFFFBC000ULL

#define VCPU_KICK_SIGNAL SIGUSR1

/* MSR numbers we initialise. */
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102
#define MISC_ENABLE_FAST_STRING 1ULL
#define MTRR_ENABLE_WB          ((1ULL << 11) | 6)

static bool host_has_hw_virt(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5))
			found = strstr(line, " vmx") || strstr(line, " svm");
	fclose(f);
	return found;
}

static int open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		log_err("/dev/kvm does not exist: this host has no KVM (load kvm-intel or kvm-amd)");
	else if (errno == EACCES || errno == EPERM)
		log_err("permission denied opening /dev/kvm (run as root or join the kvm group)");
	else
		log_err("cannot open /dev/kvm: %s", strerror(errno));
	return -1;
}

static int set_slot(struct vm *vm, int slot, uint64_t gpa, uint64_t size,
		    void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = (uint32_t)slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static int alloc_slot(struct vm *vm)
{
	int slot = -1;

	pthread_mutex_lock(&vm->slot_lock);
	for (int i = 0; i < 64; i++) {
		if (!(vm->slots_used & (1ULL << i))) {
			vm->slots_used |= 1ULL << i;
			slot = i;
			break;
		}
	}
	pthread_mutex_unlock(&vm->slot_lock);
	return slot;
}

static void free_slot(struct vm *vm, int slot)
{
	pthread_mutex_lock(&vm->slot_lock);
	vm->slots_used &= ~(1ULL << slot);
	pthread_mutex_unlock(&vm->slot_lock);
}

static int map_ram(struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nr_ram; i++) {
		struct mem_region *r = &vm->mem.ram[i];
		int slot = alloc_slot(vm);

		if (set_slot(vm, slot, r->gpa, r->size, r->hva, 0) < 0) {
			log_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Leave the in-kernel 8259s as a PC BIOS does: initialised (vectors 0x08 and
 * 0x70) with every line masked. KVM creates them uninitialised with every
 * line UNmasked and vector base 0, and LINT0 of the boot CPU is in ExtINT
 * mode: a guest that never touches the 8259 (Linux on hardware-reduced ACPI
 * uses no legacy PIC) would then take ISA interrupts (serial, keyboard,
 * mouse, RTC) also as exception vectors 1..15, e.g. IRQ 12 as #SS, and crash.
 */
static int init_legacy_pics(struct vm *vm)
{
	static const uint8_t vector_base[2] = { 0x08, 0x70 };

	for (uint32_t chip = KVM_IRQCHIP_PIC_MASTER; chip <= KVM_IRQCHIP_PIC_SLAVE; chip++) {
		struct kvm_irqchip ic = { .chip_id = chip };

		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &ic) < 0)
			return -1;
		ic.chip.pic.irq_base = vector_base[chip];
		ic.chip.pic.imr = 0xff;
		ic.chip.pic.init_state = 0;
		ic.chip.pic.init4 = 1;
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &ic) < 0)
			return -1;
	}
	return 0;
}

static struct kvm_cpuid2 *get_supported_cpuid(int kvm_fd)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			break;
	}
	log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	return NULL;
}

int vm_create(struct vm *vm, uint64_t ram_size, unsigned nr_cpus,
	      struct event_loop *loop)
{
	struct kvm_pit_config pit = { .flags = 0 };
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	vm->loop = loop;
	vm->nr_cpus = nr_cpus;
	pthread_mutex_init(&vm->slot_lock, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");

	vm->kvm_fd = open_kvm();
	if (vm->kvm_fd < 0)
		return -1;
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		log_err("/dev/kvm speaks API version %d, we need %d", ret, KVM_API_VERSION);
		return -1;
	}
	vm->has_hw_virt = host_has_hw_virt();
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		log_err("KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	/* Intel needs these two pages for real-mode emulation; harmless
	 * elsewhere, and some kernels do not implement them (ignore). */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR);
	ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){ KVM_IDENTITY_MAP_ADDR });
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		log_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -1;
	}
	if (init_legacy_pics(vm) < 0) {
		log_err("setting up the 8259 PICs: %s", strerror(errno));
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		log_err("KVM_CREATE_PIT2: %s", strerror(errno));
		return -1;
	}
	ret = mem_init(&vm->mem, ram_size);
	if (ret < 0) {
		log_err("cannot allocate %llu MiB of guest memory: %s",
			(unsigned long long)(ram_size >> 20), strerror(-ret));
		return -1;
	}
	if (map_ram(vm) < 0)
		return -1;
	vm->cpuid = get_supported_cpuid(vm->kvm_fd);
	return vm->cpuid ? 0 : -1;
}

/* --- vCPU setup ---------------------------------------------------------- */

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static int set_cpuid(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int ret;

	if (!c)
		return -1;
	memcpy(c, vm->cpuid, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC ID, logical processor count, HTT, and the
			 * "running under a hypervisor" bit. */
			e->ebx = (e->ebx & 0x0000ffff) | (vcpu->id << 24) |
				 ((vm->nr_cpus & 0xff) << 16);
			if (vm->nr_cpus > 1)
				e->edx |= 1u << 28;
			e->ecx |= 1u << 31;
			break;
		case 4:
			/* Cores per package, for Intel's topology enumeration. */
			if (e->eax & 0x1f)
				e->eax = (e->eax & 0x03ffffff) |
					 ((vm->nr_cpus - 1) << 26);
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC topology: one thread per core, nr_cpus cores. */
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1u << 8;
			} else if (e->index == 1) {
				e->eax = bits_for(vm->nr_cpus);
				e->ebx = vm->nr_cpus;
				e->ecx = 1 | (2u << 8);
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			e->edx = vcpu->id;
			break;
		case 0x80000008:
			/* AMD: number of cores minus one. */
			e->ecx = (e->ecx & ~0xffu) | ((vm->nr_cpus - 1) & 0xff);
			break;
		}
	}
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, c);
	if (ret < 0)
		log_err("KVM_SET_CPUID2: %s", strerror(errno));
	free(c);
	return ret;
}

static void set_msrs(struct vcpu *vcpu)
{
	static const struct { uint32_t index; uint64_t value; } init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 }, { MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		/* Without MTRRs enabled Linux maps all RAM uncached. */
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WB },
	};

	/* One at a time: an MSR this KVM does not know must not keep the
	 * others from being set. */
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
		/* struct kvm_msrs ends in a flexible array: lay it out by hand. */
		union {
			struct kvm_msrs hdr;
			uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
		} m = { .hdr.nmsrs = 1 };

		m.hdr.entries[0].index = init[i].index;
		m.hdr.entries[0].data = init[i].value;
		if (ioctl(vcpu->fd, KVM_SET_MSRS, &m) != 1)
			log_debug("vcpu%u: MSR 0x%x not settable", vcpu->id, init[i].index);
	}
}

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_EXTINT (7u << 8)
#define APIC_MODE_NMI    (4u << 8)

/* LINT0 = ExtINT (the 8259 PIC), LINT1 = NMI, as a PC BIOS leaves them. */
static int set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state st;
	uint32_t v;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &st) < 0)
		return -1;
	memcpy(&v, &st.regs[APIC_LVT_LINT0], 4);
	v = (v & ~0x700u & ~(1u << 16)) | APIC_MODE_EXTINT;
	memcpy(&st.regs[APIC_LVT_LINT0], &v, 4);
	memcpy(&v, &st.regs[APIC_LVT_LINT1], 4);
	v = (v & ~0x700u & ~(1u << 16)) | APIC_MODE_NMI;
	memcpy(&st.regs[APIC_LVT_LINT1], &v, 4);
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &st);
}

static int set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	return ioctl(vcpu->fd, KVM_SET_FPU, &fpu);
}

int vm_create_vcpus(struct vm *vm)
{
	int run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (run_size <= 0) {
		log_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			log_err("KVM_CREATE_VCPU %u: %s", i, strerror(errno));
			return -1;
		}
		v->run_size = (size_t)run_size;
		v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			log_err("mmap kvm_run: %s", strerror(errno));
			return -1;
		}
		if (set_cpuid(v) < 0)
			return -1;
		set_msrs(v);
		if (set_lapic(v) < 0 || set_fpu(v) < 0) {
			log_err("vcpu%u: LAPIC/FPU setup: %s", i, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static struct kvm_segment flat_segment(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = type, .present = 1, .dpl = 0, .s = 1,
		.l = code64, .db = !code64, .g = 1,
	};
}

#define X86_CR0_PE 0x1ULL
#define X86_CR0_ET 0x10ULL
#define X86_CR0_PG 0x80000000ULL
#define X86_CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL
#define SEG_TYPE_CODE_XR 0xb   /* execute/read, accessed */
#define SEG_TYPE_DATA_RW 0x3   /* read/write, accessed */

int vm_setup_bsp(struct vm *vm, const struct boot_entry *e)
{
	struct vcpu *bsp = &vm->vcpus[0];
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 2, .rip = e->rip, .rsp = e->rsp };
	bool lm = e->mode == BOOT_ENTRY_LINUX64;
	struct kvm_segment code, data;

	if (ioctl(bsp->fd, KVM_GET_SREGS, &s) < 0)
		return -1;
	code = flat_segment(e->code_sel, SEG_TYPE_CODE_XR, lm);
	data = flat_segment(e->data_sel, SEG_TYPE_DATA_RW, false);
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = e->gdt;
	s.gdt.limit = e->gdt_limit;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = X86_CR0_PE | X86_CR0_ET;
	if (lm) {
		s.cr3 = e->pml4;
		s.cr4 |= X86_CR4_PAE;
		s.cr0 |= X86_CR0_PG;
		s.efer |= EFER_LME | EFER_LMA;
		r.rsi = e->rsi;
	} else {
		s.cr4 = 0;
		s.efer = 0;
		r.rbx = e->rbx;
	}
	if (ioctl(bsp->fd, KVM_SET_SREGS, &s) < 0 ||
	    ioctl(bsp->fd, KVM_SET_REGS, &r) < 0) {
		log_err("setting boot CPU registers: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* --- running -------------------------------------------------------------- */

void vcpu_dump_regs(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		log_err("vcpu%u: cannot read registers: %s", vcpu->id, strerror(errno));
		return;
	}
	fprintf(stderr,
		"vcpu%u registers:\r\n"
		" RIP=%016llx RSP=%016llx RFLAGS=%016llx\r\n"
		" RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\r\n"
		" RSI=%016llx RDI=%016llx RBP=%016llx\r\n"
		" R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\r\n"
		" R12=%016llx R13=%016llx R14=%016llx R15=%016llx\r\n"
		" CS=%04x(base %llx l=%d db=%d dpl=%d) SS=%04x DS=%04x\r\n"
		" CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx EFER=%016llx\r\n"
		" GDT=%016llx/%04x IDT=%016llx/%04x\r\n",
		vcpu->id, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx,
		r.rsi, r.rdi, r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
		r.r14, r.r15, s.cs.selector, s.cs.base, s.cs.l, s.cs.db,
		s.cs.dpl, s.ss.selector, s.ds.selector, s.cr0, s.cr2, s.cr3,
		s.cr4, s.efer, s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
	fflush(stderr);
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	/* KVM guarantees data_offset/size/count fit in the run page; check
	 * anyway rather than trust a value we did not compute. */
	if (run->io.data_offset + (uint64_t)run->io.size * run->io.count > vcpu->run_size)
		return;
	for (uint32_t i = 0; i < run->io.count; i++) {
		bus_dispatch(&vcpu->vm->pio, run->io.port, data, run->io.size, out);
		data += run->io.size;
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	bus_dispatch(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data,
		     run->mmio.len, run->mmio.is_write);
}

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_SHUTDOWN: return "triple fault (shutdown)";
	case KVM_EXIT_INTERNAL_ERROR: return "KVM internal error (emulation failure)";
	case KVM_EXIT_FAIL_ENTRY: return "VM entry failed";
	case KVM_EXIT_EXCEPTION: return "unhandled exception";
	case KVM_EXIT_HLT: return "halt with interrupts disabled";
	default: return "unexpected exit";
	}
}

static void guest_failed(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	log_err("vcpu%u: %s (exit reason %u)", vcpu->id,
		exit_name(run->exit_reason), run->exit_reason);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		log_err("vcpu%u: suberror %u", vcpu->id, run->internal.suberror);
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		log_err("vcpu%u: hardware entry failure reason 0x%llx", vcpu->id,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	vcpu_dump_regs(vcpu);
	vm_request_stop(vcpu->vm, VM_STOP_ERROR);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(vcpu->vm, VM_STOP_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(vcpu->vm, VM_STOP_REBOOT);
		break;
	default:
		log_err("vcpu%u: system event %u", vcpu->id, vcpu->run->system_event.type);
		vm_request_stop(vcpu->vm, VM_STOP_ERROR);
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t set;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (atomic_load(&vm->stop_reason) == VM_RUNNING) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_err("vcpu%u: KVM_RUN: %s", vcpu->id, strerror(errno));
			vm_request_stop(vm, VM_STOP_ERROR);
			break;
		}
		switch (vcpu->run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(vcpu);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(vcpu);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			handle_system_event(vcpu);
			break;
		default:
			guest_failed(vcpu);
			break;
		}
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vm_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set, old;

	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	/* Only vCPU threads take the kick signal: block it while creating them
	 * (they inherit the mask) and unblock it in each thread. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (pthread_create(&v->thread, NULL, vcpu_thread, v) != 0) {
			log_err("cannot start vCPU thread %u", i);
			vm_request_stop(vm, VM_STOP_ERROR);
			return -1;
		}
		v->thread_started = true;
	}
	return 0;
}

void vm_request_stop_status(struct vm *vm, enum vm_stop_reason why, int status)
{
	int expected = VM_RUNNING;

	if (!atomic_compare_exchange_strong(&vm->stop_reason, &expected, (int)why))
		return;   /* the first reason wins */
	vm->exit_status = status;
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		/* immediate_exit closes the race with a vCPU about to enter
		 * KVM_RUN; the signal interrupts one already inside. */
		if (v->run)
			v->run->immediate_exit = 1;
		if (v->thread_started && !pthread_equal(v->thread, pthread_self()))
			pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
	if (vm->loop)
		event_loop_stop(vm->loop, status);
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason why)
{
	vm_request_stop_status(vm, why, why == VM_STOP_ERROR ? 1 : 0);
}

int vm_join(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		if (vm->vcpus[i].thread_started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].thread_started = false;
		}
	}
	return vm->exit_status;
}

void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, v->run_size);
		if (v->fd > 0)
			close(v->fd);
	}
	free(vm->cpuid);
	vm->cpuid = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	mem_destroy(&vm->mem);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	pthread_mutex_destroy(&vm->slot_lock);
}

/* --- interrupts and device memory -------------------------------------- */

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)!!level };

	if (vm->irq_observer)
		vm->irq_observer(vm, gsi, level);
	if (vm->vm_fd < 0)
		return 0;
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq);
}

int vm_irq_pulse(struct vm *vm, unsigned gsi)
{
	int ret = vm_irq_line(vm, gsi, 1);

	return ret ? ret : vm_irq_line(vm, gsi, 0);
}

int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *hva,
		  uint32_t flags)
{
	int slot = alloc_slot(vm);

	if (slot < 0)
		return -1;
	if (set_slot(vm, slot, gpa, size, hva, flags) < 0) {
		log_warn("mapping device memory at 0x%llx: %s",
			 (unsigned long long)gpa, strerror(errno));
		free_slot(vm, slot);
		return -1;
	}
	return slot;
}

void vm_unmap_memory(struct vm *vm, int slot)
{
	if (slot < 0)
		return;
	set_slot(vm, slot, 0, 0, NULL, 0);
	free_slot(vm, slot);
}

int vm_get_dirty_log(struct vm *vm, int slot, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = (uint32_t)slot, .dirty_bitmap = bitmap };

	return ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log);
}
