# Writes resample_golden.json: outputs and input gradients of UpSampling2D
# and Resizing as PyTorch computes them (F.interpolate, align_corners=False,
# antialias off; "nearest-exact" is TensorFlow's half-pixel nearest), for
# resample_test.go. Run with python3 and torch from the nn directory:
#
#	python3 testdata/resample_golden.py > testdata/resample_golden.json
import json
import math

import torch
import torch.nn.functional as F

CASES = [
    # name, kind, config, input [H, W, C]
    ("up-nearest-2x2", "UpSampling2D", {"size": [2, 2], "interpolation": "nearest"}, [3, 2, 2]),
    ("up-nearest-3x2", "UpSampling2D", {"size": [3, 2], "interpolation": "nearest"}, [2, 3, 2]),
    ("up-bilinear-2x2", "UpSampling2D", {"size": [2, 2], "interpolation": "bilinear"}, [3, 2, 2]),
    ("up-bilinear-3x2", "UpSampling2D", {"size": [3, 2], "interpolation": "bilinear"}, [2, 3, 2]),
    ("resize-up", "Resizing", {"height": 7, "width": 5, "interpolation": "bilinear"}, [3, 4, 2]),
    ("resize-down", "Resizing", {"height": 3, "width": 4, "interpolation": "bilinear"}, [7, 5, 2]),
    ("resize-nearest-down", "Resizing", {"height": 3, "width": 4, "interpolation": "nearest"}, [7, 5, 2]),
    ("resize-nearest-up", "Resizing", {"height": 5, "width": 7, "interpolation": "nearest"}, [3, 4, 1]),
    ("resize-crop", "Resizing", {"height": 4, "width": 4, "interpolation": "bilinear", "crop_to_aspect_ratio": True}, [7, 5, 2]),
    ("resize-crop-wide", "Resizing", {"height": 2, "width": 6, "interpolation": "nearest", "crop_to_aspect_ratio": True}, [5, 5, 1]),
]


def window(h, w, th, tw):
    # Keras's crop_to_aspect_ratio, in float32 as its TensorFlow backend
    f32 = lambda v: float(torch.tensor(v, dtype=torch.float32))
    rows = min(max(int(f32(f32(w * th) / tw)), 1), h)
    cols = min(max(int(f32(f32(h * tw) / th)), 1), w)
    return int((h - rows) / 2), int((w - cols) / 2), rows, cols


def run(kind, cfg, shape):
    h, w, c = shape
    n = h * w * c
    x = torch.tensor([round(math.sin(0.7 * i + 0.3) * 100) / 100 for i in range(n)]).reshape(1, h, w, c)
    x.requires_grad_(True)
    xin = x.permute(0, 3, 1, 2)
    if kind == "UpSampling2D":
        size = (h * cfg["size"][0], w * cfg["size"][1])
    else:
        size = (cfg["height"], cfg["width"])
        if cfg.get("crop_to_aspect_ratio"):
            top, left, rows, cols = window(h, w, *size)
            xin = xin[:, :, top:top + rows, left:left + cols]
    if cfg["interpolation"] == "bilinear":
        y = F.interpolate(xin, size=size, mode="bilinear", align_corners=False)
    else:
        y = F.interpolate(xin, size=size, mode="nearest-exact")
    y = y.permute(0, 2, 3, 1).contiguous()
    dy = torch.tensor([round(math.cos(0.3 * i) * 100) / 100 for i in range(y.numel())]).reshape(y.shape)
    y.backward(dy)
    return x.detach().flatten().tolist(), y.detach().flatten().tolist(), dy.flatten().tolist(), x.grad.flatten().tolist()


out = []
for name, kind, cfg, shape in CASES:
    x, y, dy, dx = run(kind, cfg, shape)
    out.append({"name": name, "type": kind, "config": cfg, "input": shape, "x": x, "y": y, "dy": dy, "dx": dx})
print(json.dumps({"torch": torch.__version__, "cases": out}))
