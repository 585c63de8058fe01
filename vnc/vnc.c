// SPDX-License-Identifier: MIT
/*
 * The VNC server proper: an rfbScreenInfo over a copy of the console
 * surface, the update thread that keeps the copy current, and input.
 *
 * The frame buffer handed to libvncserver is always our own copy in
 * libvncserver's default pixel format (32 bpp, red/green/blue shifts
 * 0/8/16: PIXMAN_x8b8g8r8 on little-endian), never an alias of the console
 * surface:
 *  - libvncserver's encoder threads read the frame buffer without any lock
 *    of ours, while an aliased surface (guest VRAM) may be unmapped or
 *    replaced as soon as the console lock is released;
 *  - a guest surface is usually XRGB8888 (red shift 16), which libvncserver
 *    would translate for every update of every client asking for the
 *    default format (noVNC does); pixman converts each damaged rectangle
 *    once here instead, whatever the number of viewers;
 *  - libvncserver never writes into guest memory (we also set no cursor, so
 *    it never draws one into the frame buffer).
 *
 * Console callbacks (producer's thread, console lock held) only record the
 * damage; the update thread copies it under the console lock, then calls
 * rfbMarkRectAsModified(), or new_framebuffer() on a size change. The
 * latter needs every client's sendMutex and never waits long for one (a
 * client that is not reading holds it until it is dropped): it retries,
 * so neither this thread nor another viewer waits for a stalled one. The
 * old buffer is freed one second later: new_framebuffer()
 * swaps the pointer while holding every sendMutex, so no encoder still uses
 * it, but libvncserver's server-side scaling code reads the frame buffer
 * from client threads without that lock.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "display/input.h"
#include "display/keymap.h"
#include "vmm/log.h"
#include "vnc/vnc_int.h"
#include <rfb/rfbregion.h>      /* needs rfb.h first */

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the frame buffer format assumes a little-endian host"
#endif
#define FB_FORMAT PIXMAN_x8b8g8r8

#define RETIRE_GRACE_NS 1000000000ull
#define RETIRE_MAX 4
#define LED_RETRY_MS 20

/* ---- libvncserver's log ------------------------------------------------ */

