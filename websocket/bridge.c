// SPDX-License-Identifier: MIT
/*
 * The bridge: one accepted WebSocket <-> one socketpair whose other end is
 * a VNC client of the VMM's server.
 *
 * Our end of the pair is adopted by libwebsockets as a raw file descriptor
 * and made a child of the WebSocket's wsi, so both live in the one service
 * loop and the child is closed with its parent. Each direction has one
 * bounded buffer, and flow control instead of growth:
 *
 *   VNC -> browser: read at most OUT_CHUNK bytes from the pair, stop
 *   reading it (rx flow control on the raw wsi) until that chunk has gone
 *   out as one binary message; a slow browser thus fills the pair, and
 *   libvncserver's own write timeout drops its client; the WebSocket then
 *   gets FLUSH_TIMEOUT_S to take what is pending before it is closed.
 *
 *   browser -> VNC: write each received fragment to the pair; what does
 *   not fit is kept (at most IN_MAX bytes) and reading from the browser
 *   stops until the pair has taken it.
 *
 * Messages: binary only (noVNC's "binary" subprotocol); a text message or
 * one longer than MAX_MESSAGE closes that connection. A token that expires
 * while its connection is open closes the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vmm/log.h"
#include "websocket/web_int.h"

#define OUT_CHUNK 65536
#define IN_MAX (2 * 65536)
#define MAX_MESSAGE (1 << 20)
#define EXPIRY_CHECK_MAX_US (3600ll * 1000000)
#define FLUSH_TIMEOUT_S 5

struct bridge {
	struct lws *ws;                 /* NULL once closed */
	struct lws *raw;                /* our end of the pair; NULL once closed */
	int fd;
	bool counted;
	bool raw_eof;                   /* the VNC side is gone: flush, close */
	struct web_token_info token;
	char peer[64];
	size_t msg_len;                 /* bytes of the current message so far */
	/* VNC -> browser */
	unsigned char out[LWS_PRE + OUT_CHUNK];
	size_t out_len;
	/* browser -> VNC */
	unsigned char *in;
	size_t in_len, in_off;
};

/* Per-session data: lws allocates it for the WebSocket and for the raw
 * child alike; only the WebSocket's points at the bridge. */
struct pss {
	struct bridge *b;
};

size_t web_bridge_pss_size(void)
{
	return sizeof(struct pss);
}

static void bridge_free_if_done(struct bridge *b)
{
	if (b->ws || b->raw)
		return;
	free(b->in);
	free(b);
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void arm_expiry(struct bridge *b)
{
	int64_t left;

	if (!b->token.expires)
		return;
	left = (b->token.expires - now_s()) * 1000000;
	if (left < 1)
		left = 1;
	if (left > EXPIRY_CHECK_MAX_US)
		left = EXPIRY_CHECK_MAX_US;
	lws_set_timer_usecs(b->ws, (lws_usec_t)left);
}

static int on_established(struct lws *wsi, struct pss *pss)
{
	struct web_server *srv = web_of(wsi);
	struct web_token_info ti;
	struct bridge *b;
	lws_adopt_desc_t ad;
	int sp[2];

	/* Checked at the upgrade already; again here, where the result is
	 * kept (view-only, expiry) with the connection. */
	if (web_check_token(wsi, &ti) != WEB_TOKEN_OK || !web_origin_ok(wsi))
		return -1;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	b->in = malloc(IN_MAX);
	if (!b->in) {
		free(b);
		return -1;
	}
	b->token = ti;
	b->fd = -1;
	lws_get_peer_simple(wsi, b->peer, sizeof(b->peer));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
		log_ratelimited(LOG_WARN, "web: socketpair: %s", strerror(errno));
		free(b->in);
		free(b);
		return -1;
	}
	fcntl(sp[1], F_SETFL, fcntl(sp[1], F_GETFL) | O_NONBLOCK);
	/* The VNC server owns sp[0] from here, success or not. */
	if (!srv->add_client ||
	    srv->add_client(srv->opaque, sp[0], b->peer, ti.view_only)) {
		log_ratelimited(LOG_WARN, "web: %s: the console refused the client",
				b->peer);
		if (!srv->add_client)
			close(sp[0]);
		close(sp[1]);
		free(b->in);
		free(b);
		return -1;
	}
	memset(&ad, 0, sizeof(ad));
	ad.vh = lws_get_vhost(wsi);
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = sp[1];
	ad.vh_prot_name = WEB_PROTOCOL;
	ad.parent = wsi;
	ad.opaque = b;
	b->ws = wsi;
	b->fd = sp[1];
	b->raw = lws_adopt_descriptor_vhost_via_info(&ad);
	if (!b->raw) {
		/* lws closed sp[1]; the VNC client sees EOF and goes. */
		b->ws = NULL;
		free(b->in);
		free(b);
		return -1;
	}
	pss->b = b;
	b->counted = true;
	atomic_fetch_add(&srv->nclients, 1);
	arm_expiry(b);
	log_info("web: %s: console client connected%s", b->peer,
		 ti.view_only ? " (view-only)" : "");
	return 0;
}

