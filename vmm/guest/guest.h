/* SPDX-License-Identifier: MIT */
/*
 * The built-in guest: definitions shared by the CPL 0 stub (entry.S) and the
 * ring 3 C code. See README.md for the overall design.
 */
#ifndef GUEST_H
#define GUEST_H

/* Selectors of our own GDT (entry.S). */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_CS   0x1B   /* GDT entry 3, RPL 3 */
#define USER_DS   0x23   /* GDT entry 4, RPL 3 */
#define TSS_SEL   0x28

/* IDT: vectors 0-31 exceptions, 32-63 interrupts. */
#define IDT_STUBS        64
#define IRQ_VECTOR_BASE  32
#define IRQ_VECTORS      32
#define SPURIOUS_VECTOR  63     /* LAPIC spurious vector: no EOI */

/* RFLAGS for ring 3: IOPL 3 (in/out allowed), interrupts off, bit 1 set. */
#define USER_RFLAGS    0x3002

#define PORT_DEBUGCON    0xE9
#define PORT_DEBUG_EXIT  0xF4

/* Exit codes written to PORT_DEBUG_EXIT (our vmm: process exit status). */
#define EXIT_OK                0
#define EXIT_FAIL              1
#define EXIT_BAD_OPTION        2
#define EXIT_EXCEPTION         3
#define EXIT_NESTED_EXCEPTION  4

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#ifndef __ASSEMBLER__

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * --- port and memory-mapped I/O --------------------------------------------
 * Ring 3 runs with IOPL 3, so in/out work directly on VT-x/AMD-V KVM and
 * QEMU (and still exit to the VMM). kvm_pvm forces IOPL 0 in ring 3: there
 * they raise #GP and entry.S emulates them, so the code is the same.
 */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Bytes to one port in order: one instruction, so one trap where in/out
 * are emulated (the VMM sees a string I/O exit or single-byte exits). */
static inline void outsb(uint16_t port, const void *buf, size_t n)
{
	__asm__ volatile("rep outsb"
			 : "+S"(buf), "+c"(n)
			 : "d"(port)
			 : "memory");
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)(uintptr_t)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)addr = v;
}

static inline void mmio_write8(uint64_t addr, uint8_t v)
{
	*(volatile uint8_t *)(uintptr_t)addr = v;
}

static inline uint8_t mmio_read8(uint64_t addr)
{
	return *(volatile uint8_t *)(uintptr_t)addr;
}

static inline uint16_t mmio_read16(uint64_t addr)
{
	return *(volatile uint16_t *)(uintptr_t)addr;
}

static inline void mmio_write16(uint64_t addr, uint16_t v)
{
	*(volatile uint16_t *)(uintptr_t)addr = v;
}

static inline void mmio_write64(uint64_t addr, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)addr = v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Kernel state (entry.S) that ring 3 reads or sets up. */
extern volatile uint64_t irq_count;              /* every interrupt taken */
extern volatile uint32_t irq_vector_count[IRQ_VECTORS];
extern volatile uint64_t lapic_eoi_reg;          /* address the IRQ path writes */
extern uint8_t idt[IDT_STUBS * 16];

