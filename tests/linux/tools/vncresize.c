/* SPDX-License-Identifier: MIT */
/*
 * vncresize: a VNC client (libvncclient) that asks the server for another
 * desktop size (SetDesktopSize, the ExtendedDesktopSize extension) and
 * waits until the frame buffer it receives has that size, as a viewer
 * whose window was resized does.
 *
 *   vncresize HOST:PORT|unix:PATH WxH [-t SECONDS] [-v]
 *
 * Connects (retrying until the timeout while the server is not yet
 * listening), waits for the first frame buffer update and the server's
 * screen layout, sends SetDesktopSize WxH, then reads updates until a
 * complete update of a WxH frame buffer arrived. Prints
 *
 *   VNCRESIZE-START WxH        the size before the request
 *   VNCRESIZE-SIZE WxH N       a frame buffer update of WxH completed,
 *                              N of its pixels not black
 *
 * Exit status: 0 when a WxH update with some non-black pixels arrived
 * (the guest drew into its new mode), 1 on refusal, a lost connection or
 * timeout, 2 on bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rfb/rfbclient.h>

#include "tests/common/rfbwait.h"
#include "tests/linux/tools/vncclient_util.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static double deadline;
static int frames;
static int want_w, want_h;
static long last_lit = -1;      /* non-black pixels of the last WxH update */
static bool verbose;

/* Pixels with any colour bit set (32 bpp, the format we asked for). */
static long lit_pixels(rfbClient *c)
{
	const uint32_t *p = (const uint32_t *)c->frameBuffer;
	long n = 0;

	if (!p)
		return 0;
	for (long i = 0; i < (long)c->width * c->height; i++)
		n += (p[i] & 0xffffff) != 0;
	return n;
}

static void on_frame(rfbClient *c)
{
	frames++;
	if (c->width == want_w && c->height == want_h) {
		long lit = lit_pixels(c);

		if (lit != last_lit)
			printf("VNCRESIZE-SIZE %dx%d %ld\n", c->width, c->height, lit);
		last_lit = lit;
	}
}

static bool parse_size(const char *s, int *w, int *h)
{
	unsigned a, b;
	char tail;

	if (sscanf(s, "%ux%u%c", &a, &b, &tail) != 2 || !a || !b ||
	    a > 8192 || b > 8192)
		return false;
	*w = (int)a;
	*h = (int)b;
	return true;
}

/* Handle server messages until cond holds; false on timeout or loss. */
static bool pump(rfbClient *c, bool (*cond)(rfbClient *))
{
	while (!cond(c)) {
		double left = deadline - vcu_now();
		int n;

		if (left <= 0)
			return false;
		n = rfb_wait_message(c, 50000);
		if (n < 0 || (n > 0 && !HandleRFBServerMessage(c))) {
			fprintf(stderr, "vncresize: connection to the server lost\n");
			return false;
		}
	}
	return true;
}

/* The server sent its screen layout (ExtendedDesktopSize) with a frame. */
static bool layout_known(rfbClient *c)
{
	return frames > 0 && (c->screen.width || c->screen.height);
}

static bool resized(rfbClient *c)
{
	return c->width == want_w && c->height == want_h && last_lit > 0;
}

int main(int argc, char **argv)
{
	const char *target = NULL, *size = NULL;
	unsigned long timeout = 20;
	char *host = NULL;
	int port, rc = EXIT_FAIL;
	rfbClient *c;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			errno = 0;
			timeout = strtoul(argv[++i], &end, 10);
			if (errno || *end || !timeout || timeout > 86400)
				goto usage;
		} else if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (argv[i][0] != '-' && !target) {
			target = argv[i];
		} else if (argv[i][0] != '-' && !size) {
			size = argv[i];
		} else {
			goto usage;
		}
	}
	if (!target || !size || !parse_size(size, &want_w, &want_h) ||
	    vcu_parse_target(target, &host, &port))
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	vcu_quiet_log(verbose);

	deadline = vcu_now() + (double)timeout;
	c = vcu_connect(host, port, deadline, on_frame);
	if (!c) {
		fprintf(stderr, "vncresize: cannot connect to %s within %lu s\n",
			target, timeout);
		free(host);
		return EXIT_FAIL;
	}
	if (!pump(c, layout_known)) {
		fprintf(stderr, "vncresize: no frame with a screen layout "
			"(ExtendedDesktopSize) before the timeout\n");
		goto out;
	}
	printf("VNCRESIZE-START %dx%d\n", c->width, c->height);
	if (!SendExtDesktopSize(c, (uint16_t)want_w, (uint16_t)want_h)) {
		fprintf(stderr, "vncresize: sending SetDesktopSize failed\n");
		goto out;
	}
	if (!pump(c, resized)) {
		fprintf(stderr, "vncresize: the frame buffer is %dx%d (lit %ld), "
			"not %dx%d with content, at the timeout\n", c->width,
			c->height, last_lit, want_w, want_h);
		goto out;
	}
	rc = EXIT_OK;
out:
	/* rfbClientCleanup() leaves the frame buffer to the application. */
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
	free(host);
	return rc;
usage:
	fprintf(stderr, "usage: vncresize HOST:PORT|unix:PATH WxH [-t SECONDS] [-v]\n");
	return EXIT_USAGE;
}
