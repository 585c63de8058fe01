// SPDX-License-Identifier: MIT
/*
 * The built-in guest's ring 3 program: options from the PVH command line,
 * then the interactive demo or one scripted test.
 *
 * Command line (space separated; default "mode=demo"):
 *   mode=demo          banner, then echo what is typed on COM1; the lines
 *                      "poweroff" and "reboot" do that (ACPI), "help" lists
 *   test=boot          banner, RESULT line, exit 0
 *   test=poweroff      ACPI power off (FADT sleep control / PM1a, else 0x600)
 *   test=reboot        ACPI reset (FADT RESET_REG, else 0x602 <- 0x0F)
 *   test=serial-echo   "RESULT ready", then echo; the line "quit" exits 0
 *   test=serial-flood  write bytes=N (default 100000) bytes of numbered
 *                      50-byte lines "LINE nnnnn <37 letters>\r\n" on COM1
 *                      as fast as the UART takes them, then exit 0
 *   test=triplefault   clear the IDT, then fault: the VMM sees a shutdown
 *   test=exception     ud2 in ring 3: "EXCEPTION 6 at RIP=..." and exit 3
 *   bytes=N            serial-flood size (at most 5000000)
 *   test=vga-text      std-VGA: a known 80x25 text screen and cursor, then
 *                      wait; "q" on COM1 exits 0
 *   test=vga-pattern   std-VGA: a 32 bpp mode (w=, h=; 1024x768) with a test
 *                      picture; COM1 commands p (toggle the pixel at
 *                      100,100), m (switch to 800x600), q (exit 0)
 *   test=vga-anim      (or mode=anim) every pixel changes every frame;
 *                      "INFO frame N" on the debug port; q or frames=N ends
 *   test=vga-hostile   absurd register values, then a sane mode (w=, h=;
 *                      640x480) and the picture; q exits 0
 *   test=input         i8042 + PS/2 keyboard (translated to set 1) and
 *                      IntelliMouse set up as Linux does; every keyboard
 *                      byte as "KBD xx ['c']", every mouse packet as
 *                      "MOUSE dx dy dz buttons" (input.c); keys echoed and
 *                      the pointer shown on the text screen; q on COM1
 *                      exits 0
 *   test=virtio-pattern, virtio-anim, virtio-input, virtio-hostile
 *                      the same through virtio-gpu / virtio-input
 *                      (virtio*.c; README.md has the details)
 *   w=N h=N            mode size for the vga and virtio tests (16-4096)
 *   frames=N           vga-anim, virtio-anim: stop after N frames
 *
 * Output line format (tests parse it). Every line goes to the debug port
 * 0xE9 ending in "\n" and to COM1 ending in "\r\n", unless noted:
 *   RESULT <test> ok [key=value]...   a test's outcome; if present,
 *                                     cmdline=<rest of line> comes last
 *   RESULT ready                      serial-echo waits for input
 *   RESULT error <reason> [detail]... something failed; a non-zero exit follows
 *   EXCEPTION <vector> at RIP=0x<16 hex> ERR=0x<hex> ...
 *                                     an unexpected CPU exception (exit 3),
 *                                     followed by register lines
 *   INFO <text>                       progress, for humans
 * Exit: a byte written to port 0xF4 (QEMU's isa-debug-exit; our vmm exits
 * with that status, QEMU with status*2+1): 0 ok, 1 failure, 2 bad option,
 * 3 exception, 4 exception while reporting an exception.
 */
#include "guest.h"
#include "../boot/pvh.h"

#define CMDLINE_MAX     1024
#define LINE_MAX        128
#define FLOOD_LINE_LEN  50
#define FLOOD_DEFAULT   100000
#define FLOOD_MAX       5000000
#define E820_RAM        1
#define MEMMAP_MAX      128
#define VGA_MIN_DIM     16
#define VGA_MAX_DIM     4096

struct guest_config {
	char cmdline[CMDLINE_MAX];
	unsigned cpus;
	uint64_t mem_mib;
	uint64_t flood_bytes;
};

static struct guest_config cfg;

void guest_exit(int code)
{
	outb(PORT_DEBUG_EXIT, (uint8_t)code);
	/* No exit device (e.g. QEMU without isa-debug-exit): power off. */
	acpi_poweroff();
	for (;;)
		idle(irq_count);
}

