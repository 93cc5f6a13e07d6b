"""Opening the real window for GUI tests (offscreen)."""
from PySide6.QtCore import QSettings

from iunet_gui.gui.app import make_app
from iunet_gui.gui.main_window import MainWindow


def open_window(qtbot, tmp_path, folder, size=(1200, 800)):
    """The main window on `folder`, shown, with its own settings file; errors are recorded in
    `win.errors` instead of dialogs; closing during a training run stops it and closing with unsaved edits
    discards them instead of asking (tests that close on purpose set `ask_unsaved`)."""
    make_app()
    w = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    w.quiet_errors = True
    w.ask_stop_training = lambda: "stop"
    w.ask_unsaved = lambda: "discard"  # closing at the end of a test with unsaved edits asks no dialog
    w.resize(*size)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.open_folder(folder)
    return w
