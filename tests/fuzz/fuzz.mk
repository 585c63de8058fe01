# tests/fuzz: libFuzzer harnesses (tests/fuzz/fuzz_*.c), each built with
# clang -fsanitize=fuzzer,address,undefined into $(BUILD)/fuzz/fuzz_<name>
# against an instrumented copy of the VMM library. Include from the top
# Makefile AFTER LIB_SRCS, PKG_LIBS, LDLIBS and display/display.mk (for
# FONT_SRC) are defined: rule prerequisites are expanded when read.
#
#   make fuzz                       build every harness
#   make fuzz-run [FUZZ_SECONDS=20] build, then run each for that long
#                                   (tests/fuzz/run-fuzz.sh; fails on a crash)

FUZZ_CC ?= clang
FUZZ_OUT := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_COV := -fsanitize=fuzzer-no-link
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -I. \
	$(FUZZ_SAN) \
	$(shell pkg-config --cflags $(PKG_LIBS) libpng 2>/dev/null)
FUZZ_LDLIBS := $(LDLIBS) $(shell pkg-config --libs libpng 2>/dev/null)

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_OUT)/%)
FUZZ_LIB_SRCS := $(LIB_SRCS) $(FONT_SRC)
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_OUT)/obj/%.o)
# Pixel loops whose coverage says nothing about guest input but whose
# comparison tracing costs most of the time: sanitizers only.
FUZZ_NOCOV := display/text.c display/dirty.c
$(FUZZ_NOCOV:%.c=$(FUZZ_OUT)/obj/%.o): FUZZ_COV :=

.PHONY: fuzz fuzz-run

$(FUZZ_OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_COV) -MMD -MP -c $< -o $@

# An archive: each harness links only the objects it needs.
$(FUZZ_OUT)/libvmm-fuzz.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_OUT)/fuzz_%: $(FUZZ_OUT)/obj/tests/fuzz/fuzz_%.o $(FUZZ_OUT)/libvmm-fuzz.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $^ -o $@ $(FUZZ_LDLIBS)

# Keep the harness objects (intermediate files of the pattern rule).
.PRECIOUS: $(FUZZ_OUT)/obj/%.o

fuzz: $(FUZZ_BINS)

fuzz-run: fuzz
	FUZZ_DIR=$(FUZZ_OUT) tests/fuzz/run-fuzz.sh

-include $(shell find $(FUZZ_OUT)/obj -name '*.d' 2>/dev/null)
