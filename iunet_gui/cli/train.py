"""iunet-gui train: train a segmentation network on a labelled project or image+mask folder.

The options shown are the common ones; `--set KEY=VALUE` sets any TrainConfig field. A named
recipe gives the starting settings; only the options given override it. Ctrl+C stops the run at
the next step and keeps the last good checkpoint, as the window's Stop does."""
from __future__ import annotations

import argparse
import sys

EXIT_STOPPED = 130  # stopped by Ctrl+C (128 + SIGINT), the checkpoints kept

# flag -> (TrainConfig field, type, metavar, help); {d} in a help text is the field's default
_OPTIONS = {
    "--out": ("out", str, "DIR", "run folder: config.json, metrics.csv, best.pt, last.pt (default {d})"),
    "--model": ("model", str, "NAME", "network: iunet, unet, fcn8s, segnet (default {d})"),
    "--preset": ("preset", str, "NAME", "preset of the network (see 'iunet-gui models'; default {d})"),
    "--epochs": ("epochs", int, "N", "epochs (default {d})"),
    "--time-limit": ("time_limit_min", float, "MIN",
                     "stop cleanly after MIN minutes, the final validation included"),
    "--batch-size": ("batch_size", int, "N", "batch size (default {d})"),
    "--lr": ("lr", float, "F", "learning rate (default 2e-3, a tenth of it with --init)"),
    "--crop": ("crop", int, "PX", "training crop size at the input scale (default {d})"),
    "--scale": ("scale", float, "F", "input scale: the network sees every image resized by F (default {d:g}; "
                                     "1 for images of a few hundred px); predictions come back at full size"),
    "--init": ("init", str, "CKPT", "start a new run from this checkpoint's weights (fine-tuning): its "
                                    "architecture, a fresh optimizer and schedule, this run's data and settings"),
    "--seed": ("seed", int, "N", "seed: a CPU run is reproducible (default {d})"),
    "--device": ("device", str, "DEV", "auto (CUDA > MPS > CPU), cpu, cuda, cuda:1, mps (default {d})"),
    "--threads": ("threads", int, "N", "CPU threads for torch"),
}


def _defaults() -> dict:
    """TrainConfig's defaults (one source of truth for the CLI, the GUI and the API)."""
    from dataclasses import MISSING, fields

    from iunet_gui.training.config import TrainConfig

    return {f.name: f.default for f in fields(TrainConfig) if f.default is not MISSING}


def _recipe_help() -> str:
    import json

    from iunet_gui.training.recipes import RECIPES, recipe_info

    parts = []
    for name, settings in RECIPES.items():
        given = " ".join(f"{k}={json.dumps(v)}" for k, v in settings.items())
        parts.append(f"{name}: {recipe_info(name).get('label', name)}" + (f" ({given})" if given else ""))
    return "; ".join(parts)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from iunet_gui.training.config import setting_names
    from iunet_gui.training.recipes import RECIPES

    d = _defaults()
    S = argparse.SUPPRESS  # an option not given stays out of the namespace: it never overrides the recipe
    p.add_argument("--data", required=True, help="labelled folder: images + labelme JSON, or image + mask pairs")
    p.add_argument("--val", default=S, help="separate validation folder (default: a deterministic split of "
                   f"--data, at most {d['max_val_images']} images)")
    p.add_argument("--recipe", default="washers", choices=list(RECIPES),
                   help="named settings measured together (default washers). " + _recipe_help().replace("%", "%%")
                   + ". Options given win over the recipe's")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="any training setting, repeatable, e.g. --set ema=0.98 --set tune_threshold=true; settings: "
                        + ", ".join(setting_names()))
    p.add_argument("--model-config", nargs="+", default=S, metavar="KEY=VALUE",
                   help="override preset options, e.g. --model-config base=16 separable=nested")
    for flag, (name, kind, metavar, text) in _OPTIONS.items():
        p.add_argument(flag, dest=name, type=kind, default=S, metavar=metavar,
                       help=text.format(d=d.get(name)).replace("%", "%%"))
    p.add_argument("--resume", action="store_true", default=S, help="continue the run in --out from its last.pt")
    p.add_argument("--gate", action="store_true", default=False,
                   help="score the new model and the model in use on the project's golden set (left out of "
                        "training unless --set include_golden=true); the new one is put in use only if it does not "
                        "regress (exit 4 when refused)")


