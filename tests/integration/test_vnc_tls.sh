#!/usr/bin/env bash
# VeNCrypt on the VNC port (vnc/vencrypt.c) against real clients:
#   - certs/make-certs.sh makes a CA and a server certificate;
#   - libvncclient (vnc_tls_client) gets a frame over X509None and X509Vnc,
#     is refused with another CA, with a wrong password, without TLS, and
#     without a client certificate under --tls-verify-client (and gets a
#     frame with one);
#   - TigerVNC's vncviewer under Xvfb with -SecurityTypes X509None,X509Vnc
#     -X509CA connects, and its window shows what the vmm's screendump shows;
#   - two clients stalled mid-handshake (before and inside TLS) do not block
#     the others and are dropped at the handshake deadline;
#   - plain VNC authentication without --tls-dir still works;
#   - the vmm exits cleanly (status 0, no ASan/LeakSanitizer report).
#
#   tests/integration/test_vnc_tls.sh
#
# VMM defaults to build/asan/vmm; the client is the vnc_tls_client next to
# it (VNC_TLS_CLIENT overrides). TCP ports 6210-6219.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
VMM=${VMM:-build/asan/vmm}
CLIENT=${VNC_TLS_CLIENT:-$(dirname "$VMM")/tests/integration/vnc_tls_client}
BASE=${TLS_TEST_PORT:-6210}
require_kvm
require_exe "$VMM"
require_exe "$CLIENT"
for t in certtool python3 Xvfb vncviewer; do
	require_cmd $t "(make deps)"
done
make_tmp

# libvncclient leaks its gnutls credentials; the client's leaks are not
# what this test is about (the vmm's are).
client() { ASAN_OPTIONS=detect_leaks=0 timeout 30 "$CLIENT" "$@"; }

# start_vmm NAME PORT ARGS...: runs the vmm; its pid in vmm_pid.
start_vmm() {
	local name=$1 port=$2
	shift 2
	"$VMM" --demo --serial none --vnc "127.0.0.1:$port" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	vmm_pid=$!
	pids+=("$vmm_pid")
	if ! wait_for 30 tcp_open "$port"; then
		fail "$name-start" "the vmm did not listen on $port: $(tail -n 3 "$tmp/$name.err")"
		return 1
	fi
}

# stop_vmm NAME PID: SIGTERM; the vmm must exit 0 without a sanitizer report.
stop_vmm() {
	local name=$1 pid=$2 rc=0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" || rc=$?
	if [ "$rc" != 0 ]; then
		fail "$name-exit" "the vmm exited with status $rc: $(grep -m3 -E 'Sanitizer|ERROR|error' "$tmp/$name.err")"
	elif grep -qE 'Sanitizer|runtime error' "$tmp/$name.err"; then
		fail "$name-exit" "sanitizer report: $(grep -m3 -E 'Sanitizer|runtime error' "$tmp/$name.err")"
	else
		ok "$name: clean exit"
	fi
}

# expect_frame NAME WANT_SUBTYPE ARGS...: the client gets a frame.
expect_frame() {
	local name=$1 want=$2 out
	shift 2
	out=$(client "$@")
	if [[ $out == "ok frame "*"$want"* ]]; then
		ok "$name: ${out#ok }"
	else
		fail "$name" "$(printf '%s' "$out" | tr '\n' ' ' | tail -c 600)"
	fi
}

# expect_refused NAME PATTERN ARGS...: the client fails, its log matching.
expect_refused() {
	local name=$1 pattern=$2 out rc=0
	shift 2
	out=$(client "$@") || rc=$?
	if [ "$rc" = 0 ]; then
		fail "$name" "the client got a frame: $out"
	elif ! printf '%s' "$out" | grep -qiE -e "$pattern"; then
		fail "$name" "refused, but not for /$pattern/: $(printf '%s' "$out" | tr '\n' ' ' | tail -c 600)"
	else
		ok "$name: $(printf '%s' "$out" | grep -iE -m1 -e "$pattern")"
	fi
}

