// SPDX-License-Identifier: MIT
/*
 * vmm: command line -> configuration -> wire the parts together -> run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "control.h"
#include "dev/vga.h"
#include "dev/virtio-gpu.h"
#include "dev/virtio-input.h"
#include "display/console.h"
#include "display/input.h"
#include "display/screendump.h"
#include "dev/debugcon.h"
#include "dev/i8042.h"
#include "dev/pci.h"
#include "dev/pm.h"
#include "dev/ps2kbd.h"
#include "dev/ps2mouse.h"
#include "dev/rtc.h"
#include "dev/serial.h"
#include "guest/builtin.h"
#include "log.h"
#include "platform.h"
#include "term.h"
#include "vnc/vnc.h"
#include "websocket/web.h"
#include "vm.h"

#define VMM_VERSION "0.1"
#define DEFAULT_MEMORY (256ULL << 20)
#define MAX_KERNEL_SIZE (512ULL << 20)

struct config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	uint64_t memory;
	unsigned cpus;
	bool demo;
	bool debug_exit;
	const char *serial;     /* stdio | file:PATH | none */
	const char *debugcon;   /* PATH or NULL */
	const char *display;    /* std | virtio | none */
	const char *input;      /* ps2 | virtio | NULL: PS/2 + virtio tablet */
	struct vga_config vga;
	const char *control;    /* unix:PATH or NULL */
	const char *vnc;        /* ADDR:PORT | unix:PATH | none; NULL: default */
	const char *password_file;
	const char *tls_dir;    /* ca-cert.pem, server-cert.pem, server-key.pem */
	bool tls_verify_client;
	const char *web;        /* --web ADDR:PORT | PORT; NULL: off */
	const char *web_token_file;
	const char *web_origin;
	const char *web_root;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: vmm --kernel FILE [--initrd FILE] [--append STR] [options]\n"
"       vmm --demo [options]\n"
"\n"
"  --kernel FILE        Linux bzImage, or an ELF with a PVH entry (vmlinux)\n"
"  --initrd FILE        initial ramdisk\n"
"  --append STR         kernel command line\n"
"  --demo               boot the built-in guest (nothing to download)\n"
"  --memory SIZE        guest RAM, e.g. 256M, 2G (default 256M)\n"
"  --cpus N             number of vCPUs (default 1)\n"
"  --serial MODE        COM1 backend: stdio (default), file:PATH, none\n"
"  --display TYPE       std (Bochs VBE/std-VGA adapter, default), virtio\n"
"                       (virtio-gpu) or none\n"
"  --input TYPE         ps2 (PS/2 keyboard and mouse) or virtio (virtio keyboard\n"
"                       and tablet); default: PS/2 plus a virtio tablet\n"
"  --resolution WxH     preferred display mode offered to the guest (1024x768)\n"
"  --vram SIZE          video memory of the std adapter (16M; 4M-256M, power of 2)\n"
"  --control unix:PATH  JSON-lines control socket (status, screendump, quit)\n"
"  --vnc SPEC           VNC server: ADDR:PORT, [V6ADDR]:PORT, unix:PATH or none\n"
"                       (default 127.0.0.1:5900)\n"
"  --password-file FILE VNC password (first line); required off loopback\n"
"  --tls-dir DIR        TLS: DIR/server-cert.pem, DIR/server-key.pem (make certs);\n"
"                       the VNC port then offers only VeNCrypt (X509)\n"
"  --tls-verify-client  require client certificates signed by DIR/ca-cert.pem\n"
"  --web SPEC           web console (HTTP + WebSocket): ADDR:PORT, [V6]:PORT or\n"
"                       PORT (127.0.0.1); prints its URL with an access token\n"
"  --web-token-file FILE more tokens: TOKEN [expires=WHEN] [view-only] a line\n"
"  --web-origin ORIGIN  also accept WebSockets from this Origin\n"
"  --web-root DIR       the page files (default: web/ next to the binary)\n"
"  --debugcon FILE      write the guest's debug port (0xE9) output to FILE\n"
"  --debug-exit         let the guest end the VMM with a status via port 0xF4\n"
"                       (implied by --demo)\n"
"  -v, --verbose        more log output (twice for debug)\n"
"  -q, --quiet          errors only\n"
"  -h, --help           this text\n"
"      --version        print the version\n"
"\n"
"Serial console on stdio: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n");
}

