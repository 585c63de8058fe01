// SPDX-License-Identifier: MIT
/*
 * A libvncclient viewer that types on the built-in guest and checks what the
 * guest's PS/2 driver received (tests/integration/test_vnc_input.sh runs it
 * against `vmm --demo --append test=input --vnc ... --debugcon FILE`).
 *
 *   vnc_input_client HOST PORT DEBUGCON_FILE
 *
 * The guest (vmm/guest/input.c) reports each keyboard byte as "KBD xx" and
 * each mouse packet as "MOUSE dx dy dz buttons" on its debug port. For every
 * key of the list below the client sends the key events a real viewer sends
 * (modifiers pressed first, e.g. Shift for "!") and checks that exactly the
 * expected bytes arrived. The expectations are scancode set 1 as the PC/AT
 * keyboard with an 8042 in translation mode delivers it (the standard
 * tables: IBM PC/AT technical reference, A. Brouwer's "Keyboard scancodes"),
 * written out by hand here, never taken from the vmm's own tables.
 *
 * Prints "ok <group>" or "FAIL <group>: ..." per group of keys; exits 1 if
 * anything failed, 2 on usage or connection errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#include "tests/common/rfbwait.h"

#define MAX_KBD      65536
#define MAX_MOUSE    4096
#define KEY_TIMEOUT  3.0        /* seconds for the guest to report a key */
#define SETTLE       0.15       /* extra wait for bytes that should not come */

/* X11 keysyms (X11/keysymdef.h). */
#define XK_BackSpace   0xFF08
#define XK_Tab         0xFF09
#define XK_Return      0xFF0D
#define XK_Pause       0xFF13
#define XK_Scroll_Lock 0xFF14
#define XK_Sys_Req     0xFF15
#define XK_Escape      0xFF1B
#define XK_Home        0xFF50
#define XK_Left        0xFF51
#define XK_Up          0xFF52
#define XK_Right       0xFF53
#define XK_Down        0xFF54
#define XK_Prior       0xFF55
#define XK_Next        0xFF56
#define XK_End         0xFF57
#define XK_Print       0xFF61
#define XK_Insert      0xFF63
#define XK_Menu        0xFF67
#define XK_Break       0xFF6B
#define XK_Num_Lock    0xFF7F
#define XK_KP_Enter    0xFF8D
#define XK_KP_Home     0xFF95
#define XK_KP_Left     0xFF96
#define XK_KP_Up       0xFF97
#define XK_KP_Right    0xFF98
#define XK_KP_Down     0xFF99
#define XK_KP_Prior    0xFF9A
#define XK_KP_Next     0xFF9B
#define XK_KP_End      0xFF9C
#define XK_KP_Begin    0xFF9D
#define XK_KP_Insert   0xFF9E
#define XK_KP_Delete   0xFF9F
#define XK_KP_Multiply 0xFFAA
#define XK_KP_Add      0xFFAB
#define XK_KP_Subtract 0xFFAD
#define XK_KP_Decimal  0xFFAE
#define XK_KP_Divide   0xFFAF
#define XK_KP_0        0xFFB0
#define XK_F1          0xFFBE
#define XK_Shift_L     0xFFE1
#define XK_Shift_R     0xFFE2
#define XK_Control_L   0xFFE3
#define XK_Control_R   0xFFE4
#define XK_Caps_Lock   0xFFE5
#define XK_Alt_L       0xFFE9
#define XK_Alt_R       0xFFEA
#define XK_Super_L     0xFFEB
#define XK_Super_R     0xFFEC
#define XK_Delete      0xFFFF
#define XK_ISO_Level3_Shift 0xFE03

/* RFB pointer button mask bits. */
#define BTN_LEFT       1
#define BTN_MIDDLE     2
#define BTN_RIGHT      4
#define BTN_WHEEL_UP   8
#define BTN_WHEEL_DOWN 16

/* The guest's MOUSE buttons field: PS/2 packet bits. */
#define PS2_LEFT   1
#define PS2_RIGHT  2
#define PS2_MIDDLE 4

