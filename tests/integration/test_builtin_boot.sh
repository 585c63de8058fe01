#!/usr/bin/env bash
# The built-in guest (vmm/guest/) on /dev/kvm: boot, ACPI power off and reset,
# triple fault, guest exception, a serial flood with nothing lost, and
# interactive serial echo (which needs the UART interrupt to wake the guest
# from HLT). The guest's line format is described in vmm/guest/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${VMM:-build/asan/vmm}
GUEST=${GUEST:-build/builtin/guest.elf}
RUN_TIMEOUT=20
require_kvm
require_exe "$VMM"
require_file "$GUEST"
make_tmp
ON_FAIL=show_guest_logs

# --- boot: RESULT line on both outputs, CPU count and memory as configured.
want='RESULT boot ok cpus=4 mem_mib=128 cmdline=test=boot'
run_guest test=boot --cpus 4 --memory 128M
if [ "$rc" -ne 0 ]; then
	fail boot "exit status $rc, want 0"
elif ! grep -qxF "$want" "$tmp/dbg"; then
	fail boot "debug port lacks '$want'"
elif ! tr -d '\r' <"$tmp/ser" | grep -qxF "$want"; then
	fail boot "serial lacks '$want'"
elif ! grep -q $'^RESULT boot ok.*\r$' "$tmp/ser"; then
	fail boot "serial lines do not end in CRLF"
else
	ok boot
fi

# --- the same guest embedded in the binary (--demo), other sizes.
rm -f "$tmp/dbg"
rc=0
timeout 20 "$VMM" --demo --append test=boot --cpus 2 --memory 64M --vnc none \
	--debugcon "$tmp/dbg" --serial none </dev/null >/dev/null 2>"$tmp/err" || rc=$?
touch "$tmp/dbg"
if [ "$rc" -ne 0 ]; then
	fail demo-boot "exit status $rc, want 0"
elif ! grep -qxF 'RESULT boot ok cpus=2 mem_mib=64 cmdline=test=boot' "$tmp/dbg"; then
	fail demo-boot "no RESULT line for cpus=2 mem_mib=64"
else
	ok demo-boot
fi

# --- SMP and RAM above the 32-bit PCI hole: 16 and 64 vCPUs described in the
# MADT, 5 GiB of which 2 GiB sit above 4 GiB.
for c in 16 64; do
	run_guest test=boot --cpus "$c" --memory 5G
	want="RESULT boot ok cpus=$c mem_mib=5120 cmdline=test=boot"
	if [ "$rc" -ne 0 ]; then
		fail "smp-$c" "exit status $rc, want 0"
	elif ! grep -qxF "$want" "$tmp/dbg"; then
		fail "smp-$c" "debug port lacks '$want'"
	else
		ok "smp-$c-highmem"
	fi
done

# --- ACPI power off and reset end the VMM with status 0.
for t in poweroff reboot; do
	run_guest "test=$t"
	if [ "$rc" -ne 0 ]; then
		fail "$t" "exit status $rc, want 0"
	elif grep -q 'RESULT error' "$tmp/dbg"; then
		fail "$t" "guest reported an error"
	elif ! grep -q '^INFO \(powering off\|rebooting\)' "$tmp/dbg"; then
		fail "$t" "guest did not get to the $t request"
	else
		ok "$t"
	fi
done

# --- triple fault: non-zero exit, registers dumped on stderr.
run_guest test=triplefault
if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
	fail triplefault "exit status $rc, want a plain non-zero status"
elif ! grep -q 'RIP' "$tmp/err"; then
	fail triplefault "no register dump (RIP) on stderr"
elif grep -qiE 'sanitizer|segmentation' "$tmp/err"; then
	fail triplefault "VMM crashed"
else
	ok triplefault
fi

# --- a ring 3 #UD is reported by the guest's handler, exit status 3.
run_guest test=exception
if [ "$rc" -ne 3 ]; then
	fail exception "exit status $rc, want 3"
elif ! grep -q '^EXCEPTION 6 at RIP=0x' "$tmp/dbg"; then
	fail exception "no 'EXCEPTION 6 at RIP=' line"
else
	ok exception
fi

# --- unknown options: a RESULT error line and exit status 2.
run_guest test=no-such-test
if [ "$rc" -ne 2 ]; then
	fail bad-option "exit status $rc, want 2"
elif ! grep -qxF 'RESULT error unknown-test no-such-test' "$tmp/dbg"; then
	fail bad-option "no 'RESULT error unknown-test' line"
else
	ok bad-option
fi

# --- serial flood: all 100000 bytes arrive, in order, nothing else mixed in.
run_guest test=serial-flood
for ((i = 0; i < 2000; i++)); do
	printf 'LINE %05d abcdefghijklmnopqrstuvwxyzABCDEFGHIJK\r\n' "$i"
done >"$tmp/want"
grep -a '^LINE ' "$tmp/ser" >"$tmp/got" || true
if [ "$rc" -ne 0 ]; then
	fail serial-flood "exit status $rc, want 0"
elif [ "$(stat -c %s "$tmp/want")" -ne 100000 ]; then
	fail serial-flood "test bug: expected data is not 100000 bytes"
elif ! cmp -s "$tmp/want" "$tmp/got"; then
	fail serial-flood "serial output differs from the pattern ($(stat -c %s "$tmp/got") of 100000 bytes; first difference: $(cmp "$tmp/want" "$tmp/got" 2>&1 | head -n 1))"
elif ! grep -q '^RESULT serial-flood ok bytes=100000 ' "$tmp/dbg"; then
	fail serial-flood "no RESULT line"
else
	ok serial-flood
fi

# --- serial echo through --serial stdio: wait until the guest is ready
# (its UART init clears the receive FIFO), type two lines, check the echo.
mkfifo "$tmp/in"
rm -f "$tmp/dbg"
touch "$tmp/dbg"
"$VMM" --kernel "$GUEST" --append test=serial-echo --debug-exit --vnc none \
	--debugcon "$tmp/dbg" --serial stdio <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
vmm_pid=$!
exec 3>"$tmp/in"
wait_for 10 grep -q '^RESULT ready' "$tmp/dbg" || true
printf 'hello\r' >&3
sleep 0.2
printf 'quit\r' >&3
rc=0
if ! wait_for 20 vmm_exited; then
	kill "$vmm_pid" 2>/dev/null || true
	rc=124
fi
wait "$vmm_pid" || rc=$?
vmm_pid=
exec 3>&-
if [ "$rc" -ne 0 ]; then
	fail serial-echo "exit status $rc, want 0"
elif ! grep -q $'^hello\r$' "$tmp/out"; then
	fail serial-echo "'hello' was not echoed as hello CR LF"
elif ! grep -q $'^quit\r$' "$tmp/out"; then
	fail serial-echo "'quit' was not echoed"
elif ! grep -qE '^RESULT serial-echo ok irqs=[1-9]' "$tmp/dbg"; then
	fail serial-echo "no RESULT line with a non-zero UART interrupt count"
else
	ok serial-echo
fi

finish "all built-in guest cases passed"
