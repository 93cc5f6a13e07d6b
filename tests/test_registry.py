"""Model registry, golden set and the champion/challenger gate on a tiny project: models trained in
seconds are registered with their golden-set figures; the gate refuses a model trained on no defects
and accepts a better one; an override needs a note and is logged; `iunet-gui models --project` and
`iunet-gui train --gate` (exit 4 when refused)."""
import json
import shutil
import sqlite3

import pytest

from iunet_gui.app.gate import EXIT_REFUSED, Tolerances, golden_figures, judge_challenger, override, run_gate
from iunet_gui.app.golden import GoldenSets, training_exclusions
from iunet_gui.app.records import LOG_FILE
from iunet_gui.app.registry import ModelRegistry, labels_hash
from iunet_gui.cli import main
from iunet_gui.core.annotation import Annotation
from iunet_gui.core.errors import IunetError
from iunet_gui.core.project import Project
from iunet_gui.models.checkpoint import load_checkpoint
from iunet_gui.models.registry import count_parameters
from iunet_gui.training.trainer import train
from tests.registry_project import GOLDEN, train_config
from tests.test_training import make_toy


def test_a_trained_model_is_registered_with_its_golden_figures(project):
    proj, _blank, good, _bad = project
    with ModelRegistry(proj) as reg:
        entry = reg.register_training(good, data=proj)
        ck = load_checkpoint(good.best_checkpoint)
        assert (entry.arch, entry.preset, entry.source) == ("iunet", "default", "trained")
        assert entry.parameters == count_parameters(ck.model) and entry.classes == ["defect"]
        assert entry.input_scale == 1.0 and entry.threshold == ck.threshold
        names = ck.meta["data"]["train_names"] + ck.meta["data"]["val_names"]
        assert entry.train_images == len(names) == 8 - len(GOLDEN)  # the golden set was left out
        assert not set(names) & set(GOLDEN)
        assert entry.labels_hash == labels_hash(Project.open(proj), [proj / n for n in names])
        assert reg.register(good.best_checkpoint).id == entry.id  # a file is registered once
        runs = reg.log.query("SELECT * FROM training_runs")
        assert len(runs) == 1 and runs[0]["model_id"] == str(entry.id) and runs[0]["data_size"] == entry.train_images
        assert json.loads(runs[0]["metrics"])["status"] == good.status
        assert json.loads(runs[0]["settings"])["data"] == json.loads((good.run_dir / "config.json").read_text())["data"]
        reg.register_training(good, data=proj)  # registering the run again logs nothing new
        assert len(reg.log.query("SELECT * FROM training_runs")) == 1
        outcome = run_gate(reg, entry.id)
        assert outcome.accepted and outcome.champion is None and reg.in_use().id == entry.id
        stored = reg.get(entry.id).golden
        assert stored["images"] == len(GOLDEN) and stored["miou"] == pytest.approx(outcome.challenger["miou"])
        assert stored["ms_per_image"] > 0 and "per_image" not in stored
        again = golden_figures(entry.path, proj, [proj / n for n in GOLDEN])
        assert again["miou"] == pytest.approx(stored["miou"]) and again["length_error_mean"] == stored["length_error_mean"]


def test_the_gate_refuses_a_model_trained_on_no_defects(project):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        champion = reg.set_in_use(reg.register_training(good, data=proj).id)
        challenger = reg.register_training(bad, data=blank)
        outcome = run_gate(reg, challenger.id)
        assert not outcome.accepted and not outcome.in_use
        assert reg.in_use().id == champion.id
        assert set(outcome.challenger["missed_ng"]) == {"t0.png", "t1.png"}
        assert not outcome.champion["missed_ng"]
        assert any(r.startswith("MIoU") for r in outcome.verdict.reasons)
        assert any("NG part(s)" in r and "t0.png" in r for r in outcome.verdict.reasons)
        (row,) = reg.gate_decisions()
        assert (row["accepted"], row["challenger_id"], row["champion_id"]) == (0, challenger.id, champion.id)
        assert row["figures"]["challenger"]["miou"] == pytest.approx(outcome.challenger["miou"])


def test_the_gate_accepts_a_better_model(project):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        reg.set_in_use(reg.register_training(bad, data=blank).id)
        challenger = reg.register_training(good, data=proj)
        outcome = run_gate(reg, challenger.id)
        assert outcome.accepted and outcome.verdict.reasons == []
        assert outcome.challenger["miou"] > outcome.champion["miou"]
        assert reg.in_use().id == challenger.id
        assert [m.in_use for m in reg.models()] == [False, True]


