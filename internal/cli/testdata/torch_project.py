"""Runs a project written by `convnet export --format pytorch` on a batch of
images, for the Go tests of internal/cli to compare with convnet:

    python3 torch_project.py PROJECT IMAGES LABELS OUT [--step [--steps N] [--split K] [--mix LAMBDA|0,X1,Y1,X2,Y2]] [--state FILE]
    python3 torch_project.py --serve

With --serve it reads the arguments of one run per line of stdin, as a
JSON list, and answers each with a JSON line {"error": null, or the
traceback and what the run printed}: torch is imported once for them all.

IMAGES holds N raw images, float32 [N H W C] in convnet's order, LABELS
their classes as float32 [N]. The script loads the project's model file
(or the state_dict FILE, such as train.py's model.pt) and writes to OUT:

    logits.f32   the network's logits in inference mode, float32 [N classes]
    probs.f32    its probabilities, float32 [N classes]

With --step it then takes one training step on the batch (N with --steps;
with --split K, step s on the images s mod K, s mod K + K, ...) with
train.py's loss (in training mode; its class weights, if any, computed over
the batch) and its apply_gradients (optimizer, gradient accumulation,
clipping, moving average of the weights, constraints), puts the moving
average in place if there is one, and writes (with --mix, each step's images
and one-hot targets are first mixed by train.mixed: MixUp's LAMBDA, or
CutMix's box):

    loss.f32           the last step's loss, float32 [1]
    step.safetensors   the network after the step, as model.save_convnet writes it
    step.onnx          the same as train.py exports it
"""
import contextlib
import io
import json
import os
import sys
import traceback

import numpy as np
import torch
from torch.nn import functional as F


def main(argv):
    project, images, labels, out = argv[:4]
    step = "--step" in argv
    sys.path.insert(0, project)
    for name in ("model", "train"):  # another project's, from an earlier run
        sys.modules.pop(name, None)
    import model
    import train

    torch.set_num_threads(1)
    net = model.Net()
    meta = model.load_convnet(net)
    if "--state" in argv:
        net.load_state_dict(torch.load(argv[argv.index("--state") + 1]))
    c, h, w = model.INPUT_SHAPE
    x = torch.from_numpy(np.fromfile(images, "<f4").reshape(-1, h, w, c)).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(np.fromfile(labels, "<f4")).long()
    net.eval()
    with torch.no_grad():
        logits = net(x)
        logits.numpy().astype("<f4").tofile(os.path.join(out, "logits.f32"))
        model.probabilities(logits).numpy().astype("<f4").tofile(os.path.join(out, "probs.f32"))
    if not step:
        return
    net.train()
    params = [p for p in net.parameters() if p.requires_grad]  # as train.py: not those of frozen layers
    opt = train.make_optimizer(train.param_groups(net) if hasattr(train, "param_groups") else params)  # --exclude-from-weight-decay
    ema = train.EMA(params) if hasattr(train, "EMA") else None  # --ema
    steps = int(argv[argv.index("--steps") + 1]) if "--steps" in argv else 1
    split = int(argv[argv.index("--split") + 1]) if "--split" in argv else 1
    mix = argv[argv.index("--mix") + 1].split(",") if "--mix" in argv else None
    for s in range(steps):
        xs, ys = x[s % split::split], y[s % split::split]
        target = ys
        if mix:
            box = tuple(int(v) for v in mix[1:]) or None
            xs, target = train.mixed(xs, F.one_hot(ys, logits.shape[1]).float(), float(mix[0]), box)
        if hasattr(train, "class_weights"):  # --class-weight, over this batch's labels
            weights = train.class_weights(ys, json.loads(meta["classes"]))
            loss = train.loss_fn(net(xs), target, weights) + model.regularization(net)
        else:
            loss = train.loss_fn(net(xs), target) + model.regularization(net)
        loss.backward()
        train.apply_gradients(net, opt, params, s, *([ema] if ema else []))
    if ema:
        ema.finalize()
    np.array([loss.item()], "<f4").tofile(os.path.join(out, "loss.f32"))
    model.save_convnet(net, os.path.join(out, "step.safetensors"), meta)
    with open(os.path.join(out, "step.onnx"), "wb") as f:
        f.write(train.onnx_bytes(net.eval(), json.loads(meta.get("classes", "[]"))))


def serve():
    for line in sys.stdin:
        path, printed = list(sys.path), io.StringIO()
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                main(json.loads(line))
            error = None
        except BaseException:  # SystemExit too: a project's refusal
            error = traceback.format_exc() + printed.getvalue()
        sys.path[:] = path
        print(json.dumps({"error": error}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main(sys.argv[1:])
