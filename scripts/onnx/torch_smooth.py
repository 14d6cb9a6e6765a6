"""Trains a small CNN with smooth activation functions on MNIST with
PyTorch for 120 steps, exports it with torch.onnx.export (opset 13, where
GELU, Mish and Softsign are written as several nodes) and writes what
convnet's Go test compares against (the files of torch_cnn.py):

    smooth.onnx     the model: input "input" [N 1 28 28] (pixels / 255,
                    then normalized with MNIST's mean and std), output
                    "logits" [N 10]
    images.u8       100 test images, 28x28 bytes each
    probs.f32       PyTorch's probabilities for them, float32 [100 10]

The activations: GELU (exported as Div, Erf, Add, Mul, Mul), Mish
(Softplus, Tanh, Mul), Softsign (Abs, Add, Div), SELU, Softplus, ELU and
Tanh; two PReLUs, one slope per channel (PRelu with a slope of shape
[16, 1, 1]) and one in all (a slope of shape [1]); a group
normalization (Reshape, InstanceNormalization, Reshape to the Shape of the
input, Mul, Add) and an instance normalization (InstanceNormalization).

Usage: python3 torch_smooth.py MNIST_DIR OUT_DIR
"""
from torch import nn

from torch_cnn import run


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.Mish(), nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3), nn.Softsign(), nn.GroupNorm(4, 16),
            nn.Conv2d(16, 16, 1), nn.ELU(), nn.InstanceNorm2d(16, affine=True),
            nn.Conv2d(16, 16, 1), nn.PReLU(16),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 64), nn.SELU(),
            nn.Linear(64, 32), nn.Softplus(),
            nn.Linear(32, 32), nn.Tanh(),
            nn.Linear(32, 32), nn.PReLU(),
            nn.Linear(32, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


if __name__ == "__main__":
    run(Net, 3, 120, "smooth.onnx")
