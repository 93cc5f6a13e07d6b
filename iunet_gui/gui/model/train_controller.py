"""The training controller: one run at a time on the folder's labelled images, in a worker thread.
A run that ends with a model (finished, time limit, or stopped after an epoch) hands it to the model
controller; stopping is not an error."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from iunet_gui.core.progress import ProgressEvent
from iunet_gui.core.project import new_run_folder
from iunet_gui.gui.jobs import Job
from iunet_gui.training.result import DONE, STOPPED, TIME_LIMIT

DEFAULT_MINUTES = 15


@dataclass
class RecipeChoice:
    """A training recipe as the panel offers it (read from the recipe's file)."""

    key: str
    label: str
    minutes: int  # the time offered
    fresh: bool  # trains a network of its own size: it cannot fine-tune the current model
    tip: str


def recipe_choices() -> list[RecipeChoice]:
    from iunet_gui.training import recipes

    out = []
    for key, settings in recipes.RECIPES.items():
        info = recipes.recipe_info(key)
        tip = info.get("description", "")
        out.append(RecipeChoice(key, info.get("label") or key.capitalize(), int(info.get("minutes", DEFAULT_MINUTES)),
                                bool(settings.get("model_overrides")), tip[:1].upper() + tip[1:]))
    return out


@dataclass
class Outcome:
    """How a run ended, for the panel: `kind` is "trained", "stopped" (a model kept), "unchanged" (stopped
    before an epoch ended), "refused" (by the gate on the golden set, app.gate) or "failed"; `text` says it."""

    kind: str
    text: str
    result: object = None


def best_epoch(result) -> int:
    """The epoch whose weights best.pt holds (the one whose validation MIoU it kept)."""
    for row in result.history:
        if result.best_val_miou is not None and row.get("val_miou") == result.best_val_miou:
            return int(row["epoch"])
    return result.epochs_done


def outcome_of(result) -> Outcome:
    best = Path(result.best_checkpoint) if result.best_checkpoint is not None else None
    val = "" if result.best_val_miou is None else f", validation MIoU {result.best_val_miou:.3f}"
    if result.status == STOPPED and (best is None or result.epochs_done < 1):
        return Outcome("unchanged", f"Training stopped before the first epoch ended: the model in use is unchanged "
                                    f"({result.run_dir} keeps what was saved).", result)
    if best is not None and result.status == STOPPED:
        return Outcome("stopped", f"Training stopped; kept {best.name} (epoch {best_epoch(result)}{val}). "
                                  f"Now using {best.parent.name}/{best.name}.", result)
    if best is not None and result.status in (DONE, TIME_LIMIT):
        return Outcome("trained", f"Trained: {result.message}{val}. Now using {best.parent.name}/{best.name}.",
                       result)
    return Outcome("failed", f"Training ended ({result.status}): {result.message}", result)


def can_start_from(ck, cfg) -> bool:
    """Whether run `cfg` can start from checkpoint `ck`'s weights: a binary checkpoint starts any run
    (a multi-class one with its defect output split into the kinds, training.network); a multi-class
    one only a multi-class run of the project's kinds in its order (image + mask pairs name theirs
    while loading: any multi-class checkpoint, the trainer checks the kinds)."""
    from iunet_gui.training.data import project_kinds

    if not ck.multiclass:
        return True
    if not cfg.multiclass:
        return False
    kinds = project_kinds(cfg.data)
    return not kinds or list(ck.classes) == kinds


def fresh_notice(ck, cfg) -> str:
    """What the status bar says when the model in use cannot be fine-tuned into this run's outputs."""
    named = "defect vs background" if not ck.multiclass else "the kinds " + ", ".join(ck.classes)
    wanted = "each kind of the project" if cfg.multiclass else "defect vs background"
    return (f"{Path(cfg.init).name} learnt {named}, this run {wanted}: a fresh network is trained instead of "
            f"fine-tuning it")


class TrainingController(QObject):
    """Trains on the window's project; `models` (a ModelController) gets the model a run ends with."""

    started = Signal(str)  # what it does first
    progressed = Signal(object)  # the trainer's ProgressEvents
    finished = Signal(object)  # an Outcome

    def __init__(self, window, models):
        super().__init__(window)
        self.win, self.models = window, models
        self.job: Job | None = None
        self.last_run: Path | None = None

    @property
    def running(self) -> bool:
        return self.job is not None

    def adjust_config(self, cfg):
        """Hook for tests (tiny runs) and callers that set more than the panel shows."""
        return cfg

    def start(self, recipe: str, minutes: float, finetune: bool, multiclass: bool = False) -> bool:
        """Save the open image, then train on every labelled image of the folder: one output per defect
        kind of the project with `multiclass`, else defect vs background."""
        win = self.win
        if self.job is not None:
            return False
        if win.project is None:
            win.error("Nothing to train on", "Open a folder of labelled images first.")
            return False
        if not win.save():
            return False
        from iunet_gui.training.recipes import recipe_config

        folder = Path(win.project.folder)
        out = new_run_folder(folder)
        ckpt = self.models.checkpoint
        init = str(ckpt) if finetune and ckpt is not None and ckpt.suffix == ".pt" else None
        cfg = self.adjust_config(recipe_config(recipe, data=str(folder), out=str(out),
                                               time_limit_min=float(minutes), init=init,
                                               multiclass=multiclass))
        registry = getattr(win, "models_part", None)
        if registry is not None:  # the golden set is left out of training
            cfg = registry.training_config(cfg)
        fresh_lr = recipe_config(recipe, data=cfg.data).lr  # a fresh run's rate: the recipe's own (a tenth of it with init)

        def work(progress, cancel):
            import gc
            from dataclasses import replace

            from iunet_gui.training.trainer import train

            run_cfg = cfg
            if cfg.init:  # fine-tune at the input scale the model learned at (the panel has no scale setting)
                from iunet_gui.models.checkpoint import load_checkpoint

                ck = load_checkpoint(cfg.init)
                if can_start_from(ck, cfg):
                    run_cfg = replace(cfg, scale=float(ck.meta.get("input_scale") or cfg.scale))
                else:  # its outputs are not this run's: a fresh network learns them
                    run_cfg = replace(cfg, init=None, lr=fresh_lr)
                    progress(ProgressEvent("notice", message=fresh_notice(ck, cfg)))
            try:
                return train(run_cfg, progress=progress, cancel=cancel)
            finally:  # the run's network, optimizer and data are freed here, not by a collection in the GUI thread
                gc.collect()

        self.job = job = Job(work, self)
        job.progressed.connect(self.progressed)
        job.succeeded.connect(self._trained)
        job.stopped.connect(self._stopped)
        job.failed.connect(self._failed)
        job.finished.connect(self._job_done)
        self.last_run = out
        self.started.emit("Loading the labelled images…" + (f" (starting from {ckpt.name})" if init else ""))
        job.start()
        return True

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _trained(self, result) -> None:
        outcome = outcome_of(result)
        registry = getattr(self.win, "models_part", None)
        if outcome.kind in ("trained", "stopped") and registry is not None:  # the gate decides (app.gate)
            registry.admit_later(result, lambda use: self._admitted(outcome, use))
        else:
            self._admitted(outcome, outcome.kind in ("trained", "stopped"))

    def _admitted(self, outcome: Outcome, use: bool) -> None:
        result = outcome.result
        if outcome.kind in ("trained", "stopped"):
            if use:
                self.models.set_checkpoint(Path(result.best_checkpoint))
            else:
                outcome = Outcome("refused", outcome.text.split(" Now using")[0] + " The gate refused it: the model "
                                  "in use is unchanged (see the Models panel).", result)
        self.finished.emit(outcome)
        if outcome.kind in ("trained", "stopped") and self.win.document is not None and not self.models.closing:
            self.models.predict_current()

    def _stopped(self, _partial) -> None:
        self.finished.emit(Outcome("unchanged", f"Training stopped: the model in use is unchanged ({self.last_run} "
                                                f"keeps what was saved)."))

    def _failed(self, message: str) -> None:
        self.finished.emit(Outcome("failed", f"Training did not run: {message}", message))

    def _job_done(self) -> None:
        self.job = None
