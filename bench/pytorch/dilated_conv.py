#!/usr/bin/env python3
"""Times the forward and backward passes of the convolutions convnet's
BenchmarkConv2D times dilated (nn.Conv2d with dilation=2 and "same"
padding, then a ReLU) and undilated, and the depthwise ones (groups=C)
of its BenchmarkDepthwiseConv2D, at batch 100: one JSON line each, the
medians in milliseconds.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/dilated_conv.py
"""
import argparse
import json
import statistics
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=20)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cases = [(f"{h}x{h}x{c}-{f}-{k}x{k}", h, c, f, k, d, 1) for h, c, f, k in [(32, 32, 32, 5), (16, 64, 64, 3)] for d in (1, 2)]
    cases += [(f"depthwise/{h}x{h}x{c}-3x3", h, c, c, 3, d, c) for h, c in [(32, 32), (16, 128)] for d in (1, 2)]
    for name, h, c, f, k, d, groups in cases:
        conv = torch.nn.Conv2d(c, f, k, padding=(k - 1) * d // 2, dilation=d, groups=groups)
        x = torch.randn(100, c, h, h, requires_grad=True)
        fw, bw = [], []
        for i in range(a.runs + 3):
            t = time.perf_counter()
            y = torch.relu(conv(x))
            t1 = time.perf_counter()
            y.backward(torch.ones_like(y))
            t2 = time.perf_counter()
            if i >= 3:
                fw.append(t1 - t)
                bw.append(t2 - t1)
        name += f"-dilated{d}" if d > 1 else ("-s1" if groups > 1 else "")
        print(json.dumps({"program": "pytorch", "conv": name, "forward_ms": round(statistics.median(fw) * 1e3, 2),
                          "backward_ms": round(statistics.median(bw) * 1e3, 2)}))


if __name__ == "__main__":
    main()
