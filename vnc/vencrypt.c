// SPDX-License-Identifier: MIT
/*
 * VeNCrypt (RFB security type 19, version 0.2) in front of libvncserver,
 * which has no server-side TLS.
 *
 * With --tls-dir every client accepted on the VNC listener gets its own
 * thread here. The thread speaks the start of RFB with the real viewer:
 *
 *   server version 3.8 -> client version (3.7 or 3.8)
 *   security types [VeNCrypt] -> client picks 19
 *   VeNCrypt 0.2 -> client 0.2 -> ok
 *   subtypes [X509Vnc] (password file) or [X509None] -> client picks -> ack
 *   TLS handshake (TLS 1.2+, our certificate; the client's with
 *   --tls-verify-client)
 *
 * all with non-blocking sockets and one deadline (handshake_timeout_ms), so a
 * client that stalls anywhere before TLS is up costs one thread until the
 * deadline and blocks nobody else.
 *
 * Then libvncserver gets one end of a socketpair, as every other client does
 * (net.c), and this thread relays plaintext between the pair and the TLS
 * session with one bounded buffer per direction. libvncserver believes it
 * talks to a client of the same RFB minor version; it offers VncAuth when a
 * password is set and None otherwise, and this thread answers that choice
 * itself without forwarding the list. What follows in both subtypes is
 * byte for byte what VeNCrypt expects inside the TLS session:
 *   X509Vnc:  challenge, response, SecurityResult (VncAuth);
 *   X509None: SecurityResult (3.8; none in 3.7).
 * So libvncserver keeps running the VNC password check, with its per-address
 * failure delay and lockout (auth.c), for TLS and plain clients alike; this
 * front adds no second password code path. Doing the whole security phase
 * here and giving libvncserver an already-authenticated client would need
 * libvncserver to offer None while the WebSocket bridge's clients need
 * VncAuth from the same screen.
 *
 * Nothing secret passes through a log: only gnutls error strings and peers.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vnc/vnc_int.h"

#define SEC_NONE        1
#define SEC_VNCAUTH     2
#define SEC_VENCRYPT    19
#define VENCRYPT_X509NONE 260
#define VENCRYPT_X509VNC  261

#define RELAY_BUF (32 * 1024)

struct relay_buf {
	size_t off, len;
	unsigned char data[RELAY_BUF];
};

struct vnc_tls_conn {
	struct vnc_server *srv;
	pthread_t thread;
	int fd;                 /* the viewer's socket; under tls_lock */
	int relay_fd;           /* our end of libvncserver's socketpair */
	bool handshaking;       /* counted in srv->tls_handshaking */
	bool done;              /* the thread has finished: join it */
	gnutls_session_t sess;
	uint64_t deadline_ns;
	char peer[64];
	struct vnc_tls_conn *next;
	struct relay_buf to_server, to_client;
};

/* ---- non-blocking I/O with the handshake deadline ------------------------ */

static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		uint64_t now = vnc_now_ns();
		int r;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((deadline_ns - now) / 1000000 + 1));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int read_full(int fd, void *buf, size_t len, uint64_t deadline_ns)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		int r;

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLIN, deadline_ns);
		if (r)
			return r;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len,
		      uint64_t deadline_ns)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = send(fd, (const char *)buf + put, len - put,
				 MSG_NOSIGNAL);
		int r;

		if (n > 0) {
			put += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN)
			return n ? -errno : -EIO;
		r = wait_fd(fd, POLLOUT, deadline_ns);
		if (r)
			return r;
	}
	return 0;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Refuse a 3.8 client at the security step with a reason it can show. */
static void send_failure(struct vnc_tls_conn *c, int minor, const char *why)
{
	unsigned char b[4 + 4 + 128];
	size_t len = strlen(why);

	if (minor < 8)
		return;
	if (len > 128)
		len = 128;
	put_be32(b, 1);
	put_be32(b + 4, (uint32_t)len);
	memcpy(b + 8, why, len);
	write_full(c->fd, b, 8 + len, c->deadline_ns);
}

/* ---- the handshake --------------------------------------------------------- */

/* "RFB 003.00N\n": the minor version, or -1. */
static int parse_version(const char *v)
{
	int minor = 0;

	if (memcmp(v, "RFB 003.", 8) || v[11] != '\n')
		return -1;
	for (int i = 8; i < 11; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		minor = minor * 10 + (v[i] - '0');
	}
	return minor;
}

static const char *why(int r)
{
	return r == -ETIMEDOUT ? "handshake timed out" :
	       r == -ECONNRESET ? "connection closed" : strerror(-r);
}

