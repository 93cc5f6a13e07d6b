"""Undoable edits (QUndoCommand) of an annotation document (core.document). Each command
changes the document only; the canvas and the lists follow the document's change events."""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from iunet_gui.core.annotation import Shape
from iunet_gui.core.document import AnnotationDocument


class _Cmd(QUndoCommand):
    def __init__(self, doc: AnnotationDocument, text: str):
        super().__init__(text)
        self.doc = doc


class AddShapes(_Cmd):
    def __init__(self, doc: AnnotationDocument, shapes: list[Shape], text: str = "Add shape"):
        super().__init__(doc, text)
        self.shapes = list(shapes)
        self.positions: list[int] | None = None  # where they go back on redo after an undo

    def redo(self):
        self.positions = self.doc.add(self.shapes, self.positions)

    def undo(self):
        self.positions = self.doc.remove(self.shapes)


class RemoveShapes(_Cmd):
    def __init__(self, doc: AnnotationDocument, shapes: list[Shape]):
        super().__init__(doc, f"Delete {len(shapes)} shape(s)")
        self.shapes = sorted(shapes, key=doc.index)
        self.positions = [doc.index(s) for s in self.shapes]

    def redo(self):
        self.positions = self.doc.remove(self.shapes)

    def undo(self):
        self.doc.add(self.shapes, self.positions)


class SetPoints(_Cmd):
    """Any change of one shape's points (move / insert / delete a vertex, move the shape)."""

    def __init__(self, doc: AnnotationDocument, shape: Shape, old: list, new: list, text: str):
        super().__init__(doc, text)
        self.shape, self.old, self.new = shape, [list(p) for p in old], [list(p) for p in new]

    def redo(self):
        self.doc.set_points(self.shape, self.new)

    def undo(self):
        self.doc.set_points(self.shape, self.old)


class MoveShapes(_Cmd):
    """Shift whole shapes by (dx, dy) image pixels."""

    def __init__(self, doc: AnnotationDocument, shapes: list[Shape], dx: float, dy: float):
        super().__init__(doc, f"Move {len(shapes)} shape(s)")
        self.shapes, self.dx, self.dy = list(shapes), dx, dy

    def _shift(self, sx, sy):
        for s in self.shapes:
            self.doc.set_points(s, [[x + sx, y + sy] for x, y in s.points])

    def redo(self):
        self._shift(self.dx, self.dy)

    def undo(self):
        self._shift(-self.dx, -self.dy)


class SetLabel(_Cmd):
    def __init__(self, doc: AnnotationDocument, shapes: list[Shape], label: str):
        super().__init__(doc, f"Set class to {label}")
        self.shapes, self.label = list(shapes), label
        self.old = [s.label for s in self.shapes]

    def redo(self):
        for s in self.shapes:
            self.doc.set_label(s, self.label)

    def undo(self):
        for s, old in zip(self.shapes, self.old):
            self.doc.set_label(s, old)


class SetDescription(_Cmd):
    def __init__(self, doc: AnnotationDocument, shape: Shape, description: str):
        super().__init__(doc, "Edit description")
        self.shape, self.new, self.old = shape, description, shape.description

    def redo(self):
        self.doc.set_description(self.shape, self.new)

    def undo(self):
        self.doc.set_description(self.shape, self.old)


class SetFlag(_Cmd):
    """An image-level flag (reviewed, defect_free); None clears it."""

    def __init__(self, doc: AnnotationDocument, key: str, value):
        super().__init__(doc, f"{'Set' if value else 'Clear'} {key}")
        self.key, self.value = key, value
        self.old = self.doc.flags.get(key)

    def redo(self):
        self.doc.set_flag(self.key, self.value)

    def undo(self):
        self.doc.set_flag(self.key, self.old)
