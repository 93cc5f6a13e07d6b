"""A review decision's change of the open image's labels as one undoable edit of its document."""
from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from iunet_gui.app.review import KNOWN_NEGATIVES, SOURCE_KEY


def _source(shape) -> tuple | None:
    src = shape.extra.get(SOURCE_KEY)
    return (src.get("inspection"), src.get("defect")) if isinstance(src, dict) else None


class ApplyReview(QUndoCommand):
    """Bring the document to `target` (app.review.apply_decisions_to_labels's annotation of it): the
    confirmed detections it adds or drops as shapes, and its known negatives (false alarms)."""

    def __init__(self, document, target):
        super().__init__("Review decision")
        self.document = document  # gui.document.ImageDocument
        edits = document.edits
        have = {_source(s): s for s in edits.shapes if _source(s) is not None}
        want = {_source(s): s for s in target.shapes if _source(s) is not None}
        self.removed = [s for key, s in have.items() if key not in want]
        self.added = [s for key, s in want.items() if key not in have]
        self.old_negatives = copy.deepcopy(edits.annotation.extra.get(KNOWN_NEGATIVES))
        self.new_negatives = copy.deepcopy(target.extra.get(KNOWN_NEGATIVES))
        self.positions: list[int] | None = None

    @property
    def changes(self) -> bool:
        return bool(self.removed or self.added or self.old_negatives != self.new_negatives)

    def _set_negatives(self, value) -> None:
        extra = self.document.edits.annotation.extra
        if value:
            extra[KNOWN_NEGATIVES] = copy.deepcopy(value)
        else:
            extra.pop(KNOWN_NEGATIVES, None)

    def redo(self):
        edits = self.document.edits
        if self.removed:
            self.positions = edits.remove(self.removed)
        if self.added:
            edits.add(self.added)
        self._set_negatives(self.new_negatives)
        self.document.mark_dirty()

    def undo(self):
        edits = self.document.edits
        if self.added:
            edits.remove(self.added)
        if self.removed:
            edits.add(self.removed, self.positions)
        self._set_negatives(self.old_negatives)
        self.document.mark_dirty()
