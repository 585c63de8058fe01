// SPDX-License-Identifier: MIT
/*
 * Guest loader: a bzImage entered at its 64-bit entry point (Linux boot
 * protocol 2.12+, Documentation/arch/x86/boot.rst "64-bit boot protocol"),
 * or an ELF with a PVH entry note (Xen's PVH ABI), plus initrd, command
 * line, memory map and ACPI tables. Guest memory layout: see layout.h.
 *
 * The kernel image is a user-supplied file, not trusted input from a
 * running guest, but it is still parsed defensively: every offset and size
 * read from it is checked before use, and every guest range the loader
 * writes is "claimed" first, which checks that it is RAM and that it does
 * not overlap anything placed before (so a hostile ELF cannot overwrite
 * the page tables or the ACPI tables, nor two pieces each other).
 */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../platform.h"
#include "boot.h"
#include "bootparam.h"
#include "layout.h"
#include "pvh.h"

#define PAGE_SIZE    0x1000ULL
#define MAX_CLAIMS   80
#define MAX_PHDRS    64
#define GIB          (1ULL << 30)

struct claim {
	uint64_t start, end;
	const char *what;
};

struct loader {
	struct guest_mem *mem;
	const struct boot_config *cfg;
	unsigned nr_cpus;
	char *err;
	size_t errlen;
	struct claim claims[MAX_CLAIMS];
	unsigned nr_claims;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	if (l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err, l->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Reserve [gpa, gpa + len) for one piece of the boot image: it must be
 * guest RAM and must not overlap what was placed before.
 */
static int claim(struct loader *l, uint64_t gpa, uint64_t len, const char *what)
{
	if (len == 0)
		return 0;
	if (!mem_ptr(l->mem, gpa, len))
		return fail(l, "%s at %#llx-%#llx is outside guest RAM", what,
			    (unsigned long long)gpa,
			    (unsigned long long)(gpa + len - 1));
	for (unsigned i = 0; i < l->nr_claims; i++) {
		const struct claim *c = &l->claims[i];

		if (gpa < c->end && c->start < gpa + len)
			return fail(l, "%s at %#llx-%#llx overlaps the %s at %#llx-%#llx",
				    what, (unsigned long long)gpa,
				    (unsigned long long)(gpa + len - 1), c->what,
				    (unsigned long long)c->start,
				    (unsigned long long)(c->end - 1));
	}
	if (l->nr_claims == MAX_CLAIMS)
		return fail(l, "too many pieces to load");
	l->claims[l->nr_claims++] = (struct claim){ gpa, gpa + len, what };
	return 0;
}

/* claim() + copy: only for ranges not claimed yet. */
static int place(struct loader *l, uint64_t gpa, const void *src, uint64_t len,
		 const char *what)
{
	if (claim(l, gpa, len, what) < 0)
		return -1;
	if (len && !mem_write(l->mem, gpa, src, len))
		return fail(l, "%s: cannot write guest memory", what);
	return 0;
}

/* --- memory map ---------------------------------------------------------- */

unsigned boot_build_memmap(const struct guest_mem *m,
			   struct boot_memmap *out, unsigned max)
{
	struct boot_memmap map[4];
	unsigned n = 0;

	/* [0x9FC00, 1 MiB) is the EBDA, the VGA window and the BIOS area
	 * (our ACPI tables): reserved, even where it is RAM to KVM. */
	map[n++] = (struct boot_memmap){ 0, BOOT_EBDA_START, E820_RAM };
	map[n++] = (struct boot_memmap){ BOOT_EBDA_START,
					 MEM_HIGH_START - BOOT_EBDA_START,
					 E820_RESERVED };
	map[n++] = (struct boot_memmap){ MEM_HIGH_START,
					 mem_low_end(m) - MEM_HIGH_START,
					 E820_RAM };
	if (mem_high_size(m))
		map[n++] = (struct boot_memmap){ MEM_4G, mem_high_size(m),
						 E820_RAM };
	if (n > max)
		n = max;
	memcpy(out, map, n * sizeof(*out));
	return n;
}

/* --- pieces shared by both boot paths ------------------------------------ */

static int write_gdt(struct loader *l, struct boot_entry *e, bool code64)
{
	uint64_t gdt[BOOT_GDT_ENTRIES] = {
		0, 0, code64 ? GDT_CODE64 : GDT_CODE32, GDT_DATA,
	};

	_Static_assert(BOOT_CODE_SEL / 8 == 2 && BOOT_DATA_SEL / 8 == 3,
		       "selectors match the GDT layout");
	if (place(l, BOOT_GDT_ADDR, gdt, sizeof(gdt), "boot GDT") < 0)
		return -1;
	e->gdt = BOOT_GDT_ADDR;
	e->gdt_limit = sizeof(gdt) - 1;
	e->code_sel = BOOT_CODE_SEL;
	e->data_sel = BOOT_DATA_SEL;
	/* A small stack for the first instructions; neither protocol
	 * requires one, but a stray push must not land in a page table. */
	if (claim(l, BOOT_STACK_BOTTOM, BOOT_STACK_TOP + 0x10 - BOOT_STACK_BOTTOM,
		  "boot stack") < 0)
		return -1;
	e->rsp = BOOT_STACK_TOP;
	return 0;
}

/* Command line at BOOT_CMDLINE_ADDR; max is the longest string allowed. */
static int write_cmdline(struct loader *l, uint64_t max, uint64_t *gpa)
{
	const char *s = l->cfg->cmdline ? l->cfg->cmdline : "";
	size_t len = strlen(s);

	if (max > BOOT_CMDLINE_MAX)
		max = BOOT_CMDLINE_MAX;
	if (len > max)
		return fail(l, "kernel command line too long (%zu bytes, the kernel accepts at most %llu)",
			    len, (unsigned long long)max);
	if (place(l, BOOT_CMDLINE_ADDR, s, len + 1, "command line") < 0)
		return -1;
	*gpa = BOOT_CMDLINE_ADDR;
	return 0;
}

/*
 * The initrd goes as high as possible, page-aligned, below limit (the end
 * of low RAM or the kernel's initrd_addr_max + 1).
 */
static int place_initrd(struct loader *l, uint64_t limit, uint64_t *gpa)
{
	uint64_t size = l->cfg->initrd_size, start;

	*gpa = 0;
	if (!l->cfg->initrd || size == 0)
		return 0;
	if (limit > mem_low_end(l->mem))
		limit = mem_low_end(l->mem);
	if (limit <= MEM_HIGH_START)
		return fail(l, "initrd cannot go anywhere: the kernel allows it only below %#llx",
			    (unsigned long long)limit);
	if (size > limit - MEM_HIGH_START)
		return fail(l, "initrd (%llu MiB) is larger than the guest RAM it may use (%llu MiB below %#llx): raise --memory",
			    (unsigned long long)(size >> 20),
			    (unsigned long long)((limit - MEM_HIGH_START) >> 20),
			    (unsigned long long)limit);
	start = (limit - size) & ~(PAGE_SIZE - 1);
	for (unsigned i = 0; i < l->nr_claims; i++) {
		if (start < l->claims[i].end && l->claims[i].start < start + size)
			return fail(l, "initrd (%llu MiB) does not fit in guest RAM next to the kernel: raise --memory",
				    (unsigned long long)(size >> 20));
	}
	if (place(l, start, l->cfg->initrd, size, "initrd") < 0)
		return -1;
	*gpa = start;
	return 0;
}

static uint64_t build_acpi(struct loader *l)
{
	struct acpi_config ac = {
		.nr_cpus = l->nr_cpus,
		.i8042 = !l->cfg->no_i8042,
	};
	uint64_t rsdp;

	if (claim(l, ACPI_TABLES_START, ACPI_TABLES_END - ACPI_TABLES_START,
		  "ACPI tables") < 0)
		return 0;
	rsdp = acpi_build(l->mem, &ac);
	if (!rsdp)
		fail(l, "cannot build the ACPI tables");
	return rsdp;
}

/* --- bzImage ---------------------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* Identity-map the first 4 GiB with 2 MiB pages. */
static int write_page_tables(struct loader *l, struct boot_entry *e)
{
	uint64_t pml4[512] = { 0 }, pdpt[512] = { 0 }, pd[512];

	pml4[0] = BOOT_PDPT_ADDR | 0x03;                  /* present, writable */
	if (place(l, BOOT_PML4_ADDR, pml4, sizeof(pml4), "page tables (PML4)") < 0)
		return -1;
	for (unsigned i = 0; i < BOOT_PD_COUNT; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * PAGE_SIZE) | 0x03;
	if (place(l, BOOT_PDPT_ADDR, pdpt, sizeof(pdpt), "page tables (PDPT)") < 0)
		return -1;
	for (unsigned i = 0; i < BOOT_PD_COUNT; i++) {
		for (unsigned j = 0; j < 512; j++)
			pd[j] = ((uint64_t)i * GIB + ((uint64_t)j << 21)) | 0x83;
		if (place(l, BOOT_PD_ADDR + i * PAGE_SIZE, pd, sizeof(pd),
			  "page tables (PD)") < 0)
			return -1;
	}
	e->pml4 = BOOT_PML4_ADDR;
	return 0;
}

static void fill_screen_info(struct screen_info *si, const struct boot_config *cfg)
{
	if (cfg->lfb_base) {
		si->orig_video_isVGA = VIDEO_TYPE_VLFB;
		si->lfb_width = (uint16_t)cfg->lfb_width;
		si->lfb_height = (uint16_t)cfg->lfb_height;
		si->lfb_depth = 32;
		si->lfb_linelength = (uint16_t)cfg->lfb_stride;
		si->lfb_base = (uint32_t)cfg->lfb_base;
		si->ext_lfb_base = (uint32_t)(cfg->lfb_base >> 32);
		if (si->ext_lfb_base)
			si->capabilities |= VIDEO_CAPABILITY_64BIT_BASE;
		/* VESA reports the size in 64 KiB units. */
		si->lfb_size = (cfg->lfb_size + 0xFFFF) >> 16;
		si->red_size = 8;
		si->red_pos = 16;
		si->green_size = 8;
		si->green_pos = 8;
		si->blue_size = 8;
		si->blue_pos = 0;
		/* No reserved bits: matches simplefb's "x8r8g8b8" exactly. */
		si->pages = 1;
	} else if (cfg->vga_text) {
		si->orig_video_isVGA = SCREEN_INFO_IS_VGA;
		si->orig_video_mode = 3;       /* 80x25 colour text */
		si->orig_video_cols = 80;
		si->orig_video_lines = 25;
		si->orig_video_points = 16;
		/* vgacon: BX != 0x10 means EGA/VGA rather than CGA. */
		si->orig_video_ega_bx = 3;
	}
}

static void fill_e820(struct loader *l, struct boot_params *bp)
{
	struct boot_memmap map[BOOT_MEMMAP_MAX];
	unsigned n = boot_build_memmap(l->mem, map, BOOT_MEMMAP_MAX);

	for (unsigned i = 0; i < n; i++) {
		bp->e820_table[i].addr = map[i].addr;
		bp->e820_table[i].size = map[i].size;
		bp->e820_table[i].type = map[i].type;
	}
	bp->e820_entries = (uint8_t)n;
}

/*
 * Where the kernel will decompress itself: the compressed kernel's
 * startup_64 moves to max(load address aligned to kernel_alignment,
 * LOAD_PHYSICAL_ADDR = pref_address) and needs init_size bytes there.
 * Returns the end of that range (0 if it cannot be known sanely).
 */
static uint64_t kernel_extent(const struct setup_header *h, uint64_t file_size)
{
	uint64_t base = BOOT_KERNEL_ADDR, end;
	uint64_t align = h->kernel_alignment;

	if (h->relocatable_kernel && align && !(align & (align - 1)) &&
	    align <= GIB)
		base = (base + align - 1) & ~(align - 1);
	if (h->pref_address > base)
		base = h->pref_address;
	if (base >= MEM_4G)
		return 0;
	end = base + h->init_size;
	if (end < BOOT_KERNEL_ADDR + file_size)
		end = BOOT_KERNEL_ADDR + file_size;
	return end;
}

static int load_bzimage(struct loader *l, struct boot_entry *e)
{
	const uint8_t *img = l->cfg->kernel;
	uint64_t size = l->cfg->kernel_size;
	struct boot_params bp;
	struct setup_header *h = &bp.hdr;
	uint64_t setup_size, kernel_size, extent, cmdline, initrd, limit;
	size_t hdr_end;

	memset(&bp, 0, sizeof(bp));
	if (size < 0x206 || get32(img + 0x202) != SETUP_HDR_MAGIC)
		return fail(l, "not a bzImage (no \"HdrS\" setup header)");
	hdr_end = 0x202 + (size_t)img[0x201];
	if (hdr_end > size)
		return fail(l, "bzImage truncated in its setup header");
	if (hdr_end > SETUP_HDR_OFFSET + sizeof(*h))
		hdr_end = SETUP_HDR_OFFSET + sizeof(*h);
	memcpy(h, img + SETUP_HDR_OFFSET, hdr_end - SETUP_HDR_OFFSET);

	if (h->boot_flag != SETUP_BOOT_FLAG)
		return fail(l, "bzImage has no 0xAA55 boot flag");
	if (h->version < SETUP_MIN_VERSION)
		return fail(l, "bzImage boot protocol %u.%02u is too old (need 2.06 or later)",
			    h->version >> 8, h->version & 0xFF);
	/* xloadflags exists from 2.12 on; the header must reach init_size. */
	if (h->version < 0x020C || hdr_end < HDR_OFF(init_size) + 4 ||
	    !(h->xloadflags & XLF_KERNEL_64))
		return fail(l, "bzImage has no 64-bit entry point (XLF_KERNEL_64): boot protocol 2.12+ x86-64 kernel needed");
	if (!(h->loadflags & LOADED_HIGH))
		return fail(l, "bzImage is a zImage (not LOADED_HIGH)");

	setup_size = ((uint64_t)(h->setup_sects ? h->setup_sects : 4) + 1) * 512;
	if (setup_size >= size)
		return fail(l, "bzImage truncated: %llu bytes, setup alone is %llu",
			    (unsigned long long)size,
			    (unsigned long long)setup_size);
	kernel_size = size - setup_size;
	if (h->syssize && (uint64_t)h->syssize * 16 > kernel_size)
		return fail(l, "bzImage truncated: %llu bytes of kernel, header says %llu",
			    (unsigned long long)kernel_size,
			    (unsigned long long)h->syssize * 16);

	extent = kernel_extent(h, kernel_size);
	if (!extent)
		return fail(l, "bzImage wants to run at %#llx, above 4 GiB",
			    (unsigned long long)h->pref_address);
	if (extent > mem_low_end(l->mem))
		return fail(l, "kernel needs RAM up to %#llx to unpack itself (init_size %u MiB), guest has %llu MiB below 4 GiB: raise --memory",
			    (unsigned long long)extent, h->init_size >> 20,
			    (unsigned long long)(mem_low_end(l->mem) >> 20));

	if (write_gdt(l, e, true) < 0 || write_page_tables(l, e) < 0 ||
	    claim(l, BOOT_PARAMS_ADDR, sizeof(bp), "boot_params") < 0)
		return -1;
	bp.acpi_rsdp_addr = build_acpi(l);
	if (!bp.acpi_rsdp_addr)
		return -1;
	/* cmdline_size excludes the terminating NUL. */
	if (write_cmdline(l, h->cmdline_size, &cmdline) < 0)
		return -1;
	/* Claim the whole unpack extent so the initrd stays clear of it. */
	if (place(l, BOOT_KERNEL_ADDR, img + setup_size, kernel_size, "kernel") < 0 ||
	    claim(l, BOOT_KERNEL_ADDR + kernel_size,
		  extent - (BOOT_KERNEL_ADDR + kernel_size),
		  "kernel's unpack area (init_size)") < 0)
		return -1;
	/* initrd_addr_max is the address of the last byte allowed. */
	limit = (uint64_t)h->initrd_addr_max + 1;
	if (h->initrd_addr_max == 0)
		limit = 0x38000000;    /* boot.rst: the default before 2.03 */
	if (place_initrd(l, limit, &initrd) < 0)
		return -1;

	h->type_of_loader = LOADER_TYPE_UNDEFINED;
	h->loadflags |= CAN_USE_HEAP;
	h->loadflags &= (uint8_t)~KEEP_SEGMENTS;
	h->heap_end_ptr = 0xe000 - 0x200;
	h->vid_mode = 0xFFFF;           /* "normal": no mode change */
	h->code32_start = (uint32_t)BOOT_KERNEL_ADDR;
	h->cmd_line_ptr = (uint32_t)cmdline;
	h->ramdisk_image = (uint32_t)initrd;
	h->ramdisk_size = initrd ? (uint32_t)l->cfg->initrd_size : 0;
	fill_screen_info(&bp.screen_info, l->cfg);
	fill_e820(l, &bp);
	if (!mem_write(l->mem, BOOT_PARAMS_ADDR, &bp, sizeof(bp)))
		return fail(l, "cannot write boot_params");

	e->mode = BOOT_ENTRY_LINUX64;
	e->rip = BOOT_KERNEL_ADDR + 0x200;
	e->rsi = BOOT_PARAMS_ADDR;
	return 0;
}

/* --- PVH ELF ------------------------------------------------------------------ */

struct elf_seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz, align;
};

/* Program headers, ELF32 or ELF64, into one form. */
static int elf_phdrs(struct loader *l, struct elf_seg *segs, unsigned *nr)
{
	const uint8_t *img = l->cfg->kernel;
	uint64_t size = l->cfg->kernel_size, phoff;
	unsigned phnum, phentsize, machine;
	bool is64;

	if (size < EI_NIDENT || img[EI_CLASS] == ELFCLASSNONE)
		return fail(l, "ELF kernel truncated");
	is64 = img[EI_CLASS] == ELFCLASS64;
	if ((!is64 && img[EI_CLASS] != ELFCLASS32) || img[EI_DATA] != ELFDATA2LSB)
		return fail(l, "ELF kernel is not a little-endian ELF32/ELF64 file");
	if (size < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return fail(l, "ELF kernel truncated in its header");
	if (is64) {
		Elf64_Ehdr eh;

		memcpy(&eh, img, sizeof(eh));
		machine = eh.e_machine;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize < sizeof(Elf64_Phdr))
			return fail(l, "ELF kernel has a bad program header size");
	} else {
		Elf32_Ehdr eh;

		memcpy(&eh, img, sizeof(eh));
		machine = eh.e_machine;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize < sizeof(Elf32_Phdr))
			return fail(l, "ELF kernel has a bad program header size");
	}
	if (machine != EM_X86_64 && machine != EM_386)
		return fail(l, "ELF kernel is not for x86 (e_machine %u)", machine);
	if (phnum == 0 || phnum > MAX_PHDRS)
		return fail(l, "ELF kernel has %u program headers (1..%u supported)",
			    phnum, MAX_PHDRS);
	if (phoff > size || (uint64_t)phnum * phentsize > size - phoff)
		return fail(l, "ELF kernel truncated in its program headers");

	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *p = img + phoff + (uint64_t)i * phentsize;
		struct elf_seg *s = &segs[i];

