"""The gate reuses the champion's golden-set figures the registry keeps when nothing they depend on
changed (the model file, the set's images, their labels and calibration, the settings), and scores it
again when something did; the registry reaches the project database through InspectionLog's public API."""
from pathlib import Path

import pytest

import iunet_gui.app.gate as gate
from iunet_gui.app.gate import golden_fingerprint, run_gate
from iunet_gui.app.golden import GoldenSets
from iunet_gui.app.records import InspectionLog
from iunet_gui.app.registry import ModelRegistry
from iunet_gui.app.settings import InspectSettings
from iunet_gui.core.annotation import Annotation
from iunet_gui.core.project import Project


@pytest.fixture
def scored(monkeypatch):
    """The model files golden_figures scores, in order."""
    calls = []
    real = gate.golden_figures

    def counting(model, *args, **kwargs):
        calls.append(Path(model).resolve())
        return real(model, *args, **kwargs)

    monkeypatch.setattr(gate, "golden_figures", counting)
    return calls


def test_the_champions_stored_figures_are_reused_until_the_golden_set_changes(project, scored):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        champion = reg.register_training(good, data=proj)
        first = run_gate(reg, champion.id)  # no model in use: the champion is scored as a challenger
        assert first.accepted and scored == [champion.path]
        stored = reg.get(champion.id).golden
        images = GoldenSets(reg).images()
        assert stored["fingerprint"] == golden_fingerprint(champion.path, Project.open(proj), images)

        challenger = reg.register_training(bad, data=blank)
        scored.clear()
        outcome = run_gate(reg, challenger.id)
        assert scored == [challenger.path]  # the champion is not scored again
        assert outcome.champion_reused and not outcome.accepted
        assert outcome.champion["miou"] == stored["miou"] and outcome.champion["missed_ng"] == stored["missed_ng"]
        assert reg.gate_decisions()[-1]["figures"]["champion_reused"] is True

        scored.clear()  # other settings: scored again
        assert not run_gate(reg, challenger.id, settings=InspectSettings(min_area_px=40)).champion_reused
        assert scored == [challenger.path, champion.path]

        scored.clear()  # the same settings again: the figures just stored are reused
        assert run_gate(reg, challenger.id, settings=InspectSettings(min_area_px=40)).champion_reused
        assert scored == [challenger.path]

        GoldenSets(reg).add([proj / "t2.png"])  # another image in the set
        scored.clear()
        again = run_gate(reg, challenger.id)
        assert not again.champion_reused and scored == [challenger.path, champion.path]
        assert again.champion["images"] == len(images) + 1

        ann = Annotation.load(proj / "t0.json")  # a golden image's labels change
        ann.shapes.clear()
        ann.flags["defect_free"] = True
        ann.save(proj / "t0.json")
        scored.clear()
        relabelled = run_gate(reg, challenger.id)
        assert not relabelled.champion_reused and scored == [challenger.path, champion.path]
        assert relabelled.champion["miou"] != again.champion["miou"]
        assert reg.get(champion.id).golden["miou"] == relabelled.champion["miou"]


def test_another_set_of_the_same_images_reuses_the_figures_and_a_removed_image_does_not(project, scored):
    proj, blank, good, bad = project
    with ModelRegistry(proj) as reg:
        champion = reg.register_training(good, data=proj)
        run_gate(reg, champion.id)
        golden = GoldenSets(reg)
        golden.add(list(reversed(golden.images())), name="line 2")  # the same images, another name and order
        challenger = reg.register_training(bad, data=blank)
        scored.clear()
        assert run_gate(reg, challenger.id, set_name="line 2").champion_reused
        assert scored == [challenger.path]
        golden.remove([proj / "t7.png"], name="line 2")
        outcome = run_gate(reg, challenger.id, set_name="line 2")
        assert not outcome.champion_reused and scored == [challenger.path] * 2 + [champion.path]
        assert outcome.champion["images"] == 2 and reg.get(champion.id).golden_set == "line 2"


def test_inspection_log_runs_the_registrys_statements(tmp_path):
    with InspectionLog(tmp_path) as log:
        first = log.execute("INSERT INTO registry_state (key, value) VALUES (?, ?)", ("a", "1"))
        assert log.execute_many("INSERT INTO registry_state (key, value) VALUES (?, ?)", [("b", "2"), ("c", "3")]) == 2
        assert log.query("SELECT rowid, key, value FROM registry_state WHERE key = ?", ("a",)) == [
            {"rowid": first, "key": "a", "value": "1"}]
        assert [r["key"] for r in log.query("SELECT key FROM registry_state ORDER BY key")] == ["a", "b", "c"]
