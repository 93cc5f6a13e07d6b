"""The QA station driven as a reviewer would: set the specification in its dialog, predict the folder,
the verdicts in the image list and over the canvas, review with the keyboard (decisions into the log
and into the labels, undoable), the decisions still there after a restart, the report exported."""
import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QTableWidget

from iunet_gui.app.records import InspectionLog
from iunet_gui.app.review import KNOWN_NEGATIVES, REVIEWED_FLAG, SOURCE_KEY
from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.core.project import Project
from iunet_gui.core.spec import ClassLimits, Specification
from iunet_gui.gui.qa.colors import NG_COLOR, VERDICT_COLORS
from iunet_gui.gui.qa.spec_dialog import SpecDialog
from iunet_gui.inference.predictor import Predictor
from tests.gui_util import open_window as _open_window

BRIGHT, BACKGROUND = 220, 90  # the fake model (logit = 3 x - 1, as in test_gui_model): p about 0.96 and low
MM_PER_PX = 0.1


def _image(squares):
    img = np.full((160, 200, 3), BACKGROUND, np.uint8)
    for x, y, side in squares:
        img[y:y + side, x:x + side] = BRIGHT
    return img


@pytest.fixture
def folder(tmp_path):
    """ng.png: two 30 px squares (2.9 mm long: over a 2.0 mm limit); near.png: a 20 px square (1.9 mm,
    within 10 % of the limit: check); ok.png: a 10 px square (0.9 mm). 0.1 mm per pixel."""
    d = tmp_path / "project"
    d.mkdir()
    cv2.imwrite(str(d / "ng.png"), _image([(30, 40, 30), (120, 90, 30)]))
    cv2.imwrite(str(d / "near.png"), _image([(60, 60, 20)]))
    cv2.imwrite(str(d / "ok.png"), _image([(100, 50, 10)]))
    p = Project.open(d)
    p.settings.mm_per_px = MM_PER_PX
    p.save_settings()
    return d


def open_window(qtbot, tmp_path, folder):
    w = _open_window(qtbot, tmp_path, folder)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.canvas, timeout=3000)  # as when the window shows
    return w


def with_spec(folder, limit=2.0):
    Project.open(folder).specification = Specification({"defect": ClassLimits(max_length_mm=limit)})


def fake_model(win, tmp_path):
    ckpt = tmp_path / "fake.pt"
    ckpt.write_bytes(b"not used")
    m = win.model_dock.models
    m.set_checkpoint(ckpt)
    m.predictor = Predictor(lambda x: (3.0 * x[0] - 1.0).astype(np.float32), 3, 1, "fake.pt", "fake",
                            threshold=0.5, crop_to_part=False)
    m.predictor_path = ckpt


def predict_all(qtbot, win):
    m = win.model_dock.models
    qtbot.mouseClick(win.model_dock.predict_panel.all_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: m.all_job is None and m.folder_result is not None, timeout=30000)
    qtbot.waitUntil(lambda: all(win.images_dock.verdict(k) for k in range(len(win.project.images))))


def row_of(win, name):
    return next(k for k, p in enumerate(win.project.images) if p.name == name)


def press(qtbot, key, modifier=Qt.NoModifier):
    target = QApplication.focusWidget()
    assert target is not None, "no widget has the keyboard focus"
    qtbot.keyClick(target, key, modifier)


def show_review(qtbot, win):
    dock = win.qa.dock
    dock.raise_()
    qtbot.waitUntil(lambda: win.qa.on_show)
    win.canvas.setFocus()
    return dock


