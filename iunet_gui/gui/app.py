"""Application entry: builds QApplication and the main window (placeholder until the GUI lands)."""
from __future__ import annotations

from pathlib import Path


def run_app(folder: Path, image: str | None = None, screenshot: str | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication([])
    w = QLabel(f"iunet-gui - {folder}")
    w.resize(1440, 900)
    w.show()
    if screenshot:
        def _shot() -> None:
            w.grab().save(str(screenshot))
            app.quit()
        QTimer.singleShot(200, _shot)
    return app.exec()
