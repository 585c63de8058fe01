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
if [ "${SKIP_LINUX_TIER:-0}" != 1 ]; then
	for t in tests/linux/test_*.sh; do
		[ -f "$t" ] && run_one "linux/$(basename "$t" .sh)" bash "$t"
	done
fi

echo
if [ "$failed" -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
