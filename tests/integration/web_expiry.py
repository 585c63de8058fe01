#!/usr/bin/env python3
"""A token that expires while its console is open (test_web_expiry.sh).

    web_expiry.py PORT SHORT_TOKEN EXPIRES LONG_TOKEN

SHORT_TOKEN expires at EXPIRES (unix seconds, a few seconds ahead);
LONG_TOKEN does not expire. Both connect before the expiry and get a frame.
Then, waiting for the event with a deadline (no blind sleep): the short
one's connection is closed by the server with 1008 "token expired", not
before EXPIRES and within 3 s after it; the long one still gets frames
afterwards; a new upgrade with the expired token gets 403.
"""
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
import wsrfb  # noqa: E402

PORT, SHORT, EXPIRES, LONG = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
fails = 0


def check(cond, msg):
    global fails
    print(("ok " if cond else "FAIL ") + msg)
    fails += 0 if cond else 1


short = wsrfb.WsRfb(PORT, SHORT)
short.handshake()
short.next_frame()
check(time.time() < EXPIRES,
      f"connected with the short token {EXPIRES - time.time():.1f} s before it expires "
      f"({short.width}x{short.height}, got a frame)")
long_ = wsrfb.WsRfb(PORT, LONG)
long_.handshake()
long_.next_frame()

# Keep asking for updates on the short connection, as a viewer would, and
# wait for the close: it must come after EXPIRES, and soon.
short.request(True)
closed = wsrfb.wait_closed(short, time.monotonic() + (EXPIRES - time.time()) + 3.0)
t = time.time()
if closed is None:
    check(False, f"the expired token's connection is still open {t - EXPIRES:.1f} s after expiry")
else:
    check(t >= EXPIRES, f"closed {t - EXPIRES:+.2f} s after the expiry (not before it)")
    check(closed.code == 1008 and closed.reason == b"token expired",
          f"close frame 1008 'token expired' (got {closed.code} {closed.reason!r})")
short.close()

# The other connection is not affected.
try:
    long_.sock.settimeout(5)
    before = long_.frames
    long_.request(False)
    while long_.frames == before:
        long_.read_update()
    check(True, "the non-expiring token's connection still gets frames")
except (wsrfb.Closed, OSError) as e:
    check(False, f"the non-expiring connection broke: {e}")
long_.close()

try:
    wsrfb.WsRfb(PORT, SHORT)
    check(False, "an upgrade with the expired token was accepted")
except wsrfb.Closed as e:
    check(e.code == 403, f"a new upgrade with the expired token: {e.code} (want 403)")

sys.exit(1 if fails else 0)
