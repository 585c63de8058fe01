// SPDX-License-Identifier: MIT
/*
 * AML writer (ACPI 6.x, section 20 "ACPI Machine Language Specification").
 * Only what a static DSDT needs: no methods, no operation regions.
 */
#include <string.h>

#include "aml.h"

#define AML_ZERO_OP       0x00
#define AML_ONE_OP        0x01
#define AML_NAME_OP       0x08
#define AML_BYTE_PREFIX   0x0A
#define AML_WORD_PREFIX   0x0B
#define AML_DWORD_PREFIX  0x0C
#define AML_STRING_PREFIX 0x0D
#define AML_QWORD_PREFIX  0x0E
#define AML_SCOPE_OP      0x10
#define AML_BUFFER_OP     0x11
#define AML_PACKAGE_OP    0x12
#define AML_DUAL_NAME     0x2E
#define AML_MULTI_NAME    0x2F
#define AML_EXT_OP        0x5B
#define AML_DEVICE_OP     0x82   /* after AML_EXT_OP */
#define AML_ROOT_CHAR     '\\'
#define AML_PARENT_CHAR   '^'
#define AML_ONES_OP       0xFF

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->len = 0;
	a->cap = cap;
	a->error = false;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->error || n > a->cap - a->len) {
		a->error = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void put_le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

/* Insert n bytes at offset at, shifting what follows. */
static void insert(struct aml *a, size_t at, const uint8_t *p, size_t n)
{
	if (a->error || at > a->len || n > a->cap - a->len) {
		a->error = true;
		return;
	}
	memmove(a->buf + at + n, a->buf + at, a->len - at);
	memcpy(a->buf + at, p, n);
	a->len += n;
}

static bool seg_char_ok(char c, bool lead)
{
	if ((c >= 'A' && c <= 'Z') || c == '_')
		return true;
	return !lead && c >= '0' && c <= '9';
}

void aml_name_string(struct aml *a, const char *path)
{
	char segs[16][4];
	unsigned nsegs = 0;
	const char *p = path;

	if (*p == AML_ROOT_CHAR) {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == AML_PARENT_CHAR) {
			aml_byte(a, AML_PARENT_CHAR);
			p++;
		}
	}
	while (*p) {
		unsigned n = 0;

		if (nsegs == 16) {
			a->error = true;
			return;
		}
		while (*p && *p != '.') {
			if (n == 4 || !seg_char_ok(*p, n == 0)) {
				a->error = true;
				return;
			}
			segs[nsegs][n++] = *p++;
		}
		if (n == 0) {          /* empty segment: "A..B" or trailing '.' */
			a->error = true;
			return;
		}
		while (n < 4)
			segs[nsegs][n++] = '_';
		nsegs++;
		if (*p == '.' && !*++p) {
			a->error = true;
			return;
		}
	}
	if (nsegs == 0) {
		aml_byte(a, 0x00);     /* NullName */
	} else if (nsegs == 2) {
		aml_byte(a, AML_DUAL_NAME);
	} else if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)nsegs);
	}
	aml_bytes(a, segs, 4 * nsegs);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (v == UINT64_MAX) {
		/* Ones: all bits set in a revision 2 (64-bit) DSDT. */
		aml_byte(a, AML_ONES_OP);
	} else if (v <= 0xFF) {
		aml_byte(a, AML_BYTE_PREFIX);
		put_le(a, v, 1);
	} else if (v <= 0xFFFF) {
		aml_byte(a, AML_WORD_PREFIX);
		put_le(a, v, 2);
	} else if (v <= 0xFFFFFFFF) {
		aml_byte(a, AML_DWORD_PREFIX);
		put_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		put_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

/*
 * "PNP0A03": three letters packed 5 bits each (A = 1), then four hex
 * digits; stored so that the bytes in memory read 0x41 0xD0 0x0A 0x03.
 */
uint32_t aml_eisaid(const char *id)
{
	uint32_t v;
	unsigned hex = 0;

	v = ((uint32_t)(id[0] - '@') & 0x1F) << 26 |
	    ((uint32_t)(id[1] - '@') & 0x1F) << 21 |
	    ((uint32_t)(id[2] - '@') & 0x1F) << 16;
	for (int i = 3; i < 7; i++) {
		char c = id[i];

		hex = hex << 4 | (unsigned)(c <= '9' ? c - '0' : c - 'A' + 10);
	}
	v |= hex & 0xFFFF;
	/* The value is big-endian in spirit: swap it to the AML byte order. */
	return __builtin_bswap32(v);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, path);
}

