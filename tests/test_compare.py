"""Models side by side (app.compare, the comparison view): the view's Table 3/4 figures are the ones
`iunet-gui evaluate --compare` prints, best bold; per-image rows ordered by the difference; the
true-positive / false-positive / false-negative colours are core.metrics' pixels, pixel for pixel; a
double-clicked row shows both models' predictions, and T switches between them."""
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt

from iunet_gui.app.compare import FIGURES, figure_rows, image_rows, pixel_classes
from iunet_gui.app.registry import ModelRegistry
from iunet_gui.cli import main
from iunet_gui.core.metrics import confusion
from iunet_gui.gui.compare_view import PIXEL_COLORS, TRUE_FALSE
from tests.gui_util import open_window


def test_pixel_classes_are_the_confusion_counts():
    rng = np.random.default_rng(3)
    pred, gt = rng.random((40, 50)) > 0.6, rng.random((40, 50)) > 0.7
    classes = pixel_classes(pred, gt)
    tp, fp, fn, tn = confusion(pred, gt)
    assert [int((classes == k).sum()) for k in (1, 2, 3, 0)] == [tp, fp, fn, tn]
    assert np.array_equal(classes == 1, pred & gt) and np.array_equal(classes == 3, gt & ~pred)


def test_best_figures_are_marked_per_direction():
    a = {"accuracy": 0.5, "miou": 0.7, "length_error_max": 0.2, "length_error_mean": None}
    b = {"accuracy": 0.5, "miou": 0.6, "length_error_max": 0.1, "length_error_mean": 0.05}
    rows = {r.label: r for r in figure_rows([("a", a), ("b", b)])}
    assert rows["MIoU %"].best == {0} and rows["Max error (mm)"].best == {1}
    assert rows["Accuracy %"].best == set()  # a tie marks nothing
    assert rows["Average error (mm)"].values == [None, 5e-2] and rows["Average error (mm)"].best == set()  # one figure: no contest


def test_image_rows_put_the_largest_difference_first():
    def rec(name, iou, found, fa):
        return {"name": name, "iou_defect": iou, "defects_found": found, "defects_labelled": 2, "false_alarms": fa}

    from iunet_gui.app.compare import Comparison

    comp = Comparison(["old", "new"], [{}, {}], [[rec("a", 0.9, 2, 3), rec("b", 0.5, 2, 0)],
                                                 [rec("a", 0.8, 2, 0), rec("b", 0.1, 1, 0)]])
    assert [r["image"] for r in image_rows(comp, "IoU dropped most")] == ["b", "a"]
    assert [r["image"] for r in image_rows(comp, "new misses")] == ["b", "a"]
    assert [r["image"] for r in image_rows(comp, "fixed false alarms")] == ["a", "b"]


def _wait_drawn(qtbot, view):
    """Until the view's predictions are made (in a worker thread) and drawn with their colours."""
    qtbot.waitUntil(lambda: view.predictions.job is None and view.overlay is not None, timeout=30000)


