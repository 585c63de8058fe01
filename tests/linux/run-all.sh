#!/bin/sh
# Run the Linux-tier tests in ONE L1 machine (one QEMU TCG boot: ~10 s of
# L1 boot and KVM module loading paid once, not per script).
#
#   tests/linux/run-all.sh [SCRIPT...]     default: tests/linux/test_*.sh
#
# Puts the test tools (vmmctl, pngstat, vnctype, vncresize from `make bins`, in
# $BUILD/tests/tools) on PATH here and in L1, then hands over to run-l1.sh,
# whose environment knobs (VMM, L1_TIMEOUT, VERBOSE, ...) all apply.
# The host side comes along: a forwarded web port (L1_WEB_PORT, default
# auto: a free one) and tests/linux/host-agent.sh (L1_HOST_AGENT), which
# runs Chromium on this host for test_linux_web.sh's requests.
# Output: each script's ok/FAIL lines, then one line per script,
#   PASS linux/test_NAME   or   FAIL linux/test_NAME
# and the exit status is non-zero when any script failed or did not run.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# Paths given relative to the caller's directory.
if [ -n "${VMM:-}" ] && [ -e "$VMM" ]; then
	VMM=$(realpath "$VMM")
	export VMM
fi
scripts=
for s in "$@"; do
	[ -f "$s" ] || { echo "FAIL run-all: no such test script: $s"; exit 1; }
	scripts="$scripts $(realpath "$s")"
done
cd "$top" || exit 1
[ -n "$scripts" ] || scripts=$(ls tests/linux/test_*.sh)

tools=$(realpath "${BUILD:-build}/tests/tools" 2>/dev/null)
for t in vmmctl pngstat vnctype vncresize; do
	[ -x "$tools/$t" ] || {
		echo "FAIL run-all: ${BUILD:-build}/tests/tools/$t is missing: run make bins"
		exit 1
	}
done
PATH=$tools:$PATH
L1_EXTRA_BINS="${L1_EXTRA_BINS:-} vmmctl pngstat vnctype vncresize"
L1_WEB_PORT=${L1_WEB_PORT:-auto}
L1_HOST_AGENT=${L1_HOST_AGENT:-$here/host-agent.sh}
export PATH L1_EXTRA_BINS L1_WEB_PORT L1_HOST_AGENT

log=$(mktemp "${TMPDIR:-/tmp}/linux-tier.XXXXXX") || exit 1
trap 'rm -f "$log" "$log.rc"' EXIT
# shellcheck disable=SC2086 # $scripts: paths without spaces
{ "$here/run-l1.sh" $scripts 2>&1; echo $? > "$log.rc"; } | tee "$log"
rc=$(cat "$log.rc")
[ "$rc" = 0 ] || rc=1

echo
for s in $scripts; do
	t=$(basename "$s")
	# The host's side of its requests (run-l1.sh's L1-HOST-RESULT).
	host=$(grep -F "L1-HOST-RESULT fail $t " "$log" | head -n 1)
	if [ -n "$host" ]; then
		echo "FAIL linux/${t%.sh} (host side: ${host#"L1-HOST-RESULT fail $t "})"
		rc=1
	elif grep -q "^L1-RESULT ok $t\$" "$log"; then
		echo "PASS linux/${t%.sh}"
	elif grep -q "^L1-RESULT fail $t" "$log"; then
		echo "FAIL linux/${t%.sh}"
		rc=1
	else
		echo "FAIL linux/${t%.sh} (no result: the L1 run ended early)"
		rc=1
	fi
done
exit "$rc"