def test_the_specification_dialog_validates_and_stores_the_limits_in_the_project(qtbot, tmp_path, folder):
    win = open_window(qtbot, tmp_path, folder)
    press(qtbot, Qt.Key_L, Qt.ControlModifier | Qt.ShiftModifier)
    dlg = win.qa.spec_dialog
    qtbot.waitUntil(lambda: dlg is not None and dlg.isVisible())
    length = dlg.findChild(QLineEdit, "defect.max_length_mm")
    count = dlg.findChild(QLineEdit, "defect.max_count")
    qtbot.mouseClick(length, Qt.LeftButton)
    qtbot.keyClicks(length, "-1")
    qtbot.mouseClick(dlg.buttons.button(dlg.buttons.StandardButton.Ok), Qt.LeftButton)
    assert dlg.isVisible() and dlg.error.isVisible()  # refused, told why, nothing stored
    assert "max_length_mm" in dlg.error.text() and "-1" in dlg.error.text()
    assert Project.open(folder).specification is None
    length.selectAll()
    qtbot.keyClicks(length, "2.5")
    qtbot.mouseClick(count, Qt.LeftButton)
    qtbot.keyClicks(count, "abc")
    qtbot.mouseClick(dlg.buttons.button(dlg.buttons.StandardButton.Ok), Qt.LeftButton)
    assert dlg.isVisible() and "not a number" in dlg.error.text()
    count.selectAll()
    qtbot.keyClicks(count, "3")
    qtbot.mouseClick(dlg.buttons.button(dlg.buttons.StandardButton.Ok), Qt.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    spec = Project.open(folder).specification  # read back from the project file
    assert spec.limits["defect"] == ClassLimits(max_length_mm=2.5, max_count=3)
    assert spec.prob_band == pytest.approx(0.10) and spec.size_margin == pytest.approx(0.10)


def test_the_dialog_shows_the_stored_specification(qtbot, folder):
    spec = Specification({"defect": ClassLimits(max_length_mm=2.0), "scratch": ClassLimits(max_count=1)}, 0.2, 0.05)
    dlg = SpecDialog(spec, ["scratch", "dent"])
    qtbot.addWidget(dlg)
    assert dlg.fields["defect"]["max_length_mm"].text() == "2"
    assert dlg.fields["scratch"]["max_count"].text() == "1" and dlg.fields["dent"]["max_count"].text() == ""
    assert dlg.read().to_dict() == spec.to_dict()


def test_predict_all_gives_each_image_a_verdict_in_the_list_and_on_the_canvas(qtbot, tmp_path, folder):
    with_spec(folder)
    win = open_window(qtbot, tmp_path, folder)
    fake_model(win, tmp_path)
    predict_all(qtbot, win)
    verdicts = {p.name: win.images_dock.verdict(k) for k, p in enumerate(win.project.images)}
    assert verdicts == {"ng.png": "NG", "near.png": "check", "ok.png": "OK"}
    item = win.images_dock.list.item(row_of(win, "ng.png"))
    assert item.text() == "ng.png  [NG]" and item.foreground().color().name() == VERDICT_COLORS["NG"]
    win.go_to(row_of(win, "ng.png"))
    text = win.qa.banner.text()
    assert "NG" in text and "2.9 mm &gt; 2.0 mm" in text
    assert set(win.qa.overlay.colors.values()) == {NG_COLOR}  # both squares break the limit
    win.go_to(row_of(win, "near.png"))
    assert "check" in win.qa.banner.text() and "near the 2.0 mm limit" in win.qa.banner.text()
    win.go_to(row_of(win, "ok.png"))
    assert win.qa.banner.text().startswith("<b>OK</b>")
    with InspectionLog(folder) as log:  # the log holds the same verdicts
        assert sorted(r["status"] for r in log.latest_inspections()) == ["NG", "OK", "check"]


def test_an_uncalibrated_image_is_flagged_not_judged_in_pixels(qtbot, tmp_path, folder):
    with_spec(folder)
    p = Project.open(folder)
    p.settings.mm_per_px = None
    p.save_settings()
    win = open_window(qtbot, tmp_path, folder)
    fake_model(win, tmp_path)
    win.go_to(row_of(win, "ng.png"))
    qtbot.keyClick(win.canvas, Qt.Key_P, Qt.ControlModifier)
    qtbot.waitUntil(lambda: win.images_dock.verdict(row_of(win, "ng.png")) is not None, timeout=20000)
    assert win.images_dock.verdict(row_of(win, "ng.png")) == "uncalibrated"
    assert "not calibrated" in win.qa.banner.text()


def review_folder(qtbot, tmp_path, folder):
    with_spec(folder)
    win = open_window(qtbot, tmp_path, folder)
    fake_model(win, tmp_path)
    predict_all(qtbot, win)
    return win


def answer_note(qtbot, text):
    """Type `text` into the note dialog the next key opens, and press Enter there."""
    def fill():
        dlg = QApplication.activeModalWidget()
        if dlg is None:
            QTimer.singleShot(20, fill)
            return
        edit = dlg.findChild(QLineEdit)
        qtbot.keyClicks(edit, text)
        qtbot.keyClick(edit, Qt.Key_Return)
    QTimer.singleShot(20, fill)


def test_review_with_the_keyboard_feeds_the_log_and_the_labels(qtbot, tmp_path, folder):
    win = review_folder(qtbot, tmp_path, folder)
    dock = show_review(qtbot, win)
    names = [dock.queue.item(k).text().split()[2] for k in range(dock.queue.count())]
    assert names == ["ng.png", "near.png", "ok.png"]  # worst first
    assert dock.progress.text() == "Reviewed 0 / 3 images"
    qtbot.mouseClick(dock.queue.viewport(), Qt.LeftButton, Qt.NoModifier,
                     dock.queue.visualItemRect(dock.queue.item(0)).center())
    assert win.document.image_path.name == "ng.png"
    win.canvas.setFocus()
    press(qtbot, Qt.Key_Y)  # the first square: a real defect
    press(qtbot, Qt.Key_N)  # the second: a false alarm
    confirmed = [s for s in win.document.shapes if s.flags.get(REVIEWED_FLAG)]
    assert len(confirmed) == 1 and confirmed[0].extra[SOURCE_KEY]["defect"] == 0
    assert confirmed[0].label == "scratch"  # the model names no kind: the current class, as Accept does
    negatives = win.document.annotation.extra[KNOWN_NEGATIVES]
    assert [n["defect"] for n in negatives] == [1]
    assert "confirmed" in dock.defects.item(0).text() and "false alarm" in dock.defects.item(1).text()
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)  # the false alarm's label edit is undoable
    assert KNOWN_NEGATIVES not in win.document.annotation.extra
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert [n["defect"] for n in win.document.annotation.extra[KNOWN_NEGATIVES]] == [1]
    press(qtbot, Qt.Key_Return)  # confirm the verdict: the next undecided image opens
    assert win.document.image_path.name == "near.png"
    assert dock.progress.text() == "Reviewed 1 / 3 images"
    saved = Annotation.load(folder / "ng.json")  # the labels were saved like any edit
    assert any(s.flags.get(REVIEWED_FLAG) for s in saved.shapes) and saved.extra[KNOWN_NEGATIVES]
    answer_note(qtbot, "burr, within tolerance")
    press(qtbot, Qt.Key_O)  # override to OK with a note
    qtbot.waitUntil(lambda: win.document.image_path.name == "ok.png")
    assert "check→OK" in dock.queue.item(1).text() and dock.queue.item(1).text().startswith("✓")
    assert win.images_dock.list.item(row_of(win, "near.png")).text() == "near.png  [check→OK]"
    with InspectionLog(folder) as log:
        rows = {r["image_path"].split("/")[-1]: r for r in log.latest_inspections()}
        near = log.decisions(rows["near.png"]["id"])
        ng = log.decisions(rows["ng.png"]["id"])
    assert [(d["decision"], d["note"]) for d in near] == [("override_ok", "burr, within tolerance")]
    assert [(d["decision"], d["defect_index"]) for d in ng] == [("confirm", 0), ("false_alarm", 1),
                                                                 ("confirm_verdict", None)]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is win.canvas, timeout=3000)  # back from the note dialog
    press(qtbot, Qt.Key_K)  # previous undecided: none before (both are decided)
    assert win.document.image_path.name == "ok.png"


