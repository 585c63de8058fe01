// SPDX-License-Identifier: MIT
/* US keymap: every key the console must type, by X11 keysym (the values
 * from libvncserver's copy of X11's keysymdef.h, not our own), against the
 * XT codes QEMU and Linux use; Shift needs; no keysym maps to a code the
 * PS/2 keyboard cannot send. */
#include <rfb/keysym.h>

#include "check.h"
#include "display/input.h"
#include "display/keymap.h"
#include "vmm/dev/ps2kbd.h"

struct entry {
	uint32_t keysym;
	unsigned xt;
	bool shift;
};

static const struct entry table[] = {
	/* letters */
	{ XK_a, 0x1E, false }, { XK_b, 0x30, false }, { XK_c, 0x2E, false },
	{ XK_d, 0x20, false }, { XK_e, 0x12, false }, { XK_f, 0x21, false },
	{ XK_g, 0x22, false }, { XK_h, 0x23, false }, { XK_i, 0x17, false },
	{ XK_j, 0x24, false }, { XK_k, 0x25, false }, { XK_l, 0x26, false },
	{ XK_m, 0x32, false }, { XK_n, 0x31, false }, { XK_o, 0x18, false },
	{ XK_p, 0x19, false }, { XK_q, 0x10, false }, { XK_r, 0x13, false },
	{ XK_s, 0x1F, false }, { XK_t, 0x14, false }, { XK_u, 0x16, false },
	{ XK_v, 0x2F, false }, { XK_w, 0x11, false }, { XK_x, 0x2D, false },
	{ XK_y, 0x15, false }, { XK_z, 0x2C, false },
	{ XK_A, 0x1E, true }, { XK_M, 0x32, true }, { XK_Q, 0x10, true },
	{ XK_Z, 0x2C, true },
	/* digits and their shifted symbols */
	{ XK_1, 0x02, false }, { XK_exclam, 0x02, true },
	{ XK_2, 0x03, false }, { XK_at, 0x03, true },
	{ XK_3, 0x04, false }, { XK_numbersign, 0x04, true },
	{ XK_4, 0x05, false }, { XK_dollar, 0x05, true },
	{ XK_5, 0x06, false }, { XK_percent, 0x06, true },
	{ XK_6, 0x07, false }, { XK_asciicircum, 0x07, true },
	{ XK_7, 0x08, false }, { XK_ampersand, 0x08, true },
	{ XK_8, 0x09, false }, { XK_asterisk, 0x09, true },
	{ XK_9, 0x0A, false }, { XK_parenleft, 0x0A, true },
	{ XK_0, 0x0B, false }, { XK_parenright, 0x0B, true },
	/* punctuation */
	{ XK_minus, 0x0C, false }, { XK_underscore, 0x0C, true },
	{ XK_equal, 0x0D, false }, { XK_plus, 0x0D, true },
	{ XK_bracketleft, 0x1A, false }, { XK_braceleft, 0x1A, true },
	{ XK_bracketright, 0x1B, false }, { XK_braceright, 0x1B, true },
	{ XK_semicolon, 0x27, false }, { XK_colon, 0x27, true },
	{ XK_apostrophe, 0x28, false }, { XK_quotedbl, 0x28, true },
	{ XK_grave, 0x29, false }, { XK_asciitilde, 0x29, true },
	{ XK_backslash, 0x2B, false }, { XK_bar, 0x2B, true },
	{ XK_comma, 0x33, false }, { XK_less, 0x33, true },
	{ XK_period, 0x34, false }, { XK_greater, 0x34, true },
	{ XK_slash, 0x35, false }, { XK_question, 0x35, true },
	{ XK_space, 0x39, false },
	/* editing and navigation */
	{ XK_Return, 0x1C, false }, { XK_BackSpace, 0x0E, false },
	{ XK_Tab, 0x0F, false }, { XK_ISO_Left_Tab, 0x0F, true },
	{ XK_Escape, 0x01, false },
	{ XK_Left, 0xCB, false }, { XK_Up, 0xC8, false },
	{ XK_Right, 0xCD, false }, { XK_Down, 0xD0, false },
	{ XK_Home, 0xC7, false }, { XK_End, 0xCF, false },
	{ XK_Prior, 0xC9, false }, { XK_Page_Up, 0xC9, false },
	{ XK_Next, 0xD1, false }, { XK_Page_Down, 0xD1, false },
	{ XK_Insert, 0xD2, false }, { XK_Delete, 0xD3, false },
	/* function keys */
	{ XK_F1, 0x3B, false }, { XK_F2, 0x3C, false }, { XK_F3, 0x3D, false },
	{ XK_F4, 0x3E, false }, { XK_F5, 0x3F, false }, { XK_F6, 0x40, false },
	{ XK_F7, 0x41, false }, { XK_F8, 0x42, false }, { XK_F9, 0x43, false },
	{ XK_F10, 0x44, false }, { XK_F11, 0x57, false }, { XK_F12, 0x58, false },
	/* keypad, Num Lock on and off */
	{ XK_KP_0, 0x52, false }, { XK_KP_1, 0x4F, false },
	{ XK_KP_2, 0x50, false }, { XK_KP_3, 0x51, false },
	{ XK_KP_4, 0x4B, false }, { XK_KP_5, 0x4C, false },
	{ XK_KP_6, 0x4D, false }, { XK_KP_7, 0x47, false },
	{ XK_KP_8, 0x48, false }, { XK_KP_9, 0x49, false },
	{ XK_KP_Decimal, 0x53, false }, { XK_KP_Add, 0x4E, false },
	{ XK_KP_Subtract, 0x4A, false }, { XK_KP_Multiply, 0x37, false },
	{ XK_KP_Divide, 0xB5, false }, { XK_KP_Enter, 0x9C, false },
	{ XK_KP_Insert, 0x52, false }, { XK_KP_End, 0x4F, false },
	{ XK_KP_Down, 0x50, false }, { XK_KP_Next, 0x51, false },
	{ XK_KP_Page_Down, 0x51, false }, { XK_KP_Left, 0x4B, false },
	{ XK_KP_Begin, 0x4C, false }, { XK_KP_Right, 0x4D, false },
	{ XK_KP_Home, 0x47, false }, { XK_KP_Up, 0x48, false },
	{ XK_KP_Prior, 0x49, false }, { XK_KP_Page_Up, 0x49, false },
	{ XK_KP_Delete, 0x53, false }, { XK_KP_Equal, 0x59, false },
	{ XK_Num_Lock, 0x45, false },
	/* modifiers and locks */
	{ XK_Shift_L, 0x2A, false }, { XK_Shift_R, 0x36, false },
	{ XK_Control_L, 0x1D, false }, { XK_Control_R, 0x9D, false },
	{ XK_Alt_L, 0x38, false }, { XK_Alt_R, 0xB8, false },
	{ XK_ISO_Level3_Shift, 0xB8, false },
	{ XK_Meta_L, 0xDB, false }, { XK_Meta_R, 0xDC, false },
	{ XK_Super_L, 0xDB, false }, { XK_Super_R, 0xDC, false },
	{ XK_Menu, 0xDD, false },
	{ XK_Caps_Lock, 0x3A, false }, { XK_Scroll_Lock, 0x46, false },
	/* system keys */
	{ XK_Print, 0xB7, false }, { XK_Sys_Req, 0x54, false },
	{ XK_Pause, INPUT_KEY_PAUSE, false }, { XK_Break, 0xC6, false },
};