/* entry.S addresses these fields by offset. */
_Static_assert(offsetof(struct exc_frame, rdi) == 80, "exc_frame rdi");
_Static_assert(offsetof(struct exc_frame, rsi) == 88, "exc_frame rsi");
_Static_assert(offsetof(struct exc_frame, rdx) == 96, "exc_frame rdx");
_Static_assert(offsetof(struct exc_frame, rcx) == 104, "exc_frame rcx");
_Static_assert(offsetof(struct exc_frame, rax) == 120, "exc_frame rax");
_Static_assert(offsetof(struct exc_frame, vector) == 128, "exc_frame vector");
_Static_assert(offsetof(struct exc_frame, rip) == 144, "exc_frame rip");
_Static_assert(offsetof(struct exc_frame, cs) == 152, "exc_frame cs");

/* Reached from the CPL 0 exception path, in ring 3 on its own stack. */
void exception_report(const struct exc_frame *f) __attribute__((noreturn));
void exception_report(const struct exc_frame *f)
{
	out_printf(OUT_BOTH,
		   "EXCEPTION %lu at RIP=0x%016lx ERR=0x%lx CS=0x%lx RFLAGS=0x%lx RSP=0x%lx CR2=0x%lx\n",
		   f->vector, f->rip, f->error, f->cs, f->rflags, f->rsp,
		   f->cr2);
	out_printf(OUT_BOTH,
		   "  RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n"
		   "  RSI=%016lx RDI=%016lx RBP=%016lx R8=%016lx\n",
		   f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp,
		   f->r8);
	out_printf(OUT_BOTH,
		   "  R9=%016lx R10=%016lx R11=%016lx R12=%016lx\n"
		   "  R13=%016lx R14=%016lx R15=%016lx\n",
		   f->r9, f->r10, f->r11, f->r12, f->r13, f->r14, f->r15);
	guest_exit(EXIT_EXCEPTION);
}

uint64_t guest_ram_bytes(void)
{
	return cfg.mem_mib << 20;
}

/* --- start_info -------------------------------------------------------- */

