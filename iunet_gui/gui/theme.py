"""Icons (the package's SVGs in iunet_gui/resources/icons) and the light, high-contrast application style."""
from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor, QIcon, QPixmap

from iunet_gui.resources import ICONS


@cache
def icon(name: str) -> QIcon:
    """A project icon; an empty icon (never an error) if the file is missing."""
    path = ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def color_swatch(color: str, size: int = 14) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(color))
    return QIcon(pm)


STYLE = """
QMainWindow, QDockWidget, QWidget { font-size: 10pt; color: #1f2a30; }
QMainWindow { background: #eef1f3; }
QToolBar { background: #f8f9fa; border: none; border-bottom: 1px solid #d5dbe0; spacing: 2px; padding: 3px; }
QToolBar QToolButton { padding: 4px; border-radius: 5px; }
QToolBar QToolButton:hover { background: #e3e8ec; }
QToolBar QToolButton:checked { background: #d0e4f7; border: 1px solid #90b8e0; }
QDockWidget::title { background: #e4e9ed; padding: 5px 8px; font-weight: 600; border-bottom: 1px solid #d5dbe0; }
QListWidget { background: #ffffff; border: 1px solid #d5dbe0; border-radius: 4px; outline: none; }
QListWidget::item { padding: 3px 4px; }
QListWidget::item:selected { background: #d0e4f7; color: #0d2438; }
QLineEdit { background: #ffffff; border: 1px solid #c5ccd3; border-radius: 4px; padding: 3px 6px; }
QLineEdit:focus { border-color: #1e88e5; }
QPushButton { background: #ffffff; border: 1px solid #c5ccd3; border-radius: 4px; padding: 4px 10px; }
QPushButton:hover { background: #eef4fa; }
QStatusBar { background: #f8f9fa; border-top: 1px solid #d5dbe0; }
QStatusBar QLabel { padding: 0 8px; color: #37474f; }
QLabel#unsaved { color: #c62828; font-weight: 600; }
QLabel#saved { color: #2e7d32; }
QLabel#count { color: #546e7a; padding: 2px 4px; }
QLabel#hint { color: #cfd8dc; font-size: 13pt; }
"""
