// SPDX-License-Identifier: MIT
/*
 * The VNC front: parses --vnc, owns the listening socket, accepts clients
 * and hands each one to libvncserver.
 *
 * The handover avoids libvncserver's WebSocket/TLS probe. rfbNewClient()
 * peeks at the first 4 bytes for up to 100 ms before it sends its protocol
 * version, but a VNC client speaks only after the server's version, so every
 * plain client would wait the full 100 ms. Instead rfbNewClient() gets one
 * end of a socketpair in which we have already put "RFB 003.008\n": the peek
 * finds "RFB " at once (so libvncserver's WebSocket and TLS detection never
 * sees a byte from the network) and libvncserver writes its version into the
 * pair. We drain both, forward the version to the real client and dup3() the
 * real socket over libvncserver's descriptor before its thread starts: from
 * then on libvncserver talks to the client directly, with no copy and no
 * relay thread. rfbNewClient() only records the descriptor number, sets it
 * non-blocking and TCP_NODELAY (redone here) and writes the version, so the
 * swap is invisible to it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/hostport.h"
#include "vmm/log.h"
#include "vnc/vnc_int.h"

int vnc_parse_listen(const char *spec, struct vnc_listen *out, char *err,
		     size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!spec)
		spec = VNC_DEFAULT_LISTEN;
	if (!strcmp(spec, "none")) {
		out->kind = VNC_LISTEN_NONE;
		return 0;
	}
	if (!strncmp(spec, "unix:", 5)) {
		const char *path = spec + 5;

		if (!*path || strlen(path) >= sizeof(out->path)) {
			snprintf(err, errlen, "--vnc %s: the UNIX socket path must be 1..%zu characters",
				 spec, sizeof(out->path) - 1);
			return -1;
		}
		out->kind = VNC_LISTEN_UNIX;
		strcpy(out->path, path);
		return 0;
	}
	if (spec[0] != '[' && !strchr(spec, ':')) {
		snprintf(err, errlen, "--vnc %s: expected ADDR:PORT, unix:PATH or none", spec);
		return -1;
	}
	if (parse_host_port("--vnc", spec, out->host, sizeof(out->host),
			    &out->port, err, errlen))
		return -1;
	out->kind = VNC_LISTEN_TCP;
	return 0;
}

static bool addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		const uint8_t *b = in6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127;
	}
	return false;
}

static int listen_tcp(struct vnc_server *srv, char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE,
	}, *res, *ai;
	char portstr[8];
	const char *host = srv->listen.host[0] ? srv->listen.host : NULL;
	int rc, fd = -1, saved = 0, one = 1, zero = 0;

	snprintf(portstr, sizeof(portstr), "%d", srv->listen.port);
	/* With no address, bind :: with V6ONLY off: every IPv4 and IPv6
	 * address. getaddrinfo lists 0.0.0.0 first, so ask for IPv6 first. */
	if (!host)
		hints.ai_family = AF_INET6;
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc && !host) {
		hints.ai_family = AF_UNSPEC;
		rc = getaddrinfo(host, portstr, &hints, &res);
	}
	if (rc) {
		snprintf(err, errlen, "--vnc %s:%d: %s", srv->listen.host,
			 srv->listen.port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		/* Authentication: a password, or a client certificate
		 * (TLS alone, X509None, authenticates only the server). */
		if (!addr_is_loopback(ai->ai_addr) && !srv->password &&
		    !vnc_tls_verifies_clients(srv->tls)) {
			snprintf(err, errlen,
				 "--vnc %s:%d is not a loopback address: refusing to listen without --password-file (or --tls-verify-client)",
				 host ? host : "", srv->listen.port);
			freeaddrinfo(res);
			return -1;
		}
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6 && !host)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 16))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "--vnc %s:%d: cannot listen: %s",
			 srv->listen.host, srv->listen.port, strerror(saved));
		return -1;
	}
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (!getsockname(fd, (struct sockaddr *)&ss, &len))
			srv->bound_port = ntohs(ss.ss_family == AF_INET6 ?
				((struct sockaddr_in6 *)&ss)->sin6_port :
				((struct sockaddr_in *)&ss)->sin_port);
	}
	log_info("vnc: listening on %s:%d", host ? host : "*", srv->bound_port);
	srv->listen_fd = fd;
	return 0;
}

