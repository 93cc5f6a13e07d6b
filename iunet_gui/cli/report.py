"""iunet-gui report: the inspection reports of a project from its inspection log alone (no network)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", metavar="PROJECT", help="the project folder (holding iunet_inspections.sqlite)")
    p.add_argument("--out", default=None, metavar="DIR", help="where the reports go (default: PROJECT/iunet_reports)")
    p.add_argument("--report", default="html,pdf,csv", metavar="KINDS", help="reports to write (default: html,pdf,csv)")
    p.add_argument("--title", default="Inspection report")


def run(args) -> int:
    from iunet_gui.app.records import LOG_FILE, InspectionLog
    from iunet_gui.app.reports import parse_kinds, write_reports
    from iunet_gui.cli.qt_pdf import qt_pdf
    from iunet_gui.core.errors import IunetError

    kinds = parse_kinds(args.report)
    folder = Path(args.project)
    if not folder.is_dir():
        raise IunetError(f"{folder}: not a project folder")
    if not (folder / LOG_FILE).is_file():
        raise IunetError(f"{folder}: no inspection log ({LOG_FILE}); run `iunet-gui inspect` on it first")
    with InspectionLog(folder) as log:
        written = write_reports(log, Path(args.out) if args.out else folder / "iunet_reports", kinds,
                                title=args.title, folder=str(folder.resolve()), pdf_fallback=qt_pdf)
        print(f"{len(log.latest_inspections())} part(s) in the report")
    for kind, path in written.items():
        print(f"{kind}: {path}")
    return 0
