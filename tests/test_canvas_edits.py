"""Editing on the canvas driven by keys and the mouse as an operator would: undo and redo with
Ctrl+Z / Ctrl+Shift+Z, vertex and shape edits, closing polygons, leaving an image while drawing,
quitting with unsaved edits, the shapes' context menu, and undo history per image."""
import json

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

from tests.gui_util import open_window

W, H = 320, 256


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "project"
    d.mkdir()
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(d / name), np.full((H, W, 3), 100, np.uint8))
    return d


@pytest.fixture
def win(qtbot, folder, tmp_path):
    w = open_window(qtbot, tmp_path, folder)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    w.canvas.setFocus()
    return w


def vp(win, x, y) -> QPoint:
    return win.canvas.mapFromScene(QPointF(x, y))


def click(qtbot, win, x, y, button=Qt.LeftButton):
    qtbot.mouseClick(win.canvas.viewport(), button, Qt.NoModifier, vp(win, x, y))


def key(qtbot, win, k, mod=Qt.NoModifier):
    qtbot.keyClick(win.canvas, k, mod)


def flat(points):
    return [c for p in points for c in p]


def shifted(points, dx, dy):
    return pytest.approx([c for x, y in points for c in (x + dx, y + dy)])


def undo(qtbot, win):
    key(qtbot, win, Qt.Key_Z, Qt.ControlModifier)


def redo(qtbot, win):
    key(qtbot, win, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)


def draw_square(qtbot, win, x0=60, y0=60, side=80):
    key(qtbot, win, Qt.Key_N, Qt.ControlModifier)  # polygon tool
    for x, y in [(x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side)]:
        click(qtbot, win, x, y)
    key(qtbot, win, Qt.Key_Return)
    key(qtbot, win, Qt.Key_J, Qt.ControlModifier)  # edit tool
    return win.document.shapes[-1]


def test_undo_of_a_deleted_vertex_brings_it_back_and_redo_deletes_it_again(qtbot, win):
    s = draw_square(qtbot, win)
    drawn = [list(p) for p in s.points]
    click(qtbot, win, 100, 100)  # select the square
    click(qtbot, win, *drawn[2])  # pick its third vertex
    key(qtbot, win, Qt.Key_Delete)
    assert s.points == drawn[:2] + drawn[3:]
    undo(qtbot, win)
    assert s.points == drawn
    redo(qtbot, win)
    assert s.points == drawn[:2] + drawn[3:]


def test_undo_of_a_move_by_arrow_keys_shifts_back_by_the_same_amount(qtbot, win):
    s = draw_square(qtbot, win)
    drawn = [list(p) for p in s.points]
    click(qtbot, win, 100, 100)
    key(qtbot, win, Qt.Key_Right)
    key(qtbot, win, Qt.Key_Down, Qt.ShiftModifier)  # 10 px
    assert flat(s.points) == shifted(drawn, 1, 10)
    undo(qtbot, win)
    assert flat(s.points) == shifted(drawn, 1, 0)
    undo(qtbot, win)
    assert flat(s.points) == shifted(drawn, 0, 0)
    redo(qtbot, win)
    assert flat(s.points) == shifted(drawn, 1, 0)


def test_undo_of_a_mouse_drag_puts_the_shape_back(qtbot, win):
    s = draw_square(qtbot, win)
    drawn = [list(p) for p in s.points]
    v = win.canvas.viewport()
    qtbot.mousePress(v, Qt.LeftButton, Qt.NoModifier, vp(win, 100, 100))
    qtbot.mouseMove(v, vp(win, 110, 105))
    qtbot.mouseMove(v, vp(win, 120, 110))
    qtbot.mouseRelease(v, Qt.LeftButton, Qt.NoModifier, vp(win, 120, 110))
    dx, dy = s.points[0][0] - drawn[0][0], s.points[0][1] - drawn[0][1]
    assert dx == pytest.approx(20, abs=1) and dy == pytest.approx(10, abs=1)
    undo(qtbot, win)
    assert flat(s.points) == shifted(drawn, 0, 0)


def test_undo_of_a_class_change_restores_each_shapes_own_label(qtbot, win):
    a = draw_square(qtbot, win, 20, 20, 60)
    key(qtbot, win, Qt.Key_Escape)  # deselect it
    key(qtbot, win, Qt.Key_2)  # class 2 for the next shape
    b = draw_square(qtbot, win, 150, 20, 60)
    assert (a.label, b.label) == ("scratch", "edge_crack")
    key(qtbot, win, Qt.Key_Escape)
    click(qtbot, win, 50, 50)
    qtbot.mouseClick(win.canvas.viewport(), Qt.LeftButton, Qt.ControlModifier, vp(win, 180, 50))
    assert win.canvas.selected == [a, b]
    key(qtbot, win, Qt.Key_3)  # both become holes
    assert (a.label, b.label) == ("hole", "hole")
    undo(qtbot, win)
    assert (a.label, b.label) == ("scratch", "edge_crack")


