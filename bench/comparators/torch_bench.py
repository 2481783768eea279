"""PyTorch comparator (CPU, eager mode): the W1 MNIST MLP 784-128-64-10, the W4 regression MLP 1000-500-100-1 and
the W3 CNN (conv 32@3x3 pad 1, relu, max pool 2, conv 64@3x3 pad 1, relu, max pool 2, dense 128, relu, dense 10 on
28x28x1, NCHW, torch.nn.Conv2d), trained with torch.optim.Adam (lr 1e-3, fused=True where available), plus torch.mm
GEMM. Prints the benchmark's
CSV lines `workload,threads,batch,median_us_per_step,min_us,max_us,samples_per_s` like the C++ comparators
(bench_common.hpp): warm-up, then repetitions of back-to-back calls, median/min/max of the per-call mean.

Layers use He-uniform weights and zero biases like the other comparators. A training step is what a PyTorch user
writes: zero_grad, forward, loss, backward, optimizer.step. Run with --check to train one epoch and print losses.
"""

import argparse
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--rep-ms", type=float, default=100.0)
    p.add_argument("--data", default=os.environ.get("TENFOLD_MNIST_DIR", "data/mnist"))
    p.add_argument("--only", default="")
    p.add_argument("--check", action="store_true")
    p.add_argument("--keep-denormals", action="store_true",
                   help="leave subnormal floats on (by default flushed, as tenfold's fit() does)")
    a = p.parse_args()
    a.reps = max(5, a.reps)
    return a


