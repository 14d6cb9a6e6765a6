"""Writes a model file as Keras saves it, for the Go tests of convnet import
--keras, without Keras:

    python3 write_keras.py CONFIG WEIGHTS OUT [--h5 [--weights-only]]

CONFIG is the model's architecture (config.json of a .keras file, what
Keras's to_json writes); WEIGHTS a JSON object mapping each layer's name to
its variables, [[shape, values, name], ...] in the order the layer creates
them.

OUT gets the zip of config.json, metadata.json and model.weights.h5 that
Keras 3's model.save("m.keras") writes, whose groups are named as
keras.src.saving.saving_lib names them: the layers of a model under
"layers/<class in snake case>[_i]/vars", a nested Sequential's or
Functional's under its own "layers", each "vars" group with the attribute "name" (the layer's name) and
its variables as datasets "0", "1", ...

With --h5, OUT is the HDF5 file of Keras 2's model.save("m.h5")
(tf_keras/saving/legacy/hdf5_format.py): the root's attributes
model_config (the architecture, bytes), keras_version and backend, and the
group model_weights with the attribute layer_names (the top-level layers, in
order) and a group per layer (created in sorted order) whose attribute
weight_names (bytes, "<layer>/<variable>:0"; a nested model's weights are
its layers', named "<model>/<layer>/<variable>:0") names its datasets. With
--weights-only as well, the file of save_weights("w.h5"): the weights
group's attributes and groups at the root, no model_config.
"""
import io
import json
import re
import sys
import zipfile

import h5py
import numpy as np


def to_snake_case(name):  # keras.src.utils.naming.to_snake_case
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def get_unique_name(name, used_names):  # saving_lib._get_unique_name
    if name in used_names:
        used_names[name] += 1
        return f"{name}_{used_names[name]}"
    used_names[name] = 0
    return name


def save_layers(h5, layers, prefix, weights):
    used = {}
    for layer in layers:
        path = prefix + "/" + get_unique_name(to_snake_case(layer["class_name"]), used)
        if layer["class_name"] in ("Sequential", "Functional"):
            save_layers(h5, layer["config"]["layers"], path + "/layers", weights)
            continue
        name = layer["config"]["name"]
        if name not in weights:
            continue  # no variables: Keras makes no group
        group = h5.create_group(path).create_group("vars")
        group.attrs["name"] = name
        for i, (shape, values, _) in enumerate(weights[name]):
            group[str(i)] = np.array(values, dtype="<f4").reshape(shape)


def save_attributes(group, name, data):
    """Keras 2's save_attributes_to_hdf5_group: a list of names, in chunks
    name0, name1, ... when its numpy array takes more than 64,512 bytes."""
    data = np.asarray(data)
    chunks = 1
    while any(x.nbytes > 64512 for x in np.array_split(data, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
        return
    for i, chunk in enumerate(np.array_split(data, chunks)):
        group.attrs["%s%d" % (name, i)] = chunk


def save_keras2(h5, config, weights, weights_only):
    doc = json.loads(config)
    layers = doc["config"] if isinstance(doc["config"], list) else doc["config"]["layers"]  # a list up to Keras 2.2.2
    layers = [l for l in layers if l["class_name"] != "InputLayer" or doc["class_name"] != "Sequential"]
    if weights_only:  # save_weights: the weights group is the root
        group = h5
    else:
        h5.attrs["keras_version"] = b"2.15.0"
        h5.attrs["backend"] = b"tensorflow"
        h5.attrs["model_config"] = config
        group = h5.create_group("model_weights")
    save_attributes(group, "layer_names", [l["config"]["name"].encode() for l in layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = b"2.15.0"
    for layer in sorted(layers, key=lambda l: l["config"]["name"]):
        name = layer["config"]["name"]
        g = group.create_group(name)
        if layer["class_name"] in ("Sequential", "Functional"):
            variables = [(f"{name}/{inner['config']['name']}/{v[2]}:0", v) for inner in layer["config"]["layers"]
                         for v in weights.get(inner["config"]["name"], [])]
        else:
            variables = [(f"{name}/{v[2]}:0", v) for v in weights.get(name, [])]
        save_attributes(g, "weight_names", [n.encode() for n, _ in variables])
        for n, (shape, values, _) in variables:
            g.create_dataset(n, data=np.array(values, dtype="<f4").reshape(shape))


def main():
    config_path, weights_path, out = sys.argv[1:4]
    config = open(config_path, "rb").read()
    weights = json.load(open(weights_path))
    if "--h5" in sys.argv:
        with h5py.File(out, "w") as h5:
            save_keras2(h5, config, weights, "--weights-only" in sys.argv)
        return
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        save_layers(h5, json.loads(config)["config"]["layers"], "layers", weights)
        h5.create_group("vars").attrs["name"] = "model"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.0", "date_saved": "2026-12-06@05:40:00"}))
        z.writestr("config.json", config)
        z.writestr("model.weights.h5", buf.getvalue())


if __name__ == "__main__":
    main()
