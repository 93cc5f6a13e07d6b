"""The window with odd folders and files, focus after dialogs, and its layout at 1440x900 (offscreen)."""
import json

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTableWidget

from tests.gui_util import open_window as _open_window


def open_window(qtbot, tmp_path, folder, size=(1200, 800)):
    """The window on `folder`, once the keyboard focus has gone to its canvas (as it does when shown)."""
    win = _open_window(qtbot, tmp_path, folder, size)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is win.canvas, timeout=3000)
    return win


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "project"
    d.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png", "c.png"):
        cv2.imwrite(str(d / name), rng.integers(60, 200, (256, 320, 3), dtype=np.uint8))
    return d


def answer_dialog(qtbot, button_text: str, seen: list):
    """Click `button_text` in the next modal dialog, with the mouse, once it shows; its text goes to `seen`."""
    def poll():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(20, poll)
            return
        label = box.findChild(QLabel, "qt_msgbox_label")
        seen.append(label.text() if label is not None else box.windowTitle())
        button = next(b for b in box.findChildren(QPushButton) if b.text().replace("&", "") == button_text)
        qtbot.mouseClick(button, Qt.LeftButton)

    QTimer.singleShot(0, poll)


def press(qtbot, key, modifier=Qt.NoModifier):
    """A key press where the keyboard focus is, as an operator's would land."""
    target = QApplication.focusWidget()
    assert target is not None, "no widget has the keyboard focus"
    qtbot.keyClick(target, key, modifier)


def draw_triangle(qtbot, win):
    v = win.canvas.viewport()
    qtbot.keyClick(win.canvas, Qt.Key_N, Qt.ControlModifier)
    for x, y in [(50, 50), (150, 60), (100, 150), (51, 51)]:
        qtbot.mouseClick(v, Qt.LeftButton, Qt.NoModifier, win.canvas.mapFromScene(QPointF(x, y)))
    return win.document.shapes[-1]


def test_broken_labels_beside_a_readable_image_start_over_keeping_the_file(qtbot, folder, tmp_path):
    (folder / "b.json").write_text("{broken")
    seen = []
    win = open_window(qtbot, tmp_path, folder)
    win.quiet_errors = False  # the window asks
    answer_dialog(qtbot, "Start labels over", seen)
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert win.document.image_path.name == "b.png" and win.document.image is not None  # the image shows
    assert win.canvas._pixmap_item is not None
    assert seen and "broken JSON" in seen[0] and "b.json.broken" in seen[0]
    assert (folder / "b.json.broken").read_text() == "{broken" and not (folder / "b.json").exists()
    draw_triangle(qtbot, win)
    qtbot.keyClick(win.canvas, Qt.Key_S, Qt.ControlModifier)
    assert json.loads((folder / "b.json").read_text())["shapes"][0]["label"] == "scratch"
    assert win.images_dock.status(1) == "labelled"
    assert (folder / "b.json.broken").read_text() == "{broken"


def test_broken_labels_not_now_shows_the_image_and_never_overwrites_them(qtbot, folder, tmp_path):
    (folder / "b.json").write_text("{broken")
    seen = []
    win = open_window(qtbot, tmp_path, folder)
    win.quiet_errors = False  # the window asks
    assert win.images_dock.status(1) == "broken"
    answer_dialog(qtbot, "Not now", seen)
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert seen and win.document.image_path.name == "b.png" and win.canvas._pixmap_item is not None
    draw_triangle(qtbot, win)
    answer_dialog(qtbot, "OK", seen)
    qtbot.keyClick(win.canvas, Qt.Key_S, Qt.ControlModifier)
    assert (folder / "b.json").read_text() == "{broken"  # never overwritten
    assert "is not overwritten" in seen[1] and any("Labels not saved" in e for e in win.errors)
    assert win.act_start_over.isEnabled()
    win.act_start_over.trigger()  # a menu command: no key for it
    assert (folder / "b.json.broken").read_text() == "{broken"
    qtbot.waitUntil(lambda: (folder / "b.json").exists(), timeout=5000)  # the edit made meanwhile is kept
    assert len(json.loads((folder / "b.json").read_text())["shapes"]) == 1