		if (is64) {
			Elf64_Phdr ph;

			memcpy(&ph, p, sizeof(ph));
			*s = (struct elf_seg){ ph.p_type, ph.p_offset, ph.p_paddr,
					       ph.p_filesz, ph.p_memsz, ph.p_align };
		} else {
			Elf32_Phdr ph;

			memcpy(&ph, p, sizeof(ph));
			*s = (struct elf_seg){ ph.p_type, ph.p_offset, ph.p_paddr,
					       ph.p_filesz, ph.p_memsz, ph.p_align };
		}
		if (s->offset > size || s->filesz > size - s->offset)
			return fail(l, "ELF kernel truncated: segment %u lies beyond the file", i);
	}
	*nr = phnum;
	return 0;
}

/* Find the Xen PHYS32_ENTRY note; returns 1 and *entry if found. */
static int pvh_note(const uint8_t *img, const struct elf_seg *s, uint64_t *entry)
{
	uint64_t off = 0, align = s->align == 8 ? 8 : 4;
	const uint8_t *n = img + s->offset;

	while (s->filesz - off >= 12) {
		uint32_t namesz = get32(n + off), descsz = get32(n + off + 4);
		uint32_t type = get32(n + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + ((namesz + align - 1) & ~(align - 1));
		uint64_t next = desc_off + ((descsz + align - 1) & ~(align - 1));

		if (desc_off > s->filesz || descsz > s->filesz - desc_off)
			return 0;
		if (namesz == 4 && !memcmp(n + name_off, "Xen", 4) &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY) {
			/* 4 bytes, or 8 where Linux emits it with _ASM_PTR. */
			if (descsz == 4) {
				*entry = get32(n + desc_off);
			} else if (descsz == 8) {
				*entry = get32(n + desc_off) |
					 (uint64_t)get32(n + desc_off + 4) << 32;
			} else {
				return 0;
			}
			return 1;
		}
		if (next <= off)
			return 0;
		off = next;
	}
	return 0;
}

static int load_pvh(struct loader *l, struct boot_entry *e)
{
	static const char *const seg_names[] = {
		"ELF segment 0", "ELF segment 1", "ELF segment 2", "ELF segment 3",
		"ELF segment 4", "ELF segment 5", "ELF segment 6", "ELF segment 7",
	};
	struct elf_seg segs[MAX_PHDRS];
	unsigned nr = 0, loaded = 0;
	uint64_t entry = 0, cmdline, initrd;
	bool found = false;
	struct {
		struct hvm_start_info si;
		uint8_t pad0[64 - sizeof(struct hvm_start_info)];
		struct hvm_modlist_entry mod;
		uint8_t pad1[128 - 64 - sizeof(struct hvm_modlist_entry)];
		struct hvm_memmap_table_entry map[BOOT_MEMMAP_MAX];
	} __attribute__((packed)) info;
	struct boot_memmap map[BOOT_MEMMAP_MAX];
	unsigned nmap;

	_Static_assert(sizeof(info) <= BOOT_START_INFO_SIZE, "start_info page");
	if (elf_phdrs(l, segs, &nr) < 0)
		return -1;
	for (unsigned i = 0; i < nr && !found; i++)
		if (segs[i].type == PT_NOTE)
			found = pvh_note(l->cfg->kernel, &segs[i], &entry);
	if (!found)
		return fail(l, "ELF kernel has no PVH entry note (Xen note XEN_ELFNOTE_PHYS32_ENTRY)");
	if (entry >= MEM_4G || !mem_ptr(l->mem, entry, 1))
		return fail(l, "PVH entry point %#llx is not in guest RAM below 4 GiB",
			    (unsigned long long)entry);

	/* Our own low-memory pieces first, so the kernel cannot overlap them. */
	memset(&info, 0, sizeof(info));
	if (write_gdt(l, e, false) < 0 ||
	    claim(l, BOOT_START_INFO_ADDR, sizeof(info), "PVH start_info") < 0)
		return -1;
	info.si.rsdp_paddr = build_acpi(l);
	if (!info.si.rsdp_paddr)
		return -1;
	if (write_cmdline(l, BOOT_CMDLINE_MAX, &cmdline) < 0)
		return -1;

	for (unsigned i = 0; i < nr; i++) {
		const struct elf_seg *s = &segs[i];
		const char *name = loaded < 8 ? seg_names[loaded] : "ELF segment";

		if (s->type != PT_LOAD)
			continue;
		if (s->filesz > s->memsz)
			return fail(l, "ELF segment %u: file size %#llx > memory size %#llx",
				    loaded, (unsigned long long)s->filesz,
				    (unsigned long long)s->memsz);
		/* place() checks RAM (overflow-safe, via mem_ptr) and overlap. */
		if (place(l, s->paddr, l->cfg->kernel + s->offset, s->filesz, name) < 0 ||
		    (s->memsz > s->filesz &&
		     claim(l, s->paddr + s->filesz, s->memsz - s->filesz, name) < 0))
			return -1;
		if (s->memsz > s->filesz)
			memset(mem_ptr(l->mem, s->paddr + s->filesz,
				       s->memsz - s->filesz), 0,
			       s->memsz - s->filesz);
		loaded++;
	}
	if (!loaded)
		return fail(l, "ELF kernel has nothing to load (no PT_LOAD segment)");
	if (place_initrd(l, mem_low_end(l->mem), &initrd) < 0)
		return -1;

	info.si.magic = HVM_START_MAGIC_VALUE;
	info.si.version = HVM_START_VERSION;
	info.si.cmdline_paddr = cmdline;
	if (initrd) {
		info.si.nr_modules = 1;
		info.si.modlist_paddr = BOOT_START_INFO_ADDR +
					offsetof(__typeof__(info), mod);
		info.mod.paddr = initrd;
		info.mod.size = l->cfg->initrd_size;
	}
	nmap = boot_build_memmap(l->mem, map, BOOT_MEMMAP_MAX);
	for (unsigned i = 0; i < nmap; i++) {
		info.map[i].addr = map[i].addr;
		info.map[i].size = map[i].size;
		info.map[i].type = map[i].type;
	}
	info.si.memmap_paddr = BOOT_START_INFO_ADDR + offsetof(__typeof__(info), map);
	info.si.memmap_entries = nmap;
	if (!mem_write(l->mem, BOOT_START_INFO_ADDR, &info, sizeof(info)))
		return fail(l, "cannot write the PVH start_info");

	e->mode = BOOT_ENTRY_PVH32;
	e->rip = entry;
	e->rbx = BOOT_START_INFO_ADDR;
	return 0;
}

/* --- entry points --------------------------------------------------------------- */

enum kernel_kind boot_probe_kernel(const uint8_t *img, size_t size)
{
	if (!img)
		return KERNEL_UNKNOWN;
	if (size >= 0x206 && get32(img + 0x202) == SETUP_HDR_MAGIC)
		return KERNEL_BZIMAGE;
	if (size >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG))
		return KERNEL_PVH_ELF;
	return KERNEL_UNKNOWN;
}

