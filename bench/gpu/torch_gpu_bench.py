"""PyTorch's side of the GPU benchmark: the workloads of gpu_bench.cu, timed the same way, printed as the same CSV.

    python3 torch_gpu_bench.py [--reps R] [--min-ms MS] [--only PREFIX] [--max-batch B] [--mnist DIR]

Workloads (see gpu_bench.cu): w1_train (MNIST MLP 784-128-64-10, ReLU, cross-entropy, Adam; batch 32, 256, 4096);
w1_5_epochs (the same network, five epochs at batch 32 on the MNIST sample in DIR, end to end: the upload, each
epoch's order from torch.randperm on the card, the step in a CUDA graph fed by index_select into its static
batch, then the test accuracy; host clock, median of `reps` runs, 3 at least)
and w2_w{64,128}[_bias]_{train,infer} (32 -> 5 x W -> 16, ReLU, mse, Adam; batch 2^14 .. 2^20); gpt_train
(examples/char_gpt's network as bench/comparators/torch_seq.py defines it, AdamW on nanoGPT's groups, gradients
clipped to norm 1; batch 12 and 64, eager only); cnn_train (the W3 CNN of bench/comparators/torch_bench.py,
cross-entropy, Adam; batch 64 and 256, eager and graphed). Implementations:
  torch_eager        fp32, one Python call per operation (zero_grad, forward, loss, backward, Adam step)
  torch_graph        fp32, the whole training step captured once in a CUDA graph and replayed
  torch_bf16_graph   bf16 autocast (fp32 master weights), whole step in a CUDA graph (W2 only)
  torch_eager / torch_bf16_eager for inference, under torch.inference_mode()
fp32 matrix products run in true fp32 (TF32 off, PyTorch's default for matmul). Adam is torch.optim.Adam with its
defaults (capturable=True for the graphs). Timing: CUDA events, a warm-up, then `reps` repetitions of back-to-back
calls lasting at least `min-ms`; the median, minimum and maximum of the mean time per call.

CSV: workload,implementation,precision,batch,median_ms,min_ms,max_ms,samples_per_s,tflops
"""

import argparse
import statistics
import os
import sys
import time

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def measure(call, reps, min_ms):
    for _ in range(5):
        call()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def run(n):
        start.record()
        for _ in range(n):
            call()
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop)

    n = 1
    while run(n) < min_ms and n < (1 << 16):
        n *= 2
    per_call = sorted(run(n) / n for _ in range(reps))
    return per_call[len(per_call) // 2], per_call[0], per_call[-1]


def report(workload, implementation, precision, batch, timing, flops):
    median, low, high = timing
    print(f"{workload},{implementation},{precision},{batch},{median:.4f},{low:.4f},{high:.4f},"
          f"{batch / (median * 1e-3):.0f},{flops / (median * 1e-3) / 1e12:.2f}", flush=True)


def mlp(widths, bias):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1], bias=bias))
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).cuda()
    for layer in net:
        if isinstance(layer, torch.nn.Linear):  # He-uniform weights and zero biases, as tenfold's dense layers
            torch.nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            if layer.bias is not None:
                torch.nn.init.zeros_(layer.bias)
    return net


def multiply_adds(widths):
    return sum(widths[i] * widths[i + 1] for i in range(len(widths) - 1))


def train_step_fn(net, opt, loss_fn, x, y, autocast_dtype=None):
    def step():
        opt.zero_grad(set_to_none=True)
        if autocast_dtype is None:
            loss = loss_fn(net(x), y)
        else:
            # The weight cache must be off for autocast inside a CUDA graph (PyTorch's CUDA graph notes).
            with torch.autocast("cuda", dtype=autocast_dtype, cache_enabled=False):
                loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
    return step


