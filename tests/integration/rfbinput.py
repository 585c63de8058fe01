#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A minimal RFB 3.8 viewer (standard library only) that sends input
events, for tests that check what the guest received:

  rfbinput.py HOST PORT EVENT...

EVENT is one of
  ptr:X,Y[,MASK]     PointerEvent at (X, Y), button mask (default 0)
  key:KEYSYM         KeyEvent press then release (KEYSYM decimal or 0x hex)
  down:KEYSYM        KeyEvent press only
  up:KEYSYM          KeyEvent release only
  sleep:SECONDS      pause between events (only to pace a demo, never to
                     synchronise: the tests wait for the guest's lines)

Security type None only (the test VMMs have no password). Prints the
server's framebuffer size as "size WxH" after the handshake; exits non-zero
with a one-line reason on any protocol error.
"""
import socket
import struct
import sys
import time


def die(msg):
    print("rfbinput: " + msg, file=sys.stderr)
    sys.exit(1)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            die("server closed the connection")
        buf += d
    return buf


def handshake(s):
    ver = recv_exact(s, 12)
    if not ver.startswith(b"RFB 003."):
        die(f"not an RFB server: {ver!r}")
    s.sendall(b"RFB 003.008\n")
    n = recv_exact(s, 1)[0]
    if n == 0:
        ln = struct.unpack(">I", recv_exact(s, 4))[0]
        die("server refused: " + recv_exact(s, ln).decode(errors="replace"))
    types = recv_exact(s, n)
    if 1 not in types:
        die(f"no 'None' security type offered: {list(types)}")
    s.sendall(b"\x01")
    if struct.unpack(">I", recv_exact(s, 4))[0] != 0:
        die("security handshake failed")
    s.sendall(b"\x01")                       # ClientInit: shared
    w, h = struct.unpack(">HH", recv_exact(s, 4))
    recv_exact(s, 16)                        # pixel format
    ln = struct.unpack(">I", recv_exact(s, 4))[0]
    recv_exact(s, ln)                        # name
    return w, h


def main():
    if len(sys.argv) < 3:
        die("usage: rfbinput.py HOST PORT EVENT...")
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
    w, h = handshake(s)
    print(f"size {w}x{h}", flush=True)
    for ev in sys.argv[3:]:
        kind, _, arg = ev.partition(":")
        if kind == "ptr":
            v = [int(a, 0) for a in arg.split(",")]
            mask = v[2] if len(v) > 2 else 0
            s.sendall(struct.pack(">BBHH", 5, mask, v[0], v[1]))
        elif kind in ("key", "down", "up"):
            sym = int(arg, 0)
            if kind in ("key", "down"):
                s.sendall(struct.pack(">BBHI", 4, 1, 0, sym))
            if kind in ("key", "up"):
                s.sendall(struct.pack(">BBHI", 4, 0, 0, sym))
        elif kind == "sleep":
            time.sleep(float(arg))
        else:
            die(f"unknown event '{ev}'")
    # Let the server read everything before the connection goes.
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        pass
    s.close()


if __name__ == "__main__":
    main()
