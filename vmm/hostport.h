/* SPDX-License-Identifier: MIT */
/*
 * Listen addresses given on the command line (--vnc, --web): a TCP port
 * number and "ADDR:PORT" / "[IPV6]:PORT". Every listener parses them the
 * same way and says what is wrong in the same words.
 */
#ifndef VMM_HOSTPORT_H
#define VMM_HOSTPORT_H

#include <stddef.h>

/* A decimal port 0..65535, digits only: 0, or -1. */
int parse_port(const char *s, int *port);

/*
 * "ADDR:PORT", or "[IPV6]:PORT" (an IPv6 address must be bracketed), for
 * the command-line flag named flag: the address into host (hostlen bytes
 * with its NUL) and the port. 0, or -1 with a one-line message
 * "FLAG SPEC: ..." in err.
 */
int parse_host_port(const char *flag, const char *spec, char *host,
		    size_t hostlen, int *port, char *err, size_t errlen);

#endif
