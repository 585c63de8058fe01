/* SPDX-License-Identifier: MIT */
/*
 * vnctype: a VNC client (libvncclient) that types keys, for tests that drive
 * a guest's keyboard through the vmm's VNC server.
 *
 *   vnctype HOST:PORT|unix:PATH [-t SECONDS] [-d MS] [-f]
 *           [--text STRING] [--keysym 0xNNNN] [--xt 0xNN] ...
 *
 * Connects (retrying until the timeout while the server is not yet
 * listening), then sends, in command-line order:
 *   --text STRING   each character as a press and a release of its X11
 *                   keysym; characters that need Shift on a US keyboard
 *                   (capitals, "!@#..." ) are sent with Shift_L held; "\n"
 *                   (a newline, or the two characters backslash n) is
 *                   Return and "\t" Tab
 *   --keysym 0xN    one keysym, pressed and released
 *   --xt 0xNN       one XT scancode (0xE0-prefixed keys with bit 7 set, as
 *                   QEMU numbers them) through the QEMU Extended Key Event
 *                   message, which the server must have acknowledged
 *   --pointer X,Y,MASK  one pointer event (MASK: RFB button bits, 1 left,
 *                   2 middle, 4 right, 8 wheel up, 16 wheel down)
 *   --leds MASK     wait until the server's QEMU LED state (pseudo-encoding
 *                   -261: 1 Scroll, 2 Num, 4 Caps Lock) equals MASK; the
 *                   states seen are printed as "VNCTYPE-LEDS N" lines
 * Options:
 *   -t SECONDS  overall timeout (default 10)
 *   -d MS       pause after each key event (default 10): the guest reads
 *               the PS/2 controller one byte at a time, keep its queue short
 *   -f          wait for a first framebuffer update before typing
 *
 * Exit status: 0 when every event was sent, 1 on a connection or protocol
 * failure or timeout, 2 on bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rfb/rfbclient.h>

#include "tests/common/rfbwait.h"
#include "tests/linux/tools/vncclient_util.h"

#define KS_RETURN  0xff0d
#define KS_TAB     0xff09
#define KS_SHIFT_L 0xffe1

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

enum action_kind { ACT_TEXT, ACT_KEYSYM, ACT_XT, ACT_POINTER, ACT_LEDS };

struct action {
	enum action_kind kind;
	const char *text;
	uint32_t value;
	int x, y;
};

static double deadline;
static unsigned delay_ms = 10;
static int frames;
static bool ext_key_acked;
static int leds = -1;           /* last QEMU LED state; -1: none yet */
static bool verbose;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vnctype HOST:PORT|unix:PATH [-t SECONDS] [-d MS] [-f] [-v]\n"
		"               [--text STRING] [--keysym 0xNNNN] [--xt 0xNN]\n"
		"               [--pointer X,Y,MASK] [--leds MASK]...\n"
		"  -t SECONDS  overall timeout (default 10)\n"
		"  -d MS       pause after each key event (default 10)\n"
		"  -f          wait for a first framebuffer update first\n"
		"  -v          libvncclient's log on stderr\n"
		"Keys are sent in command-line order, each pressed and released.\n");
}

static void on_frame(rfbClient *c)
{
	(void)c;
	frames++;
}

/* A number with an optional 0x prefix that fits in max; false otherwise. */
static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/*
 * US-layout characters typed with Shift: X11 keysyms of printable ASCII are
 * the characters themselves, but a server that maps keysyms to scancodes
 * still needs the Shift key down to produce them in the guest.
 */
static bool needs_shift(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch && strchr("~!@#$%^&*()_+{}|:\"<>?", ch));
}

/* QEMU LED state, pseudo-encoding -261: one byte per rectangle. */
static int led_encodings[] = { -261, 0 };

static rfbBool led_rect(rfbClient *c, rfbFramebufferUpdateRectHeader *rect)
{
	uint8_t b;

	if ((int32_t)rect->encoding != -261)
		return FALSE;
	if (!ReadFromRFBServer(c, (char *)&b, 1))
		return FALSE;
	leds = b;
	printf("VNCTYPE-LEDS %d\n", leds);
	fflush(stdout);
	return TRUE;
}

static rfbClientProtocolExtension led_ext = {
	.encodings = led_encodings,
	.handleEncoding = led_rect,
};

/* Handle server messages until cond holds (true) or the time until (true
 * only without a cond); false on timeout or a lost connection. */
