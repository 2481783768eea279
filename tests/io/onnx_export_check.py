"""Runs the ONNX files that onnx_export_writer wrote with ONNX Runtime and checks that each gives tenfold's
outputs for the same inputs to 1e-5.

For each <name>.onnx the inputs are <name>.input.f32 and tenfold's outputs <name>.output.f32 (raw float32),
shaped by the model's own input and output: [N, sample extents...], N being the symbolic batch.
"""
import sys

import numpy as np
import onnxruntime as ort

TOLERANCE = 1e-5
NAMES = ["mlp", "cnn", "composite", "sequence"]


def static_dims(value):
    return [d for d in value.shape[1:]]


def check(folder, name):
    runtime = ort.InferenceSession(f"{folder}/{name}.onnx", providers=["CPUExecutionProvider"])
    (model_input,) = runtime.get_inputs()
    (model_output,) = runtime.get_outputs()
    if model_input.name != "input" or model_output.name != "output":
        print(f"{name}: the graph's input and output are {model_input.name!r} and {model_output.name!r}")
        return False
    if not isinstance(model_input.shape[0], str):
        print(f"{name}: the batch extent of the input is {model_input.shape[0]!r}, not symbolic")
        return False
    x = np.fromfile(f"{folder}/{name}.input.f32", dtype="<f4").reshape([-1] + static_dims(model_input))
    expected = np.fromfile(f"{folder}/{name}.output.f32", dtype="<f4").reshape([x.shape[0]] + static_dims(model_output))
    (ours,) = runtime.run(None, {"input": x})
    if ours.shape != expected.shape:
        print(f"{name}: ONNX Runtime gives shape {ours.shape}, tenfold {expected.shape}")
        return False
    worst = float(np.abs(ours - expected).max())
    print(f"{name}: {x.shape[0]} samples of {list(x.shape[1:])}, largest difference from tenfold's outputs {worst:.3g}")
    return worst < TOLERANCE


folder = sys.argv[1]
print(f"onnxruntime {ort.__version__}")
results = [check(folder, name) for name in NAMES]
sys.exit(0 if all(results) else 1)
