/* SPDX-License-Identifier: MIT */
/*
 * drmmode: set a DRM connector's preferred mode, as a desktop session does
 * when a monitor is plugged in or a virtual display changes size, for the
 * Linux-tier tests (runs inside the Debian test guest, built static: the
 * guest has busybox only, no libdrm).
 *
 *   drmmode [-p | -w] [-t SECONDS] [DEVICE]     DEVICE: /dev/dri/card0
 *
 * Opens DEVICE (becoming DRM master: no other client is running), finds
 * the first connected connector, creates a dumb buffer of its preferred
 * mode (the mode flagged preferred, else the first), fills it with eight
 * vertical colour bars and sets the mode on a CRTC the connector's encoder
 * can drive. Prints "DRMMODE-SET WxH" once the mode is set, then keeps it
 * (the kernel's fbdev console takes the display back when the last DRM
 * client closes) until killed or SECONDS pass.
 *   -w   watch: re-read the connector four times a second and set its
 *        preferred mode again whenever it changes (a hotplug event)
 *   -p   probe only: print "DRMMODE-PREFERRED WxH" and exit. The kernel
 *        re-probes a connector (refreshing the list sysfs shows) only for
 *        the DRM master's GETCONNECTOR or an fbdev hotplug, and that one
 *        drops modes larger than the fbdev frame buffer.
 * Exit status: 0 at the timeout, 1 on an error ("DRMMODE-ERROR ..."),
 * 2 on bad usage.
 *
 * Linux 6.1's fbdev emulation does not grow its frame buffer after a
 * hotplug (drm_fb_helper_hotplug_event() probes within the first fb's
 * size), so a larger preferred mode only shows once a DRM client sets it:
 * this program is that client.
 *
 * The DRM structures and ioctl numbers are the kernel's stable UAPI
 * (include/uapi/drm/drm.h, drm_mode.h), declared here because Debian ships
 * those headers only with libdrm-dev.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct drm_mode_modeinfo {
	uint32_t clock;
	uint16_t hdisplay, hsync_start, hsync_end, htotal, hskew;
	uint16_t vdisplay, vsync_start, vsync_end, vtotal, vscan;
	uint32_t vrefresh;
	uint32_t flags;
	uint32_t type;
	char name[32];
};

struct drm_mode_card_res {
	uint64_t fb_id_ptr, crtc_id_ptr, connector_id_ptr, encoder_id_ptr;
	uint32_t count_fbs, count_crtcs, count_connectors, count_encoders;
	uint32_t min_width, max_width, min_height, max_height;
};

struct drm_mode_crtc {
	uint64_t set_connectors_ptr;
	uint32_t count_connectors;
	uint32_t crtc_id, fb_id, x, y, gamma_size, mode_valid;
	struct drm_mode_modeinfo mode;
};

struct drm_mode_get_encoder {
	uint32_t encoder_id, encoder_type, crtc_id, possible_crtcs,
		 possible_clones;
};

struct drm_mode_get_connector {
	uint64_t encoders_ptr, modes_ptr, props_ptr, prop_values_ptr;
	uint32_t count_modes, count_props, count_encoders;
	uint32_t encoder_id, connector_id, connector_type, connector_type_id;
	uint32_t connection, mm_width, mm_height, subpixel, pad;
};

struct drm_mode_fb_cmd {
	uint32_t fb_id, width, height, pitch, bpp, depth, handle;
};

struct drm_mode_create_dumb {
	uint32_t height, width, bpp, flags, handle, pitch;
	uint64_t size;
};

struct drm_mode_map_dumb {
	uint32_t handle, pad;
	uint64_t offset;
};

struct drm_mode_destroy_dumb {
	uint32_t handle;
};

#define DRM_IOCTL_MODE_GETRESOURCES  _IOWR('d', 0xA0, struct drm_mode_card_res)
#define DRM_IOCTL_MODE_SETCRTC       _IOWR('d', 0xA2, struct drm_mode_crtc)
#define DRM_IOCTL_MODE_GETENCODER    _IOWR('d', 0xA6, struct drm_mode_get_encoder)
#define DRM_IOCTL_MODE_GETCONNECTOR  _IOWR('d', 0xA7, struct drm_mode_get_connector)
#define DRM_IOCTL_MODE_ADDFB         _IOWR('d', 0xAE, struct drm_mode_fb_cmd)
#define DRM_IOCTL_MODE_RMFB          _IOWR('d', 0xAF, unsigned int)
#define DRM_IOCTL_MODE_CREATE_DUMB   _IOWR('d', 0xB2, struct drm_mode_create_dumb)
#define DRM_IOCTL_MODE_MAP_DUMB      _IOWR('d', 0xB3, struct drm_mode_map_dumb)
#define DRM_IOCTL_MODE_DESTROY_DUMB  _IOWR('d', 0xB4, struct drm_mode_destroy_dumb)

#define DRM_MODE_TYPE_PREFERRED (1 << 3)
#define DRM_MODE_CONNECTED 1
#define MAX_OBJS 32
#define MAX_MODES 256

/* What is on screen now. */
struct scanout {
	uint32_t conn, crtc, fb, handle;
	uint64_t size;
	void *map;
	struct drm_mode_modeinfo mode;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static bool fail(const char *what)
{
	printf("DRMMODE-ERROR %s: %s\n", what, strerror(errno));
	return false;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The first connected connector and its preferred mode; false if none.
 * GETCONNECTOR with no mode array makes the kernel probe the connector
 * (the driver's current display information).
 */
static bool find_output(int fd, uint32_t *conn_id, uint32_t *enc_id,
			struct drm_mode_modeinfo *mode)
{
	uint32_t conns[MAX_OBJS];
	struct drm_mode_card_res res = { 0 };

	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return fail("GETRESOURCES");
	if (res.count_connectors > MAX_OBJS)
		res.count_connectors = MAX_OBJS;
	res.connector_id_ptr = (uintptr_t)conns;
	res.count_fbs = res.count_crtcs = res.count_encoders = 0;
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return fail("GETRESOURCES");
	for (uint32_t i = 0; i < res.count_connectors && i < MAX_OBJS; i++) {
		static struct drm_mode_modeinfo modes[MAX_MODES];
		struct drm_mode_get_connector c = { .connector_id = conns[i] };

		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c) < 0)
			return fail("GETCONNECTOR");
		if (c.connection != DRM_MODE_CONNECTED || !c.count_modes)
			continue;
		if (c.count_modes > MAX_MODES)
			c.count_modes = MAX_MODES;
		c.modes_ptr = (uintptr_t)modes;
		c.count_props = c.count_encoders = 0;
		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c) < 0)
			return fail("GETCONNECTOR");
		*mode = modes[0];
		for (uint32_t m = 0; m < c.count_modes && m < MAX_MODES; m++) {
			if (modes[m].type & DRM_MODE_TYPE_PREFERRED) {
				*mode = modes[m];
				break;
			}
		}
		*conn_id = c.connector_id;
		*enc_id = c.encoder_id;
		return true;
	}
	errno = ENODEV;
	return fail("no connected connector with modes");
}

