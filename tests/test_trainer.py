"""Trainer details on tiny data: schedule, tuned threshold, time limit, bad settings, progress,
checkpoint round trip, evaluation helpers."""
import csv

import numpy as np
import pytest

from iunet_gui.core.errors import CheckpointError, IunetError
from iunet_gui.models.checkpoint import load_checkpoint
from iunet_gui.training.trainer import TrainConfig, train
from iunet_gui.training.validation import THRESHOLDS
from tests.test_training import make_toy, tiny


def _rows(run):
    with open(run / "metrics.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_cosine_schedule_warms_up_then_decays(tmp_path):
    res = train(tiny(tmp_path, epochs=4, crops_per_epoch=8, warmup_steps=2))
    lrs = [float(r["lr"]) for r in _rows(tmp_path / "run")]
    assert len(lrs) == 4 and lrs == sorted(lrs, reverse=True) and lrs[-1] < 0.1 * lrs[0]
    assert res.status == "done"


def test_constant_schedule_keeps_the_rate(tmp_path):
    train(tiny(tmp_path, epochs=2, schedule="constant", warmup_steps=0))
    assert {float(r["lr"]) for r in _rows(tmp_path / "run")} == {3e-3}


def test_validation_tunes_the_checkpoint_threshold(tmp_path):
    res = train(tiny(tmp_path, epochs=2, tune_threshold=True))
    ck = load_checkpoint(res.best_checkpoint)
    best = res.history[ck.trainer_state["epoch"] - 1]
    assert ck.threshold == best["val_threshold"] and ck.threshold in THRESHOLDS
    fixed = train(tiny(tmp_path, out=str(tmp_path / "fixed"), epochs=1, threshold=0.65))
    assert load_checkpoint(fixed.best_checkpoint).threshold == 0.65


def test_tuned_threshold_is_validated_as_predict_scores(tmp_path):
    """The threshold is tuned on the Predictor's flip-mean logits: the stored threshold and the
    validation MIoU are what the checkpoint's own Predictor gives on the validation images."""
    from iunet_gui.core.metrics import confusion, scores
    from iunet_gui.inference.predictor import Predictor
    from iunet_gui.training.data import load_items, split_items

    cfg = tiny(tmp_path, epochs=1, tune_threshold=True, max_val_images=3, val_fraction=0.5)
    res = train(cfg)
    ck = load_checkpoint(res.best_checkpoint)
    _, val = split_items(load_items(cfg.data), cfg.val_fraction, cfg.seed, cfg.max_val_images)
    pred = Predictor.from_path(res.best_checkpoint, crop_to_part=False)
    assert pred.tta
    logits = [(pred.logits(it.image), it.mask) for it in val]
    grid = sorted({cfg.threshold, *THRESHOLDS})
    miou = [scores(*np.sum([confusion(z > np.log(t / (1 - t)), m) for z, m in logits], axis=0))["miou"]
            for t in grid]
    assert ck.threshold == grid[int(np.argmax(miou))]
    assert res.history[-1]["val_miou"] == pytest.approx(max(miou), abs=1e-9)


def test_pick_best_takes_later_weights_within_the_tolerance():
    from iunet_gui.training.validation import pick_best

    top, picked = None, []
    for epoch, v in enumerate([0.80, 0.86, 0.855, 0.84, 0.851, 0.87], 1):
        take, top = pick_best(top, v, 0.01)
        picked += [epoch] * take
    assert picked == [1, 2, 3, 5, 6] and top == 0.87  # 0.84 is more than 0.01 below 0.86
    assert pick_best(0.86, 0.855, 0.0) == (False, 0.86) and pick_best(0.86, 0.86, 0.0) == (True, 0.86)


@pytest.mark.parametrize("tolerance", [0.0, 0.99])
def test_best_checkpoint_is_the_latest_pick_within_the_tolerance(tmp_path, tolerance):
    res = train(tiny(tmp_path, epochs=4, pick_tolerance=tolerance))
    vals = [h["val_miou"] for h in res.history]
    ck = load_checkpoint(res.best_checkpoint)
    if tolerance:  # every epoch is within 0.99 of the best: best.pt is the end of the run
        assert ck.trainer_state["epoch"] == 4
    else:  # the strict best (the latest of equals)
        assert ck.trainer_state["epoch"] == max(range(1, 5), key=lambda e: (vals[e - 1], e))
    assert res.best_val_miou == vals[ck.trainer_state["epoch"] - 1]
    assert ck.trainer_state["top_val_miou"] == max(vals)


def test_checkpoint_round_trip_rebuilds_the_trained_network(tmp_path):
    import torch

    res = train(tiny(tmp_path, epochs=1))
    ck = load_checkpoint(res.last_checkpoint)
    assert ck.arch == "iunet" and ck.config["base"] == 4 and ck.classes == ["defect"]
    assert ck.meta["data"]["train"]["images"] == 5 and ck.trainer_state["epoch"] == 1
    again = load_checkpoint(res.last_checkpoint)
    x = torch.randn(1, 3, 32, 40)
    with torch.inference_mode():
        assert torch.equal(ck.model(x), again.model(x)) and ck.model(x).shape == (1, 1, 32, 40)


def test_broken_and_foreign_checkpoints_are_clear_errors(tmp_path):
    import torch

    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x02 definitely not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_checkpoint(bad)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not an iunet-gui checkpoint"):
        load_checkpoint(foreign)
    res = train(tiny(tmp_path, epochs=1))
    res.last_checkpoint.write_bytes(res.last_checkpoint.read_bytes()[:200])  # truncated on disk
    with pytest.raises(CheckpointError, match="last.pt: not a readable iunet-gui checkpoint"):
        train(tiny(tmp_path, epochs=2, resume=True))


def test_time_limit_stops_cleanly_with_checkpoints(tmp_path):
    res = train(tiny(tmp_path, epochs=1000, time_limit_min=1e-6))
    assert res.status == "time_limit" and "time limit" in res.message
    assert res.best_checkpoint.exists() and res.last_checkpoint.exists()


def test_a_time_limit_passing_during_validation_does_not_validate_the_same_weights_again(tmp_path):
    import time

    def slow_first_validation(ev):  # the limit passes while epoch 1 validates
        if ev.stage == "validate" and ev.epoch == 1:
            time.sleep(3.5)

    res = train(tiny(tmp_path, epochs=50, time_limit_min=0.05, bn_batches=5), progress=slow_first_validation)
    assert res.status == "time_limit" and res.epochs_done == 1
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1"] and not rows[0]["partial"]
    assert res.best_checkpoint.exists() and res.last_checkpoint.exists()


def test_progress_reports_loss_speed_eta_and_validation(tmp_path):
    events = []
    train(tiny(tmp_path, epochs=2), progress=events.append)
    steps = [e for e in events if e.stage == "train"]
    assert steps and all(e.loss is not None and e.images_per_s > 0 and e.eta_s >= 0 for e in steps)
    assert steps[-1].eta_s == 0
    epochs = [e for e in events if e.stage == "epoch"]
    assert [e.epoch for e in epochs] == [1, 2]
    assert {"val_miou", "val_iou_defect"} <= set(epochs[-1].metrics)
    assert events[-1].stage == "done"


@pytest.mark.parametrize("bad, message", [
    (dict(batch_size=0), r"batch size and epochs must be >= 1"), (dict(crop=8), r"crop >= 16"),
    (dict(lr=0.0), r"learning rate > 0"), (dict(focus=1.5), r"focus and mixup must be in \[0, 1\]"),
    (dict(threshold=1.0), r"threshold in \(0, 1\)"), (dict(schedule="step"), r"unknown .*schedule 'step'"),
    (dict(pos_weight=0.0), r"pos_weight > 0"), (dict(ema=1.0), r"ema must be in \[0, 1\)"),
    (dict(bn_batches=-1), r"bn_batches must be >= 0"), (dict(freeze_bn=1.0), r"freeze_bn in \[0, 1\)"),
    (dict(grey_share=0.8), r"grey_share in \[0, 0.5\]"), (dict(scale=0.0), r"scale must be .*\(got 0\)"),
    (dict(scale=3.0), r"scale .*\b3\)"), (dict(pick_tolerance=-0.1), r"pick_tolerance must be"),
    (dict(precision="fp16"), r"unknown precision 'fp16'"),
])
def test_bad_settings_are_clear_errors(tmp_path, bad, message):
    with pytest.raises(IunetError, match=message):
        train(tiny(tmp_path, **bad))


def test_resume_of_another_architecture_is_refused(tmp_path):
    train(tiny(tmp_path, epochs=1))
    with pytest.raises(IunetError, match="holds a iunet"):
        train(TrainConfig(data=str(tmp_path / "data"), out=str(tmp_path / "run"), model="unet", epochs=2,
                          resume=True, threads=1))


def test_evaluate_and_compare_checkpoints(tmp_path):
    from iunet_gui.app.evaluate import compare_models, evaluate_model
    from iunet_gui.app.settings import InspectSettings

    res = train(tiny(tmp_path, epochs=2))
    torch_only = InspectSettings(backend="torch")
    records, summary = evaluate_model(res.best_checkpoint, tmp_path / "data", torch_only)
    assert summary["images"] == 6 == len(records)
    assert {"miou", "iou_defect", "accuracy", "length_error_mean_mm"} <= set(summary)
    assert 0 <= summary["miou"] <= 1 and summary["merge_gap_px"] == 8
    from iunet_gui.inference.predictor import Predictor

    pred = Predictor.from_path(res.best_checkpoint, backend="torch")
    _, strict = evaluate_model(res.best_checkpoint, tmp_path / "data", InspectSettings(merge_gap_px=0), predictor=pred)
    assert strict["merge_gap_px"] == 0 and pred.merge_gap_px == 8  # the caller's predictor is not changed
    table = compare_models([res.best_checkpoint, res.last_checkpoint], tmp_path / "data", torch_only)
    assert [name for name, _ in table] == ["iunet (run/best.pt)", "iunet (run/last.pt)"]
    with pytest.raises(IunetError, match="no labelled images|not found"):
        evaluate_model(res.best_checkpoint, make_toy(tmp_path / "x", n=1).parent / "nothing_here")


def test_mixup_batches_train_with_soft_targets(tmp_path, monkeypatch):
    import iunet_gui.training.augment as aug

    seen = []
    real = aug.mixup

    def spy(x, y, rng, alpha=0.4, w=None):  # w: the region weights, mixed alike (on by default)
        out = real(x, y, rng, alpha, w=w)
        seen.append((float(out[1].min()), float(out[1].max()), out[2]))
        return out

    monkeypatch.setattr(aug, "mixup", spy)
    res = train(tiny(tmp_path, epochs=1, mixup=1.0, crops_per_epoch=8))
    assert res.status == "done" and len(seen) == 4
    assert all(0.0 <= lo <= hi <= 1.0 for lo, hi, _ in seen)
    assert np.isfinite(res.history[0]["train_loss"])


def _cli_config(argv):
    import argparse

    from iunet_gui.cli import train as cli_train

    parser = argparse.ArgumentParser()
    cli_train.add_arguments(parser)
    return cli_train.config_from_args(parser.parse_args(argv))


def test_cli_defaults_are_the_trainer_defaults():
    from iunet_gui.cli import train as cli_train

    cfg = _cli_config(["--data", "x"])
    assert cfg == TrainConfig(data="x") and cfg.lr is None  # lr: resolved when the run starts
    assert cli_train.parse_overrides(["base=16", "separable=nested", "deep_supervision=false"]) == {
        "base": 16, "separable": "nested", "deep_supervision": False}
    with pytest.raises(IunetError, match="KEY=VALUE"):
        cli_train.parse_overrides(["base"])


def test_tiles_recipe_gives_the_benchmark_settings_and_options_given_win():
    from iunet_gui.training.recipes import RECIPES, recipe_config

    cfg = _cli_config(["--data", "x", "--recipe", "tiles"])
    # what benchmarks/bench_training.py measured on the magnetic tiles (docs/benchmarks.md)
    assert (cfg.model_overrides, cfg.scale, cfg.crop, cfg.prior, cfg.region_weight) == ({"depth": 4, "base": 16}, 0.35,
                                                                                      128, 0.01, 0.0)
    assert (cfg.weight_decay, cfg.area_sampling, cfg.lr, cfg.epochs, cfg.crops_per_epoch) == (0.05, 4, 5e-4, 36, 640)
    assert cfg.tune_threshold is True and cfg.max_val_images == 20 and cfg.preset == "default"
    assert cfg.polarity == 0.0  # measured without the polarity flip
    assert cfg == recipe_config("tiles", data="x")
    cfg = _cli_config(["--data", "x", "--recipe", "tiles", "--crop", "256", "--epochs", "5", "--set",
                       "tune_threshold=false", "--set", "region-weight=0.5", "--model-config", "base=8", "--lr", "1e-3"])
    assert (cfg.crop, cfg.epochs, cfg.tune_threshold, cfg.region_weight, cfg.lr) == (256, 5, False, 0.5, 1e-3)
    assert cfg.model_overrides == {"depth": 4, "base": 8} and cfg.scale == 0.35  # merged; the rest stays the recipe's
    assert recipe_config("tiles", data="x", init="a.pt").lr == pytest.approx(5e-5)  # fine-tuning: a tenth
    assert recipe_config("washers", data="x") == TrainConfig(data="x")
    assert RECIPES["washers"] == {}
    with pytest.raises(IunetError, match="unknown recipe"):
        recipe_config("bricks", data="x")


def test_options_not_given_never_override_a_recipe(monkeypatch):
    """A recipe that sets every setting the command line has an option for keeps each of them
    when no option is given, and loses each to the option given."""
    from dataclasses import fields

    from iunet_gui.cli import train as cli_train
    from iunet_gui.training import recipes

    every = {"val": "v", "out": "o", "model": "unet", "preset": "fast", "epochs": 7, "time_limit_min": 3.5,
             "batch_size": 5, "lr": 0.25, "crop": 96, "scale": 0.75, "init": "i.pt", "seed": 9, "device": "cpu",
             "threads": 3, "resume": True, "model_overrides": {"base": 6}, "zoom": 0.3, "fine_loss": 2,
             "mixup": 0.0, "ema": 0.5, "in_channels": 1, "precision": "bf16", "rotate": "off"}
    shown = {name for name, *_ in cli_train._OPTIONS.values()} | {"val", "resume", "model_overrides"}
    assert shown <= set(every)  # every option the command line shows is set by the recipe
    monkeypatch.setitem(recipes.RECIPES, "every", every)
    cfg = _cli_config(["--data", "x", "--recipe", "every"])
    assert {k: getattr(cfg, k) for k in every} == {**every, "lr": 0.025}  # with init: a tenth of the recipe's rate
    assert {f.name for f in fields(cfg)} >= set(every)
    cfg = _cli_config(["--data", "x", "--recipe", "every", "--batch-size", "2", "--device", "auto", "--set",
                       "ema=0.9", "--set", "zoom=0"])
    assert (cfg.batch_size, cfg.device, cfg.ema, cfg.zoom, cfg.crop) == (2, "auto", 0.9, 0.0, 96)


def test_set_types_a_value_by_its_setting():
    from iunet_gui.training.config import parse_setting

    cfg = _cli_config(["--data", "x", "--set", "prior=0.02", "--set", "crops-per-epoch=12", "--set", "tune_threshold=yes",
                       "--set", "rotate=off", "--set", 'model_overrides={"base": 16}', "--set", "max_val_images=3",
                       "--set", "threads=none"])
    assert (cfg.prior, cfg.crops_per_epoch, cfg.tune_threshold, cfg.rotate) == (0.02, 12, True, "off")
    assert cfg.model_overrides == {"base": 16} and cfg.max_val_images == 3 and cfg.threads is None
    assert isinstance(cfg.crops_per_epoch, int) and isinstance(cfg.prior, float)
    assert _cli_config(["--data", "x", "--recipe", "tiles", "--set", "prior=none"]).prior is None  # given: it wins
    with pytest.raises(IunetError, match="crop=big: expected a whole number"):
        parse_setting("crop", "big")
    with pytest.raises(IunetError, match="expected true or false"):
        parse_setting("tune_threshold", "maybe")
    with pytest.raises(IunetError, match="expected a number$"):
        parse_setting("scale", "none")  # not an optional setting
    with pytest.raises(IunetError, match="did you mean fine_loss"):
        parse_setting("fine_los", "2")
    with pytest.raises(IunetError, match="given twice"):
        _cli_config(["--data", "x", "--crop", "64", "--set", "crop=32"])
    with pytest.raises(IunetError, match="KEY=VALUE"):
        _cli_config(["--data", "x", "--set", "crop"])


def test_train_help_shows_a_short_list_of_options():
    import argparse

    from iunet_gui.cli import train as cli_train

    parser = argparse.ArgumentParser()
    cli_train.add_arguments(parser)
    flags = [a.option_strings for a in parser._actions if a.option_strings]
    assert len(flags) <= 21  # --help, the common options and --gate
    shown = {f for names in flags for f in names}
    assert {"--zoom", "--fine-loss", "--mixup", "--ema"}.isdisjoint(shown)  # behind --set only
    assert {"--data", "--recipe", "--set", "--time-limit", "--resume", "--init", "--gate"} <= shown


def test_out_of_memory_ends_cleanly_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    import iunet_gui.training.losses as losses

    calls = {"n": 0}
    real = losses.segmentation_loss

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] > 12:  # epoch 1 (4 steps x <= 3 heads) passes, then the allocator gives up
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")
        return real(*a, **k)

    monkeypatch.setattr(losses, "segmentation_loss", flaky)
    res = train(tiny(tmp_path, epochs=3, crops_per_epoch=8, batch_size=2))
    assert res.status == "oom" and "--crop" in res.message
    assert res.epochs_done == 1 and load_checkpoint(res.last_checkpoint).trainer_state["epoch"] == 1


