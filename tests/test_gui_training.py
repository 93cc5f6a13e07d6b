"""The Model panel's training half driven as an operator would: one-click training, recipes, Stop,
the wheel over its settings, and what the panel says while a run finishes."""
import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from iunet_gui.core.progress import ProgressEvent
from iunet_gui.core.project import RUNS_FOLDER
from iunet_gui.resources import DEFAULT_CHECKPOINT
from tests.gui_util import open_window
from tests.test_training import make_toy


@pytest.fixture(autouse=True)
def _collect_between_tests():
    """The closed windows of a test are deleted and collected before the next one starts a run: Python's
    collector running in the GUI thread while a training thread starts (a deep copy of the network)
    crashed the interpreter about once in five runs of this file."""
    yield
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    gc.collect()


@pytest.fixture
def toy(tmp_path):
    return make_toy(tmp_path / "toy", n=6, size=64)


def tiny(cfg, **kw):
    base = dict(model_overrides={"base": 4, "depth": 3}, epochs=2, crop=32, crops_per_epoch=8, lr=3e-3,
                max_val_images=2, threads=1, seed=1, scale=1.0, init=None)
    base.update(kw)
    return replace(cfg, **base)


def run_to_end(qtbot, md, timeout=120000):
    finished = []
    md.trainer.finished.connect(finished.append)
    qtbot.mouseClick(md.train_panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(finished) and not md.training, timeout=timeout)
    return finished[0]


def wheel(widget, dy=120):
    """A real wheel turn over the middle of `widget`, delivered as Qt delivers the mouse's."""
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    ev = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, dy), Qt.NoButton,
                     Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def test_train_with_one_click_then_the_new_model_predicts_and_old_results_go(qtbot, tmp_path, toy):
    win = open_window(qtbot, tmp_path, toy)
    md, m, pp, tp = win.model_dock, win.model_dock.models, win.model_dock.predict_panel, win.model_dock.train_panel
    qtbot.mouseClick(pp.all_button, Qt.LeftButton)  # the shipped model's figures on this folder ...
    qtbot.waitUntil(lambda: m.all_job is None, timeout=60000)
    assert m.folder_result is not None and pp.report_button.isEnabled() and pp.summary.isVisible()
    seen = []
    md.trainer.adjust_config = lambda cfg: seen.append(cfg) or tiny(cfg)
    assert md.tabs.currentWidget() is pp.results
    qtbot.mouseClick(tp.train_button, Qt.LeftButton)
    assert md.training and not tp.train_button.isEnabled() and tp.stop_button.isEnabled()
    assert md.tabs.currentWidget() is tp.activity  # the run's progress on show
    qtbot.waitUntil(lambda: not md.training, timeout=120000)
    outcome = tp.train_status.text()
    result = m.checkpoint.parent
    assert outcome.startswith("Trained") and m.checkpoint.name == "best.pt"
    # ... are not shown as the new model's: cleared, and the report with them
    assert m.folder_result is None and not pp.summary.isVisible() and not pp.report_button.isEnabled()
    # the panel's own settings: this folder, a run folder in it, the shipped model fine-tuned
    assert seen[0].data == str(toy) and seen[0].init == str(DEFAULT_CHECKPOINT)
    assert seen[0].time_limit_min == tp.minutes.value()
    assert result.parent == toy / RUNS_FOLDER and (result / "best.pt").exists() and (result / "last.pt").exists()
    assert len(tp.plot.val_curve.getData()[0]) == 2 and len(tp.plot.loss_curve.getData()[0]) > 0  # the live curves
    assert tp.train_button.isEnabled() and not tp.stop_button.isEnabled()
    # it predicts the open image with the new model at once
    qtbot.waitUntil(lambda: m.predict_job is None and m.shown is not None, timeout=30000)
    assert m.shown.model == result / "best.pt" and m.shown.mask.shape == (64, 64)
    assert md.tabs.currentWidget() is tp.activity  # the run's outcome stays on show
    qtbot.keyClick(win, Qt.Key_P, Qt.ControlModifier)  # asked for: the results
    assert md.tabs.currentWidget() is pp.results
    # a second click fine-tunes that model at the input scale it learned at (1, not the default 0.3)
    md.trainer.adjust_config = lambda cfg: replace(tiny(cfg, epochs=1, init=cfg.init), scale=seen[0].scale)
    second = run_to_end(qtbot, md).result
    assert second.status == "done" and second.run_dir != result
    config = json.loads((second.run_dir / "config.json").read_text())["train"]
    assert seen[0].scale == 0.3 and config["init"] == str(result / "best.pt") and config["scale"] == 1.0


