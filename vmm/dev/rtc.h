/* SPDX-License-Identifier: MIT */
/*
 * MC146818 CMOS real-time clock and its 128 bytes of CMOS RAM (ports 0x70
 * index, bit 7 = NMI disable; 0x71 data; IRQ 8).
 *
 * The clock is the host's UTC time plus an offset the guest sets by writing
 * the time registers (with or without the SET bit). Interrupt flags (update
 * ended, alarm, periodic) are computed from the clock when status C is read,
 * and an event-loop timer raises IRQ 8 only while the guest has enabled one
 * of them: an RTC nobody asked interrupts from costs nothing.
 *
 * The CMOS RAM holds the memory sizes a PC BIOS stores there (0x15-0x18,
 * 0x30-0x31, 0x34-0x35, 0x5b-0x5d) and the century at 0x32.
 */
#ifndef VMM_DEV_RTC_H
#define VMM_DEV_RTC_H

#include "../event.h"
#include "../vm.h"

struct rtc;

/* Register ports PORT_CMOS..+1. loop may be NULL (no interrupts from
 * timers, flags still work). Reads vm->mem for the memory size bytes. */
struct rtc *rtc_create(struct vm *vm, struct event_loop *loop);
/* Loop thread (or with the loop not running). */
void rtc_destroy(struct rtc *rtc);

#endif
