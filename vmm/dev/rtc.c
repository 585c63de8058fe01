// SPDX-License-Identifier: MIT
/*
 * MC146818 RTC. Time is kept as "host UTC seconds + offset" with the host's
 * sub-second phase; all interrupt sources are derived from that one clock in
 * units of the 32.768 kHz time base ("ticks"), so the flags the guest sees in
 * status C are the same whether a timer or a poll of status C found them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../log.h"
#include "../platform.h"
#include "rtc.h"

#define REG_SEC       0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN       0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR      0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY      0x06
#define REG_MDAY      0x07
#define REG_MONTH     0x08
#define REG_YEAR      0x09
#define REG_A         0x0A
#define REG_B         0x0B
#define REG_C         0x0C
#define REG_D         0x0D
#define REG_CENTURY   0x32

#define A_UIP     0x80
#define A_DV_MASK 0x70
#define A_DV_NORMAL 0x20    /* 32.768 kHz time base, running */
#define A_RS_MASK 0x0F

#define B_SET  0x80
#define B_PIE  0x40
#define B_AIE  0x20
#define B_UIE  0x10
#define B_DM_BINARY 0x04
#define B_24H  0x02

#define C_IRQF 0x80
#define C_PF   0x40
#define C_AF   0x20
#define C_UF   0x10

#define D_VRT 0x80

#define TICKS_PER_SEC 32768
#define NS_PER_SEC 1000000000LL
/* UIP rises 244 us before each update. */
#define UIP_WINDOW_NS 244000LL
#define ALARM_DONT_CARE 0xC0

struct rtc {
	struct vm *vm;
	struct event_loop *loop;
	pthread_mutex_t lock;
	uint8_t cmos[128];
	uint8_t index;
	int64_t offset_s;        /* guest seconds - host seconds */
	int64_t events_tick;     /* flags accounted up to this guest tick */
	int irq_level;

	int kick_fd;             /* eventfd: re-plan the timer (loop thread) */
	struct event_timer *timer;
	_Atomic bool timer_armed;
};

/* --- clock ------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

struct guest_now {
	int64_t sec;
	int64_t nsec;
};

static struct guest_now guest_now(const struct rtc *r)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct guest_now){ (int64_t)ts.tv_sec + r->offset_s, ts.tv_nsec };
}

static int64_t to_ticks(struct guest_now t)
{
	return t.sec * TICKS_PER_SEC + t.nsec * TICKS_PER_SEC / NS_PER_SEC;
}

/* The periodic interrupt rate select, in ticks; 0 = off. Rates 1 and 2
 * repeat rates 8 and 9 (the 32.768 kHz divider chain has no faster taps). */
static int64_t period_ticks(const struct rtc *r)
{
	unsigned rs = r->cmos[REG_A] & A_RS_MASK;

	if (rs == 0)
		return 0;
	if (rs < 3)
		rs += 7;
	return 1LL << (rs - 1);
}

/* --- register encoding ----------------------------------------------------- */

static bool binary_mode(const struct rtc *r)
{
	return r->cmos[REG_B] & B_DM_BINARY;
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
	v %= 100;
	return binary_mode(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned dec(const struct rtc *r, uint8_t v)
{
	return binary_mode(r) ? v : (unsigned)(v >> 4) * 10 + (v & 0x0F);
}

static uint8_t enc_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[REG_B] & B_24H)
		return enc(r, h);
	return enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static unsigned dec_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_24H)
		return dec(r, v);
	return dec(r, v & 0x7F) % 12 + ((v & 0x80) ? 12 : 0);
}

static void store_time(struct rtc *r, int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return;
	r->cmos[REG_SEC] = enc(r, (unsigned)tm.tm_sec);
	r->cmos[REG_MIN] = enc(r, (unsigned)tm.tm_min);
	r->cmos[REG_HOUR] = enc_hour(r, (unsigned)tm.tm_hour);
	r->cmos[REG_WDAY] = enc(r, (unsigned)tm.tm_wday + 1);
	r->cmos[REG_MDAY] = enc(r, (unsigned)tm.tm_mday);
	r->cmos[REG_MONTH] = enc(r, (unsigned)tm.tm_mon + 1);
	r->cmos[REG_YEAR] = enc(r, (unsigned)(tm.tm_year + 1900) % 100);
	r->cmos[REG_CENTURY] = enc(r, (unsigned)(tm.tm_year + 1900) / 100);
}

