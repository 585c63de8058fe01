#!/usr/bin/env bash
# The web console's front door, with plain sockets (tests/integration/web_probe.py):
# tokens (missing, wrong, expired: 403 on the page, the session API and the
# WebSocket upgrade; view-only reported), the Origin check, static files (no
# traversal, no listing, MIME types), and malformed HTTP / WebSocket input
# (garbage, oversized headers, bad upgrades, unmasked, oversized and text
# frames, garbage after the handshake), each of which must close only its own
# connection. Then: no descriptor leaked by 200 WebSocket connections, a
# token file edited while running is read again (revocation), and the VMM
# exits cleanly (ASan/LSan: no leak in the bridge).
#
#   tests/integration/test_web_security.sh [VMM] [PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${WEB_PORT:-6110}}
require_kvm
require_exe "$VMM"
make_tmp

VIEW=$(mktoken viewonly)
EXPIRED=$(mktoken expired)
LATER=$(mktoken later)
{
	echo "# test tokens"
	echo "$VIEW view-only"
	echo "$EXPIRED expires=2001-09-09T01:46:40Z"
	echo "$LATER expires=$(( $(date +%s) + 3600 ))"
} >"$tmp/tokens"
ORIGIN="https://console.example:8443"

"$VMM" --demo --append test=input --vnc none --serial none \
	--web "127.0.0.1:$PORT" --web-token-file "$tmp/tokens" --web-origin "$ORIGIN" \
	--control "unix:$tmp/ctl" --debugcon "$tmp/debugcon" 2>"$tmp/err" &
vmm_pid=$!

wait_console http "no console URL printed"
ok "console URL printed: ${url%%\?*}?token=<32 characters>"
[ ${#TOKEN} -ge 22 ] && ok "generated token has ${#TOKEN} characters" || fail token "too short: ${#TOKEN}"
if grep -v '^vmm: console:' "$tmp/err" | grep -q -- "$TOKEN"; then
	fail secret "the token appears in a log line"
fi

if timeout 300 python3 tests/integration/web_probe.py "$PORT" "$TOKEN" "$VIEW" "$EXPIRED" "$ORIGIN" >"$tmp/probe.log" 2>&1; then
	ok "web_probe: $(grep -c '^ok' "$tmp/probe.log") checks"
else
	sed 's/^/  /' "$tmp/probe.log" | grep -v '^  ok' || true
	fail web_probe "$(grep -c '^FAIL' "$tmp/probe.log") failed"
fi

# Descriptors: 200 WebSocket sessions (each a socketpair, a VNC client and
# its threads) leave the count where it was.
fds() { ls "/proc/$vmm_pid/fd" | wc -l; }
ws_cycles() {
	python3 - "$PORT" "$TOKEN" "$1" <<'PY'
import base64, os, socket, sys
port, tok, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall((f"GET /websockify?token={tok} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
               "Sec-WebSocket-Protocol: binary\r\n\r\n").encode())
    data = b""
    while b"RFB 003" not in data:
        d = s.recv(4096)
        if not d:
            sys.exit(f"cycle {i}: closed early")
        data += d
    s.close()
PY
}
ws_cycles 5
for _ in $(seq 1 50); do
	[ "$(control "$tmp/ctl" '{"cmd":"status"}' | json_field clients)" = 0 ] && break
	sleep 0.1
done
fd0=$(fds)
if ws_cycles 200; then
	ok "200 WebSocket sessions"
else
	fail cycles "a WebSocket session failed"
fi
fd1=
for _ in $(seq 1 100); do
	fd1=$(fds)
	[ "$fd1" -le "$fd0" ] && break
	sleep 0.1
done
[ "$fd1" -le "$fd0" ] && ok "descriptors: $fd0 before, $fd1 after 200 sessions" ||
	fail fds "descriptors: $fd0 before, $fd1 after 200 sessions"

# Revocation: the token file is read again when it changes.
code() { python3 -c "
import socket,sys
s=socket.create_connection(('127.0.0.1',$PORT));s.sendall(b'GET /?token=$1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
print(s.recv(64).split()[1].decode())"; }
[ "$(code "$LATER")" = 200 ] && ok "file token accepted" || fail filetoken "file token refused"
grep -v "^$LATER" "$tmp/tokens" >"$tmp/tokens.new" && mv "$tmp/tokens.new" "$tmp/tokens"
[ "$(code "$LATER")" = 403 ] && ok "token removed from the file: refused" || fail revoke "removed token still accepted"
[ "$(code "$TOKEN")" = 200 ] && ok "the generated token still works" || fail gen "generated token refused"

# A clean exit: ASan/LSan report nothing.
control "$tmp/ctl" '{"cmd":"quit"}' >/dev/null
expect_exit0
if no_sanitizer_report; then
	ok "no sanitizer report"
else
	grep -A30 -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)' "$tmp/err" | head -40
fi

finish "all ok"