static bool pump(rfbClient *c, bool (*cond)(rfbClient *), double until)
{
	while (!(cond && cond(c))) {
		double left = until - vcu_now();
		int n;

		if (left <= 0)
			return cond == NULL;
		n = rfb_wait_message(c, left > 0.05 ? 50000 : (unsigned)(left * 1e6) + 1);
		if (n < 0 || (n > 0 && !HandleRFBServerMessage(c))) {
			fprintf(stderr, "vnctype: connection to the server lost\n");
			return false;
		}
		/*
		 * libvncclient records the acknowledgement in its supported-
		 * message flags, which libvncserver's SupportedMessages
		 * rectangle (without QEMU's message 255) overwrites later:
		 * remember it here, one message at a time.
		 */
		if (SupportsClient2Server(c, rfbQemuEvent))
			ext_key_acked = true;
	}
	return true;
}

static int leds_wanted;

static bool leds_match(rfbClient *c)
{
	(void)c;
	return leds == leds_wanted;
}

/* "X,Y,MASK" with X, Y in 0..65535 and MASK in 0..255. */
static bool parse_pointer(const char *s, struct action *a)
{
	unsigned x, y, m;
	char tail;

	if (sscanf(s, "%u,%u,%u%c", &x, &y, &m, &tail) != 3 || x > 65535 ||
	    y > 65535 || m > 255)
		return false;
	*a = (struct action){ ACT_POINTER, NULL, m, (int)x, (int)y };
	return true;
}

static bool has_frame(rfbClient *c)
{
	(void)c;
	return frames > 0;
}

static bool ext_key_ready(rfbClient *c)
{
	(void)c;
	return ext_key_acked;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * QEMU Extended Key Event: message 255, subtype 0, down-flag (U16), keysym,
 * XT keycode. Written directly: SendExtendedKeyEvent() checks the flag the
 * SupportedMessages rectangle may have cleared (see pump()).
 */
static rfbBool send_ext_key(rfbClient *c, uint32_t keysym, uint32_t xt, bool down)
{
	uint8_t m[12] = { 255, 0, 0, down ? 1 : 0 };

	put32(m + 4, keysym);
	put32(m + 8, xt);
	return WriteToRFBServer(c, (const char *)m, sizeof(m));
}

/* One key event, then the pause (serving the server meanwhile). */
static bool key(rfbClient *c, uint32_t keysym, uint32_t xt, bool down)
{
	rfbBool sent = xt ? send_ext_key(c, keysym, xt, down)
			  : SendKeyEvent(c, keysym, down);

	if (!sent) {
		fprintf(stderr, "vnctype: sending a key event failed\n");
		return false;
	}
	return pump(c, NULL, vcu_now() + delay_ms / 1000.0);
}

static bool tap(rfbClient *c, uint32_t keysym, uint32_t xt)
{
	return key(c, keysym, xt, true) && key(c, keysym, xt, false);
}

static bool type_text(rfbClient *c, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		uint32_t ks = ch;
		bool shift;

		if (ch == '\\' && (s[1] == 'n' || s[1] == 't')) {
			ch = s[1] == 'n' ? '\n' : '\t';
			s++;
		}
		if (ch == '\n' || ch == '\r')
			ks = KS_RETURN;
		else if (ch == '\t')
			ks = KS_TAB;
		else if (ch < 0x20 || ch > 0x7e) {
			fprintf(stderr, "vnctype: --text: cannot type byte 0x%02x\n", ch);
			return false;
		}
		shift = needs_shift(ch);
		if (shift && !key(c, KS_SHIFT_L, 0, true))
			return false;
		if (!tap(c, ks, 0))
			return false;
		if (shift && !key(c, KS_SHIFT_L, 0, false))
			return false;
	}
	return true;
}

static int frames_before_sync;

static bool synced(rfbClient *c)
{
	(void)c;
	return frames > frames_before_sync;
}

/*
 * The server handles a client's messages in order: once the update asked
 * for after the last key arrives, every key has been handed on. Closing
 * with unread data queued would reset the connection instead, which could
 * lose the last keys.
 */
static bool sync_server(rfbClient *c)
{
	double until = vcu_now() + 2;

	frames_before_sync = frames;
	if (!SendFramebufferUpdateRequest(c, 0, 0, 1, 1, FALSE))
		return false;
	if (until > deadline)
		until = deadline;
	if (!pump(c, synced, until))
		fprintf(stderr, "vnctype: warning: no update after the last key\n");
	return true;
}

