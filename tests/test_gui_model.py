"""The Model panel driven as an operator would: Predict, threshold, Accept, auto-predict while
stepping through images, one-click training with Stop, and the errors a user can run into."""
import json

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from iunet_gui.app.records import LOG_FILE
from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.gui.document import STATUS_PREDICTED
from iunet_gui.inference.predictor import Predictor
from iunet_gui.resources import DEFAULT_CHECKPOINT
from tests.gui_util import open_window

BRIGHT, MID, BACKGROUND = 220, 160, 90  # the fake model: p 0.86, 0.63, 0.06 (see fake_predictor)


@pytest.fixture
def folder(tmp_path):
    """a.png: a bright square (labelled) and a mid-grey one (not); b.png: a bright square, unlabelled."""
    d = tmp_path / "project"
    d.mkdir()
    a = np.full((160, 200, 3), BACKGROUND, np.uint8)
    a[40:70, 30:60] = BRIGHT
    a[90:120, 120:150] = MID
    cv2.imwrite(str(d / "a.png"), a)
    ann = Annotation.empty("a.png", 200, 160)
    ann.shapes.append(Shape("scratch", [[30, 40], [59, 40], [59, 69], [30, 69]]))
    ann.save(d / "a.json")
    b = np.full((160, 200, 3), BACKGROUND, np.uint8)
    b[100:130, 10:40] = BRIGHT
    cv2.imwrite(str(d / "b.png"), b)
    return d


@pytest.fixture
def win(qtbot, tmp_path, folder):
    return open_window(qtbot, tmp_path, folder)


def fake_predictor(win, tmp_path):
    """A real Predictor whose 'network' is a fixed function of the input (logit = 3 x - 1 on the
    normalised first channel): the panel's logic is tested without training anything."""
    calls = []

    def run(x):
        calls.append(x.shape)
        return (3.0 * x[0] - 1.0).astype(np.float32)

    ckpt = tmp_path / "fake.pt"
    ckpt.write_bytes(b"not used")
    m = win.model_dock.models
    m.set_checkpoint(ckpt)
    m.predictor = Predictor(run, 3, 1, "fake.pt", "fake", threshold=0.5, crop_to_part=False)
    m.predictor_path = ckpt
    return calls


def predict(qtbot, win):
    m = win.model_dock.models
    qtbot.mouseClick(win.model_dock.predict_panel.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: m.predict_job is None and m.shown is not None, timeout=20000)
    return m.shown


def test_the_shipped_model_is_the_default(win):
    assert DEFAULT_CHECKPOINT.exists()
    assert win.model_dock.checkpoint == DEFAULT_CHECKPOINT
    assert "iunet_default.pt" in win.model_dock.predict_panel.model_label.text()


