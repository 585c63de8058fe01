# shellcheck shell=sh
# Helpers for the Linux-tier test scripts.  POSIX sh: these run under
# busybox sh inside the L1 machine and under sh/bash directly on a host
# with VMX/SVM.  Source it; it uses fd 7 for the guest's serial input.
#
# Environment (set by run-l1.sh, both in L1 and on the host):
#   VMM           the vmm binary
#   GUEST_KERNEL  the Debian bzImage
#   GUEST_INITRD  the guest initramfs
#   WORK          a writable scratch directory
#   QEMU          qemu-system-x86_64, when available (optional)

# shellcheck disable=SC2034 # VM_* are read by the scripts that source this

WORK=${WORK:-${TMPDIR:-/tmp}}
FAILS=0
VM_PID=
VM_NAME=
VM_OUT=
VM_ERR=
VM_STATUS=
VM_T0=

# Writing to a VM that died must fail the write, not kill the test; a
# test that ends or is killed (timeout) must not leave its VM running.
trap '' PIPE
trap 'vm_stop' EXIT
trap 'vm_stop; exit 143' TERM INT HUP

ok() {
	echo "ok $*"
}

fail() {
	echo "FAIL $*"
	FAILS=$((FAILS + 1))
}

# Seconds since boot, 10 ms resolution; the same clock in L1 and on a host.
now() {
	read -r t _ < /proc/uptime
	echo "$t"
}

# elapsed T0 -> seconds since T0, two decimals.
elapsed() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
}

# require_kvm: fail loudly when there is no KVM to test on.
require_kvm() {
	if [ ! -c /dev/kvm ]; then
		echo "FAIL /dev/kvm is missing: the Linux tier needs KVM" >&2
		exit 1
	fi
}

# host_request ID ACTION ARGS...: ask the host's agent (run-l1.sh's
# L1_HOST_AGENT, tests/linux/host-agent.sh) to do ACTION, e.g. web-type
# TEXT; ID names the request in its L1-HOST-RESULT line. Nothing comes
# back here: wait for the effect, with a deadline. run-l1.sh fails the
# script when the host's side failed or did not answer.
host_request() {
	echo "L1-HOST-REQUEST $*"
}

# vm_start NAME CMD...: run CMD with stdin from a FIFO (fd 7 writes to it),
# stdout to $WORK/NAME.out and stderr to $WORK/NAME.err.
vm_start() {
	VM_NAME=$1
	shift
	VM_OUT="$WORK/$VM_NAME.out"
	VM_ERR="$WORK/$VM_NAME.err"
	rm -f "$WORK/$VM_NAME.in"
	mkfifo "$WORK/$VM_NAME.in" || return 1
	: > "$VM_OUT"
	: > "$VM_ERR"
	VM_STATUS=
	VM_T0=$(now)
	"$@" < "$WORK/$VM_NAME.in" > "$VM_OUT" 2> "$VM_ERR" &
	VM_PID=$!
	# Opening the FIFO for writing pairs with the child's open for reading.
	exec 7> "$WORK/$VM_NAME.in"
}

vm_alive() {
	[ -n "$VM_PID" ] && kill -0 "$VM_PID" 2>/dev/null
}

# The serial output without carriage returns.
vm_text() {
	tr -d '\r' < "$VM_OUT"
}

# vm_wait_for ERE TIMEOUT_S: poll the output until a line matches.
# Returns 1 on timeout, 2 when the VM process ended first.
vm_wait_for() {
	deadline=$(awk -v t="$(now)" -v d="$2" 'BEGIN { print t + d }')
	while :; do
		vm_text | grep -Eq -- "$1" && return 0
		vm_alive || { vm_text | grep -Eq -- "$1" && return 0; return 2; }
		awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t > d) }' && return 1
		sleep 0.1
	done
}

# vm_expect DESC ERE TIMEOUT_S: wait for a matching line, record ok/FAIL.
vm_expect() {
	vm_wait_for "$2" "$3"
	case $? in
	0) ok "$1"; return 0 ;;
	1) fail "$1 (no line matching '$2' within $3 s)" ;;
	*) fail "$1 (the VM process ended before a line matched '$2')" ;;
	esac
	return 1
}

# vm_send TEXT: type a line on the guest's serial console.
vm_send() {
	printf '%s\n' "$*" >&7 2>/dev/null
}

# vm_wait_exit TIMEOUT_S: wait for the VM process to end; VM_STATUS gets its
# exit status.  Kills it (and returns 1) when it outlives the timeout.
vm_wait_exit() {
	deadline=$(awk -v t="$(now)" -v d="$1" 'BEGIN { print t + d }')
	while vm_alive; do
		if awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t > d) }'; then
			kill -9 "$VM_PID" 2>/dev/null
			wait "$VM_PID" 2>/dev/null
			VM_STATUS=killed
			VM_PID=
			exec 7>&-
			return 1
		fi
		sleep 0.1
	done
	wait "$VM_PID"
	VM_STATUS=$?
	VM_PID=
	exec 7>&-
	return 0
}

