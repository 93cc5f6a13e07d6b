"""The HTML report in a real browser: headless Chromium renders it to a PNG that is not blank, its
text holds the summary and the paper's figures, and a label or note written as HTML shows as text.
Skips with a message where no Chromium is installed (.ci/run installs Debian's `chromium`)."""
import subprocess

import cv2
import numpy as np
import pytest

from iunet_gui.app.records import InspectionLog
from iunet_gui.app.reports import write_reports
from iunet_gui.app.reports.pdf import chromium_command, find_chromium
from iunet_gui.core.measure import Defect
from iunet_gui.core.spec import ClassLimits, Specification, Verdict

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture
def browser():
    found = find_chromium()
    if found is None:
        pytest.skip("no Chromium on PATH (apt-get install -y chromium): the HTML report is not tested in a browser")
    return found


def _log(tmp_path):
    img = np.full((200, 260, 3), 120, np.uint8)
    img[80:86, 40:200] = 230
    cv2.imwrite(str(tmp_path / "washer_005.png"), img)
    spec = Specification({"scratch": ClassLimits(max_length_mm=2.0), EVIL: ClassLimits(max_count=0)})
    scratch = Defect(160.0, 6.0, 0.0, 960.0, (120.0, 83.0), [[40, 80], [200, 80], [200, 86], [40, 86]],
                     label="scratch")
    odd = Defect(10.0, 4.0, 0.0, 40.0, (30.0, 30.0), [[25, 28], [35, 28], [35, 32], [25, 32]], label=EVIL)
    scores = {"tp": 900, "fp": 100, "fn": 200, "tn": 50000, "accurate": True, "matched": 1,
              "length_error_mean": 0.125, "length_error_max": 0.125, "length_unit": "mm", "iou_defect": 0.75}
    log = InspectionLog(tmp_path)
    iid = log.log_inspection(tmp_path / "washer_005.png", "h", "best.pt", 0.5,
                             Verdict("NG", ["scratch 3.4 mm > 2.0 mm", f"{EVIL}: 1 found > 0 allowed"], [0, 1]),
                             [scratch, odd], mm_per_px=0.02125, specification=spec.to_dict(), scores=scores)
    log.log_decision(iid, 1, "false_alarm", note=f"{EVIL} is dust", reviewer=EVIL)
    log.log_training_run("best.pt", 24, {"epochs": 100}, {"miou": 0.8312})
    return log


def test_the_report_renders_in_chromium_with_its_figures_and_escaped_text(tmp_path, browser):
    log = _log(tmp_path)
    written = write_reports(log, tmp_path / "out", ("html", "pdf"), folder=str(tmp_path))
    log.close()
    html = written["html"]
    png = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    subprocess.run(chromium_command(browser, str(profile)) + ["--window-size=1200,1800", f"--screenshot={png}",
                                                             html.as_uri()], capture_output=True, timeout=120)
    shot = cv2.imread(str(png))
    assert shot is not None and shot.shape[:2] == (1800, 1200), "Chromium wrote no screenshot"
    assert shot.std() > 20 and len(np.unique(shot.reshape(-1, 3), axis=0)) > 100  # not a blank page
    dom = subprocess.run(chromium_command(browser, str(profile)) + ["--dump-dom", html.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    for text in ("parts inspected", "washer_005.png", "scratch 3.4 mm &gt; 2.0 mm", "best.pt",
                 "75.00 %", "100.00 %", "0.125", "miou 0.8312", "trained on 24 image(s)"):
        assert text in dom, text
    # MIoU: pooled (900 / 1200 + 50000 / 50300) / 2 = 0.8720, written as a percentage
    assert "87.20 %" in dom
    # the label, the reason, the note and the reviewer written as HTML show as text, never as elements
    assert dom.count("&lt;img src=x onerror=alert(1)&gt;") >= 5
    assert "onerror=alert(1)>" not in dom and dom.count("<img ") == 1  # the one thumbnail
    assert written["pdf"].read_bytes().startswith(b"%PDF") and written["pdf"].stat().st_size > 10_000
