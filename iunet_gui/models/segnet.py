"""SegNet (Badrinarayanan et al. 2017), from scratch: an encoder whose max-pooling indices
drive the decoder's un-pooling (MaxUnpool2d), conv-BN-ReLU blocks throughout."""
from __future__ import annotations

import torch
from torch import nn

from iunet_gui.models.blocks import conv_node, pad_input


class SegNet(nn.Module):
    def __init__(self, in_channels: int = 3, base: int = 16, depth: int = 5):
        super().__init__()
        w = [min(base * 2 ** i, base * 8) for i in range(depth)]
        n = [2, 2, 3, 3, 3][:depth] + [3] * max(0, depth - 5)
        self.config = dict(in_channels=in_channels, base=base, depth=depth)
        self.multiple = 2 ** depth
        self.enc = nn.ModuleList(conv_node(in_channels if i == 0 else w[i - 1], w[i], False, n[i]) for i in range(depth))
        self.dec = nn.ModuleList()
        for i in range(depth - 1, -1, -1):
            cout = w[i - 1] if i > 0 else w[0]
            self.dec.append(conv_node(w[i], cout, False, n[i]))
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2)
        self.head = nn.Conv2d(w[0], 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, (h, w) = pad_input(x, self.multiple)
        stack = []
        for enc in self.enc:
            x = enc(x)
            size = x.shape[-2:]
            x, idx = self.pool(x)
            stack.append((idx, size))
        for dec in self.dec:
            idx, size = stack.pop()
            x = dec(self.unpool(x, idx, output_size=size))
        return self.head(x)[..., :h, :w]