# -- closing a polygon (issue 28 #5) -----------------------------------------------------------------
def test_two_quick_vertex_clicks_5_px_apart_do_not_close_the_polygon(qtbot, win):
    key(qtbot, win, Qt.Key_N, Qt.ControlModifier)
    for x, y in [(40, 40), (120, 40), (120, 120)]:
        click(qtbot, win, x, y)
    v = win.canvas.viewport()
    at = vp(win, 60, 140)
    qtbot.mouseClick(v, Qt.LeftButton, Qt.NoModifier, at)
    qtbot.wait(150)
    qtbot.mouseDClick(v, Qt.LeftButton, Qt.NoModifier, at + QPoint(5, 0))  # Qt reads the pair as a double-click
    assert win.document.shapes == [] and win.canvas.drawing_points == 5
    click(qtbot, win, 30, 120)
    qtbot.mouseDClick(v, Qt.LeftButton, Qt.NoModifier, vp(win, 30, 120))  # a real double-click on the last vertex
    assert len(win.document.shapes) == 1 and len(win.document.shapes[0].points) == 6
    assert not win.canvas.drawing


def test_a_leftover_of_two_vertices_is_reported_when_the_image_changes(qtbot, win, folder):
    key(qtbot, win, Qt.Key_N, Qt.ControlModifier)
    click(qtbot, win, 40, 40)
    click(qtbot, win, 120, 40)
    key(qtbot, win, Qt.Key_D)
    assert win.document.image_path.name == "b.png"
    assert "unfinished polygon of 2 vertices" in win.statusBar().currentMessage()


def test_a_polygon_being_drawn_is_kept_when_the_operator_goes_to_the_next_image(qtbot, win, folder):
    key(qtbot, win, Qt.Key_N, Qt.ControlModifier)
    for x, y in [(40, 40), (120, 40), (120, 120)]:
        click(qtbot, win, x, y)
    key(qtbot, win, Qt.Key_D)
    assert win.document.image_path.name == "b.png"
    saved = json.loads((folder / "a.json").read_text())["shapes"]
    assert len(saved) == 1 and len(saved[0]["points"]) == 3


# -- quitting (issue 28 #6) -------------------------------------------------------------------------
def test_ctrl_q_right_after_an_edit_asks_and_cancel_keeps_everything(qtbot, win, folder):
    draw_square(qtbot, win)
    asked = []
    win.ask_unsaved = lambda: asked.append(win.document.dirty) or "cancel"
    key(qtbot, win, Qt.Key_Q, Qt.ControlModifier)
    assert asked == [True] and win.isVisible()
    assert not (folder / "a.json").exists()  # nothing was saved behind the operator's back
    win.ask_unsaved = lambda: "discard"
    key(qtbot, win, Qt.Key_Q, Qt.ControlModifier)
    assert not win.isVisible() and not (folder / "a.json").exists()


def test_ctrl_q_while_drawing_closes_the_polygon_and_asks(qtbot, win, folder):
    key(qtbot, win, Qt.Key_N, Qt.ControlModifier)
    for x, y in [(40, 40), (120, 40), (120, 120)]:
        click(qtbot, win, x, y)
    win.ask_unsaved = lambda: "save"
    key(qtbot, win, Qt.Key_Q, Qt.ControlModifier)
    assert not win.isVisible()
    assert len(json.loads((folder / "a.json").read_text())["shapes"]) == 1


def test_ctrl_q_with_two_vertices_drawn_asks(qtbot, win):
    key(qtbot, win, Qt.Key_N, Qt.ControlModifier)
    click(qtbot, win, 40, 40)
    click(qtbot, win, 120, 40)
    asked = []
    win.ask_unsaved = lambda: asked.append(1) or "cancel"
    key(qtbot, win, Qt.Key_Q, Qt.ControlModifier)
    assert asked and win.isVisible() and win.canvas.drawing_points == 2


# -- the shapes' context menu (issue 28 #11) ----------------------------------------------------------
def menu_choose(qtbot, win, text):
    menu = win.canvas.menu.menu
    qtbot.waitUntil(menu.isVisible)
    action = next(a for a in menu.actions() if a.text().replace("&", "") == text)
    qtbot.mouseClick(menu, Qt.LeftButton, Qt.NoModifier, menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible())


def answer_dialog(qtbot, text):
    qtbot.waitUntil(lambda: any(isinstance(w, QInputDialog) and w.isVisible() for w in QApplication.topLevelWidgets()))
    dlg = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QInputDialog) and w.isVisible())
    line = dlg.findChild(QLineEdit)
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key_Return)


def test_context_menu_edits_the_description_undoably(qtbot, win, folder):
    s = draw_square(qtbot, win)
    click(qtbot, win, 100, 100, Qt.RightButton)
    menu_choose(qtbot, win, "Edit Description…")
    answer_dialog(qtbot, "dent near the rim")
    assert s.description == "dent near the rim"
    key(qtbot, win, Qt.Key_S, Qt.ControlModifier)
    assert json.loads((folder / "a.json").read_text())["shapes"][0]["description"] == "dent near the rim"
    undo(qtbot, win)
    assert s.description == ""


