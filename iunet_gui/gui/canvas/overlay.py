"""A model's prediction over the image: the tinted mask, each defect's minimum rotated rectangle
(dashed) and its length. Not editable and not saved; accepting a prediction makes it shapes. A
multi-class model's prediction draws each kind (tint, rectangle and length) in its class colour."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsPixmapItem, QGraphicsSimpleTextItem

TINT_ALPHA = 110


class PredictionOverlay:
    """The scene items that show one prediction; `show(None)` clears them."""

    def __init__(self, scene):
        self.scene = scene
        self.items: list[QGraphicsItem] = []
        self.visible = True

    def show(self, mask, defects=(), color: str = "#00e5ff", class_map=None, classes=(), colors=()) -> None:
        """Show `mask` tinted in `color` with its `defects`; with a `class_map` (kind of each pixel,
        1-based into `classes`) each kind in its colour of `colors`, each defect in its kind's (`label`)."""
        self.clear()
        if mask is None:
            return
        c = QColor(color)
        kind_colors = {name: QColor(col) for name, col in zip(classes, colors)} if class_map is not None else {}
        if kind_colors:
            items: list[QGraphicsItem] = [self._tint_kinds(class_map, [kind_colors[n] for n in classes])]
        else:
            items = [self._tint(mask, c)]
        paths: dict[str, tuple[QColor, QPainterPath]] = {}
        for k, d in enumerate(defects):
            dc = kind_colors.get(d.label, c)
            box = [QPointF(float(x), float(y)) for x, y in d.box]
            path = paths.setdefault(dc.name(), (dc, QPainterPath()))[1]
            path.addPolygon(QPolygonF(box))
            path.closeSubpath()
            items.append(self._length_label(k, d, box, dc))
        for dc, path in paths.values() or [(c, QPainterPath())]:
            boxes = QGraphicsPathItem(path)
            pen = QPen(dc, 1.6)
            pen.setCosmetic(True)
            pen.setStyle(Qt.DashLine)
            boxes.setPen(pen)
            boxes.setZValue(9)
            items.append(boxes)
        for it in items:
            it.setVisible(self.visible)
            self.scene.addItem(it)
        self.items = items

    @staticmethod
    def _tint(mask, c: QColor) -> QGraphicsPixmapItem:
        h, w = mask.shape[:2]
        rgba = np.zeros((h, w, 4), np.uint8)
        rgba[np.asarray(mask, bool)] = (c.red(), c.green(), c.blue(), TINT_ALPHA)
        tint = QGraphicsPixmapItem(QPixmap.fromImage(QImage(rgba.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()))
        tint.setZValue(0.5)
        return tint

    @staticmethod
    def _tint_kinds(class_map, kind_colors: list[QColor]) -> QGraphicsPixmapItem:
        """The class map tinted, kind k in `kind_colors[k - 1]`."""
        h, w = class_map.shape[:2]
        lut = np.zeros((256, 4), np.uint8)
        for k, kc in enumerate(kind_colors[:255], start=1):
            lut[k] = (kc.red(), kc.green(), kc.blue(), TINT_ALPHA)
        rgba = np.ascontiguousarray(lut[np.asarray(class_map, np.uint8)])
        tint = QGraphicsPixmapItem(QPixmap.fromImage(QImage(rgba.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()))
        tint.setZValue(0.5)
        return tint

    @staticmethod
    def _length_label(k: int, d, box: list[QPointF], c: QColor) -> QGraphicsSimpleTextItem:
        text = QGraphicsSimpleTextItem(f"{k + 1}: " + (f"{d.length_mm:.2f} mm" if d.length_mm is not None
                                                      else f"{d.length_px:.0f} px"))
        font = QFont()
        font.setBold(True)
        text.setFont(font)
        text.setBrush(c)
        text.setPen(QPen(QColor(0, 0, 0, 200), 0.8))
        text.setFlag(QGraphicsItem.ItemIgnoresTransformations)  # readable at any zoom
        text.setPos(max(p.x() for p in box) + 3, min(p.y() for p in box))
        text.setZValue(11)
        return text

    def clear(self) -> None:
        for it in self.items:
            self.scene.removeItem(it)
        self.items = []

    def set_visible(self, visible: bool) -> None:
        self.visible = bool(visible)
        for it in self.items:
            it.setVisible(self.visible)
