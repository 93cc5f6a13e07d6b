"""The HTML report: one self-contained file (styles inline, thumbnails as data URIs) that any browser
opens and prints. Everything that comes from files or people (file names, labels, reasons, notes,
reviewer names, model names) is escaped, so it shows as text."""
from __future__ import annotations

from html import escape

from iunet_gui.app.reports.data import ReportData, ReportImage, gather
from iunet_gui.app.reports.thumbs import thumbnail_uri
from iunet_gui.core.atomic import atomic_write_text

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc}
h3{font-size:15px;margin:0 0 6px} .muted{color:#666;font-size:12px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px} td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f0f0f0;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:4px;font-weight:600;color:#fff}
.NG{background:#d32f2f} .OK{background:#2e7d32} .check{background:#ef6c00} .uncalibrated{background:#6d4c41}
.image{display:flex;gap:16px;margin:14px 0;padding:10px;border:1px solid #ddd;border-radius:6px;
 page-break-inside:avoid} .image img{width:360px;height:auto;border:1px solid #999}
.tiles{display:flex;gap:14px;flex-wrap:wrap} .tile{border:1px solid #ccc;border-radius:6px;padding:8px 14px}
.tile b{display:block;font-size:22px}
"""


def _fmt(v, digits: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return escape(str(v))


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.2f} %"


def _table(headers, rows, num_from: int = 1) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i >= num_from else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _summary(data: ReportData) -> str:
    parts = [f'<div class="tiles"><div class="tile">parts inspected<b>{len(data.images)}</b></div>']
    parts += [f'<div class="tile"><span class="badge {escape(s)}">{escape(s)}</span><b>{n}</b></div>'
              for s, n in data.verdicts.items()]
    parts.append("</div>")
    parts.append("<h3>Defects per class</h3>" + (_table(["class", "defects"], [[escape(c), n] for c, n in
                                                                                 data.classes.items()])
                                                  if data.classes else '<p class="muted">no defects found</p>'))
    parts.append("<h3>Specification</h3>")
    if not data.specifications:
        parts.append('<p class="muted">none recorded</p>')
    for spec in data.specifications:
        rows = [[escape(c), _fmt(lim.get("max_length_mm")), _fmt(lim.get("max_width_mm")),
                 _fmt(lim.get("max_area_mm2")), _fmt(lim.get("max_count"))] for c, lim in spec["limits"].items()]
        parts.append(_table(["class", "max length (mm)", "max width (mm)", "max area (mm²)", "max count"], rows)
                     + f'<p class="muted">any limit exceeded: NG; check within ±{_fmt(spec.get("prob_band"))} '
                       f'of the threshold or {_pct(spec.get("size_margin"))} of a limit</p>')
    parts.append("<h3>Model</h3>")
    for m in data.models:
        thr = ", ".join(f"{t:.2f}" for t in m["thresholds"]) or "–"
        parts.append(f"<p><b>{escape(m['model_id'])}</b> · threshold {thr} · {m['images']} image(s)</p>")
        for run in m["training"]:
            metrics = ", ".join(f"{escape(str(k))} {_fmt(v, 4)}" for k, v in run["metrics"].items())
            parts.append(f'<p class="muted">trained on {run["data_size"]} image(s): {metrics}</p>')
    if data.folder:
        parts.append(f"<p>Data: {escape(data.folder)}</p>")
    return "\n".join(parts)


def _figures(fig: dict | None) -> str:
    if fig is None:
        return '<p class="muted">No labelled image among the inspected ones: no accuracy figures.</p>'
    unit = escape(fig["length_unit"] or "")
    return (f"<p>Over {fig['images']} labelled image(s) ({fig['matched_defects']} matched defect(s)).</p>"
            "<h3>Segmentation (the paper's Table 3)</h3>"
            + _table(["MIoU", "defect IoU", "accuracy"], [[_pct(fig["miou"]), _pct(fig["iou_defect"]),
                                                            _pct(fig["accuracy"])]], num_from=0)
            + "<h3>Length (the paper's Table 4)</h3>"
            + _table([f"mean length error ({unit})", f"max length error ({unit})"],
                     [[_fmt(fig["length_error_mean"], 3), _fmt(fig["length_error_max"], 3)]], num_from=0))


def _decision_text(d: dict | None) -> str:
    if d is None:
        return ""
    note = f": {escape(d['note'])}" if d.get("note") else ""
    return f"{escape(d['decision'])} by {escape(d.get('reviewer') or '?')}{note}"


def _image(im: ReportImage, uri: str | None) -> str:
    ins = im.inspection
    mm = ins.get("mm_per_px")
    rows = []
    for d in im.defects:
        length = f"{d['length_mm']:.2f} mm" if d.get("length_mm") is not None else f"{d['length_px']:.1f} px"
        width = f"{d['width_mm']:.2f} mm" if d.get("width_mm") is not None else f"{d['width_px']:.1f} px"
        area = f"{d['area_mm2']:.2f} mm²" if d.get("area_mm2") is not None else f"{d['area_px']:.0f} px"
        rows.append([d["idx"] + 1, escape(d["class"] or "defect"), length, width, area, _fmt(d.get("probability")),
                     escape(d.get("judged") or ""), _decision_text(im.defect_decision(d["idx"]))])
    image_decisions = [d for d in im.decisions if d["defect_index"] is None]
    reasons = "".join(f"<li>{escape(r)}</li>" for r in ins["reasons"])
    status = escape(ins["status"])
    scale = f"{mm:.4f} mm/px" if mm else "uncalibrated"
    return ('<div class="image">' + (f'<img alt="{escape(im.name)}" src="{uri}">' if uri else "")
            + f"<div><h3>{escape(im.name)} <span class=\"badge {status}\">{status}</span></h3>"
            + f'<p class="muted">{escape(str(ins["image_path"]))} · model {escape(ins.get("model_id") or "–")} · '
              f'threshold {_fmt(ins.get("threshold"))} · {scale} · '
              f'{escape(ins.get("created") or "")}</p>'
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + (_table(["#", "class", "length", "width", "area", "p", "judged", "review"], rows, num_from=2)
               if rows else '<p class="muted">no defect found</p>')
            + "".join(f'<p>Review: {_decision_text(d)} <span class="muted">{escape(d["created"])}</span></p>'
                      for d in image_decisions)
            + "</div></div>")


def _comparison(results) -> str:
    """Models side by side (app.compare.figure_rows of [(name, summary)]): one column per model, best bold."""
    from iunet_gui.app.compare import figure_rows

    rows = [[escape(r.label), *(f"<b>{_fmt(v)}</b>" if k in r.best else _fmt(v) for k, v in enumerate(r.values))]
            for r in figure_rows(results)]
    return _table(["figure", *(name for name, _s in results)], rows)


def render_html(data: ReportData, masks: dict | None = None, comparison=None) -> str:
    """The report as one HTML text. `masks`: image path -> predicted mask, drawn over the thumbnails;
    `comparison`: [(model name, summary)] of models compared on the labelled images (app.compare)."""
    masks = {str(k): v for k, v in (masks or {}).items()}
    body = [f"<h1>{escape(data.title)}</h1><p class=\"muted\">{escape(data.created)}</p>",
            "<h2>Summary</h2>", _summary(data), "<h2>Accuracy against the labels</h2>", _figures(data.figures)]
    if comparison:
        body += ["<h2>Models compared</h2>", _comparison(comparison)]
    body.append("<h2>Images</h2>")
    for im in data.images:
        path = str(im.inspection["image_path"])
        body.append(_image(im, thumbnail_uri(path, im.defects, masks.get(path))))
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(data.title)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def write_html(log, out, *, title: str = "Inspection report", folder: str = "", masks: dict | None = None,
               data: ReportData | None = None, comparison=None) -> ReportData:
    """Write the report of `log` (app.records.InspectionLog) to `out` atomically; returns its data.
    `comparison`: models compared side by side, a section of their own (render_html)."""
    data = data or gather(log, title, folder)
    atomic_write_text(out, render_html(data, masks, comparison))
    return data
