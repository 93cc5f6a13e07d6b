"""Figures per defect kind (core.kinds): pixel IoU per kind, MIoU over all classes, defect recall
and false alarms per kind, length error per kind and the confusion matrix of kinds."""
import numpy as np
import pytest

from iunet_gui.core.kinds import KindEvaluator, class_confusion, class_scores, region_kind

NAMES = ["scratch", "edge_crack", "hole"]


def planted():
    """Ground truth: a scratch, a hole and an edge crack. Prediction: the scratch right, the hole
    predicted as a scratch (the planted mislabel), the edge crack missed, and a false hole."""
    gt = np.zeros((60, 80), np.uint8)
    pred = np.zeros_like(gt)
    gt[5:8, 5:45] = 1  # scratch, 40 px long
    pred[5:8, 5:41] = 1  # found, 36 px long: length error 4
    gt[30:40, 10:20] = 3  # hole
    pred[30:40, 10:20] = 1  # ... predicted as a scratch
    gt[50:55, 60:70] = 2  # edge crack, missed
    pred[20:24, 60:64] = 3  # a hole where nothing is labelled: a false alarm of kind "hole"
    return pred, gt


def test_a_planted_mislabel_is_counted_in_the_confusion_matrix():
    pred, gt = planted()
    ev = KindEvaluator(NAMES)
    ev.add(pred, gt)
    s = ev.summary()
    m = np.array(s["kind_confusion"]["matrix"])
    assert s["kind_confusion"]["labels"] == ["background", *NAMES]
    assert m[1, 1] == 1  # the scratch, predicted as a scratch
    assert m[3, 1] == 1  # the hole, predicted as a scratch
    assert m.sum() == 2 and s["kind_accuracy"] == pytest.approx(0.5)
    k = s["kinds"]
    assert (k["scratch"]["labelled"], k["scratch"]["found"]) == (1, 1)
    assert (k["hole"]["labelled"], k["hole"]["found"], k["hole"]["false_alarms"]) == (1, 1, 1)
    assert (k["edge_crack"]["labelled"], k["edge_crack"]["found"], k["edge_crack"]["recall"]) == (1, 0, 0.0)
    assert k["scratch"]["length_error_mean"] == pytest.approx(4, abs=1.01)
    assert k["hole"]["iou"] == 0.0 and k["edge_crack"]["iou"] == 0.0
    assert 0 < k["scratch"]["iou"] < 1


def test_pixel_iou_per_class_and_miou_over_all_classes():
    gt = np.array([[0, 1, 1, 2]])
    pred = np.array([[0, 1, 2, 2]])
    conf = class_confusion(pred, gt, 3)
    assert conf.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    s = class_scores(conf)
    assert s["iou"].tolist() == [1.0, 0.5, 0.5]
    assert s["miou"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        class_confusion(pred, gt, 2)


def test_a_region_takes_the_kind_most_of_its_pixels_have():
    kind_map = np.array([[1, 2, 2, 0]])
    assert region_kind(kind_map, np.array([[True, True, True, True]])) == 2
    assert region_kind(kind_map, np.array([[False, False, False, True]])) == 0


def test_a_perfect_prediction_scores_one_everywhere():
    _, gt = planted()
    ev = KindEvaluator(NAMES)
    ev.add(gt, gt, mm_per_px=0.1)
    s = ev.summary()
    assert s["kind_miou"] == 1.0 and s["kind_accuracy"] == 1.0 and s["length_unit"] == "mm"
    assert all(v["recall"] == 1.0 and v["false_alarms"] == 0 and v["length_error_mean"] == 0 for v in s["kinds"].values())


def test_labelled_kinds_are_named_and_a_kind_without_pixels_is_not_one():
    pred = np.zeros((20, 20), np.uint8)
    pred[2:6, 2:6] = 2  # the model's second class, "hole"
    ev = KindEvaluator(["scratch", "hole"])
    ev.add_labelled(pred, ["scratch", "hole"], [("MT_Free", np.zeros((20, 20), bool))])
    ev.add_labelled(pred, ["scratch", "hole"], [("hole", pred > 0), ("MT_Crack", np.eye(20, dtype=bool))])
    s = ev.summary()
    assert list(s["kinds"]) == ["scratch", "hole", "MT_Crack"]  # the folder named a kind, the empty one none
    assert s["kinds"]["hole"]["found"] == 1 and s["kinds"]["hole"]["false_alarms"] == 1  # the first image's
    assert s["kinds"]["MT_Crack"]["labelled"] == 1 and s["kinds"]["MT_Crack"]["found"] == 1


def test_the_report_gets_a_row_per_kind_and_per_mislabel():
    from iunet_gui.core.report import kind_rows

    pred, gt = planted()
    ev = KindEvaluator(NAMES)
    ev.add(pred, gt)
    rows = {r["figure"]: r for r in kind_rows(ev.summary())}
    assert rows["kind hole as scratch"]["count"] == 1 and rows["kind scratch as scratch"]["count"] == 1
    assert (rows["kind as labelled"]["count"], rows["kind as labelled"]["of"], rows["kind as labelled"]["value"]) == (1, 2, 0.5)
    assert rows["false alarms kind hole"]["count"] == 1 and rows["IoU kind edge_crack"]["value"] == 0.0
    assert kind_rows({"kinds": {}}) == []
