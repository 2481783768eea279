#!/usr/bin/env python3
"""Counts test results over meson build directories and prints one closing line: N passed, N failed, N skipped.

Usage: test_summary.py [--since STAMP] [--manifest FILE] DIR[=STATUS[,TAG...][,only:SUITE:SUITE...]] ...

- STATUS is what tools/test.sh saw for that configuration: `ok`, or why it stopped (`setup-failed`,
  `build-failed`); anything but `ok` counts as one failure, and that directory's test log is not read.
- Only results written after STAMP (a file the test script touches before it starts) are read: a log left by
  an earlier run counts as one failure, never as its old results.
- The manifest names every test the suite must run, with the least number of doctest test cases it must
  report (see tests/manifest.txt). A test it names that did not run, or that reports fewer test cases, is a
  failure, so the suite cannot shrink without notice. A line may carry a tag (`[cuda]`); such tests are
  required only in configurations given that tag, and are counted as skipped elsewhere, with a line saying so.
  A configuration that runs only some suites says which (`only:core:nn`); the manifest's other suites are
  not expected of it.

The exit code is 1 exactly when the closing line counts a failure, 0 otherwise.
"""
import argparse
import json
import os
import re
import sys


def read_manifest(path):
    entries = []  # (name, minimum test cases, tag or None)
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            tag = None
            m = re.match(r"^\[(\w+)\]\s+(.*)$", line)
            if m:
                tag, line = m.group(1), m.group(2)
            parts = line.split()
            if len(parts) not in (1, 2):
                sys.exit(f"{path}:{number}: expected '[tag] suite/name [minimum test cases]'")
            entries.append((parts[0], int(parts[1]) if len(parts) == 2 else 0, tag))
    return entries


def short_name(meson_name):
    # "tenfold:train / fit" -> "train/fit"
    suite, _, name = meson_name.partition(" / ")
    return suite.split(":", 1)[-1] + "/" + name


def doctest_cases(stdout):
    m = re.search(r"\[doctest\] test cases:\s*(\d+)", stdout or "")
    return int(m.group(1)) if m else None


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--since", help="a file touched when the run started")
    parser.add_argument("--manifest", help="the expected tests")
    parser.add_argument("configs", nargs="+", help="DIR[=STATUS[,TAG...]]")
    args = parser.parse_args(argv)
    since = os.path.getmtime(args.since) if args.since else None
    manifest = read_manifest(args.manifest) if args.manifest else []

    passed = failed = skipped = 0
    for spec in args.configs:
        build, _, rest = spec.partition("=")
        status, *tags = (rest or "ok").split(",")
        only = next((t.split(":")[1:] for t in tags if t.startswith("only:")), None)
        if status != "ok":
            print(f"{build}: {status}")
            failed += 1
            continue
        log = os.path.join(build, "meson-logs", "testlog.json")
        if not os.path.exists(log):
            print(f"{build}: no test log")
            failed += 1
            continue
        if since is not None and os.path.getmtime(log) < since:
            print(f"{build}: the test log is older than this run (stale results are not counted)")
            failed += 1
            continue
        seen = {}
        with open(log) as f:
            for line in f:
                if not line.strip():
                    continue
                record = json.loads(line)
                name, result = short_name(record["name"]), record["result"]
                seen[name] = record
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                    print(f"{build}: {name}: skipped")
                else:
                    failed += 1
                    print(f"{build}: {name}: {result}")
        for name, minimum, tag in manifest:
            if only is not None and name.split("/")[0] not in only:
                continue
            if name not in seen:
                if tag is not None and tag not in tags:
                    skipped += 1
                    print(f"{build}: {name}: not built here (needs {tag})")
                else:
                    failed += 1
                    print(f"{build}: {name}: expected by {args.manifest} but did not run")
                continue
            record = seen[name]
            if minimum and record["result"] in ("OK", "EXPECTEDFAIL"):
                cases = doctest_cases(record.get("stdout"))
                if cases is None or cases < minimum:
                    failed += 1
                    print(f"{build}: {name}: {cases} doctest test cases, the manifest expects at least {minimum}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
