/* SPDX-License-Identifier: MIT */
/*
 * The control socket: `--control unix:PATH`, a local administration
 * interface speaking JSON lines over a UNIX stream socket, served from the
 * event loop thread.
 *
 * Protocol. Each request is one line (terminated by "\n", at most
 * CONTROL_MAX_LINE bytes including it) holding one JSON object whose
 * values are all strings; each reply is one line holding one JSON object.
 * Requests on one connection are answered in order.
 *
 *   {"cmd":"status"}
 *     -> {"ok":true,"running":true,"width":640,"height":400,"clients":1,
 *         "display":"std"}
 *        width/height: the console surface (0 without a picture); clients:
 *        connected viewers; display: the --display kind.
 *   {"cmd":"screendump","path":"/tmp/screen.png"}
 *     -> {"ok":true}
 *        Writes the console as an 8-bit RGB PNG, atomically (temp file in
 *        the same directory + rename), synchronously on the event loop.
 *        The path is used as given, relative to the VMM's working
 *        directory: whoever can connect can write files as the VMM's user,
 *        which is why the socket is created with mode 0600.
 *   {"cmd":"quit"}
 *     -> {"ok":true}, then the VMM stops.
 *   {"cmd":"watch"}
 *     -> {"ok":true}; from then on the connection also receives display
 *        event lines, in the order they happened:
 *          {"event":"surface","width":W,"height":H}
 *            the picture was replaced (size or format changed; 0x0: no
 *            picture); also sent once at once for the current surface.
 *            Take the whole picture as changed.
 *          {"event":"damage","x":X,"y":Y,"w":W,"h":H}
 *            that rectangle of the picture changed.
 *          {"event":"dropped","count":N}
 *            N events were lost because the client read too slowly (at
 *            most CONTROL_WATCH_QUEUE wait per client): take the whole
 *            picture as changed.
 *        A watching client is a display consumer like a VNC viewer: while
 *        one is attached the display refreshes periodically, and "status"
 *        counts it in "clients". Events queued before a request are
 *        written before its reply. Error if already watching or there is
 *        no display.
 *   {"cmd":"unwatch"}
 *     -> {"ok":true}: no more events (error if not watching).
 *
 * Errors: {"ok":false,"error":"<message>"} for invalid JSON, a value that is
 * not a string, an unknown or missing command, unknown fields, or a failed
 * command; the connection stays open. A line longer than CONTROL_MAX_LINE
 * gets an error reply and the connection is closed. A client that does not
 * read its replies is dropped once CONTROL_MAX_OUTPUT bytes are queued for
 * it; beyond CONTROL_MAX_CLIENTS connections, new ones get an error line
 * and are closed.
 *
 * Socket file: created with mode 0600. An existing socket file at PATH is
 * replaced only if nothing accepts connections on it (a stale socket);
 * any other existing file is an error. The file is removed by
 * control_server_destroy().
 */
#ifndef VMM_CONTROL_H
#define VMM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/event.h"

#define CONTROL_MAX_LINE     4096
#define CONTROL_MAX_OUTPUT   (64 * 1024)
#define CONTROL_MAX_CLIENTS  32

struct control_watch;

/* Events a watcher may have waiting before the oldest are dropped. */
#define CONTROL_WATCH_QUEUE  256

struct control_status {
	bool running;
	int width, height;
	int clients;
	const char *display;    /* "std", "virtio", "none"; static storage */
};

/* Called on the event loop thread. */
struct control_ops {
	/* Fill *out; 0, or -1 (the reply is an error). */
	int (*status)(void *opaque, struct control_status *out);
	/* Write a screendump; 0, or -1 with a one-line message in err. */
	int (*screendump)(void *opaque, const char *path, char *err,
			  size_t errlen);
	/* Stop the VMM (e.g. event_loop_stop); called after the reply is sent. */
	void (*quit)(void *opaque);
	/*
	 * A client wants display events: feed w with control_watch_surface()
	 * and control_watch_damage() (e.g. from a console listener), starting
	 * with the current surface. Returns a handle for unwatch, or NULL with
	 * a one-line message in err. May be NULL: "watch" is an error.
	 */
	void *(*watch)(void *opaque, struct control_watch *w, char *err,
		       size_t errlen);
	/* Stop feeding: once this returns, no control_watch_*() call for the
	 * watch runs or will run. */
	void (*unwatch)(void *opaque, void *handle);
};

/*
 * Queue a display event for a watching client. Thread-safe, never blocks
 * on I/O and takes only the watch's own (leaf) lock, so it may be called
 * from console listener callbacks (console lock held, producer threads).
 * When CONTROL_WATCH_QUEUE events wait already, the event is dropped and
 * counted.
 */
void control_watch_surface(struct control_watch *w, int width, int height);
void control_watch_damage(struct control_watch *w, int x, int y, int width,
			  int height);

struct control_server;

/*
 * Listen on spec ("unix:PATH") and serve it from loop. ops must stay valid
 * while the server exists. NULL with a one-line message in err.
 */
struct control_server *control_server_create(struct event_loop *loop,
					     const char *spec,
					     const struct control_ops *ops,
					     void *opaque, char *err,
					     size_t errlen);
/* Close every connection and remove the socket file. On the loop thread, or
 * after the loop has stopped. */
void control_server_destroy(struct control_server *s);

/* Number of connected control clients (loop thread). */
int control_server_client_count(struct control_server *s);

/*
 * The request parser, exposed for tests and fuzzing: parse one line (no
 * newline) holding a flat JSON object of string values into at most
 * CONTROL_MAX_FIELDS key/value pairs, decoded (escapes resolved, NUL
 * rejected) into buf. 0, or -1 with a message in err.
 */
#define CONTROL_MAX_FIELDS 8
struct control_field {
	const char *key;
	const char *value;
};
int control_parse_request(const char *line, size_t len, char *buf,
			  size_t buflen, struct control_field *fields,
			  int *nfields, char *err, size_t errlen);

#endif
