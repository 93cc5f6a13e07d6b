"""Models side by side on the same labelled images: the paper's Table 3 and Table 4 with one value per
model and the best marked, per-image rows ordered by how the models differ, and for one image the
true-positive / false-positive / false-negative pixels of a prediction (core.metrics counts them).
`iunet-gui evaluate --compare` prints `comparison_table`; the window's comparison view shows
`figure_rows` of the same results, so the two agree figure for figure."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# (label, summary key, factor, "max" or "min" is best, table) -- the CLI's column order
FIGURES = (
    ("Accuracy %", "accuracy", 100, "max", "Table 3"),
    ("MIoU %", "miou", 100, "max", "Table 3"),
    ("IoU defect %", "iou_defect", 100, "max", "Table 3"),
    ("Pixel accuracy %", "pixel_accuracy", 100, "max", "Table 3"),
    ("Max error (mm)", "length_error_max", 1, "min", "Table 4"),
    ("Average error (mm)", "length_error_mean", 1, "min", "Table 4"),
    ("Defects found %", "defect_recall", 100, "max", "defects"),
    ("Visible found %", "recall_visible", 100, "max", "defects"),
    ("False alarms / image", "false_alarms_per_image", 1, "min", "defects"),
)


def figure(summary: dict, key: str, factor: float) -> float | None:
    v = summary.get(key)
    return None if v is None else factor * float(v)


def comparison_table(results) -> tuple[list[str], list[list]]:
    """(headers, one row per model) of [(name, summary)] as `evaluate --compare` prints them."""
    return (["model", *(label for label, *_ in FIGURES)],
            [[name, *(figure(s, key, f) for _l, key, f, *_ in FIGURES)] for name, s in results])


@dataclass
class FigureRow:
    label: str
    table: str
    values: list  # one per model (None where there is no figure, e.g. no matched defect)
    best: set = field(default_factory=set)  # indices of the models with the best value


def figure_rows(results) -> list[FigureRow]:
    """One row per figure of FIGURES, one value per model, the best ones marked (ties all marked; none
    when every model has the same value)."""
    rows = []
    for label, key, factor, better, table in FIGURES:
        values = [figure(s, key, factor) for _n, s in results]
        known = [v for v in values if v is not None]
        best = set()
        if len(set(known)) > 1:
            target = max(known) if better == "max" else min(known)
            best = {i for i, v in enumerate(values) if v == target}
        rows.append(FigureRow(label, table, values, best))
    return rows


@dataclass
class Comparison:
    names: list[str]
    summaries: list[dict]
    records: list[list[dict]]  # per model, per image
    length_errors: list[list[float]] = field(default_factory=list)  # per model, |error| of each matched defect
    length_units: list[str] = field(default_factory=list)  # per model: "mm" when any image is calibrated, else "px"

    @property
    def results(self) -> list[tuple[str, dict]]:
        return list(zip(self.names, self.summaries))


def compare(models, data_dir, settings=None, names=None, progress=None, cancel=None) -> Comparison:
    """Every model on every labelled image of `data_dir` (app.evaluate.evaluate_model, as
    `evaluate --compare` scores them)."""
    from iunet_gui.app.evaluate import display_name, evaluate_model

    out = Comparison([], [], [])
    for k, m in enumerate(models):
        errors = {"mm": [], "px": []}

        def each(ev, errors=errors):  # each matched defect's error, from the image's report rows
            for row in getattr(ev.result, "rows", None) or []:
                if row.get("length_error") is not None:
                    errors[row["unit"]].append(abs(row["length_error"]))
            if progress:
                progress(ev)

        records, summary = evaluate_model(m, data_dir, settings, each, cancel)
        out.names.append(names[k] if names else display_name(m))
        out.summaries.append(summary)
        out.records.append(records)
        unit = summary.get("length_unit") or "mm"
        out.length_errors.append(errors[unit])
        out.length_units.append(unit)
    return out


def histogram(errors: list[list[float]], bins: int = 12) -> tuple[np.ndarray, list[np.ndarray]]:
    """(bin edges, counts per model) of length errors on common bins."""
    flat = [e for errs in errors for e in errs]
    top = max(flat) if flat else 1.0
    edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)
    return edges, [np.histogram(errs, bins=edges)[0] for errs in errors]


ORDERS = {
    "new misses": "labelled defects the first model finds and a later one misses, most first",
    "fixed false alarms": "false alarms of the first model a later one no longer makes, most first",
    "IoU dropped most": "defect IoU of the first model minus the worst of the others, largest first",
}


def image_rows(comp: Comparison, order: str = "IoU dropped most") -> list[dict]:
    """One row per image: each model's defect IoU, labelled defects found and false alarms, and the
    differences against the first model (the reference), sorted by `order` (ORDERS)."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; one of {', '.join(ORDERS)}")
    by_name = [{r["name"]: r for r in recs} for recs in comp.records]
    rows = []
    for name in by_name[0]:
        per = [m.get(name) for m in by_name]
        if any(r is None for r in per):
            continue
        ref, others = per[0], per[1:]
        rows.append({
            "image": name,
            "iou": [r["iou_defect"] for r in per],
            "found": [r["defects_found"] for r in per],
            "labelled": ref["defects_labelled"],
            "false_alarms": [r["false_alarms"] for r in per],
            "new misses": max(ref["defects_found"] - r["defects_found"] for r in others),
            "fixed false alarms": max(ref["false_alarms"] - r["false_alarms"] for r in others),
            "IoU dropped most": max(ref["iou_defect"] - r["iou_defect"] for r in others),
        })
    rows.sort(key=lambda r: (-r[order], r["image"]))
    return rows


def pixel_classes(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """uint8 map of a prediction against its labels: 1 true positive, 2 false positive, 3 false
    negative, 0 true negative; its counts are core.metrics.confusion's."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape[::-1]} and labels {gt.shape[::-1]} differ in size")
    out = np.zeros(pred.shape, np.uint8)
    out[pred & gt] = 1
    out[pred & ~gt] = 2
    out[~pred & gt] = 3
    return out


def matched_lengths(pred: np.ndarray, gt: np.ndarray, mm_per_px: float | None, merge_gap_px: float = 0,
                    chain_gap_px: float | None = None) -> list[dict]:
    """Each matched defect of one image: predicted and labelled length and the error (mm when calibrated)."""
    from iunet_gui.core.metrics import match_defects

    pairs, _, _ = match_defects(pred, gt, mm_per_px, merge_gap_px=merge_gap_px, chain_gap_px=chain_gap_px)
    unit = "mm" if mm_per_px else "px"
    rows = []
    for p, g, iou in pairs:
        lp, lg = (p.length_mm, g.length_mm) if mm_per_px else (p.length_px, g.length_px)
        rows.append({"predicted": lp, "labelled": lg, "error": abs(lp - lg), "unit": unit, "iou": iou})
    return rows
