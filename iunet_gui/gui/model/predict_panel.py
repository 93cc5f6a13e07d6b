"""The predicting half of the Model panel: the model in use, the threshold, Predict / Accept, the
folder's Predict all / Save all / Export report, and a fixed-height results box (the buttons never
move as the messages grow)."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from iunet_gui.core.project import predictions_folder
from iunet_gui.gui.model.controller import ModelController
from iunet_gui.gui.model.results import FolderResult
from iunet_gui.gui.model.wheel_guard import wheel_when_focused
from iunet_gui.gui.theme import icon
from iunet_gui.resources import DEFAULT_CHECKPOINT, RESOURCES

LISTED = 5  # problems named one by one (the others counted)


def _fmt_len(d) -> str:
    return f"{d.length_mm:.2f} mm" if d.length_mm is not None else f"{d.length_px:.0f} px"


class ThresholdBox(QDoubleSpinBox):
    """0 is "model's own (t)"; the arrows step from t itself (down to t - step, up to t + step)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRange(0.0, 0.99)
        self.setSingleStep(0.05)
        self.setDecimals(2)
        self.model_threshold: float | None = None
        self.set_model_threshold(0.0)  # the widest text sizes the box
        self.setMinimumWidth(self.sizeHint().width())
        self.set_model_threshold(None)

    def set_model_threshold(self, t: float | None) -> None:
        self.model_threshold = t
        self.setSpecialValueText("model's own" if t is None else f"model's own ({t:.2f})")

    def stepEnabled(self):
        if self.value() == self.minimum():
            return QAbstractSpinBox.StepUpEnabled | QAbstractSpinBox.StepDownEnabled
        return super().stepEnabled()

    def stepBy(self, steps: int) -> None:
        if self.value() != self.minimum():
            super().stepBy(steps)
            return
        base = self.model_threshold if self.model_threshold is not None else 0.5
        self.setValue(min(max(round(base + steps * self.singleStep(), 2), self.singleStep()), self.maximum()))


def _problems(what: str, items: list[str]) -> str:
    """A compact list: the count, then the first few names with their reasons cut to one line."""
    shown = "".join(f"<br>&nbsp;• {html.escape(i if len(i) <= 90 else i[:88] + '…')}" for i in items[:LISTED])
    more = f"<br>&nbsp;… and {len(items) - LISTED} more" if len(items) > LISTED else ""
    return f"<b>{what} ({len(items)})</b>:{shown}{more}"


def _share(found: int, labelled: int) -> str:
    return f"{found} of {labelled}" + (f" ({100 * found / labelled:.0f} %)" if labelled else "")


def defect_text(s: dict) -> str:
    """The defect-level figures of a summary (core.metrics.Evaluator): labelled defects found, plainly
    visible and faint apart, per kind, and the false alarms per image."""
    text = f"<b>Labelled defects found</b>: {_share(s['defects_found'], s['defects_labelled'])}"
    if s["defects_visible"] or s["defects_faint"]:
        text += (f"; plainly visible {_share(s['found_visible'], s['defects_visible'])} (bright "
                 f"{s['found_visible_bright']} of {s['defects_visible_bright']}, dark {s['found_visible_dark']} of "
                 f"{s['defects_visible_dark']}), faint {_share(s['found_faint'], s['defects_faint'])}")
    kinds = s.get("defect_kinds") or {}
    if kinds:
        text += "; " + ", ".join(f"{html.escape(k)} {v['found']} of {v['labelled']}" for k, v in kinds.items())
    return text + f"<br>{s['false_alarms']} false alarm(s), {s['false_alarms_per_image']:.2f} per image"


def kind_text(s: dict) -> str:
    """A multi-class model's figures per kind (core.kinds) on the labelled images: IoU, labelled defects
    found, false alarms and length error per kind, and the matched defects predicted as another kind
    (the cells of the confusion matrix of kinds off its diagonal)."""
    acc, unit = s["kind_accuracy"], s.get("length_unit") or "px"
    parts = [f"{html.escape(k)} IoU {'-' if v['iou'] is None else format(v['iou'], '.2f')}, found {v['found']} of "
             f"{v['labelled']}, {v['false_alarms']} false alarm(s)"
             + ("" if v.get("length_error_mean") is None else f", length error {v['length_error_mean']:.2f} {unit}")
             for k, v in s["kinds"].items()]
    labels, matrix = s["kind_confusion"]["labels"], s["kind_confusion"]["matrix"]
    mixed = [f"{html.escape(labels[i])} as {html.escape(labels[j])} {matrix[i][j]}"
             for i in range(1, len(labels)) for j in range(1, len(labels)) if i != j and matrix[i][j]]
    text = (f"<b>Per kind</b> (MIoU {s['kind_miou']:.3f}; matched defects of the right kind "
            f"{'-' if acc is None else f'{100 * acc:.0f} %'}): " + "; ".join(parts))
    return text + (f"<br><b>Kinds mixed up</b> (labelled as predicted): {', '.join(mixed)}" if mixed else "")


