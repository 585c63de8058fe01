// SPDX-License-Identifier: MIT
/*
 * The guest's cursor (a virtio-gpu hardware cursor, through the console's
 * cursor API) as a cursor shape for viewers: the RichCursor and XCursor
 * pseudo-encodings, so the pointer moves at the viewer's own speed instead
 * of one network round trip behind.
 *
 * How it meets libvncserver 0.9.14:
 *  - screen->cursor stays NULL. For viewers without cursor encodings,
 *    libvncserver would draw screen->cursor into the shared frame buffer
 *    before each update and restore the pixels under it afterwards, racing
 *    with the update thread that copies guest damage into that buffer
 *    (a restore would put back stale pixels). Instead our cursor is handed
 *    out through screen->getCursorPtr, which only the cursor-shape encoder
 *    (rfbSendCursorShape) calls. Viewers without cursor encodings see no
 *    cursor of a virtio-gpu guest.
 *  - Each shape is a complete rfbCursor: rich source (server pixel format),
 *    X source bitmap with black/white colours, and mask, so the encoder
 *    never converts (rfbSendCursorShape converts lazily and in place, from
 *    several client threads at once).
 *  - The encoder reads the cursor after getCursorPtr() without any lock,
 *    possibly after a write that waited up to maxClientWait: a replaced
 *    cursor is freed only after that plus a second. At most
 *    CURSOR_RETIRE_MAX (each under 33 KiB) are waiting; beyond that,
 *    changes wait (the latest one wins), which bounds the memory a guest
 *    changing its cursor in a loop can make us hold.
 *  - The whole shape must fit libvncserver's update buffer
 *    (UPDATE_BUF_SIZE), or the client is dropped: the image is cut to its
 *    visible pixels, then, if still too large, to a window around the
 *    hotspot.
 *  - No cursor position (PointerPos) is sent: viewers draw the shape at
 *    their own pointer, and the guest's cursor follows that pointer through
 *    the absolute tablet; echoing the guest's position back would only pull
 *    the local pointer back by a round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "vmm/log.h"
#include "vnc/vnc_int.h"

/* Enough for a desktop changing shapes as the pointer crosses widgets
 * (about 20 a second for the grace period) at a few MiB at most. */
#define CURSOR_RETIRE_MAX 128
/* Header (12), X colours (6) and some slack around the data. */
#define CURSOR_MAX_BYTES (UPDATE_BUF_SIZE - 64)
#define CURSOR_WINDOW 64

struct retired_cursor {
	rfbCursorPtr c;
	uint64_t when_ns;
	struct retired_cursor *next;
};

/* Client threads, from rfbSendCursorShape(). */
static rfbCursorPtr get_cursor(rfbClientPtr cl)
{
	struct vnc_server *srv = cl->screen->screenData;
	rfbCursorPtr c;

	pthread_mutex_lock(&cl->screen->cursorMutex);
	c = srv->cursor;
	pthread_mutex_unlock(&cl->screen->cursorMutex);
	return c;
}

void vnc_cursor_setup(struct vnc_server *srv)
{
	srv->screen->cursor = NULL;
	srv->screen->getCursorPtr = get_cursor;
}

/* Console listener (producer's thread, console lock held): record only. */
void vnc_cursor_on_changed(void *opaque, struct console *c)
{
	struct vnc_server *srv = opaque;

	(void)c;
	pthread_mutex_lock(&srv->pend_lock);
	srv->pend_cursor = true;
	pthread_cond_signal(&srv->pend_cond);
	pthread_mutex_unlock(&srv->pend_lock);
}

/* Free retired cursors past their grace period (all: force); the number
 * still waiting. */
static int free_retired(struct vnc_server *srv, bool force)
{
	uint64_t now = vnc_now_ns();
	uint64_t grace = ((uint64_t)srv->max_client_wait_ms + 1000) * 1000000ull;
	struct retired_cursor **pp = &srv->cursors_retired;
	int kept = 0;

	while (*pp) {
		struct retired_cursor *r = *pp;

		if (force || now - r->when_ns >= grace) {
			*pp = r->next;
			rfbFreeCursor(r->c);
			free(r);
		} else {
			kept++;
			pp = &r->next;
		}
	}
	return kept;
}

/* The rectangle of a w x h ARGB image to send: its visible pixels, cut
 * to a window around the hotspot if that is still too large. False: no
 * visible pixel. */
static bool crop(const uint32_t *px, int w, int h, int hx, int hy, int *x0,
		 int *y0, int *cw, int *ch)
{
	int bx0 = w, by0 = h, bx1 = 0, by1 = 0;

	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			if (!(px[y * w + x] >> 24))
				continue;
			bx0 = x < bx0 ? x : bx0;
			bx1 = x + 1 > bx1 ? x + 1 : bx1;
			by0 = y < by0 ? y : by0;
			by1 = y + 1 > by1 ? y + 1 : by1;
		}
	}
	if (bx1 <= bx0)
		return false;
	*x0 = bx0;
	*y0 = by0;
	*cw = bx1 - bx0;
	*ch = by1 - by0;
	if ((size_t)*cw * (size_t)*ch * 4 + (size_t)((*cw + 7) / 8) * (size_t)*ch <=
	    CURSOR_MAX_BYTES)
		return true;
	/* Keep the hotspot inside the window where the visible box allows. */
	if (*cw > CURSOR_WINDOW) {
		int x = hx - CURSOR_WINDOW / 2;

		x = x > bx1 - CURSOR_WINDOW ? bx1 - CURSOR_WINDOW : x;
		*x0 = x < bx0 ? bx0 : x;
		*cw = CURSOR_WINDOW;
	}
	if (*ch > CURSOR_WINDOW) {
		int y = hy - CURSOR_WINDOW / 2;

		y = y > by1 - CURSOR_WINDOW ? by1 - CURSOR_WINDOW : y;
		*y0 = y < by0 ? by0 : y;
		*ch = CURSOR_WINDOW;
	}
	return true;
}

