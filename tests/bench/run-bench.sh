#!/usr/bin/env bash
# make bench: measures, prints a table, and writes docs/benchmarks.md.
# A benchmark is not a test: nothing here fails on a figure.
set -uo pipefail
cd "$(dirname "$0")/../.."
VMM=${VMM:-build/vmm}
FIRST_BYTE=${FIRST_BYTE:-build/tests/bench/first_byte}
RUNS=${RUNS:-10}
OUT=${BENCH_OUT:-docs/benchmarks.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null' EXIT

[ -c /dev/kvm ] || { echo "bench: /dev/kvm missing" >&2; exit 1; }
# A guest that died must not take the script with it through a fifo.
trap '' PIPE
# Each VMM here serves VNC as a user would run it, on a free port (port 0)
# so that no run collides with another listener.
VNC_ARGS=(--vnc 127.0.0.1:0)

# stats FILE -> "median min max" of the numbers in FILE (one per line)
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a n/a n/a"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		printf "%.4g %.4g %.4g\n", m, v[1], v[NR] }'
}

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 |"); printf '%-55s %-28s %s\n' "$1" "$2" "$3"; }

# 1. exec -> the built-in guest's first serial byte, and -> its boot result.
: > "$tmp/first"; : > "$tmp/result"
for i in $(seq "$RUNS"); do
	"$FIRST_BYTE" -t 20 -- "$VMM" --demo --append test=boot "${VNC_ARGS[@]}" >> "$tmp/first" || true
	"$FIRST_BYTE" -t 20 -m "RESULT boot ok" -- "$VMM" --demo --append test=boot "${VNC_ARGS[@]}" >> "$tmp/result" || true
done
read -r med min max < <(stats "$tmp/first")
row "exec to built-in guest's first serial byte (s)" "$med (min $min, max $max)" "$RUNS runs" "vmm --demo, 1 vCPU, 256M"
read -r med min max < <(stats "$tmp/result")
row "exec to built-in guest's boot result line (s)" "$med (min $min, max $max)" "$RUNS runs" "RESULT boot ok on serial"

# 2. VMM RSS minus guest RAM, after boot, idle: the whole product (display,
# VNC server listening) and the bare machine (--display none).
# rss_runs LABEL ARGS...
rss_runs() {
	local label=$1
	shift
	: > "$tmp/rss"
	for i in $(seq 5); do
		rm -f "$tmp/serial"
		"$VMM" --demo --memory 256M --serial "file:$tmp/serial" "$@" & pid=$!
		for _ in $(seq 200); do grep -q "cpus=" "$tmp/serial" 2>/dev/null && break; sleep 0.05; done
		# Resident memory of every mapping except guest RAM (the 256 MiB one).
		awk '/^Size:/ { guest = ($2 == 262144) } /^Rss:/ { if (!guest) rss += $2 } END { print rss / 1024 }' "/proc/$pid/smaps" >> "$tmp/rss"
		kill "$pid"; wait "$pid" 2>/dev/null
	done
	read -r med min max < <(stats "$tmp/rss")
	row "VMM RSS minus guest RAM, built-in guest idle, $label (MiB)" "$med (min $min, max $max)" "5 runs" "smaps, all mappings but guest RAM"
}
rss_runs "std-VGA + VNC listening" "${VNC_ARGS[@]}"
rss_runs "no display, no VNC" --display none --vnc none

# 3. Linux: exec -> /init in the nested tier (from the Linux tier's log).
if [ "${BENCH_LINUX:-1}" = 1 ]; then
	L1_WITH_QEMU=1 VMM=$VMM tests/linux/run-l1.sh tests/linux/test_linux_boot.sh \
		> "$tmp/linux.txt" 2>&1 || echo "bench: the Linux tier run failed (see $tmp/linux.txt)" >&2
	while read -r _ name value; do
		case $name in
		linux_init_s) what="exec to Linux /init, our vmm, 2 vCPUs (s, nested)" ;;
		linux_init_1cpu_s) what="exec to Linux /init, our vmm, 1 vCPU (s, nested)" ;;
		qemu_linux_init_s) what="exec to Linux /init, QEMU -enable-kvm, same L1 (s, nested)" ;;
		*) what="$name" ;;
		esac
		row "$what" "$value" "1 run" "Debian 6.1 bzImage in the nested tier"
	done < <(grep '^BENCH ' "$tmp/linux.txt" | awk '!seen[$2]++')
fi

# ===== display: refresh microbenchmark (tests/bench/bench_refresh.c) =====
BENCH_REFRESH=${BENCH_REFRESH:-$(dirname "$FIRST_BYTE")/bench_refresh}
if [ -x "$BENCH_REFRESH" ]; then
	while read -r _ name value; do
		size=${name##*_alldirty_}; size=${size#refresh_full_}; size=${size%_us}
		case $name in
		refresh_full_*) what="display refresh, every pixel changed, $size (µs)" ;;
		refresh_idle_alldirty_*) what="display refresh, all pages dirty but unchanged, $size (µs)" ;;
		*) what=$name ;;
		esac
		row "$what" "$value" "median of 31" "bench_refresh: dirty bitmap -> tiles (32 bpp)"
	done < <("$BENCH_REFRESH" | grep '^BENCH ')
else
	echo "bench: $BENCH_REFRESH is not built" >&2
fi
# ===== end of the display section =====

# ===== side by side with QEMU: tests/bench/side-by-side.sh ==================
# Every scenario of issue 7 on our vmm (A) and QEMU -vnc (B), alternating,
# the same built-in guest, the same client (vncbench). It writes its own
# table; the header below pulls it in.
SIDE_OUT="$tmp/side.md"
if [ "${BENCH_SIDE:-1}" = 1 ]; then
	VMM=$VMM VNCBENCH=${VNCBENCH:-$(dirname "$FIRST_BYTE")/vncbench} \
		GUEST_ELF=${GUEST_ELF:-build/builtin/guest.elf} RUNS=${SIDE_RUNS:-5} \
		tests/bench/side-by-side.sh "$SIDE_OUT" ||
		echo "bench: the side-by-side suite failed" >&2
fi

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` on $(date -u +%Y-%m-%d). Machine: $(nproc) CPUs,"
	echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"
	echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r),"
	if grep -qE ' (vmx|svm)' /proc/cpuinfo; then echo "KVM with VMX/SVM."; else
		echo "paravirtual KVM without VMX/SVM (see docs/architecture.md: Linux figures come from"
		echo "the nested tier, KVM inside QEMU TCG, and are only comparable with each other)."; fi
	if [ -s "$SIDE_OUT" ]; then echo; cat "$SIDE_OUT"; fi
	echo
	echo "## Our vmm alone"
	echo
	echo "| figure | median (min, max) | runs | how |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	if [ -f docs/benchmarks-notes.md ]; then echo; cat docs/benchmarks-notes.md; fi
} > "$OUT"
echo "bench: wrote $OUT"
