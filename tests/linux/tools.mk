# Tools for tests that run where only busybox is (the Linux tier's L1
# machine), useful to operators too:
#   vmmctl   client for the vmm's --control socket (JSON lines)
#   pngstat  pixel statistics of a PNG (screendump checks)
# Included by the top-level Makefile after OUT, VCC, CFLAGS and LDFLAGS are
# set; built into $(OUT)/tests/tools/ by `make bins` (build/tests/tools/ for
# the release variant, which tests/linux/run-all.sh uses).

LINUX_TOOLS := $(OUT)/tests/tools/vmmctl $(OUT)/tests/tools/pngstat

$(OUT)/tests/tools/vmmctl: $(OUT)/obj/tests/linux/tools/vmmctl.o
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@

$(OUT)/tests/tools/pngstat: $(OUT)/obj/tests/linux/tools/pngstat.o
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@ $(shell pkg-config --libs libpng 2>/dev/null)

bins: $(LINUX_TOOLS)
