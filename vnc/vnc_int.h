/* SPDX-License-Identifier: MIT */
/*
 * Private to vnc/: the server's state shared by vnc.c (screen, frames,
 * input), net.c (listening, handing clients over), auth.c (passwords and the
 * failure rate limit) and qemu_ext.c (QEMU's key and LED extensions).
 *
 * Locks, outermost first:
 *   fb_lock      the frame buffer, resizes, console listener attach/detach;
 *   console locks (taken by console_* calls made under fb_lock);
 *   pend_lock    pending work from the console callbacks and client hooks;
 *   clients_lock our list of clients.
 * The console callbacks run with the console lock held and take only
 * pend_lock, so the producer never waits for a VNC client.
 */
#ifndef VNC_VNC_INT_H
#define VNC_VNC_INT_H

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

	/* fb_lock */
	pthread_mutex_t fb_lock;
	char *fb;                       /* what libvncserver encodes from */
	pixman_image_t *fb_img;         /* PIXMAN_x8b8g8r8 over fb */
	int fb_w, fb_h;
	struct retired_fb *retired;     /* old buffers awaiting their free */
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
};

uint64_t vnc_now_ns(void);

/* net.c */
int vnc_net_listen(struct vnc_server *srv, char *err, size_t errlen);
void vnc_net_close(struct vnc_server *srv);
void *vnc_accept_thread(void *arg);
int vnc_handover(struct vnc_server *srv, int fd, const char *peer);

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

/* qemu_ext.c */
void vnc_qemu_ext_register(void);
void vnc_qemu_ext_update_sent(rfbClientPtr cl, int result);
/* Send the LED state to a client that asked for it, without blocking;
 * false: the client is busy, try again later. */
bool vnc_qemu_ext_try_send_leds(struct vnc_client *vc, unsigned leds);

#endif
