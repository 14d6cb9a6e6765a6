"""Writes a .keras file as Keras 3's model.save writes it, for the Go tests
of convnet import --keras, without Keras:

    python3 write_keras.py CONFIG WEIGHTS OUT

CONFIG is the model's architecture (config.json of a .keras file, what
Keras's to_json writes); WEIGHTS a JSON object mapping each layer's name to
its variables, [[shape, values], ...] in the order the layer creates them.
OUT gets the zip of config.json, metadata.json and model.weights.h5, whose
groups are named as keras.src.saving.saving_lib names them: the layers of
a model under "layers/<class in snake case>[_i]/vars", a nested
Sequential's under its own "layers", each "vars" group with the attribute
"name" (the layer's name) and its variables as datasets "0", "1", ...
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
        if layer["class_name"] == "Sequential":
            save_layers(h5, layer["config"]["layers"], path + "/layers", weights)
            continue
        name = layer["config"]["name"]
        if name not in weights:
            continue  # no variables: Keras makes no group
        group = h5.create_group(path).create_group("vars")
        group.attrs["name"] = name
        for i, (shape, values) in enumerate(weights[name]):
            group[str(i)] = np.array(values, dtype="<f4").reshape(shape)


def main():
    config_path, weights_path, out = sys.argv[1:4]
    config = open(config_path, "rb").read()
    weights = json.load(open(weights_path))
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
