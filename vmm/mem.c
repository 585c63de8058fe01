// SPDX-License-Identifier: MIT
/*
 * Guest RAM: one anonymous host mapping, cut into the regions of the PC
 * memory map (see mem.h). All guest-address translation happens here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mem.h"

static void add_region(struct guest_mem *m, uint64_t gpa, uint64_t size)
{
	struct mem_region *r = &m->ram[m->nr_ram++];

	r->gpa = gpa;
	r->size = size;
	/* Below 4 GiB the host offset equals the guest address; above, RAM
	 * continues right after the low part in the host mapping. */
	r->hva = m->base + (gpa < MEM_4G ? gpa : gpa - MEM_4G + mem_low_end(m));
}

uint64_t mem_low_end(const struct guest_mem *m)
{
	return m->ram_size < MEM_PCI_HOLE_START ? m->ram_size : MEM_PCI_HOLE_START;
}

uint64_t mem_high_size(const struct guest_mem *m)
{
	return m->ram_size > MEM_PCI_HOLE_START ? m->ram_size - MEM_PCI_HOLE_START : 0;
}

/*
 * An anonymous mapping of size bytes at a 2 MiB-aligned address, or NULL
 * (errno set). Host and guest addresses then agree modulo 2 MiB, which is
 * what lets the host back guest RAM with transparent huge pages and KVM
 * map them as 2 MiB pages (fewer TLB misses, fewer page-table walks);
 * unaligned, every huge page straddles two guest 2 MiB frames and is
 * mapped 4 KiB at a time. MAP_NORESERVE: RAM the guest never touches
 * costs the host nothing.
 */
static uint8_t *map_aligned(uint64_t size)
{
	const uint64_t align = 2ULL << 20;
	uint8_t *raw, *base;
	uint64_t head;

	raw = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	head = (align - ((uintptr_t)raw & (align - 1))) & (align - 1);
	base = raw + head;
	if (head)
		munmap(raw, head);
	munmap(base + size, align - head);
	return base;
}

int mem_init(struct guest_mem *m, uint64_t ram_size)
{
	memset(m, 0, sizeof(*m));
	if (ram_size < MEM_MIN_SIZE || ram_size > MEM_MAX_SIZE ||
	    (ram_size & 0xFFF))
		return -EINVAL;
	m->ram_size = ram_size;
	m->map_size = ram_size;
	m->base = map_aligned(m->map_size);
	if (!m->base)
		return -errno;
	madvise(m->base, m->map_size, MADV_MERGEABLE);
	/* The legacy VGA window is never RAM: give its host pages back. */
	madvise(m->base + MEM_VGA_WINDOW_START,
		MEM_VGA_WINDOW_END - MEM_VGA_WINDOW_START, MADV_DONTNEED);

	add_region(m, 0, MEM_VGA_WINDOW_START);
	add_region(m, MEM_BIOS_START, mem_low_end(m) - MEM_BIOS_START);
	if (mem_high_size(m))
		add_region(m, MEM_4G, mem_high_size(m));
	return 0;
}

void mem_destroy(struct guest_mem *m)
{
	if (m->base)
		munmap(m->base, m->map_size);
	memset(m, 0, sizeof(*m));
}

void *mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nr_ram; i++) {
		const struct mem_region *r = &m->ram[i];

		/* Written so that no sum can overflow: gpa - r->gpa is only
		 * computed once gpa >= r->gpa. */
		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

bool mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
	const void *src = mem_ptr(m, gpa, len);

	if (!src)
		return false;
	memcpy(dst, src, len);
	return true;
}

bool mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len)
{
	void *dst = mem_ptr(m, gpa, len);

	if (!dst)
		return false;
	memcpy(dst, src, len);
	return true;
}

int mem_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if (*end == 'i' || *end == 'I')   /* accept 256MiB too */
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end != '\0' || (shift && v > (~0ULL >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}
