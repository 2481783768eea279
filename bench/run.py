#!/usr/bin/env python3
"""Runs tenfold's benchmark programs and the comparators (PyTorch, dlib, Eigen, OpenBLAS) on the same machine in
the same run, merges their CSV lines by (workload, threads, batch), prints one table with tenfold's speedup over
each comparator, and writes bench/results/bench-<date>.csv, bench-<date>.png and latest.md, stamped with the
commit, CPU, compiler and thread counts. A program that is missing or fails only removes its column.

Every program prints `workload,threads,batch,median_us_per_step,min_us,max_us,samples_per_s` (tenfold's GEMM
program prints `gemm,<m>x<k>x<n>,<threads>,<tenfold_gflops>,<openblas_gflops>,<ratio>`). See bench/README.md.
Usually started by tools/bench.sh, which installs the comparators and builds build-bench first.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPARATORS = os.path.join(ROOT, "bench", "comparators")
NET_WORKLOADS = ("w1_train", "w1_epoch", "w1_infer", "w4_train", "w3_train", "w3_infer")
# Multiply-adds of one sample's forward pass: the products of the dense and convolution layers only.
W1_MACS = 784 * 128 + 128 * 64 + 64 * 10
W4_MACS = 1000 * 500 + 500 * 100 + 100 * 1
W3_MACS = (28 * 28 * 32 * 3 * 3 * 1          # conv 32@3x3 on 28x28x1 (pad 1)
           + 14 * 14 * 64 * 3 * 3 * 32       # conv 64@3x3 on 14x14x32 (pad 1)
           + 7 * 7 * 64 * 128 + 128 * 10)    # dense 128, dense 10
# FLOPs per sample of each network workload: 2 per multiply-add forward, three times that for a training step
# (forward, input gradients, weight gradients). The share of the FMA peak of a row is samples/s times this over
# the peak that tenfold's net_bench measured with the same thread count.
FLOPS_PER_SAMPLE = {"w1_train": 6 * W1_MACS, "w1_epoch": 6 * W1_MACS, "w1_infer": 2 * W1_MACS,
                    "w4_train": 6 * W4_MACS, "w3_train": 6 * W3_MACS, "w3_infer": 2 * W3_MACS}
# "tenfold plain -O2": net_bench built with no -march and errno-setting math (bench/nets/meson.build), its
# kernels chosen at run time.
PLAIN = "tenfold plain -O2"
# "tenfold bf16": the same program in mixed precision (model<..., mixed<bf16, float>>), net_bench_bf16.
BF16 = "tenfold bf16"
# "tenfold f16": the same with f16 operands and a scaled loss (model<..., mixed<f16, float>>), net_bench_f16.
F16 = "tenfold f16"
IMPLEMENTATIONS = ["tenfold", PLAIN, BF16, F16, "PyTorch", "dlib", "Eigen", "OpenBLAS"]  # plus tenfold@REV with --baseline
# OpenBLAS tuning variables some setups export for tenfold's GEMM comparison; dlib runs with OpenBLAS's defaults.
DLIB_UNSET_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# A cell is marked noisy when other processes used more than this share of all CPUs during its program's run.
NOISY = 0.10


def default_thread_counts():
    """The powers of two from 1 up to the CPUs this process may use, at most 16: "1,2" on two cores."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return ",".join(str(t) for t in (1, 2, 4, 8, 16) if t == 1 or t <= cpus)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    p.add_argument("--threads", default=default_thread_counts(),
                   help="comma-separated thread counts (default: 1, 2, 4, 8, 16 up to this machine's CPU count)")
    p.add_argument("--reps", type=int, default=7, help="timed repetitions after the warm-up (at least 5)")
    p.add_argument("--rep-ms", type=float, default=100.0, help="target duration of one repetition")
    p.add_argument("--only", default="", help="run only workloads whose name contains this (e.g. w1_train)")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--python", default="", help="Python with torch for the PyTorch comparator")
    p.add_argument("--skip-compile-timing", action="store_true",
                   help="reuse comparator binaries that are up to date and do not time tenfold's compile")
    p.add_argument("--bf16", action="store_true",
                   help="also time tenfold in mixed precision (bf16 operands, float master weights)")
    p.add_argument("--f16", action="store_true",
                   help="also time tenfold in mixed precision with f16 operands (float master weights, scaled loss)")
    p.add_argument("--no-check", action="store_true", help="skip the quick check that each comparator learns")
    p.add_argument("--keep-denormals", action="store_true",
                   help="comparators keep subnormal floats (by default they flush them, as tenfold's fit() does)")
    p.add_argument("--baseline", default="",
                   help="also build tenfold at this git revision and run its net_bench in the same run, alternating "
                        "with the current one (column tenfold@REV): how a change moved tenfold's own speed")
    p.add_argument("--wait-quiet", type=float, default=30.0,
                   help="wait up to this many seconds for other processes to leave the CPUs before each run")
    a = p.parse_args()
    a.reps = max(5, a.reps)
    a.thread_counts = [int(t) for t in a.threads.split(",") if t.strip()]
    return a


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- the machine -------------------------------------------------------------------------------------------