# A client that stalls: "pre" sends nothing after connecting; "tls" does
# the whole VeNCrypt negotiation, sends the start of a TLS ClientHello and
# stops. Writes "open" once in place and then how long the server took to
# close the connection.
staller() {
	python3 - "$1" "$2" "$3" <<'EOF' &
import socket, sys, time
port, stage, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), 5)
def rd(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("closed early")
        b += c
    return b
if stage == "tls":
    assert rd(12) == b"RFB 003.008\n"
    s.sendall(b"RFB 003.008\n")
    n = rd(1)[0]
    assert 19 in rd(n), "no VeNCrypt offered"
    s.sendall(bytes([19]))
    assert rd(2) == b"\x00\x02"
    s.sendall(b"\x00\x02")
    assert rd(1) == b"\x00"
    n = rd(1)[0]
    sub = rd(4 * n)[:4]
    s.sendall(sub)
    assert rd(1) == b"\x01"
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00")     # half a ClientHello
open(out, "w").write("open\n")
t0 = time.monotonic()
s.settimeout(60)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
open(out, "a").write("closed %.1f\n" % (time.monotonic() - t0))
EOF
	pids+=($!)
}

wait_file_line() {     # FILE PATTERN SECONDS
	for _ in $(seq 1 $(($3 * 10))); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- certificates -------------------------------------------------------------
if certs/make-certs.sh -o "$tmp/certs" --host vm.test >"$tmp/certs.log" 2>&1 &&
   certs/make-certs.sh -o "$tmp/other" >>"$tmp/certs.log" 2>&1; then
	ok "make-certs.sh"
else
	fail make-certs "$(tail -n 3 "$tmp/certs.log")"
	exit 1
fi
C=$tmp/certs
CA=$C/ca-cert.pem
printf 'tls-pw-1\n' >"$tmp/pw"
printf 'wrong\n' >"$tmp/badpw"

# --- X509None, stalled clients, TigerVNC ----------------------------------------
P=$BASE
if start_vmm x509none $P --tls-dir "$C" --control "unix:$tmp/ctl"; then
	a=$vmm_pid
	staller $P pre "$tmp/stall-pre"
	staller $P tls "$tmp/stall-tls"
	if wait_file_line "$tmp/stall-pre" open 10 && wait_file_line "$tmp/stall-tls" open 10; then
		ok "two clients stalled mid-handshake"
	else
		fail stall "the stalling clients did not get in place: $(cat "$tmp"/stall-* 2>&1)"
	fi
	expect_frame x509none "subtype=260" --ca "$CA" 127.0.0.1 $P
	grep -q closed "$tmp"/stall-* &&
		fail stall-order "a stalled client was dropped before the other client connected"
	expect_frame x509none-by-name "subtype=260" --ca "$CA" localhost $P
	expect_refused wrong-ca "not trusted|known issuer" --ca "$tmp/other/ca-cert.pem" 127.0.0.1 $P
	expect_refused no-tls "unknown authentication scheme from VNC server: 19" --plain 127.0.0.1 $P

	# TigerVNC: full screen on an X screen exactly the console's size, so
	# its window must show the console pixel for pixel.
	read -r W H < <(control "$tmp/ctl" '{"cmd":"status"}' | json_field width height)
	mkdir -p "$tmp/xfb" "$tmp/home"
	Xvfb -displayfd 3 -screen 0 "${W}x${H}x24" -br -nolisten tcp -fbdir "$tmp/xfb" \
		3>"$tmp/xdisplay" >"$tmp/xvfb.log" 2>&1 &
	pids+=($!)
	wait_file_line "$tmp/xdisplay" '^[0-9]+' 10 || fail xvfb "Xvfb did not start: $(tail -n 3 "$tmp/xvfb.log")"
	HOME=$tmp/home DISPLAY=:$(head -n1 "$tmp/xdisplay") vncviewer \
		-SecurityTypes X509None,X509Vnc -X509CA "$CA" -FullScreen \
		-Log '*:stderr:100' "127.0.0.1::$P" >"$tmp/vncviewer.log" 2>&1 &
	pids+=($!)
	if wait_file_line "$tmp/vncviewer.log" 'Using pixel format' 20; then
		ok "vncviewer: $(grep -m1 -oE 'TLS handshake completed with.*' "$tmp/vncviewer.log") $(grep -m1 -oE 'Choosing security type X509[A-Za-z]+' "$tmp/vncviewer.log")"
		match=
		for _ in $(seq 1 20); do
			control "$tmp/ctl" "{\"cmd\":\"screendump\",\"path\":\"$tmp/dump.png\"}" >/dev/null
			cp "$tmp/xfb/Xvfb_screen0" "$tmp/screen.xwd"
			if match=$(python3 tests/integration/compare_xwd.py "$tmp/dump.png" "$tmp/screen.xwd"); then
				break
			fi
			match="no match: $match"
			sleep 0.3
		done
		[[ $match == no* || -z $match ]] && fail vncviewer-frame "the viewer's screen does not show the console ($match)" ||
			ok "vncviewer shows the console: $match"
	else
		fail vncviewer "no connection: $(grep -E 'Error|error|fail|refused' "$tmp/vncviewer.log" | head -n 3 | tr '\n' ' ')"
	fi

	# Stalled clients: still stalled while the others connected; dropped
	# at the deadline (10 s), and nothing else was held up meanwhile.
	for s in pre tls; do
		if wait_file_line "$tmp/stall-$s" closed 20; then
			ok "stalled client ($s) dropped after $(grep -oE '[0-9.]+' "$tmp/stall-$s" | tail -n1) s"
		else
			fail "stall-$s" "the server never closed the stalled connection"
		fi
	done
	grep -qE 'handshake timed out|TLS handshake: handshake timed out' "$tmp/x509none.err" &&
		ok "the vmm logged the handshake timeouts" ||
		fail stall-log "no 'handshake timed out' in the vmm's log"
	stop_vmm x509none "$a"
fi

# --- X509Vnc ---------------------------------------------------------------------
P=$((BASE + 1))
if start_vmm x509vnc $P --tls-dir "$C" --password-file "$tmp/pw"; then
	a=$vmm_pid
	expect_frame x509vnc "subtype=261" --ca "$CA" --password-file "$tmp/pw" 127.0.0.1 $P
	expect_refused x509vnc-wrong-password "password check failed|authentication failed|auth" \
		--ca "$CA" --password-file "$tmp/badpw" 127.0.0.1 $P
	expect_frame x509vnc-after-failure "subtype=261" --ca "$CA" --password-file "$tmp/pw" 127.0.0.1 $P
	grep -q 'tls-pw-1' "$tmp/x509vnc.err" && fail x509vnc-secret "the password is in the vmm's log"
	stop_vmm x509vnc "$a"
fi

# --- client certificates -----------------------------------------------------------
P=$((BASE + 2))
if start_vmm verify $P --tls-dir "$C" --tls-verify-client; then
	a=$vmm_pid
	expect_frame client-cert "subtype=260" --ca "$CA" --cert "$C/client-cert.pem" \
		--key "$C/client-key.pem" 127.0.0.1 $P
	expect_refused no-client-cert "TLS handshake failed" --ca "$CA" 127.0.0.1 $P
	expect_refused foreign-client-cert "TLS handshake failed" --ca "$CA" \
		--cert "$tmp/other/client-cert.pem" --key "$tmp/other/client-key.pem" 127.0.0.1 $P
	stop_vmm verify "$a"
fi

# --- plain VNC authentication without --tls-dir ------------------------------------
P=$((BASE + 3))
if start_vmm plain $P --password-file "$tmp/pw"; then
	a=$vmm_pid
	expect_frame plain-vncauth "security=2" --plain --password-file "$tmp/pw" 127.0.0.1 $P
	expect_refused plain-wrong-password "password check failed|authentication failed|auth" \
		--plain --password-file "$tmp/badpw" 127.0.0.1 $P
	stop_vmm plain "$a"
fi

finish "all ok"
