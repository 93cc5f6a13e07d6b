"""Undoable edits (QUndoCommand). Each mutates the core Shape objects and tells the canvas."""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from iunet_gui.core.annotation import Shape


class _Cmd(QUndoCommand):
    def __init__(self, canvas, text: str):
        super().__init__(text)
        self.canvas = canvas

    @property
    def doc(self):
        return self.canvas.document


class AddShapes(_Cmd):
    def __init__(self, canvas, shapes: list[Shape], text: str = "Add shape"):
        super().__init__(canvas, text)
        self.shapes = shapes

    def redo(self):
        for s in self.shapes:
            self.doc.shapes.append(s)
            self.canvas.add_item(s)
        self.canvas.select_shapes(self.shapes)
        self.doc.mark_dirty()

    def undo(self):
        for s in self.shapes:
            self.canvas.remove_item(s)
            self.doc.shapes.remove(s)
        self.doc.mark_dirty()


class RemoveShapes(_Cmd):
    def __init__(self, canvas, shapes: list[Shape]):
        super().__init__(canvas, f"Delete {len(shapes)} shape(s)")
        self.entries = sorted(((canvas.document.shapes.index(s), s) for s in shapes), key=lambda e: e[0])

    def redo(self):
        for _, s in reversed(self.entries):
            self.canvas.remove_item(s)
            self.doc.shapes.remove(s)
        self.doc.mark_dirty()

    def undo(self):
        for i, s in self.entries:
            self.doc.shapes.insert(i, s)
            self.canvas.add_item(s)
        self.canvas.select_shapes([s for _, s in self.entries])
        self.doc.mark_dirty()


class SetPoints(_Cmd):
    """Any change of one shape's points (move / insert / delete a vertex, move the shape)."""

    def __init__(self, canvas, shape: Shape, old: list, new: list, text: str):
        super().__init__(canvas, text)
        self.shape, self.old, self.new = shape, [list(p) for p in old], [list(p) for p in new]

    def _apply(self, pts):
        self.shape.points = [list(p) for p in pts]
        self.canvas.update_item(self.shape)
        self.doc.mark_dirty()

    def redo(self):
        self._apply(self.new)

    def undo(self):
        self._apply(self.old)


class MoveShapes(_Cmd):
    def __init__(self, canvas, shapes: list[Shape], dx: float, dy: float):
        super().__init__(canvas, f"Move {len(shapes)} shape(s)")
        self.shapes, self.dx, self.dy = shapes, dx, dy

    def _shift(self, sx, sy):
        for s in self.shapes:
            s.points = [[x + sx, y + sy] for x, y in s.points]
            self.canvas.update_item(s)
        self.doc.mark_dirty()

    def redo(self):
        self._shift(self.dx, self.dy)

    def undo(self):
        self._shift(-self.dx, -self.dy)


class SetLabel(_Cmd):
    def __init__(self, canvas, shapes: list[Shape], label: str):
        super().__init__(canvas, f"Set class to {label}")
        self.shapes, self.label = shapes, label
        self.old = [s.label for s in shapes]

    def redo(self):
        for s in self.shapes:
            s.label = self.label
            self.canvas.update_item(s)
        self.doc.mark_dirty()

    def undo(self):
        for s, old in zip(self.shapes, self.old):
            s.label = old
            self.canvas.update_item(s)
        self.doc.mark_dirty()


class SetFlag(_Cmd):
    """An image-level flag (reviewed, defect_free)."""

    def __init__(self, canvas, key: str, value: bool):
        super().__init__(canvas, f"{'Set' if value else 'Clear'} {key}")
        self.key, self.value = key, value
        self.old = canvas.document.annotation.flags.get(key)

    def _set(self, v):
        flags = self.doc.annotation.flags
        if v is None:
            flags.pop(self.key, None)
        else:
            flags[self.key] = v
        self.doc.mark_dirty()

    def redo(self):
        self._set(self.value)

    def undo(self):
        self._set(self.old)
