"""The main window: wires the canvas, the docks, menus and shortcuts to the core layer.
No business logic here: loading, saving and measuring are core functions."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from iunet_gui.core.annotation import Shape
from iunet_gui.core.clipboard import shapes_from_json, shapes_to_json
from iunet_gui.core.errors import AnnotationError, IunetError
from iunet_gui.core.measure import describe_shape
from iunet_gui.core.project import Project
from iunet_gui.gui import broken_files, image_flags
from iunet_gui.gui.canvas import Canvas
from iunet_gui.gui.docks import ClassDock, ImageListDock, ShapeDock
from iunet_gui.gui.document import EditHistory, ImageDocument, annotation_status, image_status
from iunet_gui.gui.focus import CanvasHint, KeysToCanvas
from iunet_gui.gui.folders import FolderMemory, RecentFoldersMenu
from iunet_gui.gui.menus import build_actions, build_menus, shortcuts_dialog
from iunet_gui.gui.model_dock import ModelDock
from iunet_gui.gui.models_panel import ModelsWindowPart
from iunet_gui.gui.qa.window import QAWindow
from iunet_gui.gui.status import WindowStatus
from iunet_gui.gui.theme import icon

AUTOSAVE_MS = 1500
LAYOUT_VERSION = 2  # of the docks' arrangement: a window state saved with another one is not restored


class MainWindow(QMainWindow):
    def __init__(self, folder: Path | None = None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("iunet-gui")
        self.setWindowIcon(icon("app"))
        self.qsettings = settings or QSettings("iunet-gui", "iunet-gui")
        self.folders = FolderMemory(self.qsettings)
        self.project: Project | None = None
        self.document: ImageDocument | None = None
        self.row = -1
        self.edit_history = EditHistory()  # each image's edits and undo history while the folder is open
        self.broken_labels: Path | None = None  # the open image's labels file when it cannot be read
        self.errors: list[str] = []  # what the user was told (tests read it; the UI shows a box)
        self.quiet_errors = False

        self.canvas = Canvas(self)
        self.setCentralWidget(self.canvas)
        self.hint = CanvasHint(self.canvas)
        self.hint.show("Open a folder of images: File > Open Folder… (Ctrl+O)")
        self.images_dock = ImageListDock(self)
        self.class_dock = ClassDock(self)
        self.shape_dock = ShapeDock(self)
        self.model_dock = ModelDock(self)
        self._lay_out_docks()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.save)

        self.status = WindowStatus(self.statusBar())
        self._build_actions()
        self._connect()
        self.qa = QAWindow(self)  # specification, verdicts, the Review dock
        self.models_part = ModelsWindowPart(self)  # the model registry, its dock and the gate after training
        self.keys_to_canvas = KeysToCanvas(self, self.canvas)
        if folder is not None:
            self.open_folder(folder)

    # -- construction --------------------------------------------------------------------------
    def _lay_out_docks(self) -> None:
        """Images, classes and shapes on the left (each list tall enough to read), the model panel
        alone on the right, so that a 1440x900 window shows every panel's controls."""
        for dock in (self.images_dock, self.class_dock, self.shape_dock):
            self.addDockWidget(Qt.LeftDockWidgetArea, dock)
        self.addDockWidget(Qt.RightDockWidgetArea, self.model_dock)
        self.resizeDocks([self.images_dock, self.model_dock], [250, 320], Qt.Horizontal)
        self.resizeDocks([self.images_dock, self.class_dock, self.shape_dock], [300, 170, 280], Qt.Vertical)

    def _build_actions(self) -> None:
        c = self.canvas
        self.act_undo = c.undo_group.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.act_undo.setIcon(icon("undo"))
        self.act_redo = c.undo_group.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_redo.setIcon(icon("redo"))
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)
        build_actions(self)
        build_menus(self)
        self.recent = RecentFoldersMenu(self.recent_menu, self.folders, lambda f: self.open_folder(f))

    def _connect(self) -> None:
        c = self.canvas
        c.mouse_moved.connect(self._show_pos)
        c.zoom_changed.connect(self.status.show_zoom)
        c.selection_changed.connect(self._refresh_shapes)
        c.mode_changed.connect(self._mode_changed)
        c.message.connect(lambda t: self.statusBar().showMessage(t, 4000))
        self.images_dock.image_activated.connect(self.go_to)
        self.class_dock.current_changed.connect(self._class_picked)
        self.class_dock.visibility_changed.connect(c.set_hidden_labels)
        self.class_dock.classes_edited.connect(self._classes_edited)
        self.shape_dock.selection_changed.connect(c.select_shapes)
        self.shape_dock.list.itemDoubleClicked.connect(lambda _it: self.canvas.setFocus())

    # -- project and images --------------------------------------------------------------------
    def choose_folder(self) -> None:
        start = str(self.project.folder) if self.project else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", start)
        self.keys_to_canvas.focus_canvas()  # a native dialog is not a Qt widget: KeysToCanvas cannot see it close
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path, image: str | None = None) -> bool:
        if not self.leave_image():
            return False
        try:
            project = Project.open(folder)
        except IunetError as exc:
            self.error("Cannot open folder", str(exc))
            return False
        self.project = project
        if project.settings_error:
            self.error("Project settings", f"{project.settings_error}\nDefault classes are used; the file is "
                                            f"left as it is until you change a class.")
        self.canvas.color_of = lambda label: QColor(project.settings.color_of(label))
        self.canvas.label_choices = lambda: [c.name for c in project.settings.classes]
        self.edit_history = EditHistory()
        self.class_dock.set_settings(project.settings)
        self.canvas.set_hidden_labels(self.class_dock.hidden())
        self.images_dock.set_images(project.images, [image_status(project, p) for p in project.images])
        self.setWindowTitle(f"iunet-gui — {folder}")
        self.recent.remember(folder)
        self.row = -1
        self.document = None
        self.canvas.set_document(None)
        self.model_dock.cache.clear()
        self.model_dock.image_opened()
        self.qa.project_opened(project)
        self.models_part.project_opened(project)
        self.status.show_image(None, None)
        self.statusBar().clearMessage()
        if not project.images:
            self.hint.show(f"No images in {folder}\n\nFile > Open Folder… (Ctrl+O)")
            return True
        self.hint.show(None)
        names = [self._image_key(p) for p in project.images]
        image = image or self.folders.last_image(self.project.folder)
        if image not in names:  # a bare file name finds an image in a class folder too
            image = next((n for n, p in zip(names, project.images) if p.name == image), None)
        self.go_to(names.index(image) if image in names else 0)
        return True

    def _image_key(self, path: Path) -> str:
        return path.relative_to(self.project.folder).as_posix()

    def go_to(self, row: int) -> bool:
        if self.project is None or not 0 <= row < len(self.project.images) or row == self.row:
            self.images_dock.select_row(self.row)
            return False
        if not self.leave_image():
            self.images_dock.select_row(self.row)
            return False
        path = self.project.images[row]
        doc = ImageDocument(self.project, path, self.edit_history)
        self.row = row
        self.images_dock.select_row(row)
        self.broken_labels = None
        self.act_start_over.setEnabled(False)
        labels_error = None
        try:
            doc.load()
        except AnnotationError as exc:
            if doc.image is None:
                return broken_files.show_broken_image(self, row, exc)
            labels_error = exc  # the image is fine: it shows, its labels are kept until they start over
            doc = broken_files.without_labels(self, doc)
        except IunetError as exc:
            return broken_files.show_broken_image(self, row, exc)
        self.document = doc
        doc.dirty_changed.connect(self.status.show_saved)
        doc.changed.connect(self._doc_changed)
        self.canvas.set_document(doc)
        self.canvas.fit()
        h, w = doc.image.shape[:2]
        self.status.show_image((w, h), False)
        image_flags.show_flags(self)
        self.model_dock.image_opened()
        self.qa.image_opened()
        self.folders.set_last_image(self.project.folder, self._image_key(path))
        if doc.warnings:
            self.statusBar().showMessage("; ".join(doc.warnings)[:300], 10000)
        if labels_error is not None:
            broken_files.labels_broken(self, labels_error)
        return True

    # -- a labels file that cannot be read -----------------------------------------------------
    def ask_start_over(self, text: str) -> bool:
        """Whether to start a broken labels file over (a dialog; tests replace it)."""
        return broken_files.ask_start_over(self, text)

    def start_labels_over(self) -> bool:
        return broken_files.start_labels_over(self)

    def next_image(self) -> None:
        self._step(+1)

    def prev_image(self) -> None:
        self._step(-1)

    def _step(self, d: int) -> None:
        if not self.project or not self.project.images:
            return
        row = self.row + d
        lst = self.images_dock.list
        while 0 <= row < len(self.project.images) and lst.item(row).isHidden():
            row += d
        if 0 <= row < len(self.project.images):
            self.go_to(row)

    # -- saving --------------------------------------------------------------------------------
    def leave_image(self) -> bool:
        """Save the current image's edits before leaving it; False if that failed and the
        user chose to stay."""
        self.canvas.settle_drawing()  # a polygon that can close is kept; a leftover is reported
        if self.document is None or not self.document.dirty:
            return True
        if self.save():
            return True
        return self.ask_unsaved() != "cancel"

    def save(self) -> bool:
        self.autosave_timer.stop()
        doc = self.document
        if doc is None or doc.annotation is None:
            return True
        if self.broken_labels is not None:
            if not doc.dirty:
                return True
            self.error("Labels not saved", f"{self.broken_labels} cannot be read, so it is not overwritten.\n\n"
                                           f"Edit > Start Labels Over keeps it aside and saves these labels.")
            return False
        if not doc.dirty and self.project.annotation_path(doc.image_path).exists():
            return True
        try:
            doc.save()
        except (OSError, IunetError) as exc:
            self.error("Could not save", f"{self.project.annotation_path(doc.image_path)}: {exc}\n\n"
                                         f"Your edits are still here; fix the problem (disk, permissions) and "
                                         f"save again with Ctrl+S.")
            return False
        self.images_dock.set_status(self.row, annotation_status(doc.annotation))
        self.statusBar().showMessage(f"Saved {doc.image_path.with_suffix('.json').name}", 2500)
        return True

    def ask_unsaved(self) -> str:
        """'save', 'discard' or 'cancel' for unsaved edits (a dialog; tests replace it)."""
        text = f"{self.document.image_path.name} has changes that are not saved."
        if self.canvas.drawing:
            text += f" {self.canvas.unfinished_text().capitalize()} is not a shape yet and is not saved."
        box = QMessageBox(QMessageBox.Warning, "Unsaved changes", text, parent=self)
        box.setStandardButtons(QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        box.setDefaultButton(QMessageBox.Save)
        answer = box.exec()
        if answer == QMessageBox.Save:
            return "save" if self.save() else "cancel"
        return "discard" if answer == QMessageBox.Discard else "cancel"

    def closeEvent(self, ev) -> None:
        if self.model_dock.training and self.ask_stop_training() != "stop":
            ev.ignore()
            return
        unfinished = not self.canvas.finish_drawing()
        if unfinished or (self.document is not None and self.document.dirty):
            self.autosave_timer.stop()  # no autosave while the question is open: Discard must discard
            choice = self.ask_unsaved()  # Save / Discard / Cancel, however recent the edit
            if choice == "cancel" or (choice == "save" and not self.save()):
                if self.document is not None and self.document.dirty:
                    self.autosave_timer.start()
                ev.ignore()
                return
        self.model_dock.shut_down()
        self.qa.shut_down()
        self.models_part.close()
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.qsettings.setValue("state", self.saveState(LAYOUT_VERSION))
        ev.accept()

    def ask_stop_training(self) -> str:
        """'stop' or 'cancel' when the window closes during training (a dialog; tests replace it)."""
        answer = QMessageBox.question(self, "Training is running",
                                      "A model is training. Stop it and quit? The last good checkpoint is kept in "
                                      f"{self.model_dock.last_run}.", QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return "stop" if answer == QMessageBox.Yes else "cancel"

    def _doc_changed(self) -> None:
        if self.broken_labels is None:
            self.autosave_timer.start()
        image_flags.show_flags(self)
        self._refresh_shapes()

    # -- editing -------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if self.document is None and mode != "edit":
            self.act_edit.setChecked(True)
            mode = "edit"
        self.canvas.set_mode(mode)

    def _mode_changed(self, mode: str) -> None:
        for m, a in self.mode_actions.items():
            a.setChecked(m == mode)
        self.status.show_mode(mode)

    def delete_selected(self) -> None:
        if self.canvas.drawing:  # while drawing, Backspace/Del take back the last vertex
            self.canvas.remove_last_vertex()
            return
        self.canvas.delete_selection()

    def pick_class(self, index: int) -> None:
        self.class_dock.select_index(index)
        name = self.class_dock.current()
        if name and self.canvas.selected:
            self.canvas.set_label_of_selection(name)

    def _class_picked(self, name: str) -> None:
        self.canvas.current_label = name

    def _classes_edited(self) -> None:
        if self.project is None:
            return
        try:
            self.project.save_settings()
        except OSError as exc:
            self.error("Could not save the project settings", str(exc))
        self.canvas.refresh_styles()

    def copy_shapes(self) -> None:
        if not self.canvas.selected:
            return
        # plain text: custom clipboard formats crash PySide at exit (a QMimeData left on the clipboard)
        QGuiApplication.clipboard().setText(shapes_to_json(self.canvas.selected))
        self.statusBar().showMessage(f"Copied {len(self.canvas.selected)} shape(s)", 2500)

    def paste_shapes(self) -> None:
        """Paste the shapes on the clipboard (copied here, in another window, or as labelme JSON text)."""
        if self.document is None:
            return
        try:
            shapes = shapes_from_json(QGuiApplication.clipboard().text())
        except IunetError as exc:
            self.statusBar().showMessage(f"Nothing to paste: {exc}", 4000)
            return
        if shapes:
            self.canvas.paste_shapes(shapes)

    # -- views ---------------------------------------------------------------------------------
    def describe(self, s: Shape) -> str:
        return describe_shape(s, self.document.mm_per_px() if self.document else None)

    def _refresh_shapes(self) -> None:
        c = self.canvas
        self.shape_dock.set_shapes(self.document.shapes if self.document else [], c.selected, c.color_of,
                                   self.describe)
        if len(c.selected) == 1:
            self.statusBar().showMessage(self.describe(c.selected[0]), 6000)

    def _show_pos(self, x: float, y: float) -> None:
        self.status.show_position(x, y, self.document.mm_per_px() if self.document else None)

    def show_shortcuts(self) -> None:
        self.shortcuts_dialog = shortcuts_dialog(self)
        self.shortcuts_dialog.show()

    def about(self) -> None:
        from iunet_gui import __version__

        QMessageBox.about(self, "About iunet-gui", f"iunet-gui {__version__}\nLabel defects, train IU-Net, "
                                                   f"measure by the minimum rotated rectangle.")

    def error(self, title: str, text: str) -> None:
        self.errors.append(f"{title}: {text}")
        if self.quiet_errors:
            self.statusBar().showMessage(text.splitlines()[0], 8000)
            return
        QMessageBox.warning(self, title, text)
