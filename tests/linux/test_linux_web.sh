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

# From the host's agent request to the line on ttyS0: Chromium's start,
# the page (noVNC's modules) over QEMU's user networking to L1, typing.
WEB_TIMEOUT=${WEB_TIMEOUT:-150}
LABEL=web-input

require_guest
if [ -z "${WEB_LISTEN:-}" ] || [ ! -r "${WEB_TOKEN_FILE:-}" ]; then
	echo "FAIL no web port reachable from the host (WEB_LISTEN, WEB_TOKEN_FILE):" \
		"run this through tests/linux/run-all.sh, or run-l1.sh with L1_WEB_PORT and L1_HOST_AGENT"
	exit 1
fi

set -- "$VMM" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append console=ttyS0 --memory 256M --cpus 1 --serial stdio \
	--vnc none --web "$WEB_LISTEN" --web-token-file "$WEB_TOKEN_FILE"
# shellcheck disable=SC2086 # VMM_ARGS: extra words
set -- "$@" ${VMM_ARGS:-}
echo "# $LABEL: $*"
vm_start "$LABEL" "$@"

if ! vm_shell_ready "$LABEL"; then
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
	vm_dump
	exit 1
fi
if wait_tty1_shell; then
	ok "$LABEL: a shell runs on tty1"
else
	fail "$LABEL: no process has tty1 open"
	vm_dump
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

vm_poweroff "$LABEL"

vm_stop
if [ "$FAILS" -ne 0 ]; then
	vm_dump
	echo "FAIL test_linux_web: $FAILS failure(s)"
	exit 1
fi
echo "ok test_linux_web"
