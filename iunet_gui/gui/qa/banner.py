"""The open image's verdict over the canvas: a banner along its top edge (verdict and reasons) and each
inspected defect's rotated rectangle coloured by what the specification and the reviewer made of it
(the NG colour for a defect that breaks a limit)."""
from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem, QLabel

from iunet_gui.gui.qa.colors import CHECK_COLOR, CONFIRMED_COLOR, FALSE_ALARM_COLOR, NG_COLOR, verdict_color

BANNER_REASONS = 3  # reasons shown in the banner (the review panel lists them all)


def banner_text(status: str, reasons: list[str], final: str | None = None) -> str:
    head = status if final is None else f"{status} (confirmed)" if final == status else f"{status} → {final} (reviewed)"
    shown = "; ".join(reasons[:BANNER_REASONS]) + (f"; +{len(reasons) - BANNER_REASONS} more"
                                                   if len(reasons) > BANNER_REASONS else "")
    return f"<b>{html.escape(head)}</b>" + (f" &nbsp; {html.escape(shown)}" if shown else "")


class VerdictBanner(QObject):
    """A coloured line of text across the top of the canvas; `show(None)` hides it."""

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas
        self.label = QLabel(canvas)  # over the viewport: scrolling never moves it
        self.label.setObjectName("verdict-banner")
        self.label.setTextFormat(Qt.RichText)
        self.label.setWordWrap(True)
        self.label.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.label.hide()
        self.status: str | None = None
        canvas.viewport().installEventFilter(self)

    def show(self, status: str | None, reasons: list[str] = (), final: str | None = None) -> None:
        self.status = status
        if status is None:
            self.label.hide()
            return
        color = verdict_color(final or status)
        self.label.setStyleSheet(f"QLabel {{ background: {color}; color: white; padding: 4px 10px; "
                                 f"font-size: 11pt; }}")
        self.label.setText(banner_text(status, list(reasons), final))
        self._place()
        self.label.show()
        self.label.raise_()

    def text(self) -> str:
        return self.label.text() if self.label.isVisible() else ""

    def _place(self) -> None:
        vp = self.canvas.viewport().geometry()
        self.label.setFixedWidth(vp.width())
        self.label.adjustSize()
        self.label.move(vp.left(), vp.top())

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Resize and self.status is not None:
            self._place()
        return False


class VerdictOverlay:
    """The inspected defects' rectangles (from the log) over the image; `show([])` clears them."""

    def __init__(self, scene):
        self.scene = scene
        self.items: list[QGraphicsItem] = []
        self.colors: dict[int, str] = {}  # defect index -> the colour it is drawn in

    def show(self, defects: list[dict], decisions: dict[int, str] | None = None, current: int | None = None) -> None:
        self.clear()
        decisions = decisions or {}
        for d in defects:
            idx = int(d["idx"])
            color, style = self._style(d.get("judged"), decisions.get(idx))
            path = QPainterPath()
            path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in d["box"]]))
            path.closeSubpath()
            item = QGraphicsPathItem(path)
            pen = QPen(QColor(color), 3.2 if idx == current else 2.0)
            pen.setCosmetic(True)
            pen.setStyle(style)
            item.setPen(pen)
            item.setZValue(12)
            self.colors[idx] = color
            self._add(item)
            if d["box"]:
                self._add(self._tag(idx, d, color))

    @staticmethod
    def _style(judged: str | None, decision: str | None) -> tuple[str, Qt.PenStyle]:
        if decision == "confirm":
            return CONFIRMED_COLOR, Qt.SolidLine
        if decision == "false_alarm":
            return FALSE_ALARM_COLOR, Qt.DotLine
        if judged == "ng":
            return NG_COLOR, Qt.SolidLine
        if judged == "check":
            return CHECK_COLOR, Qt.DashLine
        return "#00acc1", Qt.DashLine

    @staticmethod
    def _tag(idx: int, d: dict, color: str) -> QGraphicsSimpleTextItem:
        length = f"{d['length_mm']:.2f} mm" if d.get("length_mm") is not None else f"{d['length_px']:.0f} px"
        text = QGraphicsSimpleTextItem(f"#{idx + 1} {length}")
        font = QFont()
        font.setBold(True)
        text.setFont(font)
        text.setBrush(QColor(color))
        text.setPen(QPen(QColor(255, 255, 255, 220), 0.6))
        text.setFlag(QGraphicsItem.ItemIgnoresTransformations)
        text.setPos(min(x for x, _ in d["box"]), max(y for _, y in d["box"]) + 2)
        text.setZValue(12)
        return text

    def _add(self, item: QGraphicsItem) -> None:
        self.scene.addItem(item)
        self.items.append(item)

    def clear(self) -> None:
        for it in self.items:
            self.scene.removeItem(it)
        self.items = []
        self.colors = {}
