"""Score models on labelled images: a checkpoint (or ONNX file) predicted and scored in one step,
several side by side (the paper's Tables 3 and 4), and folders of predicted masks against ground truth."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from iunet_gui.app.inspect import inspect_images
from iunet_gui.app.settings import InspectSettings, open_predictor
from iunet_gui.core.errors import IunetError
from iunet_gui.core.metrics import Evaluator


def evaluate_model(model, data_dir, settings: InspectSettings | None = None, progress=None, cancel=None,
                   predictor=None) -> tuple[list[dict], dict]:
    """(per-image records, summary) of `model` on every labelled image of `data_dir`. `predictor`:
    one already set up (its own threshold and test-time choices are used and left unchanged; the
    settings' gaps and IoU threshold still decide the scoring)."""
    from iunet_gui.training.data import labelled_images

    settings = (settings or InspectSettings()).validated()
    project, images = labelled_images(data_dir)
    if not images:
        raise IunetError(f"{data_dir}: no labelled images to score on")
    pred = predictor or open_predictor(model, settings)
    name = Path(model).name if model is not None else pred.name

    def relabel(ev):  # progress names the model as well as the image
        ev.stage, ev.message = "evaluate", f"{name}: {ev.message}"
        progress(ev)

    run = inspect_images(pred, images, settings, project=project, progress=relabel if progress else None,
                         cancel=cancel)
    summary = run.summary
    summary["threshold"] = pred.threshold
    return run.records, summary


def compare_models(models, data_dir, settings: InspectSettings | None = None, progress=None,
                   cancel=None) -> list[tuple[str, dict]]:
    """[(model name, summary)] for each model on the same data, in the given order."""
    return [(display_name(m), evaluate_model(m, data_dir, settings, progress, cancel)[1]) for m in models]


def display_name(path) -> str:
    """"arch (run/file.pt)" for a checkpoint, else the file's name."""
    p = Path(path)
    if p.suffix == ".pt":
        try:
            from iunet_gui.models.checkpoint import load_checkpoint

            ck = load_checkpoint(p)
            return f"{ck.arch} ({p.parent.name}/{p.name})"
        except Exception:  # the name is cosmetic; scoring reports real errors
            pass
    return p.name


def evaluate_dirs(pred_dir, gt_dir, settings: InspectSettings | None = None):
    """Score every predicted mask `stem.png` in pred_dir against the ground truth of that stem.

    Ground truth per stem: a labelme `stem.json` (rasterised the labelme way), a mask
    `stem.png`, or an image+mask pair folder. Returns (records, summary, missing stems).
    """
    from iunet_gui.core.measure import DEFAULT_MERGE_GAP_PX
    from iunet_gui.core.project import Project

    settings = (settings or InspectSettings()).validated()
    pred_dir, gt_dir = Path(pred_dir), Path(gt_dir)
    for d in (pred_dir, gt_dir):
        if not d.is_dir():
            raise IunetError(f"{d}: not a folder")
    preds = {p.stem: p for p in sorted(pred_dir.glob("*.png")) if not p.stem.endswith("_prob")}
    if not preds:
        raise IunetError(f"{pred_dir}: no predicted mask PNGs")
    project = Project.open(gt_dir)
    pairs = {img.stem: (img, m) for img, m in project.masks.items()}
    # A folder with labelme sidecars is a labelled project: its PNGs without a sidecar are
    # unlabelled photos, not masks. A folder without any JSON holds ground-truth mask PNGs.
    labelme_project = any(p.name != "iunet_project.json" for p in gt_dir.glob("*.json"))
    ev = Evaluator(iou_threshold=settings.iou_threshold, tolerance_px=settings.tolerance_px,
                   merge_gap_px=DEFAULT_MERGE_GAP_PX if settings.merge_gap_px is None else settings.merge_gap_px,
                   chain_gap_px=settings.chain_gap_px)
    missing = []
    for stem, pred_path in preds.items():
        truth = _ground_truth(stem, pred_path, gt_dir, pairs, labelme_project)
        if truth is None:
            missing.append(stem)
            continue
        ev.add(stem, truth.pred, truth.gt, settings.mm_per_px or truth.mm_per_px or project.settings.mm_per_px,
               image=truth.photo, kinds=truth.kinds)
    if not ev.records:
        raise IunetError(f"no predicted mask in {pred_dir} has a ground truth in {gt_dir}")
    return ev.records, ev.summary(), missing


class _Truth(NamedTuple):
    pred: np.ndarray  # the predicted mask
    gt: np.ndarray  # its ground truth
    mm_per_px: float | None  # the labels' calibration
    kinds: list | None  # labelme shapes as (kind, mask) pairs
    photo: np.ndarray | None  # the labelled photo, when it is there to read (for each defect's contrast)


def _ground_truth(stem: str, pred_path: Path, gt_dir: Path, pairs: dict, labelme_project: bool) -> _Truth | None:
    """The predicted mask of `stem` with its ground truth, or None without one. `pairs`: stem ->
    (photo, mask file) of an image+mask folder."""
    from iunet_gui.core.annotation import Annotation
    from iunet_gui.core.detection import shape_kinds
    from iunet_gui.core.geometry import shapes_to_mask
    from iunet_gui.core.images import read_mask

    pred, mm, kinds, photo = read_mask(pred_path), None, None, None
    if (gt_dir / f"{stem}.json").exists():
        ann = Annotation.load(gt_dir / f"{stem}.json")
        h, w = ann.image_height or pred.shape[0], ann.image_width or pred.shape[1]
        gt, mm = shapes_to_mask(ann.shapes, (h, w)), ann.mm_per_px
        kinds = shape_kinds(ann.shapes, (h, w)) if ann.shapes else None
        photo = gt_dir / ann.image_path if ann.image_path else None
    elif stem in pairs:
        photo, mask = pairs[stem]
        gt = read_mask(mask)
    elif (gt_dir / f"{stem}.png").exists() and not labelme_project:
        gt = read_mask(gt_dir / f"{stem}.png")
    else:
        return None
    if gt.shape != pred.shape:
        raise IunetError(f"{pred_path}: size {pred.shape[1]}x{pred.shape[0]} differs from its ground truth "
                         f"{gt.shape[1]}x{gt.shape[0]}")
    return _Truth(pred, gt, mm, kinds, _photo(photo, gt.shape))


def _photo(path: Path | None, hw: tuple[int, int]) -> np.ndarray | None:
    """The photo at `path` when it reads and has the masks' size, else None (the contrast of each
    labelled defect is then unknown; the scores do not depend on it)."""
    from iunet_gui.core.errors import ImageLoadError
    from iunet_gui.core.images import load_image

    if path is None or not path.is_file():
        return None
    try:
        image = load_image(path, "rgb")
    except ImageLoadError:
        return None
    return image if image.shape[:2] == tuple(hw) else None