static unsigned parse_cpus(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || v == 0 || v > VM_MAX_CPUS)
		die("--cpus must be a number from 1 to %d (got '%s')", VM_MAX_CPUS, s);
	return (unsigned)v;
}

static void parse_resolution(const char *s, struct vga_config *vga)
{
	unsigned w, h;
	char tail;

	if (sscanf(s, "%ux%u%c", &w, &h, &tail) != 2)
		die("--resolution must look like 1024x768 (got '%s')", s);
	vga->width = w;
	vga->height = h;
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	enum { OPT_VERSION = 256, OPT_DEBUGCON, OPT_DEBUG_EXIT, OPT_DISPLAY,
	       OPT_RESOLUTION, OPT_VRAM, OPT_CONTROL, OPT_VNC, OPT_PASSWORD_FILE,
	       OPT_TLS_DIR, OPT_TLS_VERIFY_CLIENT };
	enum { OPT_WEB = 512, OPT_WEB_TOKEN_FILE, OPT_WEB_ORIGIN, OPT_WEB_ROOT };
	enum { OPT_INPUT = 768 };
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "serial", required_argument, NULL, 's' },
		{ "demo", no_argument, NULL, 'd' },
		{ "debugcon", required_argument, NULL, OPT_DEBUGCON },
		{ "debug-exit", no_argument, NULL, OPT_DEBUG_EXIT },
		{ "display", required_argument, NULL, OPT_DISPLAY },
		{ "input", required_argument, NULL, OPT_INPUT },
		{ "resolution", required_argument, NULL, OPT_RESOLUTION },
		{ "vram", required_argument, NULL, OPT_VRAM },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "vnc", required_argument, NULL, OPT_VNC },
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "tls-dir", required_argument, NULL, OPT_TLS_DIR },
		{ "tls-verify-client", no_argument, NULL, OPT_TLS_VERIFY_CLIENT },
		{ "web", required_argument, NULL, OPT_WEB },
		{ "web-token-file", required_argument, NULL, OPT_WEB_TOKEN_FILE },
		{ "web-origin", required_argument, NULL, OPT_WEB_ORIGIN },
		{ "web-root", required_argument, NULL, OPT_WEB_ROOT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	int c;

	*cfg = (struct config){ .memory = DEFAULT_MEMORY, .cpus = 1,
				.serial = "stdio", .display = "std" };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': cfg->kernel_path = optarg; break;
		case 'i': cfg->initrd_path = optarg; break;
		case 'a': cfg->cmdline = optarg; break;
		case 'm':
			if (mem_parse_size(optarg, &cfg->memory) < 0)
				die("--memory: '%s' is not a size (try 256M or 2G)", optarg);
			break;
		case 'c': cfg->cpus = parse_cpus(optarg); break;
		case 's': cfg->serial = optarg; break;
		case 'd': cfg->demo = true; break;
		case OPT_DEBUGCON: cfg->debugcon = optarg; break;
		case OPT_DEBUG_EXIT: cfg->debug_exit = true; break;
		case OPT_DISPLAY:
			if (strcmp(optarg, "std") && strcmp(optarg, "none") &&
			    strcmp(optarg, "virtio"))
				die("--display must be std, virtio or none (got '%s')", optarg);
			cfg->display = optarg;
			break;
		case OPT_RESOLUTION:
			parse_resolution(optarg, &cfg->vga);
			break;
		case OPT_VRAM:
			if (mem_parse_size(optarg, &cfg->vga.vram_size) < 0)
				die("--vram: '%s' is not a size (try 16M)", optarg);
			break;
		case OPT_INPUT:
			if (strcmp(optarg, "ps2") && strcmp(optarg, "virtio"))
				die("--input must be ps2 or virtio (got '%s')", optarg);
			cfg->input = optarg;
			break;
		case OPT_CONTROL: cfg->control = optarg; break;
		case OPT_VNC: cfg->vnc = optarg; break;
		case OPT_PASSWORD_FILE: cfg->password_file = optarg; break;
		case OPT_TLS_DIR: cfg->tls_dir = optarg; break;
		case OPT_TLS_VERIFY_CLIENT: cfg->tls_verify_client = true; break;
		case OPT_WEB: cfg->web = strcmp(optarg, "none") ? optarg : NULL; break;
		case OPT_WEB_TOKEN_FILE: cfg->web_token_file = optarg; break;
		case OPT_WEB_ORIGIN: cfg->web_origin = optarg; break;
		case OPT_WEB_ROOT: cfg->web_root = optarg; break;
		case 'v': log_max_level = log_max_level < LOG_DEBUG ? log_max_level + 1 : LOG_DEBUG; break;
		case 'q': log_max_level = LOG_ERR; break;
		case 'h': usage(stdout); exit(0);
		case OPT_VERSION: printf("vmm %s\n", VMM_VERSION); exit(0);
		case ':':
			die("option '%s' needs a value", argv[optind - 1]);
		default:
			die("unknown option '%s' (see vmm --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see vmm --help)", argv[optind]);
	if (cfg->demo && cfg->kernel_path)
		die("--demo and --kernel are mutually exclusive");
	if (!cfg->demo && !cfg->kernel_path)
		die("no kernel: give --kernel FILE, or --demo for the built-in guest");
	if (cfg->demo && cfg->initrd_path)
		die("--initrd cannot be used with --demo");
	if (cfg->memory < MEM_MIN_SIZE || cfg->memory > MEM_MAX_SIZE)
		die("--memory must be between %llu MiB and %llu GiB",
		    MEM_MIN_SIZE >> 20, MEM_MAX_SIZE >> 30);
	if (cfg->memory & 0xfff)
		die("--memory must be a multiple of 4 KiB");
	if (cfg->demo)
		cfg->debug_exit = true;
	if (!strcmp(cfg->display, "std")) {
		char err[160];

		if (vga_config_check(&cfg->vga, err, sizeof(err)) < 0)
			die("%s", err);
	} else if (!strcmp(cfg->display, "virtio") && !cfg->vga.vram_size) {
		if (cfg->vga.width && (cfg->vga.width < VGA_EDID_MIN_WIDTH ||
				       cfg->vga.height < VGA_EDID_MIN_HEIGHT ||
				       cfg->vga.width > VGA_EDID_MAX_DIM ||
				       cfg->vga.height > VGA_EDID_MAX_DIM))
			die("--resolution must be between %dx%d and %dx%d",
			    VGA_EDID_MIN_WIDTH, VGA_EDID_MIN_HEIGHT,
			    VGA_EDID_MAX_DIM, VGA_EDID_MAX_DIM);
	} else if (cfg->vga.width || cfg->vga.vram_size) {
		die("--resolution needs --display std or virtio, --vram needs --display std");
	}
	{
		struct vnc_listen l;
		char err[200];

		if (vnc_parse_listen(cfg->vnc, &l, err, sizeof(err)) < 0)
			die("%s", err);
		if (!strcmp(cfg->display, "none") && cfg->vnc && strcmp(cfg->vnc, "none"))
			die("--vnc needs a display (--display std)");
	}
	if (cfg->tls_verify_client && !cfg->tls_dir)
		die("--tls-verify-client needs --tls-dir");
	if (cfg->web) {
		char host[256], err[200];
		int port;

		if (web_parse_listen(cfg->web, host, sizeof(host), &port, err,
				     sizeof(err)) < 0)
			die("%s", err);
		if (!strcmp(cfg->display, "none"))
			die("--web needs a display (--display std)");
	} else if (cfg->web_token_file || cfg->web_origin || cfg->web_root) {
		die("--web-token-file, --web-origin and --web-root need --web");
	}
	if (!cfg->cmdline)
		cfg->cmdline = "";
}

