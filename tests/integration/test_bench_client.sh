#!/usr/bin/env bash
# Smoke test of the benchmark client (tests/bench/vncbench.c), so that
# `make bench` does not rot between runs: one short run of each mode against
# the ASan vmm, checking the output format and that every figure is sane (a
# number, in a plausible range). It judges no performance figure.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${VMM:-build/asan/vmm}
VNCBENCH=${VNCBENCH:-$(dirname "$VMM")/tests/bench/vncbench}
PORT=6460
require_kvm
require_exe "$VMM"
require_exe "$VNCBENCH"
make_tmp

# die MESSAGE: the first failure ends the test.
die() { echo "FAIL test_bench_client: $*"; exit 1; }

vmm() { echo "$VMM" --demo --vnc "127.0.0.1:$PORT" --serial none --debugcon "$tmp/dbg" --append; }

# run NAME VNCBENCH-ARGS... -- APPEND: the BENCH line in $tmp/NAME
run() {
	local name=$1
	shift
	local args=() append
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	append=$2
	rm -f "$tmp/dbg"
	# shellcheck disable=SC2046
	"$VNCBENCH" --port "$PORT" --timeout 60 "${args[@]}" -- $(vmm) "$append" \
		> "$tmp/$name" 2> "$tmp/$name.err" ||
		die "$name: vncbench failed: $(cat "$tmp/$name.err")"
	echo "$name: $(cat "$tmp/$name")"
}

# check NAME KEY MIN MAX: KEY=value is on the BENCH line and MIN <= value <= MAX
check() {
	local v
	v=$(grep '^BENCH ' "$tmp/$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1)
	[ -n "$v" ] || die "$1: no $2= in: $(cat "$tmp/$1")"
	awk -v v="$v" -v lo="$3" -v hi="$4" 'BEGIN {
		exit !(v ~ /^[0-9.]+$/ && v + 0 >= lo + 0 && v + 0 <= hi + 0) }' ||
		die "$1: $2=$v is outside [$3, $4]"
}

run ff --mode first-frame --encodings raw -- test=vga-pattern
grep -q '^BENCH mode=first-frame enc=raw ' "$tmp/ff" || die "ff: bad format"
check ff first_frame_s 0.001 60
check ff rss_minus_guest_mib 1 2048

run anim --mode anim --encodings raw,zrle --size 640x480 --seconds 1 --warmup 0.2 \
	-- "test=vga-anim w=640 h=480"
[ "$(grep -c '^BENCH mode=anim ' "$tmp/anim")" = 2 ] || die "anim: not one line per encoding"
check anim fps 0.5 10000
check anim mpixel_s 0.1 100000
# A Raw update of a 640x480 screen: at least a full rectangle's pixels.
check anim bytes_per_update 1000 2000000
check anim cpu_pct 0 400

run lat --mode latency --encodings tight --keys 20 --wait-file "$tmp/dbg" \
	--wait-for "input ready" -- "test=input w=640 h=400"
check lat echoed 20 20
check lat lost 0 0
check lat p50_ms 0.01 2000
check lat p99_ms 0.01 2000

run idle --mode idle --encodings raw --seconds 1 --warmup 0.2 -- test=vga-pattern
check idle cpu_pct 0 100

run fan --mode fanout --encodings raw --clients 3 --seconds 1 --warmup 0.5 \
	-- "test=vga-anim w=640 h=480"
check fan connected 3 3
check fan fps_min 0.1 10000

# Bad input: one clear line, non-zero exit, nothing started.
"$VNCBENCH" --mode anim --size 0x0 -- true 2> "$tmp/bad" && die "bad --size accepted"
grep -q 'bad size' "$tmp/bad" || die "bad --size: $(cat "$tmp/bad")"
echo "PASS test_bench_client"
