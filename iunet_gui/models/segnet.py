"""SegNet (Badrinarayanan et al. 2017), from scratch: an encoder whose max-pooling indices
drive the decoder's un-pooling, conv-BN-ReLU blocks throughout. Output: one logit (binary), or
background + `num_classes` defect kinds (softmax) for `num_classes` > 1.

Un-pooling puts each decoder value back at its window's max-pooling index. It is written as
"nearest 2x up-sampling times a one-hot mask of the pooling indices": exactly MaxUnpool2d's
result, but unlike MaxUnpool2d it exports to ONNX with dynamic image sizes."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from iunet_gui.models.blocks import conv_node, output_channels, pad_input


def _max_positions(f: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """1 where max_pool2d(f, 2) took its value from (its `idx`), else 0, at f's size."""
    h, w = f.shape[-2:]
    flat = torch.arange(h * w, device=f.device, dtype=torch.float32).reshape(1, 1, h, w)
    # float32 holds every index of an image up to 16 M pixels exactly
    return (flat == F.interpolate(idx.to(torch.float32), size=(h, w), mode="nearest")).to(f.dtype)


class SegNet(nn.Module):
    def __init__(self, in_channels: int = 3, base: int = 16, depth: int = 5, num_classes: int = 1):
        super().__init__()
        w = [min(base * 2 ** i, base * 8) for i in range(depth)]
        n = [2, 2, 3, 3, 3][:depth] + [3] * max(0, depth - 5)
        self.config = dict(in_channels=in_channels, base=base, depth=depth)
        self.out_channels = output_channels(num_classes, self.config)
        self.multiple = 2 ** depth
        self.enc = nn.ModuleList(conv_node(in_channels if i == 0 else w[i - 1], w[i], False, n[i]) for i in range(depth))
        self.dec = nn.ModuleList()
        for i in range(depth - 1, -1, -1):
            cout = w[i - 1] if i > 0 else w[0]
            self.dec.append(conv_node(w[i], cout, False, n[i]))
        self.head = nn.Conv2d(w[0], self.out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, (h, w) = pad_input(x, self.multiple)
        stack = []  # the input is padded to a multiple of 2**depth, so every pooling halves exactly
        for enc in self.enc:
            f = enc(x)
            x, idx = F.max_pool2d(f, 2, return_indices=True)
            stack.append(_max_positions(f, idx))
        for dec in self.dec:
            where = stack.pop()
            x = dec(F.interpolate(x, size=where.shape[-2:], mode="nearest") * where)
        return self.head(x)[..., :h, :w]
