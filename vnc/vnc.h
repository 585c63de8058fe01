/* SPDX-License-Identifier: MIT */
/*
 * The VNC server: libvncserver over a console.
 *
 * Our code owns the listening socket (TCP over IPv4/IPv6, or a UNIX socket)
 * and hands every accepted client to libvncserver, which runs two threads per
 * client (input and output). libvncserver itself listens on nothing and its
 * WebSocket/TLS detection never sees a client byte. Frames are a copy of the
 * console surface in libvncserver's default pixel format (bytes R, G, B, X),
 * converted once per damaged rectangle with pixman, however many viewers
 * watch. The console listener is attached only while a client is connected.
 *
 * Input: keysyms (display/keymap.h) and QEMU's Extended Key Event (raw XT
 * codes) go to console_input_key(), pointer events to console_input_pointer();
 * QEMU's LED state pseudo-encoding reports the guest's keyboard LEDs.
 *
 * Auth: VNC authentication (DES challenge) when a password file is given;
 * failed attempts are delayed and, after several, refused per source address.
 * A listener on a non-loopback address without a password is refused.
 *
 * Process-wide side effects of vnc_server_create(): SIGPIPE is ignored
 * (libvncserver writes to sockets without MSG_NOSIGNAL), libvncserver's log
 * goes through vmm/log.h, and two protocol extensions are registered. One
 * server per process at a time (libvncserver keeps its client list lock in a
 * global).
 */
#ifndef VNC_VNC_H
#define VNC_VNC_H

#include <stdbool.h>
#include <stddef.h>

struct console;
struct vnc_server;

enum vnc_listen_kind { VNC_LISTEN_NONE, VNC_LISTEN_TCP, VNC_LISTEN_UNIX };

#define VNC_DEFAULT_LISTEN "127.0.0.1:5900"

/* A parsed --vnc spec. */
struct vnc_listen {
	enum vnc_listen_kind kind;
	char host[256];         /* TCP: numeric address or name, no brackets */
	int port;               /* TCP: 0..65535 (0: any free port) */
	char path[108];         /* UNIX: socket path (sizeof sun_path) */
};

/*
 * Parse "ADDR:PORT" ("127.0.0.1:5900", "[::1]:5900", "localhost:5901",
 * ":5900" for every address), "unix:PATH" or "none". NULL means the
 * default. 0, or -1 with a one-line message in err.
 */
int vnc_parse_listen(const char *spec, struct vnc_listen *out, char *err,
		     size_t errlen);

struct vnc_config {
	const char *listen;             /* --vnc spec; NULL: default */
	const char *password_file;      /* --password-file; NULL: none */
	/* --tls-dir: the listener offers only VeNCrypt (X509Vnc with a
	 * password file, else X509None) with DIR/server-cert.pem and
	 * DIR/server-key.pem; NULL: plain VNC. Clients given through
	 * vnc_server_add_client() are not affected. */
	const char *tls_dir;
	/* --tls-verify-client: require a client certificate signed by
	 * DIR/ca-cert.pem (counts as authentication off loopback). */
	bool tls_verify_client;
	int handshake_timeout_ms;       /* VeNCrypt up to TLS; 10000 */
	/* Tuning, 0 for the defaults; the tests shorten them. */
	int max_clients;                /* default 32; live clients only */
	int max_client_wait_ms;         /* stalled client dropped after; 5000 */
	int auth_delay_ms;              /* first failure's delay; 250 */
	int auth_lockout_failures;      /* failures before lockout; 8 */
	int auth_lockout_s;             /* lockout length; 60 */
	/* Tests only: give libvncserver the accepted fd as it is (every
	 * client then waits libvncserver's 100 ms WebSocket probe). */
	bool direct_handover;
};

/*
 * Start serving con (which must outlive the server). With "--vnc none" the
 * server listens on nothing but still takes clients from
 * vnc_server_add_client() (the WebSocket bridge); main.c need not create
 * one when nothing would use it. On error NULL with a one-line message in
 * err (bad spec, unreadable or empty password file, non-loopback listener
 * without a password, bind failure, ...).
 */
struct vnc_server *vnc_server_create(struct console *con,
				     const struct vnc_config *cfg, char *err,
				     size_t errlen);
/* Disconnect every client, stop the threads, free everything. NULL ok. */
void vnc_server_destroy(struct vnc_server *srv);
/* Clients connected now (handshaking or running). */
int vnc_server_client_count(struct vnc_server *srv);
/* The TCP port actually bound (useful with port 0); -1 for UNIX. */
int vnc_server_port(struct vnc_server *srv);

/*
 * Hand an already-connected stream socket to the server, as the accept
 * loop does (the WebSocket bridge uses this for its socketpair ends). The
 * server takes ownership of fd in every case. peer names the client in log
 * messages and for the auth rate limit. 0, or -1 (refused; fd closed).
 */
int vnc_server_add_client(struct vnc_server *srv, int fd, const char *peer);

/* Flags for vnc_server_add_client_ex(). */
#define VNC_CLIENT_VIEW_ONLY 0x1u       /* its key/pointer/clipboard input is ignored */

/* vnc_server_add_client() with flags (VNC_CLIENT_*). */
int vnc_server_add_client_ex(struct vnc_server *srv, int fd, const char *peer,
			     unsigned flags);

#endif