size_t aml_scope_open(struct aml *a, const char *path)
{
	size_t mark;

	aml_byte(a, AML_SCOPE_OP);
	mark = a->len;
	aml_name_string(a, path);
	return mark;
}

size_t aml_device_open(struct aml *a, const char *path)
{
	size_t mark;

	aml_byte(a, AML_EXT_OP);
	aml_byte(a, AML_DEVICE_OP);
	mark = a->len;
	aml_name_string(a, path);
	return mark;
}

size_t aml_package_open(struct aml *a, uint8_t nr_elements)
{
	size_t mark;

	aml_byte(a, AML_PACKAGE_OP);
	mark = a->len;
	aml_byte(a, nr_elements);
	return mark;
}

/*
 * PkgLength counts itself plus what follows: 1 byte up to 63 in total,
 * else a lead byte (number of extra bytes in bits 7-6, the low nibble in
 * bits 3-0) and 1-3 bytes with the rest, up to 2^28 - 1.
 */
void aml_close(struct aml *a, size_t mark)
{
	uint8_t enc[4];
	size_t body, total;
	unsigned n;

	if (a->error || mark > a->len) {
		a->error = true;
		return;
	}
	body = a->len - mark;
	if (body + 1 <= 0x3F) {
		enc[0] = (uint8_t)(body + 1);
		insert(a, mark, enc, 1);
		return;
	}
	for (n = 2; n <= 4; n++) {
		total = body + n;
		if (total < (1UL << (4 + 8 * (n - 1))))
			break;
	}
	if (n > 4) {
		a->error = true;
		return;
	}
	enc[0] = (uint8_t)((n - 1) << 6 | (total & 0xF));
	for (unsigned i = 1; i < n; i++)
		enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	insert(a, mark, enc, n);
}

size_t aml_buffer_open(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	return a->len;
}

void aml_buffer_close(struct aml *a, size_t mark)
{
	struct aml size;
	uint8_t enc[9];

	if (a->error || mark > a->len) {
		a->error = true;
		return;
	}
	/* BufferSize (a TermArg integer) precedes the bytes, inside the
	 * package length. */
	aml_init(&size, enc, sizeof(enc));
	aml_integer(&size, a->len - mark);
	insert(a, mark, enc, size.len);
	aml_close(a, mark);
}

/* --- resource template descriptors (ACPI 6.x section 6.4) ------------- */

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len)
{
	aml_byte(a, 0x47);       /* small item 0x08, length 7 */
	aml_byte(a, 0x01);       /* decodes 16 address bits */
	put_le(a, min, 2);
	put_le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_res_irq_noflags(struct aml *a, uint16_t mask)
{
	aml_byte(a, 0x22);       /* small item 0x04, length 2: edge, high */
	put_le(a, mask, 2);
}

/* General flags 0x0C: producer, positive decode, min and max fixed. */
static void word_space(struct aml *a, uint8_t type, uint8_t type_flags,
		       uint16_t min, uint16_t max)
{
	aml_byte(a, 0x88);
	put_le(a, 13, 2);
	aml_byte(a, type);
	aml_byte(a, 0x0C);
	aml_byte(a, type_flags);
	put_le(a, 0, 2);                     /* granularity */
	put_le(a, min, 2);
	put_le(a, max, 2);
	put_le(a, 0, 2);                     /* translation */
	put_le(a, (uint32_t)max - min + 1, 2);
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	word_space(a, 2, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	word_space(a, 1, 0x03, min, max);    /* ISA and non-ISA ranges */
}

void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max,
		       bool cacheable)
{
	aml_byte(a, 0x87);
	put_le(a, 23, 2);
	aml_byte(a, 0);                      /* memory range */
	aml_byte(a, 0x0C);
	aml_byte(a, cacheable ? 0x03 : 0x01); /* read-write (+ cacheable) */
	put_le(a, 0, 4);
	put_le(a, min, 4);
	put_le(a, max, 4);
	put_le(a, 0, 4);
	put_le(a, (uint64_t)max - min + 1, 4);
}

void aml_res_end(struct aml *a)
{
	aml_byte(a, 0x79);
	aml_byte(a, 0x00);       /* checksum 0: "treat as valid" */
}
