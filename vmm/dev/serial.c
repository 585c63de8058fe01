// SPDX-License-Identifier: MIT
/*
 * 16550A UART. Register semantics follow the National/TI datasheet; the
 * details that matter most are the ones Linux's 8250 driver tests:
 *  - autoconfig: IER bits 4-7 read 0, the loopback MSR test (MCR 0x1A must
 *    read MSR 0x90), IIR bits 6-7 == 11 once FCR enables the FIFOs, IIR bits
 *    4-5 always 0 (so it is not taken for an NS16550A/16750/XScale);
 *  - serial8250_do_startup's THRE test: setting IER.THRI while the
 *    transmitter is empty raises THRE at once, reading IIR clears it, and
 *    clearing then setting THRI again must raise it again, otherwise the
 *    port gets UART_BUG_THRE (and a polling timer);
 *  - with an RX trigger level above 1 bytes below the level are delivered
 *    by the character-timeout interrupt (IIR 0x0C).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../log.h"
#include "serial.h"

/* Register offsets. */
#define REG_RBR_THR 0
#define REG_IER     1
#define REG_IIR_FCR 2
#define REG_LCR     3
#define REG_MCR     4
#define REG_LSR     5
#define REG_MSR     6
#define REG_SCR     7

#define IER_RDI  0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI  0x08

#define IIR_NO_INT  0x01
#define IIR_MSI     0x00
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_RLSI    0x06
#define IIR_TIMEOUT 0x0C
#define IIR_FIFO_ON 0xC0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_PE     0x04
#define LSR_FE     0x08
#define LSR_BI     0x10
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80

#define FIFO_SIZE 16
#define OUT_SIZE  (64 * 1024)
/* How long serial_destroy waits for the writer to flush. */
#define DESTROY_FLUSH_NS (2ull * 1000000000ull)

struct serial {
	struct vm *vm;
	uint16_t base;
	unsigned irq;
	pthread_mutex_t lock;

	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t lsr_err;        /* sticky OE/PE/FE/BI, cleared by LSR reads */
	uint8_t msr;            /* modem inputs (7-4) and deltas (3-0) */
	bool fifo_on;
	unsigned rx_trigger;    /* bytes, from FCR bits 6-7 */
	uint8_t rx[FIFO_SIZE];
	unsigned rx_head, rx_count;
	bool thr_ipending;      /* THRE interrupt pending */
	bool thre_waiting;      /* THRE clear: raise it when the writer drains */
	int irq_level;

	bool rx_blocked;        /* serial_receive refused bytes since */
	void (*rx_ready)(void *opaque);
	void *rx_opaque;

	/* Output ring, drained by the writer thread. */
	int out_fd;
	bool out_dead;          /* fatal write error: discard from now on */
	uint8_t *out;
	size_t out_head, out_len;
	pthread_t writer;
	bool writer_started;
	bool stopping;
	pthread_cond_t out_cond;
};

static const unsigned rx_triggers[4] = { 1, 4, 8, 14 };

static bool tx_has_room(const struct serial *s)
{
	if (s->out_fd < 0 || s->out_dead)
		return true;
	return OUT_SIZE - s->out_len >= FIFO_SIZE;
}

static bool thr_empty(const struct serial *s)
{
	return (s->mcr & MCR_LOOP) || tx_has_room(s);
}

static unsigned rx_capacity(const struct serial *s)
{
	return s->fifo_on ? FIFO_SIZE : 1;
}

/* The highest-priority pending interrupt, in IIR encoding. */
static uint8_t pending_iir(const struct serial *s)
{
	if ((s->ier & IER_RLSI) && (s->lsr_err & LSR_ERRORS))
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count) {
		if (!s->fifo_on || s->rx_count >= s->rx_trigger)
			return IIR_RDI;
		/* Bytes below the trigger level: the character timeout. The
		 * host offers input in bursts, so when a burst leaves bytes
		 * below the level no more are coming "for 4 character times"
		 * and the timeout is due at once. */
		return IIR_TIMEOUT;
	}
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & 0x0F))
		return IIR_MSI;
	return IIR_NO_INT;
}

