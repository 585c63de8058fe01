// SPDX-License-Identifier: MIT
/* Bus dispatch: registration, lookup, bounds, unclaimed accesses, and
 * re-registration from inside a device callback. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vmm/bus.h"

struct fake_dev {
	uint64_t last_offset;
	uint32_t last_len;
	bool last_write;
	uint8_t last_data[8];
	int calls;
	struct bus *bus;
	uint64_t move_to;
};

static void fake_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		    bool is_write)
{
	struct fake_dev *d = opaque;

	d->calls++;
	d->last_offset = offset;
	d->last_len = len;
	d->last_write = is_write;
	if (is_write)
		memcpy(d->last_data, data, len);
	else
		memset(data, 0x40 + (int)offset, len);
}

/* A device that moves itself when written, as a PCI BAR write would. */
static void moving_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		      bool is_write)
{
	struct fake_dev *d = opaque;

	fake_io(opaque, offset, data, len, is_write);
	if (is_write && d->move_to) {
		bus_unregister(d->bus, 0x5000, d);
		bus_register(d->bus, d->move_to, 0x10, moving_io, d, "moving");
		d->move_to = 0;
	}
}

int main(void)
{
	struct bus b;
	struct fake_dev a = { 0 }, c = { 0 }, m = { 0 };
	uint8_t data[8];

	bus_init(&b, "test");
	CHECK(bus_register(&b, 0x3f8, 8, fake_io, &a, "a") == 0);
	CHECK(bus_register(&b, 0x100, 0x10, fake_io, &c, "c") == 0);
	/* Overlaps on either side and inside are refused. */
	CHECK(bus_register(&b, 0x3f0, 0x9, fake_io, &c, "overlap-left") < 0);
	CHECK(bus_register(&b, 0x3ff, 0x2, fake_io, &c, "overlap-right") < 0);
	CHECK(bus_register(&b, 0x3f9, 0x1, fake_io, &c, "inside") < 0);
	CHECK(bus_register(&b, 0x3f0, 0x8, fake_io, &c, "adjacent") == 0);
	CHECK(bus_unregister(&b, 0x3f0, &c) == 0);
	/* Zero length and wrap-around are refused. */
	CHECK(bus_register(&b, 0x10, 0, fake_io, &c, "empty") < 0);
	CHECK(bus_register(&b, UINT64_MAX - 1, 4, fake_io, &c, "wrap") < 0);
	CHECK(bus_register(&b, UINT64_MAX, 1, fake_io, &c, "last-byte") == 0);

	/* Write routed with offset relative to the base. */
	data[0] = 0x5a;
	CHECK(bus_dispatch(&b, 0x3fb, data, 1, true));
	CHECK_EQ_U64(a.last_offset, 3);
	CHECK(a.last_write);
	CHECK_EQ_U64(a.last_data[0], 0x5a);
	/* Read fills from the device. */
	CHECK(bus_dispatch(&b, 0x105, data, 2, false));
	CHECK_EQ_U64(c.last_offset, 5);
	CHECK_EQ_U64(data[0], 0x45);
	CHECK_EQ_U64(data[1], 0x45);

	/* Unclaimed read: all-ones, not claimed, no device called. */
	a.calls = c.calls = 0;
	memset(data, 0, sizeof(data));
	CHECK(!bus_dispatch(&b, 0x200, data, 4, false));
	CHECK_EQ_U64(data[0] & data[1] & data[2] & data[3], 0xff);
	CHECK(a.calls == 0 && c.calls == 0);
	/* An access straddling the end of a range is not claimed either. */
	CHECK(!bus_dispatch(&b, 0x3fe, data, 4, false));
	CHECK(a.calls == 0);
	/* Bad lengths never reach a device. */
	CHECK(!bus_dispatch(&b, 0x3f8, data, 0, false));
	CHECK(!bus_dispatch(&b, 0x3f8, data, 9, true));
	CHECK(a.calls == 0);

	/* A callback may move its own range. */
	m.bus = &b;
	m.move_to = 0x6000;
	CHECK(bus_register(&b, 0x5000, 0x10, moving_io, &m, "moving") == 0);
	CHECK(bus_dispatch(&b, 0x5004, data, 4, true));
	CHECK(!bus_dispatch(&b, 0x5004, data, 4, false));
	CHECK(bus_dispatch(&b, 0x600c, data, 4, false));
	CHECK_EQ_U64(m.last_offset, 0xc);

	/* Many ranges: every one found by the binary search. */
	static struct fake_dev many[200];
	for (int i = 0; i < 200; i++)
		CHECK(bus_register(&b, 0x10000 + (uint64_t)i * 0x100, 0x80, fake_io,
				   &many[i], "many") == 0);
	for (int i = 0; i < 200; i++) {
		CHECK(bus_dispatch(&b, 0x10000 + (uint64_t)i * 0x100 + 0x7f, data, 1, false));
		CHECK(!bus_dispatch(&b, 0x10000 + (uint64_t)i * 0x100 + 0x80, data, 1, false));
	}
	for (int i = 0; i < 200; i++)
		CHECK_EQ_U64(many[i].calls, 1);
	CHECK(bus_unregister(&b, 0x10000, &c) < 0);   /* wrong owner */

	bus_destroy(&b);
	return check_summary("test_bus");
}
