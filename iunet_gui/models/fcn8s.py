"""FCN-8s (Long et al. 2015), built from scratch: a VGG-like encoder of five pooled stages,
score layers at 1/8, 1/16 and 1/32, fused by 2x up-sampling and summing, 8x up to full size. One score
per pixel (binary), or background + `num_classes` defect kinds (softmax) for `num_classes` > 1."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from iunet_gui.models.blocks import conv_node, output_channels, pad_input


class FCN8s(nn.Module):
    prior_heads = ("score8",)  # the logit is score8 + up-sampled coarser scores: the prior goes on score8

    def __init__(self, in_channels: int = 3, base: int = 16, fc_width: int | None = None, num_classes: int = 1):
        super().__init__()
        w = [base, base * 2, base * 4, base * 8, base * 8]
        fc = fc_width or base * 16
        self.config = dict(in_channels=in_channels, base=base, fc_width=fc)
        n = self.out_channels = output_channels(num_classes, self.config)
        self.multiple = 32
        convs = [2, 2, 3, 3, 3]
        self.stages = nn.ModuleList(
            nn.Sequential(conv_node(in_channels if i == 0 else w[i - 1], w[i], separable=False, n=convs[i]),
                          nn.MaxPool2d(2)) for i in range(5))
        self.fc = nn.Sequential(nn.Conv2d(w[4], fc, 7, padding=3), nn.ReLU(inplace=True), nn.Dropout2d(0.2),
                                nn.Conv2d(fc, fc, 1), nn.ReLU(inplace=True), nn.Dropout2d(0.2))
        self.score32 = nn.Conv2d(fc, n, 1)
        self.score16 = nn.Conv2d(w[3], n, 1)
        self.score8 = nn.Conv2d(w[2], n, 1)
        self.up2a = nn.ConvTranspose2d(n, n, 4, stride=2, padding=1, bias=False)
        self.up2b = nn.ConvTranspose2d(n, n, 4, stride=2, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, (h, w) = pad_input(x, self.multiple)
        size = x.shape[-2:]
        feats = []
        for s in self.stages:
            x = s(x)
            feats.append(x)
        s32 = self.score32(self.fc(feats[4]))
        s16 = self.score16(feats[3]) + self.up2a(s32)
        s8 = self.score8(feats[2]) + self.up2b(s16)
        return F.interpolate(s8, size=size, mode="bilinear", align_corners=False)[..., :h, :w]
