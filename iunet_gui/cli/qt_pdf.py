"""A PDF of an HTML report with Qt alone (QTextDocument + QPdfWriter): the fallback of
app.reports.pdf.write_pdf where no Chromium is installed. Qt is imported when it is called.
`python -m iunet_gui.cli.qt_pdf REPORT.html OUT.pdf` runs it as its own process."""
from __future__ import annotations

import os
from pathlib import Path


def qt_pdf(html_text: str, out) -> None:
    """Lay `html_text` out on A4 pages and write them to `out` (a temp file, then renamed)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QMarginsF
    from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPdfWriter, QTextDocument

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (fonts need an application)
    out = Path(out)
    tmp = out.with_name(f".{out.name}.part.pdf")
    writer = QPdfWriter(str(tmp))
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait, QMarginsF(12, 12, 12, 12),
                                     QPageLayout.Millimeter))
    writer.setResolution(150)
    doc = QTextDocument()
    doc.setHtml(html_text)
    doc.setPageSize(writer.pageLayout().paintRectPixels(writer.resolution()).size().toSizeF())
    doc.print_(writer)
    del writer  # finishes the file
    os.replace(tmp, out)


if __name__ == "__main__":
    import sys

    qt_pdf(Path(sys.argv[1]).read_text(encoding="utf-8"), sys.argv[2])
