# Writes torch_resize.onnx, a small network with PyTorch's resampling as
# torch.onnx (opset 13) exports it: nn.Upsample(scale_factor=2) nearest and
# bilinear (align_corners=False), F.interpolate(size=...) bilinear; and
# torch_resize.json, 4 input images and PyTorch's outputs for them, for
# onnx_resize_torch_test.go. Run from this directory:
#
#	python3 torch_resize.py
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.bi = nn.Upsample(scale_factor=(3, 2), mode="bilinear", align_corners=False)
        self.fc = nn.Linear(3 * 7 * 5, 4)

    def forward(self, x):
        x = self.bi(self.up(torch.relu(self.conv(x))))
        x = F.interpolate(x, size=(7, 5), mode="bilinear", align_corners=False)
        return torch.softmax(self.fc(torch.flatten(x, 1)), 1)


torch.manual_seed(1)
net = Net().eval()
x = torch.rand(4, 2, 5, 4)
with torch.no_grad():
    y = net(x)
torch.onnx.export(net, x[:1], "torch_resize.onnx", opset_version=13, input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
json.dump({"torch": torch.__version__, "nchw": list(x.shape), "x": x.flatten().tolist(), "y": y.flatten().tolist()},
          open("torch_resize.json", "w"))
