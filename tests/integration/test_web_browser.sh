#!/usr/bin/env bash
# The web console in Debian's Chromium (headless, driven by playwright-core
# from tests/web/package.json; never downloads a browser) against
# `vmm --demo --append test=input --web`: the page loads and connects, the
# canvas equals the VMM's screendump, typed keys, the Ctrl-Alt-Del button,
# the send-key menu and a 200-character paste-as-keystrokes reach the guest
# exactly, a view-only token cannot type, bad tokens get 403, the page
# reconnects by itself. Prints the key-to-canvas latency (p50/p99).
#
#   tests/integration/test_web_browser.sh [VMM] [PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${WEB_BROWSER_PORT:-6120}}
[ -c /dev/kvm ] || { echo "FATAL: /dev/kvm is missing: cannot run the built-in guest" >&2; exit 1; }
[ -x "$VMM" ] || { echo "FATAL: $VMM is not built" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "FATAL: /usr/bin/chromium is missing (make deps)" >&2; exit 1; }
command -v node >/dev/null || { echo "FATAL: node is missing (make deps)" >&2; exit 1; }
if [ ! -f tests/web/node_modules/playwright-core/package.json ] ||
   [ tests/web/package-lock.json -nt tests/web/node_modules/.package-lock.json ]; then
	(cd tests/web && npm ci --no-audit --no-fund --loglevel=error) ||
		{ echo "FATAL: npm ci in tests/web failed" >&2; exit 1; }
fi

tmp=$(mktemp -d)
vmm_pid=
cleanup() {
	if [ -n "$vmm_pid" ]; then
		kill "$vmm_pid" 2>/dev/null || true
		wait "$vmm_pid" 2>/dev/null || true
	fi
	[ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); return 0; }

VIEW=viewonly_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
EXPIRED=expired_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
printf '%s view-only\n%s expires=1000000000\n' "$VIEW" "$EXPIRED" >"$tmp/tokens"
: >"$tmp/debugcon"

"$VMM" --demo --append test=input --vnc none --serial none \
	--web "127.0.0.1:$PORT" --web-token-file "$tmp/tokens" \
	--control "unix:$tmp/ctl" --debugcon "$tmp/debugcon" 2>"$tmp/err" &
vmm_pid=$!
url=
for _ in $(seq 1 100); do
	url=$(grep -o 'vmm: console: http://[^ ]*' "$tmp/err" | head -1 | cut -d' ' -f3 || true)
	[ -n "$url" ] && grep -q '^RESULT input ready' "$tmp/debugcon" && break
	kill -0 "$vmm_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$url" ] || ! grep -q '^RESULT input ready' "$tmp/debugcon"; then
	fail start "no console URL or guest not ready"; cat "$tmp/err"; exit 1
fi
TOKEN=${url##*token=}

if timeout 300 node tests/web/console_test.mjs "http://127.0.0.1:$PORT" "$TOKEN" "$VIEW" \
	"$EXPIRED" "$tmp/debugcon" "$tmp/ctl" "$tmp"; then
	ok "console_test"
else
	fail console_test "see the lines above"
	tail -n 20 "$tmp/err"
fi

python3 -c "import socket;s=socket.socket(socket.AF_UNIX);s.connect('$tmp/ctl');s.sendall(b'{\"cmd\":\"quit\"}\n');s.recv(100)"
rc=0
wait "$vmm_pid" || rc=$?
vmm_pid=
[ "$rc" = 0 ] && ok "vmm exited with 0" || fail exit "vmm exited with $rc"
if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err"; then
	fail sanitizer "$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err")"
fi
[ "$fails" = 0 ] && echo "all ok" || echo "$fails failed"
[ "$fails" = 0 ]
