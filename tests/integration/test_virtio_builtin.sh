#!/usr/bin/env bash
# virtio-gpu and virtio-input driven by the built-in guest's virtio modes
# (vmm/guest/virtio*.c: a modern virtio-pci driver and the Linux
# virtio_gpu / virtio_input command sequences), observed from outside:
#  - virtio-pattern: the screendump equals the std-VGA pattern's golden
#    image (same picture, other device); a watcher gets exactly the
#    flushed rectangles as damage (two odd-sized ones, one pixel), nothing
#    while idle, a surface event on a mode change (new resource);
#  - virtio-hostile: bad commands answered with the right errors, broken
#    queues put in DEVICE_NEEDS_RESET, the device still works afterwards
#    and shows the golden picture; nothing from the sanitizers;
#  - virtio-anim ends by itself after frames=N;
#  - virtio-input: a VNC viewer's pointer reaches the virtio tablet as the
#    matching absolute coordinates, its keys reach the virtio keyboard as
#    Linux key codes; the guest sleeps while nothing happens.
#
#   tests/integration/test_virtio_builtin.sh   (VMM, GUEST, VNC_PORT)
set -euo pipefail
cd "$(dirname "$0")/../.."
VMM=${VMM:-build/asan/vmm}
GUEST=${GUEST:-build/builtin/guest.elf}
GOLDEN=${GOLDEN:-tests/golden}
PORT=${VNC_PORT:-6550}
CTL="python3 tests/integration/vgactl.py"
VCTL="python3 tests/integration/virtioctl.py"
[ -c /dev/kvm ] || { echo "FATAL: /dev/kvm is missing: cannot run the built-in guest" >&2; exit 1; }
[ -x "$VMM" ] || { echo "FATAL: $VMM is not built" >&2; exit 1; }
[ -f "$GUEST" ] || { echo "FATAL: $GUEST is not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "FATAL: python3 is missing" >&2; exit 1; }

tmp=$(mktemp -d)
vmm_pid=
cleanup() {
	[ -n "$vmm_pid" ] && kill "$vmm_pid" 2>/dev/null || true
	exec 3>&- || true
	[ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0

ok() { echo "ok $1"; }
fail() {
	echo "FAIL $1: $2"
	fails=$((fails + 1))
	for f in "$tmp/dbg" "$tmp/err"; do
		[ -s "$f" ] && grep -v '^INFO hostile .* ok ' "$f" | sed "s|^|    ${f##*/}: |" | tail -n 20
	done
	return 0
}

# start_guest APPEND [vmm options...]: the vmm in the background with
# --display virtio, the control socket $tmp/c.sock, serial input from the
# fifo $tmp/in (fd 3 keeps it open); waits for the guest's first RESULT.
start_guest() {
	local append=$1
	shift
	rm -f "$tmp/dbg" "$tmp/err" "$tmp/c.sock" "$tmp/in"
	touch "$tmp/dbg"
	mkfifo "$tmp/in"
	timeout 120 "$VMM" --kernel "$GUEST" --append "$append" --debug-exit \
		--display virtio --debugcon "$tmp/dbg" --serial stdio \
		--control "unix:$tmp/c.sock" "$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
	vmm_pid=$!
	exec 3>"$tmp/in"
	for ((i = 0; i < 600; i++)); do
		grep -q '^RESULT' "$tmp/dbg" && [ -S "$tmp/c.sock" ] && return 0
		kill -0 "$vmm_pid" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}

# stop_guest: "q" on serial, sets $rc to the vmm's exit status.
stop_guest() {
	printf q >&3 || true
	rc=0
	wait "$vmm_pid" || rc=$?
	vmm_pid=
	exec 3>&-
}

sanitizer_clean() {
	! grep -qiE 'sanitizer|runtime error|segmentation' "$tmp/err"
}

# --- (a) the pattern through virtio-gpu equals the std-VGA golden image;
# then, watching: exact flush rectangles, one pixel, idle, mode change.
if ! start_guest test=virtio-pattern --vnc none; then
	fail virtio-pattern "no RESULT line"
else
	if ! grep -qxF 'RESULT virtio-pattern ready w=1024 h=768' "$tmp/dbg"; then
		fail virtio-pattern "no 'RESULT virtio-pattern ready w=1024 h=768'"
	fi
	$CTL dump "$tmp/c.sock" "$tmp/pattern.png"
	if ! $CTL compare "$tmp/pattern.png" "$GOLDEN/vga-pattern-1024x768.png" \
		>"$tmp/cmp" 2>&1; then
		fail virtio-pattern "$(cat "$tmp/cmp")"
	else
		ok virtio-pattern
	fi
	if ! $CTL watch-idle "$tmp/c.sock" 1 >"$tmp/cmp" 2>&1; then
		fail virtio-watch-idle "$(cat "$tmp/cmp")"
	else
		ok virtio-watch-idle
	fi
	if ! $VCTL watch-rects "$tmp/c.sock" "$tmp/in" "$tmp/dbg" >"$tmp/cmp" 2>&1; then
		fail virtio-flush-rects "$(cat "$tmp/cmp")"
	else
		ok "virtio-flush-rects: $(cat "$tmp/cmp")"
	fi
	if ! $VCTL watch-pixel "$tmp/c.sock" "$tmp/in" "$tmp/dbg" 100 100 >"$tmp/cmp" 2>&1; then
		fail virtio-flush-pixel "$(cat "$tmp/cmp")"
	else
		ok "virtio-flush-pixel: $(cat "$tmp/cmp")"
	fi
	if ! $CTL watch-mode "$tmp/c.sock" "$tmp/in" "$tmp/dbg" 800 600 \
		>"$tmp/cmp" 2>&1; then
		fail virtio-mode "$(cat "$tmp/cmp")"
	else
		$CTL dump "$tmp/c.sock" "$tmp/mode2.png"
		size=$($CTL size "$tmp/mode2.png")
		px=$($CTL pixel "$tmp/mode2.png" 799 599)
		if [ "$size" != 800x600 ]; then
			fail virtio-mode "screendump after the mode change is $size"
		elif [ "$px" != ffffff ]; then
			fail virtio-mode "pixel (799,599) is $px, want the white frame"
		else
			ok virtio-mode
		fi
	fi
	stop_guest
	if [ "$rc" -ne 0 ]; then
		fail virtio-pattern-quit "exit status $rc after q, want 0"
	elif ! sanitizer_clean; then
		fail virtio-pattern-quit "sanitizer report"
	fi
fi

# --- (b) the hostile guest: every check answered as specified, then the
# picture; the vmm survives under the sanitizers.
if ! start_guest test=virtio-hostile --vnc none; then
	fail virtio-hostile "no RESULT line"
elif ! grep -q '^RESULT virtio-hostile ok checks=' "$tmp/dbg"; then
	fail virtio-hostile "$(grep -m1 '^RESULT' "$tmp/dbg")"
	stop_guest
else
	$CTL dump "$tmp/c.sock" "$tmp/hostile.png"
	$CTL compare "$tmp/hostile.png" "$GOLDEN/vga-pattern-1024x768.png" >"$tmp/cmp" 2>&1 || true
	stop_guest
	if [ "$rc" -ne 0 ]; then
		fail virtio-hostile "exit status $rc, want 0"
	elif ! sanitizer_clean; then
		fail virtio-hostile "sanitizer report"
	elif ! grep -q ' equals ' "$tmp/cmp"; then
		fail virtio-hostile "picture afterwards: $(cat "$tmp/cmp")"
	else
		ok "$(grep -m1 '^RESULT virtio-hostile' "$tmp/dbg")"
	fi
fi

# --- (c) the animation ends by itself after frames=N.
rm -f "$tmp/dbg"
rc=0
timeout 60 "$VMM" --kernel "$GUEST" --append "test=virtio-anim w=320 h=200 frames=120" \
	--display virtio --vnc none --debug-exit --debugcon "$tmp/dbg" --serial none \
	</dev/null >/dev/null 2>"$tmp/err" || rc=$?
touch "$tmp/dbg"
if [ "$rc" -ne 0 ]; then
	fail virtio-anim "exit status $rc, want 0"
elif ! grep -q '^INFO frame 120 ' "$tmp/dbg"; then
	fail virtio-anim "no 'INFO frame 120' line"
elif ! grep -q '^RESULT virtio-anim ok frames=120 ' "$tmp/dbg"; then
	fail virtio-anim "no 'RESULT virtio-anim ok frames=120' line"
else
	ok virtio-anim
fi

# --- (d) VNC pointer -> virtio tablet, VNC keys -> virtio keyboard.
wait_port() {
	for ((i = 0; i < 100; i++)); do
		(exec 4<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
ticks() { awk '{ print $14 + $15 }' "/proc/$vmm_pid/stat"; }

if ! start_guest test=virtio-input --input virtio --vnc "127.0.0.1:$PORT"; then
	fail virtio-input "no RESULT line"
elif ! grep -qxF 'RESULT virtio-input ready keyboard=1 tablet=1 irq=1' "$tmp/dbg"; then
	fail virtio-input "$(grep -m1 '^RESULT' "$tmp/dbg")"
	stop_guest
elif ! wait_port; then
	fail virtio-input "VNC port $PORT does not answer"
	stop_guest
else
	if $VCTL vnc-tablet 127.0.0.1 "$PORT" "$tmp/dbg" >"$tmp/cmp" 2>&1; then
		ok "virtio-tablet ($(grep -c '^ok' "$tmp/cmp") pointer events)"
	else
		fail virtio-tablet "$(grep -v '^ok' "$tmp/cmp")"
	fi
	if $VCTL vnc-keys 127.0.0.1 "$PORT" "$tmp/dbg" >"$tmp/cmp" 2>&1; then
		ok "virtio-keyboard ($(grep -c '^ok' "$tmp/cmp") key cases)"
	else
		fail virtio-keyboard "$(grep -v '^ok' "$tmp/cmp")"
	fi
	# Idle: the guest sleeps in HLT until a device's INTx or COM1.
	hz=$(getconf CLK_TCK)
	t0=$(ticks)
	sleep 1
	t1=$(ticks)
	if [ $((t1 - t0)) -le $((hz / 5)) ]; then
		ok "virtio-input idle: $((t1 - t0)) of $hz ticks in 1 s"
	else
		fail virtio-input-idle "vmm used $((t1 - t0)) of $hz ticks in 1 s while idle"
	fi
	stop_guest
	if [ "$rc" -ne 0 ] || ! grep -q '^RESULT virtio-input ok' "$tmp/dbg"; then
		fail virtio-input-quit "exit status $rc, $(grep -m1 '^RESULT virtio-input ok' "$tmp/dbg" || echo 'no RESULT virtio-input ok')"
	elif ! sanitizer_clean; then
		fail virtio-input-quit "sanitizer report"
	fi
fi

# --- (e) the default input set: PS/2 keyboard plus the virtio tablet.
if ! start_guest test=virtio-input --vnc none; then
	fail virtio-input-default "no RESULT line"
elif ! grep -qxF 'RESULT virtio-input ready keyboard=0 tablet=1 irq=1' "$tmp/dbg"; then
	fail virtio-input-default "$(grep -m1 '^RESULT' "$tmp/dbg")"
	stop_guest
else
	stop_guest
	[ "$rc" -eq 0 ] && ok virtio-input-default ||
		fail virtio-input-default "exit status $rc, want 0"
fi

if [ "$fails" -ne 0 ]; then
	echo "$fails case(s) failed"
	exit 1
fi
echo "all virtio built-in guest cases passed"
