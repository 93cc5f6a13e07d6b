"""app/: the one inspect loop (predict, measure, score, report, save), its settings, cancel and
backend names, driven with a Predictor whose network is a fixed rule (bright pixels are defects)."""
import json

import cv2
import numpy as np
import pytest

from iunet_gui.app.inspect import InspectedImage, Inspection, inspect_images, save_report
from iunet_gui.app.settings import InspectSettings, apply_settings
from iunet_gui.core.errors import IunetError
from iunet_gui.core.progress import Cancelled, CancelToken
from iunet_gui.core.project import Project
from iunet_gui.core.report import summary_rows
from iunet_gui.inference.predictor import Predictor
from iunet_gui.inference.runners import normalise_backend
from tests.test_training import make_toy


def bright_is_defect(x: np.ndarray) -> np.ndarray:
    """Logits of a 'network' that calls every pixel above 178 (normalised 0.8) a defect."""
    return np.where(x[0] > 0.8, 10.0, -10.0).astype(np.float32)


@pytest.fixture
def rule():
    return Predictor(bright_is_defect, 3, 1, "rule", "test", crop_to_part=False)


@pytest.fixture
def folder(tmp_path):
    return make_toy(tmp_path / "data", n=6, size=64)


def test_inspection_scores_the_labelled_images_reports_and_saves_every_one(rule, folder, tmp_path):
    project = Project.open(folder)
    events = []
    run = inspect_images(rule, project.images, project=project, out=tmp_path / "out", labelme=True,
                         progress=events.append)
    assert isinstance(run, Inspection) and (run.images, run.predicted, run.saved) == (7, 7, 7)
    assert not (run.failures or run.unscored or run.unsaved)
    # the rule finds exactly the labelled squares: a perfect score on the 6 labelled images
    assert run.summary["images"] == 6 == len(run.records)
    assert run.summary["miou"] == 1.0 and run.summary["length_error_max"] == 0.0
    assert run.found == 5 + 1  # five squares, and the unlabelled copy of t0's
    # defect-level figures: each labelled square found, by its kind, and seen as plainly visible
    # (the photo goes to the scoring: squares of grey 210 on a background of about 90)
    assert run.summary["defect_kinds"] == {"scratch": {"labelled": 5, "found": 5, "recall": 1.0}}
    assert (run.summary["defects_visible"], run.summary["found_visible"], run.summary["false_alarms"]) == (5, 5, 0)
    statuses = [r["status"] for r in run.rows]
    assert statuses.count("found") == 5 and statuses.count("predicted") == 1 and "missed" not in statuses
    # one event per image, each carrying that image's outcome
    assert [e.step for e in events] == list(range(1, 8)) and {e.steps for e in events} == {7}
    items = [e.result for e in events]
    assert all(isinstance(i, InspectedImage) for i in items)
    assert [i.image.name for i in items] == [p.name for p in project.images]
    assert sum(i.record is not None for i in items) == 6
    t0 = next(i for i in items if i.image.name == "t0.png")
    assert {p.name for p in t0.saved} == {"t0.png", "t0_prob.png", "t0_defects.json", "t0.json"}
    saved = json.loads((tmp_path / "out" / "t0_defects.json").read_text())
    assert saved["model"] == "rule" and len(saved["defects"]) == 1
    mask = cv2.imread(str(tmp_path / "out" / "t0.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(mask > 0, project.ground_truth_mask(folder / "t0.png"))
    save_report(tmp_path / "report.csv", run)
    lines = (tmp_path / "report.csv").read_text().splitlines()
    assert len(lines) == 1 + len(run.rows) + len(summary_rows(run.summary)) and "status" in lines[0]
    assert any(",summary," in line and line.endswith(",found all,5,5,1.0") for line in lines)  # every square found


def test_settings_decide_the_scoring_and_leave_the_callers_predictor_alone(rule, folder):
    project = Project.open(folder)
    run = inspect_images(rule, project.images, InspectSettings(iou_threshold=1.0, merge_gap_px=0, mm_per_px=0.1),
                         project=project)
    s = run.summary
    assert s["accuracy_iou_threshold"] == 1.0 and s["merge_gap_px"] == 0 and s["length_unit"] == "mm"
    assert rule.merge_gap_px == 8 and rule.threshold == 0.5
    apply_settings(rule, InspectSettings(threshold=0.7, merge_gap_px=3, flip_mean=False, min_area_px=9))
    assert (rule.threshold, rule.merge_gap_px, rule.tta, rule.min_area_px) == (0.7, 3, False, 9)
    without = inspect_images(rule, project.images, project=project, score=False)
    assert without.summary is None and without.records == [] and without.predicted == 7


def test_cancel_stops_between_images_with_the_partial_run(rule, folder):
    project = Project.open(folder)
    token = CancelToken()

    def progress(ev):
        if ev.step == 2:
            token.cancel()

    with pytest.raises(Cancelled) as stop:
        inspect_images(rule, project.images, project=project, progress=progress, cancel=token)
    partial = stop.value.partial
    assert isinstance(partial, Inspection) and partial.cancelled
    assert partial.predicted == 2 and len(partial.records) == 2 and partial.summary["images"] == 2


def test_an_unreadable_image_is_told_and_the_others_go_on(rule, folder):
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    project = Project.open(folder)
    run = inspect_images(rule, project.images, project=project)
    assert run.predicted == 7 and len(run.failures) == 1
    assert run.failures[0].startswith("broken.png: cannot read image")


def test_an_image_with_a_broken_labels_file_is_predicted_not_scored(rule, folder):
    (folder / "t1.json").write_text("{broken")
    project = Project.open(folder)
    run = inspect_images(rule, project.images, project=project)
    assert run.predicted == 7 and not run.failures and run.summary["images"] == 5
    assert len(run.unscored) == 1 and run.unscored[0].startswith("t1.png: ") and "broken JSON" in run.unscored[0]
    assert any(r["image"] == "t1.png" for r in run.rows)


def test_the_images_own_folder_is_refused_as_output(rule, folder):
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(IunetError, match="written over the images and labels"):
        inspect_images(rule, Project.open(folder).images, out=folder, labelme=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("spelling, backend", [("auto", "auto"), ("torch", "torch"), ("PyTorch", "torch"),
                                               ("onnx", "onnx"), ("onnxruntime", "onnx"), ("ORT", "onnx"),
                                               (None, "auto")])
def test_every_backend_spelling_is_one_backend(spelling, backend):
    assert normalise_backend(spelling) == backend
    assert InspectSettings(backend=spelling or "auto").validated().backend == backend


@pytest.mark.parametrize("bad, fragment", [({"backend": "tensorrt"}, "unknown backend 'tensorrt'"),
                                           ({"threshold": 1.0}, "threshold must be between 0 and 1"),
                                           ({"merge_gap_px": -1}, "merge gap px must be >= 0"),
                                           ({"iou_threshold": 2}, "iou threshold must be between 0 and 1"),
                                           ({"mm_per_px": 0}, "mm per px must be > 0")])
def test_bad_settings_are_clear_errors(bad, fragment):
    with pytest.raises(IunetError, match=fragment):
        InspectSettings(**bad).validated()
