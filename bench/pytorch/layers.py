#!/usr/bin/env python3
"""Times a forward and backward pass of the layers nn's
BenchmarkGroupNormalization and BenchmarkResample time: nn.GroupNorm at
batch 64 (32x32x32 maps in 8 groups, 16x16x64 in 16 and in 64), and
nn.Upsample at batch 32 (16x16x64 maps doubled, nearest and bilinear;
64x64x3 images resized to 32x32, bilinear). One line each: the median in
milliseconds, forward and backward together.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/layers.py
"""
import argparse
import statistics
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=20)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cases = [(f"GroupNormalization/{h}x{h}x{c}-groups{g}", torch.nn.GroupNorm(g, c), (64, c, h, h))
             for h, c, g in [(32, 32, 8), (16, 64, 16), (16, 64, 64)]]
    cases += [("Resample/up-nearest", torch.nn.Upsample(scale_factor=2, mode="nearest"), (32, 64, 16, 16)),
              ("Resample/up-bilinear", torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), (32, 64, 16, 16)),
              ("Resample/resize-bilinear", torch.nn.Upsample(size=(32, 32), mode="bilinear", align_corners=False), (32, 3, 64, 64))]
    for name, layer, shape in cases:
        x = torch.randn(*shape, requires_grad=True)
        times = []
        for i in range(a.runs + 3):
            t = time.perf_counter()
            y = layer(x)
            y.backward(y.detach())
            if i >= 3:
                times.append(time.perf_counter() - t)
        print(f"pytorch {name} {statistics.median(times) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
