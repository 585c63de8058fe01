#!/usr/bin/env bash
# Regenerates the golden screendumps of tests/integration/test_vga_builtin.sh
# from the built-in guest. Run it only when the guest's pictures or the
# renderer change on purpose, then LOOK at every PNG (text legible, colours
# and cursor right) before committing them:
#   vga-text-cursor-on.png, vga-text-cursor-off.png
#       test=vga-text in both phases of the blinking cursor (row 22,
#       column 5, scanlines 12-15): the test accepts either
#   vga-pattern-1024x768.png
#       test=vga-pattern at its default size
# Usage: tests/golden/regen.sh  (VMM=build/vmm GUEST=build/builtin/guest.elf)
set -euo pipefail
cd "$(dirname "$0")/../.."
VMM=${VMM:-build/vmm}
GUEST=${GUEST:-build/builtin/guest.elf}
OUT=tests/golden
CTL="python3 tests/integration/vgactl.py"
[ -c /dev/kvm ] || { echo "FATAL: /dev/kvm is missing" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; exec 3>&- || true; rm -rf "$tmp"' EXIT

# start APPEND: the guest with a control socket; waits for its RESULT line.
start() {
	rm -f "$tmp/dbg" "$tmp/c.sock" "$tmp/in"
	touch "$tmp/dbg"
	mkfifo "$tmp/in"
	timeout 120 "$VMM" --kernel "$GUEST" --append "$1" --debug-exit \
		--debugcon "$tmp/dbg" --serial stdio --control "unix:$tmp/c.sock" \
		<"$tmp/in" >/dev/null 2>"$tmp/err" &
	pid=$!
	exec 3>"$tmp/in"
	for ((i = 0; i < 400; i++)); do
		grep -q '^RESULT' "$tmp/dbg" && [ -S "$tmp/c.sock" ] && return 0
		sleep 0.05
	done
	echo "regen: the guest did not get ready ($1)" >&2
	cat "$tmp/dbg" "$tmp/err" >&2
	exit 1
}

stop() {
	printf q >&3
	wait "$pid"
	pid=
	exec 3>&-
}

# The text screen: sample until both cursor phases (1 s period) were seen.
# The cursor cell's scanline 14 is the text colour (aaaaaa) when on.
start test=vga-text
on= off=
for ((i = 0; i < 60; i++)); do
	[ -n "$on" ] && [ -n "$off" ] && break
	$CTL dump "$tmp/c.sock" "$tmp/t$i.png"
	case $($CTL pixel "$tmp/t$i.png" 42 366) in
	aaaaaa) on=$tmp/t$i.png ;;
	000000) off=$tmp/t$i.png ;;
	*) echo "regen: unexpected cursor cell colour" >&2; exit 1 ;;
	esac
	sleep 0.1
done
stop
[ -n "$on" ] && [ -n "$off" ] || { echo "regen: did not see both cursor phases" >&2; exit 1; }
cp "$on" "$OUT/vga-text-cursor-on.png"
cp "$off" "$OUT/vga-text-cursor-off.png"

start test=vga-pattern
grep -qxF 'RESULT vga-pattern ready w=1024 h=768' "$tmp/dbg"
$CTL dump "$tmp/c.sock" "$OUT/vga-pattern-1024x768.png"
stop

chmod 644 "$OUT"/*.png
ls -l "$OUT"/*.png
echo "regen: now look at every image before committing it"
