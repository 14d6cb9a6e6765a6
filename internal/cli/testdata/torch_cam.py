"""Computes class activation maps with PyTorch's autograd on a project
written by `convnet export --format pytorch`, for the Go tests of
internal/cli to compare with convnet's:

    python3 torch_cam.py PROJECT IMAGES LAYER OUT

IMAGES holds N raw images, float32 [N H W C] in convnet's order; LAYER
names the module whose output is weighed. For each image, the class of the
largest logit and G, the gradient of that logit with respect to the
module's output A; Grad-CAM (Selvaraju et al. 2017) is ReLU(Σ_k α_k·A_k)
with α_k the mean of G_k over the cells, HiResCAM (Draelos and Carin 2020)
ReLU(Σ_k G_k⊙A_k). Writes to OUT:

    classes.f32   the classes, float32 [N]
    gradcam.f32   the Grad-CAM maps, float32 [N h w]
    hirescam.f32  the HiResCAM maps, float32 [N h w]
"""
import os
import sys

import numpy as np
import torch


def main():
    project, images, layer, out = sys.argv[1:5]
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
    classes, grad, hires = [], [], []
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
    np.array(classes, "<f4").tofile(os.path.join(out, "classes.f32"))
    np.stack(grad).astype("<f4").tofile(os.path.join(out, "gradcam.f32"))
    np.stack(hires).astype("<f4").tofile(os.path.join(out, "hirescam.f32"))


if __name__ == "__main__":
    main()