static int listen_unix(struct vnc_server *srv, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	strcpy(sun.sun_path, srv->listen.path);
	if (!lstat(sun.sun_path, &st)) {
		/* A stale socket from a previous run; anything else is
		 * somebody's file and stays. */
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--vnc unix:%s exists and is not a socket",
				 sun.sun_path);
			return -1;
		}
		unlink(sun.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(sun.sun_path, 0600) || listen(fd, 16)) {
		snprintf(err, errlen, "--vnc unix:%s: %s", sun.sun_path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	log_info("vnc: listening on unix:%s", sun.sun_path);
	srv->listen_fd = fd;
	srv->bound_port = -1;
	return 0;
}

int vnc_net_listen(struct vnc_server *srv, char *err, size_t errlen)
{
	srv->listen_fd = -1;
	srv->bound_port = -1;
	switch (srv->listen.kind) {
	case VNC_LISTEN_TCP:
		return listen_tcp(srv, err, errlen);
	case VNC_LISTEN_UNIX:
		return listen_unix(srv, err, errlen);
	default:
		return 0;
	}
}

void vnc_net_close(struct vnc_server *srv)
{
	if (srv->listen_fd < 0)
		return;
	close(srv->listen_fd);
	srv->listen_fd = -1;
	if (srv->listen.kind == VNC_LISTEN_UNIX)
		unlink(srv->listen.path);
}

/* Join the client threads whose clients are gone (upstream never does). */
static void reap_threads(struct vnc_server *srv)
{
	for (;;) {
		pthread_t t;

		pthread_mutex_lock(&srv->clients_lock);
		if (!srv->nreap) {
			pthread_mutex_unlock(&srv->clients_lock);
			return;
		}
		t = srv->reap[--srv->nreap];
		pthread_mutex_unlock(&srv->clients_lock);
		pthread_join(t, NULL);
	}
}

static void peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &slen) ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    getnameinfo((struct sockaddr *)&ss, slen, buf, (socklen_t)len,
			NULL, 0, NI_NUMERICHOST))
		snprintf(buf, len, "unix");
	/* An IPv4 client of an IPv6 socket: one rate-limit entry either way. */
	if (!strncmp(buf, "::ffff:", 7) && strchr(buf, '.'))
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
}

void *vnc_accept_thread(void *arg)
{
	struct vnc_server *srv = arg;

	while (!atomic_load(&srv->stopping)) {
		struct pollfd pfd[2] = {
			{ .fd = srv->wake_fd, .events = POLLIN },
			{ .fd = srv->listen_fd, .events = POLLIN },
		};
		char peer[64];
		uint64_t v;
		int fd;

		if (poll(pfd, srv->listen_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno != EINTR)
				log_ratelimited(LOG_WARN, "vnc: poll: %s",
						strerror(errno));
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(srv->wake_fd, &v, sizeof(v)) < 0)
				v = 0;
			reap_threads(srv);
			vnc_vencrypt_reap(srv);
		}
		if (!(pfd[1].revents & POLLIN) || atomic_load(&srv->stopping))
			continue;
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_ratelimited(LOG_WARN, "vnc: accept: %s",
						strerror(errno));
				usleep(100 * 1000);
			}
			continue;
		}
		peer_name(fd, peer, sizeof(peer));
		if (srv->tls)
			vnc_vencrypt_accept(srv, fd, peer);
		else
			vnc_server_add_client(srv, fd, peer);
	}
	reap_threads(srv);
	return NULL;
}

