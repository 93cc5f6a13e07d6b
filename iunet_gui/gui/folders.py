"""What the window remembers of folders in its settings: the recent ones (and the File > Open Recent menu
that lists them) and the image last open in each."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

MAX_RECENT = 8


class FolderMemory:
    def __init__(self, settings: QSettings):
        self.settings = settings

    def recent(self) -> list[str]:
        recent = self.settings.value("recent", []) or []
        return [recent] if isinstance(recent, str) else list(recent)

    def remember(self, folder: Path) -> None:
        """Put `folder` first among the recent folders."""
        folder = str(Path(folder).resolve())
        self.settings.setValue("recent", [folder] + [f for f in self.recent() if f != folder][: MAX_RECENT - 1])

    def last_image(self, folder: Path) -> str | None:
        """The image (its path inside the folder) last open in `folder`."""
        return self.settings.value(self._key(folder), None)

    def set_last_image(self, folder: Path, image: str) -> None:
        self.settings.setValue(self._key(folder), image)

    @staticmethod
    def _key(folder: Path) -> str:
        return "last_image/" + hashlib.sha1(str(Path(folder).resolve()).encode("utf-8")).hexdigest()


class RecentFoldersMenu:
    """The Open Recent menu: the recent folders of `memory`, each opened with `open_folder` when picked."""

    def __init__(self, menu: QMenu, memory: FolderMemory, open_folder: Callable[[Path], object]):
        self.menu, self.memory, self.open_folder = menu, memory, open_folder
        self.refresh()

    def remember(self, folder: Path) -> None:
        """Put `folder` first among the recent folders, in the settings and in the menu."""
        self.memory.remember(folder)
        self.refresh()

    def refresh(self) -> None:
        self.menu.clear()
        recent = self.memory.recent()
        for f in recent:
            self.menu.addAction(f, lambda f=f: self.open_folder(Path(f)))
        self.menu.setEnabled(bool(recent))
