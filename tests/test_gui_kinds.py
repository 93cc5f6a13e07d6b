"""The window with a multi-class model: each kind drawn in its class colour, Accept makes shapes of
the predicted kinds (not of the class picked in the class list)."""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsPixmapItem

from iunet_gui.inference.predictor import Predictor
from tests.test_gui_model import folder, predict, predict_all, win  # noqa: F401 - the window and its folder as fixtures

SCRATCH, HOLE = "#e6194b", "#4363d8"


def fake_multiclass_predictor(window, tmp_path):
    """A real Predictor whose 'network' gives background, scratch and hole logits from the normalised
    first channel: the bright square (x 1.45) a scratch, the mid-grey one (x 0.51) a hole."""

    def run(x):
        v = x[0]
        return np.stack([np.zeros_like(v), 8 * (v - 1.0), 4 - 8 * np.abs(v - 0.51)]).astype(np.float32)

    ckpt = tmp_path / "kinds.pt"
    ckpt.write_bytes(b"not used")
    m = window.model_dock.models
    m.set_checkpoint(ckpt)
    m.predictor = Predictor(run, 3, 1, "kinds.pt", "fake", threshold=0.5, crop_to_part=False,
                            classes=["scratch", "hole"], colors=[SCRATCH, HOLE])
    m.predictor_path = ckpt


def tint_at(window, x, y) -> str:
    """The class colour the prediction's tint has at (x, y) (its alpha's rounding aside), or "none"."""
    tints = [it for it in window.canvas._prediction_items if isinstance(it, QGraphicsPixmapItem)]
    assert len(tints) == 1
    c = tints[0].pixmap().toImage().pixelColor(x, y)
    for name in (SCRATCH, HOLE):
        want = QColor(name)
        if c.alpha() and max(abs(c.red() - want.red()), abs(c.green() - want.green()), abs(c.blue() - want.blue())) <= 3:
            return name
    return "none"


def test_each_kind_is_drawn_in_its_class_colour(qtbot, win, tmp_path):  # noqa: F811
    fake_multiclass_predictor(win, tmp_path)
    p = predict(qtbot, win)
    assert {d.label for d in p.defects} == {"scratch", "hole"}
    assert all(0.5 < d.confidence <= 1 for d in p.defects)
    text = win.model_dock.predict_panel.result.text()
    assert "scratch (0." in text and "hole (0." in text  # each defect's kind and confidence
    assert tint_at(win, 45, 55) == SCRATCH  # the bright square
    assert tint_at(win, 135, 105) == HOLE  # the mid-grey one
    assert tint_at(win, 100, 20) == "none"  # the background
    win.model_dock.predict_panel.threshold.setValue(0.75)  # re-thresholded without the network: kinds kept
    assert {d.label for d in win.model_dock.models.shown_defects} == {"scratch", "hole"}
    assert tint_at(win, 45, 55) == SCRATCH and tint_at(win, 135, 105) == HOLE


def test_accept_creates_shapes_of_the_predicted_kinds(qtbot, win, tmp_path):  # noqa: F811
    fake_multiclass_predictor(win, tmp_path)
    predict(qtbot, win)
    qtbot.keyClick(win, Qt.Key_4)  # oxidation picked in the class list: not what the shapes become
    before = list(win.document.shapes)
    qtbot.keyClick(win, Qt.Key_A, Qt.ControlModifier | Qt.ShiftModifier)
    added = [s for s in win.document.shapes if not any(s is b for b in before)]
    by_label = {s.label: s for s in added}
    assert len(added) == 2 and set(by_label) == {"scratch", "hole"}
    xs, ys = zip(*by_label["hole"].points)
    assert 118 <= min(xs) and max(xs) <= 151 and 88 <= min(ys) and max(ys) <= 121  # around the mid-grey square
    assert "Accepted 2 shape(s)" in win.model_dock.predict_panel.result.text()
    qtbot.keyClick(win.canvas, Qt.Key_Z, Qt.ControlModifier)
    assert [id(s) for s in win.document.shapes] == [id(s) for s in before] and win.canvas.has_prediction


def test_predict_all_gives_the_figures_per_kind(qtbot, win, tmp_path):  # noqa: F811
    fake_multiclass_predictor(win, tmp_path)
    r = predict_all(qtbot, win)
    s = r.run.summary
    assert s["images"] == 1 and s["kinds"]["scratch"]["found"] == 1  # a.png's labelled square, found as a scratch
    assert s["kinds"]["hole"]["false_alarms"] == 1  # its unlabelled mid-grey square, predicted as a hole
    assert s["kind_confusion"]["matrix"][1][1] == 1
    text = win.model_dock.predict_panel.summary.text()
    assert "Per kind" in text and "scratch IoU" in text and "matched defects of the right kind 100 %" in text


