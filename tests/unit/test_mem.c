// SPDX-License-Identifier: MIT
/* Guest memory: the layout around the VGA window and the PCI hole, and
 * overflow-safe translation. */
#include "check.h"
#include "vmm/mem.h"

int main(void)
{
	struct guest_mem m;
	uint64_t v;
	uint8_t buf[16] = { 1, 2, 3 };

	/* Size parsing. */
	CHECK(mem_parse_size("256M", &v) == 0 && v == 256ULL << 20);
	CHECK(mem_parse_size("2G", &v) == 0 && v == 2ULL << 30);
	CHECK(mem_parse_size("512MiB", &v) == 0 && v == 512ULL << 20);
	CHECK(mem_parse_size("65536K", &v) == 0 && v == 64ULL << 20);
	CHECK(mem_parse_size("4096", &v) == 0 && v == 4096);
	CHECK(mem_parse_size("", &v) < 0);
	CHECK(mem_parse_size("-1M", &v) < 0);
	CHECK(mem_parse_size("12Q", &v) < 0);
	CHECK(mem_parse_size("99999999999999999999", &v) < 0);
	CHECK(mem_parse_size("17179869184G", &v) < 0);   /* overflows 64 bits */

	/* Sizes outside the limits. */
	CHECK(mem_init(&m, 1 << 20) < 0);
	CHECK(mem_init(&m, (256ULL << 20) + 1) < 0);

	CHECK(mem_init(&m, 256ULL << 20) == 0);
	CHECK_EQ_U64(m.nr_ram, 2);
	/* Host and guest addresses agree modulo 2 MiB (huge pages). */
	CHECK_EQ_U64((uintptr_t)m.base & ((2u << 20) - 1), 0);
	CHECK_EQ_U64(mem_low_end(&m), 256ULL << 20);
	CHECK_EQ_U64(mem_high_size(&m), 0);
	CHECK(mem_ptr(&m, 0, 1) != NULL);
	CHECK(mem_ptr(&m, MEM_VGA_WINDOW_START - 1, 1) != NULL);
	/* The VGA window is not RAM; neither is anything crossing into it. */
	CHECK(mem_ptr(&m, MEM_VGA_WINDOW_START, 1) == NULL);
	CHECK(mem_ptr(&m, MEM_VGA_WINDOW_START - 1, 2) == NULL);
	CHECK(mem_ptr(&m, 0xBFFFF, 1) == NULL);
	CHECK(mem_ptr(&m, MEM_BIOS_START, 1) != NULL);
	/* The last byte of RAM, and one past it. */
	CHECK(mem_ptr(&m, (256ULL << 20) - 1, 1) != NULL);
	CHECK(mem_ptr(&m, (256ULL << 20) - 1, 2) == NULL);
	CHECK(mem_ptr(&m, 256ULL << 20, 1) == NULL);
	/* Lengths that would wrap the address space. */
	CHECK(mem_ptr(&m, 0x1000, UINT64_MAX) == NULL);
	CHECK(mem_ptr(&m, UINT64_MAX, 2) == NULL);
	CHECK(mem_ptr(&m, 0x1000, (256ULL << 20)) == NULL);
	/* Read back what was written, and refuse out-of-range copies. */
	CHECK(mem_write(&m, 0x2000, buf, 3));
	CHECK(((uint8_t *)mem_ptr(&m, 0x2000, 3))[2] == 3);
	CHECK(!mem_write(&m, (256ULL << 20) - 2, buf, 3));
	CHECK(!mem_read(&m, MEM_VGA_WINDOW_START, buf, 1));
	mem_destroy(&m);

	/* Above the PCI hole: RAM continues at 4 GiB. */
	CHECK(mem_init(&m, 4ULL << 30) == 0);
	CHECK_EQ_U64(m.nr_ram, 3);
	CHECK_EQ_U64(mem_low_end(&m), MEM_PCI_HOLE_START);
	CHECK_EQ_U64(mem_high_size(&m), 1ULL << 30);
	CHECK(mem_ptr(&m, MEM_PCI_HOLE_START - 1, 1) != NULL);
	CHECK(mem_ptr(&m, MEM_PCI_HOLE_START, 1) == NULL);
	CHECK(mem_ptr(&m, 0xFEE00000ULL, 4) == NULL);
	CHECK(mem_ptr(&m, MEM_4G, 1) != NULL);
	CHECK(mem_ptr(&m, MEM_4G + (1ULL << 30) - 1, 1) != NULL);
	CHECK(mem_ptr(&m, MEM_4G + (1ULL << 30), 1) == NULL);
	/* High RAM follows low RAM in the host mapping. */
	CHECK((uint8_t *)mem_ptr(&m, MEM_4G, 1) ==
	      (uint8_t *)mem_ptr(&m, MEM_PCI_HOLE_START - 1, 1) + 1);
	mem_destroy(&m);
	return check_summary("test_mem");
}
