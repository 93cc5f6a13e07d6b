import math

import cv2
import numpy as np
import PIL.Image
import PIL.ImageDraw
import pytest

from iunet_gui.core.annotation import Shape
from iunet_gui.core.geometry import mask_to_polygons, shape_to_mask, shapes_to_mask


def labelme_shape_to_mask(img_shape, points, shape_type=None, line_width=10, point_size=5):
    """labelme.utils.shape_to_mask (labelme 5.x), copied here as the reference."""
    mask = np.zeros(img_shape[:2], dtype=np.uint8)
    mask = PIL.Image.fromarray(mask)
    draw = PIL.ImageDraw.Draw(mask)
    xy = [tuple(point) for point in points]
    if shape_type == "circle":
        (cx, cy), (px, py) = xy
        d = math.sqrt((cx - px) ** 2 + (cy - py) ** 2)
        draw.ellipse([cx - d, cy - d, cx + d, cy + d], outline=1, fill=1)
    elif shape_type == "rectangle":
        draw.rectangle(xy, outline=1, fill=1)
    elif shape_type in ("line", "linestrip"):
        draw.line(xy=xy, fill=1, width=line_width)
    elif shape_type == "point":
        cx, cy = xy[0]
        r = point_size
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=1, fill=1)
    else:
        draw.polygon(xy=xy, outline=1, fill=1)
    return np.array(mask, dtype=bool)


def _iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


def test_matches_labelme_on_random_shapes_of_every_type():
    rng = np.random.default_rng(0)
    ious = []
    for _ in range(150):
        kind = rng.choice(["polygon", "rectangle", "circle", "line", "linestrip", "point"])
        n = {"polygon": int(rng.integers(3, 12)), "linestrip": 4, "point": 1}.get(kind, 2)
        pts = (rng.random((n, 2)) * [300, 200]).tolist()
        if kind == "rectangle":
            pts = [list(np.min(pts, 0)), list(np.max(pts, 0))]
        ref = labelme_shape_to_mask((200, 300), pts, kind)
        ours = shape_to_mask(pts, kind, (200, 300))
        ious.append(_iou(ref, ours))
    assert min(ious) >= 0.99


def test_rectangle_with_points_in_any_order():
    a = shape_to_mask([[30, 20], [10, 5]], "rectangle", (40, 40))
    assert a[5:21, 10:31].all() and a.sum() == 16 * 21


def test_degenerate_shapes_give_empty_masks_not_errors():
    assert not shape_to_mask([[1, 1], [2, 2]], "polygon", (10, 10)).any()
    assert not shape_to_mask([[1, 1]], "circle", (10, 10)).any()


def test_shapes_to_mask_filters_labels_and_skips_degenerate():
    shapes = [Shape("scratch", [[0, 0], [9, 0], [9, 9]]), Shape("hole", [[20, 20], [29, 20], [29, 29], [20, 29]]),
              Shape("hole", [[1, 1], [2, 2]])]
    both = shapes_to_mask(shapes, (40, 40))
    holes = shapes_to_mask(shapes, (40, 40), labels=["hole"])
    assert both[5, 8] and both[25, 25] and not holes[5, 8] and holes[25, 25]


@pytest.mark.parametrize("tolerance", [0.0, 1.0])
def test_mask_to_polygons_round_trip(tolerance):
    m = np.zeros((200, 200), np.uint8)
    cv2.ellipse(m, (100, 100), (60, 25), 30, 0, 360, 1, -1)
    cv2.rectangle(m, (10, 10), (40, 30), 1, -1)
    polys = mask_to_polygons(m.astype(bool), tolerance=tolerance)
    assert len(polys) == 2
    back = shapes_to_mask([Shape("d", p.tolist()) for p in polys], m.shape)
    assert _iou(back, m.astype(bool)) >= 0.98


