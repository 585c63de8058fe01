/* SPDX-License-Identifier: MIT */
/*
 * Fixed addresses of the machine we emulate, shared by the device models and
 * the firmware tables that describe them (boot/acpi.c) so the two can never
 * disagree.
 */
#ifndef VMM_PLATFORM_H
#define VMM_PLATFORM_H

/* Legacy ISA ports. */
#define PORT_COM1          0x3F8
#define PORT_COM2          0x2F8
#define PORT_I8042_DATA    0x60
#define PORT_I8042_CMD     0x64
#define PORT_CMOS          0x70   /* 0x70 index, 0x71 data */
#define PORT_DEBUGCON      0xE9   /* like QEMU isa-debugcon: guest text out */
#define PORT_DEBUG_EXIT    0xF4   /* like QEMU isa-debug-exit: built-in guest only */
#define PORT_PCI_CONFIG    0xCF8  /* config mechanism #1: 0xCF8 addr, 0xCFC data */

/* ACPI hardware-reduced sleep and reset registers (FADT 5.0+). */
#define PORT_ACPI_SLEEP_CTL  0x600  /* SLP_TYPx << 2 | SLP_EN (bit 5) */
#define PORT_ACPI_SLEEP_STS  0x601
#define PORT_ACPI_RESET      0x602
#define ACPI_RESET_VALUE     0x0F
#define ACPI_S5_SLP_TYP      5

/* PCI windows handed out to BARs. */
#define PCI_IO_WINDOW_START   0x1000
#define PCI_IO_WINDOW_END     0xFFFF     /* inclusive */
#define PCI_MMIO_WINDOW_START 0xC0000000ULL
#define PCI_MMIO_WINDOW_END   0xFEBFFFFFULL  /* inclusive */

#define IOAPIC_ADDR 0xFEC00000ULL
#define LAPIC_ADDR  0xFEE00000ULL

/* Where the firmware tables live (reserved in e820). */
#define ACPI_TABLES_START 0xE0000ULL
#define ACPI_TABLES_END   0x100000ULL

#endif
