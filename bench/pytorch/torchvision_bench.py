#!/usr/bin/env python3
"""Times the inference of one of torchvision's networks in PyTorch, the way
`convnet bench --model FILE` times a model file, and exports the network for
convnet.

  --export PATH   writes the network (random weights, eval mode) as ONNX
                  (opset 13, input [N 3 SIZE SIZE]) and exits
  otherwise       prints one JSON object: the median latency of one image
                  (infer_batch1_ms) and the throughput at --batch
                  (infer_batch_images_per_sec), eagerly ("eager") and after
                  torch.jit.freeze with optimize_for_inference, which folds
                  batch normalization into the convolutions as the ONNX
                  export does ("frozen")

Run with the system Python and OpenBLAS's own CPU detection:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/torchvision_bench.py mobilenet_v2
"""
import argparse
import json
import statistics
import time
import warnings

import torch
import torchvision


def timed(f, x, runs):
    with torch.no_grad():
        for _ in range(10):
            f(x)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            f(x)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--export")
    a = p.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(a.threads)
    net = getattr(torchvision.models, a.name)(num_classes=10).eval()
    if a.export:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(net, torch.rand(1, 3, a.size, a.size), a.export, opset_version=13,
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        return
    one, big = torch.rand(1, 3, a.size, a.size), torch.rand(a.batch, 3, a.size, a.size)
    frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(net)))
    r = {"framework": f"PyTorch {torch.__version__}", "threads": torch.get_num_threads(), "model": a.name}
    for kind, f in [("eager", net), ("frozen", frozen)]:
        r[kind] = {"infer_batch1_ms": timed(f, one, a.runs) * 1e3,
                   "infer_batch_images_per_sec": a.batch / timed(f, big, max(5, a.runs // 20))}
    print(json.dumps(r))


if __name__ == "__main__":
    main()