def graphed(step):
    """The whole step captured in one CUDA graph (warm-up on a side stream first, as PyTorch's docs require)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


def bench_train(workload, widths, bias, batches, classes, args, variants):
    if args.only and not workload.startswith(args.only):
        return
    for batch in batches:
        if batch > args.max_batch:
            continue
        x = torch.rand(batch, widths[0], device="cuda")
        if classes:
            y = torch.randint(0, classes, (batch,), device="cuda")
            loss_fn = torch.nn.functional.cross_entropy
        else:
            y = torch.rand(batch, widths[-1], device="cuda") * 2 - 1
            loss_fn = torch.nn.functional.mse_loss
        flops = 6.0 * batch * multiply_adds(widths)
        for implementation, precision, use_graph, dtype in variants:
            net = mlp(widths, bias)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3, capturable=use_graph)
            step = train_step_fn(net, opt, loss_fn, x, y, dtype)
            call = graphed(step) if use_graph else step
            report(workload, implementation, precision, batch, measure(call, args.reps, args.min_ms), flops)
            del net, opt, step, call
        torch.cuda.empty_cache()


def bench_infer(workload, widths, bias, batches, args):
    if args.only and not workload.startswith(args.only):
        return
    net = mlp(widths, bias)
    for batch in batches:
        if batch > args.max_batch:
            continue
        x = torch.rand(batch, widths[0], device="cuda")
        flops = 2.0 * batch * multiply_adds(widths)
        with torch.inference_mode():
            report(workload, "torch_eager", "fp32", batch, measure(lambda: net(x), args.reps, args.min_ms), flops)

            def bf16():
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    return net(x)
            report(workload, "torch_bf16_eager", "bf16", batch, measure(bf16, args.reps, args.min_ms), flops)


def read_idx(path):
    """An IDX file (raw or .gz) as a uint8 tensor of its dimensions."""
    import gzip
    import struct
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def mnist_part(folder, prefixes, kind):
    for prefix in prefixes:
        for suffix in ("", ".gz"):
            path = os.path.join(folder, f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte{suffix}")
            if os.path.exists(path):
                return read_idx(path)
    return None


def bench_w1_epochs(args):
    """gpu_bench.cu's w1_5_epochs: five epochs at batch 32 on the MNIST sample, the pixels scaled to [0, 1]."""
    if args.only and not "w1_5_epochs".startswith(args.only):
        return
    parts = [mnist_part(args.mnist, prefixes, kind) if args.mnist else None
             for prefixes, kind in ((["train"], "images"), (["train"], "labels"),
                                    (["t10k", "test"], "images"), (["t10k", "test"], "labels"))]
    if any(p is None for p in parts):
        print("# w1_5_epochs left out: no MNIST sample (--mnist)", flush=True)
        return
    batch, epochs = 32, 5
    widths = [784, 128, 64, 10]
    times, accuracy = [], 0.0
    for _ in range(max(args.reps, 3)):
        torch.cuda.synchronize()
        start = time.perf_counter()
        train_x = (parts[0].reshape(len(parts[0]), -1).cuda().float() / 255)
        train_y = parts[1].cuda().long()
        test_x = (parts[2].reshape(len(parts[2]), -1).cuda().float() / 255)
        test_y = parts[3].cuda().long()
        n = len(train_x)
        net = mlp(widths, True)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, capturable=True)
        x = torch.empty(batch, widths[0], device="cuda")
        y = torch.empty(batch, dtype=torch.long, device="cuda")
        x.copy_(train_x[:batch])
        y.copy_(train_y[:batch])
        # The warm-up inside graphed() takes three steps on the first batch: they count as training, as they
        # would in any script that captures its step.
        step = graphed(train_step_fn(net, opt, torch.nn.functional.cross_entropy, x, y))
        for _ in range(epochs):
            order = torch.randperm(n, device="cuda")
            for first in range(0, n - batch + 1, batch):  # 8,000 = 250 batches of 32: none short
                rows = order[first:first + batch]
                torch.index_select(train_x, 0, rows, out=x)
                torch.index_select(train_y, 0, rows, out=y)
                step()
        with torch.inference_mode():
            accuracy = (net(test_x).argmax(1) == test_y).float().mean().item()
        times.append((time.perf_counter() - start) * 1e3)
        del net, opt, step
    times.sort()
    median = times[len(times) // 2]
    samples = epochs * len(parts[0])
    flops = 6.0 * samples * multiply_adds(widths)
    print(f"w1_5_epochs,torch_graph,fp32,{batch},{median:.4f},{times[0]:.4f},{times[-1]:.4f},"
          f"{samples / (median * 1e-3):.0f},{flops / (median * 1e-3) / 1e12:.2f}", flush=True)
    print(f"# w1_5_epochs: test accuracy torch_graph {accuracy:.4f}", flush=True)


def bench_gpt(batches, args):
    """gpu_bench.cu's gpt_train: nanoGPT's model as bench/comparators/torch_seq.py defines it, on the card, eager,
    AdamW with nanoGPT's groups, the gradients clipped to norm 1 (clip_grad_norm_), as on tenfold's side."""
    if args.only and not "gpt_train".startswith(args.only):
        return
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "comparators"))
    from torch_seq import gpt_training
    T, D, V, L = 64, 128, 65, 4
    macs_per_sample = T * (L * 12 * D * D + D * V) + L * T * T * D
    for batch in batches:
        if batch > args.max_batch:
            continue
        m, step = gpt_training(batch, device="cuda", clip=True)
        report("gpt_train", "torch_eager", "fp32", batch, measure(step, args.reps, args.min_ms),
               6.0 * batch * macs_per_sample)
        del m, step
        torch.cuda.empty_cache()


