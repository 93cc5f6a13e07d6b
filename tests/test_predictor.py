import numpy as np
import pytest

from iunet_gui.core.errors import CheckpointError
from iunet_gui.inference.predictor import Predictor
from iunet_gui.inference.runners import pick_device
from iunet_gui.models.checkpoint import save_checkpoint
from iunet_gui.models.registry import build_preset


@pytest.fixture
def ckpt(tmp_path):
    model, cfg = build_preset("iunet", "default", base=4)
    p = tmp_path / "m.pt"
    save_checkpoint(p, model.eval(), arch="iunet", config=cfg)
    return p


def test_torch_predictor_on_an_odd_size_image(ckpt):
    img = np.random.default_rng(0).integers(0, 255, (203, 317, 3), dtype=np.uint8)
    p = Predictor.from_path(ckpt, backend="torch", crop_to_part=False)
    out = p.predict(img, mm_per_px=0.05)
    assert out.prob.shape == (203, 317) and out.prob.dtype == np.float32
    assert out.mask.dtype == bool and ((out.prob > 0.5) | ~out.mask).all()
    assert set(out.timing_ms) >= {"infer", "postprocess", "total"}
    assert all(d.length_mm is not None for d in out.defects)


def test_onnx_agrees_with_torch_within_1e_4(ckpt, tmp_path, monkeypatch):
    monkeypatch.setenv("IUNET_GUI_CACHE", str(tmp_path / "cache"))
    img = np.random.default_rng(1).integers(0, 255, (131, 250, 3), dtype=np.uint8)
    a = Predictor.from_path(ckpt, backend="torch", crop_to_part=False).predict(img).prob
    onnx_pred = Predictor.from_path(ckpt, backend="onnx", crop_to_part=False)
    assert onnx_pred.backend == "onnxruntime"
    b = onnx_pred.predict(img).prob
    assert np.abs(a - b).max() < 1e-4
    # the exported file itself loads as a model
    exported = list((tmp_path / "cache").glob("*.onnx"))
    assert len(exported) == 1
    c = Predictor.from_path(exported[0], crop_to_part=False).predict(img).prob
    assert np.abs(a - c).max() < 1e-4


def test_crop_to_the_washer_keeps_the_image_size(ckpt):
    from iunet_gui.core.synth import WasherSpec, render_washer

    s = render_washer(np.random.default_rng(0), WasherSpec(width=400, height=320, defects=[]))
    out = Predictor.from_path(ckpt, backend="torch").predict(s.image)
    assert out.prob.shape == (320, 400) and out.roi is not None
    x0, y0, x1, y1 = out.roi
    assert 0 < x0 < x1 < 400 and 0 < y0 < y1 < 320  # the washer lies inside the photo, with a margin
    outside = np.ones((320, 400), bool)
    outside[y0:y1, x0:x1] = False
    assert out.prob[outside].max() < 1e-6 and out.prob[~outside].max() > 0


def test_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        Predictor.from_path(tmp_path / "none.pt")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    with pytest.raises(CheckpointError, match="ONNX"):
        Predictor.from_path(bad)


