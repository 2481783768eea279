#!/usr/bin/env python3
"""Step time of data-parallel training against the number of ranks, from a measured compute time and the
cost of an all-reduce of the gradients: the model behind docs/scaling.md.

  python3 bench/dist/scaling_model.py [--bandwidth-gbs 12.5] [--latency-us 1.5] [--w1-ms 1.7] [--w4-ms 2.6]

Weak scaling (rows per rank fixed). One step at p ranks takes compute + (1 - hidden) x allreduce(p), where
compute is the measured single-rank step (forward, backward, update) and hidden the share of the exchange that
overlaps backward. Two all-reduce algorithms, each with S bytes of gradients, link bandwidth B and per-message
latency a:
  ring                 2 (p - 1) / p x S / B + 2 (p - 1) x a
  halving-doubling     2 (p - 1) / p x S / B + 2 log2(p) x a   (Rabenseifner: reduce-scatter, then all-gather)
Prints a Markdown table of the efficiency compute / step for p = 2 ... 1024.
"""
import argparse
import math

NETWORKS = {
    # name: (float parameters, rows per rank)
    "w1_train": (784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10, 256),
    "w4_train": (1000 * 500 + 500 + 500 * 100 + 100 + 100 + 1, 64),
}


def allreduce_s(p, size_bytes, bandwidth, latency, algorithm):
    if p == 1:
        return 0.0
    transfer = 2 * (p - 1) / p * size_bytes / bandwidth
    steps = 2 * (p - 1) if algorithm == "ring" else 2 * math.ceil(math.log2(p))
    return transfer + steps * latency


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bandwidth-gbs", type=float, default=12.5, help="link bandwidth, GB/s (100 Gb/s InfiniBand)")
    ap.add_argument("--latency-us", type=float, default=1.5, help="per-message latency, µs")
    ap.add_argument("--w1-ms", type=float, default=1.7, help="measured single-rank step of w1_train, ms")
    ap.add_argument("--w4-ms", type=float, default=2.6, help="measured single-rank step of w4_train, ms")
    args = ap.parse_args()
    compute = {"w1_train": args.w1_ms * 1e-3, "w4_train": args.w4_ms * 1e-3}
    b, a = args.bandwidth_gbs * 1e9, args.latency_us * 1e-6
    ranks = [2, 8, 32, 128, 512, 1024]
    print(f"Link {args.bandwidth_gbs:g} GB/s, {args.latency_us:g} µs per message; efficiency = compute / step.\n")
    print("| workload | gradients | compute | algorithm | hidden | " + " | ".join(f"p={p}" for p in ranks) + " |")
    print("|---|---|---|---|---|" + "---|" * len(ranks))
    for name, (params, rows) in NETWORKS.items():
        size = 4 * params
        for algorithm in ("ring", "halving-doubling"):
            for hidden in (0.0, 0.5):
                cells = []
                for p in ranks:
                    t = compute[name] + (1 - hidden) * allreduce_s(p, size, b, a, algorithm)
                    cells.append(f"{compute[name] / t:.0%}")
                print(f"| {name} ({rows}/rank) | {size / 1e6:.2f} MB | {compute[name] * 1e3:.1f} ms | {algorithm} | "
                      f"{hidden:.0%} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