@pytest.mark.parametrize("inner, outer, tolerance", [(15, 40, 0.5), (15, 40, 2.0), (38, 40, 1.0), (9, 12, 1.0)])
def test_ring_with_a_hole_round_trips(inner, outer, tolerance):
    yy, xx = np.mgrid[:120, :120]
    r = np.hypot(xx - 60, yy - 60)
    ring = (r < outer) & (r > inner)
    polys = mask_to_polygons(ring, tolerance=tolerance)
    back = shapes_to_mask([Shape("d", p.tolist()) for p in polys], ring.shape)
    assert _iou(back, ring) >= 0.95
    assert not back[60, 60]  # the hole stays a hole


def test_thin_scratch_becomes_one_connected_polygon_set():
    m = np.zeros((100, 100), np.uint8)
    cv2.line(m, (5, 10), (90, 70), 1, 1)
    polys = mask_to_polygons(m.astype(bool), tolerance=1.0)
    back = shapes_to_mask([Shape("d", p.tolist()) for p in polys], m.shape)
    assert (back & m.astype(bool)).sum() == m.sum()  # nothing of the scratch is lost
    assert cv2.connectedComponents(back.astype(np.uint8), connectivity=8)[0] == 2


def test_min_area_drops_specks():
    m = np.zeros((30, 30), bool)
    m[3, 3] = True
    m[10:20, 10:20] = True
    assert len(mask_to_polygons(m, min_area=4)) == 1


def test_mask_shape_is_placed_like_labelme():
    import base64
    import io

    sub = np.zeros((4, 5), np.uint8)
    sub[1:3, 1:4] = 1
    buf = io.BytesIO()
    PIL.Image.fromarray(sub).save(buf, format="PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    pts = [[10.7, 5.2], [14.7, 8.2]]
    ours = shape_to_mask(pts, "mask", (20, 30), data)
    ref = np.zeros((20, 30), bool)  # labelme: (x1, y1), (x2, y2) = points.astype(int); mask[y1:y2+1, x1:x2+1] = m
    (x1, y1), (x2, y2) = np.asarray(pts).astype(int)
    ref[y1:y2 + 1, x1:x2 + 1] = sub.astype(bool)
    assert np.array_equal(ours, ref)
    edge = shape_to_mask([[27.0, 18.0], [31.0, 21.0]], "mask", (20, 30), data)  # cut at the image border
    assert edge.sum() == sub[:2, :3].sum()
    assert not shape_to_mask(pts, "mask", (20, 30), "not base64 png").any()


@pytest.mark.parametrize("tolerance, min_iou", [(0.0, 1.0), (0.3, 0.99), (1.0, 0.95), (2.0, 0.95)])
def test_one_pixel_scratches_stay_one_pixel_wide(tolerance, min_iou):
    m = np.zeros((120, 200), np.uint8)
    cv2.polylines(m, [np.array([[5, 100], [60, 40], [130, 30], [195, 70]], np.int32)], False, 1, 1)
    cv2.line(m, (10, 10), (90, 14), 1, 1)
    m = m.astype(bool)
    polys = mask_to_polygons(m, tolerance=tolerance)
    back = shapes_to_mask([Shape("d", p.tolist()) for p in polys], m.shape)
    assert _iou(back, m) >= min_iou
    assert cv2.connectedComponents(back.astype(np.uint8), connectivity=8)[0] == 3  # each scratch in one piece


def test_blobs_round_trip_exactly_without_simplification():
    rng = np.random.default_rng(1)
    m = cv2.GaussianBlur(rng.random((150, 150)).astype(np.float32), (0, 0), 4) > 0.5
    polys = mask_to_polygons(m, tolerance=0.0, min_area=1)
    back = shapes_to_mask([Shape("d", p.tolist()) for p in polys], m.shape)
    assert _iou(back, m) >= 0.999
    simplified = mask_to_polygons(m, tolerance=1.0, min_area=1)
    assert sum(map(len, simplified)) < sum(map(len, polys)) / 2  # the tolerance does simplify
