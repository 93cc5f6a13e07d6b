"""A labelme shape on the canvas: paints itself (outline, translucent fill, vertex and
edge-midpoint handles when selected) and answers hit tests in scene coordinates."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem

from iunet_gui.core.annotation import Shape
from iunet_gui.core.measure import shape_outline

HANDLE_PX = 7.0  # handle size on screen, whatever the zoom


def outline_points(shape: Shape) -> list[tuple[float, float]]:
    """The polygon a shape covers (rectangles and circles expanded), for painting and hits."""
    return [(float(x), float(y)) for x, y in shape_outline(shape)]


def _nearest(points, pos: QPointF, tol: float) -> int | None:
    """Index of the point nearest to `pos` within `tol`, or None."""
    best, best_d = None, tol
    for i, (x, y) in enumerate(points):
        d = math.hypot(pos.x() - x, pos.y() - y)
        if d <= best_d:
            best, best_d = i, d
    return best


class ShapeItem(QGraphicsItem):
    def __init__(self, shape: Shape, color: QColor):
        super().__init__()
        self.shape_ref = shape
        self.preview: list[list[float]] | None = None  # points shown while a drag is under way
        self.color = QColor(color)
        self.selected = False
        self.hover_vertex: int | None = None
        self.hover_edge: int | None = None
        self._path = QPainterPath()
        self._bounds = QRectF()
        self.setAcceptHoverEvents(False)
        self.rebuild()

    # geometry ---------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.shape_ref.shape_type not in ("line", "linestrip", "point", "points")

    @property
    def points(self) -> list[list[float]]:
        """The points on show: the drag's preview, else the shape's own."""
        return self.preview if self.preview is not None else self.shape_ref.points

    def set_preview(self, points: list[list[float]] | None) -> None:
        self.preview = None if points is None else [list(p) for p in points]
        self.rebuild()

    def rebuild(self) -> None:
        self.prepareGeometryChange()
        s = self.shape_ref
        pts = outline_points(s if self.preview is None else Shape(s.label, self.preview, s.shape_type))
        path = QPainterPath()
        if pts:
            path.addPolygon(QPolygonF([QPointF(x, y) for x, y in pts]))
            if self.closed and len(pts) > 2:
                path.closeSubpath()
        self._path = path
        r = path.boundingRect()
        if self.shape_ref.shape_type in ("point", "points") and pts:
            r = QRectF(pts[0][0] - 5, pts[0][1] - 5, 10, 10)
        pad = 20.0  # room for handles and the pen at any zoom
        self._bounds = r.adjusted(-pad, -pad, pad, pad)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def handles(self) -> list[tuple[float, float]]:
        """Editable vertices: polygon points, or a rectangle's / circle's two defining points."""
        return [(float(x), float(y)) for x, y in self.points]

    def midpoints(self) -> list[tuple[float, float]]:
        if self.shape_ref.shape_type not in ("polygon", "linestrip"):
            return []
        p = self.points
        n = len(p)
        count = n if self.shape_ref.shape_type == "polygon" else n - 1
        return [((p[i][0] + p[(i + 1) % n][0]) / 2, (p[i][1] + p[(i + 1) % n][1]) / 2) for i in range(count)]

    def vertex_at(self, pos: QPointF, tol: float) -> int | None:
        return _nearest(self.handles(), pos, tol)

    def edge_at(self, pos: QPointF, tol: float) -> int | None:
        """Index of the edge whose midpoint handle is under `pos`."""
        return _nearest(self.midpoints(), pos, tol)

    def contains_point(self, pos: QPointF, tol: float) -> bool:
        if self.closed and self._path.contains(pos):
            return True
        stroker = QPainterPathStroker()
        stroker.setWidth(max(tol * 2, 1e-3))
        return stroker.createStroke(self._path).contains(pos)

    # painting ---------------------------------------------------------------------------------
    def paint(self, painter, option, widget=None) -> None:
        scale = painter.worldTransform().m11() or 1.0
        pen = QPen(self.color, 2.5 if self.selected else 1.6)
        pen.setCosmetic(True)
        pen.setJoinStyle(Qt.RoundJoin)
        if self.shape_ref.is_degenerate:
            pen.setStyle(Qt.DashLine)
        if self.closed:
            # The translucent fill is drawn without anti-aliasing: its edge is under the
            # anti-aliased outline anyway, and aliased span fills are several times faster when
            # zoomed in on many overlapping shapes (bench_canvas at 400 % zoom: 12 ms a frame, 19 with anti-aliasing).
            fill = QColor(self.color)
            fill.setAlpha(70 if self.selected else 38)
            aa = painter.testRenderHint(QPainter.Antialiasing)
            painter.setRenderHint(QPainter.Antialiasing, False)
            painter.fillPath(self._path, QBrush(fill))
            painter.setRenderHint(QPainter.Antialiasing, aa)
        painter.setPen(pen)
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self._path)
        if self.shape_ref.shape_type in ("point", "points"):
            for x, y in self.handles():
                painter.drawEllipse(QPointF(x, y), 4 / scale, 4 / scale)
        if not self.selected:
            return
        h = HANDLE_PX / scale
        painter.setPen(QPen(QColor("white"), 1.2 / scale))
        for i, (x, y) in enumerate(self.handles()):
            painter.setBrush(QColor("#ffd54f") if i == self.hover_vertex else self.color)
            painter.drawRect(QRectF(x - h / 2, y - h / 2, h, h))
        painter.setBrush(QColor(255, 255, 255, 200))
        painter.setPen(QPen(self.color, 1.0 / scale))
        for i, (x, y) in enumerate(self.midpoints()):
            r = (h * 0.45) if i != self.hover_edge else h * 0.6
            painter.drawEllipse(QPointF(x, y), r, r)
