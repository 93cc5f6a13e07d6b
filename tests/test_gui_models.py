"""The Models panel in the real window: the registry's list with the model in use marked, Use,
Rename, Delete, Export ONNX, Run folder; a model trained in the window is gated on the golden set,
accepted when better, and when refused the window asks for an override note that goes into the log."""

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QTabBar

from iunet_gui.app.golden import GoldenSets
from iunet_gui.app.registry import ModelRegistry
from iunet_gui.core.annotation import Annotation
from tests.gui_util import open_window
from tests.registry_project import GOLDEN
from tests.test_gui_training import run_to_end, tiny


def click_row(qtbot, win, entry_id):
    table = win.models_part.dock.table
    row = win.models_part.dock.row_of(entry_id)
    rect = table.visualItemRect(table.item(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())


def dialog_steps(qtbot, steps):
    """Each step acts on the next modal dialog: ("type", text) types and presses Enter, ("button", text)
    clicks a button by its text."""
    steps = list(steps)

    def poll():
        dlg = QApplication.activeModalWidget()
        if dlg is None or getattr(dlg, "_seen", False):
            QTimer.singleShot(20, poll)
            return
        dlg._seen = True
        kind, text = steps.pop(0)
        if kind == "type":
            edit = dlg.findChild(QLineEdit)
            edit.selectAll()
            qtbot.keyClicks(edit, text)
            qtbot.keyClick(edit, Qt.Key_Return)
        else:
            button = next(b for b in dlg.findChildren(QPushButton) if b.text().replace("&", "") == text)
            qtbot.mouseClick(button, Qt.LeftButton)
        if steps:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)


def marked(win):
    """(id, the in-use mark, bold) of each row of the panel's table."""
    table, out = win.models_part.dock.table, []
    for r, entry_id in enumerate(win.models_part.dock.ids):
        out.append((entry_id, table.item(r, 0).text(), table.item(r, 2).font().bold()))
    return out


def test_a_better_model_trained_in_the_window_passes_the_gate(qtbot, tmp_path, project):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        bad_id = reg.register_training(bad, data=blank).id
    win = open_window(qtbot, tmp_path, proj)
    part, md = win.models_part, win.model_dock
    shipped = next(e for e in part.registry.models() if e.source == "shipped")
    assert marked(win) == [(bad_id, "", False), (shipped.id, "*", True)]
    assert shipped.arch is None  # opening the window reads no checkpoint: the panel does, once on show
    bar = next(b for b in win.findChildren(QTabBar) if "Models" in [b.tabText(i) for i in range(b.count())])
    tab = [bar.tabText(i) for i in range(bar.count())].index("Models")
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(tab).center())
    qtbot.waitUntil(lambda: part.registry.get(shipped.id).arch == "iunet" and not part.jobs)
    assert part.registry.get(shipped.id).parameters > 0
    click_row(qtbot, win, bad_id)
    qtbot.mouseClick(part.dock.use_button, Qt.LeftButton)
    assert md.models.checkpoint.resolve() == bad.best_checkpoint.resolve()
    assert marked(win) == [(bad_id, "*", True), (shipped.id, "", False)]
    md.trainer.adjust_config = lambda cfg: tiny(cfg, epochs=6, crops_per_epoch=16, bn_batches=4)
    outcome = run_to_end(qtbot, md)
    assert outcome.kind == "trained"
    (gate,) = part.outcomes
    assert gate.accepted and gate.champion_id == bad_id
    new = part.registry.get(gate.challenger_id)
    assert new.source == "trained" and new.in_use and new.train_images == 8 - len(GOLDEN)
    assert new.golden["images"] == len(GOLDEN) and new.golden["miou"] > part.registry.get(bad_id).golden["miou"]
    assert md.models.checkpoint.resolve() == new.path
    assert marked(win)[-1] == (new.id, "*", True)


