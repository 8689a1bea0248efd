#!/bin/sh
# lrn.sh - LRN dips over HTTP against the libmicrohttpd ceiling, in one run.
#
# usage: bench/lrn.sh [BUILD_DIR] [SVS] [SECONDS]
#   BUILD_DIR  a release build of ringer (default build-release), with
#              gen_npac, ceiling, lookup_bench, ringer and ringerd
#   SVS        synthetic subscription versions to load (default 10000000)
#   SECONDS    wrk duration per server (default 15)
# Data and logs go to ${BENCH_DIR:-/tmp/ringer-bench}. Needs wrk.
# STREAM=1 pipes the generator into `ringer import ported-full -` instead of
# writing the BDD file first (for sizes whose text would not fit the disk).
#
# Prints: import rate, file bytes/number, in-process lookup median, then for
# the ceiling and ringerd: requests/s, p50/p99 latency, CPU time per request
# (utime + stime from /proc over the run) and ringerd/ceiling ratios, and
# ringerd's RSS per ported number.
set -eu

BUILD=${1:-build-release}
SVS=${2:-10000000}
SECS=${3:-15}
DIR=${BENCH_DIR:-/tmp/ringer-bench}
CODES=${CODES:-$(dirname "$0")/../../shared/data/nanp/ca-cocode-status.csv}
THREADS=$(nproc)
CONNS=64
HZ=$(getconf CLK_TCK)

for b in gen_npac ceiling lookup_bench ringer ringerd; do
	[ -x "$BUILD/$b" ] || { echo "lrn.sh: $BUILD/$b missing (build first)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "lrn.sh: wrk not installed" >&2; exit 2; }
mkdir -p "$DIR"
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

echo "== data: $SVS SVs ($DIR)"
rm -rf "$DIR/data" && mkdir -p "$DIR/data"
if [ "${STREAM:-0}" = 1 ]; then
	# No BDD file on disk (500M SVs would be about 50 GB): the generator feeds
	# the importer through a pipe, so the rate is that of both on shared cores.
	t0=$(date +%s.%N)
	"$BUILD/gen_npac" "$SVS" --codes "$CODES" |
		"$BUILD/ringer" -d "$DIR/data" import ported-full - 2>"$DIR/import.log" | tail -1
	t1=$(date +%s.%N)
else
	BDD="$DIR/sv$SVS.bdd"
	[ -s "$BDD" ] || "$BUILD/gen_npac" "$SVS" --codes "$CODES" --out "$BDD"
	t0=$(date +%s.%N)
	"$BUILD/ringer" -d "$DIR/data" import ported-full "$BDD" 2>"$DIR/import.log" | tail -1
	t1=$(date +%s.%N)
fi
"$BUILD/ringer" -d "$DIR/data" allow add 127.0.0.1 bench >/dev/null
FILE_BYTES=$(stat -c %s "$DIR/data/ported.gen")
awk -v n="$SVS" -v b="$FILE_BYTES" -v a="$t0" -v z="$t1" 'BEGIN {
	printf "import: %.1f s, %.2f M records/s; file %d bytes, %.3f bytes/number\n",
	       z - a, n / (z - a) / 1e6, b, b / n }'

echo "== in-process lookups"
"$BUILD/lookup_bench" "$DIR/data" 4000000 "$DIR/tns.txt"

cat > "$DIR/lrn.lua" <<EOF
local tns = {}
for line in io.lines("$DIR/tns.txt") do tns[#tns + 1] = line end
math.randomseed(os.time())
request = function()
	return wrk.format("GET", "/v1/telique/lrn/" .. tns[math.random(#tns)])
end
EOF

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run NAME PID URL [LUA]: wrk against one server; prints one summary line.
run() {
	name=$1; pid=$2; url=$3; lua=${4:-}
	c0=$(cpu_ticks "$pid")
	if [ -n "$lua" ]; then
		wrk -t2 -c$CONNS -d"${SECS}s" --latency -s "$lua" "$url" >"$DIR/$name.wrk"
	else
		wrk -t2 -c$CONNS -d"${SECS}s" --latency "$url" >"$DIR/$name.wrk"
	fi
	c1=$(cpu_ticks "$pid")
	awk -v name="$name" -v c="$((c1 - c0))" -v hz="$HZ" '
	function us(v) {
		if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000;
		if (v ~ /s$/) return v * 1e6; return v + 0 }
	/^ +50%/ { p50 = us($2) } /^ +99%/ { p99 = us($2) }
	/^Requests\/sec/ { rps = $2 } /requests in/ { n = $1 }
	/Non-2xx|Socket errors/ { err = err " " $0 }
	END {
		printf "%-8s req/s %10.0f  p50 %8.1f us  p99 %8.1f us  cpu/req %6.2f us%s\n",
		       name, rps, p50, p99, c / hz * 1e6 / n, err
		print rps, p50, p99, c / hz * 1e6 / n > "'"$DIR"'/" name ".sum" }' "$DIR/$name.wrk"
}

wait_port() {
	for _ in $(seq 3000); do
		[ -s "$1" ] && return 0
		sleep 0.01
	done
	echo "lrn.sh: server did not start" >&2
	exit 1
}

echo "== HTTP: $CONNS connections, $THREADS server threads, ${SECS}s each"
"$BUILD/ceiling" 18090 "$THREADS" & CPID=$!
PIDS="$PIDS $CPID"
sleep 0.3
# The same wrk script drives both servers: the client's cost per request (the
# Lua request() building random paths) then weighs the same on the shared cores.
run ceiling "$CPID" "http://127.0.0.1:18090" "$DIR/lrn.lua"
kill "$CPID"

rm -f "$DIR/port"
r0=$(date +%s.%N)
"$BUILD/ringerd" -d "$DIR/data" -p 0 -t "$THREADS" --port-file "$DIR/port" \
	--log-level warn 2>"$DIR/ringerd.log" & RPID=$!
PIDS="$PIDS $RPID"
wait_port "$DIR/port"
r1=$(date +%s.%N)
awk -v a="$r0" -v z="$r1" 'BEGIN { printf "ringerd start to ready (port file written): %.0f ms\n", (z - a) * 1000 }'

PORT=$(cat "$DIR/port")
curl -s "http://127.0.0.1:$PORT/api/v1/data/stats"; echo
run ringerd "$RPID" "http://127.0.0.1:$PORT" "$DIR/lrn.lua"
RSS_KB=$(awk '/^VmRSS/ { print $2 }' "/proc/$RPID/status")
kill "$RPID"

read -r crps cp50 cp99 ccpu <"$DIR/ceiling.sum"
read -r rrps rp50 rp99 rcpu <"$DIR/ringerd.sum"
awk -v a="$rrps" -v b="$crps" -v c="$rp99" -v d="$cp99" -v e="$rcpu" -v f="$ccpu" \
    -v g="$rp50" -v h="$cp50" -v rss="$RSS_KB" -v n="$SVS" 'BEGIN {
	printf "ratios ringerd/ceiling: req/s %.3f (target >= 0.8)  p50 %.2f  p99 %.2f " \
	       "(target <= 1.25)  cpu/req %.2f (target <= 1.25)\n", a / b, g / h, c / d, e / f
	printf "ringerd RSS %d KiB after the run: %.3f bytes/number\n", rss, rss * 1024 / n }'
