// SPDX-License-Identifier: MIT
/*
 * websocket/token.c and the web server's helpers: token syntax, expiry
 * times (unix and RFC 3339), token file lines, generation (length,
 * alphabet, uniqueness), lookups (exact match only, expiry, view-only),
 * the token file read again on change; --web parsing and the page
 * directory search; static path filtering.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "websocket/token.h"
#include "websocket/web.h"

bool web_http_path_ok(const char *uri);

static void test_syntax_and_time(void)
{
	int64_t t = 0;

	CHECK(web_token_valid_syntax("abcdefghijklmnopqrstuv", 22));
	CHECK(!web_token_valid_syntax("abcdefghijklmnopqrstu", 21));
	CHECK(!web_token_valid_syntax("abcdefghijklmnopqrstu%", 22));
	CHECK(!web_token_valid_syntax("abcdefghijklmnopqrst&u", 22));
	CHECK(web_token_valid_syntax("A-_.~0123456789abcdefgh", 23));
	CHECK(web_token_parse_time("1767225600", &t) == 0 && t == 1767225600);
	CHECK(web_token_parse_time("2026-01-01T00:00:00Z", &t) == 0 && t == 1767225600);
	CHECK(web_token_parse_time("2026-01-01T02:00:00+02:00", &t) == 0 && t == 1767225600);
	CHECK(web_token_parse_time("2025-12-31T19:00:00.5-05:00", &t) == 0 && t == 1767225600);
	CHECK(web_token_parse_time("2026-02-31T00:00:00Z", &t) < 0);
	CHECK(web_token_parse_time("2026-01-01T00:00:00", &t) < 0);
	CHECK(web_token_parse_time("2026-01-01", &t) < 0);
	CHECK(web_token_parse_time("soon", &t) < 0);
	CHECK(web_token_parse_time("0", &t) < 0);
	CHECK(web_token_parse_time("", &t) < 0);
}

static void test_lines(void)
{
	char tok[WEB_TOKEN_MAX + 1], err[160];
	struct web_token_info ti;

	CHECK(web_token_parse_line("", tok, &ti, err, sizeof(err)) == 0);
	CHECK(web_token_parse_line("  # comment", tok, &ti, err, sizeof(err)) == 0);
	CHECK(web_token_parse_line("abcdefghijklmnopqrstuvwx\n", tok, &ti, err, sizeof(err)) == 1);
	CHECK_STR(tok, "abcdefghijklmnopqrstuvwx");
	CHECK(!ti.view_only && !ti.expires);
	CHECK(web_token_parse_line("abcdefghijklmnopqrstuvwx view-only expires=2026-01-01T00:00:00Z",
				   tok, &ti, err, sizeof(err)) == 1);
	CHECK(ti.view_only && ti.expires == 1767225600);
	CHECK(web_token_parse_line("short view-only", tok, &ti, err, sizeof(err)) < 0);
	CHECK(web_token_parse_line("abcdefghijklmnopqrstuvwx expires=never", tok, &ti, err,
				   sizeof(err)) < 0);
	CHECK(web_token_parse_line("abcdefghijklmnopqrstuvwx admin", tok, &ti, err,
				   sizeof(err)) < 0);
	/* The message names the problem, never the token. */
	CHECK(!strstr(err, "abcdefghijklmnopqrstuvwx"));
}

static void test_generate_and_check(void)
{
	struct web_tokens *t = web_tokens_create();
	char a[WEB_TOKEN_MAX + 1], b[WEB_TOKEN_MAX + 1], wrong[WEB_TOKEN_MAX + 1];
	struct web_token_info ti;

	CHECK(t);
	CHECK(web_tokens_generate(t, false, a, sizeof(a)) == 0);
	CHECK(web_tokens_generate(t, true, b, sizeof(b)) == 0);
	CHECK(strlen(a) == 32 && web_token_valid_syntax(a, strlen(a)));
	CHECK(strcmp(a, b) != 0);
	CHECK(web_tokens_check(t, a, 1000, &ti) == WEB_TOKEN_OK && !ti.view_only);
	CHECK(web_tokens_check(t, b, 1000, &ti) == WEB_TOKEN_OK && ti.view_only);
	strcpy(wrong, a);
	wrong[31] = wrong[31] == 'A' ? 'B' : 'A';
	CHECK(web_tokens_check(t, wrong, 1000, &ti) == WEB_TOKEN_UNKNOWN);
	wrong[31] = 0;          /* a prefix */
	CHECK(web_tokens_check(t, wrong, 1000, &ti) == WEB_TOKEN_UNKNOWN);
	strcpy(wrong, a);
	strcat(wrong, "X");     /* longer */
	CHECK(web_tokens_check(t, wrong, 1000, &ti) == WEB_TOKEN_UNKNOWN);
	CHECK(web_tokens_check(t, "", 1000, &ti) == WEB_TOKEN_UNKNOWN);
	CHECK(web_tokens_check(t, NULL, 1000, &ti) == WEB_TOKEN_UNKNOWN);
	web_tokens_destroy(t);
}

