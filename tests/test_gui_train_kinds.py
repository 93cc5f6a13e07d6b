"""The Train panel's "Name the kinds": off by default, it trains one output per class of the project
through the same training config as `iunet-gui train --set multiclass=true`, is kept in the project's
settings, and needs two classes at least."""
import json
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, Qt

from iunet_gui.core.project import SETTINGS_FILE, ClassInfo, Project
from iunet_gui.gui.model.kinds_box import FEW_KINDS_TIP, SETTING
from iunet_gui.gui.model.train_controller import can_start_from
from iunet_gui.resources import DEFAULT_CHECKPOINT
from iunet_gui.training.recipes import recipe_config
from tests.gui_util import open_window
from tests.test_gui_training import _collect_between_tests, tiny  # noqa: F401 - the collection between tests
from tests.test_multiclass import make_two_kinds

KINDS = ["scratch", "edge_crack", "hole", "oxidation"]  # the project's class list (the default one)


def click(qtbot, box):
    """A click on the box's square (its row is wider than the box and its text)."""
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))


@pytest.fixture
def kinds_folder(tmp_path):
    return make_two_kinds(tmp_path / "kinds", n=6)


def test_the_box_is_off_by_default_and_the_panel_asks_for_a_binary_run(qtbot, tmp_path, kinds_folder):
    win = open_window(qtbot, tmp_path, kinds_folder)
    tp = win.model_dock.train_panel
    assert tp.kinds_box.isEnabled() and not tp.kinds_box.isChecked()
    text = tp.kinds.kinds.text()
    assert all(k in text for k in KINDS)  # the kinds a run would learn, on show
    calls = []
    win.model_dock.trainer.start = lambda *a, **kw: calls.append((a, kw)) or False
    qtbot.mouseClick(tp.train_button, Qt.LeftButton)
    assert calls and calls[0][1]["multiclass"] is False


def test_ticked_it_trains_a_model_that_names_the_projects_kinds(qtbot, tmp_path, kinds_folder):
    win = open_window(qtbot, tmp_path, kinds_folder)
    md, tp = win.model_dock, win.model_dock.train_panel
    click(qtbot, tp.kinds_box)
    assert tp.kinds_box.isChecked()
    assert json.loads((kinds_folder / SETTINGS_FILE).read_text())[SETTING] is True  # kept in the project
    seen, notices = [], []
    md.trainer.adjust_config = lambda cfg: seen.append(cfg) or tiny(cfg, init=cfg.init)
    md.trainer.progressed.connect(lambda ev: notices.append(ev.message) if ev.stage == "notice" else None)
    finished = []
    md.trainer.finished.connect(finished.append)
    qtbot.mouseClick(tp.train_button, Qt.LeftButton)
    assert not tp.kinds_box.isEnabled()  # locked while the run goes
    qtbot.waitUntil(lambda: bool(finished) and not md.training, timeout=120000)
    cfg = seen[0]  # as the panel built it: the recipe's config, as the CLI builds it, with multiclass set
    assert cfg.multiclass is True and cfg.init == str(DEFAULT_CHECKPOINT)
    assert cfg == recipe_config("washers", data=str(kinds_folder), out=cfg.out, time_limit_min=15.0,
                                init=str(DEFAULT_CHECKPOINT), multiclass=True)
    # the shipped model is binary: its defect output is split into the kinds, and the run says so
    outcome = finished[0]
    assert outcome.kind == "trained", outcome.text
    run = json.loads((outcome.result.run_dir / "config.json").read_text())["train"]
    assert run["multiclass"] is True and run["init"] == str(DEFAULT_CHECKPOINT)
    assert any("split into 4 kinds" in (n or "") for n in notices)
    from iunet_gui.models.checkpoint import load_checkpoint

    ck = load_checkpoint(md.models.checkpoint)
    assert ck.multiclass and ck.classes == KINDS
    assert tp.kinds_box.isEnabled() and tp.kinds_box.isChecked()
    win.close()
    again = open_window(qtbot, tmp_path, kinds_folder)  # the choice is the project's
    assert again.model_dock.train_panel.kinds_box.isChecked()


def test_a_project_of_one_class_cannot_name_kinds(qtbot, tmp_path, kinds_folder):
    project = Project.open(kinds_folder)
    project.settings.classes = [ClassInfo("scratch", "#e6194b")]
    project.settings.extra[SETTING] = True  # kept from when it had more
    project.save_settings()
    win = open_window(qtbot, tmp_path, kinds_folder)
    tp = win.model_dock.train_panel
    assert not tp.kinds_box.isEnabled() and not tp.kinds_box.isChecked()
    assert tp.kinds_box.toolTip() == FEW_KINDS_TIP
    win.project.settings.classes.append(ClassInfo("hole", "#4363d8"))  # a class added in the Classes panel
    win.class_dock.classes_edited.emit()
    assert tp.kinds_box.isEnabled() and tp.kinds_box.isChecked()
    assert "hole" in tp.kinds.kinds.text()


def test_a_binary_model_starts_any_run_a_multiclass_one_only_a_run_of_its_kinds(kinds_folder):
    binary = SimpleNamespace(multiclass=False, classes=["defect"])
    kinds = SimpleNamespace(multiclass=True, classes=KINDS)
    other = SimpleNamespace(multiclass=True, classes=["scratch", "hole"])
    run = recipe_config("washers", data=str(kinds_folder), multiclass=True)
    plain = recipe_config("washers", data=str(kinds_folder))
    assert can_start_from(kinds, run) and can_start_from(binary, run) and not can_start_from(other, run)
    assert can_start_from(binary, plain) and not can_start_from(kinds, plain)
