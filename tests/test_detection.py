"""Defect-level figures on hand-made masks: found, missed, false alarms, contrast, tolerance scores."""
from pathlib import Path

import numpy as np
import pytest

from iunet_gui.core.detection import (
    VISIBLE_CONTRAST,
    find_defects,
    grey_levels,
    kind_masks,
    recall_table,
    shape_kinds,
    tolerance_counts,
    tolerance_scores,
)
from iunet_gui.core.metrics import Evaluator


def _scene():
    """Two labelled defects (a block and a line), a prediction that finds the block (spilling over
    its edge), misses the line, and raises one false alarm far from both."""
    gt = np.zeros((80, 120), bool)
    gt[10:20, 10:20] = True  # block, found
    gt[50, 30:90] = True  # thin line, missed
    pred = np.zeros_like(gt)
    pred[15:25, 15:25] = True  # touches the block and spills beyond it: not a false alarm
    pred[60:65, 100:105] = True  # touches nothing: a false alarm
    return pred, gt


def test_a_found_defect_a_missed_one_and_a_false_alarm():
    pred, gt = _scene()
    defects, false_alarms = find_defects(pred, gt)
    assert false_alarms == 1
    assert [(d.kind, d.found, d.area_px) for d in defects] == [("defect", True, 100), ("defect", False, 60)]
    assert defects[0].centroid == pytest.approx((14.5, 14.5))
    assert all(d.contrast is None and d.visibility is None for d in defects)  # no image given


def test_one_predicted_pixel_on_a_defect_finds_it_and_a_pixel_beside_it_does_not():
    gt = np.zeros((20, 20), bool)
    gt[5:10, 5:10] = True
    pred = np.zeros_like(gt)
    pred[9, 9] = True
    assert [d.found for d in find_defects(pred, gt)[0]] == [True]
    pred[:] = False
    pred[10, 10] = True  # diagonal neighbour: touches no labelled pixel
    defects, false_alarms = find_defects(pred, gt)
    assert [d.found for d in defects] == [False] and false_alarms == 1


def test_false_alarms_are_counted_as_the_app_groups_predicted_regions():
    gt = np.zeros((60, 60), bool)
    pred = np.zeros_like(gt)
    pred[10:14, 10:14] = True
    pred[10:14, 17:21] = True  # 3 px apart: one defect when regions 8 px apart merge
    pred[40:44, 40:44] = True
    assert find_defects(pred, gt)[1] == 3
    assert find_defects(pred, gt, merge_gap_px=8)[1] == 2


def test_bright_and_dark_defects_of_known_contrast():
    """Metal at 100 grey levels within the band; further away (beyond the 4 px band) at 200, which
    must not count. A bright scratch at 140 (+40: plainly visible) and a dark pit at 90 (-10: faint)."""
    grey = np.full((100, 100), 200, np.uint8)
    grey[10:40, 10:90] = 100  # the metal around the scratch: 4 px beyond it on every side
    grey[60:90, 60:90] = 100  # around the pit
    gt = np.zeros(grey.shape, bool)
    gt[14:36, 14:86] = False
    gt[24:26, 14:86] = True  # the scratch: rows 24-25, band rows 20-23 and 26-29 (all metal at 100)
    grey[24:26, 14:86] = 140
    gt[70:80, 70:80] = True  # the pit
    grey[70:80, 70:80] = 90
    defects, _ = find_defects(gt, gt, np.dstack([grey] * 3))
    scratch, pit = defects  # in raster order
    assert (scratch.area_px, pit.area_px) == (144, 100)
    assert scratch.contrast == pytest.approx(40.0, abs=0.01) and scratch.visibility == "visible"
    assert pit.contrast == pytest.approx(-10.0, abs=0.01) and pit.visibility == "faint"
    assert abs(scratch.contrast) >= VISIBLE_CONTRAST > abs(pit.contrast)


