// SPDX-License-Identifier: MIT
/*
 * vncbench: the measurement client of `make bench` (tests/bench/run-bench.sh),
 * a libvncclient viewer that measures one VMM's console the same way
 * whatever the VMM is (our vmm, QEMU -vnc). It starts the VMM itself so that
 * "exec" is a time it knows, and reads the VMM's CPU time and memory from
 * /proc/PID/{stat,status,smaps}.
 *
 *   vncbench --mode MODE [options] -- VMM-COMMAND...
 *
 * Modes (the built-in guest mode the VMM must run is in brackets):
 *   first-frame  exec to the client holding a frame that shows the guest's
 *                test picture (corner markers and colour bars checked) and
 *                the VMM's RSS then   [test=vga-pattern]
 *   anim         per encoding: updates/s, Mpixel/s, bytes per update, VMM
 *                CPU per update during --seconds   [test=vga-anim]
 *   latency      --keys key presses; each: time from sending the key to the
 *                client holding the guest's echo   [test=input]
 *   idle         VMM CPU % over --seconds with one client connected and the
 *                guest idle   [test=vga-pattern]
 *   fanout       --clients viewers at once: per-client updates/s and total
 *                VMM CPU   [test=vga-anim]
 *
 * Output: one line per measurement, "BENCH mode=<m> key=value ...", then
 * exit 0; "vncbench: <reason>" on stderr and exit 1 when the measurement
 * could not be made (VMM died, no connection, timeout).
 *
 * A benchmark, not a test: nothing here judges a figure.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <linux/tcp.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <rfb/rfbclient.h>

#include "tests/common/rfbwait.h"

#define MAX_CLIENTS   64
#define MAX_KEYS      10000
#define CONNECT_POLL_NS 2000000L	/* 2 ms between connection attempts */
#define KEY_TIMEOUT   2.0		/* s for one echo before the key counts as lost */
#define PIXEL_TOL     48		/* per channel: JPEG (quality 8) noise allowed */
#define ECHO_DELTA    64		/* per channel: a pixel that really changed */

struct options {
	const char *mode;
	const char *host;
	int port;
	const char *encodings;	/* comma-separated: tight, zrle, raw */
	int width, height;	/* the guest mode the frames must have */
	double seconds;
	double warmup;
	int clients;
	int keys;
	double timeout;
	long guest_ram_mib;
	const char *wait_file;	/* latency: file that must contain wait_for */
	const char *wait_for;
	const char *log;	/* VMM stdout/stderr */
	char **cmd;
};

static struct options opt = {
	.host = "127.0.0.1", .port = 5900, .encodings = "tight",
	.width = 1024, .height = 768, .seconds = 3, .warmup = 0.5,
	.clients = 1, .keys = 200, .timeout = 30, .guest_ram_mib = 256,
};

