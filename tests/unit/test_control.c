// SPDX-License-Identifier: MIT
/*
 * The control socket over a real UNIX socket, with the event loop running
 * in a thread: status, screendump, quit, malformed and overlong requests,
 * many clients, a client that never reads, stale socket files; display
 * watchers (events from a console listener, ordering, a bounded queue that
 * drops and counts, detaching on unwatch and disconnect); and the request
 * parser directly.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "display/screendump.h"
#include "vmm/control.h"
#include "vmm/event.h"

static char dir[] = "/tmp/test_control.XXXXXX";
static char sock_path[200];
static struct event_loop *loop;
static struct control_server *srv;
static struct console *con;
static int quits;

static int op_status(void *opaque, struct control_status *st)
{
	(void)opaque;
	st->running = true;
	console_get_size(con, &st->width, &st->height);
	/* Loop thread: the server's own count is safe to read here. */
	st->clients = control_server_client_count(srv);
	st->display = "std";
	return 0;
}

static int op_screendump(void *opaque, const char *path, char *err,
			 size_t errlen)
{
	(void)opaque;
	return screendump_console(con, path, err, errlen);
}

static void op_quit(void *opaque)
{
	(void)opaque;
	quits++;
	event_loop_stop(loop, 0);
}

static const struct control_ops ops = {
	.status = op_status,
	.screendump = op_screendump,
	.quit = op_quit,
};

static void *loop_thread(void *arg)
{
	(void)arg;
	event_loop_run(loop);
	return NULL;
}

