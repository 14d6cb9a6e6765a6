"""Trains a small residual network on MNIST with PyTorch for 150 steps,
exports it with torch.onnx.export and writes what convnet's Go test
compares against (the files of torch_cnn.py):

    resnet.onnx     the model: input "input" [N 1 28 28] (pixels / 255,
                    then normalized with MNIST's mean and std), output
                    "logits" [N 10]
    images.u8       100 test images, 28x28 bytes each
    probs.f32       PyTorch's probabilities for them, float32 [100 10]

The network has what a ResNet exports to: residual blocks (one with an
identity shortcut, one with a strided 1x1 projection shortcut), batch
normalization, ReLU after the Add, an Inception-style branch joined by
Concat, global average pooling, ReduceMean over height and width, Flatten
and Gemm. Its padding is PyTorch's own, which is not TensorFlow's "same":
torchvision's stem (a max pool of 3, stride 2, padding 1, after a ReLU)
and a stride-2 convolution with padding 1 on an even size, an average
pool counting its padding (exported as Pad then AveragePool) and an
nn.ZeroPad2d (exported as Pad, its pads computed in the graph).

Usage: python3 torch_resnet.py MNIST_DIR OUT_DIR
"""
import torch
from torch import nn

from torch_cnn import run


class Block(nn.Module):
    """A basic residual block (He et al., 2016): conv-bn-relu-conv-bn, plus
    the shortcut, then relu. The shortcut is the input, or where the shape
    changes a strided 1x1 convolution and batch normalization of it."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.shortcut(x))


def branch(cin, cout, k):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout), nn.ReLU())


class Net(nn.Module):
    """28x28: a 3x3 stem and torchvision's max pooling to 14x14, an identity
    block, two branches joined along the channels (a 1x1 convolution after
    an uneven zero padding and a 2x2 average; an average of 3 counting its
    padding, then a 3x3 convolution), a projection block to 7x7 (padding 1
    at stride 2 on an even size), then a head joining three views: the
    global average of the last block, the mean of the first (ReduceMean),
    and a flattened 1x1 convolution of the last."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.block1 = Block(16, 16, 1)
        self.branch1 = nn.Sequential(nn.ZeroPad2d((1, 0, 1, 0)), nn.AvgPool2d(2, 1), branch(16, 8, 1))
        self.branch3 = nn.Sequential(nn.AvgPool2d(3, 1, 1), branch(16, 8, 3))
        self.block2 = Block(16, 32, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.side = nn.Sequential(nn.Conv2d(32, 2, 1), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(32 + 16 + 2 * 3 * 3, 10)

    def forward(self, x):
        b1 = self.block1(self.stem(x))
        x = self.block2(torch.cat([self.branch1(b1), self.branch3(b1)], 1))
        head = [self.pool(x).flatten(1), b1.mean((2, 3)), self.side(x).flatten(1)]
        return self.fc(torch.cat(head, 1))


if __name__ == "__main__":
    run(Net, 2, 150, "resnet.onnx")
