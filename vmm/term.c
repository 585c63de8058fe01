// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "term.h"

#define ESCAPE_CHAR 0x01   /* Ctrl-A */

struct term {
	struct vm *vm;
	struct serial *uart;
	int in_fd;
	int wake_fd;           /* eventfd: the UART has room again */
	bool watching_input;
	bool input_eof;
	bool escape_pending;
	uint8_t pending[256];  /* read from stdin, not yet taken by the UART */
	size_t pending_len;
	size_t pending_off;
};

static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;
static int saved_fd = -1;
static int saved_fl_fd = -1;
static int saved_fl;

void term_restore(void)
{
	if (termios_saved) {
		tcsetattr(saved_fd, TCSAFLUSH, &saved_termios);
		termios_saved = 0;
	}
	/* O_NONBLOCK is shared with the shell that started us. */
	if (saved_fl_fd >= 0) {
		fcntl(saved_fl_fd, F_SETFL, saved_fl);
		saved_fl_fd = -1;
	}
}

static void fatal_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void enter_raw_mode(int fd)
{
	struct termios raw;

	if (tcgetattr(fd, &saved_termios) < 0)
		return;
	saved_fd = fd;
	termios_saved = 1;
	/* A crash must not leave the user's terminal raw. */
	signal(SIGSEGV, fatal_signal);
	signal(SIGBUS, fatal_signal);
	signal(SIGABRT, fatal_signal);
	signal(SIGFPE, fatal_signal);
	signal(SIGILL, fatal_signal);
	raw = saved_termios;
	cfmakeraw(&raw);
	/* Keep output post-processing so our own log lines stay readable. */
	raw.c_oflag |= OPOST | ONLCR;
	tcsetattr(fd, TCSAFLUSH, &raw);
}

/* Offer pending bytes to the UART; true when all were taken. */
static bool flush_pending(struct term *t)
{
	while (t->pending_off < t->pending_len) {
		size_t n = serial_receive(t->uart, t->pending + t->pending_off,
					  t->pending_len - t->pending_off);
		if (n == 0)
			return false;
		t->pending_off += n;
	}
	t->pending_off = t->pending_len = 0;
	return true;
}

static void set_watch(struct term *t, bool on)
{
	if (t->watching_input == on || t->input_eof)
		return;
	event_mod_fd(t->vm->loop, t->in_fd, on ? EPOLLIN : 0);
	t->watching_input = on;
}

/* Ctrl-A x quits; Ctrl-A Ctrl-A (or Ctrl-A a) sends one Ctrl-A. */
static void filter_escape(struct term *t, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (t->escape_pending) {
			t->escape_pending = false;
			if (c == 'x' || c == 'X') {
				vm_request_stop(t->vm, VM_STOP_USER);
				return;
			}
			if (c == ESCAPE_CHAR || c == 'a')
				t->pending[t->pending_len++] = ESCAPE_CHAR;
			continue;
		}
		if (c == ESCAPE_CHAR && termios_saved) {
			t->escape_pending = true;
			continue;
		}
		t->pending[t->pending_len++] = c;
	}
}

static void input_ready(void *opaque, uint32_t events)
{
	struct term *t = opaque;
	uint8_t buf[128];
	ssize_t n;

	(void)events;
	n = read(t->in_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* End of input (a closed pipe): the guest keeps running. */
		event_del_fd(t->vm->loop, t->in_fd);
		t->input_eof = true;
		return;
	}
	filter_escape(t, buf, (size_t)n);
	if (!flush_pending(t))
		set_watch(t, false);
}

static void uart_has_room(void *opaque)
{
	struct term *t = opaque;
	uint64_t one = 1;

	/* Called on a vCPU thread: hand over to the loop thread. */
	if (write(t->wake_fd, &one, sizeof(one)) < 0) {
	}
}

static void wake_ready(void *opaque, uint32_t events)
{
	struct term *t = opaque;
	uint64_t v;

	(void)events;
	if (read(t->wake_fd, &v, sizeof(v)) < 0) {
	}
	if (flush_pending(t))
		set_watch(t, true);
}

struct term *term_create(struct vm *vm, struct serial *uart, int in_fd)
{
	struct term *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->vm = vm;
	t->uart = uart;
	t->in_fd = in_fd;
	t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->wake_fd < 0)
		goto fail;
	atexit(term_restore);
	if (isatty(in_fd))
		enter_raw_mode(in_fd);
	saved_fl = fcntl(in_fd, F_GETFL);
	if (saved_fl >= 0) {
		saved_fl_fd = in_fd;
		fcntl(in_fd, F_SETFL, saved_fl | O_NONBLOCK);
	}
	if (event_add_fd(vm->loop, t->wake_fd, EPOLLIN, wake_ready, t) < 0)
		goto fail;
	if (event_add_fd(vm->loop, in_fd, EPOLLIN, input_ready, t) < 0) {
		/* A regular file or /dev/null cannot be polled: no input. */
		t->input_eof = true;
	} else {
		t->watching_input = true;
	}
	serial_set_rx_ready(uart, uart_has_room, t);
	return t;
fail:
	log_err("serial console setup: %s", strerror(errno));
	if (t->wake_fd >= 0)
		close(t->wake_fd);
	free(t);
	return NULL;
}

void term_destroy(struct term *t)
{
	if (!t)
		return;
	serial_set_rx_ready(t->uart, NULL, NULL);
	if (!t->input_eof)
		event_del_fd(t->vm->loop, t->in_fd);
	event_del_fd(t->vm->loop, t->wake_fd);
	close(t->wake_fd);
	free(t);
	term_restore();
}
