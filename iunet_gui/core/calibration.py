"""Calibration: find the washer's outer circle in a photo and derive mm per pixel from the
washer's nominal outer diameter."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from iunet_gui.core.errors import IunetError

_MIN_CIRCULARITY = 0.6  # contour area / area of its fitted circle
_MAX_SPREAD = 0.05  # std of the contour's distances to the centre / radius


@dataclass
class WasherCircle:
    cx: float
    cy: float
    r_outer: float
    r_inner: float | None = None


@dataclass
class _Candidate:
    cx: float
    cy: float
    r: float
    spread: float
    r_inner: float | None


def find_washer(image: np.ndarray) -> WasherCircle:
    """Locate the washer (the largest round object, bright on dark or dark on bright).

    The gray image (at most 512 px) is segmented several ways: Otsu's threshold as is and
    inverted, and Otsu after removing uneven lighting (a quadratic light surface fitted
    jointly with the object/background split). Of the round outer contours found (circularity
    and radial spread gates), the largest wins (the roundest among near-equal ones); its
    largest hole is the inner rim. The outer radius is the mean semi-axis of the fitted
    ellipse (a slightly tilted washer looks elliptical). Raises IunetError when nothing round
    and large enough (>= 1 % of the image) is found.
    """
    img = np.asarray(image)
    if img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img[:, :, :3]), cv2.COLOR_RGB2GRAY)
    if img.ndim != 2 or min(img.shape) < 16:
        raise IunetError("no washer found: the image is too small")
    gray = img if img.dtype == np.uint8 else cv2.normalize(img.astype(np.float32), None, 0, 255,
                                                          cv2.NORM_MINMAX).astype(np.uint8)
    h, w = gray.shape
    scale = 512.0 / max(h, w) if max(h, w) > 512 else 1.0
    small = cv2.resize(gray, (int(round(w * scale)), int(round(h * scale))), interpolation=cv2.INTER_AREA) \
        if scale != 1.0 else gray
    small = cv2.GaussianBlur(small, (5, 5), 0)
    splits = [_otsu(small)]
    f = small.astype(np.float32)
    splits.append(_flatten_lighting(f, splits[0] > 0))
    splits.append(_flatten_lighting(f, _otsu(f - _surface_fit(f, terms=3)) > 0))
    found, reasons = [], []
    for bw in splits:
        for b in (bw, 255 - bw):
            cand = _round_object(b, reasons)
            if cand is not None:
                found.append(cand)
    if not found:
        why = min(reasons, key=lambda r: r[0])[1] if reasons else "the image has no large object"
        raise IunetError(f"no washer found: {why}")
    r_max = max(c.r for c in found)
    best = min((c for c in found if c.r >= 0.9 * r_max), key=lambda c: c.spread)
    cx, cy, r = best.cx / scale, best.cy / scale, best.r / scale
    r_in = None if best.r_inner is None else best.r_inner / scale
    smooth = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 1.5)
    fine = _refine_edge(smooth, cx, cy, r)
    if fine is not None:
        cx, cy, r = fine
    if r_in is not None:
        fine_in = _refine_edge(smooth, cx, cy, r_in)
        if fine_in is not None and np.hypot(fine_in[0] - cx, fine_in[1] - cy) < 0.1 * r_in:
            r_in = fine_in[2]
    return WasherCircle(float(cx), float(cy), float(r), None if r_in is None else float(r_in))


def _otsu(img: np.ndarray) -> np.ndarray:
    u8 = img if img.dtype == np.uint8 else cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]


def _surface_fit(img: np.ndarray, terms: int = 6) -> np.ndarray:
    """Least-squares light surface (plane with terms=3, quadratic with 6) over the whole image."""
    h, w = img.shape
    step = max(1, int(np.sqrt(h * w / 20000)))
    basis = _basis(h, w, step, terms)
    coef = _least_squares(basis.reshape(-1, terms), img[::step, ::step].reshape(-1))
    return (_basis(h, w, 1, terms) @ coef.astype(np.float32)).astype(np.float32)


@lru_cache(maxsize=8)
def _basis(h: int, w: int, step: int, terms: int) -> np.ndarray:
    """(H', W', terms) read-only polynomial basis of a light surface on every `step`-th pixel."""
    yy, xx = np.mgrid[0:h:step, 0:w:step].astype(np.float32)
    xx, yy = xx / w - 0.5, yy / h - 0.5
    out = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy][:terms], axis=-1)
    out.flags.writeable = False
    return out


def _least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x minimising |a x - b| for a tall `a` of a few columns, through the normal equations in
    float64 (a few columns: far cheaper than an SVD of the whole matrix)."""
    a = a.astype(np.float64)
    return np.linalg.lstsq(a.T @ a, a.T @ b.astype(np.float64), rcond=None)[0]