struct key_case {
	const char *group;
	const char *name;
	uint32_t mods[3];       /* held around the key, pressed in order */
	uint32_t keysym;
	uint32_t xt;            /* != 0: a QEMU Extended Key Event */
	const char *expect;     /* set 1 bytes, hex, space separated */
};

/* --- the guest's debug port output --------------------------------------- */

static struct {
	int fd;
	char line[512];
	size_t len;
	uint8_t kbd[MAX_KBD];
	size_t nkbd, kpos;         /* received, consumed */
	int mouse[MAX_MOUSE][4];
	size_t nmouse, mpos;
} g;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void guest_line(const char *s)
{
	unsigned b;
	int m[4];

	if (sscanf(s, "KBD %x", &b) == 1) {
		if (g.nkbd < MAX_KBD)
			g.kbd[g.nkbd++] = (uint8_t)b;
	} else if (sscanf(s, "MOUSE %d %d %d %d", &m[0], &m[1], &m[2],
			  &m[3]) == 4) {
		if (g.nmouse < MAX_MOUSE)
			memcpy(g.mouse[g.nmouse++], m, sizeof(m));
	} else if (!strncmp(s, "RESULT error", 12) ||
		   !strncmp(s, "EXCEPTION", 9)) {
		printf("FAIL guest: %s\n", s);
	}
}

static void guest_poll(void)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(g.fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				g.line[g.len] = '\0';
				guest_line(g.line);
				g.len = 0;
			} else if (g.len < sizeof(g.line) - 1) {
				g.line[g.len++] = buf[i];
			}
		}
	}
}

/* --- the viewers ----------------------------------------------------------- */

#define NCLIENTS 2
static rfbClient *clients[NCLIENTS];

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

/* Handle server messages for about `secs` (keeps update requests flowing
 * so the server never blocks on us), reading the guest's output too. */
static void pump(double secs)
{
	double end = now_s() + secs;

	do {
		for (int i = 0; i < NCLIENTS; i++) {
			rfbClient *c = clients[i];
			int n;

			if (!c)
				continue;
			n = rfb_wait_message(c, 1000);
			if (n > 0 && !HandleRFBServerMessage(c)) {
				printf("FAIL connection %d: lost\n", i);
				exit(1);
			}
		}
		guest_poll();
	} while (now_s() < end);
}

/*
 * The server acknowledges pseudo-encoding -258 with a FramebufferUpdate
 * rectangle of that encoding and no data. libvncclient 0.9.14 lists -258
 * in its SetEncodings itself but, depending on its version, either notes
 * the acknowledgement (SupportsClient2Server(rfbQemuEvent)) or leaves the
 * rectangle to extensions: this one sees it in the second case.
 */
static int ext_key_encodings[] = { (int)rfbEncodingQemuExtendedKeyEvent, 0 };
static bool ext_key_acked;

static rfbBool ext_key_rect(rfbClient *c, rfbFramebufferUpdateRectHeader *r)
{
	(void)c;
	if (r->encoding != rfbEncodingQemuExtendedKeyEvent)
		return FALSE;
	ext_key_acked = true;
	return TRUE;
}

static rfbClientProtocolExtension ext_key_ext = {
	.encodings = ext_key_encodings,
	.handleEncoding = ext_key_rect,
};

static rfbClient *connect_viewer(const char *host, int port)
{
	rfbClient *c = rfbGetClient(8, 3, 4);

	free(c->serverHost);
	c->serverHost = strdup(host);
	c->serverPort = port;
	/* libvncclient appends the QEMU pseudo-encodings (-258 Extended Key
	 * Event among them) to this list in its SetEncodings message. */
	c->appData.encodingsString = "zrle raw";
	if (!rfbInitClient(c, NULL, NULL))
		return NULL;
	return c;
}

static void send_ext_key(rfbClient *c, bool down, uint32_t keysym,
			 uint32_t code)
{
	/* QEMU client message 255, subtype 0: down (U16), keysym, keycode. */
	uint8_t m[12] = { 255, 0, 0, down,
			  (uint8_t)(keysym >> 24), (uint8_t)(keysym >> 16),
			  (uint8_t)(keysym >> 8), (uint8_t)keysym,
			  (uint8_t)(code >> 24), (uint8_t)(code >> 16),
			  (uint8_t)(code >> 8), (uint8_t)code };

	WriteToRFBServer(c, (const char *)m, sizeof(m));
}

