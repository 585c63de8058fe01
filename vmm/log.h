/* SPDX-License-Identifier: MIT */
/*
 * Logging for the VMM: one line per message on stderr, never any secret.
 * Anything a guest or a client can trigger must go through log_ratelimited()
 * or log_once(), so a hostile peer cannot flood the log.
 */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped; set from --verbose/--quiet. */
extern enum log_level log_max_level;

void vmm_log(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "vmm: error: <msg>" and exit(1): for bad user input at startup. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write a one-line error message into a caller's buffer (err may be NULL). */
void format_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A token bucket: at most 10 messages per second per call site. */
struct ratelimit {
	atomic_uint_fast64_t window_start_ns;
	atomic_uint count;
	atomic_uint suppressed;
};
bool ratelimit_ok(struct ratelimit *rl);

#define log_err(...)   vmm_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  vmm_log(LOG_WARN, __VA_ARGS__)
#define log_info(...)  vmm_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) vmm_log(LOG_DEBUG, __VA_ARGS__)

#define log_ratelimited(level, ...)                                     \
	do {                                                            \
		static struct ratelimit rl_here__;                      \
		if (ratelimit_ok(&rl_here__))                           \
			vmm_log(level, __VA_ARGS__);                    \
	} while (0)

#define log_once(level, ...)                                            \
	do {                                                            \
		static atomic_bool done_here__;                         \
		if (!atomic_exchange(&done_here__, true))               \
			vmm_log(level, __VA_ARGS__);                    \
	} while (0)

#endif
