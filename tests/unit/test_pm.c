// SPDX-License-Identifier: MIT
/* ACPI hardware-reduced sleep control/status and reset registers, and the
 * 0xCF9 reset control register helper. */
#include <string.h>

#include "check.h"
#include "vmm/dev/pm.h"
#include "vmm/platform.h"

static struct vm vm;

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	CHECK(bus_dispatch(&vm.pio, port, &v, 1, false));
	return v;
}

static void outb(uint16_t port, uint8_t v)
{
	CHECK(bus_dispatch(&vm.pio, port, &v, 1, true));
}

static int stop_reason(void)
{
	return atomic_load(&vm.stop_reason);
}

static void rearm(void)
{
	atomic_store(&vm.stop_reason, VM_RUNNING);
}

int main(void)
{
	vm.kvm_fd = vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	CHECK(pm_create(&vm) == 0);
	CHECK(pm_create(&vm) < 0);                        /* ports taken */

	/* S5 type without SLP_EN: nothing happens. */
	outb(PORT_ACPI_SLEEP_CTL, ACPI_S5_SLP_TYP << 2);
	CHECK_EQ_U64(stop_reason(), VM_RUNNING);
	CHECK_EQ_U64(inb(PORT_ACPI_SLEEP_CTL), 0);        /* write-only bits */

	/* Linux: clear WAK_STS, then SLP_TYP|SLP_EN. */
	CHECK_EQ_U64(inb(PORT_ACPI_SLEEP_STS), 0);
	outb(PORT_ACPI_SLEEP_STS, 0x80);
	outb(PORT_ACPI_SLEEP_CTL, 3 << 2 | 0x20);         /* S3: not ours */
	CHECK_EQ_U64(stop_reason(), VM_RUNNING);
	CHECK_EQ_U64(inb(PORT_ACPI_SLEEP_STS), 0x80);     /* woke at once */
	outb(PORT_ACPI_SLEEP_STS, 0x7F);                  /* only bit 7 clears */
	CHECK_EQ_U64(inb(PORT_ACPI_SLEEP_STS), 0x80);
	outb(PORT_ACPI_SLEEP_STS, 0x80);
	CHECK_EQ_U64(inb(PORT_ACPI_SLEEP_STS), 0);

	outb(PORT_ACPI_SLEEP_CTL, ACPI_S5_SLP_TYP << 2 | 0x20);
	CHECK_EQ_U64(stop_reason(), VM_STOP_POWEROFF);
	rearm();

	/* Reset register: only the FADT's value resets. */
	outb(PORT_ACPI_RESET, ACPI_RESET_VALUE ^ 1);
	CHECK_EQ_U64(stop_reason(), VM_RUNNING);
	outb(PORT_ACPI_RESET, ACPI_RESET_VALUE);
	CHECK_EQ_U64(stop_reason(), VM_STOP_REBOOT);
	rearm();

	/* A word write at the sleep control register reaches both bytes. */
	{
		uint8_t w[2] = { 0, 0x80 };

		outb(PORT_ACPI_SLEEP_CTL, 1 << 2 | 0x20);
		CHECK(bus_dispatch(&vm.pio, PORT_ACPI_SLEEP_CTL, w, 2, true));
		CHECK_EQ_U64(inb(PORT_ACPI_SLEEP_STS), 0);
	}

	/* 0xCF9 (decoded by pci.c): Linux writes 0x02 then 0x06. */
	pm_reset_control_write(&vm, 0x02);
	CHECK_EQ_U64(stop_reason(), VM_RUNNING);
	pm_reset_control_write(&vm, 0x06);
	CHECK_EQ_U64(stop_reason(), VM_STOP_REBOOT);
	return check_summary("test_pm");
}
