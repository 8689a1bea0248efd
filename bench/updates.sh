#!/bin/sh
# updates.sh - LRN dips over HTTP while single-SV changes stream in.
#
# usage: bench/updates.sh [BUILD_DIR] [SVS] [SECONDS] [RATE]
#   BUILD_DIR  a release build (default build-release) with gen_npac,
#              lookup_bench, update_load, ringer and ringerd
#   SVS        synthetic subscription versions loaded first (default 10000000)
#   SECONDS    wrk duration of each run (default 20)
#   RATE       single-SV changes per second during the second run (default 10000)
# Environment: BENCH_DIR (default /tmp/ringer-bench/updates), FOLD_ROWS (the
# ringerd overlay size that starts a background fold, default 100000, so
# folds happen during the run), RELOAD_MS (ringerd's reload tick, default 500).
#
# The generator streams into `ringer import ported-full -` (no BDD file on
# disk). ringerd serves 64 wrk connections of random ported and non-ported
# numbers, first alone, then while update_load applies RATE changes/s in
# batches (one transaction each) to the same lookup.db. Prints for each run:
# requests/s, p50/p90/p99/max latency, non-2xx responses and socket errors;
# then the changes/s achieved, batch commit times, and the folds ringerd ran.
set -eu

BUILD=${1:-build-release}
SVS=${2:-10000000}
SECS=${3:-20}
RATE=${4:-10000}
DIR=${BENCH_DIR:-/tmp/ringer-bench/updates}
CODES=${CODES:-$(dirname "$0")/../../shared/data/nanp/ca-cocode-status.csv}
THREADS=$(nproc)

for b in gen_npac lookup_bench update_load ringer ringerd; do
	[ -x "$BUILD/$b" ] || { echo "updates.sh: $BUILD/$b missing (build first)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "updates.sh: wrk not installed" >&2; exit 2; }
mkdir -p "$DIR"
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

echo "== data: $SVS SVs streamed into ringer import ported-full ($DIR)"
rm -rf "$DIR/data" && mkdir -p "$DIR/data"
"$BUILD/gen_npac" "$SVS" --codes "$CODES" |
	"$BUILD/ringer" -d "$DIR/data" import ported-full - 2>"$DIR/import.log" | tail -1
"$BUILD/ringer" -d "$DIR/data" allow add 127.0.0.1 bench >/dev/null
"$BUILD/lookup_bench" "$DIR/data" 1000000 "$DIR/tns.txt" >/dev/null

cat > "$DIR/lrn.lua" <<LUA
local tns = {}
for line in io.lines("$DIR/tns.txt") do tns[#tns + 1] = line end
math.randomseed(os.time())
request = function()
	return wrk.format("GET", "/v1/telique/lrn/" .. tns[math.random(#tns)])
end
LUA

# run NAME URL: 64 connections for SECS; one summary line.
run() {
	wrk -t2 -c64 -d"${SECS}s" --latency -s "$DIR/lrn.lua" "$2" >"$DIR/$1.wrk"
	awk -v name="$1" '
	function us(v) {
		if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000;
		if (v ~ /s$/) return v * 1e6; return v + 0 }
	/^ +50%/ { p50 = us($2) } /^ +90%/ { p90 = us($2) } /^ +99%/ { p99 = us($2) }
	/^ +Latency +[0-9]/ { max = us($4) }
	/^Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $NF }
	/Socket errors/ { gsub(",", ""); serr = $4 + $6 + $8 + $10 }
	END {
		printf "%-14s req/s %8.0f  p50 %7.1f us  p90 %7.1f us  p99 %7.1f us  " \
		       "max %8.1f us  non-2xx %d  socket errors %d\n",
		       name, rps, p50, p90, p99, max, bad + 0, serr + 0 }' "$DIR/$1.wrk"
}

rm -f "$DIR/port"
RINGER_DATA_FOLD_ROWS=${FOLD_ROWS:-100000} RINGER_DATA_RELOAD_MS=${RELOAD_MS:-500} \
	"$BUILD/ringerd" -d "$DIR/data" -p 0 -t "$THREADS" --port-file "$DIR/port" \
	--log-level info 2>"$DIR/ringerd.log" & RPID=$!
PIDS="$PIDS $RPID"
for _ in $(seq 600); do [ -s "$DIR/port" ] && break; sleep 0.1; done
[ -s "$DIR/port" ] || { echo "updates.sh: ringerd did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$DIR/port")"

echo "== HTTP: 64 connections, $THREADS server threads, ${SECS}s each"
run no-updates "$URL"
"$BUILD/update_load" "$DIR/data" "$DIR/tns.txt" "$RATE" "$SECS" >"$DIR/updates.out" & UPID=$!
PIDS="$PIDS $UPID"
run with-updates "$URL"
wait "$UPID"
cat "$DIR/updates.out"
sleep 1
curl -s "$URL/api/v1/data/stats"; echo
echo "ringerd folds during the run: $(grep -c 'ported fold committed' "$DIR/ringerd.log" || true)" \
     "$(grep 'ported fold committed' "$DIR/ringerd.log" | sed 's/.*rows=/rows=/' | tr '\n' ' ')"