def _cli_table(capsys, paths, data):
    assert main(["evaluate", "--compare", *map(str, paths), "--data", str(data)]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    header = re.split(r"\s{2,}", lines[-4].strip())
    assert header == ["model", *(label for label, *_ in FIGURES)]
    return [re.split(r"\s{2,}", ln.strip()) for ln in lines[-2:]]


def test_the_view_shows_evaluate_compare_figures_and_core_metrics_pixels(qtbot, tmp_path, project, capsys,
                                                                          monkeypatch):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        a = reg.set_in_use(reg.register_training(good, data=proj).id)
        b = reg.register_training(bad, data=blank)
    cli = _cli_table(capsys, [good.best_checkpoint, bad.best_checkpoint], proj)
    win = open_window(qtbot, tmp_path, proj)
    view = _compare(qtbot, win, a.id, b.id)
    for col, row in enumerate(cli):  # one CLI row per model is one view column
        for i, text in enumerate(row[1:]):
            shown = view.figures.item(i, col).text()
            assert (shown == "-") == (text == "-")
            if text != "-":
                assert float(shown) == pytest.approx(float(text), abs=0.006)
    miou = [r.label for r in figure_rows(view.comparison.results)].index("MIoU %")
    better = 0 if view.comparison.summaries[0]["miou"] > view.comparison.summaries[1]["miou"] else 1
    assert view.figures.item(miou, better).font().bold() and not view.figures.item(miou, 1 - better).font().bold()
    names = view.image_names()
    assert names == [r["image"] for r in image_rows(view.comparison, "IoU dropped most")]
    view.order.setCurrentText("fixed false alarms")
    assert view.image_names() == [r["image"] for r in image_rows(view.comparison, "fixed false alarms")]
    row = view.image_names().index("t0.png")
    qtbot.mouseClick(view.images.viewport(), Qt.LeftButton, pos=view.images.visualItemRect(view.images.item(row, 0)).center())
    other = next(r for r, n in enumerate(view.image_names()) if n != win.document.image_path.name)
    where = view.images.visualItemRect(view.images.item(other, 0)).center()
    qtbot.mouseClick(view.images.viewport(), Qt.LeftButton, pos=where)  # a double-click's first press
    qtbot.mouseDClick(view.images.viewport(), Qt.LeftButton, pos=where)
    assert win.document.image_path == proj / view.image_names()[other]  # double-click: it opens in the window
    assert view.show_box.currentText() == "both predictions"  # ... and here with both models' predictions
    _wait_drawn(qtbot, view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.keyClick(view.images, Qt.Key_T)  # T from the last view: back to the true / false pixels
    assert view.show_box.currentText() == TRUE_FALSE
    qtbot.mouseClick(view.images.viewport(), Qt.LeftButton, pos=view.images.visualItemRect(view.images.item(row, 0)).center())
    _wait_drawn(qtbot, view)
    record = next(r for r in view.comparison.records[0] if r["name"] == "t0.png")
    assert view.color_counts() == {"tp": record["tp"], "fp": record["fp"], "fn": record["fn"]}
    assert record["tp"] > 0
    view.model_box.setCurrentIndex(1)
    _wait_drawn(qtbot, view)
    record = next(r for r in view.comparison.records[1] if r["name"] == "t0.png")
    assert view.color_counts() == {"tp": record["tp"], "fp": record["fp"], "fn": record["fn"]}
    assert set(PIXEL_COLORS) == {1, 2, 3}
    for k, summary in enumerate(view.comparison.summaries):  # the histogram holds every matched defect's error
        errors = view.comparison.length_errors[k]
        assert len(errors) == summary["matched_defects"] - summary["matched_defects_uncalibrated"] * (
            summary["length_unit"] == "mm")
        if errors:
            assert max(errors) == pytest.approx(summary["length_error_max"], abs=1e-3)
        assert int(sum(view.bars[k].opts["height"])) == len(errors)
    out = tmp_path / "report.html"
    monkeypatch.setattr("iunet_gui.gui.compare_view.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), ""))
    qtbot.mouseClick(view.report_button, Qt.LeftButton)
    html = out.read_text()
    section = html.split("<h2>Models compared</h2>", 1)[1].split("<h2>", 1)[0]
    assert all(f"<th>{n}</th>" in section for n in view.names)
    best = view.figures.item(miou, better).text()
    assert "<td>MIoU %</td>" in section and f"<b>{best}</b>" in section
    view.close()


def test_double_click_shows_both_predictions_and_t_toggles_between_them(qtbot, tmp_path, project):
    import torch

    from iunet_gui.app.settings import InspectSettings, open_predictor
    from iunet_gui.core.project import Project

    proj, blank, good, bad = project
    strict = tmp_path / "strict.pt"  # the same network with a higher threshold: a part of its pixels
    ck = torch.load(good.best_checkpoint, map_location="cpu", weights_only=False)
    ck["meta"]["threshold"] = 0.6
    torch.save(ck, strict)
    with ModelRegistry(proj) as reg:
        a = reg.set_in_use(reg.register_training(good, data=proj).id)
        b = reg.register(strict, name="strict")
    image = proj / "t0.png"
    mm = Project.open(proj).mm_per_px_for(image)
    pa, pb = (np.asarray(open_predictor(m, InspectSettings()).predict_file(image, mm)[0].mask, bool)
              for m in (good.best_checkpoint, strict))
    assert (pa & pb).any() and (pa & ~pb).any()
    view = _compare(qtbot, open_window(qtbot, tmp_path, proj), a.id, b.id)
    na, nb = view.names
    where = view.images.visualItemRect(view.images.item(view.image_names().index("t0.png"), 0)).center()
    qtbot.mouseClick(view.images.viewport(), Qt.LeftButton, pos=where)
    assert view.show_box.currentText() == TRUE_FALSE and view.model_box.isEnabled()
    _wait_drawn(qtbot, view)
    tf_picture = view.drawn
    qtbot.mouseDClick(view.images.viewport(), Qt.LeftButton, pos=where)
    assert view.show_box.currentText() == "both predictions" and not view.model_box.isEnabled()
    _wait_drawn(qtbot, view)
    assert not view.picture.pixmap().isNull()
    assert view.prediction_counts() == {na: int((pa & ~pb).sum()), nb: int((pb & ~pa).sum()),
                                        "overlap": int((pa & pb).sum())}
    assert view.color_counts() == {"tp": 0, "fp": 0, "fn": 0}
    assert na in view.legend.text() and nb in view.legend.text()
    pictures = {"both": view.drawn}
    assert pictures["both"] != tf_picture
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    gt = Project.open(proj).ground_truth_mask(image)
    expected = {TRUE_FALSE: None, f"prediction of {na}": {na: int(pa.sum()), nb: 0, "overlap": 0},
                f"prediction of {nb}": {na: 0, nb: int(pb.sum()), "overlap": 0}}
    for shown, counts in expected.items():  # T: the next view, round to both again
        qtbot.keyClick(view.images, Qt.Key_T)
        assert view.show_box.currentText() == shown
        if counts is None:
            classes = pixel_classes(pa, gt)
            assert view.color_counts() == {"tp": int((classes == 1).sum()), "fp": int((classes == 2).sum()),
                                           "fn": int((classes == 3).sum())}
        else:
            name = shown.removeprefix("prediction of ")
            other = nb if name == na else na
            assert view.prediction_counts() == counts
            assert name in view.legend.text() and other not in view.legend.text()
        pictures[shown] = view.drawn
    qtbot.keyClick(view.images, Qt.Key_T)
    assert view.show_box.currentText() == "both predictions"
    assert view.drawn == pictures["both"]
    drawn = list(pictures.values())
    assert all(drawn[i] != drawn[j] for i in range(len(drawn)) for j in range(i + 1, len(drawn)))
    view.close()


def _gated_predictions(monkeypatch):
    """Make every prediction the view's worker makes wait for the test: the i-th call sets entered[i]
    and waits for gates[i] (a few seconds at most)."""
    import threading

    import iunet_gui.app.settings as settings

    real, calls = settings.open_predictor, []
    gates, entered = [threading.Event() for _ in range(8)], [threading.Event() for _ in range(8)]

    def gated_open(model, s):
        predictor = real(model, s)
        predict = predictor.predict

        def gated(image, mm=None):
            i = len(calls)
            calls.append(i)
            entered[i].set()
            gates[i].wait(5)
            return predict(image, mm)

        predictor.predict = gated
        return predictor

    monkeypatch.setattr(settings, "open_predictor", gated_open)
    return gates, entered


def _compare(qtbot, win, first_id, second_id):
    """Click the two registry rows in the Models panel (the second with Ctrl), Compare, and wait for the
    comparison: the view."""
    part, table = win.models_part, win.models_part.dock.table
    for entry_id, mod in ((first_id, Qt.NoModifier), (second_id, Qt.ControlModifier)):
        qtbot.mouseClick(table.viewport(), Qt.LeftButton, mod,
                         table.visualItemRect(table.item(part.dock.row_of(entry_id), 1)).center())
    qtbot.mouseClick(part.dock.compare_button, Qt.LeftButton)
    view = part.compare_view
    qtbot.waitUntil(lambda: view.comparison is not None, timeout=60000)
    return view


def _open_compare_view(qtbot, tmp_path, proj, good, bad):
    with ModelRegistry(proj) as reg:
        a = reg.set_in_use(reg.register_training(good, data=proj).id)
        b = reg.register_training(bad, data=proj)
    return _compare(qtbot, open_window(qtbot, tmp_path, proj), a.id, b.id)


def _row_center(view, name):
    return view.images.visualItemRect(view.images.item(view.image_names().index(name), 0)).center()


def test_double_click_predicts_in_the_background_and_says_so(qtbot, tmp_path, project, monkeypatch):
    proj, _blank, good, bad = project
    view = _open_compare_view(qtbot, tmp_path, proj, good, bad)
    gates, entered = _gated_predictions(monkeypatch)
    na, nb = view.names
    where = _row_center(view, "t1.png")
    qtbot.mouseClick(view.images.viewport(), Qt.LeftButton, pos=where)
    qtbot.mouseDClick(view.images.viewport(), Qt.LeftButton, pos=where)
    assert view.show_box.currentText() == "both predictions"
    assert view.lengths.text() == f"predicting t1.png with {na}…"  # the window answers while the model runs
    assert view.overlay is None and view.prediction_counts() == {}
    qtbot.waitUntil(entered[0].is_set)
    qtbot.waitUntil(lambda: view.drawn is not None)  # the photo alone meanwhile, no colours
    assert view.overlay is None and not view.picture.pixmap().isNull()
    gates[0].set()
    qtbot.waitUntil(lambda: view.lengths.text() == f"predicting t1.png with {nb}…")
    assert view.overlay is None
    gates[1].set()
    _wait_drawn(qtbot, view)
    counts = view.prediction_counts()
    assert counts[na] + counts["overlap"] > 0 and not view.lengths.text().startswith("predicting")
    assert na in view.legend.text() and nb in view.legend.text()
    view.close()


def test_a_stale_prediction_is_not_shown_over_the_next_image(qtbot, tmp_path, project, monkeypatch):
    from iunet_gui.app.settings import InspectSettings, open_predictor
    from iunet_gui.core.images import load_image
    from iunet_gui.core.project import Project

    proj, _blank, good, bad = project
    view = _open_compare_view(qtbot, tmp_path, proj, good, bad)
    gates, entered = _gated_predictions(monkeypatch)
    na = view.names[0]
    qtbot.mouseClick(view.images.viewport(), Qt.LeftButton, pos=_row_center(view, "t0.png"))  # true / false of na
    assert view.lengths.text() == f"predicting t0.png with {na}…"
    qtbot.waitUntil(entered[0].is_set)  # t0's prediction is under way ...
    qtbot.mouseClick(view.images.viewport(), Qt.LeftButton, pos=_row_center(view, "t1.png"))  # ... when t1 is chosen
    assert view.lengths.text() == f"predicting t1.png with {na}…"
    gates[0].set()  # t0's prediction ends; t1's job runs after it
    qtbot.waitUntil(entered[1].is_set)
    qtbot.wait(50)
    assert view.overlay is None and view.lengths.text() == f"predicting t1.png with {na}…"  # nothing of t0 drawn
    assert view.predictions.image == "t1.png" and view.predictions.kept == {}
    gates[1].set()
    _wait_drawn(qtbot, view)
    record = next(r for r in view.comparison.records[0] if r["name"] == "t1.png")
    assert view.color_counts() == {"tp": record["tp"], "fp": record["fp"], "fn": record["fn"]}
    path = proj / "t1.png"
    mask = open_predictor(good.best_checkpoint, InspectSettings()).predict_file(path, Project.open(proj).mm_per_px_for(
        path))[0].mask
    assert np.array_equal(view.predictions.kept[0].mask, mask)  # what is kept is t1's
    assert np.array_equal(view.predictions.pixels, load_image(path, "rgb"))
    view.close()


def test_a_prediction_that_fails_says_why_and_closing_during_one_is_safe(qtbot, tmp_path, project, monkeypatch):
    import threading

    proj, _blank, good, bad = project
    view = _open_compare_view(qtbot, tmp_path, proj, good, bad)
    (proj / "t1.png").unlink()
    qtbot.mouseClick(view.images.viewport(), Qt.LeftButton, pos=_row_center(view, "t1.png"))
    qtbot.waitUntil(lambda: view.lengths.text().startswith("Could not predict t1.png"))
    assert "not found" in view.lengths.text() and "Traceback" not in view.lengths.text()
    assert view.overlay is None and view.drawn is None
    gates, entered = _gated_predictions(monkeypatch)
    qtbot.mouseClick(view.images.viewport(), Qt.LeftButton, pos=_row_center(view, "t0.png"))
    qtbot.waitUntil(entered[0].is_set)
    job = view.predictions.job
    threading.Timer(0.3, gates[0].set).start()
    view.close()  # waits for the job, which ends without drawing
    assert not job.isRunning()
    qtbot.wait(50)
    assert view.overlay is None