static pid_t vmm_pid;
static double t_exec;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void stop_vmm(void)
{
	if (vmm_pid > 0) {
		kill(vmm_pid, SIGKILL);
		waitpid(vmm_pid, NULL, 0);
		vmm_pid = 0;
	}
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("vncbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	stop_vmm();
	exit(1);
}

/* True while the VMM we started is running. */
static bool vmm_alive(void)
{
	int status;

	return vmm_pid > 0 && waitpid(vmm_pid, &status, WNOHANG) == 0;
}

/* Fork and exec the VMM; t_exec is taken just before the fork. */
static void spawn_vmm(char **cmd)
{
	int fd;

	t_exec = now();
	vmm_pid = fork();
	if (vmm_pid < 0)
		die("fork: %s", strerror(errno));
	if (vmm_pid == 0) {
		/* The VMM must not outlive the measurement (vncbench killed). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		if (opt.log)
			fd = open(opt.log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(cmd[0], cmd);
		_exit(127);
	}
}

/* --- the VMM process: CPU and memory ----------------------------------------- */

/* utime + stime of every thread of pid, in seconds. */
static double vmm_cpu_s(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", vmm_pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		die("cannot read %s", path);
	fclose(f);
	/* Fields after the command name, which may hold spaces: from ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		die("cannot parse %s", path);
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/*
 * CPU seconds of the VMM's vCPU threads (ours are "vcpuN", QEMU's "CPU N/KVM"):
 * the guest's own work, which the rest of the process (device emulation,
 * display refresh, VNC encoding) is measured without.
 */
static double vmm_vcpu_cpu_s(void)
{
	char path[320], comm[64], buf[1024], *p;
	unsigned long ut, st, sum = 0;
	struct dirent *d;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", vmm_pid);
	dir = opendir(path);
	if (!dir)
		die("cannot read %s", path);
	while ((d = readdir(dir))) {
		unsigned n;
		char tail;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", vmm_pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (sscanf(comm, "vcpu%u%c", &n, &tail) != 2 &&
		    sscanf(comm, "CPU %u/KVM%c", &n, &tail) != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", vmm_pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			   &ut, &st) == 2)
			sum += ut + st;
		fclose(f);
	}
	closedir(dir);
	return (double)sum / sysconf(_SC_CLK_TCK);
}

/* VmRSS and the resident memory outside the guest-RAM mapping, in MiB. */
static void vmm_rss(double *rss, double *rss_minus_guest)
{
	char path[64], line[512];
	long kb, size = 0, total = 0, other = 0;
	long guest_kb = opt.guest_ram_mib * 1024;
	bool guest = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", vmm_pid);
	f = fopen(path, "r");
	if (!f)
		die("cannot read %s", path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Size: %ld kB", &size) == 1) {
			/* Guest RAM: one anonymous mapping of exactly its size. */
			guest = size == guest_kb;
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			total += kb;
			if (!guest)
				other += kb;
		}
	}
	fclose(f);
	*rss = total / 1024.0;
	*rss_minus_guest = other / 1024.0;
}

/* --- viewers ----------------------------------------------------------------- */

struct viewer {
	rfbClient *c;
	const char *encoding;
	uint64_t updates, pixels;
	bool frame_done;	/* a FramebufferUpdate finished since cleared */
	/* latency: the picture before the key, and whether the echo arrived */
	uint32_t *snap;
	int snap_w, snap_h;
	bool watching, echoed;
	double echo_t;
};

static int viewer_tag;

static void viewer_close(struct viewer *v);

static struct viewer *viewer_of(rfbClient *c)
{
	return rfbClientGetClientData(c, &viewer_tag);
}

/* A pixel as libvncclient stores it for rfbGetClient(8, 3, 4). */
static void rgb_of(uint32_t px, int *r, int *g, int *b)
{
	*r = px & 0xff;
	*g = (px >> 8) & 0xff;
	*b = (px >> 16) & 0xff;
}

static bool echo_in_rect(struct viewer *v, int x, int y, int w, int h)
{
	const uint32_t *fb = (const uint32_t *)v->c->frameBuffer;
	int fw = v->c->width;

	if (v->snap_w != fw || v->snap_h != v->c->height)
		return true;	/* a resize is a change too */
	for (int j = y; j < y + h && j < v->snap_h; j++) {
		/*
		 * Text cells are 16 pixels high and the blinking cursor lives in
		 * their scanlines 14-15 (the guest sets it so): only a change
		 * above those is the echoed glyph.
		 */
		if (j % 16 >= 14)
			continue;
		for (int i = x; i < x + w && i < fw; i++) {
			int r0, g0, b0, r1, g1, b1;

			rgb_of(v->snap[(size_t)j * fw + i], &r0, &g0, &b0);
			rgb_of(fb[(size_t)j * fw + i], &r1, &g1, &b1);
			if (abs(r0 - r1) > ECHO_DELTA || abs(g0 - g1) > ECHO_DELTA ||
			    abs(b0 - b1) > ECHO_DELTA)
				return true;
		}
	}
	return false;
}

static void got_update(rfbClient *c, int x, int y, int w, int h)
{
	struct viewer *v = viewer_of(c);

	v->pixels += (uint64_t)w * h;
	if (v->watching && !v->echoed && echo_in_rect(v, x, y, w, h)) {
		v->echoed = true;
		v->echo_t = now();
	}
}

static void finished_update(rfbClient *c)
{
	struct viewer *v = viewer_of(c);

	v->updates++;
	v->frame_done = true;
}

static void quiet_log(const char *fmt, ...)
{
	(void)fmt;
}

/* Wait until host:port accepts a TCP connection. */
static void wait_port(double deadline)
{
	char port[16];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

	snprintf(port, sizeof(port), "%d", opt.port);
	if (getaddrinfo(opt.host, port, &hints, &ai))
		die("cannot resolve %s", opt.host);
	for (;;) {
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			close(fd);
			break;
		}
		if (fd >= 0)
			close(fd);
		if (opt.cmd && !vmm_alive())
			die("the VMM exited before its VNC port opened");
		if (now() > deadline)
			die("no VNC server on %s:%d", opt.host, opt.port);
		nanosleep(&(struct timespec){ 0, CONNECT_POLL_NS }, NULL);
	}
	freeaddrinfo(ai);
}

/*
 * The encodings string for rfbInitClient's own SetEncodings: the real
 * encoding, then "raw" repeated up to MAX_ENCODINGS. libvncclient appends
 * its pseudo-encodings only while the list has room, and one of them,
 * ExtendedDesktopSize, it always announces but then ignores when the
 * server's screen id is 0 (QEMU's): a resize in the window before our own
 * SetEncodings (send_encodings) would be lost. A full list keeps every
 * pseudo-encoding out; send_encodings follows at once with the real list.
 */
static const char *encodings_for(const char *name)
{
	static char buf[4 * MAX_ENCODINGS + 16];
	size_t len;

	if (strcmp(name, "tight") && strcmp(name, "zrle") && strcmp(name, "raw"))
		die("unknown encoding %s (tight, zrle, raw)", name);
	snprintf(buf, sizeof(buf), "%s", name);
	for (int i = 1; i < MAX_ENCODINGS; i++) {
		len = strlen(buf);
		snprintf(buf + len, sizeof(buf) - len, " raw");
	}
	return buf;
}

/*
 * Send our own SetEncodings, without ExtendedDesktopSize: libvncclient
 * 0.9.14 always announces it but ignores the server's resize when the
 * screen id is 0, which is what QEMU sends, and then drops every rectangle
 * of the new size. Plain DesktopSize (NewFBSize) works with every server.
 */
static bool send_encodings(rfbClient *c, const char *encoding)
{
	int32_t list[8];
	uint8_t msg[4 + sizeof(list)];
	int n = 0;

	if (!strcmp(encoding, "tight")) {
		list[n++] = rfbEncodingTight;
		list[n++] = rfbEncodingCopyRect;
		list[n++] = rfbEncodingQualityLevel0 + c->appData.qualityLevel;
		list[n++] = rfbEncodingCompressLevel0 + c->appData.compressLevel;
	} else if (!strcmp(encoding, "zrle")) {
		list[n++] = rfbEncodingZRLE;
		list[n++] = rfbEncodingCopyRect;
	} else {
		list[n++] = rfbEncodingRaw;
	}
	list[n++] = rfbEncodingNewFBSize;
	list[n++] = rfbEncodingLastRect;
	msg[0] = rfbSetEncodings;
	msg[1] = 0;
	msg[2] = (uint8_t)(n >> 8);
	msg[3] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		uint32_t e = (uint32_t)list[i];

		msg[4 + 4 * i] = (uint8_t)(e >> 24);
		msg[5 + 4 * i] = (uint8_t)(e >> 16);
		msg[6 + 4 * i] = (uint8_t)(e >> 8);
		msg[7 + 4 * i] = (uint8_t)e;
	}
	return WriteToRFBServer(c, (char *)msg, 4 + 4 * n);
}

static bool viewer_connect(struct viewer *v, const char *encoding)
{
	rfbClient *c = rfbGetClient(8, 3, 4);

	if (!c)
		return false;
	memset(v, 0, sizeof(*v));
	v->c = c;
	v->encoding = encoding;
	rfbClientSetClientData(c, &viewer_tag, v);
	free(c->serverHost);	/* rfbGetClient's strdup("") */
	c->serverHost = strdup(opt.host);
	c->serverPort = opt.port;
	c->appData.encodingsString = encodings_for(encoding);
	c->appData.qualityLevel = 8;
	c->appData.enableJPEG = TRUE;
	c->appData.shareDesktop = TRUE;
	c->GotFrameBufferUpdate = got_update;
	c->FinishedFrameBufferUpdate = finished_update;
	if (!rfbInitClient(c, NULL, NULL)) {
		v->c = NULL;	/* rfbInitClient freed it */
		return false;
	}
	if (!send_encodings(c, encoding)) {
		viewer_close(v);
		return false;
	}
	return true;
}

static void viewer_close(struct viewer *v)
{
	if (v->c) {
		/* The framebuffer belongs to the application, not the client. */
		free(v->c->frameBuffer);
		v->c->frameBuffer = NULL;
		rfbClientCleanup(v->c);
	}
	v->c = NULL;
	free(v->snap);
	v->snap = NULL;
}

/* Handle server messages for up to `max` seconds; false if the link broke. */
static bool viewer_pump(struct viewer *v, double max)
{
	int r = rfb_wait_message(v->c, (unsigned)(max * 1e6));

	if (r < 0)
		return false;
	if (r > 0 && !HandleRFBServerMessage(v->c))
		return false;
	return true;
}

/* Pump until pred(v) or the deadline; false on timeout or a broken link. */
static bool viewer_until(struct viewer *v, bool (*pred)(struct viewer *), double deadline)
{
	while (!pred(v)) {
		if (now() > deadline || !viewer_pump(v, 0.05))
			return false;
	}
	return true;
}

static bool full_size(struct viewer *v)
{
	return v->c->width == opt.width && v->c->height == opt.height &&
	       v->frame_done;
}

/* --- the guest's test picture (vmm/guest/vga.c pattern_pixel) ------------------ */

static bool near(uint32_t px, int r, int g, int b)
{
	int pr, pg, pb;

	rgb_of(px, &pr, &pg, &pb);
	return abs(pr - r) <= PIXEL_TOL && abs(pg - g) <= PIXEL_TOL &&
	       abs(pb - b) <= PIXEL_TOL;
}

/*
 * The corner markers (24x24 red, green, blue, yellow) and the eight colour
 * bars of the top band, sampled at their centres: present only once the
 * whole picture has arrived, and robust to JPEG.
 */
static bool shows_pattern(struct viewer *v)
{
	static const int bars[8][3] = {
		{ 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
		{ 255, 0, 255 }, { 255, 0, 0 }, { 0, 0, 255 }, { 0, 0, 0 },
	};
	const uint32_t *fb = (const uint32_t *)v->c->frameBuffer;
	int w = v->c->width, h = v->c->height;

	if (!v->frame_done || w != opt.width || h != opt.height || w < 64 || h < 64)
		return false;
	v->frame_done = false;
#define AT(x, y) fb[(size_t)(y) * w + (x)]
	if (!near(AT(12, 12), 255, 0, 0) || !near(AT(w - 13, 12), 0, 255, 0) ||
	    !near(AT(12, h - 13), 0, 0, 255) || !near(AT(w - 13, h - 13), 255, 255, 0))
		return false;
	for (int i = 0; i < 8; i++)
		if (!near(AT((2 * i + 1) * w / 16, h / 8), bars[i][0], bars[i][1],
			  bars[i][2]))
			return false;
#undef AT
	return true;
}

/* --- modes --------------------------------------------------------------------- */

static void connect_or_die(struct viewer *v, const char *enc, double deadline)
{
	wait_port(deadline);
	while (!viewer_connect(v, enc)) {
		if (now() > deadline || (opt.cmd && !vmm_alive()))
			die("RFB handshake with %s:%d failed", opt.host, opt.port);
		nanosleep(&(struct timespec){ 0, CONNECT_POLL_NS }, NULL);
	}
}

static void mode_first_frame(void)
{
	struct viewer v;
	double t_conn, t_frame, rss, rss_other;

	connect_or_die(&v, opt.encodings, t_exec + opt.timeout);
	t_conn = now();
	if (!viewer_until(&v, shows_pattern, t_exec + opt.timeout))
		die("no frame with the test picture within %.0f s (%dx%d, %llu updates)",
		    opt.timeout, v.c->width, v.c->height,
		    (unsigned long long)v.updates);
	t_frame = now();
	vmm_rss(&rss, &rss_other);
	printf("BENCH mode=first-frame enc=%s connected_s=%.4f first_frame_s=%.4f "
	       "rss_mib=%.1f rss_minus_guest_mib=%.2f\n", v.encoding,
	       t_conn - t_exec, t_frame - t_exec, rss, rss_other);
	viewer_close(&v);
}

/* One encoding of the anim mode: a fresh viewer, warm-up, measurement. */
static void anim_one(const char *enc)
{
	struct viewer v;
	uint64_t u0, p0;
	double t0, t1, c0, c1, g0, g1;
	struct tcp_info ti0, ti1;
	socklen_t len = sizeof(ti0);

	connect_or_die(&v, enc, now() + opt.timeout);
	if (!viewer_until(&v, full_size, now() + opt.timeout))
		die("no %dx%d frame within %.0f s", opt.width, opt.height, opt.timeout);
	for (double end = now() + opt.warmup; now() < end;)
		if (!viewer_pump(&v, 0.05))
			die("connection lost");
	u0 = v.updates;
	p0 = v.pixels;
	memset(&ti0, 0, sizeof(ti0));
	memset(&ti1, 0, sizeof(ti1));
	getsockopt(v.c->sock, IPPROTO_TCP, TCP_INFO, &ti0, &len);
	c0 = vmm_cpu_s();
	g0 = vmm_vcpu_cpu_s();
	t0 = now();
	while ((t1 = now()) < t0 + opt.seconds)
		if (!viewer_pump(&v, 0.05))
			die("connection lost");
	c1 = vmm_cpu_s();
	g1 = vmm_vcpu_cpu_s();
	len = sizeof(ti1);
	getsockopt(v.c->sock, IPPROTO_TCP, TCP_INFO, &ti1, &len);
	{
		double n = (double)(v.updates - u0), dt = t1 - t0;
		double bytes = (double)(ti1.tcpi_bytes_received - ti0.tcpi_bytes_received);

		printf("BENCH mode=anim enc=%s w=%d h=%d seconds=%.2f updates=%.0f "
		       "fps=%.2f mpixel_s=%.2f bytes_per_update=%.0f "
		       "cpu_ms_per_update=%.3f cpu_pct=%.1f vcpu_pct=%.1f "
		       "other_ms_per_update=%.3f\n", enc, opt.width,
		       opt.height, dt, n, n / dt,
		       (double)(v.pixels - p0) / dt / 1e6,
		       n ? bytes / n : 0, n ? (c1 - c0) * 1e3 / n : 0,
		       (c1 - c0) / dt * 100, (g1 - g0) / dt * 100,
		       n ? (c1 - c0 - (g1 - g0)) * 1e3 / n : 0);
	}
	fflush(stdout);
	viewer_close(&v);
}

static void mode_anim(void)
{
	char *list = strdup(opt.encodings), *save = NULL;

	for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save))
		anim_one(e);
	free(list);
}

