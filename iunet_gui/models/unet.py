"""U-Net (Ronneberger et al. 2015) with padding and BN, the paper's main baseline. Output: one logit
(binary), or background + `num_classes` defect kinds (softmax) for `num_classes` > 1."""
from __future__ import annotations

import torch
from torch import nn

from iunet_gui.models.blocks import Up, conv_node, output_channels, pad_input


class UNet(nn.Module):
    def __init__(self, in_channels: int = 3, base: int = 16, depth: int = 5, up: str = "transposed",
                 widths: list[int] | None = None, separable: bool = False, num_classes: int = 1):
        super().__init__()
        widths = list(widths) if widths else [base * 2 ** i for i in range(depth)]
        depth = len(widths)
        self.config = dict(in_channels=in_channels, base=widths[0], depth=depth, up=up, widths=widths,
                           separable=separable)
        self.out_channels = output_channels(num_classes, self.config)
        self.multiple = 2 ** (depth - 1)
        self.pool = nn.MaxPool2d(2)
        self.enc = nn.ModuleList(conv_node(in_channels if i == 0 else widths[i - 1], widths[i], separable)
                                 for i in range(depth))
        self.ups = nn.ModuleList()
        self.dec = nn.ModuleList()
        for i in range(depth - 2, -1, -1):
            u = Up(widths[i + 1], widths[i] if up == "transposed" else None, up)
            self.ups.append(u)
            self.dec.append(conv_node(widths[i] + u.out_channels, widths[i], separable))
        self.head = nn.Conv2d(widths[0], self.out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, (h, w) = pad_input(x, self.multiple)
        skips = []
        for i, enc in enumerate(self.enc):
            x = enc(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.ups, self.dec):
            s = skips.pop()
            x = dec(torch.cat([s, up(x, s.shape[-2:])], dim=1))
        return self.head(x)[..., :h, :w]
