// SPDX-License-Identifier: MIT
/* 16550A UART: Linux's 8250 probe and startup tests, interrupts, FIFOs,
 * overrun, divisor latch, output to a pipe (including a full, nonblocking
 * one) and input flow control. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "vmm/dev/serial.h"
#include "vmm/platform.h"

#define B PORT_COM1
#define RBR (B + 0)
#define THR (B + 0)
#define DLL (B + 0)
#define IER (B + 1)
#define DLM (B + 1)
#define IIR (B + 2)
#define FCR (B + 2)
#define LCR (B + 3)
#define MCR (B + 4)
#define LSR (B + 5)
#define MSR (B + 6)
#define SCR (B + 7)

static struct vm vm;
static atomic_int irq_level[32];
static atomic_int irq_edges[32];

static void observer(struct vm *v, unsigned gsi, int level)
{
	(void)v;
	if (gsi >= 32)
		return;
	if (level && !atomic_load(&irq_level[gsi]))
		atomic_fetch_add(&irq_edges[gsi], 1);
	atomic_store(&irq_level[gsi], level);
}

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

static void setup_vm(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = -1;
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	vm.irq_observer = observer;
	for (int i = 0; i < 32; i++) {
		atomic_store(&irq_level[i], 0);
		atomic_store(&irq_edges[i], 0);
	}
}

static void teardown_vm(void)
{
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
}

/* drivers/tty/serial/8250/8250_port.c autoconfig(), in order. */
static void test_linux_probe(void)
{
	struct serial *s;
	uint8_t scratch, status1, status2;

	setup_vm();
	s = serial_create(&vm, B, IRQ_COM1, -1);
	CHECK(s != NULL);

	/* IER: only bits 0-3 exist. */
	scratch = inb(IER);
	outb(IER, 0);
	CHECK_EQ_U64(inb(IER) & 0x0F, 0);
	outb(IER, 0x0F);
	CHECK_EQ_U64(inb(IER) & 0x0F, 0x0F);
	outb(IER, 0xFF);
	CHECK_EQ_U64(inb(IER), 0x0F);   /* XScale UUE bit 6 must not stick */
	outb(IER, scratch);

	/* Scratch register. */
	outb(SCR, 0xA5);
	CHECK_EQ_U64(inb(SCR), 0xA5);
	outb(SCR, 0x5A);
	CHECK_EQ_U64(inb(SCR), 0x5A);

	/* Loopback MSR test: MCR LOOP|OUT2|RTS must read DCD|CTS. */
	CHECK_EQ_U64(inb(MSR) & 0xF0, 0xB0);   /* not looped: DCD DSR CTS */
	outb(MCR, 0x10 | 0x0A);
	CHECK_EQ_U64(inb(MSR) & 0xF0, 0x90);
	outb(MCR, 0x10 | 0x05);                 /* DTR, OUT1 -> DSR, RI */
	CHECK_EQ_U64(inb(MSR) & 0xF0, 0x60);
	outb(MCR, 0);
	CHECK_EQ_U64(inb(MSR) & 0xF0, 0xB0);

	/* FIFO detection. */
	outb(LCR, 0xBF);
	outb(FCR, 0);              /* EFR on 16650s, FCR here */
	outb(LCR, 0);
	outb(FCR, 0x01);
	CHECK_EQ_U64(inb(IIR) >> 6, 3);
	/* EFR probe with DLAB: must not read 0 (that is an ST16C650). */
	outb(LCR, 0x80);
	CHECK(inb(IIR) != 0);
	outb(LCR, 0);
	/* NS16550A test: IIR bit 4 must not follow MCR LOOP. */
	status1 = inb(MCR);
	outb(LCR, 0xE0);
	status2 = inb(IIR);
	CHECK_EQ_U64((status1 ^ status2) & 0x10, 0);
	outb(LCR, 0);
	outb(MCR, status1 ^ 0x10);
	outb(LCR, 0xE0);
	status2 = inb(IIR);
	outb(LCR, 0);
	outb(MCR, status1);
	CHECK_EQ_U64((status2 ^ status1) & 0x10, 0);
	/* 16750 test: IIR bit 5 (64-byte FIFO) must stay 0. */
	outb(FCR, 0x01 | 0x20);
	CHECK_EQ_U64(inb(IIR) & 0xE0, 0xC0);
	outb(FCR, 0x01);
	/* FIFOs off again: IIR bits 6-7 clear. */
	outb(FCR, 0);
	CHECK_EQ_U64(inb(IIR) & 0xC0, 0);
	CHECK(inb(LSR) != 0xFF);       /* "LSR safety check" */
	serial_destroy(s);
	teardown_vm();
}

