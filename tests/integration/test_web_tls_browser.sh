#!/usr/bin/env bash
# WSS with the generated CA in Chromium, the certificate really verified:
# certs/make-certs.sh makes the VMM's CA and certificate; certutil
# (libnss3-tools) puts the CA, trusted for TLS servers ("C,,"), into an NSS
# database under a temporary HOME ($HOME/.pki/nssdb, where Chromium on
# Linux looks); tests/web/tls_test.mjs then opens the https:// console URL
# and checks that it connects through wss:// and shows the console (canvas
# == screendump). A second HOME trusting another CA (same name, other key)
# must not load the page nor open a wss:// socket.
#
#   tests/integration/test_web_tls_browser.sh [VMM] [PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${WEB_TLS_BROWSER_PORT:-6602}}
[ -c /dev/kvm ] || { echo "FATAL: /dev/kvm is missing: cannot run the built-in guest" >&2; exit 1; }
[ -x "$VMM" ] || { echo "FATAL: $VMM is not built" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "FATAL: /usr/bin/chromium is missing (make deps)" >&2; exit 1; }
command -v certutil >/dev/null || { echo "FATAL: certutil is missing (make deps: libnss3-tools)" >&2; exit 1; }
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

# An NSS database in HOME/.pki/nssdb trusting the CA in $2 for TLS servers.
nssdb() {
	mkdir -p "$1/.pki/nssdb"
	certutil -N -d "sql:$1/.pki/nssdb" --empty-password &&
	certutil -A -d "sql:$1/.pki/nssdb" -n "vmm test CA" -t "C,," -i "$2" &&
	certutil -L -d "sql:$1/.pki/nssdb" | grep -q 'vmm test CA *C,,'
}
bash certs/make-certs.sh -o "$tmp/tls" >/dev/null 2>&1 &&
	bash certs/make-certs.sh -o "$tmp/other" >/dev/null 2>&1 ||
	{ echo "FAIL certs: certs/make-certs.sh failed"; exit 1; }
cmp -s "$tmp/tls/ca-cert.pem" "$tmp/other/ca-cert.pem" &&
	{ echo "FAIL certs: the two CAs are the same"; exit 1; }
nssdb "$tmp/good" "$tmp/tls/ca-cert.pem" && nssdb "$tmp/bad" "$tmp/other/ca-cert.pem" ||
	{ echo "FAIL nssdb: certutil could not make the NSS databases"; exit 1; }
ok "NSS databases: one trusts the VMM's CA, one another CA"

"$VMM" --demo --append test=input --vnc none --serial none --web "127.0.0.1:$PORT" \
	--tls-dir "$tmp/tls" --control "unix:$tmp/ctl" 2>"$tmp/err" &
vmm_pid=$!
url=
for _ in $(seq 1 100); do
	url=$(grep -o 'vmm: console: https://[^ ]*' "$tmp/err" | head -1 | cut -d' ' -f3 || true)
	[ -n "$url" ] && [ -S "$tmp/ctl" ] && break
	kill -0 "$vmm_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$url" ] || { fail start "no https console URL"; cat "$tmp/err"; exit 1; }

if timeout 180 node tests/web/tls_test.mjs "$url" "$tmp/good" "$tmp/bad" "$tmp/ctl" "$tmp" \
	"$tmp/err"; then
	ok "chromium verifies the VMM's certificate"
else
	fail tls_test "see the lines above"
	tail -n 20 "$tmp/err"
fi

kill "$vmm_pid"; rc=0; wait "$vmm_pid" || rc=$?; vmm_pid=
[ "$rc" = 0 ] && ok "vmm exited with 0" || fail exit "vmm exited with $rc"
if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err"; then
	fail sanitizer "$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err")"
fi
[ "$fails" = 0 ] && echo "all ok" || echo "$fails failed"
[ "$fails" = 0 ]
