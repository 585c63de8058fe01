#!/usr/bin/env bash
# Runs every test: unit tests (ASan+UBSan build), integration tests with the
# built-in guest on /dev/kvm, and the Linux tier. Prints one line per test
# and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
ASAN_BUILD=${ASAN_BUILD:-build/asan}
export VMM=${VMM:-$ASAN_BUILD/vmm}
export VMM_RELEASE=${VMM_RELEASE:-build/vmm}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LOGDIR=${LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"

if [ ! -c /dev/kvm ]; then
	echo "FATAL: /dev/kvm is missing: the KVM tests cannot run on this host" >&2
	exit 1
fi

passed=0
failed=0
failed_names=()

run_one() {
	local name=$1; shift
	local log="$LOGDIR/$name.log"
	mkdir -p "$(dirname "$log")"
	local start=$SECONDS
	if "$@" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "PASS $name ($((SECONDS - start))s)"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		echo "FAIL $name ($((SECONDS - start))s) -- last lines of $log:"
		tail -n 30 "$log" | sed 's/^/    /'
	fi
}

for t in "$ASAN_BUILD"/tests/unit/test_*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] && run_one "integration/$(basename "$t" .sh)" bash "$t"
done
run_one fuzz/run-fuzz bash tests/fuzz/run-fuzz.sh
# The Linux tier: one L1 machine for every tests/linux/test_*.sh
# (tests/linux/run-all.sh); one PASS/FAIL line per script, and a failed
# script's own FAIL lines (all of them are in the log).
run_linux_tier() {
	local log="$LOGDIR/linux/run-all.log" results="$LOGDIR/linux/results"
	local start=$SECONDS verdict name n=0 try=1 again
	mkdir -p "$LOGDIR/linux"
	: >"$results"
	bash tests/linux/run-all.sh >"$log" 2>&1
	# The nested tier (KVM inside QEMU 7.2's TCG emulating SVM) is not fully
	# reliable even after its known trigger was removed (transparent huge
	# pages in L1, see tests/linux/l1/init): the L1 kernel itself now and
	# then panics ("stack guard page was hit" on a vCPU thread) or locks up
	# in KVM code, seen with our vmm and, as a control, with QEMU as the L2
	# VMM, and an L2 guest may triple-fault (QEMU's too). Such a failure
	# hits whichever scripts run in that L1, and once an L1 goes bad several
	# do. So on that signature only, the scripts that failed (and only
	# those: a script that passed keeps its pass) run again in a fresh L1,
	# at most twice more, each time with a loud NOTE; a VMM bug that fails
	# every try still fails, and any other failure stands at once.
	while :; do
		grep -E '^PASS linux/' "$log" >>"$results"
		again=$(grep -E '^FAIL linux/' "$log" | awk '{ print "tests/" $2 ".sh" }')
		if [ "$try" -ge 3 ] || [ -z "$again" ] ||
		   ! grep -qE 'triple fault|L1 timed out|L1-KERNEL-PROBLEM' "$log"; then
			break
		fi
		mv "$log" "$log.try$try"
		echo "NOTE linux tier: try $try failed with the nested tier's known signature (L2 triple fault, L1 kernel panic or lockup, or L1 timeout: see $log.try$try); running again: ${again//$'\n'/ }"
		try=$((try + 1))
		# shellcheck disable=SC2086 # $again: paths without spaces
		bash tests/linux/run-all.sh $again >"$log" 2>&1
	done
	grep -E '^FAIL linux/' "$log" >>"$results"
	while read -r verdict name _; do
		n=$((n + 1))
		if [ "$verdict" = PASS ]; then
			passed=$((passed + 1))
			echo "PASS $name (Linux tier: $((SECONDS - start))s)"
		else
			failed=$((failed + 1))
			failed_names+=("$name")
			echo "FAIL $name -- its lines in $log:"
			sed -n "/^L1-TEST-BEGIN ${name#linux/}.sh/,/^L1-RESULT .* ${name#linux/}.sh/{p;/^L1-RESULT/q}" \
				"$log" | grep -E '^(FAIL|vmm:)' | tail -n 30 | sed 's/^/    /'
			# The host's side of its requests (host-agent.sh).
			grep -F "L1-HOST-RESULT fail ${name#linux/}.sh " "$log" | sed 's/^/    /'
		fi
	done < <(sort -k2 "$results")
	if [ "$n" -eq 0 ]; then
		failed=$((failed + 1))
		failed_names+=(linux/run-all)
		echo "FAIL linux/run-all -- last lines of $log:"
		tail -n 30 "$log" | sed 's/^/    /'
	fi
}
if [ "${SKIP_LINUX_TIER:-0}" != 1 ]; then
	run_linux_tier
fi

echo
if [ "$failed" -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
