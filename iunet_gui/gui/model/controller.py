"""The model controller: which model is in use, its predictions of the folder's images (a cache), the
one on show, folder runs and their report. Every field lives on the GUI thread: workers get what they
need as arguments and hand their results back through queued signals.

Results never outlive what made them: choosing another model, changing the threshold or opening
another folder clears the folder's results (and the report with them)."""
from __future__ import annotations

import copy
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from shiboken6 import isValid

from iunet_gui.core.annotation import predicted_shapes
from iunet_gui.core.metrics import Evaluator
from iunet_gui.gui.jobs import Job
from iunet_gui.gui.model.accepts import Accepted, AcceptTracker
from iunet_gui.gui.model.results import FolderResult, ImagePrediction
from iunet_gui.resources import DEFAULT_CHECKPOINT

CACHE_IMAGES = 48  # predictions kept in memory (a 1280x1024 image: ~2.6 MB)


def load_predictor(checkpoint: Path, loaded: tuple):
    """In a worker: the loaded (checkpoint, Predictor) when it is this checkpoint's, else the
    checkpoint's Predictor, loaded now."""
    from iunet_gui.inference.predictor import Predictor

    path, predictor = loaded
    return predictor if predictor is not None and path == checkpoint else Predictor.from_path(checkpoint)


