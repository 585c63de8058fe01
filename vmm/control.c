// SPDX-License-Identifier: MIT
/*
 * The control socket (see control.h for the protocol): a UNIX stream
 * listener and its clients, all non-blocking and served by the event loop.
 * Every client has a bounded input line buffer and a bounded output buffer,
 * so no client can make the loop block or grow memory without limit.
 *
 * Watching clients also have a bounded event queue, filled by producer
 * threads (console listener callbacks) under a leaf mutex; an eventfd wakes
 * the loop, which moves the events into the client's output buffer as room
 * allows. Events that do not fit in the queue are counted and reported as
 * one "dropped" event.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/control.h"
#include "vmm/log.h"

/* Reads per readiness event: lets other clients in between big senders. */
#define READS_PER_EVENT 16

enum watch_kind { WATCH_SURFACE, WATCH_DAMAGE };

struct watch_event {
	enum watch_kind kind;
	int x, y, w, h;         /* surface: w, h only */
};

struct control_watch {
	pthread_mutex_t lock;
	struct watch_event q[CONTROL_WATCH_QUEUE];
	unsigned head, count;
	uint64_t dropped;       /* since the last "dropped" event */
	bool notified;          /* the eventfd was written since the last drain */
	int efd;                /* the server's eventfd */
	void *handle;           /* from ops->watch */
};

struct control_client {
	struct control_server *srv;
	struct control_watch *watch;    /* NULL: not watching */
	int fd;
	char in[CONTROL_MAX_LINE];
	size_t inlen;
	char *out;              /* CONTROL_MAX_OUTPUT bytes */
	size_t outlen;
	uint32_t events;        /* the epoll events being watched */
	bool closing;           /* no more requests: close once out is sent */
	bool dead;              /* free at the end of the current callback */
	struct control_client *next;
};

struct control_server {
	struct event_loop *loop;
	int fd;
	char *path;
	dev_t dev;
	ino_t ino;
	const struct control_ops *ops;
	void *opaque;
	struct control_client *clients;
	int nclients;
	int efd;                /* watch events are waiting (eventfd) */
};


/* ---- the request parser ------------------------------------------------ */

struct parser {
	const char *s;
	size_t pos, len;
	char *buf;
	size_t bufpos, buflen;
	char *err;
	size_t errlen;
};

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\r' || p->s[p->pos] == '\n'))
		p->pos++;
}

static int put_byte(struct parser *p, unsigned char c)
{
	if (p->bufpos >= p->buflen) {
		format_err(p->err, p->errlen, "request too large");
		return -1;
	}
	p->buf[p->bufpos++] = (char)c;
	return 0;
}

static int put_utf8(struct parser *p, uint32_t cp)
{
	if (cp < 0x80)
		return put_byte(p, (unsigned char)cp);
	if (cp < 0x800)
		return put_byte(p, (unsigned char)(0xc0 | cp >> 6)) ||
		       put_byte(p, (unsigned char)(0x80 | (cp & 0x3f)));
	if (cp < 0x10000)
		return put_byte(p, (unsigned char)(0xe0 | cp >> 12)) ||
		       put_byte(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3f))) ||
		       put_byte(p, (unsigned char)(0x80 | (cp & 0x3f)));
	return put_byte(p, (unsigned char)(0xf0 | cp >> 18)) ||
	       put_byte(p, (unsigned char)(0x80 | ((cp >> 12) & 0x3f))) ||
	       put_byte(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3f))) ||
	       put_byte(p, (unsigned char)(0x80 | (cp & 0x3f)));
}

