#!/usr/bin/env bash
# Cache-hit CNAM lookups against LRN dips, in the same run, on the same server.
#
# Builds ringer without sanitizers (build-bench/), starts the cnamsim network
# simulator with NUMBERS names and a ringerd that dips into it, primes the
# cache with every name (one dip each), then runs wrk over the same numbers
# on /v1/telique/cnam/{tn} (every answer a cache hit) and on
# /v1/telique/lrn/{tn}, and prints both rates and their ratio. The target
# (issue 4) is a ratio near 1.
#
# Environment: DURATION (default 10s), CONNECTIONS (64), THREADS (2),
# NUMBERS (1000), BUILD (build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
NUMBERS=${NUMBERS:-1000}
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

# Names for 720-555-0000 upwards, served by the simulator.
{
  echo "tn,name"
  for i in $(seq 0 $((NUMBERS - 1))); do printf '720555%04d,BENCH NAME %d\n' "$i" "$i"; done
} >"$WORK/sim.csv"
"$BUILD/cnamsim" -f "$WORK/sim.csv" -p 0 --port-file "$WORK/sim.port" 2>"$WORK/sim.log" &
PIDS+=($!)
wait_file "$WORK/sim.port"
SIM_PORT=$(cat "$WORK/sim.port")

mkdir -p "$WORK/data"
"$BUILD/ringer" -d "$WORK/data" allow add 127.0.0.1 >/dev/null
RINGER_CNAM_URL="http://127.0.0.1:$SIM_PORT/cnam/{tn}" RINGER_CNAM_CACHE_ENTRIES=$((NUMBERS * 2)) \
  RINGER_LOG_LEVEL=error NO_PROXY=127.0.0.1 \
  "$BUILD/ringerd" -d "$WORK/data" -p 0 --port-file "$WORK/ringerd.port" 2>"$WORK/ringerd.log" &
PIDS+=($!)
wait_file "$WORK/ringerd.port"
PORT=$(cat "$WORK/ringerd.port")
BASE="http://127.0.0.1:$PORT"

# Prime: one dip per number, so the CNAM run below is all cache hits.
for i in $(seq 0 $((NUMBERS - 1))); do printf '%s/v1/telique/cnam/720555%04d\n' "$BASE" "$i"; done |
  xargs -n 100 curl -s >/dev/null
DIPS=$(curl -s "http://127.0.0.1:$SIM_PORT/stats")

cat >"$WORK/numbers.lua" <<EOF
local n = $NUMBERS
request = function()
  return wrk.format("GET", string.format(prefix .. "720555%04d", math.random(0, n - 1)))
end
EOF

run() {
  local prefix=$1
  (echo "prefix = \"$prefix\""; cat "$WORK/numbers.lua") >"$WORK/run.lua"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/run.lua" "$BASE" |
    awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "non-2xx " $4 > "/dev/stderr"}'
}

CNAM=$(run /v1/telique/cnam/)
LRN=$(run /v1/telique/lrn/)
AFTER=$(curl -s "http://127.0.0.1:$SIM_PORT/stats")

echo "simulator after priming: $DIPS"
echo "simulator after the runs: $AFTER"
echo "CNAM (cache hits): $CNAM requests/s"
echo "LRN dips:          $LRN requests/s"
awk -v c="$CNAM" -v l="$LRN" 'BEGIN { printf "CNAM/LRN ratio:    %.2f\n", c / l }'
