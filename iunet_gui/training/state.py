"""A run's state in its folder: what a checkpoint's trainer_state holds (so `resume` continues the
run), the checks that a resumed run is the same run, metrics.csv and config.json."""
from __future__ import annotations

import csv
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from iunet_gui.core.errors import IunetError

METRICS_COLUMNS = ["epoch", "train_loss", "val_miou", "val_iou_defect", "val_dice", "val_accuracy",
                   "val_length_error_mean", "val_threshold", "lr", "seconds", "partial", "val_recall",
                   "val_false_alarms"]


@dataclass
class RunState:
    epoch: int = 0  # epochs finished
    global_step: int = 0
    best_val_miou: float | None = None  # of the weights in best.pt
    top_val_miou: float | None = None  # the highest validation MIoU seen
    history: list = field(default_factory=list)  # one row per epoch (and a partial one at a time limit)
    threshold: float = 0.5  # stored in the checkpoints: the validation's when tuned

    def trainer_state(self, rng_seed: int, raw_state: dict | None) -> dict:
        state = {"epoch": self.epoch, "best_val_miou": self.best_val_miou, "top_val_miou": self.top_val_miou,
                 "history": self.history, "rng": rng_seed, "global_step": self.global_step,
                 "threshold": self.threshold}
        if raw_state is not None:  # the checkpoint holds the averaged weights; resume needs the raw ones
            state["raw_state"] = raw_state
        return state


@dataclass
class Resumed:
    """What `resume` continues from last.pt."""

    model: object  # the raw (trained) weights
    model_cfg: dict
    averaged: dict | None  # the weight average's state, when the run kept one
    optimizer_state: dict | None
    state: RunState
    rng_seed: int | None


def load_resume(last_path: Path, cfg) -> Resumed:
    """The run in last.pt, refused when it differs from `cfg` in what resuming cannot change."""
    import copy

    from iunet_gui.models.checkpoint import load_checkpoint

    if not last_path.exists():
        raise IunetError(f"{last_path.parent}: nothing to resume (no last.pt)")
    ck = load_checkpoint(last_path)
    if ck.arch != cfg.model:
        raise IunetError(f"{last_path}: holds a {ck.arch}, not a {cfg.model}")
    trained_scale = float(ck.meta.get("input_scale", 1.0))
    if trained_scale != cfg.scale:
        raise IunetError(f"{last_path}: was trained at input scale {trained_scale:g}, "
                         f"not {cfg.scale:g}: resume with --scale {trained_scale:g}")
    trained_wd = float((ck.meta.get("train_config") or {}).get("weight_decay", 0.0))
    if trained_wd != cfg.weight_decay:  # Adam and AdamW keep their moments in different parameter groups
        raise IunetError(f"{last_path}: was trained with weight decay {trained_wd:g}, "
                         f"not {cfg.weight_decay:g}: resume with --set weight_decay={trained_wd:g}")
    ts = ck.trainer_state or {}
    model, averaged = ck.model, None
    if ts.get("raw_state") is not None:  # the checkpoint's weights are the average; training resumes the raw ones
        averaged = ck.model.state_dict()
        model = copy.deepcopy(ck.model)
        model.load_state_dict(ts["raw_state"])
    best = ts.get("best_val_miou")
    threshold = ts.get("threshold")
    state = RunState(epoch=int(ts.get("epoch", 0)), global_step=int(ts.get("global_step", 0)), best_val_miou=best,
                     top_val_miou=ts.get("top_val_miou", best), history=list(ts.get("history", [])),
                     threshold=float(threshold) if threshold is not None else cfg.threshold)
    return Resumed(model, ck.config, averaged, ck.optimizer_state, state,
                   int(ts["rng"]) if ts.get("rng") else None)


def save_run_checkpoint(path: Path, *, saved_model, raw_model, cfg, model_cfg: dict, meta: dict, opt,
                        state: RunState, rng_seed: int, classes=("defect",), colors=None) -> None:
    """best.pt / last.pt: the weights that are used (`saved_model`: the average when kept), the
    optimizer, and the state `resume` needs (the raw weights too when they differ); `classes` and
    `colors`: the kinds a multi-class network names and their colours."""
    from iunet_gui.models.checkpoint import save_checkpoint

    raw = None
    if raw_model is not saved_model:
        raw = {k: v.detach().cpu() for k, v in raw_model.state_dict().items()}
    save_checkpoint(path, saved_model, arch=cfg.model, config=model_cfg, classes=list(classes), colors=colors,
                    meta={**meta, "threshold": state.threshold}, optimizer_state=opt.state_dict(),
                    trainer_state=state.trainer_state(rng_seed, raw))


def write_config_json(run_dir: Path, cfg, model_cfg: dict, summary: dict) -> None:
    from iunet_gui.core.atomic import atomic_write_json

    atomic_write_json(run_dir / "config.json", {"train": asdict(cfg), "model": {"arch": cfg.model, **model_cfg},
                                                "data": {k: v for k, v in summary.items() if "names" not in k}})


def append_metrics(path: Path, row: dict) -> None:
    """One row of metrics.csv, flushed to disk; a file begun with other columns (a resumed run of an
    older version) keeps its own header, so its rows stay under their names."""
    new = not path.exists()
    columns = METRICS_COLUMNS
    if not new:
        with open(path, newline="") as fh:
            columns = next(csv.reader(fh), None) or METRICS_COLUMNS
    with open(path, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow(row)
        fh.flush()
        os.fsync(fh.fileno())
