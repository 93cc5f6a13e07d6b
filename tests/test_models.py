import numpy as np
import pytest
import torch

from iunet_gui.models.blocks import fuse_conv_bn
from iunet_gui.models.iunet import IUNet
from iunet_gui.models.registry import MODELS, PRESETS, build_model, build_preset, count_parameters, gflop


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("size", [(37, 53), (64, 64), (1, 17)])
@pytest.mark.parametrize("channels", [1, 3])
def test_any_size_and_channels_give_a_full_size_logit(name, size, channels):
    model = build_model(name, in_channels=channels, base=4).eval()
    with torch.no_grad():
        y = model(torch.randn(2, channels, *size))
    assert y.shape == (2, 1, *size)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", list(MODELS))
def test_gradients_reach_every_parameter(name):
    model = build_model(name, base=4)
    model.train()
    y = model(torch.randn(2, 3, 48, 40))
    y.mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing


def test_iunet_is_the_nested_separable_network_of_eq6():
    m = IUNet(base=4, depth=4)
    assert sorted(m.nodes) == sorted(f"{i}_{j}" for i in range(4) for j in range(4 - i))
    # x(1,2) = H([x(1,0), x(1,1), U(x(2,1))]): 2 * 8 skip channels + 16 up-sampled (bilinear keeps channels)
    first = m.nodes["1_2"][0][0]
    assert first.groups == first.in_channels == 2 * 8 + 16
    # every 3x3 conv is depth-wise: depthwise 3x3 -> BN -> ReLU -> pointwise 1x1 -> BN -> ReLU
    for node in m.nodes.values():
        for block in node:
            kinds = [type(layer).__name__ for layer in block]
            assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU"]
            assert block[0].kernel_size == (3, 3) and block[0].groups == block[0].in_channels
            assert block[3].kernel_size == (1, 1)


def test_dropout_zeroes_skip_path_channels_while_training_only():
    torch.manual_seed(0)
    plain = IUNet(base=4, depth=3, deep_supervision=True)
    dropped = IUNet(base=4, depth=3, deep_supervision=True, dropout=0.5)
    dropped.load_state_dict(plain.state_dict())  # no parameters of its own
    assert count_parameters(dropped) == count_parameters(plain) and dropped.config["dropout"] == 0.5
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        plain.eval()
        dropped.eval()
        assert torch.equal(plain(x), dropped(x))  # inference: no effect
        plain.train()
        dropped.train()
        a, b, c = dropped(x), dropped(x), plain(x)
    assert not torch.allclose(a, b) and not torch.allclose(a, c)  # training: random channels dropped
    with pytest.raises(ValueError, match="dropout"):
        build_model("iunet", base=4, dropout=1.0)


def test_reading_b_keeps_standard_convs_in_the_encoder_only():
    m = IUNet(base=4, depth=3, separable="nested", up="transposed")
    assert m.nodes["0_0"][0][0].groups == 1 and m.nodes["0_0"][0][0].kernel_size == (3, 3)
    assert m.nodes["0_1"][0][0].groups == m.nodes["0_1"][0][0].in_channels


def test_deep_supervision_heads_and_pruned_inference():
    m = IUNet(base=4, depth=4, deep_supervision=True, prune=2).eval()
    x = torch.randn(1, 3, 40, 48)
    outs = m.deep_outputs(x)
    assert len(outs) == 3 and all(o.shape == (1, 1, 40, 48) for o in outs)
    with torch.no_grad():
        assert torch.allclose(m(x), outs[1], atol=1e-5)  # prune=2: the x(0,2) head
    m.all_heads = True
    m.train()
    assert isinstance(m(x), list)


def test_paper_presets_parameter_counts():
    counts = {n: count_parameters(build_preset(n, "paper")[0]) for n in ("iunet", "unet")}
    assert counts["iunet"] == 3_132_854  # paper: 3,061,680 (reading b: +2.3 %)
    assert counts["unet"] == 4_011_868  # paper: 3,836,213 at the same widths
    assert counts["iunet"] / counts["unet"] == pytest.approx(0.78, abs=0.01)  # paper 0.80
    assert count_parameters(build_preset("iunet", "paper-a")[0]) == 3_006_754  # reading a: -1.8 %


