"""Trains a small CNN on MNIST with PyTorch for 120 steps,
exports it with torch.onnx.export and writes what convnet's Go test
compares against:

    cnn.onnx        the model: input "input" [N 1 28 28] (pixels / 255,
                    then normalized with MNIST's mean and std), output
                    "logits" [N 10] (log-probabilities, as the network
                    ends in log_softmax)
    images.u8       100 test images, 28x28 bytes each
    probs.f32       PyTorch's probabilities for them, float32 [100 10]

Usage: python3 torch_cnn.py MNIST_DIR OUT_DIR
"""
import gzip
import os
import sys

import numpy as np
import torch
from torch import nn

MEAN, STD = 0.1307, 0.3081


def idx(path):
    with gzip.open(path) as f:
        b = f.read()
    ndim = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Net(nn.Module):
    """conv-bn-relu-pool twice, a valid conv, then two linear layers with
    batch norm and dropout between them, and log_softmax, as
    pytorch/examples' MNIST network ends (the loss it is trained with,
    cross entropy, takes log-probabilities as well as logits). The
    features are flattened with x.view(x.size(0), -1), as many networks
    do."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3), nn.LeakyReLU(0.1),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 64), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Dropout(0.2), nn.Linear(64, 10),
        )

    def forward(self, x):
        x = self.features(x)
        return nn.functional.log_softmax(self.classifier(x.view(x.size(0), -1)), dim=1)


def prepare(images):
    x = torch.from_numpy(images.astype(np.float32) / 255)
    return ((x - MEAN) / STD).unsqueeze(1)


def load(mnist):
    """The first 12,800 MNIST training images, prepared, with their labels,
    and 100 test images spread over the test set, as bytes."""
    xtrain = idx(os.path.join(mnist, "train-images-idx3-ubyte.gz"))[:12800]
    ytrain = torch.from_numpy(idx(os.path.join(mnist, "train-labels-idx1-ubyte.gz"))[:12800].astype(np.int64))
    xtest = idx(os.path.join(mnist, "t10k-images-idx3-ubyte.gz"))[::100][:100]
    return prepare(xtrain), ytrain, xtest


def train(net, x, y, steps):
    """Trains net with Adam on random batches of 64; returns the last loss."""
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    net.train()
    for step in range(steps):
        i = torch.randint(0, len(x), (64,))
        loss = nn.functional.cross_entropy(net(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    return loss.item()


def write(net, xtest, out, name):
    """Exports net to OUT/NAME and writes the test images and PyTorch's
    probabilities for them."""
    os.makedirs(out, exist_ok=True)
    torch.onnx.export(net, prepare(xtest[:1]), os.path.join(out, name),
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    with torch.no_grad():
        probs = torch.softmax(net(prepare(xtest)), dim=1).numpy().astype("<f4")
    xtest.astype(np.uint8).tofile(os.path.join(out, "images.u8"))
    probs.tofile(os.path.join(out, "probs.f32"))


def run(make_net, seed, steps, name):
    """Trains make_net() for steps steps from seed and exports it to
    OUT_DIR/name with what the Go test reads, for the command line
    MNIST_DIR OUT_DIR."""
    mnist, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(seed)
    # One thread: the network is small, and on a busy machine two threads
    # spend several times the CPU waiting for each other.
    torch.set_num_threads(1)
    x, y, xtest = load(mnist)
    net = make_net()
    loss = train(net, x, y, steps)
    write(net, xtest, out, name)
    print(f"torch {torch.__version__}: trained {steps} steps (last loss {loss:.3f}), "
          f"exported {os.path.join(out, name)}")


if __name__ == "__main__":
    run(Net, 1, 120, "cnn.onnx")
