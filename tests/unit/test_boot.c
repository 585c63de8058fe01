// SPDX-License-Identifier: MIT
/*
 * The guest loader without /dev/kvm: synthetic bzImages and PVH ELFs are
 * loaded into a struct vm of which only mem and nr_cpus are set up, and
 * the result is read back from guest memory. If a real kernel exists at
 * build/guest/bzImage (or $VMM_TEST_BZIMAGE), it is loaded too.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vmm/boot/boot.h"
#include "vmm/boot/bootparam.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/pvh.h"
#include "vmm/platform.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static struct vm vm;
static char err[256];

static void vm_setup(uint64_t ram, unsigned cpus)
{
	memset(&vm, 0, sizeof(vm));
	if (mem_init(&vm.mem, ram) != 0) {
		printf("FAIL mem_init(%llu MiB)\n", (unsigned long long)(ram >> 20));
		exit(1);
	}
	vm.nr_cpus = cpus;
	vm.vm_fd = -1;
	vm.kvm_fd = -1;
}

static void vm_teardown(void)
{
	mem_destroy(&vm.mem);
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint64_t rd64(uint64_t gpa)
{
	uint64_t v = 0;

	CHECK(mem_read(&vm.mem, gpa, &v, 8));
	return v;
}

/* The error is one line, without a newline, and mentions what. */
static void check_err(int rc, const char *what)
{
	CHECK(rc < 0);
	CHECK(err[0] != '\0');
	CHECK(!strchr(err, '\n'));
	if (!strstr(err, what))
		printf("FAIL error \"%s\" does not mention \"%s\"\n", err, what);
	CHECK(strstr(err, what) != NULL);
}

/* --- synthetic bzImage ---------------------------------------------------- */

#define BZ_SETUP_SECTS 4
#define BZ_SETUP_SIZE  ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PAYLOAD     (64 * 1024)
#define BZ_INIT_SIZE   (32 * MiB)
#define BZ_PREF        (16 * MiB)

static uint8_t bz[BZ_SETUP_SIZE + BZ_PAYLOAD];

static void make_bzimage(void)
{
	memset(bz, 0, sizeof(bz));
	bz[0x1f1] = BZ_SETUP_SECTS;
	put32(bz + 0x1f4, BZ_PAYLOAD / 16);          /* syssize */
	put16(bz + 0x1fe, 0xAA55);
	bz[0x200] = 0xEB;
	bz[0x201] = 0x26c - 0x202;                   /* header length, v2.15 */
	put32(bz + 0x202, 0x53726448);               /* "HdrS" */
	put16(bz + 0x206, 0x020f);
	bz[0x211] = LOADED_HIGH;
	put32(bz + 0x214, 0x100000);                 /* code32_start */
	put32(bz + 0x22c, 0x7fffffff);               /* initrd_addr_max */
	put32(bz + 0x230, 0x200000);                 /* kernel_alignment */
	bz[0x234] = 1;                               /* relocatable */
	put16(bz + 0x236, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	put32(bz + 0x238, 2047);                     /* cmdline_size */
	put64(bz + 0x258, BZ_PREF);                  /* pref_address */
	put32(bz + 0x260, (uint32_t)BZ_INIT_SIZE);   /* init_size */
	for (size_t i = BZ_SETUP_SIZE; i < sizeof(bz); i++)
		bz[i] = (uint8_t)(i * 7 + 3);
}

static struct boot_config bz_config(void)
{
	struct boot_config c = {
		.kernel = bz, .kernel_size = sizeof(bz), .kernel_name = "test",
		.cmdline = "console=ttyS0 root=/dev/vda",
	};
	return c;
}

/* e820/memmap: sorted, disjoint, and RAM only where RAM may be. */
static void check_map_sane(const struct boot_memmap *m, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t s = m[i].addr, e = m[i].addr + m[i].size;

		CHECK(m[i].size > 0);
		if (i)
			CHECK(s >= m[i - 1].addr + m[i - 1].size);
		if (m[i].type == E820_RAM) {
			CHECK(e <= MEM_VGA_WINDOW_START || s >= MEM_HIGH_START);
			CHECK(e <= MEM_PCI_HOLE_START || s >= MEM_4G);
			/* Every RAM byte is really guest RAM. */
			CHECK(mem_ptr(&vm.mem, s, m[i].size) != NULL);
		}
	}
}

