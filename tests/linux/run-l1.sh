#!/bin/sh
# Run Linux-tier test scripts where real KVM with VMX/SVM is available.
#
#   tests/linux/run-l1.sh SCRIPT...
#
# On a host with vmx/svm in /proc/cpuinfo the scripts run directly here.
# Otherwise (these development machines: /dev/kvm is kvm_pvm) they run inside
# an "L1" Debian kernel under QEMU TCG with an emulated AMD SVM CPU, where
# kvm_amd provides a real nested /dev/kvm; the L1 serial log carries the
# results back ("L1-RESULT ok|fail SCRIPT").  See
# /work/shared/notes/kvm-on-these-machines.md.
#
# Each SCRIPT is POSIX sh (busybox sh in L1); it gets VMM, GUEST_KERNEL,
# GUEST_INITRD, WORK (scratch dir) and, with L1_WITH_QEMU=1, QEMU in its
# environment, may source lib.sh from its own directory, prints ok/FAIL
# lines and exits non-zero on failure.
#
# Environment:
#   VMM              vmm binary (default build/vmm)
#   BUILD            build directory (default build)
#   L1_MODE          auto (default) | nested | direct
#   L1_TIMEOUT       seconds for the whole L1 run (default 480)
#   L1_SMP           L1 CPUs (default 2: multi-threaded TCG; with 1 a
#                    2-vCPU L2 guest did not reach /init within 300 s here)
#   L1_TCG_THREAD    multi (default: one host thread per L1 CPU) | single
#   L1_WITH_QEMU=1   put QEMU in L1 too (side-by-side benchmark)
#   L1_MODULES       extra L1 kernel modules (e.g. e1000)
#   L1_EXTRA_BINS    extra programs for L1, copied with their libraries
#                    and linked into /usr/local/bin (on the scripts' PATH)
#   L1_QEMU_ARGS     extra arguments for the L1 QEMU (e.g. -nic user,...)
#   L1_PASS_ENV      variables copied into the L1 scripts' environment when set
#                    (default GUEST_RUNNER BOOT_TIMEOUT CMD_TIMEOUT VMM_ARGS
#                    ASAN_OPTIONS UBSAN_OPTIONS)
#   L1_LOG           L1 serial log (default $BUILD/linux/l1.log; QEMU's
#                    stderr goes to $L1_LOG.stderr)
#   L1_WEB_PORT      PORT, auto (a free one) or none (default): the host
#                    reaches a vmm's --web in L1 at 127.0.0.1:PORT (below)
#   L1_HOST_AGENT    host-side program that carries out the scripts' host
#                    requests (tests/linux/host-agent.sh; see below)
#   VERBOSE=1        print the whole L1 log
#
# Host requests: a script asks the host for what L1 cannot do (run
# Chromium) with a line "L1-HOST-REQUEST ID ACTION ARGS..." (lib.sh's
# host_request). L1_HOST_AGENT runs on the host alongside the scripts,
# follows the log as it is written (L1_LOG; in direct mode the scripts'
# output is copied there too) and answers each request with
# "L1-HOST-RESULT ok|fail SCRIPT ID ACTION [reason]" on its own output
# ($L1_LOG.agent, printed after the scripts' output). The script checks
# the effect itself, in L1; a script passes only when it does AND the
# host's side of each of its requests succeeded: a failed or unanswered
# request adds "L1-HOST-RESULT fail SCRIPT ..." and fails the run. The
# agent gets L1_FOLLOW (the log), L1_WEB_URL, L1_WEB_TOKEN_FILE and
# L1_ARTIFACTS (a path prefix for its files); it ends at the line
# L1-HOST-AGENT-STOP, appended once the scripts are done.
#
# The web port: with L1_WEB_PORT, L1 gets an e1000 NIC on QEMU's user
# network (restrict=on: no way out but the forwarded port), eth0 at
# 10.0.2.15/24 (l1/init), and the host's 127.0.0.1:PORT is forwarded to
# 10.0.2.15:6080. The scripts get WEB_LISTEN (the --web address that the
# host reaches: 10.0.2.15:6080 in L1, 127.0.0.1:PORT in direct mode) and
# WEB_TOKEN_FILE (a --web-token-file with a fresh token for this run, which
# the agent reads from L1_WEB_TOKEN_FILE: never on a command line or in a
# log). The page files found next to VMM (web/ or ../web/, `make bins`)
# are copied into L1 next to its vmm.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# A VMM given relative to the caller's directory.
if [ -n "${VMM:-}" ] && [ -e "$VMM" ]; then
	VMM=$(realpath "$VMM")
