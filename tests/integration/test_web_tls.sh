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
. tests/integration/lib.sh
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${WEB_TLS_PORT:-6130}}
require_kvm
require_exe "$VMM"
make_tmp

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
wait_console https "no https console URL"
ok "console URL is https"

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

kill "$vmm_pid"
expect_clean_exit
finish "all ok"
