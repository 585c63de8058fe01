// SPDX-License-Identifier: MIT
/* Listen addresses of the command line; see hostport.h. */
#include <string.h>

#include "vmm/hostport.h"
#include "vmm/log.h"

int parse_port(const char *s, int *port)
{
	long v = 0;

	if (!*s || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int parse_host_port(const char *flag, const char *spec, char *host,
		    size_t hostlen, int *port, char *err, size_t errlen)
{
	const char *colon, *h;
	size_t n;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':') {
			format_err(err, errlen, "%s %s: expected [IPV6]:PORT", flag, spec);
			return -1;
		}
		h = spec + 1;
		n = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon) {
			format_err(err, errlen, "%s %s: expected ADDR:PORT", flag, spec);
			return -1;
		}
		h = spec;
		n = (size_t)(colon - spec);
		if (memchr(h, ':', n)) {
			format_err(err, errlen,
				   "%s %s: put an IPv6 address in brackets: [ADDR]:PORT",
				   flag, spec);
			return -1;
		}
	}
	if (n >= hostlen) {
		format_err(err, errlen, "%s %s: address too long", flag, spec);
		return -1;
	}
	if (parse_port(colon + 1, port)) {
		format_err(err, errlen, "%s %s: the port must be a number 0..65535",
			   flag, spec);
		return -1;
	}
	memcpy(host, h, n);
	host[n] = 0;
	return 0;
}
