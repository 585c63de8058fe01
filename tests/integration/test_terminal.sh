#!/usr/bin/env bash
# The serial console on a real terminal (a pty): raw mode while the VM runs,
# typing reaches the guest, Ctrl-A x quits with status 0, and the terminal
# settings are restored on every exit path (Ctrl-A x, guest exit, guest
# poweroff, SIGTERM).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${VMM:-build/asan/vmm}
require_exe "$VMM"
require_kvm
exec python3 - "$VMM" <<'PY'
import os, pty, select, signal, sys, termios, time

vmm = sys.argv[1]
fails = 0

def run(args, script, name, want_status):
    """Run vmm on a pty; script(fd, read_until) drives it. Checks the exit
    status and that the pty's termios equal what they were before."""
    global fails
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(vmm, [vmm, "--vnc", "none"] + args)
    # The child's side of the pty starts in cooked mode; remember it from
    # our side (same terminal) before the VMM changes it.
    before = None
    out = b""
    def read_until(marker, timeout=20):
        nonlocal out
        end = time.time() + timeout
        while marker not in out and time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return marker in out
    ok = script(fd, read_until)
    attrs_during = termios.tcgetattr(fd)
    # Drain until exit.
    end = time.time() + 20
    status = None
    while time.time() < end:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            status = os.waitstatus_to_exitcode(st)
            break
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                pass
    attrs_after = termios.tcgetattr(fd)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print(f"FAIL {name}: did not exit; output: {out[-500:]!r}")
        fails += 1
    elif not ok:
        print(f"FAIL {name}: script step failed; output: {out[-500:]!r}")
        fails += 1
    elif status != want_status:
        print(f"FAIL {name}: exit status {status}, want {want_status}; output: {out[-500:]!r}")
        fails += 1
    elif attrs_after[3] & termios.ICANON == 0 or attrs_after[3] & termios.ECHO == 0:
        print(f"FAIL {name}: terminal left in raw mode (lflag {attrs_after[3]:#x})")
        fails += 1
    else:
        print(f"ok {name}")
    os.close(fd)
    return attrs_during

def quit_with_ctrl_a_x(fd, read_until):
    if not read_until(b"RESULT ready"):
        return False
    # Raw mode while running: no ICANON, no ECHO, no ISIG.
    a = termios.tcgetattr(fd)
    if a[3] & (termios.ICANON | termios.ECHO | termios.ISIG):
        print("FAIL raw mode: terminal not raw while the VM runs")
        return False
    os.write(fd, b"hi\r")
    if not read_until(b"hi"):
        return False
    os.write(fd, b"\x01x")
    return True

def type_quit(fd, read_until):
    if not read_until(b"RESULT ready"):
        return False
    os.write(fd, b"quit\r")
    return True

def sigterm(fd, read_until):
    if not read_until(b"RESULT ready"):
        return False
    return True

run(["--demo", "--append", "test=serial-echo"], quit_with_ctrl_a_x, "ctrl-a-x quits", 0)
run(["--demo", "--append", "test=serial-echo"], type_quit, "guest exit restores terminal", 0)
run(["--demo", "--append", "test=poweroff"], lambda fd, r: True, "guest poweroff restores terminal", 0)

# SIGTERM: the VMM stops the VM and exits 0, terminal restored.
pid, fd = pty.fork()
if pid == 0:
    os.execv(vmm, [vmm, "--vnc", "none", "--demo", "--append", "test=serial-echo"])
buf = b""
end = time.time() + 20
while b"RESULT ready" not in buf and time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        buf += os.read(fd, 4096)
os.kill(pid, signal.SIGTERM)
_, st = os.waitpid(pid, 0)
a = termios.tcgetattr(fd)
if os.waitstatus_to_exitcode(st) == 0 and a[3] & termios.ICANON:
    print("ok SIGTERM restores terminal")
else:
    print(f"FAIL SIGTERM: status {os.waitstatus_to_exitcode(st)}, lflag {a[3]:#x}")
    fails += 1
os.close(fd)

print("all terminal cases ok" if not fails else f"{fails} terminal cases failed")
sys.exit(1 if fails else 0)
PY
