"""Defect measurement by the minimum rotated rectangle (the paper's length method), px and mm.

A mask region is measured through its pixel centres: a polygon rasterised the labelme way
(outline included) measures within about 1 px of the polygon itself, so ground-truth polygons
and predicted masks are measured alike. Sides are at least 1 px (a single pixel is 1 x 1).
A polygon is measured exactly (shapely's minimum rotated rectangle).

A network's mask often breaks one faint scratch into pieces; measured piece by piece it would
give several short defects. `merge_gap_px` groups the regions of a mask that lie within about
that many pixels of each other into one defect (its rectangle spans all its pieces). Along a line
the gaps are longer: with merging on, a thin elongated region also takes in the thin pieces that
lie up to `chain_gap_px` beyond either of its ends, in its direction (`chain_pieces`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

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
    confidence: float | None = None  # a multi-class prediction's: the mean probability of its kind (`label`)

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
        if d["confidence"] is None:
            del d["confidence"]
        else:
            d["confidence"] = round(float(d["confidence"]), 4)
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


DEFAULT_CHAIN_GAP_PX = 80.0  # with merging on: thin pieces this far beyond a line's end, in its direction,
# belong to it (chosen on 30 tuning washers, where 96 px joins two distinct scratches: docs/benchmarks.md)


def label_regions(mask: np.ndarray, merge_gap_px: float = 0,
                  chain_gap_px: float | None = None) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Regions as OpenCV's connectedComponentsWithStats gives them: (count incl. background,
    label image, stats [x, y, w, h, area], centroids). 8-connected; with `merge_gap_px` > 0 the
    regions closer than about that many pixels share one label, and pieces of a line are chained
    up to `chain_gap_px` (None: DEFAULT_CHAIN_GAP_PX when merging, else 0) beyond its ends (the
    pixels are not changed)."""
    m = np.ascontiguousarray(np.asarray(mask, dtype=np.uint8))  # may be the caller's array: read only
    if not merge_gap_px or merge_gap_px <= 0:
        return cv2.connectedComponentsWithStats(m, connectivity=8)
    r = int(math.ceil(float(merge_gap_px) / 2))
    grown = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    n, groups = cv2.connectedComponents(grown, connectivity=8)
    # every grown region holds pixels of the mask, so the labels stay 1 .. n-1 with none empty
    labels = np.where(m > 0, groups, 0).astype(np.int32)
    chain = DEFAULT_CHAIN_GAP_PX if chain_gap_px is None else float(chain_gap_px)
    if chain > 0 and n > 2:
        n, labels = chain_pieces(labels, n, chain)
    return _with_stats(labels, n, m.shape)


def _with_stats(labels: np.ndarray, n: int, shape) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    from scipy import ndimage

    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    area = np.bincount(lab, minlength=n)
    stats = np.zeros((n, 5), np.int32)
    centroids = np.zeros((n, 2), np.float64)
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is not None:
            stats[i, :4] = sl[1].start, sl[0].start, sl[1].stop - sl[1].start, sl[0].stop - sl[0].start
    stats[:, 4] = area
    stats[0] = 0, 0, shape[1], shape[0], shape[0] * shape[1] - len(lab)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroids[:, 0] = np.bincount(lab, weights=xs, minlength=n) / np.maximum(area, 1)
        centroids[:, 1] = np.bincount(lab, weights=ys, minlength=n) / np.maximum(area, 1)
    return n, labels, stats, centroids


def chain_pieces(labels: np.ndarray, n: int, gap_px: float, min_length_px: float = 12.0,
                 min_aspect: float = 3.0, max_angle_deg: float = 30.0) -> tuple[int, np.ndarray]:
    """Join the pieces of a broken line: a region at least `min_length_px` long and `min_aspect`
    times longer than wide takes in every region that has a pixel within `gap_px` beyond either end
    of its rectangle, along its axis, in a corridor as wide as the line + 4 px, widening by 0.2 px per
    px of gap (a scratch bends). Only thin regions join (at most 4 px wider than the line), and an
    elongated one only when it runs within `max_angle_deg` of the line's direction: a pit or a
    stain at a scratch's end, or a crossing scratch, stays its own defect. Repeats until nothing
    joins, so a line grows piece by piece. Returns (count incl. background, relabelled 1..count-1)."""
    from scipy import ndimage

    where = ndimage.value_indices(labels, ignore_value=0)  # label -> (rows, columns) in raster order
    pts = {i: np.stack([xs, ys], axis=1).astype(np.float32) for i, (ys, xs) in where.items()}
    members = {i: [i] for i in range(1, n)}  # group -> original labels

    def pixels(g):
        return np.concatenate([pts.get(i, np.empty((0, 2), np.float32)) for i in members[g]])

    def geometry(p):
        (cx, cy), (w, h), ang = cv2.minAreaRect(p)
        if w < h:
            w, h, ang = h, w, ang + 90.0
        a = math.radians(ang)
        return np.array([cx, cy]), np.array([math.cos(a), math.sin(a)]), max(w, 1.0), max(h, 1.0)

    def half_diagonal(p):  # of the pixels' bounding box, + 1
        return float(np.hypot(*(p.max(0) - p.min(0)))) / 2 + 1

    def line_frame(g):  # centre, axis, normal, length, width, how far a piece's centre may lie
        c, u, length, width = geo[g]
        return c, u, np.array([-u[1], u[0]]), length, width, length / 2 + gap_px + width

    cos_max = math.cos(math.radians(max_angle_deg))
    px = {g: pixels(g) for g in members}
    geo = {g: geometry(p) for g, p in px.items()}
    reach = {g: half_diagonal(p) for g, p in px.items()}
    joined = True
    while joined:  # passes until nothing joins; a line that grew is re-measured at once
        joined = False
        for g in sorted(members):
            if g not in members:
                continue
            c, u, v, length, width, limit = line_frame(g)
            if length < min_length_px or length < min_aspect * width:
                continue
            for q in sorted(members):
                if q == g or q not in members:
                    continue
                cq, uq, lq, wq = geo[q]
                if (float(np.hypot(*(cq - c))) - reach[q] > limit or wq > width + 4
                        or (lq >= min_length_px and abs(float(u @ uq)) < cos_max)):
                    continue
                d = px[q] - c
                beyond = np.abs(d @ u) - length / 2
                near = (beyond > -width) & (beyond <= gap_px) & (
                    np.abs(d @ v) <= width / 2 + 4 + 0.2 * np.maximum(beyond, 0))
                if near.any():
                    members[g] += members.pop(q)
                    px[g] = pixels(g)
                    geo[g] = geometry(px[g])
                    reach[g] = half_diagonal(px[g])
                    c, u, v, length, width, limit = line_frame(g)  # the line grew: measure it again
                    joined = True
    new = np.zeros(n, np.int32)
    for k, g in enumerate(sorted(members), start=1):
        new[members[g]] = k
    return len(members) + 1, new[labels]


