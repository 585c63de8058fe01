/* SPDX-License-Identifier: MIT */
/*
 * Guest physical memory. This is the ONLY place that turns a guest physical
 * address into a host pointer: every caller gets NULL unless the whole range
 * [gpa, gpa + len) lies inside one RAM region. Device memory (VRAM) is owned
 * by its device and never reached through here.
 *
 * Layout (x86-64 PC):
 *   [0, 0xA0000)              low RAM
 *   [0xA0000, 0xC0000)        legacy VGA window: MMIO, never RAM
 *   [0xC0000, low_end)        RAM (0xC0000-0xFFFFF is reserved in e820 and
 *                             holds the ACPI tables)
 *   [0xC0000000, 4 GiB)       the 32-bit PCI hole: BARs, IOAPIC, LAPIC
 *   [4 GiB, 4 GiB + high)     the rest of RAM
 */
#ifndef VMM_MEM_H
#define VMM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_VGA_WINDOW_START 0xA0000ULL
#define MEM_VGA_WINDOW_END   0xC0000ULL
#define MEM_BIOS_START       0xC0000ULL
#define MEM_HIGH_START       0x100000ULL /* 1 MiB: first byte of "high" memory */
#define MEM_PCI_HOLE_START   0xC0000000ULL
#define MEM_4G               0x100000000ULL
#define MEM_MIN_SIZE         (16ULL << 20)
#define MEM_MAX_SIZE         (1ULL << 40)
#define MEM_MAX_REGIONS      4

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct mem_region ram[MEM_MAX_REGIONS];
	unsigned nr_ram;
	uint64_t ram_size;   /* what the user asked for */
	uint8_t *base;       /* one host mapping behind every region */
	size_t map_size;
};

/* Reserve and map guest RAM of ram_size bytes; returns 0 or -errno. */
int mem_init(struct guest_mem *m, uint64_t ram_size);
void mem_destroy(struct guest_mem *m);

/* End of the RAM below the PCI hole (exclusive), and size above 4 GiB. */
uint64_t mem_low_end(const struct guest_mem *m);
uint64_t mem_high_size(const struct guest_mem *m);

/*
 * Host pointer for [gpa, gpa + len) or NULL if any byte of it is not guest
 * RAM (overflow-safe; len 0 is valid only inside a region).
 */
void *mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copy to/from guest RAM; false (and nothing copied) if out of range. */
bool mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len);
bool mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len);

/* Parse "256M", "1G", "65536K", "1048576" (bytes). Returns 0 or -1. */
int mem_parse_size(const char *s, uint64_t *out);

#endif