/*
 * An rfbCursor from premultiplied ARGB: a pixel is shown when its alpha is
 * at least one half (the RFB mask has one bit), in its un-premultiplied
 * colour; the X cursor bitmap picks white for light pixels, black for dark.
 */
static rfbCursorPtr make_cursor(const uint32_t *px, int w, int h, int hx,
				int hy)
{
	int x0, y0, cw, ch, row;
	rfbCursorPtr c;

	if (!crop(px, w, h, hx, hy, &x0, &y0, &cw, &ch))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	row = (cw + 7) / 8;
	c->cleanup = c->cleanupSource = c->cleanupMask = TRUE;
	c->cleanupRichSource = TRUE;
	c->width = (unsigned short)cw;
	c->height = (unsigned short)ch;
	hx -= x0;
	hy -= y0;
	c->xhot = (unsigned short)(hx < 0 ? 0 : hx >= cw ? cw - 1 : hx);
	c->yhot = (unsigned short)(hy < 0 ? 0 : hy >= ch ? ch - 1 : hy);
	c->foreRed = c->foreGreen = c->foreBlue = 0xffff;
	c->richSource = calloc((size_t)cw * (size_t)ch, 4);
	c->source = calloc((size_t)row, (size_t)ch);
	c->mask = calloc((size_t)row, (size_t)ch);
	if (!c->richSource || !c->source || !c->mask) {
		rfbFreeCursor(c);
		return NULL;
	}
	for (int y = 0; y < ch; y++) {
		for (int x = 0; x < cw; x++) {
			uint32_t p = px[(y0 + y) * w + x0 + x];
			uint32_t a = p >> 24, rgb[3];
			uint8_t *d = c->richSource + ((size_t)y * cw + x) * 4;
			uint8_t bit = (uint8_t)(0x80 >> (x & 7));

			if (a < 0x80)
				continue;
			for (int i = 0; i < 3; i++) {
				uint32_t v = (p >> (16 - 8 * i)) & 0xff;

				v = (v * 255 + a / 2) / a;
				rgb[i] = v > 255 ? 255 : v;
			}
			/* Server format: red, green, blue shifts 0, 8, 16. */
			d[0] = (uint8_t)rgb[0];
			d[1] = (uint8_t)rgb[1];
			d[2] = (uint8_t)rgb[2];
			c->mask[y * row + x / 8] |= bit;
			if (rgb[0] * 3 + rgb[1] * 6 + rgb[2] >= 128 * 10)
				c->source[y * row + x / 8] |= bit;
		}
	}
	return c;
}

bool vnc_cursor_apply(struct vnc_server *srv)
{
	const struct console_cursor *cur;
	rfbScreenInfoPtr s = srv->screen;
	rfbClientIteratorPtr it;
	rfbClientPtr cl;
	uint32_t *px = NULL;
	int w = 0, h = 0, hx = 0, hy = 0;
	rfbCursorPtr c = NULL, old;
	unsigned serial;

	if (free_retired(srv, false) >= CURSOR_RETIRE_MAX)
		return false;
	console_lock(srv->con);
	cur = console_cursor_locked(srv->con);
	serial = cur->serial;
	if (srv->cursor_valid && serial == srv->cursor_serial) {
		console_unlock(srv->con);
		return true;
	}
	if (cur->pixels && cur->width > 0 && cur->height > 0 &&
	    cur->width <= CONSOLE_CURSOR_MAX && cur->height <= CONSOLE_CURSOR_MAX) {
		px = malloc((size_t)cur->width * (size_t)cur->height * 4);
		if (px) {
			memcpy(px, cur->pixels,
			       (size_t)cur->width * (size_t)cur->height * 4);
			w = cur->width;
			h = cur->height;
			hx = cur->hot_x;
			hy = cur->hot_y;
		}
	}
	console_unlock(srv->con);
	if (w && !px)
		return false;
	if (px) {
		c = make_cursor(px, w, h, hx, hy);
		free(px);
	}

	pthread_mutex_lock(&s->cursorMutex);
	old = srv->cursor;
	srv->cursor = c;
	it = rfbGetClientIterator(s);
	while ((cl = rfbClientIteratorNext(it)))
		cl->cursorWasChanged = TRUE;
	rfbReleaseClientIterator(it);
	pthread_mutex_unlock(&s->cursorMutex);
	srv->cursor_serial = serial;
	srv->cursor_valid = true;
	if (old) {
		struct retired_cursor *r = malloc(sizeof(*r));

		if (r) {
			r->c = old;
			r->when_ns = vnc_now_ns();
			r->next = srv->cursors_retired;
			srv->cursors_retired = r;
		} else {
			/* Leaking beats a use after free. */
			log_once(LOG_WARN, "vnc: out of memory retiring a cursor");
		}
	}
	/* Wake the senders; the shape goes with the next update. */
	rfbMarkRectAsModified(s, 0, 0, 1, 1);
	return true;
}

void vnc_cursor_free(struct vnc_server *srv)
{
	free_retired(srv, true);
	rfbFreeCursor(srv->cursor);
	srv->cursor = NULL;
}