/* A CRTC for the connector: its encoder's current one, else the first the
 * encoder can drive. */
static bool find_crtc(int fd, uint32_t enc_id, uint32_t *crtc)
{
	uint32_t crtcs[MAX_OBJS];
	struct drm_mode_card_res res = { 0 };
	struct drm_mode_get_encoder enc = { .encoder_id = enc_id };

	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return fail("GETRESOURCES");
	if (res.count_crtcs > MAX_OBJS)
		res.count_crtcs = MAX_OBJS;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.count_fbs = res.count_connectors = res.count_encoders = 0;
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return fail("GETRESOURCES");
	if (enc_id && xioctl(fd, DRM_IOCTL_MODE_GETENCODER, &enc) == 0) {
		if (enc.crtc_id) {
			*crtc = enc.crtc_id;
			return true;
		}
		for (uint32_t i = 0; i < res.count_crtcs && i < 32; i++) {
			if (enc.possible_crtcs & (1u << i)) {
				*crtc = crtcs[i];
				return true;
			}
		}
	}
	if (res.count_crtcs) {
		*crtc = crtcs[0];
		return true;
	}
	errno = ENODEV;
	return fail("no CRTC");
}

/* Eight vertical bars: white, yellow, cyan, green, magenta, red, blue, grey. */
static void draw_bars(uint32_t *px, uint32_t w, uint32_t h, uint32_t pitch)
{
	static const uint32_t bars[8] = { 0xffffff, 0xffff00, 0x00ffff, 0x00ff00,
					  0xff00ff, 0xff0000, 0x0000ff, 0x808080 };

	for (uint32_t y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)((char *)px + (size_t)y * pitch);

		for (uint32_t x = 0; x < w; x++)
			row[x] = bars[(uint64_t)x * 8 / w];
	}
}

