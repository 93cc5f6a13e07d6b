"""Building blocks shared by the networks."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvBNReLU(nn.Sequential):
    """3x3 (or k x k) convolution -> BN -> ReLU; padding keeps the size."""

    def __init__(self, cin: int, cout: int, k: int = 3):
        super().__init__(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SeparableConvBNReLU(nn.Sequential):
    """Depth-wise separable 3x3 convolution as in the IU-Net paper (Fig. 3):
    depthwise 3x3 -> BN -> ReLU -> pointwise 1x1 -> BN -> ReLU; padding keeps the size."""

    def __init__(self, cin: int, cout: int):
        super().__init__(
            nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )


def conv_node(cin: int, cout: int, separable: bool, n: int = 2) -> nn.Sequential:
    """A node H(.): `n` 3x3 convolutions (separable or standard), each with BN + ReLU."""
    block = SeparableConvBNReLU if separable else ConvBNReLU
    return nn.Sequential(*[block(cin if i == 0 else cout, cout) for i in range(n)])


class Up(nn.Module):
    """2x up-sampling: "bilinear", "nearest" (parameter free) or "transposed" (2x2 up-conv to cout)."""

    def __init__(self, cin: int, cout: int | None, mode: str):
        super().__init__()
        self.mode = mode
        if mode == "transposed":
            self.conv = nn.ConvTranspose2d(cin, cout or cin, 2, stride=2)
            self.out_channels = cout or cin
        elif mode in ("bilinear", "nearest"):
            self.out_channels = cin
        else:
            raise ValueError(f"unknown up-sampling mode {mode!r} (bilinear, nearest, transposed)")

    def forward(self, x: torch.Tensor, size) -> torch.Tensor:
        if self.mode == "transposed":
            x = self.conv(x)
            if x.shape[-2:] != size:
                x = F.interpolate(x, size=size, mode="nearest")
            return x
        if self.mode == "nearest":
            return F.interpolate(x, size=size, mode="nearest")
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def pad_input(x: torch.Tensor, multiple: int):
    """(x padded at the bottom and right by edge replication to a multiple of `multiple` in H and W,
    its own (h, w) to crop the output back to). Every network pads its input here, so each runs on
    any size, in torch and as an exported ONNX graph: while exporting, the pad is recorded even for
    a size that needs none, and the graph then pads every size it is given."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw or torch.onnx.is_in_onnx_export():
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)


def fuse_conv_bn(model: nn.Module) -> nn.Module:
    """A copy of `model` in eval mode with every Conv2d directly followed by a BatchNorm2d inside an
    nn.Sequential folded into one Conv2d (torch's fuse_conv_bn_eval): the same outputs, one pass less."""
    import copy

    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model = copy.deepcopy(model).eval()
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in zip(names, names[1:]):
                conv, bn = module._modules[a], module._modules[b]
                if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                    module._modules[a] = fuse_conv_bn_eval(conv, bn)
                    module._modules[b] = nn.Identity()
    return model


def output_channels(num_classes: int, config: dict) -> int:
    """Output channels of a network of `num_classes` defect kinds: 1 logit for one kind (binary,
    sigmoid), else background + one per kind (softmax). A multi-class network records
    `num_classes` in its `config`; a binary one's config stays without it."""
    num_classes = int(num_classes)
    if num_classes < 1:
        raise ValueError("num_classes must be >= 1")
    if num_classes == 1:
        return 1
    config["num_classes"] = num_classes
    return num_classes + 1
