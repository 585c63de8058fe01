/* SPDX-License-Identifier: MIT */
/*
 * Private to vnc/: the server's state shared by vnc.c (screen, frames,
 * input), net.c (listening, handing clients over), auth.c (passwords and the
 * failure rate limit), qemu_ext.c (QEMU's key and LED extensions), tls.c and
 * vencrypt.c (the VeNCrypt front), cursor.c (the guest's cursor shape).
 *
 * Locks, outermost first:
 *   fb_lock      the frame buffer, resizes, console listener attach/detach;
 *   console locks (taken by console_* calls made under fb_lock);
 *   pend_lock    pending work from the console callbacks and client hooks;
 *   clients_lock our list of clients;
 *   tls_lock     the VeNCrypt front's connections (nothing else is taken
 *                while it is held).
 * The console callbacks run with the console lock held and take only
 * pend_lock, so the producer never waits for a VNC client.
 */
#ifndef VNC_VNC_INT_H
#define VNC_VNC_INT_H

#include <gnutls/gnutls.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <stdatomic.h>
#include <stdint.h>

#include "display/console.h"
#include "vnc/vnc.h"

/* Our per-client record (cl->clientData). */
struct vnc_client {
	struct vnc_server *srv;
	rfbClientPtr cl;
	int shut_fd;            /* our dup of the socket, to shut it down */
	bool started;           /* its libvncserver thread exists */
	bool want_ext_key;      /* QEMU Extended Key Event acknowledged */
	/* Updates after which the acknowledgement is repeated: see
	 * vnc_qemu_ext_update_sent() in qemu_ext.c. */
	atomic_int ext_key_reacks;
	bool want_leds;         /* QEMU LED state asked for */
	int leds_sent;          /* last LED state sent, -1: none */
	/* The srv->fb_gen this client knows the size of (vnc.c,
	 * on_update_request()). */
	atomic_uint fb_gen;
	char peer[64];
	struct vnc_client *next;
};

struct auth_entry {
	char peer[64];
	unsigned failures;
	uint64_t last_ns;
};
#define AUTH_TABLE_SIZE 256

struct retired_fb {
	char *fb;
	uint64_t when_ns;
	struct retired_fb *next;
};

struct vnc_server {
	struct console *con;
	rfbScreenInfoPtr screen;
	struct vnc_listen listen;
	int listen_fd;
	int bound_port;
	int wake_fd;                    /* eventfd: wakes the accept thread */
	pthread_t accept_thread, update_thread;
	bool accept_started, update_started;
	atomic_bool stopping;

	int max_clients, max_client_wait_ms;
	bool direct_handover;
	_Atomic uint64_t resize_ns;     /* last accepted SetDesktopSize */

	/* fb_lock */
	pthread_mutex_t fb_lock;
	char *fb;                       /* what libvncserver encodes from */
	pixman_image_t *fb_img;         /* PIXMAN_x8b8g8r8 over fb */
	int fb_w, fb_h;
	atomic_uint fb_gen;             /* bumped by every size change */
	struct retired_fb *retired;     /* old buffers awaiting their free */
	/* A size change waits for a client busy sending (vnc.c,
	 * new_framebuffer()); the update thread tries again from
	 * resize_next_ns on. */
	atomic_bool resize_retry;
	uint64_t resize_next_ns;
	atomic_bool attached;
	struct console_listener listener;

	/* pend_lock */
	pthread_mutex_t pend_lock;
	pthread_cond_t pend_cond;
	pixman_region32_t pend_damage;
	bool pend_surface;              /* surface replaced: full refresh */
	bool pend_leds;
	bool pend_clients;              /* the client count changed */
	bool update_stop;
	unsigned leds;
	bool pend_cursor;               /* the console's cursor changed */

	/* cursor.c (update thread; cursor also under screen->cursorMutex) */
	rfbCursorPtr cursor;            /* the shape viewers get; NULL: none */
	unsigned cursor_serial;         /* console cursor serial it shows */
	bool cursor_valid;
	struct retired_cursor *cursors_retired;

