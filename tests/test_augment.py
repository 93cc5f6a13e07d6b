"""Augmentation and losses: photometric changes, mix-up statistics, batch Dice gradients."""
import numpy as np
import pytest
import torch

from iunet_gui.training.augment import mixup, photometric
from iunet_gui.training.losses import segmentation_loss, soft_dice_loss


def test_photometric_changes_values_but_not_shape_and_zero_strength_is_identity():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 16, 16)).astype(np.float32)
    assert photometric(x, rng, 0.0) is x
    y = photometric(x, rng, 1.0)
    assert y.shape == x.shape and y.dtype == np.float32 and not np.allclose(x, y)


def test_mixup_blends_images_and_masks_with_the_same_lambda():
    rng = np.random.default_rng(3)
    x = np.stack([np.zeros((1, 4, 4)), np.ones((1, 4, 4))]).astype(np.float32)
    y = np.stack([np.zeros((1, 4, 4)), np.ones((1, 4, 4))]).astype(np.float32)
    lams = []
    for _ in range(200):
        xm, ym, lam = mixup(x, y, rng, alpha=0.4)
        assert np.allclose(xm, ym)  # image k and mask k were mixed alike
        assert 0.0 <= ym.min() and ym.max() <= 1.0
        lams.append(lam)
    lams = np.array(lams)
    assert abs(lams.mean() - 0.5) < 0.08 and (np.mean((lams < 0.1) | (lams > 0.9)) > 0.3)  # Beta(0.4, 0.4): U-shaped


def test_bce_with_soft_targets_equals_mixing_the_losses():
    z = torch.randn(1, 1, 8, 8)
    y1, y2 = (torch.rand(1, 1, 8, 8) > 0.5).float(), (torch.rand(1, 1, 8, 8) > 0.5).float()
    lam = 0.3
    mixed = segmentation_loss(z, lam * y1 + (1 - lam) * y2, "bce", mixed=True)
    separate = lam * segmentation_loss(z, y1, "bce") + (1 - lam) * segmentation_loss(z, y2, "bce")
    assert torch.allclose(mixed, separate, atol=1e-6)


def test_batch_dice_still_punishes_false_positives_on_a_defect_free_crop():
    target = torch.zeros(2, 1, 16, 16)
    target[0, 0, 4:8, 4:8] = 1  # crop 0 holds a defect, crop 1 none
    logits = torch.full((2, 1, 16, 16), -6.0)
    logits[0, 0, 4:8, 4:8] = 6.0
    logits[1] = 4.0  # crop 1: false positives everywhere
    grads = {}
    for per_sample in (True, False):
        z = logits.clone().requires_grad_(True)
        soft_dice_loss(z, target, per_sample=per_sample).backward()
        grads[per_sample] = z.grad[1].mean().item()
    assert grads[False] > 10 * grads[True] > 0  # pooled Dice pushes the false positives down much harder


def test_positive_weight_raises_the_cost_of_missed_defects():
    z = torch.full((1, 1, 4, 4), -2.0)
    y = torch.ones(1, 1, 4, 4)
    assert segmentation_loss(z, y, "bce_pos", pos_weight=4.0) == pytest.approx(4 * segmentation_loss(z, y, "bce").item(), rel=1e-5)