static void rfb_log(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	size_t n;

	if (log_max_level < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	/* Client-triggered (every connection logs): rate-limited. */
	log_ratelimited(LOG_DEBUG, "vnc: libvncserver: %s", buf);
}

/* ---- frame buffer ----------------------------------------------------- */

static void retire_fb(struct vnc_server *srv, char *fb)
{
	struct retired_fb *r = malloc(sizeof(*r));

	if (!r) {
		/* No grace period possible; the sendMutex swap still
		 * protects every encoder. */
		free(fb);
		return;
	}
	r->fb = fb;
	r->when_ns = vnc_now_ns();
	r->next = srv->retired;
	srv->retired = r;
}

/* Free retired buffers older than the grace period (all: force). */
static void free_retired(struct vnc_server *srv, bool force)
{
	uint64_t now = vnc_now_ns();
	struct retired_fb **pp = &srv->retired;
	int kept = 0;

	while (*pp) {
		struct retired_fb *r = *pp;

		if (force || now - r->when_ns >= RETIRE_GRACE_NS ||
		    kept >= RETIRE_MAX) {
			*pp = r->next;
			free(r->fb);
			free(r);
		} else {
			kept++;
			pp = &r->next;
		}
	}
}

/* Allocate a zeroed frame buffer; 0 or -1. */
static int fb_alloc(int w, int h, char **fb, pixman_image_t **img)
{
	*fb = calloc((size_t)w * (size_t)h, 4);
	if (!*fb)
		return -1;
	*img = pixman_image_create_bits(FB_FORMAT, w, h, (uint32_t *)*fb,
					w * 4);
	if (!*img) {
		free(*fb);
		return -1;
	}
	return 0;
}

/*
 * A new frame buffer size is coming (fb_lock held). libvncserver sends it
 * only to the clients that have announced DesktopSize by the time
 * rfbNewFramebuffer() runs: mark those as told here, just before it (the
 * flag does not go back). on_update_request() tells the others.
 */
static void size_gen_bump(struct vnc_server *srv)
{
	unsigned gen = atomic_fetch_add(&srv->fb_gen, 1) + 1;

	pthread_mutex_lock(&srv->clients_lock);
	for (struct vnc_client *vc = srv->clients; vc; vc = vc->next)
		if (vc->cl->useNewFBSize)
			atomic_store(&vc->fb_gen, gen);
	pthread_mutex_unlock(&srv->clients_lock);
}

/* Clients whose sendMutex new_framebuffer() holds. */
struct held_clients {
	rfbClientPtr *cl;
	int n, cap;
};

static void release_clients(struct held_clients *h)
{
	for (int i = 0; i < h->n; i++) {
		pthread_mutex_unlock(&h->cl[i]->sendMutex);
		rfbDecrClientRef(h->cl[i]);
	}
	free(h->cl);
}

/*
 * Take every client's sendMutex (no encoder then reads the frame buffer),
 * waiting for a busy client until deadline at most; false: none is held.
 * A reference keeps each held client from being freed.
 */
static bool hold_clients(rfbScreenInfoPtr s, struct held_clients *h,
			 const struct timespec *deadline)
{
	rfbClientIteratorPtr it = rfbGetClientIterator(s);
	rfbClientPtr cl;
	bool ok = true;

	*h = (struct held_clients){ 0 };
	while (ok && (cl = rfbClientIteratorNext(it))) {
		if (h->n == h->cap) {
			int cap = h->cap ? h->cap * 2 : 16;
			rfbClientPtr *p = realloc(h->cl, (size_t)cap * sizeof(*p));

			if (!p) {
				ok = false;
				break;
			}
			h->cl = p;
			h->cap = cap;
		}
		if (pthread_mutex_trylock(&cl->sendMutex) &&
		    pthread_mutex_timedlock(&cl->sendMutex, deadline)) {
			ok = false;
			break;
		}
		rfbIncrClientRef(cl);
		h->cl[h->n++] = cl;
	}
	rfbReleaseClientIterator(it);
	if (!ok) {
		release_clients(h);
		*h = (struct held_clients){ 0 };
	}
	return ok;
}

/* How long a size change waits for a client busy sending, per try. */
#define RESIZE_WAIT_MS 50
#define RESIZE_RETRY_MS 100

/*
 * rfbNewFramebuffer() without waiting for a stalled client. It takes each
 * client's sendMutex in turn with a plain lock, holding the ones it has
 * while it waits for the next: a viewer that stopped reading (its output
 * thread blocked in a write, sendMutex held, for up to 5 s) held every
 * other viewer's output, and this thread, until libvncserver gave it up.
 * Worse, it unlocks in a second pass over the client list, which skips a
 * client closed in between: that client's sendMutex stays locked and its
 * rfbClientConnectionGone() waits forever. Here the locks are taken within
 * RESIZE_WAIT_MS or not at all (the update thread tries again), and
 * released from our own list. The pixel format never changes (always 32
 * bpp, 8 bits per colour), so no translation table needs redoing.
 * fb_lock held; false: nothing changed.
 */
static bool new_framebuffer(struct vnc_server *srv, char *fb, int w, int h)
{
	rfbScreenInfoPtr s = srv->screen;
	struct held_clients held;
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += RESIZE_WAIT_MS * 1000000L;
	deadline.tv_sec += deadline.tv_nsec / 1000000000L;
	deadline.tv_nsec %= 1000000000L;
	if (!hold_clients(s, &held, &deadline))
		return false;
	pthread_mutex_lock(&s->cursorMutex);
	s->width = w;
	s->height = h;
	s->paddedWidthInBytes = w * 4;
	s->frameBuffer = fb;
	if (s->cursorX >= w)
		s->cursorX = w - 1;
	if (s->cursorY >= h)
		s->cursorY = h - 1;
	pthread_mutex_unlock(&s->cursorMutex);
	for (int i = 0; i < held.n; i++) {
		rfbClientPtr cl = held.cl[i];

		pthread_mutex_lock(&cl->updateMutex);
		sraRgnDestroy(cl->modifiedRegion);
		cl->modifiedRegion = sraRgnCreateRect(0, 0, w, h);
		sraRgnMakeEmpty(cl->copyRegion);
		cl->copyDX = 0;
		cl->copyDY = 0;
		/* DesktopSize / ExtendedDesktopSize with the next update. */
		if (cl->useNewFBSize)
			cl->newFBSizePending = TRUE;
		pthread_cond_signal(&cl->updateCond);
		pthread_mutex_unlock(&cl->updateMutex);
	}
	release_clients(&held);
	return true;
}

/*
 * Copy the whole surface, resizing the frame buffer when the surface's size
 * changed. No surface: the picture goes black at the old size. fb_lock held.
 */
static void full_sync(struct vnc_server *srv)
{
	char *nfb = NULL, *old;
	pixman_image_t *nimg = NULL, *s;
	int w = srv->fb_w, h = srv->fb_h;
	/* After a size change found a client busy, the old size (with what
	 * of the picture fits) until the next try. */
	bool may_resize = vnc_now_ns() >= srv->resize_next_ns;

	atomic_store(&srv->resize_retry, false);
	s = console_lock(srv->con);
	if (s) {
		w = pixman_image_get_width(s);
		h = pixman_image_get_height(s);
		if ((w != srv->fb_w || h != srv->fb_h) && !may_resize) {
			atomic_store(&srv->resize_retry, true);
			w = srv->fb_w;
			h = srv->fb_h;
		} else if ((w != srv->fb_w || h != srv->fb_h) &&
			   fb_alloc(w, h, &nfb, &nimg)) {
			log_ratelimited(LOG_WARN, "vnc: no memory for a %dx%d frame buffer",
					w, h);
			s = NULL;
			w = srv->fb_w;
			h = srv->fb_h;
		}
	}
	if (s)
		pixman_image_composite32(PIXMAN_OP_SRC, s, NULL,
					 nimg ? nimg : srv->fb_img, 0, 0, 0, 0,
					 0, 0, w, h);
	else
		memset(srv->fb, 0, (size_t)srv->fb_w * (size_t)srv->fb_h * 4);
	console_unlock(srv->con);

	if (nfb) {
		/* Sends DesktopSize / ExtendedDesktopSize to clients that
		 * support it and marks everything modified. */
		size_gen_bump(srv);
		if (!new_framebuffer(srv, nfb, w, h)) {
			pixman_image_unref(nimg);
			free(nfb);
			srv->resize_next_ns = vnc_now_ns() +
					      RESIZE_RETRY_MS * 1000000ull;
			full_sync(srv);         /* at the old size */
			return;
		}
		old = srv->fb;
		pixman_image_unref(srv->fb_img);
		srv->fb = nfb;
		srv->fb_img = nimg;
		srv->fb_w = w;
		srv->fb_h = h;
		retire_fb(srv, old);
	}
	rfbMarkRectAsModified(srv->screen, 0, 0, srv->fb_w, srv->fb_h);
}

/* Copy the damaged rectangles. fb_lock held. */
static void copy_damage(struct vnc_server *srv, pixman_region32_t *damage)
{
	pixman_box32_t *b;
	pixman_image_t *s;
	int n;

	b = pixman_region32_rectangles(damage, &n);
	if (!n)
		return;
	s = console_lock(srv->con);
	if (!s || pixman_image_get_width(s) != srv->fb_w ||
	    pixman_image_get_height(s) != srv->fb_h) {
		/* A surface change is on its way; take it now. */
		console_unlock(srv->con);
		full_sync(srv);
		return;
	}
	for (int i = 0; i < n; i++)
		pixman_image_composite32(PIXMAN_OP_SRC, s, NULL, srv->fb_img,
					 b[i].x1, b[i].y1, 0, 0, b[i].x1,
					 b[i].y1, b[i].x2 - b[i].x1,
					 b[i].y2 - b[i].y1);
	console_unlock(srv->con);
	for (int i = 0; i < n; i++)
		rfbMarkRectAsModified(srv->screen, b[i].x1, b[i].y1, b[i].x2,
				      b[i].y2);
}

static int client_count(struct vnc_server *srv)
{
	int n;

	pthread_mutex_lock(&srv->clients_lock);
	n = srv->nclients;
	pthread_mutex_unlock(&srv->clients_lock);
	return n;
}

/*
 * Attach the console listener while clients are connected (the producer
 * refreshes only while someone watches), then bring the frame buffer up to
 * date. fb_lock held.
 */
static void service_locked(struct vnc_server *srv)
{
	pixman_region32_t damage;
	int n = client_count(srv);
	bool surface;

	if (n > 0 && !atomic_load(&srv->attached)) {
		/* Calls surface_changed at once: a full sync follows. */
		console_add_listener(srv->con, &srv->listener);
		atomic_store(&srv->attached, true);
		/* Cursor and LED changes while detached were not seen
		 * (a client can be connected then: one arriving while the
		 * last one leaves). The router stores the LED state before
		 * it notifies, so this read is never older than srv->leds. */
		pthread_mutex_lock(&srv->pend_lock);
		srv->pend_cursor = true;
		srv->leds = console_input_leds(srv->con);
		srv->pend_leds = true;
		pthread_mutex_unlock(&srv->pend_lock);
	} else if (n == 0 && atomic_load(&srv->attached)) {
		console_remove_listener(srv->con, &srv->listener);
		atomic_store(&srv->attached, false);
	}

	pixman_region32_init(&damage);
	pthread_mutex_lock(&srv->pend_lock);
	surface = srv->pend_surface || atomic_load(&srv->resize_retry);
	srv->pend_surface = false;
	pixman_region32_copy(&damage, &srv->pend_damage);
	pixman_region32_clear(&srv->pend_damage);
	pthread_mutex_unlock(&srv->pend_lock);

	if (atomic_load(&srv->attached)) {
		if (surface)
			full_sync(srv);
		else
			copy_damage(srv, &damage);
	}
	pixman_region32_fini(&damage);
}

/* ---- console listener (producer's thread, console lock held) ---------- */

static void on_surface_changed(void *opaque, struct console *c)
{
	struct vnc_server *srv = opaque;

	(void)c;
	pthread_mutex_lock(&srv->pend_lock);
	srv->pend_surface = true;
	pixman_region32_clear(&srv->pend_damage);
	pthread_cond_signal(&srv->pend_cond);
	pthread_mutex_unlock(&srv->pend_lock);
}

static void on_damage(void *opaque, const pixman_box32_t *b)
{
	struct vnc_server *srv = opaque;

	pthread_mutex_lock(&srv->pend_lock);
	pixman_region32_union_rect(&srv->pend_damage, &srv->pend_damage,
				   b->x1, b->y1, (unsigned)(b->x2 - b->x1),
				   (unsigned)(b->y2 - b->y1));
	pthread_cond_signal(&srv->pend_cond);
	pthread_mutex_unlock(&srv->pend_lock);
}

static void on_leds_changed(void *opaque, unsigned leds)
{
	struct vnc_server *srv = opaque;

	pthread_mutex_lock(&srv->pend_lock);
	srv->leds = leds;
	srv->pend_leds = true;
	pthread_cond_signal(&srv->pend_cond);
	pthread_mutex_unlock(&srv->pend_lock);
}

void vnc_wake_update(struct vnc_server *srv)
{
	pthread_mutex_lock(&srv->pend_lock);
	srv->pend_clients = true;
	pthread_cond_signal(&srv->pend_cond);
	pthread_mutex_unlock(&srv->pend_lock);
}

void vnc_client_arriving(struct vnc_server *srv)
{
	/*
	 * The first client attaches the console and gets a current frame
	 * before its thread starts (so its ServerInit has the right size).
	 * Later clients start from the frame buffer as it is; the wake-up
	 * covers a detach racing with this arrival.
	 */
	if (!atomic_load(&srv->attached)) {
		pthread_mutex_lock(&srv->fb_lock);
		service_locked(srv);
		pthread_mutex_unlock(&srv->fb_lock);
	}
	vnc_wake_update(srv);
}

/* Send the LED state to every client that asked; false: retry later. */
static bool send_leds(struct vnc_server *srv, unsigned leds)
{
	bool done = true;

	pthread_mutex_lock(&srv->clients_lock);
	for (struct vnc_client *vc = srv->clients; vc; vc = vc->next)
		if (vc->started && !vnc_qemu_ext_try_send_leds(vc, leds))
			done = false;
	pthread_mutex_unlock(&srv->clients_lock);
	return done;
}

/*
 * libvncserver 0.9.14's output thread looks at cl->state before it takes
 * updateMutex to wait for updates, and the closing input thread signals
 * updateCond only before it sets RFB_SHUTDOWN and once after, under that
 * mutex: a close landing between the look and the wait leaves the output
 * thread waiting for the next screen change, and the input thread joining
 * it. On a still console that client (two threads, its descriptors, its
 * place among max_clients) stayed for good. Signal closing clients again.
 * clients_lock keeps cl and its mutex valid (on_client_gone() unlinks the
 * client under it before libvncserver frees anything); trylock: never wait
 * for a client here. Returns whether any client is connected (the caller
 * then comes back in a while).
 */
static bool kick_closing(struct vnc_server *srv)
{
	bool any;

	pthread_mutex_lock(&srv->clients_lock);
	any = srv->clients != NULL;
	for (struct vnc_client *vc = srv->clients; vc; vc = vc->next) {
		rfbClientPtr cl = vc->cl;

		if (__atomic_load_n(&cl->state, __ATOMIC_RELAXED) != RFB_SHUTDOWN ||
		    pthread_mutex_trylock(&cl->updateMutex))
			continue;
		pthread_cond_signal(&cl->updateCond);
		pthread_mutex_unlock(&cl->updateMutex);
	}
	pthread_mutex_unlock(&srv->clients_lock);
	return any;
}

static void *update_thread(void *arg)
{
	struct vnc_server *srv = arg;
	bool led_retry = false, cursor_retry = false, watch = false;

	for (;;) {
		bool leds_due, cursor_due, timed;
		unsigned leds;
		struct timespec ts;

		pthread_mutex_lock(&srv->pend_lock);
		while (!srv->update_stop && !srv->pend_surface &&
		       !pixman_region32_not_empty(&srv->pend_damage) &&
		       !srv->pend_leds && !srv->pend_clients &&
		       !srv->pend_cursor) {
			timed = led_retry || cursor_retry || srv->retired ||
				watch || atomic_load(&srv->resize_retry);
			if (!timed) {
				pthread_cond_wait(&srv->pend_cond,
						  &srv->pend_lock);
				continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += (led_retry ? LED_RETRY_MS :
				       atomic_load(&srv->resize_retry) ?
				       RESIZE_RETRY_MS : 250) * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			if (pthread_cond_timedwait(&srv->pend_cond,
						   &srv->pend_lock,
						   &ts) == ETIMEDOUT)
				break;
		}
		if (srv->update_stop) {
			pthread_mutex_unlock(&srv->pend_lock);
			break;
		}
		leds = srv->leds;
		leds_due = srv->pend_leds || led_retry;
		srv->pend_leds = false;
		cursor_due = srv->pend_cursor || cursor_retry;
		srv->pend_cursor = false;
		srv->pend_clients = false;
		pthread_mutex_unlock(&srv->pend_lock);

		pthread_mutex_lock(&srv->fb_lock);
		service_locked(srv);
		free_retired(srv, false);
		pthread_mutex_unlock(&srv->fb_lock);

		if (leds_due)
			led_retry = !send_leds(srv, leds);
		if (cursor_due)
			cursor_retry = !vnc_cursor_apply(srv);
		watch = kick_closing(srv);
	}
	return NULL;
}

/* ---- libvncserver hooks (client threads) ------------------------------ */

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc_server *srv = cl->screen->screenData;
	unsigned xt = keymap_keysym_to_xt((uint32_t)keysym);

	if (cl->viewOnly)       /* libvncserver checks too; be sure */
		return;
	if (!xt) {
		log_ratelimited(LOG_DEBUG, "vnc: %s: no key for keysym 0x%x",
				cl->host, (unsigned)keysym);
		return;
	}
	console_input_key(srv->con, xt, down);
}

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc_server *srv = cl->screen->screenData;
	int w = cl->screen->width, h = cl->screen->height;

	if (cl->viewOnly)
		return;
	/* Viewers send coordinates as they please. */
	x = x < 0 ? 0 : x >= w ? w - 1 : x;
	y = y < 0 ? 0 : y >= h ? h - 1 : y;
	console_input_pointer(srv->con, x, y, (unsigned)mask & 0x7F);
}