	/* clients_lock */
	pthread_mutex_t clients_lock;
	pthread_cond_t clients_cond;    /* signalled when a client is gone */
	struct vnc_client *clients;
	int nclients;
	pthread_t *reap;                /* finished client threads to join */
	int nreap, reap_cap;

	/* auth.c */
	char *password;                 /* NULL: no authentication */
	int auth_delay_ms, auth_lockout_failures, auth_lockout_s;
	pthread_mutex_t auth_lock;
	struct auth_entry auth[AUTH_TABLE_SIZE];

	/* tls.c, vencrypt.c: the VeNCrypt front; tls NULL: plain VNC. */
	struct vnc_tls *tls;
	int handshake_timeout_ms;
	pthread_mutex_t tls_lock;
	struct vnc_tls_conn *tls_conns;
	int tls_handshaking;            /* connections not yet relaying */
};

uint64_t vnc_now_ns(void);

/* net.c */
int vnc_net_listen(struct vnc_server *srv, char *err, size_t errlen);
void vnc_net_close(struct vnc_server *srv);
void *vnc_accept_thread(void *arg);
int vnc_handover(struct vnc_server *srv, int fd, const char *peer);
/* flags: VNC_CLIENT_* (vnc.h) */
int vnc_handover_ex(struct vnc_server *srv, int fd, const char *peer,
		    unsigned flags);

/* vnc.c: called by net.c once libvncserver has the client, before its
 * thread starts: the first client attaches the console and syncs the frame. */
void vnc_client_arriving(struct vnc_server *srv);
void vnc_wake_update(struct vnc_server *srv);

/* auth.c */
int vnc_auth_load(struct vnc_server *srv, const char *file, char *err,
		  size_t errlen);
void vnc_auth_free(struct vnc_server *srv);
/* Whether peer is locked out after too many failures. */
bool vnc_auth_locked_out(struct vnc_server *srv, const char *peer);
rfbBool vnc_auth_check(rfbClientPtr cl, const char *response, int len);

/* net.c: give libvncserver a new client on a socketpair whose other end,
 * returned in relay_fd, speaks as an RFB 3.minor client that has sent its
 * version (libvncserver's own version is already consumed). 0, or -1. */
int vnc_handover_relay(struct vnc_server *srv, const char *peer, int minor,
		       int *relay_fd);

/* tls.c: --tls-dir's certificate and key, loaded and checked at startup. */
struct vnc_tls *vnc_tls_load(const char *dir, bool verify_client, char *err,
			     size_t errlen);
void vnc_tls_free(struct vnc_tls *t);
/* Whether client certificates are required and verified. */
bool vnc_tls_verifies_clients(const struct vnc_tls *t);
/* A server session on fd with our credentials; a gnutls error code. */
int vnc_tls_session(struct vnc_tls *t, int fd, gnutls_session_t *out);

/* vencrypt.c: with TLS on, the accept thread hands every client here
 * (takes fd); reap joins finished connection threads (accept thread only);
 * stop ends them all (vnc_server_destroy, once the accept thread is gone). */
void vnc_vencrypt_accept(struct vnc_server *srv, int fd, const char *peer);
void vnc_vencrypt_reap(struct vnc_server *srv);
void vnc_vencrypt_stop(struct vnc_server *srv);

/* cursor.c: the guest's cursor as a cursor shape for viewers. setup: at
 * screen creation; on_changed: the console listener's cursor_changed;
 * apply (update thread): take the console's cursor, false: retry later;
 * free: at server destruction. */
void vnc_cursor_setup(struct vnc_server *srv);
void vnc_cursor_on_changed(void *opaque, struct console *c);
bool vnc_cursor_apply(struct vnc_server *srv);
void vnc_cursor_free(struct vnc_server *srv);

/* qemu_ext.c */
void vnc_qemu_ext_register(void);
void vnc_qemu_ext_update_sent(rfbClientPtr cl, int result);
/* Send the LED state to a client that asked for it, without blocking;
 * false: the client is busy, try again later. */
bool vnc_qemu_ext_try_send_leds(struct vnc_client *vc, unsigned leds);

#endif
