#!/usr/bin/env bash
# One command from a fresh clone to a running ringerd with demo data:
# installs packages, builds, imports the real NANP files when ../shared is
# there (generated codes otherwise) plus a generated demo set, allows
# localhost, prints a few curl lines and runs ringerd on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
[ -d build ] || meson setup build --buildtype=release -Dtests=false >/dev/null
ninja -C build >/dev/null

PORT=${PORT:-8080}
DEMO=${DEMO_DIR:-demo}
NANP=${RINGER_SHARED_DIR:-$(cd .. && pwd)/shared}/data/nanp
DATA="$DEMO/data"
FILES="$DEMO/files"
RINGER="./build/ringer -d $DATA"

rm -rf "$DATA" "$FILES"
mkdir -p "$DATA" "$FILES"

if [ -f "$NANP/npa_report.csv" ] && [ -f "$NANP/ca-cocode-status.csv" ]; then
  echo "using the real NANP files in $NANP"
  ./build/ringer demo-data "$FILES" >/dev/null
  $RINGER import npa "$NANP/npa_report.csv"
  $RINGER import cocode "$NANP/ca-cocode-status.csv"
else
  echo "real NANP files not found at $NANP: using generated area and office codes"
  ./build/ringer demo-data "$FILES" --with-codes >/dev/null
  $RINGER import npa "$FILES/npa_report.csv"
  $RINGER import cocode "$FILES/cocodes.csv"
fi
$RINGER import blocks "$FILES/blocks.csv"
$RINGER import blocks "$FILES/blocks.bdd"
$RINGER import ported-full "$FILES/ported.bdd"
$RINGER import cnam "$FILES/cnam.csv"
$RINGER import dnc "$FILES/dnc.txt"
$RINGER import dnc "$FILES/dnc-npa.csv"
$RINGER import dno "$FILES/dno.csv"
$RINGER import ror "$FILES/ror.csv"
$RINGER import cpr "$FILES/cpr.json"
$RINGER allow add 127.0.0.1/32 "demo: this machine" >/dev/null
$RINGER allow add ::1/128 "demo: this machine" >/dev/null

B="http://127.0.0.1:$PORT/v1"
cat <<MSG

ringerd is starting on 127.0.0.1:$PORT with the demo data in $DATA. Try:
  curl $B/telique/lrn/2042221234            # ported: LRN;SPID
  curl $B/telique/lrn/2042234567            # pooled block, not ported
  curl $B/telique/lrn/2042001234            # code holder only
  curl $B/telique/cnam/2042221234
  curl -d number=2042221234 $B/telique/cnam
  curl $B/telique/dnc/2042221234
  curl $B/telique/dno/8005550100/xml
  curl $B/telique/ror/8005551234/plain
  curl $B/telique/cic/8005551234/2042001234/656
  curl $B/cicror/8005551234/2042001234/656
  curl $B/lrn/+12042221234
Stop it with Ctrl-C.

MSG
exec ./build/ringerd -d "$DATA" -l 127.0.0.1 -p "$PORT"