/* --- keys ----------------------------------------------------------------- */

static size_t parse_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	char *end;

	while (*s && n < max) {
		unsigned long v = strtoul(s, &end, 16);

		if (end == s)
			break;
		out[n++] = (uint8_t)v;
		s = end;
	}
	return n;
}

static void hex_str(const uint8_t *b, size_t n, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 4 < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%02x", i ? " " : "",
				      b[i]);
	if (!n)
		snprintf(out, size, "(nothing)");
}

static void send_key_case(rfbClient *c, const struct key_case *k)
{
	size_t nmods = 0;

	while (nmods < 3 && k->mods[nmods])
		SendKeyEvent(c, k->mods[nmods++], TRUE);
	if (k->xt) {
		send_ext_key(c, true, k->keysym, k->xt);
		send_ext_key(c, false, k->keysym, k->xt);
	} else {
		SendKeyEvent(c, k->keysym, TRUE);
		SendKeyEvent(c, k->keysym, FALSE);
	}
	while (nmods)
		SendKeyEvent(c, k->mods[--nmods], FALSE);
}

/* Run one key; true if the guest got exactly the expected bytes. */
static bool run_key(rfbClient *c, const struct key_case *k, char *why,
		    size_t whysize)
{
	uint8_t want[32];
	size_t n = parse_hex(k->expect, want, sizeof(want)), got;
	double end;
	char ws[128], gs[256];

	send_key_case(c, k);
	end = now_s() + KEY_TIMEOUT;
	while (g.nkbd - g.kpos < n && now_s() < end)
		pump(0.002);
	/* Anything more would be wrong too: give it a moment to show. */
	pump(g.nkbd - g.kpos == n ? 0.02 : 0);
	got = g.nkbd - g.kpos;
	if (got == n && !memcmp(g.kbd + g.kpos, want, n)) {
		g.kpos += got;
		return true;
	}
	hex_str(want, n, ws, sizeof(ws));
	hex_str(g.kbd + g.kpos, got < 64 ? got : 64, gs, sizeof(gs));
	snprintf(why, whysize, "key %s: expected %s, got %s", k->name, ws, gs);
	g.kpos += got;
	return false;
}

#define K(grp, nm, ks, exp) { grp, nm, { 0 }, ks, 0, exp }
#define KM(grp, nm, m1, ks, exp) { grp, nm, { m1 }, ks, 0, exp }
#define KX(grp, nm, ks, xt, exp) { grp, nm, { 0 }, ks, xt, exp }

