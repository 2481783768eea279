#!/usr/bin/env python3
"""Checks that every tenfold header stands on its own.

- A public header (directly in include/tenfold/) compiles alone, twice in a row (it has `#pragma once`), and
  does not leave TENFOLD_INSIDE_LIBRARY defined behind it (else internal headers would stop refusing users).
- An internal header (include/tenfold/<module>/..., kernels/tenfold/...) compiles alone once
  TENFOLD_INSIDE_LIBRARY is defined, so it includes everything it uses.
- An internal header included without TENFOLD_INSIDE_LIBRARY stops with the 'internal header' sentence.
- A header's object links with itself (`ld -r`): everything it defines is inline or a template, so two
  translation units of one program may include it. A function or kernel that is neither is defined in both, and
  the program does not link.

Headers of CUDA code (cuda.hpp, nccl.hpp, .cuh files, anything in a folder named cuda) are compiled with the CUDA
compiler (--cuda=...). They are checked by a run with `--only cuda`, the others by one with `--only cxx`
(meson registers the two as separate tests); without a CUDA compiler the CUDA run exits with 77, which meson
reports as skipped, so that an unchecked header is never counted as a pass.

The list comes from configure time (`--list` prints it for meson; then --header=... for each); headers added
since are checked too, with a note to reconfigure so that the list is complete again.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "tools"))
from compile_fail import compile_source, run_parallel  # noqa: E402  (path set just above)

INTERNAL_SENTENCE = "tenfold: this is an internal header"
HEADER_SUFFIXES = (".hpp", ".cuh")
HEADER_ROOTS = ("include", "kernels")


def find_headers(root):
    found = []
    for top in HEADER_ROOTS:
        base = os.path.join(root, top, "tenfold")
        for d, _, files in os.walk(base):
            found += [os.path.relpath(os.path.join(d, f), root) for f in files if f.endswith(HEADER_SUFFIXES)]
    return sorted(found)


class Header:
    def __init__(self, rel_path):
        parts = rel_path.replace(os.sep, "/").split("/")
        self.path = rel_path
        self.include_name = "/".join(parts[1:])  # as written after -Iinclude or -Ikernels: tenfold/...
        self.public = parts[0] == "include" and len(parts) == 3
        self.cuda = parts[-1] in ("cuda.hpp", "nccl.hpp") or rel_path.endswith(".cuh") or "cuda" in parts[2:-1]
        self.mpi = parts[-1] == "mpi.hpp"  # tenfold/mpi.hpp and dist/mpi.hpp include <mpi.h>


def check(header, cxx, cuda, mpi, linker, workdir):
    """Returns a list of (passed, report) for one header."""
    command = cuda if header.cuda else cxx + (mpi if header.mpi else [])
    mode = "-c"  # an object, for the link check
    stem = os.path.join(workdir, header.include_name.replace("/", "_"))
    suffix = ".cu" if header.cuda else ".cpp"
    include = f"#include <{header.include_name}>\n"
    results = []

    def compile_text(tag, text, run_mode):
        src = f"{stem}.{tag}{suffix}"
        with open(src, "w", encoding="utf-8") as f:
            f.write(text)
        extra = ["-o", f"{stem}.{tag}.o"] if run_mode == "-c" else []
        return compile_source(command, src, extra, run_mode, gcc_like=not header.cuda)

    def record(passed, what, output=""):
        results.append((passed, f"{'PASS' if passed else 'FAIL'} {header.path}: {what}" + ("" if passed else output)))

    if header.public:
        leak = ("#ifdef TENFOLD_INSIDE_LIBRARY\n"
                f'#error "{header.include_name} leaves TENFOLD_INSIDE_LIBRARY defined behind it"\n#endif\n')
        compiled, out = compile_text("alone", include + include + leak, mode)
        record(compiled == 0, "compiles alone", "\n" + out)
    else:
        compiled, out = compile_text("alone", "#define TENFOLD_INSIDE_LIBRARY\n" + include + include, mode)
        record(compiled == 0, "compiles alone inside the library", "\n" + out)
        # The preprocessor is enough to see the refusal, and much faster than a compile.
        rc, out = compile_text("outside", include, "-E")
        record(rc != 0 and INTERNAL_SENTENCE in out, "refuses user code",
               f" (expected the sentence '{INTERNAL_SENTENCE}')\n{out}")
    if compiled == 0:
        obj = f"{stem}.alone.o"
        proc = subprocess.run([linker, "-r", obj, obj, "-o", f"{stem}.twice.o"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, check=False)
        record(proc.returncode == 0, "links into two translation units of one program",
               " (a definition that is neither inline nor a template)\n" + proc.stdout.decode("utf-8", "replace"))
    return results


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="the source root (holding include/ and kernels/)")
    parser.add_argument("--header", action="append", default=[], help="a header path relative to --root")
    parser.add_argument("--cxx", action="append", default=[], help="C++ compiler command and flags, one per --cxx=")
    parser.add_argument("--cuda", action="append", default=[], help="CUDA compiler command and flags, one per --cuda=")
    parser.add_argument("--mpi", action="append", default=[],
                        help="flags that find <mpi.h>, one per --mpi=; without them the MPI headers are skipped")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", choices=("cxx", "cuda", "all"), default="all",
                        help="check only the C++ headers, or only the CUDA ones")
    parser.add_argument("--list", action="store_true", help="print the headers under --root, one a line, and stop")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(find_headers(args.root)))
        return 0

    listed = sorted(set(h for h in args.header if h.endswith(HEADER_SUFFIXES)))
    on_disk = find_headers(args.root)
    notes = [f"NOTE {h}: added after configuration; checked anyway (reconfigure to list it)"
             for h in on_disk if h not in listed]
    notes += [f"NOTE {h}: listed at configuration but gone; skipped" for h in listed if h not in on_disk]
    headers = [Header(h) for h in on_disk]
    if not any(h.public for h in headers):
        print(f"no public headers under {args.root}/include/tenfold")
        return 1
    if args.only != "all":
        headers = [h for h in headers if h.cuda == (args.only == "cuda")]
    skipped = []
    if not args.mpi:
        skipped = [f"SKIP {h.path}: no MPI found at configuration, so <mpi.h> cannot be found"
                   for h in headers if h.mpi]
        headers = [h for h in headers if not h.mpi]
    if any(h.cuda for h in headers) and not args.cuda:
        print(f"SKIP: no CUDA compiler configured; {sum(h.cuda for h in headers)} CUDA headers not checked")
        return 77
    if any(not h.cuda for h in headers) and not args.cxx:
        print("no C++ compiler command given (--cxx=...)")
        return 1

    linker = shutil.which("ld")
    if linker is None:
        print("no linker (ld) on the PATH for the link check")
        return 1
    with tempfile.TemporaryDirectory(prefix="tenfold-headers-") as workdir:
        per_header = run_parallel(lambda h: check(h, args.cxx, args.cuda, args.mpi, linker, workdir), headers,
                                  args.jobs)
    results = [r for rs in per_header for r in rs]
    for note in notes + skipped:
        print(note)
    for _, report in results:
        print(report)
    failed = sum(1 for passed, _ in results if not passed)
    print(f"{len(results) - failed} of {len(results)} header checks passed ({len(headers)} headers"
          + (f", {len(skipped)} skipped" if skipped else "") + ")")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