static int connect_client(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", sock_path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* One reply line (without newline) within 5 s; "" on EOF, "TIMEOUT". */
static const char *read_line(int fd)
{
	static char buf[8192];
	size_t n = 0;

	while (n < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 5000) <= 0)
			return "TIMEOUT";
		r = recv(fd, buf + n, 1, 0);
		if (r <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return buf;
}

static const char *request(int fd, const char *line)
{
	send_all(fd, line, strlen(line));
	return read_line(fd);
}

/* true if the server closed the connection (EOF within 5 s). */
static bool closed_by_server(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b;

	return poll(&p, 1, 5000) == 1 && recv(fd, &b, 1, 0) <= 0;
}

static void test_parser(void)
{
	char buf[256], err[128];
	struct control_field f[CONTROL_MAX_FIELDS];
	int n;
#define PARSE(s) control_parse_request(s, strlen(s), buf, sizeof(buf), f, &n, \
				       err, sizeof(err))

	CHECK(PARSE("{\"cmd\":\"status\"}") == 0 && n == 1);
	CHECK_STR(f[0].key, "cmd");
	CHECK_STR(f[0].value, "status");
	CHECK(PARSE(" { \"a\" : \"1\" ,\t\"b\":\"\" } \r") == 0 && n == 2);
	CHECK_STR(f[1].value, "");
	CHECK(PARSE("{}") == 0 && n == 0);
	CHECK(PARSE("{\"p\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\"}") == 0);
	CHECK_STR(f[0].value, "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
	CHECK(PARSE("{\"p\":\"caf\xc3\xa9\"}") == 0);

	CHECK(PARSE("") < 0);
	CHECK(PARSE("[]") < 0);
	CHECK(PARSE("{") < 0);
	CHECK(PARSE("{\"cmd\"}") < 0);
	CHECK(PARSE("{\"cmd\":1}") < 0);
	CHECK(strstr(err, "must be a string") != NULL);
	CHECK(PARSE("{\"cmd\":{\"a\":\"b\"}}") < 0);
	CHECK(PARSE("{\"cmd\":\"x\",}") < 0);
	CHECK(PARSE("{\"cmd\":\"x\"} x") < 0);
	CHECK(PARSE("{\"cmd\":\"x\"}{}") < 0);
	CHECK(PARSE("{cmd:\"x\"}") < 0);
	CHECK(PARSE("{\"cmd\":\"x\",\"cmd\":\"y\"}") < 0);
	CHECK(PARSE("{\"a\":\"\\u0000\"}") < 0);
	CHECK(PARSE("{\"a\":\"\\ud800\"}") < 0);
	CHECK(PARSE("{\"a\":\"\\udc00\"}") < 0);
	CHECK(PARSE("{\"a\":\"\\u12g4\"}") < 0);
	CHECK(PARSE("{\"a\":\"\\x\"}") < 0);
	CHECK(PARSE("{\"a\":\"\t\"}") < 0);
	CHECK(PARSE("{\"a\":\"\xff\"}") < 0);
	CHECK(PARSE("{\"a\":\"\xc0\xaf\"}") < 0);       /* overlong */
	CHECK(PARSE("{\"a\":\"\xed\xa0\x80\"}") < 0);   /* surrogate */
	CHECK(PARSE("{\"a\":\"unterminated}") < 0);
	CHECK(PARSE("{\"a\":\"\\") < 0);
	CHECK(PARSE("{\"1\":\"\",\"2\":\"\",\"3\":\"\",\"4\":\"\",\"5\":\"\","
		    "\"6\":\"\",\"7\":\"\",\"8\":\"\",\"9\":\"\"}") < 0);
	/* An embedded NUL byte in the line. */
	CHECK(control_parse_request("{\"a\":\"\0\"}", 9, buf, sizeof(buf), f, &n,
				    err, sizeof(err)) < 0);
	/* Output buffer too small is an error, not an overflow. */
	CHECK(control_parse_request("{\"abcdef\":\"ghijkl\"}", 19, buf, 8, f,
				    &n, err, sizeof(err)) < 0);
#undef PARSE
}

static void test_socket_file_rules(void)
{
	char err[256], path[256], spec[300];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct control_server *s;
	struct event_loop *l = event_loop_create();
	int fd;
	FILE *f;

	CHECK(control_server_create(l, "tcp:1.2.3.4", &ops, NULL, err,
				    sizeof(err)) == NULL);
	CHECK(control_server_create(l, "unix:", &ops, NULL, err,
				    sizeof(err)) == NULL);
	memset(spec, 'a', sizeof(spec) - 1);
	memcpy(spec, "unix:", 5);
	spec[sizeof(spec) - 1] = 0;
	CHECK(control_server_create(l, spec, &ops, NULL, err, sizeof(err)) == NULL);

	/* A stale socket (nobody listening) is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	close(fd);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	s = control_server_create(l, spec, &ops, NULL, err, sizeof(err));
	CHECK(s != NULL);
	/* A live one is not: a second server on the same path fails. */
	CHECK(control_server_create(l, spec, &ops, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "in use") != NULL);
	{
		struct stat st;

		CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	}
	control_server_destroy(s);
	CHECK(access(path, F_OK) != 0);         /* removed */

	/* A regular file is never removed. */
	f = fopen(path, "w");
	fclose(f);
	CHECK(control_server_create(l, spec, &ops, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a socket") != NULL);
	CHECK(access(path, F_OK) == 0);
	unlink(path);
	event_loop_destroy(l);
}

static void test_session(void)
{
	char err[256], spec[256], png[256], line[512];
	pthread_t th;
	int fd, fd2;
	const char *r;

	con = console_create("t");
	console_set_surface(con, 640, 400, PIXMAN_x8r8g8b8);
	loop = event_loop_create();
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	srv = control_server_create(loop, spec, &ops, NULL, err, sizeof(err));
	CHECK(srv != NULL);
	if (!srv) {
		printf("control_server_create: %s\n", err);
		return;
	}
	pthread_create(&th, NULL, loop_thread, NULL);

	fd = connect_client();
	CHECK(fd >= 0);
	CHECK_STR(request(fd, "{\"cmd\":\"status\"}\n"),
		  "{\"ok\":true,\"running\":true,\"width\":640,\"height\":400,"
		  "\"clients\":1,\"display\":\"std\"}");

	/* Screendump, then the file is a PNG of the console. */
	snprintf(png, sizeof(png), "%s/shot.png", dir);
	snprintf(line, sizeof(line),
		 "{\"cmd\":\"screendump\",\"path\":\"%s\"}\n", png);
	CHECK_STR(request(fd, line), "{\"ok\":true}");
	{
		pixman_image_t *img = screendump_load_png(png, err, sizeof(err));

		CHECK(img && pixman_image_get_width(img) == 640);
		if (img)
			pixman_image_unref(img);
		unlink(png);
	}
	/* Failures are reported with a message, JSON-escaped. */
	r = request(fd, "{\"cmd\":\"screendump\",\"path\":\"/no/such/dir/\\\"q.png\"}\n");
	CHECK_STR(r, "{\"ok\":false,\"error\":\"/no/such/dir/\\\"q.png: "
		  "No such file or directory\"}");
	CHECK_STR(request(fd, "{\"cmd\":\"screendump\"}\n"),
		  "{\"ok\":false,\"error\":\"screendump needs a \\\"path\\\"\"}");

	/* Malformed requests: error replies, the connection stays usable. */
	r = request(fd, "{bad json\n");
	CHECK(!strncmp(r, "{\"ok\":false,\"error\":\"invalid JSON", 33));
	r = request(fd, "{\"cmd\":1}\n");
	CHECK(!strncmp(r, "{\"ok\":false,", 12));
	CHECK_STR(request(fd, "{\"cmd\":\"reboot\"}\n"),
		  "{\"ok\":false,\"error\":\"unknown command\"}");
	CHECK_STR(request(fd, "{\"cmd\":\"status\",\"x\":\"y\"}\n"),
		  "{\"ok\":false,\"error\":\"unknown field \\\"x\\\"\"}");
	CHECK_STR(request(fd, "{}\n"),
		  "{\"ok\":false,\"error\":\"missing \\\"cmd\\\"\"}");
	r = request(fd, "\n");
	CHECK(!strncmp(r, "{\"ok\":false,", 12));
	/* Two requests in one write, CRLF line ends: two replies in order. */
	r = "{\"cmd\":\"status\"}\r\n{\"cmd\":\"nope\"}\n";
	send_all(fd, r, strlen(r));
	CHECK(!strncmp(read_line(fd), "{\"ok\":true,", 11));
	CHECK(!strncmp(read_line(fd), "{\"ok\":false,", 12));
	CHECK(!strncmp(request(fd, "{\"cmd\":\"status\"}\n"), "{\"ok\":true,", 11));

	/* An overlong line: an error, then the connection is closed. */
	fd2 = connect_client();
	{
		char *big = malloc(CONTROL_MAX_LINE + 100);

		memset(big, 'a', CONTROL_MAX_LINE + 100);
		send_all(fd2, big, CONTROL_MAX_LINE + 100);
		free(big);
	}
	CHECK_STR(read_line(fd2), "{\"ok\":false,\"error\":\"line too long\"}");
	CHECK(closed_by_server(fd2));
	close(fd2);

	/* A request without newline, then half-close: still answered. */
	fd2 = connect_client();
	send_all(fd2, "{\"cmd\":\"status\"}", 16);
	shutdown(fd2, SHUT_WR);
	CHECK(!strncmp(read_line(fd2), "{\"ok\":true,", 11));
	CHECK(closed_by_server(fd2));
	close(fd2);

	/* Many clients at once, all served; past the limit, refused. */
	{
		int fds[CONTROL_MAX_CLIENTS + 1], ok = 0;

		for (int i = 0; i < CONTROL_MAX_CLIENTS - 1; i++)
			fds[i] = connect_client();
		for (int i = 0; i < CONTROL_MAX_CLIENTS - 1; i++)
			ok += !strncmp(request(fds[i], "{\"cmd\":\"status\"}\n"),
				       "{\"ok\":true,", 11);
		CHECK_EQ_U64(ok, CONTROL_MAX_CLIENTS - 1);
		r = request(fd, "{\"cmd\":\"status\"}\n");
		CHECK(strstr(r, "\"clients\":32,") != NULL);
		fds[CONTROL_MAX_CLIENTS - 1] = connect_client();
		CHECK_STR(read_line(fds[CONTROL_MAX_CLIENTS - 1]),
			  "{\"ok\":false,\"error\":\"too many clients\"}");
		CHECK(closed_by_server(fds[CONTROL_MAX_CLIENTS - 1]));
		for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
			close(fds[i]);
	}

	/* A client that sends requests but never reads the replies is
	 * dropped; the loop keeps serving others meanwhile. */
	fd2 = connect_client();
	{
		static const char req[] = "{\"cmd\":\"status\"}\n";
		bool dropped = false;
		int others_ok = 0;

		for (int i = 0; i < 200000 && !dropped; i++) {
			ssize_t n = send(fd2, req, sizeof(req) - 1,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
				dropped = true;
			} else if (n < 0 || i % 1000 == 0) {
				/* now and then, and when our send buffer is
				 * full: the server still answers others */
				others_ok += !strncmp(request(fd, req),
						      "{\"ok\":true,", 11);
				if (others_ok > 200)
					break;
				usleep(1000);
			}
		}
		CHECK(dropped);
		CHECK(others_ok > 0);
		r = request(fd, req);
		CHECK(strstr(r, "\"clients\":1,") != NULL);
	}
	close(fd2);

	/* Quit: the reply arrives, then the loop stops. */
	CHECK_STR(request(fd, "{\"cmd\":\"quit\"}\n"), "{\"ok\":true}");
	pthread_join(th, NULL);
	CHECK_EQ_U64(quits, 1);
	close(fd);

	control_server_destroy(srv);
	CHECK(access(sock_path, F_OK) != 0);
	event_loop_destroy(loop);
	console_destroy(con);
}

/* ---- watchers: ops like main.c's, a console listener per watch ------------ */

struct watch_listener {
	struct console_listener l;
	struct control_watch *w;
};

static struct control_watch *last_watch;
static int flood_on_status;

static void wl_surface(void *opaque, struct console *c)
{
	struct watch_listener *wl = opaque;
	pixman_image_t *img = console_surface_locked(c);

	control_watch_surface(wl->w, img ? pixman_image_get_width(img) : 0,
			      img ? pixman_image_get_height(img) : 0);
}

static void wl_damage(void *opaque, const pixman_box32_t *b)
{
	struct watch_listener *wl = opaque;

	control_watch_damage(wl->w, b->x1, b->y1, b->x2 - b->x1, b->y2 - b->y1);
}

static void *wop_watch(void *opaque, struct control_watch *w, char *err,
		       size_t errlen)
{
	struct watch_listener *wl = calloc(1, sizeof(*wl));

	(void)opaque;
	(void)err;
	(void)errlen;
	wl->w = w;
	wl->l.surface_changed = wl_surface;
	wl->l.damage = wl_damage;
	wl->l.opaque = wl;
	last_watch = w;
	console_add_listener(con, &wl->l);
	return wl;
}

static void wop_unwatch(void *opaque, void *handle)
{
	struct watch_listener *wl = handle;

	(void)opaque;
	console_remove_listener(con, &wl->l);
	free(wl);
}

static int wop_status(void *opaque, struct control_status *st)
{
	(void)opaque;
	st->running = true;
	console_get_size(con, &st->width, &st->height);
	st->clients = console_listener_count(con);
	st->display = "std";
	/* On the loop thread: the loop cannot drain while this runs. */
	for (int i = 0; i < flood_on_status; i++)
		control_watch_damage(last_watch, i, 0, 1, 1);
	flood_on_status = 0;
	return 0;
}

static const struct control_ops watch_ops = {
	.status = wop_status,
	.watch = wop_watch,
	.unwatch = wop_unwatch,
	.quit = op_quit,
};

static void test_watch(void)
{
	char err[256], spec[256], want[128];
	pthread_t th;
	int fd, fd2, damage = 0, first_x = -1, last_x = -1;
	const char *r;

	con = console_create("w");
	console_set_surface(con, 640, 400, PIXMAN_x8r8g8b8);
	loop = event_loop_create();
	snprintf(sock_path, sizeof(sock_path), "%s/watch.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	srv = control_server_create(loop, spec, &watch_ops, NULL, err,
				    sizeof(err));
	CHECK(srv != NULL);
	if (!srv)
		return;
	pthread_create(&th, NULL, loop_thread, NULL);

	fd = connect_client();
	CHECK_STR(request(fd, "{\"cmd\":\"unwatch\"}\n"),
		  "{\"ok\":false,\"error\":\"not watching\"}");
	/* The reply first, then the current surface. */
	CHECK_STR(request(fd, "{\"cmd\":\"watch\"}\n"), "{\"ok\":true}");
	CHECK_STR(read_line(fd), "{\"event\":\"surface\",\"width\":640,\"height\":400}");
	CHECK_STR(request(fd, "{\"cmd\":\"watch\"}\n"),
		  "{\"ok\":false,\"error\":\"already watching\"}");
	/* A watcher is a console consumer. */
	CHECK_EQ_U64(console_listener_count(con), 1);
	CHECK_STR(request(fd, "{\"cmd\":\"status\"}\n"),
		  "{\"ok\":true,\"running\":true,\"width\":640,\"height\":400,"
		  "\"clients\":1,\"display\":\"std\"}");

	/* Damage and a new surface from this (producer) thread. */
	console_damage(con, 10, 20, 30, 40);
	console_flush(con);
	CHECK_STR(read_line(fd), "{\"event\":\"damage\",\"x\":10,\"y\":20,\"w\":30,\"h\":40}");
	console_set_surface(con, 800, 600, PIXMAN_x8r8g8b8);
	CHECK_STR(read_line(fd), "{\"event\":\"surface\",\"width\":800,\"height\":600}");

	/* Queued events go out before the reply to the next request. */
	console_damage(con, 1, 2, 3, 4);
	console_flush(con);
	send_all(fd, "{\"cmd\":\"status\"}\n", 17);
	CHECK_STR(read_line(fd), "{\"event\":\"damage\",\"x\":1,\"y\":2,\"w\":3,\"h\":4}");
	r = read_line(fd);
	CHECK(!strncmp(r, "{\"ok\":true,\"running\"", 20));

	/* More events than the queue holds while the loop is busy: the first
	 * CONTROL_WATCH_QUEUE are kept, the rest counted. */
	flood_on_status = CONTROL_WATCH_QUEUE + 744;
	r = request(fd, "{\"cmd\":\"status\"}\n");
	CHECK(!strncmp(r, "{\"ok\":true,\"running\"", 20));
	CHECK_STR(read_line(fd), "{\"event\":\"dropped\",\"count\":744}");
	for (int i = 0; i < CONTROL_WATCH_QUEUE; i++) {
		int x;

		r = read_line(fd);
		if (sscanf(r, "{\"event\":\"damage\",\"x\":%d,", &x) != 1)
			break;
		if (first_x < 0)
			first_x = x;
		last_x = x;
		damage++;
	}
	CHECK_EQ_U64(damage, CONTROL_WATCH_QUEUE);
	CHECK_EQ_U64(first_x, 0);
	CHECK_EQ_U64(last_x, CONTROL_WATCH_QUEUE - 1);

	/* unwatch: no more events, no more consumer. */
	CHECK_STR(request(fd, "{\"cmd\":\"unwatch\"}\n"), "{\"ok\":true}");
	CHECK_EQ_U64(console_listener_count(con), 0);
	console_damage(con, 5, 5, 5, 5);
	console_flush(con);
	r = request(fd, "{\"cmd\":\"status\"}\n");
	CHECK(!strncmp(r, "{\"ok\":true,\"running\"", 20));

	/* A watcher that disconnects is detached. */
	fd2 = connect_client();
	CHECK_STR(request(fd2, "{\"cmd\":\"watch\"}\n"), "{\"ok\":true}");
	snprintf(want, sizeof(want),
		 "{\"event\":\"surface\",\"width\":800,\"height\":600}");
	CHECK_STR(read_line(fd2), want);
	CHECK_EQ_U64(console_listener_count(con), 1);
	close(fd2);
	for (int i = 0; i < 500 && console_listener_count(con); i++)
		usleep(10000);
	CHECK_EQ_U64(console_listener_count(con), 0);

	CHECK_STR(request(fd, "{\"cmd\":\"quit\"}\n"), "{\"ok\":true}");
	pthread_join(th, NULL);
	close(fd);
	control_server_destroy(srv);
	event_loop_destroy(loop);
	console_destroy(con);
}

/* Without watch ops (--display none): an error, the connection stays. */
static void test_watch_unsupported(void)
{
	char err[256], spec[256];
	pthread_t th;
	int fd;

	con = console_create("n");
	loop = event_loop_create();
	snprintf(sock_path, sizeof(sock_path), "%s/nowatch.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	srv = control_server_create(loop, spec, &ops, NULL, err, sizeof(err));
	CHECK(srv != NULL);
	if (!srv)
		return;
	pthread_create(&th, NULL, loop_thread, NULL);
	fd = connect_client();
	CHECK_STR(request(fd, "{\"cmd\":\"watch\"}\n"),
		  "{\"ok\":false,\"error\":\"no display\"}");
	CHECK_STR(request(fd, "{\"cmd\":\"quit\"}\n"), "{\"ok\":true}");
	pthread_join(th, NULL);
	close(fd);
	control_server_destroy(srv);
	event_loop_destroy(loop);
	console_destroy(con);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_parser();
	test_socket_file_rules();
	test_session();
	test_watch();
	test_watch_unsupported();
	rmdir(dir);
	return check_summary("test_control");
}