static int hex4(struct parser *p, uint32_t *out)
{
	uint32_t v = 0;

	if (p->len - p->pos < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* \uXXXX (after the 'u'), with surrogate pairs; NUL is refused. */
static int parse_unicode_escape(struct parser *p)
{
	uint32_t cp, lo;

	if (hex4(p, &cp))
		goto bad;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		goto bad;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
		    p->s[p->pos + 1] != 'u')
			goto bad;
		p->pos += 2;
		if (hex4(p, &lo) || lo < 0xdc00 || lo > 0xdfff)
			goto bad;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0) {
		format_err(p->err, p->errlen, "NUL characters are not allowed");
		return -1;
	}
	return put_utf8(p, cp);
bad:
	format_err(p->err, p->errlen, "invalid \\u escape");
	return -1;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; cp = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string at p->pos (the opening quote), decoded into buf. */
static int parse_string(struct parser *p, const char **out)
{
	size_t start = p->bufpos;

	p->pos++;       /* opening quote */
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len) {
			format_err(p->err, p->errlen, "unterminated string");
			return -1;
		}
		c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20) {
			format_err(p->err, p->errlen, "control character in string");
			return -1;
		}
		if (c == '\\') {
			char e;
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *hit;

			if (++p->pos >= p->len) {
				format_err(p->err, p->errlen, "unterminated string");
				return -1;
			}
			e = p->s[p->pos++];
			if (e == 'u') {
				if (parse_unicode_escape(p))
					return -1;
				continue;
			}
			hit = e ? strchr(from, e) : NULL;
			if (!hit) {
				format_err(p->err, p->errlen, "invalid escape");
				return -1;
			}
			if (put_byte(p, (unsigned char)to[hit - from]))
				return -1;
			continue;
		}
		{
			size_t n = utf8_seq((const unsigned char *)p->s + p->pos,
					    p->len - p->pos);

			if (!n) {
				format_err(p->err, p->errlen, "invalid UTF-8");
				return -1;
			}
			for (size_t i = 0; i < n; i++)
				if (put_byte(p, (unsigned char)p->s[p->pos + i]))
					return -1;
			p->pos += n;
		}
	}
	if (put_byte(p, 0))
		return -1;
	*out = p->buf + start;
	return 0;
}

static int expect(struct parser *p, char c, const char *what)
{
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != c) {
		format_err(p->err, p->errlen, "invalid JSON: expected %s", what);
		return -1;
	}
	p->pos++;
	return 0;
}

static int parse_field(struct parser *p, struct control_field *fields,
		       int *nfields)
{
	const char *key, *value;

	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '"') {
		format_err(p->err, p->errlen, "invalid JSON: expected a string key");
		return -1;
	}
	if (parse_string(p, &key) || expect(p, ':', "':'"))
		return -1;
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '"') {
		format_err(p->err, p->errlen, "value of \"%.32s\" must be a string",
			key);
		return -1;
	}
	if (parse_string(p, &value))
		return -1;
	for (int i = 0; i < *nfields; i++) {
		if (!strcmp(fields[i].key, key)) {
			format_err(p->err, p->errlen, "duplicate field \"%.32s\"", key);
			return -1;
		}
	}
	if (*nfields >= CONTROL_MAX_FIELDS) {
		format_err(p->err, p->errlen, "too many fields");
		return -1;
	}
	fields[*nfields].key = key;
	fields[*nfields].value = value;
	(*nfields)++;
	return 0;
}

int control_parse_request(const char *line, size_t len, char *buf,
			  size_t buflen, struct control_field *fields,
			  int *nfields, char *err, size_t errlen)
{
	struct parser p = { .s = line, .len = len, .buf = buf, .buflen = buflen,
			    .err = err, .errlen = errlen };

	*nfields = 0;
	if (expect(&p, '{', "an object"))
		return -1;
	skip_ws(&p);
	if (p.pos < p.len && p.s[p.pos] == '}') {
		p.pos++;
	} else {
		for (;;) {
			if (parse_field(&p, fields, nfields))
				return -1;
			skip_ws(&p);
			if (p.pos < p.len && p.s[p.pos] == ',') {
				p.pos++;
				continue;
			}
			if (expect(&p, '}', "',' or '}'"))
				return -1;
			break;
		}
	}
	skip_ws(&p);
	if (p.pos != p.len) {
		format_err(err, errlen, "invalid JSON: trailing characters");
		return -1;
	}
	return 0;
}

/* ---- replies ------------------------------------------------------------- */

static void drop_client(struct control_client *c)
{
	c->dead = true;
}

static void queue(struct control_client *c, const char *data, size_t len)
{
	if (c->dead)
		return;
	if (len > CONTROL_MAX_OUTPUT - c->outlen) {
		log_ratelimited(LOG_WARN,
				"control: client does not read its replies: dropped");
		drop_client(c);
		return;
	}
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
}