static int read_exact_now(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* libvncserver has the client but no thread yet: undo rfbNewClient(). */
static void drop_new_client(rfbClientPtr cl)
{
	rfbCloseClient(cl);
	rfbClientConnectionGone(cl);
}

/* The client is in libvncserver, on hold: record it and start its thread. */
static int start_client(struct vnc_server *srv, rfbClientPtr cl,
			const char *peer, unsigned flags)
{
	struct vnc_client *vc;

	vc = cl->clientData;
	if (!vc) {
		drop_new_client(cl);
		return -1;
	}
	snprintf(vc->peer, sizeof(vc->peer), "%s", peer ? peer : "?");
	/* libvncserver drops key, pointer and cut-text messages of a
	 * view-only client (and qemu_ext.c its extended key events). */
	cl->viewOnly = (flags & VNC_CLIENT_VIEW_ONLY) ? TRUE : FALSE;
	free(cl->host);
	cl->host = strdup(vc->peer);
	vc->shut_fd = fcntl(cl->sock, F_DUPFD_CLOEXEC, 0);
	if (!cl->host || vc->shut_fd < 0) {
		drop_new_client(cl);
		return -1;
	}
	pthread_mutex_lock(&srv->clients_lock);
	vc->next = srv->clients;
	srv->clients = vc;
	srv->nclients++;
	pthread_mutex_unlock(&srv->clients_lock);

	vnc_client_arriving(srv);
	vc->started = true;
	rfbStartOnHoldClient(cl);
	return 0;
}

/*
 * rfbNewClient() updates the screen's fd_set and maxFd without a lock; the
 * accept thread, the VeNCrypt threads and the WebSocket bridge may all
 * call it.
 */
static rfbClientPtr new_client(struct vnc_server *srv, int sock)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	rfbClientPtr cl;

	pthread_mutex_lock(&lock);
	cl = rfbNewClient(srv->screen, sock);
	pthread_mutex_unlock(&lock);
	return cl;
}

int vnc_handover(struct vnc_server *srv, int fd, const char *peer)
{
	return vnc_handover_ex(srv, fd, peer, 0);
}

