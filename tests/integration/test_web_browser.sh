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
. tests/integration/lib.sh
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${WEB_BROWSER_PORT:-6120}}
require_kvm
require_exe "$VMM"
require_browser
make_tmp

VIEW=$(mktoken viewonly)
EXPIRED=$(mktoken expired)
printf '%s view-only\n%s expires=1000000000\n' "$VIEW" "$EXPIRED" >"$tmp/tokens"
: >"$tmp/debugcon"

"$VMM" --demo --append test=input --vnc none --serial none \
	--web "127.0.0.1:$PORT" --web-token-file "$tmp/tokens" \
	--control "unix:$tmp/ctl" --debugcon "$tmp/debugcon" 2>"$tmp/err" &
vmm_pid=$!
wait_console http "no console URL or guest not ready" "RESULT input ready"

if timeout 300 node tests/web/console_test.mjs "http://127.0.0.1:$PORT" "$TOKEN" "$VIEW" \
	"$EXPIRED" "$tmp/debugcon" "$tmp/ctl" "$tmp"; then
	ok "console_test"
else
	fail console_test "see the lines above"
	tail -n 20 "$tmp/err"
fi

control "$tmp/ctl" '{"cmd":"quit"}' >/dev/null
expect_clean_exit
finish "all ok"
