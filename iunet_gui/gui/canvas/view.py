"""The image view: a QGraphicsView that zooms around the cursor (wheel), pans (middle drag or
Space + drag) and fits the image. It knows nothing of shapes or tools."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

CACHE_MAX_ZOOM = 1.5  # up to this zoom, items paint from pixmaps cached at screen resolution
MIN_ZOOM, MAX_ZOOM = 0.02, 40.0
WHEEL_STEP = 1.15  # zoom factor per wheel notch


def to_qimage(image: np.ndarray) -> QImage:
    img = np.ascontiguousarray(image)
    h, w = img.shape[:2]
    if img.ndim == 2:
        return QImage(img.data, w, h, w, QImage.Format_Grayscale8).copy()
    return QImage(img.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class ZoomPanView(QGraphicsView):
    zoom_changed = Signal(float)

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
        self._pixmap_item: QGraphicsPixmapItem | None = None
        self._image_size = (0, 0)
        self._pan_from: QPointF | None = None
        self._space = False

    # -- the image -----------------------------------------------------------------------------
    def set_image(self, image: np.ndarray | None) -> None:
        if self._pixmap_item is not None:
            self.scene().removeItem(self._pixmap_item)
            self._pixmap_item = None
        if image is None:
            self._image_size = (0, 0)
            self.scene().setSceneRect(QRectF(0, 0, 1, 1))
            return
        self._pixmap_item = QGraphicsPixmapItem(QPixmap.fromImage(to_qimage(image)))
        self._pixmap_item.setTransformationMode(Qt.SmoothTransformation)
        self._pixmap_item.setZValue(-1)
        self.scene().addItem(self._pixmap_item)
        h, w = image.shape[:2]
        self._image_size = (w, h)
        self.scene().setSceneRect(QRectF(-0.5 * w, -0.5 * h, 2 * w, 2 * h))
        self.apply_cache_mode()

    @property
    def image_size(self) -> tuple[int, int]:
        return self._image_size

    # -- zoom ----------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, z: float, anchor_view_pos=None) -> None:
        z = min(max(z, MIN_ZOOM), MAX_ZOOM)
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
        self.apply_cache_mode()
        self.zoom_changed.emit(self.zoom)

    def cached_items(self):
        """Items (besides the photo) that paint from a screen-resolution cache at overview zooms."""
        return []

    def apply_cache_mode(self) -> None:
        """Scaling the photo and anti-aliasing hundreds of polygons is most of a frame's cost:
        at overview zooms every item paints from a cache at screen resolution; zoomed in, the
        caches would be huge and are switched off (only a small part of the image is drawn)."""
        mode = self.cache_mode()
        for it in ([self._pixmap_item] if self._pixmap_item is not None else []) + list(self.cached_items()):
            if it.cacheMode() != mode:
                it.setCacheMode(mode)

    def cache_mode(self):
        return QGraphicsPixmapItem.DeviceCoordinateCache if self.zoom <= CACHE_MAX_ZOOM else QGraphicsPixmapItem.NoCache

    def fit(self) -> None:
        w, h = self.image_size
        if not w:
            return
        self.fitInView(QRectF(0, 0, w, h), Qt.KeepAspectRatio)
        self.apply_cache_mode()
        self.zoom_changed.emit(self.zoom)

    def wheelEvent(self, ev) -> None:
        steps = ev.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom * (WHEEL_STEP ** steps), anchor_view_pos=ev.position())
        ev.accept()

    # -- pan -----------------------------------------------------------------------------------
    def tool_cursor(self):
        """The cursor shown when not panning."""
        return Qt.ArrowCursor

    def start_pan(self, ev) -> bool:
        """Begin a pan on a middle press or Space + left press; True when it did."""
        if ev.button() == Qt.MiddleButton or (ev.button() == Qt.LeftButton and self._space):
            self._pan_from = ev.position()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            return True
        return False

    def pan_to(self, ev) -> bool:
        if self._pan_from is None:
            return False
        d = ev.position() - self._pan_from
        self._pan_from = ev.position()
        self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - d.x()))
        self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - d.y()))
        return True

    def end_pan(self) -> bool:
        if self._pan_from is None:
            return False
        self._pan_from = None
        self.viewport().setCursor(Qt.OpenHandCursor if self._space else self.tool_cursor())
        return True

    def keyPressEvent(self, ev) -> None:
        if ev.key() == Qt.Key_Space and not ev.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            return
        super().keyPressEvent(ev)

    def keyReleaseEvent(self, ev) -> None:
        if ev.key() == Qt.Key_Space and not ev.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(self.tool_cursor())
            return
        super().keyReleaseEvent(ev)
