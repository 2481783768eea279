"""Loads each network that torch_export_writer saved (an MLP, two CNNs whose Flatten feeds Linear layers, an
LSTM with a Linear head on its last step and on every step) into the equivalent PyTorch module with
load_state_dict(strict=True) and checks that, in evaluation mode, it gives tenfold's outputs to 1e-5. tenfold's
images are channels last, so their inputs are permuted to [N, C, H, W] here; the weights need nothing of the
kind, since tenfold writes them in PyTorch's layout.

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


class LastStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True)
        self.head = nn.Linear(5, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


class AllSteps(LastStep):
    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


def images(h, w, c):
    return lambda rows: rows.reshape(-1, h, w, c).permute(0, 3, 1, 2)


# name: (module, inputs as the module takes them from tenfold's rows)
networks = {
    "mlp": (nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5), nn.Tanh(), nn.Linear(5, 3), nn.Softmax(dim=-1)),
            lambda rows: rows),
    "cnn": (nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 2), nn.BatchNorm2d(6),
                          nn.ReLU(), nn.Flatten(), nn.Linear(36, 10), nn.ReLU(), nn.Linear(10, 3)),
            images(11, 9, 1)),
    "cnn_bn1d": (nn.Sequential(nn.Conv2d(2, 3, 3, bias=False), nn.Flatten(), nn.BatchNorm1d(60), nn.Dropout(0.25),
                               nn.Linear(60, 4, bias=False), nn.Tanh()),
                 images(7, 6, 2)),
    "lstm_last": (LastStep(), lambda rows: rows.reshape(-1, 4, 3)),
    "lstm_all": (AllSteps(), lambda rows: rows.reshape(-1, 4, 3)),
}

folder = sys.argv[1]
failed = False
for name, (net, arrange) in networks.items():
    print(name, net.load_state_dict(load_file(f"{folder}/{name}.safetensors"), strict=True))
    net.eval()
    with torch.no_grad():
        ours = net(arrange(read_rows(f"{folder}/{name}_inputs.txt"))).reshape(-1)
    expected = read_rows(f"{folder}/{name}_outputs.txt").reshape(-1)
    worst = (ours - expected).abs().max().item()
    print(f"{name}: largest difference from tenfold's outputs: {worst:.3g}")
    failed = failed or not worst < 1e-5
sys.exit(1 if failed else 0)
