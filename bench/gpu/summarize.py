#!/usr/bin/env python3
"""The GPU benchmark's summary: one table of median milliseconds per call, then each goal with its ratio.

    summarize.py tenfold_gpu.csv torch_gpu.csv [--tcnn bench/gpu/tcnn_h100.csv] [--device NAME]

Reads the benchmark's CSV files (workload,implementation,precision,batch,median_ms,...; a missing file is skipped)
and prints Markdown: the timings, the goals, the fused W1 step's tile heights where it was also timed with its
8-row tiles turned off (tenfold_fused_tall_tiles), then the `check,` lines (agreement with the CPU, accuracy) and
the `# w1_5_epochs:` accuracy lines as they were printed. The goals, each a ratio of times (larger is better for
tenfold), met where the ratio reaches the bound:
  W1 training step        PyTorch with the step in a CUDA graph / tenfold fused, fp32      >= 10
  W1 five epochs          the same, end to end (upload, epochs, test accuracy); either path  >= 10
  W2 fp32, train and infer  PyTorch fp32 (its faster way) / tenfold's faster fp32 path    >= 5
  W2 bf16, train and infer  the faster tiny-cuda-nn path / tenfold's faster bf16 path       >= 1.5
  W2 f16, train and infer   the same against tenfold's faster f16 path (tiny-cuda-nn's own
                            16-bit format; a step of tenfold's waits once for its finite check)  >= 1.5
  CNN and GPT training    PyTorch eager / tenfold per stage                                  >= 3
tiny-cuda-nn's figures come from --tcnn (measured on an H100); on another card the row says so.
"""
import argparse
import csv
import sys

GOALS = [
    # (name, workload prefix, comparator columns (the fastest is taken), tenfold columns (the fastest), bound)
    ("W1 train vs PyTorch graph", "w1_train", ["torch_graph"], ["tenfold_fused"], 10.0),
    ("W1 5 epochs vs PyTorch graph", "w1_5_epochs", ["torch_graph"], ["tenfold_fused", "tenfold_per_stage"], 10.0),
    ("W2 fp32 vs PyTorch fp32", "w2_", ["torch_graph", "torch_eager"], ["tenfold_fused", "tenfold_per_stage"], 5.0),
    ("W2 bf16 vs tiny-cuda-nn", "w2_", ["tcnn_fused", "tcnn_jit"], ["tenfold_bf16_fused", "tenfold_bf16_per_stage"],
     1.5),
    ("W2 f16 vs tiny-cuda-nn", "w2_", ["tcnn_fused", "tcnn_jit"], ["tenfold_f16_fused", "tenfold_f16_per_stage"], 1.5),
    ("CNN train vs PyTorch eager", "cnn_train", ["torch_eager"], ["tenfold_per_stage"], 3.0),
    ("GPT train vs PyTorch eager", "gpt_train", ["torch_eager"], ["tenfold_per_stage"], 3.0),
]
COLUMNS = ["tenfold_fused", "tenfold_fused_tall_tiles", "tenfold_per_stage", "tenfold_bf16_fused",
           "tenfold_bf16_per_stage", "tenfold_f16_fused", "tenfold_f16_per_stage", "torch_eager", "torch_graph",
           "torch_bf16_graph", "torch_bf16_eager", "tcnn_fused", "tcnn_jit"]


def read_rows(paths):
    rows = {}
    for path in paths:
        try:
            with open(path) as f:
                lines = [line for line in f if not line.startswith(("#", "check,")) and "," in line]
        except OSError:
            continue
        for r in csv.reader(lines):
            if r[0] == "workload" or len(r) < 9:
                continue
            rows[(r[0], int(r[3]), r[1])] = float(r[4])
    return rows


def read_notes(paths):
    """The check lines and the accuracy lines, in the files' order."""
    notes = []
    for path in paths:
        try:
            with open(path) as f:
                notes += [line.rstrip("\n") for line in f if line.startswith(("check,", "# w1_5_epochs:"))]
        except OSError:
            continue
    return notes


def read_tcnn(path, rows):
    try:
        with open(path) as f:
            for r in csv.DictReader(line for line in f if not line.startswith("#")):
                for column in ("tcnn_fused", "tcnn_jit"):
                    if r[column + "_ms"]:
                        rows[(r["workload"], int(r["batch"]), column)] = float(r[column + "_ms"])
    except OSError:
        pass


def fastest(rows, workload, batch, columns):
    times = [(rows[(workload, batch, c)], c) for c in columns if (workload, batch, c) in rows]
    return min(times) if times else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv", nargs="+")
    parser.add_argument("--tcnn")
    parser.add_argument("--device", default="")
    args = parser.parse_args()
    rows = read_rows(args.csv)
    if args.tcnn:
        read_tcnn(args.tcnn, rows)
    keys = sorted({(w, b) for w, b, _ in rows})
    print("| workload | batch | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for workload, batch in keys:
        cells = [rows.get((workload, batch, c)) for c in COLUMNS]
        print(f"| {workload} | {batch} | " + " | ".join(f"{v:.4f}" if v is not None else "" for v in cells) + " |")
    print()
    print("| goal | workload | batch | comparator (ms) | tenfold (ms) | ratio | bound | met |")
    print("|---|---|---|---|---|---|---|---|")
    card_note = "" if "H100" in args.device or not args.device else " (tiny-cuda-nn timed on an H100)"
    for name, prefix, theirs, ours, bound in GOALS:
        for workload, batch in keys:
            if not workload.startswith(prefix):
                continue
            if prefix == "w2_" and "bias" in workload and "tcnn" in theirs[0]:
                continue  # tiny-cuda-nn's network has no bias
            them, us = fastest(rows, workload, batch, theirs), fastest(rows, workload, batch, ours)
            if them is None or us is None:
                continue
            ratio = them[0] / us[0]
            note = card_note if them[1].startswith("tcnn") else ""
            print(f"| {name}{note} | {workload} | {batch} | {them[0]:.4f} ({them[1]}) | {us[0]:.4f} ({us[1]}) | "
                  f"{ratio:.2f} | {bound:g} | {'yes' if ratio >= bound else 'no'} |")
    # The fused W1 step's tile height (device_model::fused_tile_rows): its 8-row tiles against the tallest ones.
    tiles = [(b, rows[("w1_train", b, "tenfold_fused")], rows[("w1_train", b, "tenfold_fused_tall_tiles")])
             for w, b in keys if w == "w1_train" and (w, b, "tenfold_fused_tall_tiles") in rows
             and (w, b, "tenfold_fused") in rows]
    if tiles:
        print()
        print("| w1_train batch | fused, as chosen (ms) | fused, tallest tiles (ms) | tallest / chosen |")
        print("|---|---|---|---|")
        for batch, chosen, tallest in tiles:
            print(f"| {batch} | {chosen:.4f} | {tallest:.4f} | {tallest / chosen:.2f} |")
    notes = read_notes(args.csv)
    if notes:
        print()
        for line in notes:
            print(f"- `{line}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