def test_an_override_needs_a_note_and_is_logged(project):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        champion = reg.set_in_use(reg.register_training(good, data=proj).id)
        outcome = run_gate(reg, reg.register_training(bad, data=blank).id)
        assert not outcome.accepted
        for note in ("", "   "):
            with pytest.raises(IunetError, match="needs a note"):
                override(reg, outcome, note)
        assert reg.in_use().id == champion.id
        override(reg, outcome, "line 3 runs the new washer type", reviewer="ann")
        assert reg.in_use().id == outcome.challenger_id
    with sqlite3.connect(proj / LOG_FILE) as db:  # any SQLite tool reads the log
        rows = db.execute("SELECT accepted, overridden, note, reviewer FROM gate_decisions ORDER BY id").fetchall()
    assert rows == [(0, 0, "", rows[0][3]), (1, 1, "line 3 runs the new washer type", "ann")]


@pytest.mark.parametrize("drop, refused", [(0.004, False), (0.005, False), (0.006, True)])
def test_miou_tolerance_is_half_a_point(drop, refused):
    champion = {"miou": 0.80, "length_error_mean_mm": 0.10, "missed_ng": []}
    challenger = {"miou": 0.80 - drop, "length_error_mean_mm": 0.10, "missed_ng": []}
    assert judge_challenger(challenger, champion).accepted is not refused


def test_length_error_and_new_misses_are_gated():
    champion = {"miou": 0.8, "length_error_mean_mm": 0.10, "missed_ng": ["a.png"]}
    assert judge_challenger({**champion, "length_error_mean_mm": 0.15}, champion).accepted
    verdict = judge_challenger({**champion, "length_error_mean_mm": 0.16}, champion)
    assert not verdict.accepted and "mean length error 0.160 mm" in verdict.reasons[0]
    assert judge_challenger({**champion, "missed_ng": ["a.png"]}, champion).accepted  # not new
    assert not judge_challenger({**champion, "missed_ng": ["a.png", "b.png"]}, champion).accepted
    assert judge_challenger({**champion, "missed_ng": ["b.png"]}, champion, Tolerances(new_missed_ng=1)).accepted


def test_golden_set_takes_labelled_images_and_notices_changed_labels(project):
    proj, *_ = project
    with ModelRegistry(proj) as reg:
        golden = GoldenSets(reg)
        assert [p.name for p in golden.images()] == GOLDEN
        with pytest.raises(IunetError, match="not labelled"):
            golden.add([proj / "unlabelled.png"])
        assert golden.add([proj / "t0.png"]) == []  # already in it
        assert golden.changed() == []
        ann = Annotation.load(proj / "t1.json")
        ann.shapes.clear()
        ann.save(proj / "t1.json")
        assert golden.changed() == ["t1.png"]
        assert training_exclusions(reg, include_golden=True) == ([], "the 3 image(s) of the golden set 'golden' are "
                                                                    "trained on: the gate's figures on them will "
                                                                    "flatter the new model")
        golden.remove([proj / "t7.png"])
        assert [p.name for p in golden.images()] == ["t0.png", "t1.png"]


def test_rename_and_delete(project):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        a = reg.register_training(good, data=proj)
        b = reg.register(bad.last_checkpoint)
        reg.set_in_use(a.id)
        assert reg.rename(a.id, "  first washers  ").name == "first washers"
        with pytest.raises(IunetError, match="empty"):
            reg.rename(a.id, " ")
        with pytest.raises(IunetError, match="model in use"):
            reg.delete(a.id, delete_files=True)
        assert a.path.is_file()
        assert reg.delete(b.id, delete_files=True) == [bad.last_checkpoint.resolve()]
        assert not bad.last_checkpoint.exists() and [m.id for m in reg.models()] == [a.id]


