"""Exports eleven of torchvision's networks as PyTorch writes them, for
convnet's Go test: resnet18 (a 7x7 stem with padding 3 at stride 2, a max
pool of 3 with padding 1, residual blocks whose strided convolutions pad 1
on even sizes), squeezenet1_1 (Fire modules joined by Concat, max pools
with ceil_mode, a convolution as the classifier) and googlenet (Inception
modules of four branches, max pools whose ceil_mode adds a partial
window, on the ReLUs of a Concat) and mobilenet_v2 (depthwise
convolutions: one group per channel; ReLU6 as Clip), mobilenet_v3_small
(opset 14: Hardswish as HardSwish; squeeze-and-excitation blocks, whose
GlobalAveragePool feeds 1x1 convolutions and a HardSigmoid that scales the
map by a broadcasting Mul), efficientnet_b0 (SiLU as x times Sigmoid(x);
squeeze-and-excitation blocks with a Sigmoid) and regnet_y_400mf (grouped
convolutions of 8 to 24 groups; squeeze-and-excitation blocks) and
shufflenet_v2_x0_5 (its channel split as Slices whose ends come from Shape
arithmetic, its channel shuffle as Reshape, Transpose and Reshape),
mnasnet0_5 (inverted residual blocks, 3x3 and 5x5 depthwise convolutions)
and densenet121 (dense blocks: each layer's input the Concat of all the
maps before it) and convnext_tiny (7x7 depthwise convolutions; in each
block a Permute to channel-last, a LayerNorm and two Linear layers with a
GELU between them, each applied to every pixel, a Permute back and a
per-channel layer scale; LayerNorm2d in the stem, the downsampling layers
and the head, which normalises the pooled [N C 1 1]; at opset 13 the
layer norms and GELU exported as their arithmetic), with 10 classes,
random weights and batch normalization statistics averaged over a few
batches of noise. ConvNeXt's layer scales start at 1e-6, its layer norms'
gains at 1 and its biases at 0, so that a block would add next to nothing
to its input and the affine parts would go untested: they are drawn at
random (scales from 0.1 to 0.5, gains from 0.5 to 1.5, biases around 0).
The classifier's weights are scaled up so that each image has a clear top
class. It writes to OUT_DIR:

    NAME.onnx    the model: input "input" [N 3 64 64] (pixels / 255),
                 output "logits" [N 10]
    images.u8    4 images, 64x64x3 bytes each (height, width, channel)
    NAME.f32     the probabilities PyTorch computes for them in float64,
                 as float32 [4 10]
    NAME.err     how far PyTorch's own float32 probabilities are from
                 those, the largest difference (one float32)

and for resnet18, mobilenet_v2 and convnext_tiny, the class activation
maps of each image's top class over the maps of the last convolutional
block (layer4, features, features), in float64 (for G the gradient of the
class's logit with respect to the block's output A: Grad-CAM ReLU(Σ_k
mean(G_k)·A_k), HiResCAM ReLU(Σ_k G_k⊙A_k)):

    NAME.classes.f32   the classes, float32 [4]
    NAME.gradcam.f32   the Grad-CAM maps, float32 [4 h w]
    NAME.hirescam.f32  the HiResCAM maps, float32 [4 h w]

Usage: python3 torchvision_models.py OUT_DIR
"""
import os
import sys
import warnings

import numpy as np
import torch
import torchvision

SIZE = 64
CAM_BLOCKS = {"resnet18": "layer4", "mobilenet_v2": "features", "convnext_tiny": "features"}


def cams(net, block, x, prefix):
    """Writes the class activation maps of each image's top class over the
    output of block (see the docstring)."""
    seen = {}
    hook = block.register_forward_hook(lambda mod, inp, outp: seen.update(a=outp))
    classes, grad, hires = [], [], []
    for img in x:
        logits = net(img[None])
        k = int(logits[0].argmax())
        (g,) = torch.autograd.grad(logits[0, k], seen["a"])
        g, a = g[0], seen["a"][0].detach()
        classes.append(k)
        grad.append(torch.relu((g.mean(dim=(1, 2))[:, None, None] * a).sum(dim=0)).numpy())
        hires.append(torch.relu((g * a).sum(dim=0)).numpy())
    hook.remove()
    np.array(classes, "<f4").tofile(prefix + ".classes.f32")
    np.stack(grad).astype("<f4").tofile(prefix + ".gradcam.f32")
    np.stack(hires).astype("<f4").tofile(prefix + ".hirescam.f32")


def main(out):
    torch.manual_seed(1)
    torch.set_num_threads(1)
    images = np.random.default_rng(1).integers(0, 256, size=(4, SIZE, SIZE, 3), dtype=np.uint8)
    images.tofile(os.path.join(out, "images.u8"))
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    for name in ["resnet18", "squeezenet1_1", "googlenet", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
                 "regnet_y_400mf", "shufflenet_v2_x0_5", "mnasnet0_5", "densenet121", "convnext_tiny"]:
        options = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
        net = getattr(torchvision.models, name)(num_classes=10, **options)
        if name == "convnext_tiny":
            with torch.no_grad():
                for pname, p in net.named_parameters():
                    if pname.endswith("layer_scale"):
                        p.uniform_(0.1, 0.5)
                    elif pname.endswith("bias"):
                        p.normal_(0, 0.1)
                    elif p.dim() == 1:  # a layer norm's gain
                        p.uniform_(0.5, 1.5)
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = None  # the plain mean of the batches' statistics
                m.reset_running_stats()
        net.train()
        with torch.no_grad():
            for _ in range(3):
                net(torch.rand(8, 3, SIZE, SIZE))
            if name in ("squeezenet1_1", "mobilenet_v2", "efficientnet_b0", "mnasnet0_5"):
                last = net.classifier[1]
            elif name == "densenet121":
                last = net.classifier
            elif name == "mobilenet_v3_small":
                last = net.classifier[3]
            elif name == "convnext_tiny":
                last = net.classifier[2]
            else:
                last = net.fc
            # mnasnet's features are large already: its scores scaled down;
            # convnext's head normalises them: scaled by 20 its
            # probabilities would all round to 1.
            last.weight.mul_({"mnasnet0_5": 0.1, "convnext_tiny": 3}.get(name, 20))
        net.eval()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(net, x[:1], os.path.join(out, name + ".onnx"), opset_version=14 if name == "mobilenet_v3_small" else 13,
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        with torch.no_grad():
            single = torch.softmax(net(x), dim=1).double()
            probs = torch.softmax(net.double()(x.double()), dim=1)
        err = (single - probs).abs().max().item()
        probs.numpy().astype("<f4").tofile(os.path.join(out, name + ".f32"))
        np.array([err], dtype="<f4").tofile(os.path.join(out, name + ".err"))
        if name in CAM_BLOCKS:
            cams(net, getattr(net, CAM_BLOCKS[name]), x.double(), os.path.join(out, name))
        probs = probs.numpy()
        print(f"torch {torch.__version__}, torchvision {torchvision.__version__}: exported {name}, "
              f"top classes {probs.argmax(1).tolist()}, largest probabilities {probs.max(1).round(3).tolist()}, "
              f"PyTorch's float32 off by {err:.3g}")


if __name__ == "__main__":
    main(sys.argv[1])
