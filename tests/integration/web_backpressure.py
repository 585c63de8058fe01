#!/usr/bin/env python3
"""A browser console that stops reading must not make the VMM buffer
(test_web_backpressure.sh).

    web_backpressure.py PORT TOKEN VMM_PID RSS_BOUND_MIB

Against `vmm --demo --append test=vga-anim --web 127.0.0.1:PORT` (every
pixel changes every frame). A reading client streams Raw frames all along.
A second client completes the upgrade and the RFB handshake, asks for
updates (Raw: the most bytes per frame) and never reads again. Sampled
every 100 ms from /proc/VMM_PID/status while it is stalled:

- VmRSS stays within RSS_BOUND_MIB of the baseline taken with the reader
  streaming before the stall (test_web_backpressure.sh says why that bound);
- the reader keeps getting frames: no gap between two of its frames (or
  the stall's start and end) over 2 s (machines running other work make
  single slow frames; a reader held up by the stalled client waits 5 s);
- the VMM drops the stalled client: the VMM process stops holding the
  server side of its TCP connection within 20 s (libvncserver gives up a
  client that takes nothing for 5 s; the bridge then closes the WebSocket);
- reading the stalled socket afterwards reaches the end of the stream: what
  was queued (in kernel socket buffers, not in the VMM) is printed.
"""
import glob
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
import wsrfb  # noqa: E402

PORT, TOKEN, PID, BOUND_MIB = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
fails = 0


def check(cond, msg):
    global fails
    print(("ok " if cond else "FAIL ") + msg, flush=True)
    fails += 0 if cond else 1


def rss_kib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def server_holds(client_port):
    """Whether the VMM still has an fd on the server side of the TCP
    connection whose client end is 127.0.0.1:client_port."""
    inodes = set()
    for tab in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(tab) as f:
            next(f)
            for line in f:
                fl = line.split()
                lport = int(fl[1].rsplit(":", 1)[1], 16)
                rport = int(fl[2].rsplit(":", 1)[1], 16)
                if lport == PORT and rport == client_port and fl[9] != "0":
                    inodes.add(f"socket:[{fl[9]}]")
    if not inodes:
        return False
    for fd in glob.glob(f"/proc/{PID}/fd/*"):
        try:
            if os.readlink(fd) in inodes:
                return True
        except OSError:
            pass
    return False


class Reader(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.c = wsrfb.WsRfb(PORT, TOKEN)
        self.c.handshake()
        self.times = []
        self.error = None
        self.stop = False

    def run(self):
        try:
            self.c.request(False)
            while not self.stop:
                if self.c.read_update():
                    self.times.append(time.monotonic())
                    self.c.request(True)
        except Exception as e:      # reported by the main thread
            self.error = e


reader = Reader()
reader.start()
# Warm up: the reader streams for a second (frames arriving is the event).
deadline = time.monotonic() + 20
while len(reader.times) < 10 or reader.times[-1] - reader.times[0] < 1.0:
    if reader.error or time.monotonic() > deadline:
        print(f"FAIL the reading client gets no frames: {reader.error}")
        sys.exit(1)
    time.sleep(0.05)
print(f"ok the reader streams {reader.c.width}x{reader.c.height} Raw frames "
      f"({len(reader.times)} so far)", flush=True)
base = max(rss_kib() for _ in range(5))

stalled = wsrfb.WsRfb(PORT, TOKEN)
stalled.handshake()
stall_port = stalled.local_port
# Ask for the whole screen, then incremental updates for a second, as
# noVNC does after each frame; then nothing: the socket is never read.
stalled.request(False)
t_stall = time.monotonic()
for _ in range(50):
    stalled.sock.setblocking(False)
    try:
        stalled.request(True)
    except BlockingIOError:
        break
    time.sleep(0.02)
check(server_holds(stall_port), "the stalled client is connected (the VMM holds its socket)")

peak, dropped_at, samples = base, None, 0
frames_at_stall = len(reader.times)
per_second = []
deadline = t_stall + 20
while time.monotonic() < deadline:
    time.sleep(0.1)
    samples += 1
    peak = max(peak, rss_kib())
    if reader.error:
        break
    if dropped_at is None and not server_holds(stall_port):
        dropped_at = time.monotonic()
        break
t_end = time.monotonic()

check(reader.error is None, f"the reader is still connected ({reader.error})")
during = [t for t in reader.times if t_stall <= t <= t_end]
gaps = [b - a for a, b in zip([t_stall] + during, during + [t_end])]
secs = int(t_end - t_stall)
per_second = [sum(1 for t in during if t_stall + i <= t < t_stall + i + 1) for i in range(secs)]
check(during and max(gaps) < 2.0,
      f"the reader kept getting frames during the stall: {len(during)} in {t_end - t_stall:.1f} s, "
      f"per second {per_second}, longest gap {max(gaps) * 1000:.0f} ms")
grow = (peak - base) / 1024
check(grow <= BOUND_MIB,
      f"VMM RSS while stalled: baseline {base / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB "
      f"(+{grow:.1f} MiB, bound {BOUND_MIB:g} MiB; {samples} samples)")
check(dropped_at is not None,
      "the VMM dropped the stalled client" +
      (f" {dropped_at - t_stall:.1f} s after it stopped reading" if dropped_at else
       f": still connected after {t_end - t_stall:.0f} s"))

if dropped_at is not None:
    # What the stalled socket still has queued, then the end of the stream.
    stalled.sock.setblocking(True)
    closed = wsrfb.wait_closed(stalled, time.monotonic() + 20)
    check(closed is not None,
          f"the stalled socket reaches its end after {stalled.raw_bytes / 1048576:.1f} MiB that were "
          f"queued in socket buffers ({closed})")
stalled.close()

# The VMM still serves.
n = len(reader.times)
deadline = time.monotonic() + 10
while len(reader.times) < n + 5 and not reader.error and time.monotonic() < deadline:
    time.sleep(0.05)
check(len(reader.times) >= n + 5, "the reader still gets frames after the drop")
reader.stop = True
reader.c.close()
sys.exit(1 if fails else 0)