def test_broken_labels_are_asked_about_each_time_the_image_opens(qtbot, folder, tmp_path):
    (folder / "b.json").write_text("{broken")
    seen = []
    win = open_window(qtbot, tmp_path, folder)
    win.quiet_errors = False  # the window asks
    answer_dialog(qtbot, "Not now", seen)
    press(qtbot, Qt.Key_D)
    press(qtbot, Qt.Key_D)
    assert win.document.image_path.name == "c.png" and not win.act_start_over.isEnabled()
    answer_dialog(qtbot, "Not now", seen)
    press(qtbot, Qt.Key_A)
    assert len(seen) == 2 and win.broken_labels == folder / "b.json" and win.act_start_over.isEnabled()
    draw_triangle(qtbot, win)
    answer_dialog(qtbot, "OK", seen)
    press(qtbot, Qt.Key_S, Qt.ControlModifier)
    assert (folder / "b.json").read_text() == "{broken" and len(seen) == 3


def test_without_dialogs_broken_labels_are_kept_and_the_image_shows(qtbot, folder, tmp_path):
    (folder / "a.json").write_text("{broken")
    win = open_window(qtbot, tmp_path, folder)  # quiet_errors: as in --screenshot, nothing waits for a click
    assert win.document.image_path.name == "a.png" and win.broken_labels == folder / "a.json"
    assert any(e.startswith("Broken labels file") and "a.json.broken" in e for e in win.errors)
    assert (folder / "a.json").read_text() == "{broken"


