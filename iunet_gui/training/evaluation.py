"""Predict and score in one step: a checkpoint (or ONNX file) on a labelled folder, and several
models side by side (the paper's Tables 3 and 4)."""
from __future__ import annotations

from pathlib import Path

from iunet_gui.core.metrics import Evaluator
from iunet_gui.core.progress import ProgressEvent


def evaluate_checkpoint(checkpoint, data_dir, threshold: float | None = None, progress=None, backend: str = "auto",
                        iou_threshold: float = 0.5, predictor=None, crop_to_part: bool = True,
                        merge_gap_px: float | None = None, tta: bool = True, chain_gap_px: float | None = None):
    """Returns (per-image records, summary) of `checkpoint` on every labelled image of data_dir.
    `threshold` None: the checkpoint's own (tuned on validation). `crop_to_part`: run only the
    washer's box when one is found (False for other parts, e.g. magnetic tiles). `tta`: the
    predictor averages the image and its flips, as `predict` does (ignored when a `predictor` is given)."""
    from iunet_gui.training.data import labelled_images
    from iunet_gui.inference.predictor import Predictor

    project, images = labelled_images(data_dir)
    if not images:
        from iunet_gui.core.errors import IunetError

        raise IunetError(f"{data_dir}: no labelled images to score on")
    pred = predictor or Predictor.from_path(checkpoint, backend=backend, threshold=threshold,
                                            crop_to_part=crop_to_part)
    if predictor is None:
        pred.tta = tta
    ev = Evaluator(iou_threshold=iou_threshold,  # the predictor's own gaps unless told (it is not changed)
                   merge_gap_px=pred.merge_gap_px if merge_gap_px is None else merge_gap_px,
                   chain_gap_px=pred.chain_gap_px if chain_gap_px is None else chain_gap_px)
    for k, img in enumerate(images):
        gt = project.ground_truth_mask(img)
        mm = project.mm_per_px_for(img)
        p = pred.predict_path(img, mm)
        rec = ev.add(img.name, p.mask, gt, mm)
        rec["ms"] = round(p.timing_ms["total"], 1)
        if progress:
            progress(ProgressEvent("evaluate", step=k + 1, steps=len(images), message=f"{Path(checkpoint).name}: {img.name}"))
    summary = ev.summary()
    summary["threshold"] = pred.threshold
    return ev.records, summary


def compare_checkpoints(checkpoints, data_dir, threshold: float | None = None, progress=None, backend: str = "auto",
                        crop_to_part: bool = True, iou_threshold: float = 0.5, merge_gap_px: float | None = None,
                        tta: bool = True, chain_gap_px: float | None = None):
    """[(model name, summary)] for each checkpoint on the same data, in the given order."""
    out = []
    for ck in checkpoints:
        _, summary = evaluate_checkpoint(ck, data_dir, threshold, progress, backend, iou_threshold=iou_threshold,
                                         crop_to_part=crop_to_part, merge_gap_px=merge_gap_px, tta=tta,
                                         chain_gap_px=chain_gap_px)
        out.append((_display_name(ck), summary))
    return out


def _display_name(path) -> str:
    p = Path(path)
    if p.suffix == ".pt":
        try:
            from iunet_gui.models.checkpoint import load_checkpoint

            ck = load_checkpoint(p)
            return f"{ck.arch} ({p.parent.name}/{p.name})"
        except Exception:  # noqa: BLE001 - the name is cosmetic; scoring reports real errors
            pass
    return p.name
