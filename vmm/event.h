/* SPDX-License-Identifier: MIT */
/*
 * The VMM's event loop (epoll), run by the main thread: serial input,
 * timers, eventfds. Callbacks run on the loop thread only.
 */
#ifndef VMM_EVENT_H
#define VMM_EVENT_H

#include <stdint.h>

struct event_loop;
struct event_timer;

/* events: EPOLLIN/EPOLLOUT/EPOLLHUP/EPOLLERR bits as returned by epoll. */
typedef void (*event_fn)(void *opaque, uint32_t events);
typedef void (*timer_fn)(void *opaque);

struct event_loop *event_loop_create(void);
void event_loop_destroy(struct event_loop *loop);

/* Watch fd for the given EPOLL* events; 0 or -1. */
int event_add_fd(struct event_loop *loop, int fd, uint32_t events,
		 event_fn fn, void *opaque);
int event_mod_fd(struct event_loop *loop, int fd, uint32_t events);
int event_del_fd(struct event_loop *loop, int fd);

/*
 * A periodic timer (period_ns > 0) or a one-shot (period_ns == 0, fires
 * after first_ns). Disarmed timers cost nothing. Loop thread only.
 */
struct event_timer *event_timer_create(struct event_loop *loop, timer_fn fn,
				       void *opaque);
void event_timer_arm(struct event_timer *t, uint64_t first_ns,
		     uint64_t period_ns);
void event_timer_disarm(struct event_timer *t);
void event_timer_destroy(struct event_timer *t);

/* Run callbacks until event_loop_stop(); returns the code given to it. */
int event_loop_run(struct event_loop *loop);
/* Thread-safe (and async-signal-safe): make event_loop_run return code. */
void event_loop_stop(struct event_loop *loop, int code);

/* Monotonic clock in nanoseconds. */
uint64_t clock_ns(void);

#endif