def command_output(cmd, cwd=ROOT):
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def busy_cpu_seconds():
    """CPU time all processes have spent not idle since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_busy_fraction(seconds=1.0):
    """Share of all CPUs' time spent not idle over `seconds` (ours included, so call it between runs)."""
    def snapshot():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait
    try:
        t0, i0 = snapshot()
        time.sleep(seconds)
        t1, i1 = snapshot()
        return 1.0 - (i1 - i0) / max(1, t1 - t0)
    except OSError:
        return float("nan")


def wait_until_quiet(limit_s, threshold=0.15):
    busy, waited = cpu_busy_fraction(), 0.0
    while busy > threshold and waited < limit_s:
        busy = cpu_busy_fraction(2.0)
        waited += 2.0
    return busy


def stamp(args):
    commit = command_output(["git", "rev-parse", "--short=12", "HEAD"]) or "unknown"
    if command_output(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += "-dirty"
    lscpu = command_output(["lscpu"])
    cpu = re.search(r"Model name:\s*(.+)", lscpu)
    family, model = re.search(r"CPU family:\s*(\S+)", lscpu), re.search(r"\nModel:\s*(\S+)", lscpu)
    simd = next((s for s in ("avx512f", "avx2") if re.search(rf"\b{s}\b", lscpu)), "")
    detail = ", ".join(x for x in (f"family {family.group(1)}" if family else "",
                                   f"model {model.group(1)}" if model else "", simd) if x)
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "commit": commit,
        "cpu": (cpu.group(1).strip() if cpu else platform.processor()) + (f" ({detail})" if detail else ""),
        "cpus": os.cpu_count(),
        "compiler": (command_output(["g++", "--version"]).splitlines() or ["g++ not found"])[0],
        "threads": ",".join(str(t) for t in args.thread_counts),
        "reps": args.reps,
    }


def package_version(name):
    return command_output(["dpkg-query", "-W", "-f=${Version}", name]) or "not installed"


# ---- building the C++ comparators --------------------------------------------------------------------------

def pkg_config(*args):
    out = command_output(["pkg-config", *args])
    return shlex.split(out) if out else []


def comparator_builds(build_dir):
    """(name, source, binary, g++ arguments, header that must exist) of each C++ comparator. The name's first word
    is the implementation (its table column)."""
    cxx = ["g++", "-O3", "-march=native", "-std=c++20"]
    out = os.path.join(build_dir, "comparators")
    eigen_inc = pkg_config("--cflags-only-I", "eigen3") or ["-I/usr/include/eigen3"]
    eigen_inc = ["-isystem" + f[2:] if f.startswith("-I") else f for f in eigen_inc]
    dlib_flags = pkg_config("--cflags", "--libs", "dlib-1") or ["-ldlib", "-lblas", "-llapack", "-lpthread"]
    return [
        ("dlib", "dlib_bench.cpp", os.path.join(out, "dlib_bench"),
         cxx + ["{src}", "-o", "{bin}"] + dlib_flags + ["-ldl"],
         "/usr/include/dlib/dnn.h"),
        ("Eigen", "eigen_mlp.cpp", os.path.join(out, "eigen_mlp"),
         cxx + ["-fopenmp"] + eigen_inc + ["{src}", "-o", "{bin}"], "Eigen/Core"),
        ("Eigen CNN", "eigen_cnn.cpp", os.path.join(out, "eigen_cnn"),
         cxx + ["-fopenmp"] + eigen_inc + ["{src}", "-o", "{bin}"], "Eigen/Core"),
    ]


def header_exists(header, flags):
    if os.path.isabs(header):
        return os.path.exists(header)
    dirs = [f[len("-isystem"):] if f.startswith("-isystem") else f[2:] for f in flags
            if f.startswith("-isystem") or f.startswith("-I")]
    return any(os.path.exists(os.path.join(d, header)) for d in dirs + ["/usr/include", "/usr/local/include"])