fi
cd "$top" || exit 1

BUILD=${BUILD:-build}
LINUX_DIR=$BUILD/linux
VMM=${VMM:-$BUILD/vmm}
L1_MODE=${L1_MODE:-auto}
L1_TIMEOUT=${L1_TIMEOUT:-480}
L1_SMP=${L1_SMP:-2}
L1_TCG_THREAD=${L1_TCG_THREAD:-multi}
L1_LOG=${L1_LOG:-$LINUX_DIR/l1.log}
[ "${L1_WEB_PORT:-}" = none ] && L1_WEB_PORT=
GUEST_KERNEL=$BUILD/guest/bzImage
GUEST_INITRD=$BUILD/guest/initramfs.cpio.gz
QEMU_BIN="qemu-system-x86_64"

die() {
	echo "FAIL run-l1: $*" >&2
	exit 1
}

[ $# -gt 0 ] || die "usage: run-l1.sh SCRIPT..."
for s in "$@"; do
	[ -f "$s" ] || die "no such test script: $s"
done
[ -f "$GUEST_KERNEL" ] && [ -f "$GUEST_INITRD" ] ||
	die "guest image missing ($GUEST_KERNEL, $GUEST_INITRD): run make guest"
[ -x "$VMM" ] || die "vmm binary $VMM is missing: build it first"

if [ "$L1_MODE" = auto ]; then
	if grep -qwE 'vmx|svm' /proc/cpuinfo; then
		L1_MODE=direct
	else
		L1_MODE=nested
	fi
fi

# --- the web port and the host agent (see the header) --------------------------

L1_WEB_URL=
web_token=

# web_setup DIR: with L1_WEB_PORT, the port (auto: one the kernel has
# free now), the host's URL and a fresh token in DIR/web-token.
web_setup() {
	[ -n "${L1_WEB_PORT:-}" ] || return 0
	if [ "$L1_WEB_PORT" = auto ]; then
		L1_WEB_PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || die "L1_WEB_PORT=auto: cannot find a free port"
	fi
	case $L1_WEB_PORT in
	"" | *[!0-9]*) die "L1_WEB_PORT must be a port number or auto, not '$L1_WEB_PORT'" ;;
	esac
	L1_WEB_URL=http://127.0.0.1:$L1_WEB_PORT
	web_token=$1/web-token
	(umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' > "$web_token") ||
		die "cannot write $web_token"
}

agent_pid=

# agent_start: truncate the log (nothing stale for the agent to read),
# start L1_HOST_AGENT following it.
agent_start() {
	mkdir -p "$(dirname "$L1_LOG")"
	: > "$L1_LOG"
	: > "$L1_LOG.agent"
	[ -n "${L1_HOST_AGENT:-}" ] || return 0
	# shellcheck disable=SC2086 # L1_HOST_AGENT: a command and its words
	L1_FOLLOW=$L1_LOG L1_WEB_URL=$L1_WEB_URL L1_WEB_TOKEN_FILE=$web_token \
		L1_ARTIFACTS=$L1_LOG timeout -k 5 $((L1_TIMEOUT + 300)) \
		$L1_HOST_AGENT < /dev/null > "$L1_LOG.agent" 2>&1 &
	agent_pid=$!
}

# agent_kill: on an early exit. timeout(1) passes the signal to the
# agent's whole process group (its browser included).
agent_kill() {
	[ -z "$agent_pid" ] || kill "$agent_pid" 2>/dev/null
	agent_pid=
}

# agent_finish LOG: stop the agent once it has answered everything, print
# its output, and add a failure for each request in LOG (the log without
# carriage returns) that got no answer. Returns 1 when any request failed.
agent_finish() {
	if [ -n "$agent_pid" ]; then
		echo L1-HOST-AGENT-STOP >> "$L1_LOG"
		wait "$agent_pid" ||
			echo "host: the agent ended with status $? ($L1_HOST_AGENT)" >> "$L1_LOG.agent"
		agent_pid=
	fi
	why="the host agent did not answer"
	[ -n "${L1_HOST_AGENT:-}" ] || why="no host agent: L1_HOST_AGENT is not set"
	awk '/^L1-TEST-BEGIN / { s = $2 } /^L1-HOST-REQUEST / { print s, $2 }' "$1" |
		while read -r s id; do
			grep -qF "L1-HOST-RESULT ok $s $id " "$L1_LOG.agent" ||
				grep -qF "L1-HOST-RESULT fail $s $id " "$L1_LOG.agent" ||
				echo "L1-HOST-RESULT fail $s $id - ($why)" >> "$L1_LOG.agent"
		done
	cat "$L1_LOG.agent"
	! grep -q '^L1-HOST-RESULT fail' "$L1_LOG.agent"
}

# --- direct: this host has VMX/SVM itself ------------------------------------
# direct_scripts SCRIPT...: run them here; the status file $work/rc.
direct_scripts() {
	failed=0
	for s in "$@"; do
		t=$(basename "$s")
		mkdir -p "$work/$t"
		echo "L1-TEST-BEGIN $t (direct, no L1)"
		if VMM=$(realpath "$VMM") GUEST_KERNEL=$top/$GUEST_KERNEL \
			GUEST_INITRD=$top/$GUEST_INITRD QEMU=$qemu WORK=$work/$t \
			WEB_LISTEN=${L1_WEB_PORT:+127.0.0.1:$L1_WEB_PORT} \
			WEB_TOKEN_FILE=$web_token \
			timeout -k 5 "$L1_TIMEOUT" sh "$work/tests/$t" < /dev/null; then
			echo "L1-RESULT ok $t"
		else
			echo "L1-RESULT fail $t rc=$?"
			failed=1
		fi
	done
	echo "$failed" > "$work/rc"
}

run_direct() {
	[ -c /dev/kvm ] || die "/dev/kvm is missing"
	qemu=
	if [ "${L1_WITH_QEMU:-0}" = 1 ]; then
		qemu=$(command -v $QEMU_BIN) || die "$QEMU_BIN is missing"
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/linux-tier.XXXXXX") || exit 1
	# The same layout as in L1: the scripts next to lib.sh.
	mkdir -p "$work/tests"
	cp "$here/lib.sh" "$@" "$work/tests/"
	trap 'agent_kill; rm -rf "$work"' EXIT
	trap 'exit 143' TERM INT HUP
	web_setup "$work"
	# The output goes to L1_LOG too, for the agent to follow.
	agent_start
	direct_scripts "$@" | tee -a "$L1_LOG"
	failed=$(cat "$work/rc" 2>/dev/null || echo 1)
	agent_finish "$L1_LOG" || failed=1
	rm -rf "$work"
	return "$failed"
}

# --- nested: build the L1 initramfs ------------------------------------------

# copy_with_libs STAGE FILE...: FILE and every library ldd lists for it, at
# the same paths (the dynamic loader included).
copy_with_libs() {
	stage=$1
	shift
	for f in "$@"; do
		mkdir -p "$stage$(dirname "$f")"
		cp -L "$f" "$stage$f" || return 1
		ldd "$f" 2>/dev/null | awk '
			$2 == "=>" && $3 ~ /^\// { print $3 }
			$1 ~ /^\// { print $1 }' | while read -r lib; do
			[ -e "$stage$lib" ] && continue
			mkdir -p "$stage$(dirname "$lib")"
			cp -L "$lib" "$stage$lib"
		done
	done
}

pack_cpio() {
	(cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --reproducible --quiet) > "$2.tmp" &&
		mv -f "$2.tmp" "$2"
}

# The base archive: busybox, KVM modules, L2 kernel + initramfs (+ QEMU).
# Uncompressed: gunzip under TCG costs more than reading the bytes.  Rebuilt
# only when an input is newer.
build_base() {
	base=$1
	modules="irqbypass ccp kvm kvm_amd ${L1_WEB_PORT:+e1000 }${L1_MODULES:-}"
	stamp="$base.inputs"
	inputs="$LINUX_STAMP_FILE $GUEST_KERNEL $GUEST_INITRD $here/l1/init
		$here/mkinitramfs.sh $here/run-l1.sh"
	# shellcheck disable=SC2086 # $inputs: paths without spaces
	if [ -f "$base" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$modules" ] &&
		[ -z "$(find $inputs -newer "$base" 2>/dev/null)" ]; then
		return 0
	fi
	echo "run-l1: building $base" >&2
	extra="$GUEST_KERNEL:guest/bzImage $GUEST_INITRD:guest/initramfs.cpio.gz"
	EXTRA_FILES=$extra "$here/mkinitramfs.sh" "$LINUX_DIR" "$base" \
		"$LINUX_DIR/l1-stage" "$here/l1" none $modules || return 1
	if [ "${L1_WITH_QEMU:-0}" = 1 ]; then
		qstage="$LINUX_DIR/l1-qemu-stage"
		rm -rf "$qstage"
		copy_with_libs "$qstage" "$(command -v $QEMU_BIN)" || return 1
		# Firmware QEMU needs with -nodefaults -kernel (Debian keeps
		# SeaBIOS in its own directory, which QEMU also searches).
		for fw in /usr/share/seabios/bios-256k.bin \
			/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/linuxboot.bin \
			/usr/share/qemu/kvmvapic.bin /usr/share/qemu/pvh.bin \
			/usr/share/qemu/multiboot_dma.bin; do
			[ -e "$fw" ] || continue
			mkdir -p "$qstage$(dirname "$fw")"
			cp -L "$fw" "$qstage$fw"
		done
		pack_cpio "$qstage" "$base.qemu" || return 1
		cat "$base.qemu" >> "$base"
		rm -f "$base.qemu"
	fi
	echo "$modules" > "$stamp"
}

# The per-run archive: the vmm with its libraries, the scripts, the list.
build_overlay() {
	ov=$1
	ostage=$2
	shift 2
	rm -rf "$ostage"
	mkdir -p "$ostage/tests" "$ostage/etc" "$ostage/usr/local/bin"
	copy_with_libs "$ostage" "$(realpath "$VMM")" || return 1
	mv "$ostage$(realpath "$VMM")" "$ostage/usr/local/bin/vmm"
	for b in ${L1_EXTRA_BINS:-}; do
		p=$(command -v "$b") && p=$(realpath "$p") ||
			{ echo "run-l1: L1_EXTRA_BINS: $b not found" >&2; return 1; }
		copy_with_libs "$ostage" "$p" || return 1
		# On the scripts' PATH, as they are on the host's. A copy, not a
		# link: the checkout may live under a path L1 mounts over (/tmp).
		cp -L "$p" "$ostage/usr/local/bin/$(basename "$p")"
	done
	# The web console's page files, where the vmm in L1 looks for them.
	vdir=$(dirname "$(realpath "$VMM")")
	for w in "$vdir/web" "$vdir/../web"; do
		[ -f "$w/index.html" ] || continue
		mkdir -p "$ostage/usr/local/web"
		cp -R "$w/." "$ostage/usr/local/web/" || return 1
		break
	done
	cp "$here/lib.sh" "$ostage/tests/"
	: > "$ostage/tests/list"
	for s in "$@"; do
		cp "$s" "$ostage/tests/"
		basename "$s" >> "$ostage/tests/list"
	done
	qemu=
	[ "${L1_WITH_QEMU:-0}" = 1 ] && qemu=$(command -v $QEMU_BIN)
	cat > "$ostage/etc/l1-env" <<-EOF
		VMM=/usr/local/bin/vmm
		GUEST_KERNEL=/guest/bzImage
		GUEST_INITRD=/guest/initramfs.cpio.gz
		QEMU=$qemu
	EOF
	if [ -n "$web_token" ]; then
		cp "$web_token" "$ostage/etc/l1-web-token" &&
			chmod 600 "$ostage/etc/l1-web-token" || return 1
		printf 'WEB_LISTEN=10.0.2.15:6080\nWEB_TOKEN_FILE=/etc/l1-web-token\n' \
			>> "$ostage/etc/l1-env"
	fi
	# Test knobs set on the host reach the scripts in L1 too.
	for v in ${L1_PASS_ENV:-GUEST_RUNNER BOOT_TIMEOUT CMD_TIMEOUT VMM_ARGS ASAN_OPTIONS UBSAN_OPTIONS}; do
		isset='' val=''
		eval "isset=\${$v+x} val=\${$v:-}"
		[ -n "$isset" ] || continue
		printf "%s='%s'\n" "$v" "$(printf %s "$val" | sed "s/'/'\\\\''/g")" \
			>> "$ostage/etc/l1-env"
	done
	pack_cpio "$ostage" "$ov"
}

run_nested() {
	command -v $QEMU_BIN >/dev/null || die "$QEMU_BIN is missing (apt-get install qemu-system-x86)"
	LINUX_STAMP_FILE=$LINUX_DIR/.unpacked
	[ -f "$LINUX_STAMP_FILE" ] || die "$LINUX_DIR is not unpacked: run make guest"
	base="$LINUX_DIR/l1-base.cpio"
	[ "${L1_WITH_QEMU:-0}" = 1 ] && base="$LINUX_DIR/l1-base-qemu.cpio"
	t0=$(date +%s.%N)
	# One builder of the shared base at a time; per-run files are private.
	exec 9> "$LINUX_DIR/.l1.lock"
	flock 9
	build_base "$base" || die "building the L1 base initramfs failed"
	run=$(mktemp -d "$LINUX_DIR/l1-run.XXXXXX") || exit 1
	trap 'agent_kill; rm -rf "$run"' EXIT
	trap 'exit 143' TERM INT HUP
	web_setup "$run"
	build_overlay "$run/run.cpio" "$run/stage" "$@" ||
		die "building the L1 run initramfs failed"
	cat "$base" "$run/run.cpio" > "$run/l1.cpio"
	flock -u 9
	rm -rf "$run/stage" "$run/run.cpio"

	accel=tcg,thread=$L1_TCG_THREAD
	nic=
	[ -n "$L1_WEB_URL" ] &&
		nic="-nic user,model=e1000,restrict=on,hostfwd=tcp:127.0.0.1:$L1_WEB_PORT-10.0.2.15:6080"
	agent_start
	t1=$(date +%s.%N)
	# panic=-1 with -no-reboot: an L1 kernel panic ends QEMU at once
	# instead of leaving it to the timeout.
	# shellcheck disable=SC2086 # L1_QEMU_ARGS is a list of words
	timeout -k 5 "$L1_TIMEOUT" $QEMU_BIN -accel $accel -cpu EPYC,+svm,+npt \
		-m 2048 -smp "$L1_SMP" -nodefaults -display none -monitor none \
		-serial "file:$L1_LOG" -no-reboot \
		-kernel "$GUEST_KERNEL" -initrd "$run/l1.cpio" \
		-append "console=ttyS0 quiet panic=-1" $nic ${L1_QEMU_ARGS:-} \
		< /dev/null 2> "$L1_LOG.stderr"
	qrc=$?
	t2=$(date +%s.%N)
	tr -d '\r' < "$L1_LOG" > "$L1_LOG.txt"
	log="$L1_LOG.txt"

	if [ "${VERBOSE:-0}" = 1 ]; then
		cat "$log"
	else
		# The scripts' own output: everything from the first TEST-BEGIN
		# on, without kernel messages.
		sed -n '/^L1-TEST-BEGIN /,$p' "$log" |
			grep -v -e '^L1-DONE$' -e '^\[ *[0-9]*\.[0-9]*\] '

	fi
	# The host's side of the scripts' requests.
	agent_finish "$log"
	hrc=$?
	awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
		printf "# L1: initramfs %.1f s, QEMU run %.1f s\n", b - a, c - b }'
	sed -n 's/^L1-KVM-READY \(.*\)/# L1: kvm_amd loaded at L1 uptime \1 s/p' "$log"

	failed=$hrc
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		echo "FAIL run-l1: L1 timed out after $L1_TIMEOUT s"
		failed=1
	elif [ "$qrc" != 0 ]; then
		echo "FAIL run-l1: L1 QEMU exited with status $qrc"
		failed=1
	fi
	grep -q '^L1-RESULT fail' "$log" && failed=1
	grep -q '^L1-RESULT fail /dev/kvm' "$log" &&
		echo "FAIL run-l1: /dev/kvm is missing inside L1 (kvm_amd did not load)"
	for s in "$@"; do
		grep -q "^L1-RESULT [a-z]* $(basename "$s")" "$log" || {
			echo "FAIL run-l1: no result for $(basename "$s")"
			failed=1
		}
	done
	grep -q '^L1-DONE' "$log" || failed=1
	if [ "$failed" != 0 ] && [ "${VERBOSE:-0}" != 1 ]; then
		echo "--- L1 QEMU stderr ($L1_LOG.stderr) ---"
		grep -v "TCG doesn't support requested feature" "$L1_LOG.stderr" | tail -n 20
		# L1 kernel trouble (the nested tier's own failures) by name,
		# wherever it is in the log.
		grep -E 'soft lockup|Kernel panic|BUG: |Oops' "$log" | head -n 5 |
			sed 's/^/L1-KERNEL-PROBLEM /'
		echo "--- L1 log tail ($L1_LOG) ---"
		tail -n 60 "$log"
		echo "--- end of L1 log ---"
	fi
	return $failed
}

case "$L1_MODE" in
direct) run_direct "$@" ;;
nested) run_nested "$@" ;;
*) die "L1_MODE must be auto, nested or direct" ;;
esac
