"""The one input normalisation shared by training and inference (numpy only, no torch)."""
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
