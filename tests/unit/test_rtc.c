// SPDX-License-Identifier: MIT
/* MC146818 RTC: host time in BCD / binary / 12 h, the SET bit, UIP, status
 * C flags and IRQ 8 from the event-loop timer, CMOS memory size bytes,
 * index handling. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "vmm/dev/rtc.h"
#include "vmm/event.h"
#include "vmm/platform.h"

static struct vm vm;
static atomic_int irq_level[32];

static void observer(struct vm *v, unsigned gsi, int level)
{
	(void)v;
	if (gsi < 32)
		atomic_store(&irq_level[gsi], level);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	bus_dispatch(&vm.pio, port, &v, 1, false);
	return v;
}

static void outb(uint16_t port, uint8_t v)
{
	bus_dispatch(&vm.pio, port, &v, 1, true);
}

static uint8_t cmos_read(uint8_t idx)
{
	outb(PORT_CMOS, idx);
	return inb(PORT_CMOS + 1);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
	outb(PORT_CMOS, idx);
	outb(PORT_CMOS + 1, v);
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xF);
}

/* Read the clock as Linux's mc146818_get_time does: wait for UIP to clear,
 * read everything, retry if the seconds changed meanwhile. */
static time_t read_clock(bool binary, bool h12)
{
	for (int tries = 0; tries < 100; tries++) {
		uint8_t sec, min, hour, mday, mon, year, cent;

		while (cmos_read(0x0A) & 0x80)
			;
		sec = cmos_read(0x00);
		min = cmos_read(0x02);
		hour = cmos_read(0x04);
		mday = cmos_read(0x07);
		mon = cmos_read(0x08);
		year = cmos_read(0x09);
		cent = cmos_read(0x32);
		if (sec != cmos_read(0x00))
			continue;
		unsigned (*d)(uint8_t) = binary ? NULL : bcd;
#define DEC(x) (d ? d(x) : (unsigned)(x))
		unsigned h = h12 ? DEC(hour & 0x7F) % 12 + ((hour & 0x80) ? 12 : 0)
				 : DEC(hour);
		struct tm tm = {
			.tm_sec = (int)DEC(sec), .tm_min = (int)DEC(min),
			.tm_hour = (int)h, .tm_mday = (int)DEC(mday),
			.tm_mon = (int)DEC(mon) - 1,
			.tm_year = (int)(DEC(cent) * 100 + DEC(year)) - 1900,
		};
#undef DEC
		return timegm(&tm);
	}
	return 0;
}

static long diff(time_t a, time_t b)
{
	return a > b ? (long)(a - b) : (long)(b - a);
}

static void setup(uint64_t ram)
{
	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	vm.irq_observer = observer;
	CHECK(mem_init(&vm.mem, ram) == 0);
}

static void teardown(void)
{
	mem_destroy(&vm.mem);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
}

static void test_time_formats(void)
{
	struct rtc *r;
	uint8_t b;

	setup(256ULL << 20);
	r = rtc_create(&vm, NULL);
	CHECK(r != NULL);
	b = cmos_read(0x0B);
	CHECK_EQ_U64(b & 0x06, 0x02);                 /* BCD, 24 h */
	CHECK_EQ_U64(cmos_read(0x0A) & 0x7F, 0x26);   /* 32 kHz, 1024 Hz */
	CHECK_EQ_U64(cmos_read(0x0D), 0x80);          /* VRT */
	CHECK(diff(read_clock(false, false), time(NULL)) <= 2);
	CHECK_EQ_U64(bcd(cmos_read(0x32)), 20);       /* century, BCD */
	/* Every BCD nibble is a digit. */
	for (uint8_t i = 0; i <= 9; i++)
		if (i != 1 && i != 3 && i != 5)
			CHECK((cmos_read(i) & 0x0F) <= 9);

	cmos_write(0x0B, b | 0x04);                   /* binary */
	CHECK(diff(read_clock(true, false), time(NULL)) <= 2);
	CHECK_EQ_U64(cmos_read(0x32), 20);

	cmos_write(0x0B, b & ~0x02);                  /* BCD, 12 hour */
	CHECK(diff(read_clock(false, true), time(NULL)) <= 2);
	{
		time_t now = time(NULL);
		struct tm tm;
		uint8_t h = cmos_read(0x04);

		gmtime_r(&now, &tm);
		CHECK_EQ_U64(!!(h & 0x80), tm.tm_hour >= 12);
		CHECK(bcd(h & 0x7F) >= 1 && bcd(h & 0x7F) <= 12);
	}
	cmos_write(0x0B, b);
	rtc_destroy(r);
	teardown();
}

