"""The Models panel's dock: the project's registered models (app.registry) as a table, the model in
use in bold with a "*", and the buttons whose signals gui/models_panel.py answers."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from iunet_gui.app.registry import COLUMNS, cell


class ModelsDock(QDockWidget):
    """The registry's table and its buttons."""

    use_clicked = Signal(int)
    rename_clicked = Signal(int)
    delete_clicked = Signal(int)
    export_clicked = Signal(int)
    folder_clicked = Signal(int)
    compare_clicked = Signal(list)

    def __init__(self, window):
        super().__init__("Models", window)
        self.setObjectName("models")
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(6, 6, 6, 6)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([h for h, _ in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.itemDoubleClicked.connect(lambda _it: self._emit(self.use_clicked))
        lay.addWidget(self.table, 1)
        self.golden_label = QLabel("")
        self.golden_label.setWordWrap(True)
        lay.addWidget(self.golden_label)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        self.use_button = self._button(row1, "Use", "Make the selected model the model in use", self.use_clicked)
        self.rename_button = self._button(row1, "Rename…", "Give the selected model another name", self.rename_clicked)
        self.delete_button = self._button(row1, "Delete…", "Take the model out of the registry (and its files)",
                                          self.delete_clicked)
        self.export_button = self._button(row2, "Export ONNX", "Write the model as ONNX beside its checkpoint",
                                          self.export_clicked)
        self.folder_button = self._button(row2, "Run folder", "Open the folder of the model's training run",
                                          self.folder_clicked)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip("The selected models side by side on the project's labelled images")
        self.compare_button.clicked.connect(lambda: self.compare_clicked.emit(self.selected_ids()))
        row2.addWidget(self.compare_button)
        lay.addLayout(row1)
        lay.addLayout(row2)
        self.setWidget(inner)
        self.ids: list[int] = []

    def _button(self, row, text, tip, signal) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.clicked.connect(lambda: self._emit(signal))
        row.addWidget(b)
        return b

    def _emit(self, signal) -> None:
        ids = self.selected_ids()
        if ids:
            signal.emit(ids[0])

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.ids[r] for r in rows if r < len(self.ids)]

    def show_models(self, entries, golden: list[str]) -> None:
        keep = set(self.selected_ids())
        self.ids = [e.id for e in entries]
        self.table.setRowCount(len(entries))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for r, e in enumerate(entries):
            row = e.row()
            for c, (_h, key) in enumerate(COLUMNS):
                v = cell(row, key)
                item = QTableWidgetItem("" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v))
                item.setToolTip(row["path"])
                if e.in_use:
                    item.setFont(bold)
                self.table.setItem(r, c, item)
            if e.id in keep:
                self.table.selectRow(r)
        self.table.resizeColumnsToContents()
        self.golden_label.setText(f"Golden set: {len(golden)} image(s)" if golden else
                                  "No golden set: add labelled images with Model > Add to Golden Set")

    def row_of(self, entry_id: int) -> int:
        return self.ids.index(entry_id)
