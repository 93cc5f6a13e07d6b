"""The Train panel's "Name the kinds" choice: train one output per defect kind of the project (its
class list; for image + mask pairs, the folders the images lie in) instead of defect vs background.
The kinds it would learn are shown under it; the choice is kept in the project's settings file."""
from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

SETTING = "train_multiclass"  # the project settings key that keeps the choice
KINDS_TIP = ("Train one output per defect kind of the project's class list: the model names what it finds "
             "(scratch, edge crack, …), draws each kind in its class colour and Accept makes shapes of that "
             "kind. Unticked: one defect-vs-background output.")
FEW_KINDS_TIP = "Naming the kinds needs at least two defect classes in the project (add one in the Classes panel)"


def project_kinds(project) -> list[str]:
    """The kinds a multi-class run learns on `project`: its class list (training.data.kinds_of); for
    image + mask pairs, which loading names by their folders, the sub-folders holding images."""
    from iunet_gui.training.data import kinds_of

    if project is None:
        return []
    if project.kind == "mask_pairs":
        return sorted({img.parent.name for img in project.masks if img.parent != project.folder})
    return kinds_of(project)


class KindsChoice(QWidget):
    """The checkbox and the kinds it trains; `wanted()` is what a run gets."""

    edited = Signal(bool)  # the user ticked or unticked it

    def __init__(self, window):
        super().__init__()
        self.win = window
        self.box = QCheckBox("Name the kinds")
        self.box.setToolTip(KINDS_TIP)
        self.kinds = QLabel()
        self.kinds.setWordWrap(True)
        self.kinds.setObjectName("train-kinds")
        self.kinds.setContentsMargins(self.box.iconSize().width() + 4, 0, 0, 0)  # under the box's text
        self.kinds.setFixedHeight(2 * self.kinds.fontMetrics().lineSpacing() + 4)  # two lines whatever the
        # project: opening another one moves no button (a longer list is cut, the tooltip has it whole)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.box)
        lay.addWidget(self.kinds)
        self._locked = False
        self.box.clicked.connect(self._clicked)

    def wanted(self) -> bool:
        return self.box.isChecked() and self.box.isEnabled()

    def lock(self, running: bool) -> None:
        self._locked = running
        self.show_project()

    def show_project(self) -> None:
        """The window's project: its kinds, and the choice stored in its settings."""
        project = self.win.project
        kinds = project_kinds(project)
        enough = len(kinds) >= 2
        stored = bool(project is not None and project.settings.extra.get(SETTING))
        self.box.setChecked(stored and enough)
        self.box.setEnabled(enough and not self._locked)
        self.box.setToolTip(KINDS_TIP if enough else FEW_KINDS_TIP)
        self.kinds.setEnabled(enough)
        self.kinds.setToolTip(f"{self.box.toolTip()}\n\nKinds: {', '.join(kinds)}" if kinds else self.box.toolTip())
        if project is None:
            self.kinds.setText("")
        elif enough:
            self.kinds.setText("One class per label: " + ", ".join(self._named(project, k) for k in kinds))
        else:
            self.kinds.setText(f"One kind only ({', '.join(map(html.escape, kinds)) or 'no classes'}): "
                               f"the model finds defects")

    @staticmethod
    def _named(project, kind: str) -> str:
        return f'<span style="color:{project.settings.color_of(kind)}">■</span>&nbsp;{html.escape(kind)}'

    def _clicked(self, checked: bool) -> None:
        """Keep the choice in the project's settings file (left alone while it is unreadable)."""
        project = self.win.project
        if project is not None:
            if checked:
                project.settings.extra[SETTING] = True
            else:
                project.settings.extra.pop(SETTING, None)
            if project.settings_error is None:
                try:
                    project.save_settings()
                except OSError as exc:
                    self.win.error("Could not save the project settings", str(exc))
        self.edited.emit(checked)
