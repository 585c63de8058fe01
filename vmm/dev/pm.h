/* SPDX-License-Identifier: MIT */
/*
 * ACPI hardware-reduced power management (FADT 5.0+ sleep control, sleep
 * status and reset registers, ports in platform.h) and the chipset's reset
 * control register at 0xCF9 that Linux's reboot=pci uses.
 */
#ifndef VMM_DEV_PM_H
#define VMM_DEV_PM_H

#include <stdint.h>

#include "../vm.h"

#define PORT_RESET_CONTROL 0xCF9

/* Register the ACPI sleep/reset registers on vm->pio; 0 or -1. */
int pm_create(struct vm *vm);

/*
 * A guest write of val to the reset control register (0xCF9). That port sits
 * inside the PCI configuration address dword, so pci.c decodes it and calls
 * this: bit 2 (RST_CPU) set resets (VM_STOP_REBOOT).
 */
void pm_reset_control_write(struct vm *vm, uint8_t val);

#endif
