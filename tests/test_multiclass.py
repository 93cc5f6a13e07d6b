"""Multi-class segmentation: K defect kinds + background for every network, trained from the
project's class list (or the folders of image + mask pairs), predicted as a class map; binary
networks and the shipped checkpoint stay as they were."""
import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from iunet_gui.core.annotation import Annotation, Shape
from iunet_gui.training.trainer import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]


def make_two_kinds(folder, n=8, size=64, seed=0):
    """Bright squares labelled "scratch" and dark discs labelled "hole" on a mid-grey noisy background."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = rng.normal(120, 8, (size, size, 3)).clip(0, 255).astype(np.uint8)
        ann = Annotation.empty(f"k{i}.png", size, size)
        x, y = (int(v) for v in rng.integers(4, size // 2 - 14, 2))
        img[y:y + 12, x:x + 12] = 230
        ann.shapes.append(Shape("scratch", [[x, y], [x + 11, y], [x + 11, y + 11], [x, y + 11]]))
        cx, cy = (int(v) for v in rng.integers(size // 2 + 8, size - 8, 2))
        cv2.circle(img, (cx, cy), 6, (15, 15, 15), -1)
        pts = [[cx + 6 * np.cos(a), cy + 6 * np.sin(a)] for a in np.linspace(0, 2 * np.pi, 12, endpoint=False)]
        ann.shapes.append(Shape("hole", pts))
        cv2.imwrite(str(folder / f"k{i}.png"), img)
        ann.save(folder / f"k{i}.json")
    return folder


def tiny_multiclass(tmp_path, **kw):
    base = dict(data=str(make_two_kinds(tmp_path / "data")), out=str(tmp_path / "run"), model="iunet",
                model_overrides={"base": 8, "depth": 3}, epochs=6, crop=32, crops_per_epoch=32, lr=1e-2,
                max_val_images=2, threads=1, seed=0, scale=1.0, multiclass=True, ema=0, bn_batches=4)
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("arch", ["iunet", "unet", "fcn8s", "segnet"])
def test_every_network_gives_one_logit_per_kind_and_background(arch):
    import torch

    from iunet_gui.models.registry import build_preset
    from iunet_gui.training.network import set_output_prior

    torch.manual_seed(0)
    binary, cfg = build_preset(arch, "default", 3)
    assert "num_classes" not in cfg and binary.out_channels == 1
    model, cfg = build_preset(arch, "default", 3, num_classes=3)
    assert cfg["num_classes"] == 3 and model.out_channels == 4
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 40, 56)).shape == (1, 4, 40, 56)
        assert set_output_prior(model, 0.03) >= 1  # starts at background 0.97, each kind 0.01
        p = torch.softmax(model(x), dim=1).mean(dim=(0, 2, 3))
    assert p[0].item() == pytest.approx(0.97, abs=0.01) and p[1:].numpy() == pytest.approx([0.01] * 3, abs=0.005)


def test_the_shipped_binary_checkpoint_predicts_as_before_bit_for_bit():
    import torch

    from iunet_gui.core.images import load_image
    from iunet_gui.inference.preprocess import prepare_input
    from iunet_gui.models.checkpoint import load_checkpoint

    ck = load_checkpoint(ROOT / "iunet_gui" / "resources" / "iunet_default.pt")
    assert ck.classes == ["defect"] and not ck.multiclass and ck.model.out_channels == 1
    img = load_image(ROOT / "iunet_gui" / "samples" / "washer_000.jpg", "rgb")
    x = torch.from_numpy(prepare_input(img[400:464, 300:380], 3))[None]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the sums' order (and so the last bit) depends on the thread count
    try:
        with torch.no_grad():
            z = ck.model(x).numpy()
    finally:
        torch.set_num_threads(threads)
    before = np.load(ROOT / "tests" / "data" / "iunet_default_logits_washer000_400_300.npy")
    assert np.array_equal(z, before)  # saved from this checkpoint on one thread: the code keeps its logits bit for bit


def test_multiclass_loss_prefers_the_right_kind_and_mixup_keeps_the_shares():
    import torch

    from iunet_gui.training.augment import mixup
    from iunet_gui.training.losses import class_weights_of, segmentation_loss

    y = np.zeros((2, 2, 8, 8), np.float32)  # kinds' shares: image 0 kind 1 in a square, image 1 kind 2
    y[0, 0, 2:5, 2:5] = 1
    y[1, 1, 4:7, 1:4] = 1
    right = torch.from_numpy(np.concatenate([1 - y.sum(1, keepdims=True), y], 1) * 8 - 4)
    wrong = right[:, [0, 2, 1]]
    cw = torch.tensor(class_weights_of([0.01, 0.001], 3.0))
    t = torch.from_numpy(y)
    assert segmentation_loss(right, t, "bce_dice", class_weights=cw) < segmentation_loss(wrong, t, "bce_dice", class_weights=cw)
    assert cw[0] == 1 and cw[2] > cw[1]  # the rarer kind weighs more
    x = np.random.default_rng(0).normal(size=(2, 3, 8, 8)).astype(np.float32)
    xm, ym, lam = mixup(x, y, np.random.default_rng(3))
    assert 0 < lam < 1 and ym.min() >= 0 and ym.sum(1).max() <= 1 + 1e-6
    assert np.allclose(ym[0, 0, 2:5, 2:5], lam) or np.allclose(ym[0, 0, 2:5, 2:5], 1)


def test_image_mask_folders_name_the_kinds(tmp_path):
    from iunet_gui.training.data import load_items, project_kinds

    for kind, value in (("MT_Blowhole", 0), ("MT_Crack", 1), ("MT_Free", 2)):
        d = tmp_path / kind
        d.mkdir()
        img = np.full((32, 32), 100, np.uint8)
        m = np.zeros((32, 32), np.uint8)
        if value < 2:
            m[8:16, 8:16] = 255
        cv2.imwrite(str(d / f"{kind}_1.jpg"), img)
        cv2.imwrite(str(d / f"{kind}_1.png"), m)
    kinds = project_kinds(tmp_path)
    items = load_items(tmp_path, kinds=kinds)
    assert kinds == ["MT_Blowhole", "MT_Crack"]  # the defect-free folder names no kind
    by_name = {it.name: it for it in items}
    assert set(np.unique(by_name["MT_Crack_1.jpg"].kinds)) == {0, 2}
    assert not by_name["MT_Free_1.jpg"].kinds.any()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(folder of the training data, result of a tiny multi-class run on it): a few seconds."""
    tmp_path = tmp_path_factory.mktemp("multiclass")
    return tmp_path, train(tiny_multiclass(tmp_path))