/* Clipboard from the viewer: not forwarded anywhere (yet). Setting both
 * hooks keeps libvncserver from doing anything else with the text. */
static void on_cut_text(char *str, int len, rfbClientPtr cl)
{
	(void)str;
	(void)len;
	(void)cl;
}

static void on_client_gone(rfbClientPtr cl)
{
	struct vnc_client *vc = cl->clientData;
	struct vnc_server *srv;
	bool linked = false;

	if (!vc)
		return;
	srv = vc->srv;
	pthread_mutex_lock(&srv->clients_lock);
	for (struct vnc_client **pp = &srv->clients; *pp; pp = &(*pp)->next) {
		if (*pp == vc) {
			*pp = vc->next;
			srv->nclients--;
			linked = true;
			break;
		}
	}
	if (vc->started) {
		/* We are on the client's thread; the accept thread joins
		 * it (libvncserver never does). */
		if (srv->nreap == srv->reap_cap) {
			int cap = srv->reap_cap ? srv->reap_cap * 2 : 16;
			pthread_t *r = realloc(srv->reap, (size_t)cap *
					       sizeof(*r));

			if (r) {
				srv->reap = r;
				srv->reap_cap = cap;
			}
		}
		if (srv->nreap < srv->reap_cap)
			srv->reap[srv->nreap++] = pthread_self();
		else
			pthread_detach(pthread_self());
	}
	pthread_cond_broadcast(&srv->clients_cond);
	pthread_mutex_unlock(&srv->clients_lock);

	if (vc->shut_fd >= 0)
		close(vc->shut_fd);
	/* libvncserver 0.9.14 never frees the extension records. */
	for (rfbExtensionData *e = cl->extensions, *next; e; e = next) {
		next = e->next;
		free(e);
	}
	cl->extensions = NULL;
	if (linked)
		console_input_release_all(srv->con);
	cl->clientData = NULL;
	free(vc);

	if (linked) {
		uint64_t one = 1;

		if (write(srv->wake_fd, &one, sizeof(one)) < 0)
			log_ratelimited(LOG_WARN, "vnc: eventfd: %s",
					strerror(errno));
		vnc_wake_update(srv);
	}
}

