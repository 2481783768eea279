"""Loads the MLP that torch_export_writer saved into the equivalent nn.Sequential with
load_state_dict(strict=True) and checks that it gives tenfold's outputs to 1e-5.

Reads the file with safetensors.torch.load_file where the safetensors package is installed, and otherwise
with the few lines below (the format is an 8-byte length, a JSON header and the raw data), so that only
torch is required.
"""
import json
import struct
import sys

import torch
import torch.nn as nn


def load_file(path):
    try:
        from safetensors.torch import load_file as reference_load
        return reference_load(path)
    except ImportError:
        pass
    dtypes = {"F32": torch.float32, "F64": torch.float64}
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    data = raw[8 + length:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtypes[t["dtype"]])
        out[name] = flat.reshape(t["shape"])
    return out


def read_rows(path):
    with open(path) as f:
        return torch.tensor([[float(v) for v in line.split()] for line in f if line.strip()], dtype=torch.float32)


folder = sys.argv[1]
net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5), nn.Tanh(), nn.Linear(5, 3), nn.Softmax(dim=-1))
result = net.load_state_dict(load_file(folder + "/mlp.safetensors"), strict=True)
print(result)
with torch.no_grad():
    ours = net(read_rows(folder + "/inputs.txt"))
expected = read_rows(folder + "/outputs.txt")
worst = (ours - expected).abs().max().item()
print(f"largest difference from tenfold's outputs: {worst:.3g}")
sys.exit(0 if worst < 1e-5 else 1)
