import os

import pytest

pytest_plugins = ["tests.registry_project"]  # the `models` and `project` fixtures

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory, monkeypatch):
    """Each test gets its own home, cache and config folders (and Qt settings paths), so that no
    test reads or writes the user's ~/.cache/iunet-gui or ~/.config; subprocesses inherit them."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("IUNET_GUI_CACHE", raising=False)
    monkeypatch.delenv("IUNET_GUI_DATA", raising=False)  # the installed app's samples copy (cli/samples.py)
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        for scope in (QSettings.UserScope, QSettings.SystemScope):
            QSettings.setPath(fmt, scope, str(home / ".config"))
    yield home


@pytest.fixture(autouse=True)
def _empty_clipboard():
    """After each test the clipboard is emptied: no test pastes what another copied, and Qt's
    offscreen clipboard still holding data at exit crashes the interpreter (segmentation fault)."""
    yield
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.clipboard().clear()
