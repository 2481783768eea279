#!/usr/bin/env python3
"""The sequence rows of the benchmark: tenfold (build-dir/bench/seq/seq_bench) and PyTorch
(bench/comparators/torch_seq.py) alternately, `--rounds` times at each thread count, so that both sides see
the same machine; each row's figure is the median of the rounds' medians. Writes bench/results/seq-<date>.md
with the ratios (PyTorch time / tenfold time: above 1 means tenfold is faster), the goals they are held to, and
each tenfold training row's share of the measured single-core FMA peak (FLOPs of the products only), and the
compile time of examples/char_gpt/char_gpt.cpp with `g++ -std=c++20 -O2` (median of three, goal < 15 s). The
same text replaces the "Sequence rows" section of bench/results/latest.md (added after run.py's rows).

  python3 bench/seq/run_seq_bench.py --build-dir build-bench [--python build-bench/venv/bin/python]
                                     [--threads 1,2] [--rounds 3] [--only NAME]
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# FLOPs (2 per multiply-add) of the products in one call, for the share of the peak.
T, D, V, L, B = 64, 128, 65, 4, 12
GPT_FORWARD_MACS = B * T * (L * (3 * D * D + D * D + 2 * 4 * D * D) + D * V) + B * L * 2 * T * T * D // 2
RNN_MACS = {"rnn_train": 64 * 32 * 1 * 128 * (64 + 128), "lstm_train": 64 * 32 * 4 * 128 * (64 + 128)}
FLOPS = {"gpt_train": 2 * 3 * GPT_FORWARD_MACS,
         "rnn_train": 2 * 3 * RNN_MACS["rnn_train"], "lstm_train": 2 * 3 * RNN_MACS["lstm_train"]}
GOALS = {"gpt_train": 1.3, "gpt_generate": 10.0, "rnn_train": 1.5, "lstm_train": 1.2}
UNITS = {"gpt_generate": "ms per 63 tokens"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    p.add_argument("--python", default="")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--only", default="")
    p.add_argument("--out", default="")
    return p.parse_args()


def rows_of(output):
    rows, peak = {}, None
    for line in output.splitlines():
        parts = line.strip().split(",")
        if len(parts) == 3 and parts[0] == "fma_peak":
            peak = float(parts[2])
        elif len(parts) == 7:
            rows[parts[0]] = float(parts[3])
    return rows, peak


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    if r.returncode != 0:
        sys.stderr.write(f"{' '.join(cmd)} failed:\n{r.stderr}\n")
        return {}, None
    return rows_of(r.stdout)


def char_gpt_compile_seconds(runs=3):
    """Median wall time of compiling examples/char_gpt/char_gpt.cpp with g++ -O2 into a scratch file."""
    times = []
    with tempfile.TemporaryDirectory() as scratch:
        cmd = ["g++", "-std=c++20", "-O2", "-I" + os.path.join(ROOT, "include"),
               '-DTENFOLD_SHAKESPEARE="input.txt"', "-c", os.path.join(ROOT, "examples", "char_gpt", "char_gpt.cpp"),
               "-o", os.path.join(scratch, "char_gpt.o")]
        for _ in range(runs):
            t = time.perf_counter()
            if subprocess.run(cmd, capture_output=True).returncode != 0:
                return None
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    a = parse_args()
    tenfold = os.path.join(a.build_dir, "bench", "seq", "seq_bench")
    python = a.python or os.path.join(a.build_dir, "venv", "bin", "python")
    torch_script = os.path.join(ROOT, "bench", "comparators", "torch_seq.py")
    only = ["--only", a.only] if a.only else []
    results, peaks = {}, []
    for threads in [int(t) for t in a.threads.split(",")]:
        for r in range(a.rounds):
            print(f"threads {threads}, round {r + 1}/{a.rounds}", file=sys.stderr, flush=True)
            ours, peak = run([tenfold, "--threads", str(threads)] + only)
            theirs, _ = run([python, torch_script, "--threads", str(threads)] + only)
            if peak:
                peaks.append(peak)
            for name, us in ours.items():
                results.setdefault((name, threads), {"tenfold": [], "pytorch": []})["tenfold"].append(us)
            for name, us in theirs.items():
                results.setdefault((name, threads), {"tenfold": [], "pytorch": []})["pytorch"].append(us)
    peak = statistics.median(peaks) if peaks else None
    stamp = datetime.datetime.now(datetime.timezone.utc)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    lines = [f"# Sequence rows, {stamp:%Y-%m-%d %H:%M} UTC", "",
             f"Machine: {cpu}; tenfold {commit}; one core's measured FMA peak {peak:.1f} GFLOP/s." if peak else "",
             f"Each figure is the median of {a.rounds} rounds (each round: tenfold then PyTorch, each the median of its "
             "own repetitions). Ratio = PyTorch time / tenfold time. Command: "
             f"`python3 bench/seq/run_seq_bench.py --build-dir {os.path.relpath(a.build_dir, ROOT)}`.", "",
             "| row | threads | tenfold | PyTorch | ratio | goal (1 thread) | tenfold share of FMA peak |",
             "|---|---|---|---|---|---|---|"]
    for (name, threads), v in sorted(results.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        ours = statistics.median(v["tenfold"]) if v["tenfold"] else None
        theirs = statistics.median(v["pytorch"]) if v["pytorch"] else None
        unit = UNITS.get(name, "ms per step")
        scale = 1e-3
        fmt = (lambda x: f"{x * scale:.2f} {unit}" if x else "-")
        ratio = f"{theirs / ours:.2f}×" if ours and theirs else "-"
        goal = f"≥ {GOALS[name]}×" if name in GOALS and threads == 1 else ""
        share = (f"{100 * FLOPS[name] / (ours * 1e-6) / (peak * 1e9 * threads):.0f}%"
                 if name in FLOPS and ours and peak else "")
        lines.append(f"| {name} | {threads} | {fmt(ours)} | {fmt(theirs)} | {ratio} | {goal} | {share} |")
    compile_s = char_gpt_compile_seconds()
    lines += ["", f"Compile time of examples/char_gpt/char_gpt.cpp, g++ -std=c++20 -O2 (median of 3): "
              + (f"{compile_s:.1f} s (goal < 15 s)." if compile_s else "failed.")]
    text = "\n".join(lines) + "\n"
    out = a.out or os.path.join(ROOT, "bench", "results", f"seq-{stamp:%Y-%m-%d-%H%M}.md")
    with open(out, "w") as f:
        f.write(text)
    if not a.out:
        update_latest(text)
    print(text)


def update_latest(text):
    """Puts `text` as the "## Sequence rows" section of bench/results/latest.md, replacing an older one."""
    path = os.path.join(ROOT, "bench", "results", "latest.md")
    if not os.path.exists(path):
        return
    with open(path) as f:
        latest = f.read()
    start = latest.find("\n## Sequence rows")
    if start >= 0:
        end = latest.find("\n## ", start + 1)
        latest = latest[:start] + (latest[end:] if end >= 0 else "\n")
    section = "#" + text  # the report's title, one level down: "## Sequence rows, <date> UTC"
    with open(path, "w") as f:
        f.write(latest.rstrip("\n") + "\n\n" + section)


if __name__ == "__main__":
    main()