static const struct key_case keys[] = {
	K("letters", "a", 'a', "1e 9e"), K("letters", "b", 'b', "30 b0"),
	K("letters", "c", 'c', "2e ae"), K("letters", "d", 'd', "20 a0"),
	K("letters", "e", 'e', "12 92"), K("letters", "f", 'f', "21 a1"),
	K("letters", "g", 'g', "22 a2"), K("letters", "h", 'h', "23 a3"),
	K("letters", "i", 'i', "17 97"), K("letters", "j", 'j', "24 a4"),
	K("letters", "k", 'k', "25 a5"), K("letters", "l", 'l', "26 a6"),
	K("letters", "m", 'm', "32 b2"), K("letters", "n", 'n', "31 b1"),
	K("letters", "o", 'o', "18 98"), K("letters", "p", 'p', "19 99"),
	K("letters", "q", 'q', "10 90"), K("letters", "r", 'r', "13 93"),
	K("letters", "s", 's', "1f 9f"), K("letters", "t", 't', "14 94"),
	K("letters", "u", 'u', "16 96"), K("letters", "v", 'v', "2f af"),
	K("letters", "w", 'w', "11 91"), K("letters", "x", 'x', "2d ad"),
	K("letters", "y", 'y', "15 95"), K("letters", "z", 'z', "2c ac"),
	KM("capitals", "Shift+A", XK_Shift_L, 'A', "2a 1e 9e aa"),
	KM("capitals", "Shift+M", XK_Shift_L, 'M', "2a 32 b2 aa"),
	KM("capitals", "RShift+Z", XK_Shift_R, 'Z', "36 2c ac b6"),

	K("digits", "1", '1', "02 82"), K("digits", "2", '2', "03 83"),
	K("digits", "3", '3', "04 84"), K("digits", "4", '4', "05 85"),
	K("digits", "5", '5', "06 86"), K("digits", "6", '6', "07 87"),
	K("digits", "7", '7', "08 88"), K("digits", "8", '8', "09 89"),
	K("digits", "9", '9', "0a 8a"), K("digits", "0", '0', "0b 8b"),

	K("punctuation", "minus", '-', "0c 8c"),
	K("punctuation", "equal", '=', "0d 8d"),
	K("punctuation", "bracketleft", '[', "1a 9a"),
	K("punctuation", "bracketright", ']', "1b 9b"),
	K("punctuation", "backslash", '\\', "2b ab"),
	K("punctuation", "semicolon", ';', "27 a7"),
	K("punctuation", "apostrophe", '\'', "28 a8"),
	K("punctuation", "grave", '`', "29 a9"),
	K("punctuation", "comma", ',', "33 b3"),
	K("punctuation", "period", '.', "34 b4"),
	K("punctuation", "slash", '/', "35 b5"),
	K("punctuation", "space", ' ', "39 b9"),

	KM("shifted symbols", "!", XK_Shift_L, '!', "2a 02 82 aa"),
	KM("shifted symbols", "@", XK_Shift_L, '@', "2a 03 83 aa"),
	KM("shifted symbols", "#", XK_Shift_L, '#', "2a 04 84 aa"),
	KM("shifted symbols", "$", XK_Shift_L, '$', "2a 05 85 aa"),
	KM("shifted symbols", "%", XK_Shift_L, '%', "2a 06 86 aa"),
	KM("shifted symbols", "^", XK_Shift_L, '^', "2a 07 87 aa"),
	KM("shifted symbols", "&", XK_Shift_L, '&', "2a 08 88 aa"),
	KM("shifted symbols", "*", XK_Shift_L, '*', "2a 09 89 aa"),
	KM("shifted symbols", "(", XK_Shift_L, '(', "2a 0a 8a aa"),
	KM("shifted symbols", ")", XK_Shift_L, ')', "2a 0b 8b aa"),
	KM("shifted symbols", "_", XK_Shift_L, '_', "2a 0c 8c aa"),
	KM("shifted symbols", "+", XK_Shift_L, '+', "2a 0d 8d aa"),
	KM("shifted symbols", "{", XK_Shift_L, '{', "2a 1a 9a aa"),
	KM("shifted symbols", "}", XK_Shift_L, '}', "2a 1b 9b aa"),
	KM("shifted symbols", "|", XK_Shift_L, '|', "2a 2b ab aa"),
	KM("shifted symbols", ":", XK_Shift_L, ':', "2a 27 a7 aa"),
	KM("shifted symbols", "\"", XK_Shift_L, '"', "2a 28 a8 aa"),
	KM("shifted symbols", "~", XK_Shift_L, '~', "2a 29 a9 aa"),
	KM("shifted symbols", "<", XK_Shift_L, '<', "2a 33 b3 aa"),
	KM("shifted symbols", ">", XK_Shift_L, '>', "2a 34 b4 aa"),
	KM("shifted symbols", "?", XK_Shift_L, '?', "2a 35 b5 aa"),
	KM("shifted symbols", "RShift+!", XK_Shift_R, '!', "36 02 82 b6"),

	K("editing", "Return", XK_Return, "1c 9c"),
	K("editing", "BackSpace", XK_BackSpace, "0e 8e"),
	K("editing", "Tab", XK_Tab, "0f 8f"),
	K("editing", "Escape", XK_Escape, "01 81"),
	K("editing", "Caps_Lock", XK_Caps_Lock, "3a ba"),
	K("editing", "Caps_Lock (off again)", XK_Caps_Lock, "3a ba"),

	K("navigation", "Up", XK_Up, "e0 48 e0 c8"),
	K("navigation", "Down", XK_Down, "e0 50 e0 d0"),
	K("navigation", "Left", XK_Left, "e0 4b e0 cb"),
	K("navigation", "Right", XK_Right, "e0 4d e0 cd"),
	K("navigation", "Home", XK_Home, "e0 47 e0 c7"),
	K("navigation", "End", XK_End, "e0 4f e0 cf"),
	K("navigation", "Prior", XK_Prior, "e0 49 e0 c9"),
	K("navigation", "Next", XK_Next, "e0 51 e0 d1"),
	K("navigation", "Insert", XK_Insert, "e0 52 e0 d2"),
	K("navigation", "Delete", XK_Delete, "e0 53 e0 d3"),

	K("function keys", "F1", XK_F1 + 0, "3b bb"),
	K("function keys", "F2", XK_F1 + 1, "3c bc"),
	K("function keys", "F3", XK_F1 + 2, "3d bd"),
	K("function keys", "F4", XK_F1 + 3, "3e be"),
	K("function keys", "F5", XK_F1 + 4, "3f bf"),
	K("function keys", "F6", XK_F1 + 5, "40 c0"),
	K("function keys", "F7", XK_F1 + 6, "41 c1"),
	K("function keys", "F8", XK_F1 + 7, "42 c2"),
	K("function keys", "F9", XK_F1 + 8, "43 c3"),
	K("function keys", "F10", XK_F1 + 9, "44 c4"),
	K("function keys", "F11", XK_F1 + 10, "57 d7"),
	K("function keys", "F12", XK_F1 + 11, "58 d8"),

	K("keypad", "KP_0", XK_KP_0 + 0, "52 d2"),
	K("keypad", "KP_1", XK_KP_0 + 1, "4f cf"),
	K("keypad", "KP_2", XK_KP_0 + 2, "50 d0"),
	K("keypad", "KP_3", XK_KP_0 + 3, "51 d1"),
	K("keypad", "KP_4", XK_KP_0 + 4, "4b cb"),
	K("keypad", "KP_5", XK_KP_0 + 5, "4c cc"),
	K("keypad", "KP_6", XK_KP_0 + 6, "4d cd"),
	K("keypad", "KP_7", XK_KP_0 + 7, "47 c7"),
	K("keypad", "KP_8", XK_KP_0 + 8, "48 c8"),
	K("keypad", "KP_9", XK_KP_0 + 9, "49 c9"),
	K("keypad", "KP_Decimal", XK_KP_Decimal, "53 d3"),
	K("keypad", "KP_Insert", XK_KP_Insert, "52 d2"),
	K("keypad", "KP_End", XK_KP_End, "4f cf"),
	K("keypad", "KP_Down", XK_KP_Down, "50 d0"),
	K("keypad", "KP_Next", XK_KP_Next, "51 d1"),
	K("keypad", "KP_Left", XK_KP_Left, "4b cb"),
	K("keypad", "KP_Begin", XK_KP_Begin, "4c cc"),
	K("keypad", "KP_Right", XK_KP_Right, "4d cd"),
	K("keypad", "KP_Home", XK_KP_Home, "47 c7"),
	K("keypad", "KP_Up", XK_KP_Up, "48 c8"),
	K("keypad", "KP_Prior", XK_KP_Prior, "49 c9"),
	K("keypad", "KP_Delete", XK_KP_Delete, "53 d3"),
	K("keypad", "KP_Divide", XK_KP_Divide, "e0 35 e0 b5"),
	K("keypad", "KP_Multiply", XK_KP_Multiply, "37 b7"),
	K("keypad", "KP_Subtract", XK_KP_Subtract, "4a ca"),
	K("keypad", "KP_Add", XK_KP_Add, "4e ce"),
	K("keypad", "KP_Enter", XK_KP_Enter, "e0 1c e0 9c"),
	K("keypad", "Num_Lock", XK_Num_Lock, "45 c5"),
	K("keypad", "Num_Lock (off again)", XK_Num_Lock, "45 c5"),

	K("modifiers", "Control_L", XK_Control_L, "1d 9d"),
	K("modifiers", "Control_R", XK_Control_R, "e0 1d e0 9d"),
	K("modifiers", "Alt_L", XK_Alt_L, "38 b8"),
	K("modifiers", "Alt_R", XK_Alt_R, "e0 38 e0 b8"),
	K("modifiers", "ISO_Level3_Shift (AltGr)", XK_ISO_Level3_Shift,
	  "e0 38 e0 b8"),
	K("modifiers", "Shift_L", XK_Shift_L, "2a aa"),
	K("modifiers", "Shift_R", XK_Shift_R, "36 b6"),
	K("modifiers", "Super_L", XK_Super_L, "e0 5b e0 db"),
	K("modifiers", "Super_R", XK_Super_R, "e0 5c e0 dc"),
	K("modifiers", "Menu", XK_Menu, "e0 5d e0 dd"),
	K("modifiers", "Scroll_Lock", XK_Scroll_Lock, "46 c6"),
	K("modifiers", "Scroll_Lock (off again)", XK_Scroll_Lock, "46 c6"),

	/* Print Screen: a "fake shift" around E0 37 when no modifier is
	 * held; bare E0 37 with Shift or Ctrl; SysRq (54) with Alt. */
	K("print/sysrq", "Print", XK_Print, "e0 2a e0 37 e0 b7 e0 aa"),
	KM("print/sysrq", "Shift+Print", XK_Shift_L, XK_Print,
	   "2a e0 37 e0 b7 aa"),
	KM("print/sysrq", "Ctrl+Print", XK_Control_L, XK_Print,
	   "1d e0 37 e0 b7 9d"),
	KM("print/sysrq", "Alt+Print", XK_Alt_L, XK_Print, "38 54 d4 b8"),
	KM("print/sysrq", "Alt+Sys_Req", XK_Alt_L, XK_Sys_Req, "38 54 d4 b8"),

	/* Pause: one make sequence and no break; Ctrl+Pause is Break. */
	K("pause", "Pause", XK_Pause, "e1 1d 45 e1 9d c5"),
	KM("pause", "Ctrl+Pause", XK_Control_L, XK_Pause,
	   "1d e0 46 e0 c6 9d"),
	KM("pause", "Ctrl+Break", XK_Control_L, XK_Break,
	   "1d e0 46 e0 c6 9d"),

	{ "ctrl-alt-del", "Ctrl+Alt+Delete", { XK_Control_L, XK_Alt_L },
	  XK_Delete, 0, "1d 38 e0 53 e0 d3 b8 9d" },

	/* QEMU Extended Key Events: the XT code wins over the keysym. */
	KX("qemu extended keys", "0x56 (ISO <>, no US keysym)", '<', 0x56,
	   "56 d6"),
	KX("qemu extended keys", "0x56 with keysym 0", 0, 0x56, "56 d6"),
	KX("qemu extended keys", "0x9d (right Ctrl)", XK_Control_R, 0x9D,
	   "e0 1d e0 9d"),
	KX("qemu extended keys", "0x10 with keysym a (AZERTY A)", 'a', 0x10,
	   "10 90"),
	KX("qemu extended keys", "0xc8 (Up)", XK_Up, 0xC8, "e0 48 e0 c8"),
	KX("qemu extended keys", "0xb8 (AltGr)", XK_ISO_Level3_Shift, 0xB8,
	   "e0 38 e0 b8"),
	KX("qemu extended keys", "0x73 (JIS Ro)", 0, 0x73, "73 f3"),
	KX("qemu extended keys", "0x7d (JIS Yen)", 0, 0x7D, "7d fd"),
	KX("qemu extended keys", "0x70 (Katakana/Hiragana)", 0, 0x70,
	   "70 f0"),
	KX("qemu extended keys", "0x79 (Henkan)", 0, 0x79, "79 f9"),
	KX("qemu extended keys", "0x7b (Muhenkan)", 0, 0x7B, "7b fb"),
};

