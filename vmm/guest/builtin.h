/* SPDX-License-Identifier: MIT */
/*
 * The built-in guest (vmm/guest/), embedded by blob.S: a PVH ELF image of
 * builtin_guest_end - builtin_guest_start bytes, for boot_load().
 */
#ifndef VMM_GUEST_BUILTIN_H
#define VMM_GUEST_BUILTIN_H

extern const unsigned char builtin_guest_start[], builtin_guest_end[];

#endif
