/* SPDX-License-Identifier: MIT */
/*
 * vmmctl: a client for the vmm control socket (`--control unix:PATH`, see
 * vmm/control.h): sends requests, one JSON object per line, and prints each
 * reply line on stdout.
 *
 *   vmmctl [-t SECONDS] [-w] SOCKET CMD [KEY=VALUE...]
 *   vmmctl [-t SECONDS] [-w] SOCKET '{"cmd":"status"}'
 *   vmmctl [-t SECONDS] [-w] SOCKET -
 *
 * SOCKET is unix:PATH or a plain path. CMD [KEY=VALUE...] builds
 * {"cmd":"CMD","KEY":"VALUE",...} (values JSON-escaped); an argument that
 * starts with '{' is sent as it is; "-" sends each non-empty line of stdin
 * as one request, in order, on one connection.
 *
 *   -t SECONDS  give up after this long in all (connecting included);
 *               default 10
 *   -w          wait (within -t) for the socket to appear and accept
 *               connections, e.g. right after starting the vmm
 *
 * Exit status: 0 when every reply has "ok":true, 1 when a reply is an error,
 * 2 on bad usage, connection or I/O failures and timeouts.
 *
 * It needs nothing but libc, so the Linux-tier tests can run it inside the
 * L1 machine, whose userland is busybox.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_MAX 4096	/* CONTROL_MAX_LINE, newline included */
#define REPLY_MAX   (64 * 1024)	/* CONTROL_MAX_OUTPUT */

enum { EXIT_OK = 0, EXIT_ERROR_REPLY = 1, EXIT_FAILURE_IO = 2 };

static struct timespec deadline;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmmctl [-t SECONDS] [-w] SOCKET CMD [KEY=VALUE...]\n"
		"       vmmctl [-t SECONDS] [-w] SOCKET '{\"cmd\":...}'\n"
		"       vmmctl [-t SECONDS] [-w] SOCKET -   (requests from stdin)\n"
		"SOCKET: unix:PATH or PATH, the vmm's --control socket.\n"
		"  -t SECONDS  overall timeout (default 10)\n"
		"  -w          wait for the socket to accept connections\n"
		"Exit: 0 all replies ok, 1 an error reply, 2 failure.\n");
}

/* Milliseconds left before the deadline; 0 once it has passed. */
static int remaining_ms(void)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline.tv_sec - now.tv_sec) * 1000LL +
	     (deadline.tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > 1000000000 ? 1000000000 : (int)ms;
}

static int connect_socket(const char *path, bool wait)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vmmctl: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			perror("vmmctl: socket");
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = errno;
		close(fd);
		/* Not there yet, or there but not listening yet. */
		if (!wait || (err != ENOENT && err != ECONNREFUSED) ||
		    remaining_ms() == 0) {
			fprintf(stderr, "vmmctl: cannot connect to %s: %s\n",
				path, strerror(err));
			return -1;
		}
		usleep(20000);
	}
}

/* Append s to buf[*len] as a JSON string; -1 if it does not fit. */
static int put_json_string(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = *len;
	int w;

	if (n + 1 >= size)
		return -1;
	buf[n++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			if (n + 2 >= size)
				return -1;
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20) {
			w = snprintf(buf + n, size - n, "\\u%04x", c);
			if (w < 0 || (size_t)w >= size - n)
				return -1;
			n += (size_t)w;
		} else {
			if (n + 1 >= size)
				return -1;
			buf[n++] = (char)c;
		}
	}
	if (n + 1 >= size)
		return -1;
	buf[n++] = '"';
	buf[n] = '\0';
	*len = n;
	return 0;
}

static int put_raw(char *buf, size_t size, size_t *len, const char *s)
{
	size_t l = strlen(s);

	if (*len + l >= size)
		return -1;
	memcpy(buf + *len, s, l + 1);
	*len += l;
	return 0;
}

/*
 * The request line (without its newline) for CMD [KEY=VALUE...] or a
 * verbatim JSON argument. 0, or -1 after printing why.
 */
static int build_request(int argc, char **argv, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	if (argv[0][0] == '{') {
		if (argc > 1) {
			fprintf(stderr, "vmmctl: nothing may follow a JSON request\n");
			return -1;
		}
		if (put_raw(buf, size, &len, argv[0]) < 0)
			goto too_long;
		return 0;
	}
	if (put_raw(buf, size, &len, "{\"cmd\":") < 0 ||
	    put_json_string(buf, size, &len, argv[0]) < 0)
		goto too_long;
	for (i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i]) {
			fprintf(stderr, "vmmctl: expected KEY=VALUE, got '%s'\n",
				argv[i]);
			return -1;
		}
		*eq = '\0';
		if (put_raw(buf, size, &len, ",") < 0 ||
		    put_json_string(buf, size, &len, argv[i]) < 0 ||
		    put_raw(buf, size, &len, ":") < 0 ||
		    put_json_string(buf, size, &len, eq + 1) < 0)
			goto too_long;
		*eq = '=';
	}
	if (put_raw(buf, size, &len, "}") < 0)
		goto too_long;
	return 0;
