#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks for the built-in guest's virtio modes (test_virtio_builtin.sh),
on top of vgactl.py (control socket, PNG) and rfbinput.py (a VNC viewer):

  virtioctl.py watch-rects SOCK FIFO DBG
      'r' on serial: the guest transfers and flushes the rectangles it
      prints on "RESULT rects done X,Y,W,H ..."; the watcher must get
      exactly those damage rectangles, in that order, nothing else
  virtioctl.py watch-pixel SOCK FIFO DBG X Y
      'p': exactly one damage rectangle, X,Y,1,1
  virtioctl.py vnc-tablet HOST PORT DBG
      pointer events from a VNC viewer; each must reach the guest's
      virtio tablet as "TABLET x y dz dw buttons" with x, y the pixel
      scaled to 0..32767 end to end (rounded to nearest)
  virtioctl.py vnc-keys HOST PORT DBG
      key events from a VNC viewer; each must reach the guest's virtio
      keyboard as the Linux key codes ("VKEY code value ['c']")

Every wait has a deadline (TIMEOUT seconds, default 30). The expected
values are written out here from the specifications (Linux
input-event-codes.h, the RFB button mask), not taken from the vmm.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rfbinput  # noqa: E402
import vgactl  # noqa: E402

TIMEOUT = vgactl.TIMEOUT
ABS_MAX = 32767


def die(msg):
    print("virtioctl: " + msg, file=sys.stderr)
    sys.exit(1)


def new_lines(path, start, prefixes, count):
    """Wait for count lines starting with one of prefixes after offset
    start; returns them (fewer if the deadline passes)."""
    deadline = time.monotonic() + TIMEOUT
    got = []
    while time.monotonic() < deadline:
        with open(path, "rb") as f:
            f.seek(start)
            text = f.read().decode(errors="replace")
        # Complete lines only: the guest may be mid-line right now.
        text = text[:text.rfind("\n") + 1]
        got = [ln for ln in text.splitlines() if ln.startswith(prefixes)]
        if len(got) >= count:
            return got
        time.sleep(0.02)
    return got


def damage_after(c, sock, fifo, dbg, key, prefix):
    c.watch()
    c.sync(vgactl.tmp_dump(sock))
    start = os.path.getsize(dbg)
    vgactl.serial_send(fifo, key)
    line = vgactl.wait_line(dbg, prefix, start)
    return line, [e for e in c.sync(vgactl.tmp_dump(sock)) if e["event"] != "surface"]


def as_rect(e):
    return (e["x"], e["y"], e["w"], e["h"]) if e["event"] == "damage" else e


def cmd_watch_rects(sock, fifo, dbg):
    c = vgactl.Control(sock)
    line, events = damage_after(c, sock, fifo, dbg, "r", "RESULT rects done")
    want = [tuple(int(v) for v in r.split(",")) for r in line.split()[3:]]
    if not want:
        die(f"no rectangles in '{line}'")
    got = [as_rect(e) for e in events]
    if got != want:
        die(f"flushed {want}, damage events {got}")
    print(f"damage {got} = flushed rectangles")


def cmd_watch_pixel(sock, fifo, dbg, x, y):
    c = vgactl.Control(sock)
    _, events = damage_after(c, sock, fifo, dbg, "p", "RESULT pixel done")
    got = [as_rect(e) for e in events]
    want = [(int(x), int(y), 1, 1)]
    if got != want:
        die(f"one pixel flushed at ({x},{y}), damage events {got}")
    print(f"damage {got}")


