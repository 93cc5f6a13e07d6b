"""The CSV of all defects in the inspection log (latest inspection of each image): core.report's
columns, plus the defect's class, the image's verdict and reasons, and the latest review decision."""
from __future__ import annotations

import csv
import io

from iunet_gui.app.reports.data import ReportData, gather
from iunet_gui.core.atomic import atomic_write_text
from iunet_gui.core.report import COLUMNS

EXTRA = ("class", "probability", "judged", "verdict", "reasons", "decision", "reviewer", "note", "model", "threshold")


def csv_rows(data: ReportData) -> list[dict]:
    """One row per defect; an image without defects gets one row with its verdict (status "none")."""
    rows = []
    for im in data.images:
        ins = im.inspection
        base = {"image": im.name, "verdict": ins["status"], "reasons": "; ".join(ins["reasons"]),
                "model": ins.get("model_id") or "", "threshold": ins.get("threshold")}
        if not im.defects:
            rows.append({**base, "status": "none"})
        for d in im.defects:
            mm = d.get("length_mm") is not None
            decision = im.defect_decision(d["idx"]) or {}
            rows.append({**base, "defect": d["idx"] + 1, "status": "predicted", "unit": "mm" if mm else "px",
                         "length": round(d["length_mm"] if mm else d["length_px"], 4),
                         "width": round(d["width_mm"] if mm else d["width_px"], 4),
                         "angle_deg": round(d["angle_deg"], 2), "area_px": round(d["area_px"], 1),
                         "centroid_x": round(d["cx"], 1), "centroid_y": round(d["cy"], 1),
                         "class": d["class"] or "defect", "probability": d.get("probability"),
                         "judged": d.get("judged") or "", "decision": decision.get("decision", ""),
                         "reviewer": decision.get("reviewer", ""), "note": decision.get("note", "")})
    return rows


def _safe(v):
    """A cell a spreadsheet will not run as a formula."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def write_csv(log, out, *, data: ReportData | None = None) -> ReportData:
    """Write the defects CSV of `log` to `out` atomically; returns the report data it was made from."""
    data = data or gather(log)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=(*COLUMNS, *EXTRA), restval="", lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows({k: _safe(v) for k, v in r.items()} for r in csv_rows(data))
    atomic_write_text(out, buf.getvalue())
    return data
