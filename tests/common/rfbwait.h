/* SPDX-License-Identifier: MIT */
/*
 * rfb_wait_message(): libvncclient's WaitForMessage() for our test clients
 * (unit tests, integration clients, the bench client, the Linux tier's
 * tools), and rfb_pump_until() on top of it; header-only so that every one
 * of them, whatever it links, can include it.
 *
 * WaitForMessage() only select()s on the socket. ReadFromRFBServer() reads
 * as much as the socket has into the client's own buffer, so a message that
 * arrived in the same read() as the previous one sits in c->buf (counted by
 * c->buffered) unseen: the caller would wait until the server happens to
 * send something else, or time out (an LED change right after an update).
 *
 * Not covered: over TLS, gnutls may also hold decrypted bytes of a record
 * larger than what libvncclient asked for (gnutls_record_check_pending());
 * checking that would make every client link gnutls.
 */
#ifndef TESTS_COMMON_RFBWAIT_H
#define TESTS_COMMON_RFBWAIT_H

#include <stdbool.h>
#include <time.h>

#include <rfb/rfbclient.h>

/*
 * As WaitForMessage(c, usecs): > 0 when HandleRFBServerMessage() has
 * something to read (already buffered, or on the socket), 0 on timeout,
 * < 0 on error.
 */
static inline int rfb_wait_message(rfbClient *c, unsigned usecs)
{
	return c->buffered ? 1 : WaitForMessage(c, usecs);
}

/* CLOCK_MONOTONIC in seconds, for the timeout below. */
static inline double rfbwait_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Handles server messages until cond(c, arg) holds: true; false after
 * timeout seconds or when the connection fails.
 */
static inline bool rfb_pump_until(rfbClient *c,
				  bool (*cond)(rfbClient *, void *), void *arg,
				  double timeout)
{
	double end = rfbwait_now() + timeout;

	while (!cond(c, arg)) {
		int n;

		if (rfbwait_now() > end)
			return false;
		n = rfb_wait_message(c, 20000);
		if (n < 0 || (n > 0 && !HandleRFBServerMessage(c)))
			return false;
	}
	return true;
}

#endif
