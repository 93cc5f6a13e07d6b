"""Accepted predictions, per image, while their Accept can still be undone: undoing one brings its
prediction back on show, redoing it hides the prediction again (the shapes show it), and an image
whose Accept stands does not show its cached prediction over the shapes a second time."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal


@dataclass
class Accepted:
    """An Accept on an image's undo stack: where it sits (the stack's index after it) and what it accepted."""

    stack: object  # QUndoStack
    index: int
    command: object  # the QUndoCommand pushed
    prediction: object  # the ImagePrediction accepted
    count: int
    label: str

    def replaced(self) -> bool:
        """Undone, then another edit took its place: it can no longer be redone."""
        s = self.stack
        return s.count() < self.index or s.command(self.index - 1) is not self.command

    def standing(self) -> bool:
        return not self.replaced() and self.stack.index() >= self.index


class AcceptTracker(QObject):
    """Watches the undo stacks of accepted images; `current` says which image is open."""

    undone = Signal(object)  # the Accepted whose Accept was undone on the open image
    redone = Signal(object)  # ... or redone

    def __init__(self, current, parent=None):
        super().__init__(parent)
        self.current = current  # () -> the open image's path, or None
        self._by_image: dict[Path, Accepted] = {}

    def add(self, image: Path, accepted: Accepted) -> None:
        self.forget(image)
        self._by_image[image] = accepted
        accepted.stack.indexChanged.connect(self._moved)

    def standing(self, image: Path) -> Accepted | None:
        """The image's Accept when it stands (its shapes are in the image)."""
        a = self._by_image.get(image)
        return a if a is not None and a.standing() else None

    def forget(self, image: Path) -> None:
        a = self._by_image.pop(image, None)
        if a is not None and not any(b.stack is a.stack for b in self._by_image.values()):
            a.stack.indexChanged.disconnect(self._moved)

    def clear(self) -> None:
        for image in list(self._by_image):
            self.forget(image)

    def _moved(self, index: int) -> None:
        image = self.current()
        a = self._by_image.get(image) if image is not None else None
        if a is None:
            return
        if a.replaced():
            self.forget(image)
        elif index < a.index:
            self.undone.emit(a)
        else:
            self.redone.emit(a)