/*
 * A FramebufferUpdateRequest (client thread). A size change between a
 * client's ServerInit and its SetEncodings with DesktopSize (a viewer
 * connecting while the guest switches mode) is never sent by libvncserver:
 * the client was not asking for it when rfbNewFramebuffer() ran, and
 * nothing tells it later. It kept the old size for good, its picture
 * clipped or never complete. So a client that now takes DesktopSize but
 * has not been told of the latest size gets it before its next update.
 */
static void on_update_request(rfbClientPtr cl,
			      rfbFramebufferUpdateRequestMsg *msg)
{
	struct vnc_client *vc = cl->clientData;
	unsigned gen;

	(void)msg;
	if (!vc || !cl->useNewFBSize)
		return;
	gen = atomic_load(&vc->srv->fb_gen);
	if (atomic_exchange(&vc->fb_gen, gen) == gen)
		return;
	pthread_mutex_lock(&cl->updateMutex);
	cl->newFBSizePending = TRUE;
	pthread_mutex_unlock(&cl->updateMutex);
}

/*
 * libvncserver's displayFinishedHook: a client's output thread has sent an
 * update (cl->sendMutex held).
 *
 * libvncserver 0.9.14 chooses between a size message (DesktopSize,
 * ExtendedDesktopSize) and a picture at the top of
 * rfbSendFramebufferUpdate() without updateMutex; the picture path then
 * takes it and empties the requested region. A FramebufferUpdateRequest
 * read in between was answered by that picture, and the size message it
 * made due then waited for another request. libvncclient sends
 * SetDesktopSize, one full request, and no request after that until an
 * ExtendedDesktopSize arrives: neither the answer nor the new size ever
 * reached it (vncresize kept 1024x768 while the guest showed 1280x720).
 * Give the consumed request back, so a size message due after a picture
 * always goes out.
 */