/* Version, security type and VeNCrypt subtype. The RFB minor or -1. */
static int negotiate(struct vnc_tls_conn *c, uint32_t subtype)
{
	static const char version[] = "RFB 003.008\n";
	static const unsigned char types[] = { 1, SEC_VENCRYPT };
	static const unsigned char vc_version[] = { 0, 2 };
	unsigned char b[12], offer[5];
	char v[12];
	int r, minor;

	if ((r = write_full(c->fd, version, 12, c->deadline_ns)) ||
	    (r = read_full(c->fd, v, 12, c->deadline_ns)))
		goto io_fail;
	minor = parse_version(v);
	if (minor < 0) {
		log_ratelimited(LOG_INFO, "vnc: %s: not an RFB 3.x client", c->peer);
		return -1;
	}
	if (minor < 7) {
		/* RFB 3.3 has no list of security types to put VeNCrypt
		 * in: say so the 3.3 way (type 0 and a reason). */
		static const char msg[] = "this server requires VeNCrypt (RFB 3.7 or later)";
		unsigned char f[8 + sizeof(msg) - 1];

		put_be32(f, 0);
		put_be32(f + 4, sizeof(msg) - 1);
		memcpy(f + 8, msg, sizeof(msg) - 1);
		write_full(c->fd, f, sizeof(f), c->deadline_ns);
		log_ratelimited(LOG_INFO, "vnc: %s: RFB 3.%d client refused: VeNCrypt needs 3.7+",
				c->peer, minor);
		return -1;
	}
	if (minor > 8)
		minor = 8;      /* 3.889 (Apple) and later speak 3.8 to us */
	if ((r = write_full(c->fd, types, sizeof(types), c->deadline_ns)) ||
	    (r = read_full(c->fd, b, 1, c->deadline_ns)))
		goto io_fail;
	if (b[0] != SEC_VENCRYPT) {
		send_failure(c, minor, "this server offers only VeNCrypt (TLS)");
		log_ratelimited(LOG_INFO, "vnc: %s: asked for security type %u, only VeNCrypt is offered",
				c->peer, b[0]);
		return -1;
	}
	if ((r = write_full(c->fd, vc_version, 2, c->deadline_ns)) ||
	    (r = read_full(c->fd, b, 2, c->deadline_ns)))
		goto io_fail;
	if (b[0] != 0 || b[1] != 2) {
		log_ratelimited(LOG_INFO, "vnc: %s: unsupported VeNCrypt version %u.%u",
				c->peer, b[0], b[1]);
		b[0] = 0xFF;
		write_full(c->fd, b, 1, c->deadline_ns);
		return -1;
	}
	/* Status 0 (version accepted), one subtype. */
	b[0] = 0;
	offer[0] = 1;
	put_be32(offer + 1, subtype);
	if ((r = write_full(c->fd, b, 1, c->deadline_ns)) ||
	    (r = write_full(c->fd, offer, sizeof(offer), c->deadline_ns)) ||
	    (r = read_full(c->fd, b, 4, c->deadline_ns)))
		goto io_fail;
	if (((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	     (uint32_t)b[2] << 8 | b[3]) != subtype) {
		b[0] = 0;
		write_full(c->fd, b, 1, c->deadline_ns);
		log_ratelimited(LOG_INFO, "vnc: %s: chose a VeNCrypt subtype that was not offered",
				c->peer);
		return -1;
	}
	b[0] = 1;
	if ((r = write_full(c->fd, b, 1, c->deadline_ns)))
		goto io_fail;
	return minor;
io_fail:
	log_ratelimited(LOG_INFO, "vnc: %s: VeNCrypt negotiation: %s", c->peer,
			why(r));
	return -1;
}

static int tls_handshake(struct vnc_tls_conn *c)
{
	int r;

	r = vnc_tls_session(c->srv->tls, c->fd, &c->sess);
	if (r < 0) {
		log_ratelimited(LOG_WARN, "vnc: %s: TLS session: %s", c->peer,
				gnutls_strerror(r));
		return -1;
	}
	for (;;) {
		r = gnutls_handshake(c->sess);
		if (r == GNUTLS_E_SUCCESS)
			return 0;
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED &&
		    gnutls_error_is_fatal(r)) {
			log_ratelimited(LOG_INFO, "vnc: %s: TLS handshake failed: %s",
					c->peer, gnutls_strerror(r));
			return -1;
		}
		r = wait_fd(c->fd, gnutls_record_get_direction(c->sess) ?
			    POLLOUT : POLLIN, c->deadline_ns);
		if (r) {
			log_ratelimited(LOG_INFO, "vnc: %s: TLS handshake: %s",
					c->peer, why(r));
			return -1;
		}
	}
}

/*
 * libvncserver's security types arrive on the pair: answer with the one
 * matching the VeNCrypt subtype (see the top of the file).
 */