def test_a_tiny_multiclass_model_learns_more_than_one_kind(trained):
    from iunet_gui.core.images import load_image
    from iunet_gui.inference.predictor import Predictor
    from iunet_gui.models.checkpoint import load_checkpoint

    tmp_path, res = trained
    assert res.status == "done"
    ck = load_checkpoint(res.best_checkpoint)
    assert ck.classes == ["scratch", "edge_crack", "hole", "oxidation"]  # the project's class list
    assert ck.model.out_channels == 5
    assert ck.colors[0] == "#e6194b"  # the project's colour of "scratch"
    p = Predictor.from_path(res.best_checkpoint, backend="torch", crop_to_part=False)
    found = set()
    for i in range(3):
        pred = p.predict(load_image(tmp_path / "data" / f"k{i}.png", "rgb"))
        assert pred.class_prob.shape[0] == len(ck.classes) + 1
        assert np.allclose(pred.class_prob.sum(0), 1, atol=1e-4)
        found |= set(np.unique(pred.class_map[pred.class_map > 0]).tolist())
        assert all(d.label in ck.classes and 0 < d.confidence <= 1 for d in pred.defects)
    assert {1, 3} <= found  # scratches and holes are both predicted, not one class everywhere
    if importlib.util.find_spec("onnxruntime"):  # the exported graph predicts the same kinds
        image = load_image(tmp_path / "data" / "k0.png", "rgb")
        by_onnx = Predictor.from_path(res.best_checkpoint, backend="onnx", crop_to_part=False).predict(image)
        by_torch = p.predict(image)
        assert by_onnx.classes == ck.classes
        assert np.abs(by_onnx.class_prob - by_torch.class_prob).max() < 1e-3
        assert np.mean(by_onnx.class_map == by_torch.class_map) > 0.999