static void check_map_exact(const struct boot_memmap *m, unsigned n, uint64_t ram)
{
	uint64_t low = ram < 3 * GiB ? ram : 3 * GiB;

	CHECK_EQ_U64(n, ram > 3 * GiB ? 4 : 3);
	if (n < 3)
		return;
	CHECK_EQ_U64(m[0].addr, 0);
	CHECK_EQ_U64(m[0].size, 0x9FC00);
	CHECK_EQ_U64(m[0].type, E820_RAM);
	CHECK_EQ_U64(m[1].addr, 0x9FC00);
	CHECK_EQ_U64(m[1].size, 0x100000 - 0x9FC00);
	CHECK_EQ_U64(m[1].type, E820_RESERVED);
	CHECK_EQ_U64(m[2].addr, 0x100000);
	CHECK_EQ_U64(m[2].size, low - 0x100000);
	CHECK_EQ_U64(m[2].type, E820_RAM);
	if (n == 4) {
		CHECK_EQ_U64(m[3].addr, 4 * GiB);
		CHECK_EQ_U64(m[3].size, ram - 3 * GiB);
		CHECK_EQ_U64(m[3].type, E820_RAM);
	}
	check_map_sane(m, n);
}

static void check_e820(const struct boot_params *bp, uint64_t ram)
{
	struct boot_memmap m[E820_MAX_ENTRIES_ZEROPAGE];
	unsigned n = bp->e820_entries;

	CHECK(n <= E820_MAX_ENTRIES_ZEROPAGE);
	for (unsigned i = 0; i < n && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		m[i].addr = bp->e820_table[i].addr;
		m[i].size = bp->e820_table[i].size;
		m[i].type = bp->e820_table[i].type;
	}
	check_map_exact(m, n, ram);
}

/* Translate va through the loader's page tables; ~0 if not mapped. */
static uint64_t walk(uint64_t cr3, uint64_t va)
{
	uint64_t e;

	e = rd64(cr3 + 8 * ((va >> 39) & 511));
	if (!(e & 1))
		return ~0ULL;
	e = rd64((e & ~0xFFFULL) + 8 * ((va >> 30) & 511));
	if (!(e & 1))
		return ~0ULL;
	e = rd64((e & ~0xFFFULL) + 8 * ((va >> 21) & 511));
	if (!(e & 1) || !(e & 0x80) || !(e & 2))
		return ~0ULL;
	return (e & ~0x1FFFFFULL & 0x000FFFFFFFFFFFFFULL) | (va & 0x1FFFFF);
}

static void check_gdt(const struct boot_entry *e, uint64_t code)
{
	CHECK_EQ_U64(e->gdt, BOOT_GDT_ADDR);
	CHECK_EQ_U64(e->gdt_limit, 4 * 8 - 1);
	CHECK_EQ_U64(e->code_sel, 0x10);
	CHECK_EQ_U64(e->data_sel, 0x18);
	CHECK_EQ_U64(rd64(e->gdt), 0);
	CHECK_EQ_U64(rd64(e->gdt + e->code_sel), code);
	CHECK_EQ_U64(rd64(e->gdt + e->data_sel), 0x00cf93000000ffffULL);
	CHECK(e->rsp > 0 && e->rsp < 0x9FC00 && !(e->rsp & 0xF));
}

static void check_cmdline(uint64_t gpa, const char *want)
{
	size_t n = strlen(want) + 1;
	char *got = malloc(n);

	CHECK(got && mem_read(&vm.mem, gpa, got, n));
	if (got)
		CHECK(memcmp(got, want, n) == 0);   /* includes the NUL */
	free(got);
}

