// SPDX-License-Identifier: MIT
/*
 * ACPI 6, 4.8.3.7 "Sleep Control and Status Registers" and 4.8.3.6 "Reset
 * Register", for hardware-reduced ACPI:
 *  - sleep control: SLP_TYPx in bits 2-4, SLP_EN (bit 5, write-only) starts
 *    the transition. S5 powers off; we implement no other sleep state, so
 *    such a request wakes at once (WAK_STS set) instead of leaving the guest
 *    polling WAK_STS forever (Linux's acpi_hw_extended_sleep does that);
 *  - sleep status: WAK_STS (bit 7), write 1 to clear;
 *  - reset: writing ACPI_RESET_VALUE resets.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "../log.h"
#include "../platform.h"
#include "pm.h"

#define SLP_EN       0x20
#define SLP_TYP(v)   (((v) >> 2) & 7)
#define WAK_STS      0x80
#define RCR_RST_CPU  0x04

struct pm {
	struct vm *vm;
	atomic_uchar sleep_status;
};

static void sleep_control_write(struct pm *pm, uint8_t val)
{
	if (!(val & SLP_EN))
		return;
	if (SLP_TYP(val) == ACPI_S5_SLP_TYP) {
		vm_request_stop(pm->vm, VM_STOP_POWEROFF);
		return;
	}
	log_once(LOG_INFO, "pm: guest asked for sleep type %u, which is not "
		 "implemented: waking up at once", SLP_TYP(val));
	atomic_fetch_or(&pm->sleep_status, WAK_STS);
}

static void pm_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		  bool is_write)
{
	struct pm *pm = opaque;

	/* Byte registers; a wider access is a run of byte accesses. */
	for (uint32_t i = 0; i < len; i++) {
		uint64_t port = PORT_ACPI_SLEEP_CTL + offset + i;

		if (!is_write) {
			/* SLP_EN and SLP_TYPx read as 0; the reset register
			 * is write-only. */
			data[i] = port == PORT_ACPI_SLEEP_STS ?
				  atomic_load(&pm->sleep_status) : 0;
			continue;
		}
		if (port == PORT_ACPI_SLEEP_CTL)
			sleep_control_write(pm, data[i]);
		else if (port == PORT_ACPI_SLEEP_STS)
			atomic_fetch_and(&pm->sleep_status, (uint8_t)~(data[i] & WAK_STS));
		else if (port == PORT_ACPI_RESET && data[i] == ACPI_RESET_VALUE)
			vm_request_stop(pm->vm, VM_STOP_REBOOT);
	}
}

void pm_reset_control_write(struct vm *vm, uint8_t val)
{
	/* Linux writes 0x02 (hard reset requested) then 0x06 / 0x0E. */
	if (val & RCR_RST_CPU)
		vm_request_stop(vm, VM_STOP_REBOOT);
}

_Static_assert(PORT_ACPI_SLEEP_STS == PORT_ACPI_SLEEP_CTL + 1 &&
	       PORT_ACPI_RESET == PORT_ACPI_SLEEP_CTL + 2,
	       "pm.c registers the three ACPI registers as one range");

int pm_create(struct vm *vm)
{
	struct pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return -1;
	pm->vm = vm;
	/* Lives as long as the process: the bus keeps a pointer to it. */
	if (bus_register(&vm->pio, PORT_ACPI_SLEEP_CTL, 3, pm_io, pm, "acpi-pm") < 0) {
		log_err("pm: ports 0x%x-0x%x are taken", PORT_ACPI_SLEEP_CTL,
			PORT_ACPI_RESET);
		free(pm);
		return -1;
	}
	return 0;
}
