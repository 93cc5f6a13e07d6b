"""The Model panel driven as an operator would: Predict, threshold, Accept, auto-predict while
stepping through images, one-click training with Stop, and the errors a user can run into."""
import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.gui.document import STATUS_PREDICTED
from iunet_gui.gui.model_dock import DEFAULT_CHECKPOINT, RUNS_FOLDER
from iunet_gui.inference.predictor import Predictor
from tests.gui_util import open_window
from tests.test_training import make_toy

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
    md = win.model_dock
    md.set_checkpoint(ckpt)
    md._predictor = Predictor(run, 3, 1, "fake.pt", "fake", threshold=0.5, crop_to_part=False)
    md._predictor_path = ckpt
    return calls


def predict(qtbot, win):
    md = win.model_dock
    qtbot.mouseClick(md.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: md.predict_job is None and md.shown is not None, timeout=20000)
    return md.shown


def test_the_shipped_model_is_the_default(win):
    assert DEFAULT_CHECKPOINT.exists()
    assert win.model_dock.checkpoint == DEFAULT_CHECKPOINT
    assert "iunet_default.pt" in win.model_dock.model_label.text()


def test_predict_shows_the_defects_over_the_image_with_lengths_and_a_comparison(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    p = predict(qtbot, win)
    assert p.image.name == "a.png" and p.mask.shape == (160, 200)
    assert len(p.defects) == 2 and win.canvas.has_prediction
    lengths = sorted(round(d.length_px) for d in p.defects)
    assert lengths == [29, 29]  # two 30 px squares, measured through pixel centres
    text = win.model_dock.result.text()
    assert "2 defect(s)" in text and "threshold 0.50" in text
    # one of the two is labelled: found 1 of 1, the mid-grey square a false alarm
    assert "found 1 of 1" in text and "1 false alarm" in text
    qtbot.keyClick(win, Qt.Key_H, Qt.ControlModifier)  # Ctrl+H hides it, the shapes stay
    assert not win.model_dock.show_box.isChecked()
    assert not any(it.isVisible() for it in win.canvas._prediction_items)
    qtbot.keyClick(win, Qt.Key_H, Qt.ControlModifier)
    assert all(it.isVisible() for it in win.canvas._prediction_items)


def test_threshold_changes_the_prediction_without_running_the_network(qtbot, win, tmp_path):
    calls = fake_predictor(win, tmp_path)
    predict(qtbot, win)
    runs = len(calls)
    md = win.model_dock
    md.threshold.setValue(0.75)  # the mid-grey square (p 0.63) drops out
    assert len(md.shown_defects) == 1 and "1 defect(s)" in md.result.text() and "threshold 0.75" in md.result.text()
    assert "0 false alarm" in md.result.text()
    md.threshold.setValue(0.0)  # "model's own": back to 0.5
    assert len(md.shown_defects) == 2 and md.threshold.text() == "model's own (0.50)"
    assert len(calls) == runs


def test_accept_turns_the_prediction_into_undoable_shapes_of_the_current_class(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    predict(qtbot, win)
    qtbot.keyClick(win, Qt.Key_3)  # class 3 (hole)
    before = list(win.document.shapes)
    qtbot.keyClick(win, Qt.Key_A, Qt.ControlModifier | Qt.ShiftModifier)
    added = [s for s in win.document.shapes if s not in before]
    assert len(added) == 2 and {s.label for s in added} == {"hole"}
    assert all(s.description == "predicted by fake.pt" for s in added)
    assert not win.canvas.has_prediction and win.document.dirty
    assert win.save()
    assert win.images_dock.status(0) == STATUS_PREDICTED
    saved = Annotation.load(win.project.annotation_path(win.document.image_path))
    assert len(saved.shapes) == 3  # the operator's square kept, the two predicted ones added
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)
    assert win.document.shapes == before


def test_auto_predict_while_stepping_through_images_and_the_cache(qtbot, win, tmp_path):
    calls = fake_predictor(win, tmp_path)
    md = win.model_dock
    md.auto_box.setChecked(True)
    qtbot.keyClick(win.canvas, Qt.Key_D)  # next image: predicted as it opens
    qtbot.waitUntil(lambda: md.shown is not None and md.shown.image.name == "b.png", timeout=20000)
    assert len(md.shown.defects) == 1 and "No labels of yours" in md.result.text()
    qtbot.keyClick(win.canvas, Qt.Key_A)  # back: shown from the cache, the network not run again
    qtbot.waitUntil(lambda: md.shown is not None and md.shown.image.name == "a.png", timeout=20000)
    runs = len(calls)
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert md.shown.image.name == "b.png" and len(calls) == runs and md.predict_job is None


def test_a_broken_model_file_gives_a_clear_message(qtbot, win, tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"\x00 not a checkpoint")
    md = win.model_dock
    md.set_checkpoint(bad)
    md.auto_box.setChecked(True)
    qtbot.mouseClick(md.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: md.predict_job is None, timeout=20000)
    assert md.shown is None and not win.canvas.has_prediction
    assert [e for e in win.errors if e.startswith("Prediction failed") and "broken.pt" in e]
    assert not md.auto_box.isChecked()  # stepping on does not repeat the same error on every image
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert md.predict_job is None and len([e for e in win.errors if e.startswith("Prediction failed")]) == 1
    md.set_checkpoint(tmp_path / "missing.pt")  # refused: the broken one stays chosen
    assert md.checkpoint == bad and any("Model not found" in e for e in win.errors)


def tiny(cfg, **kw):
    base = dict(model_overrides={"base": 4, "depth": 3}, epochs=2, crop=32, crops_per_epoch=8, lr=3e-3,
                max_val_images=2, threads=1, seed=1, scale=1.0, init=None)
    base.update(kw)
    return replace(cfg, **base)


def test_train_with_one_click_then_the_new_model_predicts(qtbot, tmp_path):
    data = make_toy(tmp_path / "toy", n=6, size=64)
    win = open_window(qtbot, tmp_path, data)
    md = win.model_dock
    seen = []
    md.adjust_config = lambda cfg: seen.append(cfg) or tiny(cfg)
    finished = []
    md.training_finished.connect(finished.append)
    qtbot.mouseClick(md.train_button, Qt.LeftButton)
    assert md.training and not md.train_button.isEnabled() and md.stop_button.isEnabled()
    qtbot.waitUntil(lambda: bool(finished) and not md.training, timeout=120000)
    result = finished[0]
    assert result.status == "done" and result.epochs_done == 2
    # the panel's own settings: this folder, a run folder in it, the shipped model fine-tuned
    assert seen[0].data == str(data) and seen[0].init == str(DEFAULT_CHECKPOINT)
    assert seen[0].time_limit_min == md.minutes.value()
    run = result.run_dir
    assert run.parent == data / RUNS_FOLDER and (run / "best.pt").exists() and (run / "last.pt").exists()
    assert md.checkpoint == run / "best.pt" and "Trained" in md.train_status.text()
    assert len(md.val_curve.getData()[0]) == 2 and len(md.loss_curve.getData()[0]) > 0  # the live curves
    assert md.train_button.isEnabled() and not md.stop_button.isEnabled()
    # it predicts the open image with the new model at once
    qtbot.waitUntil(lambda: md.predict_job is None and md.shown is not None, timeout=30000)
    assert md.shown.model == run / "best.pt" and md.shown.mask.shape == (64, 64)
    # a second click fine-tunes that model at the input scale it learned at (1, not the default 0.3)
    finished.clear()
    md.adjust_config = lambda cfg: replace(tiny(cfg, epochs=1, init=cfg.init), scale=seen[0].scale)
    qtbot.mouseClick(md.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(finished) and not md.training, timeout=120000)
    second = finished[0]
    assert second.status == "done" and second.run_dir != run
    config = json.loads((second.run_dir / "config.json").read_text())["train"]
    assert seen[0].scale == 0.3 and config["init"] == str(run / "best.pt") and config["scale"] == 1.0


def test_tiles_recipe_trains_a_fresh_network_with_the_benchmark_settings(qtbot, tmp_path):
    data = make_toy(tmp_path / "toy", n=6, size=64)
    win = open_window(qtbot, tmp_path, data)
    md = win.model_dock
    assert md.recipe.currentData() == "washers" and md.finetune_box.isChecked() and md.minutes.value() == 15
    # the long recipe labels do not widen the panel past its visible width (its content would be cut off)
    assert md.widget().widget().sizeHint().width() <= md.widget().viewport().width()
    qtbot.keyClick(md.recipe, Qt.Key_Down)  # the operator picks the second recipe
    assert md.recipe.currentData() == "tiles"
    assert md.minutes.value() == 60 and not md.finetune_box.isChecked() and not md.finetune_box.isEnabled()
    seen, finished = [], []
    md.adjust_config = lambda cfg: seen.append(cfg) or tiny(cfg, epochs=1)
    md.training_finished.connect(finished.append)
    qtbot.mouseClick(md.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(finished) and not md.training, timeout=120000)
    assert finished[0].status == "done"
    cfg = seen[0]  # as the panel built it, before the test made it tiny
    assert cfg.init is None and cfg.data == str(data) and cfg.time_limit_min == 60
    assert (cfg.model_overrides, cfg.scale, cfg.crop, cfg.lr, cfg.area_sampling, cfg.weight_decay, cfg.epochs) == (
        {"depth": 4, "base": 16}, 0.35, 128, 5e-4, 4, 0.05, 36)
    assert cfg.tune_threshold and cfg.prior == 0.01 and cfg.region_weight == 0
    qtbot.keyClick(md.recipe, Qt.Key_Up)  # back: the washers' budget and fine-tuning as they were
    assert md.recipe.currentData() == "washers" and md.minutes.value() == 15
    assert md.finetune_box.isEnabled() and md.finetune_box.isChecked()


def test_stop_ends_training_within_a_step_and_keeps_the_window(qtbot, tmp_path):
    data = make_toy(tmp_path / "toy", n=6, size=64)
    win = open_window(qtbot, tmp_path, data)
    md = win.model_dock
    md.adjust_config = lambda cfg: tiny(cfg, epochs=5, crops_per_epoch=4000)  # 2000 steps an epoch
    finished, steps = [], []
    md.training_finished.connect(finished.append)
    qtbot.mouseClick(md.train_button, Qt.LeftButton)
    md.train_job.progressed.connect(lambda ev: steps.append(ev) if ev.stage == "train" else None)
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=60000)
    qtbot.mouseClick(md.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(finished) and not md.training, timeout=30000)
    result = finished[0]
    assert result.status == "cancelled" and result.epochs_done == 0
    # stopped inside the first epoch: a few steps of training do not replace the model in use
    assert md.checkpoint == DEFAULT_CHECKPOINT and "unchanged" in md.train_status.text()
    assert md.train_button.isEnabled() and not md.stop_button.isEnabled()


