#!/usr/bin/env bash
# Every bad input gives one clear line on stderr and a non-zero exit, never a
# crash: missing/unreadable/wrong kernel, oversized initrd, bad sizes and
# counts, bad flags, and /dev/kvm absent or not permitted.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${VMM:-build/asan/vmm}
require_exe "$VMM"
require_kvm
VMM=$(realpath "$VMM")
GUEST=$(realpath build/builtin/guest.elf)
make_tmp

# expect_error NAME PATTERN -- command...
expect_error() {
	local name=$1 pattern=$2
	shift 3
	local out rc
	out=$(timeout 20 "$@" </dev/null 2>&1 >/dev/null)
	rc=$?
	local lines
	lines=$(printf '%s\n' "$out" | grep -c .)
	if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
		echo "FAIL $name: exit status $rc (want a plain non-zero exit)"; fails=$((fails + 1))
	elif ! printf '%s' "$out" | grep -qiE -e "$pattern"; then
		echo "FAIL $name: stderr does not match /$pattern/: $out"; fails=$((fails + 1))
	elif [ "$lines" -ne 1 ]; then
		echo "FAIL $name: want exactly one line on stderr, got $lines: $out"; fails=$((fails + 1))
	elif printf '%s' "$out" | grep -qiE 'sanitizer|segmentation|core dumped'; then
		echo "FAIL $name: crashed: $out"; fails=$((fails + 1))
	else
		echo "ok $name: $out"
	fi
}

printf 'this is not a kernel, just some text\n%.0s' {1..200} > "$tmp/text"
: > "$tmp/empty"
printf '\177ELF' > "$tmp/short-elf"
head -c 600 /dev/zero > "$tmp/zeros"
chmod 644 "$tmp/text"; cp "$tmp/text" "$tmp/unreadable"; chmod 000 "$tmp/unreadable"
head -c $((20 << 20)) /dev/zero > "$tmp/big-initrd"

expect_error missing-kernel "cannot open kernel.*No such file" -- "$VMM" --kernel "$tmp/nope"
expect_error no-kernel "no kernel" -- "$VMM"
expect_error kernel-dir "not a regular file" -- "$VMM" --kernel "$tmp"
expect_error empty-kernel "empty" -- "$VMM" --kernel "$tmp/empty"
expect_error text-kernel "not a bzImage or ELF" -- "$VMM" --kernel "$tmp/text"
expect_error zero-kernel "not a bzImage or ELF" -- "$VMM" --kernel "$tmp/zeros"
expect_error truncated-elf "not a bzImage or ELF|truncated|too short|ELF" -- "$VMM" --kernel "$tmp/short-elf"
expect_error missing-initrd "cannot open initrd" -- "$VMM" --kernel "$GUEST" --initrd "$tmp/nope"
expect_error initrd-too-big "larger than guest RAM" -- "$VMM" --kernel "$GUEST" --initrd "$tmp/big-initrd" --memory 16M
expect_error bad-memory "--memory.*not a size" -- "$VMM" --demo --memory lots
expect_error tiny-memory "--memory must be between" -- "$VMM" --demo --memory 1M
expect_error huge-memory "--memory must be between" -- "$VMM" --demo --memory 4096G
expect_error cpus-zero "--cpus must be a number from 1" -- "$VMM" --demo --cpus 0
expect_error cpus-neg "--cpus must be a number from 1" -- "$VMM" --demo --cpus -2
expect_error cpus-many "--cpus must be a number from 1" -- "$VMM" --demo --cpus 100000
expect_error cpus-word "--cpus must be a number from 1" -- "$VMM" --demo --cpus two
expect_error unknown-flag "unknown option" -- "$VMM" --demo --frobnicate
expect_error bad-serial "--serial must be" -- "$VMM" --demo --serial tcp:1
expect_error bad-vnc "--vnc" -- "$VMM" --demo --vnc "127.0.0.1:99999"
expect_error vnc-open-no-auth "password|authentication" -- "$VMM" --demo --vnc "0.0.0.0:5958"
expect_error vnc-missing-password "password" -- "$VMM" --demo --vnc "127.0.0.1:5958" --password-file "$tmp/nope"
expect_error vnc-empty-password "password" -- "$VMM" --demo --vnc "127.0.0.1:5958" --password-file "$tmp/empty"