def test_onnx_export_agrees_with_torch_per_class(tmp_path):
    pytest.importorskip("onnxruntime")
    import torch

    from iunet_gui.inference.onnx_export import export_onnx
    from iunet_gui.inference.runners import onnx_runner, onnx_session
    from iunet_gui.models.checkpoint import load_checkpoint, save_checkpoint
    from iunet_gui.models.registry import build_preset

    torch.manual_seed(0)
    model, cfg = build_preset("iunet", "default", 3, num_classes=3)
    save_checkpoint(tmp_path / "m.pt", model, arch="iunet", config=cfg, classes=["a", "b", "c"],
                    colors=["#010203", "#040506", "#070809"])
    ck = load_checkpoint(tmp_path / "m.pt")
    assert ck.colors == ["#010203", "#040506", "#070809"]
    out = export_onnx(ck, tmp_path / "m.onnx")
    sess, info = onnx_session(out)
    assert info["classes"] == ["a", "b", "c"] and info["colors"][1] == "#040506"
    x = np.random.default_rng(0).normal(size=(3, 37, 45)).astype(np.float32)
    z_onnx = onnx_runner(sess, info)(x)
    with torch.no_grad():
        z_torch = ck.model(torch.from_numpy(x)[None])[0].numpy()
    assert z_onnx.shape == (4, 37, 45)
    for k in range(4):
        assert np.abs(z_onnx[k] - z_torch[k]).max() < 1e-3