def test_a_drawn_shape_is_logged_as_a_missed_defect(qtbot, tmp_path, folder):
    win = review_folder(qtbot, tmp_path, folder)
    show_review(qtbot, win)
    win.go_to(row_of(win, "ok.png"))
    win.canvas.setFocus()
    press(qtbot, Qt.Key_R, Qt.ControlModifier)
    v = win.canvas.viewport()
    a, b = win.canvas.mapFromScene(20, 20), win.canvas.mapFromScene(60, 50)
    qtbot.mousePress(v, Qt.LeftButton, Qt.NoModifier, a)
    qtbot.mouseMove(v, (a + b) / 2)
    qtbot.mouseMove(v, b)
    qtbot.mouseRelease(v, Qt.LeftButton, Qt.NoModifier, b)
    assert len(win.document.shapes) == 1
    iid = win.qa.station.latest(win.document.image_path)["id"]
    decisions = win.qa.station.log.decisions(iid)
    assert [d["decision"] for d in decisions] == ["missed"] and "drawn at (20, 20)" in decisions[0]["note"]


def test_decisions_persist_across_a_restart(qtbot, tmp_path, folder):
    win = review_folder(qtbot, tmp_path, folder)
    show_review(qtbot, win)
    win.go_to(row_of(win, "ng.png"))
    win.canvas.setFocus()
    press(qtbot, Qt.Key_Return)
    assert win.close()
    again = open_window(qtbot, tmp_path, folder)
    dock = show_review(qtbot, again)
    assert dock.progress.text() == "Reviewed 1 / 3 images"
    assert dock.queue.item(0).text().startswith("✓ NG  ng.png")
    assert {again.images_dock.verdict(k) for k in range(3)} == {"NG", "check", "OK"}
    dock.status_filter.setCurrentText("undecided")
    assert [dock.queue.item(k).text().split()[2] for k in range(dock.queue.count())] == ["near.png", "ok.png"]


