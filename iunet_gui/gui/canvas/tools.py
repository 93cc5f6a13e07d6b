"""The canvas's mouse tools as plain objects: drawing polygons, drawing rectangles and circles
(two points), and editing (select, move shapes, drag and insert vertices). A tool turns clicks
into undoable commands through its canvas; it never edits a shape itself."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath

from iunet_gui.core.annotation import Shape
from iunet_gui.gui import commands as cmd

CLOSE_PX = 10.0  # how near (on screen) a click must be to the first vertex to close a polygon
DOUBLE_CLICK_PX = 3.0  # a double-click closes a polygon only this near (on screen) its last vertex
HIT_PX = 8.0
DRAG_MIN_PX = 3.0  # a rectangle or circle dragged less than this waits for a second click


def _dist(pos: QPointF, p) -> float:
    return math.hypot(pos.x() - p[0], pos.y() - p[1])


def constrained(p: QPointF, origin, square: bool = False) -> QPointF:
    """`p` moved onto the nearest 45° direction from `origin`, or onto a square's corner."""
    dx, dy = p.x() - origin[0], p.y() - origin[1]
    if square:
        s = max(abs(dx), abs(dy))
        return QPointF(origin[0] + math.copysign(s, dx or 1), origin[1] + math.copysign(s, dy or 1))
    ang = round(math.atan2(dy, dx) / (math.pi / 4)) * (math.pi / 4)
    r = math.hypot(dx, dy)
    return QPointF(origin[0] + r * math.cos(ang), origin[1] + r * math.sin(ang))


class PolygonTool:
    """Click vertices; close on the first vertex, with Enter, or by double-clicking the last one."""

    kind = "polygon"

    def __init__(self, canvas):
        self.canvas = canvas
        self.points: list[list[float]] = []

    def press(self, pos: QPointF, modifiers) -> None:
        if self.points and modifiers & Qt.ShiftModifier:
            pos = constrained(pos, self.points[-1])
        if len(self.points) >= 3 and _dist(pos, self.points[0]) <= self.canvas.tol(CLOSE_PX):
            self.finish()
            return
        self.points.append(self.canvas.clip(pos))

    def double_click(self, pos: QPointF, modifiers) -> None:
        """Qt delivers a double-click in place of the second press: on the last vertex it closes
        the polygon; anywhere else it is a vertex clicked soon after the one before."""
        if not self.points:
            return
        if _dist(pos, self.points[-1]) <= self.canvas.tol(DOUBLE_CLICK_PX):
            self.finish()
        else:
            self.press(pos, modifiers)

    def move(self, pos: QPointF, modifiers) -> QPointF:
        if self.points and modifiers & Qt.ShiftModifier:
            return constrained(pos, self.points[-1])
        return pos

    def release(self, pos: QPointF, modifiers) -> None:
        pass

    def finish(self) -> bool:
        """Make the polygon a shape; with fewer than 3 vertices say so and keep drawing."""
        if len(self.points) < 3:
            if self.points:
                self.canvas.message.emit("a polygon needs at least 3 vertices")
            return False
        pts, self.points = self.points, []
        self.canvas.create(Shape(self.canvas.current_label, pts, "polygon"))
        return True

    def remove_last_vertex(self) -> None:
        if self.points:
            self.points.pop()

    def preview(self, cursor: QPointF) -> QPainterPath:
        path = QPainterPath()
        if self.points:
            path.moveTo(*self.points[0])
            for x, y in self.points[1:]:
                path.lineTo(x, y)
            path.lineTo(cursor)
        return path


class TwoPointTool:
    """A rectangle (two corners) or a circle (centre and a rim point): drag, or click twice."""

    def __init__(self, canvas, kind: str):
        self.canvas = canvas
        self.kind = kind
        self.points: list[list[float]] = []

    def press(self, pos: QPointF, modifiers) -> None:
        if not self.points:
            self.points = [self.canvas.clip(pos)]
        else:
            self.release(pos, modifiers)

    def double_click(self, pos: QPointF, modifiers) -> None:
        self.press(pos, modifiers)

    def move(self, pos: QPointF, modifiers) -> QPointF:
        if self.points and self.kind == "rectangle" and modifiers & Qt.ShiftModifier:
            return constrained(pos, self.points[0], square=True)
        return pos

    def release(self, pos: QPointF, modifiers) -> None:
        if not self.points:
            return
        a = self.points[0]
        b = self.canvas.clip(self.move(pos, modifiers))
        if math.hypot(b[0] - a[0], b[1] - a[1]) < self.canvas.tol(DRAG_MIN_PX):
            return  # a click without a drag: wait for the second click
        self.points = []
        self.canvas.create(Shape(self.canvas.current_label, [a, b], self.kind))

    def finish(self) -> bool:
        return False  # one point is not a shape yet

    def remove_last_vertex(self) -> None:
        self.points = []

    def preview(self, cursor: QPointF) -> QPainterPath:
        path = QPainterPath()
        if self.points:
            a = QPointF(*self.points[0])
            if self.kind == "rectangle":
                path.addRect(QRectF(a, cursor).normalized())
            else:
                r = _dist(cursor, self.points[0])
                path.addEllipse(a, r, r)
        return path