static void on_update_sent(rfbClientPtr cl, int result)
{
	vnc_qemu_ext_update_sent(cl, result);
	if (!result)
		return;
	pthread_mutex_lock(&cl->updateMutex);
	if (cl->useNewFBSize && cl->newFBSizePending &&
	    sraRgnEmpty(cl->requestedRegion)) {
		/* The size under sendMutex, which resizes hold. */
		sraRegionPtr all = sraRgnCreateRect(0, 0, cl->screen->width,
						    cl->screen->height);

		sraRgnOr(cl->requestedRegion, all);
		sraRgnDestroy(all);
	}
	pthread_mutex_unlock(&cl->updateMutex);
}

static enum rfbNewClientAction on_new_client(rfbClientPtr cl)
{
	struct vnc_client *vc = calloc(1, sizeof(*vc));

	if (!vc)
		return RFB_CLIENT_REFUSE;
	vc->srv = cl->screen->screenData;
	vc->cl = cl;
	vc->shut_fd = -1;
	vc->leds_sent = -1;
	cl->clientData = vc;
	cl->clientGoneHook = on_client_gone;
	/* Its ServerInit has this size or a later one. */
	atomic_store(&vc->fb_gen, atomic_load(&vc->srv->fb_gen));
	cl->clientFramebufferUpdateRequestHook = on_update_request;
	/* net.c starts the client's thread once the socket is in place. */
	return RFB_CLIENT_ON_HOLD;
}

