# Top-level build for the vmm: KVM VMM with a built-in console gateway.
#
#   make run        install dependencies, build, boot the built-in guest
#   make run-linux  ... and boot Debian's kernel (fetched by `make guest`)
#   make test       every test: unit, built-in guest on /dev/kvm, Linux tier
#   make bench      benchmarks, written to docs/benchmarks.md
#
# Variants: VARIANT=release (gcc -O2, build/), asan (ASan+UBSan, build/asan/),
# clang (clang -Werror, build/clang/). `make test` builds all three.

SHELL := /bin/bash
.DEFAULT_GOAL := all
BUILD ?= build
VARIANT ?= release

ifeq ($(VARIANT),release)
OUT := $(BUILD)
VCC := gcc
VFLAGS := -O2
else ifeq ($(VARIANT),asan)
OUT := $(BUILD)/asan
VCC := gcc
VFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
else ifeq ($(VARIANT),clang)
OUT := $(BUILD)/clang
VCC := clang
VFLAGS := -O2
else
$(error VARIANT must be release, asan or clang)
endif

PKG_LIBS := pixman-1
CFLAGS := -std=gnu11 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. $(VFLAGS) \
	$(shell pkg-config --cflags $(PKG_LIBS) 2>/dev/null)
LDFLAGS := $(VFLAGS)
LDLIBS := -lpthread -lrt $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null)

# Everything but main.c goes into a library the unit tests link against.
LIB_SRCS := $(filter-out vmm/main.c,\
	$(wildcard vmm/*.c vmm/boot/*.c vmm/dev/*.c vmm/virtio/*.c display/*.c vnc/*.c websocket/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(OUT)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(OUT)/%)

GUEST_ELF := $(BUILD)/builtin/guest.elf
include vmm/guest/guest.mk
include display/display.mk
-include vnc/vnc.mk
-include websocket/websocket.mk

.PHONY: all bins deps guest run run-linux test bench clean check-kvm

all: bins
BENCH_BINS := $(OUT)/tests/bench/first_byte
bins: $(OUT)/vmm $(UNIT_BINS) $(BENCH_BINS)

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(VCC) $(CFLAGS) -MMD -MP -c $< -o $@

# The built-in guest is embedded into the vmm binary.
$(OUT)/obj/guest_blob.o: vmm/guest/blob.S $(GUEST_ELF)
	@mkdir -p $(dir $@)
	$(VCC) -c -DGUEST_ELF_PATH='"$(GUEST_ELF)"' $< -o $@

$(OUT)/libvmm.a: $(LIB_OBJS) $(OUT)/obj/guest_blob.o
	@rm -f $@
	ar rcs $@ $^

$(OUT)/vmm: $(OUT)/obj/vmm/main.o $(OUT)/libvmm.a
	$(VCC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(OUT)/tests/unit/%: $(OUT)/obj/tests/unit/%.o $(OUT)/libvmm.a
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(OUT)/tests/bench/%: $(OUT)/obj/tests/bench/%.o
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

include tests/fuzz/fuzz.mk

# --- dependencies -----------------------------------------------------------
# Every package the build, the tests and `make run` need. Idempotent: apt-get
# runs only when something is missing.
APT_PKGS := build-essential clang pkg-config make git ca-certificates \
	libpixman-1-dev libvncserver-dev libwebsockets-dev libgnutls28-dev \
	gnutls-bin libjpeg62-turbo-dev libpng-dev zlib1g-dev \
	qemu-system-x86 busybox-static kmod cpio gzip xz-utils \
	python3 procps iproute2 util-linux console-data gvncviewer \
	libclang-rt-14-dev tigervnc-viewer xvfb \
	nodejs $(if $(shell command -v npm 2>/dev/null),,npm) chromium libnss3-tools

deps:
	@missing=$$(for p in $(APT_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: all installed"; fi

# --- guest images -------------------------------------------------------------
include tests/linux/linux.mk
include tests/linux/tools.mk
include tests/integration/integration.mk
include tests/bench/bench.mk

# --- running ------------------------------------------------------------------
run: deps
	$(MAKE) all
	$(OUT)/vmm --demo

run-linux: deps
	$(MAKE) all guest
	$(OUT)/vmm --kernel $(BUILD)/guest/bzImage \
		--initrd $(BUILD)/guest/initramfs.cpio.gz \
		--append "console=ttyS0" --memory 256M --cpus 2

# --- tests ----------------------------------------------------------------------
check-kvm:
	@test -c /dev/kvm || { echo "FATAL: /dev/kvm is missing: KVM tests cannot run" >&2; exit 1; }

test: deps check-kvm
	$(MAKE) VARIANT=clang bins
	$(MAKE) VARIANT=release bins
	$(MAKE) VARIANT=asan bins
	$(MAKE) fuzz
	$(MAKE) guest
	tests/run-tests.sh

bench: deps
	$(MAKE) all guest
	tests/bench/run-bench.sh

# --- TLS certificates (--tls-dir) ------------------------------------------------
# A CA, a server certificate (localhost, 127.0.0.1, ::1 and CERT_HOSTS) and a
# client certificate in CERTS_DIR; an existing CA there is reused.
CERTS_DIR ?= $(BUILD)/certs
CERT_HOSTS ?=
.PHONY: certs
certs:
	certs/make-certs.sh -o $(CERTS_DIR) $(foreach h,$(CERT_HOSTS),--host $(h))

clean:
	rm -rf $(BUILD)/obj $(BUILD)/asan $(BUILD)/clang $(BUILD)/vmm \
		$(BUILD)/libvmm.a $(BUILD)/tests $(BUILD)/builtin $(BUILD)/gen \
		$(BUILD)/fuzz

# `make clean` keeps downloaded guest packages (build/guest/, build/linux/);
# `make distclean` removes everything.
distclean:
	rm -rf $(BUILD)
