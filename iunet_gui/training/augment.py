"""Augmentation: flips, 90-degree rotations, brightness/contrast/colour/noise, both polarities of fine
detail, and the paper's mix-up.

Mix-up (Zhang et al. 2018): x = lam x1 + (1 - lam) x2, y = lam y1 + (1 - lam) y2 with
lam ~ Beta(a, a). Under BCE, which is linear in the target, training on the soft mask equals
mixing the two losses; the masks stay in [0, 1]."""
from __future__ import annotations

import numpy as np


def geometric(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator, rotate: bool = True):
    """A random symmetry of the crop, the same for image and mask: with `rotate` one of the eight
    (90-degree rotations and a mirror); without, one of the four that keep vertical lines
    vertical (mirrors left-right and top-bottom), for textures with a direction (the `rotate` setting)."""
    if rotate:
        k = int(rng.integers(4))
        if k:
            img, mask = np.rot90(img, k, axes=(0, 1)), np.rot90(mask, k, axes=(0, 1))
    elif rng.random() < 0.5:
        img, mask = img[::-1], mask[::-1]
    if rng.random() < 0.5:
        img, mask = img[:, ::-1], mask[:, ::-1]
    return np.ascontiguousarray(img), np.ascontiguousarray(mask)


# rotate "auto": images whose gradients are this much stronger across one axis than along it,
# most of them the same way, have a directed texture (measured: magnetic tiles 1.28-2.71, median 2.11;
# washers 0.91-1.09)
DIRECTED_GRADIENT_RATIO = 1.25


def texture_direction(images) -> float:
    """Median over `images` (uint8, HxW or HxWx3) of log(mean |d/dx| / mean |d/dy|): about 0 for
    textures without a direction (or with their directions mixed), > log 1.25 when most images
    are streaked top to bottom (ground or rolled surfaces), < -log 1.25 when left to right."""
    import cv2

    logs = []
    for im in images:
        g = np.asarray(im, np.float32)
        g = g.mean(axis=2) if g.ndim == 3 else g
        gx = float(np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0)).mean())
        gy = float(np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1)).mean())
        if gx > 0 and gy > 0:
            logs.append(np.log(gx / gy))
    return float(np.median(logs)) if logs else 0.0


GREY_SHARE = 0.5  # share of training crops shown without colour (the `grey_share` setting)


def photometric(x: np.ndarray, rng: np.random.Generator, strength: float = 1.0,
                grey_share: float = GREY_SHARE) -> np.ndarray:
    """Brightness, contrast, colour and sensor noise on a normalised float (C, H, W) array.

    Colour (3 channels): `grey_share` of the crops are turned grey, half get a saturation factor in
    [0, 1.5], and these a gain per channel of up to +-8 % (the lamp's colour). Without it a network
    learns "oxidation = rust-coloured": on synthetic washers two 14-minute runs found 99 % of the
    rust-coloured oxidation pixels and 6-8 % of the grey ones, even on their own training images."""
    if strength <= 0:
        return x
    contrast = 1.0 + rng.uniform(-0.25, 0.25) * strength
    bright = rng.uniform(-0.4, 0.4) * strength
    x = x * np.float32(contrast) + np.float32(bright)
    u = rng.random()
    if x.shape[0] == 3 and u < grey_share + 0.5:
        sat = 0.0 if u < grey_share else rng.uniform(0.0, 1.5)  # grey, or saturation jitter
        sat = 1.0 + (sat - 1.0) * min(strength, 1.0)
        luma = np.tensordot(np.array([0.299, 0.587, 0.114], np.float32), x, axes=1)[None]
        gain = 1.0 + rng.uniform(-0.08, 0.08, size=(3, 1, 1)) * strength
        # a gain g on the intensity v = 0.25 x + 0.5 is x -> g x + 2 (g - 1) on the normalised x
        x = (luma + np.float32(sat) * (x - luma)) * gain.astype(np.float32) + (2 * (gain - 1)).astype(np.float32)
    if rng.random() < 0.5:
        x = x + rng.standard_normal(x.shape, dtype=np.float32) * np.float32(rng.uniform(0, 0.08) * strength)
    return x.astype(np.float32, copy=False)


