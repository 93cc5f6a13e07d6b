"""Application entry: QApplication, style, the main window, and the --screenshot mode."""
from __future__ import annotations

import sys
from pathlib import Path

SCREENSHOT_SIZE = (1440, 900)


def make_app():
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
        app.setApplicationName("iunet-gui")
        app.setOrganizationName("iunet-gui")
        app.setStyle("Fusion")
    from iunet_gui.gui.theme import STYLE, icon

    app.setStyleSheet(STYLE)
    app.setWindowIcon(icon("app"))
    return app


def run_app(folder: Path, image: str | None = None, screenshot: str | None = None, model: str | None = None,
            predict: bool = False) -> int:
    from PySide6.QtCore import QTimer

    from iunet_gui.gui.main_window import LAYOUT_VERSION, MainWindow

    app = make_app()
    folder = Path(folder)
    if not folder.is_dir():
        print(f"iunet-gui: error: {folder}: not a folder", file=sys.stderr)
        return 2
    win = MainWindow()
    if screenshot:
        win.quiet_errors = True
        win.resize(*SCREENSHOT_SIZE)
    else:
        geo = win.qsettings.value("geometry")
        if geo is None or not win.restoreGeometry(geo):
            win.resize(1440, 900)
        state = win.qsettings.value("state")
        if state is not None:
            win.restoreState(state, LAYOUT_VERSION)
    win.show()
    if model:
        win.model_dock.set_checkpoint(Path(model))
    win.model_dock.auto_box.setChecked(predict)
    win.open_folder(folder, image=image)
    if image and win.project and image not in [p.name for p in win.project.images]:
        print(f"iunet-gui: warning: {image} is not in {folder}", file=sys.stderr)
    if screenshot:
        waited = [0]

        def shoot():
            if win.model_dock.busy() and waited[0] < 300:  # a prediction is on its way: show it (up to 60 s)
                waited[0] += 1
                QTimer.singleShot(200, shoot)
                return
            win.canvas.fit()
            app.processEvents()
            ok = win.grab().save(str(screenshot))
            if not ok:
                print(f"iunet-gui: error: cannot write {screenshot}", file=sys.stderr)
            app.exit(0 if ok else 2)

        QTimer.singleShot(300, shoot)
    return app.exec()
