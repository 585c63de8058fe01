#!/usr/bin/env bash
# The host side of the Linux tier's host requests: what a test script in L1
# cannot do itself (run Chromium, far too heavy for the L1 machine) it asks
# of this host by printing, on its own line,
#
#   L1-HOST-REQUEST ID ACTION ARGS...
#
# run-l1.sh starts this agent (L1_HOST_AGENT) alongside the L1 machine; it
# follows the L1 serial log as QEMU writes it (tail -F: woken by new
# output, no polling), carries out each request in order and prints
#
#   L1-HOST-RESULT ok|fail SCRIPT ID ACTION [reason]
#
# SCRIPT being the test script that asked (the last L1-TEST-BEGIN line
# before the request). The script in L1 checks the effect inside (e.g. a
# line on its guest's serial console); run-l1.sh fails the script unless
# both sides succeed. The agent's other output lines start with "host: ".
# It ends at the line L1-HOST-AGENT-STOP, which run-l1.sh appends to the
# log once the L1 machine has ended.
#
# Actions:
#   web-type TEXT   open the web console at L1_WEB_URL (the vmm's --web
#                   port in L1, forwarded to this host) with the token of
#                   L1_WEB_TOKEN_FILE in headless Chromium
#                   (tests/web/linux_typing.mjs), type TEXT and Return.
#
# Environment (from run-l1.sh): L1_FOLLOW (the log), L1_WEB_URL,
# L1_WEB_TOKEN_FILE, L1_ARTIFACTS (path prefix for screenshots).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${L1_FOLLOW:?L1_FOLLOW must name the L1 serial log}"
ACTION_TIMEOUT=${ACTION_TIMEOUT:-240}

say() {
	printf 'host: %s\n' "$*"
}

# The web console's browser test needs node and playwright-core
# (tests/web/package.json); prepared once, while L1 boots.
web_ready=
web_prepare() {
	if [ ! -x /usr/bin/chromium ]; then
		web_ready="/usr/bin/chromium is missing (make deps)"
	elif ! command -v node >/dev/null; then
		web_ready="node is missing (make deps)"
	elif [ ! -f "$top/tests/web/node_modules/playwright-core/package.json" ] ||
		[ "$top/tests/web/package-lock.json" -nt "$top/tests/web/node_modules/.package-lock.json" ]; then
		if (cd "$top/tests/web" && npm ci --no-audit --no-fund --loglevel=error) >&2; then
			web_ready=ok
		else
			web_ready="npm ci in tests/web failed"
		fi
	else
		web_ready=ok
	fi
}

# web_type ID TEXT: prints the reason of a failure on fd 3.
web_type() {
	[ "$web_ready" = ok ] || { echo "$web_ready" >&3; return 1; }
	if [ -z "${L1_WEB_URL:-}" ] || [ ! -r "${L1_WEB_TOKEN_FILE:-}" ]; then
		echo "no forwarded web port (run-l1.sh's L1_WEB_PORT is not set)" >&3
		return 1
	fi
	say "web-type: $L1_WEB_URL, typing $(printf '%q' "$2")"
	timeout -k 5 "$ACTION_TIMEOUT" node "$top/tests/web/linux_typing.mjs" \
		"$L1_WEB_URL" "$L1_WEB_TOKEN_FILE" "$2" "${L1_ARTIFACTS:-/tmp/l1}.$1.png" 2>&1 |
		sed 's/^/host: /'
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] && return 0
	echo "the browser could not type into the web console (status $rc; its lines above)" >&3
	return 1
}

# handle SCRIPT ID ACTION [ARGS]
handle() {
	local script=$1 id=$2 action=$3 args=$4 why rc
	case $action in
	web-type)
		why=$(web_type "$id" "$args" 3>&1 >&4)
		rc=$?
		;;
	*)
		why="unknown action $action"
		rc=1
		;;
	esac
	if [ "$rc" = 0 ]; then
		echo "L1-HOST-RESULT ok $script $id $action"
	else
		echo "L1-HOST-RESULT fail $script $id $action ($why)"
	fi
}

web_prepare
# fd 4: the agent's output, for actions whose fd 1 carries the reason.
exec 4>&1

# From the first line on; -F: QEMU (re)creates the file. --pid: tail ends
# with this agent, however the agent ends.
exec {log}< <(exec tail -n +1 -F --pid=$$ "$L1_FOLLOW" 2>/dev/null)
tail_pid=$!
trap 'kill "$tail_pid" 2>/dev/null' EXIT

script=-
while IFS= read -r -u "$log" line; do
	line=${line%$'\r'}
	case $line in
	"L1-TEST-BEGIN "*)
		read -r _ script _ <<< "$line"
		;;
	"L1-HOST-REQUEST "*)
		read -r _ id action args <<< "$line"
		if [ -z "${action:-}" ]; then
			echo "L1-HOST-RESULT fail $script ${id:-?} - (malformed request: $line)"
			continue
		fi
		handle "$script" "$id" "$action" "${args:-}"
		;;
	L1-HOST-AGENT-STOP)
		exit 0
		;;
	esac
done
say "the log ended without L1-HOST-AGENT-STOP"
exit 1
