/* SPDX-License-Identifier: MIT */
/*
 * The CPL 0 part of the built-in guest: everything that must run in ring 0.
 *
 * On paravirtual KVM hosts (kvm_pvm) ring 0 is emulated or trapped at
 * microseconds per privileged instruction while ring 3 runs natively, so this
 * file does the least possible: switch to long mode on static page tables,
 * load a GDT/IDT/TSS and drop to ring 3 with IOPL 3. From then on ring 0 only
 * runs to take an interrupt (count it, EOI), to emulate the few privileged
 * instructions ring 3 uses (see emulate_privileged) and to bounce an
 * exception back to ring 3 for reporting. No C code runs at CPL 0.
 *
 * Ring 3 does port I/O with plain in/out: IOPL 3 allows them on VT-x/AMD-V
 * KVM and QEMU; kvm_pvm forces IOPL 0 in ring 3 (and has no int $N gates
 * for ring 3 either), so there they raise #GP and are emulated here. HLT
 * always raises #GP in ring 3: that is the idle call.
 */
#include "guest.h"

#define MSR_EFER        0xC0000080
#define EFER_LME        (1 << 8)
#define CR0_PE          (1 << 0)
#define CR0_MP          (1 << 1)
#define CR0_NE          (1 << 5)
#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define CR4_OSFXSR      (1 << 9)
#define CR4_OSXMMEXCPT  (1 << 10)

/* Page table entry bits. */
#define PTE_P    0x001
#define PTE_W    0x002
#define PTE_U    0x004
#define PTE_PWT  0x008
#define PTE_PCD  0x010
#define PTE_A    0x020
#define PTE_D    0x040
#define PTE_PS   0x080
#define PTE_TABLE (PTE_P | PTE_W | PTE_U | PTE_A)
#define PTE_LARGE (PTE_P | PTE_W | PTE_U | PTE_A | PTE_D | PTE_PS)
/* 2 MiB pages from here up to 4 GiB are MMIO: map them uncached. */
#define MMIO_FIRST_PD_INDEX  (0xC0000000 >> 21)

/* The PVH entry point note (Xen's XEN_ELFNOTE_PHYS32_ENTRY). */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* name size: "Xen\0" */
	.long 4				/* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long pvh_entry
	.balign 4

/*
 * PVH entry: flat 32-bit protected mode, paging off, EBX = hvm_start_info.
 * No stack is promised, and none is needed until long mode.
 */
	.section .text.entry, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	cli
	cld
	mov %ebx, %esi			/* start_info, handed to ring 3 */
	lgdt gdt_ptr
	mov $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	/* Paging on (long mode active); MP with EM clear: SSE is usable. */
	mov $(CR0_PG | CR0_WP | CR0_NE | CR0_MP | CR0_PE), %eax
	mov %eax, %cr0
	ljmp $KERNEL_CS, $long_entry

	.code64
long_entry:
	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	lea kstack_top(%rip), %rsp

	/* Interrupt gates for the 64 stubs (16 bytes apart), DPL 0. */
	lea idt(%rip), %rdi
	lea isr_stubs(%rip), %rax
	mov $IDT_STUBS, %ecx
1:	mov %ax, (%rdi)
	movl $(0x8E000000 | KERNEL_CS), 2(%rdi)	/* selector, IST 0, P|int gate */
	mov %eax, %edx
	shr $16, %edx
	mov %dx, 6(%rdi)
	add $16, %rax
	add $16, %rdi
	dec %ecx
	jnz 1b
	lidt idt_ptr(%rip)

	mov $TSS_SEL, %eax
	ltr %ax

	/* To ring 3: IOPL 3, interrupts off (only the idle HLT enables them). */
	mov %esi, %edi
	pushq $USER_DS
	lea ustack_top(%rip), %rax
	push %rax
	pushq $USER_RFLAGS
	pushq $USER_CS
	lea user_start(%rip), %rax
	push %rax
	iretq

/*
 * Interrupt and exception stubs, 16 bytes each: push a zero error code
 * where the CPU pushes none, then the vector.
 */
	.balign 16
isr_stubs:
	.set stub_vec, 0
	.rept IDT_STUBS
	.balign 16
	.if !(stub_vec == 8 || (stub_vec >= 10 && stub_vec <= 14) || stub_vec == 17 || stub_vec == 21 || stub_vec == 29 || stub_vec == 30)
	pushq $0
	.endif
	pushq $stub_vec
	jmp isr_common
	.set stub_vec, stub_vec + 1
	.endr

/* Offsets in struct exc_frame (guest.h), from the saved CR2 up. */
#define F_RSI     88
#define F_RDI     80
#define F_RDX     96
#define F_RCX     104
#define F_RAX     120
#define F_VECTOR  128
#define F_RIP     144
#define F_CS      152

/* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS. */
isr_common:
	cld
	cmpq $IRQ_VECTOR_BASE, (%rsp)
	jae irq_entry
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	pushq $0			/* CR2, read only when reporting */
	mov %rsp, %rbx
	/* A #GP from ring 3 may be an instruction we emulate. */
	cmpq $13, F_VECTOR(%rbx)
	jne exception_report_switch
	testb $3, F_CS(%rbx)
	jz exception_report_switch
	call emulate_privileged
	test %eax, %eax
	jz exception_report_switch
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

/*
 * An interrupt: count it and acknowledge it (not if spurious). If it ended
 * the HLT of an idle call, step over the HLT: kvm_pvm ignores STI's
 * interrupt shadow, so the interrupt may land just before it, and the HLT
 * would then sleep past the event it was waiting for.
 */
irq_entry:
	push %rax
	mov 8(%rsp), %rax
	incq irq_count(%rip)
	incl irq_vector_count - 4 * IRQ_VECTOR_BASE(, %rax, 4)
	cmp $SPURIOUS_VECTOR, %eax
	je 1f
	mov lapic_eoi_reg(%rip), %rax
	movl $0, (%rax)
1:	lea idle_hlt(%rip), %rax
	cmp %rax, 24(%rsp)
	jne 2f
	incq 24(%rsp)
2:	pop %rax
	add $16, %rsp
	iretq

/*
 * An exception nobody handles: continue in ring 3 at exception_report(frame)
 * on a stack of its own; it prints and exits. RSP0 moves below the frame so
 * the reporter's own trapped I/O does not overwrite it. A second such
 * exception (in the reporter) exits at once.
 */
exception_report_switch:
	cmpl $0, exc_depth(%rip)
	jne exception_nested
	movl $1, exc_depth(%rip)
	mov %cr2, %rax
	mov %rax, (%rsp)
	mov %rsp, tss + 4(%rip)
	mov %rsp, %rdi
	pushq $USER_DS
	lea exc_stack_top - 8(%rip), %rax	/* as if just called */
	push %rax
	pushq $USER_RFLAGS
	pushq $USER_CS
	lea exception_report(%rip), %rax
	push %rax
	iretq

/* "NESTED EXCEPTION <vector> <rip>" on the debug port, then exit. */
exception_nested:
	mov $PORT_DEBUGCON, %dx
	lea nested_msg(%rip), %rsi
	mov $nested_msg_len, %ecx
	rep outsb
	mov F_VECTOR(%rbx), %rax
	call put_hex
	mov F_RIP(%rbx), %rax
	call put_hex
	mov $'\n', %al
	out %al, %dx
	mov $PORT_DEBUG_EXIT, %dx
	mov $EXIT_NESTED_EXCEPTION, %al
	out %al, %dx
1:	cli
	hlt
	jmp 1b

/* RAX as 16 hex digits and a space to port DX. */
put_hex:
	mov $16, %ecx
1:	rol $4, %rax
	mov %rax, %rsi
	and $15, %eax
	mov hex_digits(%rax), %al
	out %al, %dx
	mov %rsi, %rax
	dec %ecx
	jnz 1b
	mov $' ', %al
	out %al, %dx
	ret

/*
 * Emulate the privileged instruction at the faulting RIP for ring 3; RBX =
 * the saved frame. Returns EAX = 1 (done, RIP advanced) or 0 (not ours).
 *   in/out   al/ax/eax with DX or an 8-bit port (IOPL not honoured)
 *   rep outsb                   (one trap for a whole string)
 *   hlt      idle: RDI = the irq_count ring 3 saw before it found nothing
 *            to do; sleep only if no interrupt came since, so no wake-up
 *            is lost. The interrupt returns past the HLT (irq_entry).
 */
emulate_privileged:
	mov F_RIP(%rbx), %rsi
	xor %ecx, %ecx			/* operand-size prefix seen */
	movzbl (%rsi), %eax
	cmp $0x66, %al
	jne 1f
	mov $1, %ecx
	inc %rsi
	movzbl (%rsi), %eax
1:	mov F_RDX(%rbx), %edx
	cmp $0xEE, %al
	je em_out
	cmp $0xEF, %al
	je em_out
	cmp $0xEC, %al
	je em_in
	cmp $0xED, %al
	je em_in
	movzbl 1(%rsi), %edx		/* imm8 port forms */
	cmp $0xE6, %al
	je em_out_imm
	cmp $0xE7, %al
	je em_out_imm
	cmp $0xE4, %al
	je em_in_imm
	cmp $0xE5, %al
	je em_in_imm
	test %ecx, %ecx
	jnz em_no
	cmp $0xF4, %al
	je em_hlt
	cmp $0xF3, %al
	jne em_no
	cmpb $0x6E, 1(%rsi)
	je em_rep_outsb
em_no:
	xor %eax, %eax
	ret

em_out_imm:
	inc %rsi