/*
 * The x86 reset vector (F000:FFF0, physical 0xFFFF0) holds "firmware" that
 * resets the machine through the ACPI reset register. Linux reaches it when
 * it reboots through the BIOS: on hardware-reduced ACPI its default reboot
 * method is EFI, and without EFI it falls back to jumping to the reset
 * vector. Real-mode code:
 *   mov al, ACPI_RESET_VALUE; mov dx, PORT_ACPI_RESET; out dx, al; hlt; jmp $-1
 */
static void write_reset_vector(struct guest_mem *mem)
{
	const uint8_t stub[] = {
		0xB0, ACPI_RESET_VALUE,
		0xBA, PORT_ACPI_RESET & 0xFF, PORT_ACPI_RESET >> 8,
		0xEE, 0xF4, 0xEB, 0xFD,
	};

	mem_write(mem, BOOT_RESET_VECTOR, stub, sizeof(stub));
}

int boot_load(struct vm *vm, const struct boot_config *cfg,
	      struct boot_entry *entry, char *err, size_t errlen)
{
	struct loader l = {
		.mem = &vm->mem,
		.cfg = cfg,
		.nr_cpus = vm->nr_cpus,
		.err = err,
		.errlen = errlen,
	};

	if (errlen)
		err[0] = '\0';
	memset(entry, 0, sizeof(*entry));
	if (vm->nr_cpus == 0 || vm->nr_cpus > VM_MAX_CPUS)
		return fail(&l, "bad number of CPUs (%u)", vm->nr_cpus);
	if (cfg->initrd_size && !cfg->initrd)
		return fail(&l, "initrd size given without data");
	write_reset_vector(&vm->mem);
	switch (boot_probe_kernel(cfg->kernel, cfg->kernel_size)) {
	case KERNEL_BZIMAGE:
		return load_bzimage(&l, entry);
	case KERNEL_PVH_ELF:
		return load_pvh(&l, entry);
	default:
		return fail(&l, "not a bzImage or ELF kernel");
	}
}
