"""Synthetic washer photographs with labelme ground truth (the SUES-Washer set is private).

A flat steel washer under an industrial camera: lathe-turned (concentric) texture built in
polar coordinates, a bow-tie specular reflection, rounded rims, uneven light, a soft shadow on
a textured conveyor, lens blur, sensor noise; and the paper's defects: scratches, edge cracks,
holes/pits and oxidation. Each defect is rendered from its own coverage map and its polygons
are traced from that same map, so ground truth and pixels agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.geometry import mask_to_polygons
from iunet_gui.core.measure import remove_small_regions
from iunet_gui.core.progress import ProgressCallback, ProgressEvent

WIDTH, HEIGHT = 1280, 1024
OUTER_DIAMETER_MM = 30.0  # nominal outer diameter of the rendered washers
DEFECT_KINDS = ("scratch", "edge_crack", "hole", "oxidation")


@dataclass
class WasherSpec:
    """What to draw; `None` fields are drawn at random."""

    width: int = WIDTH
    height: int = HEIGHT
    defects: list[str] | None = None  # kinds to draw; [] = defect-free
    clutter: bool | None = None


@dataclass
class SynthSample:
    image: np.ndarray  # uint8 HxWx3 RGB
    annotation: Annotation
    mm_per_px: float
    washer: tuple[float, float, float, float]  # cx, cy, r_outer, r_inner (px)
    defect_masks: list[tuple[str, np.ndarray]] = field(default_factory=list)


def _smooth_noise(rng: np.random.Generator, shape, sigma: float) -> np.ndarray:
    """Zero-mean, unit-std band-limited noise (Gaussian-blurred white noise, computed small)."""
    h, w = shape
    f = max(1.0, sigma / 4.0)
    sh, sw = max(2, int(h / f)), max(2, int(w / f))
    n = rng.standard_normal((sh, sw)).astype(np.float32)
    n = cv2.GaussianBlur(n, (0, 0), sigma / f)
    n = cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)
    return (n - n.mean()) / (n.std() + 1e-6)


class _Frame:
    """Washer coordinate frame: per-pixel radius (normalised to an ideal circle) and angle."""

    def __init__(self, w, h, cx, cy, r_out, r_in, tilt, squash):
        self.cx, self.cy, self.r_out, self.r_in = cx, cy, r_out, r_in
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        dx, dy = xx - cx, yy - cy
        c, s = math.cos(tilt), math.sin(tilt)
        u, v = c * dx + s * dy, (-s * dx + c * dy) / squash
        self.rho = np.sqrt(u * u + v * v)
        self.phi = np.arctan2(v, u)
        self.tilt, self.squash = tilt, squash

    def to_image(self, rho, phi):
        u, v = rho * np.cos(phi), rho * np.sin(phi) * self.squash
        c, s = math.cos(self.tilt), math.sin(self.tilt)
        return self.cx + c * u - s * v, self.cy + s * u + c * v

    def ring(self, margin: float = 0.0) -> np.ndarray:
        return (self.rho <= self.r_out - margin) & (self.rho >= self.r_in + margin)


def _metal(rng, fr: _Frame, h, w) -> np.ndarray:
    """Gray level of the bare washer (no defects), float32."""
    # Lathe marks: texture in polar coordinates (fine along radius, long along the angle).
    n_rho, n_phi = 1024, 2048
    polar = rng.standard_normal((n_rho, n_phi)).astype(np.float32)
    polar = cv2.GaussianBlur(polar, (0, 0), sigmaX=float(rng.uniform(18, 40)), sigmaY=0.7)
    rings = cv2.GaussianBlur(rng.standard_normal((n_rho, 1)).astype(np.float32), (0, 0), sigmaX=0.1, sigmaY=1.2)
    polar = 0.6 * polar / (polar.std() + 1e-6) + 0.8 * rings / (rings.std() + 1e-6)
    map_y = (fr.rho / (fr.r_out * 1.05) * (n_rho - 1)).astype(np.float32)
    map_x = ((fr.phi + np.pi) / (2 * np.pi) * (n_phi - 1)).astype(np.float32)
    streaks = cv2.remap(polar, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)

    base = rng.uniform(120, 165)
    # Bow-tie specular reflection of brushed/turned metal + a broad soft highlight.
    phi0 = rng.uniform(0, np.pi)
    lobe = np.cos(fr.phi - phi0) ** 2
    spec = rng.uniform(25, 60) * lobe ** rng.uniform(3, 8)
    radial = (fr.rho - fr.r_in) / max(fr.r_out - fr.r_in, 1)
    spec *= 0.6 + 0.4 * np.sin(np.clip(radial, 0, 1) * np.pi)
    g = base + spec + streaks * rng.uniform(4, 9) * (0.7 + 0.6 * lobe)
    g += _smooth_noise(rng, (h, w), 60) * rng.uniform(4, 10)  # large-scale unevenness of the surface
    # Rounded rims: a dark roll-off with a thin bright line on the lit side.
    light = rng.uniform(0, 2 * np.pi)
    facing = np.cos(fr.phi - light)
    for sign in (1.0, -1.0):  # the outer rim, then the inner one
        d = (fr.r_out - fr.rho) if sign > 0 else (fr.rho - fr.r_in)  # distance inside the ring
        bevel = np.exp(-np.clip(d, 0, None) / rng.uniform(3, 6))
        g -= bevel * rng.uniform(35, 60)
        g += np.exp(-((d - 5.0) ** 2) / 4.0) * (18 + 22 * sign * facing)
    return g.astype(np.float32)


def _background(rng, h, w) -> np.ndarray:
    level = rng.uniform(28, 70)
    bg = level + _smooth_noise(rng, (h, w), 40) * rng.uniform(3, 8) + _smooth_noise(rng, (h, w), 2) * 3
    # Conveyor belt / fixture texture: faint parallel grooves.
    yy = np.arange(h, dtype=np.float32)[:, None]
    bg += np.sin(yy * rng.uniform(0.15, 0.4) + rng.uniform(0, 6)) * rng.uniform(0.5, 2.5)
    return bg.astype(np.float32)


def _clutter(rng, img, h, w, avoid: np.ndarray):
    """A few out-of-focus objects on the table (rods, a corner of a fixture, dust)."""
    layer = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.integers(0, 3)
        val = rng.uniform(-25, 40)
        if kind == 0:  # rod
            x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
            ang = rng.uniform(0, np.pi)
            L = rng.uniform(200, 700)
            p1 = (int(x0 - L * math.cos(ang)), int(y0 - L * math.sin(ang)))
            p2 = (int(x0 + L * math.cos(ang)), int(y0 + L * math.sin(ang)))
            cv2.line(layer, p1, p2, val, int(rng.integers(8, 30)), cv2.LINE_AA)
        elif kind == 1:  # fixture corner at an image border
            cx, cy = int(rng.choice([0, w])), int(rng.choice([0, h]))
            cv2.circle(layer, (cx, cy), int(rng.uniform(80, 220)), val, -1, cv2.LINE_AA)
        else:  # dust specks
            for _ in range(int(rng.integers(5, 25))):
                cv2.circle(layer, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(rng.integers(1, 4)),
                           rng.uniform(20, 60), -1, cv2.LINE_AA)
    layer = cv2.GaussianBlur(layer, (0, 0), rng.uniform(1.5, 4))
    img += layer * (~avoid)


# --- defects: each returns (coverage map in [0, 1], gray-level delta map, tint or None) -----------

def _bezier(p0, p1, p2, n):
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2


def _scratch(rng, fr: _Frame, h, w):
    length = rng.uniform(60, 380)
    rho0 = rng.uniform(fr.r_in + 15, fr.r_out - 15)
    phi0 = rng.uniform(-np.pi, np.pi)
    p0 = np.array(fr.to_image(rho0, phi0))
    ang = rng.uniform(0, 2 * np.pi)
    p2 = p0 + length * np.array([math.cos(ang), math.sin(ang)])
    bend = rng.uniform(-0.25, 0.25) * length
    mid = (p0 + p2) / 2 + bend * np.array([-math.sin(ang), math.cos(ang)])
    pts = _bezier(p0, mid, p2, 80)
    cov = np.zeros((h, w), np.float32)
    thick = int(rng.integers(1, 4))
    cv2.polylines(cov, [np.round(pts * 4).astype(np.int32)], False, 1.0, thick, cv2.LINE_AA, shift=2)
    # Vary the depth along the scratch so it fades in and out like a real one.
    along = np.clip(_smooth_noise(rng, (h, w), 25) * 0.25 + 0.85, 0.55, 1.0)
    cov = np.clip(cov * along, 0, 1)
    faint = rng.random() < 0.3
    amp = rng.uniform(14, 24) if faint else rng.uniform(30, 75)
    sign = -1.0 if rng.random() < 0.6 else 1.0
    return cov, cov * amp * sign, None


def _edge_crack(rng, fr: _Frame, h, w):
    from_outer = rng.random() < 0.6
    phi = rng.uniform(-np.pi, np.pi)
    depth = rng.uniform(20, 0.6 * (fr.r_out - fr.r_in))
    rho = fr.r_out + 3 if from_outer else fr.r_in - 3
    step = -1.0 if from_outer else 1.0
    n = max(6, int(depth / 4))
    pts, widths = [], []
    dphi = 0.0
    for k in range(n + 1):
        pts.append(fr.to_image(rho, phi))
        widths.append(max(1, int(round(rng.uniform(2.5, 5.0) * (1 - k / (n + 1)) + 0.6))))
        dphi = 0.6 * dphi + rng.normal(0, 0.35) * 4.0 / max(rho, 1)
        phi += dphi
        rho += step * depth / n * rng.uniform(0.6, 1.4)
    cov = np.zeros((h, w), np.float32)
    pts = np.array(pts)
    for k in range(len(pts) - 1):
        a, b = np.round(pts[k] * 4).astype(int), np.round(pts[k + 1] * 4).astype(int)
        cv2.line(cov, tuple(a), tuple(b), 1.0, widths[k], cv2.LINE_AA, shift=2)
    cov = np.clip(cov, 0, 1)
    edge = np.clip(cv2.GaussianBlur(cov, (0, 0), 1.5) - cov, 0, 1)  # bright lip of the fissure
    amp = rng.uniform(45, 95)
    return cov, -cov * amp + edge * amp * 0.4, None


def _hole(rng, fr: _Frame, h, w):
    rho = rng.uniform(fr.r_in + 25, fr.r_out - 25)
    cx, cy = fr.to_image(rho, rng.uniform(-np.pi, np.pi))
    r = rng.uniform(3.5, 14)
    cov = np.zeros((h, w), np.float32)
    axes = (max(1, int(r * 4)), max(1, int(r * rng.uniform(0.7, 1.0) * 4)))
    cv2.ellipse(cov, (int(cx * 4), int(cy * 4)), axes, rng.uniform(0, 180), 0, 360, 1.0, -1, cv2.LINE_AA, shift=2)
    ang = rng.uniform(0, 2 * np.pi)
    shift = np.float32([[1, 0, math.cos(ang) * r * 0.35], [0, 1, math.sin(ang) * r * 0.35]])
    rim = np.clip(cv2.warpAffine(cv2.GaussianBlur(cov, (0, 0), 1.2), shift, (w, h)) - cov, 0, 1)
    inner = cv2.GaussianBlur(cov, (0, 0), max(r / 3, 1)) * cov
    amp = rng.uniform(60, 120)
    return cov, -(0.55 * cov + 0.45 * inner) * amp + rim * rng.uniform(30, 70), None


def _oxidation(rng, fr: _Frame, h, w):
    rho = rng.uniform(fr.r_in + 30, fr.r_out - 30)
    cx, cy = fr.to_image(rho, rng.uniform(-np.pi, np.pi))
    rad = rng.uniform(20, 85)
    x0, x1 = int(max(cx - 2 * rad, 0)), int(min(cx + 2 * rad, w))
    y0, y1 = int(max(cy - 2 * rad, 0)), int(min(cy + 2 * rad, h))
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.hypot(xx - cx, yy - cy) / rad
    blob = _smooth_noise(rng, d.shape, rad / 4) * 0.35 + (1.0 - d)
    cov = np.zeros((h, w), np.float32)
    cov[y0:y1, x0:x1] = np.clip((blob - 0.15) * 4.0, 0, 1)
    mottle = np.zeros((h, w), np.float32)
    mottle[y0:y1, x0:x1] = _smooth_noise(rng, d.shape, 2.5)
    amp = rng.uniform(18, 55)
    delta = -cov * amp * (0.8 + 0.25 * mottle)
    rust = rng.random() < 0.7
    tint = np.array([1.12, 0.92, 0.72] if rust else [0.95, 0.97, 1.0], np.float32) * rng.uniform(0.9, 1.1)
    return cov, delta, tint


_DRAW = {"scratch": _scratch, "edge_crack": _edge_crack, "hole": _hole, "oxidation": _oxidation}
_THRESHOLD = {"scratch": 0.45, "edge_crack": 0.45, "hole": 0.5, "oxidation": 0.5}


def _drop_specks(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Keep the defect's main body: fragments too small to label are not ground truth (the largest
    region stays when every one is that small)."""
    kept = remove_small_regions(mask, min_area)
    if kept.any() or not mask.any():
        return kept
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def render_washer(rng: np.random.Generator, spec: WasherSpec | None = None) -> SynthSample:
    """Render one washer photo and its labelme ground truth."""
    spec = spec or WasherSpec()
    w, h = spec.width, spec.height
    k = min(w / WIDTH, h / HEIGHT)
    r_out = rng.uniform(400, 445) * k
    r_in = r_out * rng.uniform(0.42, 0.56)
    cx = w / 2 + rng.uniform(-45, 45) * k
    cy = h / 2 + rng.uniform(-30, 30) * k
    fr = _Frame(w, h, cx, cy, r_out, r_in, tilt=rng.uniform(0, np.pi), squash=rng.uniform(0.965, 1.0))

    img = _background(rng, h, w)
    washer = fr.ring()
    # soft shadow of the washer on the table
    sh = np.float32([[1, 0, rng.uniform(-14, 14) * k], [0, 1, rng.uniform(4, 18) * k]])
    shadow = cv2.GaussianBlur(cv2.warpAffine(washer.astype(np.float32), sh, (w, h)), (0, 0), 12 * k + 1)
    img *= 1.0 - 0.45 * shadow
    soft = cv2.GaussianBlur(washer.astype(np.float32), (0, 0), 0.8)
    img = img * (1 - soft) + _metal(rng, fr, h, w) * soft
    if spec.clutter if spec.clutter is not None else rng.random() < 0.5:
        _clutter(rng, img, h, w, avoid=cv2.dilate(washer.astype(np.uint8), np.ones((15, 15))).astype(bool))

    if spec.defects is None:
        kinds = list(rng.choice(DEFECT_KINDS, size=int(rng.integers(1, 5)), p=[0.35, 0.2, 0.25, 0.2]))
    else:
        kinds = list(spec.defects)
    rgb = np.repeat(img[:, :, None], 3, axis=2)
    inside = fr.ring(margin=-2)
    masks: list[tuple[str, np.ndarray]] = []
    for kind in kinds:
        cov, delta, tint = _DRAW[kind](rng, fr, h, w)
        cov *= inside
        delta *= inside
        m = _drop_specks(cov >= _THRESHOLD[kind], min_area=12 if kind == "hole" else 25)
        if m.sum() < 6:
            continue
        rgb += delta[:, :, None]
        if tint is not None:
            rgb *= 1 + (tint[None, None, :] - 1) * cov[:, :, None]
        masks.append((str(kind), m))

    # light falloff, slight colour cast of the lamp, lens blur, sensor noise
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ga = rng.uniform(0, 2 * np.pi)
    grad = 1 + rng.uniform(0.05, 0.18) * ((xx - w / 2) * math.cos(ga) + (yy - h / 2) * math.sin(ga)) / (w / 2)
    vign = 1 - rng.uniform(0.1, 0.25) * (((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2) / 2
    rgb *= (grad * vign)[:, :, None]
    rgb *= np.array([1.0, rng.uniform(0.99, 1.02), rng.uniform(1.0, 1.05)], np.float32)
    rgb = cv2.GaussianBlur(rgb, (0, 0), rng.uniform(0.5, 0.9))
    rgb += rng.standard_normal((h, w, 1)).astype(np.float32) * rng.uniform(1.5, 4.0)
    rgb += rng.standard_normal((h, w, 3)).astype(np.float32) * 1.0
    image = np.clip(rgb, 0, 255).astype(np.uint8)

    mm_per_px = OUTER_DIAMETER_MM / (2 * r_out * (1 + fr.squash) / 2)
    ann = Annotation(image_path="", image_width=w, image_height=h)
    ann.mm_per_px = round(mm_per_px, 7)
    for kind, m in masks:
        for poly in mask_to_polygons(m, tolerance=0.3, min_area=4):
            ann.shapes.append(Shape(label=kind, points=np.round(poly, 2).tolist()))
    if not ann.shapes:
        ann.flags["defect_free"] = True
    return SynthSample(image, ann, mm_per_px, (cx, cy, r_out, r_in), masks)


def generate_dataset(out_dir, count: int, seed: int, defect_free_ratio: float = 0.2,
                     progress: ProgressCallback | None = None, prefix: str = "washer",
                     quality: int = 92) -> list[Path]:
    """Write `count` images (`prefix_NNN.jpg` + labelme `.json`) and `iunet_project.json`.

    Deterministic: the same seed gives the same files. Returns the image paths.
    """
    from iunet_gui.core.images import save_image
    from iunet_gui.core.project import SETTINGS_FILE, ProjectSettings

    if count < 1:
        raise ValueError("count must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(seed).spawn(count)
    n_free = int(round(count * defect_free_ratio))
    free = set(np.random.default_rng(seed).choice(count, size=n_free, replace=False).tolist()) if n_free else set()
    paths = []
    for i in range(count):
        rng = np.random.default_rng(seeds[i])
        sample = render_washer(rng, WasherSpec(defects=[] if i in free else None))
        path = out / f"{prefix}_{i:03d}.jpg"
        sample.annotation.image_path = path.name
        save_image(path, sample.image, quality=quality)
        sample.annotation.save(path.with_suffix(".json"))
        paths.append(path)
        if progress:
            progress(ProgressEvent("synth", step=i + 1, steps=count, message=path.name))
    settings_path = out / SETTINGS_FILE
    if not settings_path.exists():
        from iunet_gui.core.atomic import atomic_write_json

        s = ProjectSettings(washer_outer_diameter_mm=OUTER_DIAMETER_MM,
                            mm_per_px=round(OUTER_DIAMETER_MM / (2 * 422.0), 6))
        atomic_write_json(settings_path, s.to_dict())
    return paths
