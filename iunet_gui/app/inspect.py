"""Inspect images with a model: predict each one, measure its defects, score it against its ground
truth where it is labelled, make its report rows and, given an output folder, save its files.

`inspect_images` is the one loop behind `iunet-gui predict`, `iunet-gui evaluate` and the window's
Predict all / Save all / Export report. Each image finished goes out as a ProgressEvent whose
`result` is its InspectedImage; a set CancelToken stops the run between images with
core.progress.Cancelled, whose `partial` is the Inspection so far.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from iunet_gui.app.output import check_output_folder, output_folder, save_prediction
from iunet_gui.app.pipeline import predictions
from iunet_gui.app.settings import InspectSettings
from iunet_gui.app.verdicts import Judge
from iunet_gui.core.errors import IunetError
from iunet_gui.core.metrics import Evaluator
from iunet_gui.core.progress import Cancelled, CancelToken, ProgressEvent
from iunet_gui.core.report import report_rows


@dataclass
class InspectedImage:
    """One image's outcome: the inference Prediction, the calibration it was measured with, its
    score record (None when unlabelled or not scored), its report rows and the files written."""

    image: Path
    prediction: object  # inference.predictor.Prediction
    mm_per_px: float | None
    record: dict | None = None
    rows: list[dict] = field(default_factory=list)
    saved: list[Path] = field(default_factory=list)
    verdict: object = None  # core.spec.Verdict by the specification
    inspection_id: int | None = None  # its row in the inspection log (app.records), when logged


@dataclass
class Inspection:
    """A run over images with one model: counts, per-image score records and the summary over the
    labelled ones (core.metrics), report rows, and what went wrong with which image ("name: why")."""

    model: str
    backend: str
    threshold: float
    flip_mean: bool
    images: int = 0  # images asked for
    predicted: int = 0
    found: int = 0  # defects predicted
    failures: list[str] = field(default_factory=list)  # not predicted (unreadable image or labels)
    unscored: list[str] = field(default_factory=list)  # ground truth of another size
    unsaved: list[str] = field(default_factory=list)  # predicted, but its files could not be written
    saved: int = 0
    records: list[dict] = field(default_factory=list)
    summary: dict | None = None  # None when no image was scored
    defects: list = field(default_factory=list)  # (image name, core.detection.LabelledDefect) of the scored images
    rows: list[dict] = field(default_factory=list)
    times_ms: list[float] = field(default_factory=list)
    out: Path | None = None
    cancelled: bool = False
    verdicts: dict[str, int] = field(default_factory=dict)  # images per verdict ("OK", "NG", "check", ...)


class _Calibrations:
    """Each image's mm per pixel: the settings' one, else its project's (opened once per folder)."""

    def __init__(self, fixed: float | None, project=None):
        self.fixed, self.project, self._projects = fixed, project, {}

    def project_of(self, image: Path):
        from iunet_gui.core.project import Project

        if self.project is not None:
            return self.project
        if image.parent not in self._projects:
            self._projects[image.parent] = Project.open(image.parent)
        return self._projects[image.parent]

    def __call__(self, image: Path) -> float | None:
        return self.fixed or self.project_of(image).mm_per_px_for(image)


def inspect_images(predictor, images, settings: InspectSettings | None = None, *, project=None, score: bool = True,
                   out=None, mirror_root=None, labelme: bool = False, progress=None,
                   cancel: CancelToken | None = None, spec=None, log=None, model_id: str | None = None,
                   pipeline: bool = False) -> Inspection:
    """Inspect `images` (paths) with `predictor` (an inference Predictor, already set up, e.g. by
    app.settings.open_predictor). `project`: the images' project (default: each image's folder);
    `score`: compare with the ground truth where there is one; `out`: write each image's files there
    (under its sub-folder of `mirror_root` when given); `labelme`: also as labelme polygons.
    Every image predicted gets a core.spec.Verdict by `spec` (default: its project's specification,
    app.verdicts.Judge) and, given `log` (an app.records.InspectionLog), a row there under `model_id`.
    `pipeline`: decode and post-process while the network runs on the next image (app.pipeline).
    Raises Cancelled (with the partial Inspection) when `cancel` is set."""
    settings = (settings or InspectSettings()).validated()
    images = [Path(p) for p in images]
    gaps = {"merge_gap_px": predictor.merge_gap_px if settings.merge_gap_px is None else settings.merge_gap_px,
            "chain_gap_px": predictor.chain_gap_px if settings.chain_gap_px is None else settings.chain_gap_px}
    ev = Evaluator(iou_threshold=settings.iou_threshold, tolerance_px=settings.tolerance_px, **gaps)
    run = Inspection(predictor.name, predictor.backend, predictor.threshold, predictor.tta, images=len(images),
                     out=None if out is None else Path(out))
    if run.out is not None:
        check_output_folder(run.out, images, mirror_root)
        run.out.mkdir(parents=True, exist_ok=True)
    calibration = _Calibrations(settings.mm_per_px, project)
    judge = Judge(spec, log, model_id or predictor.name)
    stream = predictions(predictor, images, calibration, pipeline)
    try:
        for k in range(len(images)):
            if cancel is not None and cancel.cancelled:
                run.cancelled = True
                raise Cancelled("inspection stopped", partial=_finish(run, ev))
            path, mm, outcome = next(stream)
            item = _inspect_one(predictor, path, mm, outcome, calibration, ev, gaps, run, score, mirror_root,
                                labelme)
            if item is not None:
                judge(item, calibration.project_of(path), predictor.threshold, item.record)
                run.verdicts[item.verdict.status] = run.verdicts.get(item.verdict.status, 0) + 1
            if progress:
                progress(ProgressEvent("predict", step=k + 1, steps=len(images), message=path.name, result=item))
    finally:
        stream.close()
    return _finish(run, ev)