def test_cli_lists_the_registry(project, capsys):
    proj, blank, good, bad = project
    assert main(["models", "--project", str(proj), "--register", str(good.best_checkpoint), "--use", "1"]) == 0
    out = capsys.readouterr().out
    assert "registered 1: good/best.pt" in out and "in use: good/best.pt" in out and "golden set: 3 image(s)" in out
    assert main(["models", "--project", str(proj), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [(m["id"], m["in_use"], m["arch"]) for m in listing["models"]] == [(1, True, "iunet")]
    assert listing["golden_set"] == GOLDEN
    assert main(["models", "--use", "1"]) == 2  # needs --project


def test_train_gate_exit_4_when_refused(project, capsys):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        champion = reg.set_in_use(reg.register_training(good, data=proj).id)
    no_defects = "t6.png"  # labelled defect-free here; every other image with a defect is left out
    ann = Annotation.load(proj / "t6.json")
    ann.shapes.clear()
    ann.flags["defect_free"] = True
    ann.save(proj / "t6.json")
    args = ["train", "--data", str(proj), "--out", str(proj.parent / "cli_run"), "--epochs", "3", "--crop", "32",
            "--scale", "1", "--threads", "1", "--model-config", "base=4", "depth=3",
            "--set", "crops_per_epoch=8", "--set", "prior=0.001", "--set", "exclude=t2.png,t3.png,t4.png,t5.png",
            "--set", "max_val_images=1", "--gate"]
    assert main(args) == EXIT_REFUSED
    out = capsys.readouterr().out
    assert "notice: the 3 image(s) of the golden set 'golden' are left out of training" in out
    assert "gate: refused: 2 NG part(s)" in out
    with ModelRegistry(proj) as reg:
        assert reg.in_use().id == champion.id and len(reg.models()) == 2
        ck = load_checkpoint(reg.models()[1].path)
        assert ck.meta["data"]["train_names"] + ck.meta["data"]["val_names"] == [no_defects]


def test_train_gate_needs_a_golden_set(tmp_path, capsys):
    data = make_toy(tmp_path / "d", n=3, size=64)
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "r"), "--epochs", "1", "--gate"]) == 2
    assert "no golden set" in capsys.readouterr().err


def test_export_onnx_registers_both_files(project, capsys):
    proj, blank, good, bad = project
    out = proj.parent / "exported.onnx"
    assert main(["export-onnx", str(good.best_checkpoint), "--out", str(out), "--project", str(proj)]) == 0
    assert "registered 2: good/best.pt (ONNX)" in capsys.readouterr().out
    with ModelRegistry(proj) as reg:
        pt, onnx = reg.models()
        assert (pt.source, pt.onnx_path, onnx.source, onnx.path) == ("file", out.resolve(), "onnx", out.resolve())
        assert (onnx.parent_id, onnx.arch, onnx.parameters) == (pt.id, "iunet", pt.parameters)


def test_verdict_agreement_under_the_projects_specification(project):
    from iunet_gui.core.spec import Specification

    proj, blank, good, bad = project
    p = Project.open(proj)
    p.settings.mm_per_px = 0.1
    p.specification = Specification.default()  # no defect allowed: a labelled defect makes the part NG
    images = [proj / n for n in GOLDEN]
    nothing = golden_figures(bad.best_checkpoint, proj, images)
    assert nothing["per_image"][2]["defects_pred"] == 0 and sum(r["defects_pred"] for r in nothing["per_image"]) == 0
    assert nothing["verdict_agreement"] == pytest.approx(1 / 3)  # OK everywhere: right only on the defect-free part
    assert golden_figures(bad.best_checkpoint, Project.open(proj).folder, images[:2])["verdict_agreement"] == 0
    p.specification = None
    assert golden_figures(bad.best_checkpoint, proj, images)["verdict_agreement"] is None


def test_a_fine_tuned_model_names_its_parent_and_a_folder_fills_the_golden_set(project, tmp_path, capsys):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        parent = reg.register_training(good, data=proj)
        GoldenSets(reg).remove([proj / n for n in GOLDEN])
    child = train(train_config(proj, tmp_path / "child", epochs=1, init=str(good.best_checkpoint)))
    picked = tmp_path / "picked"
    picked.mkdir()
    for n in ("t2.png", "t5.png", "unlabelled.png"):
        shutil.copy(proj / n, picked / n)
    assert main(["models", "--project", str(proj), "--register", str(child.best_checkpoint),
                 "--add-golden", str(picked)]) == 0
    assert "golden set: 2 image(s) added, 2 in all" in capsys.readouterr().out  # the unlabelled one is not
    with ModelRegistry(proj) as reg:
        assert reg.by_path(child.best_checkpoint).parent_id == parent.id
        assert [p.name for p in GoldenSets(reg).images()] == ["t2.png", "t5.png"]


def test_train_registers_its_model_in_a_project_with_a_registry(project, capsys):
    proj, *_ = project
    args = ["train", "--data", str(proj), "--out", str(proj.parent / "plain"), "--epochs", "1", "--crop", "32",
            "--scale", "1", "--threads", "1", "--model-config", "base=4", "depth=3", "--set", "crops_per_epoch=4"]
    assert main(args) == 0
    assert "registered as model 1" in capsys.readouterr().out
    with ModelRegistry(proj) as reg:
        (entry,) = reg.models()
        assert entry.source == "trained" and not entry.in_use and entry.train_images == 8 - len(GOLDEN)
    assert main([*args, "--out", str(proj.parent / "with_golden"), "--set", "include_golden=true"]) == 0
    assert "notice: the 3 image(s) of the golden set 'golden' are trained on" in capsys.readouterr().out
    with ModelRegistry(proj) as reg:
        assert reg.models()[1].train_images == 8
