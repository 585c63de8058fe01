# tests/bench/: the benchmark programs `make bench` (tests/bench/run-bench.sh)
# drives. Included by the top-level Makefile; part of `bins` so that the
# bench client's smoke test (tests/integration/test_bench_client.sh) finds
# it in every variant.
#
# vncbench: the libvncclient measurement client, the same binary for our vmm
# and for QEMU -vnc.

VNCBENCH := $(OUT)/tests/bench/vncbench

$(VNCBENCH): $(OUT)/obj/tests/bench/vncbench.o
	@mkdir -p $(dir $@)
	$(VCC) $(LDFLAGS) $^ -o $@ $(shell pkg-config --libs libvncclient 2>/dev/null) -lpthread

bins: $(VNCBENCH)
