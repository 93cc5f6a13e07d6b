"""evaluate prints the defect-level figures (core.detection) in its text, its --json and --compare."""
import json

import cv2
import numpy as np
import pytest

from iunet_gui.cli import main
from iunet_gui.core.project import Project
from tests.test_training import make_toy


@pytest.fixture
def scored(tmp_path):
    """Ground truth of 6 toy images (5 squares of kind 'scratch', one defect-free) and predicted
    masks that miss t1's square and add a false alarm on the defect-free t5."""
    data = make_toy(tmp_path / "data", n=6, size=64)
    project, pred = Project.open(data), tmp_path / "pred"
    pred.mkdir()
    for img in sorted(data.glob("t*.png")):
        m = project.ground_truth_mask(img).copy()
        if img.stem == "t1":
            m[:] = False
        if img.stem == "t5":
            m[2:5, 2:5] = True
        cv2.imwrite(str(pred / f"{img.stem}.png"), m.astype(np.uint8) * 255)
    return pred, data


def test_text_report_counts_the_defects_found_per_kind_and_the_false_alarms(scored, capsys):
    pred, data = scored
    assert main(["evaluate", "--pred", str(pred), "--gt", str(data)]) == 0
    out = capsys.readouterr().out
    # the labelled photos lie beside their labels: each square (grey 210 on about 90) is plainly visible
    assert ("labelled defects found: 4 of 5 (80.0 %); plainly visible (|contrast| >= 20 grey levels) "
            "4 of 5 (80.0 %), faint 0 of 0") in out
    assert "per kind: scratch 4 of 5 (80.0 %)" in out
    assert "false alarms: 1 (0.17 per image)" in out
    row_t1 = next(line for line in out.splitlines() if line.startswith("t1 "))
    assert "0/1" in row_t1.split()  # found / labelled of the image


def test_json_summary_and_records_carry_the_defect_figures(scored, capsys):
    pred, data = scored
    assert main(["evaluate", "--pred", str(pred), "--gt", str(data), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    s = out["summary"]
    assert (s["defects_labelled"], s["defects_found"], s["defect_recall"]) == (5, 4, 0.8)
    assert s["false_alarms"] == 1 and s["false_alarms_per_image"] == pytest.approx(1 / 6)
    assert s["defect_kinds"] == {"scratch": {"labelled": 5, "found": 4, "recall": 0.8}}
    by_name = {r["name"]: r for r in out["images"]}
    assert (by_name["t1"]["defects_found"], by_name["t5"]["false_alarms"]) == (0, 1)


def test_without_the_photos_the_defects_are_counted_but_not_judged_visible(scored, capsys):
    pred, data = scored
    for photo in data.glob("t*.png"):
        photo.unlink()
    assert main(["evaluate", "--pred", str(pred), "--gt", str(data), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)["summary"]
    assert (s["defects_labelled"], s["defects_found"], s["defects_visible"], s["defects_faint"]) == (5, 4, 0, 0)


def test_tolerance_sets_how_far_a_pixel_may_lie_from_the_other_mask(tmp_path, capsys):
    """Predictions 3 px off their labelled squares: every predicted pixel is right within 3 px, not within 1."""
    data = make_toy(tmp_path / "data", n=3, size=64)
    project, pred = Project.open(data), tmp_path / "pred"
    pred.mkdir()
    for img in sorted(data.glob("t*.png")):
        m = np.roll(project.ground_truth_mask(img), 3, axis=1)
        cv2.imwrite(str(pred / f"{img.stem}.png"), m.astype(np.uint8) * 255)
    figures = {}
    for tol in ("1", "3"):
        assert main(["evaluate", "--pred", str(pred), "--gt", str(data), "--json", "--tolerance", tol]) == 0
        figures[tol] = json.loads(capsys.readouterr().out)["summary"]
    assert figures["3"]["tolerance_px"] == 3.0 and figures["1"]["tolerance_px"] == 1.0
    assert figures["3"]["tolerance_precision"] == 1.0 and figures["3"]["tolerance_recall"] == 1.0
    assert figures["1"]["tolerance_precision"] < 0.9 and figures["1"]["tolerance_f1"] < 0.9
    assert main(["evaluate", "--pred", str(pred), "--gt", str(data), "--tolerance", "-1"]) != 0
    assert "--tolerance must be >= 0" in capsys.readouterr().err



def test_the_inspection_settings_default_tolerance_is_the_detection_one():
    from iunet_gui.app.settings import InspectSettings
    from iunet_gui.core.detection import TOLERANCE_PX

    assert InspectSettings().tolerance_px == TOLERANCE_PX