static void test_bzimage_ok(uint64_t ram, bool lfb)
{
	struct boot_config c = bz_config();
	struct boot_entry e;
	struct boot_params bp;
	size_t initrd_size = 3 * MiB + 123;
	uint8_t *initrd = malloc(initrd_size);
	uint64_t low = ram < 3 * GiB ? ram : 3 * GiB, rd, rd_end;
	int rc;

	make_bzimage();
	vm_setup(ram, 2);
	for (size_t i = 0; i < initrd_size; i++)
		initrd[i] = (uint8_t)(i ^ (i >> 9));
	c.initrd = initrd;
	c.initrd_size = initrd_size;
	if (lfb) {
		c.lfb_base = 0xC0000000;
		c.lfb_width = 1024;
		c.lfb_height = 768;
		c.lfb_stride = 4096;
		c.lfb_size = 16 * MiB;
	} else {
		c.vga_text = true;
	}
	rc = boot_load(&vm, &c, &e, err, sizeof(err));
	CHECK_EQ_U64(rc, 0);
	if (rc) {
		printf("  boot_load: %s\n", err);
		goto out;
	}
	CHECK_EQ_U64(e.mode, BOOT_ENTRY_LINUX64);
	{
		/* The reset vector resets through the ACPI reset register:
		 * mov al, value; mov dx, port; out dx, al. */
		const uint8_t *rv = mem_ptr(&vm.mem, BOOT_RESET_VECTOR, 6);

		CHECK(rv != NULL);
		if (rv) {
			CHECK_EQ_U64(rv[0], 0xB0);
			CHECK_EQ_U64(rv[1], ACPI_RESET_VALUE);
			CHECK_EQ_U64(rv[2], 0xBA);
			CHECK_EQ_U64(rv[3] | rv[4] << 8, PORT_ACPI_RESET);
			CHECK_EQ_U64(rv[5], 0xEE);
		}
	}
	CHECK_EQ_U64(e.rip, 0x100200);
	CHECK_EQ_U64(e.rsi, BOOT_PARAMS_ADDR);
	check_gdt(&e, 0x00af9b000000ffffULL);
	CHECK(mem_read(&vm.mem, e.rsi, &bp, sizeof(bp)));

	/* Setup header: copied, then our fields. */
	CHECK_EQ_U64(bp.hdr.header, 0x53726448);
	CHECK_EQ_U64(bp.hdr.version, 0x020f);
	CHECK_EQ_U64(bp.hdr.boot_flag, 0xAA55);
	CHECK_EQ_U64(bp.hdr.init_size, BZ_INIT_SIZE);
	CHECK_EQ_U64(bp.hdr.cmdline_size, 2047);
	CHECK_EQ_U64(bp.hdr.type_of_loader, 0xff);
	CHECK(bp.hdr.loadflags & CAN_USE_HEAP);
	CHECK(bp.hdr.loadflags & LOADED_HIGH);
	CHECK(bp.hdr.heap_end_ptr != 0);
	CHECK_EQ_U64(bp.hdr.code32_start, 0x100000);
	CHECK_EQ_U64(bp.hdr.vid_mode, 0xFFFF);
	CHECK_EQ_U64(bp.acpi_rsdp_addr, ACPI_TABLES_START);
	{
		char sig[8] = { 0 };

		CHECK(mem_read(&vm.mem, bp.acpi_rsdp_addr, sig, 8));
		CHECK(!memcmp(sig, "RSD PTR ", 8));
	}

	/* Kernel bytes at 1 MiB. */
	CHECK(!memcmp(mem_ptr(&vm.mem, 0x100000, BZ_PAYLOAD),
		      bz + BZ_SETUP_SIZE, BZ_PAYLOAD));

	/* Command line. */
	CHECK(bp.hdr.cmd_line_ptr >= 0x10000 && bp.hdr.cmd_line_ptr < 0x9FC00);
	check_cmdline(bp.hdr.cmd_line_ptr, c.cmdline);

	/* initrd: page-aligned, as high as possible, clear of the kernel. */
	rd = bp.hdr.ramdisk_image;
	rd_end = rd + bp.hdr.ramdisk_size;
	CHECK_EQ_U64(bp.hdr.ramdisk_size, initrd_size);
	CHECK_EQ_U64(rd & 0xFFF, 0);
	CHECK(rd_end <= low);
	CHECK(rd_end <= 0x80000000ULL);      /* initrd_addr_max + 1 */
	CHECK(rd_end + 0x1000 > (low < 0x80000000ULL ? low : 0x80000000ULL));
	CHECK(rd >= BZ_PREF + BZ_INIT_SIZE);
	CHECK(mem_ptr(&vm.mem, rd, initrd_size) &&
	      !memcmp(mem_ptr(&vm.mem, rd, initrd_size), initrd, initrd_size));

	check_e820(&bp, ram);

	/* Identity map of the first 4 GiB, 2 MiB pages. */
	CHECK_EQ_U64(e.pml4, BOOT_PML4_ADDR);
	{
		static const uint64_t probe[] = {
			0, 0x7000, 0x100200, 0x1234567, 0x7FFFF000, 0xBFFFFFFF,
			0xC0000000, 0xFEC00000, 0xFEE00000, 0xFFFFFFFF,
		};

		for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
			CHECK_EQ_U64(walk(e.pml4, probe[i]), probe[i]);
		for (uint64_t va = 0; va < 4 * GiB; va += 2 * MiB)
			if (walk(e.pml4, va) != va) {
				CHECK_EQ_U64(walk(e.pml4, va), va);
				break;
			}
	}
	/* The tables themselves sit in low RAM, outside the kernel. */
	CHECK(e.pml4 + 6 * 0x1000 <= 0x9FC00);

	/* screen_info */
	if (lfb) {
		CHECK_EQ_U64(bp.screen_info.orig_video_isVGA, VIDEO_TYPE_VLFB);
		CHECK_EQ_U64(bp.screen_info.lfb_base, 0xC0000000);
		CHECK_EQ_U64(bp.screen_info.lfb_width, 1024);
		CHECK_EQ_U64(bp.screen_info.lfb_height, 768);
		CHECK_EQ_U64(bp.screen_info.lfb_linelength, 4096);
		CHECK_EQ_U64(bp.screen_info.lfb_depth, 32);
		CHECK_EQ_U64(bp.screen_info.lfb_size, 16 * MiB >> 16);
		CHECK_EQ_U64(bp.screen_info.red_pos, 16);
		CHECK_EQ_U64(bp.screen_info.green_pos, 8);
		CHECK_EQ_U64(bp.screen_info.blue_pos, 0);
		CHECK_EQ_U64(bp.screen_info.red_size, 8);
		CHECK_EQ_U64(bp.screen_info.green_size, 8);
		CHECK_EQ_U64(bp.screen_info.blue_size, 8);
	} else {
		CHECK_EQ_U64(bp.screen_info.orig_video_isVGA, 1);
		CHECK_EQ_U64(bp.screen_info.orig_video_cols, 80);
		CHECK_EQ_U64(bp.screen_info.orig_video_lines, 25);
		CHECK_EQ_U64(bp.screen_info.orig_video_points, 16);
		CHECK(bp.screen_info.orig_video_mode != 7);   /* not MDA */
	}
out:
	free(initrd);
	vm_teardown();
}

