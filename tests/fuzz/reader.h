/* SPDX-License-Identifier: MIT */
/*
 * The fuzz harnesses' view of their input: a program read front to back,
 * little-endian values of 1..8 bytes, zero once the input runs out (so
 * every input is a complete program).
 */
#ifndef TESTS_FUZZ_READER_H
#define TESTS_FUZZ_READER_H

#include <stddef.h>
#include <stdint.h>

struct reader {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t take(struct reader *r, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		if (!r->n)
			return v;
		v |= (uint64_t)*r->p++ << (8 * i);
		r->n--;
	}
	return v;
}

#endif
