#!/usr/bin/env bash
# The std-VGA adapter driven by the built-in guest's display modes
# (vmm/guest/vga.c), observed through the control socket: screendumps
# against golden images (tests/golden/, made by tests/golden/regen.sh),
# display events of a watching client (surface on a mode change, no damage
# while idle, small damage for one pixel), and hostile register values under
# the sanitizer build. The helper client is tests/integration/vgactl.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${VMM:-build/asan/vmm}
GUEST=${GUEST:-build/builtin/guest.elf}
GOLDEN=${GOLDEN:-tests/golden}
vgactl() { python3 tests/integration/vgactl.py "$@"; }
require_kvm
require_exe "$VMM"
require_file "$GUEST"
require_cmd python3
make_tmp
ON_FAIL=show_guest_logs

# --- (a) the text screen equals its golden image (either cursor phase).
if ! start_guest test=vga-text --vnc none; then
	fail vga-text "no 'RESULT vga-text ready'"
else
	vgactl dump "$tmp/c.sock" "$tmp/text.png"
	expect_ok vga-text vgactl compare "$tmp/text.png" "$GOLDEN/vga-text-cursor-on.png" \
		"$GOLDEN/vga-text-cursor-off.png"
	stop_guest
	[ "$rc" -eq 0 ] || fail vga-text-quit "exit status $rc after q, want 0"
fi

# --- (b) the 1024x768 test pattern equals its golden image; then with a
# watcher attached: (d) no damage while idle, (e) one pixel gives small
# damage covering it, (c) a mode change gives a surface event.
if ! start_guest test=vga-pattern --vnc none; then
	fail vga-pattern "no 'RESULT vga-pattern ready'"
else
	if ! grep -qxF 'RESULT vga-pattern ready w=1024 h=768' "$tmp/dbg"; then
		fail vga-pattern "no 'RESULT vga-pattern ready w=1024 h=768'"
	fi
	vgactl dump "$tmp/c.sock" "$tmp/pattern.png"
	expect_ok vga-pattern vgactl compare "$tmp/pattern.png" "$GOLDEN/vga-pattern-1024x768.png"
	expect_ok watch-idle vgactl watch-idle "$tmp/c.sock" 1
	expect_ok watch-pixel vgactl watch-pixel "$tmp/c.sock" "$tmp/in" "$tmp/dbg" 100 100 64
	if ! vgactl watch-mode "$tmp/c.sock" "$tmp/in" "$tmp/dbg" 800 600 \
		>"$tmp/cmp" 2>&1; then
		fail watch-mode "$(cat "$tmp/cmp")"
	else
		vgactl dump "$tmp/c.sock" "$tmp/mode2.png"
		size=$(vgactl size "$tmp/mode2.png")
		if [ "$size" != 800x600 ]; then
			fail watch-mode "screendump after the mode change is $size"
		else
			ok watch-mode
		fi
	fi
	quit_guest vga-pattern-quit
fi

# --- (f) hostile register values: the vmm survives, the sane mode shows.
if ! start_guest "test=vga-hostile w=640 h=480" --vnc none; then
	fail vga-hostile "no RESULT line"
elif ! grep -qxF 'RESULT vga-hostile ok w=640 h=480' "$tmp/dbg"; then
	fail vga-hostile "no 'RESULT vga-hostile ok w=640 h=480'"
	stop_guest
else
	vgactl dump "$tmp/c.sock" "$tmp/hostile.png"
	size=$(vgactl size "$tmp/hostile.png")
	stop_guest
	if [ "$rc" -ne 0 ]; then
		fail vga-hostile "exit status $rc, want 0"
	elif ! sanitizer_clean; then
		fail vga-hostile "sanitizer report"
	elif [ "$size" != 640x480 ]; then
		fail vga-hostile "screendump is $size, want 640x480"
	else
		ok vga-hostile
	fi
fi

# --- the animation ends by itself after frames=N and reports progress.
check_anim vga-anim

finish "all std-VGA built-in guest cases passed"
