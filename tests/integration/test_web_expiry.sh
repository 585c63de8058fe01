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
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${WEB_EXPIRY_PORT:-6601}}
[ -c /dev/kvm ] || { echo "FATAL: /dev/kvm is missing: cannot run the built-in guest" >&2; exit 1; }
[ -x "$VMM" ] || { echo "FATAL: $VMM is not built" >&2; exit 1; }

tmp=$(mktemp -d)
vmm_pid=
cleanup() {
	if [ -n "$vmm_pid" ]; then
		kill "$vmm_pid" 2>/dev/null || true
		wait "$vmm_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); return 0; }
mktoken() { echo "$1_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"; }

LONG=$(mktoken long)
SHORT=$(mktoken short)
echo "$LONG" >"$tmp/tokens"

"$VMM" --demo --append test=input --vnc none --serial none \
	--web "127.0.0.1:$PORT" --web-token-file "$tmp/tokens" 2>"$tmp/err" &
vmm_pid=$!
for _ in $(seq 1 100); do
	grep -q 'vmm: console: http://' "$tmp/err" && break
	kill -0 "$vmm_pid" 2>/dev/null || break
	sleep 0.1
done
grep -q 'vmm: console: http://' "$tmp/err" ||
	{ fail start "no console URL"; cat "$tmp/err"; exit 1; }

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

kill "$vmm_pid"; rc=0; wait "$vmm_pid" || rc=$?; vmm_pid=
[ "$rc" = 0 ] && ok "vmm exited with 0" || fail exit "vmm exited with $rc"
if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err"; then
	fail sanitizer "$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err")"
fi
[ "$fails" = 0 ] && echo "all ok" || echo "$fails failed"
[ "$fails" = 0 ]
