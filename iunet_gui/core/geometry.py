"""Shapes <-> masks.

`shape_to_mask` rasterises exactly as labelme's own `labelme.utils.shape_to_mask` does (Pillow
ImageDraw, outline and fill), so masks made here and in labelme agree pixel for pixel.
`mask_to_polygons` turns a (predicted) mask into simplified, editable labelme polygons.
"""
from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw

LINE_WIDTH = 10  # labelme's defaults for line/linestrip and point shapes
POINT_SIZE = 5


def shape_to_mask(points: Sequence[Sequence[float]], shape_type: str | None, image_shape_hw: Sequence[int],
                  mask_data: str | None = None) -> np.ndarray:
    """Rasterise one labelme shape to a bool HxW mask (empty for a degenerate shape)."""
    h, w = int(image_shape_hw[0]), int(image_shape_hw[1])
    out = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(out)
    xy = [(float(p[0]), float(p[1])) for p in points]
    shape_type = shape_type or "polygon"
    if shape_type == "circle":
        if len(xy) != 2:
            return np.zeros((h, w), bool)
        (cx, cy), (px, py) = xy
        d = math.hypot(cx - px, cy - py)
        draw.ellipse([cx - d, cy - d, cx + d, cy + d], outline=1, fill=1)
    elif shape_type == "rectangle":
        if len(xy) < 2:
            return np.zeros((h, w), bool)
        xs, ys = [p[0] for p in xy], [p[1] for p in xy]
        draw.rectangle([min(xs), min(ys), max(xs), max(ys)], outline=1, fill=1)
    elif shape_type in ("line", "linestrip"):
        if len(xy) < 2:
            return np.zeros((h, w), bool)
        draw.line(xy=xy, fill=1, width=LINE_WIDTH)
    elif shape_type in ("point", "points"):
        for cx, cy in xy:
            draw.ellipse([cx - POINT_SIZE, cy - POINT_SIZE, cx + POINT_SIZE, cy + POINT_SIZE], outline=1, fill=1)
    elif shape_type == "mask":
        return _mask_shape(xy, mask_data, h, w)
    else:
        if len(xy) < 3:
            return np.zeros((h, w), bool)
        draw.polygon(xy=xy, outline=1, fill=1)
    return np.asarray(out, dtype=bool)


def _mask_shape(xy, mask_data, h, w) -> np.ndarray:
    """labelme's "mask" shape: a base64 PNG whose top-left pixel is the first point, truncated
    to whole pixels as labelme's shapes_to_label does (`astype(int)`); nonzero is inside."""
    out = np.zeros((h, w), bool)
    if not mask_data or len(xy) < 2:
        return out
    try:
        with Image.open(io.BytesIO(base64.b64decode(mask_data))) as pil:
            sub = np.asarray(pil)
    except Exception:
        return out
    sub = sub.any(axis=2) if sub.ndim == 3 else sub.astype(bool)
    if sub.ndim != 2:
        return out
    x1, y1 = (int(v) for v in xy[0])
    y2, x2 = y1 + sub.shape[0], x1 + sub.shape[1]
    ys, xs = slice(max(y1, 0), min(y2, h)), slice(max(x1, 0), min(x2, w))
    out[ys, xs] = sub[ys.start - y1: ys.stop - y1, xs.start - x1: xs.stop - x1]
    return out


def shapes_to_mask(shapes: Iterable, image_shape_hw: Sequence[int], labels: Iterable[str] | None = None) -> np.ndarray:
    """Union of shapes (core.annotation.Shape) as a bool mask; `labels` limits which classes count."""
    wanted = None if labels is None else set(labels)
    mask = np.zeros((int(image_shape_hw[0]), int(image_shape_hw[1])), bool)
    for s in shapes:
        if (wanted is not None and s.label not in wanted) or s.is_degenerate:
            continue
        mask |= shape_to_mask(s.points, s.shape_type, image_shape_hw, getattr(s, "mask", None))
    return mask