def test_cancel_while_loading_the_data(tmp_path):
    from iunet_gui.core.progress import CancelToken

    token = CancelToken()

    def progress(ev):
        if ev.stage == "load" and ev.step == 2:
            token.cancel()

    res = train(tiny(tmp_path, epochs=5), progress=progress, cancel=token)
    assert res.status == "stopped" and "loading" in res.message and res.last_checkpoint is None


def test_checkpoints_hold_the_weight_average_and_resume_from_the_raw_weights(tmp_path):
    import torch

    res = train(tiny(tmp_path, epochs=2, ema=0.9))
    ck = load_checkpoint(res.last_checkpoint)
    raw = ck.trainer_state["raw_state"]
    avg = ck.model.state_dict()
    assert raw.keys() == avg.keys()
    differs = [k for k in raw if raw[k].is_floating_point() and not torch.allclose(raw[k], avg[k])]
    assert differs  # the saved network is the average, not the last step
    again = train(tiny(tmp_path, epochs=3, ema=0.9, resume=True))
    assert again.status == "done" and [h["epoch"] for h in again.history] == [1, 2, 3]
    off = train(tiny(tmp_path, out=str(tmp_path / "off"), epochs=1, ema=0.0))
    assert "raw_state" not in load_checkpoint(off.last_checkpoint).trainer_state


