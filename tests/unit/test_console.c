// SPDX-License-Identifier: MIT
/* The console: listeners, producer activity, damage clipping/coalescing,
 * surfaces (allocated and aliased), pixel reads, thread safety. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "display/console.h"

struct producer {
	int active_calls[2];    /* [false], [true] */
	bool active;
	bool bad_transition;
	int refreshes;
	int input_activity;
};

static void p_set_active(void *opaque, bool active)
{
	struct producer *p = opaque;

	if (p->active == active)
		p->bad_transition = true;
	p->active = active;
	p->active_calls[active]++;
}

static void p_refresh(void *opaque)
{
	((struct producer *)opaque)->refreshes++;
}

static void p_input_activity(void *opaque)
{
	((struct producer *)opaque)->input_activity++;
}

static const struct console_producer_ops pops = {
	.refresh = p_refresh,
	.set_active = p_set_active,
	.input_activity = p_input_activity,
};

struct consumer {
	int surface_changes;
	int last_w, last_h;
	int nboxes;
	pixman_region32_t got;
	bool overlap;           /* two boxes of one flush overlapped */
};

static void l_surface_changed(void *opaque, struct console *c)
{
	struct consumer *k = opaque;
	pixman_image_t *img = console_surface_locked(c);

	k->surface_changes++;
	k->last_w = img ? pixman_image_get_width(img) : 0;
	k->last_h = img ? pixman_image_get_height(img) : 0;
}

static void l_damage(void *opaque, const pixman_box32_t *b)
{
	struct consumer *k = opaque;
	pixman_region32_t r;

	pixman_region32_init_rect(&r, b->x1, b->y1, (unsigned)(b->x2 - b->x1),
				  (unsigned)(b->y2 - b->y1));
	pixman_region32_intersect(&r, &r, &k->got);
	if (pixman_region32_not_empty(&r))
		k->overlap = true;
	pixman_region32_fini(&r);
	pixman_region32_union_rect(&k->got, &k->got, b->x1, b->y1,
				   (unsigned)(b->x2 - b->x1),
				   (unsigned)(b->y2 - b->y1));
	k->nboxes++;
}

static void consumer_init(struct consumer *k, struct console_listener *l)
{
	memset(k, 0, sizeof(*k));
	pixman_region32_init(&k->got);
	*l = (struct console_listener){ .surface_changed = l_surface_changed,
					.damage = l_damage, .opaque = k };
}

static void consumer_reset(struct consumer *k)
{
	pixman_region32_clear(&k->got);
	k->nboxes = 0;
	k->overlap = false;
}

static bool region_is_rect(pixman_region32_t *r, int x, int y, int w, int h)
{
	pixman_region32_t e;
	bool eq;

	pixman_region32_init_rect(&e, x, y, (unsigned)w, (unsigned)h);
	eq = pixman_region32_equal(&e, r);
	pixman_region32_fini(&e);
	return eq;
}

