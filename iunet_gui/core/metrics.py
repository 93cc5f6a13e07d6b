"""Segmentation and measurement metrics as the IU-Net paper defines them (section 2.3, Table 3/4).

Per image and over a data set: IoU of defect and background, MIoU over the two classes, pixel
accuracy, Dice, "accuracy" = share of images segmented accurately (defect IoU >= threshold; an
image with no defect in either mask counts as accurate), and length errors of matched defects
(minimum rotated rectangle, mm when calibrated, else px). Beside them, the defect-level figures
of core.detection: labelled defects found (recall, per kind, plainly visible and faint apart),
false alarms per image, and tolerance precision / recall / F1 for thin defects. For a multi-class
prediction (a class map) also the figures per kind of core.kinds: pixel IoU per kind, MIoU over all
classes, recall and false alarms per kind, length error per kind, the confusion matrix of kinds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from iunet_gui.core import detection
from iunet_gui.core.kinds import KindEvaluator
from iunet_gui.core.measure import label_regions, measure_regions


def _ratio(num: float, den: float) -> float:
    return 1.0 if den == 0 else float(num) / float(den)


def confusion(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) pixel counts of bool masks of the same shape."""
    pred = np.asarray(pred, dtype=bool)
    gt = np.asarray(gt, dtype=bool)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape[::-1]} and ground truth {gt.shape[::-1]} differ in size")
    tp = int(np.count_nonzero(pred & gt))
    fp = int(np.count_nonzero(pred)) - tp
    fn = int(np.count_nonzero(gt)) - tp
    return tp, fp, fn, int(pred.size) - tp - fp - fn


def scores(tp: int, fp: int, fn: int, tn: int) -> dict:
    iou_d = _ratio(tp, tp + fp + fn)
    iou_b = _ratio(tn, tn + fp + fn)
    return {
        "iou_defect": iou_d,
        "iou_background": iou_b,
        "miou": (iou_d + iou_b) / 2.0,
        "pixel_accuracy": _ratio(tp + tn, tp + fp + fn + tn),
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
    }


def match_defects(pred: np.ndarray, gt: np.ndarray, mm_per_px: float | None = None, min_iou: float = 0.0,
                  merge_gap_px: float = 0, chain_gap_px: float | None = None):
    """Pair predicted and ground-truth defect regions one to one by overlap (Hungarian on IoU).

    Returns (pairs, unmatched_pred, unmatched_gt) with pairs as (pred Defect, gt Defect, iou).
    Only pairs that overlap (iou > min_iou) are matched. Regions within `merge_gap_px` of each
    other (and pieces of a line within `chain_gap_px`, core.measure.label_regions) count as one
    defect, as the app measures predictions; the same rule applies to the ground truth, so that a
    mask scored against itself matches defect for defect.
    """
    from scipy.optimize import linear_sum_assignment

    pr, gr = label_regions(pred, merge_gap_px, chain_gap_px), label_regions(gt, merge_gap_px, chain_gap_px)
    pd, gd = measure_regions(pred, mm_per_px, regions=pr), measure_regions(gt, mm_per_px, regions=gr)
    if not pd or not gd:
        return [], [d for _, d in pd], [d for _, d in gd]
    npl, ngl = pr[0], gr[0]
    both = (pr[1] > 0) & (gr[1] > 0)
    inter = np.bincount(pr[1][both].astype(np.int64) * ngl + gr[1][both], minlength=npl * ngl).reshape(npl, ngl)
    area_p, area_g = pr[2][:, 4].astype(float), gr[2][:, 4].astype(float)
    pi = np.array([i for i, _ in pd])
    gi = np.array([i for i, _ in gd])
    sub = inter[np.ix_(pi, gi)].astype(float)
    iou = sub / (area_p[pi][:, None] + area_g[gi][None, :] - sub)
    rows, cols = linear_sum_assignment(-iou)
    pairs, used_p, used_g = [], set(), set()
    for r, c in zip(rows, cols):
        if iou[r, c] > min_iou:
            pairs.append((pd[r][1], gd[c][1], float(iou[r, c])))
            used_p.add(r)
            used_g.add(c)
    return (pairs, [d for k, (_, d) in enumerate(pd) if k not in used_p],
            [d for k, (_, d) in enumerate(gd) if k not in used_g])


