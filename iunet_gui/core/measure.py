"""Defect measurement by the minimum rotated rectangle (the paper's length method), px and mm.

A mask region is measured through its pixel centres: a polygon rasterised the labelme way
(outline included) measures within about 1 px of the polygon itself, so ground-truth polygons
and predicted masks are measured alike. Sides are at least 1 px (a single pixel is 1 x 1).
A polygon is measured exactly (shapely's minimum rotated rectangle).

A network's mask often breaks one faint scratch into pieces; measured piece by piece it would
give several short defects. `merge_gap_px` groups the regions of a mask that lie within about
that many pixels of each other into one defect (its rectangle spans all its pieces).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import cv2
import numpy as np

@dataclass
class Defect:
    length_px: float
    width_px: float
    angle_deg: float  # direction of the long side from the +x axis, [0, 180), image coords (y down)
    area_px: float
    centroid: tuple[float, float]  # (x, y)
    box: list[list[float]]  # the rectangle's 4 corners [[x, y], ...]
    length_mm: float | None = None
    width_mm: float | None = None
    label: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["centroid"] = [round(float(v), 3) for v in self.centroid]
        d["box"] = [[round(float(x), 3), round(float(y), 3)] for x, y in self.box]
        for k in ("length_px", "width_px", "angle_deg", "area_px"):
            d[k] = round(float(d[k]), 3)
        for k in ("length_mm", "width_mm"):
            d[k] = None if d[k] is None else round(float(d[k]), 4)
        if d["label"] is None:
            del d["label"]
        return d


def _from_box(box: np.ndarray, area: float, centroid, mm_per_px: float | None, label=None) -> Defect:
    e1, e2 = box[1] - box[0], box[2] - box[1]
    l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    long_edge = e1 if l1 >= l2 else e2
    length, width = max(l1, l2), min(l1, l2)
    angle = math.degrees(math.atan2(long_edge[1], long_edge[0])) % 180.0
    if angle >= 179.9995:
        angle = 0.0
    mm = mm_per_px if mm_per_px and mm_per_px > 0 else None
    return Defect(
        length_px=length, width_px=width, angle_deg=angle, area_px=float(area),
        centroid=(float(centroid[0]), float(centroid[1])), box=box.astype(float).tolist(),
        length_mm=None if mm is None else length * mm, width_mm=None if mm is None else width * mm, label=label,
    )


def rotated_rect_of_pixels(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Min-area rectangle (4 corners) of the pixel centres (xs, ys), each side at least 1 px."""
    centres = np.stack([xs, ys], axis=1).astype(np.float32)
    (cx, cy), (w, h), angle = cv2.minAreaRect(centres)
    return cv2.boxPoints(((cx, cy), (max(w, 1.0), max(h, 1.0)), angle)).astype(float)


DEFAULT_MERGE_GAP_PX = 8.0  # predicted pieces this close are one defect (the app's and evaluate's default)


def label_regions(mask: np.ndarray, merge_gap_px: float = 0) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Regions as OpenCV's connectedComponentsWithStats gives them: (count incl. background,
    label image, stats [x, y, w, h, area], centroids). 8-connected; with `merge_gap_px` > 0 the
    regions closer than about that many pixels share one label (the pixels are not changed)."""
    m = np.ascontiguousarray(np.asarray(mask, dtype=np.uint8))  # may be the caller's array: read only
    if not merge_gap_px or merge_gap_px <= 0:
        return cv2.connectedComponentsWithStats(m, connectivity=8)
    from scipy import ndimage

    r = int(math.ceil(float(merge_gap_px) / 2))
    grown = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    n, groups = cv2.connectedComponents(grown, connectivity=8)
    # every grown region holds pixels of the mask, so the labels stay 1 .. n-1 with none empty
    labels = np.where(m > 0, groups, 0).astype(np.int32)
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    area = np.bincount(lab, minlength=n)
    stats = np.zeros((n, 5), np.int32)
    centroids = np.zeros((n, 2), np.float64)
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is not None:
            stats[i, :4] = sl[1].start, sl[0].start, sl[1].stop - sl[1].start, sl[0].stop - sl[0].start
    stats[:, 4] = area
    stats[0] = 0, 0, m.shape[1], m.shape[0], m.size - len(lab)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroids[:, 0] = np.bincount(lab, weights=xs, minlength=n) / np.maximum(area, 1)
        centroids[:, 1] = np.bincount(lab, weights=ys, minlength=n) / np.maximum(area, 1)
    return n, labels, stats, centroids


def measure_mask(mask: np.ndarray, mm_per_px: float | None = None, min_area_px: int = 1,
                 merge_gap_px: float = 0) -> list[Defect]:
    """One Defect per 8-connected region of `mask` (per group of regions within `merge_gap_px`)
    with at least `min_area_px` pixels."""
    return [d for _, d in measure_regions(mask, mm_per_px, min_area_px, merge_gap_px=merge_gap_px)]


def measure_regions(mask: np.ndarray, mm_per_px: float | None = None, min_area_px: int = 1,
                    regions=None, merge_gap_px: float = 0) -> list[tuple[int, Defect]]:
    """Like measure_mask, also returning each region's label in `label_regions(mask, merge_gap_px)`."""
    n, labels, stats, centroids = regions if regions is not None else label_regions(mask, merge_gap_px)
    out = []
    for i in range(1, n):
        area = int(stats[i, cv2.CC_STAT_AREA])
        if area < min_area_px:
            continue
        x, y, w, h = (int(v) for v in stats[i, :4])
        sub = labels[y:y + h, x:x + w] == i
        edge = sub & ~cv2.erode(sub.astype(np.uint8), np.ones((3, 3), np.uint8), borderValue=0).astype(bool)
        ys, xs = np.nonzero(edge)
        box = rotated_rect_of_pixels(xs + x, ys + y)
        out.append((i, _from_box(box, area, centroids[i], mm_per_px)))
    return out


def measure_polygon(points: Sequence[Sequence[float]], mm_per_px: float | None = None,
                    label: str | None = None) -> Defect:
    """Exact minimum rotated rectangle of a polygon (or of any point set: line, few points)."""
    from shapely.geometry import MultiPoint, Polygon

    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        raise ValueError("cannot measure a shape without points")
    poly = Polygon(pts) if len(pts) >= 3 else None
    if poly is not None and not poly.is_valid:  # a self-crossing outline: its area is what it encloses
        from shapely import make_valid

        poly = make_valid(poly)
    if poly is not None and poly.area > 0:
        area, c = poly.area, poly.centroid
        centroid = (c.x, c.y)
    else:
        area, centroid = 0.0, tuple(pts.mean(axis=0))
    rect = MultiPoint([tuple(p) for p in pts]).minimum_rotated_rectangle
    if rect.geom_type == "Polygon":
        box = np.asarray(rect.exterior.coords)[:4]
    else:  # a segment or a single point: zero-width rectangle along it
        coords = np.asarray(rect.coords) if rect.geom_type != "Point" else np.array([[rect.x, rect.y]])
        a, b = coords[0], coords[-1]
        box = np.array([a, b, b, a], float)
    return _from_box(box, area, centroid, mm_per_px, label)
