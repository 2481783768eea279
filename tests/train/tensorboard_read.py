"""Reads the event file tensorboard_writer wrote with TensorBoard's own reader (which checks every record's
masked CRC-32C) and compares each scalar with the history fit() returned.

    tensorboard_read.py <folder>
"""
import csv
import glob
import math
import sys

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

folder = sys.argv[1]
files = glob.glob(folder + "/run/events.out.tfevents.*")
assert len(files) == 1, f"expected one event file, found {files}"

scalars = {}  # (tag, step) -> value
versions = []
for event in EventFileLoader(files[0]).Load():
    if event.file_version:
        versions.append(event.file_version)
    for value in event.summary.value:
        if value.HasField("simple_value"):
            v = value.simple_value
        else:  # newer readers migrate simple_value into a scalar tensor
            v = value.tensor.float_val[0]
        scalars[(value.tag, event.step)] = v
assert versions == ["brain.Event:2"], f"file version records: {versions}"

columns = {"loss": "loss", "accuracy": "metric", "validation_loss": "validation_loss",
           "validation_accuracy": "validation_metric", "learning_rate": "learning_rate",
           "samples_per_second": "samples_per_second"}
with open(folder + "/history.csv") as f:
    rows = list(csv.DictReader(f))
assert len(rows) == 5, f"{len(rows)} epochs in the history"
expected = 0
for row in rows:
    step = int(row["epoch"])
    for tag, column in columns.items():
        want = float(row[column])
        got = scalars.get((tag, step))
        assert got is not None, f"no value for {tag} at epoch {step}"
        # The event holds a float, the history a double printed with 9 digits.
        assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-30), f"{tag} at epoch {step}: {got} != {want}"
        expected += 1
assert len(scalars) == expected, f"{len(scalars)} scalars in the file, {expected} expected"
print(f"TensorBoard read {expected} scalars over {len(rows)} epochs, all equal to the history")
