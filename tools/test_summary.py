#!/usr/bin/env python3
"""Counts test results over meson build directories and prints one closing line.

Reads each directory's meson-logs/testlog.json (one JSON object per test). A build directory without a
log (its build failed) counts as one failure, so a broken build can never pass silently.
"""
import json
import os
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    log = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        print(f"{build}: no test log (the build failed)")
        failed += 1
        continue
    with open(log) as f:
        for line in f:
            if not line.strip():
                continue
            result = json.loads(line)["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
                print(f"{build}: {json.loads(line)['name']}: {result}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