static uint64_t ram_bytes(const struct hvm_start_info *si)
{
	const struct hvm_memmap_table_entry *e;
	uint64_t total = 0;
	uint32_t n;

	if (si->version < 1 || !si->memmap_paddr ||
	    si->memmap_paddr >= 0x100000000ULL)
		return 0;
	n = si->memmap_entries < MEMMAP_MAX ? si->memmap_entries : MEMMAP_MAX;
	e = (const struct hvm_memmap_table_entry *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			total += e[i].size;
	return total;
}

static void read_start_info(const struct hvm_start_info *si)
{
	const char *cl;
	size_t n;

	if ((uintptr_t)si >= 0x100000000ULL - sizeof(*si) ||
	    si->magic != HVM_START_MAGIC_VALUE) {
		out_printf(OUT_BOTH, "INFO no valid hvm_start_info\n");
		acpi_init(0);
		return;
	}
	if (si->cmdline_paddr && si->cmdline_paddr < 0x100000000ULL -
	    CMDLINE_MAX) {
		cl = (const char *)(uintptr_t)si->cmdline_paddr;
		n = strnlen(cl, CMDLINE_MAX - 1);
		memcpy(cfg.cmdline, cl, n);
		cfg.cmdline[n] = '\0';
	}
	cfg.mem_mib = (ram_bytes(si) + (1 << 20) - 1) >> 20;
	acpi_init(si->rsdp_paddr);
}

/* --- line-oriented echo (demo, serial-echo) ------------------------------- */

/* Serial echo, mirrored on the demo's text screen (if it is shown). */
static void echo_n(const char *s, size_t n)
{
	serial_write_raw(s, n);
	vga_demo_write(s, n);
}

static void echo(const char *s)
{
	echo_n(s, strlen(s));
}

int serial_wait_byte(void)
{
	static bool irq_ready;

	if (!irq_ready) {
		if (!serial_present()) {
			out_printf(OUT_DEBUG, "RESULT error no-serial-port\n");
			guest_exit(EXIT_FAIL);
		}
		if (!irq_setup_serial())
			guest_exit(EXIT_FAIL);
		irq_ready = true;
	}
	for (;;) {
		uint64_t seen = irq_count;
		int c = serial_getc();

		if (c >= 0)
			return c;
		idle(seen);
	}
}

/*
 * Some machines (QEMU) act on a power-off or reset write asynchronously:
 * give them a moment (about a second of TSC at 2 GHz) before calling it a
 * failure.
 */
static void settle(void)
{
	uint64_t start = rdtsc();

	while (rdtsc() - start < (2ULL << 30))
		__asm__ volatile("pause");
}

static void do_poweroff(bool test_mode)
{
	out_printf(OUT_BOTH, "INFO powering off\n");
	acpi_poweroff();
	settle();
	out_printf(OUT_BOTH, "RESULT error poweroff-failed\n");
	if (test_mode)
		guest_exit(EXIT_FAIL);
}

static void do_reboot(bool test_mode)
{
	out_printf(OUT_BOTH, "INFO rebooting\n");
	acpi_reset();
	settle();
	out_printf(OUT_BOTH, "RESULT error reboot-failed\n");
	if (test_mode)
		guest_exit(EXIT_FAIL);
}

static void handle_line(const char *line, bool test_mode)
{
	if (str_eq(line, "poweroff")) {
		do_poweroff(test_mode);
	} else if (str_eq(line, "reboot")) {
		do_reboot(test_mode);
	} else if (test_mode && str_eq(line, "quit")) {
		out_printf(OUT_BOTH, "RESULT serial-echo ok irqs=%lu\n",
			   (uint64_t)irq_vector_count[4]);
		guest_exit(EXIT_OK);
	} else if (str_eq(line, "help")) {
		/* echo(): shown on the demo screen too. */
		echo("commands: poweroff, reboot, help; anything else is echoed\r\n");
	}
}

static void __attribute__((noreturn)) echo_loop(bool test_mode)
{
	char line[LINE_MAX];
	size_t len = 0;
	bool last_cr = false;

	if (!serial_present()) {
		out_printf(OUT_DEBUG, "RESULT error no-serial-port\n");
		guest_exit(EXIT_FAIL);
	}
	if (!irq_setup_serial())
		guest_exit(EXIT_FAIL);
	if (!test_mode)
		echo("> ");
	for (;;) {
		uint64_t seen = irq_count;
		int c = serial_getc();

		if (c < 0) {
			idle(seen);
			continue;
		}
		if (c == '\r' || c == '\n') {
			bool skip = c == '\n' && last_cr;

			last_cr = c == '\r';
			if (skip)
				continue;
			echo("\r\n");
			line[len] = '\0';
			handle_line(line, test_mode);
			len = 0;
			if (!test_mode)
				echo("> ");
			continue;
		}
		last_cr = false;
		if (c == 0x7F || c == 0x08) {
			if (len) {
				len--;
				echo("\b \b");
			}
		} else if (c >= 0x20 && c < 0x7F && len < LINE_MAX - 1) {
			char ch = (char)c;

			line[len++] = ch;
			echo_n(&ch, 1);
		}
	}
}

/* --- modes and tests ----------------------------------------------------- */

static void banner(void)
{
	out_printf(OUT_BOTH,
		   "vmm built-in guest: cpus=%u memory=%lu MiB\n",
		   cfg.cpus, cfg.mem_mib);
}

static int run_demo(void)
{
	banner();
	vga_demo_screen(cfg.cpus, cfg.mem_mib);
	out_printf(OUT_SERIAL,
		   "Type a line and it is echoed; \"poweroff\" or \"reboot\" end the VM.\n");
	echo_loop(false);
}

static void acpi_summary(void)
{
	out_printf(OUT_DEBUG,
		   "INFO acpi found=%d cpus=%u lapic=0x%lx ioapics=%u fadt=%d hw_reduced=%d sleep_ctl=%d:0x%lx pm1a_cnt=0x%x s5=%d:%u reset=%d:%u:0x%lx=0x%x\n",
		   acpi.found, acpi.cpus, acpi.lapic_addr, acpi.nr_ioapics,
		   acpi.has_fadt, acpi.hw_reduced, acpi.has_sleep_ctl,
		   acpi.sleep_ctl.addr, acpi.pm1a_cnt, acpi.has_s5,
		   acpi.s5_typ, acpi.has_reset, acpi.reset_reg.space,
		   acpi.reset_reg.addr, acpi.reset_value);
}

static int test_boot(void)
{
	banner();
	acpi_summary();
	/* PCI config mechanism #1, 00:00.0 vendor/device: exercises 32-bit
	 * port I/O (emulated in ring 0 where IOPL is not honoured). */
	outl(0xCF8, 0x80000000u);
	out_printf(OUT_DEBUG, "INFO pci 00:00.0 id=%08x\n", inl(0xCFC));
	out_printf(OUT_BOTH, "RESULT boot ok cpus=%u mem_mib=%lu cmdline=%s\n",
		   cfg.cpus, cfg.mem_mib, cfg.cmdline);
	return EXIT_OK;
}

static int test_poweroff(void)
{
	do_poweroff(true);
	return EXIT_FAIL;
}

static int test_reboot(void)
{
	do_reboot(true);
	return EXIT_FAIL;
}

static int test_serial_echo(void)
{
	banner();
	out_printf(OUT_BOTH, "RESULT ready\n");
	echo_loop(true);
}

static int test_serial_flood(void)
{
	static const char tail[] = " abcdefghijklmnopqrstuvwxyzABCDEFGHIJK\r\n";
	char buf[FLOOD_LINE_LEN + 1];
	uint64_t sent = 0, start;
	unsigned nr = 0;

	_Static_assert(sizeof(tail) - 1 + 10 == FLOOD_LINE_LEN, "line size");
	out_printf(OUT_DEBUG, "INFO flood bytes=%lu\n", cfg.flood_bytes);
	start = rdtsc();
	while (sent < cfg.flood_bytes) {
		uint64_t left = cfg.flood_bytes - sent;
		size_t n = left < FLOOD_LINE_LEN ? (size_t)left : FLOOD_LINE_LEN;

		snprintf(buf, sizeof(buf), "LINE %05u%s", nr++, tail);
		serial_write_raw(buf, n);
		sent += n;
	}
	out_printf(OUT_BOTH, "RESULT serial-flood ok bytes=%lu tsc=%lu\n",
		   sent, rdtsc() - start);
	return EXIT_OK;
}

static int test_triplefault(void)
{
	out_printf(OUT_BOTH, "INFO triple fault: clearing the IDT, then ud2\n");
	/* Every gate not present (the IDT is user-writable, like all RAM):
	 * #UD -> #NP -> #DF -> shutdown. */
	memset(idt, 0, sizeof(idt));
	__asm__ volatile("ud2" : : : "memory");
	out_printf(OUT_BOTH, "RESULT error still-running-after-triple-fault\n");
	return EXIT_FAIL;
}

static int test_exception(void)
{
	out_printf(OUT_BOTH, "INFO executing ud2 in ring 3\n");
	__asm__ volatile("ud2");
	out_printf(OUT_BOTH, "RESULT error no-exception\n");
	return EXIT_FAIL;
}

struct mode {
	const char *name;
	int (*run)(void);
};

static const struct mode tests[] = {
	{ "boot", test_boot },
	{ "poweroff", test_poweroff },
	{ "reboot", test_reboot },
	{ "serial-echo", test_serial_echo },
	{ "serial-flood", test_serial_flood },
	{ "triplefault", test_triplefault },
	{ "exception", test_exception },
	{ "vga-text", vga_test_text },
	{ "vga-pattern", vga_test_pattern },
	{ "vga-anim", vga_test_anim },
	{ "vga-hostile", vga_test_hostile },
	{ "input", input_test },
	{ "virtio-pattern", virtio_test_pattern },
	{ "virtio-anim", virtio_test_anim },
	{ "virtio-input", virtio_test_input },
	{ "virtio-hostile", virtio_test_hostile },
};

static void __attribute__((noreturn)) bad_option(const char *what,
						 const char *tok)
{
	out_printf(OUT_BOTH, "RESULT error %s %s\n", what, tok);
	guest_exit(EXIT_BAD_OPTION);
}

/* Split the command line in place; returns the mode to run. */
static int (*parse_options(char *s))(void)
{
	int (*run)(void) = run_demo;

	while (*s) {
		char *tok = s;
		uint64_t v;

		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = '\0';
		if (!*tok)
			continue;
		if (str_eq(tok, "mode=demo")) {
			run = run_demo;
		} else if (str_eq(tok, "mode=anim")) {
			run = vga_test_anim;
		} else if (str_starts(tok, "test=")) {
			size_t i;

			for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
				if (str_eq(tok + 5, tests[i].name))
					break;
			if (i == sizeof(tests) / sizeof(tests[0]))
				bad_option("unknown-test", tok + 5);
			run = tests[i].run;
		} else if (str_starts(tok, "bytes=")) {
			if (!parse_u64(tok + 6, &v) || v > FLOOD_MAX)
				bad_option("bad-value", tok);
			cfg.flood_bytes = v;
		} else if (str_starts(tok, "w=") || str_starts(tok, "h=")) {
			if (!parse_u64(tok + 2, &v) || v < VGA_MIN_DIM ||
			    v > VGA_MAX_DIM)
				bad_option("bad-value", tok);
			if (tok[0] == 'w')
				vga_opts.width = (unsigned)v;
			else
				vga_opts.height = (unsigned)v;
		} else if (str_starts(tok, "frames=")) {
			if (!parse_u64(tok + 7, &v))
				bad_option("bad-value", tok);
			vga_opts.frames = v;
		} else {
			bad_option("unknown-option", tok);
		}
	}
	return run;
}

int guest_main(const struct hvm_start_info *si);
int guest_main(const struct hvm_start_info *si)
{
	char opts[CMDLINE_MAX];

	serial_init();
	cfg.flood_bytes = FLOOD_DEFAULT;
	read_start_info(si);
	cfg.cpus = acpi.cpus;
	memcpy(opts, cfg.cmdline, sizeof(opts));
	return parse_options(opts)();
}
