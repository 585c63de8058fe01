#!/usr/bin/env bash
# The browser path of the benchmarks (issue 7 scenario 7): our console page
# (noVNC) in headless Chromium against one target, measured by
# tests/bench/browser_bench.mjs. A benchmark, not a test: it prints BENCH
# lines (vncbench's format) and fails only when it could not measure.
#
#   run-browser-bench.sh --mode latency|anim --url URL|stderr [--serve DIR]
#       [--keys N] [--seconds S] [--warmup S]
#       [--wait-file FILE --wait-for STRING] [--start-timeout S] [-- CMD...]
#
# With "-- CMD...", CMD is started (stderr kept), waited for, measured (its
# CPU time too, in anim mode) and stopped (SIGTERM) afterwards; without it
# the target must be running already. Ready means: the console URL is known
# (--url stderr: the "vmm: console: URL" line CMD prints), the --wait-for
# string is in --wait-file (e.g. the guest's "RESULT input ready" on the
# debug port) and the URL's port accepts connections.
#
# Our vmm (the page and its token from the vmm itself):
#   run-browser-bench.sh --mode latency --url stderr --wait-file /tmp/dbg \
#     --wait-for 'input ready' -- build/vmm --demo --vnc none --serial none \
#     --web 127.0.0.1:6640 --debugcon /tmp/dbg --append test=input
#   run-browser-bench.sh --mode anim --url stderr -- build/vmm --demo \
#     --vnc none --serial none --web 127.0.0.1:6640 --append test=vga-anim
# QEMU's WebSocket VNC (no HTTP server: the same page is served by the
# script inside the browser, the WebSocket goes to QEMU):
#   run-browser-bench.sh --mode anim --url http://127.0.0.1:6641/ \
#     --serve build/web -- qemu-system-x86_64 ... -vga std \
#     -vnc 127.0.0.1:N,websocket=6641 -kernel build/builtin/guest.elf \
#     -append test=vga-anim
# With no arguments: both modes on our release vmm (build/vmm), ports
# 6640-6641.
#
# Environment: CHROMIUM (/usr/bin/chromium), BENCH_WEB (build/web: the page
# for --serve when none is given).
set -uo pipefail
cd "$(dirname "$0")/../.."

die() { echo "run-browser-bench: $*" >&2; exit 1; }

if [ $# -eq 0 ]; then
	vmm=${VMM:-build/vmm}
	[ -x "$vmm" ] || die "$vmm is not built (make bins)"
	dbg=$(mktemp)
	trap 'rm -f "$dbg"' EXIT
	"$0" --mode latency --url stderr --wait-file "$dbg" --wait-for 'input ready' -- \
		"$vmm" --demo --vnc none --serial none --web 127.0.0.1:6640 \
		--debugcon "$dbg" --append test=input || exit 1
	: >"$dbg"
	"$0" --mode anim --url stderr --wait-file "$dbg" --wait-for 'vga-anim ready' -- \
		"$vmm" --demo --vnc none --serial none --web 127.0.0.1:6641 \
		--debugcon "$dbg" --append test=vga-anim
	exit
fi

mode= url= serve= wait_file= wait_for= start_timeout=30 node_args=() cmd=()
while [ $# -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--url) url=$2; shift 2 ;;
	--serve) serve=$2; shift 2 ;;
	--keys|--seconds|--warmup) node_args+=("$1" "$2"); shift 2 ;;
	--wait-file) wait_file=$2; shift 2 ;;
	--wait-for) wait_for=$2; shift 2 ;;
	--start-timeout) start_timeout=$2; shift 2 ;;
	--) shift; cmd=("$@"); break ;;
	*) die "unknown argument '$1' (see the comment at the top)" ;;
	esac
done
[ "$mode" = latency ] || [ "$mode" = anim ] || die "--mode latency or anim"
[ -n "$url" ] || die "--url URL (or stderr)"
[ "$url" != stderr ] || [ ${#cmd[@]} -gt 0 ] || die "--url stderr needs -- CMD"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "no chromium (make deps)"
command -v node >/dev/null || die "no node (make deps)"
if [ ! -f tests/web/node_modules/playwright-core/package.json ]; then
	(cd tests/web && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
		die "npm ci in tests/web failed"
fi
if [ -n "$serve" ]; then
	[ -f "$serve/index.html" ] || die "--serve $serve: no index.html (make bins builds build/web)"
	node_args+=(--serve "$serve")
fi

tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ${#cmd[@]} -gt 0 ]; then
	# A stale "ready" from an earlier run must not count.
	[ -z "$wait_file" ] || : >"$wait_file"
	"${cmd[@]}" >/dev/null 2>"$tmp/stderr" &
	pid=$!
	node_args+=(--pid "$pid" --clk-tck "$(getconf CLK_TCK)")
fi

# Ready: URL known, guest ready, port open (a deadline, polled).
port_open() {
	local hp=${1#*://}
	hp=${hp%%/*}
	(exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}") 2>/dev/null
}
deadline=$((SECONDS + start_timeout))
while :; do
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		pid=
		die "the target exited: $(tail -n 3 "$tmp/stderr" | sed 's/token=[^ ]*/token=.../g')"
	fi
	u=$url
	[ "$u" = stderr ] && u=$(grep -o 'vmm: console: [^ ]*' "$tmp/stderr" | head -1 | cut -d' ' -f3)
	ready=1
	[ -n "$u" ] || ready=0
	if [ -n "$wait_file" ] && ! grep -qF -- "$wait_for" "$wait_file" 2>/dev/null; then
		ready=0
	fi
	[ "$ready" = 1 ] && port_open "$u" && break
	[ "$SECONDS" -lt "$deadline" ] || die "the target was not ready within ${start_timeout}s"
	sleep 0.05
done

node tests/bench/browser_bench.mjs --url "$u" --mode "$mode" "${node_args[@]}"
