#!/usr/bin/env bash
# Creates a CA, a server certificate and a client certificate with GnuTLS's
# certtool, in the layout --tls-dir expects:
#
#   DIR/ca-cert.pem      the CA certificate: give it to viewers and browsers
#   DIR/ca-key.pem       the CA key (keep it; needed to sign more certificates)
#   DIR/server-cert.pem  the server certificate (VNC VeNCrypt, HTTPS/WSS)
#   DIR/server-key.pem   its key
#   DIR/client-cert.pem  a client certificate signed by the CA (for
#   DIR/client-key.pem   --tls-verify-client)
#
#   certs/make-certs.sh [-o DIR] [--host NAME]... [--force-ca]
#
# DIR defaults to build/certs. The server certificate names localhost,
# 127.0.0.1 and ::1, plus each --host (a DNS name or an IP address). An
# existing CA in DIR is reused (viewers that trust it keep working) unless
# --force-ca; the server and client certificates are made anew on every run.
# Keys are ECDSA P-256, mode 0600.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=build/certs
hosts=()
force_ca=0
while [ $# -gt 0 ]; do
	case $1 in
	-o|--out) out=${2:?"$1 needs a directory"}; shift 2 ;;
	--host)
		h=${2:?"--host needs a name or address"}
		[[ $h =~ ^[A-Za-z0-9*][A-Za-z0-9.:*-]*$ ]] ||
			{ echo "make-certs.sh: --host '$h' is not a host name or address" >&2; exit 1; }
		hosts+=("$h"); shift 2 ;;
	--force-ca) force_ca=1; shift ;;
	-h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "make-certs.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
	esac
done
command -v certtool >/dev/null ||
	{ echo "make-certs.sh: certtool is missing (apt-get install gnutls-bin)" >&2; exit 1; }

mkdir -p "$out"
chmod 700 "$out"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

genkey() {
	certtool --generate-privkey --key-type ecdsa --curve secp256r1 \
		--outfile "$1" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
}

if [ "$force_ca" = 1 ] || [ ! -s "$out/ca-cert.pem" ] || [ ! -s "$out/ca-key.pem" ]; then
	genkey "$out/ca-key.pem"
	certtool --generate-self-signed --load-privkey "$out/ca-key.pem" \
		--template "$here/ca.tmpl" --outfile "$out/ca-cert.pem" \
		>"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
	echo "make-certs: new CA $out/ca-cert.pem"
else
	echo "make-certs: reusing the CA in $out"
fi

# The server's names: a template of our own plus one line per name.
{
	cat "$here/server.tmpl"
	echo "cn = \"${hosts[0]:-localhost}\""
	echo 'dns_name = "localhost"'
	echo 'ip_address = "127.0.0.1"'
	echo 'ip_address = "::1"'
	for h in "${hosts[@]}"; do
		if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then
			echo "ip_address = \"$h\""
		else
			echo "dns_name = \"$h\""
		fi
	done
} >"$tmp/server.tmpl"
genkey "$out/server-key.pem"
certtool --generate-certificate --load-privkey "$out/server-key.pem" \
	--load-ca-certificate "$out/ca-cert.pem" --load-ca-privkey "$out/ca-key.pem" \
	--template "$tmp/server.tmpl" --outfile "$out/server-cert.pem" \
	>"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }

{ cat "$here/client.tmpl"; echo 'cn = "vmm viewer"'; } >"$tmp/client.tmpl"
genkey "$out/client-key.pem"
certtool --generate-certificate --load-privkey "$out/client-key.pem" \
	--load-ca-certificate "$out/ca-cert.pem" --load-ca-privkey "$out/ca-key.pem" \
	--template "$tmp/client.tmpl" --outfile "$out/client-cert.pem" \
	>"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
chmod 644 "$out/ca-cert.pem" "$out/server-cert.pem" "$out/client-cert.pem"
echo "make-certs: server certificate for localhost 127.0.0.1 ::1${hosts[*]:+ ${hosts[*]}} in $out"
echo "make-certs: run  vmm ... --tls-dir $out   and give viewers $out/ca-cert.pem"
