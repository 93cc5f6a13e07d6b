"""The labelling window driven like an operator would: real clicks, keys and drags (offscreen)."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtWidgets import QApplication

from iunet_gui.gui.main_window import MainWindow
from tests.gui_util import open_window


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "project"
    d.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png", "c.png"):
        cv2.imwrite(str(d / name), rng.integers(60, 200, (256, 320, 3), dtype=np.uint8))
    return d


@pytest.fixture
def win(qtbot, folder, tmp_path):
    w = open_window(qtbot, tmp_path, folder)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.canvas, timeout=3000)  # as when the window shows
    return w


def vp(win, x, y):
    """Viewport position of image point (x, y)."""
    return win.canvas.mapFromScene(QPointF(x, y))


def click(qtbot, win, x, y, modifier=Qt.NoModifier):
    qtbot.mouseClick(win.canvas.viewport(), Qt.LeftButton, modifier, vp(win, x, y))


def drag(qtbot, win, a, b):
    v = win.canvas.viewport()
    qtbot.mousePress(v, Qt.LeftButton, Qt.NoModifier, vp(win, *a))
    qtbot.mouseMove(v, vp(win, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
    qtbot.mouseMove(v, vp(win, *b))
    qtbot.mouseRelease(v, Qt.LeftButton, Qt.NoModifier, vp(win, *b))


def press(qtbot, key, modifier=Qt.NoModifier):
    """A key press where the keyboard focus is, as an operator's lands (the window's shortcuts included)."""
    target = QApplication.focusWidget()
    assert target is not None, "no widget has the keyboard focus"
    qtbot.keyClick(target, key, modifier)


def click_row(qtbot, lst, row):
    """A click on a row of a list widget."""
    qtbot.mouseClick(lst.viewport(), Qt.LeftButton, Qt.NoModifier, lst.visualItemRect(lst.item(row)).center())


def draw_triangle(qtbot, win):
    press(qtbot, Qt.Key_N, Qt.ControlModifier)
    for x, y in [(50, 50), (150, 60), (100, 150)]:
        click(qtbot, win, x, y)
    click(qtbot, win, 51, 51)  # on the first vertex: closes the polygon
    return win.document.shapes[-1]


def test_draw_a_polygon_with_clicks(qtbot, win):
    s = draw_triangle(qtbot, win)
    assert s.shape_type == "polygon" and len(s.points) == 3
    assert s.points[0] == pytest.approx([50, 50], abs=1.0)
    assert s.label == "scratch"
    assert win.document.dirty and "unsaved" in win.status.saved_label.text()


def test_enter_closes_escape_cancels_backspace_removes(qtbot, win):
    press(qtbot, Qt.Key_N, Qt.ControlModifier)
    for x, y in [(20, 20), (80, 20), (80, 80), (20, 80)]:
        click(qtbot, win, x, y)
    press(qtbot, Qt.Key_Backspace)
    press(qtbot, Qt.Key_Return)
    assert len(win.document.shapes) == 1 and len(win.document.shapes[0].points) == 3
    for x, y in [(120, 20), (180, 20)]:
        click(qtbot, win, x, y)
    press(qtbot, Qt.Key_Escape)
    assert len(win.document.shapes) == 1 and not win.canvas.drawing


def test_double_click_closes_and_rectangle_is_stored_the_labelme_way(qtbot, win):
    press(qtbot, Qt.Key_N, Qt.ControlModifier)
    click(qtbot, win, 30, 30)
    click(qtbot, win, 90, 30)
    click(qtbot, win, 90, 90)
    qtbot.mouseDClick(win.canvas.viewport(), Qt.LeftButton, Qt.NoModifier, vp(win, 90, 90))
    assert len(win.document.shapes[-1].points) == 3
    press(qtbot, Qt.Key_R, Qt.ControlModifier)
    drag(qtbot, win, (200, 100), (260, 180))
    r = win.document.shapes[-1]
    assert r.shape_type == "rectangle" and len(r.points) == 2
    assert r.points[1] == pytest.approx([260, 180], abs=1.0)


def test_move_insert_vertex_undo_redo(qtbot, win):
    s = draw_triangle(qtbot, win)
    press(qtbot, Qt.Key_J, Qt.ControlModifier)
    click(qtbot, win, 100, 90)  # inside: selects it
    assert win.canvas.selected == [s]
    drag(qtbot, win, tuple(s.points[1]), (170, 40))  # move a vertex
    assert s.points[1] == pytest.approx([170, 40], abs=1.0)
    mid = ((s.points[0][0] + s.points[1][0]) / 2, (s.points[0][1] + s.points[1][1]) / 2)
    drag(qtbot, win, mid, (110, 20))  # drag the edge midpoint: a new vertex
    assert len(s.points) == 4 and s.points[1] == pytest.approx([110, 20], abs=1.0)
    press(qtbot, Qt.Key_Z, Qt.ControlModifier)
    assert len(s.points) == 3
    press(qtbot, Qt.Key_Z, Qt.ControlModifier)
    assert s.points[1] == pytest.approx([150, 60], abs=1.0)
    press(qtbot, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    press(qtbot, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert len(s.points) == 4


def test_move_whole_shape_delete_vertex_and_shape(qtbot, win):
    s = draw_triangle(qtbot, win)
    press(qtbot, Qt.Key_J, Qt.ControlModifier)
    before = [list(p) for p in s.points]
    drag(qtbot, win, (100, 90), (110, 100))
    assert s.points[0] == pytest.approx([before[0][0] + 10, before[0][1] + 10], abs=1.0)
    press(qtbot, Qt.Key_Z, Qt.ControlModifier)
    assert s.points == before
    press(qtbot, Qt.Key_N, Qt.ControlModifier)
    for x, y in [(200, 50), (260, 50), (260, 120), (200, 120)]:
        click(qtbot, win, x, y)
    press(qtbot, Qt.Key_Return)
    sq = win.document.shapes[-1]
    press(qtbot, Qt.Key_J, Qt.ControlModifier)
    click(qtbot, win, 230, 85)
    click(qtbot, win, 260, 120)  # click a vertex, then delete it
    press(qtbot, Qt.Key_Delete)
    assert len(sq.points) == 3
    click(qtbot, win, 230, 70)
    press(qtbot, Qt.Key_Delete)
    assert sq not in win.document.shapes and len(win.document.shapes) == 1
    press(qtbot, Qt.Key_Z, Qt.ControlModifier)
    assert sq in win.document.shapes


def test_switching_images_autosaves_and_reopen_shows_it(qtbot, win, folder, tmp_path):
    draw_triangle(qtbot, win)
    press(qtbot, Qt.Key_D)
    assert win.document.image_path.name == "b.png"
    saved = json.loads((folder / "a.json").read_text())
    assert saved["shapes"][0]["shape_type"] == "polygon" and len(saved["shapes"][0]["points"]) == 3
    assert saved["imagePath"] == "a.png" and (saved["imageWidth"], saved["imageHeight"]) == (320, 256)
    assert win.images_dock.status(0) == "labelled"
    win2 = MainWindow(folder, settings=QSettings(str(tmp_path / "s2.ini"), QSettings.IniFormat))
    qtbot.addWidget(win2)
    assert len(win2.document.shapes) == 1 and win2.document.image_path.name == "a.png"


def test_autosave_timer_writes_after_an_edit(qtbot, win, folder):
    draw_triangle(qtbot, win)
    qtbot.waitUntil(lambda: (folder / "a.json").exists() and not win.document.dirty, timeout=5000)


def test_keys_d_and_a_and_the_arrows_step_through_the_images(qtbot, win):
    press(qtbot, Qt.Key_D)
    assert win.document.image_path.name == "b.png"
    press(qtbot, Qt.Key_A)
    assert win.document.image_path.name == "a.png"
    click_row(qtbot, win.images_dock.list, 0)
    press(qtbot, Qt.Key_Down)  # in the image list the arrows step
    assert win.document.image_path.name == "b.png"
    press(qtbot, Qt.Key_Down)
    press(qtbot, Qt.Key_Up)
    assert win.document.image_path.name == "b.png" and win.images_dock.list.currentRow() == 1


def test_change_class_with_number_key_and_copy_paste_between_images(qtbot, win):
    s = draw_triangle(qtbot, win)
    press(qtbot, Qt.Key_J, Qt.ControlModifier)
    click(qtbot, win, 100, 90)
    press(qtbot, Qt.Key_3)
    assert s.label == "hole"
    press(qtbot, Qt.Key_C, Qt.ControlModifier)
    press(qtbot, Qt.Key_D)
    press(qtbot, Qt.Key_V, Qt.ControlModifier)
    assert [x.label for x in win.document.shapes] == ["hole"]
    assert win.document.shapes[0] is not s


def test_broken_image_and_broken_json_are_marked_and_work_goes_on(qtbot, win, folder, tmp_path):
    (folder / "d.png").write_bytes(b"not a png")
    (folder / "e.png").write_bytes((folder / "a.png").read_bytes())
    (folder / "e.json").write_text("{broken")
    win.open_folder(folder)
    names = [p.name for p in win.project.images]
    assert win.images_dock.status(names.index("e.png")) == "broken"  # known before it is opened
    click_row(qtbot, win.images_dock.list, names.index("d.png"))
    assert win.images_dock.status(names.index("d.png")) == "broken" and win.document is None
    assert any("d.png" in e and "nothing was changed" in e for e in win.errors)
    click_row(qtbot, win.images_dock.list, names.index("b.png"))
    draw_triangle(qtbot, win)
    press(qtbot, Qt.Key_S, Qt.ControlModifier)
    assert json.loads((folder / "b.json").read_text())["shapes"][0]["label"] == "scratch"
    assert (folder / "e.json").read_text() == "{broken"  # never touched


def test_labelme_sidecar_keeps_unknown_keys_after_editing(qtbot, win, folder):
    data = {"version": "5.4.1", "flags": {"foo": True}, "shapes": [
        {"label": "scratch", "points": [[10, 10], [40, 10], [40, 40]], "group_id": 2, "description": "",
         "shape_type": "polygon", "flags": {}, "mask": None, "extra_key": 1}],
        "imagePath": "c.png", "imageData": None, "imageHeight": 256, "imageWidth": 320, "operator": "anna"}
    (folder / "c.json").write_text(json.dumps(data))
    win.open_folder(folder, image="c.png")
    draw_triangle(qtbot, win)
    press(qtbot, Qt.Key_S, Qt.ControlModifier)
    out = json.loads((folder / "c.json").read_text())
    assert out["operator"] == "anna" and out["flags"] == {"foo": True}
    assert out["shapes"][0]["extra_key"] == 1 and out["shapes"][0]["group_id"] == 2
    assert len(out["shapes"]) == 2


def test_close_with_unsaved_edits_asks_and_cancel_keeps_the_window(qtbot, win, folder, monkeypatch):
    draw_triangle(qtbot, win)
    monkeypatch.setattr(win, "save", lambda: False)  # e.g. a read-only folder
    asked = []
    monkeypatch.setattr(win, "ask_unsaved", lambda: asked.append(1) or "cancel")
    assert not win.close()
    assert asked and win.isVisible()
    monkeypatch.setattr(win, "ask_unsaved", lambda: "discard")
    assert win.close()


def test_close_saves_pending_edits_when_the_operator_chooses_save(qtbot, win, folder):
    draw_triangle(qtbot, win)
    asked = []
    win.ask_unsaved = lambda: asked.append(1) or "save"
    assert win.close()
    assert asked and json.loads((folder / "a.json").read_text())["shapes"]


def test_defect_free_and_reviewed_flags(qtbot, win, folder):
    press(qtbot, Qt.Key_F, Qt.ControlModifier | Qt.ShiftModifier)
    press(qtbot, Qt.Key_R, Qt.ControlModifier | Qt.ShiftModifier)
    press(qtbot, Qt.Key_S, Qt.ControlModifier)
    flags = json.loads((folder / "a.json").read_text())["flags"]
    assert flags == {"defect_free": True, "reviewed": True}
    assert win.images_dock.status(0) == "reviewed"


def test_status_bar_shows_cursor_position_and_zoom(qtbot, win):
    qtbot.mouseMove(win.canvas.viewport(), vp(win, 100, 50))
    assert "x 100" in win.status.pos_label.text() and "y 50" in win.status.pos_label.text()
    press(qtbot, Qt.Key_0, Qt.ControlModifier)
    assert win.status.zoom_label.text() == "100 %"


def test_shape_list_selection_follows_the_canvas(qtbot, win):
    s = draw_triangle(qtbot, win)
    press(qtbot, Qt.Key_J, Qt.ControlModifier)
    click(qtbot, win, 1, 250)
    assert win.canvas.selected == []
    click_row(qtbot, win.shape_dock.list, 0)
    assert win.canvas.selected == [s]
    assert "scratch" in win.shape_dock.list.item(0).text() and "px" in win.shape_dock.list.item(0).text()


def test_opening_the_window_does_not_import_torch(tmp_path):
    code = ("import sys, os; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
            "from iunet_gui.gui.app import make_app; from iunet_gui.gui.main_window import MainWindow\n"
            f"app = make_app(); w = MainWindow({str(tmp_path)!r}); w.show(); app.processEvents()\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_screenshot_option(tmp_path, folder):
    out = tmp_path / "shot.png"
    r = subprocess.run([sys.executable, "-m", "iunet_gui", str(folder), "--image", "b.png", "--screenshot", str(out)],
                       capture_output=True, text=True, timeout=60, env={**__import__("os").environ,
                                                                        "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    img = cv2.imread(str(out))
    assert img.shape[:2] == (900, 1440)


def test_circle_and_shift_constrained_square(qtbot, win):
    press(qtbot, Qt.Key_C, Qt.ControlModifier | Qt.ShiftModifier)
    drag(qtbot, win, (100, 100), (130, 100))
    c = win.document.shapes[-1]
    assert c.shape_type == "circle" and c.points[0] == pytest.approx([100, 100], abs=1.0)
    assert c.points[1][0] - c.points[0][0] == pytest.approx(30, abs=1.0)
    press(qtbot, Qt.Key_R, Qt.ControlModifier)
    v = win.canvas.viewport()
    qtbot.mousePress(v, Qt.LeftButton, Qt.NoModifier, vp(win, 10, 10))
    qtbot.mouseMove(v, vp(win, 50, 30))
    qtbot.mouseRelease(v, Qt.LeftButton, Qt.ShiftModifier, vp(win, 50, 30))
    r = win.document.shapes[-1]
    (x1, y1), (x2, y2) = r.points
    assert abs(x2 - x1) == pytest.approx(abs(y2 - y1), abs=1.0)  # Shift makes it a square


def test_hiding_a_class_hides_its_shapes(qtbot, win):
    s = draw_triangle(qtbot, win)
    click_row(qtbot, win.class_dock.list, 0)
    press(qtbot, Qt.Key_Space)  # unchecks the class
    assert win.class_dock.list.item(0).checkState() == Qt.Unchecked
    assert not win.canvas.items[id(s)].isVisible()
    press(qtbot, Qt.Key_Space)
    assert win.canvas.items[id(s)].isVisible()


def wheel(win, x, y, clicks):
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    v = win.canvas.viewport()
    pos = QPointF(vp(win, x, y))
    ev = QWheelEvent(pos, QPointF(v.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120 * clicks),
                     Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(v, ev)
    return pos


def test_wheel_zooms_around_the_cursor_and_middle_drag_pans(qtbot, win):
    win.canvas.set_zoom(2.0)
    z0 = win.canvas.zoom
    at = wheel(win, 200, 150, 3)  # three notches in, with the cursor over image point (200, 150)
    assert win.canvas.zoom == pytest.approx(z0 * 1.15 ** 3, rel=1e-3)
    under = win.canvas.mapToScene(at.toPoint())
    assert abs(under.x() - 200) < 1.5 and abs(under.y() - 150) < 1.5  # the same point stays under the cursor
    wheel(win, 200, 150, -1)
    assert win.canvas.zoom == pytest.approx(z0 * 1.15 ** 2, rel=1e-3)
    v = win.canvas.viewport()
    start = vp(win, 120, 100)
    before = win.canvas.mapToScene(start)
    qtbot.mousePress(v, Qt.MiddleButton, Qt.NoModifier, start)
    end = start + QPoint(40, 30)
    qtbot.mouseMove(v, end)
    qtbot.mouseRelease(v, Qt.MiddleButton, Qt.NoModifier, end)
    after = win.canvas.mapToScene(start)
    moved = (before.x() - after.x(), before.y() - after.y())  # the image followed the hand
    assert moved[0] == pytest.approx(40 / win.canvas.zoom, abs=1.5) and moved[1] == pytest.approx(30 / win.canvas.zoom, abs=1.5)
    assert win.document.shapes == []  # panning draws nothing
