// SPDX-License-Identifier: MIT
/*
 * The little libc the built-in guest needs: the memory functions the
 * compiler may call on its own, strings, and a small vsnprintf.
 */
#include "guest.h"

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp < sp)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

bool str_starts(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* --- formatting ---------------------------------------------------------- */

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;      /* what the full output would need */
};

static void fmt_putc(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_number(struct fmt_out *o, uint64_t v, unsigned base,
		       bool negative, unsigned width, bool zero_pad)
{
	char tmp[24];
	unsigned n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative)
		width = width ? width - 1 : 0;
	if (negative && zero_pad)
		fmt_putc(o, '-');
	for (; width > n; width--)
		fmt_putc(o, zero_pad ? '0' : ' ');
	if (negative && !zero_pad)
		fmt_putc(o, '-');
	while (n)
		fmt_putc(o, tmp[--n]);
}

static void fmt_string(struct fmt_out *o, const char *s, unsigned width)
{
	size_t n;

	if (!s)
		s = "(null)";
	n = strlen(s);
	for (; width > n; width--)
		fmt_putc(o, ' ');
	while (*s)
		fmt_putc(o, *s++);
}

/* Supports %[0][width][l|ll|z]{d,u,x,s,c,p,%}. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		bool zero_pad = false, is_long = false;
		unsigned width = 0;
		uint64_t u;
		int64_t d;

		if (*fmt != '%') {
			fmt_putc(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			zero_pad = true;
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
			d = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
			fmt_number(&o, u, 10, d < 0, width, zero_pad);
			break;
		case 'u':
		case 'x':
			u = is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			fmt_number(&o, u, *fmt == 'u' ? 10 : 16, false, width,
				   zero_pad);
			break;
		case 'p':
			fmt_putc(&o, '0');
			fmt_putc(&o, 'x');
			fmt_number(&o, (uintptr_t)va_arg(ap, void *), 16, false,
				   width, zero_pad);
			break;
		case 's':
			fmt_string(&o, va_arg(ap, const char *), width);
			break;
		case 'c':
			fmt_putc(&o, (char)va_arg(ap, int));
			break;
		case '\0':
			fmt--;	/* a lone '%' at the end */
			break;
		default:
			fmt_putc(&o, '%');
			fmt_putc(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
