#!/bin/sh
# mkpki.sh OUT PORT - a SHAKEN test PKI made with the openssl command alone,
# independent of ringer's own signer and `ringer pki`.
#
# OUT/ca.pem            trusted STI-CA root (ca.key)
# OUT/other-ca.pem      a root nobody trusts
# OUT/sp.pem            SP certificate, TNAuthList SPC 1234, CRL DP on 127.0.0.1:PORT
# OUT/expired.pem       the same key, valid only in January 2020
# OUT/future.pem        the same key, valid only in 2099
# OUT/untrusted.pem     the same key, issued by other-ca
# OUT/notn.pem          the same key, no TNAuthList
# OUT/<rule>.pem        the same key, breaking one ATIS-1000080 profile rule: noku
#                       (no keyUsage), kunotcrit (not critical), kuextra (more than
#                       digitalSignature), noski, noaki, shortserial (32 bits), nopolicy
# OUT/revoked.pem       the same key, revoked in OUT/ca.crl
# OUT/notcert.pem       text that is no certificate; OUT/empty.pem: nothing
# OUT/sp.key, OUT/other.key   the SP key and a key no certificate belongs to
# OUT/tls-ca.pem, OUT/tls.pem, OUT/tls.key   for `openssl s_server` on 127.0.0.1
# OUT/www/NAME          whole HTTP responses for `openssl s_server -HTTP`: each
#                       certificate file above (200, Cache-Control max-age=3600),
#                       missing.pem (404) and ca.crl
set -eu
OUT=$1
PORT=$2
mkdir -p "$OUT/newcerts"
cd "$OUT"
: > index.txt
echo 1000 > serial
echo 1000 > crlnumber
cat > ca.cnf <<CNF
[ca]
default_ca = ca_default
[ca_default]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
crlnumber = crlnumber
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
rand_serial = yes
email_in_dn = no
[policy_any]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = test
[root_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[sp_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.5.5.7.1.26 = DER:30:08:A0:06:16:04:31:32:33:34
crlDistributionPoints = URI:https://127.0.0.1:$PORT/ca.crl
certificatePolicies = 2.16.840.1.114569.1.1.1
[notn_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:https://127.0.0.1:$PORT/ca.crl
certificatePolicies = 2.16.840.1.114569.1.1.1
[noku_ext]
basicConstraints = critical,CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.5.5.7.1.26 = DER:30:08:A0:06:16:04:31:32:33:34
certificatePolicies = 2.16.840.1.114569.1.1.1
[kunotcrit_ext]
keyUsage = digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.5.5.7.1.26 = DER:30:08:A0:06:16:04:31:32:33:34
certificatePolicies = 2.16.840.1.114569.1.1.1
[kuextra_ext]
keyUsage = critical,digitalSignature,keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.5.5.7.1.26 = DER:30:08:A0:06:16:04:31:32:33:34
certificatePolicies = 2.16.840.1.114569.1.1.1
[noski_ext]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = none
authorityKeyIdentifier = keyid:always
1.3.6.1.5.5.7.1.26 = DER:30:08:A0:06:16:04:31:32:33:34
certificatePolicies = 2.16.840.1.114569.1.1.1
[noaki_ext]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = none
1.3.6.1.5.5.7.1.26 = DER:30:08:A0:06:16:04:31:32:33:34
certificatePolicies = 2.16.840.1.114569.1.1.1
[nopolicy_ext]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.5.5.7.1.26 = DER:30:08:A0:06:16:04:31:32:33:34
[tls_ext]
basicConstraints = critical,CA:FALSE
subjectAltName = IP:127.0.0.1
extendedKeyUsage = serverAuth
CNF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
root() { # root NAME CN
	key "$1.key"
	openssl req -new -x509 -config ca.cnf -key "$1.key" -subj "/CN=$2" -days 3650 \
		-extensions root_ext -out "$1.pem"
}
issue() { # issue OUT EXT [openssl ca date options...]
	out=$1 ext=$2
	shift 2
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in sp.csr -out "$out" \
		-extensions "$ext" -notext "$@" 2>/dev/null
}
root ca "Test STI-CA"
root other-ca "Untrusted CA"
root tls-ca "Test TLS CA"
key sp.key
key other.key
key tls.key
openssl req -new -config ca.cnf -key sp.key -subj "/CN=SHAKEN 1234" -out sp.csr
issue sp.pem sp_ext
issue expired.pem sp_ext -startdate 20200101000000Z -enddate 20200201000000Z
issue future.pem sp_ext -startdate 20990101000000Z -enddate 20991231000000Z
issue notn.pem notn_ext
issue revoked.pem sp_ext
openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -revoke revoked.pem 2>/dev/null
openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -gencrl -out ca.crl 2>/dev/null
openssl x509 -req -in sp.csr -CA other-ca.pem -CAkey other-ca.key \
	-set_serial "0x7$(openssl rand -hex 15)" -days 365 \
	-extfile ca.cnf -extensions sp_ext -out untrusted.pem 2>/dev/null
for rule in noku kunotcrit kuextra noski noaki nopolicy; do
	issue "$rule.pem" "${rule}_ext"
done
# 32 bits of serial: the profile asks for 64.
openssl x509 -req -in sp.csr -CA ca.pem -CAkey ca.key -set_serial 0x7a3b9c1d -days 365 \
	-extfile ca.cnf -extensions sp_ext -out shortserial.pem 2>/dev/null
openssl req -new -config ca.cnf -key tls.key -subj "/CN=127.0.0.1" -out tls.csr
openssl x509 -req -in tls.csr -CA tls-ca.pem -CAkey tls-ca.key -set_serial 99 -days 365 \
	-extfile ca.cnf -extensions tls_ext -out tls.pem 2>/dev/null
echo "this is not a certificate" > notcert.pem
: > empty.pem
mkdir -p www
respond() { # respond NAME STATUS [BODY_FILE]
	{
		printf 'HTTP/1.0 %s\r\nContent-Type: application/pem-certificate-chain\r\n' "$2"
		printf 'Cache-Control: max-age=3600\r\n\r\n'
		[ $# -lt 3 ] || cat "$3"
	} > "www/$1"
}
for f in sp expired future untrusted notn revoked notcert empty \
	noku kunotcrit kuextra noski noaki nopolicy shortserial; do
	respond "$f.pem" "200 OK" "$f.pem"
done
respond ca.crl "200 OK" ca.crl
respond missing.pem "404 Not Found"