int vnc_handover_ex(struct vnc_server *srv, int fd, const char *peer,
		    unsigned flags)
{
	static const char fake[] = "RFB 003.008\n";
	char pv[sz_rfbProtocolVersionMsg], drain[sz_rfbProtocolVersionMsg];
	rfbClientPtr cl;
	int sp[2], one = 1;

	/* libvncserver select()s on the socket and on a pipe it makes
	 * later: descriptors past FD_SETSIZE would overflow its fd_sets.
	 * (The real socket is dup3()ed down to the socketpair's number.) */
	if (srv->direct_handover) {
		if (fd >= FD_SETSIZE - 16) {
			close(fd);
			return -1;
		}
		cl = new_client(srv, fd);
		if (!cl)
			return -1;
		goto handed;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
		close(fd);
		return -1;
	}
	if (sp[0] >= FD_SETSIZE - 16 || sp[1] >= FD_SETSIZE - 16) {
		log_ratelimited(LOG_WARN, "vnc: %s: too many open files for libvncserver, connection refused",
				peer);
		close(sp[0]);
		close(sp[1]);
		close(fd);
		return -1;
	}
	if (write(sp[1], fake, sz_rfbProtocolVersionMsg) !=
	    sz_rfbProtocolVersionMsg) {
		close(sp[0]);
		close(sp[1]);
		close(fd);
		return -1;
	}
	cl = new_client(srv, sp[0]);
	if (!cl) {
		/* rfbNewClient() closed sp[0] on every path but OOM. */
		close(sp[1]);
		close(fd);
		return -1;
	}
	/*
	 * The pair holds our fake client version (towards libvncserver) and
	 * libvncserver's version (towards us). Forward the latter, then put
	 * the client's socket where libvncserver looks.
	 */
	if (read_exact_now(sp[0], drain, sizeof(drain)) ||
	    read_exact_now(sp[1], pv, sizeof(pv)) ||
	    write(fd, pv, sizeof(pv)) != (ssize_t)sizeof(pv) ||
	    dup3(fd, sp[0], O_CLOEXEC) < 0) {
		close(sp[1]);
		close(fd);
		drop_new_client(cl);
		return -1;
	}
	close(sp[1]);
	close(fd);
	fcntl(cl->sock, F_SETFL, fcntl(cl->sock, F_GETFL) | O_NONBLOCK);
	setsockopt(cl->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
handed:
	return start_client(srv, cl, peer, flags);
}

/* Clients past max_clients whose peer is gone but whose threads have not
 * ended yet (each holds two threads and a few descriptors). */
#define DYING_MAX 64

/* A client that still counts against max_clients: libvncserver is not
 * closing it and its peer has not hung up. clients_lock held (it keeps
 * vc, cl and shut_fd valid: on_client_gone() unlinks vc under it first). */
static bool client_live(struct vnc_client *vc)
{
	struct pollfd p = { .fd = vc->shut_fd, .events = POLLRDHUP };

	if (__atomic_load_n(&vc->cl->state, __ATOMIC_RELAXED) == RFB_SHUTDOWN)
		return false;
	return !(poll(&p, 1, 0) == 1 &&
		 (p.revents & (POLLRDHUP | POLLHUP | POLLERR)));
}

/*
 * Whether one more client may come. max_clients counts live clients only:
 * a client whose viewer has gone ends on its own threads, which on a busy
 * machine get to it tens of milliseconds later, while a browser reloading
 * (or a test) reconnects within one or two; counting those made the server
 * refuse clients with none really connected. Dying ones are bounded apart.
 */
static bool admit(struct vnc_server *srv, const char *peer)
{
	int total, live = 0;

	pthread_mutex_lock(&srv->clients_lock);
	total = srv->nclients;
	if (total < srv->max_clients)
		live = total;
	else
		for (struct vnc_client *vc = srv->clients; vc; vc = vc->next)
			live += client_live(vc);
	pthread_mutex_unlock(&srv->clients_lock);
	if (live < srv->max_clients && total < srv->max_clients + DYING_MAX)
		return true;
	log_ratelimited(LOG_WARN, "vnc: %s: %d clients already (%d closing), connection refused",
			peer, live, total - live);
	return false;
}

int vnc_server_add_client(struct vnc_server *srv, int fd, const char *peer)
{
	return vnc_server_add_client_ex(srv, fd, peer, 0);
}

int vnc_server_add_client_ex(struct vnc_server *srv, int fd, const char *peer,
			     unsigned flags)
{
	if (!peer)
		peer = "?";
	if (atomic_load(&srv->stopping)) {
		close(fd);
		return -1;
	}
	if (vnc_auth_locked_out(srv, peer)) {
		log_ratelimited(LOG_WARN,
				"vnc: %s: too many failed authentications, connection refused",
				peer);
		close(fd);
		return -1;
	}
	if (!admit(srv, peer)) {
		close(fd);
		return -1;
	}
	return vnc_handover_ex(srv, fd, peer, flags);
}

int vnc_handover_relay(struct vnc_server *srv, const char *peer, int minor,
		       int *relay_fd)
{
	char fake[] = "RFB 003.008\n", pv[sz_rfbProtocolVersionMsg];
	rfbClientPtr cl;
	int sp[2];

	if (atomic_load(&srv->stopping) || !admit(srv, peer))
		return -1;
	fake[10] = (char)('0' + (minor == 7 ? 7 : 8));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return -1;
	if (sp[0] >= FD_SETSIZE - 16 ||
	    write(sp[1], fake, sz_rfbProtocolVersionMsg) !=
	    sz_rfbProtocolVersionMsg) {
		log_ratelimited(LOG_WARN, "vnc: %s: cannot hand the client to libvncserver",
				peer);
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	/* libvncserver's peek finds our version at once; it keeps sp[0]
	 * and reads that version from it when its thread starts. */
	cl = new_client(srv, sp[0]);
	if (!cl) {
		close(sp[1]);
		return -1;
	}
	if (read_exact_now(sp[1], pv, sizeof(pv))) {
		close(sp[1]);
		drop_new_client(cl);
		return -1;
	}
	if (start_client(srv, cl, peer, 0)) {
		close(sp[1]);
		return -1;
	}
	*relay_fd = sp[1];
	return 0;
}