/* Read a whole file the user named; any problem is a one-line error. */
static uint8_t *read_file(const char *what, const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	size_t done = 0;

	if (fd < 0)
		die("cannot open %s '%s': %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		die("%s '%s' is not a regular file", what, path);
	if ((uint64_t)st.st_size > MAX_KERNEL_SIZE)
		die("%s '%s' is too large (%lld bytes)", what, path, (long long)st.st_size);
	if (st.st_size == 0)
		die("%s '%s' is empty", what, path);
	buf = malloc((size_t)st.st_size);
	if (!buf)
		die("out of memory reading %s '%s'", what, path);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0)
			die("cannot read %s '%s': %s", what, path,
			    n < 0 ? strerror(errno) : "unexpected end of file");
		done += (size_t)n;
	}
	close(fd);
	*size = done;
	return buf;
}

static int open_serial_output(const char *mode, bool *use_stdin)
{
	*use_stdin = false;
	if (!strcmp(mode, "stdio")) {
		*use_stdin = true;
		return STDOUT_FILENO;
	}
	if (!strcmp(mode, "none"))
		return -1;
	if (!strncmp(mode, "file:", 5) && mode[5]) {
		int fd = open(mode + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0)
			die("--serial: cannot open '%s': %s", mode + 5, strerror(errno));
		return fd;
	}
	die("--serial must be stdio, file:PATH or none (got '%s')", mode);
}

