#!/usr/bin/env python3
"""Runs dist_bench on 1 and 2 MPI ranks (or the counts given), and writes bench/results/dist-<date>.md: each
workload's step time per mode, the scaling efficiency against one process, and the share of the gradient
exchange hidden behind backward. Also prints the table.

  python3 bench/dist/run_dist_bench.py [--build-dir build] [--ranks 1,2] [--reps 9]

Scaling is weak (the rows per rank stay fixed): efficiency at R ranks is the global throughput at R ranks over
R times the single process's (its fused train_step). Hidden share: (serial - overlap) / (serial - compute).
The ranks share this machine's cores; run it on a quiet machine with at least as many cores as ranks.
"""
import argparse
import csv
import datetime
import io
import os
import platform
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(exe, ranks, reps):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_vader_single_copy_mechanism="none")
    out = subprocess.run(["mpirun", "-np", str(ranks), "--bind-to", "core", exe, "--reps", str(reps)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(root, "build"))
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--reps", type=int, default=9)
    args = ap.parse_args()
    exe = os.path.join(args.build_dir, "bench", "dist", "dist_bench")
    if not os.path.exists(exe):
        sys.exit(f"{exe} is missing: configure with -Dbenchmarks=enabled -Dmpi=enabled and build bench/dist/dist_bench")
    rows = []
    for r in [int(x) for x in args.ranks.split(",")]:
        rows += run(exe, r, args.reps)
    t = {(x["workload"], int(x["ranks"]), x["mode"]): float(x["median_us"]) for x in rows}
    spread = {(x["workload"], int(x["ranks"]), x["mode"]): (float(x["min_us"]), float(x["max_us"])) for x in rows}
    per_rank = {x["workload"]: int(x["rows_per_rank"]) for x in rows}
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [f"# Data-parallel steps over MPI ({datetime.date.today()}, commit {commit})", "",
             f"{cpu}, {os.cpu_count()} cores; `python3 bench/dist/run_dist_bench.py --ranks {args.ranks} --reps {args.reps}`.",
             "Median µs per step (min–max over the repetitions); weak scaling: rows per rank fixed.", "",
             "| workload | rows/rank | ranks | fused | overlap | serial | compute | efficiency | exchange hidden |",
             "|---|---|---|---|---|---|---|---|---|"]
    for w in sorted(per_rank):
        single = t.get((w, 1, "fused"))
        for r in sorted({k[1] for k in t if k[0] == w}):
            def cell(mode):
                if (w, r, mode) not in t:
                    return "–"
                lo, hi = spread[(w, r, mode)]
                return f"{t[(w, r, mode)]:.0f} ({lo:.0f}–{hi:.0f})"
            eff = "–"
            if single and (w, r, "overlap") in t and r > 1:
                eff = f"{single / t[(w, r, 'overlap')]:.0%}"
            hidden = "–"
            if r > 1:
                s, o, c = t[(w, r, "serial")], t[(w, r, "overlap")], t[(w, r, "compute")]
                hidden = f"{(s - o) / (s - c):.0%}" if s > c else "exchange not measurable"
            lines.append(f"| {w} | {per_rank[w]} | {r} | {cell('fused')} | {cell('overlap')} | {cell('serial')} | "
                         f"{cell('compute')} | {eff} | {hidden} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = os.path.join(root, "bench", "results", f"dist-{datetime.date.today()}.md")
    with open(out, "w") as f:
        f.write(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
