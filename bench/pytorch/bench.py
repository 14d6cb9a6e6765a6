#!/usr/bin/env python3
"""Measures the tutorial model in PyTorch the way `convnet bench` measures it.

Figures (printed as one JSON object, the same keys as `convnet bench --json`):
  train_images_per_sec           training steps at batch 100 on real AHCD batches
  infer_batch1_ms                median latency of one image, inference mode
  infer_batch256_images_per_sec  inference throughput at batch 256
  gemm_gflops                    numpy float32 1024x1024x1024 matrix multiply
and the same four by the CPU time of the process over all the timed runs
(*_cpu_* keys), the steadier measure on a shared machine with one thread.

With --bf16, as `convnet bench --bf16`: training and inference under
torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's mixed precision on
the CPU, and the GEMM a torch.matmul of bfloat16 matrices.

Run with the system Python and OpenBLAS's own CPU detection:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/bench.py
"""
import argparse
import io
import json
import os
import statistics
import sys
import time
import zipfile

import numpy as np
import torch
import torch.nn as nn


# convnet's activation functions (convnet bench --activation) as modules.
ACTIVATIONS = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "leaky_relu": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU,
    "selu": nn.SELU, "gelu": nn.GELU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softplus": nn.Softplus,
    "softsign": nn.Softsign, "silu": nn.SiLU, "mish": nn.Mish, "hard_sigmoid": nn.Hardsigmoid,
    "hard_silu": nn.Hardswish,
}


def tutorial_model(activation="relu"):
    # Keras "same" padding for odd kernels at stride 1 is symmetric: k//2.
    # prelu: a slope per channel (or unit), as convnet bench --activation prelu.
    def act(c):
        return nn.PReLU(c, init=0.0) if activation == "prelu" else ACTIVATIONS[activation]()
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), act(32),
        nn.Conv2d(32, 32, 5, padding=2), act(32),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1), act(64),
        nn.Conv2d(64, 64, 3, padding=1), act(64),
        nn.MaxPool2d(2, 2), nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, 256), act(256),
        nn.Linear(256, 256), act(256),
        nn.Dropout(0.5),
        nn.Linear(256, 28),
    )


def load_ahcd(path, n):
    """First n training images of AHCD (column-major CSV, transposed), /255."""
    with zipfile.ZipFile(path) as z:
        name = next(m for m in z.namelist() if "TrainImages" in m)
        lname = next(m for m in z.namelist() if "TrainLabel" in m)
        x = np.loadtxt(io.TextIOWrapper(z.open(name)), delimiter=",", max_rows=n, dtype=np.float32)
        y = np.loadtxt(io.TextIOWrapper(z.open(lname)), delimiter=",", max_rows=n, dtype=np.int64)
    x = x.reshape(-1, 32, 32).transpose(0, 2, 1) / 255.0
    x = x - x.mean(axis=0)
    return torch.from_numpy(np.ascontiguousarray(x[:, None])), torch.from_numpy(y - 1)


def median_rate(fn, items, repeats):
    """The median rate of repeats runs by the wall clock, and the rate by
    the CPU time of them all."""
    rates = []
    c = time.process_time()
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        rates.append(items / (time.perf_counter() - t))
    return statistics.median(rates), items * repeats / (time.process_time() - c)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.path.join(os.environ.get("CONVNET_DATA", "../shared/data"), "ahcd", "ahcd_csv.zip"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20, help="training steps per repeat")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--activation", default="relu", choices=sorted([*ACTIVATIONS, "prelu"]), help="the hidden layers' activation")
    p.add_argument("--bf16", action="store_true", help="autocast to bfloat16 (training and inference), the GEMM in bfloat16")
    args = p.parse_args()
    autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16)
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    batch = 100
    x, y = load_ahcd(args.data, batch * args.steps)
    model = tutorial_model(args.activation)
    opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()

    def train():
        model.train()
        for s in range(args.steps):
            xb, yb = x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch]
            opt.zero_grad(set_to_none=False)
            with autocast():
                loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

    train()  # warm-up
    train_rate, train_cpu = median_rate(train, batch * args.steps, args.repeats)

    model.eval()
    one = x[:1].clone()
    lat = []
    with torch.no_grad(), autocast():
        for _ in range(20):
            model(one)
        c = time.process_time()
        for _ in range(200):
            t = time.perf_counter()
            model(one)
            lat.append((time.perf_counter() - t) * 1e3)
        lat_cpu = (time.process_time() - c) / 200 * 1e3
        big = x[:256].clone() if len(x) >= 256 else x.repeat(3, 1, 1, 1)[:256]
        model(big)
        infer_rate, infer_cpu = median_rate(lambda: model(big), 256, max(args.repeats, 5))

    a = np.random.default_rng(1).standard_normal((1024, 1024), dtype=np.float32)
    b = np.random.default_rng(2).standard_normal((1024, 1024), dtype=np.float32)
    if args.bf16:
        a, b = torch.from_numpy(a).bfloat16(), torch.from_numpy(b).bfloat16()
    a @ b
    gemm = []
    c = time.process_time()
    for _ in range(max(args.repeats, 5)):
        t = time.perf_counter()
        for _ in range(5):
            a @ b
        gemm.append(5 * 2 * 1024 ** 3 / (time.perf_counter() - t) / 1e9)
    gemm_cpu = len(gemm) * 5 * 2 * 1024 ** 3 / (time.process_time() - c) / 1e9

    json.dump({
        "framework": "pytorch " + torch.__version__,
        "bf16": args.bf16,
        "threads": args.threads,
        "activation": args.activation,
        "train_images_per_sec": round(train_rate, 1),
        "infer_batch1_ms": round(statistics.median(lat), 4),
        "infer_batch256_images_per_sec": round(infer_rate, 1),
        "gemm_gflops": round(statistics.median(gemm), 1),
        "train_images_per_cpu_sec": round(train_cpu, 1),
        "infer_batch1_cpu_ms": round(lat_cpu, 4),
        "infer_batch256_images_per_cpu_sec": round(infer_cpu, 1),
        "gemm_cpu_gflops": round(gemm_cpu, 1),
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