static int run_keys(rfbClient *c)
{
	int fails = 0;
	size_t i = 0, nkeys = sizeof(keys) / sizeof(keys[0]);

	while (i < nkeys) {
		const char *grp = keys[i].group;
		int n = 0, bad = 0;
		char why[512];

		for (; i < nkeys && !strcmp(keys[i].group, grp); i++, n++) {
			if (!run_key(c, &keys[i], why, sizeof(why))) {
				printf("FAIL %s: %s\n", grp, why);
				bad++;
			}
		}
		if (!bad)
			printf("ok %s (%d keys)\n", grp, n);
		fails += bad;
	}
	return fails;
}

/* --- pointer ----------------------------------------------------------------- */

struct move_case {
	const char *name;
	int x, y, mask;             /* the pointer event sent */
	int dx, dy, dz, buttons;    /* expected sums, final buttons */
};

/* From (100, 100) on a surface at least 640x400; dy > 0 is up (PS/2),
 * dz > 0 is the wheel turned down (IntelliMouse). */
static const struct move_case moves[] = {
	{ "right 10", 110, 100, 0, 10, 0, 0, 0 },
	{ "up 10", 110, 90, 0, 0, 10, 0, 0 },
	{ "down 20", 110, 110, 0, 0, -20, 0, 0 },
	{ "left 20", 90, 110, 0, -20, 0, 0, 0 },
	{ "diagonal", 120, 80, 0, 30, 30, 0, 0 },
	{ "left button down", 120, 80, BTN_LEFT, 0, 0, 0, PS2_LEFT },
	{ "drag with left", 130, 85, BTN_LEFT, 10, -5, 0, PS2_LEFT },
	{ "left button up", 130, 85, 0, 0, 0, 0, 0 },
	{ "right button down", 130, 85, BTN_RIGHT, 0, 0, 0, PS2_RIGHT },
	{ "right button up", 130, 85, 0, 0, 0, 0, 0 },
	{ "middle button down", 130, 85, BTN_MIDDLE, 0, 0, 0, PS2_MIDDLE },
	{ "middle button up", 130, 85, 0, 0, 0, 0, 0 },
	{ "left+right down", 130, 85, BTN_LEFT | BTN_RIGHT, 0, 0, 0,
	  PS2_LEFT | PS2_RIGHT },
	{ "left+right up", 130, 85, 0, 0, 0, 0, 0 },
	{ "wheel up", 130, 85, BTN_WHEEL_UP, 0, 0, -1, 0 },
	{ "wheel up released", 130, 85, 0, 0, 0, 0, 0 },
	{ "wheel down", 130, 85, BTN_WHEEL_DOWN, 0, 0, 1, 0 },
	{ "wheel down released", 130, 85, 0, 0, 0, 0, 0 },
	{ "long move right 500", 630, 85, 0, 500, 0, 0, 0 },
	{ "long move back", 130, 385, 0, -500, -300, 0, 0 },
};

