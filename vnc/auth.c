// SPDX-License-Identifier: MIT
/*
 * VNC authentication: the password from --password-file, checked against
 * the client's DES response to libvncserver's challenge, and a per-address
 * rate limit on failures: failure n waits auth_delay_ms * 2^(n-1) (at most
 * 8 s) before the verdict, and after auth_lockout_failures failures the
 * address's connections are refused for auth_lockout_s seconds. A success
 * clears the address's count; counts are forgotten after 10 minutes. The
 * password is never logged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vnc/vnc_int.h"

#define AUTH_FORGET_NS (600ull * 1000000000ull)
#define AUTH_MAX_DELAY_MS 8000

uint64_t vnc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int vnc_auth_load(struct vnc_server *srv, const char *file, char *err,
		  size_t errlen)
{
	char line[1024];
	size_t len;
	FILE *f;

	srv->password = NULL;
	if (!file)
		return 0;
	f = fopen(file, "r");
	if (!f) {
		snprintf(err, errlen, "--password-file %s: %s", file,
			 strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	len = strcspn(line, "\r\n");
	line[len] = 0;
	if (!len) {
		snprintf(err, errlen, "--password-file %s: the first line (the password) is empty",
			 file);
		explicit_bzero(line, sizeof(line));
		return -1;
	}
	if (len > 8)
		log_warn("vnc: VNC authentication uses only the first 8 characters of the password");
	srv->password = strdup(line);
	explicit_bzero(line, sizeof(line));
	if (!srv->password) {
		snprintf(err, errlen, "--password-file %s: out of memory", file);
		return -1;
	}
	return 0;
}

void vnc_auth_free(struct vnc_server *srv)
{
	if (!srv->password)
		return;
	explicit_bzero(srv->password, strlen(srv->password));
	free(srv->password);
	srv->password = NULL;
}

/* The entry for peer, or NULL. Caller holds auth_lock. */
static struct auth_entry *find(struct vnc_server *srv, const char *peer,
			       uint64_t now)
{
	for (int i = 0; i < AUTH_TABLE_SIZE; i++) {
		struct auth_entry *e = &srv->auth[i];

		if (!e->failures || strcmp(e->peer, peer))
			continue;
		if (now - e->last_ns > AUTH_FORGET_NS) {
			e->failures = 0;
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* A free entry, else the one idle longest. Caller holds auth_lock. */
static struct auth_entry *alloc_entry(struct vnc_server *srv)
{
	struct auth_entry *best = &srv->auth[0];

	for (int i = 0; i < AUTH_TABLE_SIZE; i++) {
		if (!srv->auth[i].failures)
			return &srv->auth[i];
		if (srv->auth[i].last_ns < best->last_ns)
			best = &srv->auth[i];
	}
	return best;
}

bool vnc_auth_locked_out(struct vnc_server *srv, const char *peer)
{
	uint64_t now = vnc_now_ns();
	struct auth_entry *e;
	bool locked = false;

	pthread_mutex_lock(&srv->auth_lock);
	e = find(srv, peer, now);
	if (e && e->failures >= (unsigned)srv->auth_lockout_failures &&
	    now - e->last_ns < (uint64_t)srv->auth_lockout_s * 1000000000ull)
		locked = true;
	pthread_mutex_unlock(&srv->auth_lock);
	return locked;
}

/* Record a failure; returns how many in a row from this address. */
static unsigned record_failure(struct vnc_server *srv, const char *peer)
{
	uint64_t now = vnc_now_ns();
	struct auth_entry *e;
	unsigned n;

	pthread_mutex_lock(&srv->auth_lock);
	e = find(srv, peer, now);
	if (!e) {
		e = alloc_entry(srv);
		snprintf(e->peer, sizeof(e->peer), "%s", peer);
		e->failures = 0;
	}
	if (e->failures < 1000)
		e->failures++;
	e->last_ns = now;
	n = e->failures;
	pthread_mutex_unlock(&srv->auth_lock);
	return n;
}

static void clear_failures(struct vnc_server *srv, const char *peer)
{
	struct auth_entry *e;

	pthread_mutex_lock(&srv->auth_lock);
	e = find(srv, peer, vnc_now_ns());
	if (e)
		e->failures = 0;
	pthread_mutex_unlock(&srv->auth_lock);
}

/* libvncserver's passwordCheck, on the client's thread. */
rfbBool vnc_auth_check(rfbClientPtr cl, const char *response, int len)
{
	struct vnc_server *srv = cl->screen->screenData;
	const char *peer = cl->host ? cl->host : "?";
	unsigned char expected[CHALLENGESIZE];
	unsigned diff = 0, n;
	long delay;

	if (!srv->password)
		return FALSE;
	memcpy(expected, cl->authChallenge, CHALLENGESIZE);
	rfbEncryptBytes(expected, srv->password);
	if (len != CHALLENGESIZE)
		diff = 1;
	else
		for (int i = 0; i < CHALLENGESIZE; i++)
			diff |= expected[i] ^ (unsigned char)response[i];
	explicit_bzero(expected, sizeof(expected));
	if (!diff) {
		clear_failures(srv, peer);
		return TRUE;
	}
	n = record_failure(srv, peer);
	log_ratelimited(LOG_WARN, "vnc: %s: authentication failed (%u in a row)",
			peer, n);
	delay = (long)srv->auth_delay_ms << (n - 1 < 6 ? n - 1 : 6);
	if (delay > AUTH_MAX_DELAY_MS)
		delay = AUTH_MAX_DELAY_MS;
	usleep((useconds_t)delay * 1000);
	return FALSE;
}
