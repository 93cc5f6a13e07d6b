"""The QA station of one window: the project's inspection log and specification, a verdict for every
prediction the Model panel makes, and the reviewer's decisions (to the log, and into the labels through
the open image's undo history). Widgets (review dock, banner, dialogs) show what it holds."""
from __future__ import annotations

import copy
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from iunet_gui.app.records import LOG_FILE, InspectionLog
from iunet_gui.app.review import SOURCE_KEY, ReviewItem, apply_decisions_to_labels, review_item
from iunet_gui.core.errors import IunetError, SpecError
from iunet_gui.core.spec import Specification
from iunet_gui.gui.qa.edits import ApplyReview
from iunet_gui.gui.qa.verdicts import log_prediction


def image_key(image) -> str:
    """An image as the log names it (its resolved path)."""
    return str(Path(image).resolve())


class _DocumentProject:
    """The project as apply_decisions_to_labels sees it, with the open image's labels taken from its
    document (unsaved edits included) instead of the file."""

    def __init__(self, project, document):
        self._project, self._document = project, document

    def load_annotation(self, image):
        if Path(image) == self._document.image_path:
            return copy.deepcopy(self._document.annotation)
        return self._project.load_annotation(image)

    def __getattr__(self, name):
        return getattr(self._project, name)


class QAStation(QObject):
    """Works for the window it is given (its project, document, canvas, model controller)."""

    changed = Signal()  # a decision was added, or another project opened
    inspected = Signal()  # an inspection was added (many in a row during Predict all)
    failed = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self.win = window
        self.log: InspectionLog | None = None
        self._project = None
        self._images: set[Path] = set()
        self._judged: dict[Path, tuple] = {}  # image -> (the ImagePrediction, threshold) judged last
        self._latest: dict[str, dict] = {}  # str(image) -> its latest inspection row
        self._missed: set[int] = set()  # shapes already logged as missed (by id, while they live)
        self._missed_shapes: list = []
        self._unsubscribe = None
        self._log_failed = False
        self._present: list = []  # the open image's shapes when it opened (an undone delete is no miss)
        self.reviewing = lambda: False  # the review dock is on show (set by the window)
        models = window.model_dock.models
        models.prediction_shown.connect(self._prediction_shown)
        models.folder_progress.connect(self._folder_progress)

    # -- project --------------------------------------------------------------------------------
    def project_opened(self, project) -> None:
        """Another folder: its log (when it has one), nothing of the last one."""
        self.close()
        self._project = project
        self._images = set(project.images) if project is not None else set()
        self._log_failed = False
        self._judged.clear()
        if project is not None and (Path(project.folder) / LOG_FILE).exists():
            self._open_log()
        self._reload()

    def _open_log(self) -> InspectionLog | None:
        if self.log is None and self._project is not None and not self._log_failed:
            try:
                self.log = InspectionLog(self._project.folder)
            except IunetError as exc:  # told once per folder; predictions go on without verdicts
                self._log_failed = True
                self.win.error("Inspection log", f"{exc}\n\nPredictions are shown but not judged or recorded.")
        return self.log

    def look_again(self) -> bool:
        """Read the log again (opening it if another process has made it since); whether there is one."""
        if self.log is None and self._project is not None and (Path(self._project.folder) / LOG_FILE).exists():
            self._open_log()
        self._read_latest()
        return self.log is not None

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None
        self._latest = {}

    def specification(self) -> Specification | None:
        if self._project is None:
            return None
        try:
            return self._project.specification
        except SpecError as exc:
            self.failed.emit(f"{exc}: images are judged by the default (no defect allowed)")
            return None

    def set_specification(self, spec: Specification) -> None:
        """Store the specification in the project file (raises OSError when it cannot be written)."""
        self._project.specification = spec

    def _read_latest(self) -> None:
        self._latest = {image_key(r["image_path"]): r for r in self.log.latest_inspections()} if self.log else {}

    def _reload(self) -> None:
        self._read_latest()
        self.changed.emit()

    # -- verdicts -------------------------------------------------------------------------------
    def latest(self, image) -> dict | None:
        """The latest inspection row of an image (verdict status, reasons, id), None if not inspected."""
        return self._latest.get(image_key(image))

    def item(self, image) -> ReviewItem | None:
        row = self.latest(image)
        return review_item(self.log, row) if row is not None and self.log is not None else None

    def _prediction_shown(self, p) -> None:
        if p is not None:
            self.judge(p)

    def _folder_progress(self, done: int, total: int, name: str) -> None:
        cache = self.win.model_dock.models.cache
        if done and cache:
            p = cache[next(reversed(cache))]
            if p.image.name == name:
                self.judge(p)

    def judge(self, p) -> int | None:
        """Judge one prediction by the specification and log it, as it is on show (at the panel's
        threshold); the same prediction at the same threshold once. Returns the inspection's id."""
        if self._project is None or p.image not in self._images:
            return None
        models = self.win.model_dock.models
        shown = models.shown is p and models.shown_mask is not None
        threshold = models.current_threshold(p) if shown else p.threshold
        judged = self._judged.get(p.image)
        if judged is not None and judged[0] is p and abs(judged[1] - threshold) < 1e-9:
            return None
        log = self._open_log()
        if log is None:
            return None
        self._judged[p.image] = (p, threshold)
        try:
            iid, _verdict = log_prediction(log, self._project, p, models.shown_mask if shown else None,
                                           models.shown_defects if shown else None,
                                           threshold)
        except IunetError as exc:
            self.win.error("Inspection", str(exc))
            return None
        self._latest[image_key(p.image)] = log.inspection(iid)
        self.inspected.emit()
        return iid

    # -- decisions ------------------------------------------------------------------------------
    def decide(self, item: ReviewItem, defect_index: int | None, decision: str, note: str = "") -> bool:
        """Log a decision on the open image's inspection; a defect's decision goes into its labels too."""
        if self.log is None:
            return False
        try:
            self.log.log_decision(item.inspection_id, defect_index, decision, note)
        except IunetError as exc:
            self.win.error("Inspection log", str(exc))
            return False
        if decision in ("confirm", "false_alarm"):
            self._apply_to_labels(item)
        self._reload()
        return True

    def _apply_to_labels(self, item: ReviewItem) -> None:
        doc = self.win.document
        if doc is None or image_key(doc.image_path) != image_key(item.image_path) or doc.annotation is None:
            return
        target = apply_decisions_to_labels(_DocumentProject(self._project, doc), doc.image_path,
                                           self.log.decisions(item.inspection_id), item.defects,
                                           model_id=item.model_id, save=False)
        classes = [c.name for c in self._project.settings.classes]
        for s in target.shapes:  # a confirmed defect of no class of the project's: the current class, as Accept
            if SOURCE_KEY in s.extra and s.label not in classes:
                s.label = self.win.class_dock.current() or s.label
        command = ApplyReview(doc, target)
        if command.changes:
            self.win.canvas.undo_stack.push(command)

    # -- missed defects: shapes the reviewer draws --------------------------------------------
    def image_opened(self, document) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._present = list(document.shapes) if document is not None else []
        if document is not None and document.edits is not None:
            self._unsubscribe = document.edits.subscribe(self._edited)

    def _edited(self, change) -> None:
        from iunet_gui.core.document import ADDED

        doc = self.win.document
        if change.kind != ADDED or doc is None or not self.reviewing():
            return
        row = self.latest(doc.image_path)
        if row is None or self.log is None:
            return
        for s in change.shapes:
            if (SOURCE_KEY in s.extra or s.description.startswith("predicted") or id(s) in self._missed
                    or any(s is p for p in self._present)):
                continue
            self._missed.add(id(s))
            self._missed_shapes.append(s)  # kept alive: its id is never another shape's
            x, y = s.points[0] if s.points else (0, 0)
            try:
                self.log.log_decision(row["id"], None, "missed", f"{s.label} drawn at ({x:.0f}, {y:.0f})")
            except IunetError as exc:
                self.win.error("Inspection log", str(exc))
                return
        self._reload()
