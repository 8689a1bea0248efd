#!/usr/bin/env bash
# Build ringer with AddressSanitizer and UndefinedBehaviorSanitizer and run the
# whole suite: unit tests (cmocka) and API tests against the real ringerd.
# Ends with one line "N passed, N failed[, N skipped]"; exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }

BUILD=${BUILD_DIR:-build-test}
SHARED=${RINGER_SHARED_DIR:-$(cd .. && pwd)/shared}

if [ ! -d "$BUILD" ]; then
  meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dshared_dir="$SHARED" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$BUILD"; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# Undefined behaviour must fail the test, not scroll past.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0

meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@"
status=$?

python3 scripts/count_tests.py "$BUILD/meson-logs/testlog.json"
counted=$?
[ $status -eq 0 ] && [ $counted -eq 0 ] && exit 0
exit 1
