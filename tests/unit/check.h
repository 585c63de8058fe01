/* SPDX-License-Identifier: MIT */
/*
 * A tiny check harness for the unit tests: each failed check prints one line
 * with its location; check_summary() prints the totals and gives the exit
 * status.
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                           \
	do {                                                                  \
		check_count++;                                                \
		if (!(cond)) {                                                \
			check_failures++;                                     \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);\
		}                                                             \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                    \
	do {                                                                  \
		uint64_t a__ = (uint64_t)(a), b__ = (uint64_t)(b);            \
		check_count++;                                                \
		if (a__ != b__) {                                             \
			check_failures++;                                     \
			printf("FAIL %s:%d: %s == %s (0x%" PRIx64 " != 0x%" PRIx64 ")\n", \
			       __FILE__, __LINE__, #a, #b, a__, b__);         \
		}                                                             \
	} while (0)

#define CHECK_STR(a, b)                                                       \
	do {                                                                  \
		const char *a__ = (a), *b__ = (b);                            \
		check_count++;                                                \
		if (!a__ || !b__ || strcmp(a__, b__)) {                       \
			check_failures++;                                     \
			printf("FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n",   \
			       __FILE__, __LINE__, #a, #b, a__ ? a__ : "(null)", \
			       b__ ? b__ : "(null)");                         \
		}                                                             \
	} while (0)

static inline int check_summary(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
