"""Spin and combo boxes in a scrolling panel take the mouse wheel only when they have the focus:
otherwise the wheel scrolls the panel (as a user scrolling past them expects) and leaves them as set."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt


class FocusedWheelOnly(QObject):
    """Event filter: a wheel event over an unfocused widget goes on to its parent (the scroll area)."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Wheel and not obj.hasFocus():
            event.ignore()
            return True
        return False


def wheel_when_focused(owner: QObject, *widgets) -> None:
    """Make `widgets` take the wheel only when focused (a click or Tab focuses them; the wheel does not)."""
    guard = owner.findChild(FocusedWheelOnly) or FocusedWheelOnly(owner)
    for w in widgets:
        w.setFocusPolicy(Qt.StrongFocus)
        w.installEventFilter(guard)