# --tls-dir: missing, malformed, mismatched and expired certificates and keys.
if certs/make-certs.sh -o "$tmp/tls" >/dev/null 2>&1 &&
   certs/make-certs.sh -o "$tmp/tls2" >/dev/null 2>&1; then
	T=$tmp/tls
	mkdir -p "$tmp/t-nokey" "$tmp/t-badcert" "$tmp/t-badkey" "$tmp/t-mismatch" "$tmp/t-expired" "$tmp/t-noca"
	cp "$T/server-cert.pem" "$tmp/t-nokey/"
	cp "$T/server-key.pem" "$tmp/t-badcert/"; echo "not a certificate" > "$tmp/t-badcert/server-cert.pem"
	cp "$T/server-cert.pem" "$tmp/t-badkey/"; head -c 300 "$T/server-key.pem" > "$tmp/t-badkey/server-key.pem"
	cp "$T/server-cert.pem" "$tmp/t-mismatch/"; cp "$tmp/tls2/server-key.pem" "$tmp/t-mismatch/"
	cp "$T/server-cert.pem" "$T/server-key.pem" "$tmp/t-noca/"
	printf 'cn = "expired"\ntls_www_server\nsigning_key\nactivation_date = "2019-01-01 00:00:00"\nexpiration_date = "2020-01-01 00:00:00"\n' > "$tmp/expired.tmpl"
	cp "$T/server-key.pem" "$tmp/t-expired/"
	certtool --generate-certificate --load-privkey "$T/server-key.pem" \
		--load-ca-certificate "$T/ca-cert.pem" --load-ca-privkey "$T/ca-key.pem" \
		--template "$tmp/expired.tmpl" --outfile "$tmp/t-expired/server-cert.pem" >/dev/null 2>&1
	V=(--demo --vnc 127.0.0.1:6290)
	expect_error tls-missing-dir "server-cert.pem: No such file" -- "$VMM" "${V[@]}" --tls-dir "$tmp/nope"
	expect_error tls-missing-key "server-key.pem: No such file" -- "$VMM" "${V[@]}" --tls-dir "$tmp/t-nokey"
	expect_error tls-bad-cert "server-cert.pem: not a PEM certificate" -- "$VMM" "${V[@]}" --tls-dir "$tmp/t-badcert"
	expect_error tls-bad-key "server-key.pem: not an unencrypted PEM private key" -- "$VMM" "${V[@]}" --tls-dir "$tmp/t-badkey"
	expect_error tls-key-mismatch "key does not match the certificate" -- "$VMM" "${V[@]}" --tls-dir "$tmp/t-mismatch"
	expect_error tls-expired "certificate has expired" -- "$VMM" "${V[@]}" --tls-dir "$tmp/t-expired"
	expect_error tls-verify-no-ca "ca-cert.pem: No such file" -- "$VMM" "${V[@]}" --tls-dir "$tmp/t-noca" --tls-verify-client
	expect_error tls-verify-no-dir "--tls-verify-client needs --tls-dir" -- "$VMM" "${V[@]}" --tls-verify-client
	# TLS without a client certificate authenticates only the server.
	expect_error tls-open-no-auth "not a loopback address.*password" -- "$VMM" --demo --vnc "0.0.0.0:6290" --tls-dir "$T"
else
	echo "FAIL tls: certs/make-certs.sh failed"; fails=$((fails + 1))
fi
expect_error extra-arg "unexpected argument" -- "$VMM" --demo extra
if [ "$(id -u)" = 0 ]; then
	# Unreadable files only fail for a non-root user; root reads anything.
	expect_error unreadable-kernel "cannot open kernel.*Permission denied" -- \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$VMM" --kernel "$tmp/unreadable"
	expect_error kvm-not-permitted "permission denied opening /dev/kvm" -- \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$VMM" --demo
	# A private mount namespace with an empty /dev: no /dev/kvm at all.
	expect_error kvm-absent "/dev/kvm does not exist" -- \
		unshare -m sh -c "mount -t tmpfs none /dev && exec $VMM --demo --serial none"
else
	echo "FAIL: run as root to test /dev/kvm permission and absence"; fails=$((fails + 1))
fi

# Without VMX/SVM a Linux kernel is slow: one warning line, and it still runs.
if ! grep -qE ' (vmx|svm)' /proc/cpuinfo; then
	if [ -f build/guest/bzImage ]; then
		out=$(timeout 3 "$VMM" --kernel build/guest/bzImage --serial none --vnc none 2>&1)
		rc=$?
		if [ "$rc" -eq 124 ] && [ "$(printf '%s\n' "$out" | grep -c 'no VMX/SVM')" -eq 1 ]; then
			echo "ok no-vmx-warning: warned once and kept running"
		else
			echo "FAIL no-vmx-warning: rc=$rc output: $out"; fails=$((fails + 1))
		fi
		out=$(timeout 10 "$VMM" --demo --append test=boot --serial none --vnc none 2>&1)
		if printf '%s' "$out" | grep -q 'no VMX/SVM'; then
			echo "FAIL no-vmx-warning: the built-in guest must not warn"; fails=$((fails + 1))
		fi
	else
		echo "FAIL no-vmx-warning: build/guest/bzImage missing (make guest)"; fails=$((fails + 1))
	fi
fi

[ "$fails" -eq 0 ] && echo "all error cases ok"
exit "$fails"
