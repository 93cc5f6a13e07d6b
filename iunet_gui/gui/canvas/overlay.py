"""A model's prediction over the image: the tinted mask, each defect's minimum rotated rectangle
(dashed) and its length. Not editable and not saved; accepting a prediction makes it shapes."""
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

    def show(self, mask, defects=(), color: str = "#00e5ff") -> None:
        self.clear()
        if mask is None:
            return
        h, w = mask.shape[:2]
        c = QColor(color)
        items: list[QGraphicsItem] = [self._tint(mask, c)]
        path = QPainterPath()
        for k, d in enumerate(defects):
            box = [QPointF(float(x), float(y)) for x, y in d.box]
            path.addPolygon(QPolygonF(box))
            path.closeSubpath()
            items.append(self._length_label(k, d, box, c))
        boxes = QGraphicsPathItem(path)
        pen = QPen(c, 1.6)
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