/* ---- creation --------------------------------------------------------- */

/*
 * libvncserver 0.9.14 never releases the client iterator it takes after a
 * successful setDesktopSizeHook: 24 bytes per accepted request (upstream
 * #724). LeakSanitizer would fail every ASan run in which a viewer
 * resized; the rate limit below bounds what a client can make it leak.
 * Weak, so that a test program can list its own suppressions.
 */
__attribute__((weak)) const char *__lsan_default_suppressions(void);
__attribute__((weak)) const char *__lsan_default_suppressions(void)
{
	return "leak:rfbGetClientIterator\n";
}

#define RESIZE_MIN_INTERVAL_NS 50000000ull

/* A viewer's SetDesktopSize: ask the display (a virtio-gpu can offer the
 * size to the guest; the new size reaches viewers when the guest sets it).
 * At most one accepted request per RESIZE_MIN_INTERVAL_NS (see above);
 * viewers debounce window resizes far more than that. */
static int on_set_desktop_size(int width, int height, int nscreens,
			       struct rfbExtDesktopScreen *screens,
			       rfbClientPtr cl)
{
	struct vnc_server *srv = cl->screen->screenData;
	uint64_t now = vnc_now_ns(), last = atomic_load(&srv->resize_ns);

	(void)nscreens;
	(void)screens;
	if (now - last < RESIZE_MIN_INTERVAL_NS ||
	    !atomic_compare_exchange_strong(&srv->resize_ns, &last, now)) {
		log_ratelimited(LOG_INFO, "vnc: %s: SetDesktopSize too often, "
				"refused", cl->host);
		return rfbExtDesktopSize_OutOfResources;
	}
	if (console_request_resize(srv->con, width, height) < 0)
		return rfbExtDesktopSize_ResizeProhibited;
	return rfbExtDesktopSize_Success;
}