/* serial8250_do_startup: the UART_BUG_TXEN and UART_BUG_THRE tests. */
static void test_thre_semantics(void)
{
	struct serial *s;
	uint8_t iir1, iir, lsr;

	setup_vm();
	s = serial_create(&vm, B, IRQ_COM1, -1);
	outb(LCR, 0x03);
	outb(MCR, 0x0B);                     /* DTR RTS OUT2 */

	outb(IER, 0x02);
	lsr = inb(LSR);
	iir = inb(IIR);
	outb(IER, 0);
	CHECK(lsr & 0x40);                   /* TEMT */
	CHECK_EQ_U64(iir & 0x0F, 0x02);      /* not UART_BUG_TXEN */

	CHECK(inb(LSR) & 0x20);              /* THRE */
	outb(IER, 0x02);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 1);
	iir1 = inb(IIR);
	CHECK_EQ_U64(iir1 & 0x0F, 0x02);
	/* Reading IIR acknowledged THRE: the line drops. */
	CHECK_EQ_U64(inb(IIR) & 0x0F, 0x01);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 0);
	outb(IER, 0);
	outb(IER, 0x02);
	iir = inb(IIR);
	outb(IER, 0);
	/* Linux: (!(iir1 & NO_INT) && (iir & NO_INT)) => UART_BUG_THRE. */
	CHECK(!(!(iir1 & 0x01) && (iir & 0x01)));

	/* THR write: the byte leaves at once, THRE is due again. */
	outb(IER, 0x02);
	inb(IIR);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 0);
	outb(THR, 'x');
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 1);
	CHECK_EQ_U64(inb(LSR) & 0x60, 0x60);
	outb(IER, 0);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 0);
	serial_destroy(s);
	teardown_vm();
}

static atomic_int rx_ready_calls;

static void rx_ready(void *opaque)
{
	(void)opaque;
	atomic_fetch_add(&rx_ready_calls, 1);
}

static void test_receive(void)
{
	struct serial *s;
	uint8_t buf[32];

	setup_vm();
	s = serial_create(&vm, B, IRQ_COM1, -1);
	serial_set_rx_ready(s, rx_ready, NULL);
	outb(IER, 0x01);

	/* OUT2 gates the interrupt line, as on a PC. */
	CHECK_EQ_U64(serial_receive(s, (const uint8_t *)"a", 1), 1);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 0);
	CHECK_EQ_U64(inb(IIR) & 0x0F, 0x04);
	outb(MCR, 0x08);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 1);
	CHECK(inb(LSR) & 0x01);
	CHECK_EQ_U64(inb(RBR), 'a');
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 0);
	CHECK_EQ_U64(inb(LSR) & 0x01, 0);
	CHECK_EQ_U64(inb(IIR) & 0x0F, 0x01);

	/* Without FIFOs the holding register takes one byte. */
	CHECK_EQ_U64(serial_receive(s, (const uint8_t *)"bc", 2), 1);
	CHECK_EQ_U64(atomic_load(&rx_ready_calls), 0);
	CHECK_EQ_U64(inb(RBR), 'b');
	CHECK_EQ_U64(atomic_load(&rx_ready_calls), 1);

	/* FIFO, trigger level 8: below it the character timeout reports. */
	outb(FCR, 0x81);
	CHECK_EQ_U64(serial_receive(s, (const uint8_t *)"12345", 5), 5);
	CHECK_EQ_U64(inb(IIR), 0xCC);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 1);
	CHECK_EQ_U64(serial_receive(s, (const uint8_t *)"678", 3), 3);
	CHECK_EQ_U64(inb(IIR), 0xC4);
	memset(buf, 'z', sizeof(buf));
	CHECK_EQ_U64(serial_receive(s, buf, 10), 8);   /* 16 bytes in all */
	CHECK_EQ_U64(serial_receive(s, buf, 1), 0);
	for (int i = 0; i < 16; i++)
		buf[i] = inb(RBR);
	CHECK(memcmp(buf, "12345678zzzzzzzz", 16) == 0);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 0);
	CHECK_EQ_U64(atomic_load(&rx_ready_calls), 2);

	/* FCR RX reset empties the FIFO. */
	CHECK_EQ_U64(serial_receive(s, (const uint8_t *)"xy", 2), 2);
	outb(FCR, 0x83);
	CHECK_EQ_U64(inb(LSR) & 0x01, 0);
	CHECK_EQ_U64(atomic_load(&irq_level[IRQ_COM1]), 0);

	/* Loopback cuts the receiver off the line: input waits. */
	outb(MCR, 0x18);
	CHECK_EQ_U64(serial_receive(s, (const uint8_t *)"q", 1), 0);
	outb(MCR, 0x08);
	CHECK_EQ_U64(atomic_load(&rx_ready_calls), 3);
	CHECK_EQ_U64(serial_receive(s, (const uint8_t *)"q", 1), 1);
	serial_destroy(s);
	teardown_vm();
}

