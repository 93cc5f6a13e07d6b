"""Network registry: name -> builder, named presets, and cheap figures (parameters, GFLOP).

A checkpoint stores (name, config); `build_model(name, **config)` rebuilds the network.
"""
from __future__ import annotations

from collections.abc import Callable

from torch import nn

from iunet_gui.models.fcn8s import FCN8s
from iunet_gui.models.iunet import IUNet
from iunet_gui.models.segnet import SegNet
from iunet_gui.models.unet import UNet

MODELS: dict[str, Callable[..., nn.Module]] = {"iunet": IUNet, "unet": UNet, "fcn8s": FCN8s, "segnet": SegNet}

DESCRIPTIONS = {
    "iunet": "IU-Net: nested skip path, depth-wise separable convolutions (the paper's network)",
    "unet": "U-Net with padding and BN (the paper's main baseline)",
    "fcn8s": "FCN-8s, VGG-like encoder from scratch",
    "segnet": "SegNet with max-pooling indices",
}

# "default": what the app trains, small for CPUs: three levels, the x(0,2) head (a training step costs
# 1.6x less than at four levels; docs/benchmarks.md, "What the defaults rest on"). The shipped
# checkpoint is this network at four levels (`--model-config depth=4`).
# "fast": four levels read through the x(0,2) head, skipping the nodes that only feed x(0,3)
# (0.7x the inference time of four levels).
# "accurate": four levels at twice the width (base 16, 332,819 parameters), for machines with time
# or a GPU; the tiles recipe's network.
# "paper": as close to the paper's parameter counts as its description allows (docs/benchmarks.md).
PRESETS: dict[str, dict[str, dict]] = {
    "iunet": {
        "default": dict(base=8, depth=3, up="nearest", separable="nested", deep_supervision=True),
        "fast": dict(base=8, depth=4, up="nearest", separable="nested", deep_supervision=True, prune=2),
        "accurate": dict(base=16, depth=4, up="nearest", separable="nested", deep_supervision=True),
        "all-separable": dict(base=8, depth=4, up="nearest", separable="all", deep_supervision=True, prune=2),
        "wide": dict(base=16, depth=4, up="bilinear", separable="all"),
        "paper": dict(base=23, depth=5, up="transposed", separable="nested"),
        "paper-a": dict(widths=[54, 108, 216, 432, 864], up="bilinear", separable="all"),
    },
    "unet": {
        "default": dict(base=8, depth=4, up="nearest"),
        "wide": dict(base=16, depth=4, up="bilinear"),
        "paper": dict(base=23, depth=5, up="transposed"),
    },
    "fcn8s": {"default": dict(base=8), "paper": dict(base=32)},
    "segnet": {"default": dict(base=8, depth=4), "paper": dict(base=32, depth=5)},
}


def list_models() -> list[str]:
    return list(MODELS)


def build_model(name: str, **config) -> nn.Module:
    """Build a registered network; unknown names or options raise ValueError with the choices."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    try:
        return MODELS[name](**config)
    except TypeError as exc:
        raise ValueError(f"bad configuration for {name}: {exc}") from None


def preset_config(name: str, preset: str = "default", in_channels: int = 3, **overrides) -> dict:
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if preset not in PRESETS[name]:
        raise ValueError(f"unknown preset {preset!r} for {name}; choose one of {', '.join(PRESETS[name])}")
    return {**PRESETS[name][preset], "in_channels": in_channels, **overrides}


def build_preset(name: str, preset: str = "default", in_channels: int = 3, **overrides):
    """(model, config) of a named preset; the model's own `.config` is the full config."""
    model = build_model(name, **preset_config(name, preset, in_channels, **overrides))
    return model, dict(model.config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _probe_input(model: nn.Module, height: int, width: int, in_channels: int | None, scale: int):
    """(channels, h, w) of the 1/scale input the counters run on, a multiple of the net's own."""
    c = in_channels or model.config.get("in_channels", 3)
    mult = getattr(model, "multiple", 1)
    return c, max(mult, (height // scale) // mult * mult), max(mult, (width // scale) // mult * mult)


def gflop(model: nn.Module, height: int = 1024, width: int = 1280, in_channels: int | None = None,
          scale: int = 4) -> float:
    """GFLOP (2 x multiply-adds of conv/linear layers) of one HxW image, counted on a 1/scale
    input and scaled up (exact for fully convolutional nets up to border effects)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    c, h, w = _probe_input(model, height, width, in_channels, scale)
    was = model.training
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(torch.zeros(1, c, h, w))
    model.train(was)
    return fc.get_total_flops() * (height * width) / (h * w) / 1e9


def conv_output_gb(model: nn.Module, height: int = 1024, width: int = 1280, in_channels: int | None = None,
                   scale: int = 4) -> float:
    """GB (fp32) that the convolutions of `model` write for one HxW image, BN folded: a measure
    of memory traffic, which bounds small networks on a CPU. Counted like `gflop`."""
    import torch

    from iunet_gui.models.blocks import fuse_conv_bn

    c, h, w = _probe_input(model, height, width, in_channels, scale)
    fused = fuse_conv_bn(model).eval()
    total = [0]

    def hook(_mod, _inp, out):
        total[0] += out.numel() * 4

    handles = [m.register_forward_hook(hook) for m in fused.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.no_grad():
            fused(torch.zeros(1, c, h, w))
    finally:
        for hd in handles:
            hd.remove()
    return total[0] * (height * width) / (h * w) / 1e9
