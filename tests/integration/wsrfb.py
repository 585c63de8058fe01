#!/usr/bin/env python3
"""A minimal RFB-over-WebSocket client for tests of `vmm --web`.

It speaks exactly what a browser running noVNC speaks on the wire: an RFC
6455 upgrade to /websockify with the "binary" subprotocol, masked binary
frames from the client, and RFB 3.8 inside (security type None, shared
ClientInit, Raw encoding). Used by test_web_backpressure.sh and
test_web_expiry.sh; not a general library.
"""
import base64
import os
import socket
import struct
import time


class Closed(Exception):
    """The server closed the WebSocket (close frame or EOF)."""

    def __init__(self, code=None, reason=b""):
        super().__init__(f"closed code={code} reason={reason!r}")
        self.code = code
        self.reason = reason


class WsRfb:
    def __init__(self, port, token, host="127.0.0.1", timeout=10.0,
                 origin=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""          # undecoded WebSocket bytes
        self.data = bytearray() # decoded payload bytes (the RFB stream)
        self.raw_bytes = 0      # WebSocket bytes received in total
        self.width = self.height = 0
        self.frames = 0
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET /websockify?token={token} HTTP/1.1\r\n"
               f"Host: {host}:{port}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: binary\r\n")
        if origin:
            req += f"Origin: {origin}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            d = self.sock.recv(4096)
            if not d:
                raise Closed(None, b"EOF during the upgrade")
            head += d
        head, _, self.buf = head.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        if self.status != 101:
            raise Closed(self.status, b"upgrade refused")

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    # --- WebSocket -----------------------------------------------------

    def send(self, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x82, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x82, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x82, 0x80 | 127, n)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + body)

    def _frame(self):
        """Decode one frame from self.buf into self.data; False if the
        buffer holds no complete frame."""
        b = self.buf
        if len(b) < 2:
            return False
        op, ln = b[0] & 0x0F, b[1] & 0x7F
        off = 2
        if ln == 126:
            if len(b) < 4:
                return False
            ln, off = struct.unpack("!H", b[2:4])[0], 4
        elif ln == 127:
            if len(b) < 10:
                return False
            ln, off = struct.unpack("!Q", b[2:10])[0], 10
        if b[1] & 0x80:
            raise Closed(None, b"masked frame from the server")
        if len(b) < off + ln:
            return False
        payload, self.buf = b[off:off + ln], b[off + ln:]
        if op in (0, 2):
            self.data += payload
        elif op == 8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            raise Closed(code, payload[2:])
        elif op == 9:
            pass                # ping: the server sends none; ignore
        elif op != 10:
            raise Closed(None, b"unexpected opcode %d" % op)
        return True

    def _fill(self):
        d = self.sock.recv(262144)
        if not d:
            raise Closed(None, b"EOF")
        self.raw_bytes += len(d)
        self.buf += d
        while self._frame():
            pass

    def read(self, n):
        while self._frame():
            pass
        while len(self.data) < n:
            self._fill()
        out = bytes(self.data[:n])
        del self.data[:n]
        return out

    def skip(self, n):
        """Discard n bytes of the stream (pixel data) without keeping them."""
        while self._frame():
            pass
        while n > 0:
            if not self.data:
                self._fill()
            k = min(n, len(self.data))
            del self.data[:k]
            n -= k

    # --- RFB -------------------------------------------------------------

    def handshake(self):
        ver = self.read(12)
        if not ver.startswith(b"RFB 003."):
            raise Closed(None, b"not RFB: " + ver)
        self.send(b"RFB 003.008\n")
        n = self.read(1)[0]
        if n == 0:
            raise Closed(None, b"security refused")
        types = self.read(n)
        if 1 not in types:
            raise Closed(None, b"no security type None (a password is set)")
        self.send(b"\x01")
        if struct.unpack("!I", self.read(4))[0] != 0:
            raise Closed(None, b"security result not ok")
        self.send(b"\x01")          # shared
        self.width, self.height = struct.unpack("!HH", self.read(4))
        pf = self.read(16)
        self.bpp = pf[0] // 8
        name_len = struct.unpack("!I", self.read(4))[0]
        self.name = self.read(name_len)
        # Raw only: the most bytes per frame, the hardest case for buffers.
        self.send(struct.pack("!BBHi", 2, 0, 1, 0))

    def request(self, incremental=True):
        self.send(struct.pack("!BBHHHH", 3, 1 if incremental else 0, 0, 0,
                              self.width, self.height))

    def read_update(self):
        """Read one server message; returns True for a FramebufferUpdate."""
        t = self.read(1)[0]
        if t == 0:
            self.read(1)
            nrects = struct.unpack("!H", self.read(2))[0]
            for _ in range(nrects):
                x, y, w, h, enc = struct.unpack("!HHHHi", self.read(12))
                if enc == 0:
                    self.skip(w * h * self.bpp)
                elif enc == -223:   # DesktopSize
                    self.width, self.height = w, h
                else:
                    raise Closed(None, b"unexpected encoding %d" % enc)
            self.frames += 1
            return True
        if t == 1:                  # SetColourMapEntries
            _, _, n = struct.unpack("!BHH", self.read(5))
            self.read(6 * n)
        elif t == 2:                # Bell
            pass
        elif t == 3:                # ServerCutText
            self.read(3)
            self.read(struct.unpack("!I", self.read(4))[0])
        else:
            raise Closed(None, b"unexpected message %d" % t)
        return False

    def next_frame(self):
        """Ask for an update and read until one arrives."""
        self.request(True)
        while not self.read_update():
            pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def wait_closed(c, deadline):
    """Read (and discard) until the server closes c; returns the Closed
    exception, or None if the deadline (time.monotonic()) passed first."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        c.sock.settimeout(left)
        try:
            c._fill()
            c.data.clear()
        except Closed as e:
            return e
        except socket.timeout:
            return None
        except ConnectionResetError:
            return Closed(None, b"connection reset")
