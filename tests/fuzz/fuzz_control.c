// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the control socket (vmm/control.c), end to end: a
 * real server on a UNIX socket, served by its event loop in a thread, and
 * each input sent as the byte stream of one connection (split into lines
 * by the server, as a client's requests are). The harness checks what a
 * client may rely on, whatever it sends:
 *  - the server answers or closes; it never hangs (libFuzzer's timeout);
 *  - every reply is one line holding one object with no raw control
 *    character in it (the error text quotes the client's bytes);
 *  - there are never more replies than requests, and with a few short
 *    requests and no "quit" exactly one reply per request.
 * The screendump operation writes nothing: it answers from the path alone,
 * so that both the reply and the error path see client-chosen bytes.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/control.h"
#include "vmm/event.h"

/* At most this much of an input is sent: bigger adds nothing new. */
#define MAX_INPUT  (64 * 1024)
/* Replies that must all fit in the server's output buffer at once. */
#define EXACT_REPLIES_UP_TO 64

static struct event_loop *loop;
static struct sockaddr_un addr;
static bool quit_called;        /* set on the loop thread */
static int watch_handle;

static int op_status(void *opaque, struct control_status *out)
{
	(void)opaque;
	out->running = true;
	out->width = 640;
	out->height = 400;
	out->clients = 1;
	out->display = "std";
	return 0;
}

static int op_screendump(void *opaque, const char *path, char *err,
			 size_t errlen)
{
	(void)opaque;
	if (strlen(path) % 2) {
		snprintf(err, errlen, "cannot write %s", path);
		return -1;
	}
	return 0;
}

static void op_quit(void *opaque)
{
	(void)opaque;
	__atomic_store_n(&quit_called, true, __ATOMIC_RELEASE);
}

static void *op_watch(void *opaque, struct control_watch *w, char *err,
		      size_t errlen)
{
	(void)opaque;
	(void)err;
	(void)errlen;
	control_watch_surface(w, 640, 400);
	control_watch_damage(w, 1, 2, 3, 4);
	return &watch_handle;
}

static void op_unwatch(void *opaque, void *handle)
{
	(void)opaque;
	if (handle != &watch_handle)
		__builtin_trap();
}

static const struct control_ops ops = {
	.status = op_status,
	.screendump = op_screendump,
	.quit = op_quit,
	.watch = op_watch,
	.unwatch = op_unwatch,
};

static void *loop_thread(void *arg)
{
	(void)arg;
	event_loop_run(loop);
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/fuzz_control.XXXXXX";
	char spec[sizeof(addr.sun_path) + 8], err[256];
	pthread_t t;

	(void)argc;
	(void)argv;
	loop = event_loop_create();
	if (!loop || !mkdtemp(dir)) {
		fprintf(stderr, "fuzz_control: set-up failed\n");
		exit(1);
	}
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/c.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", addr.sun_path);
	if (!control_server_create(loop, spec, &ops, NULL, err, sizeof(err)) ||
	    pthread_create(&t, NULL, loop_thread, NULL)) {
		fprintf(stderr, "fuzz_control: %s\n", err);
		exit(1);
	}
	/* The socket file and its directory go when the process ends. */
	return 0;
}

/* Requests in data as the server splits them; *too_long if one of them
 * cannot fit its line buffer. */
static size_t count_requests(const uint8_t *data, size_t size, bool *too_long)
{
	size_t n = 0, start = 0;

	*too_long = false;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		if (i - start >= CONTROL_MAX_LINE)
			*too_long = true;
		if (i < size || i > start)
			n++;
		start = i + 1;
	}
	return n;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

/* One complete reply line (without its newline): well formed; counts it. */
static void check_line(const char *s, size_t len, size_t *replies)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20)
			__builtin_trap();
	if (len < 2 || s[len - 1] != '}')
		__builtin_trap();
	if (starts_with(s, len, "{\"ok\":true") ||
	    starts_with(s, len, "{\"ok\":false,\"error\":\""))
		(*replies)++;
	else if (!starts_with(s, len, "{\"event\":\""))
		__builtin_trap();
}

/* Check and count the complete lines in buf[0, len); the incomplete rest
 * moves to the front. Returns its length. */
static size_t check_lines(char *buf, size_t len, size_t *replies)
{
	size_t line = 0;

	for (char *nl; (nl = memchr(buf + line, '\n', len - line));
	     line = (size_t)(nl - buf) + 1)
		check_line(buf + line, (size_t)(nl - (buf + line)), replies);
	memmove(buf, buf + line, len - line);
	return len - line;
}

/* Send data and read every reply until the server closes: the replies. */
static size_t converse(int fd, const uint8_t *data, size_t size)
{
	static char in[64 * 1024];     /* far more than one reply line */
	size_t sent = 0, got = 0, replies = 0;
	bool wr_open = true;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (wr_open && sent == size) {
			shutdown(fd, SHUT_WR);
			wr_open = false;
		}
		if (wr_open)
			p.events |= POLLOUT;
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			__builtin_trap();
		}
		if (wr_open && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(fd, data + sent, size - sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				wr_open = false;        /* the server closed */
		}
		if (!(p.revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		if (got == sizeof(in))
			__builtin_trap();       /* a reply line without end */
		n = recv(fd, in + got, sizeof(in) - got, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
		if (n < 0)
			continue;
		got += (size_t)n;
		got = check_lines(in, got, &replies);
	}
	return replies;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t requests, replies;
	bool too_long;
	int fd;

	if (size > MAX_INPUT)
		size = MAX_INPUT;
	requests = count_requests(data, size, &too_long);
	__atomic_store_n(&quit_called, false, __ATOMIC_RELEASE);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		__builtin_trap();
	replies = converse(fd, data, size);
	close(fd);
	if (replies > requests)
		__builtin_trap();
	if (!too_long && !__atomic_load_n(&quit_called, __ATOMIC_ACQUIRE) &&
	    requests <= EXACT_REPLIES_UP_TO &&
	    replies != requests)
		__builtin_trap();
	return 0;
}