def test_every_preset_builds_and_counts_flops():
    for name, presets in PRESETS.items():
        for preset in presets:
            model, cfg = build_preset(name, preset)
            assert build_model(name, **cfg).config == model.config
    assert gflop(build_preset("iunet", "default")[0]) < gflop(build_preset("unet", "default")[0])


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet")
    with pytest.raises(ValueError, match="bad configuration"):
        build_model("iunet", colour=3)
    with pytest.raises(ValueError, match="unknown preset"):
        build_preset("iunet", "huge")


def test_bn_folding_keeps_the_outputs():
    m = build_model("iunet", base=4, depth=3)
    m.train()
    for _ in range(3):  # give BN non-trivial running statistics
        m(torch.randn(2, 3, 32, 32) * 2 + 1)
    m.eval()
    x = torch.randn(1, 3, 29, 31)
    with torch.no_grad():
        assert torch.allclose(m(x), fuse_conv_bn(m)(x), atol=1e-4)


def test_segnet_unpooling_is_max_unpool_at_the_pooling_indices():
    from iunet_gui.models.segnet import _max_positions

    torch.manual_seed(0)
    f = torch.relu(torch.randn(2, 3, 8, 10))  # ReLU: many all-zero windows, where MaxUnpool picks index 0
    pooled, idx = torch.nn.functional.max_pool2d(f, 2, return_indices=True)
    v = torch.randn_like(pooled)
    ref = torch.nn.functional.max_unpool2d(v, idx, 2, output_size=(8, 10))
    mine = torch.nn.functional.interpolate(v, size=(8, 10), mode="nearest") * _max_positions(f, idx)
    assert torch.equal(ref, mine)
    assert int(_max_positions(f, idx).sum()) == pooled.numel()  # one position per window


@pytest.mark.parametrize("name", ["iunet", "unet", "fcn8s", "segnet"])
def test_every_network_exports_to_onnx_with_dynamic_sizes(name, tmp_path):
    import onnxruntime as ort  # a core dependency: its absence fails the test

    from iunet_gui.inference.onnx_export import export_onnx
    from iunet_gui.models.checkpoint import load_checkpoint, save_checkpoint

    model, cfg = build_preset(name, "default")
    save_checkpoint(tmp_path / "m.pt", model.eval(), arch=name, config=cfg)
    sess = ort.InferenceSession(str(export_onnx(load_checkpoint(tmp_path / "m.pt"), tmp_path / "m.onnx")))
    m = model.multiple  # the graph pads any size to multiples of it, as the network does
    for shape in [(1, 3, 3 * m, 5 * m), (2, 3, 6 * m, 2 * m), (1, 3, 3 * m + 5, 2 * m - 1), (1, 3, 7, 9)]:
        x = torch.randn(*shape)
        with torch.inference_mode():
            want = model(x).numpy()
        got = sess.run(None, {"image": x.numpy()})[0]
        assert got.shape == want.shape == (shape[0], 1, *shape[2:])
        sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731 - the agreement asked for is on probabilities
        assert abs(sig(got) - sig(want)).max() < 1e-4


def test_conv_output_bytes_count_the_memory_traffic_of_separable_nested_nodes():
    from iunet_gui.models.registry import conv_output_gb

    plain = build_preset("unet", "default")[0]
    iunet = build_preset("iunet", "default")[0]
    # U-Net base 8, depth 4 at 64x64: every conv output counted once, fp32
    gb = conv_output_gb(plain, 64, 64, scale=1)
    assert gb > 0 and gb == pytest.approx(conv_output_gb(plain, 128, 128, scale=2) / 4, rel=1e-6)
    assert conv_output_gb(iunet, 64, 64, scale=1) > 2 * gb  # depthwise outputs at 16-32 input channels
