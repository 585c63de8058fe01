#!/usr/bin/env bash
# virtio-gpu versus std-VGA with the built-in guest's animation (every pixel
# changes every frame) at one size (default 1920x1080), release vmm:
#
#  1. no viewer: the guest's frames/s (from its "INFO frame N tsc=T" lines
#     and wall time over a window) and the VMM's CPU per frame, split into
#     the vCPU threads (the guest drawing, and for virtio spinning on the
#     used ring) and the other threads (the device work: virtio-gpu's
#     TRANSFER_TO_HOST_2D copy and flush; for std-VGA nothing while nobody
#     watches);
#  2. one VNC viewer (tests/bench/vncbench --mode anim, raw encoding):
#     frames/s the viewer receives, VMM CPU per received frame.
#
#   tests/bench/virtio_vs_vga.sh [BUILD_DIR]     (default build; SIZE=WxH,
#                                                 SECONDS_=5, PORT=6551)
# Prints "VBENCH display=<virtio|std> ..." lines. A benchmark: it judges
# nothing, it fails only if a run could not be measured.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
VMM=$B/vmm
GUEST=$B/builtin/guest.elf
VNCBENCH=$B/tests/bench/vncbench
SIZE=${SIZE:-1920x1080}
SECS=${SECONDS_:-5}
PORT=${PORT:-6551}
W=${SIZE%x*}
H=${SIZE#*x}
[ -c /dev/kvm ] || { echo "FATAL: /dev/kvm is missing" >&2; exit 1; }
for f in "$VMM" "$GUEST" "$VNCBENCH"; do
	[ -e "$f" ] || { echo "FATAL: $f is not built (make BUILD=$B bins)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# cpu_ticks PID vcpu|other: summed utime+stime of the vCPU threads
# ("vcpuN") or of every other thread.
cpu_ticks() {
	local sum=0 t comm
	for t in /proc/"$1"/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		case $comm in
		vcpu[0-9]*) [ "$2" = vcpu ] || continue ;;
		*) [ "$2" = other ] || continue ;;
		esac
		sum=$((sum + $(awk '{ print $14 + $15 }' "$t/stat")))
	done
	echo "$sum"
}

last_frame() { grep '^INFO frame ' "$tmp/dbg" | tail -n 1 | awk '{ print $3 }'; }

no_viewer() {
	local mode=$1 display=$2 f0 f1 v0 v1 o0 o1 t0 t1 hz
	: >"$tmp/dbg"
	"$VMM" --kernel "$GUEST" --append "test=$mode w=$W h=$H" --display "$display" \
		--vnc none --debug-exit --debugcon "$tmp/dbg" --serial none \
		</dev/null >/dev/null 2>"$tmp/err" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[ -n "$(last_frame)" ] && break
		sleep 0.05
	done
	f0=$(last_frame)
	[ -n "$f0" ] || { echo "FATAL: $mode: no frames" >&2; cat "$tmp/err" >&2; exit 1; }
	t0=$(date +%s.%N); v0=$(cpu_ticks "$pid" vcpu); o0=$(cpu_ticks "$pid" other)
	sleep "$SECS"
	t1=$(date +%s.%N); v1=$(cpu_ticks "$pid" vcpu); o1=$(cpu_ticks "$pid" other)
	f1=$(last_frame)
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
	hz=$(getconf CLK_TCK)
	awk -v d="$display" -v w="$W" -v h="$H" -v f="$((f1 - f0))" \
		-v t="$(echo "$t1 - $t0" | bc)" -v v="$((v1 - v0))" -v o="$((o1 - o0))" \
		-v hz="$hz" 'BEGIN {
		printf "VBENCH display=%s viewer=none w=%d h=%d seconds=%.2f frames=%d fps=%.1f " \
		       "vcpu_ms_per_frame=%.2f other_ms_per_frame=%.2f cpu_ms_per_frame=%.2f\n",
		       d, w, h, t, f, f / t, v * 1000 / hz / f, o * 1000 / hz / f,
		       (v + o) * 1000 / hz / f }'
}

with_viewer() {
	local mode=$1 display=$2
	"$VNCBENCH" --mode anim --port "$PORT" --size "$SIZE" --seconds "$SECS" \
		--warmup 1 --encodings raw -- "$VMM" --kernel "$GUEST" \
		--append "test=$mode w=$W h=$H" --display "$display" \
		--vnc "127.0.0.1:$PORT" --serial none 2>"$tmp/err" |
		sed -n "s/^BENCH mode=anim /VBENCH display=$display viewer=vncbench /p"
}

no_viewer virtio-anim virtio
no_viewer vga-anim std
with_viewer virtio-anim virtio
with_viewer vga-anim std
