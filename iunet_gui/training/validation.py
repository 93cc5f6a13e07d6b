"""Validation on whole images, the threshold tuned on them, and which weights become best.pt."""
from __future__ import annotations

import numpy as np

from iunet_gui.core.measure import DEFAULT_MERGE_GAP_PX
from iunet_gui.core.progress import Cancelled, CancelToken

THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # tried with tune_threshold: large
# low-contrast regions come out at probabilities of 0.1-0.5


def validate(model, val_items, cfg, device, cancel: CancelToken | None = None) -> dict:
    """Scores of `model` (in eval mode) on the whole validation images at the input scale,
    logits up-sampled to each image's size. With `tune_threshold`, each image's logits are the
    mean over it and its three flips (as the Predictor computes them) and the threshold of a small
    grid is picked by `cfg.threshold_rule` (pick_threshold); "val_threshold" is the threshold
    scored, "val_recall" and "val_false_alarms" the defects found and false alarms per image there. Raises
    Cancelled when `cancel` is set (checked per image). A multi-class network is scored on its
    defect-vs-background logit (defect_logit) as a binary one is, and its kinds by their IoU
    ("val_iou_<kind>", at the threshold scored) and their mean ("val_kind_miou")."""
    from iunet_gui.core.metrics import Evaluator, confusion, scores

    grid = sorted({cfg.threshold, *(THRESHOLDS if cfg.tune_threshold else ())})
    cuts = np.log(np.array(grid) / (1 - np.array(grid)))  # the thresholds on the logits
    conf = np.zeros((len(grid), 4), np.int64)
    counts = np.zeros((len(grid), 3), np.int64)  # labelled defects, found, false alarms
    logits = []
    for it in val_items:
        if cancel is not None and cancel.cancelled:
            raise Cancelled("training stopped")
        z = image_logits(model, it, cfg, device)
        logits.append(z)
        z = defect_logit(z)
        for k, c in enumerate(cuts):
            conf[k] += confusion(z > c, it.mask)
            counts[k] += defect_counts(z > c, it.mask)
    recall = counts[:, 1] / np.maximum(counts[:, 0], 1)
    alarms = counts[:, 2] / max(len(val_items), 1)
    k = pick_threshold([scores(*c)["miou"] for c in conf], recall, alarms, cfg.threshold_rule, cfg.max_false_alarms)
    ev = Evaluator(merge_gap_px=DEFAULT_MERGE_GAP_PX)
    for it, z in zip(val_items, logits):
        ev.add(it.name, defect_logit(z) > cuts[k], it.mask, it.mm_per_px)
    s = ev.summary()
    kinds = kind_scores(val_items, logits, cuts[k])
    return {**kinds, "val_miou": s["miou"], "val_iou_defect": s["iou_defect"], "val_dice": s["dice"],
            "val_accuracy": s["accuracy"], "val_length_error_mean": s["length_error_mean"],
            "val_threshold": float(grid[k]), "val_recall": float(recall[k]), "val_false_alarms": float(alarms[k])}


def defect_counts(pred: np.ndarray, mask: np.ndarray) -> tuple[int, int, int]:
    """(labelled defects, those a predicted pixel touches, predicted regions touching none) of one image."""
    from iunet_gui.core.detection import find_defects

    defects, false_alarms = find_defects(pred, mask > 0, merge_gap_px=DEFAULT_MERGE_GAP_PX)
    return len(defects), sum(d.found for d in defects), false_alarms


def pick_threshold(miou, recall, alarms, rule: str = "miou", max_alarms: float = 0.1) -> int:
    """Index of the threshold to keep: "miou", the best pixel MIoU; "recall", the highest defect
    recall among the thresholds with at most `max_alarms` false alarms per image (ties: the better
    MIoU), or where none is that clean, the fewest false alarms (ties: the higher recall)."""
    miou, recall, alarms = (np.asarray(v, float) for v in (miou, recall, alarms))
    if rule == "miou":
        return int(np.argmax(miou))
    ok = np.flatnonzero(alarms <= max_alarms + 1e-9)
    if len(ok):
        return int(ok[np.lexsort((-miou[ok], -recall[ok]))[0]])
    fewest = np.flatnonzero(alarms == alarms.min())
    return int(fewest[np.argmax(recall[fewest])])


def defect_logit(z: np.ndarray) -> np.ndarray:
    """The defect-vs-background logit log(P(defect) / P(background)) of (K + 1, H, W) softmax logits;
    (H, W) logits as they are."""
    if z.ndim == 2:
        return z
    return np.logaddexp.reduce(z[1:], axis=0) - z[0]


def kind_scores(val_items, logits, cut: float) -> dict:
    """IoU of each kind over the validation images (the defect pixels above `cut`, each of its most
    probable kind) and their mean; {} for a binary network or items without kind maps."""
    if not logits or logits[0].ndim == 2 or any(it.kinds is None for it in val_items):
        return {}
    from iunet_gui.core.kinds import class_confusion, class_scores

    n = logits[0].shape[0]
    conf = np.zeros((n, n), np.int64)
    for it, z in zip(val_items, logits):
        pred = np.where(defect_logit(z) > cut, 1 + np.argmax(z[1:], axis=0), 0)
        conf += class_confusion(pred, it.kinds, n)
    iou = class_scores(conf)["iou"][1:]
    out = {f"val_iou_kind{k + 1}": float(v) for k, v in enumerate(iou)}  # kind k + 1 of the checkpoint's classes
    out["val_kind_miou"] = float(np.nanmean(iou)) if len(iou) else 0.0
    return out


def image_logits(model, item, cfg, device) -> np.ndarray:
    """The logits validation scores for one full-size item: the image at the input scale (with
    `tune_threshold` the mean over it and its three flips, as `predict` scores), up-sampled."""
    import torch

    from iunet_gui.inference.preprocess import flip_mean, prepare_input, rescale_image, upscale_logits
    from iunet_gui.inference.runners import forward_padded

    def run(x: np.ndarray) -> np.ndarray:
        return forward_padded(model, x, device)

    with torch.inference_mode():
        x = prepare_input(rescale_image(item.image, cfg.scale), cfg.in_channels)
        z = flip_mean(run, x, hw_axes=(1, 2)) if cfg.tune_threshold else run(x)
        return upscale_logits(z, *item.mask.shape)


def pick_best(top: float | None, val_miou: float, tolerance: float) -> tuple[bool, float]:
    """(take, new top): weights that validate within `tolerance` of the highest validation MIoU
    so far (`top`) replace best.pt, so that of weights the validation cannot tell apart the ones
    trained longer win; tolerance 0 is the strict best."""
    take = top is None or val_miou >= top - tolerance
    return take, val_miou if top is None else max(top, val_miou)


def estimate_final_seconds(cfg, n_val: int, image_seconds: float, step_seconds: float,
                           measured: float | None) -> float:
    """Seconds that the end of a run takes (BN refresh, validation, two saves): the longest one
    measured so far, else an estimate: `n_val` images at `image_seconds` each (one image's
    logits, timed), and a BN refresh of `bn_batches` batches at a little more than half
    a training step each (a forward pass, no backward, the same crops and augmentation)."""
    if measured is not None:
        return measured
    return n_val * image_seconds + 0.6 * cfg.bn_batches * step_seconds + 0.5