/* Load c (after a fresh VM of ram bytes) and expect failure naming what. */
static void expect_fail(struct boot_config *c, uint64_t ram, const char *what)
{
	struct boot_entry e;

	vm_setup(ram, 1);
	check_err(boot_load(&vm, c, &e, err, sizeof(err)), what);
	vm_teardown();
}

static void test_bzimage_errors(void)
{
	struct boot_config c;
	struct boot_entry e;
	char *longline;

	/* Wrong magic: not recognised at all. */
	make_bzimage();
	c = bz_config();
	bz[0x202] = 'X';
	CHECK_EQ_U64(boot_probe_kernel(bz, sizeof(bz)), KERNEL_UNKNOWN);
	expect_fail(&c, 64 * MiB, "not a bzImage or ELF kernel");

	make_bzimage();
	CHECK_EQ_U64(boot_probe_kernel(bz, sizeof(bz)), KERNEL_BZIMAGE);
	CHECK_EQ_U64(boot_probe_kernel(bz, 0x205), KERNEL_UNKNOWN);

	/* Old protocol. */
	make_bzimage();
	put16(bz + 0x206, 0x0205);
	expect_fail(&c, 64 * MiB, "too old");

	/* 2.11: no xloadflags yet, so no 64-bit entry point. */
	make_bzimage();
	put16(bz + 0x206, 0x020b);
	expect_fail(&c, 64 * MiB, "64-bit");

	/* No XLF_KERNEL_64. */
	make_bzimage();
	put16(bz + 0x236, XLF_CAN_BE_LOADED_ABOVE_4G);
	expect_fail(&c, 64 * MiB, "64-bit");

	/* No boot flag. */
	make_bzimage();
	put16(bz + 0x1fe, 0);
	expect_fail(&c, 64 * MiB, "0xAA55");

	/* Truncated: in the setup header, in the setup code, in the kernel. */
	make_bzimage();
	c.kernel_size = 0x240;
	expect_fail(&c, 64 * MiB, "truncated");
	c.kernel_size = BZ_SETUP_SIZE;
	expect_fail(&c, 64 * MiB, "truncated");
	c.kernel_size = BZ_SETUP_SIZE + 100;
	expect_fail(&c, 64 * MiB, "truncated");
	c.kernel_size = sizeof(bz);

	/* setup_sects 0 means 4: same layout as ours, still loads. */
	make_bzimage();
	bz[0x1f1] = 0;
	vm_setup(64 * MiB, 1);
	CHECK_EQ_U64(boot_load(&vm, &c, &e, err, sizeof(err)), 0);
	CHECK(!memcmp(mem_ptr(&vm.mem, 0x100000, 16), bz + BZ_SETUP_SIZE, 16));
	vm_teardown();

	/* pref_address above 4 GiB. */
	make_bzimage();
	put64(bz + 0x258, 1ULL << 32);
	expect_fail(&c, 64 * MiB, "above 4 GiB");

	/* init_size beyond RAM. */
	make_bzimage();
	put32(bz + 0x260, 0x10000000);
	expect_fail(&c, 64 * MiB, "raise --memory");

	/* Command line: cmdline_size bytes fit, one more does not. */
	make_bzimage();
	longline = malloc(2049);
	memset(longline, 'a', 2048);
	longline[2048] = '\0';
	c.cmdline = longline;
	expect_fail(&c, 64 * MiB, "command line too long");
	longline[2047] = '\0';
	vm_setup(64 * MiB, 1);
	CHECK_EQ_U64(boot_load(&vm, &c, &e, err, sizeof(err)), 0);
	{
		struct boot_params bp;

		CHECK(mem_read(&vm.mem, e.rsi, &bp, sizeof(bp)));
		check_cmdline(bp.hdr.cmd_line_ptr, longline);
	}
	vm_teardown();
	free(longline);
	c.cmdline = "";

	/* initrd larger than guest RAM. */
	{
		size_t big = 80 * MiB;
		uint8_t *rd = malloc(big);   /* never touched: pages stay lazy */

		c.initrd = rd;
		c.initrd_size = big;
		expect_fail(&c, 64 * MiB, "initrd");
		/* Fits in RAM, but not above the kernel's unpack area
		 * (16 MiB + 32 MiB init_size in a 64 MiB guest). */
		c.initrd_size = 20 * MiB;
		expect_fail(&c, 64 * MiB, "initrd");
		c.initrd_size = 15 * MiB;
		vm_setup(64 * MiB, 1);
		CHECK_EQ_U64(boot_load(&vm, &c, &e, err, sizeof(err)), 0);
		vm_teardown();
		/* initrd_addr_max below the kernel: nowhere to go. */
		put32(bz + 0x22c, 0x00FFFFFF);
		c.initrd_size = 1 * MiB;
		expect_fail(&c, 64 * MiB, "initrd");
		/* ... or below 1 MiB. */
		put32(bz + 0x22c, 0x000FFFFF);
		expect_fail(&c, 64 * MiB, "initrd");
		free(rd);
	}

	/* Too many CPUs for the tables. */
	make_bzimage();
	c = bz_config();
	vm_setup(64 * MiB, 0);
	check_err(boot_load(&vm, &c, &e, err, sizeof(err)), "CPUs");
	vm_teardown();
}