def test_training_without_labels_says_so(qtbot, tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    cv2.imwrite(str(d / "x.png"), np.full((64, 64, 3), 100, np.uint8))
    win = open_window(qtbot, tmp_path, d)
    md = win.model_dock
    md.adjust_config = tiny
    finished = []
    md.training_finished.connect(finished.append)
    qtbot.mouseClick(md.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(finished) and not md.training, timeout=60000)
    assert any(e.startswith("Training failed") and "label" in e.lower() for e in win.errors)
    assert md.checkpoint == DEFAULT_CHECKPOINT and md.train_button.isEnabled()


def test_closing_during_training_asks_and_stops_cleanly(qtbot, tmp_path):
    data = make_toy(tmp_path / "toy", n=6, size=64)
    win = open_window(qtbot, tmp_path, data)
    md = win.model_dock
    md.adjust_config = lambda cfg: tiny(cfg, epochs=500, crops_per_epoch=64)
    qtbot.mouseClick(md.train_button, Qt.LeftButton)
    job = md.train_job
    win.ask_stop_training = lambda: "cancel"
    assert not win.close() and md.training  # the operator chose to keep training
    win.ask_stop_training = lambda: "stop"
    assert win.close()
    assert job.isFinished()


def test_a_broken_image_leaves_no_prediction_of_another_on_show(qtbot, win, tmp_path, folder):
    fake_predictor(win, tmp_path)
    predict(qtbot, win)
    (folder / "b.png").write_bytes(b"\x89PNG broken")
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert win.document is None and any("Cannot open image" in e for e in win.errors)
    assert win.model_dock.shown is None and not win.canvas.has_prediction
    assert "2 defect(s)" not in win.model_dock.result.text()


def test_predict_all_scores_the_labelled_images_and_fills_the_cache(qtbot, win, tmp_path, folder):
    (folder / "c.png").write_bytes(b"\x89PNG broken")  # told, the others go on
    win.open_folder(folder)
    calls = fake_predictor(win, tmp_path)
    md = win.model_dock
    qtbot.mouseClick(md.all_button, Qt.LeftButton)
    assert md.all_button.text() == "Stop predicting"
    qtbot.waitUntil(lambda: md.all_job is None, timeout=30000)
    r = md.last_summary
    assert r["images"] == 3 and r["found"] == 3 and len(r["failures"]) == 1 and "c.png" in r["failures"][0]
    s = r["summary"]  # a.png only is labelled: its square found, the mid-grey one a false alarm
    assert s["images"] == 1 and s["matched_defects"] == 1 and s["defects_gt"] == 1 and s["unmatched_pred"] == 1
    text = md.summary.text()
    assert "3 defect(s)</b> predicted on 2 of 3 images" in text and "Not predicted: c.png" in text
    assert {p.name for p in md.cache} == {"a.png", "b.png"} and md.shown is not None  # a.png, open, shown
    runs = len(calls)
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert md.shown is not None and md.shown.image.name == "b.png" and len(calls) == runs
    assert md.all_button.text() == "Predict all images"


def test_export_report_writes_one_row_per_defect(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    md = win.model_dock
    assert not md.report_button.isVisible()  # nothing to report before a folder is predicted
    qtbot.mouseClick(md.all_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: md.all_job is None, timeout=30000)
    assert md.report_button.isVisible()
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    md.ask_report_path = lambda: str(out)
    qtbot.mouseClick(md.report_button, Qt.LeftButton)
    import csv

    rows = list(csv.DictReader(out.open()))
    assert [(r["image"], r["status"]) for r in rows] == [("a.png", "found"), ("a.png", "false alarm"),
                                                        ("b.png", "predicted")]
    found = rows[0]
    assert found["unit"] == "px" and float(found["length"]) == pytest.approx(29, abs=0.5)
    assert float(found["gt_length"]) == pytest.approx(29, abs=0.5) and float(found["iou"]) > 0.9
    assert rows[1]["gt_length"] == "" and rows[1]["length_error"] == ""
    (tmp_path / "a-file").write_text("x")
    md.ask_report_path = lambda: str(tmp_path / "a-file" / "r.csv")  # cannot be written: told
    assert not md.export_report() and any("Could not save the report" in e for e in win.errors)


def test_stopping_predict_all_counts_the_images_it_predicted(qtbot, win, tmp_path):
    calls = fake_predictor(win, tmp_path)
    md = win.model_dock
    real_run = md._predictor._run

    def run_then_stop(x):  # the Stop click lands while the first image runs
        if md.all_job is not None:
            md.all_job.cancel()
        return real_run(x)

    md._predictor._run = run_then_stop
    qtbot.mouseClick(md.all_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: md.all_job is None, timeout=30000)
    assert md.last_summary["cancelled"] and md.last_summary["predicted"] == 1 and len(calls) > 0
    assert "Stopped: " in md.summary.text() and "predicted on 1 of 2 images" in md.summary.text()


def test_save_predictions_writes_each_images_files_and_never_over_the_labels(qtbot, win, tmp_path, folder):
    fake_predictor(win, tmp_path)
    md = win.model_dock
    labels = (folder / "a.json").read_bytes()
    md.ask_predictions_folder = lambda: str(folder)  # the images' own folder: refused, nothing written
    qtbot.mouseClick(md.save_all_button, Qt.LeftButton)
    assert md.all_job is None and any("Cannot save the predictions there" in e for e in win.errors)
    assert (folder / "a.json").read_bytes() == labels and sorted(p.name for p in folder.iterdir()) == [
        "a.json", "a.png", "b.png"]
    out = tmp_path / "saved"
    md.ask_predictions_folder = lambda: str(out)
    qtbot.mouseClick(md.save_all_button, Qt.LeftButton)
    assert not md.save_all_button.isEnabled()  # one run at a time, and the menu says so
    assert not md.save_all() and "being predicted" in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: md.all_job is None, timeout=30000)
    assert md.last_summary["saved"] == 2 and f"Saved 2 in {out}" in md.summary.text()
    mask = cv2.imread(str(out / "a.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (160, 200) and mask[55, 45] == 255 and mask[105, 135] == 255 and mask[5, 5] == 0
    prob = cv2.imread(str(out / "a_prob.png"), cv2.IMREAD_UNCHANGED)
    assert prob[55, 45] > prob[105, 135] > 128 > prob[5, 5]
    rec = json.loads((out / "b_defects.json").read_text())
    assert len(rec["defects"]) == 1 and rec["defects"][0]["length_px"] == pytest.approx(29, abs=1)
    ann = Annotation.load(out / "a.json")  # labelme polygons of the prediction, pointing at the image
    assert len(ann.shapes) == 2 and (out / ann.image_path).resolve() == (folder / "a.png").resolve()
    assert md.save_all_button.isEnabled() and md.cache  # the predictions are also on show


def test_the_model_menu_predicts_all_saves_and_exports(qtbot, win, tmp_path):
    fake_predictor(win, tmp_path)
    md = win.model_dock
    win.act_export_report.trigger()  # nothing predicted yet: said so
    assert "Predict all images first" in win.statusBar().currentMessage()
    out = tmp_path / "menu-saved"
    md.ask_predictions_folder = lambda: str(out)
    win.act_save_predictions.trigger()
    qtbot.waitUntil(lambda: md.all_job is None, timeout=30000)
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "a.png", "a_defects.json", "a_prob.png",
                                                    "b.json", "b.png", "b_defects.json", "b_prob.png"]
    md.ask_report_path = lambda: str(tmp_path / "menu.csv")
    win.act_export_report.trigger()
    assert (tmp_path / "menu.csv").read_text().count("\n") == 4  # header + 3 defects
    win.act_predict_all.trigger()
    assert md.all_job is not None and md.last_summary is not None
    qtbot.waitUntil(lambda: md.all_job is None, timeout=30000)
    assert md.last_summary["out"] is None  # Predict All alone writes nothing


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
    md = win.model_dock
    md.ask_predictions_folder = lambda: str(root)  # the class folders would get the files: refused
    assert not md.save_all() and any("written over the images" in e for e in win.errors)
    out = tmp_path / "out"
    md.ask_predictions_folder = lambda: str(out)
    assert md.save_all()
    qtbot.waitUntil(lambda: md.all_job is None, timeout=30000)
    crack, free = (cv2.imread(str(out / sub / "x.png"), cv2.IMREAD_UNCHANGED) for sub in ("MT_Crack", "MT_Free"))
    assert crack[20, 20] == 255 and free.max() == 0 and md.last_summary["saved"] == 2


def test_the_save_dialog_leaves_no_empty_folder_behind(qtbot, win, tmp_path, folder, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    fake_predictor(win, tmp_path)
    md = win.model_dock
    offered = []

    def pick(answer):
        def dialog(parent, caption, start):
            offered.append(start)
            return answer
        return dialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick(""))  # cancelled
    assert md.ask_predictions_folder() == "" and offered[-1] == str(folder / "iunet_predictions" / "fake")
    assert not (folder / "iunet_predictions").exists()
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick(str(elsewhere)))  # another folder picked
    assert md.ask_predictions_folder() == str(elsewhere) and not (folder / "iunet_predictions").exists()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick(str(folder / "iunet_predictions" / "fake")))
    assert md.ask_predictions_folder() and (folder / "iunet_predictions" / "fake").is_dir()  # the one offered: kept
