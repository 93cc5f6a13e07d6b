import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from iunet_gui.cli import main

DATA = Path(__file__).parent / "data"


def test_masks_from_a_labelme_file(tmp_path, capsys):
    assert main(["masks", str(DATA / "labelme_written.json"), "--out", str(tmp_path)]) == 0
    m = cv2.imread(str(tmp_path / "labelme_written.png"), cv2.IMREAD_UNCHANGED)
    assert m.shape == (100, 160) and set(np.unique(m)) == {0, 255}
    assert m[20, 30] == 255  # inside the rectangle


def test_measure_json_output_of_a_mask(tmp_path, capsys):
    m = np.zeros((50, 80), np.uint8)
    m[10:13, 10:70] = 255
    cv2.imwrite(str(tmp_path / "m.png"), m)
    assert main(["measure", str(tmp_path / "m.png"), "--mm-per-px", "0.1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mm_per_px"] == 0.1 and len(out["defects"]) == 1
    d = out["defects"][0]
    assert d["length_px"] == pytest.approx(59, abs=1) and d["length_mm"] == pytest.approx(5.9, abs=0.1)
    assert set(d) >= {"length_px", "width_px", "length_mm", "width_mm", "angle_deg", "area_px", "centroid", "box"}


def test_measure_labelme_uses_its_calibration(tmp_path, capsys):
    """A labelme file carrying "mm_per_px" is measured in mm without --mm-per-px; the flag overrides it."""
    doc = json.loads((DATA / "labelme_written.json").read_text())
    doc["mm_per_px"] = 0.25
    (tmp_path / "part_01.json").write_text(json.dumps(doc))
    assert main(["measure", str(tmp_path / "part_01.json"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mm_per_px"] == 0.25 and len(out["defects"]) == 6
    assert [d["label"] for d in out["defects"]] == ["scratch", "hole", "oxidation", "scratch", "hole", "scratch"]
    assert all(d["length_mm"] == pytest.approx(d["length_px"] * 0.25, abs=1e-3) for d in out["defects"])
    assert main(["measure", str(tmp_path / "part_01.json"), "--mm-per-px", "0.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mm_per_px"] == 0.5
    assert main(["measure", str(tmp_path / "part_01.json")]) == 0
    text = capsys.readouterr().out
    assert "6 defect(s), 0.25 mm/px" in text and "hole" in text


def test_evaluate_pred_against_labelme_gt(tmp_path, capsys):
    gt = tmp_path / "gt"
    pred = tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    (gt / "a.json").write_text((DATA / "labelme_written.json").read_text())
    assert main(["masks", str(gt / "a.json"), "--out", str(pred)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", "--mm-per-px", "0.1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["miou"] == 1.0 and out["summary"]["accuracy"] == 1.0
    assert out["summary"]["length_error_max_mm"] == 0.0


@pytest.mark.parametrize("argv, fragment", [
    (["measure", "/nonexistent/x.png"], "no such file"),
    (["masks", "/nonexistent", "--out", "/tmp/x"], "no such file"),
    (["evaluate", "--pred", "/nonexistent", "--gt", "/nonexistent"], "not a folder"),
    (["evaluate"], "give --pred"),
])
def test_bad_input_exits_2_with_one_line(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1


def test_broken_json_exits_2_in_a_real_process(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    r = subprocess.run([sys.executable, "-m", "iunet_gui", "measure", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "broken JSON" in r.stderr and "Traceback" not in r.stderr


def test_calibrate_cli(tmp_path, capsys):
    img = np.full((400, 500), 40, np.uint8)
    cv2.circle(img, (250, 200), 150, 200, -1)
    cv2.circle(img, (250, 200), 60, 40, -1)
    cv2.imwrite(str(tmp_path / "w.png"), img)
    assert main(["calibrate", str(tmp_path / "w.png"), "--outer-diameter-mm", "30", "--json", "--save"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mm_per_px"] == pytest.approx(0.1, rel=0.01)
    assert json.loads((tmp_path / "iunet_project.json").read_text())["mm_per_px"] == pytest.approx(0.1, rel=0.01)


def test_measure_a_labelme_mask_shape_by_its_pixels(tmp_path, capsys):
    import base64
    import io

    from PIL import Image

    sub = np.zeros((6, 40), np.uint8)
    sub[2:4, 5:35] = 1  # 30 x 2 px stroke
    buf = io.BytesIO()
    Image.fromarray(sub).save(buf, format="PNG")
    doc = {"version": "5.5.0", "flags": {}, "imagePath": "a.png", "imageData": None, "imageHeight": 50,
           "imageWidth": 80, "shapes": [{"label": "scratch", "points": [[10, 10], [49, 15]], "group_id": None,
                                        "description": "", "shape_type": "mask", "flags": {},
                                        "mask": base64.b64encode(buf.getvalue()).decode()}]}
    (tmp_path / "a.json").write_text(json.dumps(doc))
    assert main(["measure", str(tmp_path / "a.json"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["defects"]
    assert len(d) == 1 and d[0]["label"] == "scratch"
    assert d[0]["area_px"] == 60 and d[0]["length_px"] == pytest.approx(29, abs=1)
    assert d[0]["centroid"] == pytest.approx([10 + 19.5, 10 + 2.5])


def test_masks_of_a_folder_go_on_past_a_broken_file_and_exit_2(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.json").write_text((DATA / "labelme_written.json").read_text())
    (src / "b.json").write_text("{broken")
    assert main(["masks", str(src), "--out", str(tmp_path / "out")]) == 2
    assert (tmp_path / "out" / "a.png").exists() and not (tmp_path / "out" / "b.png").exists()
    cap = capsys.readouterr()
    assert "skipped" in cap.out and "b.json" in cap.out
    assert "1 of 2" in cap.err and len(cap.err.strip().splitlines()) == 1


def test_masks_never_overwrite_the_labelled_photo(tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "part_01.png"), np.full((100, 160, 3), 99, np.uint8))
    (tmp_path / "part_01.json").write_text((DATA / "labelme_written.json").read_text())
    assert main(["masks", str(tmp_path / "part_01.json"), "--out", str(tmp_path)]) == 2
    assert "overwrite" in capsys.readouterr().err
    assert cv2.imread(str(tmp_path / "part_01.png"))[0, 0].tolist() == [99, 99, 99]


def test_evaluate_accepts_threshold_iou_spelling(tmp_path, capsys):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    m = np.zeros((20, 20), np.uint8)
    m[2:10, 2:10] = 255
    cv2.imwrite(str(gt / "a.png"), m)
    p = np.zeros_like(m)
    p[2:10, 2:6] = 255  # defect IoU 0.5
    cv2.imwrite(str(pred / "a.png"), p)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", "--threshold-iou", "0.6"]) == 0
    s = json.loads(capsys.readouterr().out)["summary"]
    assert s["accuracy"] == 0.0 and s["iou_defect"] == pytest.approx(0.5)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", "--iou-threshold", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["accuracy"] == 1.0


def test_measure_a_mask_takes_the_calibration_of_the_json_beside_it(tmp_path, capsys):
    m = np.zeros((40, 80), np.uint8)
    m[10:13, 10:70] = 255
    cv2.imwrite(str(tmp_path / "w.png"), m)
    (tmp_path / "w.json").write_text(json.dumps({"image": "w.jpg", "mm_per_px": 0.05, "defects": []}))
    (tmp_path / "iunet_project.json").write_text(json.dumps({"mm_per_px": 0.5}))
    assert main(["measure", str(tmp_path / "w.png"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mm_per_px"] == 0.05 and out["defects"][0]["length_mm"] == pytest.approx(59 * 0.05, abs=0.06)
    (tmp_path / "w.json").unlink()
    assert main(["measure", str(tmp_path / "w.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mm_per_px"] == 0.5  # then the project's


def test_calibrate_save_never_replaces_a_broken_settings_file(tmp_path, capsys):
    img = np.full((400, 500), 40, np.uint8)
    cv2.circle(img, (250, 200), 150, 200, -1)
    cv2.imwrite(str(tmp_path / "w.png"), img)
    (tmp_path / "iunet_project.json").write_text('{"classes": [oops')
    assert main(["calibrate", str(tmp_path / "w.png"), "--outer-diameter-mm", "30", "--save"]) == 2
    assert "not saved" in capsys.readouterr().err
    assert (tmp_path / "iunet_project.json").read_text() == '{"classes": [oops'


def test_evaluate_skips_unlabelled_photos_of_a_labelme_project(tmp_path, capsys):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    (gt / "a.json").write_text((DATA / "labelme_written.json").read_text())
    cv2.imwrite(str(gt / "a.png"), np.full((100, 160, 3), 200, np.uint8))  # the photo of a.json
    cv2.imwrite(str(gt / "b.png"), np.full((100, 160, 3), 200, np.uint8))  # an unlabelled bright photo
    assert main(["masks", str(gt / "a.json"), "--out", str(pred)]) == 0
    cv2.imwrite(str(pred / "b.png"), np.zeros((100, 160), np.uint8))
    capsys.readouterr()
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in out["images"]] == ["a"] and out["missing_ground_truth"] == ["b"]


def test_measure_merge_gap_joins_the_pieces_of_a_broken_scratch(tmp_path, capsys):
    m = np.zeros((40, 120), np.uint8)
    m[20:22, 10:50] = 255
    m[20:22, 55:110] = 255  # the same scratch, broken by a 5 px gap
    cv2.imwrite(str(tmp_path / "m.png"), m)
    assert main(["measure", str(tmp_path / "m.png"), "--mm-per-px", "0.1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["defects"]) == 2
    assert main(["measure", str(tmp_path / "m.png"), "--mm-per-px", "0.1", "--json", "--merge-gap", "8"]) == 0
    (d,) = json.loads(capsys.readouterr().out)["defects"]
    assert d["length_px"] == 99 and d["length_mm"] == pytest.approx(9.9)
    assert main(["measure", str(tmp_path / "m.png"), "--merge-gap", "-1"]) == 2
