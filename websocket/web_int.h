/* SPDX-License-Identifier: MIT */
/*
 * Private to websocket/: the server (server.c: context, thread, access
 * checks), the HTTP side (http.c: static files, 403s) and the bridge
 * (bridge.c: WebSocket <-> socketpair). Every lws callback runs on the one
 * service thread, so per-connection state needs no lock.
 */
#ifndef WEBSOCKET_WEB_INT_H
#define WEBSOCKET_WEB_INT_H

#include <libwebsockets.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "websocket/token.h"
#include "websocket/web.h"

#define WEB_WS_PATH "/websockify"
#define WEB_PROTOCOL "binary"

struct web_server {
	struct lws_context *ctx;
	struct web_tokens *tokens;
	char root[PATH_MAX];            /* realpath of the page directory */
	char host[256];
	int port;
	bool tls;
	char *allow_origin;
	char url[512];
	web_add_client_fn add_client;
	void *opaque;
	int max_clients;
	atomic_int nclients;
	atomic_bool stopping;
	pthread_t thread;
	bool thread_started;
	struct lws_protocols protocols[3];
};

/* The server of a wsi (the context's user pointer). */
struct web_server *web_of(struct lws *wsi);

/* server.c: the access checks, for http.c and bridge.c. */
enum web_token_result web_check_token(struct lws *wsi,
				      struct web_token_info *info);
/* Origin absent (not a browser), or equal to scheme://Host, or to the
 * allowed origin. */
bool web_origin_ok(struct lws *wsi);

/* http.c */
int web_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
		      void *user, void *in, size_t len);
/* bridge.c */
int web_bridge_callback(struct lws *wsi, enum lws_callback_reasons reason,
			void *user, void *in, size_t len);
size_t web_bridge_pss_size(void);

#endif
