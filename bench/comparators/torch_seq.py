"""PyTorch comparator for the sequence rows (CPU, eager mode), defining the same models as bench/seq/seq_bench.cpp:

  gpt_train     one training iteration of nanoGPT's CPU configuration of the shakespeare_char recipe: 4 layers,
                4 heads, 128-dim embeddings, 64-character context, vocabulary 65, batch 12, no bias, no dropout,
                tied input/output embeddings, exact GELU; forward, cross-entropy, backward, clip_grad_norm_(1.0),
                AdamW (lr 1e-3, betas (0.9, 0.99), weight decay 0.1 on matrices only, as nanoGPT's groups);
  gpt_generate  nanoGPT's generate(), 63 tokens after a one-token prompt (filling the 64-character context):
                the whole context so far through the model for every new token, batch 1,
                temperature 0.8, top-k 200; reported per token (samples_per_s is tokens per second);
  rnn_train     nn.RNN (tanh), input 64, hidden 128, 32 steps, batch 64, every step's state, MSE against a
                target of the same shape, Adam;
  lstm_train    nn.LSTM, the same sizes and loss.

The model code follows nanoGPT's model.py (LayerNorm without bias, CausalSelfAttention with one c_attn projection
and torch's scaled_dot_product_attention, MLP 4x with GELU, weight tying). Prints CSV lines
`workload,threads,batch,median_us_per_step,min_us,max_us,samples_per_s` as the other comparators do.
"""

import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F



def wanted(a, name):
    """--only: a comma-separated list; a workload runs when its name contains one of the items."""
    return not a.only or any(part and part in name for part in a.only.split(","))

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--rep-ms", type=float, default=300.0)
    p.add_argument("--only", default="")
    return p.parse_args()


class LayerNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.c_attn = nn.Linear(d, 3 * d, bias=False)
        self.c_proj = nn.Linear(d, d, bias=False)
        self.heads = heads

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(c, dim=2)
        q = q.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        k = k.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        v = v.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln_1, self.attn = LayerNorm(d), CausalSelfAttention(d, heads)
        self.ln_2 = LayerNorm(d)
        self.c_fc, self.c_proj = nn.Linear(d, 4 * d, bias=False), nn.Linear(4 * d, d, bias=False)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, vocab=65, block=64, layers=4, heads=4, d=128):
        super().__init__()
        self.block = block
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(block, d)
        self.h = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln_f = LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.wte.weight = self.lm_head.weight  # tied, as nanoGPT
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers) if name.endswith("c_proj.weight") else 0.02)

    def forward(self, idx):
        t = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        for b in self.h:
            x = b(x)
        return self.lm_head(self.ln_f(x))

    @torch.no_grad()
    def generate(self, idx, count, temperature=0.8, top_k=200):
        for _ in range(count):
            cond = idx if idx.size(1) <= self.block else idx[:, -self.block:]
            logits = self(cond)[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("inf")
            idx = torch.cat((idx, torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)), dim=1)
        return idx


def time_calls(step, reps, rep_ms):
    """Median, min and max seconds per call over `reps` repetitions of back-to-back calls lasting rep_ms."""
    step()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            step()
        if time.perf_counter() - t0 > rep_ms / 1000.0:
            break
        calls *= 2
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            step()
        runs.append((time.perf_counter() - t0) / calls)
    return statistics.median(runs), min(runs), max(runs)


def emit(workload, threads, batch, med, lo, hi, per_second):
    print(f"{workload},{threads},{batch},{med * 1e6:.2f},{lo * 1e6:.2f},{hi * 1e6:.2f},{per_second:.1f}", flush=True)


def gpt_training(batch, device="cpu", clip=True):
    """nanoGPT's model, its AdamW (decay 0.1 on the matrices only, betas (0.9, 0.99)) and one training step on a
    random batch of `batch` windows: forward, cross-entropy per position, backward, clipping to norm 1 (when
    `clip`), the update. Returns the model and the step. bench/gpu/torch_gpu_bench.py uses it on the card."""
    torch.manual_seed(1337)
    m = GPT().to(device)
    params = [p for p in m.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99))
    x = torch.randint(0, 65, (batch, 64), device=device)
    y = torch.randint(0, 65, (batch, 64), device=device)

    def step():
        logits = m(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()

    return m, step


def gpt_rows(a):
    m, step = gpt_training(12)

    if wanted(a, "gpt_train"):
        med, lo, hi = time_calls(step, a.reps, a.rep_ms)
        emit("gpt_train", a.threads, 12, med, lo, hi, 12 / med)
    if wanted(a, "gpt_generate"):
        m.eval()
        start = torch.zeros((1, 1), dtype=torch.long)  # 63 tokens after one: the context fills up
        tokens = 63

        def generate():
            m.generate(start, tokens)

        med, lo, hi = time_calls(generate, a.reps, a.rep_ms)
        emit("gpt_generate", a.threads, 1, med, lo, hi, tokens / med)


def recurrent_row(a, name, layer):
    torch.manual_seed(1)
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)
    x = torch.rand(64, 32, 64) * 2 - 1
    y = torch.rand(64, 32, 128) * 2 - 1

    def step():
        out, _ = layer(x)
        loss = F.mse_loss(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    med, lo, hi = time_calls(step, a.reps, a.rep_ms)
    emit(name, a.threads, 64, med, lo, hi, 64 / med)


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    gpt_rows(a)
    if wanted(a, "rnn_train"):
        recurrent_row(a, "rnn_train", nn.RNN(64, 128, batch_first=True, nonlinearity="tanh"))
    if wanted(a, "lstm_train"):
        recurrent_row(a, "lstm_train", nn.LSTM(64, 128, batch_first=True))


if __name__ == "__main__":
    main()