/* The time the registers hold; false if they do not make a date. */
static bool load_time(const struct rtc *r, int64_t *sec)
{
	struct tm tm = {
		.tm_sec = (int)dec(r, r->cmos[REG_SEC]),
		.tm_min = (int)dec(r, r->cmos[REG_MIN]),
		.tm_hour = (int)dec_hour(r, r->cmos[REG_HOUR]),
		.tm_mday = (int)dec(r, r->cmos[REG_MDAY]),
		.tm_mon = (int)dec(r, r->cmos[REG_MONTH]) - 1,
		.tm_year = (int)(dec(r, r->cmos[REG_CENTURY]) * 100 +
				 dec(r, r->cmos[REG_YEAR])) - 1900,
	};
	time_t t;

	/* Garbage (0xFF in BCD decodes to 165) is normalised by timegm;
	 * the ranges here only keep the arithmetic sane. */
	if (tm.tm_sec > 59 || tm.tm_min > 59 || tm.tm_hour > 23 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_mon < 0 || tm.tm_mon > 11)
		return false;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*sec = (int64_t)t;
	return true;
}

static bool is_time_reg(unsigned idx)
{
	switch (idx) {
	case REG_SEC: case REG_MIN: case REG_HOUR: case REG_WDAY:
	case REG_MDAY: case REG_MONTH: case REG_YEAR: case REG_CENTURY:
		return true;
	}
	return false;
}

/* --- interrupt flags ------------------------------------------------------- */