/* JSON string literal of s (quotes included) into buf; false if too long. */
static bool json_quote(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	if (size < 3)
		return false;
	buf[n++] = '"';
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[8];
		size_t elen;

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			elen = 2;
		} else if (ch < 0x20 || ch == 0x7f) {
			elen = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", ch);
		} else {
			esc[0] = (char)ch;
			elen = 1;
		}
		if (n + elen + 2 > size)
			return false;
		memcpy(buf + n, esc, elen);
		n += elen;
	}
	buf[n++] = '"';
	buf[n] = 0;
	return true;
}

static void reply_error(struct control_client *c, const char *msg)
{
	char q[512], line[600];
	int n;

	if (!json_quote(q, sizeof(q), msg))
		snprintf(q, sizeof(q), "\"error message too long\"");
	n = snprintf(line, sizeof(line), "{\"ok\":false,\"error\":%s}\n", q);
	queue(c, line, (size_t)n);
}

static void reply_ok(struct control_client *c)
{
	static const char ok[] = "{\"ok\":true}\n";

	queue(c, ok, sizeof(ok) - 1);
}

/* ---- display events ------------------------------------------------------ */

static void watch_push(struct control_watch *w, const struct watch_event *e)
{
	bool wake = false;

	pthread_mutex_lock(&w->lock);
	if (w->count == CONTROL_WATCH_QUEUE) {
		w->dropped++;
	} else {
		w->q[(w->head + w->count) % CONTROL_WATCH_QUEUE] = *e;
		w->count++;
	}
	if (!w->notified) {
		w->notified = true;
		wake = true;
	}
	pthread_mutex_unlock(&w->lock);
	if (wake) {
		uint64_t one = 1;

		/* Non-blocking; a full counter means a wake-up is pending. */
		if (write(w->efd, &one, sizeof(one)) < 0) {
			/* nothing to do */
		}
	}
}

void control_watch_surface(struct control_watch *w, int width, int height)
{
	struct watch_event e = { .kind = WATCH_SURFACE, .w = width,
				 .h = height };

	watch_push(w, &e);
}

void control_watch_damage(struct control_watch *w, int x, int y, int width,
			  int height)
{
	struct watch_event e = { .kind = WATCH_DAMAGE, .x = x, .y = y,
				 .w = width, .h = height };

	watch_push(w, &e);
}

static int format_event(char *buf, size_t size, const struct watch_event *e)
{
	if (e->kind == WATCH_SURFACE)
		return snprintf(buf, size,
				"{\"event\":\"surface\",\"width\":%d,\"height\":%d}\n",
				e->w, e->h);
	return snprintf(buf, size,
			"{\"event\":\"damage\",\"x\":%d,\"y\":%d,\"w\":%d,\"h\":%d}\n",
			e->x, e->y, e->w, e->h);
}

/* Move queued events into the output buffer while they fit (loop thread). */
static void drain_watch(struct control_client *c)
{
	struct control_watch *w = c->watch;
	char line[128];
	int n;

	if (!w || c->dead)
		return;
	pthread_mutex_lock(&w->lock);
	w->notified = false;
	if (w->dropped) {
		n = snprintf(line, sizeof(line),
			     "{\"event\":\"dropped\",\"count\":%llu}\n",
			     (unsigned long long)w->dropped);
		if ((size_t)n <= CONTROL_MAX_OUTPUT - c->outlen) {
			memcpy(c->out + c->outlen, line, (size_t)n);
			c->outlen += (size_t)n;
			w->dropped = 0;
		}
	}
	while (w->count && !w->dropped) {
		n = format_event(line, sizeof(line), &w->q[w->head]);
		if ((size_t)n > CONTROL_MAX_OUTPUT - c->outlen)
			break;
		memcpy(c->out + c->outlen, line, (size_t)n);
		c->outlen += (size_t)n;
		w->head = (w->head + 1) % CONTROL_WATCH_QUEUE;
		w->count--;
	}
	pthread_mutex_unlock(&w->lock);
}

static void unwatch(struct control_client *c)
{
	struct control_server *s = c->srv;

	if (!c->watch)
		return;
	/* After this no producer thread touches the watch any more. */
	if (s->ops->unwatch)
		s->ops->unwatch(s->opaque, c->watch->handle);
	pthread_mutex_destroy(&c->watch->lock);
	free(c->watch);
	c->watch = NULL;
}

/* ---- commands ------------------------------------------------------------ */