/* Browser bytes to the pair; what does not fit waits in b->in. */
static int on_receive(struct lws *wsi, struct bridge *b, const void *data,
		      size_t len)
{
	size_t off = 0;

	if (!lws_frame_is_binary(wsi)) {
		log_ratelimited(LOG_INFO, "web: %s: text message: closing", b->peer);
		return -1;
	}
	if (len + lws_remaining_packet_payload(wsi) > MAX_MESSAGE ||
	    b->msg_len + len > MAX_MESSAGE) {
		log_ratelimited(LOG_INFO, "web: %s: message over %d bytes: closing",
				b->peer, MAX_MESSAGE);
		return -1;
	}
	b->msg_len += len;
	if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
		b->msg_len = 0;
	if (!b->raw)
		return 0;       /* the VNC side is gone: drop */
	if (!b->in_len) {
		ssize_t n = write(b->fd, data, len);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		off = n > 0 ? (size_t)n : 0;
	}
	if (off == len)
		return 0;
	if (b->in_len - b->in_off + (len - off) > IN_MAX) {
		/* Cannot happen while flow control works; bound it anyway. */
		log_ratelimited(LOG_WARN, "web: %s: input backlog over %d bytes: closing",
				b->peer, IN_MAX);
		return -1;
	}
	if (b->in_off) {
		memmove(b->in, b->in + b->in_off, b->in_len - b->in_off);
		b->in_len -= b->in_off;
		b->in_off = 0;
	}
	memcpy(b->in + b->in_len, (const char *)data + off, len - off);
	b->in_len += len - off;
	lws_rx_flow_control(wsi, 0);
	lws_callback_on_writable(b->raw);
	return 0;
}

/* The pair can take more: flush b->in, then let the browser talk again. */
static int on_raw_writeable(struct bridge *b)
{
	while (b->in_off < b->in_len) {
		ssize_t n = write(b->fd, b->in + b->in_off, b->in_len - b->in_off);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				lws_callback_on_writable(b->raw);
				return 0;
			}
			return -1;
		}
		b->in_off += (size_t)n;
	}
	b->in_len = b->in_off = 0;
	if (b->ws)
		lws_rx_flow_control(b->ws, 1);
	return 0;
}

/* The VNC side has bytes: take one chunk, pause until it is sent. */
static int on_raw_rx(struct bridge *b)
{
	ssize_t n;

	if (b->out_len || !b->ws) {
		lws_rx_flow_control(b->raw, 0);
		return 0;
	}
	n = read(b->fd, b->out + LWS_PRE, OUT_CHUNK);
	if (n == 0)
		return -1;      /* EOF: RAW_CLOSE_FILE flushes and closes */
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
	b->out_len = (size_t)n;
	lws_rx_flow_control(b->raw, 0);
	lws_callback_on_writable(b->ws);
	return 0;
}

static int on_ws_writeable(struct lws *wsi, struct bridge *b)
{
	if (b->out_len) {
		int n = lws_write(wsi, b->out + LWS_PRE, b->out_len,
				  LWS_WRITE_BINARY);

		if (n < (int)b->out_len)
			return -1;
		b->out_len = 0;
		if (b->raw)
			lws_rx_flow_control(b->raw, 1);
	}
	if (b->raw_eof) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL,
				 (unsigned char *)"console closed", 14);
		return -1;
	}
	return 0;
}

static void on_ws_closed(struct lws *wsi, struct pss *pss)
{
	struct web_server *srv = web_of(wsi);
	struct bridge *b = pss->b;

	if (!b)
		return;
	pss->b = NULL;
	if (b->counted)
		atomic_fetch_sub(&srv->nclients, 1);
	log_info("web: %s: console client disconnected", b->peer);
	b->ws = NULL;
	/* The raw child is closed by lws with its parent. */
	bridge_free_if_done(b);
}

static void on_raw_closed(struct bridge *b)
{
	b->raw = NULL;
	b->fd = -1;
	b->raw_eof = true;
	if (b->ws) {
		lws_callback_on_writable(b->ws);
		/* A browser that stopped reading (the usual reason for the
		 * VNC side to give up) never makes the socket writeable
		 * again: the flush and close must not wait for it forever. */
		lws_set_timeout(b->ws, PENDING_TIMEOUT_CLOSE_SEND, FLUSH_TIMEOUT_S);
	}
	bridge_free_if_done(b);
}

static int on_timer(struct lws *wsi, struct bridge *b)
{
	if (b->token.expires && now_s() >= b->token.expires) {
		log_ratelimited(LOG_INFO, "web: %s: token expired: closing", b->peer);
		lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 (unsigned char *)"token expired", 13);
		return -1;
	}
	arm_expiry(b);
	return 0;
}

int web_bridge_callback(struct lws *wsi, enum lws_callback_reasons reason,
			void *user, void *in, size_t len)
{
	struct pss *pss = user;
	struct bridge *b;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		return pss ? on_established(wsi, pss) : -1;
	case LWS_CALLBACK_RECEIVE:
		return pss && pss->b ? on_receive(wsi, pss->b, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss && pss->b ? on_ws_writeable(wsi, pss->b) : -1;
	case LWS_CALLBACK_TIMER:
		return pss && pss->b ? on_timer(wsi, pss->b) : -1;
	case LWS_CALLBACK_CLOSED:
		if (pss)
			on_ws_closed(wsi, pss);
		return 0;
	case LWS_CALLBACK_RAW_RX_FILE:
		b = lws_get_opaque_user_data(wsi);
		return b ? on_raw_rx(b) : -1;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		b = lws_get_opaque_user_data(wsi);
		return b ? on_raw_writeable(b) : -1;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		b = lws_get_opaque_user_data(wsi);
		if (b) {
			lws_set_opaque_user_data(wsi, NULL);
			on_raw_closed(b);
		}
		return 0;
	default:
		return 0;
	}
}