def scale(p, size):
    """A pixel to the tablet range, ends to ends, rounded to nearest."""
    return (p * ABS_MAX + (size - 1) // 2) // (size - 1)


def connect(host, port):
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    w, h = rfbinput.handshake(s)
    return s, w, h


def send_ptr(s, x, y, mask):
    s.sendall(bytes([5, mask]) + x.to_bytes(2, "big") + y.to_bytes(2, "big"))


def send_key(s, down, sym):
    s.sendall(bytes([4, 1 if down else 0, 0, 0]) + sym.to_bytes(4, "big"))


def cmd_vnc_tablet(host, port, dbg):
    s, w, h = connect(host, port)
    # (x, y, RFB mask, expected dz, expected guest buttons): positions
    # inside and at both ends, left/middle/right (RFB bits 0, 1, 2; guest
    # bits left 0, right 1, middle 2), a wheel step (RFB button 4 = up:
    # dz +1) and coordinates beyond the framebuffer (clamped).
    cases = [
        (100, 200, 0, 0, 0), (0, 0, 0, 0, 0), (w - 1, h - 1, 0, 0, 0),
        (w // 2, h // 3, 1, 0, 1), (w // 2, h // 3, 0, 0, 0),
        (17, 29, 2, 0, 4), (17, 29, 4, 0, 2), (17, 29, 0, 0, 0),
        (300, 301, 8, 1, 0), (300, 301, 0, None, 0),
        (w + 500, h + 500, 0, 0, 0),
    ]
    fails = 0
    for x, y, mask, dz, buttons in cases:
        start = os.path.getsize(dbg)
        send_ptr(s, x, y, mask)
        if dz is None:
            # Releasing a wheel button changes nothing the tablet reports.
            continue
        cx, cy = min(x, w - 1), min(y, h - 1)
        want = f"TABLET {scale(cx, w)} {scale(cy, h)} {dz} 0 {buttons}"
        got = new_lines(dbg, start, ("TABLET",), 1)
        if got[:1] != [want]:
            print(f"FAIL pointer ({x},{y}) mask {mask}: want '{want}', got {got}")
            fails += 1
        else:
            print(f"ok pointer ({x},{y}) mask {mask} -> {want}")
    s.close()
    if fails:
        die(f"{fails} pointer case(s) failed ({w}x{h} framebuffer)")


# keysym, Linux key code, character reported for the press (None: none).
KEYS = [
    (0x61, 30, "a"), (0x7a, 44, "z"), (0x31, 2, "1"), (0x20, 57, " "),
    (0x2f, 53, "/"), (0xff0d, 28, None), (0xff1b, 1, None),
    (0xff52, 103, None), (0xff51, 105, None), (0xff50, 102, None),
    (0xffff, 111, None), (0xffbe, 59, None), (0xffe3, 29, None),
    (0xffe4, 97, None), (0xffe9, 56, None), (0xffea, 100, None),
]
XK_SHIFT_L, KEY_LEFTSHIFT = 0xffe1, 42


def vkey(code, value, ch):
    return f"VKEY {code} {value}" + (f" '{ch}'" if ch and value == 1 else "")


def expect_keys(dbg, start, want, what):
    got = new_lines(dbg, start, ("VKEY",), len(want))
    if got != want:
        print(f"FAIL {what}: want {want}, got {got}")
        return 1
    print(f"ok {what}: {got}")
    return 0


def cmd_vnc_keys(host, port, dbg):
    s, _, _ = connect(host, port)
    fails = 0
    for sym, code, ch in KEYS:
        start = os.path.getsize(dbg)
        send_key(s, True, sym)
        send_key(s, False, sym)
        fails += expect_keys(dbg, start, [vkey(code, 1, ch), vkey(code, 0, ch)],
                             f"keysym 0x{sym:x}")
    # Shift + 1 gives '!': the shift key itself arrives as a key.
    start = os.path.getsize(dbg)
    send_key(s, True, XK_SHIFT_L)
    send_key(s, True, 0x21)
    send_key(s, False, 0x21)
    send_key(s, False, XK_SHIFT_L)
    fails += expect_keys(dbg, start, [vkey(KEY_LEFTSHIFT, 1, None),
                                      vkey(2, 1, "!"), vkey(2, 0, None),
                                      vkey(KEY_LEFTSHIFT, 0, None)], "shift+1")
    s.close()
    if fails:
        die(f"{fails} key case(s) failed")


COMMANDS = {
    "watch-rects": cmd_watch_rects, "watch-pixel": cmd_watch_pixel,
    "vnc-tablet": cmd_vnc_tablet, "vnc-keys": cmd_vnc_keys,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        die("usage: see the top of virtioctl.py")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