def _bn_layers(model):
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def test_saved_weights_carry_batch_norm_statistics_recomputed_for_them(tmp_path):
    import torch

    res = train(tiny(tmp_path, epochs=2, bn_batches=5, ema=0.9))  # 4 steps an epoch
    ck = load_checkpoint(res.last_checkpoint)
    bns = _bn_layers(ck.model)
    assert bns and all(int(m.num_batches_tracked) == 5 for m in bns)  # a fresh average over 5 batches
    raw = ck.trainer_state["raw_state"]  # the live network's running averages of the last steps
    saved = ck.model.state_dict()
    means = [k for k in saved if k.endswith("running_mean")]
    assert int(raw[means[0].replace("running_mean", "num_batches_tracked")]) == 8
    assert any(not torch.allclose(saved[k], raw[k]) for k in means)
    # the same crops every time: a second run from the same seed saves the same statistics
    again = load_checkpoint(train(tiny(tmp_path, out=str(tmp_path / "again"), epochs=2, bn_batches=5,
                                       ema=0.9)).last_checkpoint).model.state_dict()
    assert all(torch.equal(saved[k], again[k]) for k in means)
    off = train(tiny(tmp_path, out=str(tmp_path / "off"), epochs=2, bn_batches=0, ema=0.9))
    assert all(int(m.num_batches_tracked) == 8 for m in _bn_layers(load_checkpoint(off.last_checkpoint).model))