static void test_set_bit(void)
{
	struct rtc *r;
	struct tm want = { .tm_year = 2031 - 1900, .tm_mon = 5, .tm_mday = 15,
			   .tm_hour = 12, .tm_min = 34, .tm_sec = 56 };
	time_t target = timegm(&want), t0 = time(NULL);

	setup(256ULL << 20);
	r = rtc_create(&vm, NULL);
	/* As Linux's mc146818_set_time: SET, divider reset, write, restore. */
	cmos_write(0x0B, 0x02 | 0x80 | 0x10);
	CHECK_EQ_U64(cmos_read(0x0B), 0x82);          /* SET clears UIE */
	cmos_write(0x0A, 0x70 | 0x06);
	cmos_write(0x00, 0x56);
	cmos_write(0x02, 0x34);
	cmos_write(0x04, 0x12);
	cmos_write(0x07, 0x15);
	cmos_write(0x08, 0x06);
	cmos_write(0x09, 0x31);
	cmos_write(0x32, 0x20);
	/* Frozen while SET: reads give back what was written. */
	CHECK_EQ_U64(cmos_read(0x00), 0x56);
	CHECK_EQ_U64(cmos_read(0x09), 0x31);
	CHECK_EQ_U64(cmos_read(0x0A) & 0x80, 0);      /* no UIP while SET */
	cmos_write(0x0B, 0x02);
	cmos_write(0x0A, 0x26);
	CHECK(diff(read_clock(false, false), target + (time(NULL) - t0)) <= 2);
	/* The offset sticks as host time goes on. */
	sleep(1);
	CHECK(diff(read_clock(false, false), target + (time(NULL) - t0)) <= 2);
	CHECK(read_clock(false, false) > target);

	/* A running write (no SET) moves the clock by the difference. */
	cmos_write(0x09, 0x41);                       /* 2041 */
	want.tm_year = 2041 - 1900;
	CHECK(diff(read_clock(false, false), timegm(&want) + (time(NULL) - t0)) <= 3);
	/* Garbage registers do not move the clock. */
	time_t before = read_clock(false, false);

	cmos_write(0x0B, 0x82);
	cmos_write(0x08, 0x99);                       /* month 99 */
	cmos_write(0x0B, 0x02);
	CHECK(diff(read_clock(false, false), before) <= 2);
	rtc_destroy(r);
	teardown();
}

