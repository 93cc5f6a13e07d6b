"""predict --report: the inspect loop's rows as CSV, matched with the labels where an image has them."""
import csv

from iunet_gui.cli import main
from iunet_gui.models.checkpoint import save_checkpoint
from iunet_gui.models.registry import build_preset
from tests.test_training import make_toy


def test_predict_writes_a_report_row_per_defect_with_labelled_images_matched(tmp_path, capsys):
    import torch

    data = make_toy(tmp_path / "data", n=3, size=48)
    torch.manual_seed(0)
    model, cfg = build_preset("iunet", "default", base=4, depth=3)
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, model.eval(), arch="iunet", config=cfg)
    report = tmp_path / "detections.csv"
    assert main(["predict", str(data), "--checkpoint", str(ckpt), "--out", str(tmp_path / "out"), "--backend",
                 "torch", "--no-crop", "--threshold", "0.99", "--report", str(report)]) == 0
    rows = list(csv.DictReader(report.open()))
    summary = {r["figure"]: r for r in rows if r["status"] == "summary"}
    rows = [r for r in rows if r["status"] != "summary"]
    assert (summary["found all"]["count"], summary["found all"]["of"], summary["found all"]["value"]) == ("0", "2", "0.0")
    assert summary["false alarms per image"]["count"] == "0" and summary["false alarms per image"]["of"] == "3"
    # an untrained network at 0.99 predicts nothing: each labelled square is reported missed, with its length
    assert [(r["image"], r["status"]) for r in rows] == [("t0.png", "missed"), ("t1.png", "missed")]
    # each row says what produced it: the model, its threshold, the inputs and when
    assert {(r["model"], r["threshold"], r["folder"]) for r in rows} == {(str(ckpt), "0.99", str(data))}
    assert list(rows[0])[:4] == ["model", "threshold", "folder", "created"] and rows[0]["created"][:2] == "20"
    assert all(float(r["gt_length"]) > 10 and r["unit"] == "px" for r in rows)
    assert f"report: 2 row(s) in {report}" in capsys.readouterr().out
