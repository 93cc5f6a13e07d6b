"""The trainer's parts on their own: the learning-rate schedule, the weight average, the run clock,
recipe files and the final-time estimate."""
import json

import pytest

from iunet_gui.core.errors import IunetError


def test_the_schedule_warms_up_then_decays_by_cosine_to_a_hundredth():
    from iunet_gui.training.schedule import lr_factor

    assert [lr_factor("cosine", 4, 0.0, s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_factor("cosine", 4, 0.5, 10) == pytest.approx(0.01 + 0.99 * 0.5)
    assert lr_factor("cosine", 4, 1.0, 10) == pytest.approx(0.01)
    assert lr_factor("constant", 4, 0.7, 1) == 0.5 and lr_factor("constant", 4, 0.7, 9) == 1.0


def test_lambda_lr_follows_the_global_step_of_a_resumed_run():
    import torch

    from iunet_gui.training.schedule import RunClock, lr_factor, lr_scheduler

    w = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.Adam([w], lr=123.0)  # a resumed optimizer's last rate: replaced by the base rate
    clock = RunClock(step0=5, steps_total=10)
    sched = lr_scheduler(opt, 0.1, "cosine", 8, clock)
    seen = []
    for _ in range(10):
        seen.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    expected = [0.1 * lr_factor("cosine", 8, k / 10, 5 + k) for k in range(10)]
    assert seen == pytest.approx(expected, rel=1e-12)


def test_the_run_clock_counts_time_against_the_training_deadline():
    import time

    from iunet_gui.training.schedule import RunClock

    clock = RunClock(step0=0, steps_total=1000, deadline=time.perf_counter() + 0.2)
    assert clock.fraction(500) == pytest.approx(0.5, abs=0.05)
    time.sleep(0.25)
    assert clock.fraction(1) == 1.0  # past the deadline: the schedule is at its end


def test_the_weight_average_keeps_the_decay_of_each_step():
    import torch

    from iunet_gui.training.averaging import WeightAverage, ema_decay

    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    avg = WeightAverage(net, 0.9)
    expected = [p.detach().clone() for p in net.parameters()]
    for step in range(6):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(1.0 + step)
            net[1].running_mean.add_(0.5)
        avg.update(net, step)
        d = ema_decay(0.9, step)
        expected = [d * e + (1 - d) * p.detach() for e, p in zip(expected, net.parameters())]
    for e, a in zip(expected, avg.module.parameters()):
        assert torch.allclose(e, a, atol=1e-6)
    assert ema_decay(0.9, 0) == pytest.approx(0.1) and ema_decay(0.9, 1000) == 0.9
    assert torch.equal(avg.module[1].running_mean, net[1].running_mean)  # buffers are copied
    assert not any(p.requires_grad for p in avg.module.parameters()) and not avg.module.training


def test_recipes_are_package_files_and_name_only_settings():
    from importlib import resources

    from iunet_gui.training import recipes

    files = {p.name for p in (resources.files("iunet_gui.training") / "recipes").iterdir()}
    assert {"washers.json", "tiles.json"} <= files
    tiles = json.loads((resources.files("iunet_gui.training") / "recipes" / "tiles.json").read_text())
    assert recipes.RECIPES["tiles"] == tiles["settings"]
    assert recipes.recipe_info("tiles")["minutes"] == 60 and "settings" not in recipes.recipe_info("tiles")
    with pytest.raises(IunetError, match="did you mean crop"):
        recipes.recipe_config("washers", data="x", crops=3)


def test_the_final_time_is_the_measured_one_else_an_estimate():
    from iunet_gui.training.config import TrainConfig
    from iunet_gui.training.validation import estimate_final_seconds

    cfg = TrainConfig(data="x", bn_batches=60)
    assert estimate_final_seconds(cfg, 12, 0.5, 0.2, measured=3.0) == 3.0
    assert estimate_final_seconds(cfg, 12, 0.5, 0.2, measured=None) == pytest.approx(12 * 0.5 + 0.6 * 60 * 0.2 + 0.5)


@pytest.mark.parametrize("bad, match", [(dict(val_every=0), "val_every"), (dict(time_limit_min=0.0), "time limit"),
                                        (dict(init="a.pt", resume=True), "use one of them"),
                                        (dict(fine_loss=4, scale=0.3), "fine_loss"), (dict(rotate="x"), "rotate"),
                                        (dict(threshold_rule="f1"), "threshold_rule"),
                                        (dict(max_false_alarms=-1), "max_false_alarms")])
def test_config_checks_name_the_setting(bad, match):
    from iunet_gui.training.config import TrainConfig, check_config

    with pytest.raises(IunetError, match=match):
        check_config(TrainConfig(data="x", **bad))
    check_config(TrainConfig(data="x"))  # the defaults pass


def test_the_recall_rule_keeps_the_threshold_that_finds_most_within_the_false_alarm_limit():
    from iunet_gui.training.validation import pick_threshold

    miou = [0.80, 0.85, 0.90, 0.88]  # thresholds low to high
    recall = [0.95, 0.90, 0.80, 0.60]
    alarms = [1.20, 0.10, 0.05, 0.00]
    assert pick_threshold(miou, recall, alarms, "miou") == 2
    assert pick_threshold(miou, recall, alarms, "recall", 0.1) == 1  # 0.90 found at 0.10 alarms an image
    assert pick_threshold(miou, recall, alarms, "recall", 0.0) == 3
    assert pick_threshold(miou, recall, [2, 1, 0.5, 0.5], "recall", 0.1) == 2  # none clean: fewest, then recall
    assert pick_threshold([0.7, 0.9], [0.9, 0.9], [0, 0], "recall") == 1  # equal recall: the better MIoU


def test_validation_reports_defects_found_and_false_alarms(tmp_path):
    import numpy as np

    from iunet_gui.training.validation import defect_counts

    mask = np.zeros((40, 40), np.uint8)
    mask[5:9, 5:30] = 1  # a scratch, found
    mask[30:34, 30:34] = 1  # a pit, missed
    pred = np.zeros((40, 40), bool)
    pred[6:8, 10:20] = True
    pred[20:23, 2:5] = True  # a false alarm
    assert defect_counts(pred, mask) == (2, 1, 1)


def test_metrics_of_a_run_begun_with_fewer_columns_stay_under_their_names(tmp_path):
    import csv

    from iunet_gui.training.state import append_metrics

    path = tmp_path / "metrics.csv"
    path.write_text("epoch,train_loss,val_miou\n1,0.5,0.7\n")
    append_metrics(path, {"epoch": 2, "train_loss": 0.4, "val_miou": 0.8, "val_recall": 0.9})
    rows = list(csv.DictReader(path.open()))
    assert rows[-1] == {"epoch": "2", "train_loss": "0.4", "val_miou": "0.8"}
    fresh = tmp_path / "new.csv"
    append_metrics(fresh, {"epoch": 1, "val_recall": 0.9})
    assert next(csv.DictReader(fresh.open()))["val_recall"] == "0.9"
