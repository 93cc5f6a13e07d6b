"""Calibration: find the washer's outer circle in a photo and derive mm per pixel from the
washer's nominal outer diameter."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from iunet_gui.core.errors import IunetError


@dataclass
class WasherCircle:
    cx: float
    cy: float
    r_outer: float
    r_inner: float | None = None


def find_washer(image: np.ndarray) -> WasherCircle:
    """Locate the washer (the largest round bright object) robustly to uneven lighting.

    Otsu threshold of a blurred, background-flattened gray image; the largest contour's
    min-enclosing circle and fitted ellipse give the outer radius; the largest hole inside
    it gives the inner radius. Raises IunetError when no round object is found.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    scale = 512.0 / max(h, w) if max(h, w) > 512 else 1.0
    small = cv2.resize(gray, (int(round(w * scale)), int(round(h * scale))), interpolation=cv2.INTER_AREA) \
        if scale != 1.0 else gray
    small = cv2.GaussianBlur(small, (5, 5), 0)
    _, bw = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bw = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    contours, hierarchy = cv2.findContours(bw, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if not contours:
        raise IunetError("no washer found: the image has no bright round object")
    outer_i = max((i for i in range(len(contours)) if hierarchy[0][i][3] < 0),
                  key=lambda i: cv2.contourArea(contours[i]), default=None)
    if outer_i is None or cv2.contourArea(contours[outer_i]) < 0.01 * small.size:
        raise IunetError("no washer found: the largest bright object is too small")
    c = contours[outer_i]
    r_outer, (cx, cy) = _radius(c)
    area = cv2.contourArea(c)
    circularity = area / (np.pi * r_outer ** 2) if r_outer > 0 else 0
    pts = c[:, 0, :].astype(float)
    residual = float(np.std(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy))) / max(r_outer, 1e-6)
    if circularity < 0.6 or residual > 0.05:
        raise IunetError(f"no washer found: the largest bright object is not round "
                         f"(circularity {circularity:.2f}, radial spread {residual:.1%})")
    holes = [contours[i] for i in range(len(contours)) if hierarchy[0][i][3] == outer_i]
    r_inner = None
    if holes:
        hole = max(holes, key=cv2.contourArea)
        if cv2.contourArea(hole) > 0.02 * area:
            r_inner, _ = _radius(hole)
            r_inner /= scale
    return WasherCircle(cx / scale, cy / scale, r_outer / scale, r_inner)


def _radius(contour: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Radius from the fitted ellipse (mean semi-axis) when possible, else the enclosing circle."""
    if len(contour) >= 5:
        (cx, cy), (a, b), _ = cv2.fitEllipse(contour)
        return (a + b) / 4.0, (cx, cy)
    (cx, cy), r = cv2.minEnclosingCircle(contour)
    return r, (cx, cy)


def mm_per_px_from_outer_diameter(image: np.ndarray, outer_diameter_mm: float) -> float:
    if not outer_diameter_mm or outer_diameter_mm <= 0:
        raise IunetError(f"the washer's outer diameter must be a positive number of mm, not {outer_diameter_mm!r}")
    circle = find_washer(image)
    return float(outer_diameter_mm) / (2.0 * circle.r_outer)