static int answer_libvncserver(struct vnc_tls_conn *c, uint32_t subtype)
{
	unsigned char n, types[255], want;
	int r;

	want = subtype == VENCRYPT_X509VNC ? SEC_VNCAUTH : SEC_NONE;
	if ((r = read_full(c->relay_fd, &n, 1, c->deadline_ns)) ||
	    (n && (r = read_full(c->relay_fd, types, n, c->deadline_ns)))) {
		log_ratelimited(LOG_WARN, "vnc: %s: libvncserver: %s", c->peer,
				why(r));
		return -1;
	}
	if (!memchr(types, want, n)) {
		log_ratelimited(LOG_WARN, "vnc: %s: libvncserver does not offer security type %u",
				c->peer, want);
		return -1;
	}
	return write_full(c->relay_fd, &want, 1, c->deadline_ns) ? -1 : 0;
}

/* ---- the relay ------------------------------------------------------------- */

/*
 * Move bytes both ways until either side closes. Each direction has one
 * buffer, refilled only once it has been written out: a side that does not
 * read stops us reading the other side, so memory stays bounded.
 */
static void relay(struct vnc_tls_conn *c)
{
	struct relay_buf *up = &c->to_server, *down = &c->to_client;

	for (;;) {
		short cev = 0, rev = 0;
		bool progress = false;
		struct pollfd p[2];
		ssize_t n;

		if (!up->len) {
			n = gnutls_record_recv(c->sess, up->data, RELAY_BUF);
			if (n > 0) {
				up->off = 0;
				up->len = (size_t)n;
				progress = true;
			} else if (n == 0) {
				return;
			} else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				cev |= gnutls_record_get_direction(c->sess) ?
				       POLLOUT : POLLIN;
			} else if (gnutls_error_is_fatal((int)n) ||
				   n == GNUTLS_E_REHANDSHAKE) {
				/* A viewer closing without close_notify is
				 * the common way to leave. */
				if (n != GNUTLS_E_PREMATURE_TERMINATION)
					log_ratelimited(LOG_INFO, "vnc: %s: TLS: %s",
							c->peer,
							gnutls_strerror((int)n));
				return;
			}
		}
		if (up->len) {
			n = send(c->relay_fd, up->data + up->off, up->len,
				 MSG_NOSIGNAL);
			if (n > 0) {
				up->off += (size_t)n;
				up->len -= (size_t)n;
				progress = true;
			} else if (n < 0 && errno == EAGAIN) {
				rev |= POLLOUT;
			} else if (!(n < 0 && errno == EINTR)) {
				return;
			}
		}
		if (!down->len) {
			n = read(c->relay_fd, down->data, RELAY_BUF);
			if (n > 0) {
				down->off = 0;
				down->len = (size_t)n;
				progress = true;
			} else if (n == 0) {
				return;
			} else if (errno == EAGAIN) {
				rev |= POLLIN;
			} else if (errno != EINTR) {
				return;
			}
		}
		if (down->len) {
			/* After GNUTLS_E_AGAIN gnutls wants the same data
			 * again: off and len are unchanged until it is sent. */
			n = gnutls_record_send(c->sess, down->data + down->off,
					       down->len);
			if (n > 0) {
				down->off += (size_t)n;
				down->len -= (size_t)n;
				progress = true;
			} else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				cev |= gnutls_record_get_direction(c->sess) ?
				       POLLOUT : POLLIN;
			} else {
				log_ratelimited(LOG_INFO, "vnc: %s: TLS: %s",
						c->peer, gnutls_strerror((int)n));
				return;
			}
		}
		/* Decrypted bytes gnutls holds make no fd readable. */
		if (progress || (!up->len && gnutls_record_check_pending(c->sess)))
			continue;
		/* The viewer's socket always: its hang-up ends the relay even
		 * while we wait for libvncserver. The pair only when we wait
		 * for it, so its hang-up cannot make poll spin before the
		 * bytes still queued for the viewer are out. */
		p[0] = (struct pollfd){ .fd = c->fd, .events = cev };
		p[1] = (struct pollfd){ .fd = rev ? c->relay_fd : -1,
					.events = rev };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			return;
		if ((p[1].revents & (POLLERR | POLLHUP | POLLNVAL)) &&
		    !(p[1].revents & POLLIN))
			return;
	}
}

/* ---- one thread per connection ------------------------------------------- */

static void finish(struct vnc_tls_conn *c)
{
	struct vnc_server *srv = c->srv;
	uint64_t one = 1;

	if (c->sess) {
		/* A best-effort close_notify; never waits. */
		gnutls_bye(c->sess, GNUTLS_SHUT_WR);
		gnutls_deinit(c->sess);
		c->sess = NULL;
	}
	if (c->relay_fd >= 0)
		close(c->relay_fd);
	c->relay_fd = -1;
	pthread_mutex_lock(&srv->tls_lock);
	close(c->fd);
	c->fd = -1;
	if (c->handshaking)
		srv->tls_handshaking--;
	c->handshaking = false;
	c->done = true;
	pthread_mutex_unlock(&srv->tls_lock);
	/* The accept thread joins us. */
	if (write(srv->wake_fd, &one, sizeof(one)) < 0)
		log_ratelimited(LOG_WARN, "vnc: eventfd: %s", strerror(errno));
}

