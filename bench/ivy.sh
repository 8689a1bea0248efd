#!/usr/bin/env bash
# Ivy throughput: client_credentials token issuance and an authenticated
# GET /v2/account (targets, issue 8: >= 5,000/s and >= 20,000/s), beside a
# reference: bench/ceiling.c, libmicrohttpd answering a fixed body with
# ringerd's server settings, run with the same wrk settings on the same
# machine. The ratios against it say what share of the HTTP ceiling each
# Ivy operation reaches.
#
# Builds ringer without sanitizers (build-bench/), makes an account and a
# confidential client with `ringer`, starts ringerd, then runs wrk twice:
# POST /v2/oauth/token (grant_type=client_credentials, HTTP Basic, form body;
# every answer a fresh ES256 JWT and a committed audit row) and GET /v2/account
# with one bearer token. Prints requests/s, p50/p99 latency and non-2xx
# counts for each, and the audit rows written during the issuance run.
#
# Environment: DURATION (default 10s), CONNECTIONS (64), THREADS (wrk, 2),
# SERVER_THREADS (ringerd workers; default 0 = one per core),
# BUILD (build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
SERVER_THREADS=${SERVER_THREADS:-0}
BUILD=${BUILD:-build-bench}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
if [ ! -d "$BUILD" ]; then
  meson setup "$BUILD" --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$BUILD" >/dev/null

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_file() {
  for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done
  echo "timed out waiting for $1"; exit 1
}

mkdir -p "$WORK/data"
R() { RINGER_LOG_LEVEL=error "$BUILD/ringer" -d "$WORK/data" "$@"; }
ACCOUNT=$(R ivy-account create "Bench Reseller" | awk '/^account/ {print $2}')
R oauth-client create --account "$ACCOUNT" --name bench --grants client_credentials \
  --scopes "read write" >"$WORK/client.txt"
CID=$(awk '/^client_id/ {print $2}' "$WORK/client.txt")
SECRET=$(awk '/^client_secret/ {print $2}' "$WORK/client.txt")
BASIC=$(printf '%s:%s' "$CID" "$SECRET" | openssl base64 -A)

RINGER_LOG_LEVEL=error RINGER_SERVER_THREADS=$SERVER_THREADS NO_PROXY=127.0.0.1 \
  "$BUILD/ringerd" -d "$WORK/data" -p 0 --port-file "$WORK/ringerd.port" \
  2>"$WORK/ringerd.log" &
PIDS+=($!)
wait_file "$WORK/ringerd.port"
BASE="http://127.0.0.1:$(cat "$WORK/ringerd.port")"

TOKEN=$(curl -s -u "$CID:$SECRET" -d grant_type=client_credentials "$BASE/v2/oauth/token" |
  sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "no token from $BASE/v2/oauth/token"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "$BASE/v2/account")" = 200 ] || { echo "GET /v2/account does not answer 200"; exit 1; }

cat >"$WORK/token.lua" <<EOF2
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
EOF2
cat >"$WORK/account.lua" <<EOF2
wrk.headers["Authorization"] = "Bearer $TOKEN"
EOF2

audit_rows() {
  sqlite3 "$WORK/data/ringer.db" "SELECT count(*) FROM ivy_audit WHERE action = 'token.issue'"
}

echo 'wrk.method = "GET"' >"$WORK/plain.lua"

# run SCRIPT URL NAME: one wrk run; prints a line and keeps req/s in $WORK/NAME.rps
run() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/$1.lua" "$2" |
    awk -v name="$3" -v out="$WORK/$3.rps" '/Requests\/sec/ {rps = $2} / 50%/ {p50 = $2}
      / 99%/ {p99 = $2} /Non-2xx/ {bad = $4} END {
      printf "%-20s %10s req/s  p50 %s  p99 %s  non-2xx %d\n", name ":", rps, p50, p99, bad
      print rps > out}'
}

WORKERS=$SERVER_THREADS
[ "$WORKERS" -gt 0 ] || WORKERS=$(nproc)
"$BUILD/ceiling" 0 "$WORKERS" >"$WORK/ceiling.port" 2>/dev/null &
PIDS+=($!)
wait_file "$WORK/ceiling.port"
CEIL="http://127.0.0.1:$(head -1 "$WORK/ceiling.port")"

run plain "$CEIL/" reference
BEFORE=$(audit_rows)
run token "$BASE/v2/oauth/token" client_credentials
AFTER=$(audit_rows)
run account "$BASE/v2/account" account
echo "token.issue audit rows written during the issuance run: $((AFTER - BEFORE))"
awk -v r="$(cat "$WORK/reference.rps")" -v t="$(cat "$WORK/client_credentials.rps")" \
  -v a="$(cat "$WORK/account.rps")" 'BEGIN {
  printf "ratios to the reference: client_credentials %.3f  GET /v2/account %.3f\n",
         t / r, a / r }'