@dataclass
class Evaluator:
    """Accumulates images; `summary()` gives the data set's figures (Table 3 and Table 4)."""

    iou_threshold: float = 0.5
    merge_gap_px: float = 0  # regions this close are one defect, in prediction and ground truth (core.measure)
    chain_gap_px: float | None = None  # pieces of a line this far apart are one defect (None: the default when merging)
    tolerance_px: float = detection.TOLERANCE_PX  # thin-defect tolerance scores (core.detection)
    band_px: int = detection.CONTRAST_BAND_PX  # the band around a labelled defect its contrast is measured against
    records: list[dict] = field(default_factory=list)
    defects: list[tuple[str, detection.LabelledDefect]] = field(default_factory=list)  # (image name, labelled defect)
    _conf: np.ndarray = field(default_factory=lambda: np.zeros(4, np.int64))
    _tolerance: np.ndarray = field(default_factory=lambda: np.zeros(4, np.int64))  # core.detection.tolerance_counts
    _errors: dict = field(default_factory=lambda: {"mm": [], "px": []})  # |length error| per unit
    _kinds: KindEvaluator | None = None  # figures per kind, once a multi-class prediction is scored

    def match(self, pred_mask: np.ndarray, gt_mask: np.ndarray, mm_per_px: float | None = None):
        """The image's defects paired as `add` pairs them (match_defects with this evaluator's gaps)."""
        return match_defects(pred_mask, gt_mask, mm_per_px, merge_gap_px=self.merge_gap_px,
                             chain_gap_px=self.chain_gap_px)

    def add(self, name: str, pred_mask: np.ndarray, gt_mask: np.ndarray, mm_per_px: float | None = None,
            matched=None, *, image: np.ndarray | None = None, kinds=None, kind_names=None,
            pred_kinds: tuple | None = None) -> dict:
        """Score one image. `matched`: its `match(...)` when the caller has it already (a report
        built from the same pairs), so the defects are not measured and paired twice. `image`: the
        photo, for each labelled defect's contrast; `kinds`: the ground truth by kind (a list of
        (kind, mask), a {kind: mask} dict, or a label map with `kind_names`; core.detection
        .kind_masks), else `gt_mask` is one kind. `pred_kinds`: (class names, class map) of a multi-class
        prediction, scored per kind against `kinds` (core.kinds)."""
        tp, fp, fn, tn = confusion(pred_mask, gt_mask)
        self._conf += (tp, fp, fn, tn)
        rec = {"name": name, **scores(tp, fp, fn, tn), "tp": tp, "fp": fp, "fn": fn, "tn": tn}
        rec["accurate"] = rec["iou_defect"] >= self.iou_threshold
        pairs, un_p, un_g = matched if matched is not None else self.match(pred_mask, gt_mask, mm_per_px)
        unit = "mm" if mm_per_px else "px"
        errs = [abs((p.length_mm if mm_per_px else p.length_px) - (g.length_mm if mm_per_px else g.length_px))
                for p, g, _ in pairs]
        self._errors[unit].extend(errs)
        rec.update({
            "defects_pred": len(pairs) + len(un_p), "defects_gt": len(pairs) + len(un_g), "matched": len(pairs),
            "unmatched_pred": len(un_p), "unmatched_gt": len(un_g),  # false alarms, missed defects
            "length_unit": unit,
            "length_error_max": max(errs) if errs else None,
            "length_error_mean": float(np.mean(errs)) if errs else None,
        })
        rec.update(self._detection(name, pred_mask, gt_mask, image, kinds, kind_names))
        if pred_kinds is not None:
            if self._kinds is None:
                self._kinds = KindEvaluator(list(pred_kinds[0]), self.merge_gap_px, self.chain_gap_px)
            self._kinds.add_labelled(pred_kinds[1], pred_kinds[0], detection.kind_masks(
                gt_mask if kinds is None else kinds, kind_names), mm_per_px)
        self.records.append(rec)
        return rec

    def _detection(self, name, pred_mask, gt_mask, image, kinds, kind_names) -> dict:
        """The image's defect-level figures (core.detection), kept for the summary."""
        found, false_alarms = detection.find_defects(
            pred_mask, gt_mask if kinds is None else kinds, image, kind_names=kind_names,
            merge_gap_px=self.merge_gap_px, chain_gap_px=self.chain_gap_px, band_px=self.band_px)
        self.defects.extend((name, d) for d in found)
        counts = detection.tolerance_counts(pred_mask, gt_mask, self.tolerance_px)
        self._tolerance += counts
        tol = detection.tolerance_scores(*counts)
        visible = [d for d in found if d.visibility == "visible"]
        return {
            "defects_labelled": len(found), "defects_found": sum(d.found for d in found),
            "defects_visible": len(visible), "found_visible": sum(d.found for d in visible),
            "false_alarms": false_alarms,
            "tolerance_precision": tol["precision"], "tolerance_recall": tol["recall"], "tolerance_f1": tol["f1"],
        }

    def summary(self) -> dict:
        n = len(self.records)
        tp, fp, fn, tn = (int(v) for v in self._conf)
        out = {"images": n, **scores(tp, fp, fn, tn)}
        out["mean_image_miou"] = float(np.mean([r["miou"] for r in self.records])) if n else None
        out["accuracy"] = float(np.mean([r["accurate"] for r in self.records])) if n else None
        out["accuracy_iou_threshold"] = self.iou_threshold
        out["merge_gap_px"] = self.merge_gap_px
        # Errors in mm (calibrated images) and px (uncalibrated ones) are never mixed: the
        # headline figures are in mm when any image is calibrated, else in px.
        mm_errs, px_errs = self._errors["mm"], self._errors["px"]
        unit = "mm" if mm_errs or (n and all(r["length_unit"] == "mm" for r in self.records)) else "px"
        errs = mm_errs if unit == "mm" else px_errs
        out["length_unit"] = unit if n else None
        out["length_error_max"] = max(errs) if errs else None
        out["length_error_mean"] = float(np.mean(errs)) if errs else None
        out["length_error_max_mm"] = max(mm_errs) if mm_errs else None
        out["length_error_mean_mm"] = float(np.mean(mm_errs)) if mm_errs else None
        out["length_error_max_px"] = max(px_errs) if px_errs else None
        out["length_error_mean_px"] = float(np.mean(px_errs)) if px_errs else None
        out["matched_defects"] = len(mm_errs) + len(px_errs)
        out["matched_defects_uncalibrated"] = len(px_errs)
        out["defects_gt"] = sum(r["defects_gt"] for r in self.records)
        out["defects_pred"] = sum(r["defects_pred"] for r in self.records)
        out["unmatched_pred"] = sum(r["unmatched_pred"] for r in self.records)
        out["unmatched_gt"] = sum(r["unmatched_gt"] for r in self.records)
        out.update(self._detection_summary())
        if self._kinds is not None:
            out.update(self._kinds.summary())
        return out

    def _detection_summary(self) -> dict:
        """Defect-level figures over the images: recall of labelled defects (all, plainly visible,
        faint, visible bright / dark, per kind), false alarms per image, tolerance scores."""
        n = len(self.records)
        table = detection.recall_table([d for _, d in self.defects])
        false_alarms = sum(r["false_alarms"] for r in self.records)
        tol = detection.tolerance_scores(*(int(v) for v in self._tolerance))
        out = {
            "defects_labelled": table["all"]["labelled"], "defects_found": table["all"]["found"],
            "defect_recall": table["all"]["recall"],
            "false_alarms": false_alarms, "false_alarms_per_image": false_alarms / n if n else None,
            "visible_contrast": detection.VISIBLE_CONTRAST,
        }
        for group in ("visible", "faint", "visible_bright", "visible_dark"):
            out[f"defects_{group}"] = table[group]["labelled"]
            out[f"found_{group}"] = table[group]["found"]
            out[f"recall_{group}"] = table[group]["recall"]
        out["defect_kinds"] = {name[5:]: v for name, v in table.items() if name.startswith("kind:")}
        out["tolerance_px"] = self.tolerance_px
        out.update({f"tolerance_{k}": v for k, v in tol.items()})
        return out


def pooled_iou_interval(records: list[dict], level: float = 0.9, draws: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of the pooled defect IoU over a test set's images (records of `Evaluator`, which
    carry each image's pixel counts): the images are drawn with replacement `draws` times (scipy's
    percentile bootstrap) and the central `level` share of the pooled IoUs is returned. It says how much the
    figure owes to which images happened to be in a small test set (not the spread between training runs)."""
    from scipy.stats import bootstrap

    if not records:
        raise ValueError("no records to draw from")
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    counts = [np.array([r[k] for r in records], dtype=np.float64) for k in ("tp", "fp", "fn")]

    def pooled(tp, fp, fn, axis=-1):
        tp, den = tp.sum(axis=axis), (tp + fp + fn).sum(axis=axis)
        return np.where(den > 0, tp / np.maximum(den, 1), 1.0)

    ci = bootstrap(counts, pooled, paired=True, vectorized=True, method="percentile", confidence_level=level,
                   n_resamples=draws, random_state=seed).confidence_interval
    return float(ci.low), float(ci.high)