def test_evaluate_gives_figures_per_kind(trained, capsys):
    import json

    from iunet_gui.cli import main

    tmp_path, res = trained
    args = ["evaluate", "--checkpoint", str(res.best_checkpoint), "--data", str(tmp_path / "data"),
            "--backend", "torch", "--no-crop", "--no-tta"]
    assert main(args + ["--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    kinds = summary["kinds"]
    assert kinds["scratch"]["labelled"] == 8 and kinds["hole"]["labelled"] == 8  # one of each per image
    assert kinds["edge_crack"]["labelled"] == 0 and kinds["hole"]["iou"] is not None
    m = np.array(summary["kind_confusion"]["matrix"])
    assert summary["kind_confusion"]["labels"] == ["background", "scratch", "edge_crack", "hole", "oxidation"]
    assert m[1:, 1:].sum() == sum(v["matched"] for v in kinds.values()) > 0
    assert 0 <= summary["kind_miou"] <= 1 and 0 <= summary["miou"] <= 1  # per kind and binary, side by side
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "per kind: MIoU over background and 4 kinds" in out and "labelled \\ predicted" in out


def test_predict_writes_the_class_map_and_labelme_shapes_of_each_kind(trained, tmp_path):
    import json

    from iunet_gui.cli import main
    from iunet_gui.core.annotation import Annotation
    from iunet_gui.core.images import load_image

    data, res = trained
    out = tmp_path / "out"
    assert main(["predict", "--checkpoint", str(res.best_checkpoint), "--out", str(out), "--labelme", "--backend",
                 "torch", "--no-crop", "--no-tta", str(data / "data" / "k1.png")]) == 0
    defects = json.loads((out / "k1_defects.json").read_text())
    assert defects["classes"] == ["scratch", "edge_crack", "hole", "oxidation"]
    assert {d["label"] for d in defects["defects"]} <= set(defects["classes"]) and defects["defects"]
    assert all(0 < d["confidence"] <= 1 for d in defects["defects"])
    kinds = load_image(out / "k1_classes.png", "gray")
    assert set(np.unique(kinds)) <= {0, 1, 2, 3, 4} and (kinds > 0).any()
    shapes = Annotation.load(out / "k1.json").shapes
    assert shapes and {s.label for s in shapes} <= {defects["classes"][k - 1] for k in np.unique(kinds[kinds > 0])}


def test_fine_tuning_checks_the_kinds(trained, tmp_path):
    from iunet_gui.core.errors import IunetError
    from iunet_gui.core.project import Project

    data, res = trained
    other = make_two_kinds(tmp_path / "other", n=3)
    project = Project.open(other)
    project.settings.classes = project.settings.classes[::-1]  # the same kinds in another order
    project.save_settings()
    with pytest.raises(IunetError, match="names the kinds"):
        train(tiny_multiclass(tmp_path, data=str(other), init=str(res.best_checkpoint), epochs=1))
    with pytest.raises(IunetError, match="names 4 defect kind"):  # a multi-class network for binary training
        train(tiny_multiclass(tmp_path / "b", data=str(other), init=str(res.best_checkpoint), multiclass=False))


def test_flip_mean_and_tiles_keep_each_class_in_its_channel():
    from iunet_gui.inference.predictor import Predictor

    def run(x):  # pixel by pixel: the flips and tiles must give back the same logits, channel by channel
        v = x[0]
        return np.stack([np.zeros_like(v), 8 * (v - 1.0), 4 - 8 * np.abs(v - 0.51)]).astype(np.float32)

    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (45, 70, 3), dtype=np.uint8)
    p = Predictor(run, 3, 1, "fake", "fake", classes=["scratch", "hole"], crop_to_part=False)
    plain = p._logits(image)
    assert plain.shape == (3, 45, 70)
    assert np.allclose(p.logits(image), plain, atol=1e-5)  # the mean over the four flips
    p.tile, p.tile_margin = 16, 4
    assert np.allclose(p._logits(image), plain, atol=1e-6)
    pred = p.predict(image)
    assert pred.class_prob.shape == (3, 45, 70) and pred.class_map.shape == (45, 70)
    bright = (image[..., 0].astype(np.float32) / 255 - 0.5) / 0.25 > 1.2
    kept = bright & pred.mask  # (specks below min_area_px are dropped)
    assert kept.any() and (pred.class_map[kept] == 1).all()  # bright pixels: "scratch"


@pytest.mark.parametrize("arch", ["iunet", "unet", "fcn8s", "segnet"])
def test_a_binary_network_splits_into_kinds_that_detect_as_it_did(arch):
    import torch

    from iunet_gui.models.registry import build_model, build_preset
    from iunet_gui.training.network import split_binary_output

    torch.manual_seed(0)
    binary, cfg = build_preset(arch, "default", 3)
    with torch.no_grad():
        for p in binary.parameters():  # weights away from their start, biases of the heads included
            p.add_(0.05 * torch.randn_like(p))
    kinds = build_model(arch, **dict(cfg, num_classes=4))
    assert split_binary_output(binary.eval(), kinds.eval()) > 0
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        p_binary = torch.sigmoid(binary(x))
        p_kinds = torch.softmax(kinds(x), 1)
    assert torch.allclose(1 - p_kinds[:, :1], p_binary, atol=1e-5)  # the same defect probability
    assert torch.allclose(p_kinds[:, 1], p_kinds[:, 4])  # the kinds start even


def test_fine_tuning_a_binary_checkpoint_into_kinds(tmp_path):
    from iunet_gui.models.checkpoint import load_checkpoint

    binary = train(tiny_multiclass(tmp_path / "b", multiclass=False, epochs=3))
    assert binary.status == "done" and load_checkpoint(binary.best_checkpoint).classes == ["defect"]
    notices = []
    res = train(tiny_multiclass(tmp_path / "k", init=str(binary.best_checkpoint), epochs=2),
                progress=lambda e: notices.append(e.message or ""))
    ck = load_checkpoint(res.best_checkpoint)
    assert res.status == "done" and ck.classes == ["scratch", "edge_crack", "hole", "oxidation"]
    assert ck.model.out_channels == 5 and any("split into 4 kinds" in m for m in notices)


def test_a_defect_is_one_kind_that_of_its_highest_mean_probability():
    from iunet_gui.inference.predictor import Predictor

    def run(x):  # the bar's wide end is surely kind 2, its longer thin part leans to kind 1 by a little
        v = x[0]
        mouth, tail = v > 1.6, (v > 0.8) & (v <= 1.6)
        z = np.stack([np.full_like(v, 6.0), np.full_like(v, -6.0), np.full_like(v, -6.0)])
        z[:, mouth] = np.array([-6.0, -4.0, 0.0])[:, None]
        z[:, tail] = np.array([-6.0, 0.0, -0.105])[:, None]
        return z.astype(np.float32)

    image = np.full((40, 60, 3), 128, np.uint8)
    image[18:23, 10:20] = 250  # the wide end, 10 columns
    image[19:22, 20:50] = 200  # the thin part, 30 columns: most of the defect's pixels
    p = Predictor(run, 3, 1, "fake", "fake", classes=["scratch", "edge_crack"], crop_to_part=False)
    p.tta = False
    pred = p.predict(image)
    assert len(pred.defects) == 1 and pred.defects[0].label == "edge_crack"
    assert pred.defects[0].confidence == pytest.approx((50 * 0.98 + 90 * 0.47) / 140, abs=0.01)
    assert (np.argmax(pred.class_prob[1:, pred.mask], axis=0) == 0).mean() > 0.6  # most pixels say "scratch"
    assert (pred.class_map[pred.mask] == 2).all() and (pred.class_map[~pred.mask] == 0).all()
    kind_prob = np.round(pred.class_prob[1:] * 255).astype(np.uint8)  # as the window keeps them
    mask, defects, kinds = p.measure(pred.mask, None, kind_prob)
    assert [d.label for d in defects] == ["edge_crack"] and np.array_equal(kinds, pred.class_map)
