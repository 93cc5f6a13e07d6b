"""Keys go to the canvas: when the window shows and whenever one of its dialogs closes (message
boxes, input, colour and file dialogs); without a window manager nothing else gives the focus back."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWidget


class KeysToCanvas(QObject):
    def __init__(self, window: QWidget, canvas: QWidget):
        super().__init__(window)
        self.window, self.canvas = window, canvas
        window.installEventFilter(self)
        QGuiApplication.instance().focusWindowChanged.connect(self._focus_window_changed)

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.window and ev.type() == QEvent.Show:
            QTimer.singleShot(0, self.focus_canvas)
        return False

    def focus_canvas(self) -> None:
        if QApplication.activeModalWidget() is None and self.window.isVisible():
            self.window.activateWindow()
            self.canvas.setFocus(Qt.OtherFocusReason)

    def _focus_window_changed(self, window: QWindow | None) -> None:
        """A dialog of the window got the focus: the canvas gets it back when the dialog closes."""
        dialog = next((w for w in QApplication.topLevelWidgets() if w.windowHandle() is window), None)
        if window is None or not isinstance(dialog, QDialog) or dialog.property("refocuses_canvas"):
            return
        parent = dialog.parentWidget()
        while parent is not None and parent is not self.window:
            parent = parent.parentWidget()
        if parent is None:
            return
        dialog.setProperty("refocuses_canvas", True)
        if dialog.isVisible():
            dialog.finished.connect(lambda _result: self.focus_canvas())
        else:  # it closed before its activation came through
            self.focus_canvas()


class CanvasHint(QObject):
    """A line of text in the middle of an empty canvas ("No images in FOLDER — …")."""

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas
        self.label = QLabel(canvas)  # over the viewport, not in it: scrolling the view never moves it
        self.label.setObjectName("hint")
        self.label.setAlignment(Qt.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setAttribute(Qt.WA_TransparentForMouseEvents)
        canvas.viewport().installEventFilter(self)

    def show(self, text: str | None) -> None:
        """Show `text` over the canvas; None hides the hint."""
        self.label.setText(text or "")
        self.label.setVisible(bool(text))
        self.label.setGeometry(self.canvas.viewport().geometry())
        self.label.raise_()

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Resize:
            self.label.setGeometry(obj.geometry())
        return False
