"""PyTorch comparator for bench/nets/rnn_step.cpp (CPU, eager mode, one thread): a training step of nn.RNN
(tanh) and of nn.LSTM, hidden size 128, input width 64, 32 steps, batch 64, batch_first=True: zero_grad,
forward, mean squared error against every step's output, backward, torch.optim.Adam (lr 1e-3, PyTorch's
defaults). Prints the median of repetitions after a warm-up, in this thread's CPU time, as rnn_step prints.

Run:  python3 bench/comparators/torch_rnn.py [--reps R]
"""

import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS, WIDTH, HIDDEN, BATCH = 32, 64, 128, 64


def median_seconds(reps, step):
    calls = 1
    while True:
        t0 = time.thread_time()
        for _ in range(calls):
            step()
        if time.thread_time() - t0 > 0.2:
            break
        calls *= 2
    times = []
    for _ in range(reps):
        t0 = time.thread_time()
        for _ in range(calls):
            step()
        times.append((time.thread_time() - t0) / calls)
    return statistics.median(times)


def time_step(name, layer, reps):
    torch.manual_seed(2)
    x = torch.rand(BATCH, STEPS, WIDTH) * 2 - 1
    y = torch.rand(BATCH, STEPS, HIDDEN) * 2 - 1
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = layer(x)
        F.mse_loss(out, y).backward()
        opt.step()

    seconds = median_seconds(reps, step)
    print(f"torch {name}_train batch {BATCH}, {STEPS} steps, input {WIDTH}, hidden {HIDDEN}: "
          f"{seconds * 1e6:.0f} us/step, {BATCH / seconds:.0f} samples/s")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=7)
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    time_step("rnn_tanh", nn.RNN(WIDTH, HIDDEN, batch_first=True), a.reps)
    time_step("lstm", nn.LSTM(WIDTH, HIDDEN, batch_first=True), a.reps)


if __name__ == "__main__":
    main()
