"""The annotation of one image as an editable document: every edit of its shapes and flags goes
through here, finds shapes by identity, and tells the observers what changed. No Qt here; undo
commands (gui/commands.py) and scripts edit it alike, and views observe it."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from iunet_gui.core.annotation import Annotation, Shape

ADDED, REMOVED, POINTS, LABEL, DESCRIPTION, SHAPE_FLAGS, REPLACED, FLAGS = (
    "added", "removed", "points", "label", "description", "shape_flags", "replaced", "flags")


@dataclass(frozen=True)
class Change:
    """What one edit did: its kind, the shapes it touched (in document order for ADDED), and for
    REPLACED the shape that left (`old`). FLAGS (image-level flags) touches no shape."""

    kind: str
    shapes: tuple[Shape, ...] = ()
    old: Shape | None = None


Observer = Callable[[Change], None]


class AnnotationDocument:
    """The shapes and image flags of one annotation, edited by identity."""

    def __init__(self, annotation: Annotation):
        self.annotation = annotation
        self._observers: list[Observer] = []

    # -- observing -----------------------------------------------------------------------------
    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer(change)` after every edit; returns a function that stops it."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def _notify(self, change: Change) -> None:
        for observer in list(self._observers):
            observer(change)

    # -- reading -------------------------------------------------------------------------------
    @property
    def shapes(self) -> list[Shape]:
        """The shapes in drawing order (a copy of the list: edit through the methods below)."""
        return list(self.annotation.shapes)

    @property
    def flags(self) -> dict:
        return self.annotation.flags

    def __contains__(self, shape: object) -> bool:
        return any(s is shape for s in self.annotation.shapes)

    def index(self, shape: Shape) -> int:
        """The position of this very shape (not of an equal-looking copy)."""
        for i, s in enumerate(self.annotation.shapes):
            if s is shape:
                return i
        raise ValueError(f"the {shape.label!r} shape is not in this annotation")

    # -- edits ---------------------------------------------------------------------------------
    def add(self, shapes: Iterable[Shape], at: Iterable[int] | None = None) -> list[int]:
        """Insert shapes (appended, or at the given positions in ascending order); returns
        where each one went. A shape already in the document is refused."""
        shapes = list(shapes)
        for s in shapes:
            if s in self:
                raise ValueError(f"the {s.label!r} shape is already in this annotation")
        positions = list(at) if at is not None else [len(self.annotation.shapes) + k for k in range(len(shapes))]
        if len(positions) != len(shapes):
            raise ValueError("one position per shape")
        for pos, s in sorted(zip(positions, shapes), key=lambda e: e[0]):
            self.annotation.shapes.insert(pos, s)
        if shapes:
            self._notify(Change(ADDED, tuple(shapes)))
        return [self.index(s) for s in shapes]

    def remove(self, shapes: Iterable[Shape]) -> list[int]:
        """Take these very shapes out; returns the position each one had (for putting back)."""
        shapes = list(shapes)
        positions = [self.index(s) for s in shapes]
        for pos in sorted(positions, reverse=True):
            del self.annotation.shapes[pos]
        if shapes:
            self._notify(Change(REMOVED, tuple(shapes)))
        return positions

    def replace(self, old: Shape, new: Shape) -> None:
        """Put `new` where `old` was."""
        if new in self:
            raise ValueError(f"the {new.label!r} shape is already in this annotation")
        self.annotation.shapes[self.index(old)] = new
        self._notify(Change(REPLACED, (new,), old=old))

    def set_points(self, shape: Shape, points: Iterable[Iterable[float]]) -> None:
        self.index(shape)
        shape.points = [[float(x), float(y)] for x, y in points]
        self._notify(Change(POINTS, (shape,)))

    def set_label(self, shape: Shape, label: str) -> None:
        self.index(shape)
        shape.label = str(label)
        self._notify(Change(LABEL, (shape,)))

    def set_description(self, shape: Shape, description: str) -> None:
        self.index(shape)
        shape.description = str(description)
        self._notify(Change(DESCRIPTION, (shape,)))

    def set_shape_flags(self, shape: Shape, flags: dict) -> None:
        self.index(shape)
        shape.flags = dict(flags)
        self._notify(Change(SHAPE_FLAGS, (shape,)))

    def set_flag(self, key: str, value) -> None:
        """Set an image-level flag (reviewed, defect_free); None removes it."""
        if value is None:
            self.annotation.flags.pop(key, None)
        else:
            self.annotation.flags[key] = value
        self._notify(Change(FLAGS))
