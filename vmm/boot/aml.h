/* SPDX-License-Identifier: MIT */
/*
 * A small AML (ACPI Machine Language) writer: just the objects our DSDT
 * needs (Scope, Device, Name, Package, Buffer, integers, strings, resource
 * templates). Output goes into a caller-supplied buffer; running out of room
 * sets a sticky error flag instead of writing past the end, so callers check
 * once at the end.
 *
 * Nested objects (Scope, Device, Package, Buffer) are written as
 * open ... close pairs: aml_*_open() returns a mark and aml_close() inserts
 * the PkgLength for everything written since, in its smallest encoding.
 */
#ifndef VMM_BOOT_AML_H
#define VMM_BOOT_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool error;    /* out of room or an invalid name: output is unusable */
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);

/* Raw bytes. */
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);

/*
 * A NameString: "\\_SB_.PCI0", "_S5", "^FOO". Segments shorter than four
 * characters are padded with '_'; characters must be A-Z, 0-9 or '_'
 * (a leading digit is invalid).
 */
void aml_name_string(struct aml *a, const char *path);

/* Integer with the smallest encoding (Zero, One, Ones, Byte..QWord). */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* EISA ID such as "PNP0A03" as its compressed 32-bit integer. */
uint32_t aml_eisaid(const char *id);

/* Name(path, <object written next>). */
void aml_name(struct aml *a, const char *path);

size_t aml_scope_open(struct aml *a, const char *path);
size_t aml_device_open(struct aml *a, const char *path);
size_t aml_package_open(struct aml *a, uint8_t nr_elements);
/* Closes a Scope, Device or Package. */
void aml_close(struct aml *a, size_t mark);
/* Buffer whose bytes follow (resource templates); its size is filled in
 * by aml_buffer_close(). */
size_t aml_buffer_open(struct aml *a);
void aml_buffer_close(struct aml *a, size_t mark);

/*
 * Resource template descriptors, written into an open Buffer. Finish the
 * template with aml_res_end().
 */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len);
void aml_res_irq_noflags(struct aml *a, uint16_t mask);
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max,
		       bool cacheable);
void aml_res_end(struct aml *a);

#endif
