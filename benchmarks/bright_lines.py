"""What the washers' training pipeline shows of bright and dark thin defects, measured on synthetic
washers (core.synth, as `iunet-gui synth` draws them; no network is trained or run):

1. the labelled defects by kind and polarity (plainly visible bright / dark, faint; core.detection);
2. what the input scale does to the visible scratches: their contrast with the band around them at
   full size and at the input scale (area averaging, as training and prediction shrink an image),
   and the soft training target they leave (the share of defect of each network pixel);
3. the share of training crops (training.data.CropSampler, the default crop size and focus) that hold
   a plainly visible bright scratch, a dark one, any defect;
4. what the colour / brightness augmentation (training.augment.photometric) does to a bright line's
   contrast: the smallest and median factor over many draws (negative: the line turned dark);
5. unlabelled bright thin lines: the share of each washer's ring (away from its defects) that is a
   bright ridge as strong as a plainly visible scratch (a thin line at least 20 grey levels above the
   pixels 3 px to either side), and the share that is such a dark valley.

    python benchmarks/bright_lines.py [--images 20] [--seed 7] [--scale 0.3] [--crops 3000]
"""
from __future__ import annotations

import argparse

import cv2
import numpy as np

from iunet_gui.core.detection import VISIBLE_CONTRAST, find_defects


def washers(count: int, seed: int):
    """(image, [(kind, mask, contrast)] one per connected labelled region, ring mask) of `count` washers."""
    from iunet_gui.core.synth import render_washer

    for ss in np.random.SeedSequence(seed).spawn(count):
        s = render_washer(np.random.default_rng(ss))
        regions = []
        for kind, m in s.defect_masks:
            n, labels = cv2.connectedComponents(m.astype(np.uint8), connectivity=8)
            for i in range(1, n):
                comp = labels == i
                found, _ = find_defects(np.zeros_like(comp), [(kind, comp)], s.image)
                if found and found[0].contrast is not None:
                    regions.append((kind, comp, found[0].contrast))
        cx, cy, r_out, r_in = s.washer
        yy, xx = np.mgrid[0:s.image.shape[0], 0:s.image.shape[1]]
        rho = np.hypot(xx - cx, yy - cy)
        yield s.image, regions, (rho < r_out - 2) & (rho > r_in + 2)


def polarity(contrast: float) -> str:
    if abs(contrast) < VISIBLE_CONTRAST:
        return "faint"
    return "bright" if contrast > 0 else "dark"