static void test_overrun_and_loopback(void)
{
	struct serial *s;

	setup_vm();
	s = serial_create(&vm, B, IRQ_COM1, -1);
	outb(MCR, 0x10);
	outb(FCR, 0x01);
	for (int i = 0; i < 16; i++)
		outb(THR, (uint8_t)('A' + i));
	CHECK_EQ_U64(inb(LSR) & 0x03, 0x01);           /* DR, no OE yet */
	outb(THR, '!');
	outb(IER, 0x05);
	CHECK_EQ_U64(inb(IIR), 0xC6);                  /* line status first */
	CHECK_EQ_U64(inb(LSR) & 0x03, 0x03);           /* DR + OE */
	CHECK_EQ_U64(inb(LSR) & 0x02, 0);              /* OE cleared by read */
	CHECK_EQ_U64(inb(IIR), 0xC4);                  /* then RX data */
	CHECK_EQ_U64(inb(RBR), 'A');
	for (int i = 1; i < 16; i++)
		CHECK_EQ_U64(inb(RBR), 'A' + i);
	CHECK_EQ_U64(inb(LSR) & 0x01, 0);

	/* Without FIFOs the second byte already overruns. */
	outb(FCR, 0);
	outb(THR, 1);
	outb(THR, 2);
	CHECK_EQ_U64(inb(LSR) & 0x03, 0x03);
	CHECK_EQ_U64(inb(RBR), 1);

	/* Modem status interrupt: deltas from loopback MCR changes. */
	outb(IER, 0x08);
	inb(MSR);
	outb(MCR, 0x12);                               /* RTS -> CTS */
	CHECK_EQ_U64(inb(IIR) & 0x0F, 0x00);
	CHECK_EQ_U64(inb(MSR), 0x11);                  /* CTS + DCTS */
	CHECK_EQ_U64(inb(IIR) & 0x0F, 0x01);
	serial_destroy(s);
	teardown_vm();
}

static void test_divisor_latch(void)
{
	struct serial *s;

	setup_vm();
	s = serial_create(&vm, B, IRQ_COM1, -1);
	outb(IER, 0x05);
	outb(LCR, 0x83);
	outb(DLL, 0x0C);
	outb(DLM, 0x01);
	CHECK_EQ_U64(inb(DLL), 0x0C);
	CHECK_EQ_U64(inb(DLM), 0x01);
	outb(LCR, 0x03);
	CHECK_EQ_U64(inb(LCR), 0x03);
	CHECK_EQ_U64(inb(IER), 0x05);                  /* IER untouched */
	outb(LCR, 0x83);
	CHECK_EQ_U64(inb(DLL), 0x0C);
	outb(LCR, 0x03);
	serial_destroy(s);
	teardown_vm();
}

