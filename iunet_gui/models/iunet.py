"""IU-Net: a lightweight improved U-Net with shallow-feature combination (paper section 1.2).

Nodes X(i, j), i = depth level, j = node on the skip path (eq. 6):
    x(i, 0) = H(pool(x(i-1, 0)))                                   (encoder; H(input) for i = 0)
    x(i, j) = H([x(i, 0), ..., x(i, j-1), U(x(i+1, j-1))])         (nested skip path, j > 0)
H is a node of two 3x3 convolutions, each depth-wise separable (depthwise 3x3 -> BN -> ReLU
-> pointwise 1x1 -> BN -> ReLU). The output is a 1-channel logit from x(0, depth-1) (`num_classes` 1,
binary), or K + 1 logits of a softmax (background first, then the K defect kinds) for `num_classes` K > 1.

`separable` chooses between the two readings of the paper's parameter count:
    "all"    - every 3x3 convolution is depth-wise separable (reading a);
    "nested" - the encoder nodes x(i, 0) keep standard convolutions, every node on the
               skip path (j > 0) is separable (reading b).
With `deep_supervision`, every x(0, j) (j >= 1) gets its own 1x1 head; at inference
`prune` = k uses the head of x(0, k) and skips the nodes it does not need.
`dropout` p > 0: while training, whole channels of every skip-path node's input (the concatenation)
are zeroed with probability p (spatial dropout, nn.Dropout2d) against over-fitting a small training
set; no parameters, no effect at inference.
"""
from __future__ import annotations

import torch
from torch import nn

from iunet_gui.models.blocks import Up, conv_node, output_channels, pad_input


class IUNet(nn.Module):
    def __init__(self, in_channels: int = 3, base: int = 16, depth: int = 4, up: str = "bilinear",
                 separable: str = "all", deep_supervision: bool = False, widths: list[int] | None = None,
                 prune: int | None = None, dropout: float = 0.0, num_classes: int = 1):
        super().__init__()
        if separable not in ("all", "nested"):
            raise ValueError("separable must be 'all' or 'nested'")
        if not 0 <= dropout < 1:
            raise ValueError("dropout must be in [0, 1)")
        widths = list(widths) if widths else [base * 2 ** i for i in range(depth)]
        depth = len(widths)
        if depth < 2:
            raise ValueError("IU-Net needs a depth of at least 2")
        self.config = dict(in_channels=in_channels, base=widths[0], depth=depth, up=up, separable=separable,
                           deep_supervision=deep_supervision, widths=widths, prune=prune)
        if dropout:  # only then: configs (and checkpoints) of networks without it stay as they were
            self.config["dropout"] = dropout
        self.out_channels = output_channels(num_classes, self.config)
        self.depth, self.widths, self.deep_supervision = depth, widths, deep_supervision
        self.prune = prune
        self.multiple = 2 ** (depth - 1)
        self.pool = nn.MaxPool2d(2)
        self.drop = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.nodes = nn.ModuleDict()
        self.ups = nn.ModuleDict()
        for i in range(depth):
            for j in range(depth - i):
                if j == 0:
                    cin = in_channels if i == 0 else widths[i - 1]
                    sep = separable == "all"
                else:
                    u = Up(widths[i + 1], widths[i] if up == "transposed" else None, up)
                    self.ups[f"{i}_{j}"] = u
                    cin = j * widths[i] + u.out_channels
                    sep = True
                self.nodes[f"{i}_{j}"] = conv_node(cin, widths[i], separable=sep)
        heads = range(1, depth) if deep_supervision else [depth - 1]
        self.heads = nn.ModuleDict({str(j): nn.Conv2d(widths[0], self.out_channels, 1) for j in heads})

    def _forward_nodes(self, x: torch.Tensor, last_j: int) -> dict:
        """Compute the nodes needed for x(0, 0..last_j); returns them by (i, j)."""
        out: dict = {}
        for i in range(self.depth):
            out[(i, 0)] = self.nodes[f"{i}_0"](x if i == 0 else self.pool(out[(i - 1, 0)]))
        for j in range(1, last_j + 1):
            for i in range(self.depth - j):
                if not self._needed(i, j, last_j):
                    continue
                skip = [out[(i, k)] for k in range(j)]
                below = out[(i + 1, j - 1)]
                up = self.ups[f"{i}_{j}"](below, skip[0].shape[-2:])
                out[(i, j)] = self.nodes[f"{i}_{j}"](self.drop(torch.cat(skip + [up], dim=1)))
        return out

    @staticmethod
    def _needed(i: int, j: int, last_j: int) -> bool:
        """x(i, j) feeds x(0, last_j) iff i + j <= last_j."""
        return i + j <= last_j

    def deep_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Logits of every head (x(0, 1) ... x(0, depth-1) with deep supervision), full size."""
        x, (h, w) = pad_input(x, self.multiple)
        feats = self._forward_nodes(x, self.depth - 1)
        return [self.heads[k](feats[(0, int(k))])[..., :h, :w] for k in self.heads]

    all_heads = False  # set by the trainer: forward() then returns deep_outputs() while training

    def forward(self, x: torch.Tensor):
        if self.training and self.deep_supervision and self.all_heads:
            return self.deep_outputs(x)
        x, (h, w) = pad_input(x, self.multiple)
        last = self.depth - 1
        if self.deep_supervision and self.prune and not self.training:
            last = int(self.prune)
        feats = self._forward_nodes(x, last)
        return self.heads[str(last)](feats[(0, last)])[..., :h, :w]