def _finish(run: Inspection, ev: Evaluator) -> Inspection:
    run.records = ev.records
    run.defects = ev.defects
    run.summary = ev.summary() if ev.records else None
    return run


def _inspect_one(predictor, path: Path, mm, outcome, calibration, ev: Evaluator, gaps: dict, run: Inspection,
                 score: bool, mirror_root, labelme: bool) -> InspectedImage | None:
    """Save, score and report one predicted image (`outcome`: (Prediction, image) or the IunetError that
    kept it from being predicted) into `run`; None when it could not be read."""
    if isinstance(outcome, IunetError):  # an unreadable image: told, the others go on
        run.failures.append(f"{path.name}: {outcome}")
        return None
    res, image = outcome
    gt, kinds = None, None
    if score:
        try:
            gt, kinds = _ground_truth(calibration.project_of(path), path)
        except IunetError as exc:  # a broken labels file: the image is predicted and reported, not scored
            run.unscored.append(f"{path.name}: {exc}: not scored")
    item = InspectedImage(path, res, mm)
    run.predicted += 1
    run.found += len(res.defects)
    run.times_ms.append(res.timing_ms["total"])
    if run.out is not None:
        try:
            target = output_folder(run.out, path, mirror_root)
            target.mkdir(parents=True, exist_ok=True)
            item.saved = save_prediction(target, path, res, predictor, mm, labelme=labelme)
            run.saved += 1
        except OSError as exc:  # a full disk: told; the prediction is still scored and reported
            run.unsaved.append(f"{path.name}: {exc.strerror or exc}")
    if gt is not None and gt.shape != res.mask.shape:
        run.unscored.append(f"{path.name}: its mask is {gt.shape[1]}x{gt.shape[0]} px, the image "
                            f"{res.mask.shape[1]}x{res.mask.shape[0]}: not scored")
        gt = None
    matched = None
    if gt is not None:  # paired once, for the figures and the report rows
        matched = ev.match(res.mask, gt, mm)
        pred_kinds = None
        if getattr(res, "class_map", None) is not None:  # a multi-class network: scored per kind as well
            pred_kinds = (res.classes, res.class_map)
            if kinds is None and path.parent != calibration.project_of(path).folder:
                kinds = [(path.parent.name, gt)]  # image + mask pairs: the folder names the kind
        item.record = ev.add(path.name, res.mask, gt, mm, matched=matched, image=image, kinds=kinds,
                             pred_kinds=pred_kinds)
        item.record["ms"] = round(res.timing_ms["total"], 1)
    item.rows = report_rows(path.name, res.mask, gt, mm, gaps["merge_gap_px"], gaps["chain_gap_px"], res.defects,
                            matched=matched)
    run.rows.extend(item.rows)
    return item


def _ground_truth(project, path: Path):
    """(the image's defect mask, its labelme shapes as (kind, mask) pairs or None for one kind),
    (None, None) when it is unlabelled."""
    from iunet_gui.core.detection import shape_kinds

    gt = project.ground_truth_mask(path)
    if gt is None or path in project.masks:
        return gt, None
    ann = project.load_annotation(path)
    kinds = shape_kinds(ann.shapes, gt.shape) if ann is not None and ann.shapes else None
    return gt, kinds


def collect_images(inputs) -> list[Path]:
    """Image paths of files and folders (a folder: its project's images), in the given order."""
    from iunet_gui.core.images import is_image_file
    from iunet_gui.core.project import Project

    found = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            found.extend(Project.open(p).images)
        elif p.exists():
            if not is_image_file(p):
                raise IunetError(f"{p}: not an image file")
            found.append(p)
        else:
            raise IunetError(f"{p}: no such file or folder")
    if not found:
        raise IunetError("no images to predict")
    return found


def save_report(path, inspection: Inspection, provenance: dict | None = None) -> None:
    """The run's report rows as CSV (core.report), then the defect-level figures over its labelled
    images (core.report.summary_rows), written atomically; `provenance` (core.report.PROVENANCE: the
    model, threshold, folder and time that produced the run) leads every row when given."""
    from iunet_gui.core.report import summary_rows, write_report_csv

    write_report_csv(path, inspection.rows + summary_rows(inspection.summary), provenance)