static void mode_idle(void)
{
	struct viewer v;
	double t0, c0, c1, t1;
	uint64_t u0;

	connect_or_die(&v, opt.encodings, now() + opt.timeout);
	if (!viewer_until(&v, shows_pattern, now() + opt.timeout))
		die("no frame with the test picture within %.0f s", opt.timeout);
	for (double end = now() + opt.warmup; now() < end;)
		if (!viewer_pump(&v, 0.05))
			die("connection lost");
	u0 = v.updates;
	c0 = vmm_cpu_s();
	t0 = now();
	while ((t1 = now()) < t0 + opt.seconds)
		if (!viewer_pump(&v, 0.1))
			die("connection lost");
	c1 = vmm_cpu_s();
	printf("BENCH mode=idle enc=%s seconds=%.2f cpu_pct=%.3f updates=%llu\n",
	       v.encoding, t1 - t0, (c1 - c0) / (t1 - t0) * 100,
	       (unsigned long long)(v.updates - u0));
	viewer_close(&v);
}

/* --- latency ------------------------------------------------------------------- */

static bool file_has(const char *path, const char *s)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, s) != NULL;
}

static void snapshot(struct viewer *v)
{
	size_t n = (size_t)v->c->width * v->c->height;

	if (v->snap_w != v->c->width || v->snap_h != v->c->height) {
		free(v->snap);
		v->snap = malloc(n * 4);
		if (!v->snap)
			die("out of memory");
		v->snap_w = v->c->width;
		v->snap_h = v->c->height;
	}
	memcpy(v->snap, v->c->frameBuffer, n * 4);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *s, int n, double p)
{
	int k = (int)(p / 100 * n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return s[k - 1];
}

static void mode_latency(void)
{
	struct viewer v;
	static double lat[MAX_KEYS];
	int n = 0, lost = 0;
	unsigned seed = 12345;

	connect_or_die(&v, opt.encodings, now() + opt.timeout);
	if (opt.wait_file) {
		for (double end = now() + opt.timeout; !file_has(opt.wait_file, opt.wait_for);) {
			if (now() > end)
				die("%s never showed \"%s\"", opt.wait_file, opt.wait_for);
			if (!viewer_pump(&v, 0.01))
				die("connection lost");
		}
	}
	/* Let the first screen arrive. */
	for (double end = now() + 0.3; now() < end;)
		if (!viewer_pump(&v, 0.05))
			die("connection lost");
	for (int k = 0; k < opt.keys; k++) {
		rfbKeySym key = 'a' + k % 26;
		double t0, deadline, gap;

		snapshot(&v);
		v.echoed = false;
		v.watching = true;
		t0 = now();
		SendKeyEvent(v.c, key, TRUE);
		SendKeyEvent(v.c, key, FALSE);
		deadline = t0 + KEY_TIMEOUT;
		while (!v.echoed && now() < deadline)
			if (!viewer_pump(&v, 0.005))
				die("connection lost");
		v.watching = false;
		if (v.echoed)
			lat[n++] = v.echo_t - t0;
		else
			lost++;
		/*
		 * A pseudo-random pause so that keys land at every phase of the
		 * VMMs' periodic display refresh, not in step with it.
		 */
		seed = seed * 1103515245 + 12345;
		gap = 0.005 + (seed >> 16) % 20 / 1000.0;
		for (double end = now() + gap; now() < end;)
			if (!viewer_pump(&v, 0.002))
				die("connection lost");
	}
	if (!n)
		die("no key was echoed (%d lost; %dx%d, %llu updates)", lost,
		    v.c->width, v.c->height, (unsigned long long)v.updates);
	qsort(lat, n, sizeof(lat[0]), cmp_double);
	printf("BENCH mode=latency enc=%s keys=%d echoed=%d lost=%d p50_ms=%.2f "
	       "p99_ms=%.2f min_ms=%.2f max_ms=%.2f\n", v.encoding, opt.keys, n,
	       lost, percentile(lat, n, 50) * 1e3, percentile(lat, n, 99) * 1e3,
	       lat[0] * 1e3, lat[n - 1] * 1e3);
	viewer_close(&v);
}

/* --- fan-out ------------------------------------------------------------------- */

struct fan {
	pthread_t thread;
	struct viewer v;
	bool ok;
	uint64_t u0, u1;
};

static volatile int fan_phase;	/* 0 connect, 1 measure, 2 stop */
static pthread_mutex_t fan_lock = PTHREAD_MUTEX_INITIALIZER;

static void *fan_thread(void *arg)
{
	struct fan *f = arg;
	int phase = 0;

	pthread_mutex_lock(&fan_lock);	/* rfbInitClient is not thread-safe */
	f->ok = viewer_connect(&f->v, opt.encodings);
	pthread_mutex_unlock(&fan_lock);
	if (!f->ok)
		return NULL;
	while (phase < 2) {
		int p = __atomic_load_n(&fan_phase, __ATOMIC_ACQUIRE);

		if (p != phase) {
			if (p >= 1 && phase == 0)
				f->u0 = f->v.updates;
			if (p == 2)
				f->u1 = f->v.updates;
			phase = p;
		}
		if (!viewer_pump(&f->v, 0.05)) {
			f->ok = false;
			break;
		}
	}
	return NULL;
}

static void mode_fanout(void)
{
	static struct fan fans[MAX_CLIENTS];
	double t0, t1, c0, c1, g0, g1, fps[MAX_CLIENTS], sum = 0;
	int n = opt.clients, ok = 0;

	wait_port(now() + opt.timeout);
	for (int i = 0; i < n; i++)
		if (pthread_create(&fans[i].thread, NULL, fan_thread, &fans[i]))
			die("pthread_create failed");
	/* Every viewer connected and past its first frames. */
	nanosleep(&(struct timespec){ (time_t)opt.warmup,
				      (long)((opt.warmup - (time_t)opt.warmup) * 1e9) },
		  NULL);
	c0 = vmm_cpu_s();
	g0 = vmm_vcpu_cpu_s();
	t0 = now();
	__atomic_store_n(&fan_phase, 1, __ATOMIC_RELEASE);
	nanosleep(&(struct timespec){ (time_t)opt.seconds,
				      (long)((opt.seconds - (time_t)opt.seconds) * 1e9) },
		  NULL);
	__atomic_store_n(&fan_phase, 2, __ATOMIC_RELEASE);
	t1 = now();
	c1 = vmm_cpu_s();
	g1 = vmm_vcpu_cpu_s();
	for (int i = 0; i < n; i++) {
		pthread_join(fans[i].thread, NULL);
		if (fans[i].ok) {
			fps[ok] = (double)(fans[i].u1 - fans[i].u0) / (t1 - t0);
			sum += fps[ok++];
		}
		viewer_close(&fans[i].v);
	}
	if (!ok)
		die("no viewer stayed connected");
	qsort(fps, ok, sizeof(fps[0]), cmp_double);
	printf("BENCH mode=fanout enc=%s clients=%d connected=%d seconds=%.2f "
	       "fps_median=%.2f fps_min=%.2f fps_max=%.2f fps_total=%.1f cpu_pct=%.1f "
	       "vcpu_pct=%.1f\n",
	       opt.encodings, n, ok, t1 - t0, fps[ok / 2], fps[0], fps[ok - 1], sum,
	       (c1 - c0) / (t1 - t0) * 100, (g1 - g0) / (t1 - t0) * 100);
}

/* --- main ------------------------------------------------------------------------ */

static void usage(void)
{
	fputs("usage: vncbench --mode first-frame|anim|latency|idle|fanout [--port N]\n"
	      "  [--host H] [--encodings tight,zrle,raw] [--size WxH] [--seconds S]\n"
	      "  [--warmup S] [--clients N] [--keys N] [--timeout S] [--guest-ram MIB]\n"
	      "  [--wait-file FILE --wait-for TEXT] [--log FILE] -- VMM-COMMAND...\n",
	      stderr);
	exit(2);
}

static double num_arg(const char *s, double lo, double hi)
{
	char *end;
	double d = strtod(s, &end);

	if (*s == 0 || *end || !(d >= lo && d <= hi)) {
		fprintf(stderr, "vncbench: bad number %s (%g-%g)\n", s, lo, hi);
		exit(2);
	}
	return d;
}

static void parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", 1, 0, 'm' }, { "host", 1, 0, 'H' }, { "port", 1, 0, 'p' },
		{ "encodings", 1, 0, 'e' }, { "size", 1, 0, 's' },
		{ "seconds", 1, 0, 'S' }, { "warmup", 1, 0, 'w' },
		{ "clients", 1, 0, 'c' }, { "keys", 1, 0, 'k' },
		{ "timeout", 1, 0, 't' }, { "guest-ram", 1, 0, 'g' },
		{ "wait-file", 1, 0, 'f' }, { "wait-for", 1, 0, 'F' },
		{ "log", 1, 0, 'l' }, { 0, 0, 0, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'm': opt.mode = optarg; break;
		case 'H': opt.host = optarg; break;
		case 'p': opt.port = (int)num_arg(optarg, 1, 65535); break;
		case 'e': opt.encodings = optarg; break;
		case 's':
			if (sscanf(optarg, "%dx%d", &opt.width, &opt.height) != 2 ||
			    opt.width < 1 || opt.height < 1 || opt.width > 8192 ||
			    opt.height > 8192) {
				fprintf(stderr, "vncbench: bad size %s\n", optarg);
				exit(2);
			}
			break;
		case 'S': opt.seconds = num_arg(optarg, 0.1, 600); break;
		case 'w': opt.warmup = num_arg(optarg, 0, 60); break;
		case 'c': opt.clients = (int)num_arg(optarg, 1, MAX_CLIENTS); break;
		case 'k': opt.keys = (int)num_arg(optarg, 1, MAX_KEYS); break;
		case 't': opt.timeout = num_arg(optarg, 1, 3600); break;
		case 'g': opt.guest_ram_mib = (long)num_arg(optarg, 1, 1 << 20); break;
		case 'f': opt.wait_file = optarg; break;
		case 'F': opt.wait_for = optarg; break;
		case 'l': opt.log = optarg; break;
		default: usage();
		}
	}
	if (!opt.mode || optind >= argc || (opt.wait_file && !opt.wait_for))
		usage();
	opt.cmd = argv + optind;
}

int main(int argc, char **argv)
{
	parse(argc, argv);
	/* libvncclient's chatter only on request (VNCBENCH_DEBUG=1). */
	if (!getenv("VNCBENCH_DEBUG")) {
		rfbClientLog = quiet_log;
		rfbClientErr = quiet_log;
	}
	signal(SIGPIPE, SIG_IGN);
	spawn_vmm(opt.cmd);
	if (!strcmp(opt.mode, "first-frame"))
		mode_first_frame();
	else if (!strcmp(opt.mode, "anim"))
		mode_anim();
	else if (!strcmp(opt.mode, "latency"))
		mode_latency();
	else if (!strcmp(opt.mode, "idle"))
		mode_idle();
	else if (!strcmp(opt.mode, "fanout"))
		mode_fanout();
	else
		die("unknown mode %s", opt.mode);
	fflush(stdout);
	stop_vmm();
	return 0;
}
