"""`iunet-gui inspect` and `iunet-gui report`: one line per part, the summary, exit codes (0, 3 with
--fail-on-ng and an NG part, 2 on bad input), the log and the reports; reports from the log alone."""
import csv
import json

import pytest

from iunet_gui.app.records import LOG_FILE, InspectionLog
from iunet_gui.cli import main
from iunet_gui.core.project import SETTINGS_FILE, Project
from iunet_gui.core.spec import ClassLimits, Specification
from tests.test_app_inspect import bright_is_defect
from tests.test_training import make_toy


@pytest.fixture
def station(tmp_path, monkeypatch):
    """A calibrated toy project (0.1 mm/px: each bright square is 1.2 to 1.4 mm long), a specification
    of at most 1.0 mm, and a model that calls bright pixels defects."""
    from iunet_gui.app import settings as app_settings
    from iunet_gui.inference.predictor import Predictor

    folder = make_toy(tmp_path / "data", n=4, size=64)
    project = Project.open(folder)
    project.settings.mm_per_px = 0.1
    project.specification = Specification({"defect": ClassLimits(max_length_mm=1.0)})
    model = tmp_path / "rule.pt"
    model.write_bytes(b"a model")

    def open_rule(path, settings):
        assert str(path) == str(model)
        return app_settings.apply_settings(Predictor(bright_is_defect, 3, 1, "rule", "test", crop_to_part=False),
                                           settings)

    monkeypatch.setattr(app_settings, "open_predictor", open_rule)
    return folder, model


def test_one_line_per_part_a_summary_the_log_and_exit_codes(station, tmp_path, capsys):
    folder, model = station
    assert main(["inspect", str(folder), "--model", str(model)]) == 0
    out = capsys.readouterr().out.splitlines()
    parts = [ln for ln in out if ln.split(" ")[0].endswith(".png")]
    assert [ln.split(" ")[:2] for ln in parts] == [["t0.png", "NG"], ["t1.png", "NG"], ["t2.png", "NG"],
                                                   ["t3.png", "OK"], ["unlabelled.png", "NG"]]
    assert parts[0].endswith(" mm > 1.0 mm") and parts[0].startswith("t0.png NG defect 1.")
    assert out[-1].startswith("5 part(s): 1 OK, 4 NG, 0 check, 0 uncalibrated") and LOG_FILE in out[-1]
    assert main(["inspect", str(folder), "--model", str(model), "--fail-on-ng"]) == 3
    with InspectionLog(folder) as log:  # both runs are in the log; nothing was overwritten
        assert log.count("inspections") == 10 and len(log.latest_inspections()) == 5
    one = folder / "t3.png"
    assert main(["inspect", str(one), "--model", str(model), "--fail-on-ng"]) == 0  # an OK part


def test_reports_are_written_where_asked(station, tmp_path, capsys):
    folder, model = station
    out = tmp_path / "out"
    assert main(["inspect", str(folder), "--model", str(model), "--out", str(out), "--report", "html,csv"]) == 0
    assert (out / "t0.png").is_file() and (out / "t0_prob.png").is_file()  # the prediction files too
    html = (out / "inspection_report.html").read_text()
    assert "t0.png" in html and "data:image/jpeg;base64," in html and "1.0 mm" in html
    rows = list(csv.DictReader((out / "inspection_report.csv").open()))
    assert {r["image"] for r in rows} == {"t0.png", "t1.png", "t2.png", "t3.png", "unlabelled.png"}
    t0 = next(r for r in rows if r["image"] == "t0.png")
    assert (t0["class"], t0["verdict"], t0["judged"], t0["unit"]) == ("defect", "NG", "ng", "mm")
    assert not (out / "inspection_report.pdf").exists()
    assert "reports: " in capsys.readouterr().out


@pytest.mark.parametrize("args, words", [
    (["inspect", "{folder}/nowhere", "--model", "{model}"], "no such file or folder"),
    (["inspect", "{folder}", "--model", "{model}", "--report", "html,doc"], "unknown kind doc"),
    (["inspect", "{folder}", "--model", "{model}", "--threshold", "2"], "--threshold"),
    (["report", "{folder}"], "no inspection log"),
    (["report", "{folder}/nowhere"], "not a project folder"),
])
def test_bad_input_exits_2_with_a_message(station, capsys, args, words):
    folder, model = station
    argv = [a.format(folder=folder, model=model) for a in args]
    assert main(argv) == 2
    assert words in capsys.readouterr().err
    assert not (folder / LOG_FILE).exists() or args[0] == "inspect"


def test_a_nonsense_specification_or_an_unreadable_part_exits_2(station, capsys):
    folder, model = station
    (folder / "broken.png").write_bytes(b"not an image")
    assert main(["inspect", str(folder), "--model", str(model), "--fail-on-ng"]) == 3  # NG wins over a bad file
    assert main(["inspect", str(folder / "t3.png"), str(folder / "broken.png"), "--model", str(model)]) == 2
    assert "skipped: broken.png" in capsys.readouterr().out
    settings = json.loads((folder / SETTINGS_FILE).read_text())
    settings["specification"]["limits"]["defect"]["max_length_mm"] = "long"
    (folder / SETTINGS_FILE).write_text(json.dumps(settings))
    assert main(["inspect", str(folder), "--model", str(model)]) == 2
    assert "max_length_mm must be a number" in capsys.readouterr().err


def test_report_from_the_log_alone_holds_the_review_decisions(station, tmp_path, capsys):
    folder, model = station
    assert main(["inspect", str(folder), "--model", str(model)]) == 0
    with InspectionLog(folder) as log:
        t0 = next(r for r in log.latest_inspections() if r["image_path"].endswith("t0.png"))
        log.log_decision(t0["id"], 0, "false_alarm", note="dust, <b>wiped</b>", reviewer="Zoë")
    model.unlink()  # no network needed
    out = tmp_path / "rep"
    assert main(["report", str(folder), "--out", str(out), "--report", "csv,html"]) == 0
    assert "5 part(s) in the report" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "inspection_report.csv").open(encoding="utf-8")))
    t0_row = next(r for r in rows if r["image"] == "t0.png")
    assert (t0_row["decision"], t0_row["reviewer"], t0_row["note"]) == ("false_alarm", "Zoë", "dust, <b>wiped</b>")
    html = (out / "inspection_report.html").read_text(encoding="utf-8")
    assert "false_alarm by Zoë: dust, &lt;b&gt;wiped&lt;/b&gt;" in html and "<b>wiped</b>" not in html


def test_a_real_checkpoint_runs_through_the_same_command(tmp_path, capsys):
    from iunet_gui.models.checkpoint import save_checkpoint
    from iunet_gui.models.registry import build_preset

    folder = make_toy(tmp_path / "data", n=2, size=48)
    model, cfg = build_preset("iunet", "default", base=4, depth=3)
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, model.eval(), arch="iunet", config=cfg)
    assert main(["inspect", str(folder), "--model", str(ckpt), "--backend", "torch", "--no-tta"]) == 0
    out = capsys.readouterr().out.splitlines()
    verdicts = [ln.split(" ")[1] for ln in out if ln.split(" ")[0].endswith(".png")]
    assert len(verdicts) == 3 and set(verdicts) <= {"OK", "NG", "check", "uncalibrated"}
    with InspectionLog(folder) as log:
        assert {r["model_id"] for r in log.latest_inspections()} == {str(ckpt)}
