"""Defect-level figures: which labelled defects a prediction finds, its false alarms, how visible
each labelled defect is, and tolerance scores for thin defects.

- A labelled defect is a connected region (8-connected) of one kind's ground-truth mask. It is
  FOUND when at least one predicted pixel lies on it.
- A FALSE ALARM is a predicted region (grouped as the app groups predictions, core.measure
  .label_regions) that touches no labelled pixel of any kind.
- The local CONTRAST of a labelled defect is the mean grey level inside it minus the mean of a
  band `band_px` wide around it (other labelled pixels left out of the band): > 0 is a bright
  defect, < 0 a dark one. A defect whose |contrast| is at least VISIBLE_CONTRAST grey levels is
  "plainly visible"; the others are faint.
- TOLERANCE scores (as crack detection is scored, e.g. CrackForest): a predicted pixel is correct
  when a labelled pixel lies within `tolerance_px` of it, a labelled pixel is found when a
  predicted pixel lies within `tolerance_px` of it; precision, recall and F1 on those counts.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from iunet_gui.core.measure import label_regions

VISIBLE_CONTRAST = 20.0  # grey levels (0..255): a labelled defect at least this far from its surroundings is plainly visible
CONTRAST_BAND_PX = 4  # width of the band around a labelled defect that its contrast is measured against
TOLERANCE_PX = 2.0  # the thin-defect tolerance of the CrackForest scores
DEFAULT_KIND = "defect"


@dataclass(frozen=True)
class LabelledDefect:
    """One labelled defect of an image and whether the prediction found it."""

    kind: str
    found: bool
    area_px: int
    centroid: tuple[float, float]  # x, y
    contrast: float | None = None  # mean grey inside minus the band around it; None without an image

    @property
    def visibility(self) -> str | None:
        """'visible' (|contrast| >= VISIBLE_CONTRAST), 'faint', or None when the contrast is unknown."""
        if self.contrast is None:
            return None
        return "visible" if abs(self.contrast) >= VISIBLE_CONTRAST else "faint"

    def to_dict(self) -> dict:
        return {**asdict(self), "visibility": self.visibility}


def kind_masks(gt, kind_names=None) -> list[tuple[str, np.ndarray]]:
    """The ground truth as (kind, bool mask) pairs. `gt`: a mask (non-zero = defect, one kind,
    'defect'); a list of (kind, mask) pairs or a {kind: mask} dict; or, with `kind_names`, an
    integer label map (0 = background, k > 0 = the kind `kind_names[k - 1]`)."""
    if isinstance(gt, dict):
        return [(str(k), np.asarray(m) > 0) for k, m in gt.items()]
    if isinstance(gt, (list, tuple)):
        return [(str(k), np.asarray(m) > 0) for k, m in gt]
    gt = np.asarray(gt)
    if kind_names is None:
        return [(DEFAULT_KIND, gt > 0)]
    return [(str(kind_names[int(k) - 1]), gt == k) for k in np.unique(gt[gt > 0])]


def shape_kinds(shapes, image_shape_hw) -> list[tuple[str, np.ndarray]]:
    """Labelme shapes (core.annotation.Shape) as (kind, mask) pairs, one per label, rasterised as the
    ground-truth mask is (core.geometry.shapes_to_mask), in order of first appearance."""
    from iunet_gui.core.geometry import shapes_to_mask

    labels = list(dict.fromkeys(s.label for s in shapes if not s.is_degenerate))
    return [(label, shapes_to_mask(shapes, image_shape_hw, labels=[label])) for label in labels]


def grey_levels(image: np.ndarray) -> np.ndarray:
    """A photo as float32 grey levels 0..255 (RGB weighted as OpenCV's RGB2GRAY; alpha ignored;
    16-bit images scaled down)."""
    img = np.asarray(image)
    scale = 255.0 / 65535.0 if img.dtype == np.uint16 else 1.0
    if img.ndim == 3:
        img = img[:, :, 0] if img.shape[2] < 3 else img[:, :, :3].astype(np.float32) @ np.array(
            [0.299, 0.587, 0.114], np.float32)
    return img.astype(np.float32) * np.float32(scale)


def _disk(radius: float) -> np.ndarray:
    r = int(np.floor(radius))
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return ((x * x + y * y) <= radius * radius + 1e-9).astype(np.uint8)


def _contrasts(labels: np.ndarray, grey: np.ndarray, labelled: np.ndarray, band_px: int) -> dict[int, float]:
    """{region label: mean grey inside minus mean of the band around it} (regions with an empty band left out)."""
    from scipy import ndimage

    disk, h, w = _disk(band_px), labels.shape[0], labels.shape[1]
    out = {}
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        y0, y1 = max(sl[0].start - band_px, 0), min(sl[0].stop + band_px, h)
        x0, x1 = max(sl[1].start - band_px, 0), min(sl[1].stop + band_px, w)
        region = labels[y0:y1, x0:x1] == i
        band = cv2.dilate(region.astype(np.uint8), disk).astype(bool) & ~labelled[y0:y1, x0:x1]
        if band.any():
            g = grey[y0:y1, x0:x1]
            out[i] = float(g[region].mean() - g[band].mean())
    return out


def find_defects(pred: np.ndarray, gt, image: np.ndarray | None = None, *, kind_names=None,
                 merge_gap_px: float = 0, chain_gap_px: float | None = None,
                 band_px: int = CONTRAST_BAND_PX) -> tuple[list[LabelledDefect], int]:
    """(the image's labelled defects, each found or not, with its contrast when `image` is given;
    the number of false alarms). `gt` as `kind_masks` takes it; the predicted regions are grouped
    with `merge_gap_px` / `chain_gap_px` as the app groups them."""
    if not band_px >= 1:
        raise ValueError(f"the contrast band must be >= 1 px wide, not {band_px}")
    pred = np.asarray(pred) > 0
    kinds = kind_masks(gt, kind_names)
    for kind, m in kinds:
        if m.shape != pred.shape:
            raise ValueError(f"prediction {pred.shape[::-1]} and ground truth of {kind!r} {m.shape[::-1]} differ in size")
    labelled = np.zeros(pred.shape, bool)
    for _, m in kinds:
        labelled |= m
    grey = None
    if image is not None:
        grey = grey_levels(image)
        if grey.shape != pred.shape:
            raise ValueError(f"image {grey.shape[::-1]} and prediction {pred.shape[::-1]} differ in size")
    defects = []
    for kind, m in kinds:
        n, labels, stats, cents = cv2.connectedComponentsWithStats(m.astype(np.uint8), connectivity=8)
        hit = np.bincount(labels[pred & m], minlength=n) > 0
        contrast = _contrasts(labels, grey, labelled, band_px) if grey is not None else {}
        defects += [LabelledDefect(kind, bool(hit[i]), int(stats[i, 4]), (float(cents[i, 0]), float(cents[i, 1])),
                                   contrast.get(i)) for i in range(1, n)]
    pn, plabels = label_regions(pred, merge_gap_px, chain_gap_px)[:2]
    touched = np.bincount(plabels[pred & labelled], minlength=pn) > 0
    return defects, int(pn - 1 - np.count_nonzero(touched[1:]))


def tolerance_counts(pred: np.ndarray, gt: np.ndarray, tolerance_px: float = TOLERANCE_PX) -> tuple[int, int, int, int]:
    """(predicted pixels near a labelled one, predicted pixels, labelled pixels near a predicted one,
    labelled pixels); "near": within `tolerance_px` (Euclidean)."""
    if not tolerance_px >= 0:
        raise ValueError(f"the tolerance must be >= 0 px, not {tolerance_px}")
    pred = np.asarray(pred) > 0
    gt = np.asarray(gt) > 0
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape[::-1]} and ground truth {gt.shape[::-1]} differ in size")
    disk = _disk(tolerance_px)
    near_gt = cv2.dilate(gt.astype(np.uint8), disk).astype(bool)
    near_pred = cv2.dilate(pred.astype(np.uint8), disk).astype(bool)
    return (int(np.count_nonzero(pred & near_gt)), int(np.count_nonzero(pred)),
            int(np.count_nonzero(gt & near_pred)), int(np.count_nonzero(gt)))


def tolerance_scores(pred_near: int, pred_total: int, gt_near: int, gt_total: int) -> dict:
    """Precision, recall and F1 of `tolerance_counts` (1.0 for an empty prediction / ground truth)."""
    precision = 1.0 if pred_total == 0 else pred_near / pred_total
    recall = 1.0 if gt_total == 0 else gt_near / gt_total
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1}


def recall_table(defects: list[LabelledDefect]) -> dict:
    """{"all" / "visible" / "faint" / "visible_bright" / "visible_dark" / "kind:<name>": {labelled,
    found, recall}} of labelled defects (recall None for a group without defects)."""
    groups: dict[str, list[bool]] = {"all": [], "visible": [], "faint": [], "visible_bright": [], "visible_dark": []}
    for d in defects:
        groups["all"].append(d.found)
        groups.setdefault(f"kind:{d.kind}", []).append(d.found)
        if d.visibility is not None:
            groups[d.visibility].append(d.found)
        if d.visibility == "visible":
            groups["visible_bright" if d.contrast > 0 else "visible_dark"].append(d.found)
    return {name: {"labelled": len(f), "found": int(sum(f)), "recall": (sum(f) / len(f)) if f else None}
            for name, f in groups.items()}
