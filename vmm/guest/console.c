// SPDX-License-Identifier: MIT
/*
 * Output and input of the built-in guest: the 16550A UART at COM1 (polled
 * transmit, receive by interrupt or poll) and the QEMU-style debug port.
 */
#include "guest.h"

#define COM1      0x3F8
#define UART_RBR  0   /* receive buffer (read) / transmit holding (write) */
#define UART_DLL  0   /* divisor latch, LCR.DLAB = 1 */
#define UART_IER  1
#define UART_DLM  1
#define UART_IIR  2   /* read */
#define UART_FCR  2   /* write */
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5

#define UART_LCR_8N1   0x03
#define UART_LCR_DLAB  0x80
#define UART_FCR_ENABLE_CLEAR 0x07    /* FIFO on, clear both, RX trigger 1 */
#define UART_IIR_FIFO_MASK    0xC0
#define UART_MCR_DTR_RTS_OUT2 0x0B    /* OUT2 gates the IRQ line on PCs */
#define UART_LSR_DR    0x01
#define UART_LSR_THRE  0x20
#define UART_IER_RDI   0x01
#define UART_FIFO_SIZE 16

static struct {
	bool present;
	unsigned tx_burst;   /* bytes we may write after seeing THRE */
} uart;

/*
 * The sequence Linux's 8250 driver uses: 115200 baud (divisor 1), 8N1,
 * FIFOs enabled and cleared, DTR|RTS|OUT2, interrupts off for now.
 */
void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, UART_LCR_DLAB);
	outb(COM1 + UART_DLL, 1);
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, UART_LCR_8N1);
	outb(COM1 + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, UART_MCR_DTR_RTS_OUT2);
	/* Nothing there reads as all ones. */
	uart.present = inb(COM1 + UART_LSR) != 0xFF;
	/* Only a 16550A (FIFO bits set in IIR) takes 16 bytes per THRE. */
	uart.tx_burst = (inb(COM1 + UART_IIR) & UART_IIR_FIFO_MASK) ==
			UART_IIR_FIFO_MASK ? UART_FIFO_SIZE : 1;
}

bool serial_present(void)
{
	return uart.present;
}

void serial_write_raw(const char *s, size_t n)
{
	if (!uart.present)
		return;
	while (n) {
		size_t burst = n < uart.tx_burst ? n : uart.tx_burst;

		while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
			;
		outsb(COM1 + UART_RBR, s, burst);
		s += burst;
		n -= burst;
	}
}

int serial_getc(void)
{
	if (!uart.present || !(inb(COM1 + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(COM1 + UART_RBR);
}

void serial_enable_rx_irq(void)
{
	outb(COM1 + UART_IER, UART_IER_RDI);
}

void debug_write(const char *s, size_t n)
{
	outsb(PORT_DEBUGCON, s, n);
}

/* Serial text: every "\n" goes out as "\r\n". */
static void serial_write_text(const char *s, size_t n)
{
	while (n) {
		size_t run = 0;

		while (run < n && s[run] != '\n')
			run++;
		serial_write_raw(s, run);
		if (run == n)
			break;
		serial_write_raw("\r\n", 2);
		s += run + 1;
		n -= run + 1;
	}
}

void out_write(unsigned where, const char *s, size_t n)
{
	if (where & OUT_DEBUG)
		debug_write(s, n);
	if (where & OUT_SERIAL)
		serial_write_text(s, n);
}

void out_printf(unsigned where, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	out_write(where, buf, (size_t)n);
}
