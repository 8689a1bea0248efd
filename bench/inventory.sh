#!/bin/sh
# inventory.sh - inventory queries over 10 million numbers, in process and over HTTP.
#
# usage: bench/inventory.sh [BUILD_DIR] [NUMBERS]
#   BUILD_DIR  a release build of ringer with inventory_bench, ringer and ringerd
#              (default build-release)
#   NUMBERS    numbers for the queried SPID 567G (default 10000000); SPID 123A gets
#              a tenth as many, in the same NPA-NXXs, and must never show up
# Data goes to ${BENCH_DIR:-/tmp/ringer-bench}/inventory (removed afterwards). Needs curl.
#
# Prints the fill time; for each query the matches and the median and max of
# 7 runs of what POST /api/v1/inventory/query does after the token check
# (parse, compile, count the matches, read one page of 50) beside the reference
# (the same query with the matches counted row by row); then the same
# database under ringerd: client-side time of POST /api/v1/inventory/query
# with a bearer token (median of 7), and the answer's totalElements.
# Target: a query on an indexed field under 100 ms at 10 million numbers.
set -eu

BUILD=${1:-build-release}
N=${2:-10000000}
DIR=${BENCH_DIR:-/tmp/ringer-bench}/inventory

for b in inventory_bench ringer ringerd; do
	[ -x "$BUILD/$b" ] || { echo "inventory.sh: $BUILD/$b missing (build first)" >&2; exit 2; }
done
rm -rf "$DIR"
mkdir -p "$DIR/data"
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

"$BUILD/inventory_bench" "$DIR/data/ringer.db" "$N"
echo "database: $(du -h "$DIR/data/ringer.db" | cut -f1)"

# The same file under ringerd, asked over HTTP with a token for 567G.
"$BUILD/ringer" -d "$DIR/data" customer create bench --rate 100000 >/dev/null
TOKEN=$("$BUILD/ringer" -d "$DIR/data" token create --customer bench \
	--scopes inventory:search --spids 567G | grep -o 'rng_[A-Za-z0-9_-]*')
"$BUILD/ringerd" -d "$DIR/data" -p 0 -l 127.0.0.1 --port-file "$DIR/port" \
	--log-level warn >"$DIR/ringerd.log" 2>&1 &
PID=$!
i=0
while [ ! -s "$DIR/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$DIR/port")

http_query() {
	q=$1
	times=""
	for _ in 1 2 3 4 5 6 7; do
		t=$(curl -s -o "$DIR/answer.json" -w '%{time_total}' \
			-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
			-d "{\"query\":\"$q\",\"page\":0,\"size\":50}" \
			"http://127.0.0.1:$PORT/api/v1/inventory/query")
		times="$times $t"
	done
	median=$(echo "$times" | tr ' ' '\n' | grep . | sort -n | sed -n 4p)
	total=$(grep -o '"totalElements": *[0-9]*' "$DIR/answer.json" |
		grep -o '[0-9]*$' || echo "?")
	printf 'HTTP %-44s matches %-9s median %8.2f ms\n' "$q" "$total" \
		"$(echo "$median * 1000" | bc -l)"
}

http_query "npa=303 and nxx=201"
http_query "status=reserved"
http_query "lata=403 and status=available"
http_query "locality='RC 303201' and status=available"
http_query "status=available"
http_query "metadata.ban=BAN7"
http_query "(status=available or status=reserved) and ported=in"