/* --- synthetic PVH ELF ------------------------------------------------------- */

#define ELF_TEXT_PADDR 0x100000
#define ELF_TEXT_FILESZ 0x3000
#define ELF_TEXT_MEMSZ 0x5800
#define ELF_DATA_PADDR 0x200000
#define ELF_ENTRY      0x100040

struct elf_opts {
	bool is32;
	bool no_note;
	unsigned desc_size;       /* 4 or 8 */
	uint64_t text_paddr;
	uint64_t text_filesz, text_memsz;
	uint64_t entry;
};

static uint8_t elf[0x8000];

static size_t note(uint8_t *p, const char *name, uint32_t type,
		   const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t off = 12;

	put32(p, namesz);
	put32(p + 4, descsz);
	put32(p + 8, type);
	memcpy(p + off, name, namesz);
	off += (namesz + 3) & ~3u;
	memcpy(p + off, desc, descsz);
	off += (descsz + 3) & ~3u;
	return off;
}

/* Layout: header, 3 phdrs at 0x40, notes at 0x200, text at 0x1000, data at 0x5000. */
static size_t make_elf(const struct elf_opts *o)
{
	uint64_t paddr[3], off[3], filesz[3], memsz[3];
	uint32_t type[3] = { PT_LOAD, PT_LOAD, PT_NOTE };
	size_t nsz = 0, size = 0x5000 + 0x100;
	uint8_t gnu[16] = { 1, 2, 3 };

	memset(elf, 0, sizeof(elf));
	/* Notes: one foreign note first, to exercise the walk. */
	nsz += note(elf + 0x200, "GNU", 3, gnu, sizeof(gnu));
	if (!o->no_note) {
		uint64_t entry = o->entry;

		nsz += note(elf + 0x200 + nsz, "Xen", XEN_ELFNOTE_PHYS32_ENTRY,
			    &entry, o->desc_size);
	}
	for (size_t i = 0; i < ELF_TEXT_FILESZ; i++)
		elf[0x1000 + i] = (uint8_t)(i * 13 + 1);
	for (size_t i = 0; i < 0x100; i++)
		elf[0x5000 + i] = (uint8_t)(0xA0 + i);

	paddr[0] = o->text_paddr; off[0] = 0x1000;
	filesz[0] = o->text_filesz; memsz[0] = o->text_memsz;
	paddr[1] = ELF_DATA_PADDR; off[1] = 0x5000; filesz[1] = memsz[1] = 0x100;
	paddr[2] = 0; off[2] = 0x200; filesz[2] = memsz[2] = nsz;

	memcpy(elf, ELFMAG, SELFMAG);
	elf[EI_DATA] = ELFDATA2LSB;
	elf[EI_VERSION] = EV_CURRENT;
	if (o->is32) {
		Elf32_Ehdr eh = { 0 };

		elf[EI_CLASS] = ELFCLASS32;
		memcpy(eh.e_ident, elf, EI_NIDENT);
		eh.e_type = ET_EXEC;
		eh.e_machine = EM_386;
		eh.e_version = EV_CURRENT;
		eh.e_entry = 0xdeadbeef;   /* ignored: PVH uses the note */
		eh.e_phoff = 0x40;
		eh.e_ehsize = sizeof(eh);
		eh.e_phentsize = sizeof(Elf32_Phdr);
		eh.e_phnum = 3;
		memcpy(elf, &eh, sizeof(eh));
		for (int i = 0; i < 3; i++) {
			Elf32_Phdr ph = {
				.p_type = type[i], .p_offset = (uint32_t)off[i],
				.p_vaddr = (uint32_t)paddr[i] | 0x80000000u,
				.p_paddr = (uint32_t)paddr[i],
				.p_filesz = (uint32_t)filesz[i],
				.p_memsz = (uint32_t)memsz[i], .p_align = 4,
			};
			memcpy(elf + 0x40 + i * sizeof(ph), &ph, sizeof(ph));
		}
	} else {
		Elf64_Ehdr eh = { 0 };

		elf[EI_CLASS] = ELFCLASS64;
		memcpy(eh.e_ident, elf, EI_NIDENT);
		eh.e_type = ET_EXEC;
		eh.e_machine = EM_X86_64;
		eh.e_version = EV_CURRENT;
		eh.e_entry = 0xffffffff81000000ULL;
		eh.e_phoff = 0x40;
		eh.e_ehsize = sizeof(eh);
		eh.e_phentsize = sizeof(Elf64_Phdr);
		eh.e_phnum = 3;
		memcpy(elf, &eh, sizeof(eh));
		for (int i = 0; i < 3; i++) {
			Elf64_Phdr ph = {
				.p_type = type[i], .p_offset = off[i],
				.p_vaddr = paddr[i] | 0xffffffff80000000ULL,
				.p_paddr = paddr[i], .p_filesz = filesz[i],
				.p_memsz = memsz[i], .p_align = 4,
			};
			memcpy(elf + 0x40 + i * sizeof(ph), &ph, sizeof(ph));
		}
	}
	return size;
}