/* The frame the CPL 0 exception path hands to exception_report(). */
struct exc_frame {
	uint64_t cr2;
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* --- lib.c ----------------------------------------------------------------- */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
bool str_eq(const char *a, const char *b);
bool str_starts(const char *s, const char *prefix);
/* Parse a decimal number; false if s is empty or not all digits. */
bool parse_u64(const char *s, uint64_t *out);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --- console.c ---------------------------------------------------------- */
#define OUT_SERIAL 1u
#define OUT_DEBUG  2u
#define OUT_BOTH   (OUT_SERIAL | OUT_DEBUG)

void serial_init(void);
bool serial_present(void);
/* Bytes as they are (no newline translation); polled, FIFO-sized bursts. */
void serial_write_raw(const char *s, size_t n);
/* Next received byte, or -1 if none is waiting. */
int serial_getc(void);
/* Let received data raise the UART interrupt (IER bit 0). */
void serial_enable_rx_irq(void);
void debug_write(const char *s, size_t n);
/* Text to the serial line ("\n" sent as "\r\n") and/or the debug port. */
void out_write(unsigned where, const char *s, size_t n);
void out_printf(unsigned where, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- acpi.c ----------------------------------------------------------------- */
#define ACPI_MAX_IOAPICS 8

struct acpi_ioapic {
	uint64_t addr;
	uint32_t gsi_base;
};

struct acpi_gas {          /* ACPI Generic Address Structure, decoded */
	uint8_t space;     /* 0 memory, 1 I/O */
	uint64_t addr;
};

struct acpi_info {
	bool found;              /* an RSDP with a usable RSDT/XSDT */
	unsigned cpus;           /* enabled local APICs in the MADT (0: no MADT) */
	uint64_t lapic_addr;
	unsigned nr_ioapics;
	struct acpi_ioapic ioapic[ACPI_MAX_IOAPICS];
	/* ISA IRQ -> GSI overrides (MADT type 2). */
	bool isa_override[16];
	uint32_t isa_gsi[16];
	uint16_t isa_flags[16];
	/* Power control from the FADT (and \_S5 from the DSDT). */
	bool has_fadt;
	bool hw_reduced;
	bool has_sleep_ctl;
	struct acpi_gas sleep_ctl;
	uint32_t pm1a_cnt;        /* legacy PM1a control port, 0: none */
	bool has_s5;
	uint8_t s5_typ;
	bool has_reset;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
};

extern struct acpi_info acpi;
void acpi_init(uint64_t rsdp_paddr);
/* Both return only if the machine is still running afterwards. */
void acpi_poweroff(void);
void acpi_reset(void);

/* --- irq.c -------------------------------------------------------------------- */
/* Mask the 8259s, enable the local APIC, route ISA IRQ 4 (COM1) through the
 * I/O APIC to this CPU. Returns false (after printing why) on failure. */
bool irq_setup_serial(void);
/* Route ISA IRQ irq (< 16; MADT override honoured) to vector 32 + irq on
 * this CPU, setting up the local APIC first if needed. */
bool irq_enable_isa(unsigned irq);
/* Route a GSI (a PCI INTx line, < 31) to vector 32 + gsi, edge-triggered
 * active high: a device raising its line wakes idle() once; the driver
 * deasserts it (virtio: reading the ISR) before looking for work. */
bool irq_enable_gsi(unsigned gsi);
/*
 * Sleep until an interrupt arrives; returns at once if one arrived since
 * irq_count held `seen`. HLT traps to ring 0 (entry.S), which does the
 * sleeping with interrupts enabled.
 */
static inline void idle(uint64_t seen)
{
	__asm__ volatile("hlt" : : "D"(seen) : "memory");
}

/* --- pci.c ------------------------------------------------------------------- */
/* Configuration mechanism #1 on bus 0. */
struct pci_func {
	unsigned dev, fn;
	uint16_t vendor, device;
	uint64_t bar[6];        /* decoded memory/I/O base of each BAR, 0: none */
	bool bar_io[6];
};

uint32_t pci_cfg_read32(unsigned dev, unsigned fn, unsigned off);
void pci_cfg_write32(unsigned dev, unsigned fn, unsigned off, uint32_t v);
/* Find vendor:device on bus 0 and read its BARs; false if absent. */
bool pci_find(uint16_t vendor, uint16_t device, struct pci_func *out);
/* The same for the nth (from 0) function with that ID. */
bool pci_find_nth(uint16_t vendor, uint16_t device, unsigned nth,
		  struct pci_func *out);

/* --- vga.c -------------------------------------------------------------------- */
struct vga_options {
	unsigned width, height;   /* 0: the mode's default */
	uint64_t frames;          /* vga-anim: stop after this many; 0: never */
};

extern struct vga_options vga_opts;
int vga_test_text(void);
int vga_test_pattern(void);
int vga_test_anim(void);
int vga_test_hostile(void);
/* The demo's text screen; false if there is no std-VGA adapter. */
bool vga_demo_screen(unsigned cpus, uint64_t mem_mib);
/* Show serial echo text on the demo screen (CR, LF, BS understood). */
void vga_demo_write(const char *s, size_t n);
/* The input test's text screen (echo area as the demo's); false if there
 * is no std-VGA adapter. */
bool vga_input_screen(void);
/* Highlight the text cell (col, row) as the pointer (the previous one is
 * restored); clamped to the screen. No-op without the screen. */
void vga_pointer(int col, int row);

/* The vga-pattern test picture's pixel (x, y) in a w x h mode (0x00RRGGBB);
 * virtio-gpu.c draws the same picture. */
uint32_t pattern_pixel(unsigned x, unsigned y, unsigned w, unsigned h);

/* --- input.c ------------------------------------------------------------------ */
int input_test(void);

/* --- virtio-gpu.c, virtio-input.c, virtio-hostile.c (virtio.h: the driver) --- */
int virtio_test_pattern(void);
int virtio_test_anim(void);
int virtio_test_input(void);
int virtio_test_hostile(void);

/* --- main.c ------------------------------------------------------------------ */
void guest_exit(int code) __attribute__((noreturn));
/* Wait (HLT) for the next byte on COM1; sets up its interrupt once. */
int serial_wait_byte(void);
/* Guest RAM in bytes, from the PVH memory map (0 if it had none). */
uint64_t guest_ram_bytes(void);

#endif /* __ASSEMBLER__ */
#endif
