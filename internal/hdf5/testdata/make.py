#!/usr/bin/python3
"""Writes the HDF5 test files of package hdf5 and the values h5py reads from them.

Run from the repository root with the Python that has h5py (3.7, HDF5 1.10.8) and numpy:

    /usr/bin/python3 internal/hdf5/testdata/make.py

It rewrites, in internal/hdf5/testdata/:

    keras.h5     the layout Keras 3 writes (h5py defaults: superblock 0, symbol tables)
    latest.h5    the same with libver="latest" (superblock 3, v2 object headers, links)
    types.h5     float16/float64/big-endian data, scalar, empty, compact, chunked, gzip,
                 int32, unwritten data; fixed- and variable-length string attributes
    dense.h5     attributes stored densely (libver="latest" with more than 8 attributes):
                 small ones in the fractal heap's direct blocks, under an indirect block
                 once there are many, a large one as a huge object
    large.h5     the layout of Keras 2's model files (h5py defaults) with a model_config
                 of more than 64 KiB, a variable-length string as Keras 2 writes it
    expected.json  what h5py reads from every dataset and attribute of those files and of
                 keras315.weights.h5 (a file written by Keras 3.15, copied, not generated);
                 a string of more than 4 KiB as "sha256:" its length and SHA-256

The values are a fixed function of a seed, so a new run changes only the times HDF5
writes into some object headers (as Keras's files have them too), never the values.
"""

import hashlib
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def keras_layout(f, rng):
    """Writes the groups and datasets Keras 3 saves for a small model."""
    layers = {
        "conv2d": [(3, 3, 1, 4), (4,)],
        "dense": [(36, 10), (10,)],
        "batch_normalization": [(4,), (4,), (4,), (4,)],
    }
    for name, shapes in layers.items():
        v = f.create_group("layers/" + name + "/vars")
        v.attrs["name"] = name
        for i, shape in enumerate(shapes):
            v.create_dataset(str(i), data=rng.standard_normal(shape).astype("<f4"))
    f.create_group("vars").attrs["name"] = "sequential"
    o = f.create_group("optimizer/vars")
    o.attrs["name"] = "adam"
    o.create_dataset("0", data=np.array(7, dtype="<f4").reshape(()))
    o.create_dataset("1", data=np.arange(6, dtype="<f4").reshape(2, 3) / 8)


def types_file(f):
    """Writes one dataset or attribute for each type and layout the reader handles."""
    f.create_dataset("f16", data=np.array([[1.5, -2, 6e-8], [65504, -0.0, 0.1]], dtype="<f2"))
    f.create_dataset("f64", data=np.array([1 / 3, 1e-40, -1e30, 2.5], dtype="<f8"))
    f.create_dataset("be32", data=np.arange(6, dtype=">f4").reshape(2, 3) - 2.25)
    f.create_dataset("be64", data=np.array([0.1, -7], dtype=">f8"))
    f.create_dataset("scalar", data=np.float32(3.5))
    f.create_dataset("empty", data=np.zeros((0,), dtype="<f4"))
    f.create_dataset("unwritten", shape=(2, 2), dtype="<f4")
    f.create_dataset("chunked", data=np.arange(35, dtype="<f4").reshape(5, 7), chunks=(2, 3))
    f.create_dataset("gzip", data=np.arange(200, dtype="<f4").reshape(20, 10) % 7, chunks=(8, 4),
                     compression="gzip", compression_opts=6)
    f.create_dataset("shuffled", data=np.arange(50, dtype="<f8") / 4, chunks=(16,),
                     compression="gzip", shuffle=True)
    f.create_dataset("ints", data=np.arange(4, dtype="<i4") - 2)  # Keras's Normalization count is an int
    f.create_dataset("int8", data=np.array([-128, 127, 0], dtype="i1"))
    f.create_dataset("uint16", data=np.array([65535, 1], dtype="<u2"))
    f.create_dataset("be64int", data=np.array([-(2 ** 40), 12], dtype=">i8"))
    f.create_dataset("text", data=np.array([b"ab", b"cd"], dtype="S2"))  # refused

    space = h5py.h5s.create_simple((3, 2))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    ds = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([[1, 2], [3, 4], [5, 6.25]], dtype="<f4"))
    ds.close()

    f.attrs["fixed"] = np.array(b"hello", dtype="S10")
    f.attrs["fixed1"] = np.array([b"one"], dtype="S10")
    f.attrs["name"] = "types \u00fc"
    f.attrs["number"] = 1.5
    f.attrs["layer_names"] = np.array([b"conv2d", b"max_pooling2d", b"dense_1"])  # as Keras 2 writes its names
    f.attrs["empty_names"] = np.array([], dtype="S1")
    f.attrs["empty_list"] = np.asarray([])  # Keras 2's weight_names of a layer without weights: float64
    g = f.create_group("strings")
    g.attrs["vlist"] = ["a", "bc", "d\u00e9f", ""]  # variable-length strings
    g.attrs["name"] = "a longer name, " * 4


