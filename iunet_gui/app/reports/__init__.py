"""Reports of the inspection log (app.records), made from the log alone:

- `write_html(log, out, title=..., folder=..., masks=None)`: one self-contained HTML file (app.reports.html);
- `write_pdf(html_path, out, fallback=None)`: its PDF, by Chromium or the caller's Qt writer (app.reports.pdf);
- `write_csv(log, out)`: every defect with its class, verdict, reasons and review decision (app.reports.csv);
- `write_reports(log, out_dir, kinds, ...)`: the ones asked for, as inspection_report.html / .pdf / .csv.
"""
from __future__ import annotations

from pathlib import Path

KINDS = ("html", "pdf", "csv")
REPORT_NAME = "inspection_report"


def parse_kinds(text: str) -> list[str]:
    """"html,pdf,csv" -> the kinds, checked."""
    from iunet_gui.core.errors import IunetError

    kinds = [k.strip().lower() for k in str(text).split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise IunetError(f"--report: unknown kind {', '.join(bad) or repr(text)}; choose from {', '.join(KINDS)}")
    return list(dict.fromkeys(kinds))


def write_reports(log, out_dir, kinds=KINDS, *, title: str = "Inspection report", folder: str = "",
                  masks: dict | None = None, pdf_fallback=None) -> dict[str, Path]:
    """Write the reports of `kinds` into `out_dir`; returns kind -> path written. A PDF needs the
    HTML: it is written beside it (and kept) when only the PDF is asked for."""
    from iunet_gui.app.reports.csv import write_csv
    from iunet_gui.app.reports.data import gather
    from iunet_gui.app.reports.html import write_html
    from iunet_gui.app.reports.pdf import write_pdf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = gather(log, title, folder)
    written: dict[str, Path] = {}
    if "html" in kinds or "pdf" in kinds:
        written["html"] = out_dir / f"{REPORT_NAME}.html"
        write_html(log, written["html"], masks=masks, data=data)
    if "pdf" in kinds:
        written["pdf"] = out_dir / f"{REPORT_NAME}.pdf"
        write_pdf(written["html"], written["pdf"], fallback=pdf_fallback)
    if "csv" in kinds:
        written["csv"] = out_dir / f"{REPORT_NAME}.csv"
        write_csv(log, written["csv"], data=data)
    return written