static void test_uip(void)
{
	struct rtc *r;
	struct timespec t0, t;
	int seen = 0, reads = 0;
	long ns;

	setup(256ULL << 20);
	r = rtc_create(&vm, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* At least one whole second; on a loaded host this thread can be
	 * off the CPU through a whole 244 us window, so go on (up to 5 s)
	 * until one update cycle has been seen. */
	do {
		if (cmos_read(0x0A) & 0x80)
			seen++;
		reads++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		ns = (t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec);
	} while (ns < 1100000000L || (!seen && ns < 5100000000L));
	CHECK(seen > 0);
	CHECK(seen < reads / 50);                     /* 244 us of each second */
	/* Divider held in reset: no update cycle, no UIP. */
	cmos_write(0x0A, 0x70);
	seen = 0;
	for (int i = 0; i < 200000; i++)
		if (cmos_read(0x0A) & 0x80)
			seen++;
	CHECK_EQ_U64(seen, 0);
	rtc_destroy(r);
	teardown();
}

static void test_status_c_polled(void)
{
	struct rtc *r;
	uint8_t c;

	setup(256ULL << 20);
	r = rtc_create(&vm, NULL);
	cmos_read(0x0C);
	CHECK_EQ_U64(cmos_read(0x0C) & 0x10, 0);      /* read cleared it */
	/* Alarm "don't care" everywhere: every second matches. */
	cmos_write(0x01, 0xFF);
	cmos_write(0x03, 0xFF);
	cmos_write(0x05, 0xFF);
	cmos_write(0x0A, 0x2F);                       /* periodic 2 Hz */
	usleep(1100000);
	c = cmos_read(0x0C);
	CHECK_EQ_U64(c & 0x70, 0x70);                 /* UF AF PF */
	CHECK_EQ_U64(c & 0x80, 0);                    /* nothing enabled */
	CHECK_EQ_U64(cmos_read(0x0C) & 0x70, 0);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_RTC]), 0);
	/* An alarm that cannot match for a while. */
	{
		time_t now = read_clock(false, false);

		cmos_write(0x01, (uint8_t)(((now + 30) % 60 / 10) << 4 | (now + 30) % 60 % 10));
	}
	cmos_write(0x0A, 0x20);                       /* periodic off */
	cmos_read(0x0C);
	usleep(1100000);
	c = cmos_read(0x0C);
	CHECK_EQ_U64(c & 0x70, 0x10);
	/* Enabling a source whose flag is set raises IRQF and the line. */
	usleep(1100000);
	cmos_write(0x0B, 0x02 | 0x10);
	/* (the flag is computed when C is read, or by the timer; no loop
	 * here, so only reading C reports it) */
	c = cmos_read(0x0C);
	CHECK_EQ_U64(c & 0x90, 0x90);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_RTC]), 0);   /* cleared by the read */
	/* Read-only registers stay. */
	cmos_write(0x0C, 0xFF);
	cmos_write(0x0D, 0x00);
	CHECK_EQ_U64(cmos_read(0x0D), 0x80);
	CHECK_EQ_U64(cmos_read(0x0C) & 0x80, 0);
	rtc_destroy(r);
	teardown();
}

struct loop_thread {
	struct event_loop *loop;
	pthread_t th;
};

static void *loop_main(void *arg)
{
	struct loop_thread *lt = arg;

	event_loop_run(lt->loop);
	return NULL;
}

static bool wait_irq(int level, int timeout_ms)
{
	for (int i = 0; i < timeout_ms; i++) {
		if (atomic_load(&irq_level[IRQ_RTC]) == level)
			return true;
		usleep(1000);
	}
	return false;
}

/* IRQ 8 raised by the event-loop timer for each enabled source. */
static void test_interrupts(void)
{
	struct loop_thread lt;
	struct rtc *r;
	uint8_t c;

	setup(256ULL << 20);
	lt.loop = event_loop_create();
	r = rtc_create(&vm, lt.loop);
	CHECK(r != NULL);
	pthread_create(&lt.th, NULL, loop_main, &lt);

	cmos_read(0x0C);
	cmos_write(0x0B, 0x02 | 0x10);                /* UIE */
	CHECK(wait_irq(1, 1500));
	c = cmos_read(0x0C);
	CHECK_EQ_U64(c & 0x90, 0x90);                 /* IRQF + UF */
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_RTC]), 0);
	CHECK(wait_irq(1, 1500));                     /* and the next second */
	cmos_write(0x0B, 0x02);
	cmos_read(0x0C);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_RTC]), 0);
	usleep(1200000);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_RTC]), 0);   /* disabled */

	/* Periodic at 1024 Hz: a few interrupts in a row, each after C is
	 * read. */
	cmos_write(0x0A, 0x26);
	cmos_write(0x0B, 0x02 | 0x40);
	for (int i = 0; i < 5; i++) {
		CHECK(wait_irq(1, 500));
		c = cmos_read(0x0C);
		CHECK_EQ_U64(c & 0xC0, 0xC0);
	}
	cmos_write(0x0B, 0x02);
	cmos_read(0x0C);

	/* Alarm two seconds ahead. */
	{
		time_t now = read_clock(false, false) + 2;
		unsigned s = (unsigned)(now % 60);

		cmos_write(0x01, (uint8_t)((s / 10) << 4 | s % 10));
		cmos_write(0x03, 0xC0);
		cmos_write(0x05, 0xC0);
	}
	cmos_read(0x0C);
	cmos_write(0x0B, 0x02 | 0x20);
	CHECK(wait_irq(1, 3500));
	c = cmos_read(0x0C);
	CHECK_EQ_U64(c & 0xA0, 0xA0);
	cmos_write(0x0B, 0x02);

	event_loop_stop(lt.loop, 0);
	pthread_join(lt.th, NULL);
	rtc_destroy(r);
	event_loop_destroy(lt.loop);
	teardown();
}