static void test_file(void)
{
	char path[] = "/tmp/test_web_token_XXXXXX", err[256];
	struct web_tokens *t = web_tokens_create();
	struct web_token_info ti;
	FILE *f;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "# tokens\nfileTOKENaaaaaaaaaaaaaaaa expires=2000\nviewTOKENbbbbbbbbbbbbbbbb view-only\n");
	fclose(f);
	CHECK(web_tokens_set_file(t, path, err, sizeof(err)) == 0);
	CHECK(web_tokens_check(t, "fileTOKENaaaaaaaaaaaaaaaa", 1999, &ti) == WEB_TOKEN_OK);
	CHECK(web_tokens_check(t, "fileTOKENaaaaaaaaaaaaaaaa", 2000, &ti) == WEB_TOKEN_EXPIRED);
	CHECK(web_tokens_check(t, "viewTOKENbbbbbbbbbbbbbbbb", 5000, &ti) == WEB_TOKEN_OK &&
	      ti.view_only);
	/* Rewritten with a bad line: fail closed. */
	f = fopen(path, "w");
	fprintf(f, "viewTOKENbbbbbbbbbbbbbbbb view-only extra-words\n");
	fclose(f);
	{
		/* Make sure the change is seen even within one mtime tick. */
		FILE *g = fopen(path, "a");

		fprintf(g, "\n");
		fclose(g);
	}
	CHECK(web_tokens_check(t, "viewTOKENbbbbbbbbbbbbbbbb", 5000, &ti) == WEB_TOKEN_UNKNOWN);
	web_tokens_destroy(t);
	unlink(path);
	t = web_tokens_create();
	CHECK(web_tokens_set_file(t, "/nonexistent/tokens", err, sizeof(err)) < 0);
	CHECK(strstr(err, "--web-token-file") != NULL);
	web_tokens_destroy(t);
}

static void test_listen_and_paths(void)
{
	char host[64], err[160];
	int port = -1;

	CHECK(web_parse_listen("6080", host, sizeof(host), &port, err, sizeof(err)) == 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK(port == 6080);
	CHECK(web_parse_listen("0.0.0.0:443", host, sizeof(host), &port, err, sizeof(err)) == 0);
	CHECK_STR(host, "0.0.0.0");
	CHECK(web_parse_listen("[::1]:6080", host, sizeof(host), &port, err, sizeof(err)) == 0);
	CHECK_STR(host, "::1");
	CHECK(web_parse_listen("::1:6080", host, sizeof(host), &port, err, sizeof(err)) < 0);
	CHECK(web_parse_listen("host:99999", host, sizeof(host), &port, err, sizeof(err)) < 0);
	CHECK(web_parse_listen("host:", host, sizeof(host), &port, err, sizeof(err)) < 0);
	CHECK(web_parse_listen("", host, sizeof(host), &port, err, sizeof(err)) < 0);

	CHECK(web_http_path_ok("/"));
	CHECK(web_http_path_ok("/novnc/core/rfb.js"));
	CHECK(!web_http_path_ok("/../etc/passwd"));
	CHECK(!web_http_path_ok("/novnc/../../x"));
	CHECK(!web_http_path_ok("/.git/config"));
	CHECK(!web_http_path_ok("//etc/passwd"));
	CHECK(!web_http_path_ok("/a%2e%2e"));
	CHECK(!web_http_path_ok("relative"));
	CHECK(!web_http_path_ok("/a\\b"));
}

int main(void)
{
	test_syntax_and_time();
	test_lines();
	test_generate_and_check();
	test_file();
	test_listen_and_paths();
	return check_summary("test_web_token");
}
