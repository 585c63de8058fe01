#!/bin/sh
# Boot Debian's stock kernel with our vmm and drive its serial shell.
#
#  1. --cpus 2 --memory 256M: echo round trip, nproc = 2, MemTotal plausible,
#     `poweroff` ends the vmm with status 0;
#  2. --cpus 1 --memory 192M: nproc = 1, MemTotal, `reboot` ends the vmm
#     with status 0.
# Prints "ok ..." / "FAIL ..." lines and "BENCH name value" lines; exits
# non-zero on any failure.  Runs inside the L1 machine (run-l1.sh) or
# directly on a host with VMX/SVM.  POSIX sh (busybox sh in L1).
# Run it as tests/linux/run-l1.sh tests/linux/test_linux_boot.sh, or on its
# own (it then hands itself to run-l1.sh).
#
# GUEST_RUNNER=qemu-tcg (plain QEMU TCG) or qemu-kvm (QEMU on /dev/kvm, needs
# QEMU) drives the same checks against QEMU instead of the vmm: it validates
# the guest image, the nested tier and this script.
# When QEMU is set (L1_WITH_QEMU=1), the same guest is also booted under
# QEMU with KVM for the side-by-side benchmark.

# Started directly (e.g. by tests/run-tests.sh): let run-l1.sh pick the
# place to run, an L1 machine here or this host if it has VMX/SVM.
if [ -z "${GUEST_KERNEL:-}" ]; then
	exec "$(dirname "$0")/run-l1.sh" "$0"
fi

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

: "${VMM:?VMM must name the vmm binary}"
: "${GUEST_KERNEL:?}" "${GUEST_INITRD:?}"
RUNNER=${GUEST_RUNNER:-vmm}

for f in "$GUEST_KERNEL" "$GUEST_INITRD"; do
	[ -f "$f" ] || { echo "FAIL missing $f (run make guest)"; exit 1; }
done
case "$RUNNER" in
vmm)
	require_kvm
	[ -x "$VMM" ] || { echo "FAIL vmm binary $VMM is missing"; exit 1; }
	;;
qemu-tcg)
	command -v qemu-system-x86_64 >/dev/null ||
		{ echo "FAIL qemu-system-x86_64 is missing"; exit 1; }
	;;
qemu-kvm)
	require_kvm
	[ -x "${QEMU:-}" ] || { echo "FAIL QEMU is not set (L1_WITH_QEMU=1)"; exit 1; }
	;;
*)
	echo "FAIL GUEST_RUNNER must be vmm, qemu-tcg or qemu-kvm"
	exit 1
	;;
esac

# boot_cmd CPUS MEM_MIB: the command line that boots the guest.
boot_cmd() {
	case "$RUNNER" in
	vmm)
		echo "$VMM --kernel $GUEST_KERNEL --initrd $GUEST_INITRD" \
			"--append console=ttyS0 --memory $2M --cpus $1" \
			"--serial stdio ${VMM_ARGS:-}"
		;;
	qemu-tcg)
		echo "qemu-system-x86_64 -accel tcg -m $2 -smp $1 -nodefaults" \
			"-display none -serial stdio -monitor none -no-reboot" \
			"-kernel $GUEST_KERNEL -initrd $GUEST_INITRD -append console=ttyS0"
		;;
	qemu-kvm)
		echo "$QEMU -enable-kvm -cpu host -m $2 -smp $1 -nodefaults" \
			"-display none -serial stdio -monitor none -no-reboot" \
			"-kernel $GUEST_KERNEL -initrd $GUEST_INITRD -append console=ttyS0"
		;;
	esac
}