def test_predict_shows_the_defects_over_the_image_with_lengths_and_a_comparison(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    p = predict(qtbot, win)
    assert p.image.name == "a.png" and p.mask.shape == (160, 200)
    assert len(p.defects) == 2 and win.canvas.has_prediction
    lengths = sorted(round(d.length_px) for d in p.defects)
    assert lengths == [29, 29]  # two 30 px squares, measured through pixel centres
    text = win.model_dock.predict_panel.result.text()
    assert "2 defect(s)" in text and "threshold 0.50" in text
    # one of the two is labelled: found 1 of 1, the mid-grey square a false alarm
    assert "found 1 of 1 (plainly visible 1 of 1)" in text and "1 false alarm" in text
    qtbot.keyClick(win, Qt.Key_H, Qt.ControlModifier)  # Ctrl+H hides it, the shapes stay
    assert not win.model_dock.show_box.isChecked()
    assert not any(it.isVisible() for it in win.canvas._prediction_items)
    qtbot.keyClick(win, Qt.Key_H, Qt.ControlModifier)
    assert all(it.isVisible() for it in win.canvas._prediction_items)


def test_threshold_changes_the_prediction_without_running_the_network(qtbot, win, tmp_path):
    calls = fake_predictor(win, tmp_path)
    predict(qtbot, win)
    runs = len(calls)
    m, pp = win.model_dock.models, win.model_dock.predict_panel
    pp.threshold.setValue(0.75)  # the mid-grey square (p 0.63) drops out
    assert len(m.shown_defects) == 1 and "1 defect(s)" in pp.result.text() and "threshold 0.75" in pp.result.text()
    assert "0 false alarm" in pp.result.text()
    pp.threshold.setValue(0.0)  # "model's own": back to 0.5
    assert len(m.shown_defects) == 2 and pp.threshold.text() == "model's own (0.50)"
    assert len(calls) == runs


def test_accept_turns_the_prediction_into_undoable_shapes_of_the_current_class(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    predict(qtbot, win)
    qtbot.keyClick(win, Qt.Key_3)  # class 3 (hole)
    before = list(win.document.shapes)
    qtbot.keyClick(win, Qt.Key_A, Qt.ControlModifier | Qt.ShiftModifier)
    added = [s for s in win.document.shapes if not any(s is b for b in before)]
    assert len(added) == 2 and {s.label for s in added} == {"hole"}
    assert all(s.description == "predicted by fake.pt" for s in added)
    assert not win.canvas.has_prediction and win.document.dirty
    assert win.save()
    assert win.images_dock.status(0) == STATUS_PREDICTED
    saved = Annotation.load(win.project.annotation_path(win.document.image_path))
    assert len(saved.shapes) == 3  # the operator's square kept, the two predicted ones added
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)
    assert [id(s) for s in win.document.shapes] == [id(s) for s in before]


def test_accepted_shapes_are_not_relabelled_by_the_next_class_key_and_undo_shows_the_prediction(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    predict(qtbot, win)
    pp = win.model_dock.predict_panel
    qtbot.keyClick(win, Qt.Key_3)  # hole
    before = list(win.document.shapes)
    qtbot.keyClick(win, Qt.Key_A, Qt.ControlModifier | Qt.ShiftModifier)
    added = [s for s in win.document.shapes if not any(s is b for b in before)]
    assert len(added) == 2 and "Accepted 2 shape(s)" in pp.result.text()
    assert not win.canvas.selected  # nothing left selected ...
    qtbot.keyClick(win, Qt.Key_4)  # ... so picking the class of the next polygon relabels nothing
    assert {s.label for s in added} == {"hole"} and win.class_dock.current() == "oxidation"
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)  # Accept undone: the prediction is back on show
    assert not any(s in added for s in win.document.shapes)
    assert win.canvas.has_prediction and win.model_dock.models.shown is not None
    assert "Accepted" not in pp.result.text() and "2 defect(s)" in pp.result.text()
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # redone: the shapes show it again
    assert not win.canvas.has_prediction and "Accepted 2 shape(s)" in pp.result.text()
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)
    qtbot.keyClick(win, Qt.Key_R, Qt.ControlModifier | Qt.ShiftModifier)  # undone, then another edit in its place
    assert win.canvas.has_prediction and "Accepted" not in pp.result.text()
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)  # that edit undone: the prediction stays on show
    assert win.canvas.has_prediction and "Accepted" not in pp.result.text()


def test_an_accepted_prediction_is_not_shown_again_over_its_shapes_after_leaving_the_image(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    predict(qtbot, win)
    pp = win.model_dock.predict_panel
    qtbot.keyClick(win, Qt.Key_A, Qt.ControlModifier | Qt.ShiftModifier)
    qtbot.keyClick(win.canvas, Qt.Key_D)
    qtbot.keyClick(win.canvas, Qt.Key_A)  # back: the shapes show it, not the cached prediction too
    assert win.document.image_path.name == "a.png" and len(win.document.shapes) == 3
    assert not win.canvas.has_prediction and "Accepted 2 shape(s)" in pp.result.text()
    qtbot.keyClick(win, Qt.Key_A, Qt.ControlModifier | Qt.ShiftModifier)  # nothing to accept twice
    assert len(win.document.shapes) == 3
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)  # its undo still brings the prediction back
    assert len(win.document.shapes) == 1 and win.canvas.has_prediction and "2 defect(s)" in pp.result.text()


