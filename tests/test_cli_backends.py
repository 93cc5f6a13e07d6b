"""Every backend spelling the commands offer works: evaluate and predict with auto, torch, onnx and
onnxruntime (the last two are the same ONNX Runtime backend)."""
import json

import pytest

from iunet_gui.cli import main
from iunet_gui.inference.runners import BACKEND_CHOICES
from iunet_gui.models.checkpoint import save_checkpoint
from iunet_gui.models.registry import build_preset
from tests.test_training import make_toy


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("backends")
    model, cfg = build_preset("iunet", "default", base=4, depth=3)
    ckpt = root / "m.pt"
    save_checkpoint(ckpt, model.eval(), arch="iunet", config=cfg)
    return ckpt, make_toy(root / "data", n=3, size=48)


def _evaluate(ckpt, data, backend, capsys) -> dict:
    assert main(["evaluate", "--checkpoint", str(ckpt), "--data", str(data), "--json", "--no-crop",
                 "--backend", backend]) == 0
    out = json.loads(capsys.readouterr().out)
    for rec in out["images"]:
        rec.pop("ms")  # the time each image took
    return out


def test_evaluate_with_each_offered_backend(toy_model, capsys):
    ckpt, data = toy_model
    assert set(BACKEND_CHOICES) == {"auto", "torch", "onnx", "onnxruntime"}
    runs = {b: _evaluate(ckpt, data, b, capsys) for b in BACKEND_CHOICES}
    assert all(r["summary"]["images"] == 3 for r in runs.values())
    assert runs["onnx"] == runs["onnxruntime"]  # one backend, two names
    probs = {b: [rec["iou_defect"] for rec in r["images"]] for b, r in runs.items()}
    assert probs["torch"] == pytest.approx(probs["onnx"], abs=1e-3)


def test_compare_and_predict_take_the_onnxruntime_spelling(toy_model, tmp_path, capsys):
    ckpt, data = toy_model
    assert main(["evaluate", "--compare", str(ckpt), "--data", str(data), "--backend", "onnxruntime", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["images"] == 3 and row["defects_labelled"] == 2  # toy squares; the third image is defect-free
    assert {"defect_recall", "false_alarms_per_image", "defect_kinds"} <= set(row)
    assert main(["evaluate", "--compare", str(ckpt), str(ckpt), "--data", str(data), "--backend", "onnx"]) == 0
    table = capsys.readouterr().out
    assert "Defects found %" in table and "False alarms / image" in table and table.count("iunet") == 2
    out = tmp_path / "pred"
    assert main(["predict", str(data / "t0.png"), "--checkpoint", str(ckpt), "--out", str(out),
                 "--backend", "onnxruntime"]) == 0
    assert json.loads((out / "t0.json").read_text())["backend"] == "onnxruntime"


def test_an_unknown_backend_is_refused_by_the_command_line(toy_model, capsys):
    ckpt, data = toy_model
    with pytest.raises(SystemExit) as stop:
        main(["evaluate", "--checkpoint", str(ckpt), "--data", str(data), "--backend", "tensorrt"])
    assert stop.value.code == 2 and "invalid choice" in capsys.readouterr().err
