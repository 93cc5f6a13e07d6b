import json

import cv2
import numpy as np
import pytest

from iunet_gui.core.geometry import shape_to_mask
from iunet_gui.core.measure import measure_mask, measure_polygon


@pytest.mark.parametrize("angle", [0, 7, 17, 30, 45, 60, 75, 90, 111, 133, 150, 171])
@pytest.mark.parametrize("length, width", [(120, 6), (40, 1.5), (200, 30), (15, 4)])
def test_length_of_drawn_rectangles_within_2px_of_exact(angle, length, width):
    box = cv2.boxPoints(((160.3, 120.7), (length, width), angle))
    mask = shape_to_mask(box, "polygon", (260, 330))
    defects = measure_mask(mask)
    assert len(defects) == 1
    exact = measure_polygon(box)
    assert abs(exact.length_px - length) < 1e-3
    assert abs(defects[0].length_px - exact.length_px) <= 2.0
    assert abs(defects[0].width_px - exact.width_px) <= 2.0
    assert min(abs(defects[0].angle_deg - angle % 180), 180 - abs(defects[0].angle_deg - angle % 180)) <= 3.0 \
        or length / max(width, 1) < 4


@pytest.mark.parametrize("angle", range(0, 180, 15))
def test_thin_lines_at_many_angles(angle):
    length = 150
    t = np.deg2rad(angle)
    p0 = np.array([200.0, 200.0])
    p1 = p0 + length * np.array([np.cos(t), np.sin(t)])
    mask = np.zeros((400, 400), np.uint8)
    cv2.line(mask, tuple(np.round(p0).astype(int)), tuple(np.round(p1).astype(int)), 1, 1)
    d = measure_mask(mask.astype(bool))[0]
    assert abs(d.length_px - length) <= 2.0


def test_ellipse_length_is_its_major_axis():
    mask = np.zeros((300, 300), np.uint8)
    cv2.ellipse(mask, (150, 150), (90, 20), 25, 0, 360, 1, -1)
    d = measure_mask(mask.astype(bool))[0]
    assert abs(d.length_px - 180) <= 2.0 and abs(d.width_px - 40) <= 2.0


def test_mm_conversion_and_several_regions():
    mask = np.zeros((100, 100), bool)
    mask[10, 10:50] = True  # 40 px long, 1 px wide
    mask[60:70, 60:65] = True
    ds = measure_mask(mask, mm_per_px=0.05)
    assert len(ds) == 2
    long = max(ds, key=lambda d: d.length_px)
    assert abs(long.length_px - 39) <= 1.0 and long.width_px == pytest.approx(1.0)
    assert long.length_mm == pytest.approx(long.length_px * 0.05)
    assert long.area_px == 40 and long.centroid == pytest.approx((29.5, 10.0))
    assert len(long.box) == 4


def test_min_area_filter_and_empty_mask():
    mask = np.zeros((20, 20), bool)
    mask[2, 2] = True
    assert measure_mask(mask, min_area_px=2) == []
    assert measure_mask(np.zeros((5, 5), bool)) == []


def test_polygon_measurement_is_exact_and_serialisable():
    d = measure_polygon([[0, 0], [100, 0], [100, 10], [0, 10]], mm_per_px=0.1, label="scratch")
    assert d.length_px == pytest.approx(100) and d.width_px == pytest.approx(10)
    assert d.length_mm == pytest.approx(10) and d.area_px == pytest.approx(1000)
    out = d.to_dict()
    assert d.label == "scratch" and out["label"] == "scratch"
    assert out["angle_deg"] % 180.0 == pytest.approx(0, abs=1e-6)
    assert json.loads(json.dumps(out)) == out
    assert set(out) >= {"length_px", "width_px", "length_mm", "width_mm", "angle_deg", "area_px", "centroid", "box"}


def test_self_crossing_polygon_keeps_its_enclosed_area():
    bowtie = [[0, 0], [10, 10], [10, 0], [0, 10]]  # two triangles of 25 px each
    d = measure_polygon(bowtie)
    assert d.area_px == pytest.approx(50) and d.centroid == pytest.approx((5, 5))
    assert d.length_px == pytest.approx(10) and d.width_px == pytest.approx(10)