def dense_file(f):
    """Writes attributes that HDF5 stores densely: many, and one too large for the header."""
    for i in range(12):
        f.attrs["a%02d" % i] = "value %d" % i
    name = "".join("%d," % i for i in range(1500)).encode()
    f.attrs["name"] = np.array(name, dtype="S%d" % len(name))  # fixed-length: a huge object of the heap
    g = f.create_group("many")
    for i in range(200):
        g.attrs["attr_%03d" % i] = "v" * (i % 40)
    g.attrs["name"] = "many"
    g.attrs["layer_names"] = np.array([b"conv2d", b"dense"])
    g.create_dataset("x", data=np.arange(3, dtype="<f4"))


def keras2_large(f):
    """Writes the root of a Keras 2 model file whose model_config is more than 64 KiB."""
    layers = [{"class_name": "Dense", "config": {"name": "dense_%d" % i, "units": 10}} for i in range(1000)]
    config = json.dumps({"class_name": "Sequential", "config": {"layers": layers}}).encode()
    f.attrs["model_config"] = config  # as Keras 2 writes it: a variable-length string
    f.attrs["keras_version"] = "2.15.0"
    w = f.create_group("model_weights")
    w.attrs["layer_names"] = np.array([b"dense_0", b"dense_1"])


def expected(path):
    """Returns what h5py reads from the file at path: datasets, attributes, members."""
    out = {"datasets": {}, "attrs": {}, "attr_lists": {}, "groups": {}, "refused": []}

    def attrs(name, obj):
        for k, v in obj.attrs.items():
            if isinstance(v, np.ndarray) and (v.dtype.kind in "SO" and v.size != 1 or v.size == 0):
                out["attr_lists"][name + "@" + k] = [x.decode() if isinstance(x, bytes) else x for x in v.reshape(-1)]
                continue
            if isinstance(v, bytes):
                v = v.rstrip(b"\0").decode()
            elif isinstance(v, np.ndarray) and v.dtype.kind == "S" and v.size == 1:
                v = v.reshape(-1)[0].decode()
            if isinstance(v, str):
                if len(v) > 4096:  # its length and SHA-256, to keep this file small
                    v = "sha256:%d:%s" % (len(v.encode()), hashlib.sha256(v.encode()).hexdigest())
                out["attrs"][name + "@" + k] = v

    def visit(name, obj):
        name = "/" + name
        attrs(name, obj)
        if isinstance(obj, h5py.Group):
            out["groups"][name] = sorted(obj.keys())
        elif obj.dtype.kind in "fiu":
            values = obj[()].astype("<f4").reshape(-1)
            out["datasets"][name] = {"shape": list(obj.shape),
                                     "values": [float(x) for x in values]}
        else:
            out["refused"].append(name)

    with h5py.File(path, "r") as f:
        attrs("/", f)
        out["groups"]["/"] = sorted(f.keys())
        f.visititems(visit)
    return out


def main():
    with h5py.File(os.path.join(HERE, "keras.h5"), "w") as f:
        keras_layout(f, np.random.default_rng(0))
    with h5py.File(os.path.join(HERE, "latest.h5"), "w", libver="latest") as f:
        keras_layout(f, np.random.default_rng(0))
    with h5py.File(os.path.join(HERE, "types.h5"), "w") as f:
        types_file(f)
    with h5py.File(os.path.join(HERE, "dense.h5"), "w", libver="latest") as f:
        dense_file(f)
    with h5py.File(os.path.join(HERE, "large.h5"), "w") as f:
        keras2_large(f)
    names = ["keras.h5", "latest.h5", "types.h5", "keras315.weights.h5", "dense.h5", "large.h5"]
    want = {n: expected(os.path.join(HERE, n)) for n in names}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        f.write(dumps(want))


def dumps(want):
    """Returns want as JSON with one line for each dataset, group and attribute."""
    lines = ["{"]
    for i, (name, file) in enumerate(sorted(want.items())):
        lines.append(" %s: {" % json.dumps(name))
        for j, (key, table) in enumerate(sorted(file.items())):
            if isinstance(table, list):
                lines.append("  %s: %s%s" % (json.dumps(key), json.dumps(table), "," if j < len(file) - 1 else ""))
                continue
            lines.append("  %s: {" % json.dumps(key))
            for k, (path, v) in enumerate(sorted(table.items())):
                comma = "," if k < len(table) - 1 else ""
                lines.append("   %s: %s%s" % (json.dumps(path), json.dumps(v, sort_keys=True), comma))
            lines.append("  }" + ("," if j < len(file) - 1 else ""))
        lines.append(" }" + ("," if i < len(want) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
