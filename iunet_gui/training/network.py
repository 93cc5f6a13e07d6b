"""The network a run trains (fresh, resumed or started from a checkpoint's weights), its output
prior, its optimizer and the precision of its steps."""
from __future__ import annotations

import math

from iunet_gui.core.errors import IunetError
from iunet_gui.core.progress import ProgressEvent


def load_init(cfg):
    """The checkpoint `init` names, checked against the run's model and input (None without `init`)."""
    if not cfg.init:
        return None
    from iunet_gui.models.checkpoint import load_checkpoint

    ck = load_checkpoint(cfg.init)
    if ck.arch != cfg.model:
        raise IunetError(f"{cfg.init}: holds a {ck.arch}, not a {cfg.model}: train with --model {ck.arch}")
    if ck.in_channels != cfg.in_channels:
        raise IunetError(f"{cfg.init}: takes {ck.in_channels}-channel input, not {cfg.in_channels}: "
                         f"train with --set in_channels={ck.in_channels}")
    return ck


def build_network(cfg, resumed, init_ck, progress, num_classes: int = 1):
    """(model, model config): the resumed run's raw weights, the `init` checkpoint's network, or a
    fresh one of the preset (started at the output prior when one is set) with `num_classes`
    defect kinds (1: binary)."""
    from iunet_gui.models.registry import build_model, build_preset

    overrides = dict(cfg.model_overrides)
    if num_classes > 1:
        overrides["num_classes"] = num_classes
    model, model_cfg = build_preset(cfg.model, cfg.preset, cfg.in_channels, **overrides)
    init_kinds = int(init_ck.config.get("num_classes", 1)) if init_ck is not None else num_classes
    for what, other in (("resumed run", resumed and resumed.model_cfg),
                        (str(cfg.init), init_kinds not in (1, num_classes) and init_ck.config)):
        if other and int(other.get("num_classes", 1)) != num_classes:
            raise IunetError(f"{what}: its network names {int(other.get('num_classes', 1))} defect kind(s), "
                             f"the training data {num_classes}")
    if resumed is not None:
        return resumed.model, resumed.model_cfg
    if init_ck is not None:
        what = f"starting from the weights of {cfg.init} ({init_ck.arch}"
        init_model, init_cfg = init_ck.model, dict(init_ck.config)
        if init_kinds != num_classes:
            init_cfg["num_classes"] = num_classes
            init_model = build_model(init_ck.arch, **init_cfg)
            split_binary_output(init_ck.model, init_model)
            init_cfg = dict(init_model.config)
            what += f"; its defect output split into {num_classes} kinds, each starting where the binary network stands"
        if dict(model_cfg) != init_cfg:
            what += "; its architecture, not the one the preset and model settings given describe"
        init_scale = float(init_ck.meta.get("input_scale", 1.0))
        if abs(init_scale - cfg.scale) > 1e-9:
            what += f"; it was trained at input scale {init_scale:g}, this run uses {cfg.scale:g}"
        progress(ProgressEvent("notice", message=what + ")"))
        return init_model, init_cfg
    if cfg.prior:
        set_output_prior(model, cfg.prior)
    return model, model_cfg


def set_output_prior(model, prior: float) -> int:
    """Start the output logits at log(prior / (1 - prior)) (Lin et al. 2017, focal loss): with
    defects a fraction of a percent of the pixels, a network that starts at p = 0.5 spends its
    first steps only learning to say "background". Sets the bias of every output convolution
    (each deep-supervision head); a network whose logit is a sum of score maps names the one that
    carries the prior in `prior_heads` (FCN-8s), the others start at 0. A multi-class network's
    heads start at background 1 - prior and each of its K kinds prior / K. Returns how many
    heads were set to the prior."""
    import torch
    from torch import nn

    named = getattr(model, "prior_heads", None)
    out = getattr(model, "out_channels", 1)
    heads = [(n, m) for n, m in model.named_modules()
             if isinstance(m, nn.Conv2d) and m.out_channels == out and m.bias is not None]
    logit = math.log(prior / (1 - prior))
    if out > 1:  # softmax logits of background 1 - prior, each kind prior / K
        k = out - 1
        logit = torch.tensor([math.log(1 - prior)] + [math.log(prior / k)] * k)
    count = 0
    with torch.no_grad():
        for name, h in heads:
            on = named is None or name in named
            h.bias.copy_(torch.as_tensor(logit if on else 0.0, dtype=h.bias.dtype).expand_as(h.bias))
            count += on
    return count


def split_binary_output(binary, model) -> int:
    """Copy a binary network's weights into `model`, the same network with K defect kinds: every
    tensor of equal shape as it is, and each output convolution's one defect logit z into K + 1
    softmax logits (background 0, each kind z - log K; a score map's up-sampling per channel), so
    that the multi-class network's defect probability 1 - p(background) = sigmoid(z) is the binary
    network's at the first step and only the naming of kinds is left to learn. A network whose logit is a sum of score maps (`prior_heads`)
    takes the - log K on those heads alone. Returns how many tensors were split."""
    import torch

    k = model.out_channels - 1
    shifted = getattr(model, "prior_heads", None)
    own, state, split = model.state_dict(), binary.state_dict(), 0
    for name, value in state.items():
        target = own.get(name)
        if target is None:
            raise IunetError(f"the binary network's {name} has no place in the {k}-kind network")
        if target.shape == value.shape:
            own[name] = value.clone()
            continue
        wide = torch.zeros_like(target)
        if value.ndim == 4 and value.shape[:2] == (1, 1) and target.shape[:2] == (k + 1, k + 1):
            for c in range(k + 1):  # a score map's up-sampling: each channel up-sampled on its own
                wide[c, c] = value[0, 0]
        elif value.shape[0] == 1 and target.shape[0] == k + 1 and target.shape[1:] == value.shape[1:]:
            wide[1:] = value
        else:
            raise IunetError(f"the binary network's {name} {tuple(value.shape)} does not split into "
                             f"{tuple(target.shape)}")
        if name.endswith("bias") and (shifted is None or name.split(".")[0] in shifted):
            wide[1:] -= math.log(k)
        own[name], split = wide, split + 1
    model.load_state_dict(own)
    return split


def make_optimizer(model, lr: float, weight_decay: float, state: dict | None = None):
    """Adam (the paper's), or with `weight_decay` > 0 AdamW decaying the convolution weights only
    (BN scales and biases keep their size); `state`: a resumed optimizer's."""
    import torch

    if weight_decay > 0:
        decayed = [p for p in model.parameters() if p.ndim > 1]
        kept = [p for p in model.parameters() if p.ndim <= 1]
        opt = torch.optim.AdamW([{"params": decayed, "weight_decay": weight_decay},
                                 {"params": kept, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.999))
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
    if state:
        opt.load_state_dict(state)
    return opt


class Precision:
    """Autocast of the training steps: float16 with a gradient scaler on CUDA under "auto",
    bfloat16 on any device under "bf16", float32 otherwise. Weights stay float32."""

    def __init__(self, precision: str, device):
        import torch

        self.device_type = device.type
        self.enabled = precision == "bf16" or (precision == "auto" and device.type == "cuda")
        self.dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if self.enabled and self.dtype == torch.float16 else None

    def autocast(self):
        import torch

        return torch.autocast(device_type=self.device_type, dtype=self.dtype, enabled=self.enabled)

    def step(self, loss, opt) -> None:
        """Backward pass and optimizer step."""
        opt.zero_grad(set_to_none=True)
        if self.scaler:
            self.scaler.scale(loss).backward()
            self.scaler.step(opt)
            self.scaler.update()
        else:
            loss.backward()
            opt.step()
