"""Computes class activation maps with PyTorch's autograd on a project
written by `convnet export --format pytorch`, for the Go tests of
internal/cli to compare with convnet's:

    python3 torch_cam.py PROJECT IMAGES LAYER OUT FIRST

IMAGES holds N raw images, float32 [N H W C] in convnet's order; LAYER
names the module whose output is weighed. For each image, the class of the
largest logit and G, the gradient of that logit with respect to the
module's output A; Grad-CAM (Selvaraju et al. 2017) is ReLU(Σ_k α_k·A_k)
with α_k the mean of G_k over the cells, HiResCAM (Draelos and Carin 2020)
ReLU(Σ_k G_k⊙A_k). The occlusion test (Zeiler and Fergus 2014, as Captum's
Occlusion computes it) sets squares of the standardised input, the input of
the module FIRST, to 0, and each pixel gets the mean fall of the class's
probability over the squares that hide it, its positive part. Writes to OUT:

    classes.f32    the classes, float32 [N]
    gradcam.f32    the Grad-CAM maps, float32 [N h w]
    hirescam.f32   the HiResCAM maps, float32 [N h w]
    occlusion.f32  the occlusion maps, float32 [N H W], squares of a quarter of
                   the shorter side, a quarter of that apart (both rounded), and
                   at the far edges
"""
import os
import sys

import numpy as np
import torch


def occlusion(net, first, img, k):
    """The occlusion map of class k for the image img [C H W]."""
    _, h, w = img.shape
    win = max(1, (min(h, w) + 2) // 4)
    stride = max(1, (win + 2) // 4)

    def starts(n):
        s = list(range(0, n - win + 1, stride))
        return s + [n - win] if s[-1] + win < n else s

    squares = [(y, x) for y in starts(h) for x in starts(w)]

    def hide(module, inputs):  # image 0 is left whole
        z = inputs[0].clone()
        for i, (y, x) in enumerate(squares):
            z[i + 1, :, y:y + win, x:x + win] = 0
        return (z,)

    hook = getattr(net, first).register_forward_pre_hook(hide)
    with torch.no_grad():
        p = torch.softmax(net(img[None].repeat(len(squares) + 1, 1, 1, 1)).double(), dim=1)[:, k]
    hook.remove()
    total, count = torch.zeros(h, w, dtype=torch.float64), torch.zeros(h, w, dtype=torch.float64)
    for i, (y, x) in enumerate(squares):
        total[y:y + win, x:x + win] += p[0] - p[i + 1]
        count[y:y + win, x:x + win] += 1
    return torch.relu(total / count).float().numpy()


def main():
    project, images, layer, out, first = sys.argv[1:6]
    sys.path.insert(0, project)
    import model

    torch.set_num_threads(1)
    net = model.Net()
    model.load_convnet(net)
    net.eval()
    c, h, w = model.INPUT_SHAPE
    x = torch.from_numpy(np.fromfile(images, "<f4").reshape(-1, h, w, c)).permute(0, 3, 1, 2).contiguous()
    seen = {}
    getattr(net, layer).register_forward_hook(lambda mod, inp, outp: seen.update(a=outp))
    classes, grad, hires, occluded = [], [], [], []
    for img in x:
        logits = net(img[None])
        k = int(logits[0].argmax())
        a = seen["a"]
        (g,) = torch.autograd.grad(logits[0, k], a)
        g, a = g[0].double(), a[0].detach().double()
        alpha = g.mean(dim=(1, 2))
        classes.append(k)
        grad.append(torch.relu((alpha[:, None, None] * a).sum(dim=0)).float().numpy())
        hires.append(torch.relu((g * a).sum(dim=0)).float().numpy())
        occluded.append(occlusion(net, first, img, k))
    np.array(classes, "<f4").tofile(os.path.join(out, "classes.f32"))
    np.stack(grad).astype("<f4").tofile(os.path.join(out, "gradcam.f32"))
    np.stack(hires).astype("<f4").tofile(os.path.join(out, "hirescam.f32"))
    np.stack(occluded).astype("<f4").tofile(os.path.join(out, "occlusion.f32"))


if __name__ == "__main__":
    main()
