#!/usr/bin/env bash
# Keyboard and mouse from a VNC viewer to the guest's PS/2 driver, end to
# end: `vmm --demo --append test=input --vnc 127.0.0.1:PORT --debugcon FILE`
# (the built-in guest sets up the i8042, keyboard and IntelliMouse as Linux
# does and reports every byte), then vnc_input_client (libvncclient) types
# every key of a full PC keyboard, sends QEMU Extended Key Events, moves the
# pointer, clicks and turns the wheel, and checks the scancode set 1 bytes
# and mouse packets the guest got. Finally "q" on the serial line must end
# the guest with status 0.
#
#   tests/integration/test_vnc_input.sh [VMM] [PORT]
#
# VMM defaults to $VMM or build/asan/vmm, PORT to $VNC_PORT or 5961. The
# client is taken from the VMM's build tree
# (<dir of VMM>/tests/integration/vnc_input_client) unless $VNC_INPUT_CLIENT
# names it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${VNC_PORT:-5961}}
CLIENT=${VNC_INPUT_CLIENT:-$(dirname "$VMM")/tests/integration/vnc_input_client}
require_kvm
require_exe "$VMM"
require_exe "$CLIENT" "(make bins)"
make_tmp
ON_FAIL=show_vmm_err

# The serial console reads a FIFO we keep open, so "q" can be typed later.
mkfifo "$tmp/serial-in"
: >"$tmp/debugcon"
"$VMM" --demo --append test=input --vnc "127.0.0.1:$PORT" \
	--debugcon "$tmp/debugcon" <"$tmp/serial-in" >"$tmp/serial-out" 2>"$tmp/err" &
vmm_pid=$!
exec 3>"$tmp/serial-in"

if ! wait_for 30 grep -qE '^RESULT (input ready|error)' "$tmp/debugcon" ||
   ! grep -q '^RESULT input ready' "$tmp/debugcon"; then
	fail ready "no 'RESULT input ready' within 30 s: $(grep -m1 '^RESULT' "$tmp/debugcon" || echo none)"
	exit 1
fi
ok "$(grep -m1 '^RESULT input ready' "$tmp/debugcon")"

# Wait until the VNC port answers (it opens before the guest is ready, but
# do not rely on it).
wait_for 10 tcp_open "$PORT" || true

if timeout 300 "$CLIENT" 127.0.0.1 "$PORT" "$tmp/debugcon" >"$tmp/client.log" 2>&1; then
	sed 's/^/  /' "$tmp/client.log"
	ok "vnc_input_client"
else
	rc=$?
	sed 's/^/  /' "$tmp/client.log"
	fail client "vnc_input_client exited with $rc"
fi

# Idle: the guest sleeps in HLT between interrupts, so the vmm uses
# (almost) no CPU while nobody types.
measure_idle
if [ "$used" -le $((hz / 5)) ]; then
	ok "idle vmm used $used of $hz ticks in 1 s"
else
	fail idle "vmm used $used of $hz ticks in 1 s while idle"
fi

printf q >&3
rc=0
if ! wait_for 10 vmm_exited; then
	fail quit "the guest did not exit on q"
else
	wait "$vmm_pid" || rc=$?
	vmm_pid=
	if [ "$rc" = 0 ] && grep -q '^RESULT input ok' "$tmp/debugcon"; then
		ok "$(grep -m1 '^RESULT input ok' "$tmp/debugcon")"
	else
		fail quit "exit status $rc, $(grep -m1 '^RESULT input ok' "$tmp/debugcon" || echo 'no RESULT input ok')"
	fi
fi
no_sanitizer_report || true
finish "all ok"
