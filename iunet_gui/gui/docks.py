"""The side panels: image list, classes, shapes of the current image."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QDockWidget,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from iunet_gui.gui.theme import color_swatch, icon

SHAPE_ROWS = 8  # the Shapes list is never shorter than this many rows
VERDICT_ROLE = Qt.UserRole + 1  # an image row's inspection verdict


def rows_height(lst: QListWidget, rows: int) -> int:
    """The height a list needs to show `rows` rows without scrolling."""
    row = lst.sizeHintForRow(0) if lst.count() else lst.fontMetrics().height() + 8
    return rows * row + 2 * lst.frameWidth() + 2


class ImageListDock(QDockWidget):
    """File names with a status icon, a filter box and the count of done images."""

    image_activated = Signal(int)

    def __init__(self, parent=None):
        super().__init__("Images", parent)
        self.setObjectName("images")
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(6, 6, 6, 6)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter images…")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.count = QLabel()
        self.count.setObjectName("count")
        lay.addWidget(self.filter)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.count)
        self.setWidget(w)
        self.filter.textChanged.connect(self._apply_filter)
        self.list.currentRowChanged.connect(self._row_changed)
        self._statuses: list[str] = []
        self._quiet = False

    def set_images(self, images: list[Path], statuses: list[str]) -> None:
        self._quiet = True
        self.list.clear()
        for p, st in zip(images, statuses):
            it = QListWidgetItem(icon(f"status-{st}"), p.name)
            it.setToolTip(f"{p}\n{st}")
            self.list.addItem(it)
        self._statuses = list(statuses)
        self._quiet = False
        self._apply_filter(self.filter.text())
        self._update_count()

    def set_status(self, row: int, status: str) -> None:
        if 0 <= row < self.list.count():
            self._statuses[row] = status
            it = self.list.item(row)
            it.setIcon(icon(f"status-{status}"))
            it.setToolTip(it.toolTip().split("\n")[0] + "\n" + status)
            self._update_count()

    def status(self, row: int) -> str:
        return self._statuses[row] if 0 <= row < len(self._statuses) else ""

    def set_verdict(self, row: int, verdict: str, color: str, reasons=()) -> None:
        """Show an image's inspection verdict (OK / NG / check / uncalibrated) after its name, in `color`;
        the filter box finds it by the verdict too."""
        if 0 <= row < self.list.count():
            it = self.list.item(row)
            name = it.toolTip().split("\n")[0]
            it.setText(f"{Path(name).name}  [{verdict}]")
            it.setForeground(QColor(color))
            it.setData(VERDICT_ROLE, verdict)
            it.setToolTip("\n".join([name, self._statuses[row], f"verdict: {verdict}", *reasons]))

    def verdict(self, row: int) -> str | None:
        return self.list.item(row).data(VERDICT_ROLE) if 0 <= row < self.list.count() else None

    def select_row(self, row: int) -> None:
        self._quiet = True
        self.list.setCurrentRow(row)
        self._quiet = False

    def _update_count(self) -> None:
        done = sum(s in ("labelled", "reviewed") for s in self._statuses)
        broken = self._statuses.count("broken")
        self.count.setText(f"{done} of {len(self._statuses)} done" + (f" · {broken} broken" if broken else ""))

    def _apply_filter(self, text: str) -> None:
        t = text.strip().lower()
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setHidden(bool(t) and t not in it.text().lower() and t != self._statuses[i])

    def _row_changed(self, row: int) -> None:
        if not self._quiet and row >= 0:
            self.image_activated.emit(row)


class ClassDock(QDockWidget):
    """Defect classes with colours: pick the class for new shapes, toggle visibility, edit."""

    current_changed = Signal(str)
    visibility_changed = Signal(set)
    classes_edited = Signal()

    def __init__(self, parent=None):
        super().__init__("Classes", parent)
        self.setObjectName("classes")
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(6, 6, 6, 6)
        self.list = QListWidget()
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.add_btn = QPushButton(icon("add"), "Add")
        self.color_btn = QPushButton(icon("color"), "Colour")
        self.rename_btn = QPushButton("Rename")
        for b in (self.add_btn, self.color_btn, self.rename_btn):
            row.addWidget(b)
        lay.addLayout(row)
        self.setWidget(w)
        self.settings = None
        self.list.currentRowChanged.connect(self._current)
        self.list.itemChanged.connect(self._check_changed)
        self.add_btn.clicked.connect(self._add)
        self.color_btn.clicked.connect(self._pick_color)
        self.rename_btn.clicked.connect(self._rename)
        self.list.itemDoubleClicked.connect(lambda _it: self._pick_color())

    def set_settings(self, settings) -> None:
        self.settings = settings
        self.refresh()
        if self.list.count():
            self.list.setCurrentRow(0)

    def refresh(self) -> None:
        row = max(self.list.currentRow(), 0)
        self.list.blockSignals(True)
        self.list.clear()
        for i, c in enumerate(self.settings.classes if self.settings else []):
            it = QListWidgetItem(color_swatch(c.color), f"{i + 1}  {c.name}" if i < 9 else c.name)
            it.setData(Qt.UserRole, c.name)
            it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
            it.setCheckState(Qt.Checked if c.visible else Qt.Unchecked)
            it.setToolTip("Checked: visible on the canvas. Double-click: colour. Keys 1-9 pick a class.")
            self.list.addItem(it)
        self.list.blockSignals(False)
        if self.list.count():
            self.list.setCurrentRow(min(row, self.list.count() - 1))
        self.list.setMinimumHeight(rows_height(self.list, min(max(self.list.count(), 3), 9)))  # classes 1-9 in view

    def current(self) -> str | None:
        it = self.list.currentItem()
        return it.data(Qt.UserRole) if it else None

    def select_index(self, i: int) -> None:
        if 0 <= i < self.list.count():
            self.list.setCurrentRow(i)

    def hidden(self) -> set[str]:
        return {c.name for c in (self.settings.classes if self.settings else []) if not c.visible}

    def _current(self, row: int) -> None:
        name = self.current()
        if name:
            self.current_changed.emit(name)

    def _check_changed(self, it: QListWidgetItem) -> None:
        name = it.data(Qt.UserRole)
        for c in self.settings.classes:
            if c.name == name:
                c.visible = it.checkState() == Qt.Checked
        self.visibility_changed.emit(self.hidden())
        self.classes_edited.emit()

    def _add(self) -> None:
        name, ok = QInputDialog.getText(self, "New class", "Name of the defect class:")
        name = name.strip()
        if ok and name:
            self.settings.ensure_class(name)
            self.refresh()
            self.list.setCurrentRow(self.list.count() - 1)
            self.classes_edited.emit()

    def _pick_color(self) -> None:
        name = self.current()
        if not name:
            return
        info = self.settings.ensure_class(name)
        col = QColorDialog.getColor(QColor(info.color), self, f"Colour of {name}")
        if col.isValid():
            info.color = col.name()
            self.refresh()
            self.classes_edited.emit()

    def _rename(self) -> None:
        name = self.current()
        if not name:
            return
        new, ok = QInputDialog.getText(self, "Rename class", f"New name for {name}:", text=name)
        new = new.strip()
        if ok and new and new != name:
            if any(c.name == new for c in self.settings.classes):
                return
            self.settings.ensure_class(name).name = new
            self.refresh()
            self.classes_edited.emit()


class ShapeDock(QDockWidget):
    """Shapes of the current image with their measured length; selection synced with the canvas."""

    selection_changed = Signal(list)

    def __init__(self, parent=None):
        super().__init__("Shapes", parent)
        self.setObjectName("shapes")
        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.ExtendedSelection)
        self.list.setMinimumHeight(rows_height(self.list, SHAPE_ROWS))
        self.setWidget(self.list)
        self._shapes = []
        self._quiet = False
        self.list.itemSelectionChanged.connect(self._selection)

    def set_shapes(self, shapes, selected, color_of, describe) -> None:
        self._quiet = True
        self.list.clear()
        self._shapes = list(shapes)
        for s in self._shapes:
            it = QListWidgetItem(color_swatch(color_of(s.label).name()), describe(s))
            self.list.addItem(it)
            it.setSelected(s in selected)
        self._quiet = False

    def _selection(self) -> None:
        if self._quiet:
            return
        rows = sorted(self.list.row(it) for it in self.list.selectedItems())
        self.selection_changed.emit([self._shapes[r] for r in rows if r < len(self._shapes)])