/* The built-in guest runs in ring 3 and is fast even without VMX/SVM. */
static bool is_builtin_guest(const struct boot_config *boot)
{
	size_t size = (size_t)(builtin_guest_end - builtin_guest_start);

	return boot->kernel_size == size &&
	       !memcmp(boot->kernel, builtin_guest_start, size);
}

static unsigned kvm_max_vcpus(int kvm_fd)
{
	int n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return n > 0 ? (unsigned)n : 1;
}

/* What the control socket and the display consumers see of the machine. */
struct machine {
	struct vm *vm;
	struct console *console;   /* NULL with --display none */
	const char *display;
};

static int control_status(void *opaque, struct control_status *out)
{
	struct machine *m = opaque;

	out->running = atomic_load(&m->vm->stop_reason) == VM_RUNNING;
	out->width = out->height = 0;
	out->clients = 0;
	if (m->console) {
		console_get_size(m->console, &out->width, &out->height);
		out->clients = console_listener_count(m->console);
	}
	out->display = m->display;
	return 0;
}

static int control_screendump(void *opaque, const char *path, char *err,
			      size_t errlen)
{
	struct machine *m = opaque;

	if (!m->console) {
		snprintf(err, errlen, "no display (--display none)");
		return -1;
	}
	return screendump_console(m->console, path, err, errlen);
}

static void control_quit(void *opaque)
{
	struct machine *m = opaque;

	log_info("control socket: quit");
	vm_request_stop(m->vm, VM_STOP_USER);
}

/* A control client watching the display: a console consumer whose
 * callbacks (console lock held, producer threads) only queue events. */
struct display_watch {
	struct console_listener listener;
	struct control_watch *w;
	struct console *con;
};

static void watch_surface_changed(void *opaque, struct console *c)
{
	struct display_watch *d = opaque;
	pixman_image_t *img = console_surface_locked(c);

	control_watch_surface(d->w, img ? pixman_image_get_width(img) : 0,
			      img ? pixman_image_get_height(img) : 0);
}

static void watch_damage(void *opaque, const pixman_box32_t *b)
{
	struct display_watch *d = opaque;

	control_watch_damage(d->w, b->x1, b->y1, b->x2 - b->x1, b->y2 - b->y1);
}