static struct elf_opts elf_defaults(void)
{
	struct elf_opts o = {
		.desc_size = 4, .text_paddr = ELF_TEXT_PADDR,
		.text_filesz = ELF_TEXT_FILESZ, .text_memsz = ELF_TEXT_MEMSZ,
		.entry = ELF_ENTRY,
	};
	return o;
}

static struct boot_config elf_config(size_t size)
{
	struct boot_config c = {
		.kernel = elf, .kernel_size = size, .kernel_name = "elf",
		.cmdline = "pvh cmdline",
	};
	return c;
}

static void test_pvh_ok(const struct elf_opts *o, uint64_t ram, bool with_initrd)
{
	size_t size = make_elf(o);
	struct boot_config c = elf_config(size);
	struct boot_entry e;
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry mm[BOOT_MEMMAP_MAX];
	struct boot_memmap map[BOOT_MEMMAP_MAX];
	uint8_t initrd[5000];
	uint8_t *bss;
	int rc;

	CHECK_EQ_U64(boot_probe_kernel(elf, size), KERNEL_PVH_ELF);
	vm_setup(ram, 1);
	/* Dirty the bss so the test sees it zeroed. */
	memset(mem_ptr(&vm.mem, ELF_TEXT_PADDR, ELF_TEXT_MEMSZ), 0xAA,
	       ELF_TEXT_MEMSZ);
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 3);
	if (with_initrd) {
		c.initrd = initrd;
		c.initrd_size = sizeof(initrd);
	}
	rc = boot_load(&vm, &c, &e, err, sizeof(err));
	CHECK_EQ_U64(rc, 0);
	if (rc) {
		printf("  boot_load: %s\n", err);
		goto out;
	}
	CHECK_EQ_U64(e.mode, BOOT_ENTRY_PVH32);
	CHECK_EQ_U64(e.rip, ELF_ENTRY);
	CHECK_EQ_U64(e.rbx, BOOT_START_INFO_ADDR);
	check_gdt(&e, 0x00cf9b000000ffffULL);

	/* Segments: text, zeroed bss, data. */
	CHECK(!memcmp(mem_ptr(&vm.mem, ELF_TEXT_PADDR, ELF_TEXT_FILESZ),
		      elf + 0x1000, ELF_TEXT_FILESZ));
	bss = mem_ptr(&vm.mem, ELF_TEXT_PADDR + ELF_TEXT_FILESZ,
		      ELF_TEXT_MEMSZ - ELF_TEXT_FILESZ);
	CHECK(bss != NULL);
	for (size_t i = 0; bss && i < ELF_TEXT_MEMSZ - ELF_TEXT_FILESZ; i++)
		if (bss[i]) {
			CHECK_EQ_U64(bss[i], 0);
			break;
		}
	CHECK(!memcmp(mem_ptr(&vm.mem, ELF_DATA_PADDR, 0x100), elf + 0x5000, 0x100));

	CHECK(mem_read(&vm.mem, e.rbx, &si, sizeof(si)));
	CHECK_EQ_U64(si.magic, 0x336ec578);
	CHECK_EQ_U64(si.version, 1);
	CHECK_EQ_U64(si.flags, 0);
	CHECK_EQ_U64(si.rsdp_paddr, ACPI_TABLES_START);
	check_cmdline(si.cmdline_paddr, "pvh cmdline");
	if (with_initrd) {
		CHECK_EQ_U64(si.nr_modules, 1);
		CHECK(mem_read(&vm.mem, si.modlist_paddr, &mod, sizeof(mod)));
		CHECK_EQ_U64(mod.size, sizeof(initrd));
		CHECK_EQ_U64(mod.paddr & 0xFFF, 0);
		CHECK(mod.paddr + mod.size <= mem_low_end(&vm.mem));
		CHECK(mod.paddr + mod.size + 0x1000 > mem_low_end(&vm.mem));
		CHECK(mem_ptr(&vm.mem, mod.paddr, mod.size) &&
		      !memcmp(mem_ptr(&vm.mem, mod.paddr, mod.size), initrd,
			      sizeof(initrd)));
	} else {
		CHECK_EQ_U64(si.nr_modules, 0);
	}
	CHECK(si.memmap_entries >= 3 && si.memmap_entries <= BOOT_MEMMAP_MAX);
	if (si.memmap_entries <= BOOT_MEMMAP_MAX) {
		CHECK(mem_read(&vm.mem, si.memmap_paddr, mm,
			       si.memmap_entries * sizeof(mm[0])));
		for (unsigned i = 0; i < si.memmap_entries; i++) {
			map[i].addr = mm[i].addr;
			map[i].size = mm[i].size;
			map[i].type = mm[i].type;
			CHECK_EQ_U64(mm[i].reserved, 0);
		}
		check_map_exact(map, si.memmap_entries, ram);
	}
