"""Detection reports for QA: one CSV row per defect of a folder's predictions, matched with the
ground truth where an image is labelled (found / false alarm / missed, with the length error), then
the defect-level figures over the labelled images as "summary" rows (labelled defects found, per kind,
plainly visible bright / dark and faint; false alarms per image; core.detection)."""
from __future__ import annotations

import csv
import io
import os

import numpy as np

from iunet_gui.core.atomic import atomic_write_text
from iunet_gui.core.metrics import match_defects

COLUMNS = ("image", "defect", "status", "unit", "length", "width", "angle_deg", "area_px", "centroid_x",
           "centroid_y", "gt_length", "length_error", "iou", "figure", "count", "of", "value")
PROVENANCE = ("model", "threshold", "folder", "created")  # a report's leading columns: what produced it


def _size(d, mm: float | None) -> tuple:
    if mm:
        return round(d.length_mm, 4), round(d.width_mm, 4)
    return round(d.length_px, 2), round(d.width_px, 2)


def report_rows(image: str, pred_mask: np.ndarray, gt_mask: np.ndarray | None, mm_per_px: float | None = None,
                merge_gap_px: float = 0, chain_gap_px: float | None = None, defects=None, matched=None) -> list[dict]:
    """Rows of one image. With ground truth: each predicted defect "found" (with the matched one's
    length, the error and the IoU) or a "false alarm", each unmatched true defect "missed". Without:
    each predicted defect ("predicted"; `defects` are the prediction's own measurements when given).
    Lengths in mm when the image is calibrated, else in px (column "unit"). `matched`: the
    match_defects result for these masks when the caller has it (Evaluator.match)."""
    unit = "mm" if mm_per_px else "px"
    rows = []

    def row(status, d=None, gt=None, iou=None):
        r = {"image": image, "defect": len(rows) + 1, "status": status, "unit": unit}
        if d is not None:
            length, width = _size(d, mm_per_px)
            r.update(length=length, width=width, angle_deg=round(d.angle_deg, 2), area_px=round(d.area_px, 1),
                     centroid_x=round(d.centroid[0], 1), centroid_y=round(d.centroid[1], 1))
        if gt is not None:
            r["gt_length"] = _size(gt, mm_per_px)[0]
            if d is not None:
                r["length_error"] = round(r["length"] - r["gt_length"], 4)
        if iou is not None:
            r["iou"] = round(iou, 4)
        rows.append(r)

    if gt_mask is None:
        if defects is None:
            from iunet_gui.core.measure import measure_mask

            defects = measure_mask(pred_mask, mm_per_px, merge_gap_px=merge_gap_px, chain_gap_px=chain_gap_px)
        for d in defects:
            row("predicted", d)
        return rows
    pairs, false_alarms, missed = matched if matched is not None else match_defects(
        pred_mask, gt_mask, mm_per_px, merge_gap_px=merge_gap_px, chain_gap_px=chain_gap_px)
    for d, gt, iou in pairs:
        row("found", d, gt, iou)
    for d in false_alarms:
        row("false alarm", d)
    for gt in missed:
        row("missed", None, gt)
    return rows


def summary_rows(summary: dict | None) -> list[dict]:
    """The defect-level figures of an Evaluator summary as rows of status "summary": "found <group>"
    (count labelled defects found of `of`, value the recall, empty without defects) for all, each
    kind, plainly visible, its bright and dark ones, and faint ones; "false alarms per image" (count
    false alarms of `of` images). No rows without a summary."""
    if not summary:
        return []
    groups = [("all", summary["defects_found"], summary["defects_labelled"])]
    groups += [(f"kind {k}", v["found"], v["labelled"]) for k, v in summary["defect_kinds"].items()]
    groups += [(name.replace("_", " "), summary[f"found_{key}"], summary[f"defects_{key}"])
               for key, name in (("visible", "plainly_visible"), ("visible_bright", "plainly_visible_bright"),
                                 ("visible_dark", "plainly_visible_dark"), ("faint", "faint"))]
    rows = [{"status": "summary", "figure": f"found {name}", "count": found, "of": labelled,
             "value": round(found / labelled, 4) if labelled else ""} for name, found, labelled in groups]
    n = summary["images"]
    rows.append({"status": "summary", "figure": "false alarms per image", "count": summary["false_alarms"], "of": n,
                 "value": round(summary["false_alarms"] / n, 4) if n else ""})
    return rows + kind_rows(summary)


def kind_rows(summary: dict) -> list[dict]:
    """A multi-class model's figures per kind (core.kinds) as "summary" rows: "IoU kind <name>",
    "false alarms kind <name>", "length error kind <name>", "MIoU all classes", "kind as labelled" (matched
    defects predicted as their labelled kind, of all matched) and "kind <labelled> as <predicted>"
    (each cell of the confusion matrix of kinds that is not 0). None without kinds."""
    if not summary.get("kinds"):
        return []

    def r(figure, value="", count="", of=""):
        return {"status": "summary", "figure": figure, "value": "" if value is None else value, "count": count, "of": of}

    rows = [r("MIoU all classes", round(summary["kind_miou"], 4))]
    for k, v in summary["kinds"].items():
        rows.append(r(f"IoU kind {k}", None if v["iou"] is None else round(v["iou"], 4)))
        rows.append(r(f"false alarms kind {k}", count=v["false_alarms"]))
        err = v["length_error_mean"]
        rows.append(r(f"length error kind {k}", None if err is None else round(err, 4), count=v["matched"]))
    labels, matrix = summary["kind_confusion"]["labels"], summary["kind_confusion"]["matrix"]
    right = sum(matrix[i][i] for i in range(1, len(labels)))
    total = sum(sum(row[1:]) for row in matrix[1:])
    rows.append(r("kind as labelled", round(right / total, 4) if total else "", right, total))
    rows += [r(f"kind {labels[i]} as {labels[j]}", count=matrix[i][j])
             for i in range(1, len(labels)) for j in range(1, len(labels)) if matrix[i][j]]
    return rows


def write_report_csv(path: str | os.PathLike, rows: list[dict], provenance: dict | None = None) -> None:
    """The rows as CSV (columns COLUMNS, empty where a value does not apply), written atomically.
    `provenance` (e.g. PROVENANCE: the model, threshold, folder and time that produced the rows) comes
    first, the same on every row, so that each row says where it came from."""
    lead = dict(provenance or {})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=(*lead, *COLUMNS), restval="", lineterminator="\n")
    w.writeheader()
    w.writerows({**lead, **r} for r in rows)
    atomic_write_text(path, buf.getvalue())
