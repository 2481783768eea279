#!/usr/bin/env python3
"""What the compiler gave each kernel: registers, spills and stack, from ptxas's report (nvcc -Xptxas -v).

    kernel_resources.py BUILD_LOG [--all]

Prints Markdown: one row per kernel that spills registers or keeps a stack frame (every kernel with --all), with
its registers a thread, the bytes spilled (stores, loads) and its stack frame, then a line counting them. A spill
is a value the register allocator sent to local memory: on the GPU, a load and a store through L1 where a register
would have served. The kernel names are shortened: namespaces dropped, and each stage type cut to its kind and
width. Exits 0 whatever it finds: it reports, the benchmark's numbers judge.
"""
import argparse
import re
import subprocess
import sys


def demangle(names):
    try:
        out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True)
        return out.stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return names


def network(head):
    """'784-128-64-10 softmax, bias' from a chain of stages as the demangler writes it."""
    head = head.split("(tenfold::rounding)")[0]  # the chain, before the plan's own copy of its stages
    inputs = re.search(r"chain_stage<[^,]+, (?:tenfold::)?shape<(\d+)ul>", head)
    dense = re.findall(r"dense_stage<(\d+)ul, (true|false)", head)
    widths = [inputs.group(1) if inputs else "?"] + [w for w, _ in dense]
    text = "-".join(widths)
    if "softmax_stage" in head:
        text += " softmax"
    return text + (", bias" if any(b == "true" for _, b in dense) else ", no bias")


def drop_arguments(name):
    """The name without its argument list: the last parenthesis at depth 0 of the template brackets."""
    depth = 0
    for i, c in enumerate(name):
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "(" and depth == 0 and not re.match(r"\((tenfold::)?rounding\)", name[i:]):
            return name[:i]
    return name


def shorten(name):
    """A kernel's name in a line: the fused MLP kernels as their network, precision, tile limit, loss and pass."""
    name = drop_arguments(name)
    m = re.match(r"void tenfold::cuda::detail::(\w+)<tenfold::cuda::detail::fused_plan<(.*)", name)
    if m:
        plan = re.search(r"\(tenfold::rounding\)(\d), (\d+)ul,", m.group(2))
        tail = re.search(r">, ([\w:]+), (true|false), (?:float|double)>$", m.group(2))
        precision = ["fp32", "bf16", "f16"][int(plan.group(1))] if plan else "?"
        tiles = f"tiles of at most {plan.group(2)} rows" if plan else ""
        what = ""
        if tail:
            loss = tail.group(1).replace("tenfold::", "")
            what = f", training step ({loss})" if tail.group(2) == "true" else ", forward"
        return f"{m.group(1)}: {network(m.group(2))}, {precision}, {tiles}{what}"
    name = re.sub(r"tenfold::(cuda::)?(detail::)?", "", name).replace("ul", "")
    return name if len(name) <= 200 else name[:200] + "..."


def parse(path):
    """[(mangled name, registers, stack, spill stores, spill loads)] in the log's order."""
    kernels = []
    entry = None
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r"Compiling entry function '([^']+)'", line)
            if m:
                entry = [m.group(1), None, 0, 0, 0]
                kernels.append(entry)
                continue
            if entry is None:
                continue
            m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
            if m and entry[1] is None:
                entry[2:5] = [int(v) for v in m.groups()]
            m = re.search(r"Used (\d+) registers", line)
            if m and entry[1] is None:
                entry[1] = int(m.group(1))
    return kernels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("--all", action="store_true")
    args = parser.parse_args()
    kernels = parse(args.log)
    names = demangle([k[0] for k in kernels])
    shown = [(n, k) for n, k in zip(names, kernels) if args.all or k[2] or k[3]]
    if shown:
        print("| kernel | registers | spill stores (bytes) | spill loads (bytes) | stack frame (bytes) |")
        print("|---|---|---|---|---|")
        for name, (_, registers, stack, stores, loads) in shown:
            print(f"| `{shorten(name)}` | {registers} | {stores} | {loads} | {stack} |")
        print()
    spilling = sum(1 for k in kernels if k[3])
    print(f"{len(kernels)} kernels, {spilling} spilling registers, "
          f"{sum(1 for k in kernels if k[2] and not k[3])} with a stack frame and no spill")
    return 0


if __name__ == "__main__":
    sys.exit(main())