def test_tiles_recipe_trains_a_fresh_network_with_the_benchmark_settings(qtbot, tmp_path, toy):
    win = open_window(qtbot, tmp_path, toy)
    md, tp = win.model_dock, win.model_dock.train_panel
    assert tp.recipe.currentData() == "washers" and tp.finetune_box.isChecked() and tp.minutes.value() == 15
    # the long recipe labels do not widen the panel past its visible width (its content would be cut off)
    assert md.scroll.widget().sizeHint().width() <= md.scroll.viewport().width()
    qtbot.keyClick(tp.recipe, Qt.Key_Down)  # the operator picks the second recipe
    assert tp.recipe.currentData() == "tiles"
    assert tp.minutes.value() == 60 and not tp.finetune_box.isChecked() and not tp.finetune_box.isEnabled()
    seen = []
    md.trainer.adjust_config = lambda cfg: seen.append(cfg) or tiny(cfg, epochs=1)
    assert run_to_end(qtbot, md).result.status == "done"
    cfg = seen[0]  # as the panel built it, before the test made it tiny
    assert cfg.init is None and cfg.data == str(toy) and cfg.time_limit_min == 60
    assert (cfg.model_overrides, cfg.scale, cfg.crop, cfg.lr, cfg.area_sampling, cfg.weight_decay, cfg.epochs) == (
        {"depth": 4, "base": 16}, 0.35, 128, 5e-4, 4, 0.05, 36)
    assert cfg.tune_threshold and cfg.prior == 0.01 and cfg.region_weight == 0
    qtbot.keyClick(tp.recipe, Qt.Key_Up)  # back: the washers' budget and fine-tuning as they were
    assert tp.recipe.currentData() == "washers" and tp.minutes.value() == 15
    assert tp.finetune_box.isEnabled() and tp.finetune_box.isChecked()


def test_switching_the_recipe_back_keeps_the_minutes_the_user_typed(qtbot, tmp_path, toy):
    win = open_window(qtbot, tmp_path, toy)
    tp = win.model_dock.train_panel
    tp.minutes.setFocus()
    qtbot.keyClick(tp.minutes, Qt.Key_A, Qt.ControlModifier)
    qtbot.keyClicks(tp.minutes, "1")
    qtbot.keyClick(tp.minutes, Qt.Key_Tab)
    assert tp.minutes.value() == 1
    qtbot.keyClick(tp.recipe, Qt.Key_Down)
    assert tp.minutes.value() == 60
    qtbot.keyClick(tp.recipe, Qt.Key_Up)
    assert tp.minutes.value() == 1


def test_the_wheel_scrolls_past_the_settings_and_a_run_locks_them(qtbot, tmp_path, toy):
    win = open_window(qtbot, tmp_path, toy)
    md, tp = win.model_dock, win.model_dock.train_panel
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.canvas.setFocus()
    wheel(tp.recipe, -120)  # unfocused: the wheel leaves them as set (it would pick the next recipe ...
    wheel(tp.minutes, 120)  # ... and add a minute)
    wheel(md.predict_panel.threshold, 120)
    assert tp.recipe.currentData() == "washers" and tp.minutes.value() == 15
    assert md.predict_panel.threshold.value() == 0
    qtbot.mouseClick(tp.minutes, Qt.LeftButton)  # clicked into: the wheel turns it
    assert tp.minutes.hasFocus()
    wheel(tp.minutes, 120)
    assert tp.minutes.value() == 16
    md.trainer.adjust_config = lambda cfg: tiny(cfg, epochs=500, crops_per_epoch=64)
    qtbot.mouseClick(tp.train_button, Qt.LeftButton)
    assert not any(w.isEnabled() for w in (tp.recipe, tp.minutes, tp.finetune_box, tp.train_button))
    qtbot.mouseClick(tp.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not md.training, timeout=60000)
    assert all(w.isEnabled() for w in (tp.recipe, tp.minutes, tp.finetune_box, tp.train_button))


def test_stop_after_an_epoch_keeps_its_model_and_is_not_an_error(qtbot, tmp_path, toy):
    win = open_window(qtbot, tmp_path, toy)
    md, tp = win.model_dock, win.model_dock.train_panel
    md.trainer.adjust_config = lambda cfg: tiny(cfg, epochs=200, crops_per_epoch=8)
    epochs = []
    md.trainer.progressed.connect(lambda ev: epochs.append(ev) if ev.stage == "epoch" else None)
    qtbot.mouseClick(tp.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(epochs) >= 1, timeout=60000)
    qtbot.mouseClick(tp.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not md.training, timeout=60000)
    assert not win.errors  # no dialog
    text = tp.train_status.text()
    assert text.startswith("Training stopped; kept best.pt (epoch ") and "_Stop" not in text
    assert md.models.checkpoint.name == "best.pt" and md.models.checkpoint.parent.parent == toy / RUNS_FOLDER