def _refine_edge(smooth: np.ndarray, cx: float, cy: float, r: float, rays: int = 360):
    """Sub-pixel rim in the smoothed float grey image: the strongest step along each ray within
    +-8 % of r, then an ellipse fitted to those edge points with outliers (defects, glare)
    dropped. None if unreliable."""
    h, w = smooth.shape
    band = 0.08 * r + 3.0
    radii = np.arange(r - band, r + band, 0.5, dtype=np.float32)
    if len(radii) < 8 or r - band <= 1:
        return None
    t = np.linspace(0, 2 * np.pi, rays, endpoint=False, dtype=np.float32)
    mx = (cx + np.cos(t)[:, None] * radii[None, :]).astype(np.float32)
    my = (cy + np.sin(t)[:, None] * radii[None, :]).astype(np.float32)
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    keep = inside.all(axis=1)
    if keep.sum() < rays // 2:
        return None
    prof = cv2.remap(smooth, mx, my, cv2.INTER_LINEAR)[keep]
    grad = np.gradient(prof, axis=1)
    polarity = 1.0 if np.median(prof[:, : len(radii) // 4]) >= np.median(prof[:, -len(radii) // 4:]) else -1.0
    g = -polarity * grad  # the step from the washer's side to the other side, positive
    k = np.clip(np.argmax(g, axis=1), 1, len(radii) - 2)
    rows = np.arange(len(k))
    g0, g1, g2 = g[rows, k - 1], g[rows, k], g[rows, k + 1]
    den = g0 - 2 * g1 + g2
    sub = np.where(np.abs(den) > 1e-9, 0.5 * (g0 - g2) / np.where(np.abs(den) > 1e-9, den, 1), 0.0)
    rr = radii[k] + 0.5 * np.clip(sub, -1, 1)
    strong = g1 > 0.25 * np.median(g1)
    tt = t[keep]
    pts = np.stack([cx + np.cos(tt) * rr, cy + np.sin(tt) * rr], axis=1)[strong].astype(np.float32)
    for _ in range(2):
        if len(pts) < max(20, rays // 4):
            return None
        (ex, ey), (a, b), ang = cv2.fitEllipse(pts)
        if min(a, b) <= 0:
            return None
        ca, sa = np.cos(np.deg2rad(ang)), np.sin(np.deg2rad(ang))
        u, v = (pts[:, 0] - ex) * ca + (pts[:, 1] - ey) * sa, -(pts[:, 0] - ex) * sa + (pts[:, 1] - ey) * ca
        res = (np.hypot(u / (a / 2), v / (b / 2)) - 1.0) * (a + b) / 4  # ~ radial distance in px
        mad = float(np.median(np.abs(res - np.median(res))))
        pts = pts[np.abs(res - np.median(res)) <= max(3.0 * 1.4826 * mad, 1.0)]
    r_new = (a + b) / 4.0
    if abs(r_new - r) > 0.05 * r or np.hypot(ex - cx, ey - cy) > 0.05 * r:
        return None
    return float(ex), float(ey), float(r_new)


def _flatten_lighting(img: np.ndarray, fg: np.ndarray, iterations: int = 5) -> np.ndarray:
    """Object/background split under a smooth light: fit img ~ quadratic(x, y) + d * object
    by least squares, re-split at half the step d, repeat. Returns a 0/255 uint8 image."""
    h, w = img.shape
    step = max(1, int(np.sqrt(h * w / 20000)))  # fit on about 20k pixels
    basis = _basis(h, w, step, 6).reshape(-1, 6)
    full = _basis(h, w, 1, 6)
    sample = img[::step, ::step].reshape(-1)
    split = fg
    for _ in range(iterations):
        ind = split[::step, ::step].reshape(-1, 1).astype(np.float32)
        if ind.min() == ind.max():
            break
        coef = _least_squares(np.hstack([basis, ind]), sample)
        d = float(coef[6])
        if abs(d) < 1e-6:
            break
        new = (img - full @ coef[:6].astype(np.float32) - d / 2) * np.sign(d) > 0
        if np.array_equal(new, split):
            break
        split = new
    return split.astype(np.uint8) * 255


def _round_object(bw: np.ndarray, reasons: list) -> _Candidate | None:
    """The largest outer contour of a binary image if it is round, with its largest hole."""
    bw = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    contours, hierarchy = cv2.findContours(bw, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    outer_i = max((i for i in range(len(contours)) if hierarchy[0][i][3] < 0),
                  key=lambda i: cv2.contourArea(contours[i]), default=None)
    if outer_i is None or cv2.contourArea(contours[outer_i]) < 0.01 * bw.size:
        reasons.append((3.0, "the largest object is too small"))
        return None
    c = contours[outer_i]
    r_outer, (cx, cy) = _radius(c)
    area = cv2.contourArea(c)
    circularity = area / (np.pi * r_outer ** 2) if r_outer > 0 else 0
    pts = c[:, 0, :].astype(float)
    spread = float(np.std(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy))) / max(r_outer, 1e-6)
    if circularity < _MIN_CIRCULARITY or spread > _MAX_SPREAD:
        reasons.append((spread, f"the largest object is not round "
                                f"(circularity {circularity:.2f}, radial spread {spread:.1%})"))
        return None
    holes = [contours[i] for i in range(len(contours)) if hierarchy[0][i][3] == outer_i]
    r_inner = None
    if holes:
        hole = max(holes, key=cv2.contourArea)
        if cv2.contourArea(hole) > 0.02 * area:
            r_inner, _ = _radius(hole)
    return _Candidate(cx, cy, r_outer, spread, r_inner)


def _radius(contour: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Radius from the fitted ellipse (mean semi-axis) when possible, else the enclosing circle."""
    if len(contour) >= 5:
        (cx, cy), (a, b), _ = cv2.fitEllipse(contour)
        return (a + b) / 4.0, (cx, cy)
    (cx, cy), r = cv2.minEnclosingCircle(contour)
    return r, (cx, cy)


def mm_per_px_from_outer_diameter(image: np.ndarray, outer_diameter_mm: float) -> float:
    """mm per pixel = nominal outer diameter / the outer diameter found in the image."""
    if not outer_diameter_mm or outer_diameter_mm <= 0:
        raise IunetError(f"the washer's outer diameter must be a positive number of mm, not {outer_diameter_mm!r}")
    circle = find_washer(image)
    return float(outer_diameter_mm) / (2.0 * circle.r_outer)