def _kind(d) -> str:
    """"scratch (0.93), " of a multi-class model's defect (its kind and confidence), else ""."""
    if d.label is None:
        return ""
    return html.escape(d.label) + (f" ({d.confidence:.2f})" if d.confidence is not None else "") + ", "


def folder_text(result: FolderResult) -> str:
    r = result.run
    lines = [f"{'Stopped: ' if r.cancelled else ''}<b>{r.found} defect(s)</b> predicted on {r.predicted} of "
             f"{r.images} images at threshold {result.threshold:.2f}"]
    if r.out is not None:
        lines.append(f"Saved {r.saved} in {html.escape(str(r.out))}")
    s = r.summary
    if s:
        unit = s["length_unit"]
        lines.append(f"<b>On the {s['images']} labelled</b>: MIoU {s['miou']:.3f}, defect IoU {s['iou_defect']:.3f}, "
                     f"accuracy {s['accuracy']:.2f}"
                     + (f"; length error mean {s['length_error_mean']:.2f} {unit}, max {s['length_error_max']:.2f} "
                        f"{unit}" if s["length_error_mean"] is not None else ""))
        lines.append(defect_text(s))
        if s.get("kinds"):
            lines.append(kind_text(s))
    for what, items in (("Not predicted", r.failures), ("Not scored", r.unscored), ("Not saved", r.unsaved)):
        if items:
            lines.append(_problems(what, items))
    return "<br>".join(lines)