static void test_listeners_and_activity(void)
{
	struct console *c = console_create("t");
	struct producer p = { 0 };
	struct consumer k1, k2;
	struct console_listener l1, l2;

	consumer_init(&k1, &l1);
	consumer_init(&k2, &l2);
	console_set_producer(c, &pops, &p);
	CHECK_EQ_U64(p.active_calls[1], 0);

	CHECK(console_add_listener(c, &l1) == 0);
	CHECK_EQ_U64(p.active_calls[1], 1);
	CHECK(p.active);
	CHECK_EQ_U64(k1.surface_changes, 1);    /* told at once, no surface */
	CHECK_EQ_U64(k1.last_w, 0);
	CHECK(console_add_listener(c, &l1) < 0);
	CHECK(console_add_listener(c, &l2) == 0);
	CHECK_EQ_U64(p.active_calls[1], 1);     /* only the first activates */
	CHECK_EQ_U64(console_listener_count(c), 2);

	CHECK(console_set_surface(c, 320, 200, PIXMAN_x8r8g8b8) == 0);
	CHECK_EQ_U64(k1.surface_changes, 2);
	CHECK_EQ_U64(k2.surface_changes, 2);
	CHECK_EQ_U64(k1.last_w, 320);
	CHECK_EQ_U64(k1.last_h, 200);
	CHECK(console_set_surface(c, 0, 200, PIXMAN_x8r8g8b8) < 0);
	CHECK(console_set_surface(c, 100, CONSOLE_MAX_DIM + 1, PIXMAN_x8r8g8b8) < 0);
	CHECK_EQ_U64(k1.surface_changes, 2);    /* failed: no change */

	console_refresh(c);
	CHECK_EQ_U64(p.refreshes, 1);

	console_remove_listener(c, &l1);
	CHECK_EQ_U64(p.active_calls[0], 0);
	CHECK(p.active);
	console_remove_listener(c, &l2);
	CHECK_EQ_U64(p.active_calls[0], 1);
	CHECK(!p.active);
	console_remove_listener(c, &l2);        /* not attached: harmless */
	CHECK_EQ_U64(p.active_calls[0], 1);

	/* A producer arriving while consumers watch is activated at once;
	 * a replaced producer is deactivated. */
	{
		struct producer p2 = { 0 };

		console_add_listener(c, &l1);
		CHECK_EQ_U64(p.active_calls[1], 2);
		console_set_producer(c, &pops, &p2);
		CHECK(!p.active);
		CHECK(p2.active);
		console_remove_listener(c, &l1);
		CHECK(!p2.active);
		CHECK(!p2.bad_transition);
	}
	CHECK(!p.bad_transition);
	console_destroy(c);
	pixman_region32_fini(&k1.got);
	pixman_region32_fini(&k2.got);
}

static void test_damage_clip_coalesce(void)
{
	struct console *c = console_create("t");
	struct consumer k;
	struct console_listener l;

	consumer_init(&k, &l);
	console_set_surface(c, 640, 400, PIXMAN_x8r8g8b8);

	/* No listener: damage is dropped. */
	console_damage(c, 0, 0, 10, 10);
	console_add_listener(c, &l);
	console_flush(c);
	CHECK_EQ_U64(k.nboxes, 0);

	/* Overlapping rectangles are coalesced into their union. */
	console_damage(c, 10, 10, 5, 5);
	console_damage(c, 12, 12, 10, 10);
	console_flush(c);
	{
		pixman_region32_t want;

		pixman_region32_init_rect(&want, 10, 10, 5, 5);
		pixman_region32_union_rect(&want, &want, 12, 12, 10, 10);
		CHECK(pixman_region32_equal(&want, &k.got));
		pixman_region32_fini(&want);
	}
	CHECK(!k.overlap);
	CHECK(k.nboxes <= 3);

	/* Flush clears. */
	consumer_reset(&k);
	console_flush(c);
	CHECK_EQ_U64(k.nboxes, 0);

	/* Clipping to the surface. */
	console_damage(c, -5, -5, 10, 10);
	console_flush(c);
	CHECK(region_is_rect(&k.got, 0, 0, 5, 5));
	consumer_reset(&k);
	console_damage(c, 630, 390, 100, 100);
	console_flush(c);
	CHECK(region_is_rect(&k.got, 630, 390, 10, 10));
	consumer_reset(&k);
	console_damage(c, 700, 0, 10, 10);
	console_damage(c, 0, 0, 0, 10);
	console_damage(c, 0, 0, -3, 10);
	console_damage(c, 0x7ffffff0, 0x7ffffff0, 0x7fffffff, 0x7fffffff);
	console_flush(c);
	CHECK_EQ_U64(k.nboxes, 0);

	/* A region, clipped. */
	{
		pixman_region32_t r;

		pixman_region32_init_rect(&r, 600, 380, 100, 100);
		console_damage_region(c, &r);
		pixman_region32_fini(&r);
		console_flush(c);
		CHECK(region_is_rect(&k.got, 600, 380, 40, 20));
		consumer_reset(&k);
	}

	/* Many scattered pixels: few rectangles that still cover them all. */
	srand(1);
	{
		pixman_region32_t want;

		pixman_region32_init(&want);
		for (int i = 0; i < 1000; i++) {
			int x = rand() % 640, y = rand() % 400;

			console_damage(c, x, y, 1, 1);
			pixman_region32_union_rect(&want, &want, x, y, 1, 1);
		}
		console_flush(c);
		CHECK(k.nboxes <= CONSOLE_FLUSH_MAX_RECTS);
		CHECK(k.nboxes > 0);
		CHECK(!k.overlap);
		pixman_region32_subtract(&want, &want, &k.got);
		CHECK(!pixman_region32_not_empty(&want));
		pixman_region32_fini(&want);
		/* everything inside the surface */
		CHECK(pixman_region32_extents(&k.got)->x2 <= 640);
		CHECK(pixman_region32_extents(&k.got)->y2 <= 400);
		consumer_reset(&k);
	}

	/* A few rectangles stay exact (no needless merging). */
	console_damage(c, 0, 0, 1, 1);
	console_damage(c, 300, 300, 2, 2);
	console_flush(c);
	CHECK_EQ_U64(k.nboxes, 2);
	CHECK_EQ_U64(pixman_region32_extents(&k.got)->x2, 302);
	consumer_reset(&k);

	/* A new surface drops the pending damage. */
	console_damage(c, 0, 0, 10, 10);
	console_set_surface(c, 100, 100, PIXMAN_r5g6b5);
	console_flush(c);
	CHECK_EQ_U64(k.nboxes, 0);

	console_remove_listener(c, &l);
	console_destroy(c);
	pixman_region32_fini(&k.got);
}