static int make_screen(struct vnc_server *srv, char *err, size_t errlen)
{
	rfbScreenInfoPtr s;
	int w, h;

	console_get_size(srv->con, &w, &h);
	if (w <= 0 || h <= 0) {
		w = 640;
		h = 480;
	}
	if (fb_alloc(w, h, &srv->fb, &srv->fb_img)) {
		snprintf(err, errlen, "vnc: out of memory");
		return -1;
	}
	srv->fb_w = w;
	srv->fb_h = h;
	s = rfbGetScreen(NULL, NULL, w, h, 8, 3, 4);
	if (!s) {
		snprintf(err, errlen, "vnc: cannot create the libvncserver screen");
		return -1;
	}
	srv->screen = s;
	if (s->serverFormat.redShift != 0 || s->serverFormat.greenShift != 8 ||
	    s->serverFormat.blueShift != 16 || s->serverFormat.bitsPerPixel != 32) {
		snprintf(err, errlen, "vnc: unexpected libvncserver pixel format");
		return -1;
	}
	s->frameBuffer = srv->fb;
	s->screenData = srv;
	s->desktopName = console_name(srv->con);
	/* libvncserver listens on nothing and serves no HTTP: net.c owns
	 * the sockets. backgroundLoop without rfbRunEventLoop(): client
	 * threads only, no listener thread. */
	s->port = -1;
	s->ipv6port = -1;
	s->httpPort = -1;
	s->http6Port = -1;
	s->httpDir = NULL;
	s->autoPort = FALSE;
	s->backgroundLoop = TRUE;
	/* No server-side cursor: libvncserver would draw it into the frame
	 * buffer. */
	s->cursor = NULL;
	/* The guest's cursor goes to viewers with cursor encodings only. */
	vnc_cursor_setup(srv);
	/* Several viewers share the console; a client asking for exclusive
	 * access does not disconnect the others. */
	s->alwaysShared = TRUE;
	s->maxClientWait = srv->max_client_wait_ms;
	s->kbdAddEvent = on_key;
	s->ptrAddEvent = on_pointer;
	/* Every pointer event at once. libvncserver otherwise holds motion
	 * without a button change back for rfbProcessEvents() to flush,
	 * which the threaded server never calls: a pointer that only moved
	 * reached the guest with the next click. */
	s->deferPtrUpdateTime = 0;
	/* Updates at once. libvncserver otherwise sleeps 5 ms before each
	 * one to gather more damage, but ours comes in whole batches (one
	 * per display refresh), so the wait only added latency: with it,
	 * key to echo took 9.5 ms at the median, without it 4.5 ms. */
	s->deferUpdateTime = 0;
	s->setDesktopSizeHook = on_set_desktop_size;
	s->setXCutText = on_cut_text;
	s->setXCutTextUTF8 = on_cut_text;
	s->newClientHook = on_new_client;
	s->displayFinishedHook = on_update_sent;
	if (srv->password) {
		/* Any non-NULL value makes libvncserver offer VNC auth. */
		s->authPasswdData = srv->password;
		s->passwordCheck = vnc_auth_check;
	}
	return 0;
}

static void free_server(struct vnc_server *srv)
{
	if (srv->screen)
		rfbScreenCleanup(srv->screen);
	vnc_cursor_free(srv);
	free_retired(srv, true);
	if (srv->fb_img)
		pixman_image_unref(srv->fb_img);
	free(srv->fb);
	free(srv->reap);
	vnc_auth_free(srv);
	vnc_tls_free(srv->tls);
	pthread_mutex_destroy(&srv->tls_lock);
	if (srv->wake_fd >= 0)
		close(srv->wake_fd);
	pixman_region32_fini(&srv->pend_damage);
	pthread_mutex_destroy(&srv->fb_lock);
	pthread_mutex_destroy(&srv->pend_lock);
	pthread_cond_destroy(&srv->pend_cond);
	pthread_mutex_destroy(&srv->clients_lock);
	pthread_cond_destroy(&srv->clients_cond);
	pthread_mutex_destroy(&srv->auth_lock);
	free(srv);
}

static int positive_or(int v, int def)
{
	return v > 0 ? v : def;
}

