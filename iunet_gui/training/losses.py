"""Losses: BCE (the paper), BCE with a positive weight, BCE + soft Dice (for small defects)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("bce", "bce_pos", "bce_dice")


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0, per_sample: bool = False,
                   weight: torch.Tensor | None = None) -> torch.Tensor:
    """Soft Dice over the whole batch (default). Per sample, a crop without defects saturates at
    1 - 1/(sum p + 1) once it has false positives, so its gradient vanishes and false positives
    on the background go unpunished; pooled over the batch they keep a gradient."""
    p = torch.sigmoid(logits)
    dims = tuple(range(1, p.ndim)) if per_sample else tuple(range(p.ndim))
    w = weight if weight is not None else 1.0  # per-pixel weights (region balance): a weighted overlap
    inter = (w * p * target).sum(dims)
    return (1 - (2 * inter + eps) / ((w * p).sum(dims) + (w * target).sum(dims) + eps)).mean()


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, kind: str = "bce_dice", pos_weight: float = 5.0,
                      mixed: bool = False, weight: torch.Tensor | None = None) -> torch.Tensor:
    """`mixed`: the batch holds mix-up soft targets; only the BCE part applies (Dice is not
    linear in the target). `weight`: per-pixel weights (same shape as target), e.g. region_weights."""
    if kind not in LOSSES:
        raise ValueError(f"unknown loss {kind!r}; choose one of {', '.join(LOSSES)}")
    pw = torch.tensor(pos_weight, device=logits.device) if kind in ("bce_pos", "bce_dice") else None
    bce = F.binary_cross_entropy_with_logits(logits, target, weight=weight, pos_weight=pw)
    if kind == "bce_dice" and not mixed:
        return bce + soft_dice_loss(logits, target, weight=weight)
    return bce
