"""The one input normalisation, input scaling and test-time flip mean shared by training and
inference (numpy and OpenCV, no torch)."""
from __future__ import annotations

import numpy as np

MEAN, STD = 0.5, 0.25


def prepare_input(image: np.ndarray, in_channels: int) -> np.ndarray:
    """uint8 HxW or HxWx3 -> float32 (C, H, W), scaled to (x/255 - 0.5) / 0.25."""
    img = np.asarray(image)
    if img.ndim == 3 and in_channels == 1:
        img = (img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114)
    if img.ndim == 2:
        img = img[None] if in_channels == 1 else np.repeat(img[None], in_channels, axis=0)
    else:
        img = np.transpose(img, (2, 0, 1))
    x = img.astype(np.float32) * np.float32(1.0 / 255.0)
    return np.ascontiguousarray((x - MEAN) / STD, dtype=np.float32)


def rescale_image(image: np.ndarray, scale: float) -> np.ndarray:
    """The image as the network sees it at input scale `scale` (area averaging when shrinking)."""
    if scale == 1:
        return image
    import cv2

    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # (width, height), at least 1 px
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def rescale_mask(mask: np.ndarray, scale: float) -> np.ndarray:
    """A training target at input scale: the share of each network pixel that is defect (float32 in
    [0, 1]), so that a 1-px scratch stays in the target as a soft line instead of vanishing."""
    m = np.asarray(mask, np.float32)
    return m if scale == 1 else np.clip(rescale_image(m, scale), 0.0, 1.0)


def fine_mask(mask: np.ndarray, coarse_hw: tuple[int, int], factor: int) -> np.ndarray:
    """The training target `factor` times finer than the network's input of size `coarse_hw`
    (share of defect per pixel, float32 in [0, 1]): pixel (i, j) of the input covers exactly
    pixels (factor i .. factor i + factor - 1, ...) of it, as bilinear up-sampling of the logits by
    `factor` (align_corners False) assumes."""
    import cv2

    h, w = coarse_hw
    m = np.asarray(mask, np.float32)
    if m.shape == (h * factor, w * factor):
        return m
    return np.clip(cv2.resize(m, (w * factor, h * factor), interpolation=cv2.INTER_AREA), 0.0, 1.0)


def upscale_logits(z: np.ndarray, h: int, w: int) -> np.ndarray:
    """Logits of the network's input size back at the image's h x w (bilinear); (H, W) logits or
    (C, H, W) logits of a multi-class network."""
    if z.shape[-2:] == (h, w):
        return z
    import cv2

    if z.ndim == 3:
        return np.stack([upscale_logits(c, h, w) for c in z])
    return cv2.resize(np.ascontiguousarray(z, np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def flip_mean(run, image: np.ndarray, hw_axes: tuple[int, int] = (0, 1)) -> np.ndarray:
    """Test-time augmentation shared by prediction and threshold tuning: the mean of `run`'s (H, W)
    logits over the image and its three flips, each flipped back. `hw_axes` are the image's height
    and width axes ((0, 1) for H x W x C, (1, 2) for C x H x W); `run` returns (H, W) or (C, H, W)."""
    total = np.array(run(image), np.float32)  # a copy: added to in place
    lead = total.ndim - 2  # the logits' channel axis, if any
    for axes in ((0,), (1,), (0, 1)):
        flipped = np.ascontiguousarray(np.flip(image, tuple(hw_axes[a] for a in axes)))
        total += np.flip(run(flipped), tuple(a + lead for a in axes))
    return total / 4