def ridges(grey: np.ndarray, offset: int = 3, level: float = VISIBLE_CONTRAST) -> tuple[np.ndarray, np.ndarray]:
    """(bright ridge, dark valley) pixels: at least `level` above (below) both pixels `offset` away on
    either side, along x or along y."""
    g = cv2.GaussianBlur(grey, (0, 0), 0.7)
    k = 2 * offset + 1
    bright = np.zeros(g.shape, bool)
    dark = np.zeros(g.shape, bool)
    for kx, ky in ((k, 1), (1, k)):
        left = np.zeros((ky, kx), np.float32)
        right = np.zeros((ky, kx), np.float32)
        left.flat[0], right.flat[-1] = 1.0, 1.0
        a, b = cv2.filter2D(g, -1, left), cv2.filter2D(g, -1, right)
        bright |= (g - np.maximum(a, b)) >= level
        dark |= (np.minimum(a, b) - g) >= level
    return bright, dark


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", type=float, default=None, help="input scale (default: the training default)")
    ap.add_argument("--crops", type=int, default=3000)
    args = ap.parse_args()

    from iunet_gui.core.detection import grey_levels
    from iunet_gui.inference.preprocess import prepare_input, rescale_image, rescale_mask
    from iunet_gui.training.augment import photometric
    from iunet_gui.training.config import TrainConfig
    from iunet_gui.training.data import CropSampler, Item

    cfg = TrainConfig(data="")
    scale = args.scale or cfg.scale
    tally: dict[tuple[str, str], int] = {}
    at_scale: dict[str, list] = {"bright": [], "dark": []}
    items = []
    ridge_share = []
    for image, regions, ring in washers(args.images, args.seed):
        small = rescale_image(image, scale)
        maps = np.zeros(small.shape[:2] + (3,), np.uint8)  # bright scratch, dark scratch, any defect
        full = np.zeros(image.shape[:2], bool)
        for kind, comp, c in regions:
            tally[kind, polarity(c)] = tally.get((kind, polarity(c)), 0) + 1
            full |= comp
            soft = rescale_mask(comp, scale)
            maps[:, :, 2] = np.maximum(maps[:, :, 2], np.round(soft * 255).astype(np.uint8))
            if kind == "scratch" and polarity(c) != "faint":
                pol = polarity(c)
                maps[:, :, 0 if pol == "bright" else 1] |= (soft >= 0.25).astype(np.uint8) * 255
                found, _ = find_defects(np.zeros(small.shape[:2], bool), [(kind, soft >= 0.25)], small)
                small_c = [d.contrast for d in found if d.contrast is not None]
                at_scale[pol].append((abs(c), max((abs(x) for x in small_c), default=0.0), float(soft.max()),
                                      float((soft >= 0.5).sum() / max(comp.sum() * scale * scale, 1))))
        bright, dark = ridges(grey_levels(image))
        away = ring & ~cv2.dilate(full.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        ridge_share.append((bright[away].mean(), dark[away].mean()))
        items.append(Item("w", maps, rescale_mask(full, scale)))

    print(f"{args.images} synthetic washers (seed {args.seed}); input scale {scale:g}, crop {cfg.crop}, focus {cfg.focus}")
    print("1. labelled regions by kind: plainly visible bright / dark, faint")
    for kind in sorted({k for k, _ in tally}):
        print(f"   {kind:<11} bright {tally.get((kind, 'bright'), 0):>3}  dark {tally.get((kind, 'dark'), 0):>3}  "
              f"faint {tally.get((kind, 'faint'), 0):>3}")
    print(f"2. visible scratches at input scale {scale:g} (medians): |contrast| full size -> at scale; peak soft "
          f"target; share of the line's network pixels with a target >= 0.5")
    for pol, rows in at_scale.items():
        if rows:
            a = np.array(rows)
            print(f"   {pol:<6} {len(rows):>3}: {np.median(a[:, 0]):5.1f} -> {np.median(a[:, 1]):5.1f} grey levels; "
                  f"peak target {np.median(a[:, 2]):.2f}; target >= 0.5 on {100 * np.median(a[:, 3]):.0f} %")
    sampler = CropSampler(items, cfg.crop, cfg.focus, seed=0)
    held = np.zeros(3)
    for _ in range(args.crops):
        crop, _ = sampler.sample()
        held += [(crop[:, :, 0] > 127).sum() >= 10, (crop[:, :, 1] > 127).sum() >= 10, (crop[:, :, 2] > 63).any()]
    held /= args.crops
    print(f"3. of {args.crops} training crops: {100 * held[0]:.1f} % hold a visible bright scratch, "
          f"{100 * held[1]:.1f} % a visible dark one, {100 * held[2]:.1f} % any defect")
    rng = np.random.default_rng(0)
    line = np.full((32, 32, 3), 140, np.uint8)
    line[15:17] = 185
    x0 = prepare_input(line, 3)
    base = float(x0[:, 15:17].mean() - x0[:, :8].mean())
    factors = []
    for _ in range(2000):
        x = photometric(x0.copy(), rng, cfg.photometric, cfg.grey_share)
        factors.append(float(x[:, 15:17].mean() - x[:, :8].mean()) / base)
    print(f"4. photometric augmentation on a bright line (2000 draws): contrast factor min {min(factors):.2f}, "
          f"median {np.median(factors):.2f}, max {max(factors):.2f}; no draw turns a line's polarity")
    r = np.array(ridge_share)
    print(f"5. unlabelled thin lines on the ring, away from defects (mean over washers): bright ridges "
          f"{100 * r[:, 0].mean():.2f} % of the ring, dark valleys {100 * r[:, 1].mean():.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
