"""Random edit sequences in the real window against a plain model of what the operator did.

The model is a list of (label, points, description) per image, an undo history per image and the last saved
state per image. After each step the window's document, the canvas items and the JSON on disk
must agree with it."""
import json

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from iunet_gui.gui.app import make_app
from iunet_gui.gui.main_window import MainWindow

IMAGES = ("a.png", "b.png")
W, H = 160, 120
LABELS = ("scratch", "dent", "hole")

coord_x = st.integers(0, W - 1).map(float)
coord_y = st.integers(0, H - 1).map(float)
triangle = st.lists(st.tuples(coord_x, coord_y).map(list), min_size=3, max_size=5)


def snapshot(shapes) -> tuple:
    """(label, points, description) of each shape, in order."""
    return tuple((s.label, tuple(tuple(float(c) for c in p) for p in s.points), s.description) for s in shapes)


class ImageModel:
    def __init__(self):
        self.history: list[tuple] = [()]
        self.pos = 0
        self.saved: tuple | None = None  # None: no JSON written yet
        self.dirty = False

    @property
    def shapes(self) -> tuple:
        return self.history[self.pos]

    def edit(self, new: tuple) -> None:
        self.history = self.history[: self.pos + 1] + [new]
        self.pos += 1
        self.dirty = True


# -- the window's edit surface (the only place that names canvas internals) ----------------------
def add_shape(win, label, points):
    from iunet_gui.core.annotation import Shape

    win.canvas.current_label = label
    win.canvas.add_shapes([Shape(label, [list(p) for p in points])])


def set_points(win, shape, points, text):
    win.canvas.edit_points(shape, [list(p) for p in points], text)


class EditMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.win = None

    @initialize()
    def open(self):
        import tempfile
        from pathlib import Path

        if QApplication.instance() is None:
            make_app()
        self.tmp = tempfile.TemporaryDirectory()
        self.folder = Path(self.tmp.name) / "project"
        self.folder.mkdir()
        for name in IMAGES:
            cv2.imwrite(str(self.folder / name), np.full((H, W, 3), 90, np.uint8))
        win = MainWindow(settings=QSettings(str(Path(self.tmp.name) / "s.ini"), QSettings.IniFormat))
        win.quiet_errors = True
        win.ask_stop_training = lambda: "stop"
        win.open_folder(self.folder)
        win.autosave_timer.setInterval(10 ** 7)  # autosave happens only in the autosave rule
        self.win = win
        self.models = {name: ImageModel() for name in IMAGES}
        self.current = IMAGES[0]

    def teardown(self):
        if self.win is not None:
            self.win.ask_unsaved = lambda: "discard"
            self.win.close()
            self.win.deleteLater()
            self.win = None
        self.tmp.cleanup()

    @property
    def model(self) -> ImageModel:
        return self.models[self.current]

    def shape(self, i):
        return self.win.document.shapes[i % len(self.win.document.shapes)]

    def keep(self, new_shapes_of_doc):
        self.model.edit(new_shapes_of_doc)

    def change(self, i, label=None, points=None, description=None):
        """The model after shape i (modulo the count) takes the values given."""
        shapes = list(self.model.shapes)
        old = shapes[i % len(shapes)]
        shapes[i % len(shapes)] = (old[0] if label is None else label, old[1] if points is None else points,
                                   old[2] if description is None else description)
        self.keep(tuple(shapes))

    # -- rules --------------------------------------------------------------------------------
    @rule(label=st.sampled_from(LABELS), points=triangle)
    def add(self, label, points):
        add_shape(self.win, label, points)
        self.keep(self.model.shapes + ((label, tuple(tuple(p) for p in points), ""),))

    @precondition(lambda self: self.win is not None and self.model.shapes)
    @rule(i=st.integers(0, 20))
    def paste_on_top(self, i):
        n = len(self.model.shapes)
        s = self.shape(i)
        self.win.canvas.select_shapes([s])
        self.win.copy_shapes()
        self.win.paste_shapes()
        self.keep(self.model.shapes + (self.model.shapes[i % n],))

    @precondition(lambda self: self.win is not None and self.model.shapes)
    @rule(i=st.integers(0, 20))
    def delete(self, i):
        n = len(self.model.shapes)
        self.win.canvas.select_shapes([self.shape(i)])
        self.win.canvas.delete_selection()
        self.keep(self.model.shapes[: i % n] + self.model.shapes[i % n + 1:])

    @precondition(lambda self: self.win is not None and self.model.shapes)
    @rule(i=st.integers(0, 20), v=st.integers(0, 10), x=coord_x, y=coord_y)
    def move_vertex(self, i, v, x, y):
        pts = self.model.shapes[i % len(self.model.shapes)][1]
        k = v % len(pts)
        if pts[k] == (x, y):
            return
        new = pts[:k] + ((x, y),) + pts[k + 1:]
        set_points(self.win, self.shape(i), new, "Move vertex")
        self.change(i, points=new)

    @precondition(lambda self: self.win is not None and self.model.shapes)
    @rule(i=st.integers(0, 20), v=st.integers(0, 10))
    def insert_vertex(self, i, v):
        pts = self.model.shapes[i % len(self.model.shapes)][1]
        k = v % len(pts)
        a, b = pts[k], pts[(k + 1) % len(pts)]
        new = pts[: k + 1] + ((float((a[0] + b[0]) // 2), float((a[1] + b[1]) // 2)),) + pts[k + 1:]
        set_points(self.win, self.shape(i), new, "Insert vertex")
        self.change(i, points=new)

    @precondition(lambda self: self.win is not None and self.model.shapes)
    @rule(i=st.integers(0, 20), label=st.sampled_from(LABELS))
    def relabel(self, i, label):
        if self.model.shapes[i % len(self.model.shapes)][0] == label:
            return
        self.win.canvas.select_shapes([self.shape(i)])
        self.win.canvas.set_label_of_selection(label)
        self.change(i, label=label)

    @precondition(lambda self: self.win is not None and self.model.shapes)
    @rule(i=st.integers(0, 20), key=st.sampled_from([Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down]),
          shift=st.booleans())
    def nudge(self, i, key, shift):
        """An arrow key moves the selected shape 1 px (Shift: 10 px), never out of the image."""
        pts = self.model.shapes[i % len(self.model.shapes)][1]
        step = 10.0 if shift else 1.0
        dx = {Qt.Key_Left: -step, Qt.Key_Right: step}.get(key, 0.0)
        dy = {Qt.Key_Up: -step, Qt.Key_Down: step}.get(key, 0.0)
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        dx = min(max(dx, -min(xs)), W - 1 - max(xs))
        dy = min(max(dy, -min(ys)), H - 1 - max(ys))
        self.win.canvas.select_shapes([self.shape(i)])
        QTest.keyClick(self.win.canvas, key, Qt.ShiftModifier if shift else Qt.NoModifier)
        if dx or dy:
            self.change(i, points=tuple((x + dx, y + dy) for x, y in pts))

    @precondition(lambda self: self.win is not None and self.model.shapes)
    @rule(i=st.integers(0, 20), text=st.sampled_from(["", "near the rim", "predicted by m.pt"]))
    def describe(self, i, text):
        if self.model.shapes[i % len(self.model.shapes)][2] == text:
            return
        self.win.canvas.set_description(self.shape(i), text)
        self.change(i, description=text)

    @precondition(lambda self: self.win is not None and self.model.shapes)
    @rule(i=st.integers(0, 20))
    def duplicate(self, i):
        label, pts, description = self.model.shapes[i % len(self.model.shapes)]
        self.win.canvas.select_shapes([self.shape(i)])
        self.win.canvas.duplicate_selection()
        moved = tuple((min(x + 10, W - 1.0), min(y + 10, H - 1.0)) for x, y in pts)
        self.keep(self.model.shapes + ((label, moved, description),))

    @rule()
    def undo(self):
        self.win.canvas.undo_stack.undo()
        if self.model.pos > 0:
            self.model.pos -= 1
            self.model.dirty = True

    @rule()
    def redo(self):
        self.win.canvas.undo_stack.redo()
        if self.model.pos < len(self.model.history) - 1:
            self.model.pos += 1
            self.model.dirty = True

    @rule(name=st.sampled_from(IMAGES))
    def switch_image(self, name):
        if name == self.current:
            return
        assert self.win.go_to(IMAGES.index(name))
        if self.model.dirty:  # leaving an image saves it
            self.model.saved, self.model.dirty = self.model.shapes, False
        self.current = name

    @rule()
    def save(self):
        assert self.win.save()
        if self.model.dirty or self.model.saved is None:
            self.model.saved, self.model.dirty = self.model.shapes, False

    @rule()
    def autosave(self):
        from PySide6.QtCore import QCoreApplication

        self.win.autosave_timer.setInterval(0)
        if self.model.dirty:
            self.win.autosave_timer.start()
            for _ in range(50):
                QCoreApplication.processEvents()
                if not self.win.document.dirty:
                    break
            self.model.saved, self.model.dirty = self.model.shapes, False
        self.win.autosave_timer.setInterval(10 ** 7)

    # -- checks -------------------------------------------------------------------------------
    @invariant()
    def document_matches_the_model(self):
        if self.win is None:
            return
        assert self.win.document.image_path.name == self.current
        assert snapshot(self.win.document.shapes) == self.model.shapes
        assert self.win.document.dirty == self.model.dirty

    @invariant()
    def canvas_shows_each_shape_once(self):
        if self.win is None:
            return
        items = self.win.canvas.items
        assert len(items) == len(self.win.document.shapes)
        for s in self.win.document.shapes:
            assert items[id(s)].shape_ref is s

    @invariant()
    def json_on_disk_matches_the_last_save(self):
        if self.win is None:
            return
        for name, m in self.models.items():
            path = self.folder / name.replace(".png", ".json")
            if m.saved is None:
                assert not path.exists()
                continue
            data = json.loads(path.read_text())
            on_disk = tuple((s["label"], tuple(tuple(p) for p in s["points"]), s["description"])
                            for s in data["shapes"])
            assert on_disk == m.saved


EditMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None,
                                         suppress_health_check=list(HealthCheck))
TestEditSequences = EditMachine.TestCase


def _vp(win, x, y):
    return win.canvas.mapFromScene(QPointF(x, y))


def test_paste_on_top_delete_the_copy_move_the_original_saves_the_move(qtbot, tmp_path):
    """The lost-edit sequence: a copy pasted onto its original, the copy deleted, the original
    moved and saved. The JSON must hold the moved points."""
    from tests.gui_util import open_window

    folder = tmp_path / "project"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.full((H, W, 3), 90, np.uint8))
    win = open_window(qtbot, tmp_path, folder)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    c = win.canvas
    c.setFocus()
    v = c.viewport()
    qtbot.keyClick(c, Qt.Key_N, Qt.ControlModifier)  # polygon mode
    for x, y in [(40, 30), (100, 30), (70, 90)]:
        qtbot.mouseClick(v, Qt.LeftButton, Qt.NoModifier, _vp(win, x, y))
    qtbot.keyClick(c, Qt.Key_Return)
    original = win.document.shapes[0]
    drawn = [list(p) for p in original.points]
    qtbot.keyClick(c, Qt.Key_J, Qt.ControlModifier)  # edit mode
    qtbot.mouseClick(v, Qt.LeftButton, Qt.NoModifier, _vp(win, 70, 50))
    assert c.selected == [original]
    qtbot.keyClick(c, Qt.Key_C, Qt.ControlModifier)
    qtbot.keyClick(c, Qt.Key_V, Qt.ControlModifier)  # the pasted copy lies on the original, selected
    copy = win.document.shapes[1]
    assert copy is not original and c.selected == [copy]
    qtbot.keyClick(c, Qt.Key_Delete)
    assert win.document.shapes == [original]
    qtbot.mouseClick(v, Qt.LeftButton, Qt.NoModifier, _vp(win, 70, 50))
    assert c.selected == [original]
    for _ in range(5):
        qtbot.keyClick(c, Qt.Key_Right)  # move the original 5 px right
    qtbot.keyClick(c, Qt.Key_S, Qt.ControlModifier)
    saved = json.loads((folder / "a.json").read_text())["shapes"]
    assert len(saved) == 1
    moved = [c for x, y in drawn for c in (x + 5, y)]
    assert [c for p in saved[0]["points"] for c in p] == pytest.approx(moved)


def test_lost_edit_sequence_as_machine_steps(qtbot):
    """The same sequence through the machine's rules, checked by its invariants after each step."""
    m = EditMachine()
    try:
        steps = [lambda: m.open(), lambda: m.add("scratch", [[10.0, 10.0], [60.0, 10.0], [30.0, 50.0]]),
                 lambda: m.paste_on_top(0), lambda: m.delete(1), lambda: m.move_vertex(0, 0, 20.0, 20.0),
                 lambda: m.save()]
        for step in steps:
            step()
            m.document_matches_the_model()
            m.canvas_shows_each_shape_once()
            m.json_on_disk_matches_the_last_save()
    finally:
        m.teardown()
