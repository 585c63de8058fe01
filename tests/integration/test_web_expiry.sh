#!/usr/bin/env bash
# A token that expires while its browser console is open: the bridge's
# timer closes that connection (WebSocket close 1008 "token expired") at the
# expiry, not before, and leaves other connections alone; a new upgrade with
# it gets 403 (tests/integration/web_expiry.py waits for the close with a
# deadline). The token is added to --web-token-file after the VMM is up (the
# file is read again when it changes), so its expiry, 4 s ahead, does not
# depend on how long the VMM takes to start.
#
#   tests/integration/test_web_expiry.sh [VMM] [PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${WEB_EXPIRY_PORT:-6601}}
require_kvm
require_exe "$VMM"
make_tmp

LONG=$(mktoken long)
SHORT=$(mktoken short)
echo "$LONG" >"$tmp/tokens"

"$VMM" --demo --append test=input --vnc none --serial none \
	--web "127.0.0.1:$PORT" --web-token-file "$tmp/tokens" 2>"$tmp/err" &
vmm_pid=$!
wait_console http "no console URL"

expires=$(($(date +%s) + 4))
printf '%s\n%s expires=%s\n' "$LONG" "$SHORT" "$expires" >"$tmp/tokens.new"
mv "$tmp/tokens.new" "$tmp/tokens"

if timeout 60 python3 tests/integration/web_expiry.py "$PORT" "$SHORT" "$expires" "$LONG"; then
	ok "token expiry while connected"
else
	fail expiry "see above"
	tail -n 20 "$tmp/err"
fi
grep -q 'token expired: closing' "$tmp/err" && ok "the VMM logged the expiry" ||
	fail log "no 'token expired: closing' in the log"
if grep -q -e "$SHORT" -e "$LONG" "$tmp/err"; then
	fail secret "a token appears in the log"
fi

kill "$vmm_pid"
expect_clean_exit
finish "all ok"
