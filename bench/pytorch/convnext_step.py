#!/usr/bin/env python3
"""Times a training step of the small ConvNeXt convnet's model benchmark
BenchmarkTrainStepConvNeXt times (model/testdata/keras/convnext_letters.json)
on random 32x32 inputs at batch 100 with Adam: torchvision's ConvNeXt with
stages of 2, 2, 4 and 2 blocks of 32, 64, 128 and 256 channels, stochastic
depth 0.1, layer scales from 1e-6 and 28 classes, its stem reading one
channel (the same network, 1,906,556 parameters in both), or with
--project DIR the Net of `convnet export --format pytorch` of that file.
Prints one JSON object: the parameter count and the median milliseconds
of a step.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/convnext_step.py [--project DIR]
"""
import argparse
import json
import statistics
import sys
import time

import torch
from torchvision.models.convnext import CNBlockConfig, ConvNeXt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--project", help="a convnet PyTorch project's folder: time its Net")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if a.project:
        sys.path.insert(0, a.project)
        from model import Net
        net, program = Net(), "pytorch-project"
    else:
        stages = [CNBlockConfig(32, 64, 2), CNBlockConfig(64, 128, 2), CNBlockConfig(128, 256, 4), CNBlockConfig(256, None, 2)]
        net, program = ConvNeXt(stages, stochastic_depth_prob=0.1, layer_scale=1e-6, num_classes=28), "pytorch-torchvision"
        net.features[0][0] = torch.nn.Conv2d(1, 32, kernel_size=4, stride=4)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.rand(100, 1, 32, 32), torch.arange(100) % 28
    loss = torch.nn.CrossEntropyLoss()
    times = []
    for i in range(a.steps + 3):
        t = time.perf_counter()
        opt.zero_grad()
        loss(net(x), y).backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t)
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"program": program, "params": params, "step_ms": round(statistics.median(times) * 1e3, 2)}))


if __name__ == "__main__":
    main()
