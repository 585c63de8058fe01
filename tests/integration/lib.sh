# shellcheck shell=bash
# What the integration scripts (tests/integration/test_*.sh) share. Sourced,
# after the script has gone to the top of the repository:
#
#	cd "$(dirname "$0")/../.."
#	. tests/integration/lib.sh
#
# It sets fails=0, vmm_pid= (the vmm in the background, if any) and pids=()
# (other background processes); cleanup at exit kills them all.

fails=0
vmm_pid=
pids=()

# The lines ASan, LSan and UBSan start their reports with.
SANITIZER_REPORT='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'

# --- what a script needs before it starts --------------------------------------

# fatal MESSAGE: "FATAL: MESSAGE" on stderr and exit 1.
fatal() {
	echo "FATAL: $*" >&2
	exit 1
}

# A test needing KVM fails loudly without it.
require_kvm() {
	[ -c /dev/kvm ] || fatal "/dev/kvm is missing: cannot run the built-in guest"
}

# require_exe FILE [HINT]: FILE is a built program.
require_exe() {
	[ -x "$1" ] || fatal "$1 is not built${2:+ $2}"
}

# require_file FILE [HINT]: FILE is built.
require_file() {
	[ -f "$1" ] || fatal "$1 is not built${2:+ $2}"
}

# require_cmd NAME [HINT]: the command NAME is installed.
require_cmd() {
	command -v "$1" >/dev/null || fatal "$1 is missing${2:+ $2}"
}

# Debian's Chromium, node, and playwright-core from tests/web/package.json
# (installed by npm ci when missing or older than the lock file).
require_browser() {
	[ -x /usr/bin/chromium ] || fatal "/usr/bin/chromium is missing (make deps)"
	require_cmd node "(make deps)"
	if [ ! -f tests/web/node_modules/playwright-core/package.json ] ||
	   [ tests/web/package-lock.json -nt tests/web/node_modules/.package-lock.json ]; then
		(cd tests/web && npm ci --no-audit --no-fund --loglevel=error) ||
			fatal "npm ci in tests/web failed"
	fi
}

# --- the temporary directory and cleanup ---------------------------------------

# make_tmp: $tmp, a new directory, removed at exit (kept, and named, when
# KEEP_TMP is set); at exit the vmm and every pid in pids are killed first
# and fd 3 (a serial input fifo) is closed.
make_tmp() {
	tmp=$(mktemp -d)
	trap cleanup EXIT
}

cleanup() {
	local p
	for p in $vmm_pid "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	exec 3>&- || true
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}

# --- verdicts ---------------------------------------------------------------------

ok() { echo "ok $1"; }

# fail NAME REASON: a FAIL line, counted; then the command in ON_FAIL, if
# the script set one (to show the logs that explain it).
fail() {
	echo "FAIL $1: $2"
	fails=$((fails + 1))
	if [ -n "${ON_FAIL:-}" ]; then
		$ON_FAIL
	fi
	return 0
}

# finish [LINE]: the last line, LINE (default "all ok") or how many failed;
# exit status 0 only if nothing failed.
finish() {
	if [ "$fails" -ne 0 ]; then
		echo "$fails case(s) failed"
		exit 1
	fi
	echo "${1:-all ok}"
	exit 0
}

# expect_ok NAME COMMAND...: ok NAME if COMMAND succeeds, else FAIL NAME
# with its output (kept in $tmp/cmp).
expect_ok() {
	local name=$1
	shift
	if "$@" >"$tmp/cmp" 2>&1; then
		ok "$name"
	else
		fail "$name" "$(cat "$tmp/cmp")"
	fi
}

# indent_log LABEL: its input's lines as "    LABEL: line".
indent_log() {
	sed "s|^|    $1: |"
}

