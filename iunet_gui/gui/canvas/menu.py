"""The context menu of the shapes on the canvas: edit label, edit description, duplicate, delete.
The menu and its dialogs open without blocking (popup / open), so keys and clicks drive them."""
from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu


class ShapeMenu:
    def __init__(self, canvas):
        self.canvas = canvas
        self.menu = QMenu(canvas)
        self.act_label = self.menu.addAction("Edit &Label…", self.edit_label)
        self.act_description = self.menu.addAction("Edit &Description…", self.edit_description)
        self.act_duplicate = self.menu.addAction("D&uplicate", canvas.duplicate_selection)
        self.menu.addSeparator()
        self.act_delete = self.menu.addAction("&Delete", self._delete_shapes)
        self.dialog: QInputDialog | None = None

    def popup_at(self, scene_pos: QPointF, global_pos) -> None:
        """Select the shape under the cursor (unless it is selected already) and show the menu."""
        c = self.canvas
        item = c.item_under(scene_pos)
        if item is None:
            c.select_shapes([])
            return
        if not any(s is item.shape_ref for s in c.selected):
            c.select_shapes([item.shape_ref])
        c.active_vertex = None
        one = len(c.selected) == 1
        self.act_description.setEnabled(one)
        self.menu.popup(global_pos)

    def _delete_shapes(self) -> None:
        self.canvas.active_vertex = None
        self.canvas.delete_selection()

    def _ask(self, title: str, label: str, done) -> QInputDialog:
        dlg = QInputDialog(self.canvas)
        dlg.setWindowTitle(title)
        dlg.setLabelText(label)
        dlg.textValueSelected.connect(done)
        dlg.finished.connect(lambda _r: self.canvas.setFocus())
        self.dialog = dlg
        return dlg

    def edit_label(self) -> None:
        shapes = list(self.canvas.selected)
        if not shapes:
            return
        dlg = self._ask("Edit label", f"Class of {len(shapes)} shape(s):",
                        lambda text: self._set_label(shapes, text))
        choices = list(dict.fromkeys(list(self.canvas.label_choices()) + [s.label for s in shapes]))
        dlg.setComboBoxItems(choices)
        dlg.setComboBoxEditable(True)
        dlg.setTextValue(shapes[0].label)
        dlg.open()

    def _set_label(self, shapes, text: str) -> None:
        text = text.strip()
        if text and any(s.label != text for s in shapes):
            self.canvas.select_shapes(shapes)
            self.canvas.set_label_of_selection(text)

    def edit_description(self) -> None:
        if len(self.canvas.selected) != 1:
            return
        shape = self.canvas.selected[0]
        dlg = self._ask("Edit description", f"Description of this {shape.label} shape:",
                        lambda text: self.canvas.set_description(shape, text))
        dlg.setTextEchoMode(QLineEdit.Normal)
        dlg.setTextValue(shape.description)
        dlg.open()
