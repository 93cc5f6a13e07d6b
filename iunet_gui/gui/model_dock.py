"""The Model panel: predict the open image with a trained network (shown over the image with each
defect's length, and compared with the operator's labels), accept a prediction as editable shapes,
and train on the labelled images with one click (live curves, stop at any step).

Torch is imported by the worker threads only (training.*), so the window still opens fast."""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QSpinBox, QVBoxLayout,
                               QWidget)

from iunet_gui.core.annotation import predicted_shapes
from iunet_gui.core.metrics import Evaluator
from iunet_gui.core.project import PREDICTIONS_FOLDER, RUNS_FOLDER
from iunet_gui.gui import commands as cmd
from iunet_gui.gui.jobs import Job
from iunet_gui.gui.theme import RESOURCES, icon

DEFAULT_CHECKPOINT = RESOURCES / "iunet_default.pt"
CACHE_IMAGES = 48  # predictions kept in memory (a 1280x1024 image: ~2.6 MB)
DEFAULT_MINUTES = 15
# The panel's training recipes (training.trainer.RECIPES): key, label, minutes offered, whether it trains a
# network of its own (then it cannot fine-tune the current model), what it is for.
RECIPE_CHOICES = (
    ("washers", "Part photos (washers)", DEFAULT_MINUTES, False,
     "Photos of parts with small defects (scratches, edge cracks, holes, oxidation): the app's defaults, "
     "a small IU-Net, 15 minutes on 2 CPU cores"),
    ("tiles", "Textured tiles (large defects)", 60, True,
     "Small textured images whose defects are often large, low-contrast regions (the magnetic-tile recipe): "
     "a fresh IU-Net of 332,819 parameters, 36 epochs, about 50 minutes on 2 CPU cores "
     "(defect IoU 0.73 on average over seven training seeds, README)"),
)


@dataclass
class ImagePrediction:
    """One image's prediction as the panel keeps it: the probability map (uint8, 0..255) lets the
    threshold change without running the network again."""

    image: Path
    model: Path
    prob: np.ndarray
    mask: np.ndarray
    defects: list
    threshold: float
    ms: float
    mm_per_px: float | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, image: Path, model: Path, res, predictor, mm_per_px: float | None) -> "ImagePrediction":
        """From an inference.predictor Prediction made by `predictor` with `model`."""
        return cls(image, model, np.round(res.prob * 255).astype(np.uint8), res.mask, res.defects,
                   predictor.threshold, res.timing_ms["total"], mm_per_px,
                   [predictor.notice] if predictor.notice else [])


def _fmt_len(d) -> str:
    return f"{d.length_mm:.2f} mm" if d.length_mm is not None else f"{d.length_px:.0f} px"


