"""train -> predict -> evaluate end to end through the CLI, on generated images."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from iunet_gui.cli import main
from iunet_gui.core.annotation import Annotation
from iunet_gui.training.config import DEFAULT_LR
from tests.test_training import make_toy


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    data = make_toy(root / "data", n=6, size=64)
    assert main(["train", "--data", str(data), "--out", str(root / "run"), "--epochs", "2", "--crop", "32",
                 "--set", "crops_per_epoch=8", "--threads", "1", "--lr", "0.003"]) == 0
    return root, data, root / "run" / "best.pt"


def test_predict_writes_masks_probabilities_lengths_and_labelme(trained, capsys, monkeypatch):
    root, data, ckpt = trained
    monkeypatch.setenv("IUNET_GUI_CACHE", str(root / "cache"))
    out = root / "pred"
    assert main(["predict", "--checkpoint", str(ckpt), str(data), "--out", str(out), "--labelme",
                 "--backend", "torch"]) == 0
    for stem in ("t0", "t5", "unlabelled"):
        m = cv2.imread(str(out / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert m.shape == (64, 64) and set(np.unique(m)) <= {0, 255}
        assert cv2.imread(str(out / f"{stem}_prob.png"), cv2.IMREAD_UNCHANGED).shape == (64, 64)
        ann = Annotation.load(out / f"{stem}.json")  # labelme JSON of the predicted polygons
        assert (ann.image_width, ann.image_height) == (64, 64)
        rec = json.loads((out / f"{stem}_defects.json").read_text())
        assert "defects" in rec and "timing_ms" in rec
    assert "image(s) in" in capsys.readouterr().out


def test_predict_averages_flips_unless_told_not_to(trained, capsys, monkeypatch):
    root, data, ckpt = trained
    monkeypatch.setenv("IUNET_GUI_CACHE", str(root / "cache"))
    probs = {}
    for flag in ([], ["--no-tta"]):
        out = root / ("pred" + "".join(flag))
        assert main(["predict", "--checkpoint", str(ckpt), str(data / "t0.png"), "--out", str(out),
                     "--backend", "torch", *flag]) == 0
        assert json.loads((out / "t0.json").read_text())["flip_mean"] is not bool(flag)
        probs[bool(flag)] = cv2.imread(str(out / "t0_prob.png"), cv2.IMREAD_UNCHANGED).astype(int)
    assert np.abs(probs[True] - probs[False]).max() > 0


def test_evaluate_with_a_checkpoint_and_compare(trained, capsys):
    root, data, ckpt = trained
    assert main(["evaluate", "--checkpoint", str(ckpt), "--data", str(data), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["images"] == 6 and 0 <= out["summary"]["miou"] <= 1
    assert main(["evaluate", "--compare", str(ckpt), str(ckpt), "--data", str(data)]) == 0
    table = capsys.readouterr().out
    assert "Accuracy %" in table and "MIoU %" in table and table.count("iunet") == 2


def test_evaluate_uses_the_checkpoint_threshold_unless_told(trained, tmp_path, capsys):
    import torch

    root, data, ckpt = trained
    blob = torch.load(ckpt, weights_only=True)
    blob["meta"]["threshold"] = 0.8
    strict = tmp_path / "strict.pt"
    torch.save(blob, strict)
    assert main(["evaluate", "--checkpoint", str(strict), "--data", str(data), "--json", "--backend", "torch"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["threshold"] == pytest.approx(0.8)
    assert main(["evaluate", "--checkpoint", str(strict), "--data", str(data), "--json", "--threshold", "0.3",
                 "--no-crop", "--iou-threshold", "0.9"]) == 0
    s = json.loads(capsys.readouterr().out)["summary"]
    assert s["threshold"] == pytest.approx(0.3) and s["accuracy_iou_threshold"] == pytest.approx(0.9)
    assert main(["evaluate", "--checkpoint", str(strict), "--data", str(data), "--threshold", "1.5"]) == 2
    assert "--threshold" in capsys.readouterr().err


def test_export_onnx_agrees(trained, capsys):
    root, _, ckpt = trained
    assert main(["export-onnx", str(ckpt), "--out", str(root / "m.onnx"), "--check"]) == 0
    out = capsys.readouterr().out
    err = float(out.split("max |p_onnx - p_torch| = ")[1].split()[0])
    assert err < 1e-4


def test_models_command_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = {(r["model"], r["preset"]) for r in rows}
    assert {("iunet", "paper"), ("unet", "paper"), ("fcn8s", "default"), ("segnet", "default")} <= names
    assert all(r["parameters"] > 0 and r["gflop"] > 0 for r in rows)


def test_bad_inputs_exit_2(tmp_path, capsys):
    assert main(["predict", "--checkpoint", str(tmp_path / "none.pt"), str(tmp_path), "--out", str(tmp_path)]) == 2
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"xx")
    cv2.imwrite(str(tmp_path / "i.png"), np.zeros((8, 8), np.uint8))
    assert main(["predict", "--checkpoint", str(bad), str(tmp_path / "i.png"), "--out", str(tmp_path / "o")]) == 2
    assert "not a readable" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "nothing")]) == 2
    assert main(["train", "--data", str(tmp_path), "--model", "resnet", "--out", str(tmp_path / "r")]) == 2


def test_train_passes_prior_region_weight_scale_and_area_sampling_through(tmp_path, capsys):
    data = make_toy(tmp_path / "data", n=4, size=48)
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(run), "--epochs", "1", "--crop", "16", "--set",
                 "crops_per_epoch=4", "--threads", "1", "--set", "prior=0.02", "--set", "region_weight=0.5", "--scale",
                 "0.5", "--set", "area_sampling=4", "--set", "max_val_images=1"]) == 0
    cfg = json.loads((run / "config.json").read_text())["train"]
    assert cfg["prior"] == 0.02 and cfg["region_weight"] == 0.5 and cfg["scale"] == 0.5 and cfg["area_sampling"] == 4
    assert cfg["max_val_images"] == 1
    assert cfg["lr"] == DEFAULT_LR and cfg["init"] is None  # a fresh run: the trainer's default
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "r2"), "--set", "prior=2"]) == 2
    assert "prior" in capsys.readouterr().err


def test_train_can_fine_tune_the_shipped_checkpoint(tmp_path, capsys):
    from iunet_gui.models.checkpoint import load_checkpoint
    from iunet_gui.resources import DEFAULT_CHECKPOINT as shipped
    data = make_toy(tmp_path / "data", n=4, size=64)
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(run), "--init", str(shipped), "--epochs", "1",
                 "--crop", "32", "--set", "crops_per_epoch=4", "--threads", "1", "--scale", "1"]) == 0
    out = capsys.readouterr().out
    assert f"starting from the weights of {shipped}" in out and "this run uses 1" in out
    cfg = json.loads((run / "config.json").read_text())["train"]
    assert cfg["init"] == str(shipped) and cfg["lr"] == pytest.approx(DEFAULT_LR / 10)  # fine-tuning: lr / 10
    assert load_checkpoint(run / "last.pt").config == load_checkpoint(shipped).config
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "r2"), "--init", str(tmp_path / "no.pt")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err


def test_ddp_with_two_cpu_processes(tmp_path):
    """The same train command under torchrun (gloo, 2 processes)."""
    data = make_toy(tmp_path / "data", n=4, size=48)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone",
                        "-m", "iunet_gui", "train", "--data", str(data), "--out", str(tmp_path / "run"),
                        "--epochs", "1", "--crop", "32", "--set", "crops_per_epoch=8", "--threads", "1"],
                       capture_output=True, text=True, timeout=240, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "run" / "best.pt").exists()
    assert "done" in r.stdout


def test_predict_refuses_to_write_over_the_images_and_their_labels(trained, capsys):
    root, data, ckpt = trained
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}
    assert any(name.endswith(".json") for name in before)  # labels that stem.json would replace
    assert main(["predict", "--checkpoint", str(ckpt), str(data), "--out", str(data), "--labelme"]) == 2
    assert "written over the images and labels" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()} == before
