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


def test_thumbnails_draw_each_defects_rectangle_in_its_verdicts_colour_over_the_tinted_mask(tmp_path):
    import base64

    import cv2
    import numpy as np

    from iunet_gui.app.reports.thumbs import small_mask, thumbnail_uri

    cv2.imwrite(str(tmp_path / "w.png"), np.full((400, 720, 3), 128, np.uint8))
    mask = np.zeros((400, 720), bool)
    mask[300:340, 500:600] = True
    defects = [{"box": [[100, 100], [300, 100], [300, 140], [100, 140]], "judged": "ng"},
               {"box": [[100, 250], [300, 250], [300, 290], [100, 290]], "judged": "check"}]
    uri = thumbnail_uri(tmp_path / "w.png", defects, small_mask(mask))
    assert uri.startswith("data:image/jpeg;base64,")
    thumb = cv2.imdecode(np.frombuffer(base64.b64decode(uri.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert thumb.shape[:2] == (200, 360)  # half size: 360 px wide
    b, g, r = (thumb[50, 100].astype(int))  # the NG rectangle's top edge: red
    assert r > 180 and g < 90 and b < 90
    b, g, r = (thumb[125, 100].astype(int))  # the check rectangle's top edge: orange
    assert r > 200 and 120 < g < 200 and b < 90
    b, g, r = (thumb[160, 275].astype(int))  # inside the mask: tinted red, not grey
    assert r > g + 40
    assert tuple(thumb[20, 20]) == pytest.approx((128, 128, 128), abs=4)  # elsewhere the photo as it was
    assert thumbnail_uri(tmp_path / "missing.png", defects) is None