# vm_stop: make sure nothing is left running (after a failure).
vm_stop() {
	if vm_alive; then
		kill -9 "$VM_PID" 2>/dev/null
		wait "$VM_PID" 2>/dev/null
	fi
	VM_PID=
	exec 7>&-
}

# vm_dump: the end of the serial output and of stderr, for a failure report;
# without the web console's URL line, which carries the vmm's own token
# (never into a log).
vm_dump() {
	echo "--- $VM_NAME serial output (last 40 lines) ---"
	vm_text | tail -n 40
	echo "--- $VM_NAME stderr (last 20 lines) ---"
	grep -v 'console: http' "$VM_ERR" | tail -n 20
	echo "--- end ---"
}

# --- what the test scripts share ------------------------------------------------

# The guest's shell prompt (tests/linux/guest/etc/profile) and the usual
# limits, each overridable from the environment.
PROMPT='vmm-guest:/# '
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
CMD_TIMEOUT=${CMD_TIMEOUT:-30}

# require_guest [TOOL...]: the guest image, KVM and the vmm are there and
# every TOOL (tests/linux/tools/, `make bins`) is on PATH; otherwise a FAIL
# line and exit 1.
require_guest() {
	: "${VMM:?VMM must name the vmm binary}"
	: "${GUEST_KERNEL:?}" "${GUEST_INITRD:?}"
	for f in "$GUEST_KERNEL" "$GUEST_INITRD"; do
		[ -f "$f" ] || { echo "FAIL missing $f (run make guest)"; exit 1; }
	done
	require_kvm
	[ -x "$VMM" ] || { echo "FAIL vmm binary $VMM is missing"; exit 1; }
	for t in "$@"; do
		command -v "$t" >/dev/null || {
			echo "FAIL $t is not on PATH (make bins; run via tests/linux/run-all.sh)"
			exit 1
		}
	done
}

# timed_out T0 LIMIT: true once LIMIT seconds have passed since T0 (now).
timed_out() {
	awk -v a="$1" -v b="$(now)" -v t="$2" 'BEGIN { exit !(b - a > t) }'
}

# guest_value TAG CMD: run CMD in the guest's serial shell and print the
# first line of its output, or nothing after CMD_TIMEOUT. TAG must be new
# for this VM (the last line tagged TAG is taken).
guest_value() {
	vm_send "echo \"$1=\$($2 2>&1 | head -n 1)\""
	vm_wait_for "^$1=" "$CMD_TIMEOUT" || return 1
	vm_text | sed -n "s/^$1=//p" | tail -n 1
}

# check_guest_value LABEL DESC TAG CMD ERE: the output of CMD in the guest
# matches ERE.
check_guest_value() {
	v=$(guest_value "$3" "$4")
	if printf '%s\n' "$v" | grep -Eq -- "$5"; then
		ok "$1: $2 ($v)"
	else
		fail "$1: $2: got '$v', expected /$5/"
	fi
}

# field LINE KEY: the value of KEY in a line of KEY=VALUE words (pngstat's).
field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# random_number: 0..65535.
random_number() {
	od -An -N2 -tu2 /dev/urandom | tr -d ' '
}

# wait_tty1_shell: a process reads from tty1 (init's respawned shell);
# false after CMD_TIMEOUT.
wait_tty1_shell() {
	wt_t0=$(now)
	i=0
	while :; do
		i=$((i + 1))
		# shellcheck disable=SC2016 # expanded in the guest
		n=$(guest_value "TTY1SH$i" 'ls -l /proc/[0-9]*/fd/0 2>/dev/null | grep -c /dev/tty1\$')
		[ "${n:-0}" -ge 1 ] 2>/dev/null && return 0
		timed_out "$wt_t0" "$CMD_TIMEOUT" && return 1
		sleep 1
	done
}

# vm_shell_ready LABEL: the guest's init and its serial shell came up
# (BOOT_TIMEOUT); on failure the logs are shown and the VM stopped.
vm_shell_ready() {
	if vm_expect "$1: serial shell started" '^GUEST-INIT-READY' "$BOOT_TIMEOUT" &&
		vm_expect "$1: shell prompt" "$PROMPT" "$CMD_TIMEOUT"; then
		return 0
	fi
	vm_dump
	vm_stop
	return 1
}

# vm_poweroff LABEL: `poweroff` in the guest ends the vmm with status 0.
vm_poweroff() {
	vm_send poweroff
	if ! vm_wait_exit "$CMD_TIMEOUT"; then
		fail "$1: VM still running $CMD_TIMEOUT s after 'poweroff' (killed)"
	elif [ "$VM_STATUS" = 0 ]; then
		ok "$1: 'poweroff' ended the VM with status 0"
	else
		fail "$1: 'poweroff' ended the VM with status $VM_STATUS"
	fi
}

# one_red STATS: pngstat's STATS describe an area that is all lit in one
# red colour (fbcon's and VGA's red is 0xaa0000; swapped R and B channels
# would show blue).
one_red() {
	awk -v f="$(field "$1" nonblack)" -v c="$(field "$1" colours)" \
		-v m="$(field "$1" mean)" 'BEGIN { split(m, v, ",");
			exit !(f >= 0.99 && c == 1 && v[1] >= 128 && v[2] < 64 && v[3] < 64) }'
}