static void test_surfaces(void)
{
	struct console *c = console_create("t");
	uint32_t *mem = calloc(64 * 48, 4);
	uint16_t *mem16 = calloc(64 * 48, 2);
	uint32_t out[4];
	int w, h;
	pixman_image_t *img;

	console_get_size(c, &w, &h);
	CHECK(w == 0 && h == 0);
	CHECK(console_read_pixels(c, 0, 0, 1, 1, PIXMAN_x8r8g8b8, out, 4) < 0);

	/* Aliasing: no copy, the producer's memory is the surface. */
	CHECK(console_set_surface_alias(c, 64, 48, PIXMAN_x8r8g8b8, mem, 256) == 0);
	mem[5 * 64 + 7] = 0x00123456;
	CHECK(console_read_pixels(c, 7, 5, 1, 1, PIXMAN_x8r8g8b8, out, 4) == 0);
	CHECK_EQ_U64(out[0] & 0xffffff, 0x123456);
	img = console_lock(c);
	CHECK(img && pixman_image_get_data(img) == mem);
	console_unlock(c);
	console_get_size(c, &w, &h);
	CHECK(w == 64 && h == 48);
	/* Out of the surface, bad strides. */
	CHECK(console_read_pixels(c, 63, 0, 2, 1, PIXMAN_x8r8g8b8, out, 8) < 0);
	CHECK(console_read_pixels(c, 0, 0, 4, 1, PIXMAN_x8r8g8b8, out, 8) < 0);
	CHECK(console_read_pixels(c, -1, 0, 1, 1, PIXMAN_x8r8g8b8, out, 4) < 0);
	CHECK(console_set_surface_alias(c, 64, 48, PIXMAN_x8r8g8b8, mem, 128) < 0);
	CHECK(console_set_surface_alias(c, 64, 48, PIXMAN_x8r8g8b8, mem, 258) < 0);
	CHECK(console_set_surface_alias(c, 64, 48, PIXMAN_x8r8g8b8, NULL, 256) < 0);
	CHECK(console_set_surface_alias(c, 64, 48, (pixman_format_code_t)0x1234,
					mem, 256) < 0);

	/* 16-bit guest format, converted on read. */
	CHECK(console_set_surface_alias(c, 64, 48, PIXMAN_r5g6b5, mem16, 128) == 0);
	mem16[64 + 1] = 0xf800;         /* pure red */
	CHECK(console_read_pixels(c, 1, 1, 1, 1, PIXMAN_x8r8g8b8, out, 4) == 0);
	CHECK_EQ_U64(out[0] & 0xffffff, 0xff0000);

	/* Console-allocated surfaces start black. */
	CHECK(console_set_surface(c, 3, 3, PIXMAN_x8r8g8b8) == 0);
	CHECK(console_read_pixels(c, 2, 2, 1, 1, PIXMAN_x8r8g8b8, out, 4) == 0);
	CHECK_EQ_U64(out[0] & 0xffffff, 0);

	console_clear_surface(c);
	console_get_size(c, &w, &h);
	CHECK(w == 0 && h == 0);
	console_destroy(c);
	free(mem);
	free(mem16);
}

