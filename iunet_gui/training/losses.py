"""Losses: BCE (the paper), BCE with a positive weight, BCE + soft Dice (for small defects).

A multi-class network (K + 1 logits: background, then K defect kinds) is scored by the same three
names: cross-entropy ("bce"), cross-entropy with class weights ("bce_pos": each kind's pixels weigh
its class weight, background 1), and that plus the soft Dice of each kind, averaged over the kinds
("bce_dice"), so that a rare, small kind counts as much as a common, large one. Its targets are the
kinds' shares per pixel (N, K, H, W); the background's is what they leave."""
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
                      mixed: bool = False, weight: torch.Tensor | None = None,
                      class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """`mixed`: the batch holds mix-up soft targets; only the BCE part applies (Dice is not
    linear in the target). `weight`: per-pixel weights (same shape as target), e.g. region_weights.
    Multi-class logits (more than one channel): `multiclass_loss` with `class_weights`."""
    if kind not in LOSSES:
        raise ValueError(f"unknown loss {kind!r}; choose one of {', '.join(LOSSES)}")
    if logits.shape[1] > 1:
        return multiclass_loss(logits, target, kind, class_weights, mixed, weight)
    pw = torch.tensor(pos_weight, device=logits.device) if kind in ("bce_pos", "bce_dice") else None
    bce = F.binary_cross_entropy_with_logits(logits, target, weight=weight, pos_weight=pw)
    if kind == "bce_dice" and not mixed:
        return bce + soft_dice_loss(logits, target, weight=weight)
    return bce


def full_target(target: torch.Tensor) -> torch.Tensor:
    """(N, K + 1, H, W) class shares of a (N, K, H, W) target of the defect kinds: background first."""
    return torch.cat([(1 - target.sum(1, keepdim=True)).clamp(0, 1), target], dim=1)


def multiclass_loss(logits: torch.Tensor, target: torch.Tensor, kind: str = "bce_dice",
                    class_weights: torch.Tensor | None = None, mixed: bool = False,
                    weight: torch.Tensor | None = None) -> torch.Tensor:
    """Soft-target cross-entropy of (N, K + 1, H, W) logits against the kinds' shares `target`
    (N, K, H, W); "bce_pos" and "bce_dice" weigh each class by `class_weights` (K + 1, background
    first; None: all 1), "bce_dice" adds the mean soft Dice of the K kinds over the batch (not on
    mixed batches, as for the binary loss). `weight`: per-pixel weights (N, 1, H, W)."""
    t = full_target(target)
    logp = torch.log_softmax(logits, dim=1)
    if kind in ("bce_pos", "bce_dice") and class_weights is not None:
        t_w = t * class_weights.to(logits.device, logits.dtype).view(1, -1, 1, 1)
    else:
        t_w = t
    ce = -(t_w * logp).sum(1, keepdim=True)
    if weight is not None:
        ce = ce * weight
    loss = ce.mean()
    if kind == "bce_dice" and not mixed:
        p = logp.exp()[:, 1:]
        w = weight if weight is not None else 1.0
        dims = (0, 2, 3)
        inter = (w * p * target).sum(dims)
        dice = 1 - (2 * inter + 1.0) / ((w * p).sum(dims) + (w * target).sum(dims) + 1.0)
        loss = loss + dice.mean()
    return loss


def class_weights_of(shares, pos_weight: float, lo: float = 0.5, hi: float = 4.0) -> list[float]:
    """Class weights (background first) of the kinds' pixel shares in the training set: background 1,
    a kind `pos_weight` x (median share / its share) ** 0.5, the factor clipped to [lo, hi]: a rare
    kind weighs up to `hi` times a common one; a kind without pixels gets the median's weight."""
    import numpy as np

    s = np.asarray(shares, np.float64)
    present = s[s > 0]
    if not len(present):
        return [1.0] + [float(pos_weight)] * len(s)
    med = float(np.median(present))
    factor = np.clip(np.sqrt(med / np.where(s > 0, s, med)), lo, hi)
    return [1.0] + [float(pos_weight * f) for f in factor]