POLARITY_SHARE = 0.5  # share of training crops whose fine detail is shown inverted (the `polarity` setting)
POLARITY_SIGMA = 3.0  # px at the input scale: detail finer than this is inverted, shading kept


def polarity(x: np.ndarray, rng: np.random.Generator, share: float = POLARITY_SHARE,
             sigma: float = POLARITY_SIGMA, where: np.ndarray | None = None) -> np.ndarray:
    """With probability `share`, the brightness detail of a normalised float (C, H, W) crop mirrored
    about its local mean: each channel gets 2 (blur(luma) - luma) added, so a bright thin line turns
    into a dark one of the same contrast and back, while the shading (lit metal, dark table) and the
    colour stay. A scratch is then learnt by its shape, not by whether it is darker or brighter than
    the metal: without it the washers' training data shows dark defects of every kind but bright
    ones only as scratches, beside unlabelled bright thin lines (the rims' highlights).
    `where` (the crop's target, (H, W) or (H, W, K)): invert only on and just around the labelled
    defects (defect_weight), so a dark scratch is also shown bright and a bright one dark while the
    unlabelled metal, its highlights and machining lines, keeps its own polarity."""
    if share <= 0 or rng.random() >= share:
        return x
    import cv2

    weight = None if where is None else defect_weight(where, x.shape[1:])
    if weight is not None and not weight.any():
        return x
    luma = x[0] if x.shape[0] != 3 else np.tensordot(np.array([0.299, 0.587, 0.114], np.float32), x, axes=1)
    luma = np.ascontiguousarray(luma, np.float32)
    detail = luma - cv2.GaussianBlur(luma, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    if weight is not None:
        detail *= weight
    return (x - 2 * detail[None]).astype(np.float32, copy=False)


def defect_weight(target: np.ndarray, shape: tuple[int, int], margin: int = 2) -> np.ndarray:
    """float32 (H, W) weight in [0, 1] of the crop of size `shape`: 1 on the defects of `target` and
    `margin` px around them, fading out over about a pixel beyond, 0 elsewhere."""
    import cv2

    m = target.max(axis=-1) if target.ndim == 3 else target
    m = (np.asarray(m, np.float32) > 0.5).astype(np.uint8)
    if m.shape != tuple(shape):
        m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    if not m.any():
        return np.zeros(shape, np.float32)
    m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1)))
    return np.clip(cv2.GaussianBlur(m.astype(np.float32), (0, 0), 1.0) * 1.5, 0, 1)


def mixup(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, alpha: float = 0.4, w: np.ndarray | None = None):
    """Mix a batch (N, C, H, W) with a shuffled copy of itself; returns (x, y, lam), or
    (x, y, lam, w) when per-pixel loss weights `w` are given (mixed the same way)."""
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(len(x))
    xm = lam * x + (1 - lam) * x[perm]
    ym = lam * y + (1 - lam) * y[perm]
    out = xm.astype(np.float32), np.clip(ym, 0.0, 1.0).astype(np.float32), lam
    if w is None:
        return out
    return (*out, (lam * w + (1 - lam) * w[perm]).astype(np.float32))


def region_weights(mask: np.ndarray, gamma: float, ref_area: float = 400.0, lo: float = 0.25,
                   hi: float = 4.0) -> np.ndarray:
    """Per-pixel loss weights that balance defects of different sizes: background 1, a pixel of a
    defect region of area A gets (ref_area / A) ** gamma, clipped to [lo, hi]. With gamma 0.5 a
    region's total weight grows as sqrt(A) instead of A, so a 2-pixel-wide scratch or a pit is
    not drowned by a large stain in the same batch. gamma 0: all ones."""
    w = np.ones(mask.shape, np.float32)
    if gamma <= 0 or not mask.any():
        return w
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    per = np.ones(n, np.float32)
    per[1:] = np.clip((ref_area / np.maximum(stats[1:, cv2.CC_STAT_AREA], 1)) ** gamma, lo, hi)
    return per[labels]