def test_auto_predict_while_stepping_through_images_and_the_cache(qtbot, win, tmp_path):
    calls = fake_predictor(win, tmp_path)
    md, m = win.model_dock, win.model_dock.models
    md.auto_box.setChecked(True)
    qtbot.keyClick(win.canvas, Qt.Key_D)  # next image: predicted as it opens
    qtbot.waitUntil(lambda: m.shown is not None and m.shown.image.name == "b.png", timeout=20000)
    assert len(m.shown.defects) == 1 and "No labels of yours" in md.predict_panel.result.text()
    qtbot.keyClick(win.canvas, Qt.Key_A)  # back: shown from the cache, the network not run again
    qtbot.waitUntil(lambda: m.shown is not None and m.shown.image.name == "a.png", timeout=20000)
    runs = len(calls)
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert m.shown.image.name == "b.png" and len(calls) == runs and m.predict_job is None


def test_a_broken_model_file_gives_a_clear_message(qtbot, win, tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"\x00 not a checkpoint")
    md, m = win.model_dock, win.model_dock.models
    m.set_checkpoint(bad)
    md.auto_box.setChecked(True)
    qtbot.mouseClick(md.predict_panel.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: m.predict_job is None, timeout=20000)
    assert m.shown is None and not win.canvas.has_prediction
    assert [e for e in win.errors if e.startswith("Prediction failed") and "broken.pt" in e]
    assert not md.auto_box.isChecked()  # stepping on does not repeat the same error on every image
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert m.predict_job is None and len([e for e in win.errors if e.startswith("Prediction failed")]) == 1
    m.set_checkpoint(tmp_path / "missing.pt")  # refused: the broken one stays chosen
    assert m.checkpoint == bad and any("Model not found" in e for e in win.errors)


def test_a_broken_image_leaves_no_prediction_of_another_on_show(qtbot, win, tmp_path, folder):
    fake_predictor(win, tmp_path)
    predict(qtbot, win)
    (folder / "b.png").write_bytes(b"\x89PNG broken")
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert win.document is None and any("Cannot open image" in e for e in win.errors)
    assert win.model_dock.models.shown is None and not win.canvas.has_prediction
    assert "2 defect(s)" not in win.model_dock.predict_panel.result.text()


def predict_all(qtbot, win):
    m = win.model_dock.models
    qtbot.mouseClick(win.model_dock.predict_panel.all_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: m.all_job is None, timeout=30000)
    return m.folder_result


def test_predict_all_scores_the_labelled_images_and_fills_the_cache(qtbot, win, tmp_path, folder):
    (folder / "c.png").write_bytes(b"\x89PNG broken")  # told, the others go on
    win.open_folder(folder)
    calls = fake_predictor(win, tmp_path)
    m, pp = win.model_dock.models, win.model_dock.predict_panel
    qtbot.mouseClick(pp.all_button, Qt.LeftButton)
    assert pp.all_button.text() == "Stop"
    qtbot.waitUntil(lambda: m.all_job is None, timeout=30000)
    r = m.folder_result.run
    assert r.images == 3 and r.found == 3 and len(r.failures) == 1 and "c.png" in r.failures[0]
    s = r.summary  # a.png only is labelled: its square found, the mid-grey one a false alarm
    assert s["images"] == 1 and s["matched_defects"] == 1 and s["defects_gt"] == 1 and s["unmatched_pred"] == 1
    text = pp.summary.text()
    assert "3 defect(s)</b> predicted on 2 of 3 images at threshold 0.50" in text
    assert "Not predicted (1)</b>:<br>&nbsp;• c.png: " in text
    # the defect-level figures: the bright labelled square found, plainly visible, of kind scratch
    assert ("Labelled defects found</b>: 1 of 1 (100 %); plainly visible 1 of 1 (100 %) (bright 1 of 1, dark 0 of 0), "
            "faint 0 of 0; scratch 1 of 1<br>1 false alarm(s), 1.00 per image") in text
    assert {p.name for p in m.cache} == {"a.png", "b.png"} and m.shown is not None  # a.png, open, shown
    runs = len(calls)
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert m.shown is not None and m.shown.image.name == "b.png" and len(calls) == runs
    assert pp.all_button.text() == "Predict all"


