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


def test_photometric_varies_colour_down_to_grey_so_colour_alone_does_not_mark_a_defect():
    rng = np.random.default_rng(2)
    rust = np.empty((3, 8, 8), np.float32)
    rust[0], rust[1], rust[2] = 0.8, 0.0, -0.8  # a rust-coloured patch: red above blue
    spreads = []
    for _ in range(300):
        y = photometric(rust, rng, 1.0)
        spreads.append(float(np.median(y[0] - y[2])) / 1.6)  # red-blue spread against the original
    spreads = np.array(spreads)
    assert 0.48 < np.mean(spreads < 0.25) < 0.65  # grey (GREY_SHARE 0.5), up to the lamp colour
    assert np.mean(spreads > 1.2) > 0.05  # more saturated too
    # and about as it was (contrast +-25 %): at GREY_SHARE 0.5 every other crop draws a saturation in [0, 1.5]
    assert np.mean((spreads > 0.74) & (spreads < 1.26)) > 0.1
    kept = [photometric(rust, rng, 1.0, grey_share=0.0) for _ in range(300)]
    assert np.mean([np.median(y[0] - y[2]) / 1.6 < 0.25 for y in kept]) < 0.15  # grey_share 0: only low saturation draws
    grey = rng.normal(size=(1, 8, 8)).astype(np.float32)
    assert photometric(grey, rng, 1.0).shape == (1, 8, 8)  # one channel: no colour to change


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


def test_region_weights_balance_small_and_large_defects():
    from iunet_gui.training.augment import region_weights

    m = np.zeros((120, 120), bool)
    m[5:7, 5:105] = True  # a scratch of 200 px
    m[40:100, 40:100] = True  # a stain of 3600 px
    w = region_weights(m, 0.5)
    assert w.dtype == np.float32 and w.shape == m.shape
    assert np.all(w[~m] == 1.0)  # background keeps weight 1
    assert w[6, 50] == pytest.approx(np.sqrt(400 / 200))  # small region: up-weighted
    assert w[70, 70] == pytest.approx(np.sqrt(400 / 3600))  # large region: down-weighted
    # a region's total weight now grows as sqrt(area): 18x the pixels weigh sqrt(18)x, not 18x
    assert w[40:100, 40:100].sum() / w[5:7, 5:105].sum() == pytest.approx(np.sqrt(3600 / 200), rel=1e-4)
    assert np.all(region_weights(m, 0.0) == 1.0)
    assert np.all(region_weights(np.zeros((4, 4), bool), 0.5) == 1.0)
    tiny = np.zeros((20, 20), bool)
    tiny[3, 3] = True
    assert region_weights(tiny, 0.5)[3, 3] == 4.0  # clipped at hi


def test_weighted_losses_reduce_to_the_plain_ones_with_unit_weights_and_follow_the_weights():
    torch.manual_seed(0)
    z = torch.randn(2, 1, 16, 16)
    y = (torch.rand(2, 1, 16, 16) > 0.8).float()
    ones = torch.ones_like(y)
    for kind in ("bce", "bce_pos", "bce_dice"):
        assert torch.allclose(segmentation_loss(z, y, kind, weight=ones), segmentation_loss(z, y, kind), atol=1e-6)
    # doubling the weight of the defect pixels that are missed raises the loss
    missed = (y > 0) & (z < 0)
    w = torch.where(missed, torch.full_like(y, 2.0), ones)
    assert segmentation_loss(z, y, "bce_dice", weight=w) > segmentation_loss(z, y, "bce_dice")


def test_mixup_mixes_the_loss_weights_with_the_masks():
    rng = np.random.default_rng(5)
    x = np.stack([np.zeros((1, 4, 4)), np.ones((1, 4, 4))]).astype(np.float32)
    w = np.stack([np.full((1, 4, 4), 1.0), np.full((1, 4, 4), 3.0)]).astype(np.float32)
    for _ in range(20):
        xm, ym, lam, wm = mixup(x, x.copy(), rng, alpha=0.4, w=w)
        assert np.allclose(wm, 1.0 + 2.0 * xm)  # weights mixed with the same lambda and pairing
