#!/usr/bin/env python3
"""Hostile and ordinary HTTP/WebSocket clients against `vmm --web`.

    web_probe.py PORT GOOD_TOKEN VIEW_TOKEN EXPIRED_TOKEN ALLOWED_ORIGIN

Checks the token gate (page, session API and upgrade: 403 without a valid
token, expired tokens refused), the Origin check, static file safety (no
traversal, no listing, MIME types), and that malformed HTTP and WebSocket
input (garbage, oversized headers, bad upgrades, unmasked, oversized and
text frames, garbage after the handshake) closes only that connection
while a good client is served after each. Prints "ok ..." / "FAIL ..."
lines; exits non-zero on any failure.
"""
import base64
import os
import socket
import struct
import sys
import time

HOST = "127.0.0.1"
PORT = int(sys.argv[1])
GOOD, VIEW, EXPIRED, ALLOWED_ORIGIN = sys.argv[2:6]
fails = 0


def ok(msg):
    print("ok", msg)


def fail(msg):
    global fails
    fails += 1
    print("FAIL", msg)


def check(cond, msg):
    (ok if cond else fail)(msg)


def conn(timeout=5.0):
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_headers(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def status_of(head):
    try:
        return int(head.split(" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def http_get(path, headers=None):
    s = conn()
    req = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nConnection: close\r\n"
    for k, v in (headers or {}).items():
        req += f"{k}: {v}\r\n"
    s.sendall((req + "\r\n").encode())
    head, rest = recv_headers(s)
    body = rest
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    except socket.timeout:
        pass
    s.close()
    return status_of(head), head, body


def ws_handshake(token, origin="default", path="/websockify", proto="binary",
                 key=True):
    s = conn()
    req = f"GET {path}?token={token} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n"
    req += "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    if key:
        req += "Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode() + "\r\n"
    req += "Sec-WebSocket-Version: 13\r\n"
    if proto:
        req += f"Sec-WebSocket-Protocol: {proto}\r\n"
    if origin == "default":
        origin = f"http://{HOST}:{PORT}"
    if origin:
        req += f"Origin: {origin}\r\n"
    s.sendall((req + "\r\n").encode())
    head, rest = recv_headers(s)
    return s, status_of(head), head, rest


def frame(payload, opcode=2, masked=True, length=None):
    n = len(payload) if length is None else length
    hdr = bytes([0x80 | opcode])
    mbit = 0x80 if masked else 0
    if n < 126:
        hdr += bytes([mbit | n])
    elif n < 65536:
        hdr += bytes([mbit | 126]) + struct.pack(">H", n)
    else:
        hdr += bytes([mbit | 127]) + struct.pack(">Q", n)
    if masked:
        mask = os.urandom(4)
        hdr += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return hdr + payload


def read_ws_payload(s, rest, want):
    """Read binary frames (server frames are unmasked) until want bytes."""
    buf, out = rest, b""
    deadline = time.time() + 5
    while len(out) < want and time.time() < deadline:
        while len(buf) < 2:
            buf += s.recv(4096)
        n = buf[1] & 0x7F
        off = 2
        if n == 126:
            while len(buf) < 4:
                buf += s.recv(4096)
            n = struct.unpack(">H", buf[2:4])[0]
            off = 4
        elif n == 127:
            while len(buf) < 10:
                buf += s.recv(4096)
            n = struct.unpack(">Q", buf[2:10])[0]
            off = 10
        while len(buf) < off + n:
            buf += s.recv(65536)
        if buf[0] & 0x0F == 8:
            break
        out += buf[off:off + n]
        buf = buf[off + n:]
    return out


def closed(s, timeout=5.0):
    """True when the server closes (EOF, reset, or a close frame)."""
    s.settimeout(timeout)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            d = s.recv(65536)
            if not d:
                return True
            # A close frame from the server (opcode 8) counts too; keep
            # reading until EOF follows it.
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def good_client_works(what):
    """A full RFB greeting through a fresh WebSocket: the server is fine."""
    try:
        s, st, head, rest = ws_handshake(GOOD)
        if st != 101:
            fail(f"after {what}: good upgrade got {st}")
            return
        ver = read_ws_payload(s, rest, 12)
        s.close()
        check(ver.startswith(b"RFB 003."), f"after {what}: a good client gets the RFB greeting")
    except OSError as e:
        fail(f"after {what}: good client: {e}")


# --- the token gate ----------------------------------------------------------
st, head, body = http_get(f"/?token={GOOD}")
check(st == 200 and b"<html" in body.lower(), f"page with the token: {st}")
check("no-store" in head.lower() and "no-referrer" in head.lower(),
      "page: Cache-Control no-store, Referrer-Policy no-referrer")
for name, tok in (("missing", None), ("wrong", "A" * 32), ("short", "abc"),
                  ("expired", EXPIRED)):
    path = "/" if tok is None else f"/?token={tok}"
    st, _, body = http_get(path)
    check(st == 403, f"page, {name} token: {st} (want 403)")
    st, _, _ = http_get("/index.html" + path[1:])
    check(st == 403, f"/index.html, {name} token: {st} (want 403)")
st, _, body = http_get(f"/?token={VIEW}")
check(st == 200, f"page with a view-only token: {st}")
st, _, body = http_get(f"/api/session?token={VIEW}")
check(st == 200 and b'"viewOnly":true' in body, f"session API, view-only: {st} {body[:60]!r}")
st, _, body = http_get(f"/api/session?token={GOOD}")
check(st == 200 and b'"viewOnly":false' in body, f"session API, full: {st}")
st, _, _ = http_get("/api/session")
check(st == 403, f"session API without a token: {st}")

for name, tok in (("missing", ""), ("wrong", "B" * 32), ("expired", EXPIRED)):
    s, st, _, _ = ws_handshake(tok)
    s.close()
    check(st == 403, f"upgrade, {name} token: {st} (want 403)")
s, st, _, _ = ws_handshake(GOOD, origin="http://evil.example")
s.close()
check(st == 403, f"upgrade from a foreign Origin: {st} (want 403)")
s, st, _, _ = ws_handshake(GOOD, origin=f"http://localhost:{PORT}")
s.close()
check(st == 403, f"upgrade, Origin host differs from Host: {st} (want 403)")
s, st, _, rest = ws_handshake(GOOD, origin=ALLOWED_ORIGIN)
check(st == 101, f"upgrade from the allowed --web-origin: {st}")
s.close()
s, st, _, _ = ws_handshake(GOOD, origin=None)
check(st == 101, f"upgrade without Origin (not a browser), good token: {st}")
s.close()
s, st, head, rest = ws_handshake(GOOD)
check(st == 101 and "binary" in head, f"upgrade with the token: {st}, subprotocol binary")
check(read_ws_payload(s, rest, 12) == b"RFB 003.008\n", "the bridge delivers the RFB greeting")
s.close()

# --- static files --------------------------------------------------------------
st, head, body = http_get("/console.js")
check(st == 200 and "text/javascript" in head, f"/console.js: {st}, JavaScript MIME type")
st, head, _ = http_get("/console.css")
check(st == 200 and "text/css" in head, f"/console.css: {st}, CSS MIME type")
st, head, _ = http_get("/novnc/core/rfb.js")
check(st == 200 and "nosniff" in head.lower(), f"noVNC's rfb.js: {st}, nosniff")
for p in ("/../../../etc/passwd", "/novnc/../../../../etc/passwd",
          "/%2e%2e/%2e%2e/etc/passwd", "/novnc/", "/novnc", "/.hidden",
          "/novnc/core/", "/nonexistent.js", "/etc/passwd"):
    st, _, body = http_get(p)
    check(st in (400, 403, 404) and b"root:" not in body, f"GET {p}: {st}")
s = conn()
s.sendall(f"POST /?token={GOOD} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc".encode())
head, _ = recv_headers(s)
s.close()
check(status_of(head) in (0, 400, 405), f"POST: {status_of(head)} (refused)")

# --- malformed input: that connection only -------------------------------------
cases = [
    ("garbage request", b"\x16\x03\x01\x00\xff" + os.urandom(300) + b"\r\n\r\n"),
    ("bad request line", b"GARBAGE GARBAGE GARBAGE\r\n\r\n"),
    ("oversized headers", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"),
    ("bad upgrade (no key)", None),
    ("bad upgrade (version 8)", f"GET /websockify?token={GOOD} HTTP/1.1\r\nHost: x\r\n"
     f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: xx\r\n"
     f"Sec-WebSocket-Version: 8\r\nSec-WebSocket-Protocol: binary\r\n\r\n".encode()),
]
for name, data in cases:
    try:
        if data is None:
            s, st, _, _ = ws_handshake(GOOD, key=False)
            check(st in (0, 400), f"{name}: refused ({st})")
            s.close()
        elif name.startswith("bad upgrade"):
            s = conn()
            s.sendall(data)
            head, _ = recv_headers(s)
            check(status_of(head) in (0, 400), f"{name}: refused ({status_of(head)})")
            s.close()
        else:
            s = conn()
            s.sendall(data)
            check(closed(s), f"{name}: connection closed")
            s.close()
    except OSError as e:
        ok(f"{name}: connection dropped ({e.__class__.__name__})")
    good_client_works(name)

ws_cases = [
    ("unmasked frame", frame(b"\x00" * 20, masked=False)),
    ("oversized frame header (2^40 bytes)", frame(b"\x00" * 1000, length=1 << 40)[:2 + 8 + 4] + os.urandom(4000)),
    ("oversized message (2 MiB)", frame(os.urandom(2 << 20))),
    ("text frame", frame(b"hello", opcode=1)),
    ("garbage after the handshake", os.urandom(4096)),
    ("reserved opcode", frame(b"x", opcode=3)),
]
for name, data in ws_cases:
    try:
        s, st, _, rest = ws_handshake(GOOD)
        if st != 101:
            fail(f"{name}: upgrade got {st}")
            continue
        try:
            s.sendall(data)
        except OSError:
            pass
        check(closed(s, 10), f"{name}: connection closed")
        s.close()
    except OSError as e:
        ok(f"{name}: connection dropped ({e.__class__.__name__})")
    good_client_works(name)

# A client that stalls mid-request holds no one else up.
stall = conn()
stall.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
st, _, _ = http_get(f"/?token={GOOD}")
check(st == 200, "a stalled half request does not block others")
good_client_works("a stalled client")
stall.close()

print(f"web_probe: {fails} failed")
sys.exit(1 if fails else 0)
