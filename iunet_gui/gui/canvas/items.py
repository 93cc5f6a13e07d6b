"""The scene item of each shape on show, found by the shape's identity: added, updated and
removed as the annotation document reports its changes."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from iunet_gui.core.annotation import Shape
from iunet_gui.gui.shape_item import ShapeItem


class ShapeItems:
    def __init__(self, scene, color_of: Callable[[str], QColor]):
        self.scene = scene
        self.color_of = color_of
        self.by_id: dict[int, ShapeItem] = {}
        self.hidden_labels: set[str] = set()

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, shape: Shape) -> ShapeItem | None:
        item = self.by_id.get(id(shape))
        return item if item is not None and item.shape_ref is shape else None

    def add(self, shape: Shape, cache_mode) -> ShapeItem:
        item = ShapeItem(shape, self.color_of(shape.label))
        item.setCacheMode(cache_mode)
        item.setVisible(shape.label not in self.hidden_labels)
        self.by_id[id(shape)] = item
        self.scene.addItem(item)
        return item

    def remove(self, shape: Shape) -> None:
        item = self.get(shape)
        if item is not None:
            del self.by_id[id(shape)]
            self.scene.removeItem(item)

    def update(self, shape: Shape) -> None:
        item = self.get(shape)
        if item is not None:
            item.color = self.color_of(shape.label)
            item.setVisible(shape.label not in self.hidden_labels)
            item.rebuild()

    def clear(self) -> None:
        for item in self.by_id.values():
            self.scene.removeItem(item)
        self.by_id.clear()

    def show_selected(self, selected: list[Shape]) -> None:
        chosen = {id(s) for s in selected}
        for key, item in self.by_id.items():
            item.selected = key in chosen
            item.setZValue(1 if item.selected else 0)
            item.update()

    def set_hidden(self, labels: set[str]) -> None:
        self.hidden_labels = set(labels)
        for item in self.by_id.values():
            item.setVisible(item.shape_ref.label not in self.hidden_labels)

    def visible(self, shape: Shape) -> bool:
        return shape.label not in self.hidden_labels

    def under(self, pos: QPointF, tol: float, candidates: list[Shape]) -> ShapeItem | None:
        """The first visible item among `candidates` (in the order given) that covers `pos`."""
        for s in candidates:
            item = self.get(s)
            if item is not None and item.isVisible() and item.contains_point(pos, tol):
                return item
        return None