class ModelController(QObject):
    """Works for the window it is given: its document, canvas, project, saving and error reporting."""

    model_changed = Signal()  # another model, or the model's own threshold became known
    prediction_shown = Signal(object)  # the ImagePrediction now over the image, or None
    failed = Signal(str)  # a prediction could not be made (the message for the user)
    predicting = Signal(str)  # the image now being predicted
    accepted = Signal(int, str)  # shapes added from the prediction, their class
    folder_progress = Signal(int, int, str)  # images done, images, the last one's name
    folder_changed = Signal(object)  # the FolderResult on show, or None once cleared
    jobs_changed = Signal()  # a job started or ended

    def __init__(self, window):
        super().__init__(window)
        self.win = window
        self.checkpoint: Path | None = DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.exists() else None
        self.threshold_setting = 0.0  # 0: the model's own threshold
        self.model_threshold: float | None = None  # known once the model is loaded
        self.predictor = None
        self.predictor_path: Path | None = None  # the checkpoint `predictor` was loaded from
        self.cache: OrderedDict[Path, ImagePrediction] = OrderedDict()
        self.shown: ImagePrediction | None = None
        self.shown_mask: np.ndarray | None = None
        self.shown_kinds: np.ndarray | None = None  # a multi-class model's class map on show: each defect's kind
        self.shown_defects: list = []
        self.predict_job: Job | None = None
        self.all_job: Job | None = None
        self.folder_result: FolderResult | None = None
        self.closing = False
        self._pending: Path | None = None
        self._project = None  # the project the cache and folder results belong to
        self._run = 0  # folder results of an older run number are out of date
        self.accepts = AcceptTracker(self._open_image, self)
        self.accepts.undone.connect(self._accept_undone)
        self.accepts.redone.connect(self._accept_redone)

    # -- the model ---------------------------------------------------------------------------------
    def set_checkpoint(self, path: Path | None) -> bool:
        """Use another model: its predictions replace the old one's (cache and folder results cleared)."""
        if path is not None and not Path(path).is_file():
            self.win.error("Model not found", f"{path}: no such file. The model in use stays {self.checkpoint}.")
            return False
        self.checkpoint = Path(path) if path is not None else None
        self.predictor, self.predictor_path, self.model_threshold = None, None, None
        self.cache.clear()
        self.clear_results()
        self._display(None)
        self.model_changed.emit()
        return True

    def set_threshold(self, value: float) -> None:
        """0 is the model's own. The image on show is cut again at once; folder results are cleared."""
        if abs(value - self.threshold_setting) < 1e-9:
            return
        self.threshold_setting = value
        self.clear_results()
        if self.shown is not None:
            self._display(self.shown)

    def current_threshold(self, p: ImagePrediction | None = None) -> float:
        if self.threshold_setting > 0:
            return self.threshold_setting
        if self.model_threshold is not None:
            return self.model_threshold
        return p.threshold if p is not None else 0.5

    def _adopt(self, checkpoint: Path, predictor) -> None:
        """A worker's loaded predictor, kept when it is still the current model's."""
        if checkpoint != self.checkpoint:
            return
        known = self.model_threshold
        self.predictor, self.predictor_path, self.model_threshold = predictor, checkpoint, predictor.threshold
        if known != predictor.threshold:
            self.model_changed.emit()

    # -- one image ---------------------------------------------------------------------------------
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
        loaded = (self.predictor_path, self.predictor)

        def work(progress, cancel):
            pred = load_predictor(ckpt, loaded)
            return ckpt, pred, ImagePrediction.of(path, ckpt, pred.predict(image, mm), pred, mm)

        self.predict_job = job = Job(work, self)
        job.succeeded.connect(self._predicted)
        job.failed.connect(self._predict_failed)
        job.finished.connect(self._predict_job_done)
        self.predicting.emit(path.name)
        job.start()
        self.jobs_changed.emit()
        return True

    def _predicted(self, out) -> None:
        ckpt, predictor, p = out
        self._adopt(ckpt, predictor)
        self._keep(p)

    def _keep(self, p: ImagePrediction) -> None:
        if p.model != self.checkpoint:  # the model changed while it ran
            return
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
        self.failed.emit(f"{self.checkpoint}: {message}")

    def _predict_job_done(self) -> None:
        self.predict_job = None
        self.jobs_changed.emit()
        pending, self._pending = self._pending, None
        doc = self.win.document
        if pending is not None and doc is not None and doc.image_path == pending and pending not in self.cache:
            self.predict_current()

    def image_opened(self, auto_predict: bool) -> None:
        """The window opened another image (or folder): show its prediction if there is one, or make it;
        not when the image holds it as accepted shapes."""
        if self.win.project is not self._project:  # another folder: nothing of the last one stays
            self._project = self.win.project
            self.cache.clear()
            self.accepts.clear()
            self.clear_results()
        doc = self.win.document
        accepted = self.accepts.standing(doc.image_path) if doc is not None else None
        if accepted is not None:
            self._display(None)
            self.accepted.emit(accepted.count, accepted.label)
            return
        p = self.cache.get(doc.image_path) if doc is not None else None
        self._display(p)
        if p is None and doc is not None and auto_predict and self.checkpoint is not None:
            self.predict_current()

    def _open_image(self) -> Path | None:
        doc = self.win.document
        return doc.image_path if doc is not None else None

    def _display(self, p: ImagePrediction | None) -> None:
        self.shown = p
        if p is None:
            self.shown_mask, self.shown_defects, self.shown_kinds = None, [], None
            self.win.canvas.set_prediction(None)
            self.prediction_shown.emit(None)
            return
        mask, defects, kinds = p.mask, p.defects, p.kinds
        thr = self.current_threshold(p)
        if abs(thr - p.threshold) > 1e-9 and self.predictor is not None:
            mask, defects, kinds = self.predictor.measure(p.prob > thr * 255, p.mm_per_px, p.kind_prob)
        self.shown_mask, self.shown_defects, self.shown_kinds = mask, defects, kinds
        self.win.canvas.set_prediction(mask, defects, class_map=kinds, classes=p.classes, colors=p.colors)
        self.prediction_shown.emit(p)

    def comparison(self) -> dict | None:
        """The prediction on show against the operator's own shapes (not accepted predicted ones), each
        labelled defect judged on the photo and by its kind: an Evaluator record, {} when the image has
        none of theirs, None with no image."""
        from iunet_gui.core.detection import shape_kinds
        from iunet_gui.core.geometry import shapes_to_mask

        doc = self.win.document
        ann = doc.annotation if doc is not None else None
        if ann is None or self.shown_mask is None:
            return None
        own = [s for s in ann.shapes if not s.description.startswith("predicted") and not s.is_degenerate]
        if not own and not ann.defect_free:
            return {}
        gt = shapes_to_mask(own, self.shown_mask.shape)
        pred = self.predictor
        ev = Evaluator(merge_gap_px=pred.merge_gap_px if pred else 0, chain_gap_px=pred.chain_gap_px if pred else None)
        image = doc.image if doc.image is not None and doc.image.shape[:2] == gt.shape else None
        return ev.add(doc.image_path.name, self.shown_mask, gt, doc.mm_per_px(), image=image,
                      kinds=shape_kinds(own, gt.shape) if own else None)

    # -- accepting a prediction ------------------------------------------------------------------
    def accept(self) -> int:
        """Add the shown prediction to the image as shapes of the current class (a multi-class model's:
        of the kind it predicted for each; undoable, left
        unselected so that the next class key picks a class and does not relabel them); returns how
        many were added. Undoing it shows the prediction again."""
        doc = self.win.document
        if doc is None or self.shown is None or self.shown.image != doc.image_path:
            self.win.statusBar().showMessage("No prediction to accept: Predict (Ctrl+P) first", 4000)
            return 0
        label = self.win.class_dock.current() or "defect"
        min_area = self.predictor.min_area_px if self.predictor else 4
        kinds = self.shown_kinds
        if kinds is None:
            shapes = predicted_shapes(self.shown_mask, label, self.shown.model.name, min_area=min_area)
        else:  # a multi-class model: shapes of the kind it predicted
            shapes, names = [], []
            for k, name in enumerate(self.shown.classes, start=1):
                found = predicted_shapes(kinds == k, name, self.shown.model.name, min_area=min_area)
                shapes += found
                names += [name] * bool(found)
            label = ", ".join(names)
        if not shapes:
            self.win.statusBar().showMessage("The model found no defect here; if that is right, mark the image "
                                             "defect-free (Ctrl+Shift+F)", 6000)
            return 0
        canvas, p = self.win.canvas, self.shown
        stack = canvas.undo_stack
        canvas.add_shapes(shapes, f"Accept {len(shapes)} predicted shape(s)")
        canvas.select_shapes([])
        accepted = Accepted(stack, stack.index(), stack.command(stack.index() - 1), p, len(shapes), label)
        self.accepts.add(p.image, accepted)
        self._accept_redone(accepted)
        return len(shapes)

    def _accept_redone(self, a: Accepted) -> None:
        """The shapes show the prediction now."""
        if self.closing or not isValid(self.win.canvas):
            return
        self.shown = None
        self.win.canvas.set_prediction(None)
        self.accepted.emit(a.count, a.label)

    def _accept_undone(self, a: Accepted) -> None:
        if not self.closing and isValid(self.win.canvas) and self.shown is None:
            self._display(a.prediction)

    # -- a folder ----------------------------------------------------------------------------------
    def clear_results(self) -> None:
        """The folder results no longer describe the model, threshold and folder in use."""
        self._run += 1
        shown = self.folder_result is not None or self.all_job is not None
        if self.all_job is not None:  # stopped; what it finishes is dropped
            self.all_job.cancel()
        self.folder_result = None
        if shown:
            self.folder_changed.emit(None)

    def predict_all(self, out: Path | None = None) -> bool:
        """Predict every image of the folder in the background and score the model on the labelled ones;
        the predictions are kept for stepping through the images and, with `out`, written there."""
        win = self.win
        if self.all_job is not None:
            return False
        if win.project is None or not win.project.images or self.checkpoint is None:
            win.statusBar().showMessage("Open a folder of images and choose a model first", 4000)
            return False
        if not win.save():  # the labels on disk are what the model is scored on
            return False
        project, images, ckpt = win.project, list(win.project.images), self.checkpoint
        loaded = (self.predictor_path, self.predictor)
        setting, run = self.threshold_setting, self._run
        created = time.strftime("%Y-%m-%dT%H:%M:%S%z")

        def work(progress, cancel):
            from iunet_gui.app.inspect import inspect_images
            from iunet_gui.core.progress import Cancelled

            pred = load_predictor(ckpt, loaded)
            cut = copy.copy(pred)  # the panel's threshold for this run; the loaded one keeps the model's
            cut.threshold = setting or pred.threshold

            def each(ev):  # each image's prediction as the panel keeps it, with its score where labelled
                item = ev.result
                ev.result = None if item is None else ImagePrediction.of(item.image, ckpt, item.prediction, cut,
                                                                          item.mm_per_px)
                if item is not None:
                    ev.result.record = item.record
                progress(ev)

            try:
                done = inspect_images(cut, images, project=project, out=out, mirror_root=project.folder,
                                      labelme=True, progress=each, cancel=cancel)
            except Cancelled as stop:
                done = stop.partial
            return ckpt, pred, run, FolderResult(ckpt, cut.threshold, Path(project.folder), created, done)

        self.all_job = job = Job(work, self)
        job.run_id = run
        job.progressed.connect(self._all_progress)
        job.succeeded.connect(self._all_done)
        job.failed.connect(self._predict_failed)
        job.finished.connect(self._all_job_done)
        self.folder_progress.emit(0, len(images), "")
        job.start()
        self.jobs_changed.emit()
        return True

    def stop_all(self) -> None:
        if self.all_job is not None:
            self.all_job.cancel()

    def _all_progress(self, ev) -> None:
        if self.all_job is None or self.all_job.run_id != self._run:  # out of date: its images are not shown
            return
        if ev.result is not None:
            self._keep(ev.result)
        self.folder_progress.emit(ev.step, ev.steps, ev.message)

    def _all_done(self, out) -> None:
        ckpt, predictor, run, result = out
        self._adopt(ckpt, predictor)
        if run != self._run:  # the model, threshold or folder changed while it ran
            return
        self.folder_result = result
        self.folder_changed.emit(result)

    def _all_job_done(self) -> None:
        self.all_job = None
        self.jobs_changed.emit()

    def export_report(self, path: str) -> int:
        """The folder results as CSV rows (what produced them in the leading columns); returns the rows
        written. Raises OSError when the file cannot be written."""
        from iunet_gui.app.inspect import save_report

        r = self.folder_result
        save_report(path, r.run, r.provenance())
        return len(r.run.rows)

    # -- closing -----------------------------------------------------------------------------------
    def jobs(self) -> tuple:
        return tuple(j for j in (self.predict_job, self.all_job) if j is not None)
