"""The labelling canvas: the image in a QGraphicsScene, zoom and pan, and every mouse/keyboard
interaction that creates or edits shapes (labelme keeps them all in one widget too)."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPixmap, QPolygonF, QUndoStack
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsPathItem, QGraphicsPixmapItem, QGraphicsScene,
                               QGraphicsSimpleTextItem, QGraphicsView)

from iunet_gui.core.annotation import Shape
from iunet_gui.gui import commands as cmd
from iunet_gui.gui.shape_item import ShapeItem

MODES = ("edit", "polygon", "rectangle", "circle")
CLOSE_PX = 10.0  # how near (on screen) a click must be to the first vertex to close a polygon
HIT_PX = 8.0
CACHE_MAX_ZOOM = 1.5  # up to this zoom, items paint from pixmaps cached at screen resolution


def to_qimage(image: np.ndarray) -> QImage:
    img = np.ascontiguousarray(image)
    h, w = img.shape[:2]
    if img.ndim == 2:
        return QImage(img.data, w, h, w, QImage.Format_Grayscale8).copy()
    return QImage(img.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class Canvas(QGraphicsView):
    mouse_moved = Signal(float, float)  # scene (image) coordinates
    zoom_changed = Signal(float)
    selection_changed = Signal()
    mode_changed = Signal(str)
    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.Antialiasing | QPainter.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.DontSavePainterState)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setBackgroundBrush(QColor("#2b2f33"))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # pan: middle drag or Space + drag
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.NoFrame)
        self.undo_stack = QUndoStack(self)
        self.document = None
        self.items: dict[int, ShapeItem] = {}
        self.color_of = lambda label: QColor("#e6194b")
        self.current_label = "scratch"
        self.hidden_labels: set[str] = set()
        self.mode = "edit"
        self.selected: list[Shape] = []
        self.active_vertex: tuple[Shape, int] | None = None
        self._pixmap_item: QGraphicsPixmapItem | None = None
        self._drawing: list[list[float]] = []
        self._cursor = QPointF()
        self._drag = None  # ("vertex", shape, index, old) | ("move", shapes, start, olds) | ("pan", pos)
        self._space = False
        self._preview = QGraphicsPathItem()
        pen = QPen(QColor("#ffd54f"), 1.8)
        pen.setCosmetic(True)
        pen.setStyle(Qt.DashLine)
        self._preview.setPen(pen)
        self._preview.setZValue(10)
        self.scene().addItem(self._preview)
        self._prediction_items: list[QGraphicsItem] = []  # a model's prediction over the image (not editable)
        self.prediction_visible = True

    # -- document ------------------------------------------------------------------------------
    def set_document(self, document) -> None:
        """Show a new image and its shapes (the undo history starts afresh)."""
        self.cancel_drawing()
        self.undo_stack.clear()
        for it in self.items.values():
            self.scene().removeItem(it)
        self.items.clear()
        self.selected = []
        self.active_vertex = None
        self.document = document
        self.set_prediction(None)
        if self._pixmap_item is not None:
            self.scene().removeItem(self._pixmap_item)
            self._pixmap_item = None
        if document is None or document.image is None:
            self.scene().setSceneRect(QRectF(0, 0, 1, 1))
            self.selection_changed.emit()
            return
        self._pixmap_item = QGraphicsPixmapItem(QPixmap.fromImage(to_qimage(document.image)))
        self._pixmap_item.setTransformationMode(Qt.SmoothTransformation)
        self._pixmap_item.setZValue(-1)
        self._apply_cache_mode()
        self.scene().addItem(self._pixmap_item)
        h, w = document.image.shape[:2]
        self.scene().setSceneRect(QRectF(-0.5 * w, -0.5 * h, 2 * w, 2 * h))
        for s in document.shapes:
            self.add_item(s)
        self.selection_changed.emit()

    @property
    def image_size(self) -> tuple[int, int]:
        if self.document is None or self.document.image is None:
            return 0, 0
        h, w = self.document.image.shape[:2]
        return w, h

    def add_item(self, shape: Shape) -> None:
        item = ShapeItem(shape, self.color_of(shape.label))
        item.setCacheMode(ShapeItem.DeviceCoordinateCache if self.zoom <= CACHE_MAX_ZOOM else ShapeItem.NoCache)
        item.setVisible(shape.label not in self.hidden_labels)
        self.items[id(shape)] = item
        self.scene().addItem(item)

    def remove_item(self, shape: Shape) -> None:
        item = self.items.pop(id(shape), None)
        if item is not None:
            self.scene().removeItem(item)
        if shape in self.selected:
            self.selected.remove(shape)
            self.selection_changed.emit()

    def update_item(self, shape: Shape) -> None:
        item = self.items.get(id(shape))
        if item is not None:
            item.color = self.color_of(shape.label)
            item.setVisible(shape.label not in self.hidden_labels)
            item.rebuild()
        self.selection_changed.emit()

    def refresh_styles(self) -> None:
        for s in self.document.shapes if self.document else []:
            self.update_item(s)

    # -- selection -----------------------------------------------------------------------------
    def select_shapes(self, shapes: list[Shape]) -> None:
        self.selected = [s for s in shapes if id(s) in self.items]
        for key, it in self.items.items():
            it.selected = it.shape_ref in self.selected
            it.setZValue(1 if it.selected else 0)
            it.update()
        if self.active_vertex and self.active_vertex[0] not in self.selected:
            self.active_vertex = None
        self.selection_changed.emit()

    # -- modes ---------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.cancel_drawing()
        self.mode = mode
        self.viewport().setCursor(Qt.ArrowCursor if mode == "edit" else Qt.CrossCursor)
        self.mode_changed.emit(mode)

    def remove_last_vertex(self) -> None:
        if self._drawing:
            self._drawing.pop()
            self._update_preview()

    def cancel_drawing(self) -> None:
        self._drawing = []
        self._update_preview()

    @property
    def drawing(self) -> bool:
        return bool(self._drawing)

    # -- zoom ----------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, z: float, anchor_view_pos=None) -> None:
        z = min(max(z, 0.02), 40.0)
        f = z / self.zoom
        self.setTransformationAnchor(QGraphicsView.AnchorViewCenter)
        if anchor_view_pos is None:
            self.scale(f, f)
        else:  # keep the image point under `anchor_view_pos` (the cursor of a wheel event) in place
            at = QPointF(anchor_view_pos)
            before = self.mapToScene(at.toPoint())
            self.scale(f, f)
            moved = QPointF(self.mapFromScene(before)) - at
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(moved.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(moved.y()))
        self._apply_cache_mode()
        self.zoom_changed.emit(self.zoom)

    def _apply_cache_mode(self) -> None:
        """Scaling the photo and anti-aliasing hundreds of polygons is most of a frame's cost:
        at overview zooms every item paints from a cache at screen resolution; zoomed in, the
        caches would be huge and are switched off (only a small part of the image is drawn)."""
        mode = QGraphicsPixmapItem.DeviceCoordinateCache if self.zoom <= CACHE_MAX_ZOOM else QGraphicsPixmapItem.NoCache
        if self._pixmap_item is not None and self._pixmap_item.cacheMode() != mode:
            self._pixmap_item.setCacheMode(mode)
        for it in self.items.values():
            if it.cacheMode() != mode:
                it.setCacheMode(mode)

    def fit(self) -> None:
        w, h = self.image_size
        if not w:
            return
        self.fitInView(QRectF(0, 0, w, h), Qt.KeepAspectRatio)
        self._apply_cache_mode()
        self.zoom_changed.emit(self.zoom)

    def wheelEvent(self, ev) -> None:
        steps = ev.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom * (1.15 ** steps), anchor_view_pos=ev.position())
        ev.accept()

    # -- helpers -------------------------------------------------------------------------------
    def _tol(self, px: float) -> float:
        return px / max(self.zoom, 1e-6)

    def _clip(self, p: QPointF) -> list[float]:
        w, h = self.image_size
        return [min(max(p.x(), 0.0), max(w - 1.0, 0.0)), min(max(p.y(), 0.0), max(h - 1.0, 0.0))]

    def _constrained(self, p: QPointF, origin: list[float], square: bool = False) -> QPointF:
        dx, dy = p.x() - origin[0], p.y() - origin[1]
        if square:
            s = max(abs(dx), abs(dy))
            return QPointF(origin[0] + math.copysign(s, dx or 1), origin[1] + math.copysign(s, dy or 1))
        ang = round(math.atan2(dy, dx) / (math.pi / 4)) * (math.pi / 4)
        r = math.hypot(dx, dy)
        return QPointF(origin[0] + r * math.cos(ang), origin[1] + r * math.sin(ang))

    def _item_under(self, pos: QPointF) -> ShapeItem | None:
        tol = self._tol(HIT_PX)
        # selected shapes first, then the top-most (last drawn)
        for s in list(self.selected)[::-1] + [s for s in (self.document.shapes if self.document else [])][::-1]:
            it = self.items.get(id(s))
            if it and it.isVisible() and it.contains_point(pos, tol):
                return it
        return None

    def _update_preview(self) -> None:
        path = QPainterPath()
        pts = self._drawing
        if pts:
            cur = self._cursor
            if self.mode == "polygon":
                path.moveTo(*pts[0])
                for x, y in pts[1:]:
                    path.lineTo(x, y)
                path.lineTo(cur)
            elif self.mode == "rectangle":
                path.addRect(QRectF(QPointF(*pts[0]), cur).normalized())
            elif self.mode == "circle":
                r = math.hypot(cur.x() - pts[0][0], cur.y() - pts[0][1])
                path.addEllipse(QPointF(*pts[0]), r, r)
        self._preview.setPath(path)

    # -- mouse ---------------------------------------------------------------------------------
    def mousePressEvent(self, ev) -> None:
        pos = self.mapToScene(ev.position().toPoint())
        if ev.button() == Qt.MiddleButton or (ev.button() == Qt.LeftButton and self._space):
            self._drag = ("pan", ev.position())
            self.viewport().setCursor(Qt.ClosedHandCursor)
            return
        if ev.button() != Qt.LeftButton or self.document is None or self.document.image is None:
            return super().mousePressEvent(ev)
        shift = bool(ev.modifiers() & Qt.ShiftModifier)
        if self.mode == "polygon":
            self._polygon_click(pos, shift)
        elif self.mode in ("rectangle", "circle"):
            p = self._clip(pos)
            if not self._drawing:
                self._drawing = [p]
            else:  # second click finishes (click-click drawing)
                self._finish_two_point(pos, shift)
        else:
            self._edit_press(pos, ev.modifiers())
        self._update_preview()

    def _polygon_click(self, pos: QPointF, shift: bool) -> None:
        if self._drawing and shift:
            pos = self._constrained(pos, self._drawing[-1])
        if len(self._drawing) >= 3:
            x0, y0 = self._drawing[0]
            if math.hypot(pos.x() - x0, pos.y() - y0) <= self._tol(CLOSE_PX):
                self.finish_polygon()
                return
        self._drawing.append(self._clip(pos))

    def finish_polygon(self) -> None:
        pts = self._drawing
        if self.mode != "polygon" or len(pts) < 3:
            if pts:
                self.message.emit("a polygon needs at least 3 vertices")
            return
        self._drawing = []
        self._update_preview()
        self._create(Shape(self.current_label, pts, "polygon"))

    def _finish_two_point(self, pos: QPointF, shift: bool) -> None:
        a = self._drawing[0]
        if shift and self.mode == "rectangle":
            pos = self._constrained(pos, a, square=True)
        b = self._clip(pos)
        if math.hypot(b[0] - a[0], b[1] - a[1]) < self._tol(3):
            return  # a click without a drag: wait for the second click
        self._drawing = []
        self._update_preview()
        self._create(Shape(self.current_label, [a, b], self.mode))

    def _create(self, shape: Shape) -> None:
        self.undo_stack.push(cmd.AddShapes(self, [shape], f"Add {shape.shape_type}"))

    def _edit_press(self, pos: QPointF, modifiers) -> None:
        tol = self._tol(HIT_PX)
        for s in reversed(self.selected):
            it = self.items[id(s)]
            v = it.vertex_at(pos, tol)
            if v is not None:
                self.active_vertex = (s, v)
                self._drag = ("vertex", s, v, [list(p) for p in s.points])
                return
            e = it.edge_at(pos, tol)
            if e is not None:  # drag an edge's midpoint: insert a vertex there
                old = [list(p) for p in s.points]
                mid = list(it.midpoints()[e])
                s.points.insert(e + 1, mid)
                it.rebuild()
                self.active_vertex = (s, e + 1)
                self._drag = ("vertex", s, e + 1, old)
                return
        it = self._item_under(pos)
        if it is None:
            if not modifiers & Qt.ControlModifier:
                self.select_shapes([])
            return
        s = it.shape_ref
        if modifiers & Qt.ControlModifier:
            self.select_shapes([x for x in self.selected if x is not s] if s in self.selected else self.selected + [s])
            return
        if s not in self.selected:
            self.select_shapes([s])
        self.active_vertex = None
        self._drag = ("move", list(self.selected), pos, [[list(p) for p in x.points] for x in self.selected])

    def mouseMoveEvent(self, ev) -> None:
        pos = self.mapToScene(ev.position().toPoint())
        self._cursor = pos
        self.mouse_moved.emit(pos.x(), pos.y())
        drag = self._drag
        if drag and drag[0] == "pan":
            d = ev.position() - drag[1]
            self._drag = ("pan", ev.position())
            self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - d.x()))
            self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - d.y()))
            return
        if drag and drag[0] == "vertex":
            _, s, i, _old = drag
            p = self._clip(pos)
            if s.shape_type == "rectangle" and ev.modifiers() & Qt.ShiftModifier:
                other = s.points[1 - i]
                q = self._constrained(pos, other, square=True)
                p = self._clip(q)
            s.points[i] = p
            self.items[id(s)].rebuild()
            return
        if drag and drag[0] == "move":
            _, shapes, start, olds = drag
            dx, dy = pos.x() - start.x(), pos.y() - start.y()
            dx, dy = self._bounded_shift(olds, dx, dy)
            for s, old in zip(shapes, olds):
                s.points = [[x + dx, y + dy] for x, y in old]
                self.items[id(s)].rebuild()
            return
        if self._drawing:
            if ev.modifiers() & Qt.ShiftModifier and self.mode == "polygon":
                self._cursor = self._constrained(pos, self._drawing[-1])
            elif ev.modifiers() & Qt.ShiftModifier and self.mode == "rectangle":
                self._cursor = self._constrained(pos, self._drawing[0], square=True)
            self._update_preview()
        elif self.mode == "edit":
            self._update_hover(pos)
        super().mouseMoveEvent(ev)

    def _bounded_shift(self, olds, dx, dy):
        """Limit a move so that every point stays inside the image."""
        w, h = self.image_size
        xs = [x for old in olds for x, _ in old]
        ys = [y for old in olds for _, y in old]
        if xs:
            dx = min(max(dx, -min(xs)), (w - 1) - max(xs))
            dy = min(max(dy, -min(ys)), (h - 1) - max(ys))
        return dx, dy

    def _update_hover(self, pos: QPointF) -> None:
        tol = self._tol(HIT_PX)
        cursor = Qt.ArrowCursor
        for s in self.selected:
            it = self.items[id(s)]
            v, e = it.vertex_at(pos, tol), None
            if v is None:
                e = it.edge_at(pos, tol)
            if (v, e) != (it.hover_vertex, it.hover_edge):
                it.hover_vertex, it.hover_edge = v, e
                it.update()
            if v is not None or e is not None:
                cursor = Qt.PointingHandCursor
        if cursor == Qt.ArrowCursor and self._item_under(pos) is not None:
            cursor = Qt.SizeAllCursor
        if not self._space:
            self.viewport().setCursor(cursor)

    def mouseReleaseEvent(self, ev) -> None:
        drag, self._drag = self._drag, None
        pos = self.mapToScene(ev.position().toPoint())
        if drag and drag[0] == "pan":
            self.viewport().setCursor(Qt.OpenHandCursor if self._space else
                                      (Qt.ArrowCursor if self.mode == "edit" else Qt.CrossCursor))
            return
        if drag and drag[0] == "vertex":
            _, s, i, old = drag
            if s.points != old:
                text = "Insert vertex" if len(s.points) != len(old) else "Move vertex"
                self.undo_stack.push(cmd.SetPoints(self, s, old, s.points, text))
            return
        if drag and drag[0] == "move":
            _, shapes, _start, olds = drag
            moved = [(s, old) for s, old in zip(shapes, olds) if s.points != old]
            if moved:
                self.undo_stack.beginMacro(f"Move {len(moved)} shape(s)")
                for s, old in moved:
                    self.undo_stack.push(cmd.SetPoints(self, s, old, s.points, "Move shape"))
                self.undo_stack.endMacro()
            return
        if ev.button() == Qt.LeftButton and self.mode in ("rectangle", "circle") and self._drawing:
            self._finish_two_point(pos, bool(ev.modifiers() & Qt.ShiftModifier))
            return
        super().mouseReleaseEvent(ev)

    def mouseDoubleClickEvent(self, ev) -> None:
        if self.mode == "polygon" and self._drawing:
            # the double-click's first click already added a vertex at this spot
            if len(self._drawing) >= 2 and self._drawing[-1] == self._drawing[-2]:
                self._drawing.pop()
            self.finish_polygon()
            return
        super().mouseDoubleClickEvent(ev)

    # -- keyboard ------------------------------------------------------------------------------
    def keyPressEvent(self, ev) -> None:
        key = ev.key()
        if key == Qt.Key_Space and not ev.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            return
        if self._drawing:
            if key in (Qt.Key_Return, Qt.Key_Enter):
                self.finish_polygon()
                return
            if key == Qt.Key_Escape:
                self.cancel_drawing()
                return
            if key == Qt.Key_Backspace:
                self.remove_last_vertex()
                return
        if key == Qt.Key_Escape and self.selected:
            self.select_shapes([])
            return
        if self.selected and key in (Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down):
            step = 10.0 if ev.modifiers() & Qt.ShiftModifier else 1.0
            dx = {Qt.Key_Left: -step, Qt.Key_Right: step}.get(key, 0.0)
            dy = {Qt.Key_Up: -step, Qt.Key_Down: step}.get(key, 0.0)
            dx, dy = self._bounded_shift([s.points for s in self.selected], dx, dy)
            if dx or dy:
                self.undo_stack.push(cmd.MoveShapes(self, list(self.selected), dx, dy))
            return
        super().keyPressEvent(ev)

    def keyReleaseEvent(self, ev) -> None:
        if ev.key() == Qt.Key_Space and not ev.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(Qt.ArrowCursor if self.mode == "edit" else Qt.CrossCursor)
            return
        super().keyReleaseEvent(ev)

    # -- edits driven by the window ------------------------------------------------------------
    def delete_selection(self) -> bool:
        """Delete the active vertex (if its polygon keeps >= 3) or else the selected shapes."""
        if self.active_vertex:
            s, i = self.active_vertex
            if s.shape_type in ("polygon", "linestrip") and len(s.points) > (3 if s.shape_type == "polygon" else 2) \
                    and i < len(s.points):
                new = [p for k, p in enumerate(s.points) if k != i]
                self.undo_stack.push(cmd.SetPoints(self, s, s.points, new, "Delete vertex"))
                self.active_vertex = None
                return True
        if self.selected:
            self.undo_stack.push(cmd.RemoveShapes(self, list(self.selected)))
            self.select_shapes([])
            return True
        return False

    def set_label_of_selection(self, label: str) -> None:
        if self.selected:
            self.undo_stack.push(cmd.SetLabel(self, list(self.selected), label))

    def paste_shapes(self, shapes: list[Shape]) -> None:
        w, h = self.image_size
        if not shapes or not w:
            return
        copies = []
        for s in shapes:
            c = s.copy()
            c.points = [[min(max(x, 0.0), w - 1.0), min(max(y, 0.0), h - 1.0)] for x, y in c.points]
            copies.append(c)
        self.undo_stack.push(cmd.AddShapes(self, copies, f"Paste {len(copies)} shape(s)"))

    def set_hidden_labels(self, hidden: set[str]) -> None:
        self.hidden_labels = set(hidden)
        for it in self.items.values():
            it.setVisible(it.shape_ref.label not in self.hidden_labels)
        self.select_shapes([s for s in self.selected if s.label not in self.hidden_labels])

    # -- a model's prediction over the image ---------------------------------------------------
    def set_prediction(self, mask, defects=(), color: str = "#00e5ff") -> None:
        """Show a predicted defect mask over the image (tinted, under the shapes), each defect's
        minimum rotated rectangle (dashed) and its length; None clears it. Not editable and not
        saved: accepting a prediction turns it into shapes (ModelDock.accept)."""
        for it in self._prediction_items:
            self.scene().removeItem(it)
        self._prediction_items = []
        if mask is None or self.document is None or self.document.image is None:
            return
        h, w = self.document.image.shape[:2]
        if mask.shape != (h, w):
            raise ValueError(f"prediction of {mask.shape[1]}x{mask.shape[0]} px for an image of {w}x{h}")
        c = QColor(color)
        rgba = np.zeros((h, w, 4), np.uint8)
        rgba[np.asarray(mask, bool)] = (c.red(), c.green(), c.blue(), 110)
        tint = QGraphicsPixmapItem(QPixmap.fromImage(QImage(rgba.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()))
        tint.setZValue(0.5)
        path = QPainterPath()
        pen = QPen(c, 1.6)
        pen.setCosmetic(True)
        pen.setStyle(Qt.DashLine)
        items: list[QGraphicsItem] = [tint]
        font = QFont()
        font.setBold(True)
        for k, d in enumerate(defects):
            box = [QPointF(float(x), float(y)) for x, y in d.box]
            path.addPolygon(QPolygonF(box))
            path.closeSubpath()
            text = QGraphicsSimpleTextItem(f"{k + 1}: " + (f"{d.length_mm:.2f} mm" if d.length_mm is not None
                                                          else f"{d.length_px:.0f} px"))
            text.setFont(font)
            text.setBrush(c)
            outline = QPen(QColor(0, 0, 0, 200), 0.8)
            text.setPen(outline)
            text.setFlag(QGraphicsItem.ItemIgnoresTransformations)  # readable at any zoom
            text.setPos(max(p.x() for p in box) + 3, min(p.y() for p in box))
            text.setZValue(11)
            items.append(text)
        boxes = QGraphicsPathItem(path)
        boxes.setPen(pen)
        boxes.setZValue(9)
        items.append(boxes)
        for it in items:
            it.setVisible(self.prediction_visible)
            self.scene().addItem(it)
        self._prediction_items = items

    @property
    def has_prediction(self) -> bool:
        return bool(self._prediction_items)

    def show_prediction(self, visible: bool) -> None:
        self.prediction_visible = bool(visible)
        for it in self._prediction_items:
            it.setVisible(self.prediction_visible)
