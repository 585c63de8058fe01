// SPDX-License-Identifier: MIT
/*
 * The main thread's event loop: epoll over fds, timerfd-based timers and an
 * eventfd that other threads (and signal handlers) use to stop it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"

struct watch {
	int fd;
	event_fn fn;
	void *opaque;
	struct watch *next;
	bool dead;
};

struct event_loop {
	int epfd;
	int stop_fd;
	volatile int stop_code;
	struct watch *watches;
};

struct event_timer {
	struct event_loop *loop;
	int fd;
	timer_fn fn;
	void *opaque;
};

uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct event_loop *event_loop_create(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->stop_fd < 0)
		goto fail;
	ev.data.ptr = NULL;   /* NULL marks the stop eventfd */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop_fd, &ev) < 0)
		goto fail;
	return loop;
fail:
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->stop_fd >= 0)
		close(loop->stop_fd);
	free(loop);
	return NULL;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (!loop)
		return;
	while (loop->watches) {
		struct watch *w = loop->watches;

		loop->watches = w->next;
		free(w);
	}
	close(loop->epfd);
	close(loop->stop_fd);
	free(loop);
}

int event_add_fd(struct event_loop *loop, int fd, uint32_t events,
		 event_fn fn, void *opaque)
{
	struct watch *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = events };

	if (!w)
		return -1;
	w->fd = fd;
	w->fn = fn;
	w->opaque = opaque;
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(w);
		return -1;
	}
	w->next = loop->watches;
	loop->watches = w;
	return 0;
}

static struct watch *find_watch(struct event_loop *loop, int fd)
{
	for (struct watch *w = loop->watches; w; w = w->next)
		if (w->fd == fd && !w->dead)
			return w;
	return NULL;
}

int event_mod_fd(struct event_loop *loop, int fd, uint32_t events)
{
	struct watch *w = find_watch(loop, fd);
	struct epoll_event ev = { .events = events };

	if (!w)
		return -1;
	ev.data.ptr = w;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* A watch removed from inside a callback may still be in the current batch
 * of epoll events: mark it dead and free it after the batch. */
int event_del_fd(struct event_loop *loop, int fd)
{
	struct watch *w = find_watch(loop, fd);

	if (!w)
		return -1;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->dead = true;
	return 0;
}

static void reap_dead(struct event_loop *loop)
{
	struct watch **pp = &loop->watches;

	while (*pp) {
		struct watch *w = *pp;

		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

static void timer_ready(void *opaque, uint32_t events)
{
	struct event_timer *t = opaque;
	uint64_t expirations;

	(void)events;
	if (read(t->fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;   /* disarmed meanwhile: EAGAIN */
	t->fn(t->opaque);
}

struct event_timer *event_timer_create(struct event_loop *loop, timer_fn fn,
				       void *opaque)
{
	struct event_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = loop;
	t->fn = fn;
	t->opaque = opaque;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0 || event_add_fd(loop, t->fd, EPOLLIN, timer_ready, t) < 0) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	return t;
}

static struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ull),
				  .tv_nsec = (long)(ns % 1000000000ull) };
}

void event_timer_arm(struct event_timer *t, uint64_t first_ns, uint64_t period_ns)
{
	struct itimerspec its = {
		.it_value = ns_to_ts(first_ns ? first_ns : 1),
		.it_interval = ns_to_ts(period_ns),
	};

	timerfd_settime(t->fd, 0, &its, NULL);
}

void event_timer_disarm(struct event_timer *t)
{
	struct itimerspec its = { 0 };

	timerfd_settime(t->fd, 0, &its, NULL);
}

void event_timer_destroy(struct event_timer *t)
{
	if (!t)
		return;
	event_del_fd(t->loop, t->fd);
	close(t->fd);
	free(t);
}

int event_loop_run(struct event_loop *loop)
{
	struct epoll_event evs[32];

	for (;;) {
		int n = epoll_wait(loop->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;

			if (!w)
				return loop->stop_code;
			if (!w->dead)
				w->fn(w->opaque, evs[i].events);
		}
		reap_dead(loop);
	}
}

void event_loop_stop(struct event_loop *loop, int code)
{
	uint64_t one = 1;

	loop->stop_code = code;
	/* Best effort: the eventfd cannot overflow with one write per stop. */
	if (write(loop->stop_fd, &one, sizeof(one)) < 0) {
	}
}
