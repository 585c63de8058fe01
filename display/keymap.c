// SPDX-License-Identifier: MIT
/*
 * US keyboard layout: X11 keysym -> XT scancode. Keysym values are X11's
 * (keysymdef.h); the Latin-1 ones equal their character codes, so the
 * printable ASCII table is indexed by character.
 */
#include "display/keymap.h"
#include "display/input.h"

/* Function and keypad keysyms: 0xFF00 | index. */
enum {
	KS_BackSpace = 0x08, KS_Tab = 0x09, KS_Linefeed = 0x0A,
	KS_Return = 0x0D, KS_Pause = 0x13, KS_Scroll_Lock = 0x14,
	KS_Sys_Req = 0x15, KS_Escape = 0x1B,
	KS_Home = 0x50, KS_Left = 0x51, KS_Up = 0x52, KS_Right = 0x53,
	KS_Down = 0x54, KS_Prior = 0x55, KS_Next = 0x56, KS_End = 0x57,
	KS_Print = 0x61, KS_Insert = 0x63, KS_Menu = 0x67, KS_Break = 0x6B,
	KS_Mode_switch = 0x7E, KS_Num_Lock = 0x7F,
	KS_KP_Space = 0x80, KS_KP_Tab = 0x89, KS_KP_Enter = 0x8D,
	KS_KP_Home = 0x95, KS_KP_Left = 0x96, KS_KP_Up = 0x97,
	KS_KP_Right = 0x98, KS_KP_Down = 0x99, KS_KP_Prior = 0x9A,
	KS_KP_Next = 0x9B, KS_KP_End = 0x9C, KS_KP_Begin = 0x9D,
	KS_KP_Insert = 0x9E, KS_KP_Delete = 0x9F, KS_KP_Equal = 0xBD,
	KS_KP_Multiply = 0xAA, KS_KP_Add = 0xAB, KS_KP_Separator = 0xAC,
	KS_KP_Subtract = 0xAD, KS_KP_Decimal = 0xAE, KS_KP_Divide = 0xAF,
	KS_KP_0 = 0xB0,
	KS_F1 = 0xBE,
	KS_Shift_L = 0xE1, KS_Shift_R = 0xE2, KS_Control_L = 0xE3,
	KS_Control_R = 0xE4, KS_Caps_Lock = 0xE5, KS_Meta_L = 0xE7,
	KS_Meta_R = 0xE8, KS_Alt_L = 0xE9, KS_Alt_R = 0xEA,
	KS_Super_L = 0xEB, KS_Super_R = 0xEC,
	KS_Delete = 0xFF,
};

/* ISO keysyms: 0xFE00 | index. */
#define KS_ISO_Level3_Shift 0xFE03
#define KS_ISO_Left_Tab     0xFE20

static const uint16_t ff_keys[256] = {
	[KS_BackSpace] = 0x0E, [KS_Tab] = 0x0F, [KS_Linefeed] = 0x1C,
	[KS_Return] = 0x1C, [KS_Pause] = INPUT_KEY_PAUSE,
	[KS_Scroll_Lock] = 0x46, [KS_Sys_Req] = 0x54, [KS_Escape] = 0x01,
	[KS_Home] = 0xC7, [KS_Left] = 0xCB, [KS_Up] = 0xC8, [KS_Right] = 0xCD,
	[KS_Down] = 0xD0, [KS_Prior] = 0xC9, [KS_Next] = 0xD1, [KS_End] = 0xCF,
	[KS_Print] = 0xB7, [KS_Insert] = 0xD2, [KS_Menu] = 0xDD,
	[KS_Break] = 0xC6, [KS_Mode_switch] = 0xB8, [KS_Num_Lock] = 0x45,
	[KS_KP_Space] = 0x39, [KS_KP_Tab] = 0x0F, [KS_KP_Enter] = 0x9C,
	/* Num Lock off: the same keys as the digits. */
	[KS_KP_Home] = 0x47, [KS_KP_Left] = 0x4B, [KS_KP_Up] = 0x48,
	[KS_KP_Right] = 0x4D, [KS_KP_Down] = 0x50, [KS_KP_Prior] = 0x49,
	[KS_KP_Next] = 0x51, [KS_KP_End] = 0x4F, [KS_KP_Begin] = 0x4C,
	[KS_KP_Insert] = 0x52, [KS_KP_Delete] = 0x53, [KS_KP_Equal] = 0x59,
	[KS_KP_Multiply] = 0x37, [KS_KP_Add] = 0x4E, [KS_KP_Separator] = 0x53,
	[KS_KP_Subtract] = 0x4A, [KS_KP_Decimal] = 0x53, [KS_KP_Divide] = 0xB5,
	[KS_KP_0 + 0] = 0x52, [KS_KP_0 + 1] = 0x4F, [KS_KP_0 + 2] = 0x50,
	[KS_KP_0 + 3] = 0x51, [KS_KP_0 + 4] = 0x4B, [KS_KP_0 + 5] = 0x4C,
	[KS_KP_0 + 6] = 0x4D, [KS_KP_0 + 7] = 0x47, [KS_KP_0 + 8] = 0x48,
	[KS_KP_0 + 9] = 0x49,
	[KS_F1 + 0] = 0x3B, [KS_F1 + 1] = 0x3C, [KS_F1 + 2] = 0x3D,
	[KS_F1 + 3] = 0x3E, [KS_F1 + 4] = 0x3F, [KS_F1 + 5] = 0x40,
	[KS_F1 + 6] = 0x41, [KS_F1 + 7] = 0x42, [KS_F1 + 8] = 0x43,
	[KS_F1 + 9] = 0x44, [KS_F1 + 10] = 0x57, [KS_F1 + 11] = 0x58,
	[KS_Shift_L] = 0x2A, [KS_Shift_R] = 0x36, [KS_Control_L] = 0x1D,
	[KS_Control_R] = 0x9D, [KS_Caps_Lock] = 0x3A,
	[KS_Meta_L] = 0xDB, [KS_Meta_R] = 0xDC,
	[KS_Alt_L] = 0x38, [KS_Alt_R] = 0xB8,
	[KS_Super_L] = 0xDB, [KS_Super_R] = 0xDC,
	[KS_Delete] = 0xD3,
};