static void *conn_thread(void *arg)
{
	struct vnc_tls_conn *c = arg;
	struct vnc_server *srv = c->srv;
	uint32_t subtype = srv->password ? VENCRYPT_X509VNC : VENCRYPT_X509NONE;
	int minor;

	minor = negotiate(c, subtype);
	if (minor < 0 || tls_handshake(c))
		goto out;
	if (vnc_handover_relay(srv, c->peer, minor, &c->relay_fd))
		goto out;
	fcntl(c->relay_fd, F_SETFL, fcntl(c->relay_fd, F_GETFL) | O_NONBLOCK);
	if (answer_libvncserver(c, subtype))
		goto out;
	pthread_mutex_lock(&srv->tls_lock);
	srv->tls_handshaking--;
	c->handshaking = false;
	pthread_mutex_unlock(&srv->tls_lock);
	log_debug("vnc: %s: VeNCrypt %s, %s", c->peer,
		  subtype == VENCRYPT_X509VNC ? "X509Vnc" : "X509None",
		  gnutls_protocol_get_name(gnutls_protocol_get_version(c->sess)));
	relay(c);
out:
	finish(c);
	return NULL;
}

void vnc_vencrypt_accept(struct vnc_server *srv, int fd, const char *peer)
{
	struct vnc_tls_conn *c;
	int busy;

	if (vnc_auth_locked_out(srv, peer)) {
		log_ratelimited(LOG_WARN,
				"vnc: %s: too many failed authentications, connection refused",
				peer);
		close(fd);
		return;
	}
	pthread_mutex_lock(&srv->tls_lock);
	busy = srv->tls_handshaking;
	pthread_mutex_unlock(&srv->tls_lock);
	if (busy >= srv->max_clients) {
		log_ratelimited(LOG_WARN, "vnc: %s: %d TLS handshakes in progress, connection refused",
				peer, busy);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->relay_fd = -1;
	c->handshaking = true;
	c->deadline_ns = vnc_now_ns() +
			 (uint64_t)srv->handshake_timeout_ms * 1000000ull;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

	pthread_mutex_lock(&srv->tls_lock);
	srv->tls_handshaking++;
	if (pthread_create(&c->thread, NULL, conn_thread, c)) {
		srv->tls_handshaking--;
		pthread_mutex_unlock(&srv->tls_lock);
		log_ratelimited(LOG_WARN, "vnc: %s: cannot start a thread, connection refused",
				peer);
		close(fd);
		free(c);
		return;
	}
	c->next = srv->tls_conns;
	srv->tls_conns = c;
	pthread_mutex_unlock(&srv->tls_lock);
}

/* Join and free the connections whose threads have finished. */
void vnc_vencrypt_reap(struct vnc_server *srv)
{
	struct vnc_tls_conn *done = NULL;

	pthread_mutex_lock(&srv->tls_lock);
	for (struct vnc_tls_conn **pp = &srv->tls_conns; *pp;) {
		struct vnc_tls_conn *c = *pp;

		if (c->done) {
			*pp = c->next;
			c->next = done;
			done = c;
		} else {
			pp = &c->next;
		}
	}
	pthread_mutex_unlock(&srv->tls_lock);
	while (done) {
		struct vnc_tls_conn *next = done->next;

		pthread_join(done->thread, NULL);
		free(done);
		done = next;
	}
}

/*
 * Shut every viewer socket down: each thread then fails its next read or
 * poll, closes its side of libvncserver's pair (so that client goes too)
 * and ends.
 */
void vnc_vencrypt_stop(struct vnc_server *srv)
{
	for (;;) {
		bool any;

		pthread_mutex_lock(&srv->tls_lock);
		any = srv->tls_conns != NULL;
		for (struct vnc_tls_conn *c = srv->tls_conns; c; c = c->next)
			if (c->fd >= 0)
				shutdown(c->fd, SHUT_RDWR);
		pthread_mutex_unlock(&srv->tls_lock);
		if (!any)
			return;
		/* Join in creation order; a thread still running here
		 * is past its shutdown and about to finish. */
		pthread_mutex_lock(&srv->tls_lock);
		for (struct vnc_tls_conn *c = srv->tls_conns; c; c = c->next)
			c->done = true;
		pthread_mutex_unlock(&srv->tls_lock);
		vnc_vencrypt_reap(srv);
	}
}
