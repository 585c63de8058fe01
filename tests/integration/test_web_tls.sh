#!/usr/bin/env bash
# HTTPS/WSS on the web port with --tls-dir (certificates from
# certs/make-certs.sh): the page and a WebSocket (RFB greeting through the
# bridge) over TLS verified against the generated CA for the name
# "localhost"; no token still gets 403; plain HTTP on the TLS port gets no
# page; a missing certificate is a one-line startup error.
#
#   tests/integration/test_web_tls.sh [VMM] [PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${WEB_TLS_PORT:-6130}}
[ -c /dev/kvm ] || { echo "FATAL: /dev/kvm is missing: cannot run the built-in guest" >&2; exit 1; }
[ -x "$VMM" ] || { echo "FATAL: $VMM is not built" >&2; exit 1; }

tmp=$(mktemp -d)
vmm_pid=
cleanup() {
	if [ -n "$vmm_pid" ]; then
		kill "$vmm_pid" 2>/dev/null || true
		wait "$vmm_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); return 0; }

bash certs/make-certs.sh -o "$tmp/tls" >/dev/null 2>&1 ||
	{ echo "FAIL certs: certs/make-certs.sh failed"; exit 1; }

mkdir "$tmp/empty"
if "$VMM" --demo --vnc none --serial none --web "127.0.0.1:$PORT" --tls-dir "$tmp/empty" \
	2>"$tmp/err0"; then
	fail badcert "started without a certificate"
else
	[ "$(wc -l <"$tmp/err0")" -ge 1 ] && ok "no certificate: $(head -1 "$tmp/err0")" ||
		fail badcert "no message"
fi

"$VMM" --demo --append test=input --vnc none --serial none --web "127.0.0.1:$PORT" \
	--tls-dir "$tmp/tls" 2>"$tmp/err" &
vmm_pid=$!
url=
for _ in $(seq 1 100); do
	url=$(grep -o 'vmm: console: https://[^ ]*' "$tmp/err" | head -1 | cut -d' ' -f3 || true)
	[ -n "$url" ] && break
	kill -0 "$vmm_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$url" ] || { fail start "no https console URL"; cat "$tmp/err"; exit 1; }
ok "console URL is https"
TOKEN=${url##*token=}

if python3 - "$PORT" "$TOKEN" "$tmp/tls/ca-cert.pem" <<'PY'
import base64, os, socket, ssl, sys
port, tok, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
fails = 0
def req(path, extra=""):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                        server_hostname="localhost")
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\n{extra}Connection: close\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            break
        data += d
    return s, data
def check(c, m):
    global fails
    print(("ok " if c else "FAIL ") + m)
    fails += 0 if c else 1
s, d = req(f"/?token={tok}")
check(d.startswith(b"HTTP/1.1 200"), "https page with the token (certificate verified against the CA)")
s.close()
s, d = req("/")
check(d.startswith(b"HTTP/1.1 403"), "https page without a token: 403")
s.close()
key = base64.b64encode(os.urandom(16)).decode()
s, d = req(f"/websockify?token={tok}", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           f"Origin: https://localhost:{port}\r\nSec-WebSocket-Protocol: binary\r\n")
ok101 = d.startswith(b"HTTP/1.1 101")
rest = d.split(b"\r\n\r\n", 1)[1]
while len(rest) < 14:
    rest += s.recv(4096)
check(ok101 and rest[2:14] == b"RFB 003.008\n", "wss upgrade and the RFB greeting over TLS")
s.close()
p = socket.create_connection(("127.0.0.1", port), timeout=5)
p.sendall(f"GET /?token={tok} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
try:
    d = p.recv(4096)
except OSError:
    d = b""
check(b"<html" not in d.lower(), "plain HTTP on the TLS port gets no page")
sys.exit(1 if fails else 0)
PY
then ok "tls checks"; else fail tls "see above"; fi

kill "$vmm_pid"; rc=0; wait "$vmm_pid" || rc=$?; vmm_pid=
[ "$rc" = 0 ] && ok "vmm exited with 0" || fail exit "vmm exited with $rc"
if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err"; then
	fail sanitizer "$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err")"
fi
[ "$fails" = 0 ] && echo "all ok" || echo "$fails failed"
[ "$fails" = 0 ]
