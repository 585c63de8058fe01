#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Control-socket client and PNG tools for the display tests (standard
library only: the PNG reader is zlib + the five PNG filters).

  vgactl.py request SOCK JSON...         send requests, print the replies
  vgactl.py dump SOCK PNG                screendump to PNG
  vgactl.py compare A.png B.png...       exit 0 if A equals one of B... (pixels)
  vgactl.py size PNG                     print WxH
  vgactl.py pixel PNG X Y                print the pixel as rrggbb
  vgactl.py crop IN.png OUT.png X Y W H SCALE   (for looking at details)
  vgactl.py watch-mode SOCK FIFO DBG W H     'm' -> a surface event of WxH
  vgactl.py watch-idle SOCK SECONDS          no damage in the window
  vgactl.py watch-pixel SOCK FIFO DBG X Y MAXSIDE
                                         'p' -> damage covering (X,Y), every
                                         rectangle smaller than MAXSIDE
  vgactl.py watch-hold SOCK SECONDS      stay attached; print event counts

FIFO is the vmm's serial input (--serial stdio < FIFO), DBG its --debugcon
file. Every wait has a deadline (TIMEOUT seconds, default 30); the watch
commands synchronise with a screendump + status round trip: the screendump
refreshes the display, and the server writes a watcher's queued events
before answering its next request.
"""
import json
import os
import socket
import struct
import sys
import time
import zlib

TIMEOUT = float(os.environ.get("TIMEOUT", "30"))


def die(msg):
    print("vgactl: " + msg, file=sys.stderr)
    sys.exit(1)


# --- PNG ---------------------------------------------------------------------

def png_read(path):
    """-> (width, height, rows of RGB bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        die(f"{path}: not a PNG")
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        elif typ == b"IEND":
            break
    if not hdr:
        die(f"{path}: no IHDR")
    w, h, depth, ctype, _, _, interlace = hdr
    chans = {2: 3, 6: 4, 0: 1, 4: 2}.get(ctype)
    if depth != 8 or chans is None or interlace:
        die(f"{path}: only 8-bit non-interlaced grey/RGB(A) PNGs are read")
    raw = zlib.decompress(b"".join(idat))
    bpp, stride = chans, w * chans
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ft == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ft == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif ft == 3:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((a + prev[i]) >> 1)) & 255
        elif ft == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        elif ft != 0:
            die(f"{path}: bad filter {ft}")
        prev = line
        if chans == 3:
            rgb = bytes(line)
        else:
            rgb = bytearray()
            for x in range(w):
                px = line[x * chans:(x + 1) * chans]
                if chans <= 2:
                    rgb += bytes([px[0]] * 3)
                else:
                    rgb += px[:3]
            rgb = bytes(rgb)
        rows.append(rgb)
    return w, h, rows