static void release(int fd, struct scanout *s)
{
	struct drm_mode_destroy_dumb d = { .handle = s->handle };

	if (s->map)
		munmap(s->map, s->size);
	if (s->fb)
		xioctl(fd, DRM_IOCTL_MODE_RMFB, &s->fb);
	if (s->handle)
		xioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
	memset(s, 0, sizeof(*s));
}

/* Put mode on screen with a freshly drawn buffer; the old one goes after. */
static bool set_mode(int fd, struct scanout *cur, uint32_t conn, uint32_t enc,
		     const struct drm_mode_modeinfo *mode)
{
	struct scanout n = { .conn = conn, .mode = *mode };
	struct drm_mode_create_dumb cd = { .width = mode->hdisplay,
					   .height = mode->vdisplay, .bpp = 32 };
	struct drm_mode_fb_cmd fb = { 0 };
	struct drm_mode_map_dumb md = { 0 };
	struct drm_mode_crtc sc = { 0 };

	if (!find_crtc(fd, enc, &n.crtc))
		return false;
	if (xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd) < 0)
		return fail("CREATE_DUMB");
	n.handle = cd.handle;
	n.size = cd.size;
	fb = (struct drm_mode_fb_cmd){ .width = cd.width, .height = cd.height,
				       .pitch = cd.pitch, .bpp = 32, .depth = 24,
				       .handle = cd.handle };
	if (xioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb) < 0) {
		release(fd, &n);
		return fail("ADDFB");
	}
	n.fb = fb.fb_id;
	md.handle = cd.handle;
	if (xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &md) < 0) {
		release(fd, &n);
		return fail("MAP_DUMB");
	}
	n.map = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		     (off_t)md.offset);
	if (n.map == MAP_FAILED) {
		n.map = NULL;
		release(fd, &n);
		return fail("mmap");
	}
	/* Drawn before the mode set: the commit uploads the whole buffer. */
	draw_bars(n.map, cd.width, cd.height, cd.pitch);
	sc.set_connectors_ptr = (uintptr_t)&n.conn;
	sc.count_connectors = 1;
	sc.crtc_id = n.crtc;
	sc.fb_id = n.fb;
	sc.mode_valid = 1;
	sc.mode = *mode;
	if (xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &sc) < 0) {
		release(fd, &n);
		return fail("SETCRTC");
	}
	release(fd, cur);
	*cur = n;
	printf("DRMMODE-SET %ux%u\n", mode->hdisplay, mode->vdisplay);
	return true;
}

static bool same_mode(const struct drm_mode_modeinfo *a,
		      const struct drm_mode_modeinfo *b)
{
	return a->hdisplay == b->hdisplay && a->vdisplay == b->vdisplay &&
	       a->clock == b->clock;
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/dri/card0";
	unsigned long timeout = 0;
	struct scanout cur = { 0 };
	bool watch = false, probe = false;
	double deadline;
	int opt, fd;

	while ((opt = getopt(argc, argv, "pwt:h")) != -1) {
		char *end;

		switch (opt) {
		case 'p':
			probe = true;
			break;
		case 'w':
			watch = true;
			break;
		case 't':
			errno = 0;
			timeout = strtoul(optarg, &end, 10);
			if (errno || *end || !timeout || timeout > 86400)
				goto usage;
			break;
		case 'h':
		default:
			goto usage;
		}
	}
	if (optind + 1 < argc)
		goto usage;
	if (optind < argc)
		dev = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fail(dev);
		return 1;
	}
	if (probe) {
		struct drm_mode_modeinfo mode;
		uint32_t conn, enc;

		if (!find_output(fd, &conn, &enc, &mode))
			return 1;
		printf("DRMMODE-PREFERRED %ux%u\n", mode.hdisplay, mode.vdisplay);
		return 0;
	}
	deadline = now_s() + (double)timeout;
	for (;;) {
		struct drm_mode_modeinfo mode;
		uint32_t conn, enc;

		/* Without -w: hold the first mode until killed or the timeout. */
		if (!cur.fb || watch) {
			if (!find_output(fd, &conn, &enc, &mode))
				return 1;
			if ((!cur.fb || !same_mode(&mode, &cur.mode) ||
			     conn != cur.conn) &&
			    !set_mode(fd, &cur, conn, enc, &mode))
				return 1;
		}
		if (timeout && now_s() >= deadline)
			break;
		poll(NULL, 0, watch ? 250 : 1000);
	}
	release(fd, &cur);
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: drmmode [-p | -w] [-t SECONDS] [DEVICE]\n");
	return 2;
}