def test_empty_folder_shows_a_hint_and_no_stale_status(qtbot, folder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    win = open_window(qtbot, tmp_path, folder)
    win.statusBar().showMessage("loading …")
    win.open_folder(empty)
    assert win.document is None and win.statusBar().currentMessage() == ""
    assert win.hint.label.isVisible() and f"No images in {empty}" in win.hint.label.text() and "Open Folder" in win.hint.label.text()
    assert win.hint.label.geometry() == win.canvas.viewport().geometry()
    grab = win.canvas.grab().toImage()  # light text on the dark canvas
    middle = win.hint.label.geometry().center()
    lightest = max(grab.pixelColor(x, y).lightness() for x in range(0, grab.width(), 2)
                   for y in range(middle.y() - 40, middle.y() + 40))
    assert lightest > 150
    win.open_folder(folder)
    assert not win.hint.label.isVisible() and win.document is not None


def test_reopening_a_folder_opens_the_image_last_open_in_it(qtbot, folder, tmp_path):
    win = open_window(qtbot, tmp_path, folder)
    qtbot.keyClick(win.canvas, Qt.Key_D)
    qtbot.keyClick(win.canvas, Qt.Key_D)
    assert win.document.image_path.name == "c.png"
    assert win.close()
    win2 = open_window(qtbot, tmp_path, folder)  # the same settings file
    assert win2.document.image_path.name == "c.png"
    (tmp_path / "elsewhere").mkdir()
    other = open_window(qtbot, tmp_path / "elsewhere", folder)
    assert other.document.image_path.name == "a.png"  # other settings: the first image


@pytest.mark.parametrize("how", ["message box", "input dialog", "file dialog"])
def test_the_first_key_after_a_dialog_reaches_the_canvas(qtbot, folder, tmp_path, how):
    win = open_window(qtbot, tmp_path, folder)
    win.quiet_errors = False
    s = draw_triangle(qtbot, win)
    qtbot.keyClick(win.canvas, Qt.Key_J, Qt.ControlModifier)  # edit mode; the triangle stays selected
    assert win.canvas.selected == [s]
    seen = []
    if how == "message box":
        answer_dialog(qtbot, "OK", seen)
        win.error("Something", "went wrong")
    elif how == "input dialog":
        answer_dialog(qtbot, "Cancel", seen)
        qtbot.mouseClick(win.class_dock.add_btn, Qt.LeftButton)
    else:
        answer_dialog(qtbot, "Cancel", seen)
        press(qtbot, Qt.Key_O, Qt.ControlModifier)
    assert seen
    x0 = s.points[0][0]
    press(qtbot, Qt.Key_Right)  # moves the selection by 1 px: only the canvas takes arrows so
    assert s.points[0][0] == pytest.approx(x0 + 1)
    press(qtbot, Qt.Key_D)
    assert win.document.image_path.name == "b.png"


def test_lists_show_their_rows_at_1440x900(qtbot, folder, tmp_path):
    win = open_window(qtbot, tmp_path, folder, size=(1440, 900))
    for _ in range(10):
        draw_triangle(qtbot, win)
        qtbot.keyClick(win.canvas, Qt.Key_Escape)
    shapes = win.shape_dock.list
    assert shapes.count() == 10
    rows = shapes.viewport().height() // shapes.sizeHintForRow(0)
    assert rows >= 8, f"the Shapes list shows {rows} rows"
    classes = win.class_dock.list
    for i in range(classes.count()):
        assert classes.viewport().rect().contains(classes.visualItemRect(classes.item(i))), classes.item(i).text()
    assert win.images_dock.list.viewport().height() >= 5 * win.images_dock.list.sizeHintForRow(0)


def test_f1_lists_the_keys_and_closing_it_gives_the_keys_back(qtbot, folder, tmp_path):
    win = open_window(qtbot, tmp_path, folder)
    press(qtbot, Qt.Key_F1)
    dlg = win.shortcuts_dialog
    assert dlg.isVisible()
    table = dlg.findChild(QTableWidget)
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Save"] == "Ctrl+S" and rows["Next Image"] == "D" and "Pan" in rows
    close = next(b for b in dlg.findChildren(QPushButton) if b.text().replace("&", "") == "Close")
    qtbot.mouseClick(close, Qt.LeftButton)
    assert not dlg.isVisible()
    press(qtbot, Qt.Key_D)
    assert win.document.image_path.name == "b.png"


def test_shapes_copied_in_one_window_paste_in_another_and_other_text_is_refused(qtbot, folder, tmp_path):
    win = open_window(qtbot, tmp_path, folder)
    s = draw_triangle(qtbot, win)
    press(qtbot, Qt.Key_C, Qt.ControlModifier)
    (tmp_path / "other").mkdir()
    other = open_window(qtbot, tmp_path / "other", folder)
    press(qtbot, Qt.Key_D)
    press(qtbot, Qt.Key_V, Qt.ControlModifier)
    assert [x.points for x in other.document.shapes] == [s.points] and other.document.shapes[0] is not s
    QApplication.clipboard().setText("not shapes")
    press(qtbot, Qt.Key_V, Qt.ControlModifier)
    assert len(other.document.shapes) == 1
    assert other.statusBar().currentMessage().startswith("Nothing to paste")


def test_the_app_exits_cleanly_with_copied_shapes_on_the_clipboard(folder, tmp_path):
    import subprocess
    import sys

    (folder / "a.json").write_text(json.dumps({"shapes": [{"label": "scratch", "points": [[5, 5], [40, 5], [20, 30]],
                                                           "shape_type": "polygon"}], "imagePath": "a.png"}))
    code = ("from PySide6.QtCore import QSettings, Qt\nfrom PySide6.QtTest import QTest\n"
            "from iunet_gui.gui.app import make_app\nfrom iunet_gui.gui.main_window import MainWindow\n"
            f"app = make_app(); w = MainWindow({str(folder)!r}, QSettings({str(tmp_path / 's.ini')!r}, "
            "QSettings.IniFormat)); w.show(); app.processEvents()\n"
            "w.canvas.select_shapes(list(w.document.shapes))\n"
            "QTest.keyClick(w.canvas, Qt.Key_C, Qt.ControlModifier)\n"
            "assert 'scratch' in app.clipboard().text(), app.clipboard().text()\n"
            "w.close()\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
