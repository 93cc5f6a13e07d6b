"""Figures per defect kind of a multi-class prediction against labelled kinds.

Kind maps: uint8/int HxW arrays, 0 = background, k = kind `names[k - 1]`.
- Pixel figures: the (K + 1) x (K + 1) confusion of kinds over pixels (rows labelled, columns
  predicted), each class's IoU, and the MIoU over all K + 1 classes (background included).
- Defect figures per kind: a labelled defect (a connected region of one kind's pixels) is found
  when a predicted defect pixel lies on it; a predicted defect (a region of the prediction,
  grouped as the app groups them) of kind k that touches no labelled pixel is a false alarm of
  kind k. A defect's kind is the kind most of its pixels have.
- Matched defects (predicted and labelled regions paired one to one by IoU, as core.metrics
  pairs them): the confusion matrix of kinds (labelled kind x predicted kind, a scratch predicted
  as a crack is counted there) and the length error per labelled kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from iunet_gui.core.measure import label_regions, measure_regions


def class_confusion(pred: np.ndarray, gt: np.ndarray, n: int) -> np.ndarray:
    """n x n pixel counts (rows: labelled class, columns: predicted class) of two kind maps."""
    pred, gt = np.asarray(pred, np.int64), np.asarray(gt, np.int64)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape[::-1]} and ground truth {gt.shape[::-1]} differ in size")
    if pred.size and (max(pred.max(), gt.max()) >= n or min(pred.min(), gt.min()) < 0):
        raise ValueError(f"kind maps must hold classes 0 .. {n - 1}")
    return np.bincount(gt.ravel() * n + pred.ravel(), minlength=n * n).reshape(n, n)


def class_scores(conf: np.ndarray) -> dict:
    """{"iou": per class (nan for a class in neither map), "miou": mean over the classes present}."""
    conf = np.asarray(conf, np.float64)
    tp = np.diag(conf)
    den = conf.sum(0) + conf.sum(1) - tp
    iou = np.where(den > 0, tp / np.maximum(den, 1), np.nan)
    return {"iou": iou, "miou": float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")}


def region_kind(kind_map: np.ndarray, pixels: np.ndarray) -> int:
    """The kind most of `pixels` have in `kind_map` (ties: the lower kind); 0 when none is a defect."""
    values = np.asarray(kind_map)[pixels]
    values = values[values > 0]
    return int(np.bincount(values).argmax()) if values.size else 0


def _pairs(pred: np.ndarray, gt: np.ndarray, merge_gap_px: float, chain_gap_px: float | None):
    """(pred regions, gt regions, [(pred label, gt label)] paired one to one by IoU > 0)."""
    from scipy.optimize import linear_sum_assignment

    pr, gr = label_regions(pred, merge_gap_px, chain_gap_px), label_regions(gt, merge_gap_px, chain_gap_px)
    npl, ngl = pr[0], gr[0]
    if npl < 2 or ngl < 2:
        return pr, gr, []
    both = (pr[1] > 0) & (gr[1] > 0)
    inter = np.bincount(pr[1][both].astype(np.int64) * ngl + gr[1][both], minlength=npl * ngl).reshape(npl, ngl)
    area_p, area_g = pr[2][:, 4].astype(float), gr[2][:, 4].astype(float)
    iou = inter / (area_p[:, None] + area_g[None, :] - inter + 1e-12)
    iou[0, :], iou[:, 0] = 0, 0
    rows, cols = linear_sum_assignment(-iou)
    return pr, gr, [(int(r), int(c)) for r, c in zip(rows, cols) if iou[r, c] > 0]


@dataclass
class KindEvaluator:
    """Accumulates images of kind maps; `summary()` gives the figures per kind (module docstring)."""

    names: list[str]
    merge_gap_px: float = 0
    chain_gap_px: float | None = None
    _pixels: np.ndarray = field(init=False)
    _defects: np.ndarray = field(init=False)  # (K + 1) x (K + 1) matched defects: labelled kind x predicted kind
    _labelled: np.ndarray = field(init=False)  # per kind: labelled defects, found, false alarms
    _errors: dict = field(init=False)  # kind -> |length error| of its matched defects (mm when calibrated)

    def __post_init__(self):
        n = len(self.names) + 1
        self._pixels = np.zeros((n, n), np.int64)
        self._defects = np.zeros((n, n), np.int64)
        self._labelled = np.zeros((n, 3), np.int64)
        self._errors = {name: [] for name in self.names}
        self._units: set[str] = set()

    def index(self, name: str) -> int:
        """The kind number of `name` (1-based), a new kind appended when it is not known yet."""
        if name in self.names:
            return self.names.index(name) + 1
        self.names.append(name)
        n = len(self.names) + 1
        self._pixels = np.pad(self._pixels, ((0, 1), (0, 1)))
        self._defects = np.pad(self._defects, ((0, 1), (0, 1)))
        self._labelled = np.pad(self._labelled, ((0, 1), (0, 0)))
        self._errors[name] = []
        return n - 1

    def add_labelled(self, pred: np.ndarray, pred_names, gt_kinds, mm_per_px: float | None = None) -> None:
        """One image of a predicted kind map (kinds named by `pred_names`, 1-based) against labelled
        kinds as (name, bool mask) pairs (core.detection.kind_masks); unknown names with labelled
        pixels become kinds."""
        pred = np.asarray(pred)
        remap = np.zeros(max(len(pred_names), int(pred.max(initial=0))) + 1, np.int64)
        for k, name in enumerate(pred_names, start=1):
            remap[k] = self.index(name)
        gt = np.zeros(pred.shape, np.int64)
        for name, m in gt_kinds:
            m = np.asarray(m) > 0
            if m.any():
                gt[m] = self.index(name)
        self.add(remap[pred], gt, mm_per_px)

    def add(self, pred: np.ndarray, gt: np.ndarray, mm_per_px: float | None = None) -> None:
        """One image: `pred` and `gt` kind maps of the same size (numbered as `names`)."""
        import cv2

        n = len(self.names) + 1
        pred, gt = np.asarray(pred), np.asarray(gt)
        self._pixels += class_confusion(pred, gt, n)
        for k in range(1, n):
            m = gt == k
            count, labels = cv2.connectedComponents(m.astype(np.uint8), connectivity=8)
            hit = np.bincount(labels[(pred > 0) & m], minlength=count) > 0
            self._labelled[k, 0] += count - 1
            self._labelled[k, 1] += int(np.count_nonzero(hit[1:]))
        pr, gr, pairs = _pairs(pred > 0, gt > 0, self.merge_gap_px, self.chain_gap_px)
        touched = np.bincount(pr[1][(pred > 0) & (gt > 0)], minlength=pr[0]) > 0
        for i in range(1, pr[0]):
            if not touched[i]:
                self._labelled[region_kind(pred, pr[1] == i), 2] += 1
        if not pairs:
            return
        pd = dict(measure_regions(pred > 0, mm_per_px, regions=pr))
        gd = dict(measure_regions(gt > 0, mm_per_px, regions=gr))
        self._units.add("mm" if mm_per_px else "px")
        for i, j in pairs:
            gk, pk = region_kind(gt, gr[1] == j), region_kind(pred, pr[1] == i)
            self._defects[gk, pk] += 1
            if gk and i in pd and j in gd:
                p, g = pd[i], gd[j]
                err = abs(p.length_mm - g.length_mm) if mm_per_px else abs(p.length_px - g.length_px)
                self._errors[self.names[gk - 1]].append(float(err))

    def summary(self) -> dict:
        """{"kind_miou", "kind_accuracy" (matched defects of the right kind), "kinds": {name: {iou,
        labelled, found, recall, false_alarms, matched, length_error_mean}}, "kind_confusion":
        {"labels", "matrix"} (labelled kind x predicted kind over matched defects, "background" = 0)}."""
        sc = class_scores(self._pixels)
        matched = self._defects[1:, 1:]
        kinds = {}
        for k, name in enumerate(self.names, start=1):
            labelled, found, false_alarms = (int(v) for v in self._labelled[k])
            errs = self._errors[name]
            kinds[name] = {"iou": None if np.isnan(sc["iou"][k]) else float(sc["iou"][k]),
                           "labelled": labelled, "found": found, "recall": found / labelled if labelled else None,
                           "false_alarms": false_alarms, "matched": int(self._defects[k].sum()),
                           "length_error_mean": float(np.mean(errs)) if errs else None}
        total = int(matched.sum())
        return {"kind_miou": sc["miou"], "iou_background_kinds": float(sc["iou"][0]),
                "kind_accuracy": float(np.trace(matched)) / total if total else None,
                "length_unit": "mm" if self._units == {"mm"} else "px" if self._units else None,
                "kinds": kinds,
                "kind_confusion": {"labels": ["background", *self.names], "matrix": self._defects.tolist()}}
