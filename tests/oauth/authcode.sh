#!/bin/sh
# authcode.sh - an OAuth 2.0 client independent of ringer's code: the
# authorization-code grant with PKCE, by the letter of RFC 6749 section 4.1
# and RFC 7636, using only curl, openssl and sed.
#
#   AUTHCODE_PASSWORD=... tests/oauth/authcode.sh BASE_URL CLIENT_ID REDIRECT_URI USERNAME [SCOPE]
#
# BASE_URL is the server ("http://127.0.0.1:8080"); the client is a public
# one registered with REDIRECT_URI. The redirect URI is never contacted: the
# code is read from the Location of the 302. Exits 0 when every step
# answered as the RFCs say, else prints the failing step and exits 1.
set -eu

BASE=$1 CLIENT=$2 REDIRECT=$3 USERNAME=$4 SCOPE=${5:-read}
PASSWORD=${AUTHCODE_PASSWORD:?set AUTHCODE_PASSWORD}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "authcode: $*" >&2; exit 1; }

# RFC 4648 section 5, no padding.
b64url() { openssl base64 -A | sed 's/+/-/g; s#/#_#g; s/=*$//'; }

# A JSON string member of the document in file $1 (the answers are flat objects).
member() { sed -n 's/.*"'"$2"'"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }

# RFC 7636 4.1: 32 random octets give a 43-character verifier; 4.2: S256.
VERIFIER=$(openssl rand 32 | b64url)
CHALLENGE=$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary | b64url)
STATE=$(openssl rand 16 | b64url)
[ ${#VERIFIER} -eq 43 ] || fail "verifier is ${#VERIFIER} characters"

# 4.1.1: the authorization request.
STATUS=$(curl -sS -o "$WORK/page.html" -w '%{http_code}' -G "$BASE/v2/oauth/authorize" \
	--data-urlencode response_type=code --data-urlencode "client_id=$CLIENT" \
	--data-urlencode "redirect_uri=$REDIRECT" --data-urlencode "scope=$SCOPE" \
	--data-urlencode "state=$STATE" --data-urlencode "code_challenge=$CHALLENGE" \
	--data-urlencode code_challenge_method=S256)
[ "$STATUS" = 200 ] || fail "authorize page answered $STATUS"
[ -n "$(sed -n '/name="password"/p' "$WORK/page.html")" ] || fail "no sign-in form on the page"

# Sign in: post the form as the page gives it (its hidden fields, HTML-unescaped).
sed -n 's/.*<input type="hidden" name="\([^"]*\)" value="\([^"]*\)".*/\1=\2/p' \
	"$WORK/page.html" | sed 's/&quot;/"/g; s/&#39;/'"'"'/g; s/&lt;/</g; s/&gt;/>/g;
	s/&amp;/\&/g' >"$WORK/fields"
[ -s "$WORK/fields" ] || fail "the form has no hidden fields"
set --
while IFS= read -r f; do set -- "$@" --data-urlencode "$f"; done <"$WORK/fields"
STATUS=$(curl -sS -o /dev/null -D "$WORK/login.h" -w '%{http_code}' "$@" \
	--data-urlencode "username=$USERNAME" --data-urlencode "password=$PASSWORD" \
	"$BASE/v2/oauth/authorize")
[ "$STATUS" = 302 ] || fail "sign-in answered $STATUS, not 302"

# 4.1.2: the redirection, read and not followed.
LOCATION=$(sed -n 's/^[Ll]ocation:[[:space:]]*//p' "$WORK/login.h" | sed 's/\r$//')
case $LOCATION in
"$REDIRECT?"*) ;;
*) fail "redirected to '$LOCATION', not to $REDIRECT" ;;
esac
QUERY=${LOCATION#*\?}
CODE=$(printf '&%s&\n' "$QUERY" | sed -n 's/.*&code=\([^&]*\)&.*/\1/p')
GOT_STATE=$(printf '&%s&\n' "$QUERY" | sed -n 's/.*&state=\([^&]*\)&.*/\1/p')
[ -n "$CODE" ] || fail "no code in $LOCATION"
[ "$GOT_STATE" = "$STATE" ] || fail "state came back as '$GOT_STATE'"

# 4.1.3 / RFC 7636 4.5: the access token request with the verifier.
token() {
	STATUS=$(curl -sS -o "$WORK/token.json" -D "$WORK/token.h" -w '%{http_code}' \
		-H 'Content-Type: application/x-www-form-urlencoded' "$@" "$BASE/v2/oauth/token")
	[ "$STATUS" = 200 ] || fail "token endpoint answered $STATUS: $(sed -n p "$WORK/token.json")"
	# 5.1: no-store, a bearer token, and the tokens.
	[ -n "$(sed -n '/^[Cc]ache-[Cc]ontrol:.*no-store/p' "$WORK/token.h")" ] ||
		fail "token answer may be cached"
	[ "$(member "$WORK/token.json" token_type | sed 's/[Bb][Ee][Aa][Rr][Ee][Rr]/bearer/')" \
		= bearer ] || fail "token_type is not Bearer"
	ACCESS=$(member "$WORK/token.json" access_token)
	REFRESH=$(member "$WORK/token.json" refresh_token)
	[ -n "$ACCESS" ] && [ -n "$REFRESH" ] || fail "access or refresh token missing"
}
token --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
	--data-urlencode "redirect_uri=$REDIRECT" --data-urlencode "client_id=$CLIENT" \
	--data-urlencode "code_verifier=$VERIFIER"

# RFC 6750 2.1: use it.
account() {
	STATUS=$(curl -sS -o "$WORK/account.json" -w '%{http_code}' \
		-H "Authorization: Bearer $1" "$BASE/v2/account")
	[ "$STATUS" = 200 ] || fail "GET /v2/account answered $STATUS"
}
account "$ACCESS"

# Section 6: refresh once; the new pair differs and works.
OLD_ACCESS=$ACCESS OLD_REFRESH=$REFRESH
token --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$REFRESH" \
	--data-urlencode "client_id=$CLIENT"
[ "$ACCESS" != "$OLD_ACCESS" ] && [ "$REFRESH" != "$OLD_REFRESH" ] ||
	fail "refresh gave the same tokens back"
account "$ACCESS"
echo "authcode: ok (code, token, account, refresh)"
