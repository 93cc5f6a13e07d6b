"""Files the app ships inside its package: toolbar icons and the default checkpoint.

Read through `importlib.resources`, so an installed wheel finds them exactly as a checkout does.
The package is always installed as plain files (a wheel or a checkout), so its folder is a real path.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

RESOURCES = Path(str(files(__name__)))
ICONS = RESOURCES / "icons"
DEFAULT_CHECKPOINT = RESOURCES / "iunet_default.pt"
SAMPLES = Path(str(files("iunet_gui"))) / "samples"