static void test_table(void)
{
	for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		unsigned xt = keymap_keysym_to_xt(table[i].keysym);

		if (xt != table[i].xt || keymap_needs_shift(table[i].keysym) !=
					  table[i].shift)
			printf("keysym 0x%x: xt 0x%x shift %d\n",
			       (unsigned)table[i].keysym, xt,
			       keymap_needs_shift(table[i].keysym));
		CHECK_EQ_U64(xt, table[i].xt);
		CHECK_EQ_U64(keymap_needs_shift(table[i].keysym), table[i].shift);
	}
}

static void test_coverage(void)
{
	uint8_t seq[8];
	unsigned n = 0;

	/* All printable ASCII has a key; exactly the US shifted ones need
	 * Shift. */
	for (uint32_t ch = 0x20; ch < 0x7F; ch++) {
		bool shifted = (ch >= 'A' && ch <= 'Z') ||
			       strchr("~!@#$%^&*()_+{}|:\"<>?", (int)ch);

		CHECK(keymap_keysym_to_xt(ch) != 0);
		CHECK_EQ_U64(keymap_needs_shift(ch), shifted);
		/* Unicode keysyms of the same characters. */
		CHECK_EQ_U64(keymap_keysym_to_xt(0x01000000u | ch),
			     keymap_keysym_to_xt(ch));
	}
	/* Lower and upper case share keys. */
	for (uint32_t ch = 'a'; ch <= 'z'; ch++)
		CHECK_EQ_U64(keymap_keysym_to_xt(ch), keymap_keysym_to_xt(ch - 32));
	/* Not on a US keyboard. */
	CHECK_EQ_U64(keymap_keysym_to_xt(XK_eacute), 0);
	CHECK_EQ_U64(keymap_keysym_to_xt(XK_sterling), 0);
	CHECK_EQ_U64(keymap_keysym_to_xt(0x01000000u | 0x20AC), 0);   /* euro */
	CHECK_EQ_U64(keymap_keysym_to_xt(0), 0);
	CHECK_EQ_U64(keymap_keysym_to_xt(0xFFFFFFFFu), 0);
	CHECK(!keymap_needs_shift(XK_eacute));
	/* Every code the map can produce is one the PS/2 keyboard sends. */
	for (uint32_t ks = 0; ks < 0x10000; ks++) {
		unsigned xt = keymap_keysym_to_xt(ks);

		if (!xt)
			continue;
		n++;
		CHECK(ps2kbd_set2_sequence(xt, true, seq) > 0);
	}
	CHECK(n > 150);
}

int main(void)
{
	test_table();
	test_coverage();
	return check_summary("test_keymap");
}