def mask_to_polygons(mask: np.ndarray, tolerance: float = 1.0, min_area: float = 4.0) -> list[np.ndarray]:
    """Regions of a mask as simplified polygons ((N, 2) float arrays, x/y pixel centres).

    Each 8-connected region is traced through its boundary pixels' centres, so the polygons
    rasterise back (the labelme way, outline included) onto the region's own pixels: a 1 px
    scratch stays 1 px wide. `tolerance` is the Douglas-Peucker tolerance in px (0 keeps every
    contour pixel); where it would lose part of a region (IoU < 0.95 or the region falling
    apart, typical of thin scratches) that region is traced again with half the tolerance,
    down to 0. Holes: labelme polygons cannot hold holes, so a region with holes is cut into
    hole-free pieces (straight cuts through each hole) that together cover exactly the region.
    Regions smaller than `min_area` pixels are dropped.
    """
    m = np.ascontiguousarray(np.asarray(mask, dtype=np.uint8))
    if m.ndim != 2 or not m.any():
        return []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    polygons: list[np.ndarray] = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_area:
            continue
        x, y, w, h = stats[i, :4]
        region = np.pad((labels[y:y + h, x:x + w] == i).astype(np.uint8), 1)
        tol, best = max(float(tolerance), 0.0), None
        while True:
            polys = _trace_region(region, tol)
            score = _round_trip(polys, region)
            if best is None or score > best[0]:
                best = (score, polys)
            if score >= _ROUND_TRIP_IOU or tol == 0.0:
                break
            tol = tol / 2 if tol > 0.1 else 0.0
        if best[0] < _ROUND_TRIP_IOU:  # last resort: trace thin parts one pixel wider
            cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
            thin = region & ~cv2.morphologyEx(region, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
            wider = _trace_region(region | cv2.dilate(thin, cross), 0.0)
            if _round_trip(wider, region) > best[0]:
                best = (0.0, wider)
        offset = np.array([x - 1, y - 1], float)
        polygons.extend(p + offset for p in best[1])
    return polygons


_ROUND_TRIP_IOU = 0.95


def _trace_region(region: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """Hole-free polygons (region coordinates) of one padded 8-connected region."""
    contours, hierarchy = cv2.findContours(region, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    outer, holes = None, []
    for c, hier in zip(contours, hierarchy[0]):
        pts = c[:, 0, :].astype(float)
        if tolerance > 0 and len(pts) > 3:
            simplified = cv2.approxPolyDP(pts.astype(np.float32), tolerance, True)[:, 0, :].astype(float)
            if len(simplified) >= 3:
                pts = simplified
        if hier[3] < 0:
            outer = pts if outer is None or len(pts) > len(outer) else outer
        elif len(pts) >= 3 and abs(cv2.contourArea(pts.astype(np.float32))) >= 1.0:
            holes.append(pts)
    if outer is None:
        return []
    if len(outer) < 3:  # one or two pixels: a small box around them
        outer = _box_around(outer)
    if holes and abs(cv2.contourArea(outer.astype(np.float32))) >= 1.0:
        return _cut_holes(outer, holes)
    return [outer]


def _round_trip(polys: list[np.ndarray], region: np.ndarray) -> float:
    """IoU of the polygons rasterised the labelme way with the region; 0 if they fall apart."""
    back = np.zeros(region.shape, bool)
    for p in polys:
        back |= shape_to_mask(p, "polygon", region.shape)
    inter = np.count_nonzero(back & (region > 0))
    iou = inter / max(np.count_nonzero(back | (region > 0)), 1)
    if iou > 0 and cv2.connectedComponents(back.astype(np.uint8), connectivity=8)[0] > 2:
        return iou / 2  # a region that rasterises back in pieces is worse than a slightly fat one
    return iou


def _box_around(pts: np.ndarray) -> np.ndarray:
    """A thin or one-pixel region: its min-area box, at least one pixel wide, as a polygon."""
    (cx, cy), (w, h), angle = cv2.minAreaRect(pts.astype(np.float32))
    return cv2.boxPoints(((cx, cy), (max(w, 0.5), max(h, 0.5)), angle)).astype(float)


def _cut_holes(outer: np.ndarray, holes: list[np.ndarray]) -> list[np.ndarray]:
    from shapely.geometry import LineString, Polygon
    from shapely.ops import split

    poly = Polygon(outer, list(holes)).buffer(0)
    pending = list(getattr(poly, "geoms", [poly]))
    done: list[np.ndarray] = []
    guard = 0
    while pending and guard < 1000:
        guard += 1
        p = pending.pop()
        if p.is_empty or p.area <= 0:
            continue
        if not p.interiors:
            done.append(np.asarray(p.exterior.coords)[:-1])
            continue
        hx = p.interiors[0].centroid.x
        minx, miny, maxx, maxy = p.bounds
        cut = LineString([(hx, miny - 1), (hx, maxy + 1)])
        pieces = [g for g in split(p, cut).geoms if g.geom_type == "Polygon"]
        if len(pieces) < 2:  # degenerate: keep the outer ring rather than lose the region
            done.append(np.asarray(p.exterior.coords)[:-1])
            continue
        pending.extend(pieces)
    return done