/* Drive the line: OUT2 gates the IRQ on PCs, and in loopback mode OUT2 is
 * looped back internally instead of reaching the pin. */
static void update_irq(struct serial *s)
{
	int level = pending_iir(s) != IIR_NO_INT &&
		    (s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;

	if (level != s->irq_level) {
		s->irq_level = level;
		vm_irq_line(s->vm, s->irq, level);
	}
}

static uint8_t read_lsr(const struct serial *s)
{
	uint8_t lsr = s->lsr_err;

	if (s->rx_count)
		lsr |= LSR_DR;
	if (thr_empty(s))
		lsr |= LSR_THRE | LSR_TEMT;
	return lsr;
}

/* The modem inputs: the real (absent) line is always ready; in loopback the
 * outputs are wired back (RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD). */
static uint8_t modem_inputs(uint8_t mcr)
{
	uint8_t in = 0;

	if (!(mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (mcr & MCR_RTS)
		in |= MSR_CTS;
	if (mcr & MCR_DTR)
		in |= MSR_DSR;
	if (mcr & MCR_OUT1)
		in |= MSR_RI;
	if (mcr & MCR_OUT2)
		in |= MSR_DCD;
	return in;
}

static void set_modem_inputs(struct serial *s, uint8_t in)
{
	uint8_t old = s->msr & 0xF0, changed = old ^ in;
	uint8_t delta = s->msr & 0x0F;

	if (changed & MSR_CTS)
		delta |= MSR_DCTS;
	if (changed & MSR_DSR)
		delta |= MSR_DDSR;
	if (changed & MSR_DCD)
		delta |= MSR_DDCD;
	if ((old & MSR_RI) && !(in & MSR_RI))
		delta |= MSR_TERI;
	s->msr = in | delta;
}

/* Bytes into the RX FIFO; the rest is an overrun (loopback only: host
 * input is flow controlled by serial_receive). */
static size_t rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
	unsigned cap = rx_capacity(s);
	size_t n = 0;

	while (n < len && s->rx_count < cap) {
		s->rx[(s->rx_head + s->rx_count) % FIFO_SIZE] = buf[n++];
		s->rx_count++;
	}
	return n;
}

static void rx_clear(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/* True when the caller must be told that input fits again. */
static bool rx_room_made(struct serial *s)
{
	if (!s->rx_blocked || (s->mcr & MCR_LOOP) ||
	    s->rx_count >= rx_capacity(s))
		return false;
	s->rx_blocked = false;
	return s->rx_ready != NULL;
}

static void tx_byte(struct serial *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP) {
		if (rx_push(s, &byte, 1) == 0)
			s->lsr_err |= LSR_OE;
	} else if (s->out_fd >= 0 && !s->out_dead) {
		if (s->out_len < OUT_SIZE) {
			s->out[(s->out_head + s->out_len) % OUT_SIZE] = byte;
			s->out_len++;
			pthread_cond_signal(&s->out_cond);
		} else {
			/* The guest ignored THRE: a real UART overwrites too. */
			log_ratelimited(LOG_WARN, "serial: guest overran the transmitter, byte dropped");
		}
	}
	/* Writing THR clears the THRE interrupt; the byte leaves at once, so
	 * it is due again unless the host buffer is full. */
	s->thr_ipending = thr_empty(s);
	s->thre_waiting = !s->thr_ipending;
}

static void write_fcr(struct serial *s, uint8_t val)
{
	bool on = val & FCR_ENABLE;

	if (on != s->fifo_on) {
		/* Switching FIFO mode resets both FIFOs. */
		rx_clear(s);
		s->fifo_on = on;
	}
	if (!on)
		return;
	if (val & FCR_CLEAR_RX)
		rx_clear(s);
	if ((val & FCR_CLEAR_TX) && thr_empty(s))
		s->thr_ipending = true;
	s->rx_trigger = rx_triggers[val >> 6];
}

static void write_mcr(struct serial *s, uint8_t val)
{
	s->mcr = val & 0x1F;
	set_modem_inputs(s, modem_inputs(s->mcr));
}

static void write_ier(struct serial *s, uint8_t val)
{
	uint8_t changed = (uint8_t)((val & 0x0F) ^ s->ier);

	s->ier = val & 0x0F;
	/* A real 16550 re-raises THRE whenever THRI is enabled with the
	 * transmitter empty (Linux's UART_BUG_THRE test relies on it). */
	if (changed & IER_THRI)
		s->thr_ipending = (s->ier & IER_THRI) && thr_empty(s);
}

static void reg_write(struct serial *s, unsigned reg, uint8_t val)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			s->dll = val;
		else
			tx_byte(s, val);
		break;
	case REG_IER:
		if (dlab)
			s->dlm = val;
		else
			write_ier(s, val);
		break;
	case REG_IIR_FCR:
		write_fcr(s, val);
		break;
	case REG_LCR:
		s->lcr = val;
		break;
	case REG_MCR:
		write_mcr(s, val);
		break;
	case REG_LSR:
	case REG_MSR:
		/* Factory test registers on some parts; ignored here. */
		break;
	case REG_SCR:
		s->scr = val;
		break;
	}
}

