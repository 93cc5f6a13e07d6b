"""app.reports without a browser: the figures from the log's score records, the CSV (spreadsheet-safe),
the kinds asked for, and the PDF by Qt's writer where no Chromium is found."""
import csv

import pytest

from iunet_gui.app.records import InspectionLog
from iunet_gui.app.reports import parse_kinds, write_reports
from iunet_gui.app.reports.data import figures
from iunet_gui.app.reports.pdf import write_pdf
from iunet_gui.core.errors import IunetError
from iunet_gui.core.measure import Defect
from iunet_gui.core.spec import Verdict


def test_figures_pool_the_pixels_and_weigh_length_errors_by_matched_defects():
    recs = [{"tp": 10, "fp": 0, "fn": 10, "tn": 80, "accurate": True, "matched": 3, "length_error_mean": 0.2,
             "length_error_max": 0.5, "length_unit": "mm"},
            {"tp": 0, "fp": 10, "fn": 0, "tn": 90, "accurate": False, "matched": 1, "length_error_mean": 0.6,
             "length_error_max": 0.6, "length_unit": "mm"}, None]
    fig = figures(recs)
    assert fig["images"] == 2 and fig["iou_defect"] == pytest.approx(10 / 30)
    assert fig["miou"] == pytest.approx((10 / 30 + 170 / 190) / 2) and fig["accuracy"] == 0.5
    assert fig["length_error_mean"] == pytest.approx((3 * 0.2 + 0.6) / 4) and fig["length_error_max"] == 0.6
    assert figures([None, {}]) is None


def test_kinds_are_checked():
    assert parse_kinds("PDF, html,pdf") == ["pdf", "html"]
    for bad in ("", "docx", "html,xls"):
        with pytest.raises(IunetError, match="--report"):
            parse_kinds(bad)


def test_csv_cells_never_run_as_spreadsheet_formulas(tmp_path):
    with InspectionLog(tmp_path) as log:
        d = Defect(10.0, 2.0, 0.0, 20.0, (1.0, 1.0), [[0, 0], [10, 0], [10, 2], [0, 2]], label="=HYPERLINK(\"x\")")
        iid = log.log_inspection(tmp_path / "a.png", None, "m", 0.5, Verdict("NG", ["-1+2"], [0]), [d])
        log.log_decision(iid, 0, "confirm", note="@SUM(A1)", reviewer="+me")
        written = write_reports(log, tmp_path / "out", ["csv"])
    row = next(csv.DictReader(written["csv"].open()))
    assert (row["class"], row["reasons"], row["note"], row["reviewer"]) == (
        "'=HYPERLINK(\"x\")", "'-1+2", "'@SUM(A1)", "'+me")
    assert list(written) == ["csv"]


def test_without_chromium_the_pdf_comes_from_qt(tmp_path, monkeypatch):
    from iunet_gui.cli.qt_pdf import qt_pdf

    monkeypatch.setenv("IUNET_GUI_CHROMIUM", str(tmp_path / "no-such-browser"))
    html = tmp_path / "r.html"
    html.write_text("<h1>Inspection report</h1><p>12 parts: 9 OK, 3 NG</p>", encoding="utf-8")
    assert write_pdf(html, tmp_path / "r.pdf", fallback=qt_pdf) == "fallback"
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert write_pdf(html, tmp_path / "s.pdf") == "qt"  # no writer given: Qt in a process of its own
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