/* Every field must be "cmd" or in allowed (NULL-terminated). */
static bool fields_allowed(struct control_client *c,
			   const struct control_field *f, int n,
			   const char *const *allowed)
{
	char msg[96];

	for (int i = 0; i < n; i++) {
		bool ok = !strcmp(f[i].key, "cmd");

		for (const char *const *a = allowed; !ok && *a; a++)
			ok = !strcmp(f[i].key, *a);
		if (!ok) {
			char q[64];

			if (!json_quote(q, sizeof(q), f[i].key))
				snprintf(q, sizeof(q), "(long name)");
			snprintf(msg, sizeof(msg), "unknown field %s", q);
			reply_error(c, msg);
			return false;
		}
	}
	return true;
}

static const char *field(const struct control_field *f, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(f[i].key, key))
			return f[i].value;
	return NULL;
}

static void cmd_status(struct control_client *c)
{
	struct control_server *s = c->srv;
	struct control_status st = { .running = true, .display = "none" };
	char disp[64], line[256];
	int n;

	if (!s->ops->status || s->ops->status(s->opaque, &st) < 0) {
		reply_error(c, "status unavailable");
		return;
	}
	if (!json_quote(disp, sizeof(disp), st.display ? st.display : "none"))
		snprintf(disp, sizeof(disp), "\"?\"");
	n = snprintf(line, sizeof(line),
		     "{\"ok\":true,\"running\":%s,\"width\":%d,\"height\":%d,"
		     "\"clients\":%d,\"display\":%s}\n",
		     st.running ? "true" : "false", st.width, st.height,
		     st.clients, disp);
	queue(c, line, (size_t)n);
}

static void cmd_screendump(struct control_client *c, const char *path)
{
	struct control_server *s = c->srv;
	char err[256] = "screendump failed";

	if (!path || !*path) {
		reply_error(c, "screendump needs a \"path\"");
		return;
	}
	if (!s->ops->screendump) {
		reply_error(c, "no display");
		return;
	}
	if (s->ops->screendump(s->opaque, path, err, sizeof(err)) < 0) {
		reply_error(c, err);
		return;
	}
	reply_ok(c);
}

static bool flush_out(struct control_client *c);

static void cmd_watch(struct control_client *c)
{
	struct control_server *s = c->srv;
	struct control_watch *w;
	char err[256] = "cannot watch";

	if (c->watch) {
		reply_error(c, "already watching");
		return;
	}
	if (!s->ops->watch || !s->ops->unwatch) {
		reply_error(c, "no display");
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		reply_error(c, "out of memory");
		return;
	}
	pthread_mutex_init(&w->lock, NULL);
	w->efd = s->efd;
	w->handle = s->ops->watch(s->opaque, w, err, sizeof(err));
	if (!w->handle) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		reply_error(c, err);
		return;
	}
	c->watch = w;
	/* The first (surface) event waits in the queue: the reply goes
	 * first. */
	reply_ok(c);
}

/* One request line (without its newline). */
static void handle_line(struct control_client *c, const char *line, size_t len)
{
	static const char *const none[] = { NULL };
	static const char *const dump[] = { "path", NULL };
	struct control_field f[CONTROL_MAX_FIELDS];
	char buf[CONTROL_MAX_LINE + 2 * CONTROL_MAX_FIELDS];
	char err[128];
	const char *cmd;
	int n;

	if (control_parse_request(line, len, buf, sizeof(buf), f, &n, err,
				  sizeof(err))) {
		reply_error(c, err);
		return;
	}
	/* Events that happened before this request go before its reply. */
	drain_watch(c);
	cmd = field(f, n, "cmd");
	if (!cmd) {
		reply_error(c, "missing \"cmd\"");
	} else if (!strcmp(cmd, "status")) {
		if (fields_allowed(c, f, n, none))
			cmd_status(c);
	} else if (!strcmp(cmd, "screendump")) {
		if (fields_allowed(c, f, n, dump))
			cmd_screendump(c, field(f, n, "path"));
	} else if (!strcmp(cmd, "watch")) {
		if (fields_allowed(c, f, n, none))
			cmd_watch(c);
	} else if (!strcmp(cmd, "unwatch")) {
		if (!fields_allowed(c, f, n, none)) {
			/* error sent */
		} else if (!c->watch) {
			reply_error(c, "not watching");
		} else {
			unwatch(c);
			reply_ok(c);
		}
	} else if (!strcmp(cmd, "quit")) {
		if (fields_allowed(c, f, n, none)) {
			reply_ok(c);
			c->closing = true;
			flush_out(c);
			if (c->srv->ops->quit)
				c->srv->ops->quit(c->srv->opaque);
		}
	} else {
		reply_error(c, "unknown command");
	}
}

