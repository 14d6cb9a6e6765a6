"""Computes Grad-CAM (Selvaraju et al. 2017) with PyTorch's autograd on a
project written by `convnet export --format pytorch`, for the Go tests of
internal/cli to compare with convnet's:

    python3 torch_gradcam.py PROJECT IMAGES LAYER OUT

IMAGES holds N raw images, float32 [N H W C] in convnet's order; LAYER
names the module whose output is weighed. For each image, the class of the
largest logit, the gradient of that logit with respect to the module's
output A, α_k its mean over the cells of channel k, and the map
ReLU(Σ_k α_k·A_k). Writes to OUT:

    classes.f32  the classes, float32 [N]
    cams.f32     the maps, float32 [N h w]
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
    classes, cams = [], []
    for img in x:
        logits = net(img[None])
        k = int(logits[0].argmax())
        a = seen["a"]
        (g,) = torch.autograd.grad(logits[0, k], a)
        alpha = g[0].double().mean(dim=(1, 2))
        cam = torch.relu((alpha[:, None, None] * a[0].double()).sum(dim=0))
        classes.append(k)
        cams.append(cam.float().detach().numpy())
    np.array(classes, "<f4").tofile(os.path.join(out, "classes.f32"))
    np.stack(cams).astype("<f4").tofile(os.path.join(out, "cams.f32"))


if __name__ == "__main__":
    main()
