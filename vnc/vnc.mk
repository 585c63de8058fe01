# vnc/: make fragment included by the top-level Makefile (after display.mk).
# vnc/*.c are compiled into libvmm.a by the top Makefile's LIB_SRCS.
#
# - libvncserver for the server;
# - libvncclient for tests/unit/test_vnc and test_vnc_resize (a real client
#   against a real server in the same process).

VNC_PKGS := libvncserver gnutls
CFLAGS += $(shell pkg-config --cflags $(VNC_PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(VNC_PKGS) 2>/dev/null)

$(OUT)/tests/unit/test_vnc: LDLIBS += $(shell pkg-config --libs libvncclient 2>/dev/null)
$(OUT)/tests/unit/test_vnc_resize: LDLIBS += $(shell pkg-config --libs libvncclient 2>/dev/null)