/* ---- connections --------------------------------------------------------- */

static void free_client(struct control_client *c)
{
	struct control_server *s = c->srv;

	for (struct control_client **pp = &s->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->nclients--;
	unwatch(c);
	event_del_fd(s->loop, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

/* Send what is queued without blocking; false if the client is gone. */
static bool flush_out(struct control_client *c)
{
	while (c->outlen && !c->dead) {
		ssize_t n = send(c->fd, c->out, c->outlen,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			drop_client(c);
			break;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	return !c->dead;
}

/* Answer every complete line in the input buffer. */
static void process_input(struct control_client *c, bool eof)
{
	size_t start = 0;

	while (!c->closing && !c->dead) {
		char *nl = memchr(c->in + start, '\n', c->inlen - start);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (c->in + start));
		handle_line(c, c->in + start, len);
		start += len + 1;
	}
	if (start) {
		memmove(c->in, c->in + start, c->inlen - start);
		c->inlen -= start;
	}
	if (c->closing || c->dead)
		return;
	if (c->inlen == sizeof(c->in)) {
		reply_error(c, "line too long");
		c->closing = true;
	} else if (eof) {
		/* A last request without its newline still gets an answer. */
		if (c->inlen)
			handle_line(c, c->in, c->inlen);
		c->inlen = 0;
		c->closing = true;
	}
}

static void read_input(struct control_client *c)
{
	for (int i = 0; i < READS_PER_EVENT && !c->closing && !c->dead; i++) {
		ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen,
				 MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				drop_client(c);
			return;
		}
		c->inlen += (size_t)n;
		process_input(c, n == 0);
		if (n == 0)
			return;
	}
}

static void update_events(struct control_client *c)
{
	uint32_t want = c->closing ? EPOLLOUT :
			EPOLLIN | (c->outlen ? EPOLLOUT : 0);

	if (want != c->events && !event_mod_fd(c->srv->loop, c->fd, want))
		c->events = want;
}

static void client_event(void *opaque, uint32_t events)
{
	struct control_client *c = opaque;

	if (events & EPOLLERR)
		drop_client(c);
	if (!c->dead && !c->closing && (events & (EPOLLIN | EPOLLHUP)))
		read_input(c);
	if (!c->dead)
		flush_out(c);
	/* Room was made: events waiting for it go out now. */
	if (!c->dead && c->watch && c->watch->count) {
		drain_watch(c);
		flush_out(c);
	}
	/*
	 * A closing client is closed once its replies are out (or at once if
	 * the peer hung up) and is no longer read; a client that never reads
	 * is bounded by queue().
	 */
	if (!c->dead && c->closing && (!c->outlen || (events & EPOLLHUP)))
		drop_client(c);
	if (c->dead) {
		free_client(c);
		return;
	}
	update_events(c);
}

/* Producers queued display events: send them to the watchers. */
static void watch_ready(void *opaque, uint32_t events)
{
	struct control_server *s = opaque;
	struct control_client *c, *next;
	uint64_t v;

	(void)events;
	if (read(s->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already consumed */
	}
	for (c = s->clients; c; c = next) {
		next = c->next;
		if (!c->watch || c->closing)
			continue;
		drain_watch(c);
		flush_out(c);
		if (c->dead)
			free_client(c);
		else
			update_events(c);
	}
}

static void reject(int fd)
{
	static const char msg[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";

	if (send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* best effort */
	}
	close(fd);
}

static void accept_event(void *opaque, uint32_t events)
{
	struct control_server *s = opaque;

	(void)events;
	for (;;) {
		struct control_client *c;
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_ratelimited(LOG_WARN, "control: accept: %s",
						strerror(errno));
			return;
		}
		if (s->nclients >= CONTROL_MAX_CLIENTS) {
			log_ratelimited(LOG_WARN, "control: too many clients");
			reject(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->out = malloc(CONTROL_MAX_OUTPUT);
		if (!c || !c->out ||
		    event_add_fd(s->loop, fd, EPOLLIN, client_event, c) < 0) {
			if (c)
				free(c->out);
			free(c);
			close(fd);
			log_ratelimited(LOG_WARN, "control: cannot add client");
			continue;
		}
		c->srv = s;
		c->fd = fd;
		c->events = EPOLLIN;
		c->next = s->clients;
		s->clients = c;
		s->nclients++;
	}
}

/* ---- the listening socket ------------------------------------------------ */

/* true if something accepts connections on the socket at path. */
static bool socket_in_use(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return true;    /* cannot tell: do not remove it */
	used = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ||
	       errno != ECONNREFUSED;
	close(fd);
	return used;
}

static int bind_socket(int fd, const struct sockaddr_un *addr, char *err,
		       size_t errlen)
{
	struct stat st;

	if (!bind(fd, (const struct sockaddr *)addr, sizeof(*addr)))
		return 0;
	if (errno != EADDRINUSE) {
		format_err(err, errlen, "control socket %s: %s", addr->sun_path,
			strerror(errno));
		return -1;
	}
	if (lstat(addr->sun_path, &st) || !S_ISSOCK(st.st_mode)) {
		format_err(err, errlen,
			"control socket %s: exists and is not a socket",
			addr->sun_path);
		return -1;
	}
	if (socket_in_use(addr)) {
		format_err(err, errlen, "control socket %s: in use by another process",
			addr->sun_path);
		return -1;
	}
	if (unlink(addr->sun_path) && errno != ENOENT) {
		format_err(err, errlen, "control socket %s: %s", addr->sun_path,
			strerror(errno));
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr))) {
		format_err(err, errlen, "control socket %s: %s", addr->sun_path,
			strerror(errno));
		return -1;
	}
	return 0;
}

struct control_server *control_server_create(struct event_loop *loop,
					     const char *spec,
					     const struct control_ops *ops,
					     void *opaque, char *err,
					     size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct control_server *s;
	const char *path;
	struct stat st;

	if (strncmp(spec, "unix:", 5) || !spec[5]) {
		format_err(err, errlen, "--control: expected unix:PATH, got '%s'", spec);
		return NULL;
	}
	path = spec + 5;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		format_err(err, errlen, "--control: path too long (max %zu bytes)",
			sizeof(addr.sun_path) - 1);
		return NULL;
	}
	strcpy(addr.sun_path, path);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		format_err(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->ops = ops;
	s->opaque = opaque;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0 || event_add_fd(loop, s->efd, EPOLLIN, watch_ready, s) < 0) {
		format_err(err, errlen, "control socket: eventfd: %s", strerror(errno));
		if (s->efd >= 0)
			close(s->efd);
		free(s->path);
		free(s);
		return NULL;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		format_err(err, errlen, "control socket: %s", strerror(errno));
		goto fail;
	}
	if (bind_socket(s->fd, &addr, err, errlen))
		goto fail;
	/*
	 * Nobody can connect before listen(), so tightening the mode here
	 * leaves no window in which others could use the socket.
	 */
	if (chmod(path, 0600) || lstat(path, &st) ||
	    listen(s->fd, 16)) {
		format_err(err, errlen, "control socket %s: %s", path,
			strerror(errno));
		unlink(path);
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (event_add_fd(loop, s->fd, EPOLLIN, accept_event, s) < 0) {
		format_err(err, errlen, "control socket: cannot watch it");
		unlink(path);
		goto fail;
	}
	return s;
fail:
	if (s->fd >= 0)
		close(s->fd);
	event_del_fd(loop, s->efd);
	close(s->efd);
	free(s->path);
	free(s);
	return NULL;
}

void control_server_destroy(struct control_server *s)
{
	struct stat st;

	if (!s)
		return;
	while (s->clients)
		free_client(s->clients);
	event_del_fd(s->loop, s->fd);
	close(s->fd);
	event_del_fd(s->loop, s->efd);
	close(s->efd);
	/* Remove the file only if it is still ours. */
	if (!lstat(s->path, &st) && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s->path);
	free(s);
}

int control_server_client_count(struct control_server *s)
{
	return s->nclients;
}