static size_t read_all(int fd, uint8_t *buf, size_t want, int timeout_ms)
{
	size_t got = 0;

	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		ssize_t n = read(fd, buf + got, want - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void test_output_pipe(void)
{
	struct serial *s;
	int p[2];
	uint8_t buf[64];

	setup_vm();
	CHECK(pipe(p) == 0);
	s = serial_create(&vm, B, IRQ_COM1, p[1]);
	for (const char *c = "hello, world\n"; *c; c++)
		outb(THR, (uint8_t)*c);
	CHECK_EQ_U64(read_all(p[0], buf, 13, 2000), 13);
	CHECK(memcmp(buf, "hello, world\n", 13) == 0);
	/* Loopback bytes never reach the line. */
	outb(MCR, 0x10);
	outb(THR, 'L');
	outb(MCR, 0);
	outb(THR, '.');
	CHECK_EQ_U64(read_all(p[0], buf, 1, 2000), 1);
	CHECK_EQ_U64(buf[0], '.');
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
	teardown_vm();
}

struct slow_reader {
	int fd;
	uint8_t *buf;
	size_t want, got;
};

static void *slow_reader_main(void *arg)
{
	struct slow_reader *r = arg;

	while (r->got < r->want) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t n = read(r->fd, r->buf + r->got,
				 r->want - r->got < 4096 ? r->want - r->got : 4096);

		if (n <= 0)
			break;
		r->got += (size_t)n;
		usleep(200);   /* slower than the guest */
	}
	return NULL;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* A printk flood into a slow, nonblocking pipe: a guest that honours THRE
 * (as the 8250 console does) loses nothing, and waiting costs no CPU. */
static void test_flood_nonblocking(void)
{
	enum { TOTAL = 400000 };
	struct serial *s;
	struct slow_reader r = { 0 };
	pthread_t th;
	int p[2];
	uint8_t *out = malloc(TOTAL);
	size_t sent = 0;
	double cpu0;

	setup_vm();
	CHECK(pipe(p) == 0);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	s = serial_create(&vm, B, IRQ_COM1, p[1]);

	/* Fill pipe and buffer with nobody reading; then the UART must
	 * report "busy" and the writer must sleep, not spin. */
	while (sent < TOTAL && (inb(LSR) & 0x20)) {
		outb(THR, (uint8_t)(sent * 7 + sent / 251));
		sent++;
	}
	CHECK(sent < TOTAL);          /* THRE went away: flow control */
	CHECK(sent >= 64 * 1024 - 16); /* at least our buffer was used */
	usleep(100000);
	cpu0 = cpu_seconds();
	usleep(400000);
	CHECK(cpu_seconds() - cpu0 < 0.1);

	r.fd = p[0];
	r.buf = out;
	r.want = TOTAL;
	pthread_create(&th, NULL, slow_reader_main, &r);
	while (sent < TOTAL) {
		int spins = 0;

		while (!(inb(LSR) & 0x20) && spins++ < 10000000)
			;
		outb(THR, (uint8_t)(sent * 7 + sent / 251));
		sent++;
	}
	pthread_join(th, NULL);
	CHECK_EQ_U64(r.got, TOTAL);
	size_t bad = 0;

	for (size_t i = 0; i < r.got; i++)
		if (out[i] != (uint8_t)(i * 7 + i / 251))
			bad++;
	CHECK_EQ_U64(bad, 0);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
	free(out);
	teardown_vm();
}

/* A reader that never reads: destroy gives up after a bounded wait. */
static void test_destroy_stuck(void)
{
	struct serial *s;
	int p[2];
	struct timespec t0, t1;

	setup_vm();
	CHECK(pipe(p) == 0);
	s = serial_create(&vm, B, IRQ_COM1, p[1]);   /* blocking fd */
	while (inb(LSR) & 0x20)
		outb(THR, 'x');
	clock_gettime(CLOCK_MONOTONIC, &t0);
	serial_destroy(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 5);
	close(p[0]);
	close(p[1]);
	teardown_vm();
}

static void test_hostile(void)
{
	struct serial *s;
	uint8_t wide[4] = { 0xFF, 0xFF, 0xFF, 0xFF };

	setup_vm();
	s = serial_create(&vm, B, IRQ_COM1, -1);
	/* Every register, every value: no crash, registers stay sane. */
	for (unsigned reg = 0; reg < 8; reg++)
		for (unsigned v = 0; v < 256; v++) {
			outb((uint16_t)(B + reg), (uint8_t)v);
			inb((uint16_t)(B + reg));
		}
	CHECK(bus_dispatch(&vm.pio, B + 4, wide, 4, false));
	CHECK(!bus_dispatch(&vm.pio, B + 6, wide, 4, false));  /* past the end */
	outb(MCR, 0);
	outb(LCR, 0);
	CHECK(inb(LSR) & 0x20);
	serial_destroy(s);
	teardown_vm();
}

int main(void)
{
	test_linux_probe();
	test_thre_semantics();
	test_receive();
	test_overrun_and_loopback();
	test_divisor_latch();
	test_output_pipe();
	test_flood_nonblocking();
	test_destroy_stuck();
	test_hostile();
	return check_summary("test_serial");
}