static uint8_t read_rbr(struct serial *s)
{
	uint8_t val = 0;

	if (s->rx_count) {
		val = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % FIFO_SIZE;
		s->rx_count--;
	}
	return val;
}

static uint8_t read_iir(struct serial *s)
{
	uint8_t iir = pending_iir(s);

	/* Reading IIR acknowledges a THRE interrupt (and only that one). */
	if (iir == IIR_THRI)
		s->thr_ipending = false;
	return iir | (s->fifo_on ? IIR_FIFO_ON : 0);
}

static uint8_t reg_read(struct serial *s, unsigned reg)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t val = 0;

	switch (reg) {
	case REG_RBR_THR:
		return dlab ? s->dll : read_rbr(s);
	case REG_IER:
		return dlab ? s->dlm : s->ier;
	case REG_IIR_FCR:
		return read_iir(s);
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		val = read_lsr(s);
		s->lsr_err = 0;
		return val;
	case REG_MSR:
		val = s->msr;
		s->msr &= 0xF0;
		return val;
	case REG_SCR:
		return s->scr;
	}
	return 0xFF;
}

static void serial_io(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len, bool is_write)
{
	struct serial *s = opaque;
	void (*cb)(void *) = NULL;
	void *cb_opaque = NULL;

	pthread_mutex_lock(&s->lock);
	/* A wider access is a run of byte accesses, as on the ISA bus. */
	for (uint32_t i = 0; i < len; i++) {
		unsigned reg = (unsigned)(offset + i);

		if (reg > REG_SCR) {
			if (!is_write)
				data[i] = 0xFF;
			continue;
		}
		if (is_write)
			reg_write(s, reg, data[i]);
		else
			data[i] = reg_read(s, reg);
	}
	update_irq(s);
	if (rx_room_made(s)) {
		cb = s->rx_ready;
		cb_opaque = s->rx_opaque;
	}
	pthread_mutex_unlock(&s->lock);
	if (cb)
		cb(cb_opaque);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	/* In loopback the receiver is cut off from the line: hold input. */
	if (!(s->mcr & MCR_LOOP))
		n = rx_push(s, buf, len);
	if (n < len)
		s->rx_blocked = true;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_set_rx_ready(struct serial *s, void (*cb)(void *opaque),
			 void *opaque)
{
	pthread_mutex_lock(&s->lock);
	s->rx_ready = cb;
	s->rx_opaque = opaque;
	pthread_mutex_unlock(&s->lock);
}

/* --- output writer thread ------------------------------------------------ */

/*
 * Write up to len bytes; returns how many were written, or -1 on a fatal
 * error. EAGAIN (a nonblocking fd, e.g. a tty shared with O_NONBLOCK stdin)
 * waits for POLLOUT instead of spinning.
 */
static ssize_t write_some(int fd, const uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t n = write(fd, buf, len);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int old;

		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
		poll(&p, 1, 100);
		pthread_setcancelstate(old, NULL);
		return 0;
	}
}