def test_a_stop_while_batch_norm_is_refreshed_keeps_the_running_statistics_and_saves(tmp_path):
    import torch

    from iunet_gui.core.progress import CancelToken

    cancel = CancelToken()
    events = []

    def progress(ev):
        events.append(ev)
        if ev.stage == "batch_norm":
            cancel.cancel()

    res = train(tiny(tmp_path, epochs=3, bn_batches=50), progress=progress, cancel=cancel)
    assert res.status == "stopped" and res.last_checkpoint is not None and res.epochs_done == 1
    bns = _bn_layers(load_checkpoint(res.last_checkpoint).model)
    assert all(int(m.num_batches_tracked) == 4 for m in bns)  # the running averages of epoch 1's 4 steps
    assert all(torch.isfinite(m.running_var).all() and (m.running_var > 0).all() for m in bns)
    assert events[-1].stage == "stopped" and events[-1].message == res.message == "training stopped"


def test_a_stop_during_validation_is_a_result_not_an_error(tmp_path):
    """Stop while an epoch validates: the run returns "stopped" (no exception, no internal name in
    the message) and last.pt holds the epoch's weights, which load."""
    from iunet_gui.core.progress import CancelToken

    cancel = CancelToken()

    def progress(ev):
        if ev.stage == "validate" and ev.epoch == 2:
            cancel.cancel()

    res = train(tiny(tmp_path, epochs=5), progress=progress, cancel=cancel)
    assert res.status == "stopped" and res.message == "training stopped" and res.epochs_done == 2
    assert load_checkpoint(res.last_checkpoint).trainer_state["epoch"] == 2
    assert [h["epoch"] for h in res.history] == [1]  # epoch 2 was not validated to the end


