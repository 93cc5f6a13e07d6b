"""The test suite never touches the user's own folders (conftest's autouse fixture)."""
import os
from pathlib import Path


def test_home_cache_and_config_are_private_to_the_test(_private_home):
    assert Path.home() == _private_home
    assert os.environ["XDG_CACHE_HOME"].startswith(str(_private_home))
    assert os.environ["XDG_CONFIG_HOME"].startswith(str(_private_home))


def test_default_qt_settings_live_in_the_private_home(_private_home):
    from PySide6.QtCore import QSettings

    s = QSettings("iunet-gui", "iunet-gui")
    s.setValue("probe", 1)
    s.sync()
    assert Path(s.fileName()).is_relative_to(_private_home) and Path(s.fileName()).exists()