def test_export_report_writes_one_row_per_defect_naming_what_produced_it(qtbot, win, tmp_path, folder):
    fake_predictor(win, tmp_path)
    pp = win.model_dock.predict_panel
    assert not pp.report_button.isEnabled()  # nothing to report before a folder is predicted
    predict_all(qtbot, win)
    assert pp.report_button.isEnabled()
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    pp.ask_report_path = lambda: str(out)
    qtbot.mouseClick(pp.report_button, Qt.LeftButton)
    import csv

    rows = list(csv.DictReader(out.open()))
    # after the defects, the figures over the labelled a.png: its bright square found, one false alarm
    summary = {r["figure"]: (r["count"], r["of"], r["value"]) for r in rows if r["status"] == "summary"}
    assert summary["found kind scratch"] == summary["found plainly visible bright"] == ("1", "1", "1.0")
    assert summary["found plainly visible dark"] == ("0", "0", "") and summary["found faint"] == ("0", "0", "")
    assert summary["false alarms per image"] == ("1", "1", "1.0")
    rows = [r for r in rows if r["status"] != "summary"]
    assert [(r["image"], r["status"]) for r in rows] == [("a.png", "found"), ("a.png", "false alarm"),
                                                        ("b.png", "predicted")]
    assert {(r["model"], r["threshold"], r["folder"]) for r in rows} == {(str(tmp_path / "fake.pt"), "0.5",
                                                                         str(folder))}
    assert rows[0]["created"][:4].isdigit() and "T" in rows[0]["created"]
    found = rows[0]
    assert found["unit"] == "px" and float(found["length"]) == pytest.approx(29, abs=0.5)
    assert float(found["gt_length"]) == pytest.approx(29, abs=0.5) and float(found["iou"]) > 0.9
    assert rows[1]["gt_length"] == "" and rows[1]["length_error"] == ""
    (tmp_path / "a-file").write_text("x")
    pp.ask_report_path = lambda: str(tmp_path / "a-file" / "r.csv")  # cannot be written: told
    assert not pp.export_report() and any("Could not save the report" in e for e in win.errors)


def test_results_are_cleared_when_the_model_threshold_or_folder_changes(qtbot, win, tmp_path, folder, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    fake_predictor(win, tmp_path)
    m, pp = win.model_dock.models, win.model_dock.predict_panel

    def cleared() -> bool:
        return m.folder_result is None and not pp.summary.isVisible() and not pp.report_button.isEnabled()

    predict_all(qtbot, win)
    assert not cleared()
    pp.threshold.setFocus()
    qtbot.keyClick(pp.threshold, Qt.Key_Up)  # another threshold: the folder's figures are not its
    assert pp.threshold.value() == pytest.approx(0.55) and cleared()
    assert predict_all(qtbot, win).threshold == pytest.approx(0.55)
    other = tmp_path / "other"
    other.mkdir()
    cv2.imwrite(str(other / "z.png"), np.full((50, 60, 3), BACKGROUND, np.uint8))
    win.open_folder(other)  # another folder: nothing of the first one stays
    assert cleared() and not m.cache
    win.open_folder(folder)
    predict_all(qtbot, win)
    assert not cleared()
    other_model = tmp_path / "other.pt"
    other_model.write_bytes(b"x")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other_model), ""))
    qtbot.mouseClick(pp.choose_button, Qt.LeftButton)  # another model
    assert m.checkpoint == other_model and cleared() and not m.cache
    win.act_export_report.trigger()  # the menu says there is nothing to report
    assert "Predict all images first" in win.statusBar().currentMessage()


def test_a_threshold_change_during_predict_all_drops_its_results(qtbot, win, tmp_path):
    import time

    fake_predictor(win, tmp_path)
    m, pp = win.model_dock.models, win.model_dock.predict_panel
    real_run = m.predictor._run
    m.predictor._run = lambda x: time.sleep(0.5) or real_run(x)  # slow enough to change the threshold meanwhile
    qtbot.mouseClick(pp.all_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: pp.summary.isVisible())
    pp.threshold.setFocus()
    qtbot.keyClick(pp.threshold, Qt.Key_Up)
    qtbot.waitUntil(lambda: m.all_job is None, timeout=30000)
    assert m.folder_result is None and not pp.summary.isVisible() and not pp.report_button.isEnabled()


def test_stopping_predict_all_counts_the_images_it_predicted(qtbot, win, tmp_path):
    calls = fake_predictor(win, tmp_path)
    m, pp = win.model_dock.models, win.model_dock.predict_panel
    real_run = m.predictor._run

    def run_then_stop(x):  # the Stop click lands while the first image runs
        if m.all_job is not None:
            m.all_job.cancel()
        return real_run(x)

    m.predictor._run = run_then_stop
    r = predict_all(qtbot, win).run
    assert r.cancelled and r.predicted == 1 and len(calls) > 0
    assert "Stopped: " in pp.summary.text() and "predicted on 1 of 2 images" in pp.summary.text()