static bool alarm_field_matches(const struct rtc *r, uint8_t alarm,
				unsigned value, bool hour)
{
	if ((alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE)
		return true;
	return (hour ? dec_hour(r, alarm) : dec(r, alarm)) == value;
}

static bool alarm_matches(const struct rtc *r, int64_t sec)
{
	int64_t day_sec = floor_mod(sec, 86400);

	return alarm_field_matches(r, r->cmos[REG_SEC_ALARM], (unsigned)(day_sec % 60), false) &&
	       alarm_field_matches(r, r->cmos[REG_MIN_ALARM], (unsigned)(day_sec / 60 % 60), false) &&
	       alarm_field_matches(r, r->cmos[REG_HOUR_ALARM], (unsigned)(day_sec / 3600), true);
}

/* Did an alarm second start in (from, to] (seconds)? */
static bool alarm_between(const struct rtc *r, int64_t from, int64_t to)
{
	if (to - from >= 86400)
		return true;   /* every h:m:s pattern occurs once a day */
	for (int64_t s = from + 1; s <= to; s++)
		if (alarm_matches(r, s))
			return true;
	return false;
}

/* Set the status C flags for everything that happened since the last call. */
static void catch_up(struct rtc *r, struct guest_now now)
{
	int64_t t = to_ticks(now), from = r->events_tick;
	int64_t p = period_ticks(r);

	r->events_tick = t;
	if (t <= from)
		return;   /* the clock was set back: start over from here */
	if (p && floor_div(t, p) != floor_div(from, p))
		r->cmos[REG_C] |= C_PF;
	/* SET inhibits the update cycle, and with it UF and AF. */
	if (r->cmos[REG_B] & B_SET)
		return;
	int64_t s0 = floor_div(from, TICKS_PER_SEC), s1 = floor_div(t, TICKS_PER_SEC);

	if (s1 != s0) {
		r->cmos[REG_C] |= C_UF;
		if (alarm_between(r, s0, s1))
			r->cmos[REG_C] |= C_AF;
	}
}

static void update_irq(struct rtc *r)
{
	int level;

	/* IRQF is the OR of each flag with its enable, as on the chip. */
	if (r->cmos[REG_C] & r->cmos[REG_B] & (C_PF | C_AF | C_UF))
		r->cmos[REG_C] |= C_IRQF;
	else
		r->cmos[REG_C] &= (uint8_t)~C_IRQF;
	level = !!(r->cmos[REG_C] & C_IRQF);
	if (level != r->irq_level) {
		r->irq_level = level;
		vm_irq_line(r->vm, IRQ_RTC, level);
	}
}

static bool sources_enabled(const struct rtc *r)
{
	return r->cmos[REG_B] & (B_PIE | B_AIE | B_UIE);
}

/* Ask the loop thread to re-plan the timer, only if there is one to plan. */
static void kick(struct rtc *r)
{
	uint64_t one = 1;

	if (r->kick_fd < 0 || (!sources_enabled(r) && !atomic_load(&r->timer_armed)))
		return;
	if (write(r->kick_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: a kick is already pending, which is enough. */
	}
}

/* Nanoseconds until the next tick at a multiple of period (> 0). */
static uint64_t ns_until(int64_t tick, int64_t period)
{
	int64_t left = period - floor_mod(tick, period);

	/* Round up, plus one tick so the boundary has surely passed. */
	return (uint64_t)((left + 1) * NS_PER_SEC / TICKS_PER_SEC) + 1;
}

/* Loop thread: raise what is due, then arm the timer for the next event the
 * guest can see: nothing while IRQF is still set (the guest has not read C
 * yet) or nothing is enabled. */
static void replan(struct rtc *r)
{
	uint64_t next = 0;

	pthread_mutex_lock(&r->lock);
	struct guest_now now = guest_now(r);

	catch_up(r, now);
	update_irq(r);
	if (sources_enabled(r) && !(r->cmos[REG_C] & C_IRQF)) {
		int64_t t = to_ticks(now), p = period_ticks(r);

		if ((r->cmos[REG_B] & B_PIE) && p)
			next = ns_until(t, p);
		if ((r->cmos[REG_B] & (B_AIE | B_UIE)) && !(r->cmos[REG_B] & B_SET)) {
			uint64_t sec = ns_until(t, TICKS_PER_SEC);

			if (!next || sec < next)
				next = sec;
		}
	}
	atomic_store(&r->timer_armed, next != 0);
	pthread_mutex_unlock(&r->lock);
	if (next)
		event_timer_arm(r->timer, next, 0);
	else
		event_timer_disarm(r->timer);
}

static void timer_fired(void *opaque)
{
	replan(opaque);
}

static void kicked(void *opaque, uint32_t events)
{
	struct rtc *r = opaque;
	uint64_t v;

	(void)events;
	if (read(r->kick_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending. */
	}
	replan(r);
}

/* --- registers ---------------------------------------------------------------- */

static uint8_t read_a(const struct rtc *r)
{
	uint8_t a = r->cmos[REG_A] & ~A_UIP;

	if (!(r->cmos[REG_B] & B_SET) && (a & A_DV_MASK) == A_DV_NORMAL &&
	    guest_now(r).nsec >= NS_PER_SEC - UIP_WINDOW_NS)
		a |= A_UIP;
	return a;
}

static uint8_t rtc_read(struct rtc *r, unsigned idx)
{
	uint8_t val;

	if (is_time_reg(idx) && !(r->cmos[REG_B] & B_SET))
		store_time(r, guest_now(r).sec);
	switch (idx) {
	case REG_A:
		return read_a(r);
	case REG_C:
		catch_up(r, guest_now(r));
		val = r->cmos[REG_C];
		/* A flag found just now still reports IRQF, without pulsing
		 * the line the read is about to lower. */
		if (val & r->cmos[REG_B] & (C_PF | C_AF | C_UF))
			val |= C_IRQF;
		r->cmos[REG_C] = 0;
		update_irq(r);
		kick(r);
		return val;
	case REG_D:
		return D_VRT;
	}
	return r->cmos[idx];
}

/* A time register written while the clock runs: the clock jumps by the
 * difference, keeping its sub-second phase. */
static void write_running_time(struct rtc *r, unsigned idx, uint8_t val)
{
	int64_t cur = guest_now(r).sec, set;

	store_time(r, cur);
	r->cmos[idx] = val;
	if (load_time(r, &set))
		r->offset_s += set - cur;
	else
		log_ratelimited(LOG_DEBUG, "rtc: guest wrote an invalid time");
}

static void write_b(struct rtc *r, uint8_t val)
{
	uint8_t old = r->cmos[REG_B];
	int64_t set;

	if (val & B_SET)
		val &= (uint8_t)~B_UIE;   /* SET clears UIE (datasheet) */
	if ((val & B_SET) && !(old & B_SET)) {
		/* Freeze: the registers now hold the time the guest edits. */
		store_time(r, guest_now(r).sec);
	} else if (!(val & B_SET) && (old & B_SET)) {
		r->cmos[REG_B] = val;   /* decode in the mode being entered */
		if (load_time(r, &set))
			r->offset_s = set - (guest_now(r).sec - r->offset_s);
		else
			log_ratelimited(LOG_DEBUG, "rtc: guest set an invalid time");
	}
	r->cmos[REG_B] = val;
}

static void rtc_write(struct rtc *r, unsigned idx, uint8_t val)
{
	switch (idx) {
	case REG_A:
		r->cmos[REG_A] = val & (uint8_t)~A_UIP;
		break;
	case REG_B:
		write_b(r, val);
		break;
	case REG_C:
	case REG_D:
		break;   /* read-only */
	default:
		if (is_time_reg(idx) && !(r->cmos[REG_B] & B_SET))
			write_running_time(r, idx, val);
		else
			r->cmos[idx] = val;
	}
	/* Flags up to now were earned under the old settings. */
	update_irq(r);
	kick(r);
}

static void rtc_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t port = offset + i;

		if (port == 0) {
			/* Index register; bit 7 is the NMI mask, which has no
			 * effect here. Write-only: reads float. */
			if (is_write)
				r->index = data[i] & 0x7F;
			else
				data[i] = 0xFF;
		} else if (port == 1) {
			if (is_write)
				rtc_write(r, r->index, data[i]);
			else
				data[i] = rtc_read(r, r->index);
		} else if (!is_write) {
			data[i] = 0xFF;
		}
	}
	pthread_mutex_unlock(&r->lock);
}

/* --- CMOS RAM contents ------------------------------------------------------- */

static void put16(uint8_t *cmos, unsigned idx, uint64_t v)
{
	if (v > 0xFFFF)
		v = 0xFFFF;
	cmos[idx] = (uint8_t)v;
	cmos[idx + 1] = (uint8_t)(v >> 8);
}

/* What a PC BIOS leaves in CMOS about memory (values as SeaBIOS/QEMU and
 * old bootloaders read them). */
static void fill_memory_size(struct rtc *r)
{
	uint64_t low = mem_low_end(&r->vm->mem), high = mem_high_size(&r->vm->mem);
	uint64_t ext_kb = low > MEM_HIGH_START ? (low - MEM_HIGH_START) >> 10 : 0;
	uint64_t above16 = low > (16ULL << 20) ? (low - (16ULL << 20)) >> 16 : 0;
	uint64_t above4g = high >> 16;
	unsigned sum = 0;

	put16(r->cmos, 0x15, 640);            /* base memory, KiB */
	put16(r->cmos, 0x17, ext_kb);         /* 1 MiB..: KiB, max 64 MiB */
	put16(r->cmos, 0x30, ext_kb);
	put16(r->cmos, 0x34, above16);        /* 16 MiB..4 GiB: 64 KiB units */
	if (above4g > 0xFFFFFF)
		above4g = 0xFFFFFF;
	r->cmos[0x5b] = (uint8_t)above4g;     /* above 4 GiB: 64 KiB units */
	r->cmos[0x5c] = (uint8_t)(above4g >> 8);
	r->cmos[0x5d] = (uint8_t)(above4g >> 16);
	r->cmos[0x14] = 0x02;                 /* equipment: FPU, VGA */
	for (unsigned i = 0x10; i <= 0x2D; i++)
		sum += r->cmos[i];
	r->cmos[0x2E] = (uint8_t)(sum >> 8);  /* standard checksum */
	r->cmos[0x2F] = (uint8_t)sum;
}

/* --- lifetime ------------------------------------------------------------------ */

struct rtc *rtc_create(struct vm *vm, struct event_loop *loop)
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->vm = vm;
	r->loop = loop;
	r->kick_fd = -1;
	pthread_mutex_init(&r->lock, NULL);
	r->cmos[REG_A] = A_DV_NORMAL | 0x06;      /* 32.768 kHz, 1024 Hz rate */
	r->cmos[REG_B] = B_24H;                   /* BCD, 24 hour */
	fill_memory_size(r);
	r->events_tick = to_ticks(guest_now(r));
	if (loop) {
		r->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		r->timer = event_timer_create(loop, timer_fired, r);
		if (r->kick_fd < 0 || !r->timer ||
		    event_add_fd(loop, r->kick_fd, EPOLLIN, kicked, r) < 0) {
			log_err("rtc: cannot set up its timer: %s", strerror(errno));
			goto fail;
		}
	}
	if (bus_register(&vm->pio, PORT_CMOS, 2, rtc_io, r, "rtc") < 0) {
		log_err("rtc: ports 0x%x-0x%x are taken", PORT_CMOS, PORT_CMOS + 1);
		goto fail;
	}
	return r;
fail:
	rtc_destroy(r);
	return NULL;
}

void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	bus_unregister(&r->vm->pio, PORT_CMOS, r);
	if (r->timer)
		event_timer_destroy(r->timer);
	if (r->kick_fd >= 0) {
		event_del_fd(r->loop, r->kick_fd);
		close(r->kick_fd);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}