static void take_packets(int *sx, int *sy, int *sz, int *b)
{
	for (; g.mpos < g.nmouse; g.mpos++) {
		*sx += g.mouse[g.mpos][0];
		*sy += g.mouse[g.mpos][1];
		*sz += g.mouse[g.mpos][2];
		*b = g.mouse[g.mpos][3];
	}
}

/* One pointer event; `quiet`: it changes nothing the mouse reports (a
 * wheel button released), so no packet may come. */
static bool run_move(rfbClient *c, const struct move_case *m, bool quiet,
		     char *why, size_t whysize)
{
	int sx = 0, sy = 0, sz = 0, b = m->buttons;
	double end = now_s() + KEY_TIMEOUT;
	size_t start = g.mpos;

	SendPointerEvent(c, m->x, m->y, m->mask);
	while (!quiet && now_s() < end) {
		pump(0.002);
		take_packets(&sx, &sy, &sz, &b);
		if (g.mpos > start && sx == m->dx && sy == m->dy &&
		    sz == m->dz && b == m->buttons)
			break;
	}
	pump(SETTLE);
	take_packets(&sx, &sy, &sz, &b);
	if (sx == m->dx && sy == m->dy && sz == m->dz && b == m->buttons &&
	    (g.mpos > start) != quiet)
		return true;
	snprintf(why, whysize,
		 "%s: expected dx=%d dy=%d dz=%d buttons=%d%s, got dx=%d dy=%d dz=%d buttons=%d in %zu packets",
		 m->name, m->dx, m->dy, m->dz, m->buttons,
		 quiet ? " and no packet" : "", sx, sy, sz, b, g.mpos - start);
	return false;
}

