#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Does an X screen (an Xvfb -fbdir XWD file) show a console screendump?

    compare_xwd.py DUMP.png SCREEN.xwd

Both must have the same size (the viewer runs full screen on an X screen of
the console's size). Only the pixels that differ from the dump's most common
colour (the background) count, so a blank screen never passes a mostly
black console. Prints the figures; exit 0 when at least 80 % of at least
200 such pixels are equal (the guest's cursor and animation change a few
between the two captures), else 1.
"""
import struct, sys, zlib

def read_png(path):
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(d):
        n, t = struct.unpack_from(">I4s", d, pos)
        body = d[pos + 8:pos + 8 + n]
        if t == b"IHDR":
            w, h, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and not inter, "unsupported PNG"
            bpp = 3 if ctype == 2 else 4
        elif t == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, [[tuple(r[x * bpp:x * bpp + 3]) for x in range(w)] for r in rows]

def read_xwd(path):
    d = open(path, "rb").read()
    hdr = struct.unpack_from(">25I", d, 0)
    hsize, w, h, bpl, ncolors = hdr[0], hdr[4], hdr[5], hdr[12], hdr[19]
    bpp = hdr[11]
    off = hsize + ncolors * 12
    assert bpp == 32, f"XWD with {bpp} bits per pixel"
    px = []
    for y in range(h):
        row = d[off + y * bpl:off + y * bpl + w * 4]
        px.append([(row[x*4+2], row[x*4+1], row[x*4]) for x in range(w)])
    return w, h, px

gw, gh, g = read_png(sys.argv[1])
xw, xh, x = read_xwd(sys.argv[2])
if (gw, gh) != (xw, xh):
    sys.exit(f"sizes differ: guest {gw}x{gh}, X screen {xw}x{xh}")
# Only pixels that differ from the guest's background colour count: a blank
# (black) X screen must not pass because the console is mostly black.
from collections import Counter
bg = Counter(p for row in g for p in row).most_common(1)[0][0]
fg = [(yy, xx) for yy in range(gh) for xx in range(gw) if g[yy][xx] != bg]
same = sum(1 for yy, xx in fg if g[yy][xx] == x[yy][xx])
ratio = same / len(fg) if fg else 0.0
print(f"foreground_pixels={len(fg)} matching={ratio:.4f}")
sys.exit(0 if len(fg) >= 200 and ratio >= 0.8 else 1)
