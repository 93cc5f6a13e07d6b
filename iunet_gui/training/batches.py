"""Training batches as the network sees them (crops, augmentation, region weights, mix-up) and
the loss of one batch over every head of the network."""
from __future__ import annotations

import numpy as np

from iunet_gui.training.config import TrainConfig


class Batches:
    """Draws augmented training crops from `sampler` with the generator `rng` (both seeded per
    process); `rotate`: 90-degree rotations among the crops' symmetries."""

    def __init__(self, cfg: TrainConfig, sampler, rng: np.random.Generator, rotate: bool):
        self.cfg, self.sampler, self.rng, self.rotate = cfg, sampler, rng, rotate

    def crop(self, sampler=None, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """(normalised, augmented image (C, H, W), its target) of one crop."""
        from iunet_gui.inference.preprocess import prepare_input
        from iunet_gui.training import augment

        rng = rng if rng is not None else self.rng
        img, m = (sampler or self.sampler).sample()
        img, m = augment.geometric(img, m, rng, self.rotate)
        x = augment.polarity(prepare_input(img, self.cfg.in_channels), rng, self.cfg.polarity)
        x = augment.polarity(x, rng, self.cfg.defect_polarity, where=m)
        return augment.photometric(x, rng, self.cfg.photometric, self.cfg.grey_share), m

    def inputs(self, sampler, rng, count: int) -> np.ndarray:
        """`count` augmented crops stacked (N, C, H, W), without targets or mix-up (BN statistics)."""
        return np.stack([self.crop(sampler, rng)[0] for _ in range(count)])

    def next(self):
        """(x, y, mixed, region weights or None) of one training batch, as torch tensors."""
        import torch

        from iunet_gui.training import augment

        cfg = self.cfg
        xs, ys, ws = [], [], []
        for _ in range(cfg.batch_size):
            x1, m = self.crop()
            xs.append(x1)
            ys.append((m[None] if m.ndim == 2 else np.moveaxis(m, -1, 0)).astype(np.float32))  # (K, H, W) of kinds
            if cfg.region_weight:
                ws.append(region_weights_at(m if m.ndim == 2 else m.sum(-1), int(cfg.fine_loss), cfg.region_weight)[None])
        x, y = np.stack(xs), np.stack(ys)
        w = np.stack(ws) if ws else None
        mixed = cfg.batch_size > 1 and cfg.mixup > 0 and self.rng.random() < cfg.mixup
        if mixed:
            if w is None:
                x, y, _ = augment.mixup(x, y, self.rng, cfg.mixup_alpha)
            else:
                x, y, _, w = augment.mixup(x, y, self.rng, cfg.mixup_alpha, w=w)
        return torch.from_numpy(x), torch.from_numpy(y), mixed, (torch.from_numpy(w) if w is not None else None)


def region_weights_at(m: np.ndarray, fine: int, gamma: float) -> np.ndarray:
    """region_weights of a crop's target, computed on the input's pixels (a region's area in input
    pixels) and repeated onto a target `fine` times finer."""
    from iunet_gui.training.augment import region_weights

    if fine == 1:
        return region_weights(m, gamma)
    h, w = m.shape[0] // fine, m.shape[1] // fine
    coarse = m.reshape(h, fine, w, fine).max(axis=(1, 3))
    return np.repeat(np.repeat(region_weights(coarse, gamma), fine, axis=0), fine, axis=1)


def batch_loss(outs, y, mixed: bool, wmap, cfg: TrainConfig, class_weights=None):
    """The mean loss over every head's logits (`outs`, the predicting head last). With fine_loss > 1
    the predicting head's logits are up-sampled as prediction does and scored against the finer
    target; the other heads against that target pooled to the input scale. `class_weights`: a
    multi-class network's (losses.multiclass_loss)."""
    import torch.nn.functional as F

    from iunet_gui.training import losses

    fine = int(cfg.fine_loss)

    def loss(o, target, weights):
        return losses.segmentation_loss(o.float(), target, cfg.loss, cfg.pos_weight, mixed, weights, class_weights)

    if fine == 1:
        return sum(loss(o, y, wmap) for o in outs) / len(outs)
    total = loss(F.interpolate(outs[-1].float(), scale_factor=fine, mode="bilinear", align_corners=False), y, wmap)
    if len(outs) > 1:
        y0 = F.avg_pool2d(y, fine)
        w0 = F.avg_pool2d(wmap, fine) if wmap is not None else None
        total = total + sum(loss(o, y0, w0) for o in outs[:-1])
    return total / len(outs)
