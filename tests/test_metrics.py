import numpy as np
import pytest

from iunet_gui.core.metrics import Evaluator, confusion, match_defects, pooled_iou_interval, scores


def test_scores_of_a_known_case():
    gt = np.zeros((10, 10), bool)
    gt[0:2, 0:5] = True  # 10 px
    pred = np.zeros((10, 10), bool)
    pred[0:2, 0:4] = True  # 8 px, all correct
    pred[9, 9] = True  # 1 false positive
    tp, fp, fn, tn = confusion(pred, gt)
    assert (tp, fp, fn, tn) == (8, 1, 2, 89)
    s = scores(tp, fp, fn, tn)
    assert s["iou_defect"] == pytest.approx(8 / 11)
    assert s["iou_background"] == pytest.approx(89 / 92)
    assert s["miou"] == pytest.approx((8 / 11 + 89 / 92) / 2)
    assert s["dice"] == pytest.approx(16 / 19)
    assert s["pixel_accuracy"] == pytest.approx(97 / 100)


def test_empty_prediction_of_an_empty_image_is_perfect():
    z = np.zeros((4, 4), bool)
    assert scores(*confusion(z, z))["miou"] == 1.0


def test_size_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ"):
        confusion(np.zeros((2, 3), bool), np.zeros((3, 2), bool))


def test_matching_pairs_by_overlap_and_reports_unmatched():
    gt = np.zeros((60, 60), bool)
    gt[5:8, 5:45] = True  # length 40
    gt[30:40, 30:40] = True
    pred = np.zeros((60, 60), bool)
    pred[5:8, 5:40] = True  # length 35 -> error 5 px
    pred[50:55, 50:55] = True  # false alarm
    pairs, up, ug = match_defects(pred, gt)
    assert len(pairs) == 1 and len(up) == 1 and len(ug) == 1
    p, g, iou = pairs[0]
    assert g.length_px - p.length_px == pytest.approx(5, abs=0.01)


def test_evaluator_dataset_figures_and_accuracy():
    ev = Evaluator(iou_threshold=0.5)
    gt = np.zeros((20, 20), bool)
    gt[2:4, 2:12] = True
    ev.add("good", gt.copy(), gt, mm_per_px=0.1)
    ev.add("missed", np.zeros_like(gt), gt, mm_per_px=0.1)
    ev.add("clean", np.zeros_like(gt), np.zeros_like(gt), mm_per_px=0.1)
    s = ev.summary()
    assert s["images"] == 3
    assert s["accuracy"] == pytest.approx(2 / 3)
    assert s["iou_defect"] == pytest.approx(0.5)  # 20 tp, 20 fn over the set
    assert s["length_error_max_mm"] == pytest.approx(0.0) and s["matched_defects"] == 1
    assert s["unmatched_gt"] == 1 and s["unmatched_pred"] == 0  # the missed defect
    assert s["length_unit"] == "mm"


def test_length_errors_in_mm():
    ev = Evaluator()
    gt = np.zeros((30, 80), bool)
    gt[10:12, 10:60] = True
    pred = np.zeros_like(gt)
    pred[10:12, 10:50] = True
    rec = ev.add("a", pred, gt, mm_per_px=0.2)
    assert rec["length_error_max"] == pytest.approx(10 * 0.2)
    assert ev.summary()["length_error_mean_mm"] == pytest.approx(2.0)


def test_calibrated_and_uncalibrated_errors_are_never_averaged_together():
    ev = Evaluator()
    gt = np.zeros((30, 80), bool)
    gt[10:12, 10:60] = True
    pred = np.zeros_like(gt)
    pred[10:12, 10:50] = True  # 10 px too short
    ev.add("calibrated", pred, gt, mm_per_px=0.2)  # 2 mm
    ev.add("uncalibrated", pred, gt)  # 10 px
    s = ev.summary()
    assert s["length_unit"] == "mm"
    assert s["length_error_max"] == pytest.approx(2.0) and s["length_error_mean_mm"] == pytest.approx(2.0)
    assert s["length_error_max_px"] == pytest.approx(10.0) and s["matched_defects_uncalibrated"] == 1
    assert s["matched_defects"] == 2
    only_px = Evaluator()
    only_px.add("a", pred, gt)
    s = only_px.summary()
    assert s["length_unit"] == "px" and s["length_error_max"] == pytest.approx(10.0)
    assert s["length_error_max_mm"] is None


def _square(size=20, at=(0, 0), side=10):
    m = np.zeros((size, size), bool)
    m[at[0]:at[0] + side, at[1]:at[1] + side] = True
    return m


def test_pooled_iou_interval_shows_how_much_the_figure_owes_to_the_test_images():
    ev = Evaluator()
    ev.add("hit", _square(), _square())  # IoU 1
    ev.add("miss", _square(at=(10, 10)), _square())  # disjoint: IoU 0
    assert (ev.records[0]["tp"], ev.records[1]["fp"], ev.records[1]["fn"]) == (100, 100, 100)
    assert ev.summary()["iou_defect"] == pytest.approx(1 / 3)
    lo, hi = pooled_iou_interval(ev.records)
    assert lo == 0.0 and hi == 1.0  # two images: a draw may hold only the miss or only the hit
    same = Evaluator()
    for k in range(30):
        same.add(str(k), _square(side=10), _square(side=5))  # IoU 0.25 on every image
    lo, hi = pooled_iou_interval(same.records)
    assert lo == pytest.approx(0.25) and hi == pytest.approx(0.25)
    mixed = Evaluator()
    for k in range(40):
        mixed.add(str(k), *((_square(), _square()) if k % 2 else (_square(at=(10, 10)), _square())))
    lo, hi = pooled_iou_interval(mixed.records, level=0.9)
    assert 0.15 < lo < 1 / 3 < hi < 0.6  # the pooled 1/3 inside a finite interval
    with pytest.raises(ValueError, match="no records"):
        pooled_iou_interval([])
    with pytest.raises(ValueError, match="level"):
        pooled_iou_interval(same.records, level=1.0)
