# display/: make fragment included by the top-level Makefile after LIB_OBJS,
# OUT, BUILD, VCC and CFLAGS are defined and BEFORE the $(OUT)/libvmm.a rule
# (prerequisites are expanded when a rule is read).
#
# - libpng for screendumps;
# - the 8x16 VGA font, generated from Debian's console-data package
#   (default8x16.psf.gz through the CP437 -> Unicode table cp437.sfm.gz)
#   into $(BUILD)/gen/font8x16.c by display/gen-font.py;
# - the refresh microbenchmark tests/bench/bench_refresh.

DISPLAY_PKGS := libpng
CFLAGS += $(shell pkg-config --cflags $(DISPLAY_PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(DISPLAY_PKGS) 2>/dev/null)

FONT_PSF ?= /usr/share/consolefonts/default8x16.psf.gz
FONT_CP437_MAP ?= /usr/share/consoletrans/cp437.sfm.gz
FONT_SRC := $(BUILD)/gen/font8x16.c
FONT_OBJ := $(OUT)/obj/gen/font8x16.o

$(FONT_SRC): display/gen-font.py $(FONT_PSF) $(FONT_CP437_MAP)
	@mkdir -p $(dir $@)
	python3 display/gen-font.py $(FONT_PSF) $(FONT_CP437_MAP) $@.tmp
	mv $@.tmp $@

$(FONT_PSF) $(FONT_CP437_MAP):
	@echo "display: $@ is missing: install Debian's console-data (make deps)" >&2
	@exit 1

$(FONT_OBJ): $(FONT_SRC)
	@mkdir -p $(dir $@)
	$(VCC) $(CFLAGS) -MMD -MP -c $< -o $@

LIB_OBJS += $(FONT_OBJ)

BENCH_REFRESH := $(OUT)/tests/bench/bench_refresh

$(BENCH_REFRESH): $(OUT)/obj/tests/bench/bench_refresh.o $(OUT)/libvmm.a
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

bins: $(BENCH_REFRESH)
