# tests/integration/: programs the integration scripts drive. Included by the
# top-level Makefile; part of `bins`.
#
# vnc_input_client: a libvncclient viewer that types every key and moves the
# mouse on the built-in guest's test=input mode (test_vnc_input.sh).

INTEGRATION_BINS := $(OUT)/tests/integration/vnc_input_client

$(OUT)/tests/integration/vnc_input_client: $(OUT)/obj/tests/integration/vnc_input_client.o
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@ $(shell pkg-config --libs libvncclient 2>/dev/null)

# vnc_tls_client: a libvncclient viewer with VeNCrypt X509 (test_vnc_tls.sh).
INTEGRATION_BINS += $(OUT)/tests/integration/vnc_tls_client

$(OUT)/tests/integration/vnc_tls_client: $(OUT)/obj/tests/integration/vnc_tls_client.o
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@ $(shell pkg-config --libs libvncclient 2>/dev/null)

bins: $(INTEGRATION_BINS)
