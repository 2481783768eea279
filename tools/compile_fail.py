#!/usr/bin/env python3
"""Compile-fail tests: each case is a small C++ file that must compile with -DTENFOLD_OK and fail without it.

A case states what its failure must say with comment lines anywhere in the file:

    // expect: tenfold: operator+ needs operands of the same shape
    // expect: shape<2, 3>
    // max-lines: 40        (optional: bound on the lines of diagnostics; default --max-lines, 30)
    // errors: 1            (optional: how many `error:` lines; default 1, so one mistake gives one error)
    // flags: -DSOMETHING   (optional: extra compiler arguments for both builds)

Every `expect` substring must occur in the compiler's output. The OK build proves that the case fails for the
reason it states and not for a typo; the bounds keep a shape mistake down to a sentence instead of a page.
New cases are picked up by dropping a .cpp file into the cases folder (or any folder below it).

Usage (the compiler command and its flags are given one argument at a time, with `--cxx=`, so that flags
starting with a dash pass through unchanged):

    compile_fail.py --cases DIR [--jobs 2] [--max-lines 30] --cxx=g++ --cxx=-std=c++20 --cxx=-Iinclude ...

The helpers below (compile_source, run_parallel) are shared with tests/headers/check_headers.py.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

# Plain ASCII diagnostics without colour, so that substring matches and line counts do not depend on the terminal
# or the locale of whoever runs the tests.
_ENV = dict(os.environ, LC_ALL="C", LANG="C", GCC_COLORS="")
_DIRECTIVE = re.compile(r"^\s*//\s*(expect|max-lines|errors|flags):\s?(.*?)\s*$")


def compile_source(command, source_path, extra_args=(), mode="-fsyntax-only", gcc_like=True):
    """Runs `command` on one file and returns (exit status, combined diagnostics). `mode` is -fsyntax-only, -E
    or -c; gcc_like=False leaves out the flags that only g++ and clang know (for nvcc)."""
    args = list(command) + (["-fdiagnostics-color=never"] if gcc_like else []) + list(extra_args)
    if mode == "-E":
        args += ["-E", "-o", os.devnull, source_path]
    else:
        args += [mode, source_path]
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_ENV, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", errors="replace")


def run_parallel(function, items, jobs):
    """function(item) for every item, at most `jobs` at a time; results in the order of `items`."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(function, items))


def error_lines(output):
    return [line for line in output.splitlines() if re.search(r"\berror:", line)]


class Case:
    def __init__(self, path, root, default_max_lines):
        self.path = path
        self.name = os.path.splitext(os.path.relpath(path, root))[0]
        self.expect = []
        self.max_lines = default_max_lines
        self.errors = 1
        self.flags = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = _DIRECTIVE.match(line)
                if not m:
                    continue
                key, value = m.groups()
                if key == "expect":
                    self.expect.append(value)
                elif key == "max-lines":
                    self.max_lines = int(value)
                elif key == "errors":
                    self.errors = int(value)
                else:
                    self.flags += value.split()

    def run(self, command):
        """Returns (passed, report text)."""
        if not self.expect:
            return False, f"FAIL {self.name}: no `// expect:` line, so it cannot tell a right failure from a wrong one"
        ok_rc, ok_out = compile_source(command, self.path, self.flags + ["-DTENFOLD_OK"])
        if ok_rc != 0:
            return False, f"FAIL {self.name}: the -DTENFOLD_OK build must compile, but it fails:\n{ok_out}"
        rc, out = compile_source(command, self.path, self.flags)
        lines = out.count("\n")
        errors = len(error_lines(out))
        problems = []
        if rc == 0:
            problems.append("it compiles, but it must not")
        missing = [e for e in self.expect if e not in out]
        if missing:
            problems.append("the diagnostics lack " + ", ".join(repr(m) for m in missing))
        if lines > self.max_lines:
            problems.append(f"{lines} lines of diagnostics, more than the bound of {self.max_lines}")
        if rc != 0 and errors != self.errors:
            problems.append(f"{errors} error lines where {self.errors} were expected (a cascade of follow-on errors?)")
        summary = (f"{self.name}: {lines} lines of diagnostics (bound {self.max_lines}), {len(out)} characters, "
                   f"{errors} error(s)")
        if problems:
            return False, f"FAIL {summary}: " + "; ".join(problems) + f"\n--- diagnostics ---\n{out}-------------------"
        return True, f"PASS {summary}"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", required=True, help="folder of .cpp cases (searched recursively)")
    parser.add_argument("--jobs", type=int, default=2, help="compilations at once (default 2)")
    parser.add_argument("--max-lines", type=int, default=30, help="default bound on lines of diagnostics per case")
    parser.add_argument("--cxx", action="append", default=[], help="compiler command, then its flags, one per --cxx=")
    parser.add_argument("--only", action="append", default=[], help="run only the named cases")
    args = parser.parse_args(argv)
    if not args.cxx:
        parser.error("no compiler given (--cxx=...)")

    paths = sorted(os.path.join(d, f) for d, _, files in os.walk(args.cases) for f in files if f.endswith(".cpp"))
    cases = [Case(p, args.cases, args.max_lines) for p in paths]
    if args.only:
        cases = [c for c in cases if c.name in args.only]
    if not cases:
        print(f"no cases in {args.cases}")
        return 1

    results = run_parallel(lambda c: c.run(args.cxx), cases, args.jobs)
    for _, report in results:
        print(report)
    failed = sum(1 for passed, _ in results if not passed)
    print(f"{len(cases) - failed} of {len(cases)} compile-fail cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