static int run_mouse(rfbClient *c)
{
	int fails = 0;
	char why[512];

	/* Where the pointer starts: the first position has no delta. */
	SendPointerEvent(c, 100, 100, 0);
	pump(0.3);
	g.mpos = g.nmouse;
	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		const struct move_case *m = &moves[i];
		bool quiet = !m->dx && !m->dy && !m->dz &&
			     m->buttons == (i ? moves[i - 1].buttons : 0);

		if (!run_move(c, m, quiet, why, sizeof(why))) {
			printf("FAIL mouse: %s\n", why);
			fails++;
		}
	}
	if (!fails)
		printf("ok mouse (%zu motions, buttons, wheel)\n",
		       sizeof(moves) / sizeof(moves[0]));
	return fails;
}

/* --- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	struct key_case k2 = K("second viewer", "x", 'x', "2d ad");
	int fails = 0, port;
	char why[512];

	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST PORT DEBUGCON_FILE\n", argv[0]);
		return 2;
	}
	port = atoi(argv[2]);
	g.fd = open(argv[3], O_RDONLY | O_CLOEXEC);
	if (g.fd < 0) {
		fprintf(stderr, "%s: %s\n", argv[3], strerror(errno));
		return 2;
	}
	rfbClientLog = quiet;
	rfbClientRegisterExtension(&ext_key_ext);
	clients[0] = connect_viewer(argv[1], port);
	if (!clients[0]) {
		printf("FAIL connect: no VNC server on %s:%d\n", argv[1], port);
		return 2;
	}
	/* The server acknowledges -258 with a pseudo-rectangle; libvncclient
	 * then allows message 255. */
	for (double end = now_s() + 5; now_s() < end;) {
		pump(0.01);
		if (ext_key_acked || SupportsClient2Server(clients[0], rfbQemuEvent))
			break;
	}
	if (!ext_key_acked && !SupportsClient2Server(clients[0], rfbQemuEvent)) {
		printf("FAIL qemu extended keys: the server did not announce "
		       "pseudo-encoding -258\n");
		fails++;
	}
	/* Forget what the guest printed before we typed. */
	g.kpos = g.nkbd;
	g.mpos = g.nmouse;

	fails += run_keys(clients[0]);
	fails += run_mouse(clients[0]);

	/* A second viewer types too, while the first stays connected. */
	clients[1] = connect_viewer(argv[1], port);
	if (!clients[1]) {
		printf("FAIL second viewer: cannot connect\n");
		fails++;
	} else {
		pump(0.3);
		if (run_key(clients[1], &k2, why, sizeof(why))) {
			printf("ok second viewer\n");
		} else {
			printf("FAIL second viewer: %s\n", why);
			fails++;
		}
	}

	/* Nothing stray at the end. */
	pump(0.3);
	if (g.nkbd != g.kpos || g.nmouse != g.mpos) {
		char s[256];

		hex_str(g.kbd + g.kpos, g.nkbd - g.kpos < 64 ? g.nkbd - g.kpos : 64,
			s, sizeof(s));
		printf("FAIL stray input: keyboard %s, %zu mouse packets\n", s,
		       g.nmouse - g.mpos);
		fails++;
	} else {
		printf("ok no stray bytes\n");
	}
	for (int i = 0; i < NCLIENTS; i++)
		if (clients[i]) {
			/* rfbClientCleanup() leaves the frame buffer to us. */
			free(clients[i]->frameBuffer);
			clients[i]->frameBuffer = NULL;
			rfbClientCleanup(clients[i]);
		}
	printf(fails ? "%d failed\n" : "all ok\n", fails);
	return fails ? 1 : 0;
}
