// SPDX-License-Identifier: MIT
/*
 * Access tokens: generation, the token file, constant-time lookup.
 * See token.h for the formats.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "vmm/log.h"
#include "websocket/token.h"

#define MAX_TOKENS 1024
#define MAX_FILE_SIZE (1 << 20)

struct token {
	char text[WEB_TOKEN_MAX + 1];   /* zero-padded to the end */
	size_t len;
	struct web_token_info info;
};

struct token_set {
	struct token *v;
	size_t n;
};

struct web_tokens {
	pthread_mutex_t lock;
	struct token_set own;           /* generated */
	struct token_set file;          /* from the token file */
	char *path;
	struct stat file_st;            /* as last read */
	bool file_read;
};

bool web_token_valid_syntax(const char *s, size_t len)
{
	if (len < WEB_TOKEN_MIN || len > WEB_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != '~')
			return false;
	}
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); 't'/' ' for 'T', 'z' for 'Z'. */
static int parse_rfc3339(const char *s, int64_t *out)
{
	size_t len = strlen(s), i = 19;
	struct tm tm = { 0 };
	int offset = 0, mday;
	time_t t;

	if (len < 20 || !all_digits(s, 4) || s[4] != '-' ||
	    !all_digits(s + 5, 2) || s[7] != '-' || !all_digits(s + 8, 2) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !all_digits(s + 11, 2) || s[13] != ':' || !all_digits(s + 14, 2) ||
	    s[16] != ':' || !all_digits(s + 17, 2))
		return -1;
	tm.tm_year = num(s, 4) - 1900;
	tm.tm_mon = num(s + 5, 2) - 1;
	tm.tm_mday = num(s + 8, 2);
	tm.tm_hour = num(s + 11, 2);
	tm.tm_min = num(s + 14, 2);
	tm.tm_sec = num(s + 17, 2);
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	if (s[i] == '.') {
		size_t j = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == j)
			return -1;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
		offset = 0;
	} else if ((s[i] == '+' || s[i] == '-') && i + 6 == len &&
		   all_digits(s + i + 1, 2) && s[i + 3] == ':' &&
		   all_digits(s + i + 4, 2)) {
		int h = num(s + i + 1, 2), m = num(s + i + 4, 2);

		if (h > 23 || m > 59)
			return -1;
		offset = (h * 60 + m) * 60 * (s[i] == '-' ? -1 : 1);
	} else {
		return -1;
	}
	mday = tm.tm_mday;
	t = timegm(&tm);        /* normalises tm: 31 February becomes March */
	if (t == (time_t)-1 || tm.tm_mday != mday)
		return -1;
	*out = (int64_t)t - offset;
	return 0;
}

int web_token_parse_time(const char *s, int64_t *out)
{
	size_t len = strlen(s);

	if (all_digits(s, len)) {
		if (len > 12)
			return -1;
		*out = (int64_t)strtoll(s, NULL, 10);
		return *out > 0 ? 0 : -1;
	}
	return parse_rfc3339(s, out);
}

int web_token_parse_line(const char *line, char *tok,
			 struct web_token_info *info, char *err, size_t errlen)
{
	const char *p = line;
	int words = 0;

	memset(info, 0, sizeof(*info));
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	while (*p) {
		const char *w = p;
		size_t n;
		char word[64];

		while (*p && !isspace((unsigned char)*p))
			p++;
		n = (size_t)(p - w);
		while (isspace((unsigned char)*p))
			p++;
		if (words++ == 0) {
			if (!web_token_valid_syntax(w, n)) {
				format_err(err, errlen,
					   "the token must be %d to %d characters from A-Z a-z 0-9 - _ . ~",
					   WEB_TOKEN_MIN, WEB_TOKEN_MAX);
				return -1;
			}
			memcpy(tok, w, n);
			tok[n] = 0;
			continue;
		}
		if (n >= sizeof(word)) {
			format_err(err, errlen, "unknown option (too long)");
			return -1;
		}
		memcpy(word, w, n);
		word[n] = 0;
		if (!strcmp(word, "view-only") || !strcmp(word, "viewonly")) {
			info->view_only = true;
		} else if (!strncmp(word, "expires=", 8)) {
			if (web_token_parse_time(word + 8, &info->expires)) {
				format_err(err, errlen,
					   "expires= must be unix seconds or RFC 3339 (2026-01-01T00:00:00Z)");
				return -1;
			}
		} else {
			format_err(err, errlen, "unknown option '%s' (expires=WHEN, view-only)",
				   word);
			return -1;
		}
	}
	return 1;
}

struct web_tokens *web_tokens_create(void)
{
	struct web_tokens *t = calloc(1, sizeof(*t));

	if (t)
		pthread_mutex_init(&t->lock, NULL);
	return t;
}

