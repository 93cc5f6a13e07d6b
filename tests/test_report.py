"""QA detection reports (core: no Qt, no torch)."""
import csv

import numpy as np
import pytest

from iunet_gui.core.report import COLUMNS, report_rows, write_report_csv


def masks():
    gt = np.zeros((100, 120), bool)
    gt[10:20, 10:50] = True  # 40 px long: found, predicted 30 px long
    gt[60:70, 80:90] = True  # missed
    pred = np.zeros_like(gt)
    pred[10:20, 10:40] = True
    pred[80:90, 10:20] = True  # false alarm
    return pred, gt


def test_rows_match_prediction_and_ground_truth_in_mm():
    pred, gt = masks()
    rows = report_rows("x.png", pred, gt, mm_per_px=0.5)
    assert [r["status"] for r in rows] == ["found", "false alarm", "missed"]
    found = rows[0]
    assert found["unit"] == "mm" and found["length"] == pytest.approx(29 * 0.5) and found["gt_length"] == pytest.approx(39 * 0.5)
    assert found["length_error"] == pytest.approx(-5.0) and found["iou"] == pytest.approx(0.75)
    assert "length" not in rows[2] and rows[2]["gt_length"] == pytest.approx(4.5)


def test_without_ground_truth_every_defect_is_predicted_in_px():
    pred, _ = masks()
    rows = report_rows("y.png", pred, None)
    assert [r["status"] for r in rows] == ["predicted", "predicted"] and {r["unit"] for r in rows} == {"px"}


def test_csv_has_every_column_and_is_written_atomically(tmp_path):
    pred, gt = masks()
    out = tmp_path / "r.csv"
    out.write_text("old report")
    write_report_csv(out, report_rows("x.png", pred, gt, 0.5))
    rows = list(csv.DictReader(out.open()))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 3 and rows[2]["length"] == ""
    assert not list(tmp_path.glob("*.tmp*"))


def test_one_pairing_serves_the_evaluator_and_the_report(monkeypatch):
    import iunet_gui.core.metrics as metrics
    import iunet_gui.core.report as report

    pred, gt = masks()
    ev_alone = metrics.Evaluator()
    rec_alone, rows_alone = ev_alone.add("x.png", pred, gt, 0.5), report_rows("x.png", pred, gt, 0.5)
    ev = metrics.Evaluator()
    matched = ev.match(pred, gt, 0.5)
    calls = []
    monkeypatch.setattr(metrics, "match_defects", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(report, "match_defects", lambda *a, **k: calls.append(a))
    assert ev.add("x.png", pred, gt, 0.5, matched=matched) == rec_alone
    assert report_rows("x.png", pred, gt, 0.5, matched=matched) == rows_alone
    assert calls == []  # neither paired the defects again
    assert ev.summary() == ev_alone.summary()


def test_summary_rows_carry_recall_per_group_and_false_alarms_per_image(tmp_path):
    from iunet_gui.core.metrics import Evaluator
    from iunet_gui.core.report import summary_rows

    grey = np.full((100, 120), 100, np.uint8)
    pred, gt = masks()
    grey[10:20, 10:50] = 160  # the found defect: bright (+60)
    grey[60:70, 80:90] = 60  # the missed one: dark (-40)
    ev = Evaluator()
    ev.add("x.png", pred, gt, image=grey, kinds=[("scratch", gt & (np.arange(120) < 60)), ("hole", gt & (np.arange(120) >= 60))])
    ev.add("y.png", np.zeros_like(gt), np.zeros_like(gt))
    rows = {r["figure"]: (r["count"], r["of"], r["value"]) for r in summary_rows(ev.summary())}
    assert rows["found all"] == (1, 2, 0.5) and rows["found kind scratch"] == (1, 1, 1.0)
    assert rows["found kind hole"] == (0, 1, 0.0) and rows["found plainly visible"] == (1, 2, 0.5)
    assert rows["found plainly visible bright"] == (1, 1, 1.0) and rows["found plainly visible dark"] == (0, 1, 0.0)
    assert rows["found faint"] == (0, 0, "") and rows["false alarms per image"] == (1, 2, 0.5)
    assert summary_rows(None) == []
    out = tmp_path / "r.csv"
    write_report_csv(out, report_rows("x.png", pred, gt) + summary_rows(ev.summary()))
    read = list(csv.DictReader(out.open()))
    assert [r["status"] for r in read].count("summary") == len(rows) and read[-1]["value"] == "0.5"