def test_stop_within_the_first_epoch_keeps_the_model_in_use(qtbot, tmp_path, toy):
    win = open_window(qtbot, tmp_path, toy)
    md, tp = win.model_dock, win.model_dock.train_panel
    md.trainer.adjust_config = lambda cfg: tiny(cfg, epochs=5, crops_per_epoch=4000)  # 2000 steps an epoch
    steps = []
    md.trainer.progressed.connect(lambda ev: steps.append(ev) if ev.stage == "train" else None)
    qtbot.mouseClick(tp.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=60000)
    qtbot.mouseClick(tp.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not md.training, timeout=30000)
    assert md.models.checkpoint == DEFAULT_CHECKPOINT and "unchanged" in tp.train_status.text()
    assert not win.errors and tp.train_button.isEnabled() and not tp.stop_button.isEnabled()


def test_the_panel_says_what_a_run_waits_for_once_its_time_is_up(qtbot, tmp_path, toy):
    win = open_window(qtbot, tmp_path, toy)
    md, tp = win.model_dock, win.model_dock.train_panel
    md.trainer.adjust_config = lambda cfg: tiny(cfg, epochs=500, crops_per_epoch=64)
    qtbot.mouseClick(tp.train_button, Qt.LeftButton)
    md.trainer.job.blockSignals(True)  # the run's own events are held back: the test's events are what shows
    tp._last_ui = 0.0
    md.trainer.progressed.emit(ProgressEvent("train", step=3, steps=8, epoch=2, epochs=500, loss=0.4, eta_s=0.0))
    assert tp.train_status.text().startswith("Epoch 2 · loss 0.400") and "left" not in tp.train_status.text()
    md.trainer.progressed.emit(ProgressEvent("validate", epoch=2, message="final validation", eta_s=40.0))
    assert tp.train_status.text() == "Epoch 2: final validation (about 40 s)…"
    md.trainer.progressed.emit(ProgressEvent("batch_norm", message="refreshing batch-norm statistics"))
    assert tp.train_status.text() == "Refreshing batch-norm statistics…"
    qtbot.mouseClick(tp.stop_button, Qt.LeftButton)
    md.trainer.job.blockSignals(False)
    qtbot.waitUntil(lambda: not md.training, timeout=60000)


def test_a_time_limited_run_says_it_validates_at_the_end_instead_of_0_s_left(qtbot, tmp_path, toy):
    win = open_window(qtbot, tmp_path, toy)
    md, tp = win.model_dock, win.model_dock.train_panel
    # an epoch longer than the limit: the run ends inside it, with a last validation of what it trained
    md.trainer.adjust_config = lambda cfg: tiny(cfg, epochs=3, crops_per_epoch=20000, time_limit_min=0.08)
    shown = []
    md.trainer.progressed.connect(lambda ev: shown.append(tp.train_status.text()))  # after the panel's own slot
    outcome = run_to_end(qtbot, md, 120000)
    assert outcome.kind == "trained" and outcome.result.status == "time_limit"
    assert any("final validation" in text for text in shown)
    assert not any("0 s left" in text for text in shown)


def test_training_without_labels_says_so(qtbot, tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    cv2.imwrite(str(d / "x.png"), np.full((64, 64, 3), 100, np.uint8))
    win = open_window(qtbot, tmp_path, d)
    md = win.model_dock
    md.trainer.adjust_config = tiny
    assert run_to_end(qtbot, md, 60000).kind == "failed"
    assert any(e.startswith("Training failed") and "label" in e.lower() for e in win.errors)
    assert md.models.checkpoint == DEFAULT_CHECKPOINT and md.train_panel.train_button.isEnabled()


def test_closing_during_training_asks_and_stops_cleanly(qtbot, tmp_path, toy):
    win = open_window(qtbot, tmp_path, toy)
    md = win.model_dock
    md.trainer.adjust_config = lambda cfg: tiny(cfg, epochs=500, crops_per_epoch=64)
    qtbot.mouseClick(md.train_panel.train_button, Qt.LeftButton)
    job = md.trainer.job
    win.ask_stop_training = lambda: "cancel"
    assert not win.close() and md.training  # the operator chose to keep training
    win.ask_stop_training = lambda: "stop"
    assert win.close()
    assert job.isFinished()


def test_a_job_stopped_by_its_token_reports_what_it_had_done_not_an_error(qtbot):
    from iunet_gui.core.progress import Cancelled
    from iunet_gui.gui.jobs import Job

    def work(progress, cancel):
        raise Cancelled("stopped", partial="two of three images")

    job = Job(work)
    stopped, failed = [], []
    job.stopped.connect(stopped.append)
    job.failed.connect(failed.append)
    with qtbot.waitSignal(job.finished, timeout=10000):
        job.start()
    qtbot.waitUntil(lambda: bool(stopped), timeout=5000)
    assert stopped == ["two of three images"] and not failed