# For ON_FAIL: the start of the built-in guest's debug port output and of
# the vmm's stderr ($tmp/dbg, $tmp/err).
show_guest_logs() {
	local f
	for f in "$tmp/dbg" "$tmp/err"; do
		if [ -s "$f" ]; then
			indent_log "${f##*/}" <"$f" | head -n 20
		fi
	done
}

# For ON_FAIL: the end of the vmm's stderr ($tmp/err).
show_vmm_err() {
	if [ -s "$tmp/err" ]; then
		indent_log vmm <"$tmp/err" | tail -n 20
	fi
}

# --- waiting for events -------------------------------------------------------------

# wait_for SECONDS COMMAND...: runs COMMAND every 0.05 s until it succeeds
# (status 0) or SECONDS pass (status 1). Gives up at once, after a last
# try, when the vmm ($vmm_pid, if set) has exited.
wait_for() {
	local i tries=$(($1 * 20))
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		if [ -n "$vmm_pid" ] && ! kill -0 "$vmm_pid" 2>/dev/null; then
			"$@"
			return
		fi
		sleep 0.05
	done
	return 1
}

# tcp_open PORT: something accepts on 127.0.0.1:PORT.
tcp_open() {
	(exec 4<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# vmm_exited: the vmm ($vmm_pid) is no longer running.
vmm_exited() {
	! kill -0 "$vmm_pid" 2>/dev/null
}

# read_console_url SCHEME: sets $url to the console URL the vmm printed on
# its stderr ($tmp/err: "vmm: console: SCHEME://..."); status 1 until then.
read_console_url() {
	url=$(grep -o "vmm: console: $1://[^ ]*" "$tmp/err" | head -1 | cut -d' ' -f3 || true)
	[ -n "$url" ]
}

# wait_console SCHEME MESSAGE [GUEST_LINE]: waits (10 s) until the vmm has
# printed its console URL (sets $url, and $TOKEN to its token) and, if
# GUEST_LINE is given, the guest has written a line starting with it to
# $tmp/debugcon. If not: FAIL start MESSAGE, the vmm's stderr, exit 1.
wait_console() {
	if ! wait_for 10 console_ready "$1" "${3:-}"; then
		fail start "$2"
		cat "$tmp/err"
		exit 1
	fi
	# shellcheck disable=SC2034  # for the script
	TOKEN=${url##*token=}
}

console_ready() {
	read_console_url "$1" && { [ -z "$2" ] || grep -q "^$2" "$tmp/debugcon"; }
}

# --- the vmm ----------------------------------------------------------------------

# control SOCKET JSON: one command on the vmm's control socket; prints the
# reply.
control() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline(), end="")' "$1" "$2"
}

# json_field NAME...: the fields NAME... of the JSON object on its input,
# space-separated.
json_field() {
	python3 -c '
import json, sys
r = json.load(sys.stdin)
print(*(r[k] for k in sys.argv[1:]))' "$@"
}

# expect_exit0: waits for the vmm ($vmm_pid) to exit: ok if with status 0,
# FAIL exit if not.
expect_exit0() {
	local rc=0
	wait "$vmm_pid" || rc=$?
	vmm_pid=
	if [ "$rc" = 0 ]; then
		ok "vmm exited with 0"
	else
		fail exit "vmm exited with $rc"
	fi
}

# no_sanitizer_report: FAIL sanitizer, with its first line, if the vmm's
# stderr ($tmp/err) holds an ASan, LSan or UBSan report (status 1 then).
no_sanitizer_report() {
	if grep -q -E "$SANITIZER_REPORT" "$tmp/err"; then
		fail sanitizer "$(grep -m1 -E "$SANITIZER_REPORT" "$tmp/err")"
		return 1
	fi
}

# expect_clean_exit: expect_exit0 and no_sanitizer_report.
expect_clean_exit() {
	expect_exit0
	no_sanitizer_report || true
}

# measure_idle: the vmm's CPU use over one second: sets $used to the clock
# ticks it used and $hz to the ticks in a second.
# shellcheck disable=SC2034  # hz and used are its results
measure_idle() {
	local t0 t1
	hz=$(getconf CLK_TCK)
	t0=$(awk '{ print $14 + $15 }' "/proc/$vmm_pid/stat")
	sleep 1
	t1=$(awk '{ print $14 + $15 }' "/proc/$vmm_pid/stat")
	used=$((t1 - t0))
}

# mktoken PREFIX: a fresh random web console token, PREFIX_<24 characters>.
mktoken() {
	echo "$1_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
}

# --- the built-in guest ($VMM --kernel $GUEST) ----------------------------------------

# run_guest APPEND [vmm options...]: runs the guest to its end (at most
# RUN_TIMEOUT seconds, default 60), sets $rc; debug port output in $tmp/dbg,
# serial in $tmp/ser, stderr in $tmp/err.
run_guest() {
	local append=$1
	shift
	rm -f "$tmp/dbg" "$tmp/ser" "$tmp/err"
	rc=0
	timeout "${RUN_TIMEOUT:-60}" "$VMM" --kernel "$GUEST" --append "$append" \
		--debug-exit --vnc none --debugcon "$tmp/dbg" --serial "file:$tmp/ser" \
		"$@" </dev/null >/dev/null 2>"$tmp/err" || rc=$?
	touch "$tmp/dbg" "$tmp/ser"
}

# start_guest APPEND [vmm options...]: the guest in the background (at most
# GUEST_TIMEOUT seconds, default 60) with the control socket $tmp/c.sock,
# serial input from the fifo $tmp/in (fd 3 keeps it open), output in
# $tmp/out, debug port in $tmp/dbg; waits for the guest's first RESULT line.
start_guest() {
	local append=$1
	shift
	rm -f "$tmp/dbg" "$tmp/err" "$tmp/c.sock" "$tmp/in"
	touch "$tmp/dbg"
	mkfifo "$tmp/in"
	timeout "${GUEST_TIMEOUT:-60}" "$VMM" --kernel "$GUEST" --append "$append" \
		--debug-exit --debugcon "$tmp/dbg" --serial stdio \
		--control "unix:$tmp/c.sock" "$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
	vmm_pid=$!
	exec 3>"$tmp/in"
	wait_for 30 guest_ready
}

guest_ready() {
	grep -q '^RESULT' "$tmp/dbg" && [ -S "$tmp/c.sock" ]
}

# stop_guest: "q" on serial, sets $rc to the vmm's exit status.
stop_guest() {
	printf q >&3 || true
	rc=0
	wait "$vmm_pid" || rc=$?
	vmm_pid=
	exec 3>&-
}

# quit_guest NAME: stop_guest; FAIL NAME unless the vmm exited with status
# 0 and without a sanitizer report.
quit_guest() {
	stop_guest
	if [ "$rc" -ne 0 ]; then
		fail "$1" "exit status $rc after q, want 0"
	elif ! sanitizer_clean; then
		fail "$1" "sanitizer report"
	fi
}

# sanitizer_clean: nothing like a sanitizer report or a crash in $tmp/err.
sanitizer_clean() {
	! grep -qiE 'sanitizer|runtime error|segmentation' "$tmp/err"
}

# check_anim NAME [vmm options...]: test=NAME with frames=120 ends by itself
# with status 0 after reporting frame 120.
check_anim() {
	local name=$1
	shift
	run_guest "test=$name w=320 h=200 frames=120" "$@"
	if [ "$rc" -ne 0 ]; then
		fail "$name" "exit status $rc, want 0"
	elif ! grep -q '^INFO frame 120 ' "$tmp/dbg"; then
		fail "$name" "no 'INFO frame 120' line"
	elif ! grep -q "^RESULT $name ok frames=120 " "$tmp/dbg"; then
		fail "$name" "no 'RESULT $name ok frames=120' line"
	else
		ok "$name"
	fi
}
