"""nanoGPT's CPU recipe for the character-level Shakespeare model, in PyTorch on the same text and split as
examples/char_gpt: the model of torch_seq.py (nanoGPT's model.py without bias or dropout, tied embeddings),
AdamW (lr 1e-3, betas (0.9, 0.99), weight decay 0.1 on matrices only; --weight-decay as the example's), gradients
clipped to 1, 100 warm-up iterations then cosine to 1e-4 at 2,000, batch 12 of 64-character windows, losses
estimated every 250 iterations over 20 batches of each split. Prints the same lines as the example, for a
side-by-side run.

  python bench/comparators/torch_char_gpt.py [--seed S] [--iterations N] [--threads T] [--weight-decay W]
"""

import argparse
import math
import os
import time

import torch
import torch.nn.functional as F

from torch_seq import GPT

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--weight-decay", type=float, default=0.1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    text = open(os.path.join(ROOT, "data", "tinyshakespeare", "input.txt")).read()
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    n = int(len(ids) * 0.9)
    splits = {"train": ids[:n], "val": ids[n:]}

    def batch(split):
        d = splits[split]
        ix = torch.randint(len(d) - 64, (12,))
        return torch.stack([d[i:i + 64] for i in ix]), torch.stack([d[i + 1:i + 65] for i in ix])

    m = GPT(vocab=len(chars))
    params = [q for q in m.parameters() if q.requires_grad]
    opt = torch.optim.AdamW([{"params": [q for q in params if q.dim() >= 2], "weight_decay": a.weight_decay},
                             {"params": [q for q in params if q.dim() < 2], "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))

    def lr_at(it):
        if it < 100:
            return 1e-3 * (it + 1) / 101
        if it > a.iterations:
            return 1e-4
        r = (it - 100) / (a.iterations - 100)
        return 1e-4 + 0.5 * (1 + math.cos(math.pi * r)) * (1e-3 - 1e-4)

    @torch.no_grad()
    def estimate():
        m.eval()
        out = {}
        for split in ("train", "val"):
            losses = [F.cross_entropy(m(x).view(-1, len(chars)), y.view(-1)).item() for x, y in
                      (batch(split) for _ in range(20))]
            out[split] = sum(losses) / len(losses)
        m.train()
        return out

    start = time.perf_counter()
    for it in range(a.iterations + 1):
        if it % 250 == 0 or it == a.iterations:
            e = estimate()
            print(f"iteration {it}/{a.iterations}: train loss {e['train']:.4f}, validation loss {e['val']:.4f} "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
        if it == a.iterations:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        x, y = batch("train")
        loss = F.cross_entropy(m(x).view(-1, len(chars)), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()


if __name__ == "__main__":
    main()