def parse_overrides(pairs) -> dict:
    """["base=16", "separable=nested"] -> {"base": 16, "separable": "nested"} (values read as JSON where they are)."""
    import json

    from iunet_gui.core.errors import IunetError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise IunetError(f"--model-config expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def given_settings(args) -> dict:
    """The TrainConfig settings the command line gives (options and --set), by field name."""
    from iunet_gui.core.errors import IunetError
    from iunet_gui.training.config import parse_setting

    given = {name: getattr(args, name) for name, *_ in _OPTIONS.values() if hasattr(args, name)}
    given["data"] = args.data
    for name in ("val", "resume"):
        if hasattr(args, name):
            given[name] = getattr(args, name)
    if hasattr(args, "model_config"):
        given["model_overrides"] = parse_overrides(args.model_config)
    for pair in getattr(args, "settings", []):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise IunetError(f"--set expects KEY=VALUE, got {pair!r}")
        name, parsed = parse_setting(key, value)
        if name in given:
            raise IunetError(f"{name} is given twice (an option and --set, or --set twice): give it once")
        given[name] = parsed
    return given


def config_from_args(args):
    """The TrainConfig of parsed `train` arguments: the recipe's settings, the options given winning."""
    from dataclasses import replace

    from iunet_gui.training.recipes import recipe_config

    given = given_settings(args)
    cfg = recipe_config(args.recipe, **given)  # recipe_config reads None as "not given" ...
    return replace(cfg, **{k: v for k, v in given.items() if v is None})  # ... here it is given: none


def _progress():
    from iunet_gui.cli._common import ProgressLine

    line = ProgressLine("train")

    def progress(ev):
        if ev.stage == "notice" and ev.message:  # the run's end is told by run() from its result
            print(f"notice: {ev.message}", flush=True)
        elif ev.stage == "epoch":
            vals = "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in ev.metrics.items())
            print(f"epoch {ev.epoch}/{ev.epochs}  loss {ev.loss:.4f}  {vals}", flush=True)
        elif ev.stage == "validate" and ev.message == "final validation":
            about = f" (about {ev.eta_s:.0f} s)" if ev.eta_s else ""
            print(f"final validation{about}", flush=True)
        elif ev.stage == "train":
            line(ev)

    return progress


def _stop_on_ctrl_c(token):
    """Ctrl+C sets `token` (the run stops at its next step and keeps its checkpoints); a second
    Ctrl+C quits at once. Returns the handler to put back (None off the main thread)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def on_sigint(_signum, _frame):
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        print("\nstopping at the next step; the last good checkpoint is kept (Ctrl+C again quits at once)",
              file=sys.stderr, flush=True)

    return signal.signal(signal.SIGINT, on_sigint)


def run(args) -> int:
    import os
    import signal

    from iunet_gui.core.errors import IunetError
    from iunet_gui.core.progress import CancelToken
    from iunet_gui.training.result import DONE, STOPPED, TIME_LIMIT
    from iunet_gui.training.trainer import train

    cfg = config_from_args(args)
    cfg = _leave_out_golden(cfg, cfg.include_golden)
    if getattr(args, "gate", False):
        _check_golden(cfg.data)
    token = CancelToken()
    previous = _stop_on_ctrl_c(token)
    try:
        result = train(cfg, progress=_progress(), cancel=token)
    except ValueError as exc:  # unknown model / preset / loss
        raise IunetError(str(exc)) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    code = 0 if result.status in (DONE, TIME_LIMIT) else EXIT_STOPPED if result.status == STOPPED else 1
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports
        return code
    miou = "-" if result.best_val_miou is None else f"{result.best_val_miou:.4f}"
    print(f"{result.status}: {result.message}; validation MIoU of best.pt {miou}; best checkpoint "
          f"{result.best_checkpoint}; last checkpoint {result.last_checkpoint}", flush=True)
    if code == 0 and getattr(args, "gate", False):
        return _gate(cfg, result)
    if code == 0:
        _register(cfg, result)
    return code


def _register(cfg, result) -> None:
    """A project with a database (a model registry) gets the new model registered, not put in use."""
    from pathlib import Path

    from iunet_gui.app.records import LOG_FILE
    from iunet_gui.app.registry import ModelRegistry

    if result.best_checkpoint is None or not (Path(cfg.data) / LOG_FILE).is_file():
        return
    with ModelRegistry(cfg.data) as registry:
        entry = registry.register_training(result, data=cfg.data)
    print(f"registered as model {entry.id} of {cfg.data} (not in use: 'iunet-gui models --project {cfg.data} "
          f"--use {entry.id}', or train with --gate)", flush=True)


def _leave_out_golden(cfg, include_golden: bool):
    """The config with the data folder's golden set left out (unless `include_golden`), the notice printed."""
    from dataclasses import replace
    from pathlib import Path

    from iunet_gui.app.records import LOG_FILE

    if not (Path(cfg.data) / LOG_FILE).is_file():  # no project database: no golden set
        return cfg
    from iunet_gui.app.golden import training_exclusions
    from iunet_gui.app.registry import ModelRegistry

    with ModelRegistry(cfg.data) as registry:
        names, notice = training_exclusions(registry, include_golden)
    if notice:
        print(f"notice: {notice}", flush=True)
    return replace(cfg, exclude=sorted(set(cfg.exclude) | set(names))) if names else cfg


def _check_golden(data) -> None:
    """--gate needs a golden set in the data folder's project (checked before training)."""
    import contextlib
    from pathlib import Path

    from iunet_gui.app.golden import GoldenSets
    from iunet_gui.app.records import LOG_FILE
    from iunet_gui.app.registry import ModelRegistry
    from iunet_gui.core.errors import IunetError

    known = (Path(data) / LOG_FILE).is_file()
    with contextlib.nullcontext() if not known else ModelRegistry(data) as registry:
        if not known or not GoldenSets(registry).images():
            raise IunetError(f"--gate: {data} has no golden set to score on; add images with "
                             f"'iunet-gui models --project {data} --add-golden IMAGE ...'")


def _gate(cfg, result) -> int:
    """Register the new model in the data folder's project, gate it against the model in use."""
    from iunet_gui.app.gate import EXIT_REFUSED, run_gate
    from iunet_gui.app.registry import ModelRegistry

    with ModelRegistry(cfg.data) as registry:
        entry = registry.register_training(result, data=cfg.data)
        outcome = run_gate(registry, entry.id)
        if outcome.notice:
            print(f"notice: {outcome.notice}", flush=True)
        ch, cp = outcome.challenger, outcome.champion
        line = f"gate: new model {entry.id} MIoU {100 * ch['miou']:.2f} % on {ch['images']} golden image(s)"
        if cp is not None:
            line += f", model in use {outcome.champion_id} {100 * cp['miou']:.2f} %"
        print(line, flush=True)
        if outcome.accepted:
            print(f"gate: accepted; model {entry.id} ({entry.name}) is now the model in use", flush=True)
            return 0
        for reason in outcome.verdict.reasons:
            print(f"gate: refused: {reason}", flush=True)
        print(f"gate: the model in use stays {outcome.champion_id}; the new model is registered as {entry.id}",
              flush=True)
        return EXIT_REFUSED
