#!/bin/sh
# Keys typed in the web console page reach a Linux guest: the vmm runs
# Debian's kernel with its web console on (--web, a token from the host),
# a browser on the HOST types `echo web-typed-N:Ok >/dev/ttyS0` and Return
# (N random, chosen here; ':' and '>' need Shift) into the shell on tty1,
# the VT the display shows, and the line must come out on the guest's
# serial console.
#
# Chromium is far too heavy for the L1 machine: this script asks the host
# for it with a host request (lib.sh's host_request, carried out by
# tests/linux/host-agent.sh, see run-l1.sh), once the web console is up.
# The vmm listens on WEB_LISTEN (in L1 the address QEMU's user networking
# forwards the host's port to) and accepts the token of WEB_TOKEN_FILE,
# which the host side holds too. The script passes only if the line
# arrives here AND the host reports that it typed it (run-l1.sh checks
# the host's side).
# Then `poweroff` must end the vmm with status 0.
#
# Run it through tests/linux/run-all.sh (it sets L1_WEB_PORT and the
# agent); started directly, it does that itself. POSIX sh (busybox sh in
# L1); prints ok/FAIL lines and BENCH lines.

# Started directly: run-all.sh picks the place to run and adds the agent.
if [ -z "${GUEST_KERNEL:-}" ]; then
	exec "$(dirname "$0")/run-all.sh" "$0"
fi

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

: "${VMM:?VMM must name the vmm binary}"
: "${GUEST_KERNEL:?}" "${GUEST_INITRD:?}"
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
CMD_TIMEOUT=${CMD_TIMEOUT:-30}
# From the host's agent request to the line on ttyS0: Chromium's start,
# the page (noVNC's modules) over QEMU's user networking to L1, typing.
WEB_TIMEOUT=${WEB_TIMEOUT:-150}
PROMPT='vmm-guest:/# '
LABEL=web-input

for f in "$GUEST_KERNEL" "$GUEST_INITRD"; do
	[ -f "$f" ] || { echo "FAIL missing $f (run make guest)"; exit 1; }
done
require_kvm
[ -x "$VMM" ] || { echo "FAIL vmm binary $VMM is missing"; exit 1; }
if [ -z "${WEB_LISTEN:-}" ] || [ ! -r "${WEB_TOKEN_FILE:-}" ]; then
	echo "FAIL no web port reachable from the host (WEB_LISTEN, WEB_TOKEN_FILE):" \
		"run this through tests/linux/run-all.sh, or run-l1.sh with L1_WEB_PORT and L1_HOST_AGENT"
	exit 1
fi

random_number() {
	od -An -N2 -tu2 /dev/urandom | tr -d ' '
}

# guest_value TAG CMD: run CMD in the guest's serial shell, print its output
# (the first line tagged TAG), or nothing after CMD_TIMEOUT.
guest_value() {
	vm_send "echo \"$1=\$($2 2>&1 | head -n 1)\""
	vm_wait_for "^$1=" "$CMD_TIMEOUT" || return 1
	vm_text | sed -n "s/^$1=//p" | tail -n 1
}

# wait_tty1_shell: a process reads from tty1 (init's respawned shell).
wait_tty1_shell() {
	t0=$(now)
	i=0
	while :; do
		i=$((i + 1))
		# shellcheck disable=SC2016 # expanded in the guest
		n=$(guest_value "TTY1SH$i" 'ls -l /proc/[0-9]*/fd/0 2>/dev/null | grep -c /dev/tty1\$')
		[ "${n:-0}" -ge 1 ] 2>/dev/null && return 0
		awk -v a="$t0" -v b="$(now)" -v t="$CMD_TIMEOUT" \
			'BEGIN { exit !(b - a > t) }' && return 1
		sleep 1
	done
}

# web_dump: as vm_dump, without the console URL line (it carries the
# vmm's own token: never into a log).
web_dump() {
	echo "--- $VM_NAME serial output (last 40 lines) ---"
	vm_text | tail -n 40
	echo "--- $VM_NAME stderr (last 20 lines) ---"
	grep -v 'console: http' "$VM_ERR" | tail -n 20
	echo "--- end ---"
}

set -- "$VMM" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append console=ttyS0 --memory 256M --cpus 1 --serial stdio \
	--vnc none --web "$WEB_LISTEN" --web-token-file "$WEB_TOKEN_FILE"
# shellcheck disable=SC2086 # VMM_ARGS: extra words
set -- "$@" ${VMM_ARGS:-}
echo "# $LABEL: $*"
vm_start "$LABEL" "$@"

if ! vm_expect "$LABEL: serial shell started" '^GUEST-INIT-READY' "$BOOT_TIMEOUT" ||
	! vm_expect "$LABEL: shell prompt" "$PROMPT" "$CMD_TIMEOUT"; then
	web_dump
	vm_stop
	echo "FAIL test_linux_web: the guest did not come up"
	exit 1
fi
echo "BENCH web_input_ready_s $(elapsed "$VM_T0")"
# The vmm prints the console URL once its web server listens (long before
# the guest is up: this only makes sure it did).
if grep -q 'vmm: console: http://' "$VM_ERR"; then
	ok "$LABEL: the web console listens on $WEB_LISTEN"
else
	fail "$LABEL: the vmm printed no console URL"
	web_dump
	exit 1
fi
if wait_tty1_shell; then
	ok "$LABEL: a shell runs on tty1"
else
	fail "$LABEL: no process has tty1 open"
	web_dump
	exit 1
fi

n=$(random_number)
t0=$(now)
# The web console is up and tty1 reads: the host's browser may type now.
host_request web1 web-type "echo web-typed-$n:Ok >/dev/ttyS0"
# Not anchored at ^: the serial shell's idle prompt may precede it.
if vm_expect "$LABEL: the line typed in the browser reached ttyS0 (web-typed-$n:Ok)" \
	"web-typed-$n:Ok\$" "$WEB_TIMEOUT"; then
	echo "BENCH web_typed_line_s $(elapsed "$t0")"
fi

vm_send poweroff
if vm_wait_exit "$CMD_TIMEOUT"; then
	if [ "$VM_STATUS" = 0 ]; then
		ok "$LABEL: 'poweroff' ended the VM with status 0"
	else
		fail "$LABEL: 'poweroff' ended the VM with status $VM_STATUS"
	fi
else
	fail "$LABEL: VM still running $CMD_TIMEOUT s after 'poweroff' (killed)"
fi

vm_stop
if [ "$FAILS" -ne 0 ]; then
	web_dump
	echo "FAIL test_linux_web: $FAILS failure(s)"
	exit 1
fi
echo "ok test_linux_web"