out:
	vm_teardown();
}

static void test_pvh_errors(void)
{
	struct elf_opts o;
	struct boot_config c;
	size_t size;

	/* No note at all. */
	o = elf_defaults();
	o.no_note = true;
	c = elf_config(make_elf(&o));
	expect_fail(&c, 64 * MiB, "no PVH entry note");

	/* filesz > memsz */
	o = elf_defaults();
	o.text_memsz = ELF_TEXT_FILESZ - 1;
	c = elf_config(make_elf(&o));
	expect_fail(&c, 64 * MiB, "file size");

	/* PT_LOAD in the VGA hole, past the end of RAM, wrapping around. */
	o = elf_defaults();
	o.text_paddr = 0xA0000;
	o.entry = 0x100000;
	c = elf_config(make_elf(&o));
	expect_fail(&c, 64 * MiB, "outside guest RAM");
	o.text_paddr = 64 * MiB - 0x1000;
	c = elf_config(make_elf(&o));
	expect_fail(&c, 64 * MiB, "outside guest RAM");
	o.text_paddr = 0xFFFFFFFFFFFFF000ULL;
	c = elf_config(make_elf(&o));
	expect_fail(&c, 64 * MiB, "outside guest RAM");

	/* PT_LOAD over the loader's own GDT / the ACPI tables. */
	o = elf_defaults();
	o.text_paddr = 0x0;
	o.entry = 0x100000;
	c = elf_config(make_elf(&o));
	expect_fail(&c, 64 * MiB, "overlaps");
	o.text_paddr = 0xF0000;
	c = elf_config(make_elf(&o));
	expect_fail(&c, 64 * MiB, "ACPI");

	/* Entry point outside RAM. */
	o = elf_defaults();
	o.entry = 0xB0000;
	c = elf_config(make_elf(&o));
	expect_fail(&c, 64 * MiB, "entry point");

	/* Truncated: in the header, in the program headers, in a segment. */
	o = elf_defaults();
	size = make_elf(&o);
	c = elf_config(40);
	expect_fail(&c, 64 * MiB, "truncated");
	c = elf_config(0x40 + 0x38 + 10);
	expect_fail(&c, 64 * MiB, "truncated");
	c = elf_config(size - 1);
	expect_fail(&c, 64 * MiB, "truncated");

	/* Not x86. */
	make_elf(&o);
	put16(elf + 18, EM_AARCH64);
	c = elf_config(size);
	expect_fail(&c, 64 * MiB, "x86");

	/* Neither format. */
	memset(elf, 0x5A, 4096);
	CHECK_EQ_U64(boot_probe_kernel(elf, 4096), KERNEL_UNKNOWN);
	c = elf_config(4096);
	expect_fail(&c, 64 * MiB, "not a bzImage or ELF kernel");
}