def test_freeze_bn_trains_the_last_share_on_fixed_statistics(tmp_path):
    notices = []
    res = train(tiny(tmp_path, epochs=2, bn_batches=5, ema=0.9, freeze_bn=0.5),  # 8 steps: frozen from step 4
                progress=lambda ev: notices.append(ev.message) if ev.stage == "notice" else None)
    assert res.status == "done" and any("frozen at step 4" in (m or "") for m in notices)
    raw = load_checkpoint(res.last_checkpoint).trainer_state["raw_state"]
    tracked = {int(v) for k, v in raw.items() if k.endswith("num_batches_tracked")}
    assert tracked == {5}  # recomputed over 5 batches at step 4, then left alone by the last 4 steps
    free = train(tiny(tmp_path, out=str(tmp_path / "free"), epochs=2, bn_batches=5, ema=0.9))
    raw = load_checkpoint(free.last_checkpoint).trainer_state["raw_state"]
    assert {int(v) for k, v in raw.items() if k.endswith("num_batches_tracked")} == {8}


def test_input_scale_trains_on_resized_images_and_predicts_at_full_size(tmp_path, monkeypatch):
    from iunet_gui.inference.predictor import Predictor
    from iunet_gui.training import data as data_mod

    seen = []
    real_init = data_mod.CropSampler.__init__

    def spy(self, items, *a, **kw):
        seen.append([it.image.shape[:2] for it in items])
        real_init(self, items, *a, **kw)

    monkeypatch.setattr(data_mod.CropSampler, "__init__", spy)
    res = train(tiny(tmp_path, scale=0.5, epochs=1))
    assert res.status == "done"
    assert seen and all(shape == (32, 32) for shape in seen[0])  # the 64 px toy images at half size
    ck = load_checkpoint(res.best_checkpoint)
    assert ck.meta["input_scale"] == 0.5
    p = Predictor.from_path(res.best_checkpoint, backend="torch", crop_to_part=False)
    assert p.scale == 0.5
    run_shapes = []
    inner = p._run
    p._run = lambda x: (run_shapes.append(x.shape[-2:]), inner(x))[1]
    image = np.full((64, 80, 3), 90, np.uint8)
    pred = p.predict(image)
    assert run_shapes == [(32, 40)] * 4  # the network ran at half size (the image and its three flips) ...
    assert pred.prob.shape == pred.mask.shape == (64, 80)  # ... the result is at the image's size
    from iunet_gui.inference.onnx_export import export_onnx

    onnx = Predictor.from_path(export_onnx(res.best_checkpoint, tmp_path / "m.onnx"), crop_to_part=False)
    assert onnx.scale == 0.5  # an exported file carries its input scale
    assert np.abs(onnx.predict(image).prob - pred.prob).max() < 1e-3