static bool run(rfbClient *c, const struct action *acts, int n, bool want_frame)
{
	if (want_frame && !pump(c, has_frame, deadline)) {
		fprintf(stderr, "vnctype: no framebuffer update before the timeout\n");
		return false;
	}
	for (int i = 0; i < n; i++) {
		switch (acts[i].kind) {
		case ACT_TEXT:
			if (!type_text(c, acts[i].text))
				return false;
			break;
		case ACT_KEYSYM:
			if (!tap(c, acts[i].value, 0))
				return false;
			break;
		case ACT_XT:
			/* libvncclient acknowledges -258 while reading messages. */
			if (!pump(c, ext_key_ready, deadline)) {
				fprintf(stderr, "vnctype: the server did not acknowledge "
					"QEMU Extended Key Events\n");
				return false;
			}
			if (!tap(c, 0, acts[i].value))
				return false;
			break;
		case ACT_POINTER:
			if (!SendPointerEvent(c, acts[i].x, acts[i].y, (int)acts[i].value) ||
			    !pump(c, NULL, vcu_now() + delay_ms / 1000.0)) {
				fprintf(stderr, "vnctype: sending a pointer event failed\n");
				return false;
			}
			break;
		case ACT_LEDS:
			leds_wanted = (int)acts[i].value;
			if (!pump(c, leds_match, deadline)) {
				fprintf(stderr, "vnctype: LED state %d, not %d, at the timeout\n",
					leds, leds_wanted);
				return false;
			}
			break;
		}
		if (vcu_now() > deadline) {
			fprintf(stderr, "vnctype: timed out while typing\n");
			return false;
		}
	}
	return sync_server(c);
}

int main(int argc, char **argv)
{
	struct action *acts = calloc((size_t)argc, sizeof(*acts));
	const char *target = NULL;
	uint32_t timeout = 10, v;
	bool want_frame = false, ok;
	char *host = NULL;
	const char *why;
	int port, n = 0;
	rfbClient *c;

	if (!acts)
		return EXIT_FAIL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "-f")) {
			want_frame = true;
		} else if (!strcmp(a, "-v")) {
			verbose = true;
		} else if (!strcmp(a, "-t") && arg && parse_u32(arg, 86400, &timeout) && timeout) {
			i++;
		} else if (!strcmp(a, "-d") && arg && parse_u32(arg, 10000, &v)) {
			delay_ms = v;
			i++;
		} else if (!strcmp(a, "--text") && arg) {
			acts[n++] = (struct action){ .kind = ACT_TEXT, .text = arg };
			i++;
		} else if (!strcmp(a, "--keysym") && arg && parse_u32(arg, 0x1fffffff, &v)) {
			acts[n++] = (struct action){ .kind = ACT_KEYSYM, .value = v };
			i++;
		} else if (!strcmp(a, "--xt") && arg && parse_u32(arg, 0xff, &v) && v) {
			acts[n++] = (struct action){ .kind = ACT_XT, .value = v };
			i++;
		} else if (!strcmp(a, "--pointer") && arg && parse_pointer(arg, &acts[n])) {
			n++;
			i++;
		} else if (!strcmp(a, "--leds") && arg && parse_u32(arg, 7, &v)) {
			acts[n++] = (struct action){ ACT_LEDS, NULL, v, 0, 0 };
			i++;
		} else if (a[0] != '-' && !target) {
			target = a;
		} else {
			fprintf(stderr, "vnctype: bad argument: %s%s%s\n", a,
				arg ? " " : "", arg ? arg : "");
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!target) {
		usage(stderr);
		return EXIT_USAGE;
	}
	why = vcu_parse_target(target, &host, &port);
	if (why) {
		fprintf(stderr, "vnctype: %s: %s\n", why, target);
		return EXIT_USAGE;
	}
	vcu_quiet_log(verbose);

	rfbClientRegisterExtension(&led_ext);
	deadline = vcu_now() + timeout;
	c = vcu_connect(host, port, deadline, on_frame);
	if (!c) {
		fprintf(stderr, "vnctype: cannot connect to %s within %u s\n", target, timeout);
		free(host);
		free(acts);
		return EXIT_FAIL;
	}
	ok = run(c, acts, n, want_frame);
	/* rfbClientCleanup() leaves the frame buffer to the application. */
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
	free(host);
	free(acts);
	return ok ? EXIT_OK : EXIT_FAIL;
}