static void *control_watch_start(void *opaque, struct control_watch *w,
				 char *err, size_t errlen)
{
	struct machine *m = opaque;
	struct display_watch *d;

	if (!m->console) {
		snprintf(err, errlen, "no display (--display none)");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->w = w;
	d->con = m->console;
	d->listener.surface_changed = watch_surface_changed;
	d->listener.damage = watch_damage;
	d->listener.opaque = d;
	if (console_add_listener(m->console, &d->listener) < 0) {
		free(d);
		snprintf(err, errlen, "cannot attach to the console");
		return NULL;
	}
	return d;
}

static void control_watch_stop(void *opaque, void *handle)
{
	struct display_watch *d = handle;

	(void)opaque;
	console_remove_listener(d->con, &d->listener);
	free(d);
}

/* --- input: the console's router drives the PS/2 keyboard and mouse ------ */

_Static_assert(INPUT_BUTTON_LEFT == PS2MOUSE_BUTTON_LEFT &&
	       INPUT_BUTTON_MIDDLE == PS2MOUSE_BUTTON_MIDDLE &&
	       INPUT_BUTTON_RIGHT == PS2MOUSE_BUTTON_RIGHT &&
	       INPUT_LED_CAPS == PS2KBD_LED_CAPS && INPUT_LED_NUM == PS2KBD_LED_NUM &&
	       INPUT_LED_SCROLL == PS2KBD_LED_SCROLL &&
	       INPUT_KEY_PAUSE == PS2KBD_KEY_PAUSE,
	       "PS/2 and input router constants agree");

/* The guest set its keyboard LEDs (vCPU thread). */
static void ps2_leds(void *opaque, unsigned leds)
{
	struct machine *m = opaque;

	if (m->console)
		console_input_set_leds(m->console, leds);
}

static void router_key(void *opaque, unsigned xt, bool down)
{
	ps2kbd_key(opaque, xt, down);
}

static void router_motion(void *opaque, int dx, int dy, int dz, int dw,
			  unsigned buttons)
{
	ps2mouse_motion(opaque, dx, dy, dz, dw, buttons);
}

static const struct ps2kbd_ops machine_ps2kbd_ops = { .set_leds = ps2_leds };
static const struct input_kbd_ops router_kbd_ops = { .key = router_key };
static const struct input_rel_ops router_rel_ops = { .motion = router_motion };

static const struct control_ops machine_control_ops = {
	.status = control_status,
	.screendump = control_screendump,
	.quit = control_quit,
	.watch = control_watch_start,
	.unwatch = control_watch_stop,
};

/* --- the web console: browsers become VNC clients ------------------------- */

static int web_add_vnc_client(void *opaque, int fd, const char *peer,
			      bool view_only)
{
	return vnc_server_add_client_ex(opaque, fd, peer,
					view_only ? VNC_CLIENT_VIEW_ONLY : 0);
}

static struct web_server *start_web(const struct config *cfg,
				    struct vnc_server *vnc)
{
	struct web_config wc = {
		.listen = cfg->web, .root = cfg->web_root,
		.token_file = cfg->web_token_file, .tls_dir = cfg->tls_dir,
		.allow_origin = cfg->web_origin,
		.add_client = web_add_vnc_client, .opaque = vnc,
	};
	char exe[4096], root[4096], err[512];
	struct web_server *web;
	ssize_t n;

	if (!wc.root) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = 0;
		if (web_find_root(exe, root, sizeof(root)))
			die("--web: no page files (index.html) in web/ or ../web/ next to %s: "
			    "build them (make bins) or give --web-root", exe);
		wc.root = root;
	}
	web = web_server_create(&wc, err, sizeof(err));
	if (!web)
		die("%s", err);
	/* The operator's terminal is the channel for the token: never the log. */
	fprintf(stderr, "vmm: console: %s\n", web_server_url(web));
	return web;
}

/* --- virtio input: the router prefers them once the guest drives them --- */

static struct {
	struct virtio_input *kbd, *tablet;
	struct ps2kbd *ps2kbd;
	struct console *con;
} vinput;

static void vkbd_leds(void *opaque, unsigned leds)
{
	(void)opaque;
	if (vinput.con)
		console_input_set_leds(vinput.con, leds);
}

/* Keys go to the virtio keyboard while its driver runs, else to PS/2. */
static void router_vkey(void *opaque, unsigned xt, bool down)
{
	(void)opaque;
	if (virtio_input_active(vinput.kbd))
		virtio_input_key(vinput.kbd, xt, down);
	else
		ps2kbd_key(vinput.ps2kbd, xt, down);
}

static void router_abs(void *opaque, unsigned x, unsigned y, int dz, int dw,
		       unsigned buttons)
{
	virtio_input_position(opaque, x, y, dz, dw, buttons);
}

static bool router_abs_active(void *opaque)
{
	return virtio_input_active(opaque);
}

static const struct virtio_input_ops vkbd_ops = { .set_leds = vkbd_leds };
static const struct input_kbd_ops router_vkbd_ops = { .key = router_vkey };
static const struct input_abs_ops router_abs_ops = {
	.position = router_abs, .active = router_abs_active,
};

