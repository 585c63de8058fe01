/* SPDX-License-Identifier: MIT */
/*
 * The built-in guest ELF, embedded in the vmm binary (vmm --demo). The
 * Makefile passes GUEST_ELF_PATH, e.g. "build/builtin/guest.elf".
 */
	.section .rodata
	.balign 64
	.globl builtin_guest_start
	.type builtin_guest_start, @object
builtin_guest_start:
	.incbin GUEST_ELF_PATH
	.globl builtin_guest_end
	.type builtin_guest_end, @object
builtin_guest_end:

	.section .note.GNU-stack, "", @progbits