def bench_cnn(batches, args):
    """gpu_bench.cu's cnn_train: the W3 CNN (torch_bench.py's w3_cnn, NCHW), cross-entropy, Adam."""
    if args.only and not "cnn_train".startswith(args.only):
        return
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "comparators"))
    from torch_bench import w3_cnn
    macs_per_sample = 28 * 28 * 9 * 1 * 32 + 14 * 14 * 9 * 32 * 64 + 7 * 7 * 64 * 128 + 128 * 10
    for batch in batches:
        if batch > args.max_batch:
            continue
        x = torch.rand(batch, 1, 28, 28, device="cuda")
        y = torch.randint(0, 10, (batch,), device="cuda")
        for implementation, use_graph in (("torch_eager", False), ("torch_graph", True)):
            net = w3_cnn(1).cuda()
            opt = torch.optim.Adam(net.parameters(), lr=1e-3, capturable=use_graph)
            step = train_step_fn(net, opt, torch.nn.functional.cross_entropy, x, y)
            call = graphed(step) if use_graph else step
            report("cnn_train", implementation, "fp32", batch, measure(call, args.reps, args.min_ms),
                   6.0 * batch * macs_per_sample)
            del net, opt, step, call
        torch.cuda.empty_cache()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--min-ms", type=float, default=2.0)
    parser.add_argument("--only", default="")
    parser.add_argument("--max-batch", type=int, default=1 << 20)
    parser.add_argument("--mnist", default="")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("torch_gpu_bench: no CUDA device", file=sys.stderr)
        return 77
    torch.manual_seed(1)
    print(f"# device: {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    print("workload,implementation,precision,batch,median_ms,min_ms,max_ms,samples_per_s,tflops", flush=True)

    fp32 = [("torch_eager", "fp32", False, None), ("torch_graph", "fp32", True, None)]
    bench_train("w1_train", [784, 128, 64, 10], True, [32, 256, 4096], 10, args, fp32)
    bench_w1_epochs(args)
    w2_batches = [1 << 14, 1 << 16, 1 << 18, 1 << 20]
    for width in (64, 128):
        for bias in (False, True):
            name = f"w2_w{width}{'_bias' if bias else ''}"
            widths = [32] + [width] * 5 + [16]
            bench_train(name + "_train", widths, bias, w2_batches, 0, args,
                        fp32 + [("torch_bf16_graph", "bf16", True, torch.bfloat16)])
            bench_infer(name + "_infer", widths, bias, w2_batches, args)
    bench_gpt([12, 64], args)
    bench_cnn([64, 256], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
