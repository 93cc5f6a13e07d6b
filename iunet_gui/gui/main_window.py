"""The main window: wires the canvas, the docks, menus and shortcuts to the core layer.
No business logic here: loading, saving and measuring are core functions."""
from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence, QWindow
from PySide6.QtWidgets import (QApplication, QFileDialog, QLabel, QMainWindow, QMessageBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QDialog, QDialogButtonBox)

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.clipboard import CLIPBOARD_MIME, shapes_from_json, shapes_to_json
from iunet_gui.core.errors import AnnotationError, IunetError
from iunet_gui.core.measure import describe_shape
from iunet_gui.core.project import Project
from iunet_gui.gui import commands as cmd
from iunet_gui.gui.canvas import Canvas
from iunet_gui.gui.docks import ClassDock, ImageListDock, ShapeDock
from iunet_gui.gui.model_dock import ModelDock
from iunet_gui.gui.document import STATUS_BROKEN, ImageDocument, annotation_status, image_status
from iunet_gui.gui.theme import icon

AUTOSAVE_MS = 1500
LAYOUT_VERSION = 2  # of the docks' arrangement: a window state saved with another one is not restored
MAX_RECENT = 8


class MainWindow(QMainWindow):
    def __init__(self, folder: Path | None = None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("iunet-gui")
        self.setWindowIcon(icon("app"))
        self.qsettings = settings or QSettings("iunet-gui", "iunet-gui")
        self.project: Project | None = None
        self.document: ImageDocument | None = None
        self.row = -1
        self.broken_labels: Path | None = None  # the open image's labels file when it cannot be read
        self.errors: list[str] = []  # what the user was told (tests read it; the UI shows a box)
        self.quiet_errors = False

        self.canvas = Canvas(self)
        self.setCentralWidget(self.canvas)
        self.hint = QLabel(self.canvas)  # over the viewport, not in it: scrolling the view never moves it
        self.hint.setObjectName("hint")
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.canvas.viewport().installEventFilter(self)
        self._show_hint("Open a folder of images: File > Open Folder… (Ctrl+O)")
        self.images_dock = ImageListDock(self)
        self.class_dock = ClassDock(self)
        self.shape_dock = ShapeDock(self)
        self.model_dock = ModelDock(self)
        self._lay_out_docks()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.save)

        self._build_status_bar()
        self._build_actions()
        self._connect()
        QGuiApplication.instance().focusWindowChanged.connect(self._focus_window_changed)
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

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.pos_label = QLabel("–")
        self.zoom_label = QLabel("100 %")
        self.size_label = QLabel("")
        self.saved_label = QLabel("")
        self.mode_label = QLabel("Edit")
        for w in (self.mode_label, self.pos_label, self.zoom_label, self.size_label, self.saved_label):
            sb.addPermanentWidget(w)

    def _act(self, text, slot, shortcut=None, icon_name=None, checkable=False, tip=None) -> QAction:
        a = QAction(icon(icon_name) if icon_name else QAction(text).icon(), text, self)
        if shortcut:
            a.setShortcuts([QKeySequence(s) for s in (shortcut if isinstance(shortcut, list) else [shortcut])])
            a.setShortcutContext(Qt.WindowShortcut)
        a.setCheckable(checkable)
        if tip or shortcut:
            sc = shortcut[0] if isinstance(shortcut, list) else shortcut
            a.setToolTip(f"{tip or text}" + (f"  ({sc})" if sc else ""))
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        c = self.canvas
        self.act_open = self._act("&Open Folder…", self.choose_folder, "Ctrl+O", "open")
        self.act_save = self._act("&Save", self.save, "Ctrl+S", "save")
        self.act_next = self._act("&Next Image", self.next_image, "D", "next")
        self.act_prev = self._act("&Previous Image", self.prev_image, "A", "prev")
        self.act_poly = self._act("Create &Polygon", lambda: self.set_mode("polygon"), "Ctrl+N", "polygon", True)
        self.act_rect = self._act("Create &Rectangle", lambda: self.set_mode("rectangle"), "Ctrl+R", "rectangle", True)
        self.act_circle = self._act("Create &Circle", lambda: self.set_mode("circle"), "Ctrl+Shift+C", "circle", True)
        self.act_edit = self._act("&Edit Shapes", lambda: self.set_mode("edit"), "Ctrl+J", "edit", True)
        self.act_delete = self._act("&Delete", self.delete_selected, ["Del", "Backspace"], "delete",
                                    tip="Delete the selected vertex or shapes")
        self.act_undo = c.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.act_undo.setIcon(icon("undo"))
        self.act_redo = c.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_redo.setIcon(icon("redo"))
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)
        self.act_copy = self._act("&Copy Shapes", self.copy_shapes, "Ctrl+C", "copy")
        self.act_paste = self._act("&Paste Shapes", self.paste_shapes, "Ctrl+V", "paste")
        self.act_fit = self._act("&Fit to Window", c.fit, "F", "fit")
        self.act_100 = self._act("&Actual Size (100 %)", lambda: c.set_zoom(1.0), "Ctrl+0", "zoom-100")
        self.act_zin = self._act("Zoom &In", lambda: c.set_zoom(c.zoom * 1.25), ["Ctrl++", "Ctrl+="], "zoom-in")
        self.act_zout = self._act("Zoom &Out", lambda: c.set_zoom(c.zoom / 1.25), "Ctrl+-", "zoom-out")
        self.act_reviewed = self._act("Mark &Reviewed", self.toggle_reviewed, "Ctrl+Shift+R", "reviewed", True)
        self.act_defect_free = self._act("Mark Defect-&Free", self.toggle_defect_free, "Ctrl+Shift+F",
                                         "defect-free", True)
        md = self.model_dock
        self.act_predict = self._act("&Predict Image", md.predict_current, "Ctrl+P", "model",
                                     tip="Predict the defects of this image with the current model")
        self.act_accept = self._act("&Accept Prediction", md.accept, "Ctrl+Shift+A", "accept",
                                    tip="Turn the prediction into editable shapes of the current class")
        self.act_show_prediction = self._act(
            "&Show Prediction", lambda: md.show_box.setChecked(self.act_show_prediction.isChecked()), "Ctrl+H",
            checkable=True)
        self.act_show_prediction.setChecked(True)
        md.show_box.toggled.connect(self.act_show_prediction.setChecked)
        self.act_predict_all = self._act("Predict A&ll Images", lambda: md.predict_all(),
                                         tip="Predict every image of the folder and score the labelled ones")
        self.act_save_predictions = self._act("Sa&ve All Predictions…", md.save_all,
                                              tip="Predict every image and write its mask, probability map, "
                                                  "defects and labelme polygons into a folder")
        self.act_export_report = self._act("&Export Report…", md.export_report,
                                           tip="After Predict All: one CSV row per defect")
        self.act_choose_model = self._act("&Choose Model…", md.choose_checkpoint)
        self.act_train = self._act("&Train on Labelled Images", md.start_training, "Ctrl+T", "train",
                                   tip="Train a model on every labelled image of this folder")
        self.act_stop_training = self._act("Stop T&raining", md.stop_training)
        self.act_shortcuts = self._act("&Keyboard Shortcuts", self.show_shortcuts, "F1", "keyboard")
        self.act_start_over = self._act("Start &Labels Over", self.start_labels_over,
                                        tip="Keep this image's broken labels file aside (.broken) and label anew")
        self.act_start_over.setEnabled(False)
        self.act_quit = self._act("&Quit", self.close, "Ctrl+Q")
        self.mode_actions = {"polygon": self.act_poly, "rectangle": self.act_rect, "circle": self.act_circle,
                             "edit": self.act_edit}
        self.act_edit.setChecked(True)
        for i in range(9):  # 1-9: pick a class (and relabel the selection)
            self._act(f"Class {i + 1}", lambda _=False, k=i: self.pick_class(k), str(i + 1))

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Open &Recent")
        m.addAction(self.act_save)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo, None, self.act_poly, self.act_rect, self.act_circle, self.act_edit,
                  None, self.act_copy, self.act_paste, self.act_delete, None, self.act_defect_free, self.act_reviewed,
                  None, self.act_start_over):
            m.addSeparator() if a is None else m.addAction(a)
        m = mb.addMenu("&View")
        for a in (self.act_fit, self.act_100, self.act_zin, self.act_zout, None, self.act_prev, self.act_next):
            m.addSeparator() if a is None else m.addAction(a)
        m.addSeparator()
        for d in (self.images_dock, self.class_dock, self.shape_dock, self.model_dock):
            m.addAction(d.toggleViewAction())
        m = mb.addMenu("&Model")
        for a in (self.act_predict, self.act_accept, self.act_show_prediction, None, self.act_predict_all,
                  self.act_save_predictions, self.act_export_report, None, self.act_choose_model, None,
                  self.act_train, self.act_stop_training):
            m.addSeparator() if a is None else m.addAction(a)
        m = mb.addMenu("&Help")
        m.addAction(self.act_shortcuts)
        m.addAction(QAction("&About iunet-gui", self, triggered=self.about))

        tb = self.addToolBar("Main")
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        for a in (self.act_open, self.act_save, None, self.act_prev, self.act_next, None, self.act_edit, self.act_poly,
                  self.act_rect, self.act_circle, self.act_delete, None, self.act_undo, self.act_redo, None,
                  self.act_fit, self.act_100, self.act_zin, self.act_zout, None, self.act_defect_free,
                  self.act_reviewed, None, self.act_predict, self.act_accept, self.act_train):
            tb.addSeparator() if a is None else tb.addAction(a)
        self._refresh_recent()

    def _connect(self) -> None:
        c = self.canvas
        c.mouse_moved.connect(self._show_pos)
        c.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
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
        self.class_dock.set_settings(project.settings)
        self.canvas.set_hidden_labels(self.class_dock.hidden())
        self.images_dock.set_images(project.images, [image_status(project, p) for p in project.images])
        self.setWindowTitle(f"iunet-gui — {folder}")
        self._remember_recent(folder)
        self.row = -1
        self.document = None
        self.canvas.set_document(None)
        self.model_dock.cache.clear()
        self.model_dock.image_opened()
        self.size_label.setText("")
        self._set_saved_label(None)
        self.statusBar().clearMessage()
        if not project.images:
            self._show_hint(f"No images in {folder}\n\nFile > Open Folder… (Ctrl+O)")
            return True
        self._show_hint(None)
        names = [self._image_key(p) for p in project.images]
        image = image or self.qsettings.value(self._last_image_setting(), None)
        if image not in names:  # a bare file name finds an image in a class folder too
            image = next((n for n, p in zip(names, project.images) if p.name == image), None)
        self.go_to(names.index(image) if image in names else 0)
        return True

    def _image_key(self, path: Path) -> str:
        return path.relative_to(self.project.folder).as_posix()

    def _last_image_setting(self) -> str:
        """The settings key of the image last open in the project's folder."""
        folder = str(Path(self.project.folder).resolve())
        return "last_image/" + hashlib.sha1(folder.encode("utf-8")).hexdigest()

    def _show_hint(self, text: str | None) -> None:
        """A line in the middle of the empty canvas (None: no hint)."""
        self.hint.setText(text or "")
        self.hint.setVisible(bool(text))
        self.hint.setGeometry(self.canvas.viewport().geometry())
        self.hint.raise_()

    def go_to(self, row: int) -> bool:
        if self.project is None or not 0 <= row < len(self.project.images) or row == self.row:
            self.images_dock.select_row(self.row)
            return False
        if not self.leave_image():
            self.images_dock.select_row(self.row)
            return False
        path = self.project.images[row]
        doc = ImageDocument(self.project, path)
        self.row = row
        self.images_dock.select_row(row)
        self.broken_labels = None
        labels_error = None
        try:
            doc.load()
        except AnnotationError as exc:
            if doc.image is None:
                return self._show_broken_image(row, exc)
            labels_error = exc  # the image is fine: it shows, its labels are kept until they start over
            h, w = doc.image.shape[:2]
            doc.annotation = Annotation.empty(path, w, h)
            self.broken_labels = self.project.annotation_path(path)
        except IunetError as exc:
            return self._show_broken_image(row, exc)
        self.document = doc
        doc.dirty_changed.connect(self._dirty_changed)
        doc.changed.connect(self._doc_changed)
        self.canvas.set_document(doc)
        self.canvas.fit()
        h, w = doc.image.shape[:2]
        self.size_label.setText(f"{w} × {h} px")
        self._set_saved_label(False)
        self._sync_flags()
        self.model_dock.image_opened()
        self.qsettings.setValue(self._last_image_setting(), self._image_key(path))
        if doc.warnings:
            self.statusBar().showMessage("; ".join(doc.warnings)[:300], 10000)
        if labels_error is not None:
            self._labels_broken(labels_error)
        return True

    def _show_broken_image(self, row: int, exc: IunetError) -> bool:
        self.images_dock.set_status(row, STATUS_BROKEN)
        self.document = None
        self.canvas.set_document(None)
        self.size_label.setText("")
        self._set_saved_label(None)
        self.model_dock.image_opened()  # no prediction of the image before stays on show
        self.error("Cannot open image", f"{exc}\n\nThe file stays in the list, marked broken; nothing was "
                                        f"changed on disk.")
        return False

    # -- a labels file that cannot be read -----------------------------------------------------
    def _labels_broken(self, exc: AnnotationError) -> None:
        """The image shows without labels; its labels file stays as it is until the user starts over."""
        self.images_dock.set_status(self.row, STATUS_BROKEN)
        self._set_saved_label(None)
        self.act_start_over.setEnabled(True)
        name = self.broken_labels.name
        if self.ask_start_over(f"{exc}\n\nStart the labels of {self.document.image_path.name} over? {name} is "
                               f"kept beside it as {name}.broken; nothing is deleted."):
            self.start_labels_over()
        else:
            self.statusBar().showMessage(f"{name} cannot be read: edits of this image are not saved until you "
                                         f"start its labels over (Edit > Start Labels Over)", 15000)

    def ask_start_over(self, text: str) -> bool:
        """Whether to start a broken labels file over (a dialog)."""
        box = QMessageBox(QMessageBox.Warning, "Broken labels file", text, parent=self)
        start = box.addButton("Start labels over", QMessageBox.AcceptRole)
        box.addButton("Not now", QMessageBox.RejectRole)
        box.setDefaultButton(start)
        box.exec()
        return box.clickedButton() is start

    def start_labels_over(self) -> bool:
        """Keep the open image's broken labels file aside (name.json.broken) and save its labels anew."""
        if self.broken_labels is None or self.document is None:
            return False
        try:
            kept = self.project.set_aside_annotation(self.document.image_path)
        except IunetError as exc:
            self.error("Cannot start the labels over", str(exc))
            return False
        self.broken_labels = None
        self.act_start_over.setEnabled(False)
        self.images_dock.set_status(self.row, annotation_status(self.document.annotation))
        self._set_saved_label(self.document.dirty)
        if self.document.dirty:
            self.autosave_timer.start()
        self.statusBar().showMessage(f"The broken labels file is kept as {kept.name}; this image's labels "
                                     f"start over", 10000)
        return True

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
        if self.canvas.drawing:
            self.canvas.cancel_drawing()
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
        box = QMessageBox(QMessageBox.Warning, "Unsaved changes",
                          f"{self.document.image_path.name} has changes that are not saved.", parent=self)
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
        if self.document is not None and self.document.dirty:
            if not self.save():
                choice = self.ask_unsaved()
                if choice == "cancel":
                    ev.ignore()
                    return
        self.model_dock.shut_down()
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.qsettings.setValue("state", self.saveState(LAYOUT_VERSION))
        ev.accept()

    def ask_stop_training(self) -> str:
        """'stop' or 'cancel' when the window closes during training (a dialog; tests replace it)."""
        answer = QMessageBox.question(self, "Training is running",
                                      "A model is training. Stop it and quit? The last good checkpoint is kept in "
                                      f"{self.model_dock.last_run}.", QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return "stop" if answer == QMessageBox.Yes else "cancel"

    def _dirty_changed(self, dirty: bool) -> None:
        self._set_saved_label(dirty)

    def _set_saved_label(self, dirty) -> None:
        if dirty is None:
            self.saved_label.setText("")
        elif dirty:
            self.saved_label.setText("● unsaved")
            self.saved_label.setObjectName("unsaved")
        else:
            self.saved_label.setText("✓ saved")
            self.saved_label.setObjectName("saved")
        self.saved_label.style().unpolish(self.saved_label)
        self.saved_label.style().polish(self.saved_label)

    def _doc_changed(self) -> None:
        if self.broken_labels is None:
            self.autosave_timer.start()
        self._sync_flags()
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
        self.mode_label.setText({"edit": "Edit", "polygon": "Polygon", "rectangle": "Rectangle",
                                 "circle": "Circle"}[mode])

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
        mime = QMimeData()
        text = shapes_to_json(self.canvas.selected)
        mime.setData(CLIPBOARD_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self.statusBar().showMessage(f"Copied {len(self.canvas.selected)} shape(s)", 2500)

    def paste_shapes(self) -> None:
        """Paste the shapes on the clipboard (copied here, in another window, or as labelme JSON text)."""
        mime = QGuiApplication.clipboard().mimeData()
        if self.document is None or mime is None:
            return
        text = bytes(mime.data(CLIPBOARD_MIME)).decode("utf-8") if mime.hasFormat(CLIPBOARD_MIME) else mime.text()
        try:
            shapes = shapes_from_json(text)
        except IunetError as exc:
            self.statusBar().showMessage(f"Nothing to paste: {exc}", 4000)
            return
        if shapes:
            self.canvas.paste_shapes(shapes)

    def toggle_reviewed(self) -> None:
        self._toggle_flag("reviewed", self.act_reviewed)

    def toggle_defect_free(self) -> None:
        if self.document and self.document.shapes and not self.document.annotation.defect_free:
            self.statusBar().showMessage("This image has shapes: delete them before marking it defect-free", 5000)
            self.act_defect_free.setChecked(False)
            return
        self._toggle_flag("defect_free", self.act_defect_free)

    def _toggle_flag(self, key: str, action: QAction) -> None:
        if self.document is None:
            action.setChecked(False)
            return
        value = not bool(self.document.annotation.flags.get(key))
        self.canvas.undo_stack.push(cmd.SetFlag(self.canvas, key, value if value else None))

    def _sync_flags(self) -> None:
        flags = self.document.annotation.flags if self.document and self.document.annotation else {}
        self.act_reviewed.setChecked(bool(flags.get("reviewed")))
        self.act_defect_free.setChecked(bool(flags.get("defect_free")))

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
        mm = self.document.mm_per_px() if self.document else None
        text = f"x {x:.0f}  y {y:.0f} px"
        if mm:
            text += f"   ({x * mm:.2f}, {y * mm:.2f} mm)"
        self.pos_label.setText(text)

    def show_shortcuts(self) -> None:
        rows = [(a.text().replace("&", ""), ", ".join(s.toString(QKeySequence.NativeText) for s in a.shortcuts()))
                for a in (self.act_open, self.act_save, self.act_next, self.act_prev, self.act_poly, self.act_rect,
                          self.act_circle, self.act_edit, self.act_delete, self.act_undo, self.act_redo,
                          self.act_copy, self.act_paste, self.act_fit, self.act_100, self.act_zin, self.act_zout,
                          self.act_defect_free, self.act_reviewed, self.act_predict, self.act_accept,
                          self.act_show_prediction, self.act_train, self.act_shortcuts, self.act_quit)]
        rows += [("Pick class 1-9 (relabels the selection)", "1 … 9"),
                 ("Close polygon", "click first vertex, double-click or Enter"),
                 ("Cancel drawing / deselect", "Esc"), ("Remove last vertex while drawing", "Backspace"),
                 ("Constrain to 45° / square", "hold Shift"), ("Pan", "middle drag or Space + drag"),
                 ("Zoom around the cursor", "mouse wheel"), ("Move selection by 1 / 10 px", "arrows / Shift+arrows"),
                 ("Insert a vertex", "drag an edge's midpoint handle"),
                 ("Delete a vertex", "click the vertex, then Del")]
        dlg = QDialog(self)
        dlg.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2, dlg)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().hide()
        for r, (a, k) in enumerate(rows):
            table.setItem(r, 0, QTableWidgetItem(a))
            table.setItem(r, 1, QTableWidgetItem(k))
        table.resizeColumnsToContents()
        lay = QVBoxLayout(dlg)
        lay.addWidget(table)
        bb = QDialogButtonBox(QDialogButtonBox.Close)
        bb.rejected.connect(dlg.reject)
        lay.addWidget(bb)
        dlg.resize(620, 560)
        self.shortcuts_dialog = dlg
        dlg.show()

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

    # -- focus and the canvas hint -------------------------------------------------------------------
    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Resize and obj is self.canvas.viewport():
            self.hint.setGeometry(obj.geometry())
        return super().eventFilter(obj, ev)

    def _focus_window_changed(self, window: QWindow | None) -> None:
        """A dialog of this window got the focus: when it closes, the keys go to the canvas again."""
        dialog = next((w for w in QApplication.topLevelWidgets() if w.windowHandle() is window), None)
        if window is None or not isinstance(dialog, QDialog) or dialog.property("refocuses_canvas"):
            return
        parent = dialog.parentWidget()
        while parent is not None and parent is not self:
            parent = parent.parentWidget()
        if parent is not self:
            return
        dialog.setProperty("refocuses_canvas", True)
        if dialog.isVisible():
            dialog.finished.connect(lambda _result: self._focus_canvas())
        else:  # it closed before its activation came through
            self._focus_canvas()

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        QTimer.singleShot(0, self._focus_canvas)  # keys go to the canvas from the start

    def _focus_canvas(self) -> None:
        if QApplication.activeModalWidget() is None and self.isVisible():
            self.activateWindow()
            self.canvas.setFocus(Qt.OtherFocusReason)

    # -- recent folders ------------------------------------------------------------------------
    def _remember_recent(self, folder: Path) -> None:
        folder = str(Path(folder).resolve())
        recent = [f for f in (self.qsettings.value("recent", []) or []) if f != folder]
        self.qsettings.setValue("recent", [folder] + recent[: MAX_RECENT - 1])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.qsettings.value("recent", []) or []
        if isinstance(recent, str):
            recent = [recent]
        for f in recent:
            self.recent_menu.addAction(f, lambda f=f: self.open_folder(Path(f)))
        self.recent_menu.setEnabled(bool(recent))
