/* SPDX-License-Identifier: MIT */
/* Shared by vnctype and vncresize: see vncclient_util.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/linux/tools/vncclient_util.h"

double vcu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vcu_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void quiet_log(const char *fmt, ...)
{
	(void)fmt;
}

void vcu_quiet_log(bool verbose)
{
	if (verbose)
		return;
	rfbClientLog = quiet_log;
	rfbClientErr = quiet_log;
}

const char *vcu_parse_target(const char *spec, char **host, int *port)
{
	const char *colon;
	char *end;
	long p;

	if (!strncmp(spec, "unix:", 5)) {
		if (spec[5] != '/')
			return "unix: needs an absolute path";
		*host = strdup(spec + 5);
		*port = 0;
		return *host ? NULL : "out of memory";
	}
	colon = strrchr(spec, ':');
	if (!colon || colon == spec)
		return "bad address (HOST:PORT or unix:PATH)";
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || p <= 0 || p > 65535)
		return "bad address (HOST:PORT or unix:PATH)";
	if (spec[0] == '[' && colon[-1] == ']')
		*host = strndup(spec + 1, (size_t)(colon - spec - 2));
	else
		*host = strndup(spec, (size_t)(colon - spec));
	*port = (int)p;
	return *host ? NULL : "out of memory";
}

rfbClient *vcu_connect(const char *host, int port, double deadline,
		       FinishedFrameBufferUpdateProc on_frame)
{
	for (;;) {
		rfbClient *c = rfbGetClient(8, 3, 4);

		if (!c)
			return NULL;
		free(c->serverHost);
		c->serverHost = strdup(host);
		c->serverPort = port;
		c->connectTimeout = 5;
		c->readTimeout = 5;
		c->FinishedFrameBufferUpdate = on_frame;
		c->canHandleNewFBSize = TRUE;
		/* rfbInitClient frees the client when it fails. */
		if (rfbInitClient(c, NULL, NULL))
			return c;
		if (vcu_now() >= deadline)
			return NULL;
		vcu_sleep_ms(200);
	}
}
