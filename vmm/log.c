// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

enum log_level log_max_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* One write per line so lines from different threads never interleave. */
static void vlog_line(enum log_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "vmm: %s: ", level_names[level]);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 2, fmt, ap);

	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(buf) - 3)
		n = (int)sizeof(buf) - 3;
	/* Strip a trailing newline the caller may have added, then end the
	 * line with \r\n: stdio may be a raw-mode terminal. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n++] = '\r';
	buf[n++] = '\n';
	fwrite(buf, 1, (size_t)n, stderr);
	fflush(stderr);
}

void vmm_log(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	vlog_line(level, fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_line(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void format_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define RATELIMIT_BURST 10
#define RATELIMIT_WINDOW_NS 1000000000ull

bool ratelimit_ok(struct ratelimit *rl)
{
	uint64_t now = now_ns();
	uint64_t start = atomic_load(&rl->window_start_ns);

	if (now - start >= RATELIMIT_WINDOW_NS &&
	    atomic_compare_exchange_strong(&rl->window_start_ns, &start, now)) {
		unsigned dropped = atomic_exchange(&rl->suppressed, 0);

		atomic_store(&rl->count, 0);
		if (dropped)
			vmm_log(LOG_WARN, "%u similar messages suppressed", dropped);
	}
	if (atomic_fetch_add(&rl->count, 1) < RATELIMIT_BURST)
		return true;
	atomic_fetch_add(&rl->suppressed, 1);
	return false;
}