class EditTool:
    """Select (Ctrl toggles), drag shapes, drag vertices, drag an edge's midpoint to insert one."""

    kind = "edit"

    def __init__(self, canvas):
        self.canvas = canvas
        self.points: list[list[float]] = []  # never draws
        self.drag = None  # ("vertex", shape, index, old, new) | ("move", shapes, start, olds)

    def press(self, pos: QPointF, modifiers) -> None:
        c = self.canvas
        tol = c.tol(HIT_PX)
        for s in reversed(c.selected):
            item = c.shape_items.get(s)
            v = item.vertex_at(pos, tol)
            if v is not None:
                c.active_vertex = (s, v)
                self.drag = ("vertex", s, v, [list(p) for p in s.points])
                return
            e = item.edge_at(pos, tol)
            if e is not None:  # an edge's midpoint: a new vertex there, dragged from now on
                old = [list(p) for p in s.points]
                new = old[: e + 1] + [list(item.midpoints()[e])] + old[e + 1:]
                item.set_preview(new)
                c.active_vertex = (s, e + 1)
                self.drag = ("vertex", s, e + 1, old)
                return
        item = c.item_under(pos)
        if item is None:
            if not modifiers & Qt.ControlModifier:
                c.select_shapes([])
            return
        s = item.shape_ref
        chosen = any(x is s for x in c.selected)
        if modifiers & Qt.ControlModifier:
            c.select_shapes([x for x in c.selected if x is not s] if chosen else c.selected + [s])
            return
        if not chosen:
            c.select_shapes([s])
        c.active_vertex = None
        self.drag = ("move", list(c.selected), pos, [[list(p) for p in x.points] for x in c.selected])

    def _items_gone(self) -> bool:
        """True (and the drag dropped) when a dragged shape left the canvas meanwhile (an undo)."""
        shapes = [self.drag[1]] if self.drag[0] == "vertex" else self.drag[1]
        if all(self.canvas.shape_items.get(s) is not None for s in shapes):
            return False
        for s in shapes:
            item = self.canvas.shape_items.get(s)
            if item is not None:
                item.set_preview(None)
        self.drag = None
        return True

    def move(self, pos: QPointF, modifiers) -> QPointF:
        c = self.canvas
        if self.drag and self._items_gone():
            return pos
        if self.drag and self.drag[0] == "vertex":
            _, s, i, _old = self.drag
            item = c.shape_items.get(s)
            pts = [list(p) for p in item.points]
            p = c.clip(pos)
            if s.shape_type == "rectangle" and modifiers & Qt.ShiftModifier:
                p = c.clip(constrained(pos, pts[1 - i], square=True))
            pts[i] = p
            item.set_preview(pts)
        elif self.drag and self.drag[0] == "move":
            _, shapes, start, olds = self.drag
            dx, dy = c.bounded_shift(olds, pos.x() - start.x(), pos.y() - start.y())
            for s, old in zip(shapes, olds):
                c.shape_items.get(s).set_preview([[x + dx, y + dy] for x, y in old])
        return pos

    def release(self, pos: QPointF, modifiers) -> None:
        if self.drag and self._items_gone():
            return
        drag, self.drag = self.drag, None
        c = self.canvas
        if drag and drag[0] == "vertex":
            _, s, _i, old = drag
            item = c.shape_items.get(s)
            new = [list(p) for p in item.points]
            item.set_preview(None)
            if new != old:
                text = "Insert vertex" if len(new) != len(old) else "Move vertex"
                c.undo_stack.push(cmd.SetPoints(c.edits, s, old, new, text))
        elif drag and drag[0] == "move":
            _, shapes, _start, olds = drag
            moved = []
            for s, old in zip(shapes, olds):
                item = c.shape_items.get(s)
                new = [list(p) for p in item.points]
                item.set_preview(None)
                if new != old:
                    moved.append((s, old, new))
            if moved:
                c.undo_stack.beginMacro(f"Move {len(moved)} shape(s)")
                for s, old, new in moved:
                    c.undo_stack.push(cmd.SetPoints(c.edits, s, old, new, "Move shape"))
                c.undo_stack.endMacro()

    def double_click(self, pos: QPointF, modifiers) -> None:
        self.press(pos, modifiers)

    def finish(self) -> bool:
        return False

    def remove_last_vertex(self) -> None:
        pass

    def preview(self, cursor: QPointF) -> QPainterPath:
        return QPainterPath()

    def hover(self, pos: QPointF) -> Qt.CursorShape:
        """Highlight the handle under the cursor; the cursor shape that fits."""
        c = self.canvas
        tol = c.tol(HIT_PX)
        cursor = Qt.ArrowCursor
        for s in c.selected:
            item = c.shape_items.get(s)
            v, e = item.vertex_at(pos, tol), None
            if v is None:
                e = item.edge_at(pos, tol)
            if (v, e) != (item.hover_vertex, item.hover_edge):
                item.hover_vertex, item.hover_edge = v, e
                item.update()
            if v is not None or e is not None:
                cursor = Qt.PointingHandCursor
        if cursor == Qt.ArrowCursor and c.item_under(pos) is not None:
            cursor = Qt.SizeAllCursor
        return cursor