def test_save_predictions_writes_each_images_files_and_never_over_the_labels(qtbot, win, tmp_path, folder):
    fake_predictor(win, tmp_path)
    m, pp = win.model_dock.models, win.model_dock.predict_panel
    labels = (folder / "a.json").read_bytes()
    pp.ask_predictions_folder = lambda: str(folder)  # the images' own folder: refused, nothing written
    qtbot.mouseClick(pp.save_all_button, Qt.LeftButton)
    assert m.all_job is None and any("Cannot save the predictions there" in e for e in win.errors)
    kept = sorted(p.name for p in folder.iterdir() if not p.name.startswith(LOG_FILE))  # the inspection log aside
    assert (folder / "a.json").read_bytes() == labels and kept == ["a.json", "a.png", "b.png"]
    out = tmp_path / "saved"
    pp.ask_predictions_folder = lambda: str(out)
    qtbot.mouseClick(pp.save_all_button, Qt.LeftButton)
    assert not pp.save_all_button.isEnabled()  # one run at a time, and the menu says so
    assert not pp.save_all() and "being predicted" in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: m.all_job is None, timeout=30000)
    assert m.folder_result.run.saved == 2 and f"Saved 2 in {out}" in pp.summary.text()
    mask = cv2.imread(str(out / "a.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (160, 200) and mask[55, 45] == 255 and mask[105, 135] == 255 and mask[5, 5] == 0
    prob = cv2.imread(str(out / "a_prob.png"), cv2.IMREAD_UNCHANGED)
    assert prob[55, 45] > prob[105, 135] > 128 > prob[5, 5]
    rec = json.loads((out / "b_defects.json").read_text())
    assert len(rec["defects"]) == 1 and rec["defects"][0]["length_px"] == pytest.approx(29, abs=1)
    ann = Annotation.load(out / "a.json")  # labelme polygons of the prediction, pointing at the image
    assert len(ann.shapes) == 2 and (out / ann.image_path).resolve() == (folder / "a.png").resolve()
    assert pp.save_all_button.isEnabled() and m.cache  # the predictions are also on show


def test_the_model_menu_predicts_all_saves_and_exports(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    m, pp = win.model_dock.models, win.model_dock.predict_panel
    win.act_export_report.trigger()  # nothing predicted yet: said so
    assert "Predict all images first" in win.statusBar().currentMessage()
    out = tmp_path / "menu-saved"
    pp.ask_predictions_folder = lambda: str(out)
    win.act_save_predictions.trigger()
    qtbot.waitUntil(lambda: m.all_job is None, timeout=30000)
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "a.png", "a_defects.json", "a_prob.png",
                                                    "b.json", "b.png", "b_defects.json", "b_prob.png"]
    pp.ask_report_path = lambda: str(tmp_path / "menu.csv")
    win.act_export_report.trigger()
    import csv

    assert [r["status"] for r in csv.DictReader((tmp_path / "menu.csv").open())].count("summary") < 12
    assert sum(r["status"] != "summary" for r in csv.DictReader((tmp_path / "menu.csv").open())) == 3  # 3 defects
    win.act_predict_all.trigger()
    assert m.all_job is not None
    qtbot.waitUntil(lambda: m.all_job is None, timeout=30000)
    assert m.folder_result.run.out is None  # Predict All alone writes nothing


def test_save_all_keeps_the_class_folders_of_a_data_set_root(qtbot, tmp_path):
    root = tmp_path / "tiles"
    for sub, value in (("MT_Crack", BRIGHT), ("MT_Free", BACKGROUND)):  # one name in two class folders
        (root / sub).mkdir(parents=True)
        img = np.full((64, 80, 3), BACKGROUND, np.uint8)
        img[10:30, 10:30] = value
        cv2.imwrite(str(root / sub / "x.jpg"), img)
        cv2.imwrite(str(root / sub / "x.png"), (img[..., 0] == BRIGHT).astype(np.uint8) * 255)
    win = open_window(qtbot, tmp_path, root)
    fake_predictor(win, tmp_path)
    m, pp = win.model_dock.models, win.model_dock.predict_panel
    pp.ask_predictions_folder = lambda: str(root)  # the class folders would get the files: refused
    assert not pp.save_all() and any("written over the images" in e for e in win.errors)
    out = tmp_path / "out"
    pp.ask_predictions_folder = lambda: str(out)
    assert pp.save_all()
    qtbot.waitUntil(lambda: m.all_job is None, timeout=30000)
    crack, free = (cv2.imread(str(out / sub / "x.png"), cv2.IMREAD_UNCHANGED) for sub in ("MT_Crack", "MT_Free"))
    assert crack[20, 20] == 255 and free.max() == 0 and m.folder_result.run.saved == 2


def test_the_save_dialog_leaves_no_empty_folder_behind(qtbot, win, tmp_path, folder, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    fake_predictor(win, tmp_path)
    pp = win.model_dock.predict_panel
    offered = []

    def pick(answer):
        def dialog(parent, caption, start):
            offered.append(start)
            return answer
        return dialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick(""))  # cancelled
    assert pp.ask_predictions_folder() == "" and offered[-1] == str(folder / "iunet_predictions" / "fake")
    assert not (folder / "iunet_predictions").exists()
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick(str(elsewhere)))  # another folder picked
    assert pp.ask_predictions_folder() == str(elsewhere) and not (folder / "iunet_predictions").exists()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick(str(folder / "iunet_predictions" / "fake")))
    assert pp.ask_predictions_folder() and (folder / "iunet_predictions" / "fake").is_dir()  # the one offered: kept