def remove_small_regions(mask: np.ndarray, min_area_px: float) -> np.ndarray:
    """`mask` (as bool) without its 8-connected regions of fewer than `min_area_px` pixels."""
    from skimage.morphology import remove_small_objects

    mask = np.asarray(mask, dtype=bool)
    if min_area_px <= 1 or not mask.any():
        return mask
    smallest = int(math.ceil(min_area_px))
    try:
        return remove_small_objects(mask, max_size=smallest - 1, connectivity=2)
    except TypeError:  # scikit-image before 0.26 (Python 3.10) names the bound by the smallest size kept
        return remove_small_objects(mask, min_size=smallest, connectivity=2)


def measure_mask(mask: np.ndarray, mm_per_px: float | None = None, min_area_px: int = 1,
                 merge_gap_px: float = 0, chain_gap_px: float | None = None) -> list[Defect]:
    """One Defect per 8-connected region of `mask` (per group of regions within `merge_gap_px`)
    with at least `min_area_px` pixels."""
    return [d for _, d in measure_regions(mask, mm_per_px, min_area_px, merge_gap_px=merge_gap_px,
                                          chain_gap_px=chain_gap_px)]


def measure_regions(mask: np.ndarray, mm_per_px: float | None = None, min_area_px: int = 1,
                    regions=None, merge_gap_px: float = 0, chain_gap_px: float | None = None) -> list[tuple[int, Defect]]:
    """Like measure_mask, also returning each region's label in `label_regions(mask, merge_gap_px, chain_gap_px)`."""
    n, labels, stats, centroids = (regions if regions is not None
                                   else label_regions(mask, merge_gap_px, chain_gap_px))
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


CIRCLE_OUTLINE_POINTS = 64  # a labelme circle is measured through this many points on its rim


def shape_outline(shape) -> list[list[float]]:
    """The points that bound a labelme shape: a rectangle's 4 corners, a circle's rim, else its points."""
    pts = shape.points
    if shape.shape_type == "rectangle" and len(pts) == 2:
        (x1, y1), (x2, y2) = pts
        return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]
    if shape.shape_type == "circle" and len(pts) == 2:
        (cx, cy), (px, py) = pts
        r = math.hypot(px - cx, py - cy)
        step = 2 * math.pi / CIRCLE_OUTLINE_POINTS
        return [[cx + r * math.cos(a * step), cy + r * math.sin(a * step)] for a in range(CIRCLE_OUTLINE_POINTS)]
    return [[float(x), float(y)] for x, y in pts]


def measure_shape(shape, mm_per_px: float | None = None) -> Defect | None:
    """One labelme shape as one defect (a "mask" shape through all of its pixels); None for a
    shape with too few points for its type or a mask without pixels."""
    if shape.is_degenerate or not shape.points:
        return None
    if shape.shape_type == "mask":
        from iunet_gui.core.geometry import shape_to_mask

        (x1, y1), (x2, y2) = shape.points[0], shape.points[-1]
        m = shape_to_mask(shape.points, "mask", (int(max(y1, y2)) + 2, int(max(x1, x2)) + 2), shape.mask)
        ys, xs = np.nonzero(m)
        if xs.size == 0:
            return None
        centroid = (float(xs.mean()), float(ys.mean()))
        return _from_box(rotated_rect_of_pixels(xs, ys), xs.size, centroid, mm_per_px, shape.label)
    return measure_polygon(shape_outline(shape), mm_per_px, label=shape.label)


_KIND_MARKS = {"polygon": "", "rectangle": " ▭", "circle": " ◯"}


def describe_shape(shape, mm_per_px: float | None = None) -> str:
    """One line for a shape list: its label, kind and measured length ("scratch ▭ — 4.20 mm")."""
    kind = _KIND_MARKS.get(shape.shape_type, f" ({shape.shape_type})")
    if shape.is_degenerate:
        return f"{shape.label}{kind} — {len(shape.points)} point(s), incomplete"
    d = measure_shape(shape, mm_per_px)
    if d is None:
        return f"{shape.label}{kind}"
    size = f"{d.length_mm:.2f} mm" if d.length_mm is not None else f"{d.length_px:.1f} px"
    return f"{shape.label}{kind} — {size}"
