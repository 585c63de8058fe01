// SPDX-License-Identifier: MIT
/*
 * HTTP: the console page's static files, the session API, and the gate in
 * front of every WebSocket upgrade.
 *
 * Paths are checked before the file system sees them: only [A-Za-z0-9._-/]
 * characters, no segment starting with '.', at most 255 bytes; then the
 * resolved path must be a regular file inside the page directory (no
 * symlink out, no directory listing) with a known type, else 404.
 * The page itself and /api/session need a token; noVNC's and our script
 * files carry no secret and are public.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmm/log.h"
#include "websocket/web_int.h"

#define MAX_URI 255

/* Every response: no sniffing, no framing, the token never leaves in a
 * Referer, nothing cached (the page's URL holds a token). */
static const char sec_headers[] =
	"X-Content-Type-Options: nosniff\x0d\x0a"
	"Referrer-Policy: no-referrer\x0d\x0a"
	"X-Frame-Options: DENY\x0d\x0a"
	"Cache-Control: no-store\x0d\x0a"
	"Content-Security-Policy: default-src 'self'; img-src 'self' data: blob:; "
	"style-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
	"form-action 'none'\x0d\x0a";

static const struct {
	const char *ext, *mime;
} mime_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".woff2", "font/woff2" },
};

static const char *mime_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return NULL;
	for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
		if (!strcmp(dot, mime_types[i].ext))
			return mime_types[i].mime;
	return NULL;
}

/* Exposed for the unit test through web_http_path_ok(). */
bool web_http_path_ok(const char *uri);
bool web_http_path_ok(const char *uri)
{
	size_t len = strlen(uri);

	if (uri[0] != '/' || len > MAX_URI)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = uri[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '/'))
			return false;
		if (c == '/' && uri[i + 1] == '.')
			return false;   /* "..", ".git", hidden files */
		if (c == '/' && uri[i + 1] == '/')
			return false;
	}
	return true;
}

static int finish(struct lws *wsi)
{
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int send_status(struct lws *wsi, unsigned code)
{
	if (lws_return_http_status(wsi, code, NULL))
		return -1;
	return finish(wsi);
}

static int send_body(struct lws *wsi, const char *mime, const char *body)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start,
		      *end = buf + sizeof(buf) - 1;
	size_t len = strlen(body);

	if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, mime, len, &p, end))
		return -1;
	if (end - p < (long)sizeof(sec_headers))
		return -1;
	memcpy(p, sec_headers, sizeof(sec_headers) - 1);
	p += sizeof(sec_headers) - 1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (lws_write(wsi, (unsigned char *)body, len, LWS_WRITE_HTTP_FINAL) !=
	    (int)len)
		return -1;
	return finish(wsi);
}

static int serve_file(struct lws *wsi, const char *uri)
{
	struct web_server *srv = web_of(wsi);
	char path[PATH_MAX + MAX_URI + 2], real[PATH_MAX];
	size_t rootlen = strlen(srv->root);
	const char *mime = mime_of(uri);
	struct stat st;
	int n;

	if (!mime)
		return send_status(wsi, HTTP_STATUS_NOT_FOUND);
	snprintf(path, sizeof(path), "%s%s", srv->root, uri);
	if (!realpath(path, real) || strncmp(real, srv->root, rootlen) ||
	    real[rootlen] != '/' || stat(real, &st) || !S_ISREG(st.st_mode))
		return send_status(wsi, HTTP_STATUS_NOT_FOUND);
	n = lws_serve_http_file(wsi, real, mime, sec_headers,
				(int)sizeof(sec_headers) - 1);
	if (n < 0)
		return -1;
	return n > 0 ? finish(wsi) : 0;
}

static int session_info(struct lws *wsi, const struct web_token_info *ti)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"viewOnly\":%s,\"expires\":%lld}\n",
		 ti->view_only ? "true" : "false", (long long)ti->expires);
	return send_body(wsi, "application/json", body);
}

static int on_http(struct lws *wsi, const char *uri)
{
	struct web_token_info ti;
	bool page;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
		return send_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED);
	if (!web_http_path_ok(uri))
		return send_status(wsi, HTTP_STATUS_NOT_FOUND);
	page = !strcmp(uri, "/") || !strcmp(uri, "/index.html");
	if (page || !strcmp(uri, "/api/session")) {
		enum web_token_result r = web_check_token(wsi, &ti);

		if (r != WEB_TOKEN_OK) {
			log_ratelimited(LOG_INFO, "web: %s refused: %s token",
					page ? "page" : "session",
					r == WEB_TOKEN_EXPIRED ? "expired" : "missing or unknown");
			return send_status(wsi, HTTP_STATUS_FORBIDDEN);
		}
		if (!page)
			return session_info(wsi, &ti);
		return serve_file(wsi, "/index.html");
	}
	if (!strcmp(uri, WEB_WS_PATH))
		return send_status(wsi, HTTP_STATUS_BAD_REQUEST);
	return serve_file(wsi, uri);
}

/* Only RFC 6455 (version 13, a 16-byte base64 key): libwebsockets would
 * also take older drafts and any key. */
static bool rfc6455_request_ok(struct lws *wsi)
{
	char v[8], key[32];
	size_t n;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_VERSION) >= (int)sizeof(v) ||
	    lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_VERSION) <= 0 ||
	    strcmp(v, "13"))
		return false;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_KEY) != 24 ||
	    lws_hdr_copy(wsi, key, sizeof(key), WSI_TOKEN_KEY) != 24 ||
	    key[22] != '=' || key[23] != '=')
		return false;
	n = strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	return n == 22;
}

/* The gate: >0 refused with a status sent, 0 let the upgrade proceed. */
static int confirm_upgrade(struct lws *wsi, const char *what)
{
	struct web_server *srv = web_of(wsi);
	char uri[64];
	enum web_token_result r;

	if (!what || strcmp(what, "websocket"))
		return lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, NULL) ? -1 : 1;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 ||
	    lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) >= (int)sizeof(uri) ||
	    lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
	    strcmp(uri, WEB_WS_PATH))
		return lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL) ? -1 : 1;
	if (!rfc6455_request_ok(wsi))
		return lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, NULL) ? -1 : 1;
	if (!web_origin_ok(wsi)) {
		log_ratelimited(LOG_INFO, "web: WebSocket refused: Origin does not match Host");
		return lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL) ? -1 : 1;
	}
	r = web_check_token(wsi, NULL);
	if (r != WEB_TOKEN_OK) {
		log_ratelimited(LOG_INFO, "web: WebSocket refused: %s token",
				r == WEB_TOKEN_EXPIRED ? "expired" : "missing or unknown");
		return lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL) ? -1 : 1;
	}
	if (atomic_load(&srv->nclients) >= srv->max_clients) {
		log_ratelimited(LOG_WARN, "web: WebSocket refused: %d clients already",
				srv->max_clients);
		return lws_return_http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL) ? -1 : 1;
	}
	return 0;
}

int web_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
		      void *user, void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_http(wsi, in ? (const char *)in : "");
	case LWS_CALLBACK_HTTP_BODY:
		return -1;      /* nothing here takes a body */
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(wsi, in);
	case LWS_CALLBACK_ESTABLISHED:
		/* An upgrade without the "binary" subprotocol lands here. */
		return -1;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
