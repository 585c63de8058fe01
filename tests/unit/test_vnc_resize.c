// SPDX-License-Identifier: MIT
/*
 * A viewer's SetDesktopSize against the VNC server, with libvncclient as
 * the viewer (vncresize in the Linux tier is one): the viewer gets the
 * answer to its request and, once the "guest" (the test, through the
 * console's request_resize hook) follows, the new size and picture.
 *
 * libvncclient sends SetDesktopSize, then one full FramebufferUpdateRequest,
 * and then no request at all until an ExtendedDesktopSize rectangle comes.
 * libvncserver 0.9.14 decides between a size message and a picture at the
 * top of rfbSendFramebufferUpdate() without a lock, and only then takes
 * updateMutex and empties the requested region: a request read in between
 * was answered with the picture, the size message it made due waited for
 * a request that never came, and the viewer kept its old size for good.
 * The only code of libvncserver's that runs in that window is the screen's
 * getKeyboardLedStateHook; the race case holds a client's output thread
 * there (a gate) while the request arrives, so it happens every time.
 */
#include <pthread.h>
#include <rfb/rfbclient.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "display/console.h"
#include "tests/common/rfbwait.h"
#include "tests/unit/check.h"
#include "vmm/log.h"
#include "vnc/vnc_int.h"
/* After rfb/rfb.h (vnc_int.h), which it needs. */
#include <rfb/rfbregion.h>

/* libvncclient's Tight decoder (see test_vnc.c); libvncserver's iterator
 * leak after an accepted SetDesktopSize (vnc.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:tjInitDecompress\nleak:rfbGetClientIterator\n";
}

static struct console *con;
static int seed = 1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t pattern(int x, int y, int s)
{
	return (uint32_t)((x * 7 + s * 31) & 0xFF) << 16 |
	       (uint32_t)((y * 5 + s * 17) & 0xFF) << 8 |
	       (uint32_t)((x + y + s * 3) & 0xFF) | 0x00404040u;
}

/* A new w x h surface showing pattern s. */
static void new_surface(int w, int h, int s)
{
	pixman_image_t *img;
	uint32_t *p;
	int stride;

	console_set_surface(con, w, h, PIXMAN_x8r8g8b8);
	img = console_lock(con);
	p = (uint32_t *)pixman_image_get_data(img);
	stride = pixman_image_get_stride(img) / 4;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			p[y * stride + x] = pattern(x, y, s);
	console_unlock(con);
	seed = s;
	console_damage(con, 0, 0, w, h);
	console_flush(con);
}

/* The picture changes in one small rectangle (pattern seed + 100). */
static void small_damage(void)
{
	pixman_image_t *img = console_lock(con);
	uint32_t *p = (uint32_t *)pixman_image_get_data(img);
	int stride = pixman_image_get_stride(img) / 4;

	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++)
			p[y * stride + x] = pattern(x, y, seed + 100);
	console_unlock(con);
	console_damage(con, 0, 0, 8, 8);
	console_flush(con);
}

/* ---- the console's producer: records SetDesktopSize requests --------- */

static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static int req_w, req_h, nreq;

static int request_resize(void *opaque, int w, int h)
{
	(void)opaque;
	pthread_mutex_lock(&req_lock);
	req_w = w;
	req_h = h;
	nreq++;
	pthread_mutex_unlock(&req_lock);
	return 0;
}

static void no_refresh(void *opaque)
{
	(void)opaque;
}

static void no_active(void *opaque, bool active)
{
	(void)opaque;
	(void)active;
}

static const struct console_producer_ops producer = {
	.refresh = no_refresh,
	.set_active = no_active,
	.request_resize = request_resize,
};

/* ---- the gate in libvncserver's window ------------------------------- */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_armed, gate_entered, gate_open;

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += (long)ms * 1000000L;
	ts->tv_sec += ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

/* getKeyboardLedStateHook: a client's output thread, in the middle of
 * rfbSendFramebufferUpdate(). Holds the first call after arming until the
 * test opens the gate (5 s at most: never hang the test). */
