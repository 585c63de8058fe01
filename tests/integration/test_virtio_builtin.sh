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
. tests/integration/lib.sh
VMM=${VMM:-build/asan/vmm}
GUEST=${GUEST:-build/builtin/guest.elf}
GOLDEN=${GOLDEN:-tests/golden}
PORT=${VNC_PORT:-6550}
vgactl() { python3 tests/integration/vgactl.py "$@"; }
virtioctl() { python3 tests/integration/virtioctl.py "$@"; }
GUEST_TIMEOUT=120
require_kvm
require_exe "$VMM"
require_file "$GUEST"
require_cmd python3
make_tmp

# After a FAIL line: the guest's and the vmm's logs, less the hostile
# mode's many ok lines.
# shellcheck disable=SC2317  # called by fail
show_logs() {
	local f
	for f in "$tmp/dbg" "$tmp/err"; do
		if [ -s "$f" ]; then
			grep -v '^INFO hostile .* ok ' "$f" | indent_log "${f##*/}" | tail -n 20
		fi
	done
}
ON_FAIL=show_logs

# --- (a) the pattern through virtio-gpu equals the std-VGA golden image;
# then, watching: exact flush rectangles, one pixel, idle, mode change.
if ! start_guest test=virtio-pattern --display virtio --vnc none; then
	fail virtio-pattern "no RESULT line"
else
	if ! grep -qxF 'RESULT virtio-pattern ready w=1024 h=768' "$tmp/dbg"; then
		fail virtio-pattern "no 'RESULT virtio-pattern ready w=1024 h=768'"
	fi
	vgactl dump "$tmp/c.sock" "$tmp/pattern.png"
	expect_ok virtio-pattern vgactl compare "$tmp/pattern.png" "$GOLDEN/vga-pattern-1024x768.png"
	expect_ok virtio-watch-idle vgactl watch-idle "$tmp/c.sock" 1
	if ! virtioctl watch-rects "$tmp/c.sock" "$tmp/in" "$tmp/dbg" >"$tmp/cmp" 2>&1; then
		fail virtio-flush-rects "$(cat "$tmp/cmp")"
	else
		ok "virtio-flush-rects: $(cat "$tmp/cmp")"
	fi
	if ! virtioctl watch-pixel "$tmp/c.sock" "$tmp/in" "$tmp/dbg" 100 100 >"$tmp/cmp" 2>&1; then
		fail virtio-flush-pixel "$(cat "$tmp/cmp")"
	else
		ok "virtio-flush-pixel: $(cat "$tmp/cmp")"
	fi
	if ! vgactl watch-mode "$tmp/c.sock" "$tmp/in" "$tmp/dbg" 800 600 \
		>"$tmp/cmp" 2>&1; then
		fail virtio-mode "$(cat "$tmp/cmp")"
	else
		vgactl dump "$tmp/c.sock" "$tmp/mode2.png"
		size=$(vgactl size "$tmp/mode2.png")
		px=$(vgactl pixel "$tmp/mode2.png" 799 599)
		if [ "$size" != 800x600 ]; then
			fail virtio-mode "screendump after the mode change is $size"
		elif [ "$px" != ffffff ]; then
			fail virtio-mode "pixel (799,599) is $px, want the white frame"
		else
			ok virtio-mode
		fi
	fi
	quit_guest virtio-pattern-quit
fi

# --- (b) the hostile guest: every check answered as specified, then the
# picture; the vmm survives under the sanitizers.
if ! start_guest test=virtio-hostile --display virtio --vnc none; then
	fail virtio-hostile "no RESULT line"
elif ! grep -q '^RESULT virtio-hostile ok checks=' "$tmp/dbg"; then
	fail virtio-hostile "$(grep -m1 '^RESULT' "$tmp/dbg")"
	stop_guest
else
	vgactl dump "$tmp/c.sock" "$tmp/hostile.png"
	vgactl compare "$tmp/hostile.png" "$GOLDEN/vga-pattern-1024x768.png" >"$tmp/cmp" 2>&1 || true
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
check_anim virtio-anim --display virtio

# --- (d) VNC pointer -> virtio tablet, VNC keys -> virtio keyboard.
if ! start_guest test=virtio-input --display virtio --input virtio --vnc "127.0.0.1:$PORT"; then
	fail virtio-input "no RESULT line"
elif ! grep -qxF 'RESULT virtio-input ready keyboard=1 tablet=1 irq=1' "$tmp/dbg"; then
	fail virtio-input "$(grep -m1 '^RESULT' "$tmp/dbg")"
	stop_guest
elif ! wait_for 10 tcp_open "$PORT"; then
	fail virtio-input "VNC port $PORT does not answer"
	stop_guest
else
	if virtioctl vnc-tablet 127.0.0.1 "$PORT" "$tmp/dbg" >"$tmp/cmp" 2>&1; then
		ok "virtio-tablet ($(grep -c '^ok' "$tmp/cmp") pointer events)"
	else
		fail virtio-tablet "$(grep -v '^ok' "$tmp/cmp")"
	fi
	if virtioctl vnc-keys 127.0.0.1 "$PORT" "$tmp/dbg" >"$tmp/cmp" 2>&1; then
		ok "virtio-keyboard ($(grep -c '^ok' "$tmp/cmp") key cases)"
	else
		fail virtio-keyboard "$(grep -v '^ok' "$tmp/cmp")"
	fi
	# Idle: the guest sleeps in HLT until a device's INTx or COM1.
	measure_idle
	if [ "$used" -le $((hz / 5)) ]; then
		ok "virtio-input idle: $used of $hz ticks in 1 s"
	else
		fail virtio-input-idle "vmm used $used of $hz ticks in 1 s while idle"
	fi
	stop_guest
	if [ "$rc" -ne 0 ] || ! grep -q '^RESULT virtio-input ok' "$tmp/dbg"; then
		fail virtio-input-quit "exit status $rc, $(grep -m1 '^RESULT virtio-input ok' "$tmp/dbg" || echo 'no RESULT virtio-input ok')"
	elif ! sanitizer_clean; then
		fail virtio-input-quit "sanitizer report"
	fi
fi

# --- (e) the default input set: PS/2 keyboard plus the virtio tablet.
if ! start_guest test=virtio-input --display virtio --vnc none; then
	fail virtio-input-default "no RESULT line"
elif ! grep -qxF 'RESULT virtio-input ready keyboard=0 tablet=1 irq=1' "$tmp/dbg"; then
	fail virtio-input-default "$(grep -m1 '^RESULT' "$tmp/dbg")"
	stop_guest
else
	stop_guest
	[ "$rc" -eq 0 ] && ok virtio-input-default ||
		fail virtio-input-default "exit status $rc, want 0"
fi

finish "all virtio built-in guest cases passed"