/* --- a real kernel, if one was fetched --------------------------------------- */

static void test_real_kernel(void)
{
	const char *path = getenv("VMM_TEST_BZIMAGE");
	struct boot_config c = { 0 };
	struct boot_entry e;
	struct boot_params bp;
	uint8_t *img = NULL;
	long len;
	FILE *f;
	int rc;

	if (!path)
		path = "build/guest/bzImage";
	f = fopen(path, "rb");
	if (!f) {
		printf("note: %s not found: real-kernel check skipped\n", path);
		return;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (img = malloc((size_t)len)) &&
	    fread(img, 1, (size_t)len, f) == (size_t)len) {
		c.kernel = img;
		c.kernel_size = (size_t)len;
		c.kernel_name = path;
		c.cmdline = "console=ttyS0";
		c.vga_text = true;
		vm_setup(256 * MiB, 2);
		CHECK_EQ_U64(boot_probe_kernel(img, (size_t)len), KERNEL_BZIMAGE);
		rc = boot_load(&vm, &c, &e, err, sizeof(err));
		CHECK_EQ_U64(rc, 0);
		if (rc)
			printf("  %s: %s\n", path, err);
		CHECK(mem_read(&vm.mem, BOOT_PARAMS_ADDR, &bp, sizeof(bp)));
		CHECK(bp.hdr.version >= 0x020c);
		CHECK(bp.hdr.xloadflags & XLF_KERNEL_64);
		CHECK_EQ_U64(bp.hdr.type_of_loader, 0xff);
		check_e820(&bp, 256 * MiB);
		printf("note: %s: boot protocol %u.%02u, init_size %u MiB, loaded\n",
		       path, bp.hdr.version >> 8, bp.hdr.version & 0xff,
		       bp.hdr.init_size >> 20);
		vm_teardown();
	} else {
		CHECK(!"cannot read the real kernel");
	}
	free(img);
	fclose(f);
}

/* An uncompressed vmlinux (PVH entry note), only if $VMM_TEST_VMLINUX names one. */
static void test_real_vmlinux(void)
{
	const char *path = getenv("VMM_TEST_VMLINUX");
	struct boot_config c = { 0 };
	struct boot_entry e;
	struct hvm_start_info si;
	uint8_t *img = NULL;
	long len;
	FILE *f;
	int rc;

	if (!path || !(f = fopen(path, "rb"))) {
		printf("note: $VMM_TEST_VMLINUX not set or unreadable: real PVH vmlinux check skipped\n");
		return;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (img = malloc((size_t)len)) &&
	    fread(img, 1, (size_t)len, f) == (size_t)len) {
		c.kernel = img;
		c.kernel_size = (size_t)len;
		c.cmdline = "console=ttyS0";
		vm_setup(256 * MiB, 2);
		CHECK_EQ_U64(boot_probe_kernel(img, (size_t)len), KERNEL_PVH_ELF);
		rc = boot_load(&vm, &c, &e, err, sizeof(err));
		CHECK_EQ_U64(rc, 0);
		if (rc)
			printf("  %s: %s\n", path, err);
		CHECK_EQ_U64(e.mode, BOOT_ENTRY_PVH32);
		CHECK(e.rip >= 0x1000000 && e.rip < 0x10000000);
		CHECK(mem_read(&vm.mem, e.rbx, &si, sizeof(si)));
		CHECK_EQ_U64(si.magic, 0x336ec578);
		printf("note: %s: PVH entry %#llx, loaded\n", path,
		       (unsigned long long)e.rip);
		vm_teardown();
	} else {
		CHECK(!"cannot read the vmlinux");
	}
	free(img);
	fclose(f);
}

int main(void)
{
	struct elf_opts o;

	test_bzimage_ok(256 * MiB, false);
	test_bzimage_ok(256 * MiB, true);
	test_bzimage_ok(5 * GiB, false);     /* high RAM above 4 GiB */
	test_bzimage_ok(3 * GiB, false);     /* exactly up to the PCI hole */
	test_bzimage_errors();

	o = elf_defaults();
	test_pvh_ok(&o, 64 * MiB, true);
	test_pvh_ok(&o, 64 * MiB, false);
	test_pvh_ok(&o, 4 * GiB, true);
	o.is32 = true;
	test_pvh_ok(&o, 64 * MiB, true);
	o = elf_defaults();
	o.desc_size = 8;
	test_pvh_ok(&o, 64 * MiB, true);
	test_pvh_errors();

	test_real_kernel();
	test_real_vmlinux();
	return check_summary("test_boot");
}