static void create_virtio_input(struct vm *vm, struct pci_bus *pci,
				struct event_loop *loop, const char *mode,
				struct console *con, struct ps2kbd *kbd)
{
	if (mode && !strcmp(mode, "ps2"))
		return;
	vinput.con = con;
	vinput.ps2kbd = kbd;
	vinput.tablet = virtio_input_create(vm, pci, loop, VIRTIO_INPUT_TABLET,
					    NULL, NULL);
	if (!vinput.tablet)
		die("cannot create the virtio tablet");
	if (con)
		console_input_set_abs(con, &router_abs_ops, vinput.tablet);
	if (!mode || strcmp(mode, "virtio"))
		return;
	vinput.kbd = virtio_input_create(vm, pci, loop, VIRTIO_INPUT_KEYBOARD,
					 &vkbd_ops, NULL);
	if (!vinput.kbd)
		die("cannot create the virtio keyboard");
	if (con)
		console_input_set_kbd(con, &router_vkbd_ops, NULL);
}

static int signal_fd = -1;

/* SIGINT/SIGTERM/SIGHUP end the VM through the event loop. */
static void signal_ready(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;
	int fd = signal_fd;

	(void)events;
	if (read(fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: stopping the VM", si.ssi_signo);
		vm_request_stop(vm, VM_STOP_USER);
	}
}

static int watch_signals(struct vm *vm)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -1;
	signal_fd = fd;
	return event_add_fd(vm->loop, fd, EPOLLIN, signal_ready, vm);
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct boot_config boot = { 0 };
	struct boot_entry entry = { 0 };
	struct event_loop *loop;
	/* Static: the devices hang off it until the process exits. */
	static struct vm vm;
	struct serial *uart;
	struct pci_bus *pci;
	struct vga *vga = NULL;
	struct virtio_gpu *vgpu = NULL;
	struct i8042 *i8042;
	struct ps2kbd *kbd;
	struct ps2mouse *mouse;
	struct control_server *control = NULL;
	struct vnc_server *vnc = NULL;
	struct web_server *web = NULL;
	static struct machine machine;
	struct term *term = NULL;
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t kernel_size = 0, initrd_size = 0;
	bool serial_stdin;
	int serial_fd, debug_fd = -1, status;
	char err[256];

	parse_args(argc, argv, &cfg);

	if (cfg.demo) {
		boot.kernel = builtin_guest_start;
		boot.kernel_size = (size_t)(builtin_guest_end - builtin_guest_start);
		boot.kernel_name = "built-in guest";
	} else {
		kernel = read_file("kernel", cfg.kernel_path, &kernel_size);
		boot.kernel = kernel;
		boot.kernel_size = kernel_size;
		boot.kernel_name = cfg.kernel_path;
		if (boot_probe_kernel(kernel, kernel_size) == KERNEL_UNKNOWN)
			die("kernel '%s' is not a bzImage or ELF kernel", cfg.kernel_path);
	}
	if (cfg.initrd_path) {
		initrd = read_file("initrd", cfg.initrd_path, &initrd_size);
		if (initrd_size >= cfg.memory)
			die("initrd '%s' (%zu MiB) is larger than guest RAM (%llu MiB)",
			    cfg.initrd_path, initrd_size >> 20,
			    (unsigned long long)(cfg.memory >> 20));
		boot.initrd = initrd;
		boot.initrd_size = initrd_size;
	}
	boot.cmdline = cfg.cmdline;
	serial_fd = open_serial_output(cfg.serial, &serial_stdin);
	if (cfg.debugcon) {
		debug_fd = open(cfg.debugcon, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (debug_fd < 0)
			die("--debugcon: cannot open '%s': %s", cfg.debugcon, strerror(errno));
	}

	loop = event_loop_create();
	if (!loop)
		die("cannot create the event loop: %s", strerror(errno));
	if (vm_create(&vm, cfg.memory, cfg.cpus, loop) < 0)
		exit(1);
	if (cfg.cpus > kvm_max_vcpus(vm.kvm_fd))
		die("--cpus %u is more than this host's KVM supports (%u)",
		    cfg.cpus, kvm_max_vcpus(vm.kvm_fd));
	if (watch_signals(&vm) < 0)
		die("cannot watch signals: %s", strerror(errno));

	uart = serial_create(&vm, PORT_COM1, IRQ_COM1, serial_fd);
	pci = pci_create(&vm);
	if (!uart || !pci || !rtc_create(&vm, loop) || pm_create(&vm) < 0 ||
	    debugcon_create(&vm, debug_fd, cfg.debug_exit) < 0)
		die("cannot create the machine's devices");
	i8042 = i8042_create(&vm);
	kbd = i8042 ? ps2kbd_create(i8042, &machine_ps2kbd_ops, &machine) : NULL;
	mouse = i8042 ? ps2mouse_create(i8042) : NULL;
	if (!kbd || !mouse)
		die("cannot create the PS/2 controller, keyboard and mouse");
	machine.vm = &vm;
	machine.display = cfg.display;
	if (!strcmp(cfg.display, "std")) {
		struct vga_boot_info bi;

		machine.console = console_create("std-vga");
		if (!machine.console)
			die("cannot create the console");
		console_input_set_kbd(machine.console, &router_kbd_ops, kbd);
		console_input_set_rel(machine.console, &router_rel_ops, mouse);
		vga = vga_create(&vm, pci, loop, machine.console, &cfg.vga);
		if (!vga)
			die("cannot create the std-VGA adapter");
		vga_get_boot_info(vga, &bi);
		boot.vga_text = bi.text;
	} else if (!strcmp(cfg.display, "virtio")) {
		struct virtio_gpu_config gc = { .width = cfg.vga.width,
						.height = cfg.vga.height };

		machine.console = console_create("virtio-gpu");
		if (!machine.console)
			die("cannot create the console");
		console_input_set_kbd(machine.console, &router_kbd_ops, kbd);
		console_input_set_rel(machine.console, &router_rel_ops, mouse);
		vgpu = virtio_gpu_create(&vm, pci, loop, machine.console, &gc);
		if (!vgpu)
			die("cannot create the virtio-gpu adapter");
	}
	create_virtio_input(&vm, pci, loop, cfg.input, machine.console, kbd);
	if (vm_create_vcpus(&vm) < 0)
		exit(1);
	if (boot_load(&vm, &boot, &entry, err, sizeof(err)) < 0)
		die("%s: %s", boot.kernel_name, err);
	if (vm_setup_bsp(&vm, &entry) < 0)
		exit(1);
	if (!vm.has_hw_virt && !is_builtin_guest(&boot))
		log_warn("this host's /dev/kvm has no VMX/SVM (paravirtual KVM): "
			 "a Linux kernel will not boot in useful time here");
	free(kernel);
	free(initrd);

	/* Listeners start only once the guest is known to load. */
	/* With --web and --vnc none the VNC server listens on nothing and
	 * serves only the browsers the web server hands it. */
	if (machine.console && (!(cfg.vnc && !strcmp(cfg.vnc, "none")) || cfg.web)) {
		struct vnc_config vc = { .listen = cfg.vnc,
					 .password_file = cfg.password_file,
					 .tls_dir = cfg.tls_dir,
					 .tls_verify_client = cfg.tls_verify_client };

		vnc = vnc_server_create(machine.console, &vc, err, sizeof(err));
		if (!vnc)
			die("%s", err);
	}
	if (cfg.control) {
		control = control_server_create(loop, cfg.control, &machine_control_ops,
						&machine, err, sizeof(err));
		if (!control)
			die("--control: %s", err);
	}
	if (cfg.web)
		web = start_web(&cfg, vnc);

	if (serial_stdin) {
		term = term_create(&vm, uart, STDIN_FILENO);
		if (!term)
			exit(1);
	}
	if (vm_start(&vm) < 0)
		exit(1);
	event_loop_run(loop);
	status = vm_join(&vm);
	term_destroy(term);
	/* The guest's last words (e.g. "reboot: Power down") must not be lost. */
	serial_destroy(uart);
	control_server_destroy(control);
	web_server_destroy(web);
	vnc_server_destroy(vnc);
	pci_destroy(pci);
	vga_destroy(vga);
	virtio_gpu_destroy(vgpu);
	if (machine.console) {
		console_input_set_kbd(machine.console, NULL, NULL);
		console_input_set_rel(machine.console, NULL, NULL);
		console_input_set_abs(machine.console, NULL, NULL);
		console_destroy(machine.console);
	}
	virtio_input_destroy(vinput.kbd);
	virtio_input_destroy(vinput.tablet);
	ps2mouse_destroy(mouse);
	ps2kbd_destroy(kbd);
	switch (atomic_load(&vm.stop_reason)) {
	case VM_STOP_POWEROFF: log_info("guest powered off"); break;
	case VM_STOP_REBOOT: log_info("guest requested a reset: stopping"); break;
	default: break;
	}
	return status;
}
