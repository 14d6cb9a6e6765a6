"""Reads the TensorBoard event files under a log folder for convnet's Go
tests, and prints them as JSON.

The messages are parsed with the code protoc generates from TensorBoard's
own definitions (proto/tensorboard/compat/proto, from tensorflow/tensorboard,
Apache License 2.0); each record's framing and masked CRC-32C checksums are
checked as TensorBoard's record reader checks them. A Keras model's summary
(plugin graph_keras_model) is turned into the graph TensorBoard's Graphs tab
draws by TensorBoard's own keras_util.keras_model_to_graph_def
(proto/tensorboard/plugins/graph), and printed as its nodes; the images of an
images summary (tf.summary.image's) are decoded by PIL. With a JSON file of
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
import io
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
# What keras_util takes from TensorBoard's stub of TensorFlow: as_dtype(name).as_datatype_enum.
os.makedirs(os.path.join(out, "tensorboard/compat/tensorflow_stub"))
with open(os.path.join(out, "tensorboard/compat/tensorflow_stub/dtypes.py"), "w") as f:
    f.write("""from types import SimpleNamespace
from tensorboard.compat.proto import types_pb2
NAMES = {"float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE", "int32": "DT_INT32", "int64": "DT_INT64", "bool": "DT_BOOL"}
def as_dtype(name):
    return SimpleNamespace(as_datatype_enum=types_pb2.DataType.Value(NAMES[name]))
""")
sys.path[:0] = [out, protos]  # one namespace package tensorboard over both
from tensorboard.compat.proto import event_pb2, summary_pb2, types_pb2  # noqa: E402
from tensorboard.plugins.graph import keras_util  # noqa: E402


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


def graph(v):
    """The nodes of the graph TensorBoard draws from a Keras model's summary,
    a scalar string tensor of the model's JSON (the graph plugin reads its
    one string, version "1")."""
    t = v.tensor
    if v.metadata.plugin_data.content != b"1" or t.dtype != types_pb2.DT_STRING or t.tensor_shape.dim or len(t.string_val) != 1:
        raise SystemExit(f"{v.tag}: not a version 1 scalar string: {v.metadata} {t.dtype} {t.tensor_shape}")
    g = keras_util.keras_model_to_graph_def(json.loads(t.string_val[0].decode()))
    return [{"name": n.name, "class": n.attr["keras_class"].s.decode(), "dtype": types_pb2.DataType.Name(n.attr["dtype"].type),
             "inputs": list(n.input)} for n in g.node]


def images(v):
    """The images of an images plugin summary, as tf.summary.image writes it:
    a string tensor of the width, the height and PNGs, each decoded by PIL."""
    from PIL import Image  # only for files that hold images

    t = v.tensor
    if (t.dtype != types_pb2.DT_STRING or [d.size for d in t.tensor_shape.dim] != [len(t.string_val)] or len(t.string_val) < 2
            or v.metadata.data_class != summary_pb2.DATA_CLASS_BLOB_SEQUENCE):
        raise SystemExit(f"{v.tag}: not a blob sequence of a width, a height and images: {v.metadata} {t.dtype} {t.tensor_shape}")
    width, height = int(t.string_val[0]), int(t.string_val[1])
    out = []
    for b in t.string_val[2:]:
        im = Image.open(io.BytesIO(b))
        if im.format != "PNG" or im.size != (width, height):
            raise SystemExit(f"{v.tag}: a {im.format} image of {im.size}, want a PNG of {(width, height)}")
        out.append({"mode": im.mode, "pixels": list(im.tobytes())})
    return {"width": width, "height": height, "images": out}


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
            elif kind == "tensor" and v.metadata.plugin_data.plugin_name == "graph_keras_model":
                d.setdefault("graphs", {})[v.tag] = graph(v)
            elif kind == "tensor" and v.metadata.plugin_data.plugin_name == "images":
                d.setdefault("images", {})[v.tag] = images(v)
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