def test_the_panel_and_its_csv_give_the_figures_per_kind_and_the_kinds_mixed_up(qtbot, tmp_path, folder):  # noqa: F811
    import csv

    from iunet_gui.core.annotation import Annotation
    from tests.gui_util import open_window

    ann = Annotation.load(folder / "a.json")
    ann.shapes[0].label = "hole"  # the bright square, which the model calls a scratch, labelled a hole
    ann.save(folder / "a.json")
    window = open_window(qtbot, tmp_path, folder)
    fake_multiclass_predictor(window, tmp_path)
    s = predict_all(qtbot, window).run.summary
    assert s["kind_confusion"]["labels"] == ["background", "scratch", "hole"]
    assert s["kind_confusion"]["matrix"][2][1] == 1  # a labelled hole predicted as a scratch
    pp = window.model_dock.predict_panel
    text = pp.summary.text()
    assert "matched defects of the right kind 0 %" in text
    assert "Kinds mixed up</b> (labelled as predicted): hole as scratch 1" in text
    assert "hole IoU 0.00, found 1 of 1, 1 false alarm(s), length error 0." in text  # the mid-grey square
    out = tmp_path / "kinds.csv"
    pp.ask_report_path = lambda: str(out)
    qtbot.mouseClick(pp.report_button, Qt.LeftButton)
    rows = {r["figure"]: r for r in csv.DictReader(out.open()) if r["status"] == "summary"}
    assert rows["kind hole as scratch"]["count"] == "1" and "kind scratch as hole" not in rows
    assert rows["kind as labelled"]["count"] == "0" and rows["kind as labelled"]["of"] == "1"
    assert float(rows["IoU kind scratch"]["value"]) == 0 and rows["false alarms kind hole"]["count"] == "1"
    assert "length error kind hole" in rows and "MIoU all classes" in rows


def test_the_specification_has_a_row_per_kind_and_each_predicted_kind_meets_its_own_limits(qtbot, tmp_path, folder):  # noqa: F811
    from PySide6.QtWidgets import QDialogButtonBox, QLineEdit

    from iunet_gui.core.project import Project
    from tests.gui_util import open_window

    project = Project.open(folder)
    project.settings.mm_per_px = 0.1  # a.png's squares: 30 px, about 2.9 mm long
    project.save_settings()
    window = open_window(qtbot, tmp_path, folder)
    window.qa.act_spec.trigger()  # Inspection > Specification…
    dlg = window.qa.spec_dialog
    qtbot.waitUntil(dlg.isVisible)
    assert list(dlg.fields) == ["defect", "scratch", "edge_crack", "hole", "oxidation"]  # one row per class
    for name, limit in (("defect", "1"), ("scratch", "2"), ("hole", "5")):
        edit = dlg.findChild(QLineEdit, f"{name}.max_length_mm")
        qtbot.mouseClick(edit, Qt.LeftButton)
        qtbot.keyClicks(edit, limit)
    qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    fake_multiclass_predictor(window, tmp_path)
    p = predict(qtbot, window)
    assert sorted(d.label for d in p.defects) == ["hole", "scratch"]
    station = window.qa.station
    qtbot.waitUntil(lambda: station.latest(window.document.image_path) is not None)
    row = station.latest(window.document.image_path)
    # the scratch breaks the scratch limit; the hole, as long, is within the hole limit (not the 1 mm of "defect")
    assert row["status"] == "NG" and len(row["reasons"]) == 1
    assert row["reasons"][0].startswith("scratch 2.") and row["reasons"][0].endswith("mm > 2.0 mm")


def test_the_specification_has_rows_for_the_kinds_of_a_model_the_project_does_not_name(qtbot, tmp_path, folder):  # noqa: F811
    from tests.gui_util import open_window

    window = open_window(qtbot, tmp_path, folder)
    fake_multiclass_predictor(window, tmp_path)
    window.model_dock.models.predictor.classes = ["scratch", "burr"]  # "burr": not in the project's class list
    window.qa.act_spec.trigger()
    dlg = window.qa.spec_dialog
    qtbot.waitUntil(dlg.isVisible)
    assert list(dlg.fields) == ["defect", "scratch", "edge_crack", "hole", "oxidation", "burr"]
    dlg.reject()
