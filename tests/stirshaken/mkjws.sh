#!/bin/sh
# mkjws.sh KEY HEADER_FILE PAYLOAD_FILE - print a compact ES256 JWS made with the
# openssl command: sign b64url(header).b64url(payload) with SHA-256, then turn
# the DER ECDSA signature into the raw R||S that JWS wants (RFC 7518 3.4).
set -eu
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
h=$(b64url < "$2")
p=$(b64url < "$3")
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$1" -out "$tmp"
# asn1parse prints the two INTEGERs as hex; left-pad each to 32 bytes.
rs=$(openssl asn1parse -inform DER -in "$tmp" | awk -F: '/INTEGER/ {
	v = $NF; while (length(v) < 64) v = "0" v; if (length(v) > 64) v = substr(v, length(v) - 63);
	printf "%s", v }')
s=$(printf '%s' "$rs" | xxd -r -p | b64url)
printf '%s.%s.%s\n' "$h" "$p" "$s"
