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
. tests/integration/lib.sh
VMM=${1:-${VMM:-build/asan/vmm}}
PORT=${2:-${WEB_TLS_BROWSER_PORT:-6602}}
require_kvm
require_exe "$VMM"
require_browser
require_cmd certutil "(make deps: libnss3-tools)"
make_tmp

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
wait_console https "no https console URL"
wait_for 10 test -S "$tmp/ctl" || true    # tls_test.mjs takes screendumps

if timeout 180 node tests/web/tls_test.mjs "$url" "$tmp/good" "$tmp/bad" "$tmp/ctl" "$tmp" \
	"$tmp/err"; then
	ok "chromium verifies the VMM's certificate"
else
	fail tls_test "see the lines above"
	tail -n 20 "$tmp/err"
fi

kill "$vmm_pid"
expect_clean_exit
finish "all ok"
