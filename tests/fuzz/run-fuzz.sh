#!/usr/bin/env bash
# Run every built libFuzzer harness ($FUZZ_DIR/fuzz_*, default build/fuzz)
# for a short while and fail if any of them finds a crash, a leak, a
# sanitizer report or a timeout.
#
#   tests/fuzz/run-fuzz.sh [name...]     default: every fuzz_* binary
#   FUZZ_SECONDS=20   time per harness (default 20)
#   FUZZ_RUNS=N       run N inputs instead of a time limit
#
# Each harness starts from tests/fuzz/corpus/<name>/ if it exists (copied,
# the checked-in seeds are never modified). Crash inputs are kept in
# $FUZZ_DIR/artifacts/ and reproduce with: $FUZZ_DIR/fuzz_<name> FILE
set -u
cd "$(dirname "$0")/../.."
FUZZ_DIR=${FUZZ_DIR:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_RUNS=${FUZZ_RUNS:-}

bins=()
if [ $# -gt 0 ]; then
	for n in "$@"; do bins+=("$FUZZ_DIR/fuzz_${n#fuzz_}"); done
else
	for b in "$FUZZ_DIR"/fuzz_*; do
		[ -f "$b" ] && [ -x "$b" ] && bins+=("$b")
	done
fi
if [ ${#bins[@]} -eq 0 ]; then
	echo "run-fuzz: no harness in $FUZZ_DIR (run 'make fuzz' first)" >&2
	exit 1
fi

mkdir -p "$FUZZ_DIR/artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for b in "${bins[@]}"; do
	name=$(basename "$b")
	if [ ! -x "$b" ]; then
		echo "FAIL $name: not built" >&2
		failed=1
		continue
	fi
	corpus="$work/$name"
	mkdir -p "$corpus"
	seeds="tests/fuzz/corpus/${name#fuzz_}"
	[ -d "$seeds" ] && cp -r "$seeds/." "$corpus/"
	if [ -n "$FUZZ_RUNS" ]; then
		limit=(-runs="$FUZZ_RUNS")
	else
		limit=(-max_total_time="$FUZZ_SECONDS")
	fi
	log="$work/$name.log"
	start=$SECONDS
	if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	   "$b" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-print_final_stats=1 \
		-artifact_prefix="$FUZZ_DIR/artifacts/$name-" "$corpus" \
		>"$log" 2>&1; then
		echo "PASS $name ($((SECONDS - start))s, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs)"
	else
		echo "FAIL $name -- last lines of its log:"
		tail -n 40 "$log" | sed 's/^/    /'
		failed=1
	fi
done
exit $failed