@pytest.mark.parametrize("angle", range(0, 180, 10))
def test_labelme_line_shapes_measure_their_length(angle):
    """A labelme 'line' is rasterised 10 px wide with flat ends: its mask measures the segment's
    length within 2 px, about 10 px wide, along the segment's direction."""
    t = np.deg2rad(angle)
    p0 = np.array([250.3, 240.7]) - 100 * np.array([np.cos(t), np.sin(t)])
    p1 = p0 + 200 * np.array([np.cos(t), np.sin(t)])
    d = measure_mask(shape_to_mask([p0, p1], "line", (480, 500)))[0]
    assert abs(d.length_px - 200) <= 2.0
    assert abs(d.width_px - 10) <= 2.0
    assert min(abs(d.angle_deg - angle), 180 - abs(d.angle_deg - angle)) <= 1.0


@pytest.mark.parametrize("angle", range(0, 180, 20))
@pytest.mark.parametrize("axes", [(90, 20), (40, 6), (25, 18)])
def test_ellipses_at_many_angles_measure_their_exact_rotated_rectangle(angle, axes):
    """The exact min rotated rectangle of an ellipse is its 2a x 2b bounding box along its axes."""
    mask = np.zeros((300, 300), np.uint8)
    cv2.ellipse(mask, ((150.0, 150.0), (2.0 * axes[0], 2.0 * axes[1]), float(angle)), 1, -1)
    d = measure_mask(mask.astype(bool))[0]
    assert abs(d.length_px - 2 * axes[0]) <= 2.0 and abs(d.width_px - 2 * axes[1]) <= 2.0
    if axes[0] / axes[1] > 2:
        assert min(abs(d.angle_deg - angle), 180 - abs(d.angle_deg - angle)) <= 2.0


def test_merge_gap_measures_the_pieces_of_a_broken_scratch_as_one_defect():
    from iunet_gui.core.measure import label_regions, measure_mask

    m = np.zeros((60, 200), np.uint8)
    for x0 in (10, 56, 102, 148):  # a horizontal scratch 3 px wide, broken into 4 pieces by 6 px gaps
        m[30:33, x0:x0 + 40] = 1
    m[5:8, 5:9] = 1  # a pit 22 px away: its own defect
    apart = measure_mask(m, 0.05)
    assert len(apart) == 5
    merged = measure_mask(m, 0.05, merge_gap_px=8)
    assert len(merged) == 2
    scratch = max(merged, key=lambda d: d.length_px)
    assert scratch.length_px == 177 and abs(scratch.length_mm - 177 * 0.05) < 1e-9  # pixel centres 10 .. 187
    assert scratch.area_px == 4 * 40 * 3  # the gaps are not counted as defect pixels
    m255 = m * 255
    assert label_regions(m255, 8)[0] == 3 and m255.max() == 255  # a 0/255 mask works and is left as it was
    n, labels, stats, cents = label_regions(m, 8)
    assert n == 3 and set(np.unique(labels[m == 0])) == {0}  # pixels unchanged, only grouped
    assert sorted(stats[1:, 4]) == [12, 480]
    k = labels[31, 10]
    assert tuple(stats[k, :4]) == (10, 30, 178, 3) and np.allclose(cents[k], [98.5, 31.0])
    assert len(measure_mask(m, None, merge_gap_px=4, chain_gap_px=0)) == 5  # a 6 px gap is more than 4
    assert len(measure_mask(m, None, merge_gap_px=4)) == 2  # but the pieces line up: chained (below)