static void test_cmos_ram(void)
{
	struct rtc *r;
	uint16_t data;

	setup(256ULL << 20);
	r = rtc_create(&vm, NULL);
	CHECK_EQ_U64(cmos_read(0x15) | cmos_read(0x16) << 8, 640);
	CHECK_EQ_U64(cmos_read(0x17) | cmos_read(0x18) << 8, 0xFFFF);   /* capped */
	CHECK_EQ_U64(cmos_read(0x30) | cmos_read(0x31) << 8, 0xFFFF);
	CHECK_EQ_U64(cmos_read(0x34) | cmos_read(0x35) << 8, (256 - 16) * 16);
	CHECK_EQ_U64(cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16, 0);
	{
		unsigned sum = 0;

		for (uint8_t i = 0x10; i <= 0x2D; i++)
			sum += cmos_read(i);
		CHECK_EQ_U64(cmos_read(0x2E) << 8 | cmos_read(0x2F), sum);
	}

	/* General-purpose RAM; index bit 7 is the NMI mask, not an address. */
	cmos_write(0x40, 0x12);
	CHECK_EQ_U64(cmos_read(0x40), 0x12);
	cmos_write(0x80 | 0x41, 0x34);
	CHECK_EQ_U64(cmos_read(0x41), 0x34);
	CHECK_EQ_U64(cmos_read(0xC1), 0x34);
	cmos_write(0xFF, 0x56);
	CHECK_EQ_U64(cmos_read(0x7F), 0x56);
	CHECK_EQ_U64(inb(PORT_CMOS), 0xFF);           /* index is write-only */
	/* A word access is index then data. */
	data = 0x7842;
	CHECK(bus_dispatch(&vm.pio, PORT_CMOS, (uint8_t *)&data, 2, true));
	CHECK_EQ_U64(cmos_read(0x42), 0x78);
	/* Nothing answers beyond the two ports. */
	{
		uint8_t v = 0;

		CHECK(!bus_dispatch(&vm.pio, PORT_CMOS + 2, &v, 1, false));
		CHECK(!bus_dispatch(&vm.pio, PORT_CMOS + 1, (uint8_t *)&data, 2, false));
	}
	rtc_destroy(r);
	teardown();

	/* 5 GiB: 3 GiB below the hole, 2 GiB above 4 GiB. */
	setup(5ULL << 30);
	r = rtc_create(&vm, NULL);
	CHECK_EQ_U64(cmos_read(0x34) | cmos_read(0x35) << 8, ((3ULL << 30) - (16 << 20)) >> 16);
	CHECK_EQ_U64(cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16,
		     (2ULL << 30) >> 16);
	rtc_destroy(r);
	teardown();
}

int main(void)
{
	test_time_formats();
	test_set_bit();
	test_uip();
	test_status_c_polled();
	test_interrupts();
	test_cmos_ram();
	return check_summary("test_rtc");
}