def test_context_menu_edits_the_label_duplicates_and_deletes(qtbot, win):
    s = draw_square(qtbot, win)
    click(qtbot, win, 100, 100, Qt.RightButton)
    menu_choose(qtbot, win, "Edit Label…")
    answer_dialog(qtbot, "oxidation")
    assert s.label == "oxidation"
    click(qtbot, win, 100, 100, Qt.RightButton)
    menu_choose(qtbot, win, "Duplicate")
    copy = win.document.shapes[1]
    assert copy is not s and copy.label == "oxidation"
    assert copy.points == [[x + 10, y + 10] for x, y in s.points]
    click(qtbot, win, 145, 145, Qt.RightButton)  # only the copy covers this point
    menu_choose(qtbot, win, "Delete")
    assert win.document.shapes == [s]
    undo(qtbot, win)
    assert win.document.shapes == [s, copy]


# -- undo history per image (issue 28 #12) ------------------------------------------------------------
def test_undo_history_survives_going_to_another_image_and_back(qtbot, win, folder):
    s = draw_square(qtbot, win)
    click(qtbot, win, 100, 100)
    key(qtbot, win, Qt.Key_Right)
    key(qtbot, win, Qt.Key_D)
    assert win.document.image_path.name == "b.png"
    undo(qtbot, win)  # b has nothing to undo; a's history is not b's
    assert win.document.shapes == []
    key(qtbot, win, Qt.Key_A)
    assert win.document.image_path.name == "a.png" and win.document.shapes == [s]
    moved = [list(p) for p in s.points]
    undo(qtbot, win)
    assert flat(s.points) == shifted(moved, -1, 0)
    undo(qtbot, win)
    assert win.document.shapes == []
    key(qtbot, win, Qt.Key_S, Qt.ControlModifier)
    assert json.loads((folder / "a.json").read_text())["shapes"] == []


def test_undo_history_is_dropped_when_the_file_changed_on_disk_meanwhile(qtbot, win, folder):
    draw_square(qtbot, win)
    key(qtbot, win, Qt.Key_D)
    data = json.loads((folder / "a.json").read_text())
    data["shapes"][0]["label"] = "hole"  # another tool edits the file
    (folder / "a.json").write_text(json.dumps(data) + "\n")
    key(qtbot, win, Qt.Key_A)
    assert [s.label for s in win.document.shapes] == ["hole"]
    undo(qtbot, win)  # nothing to undo: the history belonged to the old file
    assert [s.label for s in win.document.shapes] == ["hole"]


def test_autosave_does_not_write_while_the_quit_question_is_open(qtbot, win, folder):
    win.autosave_timer.setInterval(20)
    draw_square(qtbot, win)

    def discard_after_a_while():
        qtbot.wait(200)  # the dialog's event loop runs meanwhile
        return "discard"

    win.ask_unsaved = discard_after_a_while
    key(qtbot, win, Qt.Key_Q, Qt.ControlModifier)
    assert not win.isVisible() and not (folder / "a.json").exists()


def test_a_broken_labels_file_is_read_again_when_the_operator_comes_back(qtbot, win, folder):
    (folder / "a.json").write_text("{broken")
    win.ask_start_over = lambda text: False  # "Not now"
    win.open_folder(folder, image="a.png")
    assert win.broken_labels is not None
    key(qtbot, win, Qt.Key_D)
    key(qtbot, win, Qt.Key_A)
    assert win.document.image_path.name == "a.png" and win.broken_labels is not None
    draw_square(qtbot, win)
    key(qtbot, win, Qt.Key_S, Qt.ControlModifier)
    assert (folder / "a.json").read_text() == "{broken"  # never overwritten


def test_ctrl_z_during_a_vertex_drag_ends_the_drag_without_an_error(qtbot, win):
    key(qtbot, win, Qt.Key_N, Qt.ControlModifier)
    for x, y in [(60, 60), (140, 60), (100, 140)]:
        click(qtbot, win, x, y)
    key(qtbot, win, Qt.Key_Return)
    key(qtbot, win, Qt.Key_J, Qt.ControlModifier)
    v = win.canvas.viewport()
    qtbot.mousePress(v, Qt.LeftButton, Qt.NoModifier, vp(win, 140, 60))  # grab a vertex of the new triangle
    qtbot.mouseMove(v, vp(win, 160, 70))
    undo(qtbot, win)  # the triangle goes while the button is still down
    qtbot.mouseMove(v, vp(win, 170, 80))
    qtbot.mouseRelease(v, Qt.LeftButton, Qt.NoModifier, vp(win, 170, 80))
    assert win.document.shapes == [] and not win.canvas.items
    redo(qtbot, win)
    assert len(win.document.shapes) == 1
    assert win.document.shapes[0].points[1] == pytest.approx([140, 60], abs=1.0)  # the drag left no trace
