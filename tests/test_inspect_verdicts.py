"""app.inspect with a specification and the inspection log: every image predicted gets a verdict and a
log row; one at a time and as a pipeline of threads alike."""
import threading

import pytest

from iunet_gui.app.inspect import inspect_images
from iunet_gui.app.records import InspectionLog
from iunet_gui.app.settings import InspectSettings
from iunet_gui.core.errors import SpecError
from iunet_gui.core.progress import Cancelled, CancelToken
from iunet_gui.core.project import Project
from iunet_gui.core.spec import ClassLimits, Specification
from tests.test_app_inspect import bright_is_defect
from tests.test_training import make_toy


@pytest.fixture
def rule():
    from iunet_gui.inference.predictor import Predictor

    return Predictor(bright_is_defect, 3, 1, "rule", "test", crop_to_part=False)


@pytest.mark.parametrize("pipeline", [False, True])
def test_each_image_gets_a_verdict_and_a_log_row(rule, tmp_path, pipeline):
    folder = make_toy(tmp_path / "data", n=6, size=64)
    (folder / "broken.png").write_bytes(b"not an image")
    project = Project.open(folder)
    spec = Specification({"defect": ClassLimits(max_length_mm=1.0)})
    events = []
    with InspectionLog(folder) as log:
        run = inspect_images(rule, project.images, InspectSettings(mm_per_px=0.1), project=project, spec=spec,
                             log=log, model_id="rule.pt", pipeline=pipeline, progress=events.append)
        rows = {r["image_path"].rsplit("/", 1)[-1]: r for r in log.latest_inspections()}
        items = [e.result for e in events if e.result is not None]
        assert [e.message for e in events] == [p.name for p in project.images]  # in order
        assert run.verdicts == {"NG": 6, "OK": 1} and len(run.failures) == 1
        for item in items:
            name = item.image.name
            assert rows[name]["id"] == item.inspection_id and rows[name]["status"] == item.verdict.status
            assert rows[name]["model_id"] == "rule.pt" and rows[name]["specification"] == spec.to_dict()
        t0 = next(i for i in items if i.image.name == "t0.png")
        assert t0.verdict.status == "NG" and t0.verdict.reasons[0].startswith("defect 1.")
        assert t0.verdict.reasons[0].endswith("mm > 1.0 mm")
        assert rows["t0.png"]["scores"]["iou_defect"] == 1.0  # labelled: its figures go into the log
        assert rows["unlabelled.png"]["scores"] is None
        defect = log.defects(t0.inspection_id)[0]
        assert defect["probability"] == pytest.approx(1.0, abs=1e-3) and defect["judged"] == "ng"
        assert rows["t5.png"]["status"] == "OK" and "broken.png" not in rows
    assert not [t for t in threading.enumerate() if t.name.startswith("iunet-")]


def test_the_projects_own_specification_judges_when_none_is_given(rule, tmp_path):
    folder = make_toy(tmp_path / "data", n=3, size=64)
    project = Project.open(folder)
    project.specification = Specification({"defect": ClassLimits(max_length_mm=50.0)})
    run = inspect_images(rule, Project.open(folder).images, InspectSettings(mm_per_px=0.1), pipeline=True)
    assert run.verdicts == {"OK": 4}
    uncal = inspect_images(rule, Project.open(folder).images)  # no calibration: not judged in pixels
    assert uncal.verdicts == {"uncalibrated": 3, "OK": 1}
    raw = project.settings.extra["specification"]
    raw["limits"]["defect"]["max_length_mm"] = -2
    project.save_settings()
    with pytest.raises(SpecError, match="max_length_mm must be > 0"):
        inspect_images(rule, Project.open(folder).images, pipeline=True)
    assert not [t for t in threading.enumerate() if t.name.startswith("iunet-")]


def test_a_pipelined_run_stops_cleanly_when_cancelled(rule, tmp_path):
    folder = make_toy(tmp_path / "data", n=6, size=64)
    token = CancelToken()

    def stop_after_two(ev):
        if ev.step == 2:
            token.cancel()

    with pytest.raises(Cancelled) as stop:
        inspect_images(rule, Project.open(folder).images, pipeline=True, progress=stop_after_two, cancel=token)
    assert stop.value.partial.predicted == 2 and stop.value.partial.cancelled
    assert not [t for t in threading.enumerate() if t.name.startswith("iunet-")]