def test_pieces_of_a_line_are_chained_across_long_gaps_and_nothing_else_is():
    from iunet_gui.core.measure import DEFAULT_CHAIN_GAP_PX, label_regions, measure_mask

    assert DEFAULT_CHAIN_GAP_PX == 80
    m = np.zeros((200, 600), np.uint8)
    m[100:103, 20:120] = 1  # a scratch 3 px wide ...
    m[101:104, 170:260] = 1  # ... its faint middle lost over 50 px, 1 px off the line
    m[99:102, 290:300] = 1  # ... and a short piece after a 30 px gap
    assert len(measure_mask(m, 0.05, merge_gap_px=8, chain_gap_px=0)) == 3
    (line,) = measure_mask(m, 0.05, merge_gap_px=8)
    assert 279 <= line.length_px <= 281 and line.area_px == 300 + 270 + 30
    assert len(measure_mask(m, 0.05)) == 3  # no merging, no chaining
    cv2.circle(m, (340, 101), 7, 1, -1)  # a pit 33 px beyond the end, on the line's axis: too wide to chain
    m[10:60, 150:153] = 1  # a scratch across the line's direction, 40 px above it: its own defect
    m[150:153, 400:480] = 1  # a parallel scratch 50 px to the side
    m[100:103, 395:470] = 1  # a line piece 95 px beyond the last piece: further than 80 px
    found = sorted(round(d.length_px) for d in measure_mask(m, 0.05, merge_gap_px=8))
    assert found == [13, 49, 74, 79, 279], found  # pit, crossing, line beyond, parallel, the chained line
    assert label_regions(m, 8)[0] == 6
    # a bent scratch (an arc of radius 500 px, 300 px long, 22 px from straight) with two 40 px gaps is one defect
    arc = np.zeros((200, 600), np.uint8)
    t = np.linspace(-0.3, 0.3, 400)
    xs, ys = (300 + 500 * np.sin(t)).astype(int), (650 - 500 * np.cos(t)).astype(int)
    keep = (np.abs(t + 0.1) > 0.04) & (np.abs(t - 0.1) > 0.04)
    for x, y in zip(xs[keep], ys[keep]):
        cv2.circle(arc, (int(x), int(y)), 1, 1, -1)
    assert len(measure_mask(arc, None, merge_gap_px=8, chain_gap_px=0)) == 3
    assert len(measure_mask(arc, None, merge_gap_px=8)) == 1


def test_evaluator_matches_a_broken_prediction_to_the_whole_ground_truth_scratch():
    from iunet_gui.core.metrics import Evaluator

    gt = np.zeros((60, 200), np.uint8)
    gt[30:33, 10:188] = 1
    pred = gt.copy()
    pred[:, 50:56] = 0  # the network missed two short stretches
    pred[:, 120:125] = 0
    strict = Evaluator().add("a", pred, gt, 0.05)
    merged = Evaluator(merge_gap_px=8).add("a", pred, gt, 0.05)
    assert strict["defects_pred"] == 3 and strict["length_error_max"] > 4  # longest piece ~ 65 px of 178
    assert merged["defects_pred"] == 1 and merged["length_error_max"] < 0.06


def test_evaluator_and_the_evaluate_cli_honour_the_chain_gap(tmp_path, capsys):
    from iunet_gui.cli import main
    from iunet_gui.core.metrics import Evaluator

    gt = np.zeros((60, 300), np.uint8)
    gt[30:33, 10:280] = 1
    pred = gt.copy()
    pred[:, 100:150] = 0  # a 50 px stretch missed: beyond the 8 px merge gap
    chained = Evaluator(merge_gap_px=8).add("a", pred, gt, 0.05)
    apart = Evaluator(merge_gap_px=8, chain_gap_px=0).add("a", pred, gt, 0.05)
    assert chained["defects_pred"] == 1 and chained["length_error_max"] < 0.06
    assert apart["defects_pred"] == 2 and apart["length_error_max"] > 4
    (tmp_path / "pred").mkdir()
    (tmp_path / "gt").mkdir()
    cv2.imwrite(str(tmp_path / "pred" / "a.png"), pred * 255)
    cv2.imwrite(str(tmp_path / "gt" / "a.png"), gt * 255)
    args = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--mm-per-px", "0.05", "--json"]
    for extra, n in (([], 1), (["--chain-gap", "0"], 2)):
        assert main(args + extra) == 0
        assert json.loads(capsys.readouterr().out)["images"][0]["defects_pred"] == n
    assert main(args + ["--chain-gap", "-1"]) == 2
