/* SPDX-License-Identifier: MIT */
/*
 * What the Linux tier's libvncclient tools (vnctype, vncresize) share:
 * time, the target address syntax, quiet logging and connecting with
 * retries while the server is not yet listening.
 */
#ifndef TESTS_LINUX_TOOLS_VNCCLIENT_UTIL_H
#define TESTS_LINUX_TOOLS_VNCCLIENT_UTIL_H

#include <stdbool.h>

#include <rfb/rfbclient.h>

/* CLOCK_MONOTONIC in seconds. */
double vcu_now(void);

/* Sleeps ms milliseconds, resuming after signals. */
void vcu_sleep_ms(unsigned ms);

/* Unless verbose, silences libvncclient's log and error output. */
void vcu_quiet_log(bool verbose);

/*
 * Splits "HOST:PORT" (the last colon; "[V6]:PORT"; PORT decimal 1..65535)
 * or "unix:/PATH" into what libvncclient takes: a host and port, or a path
 * (which it recognises by the leading '/') and port 0. *host is allocated.
 * Returns NULL on success, else why spec is refused (for a message).
 */
const char *vcu_parse_target(const char *spec, char **host, int *port);

/*
 * Connects a 32 bpp client with FinishedFrameBufferUpdate = on_frame and
 * canHandleNewFBSize, retrying every 200 ms until the deadline (vcu_now()
 * time) while rfbInitClient() fails. NULL on failure.
 */
rfbClient *vcu_connect(const char *host, int port, double deadline,
		       FinishedFrameBufferUpdateProc on_frame);

#endif
