/* SPDX-License-Identifier: MIT */
/*
 * The web console server: libwebsockets in its own service thread serves
 * the console page (static files from the build's web/ directory) and a
 * WebSocket endpoint (subprotocol "binary", as noVNC speaks it) at
 * /websockify. Each accepted WebSocket becomes a VNC client through a
 * socketpair handed to cfg->add_client (main.c wires it to
 * vnc_server_add_client_ex()); bytes are relayed both ways with bounded
 * buffers and flow control, so a slow browser stalls its own VNC client,
 * never memory.
 *
 * Access: the page (/, /index.html), /api/session and the WebSocket
 * upgrade need a valid token (?token=..., see token.h), else 403; an
 * upgrade's Origin must match its Host (or cfg->allow_origin). The other
 * static files (noVNC's code, our script and style) carry no secret and
 * are served without a token. With cfg->tls_dir, HTTPS/WSS only.
 *
 * Nothing here knows VNC or devices: websocket/ relays bytes.
 */
#ifndef WEBSOCKET_WEB_H
#define WEBSOCKET_WEB_H

#include <stdbool.h>
#include <stddef.h>

struct web_server;

#define WEB_DEFAULT_HOST "127.0.0.1"

/* Take ownership of fd (a connected stream socket) as a new console
 * client; 0, or -1 (refused; fd closed). peer: the browser's address. */
typedef int (*web_add_client_fn)(void *opaque, int fd, const char *peer,
				 bool view_only);

struct web_config {
	const char *listen;             /* --web: ADDR:PORT, [V6]:PORT or PORT */
	const char *root;               /* page directory; NULL: next to the binary */
	const char *token_file;         /* --web-token-file; NULL: none */
	const char *tls_dir;            /* --tls-dir; NULL: plain HTTP */
	const char *allow_origin;       /* --web-origin; NULL: same host only */
	web_add_client_fn add_client;
	void *opaque;
	int max_clients;                /* WebSocket clients at once; 0: 16 */
};

/* Parse a --web spec into host (numeric or name, no brackets) and port.
 * "6080" means 127.0.0.1:6080. 0, or -1 with a one-line message. */
int web_parse_listen(const char *spec, char *host, size_t hostlen, int *port,
		     char *err, size_t errlen);

/* Find the page directory for a binary at exe_path: <dir>/web, then
 * <dir>/../web (build/asan/vmm -> build/web). 0, or -1. */
int web_find_root(const char *exe_path, char *out, size_t outlen);

/* Start serving; NULL with a one-line message in err on any problem
 * (bad spec, missing page files, unreadable token file or certificate,
 * port in use). */
struct web_server *web_server_create(const struct web_config *cfg, char *err,
				     size_t errlen);
/* Close every connection and stop. NULL ok. */
void web_server_destroy(struct web_server *srv);
int web_server_port(struct web_server *srv);
/* The console URL with the token generated at start. A secret: it goes
 * to the operator's terminal only, never to a log. */
const char *web_server_url(struct web_server *srv);
/* WebSocket clients connected now. */
int web_server_client_count(struct web_server *srv);

#endif