def test_the_band_leaves_out_other_labelled_pixels():
    grey = np.full((40, 40), 100, np.uint8)
    gt = np.zeros(grey.shape, bool)
    gt[10:20, 10:15] = True  # a defect at 160 ...
    grey[10:20, 10:15] = 160
    gt[10:20, 16:21] = True  # ... beside another at 0, 1 px away: not part of the first one's band
    grey[10:20, 16:21] = 0
    first, second = find_defects(np.zeros_like(gt), gt, grey)[0]
    assert first.contrast == pytest.approx(60.0) and second.contrast == pytest.approx(-100.0)


def test_recall_per_kind_and_by_contrast_in_the_evaluator():
    """Ground truth with kinds (a label map with names); a bright visible scratch found, a dark
    visible hole missed, a faint stain found; one false alarm over two images."""
    grey = np.full((60, 90), 100, np.uint8)
    labels = np.zeros(grey.shape, np.uint8)
    labels[10, 10:50] = 1  # scratch, bright (+60), found
    grey[10, 10:50] = 160
    labels[30:36, 30:36] = 2  # hole, dark (-80), missed
    grey[30:36, 30:36] = 20
    labels[45:50, 60:70] = 3  # stain, faint (+5), found
    grey[45:50, 60:70] = 105
    pred = np.zeros(grey.shape, bool)
    pred[10, 20:30] = True
    pred[46, 61] = True
    ev = Evaluator()
    rec = ev.add("a", pred, labels > 0, image=grey, kinds=labels, kind_names=["scratch", "hole", "stain"])
    assert (rec["defects_labelled"], rec["defects_found"], rec["false_alarms"]) == (3, 2, 0)
    assert (rec["defects_visible"], rec["found_visible"]) == (2, 1)
    empty = np.zeros(grey.shape, bool)
    alarm = empty.copy()
    alarm[55:58, 5:8] = True
    ev.add("b", alarm, empty, image=grey)  # a defect-free image with one false alarm
    s = ev.summary()
    assert (s["defects_labelled"], s["defects_found"]) == (3, 2) and s["defect_recall"] == pytest.approx(2 / 3)
    assert s["false_alarms"] == 1 and s["false_alarms_per_image"] == 0.5
    assert (s["defects_visible"], s["found_visible"], s["recall_visible"]) == (2, 1, 0.5)
    assert (s["defects_faint"], s["recall_faint"]) == (1, 1.0)
    assert s["recall_visible_bright"] == 1.0 and s["recall_visible_dark"] == 0.0
    assert s["defect_kinds"] == {"scratch": {"labelled": 1, "found": 1, "recall": 1.0},
                                 "hole": {"labelled": 1, "found": 0, "recall": 0.0},
                                 "stain": {"labelled": 1, "found": 1, "recall": 1.0}}
    assert s["visible_contrast"] == VISIBLE_CONTRAST


def test_kinds_as_pairs_dict_or_label_map_agree():
    a = np.zeros((10, 10), bool)
    a[1:3, 1:3] = True
    b = np.zeros((10, 10), bool)
    b[6:8, 6:8] = True
    label_map = a * 1 + b * 2
    as_pairs = kind_masks([("scratch", a), ("hole", b)])
    for other in (kind_masks({"scratch": a, "hole": b}), kind_masks(label_map, ["scratch", "hole"])):
        assert [k for k, _ in other] == ["scratch", "hole"]
        assert all(np.array_equal(m, n) for (_, m), (_, n) in zip(as_pairs, other))
    assert [k for k, _ in kind_masks(label_map.astype(np.uint8) * 100)] == ["defect"]  # a plain 0/255-style mask


def test_a_defect_of_each_kind_counts_apart_even_where_kinds_touch():
    a = np.zeros((10, 20), bool)
    a[2:5, 2:8] = True
    b = np.zeros_like(a)
    b[2:5, 8:14] = True  # touches a: one region in the union, two labelled defects
    pred = np.zeros_like(a)
    pred[3, 3] = True
    defects, _ = find_defects(pred, [("scratch", a), ("stain", b)])
    assert [(d.kind, d.found) for d in defects] == [("scratch", True), ("stain", False)]


