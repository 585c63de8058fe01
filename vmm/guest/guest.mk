# The built-in guest (vmm/guest/): a freestanding x86-64 ELF with a PVH entry
# note, always built with gcc whatever the host VARIANT, so every variant
# embeds the same bytes. Included by the top-level Makefile, which defines
# BUILD and GUEST_ELF before including this file.

GUEST_DIR := vmm/guest
GUEST_OBJDIR := $(BUILD)/builtin
GUEST_CC := gcc
GUEST_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g \
	-ffreestanding -fno-pic -fno-pie -fno-stack-protector -mno-red-zone \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-tree-loop-distribute-patterns -fcf-protection=none \
	-mcmodel=small -m64 -MMD -MP
GUEST_ASFLAGS := -m64 -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--strip-debug \
	-Wl,-T,$(GUEST_DIR)/guest.ld -Wl,-z,noexecstack -Wl,-z,max-page-size=4096

GUEST_C_SRCS := $(wildcard $(GUEST_DIR)/*.c)
GUEST_OBJS := $(GUEST_OBJDIR)/entry.o \
	$(patsubst $(GUEST_DIR)/%.c,$(GUEST_OBJDIR)/%.o,$(GUEST_C_SRCS))

$(GUEST_ELF): $(GUEST_OBJS) $(GUEST_DIR)/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_LDFLAGS) $(GUEST_OBJS) -o $@

$(GUEST_OBJDIR)/entry.o: $(GUEST_DIR)/entry.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_OBJDIR)/%.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

-include $(wildcard $(GUEST_OBJDIR)/*.d)