/*
 * Printable ASCII (Latin-1 keysyms 0x20-0x7E): the key, and bit 0x8000 when
 * the US layout needs Shift for it.
 */
#define SH 0x8000
static const uint16_t ascii_keys[0x7F - 0x20] = {
	[' ' - 0x20] = 0x39,
	['!' - 0x20] = SH | 0x02, ['"' - 0x20] = SH | 0x28,
	['#' - 0x20] = SH | 0x04, ['$' - 0x20] = SH | 0x05,
	['%' - 0x20] = SH | 0x06, ['&' - 0x20] = SH | 0x08,
	['\'' - 0x20] = 0x28, ['(' - 0x20] = SH | 0x0A,
	[')' - 0x20] = SH | 0x0B, ['*' - 0x20] = SH | 0x09,
	['+' - 0x20] = SH | 0x0D, [',' - 0x20] = 0x33,
	['-' - 0x20] = 0x0C, ['.' - 0x20] = 0x34, ['/' - 0x20] = 0x35,
	['0' - 0x20] = 0x0B, ['1' - 0x20] = 0x02, ['2' - 0x20] = 0x03,
	['3' - 0x20] = 0x04, ['4' - 0x20] = 0x05, ['5' - 0x20] = 0x06,
	['6' - 0x20] = 0x07, ['7' - 0x20] = 0x08, ['8' - 0x20] = 0x09,
	['9' - 0x20] = 0x0A,
	[':' - 0x20] = SH | 0x27, [';' - 0x20] = 0x27,
	['<' - 0x20] = SH | 0x33, ['=' - 0x20] = 0x0D,
	['>' - 0x20] = SH | 0x34, ['?' - 0x20] = SH | 0x35,
	['@' - 0x20] = SH | 0x03,
	['[' - 0x20] = 0x1A, ['\\' - 0x20] = 0x2B, [']' - 0x20] = 0x1B,
	['^' - 0x20] = SH | 0x07, ['_' - 0x20] = SH | 0x0C,
	['`' - 0x20] = 0x29,
	['{' - 0x20] = SH | 0x1A, ['|' - 0x20] = SH | 0x2B,
	['}' - 0x20] = SH | 0x1B, ['~' - 0x20] = SH | 0x29,
};

/* Letters a-z in alphabetical order. */
static const uint8_t letter_keys[26] = {
	0x1E, 0x30, 0x2E, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17, 0x24, 0x25,
	0x26, 0x32, 0x31, 0x18, 0x19, 0x10, 0x13, 0x1F, 0x14, 0x16, 0x2F,
	0x11, 0x2D, 0x15, 0x2C,
};

/* A Unicode keysym (0x01000000 | code point) of an ASCII character is the
 * same as the Latin-1 keysym; some clients send those. */
static uint32_t normalise(uint32_t keysym)
{
	if ((keysym & 0xFF000000u) == 0x01000000u && (keysym & 0xFFFFFFu) < 0x7F)
		return keysym & 0xFFFFFFu;
	return keysym;
}

/* The table entry (with the SH bit) of a keysym, or 0. */
static unsigned lookup(uint32_t keysym)
{
	keysym = normalise(keysym);
	if (keysym >= 'a' && keysym <= 'z')
		return letter_keys[keysym - 'a'];
	if (keysym >= 'A' && keysym <= 'Z')
		return SH | letter_keys[keysym - 'A'];
	if (keysym >= 0x20 && keysym < 0x7F)
		return ascii_keys[keysym - 0x20];
	if ((keysym & ~0xFFu) == 0xFF00)
		return ff_keys[keysym & 0xFF];
	switch (keysym) {
	case KS_ISO_Left_Tab: return SH | 0x0F;
	case KS_ISO_Level3_Shift: return 0xB8;   /* AltGr */
	default: return 0;
	}
}

unsigned keymap_keysym_to_xt(uint32_t keysym)
{
	return lookup(keysym) & ~(unsigned)SH;
}

bool keymap_needs_shift(uint32_t keysym)
{
	return lookup(keysym) & SH;
}