def test_resume_at_another_input_scale_is_refused(tmp_path):
    train(tiny(tmp_path, scale=0.5, epochs=1))
    with pytest.raises(IunetError, match="input scale 0.5"):
        train(tiny(tmp_path, epochs=2, resume=True))
    assert train(tiny(tmp_path, scale=0.5, epochs=2, resume=True)).epochs_done == 2


@pytest.mark.parametrize("precision, dtype", [("bf16", "torch.bfloat16"), ("auto", "torch.float32")])
def test_bf16_precision_runs_the_network_in_bfloat16_and_keeps_float32_weights(tmp_path, monkeypatch, precision, dtype):
    from iunet_gui.models import registry

    seen = set()
    real_build = registry.build_preset

    def build(*a, **kw):
        model, cfg = real_build(*a, **kw)
        model.register_forward_hook(lambda m, i, o: seen.add(str((o[0] if isinstance(o, (list, tuple)) else o).dtype)))
        return model, cfg

    monkeypatch.setattr(registry, "build_preset", build)
    res = train(tiny(tmp_path, epochs=1, precision=precision, bn_batches=0))
    assert res.status == "done" and np.isfinite(res.history[-1]["train_loss"])
    assert dtype in seen  # the training steps' outputs (validation always runs in float32)
    ck = load_checkpoint(res.best_checkpoint)
    assert all(str(v.dtype) == "torch.float32" for v in ck.model.state_dict().values() if v.is_floating_point())