def test_file_export_inspection_report_writes_html_pdf_and_csv(qtbot, tmp_path, folder):
    win = review_folder(qtbot, tmp_path, folder)
    show_review(qtbot, win)
    win.go_to(row_of(win, "ng.png"))
    win.canvas.setFocus()
    answer_note(qtbot, "<img src=x onerror=alert(1)>")
    press(qtbot, Qt.Key_O)
    qtbot.waitUntil(lambda: win.document.image_path.name != "ng.png")
    out = tmp_path / "report"
    win.qa.ask_report_folder = lambda: str(out)
    file_menu = win.menuBar().actions()[0].menu()
    assert file_menu.title() == "&File"
    bar = win.menuBar()
    qtbot.mouseClick(bar, Qt.LeftButton, Qt.NoModifier, bar.actionGeometry(bar.actions()[0]).center())
    qtbot.waitUntil(file_menu.isVisible)
    qtbot.mouseClick(file_menu, Qt.LeftButton, Qt.NoModifier, file_menu.actionGeometry(win.qa.act_report).center())
    qtbot.waitUntil(lambda: win.qa.export_job is not None)
    qtbot.waitUntil(lambda: win.qa.export_job is None, timeout=120000)  # written in the background
    assert "Report written" in win.statusBar().currentMessage()
    assert not [e for e in win.errors if "report" in e.lower()]
    html = (out / "inspection_report.html").read_text(encoding="utf-8")
    assert "ng.png" in html and "near.png" in html and "ok.png" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html  # the note as text
    assert (out / "inspection_report.pdf").read_bytes().startswith(b"%PDF")
    csv_text = (out / "inspection_report.csv").read_text(encoding="utf-8")
    assert "NG" in csv_text and "check" in csv_text


def test_within_a_verdict_the_images_that_disagree_most_with_their_labels_come_first(qtbot, tmp_path, folder):
    with_spec(folder, limit=100.0)  # every image OK: the labels decide the order
    square = [[60, 60], [79, 60], [79, 79], [60, 79]]
    Annotation(image_path="near.png", image_width=200, image_height=160,
               shapes=[Shape("scratch", square)]).save(folder / "near.json")  # found as labelled
    Annotation(image_path="ok.png", image_width=200, image_height=160,
               shapes=[Shape("scratch", [[10, 120], [40, 120], [40, 140], [10, 140]])]).save(folder / "ok.json")
    win = open_window(qtbot, tmp_path, folder)
    fake_model(win, tmp_path)
    predict_all(qtbot, win)
    dock = show_review(qtbot, win)
    names = [dock.queue.item(k).text().split()[2] for k in range(dock.queue.count())]
    assert names == ["ok.png", "near.png", "ng.png"]  # missed + false alarm, a match, not labelled


def test_the_keyboard_shortcuts_table_lists_the_review_keys(qtbot, tmp_path, folder):
    win = open_window(qtbot, tmp_path, folder)
    press(qtbot, Qt.Key_F1)
    table = win.shortcuts_dialog.findChild(QTableWidget)
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Confirm Defect"] == "Y" and rows["False Alarm"] == "N" and rows["Override to OK…"] == "O"
    assert rows["Next Undecided Image"] == "J, ]" and rows["Specification…"] == "Ctrl+Shift+L"