def build_comparators(args, notes):
    """Compiles each C++ comparator, timing the compile. Returns {name: binary} and {name: seconds}."""
    binaries, seconds = {}, {}
    os.makedirs(os.path.join(args.build_dir, "comparators"), exist_ok=True)
    timing_file = os.path.join(args.build_dir, "comparators", "compile_seconds.json")
    try:
        with open(timing_file) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        previous = {}
    for name, source, binary, template, header in comparator_builds(args.build_dir):
        src = os.path.join(COMPARATORS, source)
        cmd = [a.format(src=src, bin=binary) for a in template]
        if not header_exists(header, cmd):
            notes.append(f"{name}: {header} not found, column left out (tools/bench.sh installs it)")
            continue
        fresh = os.path.exists(binary) and all(
            os.path.getmtime(binary) >= os.path.getmtime(os.path.join(COMPARATORS, f))
            for f in (source, "bench_common.hpp"))
        if args.skip_compile_timing and fresh:
            binaries[name] = binary
            if name in previous:
                seconds[name] = previous[name]
            continue
        log(f"compiling {source} ...")
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        if r.returncode != 0:
            notes.append(f"{name}: compile failed, column left out ({' '.join(cmd)}): {r.stderr.strip()[-400:]}")
            continue
        binaries[name], seconds[name] = binary, elapsed
    with open(timing_file, "w") as f:
        json.dump({**previous, **seconds}, f)
    return binaries, seconds