def test_the_threshold_arrows_step_from_the_models_own(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    predict(qtbot, win)
    box, m = win.model_dock.predict_panel.threshold, win.model_dock.models
    assert box.text() == "model's own (0.50)"
    assert box.lineEdit().width() >= box.fontMetrics().horizontalAdvance(box.text())  # shown whole, not cut
    box.setFocus()
    qtbot.keyClick(box, Qt.Key_Down)
    assert box.value() == pytest.approx(0.45) and m.current_threshold() == pytest.approx(0.45)
    qtbot.keyClick(box, Qt.Key_Up)
    assert box.value() == pytest.approx(0.5)
    box.setValue(0.0)
    qtbot.keyClick(box, Qt.Key_Up)
    assert box.value() == pytest.approx(0.55) and "threshold 0.55" in win.model_dock.predict_panel.result.text()


def test_the_panel_fits_a_1440x900_window_and_its_buttons_stay_put(qtbot, tmp_path, folder):
    from PySide6.QtCore import QPoint, QRect

    win = open_window(qtbot, tmp_path, folder, size=(1440, 900))
    fake_predictor(win, tmp_path)
    md, pp, tp = win.model_dock, win.model_dock.predict_panel, win.model_dock.train_panel
    scroll = md.scroll
    assert scroll.widget().minimumSizeHint().height() <= scroll.viewport().height()  # no scrolling needed
    assert scroll.verticalScrollBar().maximum() == 0
    buttons = (pp.choose_button, pp.predict_button, pp.accept_button, pp.all_button, pp.save_all_button,
               pp.report_button, tp.train_button, tp.stop_button, tp.recipe, tp.minutes)
    for b in buttons:  # each one whole on the screen
        assert b.isVisible() and win.rect().contains(QRect(b.mapTo(win, QPoint(0, 0)), b.size())), b
    where = [b.mapTo(win, QPoint(0, 0)) for b in buttons]
    for k in range(40):  # a folder run with many unreadable images: a long message
        (folder / f"broken{k:02d}.png").write_bytes(b"\x89PNG broken")
    win.open_folder(folder)
    fake_predictor(win, tmp_path)
    r = predict_all(qtbot, win).run
    assert len(r.failures) == 40
    text = pp.summary.text()
    assert "Not predicted (40)</b>:" in text and text.count("• broken") == 5 and "… and 35 more" in text
    tp.train_status.setText("A long line about the run. " * 30)
    qtbot.wait(50)
    assert [b.mapTo(win, QPoint(0, 0)) for b in buttons] == where
    assert scroll.verticalScrollBar().maximum() == 0