void web_tokens_destroy(struct web_tokens *t)
{
	if (!t)
		return;
	/* Secrets: wipe before freeing. */
	if (t->own.v)
		explicit_bzero(t->own.v, t->own.n * sizeof(*t->own.v));
	if (t->file.v)
		explicit_bzero(t->file.v, t->file.n * sizeof(*t->file.v));
	free(t->own.v);
	free(t->file.v);
	free(t->path);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static int set_add(struct token_set *s, const char *text,
		   const struct web_token_info *info)
{
	struct token *v;

	if (s->n >= MAX_TOKENS)
		return -1;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	s->v = v;
	memset(&v[s->n], 0, sizeof(v[s->n]));
	v[s->n].len = strlen(text);
	memcpy(v[s->n].text, text, v[s->n].len);
	v[s->n].info = *info;
	s->n++;
	return 0;
}

static void set_clear(struct token_set *s)
{
	if (s->v)
		explicit_bzero(s->v, s->n * sizeof(*s->v));
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int web_tokens_generate(struct web_tokens *t, bool view_only, char *out,
			size_t outlen)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[WEB_TOKEN_GEN_BYTES];
	struct web_token_info info = { .view_only = view_only };
	size_t o = 0, got = 0;
	int rc;

	if (outlen < WEB_TOKEN_GEN_BYTES / 3 * 4 + 1)
		return -1;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw); i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
			     raw[i + 2];

		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	out[o] = 0;
	explicit_bzero(raw, sizeof(raw));
	pthread_mutex_lock(&t->lock);
	rc = set_add(&t->own, out, &info);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Parse the whole file into s; -1 with err on the first bad line. */
static int read_file_locked(const char *path, struct token_set *s,
			    struct stat *st, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[512], tok[WEB_TOKEN_MAX + 1];
	int lineno = 0, rc = 0;

	if (!f) {
		format_err(err, errlen, "--web-token-file %s: %s", path,
			   strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), st) || !S_ISREG(st->st_mode) ||
	    st->st_size > MAX_FILE_SIZE) {
		format_err(err, errlen, "--web-token-file %s: not a regular file of at most 1 MiB",
			   path);
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct web_token_info info;
		char why[160];
		size_t n = strlen(line);
		int r;

		lineno++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			format_err(err, errlen, "--web-token-file %s: line %d is too long",
				   path, lineno);
			rc = -1;
			break;
		}
		r = web_token_parse_line(line, tok, &info, why, sizeof(why));
		if (r < 0) {
			format_err(err, errlen, "--web-token-file %s: line %d: %s",
				   path, lineno, why);
			rc = -1;
			break;
		}
		if (r > 0 && set_add(s, tok, &info)) {
			format_err(err, errlen, "--web-token-file %s: more than %d tokens",
				   path, MAX_TOKENS);
			rc = -1;
			break;
		}
	}
	explicit_bzero(line, sizeof(line));
	explicit_bzero(tok, sizeof(tok));
	fclose(f);
	if (rc)
		set_clear(s);
	return rc;
}

int web_tokens_set_file(struct web_tokens *t, const char *path, char *err,
			size_t errlen)
{
	struct token_set s = { 0 };
	struct stat st;

	if (read_file_locked(path, &s, &st, err, errlen))
		return -1;
	pthread_mutex_lock(&t->lock);
	set_clear(&t->file);
	t->file = s;
	free(t->path);
	t->path = strdup(path);
	t->file_st = st;
	t->file_read = true;
	pthread_mutex_unlock(&t->lock);
	return t->path ? 0 : -1;
}

static void maybe_reload_locked(struct web_tokens *t)
{
	struct token_set s = { 0 };
	struct stat st;
	char err[256];

	if (!t->path)
		return;
	if (stat(t->path, &st) == 0 && t->file_read &&
	    st.st_mtim.tv_sec == t->file_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == t->file_st.st_mtim.tv_nsec &&
	    st.st_size == t->file_st.st_size && st.st_ino == t->file_st.st_ino)
		return;
	set_clear(&t->file);
	if (read_file_locked(t->path, &s, &st, err, sizeof(err))) {
		/* Fail closed: a broken file revokes its tokens. */
		log_ratelimited(LOG_WARN, "web: %s; its tokens are revoked until it is fixed",
				err);
		memset(&t->file_st, 0, sizeof(t->file_st));
		t->file_read = false;
		return;
	}
	t->file = s;
	t->file_st = st;
	t->file_read = true;
	log_info("web: token file %s read again (%zu tokens)", t->path, s.n);
}

/* Index of the match in s, or -1; the time taken depends only on s->n. */
static long find_ct(const struct token_set *s, const char *cand, size_t len)
{
	long found = -1;

	for (size_t i = 0; i < s->n; i++) {
		volatile unsigned char diff = (unsigned char)(s->v[i].len != len);

		for (size_t j = 0; j < WEB_TOKEN_MAX; j++)
			diff |= (unsigned char)(s->v[i].text[j] ^ cand[j]);
		/* Branch-free select of the (first) matching index. */
		{
			long m = -(long)(diff == 0 && found < 0);

			found = (found & ~m) | ((long)i & m);
		}
	}
	return found;
}

enum web_token_result web_tokens_check(struct web_tokens *t, const char *token,
				       int64_t now, struct web_token_info *info)
{
	char cand[WEB_TOKEN_MAX + 1] = { 0 };
	const struct token *hit = NULL;
	enum web_token_result rc = WEB_TOKEN_UNKNOWN;
	size_t len;
	long i;

	if (!token)
		return WEB_TOKEN_UNKNOWN;
	len = strnlen(token, WEB_TOKEN_MAX + 1);
	/* The length of a candidate is not a secret: a wrong one is out. */
	if (!web_token_valid_syntax(token, len))
		return WEB_TOKEN_UNKNOWN;
	memcpy(cand, token, len);
	pthread_mutex_lock(&t->lock);
	maybe_reload_locked(t);
	i = find_ct(&t->own, cand, len);
	if (i >= 0)
		hit = &t->own.v[i];
	i = find_ct(&t->file, cand, len);
	if (i >= 0 && !hit)
		hit = &t->file.v[i];
	if (hit) {
		if (hit->info.expires && now >= hit->info.expires) {
			rc = WEB_TOKEN_EXPIRED;
		} else {
			rc = WEB_TOKEN_OK;
			if (info)
				*info = hit->info;
		}
	}
	pthread_mutex_unlock(&t->lock);
	explicit_bzero(cand, sizeof(cand));
	return rc;
}