def test_a_refused_model_needs_a_note_to_be_used_and_the_note_is_logged(qtbot, tmp_path, project):
    proj, blank, good, bad = project
    ann = Annotation.load(proj / "t6.json")  # the only image trained on: labelled defect-free
    ann.shapes.clear()
    ann.flags["defect_free"] = True
    ann.save(proj / "t6.json")
    with ModelRegistry(proj) as reg:
        champion = reg.set_in_use(reg.register_training(good, data=proj).id)
    win = open_window(qtbot, tmp_path, proj)
    md = win.model_dock
    assert md.models.checkpoint.resolve() == champion.path  # the project's model in use is the window's
    md.trainer.adjust_config = lambda cfg: tiny(cfg, epochs=3, prior=0.001,
                                                exclude=["t2.png", "t3.png", "t4.png", "t5.png"])
    dialog_steps(qtbot, [("type", "   "), ("type", "new supplier, checked by hand")])  # a blank note is asked again
    outcome = run_to_end(qtbot, md)
    (gate,) = win.models_part.outcomes
    assert not gate.accepted and any("NG part(s)" in r for r in gate.verdict.reasons)
    assert outcome.kind == "trained" and gate.in_use
    assert md.models.checkpoint.resolve() == win.models_part.registry.get(gate.challenger_id).path
    refused, overridden = win.models_part.registry.gate_decisions()
    assert (refused["accepted"], refused["overridden"], refused["note"]) == (0, 0, "")
    assert (overridden["accepted"], overridden["overridden"], overridden["note"]) == (1, 1, "new supplier, checked by hand")


def test_cancelling_the_override_keeps_the_model_in_use(qtbot, tmp_path, project):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        champion = reg.set_in_use(reg.register_training(good, data=proj).id)
        challenger = reg.register_training(bad, data=blank)
    win = open_window(qtbot, tmp_path, proj)
    dialog_steps(qtbot, [("button", "Cancel")])
    assert not win.models_part.admit(bad)
    assert win.models_part.registry.in_use().id == champion.id != challenger.id
    assert win.model_dock.models.checkpoint.resolve() == champion.path
    assert [r["accepted"] for r in win.models_part.registry.gate_decisions()] == [0]


def test_rename_delete_export_and_run_folder(qtbot, tmp_path, project, monkeypatch):
    proj, blank, good, bad = project
    opened = []
    monkeypatch.setattr("iunet_gui.gui.models_panel.QDesktopServices.openUrl", lambda url: opened.append(url))
    with ModelRegistry(proj) as reg:
        a = reg.set_in_use(reg.register_training(good, data=proj).id)
        b = reg.register(bad.last_checkpoint)
        GoldenSets(reg).remove([proj / n for n in GOLDEN])
    win = open_window(qtbot, tmp_path, proj)
    part = win.models_part
    assert part.dock.golden_label.text().startswith("No golden set")
    click_row(qtbot, win, a.id)
    dialog_steps(qtbot, [("type", "washers v1")])
    qtbot.mouseClick(part.dock.rename_button, Qt.LeftButton)
    assert part.registry.get(a.id).name == "washers v1"
    assert part.dock.table.item(part.dock.row_of(a.id), 2).text() == "washers v1"
    qtbot.mouseClick(part.dock.delete_button, Qt.LeftButton)  # the model in use: refused, its file kept
    assert "model in use" in win.errors[-1] and a.path.is_file()
    qtbot.mouseClick(part.dock.folder_button, Qt.LeftButton)
    assert opened[-1].toLocalFile() == str(good.run_dir.resolve())
    qtbot.mouseClick(part.dock.export_button, Qt.LeftButton)
    onnx = part.registry.get(a.id).onnx_path
    assert onnx == a.path.with_suffix(".onnx") and onnx.is_file()
    exported = part.registry.by_path(onnx)
    assert (exported.source, exported.parent_id, exported.parameters) == ("onnx", a.id, a.parameters)
    click_row(qtbot, win, b.id)
    dialog_steps(qtbot, [("button", "Delete with its files")])
    qtbot.mouseClick(part.dock.delete_button, Qt.LeftButton)
    assert not bad.last_checkpoint.exists() and b.id not in part.dock.ids and a.path.is_file()


def test_add_to_golden_set_from_the_image_list(qtbot, tmp_path, project):
    proj, *_ = project
    win = open_window(qtbot, tmp_path, proj)
    images = win.images_dock.list
    row = win.project.images.index(proj / "t3.png")

    def choose():  # the image list's menu: its only entry
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(20, choose)
            return
        qtbot.keyClick(menu, Qt.Key_Down)
        qtbot.keyClick(menu, Qt.Key_Return)

    QTimer.singleShot(0, choose)
    where = images.visualItemRect(images.item(row)).center()
    qtbot.mouseClick(images.viewport(), Qt.RightButton, pos=where)
    QApplication.sendEvent(images.viewport(), QContextMenuEvent(QContextMenuEvent.Mouse, where,
                                                                images.viewport().mapToGlobal(where)))
    assert win.document.image_path == proj / "t3.png"
    assert "t3.png" in [p.name for p in GoldenSets(win.models_part.registry).images()]
    assert win.models_part.dock.golden_label.text() == f"Golden set: {len(GOLDEN) + 1} image(s)"