/* Consumers attaching/detaching on one thread while a producer damages,
 * flushes and changes the surface on another: no deadlock, consistent
 * activity transitions. */
struct race {
	struct console *c;
	atomic_bool stop;
};

static void *producer_thread(void *arg)
{
	struct race *r = arg;
	int i = 0;

	while (!atomic_load(&r->stop)) {
		console_damage(r->c, i % 300, i % 200, 7, 7);
		console_flush(r->c);
		if (++i % 500 == 0)
			console_set_surface(r->c, 320 + i % 7, 200,
					    PIXMAN_x8r8g8b8);
	}
	return NULL;
}

static void test_threads(void)
{
	struct race r = { .c = console_create("t") };
	struct producer p = { 0 };
	struct consumer k;
	struct console_listener l;
	pthread_t th;

	consumer_init(&k, &l);
	console_set_producer(r.c, &pops, &p);
	console_set_surface(r.c, 320, 200, PIXMAN_x8r8g8b8);
	pthread_create(&th, NULL, producer_thread, &r);
	for (int i = 0; i < 2000; i++) {
		console_add_listener(r.c, &l);
		console_remove_listener(r.c, &l);
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	CHECK(!p.bad_transition);
	CHECK_EQ_U64(p.active_calls[1], 2000);
	CHECK_EQ_U64(p.active_calls[0], 2000);
	CHECK(!p.active);
	console_destroy(r.c);
	pixman_region32_fini(&k.got);
}

/* Input activity reaches the producer that has the op; one without it, or
 * no producer at all, is fine. console_flush() tells whether it delivered. */
static void test_input_activity_and_flush(void)
{
	static const struct console_producer_ops no_op = { .refresh = p_refresh };
	struct console *c = console_create("activity");
	struct producer p = { 0 };
	struct console_listener l;
	struct consumer k;

	CHECK(c != NULL);
	console_input_activity(c);              /* no producer yet */
	console_set_producer(c, &pops, &p);
	console_input_activity(c);
	console_input_activity(c);
	CHECK_EQ_U64(p.input_activity, 2);
	console_set_producer(c, &no_op, &p);
	console_input_activity(c);
	CHECK_EQ_U64(p.input_activity, 2);

	CHECK(console_set_surface(c, 64, 64, PIXMAN_x8r8g8b8) == 0);
	console_damage(c, 1, 1, 2, 2);
	CHECK(!console_flush(c));               /* nobody listens */
	consumer_init(&k, &l);
	CHECK(console_add_listener(c, &l) == 0);
	CHECK(!console_flush(c));               /* no damage */
	console_damage(c, 1, 1, 2, 2);
	CHECK(console_flush(c));
	CHECK_EQ_U64(k.nboxes, 1);
	CHECK(!console_flush(c));               /* delivered once */
	console_remove_listener(c, &l);
	pixman_region32_fini(&k.got);
	console_set_producer(c, NULL, NULL);
	console_destroy(c);
}

int main(void)
{
	test_listeners_and_activity();
	test_input_activity_and_flush();
	test_damage_clip_coalesce();
	test_surfaces();
	test_threads();
	return check_summary("test_console");
}