def test_tolerance_scores_of_a_line_shifted_by_one_pixel():
    gt = np.zeros((30, 60), bool)
    gt[10, 5:55] = True
    pred = np.roll(gt, 1, axis=0)  # the same line one row lower: no pixel in common
    assert not (pred & gt).any()
    assert tolerance_scores(*tolerance_counts(pred, gt, 2)) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert tolerance_scores(*tolerance_counts(pred, gt, 0))["f1"] == 0.0
    far = np.roll(gt, 3, axis=0)  # 3 px away: beyond the 2 px tolerance
    assert tolerance_scores(*tolerance_counts(far, gt, 2))["f1"] == 0.0
    half = pred.copy()
    half[11, 30:55] = False  # columns 5-29 predicted: labelled columns 5-30 lie within 2 px of them
    s = tolerance_scores(*tolerance_counts(half, gt, 2))
    assert s["precision"] == 1.0 and s["recall"] == pytest.approx(26 / 50)
    assert s["f1"] == pytest.approx(2 * 0.52 / 1.52)


def test_the_tolerance_is_euclidean():
    gt = np.zeros((9, 9), bool)
    gt[4, 4] = True
    pred = np.zeros_like(gt)
    pred[2, 4] = pred[3, 5] = True  # 2 px and sqrt(2) px away: within 2 px
    pred[2, 5] = True  # sqrt(5) px away: not within 2 px
    assert tolerance_counts(pred, gt, 2) == (2, 3, 1, 1)


def test_the_evaluator_pools_tolerance_counts():
    gt = np.zeros((30, 60), bool)
    gt[10, 5:55] = True
    ev = Evaluator()
    rec = ev.add("a", np.roll(gt, 1, axis=0), gt)
    assert rec["tolerance_f1"] == 1.0 and rec["iou_defect"] == 0.0
    ev.add("b", np.zeros_like(gt), gt)  # nothing predicted: recall 0 on 50 labelled pixels
    s = ev.summary()
    assert s["tolerance_px"] == 2.0 and s["tolerance_precision"] == 1.0
    assert s["tolerance_recall"] == pytest.approx(0.5) and s["tolerance_f1"] == pytest.approx(2 / 3)


def test_grey_levels_of_rgb_and_grey_photos():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 100
    assert grey_levels(rgb) == pytest.approx(np.full((2, 2), 29.9))
    assert grey_levels(np.full((2, 2), 7, np.uint8)).dtype == np.float32
    assert grey_levels(np.full((2, 2), 65535, np.uint16)) == pytest.approx(np.full((2, 2), 255.0))


def test_an_image_without_labelled_defects_has_no_recall():
    table = recall_table([])
    assert table["all"] == {"labelled": 0, "found": 0, "recall": None}
    s = Evaluator().summary()
    assert s["defect_recall"] is None and s["false_alarms_per_image"] is None


def test_sizes_must_agree():
    with pytest.raises(ValueError, match="differ"):
        find_defects(np.zeros((3, 4), bool), np.zeros((4, 3), bool))
    with pytest.raises(ValueError, match="differ"):
        find_defects(np.zeros((3, 4), bool), np.zeros((3, 4), bool), np.zeros((4, 4), np.uint8))


def test_labelme_shapes_give_one_mask_per_kind():
    from iunet_gui.core.annotation import Annotation
    from iunet_gui.core.geometry import shapes_to_mask

    ann = Annotation.load(Path(__file__).parent / "data" / "labelme_written.json")
    hw = (ann.image_height, ann.image_width)
    kinds = shape_kinds(ann.shapes, hw)
    assert [k for k, _ in kinds] == ["scratch", "hole", "oxidation"]
    union = np.zeros(hw, bool)
    for _, m in kinds:
        union |= m
    assert np.array_equal(union, shapes_to_mask(ann.shapes, hw))
    defects, false_alarms = find_defects(union, kinds)
    assert false_alarms == 0 and all(d.found for d in defects)
    assert {d.kind for d in defects} == {"scratch", "hole", "oxidation"}


def test_a_negative_tolerance_or_an_empty_band_is_refused():
    with pytest.raises(ValueError, match="tolerance"):
        tolerance_counts(np.zeros((3, 4), bool), np.zeros((3, 4), bool), -1)
    with pytest.raises(ValueError, match="band"):
        find_defects(np.zeros((3, 4), bool), np.zeros((3, 4), bool), band_px=0)
