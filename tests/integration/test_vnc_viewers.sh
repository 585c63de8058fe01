#!/usr/bin/env bash
# A real viewer against the real vmm: `vmm --demo --vnc 127.0.0.1:PORT`,
# then gtk-vnc's gvnccapture (Debian package gvncviewer) takes frames, alone
# and two at once; each must have the console's size and must not be one
# uniform colour.
#
#   tests/integration/test_vnc_viewers.sh [VMM] [PORT]
#
# VMM defaults to $VMM or build/asan/vmm, PORT to $VNC_PORT or 5959
# (gvnccapture names servers by display number, so PORT must be >= 5900).
# EXPECT_SIZE=WxH checks the exact frame size (else at least 320x200).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${VNC_PORT:-5959}}
EXPECT_SIZE=${EXPECT_SIZE:-}
require_kvm
require_exe "$VMM"
require_cmd gvnccapture "(apt-get install gvncviewer)"
require_cmd python3
[ "$PORT" -ge 5900 ] || fatal "PORT must be >= 5900 for gvnccapture"
DISPLAY_NO=$((PORT - 5900))
make_tmp
ON_FAIL=show_vmm_err

# shellcheck disable=SC2317  # called by wait_for
port_open() {
	python3 - "$PORT" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.recv(12)
except OSError:
    sys.exit(1)
EOF
}

# check_bmp FILE: prints WxH and "uniform" or "varied"; fails if unreadable.
check_bmp() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
if d[:2] != b"BM":
    sys.exit("not a BMP")
off, = struct.unpack_from("<I", d, 10)
w, h = struct.unpack_from("<ii", d, 18)
bpp, = struct.unpack_from("<H", d, 28)
h = abs(h)
px = d[off:]
step = bpp // 8
row = (w * step + 3) & ~3
first = px[0:step]
varied = any(px[y * row + x * step:y * row + x * step + step] != first
             for y in range(0, h, 3) for x in range(0, w, 3))
print(f"{w}x{h} {'varied' if varied else 'uniform'}")
EOF
}

"$VMM" --demo --vnc "127.0.0.1:$PORT" --serial none >"$tmp/out" 2>"$tmp/err" &
vmm_pid=$!
if wait_for 30 port_open; then
	ok "listening on 127.0.0.1:$PORT"
elif vmm_exited; then
	fail start "vmm exited before listening on $PORT"
	exit 1
else
	fail start "port $PORT never opened"
	exit 1
fi

# One viewer; the guest may still be drawing its first screen: retry a few
# times until the frame is not uniform.
result=
for _ in $(seq 1 20); do
	if timeout 20 gvnccapture -q "127.0.0.1:$DISPLAY_NO" "$tmp/one.bmp" >"$tmp/cap.log" 2>&1; then
		result=$(check_bmp "$tmp/one.bmp") || result="unreadable"
		[[ $result == *varied ]] && break
	fi
	sleep 0.5
done
if [ -z "$result" ]; then
	fail capture "gvnccapture failed: $(tail -n 3 "$tmp/cap.log")"
else
	size=${result%% *}
	w=${size%x*}
	h=${size#*x}
	if [ -n "$EXPECT_SIZE" ] && [ "$size" != "$EXPECT_SIZE" ]; then
		fail size "frame is $size, expected $EXPECT_SIZE"
	elif [ "$w" -lt 320 ] || [ "$h" -lt 200 ]; then
		fail size "frame is only $size"
	else
		ok "frame size $size"
	fi
	[[ $result == *varied ]] && ok "frame has content" ||
		fail content "the frame is one uniform colour"
fi

# Two viewers at once.
timeout 20 gvnccapture -q "127.0.0.1:$DISPLAY_NO" "$tmp/a.bmp" >"$tmp/a.log" 2>&1 &
a=$!
timeout 20 gvnccapture -q "127.0.0.1:$DISPLAY_NO" "$tmp/b.bmp" >"$tmp/b.log" 2>&1 &
b=$!
ra=0; rb=0
wait "$a" || ra=$?
wait "$b" || rb=$?
if [ "$ra" = 0 ] && [ "$rb" = 0 ] &&
   [ "$(check_bmp "$tmp/a.bmp" | cut -d' ' -f1)" = "$(check_bmp "$tmp/b.bmp" | cut -d' ' -f1)" ]; then
	ok "two viewers at once"
else
	fail two "gvnccapture exit codes $ra, $rb"
fi

if vmm_exited; then
	fail alive "vmm died"
else
	ok "vmm still running"
fi
finish "all ok"
