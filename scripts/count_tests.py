#!/usr/bin/env python3
"""Sum cmocka's per-binary results from meson's test log into one line.

A test binary that died before cmocka could report (a crash, a sanitizer
abort, a timeout) counts as one failed test, so it cannot vanish from the
total.
"""
import json
import re
import sys

PASSED = re.compile(r"^\[  PASSED  \] (\d+) test", re.M)
FAILED = re.compile(r"^\[  FAILED  \] (\d+) test", re.M)
SKIPPED = re.compile(r"^\[  SKIPPED \] (\d+) test", re.M)


def main(path):
    passed = failed = skipped = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            entry = json.loads(line)
            # cmocka writes its summary lines to stderr, the per-test lines to stdout.
            out = (entry.get("stdout", "") or "") + (entry.get("stderr", "") or "")
            p = sum(int(n) for n in PASSED.findall(out))
            fl = sum(int(n) for n in FAILED.findall(out))
            s = sum(int(n) for n in SKIPPED.findall(out))
            if entry.get("result") != "OK" and fl == 0:
                fl = 1  # died without reporting
                print(f"{entry.get('name')}: {entry.get('result')} without a cmocka report")
            passed, failed, skipped = passed + p, failed + fl, skipped + s
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