def load_mnist(folder, prefix):
    """Reads an IDX image/label pair; returns float32 images in [0, 1] (count x 784) and int64 labels."""
    with open(os.path.join(folder, prefix + "-images-idx3-ubyte"), "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x803:
            sys.exit(f"{folder}/{prefix}: not an IDX image file")
        images = np.frombuffer(f.read(count * rows * cols), dtype=np.uint8).reshape(count, rows * cols)
    with open(os.path.join(folder, prefix + "-labels-idx1-ubyte"), "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        if magic != 0x801 or n != count:
            sys.exit(f"{folder}/{prefix}: not an IDX label file for the images")
        labels = np.frombuffer(f.read(n), dtype=np.uint8)
    return (torch.from_numpy(images.astype(np.float32) / 255.0).contiguous(),
            torch.from_numpy(labels.astype(np.int64)))


def make_regression(count, features, seed):
    """W4 data: inputs uniform in [-1, 1], target sin(2 * x.w) for a random w (as bench_common.hpp)."""
    g = torch.Generator().manual_seed(seed)
    w = (torch.rand(features, generator=g) * 2 - 1) / (features / 3.0) ** 0.5
    x = torch.rand(count, features, generator=g) * 2 - 1
    return x.contiguous(), torch.sin(2.0 * (x @ w)).unsqueeze(1).contiguous()


def mlp(sizes, seed):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        torch.nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")  # U(-sqrt(6/fan_in), +sqrt(6/fan_in))
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def w3_cnn(seed):
    """The W3 CNN; He-uniform weights (fan_in = in_channels * 3 * 3 for the convolutions), zero biases."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(7 * 7 * 64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    for layer in model:
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            torch.nn.init.zeros_(layer.bias)
    return model


class Trainer:
    def __init__(self, sizes, loss, seed, model=None):
        self.model = model if model is not None else mlp(sizes, seed)
        # The fused CPU Adam (PyTorch 2.4 and later) is PyTorch's fastest documented update, up to a third off a
        # small-batch step; older versions fall back to the default implementation.
        try:
            self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, fused=True)
            self.opt_kind = "fused"
        except (RuntimeError, TypeError, ValueError):
            self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
            self.opt_kind = "default"
        self.loss = loss

    def step(self, x, y):
        self.opt.zero_grad()
        loss = self.loss(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss


def time_and_print(args, workload, batch, samples_per_call, step, fixed_steps=0):
    warm_calls, t0 = 0, time.perf_counter()
    while warm_calls < 3 or time.perf_counter() - t0 < args.rep_ms * 0.5e-3:
        step()
        warm_calls += 1
    per_call = (time.perf_counter() - t0) / warm_calls
    steps = fixed_steps or max(1, int(args.rep_ms * 1e-3 / per_call))
    us = []
    for _ in range(args.reps):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        us.append((time.perf_counter() - t) * 1e6 / steps)
    median = statistics.median(us)
    print(f"{workload},{args.threads},{batch},{median:.3f},{min(us):.3f},{max(us):.3f},"
          f"{samples_per_call * 1e6 / median:.1f}", flush=True)


def wanted(args, workload):
    return not args.only or args.only in workload


class EpochRunner:
    """One epoch at batch `batch`: a fresh shuffle, then each batch gathered from the data set and trained on."""

    def __init__(self, trainer, x, y, batch):
        self.trainer, self.x, self.y, self.batch = trainer, x, y, batch
        self.gen = torch.Generator().manual_seed(1234)

    def run(self, losses=None):
        order = torch.randperm(self.x.shape[0], generator=self.gen)
        for start in range(0, self.x.shape[0] - self.batch + 1, self.batch):
            idx = order[start:start + self.batch]
            loss = self.trainer.step(self.x[idx], self.y[idx])
            if losses is not None:
                losses.append(loss.item())


def check(args, x, y):
    xt, yt = load_mnist(args.data, "test")
    w1 = Trainer([784, 128, 64, 10], F.cross_entropy, 1)
    losses = []
    EpochRunner(w1, x, y, 32).run(losses)
    with torch.inference_mode():
        acc = (w1.model(xt).argmax(1) == yt).float().mean().item()
    print(f"check,w1,{np.mean(losses[:25]):.4f},{np.mean(losses[-25:]):.4f},{acc:.4f}")

    rx, ry = make_regression(4096, 1000, 7)
    w4 = Trainer([1000, 500, 100, 1], F.mse_loss, 2)
    losses = []
    for _ in range(5):
        for start in range(0, 4096, 64):
            losses.append(w4.step(rx[start:start + 64], ry[start:start + 64]).item())
    print(f"check,w4,{np.mean(losses[:8]):.4f},{np.mean(losses[-8:]):.4f},nan")


def batches_of(x, y, batch):
    n = x.shape[0] // batch
    return [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]) for i in range(n)]


def time_w1(args, x, y):
    for batch in (1, 32, 256):
        if not wanted(args, "w1_train"):
            break
        t, data, i = Trainer([784, 128, 64, 10], F.cross_entropy, 1), batches_of(x, y, batch), [0]

        def step():
            xb, yb = data[i[0] % len(data)]
            i[0] += 1
            t.step(xb, yb)
        time_and_print(args, "w1_train", batch, batch, step)
    if wanted(args, "w1_epoch"):
        runner = EpochRunner(Trainer([784, 128, 64, 10], F.cross_entropy, 1), x, y, 32)
        time_and_print(args, "w1_epoch", 32, x.shape[0] // 32 * 32, runner.run, fixed_steps=1)
    for batch in (1, 256):
        if not wanted(args, "w1_infer"):
            break
        model, data, i = mlp([784, 128, 64, 10], 1), batches_of(x, y, batch), [0]

        def infer():
            with torch.inference_mode():
                model(data[i[0] % len(data)][0])
            i[0] += 1
        time_and_print(args, "w1_infer", batch, batch, infer)


def time_w4(args):
    if not wanted(args, "w4_train"):
        return
    rx, ry = make_regression(4096, 1000, 7)
    t, data, i = Trainer([1000, 500, 100, 1], F.mse_loss, 2), batches_of(rx, ry, 64), [0]

    def step():
        xb, yb = data[i[0] % len(data)]
        i[0] += 1
        t.step(xb, yb)
    time_and_print(args, "w4_train", 64, 64, step)


def random_images(count, seed):
    """Random inputs in [0, 1] (count x 1 x 28 x 28, NCHW) and labels in 0..9, as tenfold's rows use."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(count, 1, 28, 28, generator=g), torch.randint(0, 10, (count,), generator=g)


def time_w3(args):
    if wanted(args, "w3_train"):
        x, y = random_images(64, 2)
        t = Trainer(None, F.cross_entropy, 1, model=w3_cnn(1))
        time_and_print(args, "w3_train", 64, 64, lambda: t.step(x, y))
    for batch in (1, 256):
        if not wanted(args, "w3_infer"):
            break
        model, (x, _) = w3_cnn(1), random_images(batch, 3)

        def infer():
            with torch.inference_mode():
                model(x)
        time_and_print(args, "w3_infer", batch, batch, infer)


def time_gemm(args):
    if not wanted(args, "gemm"):
        return
    for m, k, n in ((32, 784, 128), (256, 784, 128), (256, 128, 64), (64, 1000, 500), (1024, 1024, 1024)):
        a, b, c = torch.rand(m, k) * 2 - 1, torch.rand(k, n) * 2 - 1, torch.empty(m, n)
        time_and_print(args, "gemm", f"{m}x{k}x{n}", m, lambda: torch.mm(a, b, out=c))


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(not args.keep_denormals)
    torch.set_num_interop_threads(1)
    x, y = load_mnist(args.data, "train")
    if args.check:
        check(args, x, y)
        return
    time_w1(args, x, y)
    time_w4(args)
    time_w3(args)
    time_gemm(args)


if __name__ == "__main__":
    main()
