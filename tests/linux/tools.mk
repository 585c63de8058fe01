# Tools for tests that run where only busybox is (the Linux tier's L1
# machine), useful to operators too:
#   vmmctl   client for the vmm's --control socket (JSON lines)
#   pngstat  pixel statistics of a PNG (screendump checks)
#   vnctype  VNC client (libvncclient) that types text and keys
#   vncresize VNC client that asks for another desktop size (SetDesktopSize)
# and, for inside the Debian test guest (linux.mk puts it into the guest
# initramfs), built static and independent of VARIANT:
#   evread   prints a keyboard's evdev key events
#   drmmode  sets the DRM connector's preferred mode (a desktop's hotplug step)
# Included by the top-level Makefile after OUT, VCC, CFLAGS and LDFLAGS are
# set; built into $(OUT)/tests/tools/ by `make bins` (build/tests/tools/ for
# the release variant, which tests/linux/run-all.sh uses).

LINUX_TOOLS := $(OUT)/tests/tools/vmmctl $(OUT)/tests/tools/pngstat \
	$(OUT)/tests/tools/vnctype $(OUT)/tests/tools/vncresize

$(OUT)/tests/tools/vmmctl: $(OUT)/obj/tests/linux/tools/vmmctl.o
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@

$(OUT)/tests/tools/pngstat: $(OUT)/obj/tests/linux/tools/pngstat.o
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@ $(shell pkg-config --libs libpng 2>/dev/null)

# The libvncclient tools share vncclient_util.c (target syntax, connecting).
VNC_TOOLS := vnctype vncresize
VNC_TOOL_UTIL := $(OUT)/obj/tests/linux/tools/vncclient_util.o

$(VNC_TOOLS:%=$(OUT)/obj/tests/linux/tools/%.o) $(VNC_TOOL_UTIL): CFLAGS += \
	$(shell pkg-config --cflags libvncclient 2>/dev/null)

$(VNC_TOOLS:%=$(OUT)/tests/tools/%): $(OUT)/tests/tools/%: \
		$(OUT)/obj/tests/linux/tools/%.o $(VNC_TOOL_UTIL)
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@ $(shell pkg-config --libs libvncclient 2>/dev/null)

# No sanitizers (they do not link static) and no VCC: one binary for the
# one guest image whatever the variant.
$(GUEST_BINS): $(GUEST_DIR)/bin/%: tests/linux/tools/%.c
	@mkdir -p $(dir $@)
	gcc -std=gnu11 -O2 -g0 -Wall -Wextra -Werror -static $< -o $@

bins: $(LINUX_TOOLS)
