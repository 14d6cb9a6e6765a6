"""Reads the TensorBoard event files under a log folder for convnet's Go
tests, and prints them as JSON.

The messages are parsed with the code protoc generates from TensorBoard's
own definitions (proto/tensorboard/compat/proto, from tensorflow/tensorboard,
Apache License 2.0); each record's framing and masked CRC-32C checksums are
checked as TensorBoard's record reader checks them. With a JSON file of
{tag: [values]}, it also prints the histogram that PyTorch's
SummaryWriter.add_histogram makes of each list: make_histogram read from the
source of the installed torch and run as it is, over the default buckets of
SummaryWriter.__init__ (numpy's comparison that make_histogram calls in a form
newer numpy refuses is adapted, see NumPy below).

Usage: python3 read.py LOGDIR [VALUES.json]
"""
import ast
import atexit
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
out = tempfile.mkdtemp()
atexit.register(shutil.rmtree, out, True)
protos = os.path.join(here, "proto")
names = sorted(os.listdir(os.path.join(protos, "tensorboard/compat/proto")))
subprocess.run(["protoc", "-I", protos, "--python_out", out] + ["tensorboard/compat/proto/" + n for n in names], check=True)
sys.path.insert(0, out)
from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: E402


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    with open(path, "rb") as f:
        b = f.read()
    i = 0
    while i < len(b):
        header = b[i : i + 8]
        (n,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", b[i + 8 : i + 12])
        if crc != masked(header):
            raise SystemExit(f"{path}: offset {i}: the length's checksum does not match")
        data = b[i + 12 : i + 12 + n]
        if len(data) != n or len(b) < i + 16 + n:
            raise SystemExit(f"{path}: offset {i}: record of {n} bytes cut short")
        (crc,) = struct.unpack("<I", b[i + 12 + n : i + 16 + n])
        if crc != masked(data):
            raise SystemExit(f"{path}: offset {i}: the data's checksum does not match")
        yield data
        i += 16 + n


def histo(h):
    return {
        "min": h.min, "max": h.max, "num": h.num, "sum": h.sum, "sum_squares": h.sum_squares,
        "bucket_limit": list(h.bucket_limit), "bucket": list(h.bucket),
    }


def event(data):
    e = event_pb2.Event()
    e.ParseFromString(data)
    if e.SerializeToString() != data:
        raise SystemExit("an event does not serialize back to its bytes")
    d = {"wall_time": e.wall_time, "step": e.step, "what": e.WhichOneof("what")}
    if e.HasField("file_version"):
        d["file_version"] = e.file_version
    if e.HasField("session_log"):
        d["session_log"] = event_pb2.SessionLog.SessionStatus.Name(e.session_log.status)
    if e.HasField("summary"):
        d["scalars"], d["histograms"] = {}, {}
        for v in e.summary.value:
            kind = v.WhichOneof("value")
            if kind == "simple_value":
                d["scalars"][v.tag] = v.simple_value
            elif kind == "histo":
                d["histograms"][v.tag] = histo(v.histo)
            else:
                raise SystemExit(f"value {v.tag}: {kind}")
    return d


runs = {}
for root, _, files in sorted(os.walk(sys.argv[1])):
    for name in sorted(files):
        if "tfevents" in name:  # the files TensorBoard reads
            path = os.path.join(root, name)
            run = os.path.relpath(root, sys.argv[1])
            runs.setdefault(run, []).append({"file": name, "events": [event(r) for r in records(path)]})
result = {"runs": runs}

if len(sys.argv) > 2:
    torch_dir = os.path.dirname(importlib.util.find_spec("torch").origin)
    src = open(os.path.join(torch_dir, "utils/tensorboard/summary.py")).read()
    fn = next(n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name == "make_histogram")
    class NumPy:
        """numpy, but for the call np.greater(counts, 0, dtype=np.int32) of
        PyTorch 1.13's make_histogram, which newer numpy refuses ("No loop
        matching the specified signature"): the comparison, then the cast."""

        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def greater(a, b, dtype=None):
            r = np.greater(a, b)
            return r if dtype is None else r.astype(dtype)

    scope = {"np": NumPy(), "HistogramProto": summary_pb2.HistogramProto}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), "summary.py", "exec"), scope)
    v, buckets, neg = 1e-12, [], []
    while v < 1e20:  # SummaryWriter.__init__'s default_bins
        buckets.append(v)
        neg.append(-v)
        v *= 1.1
    bins = neg[::-1] + [0] + buckets
    with open(sys.argv[2]) as f:
        values = json.load(f)
    result["torch"] = {tag: histo(scope["make_histogram"](np.array(vs, dtype=np.float32).astype(float), bins)) for tag, vs in values.items()}

json.dump(result, sys.stdout)