def test_the_review_keys_leave_enter_to_the_canvas_while_the_review_panel_is_hidden(qtbot, tmp_path, folder):
    win = open_window(qtbot, tmp_path, folder)
    assert not win.qa.on_show and not win.qa.act_verdict.isEnabled()
    press(qtbot, Qt.Key_N, Qt.ControlModifier)  # a polygon closed with Enter, as without the QA station
    for x, y in [(20, 20), (80, 20), (50, 70)]:
        qtbot.mouseClick(win.canvas.viewport(), Qt.LeftButton, Qt.NoModifier, win.canvas.mapFromScene(x, y))
    press(qtbot, Qt.Key_Return)
    assert len(win.document.shapes) == 1 and not win.canvas.drawing
    show_review(qtbot, win)  # with the panel on show Enter still closes a polygon being drawn
    press(qtbot, Qt.Key_N, Qt.ControlModifier)
    for x, y in [(120, 20), (180, 20), (150, 70)]:
        qtbot.mouseClick(win.canvas.viewport(), Qt.LeftButton, Qt.NoModifier, win.canvas.mapFromScene(x, y))
    press(qtbot, Qt.Key_Return)
    assert len(win.document.shapes) == 2 and not win.canvas.drawing


def test_a_reviewer_who_changes_their_mind_changes_the_labels_too(qtbot, tmp_path, folder):
    win = review_folder(qtbot, tmp_path, folder)
    dock = show_review(qtbot, win)
    win.go_to(row_of(win, "ng.png"))
    win.canvas.setFocus()
    press(qtbot, Qt.Key_Y)  # defect 1 confirmed: a label
    assert len([s for s in win.document.shapes if s.flags.get(REVIEWED_FLAG)]) == 1
    qtbot.mouseClick(dock.defects.viewport(), Qt.LeftButton, Qt.NoModifier,
                     dock.defects.visualItemRect(dock.defects.item(0)).center())
    assert dock.current_defect() == 0
    win.canvas.setFocus()
    press(qtbot, Qt.Key_N)  # on second thought a false alarm: the label goes, a known negative comes
    assert not any(s.flags.get(REVIEWED_FLAG) for s in win.document.shapes)
    assert [n["defect"] for n in win.document.annotation.extra[KNOWN_NEGATIVES]] == [0]
    assert "false alarm" in dock.defects.item(0).text()


def test_an_undone_delete_is_not_a_missed_defect(qtbot, tmp_path, folder):
    Annotation(image_path="ok.png", image_width=200, image_height=160,
               shapes=[Shape("scratch", [[10, 120], [40, 120], [40, 140]])]).save(folder / "ok.json")
    win = review_folder(qtbot, tmp_path, folder)
    show_review(qtbot, win)
    win.go_to(row_of(win, "ok.png"))
    win.canvas.select_shapes(list(win.document.shapes))
    win.canvas.setFocus()
    press(qtbot, Qt.Key_Delete)
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)
    assert len(win.document.shapes) == 1
    assert win.qa.station.log.decisions(win.qa.station.latest(win.document.image_path)["id"]) == []


def test_a_new_threshold_judges_the_image_again_as_it_is_shown(qtbot, tmp_path, folder):
    with_spec(folder)
    win = open_window(qtbot, tmp_path, folder)
    fake_model(win, tmp_path)
    win.go_to(row_of(win, "ng.png"))
    m = win.model_dock.models
    qtbot.keyClick(win.canvas, Qt.Key_P, Qt.ControlModifier)
    qtbot.waitUntil(lambda: win.images_dock.verdict(row_of(win, "ng.png")) == "NG", timeout=20000)
    win.model_dock.predict_panel.threshold.setValue(0.98)  # above the squares' probability: nothing found
    assert m.shown_defects == []
    qtbot.waitUntil(lambda: win.images_dock.verdict(row_of(win, "ng.png")) == "OK")
    assert win.qa.banner.text().startswith("<b>OK</b>")
    with InspectionLog(folder) as log:
        rows = log.inspections_of(win.document.image_path.resolve())
    assert [(r["status"], r["threshold"]) for r in rows] == [("NG", 0.5), ("OK", 0.98)]  # both kept


def test_a_second_window_on_the_project_sees_the_first_ones_inspections(qtbot, tmp_path, folder):
    with_spec(folder)
    first = open_window(qtbot, tmp_path, folder)
    second = _open_window(qtbot, tmp_path / "second", folder)  # opened before anything was logged
    fake_model(first, tmp_path)
    predict_all(qtbot, first)
    second.qa.dock.raise_()
    qtbot.waitUntil(lambda: second.qa.on_show)
    assert second.qa.dock.queue.count() == 3 and second.qa.dock.progress.text() == "Reviewed 0 / 3 images"
    assert {second.images_dock.verdict(k) for k in range(3)} == {"NG", "check", "OK"}