/* Account for bytes that left the ring; THRE may come back. */
static void out_consumed(struct serial *s, size_t n)
{
	s->out_head = (s->out_head + n) % OUT_SIZE;
	s->out_len -= n;
	if (s->thre_waiting && tx_has_room(s)) {
		s->thre_waiting = false;
		s->thr_ipending = true;
		update_irq(s);
	}
}

static void *writer_main(void *arg)
{
	struct serial *s = arg;
	sigset_t all;

	/* SIGPIPE must become EPIPE here, and no process signal should land
	 * on this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->out_len && !s->stopping)
			pthread_cond_wait(&s->out_cond, &s->lock);
		if (!s->out_len)
			break;
		/* Producers only append behind out_head + out_len, so this
		 * span stays untouched while the lock is dropped. */
		size_t span = s->out_len;
		const uint8_t *p = s->out + s->out_head;

		if (span > OUT_SIZE - s->out_head)
			span = OUT_SIZE - s->out_head;
		pthread_mutex_unlock(&s->lock);
		int old;

		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
		ssize_t n = write_some(s->out_fd, p, span);
		pthread_setcancelstate(old, NULL);
		pthread_mutex_lock(&s->lock);
		if (n < 0) {
			log_err("serial: output write failed: %s; discarding output",
				strerror(errno));
			s->out_dead = true;
			out_consumed(s, s->out_len);
			continue;
		}
		out_consumed(s, (size_t)n);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* --- lifetime ------------------------------------------------------------- */

struct serial *serial_create(struct vm *vm, uint16_t base, unsigned irq,
			     int out_fd)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->vm = vm;
	s->base = base;
	s->irq = irq;
	s->out_fd = out_fd;
	s->rx_trigger = 1;
	s->lcr = 0x03;          /* 8N1, as firmware leaves it */
	s->dll = 0x01;          /* 115200 baud */
	s->msr = modem_inputs(0);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->out_cond, NULL);
	if (out_fd >= 0) {
		s->out = malloc(OUT_SIZE);
		if (!s->out)
			goto fail;
		if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
			goto fail;
		pthread_setname_np(s->writer, "serial-out");
		s->writer_started = true;
	}
	if (bus_register(&vm->pio, base, 8, serial_io, s, "serial") < 0) {
		log_err("serial: ports 0x%x-0x%x are taken", base, base + 7);
		goto fail;
	}
	return s;
fail:
	serial_destroy(s);
	return NULL;
}

static void stop_writer(struct serial *s)
{
	struct timespec deadline;

	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_signal(&s->out_cond);
	pthread_mutex_unlock(&s->lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(DESTROY_FLUSH_NS / 1000000000ull);
	if (pthread_timedjoin_np(s->writer, NULL, &deadline) == 0)
		return;
	/* The fd is stuck (a stopped terminal): give up on the rest. The
	 * writer only accepts cancellation inside write()/poll(). */
	log_warn("serial: output stalled, dropping buffered bytes");
	pthread_cancel(s->writer);
	pthread_join(s->writer, NULL);
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	bus_unregister(&s->vm->pio, s->base, s);
	if (s->writer_started)
		stop_writer(s);
	pthread_cond_destroy(&s->out_cond);
	pthread_mutex_destroy(&s->lock);
	free(s->out);
	free(s);
}
