#!/usr/bin/env bash
# The std-VGA adapter driven by the built-in guest's display modes
# (vmm/guest/vga.c), observed through the control socket: screendumps
# against golden images (tests/golden/, made by tests/golden/regen.sh),
# display events of a watching client (surface on a mode change, no damage
# while idle, small damage for one pixel), and hostile register values under
# the sanitizer build. The helper client is tests/integration/vgactl.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
VMM=${VMM:-build/asan/vmm}
GUEST=${GUEST:-build/builtin/guest.elf}
GOLDEN=${GOLDEN:-tests/golden}
CTL="python3 tests/integration/vgactl.py"
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
		[ -s "$f" ] && sed "s|^|    ${f##*/}: |" "$f" | head -n 20
	done
	return 0
}

# start_guest APPEND [vmm options...]: the vmm in the background with the
# control socket $tmp/c.sock, serial input from the fifo $tmp/in (fd 3
# keeps it open), then waits for the guest's first RESULT line.
start_guest() {
	local append=$1
	shift
	rm -f "$tmp/dbg" "$tmp/err" "$tmp/c.sock" "$tmp/in"
	touch "$tmp/dbg"
	mkfifo "$tmp/in"
	timeout 60 "$VMM" --kernel "$GUEST" --append "$append" --debug-exit --vnc none \
		--debugcon "$tmp/dbg" --serial stdio --control "unix:$tmp/c.sock" \
		"$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
	vmm_pid=$!
	exec 3>"$tmp/in"
	for ((i = 0; i < 400; i++)); do
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

# --- (a) the text screen equals its golden image (either cursor phase).
if ! start_guest test=vga-text; then
	fail vga-text "no 'RESULT vga-text ready'"
else
	$CTL dump "$tmp/c.sock" "$tmp/text.png"
	if ! $CTL compare "$tmp/text.png" "$GOLDEN/vga-text-cursor-on.png" \
		"$GOLDEN/vga-text-cursor-off.png" >"$tmp/cmp" 2>&1; then
		fail vga-text "$(cat "$tmp/cmp")"
	else
		ok vga-text
	fi
	stop_guest
	[ "$rc" -eq 0 ] || fail vga-text-quit "exit status $rc after q, want 0"
fi

# --- (b) the 1024x768 test pattern equals its golden image; then with a
# watcher attached: (d) no damage while idle, (e) one pixel gives small
# damage covering it, (c) a mode change gives a surface event.
if ! start_guest test=vga-pattern; then
	fail vga-pattern "no 'RESULT vga-pattern ready'"
else
	if ! grep -qxF 'RESULT vga-pattern ready w=1024 h=768' "$tmp/dbg"; then
		fail vga-pattern "no 'RESULT vga-pattern ready w=1024 h=768'"
	fi
	$CTL dump "$tmp/c.sock" "$tmp/pattern.png"
	if ! $CTL compare "$tmp/pattern.png" "$GOLDEN/vga-pattern-1024x768.png" \
		>"$tmp/cmp" 2>&1; then
		fail vga-pattern "$(cat "$tmp/cmp")"
	else
		ok vga-pattern
	fi
	if ! $CTL watch-idle "$tmp/c.sock" 1 >"$tmp/cmp" 2>&1; then
		fail watch-idle "$(cat "$tmp/cmp")"
	else
		ok watch-idle
	fi
	if ! $CTL watch-pixel "$tmp/c.sock" "$tmp/in" "$tmp/dbg" 100 100 64 \
		>"$tmp/cmp" 2>&1; then
		fail watch-pixel "$(cat "$tmp/cmp")"
	else
		ok watch-pixel
	fi
	if ! $CTL watch-mode "$tmp/c.sock" "$tmp/in" "$tmp/dbg" 800 600 \
		>"$tmp/cmp" 2>&1; then
		fail watch-mode "$(cat "$tmp/cmp")"
	else
		$CTL dump "$tmp/c.sock" "$tmp/mode2.png"
		size=$($CTL size "$tmp/mode2.png")
		if [ "$size" != 800x600 ]; then
			fail watch-mode "screendump after the mode change is $size"
		else
			ok watch-mode
		fi
	fi
	stop_guest
	if [ "$rc" -ne 0 ]; then
		fail vga-pattern-quit "exit status $rc after q, want 0"
	elif ! sanitizer_clean; then
		fail vga-pattern-quit "sanitizer report"
	fi
fi

# --- (f) hostile register values: the vmm survives, the sane mode shows.
if ! start_guest "test=vga-hostile w=640 h=480"; then
	fail vga-hostile "no RESULT line"
elif ! grep -qxF 'RESULT vga-hostile ok w=640 h=480' "$tmp/dbg"; then
	fail vga-hostile "no 'RESULT vga-hostile ok w=640 h=480'"
	stop_guest
else
	$CTL dump "$tmp/c.sock" "$tmp/hostile.png"
	size=$($CTL size "$tmp/hostile.png")
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
rm -f "$tmp/dbg"
rc=0
timeout 60 "$VMM" --kernel "$GUEST" --append "test=vga-anim w=320 h=200 frames=120" --vnc none \
	--debug-exit --debugcon "$tmp/dbg" --serial none </dev/null >/dev/null 2>"$tmp/err" || rc=$?
touch "$tmp/dbg"
if [ "$rc" -ne 0 ]; then
	fail vga-anim "exit status $rc, want 0"
elif ! grep -q '^INFO frame 120 ' "$tmp/dbg"; then
	fail vga-anim "no 'INFO frame 120' line"
elif ! grep -q '^RESULT vga-anim ok frames=120 ' "$tmp/dbg"; then
	fail vga-anim "no 'RESULT vga-anim ok frames=120' line"
else
	ok vga-anim
fi

if [ "$fails" -ne 0 ]; then
	echo "$fails case(s) failed"
	exit 1
fi
echo "all std-VGA built-in guest cases passed"
