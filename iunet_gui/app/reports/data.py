"""What a report says, gathered from the inspection log alone: the latest inspection of each image with
its defects and review decisions, the counts by verdict and by defect class, the specifications and
models used, and, over the labelled images, the paper's Table 3 (MIoU, defect IoU, accuracy) and
Table 4 (mean / max length error) figures."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from iunet_gui.core.spec import STATUSES


@dataclass
class ReportImage:
    inspection: dict  # the log's row: image_path, status, reasons, model_id, threshold, mm_per_px, scores ...
    defects: list[dict]
    decisions: list[dict]

    @property
    def name(self) -> str:
        return str(self.inspection["image_path"]).replace("\\", "/").rsplit("/", 1)[-1]

    def defect_decision(self, index: int) -> dict | None:
        """The latest decision on one defect."""
        for d in reversed(self.decisions):
            if d["defect_index"] == index:
                return d
        return None


@dataclass
class ReportData:
    title: str
    created: str
    images: list[ReportImage] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)  # defects per class
    specifications: list[dict] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)  # model_id, thresholds, images, its training runs
    figures: dict | None = None  # Tables 3 and 4 over the labelled images; None when none is labelled
    folder: str = ""


def gather(log, title: str = "Inspection report", folder: str = "") -> ReportData:
    """The report of the latest inspection of every image in `log` (an app.records.InspectionLog)."""
    rows = log.latest_inspections()
    data = ReportData(title, datetime.now(timezone.utc).isoformat(timespec="seconds"), folder=folder)
    for row in rows:
        data.images.append(ReportImage(row, log.defects(row["id"]), log.decisions(row["id"])))
    counts = Counter(im.inspection["status"] for im in data.images)
    data.verdicts = {s: counts.get(s, 0) for s in STATUSES} | {s: n for s, n in counts.items() if s not in STATUSES}
    data.classes = dict(Counter(d["class"] or "defect" for im in data.images for d in im.defects).most_common())
    for row in rows:
        spec = row.get("specification")
        if spec is not None and spec not in data.specifications:
            data.specifications.append(spec)
    runs = log.training_runs()
    by_model: dict[str, dict] = {}
    for row in rows:
        m = by_model.setdefault(row["model_id"] or "", {"model_id": row["model_id"] or "", "thresholds": [],
                                                         "images": 0, "training": []})
        m["images"] += 1
        if row["threshold"] is not None and round(row["threshold"], 4) not in m["thresholds"]:
            m["thresholds"].append(round(row["threshold"], 4))
    for m in by_model.values():
        m["training"] = [r for r in runs if r["model_id"] and _same_model(r["model_id"], m["model_id"])]
    data.models = list(by_model.values())
    data.figures = figures([im.inspection.get("scores") for im in data.images])
    return data


def _same_model(a: str, b: str) -> bool:
    return a == b or a.replace("\\", "/").rsplit("/", 1)[-1] == b.replace("\\", "/").rsplit("/", 1)[-1]


def figures(scores: list[dict | None]) -> dict | None:
    """Table 3 (MIoU and defect IoU pooled over the pixels of the labelled images, accuracy: the share
    of images whose defect IoU reaches the threshold) and Table 4 (mean and max length error of the
    matched defects) from the images' score records; None when none is labelled."""
    recs = [s for s in scores if s and "tp" in s]
    if not recs:
        return None
    tp, fp, fn, tn = (sum(int(r.get(k, 0)) for r in recs) for k in ("tp", "fp", "fn", "tn"))
    iou_d = tp / (tp + fp + fn) if tp + fp + fn else 1.0
    iou_b = tn / (tn + fp + fn) if tn + fp + fn else 1.0
    matched = [(r.get("matched") or 0, r.get("length_error_mean"), r.get("length_error_max"), r.get("length_unit"))
               for r in recs if r.get("length_error_mean") is not None]
    units = {u for *_, u in matched}
    unit = "mm" if "mm" in units else ("px" if units else None)
    use = [m for m in matched if m[3] == unit]
    n = sum(m[0] for m in use)
    return {
        "images": len(recs), "miou": (iou_d + iou_b) / 2, "iou_defect": iou_d,
        "accuracy": sum(bool(r.get("accurate")) for r in recs) / len(recs),
        "length_unit": unit,
        "length_error_mean": sum(m[0] * m[1] for m in use) / n if n else None,
        "length_error_max": max((m[2] for m in use), default=None),
        "matched_defects": n,
    }