static int gate_hook(rfbScreenInfoPtr s)
{
	struct timespec ts;

	(void)s;
	pthread_mutex_lock(&gate_lock);
	if (gate_armed) {
		gate_armed = false;
		gate_entered = true;
		pthread_cond_broadcast(&gate_cond);
		deadline_in(&ts, 5000);
		while (!gate_open &&
		       pthread_cond_timedwait(&gate_cond, &gate_lock, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&gate_lock);
	return 0;
}

static bool wait_gate_entered(void)
{
	struct timespec ts;
	bool ok;

	deadline_in(&ts, 5000);
	pthread_mutex_lock(&gate_lock);
	while (!gate_entered &&
	       pthread_cond_timedwait(&gate_cond, &gate_lock, &ts) == 0)
		;
	ok = gate_entered;
	pthread_mutex_unlock(&gate_lock);
	return ok;
}

static void open_gate(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

/*
 * Whether the server has read the client's SetDesktopSize and the full
 * FramebufferUpdateRequest after it: a size message due and a requested
 * region (the only client).
 */
static bool request_read(struct vnc_server *srv)
{
	bool read = false;

	pthread_mutex_lock(&srv->clients_lock);
	if (srv->clients) {
		rfbClientPtr cl = srv->clients->cl;

		pthread_mutex_lock(&cl->updateMutex);
		read = cl->newFBSizePending &&
		       !sraRgnEmpty(cl->requestedRegion);
		pthread_mutex_unlock(&cl->updateMutex);
	}
	pthread_mutex_unlock(&srv->clients_lock);
	return read;
}

/* ---- libvncclient ------------------------------------------------------ */

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static rfbClient *viewer(int port)
{
	rfbClient *c = rfbGetClient(8, 3, 4);

	free(c->serverHost);
	c->serverHost = strdup("127.0.0.1");
	c->serverPort = port;
	c->canHandleNewFBSize = TRUE;
	c->appData.encodingsString = "raw";
	/* rfbInitClient() frees the client when it fails. */
	return rfbInitClient(c, NULL, NULL) ? c : NULL;
}

static void viewer_close(rfbClient *c)
{
	if (!c)
		return;
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
}

static bool layout_known(rfbClient *c, void *arg)
{
	(void)arg;
	return c->screen.width || c->screen.height;
}

static bool answered(rfbClient *c, void *arg)
{
	(void)arg;
	return !c->requestedResize;
}

/* The viewer shows the console's whole picture (pattern seed). */
static bool shows_console(rfbClient *c, void *arg)
{
	int w, h;

	(void)arg;
	console_get_size(con, &w, &h);
	if (c->width != w || c->height != h || !c->frameBuffer)
		return false;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint32_t want = pattern(x, y, seed);
			uint32_t got = ((uint32_t *)c->frameBuffer)[y * w + x];
			uint32_t rgb = (got >> c->format.redShift & 0xFF) << 16 |
				       (got >> c->format.greenShift & 0xFF) << 8 |
				       (got >> c->format.blueShift & 0xFF);

			if (rgb != (want & 0xFFFFFF))
				return false;
		}
	return true;
}

/* ---- cases --------------------------------------------------------------- */

/*
 * The request arrives while the output thread is between libvncserver's
 * size check and its requested-region update (held there by the gate).
 */
static void test_request_during_update(struct vnc_server *srv, int port)
{
	rfbClient *c = viewer(port);
	int w, h, nw, nh, n0;
	double t;

	CHECK(c != NULL);
	if (!c)
		return;
	console_get_size(con, &w, &h);
	nw = w + 64;
	nh = h + 32;
	CHECK(rfb_pump_until(c, layout_known, NULL, 5));
	CHECK(rfb_pump_until(c, shows_console, NULL, 5));

	/* An update on its way to the viewer stops in the window. */
	pthread_mutex_lock(&gate_lock);
	gate_armed = true;
	gate_entered = gate_open = false;
	pthread_mutex_unlock(&gate_lock);
	small_damage();
	CHECK(wait_gate_entered());

	pthread_mutex_lock(&req_lock);
	n0 = nreq;
	pthread_mutex_unlock(&req_lock);
	CHECK(SendExtDesktopSize(c, (uint16_t)nw, (uint16_t)nh));
	for (t = now_s() + 5; !request_read(srv) && now_s() < t;)
		usleep(1000);
	CHECK(request_read(srv));
	pthread_mutex_lock(&req_lock);
	CHECK_EQ_U64(nreq, n0 + 1);
	CHECK_EQ_U64(req_w, nw);
	CHECK_EQ_U64(req_h, nh);
	pthread_mutex_unlock(&req_lock);
	open_gate();

	/* The answer to SetDesktopSize (the size as it is, "accepted"):
	 * libvncclient asks for nothing until it comes. */
	CHECK(rfb_pump_until(c, answered, NULL, 5));
	CHECK_EQ_U64(c->width, w);

	/* The guest follows: the viewer gets the size and the picture. */
	new_surface(nw, nh, seed + 1);
	CHECK(rfb_pump_until(c, shows_console, NULL, 5));
	CHECK_EQ_U64(c->width, nw);
	CHECK_EQ_U64(c->height, nh);
	viewer_close(c);
	new_surface(w, h, seed + 1);
}

/*
 * As vncresize does: connect, send SetDesktopSize as soon as the server's
 * screen layout is known (the first full update is then on its way), the
 * guest follows; several times, alternating sizes.
 */
static void test_vncresize_flow(int port, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		rfbClient *c = viewer(port);
		int w, h, nw, nh;

		CHECK(c != NULL);
		if (!c)
			return;
		console_get_size(con, &w, &h);
		nw = i & 1 ? w - 48 : w + 48;
		nh = i & 1 ? h - 16 : h + 16;
		CHECK(rfb_pump_until(c, layout_known, NULL, 5));
		CHECK(SendExtDesktopSize(c, (uint16_t)nw, (uint16_t)nh));
		CHECK(rfb_pump_until(c, answered, NULL, 5));
		new_surface(nw, nh, seed + 1);
		CHECK(rfb_pump_until(c, shows_console, NULL, 5));
		CHECK_EQ_U64(c->width, nw);
		viewer_close(c);
		/* The server takes one request per 50 ms. */
		usleep(60000);
	}
}

int main(void)
{
	struct vnc_config cfg = { .listen = "127.0.0.1:0" };
	struct vnc_server *srv;
	char err[256];
	int port;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rfbClientLog = quiet;
	rfbClientErr = quiet;
	log_max_level = LOG_WARN;
	con = console_create("resize");
	console_set_producer(con, &producer, NULL);
	new_surface(320, 240, 1);

	srv = vnc_server_create(con, &cfg, err, sizeof(err));
	CHECK(srv != NULL);
	if (!srv) {
		printf("vnc_server_create: %s\n", err);
		return check_summary("test_vnc_resize");
	}
	/* Before any client: output threads read it unlocked. */
	srv->screen->getKeyboardLedStateHook = gate_hook;
	port = vnc_server_port(srv);

	test_request_during_update(srv, port);
	test_vncresize_flow(port, 6);

	vnc_server_destroy(srv);
	console_set_producer(con, NULL, NULL);
	console_destroy(con);
	return check_summary("test_vnc_resize");
}