class ModelDock(QDockWidget):
    """Works on the window it belongs to: its document, canvas, project and error reporting."""

    prediction_shown = Signal(object)  # ImagePrediction now over the image (or None)
    training_finished = Signal(object)  # TrainResult, or a message (str) when the run could not start or failed

    def __init__(self, window):
        super().__init__("Model", window)
        self.setObjectName("model")
        self.win = window
        self.checkpoint: Path | None = DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.exists() else None
        self._predictor = None
        self._predictor_path: Path | None = None
        self.cache: OrderedDict[Path, ImagePrediction] = OrderedDict()
        self.shown: ImagePrediction | None = None
        self.predict_job: Job | None = None
        self.all_job: Job | None = None
        self.train_job: Job | None = None
        self._pending: Path | None = None
        self._last_ui = 0.0
        self._t_train = 0.0
        self._closing = False
        self.plot = None
        self._loss_x: list[float] = []
        self._loss_y: list[float] = []
        self._val_x: list[float] = []
        self._val_y: list[float] = []
        self.last_run: Path | None = None
        self.last_summary: dict | None = None
        self._build()
        self._show_model()

    # -- widgets ---------------------------------------------------------------------------------
    def _build(self) -> None:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.choose_button = QPushButton(icon("open"), "Choose…")
        self.choose_button.setToolTip("Use another trained model (.pt checkpoint or exported .onnx)")
        row.addWidget(self.model_label, 1)
        row.addWidget(self.choose_button)
        lay.addLayout(row)
        form = QFormLayout()
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setSpecialValueText("model's own")  # 0: the threshold stored in the checkpoint
        self.threshold.setToolTip("Probability above which a pixel is a defect (lower finds more, with more "
                                  "false alarms); 'model's own' is the one stored when it was trained")
        form.addRow("Threshold", self.threshold)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.show_box = QCheckBox("Show")
        self.show_box.setChecked(True)
        self.show_box.setToolTip("Show the prediction over the image (Ctrl+H)")
        self.auto_box = QCheckBox("Predict on open")
        self.auto_box.setToolTip("Predict each image as it opens (predictions are kept while the model stays)")
        row.addWidget(self.show_box)
        row.addWidget(self.auto_box, 1)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.predict_button = QPushButton(icon("model"), "Predict")
        self.predict_button.setToolTip("Predict the defects of this image (Ctrl+P)")
        self.accept_button = QPushButton(icon("accept"), "Accept")
        self.accept_button.setToolTip("Turn the prediction into editable shapes of the current class (Ctrl+Shift+A)")
        row.addWidget(self.predict_button)
        row.addWidget(self.accept_button)
        lay.addLayout(row)
        self.all_button = QPushButton("Predict all images")
        self.all_button.setToolTip("Predict every image of the folder in the background and score the model on the "
                                   "labelled ones (as 'iunet-gui evaluate'); click again to stop")
        self.save_all_button = QPushButton(icon("save"), "Save all…")
        self.save_all_button.setToolTip("Predict every image and save, in a folder you choose, its mask (stem.png), "
                                        "probability map (stem_prob.png), measured defects (stem_defects.json) "
                                        "and predicted polygons that labelme opens (stem.json)")
        row = QHBoxLayout()
        row.addWidget(self.all_button, 1)
        row.addWidget(self.save_all_button)
        lay.addLayout(row)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.summary.setVisible(False)  # until a folder is predicted
        lay.addWidget(self.summary)
        self.report_button = QPushButton(icon("save"), "Export report…")
        self.report_button.setToolTip("Save one CSV row per defect: found / false alarm / missed, lengths and errors")
        self.report_button.setVisible(False)
        lay.addWidget(self.report_button)
        self.result = QLabel("No prediction yet: Predict (Ctrl+P) runs the model on this image.")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.result.setObjectName("result")
        lay.addWidget(self.result)

        box = QGroupBox("Train on the labelled images")
        bl = QVBoxLayout(box)
        row = QHBoxLayout()
        self.recipe = QComboBox()
        self.recipe.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)  # long labels: the
        self.recipe.setMinimumContentsLength(10)  # panel keeps its width, the box elides
        for i, (key, label, _, _, tip) in enumerate(RECIPE_CHOICES):
            self.recipe.addItem(label, key)
            self.recipe.setItemData(i, tip, Qt.ToolTipRole)
        self.recipe.setToolTip("Training settings measured together; hover over a choice to see what it is for")
        self.recipe.currentIndexChanged.connect(self._recipe_changed)
        self._finetune_wanted = True
        recipe_label = QLabel("Recipe")
        recipe_label.setBuddy(self.recipe)
        row.addWidget(recipe_label)
        row.addWidget(self.recipe, 1)
        bl.addLayout(row)
        row = QHBoxLayout()
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 24 * 60)
        self.minutes.setValue(DEFAULT_MINUTES)
        self.minutes.setSuffix(" min")
        self.minutes.setToolTip("Training stops cleanly after this time; the learning rate decays to it")
        self.finetune_box = QCheckBox("from this model")
        self.finetune_box.setChecked(True)
        self._finetune_tip = ("Fine-tune the current model on your labels (few labelled images: better "
                              "than starting from scratch); unticked, a fresh IU-Net is trained")
        self.finetune_box.setToolTip(self._finetune_tip)
        row.addWidget(self.minutes)
        row.addWidget(self.finetune_box, 1)
        bl.addLayout(row)
        row = QHBoxLayout()
        self.train_button = QPushButton(icon("train"), "Train")
        self.train_button.setToolTip("Train on every labelled image of this folder (Ctrl+T); the run is saved "
                                     f"in {RUNS_FOLDER}/ and used as the model when it ends")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        row.addWidget(self.train_button)
        row.addWidget(self.stop_button)
        bl.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.train_status = QLabel("")
        self.train_status.setWordWrap(True)
        self.train_status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        bl.addWidget(self.progress)
        bl.addWidget(self.train_status)
        self.plot_holder = QVBoxLayout()
        bl.addLayout(self.plot_holder)
        lay.addWidget(box)
        lay.addStretch(1)
        scroll = QScrollArea()  # a short window scrolls the panel instead of squashing it
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(w)
        self.setWidget(scroll)

        self.choose_button.clicked.connect(self.choose_checkpoint)
        self.predict_button.clicked.connect(self.predict_current)
        self.all_button.clicked.connect(lambda: self.predict_all())
        self.save_all_button.clicked.connect(self.save_all)
        self.report_button.clicked.connect(self.export_report)
        self.accept_button.clicked.connect(self.accept)
        self.train_button.clicked.connect(self.start_training)
        self.stop_button.clicked.connect(self.stop_training)
        self.show_box.toggled.connect(self.win.canvas.show_prediction)
        self.threshold.valueChanged.connect(self._threshold_changed)

    def _show_model(self) -> None:
        if self.checkpoint is None:
            self.model_label.setText("<b>No model</b>: train one, or choose a checkpoint")
        else:
            where = "shipped default" if self.checkpoint == DEFAULT_CHECKPOINT else self.checkpoint.parent.name
            self.model_label.setText(f"<b>{self.checkpoint.name}</b><br><small>{where}</small>")
            self.model_label.setToolTip(str(self.checkpoint))
        self.predict_button.setEnabled(self.checkpoint is not None)
        self.all_button.setEnabled(self.checkpoint is not None or self.all_job is not None)
        self.save_all_button.setEnabled(self.checkpoint is not None and self.all_job is None)

    # -- the model -------------------------------------------------------------------------------
    def choose_checkpoint(self) -> None:
        start = str(self.checkpoint.parent if self.checkpoint else RESOURCES)
        path, _ = QFileDialog.getOpenFileName(self, "Choose a trained model", start,
                                              "Models (*.pt *.onnx);;All files (*)")
        if path:
            self.set_checkpoint(Path(path))

    def set_checkpoint(self, path: Path | None) -> None:
        """Use another model; its predictions replace the old one's (the cache is emptied)."""
        if path is not None and not Path(path).is_file():
            self.win.error("Model not found", f"{path}: no such file. The model in use stays {self.checkpoint}.")
            return
        self.checkpoint = Path(path) if path is not None else None
        self.threshold.setSpecialValueText("model's own")  # its value is known once it has predicted
        self._predictor, self._predictor_path = None, None
        self.cache.clear()
        self._display(None)
        self._show_model()

    def _load_predictor(self):
        """In a worker thread: the Predictor of the current checkpoint (loaded once)."""
        from iunet_gui.inference.predictor import Predictor

        if self._predictor is None or self._predictor_path != self.checkpoint:
            path = self.checkpoint
            self._predictor = Predictor.from_path(path)
            self._predictor_path = path
        return self._predictor

    # -- predicting ------------------------------------------------------------------------------
    def predict_current(self) -> bool:
        """Run the model on the open image in the background; False if it cannot start now."""
        doc = self.win.document
        if doc is None or doc.image is None:
            self.win.statusBar().showMessage("Open an image first", 4000)
            return False
        if self.checkpoint is None:
            self.win.error("No model", "Choose a trained model (Choose…) or train one on your labels first.")
            return False
        if self.predict_job is not None:  # one at a time: this image runs next
            self._pending = doc.image_path
            return True
        image, path, mm, ckpt = doc.image, doc.image_path, doc.mm_per_px(), self.checkpoint

        def work(progress, cancel):
            pred = self._load_predictor()
            return ImagePrediction.of(path, ckpt, pred.predict(image, mm), pred, mm)

        self.predict_job = job = Job(work, self)
        job.succeeded.connect(self._predicted)
        job.failed.connect(self._predict_failed)
        job.finished.connect(self._predict_job_done)
        self.predict_button.setEnabled(False)
        self.result.setText(f"Predicting {path.name}…")
        job.start()
        return True

    def _predicted(self, p: ImagePrediction) -> None:
        if p.model != self.checkpoint:  # the model changed while it ran
            return
        self.threshold.setSpecialValueText(f"model's own ({p.threshold:.2f})")
        self.cache[p.image] = p
        self.cache.move_to_end(p.image)
        while len(self.cache) > CACHE_IMAGES:
            self.cache.popitem(last=False)
        if p.notes:
            self.win.statusBar().showMessage("; ".join(p.notes), 6000)
        doc = self.win.document
        if doc is not None and doc.image_path == p.image:
            self._display(p)

    def _predict_failed(self, message: str) -> None:
        self.result.setText("Prediction failed.")
        more = ""
        if self.auto_box.isChecked():  # not the same message again on every image
            self.auto_box.setChecked(False)
            more = "\n\n'Predict on open' is now off; choose another model and tick it again."
        self.win.error("Prediction failed", f"{self.checkpoint}: {message}{more}")

    def _predict_job_done(self) -> None:
        self.predict_job = None
        self.predict_button.setEnabled(self.checkpoint is not None)
        pending, self._pending = self._pending, None
        doc = self.win.document
        if pending is not None and doc is not None and doc.image_path == pending and pending not in self.cache:
            self.predict_current()

    def ask_predictions_folder(self) -> str:
        """Where "Save all…" writes the predictions (a dialog; tests replace it); '' = cancelled. The dialog
        opens on <project>/iunet_predictions/<run or model name>/, made for it and removed again (when
        still empty) unless it is the folder picked."""
        ckpt = self.checkpoint
        name = ckpt.parent.name if ckpt.parent.parent.name == RUNS_FOLDER else ckpt.stem
        start = Path(self.win.project.folder) / PREDICTIONS_FOLDER / name
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
        from iunet_gui.core.errors import IunetError
        from iunet_gui.app.output import check_output_folder

        win = self.win
        if self.all_job is not None:
            win.statusBar().showMessage("The images are being predicted: wait, or stop it first", 4000)
            return False
        if win.project is None or not win.project.images or self.checkpoint is None:
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
        return self.predict_all(Path(folder))

    def predict_all(self, out: Path | None = None) -> bool:
        """Predict every image of the folder in the background (or stop a run that is going) and score
        the model on the labelled ones; the predictions are kept for stepping through the images and,
        with `out`, written there (mask, probability map, defects JSON and labelme polygons per image)."""
        win = self.win
        if self.all_job is not None:
            self.all_job.cancel()
            return False
        if win.project is None or not win.project.images or self.checkpoint is None:
            win.statusBar().showMessage("Open a folder of images and choose a model first", 4000)
            return False
        if not win.save():  # the labels on disk are what the model is scored on
            return False
        project, images, ckpt = win.project, list(win.project.images), self.checkpoint

        def work(progress, cancel):
            from iunet_gui.core.errors import IunetError
            from iunet_gui.core.progress import ProgressEvent
            from iunet_gui.core.report import report_rows
            from iunet_gui.app.output import output_folder, save_prediction

            pred = self._load_predictor()
            ev = Evaluator(merge_gap_px=pred.merge_gap_px, chain_gap_px=pred.chain_gap_px)
            failures, unscored, unsaved, found, done, rows, saved = [], [], [], 0, 0, [], 0
            for k, path in enumerate(images):
                if cancel.cancelled:
                    break
                mm = project.mm_per_px_for(path)
                try:
                    res = pred.predict_path(path, mm)
                    gt = project.ground_truth_mask(path)
                except IunetError as exc:  # an unreadable image or sidecar: told, the others go on
                    failures.append(f"{path.name}: {exc}")
                    continue
                found += len(res.defects)
                done += 1
                if out is not None:
                    try:
                        target = output_folder(out, path, mirror_root=project.folder)  # class folders kept
                        target.mkdir(parents=True, exist_ok=True)
                        save_prediction(target, path, res, pred, mm, labelme=True)
                        saved += 1
                    except OSError as exc:  # a full disk: told; the prediction is still shown and scored
                        unsaved.append(f"{path.name}: {exc.strerror or exc}")
                if gt is not None and gt.shape != res.mask.shape:
                    unscored.append(f"{path.name}: its mask is {gt.shape[1]}x{gt.shape[0]} px, the image "
                                    f"{res.mask.shape[1]}x{res.mask.shape[0]}: not scored")
                    gt = None
                matched = None
                if gt is not None:  # paired once, for the figures and the report rows
                    matched = ev.match(res.mask, gt, mm)
                    ev.add(path.name, res.mask, gt, mm, matched=matched)
                rows.extend(report_rows(path.name, res.mask, gt, mm, pred.merge_gap_px, pred.chain_gap_px,
                                        res.defects, matched=matched))
                progress(ProgressEvent("predict", step=k + 1, steps=len(images), message=path.name,
                                       result=ImagePrediction.of(path, ckpt, res, pred, mm)))
            return {"images": len(images), "predicted": done, "found": found, "failures": failures,
                    "unscored": unscored, "rows": rows, "summary": ev.summary() if ev.records else None,
                    "cancelled": cancel.cancelled, "out": out, "saved": saved, "unsaved": unsaved}

        self.all_job = job = Job(work, self)
        job.progressed.connect(self._all_progress)
        job.succeeded.connect(self._all_done)
        job.failed.connect(self._predict_failed)
        job.finished.connect(self._all_job_done)
        self.all_button.setText("Stop predicting")
        self.save_all_button.setEnabled(False)
        self.summary.setText(f"Predicting {len(images)} images…" + (f" (saving them in {out})" if out else ""))
        self.summary.setVisible(True)
        job.start()
        return True

    def _all_progress(self, ev) -> None:
        if ev.result is not None:
            self._predicted(ev.result)
        self.summary.setText(f"Predicting: {ev.step} of {ev.steps} images ({ev.message})…")

    def _all_done(self, r: dict) -> None:
        s = r["summary"]
        head = (f"{'Stopped: ' if r['cancelled'] else ''}<b>{r['found']} defect(s)</b> predicted on "
                f"{r['predicted']} of {r['images']} images")
        lines = [head]
        if r["out"] is not None:
            lines.append(f"Saved {r['saved']} in {r['out']}")
        if s:
            unit = s["length_unit"]
            lines.append(f"<b>On the {s['images']} labelled</b>: MIoU {s['miou']:.3f}, defect IoU {s['iou_defect']:.3f}, "
                         f"accuracy {s['accuracy']:.2f}; {s['matched_defects']} of {s['defects_gt']} defects found, "
                         f"{s['unmatched_pred']} false alarm(s)"
                         + (f"; length error mean {s['length_error_mean']:.2f} {unit}, max {s['length_error_max']:.2f} "
                            f"{unit}" if s["length_error_mean"] is not None else ""))
        for what, items in (("Not predicted", r["failures"]), ("Not scored", r["unscored"]), ("Not saved", r["unsaved"])):
            if items:
                lines.append(f"{what}: " + "; ".join(items[:5]) + (" …" if len(items) > 5 else ""))
        self.summary.setText("<br>".join(lines))
        self.last_summary = r
        self.report_button.setVisible(bool(r["rows"]))

    def ask_report_path(self) -> str:
        """Where to save the report (a dialog; tests replace it); '' = cancelled."""
        start = str(Path(self.win.project.folder) / "detections.csv") if self.win.project else "detections.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export the detection report", start, "CSV (*.csv)")
        return path

    def export_report(self) -> bool:
        from iunet_gui.core.report import write_report_csv

        if not self.last_summary or not self.last_summary["rows"]:
            self.win.statusBar().showMessage("Nothing to report yet: Predict all images first", 4000)
            return False
        path = self.ask_report_path()
        if not path:
            return False
        try:
            write_report_csv(path, self.last_summary["rows"])
        except OSError as exc:
            self.win.error("Could not save the report", f"{path}: {exc}")
            return False
        self.win.statusBar().showMessage(f"Saved {len(self.last_summary['rows'])} rows to {path}", 5000)
        return True

    def _all_job_done(self) -> None:
        self.all_job = None
        self.all_button.setText("Predict all images")
        self.all_button.setEnabled(self.checkpoint is not None)
        self.save_all_button.setEnabled(self.checkpoint is not None)

    def image_opened(self) -> None:
        """The window opened another image: show its prediction if there is one, or make it."""
        doc = self.win.document
        p = self.cache.get(doc.image_path) if doc is not None else None
        self._display(p)
        if p is None and doc is not None and self.auto_box.isChecked() and self.checkpoint is not None:
            self.predict_current()

    def _threshold_changed(self) -> None:
        if self.shown is not None:
            self._display(self.shown)

    def current_threshold(self, p: ImagePrediction) -> float:
        return self.threshold.value() if self.threshold.value() > 0 else p.threshold

    def _display(self, p: ImagePrediction | None) -> None:
        self.shown = p
        canvas = self.win.canvas
        if p is None:
            canvas.set_prediction(None)
            self.result.setText("No prediction for this image: Predict (Ctrl+P) runs the model on it."
                                if self.win.document is not None else "")
            self.prediction_shown.emit(None)
            return
        mask, defects = p.mask, p.defects
        thr = self.current_threshold(p)
        if abs(thr - p.threshold) > 1e-9 and self._predictor is not None:
            mask, defects = self._predictor.measure(p.prob > thr * 255, p.mm_per_px)
        self.shown_mask, self.shown_defects = mask, defects
        canvas.set_prediction(mask, defects)
        lines = [f"<b>{len(defects)} defect(s)</b> at threshold {thr:.2f} ({p.ms:.0f} ms)"]
        lines += [f"{k + 1}: {_fmt_len(d)} long, {d.width_mm:.2f} mm wide" if d.width_mm is not None
                  else f"{k + 1}: {_fmt_len(d)} long" for k, d in enumerate(defects[:12])]
        if len(defects) > 12:
            lines.append(f"… and {len(defects) - 12} more")
        lines.append(self._comparison(mask))
        self.result.setText("<br>".join(lines))
        self.prediction_shown.emit(p)

    def _comparison(self, mask: np.ndarray) -> str:
        """The prediction against the operator's own shapes (not the accepted predicted ones)."""
        from iunet_gui.core.geometry import shapes_to_mask

        doc = self.win.document
        ann = doc.annotation if doc is not None else None
        if ann is None:
            return ""
        own = [s for s in ann.shapes if not s.description.startswith("predicted") and not s.is_degenerate]
        if not own and not ann.defect_free:
            return "<i>No labels of yours to compare with.</i>"
        h, w = mask.shape
        gt = shapes_to_mask(own, (h, w))
        pred = self._predictor
        ev = Evaluator(merge_gap_px=pred.merge_gap_px if pred else 0, chain_gap_px=pred.chain_gap_px if pred else None)
        rec = ev.add(doc.image_path.name, mask, gt, doc.mm_per_px())
        text = (f"<b>Against your labels</b>: defect IoU {rec['iou_defect']:.2f}, found {rec['matched']} of "
                f"{rec['defects_gt']}, {rec['unmatched_pred']} false alarm(s)")
        if rec["length_error_mean"] is not None:
            unit = rec["length_unit"]
            text += (f"; length error mean {rec['length_error_mean']:.2f} {unit}, "
                     f"max {rec['length_error_max']:.2f} {unit}")
        return text

    def accept(self) -> int:
        """Add the shown prediction to the image as shapes of the current class (undoable); returns
        how many were added."""
        doc = self.win.document
        if doc is None or self.shown is None or self.shown.image != doc.image_path:
            self.win.statusBar().showMessage("No prediction to accept: Predict (Ctrl+P) first", 4000)
            return 0
        label = self.win.class_dock.current() or "defect"
        shapes = predicted_shapes(self.shown_mask, label, self.shown.model.name,
                                  min_area=self._predictor.min_area_px if self._predictor else 4)
        if not shapes:
            self.win.statusBar().showMessage("The model found no defect here; if that is right, mark the image "
                                             "defect-free (Ctrl+Shift+F)", 6000)
            return 0
        self.win.canvas.undo_stack.push(cmd.AddShapes(self.win.canvas, shapes,
                                                      f"Accept {len(shapes)} predicted shape(s)"))
        self.win.canvas.set_prediction(None)  # the shapes show it now; Predict shows it again
        self.shown = None
        self.result.setText(f"Accepted {len(shapes)} shape(s) as <b>{label}</b>: edit them as your own; Ctrl+Z "
                            f"takes them back. Mark the image reviewed (Ctrl+Shift+R) when it is right.")
        return len(shapes)

    # -- training --------------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self.train_job is not None

    def start_training(self) -> bool:
        """One click: save the open image, then train on every labelled image of the folder."""
        win = self.win
        if self.train_job is not None:
            return False
        if win.project is None:
            win.error("Nothing to train on", "Open a folder of labelled images first.")
            return False
        if not win.save():
            return False
        from iunet_gui.training.trainer import recipe_config  # no torch: train() imports it

        folder = Path(win.project.folder)
        out = stamp = folder / RUNS_FOLDER / time.strftime("%Y%m%d-%H%M%S")
        k = 1
        while out.exists():  # two runs within a second: never train into another run's folder
            k += 1
            out = stamp.with_name(f"{stamp.name}-{k}")
        init = None
        if self.finetune_box.isChecked() and self.checkpoint is not None and self.checkpoint.suffix == ".pt":
            init = str(self.checkpoint)
        cfg = recipe_config(self.recipe.currentData(), data=str(folder), out=str(out),
                            time_limit_min=float(self.minutes.value()), init=init)
        cfg = self.adjust_config(cfg)

        def work(progress, cancel):
            from dataclasses import replace

            from iunet_gui.training.trainer import train

            run_cfg = cfg
            if cfg.init:  # fine-tune at the input scale the model learned at (the panel has no scale setting)
                from iunet_gui.models.checkpoint import load_checkpoint

                scale = load_checkpoint(cfg.init).meta.get("input_scale")
                run_cfg = replace(cfg, scale=float(scale or cfg.scale))
            return train(run_cfg, progress=progress, cancel=cancel)

        self.train_job = job = Job(work, self)
        job.progressed.connect(self._train_event)
        job.succeeded.connect(self._trained)
        job.failed.connect(self._train_failed)
        job.finished.connect(self._train_job_done)
        self._loss_x, self._loss_y, self._val_x, self._val_y = [], [], [], []
        self._ensure_plot()
        self._update_plot()
        self.last_run = out
        self._t_train = time.monotonic()
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.progress.setValue(0)
        self.train_status.setText("Loading the labelled images…" + (f" (starting from {self.checkpoint.name})"
                                                                     if init else ""))
        job.start()
        return True

    def _recipe_changed(self, index: int) -> None:
        """A recipe brings its own time budget; one that trains a network of its own cannot fine-tune this one."""
        _, _, minutes, fresh, _ = RECIPE_CHOICES[index]
        self.minutes.setValue(minutes)
        if fresh and self.finetune_box.isEnabled():
            self._finetune_wanted = self.finetune_box.isChecked()
        self.finetune_box.setEnabled(not fresh)
        self.finetune_box.setChecked(False if fresh else self._finetune_wanted)
        self.finetune_box.setToolTip(self._finetune_tip if not fresh else
                                     "This recipe trains a fresh network of its own size, not the current model")

    def adjust_config(self, cfg):
        """Hook for tests (tiny runs) and callers that set more than the panel shows."""
        return cfg

    def stop_training(self) -> None:
        if self.train_job is not None:
            self.train_job.cancel()
            self.stop_button.setEnabled(False)
            self.train_status.setText("Stopping at the next step; the last good checkpoint is kept…")

    def _train_event(self, ev) -> None:
        if ev.stage == "train":
            if ev.steps:
                self._loss_x.append(ev.epoch - 1 + ev.step / ev.steps)
                self._loss_y.append(ev.loss)
            now = time.monotonic()
            if now - self._last_ui < 0.25:
                return
            self._last_ui = now
            if ev.eta_s is not None and ev.steps:
                # share of the run done: the time limit or the epochs, whichever ends it first
                done = self._elapsed_share(ev)
                self.progress.setValue(int(1000 * done))
            left = f" · {ev.eta_s / 60:.0f} min left" if ev.eta_s is not None and ev.eta_s >= 60 else (
                f" · {ev.eta_s:.0f} s left" if ev.eta_s is not None else "")
            val = f" · validation MIoU {self._val_y[-1]:.3f}" if self._val_y else ""
            self.train_status.setText(f"Epoch {ev.epoch} · loss {ev.loss:.3f} · {ev.images_per_s or 0:.1f} images/s"
                                      f"{val}{left}")
            self._update_plot()
        elif ev.stage == "epoch":
            if "val_miou" in ev.metrics:
                self._val_x.append(float(ev.epoch))
                self._val_y.append(float(ev.metrics["val_miou"]))
            self._update_plot()
        elif ev.stage == "validate":
            self.train_status.setText(f"Epoch {ev.epoch}: validating…")
        elif ev.stage in ("notice", "load") and ev.message:
            self.win.statusBar().showMessage(ev.message, 8000)

    def _elapsed_share(self, ev) -> float:
        elapsed = time.monotonic() - self._t_train
        return min(max(elapsed / max(elapsed + ev.eta_s, 1e-9), 0.0), 1.0)

    def _trained(self, result) -> None:
        best = result.best_checkpoint
        val = "" if result.best_val_miou is None else f"; validation MIoU of the model {result.best_val_miou:.3f}"
        if result.status == "cancelled" and result.epochs_done < 1:
            self.train_status.setText(f"Stopped before the first epoch ended: the model in use is unchanged "
                                      f"({result.run_dir} keeps what was saved).")
        elif result.status in ("done", "time_limit", "cancelled") and best is not None:
            self.set_checkpoint(Path(best))
            how = "Stopped" if result.status == "cancelled" else "Trained"
            self.train_status.setText(f"{how}: {result.message}{val}. Now using {Path(best).parent.name}/"
                                      f"{Path(best).name}.")
            self.progress.setValue(1000)
            if self.win.document is not None and not self._closing:
                self.predict_current()
        else:
            self.train_status.setText(f"Training ended ({result.status}): {result.message}")
            if result.status not in ("cancelled",):
                self.win.error("Training failed", f"{result.message}\n\nThe run folder {result.run_dir} keeps what "
                                                  f"was saved; the model in use is unchanged.")
        self.training_finished.emit(result)

    def _train_failed(self, message: str) -> None:
        self.train_status.setText(f"Training did not run: {message}")
        self.win.error("Training failed", message)
        self.training_finished.emit(message)

    def _train_job_done(self) -> None:
        self.train_job = None
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _ensure_plot(self) -> None:
        if self.plot is not None:
            return
        import pyqtgraph as pg  # imported on first training only: the window opens faster

        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(130)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "epoch")
        self.plot.addLegend(offset=(-5, 5))
        self.loss_curve = self.plot.plot([], [], pen=pg.mkPen("#1e88e5", width=1.5), name="training loss")
        self.val_curve = self.plot.plot([], [], pen=pg.mkPen("#e53935", width=2), symbol="o", symbolSize=6,
                                        symbolBrush="#e53935", name="validation MIoU")
        self.plot_holder.addWidget(self.plot)

    def _update_plot(self) -> None:
        if self.plot is None:
            return
        x, y = self._loss_x, self._loss_y
        if len(x) > 600:  # keep the curve light: at most ~600 points
            step = len(x) // 600 + 1
            x, y = x[::step], y[::step]
        self.loss_curve.setData(x, y)
        self.val_curve.setData(self._val_x, self._val_y)

    # -- closing ---------------------------------------------------------------------------------
    def busy(self) -> bool:
        return any(j is not None for j in (self.train_job, self.predict_job, self.all_job))

    def shut_down(self, timeout_ms: int = 60000) -> None:
        """Stop what runs (training keeps its last good checkpoint) and wait for the threads."""
        self._closing = True
        jobs = (self.train_job, self.predict_job, self.all_job)
        for job in jobs:
            if job is not None:
                job.cancel()
        for job in jobs:
            if job is not None:
                job.wait(timeout_ms)
