"""The labelling canvas: the image view with the open document's shapes. It observes the
annotation document (items follow its change events), hands the mouse to the current tool and
turns keys and menu choices into undoable commands."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPen, QUndoGroup, QUndoStack
from PySide6.QtWidgets import QGraphicsPathItem

from iunet_gui.core import document as events
from iunet_gui.core.annotation import Shape
from iunet_gui.gui import commands as cmd
from iunet_gui.gui.canvas.items import ShapeItems
from iunet_gui.gui.canvas.menu import ShapeMenu
from iunet_gui.gui.canvas.overlay import PredictionOverlay
from iunet_gui.gui.canvas.tools import HIT_PX, EditTool, PolygonTool, TwoPointTool
from iunet_gui.gui.canvas.view import ZoomPanView

MODES = ("edit", "polygon", "rectangle", "circle")
DUPLICATE_OFFSET = 10.0  # px a duplicated shape lies from its original


class Canvas(ZoomPanView):
    mouse_moved = Signal(float, float)  # scene (image) coordinates
    selection_changed = Signal()
    mode_changed = Signal(str)
    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.undo_group = QUndoGroup(self)
        self._idle_stack = QUndoStack(self)  # active while no image is open
        self.undo_group.addStack(self._idle_stack)
        self.undo_group.setActiveStack(self._idle_stack)
        self.document = None
        self._unsubscribe = None
        self.color_of = lambda label: QColor("#e6194b")
        self.shape_items = ShapeItems(self.scene(), lambda label: self.color_of(label))
        self.current_label = "scratch"
        self.label_choices = lambda: [self.current_label]  # the classes the context menu offers
        self.mode = "edit"
        self.tool = EditTool(self)
        self.selected: list[Shape] = []
        self.active_vertex: tuple[Shape, int] | None = None
        self._cursor = QPointF()
        self._preview = QGraphicsPathItem()
        pen = QPen(QColor("#ffd54f"), 1.8)
        pen.setCosmetic(True)
        pen.setStyle(Qt.DashLine)
        self._preview.setPen(pen)
        self._preview.setZValue(10)
        self.scene().addItem(self._preview)
        self.overlay = PredictionOverlay(self.scene())
        self.menu = ShapeMenu(self)

    # -- document ------------------------------------------------------------------------------
    @property
    def undo_stack(self) -> QUndoStack:
        return self.undo_group.activeStack()

    @property
    def edits(self):
        """The annotation document on show (what commands edit)."""
        return self.document.edits if self.document is not None else None

    @property
    def items(self) -> dict:
        return self.shape_items.by_id

    def set_document(self, document) -> None:
        """Show an image, its shapes and its own undo history."""
        self.settle_drawing()
        self.tool = self._make_tool(self.mode)  # no drag outlives its image
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.shape_items.clear()
        self.selected = []
        self.active_vertex = None
        self.document = document
        self.set_prediction(None)
        image = document.image if document is not None else None
        self.set_image(image)
        stack = document.undo_stack if image is not None else self._idle_stack
        if stack not in self.undo_group.stacks():
            self.undo_group.addStack(stack)
        self.undo_group.setActiveStack(stack)
        if image is not None:
            self._unsubscribe = document.edits.subscribe(self._document_changed)
            for s in document.shapes:
                self.shape_items.add(s, self.cache_mode())
        self.selection_changed.emit()

    def _document_changed(self, change) -> None:
        if change.kind == events.ADDED:
            for s in change.shapes:
                self.shape_items.add(s, self.cache_mode())
            self.select_shapes(list(change.shapes))
        elif change.kind == events.REMOVED:
            for s in change.shapes:
                self.shape_items.remove(s)
            self._deselect(change.shapes)
        elif change.kind == events.REPLACED:
            self.shape_items.remove(change.old)
            self._deselect((change.old,))
            self.shape_items.add(change.shapes[0], self.cache_mode())
        else:
            for s in change.shapes:
                self.shape_items.update(s)
            self.selection_changed.emit()

    def _deselect(self, shapes) -> None:
        gone = {id(s) for s in shapes}
        if any(id(s) in gone for s in self.selected):
            self.select_shapes([s for s in self.selected if id(s) not in gone])
        if self.active_vertex and id(self.active_vertex[0]) in gone:
            self.active_vertex = None

    def cached_items(self):
        return self.shape_items.by_id.values()

    def refresh_styles(self) -> None:
        for s in self.document.shapes if self.document else []:
            self.shape_items.update(s)
        self.selection_changed.emit()

    def set_hidden_labels(self, hidden: set[str]) -> None:
        self.shape_items.set_hidden(hidden)
        self.select_shapes([s for s in self.selected if self.shape_items.visible(s)])

    # -- selection -----------------------------------------------------------------------------
    def select_shapes(self, shapes: list[Shape]) -> None:
        self.selected = [s for s in shapes if self.shape_items.get(s) is not None]
        self.shape_items.show_selected(self.selected)
        if self.active_vertex and not any(s is self.active_vertex[0] for s in self.selected):
            self.active_vertex = None
        self.selection_changed.emit()

    # -- modes and drawing ---------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.settle_drawing()
        self.mode = mode
        self.tool = self._make_tool(mode)
        self.viewport().setCursor(self.tool_cursor())
        self._update_preview()
        self.mode_changed.emit(mode)

    def _make_tool(self, mode: str):
        if mode == "edit":
            return EditTool(self)
        return PolygonTool(self) if mode == "polygon" else TwoPointTool(self, mode)

    def tool_cursor(self):
        return Qt.ArrowCursor if self.mode == "edit" else Qt.CrossCursor

    @property
    def drawing(self) -> bool:
        return bool(self.tool.points)

    @property
    def drawing_points(self) -> int:
        return len(self.tool.points)

    def finish_polygon(self) -> bool:
        done = self.tool.finish()
        self._update_preview()
        return done

    def remove_last_vertex(self) -> None:
        self.tool.remove_last_vertex()
        self._update_preview()

    def cancel_drawing(self) -> None:
        """Drop what is being drawn (Esc), saying so."""
        if self.tool.points:
            self.message.emit(f"Drawing cancelled: {self.unfinished_text()} dropped")
        self.tool.points = []
        self._update_preview()

    def finish_drawing(self) -> bool:
        """Close the shape being drawn when it can be; False while an unfinished one remains."""
        if self.tool.points:
            self.tool.finish()
            self._update_preview()
        return not self.tool.points

    def settle_drawing(self) -> None:
        """Before the image or the tool changes: a polygon that can close is kept as a shape; a
        leftover that cannot (1-2 vertices, a rectangle's first corner) is dropped with a message."""
        if not self.finish_drawing():
            self.message.emit(f"{self.unfinished_text().capitalize()} was dropped: it is not a shape yet")
            self.tool.points = []
            self._update_preview()

    def unfinished_text(self) -> str:
        n = len(self.tool.points)
        if self.tool.kind == "polygon":
            return f"an unfinished polygon of {n} {'vertex' if n == 1 else 'vertices'}"
        return f"an unfinished {self.tool.kind}"

    def create(self, shape: Shape) -> None:
        self._update_preview()
        self.undo_stack.push(cmd.AddShapes(self.edits, [shape], f"Add {shape.shape_type}"))

    # -- geometry helpers for the tools --------------------------------------------------------
    def tol(self, px: float) -> float:
        return px / max(self.zoom, 1e-6)

    def clip(self, p: QPointF) -> list[float]:
        w, h = self.image_size
        return [min(max(p.x(), 0.0), max(w - 1.0, 0.0)), min(max(p.y(), 0.0), max(h - 1.0, 0.0))]

    def bounded_shift(self, olds, dx, dy):
        """Limit a move so that every point stays inside the image."""
        w, h = self.image_size
        xs = [x for old in olds for x, _ in old]
        ys = [y for old in olds for _, y in old]
        if xs:
            dx = min(max(dx, -min(xs)), (w - 1) - max(xs))
            dy = min(max(dy, -min(ys)), (h - 1) - max(ys))
        return dx, dy

    def item_under(self, pos: QPointF):
        """The shape item under `pos`: selected shapes first, then the top-most (last drawn)."""
        shapes = self.document.shapes if self.document else []
        return self.shape_items.under(pos, self.tol(HIT_PX), list(self.selected)[::-1] + shapes[::-1])

    def _update_preview(self) -> None:
        self._preview.setPath(self.tool.preview(self._cursor))

    # -- mouse ---------------------------------------------------------------------------------
    def _has_image(self) -> bool:
        return self.document is not None and self.document.image is not None

    def mousePressEvent(self, ev) -> None:
        if self.start_pan(ev):
            return
        pos = self.mapToScene(ev.position().toPoint())
        if ev.button() == Qt.RightButton and self._has_image() and not self.drawing:
            self.menu.popup_at(pos, ev.globalPosition().toPoint())
            return
        if ev.button() != Qt.LeftButton or not self._has_image():
            return super().mousePressEvent(ev)
        self.tool.press(pos, ev.modifiers())
        self._update_preview()

    def mouseDoubleClickEvent(self, ev) -> None:
        if ev.button() != Qt.LeftButton or not self._has_image():
            return super().mouseDoubleClickEvent(ev)
        self.tool.double_click(self.mapToScene(ev.position().toPoint()), ev.modifiers())
        self._update_preview()

    def mouseMoveEvent(self, ev) -> None:
        if self.pan_to(ev):
            return
        pos = self.mapToScene(ev.position().toPoint())
        self.mouse_moved.emit(pos.x(), pos.y())
        self._cursor = self.tool.move(pos, ev.modifiers())
        self._update_preview()
        if self.mode == "edit" and self.tool.drag is None and not self._space:
            self.viewport().setCursor(self.tool.hover(pos))
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev) -> None:
        if self.end_pan():
            return
        if ev.button() == Qt.LeftButton and self._has_image():
            self.tool.release(self.mapToScene(ev.position().toPoint()), ev.modifiers())
            self._update_preview()
            return
        super().mouseReleaseEvent(ev)

    def contextMenuEvent(self, ev) -> None:
        if ev.reason() == ev.Reason.Mouse:
            return  # the right press opened it already
        if self._has_image() and not self.drawing:
            self.menu.popup_at(self._cursor, ev.globalPos())

    # -- keyboard ------------------------------------------------------------------------------
    def keyPressEvent(self, ev) -> None:
        key = ev.key()
        if self.drawing and key in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Escape, Qt.Key_Backspace):
            {Qt.Key_Escape: self.cancel_drawing, Qt.Key_Backspace: self.remove_last_vertex}.get(
                key, self.finish_polygon)()
            return
        if key == Qt.Key_Escape and self.selected:
            self.select_shapes([])
            return
        if self.selected and key in (Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down):
            step = 10.0 if ev.modifiers() & Qt.ShiftModifier else 1.0
            dx = {Qt.Key_Left: -step, Qt.Key_Right: step}.get(key, 0.0)
            dy = {Qt.Key_Up: -step, Qt.Key_Down: step}.get(key, 0.0)
            dx, dy = self.bounded_shift([s.points for s in self.selected], dx, dy)
            if dx or dy:
                self.undo_stack.push(cmd.MoveShapes(self.edits, list(self.selected), dx, dy))
            return
        super().keyPressEvent(ev)

    # -- edits driven by the window ------------------------------------------------------------
    def delete_selection(self) -> bool:
        """Delete the active vertex (if its polygon keeps >= 3) or else the selected shapes."""
        if self.active_vertex:
            s, i = self.active_vertex
            least = 3 if s.shape_type == "polygon" else 2
            if s.shape_type in ("polygon", "linestrip") and least < len(s.points) and i < len(s.points):
                new = [p for k, p in enumerate(s.points) if k != i]
                self.undo_stack.push(cmd.SetPoints(self.edits, s, s.points, new, "Delete vertex"))
                self.active_vertex = None
                return True
        if self.selected:
            self.undo_stack.push(cmd.RemoveShapes(self.edits, list(self.selected)))
            self.select_shapes([])
            return True
        return False

    def set_label_of_selection(self, label: str) -> None:
        if self.selected:
            self.undo_stack.push(cmd.SetLabel(self.edits, list(self.selected), label))

    def set_description(self, shape: Shape, text: str) -> None:
        if text != shape.description:
            self.undo_stack.push(cmd.SetDescription(self.edits, shape, text))

    def add_shapes(self, shapes: list[Shape], text: str = "Add shape") -> None:
        """New shapes (clipped to the image), added in one undoable step and selected."""
        w, h = self.image_size
        if not shapes or not w:
            return
        for s in shapes:
            s.points = [[min(max(x, 0.0), w - 1.0), min(max(y, 0.0), h - 1.0)] for x, y in s.points]
        self.undo_stack.push(cmd.AddShapes(self.edits, shapes, text))

    def edit_points(self, shape: Shape, points: list, text: str) -> None:
        self.undo_stack.push(cmd.SetPoints(self.edits, shape, shape.points, points, text))

    def paste_shapes(self, shapes: list[Shape]) -> None:
        self.add_shapes([s.copy() for s in shapes], f"Paste {len(shapes)} shape(s)")

    def duplicate_selection(self) -> None:
        """Copies of the selected shapes, a little down and right of them."""
        copies = [s.copy() for s in self.selected]
        for c in copies:
            c.points = [[x + DUPLICATE_OFFSET, y + DUPLICATE_OFFSET] for x, y in c.points]
        self.add_shapes(copies, f"Duplicate {len(copies)} shape(s)")

    # -- a model's prediction over the image ---------------------------------------------------
    def set_prediction(self, mask, defects=(), color: str = "#00e5ff", class_map=None, classes=(), colors=()) -> None:
        """Show a predicted defect mask over the image (tinted, under the shapes), each defect's
        minimum rotated rectangle (dashed) and its length; None clears it. A multi-class model's
        `class_map` (kind of each pixel, 1-based into `classes`) draws each kind in its colour."""
        if mask is not None and self.document is not None and self.document.image is not None:
            h, w = self.document.image.shape[:2]
            if mask.shape != (h, w):
                raise ValueError(f"prediction of {mask.shape[1]}x{mask.shape[0]} px for an image of {w}x{h}")
        elif mask is not None:
            mask = None
        self.overlay.show(mask, defects, color, class_map, classes, colors)

    @property
    def has_prediction(self) -> bool:
        return bool(self.overlay.items)

    @property
    def prediction_visible(self) -> bool:
        return self.overlay.visible

    @property
    def _prediction_items(self) -> list:
        return self.overlay.items

    def show_prediction(self, visible: bool) -> None:
        self.overlay.set_visible(visible)