def time_tenfold_compiles(args, notes):
    """Re-runs the compile command of each translation unit under bench/nets/ (from compile_commands.json) into
    a scratch file, so the time is the compiler's alone, not ninja's or a cache's. Returns {file: seconds}."""
    db = os.path.join(args.build_dir, "compile_commands.json")
    if args.skip_compile_timing or not os.path.exists(db):
        return {}
    with open(db) as f:
        entries = json.load(f)
    times = {}
    scratch = tempfile.mkdtemp(prefix="tenfold-compile-")
    try:
        for e in entries:
            path = os.path.normpath(os.path.join(e["directory"], e["file"]))
            if not path.startswith(os.path.join(ROOT, "bench", "nets") + os.sep):
                continue
            cmd = shlex.split(e["command"]) if "command" in e else list(e["arguments"])
            if os.path.basename(cmd[0]) in ("ccache", "sccache"):
                cmd = cmd[1:]
            for flag, name in (("-o", "out.o"), ("-MF", "out.d")):
                if flag in cmd:
                    cmd[cmd.index(flag) + 1] = os.path.join(scratch, name)
            t = time.perf_counter()
            r = subprocess.run(cmd, cwd=e["directory"], capture_output=True, text=True)
            if r.returncode == 0:
                times[os.path.relpath(path, ROOT)] = time.perf_counter() - t
            else:
                notes.append(f"tenfold: compiling {os.path.relpath(path, ROOT)} failed: {r.stderr.strip()[-300:]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return times


def build_baseline(args, notes):
    """Builds bench/nets/net_bench and times the compile of examples/mnist_mlp at git revision args.baseline, in a
    detached worktree under the build folder. Returns (implementation name, net_bench path, {tu: seconds})."""
    rev = command_output(["git", "rev-parse", "--short", args.baseline])
    if not rev:
        notes.append(f"baseline: {args.baseline} is not a git revision here; column left out")
        return None, None, {}
    name = f"tenfold@{rev}"
    tree = os.path.join(args.build_dir, f"baseline-{rev}")
    build = os.path.join(tree, "build")
    if not os.path.isdir(tree):
        r = subprocess.run(["git", "worktree", "add", "--detach", tree, rev], cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            notes.append(f"baseline: git worktree add failed: {r.stderr.strip()[-300:]}")
            return None, None, {}
    if not os.path.exists(os.path.join(build, "build.ninja")):
        r = subprocess.run(["meson", "setup", build, "-Dbuildtype=release", "-Dtests=disabled", "-Dexamples=enabled",
                            "-Dcuda=disabled"], cwd=tree, capture_output=True, text=True)
        if r.returncode != 0:
            notes.append(f"baseline: meson setup failed: {r.stderr.strip()[-300:]}")
            return None, None, {}
    r = subprocess.run(["ninja", "-C", build, "bench/nets/net_bench"], capture_output=True, text=True)
    if r.returncode != 0:
        notes.append(f"baseline: building net_bench failed: {r.stdout.strip()[-300:]}")
        return None, None, {}
    return name, os.path.join(build, "bench", "nets", "net_bench"), {}


def time_compile_of(build_dir, source, notes):
    """Seconds the compiler alone takes for `source` (a path ending as in compile_commands.json), or None."""
    db = os.path.join(build_dir, "compile_commands.json")
    if not os.path.exists(db):
        return None
    with open(db) as f:
        entries = [e for e in json.load(f) if os.path.normpath(os.path.join(e["directory"], e["file"])).endswith(source)]
    if not entries:
        return None
    e = entries[0]
    cmd = shlex.split(e["command"]) if "command" in e else list(e["arguments"])
    if os.path.basename(cmd[0]) in ("ccache", "sccache"):
        cmd = cmd[1:]
    scratch = tempfile.mkdtemp(prefix="tenfold-compile-")
    try:
        for flag, name in (("-o", "out.o"), ("-MF", "out.d")):
            if flag in cmd:
                cmd[cmd.index(flag) + 1] = os.path.join(scratch, name)
        t = time.perf_counter()
        r = subprocess.run(cmd, cwd=e["directory"], capture_output=True, text=True)
        if r.returncode != 0:
            notes.append(f"compiling {source} failed: {r.stderr.strip()[-300:]}")
            return None
        return time.perf_counter() - t
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ---- running the programs ----------------------------------------------------------------------------------

def mnist_dir():
    for d in (os.environ.get("TENFOLD_MNIST_DIR", ""), os.path.join(ROOT, "data", "mnist"),
              os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")):
        if d and os.path.exists(os.path.join(d, "train-images-idx3-ubyte")):
            return d
    return ""


def torch_python(args):
    candidates = [args.python] if args.python else [os.path.join(args.build_dir, "venv", "bin", "python"),
                                                    sys.executable]
    for py in candidates:
        if py and os.path.exists(py) and \
                subprocess.run([py, "-c", "import torch"], capture_output=True).returncode == 0:
            return py
    return ""


def program_env(threads, data, unset=()):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TENFOLD_THREADS"):
        env[var] = str(threads)
    if data:
        env["TENFOLD_MNIST_DIR"] = data
    for var in unset:
        env.pop(var, None)
    return env


def run_program(cmd, env, notes, name, timeout=900):
    """Runs one program; returns its stdout lines and the share of the machine's CPU time that *other*
    processes used meanwhile (busy time from /proc/stat minus the program's own), the noise indicator."""
    log(f"running {name}: {' '.join(shlex.quote(c) for c in cmd)}")
    busy0, own0, t0 = busy_cpu_seconds(), children_cpu_seconds(), time.perf_counter()
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        notes.append(f"{name}: timed out after {timeout} s")
        return [], float("nan")
    others = (busy_cpu_seconds() - busy0) - (children_cpu_seconds() - own0)
    others_share = max(0.0, others) / max(1e-9, (time.perf_counter() - t0) * (os.cpu_count() or 1))
    if r.returncode != 0:
        notes.append(f"{name}: exited with {r.returncode}: {r.stderr.strip()[-400:]}")
    return r.stdout.splitlines(), others_share


def median_round(runs):
    """Of several runs of one program (lists of measurements), each row's run with the median value."""
    by_row = {}
    for run in runs:
        for m in run:
            by_row.setdefault((m["workload"], m["threads"], m["batch"]), []).append(m)
    return [sorted(ms, key=lambda m: m["value"])[len(ms) // 2] for ms in by_row.values()]


def tag_noise(measurements, others_share):
    for m in measurements:
        m["others_cpu"] = others_share
    return measurements


def parse_net_lines(lines, impl):
    """CSV lines of the common contract -> measurements (gemm lines of the comparators included)."""
    out = []
    for line in lines:
        f = line.strip().split(",")
        if len(f) != 7 or (f[0] not in NET_WORKLOADS and f[0] != "gemm"):
            continue
        try:
            us_med, us_min, us_max, sps = (float(v) for v in f[3:7])
            threads = int(f[1])
        except ValueError:
            continue
        out.append(measurement(impl, f[0], threads, f[2].strip(), us_med, us_min, us_max, sps))
    return out


def parse_gemm_bench(lines):
    """`gemm,<m>x<k>x<n>,<threads>,<tenfold_gflops>,<openblas_gflops>,<ratio>` -> tenfold and OpenBLAS rows."""
    out = []
    for line in lines:
        f = line.strip().split(",")
        if len(f) < 5 or f[0] != "gemm" or not re.fullmatch(r"\d+x\d+x\d+", f[1].strip()):
            continue
        try:
            threads = int(f[2])
            flops = 2.0 * eval_shape(f[1])
            for impl, gflops in (("tenfold", float(f[3])), ("OpenBLAS", float(f[4]))):
                if gflops > 0:
                    us = flops / gflops / 1e3
                    out.append(measurement(impl, "gemm", threads, f[1].strip(), us, float("nan"), float("nan"), None))
        except ValueError:
            continue
    return out


def run_gemm_bench(path, args, data, notes):
    """Runs tenfold's GEMM program once per thread count with --threads N; a program that takes no --threads
    (it exits non-zero and prints nothing) runs once without arguments and its own thread counts are kept."""
    rows, seen = [], set()
    for threads in args.thread_counts:
        if threads in seen:
            continue
        wait_until_quiet(args.wait_quiet)
        quiet = []
        lines, others = run_program([path, "--threads", str(threads)], program_env(threads, data), quiet,
                                    f"tenfold gemm_bench ({threads} threads)")
        found = tag_noise(parse_gemm_bench(lines), others)
        if not found and not seen:
            lines, others = run_program([path], program_env(threads, data), notes, "tenfold gemm_bench")
            found = tag_noise(parse_gemm_bench(lines), others)
            measured = sorted({m["threads"] for m in found})
            notes.append(f"tenfold gemm_bench takes no --threads; it measured {measured or 'nothing'} thread(s)")
            return found
        rows += [m for m in found if m["threads"] not in seen]
        seen |= {m["threads"] for m in found}
    return rows


def eval_shape(shape):
    m, k, n = (int(v) for v in shape.split("x"))
    return m * k * n


def measurement(impl, workload, threads, batch, us_med, us_min, us_max, samples_per_s):
    """One cell of the table: `value` is samples/s (networks), GFLOP/s (gemm) or seconds (compile)."""
    if workload == "gemm":
        flops = 2.0 * eval_shape(batch)
        value, unit = flops / us_med / 1e3, "GFLOP/s"
        lo, hi = flops / us_max / 1e3, flops / us_min / 1e3
    elif workload == "compile":
        value, unit, lo, hi = us_med / 1e6, "s", us_min / 1e6, us_max / 1e6
    else:
        value, unit = samples_per_s, "samples/s"
        lo, hi = value * us_med / us_max, value * us_med / us_min
    return {"impl": impl, "workload": workload, "threads": threads, "batch": batch, "us_median": us_med,
            "us_min": us_min, "us_max": us_max, "value": value, "value_low": lo, "value_high": hi, "unit": unit,
            "others_cpu": float("nan")}


def run_checks(programs, data, notes):
    """Each comparator trains one MNIST epoch and five W4 epochs; its loss must fall (printed, not timed)."""
    results = []
    for name, cmd, unset in programs:
        lines, _ = run_program(cmd + ["--check", "--threads", "1"], program_env(1, data, unset), notes,
                               name + " check")
        for line in lines:
            f = line.strip().split(",")
            if len(f) == 5 and f[0] == "check":
                first, last = float(f[2]), float(f[3])
                acc = float(f[4])
                ok = last < 0.7 * first and (acc != acc or acc > 0.8)
                results.append((name, f[1], first, last, acc, ok))
                if not ok:
                    notes.append(f"{name}: {f[1]} did not learn (loss {first:.4f} -> {last:.4f}); "
                                 "its numbers are suspect")
    return results


# ---- the table ---------------------------------------------------------------------------------------------

def parse_peaks(lines):
    """`fma_peak,<threads>,<GFLOP/s>` lines of net_bench -> {threads: GFLOP/s}."""
    peaks = {}
    for line in lines:
        f = line.strip().split(",")
        if len(f) == 3 and f[0] == "fma_peak":
            try:
                if float(f[2]) > 0:
                    peaks[int(f[1])] = float(f[2])
            except ValueError:
                continue
    return peaks


def share_of_peak(m, peaks):
    """The share of the measured FMA peak that a network row's arithmetic reaches, or None."""
    flops, peak = FLOPS_PER_SAMPLE.get(m["workload"]), peaks.get(m["threads"])
    if not flops or not peak or m["unit"] != "samples/s" or not m["value"]:
        return None
    return m["value"] * flops / (peak * 1e9)


def merge(measurements):
    rows = {}
    for m in measurements:
        rows.setdefault((m["workload"], m["threads"], m["batch"]), {})[m["impl"]] = m
    order = {w: i for i, w in enumerate(NET_WORKLOADS + ("gemm", "compile"))}

    def key(k):
        w, t, b = k
        size = eval_shape(b) if w == "gemm" else (int(b) if b.isdigit() else 0)
        return (order.get(w, 99), size, b, t)
    return [(k, rows[k]) for k in sorted(rows, key=key)]


def speedup(row, impl, base="tenfold"):
    if base not in row or impl not in row or impl == base:
        return None
    a, b = row[base]["value"], row[impl]["value"]
    if not a or not b:
        return None
    return b / a if row[base]["unit"] == "s" else a / b


def fmt_value(m):
    v = m["value"]
    text = f"{v:,.0f}" if m["unit"] == "samples/s" else (f"{v:.1f}" if m["unit"] == "GFLOP/s" else f"{v:.2f}")
    lo, hi = m["value_low"], m["value_high"]
    if lo == lo and hi == hi and v and m["unit"] != "s":
        text += f" ±{50 * (hi - lo) / v:.0f}%"
    if m["others_cpu"] > NOISY:
        text += " *"
    return text


def table(merged, peaks):
    present = [i for i in IMPLEMENTATIONS if any(i in r for _, r in merged)]
    others = [i for i in present if i != "tenfold"]
    head = ["workload", "threads", "batch", "unit"] + present + [f"tenfold/{i}" for i in others] \
        if "tenfold" in present else ["workload", "threads", "batch", "unit"] + present
    if peaks:
        head.append("% of FMA peak (" + "/".join(present) + ")")
    lines = []
    for (w, t, b), row in merged:
        unit = next(iter(row.values()))["unit"]
        cells = [w, str(t) if w != "compile" else "-", b, unit]
        cells += [fmt_value(row[i]) if i in row else "-" for i in present]
        if "tenfold" in present:
            for i in others:
                s = speedup(row, i)
                cells.append(f"{s:.2f}x" if s else "-")
        if peaks:
            shares = [share_of_peak(row[i], peaks) if i in row else None for i in present]
            cells.append("/".join(f"{100 * x:.0f}" if x else "-" for x in shares) if any(shares) else "-")
        lines.append(cells)
    return head, lines


def print_table(head, lines):
    widths = [max(len(str(c)) for c in col) for col in zip(head, *lines)]
    def fmt(cells):
        return "  ".join(str(c).rjust(w) if i >= 3 else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(fmt(head))
    print("  ".join("-" * w for w in widths))
    for cells in lines:
        print(fmt(cells))


def markdown_table(head, lines):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(cells) + " |" for cells in lines]
    return "\n".join(out)


def write_csv(path, info, measurements, merged, peaks):
    fields = ["date", "commit", "cpu", "compiler", "workload", "threads", "batch", "implementation", "unit", "value",
              "value_min", "value_max", "us_median", "us_min", "us_max", "tenfold_speedup", "others_cpu",
              "share_of_fma_peak"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for (wl, t, b), row in merged:
            for impl in IMPLEMENTATIONS:
                if impl not in row:
                    continue
                m = row[impl]
                s = speedup(row, impl)
                share = share_of_peak(m, peaks)
                w.writerow([info["date"], info["commit"], info["cpu"], info["compiler"], wl, t, b, impl, m["unit"],
                            f"{m['value']:.6g}", f"{m['value_low']:.6g}", f"{m['value_high']:.6g}",
                            f"{m['us_median']:.3f}", f"{m['us_min']:.3f}", f"{m['us_max']:.3f}",
                            f"{s:.4f}" if s else "",
                            f"{m['others_cpu']:.3f}" if m["others_cpu"] == m["others_cpu"] else "",
                            f"{share:.4f}" if share else ""])


def write_chart(path, info, merged):
    """Grouped bars, one group per table row, one bar per comparator: tenfold's speedup over it (log axis). With
    no tenfold numbers yet, the bars compare the comparators with the first one present instead."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return "matplotlib is not installed, no chart"
    present = [i for i in IMPLEMENTATIONS if any(i in r for _, r in merged)]
    if not present:
        return "no results, no chart"
    base = "tenfold" if "tenfold" in present else present[0]
    groups = [(k, r) for k, r in merged if base in r and any(speedup(r, i, base) for i in present)]
    others = [i for i in present if any(speedup(r, i, base) for _, r in groups)]
    if not groups:
        return "nothing to compare, no chart"
    colours = dict(zip(IMPLEMENTATIONS, ("#555555", "#aaaaaa", "#d4a017", "#ee4c2c", "#1f77b4", "#2ca02c",
                                         "#9467bd", "#8c564b")))
    fig, ax = plt.subplots(figsize=(min(24, max(8, 0.3 * len(groups) * len(others) + 2)), 6))
    width = 0.8 / len(others)
    for j, impl in enumerate(others):
        xs, ys = [], []
        for g, (_, row) in enumerate(groups):
            s = speedup(row, impl, base)
            if s:
                xs.append(g + (j - (len(others) - 1) / 2) * width)
                ys.append(s)
        ax.bar(xs, ys, width, label=f"{base} / {impl}", color=colours[impl])
    ax.set_yscale("log")
    ratio = FuncFormatter(lambda y, _: f"{y:g}x")
    ax.yaxis.set_major_formatter(ratio)
    ax.yaxis.set_minor_formatter(ratio)
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{w} {b} t{t}" if w != "compile" else "compile time" for (w, t, b), _ in groups],
                       rotation=45, ha="right", fontsize=7)
    ax.set_ylabel(f"speedup of {base} (>1: {base} faster)")
    ax.set_title(f"{base} vs comparators: {info['cpu']}, {info['compiler']}, commit {info['commit']}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return ""


# ---- main --------------------------------------------------------------------------------------------------

def main():
    args = parse_args()
    notes, measurements = [], []
    info = stamp(args)
    data = mnist_dir()
    if not data:
        notes.append("MNIST not found in data/mnist, ../shared/data/mnist or $TENFOLD_MNIST_DIR: network rows left out")

    binaries, comparator_seconds = build_comparators(args, notes)
    tenfold_seconds = time_tenfold_compiles(args, notes)

    # (name, command, environment variables to unset) of each program that prints the common CSV contract.
    programs = []
    py = torch_python(args)
    if py:
        programs.append(("PyTorch", [py, os.path.join(COMPARATORS, "torch_bench.py")], ()))
        info["torch"] = command_output([py, "-c", "import torch; print(torch.__version__)"])
    else:
        notes.append("PyTorch: no Python with torch (tools/bench.sh installs it into build-bench/venv), "
                     "column left out")
    if "dlib" in binaries:
        programs.append(("dlib", [binaries["dlib"]], DLIB_UNSET_ENV))
        info["dlib"] = package_version("libdlib-dev")
    if "Eigen" in binaries:
        programs.append(("Eigen", [binaries["Eigen"]], ()))
    if "Eigen CNN" in binaries:
        programs.append(("Eigen", [binaries["Eigen CNN"]], ()))
    if "Eigen" in binaries or "Eigen CNN" in binaries:
        info["eigen"] = package_version("libeigen3-dev")
    info["openblas"] = package_version("libopenblas-dev")
    info["subnormals"] = "kept by the comparators" if args.keep_denormals else "flushed to zero (FTZ/DAZ) everywhere"
    net_bench = os.path.join(args.build_dir, "bench", "nets", "net_bench")
    net_bench_plain = os.path.join(args.build_dir, "bench", "nets", "net_bench_plain")
    gemm_bench = os.path.join(args.build_dir, "bench", "gemm", "gemm_bench")
    for name, path in (("tenfold net_bench", net_bench), ("tenfold gemm_bench", gemm_bench)):
        if not os.path.exists(path):
            notes.append(f"{name}: {os.path.relpath(path, ROOT)} not built, its rows have no tenfold column")

    peaks = {}  # threads -> FMA peak in GFLOP/s, measured by tenfold's net_bench
    baseline_name, baseline_bench = None, None
    if args.baseline:
        baseline_name, baseline_bench, _ = build_baseline(args, notes)
        if baseline_name:
            IMPLEMENTATIONS.append(baseline_name)
            info["baseline"] = baseline_name
            # The compile time of the MNIST example at both revisions, same flags, same run.
            for impl, build in (("tenfold", args.build_dir), (baseline_name, os.path.dirname(os.path.dirname(
                    os.path.dirname(baseline_bench))))):
                runs = [time_compile_of(build, os.path.join("examples", "mnist_mlp", "mnist_mlp.cpp"), notes)
                        for _ in range(3)]
                runs = sorted(r for r in runs if r)
                if runs:
                    s = runs[len(runs) // 2]
                    measurements.append(measurement(impl, "compile", 1, "mnist_mlp", s * 1e6, runs[0] * 1e6,
                                                    runs[-1] * 1e6, None))

    checks = [] if args.no_check or not data else run_checks(programs, data, notes)

    common = ["--reps", str(args.reps), "--rep-ms", str(args.rep_ms)] + (["--only", args.only] if args.only else [])
    common += ["--keep-denormals"] if args.keep_denormals else []
    if data:
        common += ["--data", data]
    for threads in args.thread_counts:
        if os.path.exists(net_bench) and data:
            # With a second build (plain flags, a baseline), the builds alternate three times and each row keeps
            # its median round, so that a slow spell of the machine does not land on one side only.
            sides = [("tenfold", [net_bench])] + ([(PLAIN, [net_bench_plain])] if os.path.exists(net_bench_plain) else [])
            sides += [(BF16, [net_bench + "_bf16"])] if args.bf16 and os.path.exists(net_bench + "_bf16") else []
            sides += [(F16, [net_bench + "_f16"])] if args.f16 and os.path.exists(net_bench + "_f16") else []
            sides += [(baseline_name, [baseline_bench])] if baseline_name else []
            rounds = 3 if len(sides) > 1 else 1
            per_side = {impl: [] for impl, _ in sides}
            for _ in range(rounds):
                for impl, program in sides:
                    wait_until_quiet(args.wait_quiet)
                    cmd = program + ["--threads", str(threads), "--reps", str(args.reps), "--data", data]
                    cmd += ["--only", args.only] if args.only else []
                    lines, others = run_program(cmd, program_env(threads, data), notes, f"{impl} net_bench ({threads} threads)")
                    if impl == "tenfold":
                        for t, p in parse_peaks(lines).items():
                            peaks[t] = max(p, peaks.get(t, 0.0))
                    per_side[impl].append(tag_noise([m for m in parse_net_lines(lines, impl)
                                                     if not args.only or args.only in m["workload"]], others))
            for impl, runs in per_side.items():
                measurements += median_round(runs)
        for name, cmd, unset in programs:
            if not data:
                continue
            wait_until_quiet(args.wait_quiet)
            lines, others = run_program(cmd + ["--threads", str(threads)] + common, program_env(threads, data, unset),
                                        notes, f"{name} ({threads} threads)")
            measurements += tag_noise(parse_net_lines(lines, name), others)
    if os.path.exists(gemm_bench) and (not args.only or args.only in "gemm"):
        measurements += run_gemm_bench(gemm_bench, args, data, notes)

    # Compile times: one row per network program, the sum over its translation units.
    compile_rows = {}
    for name, s in comparator_seconds.items():  # Eigen's two programs count as one row
        compile_rows[name.split()[0]] = compile_rows.get(name.split()[0], 0.0) + s
    if tenfold_seconds:
        compile_rows["tenfold"] = sum(tenfold_seconds.values())
    for impl, s in compile_rows.items():
        measurements.append(measurement(impl, "compile", 1, "net TU", s * 1e6, s * 1e6, s * 1e6, None))
    for tu, s in sorted(tenfold_seconds.items()):
        notes.append(f"tenfold compile of {tu}: {s:.2f} s")

    shares = [m["others_cpu"] for m in measurements if m["others_cpu"] == m["others_cpu"]]
    info["others_cpu_during_runs"] = f"{100 * max(shares):.0f}% max" if shares else "n/a"
    if any(s > NOISY for s in shares):
        notes.append(f"*: other processes used more than {100 * NOISY:.0f}% of the CPUs during that program's run "
                     f"(up to {100 * max(shares):.0f}%): those timings are noisy")

    if peaks:
        info["fma_peak"] = ", ".join(f"{p:.1f} GFLOP/s with {t} thread(s)" for t, p in sorted(peaks.items()))
    merged = merge(measurements)
    head, lines = table(merged, peaks)
    print()
    print(f"tenfold benchmarks  commit {info['commit']}  {info['cpu']} ({info['cpus']} CPUs)  {info['compiler']}")
    print(f"threads {info['threads']}, median of {args.reps} repetitions after a warm-up; ±: half the min-max range")
    print_table(head, lines)
    for name, workload, first, last, acc, ok in checks:
        print(f"check {name} {workload}: loss {first:.4f} -> {last:.4f}"
              + (f", test accuracy {acc:.3f}" if acc == acc else "") + ("" if ok else "  NOT LEARNING"))
    for n in notes:
        print("note: " + n)

    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, "bench-" + datetime.datetime.now().strftime("%Y-%m-%d-%H%M%S"))
    write_csv(base + ".csv", info, measurements, merged, peaks)
    chart_note = write_chart(base + ".png", info, merged)
    if chart_note:
        notes.append(chart_note)
        print("note: " + chart_note)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write("# tenfold benchmarks: latest run\n\n")
        for k, v in info.items():
            f.write(f"- {k}: {v}\n")
        f.write(f"\nMedian of {args.reps} repetitions after a warm-up; ± is half the min–max range over the "
                f"repetitions (min and max are in {os.path.basename(base)}.csv). Network rows are samples/s, GEMM "
                "rows GFLOP/s (higher is better), compile rows seconds for the translation unit(s) of each "
                "network program (lower is better). tenfold/X is tenfold's speedup over X. The share of the FMA peak "
                "counts 2 FLOPs per multiply-add of the dense and convolution layers forward, three times that for a "
                "training step, against the single-precision FMA peak that net_bench measures on as many cores.\n\n")
        f.write(markdown_table(head, lines) + "\n")
        if not chart_note:
            f.write(f"\n![speedups]({os.path.basename(base)}.png)\n")
        if checks:
            f.write("\n## Learning check (one MNIST epoch at batch 32; five W4 epochs; W3: 200 MNIST batches of 64, Eigen only; not timed)\n\n")
            f.write("| implementation | workload | loss, first batches | loss, last batches | test accuracy |\n"
                    "|---|---|---|---|---|\n")
            for name, workload, first, last, acc, ok in checks:
                f.write(f"| {name} | {workload} | {first:.4f} | {last:.4f} | {acc:.3f} |\n" if acc == acc else
                        f"| {name} | {workload} | {first:.4f} | {last:.4f} | - |\n")
        if notes:
            f.write("\n## Notes\n\n" + "".join(f"- {n}\n" for n in notes))
    print(f"wrote {os.path.relpath(base, ROOT)}.csv, .png and {os.path.relpath(args.out, ROOT)}/latest.md")


if __name__ == "__main__":
    main()
