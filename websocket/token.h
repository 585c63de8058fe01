/* SPDX-License-Identifier: MIT */
/*
 * Access tokens for the web console.
 *
 * A token is 22 to 128 characters from the URL-safe set [A-Za-z0-9._~-],
 * so it travels in a query string without escaping. The server generates
 * one at start (192 bits from getrandom, base64url: 32 characters) and may
 * read more from a token file, one per line:
 *
 *     TOKEN [expires=WHEN] [view-only]
 *
 * WHEN is a unix time in seconds (1767225600) or an RFC 3339 date-time
 * (2026-01-01T00:00:00Z, 2026-01-01T02:00:00+02:00). '#' starts a comment
 * line; blank lines are ignored. The file is read again when it changes
 * (mtime, size or inode), so tokens can be added and revoked while the VMM
 * runs; a file that no longer parses revokes every token it held.
 *
 * Lookups compare the candidate with every token over the maximum length,
 * without an early exit, so the time taken does not reveal how much of a
 * token matched. Tokens are secrets: never log one.
 */
#ifndef WEBSOCKET_TOKEN_H
#define WEBSOCKET_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_TOKEN_MIN 22        /* 22 base64url characters: 132 bits */
#define WEB_TOKEN_MAX 128
#define WEB_TOKEN_GEN_BYTES 24  /* 192 bits -> 32 characters */

struct web_tokens;

struct web_token_info {
	bool view_only;
	int64_t expires;        /* unix time; 0: never */
};

enum web_token_result {
	WEB_TOKEN_OK = 0,
	WEB_TOKEN_UNKNOWN = -1,
	WEB_TOKEN_EXPIRED = -2,
};

struct web_tokens *web_tokens_create(void);
void web_tokens_destroy(struct web_tokens *t);

/* Add a fresh random token; its text goes to out (at least
 * WEB_TOKEN_MAX + 1 bytes). 0, or -1 (getrandom failed, out of memory). */
int web_tokens_generate(struct web_tokens *t, bool view_only, char *out,
			size_t outlen);

/* Read FILE now and whenever it changes later. 0, or -1 with a one-line
 * message (naming the line, never its token) in err. */
int web_tokens_set_file(struct web_tokens *t, const char *path, char *err,
			size_t errlen);

/* Look a candidate up at time now (unix seconds). NULL: unknown. */
enum web_token_result web_tokens_check(struct web_tokens *t, const char *token,
				       int64_t now, struct web_token_info *info);

/* Parsing, exposed for the unit tests. */
bool web_token_valid_syntax(const char *s, size_t len);
/* "1767225600" or RFC 3339. 0, or -1. */
int web_token_parse_time(const char *s, int64_t *out);
/* One token file line: 1 (a token: its text in tok, at least
 * WEB_TOKEN_MAX + 1 bytes), 0 (blank or comment), -1 (bad: why in err). */
int web_token_parse_line(const char *line, char *tok,
			 struct web_token_info *info, char *err, size_t errlen);

#endif