struct vnc_server *vnc_server_create(struct console *con,
				     const struct vnc_config *cfg, char *err,
				     size_t errlen)
{
	static const struct vnc_config defaults;
	struct vnc_server *srv;
	pthread_condattr_t ca;

	if (errlen)
		err[0] = 0;
	if (!cfg)
		cfg = &defaults;
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "vnc: out of memory");
		return NULL;
	}
	srv->con = con;
	srv->wake_fd = -1;
	srv->listen_fd = -1;
	pthread_mutex_init(&srv->fb_lock, NULL);
	pthread_mutex_init(&srv->pend_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->pend_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&srv->clients_lock, NULL);
	pthread_cond_init(&srv->clients_cond, NULL);
	pthread_mutex_init(&srv->auth_lock, NULL);
	pthread_mutex_init(&srv->tls_lock, NULL);
	pixman_region32_init(&srv->pend_damage);
	srv->max_clients = positive_or(cfg->max_clients, 32);
	srv->max_client_wait_ms = positive_or(cfg->max_client_wait_ms, 5000);
	srv->auth_delay_ms = positive_or(cfg->auth_delay_ms, 250);
	srv->auth_lockout_failures = positive_or(cfg->auth_lockout_failures, 8);
	srv->auth_lockout_s = positive_or(cfg->auth_lockout_s, 60);
	srv->handshake_timeout_ms = positive_or(cfg->handshake_timeout_ms,
						10000);
	srv->direct_handover = cfg->direct_handover;
	srv->listener = (struct console_listener){
		.surface_changed = on_surface_changed,
		.damage = on_damage,
		.leds_changed = on_leds_changed,
		.cursor_changed = vnc_cursor_on_changed,
		.opaque = srv,
	};

	if (vnc_parse_listen(cfg->listen, &srv->listen, err, errlen) ||
	    vnc_auth_load(srv, cfg->password_file, err, errlen))
		goto fail;
	if (cfg->tls_verify_client && !cfg->tls_dir) {
		snprintf(err, errlen, "--tls-verify-client needs --tls-dir");
		goto fail;
	}
	if (cfg->tls_dir) {
		srv->tls = vnc_tls_load(cfg->tls_dir, cfg->tls_verify_client,
					err, errlen);
		if (!srv->tls)
			goto fail;
	}
	/* libvncserver writes without MSG_NOSIGNAL: a viewer closing its
	 * end mid-update must not kill the VMM. */
	signal(SIGPIPE, SIG_IGN);
	rfbLog = rfb_log;
	rfbErr = rfb_log;
	vnc_qemu_ext_register();
	if (make_screen(srv, err, errlen))
		goto fail;
	srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->wake_fd < 0) {
		snprintf(err, errlen, "vnc: eventfd: %s", strerror(errno));
		goto fail;
	}
	if (vnc_net_listen(srv, err, errlen))
		goto fail;
	if (pthread_create(&srv->update_thread, NULL, update_thread, srv)) {
		snprintf(err, errlen, "vnc: cannot start a thread");
		goto fail;
	}
	srv->update_started = true;
	if (pthread_create(&srv->accept_thread, NULL, vnc_accept_thread, srv)) {
		snprintf(err, errlen, "vnc: cannot start a thread");
		goto fail;
	}
	srv->accept_started = true;
	return srv;
fail:
	if (srv->update_started) {
		pthread_mutex_lock(&srv->pend_lock);
		srv->update_stop = true;
		pthread_cond_signal(&srv->pend_cond);
		pthread_mutex_unlock(&srv->pend_lock);
		pthread_join(srv->update_thread, NULL);
	}
	vnc_net_close(srv);
	free_server(srv);
	return NULL;
}

void vnc_server_destroy(struct vnc_server *srv)
{
	uint64_t one = 1;

	if (!srv)
		return;
	atomic_store(&srv->stopping, true);
	if (srv->accept_started) {
		if (write(srv->wake_fd, &one, sizeof(one)) < 0)
			log_warn("vnc: eventfd: %s", strerror(errno));
		pthread_join(srv->accept_thread, NULL);
	}
	vnc_net_close(srv);
	/* VeNCrypt connections end and close their libvncserver pairs. */
	vnc_vencrypt_stop(srv);

	/* Disconnect every client: shutting the socket down wakes its
	 * threads wherever they wait; they then run on_client_gone(). */
	pthread_mutex_lock(&srv->clients_lock);
	while (srv->nclients) {
		struct timespec ts;

		for (struct vnc_client *vc = srv->clients; vc; vc = vc->next)
			shutdown(vc->shut_fd, SHUT_RDWR);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&srv->clients_cond, &srv->clients_lock,
				       &ts);
	}
	pthread_mutex_unlock(&srv->clients_lock);
	for (int i = 0; i < srv->nreap; i++)
		pthread_join(srv->reap[i], NULL);
	srv->nreap = 0;

	pthread_mutex_lock(&srv->pend_lock);
	srv->update_stop = true;
	pthread_cond_signal(&srv->pend_cond);
	pthread_mutex_unlock(&srv->pend_lock);
	pthread_join(srv->update_thread, NULL);

	if (atomic_load(&srv->attached))
		console_remove_listener(srv->con, &srv->listener);
	free_server(srv);
}

int vnc_server_client_count(struct vnc_server *srv)
{
	return srv ? client_count(srv) : 0;
}

int vnc_server_port(struct vnc_server *srv)
{
	return srv ? srv->bound_port : -1;
}