def test_device_falls_back_to_cpu_with_a_notice(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    dev, notice = pick_device("cuda")
    assert dev.type == "cpu" and "no CUDA GPU" in notice
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    dev, notice = pick_device("cuda")
    assert dev.type == "cuda" and notice == ""
    dev, notice = pick_device("auto")
    assert dev.type == "cuda" and notice == ""


def test_the_network_pads_any_size_as_edge_replication_and_crops_back(ckpt):
    import torch

    from iunet_gui.inference.runners import forward_padded
    from iunet_gui.models.checkpoint import load_checkpoint

    model = load_checkpoint(ckpt).model.eval()
    m = model.multiple
    x = np.random.default_rng(3).normal(size=(3, 2 * m + 3, 3 * m - 1)).astype(np.float32)
    z = forward_padded(model, x)
    assert z.shape == x.shape[1:]
    by_hand = np.pad(x, ((0, 0), (0, m - 3), (0, 1)), mode="edge")  # to (3 m, 3 m)
    with torch.inference_mode():
        want = model(torch.from_numpy(by_hand[None]))[0, 0].numpy()[:2 * m + 3, :3 * m - 1]
    assert np.abs(z - want).max() < 1e-5


def test_graphs_exported_before_they_padded_are_padded_by_the_runner():
    from iunet_gui.inference.runners import onnx_runner

    class OldGraph:  # takes only multiples of 8, as such an export did
        def get_inputs(self):
            return [type("Input", (), {"name": "image"})()]

        def run(self, _, feed):
            x = feed["image"]
            assert x.shape[2] % 8 == 0 and x.shape[3] % 8 == 0
            return [x[:, :1]]

    x = np.random.default_rng(0).normal(size=(3, 13, 21)).astype(np.float32)
    assert np.array_equal(onnx_runner(OldGraph(), {"multiple": 8})(x), x[0])
    with pytest.raises(AssertionError):  # a graph that pads itself gets the input as it is
        onnx_runner(OldGraph(), {"multiple": 8, "pads_input": True})(x)

def test_tiled_prediction_matches_the_whole_image(ckpt):
    img = np.random.default_rng(2).integers(0, 255, (150, 230, 3), dtype=np.uint8)
    p = Predictor.from_path(ckpt, backend="torch", crop_to_part=False)
    whole = p.logits(img)
    p.tile, p.tile_margin = 64, 48
    tiled = p.logits(img)
    assert tiled.shape == whole.shape
    assert np.abs(tiled - whole).mean() < 0.05 * (np.abs(whole).mean() + 1e-6) + 1e-3


def test_flip_mean_flips_each_run_back():
    """A stand-in network whose logit is the image's first channel plus its column index: each
    flipped run, flipped back, keeps the image term in place, and the column terms average out
    to a constant. A run not flipped back would move the image term."""
    from iunet_gui.inference.preprocess import prepare_input

    img = np.random.default_rng(3).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    p = Predictor(lambda x: x[0] + np.arange(x.shape[-1], dtype=np.float32), 3, 1, "stub", "test")
    x0 = prepare_input(img, 3)[0]
    assert p.tta  # the default
    assert np.allclose(p.logits(img), x0 + 3.0)  # (0 + 6) / 2: the mean column index
    p.tta = False
    assert np.allclose(p.logits(img), x0 + np.arange(7))
    assert p.predict(img).prob.shape == (5, 7)


def test_flip_mean_of_a_real_network_keeps_the_size(ckpt):
    img = np.random.default_rng(4).integers(0, 255, (101, 133, 3), dtype=np.uint8)
    p = Predictor.from_path(ckpt, backend="torch", crop_to_part=False)
    z = p.logits(img)
    p.tta = False
    plain = p.logits(img)
    assert z.shape == plain.shape and np.isfinite(z).all() and not np.allclose(z, plain)


def test_small_regions_are_dropped_8_connected():
    from iunet_gui.core.measure import remove_small_regions

    m = np.zeros((12, 12), bool)
    m[0, 0] = m[1, 1] = m[2, 2] = True  # 3 px touching at corners: one 8-connected region
    m[6:8, 6:8] = True  # 4 px
    m[10, 10] = True  # 1 px
    assert np.array_equal(remove_small_regions(m, 4), np.pad(np.ones((2, 2), bool), ((6, 4), (6, 4))))
    kept = remove_small_regions(m, 3)
    assert kept[0, 0] and kept[2, 2] and not kept[10, 10] and kept.sum() == 7
    assert np.array_equal(remove_small_regions(m, 1), m)


def test_prediction_drops_regions_under_min_area():
    logits = np.full((40, 40), -10.0, np.float32)
    logits[5:8, 5:8] = 10  # 9 px
    logits[20, 20] = 10  # 1 px
    p = Predictor(lambda x: logits, 3, 1, "rule", "test", crop_to_part=False)
    p.tta = False
    p.min_area_px = 4
    out = p.predict(np.zeros((40, 40, 3), np.uint8))
    assert out.mask.sum() == 9 and not out.mask[20, 20] and len(out.defects) == 1