em_out:
	mov %eax, %edi			/* opcode: bit 0 = word/dword */
	mov F_RAX(%rbx), %eax
	test $1, %edi
	jz 2f
	test %ecx, %ecx
	jz 3f
	out %ax, %dx
	jmp em_done
3:	out %eax, %dx
	jmp em_done
2:	out %al, %dx
	jmp em_done

em_in_imm:
	inc %rsi
em_in:
	mov %eax, %edi
	test $1, %edi
	jz 2f
	test %ecx, %ecx
	jz 3f
	in %dx, %ax
	mov %ax, F_RAX(%rbx)
	jmp em_done
3:	in %dx, %eax
	mov %rax, F_RAX(%rbx)		/* a 32-bit result zero-extends */
	jmp em_done
2:	in %dx, %al
	mov %al, F_RAX(%rbx)
	jmp em_done

em_rep_outsb:
	inc %rsi
	push %rsi
	mov F_RCX(%rbx), %rcx
	mov F_RSI(%rbx), %rsi
	mov F_RDX(%rbx), %edx
	add %rcx, F_RSI(%rbx)
	movq $0, F_RCX(%rbx)
	rep outsb
	pop %rsi
	jmp em_done

em_hlt:
	mov F_RDI(%rbx), %rax
	cmp irq_count(%rip), %rax
	jne em_done
	sti
	.globl idle_hlt
idle_hlt:
	hlt
	cli

/* RSI points at the instruction's last byte. */
em_done:
	inc %rsi
	mov %rsi, F_RIP(%rbx)
	mov $1, %eax
	ret

/*
 * Ring 3 from here on. RDI = hvm_start_info. Clear .bss (the stacks live
 * in .stack, which is not cleared), then run the C code.
 */
	.text
user_start:
	mov %rdi, %r12
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	mov %r12, %rdi
	call guest_main
	mov %eax, %edi
	call guest_exit
	ud2

/* Static identity map of 0-4 GiB with 2 MiB pages, all user-accessible. */
	.section .data.pagetables, "aw"
	.balign 4096
pml4:
	.quad pdpt + PTE_TABLE
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_TABLE
	.quad pd + 0x1000 + PTE_TABLE
	.quad pd + 0x2000 + PTE_TABLE
	.quad pd + 0x3000 + PTE_TABLE
	.fill 508, 8, 0
pd:
	.set pd_index, 0
	.rept 2048
	.if pd_index >= MMIO_FIRST_PD_INDEX
	.quad (pd_index << 21) | PTE_LARGE | PTE_PCD | PTE_PWT
	.else
	.quad (pd_index << 21) | PTE_LARGE
	.endif
	.set pd_index, pd_index + 1
	.endr

	.section .rodata
nested_msg:
	.ascii "\nNESTED EXCEPTION "
	.set nested_msg_len, . - nested_msg
hex_digits:
	.ascii "0123456789abcdef"


	.data
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf93000000ffff	/* 0x10 kernel data */
	.quad 0x00affb000000ffff	/* 0x18 user code, 64-bit, DPL 3 */
	.quad 0x00cff3000000ffff	/* 0x20 user data, DPL 3 */
	.quad __tss_desc_lo		/* 0x28 TSS (guest.ld computes it) */
	.quad __tss_desc_hi
gdt_end:

	.balign 8
	.word 0
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt
	.word 0, 0, 0
idt_ptr:
	.word IDT_STUBS * 16 - 1
	.quad idt
	.word 0, 0, 0

	.balign 16
	.globl tss
tss:
	.long 0
	.quad kstack_top		/* RSP0: ring 3 -> 0 transitions */
	.fill 11, 8, 0			/* RSP1, RSP2, reserved, IST1-7, reserved */
	.word 0
	/*
	 * I/O permission bitmap allowing every port. IOPL 3 alone is not
	 * enough on paravirtual KVM (kvm_pvm): its iret drops IOPL, so ring 3
	 * port I/O is allowed through this bitmap instead (checked by KVM's
	 * emulator), and through IOPL 3 everywhere else.
	 */
	.word tss_iomap - tss		/* I/O bitmap offset */
tss_iomap:
	.fill 8192, 1, 0		/* one bit per port, 0 = allowed */
	.byte 0xff			/* the CPU reads one byte past the map */
	.globl tss_end
tss_end:

	.balign 16
	.globl idt
idt:
	.fill IDT_STUBS * 2, 8, 0

	.balign 8
	.globl irq_count, irq_vector_count, lapic_eoi_reg
irq_count:
	.quad 0
lapic_eoi_reg:
	.quad 0xFEE000B0
exc_depth:
	.long 0
irq_vector_count:
	.fill IRQ_VECTORS, 4, 0

	.section .stack, "aw", @nobits
	.balign 4096
	.space 16384
kstack_top:
	.space 65536
ustack_top:
	.space 16384
exc_stack_top:

	.section .note.GNU-stack, "", @progbits