def test_the_time_limit_includes_the_final_validation_and_names_it(tmp_path):
    """Validating three 384 px images with the flip mean takes seconds on one thread: training
    stops early for it (its length estimated from one image's timed logits and announced with the
    stage), and the run says what it waits for. How close a run ends to its limit is a benchmark's
    figure (bench_training.py prints the minutes trained), not asserted here. The prior keeps the
    predictions empty, so the scoring costs nothing beside the network."""
    val = make_toy(tmp_path / "val", n=3, size=384, seed=1)
    events = []
    limit_s = 10.0
    res = train(tiny(tmp_path, val=str(val), epochs=1000, time_limit_min=limit_s / 60, val_every=1000,
                     tune_threshold=True, max_val_images=3, prior=0.01, lr=1e-6), progress=events.append)
    assert res.status == "time_limit" and any(e.stage == "train" for e in events)
    final = [e for e in events if e.stage == "validate"]
    assert [e.message for e in final] == ["final validation"] and final[0].eta_s > 0.5
    stages = [e.stage for e in events]
    assert stages.index("batch_norm") < stages.index("validate") < len(stages) - 1
    assert res.history[-1]["partial"] is True and res.best_checkpoint.exists()


def test_ctrl_c_stops_the_train_command_and_keeps_the_checkpoint(tmp_path):
    """SIGINT to `iunet-gui train` after its first epoch's checkpoint: it stops at the next step,
    says so, exits with 130, and last.pt loads."""
    import os
    import signal
    import subprocess
    import sys
    import time

    data = make_toy(tmp_path / "data")
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "iunet_gui", "train", "--data", str(data), "--out", str(run),
                             "--epochs", "10000", "--crop", "32", "--set", "crops_per_epoch=8", "--threads", "1",
                             "--scale", "1", "--model-config", "base=4", "depth=3", "--set", "max_val_images=2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        t0 = time.monotonic()
        while not (run / "last.pt").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - t0 < 120, "no checkpoint within 2 minutes"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # a hang guard: 10,000 epochs would take hours
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert "stopping at the next step" in err and "Traceback" not in err
    assert "stopped: training stopped" in out
    ck = load_checkpoint(run / "last.pt")
    assert ck.trainer_state["epoch"] >= 1 and ck.arch == "iunet"