def png_write(path, w, h, rows):
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + \
            struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    raw = b"".join(b"\0" + r for r in rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" +
                chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def png_diff(a, b):
    """-> None if equal, else a description."""
    (aw, ah, ar), (bw, bh, br) = a, b
    if (aw, ah) != (bw, bh):
        return f"size {aw}x{ah} != {bw}x{bh}"
    n, first = 0, None
    for y in range(ah):
        if ar[y] != br[y]:
            for x in range(aw):
                if ar[y][3 * x:3 * x + 3] != br[y][3 * x:3 * x + 3]:
                    n += 1
                    first = first or (x, y)
    return None if n == 0 else f"{n} pixels differ, first at {first}"


# --- the control socket --------------------------------------------------------

class Control:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.buf = b""
        self.events = []

    def line(self, deadline=None):
        while b"\n" not in self.buf:
            left = (deadline or time.monotonic() + TIMEOUT) - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                die("the vmm closed the control connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, obj):
        """Send, return the reply; events seen before it go to self.events."""
        self.sock.sendall((json.dumps(obj) + "\n").encode())
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.line(deadline)
            if msg is None:
                die(f"no reply to {obj}")
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def next_event(self, deadline):
        if self.events:
            return self.events.pop(0)
        msg = self.line(deadline)
        if msg is not None and "event" not in msg:
            die(f"unexpected reply {msg}")
        return msg

    def sync(self, dump_path):
        """Refresh now; return the events that happened before."""
        r = self.request({"cmd": "screendump", "path": dump_path})
        if not r.get("ok"):
            die(f"screendump: {r}")
        self.request({"cmd": "status"})
        ev, self.events = self.events, []
        return ev

    def watch(self):
        r = self.request({"cmd": "watch"})
        if not r.get("ok"):
            die(f"watch: {r}")


def wait_line(path, prefix, start_size=0):
    """Wait until the file has a line starting with prefix after start_size."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                f.seek(start_size)
                text = f.read().decode(errors="replace")
            # Complete lines only: the guest may be mid-line right now.
            for ln in text[:text.rfind("\n") + 1].splitlines():
                if ln.startswith(prefix):
                    return ln
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    die(f"no '{prefix}' line in {path} within {TIMEOUT} s")


def serial_send(fifo, data):
    fd = os.open(fifo, os.O_WRONLY)
    os.write(fd, data.encode())
    os.close(fd)


def tmp_dump(sock):
    return os.path.join(os.path.dirname(os.path.abspath(sock)), "sync.png")


# --- commands ------------------------------------------------------------------------

def cmd_request(sock, *reqs):
    c = Control(sock)
    for r in reqs:
        print(json.dumps(c.request(json.loads(r))))


def cmd_dump(sock, path):
    r = Control(sock).request({"cmd": "screendump", "path": os.path.abspath(path)})
    if not r.get("ok"):
        die(f"screendump: {r}")


def cmd_compare(a, *goldens):
    img = png_read(a)
    why = []
    for g in goldens:
        d = png_diff(img, png_read(g))
        if d is None:
            print(f"{a} equals {g}")
            return
        why.append(f"{g}: {d}")
    die(f"{a} matches no golden image: " + "; ".join(why))


def cmd_size(path):
    w, h, _ = png_read(path)
    print(f"{w}x{h}")


def cmd_pixel(path, x, y):
    _, _, rows = png_read(path)
    x, y = int(x), int(y)
    print(rows[y][3 * x:3 * x + 3].hex())


def cmd_crop(src, dst, x, y, w, h, scale):
    x, y, w, h, s = int(x), int(y), int(w), int(h), int(scale)
    _, _, rows = png_read(src)
    out = []
    for yy in range(y, y + h):
        r = b"".join(rows[yy][3 * xx:3 * xx + 3] * s for xx in range(x, x + w))
        out += [r] * s
    png_write(dst, w * s, h * s, out)


def cmd_watch_mode(sock, fifo, dbg, w, h):
    c = Control(sock)
    c.watch()
    c.sync(tmp_dump(sock))
    serial_send(fifo, "m")
    deadline = time.monotonic() + TIMEOUT
    seen = []
    while True:
        ev = c.next_event(deadline)
        if ev is None:
            die(f"no surface event {w}x{h}; surface events seen: {seen}")
        if ev["event"] == "surface":
            seen.append((ev["width"], ev["height"]))
            if (ev["width"], ev["height"]) == (int(w), int(h)):
                print(f"surface event {w}x{h}")
                break
    wait_line(dbg, f"RESULT mode done w={w} h={h}")


def cmd_watch_idle(sock, seconds):
    c = Control(sock)
    c.watch()
    c.sync(tmp_dump(sock))
    deadline = time.monotonic() + float(seconds)
    damage = []
    while True:
        ev = c.next_event(deadline)
        if ev is None:
            break
        if ev["event"] == "damage":
            damage.append(ev)
    if damage:
        die(f"{len(damage)} damage events while idle, first {damage[0]}")
    print(f"no damage in {seconds} s")


def cmd_watch_pixel(sock, fifo, dbg, x, y, maxside):
    x, y, maxside = int(x), int(y), int(maxside)
    c = Control(sock)
    c.watch()
    c.sync(tmp_dump(sock))
    start = os.path.getsize(dbg)
    serial_send(fifo, "p")
    wait_line(dbg, "RESULT pixel done", start)
    damage = [e for e in c.sync(tmp_dump(sock)) if e["event"] == "damage"]
    if not damage:
        die("no damage event after the pixel changed")
    if not any(d["x"] <= x < d["x"] + d["w"] and d["y"] <= y < d["y"] + d["h"]
               for d in damage):
        die(f"no damage covers ({x},{y}): {damage}")
    big = [d for d in damage if d["w"] >= maxside or d["h"] >= maxside]
    if big:
        die(f"damage not smaller than {maxside}x{maxside}: {big}")
    print(f"damage {damage}")


def cmd_watch_hold(sock, seconds):
    c = Control(sock)
    c.watch()
    deadline = time.monotonic() + float(seconds)
    counts = {}
    while True:
        ev = c.next_event(deadline)
        if ev is None:
            break
        counts[ev["event"]] = counts.get(ev["event"], 0) + 1
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none")


COMMANDS = {
    "request": cmd_request, "dump": cmd_dump, "compare": cmd_compare,
    "size": cmd_size, "crop": cmd_crop, "pixel": cmd_pixel, "watch-mode": cmd_watch_mode,
    "watch-idle": cmd_watch_idle, "watch-pixel": cmd_watch_pixel,
    "watch-hold": cmd_watch_hold,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        die("usage: see the top of vgactl.py")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
