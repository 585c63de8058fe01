# Debian guest image for the Linux test tier (included by the top Makefile).
#
#   make guest   ->  $(BUILD)/guest/bzImage, $(BUILD)/guest/initramfs.cpio.gz
#
# The Debian packages are downloaded once into $(BUILD)/linux/debs and
# unpacked into $(BUILD)/linux/root (a cache; `make clean` keeps it).

LINUX_DIR := $(BUILD)/linux
GUEST_DIR := $(BUILD)/guest
LINUX_STAMP := $(LINUX_DIR)/.unpacked

# Stock drivers the guest loads at boot (dependencies are added
# automatically).  psmouse, atkbd, i8042 and serio: atkbd/i8042/serio are
# built into Debian's kernel.
GUEST_MODULES := drm drm_kms_helper bochs virtio_pci virtio_gpu virtio_input \
	evdev psmouse xhci_hcd xhci_pci usbhid hid_generic

GUEST_OVERLAY := $(shell find tests/linux/guest -type f 2>/dev/null)
# Static test programs for the guest (built by tests/linux/tools.mk), put
# into its /usr/bin.
GUEST_BINS := $(GUEST_DIR)/bin/evread $(GUEST_DIR)/bin/drmmode

guest: $(GUEST_DIR)/bzImage $(GUEST_DIR)/initramfs.cpio.gz

$(LINUX_STAMP): tests/linux/fetch-debs.sh
	tests/linux/fetch-debs.sh $(LINUX_DIR)

$(GUEST_DIR)/bzImage: $(LINUX_STAMP)
	@mkdir -p $(dir $@)
	cp $(LINUX_DIR)/root/boot/vmlinuz-$$(cat $(LINUX_DIR)/kernel-version) $@

$(GUEST_DIR)/initramfs.cpio.gz: $(LINUX_STAMP) tests/linux/mkinitramfs.sh \
		tests/linux/linux.mk $(GUEST_OVERLAY) $(GUEST_BINS)
	EXTRA_FILES="$(GUEST_BINS:%=%:usr/bin/)" tests/linux/mkinitramfs.sh $(LINUX_DIR) $@ $(LINUX_DIR)/guest-stage \
		tests/linux/guest gzip $(GUEST_MODULES)