# check_boot LABEL CPUS MEM_MIB MEMTOTAL_MIN_KB MEMTOTAL_MAX_KB END BENCH
# END is poweroff or reboot; BENCH names the boot-time benchmark line.
check_boot() {
	label=$1 cpus=$2 mem=$3 lo=$4 hi=$5 end=$6 bench=$7
	fails_before=$FAILS
	echo "# $label: $(boot_cmd "$cpus" "$mem")"
	# shellcheck disable=SC2046 # boot_cmd's words are meant to split
	vm_start "$label" $(boot_cmd "$cpus" "$mem")

	vm_wait_for '^GUEST-INIT-UPTIME ' "$BOOT_TIMEOUT"
	case $? in
	0) ;;
	1) fail "$label: guest /init not reached within $BOOT_TIMEOUT s" ;;
	*) vm_wait_exit 5
	   fail "$label: the VM exited (status $VM_STATUS) before the guest reached /init" ;;
	esac
	if [ "$FAILS" != "$fails_before" ]; then
		vm_dump
		vm_stop
		return 1
	fi
	wall=$(elapsed "$VM_T0")
	up=$(vm_text | sed -n 's/^GUEST-INIT-UPTIME \([0-9.]*\).*/\1/p' | head -n 1)
	ok "$label: guest /init reached after $wall s (guest uptime $up s)"
	echo "BENCH ${bench}_s $wall"
	echo "BENCH ${bench}_guest_uptime_s $up"

	vm_expect "$label: serial shell started" '^GUEST-INIT-READY' "$CMD_TIMEOUT" &&
	vm_expect "$label: shell prompt" "$PROMPT" "$CMD_TIMEOUT" || {
		vm_dump
		vm_stop
		return 1
	}

	n=$(random_number)
	vm_send "echo marker-$n"
	vm_expect "$label: echo marker-$n round trip" "^marker-$n\$" "$CMD_TIMEOUT"

	vm_send 'echo nproc=$(nproc)'
	if vm_wait_for '^nproc=[0-9]+$' "$CMD_TIMEOUT"; then
		got=$(vm_text | sed -n 's/^nproc=\([0-9]*\)$/\1/p' | head -n 1)
		if [ "$got" = "$cpus" ]; then
			ok "$label: nproc = $cpus"
		else
			fail "$label: nproc = $got, expected $cpus"
		fi
	else
		fail "$label: no nproc output"
	fi

	vm_send 'grep MemTotal /proc/meminfo'
	if vm_wait_for '^MemTotal: +[0-9]+ kB' "$CMD_TIMEOUT"; then
		kb=$(vm_text | sed -n 's/^MemTotal: *\([0-9]*\) kB.*/\1/p' | head -n 1)
		if [ "$kb" -ge "$lo" ] && [ "$kb" -le "$hi" ]; then
			ok "$label: MemTotal $kb kB within $lo..$hi"
		else
			fail "$label: MemTotal $kb kB outside $lo..$hi for ${mem}M"
		fi
	else
		fail "$label: no MemTotal output"
	fi

	vm_send "$end"
	if vm_wait_exit "$CMD_TIMEOUT"; then
		if [ "$VM_STATUS" = 0 ]; then
			ok "$label: '$end' ended the VM with status 0"
		else
			fail "$label: '$end' ended the VM with status $VM_STATUS"
		fi
	else
		fail "$label: VM still running $CMD_TIMEOUT s after '$end' (killed)"
	fi
	[ "$FAILS" = "$fails_before" ] && return 0
	vm_dump
	return 1
}

check_boot "$RUNNER-2cpu" 2 256 200000 262144 poweroff linux_init
check_boot "$RUNNER-1cpu" 1 192 140000 196608 reboot linux_init_1cpu

# The side-by-side benchmark: the same guest under QEMU with KVM.
if [ -n "${QEMU:-}" ] && [ "$RUNNER" = vmm ]; then
	RUNNER=qemu-kvm
	check_boot qemu-kvm-2cpu 2 256 200000 262144 poweroff qemu_linux_init
	RUNNER=vmm
fi

vm_stop
if [ "$FAILS" -ne 0 ]; then
	echo "FAIL test_linux_boot: $FAILS failure(s)"
	exit 1
fi
echo "ok test_linux_boot"