too_long:
	fprintf(stderr, "vmmctl: request longer than %d bytes\n", REQUEST_MAX - 1);
	return -1;
}

/* Wait for fd to become ready for events within the deadline. */
static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, remaining_ms());
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		perror("vmmctl: poll");
		return -1;
	}
	if (r == 0) {
		fprintf(stderr, "vmmctl: timed out\n");
		return -1;
	}
	return 0;
}

static int send_line(int fd, const char *line)
{
	size_t len = strlen(line), off = 0;
	char buf[REQUEST_MAX + 1];
	ssize_t n;

	if (len + 1 > REQUEST_MAX) {
		fprintf(stderr, "vmmctl: request longer than %d bytes\n",
			REQUEST_MAX - 1);
		return -1;
	}
	memcpy(buf, line, len);
	buf[len++] = '\n';
	while (off < len) {
		if (wait_fd(fd, POLLOUT) < 0)
			return -1;
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			perror("vmmctl: send");
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Bytes received but not yet handed out, across replies. */
struct reader {
	char buf[REPLY_MAX];
	size_t len;
};

/* The next reply line, NUL-terminated without its newline, in out. */
static int read_line(int fd, struct reader *r, char *out, size_t outsize)
{
	char *nl;
	ssize_t n;
	size_t l;

	while (!(nl = memchr(r->buf, '\n', r->len))) {
		if (r->len == sizeof(r->buf)) {
			fprintf(stderr, "vmmctl: reply longer than %d bytes\n",
				REPLY_MAX);
			return -1;
		}
		if (wait_fd(fd, POLLIN) < 0)
			return -1;
		n = recv(fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			perror("vmmctl: recv");
			return -1;
		}
		if (n == 0) {
			fprintf(stderr, "vmmctl: the vmm closed the connection\n");
			return -1;
		}
		r->len += (size_t)n;
	}
	l = (size_t)(nl - r->buf);
	if (l >= outsize) {
		fprintf(stderr, "vmmctl: reply too long\n");
		return -1;
	}
	memcpy(out, r->buf, l);
	out[l] = '\0';
	r->len -= l + 1;
	memmove(r->buf, nl + 1, r->len);
	return 0;
}

/*
 * One request/reply round trip. Returns EXIT_OK, EXIT_ERROR_REPLY or
 * EXIT_FAILURE_IO. The replies hold string values only besides "ok", so an
 * unescaped "ok":true can only be the status field.
 */
static int round_trip(int fd, struct reader *r, const char *request)
{
	static char reply[REPLY_MAX + 1];

	if (send_line(fd, request) < 0 ||
	    read_line(fd, r, reply, sizeof(reply)) < 0)
		return EXIT_FAILURE_IO;
	printf("%s\n", reply);
	fflush(stdout);
	return strstr(reply, "\"ok\":true") ? EXIT_OK : EXIT_ERROR_REPLY;
}

static int run_stdin(int fd, struct reader *r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = EXIT_OK, one;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		one = round_trip(fd, r, line);
		if (one == EXIT_FAILURE_IO) {
			rc = one;
			break;
		}
		if (one != EXIT_OK)
			rc = one;
	}
	free(line);
	return rc;
}

int main(int argc, char **argv)
{
	static struct reader reader;
	static char request[REQUEST_MAX];
	const char *path;
	double timeout = 10;
	bool wait = false;
	char *end;
	int opt, fd, rc;

	while ((opt = getopt(argc, argv, "+t:wh")) != -1) {
		switch (opt) {
		case 't':
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(timeout > 0) ||
			    timeout > 86400) {
				fprintf(stderr, "vmmctl: bad timeout '%s' (seconds, 0 < t <= 86400)\n",
					optarg);
				return EXIT_FAILURE_IO;
			}
			break;
		case 'w':
			wait = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_FAILURE_IO;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return EXIT_FAILURE_IO;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)timeout;
	deadline.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	path = argv[optind];
	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	if (!*path) {
		fprintf(stderr, "vmmctl: empty socket path\n");
		return EXIT_FAILURE_IO;
	}
	argc -= optind + 1;
	argv += optind + 1;
	if (strcmp(argv[0], "-") != 0 &&
	    build_request(argc, argv, request, sizeof(request)) < 0)
		return EXIT_FAILURE_IO;
	if (strcmp(argv[0], "-") == 0 && argc > 1) {
		fprintf(stderr, "vmmctl: nothing may follow '-'\n");
		return EXIT_FAILURE_IO;
	}

	fd = connect_socket(path, wait);
	if (fd < 0)
		return EXIT_FAILURE_IO;
	if (strcmp(argv[0], "-") == 0)
		rc = run_stdin(fd, &reader);
	else
		rc = round_trip(fd, &reader, request);
	close(fd);
	return rc;
}