class PredictPanel(QWidget):
    def __init__(self, models: ModelController, window):
        super().__init__()
        self.models, self.win = models, window
        self._build()
        self._connect()
        self.show_model()

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.model_label = QLabel()
        self.model_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.model_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # a long name is cut, not widening
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setToolTip("Use another trained model (.pt checkpoint or exported .onnx)")
        self.threshold = ThresholdBox()
        wheel_when_focused(self, self.threshold)
        self.threshold.setToolTip("Probability above which a pixel is a defect (lower finds more, with more false "
                                  "alarms); 'model's own' is the one stored when it was trained, and the arrows "
                                  "step from it")
        label = QLabel("Threshold")
        label.setBuddy(self.threshold)
        self.show_box = QCheckBox("Show")
        self.show_box.setChecked(True)
        self.show_box.setToolTip("Show the prediction over the image (Ctrl+H)")
        self.auto_box = QCheckBox("On open")
        self.auto_box.setToolTip("Predict each image as it opens (predictions are kept while the model stays)")
        self.predict_button = QPushButton(icon("model"), "Predict")
        self.predict_button.setToolTip("Predict the defects of this image (Ctrl+P)")
        self.accept_button = QPushButton(icon("accept"), "Accept")
        self.accept_button.setToolTip("Turn the prediction into editable shapes of the current class (Ctrl+Shift+A)")
        self.all_button = QPushButton("Predict all")
        self.all_button.setToolTip("Predict every image of the folder in the background and score the model on the "
                                   "labelled ones (as 'iunet-gui evaluate'); click again to stop")
        self.save_all_button = QPushButton("Save all…")
        self.save_all_button.setToolTip("Predict every image and save, in a folder you choose, its mask (stem.png), "
                                        "probability map (stem_prob.png), measured defects (stem_defects.json) "
                                        "and predicted polygons that labelme opens (stem.json)")
        self.report_button = QPushButton("Report…")
        self.report_button.setToolTip("After Predict all: save one CSV row per defect (found / false alarm / missed, "
                                      "lengths and errors), each naming the model, threshold, folder and time")
        self.report_button.setEnabled(False)
        rows = ((self.model_label, self.choose_button), (label, self.threshold, self.show_box),
                (self.predict_button, self.accept_button, self.auto_box),
                (self.all_button, self.save_all_button, self.report_button))
        for widgets in rows:
            row = QHBoxLayout()
            for w in widgets:
                row.addWidget(w, 1 if w in (self.model_label, self.threshold) else 0)
            lay.addLayout(row)
        self.results = self._results_box()  # the dock places it

    def _results_box(self) -> QScrollArea:
        inner = QWidget()
        box = QVBoxLayout(inner)
        box.setContentsMargins(2, 2, 2, 2)
        self.summary = QLabel("")
        self.result = QLabel("No prediction yet: Predict (Ctrl+P) runs the model on this image.")
        self.result.setObjectName("result")
        for w in (self.summary, self.result):
            w.setWordWrap(True)
            w.setTextInteractionFlags(Qt.TextSelectableByMouse)
            box.addWidget(w)
        self.summary.setVisible(False)  # until a folder is predicted
        box.addStretch(1)
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        area.setFrameShape(QScrollArea.NoFrame)
        area.setWidget(inner)
        return area

    def _connect(self) -> None:
        m = self.models
        self.choose_button.clicked.connect(self.choose_checkpoint)
        self.predict_button.clicked.connect(m.predict_current)
        self.accept_button.clicked.connect(m.accept)
        self.all_button.clicked.connect(self.predict_all)
        self.save_all_button.clicked.connect(self.save_all)
        self.report_button.clicked.connect(self.export_report)
        self.show_box.toggled.connect(self.win.canvas.show_prediction)
        self.threshold.valueChanged.connect(m.set_threshold)
        m.model_changed.connect(self.show_model)
        m.prediction_shown.connect(self.show_prediction)
        m.predicting.connect(lambda name: self.result.setText(f"Predicting {name}…"))
        m.failed.connect(self._failed)
        m.accepted.connect(self._accepted)
        m.folder_progress.connect(self._folder_progress)
        m.folder_changed.connect(self.show_folder)
        m.jobs_changed.connect(self.show_model)

    # -- the model ---------------------------------------------------------------------------------
    def show_model(self) -> None:
        m = self.models
        ckpt = m.checkpoint
        if ckpt is None:
            self.model_label.setText("<b>No model</b>: train one, or choose one")
        else:
            where = "shipped default" if ckpt == DEFAULT_CHECKPOINT else ckpt.parent.name
            self.model_label.setText(f"<b>{html.escape(ckpt.name)}</b> <small>{html.escape(where)}</small>")
            self.model_label.setToolTip(str(ckpt))
        self.threshold.set_model_threshold(m.model_threshold)
        folder_running = m.all_job is not None
        self.predict_button.setEnabled(ckpt is not None and m.predict_job is None)
        self.all_button.setText("Stop" if folder_running else "Predict all")
        self.all_button.setEnabled(ckpt is not None or folder_running)
        self.save_all_button.setEnabled(ckpt is not None and not folder_running)
        self.report_button.setEnabled(m.folder_result is not None and bool(m.folder_result.run.rows))

    def choose_checkpoint(self) -> None:
        ckpt = self.models.checkpoint
        start = str(ckpt.parent if ckpt else RESOURCES)
        path, _ = QFileDialog.getOpenFileName(self, "Choose a trained model", start, "Models (*.pt *.onnx);;All files (*)")
        if path:
            self.models.set_checkpoint(Path(path))

    # -- one image ---------------------------------------------------------------------------------
    def show_prediction(self, p) -> None:
        m = self.models
        if p is None:
            self.result.setText("No prediction for this image: Predict (Ctrl+P) runs the model on it."
                                if self.win.document is not None else "")
            return
        defects = m.shown_defects
        lines = [f"<b>{len(defects)} defect(s)</b> at threshold {m.current_threshold(p):.2f} ({p.ms:.0f} ms)"]
        lines += [f"{k + 1}: {_kind(d)}{_fmt_len(d)} long, {d.width_mm:.2f} mm wide" if d.width_mm is not None
                  else f"{k + 1}: {_kind(d)}{_fmt_len(d)} long" for k, d in enumerate(defects[:12])]
        if len(defects) > 12:
            lines.append(f"… and {len(defects) - 12} more")
        lines.append(self._comparison_text(m.comparison()))
        self.result.setText("<br>".join(lines))

    @staticmethod
    def _comparison_text(rec: dict | None) -> str:
        if rec is None:
            return ""
        if not rec:
            return "<i>No labels of yours to compare with.</i>"
        text = (f"<b>Against your labels</b>: defect IoU {rec['iou_defect']:.2f}, found {rec['defects_found']} of "
                f"{rec['defects_labelled']}"
                + (f" (plainly visible {rec['found_visible']} of {rec['defects_visible']})" if rec["defects_visible"]
                   else "") + f", {rec['false_alarms']} false alarm(s)")
        if rec["length_error_mean"] is not None:
            unit = rec["length_unit"]
            text += f"; length error mean {rec['length_error_mean']:.2f} {unit}, max {rec['length_error_max']:.2f} {unit}"
        return text

    def _accepted(self, count: int, label: str) -> None:
        self.result.setText(f"Accepted {count} shape(s) as <b>{html.escape(label)}</b>: edit them as your own; "
                            f"Ctrl+Z takes them back. Mark the image reviewed (Ctrl+Shift+R) when it is right.")

    def _failed(self, message: str) -> None:
        self.result.setText("Prediction failed.")
        more = ""
        if self.auto_box.isChecked():  # not the same message again on every image
            self.auto_box.setChecked(False)
            more = "\n\n'Predict on open' is now off; choose another model and tick it again."
        self.win.error("Prediction failed", message + more)

    # -- the folder --------------------------------------------------------------------------------
    def predict_all(self) -> bool:
        """Predict the folder, or stop the run that goes."""
        if self.models.all_job is not None:
            self.models.stop_all()
            return False
        return self.models.predict_all()

    def _folder_progress(self, done: int, total: int, name: str) -> None:
        self.summary.setVisible(True)
        self.summary.setText(f"Predicting: {done} of {total} images ({name})…" if name else
                             f"Predicting {total} images…")

    def show_folder(self, r: FolderResult | None) -> None:
        self.summary.setVisible(r is not None)
        self.summary.setText(folder_text(r) if r is not None else "")
        self.summary.setToolTip("\n".join(r.run.failures + r.run.unscored + r.run.unsaved) if r is not None else "")
        self.show_model()

    def ask_predictions_folder(self) -> str:
        """Where Save all writes the predictions (a dialog; tests replace it); '' = cancelled. The dialog
        opens on <project>/iunet_predictions/<run or model name>/, made for it and removed again (when
        still empty) unless it is the folder picked."""
        start = predictions_folder(self.win.project.folder, self.models.checkpoint)
        made = not start.exists()
        try:
            start.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only project: start from the project itself
            start, made = Path(self.win.project.folder), False
        path = QFileDialog.getExistingDirectory(self, "Save the predictions in", str(start))
        if made and (not path or Path(path).resolve() != start.resolve()):
            for folder in (start, start.parent):
                try:
                    folder.rmdir()  # only when empty
                except OSError:
                    break
        return path

    def save_all(self) -> bool:
        """Predict every image and write each one's files into a folder the user picks (as
        `iunet-gui predict --labelme`); the folder of the images themselves is refused."""
        from iunet_gui.app.output import check_output_folder
        from iunet_gui.core.errors import IunetError

        win, m = self.win, self.models
        if m.all_job is not None:
            win.statusBar().showMessage("The images are being predicted: wait, or stop it first", 4000)
            return False
        if win.project is None or not win.project.images or m.checkpoint is None:
            win.statusBar().showMessage("Open a folder of images and choose a model first", 4000)
            return False
        folder = self.ask_predictions_folder()
        if not folder:
            return False
        try:
            check_output_folder(folder, win.project.images, mirror_root=win.project.folder)
            Path(folder).mkdir(parents=True, exist_ok=True)
        except (IunetError, OSError) as exc:
            win.error("Cannot save the predictions there", str(exc))
            return False
        return m.predict_all(Path(folder))

    def ask_report_path(self) -> str:
        """Where to save the report (a dialog; tests replace it); '' = cancelled."""
        start = str(Path(self.win.project.folder) / "detections.csv") if self.win.project else "detections.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export the detection report", start, "CSV (*.csv)")
        return path

    def export_report(self) -> bool:
        r = self.models.folder_result
        if r is None or not r.run.rows:
            self.win.statusBar().showMessage("Nothing to report yet: Predict all images first", 4000)
            return False
        path = self.ask_report_path()
        if not path:
            return False
        try:
            rows = self.models.export_report(path)
        except OSError as exc:
            self.win.error("Could not save the report", f"{path}: {exc}")
            return False
        self.win.statusBar().showMessage(f"Saved {rows} rows to {path}", 5000)
        return True
