"""The window's actions with their keys, its menus and toolbar, and the keyboard shortcuts table."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTableWidget, QTableWidgetItem, QVBoxLayout

from iunet_gui.gui import image_flags
from iunet_gui.gui.theme import icon

# what the keys do beyond the actions: (what, keys) rows of the shortcuts table
MORE_KEYS = (("Pick class 1-9 (relabels the selection)", "1 … 9"),
             ("Close polygon", "click first vertex, double-click the last one, or Enter"),
             ("Shape menu: label, description, duplicate, delete", "right-click a shape"),
             ("Cancel drawing / deselect", "Esc"), ("Remove last vertex while drawing", "Backspace"),
             ("Constrain to 45° / square", "hold Shift"), ("Pan", "middle drag or Space + drag"),
             ("Zoom around the cursor", "mouse wheel"), ("Move selection by 1 / 10 px", "arrows / Shift+arrows"),
             ("Insert a vertex", "drag an edge's midpoint handle"), ("Delete a vertex", "click the vertex, then Del"))


def add_action(win, text, slot, shortcut=None, icon_name=None, checkable=False, tip=None) -> QAction:
    """An action of the window (its keys work wherever the focus is in the window)."""
    a = QAction(icon(icon_name) if icon_name else QAction(text).icon(), text, win)
    keys = shortcut if isinstance(shortcut, list) else [shortcut] if shortcut else []
    if keys:
        a.setShortcuts([QKeySequence(k) for k in keys])
        a.setShortcutContext(Qt.WindowShortcut)
    a.setCheckable(checkable)
    if tip or keys:
        a.setToolTip(f"{tip or text}" + (f"  ({keys[0]})" if keys else ""))
    a.triggered.connect(slot)
    win.addAction(a)
    return a


def build_actions(win) -> None:
    """The window's `act_*` actions (undo and redo come from the canvas's undo stack)."""
    c, md, act = win.canvas, win.model_dock, lambda *a, **k: add_action(win, *a, **k)
    win.act_open = act("&Open Folder…", win.choose_folder, "Ctrl+O", "open")
    win.act_save = act("&Save", win.save, "Ctrl+S", "save")
    win.act_next = act("&Next Image", win.next_image, "D", "next")
    win.act_prev = act("&Previous Image", win.prev_image, "A", "prev")
    win.act_poly = act("Create &Polygon", lambda: win.set_mode("polygon"), "Ctrl+N", "polygon", True)
    win.act_rect = act("Create &Rectangle", lambda: win.set_mode("rectangle"), "Ctrl+R", "rectangle", True)
    win.act_circle = act("Create &Circle", lambda: win.set_mode("circle"), "Ctrl+Shift+C", "circle", True)
    win.act_edit = act("&Edit Shapes", lambda: win.set_mode("edit"), "Ctrl+J", "edit", True)
    win.act_delete = act("&Delete", win.delete_selected, ["Del", "Backspace"], "delete",
                         tip="Delete the selected vertex or shapes")
    win.act_copy = act("&Copy Shapes", win.copy_shapes, "Ctrl+C", "copy")
    win.act_paste = act("&Paste Shapes", win.paste_shapes, "Ctrl+V", "paste")
    win.act_fit = act("&Fit to Window", c.fit, "F", "fit")
    win.act_100 = act("&Actual Size (100 %)", lambda: c.set_zoom(1.0), "Ctrl+0", "zoom-100")
    win.act_zin = act("Zoom &In", lambda: c.set_zoom(c.zoom * 1.25), ["Ctrl++", "Ctrl+="], "zoom-in")
    win.act_zout = act("Zoom &Out", lambda: c.set_zoom(c.zoom / 1.25), "Ctrl+-", "zoom-out")
    win.act_reviewed = act("Mark &Reviewed", lambda: image_flags.toggle_reviewed(win), "Ctrl+Shift+R", "reviewed", True)
    win.act_defect_free = act("Mark Defect-&Free", lambda: image_flags.toggle_defect_free(win), "Ctrl+Shift+F",
                              "defect-free", True)
    win.act_predict = act("&Predict Image", md.predict_current, "Ctrl+P", "model",
                          tip="Predict the defects of this image with the current model")
    win.act_accept = act("&Accept Prediction", md.accept, "Ctrl+Shift+A", "accept",
                         tip="Turn the prediction into editable shapes of the current class")
    win.act_show_prediction = act("&Show Prediction", lambda: md.show_box.setChecked(win.act_show_prediction.isChecked()),
                                  "Ctrl+H", checkable=True)
    win.act_show_prediction.setChecked(True)
    md.show_box.toggled.connect(win.act_show_prediction.setChecked)
    win.act_predict_all = act("Predict A&ll Images", lambda: md.predict_all(),
                              tip="Predict every image of the folder and score the labelled ones")
    win.act_save_predictions = act("Sa&ve All Predictions…", md.save_all,
                                   tip="Predict every image and write its mask, probability map, defects and "
                                       "labelme polygons into a folder")
    win.act_export_report = act("&Export Report…", md.export_report, tip="After Predict All: one CSV row per defect")
    win.act_choose_model = act("&Choose Model…", md.choose_checkpoint)
    win.act_train = act("&Train on Labelled Images", md.start_training, "Ctrl+T", "train",
                        tip="Train a model on every labelled image of this folder")
    win.act_stop_training = act("Stop T&raining", md.stop_training)
    win.act_shortcuts = act("&Keyboard Shortcuts", win.show_shortcuts, "F1", "keyboard")
    win.act_start_over = act("Start &Labels Over", win.start_labels_over,
                             tip="Keep this image's broken labels file aside (.broken) and label anew")
    win.act_start_over.setEnabled(False)
    win.act_quit = act("&Quit", win.close, "Ctrl+Q")
    win.mode_actions = {"polygon": win.act_poly, "rectangle": win.act_rect, "circle": win.act_circle,
                        "edit": win.act_edit}
    win.act_edit.setChecked(True)
    for i in range(9):  # 1-9: pick a class (and relabel the selection)
        act(f"Class {i + 1}", lambda _=False, k=i: win.pick_class(k), str(i + 1))


def _fill(menu_or_bar, actions) -> None:
    for a in actions:
        menu_or_bar.addSeparator() if a is None else menu_or_bar.addAction(a)


def build_menus(win) -> None:
    """The menu bar (its File menu holds `win.recent_menu`) and the toolbar."""
    mb = win.menuBar()
    m = mb.addMenu("&File")
    m.addAction(win.act_open)
    win.recent_menu = m.addMenu("Open &Recent")
    _fill(m, (win.act_save, None, win.act_quit))
    _fill(mb.addMenu("&Edit"), (win.act_undo, win.act_redo, None, win.act_poly, win.act_rect, win.act_circle,
                                win.act_edit, None, win.act_copy, win.act_paste, win.act_delete, None,
                                win.act_defect_free, win.act_reviewed, None, win.act_start_over))
    m = mb.addMenu("&View")
    _fill(m, (win.act_fit, win.act_100, win.act_zin, win.act_zout, None, win.act_prev, win.act_next, None))
    _fill(m, [d.toggleViewAction() for d in (win.images_dock, win.class_dock, win.shape_dock, win.model_dock)])
    _fill(mb.addMenu("&Model"), (win.act_predict, win.act_accept, win.act_show_prediction, None, win.act_predict_all,
                                 win.act_save_predictions, win.act_export_report, None, win.act_choose_model, None,
                                 win.act_train, win.act_stop_training))
    m = mb.addMenu("&Help")
    m.addAction(win.act_shortcuts)
    m.addAction(QAction("&About iunet-gui", win, triggered=win.about))

    tb = win.addToolBar("Main")
    tb.setObjectName("main-toolbar")
    tb.setMovable(False)
    _fill(tb, (win.act_open, win.act_save, None, win.act_prev, win.act_next, None, win.act_edit, win.act_poly,
               win.act_rect, win.act_circle, win.act_delete, None, win.act_undo, win.act_redo, None, win.act_fit,
               win.act_100, win.act_zin, win.act_zout, None, win.act_defect_free, win.act_reviewed, None,
               win.act_predict, win.act_accept, win.act_train))


def shortcuts_dialog(win) -> QDialog:
    """A table of every action's keys and the other keys the canvas takes."""
    actions = (win.act_open, win.act_save, win.act_next, win.act_prev, win.act_poly, win.act_rect, win.act_circle,
               win.act_edit, win.act_delete, win.act_undo, win.act_redo, win.act_copy, win.act_paste, win.act_fit,
               win.act_100, win.act_zin, win.act_zout, win.act_defect_free, win.act_reviewed, win.act_predict,
               win.act_accept, win.act_show_prediction, win.act_train, win.act_shortcuts, win.act_quit)
    qa = getattr(win, "qa", None)  # the review keys (Inspection menu, while the Review panel shows)
    actions += (qa.act_spec, *qa.review_actions) if qa is not None else ()
    rows = [(a.text().replace("&", ""), ", ".join(s.toString(QKeySequence.NativeText) for s in a.shortcuts()))
            for a in actions] + list(MORE_KEYS)
    dlg = QDialog(win)
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
    return dlg
